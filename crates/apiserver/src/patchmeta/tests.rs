use super::*;
use serde_json::{Map, Value, json};

const CORE: &str = "io.k8s.api.core.v1.";
const META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.";

fn def(prefix: &str, name: &str) -> String {
    format!("{prefix}{name}")
}

fn fm(
    patch_strategy: Option<&'static str>,
    patch_merge_key: Option<&'static str>,
    list_type: Option<&'static str>,
    list_map_keys: &'static [&'static str],
    map_type: Option<&'static str>,
) -> FieldMeta {
    FieldMeta {
        patch_strategy,
        patch_merge_key,
        list_type,
        list_map_keys,
        map_type,
    }
}

#[track_caller]
fn check(definition: &str, json_field: &str, expected: FieldMeta) {
    let got = field(definition, json_field)
        .unwrap_or_else(|| panic!("no entry for {definition}.{json_field}"));
    assert_eq!(*got, expected, "{definition}.{json_field}");
}

#[test]
fn spot_checks_core() {
    let merge = Some("merge");
    check(
        &def(CORE, "PodSpec"),
        "containers",
        fm(merge, Some("name"), Some("map"), &["name"], None),
    );
    check(
        &def(CORE, "PodSpec"),
        "initContainers",
        fm(merge, Some("name"), Some("map"), &["name"], None),
    );
    check(
        &def(CORE, "PodSpec"),
        "ephemeralContainers",
        fm(merge, Some("name"), Some("map"), &["name"], None),
    );
    check(
        &def(CORE, "PodSpec"),
        "volumes",
        fm(
            Some("merge,retainKeys"),
            Some("name"),
            Some("map"),
            &["name"],
            None,
        ),
    );
    check(
        &def(CORE, "PodSpec"),
        "tolerations",
        fm(None, None, Some("atomic"), &[], None),
    );
    check(
        &def(CORE, "PodSpec"),
        "nodeSelector",
        fm(None, None, None, &[], Some("atomic")),
    );
    check(
        &def(CORE, "PodSpec"),
        "imagePullSecrets",
        fm(merge, Some("name"), Some("map"), &["name"], None),
    );
    check(
        &def(CORE, "PodSpec"),
        "hostAliases",
        fm(merge, Some("ip"), Some("map"), &["ip"], None),
    );
    check(
        &def(CORE, "Container"),
        "ports",
        fm(
            merge,
            Some("containerPort"),
            Some("map"),
            &["containerPort", "protocol"],
            None,
        ),
    );
    check(
        &def(CORE, "Container"),
        "env",
        fm(merge, Some("name"), Some("map"), &["name"], None),
    );
    check(
        &def(CORE, "Container"),
        "volumeMounts",
        fm(merge, Some("mountPath"), Some("map"), &["mountPath"], None),
    );
    check(
        &def(CORE, "Container"),
        "volumeDevices",
        fm(
            merge,
            Some("devicePath"),
            Some("map"),
            &["devicePath"],
            None,
        ),
    );
    check(
        &def(CORE, "Container"),
        "command",
        fm(None, None, Some("atomic"), &[], None),
    );
    check(
        &def(CORE, "Container"),
        "envFrom",
        fm(None, None, Some("atomic"), &[], None),
    );
    // EphemeralContainer inlines EphemeralContainerCommon: its fields appear on it.
    check(
        &def(CORE, "EphemeralContainer"),
        "env",
        fm(merge, Some("name"), Some("map"), &["name"], None),
    );
    check(
        &def(CORE, "PodStatus"),
        "conditions",
        fm(merge, Some("type"), Some("map"), &["type"], None),
    );
    check(
        &def(CORE, "PodStatus"),
        "podIPs",
        fm(merge, Some("ip"), Some("map"), &["ip"], None),
    );
    check(
        &def(CORE, "ServiceSpec"),
        "ports",
        fm(
            merge,
            Some("port"),
            Some("map"),
            &["port", "protocol"],
            None,
        ),
    );
    check(
        &def(CORE, "ServiceSpec"),
        "selector",
        fm(None, None, None, &[], Some("atomic")),
    );
    check(
        &def(CORE, "NodeSelectorTerm"),
        "matchExpressions",
        fm(None, None, Some("atomic"), &[], None),
    );
    check(
        &def(CORE, "NodeSpec"),
        "taints",
        fm(None, None, Some("atomic"), &[], None),
    );
    check(
        &def(CORE, "PersistentVolumeSpec"),
        "claimRef",
        fm(None, None, None, &[], Some("granular")),
    );
    // PersistentVolumeSpec inlines PersistentVolumeSource; fields of the embedded struct count.
    check(
        &def(CORE, "PersistentVolumeSpec"),
        "accessModes",
        fm(None, None, Some("atomic"), &[], None),
    );
    check(
        &def(CORE, "EndpointSubset"),
        "addresses",
        fm(None, None, Some("atomic"), &[], None),
    );
    check(
        &def(CORE, "NodeStatus"),
        "addresses",
        fm(merge, Some("type"), Some("map"), &["type"], None),
    );
}

#[test]
fn spot_checks_meta_and_other_groups() {
    let merge = Some("merge");
    check(
        &def(META, "ObjectMeta"),
        "finalizers",
        fm(merge, None, Some("set"), &[], None),
    );
    check(
        &def(META, "ObjectMeta"),
        "ownerReferences",
        fm(merge, Some("uid"), Some("map"), &["uid"], None),
    );
    check(
        &def(META, "ObjectMeta"),
        "managedFields",
        fm(None, None, Some("atomic"), &[], None),
    );
    check(
        &def(META, "LabelSelector"),
        "matchExpressions",
        fm(None, None, Some("atomic"), &[], None),
    );
    check(
        &def(META, "LabelSelectorRequirement"),
        "values",
        fm(None, None, Some("atomic"), &[], None),
    );
    check(
        "io.k8s.api.apps.v1.DeploymentSpec",
        "strategy",
        fm(Some("retainKeys"), None, None, &[], None),
    );
    check(
        "io.k8s.api.apps.v1.DeploymentStatus",
        "conditions",
        fm(merge, Some("type"), Some("map"), &["type"], None),
    );
    check(
        "io.k8s.api.batch.v1.JobStatus",
        "conditions",
        fm(merge, Some("type"), Some("atomic"), &[], None),
    );
    check(
        "io.k8s.api.policy.v1.PodDisruptionBudgetSpec",
        "selector",
        fm(Some("replace"), None, None, &[], None),
    );
    check(
        "io.k8s.api.rbac.v1.PolicyRule",
        "verbs",
        fm(None, None, Some("atomic"), &[], None),
    );
    check(
        "io.k8s.api.rbac.v1.RoleBinding",
        "subjects",
        fm(None, None, Some("atomic"), &[], None),
    );
    check(
        "io.k8s.api.networking.v1.IngressSpec",
        "rules",
        fm(None, None, Some("atomic"), &[], None),
    );
    check(
        "io.k8s.api.discovery.v1.EndpointSlice",
        "endpoints",
        fm(None, None, Some("atomic"), &[], None),
    );
    check(
        "io.k8s.api.admissionregistration.v1.ValidatingWebhook",
        "matchConditions",
        fm(merge, Some("name"), Some("map"), &["name"], None),
    );
    check(
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionStatus",
        "conditions",
        fm(None, None, Some("map"), &["type"], None),
    );
    check(
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionSpec",
        "versions",
        fm(None, None, Some("atomic"), &[], None),
    );
    check(
        "io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIServiceStatus",
        "conditions",
        fm(merge, Some("type"), Some("map"), &["type"], None),
    );
    check(
        "io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIServiceSpec",
        "caBundle",
        fm(None, None, Some("atomic"), &[], None),
    );
}

#[test]
fn absent_entries() {
    assert_eq!(field(&def(CORE, "PodSpec"), "hostname"), None);
    assert_eq!(field(&def(CORE, "PodSpec"), "Containers"), None);
    assert_eq!(field("io.k8s.api.core.v1.NoSuchType", "containers"), None);
    assert_eq!(field("", ""), None);
    // Only the 1.32 document's definitions are listed: inlined-only Go structs are not.
    assert_eq!(
        fields("io.k8s.api.core.v1.EphemeralContainerCommon").count(),
        0
    );
    assert_eq!(type_map_type(&def(CORE, "PodSpec")), None);
    assert_eq!(type_unions(&def(CORE, "PodSpec")), None);
}

#[test]
fn fields_iterates_one_definition() {
    let names: Vec<&str> = fields(&def(META, "ObjectMeta")).map(|(f, _)| f).collect();
    assert_eq!(names, ["finalizers", "managedFields", "ownerReferences"]);
    for (name, meta) in fields(&def(CORE, "PodSpec")) {
        assert_eq!(field(&def(CORE, "PodSpec"), name), Some(meta));
    }
    assert!(fields(&def(CORE, "PodSpec")).count() >= 10);
}

#[test]
fn type_level_map_types() {
    for name in [
        "io.k8s.api.core.v1.NodeSelectorTerm",
        "io.k8s.api.core.v1.NodeSelector",
        "io.k8s.api.core.v1.ObjectReference",
        "io.k8s.api.core.v1.LocalObjectReference",
        "io.k8s.api.core.v1.SecretKeySelector",
        "io.k8s.api.rbac.v1.RoleRef",
        "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
        "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference",
        "io.k8s.api.autoscaling.v1.CrossVersionObjectReference",
    ] {
        assert_eq!(type_map_type(name), Some("atomic"), "{name}");
    }
    assert_eq!(
        type_map_type("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
        None
    );
}

#[test]
fn unions() {
    let u = type_unions("io.k8s.api.flowcontrol.v1.Subject").expect("flowcontrol Subject union");
    assert_eq!(
        u,
        [Union {
            discriminator: Some("kind"),
            fields_to_discriminate_by: &[
                ("group", "Group"),
                ("serviceAccount", "ServiceAccount"),
                ("user", "User")
            ],
        }]
    );
    let u = type_unions("io.k8s.api.core.v1.SeccompProfile").expect("SeccompProfile union");
    assert_eq!(
        u[0].to_json(),
        json!({"discriminator": "type", "fields-to-discriminateBy": {"localhostProfile": "LocalhostProfile"}})
    );
    assert!(type_unions("io.k8s.api.flowcontrol.v1.PriorityLevelConfigurationSpec").is_some());
}

#[test]
fn table_is_sorted_unique_and_well_formed() {
    let all: Vec<_> = all_fields().collect();
    assert!(all.len() > 250, "{}", all.len());
    for w in all.windows(2) {
        assert!(
            (w[0].0, w[0].1) < (w[1].0, w[1].1),
            "not strictly sorted: {:?} / {:?}",
            w[0],
            w[1]
        );
    }
    for w in table::TYPE_MAP_TYPES.windows(2) {
        assert!(w[0].0 < w[1].0);
    }
    for w in table::UNIONS.windows(2) {
        assert!(w[0].0 < w[1].0);
    }
    for (d, f, m) in all {
        assert!(!m.extensions().is_empty(), "{d}.{f} has no extension");
        if let Some(s) = m.patch_strategy {
            assert!(
                ["merge", "retainKeys", "merge,retainKeys", "replace"].contains(&s),
                "{d}.{f}"
            );
        }
        if let Some(t) = m.list_type {
            assert!(["atomic", "set", "map"].contains(&t), "{d}.{f}");
        }
        if let Some(t) = m.map_type {
            assert!(["atomic", "granular"].contains(&t), "{d}.{f}");
        }
        assert_eq!(
            m.list_type == Some("map"),
            !m.list_map_keys.is_empty(),
            "{d}.{f}"
        );
        if m.patch_merge_key.is_some() {
            assert!(m.patch_strategy.unwrap_or("").contains("merge"), "{d}.{f}");
        }
    }
    for (_, t) in table::TYPE_MAP_TYPES {
        assert!(["atomic", "granular"].contains(t));
    }
}

/// Schemas of (roughly) every served 1.32 type, as k8s-openapi's schemars impls give them.
fn k8s_openapi_schemas() -> Map<String, Value> {
    use k8s_openapi::api::{
        admissionregistration::v1 as admreg, apps::v1 as apps, authentication::v1 as authn,
        authorization::v1 as authz, autoscaling::v1 as as1, autoscaling::v2 as as2,
        batch::v1 as batch, certificates::v1 as certs, coordination::v1 as coord, core::v1 as core,
        discovery::v1 as disc, events::v1 as events, flowcontrol::v1 as fc, networking::v1 as net,
        node::v1 as node, policy::v1 as policy, rbac::v1 as rbac, scheduling::v1 as sched,
        storage::v1 as storage,
    };
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiext;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
    use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1 as apireg;

    let mut g = schemars::generate::SchemaSettings::openapi3().into_generator();
    macro_rules! roots {
        ($($t:ty),* $(,)?) => { $( let _ = g.subschema_for::<$t>(); )* };
    }
    roots!(
        core::Pod,
        core::PodTemplate,
        core::ReplicationController,
        core::Service,
        core::Endpoints,
        core::Node,
        core::Namespace,
        core::PersistentVolume,
        core::PersistentVolumeClaim,
        core::ConfigMap,
        core::Secret,
        core::ServiceAccount,
        core::LimitRange,
        core::ResourceQuota,
        core::Event,
        core::ComponentStatus,
        core::Binding,
        apps::Deployment,
        apps::StatefulSet,
        apps::DaemonSet,
        apps::ReplicaSet,
        apps::ControllerRevision,
        batch::Job,
        batch::CronJob,
        as1::HorizontalPodAutoscaler,
        as1::Scale,
        as2::HorizontalPodAutoscaler,
        policy::PodDisruptionBudget,
        policy::Eviction,
        rbac::Role,
        rbac::ClusterRole,
        rbac::RoleBinding,
        rbac::ClusterRoleBinding,
        net::NetworkPolicy,
        net::Ingress,
        net::IngressClass,
        coord::Lease,
        disc::EndpointSlice,
        events::Event,
        storage::StorageClass,
        storage::CSIDriver,
        storage::CSINode,
        storage::CSIStorageCapacity,
        storage::VolumeAttachment,
        sched::PriorityClass,
        node::RuntimeClass,
        certs::CertificateSigningRequest,
        admreg::MutatingWebhookConfiguration,
        admreg::ValidatingWebhookConfiguration,
        admreg::ValidatingAdmissionPolicy,
        admreg::ValidatingAdmissionPolicyBinding,
        authn::TokenReview,
        authn::TokenRequest,
        authn::SelfSubjectReview,
        authz::SubjectAccessReview,
        authz::SelfSubjectAccessReview,
        authz::LocalSubjectAccessReview,
        authz::SelfSubjectRulesReview,
        fc::FlowSchema,
        fc::PriorityLevelConfiguration,
        meta::Status,
        meta::DeleteOptions,
        meta::APIResourceList,
        meta::APIGroupList,
        meta::APIVersions,
        meta::WatchEvent<core::Pod>,
        meta::Condition,
        apiext::CustomResourceDefinition,
        apireg::APIService,
    );
    g.take_definitions(true)
}

#[test]
fn every_table_definition_and_field_exists_in_k8s_openapi() {
    let schemas = k8s_openapi_schemas();
    assert!(schemas.contains_key("io.k8s.api.core.v1.PodSpec"));
    let mut missing = Vec::new();
    for d in definitions() {
        if !schemas.contains_key(d) {
            missing.push(d.to_owned());
        }
    }
    assert!(
        missing.is_empty(),
        "definitions not in k8s-openapi's schemas: {missing:#?}"
    );
    for (d, f, _) in all_fields() {
        let props = schemas[d]["properties"].as_object();
        assert!(
            props.is_some_and(|p| p.contains_key(f)),
            "{d} has no property {f} in k8s-openapi's schema"
        );
    }
    for (d, unions) in table::UNIONS {
        for u in *unions {
            for f in u
                .discriminator
                .into_iter()
                .chain(u.fields_to_discriminate_by.iter().map(|(f, _)| *f))
            {
                assert!(
                    schemas[*d]["properties"].get(f).is_some(),
                    "{d} has no union field {f}"
                );
            }
        }
    }
}

#[test]
fn annotate_schemas_adds_extensions() {
    let mut schemas = k8s_openapi_schemas();
    let before = schemas.clone();
    annotate_schemas(&mut schemas);

    let containers = &schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"];
    assert_eq!(containers["x-kubernetes-patch-merge-key"], json!("name"));
    assert_eq!(containers["x-kubernetes-patch-strategy"], json!("merge"));
    assert_eq!(containers["x-kubernetes-list-type"], json!("map"));
    assert_eq!(containers["x-kubernetes-list-map-keys"], json!(["name"]));
    assert_eq!(
        containers["type"],
        json!("array"),
        "the array schema itself is annotated"
    );
    assert!(
        containers["items"]
            .get("x-kubernetes-patch-merge-key")
            .is_none()
    );

    let ports = &schemas["io.k8s.api.core.v1.Container"]["properties"]["ports"];
    assert_eq!(
        ports["x-kubernetes-list-map-keys"],
        json!(["containerPort", "protocol"])
    );

    // A $ref property (allOf-wrapped by the openapi3 settings because of its description).
    let claim_ref = &schemas["io.k8s.api.core.v1.PersistentVolumeSpec"]["properties"]["claimRef"];
    assert_eq!(claim_ref["x-kubernetes-map-type"], json!("granular"));
    assert!(claim_ref.get("allOf").is_some() || claim_ref.get("$ref").is_some());

    // Type-level extensions.
    assert_eq!(
        schemas["io.k8s.api.core.v1.NodeSelectorTerm"]["x-kubernetes-map-type"],
        json!("atomic")
    );
    assert_eq!(
        schemas["io.k8s.api.flowcontrol.v1.Subject"]["x-kubernetes-unions"],
        json!([{"discriminator": "kind", "fields-to-discriminateBy": {
            "group": "Group", "serviceAccount": "ServiceAccount", "user": "User"}}])
    );

    // Untouched elsewhere.
    assert_eq!(
        schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["hostname"],
        before["io.k8s.api.core.v1.PodSpec"]["properties"]["hostname"]
    );
    assert!(
        schemas["io.k8s.api.core.v1.PodSpec"]
            .get("x-kubernetes-map-type")
            .is_none()
    );

    // Every table entry landed, and nothing else got an x-kubernetes-{patch,list,map} key.
    let mut annotated = 0;
    for (name, schema) in &schemas {
        let Some(props) = schema.get("properties").and_then(Value::as_object) else {
            continue;
        };
        for (p, v) in props {
            let has = v.as_object().is_some_and(|o| {
                o.keys().any(|k| {
                    k.starts_with("x-kubernetes-patch-")
                        || k.starts_with("x-kubernetes-list-")
                        || k == "x-kubernetes-map-type"
                })
            });
            if has {
                annotated += 1;
                let m =
                    field(name, p).unwrap_or_else(|| panic!("{name}.{p} annotated without entry"));
                for (k, val) in m.extensions() {
                    assert_eq!(v[&k], val, "{name}.{p} {k}");
                }
            }
        }
    }
    assert_eq!(annotated, all_fields().count());

    // Idempotent.
    let once = schemas.clone();
    annotate_schemas(&mut schemas);
    assert_eq!(schemas, once);
}

#[test]
fn annotate_plain_ref_property() {
    let mut schemas = Map::new();
    schemas.insert(
        "io.k8s.api.core.v1.PersistentVolumeSpec".into(),
        json!({"type": "object", "properties": {
            "claimRef": {"$ref": "#/components/schemas/io.k8s.api.core.v1.ObjectReference"}}}),
    );
    schemas.insert(
        "io.k8s.api.core.v1.ObjectReference".into(),
        json!({"type": "object"}),
    );
    annotate_schemas(&mut schemas);
    assert_eq!(
        schemas["io.k8s.api.core.v1.PersistentVolumeSpec"]["properties"]["claimRef"],
        json!({"$ref": "#/components/schemas/io.k8s.api.core.v1.ObjectReference",
               "x-kubernetes-map-type": "granular"})
    );
    assert_eq!(
        schemas["io.k8s.api.core.v1.ObjectReference"]["x-kubernetes-map-type"],
        json!("atomic")
    );
}
