//! URL query strings as Kubernetes clients send them: `application/x-www-form-urlencoded`
//! pairs (`+` is a space, `%XX` a byte), and plain percent-decoding for other URL parts.

/// Every parameter of a raw query string in order, repeated keys kept (`command=a&command=b`),
/// keys and values decoded as form fields.
pub fn pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_form(k), decode_form(v))
        })
        .collect()
}

/// A form field: `+` is a space, `%XX` a byte; a `%` not followed by two hex digits stays.
pub fn decode_form(s: &str) -> String {
    decode_bytes(s, true)
}

/// Percent-decoding only (`+` stays `+`): for header values and path-like text.
pub fn decode(s: &str) -> String {
    decode_bytes(s, false)
}

fn decode_bytes(s: &str, plus_is_space: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Some(v) = std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if plus_is_space && b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_plain_percent_decoding() {
        assert_eq!(pairs(Some("command=sh&command=-c&command=echo+a%26b&stdin=true&flag")), vec![
            ("command".to_string(), "sh".to_string()),
            ("command".into(), "-c".into()),
            ("command".into(), "echo a&b".into()),
            ("stdin".into(), "true".into()),
            ("flag".into(), String::new()),
        ]);
        assert_eq!(decode("example.com%2fscopes"), "example.com/scopes");
        assert_eq!(decode("a+b"), "a+b");
        assert_eq!(decode_form("a+b"), "a b");
        assert_eq!(decode("bad%zz"), "bad%zz");
        assert_eq!(decode("a%2Fb%zz%4"), "a/b%zz%4");
        assert_eq!(decode("%41"), "A");
    }
}
