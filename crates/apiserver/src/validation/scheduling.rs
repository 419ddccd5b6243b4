//! scheduling.k8s.io/v1 PriorityClasses.

use apimachinery::field::ErrorList;
use k8s_openapi::api::scheduling::v1 as sched;

use super::common::*;

/// Largest value a user-defined PriorityClass may have.
pub const HIGHEST_USER_DEFINABLE_PRIORITY: i32 = 1_000_000_000;

const SYSTEM_PRIORITY_CLASSES: &[(&str, i32)] = &[("system-cluster-critical", 2_000_000_000), ("system-node-critical", 2_000_001_000)];

fn known_system_class(name: &str, value: i32, global_default: bool) -> Result<(), String> {
    match SYSTEM_PRIORITY_CLASSES.iter().find(|(n, _)| *n == name) {
        Some((n, want)) => {
            if *want != value {
                Err(format!("value of {n} PriorityClass must be {want}"))
            } else if global_default {
                Err(format!("globalDefault of {n} PriorityClass must be false"))
            } else {
                Ok(())
            }
        }
        None => Err(format!("{name} is not a known system priority class")),
    }
}

/// PriorityClass create: names with the `system-` prefix must be one of the built-in system
/// classes with its exact value (error at `metadata.name`, as upstream); other classes may
/// not exceed 1000000000; preemptionPolicy values.
pub fn priority_class(pc: &sched::PriorityClass) -> ErrorList {
    let mut e = Vec::new();
    let name = pc.metadata.name.as_deref().unwrap_or("");
    if name.starts_with("system-") {
        if let Err(err) = known_system_class(name, pc.value, b(pc.global_default)) {
            e.push(forbidden(
                &p("metadata").child("name"),
                format!("priority class names with 'system-' prefix are reserved for system use only. error: {err}"),
            ));
        }
    } else if pc.value > HIGHEST_USER_DEFINABLE_PRIORITY {
        e.push(forbidden(&p("value"), format!("maximum allowed value of a user defined priority is {HIGHEST_USER_DEFINABLE_PRIORITY}")));
    }
    if let Some(pp) = &pc.preemption_policy {
        match pp.as_str() {
            "PreemptLowerPriority" | "Never" => {}
            "" => e.push(required(&p("preemptionPolicy"), "")),
            other => e.push(not_supported(&p("preemptionPolicy"), other, &["PreemptLowerPriority", "Never"])),
        }
    }
    done(e)
}

/// PriorityClass update: as upstream, only the immutability rules (value "may not be changed
/// in an update.", preemptionPolicy immutable); the create rules are not re-run.
pub fn priority_class_update(new: &sched::PriorityClass, old: &sched::PriorityClass) -> ErrorList {
    let mut e = Vec::new();
    if new.value != old.value {
        e.push(forbidden(&p("value"), "may not be changed in an update."));
    }
    e.extend(immutable(&new.preemption_policy, &old.preemption_policy, &p("preemptionPolicy")));
    done(e)
}
