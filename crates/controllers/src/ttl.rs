//! The TTL controller (`ttl-controller`): annotates every node with
//! `node.alpha.kubernetes.io/ttl`, how many seconds kubelets may cache secrets and config maps,
//! growing with the cluster's size in upstream's steps (0 s up to 100 nodes, then 15, 30, 60,
//! 300, 600 s), with upstream's overlap between steps so the TTL does not flap.

use std::time::Duration;

use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, Patch, PatchParams};

use crate::stores::{self, Wake};

/// The annotation.
pub const ANNOTATION: &str = "node.alpha.kubernetes.io/ttl";

/// (size_min, size_max, ttl seconds): a step applies from size_min to size_max nodes.
const STEPS: &[(usize, usize, u32)] = &[(0, 100, 0), (90, 500, 15), (450, 1000, 30), (900, 2000, 60), (1800, 10000, 300), (9000, usize::MAX, 600)];

/// The step for `nodes` nodes, starting from step `current` (moves up past size_max, down
/// below size_min).
pub fn step_for(mut current: usize, nodes: usize) -> usize {
    current = current.min(STEPS.len() - 1);
    while nodes > STEPS[current].1 && current + 1 < STEPS.len() {
        current += 1;
    }
    while nodes < STEPS[current].0 && current > 0 {
        current -= 1;
    }
    current
}

/// The TTL in seconds of a step.
pub fn ttl_of(step: usize) -> u32 {
    STEPS[step.min(STEPS.len() - 1)].2
}

/// Runs the TTL controller until the process ends.
pub async fn run(informers: stores::Informers, client: kube::Client) {
    let wake = Wake::new();
    // a node matters when it comes, goes or its annotation changes (not at each status update)
    let nodes = informers.subscribe::<Node, _>(stores::wake_on_change(&wake, |n: &Node| n.metadata.annotations.as_ref().and_then(|a| a.get(ANNOTATION).cloned())));
    stores::ready(&nodes).await;
    let api: Api<Node> = Api::all(client);
    let mut step = 0usize;
    loop {
        let list = nodes.state();
        step = step_for(step, list.len());
        let ttl = ttl_of(step).to_string();
        let mut retry = false;
        for n in list {
            let cur = n.metadata.annotations.as_ref().and_then(|a| a.get(ANNOTATION));
            if cur == Some(&ttl) {
                continue;
            }
            let Some(name) = n.metadata.name.as_deref() else { continue };
            let patch = serde_json::json!({"metadata": {"annotations": {ANNOTATION: ttl}}});
            if let Err(e) = api.patch(name, &PatchParams::default(), &Patch::Merge(&patch)).await
                && !stores::not_found(&e)
            {
                tracing::debug!(node = name, error = %e, "ttl annotation");
                retry = true;
            }
        }
        wake.wait(if retry { Duration::from_secs(1) } else { Duration::from_secs(300) }, Duration::from_millis(50)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_with_overlap() {
        assert_eq!(ttl_of(step_for(0, 3)), 0);
        assert_eq!(ttl_of(step_for(0, 101)), 15);
        // shrinking to 95 stays at 15 s (the steps overlap), below 90 back to 0
        assert_eq!(ttl_of(step_for(1, 95)), 15);
        assert_eq!(ttl_of(step_for(1, 89)), 0);
        assert_eq!(ttl_of(step_for(0, 5000)), 300);
        assert_eq!(ttl_of(step_for(0, 20000)), 600);
    }
}
