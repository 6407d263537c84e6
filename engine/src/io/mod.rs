//! Reading and writing data files (not models): typed input streams and Spark-faithful
//! output writers. See [`read`] and [`write`].

pub mod located;
pub mod read;
pub mod write;

pub use located::{LocatedUdf, number_stage_errors};
pub use read::{DataFormat, Inputs, ROW_COLUMN, ReadProgress};
pub use write::{CellWriter, LineFormat, RenderLinesUdf, Sink, SinkOutput, spark_schema_json};
