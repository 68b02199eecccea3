//! Opportunities (商机): a deal with an account, moving through a pipeline's stages until it is
//! won or lost.
//!
//! The stage is a line of the opportunity's pipeline; its kind gives the status, which the state
//! machine guards: open stages may follow each other in any order, but a won or lost stage is
//! reached only through close-won or close-lost and left only through reopen.

use async_trait::async_trait;
use serde_json::{Value, json};
use uuid::Uuid;

use super::pipelines::{self, PIPELINES, STAGE_KINDS, STAGES};
use crate::areas::customers::ACCOUNTS;
use crate::areas::str_field;
use crate::error::{CoreError, CoreResult, FieldError, FieldErrors, codes};
use crate::records::def::{
    Access, ActionDef, BoardDef, ChartDef, ChartKind, ChildDef, EntityDef, FieldDef, FieldKind,
    OptionSet, RollupDef, StateMachine, Transition,
};
use crate::records::service::ts_string;
use crate::records::{Behaviour, Event, JsonMap, Work, money, percent};

/// Open, won or lost: the kinds of the pipeline's stages, which an opportunity's status follows.
pub use super::pipelines::STAGE_KINDS as STATUSES;

/// The opportunity's pipeline has no stage of the kind (`choice`) a move needs.
pub const PIPELINE_WITHOUT_STAGE: &str = "pipeline_without_stage";
/// The stage being entered (`stage`, its name per language) asks for this field.
pub const REQUIRED_FOR_STAGE: &str = "required_for_stage";
pub static ROLES: OptionSet = OptionSet {
    name: "contact_roles",
    codes: &[
        "decision_maker",
        "economic_buyer",
        "technical_buyer",
        "influencer",
        "champion",
        "user",
        "other",
    ],
};

const ROLE_FIELDS: &[FieldDef] = &[
    FieldDef::new(
        "contact_id",
        FieldKind::Ref {
            table: "contacts",
            entity: "contact",
        },
    )
    .required(),
    FieldDef::new("role", FieldKind::choice(&ROLES)).required(),
    FieldDef::new("primary", FieldKind::Bool),
];

fn role_title(line: &JsonMap, _locale: &str) -> String {
    str_field(line, "role").to_string()
}

/// The people at the customer and the part each plays in the decision.
pub const CONTACT_ROLES: ChildDef = ChildDef {
    name: "contact_roles",
    table: "opportunity_contact_roles",
    parent_column: "opportunity_id",
    fields: ROLE_FIELDS,
    max: 50,
    computed: false,
    title: role_title,
    carries: &[],
};

const HISTORY_FIELDS: &[FieldDef] = &[
    FieldDef::new(
        "stage_id",
        FieldKind::LineRef {
            via: "pipeline_id",
            child: &STAGES,
        },
    ),
    FieldDef::new("entered_at", FieldKind::DateTime),
    FieldDef::new("left_at", FieldKind::DateTime),
    FieldDef::new("time_in_stage", FieldKind::Duration),
];

fn history_title(line: &JsonMap, _locale: &str) -> String {
    str_field(line, "entered_at").to_string()
}

/// Every stage the opportunity has been in, with when it entered and left: time in stage.
pub const STAGE_HISTORY: ChildDef = ChildDef {
    name: "stage_history",
    table: "opportunity_stage_history",
    parent_column: "opportunity_id",
    fields: HISTORY_FIELDS,
    max: 10_000,
    computed: true,
    title: history_title,
    carries: &[],
};

const FIELDS: &[FieldDef] = &[
    FieldDef::new("name", FieldKind::Text { max: 200 })
        .grams()
        .required()
        .sortable(),
    FieldDef::new(
        "account_id",
        FieldKind::Ref {
            table: "accounts",
            entity: "account",
        },
    )
    .required(),
    FieldDef::new(
        "pipeline_id",
        FieldKind::Ref {
            table: "pipelines",
            entity: "pipeline",
        },
    )
    .required(),
    FieldDef::new(
        "stage_id",
        FieldKind::LineRef {
            via: "pipeline_id",
            child: &STAGES,
        },
    ),
    FieldDef::new("status", FieldKind::choice(&STATUSES))
        .computed()
        .sortable(),
    FieldDef::new("amount", FieldKind::Money).sortable(),
    FieldDef::new("probability", FieldKind::Percent),
    FieldDef::new("weighted_amount", FieldKind::Money).computed(),
    FieldDef::new("close_date", FieldKind::Date).sortable(),
    FieldDef::new("next_step", FieldKind::Text { max: 200 }),
    // Where deals come from: the same list as where accounts come from.
    FieldDef::new(
        "source_id",
        FieldKind::Ref {
            table: "sources",
            entity: "source",
        },
    ),
    FieldDef::new(
        "lost_reason_id",
        FieldKind::Ref {
            table: "lost_reasons",
            entity: "lost_reason",
        },
    )
    .computed(),
    FieldDef::new("description", FieldKind::LongText { max: 10_000 }),
];

const CLOSE_WON_INPUT: &[FieldDef] = &[FieldDef::new("close_date", FieldKind::Date)];
const CLOSE_LOST_INPUT: &[FieldDef] = &[
    FieldDef::new(
        "lost_reason_id",
        FieldKind::Ref {
            table: "lost_reasons",
            entity: "lost_reason",
        },
    )
    .required(),
    FieldDef::new("close_date", FieldKind::Date),
];
const REOPEN_INPUT: &[FieldDef] = &[FieldDef::new(
    "stage_id",
    FieldKind::LineRef {
        via: "pipeline_id",
        child: &STAGES,
    },
)];

const ACTIONS: &[ActionDef] = &[
    ActionDef {
        name: "close_won",
        input: CLOSE_WON_INPUT,
        from: &["open"],
    },
    ActionDef {
        name: "close_lost",
        input: CLOSE_LOST_INPUT,
        from: &["open"],
    },
    ActionDef {
        name: "reopen",
        input: REOPEN_INPUT,
        from: &["won", "lost"],
    },
];

static STATES: StateMachine = StateMachine {
    field: "status",
    transitions: &[
        Transition {
            from: "open",
            to: "won",
            via: Some("close_won"),
        },
        Transition {
            from: "open",
            to: "lost",
            via: Some("close_lost"),
        },
        Transition {
            from: "won",
            to: "open",
            via: Some("reopen"),
        },
        Transition {
            from: "lost",
            to: "open",
            via: Some("reopen"),
        },
    ],
};

fn title(rec: &JsonMap, _locale: &str) -> String {
    str_field(rec, "name").to_string()
}

fn search_names(rec: &JsonMap) -> Vec<String> {
    vec![str_field(rec, "name").to_string()]
}

fn id_of(rec: &JsonMap, field: &str) -> Option<Uuid> {
    rec.get(field)
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok())
}

/// The stage line with this id in the pipeline.
fn stage<'p>(pipeline: &'p JsonMap, id: &Value) -> Option<&'p Value> {
    pipelines::stages(pipeline)
        .iter()
        .find(|s| s.get("id") == Some(id))
}

/// Points the record at the first stage of `kind` in its pipeline.
async fn move_to_kind(
    work: &Work<'_>,
    rec: &mut JsonMap,
    kind: &str,
    errors: &mut FieldErrors,
) -> CoreResult<()> {
    let Some(pipeline_id) = id_of(rec, "pipeline_id") else {
        return Ok(());
    };
    let pipeline = work.get(&PIPELINES, pipeline_id).await?;
    match pipelines::first_of_kind(&pipeline, kind).and_then(|s| s.get("id")) {
        Some(id) => {
            rec.insert("stage_id".into(), id.clone());
        }
        None => {
            errors.insert(
                "stage_id".into(),
                FieldError::new(PIPELINE_WITHOUT_STAGE).with("choice", STAGE_KINDS.label_key(kind)),
            );
        }
    }
    Ok(())
}

struct Rules;

#[async_trait]
impl Behaviour for Rules {
    /// The weighted amount is the amount times the probability, to the minor unit.
    fn derive(&self, rec: &mut JsonMap, _errors: &mut FieldErrors) {
        let weighted = match (rec.get("amount"), rec.get("probability")) {
            (Some(amount @ Value::Object(_)), Some(p)) if !p.is_null() => {
                let currency = amount
                    .get("currency")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                match (money::parse(amount, &currency), percent::parse(p)) {
                    (Ok((minor, currency)), Ok(hundredths)) => {
                        money::to_json(percent::apply(minor, hundredths), &currency)
                    }
                    _ => Value::Null,
                }
            }
            _ => Value::Null,
        };
        rec.insert("weighted_amount".into(), weighted);
    }

    async fn act(
        &self,
        work: &mut Work<'_>,
        event: &Event<'_>,
        input: &JsonMap,
        rec: &mut JsonMap,
        errors: &mut FieldErrors,
    ) -> CoreResult<()> {
        let Some(action) = event.action else {
            return Ok(());
        };
        // A deal closed without a date is closed on the day it is for whoever closes it: a
        // rep in Beijing closing one at 07:30 closes it today, not on UTC's yesterday.
        let day = crate::time_zone::day_of(work.now(), work.actor().time_zone);
        let today = || json!(day.format("%Y-%m-%d").to_string());
        match action.name {
            "close_won" => {
                move_to_kind(work, rec, "won", errors).await?;
                let date = input.get("close_date").filter(|d| !d.is_null());
                rec.insert("close_date".into(), date.cloned().unwrap_or_else(today));
                promote_account(work, rec).await?;
            }
            "close_lost" => {
                move_to_kind(work, rec, "lost", errors).await?;
                if let Some(reason) = input.get("lost_reason_id") {
                    rec.insert("lost_reason_id".into(), reason.clone());
                }
                // Lost on the day it is closed, as a won deal is, unless told otherwise: the
                // board's lost column shows the deals lost this quarter.
                let date = input.get("close_date").filter(|d| !d.is_null());
                rec.insert("close_date".into(), date.cloned().unwrap_or_else(today));
            }
            "reopen" => match input.get("stage_id").filter(|s| !s.is_null()) {
                Some(stage) => {
                    rec.insert("stage_id".into(), stage.clone());
                }
                None => move_to_kind(work, rec, "open", errors).await?,
            },
            _ => {}
        }
        Ok(())
    }

    async fn validate(
        &self,
        work: &mut Work<'_>,
        event: &Event<'_>,
        rec: &mut JsonMap,
        errors: &mut FieldErrors,
    ) -> CoreResult<()> {
        let Some(pipeline_id) = id_of(rec, "pipeline_id") else {
            return Ok(());
        };
        let pipeline = match work.get(&PIPELINES, pipeline_id).await {
            Ok(p) => p,
            // Reported as a reference error by the engine's own check.
            Err(CoreError::NotFound) => return Ok(()),
            Err(e) => return Err(e),
        };
        let stored = event.stored;
        let pipeline_changed =
            stored.is_some_and(|s| s.get("pipeline_id") != rec.get("pipeline_id"));
        let stage_blank = rec.get("stage_id").is_none_or(Value::is_null);
        let stage_sent = event.sent("stage_id") && !stage_blank;
        // A new opportunity, or one moved to another pipeline without a stage, starts at the
        // first open stage.
        if stage_blank || (pipeline_changed && !stage_sent && event.action.is_none()) {
            match pipelines::first_of_kind(&pipeline, "open").and_then(|s| s.get("id")) {
                Some(id) => {
                    rec.insert("stage_id".into(), id.clone());
                }
                None => {
                    errors.insert(
                        "stage_id".into(),
                        FieldError::new(PIPELINE_WITHOUT_STAGE)
                            .with("choice", STAGE_KINDS.label_key("open")),
                    );
                    return Ok(());
                }
            }
        }
        let stage_id = rec.get("stage_id").cloned().unwrap_or(Value::Null);
        // A stage of another pipeline is reported by the engine's line-reference check.
        let Some(new_stage) = stage(&pipeline, &stage_id) else {
            return Ok(());
        };
        let kind = pipelines::stage_kind(new_stage).to_string();
        rec.insert("status".into(), json!(kind));
        let old_stage_id = stored.and_then(|s| s.get("stage_id"));
        let entered = old_stage_id != Some(&stage_id);
        if entered {
            // The stage's default probability, unless the user set one on this opportunity:
            // a probability that still equals its old stage's default was never changed.
            let old_default = stored
                .and_then(|s| {
                    let old_pipeline = if pipeline_changed {
                        None
                    } else {
                        Some(&pipeline)
                    };
                    old_pipeline.and_then(|p| stage(p, s.get("stage_id")?))
                })
                .and_then(|s| s.get("probability"));
            let customized = event.sent("probability")
                || stored.is_some_and(|s| {
                    s.get("probability").is_some_and(|p| !p.is_null())
                        && s.get("probability") != old_default
                });
            if (!customized || kind != "open")
                && let Some(p) = new_stage.get("probability")
            {
                rec.insert("probability".into(), p.clone());
            }
            let label = new_stage.get("name").cloned().unwrap_or(Value::Null);
            let required = new_stage
                .get("required_fields")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for name in required.iter().filter_map(Value::as_str) {
                // A value given but refused (a date that is none) keeps its own reason.
                if rec.get(name).is_none_or(crate::records::values::blank) {
                    errors.entry(name.to_string()).or_insert_with(|| {
                        FieldError::new(REQUIRED_FOR_STAGE).with("stage", label.clone())
                    });
                }
            }
            record_stage_entry(rec, &stage_id, work.now());
        }
        if kind == "lost" {
            if rec.get("lost_reason_id").is_none_or(Value::is_null) {
                errors.insert("lost_reason_id".into(), FieldError::new(codes::REQUIRED));
            }
        } else {
            rec.insert("lost_reason_id".into(), Value::Null);
        }
        // Weighted amount follows the probability the stage may have just set.
        self.derive(rec, errors);
        Ok(())
    }
}

/// Closes the open entry of the stage history and opens one for the stage just entered.
fn record_stage_entry(rec: &mut JsonMap, stage_id: &Value, at: chrono::DateTime<chrono::Utc>) {
    let now = json!(ts_string(at));
    let mut history = rec
        .get("stage_history")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(last) = history.last_mut()
        && last.get("left_at").is_none_or(Value::is_null)
    {
        last["left_at"] = now.clone();
        let entered = last
            .get("entered_at")
            .and_then(Value::as_str)
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
        if let Some(entered) = entered {
            let seconds = (at - entered.with_timezone(&chrono::Utc))
                .num_seconds()
                .max(0);
            last["time_in_stage"] = json!(seconds);
        }
    }
    history.push(json!({
        "id": Uuid::now_v7().to_string(),
        "stage_id": stage_id,
        "entered_at": now,
        "left_at": null,
        "time_in_stage": null,
    }));
    rec.insert("stage_history".into(), Value::Array(history));
}

/// Winning a deal makes a prospect a customer. The account is changed as the user would change
/// it, so a user who may not edit the account closes the deal and leaves the account as it was.
async fn promote_account(work: &mut Work<'_>, rec: &JsonMap) -> CoreResult<()> {
    let Some(account_id) = id_of(rec, "account_id") else {
        return Ok(());
    };
    let account = match work.get(&ACCOUNTS, account_id).await {
        Ok(a) => a,
        Err(CoreError::NotFound) => return Ok(()),
        Err(e) => return Err(e),
    };
    if str_field(&account, "type") != "prospect" {
        return Ok(());
    }
    match work
        .modify(&ACCOUNTS, account_id, &json!({"type": "customer"}))
        .await
    {
        Ok(_) | Err(CoreError::Forbidden { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

pub static OPPORTUNITIES: EntityDef = EntityDef {
    name: "opportunity",
    plural: "opportunities",
    area: "sales",
    table: "opportunities",
    fields: FIELDS,
    default_sort: "-created_at",
    default_columns: &[
        "name",
        "account_id",
        "stage_id",
        "amount",
        "close_date",
        "owner_id",
    ],
    related_columns: &["name", "stage_id", "amount", "close_date"],
    title_sort: "name",
    title,
    title_fields: &["name"],
    search_names,
    children: &[CONTACT_ROLES, STAGE_HISTORY],
    states: Some(&STATES),
    actions: ACTIONS,
    access: Access::Records,
    example: None,
    behaviour: &Rules,
    error_codes: &[PIPELINE_WITHOUT_STAGE, REQUIRED_FOR_STAGE],
    charts: &[
        ChartDef {
            name: "amount_by_stage",
            group: "stage_id",
            measure: "sum:amount",
            kind: ChartKind::Bar,
        },
        ChartDef {
            name: "count_by_owner",
            group: "owner_id",
            measure: "count",
            kind: ChartKind::Bar,
        },
    ],
    key_facts: &["account_id", "stage_id", "amount", "close_date", "owner_id"],
    dedupe: &[],
    rollups: &ROLLUPS,
    read_through: None,
    shared_with: None,
    timeline: None,
    board: Some(&BOARD),
    calendar: None,
    field_groups: &[],
};

/// The pipeline board: a column per stage of the chosen pipeline, the amount summed in each;
/// won and lost deals of the current quarter only.
static BOARD: BoardDef = BoardDef {
    within: "pipeline_id",
    column: "stage_id",
    sum: "amount",
    card: &["account_id", "amount", "close_date", "owner_id"],
    closed_on: "close_date",
    line_state: "kind",
    open_state: "open",
};

/// Pipeline figures kept as deals are written: by owner and month of closing (what the
/// forecast by month and the owners' totals read), and by owner and stage (what the charts by
/// stage and the board read). Each is a few thousand rows where the deals are millions; a
/// grouping by stage and month reads the deals.
pub static ROLLUPS: [RollupDef; 3] = [
    RollupDef {
        name: "by_month",
        dims: &[],
        months: &["close_date"],
        sums: &["amount", "weighted_amount"],
    },
    RollupDef {
        name: "by_stage",
        dims: &["stage_id", "status"],
        months: &[],
        sums: &["amount", "weighted_amount"],
    },
    // The board's won and lost columns: a quarter's deals by stage.
    RollupDef {
        name: "by_stage_month",
        dims: &["stage_id", "status"],
        months: &["close_date"],
        sums: &["amount", "weighted_amount"],
    },
];
