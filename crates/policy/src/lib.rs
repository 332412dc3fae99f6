//! Site configuration as code: the TOML schema `garim run` starts from, strict parsing, validation that
//! reports every error with its path and value, and redaction of camera URLs. Later policy work (purposes,
//! managers, retention, the public notice) extends these types.

mod checks;
mod config;
pub mod import;
pub mod korean;
pub mod legal;
pub mod notice;
mod secret;
pub mod shard;
mod units;

pub use config::{
    CameraConfig, CameraDefaults, CameraSettings, ConfigError, ConfigErrors, LedgerConfig,
    NvrConfig, ServerConfig, Site, SiteConfig, StorageConfig,
};
pub use secret::{SecretUrl, redact_url, split_credentials};
pub use shard::{Shard, shard_of};
pub use units::Inherited;
pub use vocab::{DetectClass, Hardware, MaskStyleName, RecordingMode};
