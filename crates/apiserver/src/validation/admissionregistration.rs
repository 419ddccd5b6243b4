//! admissionregistration.k8s.io/v1: Mutating/ValidatingWebhookConfigurations,
//! ValidatingAdmissionPolicies and their bindings.
//!
//! CEL expressions (match conditions, validations, message expressions, variables, audit
//! annotation values) are checked for presence and shape only; they are not compiled, so
//! CEL syntax and type errors upstream reports are not reported here.

use std::collections::BTreeSet;

use apimachinery::field::{ErrorList, Path};
use apimachinery::validation as v;
use k8s_openapi::api::admissionregistration::v1 as ar;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::common::*;

const FAILURE_POLICIES: &[&str] = &["Fail", "Ignore"];
const MATCH_POLICIES: &[&str] = &["Equivalent", "Exact"];
const ALL_SIDE_EFFECTS: &[&str] = &["None", "NoneOnDryRun", "Some", "Unknown"];
const NO_SIDE_EFFECTS: &[&str] = &["None", "NoneOnDryRun"];
const OPERATIONS: &[&str] = &["*", "CONNECT", "CREATE", "DELETE", "UPDATE"];
const REINVOCATION_POLICIES: &[&str] = &["IfNeeded", "Never"];
const SCOPES: &[&str] = &["*", "Cluster", "Namespaced"];
const POLICY_REASONS: &[&str] = &["Forbidden", "Invalid", "RequestEntityTooLarge"];
const VALIDATION_ACTIONS: &[&str] = &["Audit", "Deny", "Warn"];
const ACCEPTED_REVIEW_VERSIONS: &[&str] = &["v1", "v1beta1"];
const MAX_AUDIT_ANNOTATIONS: usize = 20;
const MAX_AUDIT_ANNOTATION_VALUE_EXPRESSION_LENGTH: usize = 5 * 1024;

fn has_wildcard(list: &[String]) -> bool {
    list.iter().any(|s| s == "*")
}

// ---------------------------------------------------------------------------------------------
// rules
// ---------------------------------------------------------------------------------------------

fn resources_with_subresources(resources: &[String], path: &Path) -> Errs {
    let mut e = Vec::new();
    if resources.is_empty() {
        e.push(required(path, ""));
    }
    let mut res_with_wild_sub: BTreeSet<&str> = BTreeSet::new();
    let mut sub_with_wild_res: BTreeSet<&str> = BTreeSet::new();
    let (mut double_wild, mut single_wild, mut without_sub) = (false, false, false);
    for (i, rs) in resources.iter().enumerate() {
        if rs.is_empty() {
            e.push(required(&path.index(i), ""));
            continue;
        }
        if rs == "*/*" {
            double_wild = true;
        }
        if rs == "*" {
            single_wild = true;
        }
        let Some((res, sub)) = rs.split_once('/') else {
            without_sub = rs != "*";
            continue;
        };
        if res_with_wild_sub.contains(res) {
            e.push(invalid(&path.index(i), rs.as_str(), format!("if '{res}/*' is present, must not specify {rs}")));
        }
        if sub_with_wild_res.contains(sub) {
            e.push(invalid(&path.index(i), rs.as_str(), format!("if '*/{sub}' is present, must not specify {rs}")));
        }
        if sub == "*" {
            res_with_wild_sub.insert(res);
        }
        if res == "*" {
            sub_with_wild_res.insert(sub);
        }
    }
    if resources.len() > 1 && double_wild {
        e.push(invalid(path, str_list(resources), "if '*/*' is present, must not specify other resources"));
    }
    if single_wild && without_sub {
        e.push(invalid(path, str_list(resources), "if '*' is present, must not specify other resources without subresources"));
    }
    e
}

struct RuleView<'a> {
    operations: &'a [String],
    api_groups: &'a [String],
    api_versions: &'a [String],
    resources: &'a [String],
    scope: Option<&'a str>,
}

fn rule_with_operations(r: &RuleView, path: &Path) -> Errs {
    let mut e = Vec::new();
    let op = path.child("operations");
    if r.operations.is_empty() {
        e.push(required(&op, ""));
    }
    if r.operations.len() > 1 && has_wildcard(r.operations) {
        e.push(invalid(&op, str_list(r.operations), "if '*' is present, must not specify other operations"));
    }
    for (i, o) in r.operations.iter().enumerate() {
        if !OPERATIONS.contains(&o.as_str()) {
            e.push(not_supported(&op.index(i), o.as_str(), OPERATIONS));
        }
    }
    let gp = path.child("apiGroups");
    if r.api_groups.is_empty() {
        e.push(required(&gp, ""));
    }
    if r.api_groups.len() > 1 && has_wildcard(r.api_groups) {
        e.push(invalid(&gp, str_list(r.api_groups), "if '*' is present, must not specify other API groups"));
    }
    let vp = path.child("apiVersions");
    if r.api_versions.is_empty() {
        e.push(required(&vp, ""));
    }
    if r.api_versions.len() > 1 && has_wildcard(r.api_versions) {
        e.push(invalid(&vp, str_list(r.api_versions), "if '*' is present, must not specify other API versions"));
    }
    for (i, ver) in r.api_versions.iter().enumerate() {
        if ver.is_empty() {
            e.push(required(&vp.index(i), ""));
        }
    }
    e.extend(resources_with_subresources(r.resources, &path.child("resources")));
    if let Some(s) = r.scope
        && !SCOPES.contains(&s)
    {
        e.push(not_supported(&path.child("scope"), s, SCOPES));
    }
    e
}

fn webhook_rule(r: &ar::RuleWithOperations, path: &Path) -> Errs {
    rule_with_operations(
        &RuleView {
            operations: sl(&r.operations),
            api_groups: sl(&r.api_groups),
            api_versions: sl(&r.api_versions),
            resources: sl(&r.resources),
            scope: r.scope.as_deref(),
        },
        path,
    )
}

fn named_rule(r: &ar::NamedRuleWithOperations, path: &Path) -> Errs {
    let mut e = Vec::new();
    let mut names = BTreeSet::new();
    for (i, n) in sl(&r.resource_names).iter().enumerate() {
        let ip = path.child("resourceNames").index(i);
        for m in path_segment_name_msgs(n) {
            e.push(invalid(&ip, n.as_str(), m));
        }
        if !names.insert(n.as_str()) {
            e.push(duplicate(&ip, n.as_str()));
        }
    }
    e.extend(rule_with_operations(
        &RuleView {
            operations: sl(&r.operations),
            api_groups: sl(&r.api_groups),
            api_versions: sl(&r.api_versions),
            resources: sl(&r.resources),
            scope: r.scope.as_deref(),
        },
        path,
    ));
    e
}

// ---------------------------------------------------------------------------------------------
// webhook client config
// ---------------------------------------------------------------------------------------------

/// The parts of Go's `url.Parse` result the webhook URL checks look at.
struct ParsedUrl {
    scheme: String,
    host: String,
    user: Option<String>,
    fragment: String,
    raw_query: String,
}

fn parse_url(raw: &str) -> Result<ParsedUrl, String> {
    let err = |m: &str| format!("parse {}: {m}", v::go_quote(raw));
    if raw.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err(err("net/url: invalid control character in URL"));
    }
    let (rest, fragment) = match raw.split_once('#') {
        Some((r, f)) => (r, f.to_string()),
        None => (raw, String::new()),
    };
    // scheme
    let mut scheme = String::new();
    let mut rest = rest;
    for (i, c) in rest.char_indices() {
        if c.is_ascii_alphabetic() {
            continue;
        }
        if i > 0 && (c.is_ascii_digit() || c == '+' || c == '-' || c == '.') {
            continue;
        }
        if c == ':' {
            if i == 0 {
                return Err(err("missing protocol scheme"));
            }
            scheme = rest[..i].to_lowercase();
            rest = &rest[i + 1..];
        }
        break;
    }
    let (rest, raw_query) = match rest.split_once('?') {
        Some((r, q)) => (r, q.to_string()),
        None => (rest, String::new()),
    };
    let mut host = String::new();
    let mut user = None;
    if let Some(after) = rest.strip_prefix("//") {
        let authority = after.split('/').next().unwrap_or("");
        let hostport = match authority.rsplit_once('@') {
            Some((u, h)) => {
                user = Some(u.to_string());
                h
            }
            None => authority,
        };
        if let Some((_, port)) = hostport.rsplit_once(':')
            && !hostport.ends_with(']')
            && !port.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(err(&format!("invalid port {} after host", v::go_quote(&format!(":{port}")))));
        }
        host = hostport.to_string();
    } else if scheme.is_empty() && rest.split('/').next().is_some_and(|seg| seg.contains(':')) {
        return Err(err("first path segment in URL cannot contain colon"));
    }
    Ok(ParsedUrl { scheme, host, user, fragment, raw_query })
}

/// apiserver's `webhook.ValidateWebhookURL` with https required.
pub(crate) fn webhook_url(url: &str, path: &Path) -> Errs {
    const FORM: &str = "; desired format: https://host[/path]";
    let mut e = Vec::new();
    match parse_url(url) {
        Err(msg) => e.push(required(path, &format!("url must be a valid URL: {msg}{FORM}"))),
        Ok(u) => {
            if u.scheme != "https" {
                e.push(invalid(path, u.scheme.as_str(), format!("'https' is the only allowed URL scheme{FORM}")));
            }
            if u.host.is_empty() {
                e.push(invalid(path, "", format!("host must be specified{FORM}")));
            }
            if let Some(user) = u.user {
                e.push(invalid(path, user, "user information is not permitted in the URL"));
            }
            if !u.fragment.is_empty() {
                e.push(invalid(path, u.fragment, "fragments are not permitted in the URL"));
            }
            if !u.raw_query.is_empty() {
                e.push(invalid(path, u.raw_query, "query parameters are not permitted in the URL"));
            }
        }
    }
    e
}

/// apiserver's `webhook.ValidateWebhookService`. Upstream passes the service name where the
/// namespace parameter is expected (and vice versa), so a missing name is reported at
/// `namespace` and a missing namespace at `name`; reproduced here.
fn webhook_service(svc: &ar::ServiceReference, path: &Path) -> Errs {
    service_reference(&svc.name, &svc.namespace, svc.path.as_deref(), svc.port, path)
}

/// The body of [`webhook_service`], shared with CRD conversion webhooks.
pub(crate) fn service_reference(name: &str, namespace: &str, url_path: Option<&str>, port: Option<i32>, path: &Path) -> Errs {
    let mut e = Vec::new();
    let (namespace_param, name_param) = (name, namespace);
    if name_param.is_empty() {
        e.push(required(&path.child("name"), ""));
    }
    if namespace_param.is_empty() {
        e.push(required(&path.child("namespace"), ""));
    }
    let port = port.unwrap_or(443);
    let port_errs = v::is_valid_port_num(port as i64);
    if !port_errs.is_empty() {
        e.push(invalid(&path.child("port"), port, format!("port is not valid: {}", port_errs.join(", "))));
    }
    let Some(url_path) = url_path else { return e };
    let pp = path.child("path");
    if url_path.is_empty() || url_path == "/" {
        return e;
    }
    if url_path == "//" {
        e.push(invalid(&pp, url_path, "segment[0] may not be empty"));
        return e;
    }
    if !url_path.starts_with('/') {
        e.push(invalid(&pp, url_path, "must start with a '/'"));
    }
    let mut check = &url_path[url_path.chars().next().map_or(0, |c| c.len_utf8())..];
    if let Some(s) = check.strip_suffix('/') {
        check = s;
    }
    for (i, step) in check.split('/').enumerate() {
        if step.is_empty() {
            e.push(invalid(&pp, url_path, format!("segment[{i}] may not be empty")));
            continue;
        }
        for m in v::is_dns1123_subdomain(step) {
            e.push(invalid(&pp, url_path, format!("segment[{i}]: {m}")));
        }
    }
    e
}

fn client_config(cc: &ar::WebhookClientConfig, path: &Path) -> Errs {
    let cp = path.child("clientConfig");
    match (&cc.url, &cc.service) {
        (Some(u), None) => webhook_url(u, &cp.child("url")),
        (None, Some(s)) => webhook_service(s, &cp.child("service")),
        _ => vec![required(&cp, "exactly one of url or service is required")],
    }
}

// ---------------------------------------------------------------------------------------------
// match conditions
// ---------------------------------------------------------------------------------------------

fn match_conditions(conds: &[ar::MatchCondition], path: &Path) -> Errs {
    let mut e = Vec::new();
    if conds.len() > 64 {
        e.push(too_many(path, conds.len(), 64));
    }
    let mut names = BTreeSet::new();
    for (i, c) in conds.iter().enumerate() {
        let ip = path.index(i);
        if c.expression.trim().is_empty() {
            e.push(required(&ip.child("expression"), ""));
        }
        if c.name.is_empty() {
            e.push(required(&ip.child("name"), ""));
        } else {
            e.extend(qualified_name(&c.name, &ip.child("name")));
        }
        if !c.name.is_empty() && !names.insert(c.name.as_str()) {
            e.push(duplicate(&ip.child("name"), c.name.as_str()));
        }
    }
    e
}

// ---------------------------------------------------------------------------------------------
// webhook configurations
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy)]
struct HookOpts {
    ignore_match_conditions: bool,
    require_no_side_effects: bool,
    require_recognized_review_version: bool,
    require_unique_names: bool,
    allow_invalid_label_value: bool,
}

impl HookOpts {
    fn create() -> HookOpts {
        HookOpts {
            ignore_match_conditions: false,
            require_no_side_effects: true,
            require_recognized_review_version: true,
            require_unique_names: true,
            allow_invalid_label_value: false,
        }
    }
}

/// The fields shared by validating and mutating webhooks.
struct HookView<'a> {
    name: &'a str,
    rules: &'a [ar::RuleWithOperations],
    failure_policy: Option<&'a str>,
    match_policy: Option<&'a str>,
    side_effects: &'a str,
    timeout_seconds: Option<i32>,
    namespace_selector: Option<&'a LabelSelector>,
    object_selector: Option<&'a LabelSelector>,
    reinvocation_policy: Option<&'a str>,
    client_config: &'a ar::WebhookClientConfig,
    match_conditions: &'a [ar::MatchCondition],
    admission_review_versions: &'a [String],
}

fn validating_view(h: &ar::ValidatingWebhook) -> HookView<'_> {
    HookView {
        name: &h.name,
        rules: sl(&h.rules),
        failure_policy: h.failure_policy.as_deref(),
        match_policy: h.match_policy.as_deref(),
        side_effects: &h.side_effects,
        timeout_seconds: h.timeout_seconds,
        namespace_selector: h.namespace_selector.as_ref(),
        object_selector: h.object_selector.as_ref(),
        reinvocation_policy: None,
        client_config: &h.client_config,
        match_conditions: sl(&h.match_conditions),
        admission_review_versions: &h.admission_review_versions,
    }
}

fn mutating_view(h: &ar::MutatingWebhook) -> HookView<'_> {
    HookView {
        name: &h.name,
        rules: sl(&h.rules),
        failure_policy: h.failure_policy.as_deref(),
        match_policy: h.match_policy.as_deref(),
        side_effects: &h.side_effects,
        timeout_seconds: h.timeout_seconds,
        namespace_selector: h.namespace_selector.as_ref(),
        object_selector: h.object_selector.as_ref(),
        reinvocation_policy: h.reinvocation_policy.as_deref(),
        client_config: &h.client_config,
        match_conditions: sl(&h.match_conditions),
        admission_review_versions: &h.admission_review_versions,
    }
}

fn webhook(h: &HookView, opts: HookOpts, path: &Path) -> Errs {
    let mut e = fully_qualified_name(h.name, &path.child("name"));
    for (i, r) in h.rules.iter().enumerate() {
        e.extend(webhook_rule(r, &path.child("rules").index(i)));
    }
    if let Some(fp) = h.failure_policy
        && !FAILURE_POLICIES.contains(&fp)
    {
        e.push(not_supported(&path.child("failurePolicy"), fp, FAILURE_POLICIES));
    }
    if let Some(mp) = h.match_policy
        && !MATCH_POLICIES.contains(&mp)
    {
        e.push(not_supported(&path.child("matchPolicy"), mp, MATCH_POLICIES));
    }
    let allowed = if opts.require_no_side_effects { NO_SIDE_EFFECTS } else { ALL_SIDE_EFFECTS };
    if h.side_effects.is_empty() {
        e.push(required(&path.child("sideEffects"), &format!("must specify one of {}", allowed.join(", "))));
    } else if !allowed.contains(&h.side_effects) {
        e.push(not_supported(&path.child("sideEffects"), h.side_effects, allowed));
    }
    if let Some(t) = h.timeout_seconds
        && !(1..=30).contains(&t)
    {
        e.push(invalid(&path.child("timeoutSeconds"), t, "the timeout value must be between 1 and 30 seconds"));
    }
    e.extend(label_selector(h.namespace_selector, &path.child("namespaceSelector"), opts.allow_invalid_label_value));
    e.extend(label_selector(h.object_selector, &path.child("objectSelector"), opts.allow_invalid_label_value));
    if let Some(rp) = h.reinvocation_policy
        && !REINVOCATION_POLICIES.contains(&rp)
    {
        e.push(not_supported(&path.child("reinvocationPolicy"), rp, REINVOCATION_POLICIES));
    }
    e.extend(client_config(h.client_config, path));
    if !opts.ignore_match_conditions {
        e.extend(match_conditions(h.match_conditions, &path.child("matchConditions")));
    }
    e
}

fn admission_review_versions(versions: &[String], require_recognized: bool, path: &Path) -> Errs {
    let mut e = Vec::new();
    if versions.is_empty() {
        return vec![required(path, &format!("must specify one of {}", ACCEPTED_REVIEW_VERSIONS.join(", ")))];
    }
    let mut seen = BTreeSet::new();
    let mut accepted = false;
    for (i, ver) in versions.iter().enumerate() {
        if !seen.insert(ver.as_str()) {
            e.push(invalid(&path.index(i), ver.as_str(), "duplicate version"));
            continue;
        }
        e.extend(dns1035_label(ver, &path.index(i)));
        if ACCEPTED_REVIEW_VERSIONS.contains(&ver.as_str()) {
            accepted = true;
        }
    }
    if require_recognized && !accepted {
        e.push(invalid(path, str_list(versions), format!("must include at least one of {}", ACCEPTED_REVIEW_VERSIONS.join(", "))));
    }
    e
}

fn webhook_configuration(hooks: &[HookView], opts: HookOpts) -> Errs {
    let mut e = Vec::new();
    let mut names = BTreeSet::new();
    for (i, h) in hooks.iter().enumerate() {
        let ip = p("webhooks").index(i);
        e.extend(webhook(h, opts, &ip));
        e.extend(admission_review_versions(h.admission_review_versions, opts.require_recognized_review_version, &ip.child("admissionReviewVersions")));
        if opts.require_unique_names && !h.name.is_empty() && !names.insert(h.name) {
            e.push(duplicate(&ip.child("name"), h.name));
        }
    }
    e
}

fn update_opts(new: &[HookView], old: &[HookView]) -> HookOpts {
    let ignore = new.len() == old.len() && new.iter().zip(old).all(|(n, o)| json(n.match_conditions) == json(o.match_conditions));
    let sel_invalid = |s: Option<&LabelSelector>| s.is_some() && !label_selector(s, &p("x"), false).is_empty();
    HookOpts {
        ignore_match_conditions: ignore,
        require_no_side_effects: old.iter().all(|h| NO_SIDE_EFFECTS.contains(&h.side_effects)),
        require_recognized_review_version: old.iter().all(|h| {
            h.admission_review_versions.is_empty() || h.admission_review_versions.iter().any(|v| ACCEPTED_REVIEW_VERSIONS.contains(&v.as_str()))
        }),
        require_unique_names: {
            let mut seen = BTreeSet::new();
            old.iter().all(|h| seen.insert(h.name))
        },
        allow_invalid_label_value: old.iter().any(|h| sel_invalid(h.namespace_selector) || sel_invalid(h.object_selector)),
    }
}

/// ValidatingWebhookConfiguration create: each webhook's name (fully qualified), rules,
/// failurePolicy/matchPolicy/sideEffects values, timeout 1–30 s, selectors, client config
/// (exactly one of url/service, https URL without user/query/fragment, service path
/// segments), match conditions (names, presence; no CEL compilation), admissionReviewVersions,
/// and unique webhook names.
pub fn validating_webhook_configuration(c: &ar::ValidatingWebhookConfiguration) -> ErrorList {
    let hooks: Vec<HookView> = sl(&c.webhooks).iter().map(validating_view).collect();
    done(webhook_configuration(&hooks, HookOpts::create()))
}

/// ValidatingWebhookConfiguration update: the create rules, relaxed where the old object
/// already broke them (side effects, review versions, duplicate names, selector values).
pub fn validating_webhook_configuration_update(
    new: &ar::ValidatingWebhookConfiguration,
    old: &ar::ValidatingWebhookConfiguration,
) -> ErrorList {
    let nh: Vec<HookView> = sl(&new.webhooks).iter().map(validating_view).collect();
    let oh: Vec<HookView> = sl(&old.webhooks).iter().map(validating_view).collect();
    done(webhook_configuration(&nh, update_opts(&nh, &oh)))
}

/// MutatingWebhookConfiguration create: as validating, plus reinvocationPolicy values.
pub fn mutating_webhook_configuration(c: &ar::MutatingWebhookConfiguration) -> ErrorList {
    let hooks: Vec<HookView> = sl(&c.webhooks).iter().map(mutating_view).collect();
    done(webhook_configuration(&hooks, HookOpts::create()))
}

/// MutatingWebhookConfiguration update: as the validating variant.
pub fn mutating_webhook_configuration_update(new: &ar::MutatingWebhookConfiguration, old: &ar::MutatingWebhookConfiguration) -> ErrorList {
    let nh: Vec<HookView> = sl(&new.webhooks).iter().map(mutating_view).collect();
    let oh: Vec<HookView> = sl(&old.webhooks).iter().map(mutating_view).collect();
    done(webhook_configuration(&nh, update_opts(&nh, &oh)))
}

// ---------------------------------------------------------------------------------------------
// ValidatingAdmissionPolicy
// ---------------------------------------------------------------------------------------------

fn match_resources(mc: &ar::MatchResources, path: &Path) -> Errs {
    let mut e = Vec::new();
    match mc.match_policy.as_deref() {
        None => e.push(required(&path.child("matchPolicy"), "")),
        Some(mp) if !MATCH_POLICIES.contains(&mp) => e.push(not_supported(&path.child("matchPolicy"), mp, MATCH_POLICIES)),
        _ => {}
    }
    match &mc.namespace_selector {
        None => e.push(required(&path.child("namespaceSelector"), "")),
        Some(s) => e.extend(label_selector(Some(s), &path.child("namespaceSelector"), false)),
    }
    match &mc.object_selector {
        None => e.push(required(&path.child("objectSelector"), "")),
        Some(s) => e.extend(label_selector(Some(s), &path.child("objectSelector"), false)),
    }
    for (i, r) in sl(&mc.resource_rules).iter().enumerate() {
        e.extend(named_rule(r, &path.child("resourceRules").index(i)));
    }
    for (i, r) in sl(&mc.exclude_resource_rules).iter().enumerate() {
        e.extend(named_rule(r, &path.child("excludeResourceRules").index(i)));
    }
    e
}

fn param_kind(pk: &ar::ParamKind, path: &Path) -> Errs {
    let mut e = Vec::new();
    let ap = path.child("apiVersion");
    let av = ostr(&pk.api_version);
    if av.is_empty() {
        e.push(required(&ap, ""));
    } else if av.matches('/').count() > 1 {
        e.push(invalid(&ap, av, format!("unexpected GroupVersion string: {av}")));
    } else {
        let (group, version) = if av == "/" {
            ("", "")
        } else {
            match av.split_once('/') {
                Some((g, ver)) => (g, ver),
                None => ("", av),
            }
        };
        if !group.is_empty() {
            let errs = v::is_dns1123_subdomain(group);
            if !errs.is_empty() {
                e.push(invalid(&ap, group, errs.join(",")));
            }
        }
        if version.is_empty() {
            e.push(invalid(&ap, av, "version must be specified"));
        } else {
            let errs = v::is_dns1035_label(version);
            if !errs.is_empty() {
                e.push(invalid(&ap, version, errs.join(",")));
            }
        }
    }
    let kind = ostr(&pk.kind);
    if kind.is_empty() {
        e.push(required(&path.child("kind"), ""));
    } else {
        let errs = v::is_dns1035_label(&kind.to_lowercase());
        if !errs.is_empty() {
            e.push(invalid(&path.child("kind"), kind, format!("may have mixed case, but should otherwise match: {}", errs.join(","))));
        }
    }
    e
}

fn is_cel_identifier(name: &str) -> bool {
    const RESERVED: &[&str] = &[
        "true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop",
        "package", "namespace", "return", "var", "void", "while",
    ];
    let b = name.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        && !RESERVED.contains(&name)
}

fn validation(val: &ar::Validation, path: &Path) -> Errs {
    let mut e = Vec::new();
    if val.expression.trim().is_empty() {
        e.push(required(&path.child("expression"), "expression is not specified"));
    }
    let me = ostr(&val.message_expression);
    if !me.is_empty() && me.trim().is_empty() {
        e.push(invalid(&path.child("messageExpression"), me, "must be non-empty if specified"));
    }
    let msg = ostr(&val.message);
    let trimmed = msg.trim();
    if !msg.is_empty() && trimmed.is_empty() {
        e.push(invalid(&path.child("message"), msg, "message must be non-empty if specified"));
    } else if trimmed.contains('\n') || trimmed.contains('\r') {
        e.push(invalid(&path.child("message"), msg, "message must not contain line breaks"));
    }
    if let Some(r) = &val.reason
        && !POLICY_REASONS.contains(&r.as_str())
    {
        e.push(not_supported(&path.child("reason"), r.as_str(), POLICY_REASONS));
    }
    e
}

fn audit_annotation(policy_name: &str, a: &ar::AuditAnnotation, path: &Path) -> Errs {
    let mut e = Vec::new();
    if policy_name.is_empty() {
        e.push(invalid(&path.child("key"), a.key.as_str(), "requires metadata.name be non-empty"));
    } else {
        e.extend(qualified_name(&format!("{policy_name}/{}", a.key), &path.child("key")));
    }
    let ve = a.value_expression.trim();
    if ve.is_empty() {
        e.push(required(&path.child("valueExpression"), "valueExpression is not specified"));
    } else if ve.len() > MAX_AUDIT_ANNOTATION_VALUE_EXPRESSION_LENGTH {
        e.push(required(&path.child("valueExpression"), &format!("must not exceed {MAX_AUDIT_ANNOTATION_VALUE_EXPRESSION_LENGTH} bytes in length")));
    }
    e
}

fn policy_spec(name: &str, spec: &ar::ValidatingAdmissionPolicySpec, ignore_match_conditions: bool, path: &Path) -> Errs {
    let mut e = Vec::new();
    match spec.failure_policy.as_deref() {
        None => e.push(required(&path.child("failurePolicy"), "")),
        Some(fp) if !FAILURE_POLICIES.contains(&fp) => e.push(not_supported(&path.child("failurePolicy"), fp, FAILURE_POLICIES)),
        _ => {}
    }
    if let Some(pk) = &spec.param_kind {
        e.extend(param_kind(pk, &path.child("paramKind")));
    }
    match &spec.match_constraints {
        None => e.push(required(&path.child("matchConstraints"), "")),
        Some(mc) => {
            e.extend(match_resources(mc, &path.child("matchConstraints")));
            if sl(&mc.resource_rules).is_empty() {
                e.push(required(&path.child("matchConstraints").child("resourceRules"), ""));
            }
        }
    }
    if !ignore_match_conditions {
        e.extend(match_conditions(sl(&spec.match_conditions), &path.child("matchConditions")));
    }
    for (i, var) in sl(&spec.variables).iter().enumerate() {
        let ip = path.child("variables").index(i);
        if var.name.trim().is_empty() {
            e.push(required(&ip.child("name"), "name is not specified"));
        } else if !is_cel_identifier(&var.name) {
            e.push(invalid(&ip.child("name"), var.name.as_str(), "name is not a valid CEL identifier"));
        }
        if var.expression.trim().is_empty() {
            e.push(required(&ip.child("expression"), "expression is not specified"));
        }
    }
    let validations = sl(&spec.validations);
    let audits = sl(&spec.audit_annotations);
    if validations.is_empty() && audits.is_empty() {
        const ONE: &str = "validations or auditAnnotations must contain at least one item";
        e.push(required(&path.child("validations"), ONE));
        e.push(required(&path.child("auditAnnotations"), ONE));
    } else {
        for (i, val) in validations.iter().enumerate() {
            e.extend(validation(val, &path.child("validations").index(i)));
        }
        let ap = path.child("auditAnnotations");
        if audits.len() > MAX_AUDIT_ANNOTATIONS {
            e.push(invalid(&ap, json(audits), format!("must not have more than {MAX_AUDIT_ANNOTATIONS} auditAnnotations")));
        }
        let mut keys = BTreeSet::new();
        for (i, a) in audits.iter().enumerate() {
            e.extend(audit_annotation(name, a, &ap.index(i)));
            if !keys.insert(a.key.as_str()) {
                e.push(duplicate(&ap.index(i).child("key"), a.key.as_str()));
            }
        }
    }
    e
}

/// ValidatingAdmissionPolicy create: failurePolicy, paramKind, matchConstraints (with at least
/// one resource rule), match conditions, variables (CEL identifiers), validations (expression
/// present, message rules, reason values) and audit annotations (keys, value expressions).
/// CEL is not compiled.
pub fn validating_admission_policy(vap: &ar::ValidatingAdmissionPolicy) -> ErrorList {
    let spec = vap.spec.clone().unwrap_or_default();
    done(policy_spec(vap.metadata.name.as_deref().unwrap_or(""), &spec, false, &p("spec")))
}

/// ValidatingAdmissionPolicy update: the create rules (match conditions skipped when neither
/// they nor paramKind changed).
pub fn validating_admission_policy_update(new: &ar::ValidatingAdmissionPolicy, old: &ar::ValidatingAdmissionPolicy) -> ErrorList {
    let spec = new.spec.clone().unwrap_or_default();
    let old_spec = old.spec.clone().unwrap_or_default();
    let ignore = json(&spec.param_kind) == json(&old_spec.param_kind) && json(&spec.match_conditions) == json(&old_spec.match_conditions);
    done(policy_spec(new.metadata.name.as_deref().unwrap_or(""), &spec, ignore, &p("spec")))
}

/// ValidatingAdmissionPolicy status update: typeChecking warnings (warning and fieldRef
/// required; the JSONPath is not parsed) and conditions.
pub fn validating_admission_policy_status_update(new: &ar::ValidatingAdmissionPolicy, _old: &ar::ValidatingAdmissionPolicy) -> ErrorList {
    let mut e = Vec::new();
    let sp = p("status");
    let status = new.status.clone().unwrap_or_default();
    if let Some(tc) = &status.type_checking {
        for (i, w) in sl(&tc.expression_warnings).iter().enumerate() {
            let ip = sp.child("typeChecking").child("expressionWarnings").index(i);
            if w.warning.is_empty() {
                e.push(required(&ip.child("warning"), ""));
            }
            if w.field_ref.trim().is_empty() {
                e.push(required(&ip.child("fieldRef"), ""));
            }
        }
    }
    e.extend(conditions(sl(&status.conditions), &sp.child("conditions")));
    done(e)
}

// ---------------------------------------------------------------------------------------------
// ValidatingAdmissionPolicyBinding
// ---------------------------------------------------------------------------------------------

fn param_ref(pr: &ar::ParamRef, path: &Path) -> Errs {
    let mut e = Vec::new();
    let name = ostr(&pr.name);
    const EXCLUSIVE: &str = "name and selector are mutually exclusive";
    if !name.is_empty() {
        for m in path_segment_name_msgs(name) {
            e.push(invalid(&path.child("name"), name, m));
        }
        if pr.selector.is_some() {
            e.push(forbidden(&path.child("name"), EXCLUSIVE));
        }
    }
    if let Some(s) = &pr.selector {
        e.extend(label_selector(Some(s), &path.child("selector"), false));
        if !name.is_empty() {
            e.push(forbidden(&path.child("selector"), EXCLUSIVE));
        }
    }
    if name.is_empty() && pr.selector.is_none() {
        e.push(required(path, "one of name or selector must be specified"));
    }
    match pr.parameter_not_found_action.as_deref() {
        None | Some("") => e.push(required(&path.child("parameterNotFoundAction"), "")),
        Some("Deny") | Some("Allow") => {}
        Some(other) => e.push(not_supported(&path.child("parameterNotFoundAction"), other, &["Deny", "Allow"])),
    }
    e
}

/// ValidatingAdmissionPolicyBinding create/update: policyName, paramRef (name xor selector,
/// parameterNotFoundAction), matchResources (reported at upstream's misspelled
/// `spec.matchResouces`), validationActions (known, unique, not both Deny and Warn, at least
/// one).
pub fn validating_admission_policy_binding(b: &ar::ValidatingAdmissionPolicyBinding) -> ErrorList {
    let mut e = Vec::new();
    let sp = p("spec");
    let spec = b.spec.clone().unwrap_or_default();
    let pn = ostr(&spec.policy_name);
    if pn.is_empty() {
        e.push(required(&sp.child("policyName"), ""));
    } else {
        for m in v::name_is_dns_subdomain(pn, false) {
            e.push(invalid(&sp.child("policyName"), pn, m));
        }
    }
    if let Some(pr) = &spec.param_ref {
        e.extend(param_ref(pr, &sp.child("paramRef")));
    }
    if let Some(mr) = &spec.match_resources {
        e.extend(match_resources(mr, &sp.child("matchResouces")));
    }
    let ap = sp.child("validationActions");
    let actions = sl(&spec.validation_actions);
    let mut seen = BTreeSet::new();
    for (i, a) in actions.iter().enumerate() {
        if !VALIDATION_ACTIONS.contains(&a.as_str()) {
            e.push(not_supported(&ap.index(i), a.as_str(), VALIDATION_ACTIONS));
        }
        if !seen.insert(a.as_str()) {
            e.push(duplicate(&ap.index(i), a.as_str()));
        }
    }
    if seen.contains("Deny") && seen.contains("Warn") {
        e.push(invalid(
            &ap,
            str_list(actions),
            "must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)",
        ));
    }
    if seen.is_empty() {
        e.push(required(&ap, "at least one validation action is required"));
    }
    done(e)
}

/// ValidatingAdmissionPolicyBinding update: the create rules.
pub fn validating_admission_policy_binding_update(
    new: &ar::ValidatingAdmissionPolicyBinding,
    _old: &ar::ValidatingAdmissionPolicyBinding,
) -> ErrorList {
    validating_admission_policy_binding(new)
}
