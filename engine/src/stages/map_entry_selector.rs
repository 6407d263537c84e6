//! MLeap's `map_entry_selector` op (`MapEntrySelectorModel`; no Spark class in Spark itself):
//! `map[key]` per row, or `default_value` when the key is absent.

use std::sync::Arc;

use ember_udfs::map_entry_selector::{
    MapDefault, MapEntrySelector as Model, MapEntrySelectorUdf, MapValueType,
};

use crate::stages::StageDecl;
use crate::error::Result;
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode};
use crate::stage::{ColumnSpec, ColumnType, Stage, StageContext, StagePlan};

/// The MLeap model class (there is no Spark class).
pub const CLASS: &str = "ml.combust.mleap.core.feature.MapEntrySelectorModel";

/// What loads this module's stages.
pub const DECL: &[StageDecl] = &[
    StageDecl::mleap_only(CLASS, "map_entry_selector", MapEntrySelector::from_mleap),
];

/// A fitted selector with its columns.
#[derive(Debug)]
pub struct MapEntrySelector {
    uid: String,
    input: String,
    key: String,
    output: String,
    model: Arc<Model>,
}

impl MapEntrySelector {
    /// Loads MLeap's `map_entry_selector` op: `key_type` (MLeap supports only `string`),
    /// `value_type` (ember supports `double` and `string`), `default_value` of the value type;
    /// input ports `input` (the map) and `key`, output port `output`.
    pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
        let key_type = node.attr("key_type", Attributes::basic_type)?;
        if key_type != "string" {
            return Err(node.error(
                "key_type",
                format!("map keys of type {key_type} are not supported (MLeap supports string)"),
            ));
        }
        let value_type = node.attr("value_type", Attributes::basic_type)?;
        let value = MapValueType::parse(&value_type).ok_or_else(|| {
            node.error(
                "value_type",
                format!(
                    "map values of type {value_type} are not supported (supported: double, string)"
                ),
            )
        })?;
        let default = match value {
            MapValueType::Double => {
                MapDefault::Double(node.attr("default_value", Attributes::f64)?)
            }
            MapValueType::String => {
                MapDefault::String(node.attr("default_value", Attributes::string)?)
            }
        };
        Ok(Arc::new(Self {
            uid: node.name.clone(),
            input: node.required_input("input")?,
            key: node.required_input("key")?,
            output: node.required_output("output")?,
            model: Arc::new(Model { default }),
        }))
    }

    fn value_type(&self) -> MapValueType {
        self.model.default.value_type()
    }
}

impl Stage for MapEntrySelector {
    fn uid(&self) -> &str {
        &self.uid
    }

    fn class(&self) -> &'static str {
        CLASS
    }

    fn inputs(&self) -> Vec<ColumnSpec> {
        vec![
            ColumnSpec::new(&self.input, ColumnType::Map(self.value_type())),
            ColumnSpec::new(&self.key, ColumnType::Text),
        ]
    }

    fn outputs(&self, _: &dyn Fn(&str) -> Option<ColumnSpec>) -> Vec<ColumnSpec> {
        let ty = match self.value_type() {
            MapValueType::Double => ColumnType::Double,
            MapValueType::String => ColumnType::Text,
        };
        vec![ColumnSpec::new(&self.output, ty)]
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        vec![
            ("valueType", self.value_type().name().to_string()),
            (
                "defaultValue",
                match &self.model.default {
                    MapDefault::Double(d) => d.to_string(),
                    MapDefault::String(s) => format!("{s:?}"),
                },
            ),
        ]
    }

    fn compile(&self, ctx: &StageContext<'_>) -> Result<StagePlan> {
        let udf = MapEntrySelectorUdf::new(
            ctx.udf_name(""),
            ctx.stage_ref(),
            self.input.as_str(),
            Arc::clone(&self.model),
        );
        let args = vec![
            ctx.map(&self.input, self.value_type())?,
            ctx.text(&self.key)?,
        ];
        Ok(StagePlan::columns(vec![(
            self.output.clone(),
            ctx.call(udf, args),
        )]))
    }
}
