//! Conversions between GStreamer samples/buffers and garim's plain frames, plus error-text scrubbing.

use anyhow::{Context, Result, anyhow};
use gstreamer as gst;
use gstreamer_video as gst_video;
use mask::{Layout, PixelFormat};
use stage::MaskedFrame;
use std::sync::OnceLock;

/// Initialises GStreamer once per process (the first call scans plugins, ~1.5 s).
pub fn init() -> Result<()> {
    static INIT: OnceLock<Result<(), String>> = OnceLock::new();
    INIT.get_or_init(|| gst::init().map_err(|e| e.to_string()))
        .clone()
        .map_err(|e| anyhow!("cannot initialise GStreamer: {e}"))
}

/// Layout of a raw video buffer described by `info`.
pub fn layout_of(info: &gst_video::VideoInfo) -> Result<Layout> {
    let format = match info.format() {
        gst_video::VideoFormat::I420 => PixelFormat::I420,
        gst_video::VideoFormat::Nv12 => PixelFormat::Nv12,
        other => {
            return Err(anyhow!(
                "unsupported raw format {other:?}, expected I420 or NV12"
            ));
        }
    };
    let strides = info.stride();
    let offsets = info.offset();
    let stride = |i: usize| strides.get(i).map(|&s| s.max(0) as usize).unwrap_or(0);
    let offset = |i: usize| offsets.get(i).copied().unwrap_or(0);
    Ok(Layout {
        format,
        width: info.width(),
        height: info.height(),
        strides: [stride(0), stride(1), stride(2)],
        offsets: [offset(0), offset(1), offset(2)],
    })
}

/// Copies a decoded sample into an owned frame (appsink buffers are shared and must not be masked in place).
pub fn sample_to_frame(sample: &gst::Sample) -> Result<(Layout, Vec<u8>, gst_video::VideoInfo)> {
    let caps = sample.caps().context("sample without caps")?;
    let info = gst_video::VideoInfo::from_caps(caps).context("caps are not raw video")?;
    let buffer = sample.buffer().context("sample without buffer")?;
    let map = buffer.map_readable().context("cannot map buffer")?;
    let layout = layout_of(&info)?;
    Ok((layout, map.as_slice().to_vec(), info))
}

/// A stream's frame rate as a number (0 when the stream does not say).
pub fn rate_of(fps: gst::Fraction) -> f64 {
    f64::from(fps.numer()) / f64::from(fps.denom().max(1))
}

/// Caps for the packed layout of a masked frame.
pub fn caps_for(layout: &Layout, fps: gst::Fraction) -> gst::Caps {
    let format = match layout.format {
        PixelFormat::I420 => gst_video::VideoFormat::I420,
        PixelFormat::Nv12 => gst_video::VideoFormat::Nv12,
    };
    gst_video::VideoInfo::builder(format, layout.width, layout.height)
        .fps(fps)
        .build()
        .expect("valid video info")
        .to_caps()
        .expect("caps from video info")
}

/// A GStreamer buffer holding a masked frame; a VideoMeta carries its strides and offsets.
pub fn masked_to_buffer(frame: &MaskedFrame) -> gst::Buffer {
    frame_buffer(frame.layout(), frame.data())
}

/// A buffer of a sealed frame, for the sealed recording branch only.
pub(crate) fn sealed_to_buffer(frame: &stage::SealedFrame) -> gst::Buffer {
    frame_buffer(frame.layout(), frame.data())
}

fn frame_buffer(layout: Layout, data: &[u8]) -> gst::Buffer {
    let format = match layout.format {
        PixelFormat::I420 => gst_video::VideoFormat::I420,
        PixelFormat::Nv12 => gst_video::VideoFormat::Nv12,
    };
    let planes = if layout.format == PixelFormat::I420 {
        3
    } else {
        2
    };
    let mut buffer = gst::Buffer::from_mut_slice(data.to_vec());
    {
        let b = buffer.get_mut().expect("new buffer is writable");
        let strides: Vec<i32> = layout.strides[..planes].iter().map(|&s| s as i32).collect();
        let _ = gst_video::VideoMeta::add_full(
            b,
            gst_video::VideoFrameFlags::empty(),
            format,
            layout.width,
            layout.height,
            &layout.offsets[..planes],
            &strides,
        );
    }
    buffer
}

/// Removes any secret that GStreamer may have echoed into an error (RTSP URLs with credentials).
pub fn scrub(text: &str, secret_url: &str) -> String {
    let redacted = policy::redact_url(secret_url);
    let mut out = text.replace(secret_url, &redacted);
    // Elements sometimes print the URL without its scheme or with the password alone.
    if let Some((userinfo, _)) = secret_url
        .split_once("://")
        .and_then(|(_, rest)| rest.rsplit_once('@'))
    {
        if !userinfo.is_empty() {
            out = out.replace(userinfo, "***");
            if let Some((_, pass)) = userinfo.split_once(':') {
                if !pass.is_empty() {
                    out = out.replace(pass, "***");
                }
            }
        }
    }
    policy::redact_url(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_hides_credentials_in_gstreamer_messages() {
        let url = "rtsp://admin:s3cr3t@10.0.0.5:554/stream1";
        let msg = format!(
            "Could not open resource {url} (gstrtspsrc.c: Unauthorized for admin:s3cr3t, password s3cr3t)"
        );
        let clean = scrub(&msg, url);
        assert!(!clean.contains("s3cr3t"), "{clean}");
        assert!(clean.contains("10.0.0.5"), "{clean}");
    }
}
