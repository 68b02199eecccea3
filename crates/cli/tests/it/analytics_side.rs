//! Tests of the analytics commands that read per-customer side files (`loyalty`,
//! `switching-cost`, `value-focus`): real numbers on small hand-made files, every output format,
//! and bad input failing with the file, line and problem and nothing on stdout.

use serde_json::Value;

use super::support::{TempFile, fails, guanxi, ok, ok_json};

fn cat<'a>(base: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = base.to_vec();
    v.extend_from_slice(extra);
    v
}

fn customer<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["per_customer"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["customer_id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {v}"))
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("{v} is not a number"))
}

fn close(a: f64, b: f64, what: &str) {
    assert!((a - b).abs() < 1e-6, "{what}: {a} != {b}");
}

/// `steady` buys on the 15th of every month 2021-01 … 2023-12; `once` bought once in March 2022;
/// `habit` buys monthly through 2023 but is unhappy; `quiet` bought twice and answered no survey.
fn loyalty_transactions() -> String {
    let mut s = String::from("customer_id,date,amount\n");
    for m in 0..36 {
        s.push_str(&format!(
            "steady,{}-{:02}-15,100\n",
            2021 + m / 12,
            m % 12 + 1
        ));
    }
    s.push_str("once,2022-03-10,80\n");
    for m in 1..=12 {
        s.push_str(&format!("habit,2023-{m:02}-05,50\n"));
    }
    s.push_str("quiet,2023-06-01,20\nquiet,2023-07-01,20\n");
    s
}

/// `fan` answered the survey but never bought.
const ATTITUDES: &str = "customer_id,satisfaction,recommendation\n\
                         steady,5,10\nonce,5,9\nhabit,2,3\nfan,5,10\n";

#[test]
fn loyalty_scores_behaviour_and_attitude() {
    let tx = TempFile::new("loyalty-tx.csv", &loyalty_transactions());
    let att = TempFile::new("loyalty-att.csv", ATTITUDES);
    let args = [
        "analytics",
        "loyalty",
        "--transactions",
        tx.path(),
        "--attitudes",
        att.path(),
    ];
    let v = ok_json(&args);
    assert_eq!(v["as_of"], "2023-12-15");
    assert_eq!(v["customers"], 5);
    assert_eq!(v["without_purchases"], 1);

    let steady = customer(&v, "steady");
    assert_eq!(steady["loyalty_type"], "true");
    assert_eq!(steady["loyalty_type_zh"], "真正忠诚");
    assert_eq!(steady["loyalty_type_en"], "True loyalty");
    // repeat rate 1 (bought again in all 35 months after the first), tenure 1064 days, bought on
    // the report date, 5/5 and 10/10: only tenure falls short of full credit
    let expected = 100.0 * (0.20 + 0.15 * 1064.0 / 1095.0 + 0.15 + 0.20 + 0.15) / 0.85;
    close(f(&steady["index"]), expected, "steady index");
    close(f(&steady["attitude"]), 100.0, "steady attitude");
    let repeat = steady["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "repeat_rate")
        .unwrap();
    close(f(&repeat["raw"]), 1.0, "steady repeat rate");

    let once = customer(&v, "once");
    assert_eq!(once["loyalty_type"], "latent");
    assert!(
        f(&steady["index"]) > f(&once["index"]) + 20.0,
        "steady {} vs once {}",
        steady["index"],
        once["index"]
    );
    assert!(f(&once["behaviour"]) < 50.0);
    assert_eq!(customer(&v, "habit")["loyalty_type"], "spurious");
    let fan = customer(&v, "fan");
    assert_eq!(fan["loyalty_type"], "latent");
    assert_eq!(fan["has_purchases"], false);
    close(f(&fan["behaviour"]), 0.0, "fan behaviour");
    let quiet = customer(&v, "quiet");
    assert!(quiet["loyalty_type"].is_null());
    assert!(quiet["attitude"].is_null());
    assert!(f(&quiet["index"]) > 0.0);

    let count = |t: &str| {
        v["types"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["loyalty_type"] == t)
            .map(|x| x["customers"].as_u64().unwrap())
            .unwrap()
    };
    assert_eq!(
        [
            count("true"),
            count("latent"),
            count("spurious"),
            count("none")
        ],
        [1, 2, 1, 0]
    );
    assert_eq!(v["unclassified"], 1);

    // As of the end of 2021 `once` had not bought yet, and `steady` had 350 days of tenure.
    let mut early = args.to_vec();
    early.extend(["--as-of", "2021-12-31"]);
    let v = ok_json(&early);
    assert_eq!(customer(&v, "once")["has_purchases"], false);
    let tenure = customer(&v, "steady")["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "tenure")
        .map(|c| f(&c["raw"]))
        .unwrap();
    close(tenure, 350.0, "tenure as of 2021-12-31");
    // `quiet` had not bought and answered no survey; `habit` counts as a survey answer only
    assert_eq!(v["per_customer"].as_array().unwrap().len(), 4);
    assert_eq!(customer(&v, "habit")["has_purchases"], false);
}

#[test]
fn loyalty_formats_and_configuration() {
    let tx = TempFile::new("loyalty-fmt-tx.csv", &loyalty_transactions());
    let att = TempFile::new("loyalty-fmt-att.csv", ATTITUDES);
    let base = [
        "analytics",
        "loyalty",
        "--transactions",
        tx.path(),
        "--attitudes",
        att.path(),
    ];
    let with = |extra: &[&'static str]| cat(&base, extra);
    let csv = ok(&with(&["--format", "csv"]));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 6);
    assert!(lines[0].starts_with("customer_id,index,behaviour,attitude,loyalty_type,"));
    assert!(lines[0].contains("repeat_rate_points"));
    let steady = lines.iter().find(|l| l.starts_with("steady,")).unwrap();
    assert!(
        steady.contains(",true,真正忠诚,True loyalty,true,1.0000,1064,0,"),
        "{steady}"
    );
    let table = ok(&with(&["--format", "table"]));
    assert!(table.contains("真正忠诚 / True loyalty: 1"), "{table}");
    assert!(table.contains("潜在忠诚 / Latent loyalty: 2"), "{table}");
    assert!(table.lines().any(|l| l.starts_with("fan ")), "{table}");

    // Weights and thresholds from a partial configuration: without attitude weights nobody
    // can be typed; a lower attitude bar turns `habit` (2/5, 3/10) into a true loyalist.
    let cfg = TempFile::new(
        "loyalty-cfg.json",
        r#"{"weights": {"satisfaction": 0, "recommendation": 0}}"#,
    );
    let v = ok_json(&cat(&base, &["--settings", cfg.path()]));
    assert_eq!(v["unclassified"], 5);
    assert_eq!(v["config"]["weights"]["tenure"], 0.15);
    let cfg = TempFile::new("loyalty-cfg2.json", r#"{"attitude_high": 20}"#);
    let v = ok_json(&cat(&base, &["--settings", cfg.path()]));
    assert_eq!(customer(&v, "habit")["loyalty_type"], "true");
    let printed = ok_json(&["analytics", "loyalty", "--print-settings"]);
    assert_eq!(printed["recommendation_scale"][1], 10.0);
    let bad = TempFile::new("loyalty-bad.json", r#"{"weights": {"tenur": 1}}"#);
    fails(&cat(&base, &["--settings", bad.path()]), &["weights.tenur"]);
    let bad = TempFile::new("loyalty-bad2.json", r#"{"tenure_full_days": -5}"#);
    fails(
        &cat(&base, &["--settings", bad.path()]),
        &["tenure_full_days"],
    );
    // a 1–7 survey is accepted once the scale says so
    let seven = TempFile::new("loyalty-att7.csv", "customer_id,satisfaction\nsteady,7\n");
    let cfg = TempFile::new("loyalty-cfg7.json", r#"{"satisfaction_scale": [1, 7]}"#);
    let mut a = vec!["analytics", "loyalty", "--transactions", tx.path()];
    a.extend(["--attitudes", seven.path(), "--settings", cfg.path()]);
    let v = ok_json(&a);
    close(f(&customer(&v, "steady")["attitude"]), 100.0, "7 of 7");
}

#[test]
fn loyalty_bad_attitudes_fail_with_file_and_line() {
    let tx = TempFile::new("loyalty-bad-tx.csv", &loyalty_transactions());
    let run = |name: &str, contents: &str, expected: &[&str]| {
        let att = TempFile::new(name, contents);
        let args = [
            "analytics",
            "loyalty",
            "--transactions",
            tx.path(),
            "--attitudes",
            att.path(),
        ];
        let mut all = vec![att.path()];
        all.extend_from_slice(expected);
        fails(&args, &all);
    };
    run(
        "att-unknown.csv",
        "customer_id,satisfation\nsteady,5\n",
        &["unknown column `satisfation`", "satisfaction (optional)"],
    );
    run(
        "att-number.csv",
        "customer_id,satisfaction\nsteady,5\nonce,high\n",
        &["line 3", "satisfaction `high` is not a number"],
    );
    run(
        "att-scale.csv",
        "customer_id,satisfaction,recommendation\nsteady,5,11\n",
        &["line 2", "recommendation 11 is outside the scale 0–10"],
    );
    run(
        "att-share.csv",
        "customer_id,share_of_wallet\nsteady,80\n",
        &["line 2", "share_of_wallet 80 must be between 0 and 1"],
    );
    run(
        "att-dup.csv",
        "customer_id,satisfaction\nsteady,5\nonce,4\nsteady,3\n",
        &["line 4", "`steady` is also on line 2"],
    );
    run(
        "att-noid.csv",
        "satisfaction\n5\n",
        &["no `customer_id` column"],
    );
    // skipping keeps the good rows and reports the bad one
    let att = TempFile::new(
        "att-skip.csv",
        "customer_id,satisfaction\nsteady,5\nonce,high\n",
    );
    let out = guanxi(&[
        "analytics",
        "loyalty",
        "--transactions",
        tx.path(),
        "--attitudes",
        att.path(),
        "--skip-bad-rows",
    ]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("skipped line 3"));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(customer(&v, "once")["attitude"].is_null());
    // a malformed transactions row names its line too
    let bad_tx = TempFile::new(
        "loyalty-bad-rows.csv",
        "customer_id,date,amount\na,2024-01-01,5\nb,2024-13-01,5\n",
    );
    fails(
        &["analytics", "loyalty", "--transactions", bad_tx.path()],
        &["line 3"],
    );
}

#[test]
fn switching_cost_hand_computed() {
    let customers = TempFile::new(
        "sc-customers.csv",
        "customer_id,categories_held,remaining_contract_days,contract_end,integration_level,\
         loyalty_balance,tenure_days\n\
         mid,3,146,,2,500,913\n\
         locked,6,,2025-06-30,3,0,2000\n\
         =loose,1,,,,,0\n",
    );
    let args = [
        "analytics",
        "switching-cost",
        "--customers",
        customers.path(),
        "--as-of",
        "2024-01-01",
    ];
    let v = ok_json(&args);
    assert_eq!(v["as_of"], "2024-01-01");
    assert_eq!(v["customers"], 3);
    // 25·3/5 + 25·146/365 + 20·2/3 + 15·500/(500+1000) + 15·913/1826
    let mid = customer(&v, "mid");
    close(
        f(&mid["index"]),
        15.0 + 10.0 + 40.0 / 3.0 + 5.0 + 7.5,
        "mid index",
    );
    assert_eq!(mid["level"], "medium");
    assert_eq!(mid["level_zh"], "中");
    assert_eq!(mid["level_en"], "Medium");
    // points still to gain: contract 15, breadth 10, balance 10, tenure 7.5, integration 6.7
    assert_eq!(mid["lever"], "contract");
    assert_eq!(mid["lever_en"], "Remaining contract term");
    close(f(&mid["lever_gain"]), 15.0, "mid lever gain");
    let points: Vec<f64> = mid["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| f(&c["points"]))
        .collect();
    close(points.iter().sum(), f(&mid["index"]), "components add up");
    // 546 days left (capped at a year), everything full but the empty loyalty balance
    let locked = customer(&v, "locked");
    close(f(&locked["index"]), 85.0, "locked index");
    assert_eq!(locked["level"], "high");
    assert_eq!(locked["lever"], "loyalty_balance");
    let contract = locked["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "contract")
        .unwrap();
    close(f(&contract["raw"]), 546.0, "days to contract end");
    let loose = customer(&v, "=loose");
    close(f(&loose["index"]), 5.0, "loose index");
    assert_eq!(loose["level_zh"], "低");
    let levels: Vec<u64> = v["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["customers"].as_u64().unwrap())
        .collect();
    assert_eq!(levels, vec![1, 1, 1]);

    let mut a = args.to_vec();
    a.extend(["--format", "csv"]);
    let csv = ok(&a);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4);
    assert!(lines[0].starts_with("customer_id,index,level,level_zh,level_en,categories_held"));
    assert!(lines[0].ends_with("lever,lever_zh,lever_en,lever_gain"));
    assert!(lines[1].starts_with("mid,50.8,medium,中,Medium,3,146,2,500.00,913,"));
    // a formula-like id is neutralised for spreadsheets
    assert!(lines[3].starts_with("'=loose,5.0,low,"), "{}", lines[3]);
    let mut a = args.to_vec();
    a.extend(["--format", "table"]);
    let table = ok(&a);
    assert!(table.contains("高 / High: 1"), "{table}");
    assert!(table.lines().any(|l| l.starts_with("locked ")), "{table}");

    let cfg = TempFile::new("sc-cfg.json", r#"{"weights": {"loyalty_balance": 0}}"#);
    let mut a = args.to_vec();
    a.extend(["--settings", cfg.path()]);
    let v = ok_json(&a);
    close(
        f(&customer(&v, "locked")["index"]),
        100.0,
        "no balance weight",
    );
    let bad = TempFile::new("sc-bad.json", r#"{"weight": {}}"#);
    let mut a = args.to_vec();
    a.extend(["--settings", bad.path()]);
    fails(&a, &["unknown switching-cost setting `weight`"]);
}

#[test]
fn switching_cost_breadth_and_tenure_from_transactions() {
    let tx = TempFile::new(
        "sc-tx.csv",
        "customer_id,date,amount,product\n\
         c,2023-01-01,10,paper\nc,2023-03-01,10,ink\nc,2023-05-01,10,paper\n\
         c,2023-07-01,10,desks\nother,2023-12-31,5,ink\n",
    );
    let customers = TempFile::new(
        "sc-tx-customers.csv",
        "customer_id,contract_end,categories_held\nc,2024-06-29,\nd,,4\n",
    );
    let out = guanxi(&[
        "analytics",
        "switching-cost",
        "--customers",
        customers.path(),
        "--transactions",
        tx.path(),
    ]);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("1 customer(s) with purchases have no row")
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["as_of"], "2023-12-31");
    let c = customer(&v, "c");
    // 3 products, 364 days since the first purchase, 181 days left on the contract
    close(
        f(&c["index"]),
        25.0 * 3.0 / 5.0 + 25.0 * 181.0 / 365.0 + 15.0 * 364.0 / 1826.0,
        "c index",
    );
    // the file's categories win; no purchases means no tenure
    close(f(&customer(&v, "d")["index"]), 25.0 * 4.0 / 5.0, "d index");
    // transactions without products cannot count categories
    let noprod = TempFile::new(
        "sc-noprod.csv",
        "customer_id,date,amount\nc,2023-01-01,10\n",
    );
    fails(
        &[
            "analytics",
            "switching-cost",
            "--customers",
            customers.path(),
            "--transactions",
            noprod.path(),
        ],
        &["line 2", "no product column"],
    );
}

#[test]
fn switching_cost_bad_customers_file() {
    let run = |name: &str, contents: &str, expected: &[&str]| {
        let file = TempFile::new(name, contents);
        let mut all = vec![file.path()];
        all.extend_from_slice(expected);
        fails(
            &[
                "analytics",
                "switching-cost",
                "--customers",
                file.path(),
                "--as-of",
                "2024-01-01",
            ],
            &all,
        );
    };
    run(
        "sc-missing.csv",
        "customer_id,integration_level\na,1\n",
        &["no `categories_held` column", "--transactions"],
    );
    run(
        "sc-unknown.csv",
        "customer_id,categories_held,tenure_days,integration\na,1,1,1\n",
        &[
            "unknown column `integration`",
            "integration_level (optional)",
        ],
    );
    run(
        "sc-number.csv",
        "customer_id,categories_held,tenure_days,loyalty_balance\na,1,1,5\nb,1,1,lots\n",
        &["line 3", "loyalty_balance `lots` is not a number"],
    );
    run(
        "sc-dup.csv",
        "customer_id,categories_held,tenure_days\na,1,1\nb,1,1\na,2,2\n",
        &["line 4", "`a` is also on line 2"],
    );
    run(
        "sc-both.csv",
        "customer_id,categories_held,tenure_days,remaining_contract_days,contract_end\n\
         a,1,1,30,2024-02-01\n",
        &["line 2", "not both"],
    );
    run(
        "sc-level.csv",
        "customer_id,categories_held,tenure_days,integration_level\na,1,1,4\n",
        &["line 2", "integration_level 4 is above the highest level 3"],
    );
    run(
        "sc-negative.csv",
        "customer_id,categories_held,tenure_days\na,1,-3\n",
        &["line 2", "tenure_days -3 is negative"],
    );
    run(
        "sc-blank.csv",
        "customer_id,categories_held,tenure_days\na,,3\n",
        &["line 2", "categories_held is empty"],
    );
}

/// Deterministic uniform numbers in [0, 1).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn between(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next()
    }
}

/// A survey where overall = 0.6·service + 0.3·product + 0.1·price + 0·relationship + noise,
/// with service rated lowest; columns in a different order from the preset, header in mixed
/// case. Segments A and B have 100 responses each, `tiny` three.
fn survey() -> String {
    let mut rng = Lcg(7);
    let mut s = String::from("customer_id,Segment,relationship,price,Service,product,overall\n");
    for i in 0..203 {
        let product = rng.between(3.0, 5.0);
        let service = rng.between(1.0, 4.0);
        let price = rng.between(2.0, 5.0);
        let relationship = rng.between(3.5, 5.0);
        let overall = 0.6 * service + 0.3 * product + 0.1 * price + rng.between(-0.25, 0.25);
        let segment = match i {
            200.. => "tiny",
            _ if i % 2 == 0 => "A",
            _ => "B",
        };
        s.push_str(&format!(
            "r{i},{segment},{relationship:.3},{price:.3},{service:.3},{product:.3},{overall:.3}\n"
        ));
    }
    // delighted with service, unhappy with the product
    s.push_str("picky,,5,5,5,1,3.4\n");
    s
}

#[test]
fn value_focus_recovers_the_importance_ranking() {
    let file = TempFile::new("vf-survey.csv", &survey());
    let args = ["analytics", "value-focus", "--survey", file.path()];
    let v = ok_json(&args);
    assert_eq!(v["responses"], 204);
    let keys: Vec<&str> = v["dimensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["product", "service", "price", "relationship"]);
    let dims = v["overall"]["dimensions"].as_array().unwrap();
    let importance: Vec<f64> = dims.iter().map(|d| f(&d["importance"])).collect();
    // service > product > price > relationship, relationship near zero
    assert!(importance[1] > importance[0], "{importance:?}");
    assert!(importance[0] > importance[2], "{importance:?}");
    assert!(importance[2] > importance[3], "{importance:?}");
    assert!(importance[3] < 0.05, "{importance:?}");
    close(importance.iter().sum(), 1.0, "importance sums to 1");
    assert!(f(&v["overall"]["r_squared"]) > 0.8);
    assert_eq!(v["overall"]["focus"], "service");
    assert_eq!(dims[1]["quadrant"], "concentrate_here");
    assert_eq!(dims[1]["quadrant_zh"], "重点改进");
    assert_eq!(dims[1]["name_zh"], "服务");
    // performance is the mean rating; the gap is to the scale maximum
    close(
        f(&dims[1]["gap"]),
        5.0 - f(&dims[1]["performance"]),
        "gap to 5",
    );
    let segments = v["segments"].as_array().unwrap();
    let names: Vec<&str> = segments
        .iter()
        .map(|s| s["segment"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["A", "B", "tiny"]);
    assert_eq!(segments[0]["own_regression"], true);
    assert_eq!(segments[0]["ipa"]["focus"], "service");
    assert_eq!(segments[2]["own_regression"], false);
    assert_eq!(segments[2]["ipa"]["responses"], 3);
    let picky = customer(&v, "picky");
    assert_eq!(picky["focus"], "product");
    close(f(&picky["gap"]), 4.0, "picky gap");
    assert!(picky["segment"].is_null());

    let mut a = args.to_vec();
    a.extend(["--format", "csv"]);
    let csv = ok(&a);
    let lines: Vec<&str> = csv.lines().collect();
    // 4 dimensions for all responses and for each of 3 segments
    assert_eq!(lines.len(), 1 + 4 * 4);
    assert!(lines[0].starts_with("scope,segment,responses,own_regression,r_squared,key,"));
    assert!(lines[2].starts_with("all,,204,true,"));
    assert!(lines[2].contains(",service,服务,Service,"));
    assert!(lines[2].ends_with(",concentrate_here,重点改进,Concentrate here,true"));
    let mut a = args.to_vec();
    a.extend(["--format", "csv", "--rows", "customers"]);
    let csv = ok(&a);
    assert!(csv.starts_with("customer_id,segment,focus,focus_zh,focus_en,gap,priority\n"));
    assert!(
        csv.contains("\npicky,,product,产品,Product,4.000,"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 205);
    let mut a = args.to_vec();
    a.extend(["--format", "table"]);
    let table = ok(&a);
    assert!(table.contains("focus: service 服务 / Service"), "{table}");
    assert!(table.contains("focus of tiny (3 responses, importance of all responses)"));
    let mut a = args.to_vec();
    a.extend(["--format", "table", "--rows", "customers"]);
    assert!(ok(&a).lines().any(|l| l.starts_with("picky ")));
    // a higher target widens every gap by the same amount
    let mut a = args.to_vec();
    a.extend(["--target", "6"]);
    let t = ok_json(&a);
    close(
        f(&t["overall"]["dimensions"][1]["gap"]),
        f(&dims[1]["gap"]) + 1.0,
        "target 6",
    );
}

#[test]
fn value_focus_dimension_sets() {
    let mut s = String::from("customer_id,speed,quality,overall\n");
    let mut rng = Lcg(11);
    for i in 0..30 {
        let speed = rng.between(1.0, 5.0);
        let quality = rng.between(1.0, 5.0);
        let overall = 0.2 * speed + 0.8 * quality + rng.between(-0.1, 0.1);
        s.push_str(&format!("c{i},{speed:.2},{quality:.2},{overall:.2}\n"));
    }
    let file = TempFile::new("vf-auto.csv", &s);
    let v = ok_json(&["analytics", "value-focus", "--survey", file.path()]);
    let dims = v["overall"]["dimensions"].as_array().unwrap();
    assert_eq!(dims[0]["key"], "speed");
    assert_eq!(dims[1]["key"], "quality");
    assert!(f(&dims[1]["importance"]) > 0.7);
    fails(
        &[
            "analytics",
            "value-focus",
            "--survey",
            file.path(),
            "--dimensions",
            "pspr",
        ],
        &[
            file.path(),
            "unknown column `speed`",
            "product, service, price, relationship",
        ],
    );
    // a preset requires all its dimensions
    let rater = TempFile::new(
        "vf-rater.csv",
        "customer_id,reliability,assurance,tangibles,empathy,overall\nc,1,2,3,4,5\n",
    );
    fails(
        &[
            "analytics",
            "value-focus",
            "--survey",
            rater.path(),
            "--dimensions",
            "rater",
        ],
        &["no `responsiveness` column"],
    );
    // the overall rating can live under another name
    let renamed = TempFile::new("vf-renamed.csv", &s.replace("overall", "satisfaction"));
    fails(
        &["analytics", "value-focus", "--survey", renamed.path()],
        &["no `overall` column"],
    );
    let v = ok_json(&[
        "analytics",
        "value-focus",
        "--survey",
        renamed.path(),
        "--overall-column",
        "Satisfaction",
    ]);
    assert_eq!(v["overall"]["dimensions"].as_array().unwrap().len(), 2);
}

#[test]
fn value_focus_bad_survey_fails_with_file_and_line() {
    let good = survey();
    let run = |name: &str, contents: &str, extra: &[&str], expected: &[&str]| {
        let file = TempFile::new(name, contents);
        let mut args = vec!["analytics", "value-focus", "--survey", file.path()];
        args.extend_from_slice(extra);
        let mut all = vec![file.path()];
        all.extend_from_slice(expected);
        fails(&args, &all);
    };
    let line = good.lines().count() + 1;
    run(
        "vf-number.csv",
        &format!("{good}late,,4,4,x,4,4\n"),
        &[],
        &[&format!("line {line}"), "service `x` is not a number"],
    );
    run(
        "vf-scale.csv",
        &format!("{good}late,,4,4,6,4,4\n"),
        &[],
        &[&format!("line {line}"), "service 6 is outside 0–5"],
    );
    run(
        "vf-empty.csv",
        &format!("{good}late,,4,4,,4,4\n"),
        &[],
        &[&format!("line {line}"), "service is empty"],
    );
    run(
        "vf-dup.csv",
        &format!("{good}r5,,4,4,4,4,4\n"),
        &[],
        &[&format!("line {line}"), "`r5` is also on line 7"],
    );
    run(
        "vf-few.csv",
        "customer_id,product,service,price,relationship,overall\na,1,2,3,4,5\n",
        &[],
        &["need at least 6 responses"],
    );
    run(
        "vf-header.csv",
        "customer_id,product,service,overall\n",
        &[],
        &["no survey responses"],
    );
    // a 7-point survey passes once the scale says so, and a bad row is skipped on request
    let file = TempFile::new("vf-seven.csv", &format!("{good}late,,4,4,7,4,4\nbad,,4\n"));
    fails(
        &["analytics", "value-focus", "--survey", file.path()],
        &["outside 0–5"],
    );
    let out = guanxi(&[
        "analytics",
        "value-focus",
        "--survey",
        file.path(),
        "--scale-max",
        "7",
        "--skip-bad-rows",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("skipped line {}", line + 1)));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["responses"], 205);
    assert_eq!(v["config"]["scale_max"], 7.0);
    let file = TempFile::new("vf-cfg-survey.csv", &good);
    fails(
        &[
            "analytics",
            "value-focus",
            "--survey",
            file.path(),
            "--scale-max",
            "0",
        ],
        &["scale_max must be a positive number"],
    );
    let cfg = TempFile::new("vf-cfg.json", r#"{"min_segment_response": 3}"#);
    fails(
        &[
            "analytics",
            "value-focus",
            "--survey",
            file.path(),
            "--settings",
            cfg.path(),
        ],
        &["unknown value-focus setting `min_segment_response`"],
    );
    let cfg = TempFile::new("vf-cfg-ok.json", r#"{"min_segment_responses": 3}"#);
    let v = ok_json(&[
        "analytics",
        "value-focus",
        "--survey",
        file.path(),
        "--settings",
        cfg.path(),
    ]);
    assert_eq!(
        v["segments"][2]["own_regression"], false,
        "3 < 4 + 2 responses"
    );
}
