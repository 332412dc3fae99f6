//! The recording branch: masked frames → H.264 → MP4 segments of `segment_secs`. Each segment is written as
//! `*.mp4.part`, and only when the muxer has closed it is it fsync'ed and renamed to `*.mp4` (then the
//! directory is fsync'ed), so a crash never leaves a half-written file under a final name.

use crate::pipelines;
use anyhow::{Context, Result, anyhow};
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use parking_lot::Mutex;
use stage::MaskedFrame;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

pub struct Recorder {
    camera: String,
    pipeline: gst::Pipeline,
    src: gst_app::AppSrc,
    size: gst::Element,
    caps: Option<gst::Caps>,
    committed: Arc<Mutex<Vec<PathBuf>>>,
    stop: Arc<AtomicBool>,
    bus_thread: Option<std::thread::JoinHandle<()>>,
    eos: Arc<AtomicBool>,
    error: Arc<Mutex<Option<String>>>,
}

impl Recorder {
    pub fn start(camera: &str, dir: &Path, segment: Duration) -> Result<Recorder> {
        crate::init()?;
        let dir = dir.join(camera);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create recording directory {}", dir.display()))?;
        let segment_ns = segment.as_nanos().to_string();
        let pipeline = pipelines::launch(
            pipelines::RECORD,
            &[("segment_ns", segment_ns.as_str())],
            "recording",
        )?;
        let get = |name: &str| pipelines::element(&pipeline, name);
        let src = pipelines::appsrc(&pipeline, "src")?;
        let size = get("size")?;
        let mux = get("mux")?;
        let cam = camera.to_string();
        mux.connect("format-location", false, move |args| {
            let id = args.get(1).and_then(|v| v.get::<u32>().ok()).unwrap_or(0);
            let name = format!("{cam}-{}-{id:05}.mp4.part", utc_stamp(SystemTime::now()));
            Some(dir.join(name).to_string_lossy().into_owned().to_value())
        });
        let metric_cam = camera.to_string();
        get("enc")?
            .static_pad("src")
            .context("encoder has no src pad")?
            .add_probe(gst::PadProbeType::BUFFER, move |_, _| {
                telemetry::metrics()
                    .frames_total
                    .with_label_values(&[&metric_cam, telemetry::stage::ENCODED])
                    .inc();
                gst::PadProbeReturn::Ok
            });
        let committed = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let eos = Arc::new(AtomicBool::new(false));
        let error = Arc::new(Mutex::new(None));
        let bus = pipeline.bus().context("pipeline without bus")?;
        let bus_thread = {
            let (committed, stop, eos, error) =
                (committed.clone(), stop.clone(), eos.clone(), error.clone());
            let camera = camera.to_string();
            std::thread::Builder::new()
                .name(format!("rec-{camera}"))
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        let Some(msg) = bus.timed_pop(gst::ClockTime::from_mseconds(100)) else {
                            continue;
                        };
                        match msg.view() {
                            gst::MessageView::Element(m) => {
                                let Some(s) = m.structure() else { continue };
                                if s.name() == "splitmuxsink-fragment-closed" {
                                    if let Ok(loc) = s.get::<String>("location") {
                                        match commit_segment(Path::new(&loc)) {
                                            Ok(p) => {
                                                telemetry::metrics()
                                                    .segments_total
                                                    .with_label_values(&[&camera])
                                                    .inc();
                                                tracing::info!(camera = %camera, segment = %p.display(), "segment committed");
                                                committed.lock().push(p);
                                            }
                                            Err(e) => {
                                                tracing::error!(camera = %camera, "cannot commit segment {loc}: {e}")
                                            }
                                        }
                                    }
                                }
                            }
                            gst::MessageView::Eos(_) => eos.store(true, Ordering::SeqCst),
                            gst::MessageView::Error(e) => {
                                let text = format!(
                                    "{}: {}",
                                    e.src().map(|s| s.name().to_string()).unwrap_or_default(),
                                    e.error()
                                );
                                tracing::error!(camera = %camera, "recording failed: {text}");
                                *error.lock() = Some(text);
                                eos.store(true, Ordering::SeqCst);
                            }
                            _ => {}
                        }
                    }
                })
                .context("spawn recorder bus thread")?
        };
        pipeline
            .set_state(gst::State::Playing)
            .context("cannot start the recording pipeline")?;
        Ok(Recorder {
            camera: camera.to_string(),
            pipeline,
            src,
            size,
            caps: None,
            committed,
            stop,
            bus_thread: Some(bus_thread),
            eos,
            error,
        })
    }

    pub fn push(&mut self, frame: &MaskedFrame, fps: gst::Fraction) {
        let caps = crate::frames::caps_for(&frame.layout(), fps);
        if self.caps.as_ref() != Some(&caps) {
            if self.caps.is_none() {
                // The file keeps its first size; later frames of another size are scaled to it.
                let l = frame.layout();
                self.size.set_property(
                    "caps",
                    gst::Caps::builder("video/x-raw")
                        .field("width", l.width as i32)
                        .field("height", l.height as i32)
                        .build(),
                );
            }
            self.src.set_caps(Some(&caps));
            self.caps = Some(caps);
        }
        if let Err(e) = self.src.push_buffer(crate::frames::masked_to_buffer(frame)) {
            tracing::warn!(camera = %self.camera, "recording refused a frame: {e:?}");
        }
    }

    /// Segments committed so far.
    pub fn segments(&self) -> Vec<PathBuf> {
        self.committed.lock().clone()
    }

    pub fn error(&self) -> Option<String> {
        self.error.lock().clone()
    }

    /// Closes the open segment so it plays (EOS through the muxer), commits it, and stops.
    pub fn finish(mut self, timeout: Duration) -> Result<Vec<PathBuf>> {
        let _ = self.src.end_of_stream();
        let deadline = std::time::Instant::now() + timeout;
        while !self.eos.load(Ordering::SeqCst) && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        // Give the bus thread a moment to commit the last fragment-closed message.
        std::thread::sleep(Duration::from_millis(100));
        self.shutdown();
        if !self.eos.load(Ordering::SeqCst) {
            return Err(anyhow!(
                "recording of {} did not close within {timeout:?}",
                self.camera
            ));
        }
        Ok(self.segments())
    }

    fn shutdown(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.bus_thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// fsync the closed segment, rename `x.mp4.part` → `x.mp4`, fsync the directory.
fn commit_segment(part: &Path) -> std::io::Result<PathBuf> {
    std::fs::File::open(part)?.sync_all()?;
    let name = part
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".part"))
        .ok_or_else(|| std::io::Error::other("segment name does not end in .part"))?;
    let done = part.with_file_name(name);
    std::fs::rename(part, &done)?;
    if let Some(dir) = done.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(done)
}

/// `YYYYMMDDTHHMMSSZ` for a time (UTC), without a date crate.
pub fn utc_stamp(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil-from-days (Howard Hinnant), valid for the Gregorian calendar.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_stamp_formats_known_instants() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_923_045);
        assert_eq!(utc_stamp(t), "20261129T033045Z");
        assert_eq!(utc_stamp(SystemTime::UNIX_EPOCH), "19700101T000000Z");
    }

    #[test]
    fn commit_segment_renames_part_file() {
        let dir = std::env::temp_dir().join(format!("garim-commit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let part = dir.join("cam-1.mp4.part");
        std::fs::write(&part, b"x").unwrap();
        let done = commit_segment(&part).unwrap();
        assert_eq!(done, dir.join("cam-1.mp4"));
        assert!(done.exists() && !part.exists());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
