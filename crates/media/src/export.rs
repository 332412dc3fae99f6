//! Export: the segments of one camera in a time range, decrypted and authenticated one at a time, joined
//! without re-encoding into one playable MP4 (`OUT.part`, renamed when complete). A segment is decrypted only
//! once the join has moved past the one two before it, so about three segments of plaintext are in memory
//! whatever the window (a day of a camera would not fit). A segment that fails authentication stops the
//! export and its `.part` is removed: no output exists. One function, so the API can call it too.

use crate::pipelines;
use anyhow::{Context, Result, anyhow};
use gstreamer as gst;
use gstreamer::prelude::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use vault::Vault;

/// How long the join may make no progress (no segment finished) before the export is given up.
const STALL: Duration = Duration::from_secs(120);

/// `grant` opens sealed segments (the stream `<camera>.sealed`); without it only masked ones can be exported.
pub fn export(
    vault: &Vault,
    camera: &str,
    from_unix: i64,
    to_unix: i64,
    grant: Option<&vault::Grant>,
    out: &Path,
) -> Result<(PathBuf, usize)> {
    let rows = vault.list(Some(camera), from_unix, to_unix)?;
    if rows.is_empty() {
        return Err(anyhow!("no recordings of {camera} between the given times"));
    }
    let mut desc = pipelines::render(pipelines::EXPORT, &[]);
    for i in 0..rows.len() {
        desc.push_str(&format!(
            " appsrc name=s{i} format=bytes max-bytes=0 ! qtdemux ! h264parse ! queue name=q{i} max-size-buffers=0 max-size-bytes=0 max-size-time=0 ! c."
        ));
    }
    crate::init()?;
    let pipeline = gst::parse::launch(&desc)
        .context("cannot build the export pipeline")?
        .downcast::<gst::Pipeline>()
        .map_err(|_| anyhow!("export is not a pipeline"))?;
    stamp_missing_pts(&pipeline)?;
    let part = PathBuf::from(format!("{}.part", out.display()));
    pipelines::element(&pipeline, "file")?
        .set_property("location", part.to_string_lossy().as_ref());
    let joined = Joined::of(&pipeline, rows.len())?;
    pipeline
        .set_state(gst::State::Playing)
        .map_err(|_| anyhow!("cannot start the export"))?;
    let bus = pipeline.bus().context("no bus")?;
    let fed = (|| -> Result<()> {
        for (i, r) in rows.iter().enumerate() {
            if i >= 2 {
                joined.wait_past(i - 2, &bus)?;
            }
            let bytes = match (r.sealed, grant) {
                (true, Some(g)) => vault.read_sealed(r, g),
                _ => vault.read(r),
            }
            .map_err(|e| anyhow!("export stopped: {e}"))?;
            let src = pipelines::appsrc(&pipeline, &format!("s{i}"))?;
            let _ = src.push_buffer(gst::Buffer::from_mut_slice(bytes));
            let _ = src.end_of_stream();
        }
        match bus
            .timed_pop_filtered(
                gst::ClockTime::from_seconds(STALL.as_secs()),
                &[gst::MessageType::Eos, gst::MessageType::Error],
            )
            .as_ref()
            .map(|m| m.view())
        {
            Some(gst::MessageView::Eos(_)) => Ok(()),
            Some(gst::MessageView::Error(e)) => Err(export_error(e)),
            _ => Err(anyhow!("export did not finish")),
        }
    })();
    let _ = pipeline.set_state(gst::State::Null);
    if let Err(e) = fed {
        let _ = std::fs::remove_file(&part);
        return Err(e);
    }
    std::fs::File::open(&part)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot sync {}", part.display()))?;
    std::fs::rename(&part, out).with_context(|| format!("cannot write {}", out.display()))?;
    Ok((out.to_path_buf(), rows.len()))
}

/// The debug text says why (a muxer's error alone is "Could not multiplex stream").
fn export_error(e: &gst::message::Error) -> anyhow::Error {
    let why = e.debug().map(|d| d.to_string()).unwrap_or_default();
    anyhow!("export failed: {} ({why})", e.error())
}

/// Where the join is: the concat's input pads in segment order.
struct Joined {
    concat: gst::Element,
    pads: Vec<gst::Pad>,
}

impl Joined {
    fn of(pipeline: &gst::Pipeline, segments: usize) -> Result<Joined> {
        let pads = (0..segments)
            .map(|i| {
                pipelines::element(pipeline, &format!("q{i}"))?
                    .static_pad("src")
                    .and_then(|p| p.peer())
                    .ok_or_else(|| anyhow!("segment {i} is not joined"))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Joined {
            concat: pipelines::element(pipeline, "c")?,
            pads,
        })
    }

    /// The segment being joined now (`segments` once all are).
    fn at(&self) -> usize {
        let active: Option<gst::Pad> = self.concat.property("active-pad");
        active
            .and_then(|a| self.pads.iter().position(|p| *p == a))
            .unwrap_or(self.pads.len())
    }

    /// Waits until segment `k` is joined whole (the join has moved on), stopping at an error on the bus or
    /// when nothing moves for [`STALL`].
    fn wait_past(&self, k: usize, bus: &gst::Bus) -> Result<()> {
        let started = Instant::now();
        while self.at() <= k {
            if let Some(m) = bus.timed_pop_filtered(
                gst::ClockTime::from_mseconds(10),
                &[gst::MessageType::Eos, gst::MessageType::Error],
            ) {
                match m.view() {
                    gst::MessageView::Error(e) => return Err(export_error(e)),
                    _ => return Err(anyhow!("export ended before segment {} was joined", k + 1)),
                }
            }
            if started.elapsed() > STALL {
                return Err(anyhow!(
                    "export stalled: segment {} not joined within {} s",
                    k + 1,
                    STALL.as_secs()
                ));
            }
        }
        Ok(())
    }
}

/// Recordings made before the recorder kept times strictly increasing can hold two access units on one time;
/// h264parse then gives the second no PTS, and mp4mux refuses the whole export ("Buffer has no PTS"). Such a
/// frame takes its DTS, or else 1 ms after the frame before it, so those recordings export too.
fn stamp_missing_pts(pipeline: &gst::Pipeline) -> Result<()> {
    let concat = pipelines::element(pipeline, "c")?;
    let pad = concat
        .static_pad("src")
        .ok_or_else(|| anyhow!("the export's concat has no src pad"))?;
    let last: std::sync::Mutex<Option<gst::ClockTime>> = std::sync::Mutex::new(None);
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(gst::PadProbeData::Buffer(buffer)) = info.data.as_mut() {
            if buffer.pts().is_none() {
                let t = buffer
                    .dts()
                    .filter(|d| last.is_none_or(|l| *d > l))
                    .or_else(|| last.map(|l| l + gst::ClockTime::from_mseconds(1)));
                if let Some(t) = t {
                    buffer.make_mut().set_pts(t);
                }
            }
            if let Some(p) = buffer.pts() {
                *last = Some(last.map_or(p, |l| l.max(p)));
            }
        }
        gst::PadProbeReturn::Ok
    });
    Ok(())
}
