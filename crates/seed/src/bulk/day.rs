//! A rep's day for `bench-data`: opportunities in two pipelines of seven stages (five open, won,
//! lost) and activities of every kind, written as the record service writes them.
//!
//! - An opportunity sits on an account of the same load, owned by the account's owner or (one in
//!   five) a colleague of the same team. 15 % are open, spread over the open stages; the others
//!   were won or lost, with close dates over the past two years (those created lately close in
//!   the current quarter). A won deal is created in its won stage, which the service allows; a
//!   lost one cannot be (its lost reason is set only by "close lost"), so it is written as the
//!   service leaves a deal created open and closed lost later: version 2, two stage-history
//!   lines, a "create" and a "close_lost" audit entry.
//! - The pipeline rollups (`opportunities_rollup_*`) are kept by the database's triggers on every
//!   insert, the loader's included, so the totals equal what the engine keeps without a rebuild.
//! - An activity regards an account, a contact or an opportunity of the load, owned by that
//!   record's owner (85 %) or a colleague. Tasks fall due within three weeks of their creation
//!   (those past due are mostly done, the rest overdue); calls are logged as they happen;
//!   meetings and visits are booked up to six weeks ahead in office hours (Beijing time), a
//!   third with one or two colleagues attending. Activities are created over the past year, so
//!   their times run from a year ago to about six weeks ahead. No reminders are set (a reminder
//!   in the past is refused, and reminders would be rows of their own).

use chrono::{Duration, NaiveDate, TimeZone};
use serde_json::json;

use super::*;
use guanxi_core::areas::sales::{LOST_REASON_NAMES, LOST_REASONS, PIPELINES};
use guanxi_core::audit;
use guanxi_core::records::service::ts_string;

/// Opportunities are created over this many days before now.
const OPPORTUNITY_DAYS: i64 = 2 * 365;
/// Activities are created over this many days before now.
const ACTIVITY_DAYS: i64 = 365;
/// Where the search keys of pipelines and lost reasons start (between the lists' and the
/// records', see [`Keys`]).
const SALES_KEYS: i64 = Keys::LISTS + (1 << (search::order::SLOT_BITS - 3));

/// The benchmark's pipelines: name (English, Chinese) and five open stages with their
/// probabilities; each ends with won and lost.
type PipelineSpec = (
    &'static str,
    &'static str,
    [(&'static str, &'static str, i64); 5],
);
pub(super) const PIPELINES_SPEC: [PipelineSpec; 2] = [
    (
        "Key accounts",
        "大客户销售",
        [
            ("Lead qualified", "线索确认", 10),
            ("Discovery", "需求调研", 20),
            ("Solution demo", "方案演示", 40),
            ("Quotation", "商务报价", 60),
            ("Contract negotiation", "合同谈判", 80),
        ],
    ),
    (
        "Channel sales",
        "渠道销售",
        [
            ("Deal registered", "渠道报备", 10),
            ("Joint visit", "联合拜访", 25),
            ("Trial", "试用评估", 45),
            ("Quote approval", "报价审批", 65),
            ("Signing", "签约", 85),
        ],
    ),
];
/// How open deals spread over the five open stages (weights).
const OPEN_WEIGHTS: [u64; 5] = [30, 25, 20, 15, 10];

const PROJECTS: [&str; 12] = [
    "ERP 升级",
    "CRM 实施",
    "年度维保",
    "数据中台",
    "智能仓储",
    "云迁移",
    "安全审计",
    "培训服务",
    "产线改造",
    "门店数字化",
    "供应链协同",
    "财务共享",
];
const NEXT_STEPS: [&str; 6] = [
    "安排技术交流",
    "发送报价单",
    "约见采购负责人",
    "准备演示环境",
    "确认合同条款",
    "回访使用情况",
];
const TASKS: [&str; 6] = [
    "发送方案资料",
    "跟进报价反馈",
    "准备投标文件",
    "催收回款",
    "更新客户联系人",
    "整理会议纪要",
];
const CALLS: [&str; 4] = ["电话回访", "确认需求", "预约拜访", "售后跟进"];
const MEETINGS: [&str; 4] = ["方案讲解会", "季度业务回顾", "合同评审会", "技术交流会"];
const VISITS: [&str; 4] = ["上门拜访", "现场调研", "客户巡检", "节日拜访"];
const NOTES: [&str; 4] = ["客户反馈", "竞品情况", "决策链备注", "预算信息"];

/// A stage of a pipeline, as opportunities need it.
#[derive(Clone, Debug)]
pub(super) struct Stage {
    pub id: Uuid,
    pub kind: String,
    pub probability: i64,
}

#[derive(Clone, Debug)]
pub(super) struct Pipeline {
    pub id: Uuid,
    pub stages: Vec<Stage>,
}

impl Pipeline {
    fn of_kind(&self, kind: &str) -> Vec<&Stage> {
        self.stages.iter().filter(|s| s.kind == kind).collect()
    }
}

/// The pipelines and lost reasons opportunities are generated in.
#[derive(Clone, Debug, Default)]
pub(super) struct Sales {
    pub pipelines: Vec<Pipeline>,
    pub lost_reasons: Vec<Uuid>,
}

/// The benchmark's pipelines and the lost reasons, written where missing as the service writes
/// them (as [`ensure_lists`] writes sources and industries), created by the first benchmark user.
pub(super) async fn ensure_sales(core: &Core, owners: &[Owner]) -> CoreResult<Sales> {
    let owner = owners
        .first()
        .ok_or_else(|| CoreError::Internal("no benchmark user".into()))?
        .id;
    let backend = core.db.backend();
    let settings = &core.settings;
    let mut keys = Keys::new(SALES_KEYS);
    let mut rows = Rows::new(backend);
    let stamp = || Stamp {
        id: Uuid::now_v7(),
        owner,
        at: guanxi_core::now(),
        actor: owner,
        audit_id: Uuid::now_v7(),
    };
    if lists::existing(core, &LOST_REASONS).await?.is_empty() {
        let shape = Shape::new(&LOST_REASONS, settings);
        for (i, (en, zh)) in LOST_REASON_NAMES.iter().enumerate() {
            let rec = shape.record(
                &json!({"name": {"en": en, "zh-CN": zh}, "position": i + 1}),
                settings,
            )?;
            push(backend, &LOST_REASONS, &mut rows, &rec, &stamp(), &mut keys)?;
        }
    }
    let have = lists::existing(core, &PIPELINES).await?;
    let shape = Shape::new(&PIPELINES, settings);
    for (i, (en, zh, open)) in PIPELINES_SPEC.iter().enumerate() {
        if have.contains_key(*zh) {
            continue;
        }
        let rec = shape.record(&pipeline_input(i, en, zh, open), settings)?;
        push(backend, &PIPELINES, &mut rows, &rec, &stamp(), &mut keys)?;
    }
    let txn = core.db.begin().await?;
    for sql in rows.into_statements() {
        txn.execute_unprepared(&sql).await?;
    }
    txn.commit().await?;
    read_sales(core).await
}

/// What an administrator sends to create the `i`-th benchmark pipeline.
pub(super) fn pipeline_input(i: usize, en: &str, zh: &str, open: &[(&str, &str, i64); 5]) -> Value {
    let mut stages: Vec<Value> = open
        .iter()
        .map(|(en, zh, p)| {
            json!({"name": {"en": en, "zh-CN": zh}, "kind": "open", "probability": p})
        })
        .collect();
    stages.push(json!({"name": {"en": "Won", "zh-CN": "赢单"}, "kind": "won", "probability": 100}));
    stages.push(json!({"name": {"en": "Lost", "zh-CN": "输单"}, "kind": "lost", "probability": 0}));
    json!({"name": {"en": en, "zh-CN": zh}, "position": i + 1, "stages": stages})
}

/// The benchmark pipelines' stages and every live lost reason, as stored.
pub(super) async fn read_sales(core: &Core) -> CoreResult<Sales> {
    let mut lost_reasons: Vec<Uuid> = lists::existing(core, &LOST_REASONS)
        .await?
        .values()
        .filter_map(|s| Uuid::parse_str(s).ok())
        .collect();
    lost_reasons.sort();
    let have = lists::existing(core, &PIPELINES).await?;
    let mut pipelines = Vec::new();
    for (_, zh, open) in PIPELINES_SPEC {
        let Some(id) = have.get(zh).and_then(|s| Uuid::parse_str(s).ok()) else {
            return Err(CoreError::Internal(format!("no pipeline named {zh}")));
        };
        let mut q = Query::select();
        q.columns([col("id"), col("kind")])
            .from(col("pipeline_stages"))
            .and_where(Expr::col(col("pipeline_id")).eq(id))
            .order_by(col("position"), sea_orm::Order::Asc);
        let mut stages = Vec::new();
        for (i, r) in db::fetch_all(core.db.reader(), &q)
            .await?
            .iter()
            .enumerate()
        {
            let kind = db::get_string(r, "kind")?;
            let probability = match kind.as_str() {
                "won" => 100,
                "lost" => 0,
                _ => open.get(i).map_or(0, |s| s.2),
            };
            stages.push(Stage {
                id: db::get_uuid(r, "id")?,
                kind,
                probability,
            });
        }
        pipelines.push(Pipeline { id, stages });
    }
    if lost_reasons.is_empty() {
        return Err(CoreError::Internal("no lost reason".into()));
    }
    Ok(Sales {
        pipelines,
        lost_reasons,
    })
}

/// What the service adds to an opportunity created in `stage` at `at`: its status, the stage's
/// probability, the first line of its stage history, no lost reason.
pub(super) fn created_opportunity(v: &mut Value, stage: &Stage, at: DateTime<Utc>) {
    v["status"] = json!(stage.kind);
    v["probability"] = json!(stage.probability);
    v["lost_reason_id"] = Value::Null;
    v["stage_history"] = json!([{
        "stage_id": stage.id.to_string(),
        "entered_at": ts_string(at),
        "left_at": null,
        "time_in_stage": null,
    }]);
}

/// What "close lost" at `at` makes of an opportunity created open (`rec`, canonical): the lost
/// stage, its probability, the reason, the day it closed, the history's open line closed and the
/// lost one opened.
pub(super) fn closed_lost(
    rec: &JsonMap,
    lost: &Stage,
    reason: Uuid,
    at: DateTime<Utc>,
    settings: &Settings,
) -> CoreResult<JsonMap> {
    let mut out = rec.clone();
    out.insert("stage_id".into(), json!(lost.id.to_string()));
    out.insert("status".into(), json!(lost.kind));
    let probability = values::canonical(&FieldKind::Percent, &json!(lost.probability), settings)
        .map_err(|e| CoreError::Internal(format!("a lost stage's probability: {e}")))?;
    out.insert("probability".into(), probability);
    out.insert("lost_reason_id".into(), json!(reason.to_string()));
    // Closing lost dates the deal the day it is closed, as the action does: the closer's day,
    // in the zone benchmark users have (none of their own, so the default).
    let day = guanxi_core::time_zone::day_of(at, settings.default_time_zone);
    out.insert(
        "close_date".into(),
        json!(day.format("%Y-%m-%d").to_string()),
    );
    let now = json!(ts_string(at));
    let mut history = out
        .get("stage_history")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(last) = history.last_mut() {
        last["left_at"] = now.clone();
        let entered = last
            .get("entered_at")
            .and_then(Value::as_str)
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok());
        if let Some(entered) = entered {
            let seconds = (at - entered.with_timezone(&Utc)).num_seconds().max(0);
            last["time_in_stage"] = json!(seconds);
        }
    }
    history.push(json!({
        "id": Uuid::now_v7().to_string(),
        "stage_id": lost.id.to_string(),
        "entered_at": now,
        "left_at": null,
        "time_in_stage": null,
    }));
    out.insert("stage_history".into(), Value::Array(history));
    let mut problems = guanxi_core::error::FieldErrors::new();
    OPPORTUNITIES.behaviour.derive(&mut out, &mut problems);
    if let Some((k, m)) = problems.into_iter().next() {
        return Err(CoreError::Internal(format!(
            "a lost opportunity fails {k}: {m}"
        )));
    }
    Ok(out)
}

/// The instant of `date` at `minutes` after 09:00 Beijing time.
fn office_time(date: NaiveDate, minutes: i64) -> DateTime<Utc> {
    let start = date.and_hms_opt(1, 0, 0).unwrap_or_default();
    Utc.from_utc_datetime(&start) + Duration::minutes(minutes)
}

impl Producer {
    fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.start_ms + self.span_ms).unwrap_or_default()
    }

    /// Another member of `owner`'s team (a team's users are consecutive), or `owner`.
    fn teammate(&mut self, owner: usize) -> usize {
        let team = owner / USERS_PER_TEAM;
        let first = team * USERS_PER_TEAM;
        let last = (first + USERS_PER_TEAM).min(self.owners.len()) - 1;
        self.g.range(first as u64, last as u64) as usize
    }

    fn audit_uuid(&mut self, at: DateTime<Utc>) -> Uuid {
        let random: [u8; 10] = rand::Rng::random(&mut self.audit_ids);
        uuid::Builder::from_unix_timestamp_millis(at.timestamp_millis().max(0) as u64, &random)
            .into_uuid()
    }

    pub(super) fn opportunity(
        &mut self,
        shape: &Shape,
        k: usize,
        rows: &mut Rows,
    ) -> CoreResult<()> {
        let span = OPPORTUNITY_DAYS * 24 * 3600 * 1000;
        let (at, id, audit_id) = self.instant_within(k, self.opportunities, span);
        let a = self.g.range(0, self.made.len() as u64 - 1) as usize;
        let (account, account_owner, foreign) = {
            let s = &self.made[a];
            (s.id, s.owner as usize, matches!(s.place, Place::Foreign(_)))
        };
        let owner_ix = if self.g.chance(0.8) {
            account_owner
        } else {
            self.teammate(account_owner)
        };
        let owner = self.owners[owner_ix].id;
        let p = usize::from(self.g.chance(0.3)).min(self.sales.pipelines.len().saturating_sub(1));
        let pipeline = self
            .sales
            .pipelines
            .get(p)
            .cloned()
            .ok_or_else(|| CoreError::Internal("no pipeline".into()))?;
        let open = pipeline.of_kind("open");
        let roll = self.g.range(0, 999);
        let weight_total: u64 = OPEN_WEIGHTS.iter().sum();
        let mut w = self.g.range(0, weight_total - 1);
        let mut open_ix = 0;
        while open_ix + 1 < OPEN_WEIGHTS.len() && w >= OPEN_WEIGHTS[open_ix] {
            w -= OPEN_WEIGHTS[open_ix];
            open_ix += 1;
        }
        let open_stage = open
            .get(open_ix.min(open.len().saturating_sub(1)))
            .map(|s| (*s).clone())
            .ok_or_else(|| CoreError::Internal("a pipeline without open stages".into()))?;
        let outcome = match roll {
            0..150 => "open",
            150..490 => "won",
            _ => "lost",
        };
        let today = self.now().date_naive();
        let created = at.date_naive();
        let close = if outcome == "open" {
            created.max(today - Duration::days(30)) + Duration::days(self.g.range(0, 150) as i64)
        } else {
            (created + Duration::days(self.g.range(0, 120) as i64)).min(today)
        };
        let stage = match outcome {
            "won" => pipeline
                .of_kind("won")
                .first()
                .map(|s| (*s).clone())
                .unwrap_or(open_stage.clone()),
            _ => open_stage.clone(),
        };
        let project = self.g.pick(&PROJECTS);
        let amount = self.g.range(1, 500) * 10_000;
        let mut v = json!({
            "name": format!("{project} {}", id.simple().to_string().get(24..).unwrap_or("")),
            "account_id": account.to_string(),
            "pipeline_id": pipeline.id.to_string(),
            "stage_id": stage.id.to_string(),
            "amount": {"amount": amount.to_string(), "currency": if foreign { "USD" } else { "CNY" }},
            "close_date": close.format("%Y-%m-%d").to_string(),
            "next_step": self.g.pick(&NEXT_STEPS),
            "source": self.g.pick(&crate::demo::vocab::SOURCES).1,
        });
        self.lists.resolve(&mut v)?;
        created_opportunity(&mut v, &stage, at);
        let rec = shape.record(&v, &self.settings)?;
        let stamp = Stamp {
            id,
            owner,
            at,
            actor: owner,
            audit_id,
        };
        if outcome == "lost" {
            let lost = pipeline
                .of_kind("lost")
                .first()
                .map(|s| (*s).clone())
                .ok_or_else(|| CoreError::Internal("a pipeline without a lost stage".into()))?;
            let reason = self.sales.lost_reasons
                [self.g.range(0, self.sales.lost_reasons.len() as u64 - 1) as usize];
            let day_end = office_time(close, self.g.range(0, 540) as i64);
            let closed_at = day_end.max(at + Duration::seconds(1)).min(self.now());
            let closed = closed_lost(&rec, &lost, reason, closed_at, &self.settings)?;
            let second = self.audit_uuid(closed_at);
            self.add_acted(
                shape,
                rows,
                (&rec, &closed),
                &stamp,
                ("close_lost", closed_at, second),
            )?;
        } else {
            push(self.backend, shape.def, rows, &rec, &stamp, &mut self.keys)?;
        }
        if self.activities > 0 {
            self.opps_made.push((id, owner_ix as u16));
        }
        Ok(())
    }

    /// Adds the rows of a record created as `created` and changed by an action into `now`.
    pub(super) fn add_acted(
        &mut self,
        shape: &Shape,
        rows: &mut Rows,
        recs: (&JsonMap, &JsonMap),
        stamp: &Stamp,
        action: (&str, DateTime<Utc>, Uuid),
    ) -> CoreResult<()> {
        add_acted(
            self.backend,
            shape.def,
            rows,
            recs,
            stamp,
            action,
            &mut self.keys,
        )
    }

    pub(super) fn activity(&mut self, shape: &Shape, k: usize, rows: &mut Rows) -> CoreResult<()> {
        let span = ACTIVITY_DAYS * 24 * 3600 * 1000;
        let (at, id, audit_id) = self.instant_within(k, self.activities, span);
        let roll = self.g.range(0, 99);
        let (entity, regarded, regarded_owner) = if roll >= 70 && !self.opps_made.is_empty() {
            let (id, o) = self.opps_made[self.g.range(0, self.opps_made.len() as u64 - 1) as usize];
            ("opportunity", id, o as usize)
        } else if roll >= 45 && !self.contacts_made.is_empty() {
            let (id, o) =
                self.contacts_made[self.g.range(0, self.contacts_made.len() as u64 - 1) as usize];
            ("contact", id, o as usize)
        } else {
            let s = &self.made[self.g.range(0, self.made.len() as u64 - 1) as usize];
            ("account", s.id, s.owner as usize)
        };
        let owner_ix = if self.g.chance(0.85) {
            regarded_owner
        } else {
            self.teammate(regarded_owner)
        };
        let owner = self.owners[owner_ix].id;
        let v = self.activity_input(at, entity, regarded, owner_ix);
        let mut v = v;
        completed_activity(&mut v, at);
        let rec = shape.record(&v, &self.settings)?;
        let stamp = Stamp {
            id,
            owner,
            at,
            actor: owner,
            audit_id,
        };
        push(self.backend, shape.def, rows, &rec, &stamp, &mut self.keys)
    }

    /// What a rep sends to record an activity created at `at` about `regarded`.
    pub(super) fn activity_input(
        &mut self,
        at: DateTime<Utc>,
        entity: &str,
        regarded: Uuid,
        owner_ix: usize,
    ) -> Value {
        let now = self.now();
        let kind = match self.g.range(0, 99) {
            0..30 => "task",
            30..55 => "call",
            55..70 => "meeting",
            70..80 => "visit",
            _ => "note",
        };
        let mut v = json!({
            "kind": kind,
            "regarding": {"entity": entity, "id": regarded.to_string()},
        });
        match kind {
            "task" => {
                let due = at + Duration::hours(self.g.range(1, 21 * 24) as i64);
                let due = office_time(due.date_naive(), 60 * self.g.range(0, 8) as i64);
                v["subject"] = json!(self.g.pick(&TASKS));
                v["due_at"] = json!(ts_string(due));
                v["priority"] = json!(self.g.pick(&["high", "normal", "normal", "low"]));
                v["done"] = json!(due < now && self.g.chance(0.8));
            }
            "call" => {
                let seconds = self.g.range(30, 1800);
                v["subject"] = json!(self.g.pick(&CALLS));
                v["starts_at"] = json!(ts_string(at));
                v["ends_at"] = json!(ts_string(at + Duration::seconds(seconds as i64)));
                v["call_duration"] = json!(seconds);
                v["direction"] = json!(self.g.pick(&["outbound", "outbound", "inbound"]));
                v["call_outcome"] =
                    json!(
                        self.g
                            .pick(&["connected", "connected", "no_answer", "busy"])
                    );
                v["done"] = json!(true);
            }
            "meeting" | "visit" => {
                let day = at.date_naive() + Duration::days(self.g.range(1, 42) as i64);
                let starts = office_time(day, 30 * self.g.range(0, 15) as i64);
                let ends = starts + Duration::minutes(30 * self.g.range(1, 4) as i64);
                v["subject"] = json!(if kind == "meeting" {
                    self.g.pick(&MEETINGS)
                } else {
                    self.g.pick(&VISITS)
                });
                v["starts_at"] = json!(ts_string(starts));
                v["ends_at"] = json!(ts_string(ends));
                v["done"] = json!(ends < now && self.g.chance(0.7));
                if kind == "visit" {
                    v["location"] = json!("客户现场");
                }
                if self.g.chance(0.3) {
                    let mut attendees: Vec<Value> = Vec::new();
                    for _ in 0..self.g.range(1, 2) {
                        let mate = self.teammate(owner_ix);
                        let user = self.owners[mate].id.to_string();
                        if mate != owner_ix && !attendees.iter().any(|a| a["user_id"] == user) {
                            attendees.push(json!({"user_id": user}));
                        }
                    }
                    v["attendee_users"] = Value::Array(attendees);
                }
            }
            _ => {
                v["subject"] = json!(self.g.pick(&NOTES));
                v["description"] = json!("客户表示预算已批，下季度启动采购流程。");
            }
        }
        v
    }
}

/// What the service adds to an activity created at `at`: when it was done, if it was.
pub(super) fn completed_activity(v: &mut Value, at: DateTime<Utc>) {
    v["done_at"] = if v["done"] == json!(true) {
        json!(ts_string(at))
    } else {
        Value::Null
    };
}

/// Adds the rows of a record created as `created` and changed by an action into `now`: the row
/// image of `now` at version 2, then the create entry and the action's.
pub(super) fn add_acted(
    backend: Backend,
    def: &EntityDef,
    rows: &mut Rows,
    (created, now): (&JsonMap, &JsonMap),
    stamp: &Stamp,
    (verb, at, audit_id): (&str, DateTime<Utc>, Uuid),
    keys: &mut Keys,
) -> CoreResult<()> {
    let first = RowImage::of_create(def, created, stamp, backend)?;
    let mut image = RowImage::of_create(def, now, stamp, backend)?;
    image.record.set("version", 2i64.into());
    image.record.set("updated_at", at.into());
    image.record.set("updated_by", stamp.actor.into());
    let plain = |r: &JsonMap| -> JsonMap {
        r.iter()
            .filter(|(k, _)| def.child(k).is_none())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    let changes = audit::diff(&plain(created), &plain(now));
    let action = audit::row(
        audit_id,
        def.name,
        stamp.id,
        verb,
        Some(stamp.actor),
        at,
        &changes,
    )?;
    keys.assign(&mut image.search);
    rows.add(&image.record)?;
    for row in image.lines.iter().chain(&image.points) {
        rows.add(row)?;
    }
    rows.add(&image.search)?;
    rows.add(&first.audit)?;
    rows.add(&action)
}
