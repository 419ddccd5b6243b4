//! Resource quantities (`resource.Quantity`): parsing with upstream's grammar and error texts,
//! exact comparison, and the canonical text upstream prints (`Quantity.String()`).
//!
//! A quantity is kept as an exact decimal `mantissa × 10^exp10` plus the format its suffix
//! selects (decimal SI, binary SI, or decimal exponent). Parsing rounds away from zero to
//! nano precision, as upstream does. Mantissas are 128-bit; numbers with more than ~36
//! significant digits are rejected (upstream accepts them with arbitrary precision).

pub mod text;

use std::cmp::Ordering;
use std::fmt;

/// Upstream's `ErrFormatWrong`.
pub const ERR_FORMAT_WRONG: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
/// Upstream's `ErrNumeric`.
pub const ERR_NUMERIC: &str = "unable to parse numeric part of quantity";
/// Upstream's `ErrSuffix`.
pub const ERR_SUFFIX: &str = "unable to parse quantity's suffix";

/// How a quantity prints its magnitude.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `k`, `M`, `m`, ... (and no suffix).
    DecimalSI,
    /// `Ki`, `Mi`, ...
    BinarySI,
    /// `e3`, `E-2`, ...
    DecimalExponent,
}

/// An exact resource quantity.
#[derive(Clone, Debug)]
pub struct Quantity {
    mantissa: i128,
    exp10: i32,
    format: Format,
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.cmp_to(other) == Ordering::Equal
    }
}

const DEC_SUFFIXES: &[(&str, i32)] =
    &[("n", -9), ("u", -6), ("m", -3), ("", 0), ("k", 3), ("M", 6), ("G", 9), ("T", 12), ("P", 15), ("E", 18)];
const BIN_SUFFIXES: &[(&str, u32)] = &[("Ki", 10), ("Mi", 20), ("Gi", 30), ("Ti", 40), ("Pi", 50), ("Ei", 60)];

fn pow10(n: u32) -> Option<i128> {
    10i128.checked_pow(n)
}

/// Splits a quantity string into sign, numerator digits, fraction digits and suffix, as
/// upstream's `parseQuantityString` does.
fn split(s: &str) -> Result<(bool, String, String, String), &'static str> {
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
        return Ok((positive, "0".into(), String::new(), String::new()));
    }
    let start = pos;
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    let mut num = s[start..pos].to_string();
    if num.is_empty() {
        num = "0".into();
    }
    let mut denom = String::new();
    if pos < end && b[pos] == b'.' {
        pos += 1;
        let ds = pos;
        while pos < end && b[pos].is_ascii_digit() {
            pos += 1;
        }
        denom = s[ds..pos].to_string();
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
        return Err(ERR_FORMAT_WRONG);
    }
    Ok((positive, num, denom, s[suffix_start..].to_string()))
}

/// What a suffix means: (base-10 exponent, base-2 exponent, format).
fn interpret_suffix(suffix: &str) -> Option<(i32, u32, Format)> {
    if let Some(&(_, e)) = DEC_SUFFIXES.iter().find(|(s, _)| *s == suffix) {
        return Some((e, 0, Format::DecimalSI));
    }
    if let Some(&(_, e)) = BIN_SUFFIXES.iter().find(|(s, _)| *s == suffix) {
        return Some((0, e, Format::BinarySI));
    }
    if suffix.len() > 1 && (suffix.starts_with('e') || suffix.starts_with('E')) {
        let rest = &suffix[1..];
        let digits = rest.strip_prefix(['+', '-']).unwrap_or(rest);
        if !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()) {
            let e: i32 = rest.parse().ok()?;
            return Some((e, 0, Format::DecimalExponent));
        }
    }
    None
}

impl Quantity {
    /// Parses a quantity as upstream's `ParseQuantity` (leading/trailing space not trimmed).
    pub fn parse(s: &str) -> Result<Quantity, &'static str> {
        if s.is_empty() {
            return Err(ERR_FORMAT_WRONG);
        }
        if s == "0" {
            return Ok(Quantity { mantissa: 0, exp10: 0, format: Format::DecimalSI });
        }
        let (positive, num, denom, suffix) = split(s)?;
        let (e10, e2, format) = interpret_suffix(&suffix).ok_or(ERR_SUFFIX)?;
        let digits = format!("{num}{denom}");
        let digits = digits.trim_start_matches('0');
        if digits.len() > 36 {
            return Err(ERR_NUMERIC);
        }
        let mut mantissa: i128 = if digits.is_empty() { 0 } else { digits.parse().map_err(|_| ERR_NUMERIC)? };
        mantissa = mantissa.checked_mul(1i128 << e2).ok_or(ERR_NUMERIC)?;
        let mut exp10 = e10 - denom.len() as i32;
        // round away from zero to nano precision
        if exp10 < -9 {
            let shift = (-9 - exp10) as u32;
            match pow10(shift) {
                Some(div) => {
                    let q = mantissa / div;
                    let r = mantissa % div;
                    mantissa = if r != 0 { q + 1 } else { q };
                }
                None => mantissa = if mantissa != 0 { 1 } else { 0 },
            }
            exp10 = -9;
        }
        if !positive {
            mantissa = -mantissa;
        }
        Ok(Quantity { mantissa, exp10, format }.normalized())
    }

    /// The exact sum (the format is this quantity's, or the other's when this one is zero and
    /// has none of its own), as upstream's `Quantity.Add`.
    pub fn add(&self, other: &Quantity) -> Quantity {
        let e = self.exp10.min(other.exp10);
        let scale = |q: &Quantity| pow10((q.exp10 - e) as u32).and_then(|p| q.mantissa.checked_mul(p)).unwrap_or(if q.mantissa < 0 { i128::MIN / 2 } else { i128::MAX / 2 });
        let format = if self.is_zero() && self.format == Format::DecimalSI { other.format } else { self.format };
        Quantity { mantissa: scale(self).saturating_add(scale(other)), exp10: e, format }.normalized()
    }

    /// The exact difference.
    pub fn sub(&self, other: &Quantity) -> Quantity {
        let neg = Quantity { mantissa: -other.mantissa, exp10: other.exp10, format: other.format };
        self.add(&neg)
    }

    /// A quantity from an integer, in decimal SI.
    pub fn from_int(v: i64) -> Quantity {
        Quantity { mantissa: v as i128, exp10: 0, format: Format::DecimalSI }.normalized()
    }

    fn normalized(mut self) -> Quantity {
        if self.mantissa == 0 {
            self.exp10 = 0;
            return self;
        }
        while self.mantissa % 10 == 0 {
            self.mantissa /= 10;
            self.exp10 += 1;
        }
        self
    }

    /// The format the suffix selected.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Whether the quantity is zero.
    pub fn is_zero(&self) -> bool {
        self.mantissa == 0
    }

    /// -1, 0 or 1.
    pub fn signum(&self) -> i32 {
        self.mantissa.signum() as i32
    }

    /// Compares two quantities exactly.
    pub fn cmp_to(&self, other: &Quantity) -> Ordering {
        let (a, b) = (self, other);
        if a.mantissa.signum() != b.mantissa.signum() {
            return a.mantissa.signum().cmp(&b.mantissa.signum());
        }
        let e = a.exp10.min(b.exp10);
        let scale = |q: &Quantity| -> Option<i128> { pow10((q.exp10 - e) as u32).and_then(|p| q.mantissa.checked_mul(p)) };
        match (scale(a), scale(b)) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => {
                // magnitudes differ wildly: compare by order of magnitude
                let mag = |q: &Quantity| q.mantissa.unsigned_abs().to_string().len() as i64 + q.exp10 as i64;
                let ord = mag(a).cmp(&mag(b));
                if a.mantissa < 0 { ord.reverse() } else { ord }
            }
        }
    }

    /// The value scaled to `10^scale` units, rounded away from zero (upstream's
    /// `ScaledValue`), saturating at the i64 range.
    pub fn scaled_value(&self, scale: i32) -> i64 {
        let diff = self.exp10 - scale;
        let v: i128 = if diff >= 0 {
            match pow10(diff as u32).and_then(|p| self.mantissa.checked_mul(p)) {
                Some(v) => v,
                None => if self.mantissa < 0 { i128::MIN } else { i128::MAX },
            }
        } else {
            match pow10((-diff) as u32) {
                Some(div) => {
                    let q = self.mantissa / div;
                    if self.mantissa % div != 0 { q + self.mantissa.signum() } else { q }
                }
                None => self.mantissa.signum(),
            }
        };
        v.clamp(i64::MIN as i128, i64::MAX as i128) as i64
    }

    /// The value in whole units, rounded away from zero (upstream's `Value`).
    pub fn value(&self) -> i64 {
        self.scaled_value(0)
    }

    /// The value in thousandths, rounded away from zero (upstream's `MilliValue`).
    pub fn milli_value(&self) -> i64 {
        self.scaled_value(-3)
    }

    /// Whether the value is a whole number.
    pub fn is_integer(&self) -> bool {
        self.exp10 >= 0 || self.mantissa == 0
    }

    /// The exact integer value, when it is one and fits.
    fn exact_integer(&self) -> Option<i128> {
        if self.exp10 < 0 {
            return None;
        }
        pow10(self.exp10 as u32).and_then(|p| self.mantissa.checked_mul(p))
    }

    /// The canonical text (upstream's `Quantity.String()`).
    pub fn canonical(&self) -> String {
        if self.mantissa == 0 {
            return "0".to_string();
        }
        let mut format = self.format;
        let mut as_int = None;
        if format == Format::BinarySI {
            match self.exact_integer() {
                Some(v) if v > -1024 && v < 1024 => format = Format::DecimalSI,
                Some(v) => as_int = Some(v),
                None => format = Format::DecimalSI,
            }
        }
        match format {
            Format::BinarySI => {
                let mut v = as_int.unwrap_or(0);
                let mut k = 0usize;
                while k < BIN_SUFFIXES.len() && v % 1024 == 0 {
                    v /= 1024;
                    k += 1;
                }
                let suffix = if k == 0 { "" } else { BIN_SUFFIXES[k - 1].0 };
                format!("{v}{suffix}")
            }
            _ => {
                let mut amount = self.mantissa;
                let mut exp = self.exp10;
                match exp.rem_euclid(3) {
                    1 => {
                        amount *= 10;
                        exp -= 1;
                    }
                    2 => {
                        amount *= 100;
                        exp -= 2;
                    }
                    _ => {}
                }
                if format == Format::DecimalExponent {
                    if exp == 0 { format!("{amount}") } else { format!("{amount}e{exp}") }
                } else {
                    match DEC_SUFFIXES.iter().find(|(_, e)| *e == exp) {
                        Some((s, _)) => format!("{amount}{s}"),
                        None => format!("{amount}e{exp}"),
                    }
                }
            }
        }
    }

    /// Whether the value is an integral multiple of `other` (both taken as exact values).
    pub fn is_multiple_of(&self, other: &Quantity) -> bool {
        if other.mantissa == 0 {
            return false;
        }
        let e = self.exp10.min(other.exp10);
        let scale = |q: &Quantity| -> Option<i128> { pow10((q.exp10 - e) as u32).and_then(|p| q.mantissa.checked_mul(p)) };
        match (scale(self), scale(other)) {
            (Some(a), Some(b)) => a % b == 0,
            _ => false,
        }
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

/// Parses a k8s-openapi quantity; upstream trims surrounding space when decoding JSON.
pub fn parse(q: &k8s_openapi::apimachinery::pkg::api::resource::Quantity) -> Result<Quantity, &'static str> {
    Quantity::parse(q.0.trim())
}

/// The canonical text of a k8s-openapi quantity, or its raw text when it does not parse.
pub fn canonical(q: &k8s_openapi::apimachinery::pkg::api::resource::Quantity) -> String {
    parse(q).map(|q| q.canonical()).unwrap_or_else(|_| q.0.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> String {
        Quantity::parse(s).unwrap().canonical()
    }

    #[test]
    fn canonical_forms() {
        let cases = [
            ("0", "0"),
            ("0Mi", "0"),
            ("1", "1"),
            ("+1", "1"),
            ("1000m", "1"),
            ("0.5", "500m"),
            ("500m", "500m"),
            (".5", "500m"),
            ("1.5", "1500m"),
            ("100m", "100m"),
            ("1k", "1k"),
            ("1000", "1k"),
            ("1500", "1500"),
            ("1Gi", "1Gi"),
            ("1024Mi", "1Gi"),
            ("1.5Gi", "1536Mi"),
            ("512Ki", "512Ki"),
            ("1000Ki", "1000Ki"),
            ("100Mi", "100Mi"),
            ("0.5Ki", "512"),
            ("1Ki", "1Ki"),
            ("1e3", "1e3"),
            ("1E3", "1e3"),
            ("1e0", "1"),
            ("10e2", "1e3"),
            ("128974848", "128974848"),
            ("129e6", "129e6"),
            ("129M", "129M"),
            ("123Mi", "123Mi"),
            ("-1", "-1"),
            ("-100m", "-100m"),
            ("1n", "1n"),
            ("0.1n", "1n"),
            ("1u", "1u"),
            ("12.3", "12300m"),
            ("2048", "2048"),
            ("1.", "1"),
            ("001", "1"),
        ];
        for (input, want) in cases {
            assert_eq!(c(input), want, "{input}");
        }
    }

    #[test]
    fn parse_errors() {
        assert_eq!(Quantity::parse(""), Err(ERR_FORMAT_WRONG));
        assert_eq!(Quantity::parse("abc"), Err(ERR_FORMAT_WRONG));
        assert_eq!(Quantity::parse("1x"), Err(ERR_FORMAT_WRONG));
        assert_eq!(Quantity::parse("1 Gi"), Err(ERR_FORMAT_WRONG));
        assert_eq!(Quantity::parse("1Gb"), Err(ERR_FORMAT_WRONG));
        assert_eq!(Quantity::parse("1kk"), Err(ERR_SUFFIX));
        assert_eq!(Quantity::parse("1Ki2"), Err(ERR_SUFFIX));
        assert_eq!(Quantity::parse("1e"), Err(ERR_SUFFIX));
    }

    #[test]
    fn comparison_and_values() {
        let q = |s: &str| Quantity::parse(s).unwrap();
        assert_eq!(q("1").cmp_to(&q("1000m")), Ordering::Equal);
        assert_eq!(q("1Gi").cmp_to(&q("1G")), Ordering::Greater);
        assert_eq!(q("500m").cmp_to(&q("1")), Ordering::Less);
        assert_eq!(q("-1").cmp_to(&q("0")), Ordering::Less);
        assert_eq!(q("1e20").cmp_to(&q("1n")), Ordering::Greater);
        assert_eq!(q("1500m").value(), 2);
        assert_eq!(q("1500m").milli_value(), 1500);
        assert_eq!(q("0.5m").milli_value(), 1);
        assert_eq!(q("2Mi").value(), 2097152);
        assert!(q("4Mi").is_multiple_of(&q("2Mi")));
        assert!(!q("3Mi").is_multiple_of(&q("2Mi")));
        assert!(q("1k").is_integer());
        assert!(!q("1.5").is_integer());
        assert!(q("1") == q("1000m"));
    }
}

#[cfg(test)]
mod agreement_tests {
    use super::Quantity;
    use super::text::canonical_quantity;

    /// The printed (canonical) form of stored quantities, as upstream's printers show them; the
    /// text form and the parsed form must agree.
    #[test]
    fn canonical_forms_agree() {
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
            assert_eq!(canonical_quantity(input).as_deref(), Some(want), "text form of {input}");
            let parsed = Quantity::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            let canon = parsed.canonical();
            // the parsed form prints the canonical value; text the parser keeps verbatim may
            // differ in spelling only (e.g. "1e3" kept as written, canonical "1k")
            let reparsed = Quantity::parse(&canon).unwrap();
            assert_eq!(reparsed.cmp_to(&parsed), std::cmp::Ordering::Equal, "{input} → {canon}");
        }
        assert_eq!(canonical_quantity("abc"), None);
        assert_eq!(canonical_quantity("1Qi"), None);
        assert_eq!(canonical_quantity(""), None);
    }
}
