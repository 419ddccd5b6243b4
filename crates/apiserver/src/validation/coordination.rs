//! coordination.k8s.io/v1 Leases.

use apimachinery::field::{ErrorList, Path};
use apimachinery::validation as v;
use k8s_openapi::api::coordination::v1 as coord;

use super::common::*;

const LEASE_STRATEGIES: &[&str] = &["OldestEmulationVersion"];

fn lease_strategy(strategy: &str, path: &Path) -> Errs {
    if !strategy.contains('/') {
        if LEASE_STRATEGIES.contains(&strategy) { Vec::new() } else { vec![not_supported(path, strategy, LEASE_STRATEGIES)] }
    } else {
        v::is_qualified_name(strategy).into_iter().map(|m| invalid(path, strategy, m)).collect()
    }
}

fn lease_spec(spec: &coord::LeaseSpec, path: &Path) -> Errs {
    let mut e = Vec::new();
    if let Some(d) = spec.lease_duration_seconds
        && d <= 0
    {
        e.push(invalid(&path.child("leaseDurationSeconds"), d, "must be greater than 0"));
    }
    if let Some(t) = spec.lease_transitions
        && t < 0
    {
        e.push(invalid(&path.child("leaseTransitions"), t, "must be greater than or equal to 0"));
    }
    if let Some(s) = &spec.strategy {
        e.extend(lease_strategy(s, &path.child("strategy")));
    }
    if !ostr(&spec.preferred_holder).is_empty() && ostr(&spec.strategy).is_empty() {
        e.push(forbidden(&path.child("preferredHolder"), "may only be specified if `strategy` is defined"));
    }
    e
}

/// Lease create: duration > 0, transitions ≥ 0, strategy (known or qualified name),
/// preferredHolder only with a strategy. (Upstream 1.32 drops `strategy`/`preferredHolder`
/// before validating while its CoordinatedLeaderElection gate is off; a server emulating
/// that should clear them first.)
pub fn lease(l: &coord::Lease) -> ErrorList {
    done(l.spec.as_ref().map(|s| lease_spec(s, &p("spec"))).unwrap_or_default())
}

/// Lease update: the create rules (a Lease has no immutable spec fields).
pub fn lease_update(new: &coord::Lease, _old: &coord::Lease) -> ErrorList {
    lease(new)
}
