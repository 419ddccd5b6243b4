//! The review APIs: `authentication.k8s.io/v1` tokenreviews and selfsubjectreviews,
//! `authorization.k8s.io/v1` subjectaccessreviews, selfsubjectaccessreviews,
//! localsubjectaccessreviews and selfsubjectrulesreviews. They are create-only and never
//! stored: `auth::reviews` answers them.

use apimachinery::ResourceInfo;
use k8s_openapi::api::authentication::v1 as authn;
use k8s_openapi::api::authorization::v1 as authz;

use super::{Registry, Resource, Strategy, parts};

parts!(spec: authn::TokenReview, authz::SubjectAccessReview, authz::SelfSubjectAccessReview, authz::LocalSubjectAccessReview, authz::SelfSubjectRulesReview);
parts!(data: authn::SelfSubjectReview);

macro_rules! review {
    ($name:ident, $ty:ty, $group:literal, $kind:literal, $plural:literal, $namespaced:literal) => {
        #[doc = concat!("`", $plural, "` (create only, never stored)")]
        pub struct $name;
        impl Strategy for $name {
            type K = $ty;
            fn info(&self) -> ResourceInfo {
                ResourceInfo::new($group, "v1", $kind, $plural, $namespaced).verbs(&["create"])
            }
        }
    };
}

review!(TokenReviews, authn::TokenReview, "authentication.k8s.io", "TokenReview", "tokenreviews", false);
review!(SelfSubjectReviews, authn::SelfSubjectReview, "authentication.k8s.io", "SelfSubjectReview", "selfsubjectreviews", false);
review!(SubjectAccessReviews, authz::SubjectAccessReview, "authorization.k8s.io", "SubjectAccessReview", "subjectaccessreviews", false);
review!(SelfSubjectAccessReviews, authz::SelfSubjectAccessReview, "authorization.k8s.io", "SelfSubjectAccessReview", "selfsubjectaccessreviews", false);
review!(LocalSubjectAccessReviews, authz::LocalSubjectAccessReview, "authorization.k8s.io", "LocalSubjectAccessReview", "localsubjectaccessreviews", true);
review!(SelfSubjectRulesReviews, authz::SelfSubjectRulesReview, "authorization.k8s.io", "SelfSubjectRulesReview", "selfsubjectrulesreviews", false);

/// Whether a resource is one of the review APIs.
pub fn is_review(info: &ResourceInfo) -> bool {
    matches!(info.group.as_str(), "authentication.k8s.io" | "authorization.k8s.io")
}

/// Registers the review APIs.
pub fn register(r: &mut Registry) {
    r.add(Resource::new(TokenReviews));
    r.add(Resource::new(SelfSubjectReviews));
    r.add(Resource::new(SubjectAccessReviews));
    r.add(Resource::new(SelfSubjectAccessReviews));
    r.add(Resource::new(LocalSubjectAccessReviews));
    r.add(Resource::new(SelfSubjectRulesReviews));
}
