//! The pod network of the node: a CNI conflist (bridge + host-local IPAM over the node's podCIDR
//! + portmap for hostPorts) that containerd's CRI plugin reads from the agent's CNI conf dir.
//!
//! The kubelet writes the file once the node IPAM controller has given the node a podCIDR; until
//! then the runtime reports its network not ready and the node is not Ready.

use std::path::{Path, PathBuf};

/// The network's settings.
#[derive(Clone, Debug)]
pub struct Network {
    /// The CNI network name (also host-local's store key).
    pub name: String,
    /// The Linux bridge in the host's network namespace.
    pub bridge: String,
    /// Whether traffic leaving the node from pods is masqueraded.
    pub masquerade: bool,
    /// host-local's allocation store.
    pub ipam_dir: PathBuf,
}

impl Network {
    /// Names derived from the agent directory, so that two agents on one machine (tests, or a
    /// node in a network namespace) never share a bridge or an IPAM store.
    pub fn for_agent(agent_dir: &Path, masquerade: bool) -> Network {
        let mut h: u32 = 2166136261;
        for b in agent_dir.to_string_lossy().bytes() {
            h = (h ^ u32::from(b)).wrapping_mul(16777619);
        }
        let tag = format!("{:06x}", h & 0xffffff);
        Network { name: format!("ferrokube-{tag}"), bridge: format!("fk{tag}"), masquerade, ipam_dir: agent_dir.join("cni").join("ipam") }
    }

    /// The conflist for a podCIDR.
    pub fn conflist(&self, pod_cidr: &str) -> serde_json::Value {
        serde_json::json!({
            "cniVersion": "1.0.0",
            "name": self.name,
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": self.bridge,
                    "isGateway": true,
                    "ipMasq": self.masquerade,
                    "hairpinMode": true,
                    "ipam": {
                        "type": "host-local",
                        "dataDir": self.ipam_dir,
                        "ranges": [[{"subnet": pod_cidr}]],
                        "routes": [{"dst": "0.0.0.0/0"}]
                    }
                },
                {"type": "portmap", "capabilities": {"portMappings": true}}
            ]
        })
    }

    /// Writes the conflist into `conf_dir` (atomically) when it differs. Returns whether it changed.
    pub fn write(&self, conf_dir: &Path, pod_cidr: &str) -> std::io::Result<bool> {
        std::fs::create_dir_all(conf_dir)?;
        let path = conf_dir.join("10-ferrokube.conflist");
        let text = serde_json::to_string_pretty(&self.conflist(pod_cidr)).unwrap_or_default();
        if std::fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
            return Ok(false);
        }
        let tmp = conf_dir.join(".10-ferrokube.conflist.tmp");
        std::fs::write(&tmp, &text)?;
        std::fs::rename(&tmp, &path)?;
        Ok(true)
    }

    /// The IPs host-local holds for pods now (one file per allocated address).
    pub fn allocations(&self) -> Vec<String> {
        let dir = self.ipam_dir.join(&self.name);
        let Ok(rd) = std::fs::read_dir(dir) else { return Vec::new() };
        rd.flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.parse::<std::net::IpAddr>().is_ok())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_differ_per_agent_and_fit_interface_names() {
        let a = Network::for_agent(Path::new("/tmp/a/agent"), false);
        let b = Network::for_agent(Path::new("/tmp/b/agent"), false);
        assert_ne!(a.bridge, b.bridge);
        assert!(a.bridge.len() <= 15, "Linux interface names are at most 15 bytes");
        let c = a.conflist("10.42.3.0/24");
        assert_eq!(c["plugins"][0]["ipam"]["ranges"][0][0]["subnet"], "10.42.3.0/24");
        assert_eq!(c["plugins"][0]["ipMasq"], false);
    }

    #[test]
    fn written_once_until_the_cidr_changes() {
        let d = tempfile::tempdir().unwrap();
        let n = Network::for_agent(d.path(), true);
        assert!(n.write(d.path(), "10.42.0.0/24").unwrap());
        assert!(!n.write(d.path(), "10.42.0.0/24").unwrap());
        assert!(n.write(d.path(), "10.42.1.0/24").unwrap());
    }
}
