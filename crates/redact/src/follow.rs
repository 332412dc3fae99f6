//! Following the requester through the detections of a window, from the operator's mark on one frame, forward
//! and backward. Each frame gets the requester's box, or `None` when the match is lost or uncertain (two
//! people equally likely): such frames are masked whole. Where the track breaks (an occlusion, a missed
//! detection) it is found again by appearance — a colour histogram of the torso — and plausible motion.

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
    /// A candidate overlapping the predicted box at least this much continues the track.
    pub min_iou: f32,
    /// Appearance at least this close re-finds the requester after a break (within the motion gate).
    pub refind_similarity: f32,
    /// Below this appearance a candidate is not the requester, however well it overlaps.
    pub min_similarity: f32,
    /// Two candidates whose scores differ less than this are a tie: uncertain.
    pub tie_margin: f32,
    /// Fastest plausible motion, as box heights per frame, for re-finding after a gap.
    pub max_speed: f32,
    /// Another person overlapping the predicted box this much makes the frame uncertain.
    pub crowd_iou: f32,
}

impl Default for FollowConfig {
    fn default() -> Self {
        FollowConfig {
            min_iou: 0.4,
            refind_similarity: 0.85,
            min_similarity: 0.7,
            tie_margin: 0.15,
            max_speed: 0.12,
            crowd_iou: 0.15,
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

/// The requester's box per frame (`None`: lost or uncertain), from the mark `seed` on frame `at`.
pub fn follow(
    frames: &[Vec<Person>],
    at: usize,
    seed: &BBox,
    cfg: &FollowConfig,
) -> Result<Vec<Option<BBox>>, SeedError> {
    let start = frames.get(at).ok_or(SeedError::NoFrame(at))?;
    let first = start
        .iter()
        .filter(|p| p.bbox.iou(seed) >= 0.3)
        .max_by(|a, b| a.bbox.iou(seed).total_cmp(&b.bbox.iou(seed)))
        .ok_or(SeedError::NoPerson { frame: at })?;
    let mut out = vec![None; frames.len()];
    out[at] = Some(first.bbox);
    let forward = Walker::new(first, cfg);
    forward.walk(frames, (at + 1..frames.len()).collect(), &mut out);
    let backward = Walker::new(first, cfg);
    backward.walk(frames, (0..at).rev().collect(), &mut out);
    Ok(out)
}

struct Walker<'a> {
    cfg: &'a FollowConfig,
    last: BBox,
    /// Centre motion per frame, smoothed.
    velocity: (f32, f32),
    template: Hist,
    gap: usize,
}

impl<'a> Walker<'a> {
    fn new(first: &Person, cfg: &'a FollowConfig) -> Walker<'a> {
        Walker {
            cfg,
            last: first.bbox,
            velocity: (0.0, 0.0),
            template: first.hist.clone(),
            gap: 0,
        }
    }

    fn predicted(&self) -> BBox {
        let n = (self.gap + 1) as f32;
        // Past a short gap the motion is no longer trusted: the search stays where they were last seen.
        let (dx, dy) = if self.gap <= 5 {
            (self.velocity.0 * n, self.velocity.1 * n)
        } else {
            (0.0, 0.0)
        };
        BBox {
            x0: self.last.x0 + dx,
            y0: self.last.y0 + dy,
            x1: self.last.x1 + dx,
            y1: self.last.y1 + dy,
        }
    }

    fn walk(mut self, frames: &[Vec<Person>], order: Vec<usize>, out: &mut [Option<BBox>]) {
        for i in order {
            let pred = self.predicted();
            let reach = self.cfg.max_speed * self.last.height() * (self.gap + 1) as f32;
            let (pcx, pcy) = pred.center();
            let mut scored: Vec<(f32, &Person)> = frames[i]
                .iter()
                .filter_map(|p| {
                    let sim = similarity(&self.template, &p.hist);
                    let iou = p.bbox.iou(&pred);
                    let (cx, cy) = p.bbox.center();
                    let dist = ((cx - pcx).powi(2) + (cy - pcy).powi(2)).sqrt();
                    let size = p.bbox.height() / self.last.height().max(1.0);
                    let plausible = (0.6..=1.6).contains(&size);
                    let continues = iou >= self.cfg.min_iou && sim >= self.cfg.min_similarity;
                    let refound = plausible
                        && dist <= reach.max(self.last.height() * 0.25)
                        && sim >= self.cfg.refind_similarity;
                    (continues || refound).then_some((iou + sim, p))
                })
                .collect();
            scored.sort_by(|a, b| b.0.total_cmp(&a.0));
            // Anyone else overlapping where the requester is expected makes the frame uncertain: a mix-up
            // would show a stranger, so the frame is masked whole instead.
            let crowded = |chosen: &Person| {
                frames[i].iter().any(|o| {
                    !std::ptr::eq(o, chosen)
                        && o.bbox.iou(&pred) >= self.cfg.crowd_iou
                        && o.bbox.iou(&chosen.bbox) < 0.7
                })
            };
            let pick = match scored.as_slice() {
                [] => None,
                [(_, p)] => Some(*p),
                [(a, p), (b, _), ..] => (a - b >= self.cfg.tie_margin).then_some(*p),
            }
            .filter(|p| !crowded(p));
            match pick {
                Some(p) => {
                    let (lx, ly) = self.last.center();
                    let (cx, cy) = p.bbox.center();
                    let n = (self.gap + 1) as f32;
                    let v = ((cx - lx) / n, (cy - ly) / n);
                    self.velocity = (
                        0.6 * self.velocity.0 + 0.4 * v.0,
                        0.6 * self.velocity.1 + 0.4 * v.1,
                    );
                    self.template = self.template.blend(&p.hist, 0.1);
                    self.last = p.bbox;
                    self.gap = 0;
                    out[i] = Some(p.bbox);
                }
                None => {
                    self.gap += 1;
                    out[i] = None;
                }
            }
        }
    }
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
