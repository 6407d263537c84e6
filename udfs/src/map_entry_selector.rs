//! MLeap's `map_entry_selector` op (`MapEntrySelectorModel`): `map[key]` per row, or the
//! model's default value when the map has no such key (Scala's `Map.getOrElse`).
//!
//! MLeap only has string keys; ember supports `double` and `string` values. A map column is
//! Arrow `Map<Utf8, V>` with Spark's Parquet names (`key_value` entries of `key`, `value`; see
//! [`string_map_type`]); the compiler casts other map encodings to it.
//!
//! # Null Handling
//! A null map fails (MLeap's and the Spark extension's lookups throw on null). A null key is
//! absent from every map: the default. A key present with a null value gives null. When an
//! Arrow map holds a key twice, the last entry wins (Scala's `toMap`).

use std::collections::hash_map::DefaultHasher;
use std::hash::Hash;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Builder, StringBuilder};
use arrow::datatypes::{DataType, Field, FieldRef, Fields, Float64Type};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use crate::common::{StageRef, arrays, fingerprint, for_each_str, hash_f64s, is_string_type};
use crate::udf_identity;

/// The value type of a map column (MLeap's `value_type`), as far as ember supports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MapValueType {
    /// `double` (Arrow `Float64`).
    Double,
    /// `string` (Arrow `Utf8`).
    String,
}

impl MapValueType {
    /// Parses MLeap's basic type name; `None` for types ember does not support here.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "double" => Some(Self::Double),
            "string" => Some(Self::String),
            _ => None,
        }
    }

    /// The basic type name (`double`, `string`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Double => "double",
            Self::String => "string",
        }
    }

    /// The Arrow type of a value.
    pub fn arrow_type(&self) -> DataType {
        match self {
            Self::Double => DataType::Float64,
            Self::String => DataType::Utf8,
        }
    }

    /// True when map values of Arrow type `t` convert to this type (numbers to double, any
    /// string encoding to string).
    pub fn accepts(&self, t: &DataType) -> bool {
        match self {
            Self::Double => t.is_numeric() || t == &DataType::Null,
            Self::String => is_string_type(t) || t == &DataType::Null,
        }
    }
}

/// The Arrow type of a `map<string, value>` column inside ember: Spark's Parquet layout
/// (`key_value` entries, non-null `key`, nullable `value`), unsorted.
pub fn string_map_type(value: MapValueType) -> DataType {
    DataType::Map(
        Arc::new(Field::new(
            "key_value",
            DataType::Struct(Fields::from(vec![
                Field::new("key", DataType::Utf8, false),
                Field::new("value", value.arrow_type(), true),
            ])),
            false,
        )),
        false,
    )
}

/// The key and value types of a map type (`None` for other types).
pub fn map_key_value(t: &DataType) -> Option<(&DataType, &DataType)> {
    match t {
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(f) if f.len() == 2 => Some((f[0].data_type(), f[1].data_type())),
            _ => None,
        },
        _ => None,
    }
}

/// True when `t` is an unsorted map with string keys whose values convert to `value`.
pub fn is_string_map_type(t: &DataType, value: MapValueType) -> bool {
    matches!(t, DataType::Map(_, false))
        && map_key_value(t).is_some_and(|(k, v)| is_string_type(k) && value.accepts(v))
}

/// The value returned for an absent key.
#[derive(Debug, Clone, PartialEq)]
pub enum MapDefault {
    /// For `double` values.
    Double(f64),
    /// For `string` values.
    String(String),
}

impl MapDefault {
    /// The value type it belongs to.
    pub fn value_type(&self) -> MapValueType {
        match self {
            Self::Double(_) => MapValueType::Double,
            Self::String(_) => MapValueType::String,
        }
    }

    fn hash_into(&self, h: &mut DefaultHasher) {
        match self {
            Self::Double(d) => hash_f64s(h, &[*d]),
            Self::String(s) => s.hash(h),
        }
    }
}

/// The fitted selector: only its default value.
#[derive(Debug, Clone, PartialEq)]
pub struct MapEntrySelector {
    /// Returned when the key is absent.
    pub default: MapDefault,
}

/// Where a key was found in one map row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// Not in the map (or a null key): the default.
    Absent,
    /// The index of the entry (into the map's values child).
    At(usize),
}

/// Looks `key` up among `keys[start..end]` (the last equal key wins).
pub fn find_key(
    keys: &arrow::array::StringArray,
    start: usize,
    end: usize,
    key: Option<&str>,
) -> Entry {
    let Some(key) = key else {
        return Entry::Absent;
    };
    (start..end)
        .rev()
        .find(|&j| keys.is_valid(j) && keys.value(j) == key)
        .map_or(Entry::Absent, Entry::At)
}

/// `map_entry_selector`: `(map<string, V>, string) → V`.
#[derive(Debug)]
pub struct MapEntrySelectorUdf {
    name: String,
    signature: Signature,
    stage: StageRef,
    column: String,
    model: Arc<MapEntrySelector>,
    fingerprint: u64,
}

udf_identity!(MapEntrySelectorUdf);

impl MapEntrySelectorUdf {
    /// A UDF named `name` selecting from the maps of `column` for `stage`.
    pub fn new(
        name: impl Into<String>,
        stage: StageRef,
        column: impl Into<String>,
        model: Arc<MapEntrySelector>,
    ) -> Self {
        let fingerprint = fingerprint(|h| model.default.hash_into(h));
        Self {
            name: name.into(),
            signature: Signature::any(2, Volatility::Immutable),
            stage,
            column: column.into(),
            model,
            fingerprint,
        }
    }

    fn value_type(&self) -> MapValueType {
        self.model.default.value_type()
    }
}

impl ScalarUDFImpl for MapEntrySelectorUdf {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(self.value_type().arrow_type())
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let vt = self.value_type();
        let types: Vec<&DataType> = args.arg_fields.iter().map(|f| f.data_type()).collect();
        match types.as_slice() {
            [m, k] if m == &&string_map_type(vt) && is_string_type(k) => {
                Ok(Arc::new(Field::new(&self.name, vt.arrow_type(), true)))
            }
            _ => plan_err!(
                "{}: {} expects a map<string,{}> column and a string key column, got {:?}",
                self.name,
                self.stage,
                vt.name(),
                types.iter().map(|t| t.to_string()).collect::<Vec<_>>()
            ),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let input = arrays(&args.args, args.number_rows)?;
        if input[0].data_type() != &string_map_type(self.value_type()) {
            return exec_err!(
                "{}: expected map<string,{}>, got {}",
                self.name,
                self.value_type().name(),
                input[0].data_type()
            );
        }
        let maps = input[0].as_map();
        let keys = maps.keys().as_string::<i32>();
        let offsets = maps.value_offsets();
        let values: &ArrayRef = maps.values();
        let rows = maps.len();
        // per row: the entry the key selects, or a null map (an error)
        let mut found = Vec::with_capacity(rows);
        for_each_str(&self.name, &input[1], |row, key| {
            if maps.is_null(row) {
                return Err(self.stage.error(&self.column, row, "null map"));
            }
            let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
            found.push(find_key(keys, start, end, key));
            Ok(())
        })?;
        let out: ArrayRef = match &self.model.default {
            MapDefault::Double(d) => {
                let values = values.as_primitive::<Float64Type>();
                let mut b = Float64Builder::with_capacity(rows);
                for e in found {
                    match e {
                        Entry::Absent => b.append_value(*d),
                        Entry::At(j) => {
                            b.append_option(values.is_valid(j).then(|| values.value(j)))
                        }
                    }
                }
                Arc::new(b.finish())
            }
            MapDefault::String(s) => {
                let values = values.as_string::<i32>();
                let mut b = StringBuilder::with_capacity(rows, rows * 8);
                for e in found {
                    match e {
                        Entry::Absent => b.append_value(s),
                        Entry::At(j) => {
                            b.append_option(values.is_valid(j).then(|| values.value(j)))
                        }
                    }
                }
                Arc::new(b.finish())
            }
        };
        Ok(ColumnarValue::Array(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, MapBuilder, MapFieldNames, StringArray};
    use arrow::compute::cast;

    use crate::testing::invoke;

    fn names() -> Option<MapFieldNames> {
        Some(MapFieldNames {
            entry: "key_value".into(),
            key: "key".into(),
            value: "value".into(),
        })
    }

    /// MLeap's MapEntrySelectorSpec rows, plus a null value, a repeated key and a null key.
    fn double_maps() -> ArrayRef {
        let mut b = MapBuilder::new(names(), StringBuilder::new(), Float64Builder::new());
        let rows: [&[(&str, Option<f64>)]; 6] = [
            &[("a", Some(1.0))],
            &[("b", Some(2.0))],
            &[("c", Some(3.0))],
            &[("a", None)],
            &[("a", Some(1.0)), ("a", Some(5.0))],
            &[("a", Some(1.0))],
        ];
        for r in rows {
            for (k, v) in r {
                b.keys().append_value(k);
                b.values().append_option(*v);
            }
            b.append(true).unwrap();
        }
        let a: ArrayRef = Arc::new(b.finish());
        // the builder marks values nullable but keys non-null already; normalise the type
        cast(&a, &string_map_type(MapValueType::Double)).unwrap()
    }

    fn udf(default: MapDefault) -> MapEntrySelectorUdf {
        MapEntrySelectorUdf::new(
            "sel",
            StageRef::new("map_entry_selector", "MapEntrySelectorModel"),
            "test_map",
            Arc::new(MapEntrySelector { default }),
        )
    }

    #[test]
    fn selects_or_defaults() {
        let keys: ArrayRef = Arc::new(StringArray::from(vec![
            Some("a"),
            Some("key_does_not_exist"),
            Some("c"),
            Some("a"),
            Some("a"),
            None,
        ]));
        let out = invoke(&udf(MapDefault::Double(42.42)), vec![double_maps(), keys]).unwrap();
        let out = out.as_primitive::<Float64Type>();
        let got: Vec<Option<f64>> = out.iter().collect();
        assert_eq!(
            got,
            vec![
                Some(1.0),
                Some(42.42),
                Some(3.0),
                None,
                Some(5.0),
                Some(42.42)
            ]
        );
    }

    #[test]
    fn string_values() {
        let mut b = MapBuilder::new(names(), StringBuilder::new(), StringBuilder::new());
        b.keys().append_value("k");
        b.values().append_value("v");
        b.append(true).unwrap();
        b.append(true).unwrap(); // empty map
        let maps = cast(
            &(Arc::new(b.finish()) as ArrayRef),
            &string_map_type(MapValueType::String),
        )
        .unwrap();
        let keys: ArrayRef = Arc::new(StringArray::from(vec!["k", "k"]));
        let out = invoke(&udf(MapDefault::String("none".into())), vec![maps, keys]).unwrap();
        let got: Vec<_> = out.as_string::<i32>().iter().collect();
        assert_eq!(got, vec![Some("v"), Some("none")]);
    }

    #[test]
    fn null_map_fails_and_wrong_types_are_planning_errors() {
        let mut b = MapBuilder::new(names(), StringBuilder::new(), Float64Builder::new());
        b.append(true).unwrap();
        b.append(false).unwrap();
        let maps = cast(
            &(Arc::new(b.finish()) as ArrayRef),
            &string_map_type(MapValueType::Double),
        )
        .unwrap();
        let keys: ArrayRef = Arc::new(StringArray::from(vec!["a", "a"]));
        let err = invoke(&udf(MapDefault::Double(0.0)), vec![maps, keys])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("null map") && err.contains("test_map"),
            "{err}"
        );
        // a double column where the map should be
        let not_a_map: ArrayRef = Arc::new(Float64Array::from(vec![1.0]));
        let keys: ArrayRef = Arc::new(StringArray::from(vec!["a"]));
        let err = invoke(&udf(MapDefault::Double(0.0)), vec![not_a_map, keys])
            .unwrap_err()
            .to_string();
        assert!(err.contains("map<string,double>"), "{err}");
    }

    #[test]
    fn map_types() {
        let t = string_map_type(MapValueType::Double);
        assert!(is_string_map_type(&t, MapValueType::Double));
        assert!(!is_string_map_type(&t, MapValueType::String));
        assert!(!is_string_map_type(&DataType::Utf8, MapValueType::Double));
        assert_eq!(MapValueType::parse("double"), Some(MapValueType::Double));
        assert_eq!(MapValueType::parse("long"), None);
    }
}
