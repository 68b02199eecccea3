//! Reading one row: where the columns are, dates and numbers straight from the bytes, and the
//! validation both readers share ([`parse_fields`]).

use chrono::NaiveDate;

use super::{DayNumber, NONE_KEY, ParseOptions, Row, TransactionError, Transactions, day_number};

#[derive(Clone, Copy)]
pub(super) struct Columns {
    pub(super) customer: usize,
    pub(super) date: usize,
    pub(super) amount: usize,
    pub(super) cost: Option<usize>,
    pub(super) order: Option<usize>,
    pub(super) product: Option<usize>,
}

impl Columns {
    /// The number of leading fields that hold every column read.
    pub(super) fn width(&self) -> usize {
        [self.cost, self.order, self.product]
            .into_iter()
            .flatten()
            .chain([self.customer, self.date, self.amount])
            .max()
            .unwrap_or(0)
            + 1
    }

    pub(super) fn find(header: &csv::ByteRecord) -> Result<Columns, TransactionError> {
        let find = |name: &str| -> Option<usize> {
            header.iter().position(|h| {
                let h = String::from_utf8_lossy(h);
                h.trim()
                    .trim_start_matches('\u{feff}')
                    .eq_ignore_ascii_case(name)
            })
        };
        Ok(Columns {
            customer: find("customer_id").ok_or(TransactionError::MissingColumn("customer_id"))?,
            date: find("date").ok_or(TransactionError::MissingColumn("date"))?,
            amount: find("amount").ok_or(TransactionError::MissingColumn("amount"))?,
            cost: find("cost"),
            order: find("order_id"),
            product: find("product"),
        })
    }
}

pub(super) fn trim(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

/// Parses `YYYY-MM-DD` or `YYYYMMDD` into a day number.
pub fn parse_date(b: &[u8]) -> Result<DayNumber, String> {
    let b = trim(b);
    let digit = |i: usize| -> Option<u32> {
        let d = b[i].wrapping_sub(b'0');
        (d < 10).then_some(u32::from(d))
    };
    let number = |at: &[usize]| -> Option<u32> {
        at.iter().try_fold(0u32, |v, &i| Some(v * 10 + digit(i)?))
    };
    let ymd = match b.len() {
        10 if b[4] == b'-' && b[7] == b'-' => {
            (number(&[0, 1, 2, 3]), number(&[5, 6]), number(&[8, 9]))
        }
        8 => (number(&[0, 1, 2, 3]), number(&[4, 5]), number(&[6, 7])),
        _ => (None, None, None),
    };
    let bad = || {
        format!(
            "date `{}` is not YYYY-MM-DD or YYYYMMDD",
            String::from_utf8_lossy(b)
        )
    };
    match ymd {
        (Some(y), Some(m), Some(d)) => {
            let y = i32::try_from(y).map_err(|_| bad())?;
            day_number_ymd(y, m, d)
                .ok_or_else(|| format!("date `{}` does not exist", String::from_utf8_lossy(b)))
        }
        _ => Err(bad()),
    }
}

/// The day number of a date, `None` if it does not exist. Years of four digits are computed
/// directly (days from civil, as in H. Hinnant's `chrono`-compatible algorithms), because chrono's
/// general constructor took a tenth of the parse time; other years go to chrono.
fn day_number_ymd(y: i32, m: u32, d: u32) -> Option<DayNumber> {
    if !(0..=9999).contains(&y) {
        return NaiveDate::from_ymd_opt(y, m, d).map(day_number);
    }
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let length = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if d == 0 || d > length {
        return None;
    }
    // Years start in March, so the leap day ends a year.
    let (m, d) = (m as i32, d as i32);
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    // 719,468 days from 0000-03-01 to 1970-01-01, which is day 719,163 from the common era.
    Some(era * 146_097 + day_of_era - 719_468 + 719_163)
}

/// Reads `[-]digits[.digits]` with at most 15 digits the way `str::parse::<f64>` does, or `None`
/// for anything else. The digits make an integer below 2^53 and the power of ten is exact, so
/// one division, correctly rounded like the parser, gives the same bits (Clinger's fast path,
/// which the parser also takes); skipping the general parser and its UTF-8 check is what saves.
fn parse_simple_decimal(t: &[u8]) -> Option<f64> {
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let (negative, digits) = match t.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, t),
    };
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    let mut mantissa = 0u64;
    let mut point = None;
    for (i, &c) in digits.iter().enumerate() {
        if c.is_ascii_digit() {
            mantissa = mantissa * 10 + u64::from(c - b'0');
        } else if c == b'.' && point.is_none() && i > 0 && i + 1 < digits.len() {
            point = Some(i);
        } else {
            return None;
        }
    }
    let (count, scale) = match point {
        Some(p) => (digits.len() - 1, digits.len() - p - 1),
        None => (digits.len(), 0),
    };
    if count > 15 {
        return None;
    }
    let v = mantissa as f64 / POW10[scale];
    Some(if negative { -v } else { v })
}

pub(crate) fn parse_number(b: &[u8], what: &str) -> Result<f64, String> {
    let t = trim(b);
    if let Some(v) = parse_simple_decimal(t) {
        return Ok(v);
    }
    let s = std::str::from_utf8(t).map_err(|_| format!("{what} is not valid UTF-8"))?;
    if s.is_empty() {
        return Err(format!("{what} is empty"));
    }
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(format!("{what} `{s}` is not a number")),
    }
}

/// One row's values, validated but not yet interned.
pub(super) struct Fields<'a> {
    customer: &'a str,
    day: DayNumber,
    amount: f64,
    cost: Option<f64>,
    order: Option<&'a str>,
    product: Option<&'a str>,
}

/// Validates one record: `field(i)` is its `i`-th field and `len` its number of fields. Both
/// readers go through here, so they accept and reject the same rows with the same reasons.
pub(super) fn parse_fields<'a>(
    field: impl Fn(usize) -> Option<&'a [u8]>,
    len: usize,
    cols: Columns,
    options: &ParseOptions,
) -> Result<Fields<'a>, String> {
    let required = |i: usize, name: &str| -> Result<&'a [u8], String> {
        field(i).ok_or_else(|| format!("missing field `{name}` (row has {len} fields)"))
    };
    let cid = trim(required(cols.customer, "customer_id")?);
    if cid.is_empty() {
        return Err("customer_id is empty".into());
    }
    let customer =
        std::str::from_utf8(cid).map_err(|_| "customer_id is not valid UTF-8".to_string())?;
    let day = parse_date(required(cols.date, "date")?)?;
    let amount = parse_number(required(cols.amount, "amount")?, "amount")?;
    if options.reject_negative_amounts && amount < 0.0 {
        return Err(format!("amount {amount} is negative"));
    }
    let cost = match cols.cost {
        Some(i) => {
            let raw = field(i).map(trim).unwrap_or(b"");
            if raw.is_empty() {
                Some(0.0)
            } else {
                Some(parse_number(raw, "cost")?)
            }
        }
        None => None,
    };
    let opt_str = |i: Option<usize>, name: &str| -> Result<Option<&'a str>, String> {
        match i.and_then(&field).map(trim) {
            Some(b) if !b.is_empty() => std::str::from_utf8(b)
                .map(Some)
                .map_err(|_| format!("{name} is not valid UTF-8")),
            _ => Ok(None),
        }
    };
    Ok(Fields {
        customer,
        day,
        amount,
        cost,
        order: opt_str(cols.order, "order_id")?,
        product: opt_str(cols.product, "product")?,
    })
}

impl Transactions {
    /// Appends a validated row. `last` is the customer key of the previous row: files are often
    /// sorted by customer, and comparing with it is cheaper than a lookup.
    pub(super) fn push_fields(
        &mut self,
        f: &Fields<'_>,
        last: &mut Option<u32>,
    ) -> Result<(), String> {
        let customer = match *last {
            Some(k) if self.customers.bytes_at(k as usize) == f.customer.as_bytes() => k,
            _ => self
                .customers
                .intern(f.customer)
                .map_err(|e| e.to_string())?,
        };
        *last = Some(customer);
        self.rows.push(Row {
            customer,
            day: f.day,
            amount: f.amount,
        });
        if let (Some(cs), Some(c)) = (self.costs.as_mut(), f.cost) {
            cs.push(c);
        }
        if let Some((int, keys)) = self.orders.as_mut() {
            keys.push(match f.order {
                Some(o) => int.intern(o).map_err(|e| e.to_string())?,
                None => NONE_KEY,
            });
        }
        if let Some((int, keys)) = self.products.as_mut() {
            keys.push(match f.product {
                Some(p) => int.intern(p).map_err(|e| e.to_string())?,
                None => NONE_KEY,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::transactions::tests::d;

    /// What `parse_number` did before its fast path.
    fn std_number(b: &[u8]) -> Result<f64, String> {
        let s = std::str::from_utf8(trim(b)).map_err(|_| "x is not valid UTF-8".to_string())?;
        if s.is_empty() {
            return Err("x is empty".into());
        }
        match s.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(format!("x `{s}` is not a number")),
        }
    }

    #[test]
    fn numbers_parse_like_std() {
        let cases = [
            "0",
            "-0",
            "-0.0",
            "0.1",
            "0.3",
            "1.",
            ".5",
            "-.5",
            "12.345",
            "999999999999999",
            "9999999999999999",
            "99999999999999.9",
            "0.000000000000001",
            "1.0000000000000002",
            "123456789012345",
            "1234567890.12345",
            "+1",
            "1e3",
            "1..2",
            "-",
            "",
            " 7.25 ",
            "00012.50",
            "4.35",
            "0.1234567891234",
            "--1",
            "1-",
            "3.14159265358979",
        ];
        for c in cases {
            let (a, b) = (parse_number(c.as_bytes(), "x"), std_number(c.as_bytes()));
            assert_eq!(a.map(f64::to_bits), b.map(f64::to_bits), "{c:?}");
        }
    }

    #[test]
    fn dates_match_chrono() {
        let years = (0..=12).chain(1581..=2420).chain(9988..=9999);
        for y in years {
            for m in 0..=13 {
                for d in 0..=32 {
                    let ours = day_number_ymd(y, m, d);
                    let chrono = NaiveDate::from_ymd_opt(y, m, d).map(day_number);
                    assert_eq!(ours, chrono, "{y}-{m}-{d}");
                }
            }
        }
        assert_eq!(parse_date(b"0000-02-29"), Ok(day_number(d("0000-02-29"))));
        assert_eq!(parse_date(b" 20240229 "), Ok(day_number(d("2024-02-29"))));
        assert!(
            parse_date(b"2023-02-29")
                .unwrap_err()
                .contains("does not exist")
        );
        assert!(parse_date(b"2023-2-028").unwrap_err().contains("is not"));
        assert!(parse_date(b"2023-0a-01").unwrap_err().contains("is not"));
    }
}
