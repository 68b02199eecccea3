//! Relationship lifecycle stage: where each customer stands in the relationship, and why.
//!
//! Source: the four-stage customer relationship lifecycle (exploration 考察期, formation 形成期,
//! stability 稳定期, decline 退化期) of F. R. Dwyer, P. H. Schurr and S. Oh, "Developing
//! Buyer-Seller Relationships", *Journal of Marketing* 51(2), 1987, 11–27, as used in Chinese CRM
//! teaching, extended with *prospect* (no purchase yet) and *churned* (流失). Stages are assigned
//! from observable behaviour: tenure, the trend of the purchase rate, inactivity relative to the
//! customer's own rhythm, and — when a repeat-purchase model was fitted — the probability the
//! customer is still active (BG/NBD or Pareto/NBD).
//!
//! # Rules (first match wins; every threshold is a field of [`LifecycleConfig`])
//!
//! 1. **Prospect** — no purchase on or before the as-of date.
//! 2. **Churned** — P(alive) below `churn_p_alive`; or no purchase for longer than
//!    `churn_inactive_factor` × the usual interval (and at least `churn_min_inactive_days`); or, for
//!    a one-time buyer, no purchase for `churn_single_purchase_days`.
//! 3. **Exploration** — customer for fewer than `exploration_days`, or only one purchase so far.
//! 4. **Decline** — the purchase rate in the last `trend_window_days` fell by more than
//!    `decline_trend` (e.g. 30 %) against the rate before that window, or P(alive) is below
//!    `decline_p_alive`.
//! 5. **Formation** — customer for fewer than `stability_days` (building up).
//! 6. **Stability** — everyone else: long tenure, steady purchasing.
//!
//! The purchase trend is (recent rate / earlier rate) − 1, the rates being purchase days per day
//! inside the last `trend_window_days` and from the first purchase up to that window; it is only
//! computed when the customer's tenure exceeds the window.

use serde::Serialize;

use crate::timing::quantile_sorted;
use crate::transactions::{DayNumber, History};

/// Lifecycle stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// No purchase yet.
    Prospect,
    /// 考察期: trying the supplier out.
    Exploration,
    /// 形成期: the relationship is building up.
    Formation,
    /// 稳定期: a steady, established relationship.
    Stability,
    /// 退化期: buying less than before.
    Decline,
    /// 流失: probably gone.
    Churned,
}

impl Stage {
    /// English name.
    pub fn en(self) -> &'static str {
        match self {
            Stage::Prospect => "prospect",
            Stage::Exploration => "exploration",
            Stage::Formation => "formation",
            Stage::Stability => "stability",
            Stage::Decline => "decline",
            Stage::Churned => "churned",
        }
    }
    /// Simplified Chinese name.
    pub fn zh(self) -> &'static str {
        match self {
            Stage::Prospect => "潜在客户",
            Stage::Exploration => "考察期",
            Stage::Formation => "形成期",
            Stage::Stability => "稳定期",
            Stage::Decline => "退化期",
            Stage::Churned => "流失",
        }
    }
}

/// Thresholds for [`assign`] (the CLI's `lifecycle` flags, by the same names).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct LifecycleConfig {
    /// Customers younger than this many days are exploring.
    pub exploration_days: i32,
    /// Customers younger than this (and not declining) are in formation; older ones are stable.
    pub stability_days: i32,
    /// Window for the recent purchase rate.
    pub trend_window_days: i32,
    /// A trend at or below this (−0.3 = rate down 30 %) means decline.
    pub decline_trend: f64,
    /// P(alive) below this means decline.
    pub decline_p_alive: f64,
    /// P(alive) below this means churned.
    pub churn_p_alive: f64,
    /// Inactivity beyond this multiple of the usual interval means churned …
    pub churn_inactive_factor: f64,
    /// … provided it is also at least this many days.
    pub churn_min_inactive_days: i32,
    /// One-time buyers silent this long are churned.
    pub churn_single_purchase_days: i32,
}

impl Default for LifecycleConfig {
    fn default() -> Self {
        LifecycleConfig {
            exploration_days: 90,
            stability_days: 365,
            trend_window_days: 180,
            decline_trend: -0.3,
            decline_p_alive: 0.5,
            churn_p_alive: 0.2,
            churn_inactive_factor: 4.0,
            churn_min_inactive_days: 90,
            churn_single_purchase_days: 365,
        }
    }
}

/// Which rule decided the stage: a code the presentation layer words, with the assignment's
/// numbers and the config's thresholds as its parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// No purchase up to the as-of date.
    NoPurchase,
    /// P(alive) below `churn_p_alive`.
    ProbablyGone,
    /// Silent for longer than `churn_inactive_factor` × the usual interval (and the minimum).
    SilentPastUsual,
    /// One purchase, longer ago than `churn_single_purchase_days`.
    OnceLongAgo,
    /// A customer for less than `exploration_days`.
    New,
    /// One purchase so far.
    OnePurchase,
    /// The recent purchase rate fell by at least `decline_trend`.
    RateFalling,
    /// P(alive) below `decline_p_alive`.
    FadingActivity,
    /// Younger than `stability_days`, not declining.
    Building,
    /// Older than `stability_days` with a steady rate.
    Steady,
}

impl Reason {
    /// The code, as stored and translated.
    pub fn code(self) -> &'static str {
        match self {
            Reason::NoPurchase => "no_purchase",
            Reason::ProbablyGone => "probably_gone",
            Reason::SilentPastUsual => "silent_past_usual",
            Reason::OnceLongAgo => "once_long_ago",
            Reason::New => "new",
            Reason::OnePurchase => "one_purchase",
            Reason::RateFalling => "rate_falling",
            Reason::FadingActivity => "fading_activity",
            Reason::Building => "building",
            Reason::Steady => "steady",
        }
    }
}

/// One customer's stage and the evidence for it.
#[derive(Clone, Debug, Serialize)]
pub struct LifecycleAssignment {
    /// The stage.
    pub stage: Stage,
    /// The rule that decided it.
    pub reason: Reason,
    /// The usual (median) days between purchases, when there are two or more.
    pub usual_interval_days: Option<f64>,
    /// Days from the first purchase to the as-of date.
    pub tenure_days: Option<i32>,
    /// Purchase days up to the as-of date.
    pub purchases: usize,
    /// Days since the last purchase.
    pub days_since_last: Option<i32>,
    /// Purchase-rate trend (see the module docs).
    pub trend: Option<f64>,
    /// P(alive), when a model was given.
    pub p_alive: Option<f64>,
    /// Why, in English.
    pub reason_en: String,
    /// Why, in Simplified Chinese.
    pub reason_zh: String,
}

fn pct(v: f64) -> String {
    format!("{:.0}%", v * 100.0)
}

/// Assigns the stage of one customer as of `as_of` (see the module docs for the rules).
pub fn assign(
    history: &History<'_>,
    as_of: DayNumber,
    p_alive: Option<f64>,
    cfg: &LifecycleConfig,
) -> LifecycleAssignment {
    let n = history.days.partition_point(|&d| d <= as_of);
    let days = &history.days[..n];
    let mut out = LifecycleAssignment {
        stage: Stage::Prospect,
        reason: Reason::NoPurchase,
        usual_interval_days: None,
        tenure_days: None,
        purchases: n,
        days_since_last: None,
        trend: None,
        p_alive,
        reason_en: "no purchase yet".into(),
        reason_zh: "尚未购买".into(),
    };
    let (Some(&first), Some(&last)) = (days.first(), days.last()) else {
        return out;
    };
    let tenure = as_of - first;
    let idle = as_of - last;
    out.tenure_days = Some(tenure);
    out.days_since_last = Some(idle);
    let mut gaps: Vec<f64> = days.windows(2).map(|w| f64::from(w[1] - w[0])).collect();
    gaps.sort_unstable_by(f64::total_cmp);
    let usual = quantile_sorted(&gaps, 0.5);
    out.usual_interval_days = usual;
    let window_start = as_of - cfg.trend_window_days;
    if tenure > cfg.trend_window_days {
        let recent = days.iter().filter(|&&d| d > window_start).count() as f64;
        let earlier = days.iter().filter(|&&d| d <= window_start).count() as f64;
        let earlier_span = f64::from((window_start - first).max(1));
        let earlier_rate = earlier / earlier_span;
        if earlier_rate > 0.0 {
            out.trend = Some((recent / f64::from(cfg.trend_window_days)) / earlier_rate - 1.0);
        }
    }
    let mut set = |stage: Stage, reason: Reason, en: String, zh: String| {
        out.stage = stage;
        out.reason = reason;
        out.reason_en = en;
        out.reason_zh = zh;
    };
    // 2. Churned.
    if let Some(p) = p_alive.filter(|&p| p < cfg.churn_p_alive) {
        set(
            Stage::Churned,
            Reason::ProbablyGone,
            format!(
                "probability still active {} is below {}",
                pct(p),
                pct(cfg.churn_p_alive)
            ),
            format!("仍活跃概率 {} 低于 {}", pct(p), pct(cfg.churn_p_alive)),
        );
        return out;
    }
    match usual {
        Some(u) => {
            let limit = (cfg.churn_inactive_factor * u).max(f64::from(cfg.churn_min_inactive_days));
            if f64::from(idle) > limit {
                set(
                    Stage::Churned,
                    Reason::SilentPastUsual,
                    format!(
                        "no purchase for {idle} days, more than {:.0} days ({}× the usual interval of {u:.0} days)",
                        limit, cfg.churn_inactive_factor
                    ),
                    format!(
                        "已 {idle} 天未购买，超过 {limit:.0} 天（通常购买间隔 {u:.0} 天的 {} 倍）",
                        cfg.churn_inactive_factor
                    ),
                );
                return out;
            }
        }
        None if idle > cfg.churn_single_purchase_days => {
            set(
                Stage::Churned,
                Reason::OnceLongAgo,
                format!(
                    "bought once, {idle} days ago (more than {} days)",
                    cfg.churn_single_purchase_days
                ),
                format!(
                    "仅购买一次，距今 {idle} 天（超过 {} 天）",
                    cfg.churn_single_purchase_days
                ),
            );
            return out;
        }
        None => {}
    }
    // 3. Exploration.
    if tenure < cfg.exploration_days {
        set(
            Stage::Exploration,
            Reason::New,
            format!(
                "customer for {tenure} days (less than {})",
                cfg.exploration_days
            ),
            format!("成为客户 {tenure} 天（少于 {} 天）", cfg.exploration_days),
        );
        return out;
    }
    if n == 1 {
        set(
            Stage::Exploration,
            Reason::OnePurchase,
            "only one purchase so far".into(),
            "目前仅购买一次".into(),
        );
        return out;
    }
    // 4. Decline.
    if let Some(t) = out.trend.filter(|&t| t <= cfg.decline_trend) {
        set(
            Stage::Decline,
            Reason::RateFalling,
            format!(
                "purchase rate in the last {} days is {} below the earlier rate",
                cfg.trend_window_days,
                pct(-t)
            ),
            format!(
                "近 {} 天购买频率比此前下降 {}",
                cfg.trend_window_days,
                pct(-t)
            ),
        );
        return out;
    }
    if let Some(p) = p_alive.filter(|&p| p < cfg.decline_p_alive) {
        set(
            Stage::Decline,
            Reason::FadingActivity,
            format!(
                "probability still active {} is below {}",
                pct(p),
                pct(cfg.decline_p_alive)
            ),
            format!("仍活跃概率 {} 低于 {}", pct(p), pct(cfg.decline_p_alive)),
        );
        return out;
    }
    // 5./6. Formation or stability.
    if tenure < cfg.stability_days {
        set(
            Stage::Formation,
            Reason::Building,
            format!(
                "customer for {tenure} days with {n} purchases, not declining (stable after {} days)",
                cfg.stability_days
            ),
            format!(
                "成为客户 {tenure} 天，购买 {n} 次，未见下降（满 {} 天后进入稳定期）",
                cfg.stability_days
            ),
        );
    } else {
        set(
            Stage::Stability,
            Reason::Steady,
            format!("customer for {tenure} days with {n} purchases and a steady rate"),
            format!("成为客户 {tenure} 天，购买 {n} 次，频率稳定"),
        );
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn stage(days: &[DayNumber], as_of: DayNumber, p: Option<f64>) -> Stage {
        let a = vec![1.0; days.len()];
        let h = History {
            days,
            amounts: &a,
            costs: None,
        };
        assign(&h, as_of, p, &LifecycleConfig::default()).stage
    }

    #[test]
    fn stages() {
        let cfg = LifecycleConfig::default();
        assert_eq!(stage(&[], 100, None), Stage::Prospect);
        assert_eq!(stage(&[500], 100, None), Stage::Prospect);
        assert_eq!(stage(&[0, 10], 30, None), Stage::Exploration);
        assert_eq!(stage(&[0], 200, None), Stage::Exploration);
        assert_eq!(stage(&[0], 400, None), Stage::Churned);
        let monthly: Vec<DayNumber> = (0..10).map(|i| i * 30).collect();
        assert_eq!(stage(&monthly, 280, None), Stage::Formation);
        let long: Vec<DayNumber> = (0..25).map(|i| i * 30).collect();
        assert_eq!(stage(&long, 730, None), Stage::Stability);
        assert_eq!(stage(&long, 730, Some(0.1)), Stage::Churned);
        assert_eq!(stage(&long, 730, Some(0.4)), Stage::Decline);
        // Monthly for two years, then one purchase in the last 180 days.
        let mut slowing: Vec<DayNumber> = (0..18).map(|i| i * 30).collect();
        slowing.push(600);
        let a = vec![1.0; slowing.len()];
        let h = History {
            days: &slowing,
            amounts: &a,
            costs: None,
        };
        let r = assign(&h, 700, None, &cfg);
        assert_eq!(r.stage, Stage::Decline, "{}", r.reason_en);
        assert!(r.reason_zh.contains("下降"));
        assert_eq!(stage(&long, 730 + 200, None), Stage::Churned);
    }
}
