//! The evidence vault: recordings encrypted under per-camera, per-day data keys wrapped by the site key, an
//! SQLite index (WAL) of segments and keys, crash recovery at open, and the retention sweep that destroys a
//! day's key first (crypto-shredding), then its files and index rows, then writes a 파기 record.

pub mod keys;
pub mod sealed;
pub mod segment;
mod store;
pub mod time;

pub use keys::SecretKey;
pub use sealed::{Grant, SEALED_SUFFIX, SealedPublicKey};
pub use segment::{SegmentWriter, read_segment};
pub use store::{OpenSegment, SegmentRow, SweepReport, Vault};

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
}

impl VaultError {
    pub(crate) fn io(path: &Path, e: std::io::Error) -> VaultError {
        VaultError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        }
    }
}
