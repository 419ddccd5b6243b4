//! Go-compatible formatting of metav1.Time / MicroTime / Duration and float64.

use serde_json::Value;

/// Seconds between 0001-01-01T00:00:00Z (Go's zero time) and the Unix epoch.
const UNIX_TO_INTERNAL: i64 = 62_135_596_800;

/// Civil date from days since 1970-01-01 (proleptic Gregorian, H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365; // [0, 399]
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32; // [1, 31]
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32; // [1, 12]
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Go's `appendInt(b, year, 4)`: sign, then at least 4 digits.
fn push_year(out: &mut String, y: i64) {
    use std::fmt::Write;
    if y < 0 {
        out.push('-');
    }
    let _ = write!(out, "{:04}", y.unsigned_abs());
}

/// Formats Unix seconds (+ optional microseconds) as Go's
/// `t.UTC().Format(RFC3339)` / `Format(RFC3339Micro)`.
fn format_utc(sec: i64, micros: Option<u32>) -> Result<String, String> {
    use std::fmt::Write;
    // Go's time.Unix adds unixToInternal to the seconds; refuse inputs that
    // would overflow instead of reproducing Go's wrap-around.
    sec.checked_add(UNIX_TO_INTERNAL)
        .ok_or_else(|| format!("time seconds {sec} out of range"))?;
    let days = sec.div_euclid(86_400);
    let sod = sec.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let mut s = String::with_capacity(32);
    push_year(&mut s, y);
    let _ = write!(
        s,
        "-{:02}-{:02}T{:02}:{:02}:{:02}",
        m,
        d,
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    );
    if let Some(us) = micros {
        let _ = write!(s, ".{:06}", us);
    }
    s.push('Z');
    Ok(s)
}

/// metav1.Time from its protobuf Timestamp: nanos are ignored by upstream's
/// Unmarshal (`time.Unix(p.Seconds, 0)`). Returns None for the zero time
/// (Go marshals it as JSON null).
pub fn time_json(seconds: i64) -> Result<Option<String>, String> {
    if seconds == -UNIX_TO_INTERNAL {
        return Ok(None);
    }
    format_utc(seconds, None).map(Some)
}

/// metav1.MicroTime: nanos truncated (towards zero) to microseconds, then
/// normalised like Go's `time.Unix(sec, nsec)`. None for the zero time.
pub fn micro_time_json(seconds: i64, nanos: i32) -> Result<Option<String>, String> {
    let mut nsec = i64::from(nanos);
    nsec -= nsec % 1000; // Duration.Truncate(Microsecond): towards zero
    let mut sec = seconds;
    if !(0..1_000_000_000).contains(&nsec) {
        let n = nsec / 1_000_000_000;
        sec = sec
            .checked_add(n)
            .ok_or_else(|| "time seconds out of range".to_string())?;
        nsec -= n * 1_000_000_000;
        if nsec < 0 {
            nsec += 1_000_000_000;
            sec = sec
                .checked_sub(1)
                .ok_or_else(|| "time seconds out of range".to_string())?;
        }
    }
    if sec == -UNIX_TO_INTERNAL && nsec == 0 {
        return Ok(None);
    }
    format_utc(sec, Some((nsec / 1000) as u32)).map(Some)
}

/// Go's `time.Duration.String()`.
pub fn duration_string(d: i64) -> String {
    // Built right-to-left in a byte buffer exactly like Go's Duration.format.
    let mut buf = [0u8; 32];
    let mut w = buf.len();
    let neg = d < 0;
    let mut u = d.unsigned_abs();

    fn fmt_frac(buf: &mut [u8], mut w: usize, mut v: u64, prec: usize) -> (usize, u64) {
        let mut print = false;
        for _ in 0..prec {
            let digit = v % 10;
            print = print || digit != 0;
            if print {
                w -= 1;
                buf[w] = digit as u8 + b'0';
            }
            v /= 10;
        }
        if print {
            w -= 1;
            buf[w] = b'.';
        }
        (w, v)
    }
    fn fmt_int(buf: &mut [u8], mut w: usize, mut v: u64) -> usize {
        if v == 0 {
            w -= 1;
            buf[w] = b'0';
        } else {
            while v > 0 {
                w -= 1;
                buf[w] = (v % 10) as u8 + b'0';
                v /= 10;
            }
        }
        w
    }

    if u < 1_000_000_000 {
        let prec;
        w -= 1;
        buf[w] = b's';
        w -= 1;
        if u == 0 {
            buf[w] = b'0';
            return String::from_utf8_lossy(&buf[w..]).into_owned();
        } else if u < 1_000 {
            prec = 0;
            buf[w] = b'n';
        } else if u < 1_000_000 {
            prec = 3;
            // U+00B5 micro sign, two bytes
            w -= 1;
            buf[w] = 0xC2;
            buf[w + 1] = 0xB5;
        } else {
            prec = 6;
            buf[w] = b'm';
        }
        let (w2, u2) = fmt_frac(&mut buf, w, u, prec);
        w = fmt_int(&mut buf, w2, u2);
    } else {
        w -= 1;
        buf[w] = b's';
        let (w2, u2) = fmt_frac(&mut buf, w, u, 9);
        w = w2;
        u = u2;
        w = fmt_int(&mut buf, w, u % 60);
        u /= 60;
        if u > 0 {
            w -= 1;
            buf[w] = b'm';
            w = fmt_int(&mut buf, w, u % 60);
            u /= 60;
            if u > 0 {
                w -= 1;
                buf[w] = b'h';
                w = fmt_int(&mut buf, w, u);
            }
        }
    }
    if neg {
        w -= 1;
        buf[w] = b'-';
    }
    String::from_utf8_lossy(&buf[w..]).into_owned()
}

/// A float64 as the serde_json value one gets by parsing Go's encoding/json
/// output for it: integral values below 1e21 are printed without a fraction
/// by Go and therefore become JSON integers.
pub fn float_json(f: f64) -> Result<Value, String> {
    if !f.is_finite() {
        return Err(format!("json: unsupported value: {f}"));
    }
    if f.fract() == 0.0 && f.abs() < 1e21 {
        if f >= i64::MIN as f64 && f < i64::MAX as f64 {
            return Ok(Value::from(f as i64));
        }
        if f >= 0.0 && f < u64::MAX as f64 {
            return Ok(Value::from(f as u64));
        }
    }
    serde_json::Number::from_f64(f)
        .map(Value::Number)
        .ok_or_else(|| format!("json: unsupported value: {f}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_match_go() {
        // expectations from Go's time.Duration.String documentation/tests
        let cases: &[(i64, &str)] = &[
            (0, "0s"),
            (1, "1ns"),
            (1_100, "1.1µs"),
            (2_200_000, "2.2ms"),
            (3_300_000_000, "3.3s"),
            (4 * 60_000_000_000 + 5_000_000_000, "4m5s"),
            (4 * 60_000_000_000 + 5_001_000_000, "4m5.001s"),
            (
                5 * 3_600_000_000_000 + 6 * 60_000_000_000 + 7_001_000_000,
                "5h6m7.001s",
            ),
            (8 * 60_000_000_000 + 1, "8m0.000000001s"),
            (i64::MAX, "2562047h47m16.854775807s"),
            (i64::MIN, "-2562047h47m16.854775808s"),
            (-1_500_000_000, "-1.5s"),
            (3_600_000_000_000, "1h0m0s"),
        ];
        for (d, s) in cases {
            assert_eq!(duration_string(*d), *s, "{d}");
        }
    }

    #[test]
    fn times_match_jiff() {
        for &sec in &[
            0i64,
            1,
            86_399,
            951_782_400,
            1_700_000_000,
            253_402_200_000,
            -1,
            -86_401,
            -62_135_596_799,
        ] {
            let ts = jiff::Timestamp::from_second(sec).unwrap();
            let expect = ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
            assert_eq!(time_json(sec).unwrap().unwrap(), expect, "{sec}");
        }
        assert_eq!(time_json(-62_135_596_800).unwrap(), None);
        assert_eq!(
            time_json(253_402_300_799).unwrap().unwrap(),
            "9999-12-31T23:59:59Z"
        );
        assert_eq!(
            time_json(951_782_400).unwrap().unwrap(),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(
            time_json(253_402_300_800).unwrap().unwrap(),
            "10000-01-01T00:00:00Z"
        );
        assert_eq!(
            time_json(-62_135_596_801).unwrap().unwrap(),
            "0000-12-31T23:59:59Z"
        );
        assert!(time_json(i64::MAX).is_err());
    }

    #[test]
    fn micro_times() {
        assert_eq!(
            micro_time_json(1, 123_456_789).unwrap().unwrap(),
            "1970-01-01T00:00:01.123456Z"
        );
        assert_eq!(
            micro_time_json(1, 0).unwrap().unwrap(),
            "1970-01-01T00:00:01.000000Z"
        );
        // negative nanos: truncated towards zero, then normalised
        assert_eq!(
            micro_time_json(1, -1_500).unwrap().unwrap(),
            "1970-01-01T00:00:00.999999Z"
        );
        assert_eq!(
            micro_time_json(0, 2_000_000_999).unwrap().unwrap(),
            "1970-01-01T00:00:02.000000Z"
        );
        assert_eq!(micro_time_json(-62_135_596_800, 999).unwrap(), None);
        assert!(micro_time_json(-62_135_596_800, 1000).unwrap().is_some());
    }

    #[test]
    fn floats() {
        assert_eq!(float_json(1.0).unwrap(), serde_json::json!(1));
        assert_eq!(float_json(-3.0).unwrap(), serde_json::json!(-3));
        assert_eq!(float_json(0.5).unwrap(), serde_json::json!(0.5));
        assert_eq!(float_json(1e21).unwrap(), serde_json::json!(1e21));
        assert!(float_json(f64::NAN).is_err());
        assert!(float_json(f64::INFINITY).is_err());
    }
}
