//! ember-server
