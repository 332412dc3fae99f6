//! A data subject's opening (정보주체의 열람 or 삭제) once its managers have approved it. The sealed key is
//! rebuilt only to unwrap the window's segment keys, then forgotten; those keys (each opens one segment) are held
//! in memory for the operator's review of the requester's track and the one job that follows: the redacted
//! export (everyone else hidden) or the deletion (their presence masked out of the sealed recordings). A restart
//! or [`REVIEW_FOR`] forgets them, and the managers approve again.
//!
//! Steps: pass 1 detects everyone in every frame in the background (progress in [`Review::status`]) and keeps
//! small stills for the review; the operator marks and corrects the track and confirms it; then the job runs.

use crate::redaction::{self, OperatorReview, Window};
use anyhow::{Context, Result, anyhow};
use parking_lot::Mutex;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long an opened window waits for its review and job; then its segment keys are dropped (zeroized).
pub const REVIEW_FOR: Duration = Duration::from_secs(2 * 3600);
/// The longest window one data subject's opening covers (pass 1 detects on every frame; file one per half
/// hour beyond).
pub const MAX_WINDOW_SECS: i64 = 30 * 60;
/// Review stills are at most this wide, and at most this many per second of footage are kept.
const STILL_WIDTH: u32 = 480;
const STILLS_PER_SEC: f64 = 10.0;

/// The opened windows under review, by opening id (memory only).
#[derive(Default)]
pub struct Reviews {
    open: Mutex<HashMap<String, Arc<Review>>>,
}

impl Reviews {
    pub fn get(&self, id: &str) -> Option<Arc<Review>> {
        self.prune();
        self.open.lock().get(id).cloned()
    }

    /// Forgets the windows opened more than [`REVIEW_FOR`] ago.
    pub fn prune(&self) {
        self.open
            .lock()
            .retain(|_, r| r.opened.elapsed() < REVIEW_FOR);
    }

    pub fn insert(&self, review: Arc<Review>) {
        self.open.lock().insert(review.id.clone(), review);
    }

    /// Forgets an opened window (its segment keys with it).
    pub fn remove(&self, id: &str) {
        self.open.lock().remove(id);
    }
}

/// Pass 1's state.
enum Prep {
    Detecting { frames: usize, at: f64 },
    Ready(Arc<Ready>),
    Failed(String),
}

pub struct Ready {
    pub window: Window,
    /// (frame, JPEG) in frame order.
    stills: Vec<(usize, Vec<u8>)>,
    /// How many of the window's frames each segment holds, in order.
    per_segment: Vec<usize>,
    pub detect_seconds: f64,
}

/// One opened window: its segments with their keys, pass 1, and what the operator said.
pub struct Review {
    pub id: String,
    pub camera: String,
    pub from: i64,
    pub to: i64,
    segments: Vec<(vault::SegmentRow, vault::SecretKey)>,
    opened: Instant,
    prep: Mutex<Prep>,
    pub said: Mutex<OperatorReview>,
    /// Users who have looked at the opened frames (each has their 열람 row).
    pub viewers: Mutex<BTreeSet<String>>,
    /// One job at a time.
    pub job: Mutex<()>,
    /// Segments this window's deletion replaced already, by the old row's id (a deletion that stopped part
    /// way passes over them when run again).
    replaced: Mutex<HashMap<i64, vault::SegmentRow>>,
}

impl Review {
    /// Unwraps the segment keys of the window with the rebuilt key (the caller forgets it after).
    pub fn open(
        id: &str,
        camera: &str,
        from: i64,
        to: i64,
        vault: &vault::Vault,
        grant: &vault::Grant,
    ) -> Result<Review> {
        let stream = vocab::StreamName::new(camera, vocab::StreamKind::Sealed).to_string();
        let rows = vault.list(Some(&stream), from, to)?;
        if rows.is_empty() {
            return Err(anyhow!(
                "no sealed recordings of {camera} between the given times"
            ));
        }
        let mut segments = Vec::with_capacity(rows.len());
        for r in rows {
            let key = vault
                .sealed_segment_key(&r, grant)
                .map_err(|e| anyhow!("segment {}: {e}", r.start_unix))?;
            segments.push((r, key));
        }
        Ok(Review {
            id: id.to_string(),
            camera: camera.to_string(),
            from,
            to,
            segments,
            opened: Instant::now(),
            prep: Mutex::new(Prep::Detecting { frames: 0, at: 0.0 }),
            said: Mutex::new(OperatorReview::default()),
            viewers: Mutex::new(BTreeSet::new()),
            job: Mutex::new(()),
            replaced: Mutex::new(HashMap::new()),
        })
    }

    /// The segments of the window: (start, end, sha256 of the stored file).
    pub fn sources(&self) -> Vec<serde_json::Value> {
        self.segments
            .iter()
            .map(|(r, _)| {
                serde_json::json!({
                    "start": vault::time::utc_stamp(r.start_unix), "end": vault::time::utc_stamp(r.end_unix),
                    "sha256": r.sha256,
                })
            })
            .collect()
    }

    /// Visits the window's frames in order with their times (unix seconds).
    pub fn each_frame(
        &self,
        vault: &vault::Vault,
        f: &mut dyn FnMut(media::file::RawFrame, f64) -> Result<()>,
    ) -> Result<()> {
        self.each_frame_of(vault, &mut |_, frame, t| f(frame, t))
    }

    /// [`Self::each_frame`], with the index of the segment each frame comes from.
    fn each_frame_of(
        &self,
        vault: &vault::Vault,
        f: &mut dyn FnMut(usize, media::file::RawFrame, f64) -> Result<()>,
    ) -> Result<()> {
        for (k, (row, key)) in self.segments.iter().enumerate() {
            segment_frames(vault, row, key, &mut |frame, t| {
                if t < self.from as f64 || t >= self.to as f64 {
                    return Ok(());
                }
                f(k, frame, t)
            })?;
        }
        Ok(())
    }

    /// Pass 1 (run on its own thread): detects everyone in every frame, keeping review stills.
    pub fn detect(&self, vault: &vault::Vault, detector: &dyn detect::Detector) {
        let started = Instant::now();
        let stills: Mutex<Vec<(usize, f64, Vec<u8>)>> = Mutex::new(Vec::new());
        let per_segment = Mutex::new(vec![0usize; self.segments.len()]);
        let source: &redaction::Frames<'_> = &|sink| {
            let mut n = 0usize;
            self.each_frame_of(vault, &mut |k, f, t| {
                per_segment.lock()[k] += 1;
                if let Prep::Detecting { frames, at } = &mut *self.prep.lock() {
                    *frames = n + 1;
                    *at = t;
                }
                let last = stills.lock().last().map_or(f64::NEG_INFINITY, |s| s.1);
                if t - last >= 1.0 / STILLS_PER_SEC - 1e-6 {
                    match media::snapshot::opened_still(f.layout, &f.data, STILL_WIDTH) {
                        Ok(j) => stills.lock().push((n, t, j)),
                        Err(e) => tracing::warn!("review still of frame {n}: {e}"),
                    }
                }
                n += 1;
                sink(f, t)
            })
        };
        let out = redaction::detect_window(source, detector);
        let prep = match out {
            Ok(window) => {
                let stills = stills
                    .into_inner()
                    .into_iter()
                    .map(|(n, _, j)| (n, j))
                    .collect();
                Prep::Ready(Arc::new(Ready {
                    window,
                    stills,
                    per_segment: per_segment.into_inner(),
                    detect_seconds: started.elapsed().as_secs_f64(),
                }))
            }
            Err(e) => {
                tracing::error!(opening = %self.id, "pass 1 of a data subject's opening failed: {e:#}");
                Prep::Failed(format!("{e:#}"))
            }
        };
        *self.prep.lock() = prep;
    }

    pub fn ready(&self) -> Option<Arc<Ready>> {
        match &*self.prep.lock() {
            Prep::Ready(r) => Some(r.clone()),
            _ => None,
        }
    }

    /// The still nearest frame `n`.
    pub fn still(&self, n: usize) -> Option<Vec<u8>> {
        let r = self.ready()?;
        let i = r.stills.partition_point(|(f, _)| *f < n);
        [i.checked_sub(1), Some(i)]
            .into_iter()
            .flatten()
            .filter_map(|i| r.stills.get(i))
            .min_by_key(|(f, _)| f.abs_diff(n))
            .map(|(_, j)| j.clone())
    }

    /// What the review shows: pass 1's progress, or the frames to look through with the proposed track.
    pub fn status(&self) -> Result<serde_json::Value> {
        let expires = REVIEW_FOR.saturating_sub(self.opened.elapsed()).as_secs();
        let mut v = serde_json::json!({
            "id": self.id, "camera": self.camera,
            "from": vault::time::utc_stamp(self.from), "to": vault::time::utc_stamp(self.to),
            "expires_in_s": expires,
        });
        let ready = match &*self.prep.lock() {
            Prep::Detecting { frames, at } => {
                v["state"] = "detecting".into();
                v["progress"] = serde_json::json!({
                    "frames": frames,
                    "seconds": (at - self.from as f64).max(0.0).round(),
                    "of_seconds": self.to - self.from,
                });
                return Ok(v);
            }
            Prep::Failed(e) => {
                v["state"] = "failed".into();
                v["error"] = e.clone().into();
                return Ok(v);
            }
            Prep::Ready(r) => r.clone(),
        };
        let w = &ready.window;
        let said = self.said.lock().clone();
        v["state"] = "ready".into();
        v["frames"] = w.dets.len().into();
        // Frames whose detection failed are masked whole in any export.
        v["failed_frames"] = w.failed.iter().filter(|f| **f).count().into();
        v["detect_seconds"] = ready.detect_seconds.into();
        v["stills"] = serde_json::json!({
            "count": ready.stills.len(),
            "bytes": ready.stills.iter().map(|(_, j)| j.len()).sum::<usize>(),
        });
        v["review"] = serde_json::to_value(&said)?;
        let every = per_second(w);
        let rel = |b: &detect::BBox| {
            let (fw, fh) = (w.size.0 as f32, w.size.1 as f32);
            [b.x0 / fw, b.y0 / fh, b.width() / fw, b.height() / fh]
        };
        let frame = |i: usize, b: Option<detect::BBox>, suggested: bool, uncertain: bool| {
            serde_json::json!({
                "frame": i, "at": w.times[i], "box": b.map(|b| rel(&b)),
                "suggested": suggested, "uncertain": uncertain,
                "persons": w.dets[i].persons.iter().map(|p| rel(&p.bbox)).collect::<Vec<_>>(),
            })
        };
        if said.marks.is_empty() {
            // Nothing marked yet: a frame a second where anyone is, to find and mark them on.
            v["review_frames"] = (0..w.dets.len())
                .step_by(every)
                .filter(|&i| !w.dets[i].persons.is_empty())
                .map(|i| frame(i, None, false, false))
                .collect::<Vec<_>>()
                .into();
            return Ok(v);
        }
        let p = w.propose(&said).map_err(|e| anyhow!("{e}"))?;
        let decided = p.decided(said.confirmed);
        v["review_frames"] = p
            .review_frames(every)
            .into_iter()
            .map(|i| frame(i, p.track[i], p.suggested[i], p.uncertain[i]))
            .collect::<Vec<_>>()
            .into();
        v["lost_frames"] = decided.iter().filter(|t| t.is_none()).count().into();
        v["suggested_frames"] = p.suggested.iter().filter(|s| **s).count().into();
        Ok(v)
    }
}

/// Decrypts one sealed segment with its own key and visits its frames with their times (unix seconds: the
/// segment's start plus the frame's time from its first).
fn segment_frames(
    vault: &vault::Vault,
    row: &vault::SegmentRow,
    key: &vault::SecretKey,
    f: &mut dyn FnMut(media::file::RawFrame, f64) -> Result<()>,
) -> Result<()> {
    let bytes = vault
        .read_sealed_with(row, key)
        .map_err(|e| anyhow!("segment {}: {e}", row.start_unix))?;
    let mut src = media::file::FileSource::from_bytes(
        bytes,
        &format!("sealed segment {}", vault::time::utc_stamp(row.start_unix)),
    )?;
    let mut first = None;
    while let Some(frame) = src.next_frame()? {
        let pts = frame.pts.map_or(0.0, |p| p.nseconds() as f64 / 1e9);
        let base = *first.get_or_insert(pts);
        f(frame, row.start_unix as f64 + (pts - base))?;
    }
    Ok(())
}

/// Frames per second of the window (review frames are one a second).
pub fn per_second(w: &Window) -> usize {
    let n = w.times.len();
    if n < 2 {
        return 1;
    }
    let span = w.times[n - 1] - w.times[0];
    if span <= 0.0 {
        return 1;
    }
    (((n - 1) as f64 / span).round() as usize).max(1)
}

/// The redacted export of a confirmed review: everyone but the requester hidden, the watermark burned in.
pub fn export(
    review: &Review,
    vault: &vault::Vault,
    watermark: &str,
    static_masks: &[mask::Polygon],
    out: &std::path::Path,
) -> Result<redaction::Redacted> {
    let ready = review.ready().context("pass 1 has not finished")?;
    let said = review.said.lock().clone();
    let proposal = ready.window.propose(&said)?;
    let frames: &redaction::Frames<'_> = &|sink| review.each_frame(vault, sink);
    redaction::render(
        frames,
        &ready.window,
        &proposal,
        said.confirmed,
        watermark,
        static_masks,
        out,
    )
}

/// What a deletion did to one segment.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Replaced {
    pub start: String,
    pub old_sha256: String,
    pub new_sha256: String,
    pub frames: usize,
    pub masked_whole: usize,
    /// Replaced by an earlier run of this deletion that stopped part way (its figures are then this
    /// window's frames of it, and none masked whole counted).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub earlier: bool,
}

/// Erases the requester from the window's sealed segments: each is decoded, their box (and the frames where
/// their confirmed track is lost between its ends) masked, re-encoded, sealed under a new data key, and put in
/// place of the old one, whose file and key are destroyed. Others' footage is kept. Each re-encoded segment
/// exists unencrypted only in this process's memory until it is sealed.
pub fn erase(
    review: &Review,
    vault: &vault::Vault,
    public: &vault::SealedPublicKey,
) -> Result<Vec<Replaced>> {
    let ready = review.ready().context("pass 1 has not finished")?;
    let said = review.said.lock().clone();
    if !said.confirmed {
        return Err(anyhow!("confirm the track first"));
    }
    // Their box where someone else may be inside it too (uncertain for an export) still holds them: it is
    // erased with every person box touching it, and the rest of the frame, others' footage, is kept.
    let proposal = ready.window.propose(&said)?;
    let track = proposal.theirs(true);
    let mut out = Vec::new();
    let mut i = 0usize;
    for (k, (row, key)) in review.segments.iter().enumerate() {
        // A run of this deletion that stopped part way (it says to run it again) replaced this one already:
        // its frames are passed over, and its replacement is reported as it stands. (A segment another
        // deletion replaced meanwhile is not this one's: replacing it again fails, naming it.)
        let already = review.replaced.lock().get(&row.id).cloned();
        if let Some(now) = already {
            let n = ready.per_segment.get(k).copied().unwrap_or(0);
            i += n;
            out.push(Replaced {
                start: vault::time::utc_stamp(row.start_unix),
                old_sha256: row.sha256.clone(),
                new_sha256: now.sha256,
                frames: n,
                masked_whole: 0,
                earlier: true,
            });
            continue;
        }
        let mut sink = media::file::FileSink::in_memory(&format!(
            "segment {} without the requester",
            vault::time::utc_stamp(row.start_unix)
        ))?;
        let (mut frames, mut whole) = (0usize, 0usize);
        segment_frames(vault, row, key, &mut |f, t| {
            // Frames outside the window are kept as they are; those inside follow pass 1's order.
            let plan = if t < review.from as f64 || t >= review.to as f64 || i >= track.len() {
                redact::Plan::Erase(Vec::new())
            } else {
                i += 1;
                let persons: Vec<detect::BBox> = ready.window.dets[i - 1]
                    .persons
                    .iter()
                    .map(|p| p.bbox)
                    .collect();
                redact::erase_plan(&track, proposal.uncertain[i - 1], &persons, i - 1)
            };
            whole += usize::from(plan == redact::Plan::Whole);
            let masked = stage::redact_frame(f.layout, f.data, &plan, redaction::STYLE, &[], "")
                .map_err(|e| anyhow!("frame {frames}: {e}"))?;
            sink.push(&masked, f.fps, f.pts, f.duration)?;
            frames += 1;
            Ok(())
        })?;
        let plain = sink.finish_in_memory()?;
        let new = vault.replace_sealed(&review.camera, row, &plain, public)?;
        review.replaced.lock().insert(row.id, new.clone());
        out.push(Replaced {
            start: vault::time::utc_stamp(row.start_unix),
            old_sha256: row.sha256.clone(),
            new_sha256: new.sha256,
            frames,
            masked_whole: whole,
            earlier: false,
        });
    }
    Ok(out)
}
