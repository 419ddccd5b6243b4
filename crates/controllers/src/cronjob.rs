//! The cronjob controller: creates a Job from a CronJob's `jobTemplate` at each time its
//! schedule names (standard five-field cron, `@hourly` and friends, in `spec.timeZone` or the
//! controller's local zone), honouring `startingDeadlineSeconds`, `concurrencyPolicy`
//! (Allow / Forbid / Replace), `suspend` and the history limits. Jobs are named
//! `<cronjob>-<scheduled time in minutes since the epoch>` and annotated with
//! `batch.kubernetes.io/cronjob-scheduled-timestamp`; `status.active`, `lastScheduleTime` and
//! `lastSuccessfulTime` follow the Jobs.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan, Zoned};
use k8s_openapi::api::batch::v1::{CronJob, CronJobStatus, Job};
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::{EventType, Recorder, Reporter};
use kube::runtime::watcher;
use kube::ResourceExt;

use crate::job::{controlled_by, controller_ref, job_finished, object_ref, publish};
use crate::{Error, Result};

/// The annotation with a Job's scheduled time (RFC 3339, in the CronJob's zone).
pub const SCHEDULED_TIMESTAMP: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";
const CONTROLLER_NAME: &str = "cronjob-controller";

// ---------------------------------------------------------------------------------------------
// schedules

/// A parsed cron schedule: the allowed values of each field as bit sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    minute: u64,
    hour: u64,
    dom: u64,
    month: u64,
    dow: u64,
    /// Whether the day-of-month or day-of-week field was `*` / `?` (then both must match,
    /// otherwise either may).
    day_star: bool,
}

const MONTHS: &[&str] = &["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS: &[&str] = &["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

fn parse_value(s: &str, names: &[&str], name_base: u32) -> Result<u32, String> {
    if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
        return Ok(u32::try_from(i).unwrap_or(0) + name_base);
    }
    s.parse::<u32>().map_err(|_| format!("failed to parse int from {s}"))
}

/// Parses one field; returns its bits and whether it was a plain star.
fn parse_field(field: &str, min: u32, max: u32, names: &[&str], name_base: u32) -> Result<(u64, bool), String> {
    let mut bits = 0u64;
    let mut star = false;
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, Some(s.parse::<u32>().map_err(|_| format!("failed to parse int from {s}"))?)),
            None => (part, None),
        };
        let (start, end) = if range == "*" || range == "?" {
            if step.is_none() {
                star = true;
            }
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (parse_value(a, names, name_base)?, parse_value(b, names, name_base)?)
        } else {
            let v = parse_value(range, names, name_base)?;
            // "N/step" means N through the maximum
            (v, if step.is_some() { max } else { v })
        };
        if start < min {
            return Err(format!("beginning of range ({start}) below minimum ({min}): {part}"));
        }
        if end > max {
            return Err(format!("end of range ({end}) above maximum ({max}): {part}"));
        }
        if start > end {
            return Err(format!("beginning of range ({start}) beyond end of range ({end}): {part}"));
        }
        let step = step.unwrap_or(1);
        if step == 0 {
            return Err(format!("step of range should be a positive number: {part}"));
        }
        let mut v = start;
        while v <= end {
            bits |= 1 << v;
            v += step;
        }
    }
    Ok((bits, star))
}

impl Schedule {
    /// Parses a standard five-field schedule or a descriptor (`@hourly`, `@daily`, ...).
    /// `TZ=` / `CRON_TZ=` prefixes are refused: `spec.timeZone` names the zone.
    pub fn parse(spec: &str) -> Result<Schedule, String> {
        let spec = spec.trim();
        if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
            return Err("CRON_TZ or TZ used in schedule is not supported, use spec.timeZone instead".into());
        }
        let expanded = match spec {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            s if s.starts_with('@') => return Err(format!("unrecognized descriptor: {s}")),
            s => s,
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(format!("expected exactly 5 fields, found {}: {spec}", fields.len()));
        }
        let (minute, _) = parse_field(fields[0], 0, 59, &[], 0)?;
        let (hour, _) = parse_field(fields[1], 0, 23, &[], 0)?;
        let (dom, dom_star) = parse_field(fields[2], 1, 31, &[], 0)?;
        let (month, _) = parse_field(fields[3], 1, 12, MONTHS, 1)?;
        let (mut dow, dow_star) = parse_field(fields[4], 0, 7, DAYS, 0)?;
        // 7 is Sunday too
        if dow & (1 << 7) != 0 {
            dow = (dow | 1) & !(1 << 7);
        }
        Ok(Schedule { minute, hour, dom, month, dow, day_star: dom_star || dow_star })
    }

    fn day_matches(&self, z: &Zoned) -> bool {
        let dom = self.dom & (1 << z.day()) != 0;
        let dow = self.dow & (1 << z.weekday().to_sunday_zero_offset()) != 0;
        if self.day_star { dom && dow } else { dom || dow }
    }

    /// The first activation strictly after `after`, in zone `tz` (`None` if none within five years).
    pub fn next_after(&self, after: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        // start at the next whole minute
        let start = Timestamp::from_second(after.as_second().div_euclid(60) * 60 + 60).ok()?;
        let mut z = start.to_zoned(tz.clone());
        let limit = z.year() + 5;
        while z.year() <= limit {
            if self.month & (1 << z.month()) == 0 {
                let first = z.date().first_of_month().checked_add(1.month()).ok()?;
                z = first.to_zoned(tz.clone()).ok()?;
                continue;
            }
            if !self.day_matches(&z) {
                let next = z.date().tomorrow().ok()?;
                z = next.to_zoned(tz.clone()).ok()?;
                continue;
            }
            if self.hour & (1 << z.hour()) == 0 {
                let trunc = z.with().minute(0).second(0).subsec_nanosecond(0).build().ok()?;
                z = trunc.checked_add(1.hour()).ok()?;
                continue;
            }
            if self.minute & (1 << z.minute()) == 0 {
                z = z.checked_add(1.minute()).ok()?;
                continue;
            }
            return Some(z.timestamp());
        }
        None
    }
}

/// The most recent activation in `(earliest, now]` and how many activations fell in that
/// window (counting stops at `cap`).
pub fn most_recent(schedule: &Schedule, tz: &TimeZone, earliest: Timestamp, now: Timestamp, cap: usize) -> (Option<Timestamp>, usize) {
    let mut last = None;
    let mut count = 0;
    let mut t = earliest;
    while let Some(next) = schedule.next_after(t, tz) {
        if next > now {
            break;
        }
        last = Some(next);
        count += 1;
        if count > cap {
            // jump close to now rather than walking every missed minute
            let jump = Timestamp::from_second(now.as_second() - 60 * 60 * 24 * 366).unwrap_or(now).max(next);
            if jump > next {
                t = jump;
                continue;
            }
        }
        t = next;
    }
    (last, count)
}

/// The Job name for an activation: `<cronjob>-<minutes since the epoch>`.
pub fn job_name(cronjob: &str, scheduled: Timestamp) -> String {
    format!("{cronjob}-{}", scheduled.as_second().div_euclid(60))
}

/// The zone of a CronJob: `spec.timeZone`, else the local zone.
pub fn zone_of(time_zone: Option<&str>) -> Result<TimeZone, String> {
    match time_zone {
        None => Ok(TimeZone::system()),
        Some(name) => TimeZone::get(name).map_err(|e| e.to_string()),
    }
}

// ---------------------------------------------------------------------------------------------
// the controller

struct Ctx {
    client: kube::Client,
    recorder: Recorder,
}

/// Runs the controller until the stream ends.
pub async fn run(client: kube::Client) {
    let cronjobs: Api<CronJob> = Api::all(client.clone());
    let jobs: Api<Job> = Api::all(client.clone());
    let recorder = Recorder::new(client.clone(), Reporter { controller: CONTROLLER_NAME.into(), instance: None });
    Controller::new(cronjobs, watcher::Config::default())
        .owns(jobs, watcher::Config::default())
        .run(reconcile, crate::retry_after, Arc::new(Ctx { client, recorder }))
        .for_each(|r| async move {
            if let Err(e) = r {
                tracing::debug!(error = %e, "cronjob reconcile");
            }
        })
        .await;
}


fn job_start(job: &Job) -> Option<Timestamp> {
    job.status.as_ref().and_then(|s| s.start_time.as_ref()).map(|t| t.0).or_else(|| job.metadata.creation_timestamp.as_ref().map(|t| t.0))
}

fn until(t: Timestamp, now: Timestamp) -> Duration {
    let d = t.duration_since(now);
    if d.is_negative() { Duration::from_millis(100) } else { d.unsigned_abs() + Duration::from_millis(100) }
}

async fn reconcile(cj: Arc<CronJob>, ctx: Arc<Ctx>) -> Result<Action> {
    let ns = cj.namespace().unwrap_or_default();
    let name = cj.name_any();
    let uid = cj.uid().unwrap_or_default();
    let cj_ref = object_ref(cj.as_ref());
    let spec = cj.spec.clone().unwrap_or_default();
    let cronjobs: Api<CronJob> = Api::namespaced(ctx.client.clone(), &ns);
    let jobs_api: Api<Job> = Api::namespaced(ctx.client.clone(), &ns);
    let now = Timestamp::now();

    let jobs: Vec<Job> = jobs_api.list(&ListParams::default()).await?.items.into_iter().filter(|j| controlled_by(&j.metadata, &uid)).collect();
    let mut status = cj.status.clone().unwrap_or_default();

    // reconcile status.active with the Jobs
    let mut active: Vec<ObjectReference> = Vec::new();
    let by_uid: BTreeMap<String, &Job> = jobs.iter().filter_map(|j| Some((j.uid()?, j))).collect();
    for r in status.active.clone().unwrap_or_default() {
        let Some(j) = r.uid.as_ref().and_then(|u| by_uid.get(u)) else {
            publish(&ctx.recorder, &cj_ref, EventType::Normal, "MissingJob", format!("Active job went missing: {}", r.name.clone().unwrap_or_default()), None).await;
            continue;
        };
        if let Some((cond, _)) = job_finished(j) {
            publish(&ctx.recorder, &cj_ref, EventType::Normal, "SawCompletedJob", format!("Saw completed job: {}, condition: {cond}", j.name_any()), Some(object_ref(*j))).await;
            continue;
        }
        active.push(r);
    }
    for j in &jobs {
        let running = job_finished(j).is_none() && j.metadata.deletion_timestamp.is_none();
        if running && !active.iter().any(|r| r.uid == j.uid()) {
            active.push(object_ref(j));
        }
        if let Some((cond, at)) = job_finished(j)
            && cond == "Complete"
        {
            let done = j.status.as_ref().and_then(|s| s.completion_time.as_ref()).map(|t| t.0).unwrap_or(at);
            if status.last_successful_time.as_ref().is_none_or(|t| t.0 < done) {
                status.last_successful_time = Some(Time(done));
            }
        }
    }
    status.active = (!active.is_empty()).then_some(active);

    let mut requeue: Option<Duration> = None;
    if cj.metadata.deletion_timestamp.is_none() && spec.suspend != Some(true) {
        requeue = schedule_step(&ctx, &cj, &cj_ref, &jobs_api, &jobs, &mut status, now).await?;
    }

    // history limits
    cleanup_history(&ctx, &cj_ref, &jobs_api, &jobs, spec.successful_jobs_history_limit.unwrap_or(3), "Complete").await;
    cleanup_history(&ctx, &cj_ref, &jobs_api, &jobs, spec.failed_jobs_history_limit.unwrap_or(1), "Failed").await;

    if cj.status.as_ref() != Some(&status) {
        let mut updated = (*cj).clone();
        updated.status = Some(status);
        match cronjobs.replace_status(&name, &PostParams::default(), &updated).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 409 => return Err(Error::Pending("cronjob status conflict".into())),
            Err(kube::Error::Api(e)) if e.code == 404 => return Ok(Action::await_change()),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(match requeue {
        Some(d) => Action::requeue(d),
        None => Action::await_change(),
    })
}

/// Starts the Job due now, if any; returns when to look again.
async fn schedule_step(ctx: &Ctx, cj: &CronJob, cj_ref: &ObjectReference, jobs_api: &Api<Job>, jobs: &[Job], status: &mut CronJobStatus, now: Timestamp) -> Result<Option<Duration>> {
    let spec = cj.spec.clone().unwrap_or_default();
    let name = cj.name_any();
    let tz = match zone_of(spec.time_zone.as_deref()) {
        Ok(tz) => tz,
        Err(e) => {
            let tzname = spec.time_zone.clone().unwrap_or_default();
            publish(&ctx.recorder, cj_ref, EventType::Warning, "UnknownTimeZone", format!("invalid timeZone: {tzname:?}: {e}"), None).await;
            return Ok(None);
        }
    };
    let schedule = match Schedule::parse(&spec.schedule) {
        Ok(s) => s,
        Err(e) => {
            publish(&ctx.recorder, cj_ref, EventType::Warning, "UnparseableSchedule", format!("unparseable schedule: {:?} : {e}", spec.schedule), None).await;
            return Ok(None);
        }
    };
    let created = cj.metadata.creation_timestamp.as_ref().map(|t| t.0).unwrap_or(now);
    let mut earliest = status.last_schedule_time.as_ref().map(|t| t.0).unwrap_or(created);
    if let Some(sds) = spec.starting_deadline_seconds {
        let floor = now.checked_sub(jiff::SignedDuration::from_secs(sds)).unwrap_or(now);
        earliest = earliest.max(floor);
    }
    let next_wake = schedule.next_after(now, &tz).map(|t| until(t, now));
    let (scheduled, missed) = most_recent(&schedule, &tz, earliest, now, 100);
    if missed > 100 {
        publish(
            &ctx.recorder,
            cj_ref,
            EventType::Warning,
            "TooManyMissedTimes",
            format!("too many missed start times: {missed}. Set or decrease .spec.startingDeadlineSeconds or check clock skew"),
            None,
        )
        .await;
    }
    let Some(scheduled) = scheduled else { return Ok(next_wake) };
    if let Some(sds) = spec.starting_deadline_seconds
        && scheduled.as_second() + sds < now.as_second()
    {
        let when = scheduled.to_zoned(tz.clone()).strftime("%a, %d %b %Y %H:%M:%S %z").to_string();
        publish(&ctx.recorder, cj_ref, EventType::Warning, "MissSchedule", format!("Missed scheduled time to start a job: {when}"), None).await;
        return Ok(next_wake);
    }
    let jname = job_name(&name, scheduled);
    if jobs.iter().any(|j| j.name_any() == jname) || status.last_schedule_time.as_ref().is_some_and(|t| t.0 >= scheduled) {
        return Ok(next_wake);
    }
    let policy = spec.concurrency_policy.as_deref().unwrap_or("Allow");
    let running: Vec<ObjectReference> = status.active.clone().unwrap_or_default();
    if policy == "Forbid" && !running.is_empty() {
        publish(&ctx.recorder, cj_ref, EventType::Normal, "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid".into(), None).await;
        return Ok(next_wake);
    }
    if policy == "Replace" {
        for r in &running {
            let Some(rname) = r.name.as_deref() else { continue };
            match jobs_api.delete(rname, &DeleteParams::background()).await {
                Ok(_) => {
                    publish(&ctx.recorder, cj_ref, EventType::Normal, "SuccessfulDelete", format!("Deleted job {rname}"), Some(r.clone())).await;
                }
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(e) => return Err(e.into()),
            }
        }
        status.active = None;
    }
    let template = spec.job_template.clone();
    let mut meta: ObjectMeta = template.metadata.clone().unwrap_or_default();
    meta.name = Some(jname.clone());
    meta.generate_name = None;
    meta.namespace = cj.metadata.namespace.clone();
    meta.owner_references = Some(vec![controller_ref(cj)]);
    let stamp = scheduled.to_zoned(tz.clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string();
    let stamp = if stamp.ends_with("+00:00") { format!("{}Z", stamp.trim_end_matches("+00:00")) } else { stamp };
    meta.annotations.get_or_insert_with(BTreeMap::new).insert(SCHEDULED_TIMESTAMP.into(), stamp);
    let job = Job { metadata: meta, spec: template.spec.clone(), status: None };
    let created = match jobs_api.create(&PostParams::default(), &job).await {
        Ok(j) => {
            publish(&ctx.recorder, cj_ref, EventType::Normal, "SuccessfulCreate", format!("Created job {jname}"), Some(object_ref(&j))).await;
            j
        }
        Err(kube::Error::Api(e)) if e.code == 409 => match jobs_api.get_opt(&jname).await? {
            Some(j) if controlled_by(&j.metadata, &cj.uid().unwrap_or_default()) => j,
            _ => return Ok(next_wake),
        },
        Err(kube::Error::Api(e)) => {
            publish(&ctx.recorder, cj_ref, EventType::Warning, "FailedCreate", format!("Error creating job: {}", e.message), None).await;
            return Err(kube::Error::Api(e).into());
        }
        Err(e) => return Err(e.into()),
    };
    let active = status.active.get_or_insert_with(Vec::new);
    if !active.iter().any(|r| r.uid == created.uid()) {
        active.push(object_ref(&created));
    }
    status.last_schedule_time = Some(Time(scheduled));
    Ok(next_wake)
}

async fn cleanup_history(ctx: &Ctx, cj_ref: &ObjectReference, api: &Api<Job>, jobs: &[Job], limit: i32, cond: &str) {
    let mut finished: Vec<&Job> = jobs.iter().filter(|j| job_finished(j).is_some_and(|(c, _)| c == cond) && j.metadata.deletion_timestamp.is_none()).collect();
    let limit = usize::try_from(limit.max(0)).unwrap_or(0);
    if finished.len() <= limit {
        return;
    }
    finished.sort_by_key(|j| job_start(j));
    let excess = finished.len() - limit;
    for j in finished.into_iter().take(excess) {
        let jname = j.name_any();
        match api.delete(&jname, &DeleteParams::background()).await {
            Ok(_) => publish(&ctx.recorder, cj_ref, EventType::Normal, "SuccessfulDelete", format!("Deleted job {jname}"), Some(object_ref(j))).await,
            Err(e) => tracing::debug!(error = %e, "deleting an old job"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn parses_fields_and_descriptors() {
        assert!(Schedule::parse("* * * * *").is_ok());
        assert!(Schedule::parse("*/15 0-6,20 1 JAN-mar mon-FRI").is_ok());
        assert_eq!(Schedule::parse("@hourly").unwrap(), Schedule::parse("0 * * * *").unwrap());
        assert_eq!(Schedule::parse("0 0 * * 7").unwrap(), Schedule::parse("0 0 * * 0").unwrap());
        assert!(Schedule::parse("TZ=UTC * * * * *").is_err());
        assert!(Schedule::parse("CRON_TZ=Europe/Paris 0 * * * *").is_err());
        assert!(Schedule::parse("60 * * * *").is_err());
        assert!(Schedule::parse("* * * *").is_err());
        assert!(Schedule::parse("*/0 * * * *").is_err());
        assert!(Schedule::parse("@every 5m").is_err());
        assert!(Schedule::parse("5-1 * * * *").is_err());
    }

    #[test]
    fn next_times_in_utc() {
        let utc = TimeZone::UTC;
        let s = Schedule::parse("* * * * *").unwrap();
        assert_eq!(s.next_after(ts("2026-03-01T10:00:30Z"), &utc), Some(ts("2026-03-01T10:01:00Z")));
        assert_eq!(s.next_after(ts("2026-03-01T10:01:00Z"), &utc), Some(ts("2026-03-01T10:02:00Z")));
        let s = Schedule::parse("30 2 * * *").unwrap();
        assert_eq!(s.next_after(ts("2026-03-01T10:00:00Z"), &utc), Some(ts("2026-03-02T02:30:00Z")));
        let s = Schedule::parse("@yearly").unwrap();
        assert_eq!(s.next_after(ts("2026-03-01T10:00:00Z"), &utc), Some(ts("2027-01-01T00:00:00Z")));
        // day of month OR day of week when both are restricted: the 13th or any Friday
        let s = Schedule::parse("0 0 13 * 5").unwrap();
        assert_eq!(s.next_after(ts("2026-03-01T00:00:00Z"), &utc), Some(ts("2026-03-06T00:00:00Z"))); // a Friday
        assert_eq!(s.next_after(ts("2026-03-10T00:00:00Z"), &utc), Some(ts("2026-03-13T00:00:00Z")));
        // a star in one day field: both must match (every Monday)
        let s = Schedule::parse("0 9 * * 1").unwrap();
        assert_eq!(s.next_after(ts("2026-03-01T00:00:00Z"), &utc), Some(ts("2026-03-02T09:00:00Z")));
        // February 30th never comes
        assert_eq!(Schedule::parse("0 0 30 2 *").unwrap().next_after(ts("2026-01-01T00:00:00Z"), &utc), None);
    }

    #[test]
    fn next_times_in_a_zone_across_dst() {
        let ny = TimeZone::get("America/New_York").unwrap();
        let s = Schedule::parse("0 9 * * *").unwrap();
        // 09:00 EST is 14:00 UTC; after the March change 09:00 EDT is 13:00 UTC
        assert_eq!(s.next_after(ts("2026-03-07T15:00:00Z"), &ny), Some(ts("2026-03-08T13:00:00Z")));
        assert_eq!(s.next_after(ts("2026-03-06T15:00:00Z"), &ny), Some(ts("2026-03-07T14:00:00Z")));
        // 02:30 does not exist on 2026-03-08 in New York: that day is skipped
        let s = Schedule::parse("30 2 * * *").unwrap();
        assert_eq!(s.next_after(ts("2026-03-08T05:00:00Z"), &ny), Some(ts("2026-03-09T06:30:00Z")));
        // 01:30 happens twice on 2026-11-01: both runs
        let s = Schedule::parse("30 1 * * *").unwrap();
        let first = s.next_after(ts("2026-11-01T04:00:00Z"), &ny).unwrap();
        assert_eq!(first, ts("2026-11-01T05:30:00Z"));
        assert_eq!(s.next_after(first, &ny), Some(ts("2026-11-01T06:30:00Z")));
        let tokyo = TimeZone::get("Asia/Tokyo").unwrap();
        assert_eq!(Schedule::parse("0 0 * * *").unwrap().next_after(ts("2026-03-01T00:00:00Z"), &tokyo), Some(ts("2026-03-01T15:00:00Z")));
    }

    #[test]
    fn most_recent_activation_and_misses() {
        let utc = TimeZone::UTC;
        let s = Schedule::parse("*/10 * * * *").unwrap();
        let (t, n) = most_recent(&s, &utc, ts("2026-03-01T10:00:00Z"), ts("2026-03-01T10:35:00Z"), 100);
        assert_eq!(t, Some(ts("2026-03-01T10:30:00Z")));
        assert_eq!(n, 3);
        let (t, n) = most_recent(&s, &utc, ts("2026-03-01T10:00:00Z"), ts("2026-03-01T10:05:00Z"), 100);
        assert_eq!((t, n), (None, 0));
        let every = Schedule::parse("* * * * *").unwrap();
        let (t, n) = most_recent(&every, &utc, ts("2026-01-01T00:00:00Z"), ts("2026-03-01T00:00:30Z"), 100);
        assert_eq!(t, Some(ts("2026-03-01T00:00:00Z")));
        assert!(n > 100);
    }

    #[test]
    fn job_names_use_minutes_since_epoch() {
        assert_eq!(job_name("hello", ts("2026-03-01T10:00:00Z")), format!("hello-{}", ts("2026-03-01T10:00:00Z").as_second() / 60));
        assert!(zone_of(Some("Not/AZone")).is_err());
        assert!(zone_of(Some("Europe/Berlin")).is_ok());
    }
}
