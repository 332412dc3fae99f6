//! `MaskingStage`: one per camera. Detection runs on a worker thread so the stage can stop waiting at the
//! deadline; whatever the detector does (hang, fail, not loaded yet), the frame that leaves `process` is masked.

use crate::motion::{CellMeans, MotionGate};
use crate::scene::{self, SceneConfig, SceneGuard, SceneHold};
use crate::stats::RollingStats;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TrySendError, bounded};
use detect::{DetectError, Detection, Detector, Tracker, TrackerConfig};
use mask::{Coverage, FrameMut, FrameRef, Layout, MaskStyle, Polygon, RectPx};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Why a frame was masked whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailClosedReason {
    /// Detection for this frame (or the detection vouching for it) was not ready by the deadline.
    Late,
    /// The detector returned an error.
    DetectorError,
    /// The models were still loading.
    ModelNotLoaded,
    /// The camera's view is not its accepted reference view (turned, covered, blinded, defocused).
    SceneChanged,
}

impl FailClosedReason {
    pub const ALL: [FailClosedReason; 4] = [
        FailClosedReason::Late,
        FailClosedReason::DetectorError,
        FailClosedReason::ModelNotLoaded,
        FailClosedReason::SceneChanged,
    ];

    /// Metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            FailClosedReason::Late => "late",
            FailClosedReason::DetectorError => "detector_error",
            FailClosedReason::ModelNotLoaded => "model_not_loaded",
            FailClosedReason::SceneChanged => "scene_changed",
        }
    }
}

#[derive(Debug, Clone)]
pub struct StageConfig {
    /// Camera id, used as the metric label.
    pub camera: String,
    /// Time from a frame's arrival by which its detection must be ready.
    pub deadline: Duration,
    /// Run detection on every k-th frame (1 = every frame); the tracker covers the frames between. 0: from the
    /// stream's frame rate, about `AUTO_DETECT_HZ` detections a second (every frame until the rate is known).
    pub detect_every: u32,
    pub style: MaskStyle,
    /// Static privacy masks, normalized polygons, always applied.
    pub privacy_masks: Vec<Polygon>,
    /// The purpose-limited part of the scene that may be recorded; everything when empty.
    pub recording_zones: Vec<Polygon>,
    pub tracker: TrackerConfig,
    /// Skip a scheduled detection when the picture has not changed since the last one, at most for the track
    /// hold (`motion::MotionGate`).
    pub motion_gate: bool,
}

/// Detections per second when `detect_every` is 0 (the default): every 2nd frame at 10 fps, every 3rd at 15,
/// every 6th at 30. `garim eval` holds its leak goals at 3.3 a second (docs/quality.md), so 5 leaves margin.
pub const AUTO_DETECT_HZ: f64 = 5.0;

/// The detection schedule for `detect_every` (0 = automatic) at `fps` (None: not known yet).
pub fn effective_every(detect_every: u32, fps: Option<f64>) -> u32 {
    if detect_every > 0 {
        return detect_every;
    }
    match fps {
        Some(f) if f.is_finite() && f > 0.0 => ((f / AUTO_DETECT_HZ).floor() as u32).clamp(1, 30),
        _ => 1,
    }
}

/// What happened to one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub fail_closed: Option<FailClosedReason>,
    /// Tracked boxes masked (0 when masked whole).
    pub boxes: usize,
}

struct Job {
    id: u64,
    layout: Layout,
    data: Vec<u8>,
}

struct Done {
    id: u64,
    result: Result<Vec<Detection>, DetectError>,
    took: Duration,
}

pub struct MaskingStage {
    cfg: StageConfig,
    jobs: Sender<Job>,
    done: Receiver<Done>,
    /// Id of the job the worker is busy with, if any.
    pending: Option<u64>,
    index: u64,
    /// Verdict of the latest scheduled detection; frames between detections inherit it.
    vouch: Result<(), FailClosedReason>,
    tracker: Tracker,
    coverage: Coverage,
    inference: RollingStats,
    /// Boxes masked in the last frame (clipped to it), for `MaskedFrame::regions`.
    last_regions: Vec<Detection>,
    /// The stream's frame rate once known (`set_frame_rate`).
    fps: Option<f64>,
    /// Re-aim and tamper check against the camera's reference view; none when not configured.
    scene: Option<SceneGuard>,
    gate: MotionGate,
    skipped: u64,
}

impl MaskingStage {
    pub fn new(cfg: StageConfig, detector: Arc<dyn Detector>) -> MaskingStage {
        // Capacity 1: at most one frame waits for the worker; a busy worker means the next frame is late.
        let (jobs, job_rx) = bounded::<Job>(1);
        let (done_tx, done) = bounded::<Done>(4);
        let camera = cfg.camera.clone();
        std::thread::Builder::new()
            .name(format!("detect-{camera}"))
            .spawn(move || {
                for job in job_rx {
                    let started = Instant::now();
                    let result = match FrameRef::new(job.layout, &job.data) {
                        Ok(frame) => detector.detect(&frame),
                        Err(e) => Err(DetectError::BadOutput {
                            model: detector.name().to_string(),
                            what: e.to_string(),
                        }),
                    };
                    let took = started.elapsed();
                    if done_tx
                        .send(Done {
                            id: job.id,
                            result,
                            took,
                        })
                        .is_err()
                    {
                        break;
                    }
                }
            })
            .expect("spawn detection worker");
        let tracker = Tracker::new(cfg.tracker);
        register_reasons(&cfg.camera);
        MaskingStage {
            cfg,
            jobs,
            done,
            pending: None,
            index: 0,
            vouch: Err(FailClosedReason::ModelNotLoaded),
            tracker,
            coverage: Coverage::new(1, 1),
            inference: RollingStats::new(200),
            last_regions: Vec::new(),
            fps: None,
            scene: None,
            gate: MotionGate::default(),
            skipped: 0,
        }
    }

    /// Scheduled detections the motion gate skipped so far (the picture had not changed).
    pub fn detections_skipped(&self) -> u64 {
        self.skipped
    }

    /// Turns the scene guard on (with its saved reference and alarm, if any) or off.
    pub fn set_scene_guard(&mut self, cfg: Option<SceneConfig>) {
        self.scene = cfg.map(|c| SceneGuard::open(&self.cfg.camera, c));
    }

    pub fn scene_guard(&self) -> Option<&SceneGuard> {
        self.scene.as_ref()
    }

    /// Checks the scene on the next frame (a new stream: the camera may have moved while it was away).
    pub fn recheck_scene(&mut self) {
        if let Some(g) = &mut self.scene {
            g.check_next_frame();
        }
    }

    /// The camera's frame rate: the scene check period and the tracker's hold are in seconds.
    pub fn set_frame_rate(&mut self, fps: f64) {
        if let Some(g) = &mut self.scene {
            g.set_fps(fps);
        }
        if fps.is_finite() && fps > 0.0 && self.fps != Some(fps) {
            self.fps = Some(fps);
            self.tracker
                .set_hold_frames(self.tracker_config().hold_frames);
        }
    }

    /// The tracker settings for this stream (the hold in detection runs once the frame rate is known).
    fn tracker_config(&self) -> TrackerConfig {
        match self.fps {
            Some(fps) => self.cfg.tracker.at_rate(fps, self.every()),
            None => self.cfg.tracker,
        }
    }

    /// Detection on every k-th frame, as in force for this stream.
    pub fn every(&self) -> u32 {
        effective_every(self.cfg.detect_every, self.fps)
    }

    pub fn config(&self) -> &StageConfig {
        &self.cfg
    }

    /// Applies a new configuration (masks, style, deadline) from the next frame on.
    pub fn set_config(&mut self, cfg: StageConfig) {
        if cfg.camera != self.cfg.camera {
            register_reasons(&cfg.camera);
        }
        self.cfg = cfg;
        self.tracker
            .set_hold_frames(self.tracker_config().hold_frames);
    }

    /// Inference durations of recent detections.
    pub fn inference_stats(&self) -> &RollingStats {
        &self.inference
    }

    /// Masks `frame` in place. `arrival` is when the frame reached garim (the deadline counts from it).
    pub fn process(&mut self, frame: &mut FrameMut<'_>, arrival: Instant) -> Outcome {
        self.harvest_late_results();
        if self.scene_changed(frame) {
            return self.mask_scene_changed(frame);
        }
        let every = self.every();
        let detect_now = self.index % u64::from(every) == 0;
        self.index += 1;
        if detect_now {
            let means = self.cfg.motion_gate.then(|| CellMeans::of(&frame.as_ref()));
            let skip = match (&means, self.fps) {
                (Some(m), Some(fps)) if self.vouch.is_ok() => {
                    // At most one track hold between detections that run, counted in scheduled runs.
                    let runs = f64::from(self.cfg.tracker.hold_secs) * fps / f64::from(every);
                    self.gate.may_skip(m, runs.floor().max(1.0) as u64)
                }
                _ => false,
            };
            if skip {
                self.skipped += 1;
                self.tracker.hold_still();
            } else {
                self.vouch = self.detect_fresh(frame, arrival);
                match (means, self.vouch.is_ok()) {
                    (Some(m), true) => self.gate.detected(m),
                    _ => self.gate.reset(),
                }
            }
        } else {
            self.tracker.predict();
        }
        let m = telemetry::metrics();
        let outcome = match self.vouch {
            Err(reason) => {
                self.last_regions.clear();
                mask::mask_whole(frame, self.cfg.style);
                m.fail_closed_frames_total
                    .with_label_values(&[&self.cfg.camera, reason.as_str()])
                    .inc();
                Outcome {
                    fail_closed: Some(reason),
                    boxes: 0,
                }
            }
            Ok(()) => {
                let boxes = self.mask_tracked(frame);
                Outcome {
                    fail_closed: None,
                    boxes,
                }
            }
        };
        m.frames_total
            .with_label_values(&[&self.cfg.camera, telemetry::stage::MASKED])
            .inc();
        outcome
    }

    /// Runs the scene guard on the raw frame (inside the stage: no copy leaves it).
    fn scene_changed(&mut self, frame: &FrameMut<'_>) -> bool {
        let Some(guard) = &mut self.scene else {
            return false;
        };
        let zones = scene::zone_counts(&self.cfg.privacy_masks, &self.cfg.recording_zones);
        guard.observe(&frame.as_ref(), &self.cfg.privacy_masks, zones) == SceneHold::Changed
    }

    /// A frame of a changed scene: masked whole, no detection. The tracker's boxes belong to the old view, so
    /// it starts over; frames after an accepted view stay whole-masked until the next scheduled detection.
    fn mask_scene_changed(&mut self, frame: &mut FrameMut<'_>) -> Outcome {
        let reason = FailClosedReason::SceneChanged;
        self.index += 1;
        self.vouch = Err(reason);
        self.tracker = Tracker::new(self.tracker_config());
        self.gate.reset();
        self.last_regions.clear();
        mask::mask_whole(frame, self.cfg.style);
        let m = telemetry::metrics();
        m.fail_closed_frames_total
            .with_label_values(&[&self.cfg.camera, reason.as_str()])
            .inc();
        m.frames_total
            .with_label_values(&[&self.cfg.camera, telemetry::stage::MASKED])
            .inc();
        Outcome {
            fail_closed: Some(reason),
            boxes: 0,
        }
    }

    fn mask_tracked(&mut self, frame: &mut FrameMut<'_>) -> usize {
        let (w, h) = (frame.layout.width, frame.layout.height);
        if self.coverage.width() != w || self.coverage.height() != h {
            self.coverage = Coverage::new(w, h);
        } else {
            self.coverage.clear();
        }
        for p in &self.cfg.privacy_masks {
            self.coverage.add_polygon(p);
        }
        let boxes = self.tracker.boxes();
        self.last_regions.clear();
        for d in &boxes {
            let (x0, y0, x1, y1) = d.bbox.to_rect_px();
            self.coverage.add_rect(RectPx { x0, y0, x1, y1 });
            self.last_regions.push(Detection {
                bbox: d.bbox.clip(w, h),
                ..*d
            });
        }
        if !self.coverage.is_empty() {
            // Sizes match by construction, so this cannot fail; if it ever did, fail closed.
            if mask::apply(frame, &self.coverage, self.cfg.style).is_err() {
                mask::mask_whole(frame, self.cfg.style);
            }
        }
        boxes.len()
    }

    fn detect_fresh(
        &mut self,
        frame: &FrameMut<'_>,
        arrival: Instant,
    ) -> Result<(), FailClosedReason> {
        if self.pending.is_some() {
            // The worker is still on an older frame: this one cannot be vouched for in time.
            return Err(FailClosedReason::Late);
        }
        let id = self.index;
        let job = Job {
            id,
            layout: frame.layout,
            data: frame.data.to_vec(),
        };
        match self.jobs.try_send(job) {
            Ok(()) => self.pending = Some(id),
            Err(TrySendError::Full(_)) => return Err(FailClosedReason::Late),
            Err(TrySendError::Disconnected(_)) => return Err(FailClosedReason::DetectorError),
        }
        loop {
            let budget = self.cfg.deadline.saturating_sub(arrival.elapsed());
            match self.done.recv_timeout(budget) {
                Ok(done) => {
                    let mine = done.id == id;
                    let verdict = self.absorb(done);
                    if mine {
                        return verdict;
                    }
                }
                Err(RecvTimeoutError::Timeout) => return Err(FailClosedReason::Late),
                Err(RecvTimeoutError::Disconnected) => {
                    self.pending = None;
                    return Err(FailClosedReason::DetectorError);
                }
            }
        }
    }

    /// Results that came after their deadline still feed the tracker (more masking, never less), but do not
    /// vouch for any frame.
    fn harvest_late_results(&mut self) {
        while let Ok(done) = self.done.try_recv() {
            let _ = self.absorb(done);
        }
    }

    fn absorb(&mut self, done: Done) -> Result<(), FailClosedReason> {
        if self.pending == Some(done.id) {
            self.pending = None;
        }
        self.inference.push(done.took);
        match done.result {
            Ok(dets) => {
                self.tracker.update(&dets);
                Ok(())
            }
            Err(DetectError::NotLoaded(_)) => Err(FailClosedReason::ModelNotLoaded),
            Err(_) => Err(FailClosedReason::DetectorError),
        }
    }
}

/// Makes every `garim_fail_closed_frames_total{camera, reason}` series exist at 0, so dashboards and alerts
/// see a 0 before the first frame fails closed rather than no series at all.
fn register_reasons(camera: &str) {
    let m = telemetry::metrics();
    for r in FailClosedReason::ALL {
        m.fail_closed_frames_total
            .with_label_values(&[camera, r.as_str()]);
    }
}

/// A frame that has been through `MaskingStage` (or holds no camera content at all). Outputs accept only
/// this type, so no branch — live, recording, snapshot — can be handed an unmasked frame.
#[derive(Clone)]
pub struct MaskedFrame {
    layout: Layout,
    data: Vec<u8>,
    outcome: Outcome,
    regions: Vec<Detection>,
}

impl MaskedFrame {
    /// The "no signal" picture shown while a camera is down: generated, no camera pixels in it.
    pub fn no_signal(format: mask::PixelFormat, width: u32, height: u32) -> MaskedFrame {
        MaskedFrame {
            layout: Layout::packed(format, width, height),
            data: mask::no_signal_frame(format, width, height),
            outcome: Outcome {
                fail_closed: None,
                boxes: 0,
            },
            regions: Vec::new(),
        }
    }

    pub fn layout(&self) -> Layout {
        self.layout
    }

    pub fn data(&self) -> &[u8] {
        &self.data
    }

    pub fn outcome(&self) -> Outcome {
        self.outcome
    }

    pub fn into_data(self) -> Vec<u8> {
        self.data
    }

    /// A copy for the recording branch with everything outside `zones` blacked out (the frame itself when
    /// there are no zones): only the purpose-limited part of the scene is kept.
    pub fn limited_to(&self, zones: &[Polygon]) -> MaskedFrame {
        let mut out = self.clone();
        if zones.is_empty() {
            return out;
        }
        let l = out.layout;
        let mut cov = Coverage::new(l.width, l.height);
        for z in zones {
            cov.add_polygon(z);
        }
        cov.invert();
        if let Ok(mut f) = FrameMut::new(l, &mut out.data) {
            // Sizes match by construction; on any mismatch the whole frame is blacked instead.
            if mask::apply(&mut f, &cov, MaskStyle::BLACK).is_err() {
                mask::mask_whole(&mut f, MaskStyle::BLACK);
            }
        }
        out
    }

    /// The tracked boxes that were masked (static privacy masks not included; none when masked whole).
    pub fn regions(&self) -> &[Detection] {
        &self.regions
    }
}

impl MaskingStage {
    /// Takes ownership of a raw frame and returns it masked; the only way camera pixels become a `MaskedFrame`.
    pub fn mask(
        &mut self,
        layout: Layout,
        mut data: Vec<u8>,
        arrival: Instant,
    ) -> Result<MaskedFrame, mask::FrameError> {
        let outcome = {
            let mut frame = FrameMut::new(layout, &mut data)?;
            self.process(&mut frame, arrival)
        };
        Ok(MaskedFrame {
            layout,
            data,
            outcome,
            regions: self.last_regions.clone(),
        })
    }
}

/// A frame of a redacted export: everyone but the requester hidden as `plan` says (the whole frame where the
/// requester's track is lost), the static masks applied and the watermark burned in. With
/// [`MaskingStage::mask`], the only way camera pixels become a `MaskedFrame`.
pub fn redact_frame(
    layout: Layout,
    mut data: Vec<u8>,
    plan: &redact::Plan,
    style: MaskStyle,
    static_masks: &[Polygon],
    watermark: &str,
) -> Result<MaskedFrame, mask::FrameError> {
    {
        let mut frame = FrameMut::new(layout, &mut data)?;
        redact::apply(&mut frame, plan, style, static_masks);
        redact::watermark(&mut frame, watermark);
    }
    let boxes = match plan {
        redact::Plan::Whole => 0,
        redact::Plan::Boxes { hide, .. } | redact::Plan::Erase(hide) => hide.len(),
    };
    Ok(MaskedFrame {
        layout,
        data,
        outcome: Outcome {
            fail_closed: None,
            boxes,
        },
        regions: Vec::new(),
    })
}

/// The zone-limited, UNMASKED copy of a frame for a camera in `recording = "sealed"`. It exists only to be
/// encrypted under the sealed key hierarchy: live and masked-recording outputs accept `MaskedFrame` only, so a
/// `SealedFrame` cannot reach them.
pub struct SealedFrame {
    layout: Layout,
    data: Vec<u8>,
}

impl SealedFrame {
    /// Copies `data`, blacks out everything outside `zones` (the whole frame is kept when there are none) and
    /// inside the static `privacy_masks` (those areas are never recorded in any mode).
    pub fn capture(
        layout: Layout,
        data: &[u8],
        zones: &[Polygon],
        privacy_masks: &[Polygon],
    ) -> Result<SealedFrame, mask::FrameError> {
        let mut data = data.to_vec();
        let mut f = FrameMut::new(layout, &mut data)?;
        let mut cov = Coverage::new(layout.width, layout.height);
        if !zones.is_empty() {
            for z in zones {
                cov.add_polygon(z);
            }
            cov.invert();
        }
        for p in privacy_masks {
            cov.add_polygon(p);
        }
        if mask::apply(&mut f, &cov, MaskStyle::BLACK).is_err() {
            mask::mask_whole(&mut f, MaskStyle::BLACK);
        }
        Ok(SealedFrame { layout, data })
    }

    /// An all-black sealed frame (nothing of the camera in it), kept while the camera's view is not its
    /// accepted reference.
    pub fn blank(layout: Layout) -> SealedFrame {
        let l = Layout::packed(layout.format, layout.width, layout.height);
        let mut data = vec![0u8; l.min_len()];
        if let Ok(mut f) = FrameMut::new(l, &mut data) {
            mask::mask_whole(&mut f, MaskStyle::BLACK);
        }
        SealedFrame { layout: l, data }
    }

    pub fn layout(&self) -> Layout {
        self.layout
    }

    pub fn data(&self) -> &[u8] {
        &self.data
    }
}
