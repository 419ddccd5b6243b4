//! The checks a CRD version's `openAPIV3Schema` must pass when the CRD is created (upstream
//! `validateCustomResourceDefinitionValidation`): the root restrictions, structural-schema
//! invariants and completeness (`schema/validation.go`, `schema/complete.go`), the validity
//! of defaults (`defaulting/validation.go`), the per-node OpenAPI restrictions
//! (`ValidateCustomResourceDefinitionOpenAPISchema`) and the static checks of
//! `x-kubernetes-validations` rules.

use apimachinery::field::{ErrorKind, FieldError};
use serde_json::Value;

use super::defaults::{Step, surround};
use super::embedded::validate_embedded;
use super::gofmt::{field_value, go_quote};
use super::openapi::{Mode, compile_pattern, validate_value};
use super::prune::{coerce, prune_structural};
use super::schema::{AdditionalProperties, Schema};

/// Options of the CRD-level checks.
#[derive(Clone, Copy, Debug, Default)]
pub struct CheckOptions {
    /// Whether the version enables the status subresource (restricts the root schema).
    pub status_subresource: bool,
}

fn child(p: &str, k: &str) -> String {
    if p.is_empty() {
        k.to_string()
    } else {
        format!("{p}.{k}")
    }
}
fn key(p: &str, k: &str) -> String {
    format!("{p}[{k}]")
}
fn index(p: &str, i: usize) -> String {
    format!("{p}[{i}]")
}

fn not_supported(path: String, value: &str, supported: &[&str]) -> FieldError {
    let detail = format!(
        "supported values: {}",
        supported
            .iter()
            .map(|s| go_quote(s))
            .collect::<Vec<_>>()
            .join(", ")
    );
    FieldError {
        kind: ErrorKind::NotSupported,
        path,
        value: Some(Value::String(value.into())),
        detail,
    }
}

/// Runs all checks on the schema JSON `v` sitting at field path `base` (for a CRD:
/// `spec.versions[i].schema.openAPIV3Schema`), in upstream's order.
pub fn check_schema(v: &Value, base: &str, opts: CheckOptions) -> Vec<FieldError> {
    let s = Schema::from_value(v);
    let mut errs = Vec::new();
    if opts.status_subresource {
        check_status_root(v, &s, base, &mut errs);
    }
    if s.nullable {
        errs.push(FieldError::forbidden(
            child(base, "nullable"),
            "nullable cannot be true at the root",
        ));
    }
    let mut init_errs = Vec::new();
    let mut structural_ok = false;
    if let Some(e) = new_structural_error(&s) {
        init_errs.push(FieldError::invalid(base, "", e));
    } else {
        let se = validate_structural(&s, base);
        if !se.is_empty() {
            errs.extend(se);
        } else {
            let de = validate_defaults(&s, base);
            if !de.is_empty() {
                errs.extend(de);
            } else {
                structural_ok = true;
            }
        }
    }
    let mut lists = SchemaErrors::default();
    let ssv = Ssv {
        allow_defaults: true,
        disallow_reason: String::new(),
        inside_meta: false,
        uncorrelatable: None,
    };
    openapi_schema(&s, base, &ssv, true, structural_ok, &mut lists);
    errs.extend(lists.schema);
    errs.extend(lists.cel);
    if errs.is_empty() {
        errs.extend(init_errs);
    }
    errs
}

// ---------------------------------------------------------------------------------------------
// root with status subresource
// ---------------------------------------------------------------------------------------------

/// JSONSchemaProps fields in Go declaration order, with their JSON names.
const GO_FIELDS: &[(&str, &str)] = &[
    ("ID", "id"),
    ("Schema", "$schema"),
    ("Ref", "$ref"),
    ("Description", "description"),
    ("Type", "type"),
    ("Format", "format"),
    ("Title", "title"),
    ("Default", "default"),
    ("Maximum", "maximum"),
    ("ExclusiveMaximum", "exclusiveMaximum"),
    ("Minimum", "minimum"),
    ("ExclusiveMinimum", "exclusiveMinimum"),
    ("MaxLength", "maxLength"),
    ("MinLength", "minLength"),
    ("Pattern", "pattern"),
    ("MaxItems", "maxItems"),
    ("MinItems", "minItems"),
    ("UniqueItems", "uniqueItems"),
    ("MultipleOf", "multipleOf"),
    ("Enum", "enum"),
    ("MaxProperties", "maxProperties"),
    ("MinProperties", "minProperties"),
    ("Required", "required"),
    ("Items", "items"),
    ("AllOf", "allOf"),
    ("OneOf", "oneOf"),
    ("AnyOf", "anyOf"),
    ("Not", "not"),
    ("Properties", "properties"),
    ("AdditionalProperties", "additionalProperties"),
    ("PatternProperties", "patternProperties"),
    ("Dependencies", "dependencies"),
    ("AdditionalItems", "additionalItems"),
    ("Definitions", "definitions"),
    ("ExternalDocs", "externalDocs"),
    ("Example", "example"),
    ("Nullable", "nullable"),
    (
        "XPreserveUnknownFields",
        "x-kubernetes-preserve-unknown-fields",
    ),
    ("XEmbeddedResource", "x-kubernetes-embedded-resource"),
    ("XIntOrString", "x-kubernetes-int-or-string"),
    ("XListMapKeys", "x-kubernetes-list-map-keys"),
    ("XListType", "x-kubernetes-list-type"),
    ("XMapType", "x-kubernetes-map-type"),
    ("XValidations", "x-kubernetes-validations"),
];

const ALLOWED_AT_ROOT: &[&str] = &[
    "Description",
    "Type",
    "Format",
    "Title",
    "Maximum",
    "ExclusiveMaximum",
    "Minimum",
    "ExclusiveMinimum",
    "MaxLength",
    "MinLength",
    "Pattern",
    "MaxItems",
    "MinItems",
    "UniqueItems",
    "MultipleOf",
    "Required",
    "Items",
    "Properties",
    "ExternalDocs",
    "Example",
    "XPreserveUnknownFields",
    "XValidations",
];

fn is_zero(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

fn check_status_root(v: &Value, s: &Schema, base: &str, errs: &mut Vec<FieldError>) {
    let Value::Object(m) = v else { return };
    for (go_name, json_name) in GO_FIELDS {
        let Some(x) = m.get(*json_name) else { continue };
        if is_zero(x) {
            continue;
        }
        if *go_name == "Type" {
            if s.type_ != "object" {
                errs.push(FieldError::invalid(
                    child(base, "type"),
                    s.type_.as_str(),
                    r#"only "object" is allowed as the type at the root of the schema if the status subresource is enabled"#,
                ));
                break;
            }
            continue;
        }
        if !ALLOWED_AT_ROOT.contains(go_name) {
            errs.push(FieldError::invalid(
                base,
                v.clone(),
                format!("only [{}] fields are allowed at the root of the schema if the status subresource is enabled", ALLOWED_AT_ROOT.join(" ")),
            ));
            break;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// NewStructural
// ---------------------------------------------------------------------------------------------

/// The first error upstream's `NewStructural` (conversion to a structural schema) reports.
fn new_structural_error(s: &Schema) -> Option<String> {
    for u in [
        "id",
        "$schema",
        "$ref",
        "patternProperties",
        "dependencies",
        "additionalItems",
        "definitions",
    ] {
        if s.unsupported.contains(&u) {
            let name = if u == "$schema" { "schema" } else { u };
            return Some(format!("OpenAPIV3Schema '{name}' is not supported"));
        }
    }
    // value validations: not, allOf, anyOf, oneOf
    if let Some(n) = &s.not
        && let Some(e) = new_structural_error(n)
    {
        return Some(e);
    }
    for x in s.all_of.iter().chain(&s.any_of).chain(&s.one_of) {
        if let Some(e) = new_structural_error(x) {
            return Some(e);
        }
    }
    if s.x_preserve_unknown_fields == Some(false) {
        return Some(
            "internal error: 'x-kubernetes-preserve-unknown-fields' must be true or undefined"
                .into(),
        );
    }
    if s.items_array.is_some() {
        return Some("OpenAPIV3Schema 'items' must be a schema, but is an array".into());
    }
    if let Some(i) = &s.items
        && let Some(e) = new_structural_error(i)
    {
        return Some(e);
    }
    for (_, p) in s.props() {
        if let Some(e) = new_structural_error(p) {
            return Some(e);
        }
    }
    if let Some(ap) = s.additional_schema()
        && let Some(e) = new_structural_error(ap)
    {
        return Some(e);
    }
    None
}

// ---------------------------------------------------------------------------------------------
// ValidateStructural
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Root,
    Item,
    Field,
}

/// Upstream `ValidateStructural`: invariants and completeness, sorted by message.
pub(crate) fn validate_structural(s: &Schema, base: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    invariants(s, Level::Root, base, &mut errs);
    completeness(s, base, &mut errs);
    errs.sort_by_key(|e| e.to_string());
    errs
}

/// Whether `s` is exactly `{type: <t>}` in a nested value validation.
fn is_bare_type(s: &Schema, t: &str) -> bool {
    *s == Schema {
        type_: t.to_string(),
        ..Schema::default()
    }
}

fn is_int_or_string_any_of(s: &Schema) -> bool {
    s.any_of.len() == 2
        && is_bare_type(&s.any_of[0], "integer")
        && is_bare_type(&s.any_of[1], "string")
}

fn is_int_or_string_all_of(s: &Schema) -> bool {
    !s.all_of.is_empty() && {
        let a = &s.all_of[0];
        a.any_of.len() == 2
            && is_bare_type(&a.any_of[0], "integer")
            && is_bare_type(&a.any_of[1], "string")
    }
}

fn invariants(s: &Schema, lvl: Level, p: &str, errs: &mut Vec<FieldError>) {
    if s.type_ == "array" && s.items.is_none() {
        errs.push(FieldError::required(child(p, "items"), "must be specified"));
    }
    if let Some(i) = &s.items {
        invariants(i, Level::Item, &child(p, "items"), errs);
    }
    for (k, v) in s.props() {
        invariants(v, Level::Field, &key(&child(p, "properties"), k), errs);
    }
    if let Some(ap) = &s.additional_properties {
        if lvl == Level::Root {
            errs.push(FieldError::forbidden(
                child(p, "additionalProperties"),
                "must not be used at the root",
            ));
        }
        if let AdditionalProperties::Schema(aps) = ap {
            invariants(aps, Level::Field, &child(p, "additionalProperties"), errs);
        }
    }
    // extensions
    if s.x_int_or_string && s.preserve_unknown_fields() {
        errs.push(FieldError::invalid(
            child(p, "x-kubernetes-preserve-unknown-fields"),
            true,
            "must be false if x-kubernetes-int-or-string is true",
        ));
    }
    if s.x_int_or_string && s.x_embedded_resource {
        errs.push(FieldError::invalid(
            child(p, "x-kubernetes-embedded-resource"),
            true,
            "must be false if x-kubernetes-int-or-string is true",
        ));
    }
    let skip_any_of = is_int_or_string_any_of(s);
    let skip_first_all_of_any_of = is_int_or_string_all_of(s);
    value_validation(s, skip_any_of, skip_first_all_of_any_of, p, errs);

    let check_metadata = lvl == Level::Root || s.x_embedded_resource;
    if s.x_embedded_resource && s.type_ != "object" {
        if s.type_.is_empty() {
            errs.push(FieldError::required(
                child(p, "type"),
                "must be object if x-kubernetes-embedded-resource is true",
            ));
        } else {
            errs.push(FieldError::invalid(
                child(p, "type"),
                s.type_.as_str(),
                "must be object if x-kubernetes-embedded-resource is true",
            ));
        }
    } else if s.type_.is_empty() && !s.x_int_or_string && !s.preserve_unknown_fields() {
        let detail = match lvl {
            Level::Root => "must not be empty at the root",
            Level::Item => "must not be empty for specified array items",
            Level::Field => "must not be empty for specified object fields",
        };
        errs.push(FieldError::required(child(p, "type"), detail));
    }
    if s.x_embedded_resource && s.additional_properties.is_some() {
        errs.push(FieldError::forbidden(
            child(p, "additionalProperties"),
            "must not be used if x-kubernetes-embedded-resource is set",
        ));
    }
    if lvl == Level::Root && !s.type_.is_empty() && s.type_ != "object" {
        errs.push(FieldError::invalid(
            child(p, "type"),
            s.type_.as_str(),
            "must be object at the root",
        ));
    }
    if check_metadata {
        for k in ["kind", "apiVersion"] {
            if let Some(ks) = s.property(k)
                && ks.type_ != "string"
            {
                errs.push(FieldError::invalid(
                    child(&key(&child(p, "properties"), k), "type"),
                    ks.type_.as_str(),
                    "must be string",
                ));
            }
        }
    }
    if let Some(meta) = s.property("metadata") {
        metadata_invariants(
            meta,
            check_metadata,
            lvl,
            &key(&child(p, "properties"), "metadata"),
            errs,
        );
    }
    if s.x_embedded_resource && !s.preserve_unknown_fields() && !s.has_properties() {
        errs.push(FieldError::required(
            child(p, "properties"),
            "must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields",
        ));
    }
}

fn metadata_invariants(
    s: &Schema,
    check_metadata: bool,
    lvl: Level,
    p: &str,
    errs: &mut Vec<FieldError>,
) {
    if check_metadata && s.type_ != "object" {
        errs.push(FieldError::invalid(
            child(p, "type"),
            s.type_.as_str(),
            "must be object",
        ));
    }
    if lvl == Level::Root {
        let mut m = s.clone();
        let props: Vec<&String> = m.props().map(|(k, _)| k).collect();
        let has_name = props.iter().any(|k| *k == "name");
        let has_gen = props.iter().any(|k| *k == "generateName");
        let n = props.len();
        if (has_name && has_gen && n == 2) || ((has_name || has_gen) && n == 1) || n == 0 {
            m.properties = None;
        }
        m.type_.clear();
        m.default = None;
        if m != Schema::default() {
            errs.push(FieldError::forbidden(p, "must not specify anything other than name and generateName, but metadata is implicitly specified"));
        }
    }
}

fn value_validation(
    s: &Schema,
    skip_any_of: bool,
    skip_first_all_of_any_of: bool,
    p: &str,
    errs: &mut Vec<FieldError>,
) {
    if !skip_any_of {
        for (i, x) in s.any_of.iter().enumerate() {
            nested(x, false, &index(&child(p, "anyOf"), i), errs);
        }
    }
    for (i, x) in s.all_of.iter().enumerate() {
        nested(
            x,
            skip_first_all_of_any_of && i == 0,
            &index(&child(p, "allOf"), i),
            errs,
        );
    }
    for (i, x) in s.one_of.iter().enumerate() {
        nested(x, false, &index(&child(p, "oneOf"), i), errs);
    }
    if let Some(n) = &s.not {
        nested(n, false, &child(p, "not"), errs);
    }
    if !s.pattern.is_empty()
        && let Err(e) = compile_pattern(&s.pattern)
    {
        errs.push(FieldError::invalid(
            child(p, "pattern"),
            s.pattern.as_str(),
            format!("must be a valid regular expression, but isn't: {e}"),
        ));
    }
}

fn nested(v: &Schema, skip_any_of: bool, p: &str, errs: &mut Vec<FieldError>) {
    value_validation(v, skip_any_of, false, p, errs);
    if let Some(i) = &v.items {
        nested(i, false, &child(p, "items"), errs);
    }
    for (k, f) in v.props() {
        nested(f, false, &key(&child(p, "properties"), k), errs);
    }
    if !v.type_.is_empty() {
        errs.push(FieldError::forbidden(
            child(p, "type"),
            "must be empty to be structural",
        ));
    }
    let ap_present = match &v.additional_properties {
        None => false,
        Some(AdditionalProperties::Bool(b)) => *b,
        Some(AdditionalProperties::Schema(_)) => true,
    };
    if ap_present {
        errs.push(FieldError::forbidden(
            child(p, "additionalProperties"),
            "must be undefined to be structural",
        ));
    }
    if v.default.is_some() {
        errs.push(FieldError::forbidden(
            child(p, "default"),
            "must be undefined to be structural",
        ));
    }
    if !v.title.is_empty() {
        errs.push(FieldError::forbidden(
            child(p, "title"),
            "must be empty to be structural",
        ));
    }
    if !v.description.is_empty() {
        errs.push(FieldError::forbidden(
            child(p, "description"),
            "must be empty to be structural",
        ));
    }
    if v.nullable {
        errs.push(FieldError::forbidden(
            child(p, "nullable"),
            "must be false to be structural",
        ));
    }
    if v.preserve_unknown_fields() {
        errs.push(FieldError::forbidden(
            child(p, "x-kubernetes-preserve-unknown-fields"),
            "must be false to be structural",
        ));
    }
    if v.x_embedded_resource {
        errs.push(FieldError::forbidden(
            child(p, "x-kubernetes-embedded-resource"),
            "must be false to be structural",
        ));
    }
    if v.x_int_or_string {
        errs.push(FieldError::forbidden(
            child(p, "x-kubernetes-int-or-string"),
            "must be false to be structural",
        ));
    }
    if !v.x_list_map_keys.is_empty() {
        errs.push(FieldError::forbidden(
            child(p, "x-kubernetes-list-map-keys"),
            "must be empty to be structural",
        ));
    }
    if v.x_list_type.is_some() {
        errs.push(FieldError::forbidden(
            child(p, "x-kubernetes-list-type"),
            "must be undefined to be structural",
        ));
    }
    if v.x_map_type.is_some() {
        errs.push(FieldError::forbidden(
            child(p, "x-kubernetes-map-type"),
            "must be undefined to be structural",
        ));
    }
    if !v.x_validations.is_empty() {
        errs.push(FieldError::forbidden(
            child(p, "x-kubernetes-validations"),
            "must be empty to be structural",
        ));
    }
    if v.property("metadata").is_some() {
        errs.push(FieldError::forbidden(
            key(&child(p, "properties"), "metadata"),
            "must not be specified in a nested context",
        ));
    }
}

/// Upstream `validateStructuralCompleteness`: what the root's value validations
/// (`allOf`/`anyOf`/`oneOf`/`not`) name must exist structurally.
fn completeness(s: &Schema, p: &str, errs: &mut Vec<FieldError>) {
    vv_completeness(s, Some(s), p, p, errs);
}

fn vv_completeness(v: &Schema, s: Option<&Schema>, sp: &str, vp: &str, errs: &mut Vec<FieldError>) {
    let Some(s) = s else {
        errs.push(FieldError::required(
            sp,
            format!("because it is defined in {vp}"),
        ));
        return;
    };
    if let Some(n) = &v.not {
        nested_completeness(n, Some(s), sp, &child(vp, "not"), errs);
    }
    for (i, x) in v.all_of.iter().enumerate() {
        nested_completeness(x, Some(s), sp, &index(&child(vp, "allOf"), i), errs);
    }
    for (i, x) in v.any_of.iter().enumerate() {
        nested_completeness(x, Some(s), sp, &index(&child(vp, "anyOf"), i), errs);
    }
    for (i, x) in v.one_of.iter().enumerate() {
        nested_completeness(x, Some(s), sp, &index(&child(vp, "oneOf"), i), errs);
    }
}

fn nested_completeness(
    v: &Schema,
    s: Option<&Schema>,
    sp: &str,
    vp: &str,
    errs: &mut Vec<FieldError>,
) {
    let Some(s) = s else {
        errs.push(FieldError::required(
            sp,
            format!("because it is defined in {vp}"),
        ));
        return;
    };
    vv_completeness(v, Some(s), sp, vp, errs);
    if let Some(vi) = &v.items {
        nested_completeness(
            vi,
            s.items.as_deref(),
            &child(sp, "items"),
            &child(vp, "items"),
            errs,
        );
    }
    for (k, vf) in v.props() {
        let sf = if s.has_properties() {
            s.property(k)
        } else {
            None
        };
        match sf {
            None => errs.push(FieldError::required(
                key(&child(sp, "properties"), k),
                format!(
                    "because it is defined in {}",
                    key(&child(vp, "properties"), k)
                ),
            )),
            Some(sf) => nested_completeness(
                vf,
                Some(sf),
                &key(&child(sp, "properties"), k),
                &key(&child(vp, "properties"), k),
                errs,
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// ValidateDefaults
// ---------------------------------------------------------------------------------------------

const VALIDATION_TYPE_META: (&str, &str) = ("validation/v1", "Validation");

/// Upstream `ValidateDefaults` with `isResourceRoot` and `requirePrunedDefaults`.
pub(crate) fn validate_defaults(s: &Schema, base: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    defaults_node(s, true, base, s, &[], false, &mut errs);
    errs
}

fn aggregate(errs: &[FieldError]) -> String {
    let mut msgs: Vec<String> = Vec::new();
    for e in errs {
        let m = e.to_string();
        if !msgs.contains(&m) {
            msgs.push(m);
        }
    }
    if msgs.len() == 1 {
        msgs.remove(0)
    } else {
        format!("[{}]", msgs.join(", "))
    }
}

#[allow(clippy::too_many_arguments)]
fn defaults_node(
    s: &Schema,
    embedded: bool,
    pth: &str,
    root: &Schema,
    steps: &[Step],
    inside_meta: bool,
    errs: &mut Vec<FieldError>,
) {
    let (root, steps, inside_meta): (&Schema, &[Step], bool) = if embedded {
        (s, &[], false)
    } else {
        (root, steps, inside_meta)
    };
    let is_resource_root = std::ptr::eq(s, root);
    if let Some(d) = &s.default {
        let dpath = child(pth, "default");
        if inside_meta {
            match surround(d.clone(), steps, Some(VALIDATION_TYPE_META)) {
                Err(_) => {}
                Ok(obj) => {
                    let mut obj = Value::Object(obj);
                    let (cerr, _) = coerce(&mut obj, root, true, false, "");
                    if let Some((ep, ev, detail)) = cerr {
                        let inner = FieldError::invalid(ep, field_value(&ev), detail);
                        errs.push(FieldError::invalid(
                            dpath,
                            field_value(d),
                            format!("must result in valid metadata: {inner}"),
                        ));
                    } else {
                        let me = validate_embedded("", &obj, root, true);
                        if !me.is_empty() {
                            errs.push(FieldError::invalid(
                                dpath,
                                field_value(d),
                                format!("must result in valid metadata: {}", aggregate(&me)),
                            ));
                        } else {
                            let (oe, _) = validate_value(s, d, None, Some(&dpath), Mode::Default);
                            if !oe.is_empty() {
                                errs.extend(oe);
                            } else {
                                errs.extend(default_cel(s, d, &dpath, is_resource_root));
                            }
                        }
                    }
                }
            }
        } else {
            let mut pruned = d.clone();
            prune_structural(&mut pruned, s, embedded, false);
            if &pruned != d {
                errs.push(FieldError::invalid(
                    dpath.clone(),
                    field_value(d),
                    "must not have unknown fields",
                ));
            }
            let mut coerced = d.clone();
            let (cerr, _) = coerce(&mut coerced, s, embedded, false, &dpath);
            if let Some((ep, ev, detail)) = cerr {
                errs.push(FieldError::invalid(ep, field_value(&ev), detail));
            } else {
                let me = validate_embedded(&dpath, &coerced, s, embedded);
                if !me.is_empty() {
                    errs.extend(me);
                } else {
                    let (oe, _) = validate_value(s, &coerced, None, Some(&dpath), Mode::Default);
                    if !oe.is_empty() {
                        errs.extend(oe);
                    } else {
                        errs.extend(default_cel(s, &coerced, &dpath, is_resource_root));
                    }
                }
            }
        }
    }
    // defaults are forbidden under additionalProperties: not followed
    if let Some(items) = &s.items {
        let mut st = steps.to_vec();
        st.push(Step::Index);
        defaults_node(
            items,
            items.x_embedded_resource,
            &child(pth, "items"),
            root,
            &st,
            inside_meta,
            errs,
        );
    }
    for (k, ps) in s.props() {
        let sub_inside_meta =
            inside_meta || (embedded && (k == "metadata" || k == "apiVersion" || k == "kind"));
        let mut st = steps.to_vec();
        st.push(Step::Child(k.clone()));
        defaults_node(
            ps,
            ps.x_embedded_resource,
            &key(&child(pth, "properties"), k),
            root,
            &st,
            sub_inside_meta,
            errs,
        );
    }
}

fn default_cel(s: &Schema, d: &Value, dpath: &str, is_resource_root: bool) -> Vec<FieldError> {
    let out = super::cel::validate_with(Some(dpath), s, d, Some(d), is_resource_root, false);
    if !out.errors.is_empty() {
        return out.errors;
    }
    super::cel::validate_with(Some(dpath), s, d, None, is_resource_root, false).errors
}

// ---------------------------------------------------------------------------------------------
// ValidateCustomResourceDefinitionOpenAPISchema
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct SchemaErrors {
    schema: Vec<FieldError>,
    cel: Vec<FieldError>,
}

/// Upstream's `specStandardValidatorV3` state.
#[derive(Clone)]
struct Ssv {
    allow_defaults: bool,
    disallow_reason: String,
    inside_meta: bool,
    uncorrelatable: Option<String>,
}

impl Ssv {
    fn forbid_defaults(&self, reason: String) -> Ssv {
        Ssv {
            allow_defaults: false,
            disallow_reason: reason,
            ..self.clone()
        }
    }
    fn forbid_old_self(&self, p: &str) -> Ssv {
        if self.uncorrelatable.is_some() {
            return self.clone();
        }
        Ssv {
            uncorrelatable: Some(p.to_string()),
            ..self.clone()
        }
    }
}

const OPENAPI_TYPES: &[&str] = &["array", "boolean", "integer", "number", "object", "string"];
const REASONS: &[&str] = &[
    "FieldValueDuplicate",
    "FieldValueForbidden",
    "FieldValueInvalid",
    "FieldValueRequired",
];

fn ssv_validate(s: &Schema, p: &str, ssv: &Ssv, errs: &mut Vec<FieldError>) {
    if !s.type_.is_empty() && !OPENAPI_TYPES.contains(&s.type_.as_str()) {
        errs.push(not_supported(child(p, "type"), &s.type_, OPENAPI_TYPES));
    }
    if s.default.is_some() && !ssv.allow_defaults {
        let mut detail = "must not be set".to_string();
        if !ssv.disallow_reason.is_empty() {
            detail.push(' ');
            detail.push_str(&ssv.disallow_reason);
        }
        errs.push(FieldError::forbidden(child(p, "default"), detail));
    }
    for (u, msg) in [
        ("id", "id is not supported"),
        ("additionalItems", "additionalItems is not supported"),
        ("patternProperties", "patternProperties is not supported"),
        ("definitions", "definitions is not supported"),
        ("dependencies", "dependencies is not supported"),
        ("$ref", "$ref is not supported"),
    ] {
        if s.unsupported.contains(&u) {
            errs.push(FieldError::forbidden(child(p, u), msg));
        }
    }
    if s.type_ == "null" {
        errs.push(FieldError::forbidden(
            child(p, "type"),
            "type cannot be set to null, use nullable as an alternative",
        ));
    }
    if s.items_array.as_ref().is_some_and(|a| !a.is_empty()) {
        errs.push(FieldError::forbidden(
            child(p, "items"),
            "items must be a schema object and not an array",
        ));
    }
    if ssv.inside_meta && s.x_embedded_resource {
        errs.push(FieldError::forbidden(
            child(p, "x-kubernetes-embedded-resource"),
            "must not be used inside of resource meta",
        ));
    }
}

fn has_newlines(s: &str) -> bool {
    s.contains(['\n', '\r'])
}

fn openapi_schema(
    s: &Schema,
    p: &str,
    ssv: &Ssv,
    is_root: bool,
    cel_ok: bool,
    out: &mut SchemaErrors,
) {
    let mut local = SchemaErrors::default();
    ssv_validate(s, p, ssv, &mut local.schema);
    if s.unique_items {
        local.schema.push(FieldError::forbidden(
            child(p, "uniqueItems"),
            "uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
        ));
    }
    if let Some(ap) = &s.additional_properties {
        if s.has_properties() && (!ap.allows() || ap.schema().is_some()) {
            local.schema.push(FieldError::forbidden(
                child(p, "additionalProperties"),
                "additionalProperties and properties are mutual exclusive",
            ));
        }
        let sub = if ssv.inside_meta {
            ssv.forbid_defaults("inside additionalProperties applying to object metadata".into())
        } else {
            ssv.clone()
        };
        if let Some(aps) = ap.schema() {
            openapi_schema(
                aps,
                &child(p, "additionalProperties"),
                &sub,
                false,
                cel_ok,
                &mut local,
            );
        }
    }
    for (k, ps) in s.props() {
        let mut sub = ssv.clone();
        if !matches!(
            s.x_map_type.as_deref(),
            None | Some("granular") | Some("atomic")
        ) {
            sub = sub.forbid_old_self(p);
        }
        if (is_root || s.x_embedded_resource)
            && matches!(k.as_str(), "metadata" | "kind" | "apiVersion")
        {
            sub.inside_meta = true;
            if is_root {
                sub = sub.forbid_defaults(format!("in top-level {k}"));
            }
        }
        openapi_schema(
            ps,
            &key(&child(p, "properties"), k),
            &sub,
            false,
            cel_ok,
            &mut local,
        );
    }
    if let Some(n) = &s.not {
        openapi_schema(n, &child(p, "not"), ssv, false, false, &mut local);
    }
    for (i, x) in s.all_of.iter().enumerate() {
        openapi_schema(
            x,
            &index(&child(p, "allOf"), i),
            ssv,
            false,
            false,
            &mut local,
        );
    }
    for (i, x) in s.one_of.iter().enumerate() {
        openapi_schema(
            x,
            &index(&child(p, "oneOf"), i),
            ssv,
            false,
            false,
            &mut local,
        );
    }
    for (i, x) in s.any_of.iter().enumerate() {
        openapi_schema(
            x,
            &index(&child(p, "anyOf"), i),
            ssv,
            false,
            false,
            &mut local,
        );
    }
    if s.items.is_some() || s.items_array.is_some() {
        let sub = if s.x_list_type.as_deref() != Some("map") {
            ssv.forbid_old_self(p)
        } else {
            ssv.clone()
        };
        if let Some(i) = &s.items {
            openapi_schema(i, &child(p, "items"), &sub, false, cel_ok, &mut local);
        }
        for (i, x) in s.items_array.iter().flatten().enumerate() {
            openapi_schema(
                x,
                &index(&child(p, "items"), i),
                &sub,
                false,
                cel_ok,
                &mut local,
            );
        }
    }
    if s.x_preserve_unknown_fields == Some(false) {
        local.schema.push(FieldError::invalid(
            child(p, "x-kubernetes-preserve-unknown-fields"),
            false,
            "must be true or undefined",
        ));
    }
    list_and_map_types(s, p, &mut local.schema);
    map_list_keys_map_set(s, p, &mut local.schema);
    rules_static(s, p, ssv, cel_ok, &mut local);
    out.schema.extend(local.schema);
    out.cel.extend(local.cel);
}

fn list_and_map_types(s: &Schema, p: &str, errs: &mut Vec<FieldError>) {
    if let Some(mt) = &s.x_map_type {
        if s.type_ != "object" {
            if s.type_.is_empty() {
                errs.push(FieldError::required(
                    child(p, "type"),
                    "must be object if x-kubernetes-map-type is specified",
                ));
            } else {
                errs.push(FieldError::invalid(
                    child(p, "type"),
                    s.type_.as_str(),
                    "must be object if x-kubernetes-map-type is specified",
                ));
            }
        }
        if mt != "atomic" && mt != "granular" {
            errs.push(not_supported(
                child(p, "x-kubernetes-map-type"),
                mt,
                &["atomic", "granular"],
            ));
        }
    }
    if let Some(lt) = &s.x_list_type {
        if s.type_ != "array" {
            if s.type_.is_empty() {
                errs.push(FieldError::required(
                    child(p, "type"),
                    "must be array if x-kubernetes-list-type is specified",
                ));
            } else {
                errs.push(FieldError::invalid(
                    child(p, "type"),
                    s.type_.as_str(),
                    "must be array if x-kubernetes-list-type is specified",
                ));
            }
        } else if lt == "set"
            && let Some(is) = &s.items
        {
            match is.type_.as_str() {
                "array" => {
                    if let Some(ilt) = &is.x_list_type
                        && ilt != "atomic"
                    {
                        errs.push(FieldError::invalid(
                            child(&child(p, "items"), "x-kubernetes-list-type"),
                            ilt.as_str(),
                            "must be atomic as item of a list with x-kubernetes-list-type=set",
                        ));
                    }
                }
                "object" if is.x_map_type.as_deref() != Some("atomic") => {
                    let v = match &is.x_list_type {
                        Some(x) => Value::String(x.clone()),
                        None => Value::String("null".into()),
                    };
                    errs.push(FieldError::invalid(
                        child(&child(p, "items"), "x-kubernetes-map-type"),
                        v,
                        "must be atomic as item of a list with x-kubernetes-list-type=set",
                    ));
                }
                _ => {}
            }
        }
        if lt != "atomic" && lt != "set" && lt != "map" {
            errs.push(not_supported(
                child(p, "x-kubernetes-list-type"),
                lt,
                &["atomic", "set", "map"],
            ));
        }
    }
    if !s.x_list_map_keys.is_empty() {
        match s.x_list_type.as_deref() {
            None => errs.push(FieldError::required(
                child(p, "x-kubernetes-list-type"),
                "must be map if x-kubernetes-list-map-keys is non-empty",
            )),
            Some("map") => {}
            Some(other) => errs.push(FieldError::invalid(
                child(p, "x-kubernetes-list-type"),
                other,
                "must be map if x-kubernetes-list-map-keys is non-empty",
            )),
        }
    }
    if s.x_list_type.as_deref() == Some("map") {
        if s.x_list_map_keys.is_empty() {
            errs.push(FieldError::required(
                child(p, "x-kubernetes-list-map-keys"),
                "must not be empty if x-kubernetes-list-type is map",
            ));
        }
        if s.items.is_none() && s.items_array.is_none() {
            errs.push(FieldError::required(
                child(p, "items"),
                "must have a schema if x-kubernetes-list-type is map",
            ));
        }
        if s.items.is_none()
            && let Some(a) = &s.items_array
        {
            errs.push(FieldError::invalid(
                child(p, "items"),
                Value::Array(vec![Value::Null; a.len()]),
                "must only have a single schema if x-kubernetes-list-type is map",
            ));
        }
        if let Some(is) = &s.items {
            if is.type_ != "object" {
                errs.push(FieldError::invalid(
                    child(&child(p, "items"), "type"),
                    is.type_.as_str(),
                    "must be object if parent array's x-kubernetes-list-type is map",
                ));
            } else {
                let mut seen: Vec<&str> = Vec::new();
                let keys_value = Value::Array(
                    s.x_list_map_keys
                        .iter()
                        .map(|k| Value::String(k.clone()))
                        .collect(),
                );
                for k in &s.x_list_map_keys {
                    match is.property(k) {
                        Some(ks) => {
                            if ks.type_ == "array" || ks.type_ == "object" {
                                errs.push(FieldError::invalid(
                                    child(&key(&child(&child(p, "items"), "properties"), k), "type"),
                                    is.type_.as_str(),
                                    "must be a scalar type if parent array's x-kubernetes-list-type is map",
                                ));
                            }
                        }
                        None => errs.push(FieldError::invalid(
                            child(p, "x-kubernetes-list-map-keys"),
                            keys_value.clone(),
                            "entries must all be names of item properties",
                        )),
                    }
                    if seen.contains(&k.as_str()) {
                        errs.push(FieldError::invalid(
                            child(p, "x-kubernetes-list-map-keys"),
                            keys_value.clone(),
                            "must not contain duplicate entries",
                        ));
                    }
                    seen.push(k);
                }
            }
        }
    }
}

fn map_list_keys_map_set(s: &Schema, p: &str, errs: &mut Vec<FieldError>) {
    let Some(is) = &s.items else { return };
    let Some(lt) = s.x_list_type.as_deref() else {
        return;
    };
    if lt != "set" && lt != "map" {
        return;
    }
    if is.nullable {
        errs.push(FieldError::forbidden(
            child(&child(p, "items"), "nullable"),
            format!("cannot be nullable when x-kubernetes-list-type is {lt}"),
        ));
    }
    if lt == "map" {
        for k in &s.x_list_map_keys {
            let Some(ks) = is.property(k) else { continue };
            let kp = key(&child(&child(p, "items"), "properties"), k);
            if !is.required.contains(k) && ks.default.is_none() {
                errs.push(FieldError::required(
                    child(&kp, "default"),
                    "this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property",
                ));
            }
            if ks.nullable {
                errs.push(FieldError::forbidden(
                    child(&kp, "nullable"),
                    "this property is in x-kubernetes-list-map-keys, so it cannot be nullable",
                ));
            }
        }
    }
}

fn rule_value(r: &super::schema::ValidationRule) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("rule".into(), Value::String(r.rule.clone()));
    if !r.message.is_empty() {
        m.insert("message".into(), Value::String(r.message.clone()));
    }
    if !r.message_expression.is_empty() {
        m.insert(
            "messageExpression".into(),
            Value::String(r.message_expression.clone()),
        );
    }
    if let Some(x) = &r.reason {
        m.insert("reason".into(), Value::String(x.clone()));
    }
    if !r.field_path.is_empty() {
        m.insert("fieldPath".into(), Value::String(r.field_path.clone()));
    }
    if let Some(b) = r.optional_old_self {
        m.insert("optionalOldSelf".into(), Value::Bool(b));
    }
    Value::Object(m)
}

fn rules_static(s: &Schema, p: &str, ssv: &Ssv, cel_ok: bool, out: &mut SchemaErrors) {
    if s.x_validations.is_empty() {
        return;
    }
    let xv = child(p, "x-kubernetes-validations");
    for (i, r) in s.x_validations.iter().enumerate() {
        let rp = index(&xv, i);
        let rule = r.rule.trim();
        let msg = r.message.trim();
        if rule.is_empty() {
            out.schema.push(FieldError::required(
                child(&rp, "rule"),
                "rule is not specified",
            ));
        } else if !r.message.is_empty() && msg.is_empty() {
            out.schema.push(FieldError::invalid(
                child(&rp, "message"),
                r.message.as_str(),
                "message must be non-empty if specified",
            ));
        } else if has_newlines(msg) {
            out.schema.push(FieldError::invalid(
                child(&rp, "message"),
                r.message.as_str(),
                "message must not contain line breaks",
            ));
        } else if has_newlines(rule) && msg.is_empty() {
            out.schema.push(FieldError::required(
                child(&rp, "message"),
                "message must be specified if rule contains line breaks",
            ));
        }
        if !r.message_expression.is_empty() && r.message_expression.trim().is_empty() {
            out.schema.push(FieldError::required(
                child(&rp, "messageExpression"),
                "messageExpression must be non-empty if specified",
            ));
        }
        if let Some(reason) = &r.reason
            && !REASONS.contains(&reason.as_str())
        {
            out.schema
                .push(not_supported(child(&rp, "reason"), reason, REASONS));
        }
        if !r.field_path.is_empty() && r.field_path.trim().is_empty() {
            out.schema.push(FieldError::invalid(
                child(&rp, "fieldPath"),
                r.field_path.as_str(),
                "fieldPath must be non-empty if specified",
            ));
        }
        if has_newlines(&r.field_path) {
            out.schema.push(FieldError::invalid(
                child(&rp, "fieldPath"),
                r.field_path.as_str(),
                "fieldPath must not contain line breaks",
            ));
        }
        if !r.field_path.is_empty() && super::cel::valid_field_path(&r.field_path, s).is_err() {
            out.schema.push(FieldError::invalid(
                child(&rp, "fieldPath"),
                r.field_path.as_str(),
                "fieldPath must be a valid path",
            ));
        }
    }
    if !out.schema.is_empty() || !cel_ok {
        return;
    }
    for (i, r) in s.x_validations.iter().enumerate() {
        let rp = index(&xv, i);
        if r.rule.trim().is_empty() {
            continue;
        }
        match super::cel::compile(&r.rule) {
            Err(e) => out.cel.push(FieldError::invalid(
                child(&rp, "rule"),
                rule_value(r),
                format!("compilation failed: {e}"),
            )),
            Ok(c) => {
                if c.uses_old_self {
                    if let Some(u) = &ssv.uncorrelatable {
                        out.cel.push(FieldError::invalid(
                            child(&rp, "rule"),
                            r.rule.as_str(),
                            format!("oldSelf cannot be used on the uncorrelatable portion of the schema within {u}"),
                        ));
                    }
                } else if let Some(b) = r.optional_old_self {
                    out.cel.push(FieldError::invalid(
                        child(&rp, "optionalOldSelf"),
                        b,
                        "may not be set if oldSelf is not used in rule",
                    ));
                }
            }
        }
        if !r.message_expression.trim().is_empty()
            && let Err(e) = super::cel::compile(&r.message_expression)
        {
            out.cel.push(FieldError::invalid(
                child(&rp, "messageExpression"),
                rule_value(r),
                format!("messageExpression compilation failed: {e}"),
            ));
        }
    }
}
