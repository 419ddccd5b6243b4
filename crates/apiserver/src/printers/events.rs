//! Printer for `events.k8s.io` events. Upstream serves them from the core event storage, so the
//! table is the core event table after conversion: `regarding` becomes the involved object,
//! `note` the message, `deprecatedSource`/`deprecatedFirstTimestamp`/`deprecatedLastTimestamp`/
//! `deprecatedCount` the source, first and last timestamps and count, and `reportingController`
//! the reporting component.

use apimachinery::table::Column;
use k8s_openapi::api::events::v1::Event;
use serde_json::Value;

use super::core::{EventView, event_columns as core_event_columns, event_view_cells};

/// The same columns as the core event table (LAST SEEN first, NAME last and wide).
pub fn event_columns() -> Vec<Column> {
    core_event_columns()
}

/// Cells of an `events.k8s.io/v1` event, printed as its core form.
pub fn event_cells(obj: &Event, now: jiff::Timestamp) -> Vec<Value> {
    let view = EventView {
        meta: &obj.metadata,
        involved: obj.regarding.as_ref(),
        source: obj.deprecated_source.as_ref(),
        reporting_controller: obj.reporting_controller.as_deref(),
        reporting_instance: obj.reporting_instance.as_deref(),
        first_timestamp: obj.deprecated_first_timestamp.as_ref().map(|t| t.0),
        last_timestamp: obj.deprecated_last_timestamp.as_ref().map(|t| t.0),
        event_time: obj.event_time.as_ref().map(|t| t.0),
        series: obj
            .series
            .as_ref()
            .map(|sr| (sr.count, Some(sr.last_observed_time.0))),
        count: obj.deprecated_count.unwrap_or(0),
        type_: obj.type_.as_deref(),
        reason: obj.reason.as_deref(),
        message: obj.note.as_deref(),
    };
    event_view_cells(&view, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printers::testutil::{cells, meta, now};
    use k8s_openapi::api::core::v1::ObjectReference;
    use k8s_openapi::api::events::v1::EventSeries;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
    use serde_json::json;

    #[test]
    fn converted_event() {
        let mut e = Event {
            metadata: meta("web-1.abc", 900),
            regarding: Some(ObjectReference {
                kind: Some("Deployment".into()),
                name: Some("web".into()),
                ..Default::default()
            }),
            note: Some("  Scaled up replica set web-5d4 to 3 ".into()),
            reason: Some("ScalingReplicaSet".into()),
            type_: Some("Normal".into()),
            reporting_controller: Some("deployment-controller".into()),
            reporting_instance: Some("kcm-1".into()),
            event_time: Some(MicroTime(now() - jiff::SignedDuration::from_secs(200))),
            ..Default::default()
        };
        assert_eq!(
            cells(event_cells(&e, now())),
            json!([
                "3m20s",
                "Normal",
                "ScalingReplicaSet",
                "deployment/web",
                "",
                "deployment-controller, kcm-1",
                "Scaled up replica set web-5d4 to 3",
                "3m20s",
                1,
                "web-1.abc"
            ])
        );
        e.series = Some(EventSeries {
            count: 5,
            last_observed_time: MicroTime(now() - jiff::SignedDuration::from_secs(20)),
        });
        let c = event_cells(&e, now());
        assert_eq!(c[0], json!("20s"));
        assert_eq!(c[8], json!(5));
        assert_eq!(event_columns(), crate::printers::core::event_columns());
    }
}
