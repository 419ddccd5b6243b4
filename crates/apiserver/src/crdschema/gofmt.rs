//! Go formatting of decoded JSON values, so messages read as upstream prints them: `%v` of a
//! float64 (`1e+06`, `1.5`), `json.Marshal` (sorted keys), and `%#v` of an `interface{}`
//! holding decoded JSON (`map[string]interface {}{"name":"a"}`).

use serde_json::Value;

pub use apimachinery::validation::go_quote;

/// A decoded JSON number as the Kubernetes JSON decoder sees it: integers that fit an int64
/// are `int64`, everything else `float64`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Num {
    /// An int64.
    Int(i64),
    /// A float64.
    Float(f64),
}

/// The number in `v`, typed as the Kubernetes JSON decoder types it.
pub fn num(v: &Value) -> Option<Num> {
    match v {
        Value::Number(n) => Some(match n.as_i64() {
            Some(i) => Num::Int(i),
            None => Num::Float(n.as_f64().unwrap_or(f64::NAN)),
        }),
        _ => None,
    }
}

/// Go's `%v` (and `strconv.FormatFloat(f, 'g', -1, 64)`) of a float64.
pub fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // shortest round-trip digits and the decimal exponent
    let sci = format!("{:e}", f.abs());
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let neg = if f < 0.0 { "-" } else { "" };
    // %v is %g with the shortest precision: the exponent form below 1e-04 and from 1e+06 on
    if !(-4..6).contains(&exp) {
        return format!("{neg}{}", exp_form(&digits, exp));
    }
    let nd = digits.len() as i32;
    let s = if exp < 0 {
        format!("0.{}{}", "0".repeat((-exp - 1) as usize), digits)
    } else if nd <= exp + 1 {
        format!("{}{}", digits, "0".repeat((exp + 1 - nd) as usize))
    } else {
        format!(
            "{}.{}",
            &digits[..(exp + 1) as usize],
            &digits[(exp + 1) as usize..]
        )
    };
    format!("{neg}{s}")
}

fn exp_form(digits: &str, exp: i32) -> String {
    let m = if digits.len() > 1 {
        format!("{}.{}", &digits[..1], &digits[1..])
    } else {
        digits.to_string()
    };
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{m}e{sign}{:02}", exp.abs())
}

/// Go's `encoding/json` formatting of a float64 (`1e+21`, `0.000001`, `1e-07`).
pub fn go_json_float(f: f64) -> String {
    if f == 0.0 {
        return "0".into();
    }
    let a = f.abs();
    if !(1e-6..1e21).contains(&a) {
        let sci = format!("{:e}", f);
        let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", exp.abs());
    }
    // plain decimal, shortest digits
    let s = format!("{}", f);
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// Go's `%v` of a decoded JSON scalar or value.
pub fn go_v(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::String(s) => s.clone(),
        Value::Number(_) => match num(v) {
            Some(Num::Int(i)) => i.to_string(),
            Some(Num::Float(f)) => go_float(f),
            None => String::new(),
        },
        Value::Array(a) => format!("[{}]", a.iter().map(go_v).collect::<Vec<_>>().join(" ")),
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| format!("{}:{}", k, go_v(&m[k.as_str()])))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

/// Go's `json.Marshal` of a decoded JSON value: map keys sorted, floats in Go's form.
pub fn go_json(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::String(_) => serde_json::to_string(v).unwrap_or_default(),
        Value::Number(_) => match num(v) {
            Some(Num::Int(i)) => i.to_string(),
            Some(Num::Float(f)) => go_json_float(f),
            None => String::new(),
        },
        Value::Array(a) => format!("[{}]", a.iter().map(go_json).collect::<Vec<_>>().join(",")),
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| {
                    format!(
                        "{}:{}",
                        serde_json::to_string(k).unwrap_or_default(),
                        go_json(&m[k.as_str()])
                    )
                })
                .collect();
            format!("{{{}}}", parts.join(","))
        }
    }
}

/// Go's `%#v` of an `interface{}` holding decoded JSON, as `field.Error` prints a non-scalar
/// bad value: `map[string]interface {}{"a":1, "b":"x"}`, `[]interface {}{"a", 1}`.
pub fn go_sharp_v(v: &Value) -> String {
    fn inner(v: &Value) -> String {
        match v {
            Value::Null => "interface {}(nil)".into(),
            Value::Bool(b) => b.to_string(),
            Value::String(s) => go_quote(s),
            Value::Number(_) => match num(v) {
                Some(Num::Int(i)) => i.to_string(),
                Some(Num::Float(f)) => go_float(f),
                None => String::new(),
            },
            Value::Array(a) => format!(
                "[]interface {{}}{{{}}}",
                a.iter().map(inner).collect::<Vec<_>>().join(", ")
            ),
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let parts: Vec<String> = keys
                    .iter()
                    .map(|k| format!("{}:{}", go_quote(k), inner(&m[k.as_str()])))
                    .collect();
                format!("map[string]interface {{}}{{{}}}", parts.join(", "))
            }
        }
    }
    match v {
        Value::Null => "<nil>".into(),
        _ => inner(v),
    }
}

/// The serde value that `apimachinery::field::FieldError` prints as upstream prints a decoded
/// JSON bad value for the scalar cases: a float64 with an integral value prints without
/// `.0` in Go, so it is carried as an integer.
pub fn field_value(v: &Value) -> Value {
    match num(v) {
        Some(Num::Float(f)) if f.fract() == 0.0 && f.abs() < 1e6 => Value::from(f as i64),
        _ => v.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn floats_as_go_prints_them() {
        for (f, want) in [
            (1.5, "1.5"),
            (100.0, "100"),
            (123456.0, "123456"),
            (1e6, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.25, "-2.25"),
            (1e21, "1e+21"),
            (0.1, "0.1"),
        ] {
            assert_eq!(go_float(f), want, "{f}");
        }
        assert_eq!(go_json_float(1e21), "1e+21");
        assert_eq!(go_json_float(1e20), "100000000000000000000");
        assert_eq!(go_json_float(2.5), "2.5");
        assert_eq!(go_json_float(0.0000001), "1e-07");
    }

    #[test]
    fn sharp_v_and_json() {
        assert_eq!(
            go_sharp_v(&json!({"name": "a", "b": 1})),
            r#"map[string]interface {}{"b":1, "name":"a"}"#
        );
        assert_eq!(
            go_sharp_v(&json!(["a", 1.5, null])),
            r#"[]interface {}{"a", 1.5, interface {}(nil)}"#
        );
        assert_eq!(
            go_json(&json!({"b": 1.0, "a": [true, "x"]})),
            r#"{"a":[true,"x"],"b":1}"#
        );
        assert_eq!(go_v(&json!(2.0)), "2");
        assert_eq!(go_v(&json!({"a": [1, "x"]})), "map[a:[1 x]]");
    }
}
