//! Kubernetes API machinery for ferrokube, the part of the API that is pure data and rules:
//! group/version/kind/resource names, label and field selectors, name and label validation,
//! field errors and `Status` errors, tables, durations.
//!
//! It may depend on k8s-openapi and serde. It must never do I/O, never know HTTP serving or
//! storage, and never name a single resource's behaviour (that is the apiserver's registry).

pub mod field;
pub mod fields;
pub mod labels;
pub mod managedfields;
pub mod patch;
pub mod quantity;
pub mod query;
pub mod resource;
pub mod schema;
pub mod status;
pub mod table;
pub mod validation;

pub use field::{ErrorKind, ErrorList, FieldError, Path};
pub use resource::ResourceInfo;
pub use status::{ApiError, ApiResult};
