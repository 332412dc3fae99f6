//! The running site, and the typed operations on it that the HTTP API and the CLI both call: start the
//! cameras of a shard, status, reload, retention sweeps, stop. The binary only turns command lines into these
//! calls.

pub mod api;
pub mod control;
pub mod custody;
pub mod detectors;
pub mod history;
pub mod inspection;
pub mod opened;
pub mod records;
pub mod redaction;
pub mod requests;
pub mod runtime;
pub mod shard;
pub mod status;
pub mod subject;
mod subject_api;
pub mod trend;
pub mod vaults;

pub use control::{Control, Controller};
pub use detectors::{DetectorPool, ModelOptions, ModelsState};
pub use records::{Records, open_records};
pub use runtime::{Adjust, Overrides, Site, SiteOptions, read_policy};
pub use status::SiteStatus;
pub use vaults::open_vault;
