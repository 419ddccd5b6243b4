//! TEMPORARY (not committed): no volumes, until the volumes module lands.
use k8s_openapi::api::core::v1::Pod;
use std::path::PathBuf;
/// Err.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct VolumeError(String);
/// Vols.
pub struct PodVolumes;
impl PodVolumes {
    /// Mounts.
    pub fn mounts(&self, _c: &str) -> Vec<cri::api::Mount> { Vec::new() }
}
/// VM.
pub struct VolumeManager;
impl VolumeManager {
    /// New.
    pub fn new(_c: kube::Client, _d: PathBuf, _n: String) -> Self { VolumeManager }
    /// Setup.
    pub async fn setup(&self, _p: &Pod) -> Result<PodVolumes, VolumeError> { Ok(PodVolumes) }
    /// Refresh.
    pub async fn refresh(&self, _p: &Pod) -> Result<(), VolumeError> { Ok(()) }
    /// Teardown.
    pub async fn teardown(&self, _u: &str) -> Result<(), VolumeError> { Ok(()) }
}
