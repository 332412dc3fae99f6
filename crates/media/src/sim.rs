//! A simulated camera for the demo and tests: a video file, decoded in real time and looped, served over
//! RTSP like an IP camera (`rtsp://127.0.0.1:PORT/<name>`), so garim ingests it exactly as a real one.

use crate::rtsp::{LiveOut, RtspOut};
use anyhow::{Context, Result, anyhow};
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub struct SimCamera {
    rtsp: RtspOut,
    stop: Arc<AtomicBool>,
    feeder: Option<std::thread::JoinHandle<()>>,
    url: String,
}

impl SimCamera {
    /// Serves `video` looped at its own frame rate on `rtsp://address:port/name`.
    pub fn start(video: &Path, address: &str, port: u16, name: &str) -> Result<SimCamera> {
        if !video.is_file() {
            return Err(anyhow!(
                "simulated camera footage {} not found; fetch it with scripts/fetch-models",
                video.display()
            ));
        }
        let rtsp = RtspOut::start(address, port)?;
        let live = rtsp.mount(name)?;
        let (pipeline, sink) = crate::file::decoder(video, true)?;
        pipeline
            .set_state(gst::State::Playing)
            .context("cannot start the simulated camera")?;
        let stop = Arc::new(AtomicBool::new(false));
        let feeder = {
            let stop = stop.clone();
            std::thread::Builder::new()
                .name(format!("sim-{name}"))
                .spawn(move || feed(pipeline, sink, live, stop))
                .context("spawn simulated camera")?
        };
        let url = format!("rtsp://{address}:{}/{name}", rtsp.port());
        Ok(SimCamera {
            rtsp,
            stop,
            feeder: Some(feeder),
            url,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn port(&self) -> u16 {
        self.rtsp.port()
    }
}

fn feed(pipeline: gst::Pipeline, sink: gst_app::AppSink, live: LiveOut, stop: Arc<AtomicBool>) {
    let bus = pipeline.bus().expect("pipeline has a bus");
    while !stop.load(Ordering::Relaxed) {
        if let Some(sample) = sink.try_pull_sample(gst::ClockTime::from_mseconds(100)) {
            if let (Some(mut buffer), Some(caps)) = (sample.buffer_owned(), sample.caps_owned()) {
                // The file's own timestamps restart at every loop and mean nothing to a client that joins
                // later: drop them so the mount's appsrc stamps each frame with its running time.
                {
                    let b = buffer.make_mut();
                    b.set_pts(gst::ClockTime::NONE);
                    b.set_dts(gst::ClockTime::NONE);
                }
                live.push_raw(buffer, caps);
            }
        }
        while let Some(msg) = bus.pop() {
            match msg.view() {
                gst::MessageView::Eos(_) => {
                    // Loop the footage.
                    let _ = pipeline.seek_simple(
                        gst::SeekFlags::FLUSH | gst::SeekFlags::KEY_UNIT,
                        gst::ClockTime::ZERO,
                    );
                }
                gst::MessageView::Error(e) => {
                    tracing::error!("simulated camera: {}", e.error());
                    stop.store(true, Ordering::Relaxed);
                }
                _ => {}
            }
        }
    }
    let _ = pipeline.set_state(gst::State::Null);
}

impl Drop for SimCamera {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.feeder.take() {
            let _ = t.join();
        }
    }
}
