//! Kubernetes resource quantities (`100m`, `0.5`, `1e3`, `129M`, `123Mi`, ...), parsed the way
//! `resource.ParseQuantity` in k8s.io/apimachinery does, so that comparing a request with its limit
//! gives the API server's answer.
//!
//! A quantity is held as a whole number of nano-units (the API server rounds anything finer up to
//! 1n), in an `i128`: exact for every value the API can store as an `int64` of nano-units and
//! far beyond (up to about 1.7e29 units); larger values are capped there.

use std::fmt;

/// A parsed quantity: value × 10⁹, rounded up (away from zero) to a whole nano-unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity {
    pub nanos: i128,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    #[error("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")]
    Format,
    #[error("unable to parse quantity's suffix")]
    Suffix,
}

const NANOS_PER_UNIT: i128 = 1_000_000_000;
/// BinarySI quantities are capped at 2^63-1 units by the API server.
const MAX_BINARY_UNITS: i128 = i64::MAX as i128;

/// The base-10 or base-2 exponent a suffix stands for.
enum Scale {
    Decimal(i64),
    Binary(u32),
}

fn interpret_suffix(suffix: &str) -> Option<Scale> {
    let decimal = |e| Some(Scale::Decimal(e));
    match suffix {
        "n" => decimal(-9),
        "u" => decimal(-6),
        "m" => decimal(-3),
        "" => decimal(0),
        "k" => decimal(3),
        "M" => decimal(6),
        "G" => decimal(9),
        "T" => decimal(12),
        "P" => decimal(15),
        "E" => decimal(18),
        "Ki" => Some(Scale::Binary(10)),
        "Mi" => Some(Scale::Binary(20)),
        "Gi" => Some(Scale::Binary(30)),
        "Ti" => Some(Scale::Binary(40)),
        "Pi" => Some(Scale::Binary(50)),
        "Ei" => Some(Scale::Binary(60)),
        _ => {
            // `e<int>` / `E<int>`: a decimal exponent, parsed as Go's strconv.ParseInt does.
            let rest = suffix.strip_prefix(['e', 'E'])?;
            if rest.is_empty() {
                return None;
            }
            rest.parse::<i64>().ok().map(Scale::Decimal)
        }
    }
}

/// The pieces `parseQuantityString` finds: sign, integer digits, fraction digits, suffix.
struct Parts<'a> {
    negative: bool,
    integer: &'a str,
    fraction: &'a str,
    suffix: &'a str,
}

fn split(text: &str) -> Result<Parts<'_>, QuantityError> {
    let bytes = text.as_bytes();
    let mut pos = 0;
    let mut negative = false;
    match bytes.first() {
        Some(b'-') => {
            negative = true;
            pos = 1;
        }
        Some(b'+') => pos = 1,
        _ => {}
    }
    let digits_from = |start: usize| {
        start
            + bytes[start..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count()
    };
    let integer_end = digits_from(pos);
    let integer = &text[pos..integer_end];
    pos = integer_end;
    let mut fraction = "";
    if bytes.get(pos) == Some(&b'.') {
        let fraction_end = digits_from(pos + 1);
        fraction = &text[pos + 1..fraction_end];
        pos = fraction_end;
    }
    // The suffix: letters from the suffix alphabet, then an optional sign and digits (an exponent).
    let suffix_start = pos;
    pos += bytes[pos..]
        .iter()
        .take_while(|b| b"eEinumkKMGTP".contains(b))
        .count();
    if matches!(bytes.get(pos), Some(b'-' | b'+')) {
        pos += 1;
    }
    pos = digits_from(pos);
    if pos != bytes.len() {
        return Err(QuantityError::Format);
    }
    Ok(Parts {
        negative,
        integer,
        fraction,
        suffix: &text[suffix_start..],
    })
}

fn pow10(exponent: u32) -> Option<i128> {
    10i128.checked_pow(exponent)
}

/// Digits as an integer, or None when they do not fit (leading zeros are free).
fn digits_value(digits: &str) -> Option<i128> {
    digits.bytes().try_fold(0i128, |acc, d| {
        acc.checked_mul(10)?.checked_add(i128::from(d - b'0'))
    })
}

impl Quantity {
    pub fn parse(text: &str) -> Result<Quantity, QuantityError> {
        if text.is_empty() {
            return Err(QuantityError::Format);
        }
        let parts = split(text)?;
        let scale = interpret_suffix(parts.suffix).ok_or(QuantityError::Suffix)?;
        // Trailing zeros of the fraction change nothing and would only cost range.
        let fraction = parts.fraction.trim_end_matches('0');
        let digits = format!("{}{}", parts.integer, fraction);
        let digits = digits.trim_start_matches('0');
        // Beyond 37 significant digits an i128 overflows: keep 37, rounding the rest up (the
        // result is rounded up to 1n anyway, and ceil(ceil(x / a) / b) = ceil(x / ab)).
        const KEPT: usize = 37;
        let (kept, dropped) = digits.split_at(digits.len().min(KEPT));
        let round_up = dropped.bytes().any(|d| d != b'0');
        let mantissa = digits_value(kept).map(|m| m + i128::from(round_up));
        let fraction_digits = fraction.len() as i64 - dropped.len() as i64;

        let (exponent10, exponent2) = match scale {
            Scale::Decimal(e) => (e, 0),
            Scale::Binary(e) => (0, e),
        };
        // nanos = mantissa × 10^(9 - fraction_digits + exponent10) × 2^exponent2, rounded up.
        let power = 9 - fraction_digits + exponent10;
        let magnitude = match mantissa {
            None => i128::MAX,
            Some(0) => 0,
            Some(m) => {
                let m = m.checked_mul(1i128 << exponent2).unwrap_or(i128::MAX);
                if power >= 0 {
                    u32::try_from(power)
                        .ok()
                        .and_then(pow10)
                        .and_then(|p| m.checked_mul(p))
                        .unwrap_or(i128::MAX)
                } else {
                    match u32::try_from(-power).ok().and_then(pow10) {
                        // Anything non-zero below 1n rounds up to 1n.
                        None => 1,
                        Some(divisor) => m / divisor + i128::from(m % divisor != 0),
                    }
                }
            }
        };
        let magnitude = match scale {
            Scale::Binary(_) => magnitude.min(MAX_BINARY_UNITS * NANOS_PER_UNIT),
            Scale::Decimal(_) => magnitude,
        };
        Ok(Quantity {
            nanos: if parts.negative {
                -magnitude
            } else {
                magnitude
            },
        })
    }

    /// Whole milli-units, rounded up (how `MilliValue` reports CPU).
    pub fn millis(&self) -> i128 {
        let per_milli = NANOS_PER_UNIT / 1000;
        self.nanos / per_milli + i128::from(self.nanos % per_milli > 0)
    }
}

impl std::str::FromStr for Quantity {
    type Err = QuantityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Quantity::parse(s)
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}n", self.nanos)
    }
}

/// The quantity a manifest value stands for: a string, or a plain YAML/JSON number (which the API
/// server reads through its decimal text).
pub fn from_rego(value: &regorus::Value) -> Option<Quantity> {
    match value {
        // The API server's JSON decoding trims spaces around a quantity string (ParseQuantity
        // itself does not).
        regorus::Value::String(s) => Quantity::parse(s.trim()).ok(),
        regorus::Value::Number(_) => serde_json::to_string(value)
            .ok()
            .and_then(|text| Quantity::parse(&text).ok()),
        _ => None,
    }
}
