//! Content negotiation: which representation a client asked for in `Accept`.
//!
//! kubectl asks for `Table` (`application/json;as=Table;v=v1;g=meta.k8s.io`), controllers may ask
//! for `PartialObjectMetadata`, clients preferring protobuf list JSON as a fallback. ferrokube
//! produces JSON and YAML; a client that accepts only protobuf gets 406.

use apimachinery::ApiError;

/// What the response body should be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// The object (or list) as JSON.
    Json,
    /// The object (or list) as YAML.
    Yaml,
    /// A `meta.k8s.io` Table of the given version (`v1` or `v1beta1`).
    Table(&'static str),
    /// `PartialObjectMetadata` (or its list) of the given version.
    PartialMetadata(&'static str),
}

/// The media types the server can produce.
pub const PRODUCED: &[&str] = &["application/json", "application/yaml"];

struct MediaRange<'a> {
    full: &'a str,
    params: Vec<(&'a str, &'a str)>,
}

fn parse_accept(accept: &str) -> Vec<MediaRange<'_>> {
    accept
        .split(',')
        .filter_map(|part| {
            let mut it = part.split(';');
            let full = it.next()?.trim();
            if full.is_empty() {
                return None;
            }
            let params: Vec<(&str, &str)> = it
                .filter_map(|p| {
                    let (k, v) = p.split_once('=')?;
                    Some((k.trim(), v.trim().trim_matches('"')))
                })
                .collect();
            if params.iter().any(|(k, v)| *k == "q" && v.parse::<f32>().map(|q| q <= 0.0).unwrap_or(false)) {
                return None;
            }
            Some(MediaRange { full, params })
        })
        .collect()
}

/// Chooses the output for a request's `Accept` header. `as` conversions are allowed only where
/// `allow_transform` (object and list reads, watches).
pub fn negotiate(accept: Option<&str>, allow_transform: bool) -> Result<Output, ApiError> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Ok(Output::Json);
    };
    for m in parse_accept(accept) {
        let json_like = matches!(m.full, "application/json" | "application/*" | "*/*" | "*");
        let param = |k: &str| m.params.iter().find(|(pk, _)| *pk == k).map(|(_, v)| *v);
        if let Some(as_) = param("as") {
            if !(json_like && allow_transform) || param("g") != Some("meta.k8s.io") {
                continue;
            }
            let version = match param("v") {
                Some("v1") => "v1",
                Some("v1beta1") => "v1beta1",
                _ => continue,
            };
            match as_ {
                "Table" => return Ok(Output::Table(version)),
                "PartialObjectMetadata" | "PartialObjectMetadataList" => return Ok(Output::PartialMetadata(version)),
                _ => continue,
            }
        }
        if json_like {
            return Ok(Output::Json);
        }
        if matches!(m.full, "application/yaml" | "application/x-yaml" | "text/yaml") {
            return Ok(Output::Yaml);
        }
    }
    Err(ApiError::not_acceptable(PRODUCED))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_get_gets_a_table() {
        let a = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        assert_eq!(negotiate(Some(a), true).unwrap(), Output::Table("v1"));
        assert_eq!(negotiate(Some(a), false).unwrap(), Output::Json);
    }

    #[test]
    fn protobuf_with_json_fallback() {
        let a = "application/vnd.kubernetes.protobuf,application/json";
        assert_eq!(negotiate(Some(a), true).unwrap(), Output::Json);
        let e = negotiate(Some("application/vnd.kubernetes.protobuf"), true).unwrap_err();
        assert_eq!(e.code, 406);
    }

    #[test]
    fn yaml_metadata_and_defaults() {
        assert_eq!(negotiate(Some("application/yaml"), true).unwrap(), Output::Yaml);
        assert_eq!(negotiate(None, true).unwrap(), Output::Json);
        assert_eq!(negotiate(Some("*/*"), true).unwrap(), Output::Json);
        assert_eq!(
            negotiate(Some("application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"), true).unwrap(),
            Output::PartialMetadata("v1")
        );
        assert_eq!(negotiate(Some("application/json;as=Foo;g=x;v=v1, application/json"), true).unwrap(), Output::Json);
    }
}
