//! Pod cgroups (the cgroupfs driver): `/kubepods[/burstable|/besteffort]/pod<uid>` in every
//! cgroup v1 hierarchy (or the unified v2 tree), with the pod's memory limit, CPU shares and
//! quota. The runtime creates each container's cgroup beneath the pod's (CRI `cgroup_parent`);
//! nothing else removes empty pod cgroups, so the kubelet does when the pod is gone.

use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::{Container, Pod};

use crate::quantity;

/// A pod's quality-of-service class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Qos {
    /// Every container has equal requests and limits for cpu and memory.
    Guaranteed,
    /// Something is requested or limited.
    Burstable,
    /// Nothing is requested or limited.
    BestEffort,
}

impl Qos {
    /// As `status.qosClass` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Qos::Guaranteed => "Guaranteed",
            Qos::Burstable => "Burstable",
            Qos::BestEffort => "BestEffort",
        }
    }
}

fn all_containers(pod: &Pod) -> impl Iterator<Item = &Container> {
    let spec = pod.spec.as_ref();
    spec.into_iter().flat_map(|s| s.init_containers.iter().flatten().chain(s.containers.iter()))
}

/// The QoS class as upstream computes it (from requests and limits of cpu and memory).
pub fn qos(pod: &Pod) -> Qos {
    let mut any = false;
    let mut guaranteed = true;
    for c in all_containers(pod) {
        let r = c.resources.as_ref();
        let req = r.and_then(|r| r.requests.as_ref());
        let lim = r.and_then(|r| r.limits.as_ref());
        for res in ["cpu", "memory"] {
            let rq = req.and_then(|m| m.get(res)).and_then(|q| quantity::parse(&q.0)).filter(|v| *v > 0.0);
            let lm = lim.and_then(|m| m.get(res)).and_then(|q| quantity::parse(&q.0)).filter(|v| *v > 0.0);
            if rq.is_some() || lm.is_some() {
                any = true;
            }
            // requests default to limits, so only a missing limit or a differing request breaks it
            match (rq, lm) {
                (_, None) => guaranteed = false,
                (Some(a), Some(b)) if (a - b).abs() > f64::EPSILON => guaranteed = false,
                _ => {}
            }
        }
    }
    if !any {
        Qos::BestEffort
    } else if guaranteed {
        Qos::Guaranteed
    } else {
        Qos::Burstable
    }
}

/// The pod cgroup's path below each hierarchy's root.
pub fn pod_cgroup(pod_uid: &str, qos: Qos) -> String {
    match qos {
        Qos::Guaranteed => format!("/kubepods/pod{pod_uid}"),
        Qos::Burstable => format!("/kubepods/burstable/pod{pod_uid}"),
        Qos::BestEffort => format!("/kubepods/besteffort/pod{pod_uid}"),
    }
}

/// The limits written on a pod cgroup.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PodLimits {
    /// Memory limit, bytes, when every container has one.
    pub memory: Option<u64>,
    /// CPU shares from requests (2 when none).
    pub cpu_shares: u64,
    /// CFS quota, microseconds per 100 ms period, when every container has a CPU limit.
    pub cpu_quota: Option<u64>,
}

/// Sums the pod's app containers (and the largest init container) as upstream's pod-level limits.
pub fn pod_limits(pod: &Pod) -> PodLimits {
    let Some(spec) = pod.spec.as_ref() else { return PodLimits::default() };
    let get = |c: &Container, kind: &str, res: &str| -> Option<f64> {
        let r = c.resources.as_ref()?;
        let m = if kind == "limits" { r.limits.as_ref() } else { r.requests.as_ref().or(r.limits.as_ref()) }?;
        quantity::parse(&m.get(res).or_else(|| if kind == "requests" { r.limits.as_ref()?.get(res) } else { None })?.0)
    };
    let sum = |kind: &str, res: &str| -> Option<f64> {
        let mut total = 0.0;
        for c in &spec.containers {
            total += get(c, kind, res)?;
        }
        let init = spec.init_containers.iter().flatten().map(|c| get(c, kind, res)).try_fold(0.0f64, |m, v| v.map(|v| m.max(v)))?;
        Some(total.max(init))
    };
    let cpu_req = spec.containers.iter().filter_map(|c| get(c, "requests", "cpu")).sum::<f64>();
    PodLimits {
        memory: sum("limits", "memory").map(|v| v as u64),
        cpu_shares: ((cpu_req * 1024.0) as u64).max(2),
        cpu_quota: sum("limits", "cpu").map(|v| ((v * 100_000.0) as u64).max(1000)),
    }
}

/// The cgroup filesystem of the machine.
#[derive(Clone, Debug)]
pub struct Cgroups {
    root: PathBuf,
    /// v1 hierarchies (directories under the root that are mounts, not symlinks); empty on v2.
    hierarchies: Vec<PathBuf>,
    unified: bool,
}

impl Cgroups {
    /// Looks at `/sys/fs/cgroup`.
    pub fn detect() -> Cgroups {
        Cgroups::at(Path::new("/sys/fs/cgroup"))
    }

    /// Looks at a cgroup root.
    pub fn at(root: &Path) -> Cgroups {
        let unified = root.join("cgroup.controllers").exists();
        let mut hierarchies = Vec::new();
        if !unified && let Ok(rd) = std::fs::read_dir(root) {
            for e in rd.flatten() {
                let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
                let name = e.file_name().to_string_lossy().into_owned();
                // "unified" is an empty cgroup2 mount beside the v1 ones: runc does not use it
                if is_dir && name != "unified" {
                    hierarchies.push(e.path());
                }
            }
        }
        hierarchies.sort();
        Cgroups { root: root.to_path_buf(), hierarchies, unified }
    }

    fn dirs(&self, cgroup: &str) -> Vec<PathBuf> {
        let rel = cgroup.trim_start_matches('/');
        if self.unified { vec![self.root.join(rel)] } else { self.hierarchies.iter().map(|h| h.join(rel)).collect() }
    }

    /// Creates the pod's cgroup in every hierarchy and writes its limits. Idempotent.
    pub fn ensure_pod(&self, cgroup: &str, limits: &PodLimits) -> std::io::Result<()> {
        for dir in self.dirs(cgroup) {
            create_with_parents(&dir)?;
        }
        if self.unified {
            let d = self.root.join(cgroup.trim_start_matches('/'));
            if let Some(m) = limits.memory {
                let _ = std::fs::write(d.join("memory.max"), m.to_string());
            }
            let weight = 1 + ((limits.cpu_shares.saturating_sub(2)) * 9999) / 262142;
            let _ = std::fs::write(d.join("cpu.weight"), weight.to_string());
            if let Some(q) = limits.cpu_quota {
                let _ = std::fs::write(d.join("cpu.max"), format!("{q} 100000"));
            }
            return Ok(());
        }
        for dir in self.dirs(cgroup) {
            let name = dir.strip_prefix(&self.root).ok().and_then(|p| p.components().next()).map(|c| c.as_os_str().to_string_lossy().into_owned()).unwrap_or_default();
            let controllers: Vec<&str> = name.split(',').collect();
            if controllers.contains(&"memory")
                && let Some(m) = limits.memory
            {
                std::fs::write(dir.join("memory.limit_in_bytes"), m.to_string())?;
            }
            if controllers.contains(&"cpu") {
                std::fs::write(dir.join("cpu.shares"), limits.cpu_shares.to_string())?;
                if let Some(q) = limits.cpu_quota {
                    std::fs::write(dir.join("cpu.cfs_period_us"), "100000")?;
                    std::fs::write(dir.join("cpu.cfs_quota_us"), q.to_string())?;
                }
            }
        }
        Ok(())
    }

    /// Whether the pod's cgroup exists anywhere.
    pub fn exists(&self, cgroup: &str) -> bool {
        self.dirs(cgroup).iter().any(|d| d.exists())
    }

    /// Removes the pod's cgroup (its container cgroups first, which the runtime should already
    /// have removed). Fails with EBUSY while processes remain.
    pub fn remove_pod(&self, cgroup: &str) -> std::io::Result<()> {
        let mut last = Ok(());
        let mut dirs = self.dirs(cgroup);
        if !self.unified {
            // in hybrid mode runc also creates the container's cgroup (and so the pod's) in the
            // controller-less cgroup2 tree beside the v1 hierarchies
            dirs.push(self.root.join("unified").join(cgroup.trim_start_matches('/')));
        }
        for dir in dirs {
            if let Err(e) = remove_tree(&dir) {
                last = Err(e);
            }
        }
        last
    }

    /// The highest memory use the cgroup has seen (v1 `memory.max_usage_in_bytes`, v2 `memory.peak`).
    pub fn peak_memory(&self, cgroup: &str) -> Option<u64> {
        let rel = cgroup.trim_start_matches('/');
        let (dir, file) = if self.unified { (self.root.join(rel), "memory.peak") } else { (self.root.join("memory").join(rel), "memory.max_usage_in_bytes") };
        std::fs::read_to_string(dir.join(file)).ok()?.trim().parse().ok()
    }

    /// Resets the cgroup's memory peak to its current use (v1 `memory.max_usage_in_bytes`; v2
    /// `memory.peak` where the kernel allows it). Best effort.
    pub fn reset_peak_memory(&self, cgroup: &str) {
        let rel = cgroup.trim_start_matches('/');
        let (dir, file) = if self.unified { (self.root.join(rel), "memory.peak") } else { (self.root.join("memory").join(rel), "memory.max_usage_in_bytes") };
        if let Err(e) = std::fs::write(dir.join(file), "0") {
            tracing::debug!(cgroup = %cgroup, error = %e, "resetting the memory peak");
        }
    }

    /// The memory cgroup's OOM kill count and failcnt for a container cgroup path (v1), for
    /// inferring OOMKilled (containerd here does not report it).
    pub fn oom_evidence(&self, cgroup: &str) -> bool {
        let rel = cgroup.trim_start_matches('/');
        let mem = if self.unified { self.root.join(rel) } else { self.root.join("memory").join(rel) };
        let oom_kill = std::fs::read_to_string(mem.join("memory.oom_control"))
            .ok()
            .and_then(|s| s.lines().find_map(|l| l.strip_prefix("oom_kill ").and_then(|n| n.trim().parse::<u64>().ok())))
            .unwrap_or(0);
        let events = std::fs::read_to_string(mem.join("memory.events"))
            .ok()
            .and_then(|s| s.lines().find_map(|l| l.strip_prefix("oom_kill ").and_then(|n| n.trim().parse::<u64>().ok())))
            .unwrap_or(0);
        oom_kill > 0 || events > 0
    }
}

fn create_with_parents(dir: &Path) -> std::io::Result<()> {
    if dir.exists() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_with_parents(parent)?;
    }
    match std::fs::create_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(()),
        Err(e) => return Err(e),
    }
    // a new cpuset cgroup is unusable until it has cpus and mems: copy the parent's
    if dir.join("cpuset.cpus").exists()
        && let Some(parent) = dir.parent()
    {
        for f in ["cpuset.cpus", "cpuset.mems"] {
            if let Ok(v) = std::fs::read_to_string(parent.join(f)) {
                let _ = std::fs::write(dir.join(f), v.trim());
            }
        }
    }
    Ok(())
}

fn remove_tree(dir: &Path) -> std::io::Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                remove_tree(&e.path())?;
            }
        }
    }
    std::fs::remove_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(containers: serde_json::Value) -> Pod {
        serde_json::from_value(serde_json::json!({"metadata": {"uid": "u"}, "spec": {"containers": containers}})).unwrap()
    }

    #[test]
    fn qos_classes() {
        assert_eq!(qos(&pod(serde_json::json!([{"name": "a"}]))), Qos::BestEffort);
        let g = pod(serde_json::json!([{"name": "a", "resources": {"limits": {"cpu": "1", "memory": "64Mi"}}}]));
        assert_eq!(qos(&g), Qos::Guaranteed);
        let b = pod(serde_json::json!([{"name": "a", "resources": {"requests": {"memory": "64Mi"}}}]));
        assert_eq!(qos(&b), Qos::Burstable);
        let b2 = pod(serde_json::json!([{"name": "a", "resources": {"requests": {"cpu": "500m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "64Mi"}}}]));
        assert_eq!(qos(&b2), Qos::Burstable);
        assert_eq!(pod_cgroup("u", Qos::Burstable), "/kubepods/burstable/podu");
        assert_eq!(pod_cgroup("u", Qos::Guaranteed), "/kubepods/podu");
    }

    #[test]
    fn limits_sum_containers() {
        let p = pod(serde_json::json!([
            {"name": "a", "resources": {"limits": {"cpu": "500m", "memory": "64Mi"}}},
            {"name": "b", "resources": {"limits": {"cpu": "250m", "memory": "32Mi"}}}
        ]));
        let l = pod_limits(&p);
        assert_eq!(l.memory, Some(96 << 20));
        assert_eq!(l.cpu_quota, Some(75_000));
        assert_eq!(l.cpu_shares, 768);
        let none = pod_limits(&pod(serde_json::json!([{"name": "a"}, {"name": "b", "resources": {"limits": {"memory": "1Mi"}}}])));
        assert_eq!(none.memory, None, "one container without a limit leaves the pod unlimited");
        assert_eq!(none.cpu_shares, 2);
    }

    #[test]
    fn v1_tree_is_created_and_removed() {
        let d = tempfile::tempdir().unwrap();
        for h in ["memory", "cpu,cpuacct", "pids"] {
            std::fs::create_dir_all(d.path().join(h)).unwrap();
        }
        let cg = Cgroups::at(d.path());
        let path = pod_cgroup("x", Qos::Burstable);
        cg.ensure_pod(&path, &PodLimits { memory: Some(1 << 20), cpu_shares: 512, cpu_quota: Some(50_000) }).unwrap();
        assert_eq!(std::fs::read_to_string(d.path().join("memory/kubepods/burstable/podx/memory.limit_in_bytes")).unwrap(), "1048576");
        assert_eq!(std::fs::read_to_string(d.path().join("cpu,cpuacct/kubepods/burstable/podx/cpu.cfs_quota_us")).unwrap(), "50000");
        assert!(cg.exists(&path));
        // runc's directories in the hybrid cgroup2 tree go too
        std::fs::create_dir_all(d.path().join("unified/kubepods/burstable/podx/ctr")).unwrap();
        // on cgroupfs the control files go with rmdir; here they are plain files
        for f in ["memory/kubepods/burstable/podx/memory.limit_in_bytes", "cpu,cpuacct/kubepods/burstable/podx/cpu.shares", "cpu,cpuacct/kubepods/burstable/podx/cpu.cfs_period_us", "cpu,cpuacct/kubepods/burstable/podx/cpu.cfs_quota_us"] {
            std::fs::remove_file(d.path().join(f)).unwrap();
        }
        cg.remove_pod(&path).unwrap();
        assert!(!cg.exists(&path));
        assert!(!d.path().join("unified/kubepods/burstable/podx").exists());
        assert!(d.path().join("pids/kubepods/burstable").exists(), "the QoS level stays");
    }
}
