//! The GStreamer launch templates of `pipelines/<family>/` (embedded at build time), filled and parsed here,
//! with typed access to the named elements the code drives.

use anyhow::{Context, Result, anyhow};
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;

pub const INGEST_RTSP: &str = include_str!("../../../pipelines/cpu/ingest-rtsp.txt");
pub const INGEST_URI: &str = include_str!("../../../pipelines/cpu/ingest-uri.txt");
pub const DECODE_FILE: &str = include_str!("../../../pipelines/cpu/decode-file.txt");
pub const DECODE_BYTES: &str = include_str!("../../../pipelines/cpu/decode-bytes.txt");
pub const LIVE_OUT: &str = include_str!("../../../pipelines/cpu/live-out.txt");
pub const LIVE_OUT_H264: &str = include_str!("../../../pipelines/cpu/live-out-h264.txt");
pub const ENCODE: &str = include_str!("../../../pipelines/cpu/encode.txt");
pub const RECORD: &str = include_str!("../../../pipelines/cpu/record.txt");
pub const RECORD_H264: &str = include_str!("../../../pipelines/cpu/record-h264.txt");
pub const ENCODE_FILE: &str = include_str!("../../../pipelines/cpu/encode-file.txt");
pub const READ_H264: &str = include_str!("../../../pipelines/cpu/read-h264.txt");
pub const FOOTAGE: &str = include_str!("../../../pipelines/cpu/footage.txt");
pub const EXPORT: &str = include_str!("../../../pipelines/cpu/export.txt");

/// The launch line of `template`: comments dropped, lines joined, `{key}` replaced by its value.
pub fn render(template: &str, vars: &[(&str, &str)]) -> String {
    let mut line = template
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join(" ");
    for (k, v) in vars {
        line = line.replace(&format!("{{{k}}}"), v);
    }
    line
}

/// Parses a rendered template into a pipeline; `what` names it in errors.
pub fn launch(template: &str, vars: &[(&str, &str)], what: &str) -> Result<gst::Pipeline> {
    crate::init()?;
    gst::parse::launch(&render(template, vars))
        .with_context(|| format!("cannot build the {what} pipeline"))?
        .downcast::<gst::Pipeline>()
        .map_err(|_| anyhow!("the {what} description is not a pipeline"))
}

pub fn element(pipeline: &gst::Pipeline, name: &str) -> Result<gst::Element> {
    pipeline
        .by_name(name)
        .ok_or_else(|| anyhow!("pipeline {} has no element named {name}", pipeline.name()))
}

pub fn appsink(pipeline: &gst::Pipeline, name: &str) -> Result<gst_app::AppSink> {
    element(pipeline, name)?
        .downcast::<gst_app::AppSink>()
        .map_err(|_| anyhow!("{name} is not an appsink"))
}

pub fn appsrc(pipeline: &gst::Pipeline, name: &str) -> Result<gst_app::AppSrc> {
    element(pipeline, name)?
        .downcast::<gst_app::AppSrc>()
        .map_err(|_| anyhow!("{name} is not an appsrc"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENCODE_VARS: [(&str, &str); 4] = [
        ("preset", "ultrafast"),
        ("gop", "15"),
        ("kbps", "2500"),
        ("threads", "0"),
    ];

    #[test]
    fn templates_render_without_comments_or_leftover_placeholders() {
        let all = [
            render(INGEST_RTSP, &[]),
            render(INGEST_URI, &[]),
            render(DECODE_FILE, &[("sync", "false")]),
            render(LIVE_OUT, &[("trellis", "false")]),
            render(RECORD, &[("preset", "veryfast"), ("trellis", "false")]),
            render(
                ENCODE_FILE,
                &[("muxer", "mp4mux"), ("sink", "filesink name=file")],
            ),
            render(LIVE_OUT_H264, &[]),
            render(ENCODE, &ENCODE_VARS),
            render(RECORD_H264, &[]),
            render(DECODE_BYTES, &[]),
        ];
        for line in &all {
            assert!(
                !line.contains('#') && !line.contains('{') && !line.contains('\n'),
                "{line}"
            );
        }
        assert!(all[4].contains("fragment-duration=1000"), "{}", all[4]);
    }

    #[test]
    fn every_template_parses() {
        crate::init().unwrap();
        for (t, vars) in [
            (INGEST_RTSP, vec![]),
            (INGEST_URI, vec![]),
            (DECODE_FILE, vec![("sync", "true")]),
            (DECODE_BYTES, vec![]),
            (RECORD, vec![("preset", "ultrafast"), ("trellis", "true")]),
            (
                ENCODE_FILE,
                vec![("muxer", "matroskamux"), ("sink", "filesink name=file")],
            ),
            (
                ENCODE_FILE,
                vec![
                    ("muxer", crate::file::MEMORY_MUXER),
                    ("sink", crate::file::MEMORY_SINK),
                ],
            ),
            (ENCODE, ENCODE_VARS.to_vec()),
            (RECORD_H264, vec![]),
            (READ_H264, vec![]),
            (
                FOOTAGE,
                vec![
                    ("width", "320"),
                    ("height", "240"),
                    ("gop", "10"),
                    ("kbps", "500"),
                ],
            ),
        ] {
            launch(t, &vars, "test").unwrap();
        }
        // The live templates are bin descriptions for the RTSP server: parse them as bins.
        for live in [
            render(LIVE_OUT, &[("trellis", "false")]),
            render(LIVE_OUT_H264, &[]),
        ] {
            let inner = live.trim().trim_start_matches('(').trim_end_matches(')');
            gst::parse::bin_from_description(inner, false).unwrap();
        }
    }
}

/// The first error a pipeline posts, caught as it is posted (a bus sync handler), so that a thread blocked
/// pushing into an `appsrc` of a failed pipeline is released: on an error the pipeline is set to NULL from a
/// thread of its own, which makes the blocked push return. The message stays on the bus for whoever reads it.
#[derive(Clone, Default)]
pub struct ErrorWatch(std::sync::Arc<parking_lot::Mutex<Option<String>>>);

impl ErrorWatch {
    pub fn attach(pipeline: &gst::Pipeline) -> Result<ErrorWatch> {
        ErrorWatch::attach_with(pipeline, gst::BusSyncReply::Pass)
    }

    /// The same for a long-lived pipeline whose bus nobody reads: every message is dropped once seen (the bus
    /// would otherwise grow for as long as the pipeline runs), the first error kept here.
    pub fn attach_sole(pipeline: &gst::Pipeline) -> Result<ErrorWatch> {
        ErrorWatch::attach_with(pipeline, gst::BusSyncReply::Drop)
    }

    fn attach_with(pipeline: &gst::Pipeline, reply: gst::BusSyncReply) -> Result<ErrorWatch> {
        let watch = ErrorWatch::default();
        let slot = watch.0.clone();
        let weak = pipeline.downgrade();
        pipeline
            .bus()
            .context("pipeline without a bus")?
            .set_sync_handler(move |_, msg| {
                if let gst::MessageView::Error(e) = msg.view() {
                    let mut first = slot.lock();
                    if first.is_none() {
                        let element = e
                            .src()
                            .map(|s| s.name().to_string())
                            .unwrap_or_else(|| "pipeline".into());
                        *first = Some(format!("{element}: {}", e.error()));
                        // Never change state from the streaming thread that posted the error.
                        let weak = weak.clone();
                        std::thread::spawn(move || {
                            if let Some(p) = weak.upgrade() {
                                let _ = p.set_state(gst::State::Null);
                            }
                        });
                    }
                }
                reply
            });
        Ok(watch)
    }

    /// "element: message" of the first error, if one was posted.
    pub fn error(&self) -> Option<String> {
        self.0.lock().clone()
    }
}
