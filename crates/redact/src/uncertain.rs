//! Frames where someone else may be inside the requester's box, so that showing the box would show them too:
//! always masked whole (fail-closed). Three signs, each measured on vtest (docs/measurements.md):
//! - crowded: a second detection lies over their box (an identity could swap there);
//! - merged: someone walked into their box and has not come out (their run ended touching the requester's
//!   box and nobody continues it elsewhere);
//! - grown: their box is much wider or taller than their boxes around it, with someone beside them (the
//!   detector drew one box around them and the other).

use crate::follow::{FollowConfig, Person};
use crate::{is_duplicate, within};
use detect::BBox;

/// Someone else's run of boxes (not one of the requester's): (frame, box), in order.
pub(crate) struct Run<'a>(pub &'a [(usize, BBox)]);

impl Run<'_> {
    fn first(&self) -> (usize, BBox) {
        self.0[0]
    }
    fn last(&self) -> (usize, BBox) {
        self.0[self.0.len() - 1]
    }
}

/// How long someone who vanished into the requester's box may still be inside it (frames).
pub const MERGE_HOLD: usize = 15;
/// A run of fewer boxes is a stray detection, not someone who walked into the requester's box.
pub const MERGE_MIN_RUN: usize = 3;
/// Overlap (IoU) of the vanishing box with the requester's at its last frame: they were touching.
pub const MERGE_TOUCH: f32 = 0.2;
/// Share of the vanished box still inside the requester's box for them to be taken as inside it.
pub const MERGE_INSIDE: f32 = 0.7;

/// Their box is "grown" when wider than this many times the median width of their boxes within
/// `GROWN_SPAN` frames...
pub const GROWN_WIDE: f32 = 1.2;
/// ...or taller than this many times the median height.
pub const GROWN_TALL: f32 = 1.15;
pub const GROWN_SPAN: usize = 15;
/// A grown box counts only with someone else's box beside theirs within this many frames (a box of theirs
/// that grows with nobody near is the detector's jitter, not two people).
pub const BESIDE_SPAN: usize = 2;

/// Every frame where someone else may be inside the requester's box (`track`): crowded, merged, or grown with
/// someone beside them.
pub(crate) fn uncertain(
    frames: &[Vec<Person>],
    others: &[Run<'_>],
    track: &[Option<BBox>],
    cfg: &FollowConfig,
) -> Vec<bool> {
    let merged = merged(others, track);
    let n = track.len();
    // Frames with someone else's box beside theirs (within half their width on either side).
    let mut beside = vec![false; n];
    for run in others {
        for &(f, b) in run.0 {
            if let Some(r) = track[f] {
                let wide = BBox {
                    x0: r.x0 - 0.5 * r.width(),
                    x1: r.x1 + 0.5 * r.width(),
                    ..r
                };
                beside[f] |= wide.iou(&b) > 0.0;
            }
        }
    }
    (0..n)
        .map(|i| {
            let near = beside[i.saturating_sub(BESIDE_SPAN)..=(i + BESIDE_SPAN).min(n - 1)]
                .iter()
                .any(|&x| x);
            crowded(&frames[i], track[i], cfg) || merged[i] || (near && grown(track, i))
        })
        .collect()
}

/// A second detection lies over their box (their own box, or the one detection a filled box snapped to, is
/// one of those on it).
fn crowded(dets: &[Person], theirs: Option<BBox>, cfg: &FollowConfig) -> bool {
    theirs.is_some_and(|r| {
        dets.iter()
            .filter(|p| {
                !is_duplicate(&p.bbox, &r)
                    && !is_duplicate(&r, &p.bbox)
                    && p.bbox.iou(&r) >= cfg.overlap_uncertain
            })
            .count()
            >= 2
    })
}

/// Frames where someone's run ended (forward) or began (backward) touching the requester's box and nobody's
/// run takes over where they were: from there until they come out (a run starts where they were), the
/// requester's box no longer holds most of where they were, or [`MERGE_HOLD`] frames have passed.
fn merged(others: &[Run<'_>], track: &[Option<BBox>]) -> Vec<bool> {
    let n = track.len();
    let mut out = vec![false; n];
    for (t, run) in others.iter().enumerate() {
        if run.0.len() < MERGE_MIN_RUN {
            continue;
        }
        for forward in [true, false] {
            let (edge, b) = if forward { run.last() } else { run.first() };
            // Beside the requester as it vanished: a second person, not a stray box of theirs.
            if !track[edge].is_some_and(|r| r != b && r.iou(&b) >= MERGE_TOUCH) {
                continue;
            }
            // Someone's run starting (forward) or ending (backward) on frame `k` where they were.
            let comes_out = |k: usize| {
                others.iter().enumerate().any(|(c, o)| {
                    let (at, ob) = if forward { o.first() } else { o.last() };
                    c != t && at == k && ob.iou(&b) >= MERGE_TOUCH
                })
            };
            let frames: Vec<usize> = if forward {
                (edge + 1..n.min(edge + 1 + MERGE_HOLD)).collect()
            } else {
                (edge.saturating_sub(MERGE_HOLD)..edge).rev().collect()
            };
            for k in frames {
                if comes_out(k) || !track[k].is_some_and(|r| within(&b, &r) >= MERGE_INSIDE) {
                    break;
                }
                out[k] = true;
            }
        }
    }
    out
}

/// Their box on frame `i` is wider or taller than theirs around it (see [`GROWN_WIDE`], [`GROWN_TALL`]).
fn grown(track: &[Option<BBox>], i: usize) -> bool {
    let Some(b) = track[i] else { return false };
    let near: Vec<BBox> = track
        [i.saturating_sub(GROWN_SPAN)..=(i + GROWN_SPAN).min(track.len() - 1)]
        .iter()
        .flatten()
        .copied()
        .collect();
    let median = |f: fn(&BBox) -> f32| {
        let mut v: Vec<f32> = near.iter().map(f).collect();
        v.sort_by(f32::total_cmp);
        v[v.len() / 2]
    };
    b.width() > GROWN_WIDE * median(BBox::width) || b.height() > GROWN_TALL * median(BBox::height)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(x: f32, w: f32, h: f32) -> BBox {
        BBox {
            x0: x,
            y0: 100.0,
            x1: x + w,
            y1: 100.0 + h,
        }
    }

    #[test]
    fn a_box_grown_around_someone_beside_them_is_uncertain() {
        let mut track: Vec<Option<BBox>> = (0..20).map(|i| Some(b(i as f32, 30.0, 80.0))).collect();
        track[10] = Some(b(10.0, 45.0, 80.0));
        track[12] = Some(b(12.0, 30.0, 100.0));
        track[14] = Some(b(14.0, 34.0, 88.0));
        assert!(grown(&track, 10), "50% wider");
        assert!(grown(&track, 12), "25% taller");
        assert!(!grown(&track, 14), "a little larger: their own box");
        assert!(!grown(&track, 5));
    }

    /// A run of boxes walking from `x0` to `x1` over frames `f0..=f1`.
    fn walk(f0: usize, f1: usize, x0: f32, x1: f32) -> Vec<(usize, BBox)> {
        (f0..=f1)
            .map(|f| {
                let t = if f1 > f0 {
                    (f - f0) as f32 / (f1 - f0) as f32
                } else {
                    0.0
                };
                (f, b(x0 + (x1 - x0) * t, 36.0, 80.0))
            })
            .collect()
    }

    #[test]
    fn someone_who_walks_into_their_box_keeps_it_uncertain_until_they_come_out() {
        // The requester stands at x 100..140. Someone walks in from the left: their run ends on frame 9 with
        // their box inside the requester's, and a run of theirs begins on frame 15 as they walk out.
        let track: Vec<Option<BBox>> = (0..30).map(|_| Some(b(100.0, 40.0, 80.0))).collect();
        let (walker, out) = (walk(0, 9, 40.0, 96.0), walk(15, 29, 100.0, 150.0));
        let m = merged(&[Run(&walker), Run(&out)], &track);
        let marked: Vec<usize> = (0..30).filter(|&i| m[i]).collect();
        assert_eq!(marked, (10..15).collect::<Vec<_>>(), "{m:?}");
        // Someone passing by: their run is taken over at once by the next (a run ends at every change of
        // contact), so nobody is inside.
        let (before, after) = (walk(0, 9, 40.0, 96.0), walk(10, 29, 98.0, 150.0));
        assert!(
            merged(&[Run(&before), Run(&after)], &track)
                .iter()
                .all(|x| !x)
        );
        // A stray box (a run of two) is nobody walking in.
        let stray = walk(8, 9, 96.0, 96.0);
        assert!(merged(&[Run(&stray)], &track).iter().all(|x| !x));
    }
}
