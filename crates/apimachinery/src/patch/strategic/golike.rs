//! Emulation of the few Go runtime behaviours the patch algorithm's observable results depend
//! on: the dynamic type of a decoded JSON value, `==` on interface values (which panics for maps
//! and slices), `fmt`'s `%v` / `%s` / `%q` renderings used in error texts, and the exact element
//! movements of `sort.SliceStable`.

use serde_json::{Map, Value};

use super::SmpError;

/// The Go dynamic type a JSON value decodes to (`map[string]interface{}`, `[]interface{}`,
/// `string`, `int64` for integral numbers, `float64` otherwise, `bool`, untyped nil).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum GoType {
    Nil,
    Bool,
    Int,
    Float,
    Str,
    Slice,
    Map,
}

pub(super) fn go_type(v: &Value) -> GoType {
    match v {
        Value::Null => GoType::Nil,
        Value::Bool(_) => GoType::Bool,
        Value::Number(n) if n.is_f64() => GoType::Float,
        Value::Number(_) => GoType::Int,
        Value::String(_) => GoType::Str,
        Value::Array(_) => GoType::Slice,
        Value::Object(_) => GoType::Map,
    }
}

pub(super) const MAP_TYPE: &str = "map[string]interface {}";
pub(super) const SLICE_TYPE: &str = "[]interface {}";

/// `reflect.TypeOf(v)` rendered with `%s` (a nil type renders as a bad-verb marker).
pub(super) fn type_name(v: &Value) -> &'static str {
    match go_type(v) {
        GoType::Nil => "%!s(<nil>)",
        GoType::Bool => "bool",
        GoType::Int => "int64",
        GoType::Float => "float64",
        GoType::Str => "string",
        GoType::Slice => SLICE_TYPE,
        GoType::Map => MAP_TYPE,
    }
}

/// What the apiserver answers when a handler panics: the Go runtime text is only logged.
pub(super) fn panic(msg: &str) -> SmpError {
    SmpError::Panic(format!("runtime error: {msg}"))
}

/// `a == b` on two `interface{}` values holding decoded JSON.
pub(super) fn go_eq(a: &Value, b: &Value) -> Result<bool, SmpError> {
    let (ta, tb) = (go_type(a), go_type(b));
    if ta != tb {
        return Ok(false);
    }
    match ta {
        GoType::Slice => Err(panic(&format!("comparing uncomparable type {SLICE_TYPE}"))),
        GoType::Map => Err(panic(&format!("comparing uncomparable type {MAP_TYPE}"))),
        GoType::Float => Ok(a.as_f64() == b.as_f64()),
        _ => Ok(a == b),
    }
}

/// Using the value as a Go map key (hashing it) panics for maps and slices.
pub(super) fn check_hashable(v: &Value) -> Result<(), SmpError> {
    match go_type(v) {
        GoType::Slice => Err(panic(&format!("hash of unhashable type {SLICE_TYPE}"))),
        GoType::Map => Err(panic(&format!("hash of unhashable type {MAP_TYPE}"))),
        _ => Ok(()),
    }
}

/// `fmt` verb used for a rendering.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Verb {
    V,
    S,
}

/// Renders `v` as `fmt.Sprintf("%v", v)` would.
pub(super) fn sprint_v(v: &Value) -> String {
    let mut out = String::new();
    render(v, Verb::V, &mut out);
    out
}

/// Renders `v` as `fmt.Sprintf("%s", v)` would.
pub(super) fn sprint_s(v: &Value) -> String {
    let mut out = String::new();
    render(v, Verb::S, &mut out);
    out
}

/// Renders a map as `%v` would.
pub(super) fn sprint_map(m: &Map<String, Value>) -> String {
    let mut out = String::new();
    render_map(m, Verb::V, &mut out);
    out
}

fn render(v: &Value, verb: Verb, out: &mut String) {
    let scalar = |out: &mut String, ty: &str, text: &str| match verb {
        Verb::V => out.push_str(text),
        Verb::S => {
            out.push_str("%!s(");
            out.push_str(ty);
            out.push('=');
            out.push_str(text);
            out.push(')');
        }
    };
    match v {
        Value::Null => out.push_str(if verb == Verb::V { "<nil>" } else { "%!s(<nil>)" }),
        Value::Bool(b) => scalar(out, "bool", if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                scalar(out, "int64", &i.to_string());
            } else if let Some(u) = n.as_u64() {
                scalar(out, "int64", &u.to_string());
            } else {
                scalar(out, "float64", &format_float(n.as_f64().unwrap_or(0.0)));
            }
        }
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                render(item, verb, out);
            }
            out.push(']');
        }
        Value::Object(m) => render_map(m, verb, out),
    }
}

fn render_map(m: &Map<String, Value>, verb: Verb, out: &mut String) {
    // fmt prints map entries in key order
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    out.push_str("map[");
    for (i, k) in keys.into_iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(k);
        out.push(':');
        render(&m[k.as_str()], verb, out);
    }
    out.push(']');
}

/// A float64 as `%v` prints it: the shortest round-tripping digits, in exponent form when the
/// decimal exponent is below -4 or at least 6 (`%g` with shortest precision).
pub(super) fn format_float(f: f64) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (neg, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let nd = digits.len() as i32;
    let dp = exp + 1;
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if !(-4..6).contains(&exp) {
        out.push_str(&digits[..1]);
        if nd > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let a = exp.unsigned_abs();
        if a < 10 {
            out.push('0');
        }
        out.push_str(&a.to_string());
    } else if dp <= 0 {
        out.push_str("0.");
        for _ in 0..-dp {
            out.push('0');
        }
        out.push_str(&digits);
    } else if dp >= nd {
        out.push_str(&digits);
        for _ in 0..dp - nd {
            out.push('0');
        }
    } else {
        out.push_str(&digits[..dp as usize]);
        out.push('.');
        out.push_str(&digits[dp as usize..]);
    }
    out
}

/// A string as `%q` prints it (Go double-quoted literal).
pub(super) fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control() => {
                let n = c as u32;
                if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `%v` of a `[]string`.
pub(super) fn sprint_strings(items: &[String]) -> String {
    format!("[{}]", items.join(" "))
}

/// Sorts `data` with the element movements of Go's `sort.SliceStable` (insertion-sorted blocks
/// of 20 merged by SymMerge), so that even a comparator that is not a strict weak order yields
/// the same permutation as upstream.
pub(super) fn go_stable_sort<T>(data: &mut [T], less: &dyn Fn(&T, &T) -> bool) {
    let n = data.len();
    let mut block = 20;
    let (mut a, mut b) = (0, block);
    while b <= n {
        insertion_sort(data, a, b, less);
        a = b;
        b += block;
    }
    insertion_sort(data, a, n, less);
    while block < n {
        let (mut a, mut b) = (0, 2 * block);
        while b <= n {
            sym_merge(data, a, a + block, b, less);
            a = b;
            b += 2 * block;
        }
        let m = a + block;
        if m < n {
            sym_merge(data, a, m, n, less);
        }
        block *= 2;
    }
}

fn insertion_sort<T>(data: &mut [T], a: usize, b: usize, less: &dyn Fn(&T, &T) -> bool) {
    for i in a + 1..b {
        let mut j = i;
        while j > a && less(&data[j], &data[j - 1]) {
            data.swap(j, j - 1);
            j -= 1;
        }
    }
}

fn sym_merge<T>(data: &mut [T], a: usize, m: usize, b: usize, less: &dyn Fn(&T, &T) -> bool) {
    if m - a == 1 {
        // binary search for the first position in [m, b) not less than data[a]
        let (mut i, mut j) = (m, b);
        while i < j {
            let h = (i + j) / 2;
            if less(&data[h], &data[a]) {
                i = h + 1;
            } else {
                j = h;
            }
        }
        let mut k = a;
        while k + 1 < i {
            data.swap(k, k + 1);
            k += 1;
        }
        return;
    }
    if b - m == 1 {
        // binary search for the first position in [a, m) greater than data[m]
        let (mut i, mut j) = (a, m);
        while i < j {
            let h = (i + j) / 2;
            if !less(&data[m], &data[h]) {
                i = h + 1;
            } else {
                j = h;
            }
        }
        let mut k = m;
        while k > i {
            data.swap(k, k - 1);
            k -= 1;
        }
        return;
    }
    let mid = (a + b) / 2;
    let n = mid + m;
    let (mut start, mut r) = if m > mid { (n - b, mid) } else { (a, m) };
    let p = n - 1;
    while start < r {
        let c = (start + r) / 2;
        if !less(&data[p - c], &data[c]) {
            start = c + 1;
        } else {
            r = c;
        }
    }
    let end = n - start;
    if start < m && m < end {
        rotate(data, start, m, end);
    }
    if a < start && start < mid {
        sym_merge(data, a, start, mid, less);
    }
    if mid < end && end < b {
        sym_merge(data, mid, end, b, less);
    }
}

fn swap_range<T>(data: &mut [T], a: usize, b: usize, n: usize) {
    for i in 0..n {
        data.swap(a + i, b + i);
    }
}

fn rotate<T>(data: &mut [T], a: usize, m: usize, b: usize) {
    let mut i = m - a;
    let mut j = b - m;
    while i != j {
        if i > j {
            swap_range(data, m - i, m, j);
            i -= j;
        } else {
            swap_range(data, m - i, m + j - i, i);
            j -= i;
        }
    }
    swap_range(data, m - i, m, i);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_values_like_fmt() {
        let v = json!({"name": "x", "n": 1, "f": 1.5, "big": 1e6, "tiny": 0.00001, "l": ["a", 2, null, true], "m": {"k": null}});
        assert_eq!(sprint_v(&v), "map[big:1e+06 f:1.5 l:[a 2 <nil> true] m:map[k:<nil>] n:1 name:x tiny:1e-05]");
        assert_eq!(sprint_s(&json!(1)), "%!s(int64=1)");
        assert_eq!(sprint_s(&json!({"a": true, "b": "s"})), "map[a:%!s(bool=true) b:s]");
        assert_eq!(sprint_s(&Value::Null), "%!s(<nil>)");
        assert_eq!(format_float(123456.0), "123456");
        assert_eq!(format_float(1234567.0), "1.234567e+06");
        assert_eq!(format_float(0.0001), "0.0001");
        assert_eq!(format_float(-2.5e-7), "-2.5e-07");
        assert_eq!(format_float(1e100), "1e+100");
        assert_eq!(format_float(100.25), "100.25");
        assert_eq!(quote("a\"b\n"), "\"a\\\"b\\n\"");
    }

    #[test]
    fn interface_equality() {
        assert!(go_eq(&json!(1), &json!(1)).unwrap());
        assert!(!go_eq(&json!(1), &json!(1.0)).unwrap());
        assert!(go_eq(&json!(1.0), &json!(1.0)).unwrap());
        assert!(!go_eq(&json!("1"), &json!(1)).unwrap());
        assert!(go_eq(&Value::Null, &Value::Null).unwrap());
        assert!(!go_eq(&json!({}), &json!([])).unwrap());
        assert!(matches!(go_eq(&json!({}), &json!({})), Err(SmpError::Panic(_))));
    }

    #[test]
    fn stable_sort_matches_a_stable_sort_for_consistent_orders() {
        // a consistent comparator must give the one stable order
        let mut v: Vec<(u32, usize)> = (0..97).map(|i| ((i * 7919 % 13) as u32, i)).collect();
        let mut expected = v.clone();
        expected.sort_by_key(|x| x.0);
        go_stable_sort(&mut v, &|a, b| a.0 < b.0);
        assert_eq!(v, expected);
    }

    #[test]
    fn stable_sort_with_an_always_true_comparator_is_deterministic() {
        // Go's insertion sort reverses a block when less() always answers true
        let mut v: Vec<u32> = (0..5).collect();
        go_stable_sort(&mut v, &|_, _| true);
        assert_eq!(v, vec![4, 3, 2, 1, 0]);
    }
}
