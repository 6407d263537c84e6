//! Errors of loading, compiling and running a pipeline, each with the context needed to act on
//! it: the file, the stage (uid and class), the column.

use std::path::PathBuf;

use datafusion::error::DataFusionError;
use ember_udfs::StageError;
use ember_udfs::shown::shown_message;

/// Result alias for ember-engine.
pub type Result<T, E = EmberError> = std::result::Result<T, E>;

/// Everything that can go wrong between a model on disk and scored rows.
#[derive(Debug, thiserror::Error)]
pub enum EmberError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },

    /// A model file is not what its format requires.
    #[error("{path}: {message}")]
    Format {
        /// The offending file or directory.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },

    /// The model uses a stage class (or MLeap op) ember does not implement.
    #[error(
        "stage '{uid}' has class {class}, which ember does not support{where_}; supported: {}",
        supported.join(", ")
    )]
    UnsupportedStage {
        /// The stage's uid.
        uid: String,
        /// Its class (Spark) or op name (MLeap).
        class: String,
        /// Extra location context (e.g. the MLeap bundle version).
        where_: String,
        /// What ember does support.
        supported: Vec<String>,
    },

    /// A stage parameter or fitted value is missing or has a value ember cannot honour.
    #[error("stage '{uid}' ({class}): param '{param}': {message}")]
    Param {
        /// The stage's uid.
        uid: String,
        /// Its class.
        class: String,
        /// The param or data field.
        param: String,
        /// What is wrong.
        message: String,
    },

    /// The pipeline cannot be applied to the given input schema.
    #[error("stage '{uid}' ({class}): column '{column}': {message}")]
    Compile {
        /// The stage's uid.
        uid: String,
        /// Its class.
        class: String,
        /// The column involved.
        column: String,
        /// What is wrong.
        message: String,
    },

    /// A row a stage cannot transform (Spark would fail the job), located in the input.
    #[error("row {row}: {source}")]
    Row {
        /// Zero-based row index in the input given to the pipeline.
        row: usize,
        /// The stage's error.
        #[source]
        source: StageError,
    },

    /// A row a stage cannot transform, located in an input file: `at` is where, as a person
    /// finds it (`line 5` of a CSV or JSON lines file, `row 3` of a Parquet file, preceded by
    /// the file's name when there are several inputs).
    #[error("{at}: {source}")]
    InputRow {
        /// Where the row is in the input files.
        at: String,
        /// The stage's error.
        #[source]
        source: StageError,
    },

    /// A stage rejected a value while scoring through a DataFusion plan (Spark would fail the
    /// job the same way); the row is not known on this path.
    #[error("{0}")]
    Stage(StageError),

    /// Reading or writing data failed (malformed CSV or JSON, wrong types).
    #[error("{context}: {message}")]
    Data {
        /// Where (file, line, column).
        context: String,
        /// What is wrong.
        message: String,
    },

    /// An error from DataFusion while planning or executing (its text, which may quote input
    /// values, cut and escaped by [`shown_message`]).
    #[error("{}", shown_message(&.0.to_string()))]
    DataFusion(#[from] DataFusionError),

    /// An error from Arrow (its text cut and escaped by [`shown_message`]).
    #[error("{}", shown_message(&.0.to_string()))]
    Arrow(#[from] arrow::error::ArrowError),

    /// An error from the Parquet reader or writer (its text cut and escaped by
    /// [`shown_message`]).
    #[error("{}", shown_message(&.0.to_string()))]
    Parquet(#[from] parquet::errors::ParquetError),
}

impl EmberError {
    /// Shorthand for a [`EmberError::Format`] error.
    pub fn format(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self::Format {
            path: path.into(),
            message: message.into(),
        }
    }

    /// The stage error at the root of this error, if a stage rejected a row.
    pub fn stage_error(&self) -> Option<&StageError> {
        match self {
            EmberError::Row { source, .. } | EmberError::InputRow { source, .. } => Some(source),
            EmberError::Stage(source) => Some(source),
            EmberError::DataFusion(e) => StageError::find(e).or_else(|| {
                find_ember(e).and_then(|inner| match inner {
                    EmberError::Row { source, .. } => Some(source),
                    _ => None,
                })
            }),
            _ => None,
        }
    }

    /// True when the error is caused by the data or request (a client mistake), as opposed to
    /// the model or the machine.
    pub fn is_data_error(&self) -> bool {
        match self {
            EmberError::Row { .. }
            | EmberError::InputRow { .. }
            | EmberError::Stage(_)
            | EmberError::Data { .. }
            | EmberError::Compile { .. } => true,
            EmberError::DataFusion(e) => {
                StageError::find(e).is_some()
                    || find_ember(e).is_some_and(EmberError::is_data_error)
                    || matches!(
                        e.find_root(),
                        DataFusionError::ArrowError(..) | DataFusionError::Execution(_)
                    )
            }
            EmberError::Arrow(_) => true,
            _ => false,
        }
    }
}

/// The ember error at the root of a DataFusion error chain (an input reader's error, or a
/// stage's error already located in the input), if any.
fn find_ember(err: &DataFusionError) -> Option<&EmberError> {
    let mut cur = err;
    loop {
        match cur {
            DataFusionError::External(inner) => {
                if let Some(e) = inner.downcast_ref::<EmberError>() {
                    return Some(e);
                }
                cur = inner.downcast_ref::<DataFusionError>()?;
            }
            DataFusionError::Context(_, inner) => cur = inner,
            DataFusionError::Shared(inner) => cur = inner,
            DataFusionError::ArrowError(inner, _) => match inner.as_ref() {
                arrow::error::ArrowError::ExternalError(e) => {
                    if let Some(e) = e.downcast_ref::<EmberError>() {
                        return Some(e);
                    }
                    cur = e.downcast_ref::<DataFusionError>()?;
                }
                _ => return None,
            },
            _ => return None,
        }
    }
}

/// Turns errors raised inside a running plan into ember's own: a stage's rejection (as
/// [`EmberError::Row`] when the plan numbered its rows, see
/// [`crate::io::number_stage_errors`]), or an input reader's error (all arrive wrapped in
/// DataFusion errors).
pub fn surface(e: EmberError) -> EmberError {
    let EmberError::DataFusion(df) = &e else {
        return e;
    };
    match find_ember(df) {
        Some(EmberError::Row { row, source }) => {
            return EmberError::Row {
                row: *row,
                source: source.clone(),
            };
        }
        Some(EmberError::Data { context, message }) => {
            return EmberError::Data {
                context: context.clone(),
                message: message.clone(),
            };
        }
        Some(other) => {
            return EmberError::Data {
                context: "input".into(),
                message: other.to_string(),
            };
        }
        None => {}
    }
    if let Some(se) = StageError::find(df) {
        return EmberError::Stage(se.clone());
    }
    e
}

/// Wraps an I/O error with its path.
pub(crate) fn io_err(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> EmberError {
    let path = path.into();
    move |source| EmberError::Io { path, source }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn third_party_messages_are_cut_and_kept_on_one_line() {
        let quoted = format!("Cannot cast string '{}\n' to Float64", "9".repeat(1 << 20));
        let e = EmberError::DataFusion(DataFusionError::Execution(quoted.clone()));
        let shown = e.to_string();
        assert!(shown.len() < 600, "{} bytes", shown.len());
        assert!(!shown.contains('\n'), "{shown}");
        assert!(shown.contains("chars in all)"), "{shown}");
        let e = EmberError::Arrow(arrow::error::ArrowError::ParseError(quoted));
        assert!(e.to_string().len() < 600);
    }

    #[test]
    fn located_rows_come_out_of_plan_errors() {
        let se = StageError {
            stage: ember_udfs::StageRef::new("s", "StringIndexerModel"),
            column: "c".into(),
            row: 1,
            message: "Unseen label: x.".into(),
        };
        let inner = EmberError::Row {
            row: 41,
            source: se,
        };
        let wrapped = DataFusionError::Context(
            "projection".into(),
            Box::new(DataFusionError::Shared(std::sync::Arc::new(
                DataFusionError::External(Box::new(inner)),
            ))),
        );
        let e = EmberError::DataFusion(wrapped);
        assert!(e.is_data_error());
        assert_eq!(e.stage_error().map(|s| s.column.as_str()), Some("c"));
        match surface(e) {
            EmberError::Row { row, .. } => assert_eq!(row, 41),
            e => panic!("{e:?}"),
        }
    }
}
