//! A redacted export: the frames of a window (decrypted sealed segments, or any source) go through two passes.
//! The first detects every person, face and plate in every frame and follows the requester from the
//! operator's mark; the second hides everyone else (the whole frame where the track is lost), burns in the
//! watermark and encodes the MP4. Frames exist decoded in memory only; the output is what may be handed over.

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
    /// The frame the mark was matched on.
    pub marked_frame: usize,
    /// The requester's box per frame (pixels x0, y0, x1, y1), none where lost.
    pub requester: Vec<Option<[f32; 4]>>,
    pub seconds: f64,
}

/// Visits every frame of the window in order, each with its time (seconds on the mark's clock).
pub type Frames<'a> =
    dyn Fn(&mut dyn FnMut(media::file::RawFrame, f64) -> Result<()>) -> Result<()> + 'a;

/// Black fill: what is hidden is plainly hidden (and judged so from the pixels in tests).
pub const STYLE: MaskStyle = MaskStyle::BLACK;

pub fn redacted_export(
    frames: &Frames<'_>,
    detector: &dyn Detector,
    mark: &Mark,
    watermark: &str,
    static_masks: &[mask::Polygon],
    out: &Path,
) -> Result<Redacted> {
    let started = Instant::now();
    // Pass 1: detections and their appearance, per frame.
    let mut dets: Vec<redact::FrameDets> = Vec::new();
    let mut failed: Vec<bool> = Vec::new();
    let mut times: Vec<f64> = Vec::new();
    let mut size = (0u32, 0u32);
    frames(&mut |f, t| {
        let fr =
            FrameRef::new(f.layout, &f.data).map_err(|e| anyhow!("a frame of the window: {e}"))?;
        size = (fr.width(), fr.height());
        times.push(t);
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
                dets.push(d);
                failed.push(false);
            }
            Err(e) => {
                tracing::warn!("redacted export: detection failed on a frame, masked whole: {e}");
                dets.push(redact::FrameDets::default());
                failed.push(true);
            }
        }
        Ok(())
    })?;
    if dets.is_empty() {
        return Err(anyhow!("the window holds no frames"));
    }
    let at = times
        .iter()
        .enumerate()
        .min_by(|a, b| (a.1 - mark.at).abs().total_cmp(&(b.1 - mark.at).abs()))
        .map(|(i, _)| i)
        .expect("frames exist");
    let (w, h) = (size.0 as f32, size.1 as f32);
    let seed = detect::BBox {
        x0: mark.bbox[0] * w,
        y0: mark.bbox[1] * h,
        x1: (mark.bbox[0] + mark.bbox[2]) * w,
        y1: (mark.bbox[1] + mark.bbox[3]) * h,
    };
    let persons: Vec<Vec<redact::Person>> = dets.iter().map(|d| d.persons.clone()).collect();
    let mut track = redact::follow(&persons, at, &seed, &redact::FollowConfig::default())
        .map_err(|e| anyhow!("mark: {e}"))?;
    for (t, f) in track.iter_mut().zip(&failed) {
        if *f {
            *t = None;
        }
    }
    // Detection runs on every frame here, so boxes need little growth: a group of people stays apart.
    let carry = detect::TrackerConfig {
        dilate_frac: 0.05,
        ..detect::TrackerConfig::default()
    };
    let others = redact::others(&dets, &track, carry);
    // Pass 2: hide, watermark, encode.
    let mut sink = media::file::FileSink::create(out)?;
    let mut i = 0usize;
    let mut masked_boxes = 0usize;
    frames(&mut |f, _| {
        if i >= dets.len() {
            return Err(anyhow!("the window changed between the two passes"));
        }
        let plan = redact::plan(&dets, &track, &others, i);
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
        marked_frame: at,
        requester: track
            .iter()
            .map(|t| t.map(|b| [b.x0, b.y0, b.x1, b.y1]))
            .collect(),
        seconds: started.elapsed().as_secs_f64(),
    })
}
