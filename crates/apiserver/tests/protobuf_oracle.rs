//! Oracle round-trips: objects are built with k8s-pb's prost structs, encoded
//! with `prost::Message::encode_to_vec`, wrapped in the `k8s\0` + runtime.Unknown
//! envelope, and the transcoder's JSON is compared with the JSON upstream's Go
//! decoder + encoding/json produce for the same object (written by hand from
//! the Go struct definitions: pointer fields kept, omitempty zero values dropped,
//! non-pointer structs always present).
//!
//! Zero values of non-pointer Go fields are set explicitly (`Some(0)`, `Some("")`,
//! `Some(false)`) where gogo-protobuf would write them, to check they are dropped.

use std::collections::BTreeMap;

use apiserver::protobuf::{decode_body, decode_message};
use k8s_pb::api::core::v1 as core;
use k8s_pb::apimachinery::pkg::api::resource::Quantity;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_pb::apimachinery::pkg::runtime::{RawExtension, TypeMeta, Unknown};
use k8s_pb::apimachinery::pkg::util::intstr::IntOrString;
use prost::Message;
use serde_json::{json, Value};

fn s(x: &str) -> Option<String> {
    Some(x.to_string())
}

fn q(x: &str) -> Quantity {
    Quantity { string: s(x) }
}

fn qmap(pairs: &[(&str, &str)]) -> BTreeMap<String, Quantity> {
    pairs.iter().map(|(k, v)| (k.to_string(), q(v))).collect()
}

fn smap(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn int_or_str(i: i32) -> IntOrString {
    // gogo writes all three fields
    IntOrString {
        r#type: Some(0),
        int_val: Some(i),
        str_val: s(""),
    }
}

fn str_or_int(v: &str) -> IntOrString {
    IntOrString {
        r#type: Some(1),
        int_val: Some(0),
        str_val: s(v),
    }
}

fn lref(name: &str) -> Option<core::LocalObjectReference> {
    Some(core::LocalObjectReference { name: s(name) })
}

fn time(secs: i64) -> Option<meta::Time> {
    Some(meta::Time {
        seconds: Some(secs),
        nanos: Some(0),
    })
}

fn envelope<M: Message>(api_version: &str, kind: &str, m: &M) -> Vec<u8> {
    let u = Unknown {
        type_meta: Some(TypeMeta {
            api_version: s(api_version),
            kind: s(kind),
        }),
        raw: Some(m.encode_to_vec()),
        content_encoding: s(""),
        content_type: s(""),
    };
    let mut b = b"k8s\x00".to_vec();
    b.extend(u.encode_to_vec());
    b
}

#[track_caller]
fn assert_json_eq(got: &Value, want: &Value) {
    if got != want {
        panic!(
            "JSON mismatch\n got: {}\nwant: {}",
            serde_json::to_string_pretty(got).unwrap(),
            serde_json::to_string_pretty(want).unwrap()
        );
    }
}

#[track_caller]
fn check<M: Message>(api_version: &str, kind: &str, m: &M, want: Value) {
    let got = decode_body(&envelope(api_version, kind, m)).unwrap();
    assert_json_eq(&got, &want);
}

fn vol(name: &str, src: core::VolumeSource) -> core::Volume {
    core::Volume {
        name: s(name),
        volume_source: Some(src),
    }
}

/// One volume of every VolumeSource kind, with the JSON Go produces for it.
fn all_volumes() -> (Vec<core::Volume>, Vec<Value>) {
    use core::VolumeSource as VS;
    let d = VS::default;
    let secret_ref = lref("sec");
    let items = vec![core::KeyToPath {
        key: s("k"),
        path: s("p"),
        mode: Some(0o400),
    }];
    let mut v: Vec<(core::Volume, Value)> = vec![
        (
            vol(
                "hostpath",
                VS {
                    host_path: Some(core::HostPathVolumeSource {
                        path: s("/data"),
                        r#type: s(""),
                    }),
                    ..d()
                },
            ),
            // type is *HostPathType: "" kept
            json!({"name": "hostpath", "hostPath": {"path": "/data", "type": ""}}),
        ),
        (
            vol(
                "emptydir",
                VS {
                    empty_dir: Some(core::EmptyDirVolumeSource {
                        medium: s(""),
                        size_limit: Some(q("1Gi")),
                    }),
                    ..d()
                },
            ),
            json!({"name": "emptydir", "emptyDir": {"sizeLimit": "1Gi"}}),
        ),
        (
            vol(
                "emptydir-bare",
                VS {
                    empty_dir: Some(core::EmptyDirVolumeSource {
                        medium: s(""),
                        size_limit: None,
                    }),
                    ..d()
                },
            ),
            json!({"name": "emptydir-bare", "emptyDir": {}}),
        ),
        (
            vol(
                "gce",
                VS {
                    gce_persistent_disk: Some(core::GcePersistentDiskVolumeSource {
                        pd_name: s("pd"),
                        fs_type: s("ext4"),
                        partition: Some(0),
                        read_only: Some(false),
                    }),
                    ..d()
                },
            ),
            json!({"name": "gce", "gcePersistentDisk": {"pdName": "pd", "fsType": "ext4"}}),
        ),
        (
            vol(
                "aws",
                VS {
                    aws_elastic_block_store: Some(core::AwsElasticBlockStoreVolumeSource {
                        volume_id: s("vol-1"),
                        fs_type: s(""),
                        partition: Some(2),
                        read_only: Some(true),
                    }),
                    ..d()
                },
            ),
            json!({"name": "aws", "awsElasticBlockStore": {"volumeID": "vol-1", "partition": 2, "readOnly": true}}),
        ),
        (
            vol(
                "git",
                VS {
                    git_repo: Some(core::GitRepoVolumeSource {
                        repository: s("https://x/y.git"),
                        revision: s(""),
                        directory: s("."),
                    }),
                    ..d()
                },
            ),
            json!({"name": "git", "gitRepo": {"repository": "https://x/y.git", "directory": "."}}),
        ),
        (
            vol(
                "secret",
                VS {
                    secret: Some(core::SecretVolumeSource {
                        secret_name: s("mysecret"),
                        items: items.clone(),
                        default_mode: Some(0),
                        optional: Some(false),
                    }),
                    ..d()
                },
            ),
            // defaultMode *int32 and optional *bool are kept even when zero
            json!({"name": "secret", "secret": {"secretName": "mysecret", "items": [{"key": "k", "path": "p", "mode": 256}], "defaultMode": 0, "optional": false}}),
        ),
        (
            vol(
                "nfs",
                VS {
                    nfs: Some(core::NfsVolumeSource {
                        server: s("nfs.local"),
                        path: s("/exports"),
                        read_only: Some(false),
                    }),
                    ..d()
                },
            ),
            json!({"name": "nfs", "nfs": {"server": "nfs.local", "path": "/exports"}}),
        ),
        (
            vol(
                "iscsi",
                VS {
                    iscsi: Some(core::IscsiVolumeSource {
                        target_portal: s("10.0.0.1:3260"),
                        iqn: s("iqn.2001-04.com.example:storage"),
                        lun: Some(0),
                        iscsi_interface: s("default"),
                        fs_type: s("ext4"),
                        read_only: Some(false),
                        portals: vec!["10.0.0.2:3260".into()],
                        chap_auth_discovery: Some(false),
                        chap_auth_session: Some(true),
                        secret_ref: secret_ref.clone(),
                        initiator_name: s(""),
                    }),
                    ..d()
                },
            ),
            // lun is a non-omitempty int32: 0 kept; initiatorName *string: "" kept
            json!({"name": "iscsi", "iscsi": {"targetPortal": "10.0.0.1:3260", "iqn": "iqn.2001-04.com.example:storage", "lun": 0, "iscsiInterface": "default", "fsType": "ext4", "portals": ["10.0.0.2:3260"], "chapAuthSession": true, "secretRef": {"name": "sec"}, "initiatorName": ""}}),
        ),
        (
            vol(
                "gluster",
                VS {
                    glusterfs: Some(core::GlusterfsVolumeSource {
                        endpoints: s("ep"),
                        path: s("vol"),
                        read_only: Some(true),
                    }),
                    ..d()
                },
            ),
            json!({"name": "gluster", "glusterfs": {"endpoints": "ep", "path": "vol", "readOnly": true}}),
        ),
        (
            vol(
                "pvc",
                VS {
                    persistent_volume_claim: Some(core::PersistentVolumeClaimVolumeSource {
                        claim_name: s("claim"),
                        read_only: Some(false),
                    }),
                    ..d()
                },
            ),
            json!({"name": "pvc", "persistentVolumeClaim": {"claimName": "claim"}}),
        ),
        (
            vol(
                "rbd",
                VS {
                    rbd: Some(core::RbdVolumeSource {
                        monitors: vec!["m1".into(), "m2".into()],
                        image: s("img"),
                        fs_type: s(""),
                        pool: s("rbd"),
                        user: s("admin"),
                        keyring: s("/etc/ceph/keyring"),
                        secret_ref: None,
                        read_only: Some(false),
                    }),
                    ..d()
                },
            ),
            json!({"name": "rbd", "rbd": {"monitors": ["m1", "m2"], "image": "img", "pool": "rbd", "user": "admin", "keyring": "/etc/ceph/keyring"}}),
        ),
        (
            vol(
                "flex",
                VS {
                    flex_volume: Some(core::FlexVolumeSource {
                        driver: s("example/flex"),
                        fs_type: s(""),
                        secret_ref: secret_ref.clone(),
                        read_only: Some(false),
                        options: smap(&[("a", "1"), ("b", "")]),
                    }),
                    ..d()
                },
            ),
            json!({"name": "flex", "flexVolume": {"driver": "example/flex", "secretRef": {"name": "sec"}, "options": {"a": "1", "b": ""}}}),
        ),
        (
            vol(
                "cinder",
                VS {
                    cinder: Some(core::CinderVolumeSource {
                        volume_id: s("c1"),
                        fs_type: s("xfs"),
                        read_only: Some(false),
                        secret_ref: None,
                    }),
                    ..d()
                },
            ),
            json!({"name": "cinder", "cinder": {"volumeID": "c1", "fsType": "xfs"}}),
        ),
        (
            vol(
                "cephfs",
                VS {
                    cephfs: Some(core::CephFsVolumeSource {
                        monitors: vec!["mon".into()],
                        path: s("/"),
                        user: s(""),
                        secret_file: s(""),
                        secret_ref: secret_ref.clone(),
                        read_only: Some(true),
                    }),
                    ..d()
                },
            ),
            json!({"name": "cephfs", "cephfs": {"monitors": ["mon"], "path": "/", "secretRef": {"name": "sec"}, "readOnly": true}}),
        ),
        (
            vol(
                "flocker",
                VS {
                    flocker: Some(core::FlockerVolumeSource {
                        dataset_name: s("ds"),
                        dataset_uuid: s(""),
                    }),
                    ..d()
                },
            ),
            json!({"name": "flocker", "flocker": {"datasetName": "ds"}}),
        ),
        (
            vol(
                "downward",
                VS {
                    downward_api: Some(core::DownwardAPIVolumeSource {
                        items: vec![
                            core::DownwardAPIVolumeFile {
                                path: s("labels"),
                                field_ref: Some(core::ObjectFieldSelector {
                                    api_version: s("v1"),
                                    field_path: s("metadata.labels"),
                                }),
                                resource_field_ref: None,
                                mode: None,
                            },
                            core::DownwardAPIVolumeFile {
                                path: s("cpu"),
                                field_ref: None,
                                resource_field_ref: Some(core::ResourceFieldSelector {
                                    container_name: s("app"),
                                    resource: s("limits.cpu"),
                                    divisor: Some(q("1m")),
                                }),
                                mode: Some(0o644),
                            },
                        ],
                        default_mode: Some(0o644),
                    }),
                    ..d()
                },
            ),
            json!({"name": "downward", "downwardAPI": {"items": [
                {"path": "labels", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.labels"}},
                {"path": "cpu", "resourceFieldRef": {"containerName": "app", "resource": "limits.cpu", "divisor": "1m"}, "mode": 420}
            ], "defaultMode": 420}}),
        ),
        (
            vol(
                "fc",
                VS {
                    fc: Some(core::FcVolumeSource {
                        target_ww_ns: vec!["500a0982991b8dc5".into()],
                        lun: Some(0),
                        fs_type: s(""),
                        read_only: Some(false),
                        wwids: vec![],
                    }),
                    ..d()
                },
            ),
            // lun is *int32 here: 0 kept
            json!({"name": "fc", "fc": {"targetWWNs": ["500a0982991b8dc5"], "lun": 0}}),
        ),
        (
            vol(
                "azurefile",
                VS {
                    azure_file: Some(core::AzureFileVolumeSource {
                        secret_name: s("az"),
                        share_name: s("share"),
                        read_only: Some(false),
                    }),
                    ..d()
                },
            ),
            json!({"name": "azurefile", "azureFile": {"secretName": "az", "shareName": "share"}}),
        ),
        (
            vol(
                "configmap",
                VS {
                    config_map: Some(core::ConfigMapVolumeSource {
                        local_object_reference: lref("cm"),
                        items: vec![],
                        default_mode: Some(420),
                        optional: Some(true),
                    }),
                    ..d()
                },
            ),
            // LocalObjectReference is embedded inline
            json!({"name": "configmap", "configMap": {"name": "cm", "defaultMode": 420, "optional": true}}),
        ),
        (
            vol(
                "vsphere",
                VS {
                    vsphere_volume: Some(core::VsphereVirtualDiskVolumeSource {
                        volume_path: s("[ds] vol.vmdk"),
                        fs_type: s(""),
                        storage_policy_name: s("gold"),
                        storage_policy_id: s(""),
                    }),
                    ..d()
                },
            ),
            json!({"name": "vsphere", "vsphereVolume": {"volumePath": "[ds] vol.vmdk", "storagePolicyName": "gold"}}),
        ),
        (
            vol(
                "quobyte",
                VS {
                    quobyte: Some(core::QuobyteVolumeSource {
                        registry: s("reg:7861"),
                        volume: s("v"),
                        read_only: Some(false),
                        user: s(""),
                        group: s(""),
                        tenant: s("t"),
                    }),
                    ..d()
                },
            ),
            json!({"name": "quobyte", "quobyte": {"registry": "reg:7861", "volume": "v", "tenant": "t"}}),
        ),
        (
            vol(
                "azuredisk",
                VS {
                    azure_disk: Some(core::AzureDiskVolumeSource {
                        disk_name: s("d"),
                        disk_uri: s("https://disk"),
                        caching_mode: s("ReadOnly"),
                        fs_type: s(""),
                        read_only: Some(false),
                        kind: None,
                    }),
                    ..d()
                },
            ),
            // cachingMode, fsType, readOnly are pointers: kept
            json!({"name": "azuredisk", "azureDisk": {"diskName": "d", "diskURI": "https://disk", "cachingMode": "ReadOnly", "fsType": "", "readOnly": false}}),
        ),
        (
            vol(
                "photon",
                VS {
                    photon_persistent_disk: Some(core::PhotonPersistentDiskVolumeSource {
                        pd_id: s("p1"),
                        fs_type: s(""),
                    }),
                    ..d()
                },
            ),
            json!({"name": "photon", "photonPersistentDisk": {"pdID": "p1"}}),
        ),
        (
            vol(
                "projected",
                VS {
                    projected: Some(core::ProjectedVolumeSource {
                        sources: vec![
                            core::VolumeProjection {
                                service_account_token: Some(core::ServiceAccountTokenProjection {
                                    audience: s(""),
                                    expiration_seconds: Some(3607),
                                    path: s("token"),
                                }),
                                ..Default::default()
                            },
                            core::VolumeProjection {
                                config_map: Some(core::ConfigMapProjection {
                                    local_object_reference: lref("kube-root-ca.crt"),
                                    items: vec![core::KeyToPath {
                                        key: s("ca.crt"),
                                        path: s("ca.crt"),
                                        mode: None,
                                    }],
                                    optional: None,
                                }),
                                ..Default::default()
                            },
                            core::VolumeProjection {
                                secret: Some(core::SecretProjection {
                                    local_object_reference: lref("s"),
                                    items: vec![],
                                    optional: Some(false),
                                }),
                                ..Default::default()
                            },
                            core::VolumeProjection {
                                downward_api: Some(core::DownwardAPIProjection {
                                    items: vec![core::DownwardAPIVolumeFile {
                                        path: s("namespace"),
                                        field_ref: Some(core::ObjectFieldSelector {
                                            api_version: s("v1"),
                                            field_path: s("metadata.namespace"),
                                        }),
                                        resource_field_ref: None,
                                        mode: None,
                                    }],
                                }),
                                ..Default::default()
                            },
                            core::VolumeProjection {
                                cluster_trust_bundle: Some(core::ClusterTrustBundleProjection {
                                    name: None,
                                    signer_name: s("example.com/signer"),
                                    label_selector: Some(meta::LabelSelector {
                                        match_labels: smap(&[("a", "b")]),
                                        match_expressions: vec![],
                                    }),
                                    optional: Some(true),
                                    path: s("bundle.pem"),
                                }),
                                ..Default::default()
                            },
                        ],
                        default_mode: Some(420),
                    }),
                    ..d()
                },
            ),
            json!({"name": "projected", "projected": {"sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"secret": {"name": "s", "optional": false}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
                {"clusterTrustBundle": {"signerName": "example.com/signer", "labelSelector": {"matchLabels": {"a": "b"}}, "optional": true, "path": "bundle.pem"}}
            ], "defaultMode": 420}}),
        ),
        (
            vol(
                "portworx",
                VS {
                    portworx_volume: Some(core::PortworxVolumeSource {
                        volume_id: s("px"),
                        fs_type: s(""),
                        read_only: Some(false),
                    }),
                    ..d()
                },
            ),
            json!({"name": "portworx", "portworxVolume": {"volumeID": "px"}}),
        ),
        (
            vol(
                "scaleio",
                VS {
                    scale_io: Some(core::ScaleIoVolumeSource {
                        gateway: s("gw"),
                        system: s("sys"),
                        secret_ref: secret_ref.clone(),
                        ssl_enabled: Some(false),
                        protection_domain: s(""),
                        storage_pool: s(""),
                        storage_mode: s("ThinProvisioned"),
                        volume_name: s("v"),
                        fs_type: s("xfs"),
                        read_only: Some(false),
                    }),
                    ..d()
                },
            ),
            json!({"name": "scaleio", "scaleIO": {"gateway": "gw", "system": "sys", "secretRef": {"name": "sec"}, "storageMode": "ThinProvisioned", "volumeName": "v", "fsType": "xfs"}}),
        ),
        (
            vol(
                "storageos",
                VS {
                    storageos: Some(core::StorageOsVolumeSource {
                        volume_name: s("v"),
                        volume_namespace: s(""),
                        fs_type: s(""),
                        read_only: Some(true),
                        secret_ref: None,
                    }),
                    ..d()
                },
            ),
            json!({"name": "storageos", "storageos": {"volumeName": "v", "readOnly": true}}),
        ),
        (
            vol(
                "csi",
                VS {
                    csi: Some(core::CSIVolumeSource {
                        driver: s("csi.example.com"),
                        read_only: Some(false),
                        fs_type: None,
                        volume_attributes: smap(&[("size", "1")]),
                        node_publish_secret_ref: lref("np"),
                    }),
                    ..d()
                },
            ),
            json!({"name": "csi", "csi": {"driver": "csi.example.com", "readOnly": false, "volumeAttributes": {"size": "1"}, "nodePublishSecretRef": {"name": "np"}}}),
        ),
        (
            vol(
                "ephemeral",
                VS {
                    ephemeral: Some(core::EphemeralVolumeSource {
                        volume_claim_template: Some(core::PersistentVolumeClaimTemplate {
                            metadata: Some(meta::ObjectMeta {
                                labels: smap(&[("type", "scratch")]),
                                ..Default::default()
                            }),
                            spec: Some(core::PersistentVolumeClaimSpec {
                                access_modes: vec!["ReadWriteOnce".into()],
                                selector: None,
                                resources: Some(core::VolumeResourceRequirements {
                                    limits: BTreeMap::new(),
                                    requests: qmap(&[("storage", "1Gi")]),
                                }),
                                volume_name: s(""),
                                storage_class_name: s(""),
                                volume_mode: s("Filesystem"),
                                data_source: None,
                                data_source_ref: None,
                                volume_attributes_class_name: None,
                            }),
                        }),
                    }),
                    ..d()
                },
            ),
            // storageClassName *string: "" is meaningful and kept
            json!({"name": "ephemeral", "ephemeral": {"volumeClaimTemplate": {
                "metadata": {"labels": {"type": "scratch"}},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}, "storageClassName": "", "volumeMode": "Filesystem"}
            }}}),
        ),
        (
            vol(
                "image",
                VS {
                    image: Some(core::ImageVolumeSource {
                        reference: s("quay.io/x:1"),
                        pull_policy: s(""),
                    }),
                    ..d()
                },
            ),
            json!({"name": "image", "image": {"reference": "quay.io/x:1"}}),
        ),
        (
            // a volume without any source: VolumeSource is inline, nothing added
            core::Volume {
                name: s("empty"),
                volume_source: None,
            },
            json!({"name": "empty"}),
        ),
    ];
    let (a, b): (Vec<_>, Vec<_>) = v.drain(..).unzip();
    (a, b)
}

fn probe_http() -> core::Probe {
    core::Probe {
        handler: Some(core::ProbeHandler {
            http_get: Some(core::HttpGetAction {
                path: s("/healthz"),
                port: Some(int_or_str(8080)),
                host: s(""),
                scheme: s("HTTP"),
                http_headers: vec![core::HttpHeader {
                    name: s("X-A"),
                    value: s(""),
                }],
            }),
            ..Default::default()
        }),
        initial_delay_seconds: Some(0),
        timeout_seconds: Some(1),
        period_seconds: Some(10),
        success_threshold: Some(1),
        failure_threshold: Some(3),
        termination_grace_period_seconds: Some(0),
    }
}

#[test]
fn rich_pod() {
    let (volumes, volumes_json) = all_volumes();
    let container = core::Container {
        name: s("app"),
        image: s("nginx:1.27"),
        command: vec!["/bin/sh".into(), "-c".into()],
        args: vec!["exec nginx".into()],
        working_dir: s(""),
        ports: vec![
            core::ContainerPort {
                name: s("http"),
                host_port: Some(0),
                container_port: Some(8080),
                protocol: s("TCP"),
                host_ip: s(""),
            },
            core::ContainerPort {
                name: s(""),
                host_port: Some(0),
                container_port: Some(0),
                protocol: s("UDP"),
                host_ip: s(""),
            },
        ],
        env_from: vec![
            core::EnvFromSource {
                prefix: s("CM_"),
                config_map_ref: Some(core::ConfigMapEnvSource {
                    local_object_reference: lref("cm"),
                    optional: Some(false),
                }),
                secret_ref: None,
            },
            core::EnvFromSource {
                prefix: s(""),
                config_map_ref: None,
                secret_ref: Some(core::SecretEnvSource {
                    local_object_reference: lref("sec"),
                    optional: None,
                }),
            },
        ],
        env: vec![
            core::EnvVar {
                name: s("EMPTY"),
                value: s(""),
                value_from: None,
            },
            core::EnvVar {
                name: s("PLAIN"),
                value: s("v"),
                value_from: None,
            },
            core::EnvVar {
                name: s("POD_NAME"),
                value: s(""),
                value_from: Some(core::EnvVarSource {
                    field_ref: Some(core::ObjectFieldSelector {
                        api_version: s("v1"),
                        field_path: s("metadata.name"),
                    }),
                    ..Default::default()
                }),
            },
            core::EnvVar {
                name: s("MEM"),
                value: s(""),
                value_from: Some(core::EnvVarSource {
                    // divisor absent: Go's non-pointer Quantity marshals as "0"
                    resource_field_ref: Some(core::ResourceFieldSelector {
                        container_name: s(""),
                        resource: s("limits.memory"),
                        divisor: None,
                    }),
                    ..Default::default()
                }),
            },
            core::EnvVar {
                name: s("CMKEY"),
                value: s(""),
                value_from: Some(core::EnvVarSource {
                    config_map_key_ref: Some(core::ConfigMapKeySelector {
                        local_object_reference: lref("cm"),
                        key: s("k"),
                        optional: Some(true),
                    }),
                    ..Default::default()
                }),
            },
            core::EnvVar {
                name: s("SECKEY"),
                value: s(""),
                value_from: Some(core::EnvVarSource {
                    secret_key_ref: Some(core::SecretKeySelector {
                        local_object_reference: lref("sec"),
                        key: s("password"),
                        optional: None,
                    }),
                    ..Default::default()
                }),
            },
        ],
        resources: Some(core::ResourceRequirements {
            limits: qmap(&[
                ("cpu", "500m"),
                ("memory", "128Mi"),
                ("nvidia.com/gpu", "1"),
            ]),
            requests: qmap(&[
                ("cpu", "250m"),
                ("memory", "64Mi"),
                ("ephemeral-storage", "2G"),
            ]),
            claims: vec![],
        }),
        resize_policy: vec![],
        restart_policy: None,
        volume_mounts: vec![
            core::VolumeMount {
                name: s("configmap"),
                read_only: Some(true),
                recursive_read_only: None,
                mount_path: s("/etc/cfg"),
                sub_path: s(""),
                mount_propagation: None,
                sub_path_expr: s(""),
            },
            core::VolumeMount {
                name: s("emptydir"),
                read_only: Some(false),
                recursive_read_only: None,
                mount_path: s("/tmp"),
                sub_path: s("x"),
                mount_propagation: s("None"),
                sub_path_expr: s(""),
            },
        ],
        volume_devices: vec![],
        liveness_probe: Some(probe_http()),
        readiness_probe: Some(core::Probe {
            handler: Some(core::ProbeHandler {
                tcp_socket: Some(core::TcpSocketAction {
                    port: Some(str_or_int("http")),
                    host: s(""),
                }),
                ..Default::default()
            }),
            initial_delay_seconds: Some(5),
            timeout_seconds: Some(0),
            period_seconds: Some(0),
            success_threshold: Some(0),
            failure_threshold: Some(0),
            termination_grace_period_seconds: None,
        }),
        startup_probe: Some(core::Probe {
            handler: Some(core::ProbeHandler {
                exec: Some(core::ExecAction {
                    command: vec!["cat".into(), "/ready".into()],
                }),
                ..Default::default()
            }),
            ..Default::default()
        }),
        lifecycle: Some(core::Lifecycle {
            post_start: Some(core::LifecycleHandler {
                exec: Some(core::ExecAction {
                    command: vec!["true".into()],
                }),
                ..Default::default()
            }),
            pre_stop: Some(core::LifecycleHandler {
                sleep: Some(core::SleepAction { seconds: Some(0) }),
                ..Default::default()
            }),
            stop_signal: None,
        }),
        termination_message_path: s("/dev/termination-log"),
        termination_message_policy: s("File"),
        image_pull_policy: s("IfNotPresent"),
        security_context: Some(core::SecurityContext {
            capabilities: Some(core::Capabilities {
                add: vec!["NET_ADMIN".into()],
                drop: vec!["ALL".into()],
            }),
            privileged: None,
            se_linux_options: None,
            windows_options: None,
            run_as_user: Some(0),
            run_as_group: None,
            run_as_non_root: Some(false),
            read_only_root_filesystem: Some(true),
            allow_privilege_escalation: Some(false),
            proc_mount: None,
            seccomp_profile: Some(core::SeccompProfile {
                r#type: s("RuntimeDefault"),
                localhost_profile: None,
            }),
            app_armor_profile: None,
        }),
        stdin: Some(false),
        stdin_once: Some(false),
        tty: Some(false),
        ..Default::default()
    };
    let init = core::Container {
        name: s("init"),
        image: s("busybox"),
        restart_policy: s("Always"),
        stdin: Some(true),
        ..Default::default()
    };
    let pod = core::Pod {
        metadata: Some(meta::ObjectMeta {
            name: s("rich"),
            generate_name: s(""),
            namespace: s("default"),
            self_link: s(""),
            uid: s(""),
            resource_version: s(""),
            generation: Some(0),
            creation_timestamp: Some(meta::Time::default()), // gogo: zero Time = empty message
            deletion_timestamp: None,
            deletion_grace_period_seconds: None,
            labels: smap(&[("app", "rich"), ("tier", "")]),
            annotations: BTreeMap::new(),
            owner_references: vec![],
            finalizers: vec![],
            managed_fields: vec![],
        }),
        spec: Some(core::PodSpec {
            volumes,
            init_containers: vec![init],
            containers: vec![container],
            restart_policy: s("Always"),
            termination_grace_period_seconds: Some(0),
            active_deadline_seconds: None,
            dns_policy: s("ClusterFirst"),
            node_selector: smap(&[("kubernetes.io/os", "linux")]),
            service_account_name: s("default"),
            service_account: s(""),
            automount_service_account_token: Some(false),
            node_name: s(""),
            host_network: Some(false),
            host_pid: Some(false),
            host_ipc: Some(false),
            share_process_namespace: Some(false),
            security_context: Some(core::PodSecurityContext {
                run_as_user: Some(0),
                run_as_group: Some(0),
                run_as_non_root: None,
                supplemental_groups: vec![0, 1000, -1],
                fs_group: Some(0),
                sysctls: vec![core::Sysctl {
                    name: s("net.core.somaxconn"),
                    value: s("1024"),
                }],
                ..Default::default()
            }),
            image_pull_secrets: vec![core::LocalObjectReference { name: s("regcred") }],
            hostname: s(""),
            subdomain: s(""),
            affinity: Some(core::Affinity {
                node_affinity: Some(core::NodeAffinity {
                    required_during_scheduling_ignored_during_execution: Some(core::NodeSelector {
                        node_selector_terms: vec![core::NodeSelectorTerm {
                            match_expressions: vec![core::NodeSelectorRequirement {
                                key: s("zone"),
                                operator: s("In"),
                                values: vec!["a".into(), "b".into()],
                            }],
                            match_fields: vec![],
                        }],
                    }),
                    preferred_during_scheduling_ignored_during_execution: vec![
                        core::PreferredSchedulingTerm {
                            weight: Some(0),
                            preference: Some(core::NodeSelectorTerm::default()),
                        },
                    ],
                }),
                pod_affinity: None,
                pod_anti_affinity: Some(core::PodAntiAffinity {
                    required_during_scheduling_ignored_during_execution: vec![],
                    preferred_during_scheduling_ignored_during_execution: vec![
                        core::WeightedPodAffinityTerm {
                            weight: Some(100),
                            pod_affinity_term: Some(core::PodAffinityTerm {
                                label_selector: Some(meta::LabelSelector {
                                    match_labels: BTreeMap::new(),
                                    match_expressions: vec![meta::LabelSelectorRequirement {
                                        key: s("app"),
                                        operator: s("Exists"),
                                        values: vec![],
                                    }],
                                }),
                                namespaces: vec![],
                                topology_key: s("kubernetes.io/hostname"),
                                namespace_selector: None,
                                match_label_keys: vec!["pod-template-hash".into()],
                                mismatch_label_keys: vec![],
                            }),
                        },
                    ],
                }),
            }),
            scheduler_name: s("default-scheduler"),
            tolerations: vec![
                core::Toleration {
                    key: s("node.kubernetes.io/not-ready"),
                    operator: s("Exists"),
                    value: s(""),
                    effect: s("NoExecute"),
                    toleration_seconds: Some(0),
                },
                core::Toleration {
                    key: s(""),
                    operator: s("Exists"),
                    value: s(""),
                    effect: s(""),
                    toleration_seconds: None,
                },
            ],
            host_aliases: vec![],
            priority_class_name: s(""),
            priority: Some(0),
            dns_config: None,
            readiness_gates: vec![],
            runtime_class_name: None,
            enable_service_links: Some(false),
            preemption_policy: s("PreemptLowerPriority"),
            overhead: BTreeMap::new(),
            topology_spread_constraints: vec![core::TopologySpreadConstraint {
                max_skew: Some(1),
                topology_key: s("topology.kubernetes.io/zone"),
                when_unsatisfiable: s("DoNotSchedule"),
                label_selector: Some(meta::LabelSelector {
                    match_labels: smap(&[("app", "rich")]),
                    match_expressions: vec![],
                }),
                min_domains: Some(0),
                node_affinity_policy: None,
                node_taints_policy: s("Honor"),
                match_label_keys: vec![],
            }],
            set_hostname_as_fqdn: None,
            os: None,
            host_users: Some(false),
            scheduling_gates: vec![],
            resource_claims: vec![],
            resources: None,
            // a field from a newer Kubernetes than 1.32: unknown here, must be skipped
            hostname_override: s("ignored"),
            ..Default::default()
        }),
        status: None,
    };

    let container_json = json!({
        "name": "app",
        "image": "nginx:1.27",
        "command": ["/bin/sh", "-c"],
        "args": ["exec nginx"],
        "ports": [
            {"name": "http", "containerPort": 8080, "protocol": "TCP"},
            {"containerPort": 0, "protocol": "UDP"}
        ],
        "envFrom": [
            {"prefix": "CM_", "configMapRef": {"name": "cm", "optional": false}},
            {"secretRef": {"name": "sec"}}
        ],
        "env": [
            {"name": "EMPTY"},
            {"name": "PLAIN", "value": "v"},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
            {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "0"}}},
            {"name": "CMKEY", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k", "optional": true}}},
            {"name": "SECKEY", "valueFrom": {"secretKeyRef": {"name": "sec", "key": "password"}}}
        ],
        "resources": {
            "limits": {"cpu": "500m", "memory": "128Mi", "nvidia.com/gpu": "1"},
            "requests": {"cpu": "250m", "memory": "64Mi", "ephemeral-storage": "2G"}
        },
        "volumeMounts": [
            {"name": "configmap", "readOnly": true, "mountPath": "/etc/cfg"},
            {"name": "emptydir", "mountPath": "/tmp", "subPath": "x", "mountPropagation": "None"}
        ],
        "livenessProbe": {
            "httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP", "httpHeaders": [{"name": "X-A", "value": ""}]},
            "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3,
            "terminationGracePeriodSeconds": 0
        },
        "readinessProbe": {"tcpSocket": {"port": "http"}, "initialDelaySeconds": 5},
        "startupProbe": {"exec": {"command": ["cat", "/ready"]}},
        "lifecycle": {
            "postStart": {"exec": {"command": ["true"]}},
            "preStop": {"sleep": {"seconds": 0}}
        },
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "imagePullPolicy": "IfNotPresent",
        "securityContext": {
            "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]},
            "runAsUser": 0,
            "runAsNonRoot": false,
            "readOnlyRootFilesystem": true,
            "allowPrivilegeEscalation": false,
            "seccompProfile": {"type": "RuntimeDefault"}
        }
    });
    let want = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "rich", "namespace": "default", "labels": {"app": "rich", "tier": ""}},
        "spec": {
            "volumes": volumes_json,
            "initContainers": [{"name": "init", "image": "busybox", "resources": {}, "restartPolicy": "Always", "stdin": true}],
            "containers": [container_json],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 0,
            "dnsPolicy": "ClusterFirst",
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "serviceAccountName": "default",
            "automountServiceAccountToken": false,
            "shareProcessNamespace": false, // *bool: kept (hostNetwork/hostPID/hostIPC are plain bools: dropped)
            "securityContext": {
                "runAsUser": 0, "runAsGroup": 0, "supplementalGroups": [0, 1000, -1], "fsGroup": 0,
                "sysctls": [{"name": "net.core.somaxconn", "value": "1024"}]
            },
            "imagePullSecrets": [{"name": "regcred"}],
            "affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                        {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]}]}
                    ]},
                    "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 0, "preference": {}}]
                },
                "podAntiAffinity": {
                    "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "podAffinityTerm": {
                        "labelSelector": {"matchExpressions": [{"key": "app", "operator": "Exists"}]},
                        "topologyKey": "kubernetes.io/hostname",
                        "matchLabelKeys": ["pod-template-hash"]
                    }}]
                }
            },
            "schedulerName": "default-scheduler",
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 0},
                {"operator": "Exists"}
            ],
            "priority": 0,
            "enableServiceLinks": false,
            "preemptionPolicy": "PreemptLowerPriority",
            "topologySpreadConstraints": [{
                "maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchLabels": {"app": "rich"}}, "minDomains": 0, "nodeTaintsPolicy": "Honor"
            }],
            "hostUsers": false
        },
        "status": {}
    });
    check("v1", "Pod", &pod, want);
}

#[test]
fn deployment_replicas_zero_kept_min_ready_seconds_zero_dropped() {
    use k8s_pb::api::apps::v1 as apps;
    let d = apps::Deployment {
        metadata: Some(meta::ObjectMeta {
            name: s("web"),
            generate_name: s(""),
            namespace: s(""),
            creation_timestamp: Some(meta::Time::default()),
            ..Default::default()
        }),
        spec: Some(apps::DeploymentSpec {
            replicas: Some(0),
            selector: Some(meta::LabelSelector {
                match_labels: smap(&[("app", "web")]),
                match_expressions: vec![],
            }),
            template: Some(core::PodTemplateSpec {
                metadata: Some(meta::ObjectMeta {
                    labels: smap(&[("app", "web")]),
                    creation_timestamp: Some(meta::Time::default()),
                    ..Default::default()
                }),
                spec: Some(core::PodSpec {
                    containers: vec![core::Container {
                        name: s("nginx"),
                        image: s("nginx"),
                        resources: Some(core::ResourceRequirements::default()),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
            }),
            strategy: Some(apps::DeploymentStrategy {
                r#type: s(""),
                rolling_update: None,
            }),
            min_ready_seconds: Some(0),
            revision_history_limit: None,
            paused: Some(false),
            progress_deadline_seconds: None,
        }),
        status: Some(apps::DeploymentStatus {
            observed_generation: Some(0),
            replicas: Some(0),
            updated_replicas: Some(0),
            ready_replicas: Some(0),
            available_replicas: Some(0),
            unavailable_replicas: Some(0),
            terminating_replicas: None,
            conditions: vec![],
            collision_count: None,
        }),
    };
    // the shape of `kubectl create deployment web --image=nginx --replicas=0 -o json`
    check(
        "apps/v1",
        "Deployment",
        &d,
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "nginx", "image": "nginx", "resources": {}}]}
                },
                "strategy": {}
            },
            "status": {}
        }),
    );

    // replicas absent (nil pointer) must be omitted, not defaulted
    let mut d2 = d.clone();
    d2.spec.as_mut().unwrap().replicas = None;
    let got = decode_body(&envelope("apps/v1", "Deployment", &d2)).unwrap();
    assert!(got["spec"].get("replicas").is_none());
    assert!(got["spec"].get("minReadySeconds").is_none());
}

#[test]
fn service_target_ports() {
    let svc = core::Service {
        metadata: Some(meta::ObjectMeta {
            name: s("svc"),
            ..Default::default()
        }),
        spec: Some(core::ServiceSpec {
            ports: vec![
                core::ServicePort {
                    name: s("http"),
                    protocol: s("TCP"),
                    app_protocol: None,
                    port: Some(80),
                    target_port: Some(str_or_int("web")),
                    node_port: Some(0),
                },
                core::ServicePort {
                    name: s("https"),
                    protocol: s("TCP"),
                    app_protocol: s("https"),
                    port: Some(443),
                    target_port: Some(int_or_str(8443)),
                    node_port: Some(30443),
                },
                core::ServicePort {
                    name: s("unset"),
                    protocol: s("UDP"),
                    app_protocol: None,
                    port: Some(53),
                    // absent non-pointer IntOrString: Go's zero value marshals as 0
                    target_port: None,
                    node_port: None,
                },
            ],
            selector: smap(&[("app", "web")]),
            cluster_ip: s(""),
            r#type: s("ClusterIP"),
            external_ips: vec![],
            session_affinity: s(""),
            publish_not_ready_addresses: Some(false),
            ip_family_policy: None,
            allocate_load_balancer_node_ports: None,
            internal_traffic_policy: None,
            ..Default::default()
        }),
        status: Some(core::ServiceStatus {
            load_balancer: Some(core::LoadBalancerStatus::default()),
            conditions: vec![],
        }),
    };
    check(
        "v1",
        "Service",
        &svc,
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "svc"},
            "spec": {
                "ports": [
                    {"name": "http", "protocol": "TCP", "port": 80, "targetPort": "web"},
                    {"name": "https", "protocol": "TCP", "appProtocol": "https", "port": 443, "targetPort": 8443, "nodePort": 30443},
                    {"name": "unset", "protocol": "UDP", "port": 53, "targetPort": 0}
                ],
                "selector": {"app": "web"},
                "type": "ClusterIP"
            },
            "status": {"loadBalancer": {}}
        }),
    );
}

#[test]
fn secret_binary_data_base64() {
    let bin: Vec<u8> = (0u8..=255).collect();
    let mut data = BTreeMap::new();
    data.insert("bin".to_string(), bin.clone());
    data.insert("empty".to_string(), vec![]);
    data.insert("text".to_string(), b"hello\n".to_vec());
    let sec = core::Secret {
        metadata: Some(meta::ObjectMeta {
            name: s("sec"),
            namespace: s("ns"),
            ..Default::default()
        }),
        immutable: Some(false),
        data,
        string_data: smap(&[("plain", "text")]),
        r#type: s("Opaque"),
    };
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&bin);
    check(
        "v1",
        "Secret",
        &sec,
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "sec", "namespace": "ns"},
            "immutable": false, // *bool: kept
            "data": {"bin": b64, "empty": "", "text": "aGVsbG8K"},
            "stringData": {"plain": "text"},
            "type": "Opaque"
        }),
    );
}

#[test]
fn configmap_binary_data() {
    let mut binary = BTreeMap::new();
    binary.insert("blob".to_string(), vec![0xff, 0x00, 0xfe]);
    let cm = core::ConfigMap {
        metadata: Some(meta::ObjectMeta {
            name: s("cm"),
            ..Default::default()
        }),
        immutable: None,
        data: smap(&[("key", "value"), ("multi", "a\nb\n")]),
        binary_data: binary,
    };
    check(
        "v1",
        "ConfigMap",
        &cm,
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "cm"},
            "data": {"key": "value", "multi": "a\nb\n"},
            "binaryData": {"blob": "/wD+"}
        }),
    );
}

#[test]
fn object_meta_times_and_managed_fields() {
    let cm = core::ConfigMap {
        metadata: Some(meta::ObjectMeta {
            name: s("m"),
            generate_name: s("m-"),
            namespace: s("default"),
            uid: s("6b1e1b2c-0000-4000-8000-000000000001"),
            resource_version: s("42"),
            generation: Some(3),
            creation_timestamp: time(1_700_000_000),
            deletion_timestamp: time(1_700_000_123),
            deletion_grace_period_seconds: Some(0),
            labels: BTreeMap::new(),
            annotations: smap(&[("a", "b")]),
            owner_references: vec![meta::OwnerReference {
                kind: s("ReplicaSet"),
                name: s("rs"),
                uid: s("u"),
                api_version: s("apps/v1"),
                controller: Some(true),
                block_owner_deletion: Some(false),
            }],
            finalizers: vec!["kubernetes".into()],
            managed_fields: vec![
                meta::ManagedFieldsEntry {
                    manager: s("kubectl-create"),
                    operation: s("Update"),
                    api_version: s("v1"),
                    time: time(1_700_000_000),
                    fields_type: s("FieldsV1"),
                    fields_v1: Some(meta::FieldsV1 {
                        raw: Some(br#"{"f:data":{".":{},"f:k":{}}}"#.to_vec()),
                    }),
                    subresource: s(""),
                },
                meta::ManagedFieldsEntry {
                    manager: s("other"),
                    operation: s("Apply"),
                    api_version: s(""),
                    time: None,
                    fields_type: s(""),
                    fields_v1: None,
                    subresource: s("status"),
                },
            ],
            ..Default::default()
        }),
        ..Default::default()
    };
    check(
        "v1",
        "ConfigMap",
        &cm,
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "m",
                "generateName": "m-",
                "namespace": "default",
                "uid": "6b1e1b2c-0000-4000-8000-000000000001",
                "resourceVersion": "42",
                "generation": 3,
                "creationTimestamp": "2023-11-14T22:13:20Z",
                "deletionTimestamp": "2023-11-14T22:15:23Z",
                "deletionGracePeriodSeconds": 0,
                "annotations": {"a": "b"},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "u", "controller": true, "blockOwnerDeletion": false}],
                "finalizers": ["kubernetes"],
                "managedFields": [
                    {"manager": "kubectl-create", "operation": "Update", "apiVersion": "v1", "time": "2023-11-14T22:13:20Z",
                     "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {".": {}, "f:k": {}}}},
                    {"manager": "other", "operation": "Apply", "subresource": "status"}
                ]
            }
        }),
    );

    // Time nanos are dropped by upstream's Time.Unmarshal; the Go zero time
    // (0001-01-01, as seconds) is null and therefore omitted.
    let mut cm2 = cm.clone();
    let md = cm2.metadata.as_mut().unwrap();
    md.creation_timestamp = Some(meta::Time {
        seconds: Some(1),
        nanos: Some(999_999_999),
    });
    md.deletion_timestamp = Some(meta::Time {
        seconds: Some(-62_135_596_800),
        nanos: Some(0),
    });
    let got = decode_body(&envelope("v1", "ConfigMap", &cm2)).unwrap();
    assert_eq!(
        got["metadata"]["creationTimestamp"],
        json!("1970-01-01T00:00:01Z")
    );
    assert!(got["metadata"].get("deletionTimestamp").is_none());
}

#[test]
fn event_micro_time() {
    let ev = core::Event {
        metadata: Some(meta::ObjectMeta {
            name: s("ev.1"),
            namespace: s("default"),
            ..Default::default()
        }),
        involved_object: Some(core::ObjectReference {
            kind: s("Pod"),
            namespace: s("default"),
            name: s("p"),
            uid: s(""),
            api_version: s("v1"),
            resource_version: s(""),
            field_path: s("spec.containers{app}"),
        }),
        reason: s("Started"),
        message: s("Started container app"),
        source: Some(core::EventSource {
            component: s("kubelet"),
            host: s(""),
        }),
        first_timestamp: Some(meta::Time::default()),
        last_timestamp: time(1_600_000_000),
        count: Some(0),
        r#type: s("Normal"),
        event_time: Some(meta::MicroTime {
            seconds: Some(1_600_000_000),
            nanos: Some(123_456_789),
        }),
        series: Some(core::EventSeries {
            count: Some(2),
            last_observed_time: Some(meta::MicroTime {
                seconds: Some(1_600_000_060),
                nanos: Some(0),
            }),
        }),
        action: s("Start"),
        related: None,
        reporting_component: s("kubelet"),
        reporting_instance: s("node-1"),
    };
    check(
        "v1",
        "Event",
        &ev,
        json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "ev.1", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "namespace": "default", "name": "p", "apiVersion": "v1", "fieldPath": "spec.containers{app}"},
            "reason": "Started",
            "message": "Started container app",
            "source": {"component": "kubelet"},
            "lastTimestamp": "2020-09-13T12:26:40Z",
            "type": "Normal",
            "eventTime": "2020-09-13T12:26:40.123456Z",
            "series": {"count": 2, "lastObservedTime": "2020-09-13T12:27:40.000000Z"},
            "action": "Start",
            "reportingComponent": "kubelet",
            "reportingInstance": "node-1"
        }),
    );
}

#[test]
fn delete_options_in_any_group_version() {
    let opts = meta::DeleteOptions {
        grace_period_seconds: Some(0),
        preconditions: Some(meta::Preconditions {
            uid: s("abc"),
            resource_version: None,
        }),
        orphan_dependents: None,
        propagation_policy: s("Foreground"),
        dry_run: vec!["All".into()],
        ignore_store_read_error_with_cluster_breaking_potential: Some(false),
    };
    for av in [
        "meta.k8s.io/v1",
        "v1",
        "apps/v1",
        "batch/v1",
        "apiextensions.k8s.io/v1",
    ] {
        check(
            av,
            "DeleteOptions",
            &opts,
            json!({
                "apiVersion": av,
                "kind": "DeleteOptions",
                "gracePeriodSeconds": 0,
                "preconditions": {"uid": "abc"},
                "propagationPolicy": "Foreground",
                "dryRun": ["All"],
                "ignoreStoreReadErrorWithClusterBreakingPotential": false
            }),
        );
    }
}

#[test]
fn resource_quota_hard() {
    let rq = core::ResourceQuota {
        metadata: Some(meta::ObjectMeta {
            name: s("rq"),
            ..Default::default()
        }),
        spec: Some(core::ResourceQuotaSpec {
            hard: qmap(&[
                ("cpu", "10"),
                ("memory", "20Gi"),
                ("pods", "100"),
                ("requests.storage", "1Ti"),
                ("count/deployments.apps", "0"),
            ]),
            scopes: vec!["NotTerminating".into()],
            scope_selector: None,
        }),
        status: Some(core::ResourceQuotaStatus {
            hard: BTreeMap::new(),
            used: qmap(&[("pods", "1")]),
        }),
    };
    check(
        "v1",
        "ResourceQuota",
        &rq,
        json!({
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": "rq"},
            "spec": {
                "hard": {"cpu": "10", "memory": "20Gi", "pods": "100", "requests.storage": "1Ti", "count/deployments.apps": "0"},
                "scopes": ["NotTerminating"]
            },
            "status": {"used": {"pods": "1"}}
        }),
    );
}

#[test]
fn crd_with_nested_schema() {
    use k8s_pb::apiextensions_apiserver::pkg::apis::apiextensions::v1 as ext;
    let raw = |j: &str| {
        Some(ext::Json {
            raw: Some(j.as_bytes().to_vec()),
        })
    };
    let mut props = BTreeMap::new();
    props.insert(
        "port".to_string(),
        ext::JsonSchemaProps {
            x_kubernetes_int_or_string: Some(true),
            any_of: vec![
                ext::JsonSchemaProps {
                    r#type: s("integer"),
                    ..Default::default()
                },
                ext::JsonSchemaProps {
                    r#type: s("string"),
                    ..Default::default()
                },
            ],
            ..Default::default()
        },
    );
    props.insert(
        "replicas".to_string(),
        ext::JsonSchemaProps {
            r#type: s("integer"),
            format: s("int32"),
            minimum: Some(0.0),
            maximum: Some(100.5),
            exclusive_minimum: Some(false),
            default: raw("1"),
            example: raw("3"),
            nullable: Some(false),
            ..Default::default()
        },
    );
    props.insert(
        "config".to_string(),
        ext::JsonSchemaProps {
            r#type: s("object"),
            default: raw(r#"{"a":[1,"x",null,true]}"#),
            x_kubernetes_preserve_unknown_fields: Some(true),
            additional_properties: Some(Box::new(ext::JsonSchemaPropsOrBool {
                allows: Some(true),
                schema: None,
            })),
            ..Default::default()
        },
    );
    props.insert(
        "tags".to_string(),
        ext::JsonSchemaProps {
            r#type: s("array"),
            items: Some(Box::new(ext::JsonSchemaPropsOrArray {
                schema: Some(Box::new(ext::JsonSchemaProps {
                    r#type: s("string"),
                    r#enum: vec![
                        ext::Json {
                            raw: Some(b"\"a\"".to_vec()),
                        },
                        ext::Json {
                            raw: Some(b"\"b\"".to_vec()),
                        },
                    ],
                    max_length: Some(0),
                    ..Default::default()
                })),
                j_son_schemas: vec![],
            })),
            x_kubernetes_list_type: s("set"),
            ..Default::default()
        },
    );
    props.insert(
        "labels".to_string(),
        ext::JsonSchemaProps {
            r#type: s("object"),
            additional_properties: Some(Box::new(ext::JsonSchemaPropsOrBool {
                allows: Some(true),
                schema: Some(Box::new(ext::JsonSchemaProps {
                    r#type: s("string"),
                    ..Default::default()
                })),
            })),
            ..Default::default()
        },
    );
    props.insert(
        "closed".to_string(),
        ext::JsonSchemaProps {
            r#type: s("object"),
            additional_properties: Some(Box::new(ext::JsonSchemaPropsOrBool {
                allows: Some(false),
                schema: None,
            })),
            ..Default::default()
        },
    );
    let spec_schema = ext::JsonSchemaProps {
        r#type: s("object"),
        required: vec!["replicas".into()],
        properties: props,
        x_kubernetes_validations: vec![ext::ValidationRule {
            rule: s("self.replicas >= 0"),
            message: s(""),
            message_expression: s(""),
            reason: None,
            field_path: s(""),
            optional_old_self: None,
        }],
        ..Default::default()
    };
    let mut top = BTreeMap::new();
    top.insert("spec".to_string(), spec_schema);
    let crd = ext::CustomResourceDefinition {
        metadata: Some(meta::ObjectMeta {
            name: s("widgets.example.com"),
            ..Default::default()
        }),
        spec: Some(ext::CustomResourceDefinitionSpec {
            group: s("example.com"),
            names: Some(ext::CustomResourceDefinitionNames {
                plural: s("widgets"),
                singular: s("widget"),
                short_names: vec!["wd".into()],
                kind: s("Widget"),
                list_kind: s("WidgetList"),
                categories: vec![],
            }),
            scope: s("Namespaced"),
            versions: vec![ext::CustomResourceDefinitionVersion {
                name: s("v1"),
                served: Some(true),
                storage: Some(true),
                deprecated: Some(false),
                deprecation_warning: None,
                schema: Some(ext::CustomResourceValidation {
                    open_apiv3_schema: Some(ext::JsonSchemaProps {
                        r#type: s("object"),
                        properties: top,
                        ..Default::default()
                    }),
                }),
                subresources: Some(ext::CustomResourceSubresources {
                    status: Some(ext::CustomResourceSubresourceStatus {}),
                    scale: Some(ext::CustomResourceSubresourceScale {
                        spec_replicas_path: s(".spec.replicas"),
                        status_replicas_path: s(".status.replicas"),
                        label_selector_path: None,
                    }),
                }),
                additional_printer_columns: vec![ext::CustomResourceColumnDefinition {
                    name: s("Replicas"),
                    r#type: s("integer"),
                    format: s(""),
                    description: s(""),
                    priority: Some(0),
                    json_path: s(".spec.replicas"),
                }],
                selectable_fields: vec![],
            }],
            conversion: Some(ext::CustomResourceConversion {
                strategy: s("None"),
                webhook: None,
            }),
            preserve_unknown_fields: Some(false),
        }),
        status: None,
    };
    check(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        &crd,
        json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {
                "group": "example.com",
                "names": {"plural": "widgets", "singular": "widget", "shortNames": ["wd"], "kind": "Widget", "listKind": "WidgetList"},
                "scope": "Namespaced",
                "versions": [{
                    "name": "v1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {
                        "type": "object",
                        "required": ["replicas"],
                        "properties": {
                            "port": {"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": true},
                            // exclusiveMinimum / nullable are non-pointer omitempty bools: false dropped
                            "replicas": {"type": "integer", "format": "int32", "minimum": 0, "maximum": 100.5,
                                         "default": 1, "example": 3},
                            "config": {"type": "object", "default": {"a": [1, "x", null, true]},
                                       "additionalProperties": true, "x-kubernetes-preserve-unknown-fields": true},
                            "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"], "maxLength": 0},
                                     "x-kubernetes-list-type": "set"},
                            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                            "closed": {"type": "object", "additionalProperties": false}
                        },
                        "x-kubernetes-validations": [{"rule": "self.replicas >= 0"}]
                    }}}},
                    "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"}},
                    "additionalPrinterColumns": [{"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"}]
                }],
                "conversion": {"strategy": "None"}
            },
            "status": {"conditions": null, "acceptedNames": {"plural": "", "kind": ""}, "storedVersions": null}
        })
        .as_object()
        .map(|m| {
            // Go emits "conditions": null / "storedVersions": null for the nil
            // non-omitempty slices of the zero status; we omit null fields.
            let mut m = m.clone();
            m["status"] = json!({"acceptedNames": {"plural": "", "kind": ""}});
            Value::Object(m)
        })
        .unwrap(),
    );
}

#[test]
fn json_schema_props_or_array_and_string_array() {
    use k8s_pb::apiextensions_apiserver::pkg::apis::apiextensions::v1 as ext;
    let mut deps = BTreeMap::new();
    deps.insert(
        "a".to_string(),
        ext::JsonSchemaPropsOrStringArray {
            schema: None,
            property: vec!["b".into(), "c".into()],
        },
    );
    deps.insert(
        "d".to_string(),
        ext::JsonSchemaPropsOrStringArray {
            schema: Some(ext::JsonSchemaProps {
                r#type: s("object"),
                ..Default::default()
            }),
            property: vec![],
        },
    );
    let props = ext::JsonSchemaProps {
        r#type: s("array"),
        items: Some(Box::new(ext::JsonSchemaPropsOrArray {
            schema: None,
            j_son_schemas: vec![
                ext::JsonSchemaProps {
                    r#type: s("string"),
                    ..Default::default()
                },
                ext::JsonSchemaProps {
                    r#type: s("integer"),
                    ..Default::default()
                },
            ],
        })),
        dependencies: deps,
        ..Default::default()
    };
    let got = decode_message(
        "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps",
        &props.encode_to_vec(),
    )
    .unwrap();
    assert_json_eq(
        &got,
        &json!({
            "type": "array",
            "items": [{"type": "string"}, {"type": "integer"}],
            "dependencies": {"a": ["b", "c"], "d": {"type": "object"}}
        }),
    );
}

#[test]
fn list_kinds_and_raw_extension() {
    use k8s_pb::api::apps::v1 as apps;
    let list = core::ConfigMapList {
        metadata: Some(meta::ListMeta {
            self_link: s(""),
            resource_version: s("7"),
            r#continue: s(""),
            remaining_item_count: None,
        }),
        items: vec![
            core::ConfigMap {
                metadata: Some(meta::ObjectMeta {
                    name: s("a"),
                    ..Default::default()
                }),
                ..Default::default()
            },
            core::ConfigMap {
                metadata: Some(meta::ObjectMeta {
                    name: s("b"),
                    ..Default::default()
                }),
                ..Default::default()
            },
        ],
    };
    check(
        "v1",
        "ConfigMapList",
        &list,
        json!({
            "apiVersion": "v1", "kind": "ConfigMapList",
            "metadata": {"resourceVersion": "7"},
            "items": [{"metadata": {"name": "a"}}, {"metadata": {"name": "b"}}]
        }),
    );

    let rev = apps::ControllerRevision {
        metadata: Some(meta::ObjectMeta {
            name: s("rev"),
            ..Default::default()
        }),
        data: Some(RawExtension {
            raw: Some(br#"{"spec":{"template":{"x":1}}}"#.to_vec()),
        }),
        revision: Some(0),
    };
    check(
        "apps/v1",
        "ControllerRevision",
        &rev,
        json!({
            "apiVersion": "apps/v1", "kind": "ControllerRevision",
            "metadata": {"name": "rev"},
            "data": {"spec": {"template": {"x": 1}}},
            "revision": 0
        }),
    );
}

#[test]
fn scale_eviction_binding_token_request_reviews() {
    use k8s_pb::api::authentication::v1 as authn;
    use k8s_pb::api::authorization::v1 as authz;
    use k8s_pb::api::autoscaling::v1 as asv1;
    use k8s_pb::api::certificates::v1 as certs;
    use k8s_pb::api::policy::v1 as policy;

    check(
        "autoscaling/v1",
        "Scale",
        &asv1::Scale {
            metadata: Some(meta::ObjectMeta {
                name: s("web"),
                namespace: s("default"),
                resource_version: s("5"),
                ..Default::default()
            }),
            spec: Some(asv1::ScaleSpec { replicas: Some(0) }),
            status: Some(asv1::ScaleStatus {
                replicas: Some(0),
                selector: s(""),
            }),
        },
        json!({
            "apiVersion": "autoscaling/v1", "kind": "Scale",
            "metadata": {"name": "web", "namespace": "default", "resourceVersion": "5"},
            "spec": {},
            "status": {"replicas": 0}
        }),
    );

    check(
        "policy/v1",
        "Eviction",
        &policy::Eviction {
            metadata: Some(meta::ObjectMeta {
                name: s("pod-1"),
                namespace: s("default"),
                ..Default::default()
            }),
            delete_options: Some(meta::DeleteOptions {
                grace_period_seconds: Some(30),
                ..Default::default()
            }),
        },
        json!({
            "apiVersion": "policy/v1", "kind": "Eviction",
            "metadata": {"name": "pod-1", "namespace": "default"},
            "deleteOptions": {"gracePeriodSeconds": 30}
        }),
    );

    check(
        "v1",
        "Binding",
        &core::Binding {
            metadata: Some(meta::ObjectMeta {
                name: s("pod-1"),
                ..Default::default()
            }),
            target: Some(core::ObjectReference {
                kind: s("Node"),
                name: s("node-1"),
                ..Default::default()
            }),
        },
        json!({
            "apiVersion": "v1", "kind": "Binding",
            "metadata": {"name": "pod-1"},
            "target": {"kind": "Node", "name": "node-1"}
        }),
    );

    check(
        "authentication.k8s.io/v1",
        "TokenRequest",
        &authn::TokenRequest {
            metadata: Some(meta::ObjectMeta::default()),
            spec: Some(authn::TokenRequestSpec {
                audiences: vec!["https://kubernetes.default.svc".into()],
                expiration_seconds: Some(3600),
                bound_object_ref: Some(authn::BoundObjectReference {
                    kind: s("Pod"),
                    api_version: s("v1"),
                    name: s("p"),
                    u_id: s(""),
                }),
            }),
            status: Some(authn::TokenRequestStatus {
                token: s(""),
                expiration_timestamp: Some(meta::Time::default()),
            }),
        },
        json!({
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
            "metadata": {},
            "spec": {"audiences": ["https://kubernetes.default.svc"], "expirationSeconds": 3600,
                     "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "p"}},
            // token is non-omitempty; expirationTimestamp zero -> null -> omitted
            "status": {"token": ""}
        }),
    );

    check(
        "authentication.k8s.io/v1",
        "TokenReview",
        &authn::TokenReview {
            metadata: None,
            spec: Some(authn::TokenReviewSpec {
                token: s("abc"),
                audiences: vec![],
            }),
            status: None,
        },
        json!({
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
            "metadata": {},
            "spec": {"token": "abc"},
            "status": {"user": {}}
        }),
    );

    let mut extra = BTreeMap::new();
    extra.insert(
        "scopes".to_string(),
        authz::ExtraValue {
            items: vec!["a".into(), "b".into()],
        },
    );
    check(
        "authorization.k8s.io/v1",
        "SubjectAccessReview",
        &authz::SubjectAccessReview {
            metadata: None,
            spec: Some(authz::SubjectAccessReviewSpec {
                resource_attributes: Some(authz::ResourceAttributes {
                    namespace: s("default"),
                    verb: s("get"),
                    group: s(""),
                    version: s(""),
                    resource: s("pods"),
                    subresource: s(""),
                    name: s(""),
                    field_selector: None,
                    label_selector: None,
                }),
                non_resource_attributes: None,
                user: s("alice"),
                groups: vec!["system:authenticated".into()],
                extra,
                uid: s(""),
            }),
            status: Some(authz::SubjectAccessReviewStatus {
                allowed: Some(false),
                denied: Some(false),
                reason: s(""),
                evaluation_error: s(""),
            }),
        },
        json!({
            "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
            "metadata": {},
            "spec": {
                "resourceAttributes": {"namespace": "default", "verb": "get", "resource": "pods"},
                "user": "alice",
                "groups": ["system:authenticated"],
                "extra": {"scopes": ["a", "b"]}
            },
            // allowed is non-omitempty
            "status": {"allowed": false}
        }),
    );

    check(
        "certificates.k8s.io/v1",
        "CertificateSigningRequest",
        &certs::CertificateSigningRequest {
            metadata: Some(meta::ObjectMeta {
                name: s("csr"),
                resource_version: s("9"),
                ..Default::default()
            }),
            spec: Some(certs::CertificateSigningRequestSpec {
                request: Some(b"-----BEGIN CERTIFICATE REQUEST-----\n".to_vec()),
                signer_name: s("kubernetes.io/kube-apiserver-client"),
                expiration_seconds: None,
                usages: vec!["client auth".into()],
                username: s(""),
                uid: s(""),
                groups: vec![],
                extra: BTreeMap::new(),
            }),
            status: Some(certs::CertificateSigningRequestStatus {
                conditions: vec![certs::CertificateSigningRequestCondition {
                    r#type: s("Approved"),
                    status: s("True"),
                    reason: s("KubectlApprove"),
                    message: s("This CSR was approved by kubectl certificate approve."),
                    last_update_time: time(1_700_000_000),
                    last_transition_time: Some(meta::Time::default()),
                }],
                certificate: Some(vec![]),
            }),
        },
        json!({
            "apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
            "metadata": {"name": "csr", "resourceVersion": "9"},
            "spec": {
                "request": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0K",
                "signerName": "kubernetes.io/kube-apiserver-client",
                "usages": ["client auth"]
            },
            "status": {"conditions": [{
                "type": "Approved", "status": "True", "reason": "KubectlApprove",
                "message": "This CSR was approved by kubectl certificate approve.",
                "lastUpdateTime": "2023-11-14T22:13:20Z"
            }]}
        }),
    );
}

#[test]
fn namespace_as_kubectl_sends_it() {
    // `kubectl create namespace foo`
    let ns = core::Namespace {
        metadata: Some(meta::ObjectMeta {
            name: s("foo"),
            generate_name: s(""),
            namespace: s(""),
            self_link: s(""),
            uid: s(""),
            resource_version: s(""),
            generation: Some(0),
            creation_timestamp: Some(meta::Time::default()),
            ..Default::default()
        }),
        spec: Some(core::NamespaceSpec { finalizers: vec![] }),
        status: Some(core::NamespaceStatus {
            phase: s(""),
            conditions: vec![],
        }),
    };
    check(
        "v1",
        "Namespace",
        &ns,
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "foo"}, "spec": {}, "status": {}}),
    );
}
