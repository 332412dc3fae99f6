//! The vocabulary of detection: classes, boxes in frame pixels, detections, the `Detector` trait the
//! pipeline calls, and the `Backend` trait a model runtime implements (so no runtime type leaks out).

use std::sync::Arc;

/// What a detector finds: the policy's vocabulary (`vocab::DetectClass`), named `Class` here.
pub use vocab::DetectClass as Class;

/// A box in frame pixels (x0,y0 top-left, x1,y1 bottom-right).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BBox {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
}

impl BBox {
    pub fn width(&self) -> f32 {
        (self.x1 - self.x0).max(0.0)
    }

    pub fn height(&self) -> f32 {
        (self.y1 - self.y0).max(0.0)
    }

    pub fn area(&self) -> f32 {
        self.width() * self.height()
    }

    pub fn center(&self) -> (f32, f32) {
        ((self.x0 + self.x1) / 2.0, (self.y0 + self.y1) / 2.0)
    }

    pub fn iou(&self, o: &BBox) -> f32 {
        let ix = (self.x1.min(o.x1) - self.x0.max(o.x0)).max(0.0);
        let iy = (self.y1.min(o.y1) - self.y0.max(o.y0)).max(0.0);
        let inter = ix * iy;
        let union = self.area() + o.area() - inter;
        if union <= 0.0 { 0.0 } else { inter / union }
    }

    /// Grows each side by `frac` of the box's width (left/right) and height (top/bottom).
    pub fn dilate(&self, frac: f32) -> BBox {
        let (dx, dy) = (self.width() * frac, self.height() * frac);
        BBox {
            x0: self.x0 - dx,
            y0: self.y0 - dy,
            x1: self.x1 + dx,
            y1: self.y1 + dy,
        }
    }

    pub fn translate(&self, dx: f32, dy: f32) -> BBox {
        BBox {
            x0: self.x0 + dx,
            y0: self.y0 + dy,
            x1: self.x1 + dx,
            y1: self.y1 + dy,
        }
    }

    pub fn clip(&self, w: u32, h: u32) -> BBox {
        let (w, h) = (w as f32, h as f32);
        BBox {
            x0: self.x0.clamp(0.0, w),
            y0: self.y0.clamp(0.0, h),
            x1: self.x1.clamp(0.0, w),
            y1: self.y1.clamp(0.0, h),
        }
    }

    /// The smallest pixel rectangle containing the box: (floor x0, floor y0, ceil x1, ceil y1).
    pub fn to_rect_px(&self) -> (i32, i32, i32, i32) {
        (
            self.x0.floor() as i32,
            self.y0.floor() as i32,
            self.x1.ceil() as i32,
            self.y1.ceil() as i32,
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    pub bbox: BBox,
    pub score: f32,
    pub class: Class,
}

#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error("model {0} is not loaded yet")]
    NotLoaded(String),
    #[error("inference failed in {model}: {reason}")]
    Inference { model: String, reason: String },
    #[error("model {model} returned {what}")]
    BadOutput { model: String, what: String },
}

/// Runs detection on one frame; boxes are in the frame's pixel coordinates. Shared across cameras.
pub trait Detector: Send + Sync {
    fn detect(&self, frame: &mask::FrameRef<'_>) -> Result<Vec<Detection>, DetectError>;
    fn name(&self) -> &str;
}

/// A boxed detector is a detector, so compositions (faces from persons, plates from vehicles) can be stacked
/// as the requested classes decide.
impl<D: Detector + ?Sized> Detector for Box<D> {
    fn detect(&self, frame: &mask::FrameRef<'_>) -> Result<Vec<Detection>, DetectError> {
        (**self).detect(frame)
    }
    fn name(&self) -> &str {
        (**self).name()
    }
}

/// A dense float tensor, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// Runs one model on one input and returns its outputs in the graph's output order.
pub trait Backend: Send + Sync {
    fn run(&self, input: Tensor) -> Result<Vec<Tensor>, DetectError>;
    fn model_name(&self) -> &str;
}

impl<B: Backend + ?Sized> Backend for Arc<B> {
    fn run(&self, input: Tensor) -> Result<Vec<Tensor>, DetectError> {
        (**self).run(input)
    }
    fn model_name(&self) -> &str {
        (**self).model_name()
    }
}
