//! What a refresh learns from all customers together, kept so that one customer can be scored
//! again later — after a new sale, a payment or a survey — as the whole population was scored,
//! without refitting anything: the repeat-purchase and spend models, the cut points of every
//! ranking (RFM quintiles and thresholds, the tiers' value rules, the value and churn deciles,
//! the thirds of the margin rate) and the facts' analyses (value focus, cross-sell rules).
//!
//! A ranking's cut points place a new value exactly where the refresh would have ranked it
//! among the others; the customer's own earlier value is still among them until the next full
//! refresh, which is what "the last fitted population parameters" means.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::bgnbd::BgNbdParams;
use crate::gamma_gamma::GammaGammaParams;
use crate::rfm::RfmCuts;
use crate::tiers::TierCuts;

use super::facts::FactPopulation;

/// The population's fitted models and cut points.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Population {
    /// The date the population was scored as of.
    pub as_of: NaiveDate,
    /// BG/NBD (weekly periods), when it could be fitted.
    pub repeat: Option<BgNbdParams>,
    /// Gamma-Gamma spend, when it could be fitted.
    pub spend: Option<GammaGammaParams>,
    /// RFM quintile edges and thresholds.
    pub rfm: RfmCuts,
    /// The value each tier asks for; `None` when the ledger has no costs.
    pub tiers: Option<TierCuts>,
    /// Revenue deciles, 1 = the top tenth.
    pub value: Deciles,
    /// Thirds of the margin rate (for the relationship level).
    pub margin_cuts: Option<(f64, f64)>,
    /// Value focus and cross-sell rules.
    pub facts: FactPopulation,
}

/// The least value in each tenth of a ranking, best (largest) first; `None` for a tenth no one
/// fell in (fewer than ten ranked).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Deciles(pub Vec<Option<f64>>);

impl Deciles {
    /// The bounds of a ranking given each member's value and its decile (1–10).
    pub fn of(ranked: impl IntoIterator<Item = (f64, u8)>) -> Deciles {
        let mut least: Vec<Option<f64>> = vec![None; 10];
        for (value, decile) in ranked {
            let Some(slot) = least.get_mut(usize::from(decile.clamp(1, 10)) - 1) else {
                continue;
            };
            *slot = Some(slot.map_or(value, |v| v.min(value)));
        }
        Deciles(least)
    }

    /// The decile `value` falls in: the first tenth whose least member it reaches, else the
    /// last. Exact for a value no member ties with across a boundary.
    pub fn place(&self, value: f64) -> u8 {
        self.0
            .iter()
            .position(|b| b.is_some_and(|b| value >= b))
            .map_or(10, |i| i as u8 + 1)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_value_falls_in_the_tenth_whose_least_member_it_reaches() {
        // Twenty values 20, 19, …, 1: two to a tenth.
        let d = Deciles::of(
            (1..=20)
                .rev()
                .enumerate()
                .map(|(i, v)| (f64::from(v), i as u8 / 2 + 1)),
        );
        assert_eq!(d.place(20.0), 1);
        assert_eq!(d.place(19.0), 1);
        assert_eq!(d.place(18.5), 2);
        assert_eq!(d.place(1.0), 10);
        assert_eq!(d.place(-5.0), 10);
        assert_eq!(d.place(100.0), 1);
        // Three ranked: the tenths they fell in, and a lower value goes last.
        let few = Deciles::of([(30.0, 1), (20.0, 4), (10.0, 7)]);
        assert_eq!(few.place(25.0), 4);
        assert_eq!(few.place(10.0), 7);
        assert_eq!(few.place(5.0), 10);
    }
}
