//! events.k8s.io/v1 Events. Upstream validates these as its internal (core) Event, so error
//! paths use the core field names: `involvedObject` (regarding), `message` (note), `source`
//! (deprecatedSource), `firstTimestamp`/`lastTimestamp`/`count` (the deprecated* fields).

use apimachinery::field::ErrorList;
use k8s_openapi::api::events::v1 as ev;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};

use super::common::*;
use super::core::{legacy_event, EventFields};

const ZERO_SECONDS: i64 = -62135596800;

fn time_set(t: Option<&Time>) -> bool {
    t.is_some_and(|t| t.0.as_second() > ZERO_SECONDS)
}

fn micro_set(t: Option<&MicroTime>) -> bool {
    t.is_some_and(|t| t.0.as_second() > ZERO_SECONDS)
}

fn fields(e: &ev::Event) -> EventFields {
    EventFields {
        namespace: e.metadata.namespace.clone().unwrap_or_default(),
        involved_object_namespace: e.regarding.as_ref().and_then(|r| r.namespace.clone()).unwrap_or_default(),
        has_event_time: micro_set(e.event_time.as_ref()),
        reporting_controller: ostr(&e.reporting_controller).to_string(),
        reporting_instance: ostr(&e.reporting_instance).to_string(),
        action: ostr(&e.action).to_string(),
        reason: ostr(&e.reason).to_string(),
        message: ostr(&e.note).to_string(),
        core_v1: false,
    }
}

fn series(e: &ev::Event) -> Errs {
    let mut errs = Vec::new();
    if let Some(s) = &e.series {
        if s.count < 2 {
            errs.push(invalid(&p("series.count"), "", "should be at least 2"));
        }
        if !micro_set(Some(&s.last_observed_time)) {
            errs.push(required(&p("series.lastObservedTime"), ""));
        }
    }
    errs
}

fn source_set(e: &ev::Event) -> bool {
    e.deprecated_source.as_ref().is_some_and(|s| !ostr(&s.component).is_empty() || !ostr(&s.host).is_empty())
}

/// events.k8s.io/v1 Event create: the legacy rules plus the strict v1 rules (eventTime
/// required, type Normal/Warning, deprecated fields unset, series count ≥ 2 and
/// lastObservedTime set).
pub fn events_event(e: &ev::Event) -> ErrorList {
    let mut errs = legacy_event(&fields(e));
    errs.extend(series(e));
    if !micro_set(e.event_time.as_ref()) {
        errs.push(required(&p("eventTime"), ""));
    }
    let t = ostr(&e.type_);
    if t != "Normal" && t != "Warning" {
        errs.push(invalid(&p("type"), "", format!("has invalid value: {t}")));
    }
    if time_set(e.deprecated_first_timestamp.as_ref()) {
        errs.push(invalid(&p("firstTimestamp"), "", "needs to be unset"));
    }
    if time_set(e.deprecated_last_timestamp.as_ref()) {
        errs.push(invalid(&p("lastTimestamp"), "", "needs to be unset"));
    }
    if e.deprecated_count.unwrap_or(0) != 0 {
        errs.push(invalid(&p("count"), "", "needs to be unset"));
    }
    if source_set(e) {
        errs.push(invalid(&p("source"), "", "needs to be unset"));
    }
    done(errs)
}

fn truncated_micros(t: Option<&MicroTime>) -> Option<i128> {
    t.filter(|t| t.0.as_second() > ZERO_SECONDS).map(|t| t.0.as_nanosecond() / 1000)
}

/// events.k8s.io/v1 Event update: the legacy rules, series rules when the series changed, and
/// immutability of everything but the series (eventTime compared at microsecond precision).
pub fn events_event_update(new: &ev::Event, old: &ev::Event) -> ErrorList {
    let mut e = legacy_event(&fields(new));
    if json(&new.series) != json(&old.series) {
        e.extend(series(new));
    }
    let regarding = |x: &ev::Event| x.regarding.clone().unwrap_or_default();
    e.extend(immutable(&json(&regarding(new)), &json(&regarding(old)), &p("involvedObject")));
    e.extend(immutable(ostr(&new.reason), ostr(&old.reason), &p("reason")));
    e.extend(immutable(ostr(&new.note), ostr(&old.note), &p("message")));
    let source = |x: &ev::Event| x.deprecated_source.clone().unwrap_or_default();
    e.extend(immutable(&json(&source(new)), &json(&source(old)), &p("source")));
    let ts = |t: Option<&Time>| t.filter(|t| t.0.as_second() > ZERO_SECONDS).map(|t| t.0.as_second());
    if ts(new.deprecated_first_timestamp.as_ref()) != ts(old.deprecated_first_timestamp.as_ref()) {
        e.push(invalid(&p("firstTimestamp"), json(&new.deprecated_first_timestamp), FIELD_IMMUTABLE));
    }
    if ts(new.deprecated_last_timestamp.as_ref()) != ts(old.deprecated_last_timestamp.as_ref()) {
        e.push(invalid(&p("lastTimestamp"), json(&new.deprecated_last_timestamp), FIELD_IMMUTABLE));
    }
    e.extend(immutable(&new.deprecated_count.unwrap_or(0), &old.deprecated_count.unwrap_or(0), &p("count")));
    e.extend(immutable(ostr(&new.reason), ostr(&old.reason), &p("reason")));
    e.extend(immutable(ostr(&new.type_), ostr(&old.type_), &p("type")));
    if truncated_micros(new.event_time.as_ref()) != truncated_micros(old.event_time.as_ref()) {
        e.push(invalid(&p("eventTime"), json(&new.event_time), FIELD_IMMUTABLE));
    }
    e.extend(immutable(ostr(&new.action), ostr(&old.action), &p("action")));
    let related = |x: &ev::Event| x.related.clone().unwrap_or_default();
    e.extend(immutable(&json(&related(new)), &json(&related(old)), &p("related")));
    e.extend(immutable(ostr(&new.reporting_controller), ostr(&old.reporting_controller), &p("reportingController")));
    e.extend(immutable(ostr(&new.reporting_instance), ostr(&old.reporting_instance), &p("reportingInstance")));
    done(e)
}
