//! `ember score`'s error messages on hostile or broken input, end to end: a rejected row is
//! named by its line (CSV, JSON lines) or row (Parquet) in its file, values are quoted short
//! and on one line, and no message lists ember's internal columns.

mod support;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use support::*;

/// Runs `ember score --model model --input <each> --output <dir>/out.csv --quiet`, bounded in
/// time; returns (success, stderr).
fn score(model: &Path, inputs: &[&Path], dir: &Path) -> (bool, String) {
    let run = ember_score(model, inputs, dir.join("out.csv"), &["--quiet"]);
    (run.status.success(), run.stderr)
}

/// Scores one file that must fail; returns stderr.
fn failing(model: &Path, input: &Path, dir: &Path) -> String {
    let (ok, stderr) = score(model, &[input], dir);
    assert!(!ok, "expected a failure, stderr: {stderr}");
    assert!(
        !dir.join("out.csv").exists(),
        "no output is written when scoring fails"
    );
    stderr
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// A Parquet file of string columns.
fn write_parquet(dir: &Path, name: &str, columns: &[(&str, Vec<&str>)]) -> PathBuf {
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(n, _)| Field::new(*n, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let arrays: Vec<ArrayRef> = columns
        .iter()
        .map(|(_, v)| Arc::new(StringArray::from(v.clone())) as ArrayRef)
        .collect();
    let batch = RecordBatch::try_new(Arc::clone(&schema), arrays).unwrap();
    let p = dir.join(name);
    let mut w = ArrowWriter::try_new(File::create(&p).unwrap(), schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    p
}

/// The single `ember: error:` line of stderr (the run prints nothing else on failure).
fn one_line(stderr: &str) -> &str {
    let line = stderr.trim_end_matches('\n');
    assert!(
        !line.contains('\n') && !line.contains('\r'),
        "the error must be one line: {stderr:?}"
    );
    assert!(!line.contains('\u{1b}'), "no terminal escape: {stderr:?}");
    line
}

#[test]
fn csv_row_error_names_its_physical_line_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "cars.csv",
        &format!(
            "{CAR_HEADER}\n{CAR_ROW}\nmed,high,4,4,big,high\nhigh,vhigh,5more,4,big,high\n\
             vlow,high,3,2,med,high\n"
        ),
    );
    let err = failing(&car_model(), &input, dir.path());
    let line = one_line(&err);
    assert!(line.contains("line 5:"), "{line}");
    assert!(line.contains("Unseen label: vlow."), "{line}");
    assert!(line.contains("column 'buying'"), "{line}");
    // one input: the message does not need the file's name
    assert!(!line.contains("cars.csv"), "{line}");
}

#[test]
fn csv_line_counts_the_lines_of_quoted_multiline_fields() {
    let dir = tempfile::tempdir().unwrap();
    // a column the model does not read holds a field spanning three lines (lines 3-5)
    let input = write(
        dir.path(),
        "notes.csv",
        &format!(
            "{CAR_HEADER},note\n{CAR_ROW},one\n{CAR_ROW},\"two\nmore\nlines\"\n\n{CAR_ROW},x\n\
             low,med,4,2,big,vhigh-ish,y\n"
        ),
    );
    let err = failing(&car_model(), &input, dir.path());
    let line = one_line(&err);
    // header 1, rows on 2, 3-5, (blank 6), 7, and the bad one on 8
    assert!(line.contains("line 8:"), "{line}");
    assert!(line.contains("Unseen label: vhigh-ish."), "{line}");
}

#[test]
fn row_errors_name_the_file_when_there_are_several_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(
        dir.path(),
        "first.csv",
        &format!("{CAR_HEADER}\n{CAR_ROW}\n{CAR_ROW}\n{CAR_ROW}\n"),
    );
    let b = write(
        dir.path(),
        "second.csv",
        &format!("{CAR_HEADER}\n{CAR_ROW}\nlow,med,4,2,tiny,high\n"),
    );
    let (ok, err) = score(&car_model(), &[&a, &b], dir.path());
    assert!(!ok);
    let line = one_line(&err);
    assert!(line.contains("second.csv: line 3:"), "{line}");
    assert!(line.contains("Unseen label: tiny."), "{line}");
}

#[test]
fn json_lines_errors_name_the_right_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = r#"{"buying":"low","maint":"med","doors":"4","persons":"2","lug_boot":"big","safety":"high"}"#;
    // malformed second line: serde_json's own position says "line 1"
    let truncated = &good[..good.len() - 1];
    let input = write(dir.path(), "bad.jsonl", &format!("{good}\n{truncated}\n"));
    let line = one_line(&failing(&car_model(), &input, dir.path())).to_string();
    assert!(line.contains("bad.jsonl: line 2:"), "{line}");
    assert!(!line.contains("line 1"), "{line}");

    // a value of the wrong type on line 2 (an object where the first line had a string)
    let object = good.replace(r#""safety":"high""#, r#""safety":{"x":1}"#);
    let input = write(dir.path(), "typed.jsonl", &format!("{good}\n{object}\n"));
    let line = one_line(&failing(&car_model(), &input, dir.path())).to_string();
    assert!(line.contains("typed.jsonl: line 2:"), "{line}");

    // an array on line 2, after a blank line 2 (so on line 3)
    let array = good.replace(r#""safety":"high""#, r#""safety":[1]"#);
    let input = write(dir.path(), "array.jsonl", &format!("{good}\n\n{array}\n"));
    let line = one_line(&failing(&car_model(), &input, dir.path())).to_string();
    assert!(line.contains("array.jsonl: line 3:"), "{line}");

    // a row a stage rejects, after a blank line: line 4
    let unseen = good.replace(r#""buying":"low""#, r#""buying":"vlow""#);
    let input = write(
        dir.path(),
        "unseen.jsonl",
        &format!("{good}\n{good}\n\n{unseen}\n{good}\n"),
    );
    let line = one_line(&failing(&car_model(), &input, dir.path())).to_string();
    assert!(line.contains("line 4:"), "{line}");
    assert!(line.contains("Unseen label: vlow."), "{line}");
}

#[test]
fn parquet_row_error_names_its_row() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_parquet(
        dir.path(),
        "cars.parquet",
        &[
            ("buying", vec!["low", "med", "high", "nope", "low"]),
            ("maint", vec!["med"; 5]),
            ("doors", vec!["4"; 5]),
            ("persons", vec!["2"; 5]),
            ("lug_boot", vec!["big"; 5]),
            ("safety", vec!["high"; 5]),
        ],
    );
    let line = one_line(&failing(&car_model(), &input, dir.path())).to_string();
    assert!(line.contains("row 4:"), "{line}");
    assert!(line.contains("Unseen label: nope."), "{line}");
}

#[test]
fn row_numbers_hold_across_batches_and_partitions() {
    // many rows, so the plan has many batches scored on several partitions
    let dir = tempfile::tempdir().unwrap();
    let mut text = format!("{CAR_HEADER}\n");
    for _ in 0..20_000 {
        text.push_str(CAR_ROW);
        text.push('\n');
    }
    text.push_str("low,med,4,2,big,bad\n");
    let input = write(dir.path(), "many.csv", &text);
    let line = one_line(&failing(&car_model(), &input, dir.path())).to_string();
    assert!(line.contains("line 20002:"), "{line}");
    assert!(line.contains("Unseen label: bad."), "{line}");
}

#[test]
fn missing_column_errors_do_not_list_internal_columns() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_parquet(
        dir.path(),
        "partial.parquet",
        &[
            ("buying", vec!["low"]),
            ("maint", vec!["med"]),
            ("doors", vec!["4"]),
            ("persons", vec!["2"]),
            ("lug_boot", vec!["big"]),
        ],
    );
    let line = one_line(&failing(&car_model(), &input, dir.path())).to_string();
    assert!(line.contains("'safety'"), "{line}");
    assert!(
        line.contains("lug_boot"),
        "lists the input's columns: {line}"
    );
    assert!(!line.contains("__ember"), "{line}");
}

#[test]
fn a_megabyte_label_gives_a_short_error_saying_how_long_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let label = "q".repeat(1 << 20);
    let input = write(
        dir.path(),
        "long.csv",
        &format!("{CAR_HEADER}\n{CAR_ROW}\n{label},med,4,2,big,high\n"),
    );
    let err = failing(&car_model(), &input, dir.path());
    assert!(err.len() < 1024, "{} bytes: {}", err.len(), &err[..300]);
    let line = one_line(&err);
    assert!(line.contains("line 3:"), "{line}");
    assert!(line.contains("(1048576 chars in all)"), "{line}");
}

#[test]
fn values_with_newlines_and_escapes_give_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "escape.csv",
        &format!("{CAR_HEADER}\n{CAR_ROW}\n\"v\nlow\u{1b}[31m\",med,4,2,big,high\n"),
    );
    let err = failing(&car_model(), &input, dir.path());
    let line = one_line(&err);
    assert!(line.contains("line 3:"), "{line}");
    assert!(line.contains(r"Unseen label: v\nlow\u{1b}[31m."), "{line}");
}

#[test]
fn csv_reading_errors_name_the_physical_line() {
    let dir = tempfile::tempdir().unwrap();
    let model = demo_bundle();
    // a number column holding text spanning two lines (record 2, lines 3-4)
    let input = write(
        dir.path(),
        "text.csv",
        "demo:a,demo:c,demo:d\n1,2,3\n1,\"x\ny\",3\n",
    );
    let line = one_line(&failing(&model, &input, dir.path())).to_string();
    assert!(line.contains("text.csv: line 3:"), "{line}");
    assert!(line.contains(r"'x\ny'"), "{line}");
    assert!(line.contains("demo:c"), "{line}");

    // a short record after a record spanning two lines
    let input = write(
        dir.path(),
        "short.csv",
        "demo:a,demo:c,demo:d,note\n1,2,3,\"a\nb\"\n1,2,3\n",
    );
    let line = one_line(&failing(&model, &input, dir.path())).to_string();
    assert!(line.contains("short.csv: line 4:"), "{line}");

    // a 100 000-character non-number: the message stays short
    let input = write(
        dir.path(),
        "huge.csv",
        &format!(
            "demo:a,demo:c,demo:d\n1,2,3\n1,{}x,3\n",
            "7".repeat(100_000)
        ),
    );
    let err = failing(&model, &input, dir.path());
    assert!(err.len() < 1024, "{} bytes", err.len());
    assert!(one_line(&err).contains("line 3:"), "{err}");
}
