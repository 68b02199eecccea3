//! Administration → Customer insights: the refreshes (when, as of which day, how many accounts,
//! any error), a "refresh now" that also trains a new churn model, and the churn models with
//! their out-of-time evaluation — AUC, top-decile lift, calibration and what drives the risk —
//! so an administrator can see why the model in use may be trusted, or why a new one was
//! refused.

use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State as AxState};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use guanxi_charts::{Chart, Kind, Series};
use guanxi_core::insights::models::{self, ModelSummary};
use guanxi_core::insights::refresh::{self, RunSummary};
use guanxi_core::insights::settings;
use guanxi_core::{CoreError, codes};
use serde_json::Value;

use super::posted::Posted;
use super::{PageCtx, error_page, form_get, render};
use crate::State;
use crate::api::query_pairs;
use crate::auth::UiUser;
use crate::error::ApiError;
use crate::i18n::I18n;

pub fn router() -> Router<State> {
    Router::new()
        .route("/admin/insights", get(page))
        .route("/admin/insights/refresh", post(refresh_now))
        .route("/admin/insights/settings", post(save_settings))
}

pub struct RunLine {
    pub as_of: String,
    pub started: String,
    pub state: String,
    pub tone: &'static str,
    pub scored: String,
    pub error: String,
}

pub struct ModelLine {
    pub trained: String,
    pub as_of: String,
    pub verdict: String,
    pub tone: &'static str,
    pub auc: String,
    pub lift: String,
    pub churned: String,
    pub in_use: bool,
}

pub struct FeatureLine {
    pub label: String,
    pub effect: String,
    pub raises: bool,
}

#[derive(Template)]
#[template(path = "admin/insights.html")]
struct InsightsPage {
    page: PageCtx,
    section: String,
    runs: Vec<RunLine>,
    models: Vec<ModelLine>,
    /// The model in use (or the newest evaluated one): its calibration and its drivers.
    shown: Option<String>,
    calibration: String,
    features: Vec<FeatureLine>,
    notice: Option<String>,
    /// The models' settings in effect (or as typed, when refused), as JSON.
    settings: String,
    /// Why the settings typed were refused.
    settings_error: Option<String>,
}

fn admin_only(user: &UiUser) -> Result<(), ApiError> {
    if user.actor.is_admin() {
        Ok(())
    } else {
        Err(CoreError::forbidden(codes::ADMIN_ONLY).into())
    }
}

fn pct(v: f64) -> String {
    format!("{:.0}%", v * 100.0)
}

fn run_line(r: &RunSummary, i18n: &I18n) -> RunLine {
    RunLine {
        as_of: r.as_of.to_string(),
        started: i18n.instant(r.started_at),
        state: i18n.t(&format!("admin-insights-run-{}", r.state)),
        tone: match r.state.as_str() {
            "done" => "good",
            "failed" => "bad",
            _ => "",
        },
        scored: r.scored.to_string(),
        error: r.error.clone(),
    }
}

/// Why a model was refused, in words.
fn verdict(m: &ModelSummary, i18n: &I18n) -> String {
    if m.accepted() {
        return i18n.t("admin-insights-model-accepted");
    }
    let code = m.refusal.get("code").and_then(Value::as_str).unwrap_or("");
    let num = |k: &str| {
        m.refusal
            .get(k)
            .and_then(Value::as_f64)
            .map(|v| format!("{v:.2}"))
            .unwrap_or_default()
    };
    i18n.t_with(
        &format!("admin-insights-refused-{code}"),
        &[("auc", num("auc")), ("floor", num("floor"))],
    )
}

fn model_line(m: &ModelSummary, in_use: bool, i18n: &I18n) -> ModelLine {
    let test = m.evaluation.as_ref().and_then(|e| e.test.as_ref());
    ModelLine {
        trained: i18n.instant(m.trained_at),
        as_of: m.as_of.to_string(),
        verdict: verdict(m, i18n),
        tone: if m.accepted() { "good" } else { "bad" },
        auc: test
            .and_then(|t| t.auc)
            .map(|a| format!("{a:.2}"))
            .unwrap_or_else(|| "—".into()),
        lift: test
            .map(|t| format!("×{:.1}", t.top_decile.lift))
            .unwrap_or_else(|| "—".into()),
        churned: test
            .map(|t| {
                i18n.t_with(
                    "admin-insights-churned-of",
                    &[
                        ("churned", t.churned.to_string()),
                        ("customers", t.customers.to_string()),
                        ("rate", pct(t.base_rate)),
                    ],
                )
            })
            .unwrap_or_else(|| "—".into()),
        in_use,
    }
}

async fn page(AxState(st): AxState<State>, user: UiUser, RawQuery(raw): RawQuery) -> Response {
    let notice = form_get(&query_pairs(raw.as_deref()), "done").map(str::to_string);
    show(&st, &user, notice.as_deref(), None).await
}

/// The page, with `notice` (`queued`, `settings_saved`) said at the top, or the settings as
/// typed with why they were refused.
async fn show(
    st: &State,
    user: &UiUser,
    notice: Option<&str>,
    refused: Option<(String, String)>,
) -> Response {
    if let Err(e) = admin_only(user) {
        return error_page(user, e);
    }
    let i18n = I18n::for_actor(&user.actor);
    let reader = st.core.db.reader();
    let today = refresh::today(&st.core, guanxi_core::now());
    let loaded = async {
        let runs = refresh::recent_runs(reader, 10).await?;
        let recent = models::recent(reader, 10).await?;
        let in_use = models::accepted(reader, today).await?.map(|(id, _)| id);
        let settings = settings::current(reader).await?;
        Ok::<_, CoreError>((runs, recent, in_use, settings))
    }
    .await;
    let (runs, recent, in_use, in_effect) = match loaded {
        Ok(l) => l,
        Err(e) => return error_page(user, e.into()),
    };
    // The model to explain: the one in use, else the newest with an evaluation.
    let explained = recent
        .iter()
        .find(|m| Some(m.id) == in_use)
        .or_else(|| recent.iter().find(|m| m.evaluation.is_some()));
    let (shown, calibration, features) =
        match explained.and_then(|m| Some((m, m.evaluation.as_ref()?))) {
            Some((m, e)) => {
                let bins = e
                    .test
                    .as_ref()
                    .map(|t| t.calibration.clone())
                    .unwrap_or_default();
                let format = |x: f64| format!("{x:.0}%");
                let svg = guanxi_charts::render(&Chart {
                    kind: Kind::Line,
                    title: i18n.t("admin-insights-calibration"),
                    categories: bins.iter().map(|b| b.bin.to_string()).collect(),
                    series: vec![
                        Series::new(
                            i18n.t("admin-insights-predicted"),
                            bins.iter().map(|b| 100.0 * b.mean_predicted).collect(),
                        ),
                        Series::new(
                            i18n.t("admin-insights-observed"),
                            bins.iter().map(|b| 100.0 * b.observed_rate).collect(),
                        ),
                    ],
                    format: &format,
                    empty: i18n.t("chart-empty"),
                });
                // Strongest effect first, raising or lowering.
                let mut coefficients = e.coefficients.clone();
                coefficients.sort_by(|a, b| b.coefficient.abs().total_cmp(&a.coefficient.abs()));
                let features: Vec<FeatureLine> = coefficients
                    .iter()
                    .filter(|c| c.coefficient.abs() >= 0.05)
                    .map(|c| FeatureLine {
                        label: i18n
                            .maybe(&format!("churn-feature-{}", c.feature))
                            .unwrap_or_else(|| c.feature.clone()),
                        effect: format!("×{:.2}", c.odds_ratio_per_sd),
                        raises: c.coefficient > 0.0,
                    })
                    .collect();
                let shown = i18n.t_with(
                    "admin-insights-explained",
                    &[
                        ("as_of", m.as_of.to_string()),
                        ("from", e.test_cutoff.to_string()),
                        ("days", e.window_days.to_string()),
                    ],
                );
                (Some(shown), svg, features)
            }
            None => (None, String::new(), Vec::new()),
        };
    let notice = match notice {
        Some("queued") => Some(i18n.t("admin-insights-queued")),
        Some("settings_saved") => Some(i18n.t("admin-insights-settings-saved")),
        _ => None,
    };
    let (settings, settings_error) = match refused {
        Some((typed, why)) => (typed, Some(why)),
        None => (
            serde_json::to_string_pretty(&in_effect).unwrap_or_default(),
            None,
        ),
    };
    render(&InsightsPage {
        page: PageCtx::new(user, i18n.t("admin-insights"), "admin"),
        section: "insights".into(),
        runs: runs.iter().map(|r| run_line(r, &i18n)).collect(),
        models: recent
            .iter()
            .map(|m| model_line(m, Some(m.id) == in_use, &i18n))
            .collect(),
        shown,
        calibration,
        features,
        notice,
        settings,
        settings_error,
    })
}

/// Stores the models' settings typed, or shows them again with why they cannot be used.
async fn save_settings(AxState(st): AxState<State>, Posted { user, form }: Posted) -> Response {
    let typed = form_get(&form, "settings").unwrap_or("").to_string();
    match settings::save(&st.core, &user.actor, &typed).await {
        Ok(_) => {
            Redirect::to("/admin/insights?done=settings_saved#insight-settings").into_response()
        }
        Err(e @ CoreError::Forbidden { .. }) => error_page(&user, e.into()),
        Err(e) => {
            let i18n = I18n::for_actor(&user.actor);
            let e: ApiError = e.into();
            let why = i18n.error(e.reason.unwrap_or(e.code), &e.params);
            show(&st, &user, None, Some((typed, why))).await
        }
    }
}

/// Queues a refresh that trains a new churn model; the page says it was queued.
async fn refresh_now(AxState(st): AxState<State>, Posted { user, .. }: Posted) -> Response {
    match refresh::request(&st.core, &user.actor).await {
        Ok(()) => Redirect::to("/admin/insights?done=queued").into_response(),
        Err(e) => error_page(&user, e.into()),
    }
}
