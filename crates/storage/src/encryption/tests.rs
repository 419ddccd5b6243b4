use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::*;

const STORAGE_KEY: &[u8] = b"/registry/secrets/default/s1";
const PLAINTEXT: &str = r#"{"kind":"Secret","apiVersion":"v1","metadata":{"name":"s1","namespace":"default"},"data":{"password":"aHVudGVyMg=="}}"#;

/// Key bytes 1, 2, …, n (as the Go program that produced the interop vectors used).
fn key_bytes(n: u8) -> Vec<u8> {
    (1..=n).collect()
}

fn b64(bytes: &[u8]) -> String {
    BASE64.encode(bytes)
}

/// A configuration for `secrets` with these providers (YAML lines under `providers:`).
fn config(providers: &str) -> String {
    format!(
        "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n  - resources: [secrets]\n    providers:\n{providers}"
    )
}

fn keyed(provider: &str, keys: &[(&str, &[u8])]) -> String {
    let mut s = format!("      - {provider}:\n          keys:\n");
    for (name, secret) in keys {
        s.push_str(&format!(
            "            - name: {name}\n              secret: {}\n",
            b64(secret)
        ));
    }
    s
}

const IDENTITY: &str = "      - identity: {}\n";

fn secrets(text: &str) -> Transformer {
    Transformers::parse(text)
        .unwrap()
        .for_resource("", "secrets")
        .unwrap()
        .clone()
}

fn parse_err(text: &str) -> String {
    EncryptionConfiguration::parse(text)
        .unwrap_err()
        .to_string()
}

// --- round trips and stored format ---

#[test]
fn round_trip_every_provider_and_key_size() {
    for (provider, size) in [
        ("aesgcm", 16),
        ("aesgcm", 24),
        ("aesgcm", 32),
        ("aescbc", 16),
        ("aescbc", 24),
        ("aescbc", 32),
        ("secretbox", 32),
    ] {
        let t = secrets(&config(&keyed(provider, &[("key1", &key_bytes(size))])));
        for plaintext in [&b""[..], b"x", &[7u8; 16], &[9u8; 17], PLAINTEXT.as_bytes()] {
            let stored = t.encrypt(STORAGE_KEY, plaintext).unwrap();
            let prefix = format!("k8s:enc:{provider}:v1:key1:");
            assert!(stored.starts_with(prefix.as_bytes()), "{provider}/{size}");
            let (back, stale) = t.decrypt(STORAGE_KEY, &stored).unwrap();
            assert_eq!(back, plaintext, "{provider}/{size}");
            assert!(!stale);
        }
    }
}

#[test]
fn stored_layout_sizes_match_upstream() {
    let n = PLAINTEXT.len();
    for (provider, size, body) in [
        ("aesgcm", 32, 12 + n + 16),
        ("aescbc", 32, 16 + (n / 16 + 1) * 16),
        ("secretbox", 32, 24 + 16 + n),
    ] {
        let t = secrets(&config(&keyed(provider, &[("k", &key_bytes(size))])));
        let stored = t.encrypt(STORAGE_KEY, PLAINTEXT.as_bytes()).unwrap();
        let prefix = format!("k8s:enc:{provider}:v1:k:");
        assert_eq!(stored.len(), prefix.len() + body, "{provider}");
    }
}

#[test]
fn ciphertext_does_not_contain_plaintext_and_nonces_differ() {
    for provider in ["aesgcm", "aescbc", "secretbox"] {
        let t = secrets(&config(&keyed(provider, &[("key1", &key_bytes(32))])));
        let a = t.encrypt(STORAGE_KEY, PLAINTEXT.as_bytes()).unwrap();
        let b = t.encrypt(STORAGE_KEY, PLAINTEXT.as_bytes()).unwrap();
        assert_ne!(a, b, "{provider}: a fresh nonce every time");
        for needle in [&b"aHVudGVyMg=="[..], b"Secret", b"default"] {
            assert!(!a.windows(needle.len()).any(|w| w == needle), "{provider}");
        }
    }
}

#[test]
fn identity_first_writes_plaintext_and_reads_both() {
    let text = config(&format!(
        "{IDENTITY}{}",
        keyed("secretbox", &[("key1", &key_bytes(32))])
    ));
    let t = secrets(&text);
    assert!(!t.encrypts());
    assert_eq!(t.encrypt(STORAGE_KEY, b"{}").unwrap(), b"{}");
    assert_eq!(
        t.decrypt(STORAGE_KEY, b"{}").unwrap(),
        (b"{}".to_vec(), false)
    );

    // A value written while secretbox was first is read by the second provider: stale.
    let writer = secrets(&config(&keyed("secretbox", &[("key1", &key_bytes(32))])));
    let stored = writer.encrypt(STORAGE_KEY, b"{\"a\":1}").unwrap();
    assert_eq!(
        t.decrypt(STORAGE_KEY, &stored).unwrap(),
        (b"{\"a\":1}".to_vec(), true)
    );
}

#[test]
fn plaintext_needs_identity() {
    let with = secrets(&config(&format!(
        "{}{IDENTITY}",
        keyed("aesgcm", &[("k", &key_bytes(32))])
    )));
    assert_eq!(
        with.decrypt(STORAGE_KEY, b"{\"old\":1}").unwrap(),
        (b"{\"old\":1}".to_vec(), true)
    );

    let without = secrets(&config(&keyed("aesgcm", &[("k", &key_bytes(32))])));
    let err = without.decrypt(STORAGE_KEY, b"{\"old\":1}").unwrap_err();
    assert_eq!(err.to_string(), "no matching prefix found");
}

#[test]
fn unconfigured_resources_are_identity() {
    let ts = Transformers::parse(&config(&keyed("secretbox", &[("k", &key_bytes(32))]))).unwrap();
    assert!(ts.for_resource("", "configmaps").is_none());
    let t = ts.for_resource_or_identity("", "configmaps");
    assert_eq!(
        t.encrypt(b"/registry/configmaps/a/b", b"{}").unwrap(),
        b"{}"
    );
    assert_eq!(
        t.decrypt(b"/registry/configmaps/a/b", b"{}").unwrap(),
        (b"{}".to_vec(), false)
    );
    let err = t
        .decrypt(b"/registry/configmaps/a/b", b"k8s:enc:secretbox:v1:k:xxxx")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "identity transformer tried to read encrypted data"
    );
    assert!(Transformers::default().is_empty());
}

#[test]
fn second_key_and_later_provider_are_stale() {
    let old = key_bytes(32);
    let new: Vec<u8> = (100..132).collect();
    let before = secrets(&config(&keyed("secretbox", &[("old", &old)])));
    let stored_old = before.encrypt(STORAGE_KEY, b"v").unwrap();

    let rotated = secrets(&config(&keyed(
        "secretbox",
        &[("new", &new), ("old", &old)],
    )));
    assert_eq!(
        rotated.decrypt(STORAGE_KEY, &stored_old).unwrap(),
        (b"v".to_vec(), true)
    );
    let stored_new = rotated.encrypt(STORAGE_KEY, b"v").unwrap();
    assert!(stored_new.starts_with(b"k8s:enc:secretbox:v1:new:"));
    assert_eq!(
        rotated.decrypt(STORAGE_KEY, &stored_new).unwrap(),
        (b"v".to_vec(), false)
    );

    // Moving to another provider: data of the old provider is stale.
    let aes_stored = secrets(&config(&keyed("aescbc", &[("a", &old)])))
        .encrypt(STORAGE_KEY, b"v")
        .unwrap();
    let migrated = secrets(&config(&format!(
        "{}{}",
        keyed("secretbox", &[("new", &new)]),
        keyed("aescbc", &[("a", &old)])
    )));
    assert_eq!(
        migrated.decrypt(STORAGE_KEY, &aes_stored).unwrap(),
        (b"v".to_vec(), true)
    );

    // reencrypt rewrites only stale values, with the write key.
    let rewritten = migrated
        .reencrypt(STORAGE_KEY, &aes_stored)
        .unwrap()
        .unwrap();
    assert!(rewritten.starts_with(b"k8s:enc:secretbox:v1:new:"));
    assert_eq!(migrated.reencrypt(STORAGE_KEY, &rewritten).unwrap(), None);
}

#[test]
fn same_prefix_in_two_providers_tries_both() {
    // Upstream's rotation example: two aescbc providers sharing the prefix.
    let k1 = key_bytes(32);
    let k2: Vec<u8> = (50..82).collect();
    let stored = secrets(&config(&keyed("aescbc", &[("k1", &k1)])))
        .encrypt(STORAGE_KEY, b"v")
        .unwrap();
    let t = secrets(&config(&format!(
        "{}{}",
        keyed("aescbc", &[("k2", &k2)]),
        keyed("aescbc", &[("k1", &k1)])
    )));
    assert_eq!(
        t.decrypt(STORAGE_KEY, &stored).unwrap(),
        (b"v".to_vec(), true)
    );

    // A key whose name is another's plus ":…" is found after the shorter name fails.
    let ab = secrets(&config(&keyed("secretbox", &[("a:b", &k2)])));
    let stored = ab.encrypt(STORAGE_KEY, b"v").unwrap();
    let both = secrets(&config(&keyed("secretbox", &[("a", &k1), ("a:b", &k2)])));
    assert_eq!(
        both.decrypt(STORAGE_KEY, &stored).unwrap(),
        (b"v".to_vec(), true)
    );
}

#[test]
fn aesgcm_authenticates_the_storage_key() {
    let t = secrets(&config(&keyed("aesgcm", &[("k", &key_bytes(32))])));
    let stored = t.encrypt(STORAGE_KEY, b"secret").unwrap();
    let err = t
        .decrypt(b"/registry/secrets/default/other", &stored)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "aesgcm key \"k\": message authentication failed"
    );

    // aescbc and secretbox do not (as upstream): the value opens under any storage key.
    for provider in ["aescbc", "secretbox"] {
        let t = secrets(&config(&keyed(provider, &[("k", &key_bytes(32))])));
        let stored = t.encrypt(STORAGE_KEY, b"secret").unwrap();
        assert_eq!(t.decrypt(b"/elsewhere", &stored).unwrap().0, b"secret");
    }
}

#[test]
fn tampering_and_wrong_keys_fail() {
    let k = key_bytes(32);
    let other: Vec<u8> = (40..72).collect();
    for provider in ["aesgcm", "secretbox"] {
        let t = secrets(&config(&keyed(provider, &[("k", &k)])));
        let mut stored = t.encrypt(STORAGE_KEY, PLAINTEXT.as_bytes()).unwrap();
        let last = stored.len() - 1;
        stored[last] ^= 1;
        assert!(t.decrypt(STORAGE_KEY, &stored).is_err(), "{provider}");

        let stored = t.encrypt(STORAGE_KEY, PLAINTEXT.as_bytes()).unwrap();
        let wrong = secrets(&config(&keyed(provider, &[("k", &other)])));
        let err = wrong.decrypt(STORAGE_KEY, &stored).unwrap_err().to_string();
        assert_eq!(
            err,
            format!("{provider} key \"k\": message authentication failed")
        );
    }
    // Short data.
    let t = secrets(&config(&keyed("secretbox", &[("k", &k)])));
    let err = t
        .decrypt(STORAGE_KEY, b"k8s:enc:secretbox:v1:k:short")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "secretbox key \"k\": the stored data was shorter than the required size"
    );
    let t = secrets(&config(&keyed("aescbc", &[("k", &k)])));
    let err = t
        .decrypt(STORAGE_KEY, b"k8s:enc:aescbc:v1:k:0123456789abcdef0123")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "aescbc key \"k\": the stored data is not a multiple of the block size"
    );
    let err = t
        .decrypt(STORAGE_KEY, b"k8s:enc:aescbc:v1:k:0123456789abcdef")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "aescbc key \"k\": invalid PKCS7 data (empty or not padded)"
    );
}

#[test]
fn unknown_key_name_and_prefix() {
    let t = secrets(&config(&keyed("secretbox", &[("k", &key_bytes(32))])));
    let err = t
        .decrypt(STORAGE_KEY, b"k8s:enc:secretbox:v1:gone:abc")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no matching key was found for the provided Secretbox transformer"
    );
    let err = t
        .decrypt(STORAGE_KEY, b"k8s:enc:aesgcm:v1:k:abc")
        .unwrap_err();
    assert_eq!(err.to_string(), "no matching prefix found");

    let t = secrets(&config(&format!(
        "{}{}",
        keyed("aesgcm", &[("k", &key_bytes(32))]),
        keyed("aesgcm", &[("k", &key_bytes(16))])
    )));
    let err = t
        .decrypt(
            STORAGE_KEY,
            b"k8s:enc:aesgcm:v1:k:0123456789abcdefghijklmnopqrstuvwxyz",
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "[aesgcm key \"k\": message authentication failed, aesgcm key \"k\": message authentication failed]"
    );
}

// --- interoperability with upstream (Go) ---

/// Values written by Go's crypto/aes + crypto/cipher and golang.org/x/crypto/nacl/secretbox in
/// exactly the layout of k8s.io/apiserver's aes and secretbox transformers (prefix, nonce or IV,
/// GCM with the etcd key as additional data, CBC with PKCS#7, secretbox.Seal), keys 1..=n, named
/// `key1`, storage key `/registry/secrets/default/s1`.
const GO_VECTORS: &[(&str, u8, &str)] = &[
    (
        "aesgcm",
        16,
        "azhzOmVuYzphZXNnY206djE6a2V5MTpXwbxlgq/4eK7ryc5oSRrZ2XFznZvQ2BkVgDoraaR7DSJO2pcNoUpEcu7ZfjmeSA+SqzKAgUUm9y3hbHEiNiA3eYJb83lBW+Ih8AqwpT5mokJEDm4bl2bXaS+LURtGYKAzU3OCSCXFn620c8i3sw1AgPOVntsJq42OeMyk/9MH4H8q2qz9fmMsgHQPFUYY96yz",
    ),
    (
        "aesgcm",
        24,
        "azhzOmVuYzphZXNnY206djE6a2V5MTqrRAL+8aqavKrmIgK9VT7j7nVyDtRP94jTrTCePTiZxQCUdBp1hrsmqHgE0MdCavEi0351kvox+vb8WB/Fm4kCD9bV9GjefK6DIztoypQnMcMHZ2dZmdVoOrp+IhCFI9ll7nyqhOV2XDd/qs4ySJic3DytfB35mXLdpjsZKlkj3MrCI9Xj9Ck1I6Ly6dcrXP1g",
    ),
    (
        "aesgcm",
        32,
        "azhzOmVuYzphZXNnY206djE6a2V5MToji1RssgpfOG07E0Rj51Szzjo8ytH9S/ZE3DKUWgdlgr+ax0ighKzWTeOyb7w/zXJDGQ9uAaFA2V5ulYu5YhoHSjMVqAHMvnPMnsP9lSKRhMSmxRPuRh97uaeImGfx8MM1XjXmPXM/kATQjG+AdFSXN9CaXEYB2M1EXRog7CFM4N/ugmR8hn5yudM+XcQ7sjAN",
    ),
    (
        "aescbc",
        16,
        "azhzOmVuYzphZXNjYmM6djE6a2V5MTrh/83AlfT96Genkk8BkNqpINkELHfMgURWAPqnszUG9jzm+3tR2auDPv3nOzJ8Hd23KUrWiUx0mJSy8cdadVQCftePEVI/rn87BenbuwdMQxyKBQFYw9QCzd7WULKLXNb1HjP9u0ch6n066hEOtQPABLW3DVElry0WH/wJ+5Os/3z+hwIlOVlihZrJspfXLSc=",
    ),
    (
        "aescbc",
        24,
        "azhzOmVuYzphZXNjYmM6djE6a2V5MTqRLlo4iZHmvfdI+TjF+ICmTxQUOsjnkY4zwPV4inoLyDpeab15V4nbaILfYSRJb7G/hbuUTBXXKPKU0u7OlbU0s02xAPyLzARZRAL2sQXJT7jhclY30ptgGUwEz3RJsgQy2iOheQBxPGx6QJmX6N5O/EwVnvZ2SS9LP5nu7eEzDstfQKlEwhMgwdvl/QDxJk4=",
    ),
    (
        "aescbc",
        32,
        "azhzOmVuYzphZXNjYmM6djE6a2V5MTrlNWrFs0QJ6tXZPzpvj3eIFKAv9Zq3AhXHWtDDHZAMfiStk5M9h4oTXqYATEASVESrUtu+rSyRB6jygVvrLBseI9hSaXtHdH+LwLBJbGZevD69YVnBNieRyXhasPuBiTPlvPUxoXARu+Dg5lsCxyMquMI4klYGkzTtofWZXymj1OBYZQ+KAUxb0VzXSuAcwC4=",
    ),
    (
        "secretbox",
        32,
        "azhzOmVuYzpzZWNyZXRib3g6djE6a2V5MTp5/Ru3+6pnOylUipN7uBw2S98d7R5uegCvwWIria2nAK7gN4E94AF+jCqGy1pSlDBtlBL1w/CvxQ97EYAvRryijvk5l5bgZyihdEnCSnUKKVYjJyrLeJqyn1pLkcAOy4Xp02hDrTRk4komOAuKQWqPhhnfulLJTyY062dvNQ/IWnFBbPo1sEdZCtrRVT3m+Yl6xGVsYimlzhh6Pvmg",
    ),
];

#[test]
fn reads_values_written_by_go() {
    for (provider, size, stored) in GO_VECTORS {
        let stored = BASE64.decode(stored).unwrap();
        let t = secrets(&config(&keyed(provider, &[("key1", &key_bytes(*size))])));
        let (plaintext, stale) = t.decrypt(STORAGE_KEY, &stored).unwrap();
        assert_eq!(
            String::from_utf8(plaintext).unwrap(),
            PLAINTEXT,
            "{provider}/{size}"
        );
        assert!(!stale);
        if *provider == "aesgcm" {
            assert!(t.decrypt(b"/registry/secrets/default/s2", &stored).is_err());
        }
    }
}

#[test]
fn upstream_example_secret_decodes() {
    // The secretbox key of upstream's testdata (legacy.yaml, secret-box-first.yaml).
    let text = config(
        "      - secretbox:\n          keys:\n            - name: key1\n              secret: YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY=\n",
    );
    let t = secrets(&text);
    let stored = t.encrypt(STORAGE_KEY, b"x").unwrap();
    assert!(stored.starts_with(b"k8s:enc:secretbox:v1:key1:"));
}

// --- configuration ---

#[test]
fn parses_upstream_example_and_legacy_and_json() {
    // The example of upstream's types_encryption.go; its second and third keys are 28 and 25
    // bytes, which upstream's own validation rejects, so they are replaced by 32 and 24 bytes.
    let upstream = r#"
kind: EncryptionConfiguration
apiVersion: apiserver.config.k8s.io/v1
resources:
- resources:
  - events
  providers:
  - identity: {}  # do not encrypt events even though *.* is specified below
- resources:
  - secrets
  - configmaps
  - pandas.awesome.bears.example
  providers:
  - aescbc:
      keys:
      - name: key1
        secret: c2VjcmV0IGlzIHNlY3VyZQ==
- resources:
  - '*.apps'
  providers:
  - aescbc:
      keys:
      - name: key2
        secret: c2VjcmV0IGlzIHNlY3VyZSwgb3IgaXMgaXQ/IE5vISE=
- resources:
  - '*.*'
  providers:
  - aescbc:
      keys:
      - name: key3
        secret: c2VjcmV0IGlzIHNlY3VyZSwgSSB0aGlu
"#;
    let config = EncryptionConfiguration::parse(upstream).unwrap();
    assert_eq!(config.resources.len(), 4);
    let ts = Transformers::from_config(&config).unwrap();
    let key_of = |g: &str, r: &str| ts.for_resource(g, r).unwrap().write_key().to_string();
    assert_eq!(key_of("", "events"), "identity");
    assert_eq!(key_of("", "secrets"), "aescbc:key1");
    assert_eq!(key_of("awesome.bears.example", "pandas"), "aescbc:key1");
    assert_eq!(key_of("apps", "deployments"), "aescbc:key2");
    assert_eq!(key_of("", "pods"), "aescbc:key3");
    assert_eq!(key_of("batch", "jobs"), "aescbc:key3");

    let legacy = r#"kind: EncryptionConfig
apiVersion: v1
resources:
  - resources:
      - secrets
      - namespaces
    providers:
      - identity: {}
      - secretbox:
          keys:
            - name: key1
              secret: YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY=
"#;
    let ts = Transformers::parse(legacy).unwrap();
    assert!(!ts.for_resource("", "namespaces").unwrap().encrypts());

    let json = r#"{"kind":"EncryptionConfiguration","apiVersion":"apiserver.config.k8s.io/v1",
      "resources":[{"resources":["secrets"],"providers":[
        {"aesgcm":{"keys":[{"name":"k","secret":"AAAAAAAAAAAAAAAAAAAAAA=="}]}},{"identity":{}}]}]}"#;
    let ts = Transformers::parse(json).unwrap();
    let flow = "{apiVersion: apiserver.config.k8s.io/v1, kind: EncryptionConfiguration, resources: [{resources: [secrets], providers: [{identity: {}}]}]}";
    assert!(
        !Transformers::parse(flow)
            .unwrap()
            .for_resource("", "secrets")
            .unwrap()
            .encrypts()
    );
    assert_eq!(
        ts.for_resource("", "secrets").unwrap().write_key().prefix(),
        "k8s:enc:aesgcm:v1:k:"
    );
}

#[test]
fn matching_rules() {
    let k = b64(&key_bytes(32));
    let text = format!(
        r#"apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [events, deployments.apps]
    providers: [{{identity: {{}}}}]
  - resources: [secrets]
    providers: [{{secretbox: {{keys: [{{name: s, secret: "{k}"}}]}}}}]
  - resources: ["*.apps"]
    providers: [{{aesgcm: {{keys: [{{name: apps, secret: "{k}"}}]}}}}]
  - resources: [secrets]
    providers: [{{aesgcm: {{keys: [{{name: later, secret: "{k}"}}]}}}}]
  - resources: ["*."]
    providers: [{{aescbc: {{keys: [{{name: core, secret: "{k}"}}]}}}}]
"#
    );
    let ts = Transformers::parse(&text).unwrap();
    let write = |g: &str, r: &str| ts.for_resource(g, r).map(|t| t.write_key().to_string());
    assert_eq!(write("", "events").as_deref(), Some("identity"));
    assert_eq!(write("apps", "deployments").as_deref(), Some("identity"));
    assert_eq!(
        write("apps", "statefulsets").as_deref(),
        Some("aesgcm:apps")
    );
    assert_eq!(write("", "configmaps").as_deref(), Some("aescbc:core"));
    assert_eq!(write("batch", "jobs"), None);
    // secrets appears twice: the first rule writes, both rules read (upstream appends).
    let secrets = ts.for_resource("", "secrets").unwrap();
    assert_eq!(secrets.write_key().to_string(), "secretbox:s");
    let readers: Vec<String> = secrets.read_keys().iter().map(|k| k.to_string()).collect();
    assert_eq!(readers, ["secretbox:s", "aesgcm:later"]);
}

#[test]
fn masked_rules_are_errors() {
    let text = "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n  - resources: ['*.']\n    providers: [{identity: {}}]\n  - resources: [secrets]\n    providers: [{identity: {}}]\n";
    let err = Transformers::parse(text).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"resource "secrets" is masked by earlier rule "*.""#
    );
    let text = "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n  - resources: ['*.*']\n    providers: [{identity: {}}]\n  - resources: [deployments.apps]\n    providers: [{identity: {}}]\n";
    let err = Transformers::parse(text).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"resource "deployments.apps" is masked by earlier rule "*.*""#
    );
}

#[test]
fn validation_errors_name_the_field() {
    let head = "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n";
    assert_eq!(
        parse_err(&format!("{head}resources: []\n")),
        "resources: Required value: at least one resources is required"
    );
    assert_eq!(
        parse_err(&format!(
            "{head}resources:\n- resources: []\n  providers: []\n"
        )),
        "[resources[0].resources: Required value: at least one resources[0].resources is required, \
         resources[0].providers: Required value: at least one resources[0].providers is required]"
    );
    assert_eq!(
        parse_err(&config(&keyed("aesgcm", &[("k", &[1u8; 8])]))),
        "resources[0].providers[0].aesgcm.keys[0].secret: Invalid value: \"REDACTED\": secret is not of the expected length, got 8, expected one of [16 24 32]"
    );
    assert_eq!(
        parse_err(&config(&keyed("secretbox", &[("k", &[1u8; 16])]))),
        "resources[0].providers[0].secretbox.keys[0].secret: Invalid value: \"REDACTED\": secret is not of the expected length, got 16, expected one of [32]"
    );
    // aescbc takes 16, 24 and 32 bytes (upstream's aesKeySizes), not only 32.
    assert!(
        EncryptionConfiguration::parse(&config(&keyed("aescbc", &[("k", &[1u8; 16])]))).is_ok()
    );
    assert_eq!(
        parse_err(&config(
            "      - aescbc:\n          keys:\n            - name: k\n              secret: 'not base64!'\n"
        )),
        "resources[0].providers[0].aescbc.keys[0].secret: Invalid value: \"REDACTED\": secrets must be base64 encoded"
    );
    assert_eq!(
        parse_err(&config(
            "      - aescbc:\n          keys:\n            - secret: ''\n"
        )),
        "[resources[0].providers[0].aescbc.keys[0].name: Required value: name is a mandatory field for a key, \
         resources[0].providers[0].aescbc.keys[0].secret: Required value: secret is a mandatory field for a key]"
    );
    assert_eq!(
        parse_err(&config("      - aescbc:\n          keys: []\n")),
        "resources[0].providers[0].aescbc.keys: Required value: at least one keys is required"
    );
    assert_eq!(
        parse_err(&config(&keyed(
            "secretbox",
            &[("k", &key_bytes(32)), ("k", &[2u8; 32])]
        ))),
        "resources[0].providers[0].secretbox.keys[1].name: Duplicate value: \"k\""
    );
    assert_eq!(
        parse_err(&config(&format!("{IDENTITY}      - {{}}\n"))),
        "resources[0].providers[1]: Invalid value: provider does not contain any of the expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity"
    );
    assert_eq!(
        parse_err(&config(
            "      - identity: {}\n        aesgcm: {keys: []}\n"
        )),
        "[resources[0].providers[0]: Invalid value: more than one provider specified in a single element, should split into different list elements, \
         resources[0].providers[0].aesgcm.keys: Required value: at least one keys is required]"
    );
    assert_eq!(
        parse_err(&config(&format!(
            "      - kms:\n          apiVersion: v2\n          name: mykms\n          endpoint: unix:///kms.sock\n{IDENTITY}"
        ))),
        "resources[0].providers[0].kms: Forbidden: kms providers are not supported by ferrokube"
    );
}

#[test]
fn resource_name_rules() {
    let rule = |resources: &str| {
        format!(
            "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n  - resources: {resources}\n    providers: [{{identity: {{}}}}]\n"
        )
    };
    assert_eq!(
        parse_err(&rule("[Secrets]")),
        "resources[0].resources[0]: Invalid value: \"Secrets\": resource name should not contain capital letters"
    );
    assert_eq!(
        parse_err(&rule("['*']")),
        "resources[0].resources[0]: Invalid value: \"*\": use '*.' to encrypt all the resources from core API group or *.* to encrypt all resources"
    );
    assert!(parse_err(&rule("[events.events.k8s.io]")).contains("Use 'events' instead"));
    assert!(
        parse_err(&rule("[ingresses.extensions]")).contains("'extensions' group has been removed")
    );
    assert!(parse_err(&rule("[serviceipallocations]")).contains("do not have REST API/s"));
    assert!(parse_err(&rule("['secrets.*']")).contains("across groups is not supported"));
    assert_eq!(
        parse_err(&rule("[secrets, secrets]")),
        "resources[0].resources: Invalid value: [\"secrets\", \"secrets\"]: the same resource cannot be specified multiple times"
    );
    assert!(parse_err(&rule("[secrets, '*.']")).contains("using overlapping resources"));
    assert!(parse_err(&rule("['*.*', deployments.apps]")).contains("using overlapping resources"));
    assert!(
        EncryptionConfiguration::parse(&rule("[secrets, deployments.apps, '*.batch']")).is_ok()
    );
}

#[test]
fn decode_errors() {
    assert!(parse_err("").contains("empty"));
    assert!(parse_err("resources: []\n").contains("Object 'Kind' is missing"));
    assert!(
        parse_err("apiVersion: v1\nkind: Pod\n")
            .contains("no kind \"Pod\" is registered for version \"v1\"")
    );
    assert!(
        parse_err(
            "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfig\nresources: []\n"
        )
        .contains("no kind")
    );
    let unknown = parse_err(&config(&format!("{IDENTITY}      - secretbx: {{}}\n")));
    assert!(
        unknown.contains(
            "strict decoding error: resources[0].providers[1].secretbx: unknown field `secretbx`"
        ),
        "{unknown}"
    );
    assert!(parse_err("apiVersion: [\n").contains("invalid YAML"));
    assert!(parse_err("{\"apiVersion\": ").contains("invalid JSON"));
}

#[test]
fn no_key_material_in_debug_or_errors() {
    let secret = b64(&[0x5a; 32]);
    let text = config(&keyed("secretbox", &[("visible-name", &[0x5a; 32])]));
    let parsed = EncryptionConfiguration::parse(&text).unwrap();
    let debug = format!("{parsed:?}");
    assert!(
        debug.contains("visible-name") && debug.contains("REDACTED") && !debug.contains(&secret),
        "{debug}"
    );
    let ts = Transformers::from_config(&parsed).unwrap();
    let debug = format!("{ts:?}");
    assert!(
        debug.contains("visible-name") && !debug.contains(&secret) && !debug.contains("90, 90"),
        "{debug}"
    );

    // A secret in the wrong place is not echoed by a decode error.
    let misplaced = config(&format!(
        "      - secretbox:\n          keys: [\"{secret}\"]\n"
    ));
    let err = parse_err(&misplaced);
    assert!(!err.contains(&secret), "{err}");
    let numeric = config(
        "      - secretbox:\n          keys:\n            - name: k\n              secret: 123456789\n",
    );
    let err = parse_err(&numeric);
    assert!(!err.contains("123456789"), "{err}");
    // Wrong length: redacted.
    let err = parse_err(&config(&keyed("secretbox", &[("k", &[0x5a; 31])])));
    assert!(!err.contains(&b64(&[0x5a; 31])), "{err}");
}

// --- default config, rotation, status ---

#[test]
fn default_config_encrypts_secrets_with_secretbox() {
    let text = generate_default_config();
    assert!(text.starts_with('#'));
    let config = EncryptionConfiguration::parse(&text).unwrap();
    assert_eq!(config.resources.len(), 1);
    assert_eq!(config.resources[0].resources, ["secrets"]);
    assert_eq!(config.resources[0].providers.len(), 2);
    assert!(config.resources[0].providers[1].identity.is_some());
    let key = &config.resources[0].providers[0]
        .secretbox
        .as_ref()
        .unwrap()
        .keys[0];
    assert!(key.name.starts_with("key-"));
    assert_eq!(BASE64.decode(&key.secret).unwrap().len(), 32);
    assert!(text.contains("identity: {}"), "{text}");

    let ts = Transformers::from_config(&config).unwrap();
    let t = ts.for_resource("", "secrets").unwrap();
    assert!(t.encrypts());
    let stored = t.encrypt(STORAGE_KEY, b"{}").unwrap();
    assert!(stored.starts_with(format!("k8s:enc:secretbox:v1:{}:", key.name).as_bytes()));
    assert!(ts.for_resource("", "configmaps").is_none());

    // Two generations never share a key.
    let other = EncryptionConfiguration::parse(&generate_default_config()).unwrap();
    let other_key = &other.resources[0].providers[0]
        .secretbox
        .as_ref()
        .unwrap()
        .keys[0];
    assert_ne!(other_key.secret, key.secret);
}

#[test]
fn rotate_then_reencrypt_then_prune() {
    let original = generate_default_config();
    let before = secrets(&original);
    let old_key = before.write_key();
    let old_value = before.encrypt(STORAGE_KEY, b"v").unwrap();

    let rotated_text = rotate(&original).unwrap();
    let rotated_config = EncryptionConfiguration::parse(&rotated_text).unwrap();
    let st = status(&rotated_config);
    assert_eq!(st.entries.len(), 1);
    assert_ne!(st.entries[0].active, old_key);
    assert_eq!(st.entries[0].active.provider, ProviderKind::Secretbox);
    assert_eq!(st.entries[0].keys.len(), 3, "{st}");
    assert_eq!(st.entries[0].keys[1], old_key);
    assert_eq!(st.entries[0].keys[2].provider, ProviderKind::Identity);
    // Rotating within the same second still gives a distinct name.
    assert_ne!(st.entries[0].active.key, old_key.key);

    let after = secrets(&rotated_text);
    assert_eq!(
        after.decrypt(STORAGE_KEY, &old_value).unwrap(),
        (b"v".to_vec(), true)
    );
    let rewritten = after.reencrypt(STORAGE_KEY, &old_value).unwrap().unwrap();
    assert!(rewritten.starts_with(st.entries[0].active.prefix().as_bytes()));

    let pruned_text = prune(&rotated_text).unwrap();
    let pruned = status(&EncryptionConfiguration::parse(&pruned_text).unwrap());
    assert_eq!(
        pruned.entries[0].keys,
        [st.entries[0].active.clone(), st.entries[0].keys[2].clone()]
    );
    let pruned_t = secrets(&pruned_text);
    assert_eq!(
        pruned_t.decrypt(STORAGE_KEY, &rewritten).unwrap(),
        (b"v".to_vec(), false)
    );
    assert!(pruned_t.decrypt(STORAGE_KEY, &old_value).is_err());
}

#[test]
fn rotate_puts_secretbox_in_front_of_aes_and_skips_identity_rules() {
    let k = b64(&key_bytes(32));
    let text = format!(
        "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n  - resources: [events]\n    providers: [{{identity: {{}}}}]\n  - resources: [secrets, '*.apps']\n    providers: [{{aescbc: {{keys: [{{name: a, secret: \"{k}\"}}]}}}}]\n"
    );
    let old = secrets(&text).encrypt(STORAGE_KEY, b"v").unwrap();
    let rotated = rotate(&text).unwrap();
    let st = status(&EncryptionConfiguration::parse(&rotated).unwrap());
    assert_eq!(st.entries[0].active.provider, ProviderKind::Identity);
    assert_eq!(st.entries[1].resources, ["secrets", "*.apps"]);
    assert_eq!(st.entries[1].active.provider, ProviderKind::Secretbox);
    assert_eq!(st.entries[1].keys[1].to_string(), "aescbc:a");
    assert_eq!(
        secrets(&rotated).decrypt(STORAGE_KEY, &old).unwrap(),
        (b"v".to_vec(), true)
    );
    assert!(st.encryption_enabled());

    let plain = "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n  - resources: [secrets]\n    providers: [{identity: {}}]\n";
    assert!(matches!(rotate(plain), Err(Error::NothingToRotate)));
    assert!(!status(&EncryptionConfiguration::parse(plain).unwrap()).encryption_enabled());
    assert!(rotate("garbage: [").is_err());
}

#[test]
fn status_lists_key_names_only() {
    let text = config(&format!(
        "{}{}{IDENTITY}",
        keyed("secretbox", &[("new", &[0x11; 32]), ("old", &[0x22; 32])]),
        keyed("aesgcm", &[("g", &[0x33; 16])])
    ));
    let st = status(&EncryptionConfiguration::parse(&text).unwrap());
    let shown = st.to_string();
    assert_eq!(
        shown,
        "secrets: writes with secretbox:new; reads secretbox:new, secretbox:old, aesgcm:g, identity\n"
    );
    assert_eq!(st.entries[0].active.prefix(), "k8s:enc:secretbox:v1:new:");
    assert!(!format!("{st:?}").contains(&b64(&[0x11; 32])));
}

#[test]
fn yaml_output_round_trips() {
    let text = config(&format!(
        "{}{IDENTITY}",
        keyed("aesgcm", &[("k1", &key_bytes(16)), ("k2", &key_bytes(32))])
    ))
    .replace(
        "[secrets]",
        "[secrets, '*.apps', 'pandas.awesome.bears.example']",
    );
    let config = EncryptionConfiguration::parse(&text).unwrap();
    let yaml = config.to_yaml();
    assert!(
        yaml.contains("apiVersion: apiserver.config.k8s.io/v1"),
        "{yaml}"
    );
    assert_eq!(
        EncryptionConfiguration::parse(&yaml).unwrap(),
        config,
        "{yaml}"
    );
}
