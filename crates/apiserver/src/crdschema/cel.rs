//! `x-kubernetes-validations` (CEL) rules, evaluated with the `cel` crate as upstream's
//! `schema/cel` validator evaluates them: `self` (and `oldSelf` for transition rules, which
//! run only when an old value correlates), `message`/`messageExpression`, `fieldPath`,
//! `reason`, and upstream's error texts (`spec: Invalid value: "object": failed rule: ...`).
//!
//! Values reach CEL typed by the schema as upstream types them: `integer` → int, `number` →
//! double, strings with format `date`/`date-time` → timestamp, `duration` → duration,
//! `byte` → bytes; objects with properties expose only their properties (names escaped:
//! `foo-bar` → `foo__dash__bar`), embedded resources and the root also `apiVersion`, `kind`
//! and `metadata.name`/`metadata.generateName`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use apimachinery::field::FieldError;
use cel::extractors::This;
use cel::objects::{Key, Map as CelMap, OptionalValue};
use cel::{Context, Env, ExecutionError, Program, Value as CelValue};
use serde_json::Value;

use super::gofmt::{Num, num};
use super::openapi::{correlate_index, correlated_equal};
use super::prune::parse_rfc3339_ts;
use super::schema::{Schema, ValidationRule};

fn env() -> Arc<Env> {
    static ENV: OnceLock<Arc<Env>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Env::stdlib();
        env.add_extension(cel::extensions::strings)
            .expect("strings extension");
        env.add_extension(cel::extensions::lists)
            .expect("lists extension");
        Arc::new(env)
    })
    .clone()
}

/// A compiled rule or message expression, with whether it references `oldSelf`.
#[derive(Clone)]
pub(crate) struct Compiled {
    pub(crate) program: Arc<Program>,
    pub(crate) uses_old_self: bool,
}

/// Compiles a CEL expression (cached). The error is the parser's report.
pub(crate) fn compile(src: &str) -> Result<Compiled, String> {
    static CACHE: OnceLock<Mutex<HashMap<String, Result<Compiled, String>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(c) = cache.lock().expect("cel cache").get(src) {
        return c.clone();
    }
    let r = env().compile(src).map(|p| {
        let uses_old_self = p.references().has_variable("oldSelf");
        Compiled {
            program: Arc::new(p),
            uses_old_self,
        }
    });
    let r = r.map_err(|e| e.to_string());
    let mut c = cache.lock().expect("cel cache");
    if c.len() > 4096 {
        c.clear();
    }
    c.insert(src.to_string(), r.clone());
    r
}

/// Evaluates a boolean CEL expression over JSON variables (admission webhooks'
/// `matchConditions`: `object`, `oldObject`, `request`). An expression that does not compile,
/// fails, or is not a boolean is an error.
pub fn eval_bool(expr: &str, vars: &[(&str, &Value)]) -> Result<bool, String> {
    let compiled = compile(expr)?;
    let mut ctx = Context::with_env(env());
    add_k8s_functions(&mut ctx);
    for (name, v) in vars {
        ctx.add_variable_from_value(*name, to_cel(v, None, false));
    }
    match compiled.program.execute(&ctx) {
        Ok(CelValue::Bool(b)) => Ok(b),
        Ok(other) => Err(format!("expression evaluated to {other:?}, not a boolean")),
        Err(e) => Err(e.to_string()),
    }
}

const RESERVED: &[&str] = &[
    "true",
    "false",
    "null",
    "in",
    "as",
    "break",
    "const",
    "continue",
    "else",
    "for",
    "function",
    "if",
    "import",
    "let",
    "loop",
    "package",
    "namespace",
    "return",
    "var",
    "void",
    "while",
];

/// Upstream `cel.Escape`: the CEL name of a property, or `None` when it cannot be accessed.
pub fn escape(ident: &str) -> Option<String> {
    if ident.is_empty() || ident.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    if RESERVED.contains(&ident) {
        return Some(format!("__{ident}__"));
    }
    if !ident
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/'))
    {
        return None;
    }
    let mut out = String::new();
    let mut rest = ident;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("__") {
            out.push_str("__underscores__");
            rest = r;
            continue;
        }
        let c = rest.chars().next().expect("non-empty");
        match c {
            '.' => out.push_str("__dot__"),
            '-' => out.push_str("__dash__"),
            '/' => out.push_str("__slash__"),
            c => out.push(c),
        }
        rest = &rest[c.len_utf8()..];
    }
    Some(out)
}

fn cel_map(entries: Vec<(String, CelValue)>) -> CelValue {
    let m: HashMap<Key, CelValue> = entries
        .into_iter()
        .map(|(k, v)| (Key::String(Arc::new(k)), v))
        .collect();
    CelValue::Map(CelMap { map: Arc::new(m) })
}

/// A value without a schema (inside `x-kubernetes-preserve-unknown-fields`).
fn dyn_value(v: &Value) -> CelValue {
    match v {
        Value::Null => CelValue::Null,
        Value::Bool(b) => CelValue::Bool(*b),
        Value::Number(_) => match num(v) {
            Some(Num::Int(i)) => CelValue::Int(i),
            Some(Num::Float(f)) => CelValue::Float(f),
            None => CelValue::Null,
        },
        Value::String(s) => CelValue::String(Arc::new(s.clone())),
        Value::Array(a) => CelValue::List(Arc::new(a.iter().map(dyn_value).collect())),
        Value::Object(m) => cel_map(m.iter().map(|(k, v)| (k.clone(), dyn_value(v))).collect()),
    }
}

/// Converts a value to CEL, typed by its schema (upstream `UnstructuredToVal`).
pub(crate) fn to_cel(v: &Value, s: Option<&Schema>, resource_root: bool) -> CelValue {
    let Some(s) = s else { return dyn_value(v) };
    if v.is_null() {
        return CelValue::Null;
    }
    if s.x_int_or_string {
        return dyn_value(v);
    }
    match (s.type_.as_str(), v) {
        ("object", Value::Object(m)) | ("", Value::Object(m)) => {
            if s.has_properties() || resource_root {
                let mut entries = Vec::new();
                for (k, x) in m {
                    if resource_root && (k == "apiVersion" || k == "kind") {
                        entries.push((k.clone(), dyn_value(x)));
                        continue;
                    }
                    if resource_root && k == "metadata" {
                        let meta: Vec<(String, CelValue)> = x
                            .as_object()
                            .map(|mm| {
                                mm.iter()
                                    .filter(|(mk, _)| *mk == "name" || *mk == "generateName")
                                    .map(|(mk, mv)| (mk.clone(), dyn_value(mv)))
                                    .collect()
                            })
                            .unwrap_or_default();
                        entries.push((k.clone(), cel_map(meta)));
                        continue;
                    }
                    if let Some(ps) = s.property(k)
                        && let Some(name) = escape(k)
                    {
                        entries.push((name, to_cel(x, Some(ps), ps.x_embedded_resource)));
                    }
                }
                cel_map(entries)
            } else if let Some(ap) = s.additional_schema() {
                cel_map(
                    m.iter()
                        .map(|(k, x)| (k.clone(), to_cel(x, Some(ap), ap.x_embedded_resource)))
                        .collect(),
                )
            } else {
                dyn_value(v)
            }
        }
        ("array", Value::Array(a)) => {
            let items = s.items.as_deref();
            CelValue::List(Arc::new(
                a.iter()
                    .map(|x| to_cel(x, items, items.is_some_and(|i| i.x_embedded_resource)))
                    .collect(),
            ))
        }
        ("integer", _) => match num(v) {
            Some(Num::Int(i)) => CelValue::Int(i),
            Some(Num::Float(f)) => CelValue::Int(f as i64),
            None => dyn_value(v),
        },
        ("number", _) => match num(v) {
            Some(Num::Int(i)) => CelValue::Float(i as f64),
            Some(Num::Float(f)) => CelValue::Float(f),
            None => dyn_value(v),
        },
        ("string", Value::String(st)) => match s.format.as_str() {
            "byte" => {
                use base64_decode as b64;
                match b64(st) {
                    Some(b) => CelValue::Bytes(Arc::new(b)),
                    None => CelValue::String(Arc::new(st.clone())),
                }
            }
            "duration" => match parse_go_duration(st) {
                Some(d) => CelValue::Duration(d),
                None => CelValue::String(Arc::new(st.clone())),
            },
            "date" => match super::formats::is_date(st)
                .then(|| parse_rfc3339_ts(&format!("{st}T00:00:00Z")))
                .flatten()
            {
                Some(t) => timestamp(t),
                None => CelValue::String(Arc::new(st.clone())),
            },
            "date-time" | "datetime" => match parse_rfc3339_ts(st) {
                Some(t) => timestamp(t),
                None => CelValue::String(Arc::new(st.clone())),
            },
            _ => CelValue::String(Arc::new(st.clone())),
        },
        _ => dyn_value(v),
    }
}

fn timestamp(t: jiff::Timestamp) -> CelValue {
    use chrono::TimeZone;
    let utc = chrono::FixedOffset::east_opt(0).expect("utc offset");
    match utc.timestamp_opt(t.as_second(), t.subsec_nanosecond() as u32) {
        chrono::LocalResult::Single(dt) => CelValue::Timestamp(dt),
        _ => CelValue::Null,
    }
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let clean: Vec<u8> = s.bytes().filter(|b| *b != b'=').collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    let mut buf = 0u32;
    let mut bits = 0;
    for c in clean {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        buf = (buf << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn parse_go_duration(s: &str) -> Option<chrono::Duration> {
    if !super::formats::go_parse_duration(s) {
        return None;
    }
    let (neg, mut t) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let mut total: f64 = 0.0;
    while !t.is_empty() {
        let nlen = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let n: f64 = t[..nlen].parse().ok()?;
        t = &t[nlen..];
        let ulen = t
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(t.len());
        let mult = match &t[..ulen] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "" => 0.0,
            _ => return None,
        };
        total += n * mult;
        t = &t[ulen..];
    }
    let ns = if neg { -total } else { total };
    Some(chrono::Duration::nanoseconds(ns as i64))
}

/// Kubernetes' CEL library functions that the `cel` crate lacks, on lists.
fn add_k8s_functions(ctx: &mut Context<'_, '_>) {
    fn cmp(a: &CelValue, b: &CelValue) -> Option<std::cmp::Ordering> {
        a.partial_cmp(b)
    }
    let _ = ctx.add_function(
        "isSorted",
        |This(l): This<Arc<Vec<CelValue>>>| -> Result<bool, ExecutionError> {
            Ok(l.windows(2)
                .all(|w| cmp(&w[0], &w[1]) != Some(std::cmp::Ordering::Greater)))
        },
    );
    let _ = ctx.add_function(
        "sum",
        |This(l): This<Arc<Vec<CelValue>>>| -> Result<CelValue, ExecutionError> {
            let mut acc: Option<CelValue> = None;
            for v in l.iter() {
                acc = Some(match (acc, v) {
                    (None, v) => v.clone(),
                    (Some(CelValue::Int(a)), CelValue::Int(b)) => {
                        CelValue::Int(a.checked_add(*b).ok_or_else(|| {
                            ExecutionError::function_error("sum", "integer overflow")
                        })?)
                    }
                    (Some(CelValue::UInt(a)), CelValue::UInt(b)) => {
                        CelValue::UInt(a.wrapping_add(*b))
                    }
                    (Some(CelValue::Float(a)), CelValue::Float(b)) => CelValue::Float(a + b),
                    (Some(CelValue::Duration(a)), CelValue::Duration(b)) => {
                        CelValue::Duration(a + *b)
                    }
                    _ => return Err(ExecutionError::function_error("sum", "no such overload")),
                });
            }
            Ok(acc.unwrap_or(CelValue::Int(0)))
        },
    );
    fn pick(
        l: &[CelValue],
        want: std::cmp::Ordering,
        name: &str,
    ) -> Result<CelValue, ExecutionError> {
        let mut best: Option<&CelValue> = None;
        for v in l {
            best = match best {
                None => Some(v),
                Some(b) if cmp(v, b) == Some(want) => Some(v),
                keep => keep,
            };
        }
        best.cloned().ok_or_else(|| {
            ExecutionError::function_error(name, format!("{name} called on empty list"))
        })
    }
    let _ = ctx.add_function("min", |This(l): This<Arc<Vec<CelValue>>>| {
        pick(&l, std::cmp::Ordering::Less, "min")
    });
    let _ = ctx.add_function("max", |This(l): This<Arc<Vec<CelValue>>>| {
        pick(&l, std::cmp::Ordering::Greater, "max")
    });
}

/// cel-go's text for an evaluation error.
fn error_text(e: &ExecutionError) -> String {
    match e {
        ExecutionError::NoSuchKey(k) => format!("no such key: {k}"),
        ExecutionError::DivisionByZero(_) => "division by zero".into(),
        ExecutionError::RemainderByZero(_) => "modulus by zero".into(),
        ExecutionError::Overflow(..) => "integer overflow".into(),
        ExecutionError::IndexOutOfBounds(i) => format!("index out of bounds: {}", cel_display(i)),
        ExecutionError::NoSuchOverload(_)
        | ExecutionError::UnsupportedBinaryOperator(..)
        | ExecutionError::ValuesNotComparable(..) => "no such overload".into(),
        ExecutionError::FunctionError { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

fn cel_display(v: &CelValue) -> String {
    match v {
        CelValue::Int(i) => i.to_string(),
        CelValue::UInt(u) => u.to_string(),
        CelValue::String(s) => s.to_string(),
        other => format!("{other:?}"),
    }
}

/// The type upstream reports as the bad value of a rule failure: the schema's type.
fn type_value(s: &Schema) -> Value {
    Value::String(s.type_.clone())
}

fn rule_error_string(r: &ValidationRule) -> String {
    if !r.message.is_empty() {
        r.message.trim().to_string()
    } else {
        r.rule.trim().to_string()
    }
}

fn rule_message_or_default(r: &ValidationRule) -> String {
    if r.message.is_empty() {
        format!("failed rule: {}", rule_error_string(r))
    } else {
        r.message.trim().to_string()
    }
}

fn field_error_for_reason(
    path: String,
    s: &Schema,
    detail: String,
    reason: Option<&str>,
) -> FieldError {
    match reason {
        Some("FieldValueForbidden") => FieldError::forbidden(path, detail),
        Some("FieldValueRequired") => FieldError::required(path, detail),
        Some("FieldValueDuplicate") => FieldError::duplicate(path, type_value(s)),
        _ => FieldError::invalid(path, type_value(s), detail),
    }
}

/// The field path a rule's `fieldPath` points at, relative to the rule's node, in field-path
/// form (`.spec['a.b'].c` → `spec[a.b].c`); `Err` when it does not name a field of `s`.
pub(crate) fn valid_field_path(json_path: &str, s: &Schema) -> Result<String, String> {
    fn step(cur: &Schema, name: &str, out: &mut String) -> Result<Schema, String> {
        if cur.properties.is_some() {
            let Some(p) = cur.property(name) else {
                return Err("does not refer to a valid field".into());
            };
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(name);
            Ok(p.clone())
        } else if let Some(ap) = &cur.additional_properties {
            out.push_str(&format!("[{name}]"));
            Ok(ap.schema().cloned().unwrap_or_default())
        } else {
            Err("does not refer to a valid field".into())
        }
    }
    let b = json_path;
    let bytes = b.as_bytes();
    let mut out = String::new();
    let mut cur = s.clone();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'.' => {
                let start = i + 1;
                if start >= b.len() {
                    return Err("unexpected end of JSON path".into());
                }
                let end = b[start..]
                    .find(['.', '[', ']'])
                    .map(|e| e + start)
                    .unwrap_or(b.len());
                cur = step(&cur, &b[start..end], &mut out)?;
                i = end;
            }
            b'[' => {
                let rest = &b[i + 1..];
                if !rest.starts_with('\'') {
                    let tok_end = rest.find(['.', '[', ']']).unwrap_or(rest.len());
                    return Err(format!(
                        "expected single quoted string but got {}",
                        &rest[..tok_end]
                    ));
                }
                let rb = rest.as_bytes();
                let mut j = 1;
                while j < rb.len() && !(rb[j] == b'\'' && rb[j - 1] != b'\\') {
                    j += 1;
                }
                if j >= rb.len() {
                    return Err("unexpected end of JSON path".into());
                }
                let name = rest[1..j].replace("\\'", "'").replace("\\\\", "\\");
                cur = step(&cur, &name, &mut out)?;
                let after = &rest[j + 1..];
                if !after.starts_with(']') {
                    return Err(format!("expected ] but got {after}"));
                }
                i += j + 3;
            }
            _ => {
                let end = b[i..]
                    .find(['.', '[', ']'])
                    .map(|e| e + i)
                    .unwrap_or(b.len());
                return Err(format!("expected [ or . but got: {}", &b[i..end]));
            }
        }
    }
    Ok(out)
}

/// Evaluation results: errors, and the failures of unchanged values that ratcheting turns
/// into warnings.
#[derive(Default)]
pub(crate) struct CelOutcome {
    pub(crate) errors: Vec<FieldError>,
    pub(crate) warnings: Vec<FieldError>,
}

/// Ratcheting state (upstream `ratchetingOptions`): the old value of the current node when it
/// correlates, else whether the nearest correlatable ancestor is unchanged.
#[derive(Clone, Copy)]
struct Ratchet<'o> {
    current: Option<&'o Value>,
    parent_unchanged: bool,
}

/// Runs every `x-kubernetes-validations` rule of `s` over `obj` (upstream
/// `cel.Validator.Validate`, with ratcheting when `old` is given).
pub(crate) fn validate_with(
    base: Option<&str>,
    s: &Schema,
    obj: &Value,
    old: Option<&Value>,
    is_resource_root: bool,
    ratcheting: bool,
) -> CelOutcome {
    let mut out = CelOutcome::default();
    if !s.has_x_validations() {
        return out;
    }
    let r = Ratchet {
        current: if ratcheting { old } else { None },
        parent_unchanged: false,
    };
    walk(base, s, obj, old, is_resource_root, r, &mut out);
    out
}

fn child_path(base: Option<&str>, k: &str) -> String {
    match base {
        Some(b) if !b.is_empty() => format!("{b}.{k}"),
        _ => k.to_string(),
    }
}

fn walk(
    base: Option<&str>,
    s: &Schema,
    obj: &Value,
    old: Option<&Value>,
    root: bool,
    r: Ratchet<'_>,
    out: &mut CelOutcome,
) {
    if obj.is_null() {
        return;
    }
    let unchanged = |r: &Ratchet<'_>| match r.current {
        Some(o) => correlated_equal(o, obj, s),
        None => r.parent_unchanged,
    };
    if !s.x_validations.is_empty() {
        let ratchet_now = unchanged(&r);
        eval_rules(base, s, obj, old, root, ratchet_now, out);
    }
    match obj {
        Value::Array(a) => {
            let Some(items) = s.items.as_deref() else {
                return;
            };
            if !items.has_x_validations() {
                return;
            }
            let parent_unchanged = unchanged(&r);
            for (i, x) in a.iter().enumerate() {
                let old_item = old.and_then(|o| correlate_index(s, o, obj, i));
                let cr = match r.current {
                    Some(o) => Ratchet {
                        current: correlate_index(s, o, obj, i),
                        parent_unchanged,
                    },
                    None => r,
                };
                let p = format!("{}[{i}]", base.unwrap_or("<nil>"));
                walk(
                    Some(&p),
                    items,
                    x,
                    old_item,
                    items.x_embedded_resource,
                    cr,
                    out,
                );
            }
        }
        Value::Object(m) => {
            let correlatable = matches!(
                s.x_map_type.as_deref(),
                None | Some("granular") | Some("atomic")
            );
            let parent_unchanged = || unchanged(&r);
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let key_ratchet = |k: &str| -> Ratchet<'_> {
                match r.current {
                    None => r,
                    Some(_) if root && (k == "apiVersion" || k == "kind") => Ratchet {
                        current: None,
                        parent_unchanged: false,
                    },
                    Some(o) => Ratchet {
                        current: o
                            .as_object()
                            .and_then(|om| om.get(k))
                            .filter(|_| s.child(k).is_some()),
                        parent_unchanged: parent_unchanged(),
                    },
                }
            };
            if let Some(ap) = s.additional_schema()
                && ap.has_x_validations()
            {
                for k in &keys {
                    let old_v = if correlatable {
                        old.and_then(|o| o.get(k.as_str()))
                    } else {
                        None
                    };
                    let p = format!("{}[{k}]", base.unwrap_or("<nil>"));
                    walk(
                        Some(&p),
                        ap,
                        &m[k.as_str()],
                        old_v,
                        ap.x_embedded_resource,
                        key_ratchet(k),
                        out,
                    );
                }
            }
            for k in &keys {
                if let Some(ps) = s.property(k)
                    && ps.has_x_validations()
                {
                    let old_v = if correlatable {
                        old.and_then(|o| o.get(k.as_str()))
                    } else {
                        None
                    };
                    let p = child_path(base, k);
                    walk(
                        Some(&p),
                        ps,
                        &m[k.as_str()],
                        old_v,
                        ps.x_embedded_resource,
                        key_ratchet(k),
                        out,
                    );
                }
            }
        }
        _ => {}
    }
}

fn eval_rules(
    base: Option<&str>,
    s: &Schema,
    obj: &Value,
    old: Option<&Value>,
    root: bool,
    ratchet: bool,
    out: &mut CelOutcome,
) {
    let path = base.unwrap_or("<nil>").to_string();
    let self_val = to_cel(obj, Some(s), root);
    let old_val = old.map(|o| to_cel(o, Some(s), root));
    for rule in &s.x_validations {
        if rule.rule.trim().is_empty() {
            continue;
        }
        let compiled = match compile(&rule.rule) {
            Ok(c) => c,
            Err(e) => {
                out.errors.push(FieldError::invalid(
                    path.clone(),
                    type_value(s),
                    format!("rule compile error: {e}"),
                ));
                continue;
            }
        };
        let optional_old_self = rule.optional_old_self == Some(true);
        if compiled.uses_old_self && old_val.is_none() && !optional_old_self {
            continue;
        }
        let mut ctx = Context::with_env(env());
        add_k8s_functions(&mut ctx);
        ctx.add_variable_from_value("self", self_val.clone());
        if optional_old_self {
            let o = match &old_val {
                Some(v) => OptionalValue::of(v.clone()),
                None => OptionalValue::none(),
            };
            ctx.add_variable_from_value("oldSelf", CelValue::Opaque(Arc::new(o)));
        } else if let Some(o) = &old_val {
            ctx.add_variable_from_value("oldSelf", o.clone());
        }
        let result = compiled.program.execute(&ctx);
        let mut err_path = path.clone();
        if !rule.field_path.is_empty()
            && let Ok(fp) = valid_field_path(&rule.field_path, s)
            && !fp.is_empty()
        {
            err_path = if base.is_none() {
                fp
            } else if fp.starts_with('[') {
                format!("{err_path}{fp}")
            } else {
                format!("{err_path}.{fp}")
            };
        }
        let push = |e: FieldError, out: &mut CelOutcome| {
            if !compiled.uses_old_self && ratchet {
                out.warnings.push(e)
            } else {
                out.errors.push(e)
            }
        };
        match result {
            Err(e) => {
                let t = error_text(&e);
                let detail = if t.starts_with("no such overload") {
                    format!(
                        "'{t}': call arguments did not match a supported operator, function or macro signature for rule: {}",
                        rule_error_string(rule)
                    )
                } else {
                    format!("{t} evaluating rule: {}", rule_error_string(rule))
                };
                out.errors
                    .push(FieldError::invalid(path.clone(), type_value(s), detail));
            }
            Ok(CelValue::Bool(true)) => {}
            Ok(_) => {
                let detail = if rule.message_expression.trim().is_empty() {
                    rule_message_or_default(rule)
                } else {
                    match eval_message_expression(&rule.message_expression, &ctx) {
                        Ok(m) => m,
                        Err(_) => rule_message_or_default(rule),
                    }
                };
                push(
                    field_error_for_reason(err_path, s, detail, rule.reason.as_deref()),
                    out,
                );
            }
        }
    }
}

/// Upstream `evalMessageExpression`: the trimmed string, or why it cannot be used.
fn eval_message_expression(src: &str, ctx: &Context<'_, '_>) -> Result<String, String> {
    let c = compile(src)?;
    match c.program.execute(ctx) {
        Err(e) => Err(format!(
            "messageExpression evaluation failed due to: {}",
            error_text(&e)
        )),
        Ok(CelValue::String(s)) => {
            let t = s.trim();
            if t.len() > 5 * 1024 {
                Err(format!(
                    "messageExpression beyond allowable length of {}",
                    5 * 1024
                ))
            } else if t.contains('\n') {
                Err("messageExpression should not contain line breaks".into())
            } else if t.is_empty() {
                Err("messageExpression should evaluate to a non-empty string".into())
            } else {
                Ok(t.to_string())
            }
        }
        Ok(_) => Err("messageExpression failed to convert to string".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(escape("foo-bar").as_deref(), Some("foo__dash__bar"));
        assert_eq!(escape("a.b/c").as_deref(), Some("a__dot__b__slash__c"));
        assert_eq!(escape("x__y").as_deref(), Some("x__underscores__y"));
        assert_eq!(escape("namespace").as_deref(), Some("__namespace__"));
        assert_eq!(escape("a b"), None);
    }

    #[test]
    fn durations_and_bytes() {
        assert_eq!(
            parse_go_duration("1h30m"),
            Some(chrono::Duration::minutes(90))
        );
        assert_eq!(base64_decode("aGk="), Some(b"hi".to_vec()));
    }
}
