//! The demo's sales pipeline: two pipelines, the usual lost reasons, and opportunities in every
//! stage for the companies, some won and some lost through the same actions people use, so the
//! pipeline, the stage history and the account pages look lived in.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use super::calendar::Year;
use super::vocab::{Gen, Place};
use crate::lists::ListIds;
use guanxi_core::areas::sales::{LOST_REASONS, OPPORTUNITIES, PIPELINES};
use guanxi_core::authz::Actor;
use guanxi_core::error::{CoreError, CoreResult};
use guanxi_core::records::ListQuery;
use guanxi_core::{Core, EntityDef};

/// A company the demo made, as the pipeline needs it.
pub(super) struct Customer<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub chinese: bool,
    pub owner: &'a Actor,
    pub contacts: &'a [Uuid],
    /// When the account was created.
    pub since: DateTime<Utc>,
}

const PROJECTS: [(&str, &str); 8] = [
    ("ERP upgrade", "ERP 升级"),
    ("CRM rollout", "CRM 实施"),
    ("Annual maintenance", "年度维保"),
    ("Data platform", "数据中台"),
    ("Smart warehouse", "智能仓储"),
    ("Cloud migration", "云迁移"),
    ("Security audit", "安全审计"),
    ("Training programme", "培训服务"),
];

const ROLES: [&str; 4] = ["decision_maker", "influencer", "technical_buyer", "user"];

fn id_of(rec: &Value) -> CoreResult<Uuid> {
    rec.get("id")
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| CoreError::Internal("a created record has no id".into()))
}

async fn create(
    core: &Core,
    def: &'static EntityDef,
    actor: &Actor,
    v: Value,
    at: Option<DateTime<Utc>>,
) -> CoreResult<Value> {
    let svc = core.records(def);
    let svc = match at {
        Some(at) => svc.as_of(at),
        None => svc,
    };
    svc.create(actor, &v)
        .await
        .map(Value::Object)
        .map_err(|e| match e {
            CoreError::Validation(fields) => CoreError::Internal(format!(
                "demo {} {v} failed validation: {fields:?}",
                def.name
            )),
            e => e,
        })
}

/// Creates the pipelines, lost reasons and opportunities; returns how many opportunities.
pub(super) async fn seed(
    core: &Core,
    g: &mut Gen,
    (year, times): (&Year, &mut Gen),
    admin: &Actor,
    customers: &[Customer<'_>],
    lists: &ListIds,
) -> CoreResult<usize> {
    let renewals = create(
        core,
        &PIPELINES,
        admin,
        json!({"name": {"en": "Renewals", "zh-CN": "续约"}, "position": 2, "stages": [
            {"name": {"en": "Renewal due", "zh-CN": "待续约"}, "kind": "open", "probability": 60},
            {"name": {"en": "Quote sent", "zh-CN": "已报价"}, "kind": "open", "probability": 80},
            {"name": {"en": "Renewed", "zh-CN": "已续约"}, "kind": "won", "probability": 100},
            {"name": {"en": "Churned", "zh-CN": "已流失"}, "kind": "lost", "probability": 0},
        ]}),
        None,
    )
    .await?;
    let list = |sort: &str| ListQuery {
        sort: Some(sort.to_string()),
        limit: 50,
        ..Default::default()
    };
    let first = core
        .records(&PIPELINES)
        .list(admin, &list("position"))
        .await?
        .items
        .into_iter()
        .next()
        .ok_or_else(|| CoreError::Internal("no pipeline was installed".into()))?;
    let pipeline = Value::Object(
        core.records(&PIPELINES)
            .get(admin, id_of(&Value::Object(first))?)
            .await?,
    );
    let mut reasons = Vec::new();
    for r in core
        .records(&LOST_REASONS)
        .list(admin, &list("position"))
        .await?
        .items
    {
        reasons.push(id_of(&Value::Object(r))?);
    }
    if reasons.is_empty() {
        return Err(CoreError::Internal("no lost reason was installed".into()));
    }
    let open_stages: Vec<Value> = pipeline["stages"]
        .as_array()
        .map(|s| {
            s.iter()
                .filter(|s| s["kind"] == "open")
                .filter_map(|s| s.get("id").cloned())
                .collect()
        })
        .unwrap_or_default();
    let pipeline_id = id_of(&pipeline)?;
    let today = Utc::now().date_naive();
    let svc = core.records(&OPPORTUNITIES);
    let mut made = 0;
    for c in customers {
        if !g.chance(0.6) {
            continue;
        }
        let (en, zh) = g.pick(&PROJECTS);
        let name = if c.chinese {
            format!("{} {zh}", c.name)
        } else {
            format!("{} {en}", c.name)
        };
        let amount = g.range(2, 300) * 10_000;
        let close = today + Duration::days(g.range(0, 270) as i64 - 90);
        let mut roles = Vec::new();
        for (i, contact) in c.contacts.iter().take(2).enumerate() {
            roles.push(
                json!({"contact_id": contact.to_string(), "role": ROLES[i % ROLES.len()],
                              "primary": i == 0}),
            );
        }
        let stage = open_stages
            .get(g.range(0, open_stages.len().saturating_sub(1) as u64) as usize)
            .cloned()
            .unwrap_or(Value::Null);
        let mut input = json!({
                "name": name,
                "account_id": c.id.to_string(),
                "pipeline_id": pipeline_id.to_string(),
                "stage_id": stage,
                "amount": {"amount": amount.to_string(), "currency": if c.chinese { "CNY" } else { "USD" }},
                "close_date": close.format("%Y-%m-%d").to_string(),
                "next_step": if c.chinese { "安排技术交流" } else { "Schedule a demo" },
                "source": g.pick(&["网站", "转介绍", "展会", "电话陌拜", "老客户"]),
                "contact_roles": roles,
        });
        lists.resolve(&mut input)?;
        let opened = year.after(times, c.since, 120);
        let opp = create(core, &OPPORTUNITIES, c.owner, input, Some(opened)).await?;
        made += 1;
        let id = id_of(&opp)?;
        let decided = year.after(times, opened, 150);
        // A third of the deals are already decided, on the day they were.
        if g.chance(0.2) {
            let date = decided.date_naive().format("%Y-%m-%d");
            svc.as_of(decided)
                .act(
                    c.owner,
                    id,
                    "close_won",
                    None,
                    &json!({"close_date": date.to_string()}),
                )
                .await?;
        } else if g.chance(0.15) {
            let reason = reasons[g.range(0, reasons.len() as u64 - 1) as usize];
            svc.as_of(decided)
                .act(
                    c.owner,
                    id,
                    "close_lost",
                    None,
                    &json!({"lost_reason_id": reason.to_string()}),
                )
                .await?;
        }
    }
    made += every_stage(
        core,
        g,
        (year, times),
        &[pipeline, renewals],
        customers,
        &reasons,
    )
    .await?;
    Ok(made)
}

/// A deal in every stage of every pipeline for every owner of deals, so each one's board is
/// full: open stages as they are, won and lost ones closed this quarter (the board shows no
/// older ones; the other deals are closed over the whole year).
async fn every_stage(
    core: &Core,
    g: &mut Gen,
    (year, times): (&Year, &mut Gen),
    pipelines: &[Value],
    customers: &[Customer<'_>],
    reasons: &[Uuid],
) -> CoreResult<usize> {
    let now = guanxi_core::now();
    let today = now.date_naive();
    let (quarter_start, _) = guanxi_core::records::board::quarter_of(today);
    let quarter_start = quarter_start
        .and_hms_opt(2, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or(now);
    let svc = core.records(&OPPORTUNITIES);
    let mut owners: Vec<&Actor> = Vec::new();
    for c in customers {
        if !owners.iter().any(|o| o.user_id == c.owner.user_id) {
            owners.push(c.owner);
        }
    }
    let mut made = 0;
    for owner in owners {
        let theirs: Vec<&Customer> = customers
            .iter()
            .filter(|c| c.owner.user_id == owner.user_id)
            .collect();
        let mut n = 0usize;
        for pipeline in pipelines {
            let pipeline_id = id_of(pipeline)?;
            let renewal = pipeline["name"]["en"] == "Renewals";
            for stage in pipeline["stages"].as_array().into_iter().flatten() {
                let Some(c) = theirs.get(n % theirs.len().max(1)) else {
                    continue;
                };
                n += 1;
                let kind = stage["kind"].as_str().unwrap_or("open");
                let (en, zh) = if renewal {
                    ("Annual renewal", "年度续约")
                } else {
                    g.pick(&PROJECTS)
                };
                let name = if c.chinese {
                    format!("{} {zh}", c.name)
                } else {
                    format!("{} {en}", c.name)
                };
                let amount = g.range(3, 250) * 10_000;
                let close = today + Duration::days(g.range(7, 120) as i64);
                let first_open = pipeline["stages"]
                    .as_array()
                    .and_then(|s| s.iter().find(|s| s["kind"] == "open"))
                    .and_then(|s| s.get("id").cloned())
                    .unwrap_or(Value::Null);
                let input = json!({
                    "name": name,
                    "account_id": c.id.to_string(),
                    "pipeline_id": pipeline_id.to_string(),
                    "stage_id": if kind == "open" { stage["id"].clone() } else { first_open },
                    "amount": {"amount": amount.to_string(),
                               "currency": if c.chinese { "CNY" } else { "USD" }},
                    "close_date": close.format("%Y-%m-%d").to_string(),
                    "next_step": if c.chinese { "确认采购流程" } else { "Confirm the buying process" },
                });
                // Open deals were opened in the past months; closed ones this quarter.
                let opened = if kind == "open" {
                    year.after(times, c.since, 200)
                } else {
                    let from = if c.since > quarter_start {
                        c.since
                    } else {
                        quarter_start
                    };
                    let days = ((now - from).num_days().max(1) / 2) as u64;
                    year.after(times, from, days)
                };
                let opp = create(core, &OPPORTUNITIES, c.owner, input, Some(opened)).await?;
                made += 1;
                let id = id_of(&opp)?;
                let decided = year.after(times, opened, ((now - opened).num_days().max(1)) as u64);
                let date = decided.date_naive().format("%Y-%m-%d").to_string();
                match kind {
                    "won" => {
                        svc.as_of(decided)
                            .act(c.owner, id, "close_won", None, &json!({"close_date": date}))
                            .await?;
                    }
                    "lost" => {
                        let reason = reasons[g.range(0, reasons.len() as u64 - 1) as usize];
                        svc.as_of(decided)
                            .act(
                                c.owner,
                                id,
                                "close_lost",
                                None,
                                &json!({"lost_reason_id": reason.to_string(), "close_date": date}),
                            )
                            .await?;
                    }
                    _ => {}
                }
            }
        }
    }
    Ok(made)
}

/// Whether a place is in China (deals there are in yuan and named in Chinese).
pub(super) fn chinese(place: Place) -> bool {
    matches!(place, Place::Cn(_))
}
