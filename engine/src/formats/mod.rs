//! Model format front ends. Each reads its files into [`crate::Stage`]s; the stages are the
//! same whichever format they came from.

pub(crate) mod local;
pub mod mleap;
pub mod spark;

pub use local::file_kind_name;
