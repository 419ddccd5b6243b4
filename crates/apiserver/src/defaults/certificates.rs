//! Defaults for `certificates.k8s.io/v1`.

use k8s_openapi::api::certificates::v1::CertificateSigningRequest;

/// CertificateSigningRequest: upstream has no defaults for this kind in v1 (`signerName` and
/// `usages` are required; the legacy defaults existed only in v1beta1).
pub fn certificate_signing_request(_obj: &mut CertificateSigningRequest) {}
