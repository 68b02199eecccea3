//! Times sequential and parallel parsing of a transactions CSV:
//! `cargo run --release -p guanxi-analytics --example parse_time -- FILE`.

use std::time::Instant;

use guanxi_analytics::transactions::{ParseOptions, Transactions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: parse_time FILE")?;
    for parallel in [true, false, true] {
        let opts = ParseOptions {
            parallel,
            ..ParseOptions::default()
        };
        let start = Instant::now();
        let t = Transactions::read(std::fs::File::open(&path)?, &opts, None)?;
        println!(
            "parallel={parallel}: {:.3} s, {} rows, {} customers",
            start.elapsed().as_secs_f64(),
            t.rows().len(),
            t.num_customers()
        );
    }
    Ok(())
}
