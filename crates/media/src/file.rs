//! Offline files: decoding a video file into raw frames (for `garim mask`, `garim bench`, tests) and encoding
//! masked frames into MP4/MKV. Output is written to `OUT.part` and renamed only once complete, so a failed
//! run leaves nothing behind under the output name.

use crate::frames::{caps_for, layout_of, masked_to_buffer};
use crate::pipelines;
use anyhow::{Context, Result, anyhow};
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use gstreamer_video as gst_video;
use mask::Layout;
use stage::MaskedFrame;
use std::path::{Path, PathBuf};

/// One decoded frame with its timing.
pub struct RawFrame {
    pub layout: Layout,
    pub data: Vec<u8>,
    pub pts: Option<gst::ClockTime>,
    pub duration: Option<gst::ClockTime>,
    pub fps: gst::Fraction,
}

impl RawFrame {
    /// The file's frame rate as a number (0 when the container does not say).
    pub fn frame_rate(&self) -> f64 {
        crate::frames::rate_of(self.fps)
    }
}

/// A decoding pipeline for `path` (`sync`: paced at the file's frame rate) and its appsink.
pub(crate) fn decoder(path: &Path, sync: bool) -> Result<(gst::Pipeline, gst_app::AppSink)> {
    let pipeline = pipelines::launch(
        pipelines::DECODE_FILE,
        &[("sync", if sync { "true" } else { "false" })],
        "decoder",
    )?;
    pipelines::element(&pipeline, "file")?
        .set_property("location", path.to_string_lossy().as_ref());
    let sink = pipelines::appsink(&pipeline, "sink")?;
    Ok((pipeline, sink))
}

pub struct FileSource {
    pipeline: gst::Pipeline,
    sink: gst_app::AppSink,
    path: PathBuf,
    frames: u64,
    /// When the last frame came (or decoding started).
    progress: std::time::Instant,
}

/// A file decoded as fast as it can be gives a frame well within this; no frame for this long means the
/// decoder stopped without saying so (decodebin can drop a demuxer's error while it is autoplugging, seen on a
/// truncated MP4 once in 40 runs), and the command ends naming the file instead of waiting forever.
const STALL: std::time::Duration = std::time::Duration::from_secs(15);

impl FileSource {
    pub fn open(path: &Path) -> Result<FileSource> {
        crate::init()?;
        if !path.is_file() {
            return Err(anyhow!("{}: no such file", path.display()));
        }
        let (pipeline, sink) = decoder(path, false)?;
        pipeline
            .set_state(gst::State::Playing)
            .map_err(|_| anyhow!("{}: cannot start decoding", path.display()))?;
        Ok(FileSource {
            pipeline,
            sink,
            path: path.to_path_buf(),
            frames: 0,
            progress: std::time::Instant::now(),
        })
    }

    /// Decodes a recording held in memory (a decrypted segment); `name` names it in errors.
    pub fn from_bytes(bytes: Vec<u8>, name: &str) -> Result<FileSource> {
        crate::init()?;
        let pipeline = pipelines::launch(pipelines::DECODE_BYTES, &[], "decoder")?;
        let sink = pipelines::appsink(&pipeline, "sink")?;
        let src = pipelines::appsrc(&pipeline, "src")?;
        pipeline
            .set_state(gst::State::Playing)
            .map_err(|_| anyhow!("{name}: cannot start decoding"))?;
        let _ = src.push_buffer(gst::Buffer::from_mut_slice(bytes));
        let _ = src.end_of_stream();
        Ok(FileSource {
            pipeline,
            sink,
            path: PathBuf::from(name),
            frames: 0,
            progress: std::time::Instant::now(),
        })
    }

    /// Duration of the file, once known (after the first frame).
    pub fn duration(&self) -> Option<gst::ClockTime> {
        self.pipeline.query_duration::<gst::ClockTime>()
    }

    /// The next frame, `None` at the end. A file that is not a video is an error naming it.
    pub fn next_frame(&mut self) -> Result<Option<RawFrame>> {
        loop {
            if let Some(err) = self.bus_error() {
                return Err(anyhow!(
                    "{}: not a playable video ({err})",
                    self.path.display()
                ));
            }
            if let Some(sample) = self
                .sink
                .try_pull_sample(gst::ClockTime::from_mseconds(200))
            {
                let caps = sample.caps().context("sample without caps")?;
                let info = gst_video::VideoInfo::from_caps(caps).context("not raw video")?;
                let buffer = sample.buffer().context("sample without buffer")?;
                let map = buffer.map_readable().context("cannot map frame")?;
                self.frames += 1;
                self.progress = std::time::Instant::now();
                return Ok(Some(RawFrame {
                    layout: layout_of(&info)?,
                    data: map.as_slice().to_vec(),
                    pts: buffer.pts(),
                    duration: buffer.duration(),
                    fps: info.fps(),
                }));
            }
            if self.sink.is_eos() {
                if let Some(err) = self.bus_error() {
                    return Err(anyhow!(
                        "{}: not a playable video ({err})",
                        self.path.display()
                    ));
                }
                if self.frames == 0 {
                    return Err(anyhow!("{}: contains no video stream", self.path.display()));
                }
                return Ok(None);
            }
            if self.progress.elapsed() >= STALL {
                return Err(anyhow!(
                    "{}: not a playable video (decoding stopped: no frame for {} s after frame {})",
                    self.path.display(),
                    STALL.as_secs(),
                    self.frames
                ));
            }
        }
    }

    fn bus_error(&self) -> Option<String> {
        let bus = self.pipeline.bus()?;
        let msg = bus.pop_filtered(&[gst::MessageType::Error])?;
        match msg.view() {
            // A stream nothing could link (audio only, subtitles only) stops as "not-linked".
            gst::MessageView::Error(e)
                if self.frames == 0 && e.debug().is_some_and(|d| d.contains("not-linked")) =>
            {
                Some("it contains no video stream".into())
            }
            gst::MessageView::Error(e) => Some(format!(
                "{}: {}",
                e.src()
                    .map(|s| s.name().to_string())
                    .unwrap_or_else(|| "decoder".into()),
                e.error()
            )),
            _ => None,
        }
    }
}

impl Drop for FileSource {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

pub struct FileSink {
    pipeline: gst::Pipeline,
    src: gst_app::AppSrc,
    target: Target,
    /// What the output is called in errors.
    name: String,
    caps: Option<gst::Caps>,
    done: bool,
    errors: pipelines::ErrorWatch,
    /// Where the next frame without a timestamp goes (the end of the previous one).
    next_pts: gst::ClockTime,
}

/// Where the encoded video goes.
enum Target {
    /// `part`, renamed to `out` once complete.
    File { part: PathBuf, out: PathBuf },
    /// Kept in this process's memory (nothing is written to disk).
    Memory(gst_app::AppSink),
}

/// The muxer and sink of an encode kept in memory: a fragmented MP4, as the recorder writes segments (a muxer
/// writing to memory cannot go back to finish a header). The sink does not hold the end of the stream back
/// until its buffers are taken: they are taken after it.
pub(crate) const MEMORY_MUXER: &str = "mp4mux streamable=true fragment-duration=1000";
pub(crate) const MEMORY_SINK: &str =
    "appsink name=out sync=false enable-last-sample=false wait-on-eos=false";

/// Frame period used when a file states no frame rate.
const FALLBACK_FPS: u64 = 25;

impl FileSink {
    /// Encodes to `out` (`.mkv` → Matroska, anything else → MP4).
    pub fn create(out: &Path) -> Result<FileSink> {
        let muxer = match out.extension().and_then(|e| e.to_str()) {
            Some("mkv") => "matroskamux",
            _ => "mp4mux",
        };
        let part = PathBuf::from(format!("{}.part", out.display()));
        let pipeline = Self::start(muxer, "filesink name=file", |p| {
            pipelines::element(p, "file")?
                .set_property("location", part.to_string_lossy().as_ref());
            Ok(())
        })?;
        Self::running(
            pipeline,
            Target::File {
                part,
                out: out.to_path_buf(),
            },
            out.display().to_string(),
        )
    }

    /// Encodes to an MP4 kept in memory (see [`FileSink::finish_in_memory`]); `name` names it in errors.
    pub fn in_memory(name: &str) -> Result<FileSink> {
        let pipeline = Self::start(MEMORY_MUXER, MEMORY_SINK, |_| Ok(()))?;
        let sink = pipelines::appsink(&pipeline, "out")?;
        Self::running(pipeline, Target::Memory(sink), name.to_string())
    }

    fn start(
        muxer: &str,
        sink: &str,
        set_up: impl FnOnce(&gst::Pipeline) -> Result<()>,
    ) -> Result<gst::Pipeline> {
        crate::init()?;
        let pipeline = pipelines::launch(
            pipelines::ENCODE_FILE,
            &[("muxer", muxer), ("sink", sink)],
            "encoder",
        )?;
        set_up(&pipeline)?;
        Ok(pipeline)
    }

    fn running(pipeline: gst::Pipeline, target: Target, name: String) -> Result<FileSink> {
        let src = pipelines::appsrc(&pipeline, "src")?;
        let errors = pipelines::ErrorWatch::attach(&pipeline)?;
        pipeline
            .set_state(gst::State::Playing)
            .map_err(|_| anyhow!("{name}: cannot start encoding"))?;
        Ok(FileSink {
            pipeline,
            src,
            target,
            name,
            caps: None,
            done: false,
            errors,
            next_pts: gst::ClockTime::ZERO,
        })
    }

    pub fn push(
        &mut self,
        frame: &MaskedFrame,
        fps: gst::Fraction,
        pts: Option<gst::ClockTime>,
        duration: Option<gst::ClockTime>,
    ) -> Result<()> {
        let caps = caps_for(&frame.layout(), fps);
        if self.caps.as_ref() != Some(&caps) {
            self.src.set_caps(Some(&caps));
            self.caps = Some(caps);
        }
        if let Some(e) = self.errors.error() {
            return Err(self.failed(&e));
        }
        // Frames without timestamps get them from the frame rate, and a timestamp that does not move forward
        // (AVI's packed MPEG-4 B-frames repeat one) is moved to the end of the previous frame: the encoder
        // and muxer need strictly increasing times.
        let period = if fps.numer() > 0 && fps.denom() > 0 {
            gst::ClockTime::from_nseconds(1_000_000_000 * fps.denom() as u64 / fps.numer() as u64)
        } else {
            gst::ClockTime::from_nseconds(1_000_000_000 / FALLBACK_FPS)
        };
        let pts = pts.filter(|&p| p >= self.next_pts).unwrap_or(self.next_pts);
        let duration = duration.unwrap_or(period);
        self.next_pts = pts + duration;
        let mut buffer = masked_to_buffer(frame);
        {
            let b = buffer.get_mut().expect("fresh buffer");
            b.set_pts(pts);
            b.set_duration(duration);
        }
        if let Err(e) = self.src.push_buffer(buffer) {
            return Err(match self.errors.error() {
                Some(err) => self.failed(&err),
                None => anyhow!("{}: encoder refused a frame ({e:?})", self.name),
            });
        }
        Ok(())
    }

    fn failed(&self, error: &str) -> anyhow::Error {
        anyhow!("{}: encoding failed at {error}", self.name)
    }

    /// Finishes the file and moves it to its final name.
    pub fn finish(mut self) -> Result<PathBuf> {
        self.drain()?;
        let Target::File { part, out } = &self.target else {
            return Err(anyhow!("{}: not encoding to a file", self.name));
        };
        std::fs::File::open(part)
            .and_then(|f| f.sync_all())
            .with_context(|| format!("cannot sync {}", part.display()))?;
        std::fs::rename(part, out)
            .with_context(|| format!("cannot move output to {}", out.display()))?;
        self.done = true;
        Ok(out.clone())
    }

    /// Finishes an encode kept in memory and returns the MP4.
    pub fn finish_in_memory(mut self) -> Result<Vec<u8>> {
        let Target::Memory(sink) = &self.target else {
            return Err(anyhow!("{}: not encoding to memory", self.name));
        };
        let sink = sink.clone();
        // The appsink keeps every buffer until pulled (max-buffers 0): they are taken once the stream ends.
        let mut bytes = Vec::new();
        self.drain_with(|| {
            while let Some(sample) = sink.try_pull_sample(gst::ClockTime::ZERO) {
                if let Some(b) = sample.buffer() {
                    let map = b.map_readable().context("cannot map encoded video")?;
                    bytes.extend_from_slice(map.as_slice());
                }
            }
            Ok(())
        })?;
        self.done = true;
        Ok(bytes)
    }

    fn drain(&mut self) -> Result<()> {
        self.drain_with(|| Ok(()))
    }

    /// Ends the stream and waits for the encoder to finish (`at_end` runs then, before the pipeline stops).
    fn drain_with(&mut self, at_end: impl FnOnce() -> Result<()>) -> Result<()> {
        if let Some(e) = self.errors.error() {
            return Err(self.failed(&e));
        }
        let _ = self.src.end_of_stream();
        let bus = self.pipeline.bus().context("no bus")?;
        let msg = bus.timed_pop_filtered(
            gst::ClockTime::from_seconds(60),
            &[gst::MessageType::Eos, gst::MessageType::Error],
        );
        let ended = match msg.as_ref().map(|m| m.view()) {
            Some(gst::MessageView::Eos(_)) => at_end(),
            Some(gst::MessageView::Error(e)) => {
                Err(anyhow!("{}: encoding failed: {}", self.name, e.error()))
            }
            _ => Err(anyhow!("{}: encoder did not finish", self.name)),
        };
        let _ = self.pipeline.set_state(gst::State::Null);
        ended
    }
}

impl Drop for FileSink {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.pipeline.set_state(gst::State::Null);
            if let Target::File { part, .. } = &self.target {
                let _ = std::fs::remove_file(part);
            }
        }
    }
}
