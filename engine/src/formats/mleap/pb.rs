//! The protobuf encoding of MLeap bundles (`"format": "protobuf"` in `bundle.json`):
//! `node.pb`, `model.pb` and `tree.pb` instead of their JSON twins.
//!
//! The message types below follow the schema of combust/bundle-protobuf (`bundle/bundle.proto`,
//! package `ml.bundle`, and `bundle/ext/dtree.proto`, package `ml.bundle.dtree`), written out
//! with `prost` derives so the build needs no `protoc`. Field numbers are the schema's.
//!
//! Decoded messages are converted into exactly the JSON shapes the JSON encoding uses
//! (`{"double": 1.5}`, `{"type": "list", "string": [...]}`, `{"type": "tensor", "double": [...],
//! "shape": {...}}`, tree nodes as `{"type": "leaf", "values": [...]}`), so every op loader reads
//! one representation whatever the bundle's encoding. As in the JSON writer, proto3 default
//! values (0, false, "") are simply absent and read as zero.

use prost::Message;
use serde_json::{Map, Value as Json, json};

/// `ml.bundle.BasicType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, prost::Enumeration)]
#[repr(i32)]
pub enum BasicType {
    /// Unknown.
    Undefined = 0,
    /// `boolean`.
    Boolean = 1,
    /// `byte`.
    Byte = 2,
    /// `short`.
    Short = 3,
    /// `int`.
    Int = 4,
    /// `long`.
    Long = 5,
    /// `float`.
    Float = 6,
    /// `double`.
    Double = 7,
    /// `string`.
    String = 100,
    /// `byte_string`.
    ByteString = 101,
}

impl BasicType {
    fn json_name(self) -> &'static str {
        match self {
            BasicType::Undefined => "undefined",
            BasicType::Boolean => "boolean",
            BasicType::Byte => "byte",
            BasicType::Short => "short",
            BasicType::Int => "int",
            BasicType::Long => "long",
            BasicType::Float => "float",
            BasicType::Double => "double",
            BasicType::String => "string",
            BasicType::ByteString => "byte_string",
        }
    }
}

/// `ml.bundle.TensorDimension`.
#[derive(Clone, PartialEq, Message)]
pub struct TensorDimension {
    /// Size of the dimension.
    #[prost(int32, tag = "1")]
    pub size: i32,
    /// Unused name.
    #[prost(string, tag = "2")]
    pub name: String,
}

/// `ml.bundle.TensorShape`.
#[derive(Clone, PartialEq, Message)]
pub struct TensorShape {
    /// The dimensions, outermost first.
    #[prost(message, repeated, tag = "1")]
    pub dimensions: Vec<TensorDimension>,
}

/// `ml.bundle.Tensor`: elements packed big-endian in `value`.
#[derive(Clone, PartialEq, Message)]
pub struct Tensor {
    /// Element type.
    #[prost(enumeration = "BasicType", tag = "1")]
    pub base: i32,
    /// Shape.
    #[prost(message, optional, tag = "2")]
    pub shape: Option<TensorShape>,
    /// Java `ByteBuffer` big-endian packed elements.
    #[prost(bytes = "vec", tag = "3")]
    pub value: Vec<u8>,
}

/// `ml.bundle.DataShape`.
#[derive(Clone, PartialEq, Message)]
pub struct DataShape {
    /// 0 scalar, 1 list, 2 tensor.
    #[prost(int32, tag = "1")]
    pub base: i32,
    /// Whether the column is nullable.
    #[prost(bool, tag = "2")]
    pub is_nullable: bool,
    /// For tensors.
    #[prost(message, optional, tag = "3")]
    pub tensor_shape: Option<TensorShape>,
}

/// `ml.bundle.List`.
#[derive(Clone, PartialEq, Message)]
pub struct List {
    /// Booleans.
    #[prost(bool, repeated, tag = "1")]
    pub b: Vec<bool>,
    /// Strings.
    #[prost(string, repeated, tag = "2")]
    pub s: Vec<String>,
    /// 32-bit integers.
    #[prost(int32, repeated, tag = "3")]
    pub i: Vec<i32>,
    /// 64-bit integers.
    #[prost(int64, repeated, tag = "4")]
    pub l: Vec<i64>,
    /// Floats.
    #[prost(float, repeated, tag = "5")]
    pub f: Vec<f32>,
    /// Doubles.
    #[prost(double, repeated, tag = "6")]
    pub d: Vec<f64>,
    /// Byte strings.
    #[prost(bytes = "vec", repeated, tag = "7")]
    pub bs: Vec<Vec<u8>>,
    /// Tensors.
    #[prost(message, repeated, tag = "8")]
    pub t: Vec<Tensor>,
    /// Basic types.
    #[prost(enumeration = "BasicType", repeated, tag = "9")]
    pub bt: Vec<i32>,
    /// Data shapes.
    #[prost(message, repeated, tag = "10")]
    pub ds: Vec<DataShape>,
    /// Nested models.
    #[prost(message, repeated, tag = "11")]
    pub m: Vec<Model>,
}

/// `ml.bundle.Scalar`.
#[derive(Clone, PartialEq, Message)]
pub struct Scalar {
    /// Boolean.
    #[prost(bool, tag = "1")]
    pub b: bool,
    /// String.
    #[prost(string, tag = "2")]
    pub s: String,
    /// 32-bit integer.
    #[prost(int32, tag = "3")]
    pub i: i32,
    /// 64-bit integer.
    #[prost(int64, tag = "4")]
    pub l: i64,
    /// Float.
    #[prost(float, tag = "5")]
    pub f: f32,
    /// Double.
    #[prost(double, tag = "6")]
    pub d: f64,
    /// Byte string.
    #[prost(bytes = "vec", tag = "7")]
    pub bs: Vec<u8>,
    /// Tensor.
    #[prost(message, optional, tag = "8")]
    pub t: Option<Tensor>,
    /// Basic type.
    #[prost(enumeration = "BasicType", tag = "9")]
    pub bt: i32,
    /// Data shape.
    #[prost(message, optional, tag = "10")]
    pub ds: Option<DataShape>,
    /// Nested model.
    #[prost(message, optional, tag = "11")]
    pub m: Option<Box<Model>>,
}

/// `ml.bundle.Value`.
#[derive(Clone, PartialEq, Message)]
pub struct Value {
    /// The value.
    #[prost(oneof = "ValueKind", tags = "1, 2, 3")]
    pub v: Option<ValueKind>,
}

/// The `oneof v` of `ml.bundle.Value`.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum ValueKind {
    /// A scalar.
    #[prost(message, tag = "1")]
    S(Scalar),
    /// A list.
    #[prost(message, tag = "2")]
    L(List),
    /// A tensor.
    #[prost(message, tag = "3")]
    T(Tensor),
}

/// `ml.bundle.Attributes`.
#[derive(Clone, PartialEq, Message)]
pub struct Attributes {
    /// Attribute name → value.
    #[prost(map = "string, message", tag = "1")]
    pub list: std::collections::HashMap<String, Value>,
}

/// `ml.bundle.Model` (`model.pb`).
#[derive(Clone, PartialEq, Message)]
pub struct Model {
    /// The op name.
    #[prost(string, tag = "1")]
    pub op: String,
    /// The attributes.
    #[prost(message, optional, tag = "2")]
    pub attributes: Option<Attributes>,
}

/// `ml.bundle.Socket`.
#[derive(Clone, PartialEq, Message)]
pub struct Socket {
    /// The op's port.
    #[prost(string, tag = "1")]
    pub port: String,
    /// The frame column.
    #[prost(string, tag = "2")]
    pub name: String,
}

/// `ml.bundle.NodeShape`.
#[derive(Clone, PartialEq, Message)]
pub struct NodeShape {
    /// Input sockets.
    #[prost(message, repeated, tag = "1")]
    pub inputs: Vec<Socket>,
    /// Output sockets.
    #[prost(message, repeated, tag = "2")]
    pub outputs: Vec<Socket>,
}

/// `ml.bundle.Node` (`node.pb`).
#[derive(Clone, PartialEq, Message)]
pub struct Node {
    /// The node name (stage uid).
    #[prost(string, tag = "1")]
    pub name: String,
    /// The port bindings.
    #[prost(message, optional, tag = "2")]
    pub shape: Option<NodeShape>,
}

/// `ml.bundle.dtree.Split.CategoricalSplit`.
#[derive(Clone, PartialEq, Message)]
pub struct CategoricalSplit {
    /// Feature index.
    #[prost(uint32, tag = "1")]
    pub feature_index: u32,
    /// Whether `categories` are the left side.
    #[prost(bool, tag = "2")]
    pub is_left: bool,
    /// Number of categories of the feature.
    #[prost(uint32, tag = "3")]
    pub num_categories: u32,
    /// The categories on the `is_left` side.
    #[prost(double, repeated, tag = "4")]
    pub categories: Vec<f64>,
}

/// `ml.bundle.dtree.Split.ContinuousSplit`.
#[derive(Clone, PartialEq, Message)]
pub struct ContinuousSplit {
    /// Feature index.
    #[prost(uint32, tag = "1")]
    pub feature_index: u32,
    /// Go left iff `x <= threshold`.
    #[prost(double, tag = "2")]
    pub threshold: f64,
}

/// `ml.bundle.dtree.Split`.
#[derive(Clone, PartialEq, Message)]
pub struct Split {
    /// The split.
    #[prost(oneof = "SplitKind", tags = "1, 2")]
    pub s: Option<SplitKind>,
}

/// The `oneof s` of a split.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum SplitKind {
    /// Categorical.
    #[prost(message, tag = "1")]
    Categorical(CategoricalSplit),
    /// Continuous.
    #[prost(message, tag = "2")]
    Continuous(ContinuousSplit),
}

/// `ml.bundle.dtree.Node.InternalNode`.
#[derive(Clone, PartialEq, Message)]
pub struct InternalNode {
    /// The split.
    #[prost(message, optional, tag = "1")]
    pub split: Option<Split>,
}

/// `ml.bundle.dtree.Node.LeafNode`.
#[derive(Clone, PartialEq, Message)]
pub struct LeafNode {
    /// Prediction (regression) or class statistics (classification).
    #[prost(double, repeated, tag = "1")]
    pub values: Vec<f64>,
}

/// `ml.bundle.dtree.Node`.
#[derive(Clone, PartialEq, Message)]
pub struct TreeNode {
    /// The node.
    #[prost(oneof = "TreeNodeKind", tags = "1, 2")]
    pub n: Option<TreeNodeKind>,
}

/// The `oneof n` of a tree node.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum TreeNodeKind {
    /// An internal node.
    #[prost(message, tag = "1")]
    Internal(InternalNode),
    /// A leaf.
    #[prost(message, tag = "2")]
    Leaf(LeafNode),
}

type R<T> = std::result::Result<T, String>;

fn num(x: f64) -> Json {
    // the JSON writer turns NaN and ±Infinity into null; do the same
    serde_json::Number::from_f64(x).map_or(Json::Null, Json::Number)
}

fn shape_json(shape: Option<&TensorShape>) -> Json {
    let dims: Vec<Json> = shape
        .map(|s| s.dimensions.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|d| json!({"size": d.size, "name": d.name}))
        .collect();
    json!({ "dimensions": dims })
}

fn data_shape_json(ds: &DataShape) -> Json {
    let base = match ds.base {
        1 => "list",
        2 => "tensor",
        _ => "scalar",
    };
    let mut m = Map::new();
    m.insert("base".into(), json!(base));
    m.insert("isNullable".into(), json!(ds.is_nullable));
    if let Some(ts) = &ds.tensor_shape {
        m.insert("tensorShape".into(), shape_json(Some(ts)));
    }
    Json::Object(m)
}

fn basic_type(code: i32) -> R<BasicType> {
    BasicType::try_from(code).map_err(|_| format!("unknown basic type {code}"))
}

/// Splits big-endian fixed-width elements; the byte count must be a whole number of elements.
fn chunks<const N: usize>(bytes: &[u8]) -> R<impl Iterator<Item = [u8; N]> + '_> {
    if !bytes.len().is_multiple_of(N) {
        return Err(format!(
            "tensor data of {} bytes is not a whole number of {N}-byte elements",
            bytes.len()
        ));
    }
    Ok(bytes
        .chunks_exact(N)
        .map(|c| <[u8; N]>::try_from(c).expect("chunks_exact yields N bytes")))
}

/// Length-prefixed (int32 big-endian) strings.
fn var_width(mut bytes: &[u8]) -> R<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let (len, rest) = bytes
            .split_first_chunk::<4>()
            .ok_or("truncated string length in tensor data")?;
        let len = usize::try_from(i32::from_be_bytes(*len))
            .map_err(|_| "negative string length in tensor data".to_string())?;
        if rest.len() < len {
            return Err("truncated string in tensor data".into());
        }
        out.push(rest[..len].to_vec());
        bytes = &rest[len..];
    }
    Ok(out)
}

/// The tensor's elements as a JSON array, under the key of its element type.
fn tensor_values(t: &Tensor) -> R<(&'static str, Json)> {
    let base = basic_type(t.base)?;
    let v = &t.value;
    let values: Vec<Json> = match base {
        BasicType::Boolean => v.iter().map(|b| json!(*b != 0)).collect(),
        BasicType::Byte => v.iter().map(|b| json!(*b as i8)).collect(),
        BasicType::Short => chunks::<2>(v)?
            .map(|c| json!(i16::from_be_bytes(c)))
            .collect(),
        BasicType::Int => chunks::<4>(v)?
            .map(|c| json!(i32::from_be_bytes(c)))
            .collect(),
        BasicType::Long => chunks::<8>(v)?
            .map(|c| json!(i64::from_be_bytes(c)))
            .collect(),
        BasicType::Float => chunks::<4>(v)?
            .map(|c| num(f32::from_be_bytes(c) as f64))
            .collect(),
        BasicType::Double => chunks::<8>(v)?
            .map(|c| num(f64::from_be_bytes(c)))
            .collect(),
        BasicType::String => var_width(v)?
            .into_iter()
            .map(|s| {
                String::from_utf8(s)
                    .map(Json::String)
                    .map_err(|_| "a string element of a tensor is not UTF-8".to_string())
            })
            .collect::<R<_>>()?,
        BasicType::ByteString => var_width(v)?.into_iter().map(|s| json!(s)).collect(),
        BasicType::Undefined => return Err("tensor with undefined element type".into()),
    };
    Ok((base.json_name(), Json::Array(values)))
}

fn tensor_json(t: &Tensor) -> R<Json> {
    let (key, values) = tensor_values(t)?;
    let mut m = Map::new();
    m.insert("type".into(), json!("tensor"));
    m.insert(key.into(), values);
    m.insert("shape".into(), shape_json(t.shape.as_ref()));
    Ok(Json::Object(m))
}

fn model_json(m: &Model) -> R<Json> {
    Ok(json!({"op": m.op, "attributes": attributes_json(m.attributes.as_ref())?}))
}

fn scalar_json(s: &Scalar) -> R<Json> {
    let mut m = Map::new();
    if s.b {
        m.insert("boolean".into(), json!(true));
    }
    if !s.s.is_empty() {
        m.insert("string".into(), json!(s.s));
    }
    if s.i != 0 {
        m.insert("int".into(), json!(s.i));
    }
    if s.l != 0 {
        m.insert("long".into(), json!(s.l));
    }
    if s.f != 0.0 {
        m.insert("float".into(), num(s.f as f64));
    }
    if s.d != 0.0 {
        m.insert("double".into(), num(s.d));
    }
    if !s.bs.is_empty() {
        m.insert("byte_string".into(), json!(s.bs));
    }
    if let Some(t) = &s.t {
        m.insert("tensor".into(), tensor_json(t)?);
    }
    if s.bt != 0 {
        m.insert("basic_type".into(), json!(basic_type(s.bt)?.json_name()));
    }
    if let Some(ds) = &s.ds {
        m.insert("data_shape".into(), data_shape_json(ds));
    }
    if let Some(model) = &s.m {
        m.insert("model".into(), model_json(model)?);
    }
    Ok(Json::Object(m))
}

fn list_json(l: &List) -> R<Json> {
    let mut m = Map::new();
    m.insert("type".into(), json!("list"));
    let mut put = |k: &str, v: Vec<Json>| {
        if !v.is_empty() {
            m.insert(k.into(), Json::Array(v));
        }
    };
    put("boolean", l.b.iter().map(|x| json!(x)).collect());
    put("string", l.s.iter().map(|x| json!(x)).collect());
    put("int", l.i.iter().map(|x| json!(x)).collect());
    put("long", l.l.iter().map(|x| json!(x)).collect());
    put("float", l.f.iter().map(|x| num(*x as f64)).collect());
    put("double", l.d.iter().map(|x| num(*x)).collect());
    put("byte_string", l.bs.iter().map(|x| json!(x)).collect());
    put("tensor", l.t.iter().map(tensor_json).collect::<R<_>>()?);
    put(
        "basic_type",
        l.bt.iter()
            .map(|x| basic_type(*x).map(|b| json!(b.json_name())))
            .collect::<R<_>>()?,
    );
    put("data_shape", l.ds.iter().map(data_shape_json).collect());
    put("model", l.m.iter().map(model_json).collect::<R<_>>()?);
    Ok(Json::Object(m))
}

fn attributes_json(a: Option<&Attributes>) -> R<Json> {
    let mut out = Map::new();
    for (name, value) in a.map(|a| &a.list).into_iter().flatten() {
        let v = match &value.v {
            None => Ok(Json::Object(Map::new())),
            Some(ValueKind::S(s)) => scalar_json(s),
            Some(ValueKind::L(l)) => list_json(l),
            Some(ValueKind::T(t)) => tensor_json(t),
        }
        .map_err(|e| format!("attribute '{name}': {e}"))?;
        out.insert(name.clone(), v);
    }
    Ok(Json::Object(out))
}

/// Decodes `model.pb` into the JSON form of `model.json`.
pub fn model_to_json(bytes: &[u8]) -> R<Json> {
    let m = Model::decode(bytes).map_err(|e| format!("invalid protobuf Model: {e}"))?;
    model_json(&m)
}

/// Decodes `node.pb` into the JSON form of `node.json`.
pub fn node_to_json(bytes: &[u8]) -> R<Json> {
    let n = Node::decode(bytes).map_err(|e| format!("invalid protobuf Node: {e}"))?;
    let sockets = |s: &[Socket]| -> Vec<Json> {
        s.iter()
            .map(|s| json!({"port": s.port, "name": s.name}))
            .collect()
    };
    let shape = n.shape.unwrap_or_default();
    Ok(json!({
        "name": n.name,
        "shape": {"inputs": sockets(&shape.inputs), "outputs": sockets(&shape.outputs)},
    }))
}

/// Decodes `tree.pb` (a sequence of `[int32 big-endian length][dtree.Node]`, pre-order) into the
/// JSON objects of `tree.json`'s lines.
pub fn tree_to_json(mut bytes: &[u8]) -> R<Vec<Json>> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let index = out.len();
        let (len, rest) = bytes
            .split_first_chunk::<4>()
            .ok_or_else(|| format!("node {index}: truncated length prefix"))?;
        let len = usize::try_from(i32::from_be_bytes(*len))
            .map_err(|_| format!("node {index}: negative length"))?;
        if rest.len() < len {
            return Err(format!(
                "node {index}: {len} bytes announced, {} left",
                rest.len()
            ));
        }
        let node = TreeNode::decode(&rest[..len])
            .map_err(|e| format!("node {index}: invalid protobuf: {e}"))?;
        bytes = &rest[len..];
        out.push(match node.n {
            Some(TreeNodeKind::Leaf(l)) => {
                json!({"type": "leaf", "values": l.values.iter().map(|v| num(*v)).collect::<Vec<_>>()})
            }
            Some(TreeNodeKind::Internal(i)) => {
                let split = match i.split.and_then(|s| s.s) {
                    Some(SplitKind::Continuous(c)) => json!({
                        "type": "continuous",
                        "featureIndex": c.feature_index,
                        "threshold": num(c.threshold),
                    }),
                    Some(SplitKind::Categorical(c)) => json!({
                        "type": "categorical",
                        "featureIndex": c.feature_index,
                        "isLeft": c.is_left,
                        "numCategories": c.num_categories,
                        "categories": c.categories,
                    }),
                    None => return Err(format!("node {index}: internal node without a split")),
                };
                json!({"type": "internal", "split": split})
            }
            None => return Err(format!("node {index}: neither leaf nor internal")),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn double_tensor(values: &[f64], dims: &[i32]) -> Tensor {
        Tensor {
            base: BasicType::Double as i32,
            shape: Some(TensorShape {
                dimensions: dims
                    .iter()
                    .map(|&size| TensorDimension {
                        size,
                        name: String::new(),
                    })
                    .collect(),
            }),
            value: values.iter().flat_map(|v| v.to_be_bytes()).collect(),
        }
    }

    #[test]
    fn model_round_trips_into_json_shapes() {
        let mut attrs = std::collections::HashMap::new();
        attrs.insert(
            "coefficients".to_string(),
            Value {
                v: Some(ValueKind::T(double_tensor(&[1.5, -2.0, f64::NAN], &[3]))),
            },
        );
        attrs.insert(
            "labels".to_string(),
            Value {
                v: Some(ValueKind::L(List {
                    s: vec!["a".into(), "b".into()],
                    ..Default::default()
                })),
            },
        );
        attrs.insert(
            "intercept".to_string(),
            Value {
                v: Some(ValueKind::S(Scalar {
                    d: 0.25,
                    ..Default::default()
                })),
            },
        );
        attrs.insert(
            "fit_intercept".to_string(),
            Value {
                v: Some(ValueKind::S(Scalar::default())),
            },
        );
        let bytes = Model {
            op: "linear_regression".into(),
            attributes: Some(Attributes { list: attrs }),
        }
        .encode_to_vec();
        let j = model_to_json(&bytes).unwrap();
        assert_eq!(j["op"], "linear_regression");
        let a = &j["attributes"];
        assert_eq!(a["coefficients"]["double"], json!([1.5, -2.0, null]));
        assert_eq!(a["coefficients"]["shape"]["dimensions"][0]["size"], 3);
        assert_eq!(a["labels"], json!({"type": "list", "string": ["a", "b"]}));
        assert_eq!(a["intercept"], json!({"double": 0.25}));
        assert_eq!(a["fit_intercept"], json!({}));
    }

    #[test]
    fn tree_nodes_decode_in_order() {
        let nodes = [
            TreeNode {
                n: Some(TreeNodeKind::Internal(InternalNode {
                    split: Some(Split {
                        s: Some(SplitKind::Continuous(ContinuousSplit {
                            feature_index: 2,
                            threshold: 0.5,
                        })),
                    }),
                })),
            },
            TreeNode {
                n: Some(TreeNodeKind::Leaf(LeafNode { values: vec![1.0] })),
            },
            TreeNode {
                n: Some(TreeNodeKind::Leaf(LeafNode { values: vec![2.0] })),
            },
        ];
        let mut bytes = Vec::new();
        for n in &nodes {
            let b = n.encode_to_vec();
            bytes.extend((b.len() as i32).to_be_bytes());
            bytes.extend(b);
        }
        let j = tree_to_json(&bytes).unwrap();
        assert_eq!(j.len(), 3);
        assert_eq!(j[0]["split"]["featureIndex"], 2);
        assert_eq!(j[0]["split"]["threshold"], 0.5);
        assert_eq!(j[2], json!({"type": "leaf", "values": [2.0]}));
        // a truncated stream is an error, not a panic
        assert!(tree_to_json(&bytes[..bytes.len() - 1]).is_err());
        assert!(tree_to_json(&[0, 0, 0]).is_err());
        assert!(tree_to_json(&[0xff, 0xff, 0xff, 0xff]).is_err());
    }

    #[test]
    fn malformed_tensors_are_errors() {
        let mut t = double_tensor(&[1.0], &[1]);
        t.value.pop();
        assert!(tensor_json(&t).unwrap_err().contains("whole number"));
        let s = Tensor {
            base: BasicType::String as i32,
            shape: None,
            value: vec![0, 0, 0, 9, b'a'],
        };
        assert!(tensor_json(&s).is_err());
        assert!(model_to_json(&[0xff, 0xff]).is_err());
    }
}
