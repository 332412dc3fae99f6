//! Pure pixel work on raw YUV planes: which pixels a mask covers (rectangles, polygons, whole frame) and how
//! they are hidden (pixelate, blur, fill). Knows nothing of GStreamer or models, so it is tested pixel by pixel.

pub mod coverage;
pub mod frame;
pub mod hide;
pub mod no_signal;
pub mod scene;

pub use coverage::{Coverage, Polygon, RectPx};
pub use frame::{FrameError, FrameMut, FrameRef, Layout, PixelFormat};
pub use hide::{MaskError, MaskStyle, apply, mask_whole};
pub use no_signal::no_signal_frame;
pub use scene::{
    SceneComparison, SceneFingerprint, SceneScores, SceneShift, SceneThresholds, SceneVerdict,
};
