//! The text upstream prints for a `resource.Quantity`: its canonical form (`1.5Gi` prints as
//! `1536Mi`, `0.5` as `500m`, `1000m` as `1`), except that a string which already parses in
//! canonical form is echoed as written. A string that does not parse as a quantity is printed as
//! it is stored.

/// How a quantity's suffix says it should be written back.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Format {
    DecimalSi,
    DecimalExponent,
    BinarySi,
}

/// The printed form of a stored quantity string.
pub(crate) fn canonical(s: &str) -> String {
    render(s).unwrap_or_else(|| s.to_string())
}

/// The pieces of a quantity string: sign, integer digits (leading zeros dropped, `"0"` when
/// none), fraction digits, the bare number text (sign included) and the suffix.
struct Parts<'a> {
    positive: bool,
    num: &'a str,
    denom: &'a str,
    suffix: &'a str,
}

fn is_digit(b: u8) -> bool {
    b.is_ascii_digit()
}

fn split(s: &str) -> Option<Parts<'_>> {
    let b = s.as_bytes();
    let end = b.len();
    let mut pos = 0;
    let mut positive = true;
    if pos < end {
        match b[0] {
            b'-' => {
                positive = false;
                pos += 1;
            }
            b'+' => pos += 1,
            _ => {}
        }
    }
    while pos < end && b[pos] == b'0' {
        pos += 1;
    }
    if pos >= end {
        return Some(Parts {
            positive,
            num: "0",
            denom: "",
            suffix: "",
        });
    }
    let start = pos;
    while pos < end && is_digit(b[pos]) {
        pos += 1;
    }
    let mut num = &s[start..pos];
    if pos >= end {
        return Some(Parts {
            positive,
            num,
            denom: "",
            suffix: "",
        });
    }
    if num.is_empty() {
        num = "0";
    }
    let mut denom = "";
    if b[pos] == b'.' {
        pos += 1;
        let dstart = pos;
        while pos < end && is_digit(b[pos]) {
            pos += 1;
        }
        denom = &s[dstart..pos];
        if pos >= end {
            return Some(Parts {
                positive,
                num,
                denom,
                suffix: "",
            });
        }
    }
    let suffix_start = pos;
    while pos < end && b"eEinumkKMGTP".contains(&b[pos]) {
        pos += 1;
    }
    if pos >= end {
        return Some(Parts {
            positive,
            num,
            denom,
            suffix: &s[suffix_start..],
        });
    }
    if b[pos] == b'-' || b[pos] == b'+' {
        pos += 1;
    }
    while pos < end && is_digit(b[pos]) {
        pos += 1;
    }
    if pos >= end {
        return Some(Parts {
            positive,
            num,
            denom,
            suffix: &s[suffix_start..],
        });
    }
    None
}

/// `(base, exponent, format)` of a suffix.
fn interpret(suffix: &str) -> Option<(u32, i32, Format)> {
    let dec = match suffix {
        "n" => Some(-9),
        "u" => Some(-6),
        "m" => Some(-3),
        "" => Some(0),
        "k" => Some(3),
        "M" => Some(6),
        "G" => Some(9),
        "T" => Some(12),
        "P" => Some(15),
        "E" => Some(18),
        _ => None,
    };
    if let Some(e) = dec {
        return Some((10, e, Format::DecimalSi));
    }
    let bin = match suffix {
        "Ki" => Some(10),
        "Mi" => Some(20),
        "Gi" => Some(30),
        "Ti" => Some(40),
        "Pi" => Some(50),
        "Ei" => Some(60),
        _ => None,
    };
    if let Some(e) = bin {
        return Some((2, e, Format::BinarySi));
    }
    let bytes = suffix.as_bytes();
    if bytes.len() > 1 && (bytes[0] == b'e' || bytes[0] == b'E') {
        let rest = &suffix[1..];
        let digits = rest.strip_prefix(['+', '-']).unwrap_or(rest);
        if digits.is_empty() || !digits.bytes().all(is_digit) {
            return None;
        }
        let e: i64 = rest.parse().ok()?;
        return Some((10, i32::try_from(e).ok()?, Format::DecimalExponent));
    }
    None
}

fn pow10(n: u32) -> Option<u128> {
    10u128.checked_pow(n)
}

fn render(s: &str) -> Option<String> {
    if s.is_empty() {
        return None;
    }
    if s == "0" {
        return Some("0".into());
    }
    let p = split(s)?;
    let (base, exponent, mut format) = interpret(p.suffix)?;
    let shifted = format!("{}{}", p.num, p.denom);

    // The exact-int64 path: a string already in canonical form is echoed.
    let (precision, mantissa): (i32, i64) = match format {
        Format::DecimalSi | Format::DecimalExponent => (18 - shifted.len() as i32, 1),
        Format::BinarySi => {
            if exponent >= 0 && p.denom.is_empty() {
                let approx = (exponent as f32 * 3.0 / 10.0) as i32;
                (15 - p.num.len() as i32 - approx - 1, 1i64 << exponent)
            } else {
                (-1, 1)
            }
        }
    };
    if precision >= 0 {
        let scale = if format == Format::BinarySi {
            0
        } else {
            exponent
        } - p.denom.len() as i32;
        if scale >= -9 {
            let value: i64 = shifted.parse().ok()?;
            if value.checked_mul(mantissa).is_some() {
                let canonical_already = match format {
                    Format::BinarySi => exponent % 10 == 0 && (value & 0x07) != 0,
                    _ => scale % 3 == 0 && !shifted.ends_with("000") && !shifted.starts_with('0'),
                };
                if canonical_already {
                    return Some(s.to_string());
                }
            }
        }
    }

    // The exact value: magnitude × 10^exp10.
    let digits: u128 = shifted.parse().ok()?;
    let mut exp10: i32 = -(p.denom.len() as i32);
    let mut mag = digits;
    if base == 10 {
        exp10 = exp10.checked_add(exponent)?;
    } else {
        mag = mag.checked_mul(1u128.checked_shl(exponent as u32)?)?;
    }
    if mag == 0 {
        return Some("0".into());
    }
    // Anything finer than a nano-unit rounds up to the next nano-unit.
    if exp10 < -9 {
        let drop = (-9 - exp10) as u32;
        mag = match pow10(drop) {
            Some(d) => mag.div_ceil(d),
            None => 1,
        };
        exp10 = -9;
    }
    let sign = if p.positive { "" } else { "-" };

    if format == Format::BinarySi {
        // Only integers of at least 1024 keep the binary form.
        let integer = if exp10 >= 0 {
            Some(mag.checked_mul(pow10(exp10 as u32)?)?)
        } else {
            let d = pow10((-exp10) as u32)?;
            if mag.is_multiple_of(d) {
                Some(mag / d)
            } else {
                None
            }
        };
        match integer {
            Some(mut n) if n >= 1024 => {
                let mut e = 0;
                while n >= 1024 && n.is_multiple_of(1024) {
                    n /= 1024;
                    e += 1;
                }
                let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
                    .get(e)
                    .copied()
                    .unwrap_or("");
                return Some(format!("{sign}{n}{suffix}"));
            }
            _ => format = Format::DecimalSi,
        }
    }

    while mag >= 10 && mag.is_multiple_of(10) {
        mag /= 10;
        exp10 += 1;
    }
    while exp10.rem_euclid(3) != 0 {
        mag = mag.checked_mul(10)?;
        exp10 -= 1;
    }
    let suffix = match format {
        Format::DecimalExponent => {
            if exp10 == 0 {
                String::new()
            } else {
                format!("e{exp10}")
            }
        }
        _ => match exp10 {
            -9 => "n",
            -6 => "u",
            -3 => "m",
            0 => "",
            3 => "k",
            6 => "M",
            9 => "G",
            12 => "T",
            15 => "P",
            18 => "E",
            _ => "",
        }
        .to_string(),
    };
    Some(format!("{sign}{mag}{suffix}"))
}

#[cfg(test)]
mod tests {
    use super::canonical;

    #[test]
    fn canonical_forms() {
        let cases = [
            ("0", "0"),
            ("0Gi", "0"),
            ("1Gi", "1Gi"),
            ("10Gi", "10Gi"),
            ("1.5Gi", "1536Mi"),
            ("1024Mi", "1Gi"),
            ("2000Mi", "2000Mi"),
            ("8Ki", "8Ki"),
            ("0.5Ki", "512"),
            ("0.5", "500m"),
            ("1.5", "1500m"),
            ("1000m", "1"),
            ("100m", "100m"),
            ("100M", "100M"),
            ("1000", "1k"),
            ("1500", "1500"),
            ("1e3", "1e3"),
            ("1.5e3", "1500"),
            ("12e6", "12e6"),
            ("0.1m", "100u"),
            ("1E", "1E"),
            ("-1.5Gi", "-1536Mi"),
            ("5Gi", "5Gi"),
            ("250m", "250m"),
            ("0.0000000001", "1n"),
            ("20", "20"),
        ];
        for (input, want) in cases {
            assert_eq!(canonical(input), want, "{input}");
        }
    }

    #[test]
    fn unparsable_is_echoed() {
        assert_eq!(canonical("abc"), "abc");
        assert_eq!(canonical("1Qi"), "1Qi");
        assert_eq!(canonical(""), "");
    }
}
