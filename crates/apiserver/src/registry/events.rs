//! `events.k8s.io/v1`: events, served from the core group's event storage (as upstream): the
//! same objects seen through the newer schema, converted on the way in and out.

use apimachinery::ResourceInfo;
use k8s_openapi::api::events::v1 as api;
use serde_json::{Map, Value};

use super::{Registry, Resource, Strategy, parts};

parts!(data: api::Event);

/// events.events.k8s.io (the decoder of request bodies; storage is core/v1's)
pub struct Events;
impl Strategy for Events {
    type K = api::Event;
    fn validate(&self, o: &api::Event) -> apimachinery::ErrorList {
        crate::validation::events_event(o)
    }
    fn validate_update(&self, new: &api::Event, old: &api::Event) -> apimachinery::ErrorList {
        crate::validation::events_event_update(new, old)
    }
    fn defaults(&self, o: &mut api::Event) {
        crate::defaults::events::event(o)
    }
    fn info(&self) -> ResourceInfo {
        ResourceInfo::new("events.k8s.io", "v1", "Event", "events", true).short(&["ev"])
    }
}

/// Field renames between events.k8s.io/v1 (left) and core/v1 (right).
const RENAMES: &[(&str, &str)] = &[
    ("regarding", "involvedObject"),
    ("note", "message"),
    ("reportingController", "reportingComponent"),
    ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
];

fn rename(v: Value, api_version: &str, forward: bool) -> Result<Value, String> {
    let Value::Object(m) = v else { return Err("event is not an object".into()) };
    let mut out = Map::new();
    for (k, val) in m {
        let key = RENAMES
            .iter()
            .find(|(a, b)| if forward { a == &k } else { b == &k })
            .map(|(a, b)| if forward { b.to_string() } else { a.to_string() })
            .unwrap_or(k);
        out.insert(key, val);
    }
    out.insert("apiVersion".into(), Value::String(api_version.into()));
    out.insert("kind".into(), Value::String("Event".into()));
    if forward && !out.contains_key("involvedObject") {
        out.insert("involvedObject".into(), Value::Object(Map::new()));
    }
    Ok(Value::Object(out))
}

/// events.k8s.io/v1 → core/v1.
pub fn to_core(v: Value) -> Result<Value, String> {
    rename(v, "v1", true)
}

/// core/v1 → events.k8s.io/v1.
pub fn from_core(v: Value) -> Result<Value, String> {
    let mut out = rename(v, "events.k8s.io/v1", false)?;
    // eventTime is required in events.k8s.io/v1; core events may lack it (upstream leaves it
    // null in that case, which the schema's decoder accepts)
    if out.get("eventTime").is_none() {
        out["eventTime"] = Value::Null;
    }
    Ok(out)
}

/// Registers events.k8s.io/v1 (after core/v1).
pub fn register(r: &mut Registry) {
    let core = r.find("", "v1", "events").expect("core events registered first");
    r.add(Resource::converted(&core, Events, to_core, from_core));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn converts_both_ways() {
        let new = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e"},
            "regarding": {"kind": "Pod", "name": "p"}, "note": "hello", "reason": "Started",
            "reportingController": "kubelet", "deprecatedCount": 3, "type": "Normal"});
        let core = to_core(new.clone()).unwrap();
        assert_eq!(core["apiVersion"], "v1");
        assert_eq!(core["involvedObject"]["name"], "p");
        assert_eq!(core["message"], "hello");
        assert_eq!(core["reportingComponent"], "kubelet");
        assert_eq!(core["count"], 3);
        let back = from_core(core).unwrap();
        assert_eq!(back["regarding"], new["regarding"]);
        assert_eq!(back["note"], "hello");
        assert_eq!(back["deprecatedCount"], 3);
        assert_eq!(back["apiVersion"], "events.k8s.io/v1");
    }
}
