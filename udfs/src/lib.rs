//! ember-udfs
