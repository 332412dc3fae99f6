//! The per-frame masking stage every output stands behind: it schedules detection (every frame or every
//! k-th, the tracker carrying boxes in between), applies static privacy masks and tracked boxes, and enforces
//! the fail-closed rule — a frame no fresh detection can vouch for by its deadline is masked whole and counted.
//! It works on plain frames (no GStreamer, no ONNX Runtime), so its guarantees are tested with fake detectors.

mod detectors;
pub mod motion;
pub mod quality;
pub mod scene;
mod stage;
mod stats;

pub use detectors::{DetectorSet, DetectorSlot};
pub use stage::{
    AUTO_DETECT_HZ, FailClosedReason, MaskedFrame, MaskingStage, Outcome, SealedFrame, StageConfig,
    effective_every, redact_frame,
};
pub use stats::RollingStats;
