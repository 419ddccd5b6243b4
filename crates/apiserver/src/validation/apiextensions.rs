//! apiextensions.k8s.io/v1 CustomResourceDefinitions.
//!
//! Covered: the CRD name (`<plural>.<group>`), group, scope, versions (names, exactly one
//! storage version, unique names, schema presence, deprecation warnings, selectable-field
//! presence), names (plural/singular/kind/listKind/shortNames/categories), subresources
//! (scale paths), printer columns, conversion (strategy, webhook client config, review
//! versions), preserveUnknownFields, the API-approval annotation for protected groups,
//! status.acceptedNames and status.storedVersions, and update immutability (group, plural;
//! scope and kind once Established).
//!
//! Not covered (a later job): the OpenAPI schema itself — structural-schema rules, defaults,
//! x-kubernetes-* extensions, CEL rules and costs, list/map type rules, selectable field path
//! resolution — beyond "schemas are required", root `nullable` and the root type with the
//! status subresource; CA bundle PEM checks.
//!
//! As upstream, errors for per-version settings that are identical across all versions are
//! reported at the top-level internal field (`spec.validation`, `spec.subresources`,
//! `spec.additionalPrinterColumns`, `spec.selectableFields`), because the v1→internal
//! conversion hoists them there; column paths use the internal name `JSONPath`, and
//! conversion webhook paths `spec.conversion.webhookClientConfig`.

use std::collections::BTreeSet;

use apimachinery::field::{ErrorList, Path};
use apimachinery::validation as v;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as ext;

use super::admissionregistration::{service_reference, webhook_url};
use super::common::*;

const PRINTER_COLUMN_TYPES: &[&str] = &["boolean", "date", "integer", "number", "string"];
const COLUMN_FORMATS: &[&str] = &["byte", "date", "date-time", "double", "float", "int32", "int64", "password"];
const ACCEPTED_CONVERSION_REVIEW_VERSIONS: &[&str] = &["v1", "v1beta1"];
const MAX_SELECTABLE_FIELDS: usize = 8;
const API_APPROVAL_ANNOTATION: &str = "api-approved.kubernetes.io";

fn dns1035_joined(value: &str, path: &Path) -> Errs {
    let errs = v::is_dns1035_label(value);
    if errs.is_empty() { Vec::new() } else { vec![invalid(path, value, errs.join(","))] }
}

/// Upstream's `ValidateCustomResourceDefinitionNames`.
fn names(n: &ext::CustomResourceDefinitionNames, path: &Path) -> Errs {
    let mut e = Vec::new();
    if !n.plural.is_empty() {
        e.extend(dns1035_joined(&n.plural, &path.child("plural")));
    }
    let singular = ostr(&n.singular);
    if !singular.is_empty() {
        e.extend(dns1035_joined(singular, &path.child("singular")));
    }
    let mixed = |value: &str, field: &str, e: &mut Errs| {
        let errs = v::is_dns1035_label(&value.to_lowercase());
        if !value.is_empty() && !errs.is_empty() {
            e.push(invalid(&path.child(field), value, format!("may have mixed case, but should otherwise match: {}", errs.join(","))));
        }
    };
    mixed(&n.kind, "kind", &mut e);
    let list_kind = ostr(&n.list_kind);
    mixed(list_kind, "listKind", &mut e);
    for (i, s) in sl(&n.short_names).iter().enumerate() {
        e.extend(dns1035_joined(s, &path.child("shortNames").index(i)));
    }
    if !n.kind.is_empty() && n.kind == list_kind {
        e.push(invalid(&path.child("listKind"), list_kind, "kind and listKind may not be the same"));
    }
    for (i, c) in sl(&n.categories).iter().enumerate() {
        e.extend(dns1035_joined(c, &path.child("categories").index(i)));
    }
    e
}

fn simple_json_path(s: &str, path: &Path) -> Errs {
    if s.is_empty() {
        vec![invalid(path, s, "must not be empty")]
    } else if !s.starts_with('.') {
        vec![invalid(path, s, "must be a simple json path starting with .")]
    } else {
        Vec::new()
    }
}

fn subresources(sr: &ext::CustomResourceSubresources, path: &Path) -> Errs {
    let mut e = Vec::new();
    let Some(scale) = &sr.scale else { return e };
    let sp = path.child("scale.specReplicasPath");
    if scale.spec_replicas_path.is_empty() {
        e.push(required(&sp, ""));
    } else {
        let errs = simple_json_path(&scale.spec_replicas_path, &sp);
        if !errs.is_empty() {
            e.extend(errs);
        } else if !scale.spec_replicas_path.starts_with(".spec.") {
            e.push(invalid(&sp, scale.spec_replicas_path.as_str(), "should be a json path under .spec"));
        }
    }
    let st = path.child("scale.statusReplicasPath");
    if scale.status_replicas_path.is_empty() {
        e.push(required(&st, ""));
    } else {
        let errs = simple_json_path(&scale.status_replicas_path, &st);
        if !errs.is_empty() {
            e.extend(errs);
        } else if !scale.status_replicas_path.starts_with(".status.") {
            e.push(invalid(&st, scale.status_replicas_path.as_str(), "should be a json path under .status"));
        }
    }
    let lp = path.child("scale.labelSelectorPath");
    let lsp = ostr(&scale.label_selector_path);
    if !lsp.is_empty() {
        let errs = simple_json_path(lsp, &lp);
        if !errs.is_empty() {
            e.extend(errs);
        } else if !lsp.starts_with(".spec.") && !lsp.starts_with(".status.") {
            e.push(invalid(&lp, lsp, "should be a json path under either .spec or .status"));
        }
    }
    e
}

fn column(c: &ext::CustomResourceColumnDefinition, path: &Path) -> Errs {
    let mut e = Vec::new();
    if c.name.is_empty() {
        e.push(required(&path.child("name"), ""));
    }
    let types_msg = format!("must be one of {}", PRINTER_COLUMN_TYPES.join(","));
    if c.type_.is_empty() {
        e.push(required(&path.child("type"), &types_msg));
    } else if !PRINTER_COLUMN_TYPES.contains(&c.type_.as_str()) {
        e.push(invalid(&path.child("type"), c.type_.as_str(), types_msg));
    }
    let format = ostr(&c.format);
    if !format.is_empty() && !COLUMN_FORMATS.contains(&format) {
        e.push(invalid(&path.child("format"), format, format!("must be one of {}", COLUMN_FORMATS.join(","))));
    }
    let jp = path.child("JSONPath");
    if c.json_path.is_empty() {
        e.push(required(&jp, ""));
    } else {
        e.extend(simple_json_path(&c.json_path, &jp));
    }
    e
}

fn deprecation_warning(ver: &ext::CustomResourceDefinitionVersion, path: &Path) -> Errs {
    let Some(w) = &ver.deprecation_warning else { return Vec::new() };
    let fp = path.child("deprecationWarning");
    if !b(ver.deprecated) {
        return vec![invalid(&fp, w.as_str(), "can only be set for deprecated versions")];
    }
    let mut msgs = Vec::new();
    if w.len() > 256 {
        msgs.push("must be <= 256 characters long".to_string());
    }
    if w.is_empty() {
        msgs.push("must not be an empty string".to_string());
    }
    for (i, ch) in w.char_indices() {
        if ch.is_control() {
            msgs.push(format!("must only contain printable UTF-8 characters; control character found at index {i}"));
            break;
        }
        // Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and ASCII space
        if ch != ' ' && ch.is_whitespace() {
            msgs.push(format!("must only contain printable UTF-8 characters; non-printable character found at index {i}"));
            break;
        }
    }
    msgs.into_iter().map(|m| invalid(&fp, w.as_str(), m)).collect()
}

fn schema_of(ver: &ext::CustomResourceDefinitionVersion) -> Option<&ext::JSONSchemaProps> {
    ver.schema.as_ref().and_then(|s| s.open_api_v3_schema.as_ref())
}

fn schema_root(schema: &ext::JSONSchemaProps, status_enabled: bool, path: &Path) -> Errs {
    let mut e = Vec::new();
    let sp = path.child("openAPIV3Schema");
    if status_enabled
        && let Some(t) = schema.type_.as_deref()
        && !t.is_empty()
        && t != "object"
    {
        e.push(invalid(&p(&format!("{}.type", sp.as_str())), t, "only \"object\" is allowed as the type at the root of the schema if the status subresource is enabled"));
    }
    if b(schema.nullable) {
        e.push(forbidden(&p(&format!("{}.nullable", sp.as_str())), "nullable cannot be true at the root"));
    }
    e
}

fn selectable_fields(fields: &[ext::SelectableField], path: &Path) -> Errs {
    let mut e = Vec::new();
    let mut unique = BTreeSet::new();
    for (i, f) in fields.iter().enumerate() {
        let jp = path.index(i).child("jsonPath");
        if f.json_path.is_empty() {
            e.push(required(&jp, ""));
            continue;
        }
        if f.json_path == ".metadata" || f.json_path.starts_with(".metadata.") {
            e.push(invalid(&jp, f.json_path.as_str(), "must not point to fields in metadata"));
        }
        if !unique.insert(f.json_path.as_str()) {
            e.push(duplicate(&jp, f.json_path.as_str()));
        }
    }
    if unique.len() > MAX_SELECTABLE_FIELDS {
        e.push(too_many(path, unique.len(), MAX_SELECTABLE_FIELDS));
    }
    e
}

/// Whether every version carries the same non-empty value (the v1→internal conversion then
/// moves it to the top level).
fn all_identical<T: k8s_openapi::serde::Serialize>(versions: &[ext::CustomResourceDefinitionVersion], get: impl Fn(&ext::CustomResourceDefinitionVersion) -> Option<&T>) -> bool {
    let Some(first) = versions.first().and_then(&get) else { return false };
    let first = sem_json(first);
    versions.iter().all(|v| get(v).is_some_and(|x| sem_json(x) == first))
}

#[derive(Clone, Copy)]
struct CrdOpts {
    require_recognized_conversion_review_version: bool,
    require_open_api_schema: bool,
}

fn conversion(c: &ext::CustomResourceConversion, require_recognized: bool, path: &Path) -> Errs {
    let mut e = Vec::new();
    let sp = path.child("strategy");
    match c.strategy.as_str() {
        "" => e.push(required(&sp, "")),
        "None" | "Webhook" => {}
        other => e.push(not_supported(&sp, other, &["None", "Webhook"])),
    }
    let cc = c.webhook.as_ref().and_then(|w| w.client_config.as_ref());
    let review_versions: &[String] = c.webhook.as_ref().map(|w| w.conversion_review_versions.as_slice()).unwrap_or(&[]);
    let wp = path.child("webhookClientConfig");
    if c.strategy == "Webhook" {
        match cc {
            None => e.push(required(&wp, "required when strategy is set to Webhook")),
            Some(cc) => match (&cc.url, &cc.service) {
                (Some(u), None) => e.extend(webhook_url(u, &wp.child("url"))),
                (None, Some(s)) => e.extend(service_reference(&s.name, &s.namespace, s.path.as_deref(), s.port, &wp.child("service"))),
                _ => e.push(required(&wp, "exactly one of url or service is required")),
            },
        }
        let rp = path.child("conversionReviewVersions");
        if review_versions.is_empty() {
            e.push(required(&rp, ""));
        } else {
            let mut seen = BTreeSet::new();
            let mut accepted = false;
            for (i, ver) in review_versions.iter().enumerate() {
                if !seen.insert(ver.as_str()) {
                    e.push(invalid(&rp.index(i), ver.as_str(), "duplicate version"));
                    continue;
                }
                e.extend(dns1035_label(ver, &rp.index(i)));
                if ACCEPTED_CONVERSION_REVIEW_VERSIONS.contains(&ver.as_str()) {
                    accepted = true;
                }
            }
            if require_recognized && !accepted {
                e.push(invalid(&rp, str_list(review_versions), format!("must include at least one of {}", ACCEPTED_CONVERSION_REVIEW_VERSIONS.join(", "))));
            }
        }
    } else {
        if cc.is_some() {
            e.push(forbidden(&wp, "should not be set when strategy is not set to Webhook"));
        }
        if !review_versions.is_empty() {
            e.push(forbidden(&path.child("conversionReviewVersions"), "should not be set when strategy is not set to Webhook"));
        }
    }
    e
}

fn crd_spec(spec: &ext::CustomResourceDefinitionSpec, opts: CrdOpts, path: &Path) -> Errs {
    let mut e = Vec::new();
    let gp = path.child("group");
    if spec.group.is_empty() {
        e.push(required(&gp, ""));
    } else {
        let errs = v::is_dns1123_subdomain(&spec.group);
        if !errs.is_empty() {
            e.push(invalid(&gp, spec.group.as_str(), errs.join(",")));
        } else if !spec.group.contains('.') {
            e.push(invalid(&gp, spec.group.as_str(), "should be a domain with at least one dot"));
        }
    }
    match spec.scope.as_str() {
        "" => e.push(required(&path.child("scope"), "")),
        "Cluster" | "Namespaced" => {}
        other => e.push(not_supported(&path.child("scope"), other, &["Cluster", "Namespaced"])),
    }
    let versions = &spec.versions;
    let preserve = b(spec.preserve_unknown_fields);
    let hoist_schema = all_identical(versions, |v| v.schema.as_ref());
    let hoist_sub = all_identical(versions, |v| v.subresources.as_ref());
    let hoist_cols = all_identical(versions, |v| v.additional_printer_columns.as_ref().filter(|c| !c.is_empty()));
    let hoist_fields = all_identical(versions, |v| v.selectable_fields.as_ref().filter(|c| !c.is_empty()));
    let top_schema = if hoist_schema { versions.first().and_then(schema_of) } else { None };
    let vp = path.child("versions");
    if top_schema.is_none() {
        for (i, ver) in versions.iter().enumerate() {
            if schema_of(ver).is_none() {
                let sp = vp.index(i).child("schema").child("openAPIV3Schema");
                if opts.require_open_api_schema {
                    e.push(required(&sp, "schemas are required"));
                } else if !preserve && ver.served {
                    e.push(required(&sp, "because otherwise all fields are pruned"));
                }
            }
        }
    }
    let status_of = |ver: &ext::CustomResourceDefinitionVersion| ver.subresources.as_ref().is_some_and(|s| s.status.is_some());
    let mut storage = 0;
    let mut seen = BTreeSet::new();
    let mut unique = true;
    for (i, ver) in versions.iter().enumerate() {
        let ip = vp.index(i);
        if ver.storage {
            storage += 1;
        }
        if !seen.insert(ver.name.as_str()) {
            unique = false;
        }
        e.extend(dns1035_joined(&ver.name, &ip.child("name")));
        e.extend(deprecation_warning(ver, &ip));
        if !hoist_schema && let Some(s) = schema_of(ver) {
            e.extend(schema_root(s, status_of(ver), &ip.child("schema")));
        }
        if !hoist_sub && let Some(sr) = &ver.subresources {
            e.extend(subresources(sr, &ip.child("subresources")));
        }
        if !hoist_cols {
            for (j, c) in sl(&ver.additional_printer_columns).iter().enumerate() {
                e.extend(column(c, &ip.child("additionalPrinterColumns").index(j)));
            }
        }
        if !hoist_fields {
            let fields = sl(&ver.selectable_fields);
            if !fields.is_empty() {
                if schema_of(ver).is_none() && !hoist_schema {
                    e.push(invalid(&ip.child("selectableFields"), "", "selectableFields may only be set when version.schema.openAPIV3Schema is not included"));
                } else {
                    e.extend(selectable_fields(fields, &ip.child("selectableFields")));
                }
            }
        }
    }
    if !unique {
        e.push(invalid(&vp, json(versions), "must contain unique version names"));
    }
    if storage != 1 {
        e.push(invalid(&vp, json(versions), "must have exactly one version marked as storage version"));
    }
    let np = path.child("names");
    if spec.names.plural.is_empty() {
        e.push(required(&np.child("plural"), ""));
    }
    if ostr(&spec.names.singular).is_empty() {
        e.push(required(&np.child("singular"), ""));
    }
    if spec.names.kind.is_empty() {
        e.push(required(&np.child("kind"), ""));
    }
    if ostr(&spec.names.list_kind).is_empty() {
        e.push(required(&np.child("listKind"), ""));
    }
    e.extend(names(&spec.names, &np));
    if let Some(s) = top_schema {
        let any_status = versions.iter().any(status_of);
        e.extend(schema_root(s, any_status, &path.child("validation")));
    }
    if hoist_sub && let Some(sr) = versions.first().and_then(|v| v.subresources.as_ref()) {
        e.extend(subresources(sr, &path.child("subresources")));
    }
    if hoist_cols {
        for (j, c) in sl(&versions[0].additional_printer_columns).iter().enumerate() {
            e.extend(column(c, &path.child("additionalPrinterColumns").index(j)));
        }
    }
    if hoist_fields {
        let fields = sl(&versions[0].selectable_fields);
        if top_schema.is_none() {
            e.push(invalid(&path.child("selectableFields"), "", "selectableFields may only be set when validations.schema is included"));
        } else {
            e.extend(selectable_fields(fields, &path.child("selectableFields")));
        }
    }
    if let Some(c) = &spec.conversion {
        if c.strategy != "None" && preserve {
            e.push(invalid(&path.child("conversion").child("strategy"), c.strategy.as_str(), "must be None if spec.preserveUnknownFields is true"));
        }
        e.extend(conversion(c, opts.require_recognized_conversion_review_version, &path.child("conversion")));
    }
    e
}

/// `status.storedVersions` as upstream's strategy computes it before validation: on create only
/// the storage version; on update the old list plus the new storage version.
fn stored_versions(spec: &ext::CustomResourceDefinitionSpec, old: Option<&ext::CustomResourceDefinition>) -> Vec<String> {
    let mut out: Vec<String> = old.and_then(|o| o.status.as_ref()).and_then(|s| s.stored_versions.clone()).unwrap_or_default();
    if let Some(v) = spec.versions.iter().find(|v| v.storage)
        && !out.contains(&v.name)
    {
        out.push(v.name.clone());
    }
    out
}

fn stored_versions_errs(stored: &[String], versions: &[ext::CustomResourceDefinitionVersion]) -> Errs {
    let path = p("status").child("storedVersions");
    if stored.is_empty() {
        return vec![invalid(&path, str_list(stored), "must have at least one stored version")];
    }
    let mut e = Vec::new();
    let mut remaining: Vec<(usize, &String)> = stored.iter().enumerate().collect();
    for ver in versions {
        let present = remaining.iter().any(|(_, s)| **s == ver.name);
        if ver.storage && !stored.contains(&ver.name) {
            e.push(invalid(&path, str_list(stored), format!("must have the storage version {}", ver.name)));
        }
        if present {
            remaining.retain(|(_, s)| **s != ver.name);
        }
    }
    // a Go map keeps the last index of duplicates; report each leftover name once
    let mut reported = BTreeSet::new();
    for (i, s) in remaining.iter().rev() {
        if reported.insert(s.as_str()) {
            e.push(invalid(
                &path.index(*i),
                s.as_str(),
                format!("missing from spec.versions; {s} was previously a storage version, and must remain in spec.versions until a storage migration ensures no data remains persisted in {s} and removes {s} from status.storedVersions"),
            ));
        }
    }
    e
}

fn accepted_names(crd: &ext::CustomResourceDefinition) -> Errs {
    match crd.status.as_ref().and_then(|s| s.accepted_names.as_ref()) {
        Some(n) => names(n, &p("status").child("acceptedNames")),
        None => Vec::new(),
    }
}

fn is_protected_group(group: &str) -> bool {
    group == "k8s.io" || group == "kubernetes.io" || group.ends_with(".k8s.io") || group.ends_with(".kubernetes.io")
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Approval {
    Missing,
    Bypassed,
    Invalid,
    Approved,
}

fn approval_state(crd: &ext::CustomResourceDefinition) -> (Approval, String) {
    let value = crd.metadata.annotations.as_ref().and_then(|a| a.get(API_APPROVAL_ANNOTATION)).cloned().unwrap_or_default();
    let q = v::go_quote(API_APPROVAL_ANNOTATION);
    if value.is_empty() {
        return (Approval::Missing, format!("protected groups must have approval annotation {q}, see https://github.com/kubernetes/enhancements/pull/1111"));
    }
    if value.starts_with("unapproved") {
        return (Approval::Bypassed, format!("not approved: {}", v::go_quote(&value)));
    }
    // url.ParseRequestURI: an absolute URI (scheme:...) or an absolute path
    let has_scheme = value.split_once(':').is_some_and(|(s, _)| {
        !s.is_empty() && s.as_bytes()[0].is_ascii_alphabetic() && s.bytes().all(|c| c.is_ascii_alphanumeric() || b"+-.".contains(&c))
    });
    if !(has_scheme || value.starts_with('/')) || value.contains(' ') {
        return (
            Approval::Invalid,
            format!("protected groups must have approval annotation {q} with either a URL or a reason starting with \"unapproved\", see https://github.com/kubernetes/enhancements/pull/1111"),
        );
    }
    (Approval::Approved, String::new())
}

fn api_approval(new: &ext::CustomResourceDefinition, old: Option<&ext::CustomResourceDefinition>) -> Errs {
    if !is_protected_group(&new.spec.group) {
        return Vec::new();
    }
    let (state, reason) = approval_state(new);
    if let Some(o) = old
        && approval_state(o).0 == state
    {
        return Vec::new();
    }
    let path = p("metadata").child("annotations").key(API_APPROVAL_ANNOTATION);
    let value = new.metadata.annotations.as_ref().and_then(|a| a.get(API_APPROVAL_ANNOTATION)).cloned().unwrap_or_default();
    match state {
        Approval::Missing => vec![required(&path, &reason)],
        Approval::Invalid => vec![invalid(&path, value, reason)],
        Approval::Approved | Approval::Bypassed => Vec::new(),
    }
}

fn preserve_unknown_fields(new: &ext::CustomResourceDefinition, old: Option<&ext::CustomResourceDefinition>) -> Errs {
    if old.is_some_and(|o| b(o.spec.preserve_unknown_fields)) {
        return Vec::new();
    }
    if b(new.spec.preserve_unknown_fields) {
        return vec![invalid(
            &p("spec").child("preserveUnknownFields"),
            true,
            "cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead",
        )];
    }
    Vec::new()
}

fn name_check(crd: &ext::CustomResourceDefinition) -> Errs {
    let name = crd.metadata.name.as_deref().unwrap_or("");
    let want = format!("{}.{}", crd.spec.names.plural, crd.spec.group);
    if name != want { vec![invalid(&p("metadata").child("name"), name, "must be spec.names.plural+\".\"+spec.group")] } else { Vec::new() }
}

/// CustomResourceDefinition create (see the module docs for what is covered). The incoming
/// status is ignored: as upstream's strategy does, storedVersions is taken to be the storage
/// version.
pub fn custom_resource_definition(crd: &ext::CustomResourceDefinition) -> ErrorList {
    let mut e = name_check(crd);
    let opts = CrdOpts { require_recognized_conversion_review_version: true, require_open_api_schema: true };
    e.extend(crd_spec(&crd.spec, opts, &p("spec")));
    e.extend(stored_versions_errs(&stored_versions(&crd.spec, None), &crd.spec.versions));
    e.extend(api_approval(crd, None));
    e.extend(preserve_unknown_fields(crd, None));
    done(e)
}

fn is_established(crd: &ext::CustomResourceDefinition) -> bool {
    crd.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Established" && c.status == "True"))
}

/// CustomResourceDefinition update: the create rules (relaxed as upstream where the old object
/// already lacked schemas or recognized conversion review versions) plus immutability of
/// group and names.plural, and of scope and names.kind once the CRD is Established. The status
/// is taken from the old object (plus the new storage version), as upstream's strategy does.
pub fn custom_resource_definition_update(new: &ext::CustomResourceDefinition, old: &ext::CustomResourceDefinition) -> ErrorList {
    let old_review: &[String] = old
        .spec
        .conversion
        .as_ref()
        .and_then(|c| c.webhook.as_ref())
        .map(|w| w.conversion_review_versions.as_slice())
        .unwrap_or(&[]);
    let old_all_schemas = old.spec.versions.iter().all(|v| schema_of(v).is_some());
    let opts = CrdOpts {
        require_recognized_conversion_review_version: old_review.is_empty()
            || old_review.iter().any(|v| ACCEPTED_CONVERSION_REVIEW_VERSIONS.contains(&v.as_str())),
        require_open_api_schema: old_all_schemas,
    };
    let sp = p("spec");
    let mut e = crd_spec(&new.spec, opts, &sp);
    if is_established(old) {
        e.extend(immutable(&new.spec.scope, &old.spec.scope, &sp.child("scope")));
        e.extend(immutable(&new.spec.names.kind, &old.spec.names.kind, &sp.child("names").child("kind")));
    }
    e.extend(immutable(&new.spec.group, &old.spec.group, &sp.child("group")));
    e.extend(immutable(&new.spec.names.plural, &old.spec.names.plural, &sp.child("names").child("plural")));
    let status_src = ext::CustomResourceDefinition { status: old.status.clone(), ..new.clone() };
    e.extend(accepted_names(&status_src));
    e.extend(stored_versions_errs(&stored_versions(&new.spec, Some(old)), &new.spec.versions));
    e.extend(api_approval(new, Some(old)));
    e.extend(preserve_unknown_fields(new, Some(old)));
    done(e)
}

/// CustomResourceDefinition status update: status.acceptedNames.
pub fn custom_resource_definition_status_update(new: &ext::CustomResourceDefinition, _old: &ext::CustomResourceDefinition) -> ErrorList {
    done(accepted_names(new))
}
