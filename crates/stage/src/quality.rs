//! Masking quality as numbers: ground-truth boxes (MOTChallenge text) against what the stage actually masked.
//! A ground-truth box *leaks* when less than half of its area is covered; a single leaked frame can identify
//! someone, so besides the leak rate every track's longest run of consecutive leaked frames is kept. Masked
//! area outside every ground-truth box is the price paid (over-masking). Pure code: it sees boxes and sizes,
//! never pixels, so it is tested with hand-made cases.

use detect::BBox;
use std::collections::BTreeMap;
use std::fmt;

/// A box covered less than this is a leak.
pub const LEAK_COVERAGE: f64 = 0.5;
/// A box covered less than this shows part of the person (a head can be 20% of a box): reported beside the
/// leak rate so a mask that only hides half of someone is visible in the numbers.
pub const STRICT_COVERAGE: f64 = 0.9;

/// One ground-truth row: frame numbers are 1-based (MOTChallenge), boxes in pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GtBox {
    pub frame: u64,
    pub track: i64,
    pub bbox: BBox,
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("line {line}: {reason} in {text:?}")]
pub struct GtError {
    pub line: usize,
    pub text: String,
    pub reason: String,
}

/// Parses MOTChallenge ground truth `frame,id,x,y,w,h,conf,…`; rows with conf 0 are ignored, blank lines and
/// `#` comments skipped. Returns the boxes grouped by frame.
pub fn parse_mot(text: &str) -> Result<BTreeMap<u64, Vec<GtBox>>, GtError> {
    let mut out: BTreeMap<u64, Vec<GtBox>> = BTreeMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |reason: String| GtError {
            line: i + 1,
            text: line.chars().take(80).collect(),
            reason,
        };
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() < 6 {
            return Err(err(format!(
                "{} fields, expected at least 6 (frame,id,x,y,w,h)",
                fields.len()
            )));
        }
        let num = |k: usize, name: &str| -> Result<f64, GtError> {
            fields[k]
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| err(format!("{name} {:?} is not a number", fields[k])))
        };
        let frame = num(0, "frame")?;
        if frame < 1.0 || frame.fract() != 0.0 {
            return Err(err(format!(
                "frame {frame} is not a frame number (1-based)"
            )));
        }
        let track = num(1, "id")?;
        let (x, y, w, h) = (num(2, "x")?, num(3, "y")?, num(4, "w")?, num(5, "h")?);
        if w <= 0.0 || h <= 0.0 {
            return Err(err(format!("box size {w}×{h} is not positive")));
        }
        if fields.len() > 6 && num(6, "conf")? == 0.0 {
            continue;
        }
        out.entry(frame as u64).or_default().push(GtBox {
            frame: frame as u64,
            track: track as i64,
            bbox: BBox {
                x0: x as f32,
                y0: y as f32,
                x1: (x + w) as f32,
                y1: (y + h) as f32,
            },
        });
    }
    Ok(out)
}

/// What was masked in one frame: pixel rectangles (x0,y0,x1,y1, end-exclusive), or the whole frame.
#[derive(Debug, Clone, PartialEq)]
pub enum MaskedArea {
    Whole,
    Rects(Vec<(i32, i32, i32, i32)>),
}

impl MaskedArea {
    /// What the stage masked in `frame`: everything when it failed closed, else its tracked boxes (static
    /// privacy masks are not counted: they hide places, not people).
    pub fn of(frame: &crate::MaskedFrame) -> MaskedArea {
        if frame.outcome().fail_closed.is_some() {
            MaskedArea::Whole
        } else {
            MaskedArea::Rects(
                frame
                    .regions()
                    .iter()
                    .map(|d| d.bbox.to_rect_px())
                    .collect(),
            )
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct TrackQuality {
    pub track: i64,
    pub frames: u64,
    pub leaked: u64,
    pub longest_leaked_run: u64,
    pub first_frame: u64,
    pub last_frame: u64,
    #[serde(skip)]
    current_run: u64,
    #[serde(skip)]
    last_seen: u64,
}

impl TrackQuality {
    pub fn leak_rate(&self) -> f64 {
        ratio(self.leaked, self.frames)
    }
}

/// Accumulates frames; `report` summarises.
#[derive(Debug, Default)]
pub struct QualityMeter {
    tracks: BTreeMap<i64, TrackQuality>,
    boxes: u64,
    leaked: u64,
    partly_visible: u64,
    frames: u64,
    whole_frames: u64,
    over_masked_sum: f64,
    masked_sum: f64,
    /// Scratch bitmaps, reused between frames.
    masked: Vec<bool>,
    gt: Vec<bool>,
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

fn clip_rect(b: &BBox, w: u32, h: u32) -> (usize, usize, usize, usize) {
    let c = b.clip(w, h);
    let (x0, y0, x1, y1) = c.to_rect_px();
    let cl = |v: i32, m: u32| v.clamp(0, m as i32) as usize;
    (cl(x0, w), cl(y0, h), cl(x1, w), cl(y1, h))
}

impl QualityMeter {
    pub fn new() -> QualityMeter {
        QualityMeter::default()
    }

    /// Scores one frame (`frame` 1-based) of size `w`×`h` given its ground truth and what was masked.
    pub fn add_frame(&mut self, frame: u64, w: u32, h: u32, gt: &[GtBox], masked: &MaskedArea) {
        let n = w as usize * h as usize;
        self.frames += 1;
        self.masked.clear();
        self.masked.resize(n, false);
        self.gt.clear();
        self.gt.resize(n, false);
        match masked {
            MaskedArea::Whole => {
                self.whole_frames += 1;
                self.masked.fill(true);
            }
            MaskedArea::Rects(rects) => {
                for &(x0, y0, x1, y1) in rects {
                    let cl = |v: i32, m: u32| v.clamp(0, m as i32) as usize;
                    let (x0, y0, x1, y1) = (cl(x0, w), cl(y0, h), cl(x1, w), cl(y1, h));
                    for y in y0..y1 {
                        self.masked[y * w as usize + x0..y * w as usize + x1].fill(true);
                    }
                }
            }
        }
        for g in gt {
            let (x0, y0, x1, y1) = clip_rect(&g.bbox, w, h);
            let mut area = 0u64;
            let mut covered = 0u64;
            for y in y0..y1 {
                let row = y * w as usize;
                area += (x1 - x0) as u64;
                covered += self.masked[row + x0..row + x1]
                    .iter()
                    .filter(|m| **m)
                    .count() as u64;
                self.gt[row + x0..row + x1].fill(true);
            }
            // A box entirely outside the frame shows nobody: nothing to leak.
            if area == 0 {
                continue;
            }
            let leak = (covered as f64) < LEAK_COVERAGE * area as f64;
            self.partly_visible += u64::from((covered as f64) < STRICT_COVERAGE * area as f64);
            self.boxes += 1;
            self.leaked += u64::from(leak);
            let t = self.tracks.entry(g.track).or_insert_with(|| TrackQuality {
                track: g.track,
                first_frame: frame,
                ..TrackQuality::default()
            });
            // A gap in the track's appearances ends a leaked run.
            if t.frames > 0 && frame != t.last_seen + 1 {
                t.current_run = 0;
            }
            t.frames += 1;
            t.last_seen = frame;
            t.last_frame = frame;
            if leak {
                t.leaked += 1;
                t.current_run += 1;
                t.longest_leaked_run = t.longest_leaked_run.max(t.current_run);
            } else {
                t.current_run = 0;
            }
        }
        let masked = self.masked.iter().filter(|m| **m).count();
        let outside = self
            .masked
            .iter()
            .zip(&self.gt)
            .filter(|(m, g)| **m && !**g)
            .count();
        self.masked_sum += masked as f64 / n.max(1) as f64;
        self.over_masked_sum += outside as f64 / n.max(1) as f64;
    }

    /// `fps` is the frame rate of the footage: tracks longer than one second are the ones the flicker rule
    /// (longest leaked run ≤ 1 frame) applies to.
    pub fn report(&self, fps: f64) -> QualityReport {
        let long = |t: &&TrackQuality| t.frames as f64 > fps;
        QualityReport {
            frames: self.frames,
            frames_masked_whole: self.whole_frames,
            gt_boxes: self.boxes,
            leaked_boxes: self.leaked,
            leak_rate: ratio(self.leaked, self.boxes),
            partly_visible_boxes: self.partly_visible,
            partly_visible_rate: ratio(self.partly_visible, self.boxes),
            tracks: self.tracks.len() as u64,
            tracks_with_leaks: self.tracks.values().filter(|t| t.leaked > 0).count() as u64,
            longest_leaked_run: self
                .tracks
                .values()
                .map(|t| t.longest_leaked_run)
                .max()
                .unwrap_or(0),
            longest_leaked_run_long_tracks: self
                .tracks
                .values()
                .filter(long)
                .map(|t| t.longest_leaked_run)
                .max()
                .unwrap_or(0),
            over_masking: self.over_masked_sum / self.frames.max(1) as f64,
            masked_area: self.masked_sum / self.frames.max(1) as f64,
            per_track: self.tracks.values().cloned().collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct QualityReport {
    pub frames: u64,
    pub frames_masked_whole: u64,
    pub gt_boxes: u64,
    pub leaked_boxes: u64,
    /// Share of ground-truth boxes less than 50% covered.
    pub leak_rate: f64,
    /// Boxes less than 90% covered (the leaks included).
    pub partly_visible_boxes: u64,
    pub partly_visible_rate: f64,
    pub tracks: u64,
    pub tracks_with_leaks: u64,
    /// Longest run of consecutive leaked frames of any track.
    pub longest_leaked_run: u64,
    /// The same over tracks longer than one second (the no-flicker rule: ≤ 1).
    pub longest_leaked_run_long_tracks: u64,
    /// Masked area outside every ground-truth box, as a share of the frame (mean over frames).
    pub over_masking: f64,
    /// Masked area as a share of the frame (mean over frames).
    pub masked_area: f64,
    pub per_track: Vec<TrackQuality>,
}

impl fmt::Display for QualityReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "frames {}  (masked whole: {})",
            self.frames, self.frames_masked_whole
        )?;
        writeln!(
            f,
            "ground-truth boxes {}  leaked {}  leak rate {:.2}%",
            self.gt_boxes,
            self.leaked_boxes,
            self.leak_rate * 100.0
        )?;
        writeln!(
            f,
            "boxes less than 90% covered {} ({:.2}%)",
            self.partly_visible_boxes,
            self.partly_visible_rate * 100.0
        )?;
        writeln!(
            f,
            "tracks {}  with leaks {}  longest leaked run {} frames ({} in tracks > 1 s)",
            self.tracks,
            self.tracks_with_leaks,
            self.longest_leaked_run,
            self.longest_leaked_run_long_tracks
        )?;
        writeln!(
            f,
            "over-masking {:.2}% of the frame  (masked in all {:.2}%)",
            self.over_masking * 100.0,
            self.masked_area * 100.0
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "{:>6} {:>7} {:>7} {:>7} {:>7} {:>11}",
            "track", "first", "frames", "leaked", "leak %", "longest run"
        )?;
        for t in &self.per_track {
            writeln!(
                f,
                "{:>6} {:>7} {:>7} {:>7} {:>7.2} {:>11}",
                t.track,
                t.first_frame,
                t.frames,
                t.leaked,
                t.leak_rate() * 100.0,
                t.longest_leaked_run
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gt(frame: u64, track: i64, x: f32, y: f32, w: f32, h: f32) -> GtBox {
        GtBox {
            frame,
            track,
            bbox: BBox {
                x0: x,
                y0: y,
                x1: x + w,
                y1: y + h,
            },
        }
    }

    #[test]
    fn mot_rows_parse_and_conf_zero_rows_are_ignored() {
        let text = "# comment\n1,1,10,20,30,40,1,-1,-1,-1\n1,2,0,0,5,5,0,-1,-1,-1\n\n2,1,11.5,20,30,40,1\n";
        let g = parse_mot(text).unwrap();
        assert_eq!(g.len(), 2);
        assert_eq!(g[&1].len(), 1, "conf 0 row ignored");
        assert_eq!(
            g[&1][0].bbox,
            BBox {
                x0: 10.0,
                y0: 20.0,
                x1: 40.0,
                y1: 60.0
            }
        );
        assert_eq!(g[&2][0].bbox.x0, 11.5);
    }

    #[test]
    fn malformed_mot_rows_name_the_line_and_value() {
        let e = parse_mot("1,1,1,1,4,4,1\n2,1,x,1,4,4,1\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.reason.contains("x \"x\""), "{e}");
        let e = parse_mot("1,1,1,1\n").unwrap_err();
        assert!(e.reason.contains("4 fields"), "{e}");
        let e = parse_mot("0,1,1,1,4,4,1\n").unwrap_err();
        assert!(e.reason.contains("1-based"), "{e}");
        let e = parse_mot("3,1,1,1,0,4,1\n").unwrap_err();
        assert!(e.reason.contains("not positive"), "{e}");
    }

    #[test]
    fn box_half_covered_is_not_a_leak_and_less_is() {
        let mut m = QualityMeter::new();
        let g = [gt(1, 1, 0.0, 0.0, 10.0, 10.0)];
        // Exactly 50%: covered.
        m.add_frame(1, 20, 20, &g, &MaskedArea::Rects(vec![(0, 0, 5, 10)]));
        // 49% (7×7): leaked.
        m.add_frame(2, 20, 20, &g, &MaskedArea::Rects(vec![(0, 0, 7, 7)]));
        // 90%: neither leaked nor partly visible.
        m.add_frame(3, 20, 20, &g, &MaskedArea::Rects(vec![(0, 1, 10, 10)]));
        let r = m.report(10.0);
        assert_eq!((r.gt_boxes, r.leaked_boxes), (3, 1));
        assert_eq!(r.partly_visible_boxes, 2, "the 50% and 49% boxes");
        assert!((r.leak_rate - 1.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn overlapping_mask_rects_count_once() {
        let mut m = QualityMeter::new();
        let g = [gt(1, 1, 0.0, 0.0, 10.0, 10.0)];
        // Two rects each covering 30 px of the same 40% → still 40%: a leak.
        m.add_frame(
            1,
            20,
            20,
            &g,
            &MaskedArea::Rects(vec![(0, 0, 4, 10), (0, 0, 4, 10)]),
        );
        assert_eq!(m.report(10.0).leaked_boxes, 1);
    }

    #[test]
    fn longest_leaked_run_counts_consecutive_frames_and_gaps_break_it() {
        let mut m = QualityMeter::new();
        let none = MaskedArea::Rects(vec![]);
        let all = MaskedArea::Whole;
        // Track 1: leak, leak, covered, leak, leak, leak → longest 3.
        for (f, a) in [
            (1, &none),
            (2, &none),
            (3, &all),
            (4, &none),
            (5, &none),
            (6, &none),
        ] {
            m.add_frame(f, 8, 8, &[gt(f, 1, 0.0, 0.0, 4.0, 4.0)], a);
        }
        // Track 2 leaks on frames 1-2, is absent on 3, leaks on 4: a run of 2, not 3.
        let mut m2 = QualityMeter::new();
        for f in [1, 2, 4] {
            m2.add_frame(f, 8, 8, &[gt(f, 2, 0.0, 0.0, 4.0, 4.0)], &none);
        }
        let r = m.report(2.0);
        assert_eq!(r.per_track[0].longest_leaked_run, 3);
        assert_eq!(r.longest_leaked_run_long_tracks, 3, "6 frames > 2 fps");
        assert_eq!(m2.report(2.0).per_track[0].longest_leaked_run, 2);
        // At 10 fps the 6-frame track is shorter than a second: not a long track.
        assert_eq!(m.report(10.0).longest_leaked_run_long_tracks, 0);
    }

    #[test]
    fn over_masking_is_masked_area_outside_every_gt_box() {
        let mut m = QualityMeter::new();
        // 10×10 frame, GT 5×10 on the left, mask covers the top 4 rows: 20 px outside GT of 100.
        let g = [gt(1, 1, 0.0, 0.0, 5.0, 10.0)];
        m.add_frame(1, 10, 10, &g, &MaskedArea::Rects(vec![(0, 0, 10, 4)]));
        let r = m.report(10.0);
        assert!((r.over_masking - 0.20).abs() < 1e-9, "{}", r.over_masking);
        assert!((r.masked_area - 0.40).abs() < 1e-9);
        // A frame masked whole with GT on half of it: 50% over-masking, no leak.
        let mut m = QualityMeter::new();
        m.add_frame(1, 10, 10, &g, &MaskedArea::Whole);
        let r = m.report(10.0);
        assert_eq!((r.leaked_boxes, r.frames_masked_whole), (0, 1));
        assert!((r.over_masking - 0.5).abs() < 1e-9);
    }

    #[test]
    fn boxes_outside_the_frame_are_clipped_or_skipped() {
        let mut m = QualityMeter::new();
        let g = [
            gt(1, 1, -5.0, -5.0, 10.0, 10.0),
            gt(1, 2, 50.0, 50.0, 5.0, 5.0),
        ];
        m.add_frame(1, 10, 10, &g, &MaskedArea::Rects(vec![(0, 0, 5, 5)]));
        let r = m.report(10.0);
        assert_eq!((r.gt_boxes, r.leaked_boxes), (1, 0));
        assert!(r.over_masking.abs() < 1e-9);
    }
}
