//! Insights end to end on SQLite: a 用友-style sales export and its invoices imported with their
//! Chinese headers, a refresh as of a date, and the same numbers from `guanxi analytics` run on
//! the ledger the refresh read (`guanxi insights export-ledger`).

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use guanxi_core::Db;
use guanxi_core::insights::current::{self, AccountInsights};
use serde_json::Value;
use uuid::Uuid;

use crate::support::{FreshDb, fails, ok, ok_json, with_admin};

const AS_OF: &str = "2025-12-31";

/// Sixteen customers buying every 25–70 days for two years (four stopping after the first),
/// one return of a line (red ink), and an invoice per order, one customer paying very late.
fn files(dir: &std::path::Path) -> (String, String, String) {
    let mut sales =
        String::from("单据日期,客户名称,单据编号,存货编码,存货名称,存货分类,数量,价税合计,成本\n");
    let mut pays = String::from("客户名称,发票号,开票日期,到期日,回款日期,价税合计,核销日期\n");
    let mut facts = String::from(
        "客户名称,记录日期,满意度,推荐意愿,钱包份额,合同到期日,系统集成,积分余额,产品评分,服务评分,价格评分,关系评分\n",
    );
    let start = NaiveDate::from_ymd_opt(2024, 1, 2).unwrap();
    for c in 0..16u32 {
        let name = format!("深圳市测试{c:02}贸易有限公司");
        let every = 25 + i64::from(c) * 3;
        let end = if c < 4 { 365 } else { 730 };
        let mut day = i64::from(c);
        let mut n = 0;
        while day < end {
            n += 1;
            let date = start + Duration::days(day);
            let order = format!("XSD{c:02}{n:03}");
            let amount = 800 + 90 * c + 7 * n;
            let cost = amount * 55 / 100;
            sales.push_str(&format!(
                "{date},{name},{order},CH-{},控制器 {},控制器,2,{amount}.00,{cost}.00\n",
                c % 3,
                c % 3
            ));
            // Every other customer takes a spare-parts kit with most orders: a rule to find.
            if c % 2 == 0 && n % 3 != 0 {
                sales.push_str(&format!(
                    "{date},{name},{order},PJ-9,备件套装,备件,1,120.00,60.00\n"
                ));
            }
            // Returns: one soon after its order; one booked after the churn model's training
            // cutoff (2025-01-05) for an order before it, which training must not see.
            if c == 7 && (n == 5 || n == 8) {
                let back = date + Duration::days(if n == 5 { 9 } else { 45 });
                sales.push_str(&format!(
                    "{back},{name},{order},CH-1,控制器 1,控制器,-1,-300.00,-165.00\n"
                ));
            }
            let paid = date + Duration::days(if c == 9 { 240 } else { 20 });
            let paid = if paid.to_string().as_str() > AS_OF {
                String::new()
            } else {
                paid.to_string()
            };
            // One bad debt, written off in March 2025: open at the training cutoff.
            let (paid, off) = if c == 3 && n == 7 {
                (String::new(), "2025-03-01".to_string())
            } else {
                (paid, String::new())
            };
            pays.push_str(&format!(
                "{name},FP{order},{date},{},{paid},{amount}.00,{off}\n",
                date + Duration::days(30)
            ));
            day += every;
        }
    }
    // Customer facts for twelve of the sixteen: a survey where service drives satisfaction, a
    // contract for some, integration and points for a few; two surveys lack a rating; a record
    // dated after the as-of date is not read.
    let levels = ["无", "数据交换", "系统集成", "嵌入客户流程"];
    for c in 0..12u32 {
        let name = format!("深圳市测试{c:02}贸易有限公司");
        let service = 1 + c % 5;
        let product = 2 + c % 3;
        let satisfaction = (0.6 * f64::from(service) + 0.4 * f64::from(product)).min(5.0);
        let contract = if c % 3 == 0 { "2026-09-30" } else { "" };
        let points = if c % 4 == 1 { "800" } else { "" };
        let relationship = if c == 11 {
            String::new()
        } else {
            (3 + c % 2).to_string()
        };
        facts.push_str(&format!(
            "{name},2025-11-{:02},{satisfaction:.1},{},{},{contract},{},{points},{product},{service},{},{relationship}\n",
            1 + c,
            (2 * service).min(10),
            30 + 4 * c,
            levels[(c % 4) as usize],
            2 + c % 4,
        ));
    }
    facts.push_str("深圳市测试00贸易有限公司,2026-01-05,1,0,5,,,,1,1,1,1\n");
    let s = dir.join("销售出库单.csv");
    let p = dir.join("应收单.csv");
    let f = dir.join("客户情况.csv");
    std::fs::write(&s, sales).unwrap();
    std::fs::write(&p, pays).unwrap();
    std::fs::write(&f, facts).unwrap();
    (
        s.to_str().unwrap().into(),
        p.to_str().unwrap().into(),
        f.to_str().unwrap().into(),
    )
}

fn by_customer(report: &Value) -> HashMap<String, Value> {
    report["per_customer"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["customer_id"].as_str().unwrap().to_string(), r.clone()))
        .collect()
}

#[test]
fn a_refresh_gives_the_numbers_the_analytics_commands_give_on_its_ledger() {
    let db = FreshDb::new("guanxi.db");
    let rt = tokio::runtime::Runtime::new().unwrap();
    ok(&["migrate", "--database", db.path()]);
    rt.block_on(with_admin(db.path()));
    let dir = std::path::Path::new(db.path())
        .parent()
        .unwrap()
        .to_path_buf();
    let (sales, pays, facts) = files(&dir);
    // The first load from the ERP brings its customers with it, on request.
    let out = ok(&[
        "import",
        "sales_records",
        &sales,
        "--database",
        db.path(),
        "--create-missing",
    ]);
    assert!(out.contains("0 failed"), "{out}");
    let out = ok(&["import", "payment_records", &pays, "--database", db.path()]);
    assert!(out.contains("0 failed"), "{out}");
    let out = ok(&["import", "customer_facts", &facts, "--database", db.path()]);
    assert!(out.contains("0 failed"), "{out}");

    let done = ok(&[
        "insights",
        "refresh",
        "--as-of",
        AS_OF,
        "--database",
        db.path(),
    ]);
    assert!(done.contains("16 accounts"), "{done}");
    assert!(
        done.contains("churn model: out-of-time AUC") && done.contains("accepted"),
        "{done}"
    );
    let out_dir = dir.join("ledger");
    std::fs::create_dir_all(&out_dir).unwrap();
    let od = out_dir.to_str().unwrap();
    ok(&[
        "insights",
        "export-ledger",
        od,
        "--as-of",
        AS_OF,
        "--database",
        db.path(),
    ]);
    let tx = format!("{od}/transactions.csv");
    let payments = format!("{od}/payments.csv");
    // The late return keeps the day it was booked; the bad debt the day it was written off.
    let returns = std::fs::read_to_string(format!("{od}/returns.csv")).unwrap();
    assert_eq!(returns.lines().count(), 3, "{returns}");
    assert!(returns.contains(",2024-11-26,2025-01-10,-300"), "{returns}");
    let pays_out = std::fs::read_to_string(&payments).unwrap();
    assert!(pays_out.contains(",yes,2025-03-01"), "{pays_out}");
    // A plain read refuses the red-ink row; --returns takes it as the return it is.
    fails(
        &["analytics", "rfm", "--transactions", &tx, "--as-of", AS_OF],
        &["negative"],
    );
    let cli = |args: &[&str]| -> HashMap<String, Value> {
        let mut all = vec!["analytics"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--transactions", &tx, "--returns", "--format", "json"]);
        by_customer(&ok_json(&all))
    };
    let rfm = cli(&["rfm", "--as-of", AS_OF]);
    let tiers = cli(&["tiers", "--to", AS_OF, "--payments", &payments]);
    let stages = cli(&["lifecycle", "--as-of", AS_OF]);
    let values = cli(&["clv", "--calibration-end", AS_OF, "--period", "week"]);
    assert_eq!(rfm.len(), 16);
    // Churn as the refresh trains it: two 180-day windows back from the as-of date, without
    // tenure, with the silence ratio and the days to pay, refitted on the later window.
    let model = dir.join("churn.json");
    let model = model.to_str().unwrap();
    let train_cutoff =
        (NaiveDate::parse_from_str(AS_OF, "%Y-%m-%d").unwrap() - Duration::days(360)).to_string();
    let trained = ok_json(&[
        "analytics",
        "churn",
        "train",
        "--transactions",
        &tx,
        "--returns",
        "--cutoff",
        &train_cutoff,
        "--window-days",
        "180",
        "--data-end",
        AS_OF,
        "--no-tenure",
        "--silence-ratio",
        "--refit",
        "--payments",
        &payments,
        "--booked-returns",
        &format!("{od}/returns.csv"),
        "--model-out",
        model,
    ]);
    let churn = cli(&[
        "churn",
        "score",
        "--model",
        model,
        "--as-of",
        AS_OF,
        "--payments",
        &payments,
    ]);

    // Loyalty, switching cost, value focus and rules on the exported facts.
    let side = |name: &str| format!("{od}/{name}");
    let loyalty = cli(&[
        "loyalty",
        "--as-of",
        AS_OF,
        "--attitudes",
        &side("attitudes.csv"),
    ]);
    let switching = cli(&[
        "switching-cost",
        "--as-of",
        AS_OF,
        "--customers",
        &side("switching.csv"),
    ]);
    let focus = by_customer(&ok_json(&[
        "analytics",
        "value-focus",
        "--survey",
        &side("survey.csv"),
        "--dimensions",
        "pspr",
        "--format",
        "json",
    ]));
    let rules = ok_json(&[
        "analytics",
        "rules",
        "--transactions",
        &tx,
        "--returns",
        "--format",
        "json",
    ]);
    let mut offered: HashMap<String, Vec<String>> = HashMap::new();
    for r in rules["recommendations"].as_array().unwrap() {
        offered
            .entry(r["customer_id"].as_str().unwrap().to_string())
            .or_default()
            .push(r["product"].as_str().unwrap().to_string());
    }
    assert!(!offered.is_empty(), "{rules}");
    assert_eq!(switching.len(), 12);
    assert_eq!(focus.len(), 11, "one survey lacks a rating");

    let close = |a: f64, b: &Value, what: &str, id: &str| {
        let b = b.as_f64().unwrap();
        assert!(
            (a - b).abs() <= 1e-9 * b.abs().max(1.0),
            "{id} {what}: {a} vs {b}"
        );
    };
    let (stored, evaluation): (Vec<(String, AccountInsights)>, _) = rt.block_on(async {
        let d = Db::connect(db.path()).await.unwrap();
        let models = guanxi_core::insights::models::recent(d.reader(), 1)
            .await
            .unwrap();
        let mut out = Vec::new();
        for id in rfm.keys() {
            let account: Uuid = id.parse().unwrap();
            let got = current::of_account(d.reader(), account)
                .await
                .unwrap()
                .unwrap();
            out.push((id.clone(), got));
        }
        d.close().await.unwrap();
        (out, models[0].evaluation.clone().unwrap())
    });
    // The model's out-of-time test, as the CLI's: trained on what was known at its cutoff (the
    // late return and the later write-off not yet), so the two agree only when both leave them
    // out.
    let test_auc = evaluation.test.as_ref().and_then(|t| t.auc).unwrap();
    close(test_auc, &trained["test"]["auc"], "test AUC", "model");
    close(
        evaluation.train.brier,
        &trained["train"]["brier"],
        "train Brier",
        "model",
    );
    for (id, got) in &stored {
        assert_eq!(
            got.values.rfm_segment,
            rfm[id]["segment"].as_str().unwrap(),
            "{id}"
        );
        assert_eq!(got.values.tier, tiers[id]["tier"].as_str().unwrap(), "{id}");
        close(
            got.values.profitability.unwrap(),
            &tiers[id]["profitability_score"],
            "score",
            id,
        );
        assert_eq!(
            got.values.lifecycle_stage,
            stages[id]["stage"].as_str().unwrap(),
            "{id}"
        );
        close(
            got.values.p_alive.unwrap(),
            &values[id]["p_alive"],
            "p_alive",
            id,
        );
        close(got.values.clv.unwrap(), &values[id]["clv"], "clv", id);
        close(
            got.values.churn_risk.unwrap(),
            &churn[id]["probability"],
            "churn",
            id,
        );
        assert_eq!(
            got.values.churn_decile,
            churn[id]["risk_decile"].as_i64(),
            "{id}"
        );
    }
    for (id, got) in &stored {
        let v = &got.values;
        close(
            v.loyalty_index.unwrap(),
            &loyalty[id]["index"],
            "loyalty",
            id,
        );
        assert_eq!(
            v.loyalty_type,
            loyalty[id]["loyalty_type"].as_str().unwrap_or_default(),
            "{id}"
        );
        match switching.get(id) {
            Some(s) => {
                close(v.switching_cost.unwrap(), &s["index"], "switching", id);
                assert_eq!(v.switching_lever, s["lever"].as_str().unwrap(), "{id}");
            }
            None => assert_eq!(v.facts_missing.switching_cost, "no_facts", "{id}"),
        }
        match focus.get(id) {
            Some(f) => {
                assert_eq!(v.value_focus, f["focus"].as_str().unwrap(), "{id}");
                close(v.value_focus_gap.unwrap(), &f["gap"], "gap", id);
            }
            None => assert!(v.value_focus.is_empty(), "{id}: {v:?}"),
        }
        let products: Vec<String> = v.next_products.iter().map(|p| p.product.clone()).collect();
        assert_eq!(
            products,
            offered.get(id).cloned().unwrap_or_default(),
            "{id}"
        );
    }
    assert!(
        stored
            .iter()
            .any(|(_, g)| !g.values.next_products.is_empty())
    );
    // The late payer is not served, on both sides.
    assert!(stored.iter().any(|(_, g)| g.values.tier == "do_not_serve"));

    // A row naming no known customer is refused, not made a new customer of a typo; on request
    // the customer is created.
    let stray = dir.join("补录.csv");
    std::fs::write(
        &stray,
        "单据日期,客户名称,单据编号,价税合计\n2025-06-01,深圳市侧试00贸易有限公司,XSD-X1,100\n",
    )
    .unwrap();
    let stray = stray.to_str().unwrap();
    let out = ok(&["import", "sales_records", stray, "--database", db.path()]);
    assert!(out.contains("1 failed"), "{out}");
    let errors = std::fs::read_to_string(dir.join("补录.errors.csv")).unwrap();
    assert!(errors.contains("深圳市侧试00贸易有限公司"), "{errors}");
    let out = ok(&[
        "import",
        "sales_records",
        stray,
        "--database",
        db.path(),
        "--create-missing",
    ]);
    assert!(out.contains("1 created"), "{out}");
}
