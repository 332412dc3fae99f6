//! Export: the segments of one camera in a time range, decrypted and authenticated in memory, joined without
//! re-encoding into one playable MP4 (`OUT.part`, renamed when complete). A segment that fails
//! authentication stops the export before anything is written. One function, so the API can call it too.

use crate::pipelines;
use anyhow::{Context, Result, anyhow};
use gstreamer as gst;
use gstreamer::prelude::*;
use std::path::{Path, PathBuf};
use vault::Vault;

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
    // Decrypt everything first: a tampered segment stops the export before any output exists.
    let mut plain = Vec::with_capacity(rows.len());
    for r in &rows {
        let bytes = match (r.sealed, grant) {
            (true, Some(g)) => vault.read_sealed(r, g),
            _ => vault.read(r),
        };
        plain.push(bytes.map_err(|e| anyhow!("export stopped: {e}"))?);
    }
    let mut desc = pipelines::render(pipelines::EXPORT, &[]);
    for i in 0..rows.len() {
        desc.push_str(&format!(
            " appsrc name=s{i} format=bytes max-bytes=0 ! qtdemux ! h264parse ! queue max-size-buffers=0 max-size-bytes=0 max-size-time=0 ! c."
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
    pipeline
        .set_state(gst::State::Playing)
        .map_err(|_| anyhow!("cannot start the export"))?;
    for (i, bytes) in plain.into_iter().enumerate() {
        let src = pipelines::appsrc(&pipeline, &format!("s{i}"))?;
        let _ = src.push_buffer(gst::Buffer::from_mut_slice(bytes));
        let _ = src.end_of_stream();
    }
    let bus = pipeline.bus().context("no bus")?;
    let msg = bus.timed_pop_filtered(
        gst::ClockTime::from_seconds(120),
        &[gst::MessageType::Eos, gst::MessageType::Error],
    );
    let _ = pipeline.set_state(gst::State::Null);
    match msg.as_ref().map(|m| m.view()) {
        Some(gst::MessageView::Eos(_)) => {}
        Some(gst::MessageView::Error(e)) => {
            let _ = std::fs::remove_file(&part);
            // The debug text says why (a muxer's error alone is "Could not multiplex stream").
            let why = e.debug().map(|d| d.to_string()).unwrap_or_default();
            return Err(anyhow!("export failed: {} ({why})", e.error()));
        }
        _ => {
            let _ = std::fs::remove_file(&part);
            return Err(anyhow!("export did not finish"));
        }
    }
    std::fs::File::open(&part)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot sync {}", part.display()))?;
    std::fs::rename(&part, out).with_context(|| format!("cannot write {}", out.display()))?;
    Ok((out.to_path_buf(), rows.len()))
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
