//! Resource quantities as numbers (cores, bytes).

/// A quantity's value as a float (`500m` → 0.5, `64Mi` → 67108864), or None when malformed.
pub fn parse(s: &str) -> Option<f64> {
    let q = apimachinery::quantity::Quantity::parse(s).ok()?;
    Some(q.milli_value() as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn quantities() {
        assert_eq!(super::parse("500m"), Some(0.5));
        assert_eq!(super::parse("64Mi"), Some(67108864.0));
        assert_eq!(super::parse("1"), Some(1.0));
        assert_eq!(super::parse("x"), None);
    }
}
