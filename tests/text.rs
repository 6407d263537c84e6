//! The text stages beyond the Spark fixtures: array<string> at the edges (CSV input refused,
//! CSV text form, other list encodings), null rows, Spark's input type check.

mod common;

use std::sync::Arc;

use arrow::array::{
    ArrayRef, Int32Array, LargeListBuilder, RecordBatch, StringArray, StringViewBuilder,
};
use arrow::datatypes::{DataType, Field, Schema};
use common::*;
use ember::udfs::text::StringListBuilder;
use ember::{EmberError, Pipeline};
use ember_engine::io::CellWriter;

fn model(case: &str) -> Pipeline {
    Pipeline::load(root().join("tests/fixtures/spark").join(case).join("model")).unwrap()
}

#[test]
fn csv_input_cannot_hold_the_token_arrays() {
    let p = model("text_hashing_tf");
    let err = p
        .read_schema(&["id".to_string(), "tokens".to_string()])
        .unwrap_err();
    assert!(matches!(err, EmberError::Data { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("'tokens'") && text.contains("CSV"), "{text}");
    // a string input (the Tokenizer's) reads from CSV as usual
    let p = model("text_pipeline");
    assert!(p.read_schema(&["id".into(), "text".into()]).is_ok());
}

#[test]
fn a_null_row_is_an_error_naming_stage_and_column() {
    let p = model("text_pipeline");
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int32, true),
        Field::new("text", DataType::Utf8, true),
    ]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(Int32Array::from(vec![1, 2])),
            Arc::new(StringArray::from(vec![Some("a b"), None])),
        ],
    )
    .unwrap();
    let err = p.compile(schema).unwrap().evaluate(&batch).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("Tokenizer")
            && text.contains("'text'")
            && text.contains("NullPointerException"),
        "{text}"
    );
}

#[test]
fn tokenizer_input_must_be_a_string_as_in_spark() {
    let p = model("text_tokenizers");
    let schema = Schema::new(vec![Field::new("text", DataType::Float64, true)]);
    let err = p.compile(Arc::new(schema)).unwrap_err().to_string();
    assert!(
        err.contains("Input type must be string type but got"),
        "{err}"
    );
}

#[test]
fn other_list_encodings_give_the_same_result() {
    let p = model("text_hashing_tf");
    let rows: [&[Option<&str>]; 3] = [
        &[Some("a"), None, Some("ünï")],
        &[],
        &[Some("the"), Some("the")],
    ];
    // ember's layout
    let mut b = StringListBuilder::with_capacity(3);
    for r in rows {
        b.row(r.iter().copied());
    }
    let canonical: ArrayRef = b.finish();
    // LargeList<Utf8View> with another item name
    let mut l = LargeListBuilder::new(StringViewBuilder::new()).with_field(Arc::new(Field::new(
        "item",
        DataType::Utf8View,
        true,
    )));
    for r in rows {
        for t in r {
            l.values().append_option(*t);
        }
        l.append(true);
    }
    let other: ArrayRef = Arc::new(l.finish());
    let score = |a: ArrayRef| {
        let schema = Arc::new(Schema::new(vec![Field::new(
            "tokens",
            a.data_type().clone(),
            true,
        )]));
        let batch = RecordBatch::try_new(Arc::clone(&schema), vec![a]).unwrap();
        p.compile(schema).unwrap().evaluate(&batch).unwrap()
    };
    let (x, y) = (score(canonical), score(other));
    for name in ["tf", "tf_17", "tf_bin", "tf_1"] {
        compare_column(
            name,
            x.column_by_name(name).unwrap(),
            y.column_by_name(name).unwrap(),
        )
        .unwrap();
    }
}

#[test]
fn arrays_as_text_use_sparks_cast_form() {
    let mut b = StringListBuilder::with_capacity(2);
    b.row([Some("a"), None, Some("b c")]);
    b.row([]);
    let a = b.finish();
    let w = CellWriter::new(&a).unwrap();
    let (mut t0, mut t1, mut j0) = (String::new(), String::new(), String::new());
    w.text(0, &mut t0).unwrap();
    w.text(1, &mut t1).unwrap();
    w.json(0, &mut j0).unwrap();
    assert_eq!(t0, "[a, null, b c]");
    assert_eq!(t1, "[]");
    assert_eq!(j0, r#"["a",null,"b c"]"#);
}

/// MLeap's `word_filter` op has no Spark class (so no Spark fixture): it loads from a bundle,
/// reads `length`, and keeps only all-letter tokens longer than it.
#[test]
fn mleap_word_filter_loads_and_filters() {
    let dir = tempfile::tempdir().unwrap();
    write_bundle(
        dir.path(),
        &[
            (
                "tok",
                "tokenizer",
                serde_json::json!({}),
                &[("input", "text")],
                &[("output", "words")],
            ),
            (
                "wf",
                "word_filter",
                serde_json::json!({"length": {"int": 4}}),
                &[("input", "words")],
                &[("output", "long_words")],
            ),
        ],
    );
    let p = Pipeline::load(dir.path()).unwrap();
    assert_eq!(p.stages()[1].params(), vec![("length", "4".to_string())]);
    let schema = Arc::new(Schema::new(vec![Field::new("text", DataType::Utf8, true)]));
    let text = "Short words and LONGER ones, 12345 digits naïve 😀emoji";
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![Arc::new(StringArray::from(vec![text]))],
    )
    .unwrap();
    let out = p.compile(schema).unwrap().evaluate(&batch).unwrap();
    let col = |name: &str| {
        let a = out.column_by_name(name).unwrap();
        let l = arrow::array::AsArray::as_list::<i32>(a.as_ref()).value(0);
        let s = arrow::array::AsArray::as_string::<i32>(l.as_ref()).clone();
        s.iter().map(|t| t.unwrap().to_string()).collect::<Vec<_>>()
    };
    let (words, kept) = (col("words"), col("long_words"));
    let expected: Vec<String> = words
        .iter()
        .filter(|w| w.chars().all(char::is_alphabetic) && w.chars().count() > 4)
        .cloned()
        .collect();
    assert_eq!(kept, expected);
    assert!(kept.contains(&"longer".to_string()) && !kept.contains(&"ones,".to_string()));
}
