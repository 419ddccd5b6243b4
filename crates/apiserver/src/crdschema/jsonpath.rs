//! The JSONPath subset CRDs use for `additionalPrinterColumns` and `selectableFields`
//! (client-go's `jsonpath` with missing keys allowed): `.a.b`, `['a.b']`, `[0]`, `[-1]`,
//! `[*]`, `.*`, `[1:3]`, `..name` and filters `[?(@.type=="Ready")]` (`==`, `!=`, `<`,
//! `<=`, `>`, `>=`, or bare existence).

use serde_json::Value;

use super::gofmt::{Num, go_float, num};

#[derive(Clone, Debug, PartialEq)]
enum Step {
    Field(String),
    Recursive(String),
    Index(i64),
    Slice(Option<i64>, Option<i64>),
    Wildcard,
    Filter(Filter),
}

#[derive(Clone, Debug, PartialEq)]
struct Filter {
    left: Vec<Step>,
    op: Option<String>,
    right: Option<Operand>,
}

#[derive(Clone, Debug, PartialEq)]
enum Operand {
    Literal(Value),
    Path(Vec<Step>),
}

/// Parses a path such as `.status.conditions[?(@.type=="Ready")].status` (an optional
/// surrounding `{...}` is accepted).
fn parse(path: &str) -> Result<Vec<Step>, String> {
    let p = path.trim();
    let p = p
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(p);
    let p = p.strip_prefix('$').unwrap_or(p);
    let mut steps = Vec::new();
    let b = p.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'.' => {
                if b.get(i + 1) == Some(&b'.') {
                    let start = i + 2;
                    let end = ident_end(p, start);
                    steps.push(Step::Recursive(p[start..end].to_string()));
                    i = end;
                    continue;
                }
                let start = i + 1;
                if b.get(start) == Some(&b'*') {
                    steps.push(Step::Wildcard);
                    i = start + 1;
                    continue;
                }
                let end = ident_end(p, start);
                if end > start {
                    steps.push(Step::Field(p[start..end].to_string()));
                }
                i = end;
            }
            b'[' => {
                let close = matching_bracket(p, i)
                    .ok_or_else(|| format!("unclosed array expect ]: {p}"))?;
                let inner = p[i + 1..close].trim();
                steps.push(parse_bracket(inner)?);
                i = close + 1;
            }
            b'@' => i += 1,
            _ => {
                let end = ident_end(p, i);
                if end == i {
                    return Err(format!("unrecognized character in action: {}", &p[i..]));
                }
                steps.push(Step::Field(p[i..end].to_string()));
                i = end;
            }
        }
    }
    Ok(steps)
}

fn ident_end(p: &str, start: usize) -> usize {
    p[start..]
        .find(['.', '[', ' ', '=', '!', '<', '>', ')'])
        .map(|e| e + start)
        .unwrap_or(p.len())
}

fn matching_bracket(p: &str, open: usize) -> Option<usize> {
    let b = p.as_bytes();
    let mut depth = 0;
    let mut quote: Option<u8> = None;
    for (j, &c) in b.iter().enumerate().skip(open) {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            b'\'' | b'"' => quote = Some(c),
            b'[' => depth += 1,
            b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(j);
                }
            }
            _ => {}
        }
    }
    None
}

fn unquote(s: &str) -> Option<String> {
    let s = s.trim();
    if s.len() >= 2
        && ((s.starts_with('\'') && s.ends_with('\'')) || (s.starts_with('"') && s.ends_with('"')))
    {
        return Some(s[1..s.len() - 1].to_string());
    }
    None
}

fn parse_bracket(inner: &str) -> Result<Step, String> {
    if inner == "*" {
        return Ok(Step::Wildcard);
    }
    if let Some(f) = inner.strip_prefix("?(").and_then(|x| x.strip_suffix(')')) {
        return parse_filter(f.trim());
    }
    if let Some(name) = unquote(inner) {
        return Ok(Step::Field(name));
    }
    if let Some((a, b)) = inner.split_once(':') {
        let n = |x: &str| -> Result<Option<i64>, String> {
            let x = x.split(':').next().unwrap_or("").trim();
            if x.is_empty() {
                Ok(None)
            } else {
                x.parse()
                    .map(Some)
                    .map_err(|_| format!("invalid array index {x}"))
            }
        };
        return Ok(Step::Slice(n(a)?, n(b)?));
    }
    inner
        .parse::<i64>()
        .map(Step::Index)
        .map_err(|_| format!("invalid array index {inner}"))
}

fn parse_filter(f: &str) -> Result<Step, String> {
    for op in ["==", "!=", "<=", ">=", "<", ">"] {
        if let Some(idx) = find_op(f, op) {
            let left = parse(f[..idx].trim())?;
            let r = f[idx + op.len()..].trim();
            let right = if let Some(s) = unquote(r) {
                Operand::Literal(Value::String(s))
            } else if r.starts_with('@') || r.starts_with('$') || r.starts_with('.') {
                Operand::Path(parse(r)?)
            } else if let Ok(i) = r.parse::<i64>() {
                Operand::Literal(Value::from(i))
            } else if let Ok(x) = r.parse::<f64>() {
                Operand::Literal(Value::from(x))
            } else if r == "true" || r == "false" {
                Operand::Literal(Value::Bool(r == "true"))
            } else {
                return Err(format!("unrecognized filter operand {r}"));
            };
            return Ok(Step::Filter(Filter {
                left,
                op: Some(op.to_string()),
                right: Some(right),
            }));
        }
    }
    Ok(Step::Filter(Filter {
        left: parse(f)?,
        op: None,
        right: None,
    }))
}

fn find_op(f: &str, op: &str) -> Option<usize> {
    let b = f.as_bytes();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
        } else if c == b'\'' || c == b'"' {
            quote = Some(c);
        } else if f[i..].starts_with(op) {
            // `<` must not match the start of `<=`
            if (op == "<" || op == ">") && b.get(i + 1) == Some(&b'=') {
                i += 2;
                continue;
            }
            return Some(i);
        }
        i += 1;
    }
    None
}

fn eval(steps: &[Step], root: &Value) -> Vec<Value> {
    let mut cur = vec![root.clone()];
    for st in steps {
        let mut next = Vec::new();
        for v in &cur {
            match st {
                Step::Field(k) => {
                    if let Value::Object(m) = v
                        && let Some(x) = m.get(k)
                    {
                        next.push(x.clone());
                    }
                }
                Step::Recursive(k) => recurse(v, k, &mut next),
                Step::Index(i) => {
                    if let Value::Array(a) = v {
                        let idx = if *i < 0 { a.len() as i64 + i } else { *i };
                        if idx >= 0
                            && let Some(x) = a.get(idx as usize)
                        {
                            next.push(x.clone());
                        }
                    }
                }
                Step::Slice(s, e) => {
                    if let Value::Array(a) = v {
                        let len = a.len() as i64;
                        let norm = |x: i64| if x < 0 { (len + x).max(0) } else { x.min(len) };
                        let s = norm(s.unwrap_or(0));
                        let e = norm(e.unwrap_or(len));
                        if s < e {
                            next.extend(a[s as usize..e as usize].iter().cloned());
                        }
                    }
                }
                Step::Wildcard => match v {
                    Value::Array(a) => next.extend(a.iter().cloned()),
                    Value::Object(m) => {
                        let mut keys: Vec<&String> = m.keys().collect();
                        keys.sort();
                        next.extend(keys.into_iter().map(|k| m[k.as_str()].clone()));
                    }
                    _ => {}
                },
                Step::Filter(f) => {
                    let items: Vec<&Value> = match v {
                        Value::Array(a) => a.iter().collect(),
                        Value::Object(m) => m.values().collect(),
                        _ => Vec::new(),
                    };
                    for item in items {
                        if filter_matches(f, item, root) {
                            next.push(item.clone());
                        }
                    }
                }
            }
        }
        cur = next;
    }
    cur
}

fn recurse(v: &Value, k: &str, out: &mut Vec<Value>) {
    match v {
        Value::Object(m) => {
            if let Some(x) = m.get(k) {
                out.push(x.clone());
            }
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            for key in keys {
                recurse(&m[key.as_str()], k, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| recurse(x, k, out)),
        _ => {}
    }
}

fn filter_matches(f: &Filter, item: &Value, root: &Value) -> bool {
    let left = eval(&f.left, item);
    let Some(l) = left.first() else { return false };
    let (Some(op), Some(right)) = (&f.op, &f.right) else {
        return true;
    };
    let r = match right {
        Operand::Literal(v) => v.clone(),
        Operand::Path(p) => {
            let base = if matches!(p.first(), Some(Step::Field(_))) {
                item
            } else {
                root
            };
            match eval(p, base).into_iter().next() {
                Some(x) => x,
                None => return false,
            }
        }
    };
    let ord = match (num(l), num(&r)) {
        (Some(a), Some(b)) => {
            let fa = match a {
                Num::Int(i) => i as f64,
                Num::Float(x) => x,
            };
            let fb = match b {
                Num::Int(i) => i as f64,
                Num::Float(x) => x,
            };
            fa.partial_cmp(&fb)
        }
        _ => match (l, &r) {
            (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
            _ => {
                return match op.as_str() {
                    "==" => l == &r,
                    "!=" => l != &r,
                    _ => false,
                };
            }
        },
    };
    let Some(o) = ord else { return false };
    match op.as_str() {
        "==" => o.is_eq(),
        "!=" => o.is_ne(),
        "<" => o.is_lt(),
        "<=" => o.is_le(),
        ">" => o.is_gt(),
        ">=" => o.is_ge(),
        _ => false,
    }
}

/// The values `path` selects in `obj` (empty when nothing matches or the path is invalid).
pub fn find(obj: &Value, path: &str) -> Vec<Value> {
    match parse(path) {
        Ok(steps) => eval(&steps, obj),
        Err(_) => Vec::new(),
    }
}

/// Whether `path` parses as a JSONPath of the supported subset.
pub fn is_valid(path: &str) -> bool {
    parse(path).is_ok()
}

/// Go's `fmt.Sprint` of a decoded JSON value (`3`, `1.5`, `true`, `map[a:1]`).
pub fn go_sprint(v: &Value) -> String {
    match v {
        Value::Number(_) => match num(v) {
            Some(Num::Int(i)) => i.to_string(),
            Some(Num::Float(f)) => go_float(f),
            None => String::new(),
        },
        other => super::gofmt::go_v(other),
    }
}
