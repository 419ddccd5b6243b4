//! `certificates.k8s.io/v1`: certificatesigningrequests.

use apimachinery::ResourceInfo;
use k8s_openapi::api::certificates::v1 as api;

use super::{Registry, Resource, Strategy, parts};

parts!(spec, status: api::CertificateSigningRequest);

/// certificatesigningrequests
pub struct CertificateSigningRequests;
impl Strategy for CertificateSigningRequests {
    type K = api::CertificateSigningRequest;
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
    r.add(Resource::new(CertificateSigningRequests));
}
