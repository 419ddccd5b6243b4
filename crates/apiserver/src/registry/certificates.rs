//! `certificates.k8s.io/v1`: certificatesigningrequests.

use apimachinery::ResourceInfo;
use k8s_openapi::api::certificates::v1 as api;

use super::{Registry, Resource, Strategy, parts};

parts!(spec, status: api::CertificateSigningRequest);

/// certificatesigningrequests
pub struct CertificateSigningRequests;
impl Strategy for CertificateSigningRequests {
    type K = api::CertificateSigningRequest;
    /// The requester is whoever creates the request (upstream's strategy overwrites what the
    /// client sent).
    fn prepare_for_create(&self, o: &mut api::CertificateSigningRequest) {
        use crate::registry::Parts;
        o.clear_status();
        let u = crate::context::user();
        o.spec.username = Some(u.name.clone());
        o.spec.uid = (!u.uid.is_empty()).then(|| u.uid.clone());
        o.spec.groups = Some(u.groups.clone());
        o.spec.extra = (!u.extra.is_empty()).then(|| u.extra.clone());
    }
    fn validate(&self, o: &api::CertificateSigningRequest) -> apimachinery::ErrorList {
        crate::validation::certificate_signing_request(o)
    }
    fn validate_update(&self, new: &api::CertificateSigningRequest, old: &api::CertificateSigningRequest) -> apimachinery::ErrorList {
        crate::validation::certificate_signing_request_update(new, old)
    }
    fn validate_status_update(&self, new: &api::CertificateSigningRequest, old: &api::CertificateSigningRequest) -> apimachinery::ErrorList {
        crate::validation::certificate_signing_request_status_update(new, old)
    }
    fn defaults(&self, o: &mut api::CertificateSigningRequest) {
        crate::defaults::certificates::certificate_signing_request(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::certificates::certificate_signing_request_columns()
    }
    fn cells(&self, o: &api::CertificateSigningRequest, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::certificates::certificate_signing_request_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        ResourceInfo::new("certificates.k8s.io", "v1", "CertificateSigningRequest", "certificatesigningrequests", false)
            .short(&["csr"])
    }
    fn field_labels(&self) -> &'static [&'static str] {
        &["spec.signerName"]
    }
    fn field_values(&self, c: &api::CertificateSigningRequest) -> Vec<String> {
        vec![c.spec.signer_name.clone()]
    }
}

/// Registers certificates.k8s.io/v1.
pub fn register(r: &mut Registry) {
    r.add(Resource::new(CertificateSigningRequests).with_subresources(&[super::Subresource {
        name: "approval",
        group: "certificates.k8s.io",
        version: "v1",
        kind: "CertificateSigningRequest".into(),
        verbs: &["get", "patch", "update"],
    }]));
}
