//! The TTL-after-finished controller: deletes a finished Job (Complete or Failed) once
//! `spec.ttlSecondsAfterFinished` seconds have passed since it finished, with background
//! propagation (the garbage collector then removes its pods), as upstream's controller does.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use jiff::Timestamp;
use k8s_openapi::api::batch::v1::Job;
use kube::api::{Api, DeleteParams, Preconditions};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::ResourceExt;

use crate::{Error, Result};

struct Ctx {
    client: kube::Client,
}

/// Runs the controller until the stream ends.
pub async fn run(client: kube::Client) {
    let jobs: Api<Job> = Api::all(client.clone());
    Controller::new(jobs, watcher::Config::default())
        .run(reconcile, |_j, _e: &Error, _c| Action::requeue(Duration::from_secs(1)), Arc::new(Ctx { client }))
        .for_each(|r| async move {
            if let Err(e) = r {
                tracing::debug!(error = %e, "ttl-after-finished reconcile");
            }
        })
        .await;
}

/// When the Job should be deleted: its finish time plus its TTL; `None` when it has no TTL or
/// has not finished.
pub fn expires_at(job: &Job) -> Option<Timestamp> {
    let ttl = job.spec.as_ref()?.ttl_seconds_after_finished?;
    let (_, finished) = crate::job::job_finished(job)?;
    let finished = job
        .status
        .as_ref()
        .and_then(|s| s.completion_time.as_ref())
        .map(|t| t.0)
        .filter(|_| job.status.as_ref().and_then(|s| s.conditions.as_ref()).is_some_and(|c| c.iter().any(|c| c.type_ == "Complete" && c.status == "True")))
        .unwrap_or(finished);
    finished.checked_add(jiff::SignedDuration::from_secs(i64::from(ttl))).ok()
}

/// How long until `expire` at `now` (zero when due).
pub fn time_left(expire: Timestamp, now: Timestamp) -> Duration {
    let d = expire.duration_since(now);
    if d.is_negative() { Duration::ZERO } else { d.unsigned_abs() }
}

async fn reconcile(job: Arc<Job>, ctx: Arc<Ctx>) -> Result<Action> {
    if job.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let Some(expire) = expires_at(&job) else { return Ok(Action::await_change()) };
    let left = time_left(expire, Timestamp::now());
    if !left.is_zero() {
        return Ok(Action::requeue(left));
    }
    let ns = job.namespace().unwrap_or_default();
    let api: Api<Job> = Api::namespaced(ctx.client.clone(), &ns);
    // re-read: the TTL may have been changed since the cache saw the Job
    let Some(fresh) = api.get_opt(&job.name_any()).await? else { return Ok(Action::await_change()) };
    let Some(expire) = expires_at(&fresh) else { return Ok(Action::await_change()) };
    let left = time_left(expire, Timestamp::now());
    if !left.is_zero() {
        return Ok(Action::requeue(left));
    }
    let mut dp = DeleteParams::background();
    dp.preconditions = Some(Preconditions { uid: fresh.uid(), resource_version: fresh.resource_version() });
    match api.delete(&fresh.name_any(), &dp).await {
        Ok(_) => tracing::info!(job = %fresh.name_any(), namespace = %ns, "deleted a finished job after its TTL"),
        Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => {}
        Err(e) => return Err(e.into()),
    }
    Ok(Action::await_change())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(ttl: Option<i32>, cond: Option<(&str, &str)>) -> Job {
        let mut v = serde_json::json!({"metadata": {"name": "j"}, "spec": {"template": {}}});
        if let Some(t) = ttl {
            v["spec"]["ttlSecondsAfterFinished"] = t.into();
        }
        if let Some((t, at)) = cond {
            v["status"] = serde_json::json!({"conditions": [{"type": t, "status": "True", "lastTransitionTime": at}]});
            if t == "Complete" {
                v["status"]["completionTime"] = at.into();
            }
        }
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn expiry_is_finish_plus_ttl() {
        let at = "2026-01-01T00:00:00Z";
        let t0: Timestamp = at.parse().unwrap();
        assert_eq!(expires_at(&job(Some(30), Some(("Complete", at)))), Some(t0 + jiff::SignedDuration::from_secs(30)));
        assert_eq!(expires_at(&job(Some(0), Some(("Failed", at)))), Some(t0));
        assert_eq!(expires_at(&job(None, Some(("Complete", at)))), None);
        assert_eq!(expires_at(&job(Some(5), None)), None);
        assert_eq!(time_left(t0, t0 + jiff::SignedDuration::from_secs(3)), Duration::ZERO);
        assert_eq!(time_left(t0 + jiff::SignedDuration::from_secs(3), t0), Duration::from_secs(3));
    }
}
