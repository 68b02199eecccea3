//! Tests of reading as a whole: the parallel reader against the sequential one on generated
//! files, line numbers, bad rows, quotes, delimiters and progress; and the helpers the other
//! modules' tests share.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

pub(super) fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

#[test]
fn bad_rows_fail_or_are_collected() {
    let csv = "customer_id,date,amount\na,2024-01-01,10\nb,2024-13-01,3\nc,2024-01-01,abc\n\nd,2024-01-02\n";
    let err = Transactions::read(csv.as_bytes(), &ParseOptions::default(), None).unwrap_err();
    match err {
        TransactionError::BadRow { line, reason } => {
            assert_eq!(line, 3);
            assert!(reason.contains("does not exist"), "{reason}");
        }
        other => panic!("{other}"),
    }
    let opts = ParseOptions {
        skip_bad_rows: true,
        ..ParseOptions::default()
    };
    let t = Transactions::read(csv.as_bytes(), &opts, None).unwrap();
    assert_eq!(t.rows().len(), 1);
    let lines: Vec<u64> = t.bad_rows().iter().map(|b| b.line).collect();
    assert_eq!(lines, vec![3, 4, 6]);
}

#[test]
fn line_numbers_count_quoted_newlines_and_unterminated_last_line() {
    let opts = ParseOptions {
        skip_bad_rows: true,
        ..ParseOptions::default()
    };
    let csv = "customer_id,date,amount\n\"x\ny\",2024-01-01,zz\n\n\na,2024-01-01,1\nb,2024-01-01,q";
    let t = Transactions::read(csv.as_bytes(), &opts, None).unwrap();
    let lines: Vec<u64> = t.bad_rows().iter().map(|b| b.line).collect();
    assert_eq!(lines, vec![2, 7]);
}

/// Compares everything a parse produces.
fn assert_same(a: &Transactions, b: &Transactions) {
    assert_eq!(a.rows(), b.rows());
    assert_eq!(a.costs(), b.costs());
    assert_eq!(a.order_keys(), b.order_keys());
    assert_eq!(a.product_keys(), b.product_keys());
    assert_eq!(a.bad_rows(), b.bad_rows());
    assert_eq!(a.num_customers(), b.num_customers());
    for k in 0..a.num_customers() as u32 {
        assert_eq!(a.customer_id(k), b.customer_id(k));
    }
    assert_eq!(a.num_products(), b.num_products());
    for k in 0..a.num_products() as u32 {
        assert_eq!(a.product(k), b.product(k));
    }
    let orders = a.order_keys().map_or(0, |o| {
        o.iter()
            .filter(|&&k| k != NONE_KEY)
            .max()
            .map_or(0, |m| m + 1)
    });
    for k in 0..orders {
        assert_eq!(a.order_id(k), b.order_id(k));
    }
    for t in [a, b] {
        assert_lookups(&t.customers);
        for (int, _) in t.orders.iter().chain(&t.products) {
            assert_lookups(int);
        }
    }
}

/// Every string of an interner is found under its key, and the table takes more strings.
pub(super) fn assert_lookups(int: &Interner) {
    for k in 0..int.len() as u32 {
        let s = int.resolve(k).unwrap();
        assert_eq!(int.get(s), Some(k), "{s:?}");
    }
    let mut more = int.clone();
    let n = more.len() as u32;
    for i in 0..40 {
        assert_eq!(more.intern(&format!("new {i}")).unwrap(), n + i);
    }
    if let Some(s) = int.resolve(0) {
        assert_eq!(more.intern(s).unwrap(), 0);
    }
    assert_eq!(more.get("new 39"), Some(n + 39));
}

/// A generated file with every kind of row: good rows in several date formats, blank and
/// whitespace lines, bad dates, bad numbers, negative amounts, missing fields, empty ids,
/// blank optional columns, CRLF line ends, and optionally no final line feed.
fn generated_csv(seed: u64, rows: usize, bad_every: usize, terminated: bool) -> String {
    let mut st = seed | 1;
    let mut next = move || {
        st ^= st << 13;
        st ^= st >> 7;
        st ^= st << 17;
        st
    };
    let mut s = String::from("customer_id,date,amount,cost,order_id,product\n");
    for i in 0..rows {
        let r = next();
        let c = r % 97;
        let day = 1 + (r >> 8) % 28;
        let month = 1 + (r >> 16) % 12;
        let amount = (r >> 24) % 10_000;
        let order = (r >> 40) % 500;
        let product = ["milk", "bread", "tea", "", "rice"][((r >> 50) % 5) as usize];
        let date = if r % 3 == 0 {
            format!("2023{month:02}{day:02}")
        } else {
            format!("2023-{month:02}-{day:02}")
        };
        let line = if bad_every > 0 && i % bad_every == bad_every - 1 {
            match (r >> 33) % 7 {
                0 => format!("c{c},2023-02-30,1,0,o{order},{product}"),
                1 => format!("c{c},{date},abc,0,o{order},{product}"),
                2 => format!("c{c},{date}"),
                3 => format!(",{date},5,0,,"),
                4 => format!("c{c},{date},-5,0,,"),
                5 => "   ".to_string(),
                _ => String::new(),
            }
        } else if r % 11 == 0 {
            format!("c{c},{date},{amount}.25,,,")
        } else {
            format!("c{c},{date},{amount}.5,{},o{order},{product}", amount / 3)
        };
        s.push_str(&line);
        s.push_str(if r % 13 == 0 { "\r\n" } else { "\n" });
    }
    if !terminated {
        s.push_str("c1,2023-05-05,7,1,o1,tea");
    }
    s
}

fn parse(text: &str, skip: bool, parallel: bool, chunk: usize) -> Result<Transactions, String> {
    let opts = ParseOptions {
        skip_bad_rows: skip,
        parallel,
        chunk_bytes: chunk,
        ..ParseOptions::default()
    };
    parse_with(text, &opts, None)
}

/// Hash masks that force collisions: everything in one slot of one shard; two shards and few
/// slots; same slot, different tags; same tags, no shard bits.
pub(super) const WEAK_MASKS: [u64; 4] = [
    0,
    0x8000_0000_0000_0003,
    0xffff_ffff_0000_0000,
    0x0000_0000_ffff_ffff,
];

/// Reads `text`; in parallel with ids' hashes ANDed with `mask` if one is given.
fn parse_with(text: &str, opts: &ParseOptions, mask: Option<u64>) -> Result<Transactions, String> {
    let mut last = 0u64;
    let mut calls = 0usize;
    let mut cb = |b: u64| {
        assert!(b >= last, "progress goes forward");
        last = b;
        calls += 1;
    };
    let r = match mask {
        Some(mask) => Transactions::read_parallel_with(text.as_bytes(), opts, Some(&mut cb), mask),
        None => Transactions::read(text.as_bytes(), opts, Some(&mut cb)),
    }
    .map_err(|e| e.to_string());
    if r.is_ok() {
        assert_eq!(last, text.len() as u64, "progress ends at the input size");
        assert!(calls > 0);
    }
    r
}

#[test]
fn parallel_parse_equals_sequential() {
    for (seed, rows, bad_every, terminated) in [
        (1, 3000, 0, true),
        (2, 3000, 37, true),
        (3, 2500, 5, false),
        (4, 1, 0, false),
        (5, 0, 0, true),
        (6, 4000, 400, true),
    ] {
        let text = generated_csv(seed, rows, bad_every, terminated);
        for skip in [true, false] {
            let seq = parse(&text, skip, false, 1);
            for chunk in [1, 50, 333, 4096, 4 << 20] {
                let par = parse(&text, skip, true, chunk);
                match (&seq, &par) {
                    (Ok(a), Ok(b)) => assert_same(a, b),
                    (Err(a), Err(b)) => assert_eq!(a, b, "seed {seed} chunk {chunk}"),
                    _ => panic!("seed {seed} skip {skip} chunk {chunk}: {seq:?} vs {par:?}"),
                }
            }
            let opts = ParseOptions {
                skip_bad_rows: skip,
                chunk_bytes: 200,
                ..ParseOptions::default()
            };
            for mask in WEAK_MASKS {
                match (&seq, &parse_with(&text, &opts, Some(mask))) {
                    (Ok(a), Ok(b)) => assert_same(a, b),
                    (Err(a), Err(b)) => assert_eq!(a, b, "seed {seed} mask {mask:x}"),
                    (a, b) => panic!("seed {seed} skip {skip} mask {mask:x}: {a:?} vs {b:?}"),
                }
            }
            if bad_every > 0 && !skip {
                assert!(seq.is_err(), "a bad row fails the parse");
            }
            if bad_every > 0 && skip {
                assert!(!seq.as_ref().unwrap().bad_rows().is_empty());
            }
        }
    }
}

#[test]
fn parallel_parse_with_quotes_and_odd_headers_equals_sequential() {
    let mut text = generated_csv(9, 500, 17, true);
    // a quoted field with a line break and a quoted id further down
    text.push_str("\"x\ny\",2023-01-01,zz,,,\n\"q,1\",2023-01-02,3,1,o9,\"tea, green\"\n");
    text.push_str(
        &generated_csv(10, 300, 23, false)
            .replace("customer_id,date,amount,cost,order_id,product\n", ""),
    );
    let others = [
        text.clone(),
        "\u{feff}Customer_ID,date,amount\r\na,2024-01-01,1\r\nb,20240102,2".to_string(),
        "customer_id,date,amount\n".to_string(),
        "customer_id,date,amount".to_string(),
        String::new(),
        "customer_id,day,amount\na,2024-01-01,1\n".to_string(),
        "\"customer_id\",\"date\",\"amount\"\na,2024-01-01,1\n\nb,2024-01-01,x\n".to_string(),
    ];
    for t in &others {
        for skip in [true, false] {
            let seq = parse(t, skip, false, 1);
            for chunk in [1, 7, 64, 1 << 20] {
                match (&seq, &parse(t, skip, true, chunk)) {
                    (Ok(a), Ok(b)) => assert_same(a, b),
                    (Err(a), Err(b)) => assert_eq!(a, b),
                    (a, b) => panic!("{t:?} skip {skip} chunk {chunk}: {a:?} vs {b:?}"),
                }
            }
        }
    }
}

#[test]
fn crlf_line_numbers() {
    let csv =
        "customer_id,date,amount\r\na,2024-01-01,1\r\n,2024-01-01,2\r\n\r\nb,2024-01-01,x\r\n";
    for parallel in [false, true] {
        let opts = ParseOptions {
            skip_bad_rows: true,
            parallel,
            ..ParseOptions::default()
        };
        let t = Transactions::read(csv.as_bytes(), &opts, None).unwrap();
        let lines: Vec<u64> = t.bad_rows().iter().map(|b| b.line).collect();
        assert_eq!(lines, vec![3, 5]);
        assert_eq!(t.rows().len(), 1);
        assert_eq!(t.customer_id(0), "a");
    }
}

/// Keys must follow first occurrence in the file even when an id first occurs late, in a
/// later chunk or block, or in several chunks of one block; checked against the order of
/// first occurrence computed here, not only against the sequential reader.
#[test]
fn keys_follow_first_occurrence_across_chunks_and_blocks() {
    let mut text = String::from("customer_id,date,amount,order_id,product\n");
    let mut ids = Vec::new();
    for i in 0..3000u64 {
        // Few ids early, more later, and ids that come back after a long gap.
        let c = if i < 1000 { i % 7 } else { (i * 7919) % 613 };
        let id = format!("k{c}");
        let line = format!(
            "{id},2023-01-{:02},{i}.5,o{},p{}\n",
            1 + i % 28,
            i / 3,
            c % 11
        );
        text.push_str(&line);
        ids.push(id);
    }
    let mut first: Vec<&str> = Vec::new();
    for id in &ids {
        if !first.contains(&id.as_str()) {
            first.push(id);
        }
    }
    for chunk in [1, 30, 500, 1 << 20] {
        let opts = ParseOptions {
            chunk_bytes: chunk,
            ..ParseOptions::default()
        };
        for mask in std::iter::once(None).chain(WEAK_MASKS.map(Some)) {
            let t = parse_with(&text, &opts, mask).unwrap();
            assert_eq!(t.num_customers(), first.len());
            for (k, id) in first.iter().enumerate() {
                assert_eq!(t.customer_id(k as u32), *id, "chunk {chunk} mask {mask:?}");
            }
            let keys: Vec<u32> = t.rows().iter().map(|r| r.customer).collect();
            let expected: Vec<u32> = ids
                .iter()
                .map(|id| first.iter().position(|f| f == id).unwrap() as u32)
                .collect();
            assert_eq!(keys, expected);
            let orders = t.order_keys().unwrap();
            assert!(orders.windows(2).all(|w| w[1] == w[0] || w[1] == w[0] + 1));
            assert_eq!(t.order_id(orders[2999]), Some("o999"));
            assert_eq!(t.num_products(), 11);
            assert_same(&t, &parse(&text, false, false, 1).unwrap());
        }
    }
}

#[test]
fn other_delimiters_equal_sequential() {
    let text = generated_csv(11, 1500, 29, false);
    for delimiter in [b';', b'\t', 0, b'\n'] {
        let text = text.replace(',', &char::from(delimiter).to_string());
        for skip in [true, false] {
            let opts = |parallel: bool, chunk_bytes: usize| ParseOptions {
                skip_bad_rows: skip,
                delimiter,
                parallel,
                chunk_bytes,
                ..ParseOptions::default()
            };
            let seq = parse_with(&text, &opts(false, 1), None);
            for chunk in [1, 100, 1 << 20] {
                match (&seq, &parse_with(&text, &opts(true, chunk), None)) {
                    (Ok(a), Ok(b)) => assert_same(a, b),
                    (Err(a), Err(b)) => assert_eq!(a, b),
                    (a, b) => panic!("{delimiter} {skip} {chunk}: {a:?} vs {b:?}"),
                }
            }
            if delimiter != b'\n' && skip {
                assert!(seq.as_ref().unwrap().rows().len() > 1000);
            }
        }
    }
}

/// From the first quote on, the rest is read by the csv crate: rows, keys and line numbers
/// before and after it must still come out right.
#[test]
fn quote_after_several_blocks() {
    let mut text = String::from("customer_id,date,amount\n");
    let mut bad = Vec::new();
    for i in 0..400 {
        let line = match i {
            250 => "\"q\nr\",2023-01-01,1".to_string(),
            _ if i % 37 == 5 => format!("c{},2023-01-01,x", i % 13),
            _ => format!("c{},2023-01-01,{i}", (i * 7) % 50),
        };
        if line.ends_with(",x") {
            // Line 1 is the header; the quoted field above adds a line.
            bad.push(i + 2 + u64::from(i > 250));
        }
        text.push_str(&line);
        text.push('\n');
    }
    let seq = parse(&text, true, false, 1).unwrap();
    assert_eq!(
        seq.bad_rows().iter().map(|b| b.line).collect::<Vec<_>>(),
        bad
    );
    assert_eq!(seq.customer_key("q\nr"), Some(50));
    for chunk in [1, 64, 300] {
        assert_same(&seq, &parse(&text, true, true, chunk).unwrap());
        let err = parse(&text, false, true, chunk).unwrap_err();
        assert_eq!(err, format!("line {}: amount `x` is not a number", bad[0]));
    }
}

#[test]
fn missing_column() {
    let err = Transactions::read(
        "customer_id,day,amount\n".as_bytes(),
        &ParseOptions::default(),
        None,
    )
    .unwrap_err();
    assert!(matches!(err, TransactionError::MissingColumn("date")));
}

#[test]
fn progress_reports_bytes() {
    let csv = "customer_id,date,amount\na,2024-01-01,10\n";
    let mut seen = 0u64;
    let mut cb = |b: u64| seen = b;
    Transactions::read(csv.as_bytes(), &ParseOptions::default(), Some(&mut cb)).unwrap();
    assert_eq!(seen, csv.len() as u64);
}
