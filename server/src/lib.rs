//! ember-server: the `ember` command line (`score`, `inspect`, `serve`) and the HTTP service
//! implementing the SageMaker SparkML Serving contract.

pub mod inspect;
pub mod score;
pub mod serve;
