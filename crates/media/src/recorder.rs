//! The recording branch: masked (and zone-limited) frames → H.264 → fragmented MP4, whose bytes go straight
//! from the muxer into an encrypted vault segment — no plaintext file ever exists. Each segment has its own
//! short pipeline; at `segment_secs` a new one starts and the old one drains (EOS), is sealed, renamed and
//! indexed on its own thread, so rotating never stalls the camera.

use crate::pipelines;
use anyhow::{Context, Result, anyhow};
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use parking_lot::Mutex;
use stage::MaskedFrame;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use vault::{SegmentRow, Vault};

/// How long a closing segment may take to drain before it is abandoned (its partial file is removed).
const DRAIN_TIMEOUT: Duration = Duration::from_secs(15);
/// Pause before a new segment is tried after a recording failure.
const RETRY_DELAY: Duration = Duration::from_secs(5);

/// What a segment's pipeline takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Input {
    /// Raw frames, encoded here (recording zones, sealed, or two encodes by setting).
    Raw,
    /// The camera's one encode (`encoder::Encoder`), muxed only.
    H264,
}

struct SegmentPipe {
    input: Input,
    /// Caps of the H.264 it was opened with (a change of size starts a new segment).
    h264_caps: Option<gst::Caps>,
    /// H.264 input: the encoder's timestamp of the segment's first access unit (the segment starts at 0), the
    /// latest encoder timestamp seen (relative to `base`), and the last timestamp given (ns).
    base: Option<u64>,
    raw_max: u64,
    last: Option<u64>,
    pipeline: gst::Pipeline,
    src: gst_app::AppSrc,
    started: Instant,
    ending: Arc<AtomicBool>,
    drain: JoinHandle<Option<SegmentRow>>,
}

pub struct Recorder {
    camera: String,
    /// Sealed mode: segments encrypted to this public key, fed with `push_sealed`.
    sealed: Option<vault::SealedPublicKey>,
    vault: Arc<Vault>,
    segment: Duration,
    current: Option<SegmentPipe>,
    closing: Vec<JoinHandle<Option<SegmentRow>>>,
    size: Option<(u32, u32)>,
    committed: Arc<Mutex<Vec<SegmentRow>>>,
    error: Arc<Mutex<Option<String>>>,
    /// After a failure, no new segment is tried before this (the live output is not affected).
    retry_after: Option<Instant>,
    /// x264 settings of the raw input's encode.
    preset: String,
    trellis: bool,
    /// H.264 input: waiting for a key frame to start the next segment at.
    want_key: bool,
    /// `wants_key_frame()` as of the last access unit, for the encoder to read without this recorder's lock.
    key_flag: Arc<AtomicBool>,
}

impl Recorder {
    pub fn start(
        camera: &str,
        vault: Arc<Vault>,
        segment: Duration,
        sealed: Option<vault::SealedPublicKey>,
    ) -> Result<Recorder> {
        crate::init()?;
        Ok(Recorder {
            sealed,
            camera: camera.to_string(),
            vault,
            segment,
            current: None,
            closing: Vec::new(),
            size: None,
            committed: Arc::new(Mutex::new(Vec::new())),
            error: Arc::new(Mutex::new(None)),
            retry_after: None,
            preset: "veryfast".into(),
            trellis: true,
            want_key: false,
            key_flag: Arc::new(AtomicBool::new(false)),
        })
    }

    /// The x264 speed preset (one of `encoder::PRESETS`, else veryfast) and trellis of the raw input's own
    /// encode.
    pub fn with_encoder(mut self, preset: &str, trellis: bool) -> Recorder {
        if crate::encoder::PRESETS.contains(&preset) {
            self.preset = preset.to_string();
        }
        self.trellis = trellis;
        self
    }

    /// The encoder and muxer of one segment, ready to run.
    fn build_pipeline(
        &self,
        caps: &gst::Caps,
        input: Input,
    ) -> Result<(gst::Pipeline, gst_app::AppSrc, gst_app::AppSink)> {
        if input == Input::H264 {
            let pipeline = pipelines::launch(pipelines::RECORD_H264, &[], "recording")?;
            let src = pipelines::appsrc(&pipeline, "src")?;
            let out = pipelines::appsink(&pipeline, "out")?;
            src.set_caps(Some(caps));
            pipeline
                .set_state(gst::State::Playing)
                .map_err(|_| anyhow!("cannot start the recording pipeline of {}", self.camera))?;
            return Ok((pipeline, src, out));
        }
        let trellis = if self.trellis { "true" } else { "false" };
        let pipeline = pipelines::launch(
            pipelines::RECORD,
            &[("preset", &self.preset), ("trellis", trellis)],
            "recording",
        )?;
        let src = pipelines::appsrc(&pipeline, "src")?;
        let out = pipelines::appsink(&pipeline, "out")?;
        let (w, h) = self.size.expect("size known before the first segment");
        pipelines::element(&pipeline, "size")?.set_property(
            "caps",
            gst::Caps::builder("video/x-raw")
                .field("width", w as i32)
                .field("height", h as i32)
                .build(),
        );
        src.set_caps(Some(caps));
        let metric_cam = self.camera.clone();
        pipelines::element(&pipeline, "enc")?
            .static_pad("src")
            .context("encoder has no src pad")?
            .add_probe(gst::PadProbeType::BUFFER, move |_, _| {
                telemetry::metrics()
                    .frames_total
                    .with_label_values(&[&metric_cam, telemetry::stage::ENCODED])
                    .inc();
                gst::PadProbeReturn::Ok
            });
        pipeline
            .set_state(gst::State::Playing)
            .map_err(|_| anyhow!("cannot start the recording pipeline of {}", self.camera))?;
        Ok((pipeline, src, out))
    }

    fn open_segment(&self, caps: &gst::Caps, input: Input) -> Result<SegmentPipe> {
        // The vault first: cheap, and the usual reason a segment cannot start (key, disk).
        let now = vault::time::unix_now();
        let mut seg = match &self.sealed {
            Some(public) => self.vault.begin_sealed(&self.camera, now, public),
            None => self.vault.begin(&self.camera, now),
        }
        .map_err(|e| anyhow!("recording of {}: {e}", self.camera))?;
        let (pipeline, src, out) = match self.build_pipeline(caps, input) {
            Ok(p) => p,
            Err(e) => {
                seg.abort();
                return Err(e);
            }
        };
        let ending = Arc::new(AtomicBool::new(false));
        let drain = {
            let (vault, camera, committed, error, ending) = (
                self.vault.clone(),
                self.camera.clone(),
                self.committed.clone(),
                self.error.clone(),
                ending.clone(),
            );
            let bus = pipeline.bus().context("pipeline without bus")?;
            std::thread::Builder::new()
                .name(format!("seg-{camera}"))
                .spawn(move || {
                    let mut ending_since: Option<Instant> = None;
                    let failure = loop {
                        if let Some(sample) = out.try_pull_sample(gst::ClockTime::from_mseconds(100)) {
                            if let Some(buf) = sample.buffer() {
                                let Ok(map) = buf.map_readable() else { continue };
                                if let Err(e) = seg.write(map.as_slice()) {
                                    break Some(e.to_string());
                                }
                            }
                            continue;
                        }
                        if out.is_eos() {
                            break None;
                        }
                        if let Some(msg) = bus.pop_filtered(&[gst::MessageType::Error]) {
                            if let gst::MessageView::Error(e) = msg.view() {
                                break Some(e.error().to_string());
                            }
                        }
                        if ending.load(Ordering::SeqCst) {
                            let since = *ending_since.get_or_insert_with(Instant::now);
                            if since.elapsed() > DRAIN_TIMEOUT {
                                break Some("the segment did not close in time".into());
                            }
                        }
                    };
                    let result = match failure {
                        None => vault
                            .commit(seg, vault::time::unix_now())
                            .map_err(|e| e.to_string()),
                        Some(reason) => {
                            seg.abort();
                            Err(reason)
                        }
                    };
                    match result {
                        Ok(row) => {
                            telemetry::metrics()
                                .segments_total
                                .with_label_values(&[&camera])
                                .inc();
                            tracing::info!(camera = %camera, segment = %row.path.display(), bytes = row.bytes, "segment sealed");
                            committed.lock().push(row.clone());
                            Some(row)
                        }
                        Err(reason) => {
                            telemetry::metrics()
                                .recording_up
                                .with_label_values(&[&camera])
                                .set(0);
                            tracing::error!(camera = %camera, "recording segment lost: {reason}");
                            *error.lock() = Some(reason);
                            None
                        }
                    }
                })
                .context("spawn segment thread")?
        };
        Ok(SegmentPipe {
            input,
            h264_caps: (input == Input::H264).then(|| caps.clone()),
            base: None,
            raw_max: 0,
            last: None,
            pipeline,
            src,
            started: Instant::now(),
            ending,
            drain,
        })
    }

    /// Ends the current segment (its thread seals and indexes it) without waiting.
    fn rotate(&mut self) {
        if let Some(old) = self.current.take() {
            let _ = old.src.end_of_stream();
            old.ending.store(true, Ordering::SeqCst);
            let pipeline = old.pipeline;
            let drain = old.drain;
            // Tear the pipeline down once the segment is sealed.
            let joiner = std::thread::spawn(move || {
                let row = drain.join().ok().flatten();
                let _ = pipeline.set_state(gst::State::Null);
                row
            });
            self.closing.push(joiner);
        }
        self.closing.retain(|h| !h.is_finished());
    }

    /// Records a masked frame (masked mode; ignored in sealed mode).
    pub fn push(&mut self, frame: &MaskedFrame, fps: gst::Fraction) {
        if self.sealed.is_none() {
            self.push_buffer(frame.layout(), crate::frames::masked_to_buffer(frame), fps);
        }
    }

    /// Records a sealed frame (sealed mode only; ignored otherwise, so it can never land in a masked recording).
    pub fn push_sealed(&mut self, frame: &stage::SealedFrame, fps: gst::Fraction) {
        if self.sealed.is_some() {
            self.push_buffer(frame.layout(), crate::frames::sealed_to_buffer(frame), fps);
        }
    }

    pub fn is_sealed(&self) -> bool {
        self.sealed.is_some()
    }

    fn push_buffer(&mut self, l: mask::Layout, buffer: gst::Buffer, fps: gst::Fraction) {
        // The file keeps its first size; later frames of another size are scaled to it.
        self.size.get_or_insert((l.width, l.height));
        if self
            .current
            .as_ref()
            .is_some_and(|c| c.started.elapsed() >= self.segment || c.input != Input::Raw)
        {
            self.rotate();
        }
        let caps = crate::frames::caps_for(&l, fps);
        if self.current.is_none() && !self.open(&caps, Input::Raw) {
            return;
        }
        let cur = self.current.as_ref().expect("opened above");
        if cur.src.caps().as_ref() != Some(&caps) {
            cur.src.set_caps(Some(&caps));
        }
        if let Err(e) = cur.src.push_buffer(buffer) {
            self.degraded(e);
        }
    }

    /// The segment's pipeline failed (disk full, encoder error): close it and try a new one later.
    fn degraded(&mut self, e: gst::FlowError) {
        tracing::warn!(camera = %self.camera, "recording degraded: {e:?}; retrying in {RETRY_DELAY:?}");
        telemetry::metrics()
            .recording_up
            .with_label_values(&[&self.camera])
            .set(0);
        self.rotate();
        self.retry_after = Some(Instant::now() + RETRY_DELAY);
    }

    /// Opens a segment unless one failed recently; false when there is none to push to.
    fn open(&mut self, caps: &gst::Caps, input: Input) -> bool {
        if self.retry_after.is_some_and(|t| Instant::now() < t) {
            return false;
        }
        match self.open_segment(caps, input) {
            Ok(p) => {
                self.current = Some(p);
                *self.error.lock() = None;
                telemetry::metrics()
                    .recording_up
                    .with_label_values(&[&self.camera])
                    .set(1);
                true
            }
            Err(e) => {
                // Logged once per distinct failure, not once per frame.
                let text = format!("{e:#}");
                self.retry_after = Some(Instant::now() + RETRY_DELAY);
                telemetry::metrics()
                    .recording_up
                    .with_label_values(&[&self.camera])
                    .set(0);
                let mut last = self.error.lock();
                if last.as_deref() != Some(text.as_str()) {
                    tracing::error!(camera = %self.camera, "cannot start a segment: {text}");
                    *last = Some(text);
                }
                false
            }
        }
    }

    /// Records one access unit of the camera's one encode (masked mode only). A segment starts at a key frame:
    /// when one is due (the length reached, the size changed), the segment ends at the next key frame, and
    /// access units before the first key frame are not recorded.
    pub fn push_encoded(&mut self, buffer: gst::Buffer, caps: &gst::Caps, key: bool) {
        self.push_encoded_unit(buffer, caps, key);
        self.key_flag
            .store(self.wants_key_frame(), Ordering::Relaxed);
    }

    /// The flag the encoder reads to know a segment waits for a key frame.
    pub fn key_flag(&self) -> Arc<AtomicBool> {
        self.key_flag.clone()
    }

    fn push_encoded_unit(&mut self, buffer: gst::Buffer, caps: &gst::Caps, key: bool) {
        if self.sealed.is_some() {
            return;
        }
        let pts = buffer.pts().map(|p| p.nseconds());
        let due = self.current.as_ref().is_none_or(|c| {
            c.input != Input::H264
                || c.started.elapsed() >= self.segment
                || c.h264_caps.as_ref() != Some(caps)
                // A restarted encoder starts its timestamps again: a new segment, at its first key frame.
                || pts.is_some_and(|p| c.base.is_some() && p < c.base.unwrap_or(0) + c.raw_max)
        });
        if due {
            if !key {
                self.want_key = true;
                // A raw segment ends at once (its frames are all there); an H.264 one waits for the key.
                if self
                    .current
                    .as_ref()
                    .is_some_and(|c| c.input == Input::H264)
                {
                    self.push_to_current(buffer);
                } else {
                    self.rotate();
                }
                return;
            }
            self.rotate();
            self.want_key = false;
            if !self.open(caps, Input::H264) {
                return;
            }
        }
        self.push_to_current(buffer);
    }

    fn push_to_current(&mut self, mut buffer: gst::Buffer) {
        /// The least step between two access units of a segment (1 ms, far below any frame interval).
        const MIN_STEP_NS: u64 = 1_000_000;
        let Some(cur) = self.current.as_mut() else {
            return;
        };
        // Each segment starts at 0 and keeps the encoder's spacing (the camera thread's, not the encode's);
        // an access unit without a timestamp is stamped on arrival. Times strictly increase: two access units
        // on one time (the burst of a camera's first frames) left a muxed sample of duration 0, and the
        // export's h264parse then gave the next frame no PTS, so mp4mux refused the whole export.
        let t = buffer.pts().map(|p| {
            let p = p.nseconds();
            let base = *cur.base.get_or_insert(p);
            let rel = p.saturating_sub(base);
            cur.raw_max = cur.raw_max.max(rel);
            let t = cur.last.map_or(rel, |last| rel.max(last + MIN_STEP_NS));
            cur.last = Some(t);
            gst::ClockTime::from_nseconds(t)
        });
        {
            let b = buffer.make_mut();
            b.set_pts(t);
            b.set_dts(t);
        }
        let cur = self.current.as_ref().expect("checked above");
        if let Err(e) = cur.src.push_buffer(buffer) {
            self.degraded(e);
        }
    }

    /// H.264 input: the next segment waits for a key frame (the encoder is asked for one).
    pub fn wants_key_frame(&self) -> bool {
        self.want_key
            || self
                .current
                .as_ref()
                .is_some_and(|c| c.input == Input::H264 && c.started.elapsed() >= self.segment)
    }

    /// Segments sealed so far.
    pub fn segments(&self) -> Vec<SegmentRow> {
        self.committed.lock().clone()
    }

    pub fn error(&self) -> Option<String> {
        self.error.lock().clone()
    }

    /// Closes the open segment (EOS through the muxer), waits for every segment to be sealed, and stops.
    pub fn finish(&mut self, timeout: Duration) -> Result<Vec<SegmentRow>> {
        self.rotate();
        let until = Instant::now() + timeout;
        for h in std::mem::take(&mut self.closing) {
            while !h.is_finished() && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(20));
            }
            if h.is_finished() {
                let _ = h.join();
            } else {
                return Err(anyhow!(
                    "recording of {} did not close within {timeout:?}",
                    self.camera
                ));
            }
        }
        Ok(self.segments())
    }
}
