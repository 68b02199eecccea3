//! The insights panel on a customer's page: tier, RFM segment, lifetime value, probability still
//! active, churn risk with its drivers, lifecycle stage and when the next purchase is due, each with its reason in the
//! reader's language, what it was before and when it changed. An insight without enough history
//! says why instead of showing a number.

use guanxi_core::insights::current::AccountInsights;
use guanxi_core::insights::store::Row;
use serde_json::{Map, Value, json};

use super::display;
use crate::i18n::I18n;

/// One insight as the panel shows it.
pub struct Card {
    /// `tier`, `p_alive` …: the element's id and the insight's filter name.
    pub name: &'static str,
    pub label: String,
    /// The value, or the words for why there is none.
    pub value: String,
    /// Whether `value` is a number or code (rather than why there is none).
    pub known: bool,
    /// The reason, worded.
    pub reason: String,
    /// "Before: 银牌客户 · changed 2026-11-01", when it changed.
    pub change: String,
    /// A tone for the value's badge: `good`, `warn`, `bad` or empty.
    pub tone: &'static str,
}

/// The panel: its cards and when the values are from.
pub struct Panel {
    pub as_of: String,
    pub cards: Vec<Card>,
}

fn pct(v: f64) -> String {
    format!("{:.0}%", v * 100.0)
}

/// A risk as a percentage, at most 99%: a model's 0.998 is not a certainty, and "100%" would
/// read as one.
pub fn risk_pct(v: f64) -> String {
    pct(v.min(0.99))
}

fn days(v: Option<i64>) -> String {
    v.map(|d| d.to_string()).unwrap_or_default()
}

/// An estimate in whole units of the currency: cents would claim a precision it has not.
pub fn money(v: f64, currency: &str, i18n: &I18n) -> String {
    display::money(
        &json!({"amount": format!("{v:.0}"), "currency": currency}),
        i18n,
    )
}

/// A code's label: `insight-<name>-<code>`.
fn code_label(name: &str, code: &str, i18n: &I18n) -> String {
    i18n.t(&format!("insight-{name}-{code}"))
}

/// The words for a change of `name`, from `changes`.
fn change_of(
    name: &str,
    changes: &Map<String, Value>,
    shown: &dyn Fn(&Value) -> String,
    i18n: &I18n,
) -> String {
    let Some(c) = changes.get(name) else {
        return String::new();
    };
    let previous = c.get("previous").unwrap_or(&Value::Null);
    let before = if previous.is_null() {
        i18n.t("insight-none-before")
    } else {
        shown(previous)
    };
    let on = c
        .get("changed_on")
        .and_then(Value::as_str)
        .unwrap_or_default();
    i18n.t_with(
        "insight-changed",
        &[("before", before), ("on", on.to_string())],
    )
}

/// The words of the lifecycle's reason: a rate that fell all the way is no purchase at all.
fn lifecycle_reason_key(v: &Row) -> String {
    if v.lifecycle_reason == "rate_falling" && v.trend.is_some_and(|t| t <= -0.995) {
        return "insight-lifecycle-reason-rate_falling-to_none".into();
    }
    format!("insight-lifecycle-reason-{}", v.lifecycle_reason)
}

/// The panel for an account's insights, or `None` before its first refresh.
pub fn panel(ins: &AccountInsights, currency: &str, i18n: &I18n) -> Panel {
    let mut cards = Vec::new();
    let ch = &ins.changes;
    let v = &ins.values;
    let code_of = |name: &'static str| {
        move |v: &Value| code_label(name, v.as_str().unwrap_or_default(), i18n)
    };

    // Tier and profitability.
    let tier_reason = i18n.t_with(
        &format!("insight-tier-reason-{}", v.tier_reason),
        &[
            (
                "score",
                v.profitability
                    .map(|s| format!("{s:.0}"))
                    .unwrap_or_default(),
            ),
            ("margin", v.margin_rate.map(pct).unwrap_or_default()),
            (
                "days",
                v.days_to_pay.map(|d| format!("{d:.0}")).unwrap_or_default(),
            ),
        ],
    );
    cards.push(Card {
        name: "tier",
        label: i18n.t("insight-tier"),
        known: !v.tier.is_empty(),
        value: if v.tier.is_empty() {
            i18n.t("insight-unknown")
        } else {
            code_label("tier", &v.tier, i18n)
        },
        reason: tier_reason,
        change: change_of("tier", ch, &code_of("tier"), i18n),
        tone: match v.tier.as_str() {
            "gold" => "good",
            "do_not_serve" => "bad",
            _ => "",
        },
    });

    // RFM.
    let rfm_reason = match v.rfm {
        Some([r, f, m]) => i18n.t_with(
            "insight-rfm-reason",
            &[
                ("r", r.to_string()),
                ("f", f.to_string()),
                ("m", m.to_string()),
                ("days", days(v.recency_days)),
                ("purchases", days(v.purchases)),
            ],
        ),
        None => String::new(),
    };
    cards.push(Card {
        name: "rfm_segment",
        label: i18n.t("insight-rfm_segment"),
        known: !v.rfm_segment.is_empty(),
        value: code_label("rfm_segment", &v.rfm_segment, i18n),
        reason: rfm_reason,
        change: change_of("rfm_segment", ch, &code_of("rfm_segment"), i18n),
        // Keeping or winning back an important customer is work to do, not a success.
        tone: match v.rfm_segment.as_str() {
            "important_value" | "important_development" => "good",
            "important_retention" | "important_win_back" => "warn",
            _ => "",
        },
    });

    // Lifetime value, expected purchases and probability still active.
    let value_missing = || i18n.t(&format!("insight-value-missing-{}", v.value_missing));
    let money_of = |v: &Value| {
        v.as_f64()
            .map(|n| money(n, currency, i18n))
            .unwrap_or_default()
    };
    cards.push(Card {
        name: "clv",
        label: i18n.t("insight-clv"),
        known: v.clv.is_some(),
        value: v
            .clv
            .map(|v| money(v, currency, i18n))
            .unwrap_or_else(value_missing),
        reason: v
            .expected_purchases
            .map(|e| i18n.t1("insight-clv-reason", "purchases", format!("{e:.1}")))
            .unwrap_or_default(),
        change: change_of("clv", ch, &money_of, i18n),
        tone: "",
    });
    let pct_of = |v: &Value| v.as_f64().map(pct).unwrap_or_default();
    cards.push(Card {
        name: "p_alive",
        label: i18n.t("insight-p_alive"),
        known: v.p_alive.is_some(),
        value: v.p_alive.map(pct).unwrap_or_else(value_missing),
        reason: match (v.p_alive, v.recency_days) {
            (Some(_), Some(d)) => i18n.t1("insight-p_alive-reason", "days", d),
            _ => String::new(),
        },
        change: change_of("p_alive", ch, &pct_of, i18n),
        tone: match v.p_alive {
            Some(p) if p < 0.3 => "bad",
            Some(p) if p < 0.6 => "warn",
            Some(_) => "good",
            None => "",
        },
    });

    // Churn risk: the probability of no purchase in the model's window, its decile and the
    // facts that raise it.
    cards.push(Card {
        name: "churn_risk",
        label: i18n.t("insight-churn_risk"),
        known: v.churn_risk.is_some(),
        value: v.churn_risk.map(risk_pct).unwrap_or_else(|| {
            if v.churn_missing.is_empty() {
                i18n.t("insight-unknown")
            } else {
                i18n.t(&format!("insight-churn-missing-{}", v.churn_missing))
            }
        }),
        reason: churn_reason(v, currency, i18n),
        change: change_of("churn_risk", ch, &pct_of, i18n),
        // The same line as the alerts and the home page's list: above 0.6.
        tone: match v.churn_risk {
            Some(p) if p > guanxi_core::insights::alerts::AT_RISK => "bad",
            Some(p) if p >= 0.3 => "warn",
            Some(_) => "good",
            None => "",
        },
    });

    // Lifecycle.
    cards.push(Card {
        name: "lifecycle_stage",
        label: i18n.t("insight-lifecycle_stage"),
        known: !v.lifecycle_stage.is_empty(),
        value: code_label("lifecycle_stage", &v.lifecycle_stage, i18n),
        reason: i18n.t_with(
            &lifecycle_reason_key(v),
            &[
                ("days", days(v.recency_days)),
                ("tenure", days(v.tenure_days)),
                ("purchases", days(v.purchases)),
                (
                    "usual",
                    v.usual_interval_days
                        .map(|u| format!("{u:.0}"))
                        .unwrap_or_default(),
                ),
                ("drop", v.trend.map(|t| pct(-t)).unwrap_or_default()),
                ("p", v.p_alive.map(pct).unwrap_or_default()),
            ],
        ),
        change: change_of("lifecycle_stage", ch, &code_of("lifecycle_stage"), i18n),
        tone: match v.lifecycle_stage.as_str() {
            "churned" => "bad",
            "decline" => "warn",
            "stability" => "good",
            _ => "",
        },
    });

    // Next purchase due.
    let window = match (v.next_due_from, v.next_due_to) {
        (Some(a), Some(b)) => i18n.t_with(
            "insight-due-window",
            &[("from", a.to_string()), ("to", b.to_string())],
        ),
        _ => String::new(),
    };
    cards.push(Card {
        name: "due_status",
        label: i18n.t("insight-due_status"),
        known: !v.due_status.is_empty(),
        value: if v.due_status.is_empty() {
            i18n.t("insight-due-unknown")
        } else {
            code_label("due_status", &v.due_status, i18n)
        },
        reason: window,
        change: change_of("due_status", ch, &code_of("due_status"), i18n),
        tone: match v.due_status.as_str() {
            "overdue" => "warn",
            "due" => "good",
            _ => "",
        },
    });

    // The relationship worth building, from how many customers are like it and its margin.
    cards.push(Card {
        name: "relationship_level",
        label: i18n.t("insight-relationship_level"),
        known: !v.relationship_level.is_empty(),
        value: if v.relationship_level.is_empty() {
            i18n.t("insight-unknown")
        } else {
            code_label("relationship_level", &v.relationship_level, i18n)
        },
        reason: if v.relationship_level.is_empty() {
            i18n.t("insight-relationship-missing")
        } else {
            i18n.t(&format!(
                "insight-relationship-how-{}",
                v.relationship_level
            ))
        },
        change: change_of(
            "relationship_level",
            ch,
            &code_of("relationship_level"),
            i18n,
        ),
        tone: "",
    });

    fact_cards(&mut cards, v, ch, i18n);

    // Value decile (80/20).
    cards.push(Card {
        name: "value_decile",
        label: i18n.t("insight-value_decile"),
        known: v.value_decile.is_some(),
        value: v
            .value_decile
            .map(|d| i18n.t1("insight-decile", "n", d))
            .unwrap_or_default(),
        reason: v
            .revenue
            .map(|r| i18n.t1("insight-decile-reason", "revenue", money(r, currency, i18n)))
            .unwrap_or_default(),
        change: change_of(
            "value_decile",
            ch,
            &|v: &Value| {
                v.as_f64()
                    .map(|d| i18n.t1("insight-decile", "n", d as i64))
                    .unwrap_or_default()
            },
            i18n,
        ),
        tone: "",
    });
    Panel {
        as_of: ins.as_of.to_string(),
        cards,
    }
}

/// The customer facts an account's record leaves blank among `of`, worded and joined.
fn blanks(v: &Row, of: &[&str], i18n: &I18n) -> Option<String> {
    let names: Vec<String> = v
        .facts_missing
        .inputs
        .iter()
        .filter(|i| of.contains(&i.as_str()))
        .map(|i| i18n.t(&format!("insight-input-{i}")))
        .collect();
    (!names.is_empty()).then(|| names.join(&i18n.t("insight-list-separator")))
}

/// Loyalty, switching cost, value focus and next best products: from the purchases and what
/// people recorded in customer facts, each saying which fact it lacks.
fn fact_cards(cards: &mut Vec<Card>, v: &Row, ch: &Map<String, Value>, i18n: &I18n) {
    let code_of = |name: &'static str| {
        move |v: &Value| code_label(name, v.as_str().unwrap_or_default(), i18n)
    };
    let whole = |x: f64| format!("{x:.0}");

    // Loyalty: the index, and the type once the attitude is known.
    let loyalty_reason = match (v.loyalty_type.as_str(), v.loyalty_behaviour) {
        ("", Some(b)) => {
            let missing = blanks(v, &["satisfaction", "recommendation"], i18n)
                .unwrap_or_else(|| i18n.t("insight-facts-none"));
            i18n.t_with(
                "insight-loyalty-behaviour-only",
                &[("behaviour", whole(b)), ("missing", missing)],
            )
        }
        ("", None) => String::new(),
        (kind, _) => i18n.t_with(
            "insight-loyalty-sides",
            &[
                (
                    "behaviour",
                    v.loyalty_behaviour.map(whole).unwrap_or_default(),
                ),
                (
                    "attitude",
                    v.loyalty_attitude.map(whole).unwrap_or_default(),
                ),
                ("how", i18n.t(&format!("insight-loyalty-how-{kind}"))),
            ],
        ),
    };
    cards.push(Card {
        name: "loyalty_index",
        label: i18n.t("insight-loyalty_index"),
        known: v.loyalty_index.is_some(),
        value: match (v.loyalty_index, v.loyalty_type.as_str()) {
            (Some(x), "") => whole(x),
            (Some(x), kind) => format!("{} · {}", whole(x), code_label("loyalty_type", kind, i18n)),
            (None, _) => i18n.t("insight-unknown"),
        },
        reason: loyalty_reason,
        change: change_of("loyalty_type", ch, &code_of("loyalty_type"), i18n),
        tone: match v.loyalty_type.as_str() {
            "true" => "good",
            "spurious" | "none" => "warn",
            _ => "",
        },
    });

    // Switching cost and the lever that would raise it most.
    let switching_missing = &v.facts_missing.switching_cost;
    cards.push(Card {
        name: "switching_cost",
        label: i18n.t("insight-switching_cost"),
        known: v.switching_cost.is_some(),
        value: match v.switching_cost {
            Some(x) => format!(
                "{} · {}",
                whole(x),
                code_label("switching_level", &v.switching_level, i18n)
            ),
            None => i18n.t(&format!("insight-facts-missing-{switching_missing}")),
        },
        reason: if v.switching_cost.is_some() {
            let lever = i18n.t(&format!("insight-switching-lever-{}", v.switching_lever));
            match blanks(
                v,
                &["contract_end", "integration_level", "loyalty_balance"],
                i18n,
            ) {
                Some(b) => i18n.t_with(
                    "insight-switching-reason-blanks",
                    &[("lever", lever), ("blanks", b)],
                ),
                None => i18n.t1("insight-switching-reason", "lever", lever),
            }
        } else {
            i18n.t("insight-switching-record")
        },
        change: change_of("switching_level", ch, &code_of("switching_level"), i18n),
        tone: match v.switching_level.as_str() {
            "high" => "good",
            "low" => "warn",
            _ => "",
        },
    });

    // Value focus: the dimension that weighs on satisfaction and that they rate low.
    let focus_missing = &v.facts_missing.value_focus;
    cards.push(Card {
        name: "value_focus",
        label: i18n.t("insight-value_focus"),
        known: !v.value_focus.is_empty(),
        value: if v.value_focus.is_empty() {
            i18n.t(&format!("insight-facts-missing-{focus_missing}"))
        } else {
            code_label("value_focus", &v.value_focus, i18n)
        },
        reason: match v.value_focus_gap {
            Some(gap) if !v.value_focus.is_empty() => {
                i18n.t1("insight-value_focus-reason", "gap", format!("{gap:.0}"))
            }
            _ => i18n.t(&format!("insight-value_focus-why-{focus_missing}")),
        },
        change: change_of("value_focus", ch, &code_of("value_focus"), i18n),
        tone: "",
    });

    // Next best products, the first with the rule behind it.
    let shown = |p: &guanxi_core::insights::store::NextProduct| {
        if p.name.is_empty() {
            p.product.clone()
        } else {
            p.name.clone()
        }
    };
    let products_missing = &v.facts_missing.next_products;
    cards.push(Card {
        name: "next_products",
        label: i18n.t("insight-next_products"),
        known: !v.next_products.is_empty(),
        value: if !v.next_products.is_empty() {
            v.next_products
                .iter()
                .map(shown)
                .collect::<Vec<_>>()
                .join(&i18n.t("insight-list-separator"))
        } else if products_missing.is_empty() {
            i18n.t("insight-next_products-none")
        } else {
            i18n.t(&format!("insight-facts-missing-{products_missing}"))
        },
        reason: v
            .next_products
            .first()
            .map(|p| {
                i18n.t_with(
                    "insight-next_products-reason",
                    &[
                        ("because", p.because.join(&i18n.t("insight-list-separator"))),
                        ("product", shown(p)),
                        ("confidence", pct(p.confidence)),
                        ("lift", format!("{:.1}", p.lift)),
                    ],
                )
            })
            .unwrap_or_default(),
        change: String::new(),
        tone: "",
    });
}

/// "Risk decile 1 of 10: 94 days since the last purchase, pays in 41 days on average".
fn churn_reason(v: &Row, currency: &str, i18n: &I18n) -> String {
    let Some(decile) = v.churn_decile else {
        return String::new();
    };
    let drivers: Vec<String> = v
        .churn_drivers
        .iter()
        .filter_map(|d| {
            let x = d.value?;
            let (key, arg) = match d.feature.as_str() {
                "recency_days" => ("insight-churn-driver-recency_days", format!("{x:.0}")),
                "days_to_pay" => ("insight-churn-driver-days_to_pay", format!("{x:.0}")),
                "log_frequency" => (
                    "insight-churn-driver-log_frequency",
                    format!("{:.0}", x.exp_m1()),
                ),
                "log_monetary" => (
                    "insight-churn-driver-log_monetary",
                    money(x.exp_m1(), currency, i18n),
                ),
                "trend" => ("insight-churn-driver-trend", pct(-x)),
                "silence_ratio" => ("insight-churn-driver-silence_ratio", format!("{x:.1}")),
                "tenure_days" => ("insight-churn-driver-tenure_days", format!("{x:.0}")),
                _ => return None,
            };
            Some(i18n.t1(key, "value", arg))
        })
        .collect();
    let rank = i18n.t1("insight-churn-decile", "n", decile);
    if drivers.is_empty() {
        rank
    } else {
        i18n.t_with(
            "insight-churn-reason",
            &[
                ("rank", rank),
                ("drivers", drivers.join(&i18n.t("insight-list-separator"))),
            ],
        )
    }
}
