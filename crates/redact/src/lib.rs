//! A redacted export's pixel core: everyone but the requester is masked.
//!
//! - [`follow`] follows the requester from the operator's mark through the window's detections.
//! - [`plan`] decides, per frame, what to mask:
//!   - every other person, face and plate, from this frame and its neighbours (a detection missed for a frame
//!     or two is still covered);
//!   - the whole frame where the requester's track is lost or uncertain (fail-closed).
//! - [`apply`] hides the plan in the frame; [`watermark`] burns in the request number and date.
//!
//! Pure code over boxes and frames: the driver (decoding sealed segments, detection, encoding) lives in site.

mod follow;
mod hist;
mod watermark;

pub use follow::{FollowConfig, Person, SeedError, follow};
pub use hist::{Hist, histogram, similarity};
pub use watermark::watermark;

use detect::{BBox, Class, Detection};
use mask::{Coverage, FrameMut, MaskStyle, RectPx};

/// What was detected in one frame: people (with their appearance) and everything else (faces, plates,
/// vehicles).
#[derive(Debug, Clone, Default)]
pub struct FrameDets {
    pub persons: Vec<Person>,
    pub others: Vec<Detection>,
}

/// Neighbouring frames whose detections are masked in a frame too (a person missed for up to this many frames
/// is still covered).
pub const NEIGHBOURS: usize = 2;
/// Masked boxes grow by this fraction of their size on every side.
pub const GROW: f32 = 0.1;

/// What to hide in one frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// The requester's track is lost or uncertain here: everything is masked.
    Whole,
    /// These boxes (others), the requester left visible.
    Boxes { requester: BBox, hide: Vec<BBox> },
}

fn grown(b: &BBox, f: f32) -> BBox {
    let (dx, dy) = (b.width() * f, b.height() * f);
    BBox {
        x0: b.x0 - dx,
        y0: b.y0 - dy,
        x1: b.x1 + dx,
        y1: b.y1 + dy,
    }
}

fn inside(p: (f32, f32), b: &BBox) -> bool {
    p.0 >= b.x0 && p.0 <= b.x1 && p.1 >= b.y0 && p.1 <= b.y1
}

/// The masks of frame `i`, from every frame's detections and the requester's track.
pub fn plan(dets: &[FrameDets], track: &[Option<BBox>], i: usize) -> Plan {
    let Some(requester) = track[i] else {
        return Plan::Whole;
    };
    let mut hide = Vec::new();
    let lo = i.saturating_sub(NEIGHBOURS);
    let hi = (i + NEIGHBOURS).min(dets.len() - 1);
    for j in lo..=hi {
        let own = track[j];
        for p in &dets[j].persons {
            let is_requester = match own {
                Some(r) => r == p.bbox,
                // In a frame where the track was lost, a box where the requester is now is taken for them.
                None => j != i && p.bbox.iou(&requester) >= 0.5,
            };
            if !is_requester {
                hide.push(grown(&p.bbox, GROW));
            }
        }
        for d in &dets[j].others {
            // Their own face stays visible; every plate (and every other face) is masked.
            let theirs = d.class == Class::Face && own.is_some_and(|r| inside(d.bbox.center(), &r));
            if !theirs {
                hide.push(grown(&d.bbox, GROW));
            }
        }
    }
    Plan::Boxes { requester, hide }
}

/// Hides the plan in the frame (a coverage that does not fit the frame masks it whole).
pub fn apply(frame: &mut FrameMut<'_>, plan: &Plan, style: MaskStyle, static_masks: &[mask::Polygon]) {
    match plan {
        Plan::Whole => mask::mask_whole(frame, style),
        Plan::Boxes { hide, .. } => {
            let (w, h) = (frame.as_ref().width(), frame.as_ref().height());
            let mut cov = Coverage::new(w, h);
            for b in hide {
                cov.add_rect(RectPx {
                    x0: b.x0.floor() as i32,
                    y0: b.y0.floor() as i32,
                    x1: b.x1.ceil() as i32,
                    y1: b.y1.ceil() as i32,
                });
            }
            for p in static_masks {
                cov.add_polygon(p);
            }
            if mask::apply(frame, &cov, style).is_err() {
                mask::mask_whole(frame, style);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(x: f32) -> BBox {
        BBox {
            x0: x,
            y0: 10.0,
            x1: x + 20.0,
            y1: 60.0,
        }
    }

    fn frame(xs: &[f32]) -> FrameDets {
        FrameDets {
            persons: xs
                .iter()
                .map(|&x| Person {
                    bbox: b(x),
                    hist: Hist::one_hot(0),
                })
                .collect(),
            others: vec![],
        }
    }

    #[test]
    fn others_are_masked_from_neighbouring_frames_and_a_lost_frame_is_whole() {
        // Frame 2 misses the other person (at 100): its neighbours still cover them.
        let dets = vec![frame(&[10.0, 100.0]), frame(&[12.0, 100.0]), frame(&[14.0]), frame(&[16.0, 100.0])];
        let track = vec![Some(b(10.0)), Some(b(12.0)), Some(b(14.0)), None];
        match plan(&dets, &track, 2) {
            Plan::Boxes { requester, hide } => {
                assert_eq!(requester, b(14.0));
                assert!(hide.iter().any(|h| h.x0 < 100.0 && h.x1 > 120.0), "{hide:?}");
                // The requester's own boxes of this and the neighbouring frames are not hidden.
                assert!(hide.iter().all(|h| h.x0 > 50.0), "{hide:?}");
            }
            Plan::Whole => panic!("frame 2 is tracked"),
        }
        assert_eq!(plan(&dets, &track, 3), Plan::Whole);
    }
}
