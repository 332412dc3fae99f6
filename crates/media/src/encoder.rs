//! A camera's one encode: masked frames → H.264 access units, handed from the encoder's own thread to the live
//! mount (every client starts at a key frame) and, when the camera records the picture it shows (no recording
//! zones, not sealed), to the recorder, which muxes them into segments without encoding again.

use crate::pipelines::{self, ErrorWatch};
use crate::recorder::Recorder;
use crate::rtsp::LiveOut;
use anyhow::{Context, Result, anyhow};
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use gstreamer_video as gst_video;
use parking_lot::Mutex;
use stage::MaskedFrame;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// x264 settings of a camera's encodes.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodeSettings {
    /// One encode for live and recording (no recording zones, not sealed); false: the live mount and the
    /// recording encode each (what garim did before).
    pub shared: bool,
    /// x264 speed preset of the shared encode and of the recording's own.
    pub preset: String,
    /// x264's trellis quantisation (x264enc turns it on over any preset unless told not to).
    pub trellis: bool,
    /// Key frame interval in seconds: how long a new NVR client or a new segment may wait.
    pub key_secs: f64,
    pub kbps: u32,
    /// Encoder threads (0: x264 picks, one per core and more). One per camera costs least CPU: cameras are
    /// the parallelism.
    pub threads: u32,
}

impl Default for EncodeSettings {
    /// Chosen with `garim bench` (docs/performance.md).
    fn default() -> Self {
        EncodeSettings {
            shared: true,
            preset: "ultrafast".into(),
            trellis: false,
            key_secs: 1.0,
            kbps: 2500,
            threads: 1,
        }
    }
}

/// x264's speed presets, the only values `preset` may take (it is written into a launch line).
pub const PRESETS: [&str; 10] = [
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
];

impl EncodeSettings {
    /// What garim shipped before the cost work: two encodes, the recording at veryfast, trellis on.
    pub fn legacy() -> EncodeSettings {
        EncodeSettings {
            shared: false,
            preset: "veryfast".into(),
            trellis: true,
            key_secs: 2.0,
            kbps: 2000,
            threads: 0,
        }
    }

    /// Key frame interval in frames at `fps`.
    pub fn gop(&self, fps: f64) -> u32 {
        let fps = if fps.is_finite() && fps > 0.0 {
            fps
        } else {
            10.0
        };
        (fps * self.key_secs).round().clamp(1.0, 600.0) as u32
    }
}

pub struct Encoder {
    pipeline: gst::Pipeline,
    src: gst_app::AppSrc,
    watch: ErrorWatch,
    live: Option<LiveOut>,
    /// Set by the recorder while its next segment waits for a key frame (read without its lock, so the
    /// camera thread never waits on a segment being opened).
    recorder_key: Option<Arc<AtomicBool>>,
    /// The recorder takes this encode's access units (see `set_recording`).
    feeds_recorder: Arc<AtomicBool>,
    gop: u32,
    frames_since_key_request: u32,
    /// The last timestamp given to a frame (ns), so they only increase.
    last_pts: u64,
}

impl Encoder {
    /// Starts the encode of one camera for frames like `first` at `fps` (the key frame interval is set from it).
    pub fn start(
        camera: &str,
        settings: &EncodeSettings,
        first: &MaskedFrame,
        fps: gst::Fraction,
        live: Option<LiveOut>,
        recorder: Option<Arc<Mutex<Recorder>>>,
    ) -> Result<Encoder> {
        if !PRESETS.contains(&settings.preset.as_str()) {
            return Err(anyhow!(
                "x264 preset {:?}: one of {}",
                settings.preset,
                PRESETS.join(", ")
            ));
        }
        let gop = settings.gop(crate::frames::rate_of(fps));
        let vars = [
            ("preset", settings.preset.clone()),
            ("gop", gop.to_string()),
            ("kbps", settings.kbps.to_string()),
            ("threads", settings.threads.to_string()),
        ];
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let pipeline = pipelines::launch(pipelines::ENCODE, &vars, "encoder")?;
        if settings.trellis {
            pipelines::element(&pipeline, "enc")?.set_property("trellis", true);
        }
        let src = pipelines::appsrc(&pipeline, "src")?;
        // Caps before the first buffer (and before PLAYING), so the segment event never precedes them.
        src.set_caps(Some(&crate::frames::caps_for(&first.layout(), fps)));
        let out = pipelines::appsink(&pipeline, "out")?;
        let watch = ErrorWatch::attach_sole(&pipeline)?;
        let feeds_recorder = Arc::new(AtomicBool::new(false));
        let recorder_key = recorder.as_ref().map(|r| r.lock().key_flag());
        {
            let (live, recorder) = (live.clone(), recorder);
            let feeds = feeds_recorder.clone();
            let camera = camera.to_string();
            out.set_callbacks(
                gst_app::AppSinkCallbacks::builder()
                    .new_sample(move |sink| {
                        let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                        let (Some(buffer), Some(caps)) =
                            (sample.buffer_owned(), sample.caps_owned())
                        else {
                            return Ok(gst::FlowSuccess::Ok);
                        };
                        let key = !buffer.flags().contains(gst::BufferFlags::DELTA_UNIT);
                        if let Some(live) = &live {
                            live.push_encoded(buffer.clone(), &caps, key);
                        }
                        if feeds.load(Ordering::Relaxed) {
                            if let Some(rec) = &recorder {
                                telemetry::metrics()
                                    .frames_total
                                    .with_label_values(&[&camera, telemetry::stage::ENCODED])
                                    .inc();
                                rec.lock().push_encoded(buffer, &caps, key);
                            }
                        }
                        Ok(gst::FlowSuccess::Ok)
                    })
                    .build(),
            );
        }
        pipeline
            .set_state(gst::State::Playing)
            .map_err(|_| anyhow!("cannot start the encoder of {camera}"))?;
        Ok(Encoder {
            pipeline,
            src,
            watch,
            live,
            recorder_key,
            feeds_recorder,
            gop,
            frames_since_key_request: u32::MAX,
            last_pts: 0,
        })
    }

    /// Whether the recorder takes this encode (the camera records the picture it shows).
    pub fn set_recording(&self, on: bool) {
        self.feeds_recorder.store(on, Ordering::Relaxed);
    }

    /// Whether anything takes the encode now (a live client, or the recorder).
    pub fn is_needed(&self) -> bool {
        self.feeds_recorder.load(Ordering::Relaxed)
            || self.live.as_ref().is_some_and(|l| l.clients() > 0)
    }

    /// Encodes one masked frame (a "no signal" picture is a `MaskedFrame` too). `shown_at` is the moment the
    /// frame stands for (when the camera delivered it, see `CameraRunner::emit`): the outputs keep the camera's
    /// spacing, whatever detection and masking took on a loaded machine.
    pub fn push(
        &mut self,
        frame: &MaskedFrame,
        fps: gst::Fraction,
        shown_at: Instant,
    ) -> Result<()> {
        if let Some(e) = self.watch.error() {
            return Err(anyhow!("encoder failed: {e}"));
        }
        let wants_key = self.live.as_ref().is_some_and(|l| l.wants_key_frame())
            || (self.feeds_recorder.load(Ordering::Relaxed)
                && self
                    .recorder_key
                    .as_ref()
                    .is_some_and(|k| k.load(Ordering::Relaxed)));
        self.frames_since_key_request = self.frames_since_key_request.saturating_add(1);
        // One request per key interval at most: the answer takes a frame or two to come back.
        if wants_key && self.frames_since_key_request > self.gop.min(4) {
            let event = gst_video::DownstreamForceKeyUnitEvent::builder()
                .all_headers(true)
                .build();
            self.src.send_event(event);
            self.frames_since_key_request = 0;
        }
        let caps = crate::frames::caps_for(&frame.layout(), fps);
        if self.src.caps().as_ref() != Some(&caps) {
            self.src.set_caps(Some(&caps));
        }
        // Stamped with the moment the frame stands for, on this pipeline's clock: the spacing the outputs keep
        // is the camera's, not how long each frame waited for its detection.
        let mut buffer = crate::frames::masked_to_buffer(frame);
        if let Some(now) = self.src.current_running_time() {
            let age = u64::try_from(shown_at.elapsed().as_nanos()).unwrap_or(u64::MAX);
            let t = now.nseconds().saturating_sub(age).max(self.last_pts + 1);
            self.last_pts = t;
            if let Some(b) = buffer.get_mut() {
                b.set_pts(gst::ClockTime::from_nseconds(t));
            }
        }
        self.src
            .push_buffer(buffer)
            .map(|_| ())
            .context("encoder refused a frame")
    }

    pub fn stop(self) {
        let _ = self.src.end_of_stream();
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}
