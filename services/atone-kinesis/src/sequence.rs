//! Kinesis sequence numbers: decimal strings of up to 128 digits that only grow within a
//! shard. They are compared as integers: as strings, "9" > "10".

use std::cmp::Ordering;

/// Compares two sequence numbers as unsigned big integers.
///
/// Leading zeros are ignored. A string that is not all ASCII digits (never produced by
/// Kinesis) sorts by its digits' length and then byte-wise, which keeps the order total.
///
/// ```
/// use std::cmp::Ordering;
/// use atone_kinesis::cmp_sequence;
///
/// assert_eq!(cmp_sequence("9", "10"), Ordering::Less);
/// assert_eq!(
///     cmp_sequence(
///         "49590338271490256608559692538361571095921575989136588898",
///         "49590338271490256608559692540925702759324208523137515618",
///     ),
///     Ordering::Less,
/// );
/// ```
pub fn cmp_sequence(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// True when `candidate` comes strictly after `position` in the shard.
pub(crate) fn is_after(candidate: &str, position: Option<&str>) -> bool {
    position.is_none_or(|p| cmp_sequence(candidate, p) == Ordering::Greater)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_as_integers_not_strings() {
        assert_eq!(cmp_sequence("9", "10"), Ordering::Less);
        assert_eq!(cmp_sequence("10", "9"), Ordering::Greater);
        assert_eq!(cmp_sequence("123", "123"), Ordering::Equal);
        assert_eq!(cmp_sequence("00123", "123"), Ordering::Equal);
        assert_eq!(cmp_sequence("0", ""), Ordering::Equal);
        // Real Kinesis numbers (56 digits), beyond u128.
        let a = "49590338271490256608559692538361571095921575989136588898";
        let b = "49590338271490256608559692540925702759324208523137515618";
        assert_eq!(cmp_sequence(a, b), Ordering::Less);
        assert_eq!(cmp_sequence(b, a), Ordering::Greater);
        // A shorter number is smaller even when it is larger as a string.
        assert_eq!(
            cmp_sequence("99999999999999999999", "100000000000000000000"),
            Ordering::Less
        );
        assert!("99999999999999999999" > "100000000000000000000");
    }

    #[test]
    fn after_position() {
        assert!(is_after("5", None));
        assert!(is_after("10", Some("9")));
        assert!(!is_after("9", Some("9")));
        assert!(!is_after("8", Some("10")));
    }
}
