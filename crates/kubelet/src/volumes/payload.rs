//! What the files of `configMap`, `secret`, `downwardAPI` and `projected` volumes contain:
//! upstream's `MakePayload` and `CollectData` as pure functions over the objects already read.

use std::collections::BTreeMap;

use apimachinery::quantity::Quantity;
use k8s_openapi::api::core::v1::{ConfigMap, DownwardAPIVolumeFile, KeyToPath, Pod, Secret};

use super::atomic::{FileProjection, Payload};

/// The mode of projected files when the volume names none (upstream's 0644 for all four kinds).
pub const DEFAULT_MODE: i32 = 0o644;

/// A ConfigMap's files: every key (`data` and `binaryData`), or only `items` (a missing key is
/// an error unless `optional`).
pub fn config_map(items: Option<&[KeyToPath]>, cm: Option<&ConfigMap>, default_mode: i32, optional: bool) -> Result<Payload, String> {
    let data = cm.and_then(|c| c.data.clone()).unwrap_or_default();
    let binary = cm.and_then(|c| c.binary_data.clone()).unwrap_or_default();
    let mut out = Payload::new();
    match items.filter(|i| !i.is_empty()) {
        None => {
            for (k, v) in data {
                out.insert(k, FileProjection::new(v, default_mode));
            }
            for (k, v) in binary {
                out.insert(k, FileProjection::new(v.0, default_mode));
            }
        }
        Some(items) => {
            for item in items {
                let bytes = match (data.get(&item.key), binary.get(&item.key)) {
                    (Some(s), _) => s.as_bytes().to_vec(),
                    (None, Some(b)) => b.0.clone(),
                    (None, None) if optional => continue,
                    (None, None) => return Err(format!("configmap references non-existent config key: {}", item.key)),
                };
                out.insert(item.path.clone(), FileProjection::new(bytes, item.mode.unwrap_or(default_mode)));
            }
        }
    }
    Ok(out)
}

/// A Secret's files, as [`config_map`] with upstream's secret texts.
pub fn secret(items: Option<&[KeyToPath]>, s: Option<&Secret>, default_mode: i32, optional: bool) -> Result<Payload, String> {
    let data = s.and_then(|s| s.data.clone()).unwrap_or_default();
    let mut out = Payload::new();
    match items.filter(|i| !i.is_empty()) {
        None => {
            for (k, v) in data {
                out.insert(k, FileProjection::new(v.0, default_mode));
            }
        }
        Some(items) => {
            for item in items {
                match data.get(&item.key) {
                    Some(v) => {
                        out.insert(item.path.clone(), FileProjection::new(v.0.clone(), item.mode.unwrap_or(default_mode)));
                    }
                    None if optional => continue,
                    None => return Err(format!("references non-existent secret key: {}", item.key)),
                }
            }
        }
    }
    Ok(out)
}

/// A downwardAPI volume's files (upstream's `CollectData`): field values of the pod's metadata
/// and resource values of its containers, with unset limits taken from `allocatable`. Every
/// failing item is reported (upstream aggregates them).
pub fn downward_api(
    items: &[DownwardAPIVolumeFile],
    pod: &Pod,
    default_mode: i32,
    allocatable: &BTreeMap<String, Quantity>,
) -> Result<Payload, String> {
    let mut out = Payload::new();
    let mut errs = Vec::new();
    for item in items {
        let mode = item.mode.unwrap_or(default_mode);
        let value = if let Some(f) = &item.field_ref {
            crate::env::pod_field_value(pod, &f.field_path)
        } else if let Some(r) = &item.resource_field_ref {
            let name = r.container_name.as_deref().unwrap_or("");
            crate::env::find_container(pod, name).and_then(|c| crate::env::container_resource_value(r, &c, allocatable))
        } else {
            Ok(String::new())
        };
        match value {
            Ok(v) => {
                out.insert(item.path.clone(), FileProjection::new(v, mode));
            }
            Err(e) => errs.push(e),
        }
    }
    if errs.is_empty() { Ok(out) } else { Err(aggregate(&errs)) }
}

/// Upstream's `utilerrors.NewAggregate(...).Error()`: one message alone, several in brackets.
pub fn aggregate(errs: &[String]) -> String {
    match errs {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::ByteString;
    use k8s_openapi::api::core::v1::{Container, ObjectFieldSelector, PodSpec, ResourceFieldSelector, ResourceRequirements};
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity as Q;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn cm() -> ConfigMap {
        ConfigMap {
            data: Some([("a".to_string(), "A".to_string()), ("b".to_string(), "B".to_string())].into()),
            binary_data: Some([("bin".to_string(), ByteString(vec![0, 1, 2]))].into()),
            ..Default::default()
        }
    }

    fn ktp(key: &str, path: &str, mode: Option<i32>) -> KeyToPath {
        KeyToPath { key: key.into(), path: path.into(), mode }
    }

    #[test]
    fn config_map_all_keys_and_items() {
        let all = config_map(None, Some(&cm()), 0o644, false).unwrap();
        assert_eq!(all.keys().collect::<Vec<_>>(), ["a", "b", "bin"]);
        assert_eq!(all["bin"].data, vec![0, 1, 2]);
        assert!(all.values().all(|f| f.mode == 0o644));

        let items = [ktp("a", "dir/x", Some(0o400)), ktp("bin", "y", None)];
        let some = config_map(Some(&items), Some(&cm()), 0o440, false).unwrap();
        assert_eq!(some.keys().collect::<Vec<_>>(), ["dir/x", "y"]);
        assert_eq!(some["dir/x"].mode, 0o400);
        assert_eq!(some["y"].mode, 0o440);

        let missing = [ktp("nope", "n", None)];
        assert_eq!(
            config_map(Some(&missing), Some(&cm()), 0o644, false).unwrap_err(),
            "configmap references non-existent config key: nope"
        );
        assert!(config_map(Some(&missing), Some(&cm()), 0o644, true).unwrap().is_empty());
        assert!(config_map(None, None, 0o644, true).unwrap().is_empty(), "optional and absent: empty volume");
    }

    #[test]
    fn secret_items() {
        let s = Secret { data: Some([("k".to_string(), ByteString(b"v".to_vec()))].into()), ..Default::default() };
        let p = secret(Some(&[ktp("k", "f", Some(0o600))]), Some(&s), 0o644, false).unwrap();
        assert_eq!(p["f"], FileProjection { data: b"v".to_vec(), mode: 0o600, fs_user: None });
        assert_eq!(
            secret(Some(&[ktp("x", "f", None)]), Some(&s), 0o644, false).unwrap_err(),
            "references non-existent secret key: x"
        );
    }

    #[test]
    fn downward_api_items() {
        let pod = Pod {
            metadata: ObjectMeta {
                name: Some("p".into()),
                labels: Some([("z".to_string(), "1".to_string()), ("a".to_string(), "2".to_string())].into()),
                ..Default::default()
            },
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "c".into(),
                    resources: Some(ResourceRequirements {
                        requests: Some([("memory".to_string(), Q("32Mi".into()))].into()),
                        ..Default::default()
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        let field = |path: &str, p: &str| DownwardAPIVolumeFile {
            path: p.into(),
            field_ref: Some(ObjectFieldSelector { field_path: path.into(), api_version: Some("v1".into()) }),
            ..Default::default()
        };
        let res = |c: &str, r: &str, p: &str| DownwardAPIVolumeFile {
            path: p.into(),
            resource_field_ref: Some(ResourceFieldSelector {
                container_name: Some(c.into()),
                resource: r.into(),
                divisor: Some(Q("1Mi".into())),
            }),
            mode: Some(0o400),
            ..Default::default()
        };
        let alloc = [("memory".to_string(), Quantity::parse("2Gi").unwrap())].into();
        let items = [field("metadata.labels", "labels"), field("metadata.name", "name"), res("c", "requests.memory", "mem"), res("c", "limits.memory", "lim")];
        let p = downward_api(&items, &pod, 0o644, &alloc).unwrap();
        assert_eq!(p["labels"].data, b"a=\"2\"\nz=\"1\"");
        assert_eq!(p["name"].data, b"p");
        assert_eq!(p["mem"].data, b"32");
        assert_eq!(p["mem"].mode, 0o400);
        assert_eq!(p["lim"].data, b"2048", "unset limit is the node's allocatable");

        let bad = [field("spec.nodeName", "n"), res("other", "limits.cpu", "x")];
        assert_eq!(
            downward_api(&bad, &pod, 0o644, &alloc).unwrap_err(),
            "[unsupported fieldPath: spec.nodeName, container other not found]"
        );
    }
}
