//! The only crate that touches ONNX Runtime: locating and verifying model files against
//! `models/manifest.toml`, loading the runtime library once per process, and running sessions behind
//! `detect::Backend`, so no ort type leaks into the rest of garim.

mod graph_fix;
mod manifest;
mod provider;
mod session;

pub use manifest::{Asset, Manifest, ModelError, ModelStore};
pub use provider::{Placement, Provider, offered};
pub use session::{OrtBackend, Runtime, RuntimeError, RuntimeOptions};
