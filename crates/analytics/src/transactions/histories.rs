//! Purchase histories per customer (same-day purchases merged) and baskets for cross-sell.

use super::{DayNumber, NONE_KEY, Transactions};

impl Transactions {
    /// Each customer's purchase history with same-day transactions merged (amounts and costs
    /// summed), days ascending. Linear time (a counting sort by customer, then a small sort per
    /// customer).
    pub fn histories(&self) -> Histories {
        let n = self.customers.len();
        let mut offsets = vec![0u32; n + 1];
        for r in &self.rows {
            offsets[r.customer as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut tmp: Vec<(DayNumber, f64, f64)> = vec![(0, 0.0, 0.0); self.rows.len()];
        for (i, r) in self.rows.iter().enumerate() {
            let slot = &mut fill[r.customer as usize];
            let c = self.costs.as_ref().map_or(0.0, |c| c[i]);
            tmp[*slot as usize] = (r.day, r.amount, c);
            *slot += 1;
        }
        // Sort each customer's slice by day and merge equal days.
        let mut days = Vec::with_capacity(tmp.len());
        let mut amounts = Vec::with_capacity(tmp.len());
        let mut costs = Vec::with_capacity(if self.costs.is_some() { tmp.len() } else { 0 });
        let mut out_offsets = Vec::with_capacity(n + 1);
        out_offsets.push(0u32);
        for c in 0..n {
            let s = &mut tmp[offsets[c] as usize..offsets[c + 1] as usize];
            if !s.is_sorted_by_key(|e| e.0) {
                s.sort_unstable_by_key(|e| e.0);
            }
            let mut last: Option<DayNumber> = None;
            for &(d, a, k) in s.iter() {
                if last == Some(d) {
                    if let Some(x) = amounts.last_mut() {
                        *x += a;
                    }
                    if let Some(x) = costs.last_mut() {
                        *x += k;
                    }
                } else {
                    days.push(d);
                    amounts.push(a);
                    if self.costs.is_some() {
                        costs.push(k);
                    }
                    last = Some(d);
                }
            }
            out_offsets.push(days.len() as u32);
        }
        Histories {
            offsets: out_offsets,
            days,
            amounts,
            costs: self.costs.as_ref().map(|_| costs),
        }
    }

    /// Baskets for cross-sell: the distinct products bought together, one basket per `order_id`
    /// (or, when the file has no `order_id`, per customer and day). Empty when there is no
    /// `product` column. Each basket's products are sorted and deduplicated.
    pub fn baskets(&self) -> Vec<Basket> {
        self.baskets_through(DayNumber::MAX)
    }

    /// [`Transactions::baskets`] of the rows dated on or before `last`, so that rules mined as
    /// of a date do not see later orders.
    pub fn baskets_through(&self, last: DayNumber) -> Vec<Basket> {
        let Some((_, products)) = self.products.as_ref() else {
            return Vec::new();
        };
        let mut keyed: Vec<(u64, u32, u32)> = Vec::with_capacity(self.rows.len());
        for (i, r) in self.rows.iter().enumerate() {
            let p = products[i];
            if p == NONE_KEY || r.day > last {
                continue;
            }
            let key = match self.orders.as_ref().map(|(_, o)| o[i]) {
                Some(o) if o != NONE_KEY => u64::from(o),
                // No order id: customer and day identify the basket (high bit marks the kind).
                _ => (1u64 << 63) | (u64::from(r.customer) << 32) | u64::from(r.day as u32),
            };
            keyed.push((key, r.customer, p));
        }
        keyed.sort_unstable();
        let mut out: Vec<Basket> = Vec::new();
        let mut i = 0;
        while i < keyed.len() {
            let key = keyed[i].0;
            let customer = keyed[i].1;
            let mut items = Vec::new();
            while i < keyed.len() && keyed[i].0 == key {
                if items.last() != Some(&keyed[i].2) {
                    items.push(keyed[i].2);
                }
                i += 1;
            }
            out.push(Basket {
                customer,
                products: items,
            });
        }
        out
    }
}

/// One basket: the products one customer bought in one order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Basket {
    /// Customer key.
    pub customer: u32,
    /// Product keys, sorted and distinct.
    pub products: Vec<u32>,
}

/// Purchase histories per customer, same-day purchases merged; compact column layout.
#[derive(Clone, Debug, Default)]
pub struct Histories {
    offsets: Vec<u32>,
    days: Vec<DayNumber>,
    amounts: Vec<f64>,
    pub(super) costs: Option<Vec<f64>>,
}

/// One customer's history: parallel slices, days strictly ascending.
#[derive(Clone, Copy, Debug)]
pub struct History<'a> {
    /// Purchase days, strictly ascending.
    pub days: &'a [DayNumber],
    /// Amount per purchase day.
    pub amounts: &'a [f64],
    /// Cost per purchase day, when costs are known.
    pub costs: Option<&'a [f64]>,
}

impl Histories {
    /// Number of customers (keys are `0..len()`).
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }
    /// Whether there are no customers.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The history of customer `key`.
    pub fn get(&self, key: u32) -> History<'_> {
        let k = key as usize;
        let (a, b) = match (self.offsets.get(k), self.offsets.get(k + 1)) {
            (Some(&a), Some(&b)) => (a as usize, b as usize),
            _ => (0, 0),
        };
        History {
            days: &self.days[a..b],
            amounts: &self.amounts[a..b],
            costs: self.costs.as_ref().map(|c| &c[a..b]),
        }
    }
    /// Iterates `(key, history)`.
    pub fn iter(&self) -> impl Iterator<Item = (u32, History<'_>)> + '_ {
        (0..self.len() as u32).map(move |k| (k, self.get(k)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::transactions::ParseOptions;

    #[test]
    fn baskets_by_order_or_day() {
        let csv = "customer_id,date,amount,order_id,product\n\
                   a,2024-01-01,1,o1,milk\na,2024-01-01,1,o1,bread\na,2024-01-01,1,o2,milk\n";
        let t = Transactions::read(csv.as_bytes(), &ParseOptions::default(), None).unwrap();
        let b = t.baskets();
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].products.len(), 2);
        let csv = "customer_id,date,amount,product\na,2024-01-01,1,milk\na,2024-01-01,1,bread\nb,2024-01-01,1,milk\n";
        let t = Transactions::read(csv.as_bytes(), &ParseOptions::default(), None).unwrap();
        assert_eq!(t.baskets().len(), 2);
    }
}
