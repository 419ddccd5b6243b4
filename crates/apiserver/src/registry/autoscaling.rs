//! `autoscaling/v2` (storage version) and `autoscaling/v1`: horizontalpodautoscalers.

use apimachinery::ResourceInfo;
use k8s_openapi::api::autoscaling::v2 as api;

use super::{Registry, Resource, Strategy, parts};

parts!(spec, status: api::HorizontalPodAutoscaler);

/// horizontalpodautoscalers (autoscaling/v2)
pub struct HorizontalPodAutoscalers;
impl Strategy for HorizontalPodAutoscalers {
    type K = api::HorizontalPodAutoscaler;
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::autoscaling::horizontal_pod_autoscaler_columns()
    }
    fn cells(&self, o: &api::HorizontalPodAutoscaler, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::autoscaling::horizontal_pod_autoscaler_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        ResourceInfo::new("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true)
            .short(&["hpa"])
            .categories(&["all"])
    }
    fn tracks_generation(&self) -> bool {
        true
    }
}

/// Registers autoscaling.
pub fn register(r: &mut Registry) {
    r.add(Resource::new(HorizontalPodAutoscalers));
}
