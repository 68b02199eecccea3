//! Per-customer summaries (frequency, recency, T, monetary, holdout) as of the calibration end;
//! see the module docs of [`crate::transactions`].

use chrono::NaiveDate;
use serde::Serialize;

use super::{DayNumber, Histories, Period, TransactionError, Transactions, day_number};

impl Transactions {
    /// Per-customer summaries as of the calibration end. See [`summarize`].
    pub fn summarize(&self, options: &SummaryOptions) -> Result<Summary, TransactionError> {
        summarize(&self.histories(), options)
    }
}

/// Options for [`summarize`].
#[derive(Clone, Copy, Debug)]
pub struct SummaryOptions {
    /// Unit of recency, T and the holdout length.
    pub period: Period,
    /// Last day of the calibration window (inclusive).
    pub calibration_end: NaiveDate,
    /// Last day of the holdout window (inclusive), if predictions are to be checked.
    pub holdout_end: Option<NaiveDate>,
}

/// One customer's summary as of the calibration end (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct CustomerSummary {
    /// Customer key (see [`Transactions::customer_id`]).
    pub customer: u32,
    /// Repeat purchases in the calibration window (purchase days minus one).
    pub frequency: u32,
    /// Time from first to last calibration purchase, in periods.
    pub recency: f64,
    /// Time from first purchase to the calibration end, in periods.
    pub t: f64,
    /// Mean value of the repeat purchases (0 without repeats).
    pub monetary: f64,
    /// First purchase day.
    pub first_day: DayNumber,
    /// Last purchase day within calibration.
    pub last_day: DayNumber,
    /// Total spend in calibration, first purchase included.
    pub total_amount: f64,
    /// Total cost in calibration (0 when unknown).
    pub total_cost: f64,
    /// Purchase days in the holdout window.
    pub holdout_frequency: u32,
    /// Spend in the holdout window.
    pub holdout_amount: f64,
}

impl CustomerSummary {
    /// Gross margin rate in calibration, `(amount − cost) / amount`, when costs are known.
    pub fn margin_rate(&self) -> Option<f64> {
        (self.total_amount > 0.0).then(|| (self.total_amount - self.total_cost) / self.total_amount)
    }
}

/// The per-customer summaries and the window they describe.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Time unit.
    pub period: Period,
    /// Calibration end day.
    pub calibration_end: DayNumber,
    /// Holdout end day, if any.
    pub holdout_end: Option<DayNumber>,
    /// Holdout length in periods (0 without holdout).
    pub holdout_length: f64,
    /// Whether costs were known.
    pub has_cost: bool,
    /// One row per customer whose first purchase is on or before the calibration end, by key.
    pub customers: Vec<CustomerSummary>,
}

impl Summary {
    /// Builds a summary straight from `(frequency, recency, T, monetary)` values, for callers
    /// that already hold them (and for tests). Keys are positions.
    pub fn from_values(period: Period, values: &[(u32, f64, f64, f64)]) -> Summary {
        let customers = values
            .iter()
            .enumerate()
            .map(|(i, &(x, tx, t, m))| CustomerSummary {
                customer: i as u32,
                frequency: x,
                recency: tx,
                t,
                monetary: m,
                first_day: 0,
                last_day: 0,
                total_amount: m * f64::from(x),
                total_cost: 0.0,
                holdout_frequency: 0,
                holdout_amount: 0.0,
            })
            .collect();
        Summary {
            period,
            calibration_end: 0,
            holdout_end: None,
            holdout_length: 0.0,
            has_cost: false,
            customers,
        }
    }
}

/// Summarises histories as of `options.calibration_end` (see the module docs). Customers whose
/// first purchase falls after the calibration end are left out (they were not customers yet).
pub fn summarize(
    histories: &Histories,
    options: &SummaryOptions,
) -> Result<Summary, TransactionError> {
    let cal = day_number(options.calibration_end);
    let hold = options.holdout_end.map(day_number);
    if hold.is_some_and(|h| h <= cal) {
        return Err(TransactionError::InvalidOption(
            "the holdout end must be after the calibration end".into(),
        ));
    }
    let pd = options.period.days();
    let mut customers = Vec::with_capacity(histories.len());
    for (key, h) in histories.iter() {
        let Some(&first) = h.days.first() else {
            continue;
        };
        if first > cal {
            continue;
        }
        let ncal = h.days.partition_point(|&d| d <= cal);
        let last = h.days[ncal - 1];
        let repeat = &h.amounts[1..ncal];
        let frequency = repeat.len() as u32;
        let monetary = if repeat.is_empty() {
            0.0
        } else {
            repeat.iter().sum::<f64>() / repeat.len() as f64
        };
        let total_amount: f64 = h.amounts[..ncal].iter().sum();
        let total_cost: f64 = h.costs.map_or(0.0, |c| c[..ncal].iter().sum());
        let (holdout_frequency, holdout_amount) = match hold {
            Some(he) => {
                let nh = h.days.partition_point(|&d| d <= he);
                ((nh - ncal) as u32, h.amounts[ncal..nh].iter().sum::<f64>())
            }
            None => (0, 0.0),
        };
        customers.push(CustomerSummary {
            customer: key,
            frequency,
            recency: f64::from(last - first) / pd,
            t: f64::from(cal - first) / pd,
            monetary,
            first_day: first,
            last_day: last,
            total_amount,
            total_cost,
            holdout_frequency,
            holdout_amount,
        });
    }
    Ok(Summary {
        period: options.period,
        calibration_end: cal,
        holdout_end: hold,
        holdout_length: hold.map_or(0.0, |h| f64::from(h - cal) / pd),
        has_cost: histories.costs.is_some(),
        customers,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::transactions::ParseOptions;
    use crate::transactions::tests::d;

    #[test]
    fn parses_and_summarizes() {
        let csv = "Customer_ID,date,amount,cost,extra\n\
                   a,2024-01-01,10,4,x\n\
                   a,20240101,5,1,x\n\
                   a,2024-01-15,20,5,\n\
                   b,2024-01-08,7,,\n\
                   a,2024-02-05,30,10,\n\
                   a,2024-03-01,99,0,\n\
                   c,2024-03-01,1,0,\n";
        let t = Transactions::read(csv.as_bytes(), &ParseOptions::default(), None).unwrap();
        assert_eq!(t.num_customers(), 3);
        let s = t
            .summarize(&SummaryOptions {
                period: Period::Week,
                calibration_end: d("2024-02-12"),
                holdout_end: Some(d("2024-03-10")),
            })
            .unwrap();
        assert_eq!(s.customers.len(), 2);
        let a = s.customers[0];
        assert_eq!(a.frequency, 2);
        assert!((a.recency - 5.0).abs() < 1e-12);
        assert!((a.t - 6.0).abs() < 1e-12);
        assert!((a.monetary - 25.0).abs() < 1e-12);
        assert!((a.total_amount - 65.0).abs() < 1e-12);
        assert!((a.total_cost - 20.0).abs() < 1e-12);
        assert_eq!(a.holdout_frequency, 1);
        let b = s.customers[1];
        assert_eq!(b.frequency, 0);
        assert_eq!(b.monetary, 0.0);
        assert!((s.holdout_length - 27.0 / 7.0).abs() < 1e-12);
    }

    mod properties {
        use super::super::*;
        use crate::transactions::TransactionsBuilder;
        use proptest::prelude::*;

        fn rows() -> impl Strategy<Value = Vec<(u8, u16, u32)>> {
            prop::collection::vec((0u8..20, 0u16..400, 1u32..100_000), 1..200)
        }

        fn build(rows: &[(u8, u16, u32)]) -> Transactions {
            let base = NaiveDate::from_ymd_opt(2023, 1, 1).unwrap();
            let mut b = TransactionsBuilder::new();
            for &(c, d, cents) in rows {
                let date = base + chrono::Duration::days(i64::from(d));
                b.push(
                    &format!("c{c}"),
                    date,
                    f64::from(cents) / 100.0,
                    None,
                    None,
                    None,
                )
                .unwrap();
            }
            b.build()
        }

        fn by_id(t: &Transactions, s: &Summary) -> Vec<(String, CustomerSummary)> {
            let mut v: Vec<(String, CustomerSummary)> = s
                .customers
                .iter()
                .map(|c| {
                    (
                        t.customer_id(c.customer).to_string(),
                        CustomerSummary { customer: 0, ..*c },
                    )
                })
                .collect();
            v.sort_by(|a, b| a.0.cmp(&b.0));
            v
        }

        proptest! {
            #[test]
            fn summary_is_invariant_to_row_order(rows in rows(), seed in any::<u64>()) {
                let opts = SummaryOptions {
                    period: Period::Week,
                    calibration_end: NaiveDate::from_ymd_opt(2023, 10, 1).unwrap(),
                    holdout_end: NaiveDate::from_ymd_opt(2024, 2, 1),
                };
                let a = build(&rows);
                let mut shuffled = rows.clone();
                // Deterministic Fisher-Yates from the seed.
                let mut st = seed | 1;
                for i in (1..shuffled.len()).rev() {
                    st ^= st << 13; st ^= st >> 7; st ^= st << 17;
                    shuffled.swap(i, (st % (i as u64 + 1)) as usize);
                }
                let b = build(&shuffled);
                let (sa, sb) = (a.summarize(&opts).unwrap(), b.summarize(&opts).unwrap());
                let (va, vb) = (by_id(&a, &sa), by_id(&b, &sb));
                prop_assert_eq!(va.len(), vb.len());
                for ((ia, ca), (ib, cb)) in va.iter().zip(vb.iter()) {
                    prop_assert_eq!(ia, ib);
                    prop_assert_eq!(ca.frequency, cb.frequency);
                    prop_assert_eq!(ca.recency, cb.recency);
                    prop_assert_eq!(ca.t, cb.t);
                    prop_assert!((ca.monetary - cb.monetary).abs() <= 1e-9 * ca.monetary.abs().max(1.0));
                    prop_assert_eq!(ca.holdout_frequency, cb.holdout_frequency);
                    prop_assert!(ca.recency <= ca.t);
                }
            }
        }
    }
}
