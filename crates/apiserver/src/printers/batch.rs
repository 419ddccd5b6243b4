//! Printers for the `batch` group.

use apimachinery::table::{Column, human_duration};
use k8s_openapi::api::batch::v1::{CronJob, Job, JobCondition};
use serde_json::Value;

use super::docs::*;
use super::{
    CONTAINERS_DESC, IMAGES_DESC, NONE, age, bool_ptr, col, format_label_selector, icol, int,
    layout_containers, name, s, seconds_between, since,
};

/// Job columns: NAME, STATUS, COMPLETIONS, DURATION, AGE, and wide CONTAINERS, IMAGES, SELECTOR.
pub fn job_columns() -> Vec<Column> {
    vec![
        Column::name(),
        col("Status", "Status of the job."),
        col("Completions", JOB_STATUS_SUCCEEDED),
        col("Duration", "Time required to complete the job."),
        Column::age(),
        col("Containers", CONTAINERS_DESC).wide(),
        col("Images", IMAGES_DESC).wide(),
        col("Selector", JOB_SPEC_SELECTOR).wide(),
    ]
}

/// Whether the first condition of the given type is `True`.
fn has_condition(conditions: &[JobCondition], type_: &str) -> bool {
    conditions
        .iter()
        .find(|c| c.type_ == type_)
        .is_some_and(|c| c.status == "True")
}

/// Job cells: STATUS is Complete, Failed, Terminating, Suspended, FailureTarget or Running (in
/// that precedence); COMPLETIONS is `succeeded/completions`, or `succeeded/1` (with
/// ` of <parallelism>` above 1) without completions; DURATION runs from the start to the
/// completion time or to now, empty before the job starts.
pub fn job_cells(obj: &Job, now: jiff::Timestamp) -> Vec<Value> {
    let spec = obj.spec.as_ref();
    let status = obj.status.as_ref();
    let succeeded = status.and_then(|s| s.succeeded).unwrap_or(0);
    let completions = match spec.and_then(|s| s.completions) {
        Some(c) => format!("{succeeded}/{c}"),
        None => {
            let parallelism = spec.and_then(|s| s.parallelism).unwrap_or(0);
            if parallelism > 1 {
                format!("{succeeded}/1 of {parallelism}")
            } else {
                format!("{succeeded}/1")
            }
        }
    };
    let start = status.and_then(|s| s.start_time.as_ref()).map(|t| t.0);
    let completion = status.and_then(|s| s.completion_time.as_ref()).map(|t| t.0);
    let duration = match (start, completion) {
        (None, _) => String::new(),
        (Some(st), None) => human_duration(seconds_between(st, now)),
        (Some(st), Some(done)) => human_duration(seconds_between(st, done)),
    };
    let conditions = status.and_then(|s| s.conditions.as_deref()).unwrap_or(&[]);
    let job_status = if has_condition(conditions, "Complete") {
        "Complete"
    } else if has_condition(conditions, "Failed") {
        "Failed"
    } else if obj.metadata.deletion_timestamp.is_some() {
        "Terminating"
    } else if has_condition(conditions, "Suspended") {
        "Suspended"
    } else if has_condition(conditions, "FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    };
    let containers = spec
        .and_then(|s| s.template.spec.as_ref())
        .map(|p| p.containers.as_slice())
        .unwrap_or(&[]);
    let (names, images) = layout_containers(containers);
    vec![
        s(name(&obj.metadata)),
        s(job_status),
        s(completions),
        s(duration),
        age(&obj.metadata, now),
        s(names),
        s(images),
        s(format_label_selector(
            spec.and_then(|s| s.selector.as_ref()),
        )),
    ]
}

/// CronJob columns: NAME, SCHEDULE, TIMEZONE, SUSPEND, ACTIVE, LAST SCHEDULE, AGE, and wide
/// CONTAINERS, IMAGES, SELECTOR.
pub fn cron_job_columns() -> Vec<Column> {
    vec![
        Column::name(),
        col("Schedule", CRONJOB_SPEC_SCHEDULE),
        col("Timezone", CRONJOB_SPEC_TIME_ZONE),
        Column {
            name: "Suspend",
            type_: "boolean",
            format: "",
            description: CRONJOB_SPEC_SUSPEND,
            priority: 0,
        },
        icol("Active", CRONJOB_STATUS_ACTIVE),
        col("Last Schedule", CRONJOB_STATUS_LAST_SCHEDULE),
        Column::age(),
        col("Containers", CONTAINERS_DESC).wide(),
        col("Images", IMAGES_DESC).wide(),
        col("Selector", JOB_SPEC_SELECTOR).wide(),
    ]
}

/// CronJob cells; SUSPEND is the string `True`/`False`/`<unset>` (upstream's cell is a string
/// although the column says boolean).
pub fn cron_job_cells(obj: &CronJob, now: jiff::Timestamp) -> Vec<Value> {
    let spec = obj.spec.as_ref();
    let status = obj.status.as_ref();
    let last_schedule = match status.and_then(|s| s.last_schedule_time.as_ref()) {
        Some(t) => since(Some(t.0), now),
        None => NONE.into(),
    };
    let job_spec = spec.and_then(|s| s.job_template.spec.as_ref());
    let containers = job_spec
        .and_then(|j| j.template.spec.as_ref())
        .map(|p| p.containers.as_slice())
        .unwrap_or(&[]);
    let (names, images) = layout_containers(containers);
    vec![
        s(name(&obj.metadata)),
        s(spec.map(|s| s.schedule.clone()).unwrap_or_default()),
        s(spec
            .and_then(|s| s.time_zone.clone())
            .unwrap_or_else(|| NONE.into())),
        s(bool_ptr(spec.and_then(|s| s.suspend))),
        int(status.and_then(|s| s.active.as_ref()).map_or(0, Vec::len) as i64),
        s(last_schedule),
        age(&obj.metadata, now),
        s(names),
        s(images),
        s(format_label_selector(
            job_spec.and_then(|j| j.selector.as_ref()),
        )),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printers::testutil::{ago, cells, meta, now};
    use k8s_openapi::api::batch::v1::*;
    use k8s_openapi::api::core::v1::{Container, ObjectReference, PodSpec, PodTemplateSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
    use serde_json::json;

    fn pod_template() -> PodTemplateSpec {
        PodTemplateSpec {
            metadata: None,
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "pi".into(),
                    image: Some("perl:5.34".into()),
                    ..Default::default()
                }],
                ..Default::default()
            }),
        }
    }

    fn cond(type_: &str, status: &str) -> JobCondition {
        JobCondition {
            type_: type_.into(),
            status: status.into(),
            ..Default::default()
        }
    }

    fn job() -> Job {
        Job {
            metadata: meta("pi", 600),
            spec: Some(JobSpec {
                completions: Some(3),
                parallelism: Some(1),
                selector: Some(LabelSelector {
                    match_labels: Some(
                        [(
                            "batch.kubernetes.io/controller-uid".to_string(),
                            "abc".to_string(),
                        )]
                        .into(),
                    ),
                    ..Default::default()
                }),
                template: pod_template(),
                ..Default::default()
            }),
            status: Some(JobStatus {
                succeeded: Some(3),
                start_time: Some(ago(590)),
                completion_time: Some(ago(590 - 47)),
                conditions: Some(vec![
                    cond("SuccessCriteriaMet", "True"),
                    cond("Complete", "True"),
                ]),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn completed_job() {
        assert_eq!(
            cells(job_cells(&job(), now())),
            json!([
                "pi",
                "Complete",
                "3/3",
                "47s",
                "10m",
                "pi",
                "perl:5.34",
                "batch.kubernetes.io/controller-uid=abc"
            ])
        );
        let names: Vec<_> = job_columns().iter().map(|c| c.name).collect();
        assert_eq!(
            names,
            [
                "Name",
                "Status",
                "Completions",
                "Duration",
                "Age",
                "Containers",
                "Images",
                "Selector"
            ]
        );
    }

    #[test]
    fn running_suspended_failed_jobs() {
        let mut j = job();
        let spec = j.spec.as_mut().unwrap();
        spec.completions = None;
        spec.parallelism = Some(4);
        let st = j.status.as_mut().unwrap();
        st.succeeded = Some(1);
        st.completion_time = None;
        st.start_time = Some(ago(200));
        st.conditions = None;
        let c = job_cells(&j, now());
        assert_eq!(c[1], json!("Running"));
        assert_eq!(c[2], json!("1/1 of 4"));
        assert_eq!(c[3], json!("3m20s"));

        j.spec.as_mut().unwrap().parallelism = Some(1);
        assert_eq!(job_cells(&j, now())[2], json!("1/1"));

        j.status.as_mut().unwrap().conditions = Some(vec![cond("Suspended", "True")]);
        assert_eq!(job_cells(&j, now())[1], json!("Suspended"));
        j.metadata.deletion_timestamp = Some(ago(1));
        assert_eq!(job_cells(&j, now())[1], json!("Terminating"));
        j.status.as_mut().unwrap().conditions =
            Some(vec![cond("FailureTarget", "True"), cond("Failed", "True")]);
        assert_eq!(job_cells(&j, now())[1], json!("Failed"));
        j.metadata.deletion_timestamp = None;
        j.status.as_mut().unwrap().conditions = Some(vec![
            cond("FailureTarget", "True"),
            cond("Complete", "False"),
        ]);
        assert_eq!(job_cells(&j, now())[1], json!("FailureTarget"));

        let fresh = Job {
            metadata: meta("new", 1),
            spec: None,
            status: None,
        };
        assert_eq!(
            cells(job_cells(&fresh, now())),
            json!(["new", "Running", "0/1", "", "1s", "", "", "<none>"])
        );
    }

    #[test]
    fn cron_job() {
        let cj = CronJob {
            metadata: meta("backup", 86400 * 3),
            spec: Some(CronJobSpec {
                schedule: "*/5 * * * *".into(),
                suspend: Some(false),
                job_template: JobTemplateSpec {
                    metadata: None,
                    spec: Some(JobSpec {
                        template: pod_template(),
                        ..Default::default()
                    }),
                },
                ..Default::default()
            }),
            status: Some(CronJobStatus {
                active: Some(vec![ObjectReference::default()]),
                last_schedule_time: Some(ago(125)),
                ..Default::default()
            }),
        };
        assert_eq!(
            cells(cron_job_cells(&cj, now())),
            json!([
                "backup",
                "*/5 * * * *",
                "<none>",
                "False",
                1,
                "2m5s",
                "3d",
                "pi",
                "perl:5.34",
                "<none>"
            ])
        );
        let mut cj2 = cj.clone();
        let spec = cj2.spec.as_mut().unwrap();
        spec.suspend = None;
        spec.time_zone = Some("Etc/UTC".into());
        cj2.status = None;
        let c = cron_job_cells(&cj2, now());
        assert_eq!(c[2], json!("Etc/UTC"));
        assert_eq!(c[3], json!("<unset>"));
        assert_eq!(c[4], json!(0));
        assert_eq!(c[5], json!("<none>"));
        assert_eq!(cron_job_columns()[3].type_, "boolean");
    }
}
