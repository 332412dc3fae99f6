//! Everything that touches GStreamer: camera ingest with retry, the masked RTSP server, the recording branch,
//! the simulated camera, and file decoding/encoding for offline masking. Frames cross into the app as owned
//! buffers and come back only as `stage::MaskedFrame`, so no output can be fed an unmasked frame.

pub mod camera;
pub mod encoder;
pub mod export;
pub mod file;
mod frames;
pub mod pipelines;
pub mod recorder;
pub mod rtsp;
pub mod sim;
pub mod snapshot;

pub use camera::{CameraHandle, CameraRunner, CameraState, CameraStatus};
pub use encoder::{EncodeSettings, Encoder};
pub use frames::{init, masked_to_buffer, sample_to_frame, scrub};
pub use recorder::Recorder;
pub use rtsp::{Feed, LiveOut, RtspOut};
pub use sim::{EncodedSims, SimCamera};
