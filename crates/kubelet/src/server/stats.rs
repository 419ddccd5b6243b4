//! `/stats/summary`: the node's CPU and memory (from `/proc` and the root cgroups) and each
//! container's (from CRI `ListContainerStats`), grouped by pod, in upstream's
//! `stats/v1alpha1` Summary shape.

use std::collections::BTreeMap;
use std::time::Instant;

use cri::api;
use parking_lot::Mutex;
use serde_json::{Value, json};

use super::{CONTAINER_NAME, POD_NAME, POD_NAMESPACE, POD_UID, ServerContext};

/// The previous reading of the node's CPU time, to turn two readings into a rate.
#[derive(Default)]
pub(crate) struct CpuSamples(Mutex<Option<(Instant, u64)>>);

fn read_u64(path: &str) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Total CPU time of the node in nanoseconds: the root cpuacct cgroup (v1), else `/proc/stat`.
fn node_cpu_nanos() -> Option<u64> {
    if let Some(n) = read_u64("/sys/fs/cgroup/cpuacct/cpuacct.usage") {
        return Some(n);
    }
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let f: Vec<u64> = line.split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
    // user nice system (idle iowait excluded) irq softirq steal, in USER_HZ (100/s)
    let busy: u64 = [0usize, 1, 2, 5, 6, 7].iter().filter_map(|i| f.get(*i)).sum();
    Some(busy * 10_000_000)
}

fn meminfo(key: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with(key) && l[key.len()..].starts_with(':'))?;
    line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kb| kb * 1024)
}

fn uint(v: &Option<api::UInt64Value>) -> Option<u64> {
    v.as_ref().map(|v| v.value)
}

fn time(nanos: i64) -> String {
    jiff::Timestamp::from_nanosecond(nanos as i128).unwrap_or_else(|_| jiff::Timestamp::now()).to_string()
}

fn cpu_json(c: &api::CpuUsage) -> Value {
    json!({"time": time(c.timestamp), "usageNanoCores": uint(&c.usage_nano_cores), "usageCoreNanoSeconds": uint(&c.usage_core_nano_seconds)})
}

fn memory_json(m: &api::MemoryUsage) -> Value {
    json!({
        "time": time(m.timestamp),
        "availableBytes": uint(&m.available_bytes),
        "usageBytes": uint(&m.usage_bytes),
        "workingSetBytes": uint(&m.working_set_bytes),
        "rssBytes": uint(&m.rss_bytes),
        "pageFaults": uint(&m.page_faults),
        "majorPageFaults": uint(&m.major_page_faults),
    })
}

/// The summary document.
pub(crate) async fn summary(ctx: &ServerContext, samples: &CpuSamples) -> Result<Value, tonic::Status> {
    let now = jiff::Timestamp::now().to_string();
    let cpu_total = node_cpu_nanos();
    let nano_cores = cpu_total.and_then(|total| {
        let t = Instant::now();
        let prev = samples.0.lock().replace((t, total));
        prev.and_then(|(pt, pv)| {
            let dt = t.duration_since(pt).as_nanos() as u64;
            (dt > 0 && total >= pv).then(|| ((total - pv) as u128 * 1_000_000_000 / dt as u128) as u64)
        })
    });
    let capacity = meminfo("MemTotal");
    let usage = read_u64("/sys/fs/cgroup/memory/memory.usage_in_bytes").or_else(|| Some(capacity? - meminfo("MemFree")?));
    let inactive_file = std::fs::read_to_string("/sys/fs/cgroup/memory/memory.stat")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("total_inactive_file ").and_then(|v| v.trim().parse::<u64>().ok())))
        .unwrap_or(0);
    let working_set = usage.map(|u| u.saturating_sub(inactive_file));
    let available = capacity.zip(working_set).map(|(c, w)| c.saturating_sub(w));
    let stats = ctx.runtime.runtime.clone().list_container_stats(api::ListContainerStatsRequest { filter: None }).await?.into_inner().stats;
    let mut pods: BTreeMap<(String, String, String), Vec<Value>> = BTreeMap::new();
    for s in &stats {
        let Some(a) = &s.attributes else { continue };
        let label = |k: &str| a.labels.get(k).cloned().unwrap_or_default();
        let key = (label(POD_NAMESPACE), label(POD_NAME), label(POD_UID));
        let name = a.labels.get(CONTAINER_NAME).cloned().or_else(|| a.metadata.as_ref().map(|m| m.name.clone())).unwrap_or_default();
        let mut c = json!({"name": name});
        if let Some(cpu) = &s.cpu {
            c["cpu"] = cpu_json(cpu);
        }
        if let Some(m) = &s.memory {
            c["memory"] = memory_json(m);
        }
        pods.entry(key).or_default().push(c);
    }
    let pods: Vec<Value> = pods
        .into_iter()
        .map(|((namespace, name, uid), containers)| {
            let sum = |section: &str, field: &str| -> u64 { containers.iter().filter_map(|c| c[section][field].as_u64()).sum() };
            json!({
                "podRef": {"name": name, "namespace": namespace, "uid": uid},
                "cpu": {"time": now, "usageNanoCores": sum("cpu", "usageNanoCores"), "usageCoreNanoSeconds": sum("cpu", "usageCoreNanoSeconds")},
                "memory": {"time": now, "usageBytes": sum("memory", "usageBytes"), "workingSetBytes": sum("memory", "workingSetBytes"), "rssBytes": sum("memory", "rssBytes")},
                "containers": containers,
            })
        })
        .collect();
    Ok(json!({
        "node": {
            "nodeName": ctx.node_name,
            "cpu": {"time": now, "usageNanoCores": nano_cores, "usageCoreNanoSeconds": cpu_total},
            "memory": {"time": now, "availableBytes": available, "usageBytes": usage, "workingSetBytes": working_set},
        },
        "pods": pods,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_readings_exist_here() {
        assert!(node_cpu_nanos().is_some_and(|n| n > 0));
        assert!(meminfo("MemTotal").is_some_and(|n| n > 1 << 20));
        assert!(meminfo("Mem").is_none());
    }
}
