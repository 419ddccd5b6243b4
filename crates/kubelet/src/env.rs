//! TEMPORARY (not committed): plain env values only, until the env module lands.
use k8s_openapi::api::core::v1::{Container, Pod};
/// Env error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct EnvError(String);
/// Env.
pub async fn container_env(_client: &kube::Client, _pod: &Pod, c: &Container, _pod_ips: &[String], _host_ips: &[String]) -> Result<Vec<cri::api::KeyValue>, EnvError> {
    Ok(c.env.iter().flatten().filter_map(|e| e.value.clone().map(|v| cri::api::KeyValue { key: e.name.clone(), value: v })).collect())
}
