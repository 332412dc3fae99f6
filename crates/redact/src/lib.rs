//! A redacted export's pixel core: everyone but the requester is masked.
//!
//! - [`follow`] follows the requester through the window's detections from the operator's review (marks,
//!   corrections, confirmation): runs of everyone's boxes, linked by mutual best continuation.
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

pub use follow::{FollowConfig, Person, Proposal, Review, SeedError, bridged, follow};
pub use hist::{BINS, Hist, histogram, similarity};
pub use watermark::watermark;

use detect::{BBox, Class, Detection, Tracker, TrackerConfig};
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
pub const GROW: f32 = 0.05;

/// What to hide in one frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// The requester's track is lost or uncertain here: everything is masked.
    Whole,
    /// These boxes (others), the requester left visible.
    Boxes { requester: BBox, hide: Vec<BBox> },
    /// A deletion: only these boxes (the requester's) are hidden, everyone else is kept.
    Erase(Vec<BBox>),
}

/// Their boxes grow by this fraction on every side when their presence is erased.
pub const ERASE_GROW: f32 = 0.1;

/// The masks of frame `i` when the requester's presence is erased from a recording: their box (grown), and the
/// whole frame where their confirmed track has no box between its first and last box (lost or crowded there:
/// they may be in it). Outside that span they are not in the recording, and the frame is kept.
pub fn erase_plan(track: &[Option<BBox>], i: usize) -> Plan {
    if let Some(b) = track[i] {
        return Plan::Erase(vec![grown(&b, ERASE_GROW)]);
    }
    let first = track.iter().position(Option::is_some);
    let last = track.iter().rposition(Option::is_some);
    match (first, last) {
        (Some(a), Some(z)) if a < i && i < z => Plan::Whole,
        _ => Plan::Erase(Vec::new()),
    }
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

/// Everyone else's boxes per frame: the people detected, bridged across missed detections where their runs
/// link (see [`bridged`]), then carried by the live tracker run forward and backward (a person missed for up
/// to its hold on either side is still covered) and dilated as live. `track` is the requester's box per frame:
/// their own detections (and anything lying on their box at IoU ≥ 0.5: anyone else that close makes the frame
/// crowded, masked whole) stay out, and a carried box that is their own, lagging behind them, is left out.
pub fn others(dets: &[FrameDets], track: &[Option<BBox>], cfg: TrackerConfig) -> Vec<Vec<BBox>> {
    let persons: Vec<Vec<Person>> = dets.iter().map(|d| d.persons.clone()).collect();
    let between = bridged(&persons, &FollowConfig::default());
    let inputs: Vec<Vec<Detection>> = dets
        .iter()
        .zip(track)
        .zip(&between)
        .map(|((d, own), between)| {
            d.persons
                .iter()
                .map(|p| p.bbox)
                .chain(between.iter().copied())
                .filter(|b| own.is_none_or(|r| b.iou(&r) < 0.5 && !is_duplicate(b, &r)))
                .map(|b| Detection {
                    bbox: b,
                    score: 1.0,
                    class: Class::Person,
                })
                .collect()
        })
        .collect();
    let mut out = vec![Vec::new(); dets.len()];
    for backward in [false, true] {
        let mut t = Tracker::new(cfg);
        let order: Vec<usize> = if backward {
            (0..dets.len()).rev().collect()
        } else {
            (0..dets.len()).collect()
        };
        for i in order {
            t.update(&inputs[i]);
            for b in t.boxes() {
                if !track[i].is_some_and(|r| ghost_of(&b.bbox, &r, cfg.dilate_frac)) {
                    out[i].push(b.bbox);
                }
            }
        }
    }
    out
}

/// Whether `small` is a second, partial box of the person in `big` (the detector sometimes adds one for the
/// upper body): almost all of it inside `big`, sharing its top, centred on it.
pub fn is_duplicate(small: &BBox, big: &BBox) -> bool {
    let ix = (small.x1.min(big.x1) - small.x0.max(big.x0)).max(0.0);
    let iy = (small.y1.min(big.y1) - small.y0.max(big.y0)).max(0.0);
    let inside = ix * iy / small.area().max(1.0);
    inside >= 0.8
        && small.area() < big.area()
        && (small.y0 - big.y0).abs() <= 0.15 * big.height()
        && (small.center().0 - big.center().0).abs() <= 0.25 * big.width()
}

/// Whether a carried box is the requester's own (a detection of them from a frame where their track was lost,
/// carried on): its undilated centre lies in the middle of their box and it is about their size.
fn ghost_of(carried: &BBox, requester: &BBox, dilate: f32) -> bool {
    let b = carried.dilate(-dilate / (1.0 + 2.0 * dilate));
    let (cx, cy) = b.center();
    let inner = grown(requester, -0.25);
    let ratio = b.height() / requester.height().max(1.0);
    inside((cx, cy), &inner) && (0.7..=1.5).contains(&ratio)
}

/// The masks of frame `i`: everyone else (`others`, from [`others`]) and every face and plate of this and the
/// neighbouring frames but the requester's own face; the whole frame where the track is lost.
pub fn plan(dets: &[FrameDets], track: &[Option<BBox>], others: &[Vec<BBox>], i: usize) -> Plan {
    let Some(requester) = track[i] else {
        return Plan::Whole;
    };
    let mut hide: Vec<BBox> = others[i]
        .iter()
        .flat_map(|b| around(b, &requester))
        .collect();
    let lo = i.saturating_sub(NEIGHBOURS);
    let hi = (i + NEIGHBOURS).min(dets.len() - 1);
    for j in lo..=hi {
        let own = track[j];
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

/// Share of another person's box that must stay hidden for the requester's box to be cut out of it.
pub const KEEP_HIDDEN: f32 = 0.9;

/// A box this many times the requester's area is not one other person (a group merged in one detection, or a
/// carried box grown stale): the requester is cut out of it however much they overlap.
pub const NOT_ONE_PERSON: f32 = 2.5;

/// Another person's box with the requester's box cut out of it (up to four strips), so someone passing in
/// front of or behind the requester does not hide them; kept whole where the cut would leave less than
/// [`KEEP_HIDDEN`] of a box of about one person hidden (they mostly overlap: the requester is hidden there
/// rather than them shown).
fn around(b: &BBox, requester: &BBox) -> Vec<BBox> {
    let ix0 = b.x0.max(requester.x0);
    let iy0 = b.y0.max(requester.y0);
    let ix1 = b.x1.min(requester.x1);
    let iy1 = b.y1.min(requester.y1);
    if ix0 >= ix1 || iy0 >= iy1 {
        return vec![*b];
    }
    let cut = (ix1 - ix0) * (iy1 - iy0);
    if 1.0 - cut / b.area().max(1.0) < KEEP_HIDDEN && b.area() < NOT_ONE_PERSON * requester.area() {
        return vec![*b];
    }
    let mut out = Vec::with_capacity(4);
    let mut push = |x0: f32, y0: f32, x1: f32, y1: f32| {
        if x1 > x0 && y1 > y0 {
            out.push(BBox { x0, y0, x1, y1 });
        }
    };
    push(b.x0, b.y0, b.x1, iy0);
    push(b.x0, iy1, b.x1, b.y1);
    push(b.x0, iy0, ix0, iy1);
    push(ix1, iy0, b.x1, iy1);
    out
}

/// Hides the plan in the frame (a coverage that does not fit the frame masks it whole).
pub fn apply(
    frame: &mut FrameMut<'_>,
    plan: &Plan,
    style: MaskStyle,
    static_masks: &[mask::Polygon],
) {
    match plan {
        Plan::Whole => mask::mask_whole(frame, style),
        Plan::Boxes { hide, .. } | Plan::Erase(hide) => {
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
    fn erasing_hides_their_box_and_the_frames_where_they_were_lost() {
        let track = vec![None, Some(b(10.0)), None, Some(b(14.0)), None];
        assert_eq!(erase_plan(&track, 0), Plan::Erase(vec![]));
        match erase_plan(&track, 1) {
            Plan::Erase(h) => assert!(h.len() == 1 && h[0].x0 < 10.0 && h[0].x1 > 30.0, "{h:?}"),
            p => panic!("{p:?}"),
        }
        assert_eq!(erase_plan(&track, 2), Plan::Whole);
        assert_eq!(erase_plan(&track, 4), Plan::Erase(vec![]));
    }

    #[test]
    fn the_requester_is_cut_out_of_a_box_that_only_brushes_them() {
        let other = BBox {
            x0: 0.0,
            y0: 0.0,
            x1: 100.0,
            y1: 100.0,
        };
        // A corner (5% of the other's box) overlaps: cut out, the rest still hidden.
        let req = BBox {
            x0: 90.0,
            y0: 50.0,
            x1: 150.0,
            y1: 200.0,
        };
        let parts = around(&other, &req);
        let area: f32 = parts.iter().map(BBox::area).sum();
        assert!((area - 9500.0).abs() < 1.0, "{parts:?}");
        assert!(parts.iter().all(|p| p.iou(&req) == 0.0), "{parts:?}");
        // Half of it overlaps: the other stays hidden whole (the requester is hidden there instead).
        let req = BBox {
            x0: 50.0,
            y0: 0.0,
            x1: 150.0,
            y1: 200.0,
        };
        assert_eq!(around(&other, &req), vec![other]);
        // No overlap: unchanged.
        let req = BBox {
            x0: 200.0,
            y0: 0.0,
            x1: 250.0,
            y1: 100.0,
        };
        assert_eq!(around(&other, &req), vec![other]);
    }

    #[test]
    fn others_are_carried_across_a_missed_detection_and_a_lost_frame_is_whole() {
        // Frame 2 misses the other person (at 100): its neighbours still cover them.
        let dets = vec![
            frame(&[10.0, 100.0]),
            frame(&[12.0, 100.0]),
            frame(&[14.0]),
            frame(&[16.0, 100.0]),
        ];
        let track = vec![Some(b(10.0)), Some(b(12.0)), Some(b(14.0)), None];
        let others = others(&dets, &track, TrackerConfig::default());
        match plan(&dets, &track, &others, 2) {
            Plan::Boxes { requester, hide } => {
                assert_eq!(requester, b(14.0));
                assert!(
                    hide.iter().any(|h| h.x0 < 100.0 && h.x1 > 120.0),
                    "{hide:?}"
                );
                // The requester's own boxes of this and the neighbouring frames are not hidden.
                assert!(hide.iter().all(|h| h.x0 > 50.0), "{hide:?}");
            }
            p => panic!("frame 2 is tracked: {p:?}"),
        }
        assert_eq!(plan(&dets, &track, &others, 3), Plan::Whole);
    }
}
