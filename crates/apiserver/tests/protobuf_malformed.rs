//! Malformed input, wire-format corner cases and a fuzz-style robustness test.

use std::collections::BTreeMap;

use apiserver::protobuf::{decode_body, decode_body_with_defaults, decode_message};
use k8s_pb::api::core::v1 as core;
use k8s_pb::apiextensions_apiserver::pkg::apis::apiextensions::v1 as ext;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_pb::apimachinery::pkg::runtime::{RawExtension, TypeMeta, Unknown};
use prost::Message;
use serde_json::json;

fn s(x: &str) -> Option<String> {
    Some(x.to_string())
}

fn envelope_raw(api_version: &str, kind: &str, raw: Vec<u8>) -> Vec<u8> {
    let u = Unknown {
        type_meta: Some(TypeMeta {
            api_version: s(api_version),
            kind: s(kind),
        }),
        raw: Some(raw),
        content_encoding: s(""),
        content_type: s(""),
    };
    let mut b = b"k8s\x00".to_vec();
    b.extend(u.encode_to_vec());
    b
}

fn envelope<M: Message>(api_version: &str, kind: &str, m: &M) -> Vec<u8> {
    envelope_raw(api_version, kind, m.encode_to_vec())
}

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn key(num: u32, wire: u8, out: &mut Vec<u8>) {
    varint(((num as u64) << 3) | wire as u64, out);
}

fn ld(num: u32, payload: &[u8], out: &mut Vec<u8>) {
    key(num, 2, out);
    varint(payload.len() as u64, out);
    out.extend_from_slice(payload);
}

#[test]
fn envelope_errors() {
    assert!(decode_body(b"").is_err());
    assert!(decode_body(b"k8s").is_err());
    assert!(decode_body(b"k8s\x00").is_err(), "empty body after magic");
    assert!(
        decode_body(b"{\"kind\":\"Pod\"}").is_err(),
        "JSON is not protobuf"
    );
    assert!(decode_body(b"k8s\x01\x0a\x00").is_err(), "bad magic");
    // unknown kind / group version
    let cm = core::ConfigMap::default();
    let e = decode_body(&envelope("example.com/v1", "Widget", &cm)).unwrap_err();
    assert!(e.contains("Widget"), "{e}");
    assert!(decode_body(&envelope("v1", "NoSuchKind", &cm)).is_err());
    assert!(decode_body(&envelope("a/b/c", "ConfigMap", &cm)).is_err());
    // missing kind / version without defaults
    assert!(decode_body(&envelope("v1", "", &cm)).is_err());
    assert!(decode_body(&envelope("", "ConfigMap", &cm)).is_err());
    // ... with defaults (upstream copyKindDefaults)
    let v =
        decode_body_with_defaults(&envelope("", "", &cm), Some("v1"), Some("ConfigMap")).unwrap();
    assert_eq!(
        v,
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}})
    );
    // typeMeta with the wrong wire type
    let mut b = b"k8s\x00".to_vec();
    key(1, 0, &mut b);
    varint(5, &mut b);
    assert!(decode_body(&b).is_err());
    // unknown envelope fields are skipped
    let mut b = envelope("v1", "ConfigMap", &cm);
    key(9, 0, &mut b);
    varint(1, &mut b);
    assert_eq!(decode_body(&b).unwrap()["kind"], json!("ConfigMap"));
    // unknown message type
    assert!(decode_message("k8s.io.api.core.v1.Nope", &[]).is_err());
    assert_eq!(
        decode_message(".k8s.io.api.core.v1.LocalObjectReference", &[]).unwrap(),
        json!({})
    );
}

#[test]
fn wire_errors() {
    let t = "k8s.io.api.core.v1.ConfigMap";
    // metadata (field 1, a message) sent as varint
    assert!(decode_message(t, &[0x08, 0x01]).is_err());
    // immutable (field 4, bool) sent length-delimited
    assert!(decode_message(t, &[0x22, 0x00]).is_err());
    // truncated varint
    assert!(decode_message(t, &[0x20, 0x80]).is_err());
    // truncated length
    assert!(decode_message(t, &[0x0a, 0x05, 0x01]).is_err());
    // field number 0
    assert!(decode_message(t, &[0x00, 0x01]).is_err());
    // wire types 6 / 7
    assert!(decode_message(t, &[0x0e]).is_err());
    assert!(decode_message(t, &[0x0f]).is_err());
    // stray end-group
    assert!(decode_message(t, &[0x0c]).is_err());
    // 11-byte varint
    assert!(decode_message(
        t,
        &[0x20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
    )
    .is_err());
    // bad map entry (key sent as varint)
    let mut b = Vec::new();
    ld(2, &[0x08, 0x01], &mut b);
    assert!(decode_message(t, &b).is_err());
    // double field (JSONSchemaProps.maximum = 9) sent as varint
    assert!(decode_message(
        "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps",
        &[0x48, 0x01]
    )
    .is_err());
    // invalid IntOrString type
    let mut b = Vec::new();
    key(1, 0, &mut b);
    varint(7, &mut b);
    assert!(decode_message("k8s.io.apimachinery.pkg.util.intstr.IntOrString", &b).is_err());
    // empty quantity string is not a valid Quantity
    assert!(decode_message(
        "k8s.io.apimachinery.pkg.api.resource.Quantity",
        &[0x0a, 0x00]
    )
    .is_err());
    assert_eq!(
        decode_message("k8s.io.apimachinery.pkg.api.resource.Quantity", &[]).unwrap(),
        json!("0")
    );
    // RawExtension with bytes that are neither JSON nor protobuf
    let rev = k8s_pb::api::apps::v1::ControllerRevision {
        data: Some(RawExtension {
            raw: Some(b"{not json".to_vec()),
        }),
        ..Default::default()
    };
    assert!(decode_body(&envelope("apps/v1", "ControllerRevision", &rev)).is_err());
}

#[test]
fn unknown_fields_and_groups_are_skipped() {
    let mut b = Vec::new();
    // unknown varint, fixed64, fixed32, length-delimited and a group
    key(100, 0, &mut b);
    varint(12345, &mut b);
    key(101, 1, &mut b);
    b.extend_from_slice(&[0; 8]);
    key(102, 5, &mut b);
    b.extend_from_slice(&[0; 4]);
    ld(103, b"whatever", &mut b);
    key(104, 3, &mut b);
    key(1, 0, &mut b);
    varint(1, &mut b);
    key(104, 4, &mut b);
    ld(1, b"x", &mut b); // LocalObjectReference.name
    assert_eq!(
        decode_message("k8s.io.api.core.v1.LocalObjectReference", &b).unwrap(),
        json!({"name": "x"})
    );
}

#[test]
fn packed_and_unpacked_repeated_scalars() {
    let t = "k8s.io.api.core.v1.PodSecurityContext";
    // supplementalGroups = field 4 (repeated int64): unpacked, then packed, then unpacked again
    let mut b = Vec::new();
    key(4, 0, &mut b);
    varint(1, &mut b);
    let mut packed = Vec::new();
    varint(2, &mut packed);
    varint(u64::MAX, &mut packed); // -1
    varint(0, &mut packed);
    ld(4, &packed, &mut b);
    key(4, 0, &mut b);
    varint(300, &mut b);
    assert_eq!(
        decode_message(t, &b).unwrap(),
        json!({"supplementalGroups": [1, 2, -1, 0, 300]})
    );
    // truncated packed payload
    let mut b = Vec::new();
    ld(4, &[0x80], &mut b);
    assert!(decode_message(t, &b).is_err());
    // int32 fields truncate a 64-bit varint like Go's int32 conversion
    let mut b = Vec::new();
    key(3, 0, &mut b); // ContainerPort.containerPort
    varint((-5i64) as u64, &mut b);
    assert_eq!(
        decode_message("k8s.io.api.core.v1.ContainerPort", &b).unwrap(),
        json!({"containerPort": -5})
    );
}

#[test]
fn repeated_singular_messages_are_merged_last_scalar_wins() {
    let mut b = Vec::new();
    let m1 = meta::ObjectMeta {
        name: s("first"),
        labels: [("a".to_string(), "1".to_string())].into(),
        ..Default::default()
    };
    let m2 = meta::ObjectMeta {
        name: s("second"),
        namespace: s("ns"),
        labels: [("b".to_string(), "2".to_string())].into(),
        ..Default::default()
    };
    ld(1, &m1.encode_to_vec(), &mut b);
    ld(1, &m2.encode_to_vec(), &mut b);
    assert_eq!(
        decode_message("k8s.io.api.core.v1.ConfigMap", &b).unwrap(),
        json!({"metadata": {"name": "second", "namespace": "ns", "labels": {"a": "1", "b": "2"}}})
    );
}

#[test]
fn nested_protobuf_in_raw_extension() {
    let inner = envelope(
        "v1",
        "ConfigMap",
        &core::ConfigMap {
            metadata: Some(meta::ObjectMeta {
                name: s("inner"),
                ..Default::default()
            }),
            ..Default::default()
        },
    );
    let rev = k8s_pb::api::apps::v1::ControllerRevision {
        data: Some(RawExtension { raw: Some(inner) }),
        revision: Some(1),
        ..Default::default()
    };
    let v = decode_body(&envelope("apps/v1", "ControllerRevision", &rev)).unwrap();
    assert_eq!(
        v["data"],
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "inner"}})
    );
}

fn nested_schema(depth: usize) -> ext::JsonSchemaProps {
    let mut p = ext::JsonSchemaProps {
        r#type: s("string"),
        ..Default::default()
    };
    for _ in 0..depth {
        p = ext::JsonSchemaProps {
            r#type: s("array"),
            items: Some(Box::new(ext::JsonSchemaPropsOrArray {
                schema: Some(Box::new(p)),
                j_son_schemas: vec![],
            })),
            ..Default::default()
        };
    }
    p
}

#[test]
fn nesting_limit() {
    let t = "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps";
    // each level is two messages (JSONSchemaProps -> JSONSchemaPropsOrArray)
    let ok = decode_message(t, &nested_schema(45).encode_to_vec()).unwrap();
    let mut cur = &ok;
    for _ in 0..45 {
        cur = &cur["items"];
    }
    assert_eq!(cur, &json!({"type": "string"}));
    let e = decode_message(t, &nested_schema(60).encode_to_vec()).unwrap_err();
    assert!(e.contains("nesting"), "{e}");

    // deeply nested envelopes inside RawExtensions are bounded too
    let mut body = envelope("v1", "ConfigMap", &core::ConfigMap::default());
    for _ in 0..200 {
        let rev = k8s_pb::api::apps::v1::ControllerRevision {
            data: Some(RawExtension { raw: Some(body) }),
            ..Default::default()
        };
        body = envelope("apps/v1", "ControllerRevision", &rev);
    }
    assert!(decode_body(&body).is_err());

    // hand-made deep nesting: JSONSchemaProps.not = 28 (singular) and allOf = 25 (repeated)
    let mut m: Vec<u8> = Vec::new();
    for _ in 0..1000 {
        let mut outer = Vec::new();
        ld(28, &m, &mut outer);
        m = outer;
    }
    assert!(decode_message(t, &m).is_err());
    let mut m: Vec<u8> = Vec::new();
    for _ in 0..1000 {
        let mut outer = Vec::new();
        ld(25, &m, &mut outer);
        m = outer;
    }
    assert!(decode_message(t, &m).is_err());
    // ... while 90 levels of `not` are fine
    let mut m: Vec<u8> = Vec::new();
    for _ in 0..90 {
        let mut outer = Vec::new();
        ld(28, &m, &mut outer);
        m = outer;
    }
    assert!(decode_message(t, &m).is_ok());
}

#[test]
fn max_depth_fits_in_a_small_stack() {
    // The deepest accepted input must not overflow a 1 MiB thread stack
    // (tokio workers get 2 MiB), even in a debug build.
    let t = "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps";
    let mut m: Vec<u8> = Vec::new();
    for _ in 0..100 {
        let mut outer = Vec::new();
        ld(28, &m, &mut outer); // not
        m = outer;
    }
    let h = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || decode_message(t, &m).map(|_| ()))
        .unwrap();
    assert!(h.join().unwrap().is_ok());
}

/// xorshift64* — deterministic, no extra dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn sample_bodies() -> Vec<Vec<u8>> {
    let pod = core::Pod {
        metadata: Some(meta::ObjectMeta {
            name: s("p"),
            labels: [("a".to_string(), "b".to_string())].into(),
            creation_timestamp: Some(meta::Time {
                seconds: Some(1_700_000_000),
                nanos: Some(0),
            }),
            managed_fields: vec![meta::ManagedFieldsEntry {
                fields_v1: Some(meta::FieldsV1 {
                    raw: Some(br#"{"f:metadata":{}}"#.to_vec()),
                }),
                ..Default::default()
            }],
            ..Default::default()
        }),
        spec: Some(core::PodSpec {
            containers: vec![core::Container {
                name: s("c"),
                image: s("nginx"),
                resources: Some(core::ResourceRequirements {
                    limits: [(
                        "cpu".to_string(),
                        k8s_pb::apimachinery::pkg::api::resource::Quantity { string: s("1") },
                    )]
                    .into(),
                    ..Default::default()
                }),
                liveness_probe: Some(core::Probe {
                    handler: Some(core::ProbeHandler {
                        http_get: Some(core::HttpGetAction {
                            port: Some(k8s_pb::apimachinery::pkg::util::intstr::IntOrString {
                                r#type: Some(1),
                                int_val: Some(0),
                                str_val: s("http"),
                            }),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            security_context: Some(core::PodSecurityContext {
                supplemental_groups: vec![1, 2, 3],
                ..Default::default()
            }),
            ..Default::default()
        }),
        status: None,
    };
    let mut data = BTreeMap::new();
    data.insert("k".to_string(), vec![1u8, 2, 3]);
    let secret = core::Secret {
        data,
        ..Default::default()
    };
    let crd = ext::CustomResourceDefinition {
        spec: Some(ext::CustomResourceDefinitionSpec {
            versions: vec![ext::CustomResourceDefinitionVersion {
                schema: Some(ext::CustomResourceValidation {
                    open_apiv3_schema: Some(nested_schema(5)),
                }),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    };
    let event = core::Event {
        event_time: Some(meta::MicroTime {
            seconds: Some(5),
            nanos: Some(7000),
        }),
        ..Default::default()
    };
    vec![
        envelope("v1", "Pod", &pod),
        envelope("v1", "Secret", &secret),
        envelope("apiextensions.k8s.io/v1", "CustomResourceDefinition", &crd),
        envelope("v1", "Event", &event),
    ]
}

#[test]
fn fuzz_truncated_and_mutated_bodies_never_panic() {
    let bodies = sample_bodies();
    for b in &bodies {
        decode_body(b).expect("sample bodies are valid");
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut errors = 0usize;
    let mut oks = 0usize;
    for b in &bodies {
        // every truncation point
        for cut in 0..b.len() {
            match decode_body(&b[..cut]) {
                Ok(_) => oks += 1,
                Err(_) => errors += 1,
            }
        }
        // random mutations: flips, inserts, deletes, splices
        for _ in 0..3000 {
            let mut m = b.clone();
            for _ in 0..=rng.below(4) {
                match rng.below(4) {
                    0 => {
                        let i = rng.below(m.len());
                        m[i] ^= 1 << rng.below(8);
                    }
                    1 => {
                        let i = rng.below(m.len());
                        m[i] = rng.next() as u8;
                    }
                    2 => {
                        let i = rng.below(m.len() + 1);
                        m.insert(i, rng.next() as u8);
                    }
                    _ => {
                        if m.len() > 1 {
                            let i = rng.below(m.len());
                            m.remove(i);
                        }
                    }
                }
            }
            // keep the magic most of the time so the decoder gets past it
            if rng.below(8) != 0 && m.len() >= 4 {
                m[..4].copy_from_slice(b"k8s\x00");
            }
            match decode_body(&m) {
                Ok(_) => oks += 1,
                Err(_) => errors += 1,
            }
        }
    }
    // pure random messages for random types
    for _ in 0..5000 {
        let len = rng.below(64);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        for t in [
            "k8s.io.api.core.v1.Pod",
            "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps",
            "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            "k8s.io.apimachinery.pkg.util.intstr.IntOrString",
            "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime",
            "k8s.io.apimachinery.pkg.apis.meta.v1.Time",
        ] {
            let _ = decode_message(t, &bytes);
        }
    }
    // both outcomes must have occurred, otherwise the fuzzer tested nothing
    assert!(errors > 1000, "errors={errors}");
    assert!(oks > 10, "oks={oks}");
}

#[test]
fn large_bodies_decode_linearly() {
    // 200k map entries and a 5 MB string: must decode quickly (no quadratic copies)
    let mut data = BTreeMap::new();
    for i in 0..200_000 {
        data.insert(format!("key-{i}"), "v".to_string());
    }
    data.insert("big".to_string(), "x".repeat(5 << 20));
    let cm = core::ConfigMap {
        data,
        ..Default::default()
    };
    let body = envelope("v1", "ConfigMap", &cm);
    let start = std::time::Instant::now();
    let v = decode_body(&body).unwrap();
    assert_eq!(v["data"].as_object().unwrap().len(), 200_001);
    assert_eq!(v["data"]["big"].as_str().unwrap().len(), 5 << 20);
    // generous bound even for debug builds on a slow machine
    assert!(start.elapsed().as_secs() < 20, "{:?}", start.elapsed());

    // many repeated occurrences of a singular message field (proto merge)
    let mut b = Vec::new();
    for i in 0..50_000 {
        let m = meta::ObjectMeta {
            finalizers: vec![format!("f{i}")],
            ..Default::default()
        };
        ld(1, &m.encode_to_vec(), &mut b);
    }
    let start = std::time::Instant::now();
    let v = decode_message("k8s.io.api.core.v1.ConfigMap", &b).unwrap();
    assert_eq!(
        v["metadata"]["finalizers"].as_array().unwrap().len(),
        50_000
    );
    assert!(start.elapsed().as_secs() < 20, "{:?}", start.elapsed());
}
