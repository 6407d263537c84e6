//! Hostile request data against the real `ember serve` binary on loopback: huge declared vector
//! sizes, sizes that used to wrap, wide request schemas, oversized values in messages, line
//! numbers in JSON errors and the empty-CSV-field rule (issue #11, "request data").
//!
//! Every socket read has a timeout and every wait a bound; only 127.0.0.1 is contacted.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::*;

/// `ember serve --model <model> --threads 1 <extra>`, answering `/ping`.
fn serve(model: &Path, extra: &[&str]) -> Serve {
    ember_serve(model)
        .args(&["--threads", "1"])
        .args(extra)
        .start()
}

/// The demo bundle's request of defect 1: `demo:a` as a vector in Spark's text form, the
/// assembled `unscaled_continuous_features` vector as the output.
fn demo_vector_request(a: &str) -> String {
    format!(
        r#"{{"schema":{{"input":[{{"name":"demo:a","type":"double","struct":"vector"}},{{"name":"demo:c","type":"double"}},{{"name":"demo:d","type":"double"}}],"output":{{"name":"unscaled_continuous_features","type":"double","struct":"vector"}}}},"data":["{a}",22.1,98.2]}}"#
    )
}

#[test]
fn a_small_request_declaring_a_huge_vector_neither_kills_nor_bloats_the_process() {
    // defect 1: size 2147483645 aborted on a 17 GB allocation; 10^8 answered 400 MB
    let mut s = serve(&demo_bundle(), &[]);
    for size in ["2147483645", "100000000"] {
        let body = demo_vector_request(&format!("({size},[0],[1.0])"));
        assert!(body.len() < 400, "the request is small: {}", body.len());
        let r = post(s.addr, "application/json", None, &body);
        assert_eq!(r.status, 400, "size {size}: {}", r.body);
        for needle in ["column 'demo:a'", size, "16777216", "--max-vector-size"] {
            assert!(r.body.contains(needle), "'{needle}' not in '{}'", r.body);
        }
        assert!(s.alive());
        assert!(ping(s.addr).is_some(), "/ping after size {size}");
    }

    // within the bound, the assembled vector (size + 2) is far above the dense-output limit:
    // it stays sparse in every answer format, a few dozen bytes
    let body = demo_vector_request("(1000000,[0],[1.0])");
    let csv = post(s.addr, "application/json", None, &body);
    assert_eq!(
        (csv.status, csv.body.as_str()),
        (200, "(1000002,[0,1000000,1000001],[1.0,22.1,98.2])")
    );
    let jsonl = post(
        s.addr,
        "application/json",
        Some("application/jsonlines"),
        &body,
    );
    assert_eq!(
        (jsonl.status, jsonl.body.as_str()),
        (
            200,
            r#"{"features":{"size":1000002,"indices":[0,1000000,1000001],"values":[1.0,22.1,98.2]}}"#
        )
    );
    let text = post(
        s.addr,
        "application/json",
        Some("application/jsonlines;data=text"),
        &body,
    );
    assert_eq!(
        (text.status, text.body.as_str()),
        (
            200,
            r#"{"source":"(1000002,[0,1000000,1000001],[1.0,22.1,98.2])"}"#
        )
    );
    // a small sparse vector is still rendered dense, as the container renders it
    let small = post(
        s.addr,
        "application/json",
        None,
        &demo_vector_request("(2,[1],[5.0])"),
    );
    assert_eq!(
        (small.status, small.body.as_str()),
        (200, "0.0,5.0,22.1,98.2")
    );
    assert!(s.alive());
}

#[test]
fn vector_sizes_never_wrap_and_never_answer_500() {
    // defect 2, with the default bound: each was a wrap (200), an abort or a 500
    let mut s = serve(&demo_bundle(), &[]);
    for (text, needle) in [
        ("(4294967298,[0],[1.0])", "4294967298"),
        ("(99999999999,[0],[1.0])", "99999999999"),
        ("(2147483647,[2147483646],[1.0])", "2147483647"),
        ("(-3,[0],[1.0])", "negative"),
        ("(5,[7],[1.0])", "out of range"),
    ] {
        let r = post(s.addr, "application/json", None, &demo_vector_request(text));
        assert_eq!(r.status, 400, "{text}: {}", r.body);
        assert!(
            r.body.contains("column 'demo:a'") && r.body.contains(needle),
            "{text}: {}",
            r.body
        );
        assert!(s.alive(), "{text}");
    }
    drop(s);

    // with the bound raised to Spark's own (i32::MAX), i32::MAX itself parses; assembling two
    // more elements onto it passes i32::MAX: the record's error, naming the stage, not a 500
    let mut s = serve(&demo_bundle(), &["--max-vector-size", "2147483647"]);
    let r = post(
        s.addr,
        "application/json",
        None,
        &demo_vector_request("(2147483647,[2147483646],[1.0])"),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body.contains("record 1") && r.body.contains("VectorAssembler"),
        "{}",
        r.body
    );
    // and one over i32::MAX is refused whatever the flag says
    let r = post(
        s.addr,
        "application/json",
        None,
        &demo_vector_request("(2147483648,[0],[1.0])"),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    // the largest size that still assembles: answered sparse, tiny
    let r = post(
        s.addr,
        "application/json",
        None,
        &demo_vector_request("(2147483645,[0],[1.0])"),
    );
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            200,
            "(2147483647,[0,2147483645,2147483646],[1.0,22.1,98.2])"
        )
    );
    assert!(s.alive());
}

#[test]
fn the_answer_size_is_bounded() {
    // a dense rendering of 1,000,002 zeros is ~4 MB: over a 1 MB answer limit, a 413
    let mut s = serve(
        &demo_bundle(),
        &[
            "--max-dense-output-size",
            "2000000",
            "--max-response-mb",
            "1",
        ],
    );
    let r = post(
        s.addr,
        "application/json",
        None,
        &demo_vector_request("(1000000,[0],[1.0])"),
    );
    assert_eq!(r.status, 413, "{}", &r.body[..r.body.len().min(200)]);
    assert!(
        r.body.contains("1048576 bytes") && r.body.contains("--max-response-mb"),
        "{}",
        r.body
    );
    assert!(s.alive());
}

/// A request for the demo bundle whose schema declares `extra` more (unused) input columns.
fn wide_request(extra: usize, tag: &str) -> String {
    let mut input = String::from(
        r#"{"name":"demo:a","type":"double"},{"name":"demo:c","type":"double"},{"name":"demo:d","type":"double"}"#,
    );
    let mut data = String::from("1.0,2.0,3.0");
    for i in 0..extra {
        input.push_str(&format!(r#",{{"name":"{tag}{i}","type":"double"}}"#));
        data.push_str(",0.5");
    }
    format!(
        r#"{{"schema":{{"input":[{input}],"output":{{"name":"demo:prediction","type":"double"}}}},"data":[{data}]}}"#
    )
}

#[test]
fn wide_request_schemas_are_bounded_and_do_not_stall_the_serving_thread() {
    // defect 3: 16,000 extra columns took 20.8 s, and /ping on the same thread waited as long
    let mut s = serve(&demo_bundle(), &[]);
    let baseline = post(s.addr, "application/json", None, &wide_request(0, "x"));
    assert_eq!(baseline.status, 200, "{}", baseline.body);

    let started = Instant::now();
    let r = post(s.addr, "application/json", None, &wide_request(16_000, "x"));
    assert_eq!(r.status, 400, "{}", &r.body[..r.body.len().min(300)]);
    assert!(
        r.body.contains("16003 input columns")
            && r.body.contains("4096")
            && r.body.contains("--max-schema-columns"),
        "{}",
        r.body
    );
    assert!(
        r.body.len() < 1000,
        "a short message: {} bytes",
        r.body.len()
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refused in {:?}",
        started.elapsed()
    );

    // just within the limit, with new names each time (no cache): answered, and /ping on the
    // only serving thread keeps answering meanwhile
    for round in 0..2 {
        let body = wide_request(4096 - 3, &format!("r{round}_"));
        let addr = s.addr;
        let scoring = std::thread::spawn(move || {
            let started = Instant::now();
            let r = post(addr, "application/json", None, &body);
            (r.status, r.body, started.elapsed())
        });
        let mut slowest = Duration::ZERO;
        let mut pings = 0;
        while !scoring.is_finished() && pings < 200 {
            let took = ping(addr).expect("/ping answers while a wide schema compiles");
            slowest = slowest.max(took);
            pings += 1;
            std::thread::sleep(Duration::from_millis(10));
        }
        let (status, answer, took) = scoring.join().unwrap();
        assert_eq!(status, 200, "{}", &answer[..answer.len().min(300)]);
        assert_eq!(answer, baseline.body, "the extra columns change nothing");
        assert!(
            took < Duration::from_secs(15),
            "a 4096-column schema took {took:?}"
        );
        assert!(
            slowest < Duration::from_secs(2),
            "/ping waited {slowest:?} behind a wide schema"
        );
    }
    assert!(s.alive());
}

#[test]
fn messages_quote_values_short_and_name_the_right_place() {
    let mut s = serve(&demo_bundle(), &[]);
    let schema = r#"{"input":[{"name":"demo:a","type":"double"},{"name":"demo:c","type":"double"},{"name":"demo:d","type":"double"}],"output":{"name":"demo:prediction","type":"double"}}"#;

    // a 5 MB field in a double column: the 400 quotes 100 characters of it
    let huge = "7".repeat(5 * 1024 * 1024) + "x";
    let body = format!(r#"{{"schema":{schema},"data":["{huge}",1.0,2.0]}}"#);
    let r = post(s.addr, "application/json", None, &body);
    assert_eq!(r.status, 400);
    assert!(
        r.body.len() < 1000 && r.body.contains("column 'demo:a'"),
        "{} bytes: {}",
        r.body.len(),
        &r.body[..r.body.len().min(300)]
    );
    assert!(
        r.body.contains(&format!("{} chars in all", huge.len())),
        "{}",
        r.body
    );

    // an application/json body over several lines: the bad value is on line 4, in record 2;
    // the message must not point at line 1
    let body = format!(
        "{{\"schema\": {schema},\n \"data\": [\n  [1.0, 2.0, 3.0],\n  [1.0, \"abc\", 3.0]\n]}}"
    );
    let r = post(s.addr, "application/json", None, &body);
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body.contains("record 2") && r.body.contains("column 'demo:c'"),
        "{}",
        r.body
    );
    assert!(!r.body.contains("line 1"), "{}", r.body);
    // JSON lines: the line is the record's own
    let line = format!(r#"{{"schema":{schema},"data":[1.0,2.0,3.0]}}"#);
    let r = post(
        s.addr,
        "application/jsonlines",
        None,
        &format!("{line}\n{{\"data\":[1.0,\"abc\",3.0]}}"),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("line 2"), "{}", r.body);
    assert!(s.alive());
}

#[test]
fn an_empty_csv_field_is_null_in_serve_and_score_alike() {
    // Spark's CSV reader (4.0.1, checked): an empty field, quoted or not, is null in every
    // column, strings included; the car model's StringIndexer (handleInvalid = error) then
    // fails on the NULL, where an empty string would be an unseen label
    let s = ember_serve(&car_model())
        .args(&["--threads", "1"])
        .env("SAGEMAKER_SPARKML_SCHEMA", &car_schema())
        .start();
    for record in [",med,4,2,big,high", "\"\",med,4,2,big,high"] {
        let r = post(s.addr, "text/csv", None, record);
        assert_eq!(r.status, 400, "{record}: {}", r.body);
        assert!(
            r.body.contains("NULL value") && r.body.contains("'buying'"),
            "{record}: {}",
            r.body
        );
    }
    drop(s);

    let dir = tempfile::tempdir().unwrap();
    for (name, row) in [
        ("unquoted", ",med,4,2,big,high"),
        ("quoted", "\"\",med,4,2,big,high"),
    ] {
        let input = dir.path().join(format!("{name}.csv"));
        std::fs::write(&input, format!("{CAR_HEADER}\n{row}\n")).unwrap();
        let out = ember_score(
            &car_model(),
            &[&input],
            dir.path().join(format!("{name}.out.csv")),
            &["--quiet"],
        );
        let stderr = &out.stderr;
        assert!(!out.status.success(), "{name}: {stderr}");
        assert!(stderr.contains("NULL value"), "{name}: {stderr}");
    }
}
