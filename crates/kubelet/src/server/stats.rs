//! `/stats/summary`: the node's CPU and memory (from `/proc` and the root cgroups), its
//! filesystems (the kubelet's directory and the runtime's image filesystem, by statvfs), process
//! count and network (the default route's interface), and for each pod its containers' CPU,
//! memory and writable-layer use (CRI `ListContainerStats`) with their log files, its emptyDir
//! volumes, and its network (the sandbox's `/proc/<pid>/net/dev`), in upstream's
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

/// statvfs of `path` as a Summary `FsStats`.
fn fs_json(path: &std::path::Path, now: &str) -> Value {
    match rustix::fs::statvfs(path) {
        Ok(s) => {
            let frsize = if s.f_frsize > 0 { s.f_frsize } else { s.f_bsize };
            json!({
                "time": now,
                "availableBytes": s.f_bavail * frsize,
                "capacityBytes": s.f_blocks * frsize,
                "usedBytes": (s.f_blocks - s.f_bfree) * frsize,
                "inodesFree": s.f_ffree,
                "inodes": s.f_files,
                "inodesUsed": s.f_files.saturating_sub(s.f_ffree),
            })
        }
        Err(_) => json!({"time": now}),
    }
}

/// Bytes and inodes under `path` (not following links, not crossing into other filesystems).
fn dir_usage(path: &std::path::Path) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let Ok(top) = std::fs::symlink_metadata(path) else { return (0, 0) };
    let dev = top.dev();
    let (mut bytes, mut inodes) = (0u64, 0u64);
    let mut stack = vec![path.to_path_buf()];
    while let Some(p) = stack.pop() {
        let Ok(m) = std::fs::symlink_metadata(&p) else { continue };
        if m.dev() != dev {
            continue;
        }
        bytes += m.blocks() * 512;
        inodes += 1;
        if m.is_dir()
            && let Ok(rd) = std::fs::read_dir(&p)
        {
            stack.extend(rd.flatten().map(|e| e.path()));
        }
    }
    (bytes, inodes)
}

/// The interfaces of a `/proc/<pid>/net/dev` table: name, rx bytes, rx errors, tx bytes, tx errors.
fn net_dev(text: &str) -> Vec<(String, u64, u64, u64, u64)> {
    text.lines()
        .skip(2)
        .filter_map(|l| {
            let (name, rest) = l.split_once(':')?;
            let f: Vec<u64> = rest.split_whitespace().filter_map(|v| v.parse().ok()).collect();
            (f.len() >= 11).then(|| (name.trim().to_string(), f[0], f[2], f[8], f[10]))
        })
        .collect()
}

/// Summary `NetworkStats` for `interfaces`, the first being the default one.
fn network_json(interfaces: &[(String, u64, u64, u64, u64)], default: &str, now: &str) -> Value {
    let one = |(name, rx, rxe, tx, txe): &(String, u64, u64, u64, u64)| json!({"name": name, "rxBytes": rx, "rxErrors": rxe, "txBytes": tx, "txErrors": txe});
    let mut v = interfaces.iter().find(|i| i.0 == default).map(one).unwrap_or_else(|| json!({}));
    v["time"] = json!(now);
    v["interfaces"] = Value::Array(interfaces.iter().filter(|i| i.0 != "lo").map(one).collect());
    v
}

/// The interface of the host's default route (`/proc/net/route`, destination 0).
fn default_interface() -> Option<String> {
    let text = std::fs::read_to_string("/proc/net/route").ok()?;
    text.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.get(1) == Some(&"00000000")).then(|| f[0].to_string())
    })
}

/// The sandbox's process id, from the runtime's verbose status.
async fn sandbox_pid(rt: &cri::Runtime, id: &str) -> Option<u64> {
    let status = rt.runtime.clone().pod_sandbox_status(api::PodSandboxStatusRequest { pod_sandbox_id: id.to_string(), verbose: true }).await.ok()?.into_inner();
    let info: Value = serde_json::from_str(status.info.get("info")?).ok()?;
    info["pid"].as_u64().filter(|p| *p > 0)
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
        if let Some(w) = &s.writable_layer {
            c["rootfs"] = json!({"time": time(w.timestamp), "usedBytes": uint(&w.used_bytes), "inodesUsed": uint(&w.inodes_used)});
        }
        let (log_bytes, log_inodes) = dir_usage(&ctx.agent_dir.join("pod-logs").join(format!("{}_{}_{}", key.0, key.1, key.2)).join(&name));
        c["logs"] = json!({"time": now, "usedBytes": log_bytes, "inodesUsed": log_inodes});
        pods.entry(key).or_default().push(c);
    }
    // each pod's network, read in its sandbox's network namespace
    let sandboxes = ctx.runtime.runtime.clone().list_pod_sandbox(api::ListPodSandboxRequest { filter: None }).await?.into_inner().items;
    let mut networks: BTreeMap<String, Value> = BTreeMap::new();
    for sb in sandboxes.iter().filter(|s| s.state == api::PodSandboxState::SandboxReady as i32) {
        let Some(uid) = sb.labels.get(POD_UID) else { continue };
        if let Some(pid) = sandbox_pid(&ctx.runtime, &sb.id).await
            && let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/net/dev"))
        {
            networks.insert(uid.clone(), network_json(&net_dev(&text), "eth0", &now));
        }
    }
    let pods: Vec<Value> = pods
        .into_iter()
        .map(|((namespace, name, uid), containers)| {
            let sum = |section: &str, field: &str| -> u64 { containers.iter().filter_map(|c| c[section][field].as_u64()).sum() };
            // the pod's emptyDir volumes on the node's disk
            let empty_dirs = ctx.agent_dir.join("pods").join(&uid).join("volumes").join("kubernetes.io~empty-dir");
            let volumes: Vec<Value> = std::fs::read_dir(&empty_dirs)
                .map(|rd| {
                    rd.flatten()
                        .map(|e| {
                            let (b, i) = dir_usage(&e.path());
                            json!({"time": now, "name": e.file_name().to_string_lossy(), "usedBytes": b, "inodesUsed": i})
                        })
                        .collect()
                })
                .unwrap_or_default();
            let ephemeral = sum("rootfs", "usedBytes") + sum("logs", "usedBytes") + volumes.iter().filter_map(|v| v["usedBytes"].as_u64()).sum::<u64>();
            let mut pod = json!({
                "podRef": {"name": name, "namespace": namespace, "uid": uid},
                "cpu": {"time": now, "usageNanoCores": sum("cpu", "usageNanoCores"), "usageCoreNanoSeconds": sum("cpu", "usageCoreNanoSeconds")},
                "memory": {"time": now, "usageBytes": sum("memory", "usageBytes"), "workingSetBytes": sum("memory", "workingSetBytes"), "rssBytes": sum("memory", "rssBytes")},
                "ephemeral-storage": {"time": now, "usedBytes": ephemeral},
                "volume": volumes,
                "containers": containers,
            });
            if let Some(n) = networks.remove(&uid) {
                pod["network"] = n;
            }
            pod
        })
        .collect();
    let host_net = std::fs::read_to_string("/proc/net/dev").map(|t| net_dev(&t)).unwrap_or_default();
    let processes = std::fs::read_dir("/proc").map(|rd| rd.flatten().filter(|e| e.file_name().to_string_lossy().bytes().all(|b| b.is_ascii_digit())).count()).unwrap_or(0);
    let containerd_root = ctx.agent_dir.join("containerd").join("root");
    let image_fs_dir = if containerd_root.exists() { containerd_root } else { ctx.agent_dir.clone() };
    Ok(json!({
        "node": {
            "nodeName": ctx.node_name,
            "cpu": {"time": now, "usageNanoCores": nano_cores, "usageCoreNanoSeconds": cpu_total},
            "memory": {"time": now, "availableBytes": available, "usageBytes": usage, "workingSetBytes": working_set},
            "network": network_json(&host_net, &default_interface().unwrap_or_default(), &now),
            "fs": fs_json(&ctx.agent_dir, &now),
            "runtime": {"imageFs": fs_json(&image_fs_dir, &now)},
            "rlimit": {"time": now, "maxpid": read_u64("/proc/sys/kernel/pid_max"), "curproc": processes},
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
        let fs = fs_json(std::path::Path::new("/"), "t");
        assert!(fs["capacityBytes"].as_u64().is_some_and(|c| c > 0) && fs["inodes"].as_u64().is_some());
    }

    #[test]
    fn net_dev_tables_parse() {
        let text = "Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0\n  eth0:    5000      10    2    0    0     0          0         0     7000      12    3    0    0     0       0          0\n";
        let t = net_dev(text);
        assert_eq!(t, [("lo".to_string(), 100, 0, 100, 0), ("eth0".to_string(), 5000, 2, 7000, 3)]);
        let v = network_json(&t, "eth0", "now");
        assert_eq!((v["name"].as_str(), v["rxBytes"].as_u64(), v["txErrors"].as_u64()), (Some("eth0"), Some(5000), Some(3)));
        assert_eq!(v["interfaces"].as_array().map(Vec::len), Some(1), "loopback is not listed");
    }

    #[test]
    fn directory_usage_counts_files_and_directories() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("sub")).unwrap();
        std::fs::write(d.path().join("sub/f"), vec![1u8; 10_000]).unwrap();
        let (bytes, inodes) = dir_usage(d.path());
        assert_eq!(inodes, 3);
        assert!(bytes >= 10_000, "{bytes}");
        assert_eq!(dir_usage(&d.path().join("missing")), (0, 0));
    }
}
