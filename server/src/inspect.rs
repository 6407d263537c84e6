//! `ember inspect`: what a model is made of and what it needs.

use ember_engine::stage::short_class;
use ember_engine::{ModelFormat, Pipeline};
use serde_json::{Value, json};

/// The pipeline as JSON: stages (uid, class, inputs, outputs, params), the input columns it
/// needs with their types, and the columns it produces.
pub fn to_json(p: &Pipeline) -> Value {
    let mut produced = Vec::new();
    let stages: Vec<Value> = p
        .stages()
        .iter()
        .map(|s| {
            let before = produced.clone();
            let outputs = s.outputs(&|n: &str| {
                before.iter().find(|c: &&ember_engine::ColumnSpec| c.name == n).cloned()
            });
            produced.extend(outputs.iter().cloned());
            json!({
                "uid": s.uid(),
                "class": s.class(),
                "inputs": s.inputs().iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
                "outputs": outputs.iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
                "params": s.params().into_iter().map(|(k, v)| (k.to_string(), Value::String(v))).collect::<serde_json::Map<_, _>>(),
            })
        })
        .collect();
    let format = match p.format() {
        ModelFormat::SparkDirectory { spark_version } => {
            json!({"format": "spark", "spark_version": spark_version})
        }
        ModelFormat::Mleap { version } => json!({"format": "mleap", "mleap_version": version}),
        ModelFormat::InMemory => json!({"format": "in-memory"}),
    };
    json!({
        "uid": p.uid(),
        "model": format,
        "stages": stages,
        "input_columns": p.input_columns().iter().map(|c| json!({"name": c.name, "type": c.ty.to_string()})).collect::<Vec<_>>(),
        "output_columns": p.output_columns().iter().map(|c| {
            let mut v = json!({"name": c.name, "type": c.ty.to_string()});
            if let Some(n) = c.meta.vector_size { v["size"] = json!(n); }
            v
        }).collect::<Vec<_>>(),
    })
}

/// The pipeline as a human-readable report.
pub fn to_text(p: &Pipeline) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let source = match p.format() {
        ModelFormat::SparkDirectory { spark_version } => {
            format!("Spark {spark_version} PipelineModel")
        }
        ModelFormat::Mleap { version } => format!("MLeap {version} bundle"),
        ModelFormat::InMemory => "in-memory pipeline".into(),
    };
    let _ = writeln!(out, "{} ({source}), {} stages", p.uid(), p.stages().len());
    let mut produced: Vec<ember_engine::ColumnSpec> = Vec::new();
    for (i, s) in p.stages().iter().enumerate() {
        let before = produced.clone();
        let outputs = s.outputs(&|n: &str| before.iter().find(|c| c.name == n).cloned());
        produced.extend(outputs.iter().cloned());
        let ins: Vec<String> = s.inputs().iter().map(|c| c.name.clone()).collect();
        let outs: Vec<String> = outputs.iter().map(|c| c.name.clone()).collect();
        let _ = writeln!(
            out,
            "  {i:>2}. {} {}\n      {} -> {}",
            short_class(s.class()),
            s.uid(),
            ins.join(", "),
            outs.join(", ")
        );
        let params: Vec<String> = s
            .params()
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if !params.is_empty() {
            let _ = writeln!(out, "      {}", params.join("  "));
        }
    }
    let _ = writeln!(out, "input columns:");
    for c in p.input_columns() {
        let _ = writeln!(out, "  {} ({})", c.name, c.ty);
    }
    let _ = writeln!(out, "output columns:");
    for c in p.output_columns() {
        let size = c
            .meta
            .vector_size
            .map(|n| format!(", size {n}"))
            .unwrap_or_default();
        let _ = writeln!(out, "  {} ({}{size})", c.name, c.ty);
    }
    out
}
