//! Reader for MLeap bundles (<https://github.com/combust/mleap>).
//!
//! ```text
//! <bundle>/bundle.json            {"uid", "name", "format": "json" | "protobuf", "version", ...}
//! <bundle>/root/node.json         {"name", "shape": {"inputs": [{"port", "name"}], "outputs": [...]}}
//! <bundle>/root/model.json        {"op": "pipeline", "attributes": {"nodes": {"type": "list", "string": [...]}}}
//! <bundle>/root/<name>.node/...   one directory per stage listed in `nodes`, in execution order
//! ```
//! Each op maps onto the same [`Stage`] implementation the Spark-directory reader builds: one
//! stage, two front ends.

pub mod files;
pub mod pb;
pub mod value;

use std::sync::Arc;

use serde_json::Value as Json;

use crate::error::{EmberError, Result};
use crate::stage::Stage;
pub use files::BundleFiles;
pub use value::Attributes;

/// `bundle.json`.
#[derive(Debug, Clone)]
pub struct BundleInfo {
    /// The root node's name (the pipeline uid).
    pub name: String,
    /// `json` or `protobuf`.
    pub format: String,
    /// The MLeap version that wrote it.
    pub version: String,
}

/// One node of a bundle: its op, attributes and port bindings.
#[derive(Debug, Clone)]
pub struct MleapNode {
    /// Path of the node inside the bundle (`root/x.node`).
    pub path: String,
    /// The node name (the stage uid).
    pub name: String,
    /// The op name (`string_indexer`, ...).
    pub op: String,
    /// The model attributes.
    pub attributes: Attributes,
    /// Input port → column.
    pub inputs: Vec<(String, String)>,
    /// Output port → column.
    pub outputs: Vec<(String, String)>,
    /// The bundle version (for messages).
    pub version: String,
    /// The bundle's encoding (`json` or `protobuf`), for reading extra files such as trees.
    pub format: String,
}

impl MleapNode {
    /// A param error for this node.
    pub fn error(&self, param: &str, message: impl Into<String>) -> EmberError {
        EmberError::Param {
            uid: self.name.clone(),
            class: format!("MLeap op {}", self.op),
            param: param.to_string(),
            message: message.into(),
        }
    }

    /// The column bound to input `port`.
    pub fn input(&self, port: &str) -> Option<&str> {
        self.inputs
            .iter()
            .find(|(p, _)| p == port)
            .map(|(_, n)| n.as_str())
    }

    /// The column bound to output `port`.
    pub fn output(&self, port: &str) -> Option<&str> {
        self.outputs
            .iter()
            .find(|(p, _)| p == port)
            .map(|(_, n)| n.as_str())
    }

    /// The column bound to input `port`, or an error naming the port.
    pub fn required_input(&self, port: &str) -> Result<String> {
        self.input(port)
            .map(str::to_string)
            .ok_or_else(|| self.error(port, "the node has no such input port"))
    }

    /// The column bound to output `port`, or an error naming the port.
    pub fn required_output(&self, port: &str) -> Result<String> {
        self.output(port)
            .map(str::to_string)
            .ok_or_else(|| self.error(port, "the node has no such output port"))
    }

    /// The columns of a multi-column port family: `input0, input1, ...` in number order, or
    /// the single legacy port `input` (MLeap's `MultiInOutMleapOp` convention).
    pub fn numbered(ports: &[(String, String)], prefix: &str) -> Vec<String> {
        let mut numbered: Vec<(usize, String)> = ports
            .iter()
            .filter_map(|(p, n)| {
                p.strip_prefix(prefix)
                    .and_then(|i| i.parse::<usize>().ok())
                    .map(|i| (i, n.clone()))
            })
            .collect();
        if numbered.is_empty() {
            return ports
                .iter()
                .filter(|(p, _)| p == prefix)
                .map(|(_, n)| n.clone())
                .collect();
        }
        numbered.sort_by_key(|(i, _)| *i);
        numbered.into_iter().map(|(_, n)| n).collect()
    }

    /// A typed attribute read; the error names the node, op and attribute.
    pub fn attr<T>(
        &self,
        name: &str,
        read: impl FnOnce(&Attributes, &str) -> std::result::Result<T, String>,
    ) -> Result<T> {
        read(&self.attributes, name).map_err(|m| self.error(name, m))
    }

    /// A typed attribute read, `None` when the attribute is absent.
    pub fn opt_attr<T>(
        &self,
        name: &str,
        read: impl FnOnce(&Attributes, &str) -> std::result::Result<T, String>,
    ) -> Result<Option<T>> {
        if self.attributes.has(name) {
            self.attr(name, read).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Path of a file inside this node's directory.
    pub fn file(&self, name: &str) -> String {
        format!("{}/{name}", self.path)
    }
}

/// A loader turning a node into a [`Stage`].
pub type MleapLoader = fn(&MleapNode, &dyn BundleFiles) -> Result<Arc<dyn Stage>>;

/// A loader turning a node into several stages, in order (e.g. one-vs-rest: its inner models
/// and the stage combining them). It may load nodes nested in its own directory with
/// [`load_nested`] and `registry`.
pub type MleapNestedLoader =
    fn(&MleapNode, &dyn BundleFiles, &MleapRegistry) -> Result<Vec<Arc<dyn Stage>>>;

/// How an op is loaded: into one stage, or into several.
#[derive(Debug, Clone, Copy)]
pub enum MleapLoad {
    /// One stage.
    One(MleapLoader),
    /// Several stages (possibly read from nested nodes).
    Many(MleapNestedLoader),
}

/// Op name → loader, for every op a load can meet (`stages::mleap_registry()`; `pipeline` is
/// built in).
pub type MleapRegistry = [(&'static str, MleapLoad)];

/// A loaded bundle.
#[derive(Debug)]
pub struct MleapModel {
    /// `bundle.json`.
    pub info: BundleInfo,
    /// The stages in execution order, nested pipelines flattened.
    pub stages: Vec<Arc<dyn Stage>>,
}

fn parse_json(files: &dyn BundleFiles, path: &str) -> Result<Json> {
    files.read_json(path)
}

fn str_field(files: &dyn BundleFiles, path: &str, v: &Json, key: &str) -> Result<String> {
    v.get(key)
        .and_then(Json::as_str)
        .map(str::to_string)
        .ok_or_else(|| EmberError::format(files.describe(path), format!("missing string '{key}'")))
}

/// Reads `bundle.json`.
pub fn bundle_info(files: &dyn BundleFiles) -> Result<BundleInfo> {
    let v = parse_json(files, "bundle.json")?;
    Ok(BundleInfo {
        name: str_field(files, "bundle.json", &v, "name")?,
        format: v
            .get("format")
            .and_then(Json::as_str)
            .unwrap_or("json")
            .to_string(),
        version: v
            .get("version")
            .and_then(Json::as_str)
            .unwrap_or("unknown")
            .to_string(),
    })
}

fn ports(
    files: &dyn BundleFiles,
    path: &str,
    shape: &Json,
    key: &str,
) -> Result<Vec<(String, String)>> {
    let Some(list) = shape.get(key) else {
        return Ok(Vec::new());
    };
    let list = list.as_array().ok_or_else(|| {
        EmberError::format(files.describe(path), format!("shape.{key} is not a list"))
    })?;
    list.iter()
        .map(|p| {
            Ok((
                str_field(files, path, p, "port")?,
                str_field(files, path, p, "name")?,
            ))
        })
        .collect()
}

/// Reads the `model.json` (or `model.pb`) in directory `dir`: the op and its attributes. Sub-models
/// of forests (`tree0/`) and one-vs-rest (`model0/`) have a model file but no node file.
pub fn read_model(
    files: &dyn BundleFiles,
    dir: &str,
    format: &str,
) -> Result<(String, Attributes)> {
    let model_path = format!("{dir}/model.{}", extension(files, format)?);
    let mut model = if format == "json" {
        parse_json(files, &model_path)?
    } else {
        pb::model_to_json(&files.read(&model_path)?)
            .map_err(|m| EmberError::format(files.describe(&model_path), m))?
    };
    let op = str_field(files, &model_path, &model, "op")?;
    // moved out, not cloned: a large model's attributes are most of its memory
    let attributes = model.get_mut("attributes").map(Json::take);
    Ok((
        op,
        Attributes::from_owned(attributes)
            .map_err(|m| EmberError::format(files.describe(&model_path), m))?,
    ))
}

/// Reads the decision tree in directory `dir` (`tree.json`: one JSON object per line, nodes in
/// pre-order). Each node is returned as its JSON object, e.g.
/// `{"type":"internal","split":{"type":"continuous","featureIndex":5,"threshold":3.1}}` or
/// `{"type":"leaf","values":[86.4]}`; protobuf trees are converted to the same objects.
pub fn read_tree(files: &dyn BundleFiles, dir: &str, format: &str) -> Result<Vec<Json>> {
    let path = format!("{dir}/tree.{}", extension(files, format)?);
    let bytes = files.read(&path)?;
    if format != "json" {
        return pb::tree_to_json(&bytes).map_err(|m| EmberError::format(files.describe(&path), m));
    }
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| EmberError::format(files.describe(&path), "not UTF-8 text"))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| {
                EmberError::format(
                    files.describe(&path),
                    format!("line {}: invalid JSON: {e}", i + 1),
                )
            })
        })
        .collect()
}

/// The file extension of the bundle's encoding: `json`, or `pb` for `protobuf`.
fn extension(files: &dyn BundleFiles, format: &str) -> Result<&'static str> {
    match format {
        "json" => Ok("json"),
        // bundle.json says "protobuf"; Scala's SerializationFormat.Protobuf prints as "proto"
        "protobuf" | "proto" => Ok("pb"),
        other => Err(EmberError::format(
            files.describe("bundle.json"),
            format!("unknown bundle format '{other}' (expected json or protobuf)"),
        )),
    }
}

/// Reads the node in directory `dir` of the bundle.
pub fn read_node(
    files: &dyn BundleFiles,
    dir: &str,
    version: &str,
    format: &str,
) -> Result<MleapNode> {
    let node_path = format!("{dir}/node.{}", extension(files, format)?);
    let node = if format == "json" {
        parse_json(files, &node_path)?
    } else {
        pb::node_to_json(&files.read(&node_path)?)
            .map_err(|m| EmberError::format(files.describe(&node_path), m))?
    };
    let (op, attributes) = read_model(files, dir, format)?;
    let shape = node.get("shape").cloned().unwrap_or(Json::Null);
    Ok(MleapNode {
        path: dir.to_string(),
        name: str_field(files, &node_path, &node, "name")?,
        op,
        attributes,
        inputs: ports(files, &node_path, &shape, "inputs")?,
        outputs: ports(files, &node_path, &shape, "outputs")?,
        version: version.to_string(),
        format: format.to_string(),
    })
}

/// Loads a bundle's stages.
pub fn load(files: &dyn BundleFiles, registry: &MleapRegistry) -> Result<MleapModel> {
    let info = bundle_info(files)?;
    let mut stages = Vec::new();
    load_into(files, "root", &info, registry, &mut stages, 0)?;
    Ok(MleapModel { info, stages })
}

fn load_into(
    files: &dyn BundleFiles,
    dir: &str,
    info: &BundleInfo,
    registry: &MleapRegistry,
    out: &mut Vec<Arc<dyn Stage>>,
    depth: usize,
) -> Result<()> {
    if depth > 32 {
        return Err(EmberError::format(
            files.describe(dir),
            "pipelines nested too deeply",
        ));
    }
    let node = read_node(files, dir, &info.version, &info.format)?;
    if node.op == "pipeline" {
        let names = node
            .attributes
            .strings("nodes")
            .map_err(|m| node.error("nodes", m))?;
        for name in names {
            if name.contains('/') || name.contains('\\') || name == ".." {
                return Err(node.error("nodes", format!("invalid stage name '{name}'")));
            }
            load_into(
                files,
                &format!("{dir}/{name}.node"),
                info,
                registry,
                out,
                depth + 1,
            )?;
        }
        return Ok(());
    }
    out.extend(load_node(&node, files, registry)?);
    Ok(())
}

/// The stages of one node (not a pipeline) through its op's loader in `registry`; an op not in
/// it is an error naming the op, the node and the bundle version.
pub fn load_node(
    node: &MleapNode,
    files: &dyn BundleFiles,
    registry: &MleapRegistry,
) -> Result<Vec<Arc<dyn Stage>>> {
    let loader = registry
        .iter()
        .find(|(op, _)| *op == node.op)
        .map(|(_, l)| l)
        .ok_or_else(|| EmberError::UnsupportedStage {
            uid: node.name.clone(),
            class: format!("MLeap op '{}'", node.op),
            where_: format!(" (MLeap bundle version {})", node.version),
            supported: std::iter::once("pipeline")
                .chain(registry.iter().map(|(op, _)| *op))
                .map(str::to_string)
                .collect(),
        })?;
    match loader {
        MleapLoad::One(load) => Ok(vec![load(node, files)?]),
        MleapLoad::Many(load) => load(node, files, registry),
    }
}

/// Loads the node (or nested pipeline) in the subdirectory `sub` of `node`'s directory, with
/// `node`'s bundle version and encoding, into its stages in order.
pub fn load_nested(
    node: &MleapNode,
    sub: &str,
    files: &dyn BundleFiles,
    registry: &MleapRegistry,
) -> Result<Vec<Arc<dyn Stage>>> {
    if sub.is_empty()
        || sub
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..")
    {
        return Err(node.error(sub, "not a subdirectory name"));
    }
    let dir = format!("{}/{sub}", node.path);
    let info = BundleInfo {
        name: node.name.clone(),
        format: node.format.clone(),
        version: node.version.clone(),
    };
    let mut out = Vec::new();
    // each level of nesting is a directory deeper: bounded by the depth guard of load_into
    let depth = dir.matches('/').count();
    load_into(files, &dir, &info, registry, &mut out, depth)?;
    Ok(out)
}
