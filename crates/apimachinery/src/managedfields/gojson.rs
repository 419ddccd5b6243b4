//! JSON text exactly as the Go implementations write it: `encoding/json` (HTML-safe escaping,
//! sorted object keys, Go float formatting) and the json-iterator variant structured-merge-diff
//! uses for field set keys, plus Go's `%q` and `%v` renderings used in field path strings.

use serde_json::{Number, Value};
use std::fmt::Write;

/// Which Go encoder's string escaping to reproduce.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// `encoding/json` (Go 1.22+): `\b` and `\f` get short escapes.
    Std,
    /// json-iterator's standard-library-compatible config: every other control byte is `\u00xx`.
    Iter,
}

/// Appends `s` as a JSON string literal.
pub(crate) fn write_string(out: &mut String, s: &str, flavor: Flavor) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' if flavor == Flavor::Std => out.push_str("\\b"),
            '\u{c}' if flavor == Flavor::Std => out.push_str("\\f"),
            '<' | '>' | '&' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Go's `strconv.FormatFloat(f, 'f' or 'e', -1, 64)` choice made by `encoding/json`.
pub(crate) fn json_float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format!("{f:e}");
        // Rust writes 1e21 / 1.5e-7; Go writes 1e+21 / 1.5e-07 and encoding/json trims the
        // exponent's leading zero back to 1.5e-7.
        match s.split_once('e') {
            Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e}"),
            _ => s,
        }
    } else {
        format!("{f}")
    }
}

fn write_number(out: &mut String, n: &Number) {
    if let Some(i) = n.as_i64() {
        let _ = write!(out, "{i}");
    } else if let Some(u) = n.as_u64() {
        let _ = write!(out, "{u}");
    } else if let Some(f) = n.as_f64() {
        out.push_str(&json_float(f));
    }
}

/// Appends `v` as compact JSON with sorted object keys.
pub(crate) fn write_value(out: &mut String, v: &Value, flavor: Flavor) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s, flavor),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, x, flavor);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k, flavor);
                out.push(':');
                write_value(out, &m[k], flavor);
            }
            out.push('}');
        }
    }
}

/// `v` encoded as `encoding/json` would (without a trailing newline).
pub(crate) fn to_string(v: &Value) -> String {
    let mut s = String::new();
    write_value(&mut s, v, Flavor::Std);
    s
}

/// Go's `%q` of a string (`strconv.Quote`).
pub(crate) fn quote(s: &str) -> String {
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
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() => {
                if (c as u32) < 0x10000 {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                } else {
                    let _ = write!(out, "\\U{:08x}", c as u32);
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `%v` of a float64 (`strconv.FormatFloat(f, 'g', -1, 64)`: shortest digits, `%e` form
/// when the exponent is below -4 or at least 6).
pub(crate) fn go_float_v(f: f64) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    if !f.is_finite() {
        return if f.is_nan() {
            "NaN".into()
        } else if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let e = format!("{f:e}");
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        format!("{f}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escapes_like_go() {
        let mut s = String::new();
        write_string(&mut s, "a<b>&\"\\\n\u{8}\u{1}", Flavor::Std);
        assert_eq!(s, r#""a\u003cb\u003e\u0026\"\\\n\b\u0001""#);
        let mut s = String::new();
        write_string(&mut s, "\u{8}", Flavor::Iter);
        assert_eq!(s, r#""\u0008""#);
        assert_eq!(to_string(&json!({"b": 1, "a": [true, null, 1.5, "x"]})), r#"{"a":[true,null,1.5,"x"],"b":1}"#);
        assert_eq!(json_float(1e21), "1e+21");
        assert_eq!(json_float(1.5e-7), "1.5e-7");
        assert_eq!(json_float(2.0), "2");
    }

    #[test]
    fn quotes_and_floats_like_fmt() {
        assert_eq!(quote("a\"b\tc"), r#""a\"b\tc""#);
        assert_eq!(go_float_v(1.5), "1.5");
        assert_eq!(go_float_v(1e21), "1e+21");
        assert_eq!(go_float_v(1000000.0), "1e+06");
        assert_eq!(go_float_v(123456.0), "123456");
        assert_eq!(go_float_v(0.00001), "1e-05");
        assert_eq!(go_float_v(123456789.0), "1.23456789e+08");
    }
}
