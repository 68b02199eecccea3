//! Percentages such as a win probability: shown as 12.5, stored exactly as an integer of
//! hundredths of a percent (1250), never as a float.

use rust_decimal::Decimal;
use serde_json::Value;

use crate::error::{FieldError, codes};

/// Hundredths of a percent in one percent.
const SCALE: i64 = 100;

/// Parses a number or numeric string between 0 and 100 with at most two decimals.
pub fn parse(v: &Value) -> Result<i64, FieldError> {
    let not_a_number = || FieldError::not_parsed(codes::NOT_A_NUMBER, v);
    let dec = match v {
        Value::Number(n) => n.to_string().parse::<Decimal>(),
        Value::String(s) => s.trim().trim_end_matches('%').trim().parse::<Decimal>(),
        _ => return Err(not_a_number()),
    }
    .map_err(|_| not_a_number())?;
    if dec.normalize().scale() > 2 {
        return Err(FieldError::new(codes::TOO_MANY_DECIMAL_PLACES).with("max", 2));
    }
    let out_of_range = || {
        FieldError::new(codes::OUT_OF_RANGE)
            .with("min", 0)
            .with("max", 100)
    };
    if dec < Decimal::ZERO || dec > Decimal::from(100) {
        return Err(out_of_range());
    }
    (dec * Decimal::from(SCALE))
        .trunc()
        .try_into()
        .map_err(|_| out_of_range())
}

/// The API's form: a JSON number, whole where it can be (25, 12.5).
pub fn to_json(hundredths: i64) -> Value {
    let dec = Decimal::new(hundredths, 2).normalize();
    serde_json::from_str(&dec.to_string()).unwrap_or(Value::Null)
}

/// `amount` (minor units) times `hundredths` of a percent, rounded half away from zero to a
/// whole minor unit: the weighted amount of a deal.
pub fn apply(amount: i64, hundredths: i64) -> i64 {
    let product = i128::from(amount) * i128::from(hundredths);
    let divisor = i128::from(SCALE) * 100;
    let rounded = (product.abs() + divisor / 2) / divisor * product.signum();
    i64::try_from(rounded).unwrap_or(if product < 0 { i64::MIN } else { i64::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_formats_and_applies_exactly() {
        assert_eq!(parse(&json!(25)).unwrap(), 2500);
        assert_eq!(parse(&json!("12.5%")).unwrap(), 1250);
        assert_eq!(parse(&json!(0.01)).unwrap(), 1);
        assert!(parse(&json!(100.5)).is_err());
        assert!(parse(&json!(-1)).is_err());
        assert!(parse(&json!("1.234")).is_err());
        assert!(parse(&json!(true)).is_err());
        assert_eq!(to_json(2500), json!(25));
        assert_eq!(to_json(1250), json!(12.5));
        assert_eq!(apply(100_000, 2500), 25_000);
        assert_eq!(apply(333, 5000), 167);
        assert_eq!(apply(-333, 5000), -167);
    }
}
