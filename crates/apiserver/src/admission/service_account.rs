//! The ServiceAccount admission plugin: a new pod runs as `default` unless it names another
//! service account, the account must exist, and unless automounting is switched off (on the pod
//! or the account) every container gets the projected `kube-api-access-*` volume — a bound,
//! expiring token, the cluster CA (`kube-root-ca.crt`) and the namespace — at
//! `/var/run/secrets/kubernetes.io/serviceaccount`.

use apimachinery::{ApiError, ApiResult};
use k8s_openapi::api::core::v1 as core;

use super::{Operation, Request};
use crate::Api;
use crate::registry::Object;

/// Where the token volume is mounted.
pub const MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// Lifetime the kubelet asks for (upstream's 3607 s; ferrokube never extends it to a year).
pub const TOKEN_SECONDS: i64 = 3607;

fn applies(req: &Request<'_>) -> bool {
    req.operation == Operation::Create && req.subresource.is_empty() && req.is("", "pods")
}

fn is_mirror(pod: &core::Pod) -> bool {
    pod.metadata.annotations.as_ref().is_some_and(|a| a.contains_key("kubernetes.io/config.mirror"))
}

/// Mutating half: default account name and the token volume.
pub fn mutate(api: &Api, req: &Request<'_>, obj: &mut dyn Object) -> ApiResult<()> {
    if !applies(req) {
        return Ok(());
    }
    let Some(pod) = obj.as_any_mut().downcast_mut::<core::Pod>() else { return Ok(()) };
    if is_mirror(pod) {
        return Ok(());
    }
    let spec = pod.spec.get_or_insert_with(Default::default);
    let name = spec.service_account_name.clone().filter(|s| !s.is_empty()).or_else(|| spec.service_account.clone().filter(|s| !s.is_empty())).unwrap_or_else(|| "default".into());
    spec.service_account_name = Some(name.clone());
    spec.service_account = Some(name.clone());
    let sa = crate::auth::tokens::cached_uid(api, "", "v1", "serviceaccounts", req.namespace, &name);
    let sa_automount = sa.as_ref().and_then(|(_, v)| v.get("automountServiceAccountToken")).and_then(serde_json::Value::as_bool);
    let automount = spec.automount_service_account_token.or(sa_automount).unwrap_or(true);
    if !automount {
        return Ok(());
    }
    let has_mount = |c: &core::Container| c.volume_mounts.as_ref().is_some_and(|m| m.iter().any(|m| m.mount_path == MOUNT_PATH));
    let volume_name = spec
        .volumes
        .iter()
        .flatten()
        .find(|v| v.name.starts_with("kube-api-access-"))
        .map(|v| v.name.clone())
        .unwrap_or_else(|| format!("kube-api-access-{}", crate::store::generate_suffix()));
    if !spec.volumes.iter().flatten().any(|v| v.name == volume_name) {
        spec.volumes.get_or_insert_with(Vec::new).push(token_volume(&volume_name));
    }
    let mount = core::VolumeMount { name: volume_name, mount_path: MOUNT_PATH.into(), read_only: Some(true), ..Default::default() };
    for c in spec.init_containers.iter_mut().flatten().chain(spec.containers.iter_mut()) {
        if !has_mount(c) {
            c.volume_mounts.get_or_insert_with(Vec::new).push(mount.clone());
        }
    }
    Ok(())
}

fn token_volume(name: &str) -> core::Volume {
    core::Volume {
        name: name.into(),
        projected: Some(core::ProjectedVolumeSource {
            default_mode: Some(0o644),
            sources: Some(vec![
                core::VolumeProjection {
                    service_account_token: Some(core::ServiceAccountTokenProjection {
                        expiration_seconds: Some(TOKEN_SECONDS),
                        path: "token".into(),
                        audience: None,
                    }),
                    ..Default::default()
                },
                core::VolumeProjection {
                    config_map: Some(core::ConfigMapProjection {
                        name: "kube-root-ca.crt".into(),
                        items: Some(vec![core::KeyToPath { key: "ca.crt".into(), path: "ca.crt".into(), mode: None }]),
                        optional: None,
                    }),
                    ..Default::default()
                },
                core::VolumeProjection {
                    downward_api: Some(core::DownwardAPIProjection {
                        items: Some(vec![core::DownwardAPIVolumeFile {
                            path: "namespace".into(),
                            field_ref: Some(core::ObjectFieldSelector { api_version: Some("v1".into()), field_path: "metadata.namespace".into() }),
                            ..Default::default()
                        }]),
                    }),
                    ..Default::default()
                },
            ]),
        }),
        ..Default::default()
    }
}

/// Validating half: the account must exist. The `default` account of a namespace created an
/// instant ago may not exist yet (the serviceaccount controller creates it): wait up to three
/// seconds for it.
pub async fn validate(api: &Api, req: &Request<'_>, obj: &dyn Object) -> ApiResult<()> {
    if !applies(req) {
        return Ok(());
    }
    let Some(pod) = obj.as_any().downcast_ref::<core::Pod>() else { return Ok(()) };
    if is_mirror(pod) {
        return Ok(());
    }
    let name = pod.spec.as_ref().and_then(|s| s.service_account_name.clone()).unwrap_or_else(|| "default".into());
    let exists = || crate::auth::tokens::cached_uid(api, "", "v1", "serviceaccounts", req.namespace, &name).is_some();
    if name == "default" {
        for _ in 0..30 {
            if exists() {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    if !exists() && api.caches.wait_fresh().await.is_ok() && exists() {
        return Ok(());
    }
    if !exists() {
        return Err(ApiError::forbidden(
            "",
            "pods",
            req.name,
            &format!("error looking up service account {}/{name}: serviceaccount \"{name}\" not found", req.namespace),
        ));
    }
    Ok(())
}
