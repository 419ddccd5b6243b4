//! `metadata.managedFields` entries: decoding into per-manager field sets keyed by upstream's
//! manager identifier, and encoding back in upstream's order.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::fieldpath::FieldSet;
use super::gojson::{self, Flavor};

/// What one manager owns.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Versioned {
    pub set: FieldSet,
    pub api_version: String,
    pub applied: bool,
}

/// Managers by identifier, with their entries' times.
#[derive(Clone, Debug, Default)]
pub(crate) struct Managed {
    pub fields: BTreeMap<String, Versioned>,
    /// Normalized RFC 3339 times by identifier (absent: no time).
    pub times: BTreeMap<String, String>,
}

/// The parts of an entry that identify its manager.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct ManagerInfo {
    pub manager: String,
    pub operation: String,
    pub api_version: String,
    pub subresource: String,
}

impl ManagerInfo {
    /// Upstream's identifier: the JSON of the entry without time and fields (and without the
    /// apiVersion for Apply entries, so an applier keeps one entry across versions).
    pub fn identifier(&self) -> String {
        let mut out = String::from("{");
        let mut first = true;
        let mut field = |out: &mut String, k: &str, v: &str| {
            if v.is_empty() {
                return;
            }
            if !first {
                out.push(',');
            }
            first = false;
            gojson::write_string(out, k, Flavor::Std);
            out.push(':');
            gojson::write_string(out, v, Flavor::Std);
        };
        field(&mut out, "manager", &self.manager);
        field(&mut out, "operation", &self.operation);
        if self.operation != "Apply" {
            field(&mut out, "apiVersion", &self.api_version);
        }
        field(&mut out, "subresource", &self.subresource);
        out.push('}');
        out
    }

    /// Parses an identifier back.
    pub fn from_identifier(id: &str) -> Option<ManagerInfo> {
        let v: Value = serde_json::from_str(id).ok()?;
        let o = v.as_object()?;
        let s = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        Some(ManagerInfo { manager: s("manager"), operation: s("operation"), api_version: s("apiVersion"), subresource: s("subresource") })
    }
}

/// A timestamp as `metav1.Time` writes it (UTC, whole seconds); `None` if unparseable.
pub(crate) fn normalize_time(s: &str) -> Option<String> {
    let ts: jiff::Timestamp = s.parse().ok()?;
    Some(ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
}

fn unix_seconds(t: Option<&String>) -> i64 {
    t.and_then(|s| s.parse::<jiff::Timestamp>().ok()).map(|t| t.as_second()).unwrap_or(0)
}

/// Decodes managedFields entries (upstream's `DecodeManagedFields`).
pub(crate) fn decode(entries: &[Value]) -> Result<Managed, String> {
    let mut m = Managed::default();
    for (i, e) in entries.iter().enumerate() {
        let o = e.as_object().ok_or_else(|| format!("managed fields entry {i} is not an object"))?;
        let s = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let operation = s("operation");
        if operation != "Apply" && operation != "Update" {
            return Err("operation must be `Apply` or `Update`".into());
        }
        let api_version = s("apiVersion");
        if api_version.is_empty() {
            return Err("apiVersion must not be empty".into());
        }
        match s("fieldsType").as_str() {
            "FieldsV1" => {}
            "" => return Err(format!("missing fieldsType in managed fields entry {i}")),
            other => return Err(format!("invalid fieldsType {other:?} in managed fields entry {i}")),
        }
        let info = ManagerInfo { manager: s("manager"), operation: operation.clone(), api_version: api_version.clone(), subresource: s("subresource") };
        let set = match o.get("fieldsV1") {
            None | Some(Value::Null) => FieldSet::new(),
            Some(f) => FieldSet::from_fields_v1(f).map_err(|e| format!("error decoding set: {e}"))?,
        };
        let id = info.identifier();
        m.fields.insert(id.clone(), Versioned { set, api_version, applied: operation == "Apply" });
        match o.get("time") {
            Some(Value::String(t)) if !t.is_empty() => {
                let n = normalize_time(t).ok_or_else(|| format!("invalid time {t:?} in managed fields entry {i}"))?;
                m.times.insert(id, n);
            }
            _ => {
                m.times.remove(&id);
            }
        }
    }
    Ok(m)
}

/// Encodes managers as managedFields entries in upstream's order (operation, time, manager,
/// apiVersion, subresource).
pub(crate) fn encode(m: &Managed) -> Vec<Value> {
    struct E {
        info: ManagerInfo,
        time: Option<String>,
        value: Value,
    }
    let mut out: Vec<E> = Vec::new();
    for (id, vs) in &m.fields {
        let mut info = ManagerInfo::from_identifier(id).unwrap_or_default();
        info.api_version = vs.api_version.clone();
        if vs.applied {
            info.operation = "Apply".into();
        }
        let time = m.times.get(id).cloned();
        let mut o = Map::new();
        if !info.manager.is_empty() {
            o.insert("manager".into(), Value::String(info.manager.clone()));
        }
        if !info.operation.is_empty() {
            o.insert("operation".into(), Value::String(info.operation.clone()));
        }
        o.insert("apiVersion".into(), Value::String(info.api_version.clone()));
        if let Some(t) = &time {
            o.insert("time".into(), Value::String(t.clone()));
        }
        o.insert("fieldsType".into(), Value::String("FieldsV1".into()));
        o.insert("fieldsV1".into(), vs.set.to_fields_v1());
        if !info.subresource.is_empty() {
            o.insert("subresource".into(), Value::String(info.subresource.clone()));
        }
        out.push(E { info, time, value: Value::Object(o) });
    }
    out.sort_by(|p, q| {
        p.info
            .operation
            .cmp(&q.info.operation)
            .then_with(|| unix_seconds(p.time.as_ref()).cmp(&unix_seconds(q.time.as_ref())))
            .then_with(|| p.info.manager.cmp(&q.info.manager))
            .then_with(|| p.info.api_version.cmp(&q.info.api_version))
            .then_with(|| p.info.subresource.cmp(&q.info.subresource))
    });
    out.into_iter().map(|e| e.value).collect()
}

/// Whether request managedFields ask for a reset (`[]` or `[{}]`).
pub(crate) fn is_reset(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Array(a)) => a.is_empty() || (a.len() == 1 && a[0].as_object().is_some_and(Map::is_empty)),
        _ => false,
    }
}

const MAX_UPDATE_MANAGERS: usize = 10;

/// Folds the oldest Update managers beyond ten into `ancient-changes` entries, one per API
/// version (upstream's capManagersManager).
pub(crate) fn cap_update_managers(m: &mut Managed) {
    let mut updaters: Vec<String> = m.fields.iter().filter(|(_, v)| !v.applied).map(|(k, _)| k.clone()).collect();
    if updaters.len() <= MAX_UPDATE_MANAGERS {
        return;
    }
    updaters.sort_by(|a, b| unix_seconds(m.times.get(a)).cmp(&unix_seconds(m.times.get(b))).then_with(|| a.cmp(b)));
    let mut first_by_version: BTreeMap<String, String> = BTreeMap::new();
    let mut length = updaters.len();
    for manager in updaters {
        if length <= MAX_UPDATE_MANAGERS {
            break;
        }
        let Some(vs) = m.fields.get(&manager).cloned() else { continue };
        let time = m.times.get(&manager).cloned();
        let bucket = ManagerInfo {
            manager: "ancient-changes".into(),
            operation: "Update".into(),
            api_version: vs.api_version.clone(),
            subresource: String::new(),
        }
        .identifier();
        if let Some(first) = first_by_version.get(&vs.api_version) {
            if !m.fields.contains_key(&bucket)
                && let Some(s) = m.fields.remove(first)
            {
                m.fields.insert(bucket.clone(), s);
            }
            let prev = m.fields.get(&bucket).map(|b| b.set.clone()).unwrap_or_default();
            m.fields.insert(bucket.clone(), Versioned { set: vs.set.union(&prev), api_version: vs.api_version.clone(), applied: vs.applied });
            m.fields.remove(&manager);
            length -= 1;
            match time {
                Some(t) => m.times.insert(bucket, t),
                None => m.times.remove(&bucket),
            };
        } else {
            first_by_version.insert(vs.api_version.clone(), manager);
        }
    }
}
