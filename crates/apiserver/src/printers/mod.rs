//! Server-side table printing for the built-in kinds: the columns and cells `kubectl get` shows,
//! following Kubernetes 1.32's internal-version printers.
//!
//! Each kind has `<kind>_columns()` (the `Table.columnDefinitions`) and `<kind>_cells(obj, now)`
//! (one row's cells). The server always produces the wide cells; clients hide columns whose
//! priority is above zero. Cells are JSON strings, integers or booleans exactly where upstream
//! puts a Go string, integer or bool (which is not always what the column's declared type says:
//! upstream declares e.g. the event `Count` column as `string` but fills it with an integer).
//!
//! Objects are expected as stored (defaulted). A field that is absent prints as Go's zero value
//! would after conversion to the internal type (`0`, `""`, `false`), and optional pointers print
//! upstream's own markers (`<none>`, `<unset>`, `<unknown>`).

use std::collections::BTreeMap;

use apimachinery::table::{Column, human_duration};
use k8s_openapi::api::core::v1::Container;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, Time};
use serde_json::Value;

mod docs;

pub mod admissionregistration;
pub mod apiextensions;
pub mod apps;
pub mod autoscaling;
pub mod batch;
pub mod certificates;
pub mod coordination;
pub mod core;
pub mod discovery;
pub mod events;
pub mod networking;
pub mod node;
pub mod policy;
pub mod rbac;
pub mod scheduling;
pub mod storage;

/// Text shown for a missing value in many columns.
pub(crate) const NONE: &str = "<none>";
/// Text shown for an unset optional field.
pub(crate) const UNSET: &str = "<unset>";
/// Text shown for an unknown time.
pub(crate) const UNKNOWN: &str = "<unknown>";

/// The printed form of a stored quantity (upstream's canonical `Quantity.String()`).
pub fn format_quantity(q: &str) -> String {
    apimachinery::quantity::text::canonical_quantity(q).unwrap_or_else(|| q.to_string())
}

/// A JSON string cell.
pub(crate) fn s(v: impl Into<String>) -> Value {
    Value::String(v.into())
}

/// A JSON integer cell.
pub(crate) fn int(v: impl Into<i64>) -> Value {
    Value::from(v.into())
}

/// A JSON boolean cell.
pub(crate) fn boolean(v: bool) -> Value {
    Value::Bool(v)
}

/// The object's name.
pub(crate) fn name(meta: &ObjectMeta) -> String {
    meta.name.clone().unwrap_or_default()
}

/// The AGE cell for an object (`<unknown>` without a creation timestamp).
pub(crate) fn age(meta: &ObjectMeta, now: jiff::Timestamp) -> Value {
    s(apimachinery::table::age(
        meta.creation_timestamp.as_ref(),
        now,
    ))
}

/// Whole seconds from `t` to `now`, truncated toward zero like Go's `int(d.Seconds())`.
pub(crate) fn seconds_between(from: jiff::Timestamp, to: jiff::Timestamp) -> i64 {
    let nanos = to.as_nanosecond() - from.as_nanosecond();
    let secs = nanos / 1_000_000_000;
    secs.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// Upstream's `translateTimestampSince`: `<unknown>` for an unset time, otherwise the human
/// duration from `t` to `now`.
pub(crate) fn since(t: Option<jiff::Timestamp>, now: jiff::Timestamp) -> String {
    match t {
        None => UNKNOWN.into(),
        Some(t) => human_duration(seconds_between(t, now)),
    }
}

/// Upstream's `labels.FormatLabels`: `k=v` pairs in key order joined by `,`; `<none>` when empty.
pub(crate) fn format_labels(labels: Option<&BTreeMap<String, String>>) -> String {
    let pairs: Vec<String> = labels
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let mut pairs = pairs;
    pairs.sort();
    if pairs.is_empty() {
        NONE.into()
    } else {
        pairs.join(",")
    }
}

/// Upstream's `metav1.FormatLabelSelector`: the selector string, `<none>` when it is empty (or
/// the selector is absent), `<error>` when it does not convert.
pub(crate) fn format_label_selector(sel: Option<&LabelSelector>) -> String {
    match apimachinery::labels::from_optional_label_selector(sel) {
        Err(_) => "<error>".into(),
        Ok(selector) => {
            let text = selector.to_string();
            if text.is_empty() { NONE.into() } else { text }
        }
    }
}

/// `LabelSelectorAsSelector(sel).String()`, `<invalid>` when the selector does not convert (the
/// deployment printer's form: an empty selector prints as the empty string).
pub(crate) fn selector_string(sel: Option<&LabelSelector>) -> String {
    match apimachinery::labels::from_optional_label_selector(sel) {
        Err(_) => "<invalid>".into(),
        Ok(selector) => selector.to_string(),
    }
}

/// Go's `%v` of a `*metav1.LabelSelector` (its generated `String()` method), which upstream uses
/// for a policy binding's param selector.
pub(crate) fn label_selector_go_string(sel: &LabelSelector) -> String {
    let mut out = String::from("&LabelSelector{MatchLabels:map[string]string{");
    for (k, v) in sel.match_labels.iter().flatten() {
        out.push_str(&format!("{k}: {v},"));
    }
    out.push_str("},MatchExpressions:[]LabelSelectorRequirement{");
    for e in sel.match_expressions.iter().flatten() {
        let values = e.values.as_deref().unwrap_or(&[]).join(" ");
        out.push_str(&format!(
            "LabelSelectorRequirement{{Key:{},Operator:{},Values:[{}],}},",
            e.key, e.operator, values
        ));
    }
    out.push_str("},}");
    out
}

/// Upstream's `layoutContainerCells`: container names and images, each joined by `,`.
pub(crate) fn layout_containers(containers: &[Container]) -> (String, String) {
    let names: Vec<&str> = containers.iter().map(|c| c.name.as_str()).collect();
    let images: Vec<&str> = containers
        .iter()
        .map(|c| c.image.as_deref().unwrap_or(""))
        .collect();
    (names.join(","), images.join(","))
}

/// Upstream's `printBoolPtr`: `True`, `False` or `<unset>`.
pub(crate) fn bool_ptr(v: Option<bool>) -> String {
    match v {
        Some(true) => "True".into(),
        Some(false) => "False".into(),
        None => UNSET.into(),
    }
}

/// Upstream's `listWithMoreString`: the first `max` items joined by `,`, then ` + N more...`;
/// `<unset>` for an empty list.
pub(crate) fn list_with_more(list: &[String], more: bool, count: usize, max: usize) -> String {
    let joined = list.join(",");
    if more {
        return format!("{joined} + {} more...", count - max);
    }
    if joined.is_empty() {
        UNSET.into()
    } else {
        joined
    }
}

/// Go's `net.JoinHostPort`: IPv6 hosts are bracketed.
pub(crate) fn join_host_port(host: &str, port: i32) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// A quantity from a resource map, `0` when the key is missing (Go's zero `Quantity`).
pub(crate) fn map_quantity(
    map: Option<&BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>>,
    key: &str,
) -> String {
    match map.and_then(|m| m.get(key)) {
        Some(q) => format_quantity(&q.0),
        None => "0".into(),
    }
}

/// A `*Quantity` printed with Go's `String()`: `<nil>` when absent.
pub(crate) fn ptr_quantity(
    q: Option<&k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
) -> String {
    match q {
        Some(q) => format_quantity(&q.0),
        None => "<nil>".into(),
    }
}

/// Upstream's `sets.NewString(...).List()` joined: sorted, de-duplicated.
pub(crate) fn sorted_unique(mut items: Vec<String>) -> Vec<String> {
    items.sort();
    items.dedup();
    items
}

/// The RFC 3339 form (seconds, UTC, `Z`) of the default table's `Created At` cell; the zero Go
/// time when unset.
pub(crate) fn rfc3339(t: Option<&Time>) -> String {
    match t {
        Some(t) => t.0.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        None => "0001-01-01T00:00:00Z".into(),
    }
}

/// The columns of upstream's default table (kinds without a printer): `Name`, `Created At`.
pub fn default_columns() -> Vec<Column> {
    vec![
        Column::name(),
        Column {
            name: "Created At",
            type_: "date",
            format: "",
            description: Column::age().description,
            priority: 0,
        },
    ]
}

/// The cells of upstream's default table: the name and the creation time in RFC 3339.
pub fn default_cells(meta: &ObjectMeta) -> Vec<Value> {
    vec![s(name(meta)), s(rfc3339(meta.creation_timestamp.as_ref()))]
}

/// A string column with a description.
pub(crate) const fn col(name: &'static str, description: &'static str) -> Column {
    Column::string(name, description)
}

/// An integer column with a description.
pub(crate) const fn icol(name: &'static str, description: &'static str) -> Column {
    Column::integer(name, description)
}

/// A boolean column with a description.
pub(crate) const fn bcol(name: &'static str, description: &'static str) -> Column {
    Column {
        name,
        type_: "boolean",
        format: "",
        description,
        priority: 0,
    }
}

/// Description shared by the wide `Containers` columns.
pub(crate) const CONTAINERS_DESC: &str = "Names of each container in the template.";
/// Description shared by the wide `Images` columns.
pub(crate) const IMAGES_DESC: &str = "Images referenced by each container in the template.";

#[cfg(test)]
pub(crate) mod testutil {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

    /// A fixed "now" for tests.
    pub fn now() -> jiff::Timestamp {
        "2024-05-01T12:00:00Z".parse().unwrap()
    }

    /// `now` minus the given seconds.
    pub fn ago(secs: i64) -> Time {
        Time(now() - jiff::SignedDuration::from_secs(secs))
    }

    /// Metadata with a name, created `secs` seconds before `now`.
    pub fn meta(name: &str, secs: i64) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            creation_timestamp: Some(ago(secs)),
            ..Default::default()
        }
    }

    /// Cells as JSON for compact comparison.
    pub fn cells(v: Vec<serde_json::Value>) -> serde_json::Value {
        serde_json::Value::Array(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    #[test]
    fn labels_and_selectors() {
        assert_eq!(format_labels(None), "<none>");
        let m: BTreeMap<String, String> =
            [("b".into(), "2".into()), ("a".into(), "1".into())].into();
        assert_eq!(format_labels(Some(&m)), "a=1,b=2");
        assert_eq!(format_label_selector(None), "<none>");
        assert_eq!(
            format_label_selector(Some(&LabelSelector::default())),
            "<none>"
        );
        let sel = LabelSelector {
            match_labels: Some([("app".into(), "web".into())].into()),
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "tier".into(),
                operator: "In".into(),
                values: Some(vec!["b".into(), "a".into()]),
            }]),
        };
        assert_eq!(format_label_selector(Some(&sel)), "app=web,tier in (a,b)");
        assert_eq!(selector_string(Some(&sel)), "app=web,tier in (a,b)");
        assert_eq!(selector_string(None), "");
        let bad = LabelSelector {
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "k".into(),
                operator: "Bogus".into(),
                values: None,
            }]),
            ..Default::default()
        };
        assert_eq!(format_label_selector(Some(&bad)), "<error>");
        assert_eq!(selector_string(Some(&bad)), "<invalid>");
        assert_eq!(
            label_selector_go_string(&sel),
            "&LabelSelector{MatchLabels:map[string]string{app: web,},MatchExpressions:[]LabelSelectorRequirement{LabelSelectorRequirement{Key:tier,Operator:In,Values:[b a],},},}"
        );
    }

    #[test]
    fn since_truncates_toward_zero() {
        let now = testutil::now();
        let t = now - jiff::SignedDuration::from_millis(119_900);
        assert_eq!(since(Some(t), now), "119s");
        assert_eq!(since(None, now), "<unknown>");
        let future = now + jiff::SignedDuration::from_millis(1_500);
        assert_eq!(since(Some(future), now), "0s");
        let far_future = now + jiff::SignedDuration::from_secs(30);
        assert_eq!(since(Some(far_future), now), "<invalid>");
    }

    #[test]
    fn host_ports_and_lists() {
        assert_eq!(join_host_port("10.0.0.1", 80), "10.0.0.1:80");
        assert_eq!(join_host_port("fd00::1", 80), "[fd00::1]:80");
        assert_eq!(list_with_more(&[], false, 0, 3), "<unset>");
        let l = vec!["a".to_string(), "b".into(), "c".into()];
        assert_eq!(list_with_more(&l, true, 5, 3), "a,b,c + 2 more...");
    }

    #[test]
    fn default_table() {
        let cols = default_columns();
        assert_eq!(cols[1].name, "Created At");
        assert_eq!(cols[1].type_, "date");
        let m = testutil::meta("x", 30);
        assert_eq!(default_cells(&m), vec![s("x"), s("2024-05-01T11:59:30Z")]);
        assert_eq!(
            default_cells(&ObjectMeta::default())[1],
            s("0001-01-01T00:00:00Z")
        );
    }
}
