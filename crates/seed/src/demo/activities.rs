//! The demo's follow-ups (跟进): for each company, the calls, visits, meetings and notes of the
//! past year — each logged on the day it happened, about the company or one of its people — and
//! the tasks still to do, some of them late, so timelines and a rep's day look lived in.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use super::calendar::Year;
use super::sales::Customer;
use super::vocab::Gen;
use guanxi_core::areas::activities::ACTIVITIES;
use guanxi_core::error::{CoreError, CoreResult};
use guanxi_core::records::service::ts_string;

/// What happened, in English and in Chinese, by kind.
const DONE: [(&str, &str, &str); 8] = [
    (
        "call",
        "Follow-up call about the quote",
        "电话回访，确认报价",
    ),
    ("call", "Called about the delivery date", "电话沟通交付时间"),
    (
        "visit",
        "On-site visit and product demo",
        "上门拜访并演示产品",
    ),
    (
        "visit",
        "Visited the plant with the engineer",
        "陪同工程师实地考察工厂",
    ),
    ("meeting", "Requirements workshop", "需求调研会"),
    (
        "meeting",
        "Contract review with procurement",
        "与采购部评审合同",
    ),
    (
        "note",
        "Budget approved for next quarter",
        "下季度预算已获批",
    ),
    (
        "note",
        "Prefers WeChat after 6 pm",
        "晚上六点后习惯用微信联系",
    ),
];

/// What is still to do.
const TO_DO: [(&str, &str); 4] = [
    ("Send the revised quote", "发送修改后的报价"),
    ("Prepare the contract draft", "准备合同草稿"),
    ("Confirm the visit next week", "确认下周拜访安排"),
    ("Chase the overdue payment", "跟进逾期回款"),
];

/// Creates the follow-ups; returns how many.
pub(super) async fn seed(
    core: &guanxi_core::Core,
    g: &mut Gen,
    (year, times): (&Year, &mut Gen),
    customers: &[Customer<'_>],
) -> CoreResult<usize> {
    let svc = core.records(&ACTIVITIES);
    let now = Utc::now();
    let mut made = 0;
    for c in customers {
        let mut at = c.since;
        for _ in 0..g.range(1, 5) {
            at = year.after(times, at, 60);
            let (kind, en, zh) = g.pick(&DONE);
            // About one of the company's people half of the time.
            let regarding = match c.contacts.get(g.range(0, 1) as usize) {
                Some(person) if g.chance(0.5) => {
                    json!({"entity": "contact", "id": person.to_string()})
                }
                _ => json!({"entity": "account", "id": c.id.to_string()}),
            };
            let mut v = json!({
                "subject": if c.chinese { zh } else { en },
                "kind": kind,
                "regarding": regarding,
                "done": kind != "note",
            });
            let when = json!(ts_string(at));
            match kind {
                "call" => {
                    v["starts_at"] = when;
                    v["direction"] = json!(if g.chance(0.7) { "outbound" } else { "inbound" });
                    v["call_duration"] = json!(g.range(60, 1200));
                    v["call_outcome"] = json!("connected");
                }
                "visit" | "meeting" => {
                    v["starts_at"] = when;
                    v["ends_at"] = json!(ts_string(at + Duration::minutes(60)));
                    if let Some(person) = c.contacts.first() {
                        v["attendee_contacts"] = json!([{"contact_id": person.to_string(),
                                                         "response": "accepted"}]);
                    }
                }
                _ => {}
            }
            create(&svc, c, &v, at).await?;
            made += 1;
        }
        // Something to do for two companies in three: due in the coming fortnight, or late.
        if g.chance(0.66) {
            let (en, zh) = g.pick(&TO_DO);
            let due = now + Duration::hours(g.range(0, 24 * 14) as i64 - 24 * 3);
            let v = json!({
                "subject": if c.chinese { zh } else { en },
                "kind": "task",
                "priority": if g.chance(0.3) { "high" } else { "normal" },
                "due_at": ts_string(due),
                "regarding": {"entity": "account", "id": c.id.to_string()},
            });
            create(&svc, c, &v, year.after(times, at, 30)).await?;
            made += 1;
        }
    }
    Ok(made)
}

async fn create(
    svc: &guanxi_core::records::service::RecordService<'_>,
    c: &Customer<'_>,
    v: &Value,
    at: chrono::DateTime<Utc>,
) -> CoreResult<()> {
    match svc.as_of(at).create(c.owner, v).await {
        Ok(_) => Ok(()),
        Err(CoreError::Validation(fields)) => Err(CoreError::Internal(format!(
            "demo activity {v} failed validation: {fields:?}"
        ))),
        Err(e) => Err(e),
    }
}
