//! The few pieces of Go's `fmt` that upstream's messages are made of.

use std::fmt::Write;

/// Appends `s` quoted as Go's `%q` (strconv.Quote) does.
pub(crate) fn quote_into(out: &mut String, s: &str) {
    out.push('"');
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
            ' ' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() || c.is_whitespace() => {
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
}

/// `s` quoted as Go's `%q`.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    quote_into(&mut out, s);
    out
}

/// A list of strings as Go's `%q` prints a `[]string`: `["a" "b"]`.
pub(crate) fn quote_list_into<S: AsRef<str>>(out: &mut String, items: &[S]) {
    out.push('[');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        quote_into(out, s.as_ref());
    }
    out.push(']');
}

/// The message of Go's `utilerrors.NewAggregate(errs).Error()`: one message alone, several
/// de-duplicated and joined as `[a, b]`, none as the empty string.
pub(crate) fn aggregate_message<S: AsRef<str>>(msgs: &[S]) -> String {
    match msgs {
        [] => String::new(),
        [one] => one.as_ref().to_string(),
        _ => {
            let mut seen: Vec<&str> = Vec::new();
            for m in msgs {
                if !seen.contains(&m.as_ref()) {
                    seen.push(m.as_ref());
                }
            }
            if seen.len() == 1 {
                seen[0].to_string()
            } else {
                format!("[{}]", seen.join(", "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_go() {
        assert_eq!(quote("pods"), "\"pods\"");
        assert_eq!(quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(quote("x\ny\u{1}"), "\"x\\ny\\x01\"");
        assert_eq!(quote("héllo"), "\"héllo\"");
        let mut s = String::new();
        quote_list_into(&mut s, &["", "pods"]);
        assert_eq!(s, "[\"\" \"pods\"]");
        let mut s = String::new();
        quote_list_into::<&str>(&mut s, &[]);
        assert_eq!(s, "[]");
    }

    #[test]
    fn aggregates_like_go() {
        assert_eq!(aggregate_message::<&str>(&[]), "");
        assert_eq!(aggregate_message(&["a"]), "a");
        assert_eq!(aggregate_message(&["a", "b", "a"]), "[a, b]");
        assert_eq!(aggregate_message(&["a", "a"]), "a");
    }
}
