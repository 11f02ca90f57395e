//! Fractions of the statutes ("twee/derde", "de helft", "een/tiende"), compared in whole
//! numbers only: `for × 3 ≥ cast × 2`, never in floating point.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A fraction `numerator/denominator` with `0 ≤ numerator ≤ denominator` and a positive
/// denominator. Construct with [`Fraction::new`] or parse `"2/3"`.
///
/// ```
/// use stembus::core::Fraction;
///
/// let two_thirds: Fraction = "2/3".parse().unwrap();
/// assert!(two_thirds.at_least(18, 27)); // exactly two thirds of 27 votes cast
/// assert!(!two_thirds.at_least(17, 27));
/// assert_eq!(two_thirds.least_at_least(40), 27); // two thirds of 40 members
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fraction {
    numerator: u32,
    denominator: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FractionError {
    #[error("a fraction is written as two whole numbers with a slash, such as \"2/3\", not {0:?}")]
    Syntax(String),
    #[error("a fraction's denominator must be positive")]
    ZeroDenominator,
    #[error("a fraction of the members or votes cannot exceed one whole ({0}/{1})")]
    MoreThanWhole(u32, u32),
}

impl Fraction {
    pub const HALF: Fraction = Fraction { numerator: 1, denominator: 2 };
    pub const TWO_THIRDS: Fraction = Fraction { numerator: 2, denominator: 3 };
    pub const WHOLE: Fraction = Fraction { numerator: 1, denominator: 1 };
    pub const NONE: Fraction = Fraction { numerator: 0, denominator: 1 };

    pub fn new(numerator: u32, denominator: u32) -> Result<Self, FractionError> {
        if denominator == 0 {
            return Err(FractionError::ZeroDenominator);
        }
        if numerator > denominator {
            return Err(FractionError::MoreThanWhole(numerator, denominator));
        }
        Ok(Self { numerator, denominator })
    }

    pub const fn numerator(self) -> u32 {
        self.numerator
    }

    pub const fn denominator(self) -> u32 {
        self.denominator
    }

    pub fn is_zero(self) -> bool {
        self.numerator == 0
    }

    /// `part ≥ self × whole`, in whole numbers.
    pub fn at_least(self, part: u64, whole: u64) -> bool {
        u128::from(part) * u128::from(self.denominator) >= u128::from(whole) * u128::from(self.numerator)
    }

    /// `part > self × whole`, in whole numbers.
    pub fn more_than(self, part: u64, whole: u64) -> bool {
        u128::from(part) * u128::from(self.denominator) > u128::from(whole) * u128::from(self.numerator)
    }

    /// The least `part` with `part ≥ self × whole`.
    pub fn least_at_least(self, whole: u64) -> u64 {
        let num = u128::from(whole) * u128::from(self.numerator);
        let den = u128::from(self.denominator);
        u64::try_from(num.div_ceil(den)).unwrap_or(u64::MAX)
    }

    /// The least `part` with `part > self × whole`.
    pub fn least_more_than(self, whole: u64) -> u64 {
        let num = u128::from(whole) * u128::from(self.numerator);
        let den = u128::from(self.denominator);
        u64::try_from(num / den + 1).unwrap_or(u64::MAX)
    }

    /// Words for a person: "two thirds", "half", "one tenth", or "3/5".
    pub fn words(self) -> String {
        match (self.numerator, self.denominator) {
            (0, _) => "none".into(),
            (n, d) if n == d => "all".into(),
            (1, 2) => "half".into(),
            (2, 3) => "two thirds".into(),
            (3, 4) => "three quarters".into(),
            (1, 10) => "one tenth".into(),
            (n, d) => format!("{n}/{d}"),
        }
    }
}

impl fmt::Display for Fraction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.numerator, self.denominator)
    }
}

impl FromStr for Fraction {
    type Err = FractionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let syntax = || FractionError::Syntax(s.chars().take(40).collect());
        let (n, d) = s.trim().split_once('/').ok_or_else(syntax)?;
        let n: u32 = n.trim().parse().map_err(|_| syntax())?;
        let d: u32 = d.trim().parse().map_err(|_| syntax())?;
        Fraction::new(n, d)
    }
}

impl Serialize for Fraction {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Fraction {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_thirds_at_exactly_two_thirds() {
        assert!(Fraction::TWO_THIRDS.at_least(18, 27));
        assert!(!Fraction::TWO_THIRDS.at_least(17, 27));
        assert_eq!(Fraction::TWO_THIRDS.least_at_least(27), 18);
        assert_eq!(Fraction::TWO_THIRDS.least_at_least(40), 27);
    }

    #[test]
    fn more_than_half_excludes_a_tie() {
        assert!(!Fraction::HALF.more_than(10, 20));
        assert!(Fraction::HALF.more_than(11, 20));
        assert_eq!(Fraction::HALF.least_more_than(20), 11);
        assert_eq!(Fraction::HALF.least_more_than(21), 11);
    }

    #[test]
    fn large_counts_do_not_overflow() {
        assert!(Fraction::TWO_THIRDS.at_least(u64::MAX, u64::MAX));
        assert_eq!(Fraction::WHOLE.least_at_least(u64::MAX), u64::MAX);
    }

    #[test]
    fn malformed_fractions_are_refused() {
        assert!("2/0".parse::<Fraction>().is_err());
        assert!("3/2".parse::<Fraction>().is_err());
        assert!("0.66".parse::<Fraction>().is_err());
        assert_eq!("2 / 3".parse::<Fraction>(), Ok(Fraction::TWO_THIRDS));
    }
}
