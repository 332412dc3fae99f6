//! Carries boxes between detections so masks neither flicker nor gap: detections are associated to tracks by
//! IoU (greedy, same class), a track survives `hold_frames` detection runs that miss it, and the boxes handed
//! to the mask are dilated and grown by the track's motion so a moving person stays covered between runs.

use crate::types::{BBox, Detection};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackerConfig {
    /// Minimum IoU for a detection to continue a track.
    pub iou_match: f32,
    /// Detection runs a track may be missed before it is dropped.
    pub hold_frames: u32,
    /// Each side grows by this fraction of the box size.
    pub dilate_frac: f32,
    /// How long a missed track is held, in seconds: once the frame rate is known, `at_rate` turns it into
    /// `hold_frames`, so the hold means the same time at 10 fps as at 30 fps or with detection every k-th frame.
    pub hold_secs: f32,
}

/// The shipped settings, chosen with `garim eval` on vtest.avi (docs/quality.md): a 1.5-s hold (15 runs at 10
/// fps) bridges the detector's misses of half-occluded people (up to 1.3 s seen), and 30% dilation keeps a
/// walking person inside the box between detections; masked area stays under 10% of the frame.
impl Default for TrackerConfig {
    fn default() -> Self {
        TrackerConfig {
            iou_match: 0.3,
            hold_frames: 15,
            dilate_frac: 0.3,
            hold_secs: 1.5,
        }
    }
}

impl TrackerConfig {
    /// The configuration for a stream at `fps` with detection on every `detect_every`-th frame: `hold_frames`
    /// becomes `hold_secs` worth of detection runs (at least one).
    pub fn at_rate(&self, fps: f64, detect_every: u32) -> TrackerConfig {
        if !(fps.is_finite() && fps > 0.0) {
            return *self;
        }
        let runs = f64::from(self.hold_secs) * fps / f64::from(detect_every.max(1));
        TrackerConfig {
            hold_frames: runs.round().clamp(1.0, 10_000.0) as u32,
            ..*self
        }
    }
}

#[derive(Debug, Clone)]
struct Track {
    det: Detection,
    /// Centre displacement per frame, from the last two updates.
    velocity: (f32, f32),
    /// Frames since the last matched detection (detection runs and predictions alike).
    frames_since_seen: u32,
    /// Detection runs since the last match.
    missed_runs: u32,
}

#[derive(Debug, Clone)]
pub struct Tracker {
    cfg: TrackerConfig,
    tracks: Vec<Track>,
}

impl Tracker {
    pub fn new(cfg: TrackerConfig) -> Tracker {
        Tracker {
            cfg,
            tracks: Vec::new(),
        }
    }

    /// A fresh detection result for the current frame.
    pub fn update(&mut self, dets: &[Detection]) {
        for t in &mut self.tracks {
            t.frames_since_seen += 1;
        }
        let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
        for (ti, t) in self.tracks.iter().enumerate() {
            let predicted = self.predicted_box(t);
            for (di, d) in dets.iter().enumerate() {
                if d.class != t.det.class {
                    continue;
                }
                let iou = predicted.iou(&d.bbox).max(t.det.bbox.iou(&d.bbox));
                if iou >= self.cfg.iou_match {
                    pairs.push((iou, ti, di));
                }
            }
        }
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut track_used = vec![false; self.tracks.len()];
        let mut det_used = vec![false; dets.len()];
        for (_, ti, di) in pairs {
            if track_used[ti] || det_used[di] {
                continue;
            }
            track_used[ti] = true;
            det_used[di] = true;
            let t = &mut self.tracks[ti];
            let (ox, oy) = t.det.bbox.center();
            let (nx, ny) = dets[di].bbox.center();
            let n = t.frames_since_seen.max(1) as f32;
            t.velocity = ((nx - ox) / n, (ny - oy) / n);
            t.det = dets[di];
            t.frames_since_seen = 0;
            t.missed_runs = 0;
        }
        for (ti, t) in self.tracks.iter_mut().enumerate() {
            if !track_used[ti] {
                t.missed_runs += 1;
            }
        }
        let hold = self.cfg.hold_frames;
        self.tracks.retain(|t| t.missed_runs <= hold);
        for (di, d) in dets.iter().enumerate() {
            if !det_used[di] {
                self.tracks.push(Track {
                    det: *d,
                    velocity: (0.0, 0.0),
                    frames_since_seen: 0,
                    missed_runs: 0,
                });
            }
        }
    }

    /// A frame without a detection run: tracks coast on their velocity; this is not a miss.
    pub fn predict(&mut self) {
        for t in &mut self.tracks {
            t.frames_since_seen += 1;
        }
    }

    /// A frame whose picture has not changed since the last detection (the motion gate skipped it): nothing
    /// moved, so no track coasts on; the masks stay where the last detection put them.
    pub fn hold_still(&mut self) {
        for t in &mut self.tracks {
            t.velocity = (0.0, 0.0);
        }
    }

    fn predicted_box(&self, t: &Track) -> BBox {
        let n = t.frames_since_seen as f32;
        t.det.bbox.translate(t.velocity.0 * n, t.velocity.1 * n)
    }

    /// Boxes to mask now: the last detected box, dilated, stretched to also cover where the track's motion
    /// puts it by now (so the mask errs on the side of covering more).
    pub fn boxes(&self) -> Vec<Detection> {
        self.tracks
            .iter()
            .map(|t| {
                let last = t.det.bbox.dilate(self.cfg.dilate_frac);
                let now = self.predicted_box(t).dilate(self.cfg.dilate_frac);
                Detection {
                    bbox: BBox {
                        x0: last.x0.min(now.x0),
                        y0: last.y0.min(now.y0),
                        x1: last.x1.max(now.x1),
                        y1: last.y1.max(now.y1),
                    },
                    ..t.det
                }
            })
            .collect()
    }

    pub fn len(&self) -> usize {
        self.tracks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tracks.is_empty()
    }

    pub fn clear(&mut self) {
        self.tracks.clear();
    }

    /// Changes how many missed runs a track survives (the frame rate became known), keeping the tracks.
    pub fn set_hold_frames(&mut self, hold_frames: u32) {
        self.cfg.hold_frames = hold_frames;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Class;

    fn det(x: f32, y: f32) -> Detection {
        Detection {
            bbox: BBox {
                x0: x,
                y0: y,
                x1: x + 20.0,
                y1: y + 40.0,
            },
            score: 0.9,
            class: Class::Person,
        }
    }

    fn cfg() -> TrackerConfig {
        TrackerConfig {
            iou_match: 0.3,
            hold_frames: 2,
            dilate_frac: 0.1,
            hold_secs: 0.2,
        }
    }

    #[test]
    fn hold_means_the_same_time_at_any_frame_rate() {
        let c = TrackerConfig::default();
        assert_eq!(c.at_rate(10.0, 1).hold_frames, 15);
        assert_eq!(c.at_rate(30.0, 1).hold_frames, 45);
        assert_eq!(c.at_rate(30.0, 3).hold_frames, 15);
        assert_eq!(c.at_rate(10.0, 2).hold_frames, 8);
        assert_eq!(c.at_rate(0.5, 4).hold_frames, 1, "at least one run");
        assert_eq!(c.at_rate(f64::NAN, 1), c, "unknown rate: unchanged");
    }

    #[test]
    fn detection_held_for_hold_frames_misses_then_dropped() {
        let mut t = Tracker::new(cfg());
        t.update(&[det(10.0, 10.0)]);
        t.update(&[]);
        t.update(&[]);
        assert_eq!(t.len(), 1, "held through 2 missed runs");
        t.update(&[]);
        assert!(t.is_empty(), "dropped after the 3rd miss");
    }

    #[test]
    fn predictions_are_not_misses() {
        let mut t = Tracker::new(cfg());
        t.update(&[det(10.0, 10.0)]);
        for _ in 0..10 {
            t.predict();
        }
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn moving_box_keeps_its_track_and_is_covered_ahead() {
        let mut t = Tracker::new(cfg());
        t.update(&[det(10.0, 10.0)]);
        t.update(&[det(14.0, 10.0)]);
        assert_eq!(t.len(), 1, "same track");
        t.predict();
        t.predict();
        let b = t.boxes()[0].bbox;
        // Last box x 14..34, dilated by 2 → 12..36; moved 8 px on → up to 44.
        assert!(
            (b.x0 - 12.0).abs() < 1e-3 && (b.x1 - 44.0).abs() < 1e-3,
            "{b:?}"
        );
    }

    #[test]
    fn approaching_tracks_keep_separate_boxes() {
        let mut t = Tracker::new(cfg());
        t.update(&[det(0.0, 0.0), det(100.0, 0.0)]);
        t.update(&[det(5.0, 0.0), det(95.0, 0.0)]);
        assert_eq!(t.len(), 2);
        let mut xs: Vec<f32> = t.boxes().iter().map(|d| d.bbox.x0).collect();
        xs.sort_by(f32::total_cmp);
        assert!(
            (xs[0] - 3.0).abs() < 1e-3 && (xs[1] - 93.0).abs() < 1e-3,
            "{xs:?}"
        );
    }

    #[test]
    fn crossing_tracks_keep_their_identity_through_the_crossing() {
        // A walks right and B walks left, 8 px per frame, on the same row; they pass through each other
        // between frames 6 and 7. A swap would show as velocities of ±4 instead of ±8.
        let mut t = Tracker::new(cfg());
        for k in 0..13 {
            let (a, b) = (8.0 * k as f32, 100.0 - 8.0 * k as f32);
            t.update(&[det(a, 0.0), det(b, 0.0)]);
            assert_eq!(t.len(), 2, "frame {k}");
            if k == 0 {
                continue;
            }
            let mut ahead = t.clone();
            ahead.predict();
            let boxes: Vec<(f32, f32)> = ahead
                .boxes()
                .iter()
                .map(|d| (d.bbox.x0, d.bbox.x1))
                .collect();
            // Dilated last box (±2 px) stretched 8 px along each track's own motion.
            for want in [(a - 2.0, a + 30.0), (b - 10.0, b + 22.0)] {
                assert!(
                    boxes
                        .iter()
                        .any(|g| (g.0 - want.0).abs() < 1e-3 && (g.1 - want.1).abs() < 1e-3),
                    "frame {k}: {want:?} not in {boxes:?}"
                );
            }
        }
    }

    #[test]
    fn boxes_are_dilated() {
        let mut t = Tracker::new(cfg());
        t.update(&[det(10.0, 10.0)]);
        let b = t.boxes()[0].bbox;
        assert_eq!((b.x0, b.y0, b.x1, b.y1), (8.0, 6.0, 32.0, 54.0));
    }
}
