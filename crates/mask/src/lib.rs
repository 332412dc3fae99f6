//! Pure pixel work on raw YUV planes: which pixels a mask covers (rectangles, polygons, whole frame) and how
//! they are hidden (pixelate, blur, fill). Knows nothing of GStreamer or models, so it is tested pixel by pixel.

pub mod frame;
pub mod ops;

pub use frame::{FrameError, FrameMut, FrameRef, Layout, PixelFormat};
pub use ops::{
    Coverage, MaskError, MaskStyle, Polygon, RectPx, apply, mask_whole, no_signal_frame,
};
