//! An export's manifests read independently of the exporter: `manifest.jsonl`, and
//! `manifest.csv` parsed by an RFC 4180 reader written here.

use super::read;
use serde_json::Value;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Row {
    pub source: String,
    pub exported: String,
    pub title: String,
    pub date: String,
    pub sha256: String,
}

/// RFC 4180 CSV, written here from scratch (quoted fields may hold `,`, `"` and newlines).
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    field.push('"');
                    chars.next();
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
        } else {
            match c {
                '"' => quoted = true,
                ',' => row.push(std::mem::take(&mut field)),
                '\n' => {
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                }
                _ => field.push(c),
            }
        }
    }
    assert!(!quoted, "the CSV ends inside a quoted field");
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

/// The rows of `manifest.jsonl` and `manifest.csv` (which must agree), from their bytes.
pub fn manifest_rows(jsonl: &[u8], csv: &[u8]) -> Vec<Row> {
    let jsonl = std::str::from_utf8(jsonl).expect("manifest.jsonl is UTF-8");
    let rows: Vec<Row> = jsonl
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
            Row {
                source: s("source"),
                exported: s("exported"),
                title: s("title"),
                date: s("date"),
                sha256: s("sha256"),
            }
        })
        .collect();
    let csv = parse_csv(std::str::from_utf8(csv).expect("manifest.csv is UTF-8"));
    assert_eq!(
        csv.first().map(|h| h.join(",")).as_deref(),
        Some("source,exported,title,date,sha256")
    );
    let from_csv: Vec<Row> = csv[1..]
        .iter()
        .map(|r| {
            assert_eq!(r.len(), 5, "a CSV row of {} fields: {r:?}", r.len());
            Row {
                source: r[0].clone(),
                exported: r[1].clone(),
                title: r[2].clone(),
                date: r[3].clone(),
                sha256: r[4].clone(),
            }
        })
        .collect();
    // The CSV holds each value with OWASP's `'` before a cell that could start a formula.
    let want_csv: Vec<Row> = rows
        .iter()
        .map(|r| Row {
            source: neutral(&r.source),
            exported: neutral(&r.exported),
            title: neutral(&r.title),
            date: neutral(&r.date),
            sha256: neutral(&r.sha256),
        })
        .collect();
    assert_eq!(want_csv, from_csv, "manifest.csv and manifest.jsonl differ");
    rows
}

pub fn read_manifest(out: &Path) -> Vec<Row> {
    manifest_rows(
        &read(&out.join("manifest.jsonl")),
        &read(&out.join("manifest.csv")),
    )
}

/// What OWASP's advice makes of a CSV cell (computed here, not by the exporter): a cell that
/// begins with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`.
pub fn neutral(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}
