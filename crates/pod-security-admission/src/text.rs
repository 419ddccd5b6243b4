//! Small text helpers that reproduce the Go formatting upstream's messages rely on.

/// Quotes a string as Go's `%q` / `strconv.Quote` does: `"` and `\` escaped, printable
/// characters kept, `\a \b \f \n \r \t \v` for those controls, `\xHH` for other ASCII controls
/// and DEL, `\uHHHH` / `\UHHHHHHHH` for other non-printable characters.
///
/// Go decides printability from its Unicode tables (categories L, M, N, P, S plus the ASCII
/// space). Rust's standard library exposes no general categories, so this treats controls,
/// whitespace other than the ASCII space, the common format (Cf) characters, surrogates,
/// private-use characters and noncharacters as non-printable. Characters that are unassigned in
/// one table and assigned in the other may be quoted differently; the values PSA quotes
/// (annotation values, label values, pod and namespace names) practically never contain them.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
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
            c if go_is_print(c) => out.push(c),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// Approximation of Go's `strconv.IsPrint` (see [`go_quote`]).
fn go_is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    let u = c as u32;
    let format_char = matches!(
        u,
        0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E
            | 0x2060..=0x2064 | 0x2066..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD
            | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F
    );
    let private_use = matches!(u, 0xE000..=0xF8FF | 0xF0000..=0xFFFFD | 0x100000..=0x10FFFD);
    let nonchar = matches!(u, 0xFDD0..=0xFDEF) || (u & 0xFFFE) == 0xFFFE;
    !(format_char || private_use || nonchar)
}

/// Upstream's `joinQuote`: every item wrapped in double quotes (not escaped), joined by `, `.
pub(crate) fn join_quote<S: AsRef<str>>(items: &[S]) -> String {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('"');
        out.push_str(item.as_ref());
        out.push('"');
    }
    out
}

/// Upstream's `pluralize`: the singular form for exactly one, the plural otherwise.
pub(crate) fn pluralize(
    singular: &'static str,
    plural: &'static str,
    count: usize,
) -> &'static str {
    if count == 1 { singular } else { plural }
}

/// The text of a Go `utilerrors.Aggregate` (and `field.ErrorList.ToAggregate()`): duplicate
/// messages dropped, one message as is, several as `[a, b]`.
pub(crate) fn aggregate<S: AsRef<str>>(messages: &[S]) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for m in messages {
        let m = m.as_ref();
        if !seen.contains(&m) {
            seen.push(m);
        }
    }
    match seen.len() {
        0 => String::new(),
        1 => seen[0].to_string(),
        _ => format!("[{}]", seen.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_go() {
        assert_eq!(go_quote("unconfined"), r#""unconfined""#);
        assert_eq!(go_quote(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(go_quote("a\nb\tc\u{1}\u{7f}"), r#""a\nb\tc\x01\x7f""#);
        assert_eq!(go_quote("héllo ☃"), "\"héllo ☃\"");
        assert_eq!(go_quote("\u{a0}\u{200b}"), r#""\u00a0\u200b""#);
        assert_eq!(go_quote("\u{10ffff}"), r#""\U0010ffff""#);
    }

    #[test]
    fn join_quote_does_not_escape() {
        assert_eq!(join_quote::<&str>(&[]), "");
        assert_eq!(join_quote(&["a"]), r#""a""#);
        assert_eq!(join_quote(&["a", r#"b="c""#]), r#""a", "b="c"""#);
    }

    #[test]
    fn aggregates_like_go() {
        assert_eq!(aggregate::<&str>(&[]), "");
        assert_eq!(aggregate(&["x"]), "x");
        assert_eq!(aggregate(&["x", "y", "x"]), "[x, y]");
        assert_eq!(aggregate(&["x", "x"]), "x");
    }
}
