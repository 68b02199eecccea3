//! Contract tests for `guanxi analytics …`: run the built binary on small files and check the
//! output shape the rest of the project relies on, and the malformed-row behaviour.

use std::path::PathBuf;
use std::process::{Command, Output};

fn guanxi(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_guanxi"))
        .args(args)
        .output()
        .unwrap()
}

/// A temp file that is removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, contents: &str) -> TempFile {
        let mut p = std::env::temp_dir();
        p.push(format!("guanxi-it-{}-{name}", std::process::id()));
        std::fs::write(&p, contents).unwrap();
        TempFile(p)
    }
    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A small deterministic file: 60 customers whose purchase rates and lifetimes differ (as the
/// models assume), with random gaps between purchases over 2023–2024.
fn small_csv() -> String {
    let mut s = String::from("customer_id,date,amount,cost\n");
    let mut state = 12345u64;
    let mut uniform = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    for c in 0..60 {
        let first = (uniform() * 200.0) as u32;
        let mean_gap = 5.0 + 120.0 * uniform() * uniform();
        // Dropout rates differ between customers too (mean lifetime 20 to 820 days).
        let mean_life = 20.0 + 800.0 * uniform() * uniform();
        let life = -mean_life * uniform().ln();
        let mut day = first as f64;
        loop {
            let date = chrono_like(day as u32);
            let amount = 10 + (uniform() * 90.0) as u32;
            s.push_str(&format!("cust{c:03},{date},{amount}.50,{}\n", amount / 2));
            day += -mean_gap * uniform().ln();
            if day > 600.0 || day > first as f64 + life {
                break;
            }
        }
    }
    s
}

/// Day offset from 2023-01-01 to YYYY-MM-DD (no chrono in the test to keep it independent).
fn chrono_like(mut day: u32) -> String {
    let months = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let mut year = 2023;
    loop {
        let leap = year % 4 == 0;
        let len = if leap { 366 } else { 365 };
        if day < len {
            for (m, &ml) in months.iter().enumerate() {
                let ml = if m == 1 && leap { 29 } else { ml };
                if day < ml {
                    return format!("{year}-{:02}-{:02}", m + 1, day + 1);
                }
                day -= ml;
            }
        }
        day -= len;
        year += 1;
    }
}

#[test]
fn clv_json_contract() {
    let f = TempFile::new("clv.csv", &small_csv());
    let out = guanxi(&[
        "analytics",
        "clv",
        "--transactions",
        f.path(),
        "--calibration-end",
        "2023-12-31",
        "--holdout-end",
        "2024-06-30",
        "--period",
        "week",
        "--horizon",
        "26",
        "--discount-rate",
        "0.002",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["period"], "week");
    let n = v["customers"].as_u64().unwrap();
    assert!(n > 0);
    for k in ["r", "alpha", "a", "b", "log_likelihood"] {
        assert!(v["bgnbd"][k].is_number(), "bgnbd.{k}");
    }
    for k in ["p", "q", "gamma"] {
        assert!(v["gamma_gamma"][k].is_number(), "gamma_gamma.{k}");
    }
    for k in ["actual", "predicted"] {
        assert!(v["holdout"][k].is_number(), "holdout.{k}");
    }
    let per = v["per_customer"].as_array().unwrap();
    assert_eq!(per.len() as u64, n);
    for c in per {
        for k in [
            "frequency",
            "recency",
            "t",
            "monetary",
            "p_alive",
            "expected_purchases",
            "clv",
        ] {
            assert!(c[k].is_number(), "per_customer.{k} in {c}");
        }
        assert!(c["customer_id"].is_string());
        let p = c["p_alive"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&p));
        assert!(c["recency"].as_f64().unwrap() <= c["t"].as_f64().unwrap());
    }
}

#[test]
fn clv_pareto_nbd_and_csv() {
    let f = TempFile::new("pnbd.csv", &small_csv());
    let out = guanxi(&[
        "analytics",
        "clv",
        "--transactions",
        f.path(),
        "--calibration-end",
        "20231231",
        "--model",
        "pareto-nbd",
        "--period",
        "month",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["period"], "month");
    for k in ["r", "alpha", "s", "beta", "log_likelihood"] {
        assert!(v["pareto_nbd"][k].is_number(), "pareto_nbd.{k}");
    }
    assert!(v.get("bgnbd").is_none());
    assert!(v.get("holdout").is_none());

    let out = guanxi(&[
        "analytics",
        "clv",
        "--transactions",
        f.path(),
        "--calibration-end",
        "2023-12-31",
        "--format",
        "csv",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let header = text.lines().next().unwrap();
    assert!(
        header.starts_with("customer_id,frequency,recency,t,monetary,p_alive,expected_purchases")
    );
}

#[test]
fn malformed_rows_fail_without_output_unless_skipped() {
    let mut csv = small_csv();
    csv.push_str("bad1,2024-02-30,10\n");
    csv.push_str("bad2,2024-01-05,ten\n");
    let lines = csv.lines().count();
    let f = TempFile::new("bad.csv", &csv);
    let args = [
        "analytics",
        "clv",
        "--transactions",
        f.path(),
        "--calibration-end",
        "2023-12-31",
    ];
    let out = guanxi(&args);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "no partial output");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("line {}", lines - 1)), "{err}");
    assert!(err.contains("does not exist"), "{err}");

    let mut skip = args.to_vec();
    skip.push("--skip-bad-rows");
    let out = guanxi(&skip);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("line {}", lines)) && err.contains("not a number"),
        "{err}"
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["customers"].as_u64().unwrap() > 0);
}

#[test]
fn missing_column_is_reported() {
    let f = TempFile::new("nocol.csv", "customer_id,when,amount\na,2024-01-01,1\n");
    let out = guanxi(&[
        "analytics",
        "clv",
        "--transactions",
        f.path(),
        "--calibration-end",
        "2024-01-01",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("`date`"));
}

#[test]
fn lifecycle_contract() {
    let f = TempFile::new("life.csv", &small_csv());
    let out = guanxi(&[
        "analytics",
        "lifecycle",
        "--transactions",
        f.path(),
        "--as-of",
        "2024-06-30",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["as_of"], "2024-06-30");
    let per = v["per_customer"].as_array().unwrap();
    assert_eq!(per.len(), 60);
    let stages = [
        "prospect",
        "exploration",
        "formation",
        "stability",
        "decline",
        "churned",
    ];
    for c in per {
        assert!(stages.contains(&c["stage"].as_str().unwrap()), "{c}");
        assert!(!c["reason_en"].as_str().unwrap().is_empty());
        assert!(!c["reason_zh"].as_str().unwrap().is_empty());
    }
    let total: u64 = v["stages"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(total, 60);
    let out = guanxi(&[
        "analytics",
        "lifecycle",
        "--transactions",
        f.path(),
        "--format",
        "table",
    ]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("stage_zh"));
}
