//! The evidence vault: recordings encrypted under per-camera, per-day data keys wrapped by the site key, an
//! index of segments and keys (SQLite with WAL on one node, or Postgres shared by several replicas), crash
//! recovery at open, and the retention sweep that destroys a day's key first (crypto-shredding), then its
//! files and index rows, then writes a 파기 record.

mod index;
pub mod keys;
pub mod sealed;
pub mod segment;
mod store;
pub mod time;

pub use index::{LeaseEvent, PostgresIndex, ShardClaimResult, ShardLease};
pub use keys::SecretKey;
pub use sealed::{Grant, SealedPublicKey};
pub use segment::{SegmentWriter, read_segment};
pub use store::{OpenSegment, Owns, SegmentRow, SweepReport, Trail, Vault, VaultOptions};

use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("key {what}: {reason}")]
    Key { what: String, reason: String },
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
    #[error("encryption failed for {0}")]
    Crypto(String),
    #[error("{0}")]
    Tampered(String),
    #[error("index {path}: {reason}")]
    Index { path: String, reason: String },
    /// A replacement found its old row gone (replaced or deleted meanwhile) or its new path indexed already:
    /// nothing was changed.
    #[error("{0}: nothing was changed")]
    NotReplaced(String),
    #[error(
        "{what}: not on this node's storage: its file is on node {node} (this is {here}); export it there"
    )]
    Elsewhere {
        what: String,
        node: String,
        here: String,
    },
}

impl VaultError {
    pub(crate) fn io(path: &Path, e: std::io::Error) -> VaultError {
        VaultError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        }
    }
}
