//! ember-server: the `ember` command line (`score`, `inspect`) and, later, the HTTP service.

pub mod inspect;
pub mod score;
