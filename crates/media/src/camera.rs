//! One camera: ingest (rtspsrc → decode → appsink), the masking stage, and the outputs (live RTSP,
//! recording). What is configured (`CameraSpec`) is separate from what runs (the ingest pipeline, rebuilt on
//! every reconnect). A failing source moves the camera to `retrying` with exponential backoff (1 s → 30 s)
//! while the outputs keep running on a "no signal" picture; other cameras are untouched.

use crate::frames::{sample_to_frame, scrub};
use crate::pipelines;
use crate::recorder::Recorder;
use crate::rtsp::LiveOut;
use anyhow::{Context, Result, anyhow};
use detect::Detector;
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use mask::{Layout, PixelFormat};
use parking_lot::Mutex;
use policy::SecretUrl;
use stage::{MaskedFrame, MaskingStage, StageConfig};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const BACKOFF_START: Duration = Duration::from_secs(1);
const BACKOFF_CAP: Duration = Duration::from_secs(30);
/// A camera that streamed this recently is retried at once (`BACKOFF_START`), however many attempts failed:
/// a short outage of a good camera should cost seconds, not the grown backoff.
const RECENTLY_GOOD: Duration = Duration::from_secs(60);
/// How often the console's snapshot of a camera is refreshed.
pub const SNAPSHOT_EVERY: Duration = Duration::from_millis(500);

/// A source that delivers nothing for this long is restarted.
const STALL_TIMEOUT: Duration = Duration::from_secs(5);
/// Connecting and the first keyframe may take longer than a stall.
const FIRST_FRAME_TIMEOUT: Duration = Duration::from_secs(10);
/// Over a gap shorter than this the last masked frame is repeated; beyond it the outputs show "no signal".
const HOLD_LAST: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CameraState {
    Starting,
    Streaming,
    Retrying { attempt: u32, reason: String },
    Stopped,
}

impl fmt::Display for CameraState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CameraState::Starting => write!(f, "starting"),
            CameraState::Streaming => write!(f, "streaming"),
            CameraState::Retrying { attempt, reason } => write!(f, "retrying({attempt}): {reason}"),
            CameraState::Stopped => write!(f, "stopped"),
        }
    }
}

/// What the status line, /healthz and tests read.
#[derive(Debug, Clone)]
pub struct CameraStatus {
    pub id: String,
    pub state: CameraState,
    pub frames_in: u64,
    pub frames_out: u64,
    pub fail_closed: u64,
    pub reconnects: u64,
    pub inference_p50_ms: Option<f64>,
    pub latency_p99_ms: Option<f64>,
    pub latency_p50_ms: Option<f64>,
    pub width: u32,
    pub height: u32,
}

/// Configuration of one running camera.
pub struct CameraSpec {
    pub id: String,
    pub url: SecretUrl,
    pub stage: StageConfig,
    pub detector: Arc<dyn Detector>,
    pub live: Option<LiveOut>,
    /// The vault segments go to, and their length; no recording when `None`.
    pub record: Option<(Arc<vault::Vault>, Duration)>,
    /// Sealed recording (zone-limited, unmasked, encrypted to this key) instead of the masked one.
    pub sealed: Option<vault::SealedPublicKey>,
    /// Re-aim / tamper check against the camera's reference view (applied at start).
    pub scene: Option<stage::scene::SceneConfig>,
    /// How the masked picture is encoded. With `shared`, `live` must be a `Feed::H264` mount.
    pub encode: crate::EncodeSettings,
}

pub struct CameraHandle {
    status: Arc<Mutex<CameraStatus>>,
    snapshot: Arc<Mutex<Option<(Instant, MaskedFrame)>>>,
    pending: Arc<Mutex<Option<StageConfig>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<Vec<PathBuf>>>,
}

impl CameraHandle {
    pub fn status(&self) -> CameraStatus {
        self.status.lock().clone()
    }

    /// Applies new masking settings (masks, style, deadline, schedule) from the next frame on, without
    /// restarting the stream.
    pub fn update(&self, cfg: StageConfig) {
        *self.pending.lock() = Some(cfg);
    }

    /// The newest masked frame (at most `SNAPSHOT_EVERY` old while the camera streams) and when it was taken:
    /// what the console shows. It went through the same masking as the live output.
    pub fn snapshot(&self) -> Option<(Instant, MaskedFrame)> {
        self.snapshot.lock().clone()
    }

    /// The live status, for readers on other threads (/healthz).
    pub fn shared_status(&self) -> Arc<Mutex<CameraStatus>> {
        self.status.clone()
    }

    /// Stops the camera, closes its open segment, and returns every segment it committed.
    pub fn stop(mut self) -> Vec<PathBuf> {
        self.stop.store(true, Ordering::SeqCst);
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for CameraHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Pause before a failed encoder is started again (the live output shows nothing new meanwhile; the
/// recording's open segment waits).
const ENCODER_RETRY: Duration = Duration::from_secs(2);

pub struct CameraRunner {
    spec: CameraSpec,
    stage: MaskingStage,
    pending: Arc<Mutex<Option<StageConfig>>>,
    recorder: Option<Arc<Mutex<Recorder>>>,
    /// The one encode (settings `shared`), started at the first frame out.
    encoder: Option<crate::Encoder>,
    /// After an encoder failure, no new one is tried before this (one log line per failure, not per frame).
    encoder_retry_after: Option<Instant>,
    status: Arc<Mutex<CameraStatus>>,
    snapshot: Arc<Mutex<Option<(Instant, MaskedFrame)>>>,
    stop: Arc<AtomicBool>,
    last_layout: Option<Layout>,
    /// When the source last delivered a frame (for the retry backoff).
    last_good: Option<Instant>,
    /// When the outputs last got a frame (real or "no signal"): they are fed at the camera's rate whatever
    /// the source does.
    last_emit: Instant,
    /// The last masked frame of the source, repeated over a late frame's gap (never an unmasked one).
    last_masked: Option<MaskedFrame>,
    /// How far the last frame out lagged the moment it stands for: a filler (a repeat, "no signal") stands
    /// for its emit time less this, so its spacing from the frame before is the time the outputs waited.
    lag: Duration,
    fps: gst::Fraction,
    latency: stage::RollingStats,
}

enum Ended {
    Stopped,
    Failed(String),
}

impl CameraRunner {
    pub fn spawn(spec: CameraSpec) -> Result<CameraHandle> {
        crate::init()?;
        let id = spec.id.clone();
        telemetry::metrics().register_camera(&id);
        let recorder = match &spec.record {
            Some((vault, seg)) => Some(Arc::new(Mutex::new(
                Recorder::start(&id, vault.clone(), *seg, spec.sealed)?
                    .with_encoder(&spec.encode.preset, spec.encode.trellis),
            ))),
            None => None,
        };
        let status = Arc::new(Mutex::new(CameraStatus {
            id: id.clone(),
            state: CameraState::Starting,
            frames_in: 0,
            frames_out: 0,
            fail_closed: 0,
            reconnects: 0,
            inference_p50_ms: None,
            latency_p99_ms: None,
            latency_p50_ms: None,
            width: 0,
            height: 0,
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let mut stage = MaskingStage::new(spec.stage.clone(), spec.detector.clone());
        stage.set_scene_guard(spec.scene.clone());
        let pending = Arc::new(Mutex::new(None));
        let snapshot = Arc::new(Mutex::new(None));
        let mut runner = CameraRunner {
            spec,
            stage,
            pending: pending.clone(),
            recorder,
            encoder: None,
            encoder_retry_after: None,
            status: status.clone(),
            snapshot: snapshot.clone(),
            stop: stop.clone(),
            last_layout: None,
            last_good: None,
            last_emit: Instant::now(),
            last_masked: None,
            lag: Duration::ZERO,
            fps: gst::Fraction::new(10, 1),
            latency: stage::RollingStats::new(1000),
        };
        let thread = std::thread::Builder::new()
            .name(format!("cam-{id}"))
            .spawn(move || runner.run())
            .context("spawn camera thread")?;
        Ok(CameraHandle {
            status,
            snapshot,
            pending,
            stop,
            thread: Some(thread),
        })
    }

    fn set_state(&self, state: CameraState) {
        let up = i64::from(state == CameraState::Streaming);
        telemetry::metrics()
            .camera_up
            .with_label_values(&[&self.spec.id])
            .set(up);
        let mut status = self.status.lock();
        if status.state != state {
            // One event per change, with the camera id only: retry reasons are already scrubbed of the URL.
            tracing::info!(camera = %self.spec.id, from = %status.state, to = %state, "camera state changed");
        }
        status.state = state;
    }

    fn run(&mut self) -> Vec<PathBuf> {
        let mut attempt: u32 = 0;
        while !self.stop.load(Ordering::SeqCst) {
            match self.stream_once() {
                Ended::Stopped => break,
                Ended::Failed(reason) => {
                    attempt = if self.status.lock().state == CameraState::Streaming {
                        1
                    } else {
                        attempt + 1
                    };
                    let recently_good = self.last_good.is_some_and(|t| t.elapsed() < RECENTLY_GOOD);
                    let backoff = if recently_good {
                        BACKOFF_START
                    } else {
                        BACKOFF_START
                            .saturating_mul(1 << (attempt - 1).min(5))
                            .min(BACKOFF_CAP)
                    };
                    tracing::warn!(camera = %self.spec.id, attempt, "source failed: {reason}; retrying in {backoff:?}");
                    self.set_state(CameraState::Retrying { attempt, reason });
                    self.wait_with_no_signal(backoff);
                    if self.stop.load(Ordering::SeqCst) {
                        break;
                    }
                    telemetry::metrics()
                        .camera_reconnect_attempts_total
                        .with_label_values(&[&self.spec.id])
                        .inc();
                }
            }
        }
        self.set_state(CameraState::Stopped);
        if let Some(enc) = self.encoder.take() {
            enc.stop();
        }
        match self.recorder.take() {
            Some(r) => match r.lock().finish(Duration::from_secs(20)) {
                Ok(segments) => segments.into_iter().map(|s| s.path).collect(),
                Err(e) => {
                    tracing::error!(camera = %self.spec.id, "{e}");
                    Vec::new()
                }
            },
            None => Vec::new(),
        }
    }

    /// Keeps the outputs alive with a "no signal" picture at the camera's rate while the source is down.
    fn wait_with_no_signal(&mut self, total: Duration) {
        let until = Instant::now() + total;
        while Instant::now() < until && !self.stop.load(Ordering::SeqCst) {
            self.keep_output_alive();
            std::thread::sleep(self.period() / 4);
        }
    }

    /// The camera's frame interval (100 ms until it reports a rate).
    fn period(&self) -> Duration {
        let rate = crate::frames::rate_of(self.fps);
        if rate > 0.5 {
            Duration::from_secs_f64(1.0 / rate)
        } else {
            Duration::from_millis(100)
        }
    }

    /// Fills the outputs when they have had nothing for a frame interval (1.5 while the source was just
    /// streaming, for its jitter): while a stall is being
    /// detected, while reconnecting, and while waiting to retry, the NVR keeps receiving frames at the camera's
    /// rate (never a gap it could drop the session over). A late frame's gap (under `HOLD_LAST`) repeats the
    /// last masked frame, so jitter never flashes a "no signal" picture; after that it is "no signal".
    fn keep_output_alive(&mut self) {
        let silent = self.last_good.map_or(Duration::MAX, |t| t.elapsed());
        // A late frame is waited for half an interval more; a silent source is filled at its own rate.
        let wait = if silent < HOLD_LAST { 1.5 } else { 1.0 };
        if self.last_emit.elapsed() < self.period().mul_f32(wait) {
            return;
        }
        let frame = match (&self.last_masked, self.last_layout) {
            (Some(f), _) if silent < HOLD_LAST => f.clone(),
            (_, Some(l)) => MaskedFrame::no_signal(PixelFormat::I420, l.width, l.height),
            _ => return,
        };
        let shown_at = Instant::now()
            .checked_sub(self.lag)
            .unwrap_or_else(Instant::now);
        self.emit(&frame, shown_at);
    }

    /// Sends a masked frame to the outputs. `shown_at` is the moment it stands for: when the camera delivered
    /// it (its own timestamp, not when this thread got to it), so a frame that waited for its detection on a
    /// loaded machine keeps the camera's spacing in the live stream and the recording.
    fn emit(&mut self, frame: &MaskedFrame, shown_at: Instant) {
        self.last_emit = Instant::now();
        self.lag = self.last_emit.saturating_duration_since(shown_at);
        let zones = &self.stage.config().recording_zones;
        let sealed = self.recorder.is_some() && self.spec.sealed.is_some();
        // The recording takes the live encode when it keeps the same picture (no zones, not sealed).
        let shared_recording = self.spec.encode.shared && zones.is_empty() && !sealed;
        if self.spec.encode.shared {
            self.encode(frame, shared_recording && self.recorder.is_some(), shown_at);
        } else if let Some(live) = &self.spec.live {
            live.push(frame, self.fps);
        }
        if let Some(rec) = &self.recorder {
            if !sealed && !shared_recording {
                let zones = &self.stage.config().recording_zones;
                if zones.is_empty() {
                    rec.lock().push(frame, self.fps);
                } else {
                    rec.lock().push(&frame.limited_to(zones), self.fps);
                }
            }
        }
        self.status.lock().frames_out += 1;
        // A copy for the console now and then, not of every frame.
        let mut snap = self.snapshot.lock();
        if snap
            .as_ref()
            .is_none_or(|(at, _)| at.elapsed() >= SNAPSHOT_EVERY)
        {
            *snap = Some((Instant::now(), frame.clone()));
        }
    }

    /// The one encode: started at the first frame, restarted after a failure (logged), skipped while nothing
    /// takes it (no live client, the recording has its own).
    fn encode(&mut self, frame: &MaskedFrame, recording: bool, shown_at: Instant) {
        if self.encoder.is_none() {
            if self.encoder_retry_after.is_some_and(|t| Instant::now() < t) {
                return;
            }
            match crate::Encoder::start(
                &self.spec.id,
                &self.spec.encode,
                frame,
                self.fps,
                self.spec.live.clone(),
                self.recorder.clone(),
            ) {
                Ok(e) => self.encoder = Some(e),
                Err(e) => {
                    tracing::error!(camera = %self.spec.id, "cannot start the encoder: {e:#}; retrying in {ENCODER_RETRY:?}");
                    self.encoder_retry_after = Some(Instant::now() + ENCODER_RETRY);
                    return;
                }
            }
        }
        let enc = self.encoder.as_mut().expect("started above");
        enc.set_recording(recording);
        if !enc.is_needed() {
            return;
        }
        if let Err(e) = enc.push(frame, self.fps, shown_at) {
            tracing::error!(camera = %self.spec.id, "{e:#}; restarting the encoder in {ENCODER_RETRY:?}");
            self.encoder_retry_after = Some(Instant::now() + ENCODER_RETRY);
            if let Some(enc) = self.encoder.take() {
                enc.stop();
            }
        }
    }

    fn stream_once(&mut self) -> Ended {
        if self.status.lock().state != CameraState::Streaming && self.last_layout.is_none() {
            self.set_state(CameraState::Starting);
        }
        let url = self.spec.url.expose().to_string();
        let ingest = match Ingest::open(&url) {
            Ok(i) => i,
            Err(e) => return Ended::Failed(scrub(&format!("{e:#}"), &url)),
        };
        // A camera that comes back may have been turned while it was away (a reboot, a PTZ preset): its view
        // is checked against the reference on the first frame of the new stream.
        self.stage.recheck_scene();
        let started = Instant::now();
        let mut last_frame: Option<Instant> = None;
        let mut last_pts: Option<gst::ClockTime> = None;
        let m = telemetry::metrics();
        let id = self.spec.id.clone();
        let result = loop {
            if self.stop.load(Ordering::SeqCst) {
                break Ended::Stopped;
            }
            if let Some(err) = ingest.bus_error() {
                break Ended::Failed(scrub(&err, &url));
            }
            let wait = gst::ClockTime::from_nseconds(self.period().as_nanos() as u64 / 4);
            let Some(sample) = ingest.sink.try_pull_sample(wait) else {
                self.keep_output_alive();
                if ingest.sink.is_eos() {
                    break Ended::Failed("stream ended".into());
                }
                let waited = last_frame.map_or(started.elapsed(), |t| t.elapsed());
                let limit = if last_frame.is_some() {
                    STALL_TIMEOUT
                } else {
                    FIRST_FRAME_TIMEOUT
                };
                if waited > limit {
                    break Ended::Failed(format!("no frames for {} s", waited.as_secs()));
                }
                continue;
            };
            let arrival = Instant::now();
            last_frame = Some(arrival);
            let captured = ingest.captured_at(&sample, arrival);
            m.frames_total
                .with_label_values(&[&id, telemetry::stage::INGESTED])
                .inc();
            let (layout, data, info) = match sample_to_frame(&sample) {
                Ok(f) => f,
                Err(e) => {
                    m.frames_dropped_total
                        .with_label_values(&[&id, telemetry::dropped::BAD_FRAME])
                        .inc();
                    tracing::warn!(camera = %id, "dropping a frame: {e:#}");
                    continue;
                }
            };
            if info.fps().numer() > 0 {
                self.fps = info.fps();
                self.stage.set_frame_rate(crate::frames::rate_of(self.fps));
            }
            // The appsink keeps only the newest frames; gaps in the timestamps are the frames it dropped.
            let pts = sample.buffer().and_then(|b| b.pts());
            if let (Some(prev), Some(now)) = (last_pts, pts) {
                let lost = frames_skipped(now.saturating_sub(prev), self.fps);
                if lost > 0 {
                    m.frames_dropped_total
                        .with_label_values(&[&id, telemetry::dropped::BACKLOG])
                        .inc_by(lost);
                }
            }
            last_pts = pts.or(last_pts);
            let was = self.status.lock().state.clone();
            if was != CameraState::Streaming {
                tracing::info!(camera = %id, "streaming {}x{}", layout.width, layout.height);
                if matches!(was, CameraState::Retrying { .. }) {
                    // A reconnection is counted when frames flow again, not when it is tried.
                    m.camera_reconnects_total.with_label_values(&[&id]).inc();
                    self.status.lock().reconnects += 1;
                }
                self.set_state(CameraState::Streaming);
            }
            self.last_good = Some(Instant::now());
            if let Some(cfg) = self.pending.lock().take() {
                tracing::info!(camera = %id, "new masking settings in force");
                self.stage.set_config(cfg);
            }
            let sealed = if self.recorder.is_some() && self.spec.sealed.is_some() {
                // Sealed mode keeps the zone-limited frame before the dynamic masks (static privacy masks
                // still apply), encrypted only.
                let cfg = self.stage.config();
                stage::SealedFrame::capture(layout, &data, &cfg.recording_zones, &cfg.privacy_masks)
                    .ok()
            } else {
                None
            };
            let masked = match self.stage.mask(layout, data, arrival) {
                Ok(f) => f,
                Err(e) => {
                    m.frames_dropped_total
                        .with_label_values(&[&id, telemetry::dropped::BAD_FRAME])
                        .inc();
                    tracing::warn!(camera = %id, "dropping a frame: {e}");
                    continue;
                }
            };
            if let (Some(sealed), Some(rec)) = (sealed, self.recorder.as_ref()) {
                // A re-aimed camera's zones no longer frame what they were drawn for: black until accepted.
                if masked.outcome().fail_closed == Some(stage::FailClosedReason::SceneChanged) {
                    rec.lock()
                        .push_sealed(&stage::SealedFrame::blank(layout), self.fps);
                } else {
                    rec.lock().push_sealed(&sealed, self.fps);
                }
            }
            self.last_layout = Some(masked.layout());
            let latency = arrival.elapsed();
            m.frame_latency_seconds
                .with_label_values(&[&id])
                .observe(latency.as_secs_f64());
            self.latency.push(latency);
            self.emit(&masked, captured);
            let fail_closed = masked.outcome().fail_closed.is_some();
            self.last_masked = Some(masked);
            let mut st = self.status.lock();
            st.frames_in += 1;
            st.fail_closed += u64::from(fail_closed);
            // Quantiles sort their window: refreshed every 16 frames, not on every one.
            if st.frames_in % 16 == 1 {
                st.inference_p50_ms = self.stage.inference_stats().quantile_ms(0.5);
                st.latency_p99_ms = self.latency.quantile_ms(0.99);
                st.latency_p50_ms = self.latency.quantile_ms(0.5);
            }
            st.width = layout.width;
            st.height = layout.height;
        };
        // A frozen source can take seconds to tear down: not on this thread, which feeds the outputs.
        let _ = std::thread::Builder::new()
            .name(format!("close-{}", self.spec.id))
            .spawn(move || ingest.close());
        result
    }
}

/// Frames missing in a timestamp gap of `gap` at `fps` (a gap of one frame period means none).
fn frames_skipped(gap: gst::ClockTime, fps: gst::Fraction) -> u64 {
    if fps.numer() <= 0 || fps.denom() <= 0 {
        return 0;
    }
    let period_ns = 1e9 * f64::from(fps.denom()) / f64::from(fps.numer());
    let periods = (gap.nseconds() as f64 / period_ns).round();
    if periods >= 2.0 {
        periods as u64 - 1
    } else {
        0
    }
}

/// The source half: a pipeline from the camera URL to an appsink of raw I420 frames.
struct Ingest {
    pipeline: gst::Pipeline,
    sink: gst_app::AppSink,
}

impl Ingest {
    fn open(url: &str) -> Result<Ingest> {
        let (template, prop) = if url.starts_with("rtsp://") || url.starts_with("rtsps://") {
            (pipelines::INGEST_RTSP, "location")
        } else {
            (pipelines::INGEST_URI, "uri")
        };
        let pipeline = pipelines::launch(template, &[], "ingest")?;
        // The URL is set as a property, never written into a launch string or a log. rtspsrc prints its
        // location at debug level (GST_DEBUG=rtspsrc:5), so its credentials go to user-id/user-pw instead.
        let src = pipelines::element(&pipeline, "src")?;
        match policy::split_credentials(url).filter(|_| prop == "location") {
            Some((bare, user, password)) => {
                src.set_property(prop, bare.as_str());
                src.set_property("user-id", user.as_str());
                src.set_property("user-pw", password.as_str());
            }
            None => src.set_property(prop, url),
        }
        let sink = pipelines::appsink(&pipeline, "sink")?;
        pipeline
            .set_state(gst::State::Playing)
            .map_err(|_| anyhow!("source refused to start"))?;
        Ok(Ingest { pipeline, sink })
    }

    /// When the camera delivered `sample`: `arrival` (when this thread pulled it) less how long it had been
    /// in the pipeline, from its timestamp against the pipeline's clock. Frames that queued while the thread
    /// waited for a detection are pulled together; their timestamps keep them a frame interval apart. Without
    /// a usable timestamp (none, in the future, or over `MAX_AGE` old) it is `arrival`.
    fn captured_at(&self, sample: &gst::Sample, arrival: Instant) -> Instant {
        const MAX_AGE: Duration = Duration::from_secs(1);
        let Some(pts) = sample.buffer().and_then(|b| b.pts()) else {
            return arrival;
        };
        let running = sample
            .segment()
            .and_then(|s| s.downcast_ref::<gst::ClockTime>())
            .and_then(|s| s.to_running_time(pts));
        let (Some(running), Some(now)) = (running, self.pipeline.current_running_time()) else {
            return arrival;
        };
        let Some(age) = now
            .checked_sub(running)
            .map(|a| Duration::from_nanos(a.nseconds()))
        else {
            return arrival;
        };
        if age > MAX_AGE {
            return arrival;
        }
        arrival.checked_sub(age).unwrap_or(arrival)
    }

    fn bus_error(&self) -> Option<String> {
        let bus = self.pipeline.bus()?;
        while let Some(msg) = bus.pop_filtered(&[gst::MessageType::Error]) {
            if let gst::MessageView::Error(e) = msg.view() {
                return Some(format!(
                    "{}: {}",
                    e.src().map(|s| s.name().to_string()).unwrap_or_default(),
                    e.error()
                ));
            }
        }
        None
    }

    fn close(self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_gaps_count_the_frames_dropped() {
        let fps = gst::Fraction::new(10, 1);
        let ms = gst::ClockTime::from_mseconds;
        assert_eq!(frames_skipped(ms(100), fps), 0);
        assert_eq!(frames_skipped(ms(130), fps), 0);
        assert_eq!(frames_skipped(ms(200), fps), 1);
        assert_eq!(frames_skipped(ms(510), fps), 4);
        assert_eq!(frames_skipped(ms(500), gst::Fraction::new(0, 1)), 0);
    }
}
