//! Money as amount + ISO 4217 currency, stored as an integer of minor units (DESIGN.md section 3).

use rust_decimal::Decimal;
use serde_json::Value;

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

/// The ISO code of a currency as Chinese ERP exports and spreadsheets name it in their 币种
/// column (人民币, 美元 …), or the text itself, upper-cased, when it names none of them (a
/// code such as `usd`).
pub fn currency_code(text: &str) -> String {
    const NAMES: &[(&str, &str)] = &[
        ("人民币", "CNY"),
        ("本币", "CNY"),
        ("RMB", "CNY"),
        ("美元", "USD"),
        ("美金", "USD"),
        ("欧元", "EUR"),
        ("港币", "HKD"),
        ("港元", "HKD"),
        ("日元", "JPY"),
        ("英镑", "GBP"),
        ("新台币", "TWD"),
        ("澳门元", "MOP"),
        ("韩元", "KRW"),
        ("新加坡元", "SGD"),
        ("澳元", "AUD"),
        ("加元", "CAD"),
        ("瑞士法郎", "CHF"),
    ];
    let t = text.trim();
    NAMES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(t))
        .map_or_else(|| t.to_uppercase(), |(_, code)| (*code).to_string())
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
    let mut o = serde_json::Map::new();
    o.insert(
        "amount".into(),
        Value::String(amount_text(minor, minor_digits(currency))),
    );
    o.insert("currency".into(), Value::String(currency.to_string()));
    Value::Object(o)
}

/// `minor` units as the decimal text of the amount, with all `digits` decimals: `-0.05`,
/// `4570000.00`. The digits are moved, not computed: a board writes hundreds of amounts, and
/// going through a `Decimal` and its formatter cost more than the rest of a card's values.
pub fn amount_text(minor: i64, digits: u32) -> String {
    let scale = 10u64.pow(digits);
    let abs = minor.unsigned_abs();
    let mut out = String::with_capacity(24);
    if minor < 0 {
        out.push('-');
    }
    out.push_str(itoa::Buffer::new().format(abs / scale));
    if digits > 0 {
        let frac = abs % scale;
        let mut buf = itoa::Buffer::new();
        let frac = buf.format(frac);
        out.push('.');
        for _ in frac.len()..digits as usize {
            out.push('0');
        }
        out.push_str(frac);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn amounts_read_as_their_decimal_does() {
        for digits in [0, 2, 3] {
            for minor in [
                0,
                1,
                -1,
                5,
                -5,
                99,
                100,
                -100,
                123_456,
                -1_000_001,
                457_000_000,
                MAX_MINOR as i64,
                -(MAX_MINOR as i64),
                i64::MAX,
                i64::MIN + 1,
            ] {
                assert_eq!(
                    amount_text(minor, digits),
                    Decimal::new(minor, digits).to_string(),
                    "{minor} with {digits} digits"
                );
            }
        }
    }

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
