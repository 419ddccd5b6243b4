//! Ownership bookkeeping of one write (structured-merge-diff's `merge.Updater`), for objects of a
//! single API version.

use std::collections::BTreeMap;

use serde_json::Value;

use super::fieldpath::{FieldSet, value_eq};
use super::managed::Versioned;
use super::typed::{self, Comparison, Ty};

pub(crate) type ManagedFields = BTreeMap<String, Versioned>;

/// Fields another manager owns that a write changes, by manager identifier.
pub(crate) type ConflictSets = Vec<(String, FieldSet)>;

/// Takes the fields `old`→`new` changed away from every manager but `workflow`, and the fields it
/// removed from all of them; with `force` false, reports conflicts instead.
fn update_managers(
    old: &Value,
    new: &Value,
    managers: &mut ManagedFields,
    workflow: &str,
    force: bool,
    ty: Ty<'_>,
    reset: &FieldSet,
) -> Result<Comparison, ConflictSets> {
    let cmp = typed::compare(old, new, ty).filter(reset);
    let changed = cmp.modified.union(&cmp.added);
    let mut conflicts: ConflictSets = Vec::new();
    for (m, vs) in managers.iter() {
        if m == workflow {
            continue;
        }
        let c = vs.set.intersection(&changed);
        if !c.is_empty() {
            conflicts.push((m.clone(), c));
        }
    }
    if !force && !conflicts.is_empty() {
        return Err(conflicts);
    }
    for (m, c) in &conflicts {
        if let Some(vs) = managers.get_mut(m) {
            vs.set = vs.set.difference(c);
        }
    }
    if !cmp.removed.is_empty() {
        for (m, vs) in managers.iter_mut() {
            if m != workflow {
                vs.set = vs.set.difference(&cmp.removed);
            }
        }
    }
    managers.retain(|_, vs| !vs.set.is_empty());
    Ok(cmp)
}

/// Records an Update-operation write by `manager`: it gains what changed, others lose it.
pub(crate) fn update(
    live: &Value,
    new: &Value,
    version: &str,
    managers: &mut ManagedFields,
    manager: &str,
    ty: Ty<'_>,
    reset: &FieldSet,
) {
    let cmp = match update_managers(live, new, managers, manager, true, ty, reset) {
        Ok(c) => c,
        Err(_) => unreachable!("forced updates do not conflict"),
    };
    let prev = managers.get(manager).map(|v| v.set.clone()).unwrap_or_default();
    let set = prev.difference(&cmp.removed).union(&cmp.modified).union(&cmp.added).recursive_difference(reset);
    if set.is_empty() {
        managers.remove(manager);
    } else {
        managers.insert(manager.to_string(), Versioned { set, api_version: version.to_string(), applied: false });
    }
}

/// The outcome of an apply.
pub(crate) struct Applied {
    pub object: Value,
    /// The object is unchanged by the apply.
    pub noop: bool,
}

/// Merges `config` into `live` for `manager`, prunes what it stopped applying and records
/// ownership; conflicts unless `force`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn apply(
    live: &Value,
    config: &Value,
    version: &str,
    managers: &mut ManagedFields,
    manager: &str,
    force: bool,
    ty: Ty<'_>,
    reset: &FieldSet,
) -> Result<Applied, ConflictSets> {
    let merged = typed::merge(live, config, ty).unwrap_or_else(|_| live.clone());
    let last = managers.get(manager).cloned();
    let set = typed::to_field_set(config, ty).recursive_difference(reset);
    managers.insert(manager.to_string(), Versioned { set, api_version: version.to_string(), applied: true });
    let new = prune(&merged, managers, last.as_ref(), ty);
    update_managers(live, &new, managers, manager, force, ty, reset)?;
    let noop = value_eq(live, &new);
    Ok(Applied { object: new, noop })
}

fn named(s: &FieldSet, ty: Ty<'_>) -> FieldSet {
    typed::ensure_named_fields(s, Some(ty))
}

/// Removes fields the applier owned last time and no longer applies, unless someone else
/// (or its new configuration) owns them.
fn prune(merged: &Value, managers: &ManagedFields, last: Option<&Versioned>, ty: Ty<'_>) -> Value {
    let Some(last) = last.filter(|l| !l.set.is_empty()) else { return merged.clone() };
    let pruned = typed::remove_from_root(merged, &named(&last.set, ty), ty);

    // add back what anybody owns
    let managed = managers.values().fold(FieldSet::new(), |acc, v| acc.union(&v.set));
    let merged_set = named(&typed::to_field_set(merged, ty), ty);
    let pruned_set = named(&typed::to_field_set(&pruned, ty), ty);
    let keep = pruned_set.union(&named(&managed, ty));
    let pruned = typed::remove_from_root(merged, &merged_set.difference(&keep), ty);

    // and what the applier did not own (dangling items)
    let pruned_set = named(&typed::to_field_set(&pruned, ty), ty);
    let last_set = named(&last.set, ty);
    typed::remove_from_root(merged, &merged_set.difference(&pruned_set).intersection(&last_set), ty)
}
