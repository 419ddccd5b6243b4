//! Finding the pod metadata and spec in a pod or a pod-template-bearing workload (upstream's
//! `DefaultPodSpecExtractor`).

use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;
use serde_json::Value;

/// Why no pod spec could be taken from an object.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// The resource carries no pod spec that PSA evaluates.
    #[error("unexpected resource: {0}")]
    UnsupportedResource(String),
    /// The metadata or spec did not decode.
    #[error("failed to decode {what}: {source}")]
    Decode {
        /// `metadata` or `spec`.
        what: &'static str,
        /// The decoding error.
        #[source]
        source: serde_json::Error,
    },
}

/// Where a resource keeps its pod template, or `None` for pods themselves.
enum Template {
    Pod,
    /// JSON path to the template; `optional` when Go holds it in a pointer (a missing template
    /// means nothing to evaluate rather than an empty pod).
    At {
        path: &'static [&'static str],
        optional: bool,
    },
}

fn template_of(group: &str, resource: &str) -> Option<Template> {
    Some(match (group, resource) {
        ("", "pods") => Template::Pod,
        ("", "replicationcontrollers") => Template::At {
            path: &["spec", "template"],
            optional: true,
        },
        ("", "podtemplates") => Template::At {
            path: &["template"],
            optional: false,
        },
        ("apps", "replicasets" | "deployments" | "statefulsets" | "daemonsets")
        | ("batch", "jobs") => Template::At {
            path: &["spec", "template"],
            optional: false,
        },
        ("batch", "cronjobs") => Template::At {
            path: &["spec", "jobTemplate", "spec", "template"],
            optional: false,
        },
        _ => return None,
    })
}

/// Whether PSA evaluates objects of this group and resource (plural): pods,
/// replicationcontrollers, podtemplates, apps replicasets/deployments/statefulsets/daemonsets,
/// batch jobs/cronjobs. Upstream's `HasPodSpec`.
pub fn has_pod_spec(group: &str, resource: &str) -> bool {
    template_of(group, resource).is_some()
}

/// The pod metadata and spec to evaluate in `object` (the JSON of a `group`/`resource` object):
/// a pod's own, or the workload's pod template's. `Ok(None)` when a replication controller has
/// no template (upstream skips it); a workload whose template is absent evaluates as an empty
/// pod, as upstream's value-typed templates do.
///
/// Only pods are enforced upstream; for workloads the result feeds audit and warn.
pub fn pod_spec_of(
    group: &str,
    resource: &str,
    object: &Value,
) -> Result<Option<(ObjectMeta, PodSpec)>, ExtractError> {
    let template = template_of(group, resource).ok_or_else(|| {
        ExtractError::UnsupportedResource(if group.is_empty() {
            resource.to_string()
        } else {
            format!("{resource}.{group}")
        })
    })?;
    let holder = match template {
        Template::Pod => object,
        Template::At { path, optional } => {
            let mut cur = Some(object);
            for key in path {
                cur = cur.and_then(|v| v.get(*key)).filter(|v| !v.is_null());
            }
            match cur {
                Some(v) => v,
                None if optional => return Ok(None),
                None => return Ok(Some((ObjectMeta::default(), PodSpec::default()))),
            }
        }
    };
    let meta = match holder.get("metadata").filter(|v| !v.is_null()) {
        Some(m) => ObjectMeta::deserialize(m).map_err(|source| ExtractError::Decode {
            what: "metadata",
            source,
        })?,
        None => ObjectMeta::default(),
    };
    let spec = match holder.get("spec").filter(|v| !v.is_null()) {
        Some(s) => PodSpec::deserialize(s).map_err(|source| ExtractError::Decode {
            what: "spec",
            source,
        })?,
        None => PodSpec::default(),
    };
    Ok(Some((meta, spec)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn privileged_template() -> Value {
        json!({
            "metadata": {"labels": {"app": "x"}, "annotations": {"a": "b"}},
            "spec": {"containers": [{"name": "c", "image": "i", "securityContext": {"privileged": true}}]}
        })
    }

    #[test]
    fn supported_resources() {
        for (g, r) in [
            ("", "pods"),
            ("", "replicationcontrollers"),
            ("", "podtemplates"),
            ("apps", "replicasets"),
            ("apps", "deployments"),
            ("apps", "statefulsets"),
            ("apps", "daemonsets"),
            ("batch", "jobs"),
            ("batch", "cronjobs"),
        ] {
            assert!(has_pod_spec(g, r), "{g}/{r}");
        }
        assert!(!has_pod_spec("", "services"));
        assert!(
            !has_pod_spec("example.com", "jobs"),
            "a CRD named like a built-in is not matched"
        );
        assert!(!has_pod_spec("extensions", "deployments"));
        assert!(matches!(
            pod_spec_of("example.com", "jobs", &json!({})),
            Err(ExtractError::UnsupportedResource(r)) if r == "jobs.example.com"
        ));
    }

    #[test]
    fn pod() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns"},
            "spec": {"hostNetwork": true, "containers": [{"name": "c", "image": "i"}]}});
        let (meta, spec) = pod_spec_of("", "pods", &pod).unwrap().unwrap();
        assert_eq!(meta.name.as_deref(), Some("p"));
        assert_eq!(spec.host_network, Some(true));
        assert_eq!(spec.containers[0].name, "c");
    }

    #[test]
    fn workloads() {
        let t = privileged_template();
        let objects = [
            (
                "apps",
                "deployments",
                json!({"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": t}}),
            ),
            ("apps", "replicasets", json!({"spec": {"template": t}})),
            ("apps", "statefulsets", json!({"spec": {"template": t}})),
            ("apps", "daemonsets", json!({"spec": {"template": t}})),
            ("batch", "jobs", json!({"spec": {"template": t}})),
            (
                "batch",
                "cronjobs",
                json!({"spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": t}}}}),
            ),
            (
                "",
                "replicationcontrollers",
                json!({"spec": {"template": t}}),
            ),
            ("", "podtemplates", json!({"template": t})),
        ];
        for (g, r, obj) in objects {
            let (meta, spec) = pod_spec_of(g, r, &obj)
                .unwrap()
                .unwrap_or_else(|| panic!("{r}"));
            assert_eq!(meta.labels.unwrap()["app"], "x", "{r}");
            assert_eq!(meta.annotations.unwrap()["a"], "b", "{r}");
            assert_eq!(
                spec.containers[0]
                    .security_context
                    .as_ref()
                    .unwrap()
                    .privileged,
                Some(true),
                "{r}"
            );
        }
    }

    #[test]
    fn missing_templates() {
        // ReplicationController's template is optional upstream: nothing to evaluate.
        assert!(
            pod_spec_of("", "replicationcontrollers", &json!({"spec": {}}))
                .unwrap()
                .is_none()
        );
        assert!(
            pod_spec_of(
                "",
                "replicationcontrollers",
                &json!({"spec": {"template": null}})
            )
            .unwrap()
            .is_none()
        );
        // Other templates are values upstream: an empty pod is evaluated.
        let (m, s) = pod_spec_of("apps", "deployments", &json!({"spec": {}}))
            .unwrap()
            .unwrap();
        assert_eq!(m, ObjectMeta::default());
        assert_eq!(s, PodSpec::default());
        let (_, s) = pod_spec_of("batch", "cronjobs", &json!({}))
            .unwrap()
            .unwrap();
        assert!(s.containers.is_empty());
    }

    #[test]
    fn decode_errors() {
        let bad = json!({"spec": {"hostNetwork": "yes"}});
        assert!(matches!(
            pod_spec_of("", "pods", &bad),
            Err(ExtractError::Decode { what: "spec", .. })
        ));
        let bad = json!({"metadata": {"annotations": []}});
        assert!(matches!(
            pod_spec_of("", "pods", &bad),
            Err(ExtractError::Decode {
                what: "metadata",
                ..
            })
        ));
    }
}
