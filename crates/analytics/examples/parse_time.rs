//! Times sequential and parallel parsing of a transactions CSV:
//! `cargo run --release -p guanxi-analytics --example parse_time -- FILE [both|seq|par|check] [RUNS]`.
//!
//! `both` (the default) alternates the two parsers, starting and ending with the parallel one, so
//! that a change of machine load during the run hits both about equally. `check` parses the file
//! both ways and fails unless the results are identical (rows, keys, ids, bad rows).

use std::time::Instant;

use guanxi_analytics::transactions::{ParseOptions, Transactions};

fn read(path: &str, parallel: bool) -> Result<Transactions, Box<dyn std::error::Error>> {
    let opts = ParseOptions {
        parallel,
        skip_bad_rows: true,
        ..ParseOptions::default()
    };
    let start = Instant::now();
    let t = Transactions::read(std::fs::File::open(path)?, &opts, None)?;
    println!(
        "parallel={parallel}: {:.3} s, {} rows, {} customers",
        start.elapsed().as_secs_f64(),
        t.rows().len(),
        t.num_customers()
    );
    Ok(t)
}

fn check(path: &str) -> Result<(), Box<dyn std::error::Error>> {
    let (a, b) = (read(path, false)?, read(path, true)?);
    let same = a.rows() == b.rows()
        && a.costs() == b.costs()
        && a.order_keys() == b.order_keys()
        && a.product_keys() == b.product_keys()
        && a.bad_rows() == b.bad_rows()
        && a.num_customers() == b.num_customers()
        && (0..a.num_customers() as u32).all(|k| a.customer_id(k) == b.customer_id(k))
        && a.num_products() == b.num_products()
        && (0..a.num_products() as u32).all(|k| a.product(k) == b.product(k))
        && (0..a.rows().len() as u32).all(|k| a.order_id(k) == b.order_id(k));
    if !same {
        return Err("the parallel parse differs from the sequential one".into());
    }
    println!("identical");
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: parse_time FILE [both|seq|par|check] [RUNS]";
    let path = args.next().ok_or(usage)?;
    let mode = args.next().unwrap_or_else(|| "both".to_string());
    let runs: usize = match args.next() {
        Some(r) => r.parse()?,
        None => 1,
    };
    let pattern: &[bool] = match mode.as_str() {
        "both" => &[true, false, true],
        "seq" => &[false],
        "par" => &[true],
        "check" => return check(&path),
        _ => return Err(usage.into()),
    };
    for _ in 0..runs {
        for &parallel in pattern {
            read(&path, parallel)?;
        }
    }
    Ok(())
}
