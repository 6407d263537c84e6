//! MLeap attribute values in JSON (`JsonSupport.scala`): scalars (`{"double": 1.0}`; the
//! writer omits zero/false/empty values, so `{}` reads as zero), basic types
//! (`{"basic_type": "string"}`), lists
//! (`{"type": "list", "string": [...]}`), tensors (`{"type": "tensor", "double": [...],
//! "shape": {"dimensions": [{"size": n}]}}`, matrices column-major), `null` doubles for NaN.

use std::collections::HashMap;

use ember_udfs::shown::Shown;
use serde_json::Value as Json;

/// The attributes of an MLeap model, by name, kept as JSON and read by type on demand (the op
/// defines each attribute's type; the JSON does not always say).
#[derive(Debug, Clone, Default)]
pub struct Attributes {
    values: HashMap<String, Json>,
}

type R<T> = std::result::Result<T, String>;

/// A JSON value from a model file as quoted in a message: scalars through [`Shown`], lists and
/// objects by their size only (a model's value may be megabytes long).
pub(crate) fn brief(v: &Json) -> String {
    match v {
        Json::String(s) => format!("\"{}\"", Shown(s)),
        Json::Array(a) => format!("a list of {} values", a.len()),
        Json::Object(m) => format!("an object with {} fields", m.len()),
        other => Shown(&other.to_string()).to_string(),
    }
}

fn f64_of(v: &Json) -> R<f64> {
    match v {
        Json::Null => Ok(f64::NAN),
        Json::Number(n) => n.as_f64().ok_or_else(|| format!("{n} is not a number")),
        Json::String(s) => match s.as_str() {
            "NaN" => Ok(f64::NAN),
            "Infinity" | "Inf" => Ok(f64::INFINITY),
            "-Infinity" | "-Inf" => Ok(f64::NEG_INFINITY),
            _ => Err(format!("'{s}' is not a number")),
        },
        other => Err(format!("{} is not a number", brief(other))),
    }
}

/// The value under the first of `keys` present in an attribute value object; `None` when the
/// object holds no value at all (the writer omits zero values), an error when it holds a value
/// of another type (e.g. `{"string": "x"}` where a double is expected).
fn value_of<'a>(m: &'a serde_json::Map<String, Json>, keys: &[&str]) -> R<Option<&'a Json>> {
    if let Some(v) = keys.iter().find_map(|k| m.get(*k)) {
        return Ok(Some(v));
    }
    match m.keys().find(|k| !matches!(k.as_str(), "type" | "shape")) {
        Some(other) => Err(format!(
            "expected a {} value, found a {other} value",
            keys[0]
        )),
        None => Ok(None),
    }
}

impl Attributes {
    /// Parses the `attributes` object of a `model.json`.
    pub fn from_json(v: Option<&Json>) -> R<Self> {
        match v {
            None | Some(Json::Null) => Ok(Self::default()),
            Some(Json::Object(m)) => Ok(Self {
                values: m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            }),
            Some(other) => Err(format!(
                "attributes must be an object, found {}",
                brief(other)
            )),
        }
    }

    /// [`Attributes::from_json`] taking the `attributes` object by value (no copy).
    pub fn from_owned(v: Option<Json>) -> R<Self> {
        match v {
            None | Some(Json::Null) => Ok(Self::default()),
            Some(Json::Object(m)) => Ok(Self {
                values: m.into_iter().collect(),
            }),
            Some(other) => Err(format!(
                "attributes must be an object, found {}",
                brief(&other)
            )),
        }
    }

    /// True when the attribute is present.
    pub fn has(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    fn get(&self, name: &str) -> R<&serde_json::Map<String, Json>> {
        match self.values.get(name) {
            Some(Json::Object(m)) => Ok(m),
            Some(other) => Err(format!(
                "expected an attribute value object, found {}",
                brief(other)
            )),
            None => Err("missing".into()),
        }
    }

    /// A list of strings (`{"type":"list","string":[...]}`; an empty list may omit the key).
    pub fn strings(&self, name: &str) -> R<Vec<String>> {
        let m = self.get(name)?;
        match value_of(m, &["string"])? {
            None => Ok(Vec::new()),
            Some(Json::Array(a)) => a
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| format!("{v} is not a string"))
                })
                .collect(),
            Some(other) => Err(format!(
                "expected a list of strings, found {}",
                brief(other)
            )),
        }
    }

    /// A scalar string (`{"string": "keep"}`; `{}` is the empty string).
    pub fn string(&self, name: &str) -> R<String> {
        let m = self.get(name)?;
        match value_of(m, &["string"])? {
            None => Ok(String::new()),
            Some(Json::String(s)) => Ok(s.clone()),
            Some(other) => Err(format!("expected a string, found {}", brief(other))),
        }
    }

    /// A basic type name (`{"basic_type": "double"}`: `boolean`, `byte`, `short`, `int`,
    /// `long`, `float`, `double`, `string`, `byte_string`); `{}` (undefined) is an error.
    pub fn basic_type(&self, name: &str) -> R<String> {
        let m = self.get(name)?;
        match value_of(m, &["basic_type"])? {
            None => Err("the basic type is undefined".into()),
            Some(Json::String(s)) => Ok(s.clone()),
            Some(other) => Err(format!(
                "expected a basic type name, found {}",
                brief(other)
            )),
        }
    }

    /// A scalar double (`{"double": 0.5}`; `{}` is 0, `null` is NaN).
    pub fn f64(&self, name: &str) -> R<f64> {
        let m = self.get(name)?;
        match value_of(m, &["double", "float"])? {
            None => Ok(0.0),
            Some(v) => f64_of(v),
        }
    }

    /// A scalar integer (`int` or `long`; `{}` is 0).
    pub fn i64(&self, name: &str) -> R<i64> {
        let m = self.get(name)?;
        match value_of(m, &["long", "int"])? {
            None => Ok(0),
            Some(v) => v.as_i64().ok_or_else(|| format!("{v} is not an integer")),
        }
    }

    /// A scalar boolean (`{}` is false).
    pub fn bool(&self, name: &str) -> R<bool> {
        let m = self.get(name)?;
        match value_of(m, &["boolean"])? {
            None => Ok(false),
            Some(Json::Bool(b)) => Ok(*b),
            Some(other) => Err(format!("expected a boolean, found {}", brief(other))),
        }
    }

    /// A list of doubles, or a double tensor's values (flattened).
    pub fn f64s(&self, name: &str) -> R<Vec<f64>> {
        let m = self.get(name)?;
        match value_of(m, &["double", "float"])? {
            None => Ok(Vec::new()),
            Some(Json::Array(a)) => a.iter().map(f64_of).collect(),
            Some(other) => Err(format!(
                "expected a list of numbers, found {}",
                brief(other)
            )),
        }
    }

    /// A list of integers (`long` or `int`).
    pub fn i64s(&self, name: &str) -> R<Vec<i64>> {
        let m = self.get(name)?;
        match value_of(m, &["long", "int"])? {
            None => Ok(Vec::new()),
            Some(Json::Array(a)) => a
                .iter()
                .map(|v| v.as_i64().ok_or_else(|| format!("{v} is not an integer")))
                .collect(),
            Some(other) => Err(format!(
                "expected a list of integers, found {}",
                brief(other)
            )),
        }
    }

    /// A tensor's dimensions.
    pub fn shape(&self, name: &str) -> R<Vec<usize>> {
        let m = self.get(name)?;
        let dims = m
            .get("shape")
            .and_then(|s| s.get("dimensions"))
            .and_then(Json::as_array)
            .ok_or_else(|| "tensor without shape.dimensions".to_string())?;
        dims.iter()
            .map(|d| {
                d.get("size")
                    .and_then(Json::as_u64)
                    .map(|n| n as usize)
                    .ok_or_else(|| "tensor dimension without a size".to_string())
            })
            .collect()
    }

    /// The raw JSON of an attribute (for list-of-objects values such as data shapes).
    pub fn raw(&self, name: &str) -> Option<&Json> {
        self.values.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_typed_attribute_is_quoted_briefly() {
        // a million-item list where a string list's object was expected
        let big = Json::Array(vec![Json::from(1.5); 1_000_000]);
        let attrs = Attributes::from_owned(Some(serde_json::json!({ "labels": big }))).unwrap();
        let err = attrs.strings("labels").unwrap_err();
        assert_eq!(
            err,
            "expected an attribute value object, found a list of 1000000 values"
        );
        let s = Json::String(format!("a\nb{}", "x".repeat(500)));
        let shown = brief(&s);
        assert!(shown.starts_with("\"a\\nb") && shown.len() < 200, "{shown}");
    }
}
