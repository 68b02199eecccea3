//! `guanxi analytics value-focus`: which value dimension matters most and is served worst,
//! overall, per segment and per customer (importance-performance analysis of a survey).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, ValueEnum};
use guanxi_analytics::customer_file::{Header, Layout, OneRowPerCustomer, Others};
use guanxi_analytics::value_focus::{
    self, CustomerFocus, Dimension, DimensionResult, Ipa, IpaQuadrant, SegmentIpa, SurveyResponse,
    ValueFocusConfig, ValueFocusReport,
};
use serde::Serialize;

use super::input::{
    Format, Tabular, load_side_file, num, safe_text, write_csv, write_json, write_table,
};
use super::settings_file::SettingsArgs;

/// Arguments of `guanxi analytics value-focus`.
#[derive(Args, Debug)]
pub struct ValueFocusArgs {
    /// Survey CSV, one row per customer: customer_id, optional segment, the overall rating and
    /// one numeric column per value dimension.
    #[arg(long, value_name = "FILE", required_unless_present = "print_settings")]
    pub survey: Option<PathBuf>,
    /// Which dimensions the columns are: a preset (its keys must be the columns exactly) or
    /// `auto` (a preset when the columns match one, otherwise the columns as given).
    #[arg(long, value_enum, default_value_t = DimensionSet::Auto)]
    pub dimensions: DimensionSet,
    /// The column holding the overall rating (satisfaction or perceived value, any scale).
    #[arg(long, value_name = "NAME", default_value = "overall")]
    pub overall_column: String,
    /// The best possible dimension rating (e.g. 5 or 7); overrides --settings.
    #[arg(long, value_name = "N")]
    pub scale_max: Option<f64>,
    /// Target rating the gaps are measured to (default: the scale maximum); overrides --settings.
    #[arg(long, value_name = "N")]
    pub target: Option<f64>,
    /// Fewest responses for a segment to get its own importance; overrides --settings.
    #[arg(long, value_name = "N")]
    pub min_segment_responses: Option<usize>,
    /// What the CSV and table list: the per-dimension analysis (all responses, then each
    /// segment) or each customer's focus. JSON always holds both.
    #[arg(long, value_enum, default_value_t = Rows::Dimensions)]
    pub rows: Rows,
    #[command(flatten)]
    pub settings: SettingsArgs,
    /// Skip malformed rows (reported on stderr) instead of failing.
    #[arg(long)]
    pub skip_bad_rows: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
}

/// The dimension presets of `guanxi_analytics::value_focus`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DimensionSet {
    /// A preset when the columns are exactly its keys, otherwise the columns as given.
    Auto,
    /// SERVQUAL: reliability, assurance, tangibles, empathy, responsiveness.
    Rater,
    /// product, service, price, relationship.
    Pspr,
    /// Customer delivered value: product_value, service_value, personnel_value, image_value.
    Delivered,
}

/// Rows of the CSV and table output.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rows {
    /// One row per dimension, for all responses and for each segment.
    Dimensions,
    /// One row per customer with their focus dimension.
    Customers,
}

const SURVEY: Layout = Layout {
    required: &[],
    optional: &["segment"],
    others: Others::Keep,
};

fn presets() -> [(DimensionSet, &'static str, Vec<Dimension>); 3] {
    [
        (
            DimensionSet::Rater,
            "rater",
            value_focus::rater_dimensions(),
        ),
        (
            DimensionSet::Pspr,
            "pspr",
            value_focus::product_service_price_relationship(),
        ),
        (
            DimensionSet::Delivered,
            "delivered",
            value_focus::delivered_value_dimensions(),
        ),
    ]
}

fn keys(dims: &[Dimension]) -> String {
    dims.iter()
        .map(|d| d.key.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where the overall rating and each dimension are in the file.
struct Plan {
    overall: usize,
    dims: Vec<(usize, Dimension)>,
}

/// Matches the header to the dimensions. Done once per file from the first row, since the shared
/// reader only shows the header with a row.
fn plan(header: &Header, set: DimensionSet, overall: &str) -> Result<Plan, String> {
    let others = header.others(&SURVEY);
    let overall_at = others
        .iter()
        .find(|(_, n)| n == overall)
        .map(|(i, _)| *i)
        .ok_or_else(|| {
            format!(
                "the header has no `{overall}` column (the overall rating; --overall-column \
                 names another)"
            )
        })?;
    let columns: Vec<(usize, String)> = others.into_iter().filter(|(_, n)| n != overall).collect();
    if columns.iter().any(|(_, n)| n.is_empty()) {
        return Err("a column has no name".into());
    }
    let names: HashSet<&str> = columns.iter().map(|(_, n)| n.as_str()).collect();
    let position = |key: &str| columns.iter().find(|(_, n)| n == key).map(|(i, _)| *i);
    let preset = presets().into_iter().find(|(s, _, dims)| {
        *s == set
            || (set == DimensionSet::Auto
                && dims.len() == names.len()
                && dims.iter().all(|d| names.contains(d.key.as_str())))
    });
    let dims: Vec<(usize, Dimension)> = match preset {
        Some((_, name, dims)) => {
            if let Some((_, extra)) = columns
                .iter()
                .find(|(_, n)| !dims.iter().any(|d| &d.key == n))
            {
                return Err(format!(
                    "unknown column `{extra}`: the {name} dimensions are {}; --dimensions auto \
                     takes the columns as given",
                    keys(&dims)
                ));
            }
            let mut out = Vec::new();
            for d in dims.iter() {
                let at = position(&d.key).ok_or_else(|| {
                    format!(
                        "the header has no `{}` column: the {name} dimensions are {}",
                        d.key,
                        keys(&dims)
                    )
                })?;
                out.push((at, d.clone()));
            }
            out
        }
        None => columns
            .into_iter()
            .map(|(i, n)| {
                (
                    i,
                    Dimension {
                        key: n.clone(),
                        name_zh: n.clone(),
                        name_en: n,
                    },
                )
            })
            .collect(),
    };
    if dims.is_empty() {
        return Err(
            "no dimension columns besides customer_id, segment and the overall rating".into(),
        );
    }
    Ok(Plan {
        overall: overall_at,
        dims,
    })
}

/// Reads the survey. Header problems are found on the first row but reported for the file, not
/// for each row, so `--skip-bad-rows` cannot turn a wrong header into an empty survey.
fn read_survey(
    path: &Path,
    args: &ValueFocusArgs,
    scale_max: f64,
) -> anyhow::Result<(Vec<Dimension>, Vec<SurveyResponse>)> {
    let mut header_plan: Option<Result<Plan, String>> = None;
    let mut responses = Vec::new();
    let mut once = OneRowPerCustomer::default();
    // header names are compared in lower case
    let overall_column = args.overall_column.trim().to_lowercase();
    load_side_file(path, &SURVEY, args.skip_bad_rows, |r| {
        let p =
            header_plan.get_or_insert_with(|| plan(r.header(), args.dimensions, &overall_column));
        let Ok(p) = p else {
            return Ok(());
        };
        let id = r.customer_id()?;
        let segment = r.text("segment")?.map(str::to_string);
        let overall = r
            .number_at(p.overall)?
            .ok_or_else(|| format!("{} is empty", args.overall_column))?;
        let mut scores = Vec::with_capacity(p.dims.len());
        for (at, d) in &p.dims {
            let v = r
                .number_at(*at)?
                .ok_or_else(|| format!("{} is empty", d.key))?;
            if !(0.0..=scale_max).contains(&v) {
                return Err(format!(
                    "{} {v} is outside 0–{scale_max} (set --scale-max)",
                    d.key
                ));
            }
            scores.push(v);
        }
        once.check(r)?;
        responses.push(SurveyResponse {
            customer_id: id.to_string(),
            segment,
            scores,
            overall,
        });
        Ok(())
    })?;
    match header_plan {
        None => anyhow::bail!("{} holds no survey responses", path.display()),
        Some(Err(e)) => anyhow::bail!("{}: {e}", path.display()),
        Some(Ok(p)) => Ok((p.dims.into_iter().map(|(_, d)| d).collect(), responses)),
    }
}

fn quadrant_code(q: IpaQuadrant) -> &'static str {
    match q {
        IpaQuadrant::ConcentrateHere => "concentrate_here",
        IpaQuadrant::KeepUpTheGoodWork => "keep_up_the_good_work",
        IpaQuadrant::LowPriority => "low_priority",
        IpaQuadrant::PossibleOverkill => "possible_overkill",
    }
}

/// One dimension of one group (all responses, or a segment).
struct DimensionRow<'a> {
    segment: Option<&'a str>,
    own_regression: bool,
    ipa: &'a Ipa,
    dim: &'a DimensionResult,
}

impl Tabular for DimensionRow<'_> {
    fn headers() -> Vec<&'static str> {
        vec![
            "scope",
            "segment",
            "responses",
            "own_regression",
            "r_squared",
            "key",
            "name_zh",
            "name_en",
            "coefficient",
            "importance",
            "performance",
            "gap",
            "priority",
            "quadrant",
            "quadrant_zh",
            "quadrant_en",
            "focus",
        ]
    }
    fn cells(&self) -> Vec<String> {
        let d = self.dim;
        vec![
            if self.segment.is_some() {
                "segment"
            } else {
                "all"
            }
            .into(),
            safe_text(self.segment.unwrap_or_default()),
            self.ipa.responses.to_string(),
            self.own_regression.to_string(),
            num(Some(self.ipa.r_squared), 3),
            safe_text(&d.key),
            safe_text(&d.name_zh),
            safe_text(&d.name_en),
            num(Some(d.coefficient), 4),
            num(Some(d.importance), 4),
            num(Some(d.performance), 3),
            num(Some(d.gap), 3),
            num(Some(d.priority), 4),
            quadrant_code(d.quadrant).into(),
            d.quadrant_zh.clone(),
            d.quadrant_en.clone(),
            (d.key == self.ipa.focus).to_string(),
        ]
    }
}

impl Tabular for CustomerFocus {
    fn headers() -> Vec<&'static str> {
        vec![
            "customer_id",
            "segment",
            "focus",
            "focus_zh",
            "focus_en",
            "gap",
            "priority",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            safe_text(&self.customer_id),
            safe_text(self.segment.as_deref().unwrap_or_default()),
            safe_text(&self.focus),
            safe_text(&self.focus_zh),
            safe_text(&self.focus_en),
            num(Some(self.gap), 3),
            num(Some(self.priority), 4),
        ]
    }
}

#[derive(Serialize)]
struct Report<'a> {
    responses: usize,
    dimensions: &'a [Dimension],
    config: &'a ValueFocusConfig,
    overall: &'a Ipa,
    segments: &'a [SegmentIpa],
    per_customer: &'a [CustomerFocus],
}

fn focus_label(dims: &[Dimension], key: &str) -> String {
    dims.iter().find(|d| d.key == key).map_or_else(
        || safe_text(key),
        |d| {
            if d.name_zh == d.name_en {
                safe_text(&d.key)
            } else {
                format!("{} {} / {}", safe_text(&d.key), d.name_zh, d.name_en)
            }
        },
    )
}

fn dimension_rows(report: &ValueFocusReport) -> Vec<DimensionRow<'_>> {
    let mut rows: Vec<DimensionRow<'_>> = report
        .overall
        .dimensions
        .iter()
        .map(|dim| DimensionRow {
            segment: None,
            own_regression: true,
            ipa: &report.overall,
            dim,
        })
        .collect();
    for s in &report.segments {
        rows.extend(s.ipa.dimensions.iter().map(|dim| DimensionRow {
            segment: Some(&s.segment),
            own_regression: s.own_regression,
            ipa: &s.ipa,
            dim,
        }));
    }
    rows
}

/// Runs the command.
pub fn run(args: ValueFocusArgs) -> anyhow::Result<()> {
    let mut config: ValueFocusConfig = args.settings.load("value-focus")?;
    if let Some(v) = args.scale_max {
        config.scale_max = v;
    }
    if args.target.is_some() {
        config.target = args.target;
    }
    if let Some(n) = args.min_segment_responses {
        config.min_segment_responses = n;
    }
    config.validate()?;
    if args.settings.print_settings {
        return write_json(&config);
    }
    let Some(path) = &args.survey else {
        anyhow::bail!("--survey is required");
    };
    let (dims, responses) = read_survey(path, &args, config.scale_max)?;
    let report = value_focus::analyze(&dims, &responses, &config)
        .with_context(|| format!("value focus of {}", path.display()))?;
    match (args.format, args.rows) {
        (Format::Json, _) => write_json(&Report {
            responses: responses.len(),
            dimensions: &dims,
            config: &config,
            overall: &report.overall,
            segments: &report.segments,
            per_customer: &report.customers,
        }),
        (Format::Csv, Rows::Dimensions) => write_csv(&dimension_rows(&report)),
        (Format::Csv, Rows::Customers) => write_csv(&report.customers),
        (Format::Table, rows) => {
            let mut pre = vec![
                ("responses".to_string(), responses.len().to_string()),
                ("R²".to_string(), num(Some(report.overall.r_squared), 3)),
                (
                    "focus".to_string(),
                    focus_label(&dims, &report.overall.focus),
                ),
            ];
            for s in &report.segments {
                pre.push((
                    format!(
                        "focus of {} ({} responses{})",
                        safe_text(&s.segment),
                        s.ipa.responses,
                        if s.own_regression {
                            ""
                        } else {
                            ", importance of all responses"
                        }
                    ),
                    focus_label(&dims, &s.ipa.focus),
                ));
            }
            match rows {
                Rows::Dimensions => write_table(&pre, &dimension_rows(&report)),
                Rows::Customers => write_table(&pre, &report.customers),
            }
        }
    }
}
