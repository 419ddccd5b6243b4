//! Resource quantity handling for `ResourceList` defaulting.
//!
//! Upstream rounds every value of every `ResourceList` up (away from zero) to milli precision
//! while defaulting. Because the Go `Quantity` then re-serializes from its numeric value, the
//! JSON a client reads back is the *canonical* form of the rounded number (e.g. `"1000m"` reads
//! back as `"1"`, `"0.5"` as `"500m"`, `"1024Mi"` as `"1Gi"`, `"100u"` as `"1m"`), except when
//! the parser kept the client's original text because it already looked canonical. This module
//! reproduces that exactly for the values an apiserver can meet.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Format {
    DecimalSI,
    BinarySI,
    DecimalExponent,
}

/// A parsed quantity: value = (-1)^negative * mag * 10^exp.
#[derive(Debug)]
struct Parsed {
    negative: bool,
    mag: u128,
    exp: i32,
    format: Format,
    /// Upstream's parser remembered the input text and will print it verbatim.
    keep_text: bool,
}

const DECIMAL_SUFFIXES: &[(&str, i32)] = &[
    ("n", -9),
    ("u", -6),
    ("m", -3),
    ("", 0),
    ("k", 3),
    ("M", 6),
    ("G", 9),
    ("T", 12),
    ("P", 15),
    ("E", 18),
];

const BINARY_SUFFIXES: &[(&str, u32)] = &[
    ("Ki", 10),
    ("Mi", 20),
    ("Gi", 30),
    ("Ti", 40),
    ("Pi", 50),
    ("Ei", 60),
];

fn pow10(n: u32) -> Option<u128> {
    10u128.checked_pow(n)
}

/// Parses `s` the way upstream's `ParseQuantity` does. `None` when upstream would reject the
/// text or when the value does not fit the arithmetic used here.
fn parse(s: &str) -> Option<Parsed> {
    if s.is_empty() {
        return None;
    }
    let b = s.as_bytes();
    let end = b.len();
    let mut pos = 0;
    let mut negative = false;
    match b[0] {
        b'-' => {
            negative = true;
            pos = 1;
        }
        b'+' => pos = 1,
        _ => {}
    }
    while pos < end && b[pos] == b'0' {
        pos += 1;
    }
    if pos >= end {
        // Only zeros (or a bare sign): upstream reads this as 0 with no suffix.
        return Some(Parsed {
            negative,
            mag: 0,
            exp: 0,
            format: Format::DecimalSI,
            keep_text: false,
        });
    }
    let num_start = pos;
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    let num = if pos == num_start {
        "0"
    } else {
        &s[num_start..pos]
    };
    let mut denom = "";
    if pos < end && b[pos] == b'.' {
        pos += 1;
        let start = pos;
        while pos < end && b[pos].is_ascii_digit() {
            pos += 1;
        }
        denom = &s[start..pos];
    }
    let suffix_start = pos;
    while pos < end && b"eEinumkKMGTP".contains(&b[pos]) {
        pos += 1;
    }
    if pos < end && (b[pos] == b'-' || b[pos] == b'+') {
        pos += 1;
    }
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos < end {
        return None;
    }
    let suffix = &s[suffix_start..];

    // (base, exponent, format)
    let (binary, exponent, format) =
        if let Some(&(_, e)) = DECIMAL_SUFFIXES.iter().find(|(n, _)| *n == suffix) {
            (false, e, Format::DecimalSI)
        } else if let Some(&(_, e)) = BINARY_SUFFIXES.iter().find(|(n, _)| *n == suffix) {
            (true, e as i32, Format::BinarySI)
        } else if suffix.len() > 1 && (suffix.starts_with('e') || suffix.starts_with('E')) {
            let e: i64 = suffix[1..].parse().ok()?;
            (false, i32::try_from(e).ok()?, Format::DecimalExponent)
        } else {
            return None;
        };

    let shifted = format!("{num}{denom}");
    let digits: u128 = shifted.parse().ok()?;
    let denom_len = i32::try_from(denom.len()).ok()?;

    // Upstream's int64 fast path: taken when the value fits comfortably in an int64 with a
    // scale of at least nano. Only then can the input text be remembered.
    let mut keep_text = false;
    let (scale0, precision) = if binary {
        if denom.is_empty() {
            let p = 15 - num.len() as i32 - ((exponent as f32) * 3.0 / 10.0) as i32 - 1;
            (0, p)
        } else {
            (0, -1)
        }
    } else {
        (exponent, 18 - (num.len() + denom.len()) as i32)
    };
    if precision >= 0 {
        let scale = scale0 - denom_len;
        if scale >= -9
            && let Ok(value) = i64::try_from(digits)
        {
            let multiplier: i64 = if binary {
                1i64.checked_shl(exponent as u32).unwrap_or(0)
            } else {
                1
            };
            if multiplier != 0 && value.checked_mul(multiplier).is_some() {
                keep_text = if binary {
                    exponent % 10 == 0 && (value & 0x07) != 0
                } else {
                    scale % 3 == 0 && !shifted.ends_with("000") && !shifted.starts_with('0')
                };
            }
        }
    }

    let (mag, exp) = if binary {
        let factor = 1u128.checked_shl(exponent as u32)?;
        (digits.checked_mul(factor)?, -denom_len)
    } else {
        (digits, exponent.checked_sub(denom_len)?)
    };
    let mut p = Parsed {
        negative,
        mag,
        exp,
        format,
        keep_text,
    };

    // Slow-path normalisation (a no-op for values the fast path accepts).
    round_away(&mut p, -9);
    if p.format == Format::BinarySI {
        let max = i64::MAX as u128;
        if !le_scaled(p.mag, p.exp, max) {
            p.mag = max;
            p.exp = 0;
        }
        if p.mag != 0 && lt_scaled(p.mag, p.exp, 1) {
            p.format = Format::DecimalSI;
        }
    }
    Some(p)
}

/// mag * 10^exp <= bound
fn le_scaled(mag: u128, exp: i32, bound: u128) -> bool {
    !gt_scaled(mag, exp, bound)
}

/// mag * 10^exp > bound
fn gt_scaled(mag: u128, exp: i32, bound: u128) -> bool {
    if mag == 0 {
        return false;
    }
    if exp >= 0 {
        match pow10(exp as u32).and_then(|f| mag.checked_mul(f)) {
            Some(v) => v > bound,
            None => true,
        }
    } else {
        match pow10(exp.unsigned_abs()).and_then(|f| bound.checked_mul(f)) {
            Some(b) => mag > b,
            None => false,
        }
    }
}

/// mag * 10^exp < bound
fn lt_scaled(mag: u128, exp: i32, bound: u128) -> bool {
    if exp >= 0 {
        match pow10(exp as u32).and_then(|f| mag.checked_mul(f)) {
            Some(v) => v < bound,
            None => false,
        }
    } else {
        match pow10(exp.unsigned_abs()).and_then(|f| bound.checked_mul(f)) {
            Some(b) => mag < b,
            None => true,
        }
    }
}

/// Rounds the magnitude up (away from zero) so that `exp >= scale`.
fn round_away(p: &mut Parsed, scale: i32) {
    if p.exp >= scale {
        return;
    }
    let shift = (scale - p.exp) as u32;
    let new_mag = match pow10(shift) {
        Some(div) => {
            let q = p.mag / div;
            if !p.mag.is_multiple_of(div) { q + 1 } else { q }
        }
        None => u128::from(p.mag != 0),
    };
    p.mag = new_mag;
    p.exp = scale;
    p.keep_text = false;
}

fn canonical(p: &Parsed) -> Option<String> {
    if p.mag == 0 {
        return Some("0".to_owned());
    }
    let sign = if p.negative { "-" } else { "" };
    let mut format = p.format;
    if format == Format::BinarySI {
        if lt_scaled(p.mag, p.exp, 1024) {
            format = Format::DecimalSI;
        } else {
            let int = if p.exp >= 0 {
                pow10(p.exp as u32).and_then(|f| p.mag.checked_mul(f))
            } else {
                pow10(p.exp.unsigned_abs())
                    .filter(|d| p.mag.is_multiple_of(*d))
                    .map(|d| p.mag / d)
            };
            match int {
                Some(mut v) => {
                    let mut times = 0usize;
                    while v >= 1024 && v % 1024 == 0 {
                        v /= 1024;
                        times += 1;
                    }
                    // Upstream prints no suffix when none exists for the power.
                    let suffix = match times {
                        0 => "",
                        t => BINARY_SUFFIXES.get(t - 1).map_or("", |(n, _)| *n),
                    };
                    return Some(format!("{sign}{v}{suffix}"));
                }
                None => format = Format::DecimalSI,
            }
        }
    }
    let (mut a, mut e) = (p.mag, p.exp);
    while a % 10 == 0 {
        a /= 10;
        e = e.checked_add(1)?;
    }
    while e % 3 != 0 {
        a = a.checked_mul(10)?;
        e -= 1;
    }
    let suffix = match format {
        Format::DecimalExponent => {
            if e == 0 {
                String::new()
            } else {
                format!("e{e}")
            }
        }
        // Upstream prints no suffix when none exists for the power.
        _ => DECIMAL_SUFFIXES
            .iter()
            .find(|(_, x)| *x == e)
            .map_or("", |(n, _)| *n)
            .to_owned(),
    };
    Some(format!("{sign}{a}{suffix}"))
}

/// The text upstream serializes for a `ResourceList` value after defaulting: the value rounded
/// up (away from zero) to milli precision, in canonical form, or the client's own text when
/// upstream keeps it. `None` when the text is not a quantity upstream would accept (the caller
/// leaves such values alone).
pub fn round_up_to_milli_canonical(s: &str) -> Option<String> {
    // Upstream trims surrounding whitespace before parsing, and remembers the trimmed text.
    let s = s.trim();
    let mut p = parse(s)?;
    round_away(&mut p, -3);
    if p.keep_text {
        return Some(s.to_owned());
    }
    canonical(&p)
}

/// The text upstream serializes for any quantity it decoded (no rounding beyond the nano
/// precision the parser itself applies): canonical form, or the client's own text when
/// upstream keeps it. Useful for quantity fields outside `ResourceList`s (for example HPA
/// metric targets), which upstream also re-serializes this way. `None` for invalid text.
pub fn canonical_quantity(s: &str) -> Option<String> {
    let s = s.trim();
    let p = parse(s)?;
    if p.keep_text {
        return Some(s.to_owned());
    }
    canonical(&p)
}

#[cfg(test)]
mod tests {
    use super::canonical_quantity;
    use super::round_up_to_milli_canonical as r;

    #[test]
    fn canonical_without_milli_rounding() {
        let cases = [
            ("100u", "100u"),
            ("1n", "1n"),
            ("0.0000000001", "1n"),
            ("1000m", "1"),
            ("1.5Gi", "1536Mi"),
            ("0.5", "500m"),
        ];
        for (input, want) in cases {
            assert_eq!(
                canonical_quantity(input).as_deref(),
                Some(want),
                "input {input}"
            );
        }
        assert_eq!(canonical_quantity("x"), None);
    }

    #[test]
    fn canonical_forms() {
        let cases = [
            ("1", "1"),
            ("100m", "100m"),
            ("1000m", "1"),
            ("1500m", "1500m"),
            ("0.5", "500m"),
            ("1.5", "1500m"),
            ("1.0", "1"),
            ("1000", "1k"),
            ("1k", "1k"),
            ("128974848", "128974848"),
            ("129e6", "129e6"),
            ("1e3", "1e3"),
            ("1e1", "10"),
            ("1E3", "1E3"),
            ("123Mi", "123Mi"),
            ("1Ki", "1Ki"),
            ("8Ki", "8Ki"),
            ("1024Mi", "1Gi"),
            ("1024Ki", "1Mi"),
            ("1.5Gi", "1536Mi"),
            ("0.5Ki", "512"),
            ("1Ei", "1Ei"),
            ("0", "0"),
            ("0m", "0"),
            ("-0", "0"),
            ("00", "0"),
            ("-1", "-1"),
            ("-1000m", "-1"),
            ("5M", "5M"),
            (" 2 ", "2"),
            ("+1", "+1"),
            ("01Ki", "01Ki"),
            ("1000E", "1"),
            ("2G", "2G"),
            ("1M", "1M"),
        ];
        for (input, want) in cases {
            assert_eq!(r(input).as_deref(), Some(want), "input {input}");
        }
    }

    #[test]
    fn rounds_up_below_milli() {
        let cases = [
            ("100u", "1m"),
            ("1n", "1m"),
            ("1u", "1m"),
            ("0.0001", "1m"),
            ("1.0001", "1001m"),
            ("1001u", "2m"),
            ("-100u", "-1m"),
            ("0.1m", "1m"),
            ("1.0001Ki", "1024103m"),
            ("1e-4", "1e-3"),
            ("e3", "0"),
            ("1e-3", "1e-3"),
        ];
        for (input, want) in cases {
            assert_eq!(r(input).as_deref(), Some(want), "input {input}");
        }
    }

    #[test]
    fn rejects_invalid() {
        for input in [
            "", "abc", "1KiB", "1mi", "1 m", "1.5x", "1e", "--1", "1.2.3",
        ] {
            assert_eq!(r(input), None, "input {input:?}");
        }
    }

    #[test]
    fn idempotent() {
        for input in [
            "100u", "1.5Gi", "0.5", "1024Mi", "1000", "129e6", "1e1", "3.14159",
        ] {
            let once = r(input).unwrap();
            assert_eq!(r(&once).as_deref(), Some(once.as_str()), "input {input}");
        }
    }
}
