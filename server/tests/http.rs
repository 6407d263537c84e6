//! The SageMaker SparkML Serving contract over real HTTP on loopback: every case of the
//! original container's test suite (docs/SERVING.md lists them), every type and struct, every
//! Accept value, multi-record bodies, every error row, and predictions checked against Spark's
//! output and `ember score`.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use arrow::array::{Array, AsArray};
use ember_server::serve::scorer::Coalesce;
use ember_server::serve::{ServeConfig, Server};
use support::common::*;
use support::*;

// ---------------------------------------------------------------------------------------------
// servers

struct TestServer {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn empty_bundle() -> PathBuf {
    root().join("tests/fixtures/mleap-upstream/sagemaker-empty-pipeline")
}

/// The Spark fixture's car-evaluation model, whose outputs tests/fixtures/spark/car_evaluation
/// holds.
fn spark_car_model() -> PathBuf {
    root().join("tests/fixtures/spark/car_evaluation/model")
}

fn config(model: PathBuf, schema: Option<&str>, accept: Option<&str>) -> ServeConfig {
    ServeConfig {
        model,
        host: "127.0.0.1".into(),
        port: 0,
        max_body_bytes: 6 * 1024 * 1024,
        coalesce: Coalesce::Off,
        schema: schema.map(str::to_string),
        default_accept: accept.map(str::to_string),
        bundle_limits: ember_engine::BundleLimits::default(),
        workers: 2,
        conn: Default::default(),
        data_limits: Default::default(),
    }
}

fn start(config: ServeConfig) -> TestServer {
    let (tx, rx) = std::sync::mpsc::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            match Server::bind(&config).await {
                Ok(server) => {
                    tx.send(Ok(server.local_addr().unwrap())).unwrap();
                    server
                        .run(async {
                            let _ = stopped.await;
                        })
                        .await
                        .unwrap();
                }
                Err(e) => tx.send(Err(e)).unwrap(),
            }
        });
    });
    let addr = rx.recv().unwrap().expect("server starts");
    TestServer {
        addr,
        stop: Some(stop),
        thread: Some(thread),
    }
}

fn start_err(config: ServeConfig) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    match rt.block_on(Server::bind(&config)) {
        Ok(_) => panic!("expected the server to refuse to start"),
        Err(e) => e,
    }
}

// the original container's test fixture schemas
const TEST_SCHEMA: &str = r#"{"input":[{"name":"test_name_1","type":"int"},{"name":"test_name_2","type":"double"}],"output":{"name":"test_name_1","type":"int"}}"#;
const JSONL_SCHEMA: &str = r#"{"input":[{"name":"test_name_1","type":"int"},{"name":"test_name_2","type":"double"},{"name":"test_name_3","type":"string"}],"output":{"name":"test_name_3","type":"string"}}"#;
const BASIC_SCHEMA: &str = r#"{"input":[{"name":"name_1","type":"int"},{"name":"name_2","type":"string"},{"name":"name_3","type":"double"}],"output":{"name":"name_3","type":"double"}}"#;

fn car_schema_for(output: &str, ty: &str, structure: &str) -> String {
    let cols: Vec<String> = ["buying", "maint", "doors", "persons", "lug_boot", "safety"]
        .iter()
        .map(|c| format!(r#"{{"name":"{c}","type":"string"}}"#))
        .collect();
    format!(
        r#"{{"input":[{}],"output":{{"name":"{output}","type":"{ty}","struct":"{structure}"}}}}"#,
        cols.join(",")
    )
}

// ---------------------------------------------------------------------------------------------
// routes

#[test]
fn ping_execution_parameters_metrics_and_routing() {
    let s = start(config(empty_bundle(), None, None));
    let r = http(s.addr, "GET", "/ping", &[], b"");
    assert_eq!((r.status, r.body.as_str()), (200, ""));
    assert!(r.header("content-type").is_none(), "{:?}", r.headers);
    assert_eq!(http(s.addr, "GET", "/ping/", &[], b"").status, 200);

    let r = http(s.addr, "GET", "/execution-parameters", &[], b"");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let cores = std::thread::available_parallelism().unwrap().get();
    assert_eq!(
        r.body,
        format!(
            r#"{{"MaxConcurrentTransforms":{cores},"BatchStrategy":"MULTI_RECORD","MaxPayloadInMB":6}}"#
        )
    );

    assert_eq!(http(s.addr, "GET", "/nope", &[], b"").status, 404);
    let r = http(s.addr, "GET", "/invocations", &[], b"");
    assert_eq!(r.status, 405);
    assert!(r.header("allow").is_some_and(|a| a.contains("POST")));
    assert_eq!(http(s.addr, "POST", "/ping", &[], b"").status, 405);

    let m = http(s.addr, "GET", "/metrics", &[], b"").body;
    assert!(
        m.contains(r#"ember_http_requests_total{route="ping",status="200"} 2"#),
        "{m}"
    );
    assert!(
        m.contains(r#"ember_http_requests_total{route="invocations",status="405"} 1"#),
        "{m}"
    );
    assert!(m.contains("ember_model_load_seconds"), "{m}");
    assert!(
        m.contains("ember_invocation_duration_seconds_bucket"),
        "{m}"
    );
}

#[test]
fn request_ids_and_invocation_metrics() {
    let s = start(config(empty_bundle(), Some(BASIC_SCHEMA), None));
    // the caller's id is echoed, SageMaker's header first
    let h = [
        ("Content-Type", "text/csv"),
        ("X-Amzn-RequestId", "abc-123"),
        ("X-Request-Id", "other"),
    ];
    let r = http(s.addr, "POST", "/invocations", &h, b"1,C,2.0");
    assert_eq!((r.status, r.body.as_str()), (200, "2.0"));
    assert_eq!(r.header("x-request-id"), Some("abc-123"));
    let r = http(
        s.addr,
        "POST",
        "/invocations",
        &[("Content-Type", "text/csv"), ("X-Request-Id", "mine")],
        b"1,C,2.0",
    );
    assert_eq!(r.header("x-request-id"), Some("mine"));
    // otherwise each response gets its own id, on every route and on errors too
    let ids: Vec<String> = [
        post(s.addr, "text/csv", None, "1,C,2.0"),
        post(s.addr, "text/csv", None, "1,C"),
        http(s.addr, "GET", "/ping", &[], b""),
        http(s.addr, "GET", "/nope", &[], b""),
    ]
    .iter()
    .map(|r| r.header("x-request-id").expect("an id").to_string())
    .collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
    // the direct /invocations path is counted and timed like every other route
    let m = http(s.addr, "GET", "/metrics", &[], b"").body;
    for line in [
        r#"ember_http_requests_total{route="invocations",status="200"} 3"#,
        r#"ember_http_requests_total{route="invocations",status="400"} 1"#,
        r#"ember_http_requests_total{route="other",status="404"} 1"#,
        "ember_invocation_duration_seconds_count 4",
        "ember_records_total 3",
    ] {
        assert!(m.contains(line), "'{line}' not in {m}");
    }
}

// ---------------------------------------------------------------------------------------------
// the original container's ServingControllerTest and ResponseHelperTest cases (identity pipeline)

#[test]
fn single_value_for_every_accept() {
    let s = start(config(empty_bundle(), None, None));
    let body = format!(r#"{{"schema":{TEST_SCHEMA},"data":[1,2.0]}}"#);
    for (accept, ct) in [
        (Some("text/csv"), "text/csv"),
        (Some("application/jsonlines"), "application/jsonlines"),
        (
            Some("application/jsonlines;data=text"),
            "application/jsonlines",
        ),
        (None, "text/csv"),
        (Some("*/*"), "text/csv"),
    ] {
        let r = post(s.addr, "application/json", accept, &body);
        assert_eq!((r.status, r.body.as_str()), (200, "1"), "{accept:?}");
        assert_eq!(r.header("content-type"), Some(ct), "{accept:?}");
    }
}

#[test]
fn list_outputs_in_every_shape() {
    let s = start(config(empty_bundle(), None, None));
    let ask = |out: &str, ty: &str, st: &str, accept: Option<&str>| {
        let body = format!(
            r#"{{"schema":{{"input":[{{"name":"a","type":"int","struct":"array"}},{{"name":"v","type":"double","struct":"vector"}},{{"name":"w","type":"string","struct":"array"}}],"output":{{"name":"{out}","type":"{ty}","struct":"{st}"}}}},"data":[[1,2],[1.0,0.2],["this","is","spark","ml","server"]]}}"#
        );
        post(s.addr, "application/json", accept, &body)
    };
    let r = ask("a", "int", "array", Some("text/csv"));
    assert_eq!(
        (r.status, r.body.as_str(), r.header("content-type")),
        (200, "1,2", Some("text/csv"))
    );
    assert_eq!(ask("a", "int", "array", None).body, "1,2");
    let r = ask("a", "int", "array", Some("application/jsonlines"));
    assert_eq!(
        (r.body.as_str(), r.header("content-type")),
        (r#"{"features":[1,2]}"#, Some("application/jsonlines"))
    );
    assert_eq!(
        ask("a", "int", "array", Some("application/jsonlines;data=text")).body,
        r#"{"source":"1 2"}"#
    );
    assert_eq!(
        ask("v", "double", "vector", Some("text/csv")).body,
        "1.0,0.2"
    );
    assert_eq!(
        ask("v", "double", "vector", Some("application/jsonlines")).body,
        r#"{"features":[1.0,0.2]}"#
    );
    let r = ask(
        "w",
        "string",
        "array",
        Some("application/jsonlines;data=text"),
    );
    assert_eq!(
        (r.status, r.body.as_str()),
        (200, r#"{"source":"this is spark ml server"}"#),
        "{}",
        r.body
    );
    assert_eq!(
        ask("w", "string", "array", Some("text/csv")).body,
        "this,is,spark,ml,server"
    );
}

#[test]
fn csv_uses_the_environment_schema() {
    let env = TEST_SCHEMA.replace(
        r#""output":{"name":"test_name_1","type":"int"}"#,
        r#""output":{"name":"test_name_2","type":"double"}"#,
    );
    let s = start(config(empty_bundle(), Some(&env), None));
    let r = post(s.addr, "text/csv", Some("text/csv"), "1,2.0");
    assert_eq!(
        (r.status, r.body.as_str(), r.header("content-type")),
        (200, "2.0", Some("text/csv"))
    );
    // quoted fields are accepted (DataConversionHelperTest)
    let s = start(config(empty_bundle(), Some(BASIC_SCHEMA), None));
    for body in ["2,C,34.5", "2,\"C\",34.5"] {
        let r = post(s.addr, "text/csv", None, body);
        assert_eq!((r.status, r.body.as_str()), (200, "34.5"), "{body}");
    }
    let name_2 = BASIC_SCHEMA.replace(
        r#""output":{"name":"name_3","type":"double"}"#,
        r#""output":{"name":"name_2","type":"string"}"#,
    );
    let s = start(config(empty_bundle(), Some(&name_2), None));
    assert_eq!(post(s.addr, "text/csv", None, "2,\"C\",34.5").body, "C");
}

#[test]
fn json_lines_bodies_give_one_line_per_record() {
    let s = start(config(empty_bundle(), Some(JSONL_SCHEMA), None));
    // the original test's bodies A, B and C
    let a = r#"{"data":[[1,2.0,"TEST1"], [2,3.0,"TEST"]]}"#;
    let b = "{\"data\":[1,2.0,\"TEST1\"]}\n{\"data\":[2,3.0,\"TEST\"]}";
    let c = format!("{a}\n{b}");
    for (body, want) in [
        (a.to_string(), "TEST1\nTEST"),
        (b.to_string(), "TEST1\nTEST"),
        (c, "TEST1\nTEST\nTEST1\nTEST"),
    ] {
        let r = post(s.addr, "application/jsonlines", Some("text/csv"), &body);
        assert_eq!((r.status, r.body.as_str()), (200, want), "{body}");
    }
    // testProcessInputDataForJsonLines: the schema on the first line, no environment schema
    let s = start(config(empty_bundle(), None, None));
    let body = format!(
        "{{\"schema\":{JSONL_SCHEMA},\"data\":[[1,2.0,\"TEST1\"], [2,3.0,\"TEST\"]]}}\n{{\"data\":[1,2.0,\"TEST1\"]}}\n{{\"data\":[2,3.0,\"TEST\"]}}"
    );
    let r = post(s.addr, "application/jsonlines", None, &body);
    assert_eq!(
        (r.status, r.body.as_str()),
        (200, "TEST1\nTEST\nTEST1\nTEST")
    );
    // vectors per record with every jsonlines Accept
    let vs = r#"{"schema":{"input":[{"name":"v","type":"double","struct":"vector"}],"output":{"name":"v","type":"double","struct":"vector"}},"data":[[1.0,2.0]]}
{"data":[[3.0,4.0]]}"#;
    let r = post(
        s.addr,
        "application/jsonlines",
        Some("application/jsonlines"),
        vs,
    );
    assert_eq!(r.body, "{\"features\":[1.0,2.0]}\n{\"features\":[3.0,4.0]}");
    let r = post(
        s.addr,
        "application/jsonlines",
        Some("application/jsonlines;data=text"),
        vs,
    );
    assert_eq!(r.body, "{\"source\":\"1.0 2.0\"}\n{\"source\":\"3.0 4.0\"}");
}

#[test]
fn accept_defaults_and_rejections() {
    // env default applies to absent and */* Accept
    let s = start(config(
        empty_bundle(),
        Some(TEST_SCHEMA),
        Some("application/jsonlines;data=text"),
    ));
    let r = post(s.addr, "text/csv", None, "1,2.0");
    assert_eq!(r.header("content-type"), Some("application/jsonlines"));
    let r = post(s.addr, "text/csv", Some("*/*"), "1,2.0");
    assert_eq!(r.header("content-type"), Some("application/jsonlines"));
    let r = post(s.addr, "text/csv", Some("text/csv"), "1,2.0");
    assert_eq!(r.header("content-type"), Some("text/csv"));
    // an unsupported Accept: the original's 400 and message
    let r = post(s.addr, "text/csv", Some("application/json"), "1,2.0");
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            400,
            "Accept value passed via request or environment variable is not valid"
        )
    );
    // an unusable env default stops start-up
    let e = start_err(config(
        empty_bundle(),
        Some(TEST_SCHEMA),
        Some("application/json"),
    ));
    assert!(e.contains("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT"), "{e}");
}

#[test]
fn request_schema_beats_environment_schema() {
    let env = r#"{"input":[{"name":"i_1","type":"int"}],"output":{"name":"i_1","type":"int"}}"#;
    let s = start(config(empty_bundle(), Some(env), None));
    assert_eq!(post(s.addr, "text/csv", None, "42").body, "42");
    let body = format!(r#"{{"schema":{TEST_SCHEMA},"data":[7,2.0]}}"#);
    assert_eq!(post(s.addr, "application/json", None, &body).body, "7");
    // no schema anywhere
    let s = start(config(empty_bundle(), None, None));
    let r = post(s.addr, "text/csv", None, "1,2.0");
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            400,
            "Input schema has to be provided either via environment variable or via the request"
        )
    );
    let r = post(s.addr, "application/json", None, r#"{"data":[1,2.0]}"#);
    assert_eq!(r.status, 400);
}

#[test]
fn every_type_and_struct_round_trips_in_java_text() {
    let s = start(config(empty_bundle(), None, None));
    let echo = |ty: &str, st: &str, value: &str, accept: Option<&str>| {
        let body = format!(
            r#"{{"schema":{{"input":[{{"name":"x","type":"{ty}","struct":"{st}"}}],"output":{{"name":"x","type":"{ty}","struct":"{st}"}}}},"data":[{value}]}}"#
        );
        let r = post(s.addr, "application/json", accept, &body);
        assert_eq!(r.status, 200, "{ty}/{st} {value}: {}", r.body);
        r.body
    };
    for (ty, value, text) in [
        ("boolean", "true", "true"),
        ("boolean", "\"FALSE\"", "false"),
        ("byte", "-7", "-7"),
        ("short", "300", "300"),
        ("int", "\"5\"", "5"),
        ("long", "9007199254740993", "9007199254740993"),
        ("float", "0.2", "0.2"),
        ("float", "1e7", "1.0E7"),
        ("double", "10000000", "1.0E7"),
        ("double", "0.0001", "1.0E-4"),
        ("double", "0.1", "0.1"),
        ("double", "\"NaN\"", "NaN"),
        ("double", "-0.0", "-0.0"),
        ("double", "123456789", "1.23456789E8"),
        ("string", "\"a b,c\"", "a b,c"),
        ("string", "1.5", "1.5"),
    ] {
        assert_eq!(echo(ty, "basic", value, None), text, "{ty} {value}");
    }
    for (ty, value, csv, jsonl) in [
        (
            "boolean",
            "[true,false]",
            "true,false",
            r#"{"features":[true,false]}"#,
        ),
        ("byte", "[1,2]", "1,2", r#"{"features":[1,2]}"#),
        ("short", "[1,2]", "1,2", r#"{"features":[1,2]}"#),
        ("int", "[1,2]", "1,2", r#"{"features":[1,2]}"#),
        ("long", "[1,2]", "1,2", r#"{"features":[1,2]}"#),
        ("float", "[1,0.2]", "1.0,0.2", r#"{"features":[1.0,0.2]}"#),
        (
            "double",
            "[1e7,0.5]",
            "1.0E7,0.5",
            r#"{"features":[1.0E7,0.5]}"#,
        ),
        (
            "string",
            "[\"a\",\"b\"]",
            "a,b",
            r#"{"features":["a","b"]}"#,
        ),
    ] {
        assert_eq!(
            echo(ty, "array", value, Some("text/csv")),
            csv,
            "{ty} array"
        );
        assert_eq!(
            echo(ty, "array", value, Some("application/jsonlines")),
            jsonl,
            "{ty} array"
        );
    }
    for ty in ["byte", "short", "int", "long", "float", "double"] {
        assert_eq!(
            echo(ty, "vector", "[1,2.5]", Some("text/csv")),
            "1.0,2.5",
            "{ty} vector"
        );
    }
    assert_eq!(
        echo(
            "double",
            "vector",
            "[1,\"NaN\"]",
            Some("application/jsonlines")
        ),
        r#"{"features":[1.0,"NaN"]}"#
    );
}

// ---------------------------------------------------------------------------------------------
// errors: always 4xx, with a message naming what is wrong

#[test]
fn client_mistakes_are_4xx_with_clear_messages() {
    let s = start(config(empty_bundle(), Some(BASIC_SCHEMA), None));
    let cases: Vec<(&str, &str, String, u16, &[&str])> = vec![
        ("text/csv", "csv: too few values", "1,C".into(), 400, &["2 values", "3 input columns"]),
        ("text/csv", "csv: too many values", "1,C,2.0,9".into(), 400, &["4 values"]),
        ("text/csv", "csv: not a number", "x,C,2.0".into(), 400, &["column 'name_1'", "expected an int", "'x'"]),
        ("text/csv", "csv: second record bad", "1,C,2.0\n2,D,abc".into(), 400, &["line 2", "record 2", "column 'name_3'"]),
        ("text/csv", "empty body", "".into(), 400, &["empty"]),
        ("application/json", "malformed JSON", "{\"data\":[1,".into(), 400, &["invalid JSON"]),
        ("application/json", "unknown key", r#"{"data":[1,"C",2.0],"extra":1}"#.into(), 400, &["unknown key 'extra'"]),
        ("application/json", "no data", r#"{"schema":null}"#.into(), 400, &["no \"data\""]),
        ("application/json", "fractional int", r#"{"data":[1.5,"C",2.0]}"#.into(), 400, &["column 'name_1'", "1.5"]),
        ("application/json", "list for a scalar", r#"{"data":[[1],"C",2.0]}"#.into(), 400, &["column 'name_1'"]),
        ("application/json", "bad schema type", r#"{"schema":{"input":[{"name":"a","type":"intvalue"}],"output":{"name":"a","type":"int"}},"data":[1]}"#.into(), 400, &["'a'", "intvalue"]),
        ("application/json", "bad struct", r#"{"schema":{"input":[{"name":"a","type":"int","struct":"matrix"}],"output":{"name":"a","type":"int"}},"data":[1]}"#.into(), 400, &["matrix"]),
        ("application/json", "unknown schema key", r#"{"schema":{"input":[],"output":{"name":"a","type":"int"},"x":1},"data":[]}"#.into(), 400, &["unknown field"]),
        ("application/json", "missing output column", r#"{"schema":{"input":[{"name":"a","type":"int"}],"output":{"name":"zz","type":"int"}},"data":[1]}"#.into(), 400, &["'zz'"]),
        ("application/json", "scalar for vector", r#"{"schema":{"input":[{"name":"v","type":"double","struct":"vector"}],"output":{"name":"v","type":"double","struct":"vector"}},"data":[5]}"#.into(), 400, &["column 'v'"]),
        ("application/json", "string in vector", r#"{"schema":{"input":[{"name":"v","type":"double","struct":"vector"}],"output":{"name":"v","type":"double","struct":"vector"}},"data":[[1.0,"x"]]}"#.into(), 400, &["column 'v'", "'x'"]),
        ("application/json", "vector of strings", r#"{"schema":{"input":[{"name":"v","type":"string","struct":"vector"}],"output":{"name":"v","type":"string","struct":"vector"}},"data":[["a"]]}"#.into(), 400, &["vector holds numbers"]),
        ("application/json", "byte out of range", r#"{"schema":{"input":[{"name":"b","type":"byte"}],"output":{"name":"b","type":"byte"}},"data":[300]}"#.into(), 400, &["300", "out of range"]),
        ("application/json", "duplicate column", r#"{"schema":{"input":[{"name":"a","type":"int"},{"name":"a","type":"int"}],"output":{"name":"a","type":"int"}},"data":[1,2]}"#.into(), 400, &["twice"]),
        ("application/json", "vector output declared basic", r#"{"schema":{"input":[{"name":"v","type":"double","struct":"vector"}],"output":{"name":"v","type":"double"}},"data":[[1.0]]}"#.into(), 400, &["struct"]),
        ("application/jsonlines", "bad second line", "{\"data\":[1,\"C\",2.0]}\n{\"data\":".into(), 400, &["line 2"]),
        ("application/jsonlines", "not an object", "[1,2]".into(), 400, &["line 1"]),
    ];
    for (ct, what, body, status, needles) in cases {
        let r = post(s.addr, ct, None, &body);
        assert_eq!(r.status, status, "{what}: {}", r.body);
        for n in needles {
            assert!(r.body.contains(n), "{what}: '{n}' not in '{}'", r.body);
        }
        assert_eq!(
            r.header("content-type"),
            Some("text/plain; charset=utf-8"),
            "{what}"
        );
    }
    // unsupported media types: 415 with the accepted ones
    for ct in [Some("application/octet-stream"), Some("text/plain"), None] {
        let h: Vec<(&str, &str)> = ct.map(|c| vec![("Content-Type", c)]).unwrap_or_default();
        let r = http(s.addr, "POST", "/invocations", &h, b"1,C,2.0");
        assert_eq!(r.status, 415, "{ct:?}");
        assert!(r.header("accept").is_some_and(|a| a.contains("text/csv")));
    }
    // the server is still healthy after all of that
    assert_eq!(post(s.addr, "text/csv", None, "1,C,2.0").body, "2.0");
}

#[test]
fn bodies_over_the_limit_get_413() {
    let mut c = config(empty_bundle(), Some(BASIC_SCHEMA), None);
    c.max_body_bytes = 1024 * 1024;
    let s = start(c);
    let big = "1,C,2.0\n".repeat(200_000);
    let r = post(s.addr, "text/csv", None, &big);
    assert_eq!(r.status, 413);
    assert!(r.body.contains("1048576 bytes"), "{}", r.body);
    // a chunked body declares no length: it is refused once it grows past the limit
    let mut c = TcpStream::connect(s.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let chunk = "1,C,2.0\n".repeat(70_000); // 560,000 bytes
    let mut req = String::from(
        "POST /invocations HTTP/1.1\r\nHost: test\r\nContent-Type: text/csv\r\n\
         Transfer-Encoding: chunked\r\n\r\n",
    );
    for _ in 0..2 {
        req.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
    }
    req.push_str("0\r\n\r\n");
    let _ = c.write_all(req.as_bytes());
    let mut raw = vec![0u8; 4096];
    let n = c.read(&mut raw).unwrap();
    let head = String::from_utf8_lossy(&raw[..n]);
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    assert!(head.contains("1048576 bytes"), "{head}");
    let r = http(s.addr, "GET", "/execution-parameters", &[], b"");
    assert!(r.body.contains(r#""MaxPayloadInMB":1"#), "{}", r.body);
    assert_eq!(post(s.addr, "text/csv", None, "1,C,2.0").status, 200);
}

#[test]
fn invalid_environment_schema_stops_start_up() {
    let e = start_err(config(
        empty_bundle(),
        Some(r#"{"input":[],"output":{"name":"x","type":"int"},"typo":1}"#),
        None,
    ));
    assert!(
        e.contains("SAGEMAKER_SPARKML_SCHEMA") && e.contains("typo"),
        "{e}"
    );
    let e = start_err(config(
        spark_car_model(),
        Some(&car_schema_for("nope", "double", "basic")),
        None,
    ));
    assert!(e.contains("'nope'"), "{e}");
    let e = start_err(config(PathBuf::from("/nonexistent/model"), None, None));
    assert!(e.contains("/nonexistent/model"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// a real model: predictions equal Spark's and `ember score`'s

fn car_rows() -> Vec<String> {
    let text =
        std::fs::read_to_string(root().join("tests/fixtures/spark/car_evaluation/input.csv"))
            .unwrap();
    text.lines().skip(1).map(str::to_string).collect()
}

#[test]
fn predictions_equal_spark_and_ember_score() {
    let expected =
        read_parquet(&root().join("tests/fixtures/spark/car_evaluation/expected.parquet"));
    let rows = car_rows();
    let s = start(config(
        spark_car_model(),
        Some(&car_schema_for("predicted_class", "string", "basic")),
        None,
    ));
    // one multi-record request with all rows, and single-record requests for a few
    let r = post(s.addr, "text/csv", None, &rows.join("\n"));
    assert_eq!(r.status, 200, "{}", r.body);
    let got: Vec<&str> = r.body.split('\n').collect();
    let labels = arrow::compute::cast(
        expected.column_by_name("predicted_class").unwrap(),
        &arrow::datatypes::DataType::Utf8,
    )
    .unwrap();
    let labels = labels.as_string::<i32>();
    assert_eq!(got.len(), labels.len());
    for (i, g) in got.iter().enumerate() {
        assert_eq!(*g, labels.value(i), "record {i}");
    }
    for i in [0usize, 57, 199] {
        assert_eq!(
            post(s.addr, "text/csv", None, &rows[i]).body,
            labels.value(i)
        );
    }
    // probabilities: numerically equal to Spark's, textually equal to `ember score`
    let s = start(config(
        spark_car_model(),
        Some(&car_schema_for("probability", "double", "vector")),
        None,
    ));
    let r = post(s.addr, "text/csv", None, &rows.join("\n"));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("scored.csv");
    let o = ember_score(
        &spark_car_model(),
        &[&root().join("tests/fixtures/spark/car_evaluation/input.csv")],
        &out,
        &["--select", "probability"],
    );
    assert!(o.status.success());
    let scored: Vec<String> = csv::Reader::from_path(&out)
        .unwrap()
        .records()
        .map(|r| r.unwrap()[0].to_string())
        .collect();
    let probs = expected.column_by_name("probability").unwrap();
    let va = ember_udfs::vector::VectorArray::try_new(probs.as_ref()).unwrap();
    for (i, line) in r.body.split('\n').enumerate() {
        assert_eq!(
            format!("[{line}]"),
            scored[i],
            "record {i}: HTTP and ember score differ"
        );
        let ours: Vec<f64> = line.split(',').map(|x| x.parse().unwrap()).collect();
        let spark = va.value(i).unwrap().unwrap().to_dense();
        for (a, b) in ours.iter().zip(&spark) {
            assert!(
                (a - b).abs() <= 1e-9 * a.abs().max(b.abs()),
                "record {i}: {a} vs Spark {b}"
            );
        }
    }
}

#[test]
fn a_rejected_record_is_a_400_naming_record_stage_and_column() {
    let s = start(config(
        spark_car_model(),
        Some(&car_schema_for("predicted_class", "string", "basic")),
        None,
    ));
    let rows = car_rows();
    let body = format!("{}\n{}\nlow,low,2,2,small,purple", rows[0], rows[1]);
    let r = post(s.addr, "text/csv", None, &body);
    assert_eq!(r.status, 400);
    for n in [
        "record 3",
        "StringIndexer",
        "column 'safety'",
        "Unseen label: purple",
    ] {
        assert!(r.body.contains(n), "'{n}' not in {}", r.body);
    }
}

#[test]
fn records_a_skip_stage_drops_answer_empty_lines() {
    let model = root().join("tests/fixtures/spark/si_skip/model");
    let schema = r#"{"input":[{"name":"id","type":"int"},{"name":"color","type":"string"}],"output":{"name":"color_idx","type":"double"}}"#;
    let s = start(config(model, Some(schema), None));
    let r = post(s.addr, "text/csv", None, "1,red\n2,purple\n3,\n4,blue");
    assert_eq!(r.status, 200, "{}", r.body);
    let lines: Vec<&str> = r.body.split('\n').collect();
    assert_eq!(lines.len(), 4);
    assert!(
        !lines[0].is_empty() && lines[1].is_empty() && lines[2].is_empty() && !lines[3].is_empty(),
        "{lines:?}"
    );
}

#[test]
fn coalesced_requests_each_get_their_own_answer() {
    let expected =
        read_parquet(&root().join("tests/fixtures/spark/car_evaluation/expected.parquet"));
    let labels = arrow::compute::cast(
        expected.column_by_name("predicted_class").unwrap(),
        &arrow::datatypes::DataType::Utf8,
    )
    .unwrap();
    let labels: Vec<String> = labels
        .as_string::<i32>()
        .iter()
        .map(|l| l.unwrap().to_string())
        .collect();
    let mut c = config(
        spark_car_model(),
        Some(&car_schema_for("predicted_class", "string", "basic")),
        None,
    );
    c.coalesce = Coalesce::On {
        window: Duration::from_micros(500),
        max_records: 64,
    };
    let s = start(c);
    let rows = car_rows();
    let addr = s.addr;
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let rows = rows.clone();
            let labels = labels.clone();
            std::thread::spawn(move || {
                for i in (t..200).step_by(16) {
                    // every 7th request carries a record the model rejects
                    if i % 7 == 0 {
                        let r = post(addr, "text/csv", None, "low,low,2,2,small,purple");
                        assert_eq!(r.status, 400, "{}", r.body);
                        assert!(r.body.contains("record 1"), "{}", r.body);
                    }
                    // and every 5th one a record of the wrong arity (typed in the batcher)
                    if i % 5 == 0 {
                        let r = post(addr, "text/csv", None, "low,low,2\n");
                        assert_eq!(r.status, 400, "{}", r.body);
                        assert!(r.body.contains("line 1, record 1: 3 values"), "{}", r.body);
                    }
                    let r = post(addr, "text/csv", None, &rows[i]);
                    assert_eq!(
                        (r.status, r.body.as_str()),
                        (200, labels[i].as_str()),
                        "record {i}"
                    );
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let m = http(addr, "GET", "/metrics", &[], b"").body;
    let metric = |name: &str| -> f64 {
        m.lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().parse().unwrap()))
            .unwrap_or_else(|| panic!("{name} missing:\n{m}"))
    };
    let (records, batches) = (
        metric("ember_batch_records_sum"),
        metric("ember_batch_records_count"),
    );
    // 16 clients at once: some requests were scored together
    assert!(records > batches, "no batch held two requests:\n{m}");
}

// ---------------------------------------------------------------------------------------------
// the binary: environment variables, start-up time, graceful shutdown

#[test]
fn the_binary_serves_with_sagemaker_environment_and_shuts_down_gracefully() {
    let started = Instant::now();
    let mut s = ember_serve(&spark_car_model())
        .port_from_env()
        .env(
            "SAGEMAKER_SPARKML_SCHEMA",
            &car_schema_for("predicted_class", "string", "basic"),
        )
        .spawn();
    let addr = s.addr;
    let ready = wait_ping(addr, Duration::from_secs(20)).expect("the server answers /ping");
    // generous in the debug build; the release figure is in the README
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "start-up took {ready:?}"
    );
    let row = car_rows()[0].clone();
    assert_eq!(post(addr, "text/csv", None, &row).status, 200);
    // a large request in flight when SIGTERM arrives still completes
    let rows = car_rows();
    let body = rows
        .iter()
        .cycle()
        .take(60_000)
        .cloned()
        .collect::<Vec<_>>()
        .join("\n");
    let pending = std::thread::spawn(move || post(addr, "text/csv", None, &body));
    std::thread::sleep(Duration::from_millis(20));
    s.term();
    let r = pending.join().unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.body.split('\n').count(), 60_000);
    let status = s
        .wait_exit(Duration::from_secs(60))
        .expect("the server exits after SIGTERM");
    assert!(status.success(), "exit status {status:?}");
    assert!(TcpStream::connect(addr).is_err(), "no longer listening");
}

#[test]
fn a_model_that_fails_to_load_stops_the_process() {
    let exit = |s: &mut Serve| {
        s.wait_exit(Duration::from_secs(60))
            .expect("the server exits by itself")
    };
    let mut s = ember_serve(std::path::Path::new("/nonexistent/model"))
        .port_from_env()
        .spawn();
    let status = exit(&mut s);
    assert!(!status.success());
    let err = s.stderr();
    assert!(err.contains("/nonexistent/model"), "{err}");
    // and an invalid schema in the environment
    let mut s = ember_serve(&spark_car_model())
        .port_from_env()
        .env("SAGEMAKER_SPARKML_SCHEMA", "{not json")
        .spawn();
    assert!(!exit(&mut s).success());
    let err = s.stderr();
    assert!(err.contains("SAGEMAKER_SPARKML_SCHEMA"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// MLeap bundles: the outputs MLeap's own tests assert, over HTTP

fn shared_bundle(name: &str) -> PathBuf {
    root().join("tests/fixtures/mleap-upstream").join(name)
}

const AIRBNB_SCHEMA: &str = r#"{"input":[{"name":"state","type":"string"},{"name":"bathrooms","type":"double"},{"name":"square_feet","type":"double"},{"name":"bedrooms","type":"double"},{"name":"security_deposit","type":"double"},{"name":"cleaning_fee","type":"double"},{"name":"extra_people","type":"double"},{"name":"number_of_reviews","type":"double"},{"name":"review_scores_rating","type":"double"},{"name":"room_type","type":"string"},{"name":"host_is_superhost","type":"string"},{"name":"cancellation_policy","type":"string"},{"name":"instant_bookable","type":"string"}],"output":{"name":"price_prediction","type":"double"}}"#;
const AIRBNB_ROW: &str = "NY,2.0,1250.0,3.0,50.0,30.0,2.0,56.0,90.0,Entire home/apt,1.0,strict,1.0";

#[test]
fn mleap_bundles_answer_what_mleap_asserts() {
    let demo_schema = r#"{"input":[{"name":"demo:a","type":"double"},{"name":"demo:c","type":"double"},{"name":"demo:d","type":"double"}],"output":{"name":"demo:prediction","type":"double"}}"#;
    let s = start(config(shared_bundle("demo.zip"), Some(demo_schema), None));
    let r = post(s.addr, "text/csv", None, "44.5,22.1,98.2");
    assert_eq!(r.status, 200, "{}", r.body);
    // MLeap asserts -67.78953193834998; the container prints Java's Double.toString
    assert_eq!(r.body, "-67.78953193834998");
    let s = start(config(shared_bundle("airbnb.model.rf.zip"), None, None));
    let body = format!(r#"{{"schema":{AIRBNB_SCHEMA},"data":[{}]}}"#, {
        AIRBNB_ROW
            .split(',')
            .map(|v| {
                v.parse::<f64>()
                    .map_or_else(|_| format!("\"{v}\""), |_| v.to_string())
            })
            .collect::<Vec<_>>()
            .join(",")
    });
    let r = post(s.addr, "application/json", None, &body);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, "218.2767196535019");
}

/// `array<double>` outputs (MLeap's multinomial_labeler, fixture bundle) answer as the
/// container's `array` struct does, in every Accept; its labels as an array of strings. The
/// expected values are Spark's for the fixture's first row (tests/fixtures/spark/
/// mleap_multinomial_labeler/expected.jsonl).
#[test]
fn multinomial_labeler_arrays_over_http() {
    let model = root().join("tests/fixtures/spark/mleap_multinomial_labeler/bundle");
    let s = start(config(model, None, None));
    let ask = |out: &str, ty: &str, row: &str, accept: Option<&str>| {
        let body = format!(
            r#"{{"schema":{{"input":[{{"name":"features","type":"double","struct":"vector"}}],"output":{{"name":"{out}","type":"{ty}","struct":"array"}}}},"data":[{row}]}}"#
        );
        let r = post(s.addr, "application/json", accept, &body);
        assert_eq!(r.status, 200, "{}", r.body);
        r.body
    };
    let first = "[0.1,0.25,0.7,0.0]";
    assert_eq!(ask("probabilities", "double", first, None), "0.25,0.7");
    assert_eq!(
        ask(
            "probabilities",
            "double",
            first,
            Some("application/jsonlines")
        ),
        r#"{"features":[0.25,0.7]}"#
    );
    assert_eq!(
        ask(
            "probabilities",
            "double",
            first,
            Some("application/jsonlines;data=text")
        ),
        r#"{"source":"0.25 0.7"}"#
    );
    assert_eq!(ask("probabilities_half", "double", first, None), "0.7");
    assert_eq!(ask("labels", "string", first, None), "dti,income");
    assert_eq!(
        ask(
            "labels_zero",
            "string",
            first,
            Some("application/jsonlines")
        ),
        r#"{"features":["fico","dti","income","age"]}"#
    );
    // nothing reaches the threshold: an empty array
    let none = "[0.0,0.0,0.0,0.0]";
    assert_eq!(ask("probabilities", "double", none, None), "");
    assert_eq!(
        ask(
            "probabilities",
            "double",
            none,
            Some("application/jsonlines")
        ),
        r#"{"features":[]}"#
    );
}
