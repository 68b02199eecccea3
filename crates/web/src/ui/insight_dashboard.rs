//! Customer analytics (客户分析): the insights of every customer the reader may see, summed up —
//! the tier pyramid with revenue and margin per tier, the 80/20 curve and its deciles, the RFM
//! segments, churn risk by decile, lifecycle stages, loyalty types and the spread of lifetime
//! value. Each chart has its table, and each row of a table opens the account list filtered to
//! it, where the reader acts (reassigns, plans follow-ups).

use askama::Template;
use axum::Router;
use axum::extract::State as AxState;
use axum::response::Response;
use axum::routing::get;
use guanxi_charts::{Chart, Kind, Series};
use guanxi_core::CoreError;
use guanxi_core::insights::summary::{self, Band, Figures};
use guanxi_core::insights::{self, current};

use super::insights_panel::{money, risk_pct};
use super::list_charts::compact_money;
use super::{PageCtx, error_page, render, url};
use crate::State;
use crate::auth::UiUser;
use crate::i18n::I18n;

pub fn router() -> Router<State> {
    Router::new().route("/insights", get(page))
}

/// The account list's columns a dashboard link opens with.
const COLUMNS: &str =
    "cols=name,insight.tier,insight.churn_risk,insight.clv,insight.lifecycle_stage,owner_id";

/// The lifecycle stages in the order a customer lives them.
const STAGES: [&str; 6] = [
    "prospect",
    "exploration",
    "formation",
    "stability",
    "decline",
    "churned",
];

/// One row of a dashboard's table.
pub struct Line {
    pub label: String,
    pub href: String,
    pub accounts: String,
    /// The figures after the count, already worded; a phone shows the first two.
    pub cells: Vec<String>,
    pub tone: &'static str,
}

/// A dashboard: its chart, its table's headings and rows.
pub struct Board {
    pub id: &'static str,
    pub title: String,
    pub hint: String,
    pub svg: String,
    pub headings: Vec<String>,
    pub lines: Vec<Line>,
    /// A link below the table to a list of its own ("rose above 60% in the last 30 days: 4").
    pub more: Option<(String, String)>,
}

/// A tile of a grid (RFM segments, loyalty types).
pub struct Tile {
    pub label: String,
    pub href: String,
    pub accounts: String,
    pub detail: String,
    pub tone: &'static str,
}

#[derive(Template)]
#[template(path = "insights/dashboard.html")]
struct DashboardPage {
    page: PageCtx,
    as_of: Option<String>,
    total: String,
    boards: Vec<Board>,
    rfm: Vec<Tile>,
    loyalty: Vec<Tile>,
}

fn link(name: &str, op: &str, value: String) -> String {
    url::list_link(
        insights::subject().plural,
        &[(&format!("insight.{name}"), op, value)],
        COLUMNS,
    )
}

fn share(part: f64, whole: f64) -> String {
    if whole > 0.0 {
        format!("{:.0}%", 100.0 * part / whole)
    } else {
        "—".into()
    }
}

/// `figures` in the order of `codes` (those missing count nothing), then any others.
fn in_order<'a>(figures: &'a [Figures], codes: &[&str]) -> Vec<&'a Figures> {
    let mut out: Vec<&Figures> = codes
        .iter()
        .filter_map(|c| figures.iter().find(|f| f.key == *c))
        .collect();
    out.extend(
        figures
            .iter()
            .filter(|f| !f.key.is_empty() && !codes.contains(&f.key.as_str())),
    );
    out
}

fn bars(
    kind: Kind,
    title: &str,
    labels: Vec<String>,
    values: Vec<f64>,
    format: &dyn Fn(f64) -> String,
    i18n: &I18n,
) -> String {
    guanxi_charts::render(&Chart {
        kind,
        title: title.to_string(),
        categories: labels,
        series: vec![Series::new(title, values)],
        format,
        empty: i18n.t("insights-dash-empty"),
    })
}

/// The customers whose churn risk rose above the alert line in the last `days` days: the
/// list's address and how many the reader may see.
async fn rose_since(
    st: &State,
    user: &UiUser,
    days: i64,
) -> Result<Option<(String, u64)>, CoreError> {
    let today = guanxi_core::insights::refresh::today(&st.core, guanxi_core::now());
    let since = (today - chrono::Duration::days(days)).to_string();
    let line = insights::alerts::AT_RISK.to_string();
    let then = format!("insight.churn_risk@{since}");
    let conds = [
        ("insight.churn_risk", "gt", line.clone()),
        (then.as_str(), "lte", line.clone()),
    ];
    let filter = guanxi_core::records::Filter::from_pairs([
        ("insight.churn_risk[gt]", line.as_str()),
        (format!("{then}[lte]").as_str(), line.as_str()),
    ])?;
    let n = st
        .core
        .records(insights::subject())
        .count(
            &user.actor,
            &guanxi_core::records::ListQuery {
                filter: Some(filter),
                ..Default::default()
            },
        )
        .await?;
    Ok((n > 0).then(|| {
        (
            url::list_link(insights::subject().plural, &conds, COLUMNS),
            n,
        )
    }))
}

async fn page(AxState(st): AxState<State>, user: UiUser) -> Response {
    let i18n = I18n::for_actor(&user.actor);
    let core = &st.core;
    let actor = &user.actor;
    let loaded = async {
        Ok::<_, CoreError>((
            summary::by(core, actor, "tier", None).await?,
            summary::by(core, actor, "value_decile", None).await?,
            summary::by(core, actor, "rfm_segment", None).await?,
            summary::by(core, actor, "churn_decile", None).await?,
            summary::by(core, actor, "lifecycle_stage", None).await?,
            summary::by(core, actor, "loyalty_type", None).await?,
            summary::clv_bands(core, actor, None, 8).await?,
            current::latest_as_of(core.db.reader()).await?,
            summary::previous_as_of(core.db.reader()).await?,
        ))
    }
    .await;
    let (tiers, deciles, rfm, churn, stages, loyalty, bands, as_of, previous) = match loaded {
        Ok(l) => l,
        Err(e) => return error_page(&user, e.into()),
    };
    let flows = match previous {
        Some(since) => match summary::flows(core, actor, "lifecycle_stage", since).await {
            Ok(f) => Some((since, f)),
            Err(e) => return error_page(&user, e.into()),
        },
        None => None,
    };
    let rose = match rose_since(&st, &user, 30).await {
        Ok(r) => r,
        Err(e) => return error_page(&user, e.into()),
    };
    let currency = &core.settings.default_currency;
    let cash = |v: f64| money(v, currency, &i18n);
    // Charts' ticks and short labels: ¥1.2万, $1.2M.
    let short = |v: f64| compact_money(v, currency, &i18n);
    let total_accounts: i64 = tiers.iter().map(|f| f.accounts).sum();
    let total_revenue: f64 = tiers.iter().map(|f| f.revenue).sum();
    let mut boards = Vec::new();

    // The tier pyramid: revenue and margin per tier, the best first.
    let tier_rows = in_order(&tiers, &["gold", "silver", "bronze", "do_not_serve", ""]);
    let tier_label = |k: &str| {
        if k.is_empty() {
            i18n.t("insights-dash-no-tier")
        } else {
            i18n.t(&format!("insight-tier-{k}"))
        }
    };
    boards.push(Board {
        id: "dash-tiers",
        title: i18n.t("insights-dash-tiers"),
        hint: i18n.t("insights-dash-tiers-hint"),
        svg: bars(
            Kind::Bar,
            &i18n.t("insights-dash-revenue"),
            tier_rows.iter().map(|f| tier_label(&f.key)).collect(),
            tier_rows.iter().map(|f| f.revenue).collect(),
            &short,
            &i18n,
        ),
        headings: [
            "insights-dash-revenue",
            "insights-dash-share",
            "insights-dash-margin",
        ]
        .map(|k| i18n.t(k))
        .to_vec(),
        lines: tier_rows
            .iter()
            .map(|f| Line {
                label: tier_label(&f.key),
                href: link("tier", "eq", f.key.clone()),
                accounts: f.accounts.to_string(),
                cells: vec![
                    cash(f.revenue),
                    share(f.revenue, total_revenue),
                    cash(f.margin),
                ],
                tone: match f.key.as_str() {
                    "gold" => "good",
                    "do_not_serve" => "bad",
                    _ => "",
                },
            })
            .collect(),
        more: None,
    });

    // 80/20: each tenth of customers by revenue and the running share of revenue.
    let decile_rows: Vec<&Figures> = deciles.iter().filter(|f| !f.key.is_empty()).collect();
    let mut running = 0.0;
    let cumulative: Vec<f64> = decile_rows
        .iter()
        .map(|f| {
            running += f.revenue;
            if total_revenue > 0.0 {
                100.0 * running / total_revenue
            } else {
                0.0
            }
        })
        .collect();
    let pct = |v: f64| format!("{v:.0}%");
    boards.push(Board {
        id: "dash-pareto",
        title: i18n.t("insights-dash-pareto"),
        // The top two tenths: the "20" of 80/20.
        hint: cumulative
            .get(1)
            .map(|two| i18n.t1("insights-dash-pareto-hint", "share", format!("{two:.0}%")))
            .unwrap_or_default(),
        svg: guanxi_charts::render(&Chart {
            kind: Kind::Line,
            title: i18n.t("insights-dash-cumulative"),
            categories: decile_rows
                .iter()
                .map(|f| i18n.t1("insights-dash-decile", "n", f.key.clone()))
                .collect(),
            series: vec![Series::new(
                i18n.t("insights-dash-cumulative"),
                cumulative.clone(),
            )],
            format: &pct,
            empty: i18n.t("insights-dash-empty"),
        }),
        headings: ["insights-dash-revenue", "insights-dash-cumulative"]
            .map(|k| i18n.t(k))
            .to_vec(),
        lines: decile_rows
            .iter()
            .zip(&cumulative)
            .map(|(f, c)| Line {
                label: i18n.t1("insights-dash-decile", "n", f.key.clone()),
                href: link("value_decile", "eq", f.key.clone()),
                accounts: f.accounts.to_string(),
                cells: vec![cash(f.revenue), pct(*c)],
                tone: "",
            })
            .collect(),
        more: None,
    });

    // Churn risk by decile of risk: where the risk, and the value at stake, sits.
    let churn_rows: Vec<&Figures> = churn.iter().filter(|f| !f.key.is_empty()).collect();
    boards.push(Board {
        id: "dash-churn",
        title: i18n.t("insights-dash-churn"),
        hint: i18n.t("insights-dash-churn-hint"),
        svg: bars(
            Kind::Column,
            &i18n.t("insights-dash-avg-risk"),
            churn_rows.iter().map(|f| f.key.clone()).collect(),
            churn_rows
                .iter()
                .map(|f| 100.0 * f.churn_risk.unwrap_or(0.0))
                .collect(),
            &pct,
            &i18n,
        ),
        headings: ["insights-dash-avg-risk", "insights-dash-clv-short"]
            .map(|k| i18n.t(k))
            .to_vec(),
        lines: churn_rows
            .iter()
            .map(|f| Line {
                label: i18n.t1("insights-dash-decile", "n", f.key.clone()),
                href: link("churn_decile", "eq", f.key.clone()),
                accounts: f.accounts.to_string(),
                cells: vec![
                    f.churn_risk.map(risk_pct).unwrap_or_else(|| "—".into()),
                    cash(f.clv),
                ],
                tone: match f.churn_risk {
                    Some(r) if r > insights::alerts::AT_RISK => "bad",
                    Some(r) if r >= 0.3 => "warn",
                    _ => "",
                },
            })
            .collect(),
        more: rose.map(|(href, n)| {
            (
                href,
                i18n.t_with(
                    "insights-dash-rose",
                    &[
                        ("n", n.to_string()),
                        ("line", risk_pct(insights::alerts::AT_RISK)),
                    ],
                ),
            )
        }),
    });

    // Lifecycle stages, in the order a customer lives them.
    let stage_rows = in_order(&stages, &STAGES);
    let stage_label = |k: &str| i18n.t(&format!("insight-lifecycle_stage-{k}"));
    boards.push(Board {
        id: "dash-lifecycle",
        title: i18n.t("insights-dash-lifecycle"),
        hint: i18n.t("insights-dash-lifecycle-hint"),
        svg: bars(
            Kind::Bar,
            &i18n.t("insights-dash-accounts"),
            stage_rows.iter().map(|f| stage_label(&f.key)).collect(),
            stage_rows.iter().map(|f| f.accounts as f64).collect(),
            &|v: f64| format!("{v:.0}"),
            &i18n,
        ),
        headings: ["insights-dash-revenue", "insights-dash-clv-short"]
            .map(|k| i18n.t(k))
            .to_vec(),
        lines: stage_rows
            .iter()
            .map(|f| Line {
                label: stage_label(&f.key),
                href: link("lifecycle_stage", "eq", f.key.clone()),
                accounts: f.accounts.to_string(),
                cells: vec![cash(f.revenue), cash(f.clv)],
                tone: match f.key.as_str() {
                    "churned" => "bad",
                    "decline" => "warn",
                    "stability" => "good",
                    _ => "",
                },
            })
            .collect(),
        more: None,
    });

    // How customers moved between stages since the refresh before the newest.
    if let Some((since, flows)) = &flows {
        let order = |k: &str| STAGES.iter().position(|s| *s == k).unwrap_or(0);
        let then = format!("insight.lifecycle_stage@{since}");
        let label = |f: &summary::Flow| {
            i18n.t_with(
                "insights-dash-flow",
                &[("from", stage_label(&f.from)), ("to", stage_label(&f.to))],
            )
        };
        boards.push(Board {
            id: "dash-flows",
            title: i18n.t1("insights-dash-flows", "date", since.to_string()),
            hint: if flows.is_empty() {
                i18n.t("insights-dash-flows-none")
            } else {
                i18n.t("insights-dash-flows-hint")
            },
            svg: String::new(),
            headings: vec![i18n.t("insights-dash-revenue")],
            lines: flows
                .iter()
                .map(|f| Line {
                    label: label(f),
                    href: url::list_link(
                        insights::subject().plural,
                        &[
                            ("insight.lifecycle_stage", "eq", f.to.clone()),
                            (then.as_str(), "eq", f.from.clone()),
                        ],
                        COLUMNS,
                    ),
                    accounts: f.accounts.to_string(),
                    cells: vec![cash(f.revenue)],
                    tone: match (f.to.as_str(), order(&f.to) > order(&f.from)) {
                        ("churned", _) => "bad",
                        ("decline", true) => "warn",
                        (_, false) => "good",
                        _ => "",
                    },
                })
                .collect(),
            more: None,
        });
    }

    // Lifetime value: how many customers in each band of round numbers.
    let band_label = |b: &Band| match b.to {
        Some(to) => i18n.t_with(
            "insights-dash-band",
            &[("from", short(b.from)), ("to", short(to))],
        ),
        None => i18n.t1("insights-dash-band-top", "from", short(b.from)),
    };
    boards.push(Board {
        id: "dash-clv",
        title: i18n.t("insights-dash-clv-bands"),
        hint: i18n.t("insights-dash-clv-hint"),
        svg: bars(
            Kind::Bar,
            &i18n.t("insights-dash-accounts"),
            bands.iter().map(band_label).collect(),
            bands.iter().map(|b| b.accounts as f64).collect(),
            &|v: f64| format!("{v:.0}"),
            &i18n,
        ),
        headings: vec![i18n.t("insights-dash-clv-short")],
        lines: bands
            .iter()
            .map(|b| {
                let mut conds = vec![("insight.clv", "gte", b.from.to_string())];
                if let Some(to) = b.to {
                    conds.push(("insight.clv", "lt", to.to_string()));
                }
                Line {
                    label: band_label(b),
                    href: url::list_link(insights::subject().plural, &conds, COLUMNS),
                    accounts: b.accounts.to_string(),
                    cells: vec![cash(b.clv)],
                    tone: "",
                }
            })
            .collect(),
        more: None,
    });

    // RFM: the eight segments as tiles, the ones to keep or win back marked.
    let rfm_tiles = in_order(
        &rfm,
        &[
            "important_value",
            "important_development",
            "important_retention",
            "important_win_back",
            "general_value",
            "general_development",
            "general_retention",
            "general_win_back",
        ],
    )
    .into_iter()
    .map(|f| Tile {
        label: i18n.t(&format!("insight-rfm_segment-{}", f.key)),
        href: link("rfm_segment", "eq", f.key.clone()),
        accounts: i18n.t1("insights-dash-n-accounts", "n", f.accounts),
        detail: i18n.t_with(
            "insights-dash-tile-detail",
            &[
                ("revenue", cash(f.revenue)),
                ("share", share(f.revenue, total_revenue)),
            ],
        ),
        tone: match f.key.as_str() {
            "important_value" | "important_development" => "good",
            "important_retention" | "important_win_back" => "warn",
            _ => "",
        },
    })
    .collect();

    // Loyalty: Dick & Basu's four types, as their quadrant reads (attitude down, behaviour
    // across).
    let loyalty_tiles = ["true", "latent", "spurious", "none"]
        .iter()
        .map(|k| {
            let f = loyalty.iter().find(|f| f.key == *k);
            Tile {
                label: i18n.t(&format!("insight-loyalty_type-{k}")),
                href: link("loyalty_type", "eq", (*k).to_string()),
                accounts: i18n.t1("insights-dash-n-accounts", "n", f.map_or(0, |f| f.accounts)),
                detail: i18n.t(&format!("insight-loyalty-how-{k}")),
                tone: match *k {
                    "true" => "good",
                    "spurious" | "none" => "warn",
                    _ => "",
                },
            }
        })
        .collect();

    render(&DashboardPage {
        page: PageCtx::new(&user, i18n.t("nav-insights"), "insights"),
        as_of: as_of.map(|d| d.to_string()),
        total: i18n.t_with(
            "insights-dash-total",
            &[
                ("n", total_accounts.to_string()),
                ("revenue", cash(total_revenue)),
            ],
        ),
        boards,
        rfm: rfm_tiles,
        loyalty: loyalty_tiles,
    })
}
