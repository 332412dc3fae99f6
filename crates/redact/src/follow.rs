//! Following the requester through the detections of a window, from the operator's mark on one frame.
//!
//! 1. Every person is tracked at once: frame to frame, each detection goes to at most one tracklet, the
//!    tracklets competing for it by overlap with where they should be (greedy, best overlap first), so one
//!    person's track cannot take another's box while both are seen.
//! 2. The requester is the tracklet under the mark. Where it ends (an occlusion, a long miss), it is linked to
//!    a tracklet that starts nearby soon after — or, backward, one that ended nearby just before — only when
//!    exactly one candidate fits: close enough for their speed, about their size, and alike in colour (the
//!    torso histogram averaged over each tracklet).
//! 3. Frames where someone else's box overlaps the requester's heavily are uncertain (an identity could swap
//!    there), as are frames without a requester box: all are `None`, and masked whole.

use crate::hist::{Hist, similarity};
use detect::BBox;

/// One person detection of a frame, with its appearance.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub bbox: BBox,
    pub hist: Hist,
}

#[derive(Debug, Clone, Copy)]
pub struct FollowConfig {
    /// A detection overlapping a tracklet's predicted box at least this much may continue it.
    pub min_iou: f32,
    /// Frames a tracklet may go unseen and still continue.
    pub max_gap: usize,
    /// Frames between the end of one tracklet and the start of another that may be linked.
    pub link_frames: usize,
    /// Colour likeness (tracklet means) needed to link.
    pub link_similarity: f32,
    /// Fastest plausible motion, as box heights per frame, when linking.
    pub max_speed: f32,
    /// Another box overlapping the requester's this much makes the frame uncertain.
    pub overlap_uncertain: f32,
}

impl Default for FollowConfig {
    fn default() -> Self {
        FollowConfig {
            min_iou: 0.3,
            max_gap: 3,
            link_frames: 30,
            link_similarity: 0.88,
            max_speed: 0.12,
            overlap_uncertain: 0.5,
        }
    }
}

/// Why the mark could not start a track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeedError {
    NoFrame(usize),
    NoPerson { frame: usize },
}

impl std::fmt::Display for SeedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SeedError::NoFrame(i) => write!(f, "the mark is on frame {i}, outside the window"),
            SeedError::NoPerson { frame } => write!(
                f,
                "no detected person under the mark on frame {frame}: mark the person on another frame"
            ),
        }
    }
}

/// One person's run of boxes: (frame, box).
struct Tracklet {
    boxes: Vec<(usize, BBox)>,
    hist: Hist,
    n: f32,
    velocity: (f32, f32),
    /// Motion over its first frames (centre per frame), once it has them.
    v_start: Option<(f32, f32)>,
}

impl Tracklet {
    fn last(&self) -> (usize, BBox) {
        *self.boxes.last().expect("a tracklet has a box")
    }

    fn first(&self) -> (usize, BBox) {
        self.boxes[0]
    }

    fn predicted(&self, frame: usize) -> BBox {
        let (f, b) = self.last();
        let n = (frame - f) as f32;
        BBox {
            x0: b.x0 + self.velocity.0 * n,
            y0: b.y0 + self.velocity.1 * n,
            x1: b.x1 + self.velocity.0 * n,
            y1: b.y1 + self.velocity.1 * n,
        }
    }

    fn push(&mut self, frame: usize, p: &Person) {
        let (f, b) = self.last();
        let n = (frame - f) as f32;
        let (ox, oy) = b.center();
        let (cx, cy) = p.bbox.center();
        let v = ((cx - ox) / n, (cy - oy) / n);
        self.velocity = (
            0.5 * self.velocity.0 + 0.5 * v.0,
            0.5 * self.velocity.1 + 0.5 * v.1,
        );
        self.hist = self.hist.blend(&p.hist, 1.0 / (self.n + 1.0));
        self.n += 1.0;
        self.boxes.push((frame, p.bbox));
        if self.v_start.is_none() && self.boxes.len() >= 5 {
            let (f0, b0) = self.boxes[0];
            let (x0, y0) = b0.center();
            let n = (frame - f0) as f32;
            self.v_start = Some(((cx - x0) / n, (cy - y0) / n));
        }
    }
}

/// Every person's tracklets, and for each frame which tracklet each detection went to.
fn tracklets(
    frames: &[Vec<Person>],
    cfg: &FollowConfig,
) -> (Vec<Tracklet>, Vec<Vec<Option<usize>>>) {
    let mut all: Vec<Tracklet> = Vec::new();
    let mut owner: Vec<Vec<Option<usize>>> = Vec::with_capacity(frames.len());
    for (i, dets) in frames.iter().enumerate() {
        let mut own = vec![None; dets.len()];
        let mut pairs = Vec::new();
        for (t, tr) in all.iter().enumerate() {
            let (last, _) = tr.last();
            if i - last > cfg.max_gap + 1 {
                continue;
            }
            let pred = tr.predicted(i);
            let (_, lb) = tr.last();
            for (d, p) in dets.iter().enumerate() {
                let iou = p.bbox.iou(&pred);
                // A box much wider or taller than the last is two people merged (or a part): it continues no
                // one, so a track never slides from one person onto a neighbour through a merged box.
                let same_size = (0.7..=1.45).contains(&(p.bbox.width() / lb.width().max(1.0)))
                    && (0.7..=1.45).contains(&(p.bbox.height() / lb.height().max(1.0)));
                if iou >= cfg.min_iou && same_size {
                    pairs.push((iou, t, d));
                }
            }
        }
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut taken = vec![false; all.len()];
        for (_, t, d) in pairs {
            if taken[t] || own[d].is_some() {
                continue;
            }
            taken[t] = true;
            own[d] = Some(t);
            all[t].push(i, &dets[d]);
        }
        for (d, p) in dets.iter().enumerate() {
            // A partial second box of someone starts no tracklet of its own.
            if own[d].is_none() && !dets.iter().any(|q| crate::is_duplicate(&p.bbox, &q.bbox)) {
                own[d] = Some(all.len());
                all.push(Tracklet {
                    boxes: vec![(i, p.bbox)],
                    hist: p.hist.clone(),
                    n: 1.0,
                    velocity: (0.0, 0.0),
                    v_start: None,
                });
            }
        }
        owner.push(own);
    }
    (all, owner)
}

/// The one tracklet that may continue `from` (forward: starting after it ends; backward: ending before it
/// starts), if exactly one fits.
fn link(
    all: &[Tracklet],
    chain: &[usize],
    from: usize,
    forward: bool,
    cfg: &FollowConfig,
) -> Option<usize> {
    let t = &all[from];
    let (edge, b) = if forward { t.last() } else { t.first() };
    let fits = |c: &Tracklet, loose: bool| {
        let (at, cb) = if forward { c.first() } else { c.last() };
        let gap = if forward {
            at.checked_sub(edge)?
        } else {
            edge.checked_sub(at)?
        };
        if gap == 0 || gap > cfg.link_frames {
            return None;
        }
        let reach = cfg.max_speed * b.height() * gap as f32 + 0.5 * b.height();
        let (bx, by) = b.center();
        let (cx, cy) = cb.center();
        let dist = ((cx - bx).powi(2) + (cy - by).powi(2)).sqrt();
        let size = cb.height() / b.height().max(1.0);
        let sim = similarity(&t.hist, &c.hist);
        let (reach, need) = if loose {
            (reach * 2.0, cfg.link_similarity - 0.1)
        } else {
            (reach, cfg.link_similarity)
        };
        // They keep walking the way they walked (when both runs are long enough to tell).
        let (va, vb) = if forward {
            (Some(t.velocity).filter(|_| t.boxes.len() >= 5), c.v_start)
        } else {
            (t.v_start, Some(c.velocity).filter(|_| c.boxes.len() >= 5))
        };
        let same_way = match (va, vb) {
            (Some(a), Some(b)) => {
                let (la, lb) = (a.0.hypot(a.1), b.0.hypot(b.1));
                if la < 0.5 && lb < 0.5 {
                    true
                } else if la < 0.5 || lb < 0.5 {
                    la.max(lb) < 1.5
                } else {
                    (a.0 * b.0 + a.1 * b.1) / (la * lb) >= 0.7 && (0.5..=2.0).contains(&(la / lb))
                }
            }
            _ => true,
        };
        (dist <= reach && (0.6..=1.6).contains(&size) && sim >= need && (loose || same_way))
            .then_some(())
    };
    let candidates: Vec<usize> = (0..all.len())
        .filter(|&c| !chain.contains(&c) && fits(&all[c], true).is_some())
        .collect();
    match candidates.as_slice() {
        [one] if fits(&all[*one], false).is_some() => Some(*one),
        _ => None,
    }
}

/// The requester's box per frame (`None`: lost or uncertain), from the mark `seed` on frame `at`.
pub fn follow(
    frames: &[Vec<Person>],
    at: usize,
    seed: &BBox,
    cfg: &FollowConfig,
) -> Result<Vec<Option<BBox>>, SeedError> {
    let start = frames.get(at).ok_or(SeedError::NoFrame(at))?;
    let (all, owner) = tracklets(frames, cfg);
    let first = start
        .iter()
        .enumerate()
        .filter(|(_, p)| p.bbox.iou(seed) >= 0.3)
        .max_by(|a, b| a.1.bbox.iou(seed).total_cmp(&b.1.bbox.iou(seed)))
        .and_then(|(d, _)| owner[at][d])
        .ok_or(SeedError::NoPerson { frame: at })?;
    let mut chain = vec![first];
    for forward in [true, false] {
        let mut end = first;
        while let Some(next) = link(&all, &chain, end, forward, cfg) {
            chain.push(next);
            end = next;
        }
    }
    let mut out = vec![None; frames.len()];
    for &t in &chain {
        for &(f, b) in &all[t].boxes {
            out[f] = Some(b);
        }
    }
    // Someone else's box lying over theirs: an identity could swap there.
    for (f, slot) in out.iter_mut().enumerate() {
        if let Some(r) = *slot {
            let crowded = frames[f].iter().any(|p| {
                p.bbox != r
                    && !crate::is_duplicate(&p.bbox, &r)
                    && p.bbox.iou(&r) >= cfg.overlap_uncertain
            });
            if crowded {
                *slot = None;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(x: f32, y: f32) -> BBox {
        BBox {
            x0: x,
            y0: y,
            x1: x + 30.0,
            y1: y + 80.0,
        }
    }

    fn person(x: f32, y: f32, colour: usize) -> Person {
        Person {
            bbox: b(x, y),
            hist: Hist::one_hot(colour),
        }
    }

    #[test]
    fn the_requester_is_followed_across_a_missed_detection_and_a_crossing_is_uncertain() {
        // The requester (colour 3) walks right; another (colour 40) walks left and crosses them at frame 10.
        let frames: Vec<Vec<Person>> = (0..20)
            .map(|i| {
                let mut v = vec![person(100.0 + 4.0 * i as f32, 200.0, 40)];
                v[0].bbox = b(180.0 - 4.0 * i as f32, 200.0);
                if i != 6 {
                    v.push(person(100.0 + 4.0 * i as f32, 200.0, 3));
                }
                v
            })
            .collect();
        let track = follow(&frames, 0, &b(100.0, 200.0), &FollowConfig::default()).unwrap();
        assert_eq!(track[6], None, "a missed detection is lost, not guessed");
        for i in [1, 5, 7, 15, 19] {
            let got = track[i].unwrap_or_else(|| panic!("frame {i} lost"));
            assert!(
                (got.x0 - (100.0 + 4.0 * i as f32)).abs() < 0.1,
                "frame {i}: {got:?}"
            );
        }
        // Marked at the end, followed backward too.
        let back = follow(&frames, 19, &b(176.0, 200.0), &FollowConfig::default()).unwrap();
        assert!(
            back[3].is_some_and(|g| (g.x0 - 112.0).abs() < 0.1),
            "{:?}",
            back[3]
        );
    }

    #[test]
    fn two_lookalikes_side_by_side_are_uncertain() {
        let frames: Vec<Vec<Person>> = (0..5)
            .map(|i| {
                if i == 0 {
                    vec![person(100.0, 200.0, 3)]
                } else {
                    vec![person(98.0, 200.0, 3), person(102.0, 200.0, 3)]
                }
            })
            .collect();
        let track = follow(&frames, 0, &b(100.0, 200.0), &FollowConfig::default()).unwrap();
        assert!(track[1..].iter().all(Option::is_none), "{track:?}");
    }

    #[test]
    fn a_mark_without_a_person_is_refused() {
        let frames = vec![vec![person(100.0, 200.0, 3)]];
        assert_eq!(
            follow(&frames, 0, &b(400.0, 10.0), &FollowConfig::default()),
            Err(SeedError::NoPerson { frame: 0 })
        );
        assert_eq!(
            follow(&frames, 3, &b(100.0, 200.0), &FollowConfig::default()),
            Err(SeedError::NoFrame(3))
        );
    }
}
