//! MLeap's `string_map` op (`StringMapModel`): look a string up in a fixed label → double map.
//!
//! An absent label gives `default_value` under `handle_invalid = keep`, and fails under
//! `error` with MLeap's message.
//!
//! # Null Handling
//! A null input is a label like any other that is never in the map: `keep` gives the default,
//! `error` fails ("Missing label: null"), as MLeap's Scala map lookup does.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::Hash;

use arrow::datatypes::Float64Type;

use crate::common::hash_f64s;
use crate::shown::Shown;
use crate::string_lookup::{StringLookup, StringLookupUdf};

/// The fitted map.
#[derive(Debug, Clone)]
pub struct StringMap {
    /// Label → value (a repeated label keeps its last value, as Scala's `toMap`).
    pub map: HashMap<String, f64>,
    /// `Some(default)` under `keep`, `None` under `error`.
    pub default: Option<f64>,
}

impl StringMap {
    /// From MLeap's parallel `labels` and `values` lists.
    pub fn new(labels: &[String], values: &[f64], default: Option<f64>) -> Self {
        Self {
            map: labels.iter().cloned().zip(values.iter().copied()).collect(),
            default,
        }
    }

    /// Maps one label (`None` = null); `Err` carries MLeap's message.
    pub fn apply(&self, label: Option<&str>) -> std::result::Result<f64, String> {
        if let Some(v) = label.and_then(|l| self.map.get(l)) {
            return Ok(*v);
        }
        self.default.ok_or_else(|| {
            format!(
                "Missing label: {}. To handle unseen labels, set handleInvalid to keep and \
                 optionally set a custom defaultValue",
                Shown(label.unwrap_or("null"))
            )
        })
    }
}

impl StringLookup for StringMap {
    type Output = Float64Type;

    fn apply(&self, label: Option<&str>) -> std::result::Result<f64, String> {
        StringMap::apply(self, label)
    }

    fn fingerprint(&self, h: &mut DefaultHasher) {
        let mut entries: Vec<_> = self.map.iter().collect();
        entries.sort_by(|a, b| a.0.cmp(b.0));
        for (k, v) in entries {
            k.hash(h);
            hash_f64s(h, &[*v]);
        }
        self.default.map(f64::to_bits).hash(h);
    }
}

/// `string_map`: `string → double`.
pub type StringMapUdf = StringLookupUdf<StringMap>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_and_error() {
        let labels = ["a".to_string(), "b".to_string(), "a".to_string()];
        let keep = StringMap::new(&labels, &[1.0, 2.0, 3.0], Some(-1.0));
        assert_eq!(keep.apply(Some("a")), Ok(3.0));
        assert_eq!(keep.apply(Some("b")), Ok(2.0));
        assert_eq!(keep.apply(Some("c")), Ok(-1.0));
        assert_eq!(keep.apply(None), Ok(-1.0));
        let error = StringMap::new(&labels, &[1.0, 2.0, 3.0], None);
        assert!(
            error
                .apply(Some("c"))
                .unwrap_err()
                .starts_with("Missing label: c.")
        );
        assert!(
            error
                .apply(None)
                .unwrap_err()
                .starts_with("Missing label: null.")
        );
        let m = error.apply(Some(&"q\r".repeat(60_000))).unwrap_err();
        assert!(m.len() < 400 && !m.contains('\r'), "{m}");
        assert!(m.contains("… (120000 chars in all)"), "{m}");
    }
}
