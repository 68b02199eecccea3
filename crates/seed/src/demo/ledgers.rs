//! The demo's ledgers: three years of sales history and payments for every customer account,
//! drawn with known purchase rates, so the insights have something true to find. Each customer
//! buys at its own rate (an order every two weeks to every four months), one to three lines an
//! order from a small catalogue; about 15 % stop buying at some point in the last year (the
//! churners the insights should flag), ordering less often and paying later in their last half
//! year; about 7 % stopped one to two years ago; a few pay slowly or leave a bad debt, and some
//! orders see a line returned. Rows go through the record service, so they are validated as typed ones.

use chrono::{Duration, NaiveDate};
use serde_json::json;
use uuid::Uuid;

use super::vocab::Gen;
use guanxi_core::Core;
use guanxi_core::areas::customers::CUSTOMER_FACTS;
use guanxi_core::areas::sales::{PAYMENT_RECORDS, SALES_RECORDS};
use guanxi_core::authz::Actor;
use guanxi_core::error::CoreResult;

/// (code, Chinese name, category, unit price, cost as a share of the price).
const CATALOGUE: [(&str, &str, &str, i64, f64); 8] = [
    ("CP-1001", "工业传感器 A1", "传感器", 1_280, 0.55),
    ("CP-1002", "工业传感器 B2", "传感器", 2_650, 0.6),
    ("CP-2001", "边缘网关 G3", "网关设备", 8_900, 0.68),
    ("CP-2002", "边缘网关 G5", "网关设备", 15_800, 0.72),
    ("CP-3001", "数据平台年费", "软件服务", 36_000, 0.25),
    ("CP-3002", "运维服务包", "软件服务", 12_000, 0.4),
    ("CP-4001", "安装调试", "工程服务", 4_500, 0.7),
    ("CP-4002", "备件套装", "备品备件", 960, 0.5),
];

/// A customer of the demo: its account, its owner and whether it was made a churner.
pub(super) struct Buyer<'a> {
    pub id: Uuid,
    pub owner: &'a Actor,
}

/// What the ledgers hold afterwards.
pub(super) struct Written {
    pub sales: u64,
    pub invoices: u64,
    pub churners: u64,
    pub facts: u64,
}

/// One draw from an exponential distribution of mean `mean`.
fn exponential(g: &mut Gen, mean: f64) -> f64 {
    let u = (g.range(1, 1_000_000) as f64) / 1_000_001.0;
    -mean * u.ln()
}

/// Writes the ledgers of `buyers`, ending yesterday (`today` excluded, so no row lies ahead of
/// any reader's today).
pub(super) async fn seed(
    core: &Core,
    g: &mut Gen,
    today: NaiveDate,
    buyers: &[Buyer<'_>],
) -> CoreResult<Written> {
    let end = today - Duration::days(1);
    let start = today - Duration::days(3 * 365);
    let mut out = Written {
        sales: 0,
        invoices: 0,
        churners: 0,
        facts: 0,
    };
    let mut leaving = Vec::with_capacity(buyers.len());
    for (n, b) in buyers.iter().enumerate() {
        // A known rate: the mean days between orders, from two weeks to four months.
        let interval = [14.0, 21.0, 30.0, 45.0, 60.0, 90.0, 120.0][g.range(0, 6) as usize];
        let churner = g.chance(0.15);
        // Customers lost before the last year, as every ledger has them: the history the churn
        // model learns from.
        let lost_earlier = !churner && g.chance(0.08);
        let stops = if churner {
            out.churners += 1;
            end - Duration::days(g.range(90, 365) as i64)
        } else if lost_earlier {
            end - Duration::days(g.range(400, 800) as i64)
        } else {
            end
        };
        leaving.push(stops < end);
        // A leaver fades before stopping: in its last half year it orders half as often and
        // pays later.
        let fading_from = stops - Duration::days(180);
        let slow_payer = g.chance(0.08);
        let bad_debt = g.chance(0.03);
        // What this customer usually buys: two to four products of the catalogue.
        let first = g.range(0, 7) as usize;
        let usual: Vec<usize> = (0..g.range(2, 4) as usize)
            .map(|k| (first + k * 3) % CATALOGUE.len())
            .collect();
        let mut day = start + Duration::days(g.range(0, 180) as i64);
        let mut order = 0u32;
        while day <= stops {
            order += 1;
            let order_ref = format!("XS{:04}-{:04}", n + 1, order);
            let lines = g.range(1, usual.len().min(3) as u64) as usize;
            let mut total = 0i64;
            for l in 0..lines {
                let (code, name, category, price, cost_share) =
                    CATALOGUE[usual[(order as usize + l) % usual.len()]];
                let qty = g.range(1, 5) as i64;
                let amount = price * qty;
                let cost = (amount as f64 * cost_share).round() as i64;
                total += amount;
                core.records(&SALES_RECORDS)
                    .create(
                        b.owner,
                        &json!({"account_id": b.id, "date": day.to_string(), "order_ref": order_ref,
                                "product_code": code, "product_name": name, "category": category,
                                "quantity": qty, "amount": amount.to_string(), "cost": cost.to_string()}),
                    )
                    .await?;
                out.sales += 1;
            }
            // Now and then a line comes back a few weeks later.
            let back_on = day + Duration::days(g.range(7, 40) as i64);
            if g.chance(0.04) && back_on <= end {
                let (code, name, category, price, cost_share) = CATALOGUE[usual[0]];
                core.records(&SALES_RECORDS)
                    .create(
                        b.owner,
                        &json!({"account_id": b.id, "date": back_on.to_string(), "kind": "return",
                                "order_ref": order_ref, "product_code": code, "product_name": name,
                                "category": category, "quantity": 1, "amount": price.to_string(),
                                "cost": ((price as f64 * cost_share).round() as i64).to_string()}),
                    )
                    .await?;
                out.sales += 1;
            }
            // The order's invoice, due in 30 days and paid on time, late, or never.
            let due = day + Duration::days(30);
            let fading = stops < end && day >= fading_from;
            let days_to_pay = if slow_payer {
                g.range(150, 260) as i64
            } else {
                exponential(g, 20.0).round() as i64 + 3 + if fading { 25 } else { 0 }
            };
            let paid = day + Duration::days(days_to_pay);
            let written_off = bad_debt && order % 7 == 3;
            let paid_date = if written_off || paid > end {
                serde_json::Value::Null
            } else {
                json!(paid.to_string())
            };
            core.records(&PAYMENT_RECORDS)
                .create(
                    b.owner,
                    &json!({"account_id": b.id, "invoice_ref": format!("FP{order_ref}"),
                            "invoice_date": day.to_string(), "due_date": due.to_string(),
                            "paid_date": paid_date, "amount": total.to_string(),
                            "written_off": written_off,
                            "written_off_on": written_off.then(|| (day + Duration::days(180)).min(end).to_string())}),
                )
                .await?;
            out.invoices += 1;
            let mean_gap = if fading { 2.0 * interval } else { interval };
            day += Duration::days(exponential(g, mean_gap).round().max(1.0) as i64);
        }
    }
    // Drawn after the ledgers, so the purchase histories stay what they were.
    for (b, left) in buyers.iter().zip(leaving) {
        if facts(core, g, today, b, left).await? {
            out.facts += 1;
        }
    }
    Ok(out)
}

/// The customer facts of three customers in four: a survey a few months ago where service
/// drives satisfaction (a leaver rates it lower), a contract for most, integration for some,
/// points for a few. Returns whether a record was written.
async fn facts(
    core: &Core,
    g: &mut Gen,
    today: NaiveDate,
    b: &Buyer<'_>,
    left: bool,
) -> CoreResult<bool> {
    if !g.chance(0.75) {
        return Ok(false);
    }
    let rating = |g: &mut Gen, lo: u64| g.range(lo, 5) as i64;
    let service = rating(g, if left { 1 } else { 2 });
    let product = rating(g, 2);
    let price = rating(g, 1);
    let relationship = rating(g, if left { 1 } else { 3 });
    // Satisfaction follows service and the relationship most, product a little, price hardly.
    let score = 0.45 * service as f64
        + 0.3 * relationship as f64
        + 0.2 * product as f64
        + 0.05 * price as f64;
    let satisfaction = (score + (g.range(0, 10) as f64 - 5.0) / 20.0).clamp(1.0, 5.0);
    let recommendation = ((satisfaction - 1.0) * 2.5).round() as i64 + g.range(0, 1) as i64;
    let contract_end = g
        .chance(0.65)
        .then(|| today + Duration::days(g.range(0, 540) as i64 - 60));
    let integration = [
        "none",
        "none",
        "data_exchange",
        "system_integration",
        "embedded",
    ][g.range(0, 4) as usize];
    let points = g.chance(0.3).then(|| g.range(100, 5_000));
    core.records(&CUSTOMER_FACTS)
        .create(
            b.owner,
            &json!({"account_id": b.id,
                    "recorded_on": (today - Duration::days(g.range(10, 120) as i64)).to_string(),
                    "satisfaction": format!("{satisfaction:.1}"),
                    "recommendation": recommendation.min(10),
                    "share_of_wallet": g.range(15, 90),
                    "contract_end": contract_end.map(|d| d.to_string()),
                    "integration_level": integration,
                    "loyalty_balance": points.map(|p| p.to_string()),
                    "rating_product": product, "rating_service": service,
                    "rating_price": price, "rating_relationship": relationship}),
        )
        .await?;
    Ok(true)
}
