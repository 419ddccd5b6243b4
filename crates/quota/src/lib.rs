//! Resource quota accounting (upstream's quota evaluators, k8s.io/apiserver/pkg/quota and the
//! core evaluators): what an object counts against a ResourceQuota, which quotas' scopes select
//! a pod, which resources a quota forces pods to declare, and the `name=value` lists of quota
//! error messages. The ResourceQuota admission plugin and the resourcequota controller share it.
//!
//! Pure functions over an object's JSON: it must never do I/O or keep state.

use std::collections::BTreeMap;

use serde_json::Value;

use apimachinery::quantity::Quantity;

/// Resource name → quantity.
pub type ResourceList = BTreeMap<String, Quantity>;

fn one() -> Quantity {
    Quantity::from_int(1)
}

fn add(list: &mut ResourceList, name: &str, q: Quantity) {
    let total = match list.get(name) {
        Some(cur) => cur.add(&q),
        None => q,
    };
    list.insert(name.to_string(), total);
}

fn quantities(v: Option<&Value>) -> ResourceList {
    v.and_then(Value::as_object)
        .map(|m| m.iter().filter_map(|(k, q)| Some((k.clone(), Quantity::parse(q.as_str()?).ok()?))).collect())
        .unwrap_or_default()
}

/// The `count/<resource>[.<group>]` name of a resource.
pub fn count_name(group: &str, plural: &str) -> String {
    if group.is_empty() { format!("count/{plural}") } else { format!("count/{plural}.{group}") }
}

/// Whether a pod no longer counts (Succeeded or Failed).
pub fn pod_is_terminal(pod: &Value) -> bool {
    matches!(pod.pointer("/status/phase").and_then(Value::as_str), Some("Succeeded" | "Failed"))
}

/// A pod's effective requests or limits (`field` = "requests" | "limits"): the sum over its
/// containers, at least the largest init container's, plus the pod overhead.
pub fn pod_resources(pod: &Value, field: &str) -> ResourceList {
    let spec = &pod["spec"];
    let mut sum = ResourceList::new();
    for c in spec.get("containers").and_then(Value::as_array).into_iter().flatten() {
        for (k, q) in quantities(c.pointer(&format!("/resources/{field}"))) {
            add(&mut sum, &k, q);
        }
    }
    for c in spec.get("initContainers").and_then(Value::as_array).into_iter().flatten() {
        // sidecars (restartPolicy Always) run alongside the containers
        if c.get("restartPolicy").and_then(Value::as_str) == Some("Always") {
            for (k, q) in quantities(c.pointer(&format!("/resources/{field}"))) {
                add(&mut sum, &k, q);
            }
            continue;
        }
        for (k, q) in quantities(c.pointer(&format!("/resources/{field}"))) {
            if sum.get(&k).is_none_or(|cur| q.cmp_to(cur) == std::cmp::Ordering::Greater) {
                sum.insert(k, q);
            }
        }
    }
    for (k, q) in quantities(spec.get("overhead")) {
        add(&mut sum, &k, q);
    }
    sum
}

/// What an object of `group`/`plural` uses.
pub fn usage(group: &str, plural: &str, obj: &Value) -> ResourceList {
    let mut u = ResourceList::new();
    if group.is_empty() && plural == "pods" && pod_is_terminal(obj) {
        return u;
    }
    u.insert(count_name(group, plural), one());
    if !group.is_empty() {
        return u;
    }
    match plural {
        "pods" => {
            u.insert("pods".into(), one());
            for (k, q) in pod_resources(obj, "requests") {
                if k == "cpu" || k == "memory" {
                    add(&mut u, &k, q.clone());
                }
                add(&mut u, &format!("requests.{k}"), q);
            }
            for (k, q) in pod_resources(obj, "limits") {
                add(&mut u, &format!("limits.{k}"), q);
            }
        }
        "services" => {
            u.insert("services".into(), one());
            let ty = obj.pointer("/spec/type").and_then(Value::as_str).unwrap_or("ClusterIP");
            if ty == "LoadBalancer" {
                u.insert("services.loadbalancers".into(), one());
            }
            if ty == "NodePort" || ty == "LoadBalancer" {
                let n = obj.pointer("/spec/ports").and_then(Value::as_array).map(|p| p.len()).unwrap_or(0);
                u.insert("services.nodeports".into(), Quantity::from_int(n as i64));
            }
        }
        "persistentvolumeclaims" => {
            u.insert("persistentvolumeclaims".into(), one());
            let storage = obj.pointer("/spec/resources/requests/storage").and_then(Value::as_str).and_then(|s| Quantity::parse(s).ok());
            if let Some(s) = &storage {
                u.insert("requests.storage".into(), s.clone());
            }
            if let Some(class) = obj.pointer("/spec/storageClassName").and_then(Value::as_str) {
                u.insert(format!("{class}.storageclass.storage.k8s.io/persistentvolumeclaims"), one());
                if let Some(s) = storage {
                    u.insert(format!("{class}.storageclass.storage.k8s.io/requests.storage"), s);
                }
            }
        }
        "configmaps" | "secrets" | "replicationcontrollers" | "resourcequotas" => {
            u.insert(plural.to_string(), one());
        }
        _ => {}
    }
    u
}

/// Whether a quota with these scopes (and `scopeSelector` expressions) applies to an object.
/// Scopes select pods only; a scoped quota ignores other kinds.
pub fn scopes_match(quota_spec: &Value, group: &str, plural: &str, obj: &Value) -> bool {
    let mut scopes: Vec<(String, String, Vec<String>)> = quota_spec
        .get("scopes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(|s| (s.to_string(), "Exists".to_string(), vec![])))
        .collect();
    for e in quota_spec.pointer("/scopeSelector/matchExpressions").and_then(Value::as_array).into_iter().flatten() {
        let vals = e.get("values").and_then(Value::as_array).map(|v| v.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default();
        scopes.push((
            e.get("scopeName").and_then(Value::as_str).unwrap_or("").to_string(),
            e.get("operator").and_then(Value::as_str).unwrap_or("").to_string(),
            vals,
        ));
    }
    if scopes.is_empty() {
        return true;
    }
    if !(group.is_empty() && plural == "pods") {
        return false;
    }
    let terminating = obj.pointer("/spec/activeDeadlineSeconds").is_some_and(|v| !v.is_null());
    let best_effort = ["requests", "limits"].iter().all(|f| pod_resources(obj, f).is_empty());
    let priority = obj.pointer("/spec/priorityClassName").and_then(Value::as_str).unwrap_or("");
    scopes.iter().all(|(scope, op, vals)| match scope.as_str() {
        "Terminating" => terminating,
        "NotTerminating" => !terminating,
        "BestEffort" => best_effort,
        "NotBestEffort" => !best_effort,
        "PriorityClass" => match op.as_str() {
            "In" => vals.iter().any(|v| v == priority),
            "NotIn" => !vals.iter().any(|v| v == priority),
            "Exists" => !priority.is_empty(),
            "DoesNotExist" => priority.is_empty(),
            _ => false,
        },
        _ => false,
    })
}

/// The compute resources a quota forces every container to declare.
const REQUIRED_PER_CONTAINER: &[(&str, &str, &str)] = &[
    ("cpu", "requests", "cpu"),
    ("requests.cpu", "requests", "cpu"),
    ("memory", "requests", "memory"),
    ("requests.memory", "requests", "memory"),
    ("limits.cpu", "limits", "cpu"),
    ("limits.memory", "limits", "memory"),
];

/// Upstream's pod constraint: when a quota limits cpu or memory, every container must declare
/// it. Returns upstream's message (`must specify limits.cpu for: a,b; requests.memory for: a`).
pub fn missing_required(hard: &ResourceList, pod: &Value) -> Option<String> {
    let mut missing: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let spec = &pod["spec"];
    let containers = ["containers", "initContainers"].iter().flat_map(|k| spec.get(*k).and_then(Value::as_array).cloned().unwrap_or_default());
    for c in containers {
        let name = c.get("name").and_then(Value::as_str).unwrap_or("").to_string();
        for (quota_name, field, res) in REQUIRED_PER_CONTAINER {
            if hard.contains_key(*quota_name) && c.pointer(&format!("/resources/{field}/{res}")).is_none() {
                let names = missing.entry(quota_name).or_default();
                if !names.contains(&name) {
                    names.push(name.clone());
                }
            }
        }
    }
    if missing.is_empty() {
        return None;
    }
    let mut parts: Vec<String> = missing
        .into_iter()
        .map(|(r, mut names)| {
            names.sort();
            format!("{r} for: {}", names.join(","))
        })
        .collect();
    parts.sort();
    Some(format!("must specify {}", parts.join("; ")))
}

/// `a=1,b=2Gi` (sorted), as quota messages print resource lists.
pub fn pretty(list: &ResourceList) -> String {
    list.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
}

/// Parses a `hard`/`used` map of a ResourceQuota.
pub fn parse_list(v: Option<&Value>) -> ResourceList {
    quantities(v)
}

/// A resource list as JSON (canonical quantities).
pub fn to_json(list: &ResourceList) -> Value {
    Value::Object(list.iter().map(|(k, v)| (k.clone(), Value::String(v.to_string()))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(containers: Value) -> Value {
        json!({"spec": {"containers": containers}})
    }

    #[test]
    fn pod_usage_sums_containers_and_respects_init_and_phase() {
        let p = json!({"spec": {
            "containers": [
                {"name": "a", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "1"}}},
                {"name": "b", "resources": {"requests": {"cpu": "250m"}}}],
            "initContainers": [{"name": "i", "resources": {"requests": {"cpu": "2"}}}]}});
        let u = usage("", "pods", &p);
        assert_eq!(u["pods"].to_string(), "1");
        assert_eq!(u["count/pods"].to_string(), "1");
        assert_eq!(u["requests.cpu"].to_string(), "2", "the init container's request dominates");
        assert_eq!(u["cpu"].to_string(), "2");
        assert_eq!(u["requests.memory"].to_string(), "64Mi");
        assert_eq!(u["limits.cpu"].to_string(), "1");
        let mut done = p.clone();
        done["status"] = json!({"phase": "Succeeded"});
        assert!(usage("", "pods", &done).is_empty());
        let small = pod(json!([{"name": "a", "resources": {"requests": {"cpu": "100m"}}}, {"name": "b", "resources": {"requests": {"cpu": "150m"}}}]));
        assert_eq!(usage("", "pods", &small)["requests.cpu"].to_string(), "250m");
    }

    #[test]
    fn other_kinds() {
        let svc = json!({"spec": {"type": "NodePort", "ports": [{"port": 80}, {"port": 443}]}});
        let u = usage("", "services", &svc);
        assert_eq!(u["services.nodeports"].to_string(), "2");
        assert!(!u.contains_key("services.loadbalancers"));
        let pvc = json!({"spec": {"storageClassName": "fast", "resources": {"requests": {"storage": "5Gi"}}}});
        let u = usage("", "persistentvolumeclaims", &pvc);
        assert_eq!(u["requests.storage"].to_string(), "5Gi");
        assert_eq!(u["fast.storageclass.storage.k8s.io/requests.storage"].to_string(), "5Gi");
        assert_eq!(usage("apps", "deployments", &json!({}))["count/deployments.apps"].to_string(), "1");
    }

    #[test]
    fn scopes_and_required_resources() {
        let be = pod(json!([{"name": "a"}]));
        let nbe = pod(json!([{"name": "a", "resources": {"requests": {"cpu": "1"}}}]));
        assert!(scopes_match(&json!({"scopes": ["BestEffort"]}), "", "pods", &be));
        assert!(!scopes_match(&json!({"scopes": ["BestEffort"]}), "", "pods", &nbe));
        assert!(scopes_match(&json!({"scopes": ["NotBestEffort", "NotTerminating"]}), "", "pods", &nbe));
        assert!(!scopes_match(&json!({"scopes": ["BestEffort"]}), "", "configmaps", &json!({})));
        assert!(scopes_match(&json!({}), "", "configmaps", &json!({})));
        let hard: ResourceList = [("limits.cpu".to_string(), Quantity::from_int(2)), ("requests.memory".to_string(), Quantity::from_int(1))].into();
        let p = pod(json!([{"name": "web", "resources": {"limits": {"cpu": "1"}}}, {"name": "db"}]));
        assert_eq!(missing_required(&hard, &p).unwrap(), "must specify limits.cpu for: db; requests.memory for: db,web");
        let mut list = ResourceList::new();
        list.insert("pods".into(), Quantity::from_int(3));
        list.insert("configmaps".into(), Quantity::from_int(1));
        assert_eq!(pretty(&list), "configmaps=1,pods=3");
    }

    #[test]
    fn quantities_add_exactly() {
        let a = Quantity::parse("100m").unwrap();
        let b = Quantity::parse("1").unwrap();
        assert_eq!(a.add(&b).to_string(), "1100m");
        assert_eq!(Quantity::parse("1Gi").unwrap().add(&Quantity::parse("1Gi").unwrap()).to_string(), "2Gi");
        assert_eq!(b.sub(&a).to_string(), "900m");
    }
}
