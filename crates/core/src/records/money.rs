//! Money as amount + ISO 4217 currency, stored as an integer of minor units (DESIGN.md section 3).

use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::error::{FieldError, codes, shown};

/// Digits after the decimal point in a currency's minor unit.
pub fn minor_digits(currency: &str) -> u32 {
    match currency {
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" => 3,
        _ => 2,
    }
}

pub fn valid_currency(c: &str) -> bool {
    c.len() == 3 && c.chars().all(|ch| ch.is_ascii_uppercase())
}

/// The largest amount stored, in minor units: well inside an `i64`, so sums of many stay exact.
const MAX_MINOR: u64 = 100_000_000_000_000_000;

/// Parses `{"amount": "12.30", "currency": "CNY"}`, a bare number or a numeric string (in the
/// default currency) into (minor units, currency).
pub fn parse(v: &Value, default_currency: &str) -> Result<(i64, String), FieldError> {
    let (amount, currency) = match v {
        Value::Object(o) => {
            if let Some(k) = o.keys().find(|k| *k != "amount" && *k != "currency") {
                return Err(FieldError::new(codes::UNKNOWN_KEY).with("key", shown(k)));
            }
            let currency = match o.get("currency") {
                None | Some(Value::Null) => default_currency.to_string(),
                Some(Value::String(c)) => c.trim().to_uppercase(),
                Some(other) => {
                    return Err(FieldError::not_parsed(codes::NOT_A_CURRENCY, other));
                }
            };
            (o.get("amount").cloned().unwrap_or(Value::Null), currency)
        }
        other => (other.clone(), default_currency.to_string()),
    };
    if !valid_currency(&currency) {
        return Err(FieldError::new(codes::NOT_A_CURRENCY).with("value", shown(&currency)));
    }
    let not_a_number = || FieldError::not_parsed(codes::NOT_A_NUMBER, &amount);
    let dec = match &amount {
        Value::String(s) => s
            .trim()
            .replace([',', '_'], "")
            .parse::<Decimal>()
            .map_err(|_| not_a_number())?,
        Value::Number(n) => n
            .to_string()
            .parse::<Decimal>()
            .map_err(|_| not_a_number())?,
        _ => return Err(not_a_number()),
    };
    let digits = minor_digits(&currency);
    if dec.normalize().scale() > digits {
        return Err(FieldError::new(codes::TOO_MANY_DECIMALS)
            .with("currency", currency)
            .with("max", digits));
    }
    let too_large = || FieldError::new(codes::TOO_LARGE);
    // Checked: near Decimal's limit (about 7.9e28) the multiplication would panic.
    let minor = dec
        .checked_mul(Decimal::from(10i64.pow(digits)))
        .ok_or_else(too_large)?;
    let minor: i64 = minor.trunc().try_into().map_err(|_| too_large())?;
    if minor.unsigned_abs() > MAX_MINOR {
        return Err(too_large());
    }
    Ok((minor, currency))
}

/// Parses an amount alone (for filters), in the default minor unit.
pub fn parse_amount(s: &str, currency: &str) -> Result<i64, FieldError> {
    parse(&Value::String(s.to_string()), currency).map(|(m, _)| m)
}

pub fn to_json(minor: i64, currency: &str) -> Value {
    let digits = minor_digits(currency);
    let amount = Decimal::new(minor, digits);
    json!({"amount": amount.to_string(), "currency": currency})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_without_losing_digits() {
        let (m, c) = parse(
            &json!({"amount": "12345678901234.56", "currency": "cny"}),
            "CNY",
        )
        .unwrap();
        assert_eq!((m, c.as_str()), (1_234_567_890_123_456, "CNY"));
        assert_eq!(
            to_json(m, "CNY"),
            json!({"amount": "12345678901234.56", "currency": "CNY"})
        );
        assert_eq!(parse(&json!(5), "USD").unwrap(), (500, "USD".to_string()));
        assert_eq!(
            parse(&json!("1000"), "JPY").unwrap(),
            (1000, "JPY".to_string())
        );
        assert_eq!(
            parse(&json!("1.234"), "CNY"),
            Err(FieldError::new(codes::TOO_MANY_DECIMALS)
                .with("currency", "CNY")
                .with("max", 2))
        );
        assert!(parse(&json!({"amount": "1", "currency": "yuan"}), "CNY").is_err());
        assert!(parse(&json!(true), "CNY").is_err());
    }
}
