//! Node IPAM (upstream's nodeipam range allocator, run under the `node-controller` identity):
//! gives every Node a `spec.podCIDR`/`spec.podCIDRs` carved from the cluster CIDR
//! (`--cluster-cidr`) in blocks of `--node-cidr-mask-size`, releases the blocks of deleted nodes,
//! and rebuilds its map from the nodes at start. When the range is full it records
//! `CIDRNotAvailable` on the node.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::Duration;

use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, Patch, PatchParams};

use crate::stores::{self, Wake};

/// An IPv4 network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    /// The network address.
    pub addr: Ipv4Addr,
    /// The prefix length.
    pub prefix: u8,
}

impl Cidr {
    /// Parses `a.b.c.d/n` (the address is masked to its network).
    pub fn parse(s: &str) -> Result<Cidr, String> {
        let (a, p) = s.trim().split_once('/').ok_or_else(|| format!("{s}: not a CIDR (a.b.c.d/n)"))?;
        let addr: Ipv4Addr = a.parse().map_err(|_| format!("{s}: not an IPv4 CIDR"))?;
        let prefix: u8 = p.parse().map_err(|_| format!("{s}: bad prefix length"))?;
        if prefix > 32 {
            return Err(format!("{s}: prefix length over 32"));
        }
        Ok(Cidr { addr: Ipv4Addr::from(u32::from(addr) & mask(prefix)), prefix })
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix)) }
}

/// The blocks of a cluster CIDR and which are taken.
#[derive(Debug)]
pub struct Allocator {
    cluster: Cidr,
    size: u8,
    count: u32,
    /// index of the block → node name
    used: BTreeMap<u32, String>,
    /// where the next search starts (upstream also goes round rather than reusing at once)
    next: u32,
}

impl Allocator {
    /// An allocator of `/size` blocks from `cluster`.
    pub fn new(cluster: Cidr, size: u8) -> Result<Allocator, String> {
        if size < cluster.prefix || size > 32 {
            return Err(format!("--node-cidr-mask-size {size} must be between the cluster CIDR's prefix ({}) and 32", cluster.prefix));
        }
        if size - cluster.prefix > 24 {
            return Err(format!("--node-cidr-mask-size {size}: too many blocks in {cluster} (at most 2^24)"));
        }
        Ok(Allocator { cluster, size, count: 1u32 << (size - cluster.prefix), used: BTreeMap::new(), next: 0 })
    }

    /// The block at `index`.
    pub fn block(&self, index: u32) -> Cidr {
        let step = if self.size == 32 { 1 } else { 1u32 << (32 - u32::from(self.size)) };
        Cidr { addr: Ipv4Addr::from(u32::from(self.cluster.addr).wrapping_add(index.wrapping_mul(step))), prefix: self.size }
    }

    /// The index of `cidr` if it is one of this range's blocks.
    pub fn index_of(&self, cidr: &Cidr) -> Option<u32> {
        if cidr.prefix != self.size || (u32::from(cidr.addr) & mask(self.cluster.prefix)) != u32::from(self.cluster.addr) {
            return None;
        }
        let off = u32::from(cidr.addr) - u32::from(self.cluster.addr);
        Some(if self.size == 32 { off } else { off >> (32 - u32::from(self.size)) })
    }

    /// Records that `node` holds `cidr` (a node's existing podCIDR). Returns false when the block
    /// is outside the range.
    pub fn occupy(&mut self, cidr: &Cidr, node: &str) -> bool {
        match self.index_of(cidr) {
            Some(i) => {
                self.used.insert(i, node.to_string());
                true
            }
            None => false,
        }
    }

    /// Allocates a block for `node` (the one it already holds, if any), or None when full.
    pub fn allocate(&mut self, node: &str) -> Option<Cidr> {
        if let Some((&i, _)) = self.used.iter().find(|(_, n)| n.as_str() == node) {
            return Some(self.block(i));
        }
        for k in 0..self.count {
            let i = (self.next + k) % self.count;
            if let std::collections::btree_map::Entry::Vacant(e) = self.used.entry(i) {
                e.insert(node.to_string());
                self.next = (i + 1) % self.count;
                return Some(self.block(i));
            }
        }
        None
    }

    /// Releases every block held by a node not in `existing`.
    pub fn retain_nodes(&mut self, existing: &std::collections::BTreeSet<String>) {
        self.used.retain(|_, n| existing.contains(n));
    }

    /// How many blocks are taken.
    pub fn used(&self) -> usize {
        self.used.len()
    }
}

fn node_cidrs(node: &Node) -> Vec<String> {
    let spec = node.spec.as_ref();
    let mut v: Vec<String> = spec.and_then(|s| s.pod_cidrs.clone()).unwrap_or_default();
    if v.is_empty()
        && let Some(c) = spec.and_then(|s| s.pod_cidr.clone())
    {
        v.push(c);
    }
    v
}

/// Runs the allocator until the process ends.
pub async fn run(informers: stores::Informers, client: kube::Client, cluster_cidr: Cidr, mask_size: u8) {
    let mut alloc = match Allocator::new(cluster_cidr, mask_size) {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "node IPAM is off");
            return;
        }
    };
    let wake = Wake::new();
    // a node matters when it comes, goes or its CIDRs change (not at each status update)
    let nodes = informers.subscribe::<Node, _>(stores::wake_on_change(&wake, |n: &Node| (node_cidrs(n), n.metadata.deletion_timestamp.is_some())));
    stores::ready(&nodes).await;
    let api: Api<Node> = Api::all(client.clone());
    let rec = stores::recorder(&client, "node-controller");
    // rebuild the map from the nodes' existing CIDRs first, so no block is handed out twice
    for n in nodes.state() {
        let name = n.metadata.name.clone().unwrap_or_default();
        for c in node_cidrs(&n) {
            if let Ok(c) = Cidr::parse(&c) {
                alloc.occupy(&c, &name);
            }
        }
    }
    tracing::info!(cluster_cidr = %cluster_cidr, mask_size, occupied = alloc.used(), "node IPAM started");
    let mut reported: std::collections::BTreeSet<String> = Default::default();
    loop {
        let state = nodes.state();
        let names: std::collections::BTreeSet<String> = state.iter().filter_map(|n| n.metadata.name.clone()).collect();
        alloc.retain_nodes(&names);
        let mut retry = false;
        for n in &state {
            let Some(name) = n.metadata.name.clone() else { continue };
            if n.metadata.deletion_timestamp.is_some() {
                continue;
            }
            let existing = node_cidrs(n);
            if !existing.is_empty() {
                for c in existing {
                    if let Ok(c) = Cidr::parse(&c) {
                        alloc.occupy(&c, &name);
                    }
                }
                reported.remove(&name);
                continue;
            }
            let Some(cidr) = alloc.allocate(&name) else {
                if reported.insert(name.clone()) {
                    tracing::warn!(node = %name, cluster_cidr = %cluster_cidr, "no pod CIDR left for the node");
                    stores::event(&rec, n.as_ref(), false, "CIDRNotAvailable", format!("Node {name} status is now: CIDRNotAvailable")).await;
                }
                continue;
            };
            let patch = serde_json::json!({"spec": {"podCIDR": cidr.to_string(), "podCIDRs": [cidr.to_string()]}});
            match api.patch(&name, &PatchParams::default(), &Patch::Strategic(&patch)).await {
                Ok(_) => tracing::info!(node = %name, pod_cidr = %cidr, "pod CIDR assigned"),
                Err(e) if stores::not_found(&e) => {}
                Err(e) => {
                    tracing::warn!(node = %name, error = %e, "assigning the pod CIDR");
                    retry = true;
                }
            }
        }
        let timeout = if retry { Duration::from_secs(2) } else { Duration::from_secs(60) };
        wake.wait(timeout, Duration::from_millis(20)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_of_the_default_range() {
        let mut a = Allocator::new(Cidr::parse("10.42.0.0/16").unwrap(), 24).unwrap();
        assert_eq!(a.allocate("a").unwrap().to_string(), "10.42.0.0/24");
        assert_eq!(a.allocate("b").unwrap().to_string(), "10.42.1.0/24");
        // a node keeps its block
        assert_eq!(a.allocate("a").unwrap().to_string(), "10.42.0.0/24");
        assert_eq!(a.index_of(&Cidr::parse("10.42.255.0/24").unwrap()), Some(255));
        assert_eq!(a.index_of(&Cidr::parse("10.43.0.0/24").unwrap()), None);
        assert_eq!(a.index_of(&Cidr::parse("10.42.0.0/25").unwrap()), None);
    }

    #[test]
    fn rebuild_release_and_exhaustion() {
        let mut a = Allocator::new(Cidr::parse("10.0.0.0/30").unwrap(), 31).unwrap();
        assert!(a.occupy(&Cidr::parse("10.0.0.0/31").unwrap(), "old"));
        assert!(!a.occupy(&Cidr::parse("192.168.0.0/31").unwrap(), "foreign"));
        assert_eq!(a.allocate("n1").unwrap().to_string(), "10.0.0.2/31");
        assert_eq!(a.allocate("n2"), None, "two blocks, both taken");
        let keep: std::collections::BTreeSet<String> = ["n1".to_string()].into();
        a.retain_nodes(&keep);
        assert_eq!(a.allocate("n2").unwrap().to_string(), "10.0.0.0/31");
    }

    #[test]
    fn bad_sizes() {
        assert!(Allocator::new(Cidr::parse("10.42.0.0/16").unwrap(), 8).is_err());
        assert!(Allocator::new(Cidr::parse("10.0.0.0/8").unwrap(), 33).is_err());
        assert!(Cidr::parse("10.42.0.0").is_err());
        assert_eq!(Cidr::parse("10.42.3.4/16").unwrap().to_string(), "10.42.0.0/16");
    }
}
