//! The operator console (`/` of the service): the static files the browser loads, and the zone editor's
//! policy-file rewrite. The pages call `/api/v1` with the same session; every decision about who may do what
//! stays in the API.

pub mod assets;
pub mod zones;

pub use assets::{CSP, asset};
