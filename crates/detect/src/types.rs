//! The vocabulary of detection: classes, boxes in frame pixels, detections, the `Detector` trait the
//! pipeline calls, and the `Backend` trait a model runtime implements (so no runtime type leaks out).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    Person,
    Face,
    Plate,
    Vehicle,
}

impl Class {
    pub const ALL: [Class; 4] = [Class::Person, Class::Face, Class::Plate, Class::Vehicle];

    pub fn as_str(self) -> &'static str {
        match self {
            Class::Person => "person",
            Class::Face => "face",
            Class::Plate => "plate",
            Class::Vehicle => "vehicle",
        }
    }

    /// Parses "person,face" (whitespace and empty items ignored, duplicates removed).
    pub fn parse_list(s: &str) -> Result<Vec<Class>, String> {
        let mut out = Vec::new();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let c: Class = item.parse()?;
            if !out.contains(&c) {
                out.push(c);
            }
        }
        if out.is_empty() {
            return Err("no class given; valid classes: person, face, plate, vehicle".into());
        }
        Ok(out)
    }
}

impl FromStr for Class {
    type Err = String;
    fn from_str(s: &str) -> Result<Class, String> {
        Class::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                format!("unknown class {s:?}; valid classes: person, face, plate, vehicle")
            })
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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
