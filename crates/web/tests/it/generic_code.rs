//! Generic code (the record engine and every service around it, the API, the UI, templates and
//! scripts) learns the entities from the registry and never names one (DESIGN.md section 3). A
//! name spelt out there is a special case that the next entity would have to edit.

use std::path::{Path, PathBuf};

/// What is not generic: the area modules that declare entities and the migrations that create
/// their tables. (The demo and benchmark data generators live in their own crate, guanxi-seed.)
const NOT_GENERIC: &[&str] = &["crates/core/src/areas", "crates/core/src/db/migrations"];

const GENERIC: &[&str] = &[
    "crates/core/src",
    "crates/web/src",
    "crates/web/templates",
    "crates/web/assets",
];

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn generic_code_names_no_entity() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut paths = Vec::new();
    for dir in GENERIC {
        files(&root.join(dir), &mut paths);
    }
    let registry = guanxi_core::areas::registry();
    let mut patterns = Vec::new();
    for def in registry.all() {
        for code in [def.name, def.plural] {
            patterns.push(format!("\"{code}\""));
            patterns.push(format!("'{code}'"));
            patterns.push(format!("\"/{code}"));
            patterns.push(format!("/{code}/"));
            patterns.push(format!("entity-{code}\""));
            patterns.push(format!("nav-{code}\""));
        }
        patterns.push(def.plural.to_uppercase());
    }
    let mut found = Vec::new();
    for path in &paths {
        let rel = path
            .strip_prefix(&root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/");
        if NOT_GENERIC.iter().any(|n| rel.starts_with(n)) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for p in &patterns {
                if code.contains(p.as_str()) {
                    found.push(format!("{rel}:{}: {}", i + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "generic code names entities:\n{}",
        found.join("\n")
    );
}
