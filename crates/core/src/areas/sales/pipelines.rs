//! Pipelines (销售流程): the ordered stages an opportunity moves through, each with a default
//! probability and a kind (open, won, lost). Administrators edit them; a company may run several
//! (new business, renewals).

use async_trait::async_trait;
use serde_json::{Value, json};

use crate::areas::lists::admin_list;
use crate::error::{FieldError, FieldErrors};
use crate::records::def::{ChildDef, EntityDef, FieldDef, FieldKind, OptionSet, Options};
use crate::records::values::label_in;
use crate::records::{Behaviour, JsonMap};

pub static STAGE_KINDS: OptionSet = OptionSet {
    name: "stage_kinds",
    codes: &["open", "won", "lost"],
};

/// A pipeline without an open stage.
pub const NEEDS_AN_OPEN_STAGE: &str = "needs_an_open_stage";
/// A pipeline without exactly one won and one lost stage.
pub const NEEDS_ONE_WON_AND_ONE_LOST_STAGE: &str = "needs_one_won_and_one_lost_stage";

/// The opportunity fields an admin may require to enter a stage: those people fill in (not the
/// ones the pipeline, the stage or an action sets). A test checks each is a field or a
/// collection of opportunities.
pub static REQUIRABLE: OptionSet = OptionSet {
    name: "stage_required",
    codes: &[
        "account_id",
        "amount",
        "probability",
        "close_date",
        "next_step",
        "source_id",
        "description",
        "contact_roles",
    ],
};

const STAGE_FIELDS: &[FieldDef] = &[
    FieldDef::new("name", FieldKind::Labels { max: 100 }).required(),
    FieldDef::new("kind", FieldKind::choice(&STAGE_KINDS))
        .required()
        .initial("open"),
    FieldDef::new("probability", FieldKind::Percent).required(),
    // Opportunity fields that must be filled to enter the stage, picked by their labels.
    FieldDef::new(
        "required_fields",
        FieldKind::MultiChoice(Options::Set(&REQUIRABLE)),
    ),
];

fn stage_title(line: &JsonMap, locale: &str) -> String {
    label_in(line.get("name").unwrap_or(&Value::Null), locale)
}

pub static STAGES: ChildDef = ChildDef {
    name: "stages",
    table: "pipeline_stages",
    parent_column: "pipeline_id",
    fields: STAGE_FIELDS,
    max: 30,
    computed: false,
    title: stage_title,
    carries: &[],
};

/// A pipeline's stages, as lines.
pub fn stages(pipeline: &JsonMap) -> &[Value] {
    pipeline
        .get("stages")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

pub fn stage_kind(stage: &Value) -> &str {
    stage.get("kind").and_then(Value::as_str).unwrap_or("")
}

/// The first stage of a kind: where a new opportunity starts (open), and where close-won and
/// close-lost lead.
pub fn first_of_kind<'p>(pipeline: &'p JsonMap, kind: &str) -> Option<&'p Value> {
    stages(pipeline).iter().find(|s| stage_kind(s) == kind)
}

/// The stages of the pipeline most companies start with (新客户销售流程): four open stages with
/// rising probability, then won and lost.
pub fn standard_stages() -> Value {
    json!([
        {"name": {"en": "Qualification", "zh-CN": "初步接洽"}, "kind": "open", "probability": 10},
        {"name": {"en": "Needs analysis", "zh-CN": "需求确认"}, "kind": "open", "probability": 30},
        {"name": {"en": "Proposal", "zh-CN": "方案报价"}, "kind": "open", "probability": 60,
         "required_fields": ["amount"]},
        {"name": {"en": "Negotiation", "zh-CN": "谈判审核"}, "kind": "open", "probability": 80,
         "required_fields": ["amount", "close_date"]},
        {"name": {"en": "Won", "zh-CN": "赢单"}, "kind": "won", "probability": 100},
        {"name": {"en": "Lost", "zh-CN": "输单"}, "kind": "lost", "probability": 0},
    ])
}

fn example(_seed: u32) -> JsonMap {
    let mut out = JsonMap::new();
    out.insert("stages".into(), standard_stages());
    out
}

struct Rules;

#[async_trait]
impl Behaviour for Rules {
    /// A won stage is certain and a lost one hopeless, whatever was typed.
    fn derive(&self, rec: &mut JsonMap, errors: &mut FieldErrors) {
        let Some(Value::Array(lines)) = rec.get_mut("stages") else {
            return;
        };
        for line in lines.iter_mut() {
            match stage_kind(line) {
                "won" => line["probability"] = json!(100),
                "lost" => line["probability"] = json!(0),
                _ => {}
            }
        }
        let count = |kind: &str| lines.iter().filter(|s| stage_kind(s) == kind).count();
        if count("open") == 0 {
            errors.insert("stages".into(), FieldError::new(NEEDS_AN_OPEN_STAGE));
        } else if count("won") != 1 || count("lost") != 1 {
            errors.insert(
                "stages".into(),
                FieldError::new(NEEDS_ONE_WON_AND_ONE_LOST_STAGE),
            );
        }
    }
}

/// A pipeline is a list administrators keep, with its stages as lines and rules on them.
pub static PIPELINES: EntityDef = EntityDef {
    children: std::slice::from_ref(&STAGES),
    example: Some(example),
    behaviour: &Rules,
    error_codes: &[NEEDS_AN_OPEN_STAGE, NEEDS_ONE_WON_AND_ONE_LOST_STAGE],
    charts: &[],
    key_facts: &[],
    dedupe: &[],
    rollups: &[],
    ..admin_list("pipeline", "pipelines", "sales")
};

#[cfg(test)]
mod tests {
    use super::REQUIRABLE;
    use crate::areas::sales::OPPORTUNITIES;

    #[test]
    fn a_stage_requires_only_what_people_fill_on_an_opportunity() {
        for code in REQUIRABLE.codes {
            let field = OPPORTUNITIES.field(code).map(|f| !f.computed);
            let lines = OPPORTUNITIES.child(code).map(|c| !c.computed);
            assert_eq!(field.or(lines), Some(true), "{code}");
        }
    }
}
