//! Dynamic admission: MutatingAdmissionWebhook and ValidatingAdmissionWebhook
//! (`admissionregistration.k8s.io/v1`). Matching webhooks (rules, namespace and object
//! selectors, scope) are called over HTTPS with an `admission.k8s.io/v1` AdmissionReview; the
//! server's certificate is verified against the webhook's `caBundle` (the system roots when it
//! has none). Mutating webhooks run one after another and may answer a JSON patch; validating
//! webhooks run concurrently and any denial rejects. `failurePolicy` (Fail by default) decides
//! what an unreachable webhook means; `timeoutSeconds` (10 by default) bounds each call.
//! Webhook configurations themselves are never sent to webhooks, so a broken webhook cannot
//! lock an administrator out.

use std::sync::Arc;
use std::time::Duration;

use apimachinery::labels::Selector;
use apimachinery::{ApiError, ApiResult};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use k8s_openapi::api::admissionregistration::v1 as ar;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use parking_lot::RwLock;
use serde_json::{Value, json};

use super::{Operation, Request};
use crate::Api;
use crate::registry::Object;

/// Decoded webhook configurations, rebuilt when their caches change.
#[derive(Default)]
pub struct Index {
    current: RwLock<Arc<Snapshot>>,
}

#[derive(Default)]
struct Snapshot {
    generations: Vec<u64>,
    mutating: Vec<(String, ar::MutatingWebhook)>,
    validating: Vec<(String, ar::ValidatingWebhook)>,
}

impl Index {
    fn snapshot(&self, api: &Api) -> Arc<Snapshot> {
        let caches = ["mutatingwebhookconfigurations", "validatingwebhookconfigurations"]
            .map(|p| api.resource("admissionregistration.k8s.io", "v1", p).and_then(|r| api.caches.cache(&r)));
        let [Some(m), Some(v)] = caches else { return Arc::new(Snapshot::default()) };
        let gens = vec![m.generation(), v.generation()];
        {
            let cur = self.current.read();
            if cur.generations == gens {
                return cur.clone();
            }
        }
        let mut snap = Snapshot { generations: gens, ..Default::default() };
        // configurations in name order, webhooks in their order (upstream's ordering)
        let mut ms: Vec<ar::MutatingWebhookConfiguration> = m.decode_all("");
        ms.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        for c in ms {
            let name = c.metadata.name.clone().unwrap_or_default();
            snap.mutating.extend(c.webhooks.unwrap_or_default().into_iter().map(|w| (name.clone(), w)));
        }
        let mut vs: Vec<ar::ValidatingWebhookConfiguration> = v.decode_all("");
        vs.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        for c in vs {
            let name = c.metadata.name.clone().unwrap_or_default();
            snap.validating.extend(c.webhooks.unwrap_or_default().into_iter().map(|w| (name.clone(), w)));
        }
        let snap = Arc::new(snap);
        *self.current.write() = snap.clone();
        snap
    }
}

fn exempt(req: &Request<'_>) -> bool {
    let g = &req.res.info.group;
    g == "admissionregistration.k8s.io" || (g == "authentication.k8s.io" || g == "authorization.k8s.io")
}

fn matches_list(list: &Option<Vec<String>>, value: &str) -> bool {
    list.as_ref().is_some_and(|l| l.iter().any(|x| x == "*" || x == value))
}

fn resource_matches(list: &Option<Vec<String>>, resource: &str, sub: &str) -> bool {
    list.as_ref().is_some_and(|l| {
        l.iter().any(|r| {
            if r == "*" {
                return sub.is_empty();
            }
            if r == "*/*" {
                return true;
            }
            let (rr, rs) = r.split_once('/').unwrap_or((r.as_str(), ""));
            (rr == "*" || rr == resource) && (rs == sub || (rs == "*" && !sub.is_empty()))
        })
    })
}

fn rule_matches(rules: &Option<Vec<ar::RuleWithOperations>>, req: &Request<'_>) -> bool {
    let info = &req.res.info;
    let op = req.operation.as_str();
    rules.iter().flatten().any(|r| {
        matches_list(&r.operations, op)
            && matches_list(&r.api_groups, &info.group)
            && matches_list(&r.api_versions, &info.version)
            && resource_matches(&r.resources, &info.plural, req.subresource)
            && match r.scope.as_deref().unwrap_or("*") {
                "Cluster" => !info.namespaced,
                "Namespaced" => info.namespaced,
                _ => true,
            }
    })
}

fn selector(sel: &Option<LabelSelector>) -> Option<Selector> {
    let sel = sel.as_ref()?;
    let mut parts: Vec<String> = sel.match_labels.iter().flatten().map(|(k, v)| format!("{k}={v}")).collect();
    for e in sel.match_expressions.iter().flatten() {
        let vals = e.values.clone().unwrap_or_default().join(",");
        parts.push(match e.operator.as_str() {
            "In" => format!("{} in ({vals})", e.key),
            "NotIn" => format!("{} notin ({vals})", e.key),
            "Exists" => e.key.clone(),
            _ => format!("!{}", e.key),
        });
    }
    Selector::parse(&parts.join(",")).ok()
}

fn namespace_matches(api: &Api, sel: &Option<LabelSelector>, req: &Request<'_>, obj: Option<&dyn Object>) -> bool {
    let Some(sel) = selector(sel) else { return true };
    let info = &req.res.info;
    let labels = if info.group.is_empty() && info.plural == "namespaces" {
        obj.or(req.old).and_then(|o| o.meta().labels.clone()).unwrap_or_default()
    } else if !info.namespaced {
        return true; // cluster-scoped objects are not selected out by namespace
    } else {
        api.namespace_labels(req.namespace).unwrap_or_default()
    };
    sel.matches(&labels)
}

fn object_matches(sel: &Option<LabelSelector>, req: &Request<'_>, obj: Option<&dyn Object>) -> bool {
    let Some(sel) = selector(sel) else { return true };
    let m = |o: Option<&dyn Object>| o.is_some_and(|o| sel.matches(&o.meta().labels.clone().unwrap_or_default()));
    m(obj) || m(req.old)
}

/// Where and how to call a webhook.
struct Target {
    url: String,
    host: String,
    addr: String,
    path: String,
    server_name: String,
    tls: Arc<rustls::ClientConfig>,
}

fn system_roots() -> Vec<rustls::pki_types::CertificateDer<'static>> {
    std::fs::read_to_string("/etc/ssl/certs/ca-certificates.crt").ok().and_then(|p| pki::certs_from_pem(&p).ok()).unwrap_or_default()
}

/// Verifies a webhook's certificate against its caBundle. Like Go's verifier (and unlike
/// webpki alone), a self-signed certificate that is itself in the caBundle is accepted when it
/// is valid now and names the server: webhooks are commonly deployed with exactly that.
#[derive(Debug)]
struct Verifier {
    webpki: Arc<rustls::client::WebPkiServerVerifier>,
    pinned: Vec<rustls::pki_types::CertificateDer<'static>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        intermediates: &[rustls::pki_types::CertificateDer<'_>],
        server_name: &rustls::pki_types::ServerName<'_>,
        ocsp: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        match self.webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Ok(v) => Ok(v),
            Err(e) => {
                let pinned = self.pinned.iter().any(|c| c.as_ref() == end_entity.as_ref());
                let info = pki::cert_info_der(end_entity.as_ref());
                let valid_now = info.as_ref().is_some_and(|i| i.not_after > now.as_secs() as i64);
                let names = info.is_some_and(|i| match server_name {
                    rustls::pki_types::ServerName::IpAddress(ip) => i.ips.contains(&std::net::IpAddr::from(*ip)),
                    rustls::pki_types::ServerName::DnsName(d) => i.dns_names.iter().any(|n| n.eq_ignore_ascii_case(d.as_ref())),
                    _ => false,
                });
                if pinned && valid_now && names {
                    Ok(rustls::client::danger::ServerCertVerified::assertion())
                } else {
                    Err(e)
                }
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

fn target(api: &Api, cfg: &ar::WebhookClientConfig) -> Result<Target, String> {
    let mut roots = rustls::RootCertStore::empty();
    let certs = match &cfg.ca_bundle {
        Some(b) if !b.0.is_empty() => pki::certs_from_pem(&String::from_utf8_lossy(&b.0)).map_err(|e| format!("invalid caBundle: {e}"))?,
        _ => system_roots(),
    };
    for c in certs {
        roots.add(c).map_err(|e| format!("invalid caBundle: {e}"))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let pinned = match &cfg.ca_bundle {
        Some(b) if !b.0.is_empty() => pki::certs_from_pem(&String::from_utf8_lossy(&b.0)).unwrap_or_default(),
        _ => Vec::new(),
    };
    let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| format!("invalid caBundle: {e}"))?;
    let verifier = Arc::new(Verifier { webpki, pinned, provider: provider.clone() });
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    let tls = Arc::new(tls);
    if let Some(url) = &cfg.url {
        let uri: http::Uri = url.parse().map_err(|e| format!("invalid url {url:?}: {e}"))?;
        if uri.scheme_str() != Some("https") {
            return Err(format!("webhook url {url:?} must use https"));
        }
        let host = uri.host().ok_or("url has no host")?.trim_start_matches('[').trim_end_matches(']').to_string();
        let port = uri.port_u16().unwrap_or(443);
        let path = uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
        let addr = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
        return Ok(Target { url: url.clone(), host: host.clone(), addr, path, server_name: host, tls });
    }
    let svc = cfg.service.as_ref().ok_or("webhook has neither url nor service")?;
    let port = svc.port.unwrap_or(443);
    // reach the service through its endpoints, as kube-apiserver's endpoint routing does
    let res = api.resource("", "v1", "endpoints").ok_or("endpoints not served")?;
    let cache = api.caches.cache(&res).ok_or("no endpoints cache")?;
    let ep = cache.get(&res.key(&svc.namespace, &svc.name)).0.ok_or_else(|| format!("service {}/{} has no endpoints", svc.namespace, svc.name))?;
    let ep: Value = serde_json::from_slice(&ep.json).map_err(|e| e.to_string())?;
    let svc_res = api.resource("", "v1", "services").ok_or("services not served")?;
    let svc_cache = api.caches.cache(&svc_res).ok_or("no services cache")?;
    let svc_obj = svc_cache.get(&svc_res.key(&svc.namespace, &svc.name)).0.ok_or_else(|| format!("service \"{}\" not found", svc.name))?;
    let svc_obj: Value = serde_json::from_slice(&svc_obj.json).map_err(|e| e.to_string())?;
    let sp = svc_obj.pointer("/spec/ports").and_then(Value::as_array).and_then(|ps| ps.iter().find(|p| p["port"].as_i64() == Some(port as i64)).cloned()).ok_or_else(|| format!("service {} has no port {port}", svc.name))?;
    let subset = ep.pointer("/subsets/0").ok_or_else(|| format!("service {}/{} has no ready endpoints", svc.namespace, svc.name))?;
    let ip = subset.pointer("/addresses/0/ip").and_then(Value::as_str).ok_or("no ready endpoint address")?;
    let target_port = subset
        .get("ports")
        .and_then(Value::as_array)
        .and_then(|ps| ps.iter().find(|p| p.get("name") == sp.get("name") || ps.len() == 1))
        .and_then(|p| p["port"].as_i64())
        .ok_or("no endpoint port")?;
    let server_name = format!("{}.{}.svc", svc.name, svc.namespace);
    let path = svc.path.clone().unwrap_or_else(|| "/".into());
    Ok(Target { url: format!("https://{server_name}:{port}{path}"), host: server_name.clone(), addr: format!("{ip}:{target_port}"), path, server_name, tls })
}

async fn post(t: &Target, body: Vec<u8>, timeout: Duration) -> Result<Value, String> {
    let fut = async {
        let tcp = tokio::net::TcpStream::connect(&t.addr).await.map_err(|e| format!("dial tcp {}: {e}", t.addr))?;
        let name = rustls::pki_types::ServerName::try_from(t.server_name.clone()).map_err(|e| e.to_string())?;
        let tls = tokio_rustls::TlsConnector::from(t.tls.clone()).connect(name, tcp).await.map_err(|e| format!("tls: {e}"))?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls)).await.map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        let req = http::Request::post(&t.path)
            .header(http::header::HOST, &t.host)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
        let status = resp.status();
        let bytes = resp.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
        if !status.is_success() {
            return Err(format!("the server responded with status {status}"));
        }
        serde_json::from_slice::<Value>(&bytes).map_err(|e| format!("the response is not an AdmissionReview: {e}"))
    };
    match tokio::time::timeout(timeout, fut).await {
        Ok(r) => r.map_err(|e| format!("Post \"{}\": {e}", t.url)),
        Err(_) => Err(format!("Post \"{}\": context deadline exceeded", t.url)),
    }
}

fn review(req: &Request<'_>, uid: &str, obj: Option<&dyn Object>) -> Value {
    let info = &req.res.info;
    let gvk = json!({"group": info.group, "version": info.version, "kind": info.kind});
    let gvr = json!({"group": info.group, "version": info.version, "resource": info.plural});
    let user = serde_json::to_value(req.user).unwrap_or_default();
    let options_kind = match req.operation {
        Operation::Create => "CreateOptions",
        Operation::Update => "UpdateOptions",
        Operation::Delete => "DeleteOptions",
    };
    let mut r = json!({
        "uid": uid,
        "kind": gvk, "resource": gvr,
        "requestKind": gvk, "requestResource": gvr,
        "name": req.name,
        "operation": req.operation.as_str(),
        "userInfo": user,
        "object": obj.and_then(|o| o.to_value().ok()).unwrap_or(Value::Null),
        "oldObject": req.old.and_then(|o| o.to_value().ok()).unwrap_or(Value::Null),
        "dryRun": req.dry_run,
        "options": {"apiVersion": "meta.k8s.io/v1", "kind": options_kind},
    });
    if !req.subresource.is_empty() {
        r["subResource"] = json!(req.subresource);
        r["requestSubResource"] = json!(req.subresource);
    }
    if !req.namespace.is_empty() {
        r["namespace"] = json!(req.namespace);
    }
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": r})
}

/// Upstream's rejection by a webhook.
fn denied(name: &str, status: Option<&Value>) -> ApiError {
    let by = format!("admission webhook \"{name}\" denied the request");
    let msg = status.and_then(|s| s.get("message")).and_then(Value::as_str).unwrap_or("");
    let reason = status.and_then(|s| s.get("reason")).and_then(Value::as_str).unwrap_or("");
    let code = status.and_then(|s| s.get("code")).and_then(Value::as_u64).unwrap_or(0).max(400) as u16;
    let message = if !msg.is_empty() {
        format!("{by}: {msg}")
    } else if !reason.is_empty() {
        format!("{by}: {reason}")
    } else {
        format!("{by} without explanation")
    };
    let mut e = ApiError::new(code, apimachinery::status::Reason::parse(reason), message);
    e.details = None;
    e
}

enum Outcome {
    Allowed { patch: Option<Vec<u8>>, warnings: Vec<String> },
    Denied(ApiError),
}

async fn call(api: &Api, name: &str, cfg: &ar::WebhookClientConfig, versions: &[String], timeout: Option<i32>, req: &Request<'_>, obj: Option<&dyn Object>) -> Result<Outcome, String> {
    if !versions.iter().any(|v| v == "v1") {
        return Err(format!("webhook does not accept v1 AdmissionReview (admissionReviewVersions: {versions:?})"));
    }
    let t = target(api, cfg)?;
    let uid = uuid::Uuid::new_v4().to_string();
    let body = serde_json::to_vec(&review(req, &uid, obj)).map_err(|e| e.to_string())?;
    let timeout = Duration::from_secs(timeout.unwrap_or(10).clamp(1, 30) as u64);
    let answer = post(&t, body, timeout).await?;
    let resp = answer.get("response").ok_or("the response has no \"response\"")?;
    if resp.get("uid").and_then(Value::as_str) != Some(uid.as_str()) {
        return Err(format!("expected response.uid={uid:?}, got {:?}", resp.get("uid")));
    }
    let warnings = resp.get("warnings").and_then(Value::as_array).map(|w| w.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default();
    if resp.get("allowed").and_then(Value::as_bool) != Some(true) {
        return Ok(Outcome::Denied(denied(name, resp.get("status"))));
    }
    let patch = match resp.get("patch").and_then(Value::as_str) {
        Some(p) => {
            if resp.get("patchType").and_then(Value::as_str) != Some("JSONPatch") {
                return Err("the response has a patch without patchType JSONPatch".into());
            }
            use base64::Engine;
            Some(base64::engine::general_purpose::STANDARD.decode(p).map_err(|e| format!("the patch is not base64: {e}"))?)
        }
        None => None,
    };
    Ok(Outcome::Allowed { patch, warnings })
}

/// Upstream's `matchConditions`: every CEL condition must hold for the webhook to be called.
/// `Ok(false)`: skip the webhook; `Err`: the conditions could not be evaluated.
fn conditions_hold(conditions: &Option<Vec<ar::MatchCondition>>, req: &Request<'_>, obj: Option<&dyn Object>) -> Result<bool, String> {
    let Some(conds) = conditions.as_ref().filter(|c| !c.is_empty()) else { return Ok(true) };
    let review = review(req, "", obj);
    let object = obj.and_then(|o| o.to_value().ok()).unwrap_or(Value::Null);
    let old = req.old.and_then(|o| o.to_value().ok()).unwrap_or(Value::Null);
    let request = review.get("request").cloned().unwrap_or(Value::Null);
    for c in conds {
        let vars = [("object", &object), ("oldObject", &old), ("request", &request)];
        match crate::crdschema::cel::eval_bool(&c.expression, &vars) {
            Ok(true) => {}
            Ok(false) => return Ok(false),
            Err(e) => return Err(format!("failed to evaluate match condition {:?}: {e}", c.name)),
        }
    }
    Ok(true)
}

fn failure(name: &str, policy: Option<&str>, err: String) -> Option<ApiError> {
    if policy == Some("Ignore") {
        tracing::warn!(webhook = name, error = %err, "webhook failed; ignored by its failurePolicy");
        return None;
    }
    Some(ApiError::internal(format!("failed calling webhook \"{name}\": failed to call webhook: {err}")))
}

/// Runs the matching mutating webhooks, in order, applying their patches.
pub async fn mutate(api: &Api, req: &Request<'_>, obj: &mut Box<dyn Object>) -> ApiResult<()> {
    if exempt(req) || req.operation == Operation::Delete {
        return Ok(());
    }
    let snap = api.webhooks.snapshot(api);
    for (_cfg, w) in &snap.mutating {
        if !rule_matches(&w.rules, req) || !namespace_matches(api, &w.namespace_selector, req, Some(obj.as_ref())) || !object_matches(&w.object_selector, req, Some(obj.as_ref())) {
            continue;
        }
        match conditions_hold(&w.match_conditions, req, Some(obj.as_ref())) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => match failure(&w.name, w.failure_policy.as_deref(), e) {
                Some(err) => return Err(err),
                None => continue,
            },
        }
        if req.dry_run && w.side_effects != "None" && w.side_effects != "NoneOnDryRun" {
            return Err(ApiError::bad_request(format!("admission webhook \"{}\" does not support dry run", w.name)));
        }
        match call(api, &w.name, &w.client_config, &w.admission_review_versions, w.timeout_seconds, req, Some(obj.as_ref())).await {
            Ok(Outcome::Denied(e)) => return Err(e),
            Ok(Outcome::Allowed { patch, warnings }) => {
                warnings.into_iter().for_each(super::warn);
                if let Some(p) = patch {
                    let ops: Value = serde_json::from_slice(&p).map_err(|e| ApiError::internal(format!("webhook \"{}\" sent an invalid patch: {e}", w.name)))?;
                    let v = obj.to_value().map_err(ApiError::internal)?;
                    let v = apimachinery::patch::json_patch(v, &ops).map_err(|e| ApiError::internal(format!("webhook \"{}\" sent a patch that does not apply: {}", w.name, e.message)))?;
                    let mut unknown = Vec::new();
                    *obj = req.res.strategy.decode(v, &mut unknown).map_err(|e| ApiError::internal(format!("webhook \"{}\" patched the object into an invalid one: {e}", w.name)))?;
                }
            }
            Err(e) => {
                if let Some(e) = failure(&w.name, w.failure_policy.as_deref(), e) {
                    return Err(e);
                }
            }
        }
    }
    Ok(())
}

/// Runs the matching validating webhooks concurrently; any denial rejects.
pub async fn validate(api: &Api, req: &Request<'_>, obj: Option<&dyn Object>) -> ApiResult<()> {
    if exempt(req) {
        return Ok(());
    }
    let snap = api.webhooks.snapshot(api);
    let matching: Vec<&ar::ValidatingWebhook> = snap
        .validating
        .iter()
        .map(|(_, w)| w)
        .filter(|w| rule_matches(&w.rules, req) && namespace_matches(api, &w.namespace_selector, req, obj) && object_matches(&w.object_selector, req, obj))
        .collect();
    let mut selected = Vec::with_capacity(matching.len());
    for w in matching {
        match conditions_hold(&w.match_conditions, req, obj) {
            Ok(true) => selected.push(w),
            Ok(false) => {}
            Err(e) => {
                if let Some(err) = failure(&w.name, w.failure_policy.as_deref(), e) {
                    return Err(err);
                }
            }
        }
    }
    let matching = selected;
    if matching.is_empty() {
        return Ok(());
    }
    for w in &matching {
        if req.dry_run && w.side_effects != "None" && w.side_effects != "NoneOnDryRun" {
            return Err(ApiError::bad_request(format!("admission webhook \"{}\" does not support dry run", w.name)));
        }
    }
    let calls = matching.iter().map(|w| async move {
        (w, call(api, &w.name, &w.client_config, &w.admission_review_versions, w.timeout_seconds, req, obj).await)
    });
    for (w, r) in futures::future::join_all(calls).await {
        match r {
            Ok(Outcome::Denied(e)) => return Err(e),
            Ok(Outcome::Allowed { warnings, .. }) => warnings.into_iter().for_each(super::warn),
            Err(e) => {
                if let Some(e) = failure(&w.name, w.failure_policy.as_deref(), e) {
                    return Err(e);
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_patterns() {
        let l = |v: &[&str]| Some(v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert!(resource_matches(&l(&["pods"]), "pods", ""));
        assert!(!resource_matches(&l(&["pods"]), "pods", "status"));
        assert!(resource_matches(&l(&["pods/status"]), "pods", "status"));
        assert!(resource_matches(&l(&["pods/*"]), "pods", "exec"));
        assert!(!resource_matches(&l(&["pods/*"]), "pods", ""));
        assert!(resource_matches(&l(&["*"]), "deployments", ""));
        assert!(!resource_matches(&l(&["*"]), "deployments", "scale"));
        assert!(resource_matches(&l(&["*/scale"]), "deployments", "scale"));
        assert!(resource_matches(&l(&["*/*"]), "pods", "log"));
        assert!(!resource_matches(&None, "pods", ""));
    }

    #[test]
    fn denial_texts_are_upstreams() {
        let e = denied("deny.example.com", Some(&json!({"message": "no pods named evil", "code": 403})));
        assert_eq!(e.code, 403);
        assert_eq!(e.message, "admission webhook \"deny.example.com\" denied the request: no pods named evil");
        let e = denied("w", None);
        assert_eq!(e.code, 400);
        assert_eq!(e.message, "admission webhook \"w\" denied the request without explanation");
    }
}
