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

/// Simulated cameras serving an H.264 MP4 as it is (no decode, no encode), looped at `fps`: what `garim bench`
/// points its cameras at, so that nearly all the CPU it measures is garim's.
pub struct EncodedSims {
    rtsp: RtspOut,
    stop: Arc<AtomicBool>,
    feeder: Option<std::thread::JoinHandle<()>>,
    names: Vec<String>,
}

impl EncodedSims {
    pub fn start(
        video: &Path,
        address: &str,
        port: u16,
        names: &[String],
        fps: f64,
    ) -> Result<EncodedSims> {
        let units = read_access_units(video)?;
        if !units
            .iter()
            .any(|(b, _)| !b.flags().contains(gst::BufferFlags::DELTA_UNIT))
        {
            return Err(anyhow!("{}: no key frame in the footage", video.display()));
        }
        let rtsp = RtspOut::start(address, port)?;
        let outs: Vec<LiveOut> = names
            .iter()
            .map(|n| rtsp.mount_fed(n, crate::rtsp::Feed::H264))
            .collect::<Result<_>>()?;
        let stop = Arc::new(AtomicBool::new(false));
        let period = std::time::Duration::from_secs_f64(1.0 / fps.max(0.1));
        let feeder = {
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("sim-encoded".into())
                .spawn(move || {
                    let mut next = std::time::Instant::now();
                    let mut i = 0usize;
                    while !stop.load(Ordering::Relaxed) {
                        let (buf, caps) = &units[i % units.len()];
                        let key = !buf.flags().contains(gst::BufferFlags::DELTA_UNIT);
                        // The file's timestamps restart at every loop and run at its own rate: each mount
                        // stamps the access unit when it arrives instead.
                        let mut buf = buf.clone();
                        {
                            let b = buf.make_mut();
                            b.set_pts(gst::ClockTime::NONE);
                            b.set_dts(gst::ClockTime::NONE);
                        }
                        for o in &outs {
                            o.push_encoded(buf.clone(), caps, key);
                        }
                        i += 1;
                        next += period;
                        let now = std::time::Instant::now();
                        if next > now {
                            std::thread::sleep(next - now);
                        } else {
                            next = now;
                        }
                    }
                })
                .context("spawn simulated cameras")?
        };
        Ok(EncodedSims {
            rtsp,
            stop,
            feeder: Some(feeder),
            names: names.to_vec(),
        })
    }

    /// rtsp://ADDRESS:PORT/NAME of each camera.
    pub fn urls(&self, address: &str) -> Vec<String> {
        self.names
            .iter()
            .map(|n| format!("rtsp://{address}:{}/{n}", self.rtsp.port()))
            .collect()
    }
}

impl Drop for EncodedSims {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.feeder.take() {
            let _ = t.join();
        }
    }
}

/// Every access unit of an H.264 MP4, with its caps.
fn read_access_units(video: &Path) -> Result<Vec<(gst::Buffer, gst::Caps)>> {
    let pipeline = crate::pipelines::launch(crate::pipelines::READ_H264, &[], "footage reader")?;
    crate::pipelines::element(&pipeline, "file")?
        .set_property("location", video.to_string_lossy().as_ref());
    let sink = crate::pipelines::appsink(&pipeline, "sink")?;
    let watch = crate::pipelines::ErrorWatch::attach_sole(&pipeline)?;
    pipeline
        .set_state(gst::State::Playing)
        .map_err(|_| anyhow!("cannot read {}", video.display()))?;
    let mut units = Vec::new();
    let result = loop {
        if let Some(e) = watch.error() {
            break Err(anyhow!("{}: {e}", video.display()));
        }
        match sink.try_pull_sample(gst::ClockTime::from_mseconds(500)) {
            Some(s) => {
                if let (Some(b), Some(c)) = (s.buffer_owned(), s.caps_owned()) {
                    units.push((b, c));
                }
            }
            None if sink.is_eos() => break Ok(units),
            None => {}
        }
    };
    let _ = pipeline.set_state(gst::State::Null);
    let units = result?;
    if units.is_empty() {
        return Err(anyhow!("{}: no H.264 video in it", video.display()));
    }
    Ok(units)
}

/// Makes the bench's footage once: `video` scaled to `width`×`height`, H.264 with a key frame every `gop`
/// frames, written to `out` (through a temporary file, so a half-made file is never taken for footage).
pub fn make_footage(video: &Path, out: &Path, width: u32, height: u32, gop: u32) -> Result<()> {
    let kbps = ((u64::from(width) * u64::from(height)) / 500)
        .clamp(500, 8000)
        .to_string();
    let (w, h, g) = (width.to_string(), height.to_string(), gop.to_string());
    let pipeline = crate::pipelines::launch(
        crate::pipelines::FOOTAGE,
        &[("width", &w), ("height", &h), ("gop", &g), ("kbps", &kbps)],
        "bench footage",
    )?;
    let tmp = out.with_extension("part");
    crate::pipelines::element(&pipeline, "file")?
        .set_property("location", video.to_string_lossy().as_ref());
    crate::pipelines::element(&pipeline, "out")?
        .set_property("location", tmp.to_string_lossy().as_ref());
    let bus = pipeline.bus().context("pipeline without a bus")?;
    pipeline
        .set_state(gst::State::Playing)
        .map_err(|_| anyhow!("cannot scale {}", video.display()))?;
    let result = loop {
        match bus.timed_pop_filtered(
            gst::ClockTime::from_seconds(600),
            &[gst::MessageType::Eos, gst::MessageType::Error],
        ) {
            Some(m) => match m.view() {
                gst::MessageView::Eos(_) => break Ok(()),
                gst::MessageView::Error(e) => {
                    break Err(anyhow!("scaling {}: {}", video.display(), e.error()));
                }
                _ => {}
            },
            None => break Err(anyhow!("scaling {} took over 10 minutes", video.display())),
        }
    };
    let _ = pipeline.set_state(gst::State::Null);
    result?;
    std::fs::rename(&tmp, out).with_context(|| format!("cannot write {}", out.display()))
}
