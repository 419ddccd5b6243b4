//! The string formats that CRD validation checks (kube-openapi's `strfmt.Default` registry,
//! restricted by apiextensions to its supported list; `int32`, `int64`, `float`, `double` and
//! unknown formats are not checked).

use std::sync::OnceLock;

use regex::Regex;

/// go-openapi's format name normalization: `date-time` == `datetime`.
fn normalize(f: &str) -> String {
    f.replace('-', "")
}

const KNOWN: &[&str] = &[
    "bsonobjectid",
    "uri",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "cidr",
    "mac",
    "uuid",
    "uuid3",
    "uuid4",
    "uuid5",
    "isbn",
    "isbn10",
    "isbn13",
    "creditcard",
    "ssn",
    "hexcolor",
    "rgbcolor",
    "byte",
    "password",
    "date",
    "duration",
    "datetime",
];

/// Whether apiextensions keeps `format` for custom-resource validation
/// (`StripUnsupportedFormatsPostProcess`).
pub fn supported_for_crds(format: &str) -> bool {
    KNOWN.contains(&normalize(format).as_str())
}

/// Whether the format registry knows `format`.
pub fn known(format: &str) -> bool {
    !format.is_empty() && KNOWN.contains(&normalize(format).as_str())
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("static regex"))
}

/// Whether `data` is valid for the (known) `format`.
pub fn validates(format: &str, data: &str) -> bool {
    static HOSTNAME: OnceLock<Regex> = OnceLock::new();
    static UUID: OnceLock<Regex> = OnceLock::new();
    static UUID3: OnceLock<Regex> = OnceLock::new();
    static UUID4: OnceLock<Regex> = OnceLock::new();
    static UUID5: OnceLock<Regex> = OnceLock::new();
    static SSN: OnceLock<Regex> = OnceLock::new();
    static HEXCOLOR: OnceLock<Regex> = OnceLock::new();
    static RGB: OnceLock<Regex> = OnceLock::new();
    static BASE64: OnceLock<Regex> = OnceLock::new();
    static CREDIT: OnceLock<Regex> = OnceLock::new();
    match normalize(format).as_str() {
        "bsonobjectid" => data.len() == 24 && data.bytes().all(|b| b.is_ascii_hexdigit()),
        "uri" => is_request_uri(data),
        "email" => is_email(data),
        "hostname" => {
            re(
                &HOSTNAME,
                r"^([a-zA-Z0-9\p{S}\p{L}]((-?[a-zA-Z0-9\p{S}\p{L}]{0,62})?)|([a-zA-Z0-9\p{S}\p{L}](([a-zA-Z0-9\-\p{S}\p{L}]{0,61}[a-zA-Z0-9\p{S}\p{L}])?)(\.)){1,}([a-zA-Z\p{L}]){2,63})$",
            )
            .is_match(data)
                && data.len() <= 255
                && data.split('.').all(|p| p.len() <= 63)
        }
        "ipv4" => apimachinery::validation::parse_ip_sloppy(data).is_some() && data.contains('.'),
        "ipv6" => data.parse::<std::net::IpAddr>().is_ok() && data.contains(':'),
        "cidr" => is_cidr(data),
        "mac" => is_mac(data),
        "uuid" => re(&UUID, r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$").is_match(data),
        "uuid3" => re(&UUID3, r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$").is_match(data),
        "uuid4" => re(&UUID4, r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$").is_match(data),
        "uuid5" => re(&UUID5, r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$").is_match(data),
        "isbn" => is_isbn10(data) || is_isbn13(data),
        "isbn10" => is_isbn10(data),
        "isbn13" => is_isbn13(data),
        "creditcard" => {
            let digits: String = data.chars().filter(char::is_ascii_digit).collect();
            re(
                &CREDIT,
                r"^(?:4[0-9]{12}(?:[0-9]{3})?|5[1-5][0-9]{14}|(222[1-9]|22[3-9][0-9]|2[3-6][0-9]{2}|27[01][0-9]|2720)[0-9]{12}|6(?:011|5[0-9][0-9])[0-9]{12}|3[47][0-9]{13}|3(?:0[0-5]|[68][0-9])[0-9]{11}|(?:2131|1800|35\d{3})\d{11}|6[27][0-9]{14})$",
            )
            .is_match(&digits)
                && luhn(&digits)
        }
        "ssn" => data.len() == 11 && re(&SSN, r"^\d{3}[- ]?\d{2}[- ]?\d{4}$").is_match(data),
        "hexcolor" => re(&HEXCOLOR, r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$").is_match(data),
        "rgbcolor" => re(
            &RGB,
            r"^rgb\(\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*\)$",
        )
        .is_match(data),
        "byte" => re(&BASE64, r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$").is_match(data),
        "password" => true,
        "date" => is_date(data),
        "datetime" => is_date_time(data),
        "duration" => is_duration(data),
        _ => false,
    }
}

/// Go's `time.Parse("2006-01-02", s)`.
pub fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = &s[r];
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (Some(y), Some(m), Some(d)) = (digits(0..4), digits(5..7), digits(8..10)) else {
        return false;
    };
    if !(1..=12).contains(&m) || d < 1 {
        return false;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let dim = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    d <= dim
}

/// go-openapi's `IsDateTime`.
pub fn is_date_time(s: &str) -> bool {
    static RX: OnceLock<Regex> = OnceLock::new();
    if s.len() < 4 {
        return false;
    }
    let lower = s.to_lowercase();
    let parts: Vec<&str> = lower.split('t').collect();
    if parts.len() < 2 || !is_date(parts[0]) {
        return false;
    }
    let rx = re(
        &RX,
        r"^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$",
    );
    let Some(c) = rx.captures(parts[1]) else {
        return false;
    };
    &c[1] <= "23" && &c[2] <= "59" && &c[3] <= "59"
}

/// go-openapi's `ParseDuration`: Go's `time.ParseDuration`, else any `<digits><unit>` match
/// with a known unit anywhere in the string.
pub fn is_duration(s: &str) -> bool {
    static RX: OnceLock<Regex> = OnceLock::new();
    if go_parse_duration(s) {
        return true;
    }
    const UNITS: &[&[&str]] = &[
        &["ns", "nano"],
        &["us", "µs", "micro"],
        &["ms", "milli"],
        &["s", "sec"],
        &["m", "min"],
        &["h", "hr", "hour"],
        &["d", "day"],
        &["w", "wk", "week"],
    ];
    let rx = re(&RX, r"((\d+)\s*([A-Za-zµ]+))");
    let mut ok = false;
    for c in rx.captures_iter(s) {
        if c[2].parse::<i64>().is_err() {
            return false;
        }
        let unit = c[3].trim().to_lowercase();
        for variants in UNITS {
            let last = variants.len() - 1;
            for (i, v) in variants.iter().enumerate() {
                if (i == last && unit.starts_with(v)) || v.eq_ignore_ascii_case(&unit) {
                    ok = true;
                }
            }
        }
    }
    ok
}

/// Go's `time.ParseDuration` syntax check.
pub fn go_parse_duration(s: &str) -> bool {
    let mut t = s;
    if let Some(r) = t.strip_prefix(['-', '+']) {
        t = r;
    }
    if t == "0" {
        return true;
    }
    if t.is_empty() {
        return false;
    }
    while !t.is_empty() {
        let int_len = t.bytes().take_while(u8::is_ascii_digit).count();
        let mut rest = &t[int_len..];
        let mut frac_len = 0;
        let mut had_dot = false;
        if let Some(r) = rest.strip_prefix('.') {
            had_dot = true;
            frac_len = r.bytes().take_while(u8::is_ascii_digit).count();
            rest = &r[frac_len..];
        }
        if int_len == 0 && frac_len == 0 {
            return false;
        }
        let _ = had_dot;
        let unit_len = rest
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(rest.len());
        if unit_len == 0 {
            return false;
        }
        if !["ns", "us", "µs", "μs", "ms", "s", "m", "h"].contains(&&rest[..unit_len]) {
            return false;
        }
        t = &rest[unit_len..];
    }
    true
}

fn luhn(digits: &str) -> bool {
    let mut sum = 0u32;
    let mut double = false;
    for c in digits.bytes().rev() {
        let mut d = u32::from(c - b'0');
        if double {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
        double = !double;
    }
    sum.is_multiple_of(10)
}

fn isbn_sanitize(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect()
}

fn is_isbn10(s: &str) -> bool {
    let s = isbn_sanitize(s);
    let b = s.as_bytes();
    if b.len() != 10
        || !b[..9].iter().all(u8::is_ascii_digit)
        || !(b[9].is_ascii_digit() || b[9] == b'X')
    {
        return false;
    }
    let mut sum = 0u32;
    for (i, c) in b[..9].iter().enumerate() {
        sum += (i as u32 + 1) * u32::from(c - b'0');
    }
    sum += if b[9] == b'X' {
        100
    } else {
        10 * u32::from(b[9] - b'0')
    };
    sum.is_multiple_of(11)
}

fn is_isbn13(s: &str) -> bool {
    let s = isbn_sanitize(s);
    let b = s.as_bytes();
    if b.len() != 13 || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut sum = 0u32;
    for (i, c) in b[..12].iter().enumerate() {
        sum += [1, 3][i % 2] * u32::from(c - b'0');
    }
    (10 - sum % 10) % 10 == u32::from(b[12] - b'0')
}

fn is_cidr(s: &str) -> bool {
    let Some((ip, mask)) = s.split_once('/') else {
        return false;
    };
    let Some(addr) = apimachinery::validation::parse_ip_sloppy(ip) else {
        return false;
    };
    if mask.is_empty() || !mask.bytes().all(|b| b.is_ascii_digit()) || mask.len() > 4 {
        return false;
    }
    let n: u32 = mask.parse().unwrap_or(u32::MAX);
    let bits = if addr.is_ipv4() && !ip.contains(':') {
        32
    } else {
        128
    };
    n <= bits
}

fn is_mac(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 14 {
        return false;
    }
    let hex2 = |i: usize| {
        b.get(i).is_some_and(u8::is_ascii_hexdigit)
            && b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
    };
    if b[2] == b':' || b[2] == b'-' {
        if !(b.len() + 1).is_multiple_of(3) {
            return false;
        }
        let n = (b.len() + 1) / 3;
        if n != 6 && n != 8 && n != 20 {
            return false;
        }
        let sep = b[2];
        (0..n).all(|i| hex2(3 * i) && (i == n - 1 || b[3 * i + 2] == sep))
    } else if b[4] == b'.' {
        if !(b.len() + 1).is_multiple_of(5) {
            return false;
        }
        let n = 2 * (b.len() + 1) / 5;
        if n != 6 && n != 8 && n != 20 {
            return false;
        }
        (0..n / 2)
            .all(|i| hex2(5 * i) && hex2(5 * i + 2) && (i == n / 2 - 1 || b[5 * i + 4] == b'.'))
    } else {
        false
    }
}

/// Go's `url.ParseRequestURI(s) == nil` (an absolute URI or an absolute path).
pub fn is_request_uri(s: &str) -> bool {
    if s.is_empty() || s.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return false;
    }
    if s == "*" {
        return true;
    }
    let rest_all = match s.find('?') {
        Some(i) => &s[..i],
        None => s,
    };
    // scheme
    let mut scheme = "";
    let mut rest = rest_all;
    for (i, c) in rest_all.char_indices() {
        if c.is_ascii_alphabetic() {
            continue;
        }
        if i > 0 && (c.is_ascii_digit() || c == '+' || c == '-' || c == '.') {
            continue;
        }
        if c == ':' {
            if i == 0 {
                return false;
            }
            scheme = &rest_all[..i];
            rest = &rest_all[i + 1..];
        }
        break;
    }
    if !rest.starts_with('/') {
        return !scheme.is_empty();
    }
    let mut path = rest;
    if !scheme.is_empty() && rest.starts_with("//") {
        let auth_end = rest[2..].find('/').map(|i| i + 2).unwrap_or(rest.len());
        let authority = &rest[2..auth_end];
        path = &rest[auth_end..];
        if !valid_authority(authority) {
            return false;
        }
    }
    valid_escapes(path)
}

fn valid_escapes(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
            {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
}

fn valid_authority(a: &str) -> bool {
    let (userinfo, host) = match a.rfind('@') {
        Some(i) => (Some(&a[..i]), &a[i + 1..]),
        None => (None, a),
    };
    if let Some(u) = userinfo
        && !u
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._:~!$&'()*+,;=%@".contains(c))
    {
        return false;
    }
    if let Some(h) = host.strip_prefix('[') {
        let Some(end) = h.find(']') else { return false };
        let port = &h[end + 1..];
        return valid_optional_port(port);
    }
    let (hostname, port) = match host.rfind(':') {
        Some(i) => (&host[..i], &host[i..]),
        None => (host, ""),
    };
    if !valid_optional_port(port) {
        return false;
    }
    valid_escapes(hostname)
        && hostname.chars().all(|c| {
            !c.is_ascii() || c.is_ascii_alphanumeric() || "-_.~!$&'()*+,;=:[]<>\"%".contains(c)
        })
}

fn valid_optional_port(p: &str) -> bool {
    if p.is_empty() {
        return true;
    }
    let Some(d) = p.strip_prefix(':') else {
        return false;
    };
    d.bytes().all(|b| b.is_ascii_digit())
}

/// A close approximation of Go's `net/mail.ParseAddress`: `local@domain`, optionally as
/// `Display Name <local@domain>`.
pub fn is_email(s: &str) -> bool {
    let s = s.trim();
    let addr = if let Some(open) = s.rfind('<') {
        let Some(inner) = s[open + 1..].strip_suffix('>') else {
            return false;
        };
        let name = s[..open].trim();
        if !name.is_empty() && !valid_display_name(name) {
            return false;
        }
        inner
    } else {
        s
    };
    let Some(at) = addr.rfind('@') else {
        return false;
    };
    let (local, domain) = (&addr[..at], &addr[at + 1..]);
    valid_local(local) && valid_domain(domain)
}

fn atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || !c.is_ascii()
}

fn dot_atom(s: &str) -> bool {
    !s.is_empty() && s.split('.').all(|p| !p.is_empty() && p.chars().all(atext))
}

fn valid_local(l: &str) -> bool {
    if let Some(q) = l.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        return !q.contains('"') || q.contains("\\\"");
    }
    dot_atom(l)
}

fn valid_domain(d: &str) -> bool {
    if d.starts_with('[') && d.ends_with(']') {
        return true;
    }
    dot_atom(d)
}

fn valid_display_name(n: &str) -> bool {
    if n.starts_with('"') && n.ends_with('"') && n.len() >= 2 {
        return true;
    }
    n.split_whitespace()
        .all(|w| w.chars().all(|c| atext(c) || c == '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        for (f, ok, bad) in [
            ("date", "2024-02-29", "2023-02-29"),
            ("date-time", "2020-01-01T10:00:00Z", "2020-01-01 10:00:00"),
            (
                "datetime",
                "2020-01-01t10:00:00.5+02:00",
                "2020-01-01T25:00:00Z",
            ),
            ("uuid", "123e4567-e89b-12d3-a456-426614174000", "123e4567"),
            ("ipv4", "10.0.0.1", "::1"),
            ("ipv6", "::1", "10.0.0.1"),
            ("cidr", "10.0.0.0/8", "10.0.0.0/33"),
            ("mac", "00:1a:2b:3c:4d:5e", "00:1a:2b"),
            ("hostname", "example.com", "-bad-.com"),
            ("email", "a.b@example.com", "not-an-email"),
            ("uri", "https://example.com/x?y=1", "example.com/x"),
            ("byte", "aGVsbG8=", "hello!"),
            ("duration", "1h30m", "forever"),
            ("hexcolor", "#fff", "#ffff"),
            ("rgbcolor", "rgb(1, 2, 255)", "rgb(1,2,256)"),
            ("ssn", "123-45-6789", "123456789"),
            ("isbn10", "0321751043", "0321751044"),
            ("isbn13", "978-0321751041", "978-0321751042"),
            ("creditcard", "4111 1111 1111 1111", "4111 1111 1111 1112"),
            ("bsonobjectid", "507f1f77bcf86cd799439011", "507f1f77"),
        ] {
            assert!(known(f), "{f}");
            assert!(validates(f, ok), "{f} {ok}");
            assert!(!validates(f, bad), "{f} {bad}");
        }
        assert!(!supported_for_crds("int32"));
        assert!(!known("int64"));
        assert!(validates("duration", "3 days"));
    }
}
