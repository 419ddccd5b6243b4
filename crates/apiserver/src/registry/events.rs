//! `events.k8s.io/v1`: events (the core group's events seen through the newer API). Served
//! from its own storage prefix until version conversion shares core's.

use apimachinery::ResourceInfo;
use k8s_openapi::api::events::v1 as api;

use super::{Registry, Resource, Strategy, parts};

parts!(data: api::Event);

/// events.events.k8s.io
pub struct Events;
impl Strategy for Events {
    type K = api::Event;
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::events::event_columns()
    }
    fn cells(&self, o: &api::Event, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::events::event_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        ResourceInfo::new("events.k8s.io", "v1", "Event", "events", true).short(&["ev"])
    }
    fn storage_segment(&self) -> String {
        "events.k8s.io/events".into()
    }
}

/// Registers events.k8s.io/v1.
pub fn register(r: &mut Registry) {
    r.add(Resource::new(Events));
}
