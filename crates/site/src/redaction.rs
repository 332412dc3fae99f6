//! A redacted export: the frames of a window (decrypted sealed segments, or any source) go through two passes.
//! The first (`detect_window`) detects every person, face and plate in every frame; the requester is then
//! followed from the operator's review (`Window::propose`: marks, corrections, confirmation); the second
//! (`render`) hides everyone else (the whole frame where the track is lost), burns in the watermark and
//! encodes the MP4. Frames exist decoded in memory only; the output is what may be handed over.

use anyhow::{Context, Result, anyhow};
use detect::{Class, Detector};
use mask::{FrameRef, MaskStyle};
use std::path::Path;
use std::time::Instant;

/// Where the operator marked the requester: a time on the source's clock (unix seconds for recordings) and a
/// box in 0..1 of the frame (x, y, width, height).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Mark {
    pub at: f64,
    pub bbox: [f32; 4],
}

/// What the export did, for its sidecar and the ledger.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Redacted {
    pub frames: usize,
    /// Frames masked whole because the requester's track was lost or uncertain there (0-based).
    pub lost_frames: Vec<usize>,
    /// Boxes hidden over all frames (others' persons, faces, plates).
    pub masked_boxes: usize,
    /// The requester's box per frame (pixels x0, y0, x1, y1), none where lost.
    pub requester: Vec<Option<[f32; 4]>>,
    pub seconds: f64,
}

/// Visits every frame of the window in order, each with its time (seconds on the mark's clock).
pub type Frames<'a> =
    dyn Fn(&mut dyn FnMut(media::file::RawFrame, f64) -> Result<()>) -> Result<()> + 'a;

/// How everyone else is carried across their missed detections (after bridging, see `redact::others`):
/// detection runs on every frame here, so boxes need little growth and a group of people stays apart; the
/// live 1.5-s hold keeps the fewest others uncovered (a 0.8-s hold showed more of the requester and more of
/// others too: docs/measurements.md).
pub fn carry() -> detect::TrackerConfig {
    detect::TrackerConfig {
        dilate_frac: 0.05,
        ..detect::TrackerConfig::default()
    }
}

/// Black fill: what is hidden is plainly hidden (and judged so from the pixels in tests).
pub const STYLE: MaskStyle = MaskStyle::BLACK;

/// What the operator said, in the API's terms: times on the window's clock and boxes in 0..1 of the frame.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OperatorReview {
    /// "This is them" (the first mark starts the search; later ones correct it).
    pub marks: Vec<Mark>,
    /// "This is not them": a box the proposal showed.
    #[serde(default)]
    pub not_them: Vec<Mark>,
    /// "They are not in this frame": times of frames.
    #[serde(default)]
    pub absent: Vec<f64>,
    /// The review frames were looked through and the track confirmed.
    #[serde(default)]
    pub confirmed: bool,
}

/// Pass 1's result: every person, face and plate of every frame of the window.
#[derive(Debug, Clone)]
pub struct Window {
    pub dets: Vec<redact::FrameDets>,
    /// Frames whose detection failed: always masked whole.
    pub failed: Vec<bool>,
    /// Each frame's time on the window's clock.
    pub times: Vec<f64>,
    pub size: (u32, u32),
}

/// Pass 1: detects every person (with their appearance), face and plate in every frame of the window.
pub fn detect_window(frames: &Frames<'_>, detector: &dyn Detector) -> Result<Window> {
    let mut w = Window {
        dets: Vec::new(),
        failed: Vec::new(),
        times: Vec::new(),
        size: (0, 0),
    };
    frames(&mut |f, t| {
        let fr =
            FrameRef::new(f.layout, &f.data).map_err(|e| anyhow!("a frame of the window: {e}"))?;
        w.size = (fr.width(), fr.height());
        w.times.push(t);
        match detector.detect(&fr) {
            Ok(found) => {
                let mut d = redact::FrameDets::default();
                for x in found {
                    if x.class == Class::Person {
                        d.persons.push(redact::Person {
                            hist: redact::histogram(&fr, &x.bbox),
                            bbox: x.bbox,
                        });
                    } else {
                        d.others.push(x);
                    }
                }
                w.dets.push(d);
                w.failed.push(false);
            }
            Err(e) => {
                tracing::warn!("redacted export: detection failed on a frame, masked whole: {e}");
                w.dets.push(redact::FrameDets::default());
                w.failed.push(true);
            }
        }
        Ok(())
    })?;
    if w.dets.is_empty() {
        return Err(anyhow!("the window holds no frames"));
    }
    Ok(w)
}

impl Window {
    /// The frame nearest a time on the window's clock.
    pub fn frame_at(&self, t: f64) -> usize {
        self.times
            .iter()
            .enumerate()
            .min_by(|a, b| (a.1 - t).abs().total_cmp(&(b.1 - t).abs()))
            .map_or(0, |(i, _)| i)
    }

    /// A box in 0..1 of the frame (x, y, width, height) in pixels.
    pub fn to_px(&self, b: [f32; 4]) -> detect::BBox {
        let (w, h) = (self.size.0 as f32, self.size.1 as f32);
        detect::BBox {
            x0: b[0] * w,
            y0: b[1] * h,
            x1: (b[0] + b[2]) * w,
            y1: (b[1] + b[3]) * h,
        }
    }

    /// The requester's proposed track from the operator's review (at least one mark).
    pub fn propose(&self, review: &OperatorReview) -> Result<redact::Proposal> {
        if review.marks.is_empty() {
            return Err(anyhow!("mark the requester on one frame first"));
        }
        let on = |m: &Mark| (self.frame_at(m.at), self.to_px(m.bbox));
        let r = redact::Review {
            marks: review.marks.iter().map(on).collect(),
            not_them: review.not_them.iter().map(on).collect(),
            absent: review.absent.iter().map(|&t| self.frame_at(t)).collect(),
            confirmed: review.confirmed,
        };
        let persons: Vec<Vec<redact::Person>> =
            self.dets.iter().map(|d| d.persons.clone()).collect();
        let cfg = redact::FollowConfig {
            frame: Some((self.size.0 as f32, self.size.1 as f32)),
            ..redact::FollowConfig::default()
        };
        redact::follow(&persons, &r, &cfg).map_err(|e| anyhow!("mark: {e}"))
    }
}

/// Pass 2: hides everyone but the requester (the whole frame where their track is lost, uncertain, or a
/// suggestion not `confirmed`), burns in the watermark and encodes the MP4.
pub fn render(
    frames: &Frames<'_>,
    window: &Window,
    proposal: &redact::Proposal,
    confirmed: bool,
    watermark: &str,
    static_masks: &[mask::Polygon],
    out: &Path,
) -> Result<Redacted> {
    let started = Instant::now();
    let dets = &window.dets;
    let mut track = proposal.decided(confirmed);
    if track.len() != dets.len() {
        return Err(anyhow!("the proposal is for another window"));
    }
    for (t, f) in track.iter_mut().zip(&window.failed) {
        if *f {
            *t = None;
        }
    }
    let others = redact::others(dets, &proposal.theirs(confirmed), carry());
    let mut sink = media::file::FileSink::create(out)?;
    let mut i = 0usize;
    let mut masked_boxes = 0usize;
    frames(&mut |f, _| {
        if i >= dets.len() {
            return Err(anyhow!("the window changed between the two passes"));
        }
        let plan = redact::plan(dets, &track, &others, i);
        let masked = stage::redact_frame(f.layout, f.data, &plan, STYLE, static_masks, watermark)
            .map_err(|e| anyhow!("frame {i}: {e}"))?;
        masked_boxes += masked.outcome().boxes;
        sink.push(&masked, f.fps, f.pts, f.duration)?;
        i += 1;
        Ok(())
    })?;
    if i != dets.len() {
        return Err(anyhow!(
            "the window changed between the two passes ({} then {i} frames)",
            dets.len()
        ));
    }
    sink.finish().context("the redacted export")?;
    Ok(Redacted {
        frames: dets.len(),
        lost_frames: track
            .iter()
            .enumerate()
            .filter(|(_, t)| t.is_none())
            .map(|(i, _)| i)
            .collect(),
        masked_boxes,
        requester: track
            .iter()
            .map(|t| t.map(|b| [b.x0, b.y0, b.x1, b.y1]))
            .collect(),
        seconds: started.elapsed().as_secs_f64(),
    })
}
