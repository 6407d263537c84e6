//! The stage table ([`ember::stages::DECLS`]) against what documents and tests it:
//!
//! * every declared Spark class is saved in some parity fixture (a `metadata/part-*` of a
//!   `tests/fixtures/spark*/*/model/` directory), and every declared MLeap op is in some
//!   bundle (`tests/fixtures/spark*/*/bundle/`, or the real bundles of
//!   `tests/fixtures/mleap-upstream/`, zips within zips included);
//! * the README's "Supported stages" tables list exactly the declared classes and ops, each op
//!   on the row of the class it loads onto.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Read};
use std::path::Path;

use ember::stages::{StageDecl, declarations};
use serde_json::Value as Json;

/// Built into the format readers rather than declared by a stage module.
const BUILT_IN_CLASSES: &[&str] = &[
    "org.apache.spark.ml.PipelineModel",
    "pyspark.ml.pipeline.PipelineModel",
];
const BUILT_IN_OP: &str = "pipeline";

fn short(class: &str) -> &str {
    class.rsplit('.').next().unwrap_or(class)
}

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// The class of every saved stage and the op of every bundle node under the fixtures.
fn fixture_classes_and_ops() -> (BTreeSet<String>, BTreeSet<String>) {
    let fixtures = common::root().join("tests/fixtures");
    let mut files = Vec::new();
    for set in std::fs::read_dir(&fixtures).unwrap().flatten() {
        let name = set.file_name().to_string_lossy().to_string();
        if name.starts_with("spark") || name == "mleap-upstream" {
            walk(&set.path(), &mut files);
        }
    }
    let (mut classes, mut ops) = (BTreeSet::new(), BTreeSet::new());
    for f in &files {
        let path = f.to_string_lossy().replace('\\', "/");
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        if path.contains("/metadata/") && name.starts_with("part-") {
            let text = std::fs::read_to_string(f).unwrap();
            let first = text.lines().next().unwrap_or_default();
            let meta: Json =
                serde_json::from_str(first).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            if let Some(c) = meta["class"].as_str() {
                classes.insert(c.to_string());
            }
        } else if name == "model.json" {
            let v: Json = serde_json::from_str(&std::fs::read_to_string(f).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            if let Some(op) = v["op"].as_str() {
                ops.insert(op.to_string());
            }
        } else if name.ends_with(".zip") {
            zip_ops(&std::fs::read(f).unwrap(), &mut ops);
        }
    }
    (classes, ops)
}

/// The ops of every `model.json` in a zip, and in the zips it holds.
fn zip_ops(bytes: &[u8], ops: &mut BTreeSet<String>) {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).unwrap();
        let name = entry.name().unwrap().to_string();
        if name.ends_with(".zip") || name.ends_with("model.json") {
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            if name.ends_with(".zip") {
                zip_ops(&data, ops);
            } else if let Ok(v) = serde_json::from_slice::<Json>(&data)
                && let Some(op) = v["op"].as_str()
            {
                ops.insert(op.to_string());
            }
        }
    }
}

#[test]
fn every_declared_class_and_op_has_a_fixture() {
    let (classes, ops) = fixture_classes_and_ops();
    assert!(classes.len() > 20 && ops.len() > 20, "{classes:?} {ops:?}");
    let mut missing = Vec::new();
    for d in declarations() {
        if d.spark.is_some() && !classes.contains(d.class) {
            missing.push(format!("Spark class {}", d.class));
        }
        if let Some(op) = d.op()
            && !ops.contains(op)
        {
            missing.push(format!("MLeap op {op}"));
        }
    }
    assert!(
        missing.is_empty(),
        "declared without a parity fixture (add a case to scripts/gen_spark_fixtures.py, or \
         an MLeap writer to scripts/mleap_bundle_writer.py): {missing:?}"
    );
}

/// Backquoted names in a table cell.
fn names(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The rows of the README's "Supported stages" tables: (first cell's names, second cell's
/// names) per row, for the Spark-class table and the MLeap-op table.
type Rows = Vec<(Vec<String>, Vec<String>)>;

fn readme_tables() -> (Rows, Rows) {
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let section = readme
        .split("\n## Supported stages")
        .nth(1)
        .expect("README has a 'Supported stages' section");
    let section = section.split("\n## ").next().unwrap();
    let (mut spark, mut mleap) = (Vec::new(), Vec::new());
    let mut table: Option<&mut Rows> = None;
    for line in section.lines() {
        let line = line.trim();
        if !line.starts_with('|') {
            table = None;
            continue;
        }
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        match cells[0] {
            "Spark class" => {
                table = Some(&mut spark);
                continue;
            }
            "MLeap op" => {
                table = Some(&mut mleap);
                continue;
            }
            c if c.starts_with("---") => continue,
            _ => {}
        }
        let t = table
            .as_deref_mut()
            .expect("a table row outside the two tables");
        let second = if cells.len() > 1 {
            names(cells[1])
        } else {
            vec![]
        };
        t.push((names(cells[0]), second));
    }
    (spark, mleap)
}

#[test]
fn readme_stage_tables_list_exactly_the_declared_classes_and_ops() {
    let (spark_rows, mleap_rows) = readme_tables();
    assert!(spark_rows.len() > 20 && mleap_rows.len() > 5);
    let mut problems = Vec::new();

    // the Spark-class table: each row's classes and the ops loading onto them
    let decls: BTreeMap<&str, &StageDecl> = declarations()
        .filter(|d| d.spark.is_some())
        .map(|d| (short(d.class), d))
        .collect();
    let mut listed = BTreeSet::new();
    for (classes, ops) in &spark_rows {
        let expected_ops: BTreeSet<String> = classes
            .iter()
            .filter_map(|c| decls.get(c.as_str()).and_then(|d| d.op()))
            .map(str::to_string)
            .collect();
        for c in classes {
            if BUILT_IN_CLASSES.iter().any(|b| short(b) == c) {
                continue;
            }
            if !decls.contains_key(c.as_str()) {
                problems.push(format!(
                    "README lists Spark class {c}, which is not declared"
                ));
            }
            listed.insert(c.clone());
        }
        let row_ops: BTreeSet<String> = ops.iter().filter(|o| *o != BUILT_IN_OP).cloned().collect();
        if !classes
            .iter()
            .any(|c| BUILT_IN_CLASSES.iter().any(|b| short(b) == c))
            && row_ops != expected_ops
        {
            problems.push(format!(
                "README row {classes:?} lists ops {row_ops:?}; the declarations give {expected_ops:?}"
            ));
        }
    }
    for c in decls.keys() {
        if !listed.contains(*c) {
            problems.push(format!(
                "Spark class {c} is declared but not in the README table"
            ));
        }
    }

    // the MLeap-op table: the ops without a Spark class
    let mleap_only: BTreeSet<&str> = declarations()
        .filter(|d| d.spark.is_none())
        .filter_map(|d| d.op())
        .collect();
    let mut listed_ops = BTreeSet::new();
    for (ops, _) in &mleap_rows {
        for op in ops {
            if !mleap_only.contains(op.as_str()) {
                problems.push(format!(
                    "README's MLeap-op table lists {op}, which is not a declared MLeap-only op"
                ));
            }
            listed_ops.insert(op.clone());
        }
    }
    for op in &mleap_only {
        if !listed_ops.contains(*op) {
            problems.push(format!(
                "MLeap-only op {op} is declared but not in the README's MLeap-op table"
            ));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
