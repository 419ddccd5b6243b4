//! `batch/v1`: jobs and cronjobs.

use apimachinery::ResourceInfo;
use k8s_openapi::api::batch::v1 as api;

use super::{Registry, Resource, Strategy, parts};

parts!(spec, status: api::Job, api::CronJob);

/// jobs
pub struct Jobs;
impl Strategy for Jobs {
    type K = api::Job;
    fn prepare_for_create(&self, o: &mut api::Job) {
        o.status = None;
        crate::validation::prepare_job_for_create(o);
    }
    fn validate(&self, o: &api::Job) -> apimachinery::ErrorList {
        crate::validation::job(o)
    }
    fn validate_update(&self, new: &api::Job, old: &api::Job) -> apimachinery::ErrorList {
        crate::validation::job_update(new, old)
    }
    fn validate_status_update(&self, new: &api::Job, old: &api::Job) -> apimachinery::ErrorList {
        crate::validation::job_status_update(new, old)
    }
    fn defaults(&self, o: &mut api::Job) {
        crate::defaults::batch::job(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::batch::job_columns()
    }
    fn cells(&self, o: &api::Job, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::batch::job_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        ResourceInfo::new("batch", "v1", "Job", "jobs", true).categories(&["all"])
    }
    fn tracks_generation(&self) -> bool {
        true
    }
    fn field_labels(&self) -> &'static [&'static str] {
        &["status.successful"]
    }
    fn field_values(&self, j: &api::Job) -> Vec<String> {
        vec![j.status.as_ref().and_then(|s| s.succeeded).unwrap_or(0).to_string()]
    }
}

/// cronjobs
pub struct CronJobs;
impl Strategy for CronJobs {
    type K = api::CronJob;
    fn validate(&self, o: &api::CronJob) -> apimachinery::ErrorList {
        crate::validation::cron_job(o)
    }
    fn validate_update(&self, new: &api::CronJob, old: &api::CronJob) -> apimachinery::ErrorList {
        crate::validation::cron_job_update(new, old)
    }
    fn validate_status_update(&self, new: &api::CronJob, old: &api::CronJob) -> apimachinery::ErrorList {
        crate::validation::cron_job_status_update(new, old)
    }
    fn defaults(&self, o: &mut api::CronJob) {
        crate::defaults::batch::cron_job(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::batch::cron_job_columns()
    }
    fn cells(&self, o: &api::CronJob, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::batch::cron_job_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        ResourceInfo::new("batch", "v1", "CronJob", "cronjobs", true).short(&["cj"]).categories(&["all"])
    }
    fn tracks_generation(&self) -> bool {
        true
    }
}

/// Registers batch/v1.
pub fn register(r: &mut Registry) {
    r.add(Resource::new(Jobs));
    r.add(Resource::new(CronJobs));
}
