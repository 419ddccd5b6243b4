//! One scheduling decision: pre-filter, filter over (a share of) the nodes, score, pick; and,
//! when nothing fits, DefaultPreemption's search for victims.

use std::collections::HashMap;
use std::sync::Arc;

use rand::Rng;

use crate::cache::{NodeInfo, PodInfo, State};
use crate::framework::{Code, CycleState, Diagnosis, Plugin, Status, fit_error_message};

/// Upstream's message when the cluster has no nodes.
pub const NO_NODES: &str = "no nodes available to schedule pods";

/// How many feasible nodes to look for before scoring (upstream's adaptive
/// percentageOfNodesToScore: 50% minus 1% per 125 nodes, at least 5%, at least 100 nodes).
pub fn num_feasible_nodes_to_find(all: usize) -> usize {
    if all < 100 {
        return all;
    }
    let pct = (50 - (all / 125) as i64).max(5) as usize;
    (all * pct / 100).max(100)
}

/// Runs the filters of every plugin on one node (stopping at the first rejection).
pub fn run_filters(plugins: &[Box<dyn Plugin>], cs: &CycleState, pod: &PodInfo, node: &NodeInfo, st: &State) -> Result<(), Status> {
    for p in plugins {
        p.filter(cs, pod, node, st)?;
    }
    Ok(())
}

/// Runs the pre-filters.
pub fn run_pre_filters(plugins: &[Box<dyn Plugin>], pod: &PodInfo, st: &State) -> Result<CycleState, Status> {
    let mut cs = CycleState::default();
    for p in plugins {
        p.pre_filter(&mut cs, pod, st)?;
    }
    Ok(cs)
}

/// The pod's nominated node (set by an earlier preemption).
pub fn nominated_node(pod: &PodInfo) -> Option<&str> {
    pod.pod.status.as_ref().and_then(|s| s.nominated_node_name.as_deref()).filter(|s| !s.is_empty())
}

/// Decides a node for the pod, or explains why none fits.
pub fn schedule(plugins: &[Box<dyn Plugin>], st: &mut State, pod: &PodInfo, rng: &mut impl Rng) -> Result<(String, CycleState), Diagnosis> {
    let all = st.order.len();
    let mut diag = Diagnosis { num_nodes: all, ..Default::default() };
    if all == 0 {
        return Err(diag);
    }
    let cs = match run_pre_filters(plugins, pod, st) {
        Ok(cs) => cs,
        Err(status) => {
            diag.pre_filter_msg = Some(status.reasons.join(", "));
            for n in &st.order {
                diag.node_status.insert(n.clone(), status.clone());
            }
            return Err(diag);
        }
    };
    // a nominated node is tried first
    if let Some(n) = nominated_node(pod)
        && let Some(node) = st.nodes.get(n).filter(|n| n.node.is_some())
        && run_filters(plugins, &cs, pod, node, st).is_ok()
    {
        return Ok((n.to_string(), cs));
    }
    let want = num_feasible_nodes_to_find(all);
    let mut feasible: Vec<&NodeInfo> = Vec::with_capacity(want.min(all));
    let start = st.next_start % all;
    let mut processed = 0;
    for i in 0..all {
        let name = &st.order[(start + i) % all];
        let Some(node) = st.nodes.get(name) else {
            continue;
        };
        processed += 1;
        match run_filters(plugins, &cs, pod, node, st) {
            Ok(()) => {
                feasible.push(node);
                if feasible.len() >= want {
                    break;
                }
            }
            Err(s) => {
                diag.node_status.insert(name.clone(), s);
            }
        }
    }
    let next = (start + processed) % all;
    if feasible.is_empty() {
        st.next_start = next;
        return Err(diag);
    }
    let chosen = if feasible.len() == 1 {
        feasible[0].name.clone()
    } else {
        let mut cs = cs;
        let totals = score(plugins, &mut cs, pod, st, &feasible);
        let mut best = i64::MIN;
        let mut best_i = 0;
        let mut ties = 0u32;
        for (i, t) in totals.iter().enumerate() {
            if *t > best {
                best = *t;
                best_i = i;
                ties = 1;
            } else if *t == best {
                ties += 1;
                if rng.random_range(0..ties) == 0 {
                    best_i = i;
                }
            }
        }
        let name = feasible[best_i].name.clone();
        st.next_start = next;
        return Ok((name, cs));
    };
    st.next_start = next;
    Ok((chosen, cs))
}

/// The weighted sum of every plugin's normalized score, per feasible node.
pub fn score(plugins: &[Box<dyn Plugin>], cs: &mut CycleState, pod: &PodInfo, st: &State, nodes: &[&NodeInfo]) -> Vec<i64> {
    let mut totals = vec![0i64; nodes.len()];
    for p in plugins.iter().filter(|p| p.weight() > 0) {
        p.pre_score(cs, pod, st, nodes);
    }
    let mut scores = vec![0i64; nodes.len()];
    for p in plugins.iter().filter(|p| p.weight() > 0) {
        for (i, n) in nodes.iter().enumerate() {
            scores[i] = p.score(cs, pod, n, st);
        }
        p.normalize(cs, &mut scores, nodes);
        for (t, s) in totals.iter_mut().zip(&scores) {
            *t += s * p.weight();
        }
    }
    totals
}

/// A node where evicting `victims` lets the pod fit.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The node.
    pub node: String,
    /// The pods to evict.
    pub victims: Vec<Arc<PodInfo>>,
    /// How many of them a PodDisruptionBudget protects.
    pub pdb_violations: usize,
}

const NOT_HELPFUL: &str = "Preemption is not helpful for scheduling";
const NO_VICTIMS: &str = "No preemption victims found for incoming pod";

fn start_time(p: &PodInfo) -> i64 {
    p.pod
        .status
        .as_ref()
        .and_then(|s| s.start_time.as_ref())
        .or(p.pod.metadata.creation_timestamp.as_ref())
        .map(|t| t.0.as_nanosecond() as i64)
        .unwrap_or(i64::MAX)
}

/// Upstream's `MoreImportantPod`: higher priority, then started earlier.
fn more_important(a: &PodInfo, b: &PodInfo) -> std::cmp::Ordering {
    b.priority.cmp(&a.priority).then(start_time(a).cmp(&start_time(b)))
}

/// Splits pods into those whose eviction would violate a PodDisruptionBudget (counting the
/// earlier pods of the list against each budget's `disruptionsAllowed`) and the others.
pub fn split_by_pdb(pods: Vec<Arc<PodInfo>>, st: &State) -> (Vec<Arc<PodInfo>>, Vec<Arc<PodInfo>>) {
    let mut allowed: Vec<i64> = st.pdbs.iter().map(|p| i64::from(p.status.as_ref().map_or(0, |s| s.disruptions_allowed))).collect();
    let (mut violating, mut fine) = (Vec::new(), Vec::new());
    for p in pods {
        let mut violates = false;
        for (i, pdb) in st.pdbs.iter().enumerate() {
            if pdb.metadata.namespace.as_deref() != Some(p.namespace.as_str()) {
                continue;
            }
            let Some(sel) = pdb.spec.as_ref().and_then(|s| s.selector.as_ref()) else { continue };
            let sel = crate::helpers::Selector::from_api(Some(sel));
            // an empty selector matches nothing here, as upstream
            if sel.is_everything() || !sel.matches(crate::helpers::pod_labels(&p.pod)) {
                continue;
            }
            if pdb.status.as_ref().and_then(|s| s.disrupted_pods.as_ref()).is_some_and(|d| d.contains_key(&p.name)) {
                continue;
            }
            allowed[i] -= 1;
            if allowed[i] < 0 {
                violates = true;
            }
        }
        if violates { violating.push(p) } else { fine.push(p) }
    }
    (violating, fine)
}

fn select_victims(
    plugins: &[Box<dyn Plugin>],
    cs: &CycleState,
    pod: &PodInfo,
    node: &NodeInfo,
    st: &State,
) -> Result<(Vec<Arc<PodInfo>>, usize), Status> {
    let mut n = node.clone();
    let mut potential: Vec<Arc<PodInfo>> = node.pods.iter().filter(|p| p.priority < pod.priority).cloned().collect();
    if potential.is_empty() {
        return Err(Status::unresolvable("DefaultPreemption", NO_VICTIMS));
    }
    // the what-if runs on its own copy of the cycle state, which follows the pods taken out
    // and put back (spread and affinity counts, as upstream's PreFilterExtensions)
    let mut cs = cs.clone();
    let remove = |cs: &mut CycleState, p: &PodInfo| plugins.iter().for_each(|pl| pl.remove_pod(cs, pod, p, node, st));
    let add = |cs: &mut CycleState, p: &PodInfo| plugins.iter().for_each(|pl| pl.add_pod(cs, pod, p, node, st));
    for p in &potential {
        n.remove_pod(&p.uid);
        remove(&mut cs, p);
    }
    run_filters(plugins, &cs, pod, &n, st)?;
    potential.sort_by(|a, b| more_important(a, b));
    // pods protected by a budget are reprieved first
    let (violating, fine) = split_by_pdb(potential, st);
    let mut victims = Vec::new();
    let mut violations = 0;
    for (group, counts) in [(violating, true), (fine, false)] {
        for p in group {
            n.add_pod(p.clone());
            add(&mut cs, &p);
            if run_filters(plugins, &cs, pod, &n, st).is_err() {
                n.remove_pod(&p.uid);
                remove(&mut cs, &p);
                victims.push(p);
                if counts {
                    violations += 1;
                }
            }
        }
    }
    victims.sort_by(|a, b| more_important(a, b));
    Ok((victims, violations))
}

/// DefaultPreemption: the best node to preempt on and its victims, or upstream's message why
/// preemption cannot help (without the `preemption: ` prefix).
pub fn preempt(plugins: &[Box<dyn Plugin>], st: &State, pod: &PodInfo, diag: &Diagnosis) -> Result<Candidate, String> {
    if pod.pod.spec.as_ref().and_then(|s| s.preemption_policy.as_deref()) == Some("Never") {
        return Err("not eligible due to preemptionPolicy=Never.".into());
    }
    if let Some(n) = nominated_node(pod)
        && st.nodes.get(n).is_some_and(|ni| ni.pods.iter().any(|p| p.terminating && p.priority < pod.priority))
    {
        return Err("not eligible due to a terminating pod on the nominated node.".into());
    }
    if st.order.is_empty() {
        return Err("no nodes available".into());
    }
    let mut statuses: HashMap<String, Status> = HashMap::new();
    let mut potential = Vec::new();
    for name in &st.order {
        match diag.node_status.get(name) {
            Some(s) if s.code == Code::Unschedulable => potential.push(name),
            Some(_) => {
                statuses.insert(name.clone(), Status::unresolvable("DefaultPreemption", NOT_HELPFUL));
            }
            // passed the filters but was not needed (not searched): nothing to gain there
            None => {}
        }
    }
    let cs = match run_pre_filters(plugins, pod, st) {
        Ok(cs) => cs,
        Err(_) => return Err(fit_error_message(st.order.len(), &statuses, None, None)),
    };
    let want = (potential.len() / 10).max(100).min(potential.len());
    let mut candidates = Vec::new();
    for name in potential {
        let Some(node) = st.nodes.get(name) else {
            continue;
        };
        match select_victims(plugins, &cs, pod, node, st) {
            Ok((victims, pdb_violations)) => {
                candidates.push(Candidate { node: name.clone(), victims, pdb_violations });
                if candidates.len() >= want {
                    break;
                }
            }
            Err(s) => {
                statuses.insert(name.clone(), s);
            }
        }
    }
    if candidates.is_empty() {
        return Err(fit_error_message(st.order.len(), &statuses, None, None));
    }
    // upstream's pickOneNodeForPreemption: fewest budget violations, lowest highest victim
    // priority, smallest sum of priorities, fewest victims, latest start of the most important
    let key = |c: &Candidate| {
        let highest = c.victims.iter().map(|v| v.priority).max().unwrap_or(i32::MIN);
        let sum: i64 = c.victims.iter().map(|v| i64::from(v.priority) + i64::from(i32::MAX) + 1).sum();
        let earliest_of_highest = c.victims.iter().filter(|v| v.priority == highest).map(|v| start_time(v)).min().unwrap_or(i64::MAX);
        (c.pdb_violations, highest, sum, c.victims.len(), std::cmp::Reverse(earliest_of_highest))
    };
    candidates.into_iter().min_by_key(key).ok_or_else(|| NO_VICTIMS.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::{default_profile, testutil::*};
    use serde_json::json;

    fn cpu_pod(name: &str, cpu: &str, prio: i32) -> Arc<PodInfo> {
        pod(
            json!({"metadata": {"name": name}, "spec": {"priority": prio, "containers": [{"name": "c", "resources": {"requests": {"cpu": cpu}}}]}}),
        )
    }

    #[test]
    fn feasible_share() {
        assert_eq!(num_feasible_nodes_to_find(50), 50);
        assert_eq!(num_feasible_nodes_to_find(1000), 420);
        assert_eq!(num_feasible_nodes_to_find(5000), 500);
        assert_eq!(num_feasible_nodes_to_find(200), 100);
    }

    #[test]
    fn picks_the_emptier_node() {
        let mut st = state(vec![node("a", json!({}), json!({})), node("b", json!({}), json!({}))]);
        st.add_pod(cpu_pod("x", "3", 0), "a", false);
        let plugins = default_profile();
        let (n, _) = schedule(&plugins, &mut st, &cpu_pod("y", "500m", 0), &mut rand::rng()).unwrap();
        assert_eq!(n, "b");
    }

    #[test]
    fn preemption_prefers_victims_without_a_budget() {
        let mut st = state(vec![node("a", json!({}), json!({})), node("b", json!({}), json!({}))]);
        let guarded = pod(json!({"metadata": {"name": "guarded", "labels": {"app": "guarded"}}, "spec": {"priority": 1,
            "containers": [{"name": "c", "resources": {"requests": {"cpu": "3"}}}]}}));
        st.add_pod(guarded, "a", false);
        st.add_pod(cpu_pod("free", "3", 1), "b", false);
        st.pdbs.push(Arc::new(
            serde_json::from_value(
                json!({"metadata": {"namespace": "default", "name": "pdb"}, "spec": {"selector": {"matchLabels": {"app": "guarded"}}},
                "status": {"disruptionsAllowed": 0, "currentHealthy": 1, "desiredHealthy": 1, "expectedPods": 1}}),
            )
            .unwrap(),
        ));
        let plugins = default_profile();
        let big = cpu_pod("big", "2", 10);
        for _ in 0..5 {
            let diag = schedule(&plugins, &mut st, &big, &mut rand::rng()).unwrap_err();
            let c = preempt(&plugins, &st, &big, &diag).unwrap();
            assert_eq!((c.node.as_str(), c.pdb_violations), ("b", 0));
        }
    }

    #[test]
    fn preemption_sees_anti_affinity_and_spread_without_the_victims() {
        // the only node holds a low-priority pod the incoming pod's anti-affinity rejects
        let mut st = state(vec![node("a", json!({"kubernetes.io/hostname": "a"}), json!({}))]);
        st.add_pod(pod(json!({"metadata": {"name": "db-low", "labels": {"app": "db"}}, "spec": {"priority": 1}})), "a", false);
        let plugins = default_profile();
        let picky = pod(json!({"metadata": {"name": "picky"}, "spec": {"priority": 10, "affinity": {"podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app": "db"}}}]}}}}));
        let diag = schedule(&plugins, &mut st, &picky, &mut rand::rng()).unwrap_err();
        let c = preempt(&plugins, &st, &picky, &diag).unwrap();
        assert_eq!((c.node.as_str(), c.victims.iter().map(|v| v.name.as_str()).collect::<Vec<_>>()), ("a", vec!["db-low"]));

        // zones a and b; b is full of a pod that may not be preempted, a holds a low-priority
        // web pod: only without it may a new web pod go to a within maxSkew 1
        let mut st = state(vec![node("na", json!({"zone": "a"}), json!({})), node("nb", json!({"zone": "b"}), json!({}))]);
        st.add_pod(pod(json!({"metadata": {"name": "web-low", "labels": {"app": "web"}}, "spec": {"priority": 1}})), "na", false);
        st.add_pod(cpu_pod("vip", "4", 100), "nb", false);
        let web = pod(json!({"metadata": {"name": "web-new", "labels": {"app": "web"}}, "spec": {"priority": 10, "topologySpreadConstraints": [
            {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"app": "web"}}}],
            "containers": [{"name": "c", "resources": {"requests": {"cpu": "1"}}}]}}));
        let diag = schedule(&plugins, &mut st, &web, &mut rand::rng()).unwrap_err();
        let c = preempt(&plugins, &st, &web, &diag).unwrap();
        assert_eq!((c.node.as_str(), c.victims.iter().map(|v| v.name.as_str()).collect::<Vec<_>>()), ("na", vec!["web-low"]));
    }

    #[test]
    fn explains_and_preempts() {
        let mut st = state(vec![
            node("a", json!({}), json!({})),
            node("b", json!({}), json!({"taints": [{"key": "k", "value": "v", "effect": "NoSchedule"}]})),
        ]);
        st.add_pod(cpu_pod("low", "3", 1), "a", false);
        st.add_pod(cpu_pod("other", "500m", 5), "a", false);
        let plugins = default_profile();
        let big = cpu_pod("big", "2", 10);
        let diag = schedule(&plugins, &mut st, &big, &mut rand::rng()).unwrap_err();
        assert_eq!(diag.message(), "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {k: v}.");
        let c = preempt(&plugins, &st, &big, &diag).unwrap();
        assert_eq!(c.node, "a");
        let names: Vec<&str> = c.victims.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, vec!["low"]);
        // a pod of equal priority finds no victims
        let same = cpu_pod("same", "2", 1);
        let diag = schedule(&plugins, &mut st, &same, &mut rand::rng()).unwrap_err();
        let msg = preempt(&plugins, &st, &same, &diag).unwrap_err();
        assert_eq!(
            msg,
            "0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling."
        );
        let never = pod(
            json!({"metadata": {"name": "n"}, "spec": {"priority": 10, "preemptionPolicy": "Never", "containers": [{"name": "c", "resources": {"requests": {"cpu": "2"}}}]}}),
        );
        assert_eq!(preempt(&plugins, &st, &never, &diag).unwrap_err(), "not eligible due to preemptionPolicy=Never.");
    }
}

#[cfg(test)]
mod perf {
    use super::*;
    use crate::plugins::{default_profile, testutil::*};
    use serde_json::json;

    /// The decision loop alone (no API): `cargo test -p scheduler --release decisions_per_second -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn decisions_per_second() {
        let nodes = 5000;
        let pods = 5000;
        let mut st = state(
            (0..nodes)
                .map(|i| {
                    let mut n = node(
                        &format!("n{i}"),
                        json!({"kubernetes.io/hostname": format!("n{i}"), "zone": format!("z{}", i % 3)}),
                        json!({}),
                    );
                    n.status
                        .as_mut()
                        .unwrap()
                        .allocatable
                        .as_mut()
                        .unwrap()
                        .insert("memory".into(), k8s_openapi::apimachinery::pkg::api::resource::Quantity("32Gi".into()));
                    n
                })
                .collect(),
        );
        let plugins = default_profile();
        let mut rng = rand::rng();
        let t = std::time::Instant::now();
        for i in 0..pods {
            let p = pod(
                json!({"metadata": {"name": format!("p{i}")}, "spec": {"containers": [{"name": "c", "image": "pause:3.10", "resources": {"requests": {"cpu": "100m", "memory": "500Mi"}}}]}}),
            );
            let (n, _) = schedule(&plugins, &mut st, &p, &mut rng).unwrap();
            st.add_pod(p, &n, true);
        }
        let el = t.elapsed();
        println!("{pods} decisions over {nodes} nodes in {:.2} s: {:.0}/s", el.as_secs_f64(), pods as f64 / el.as_secs_f64());
    }
}
