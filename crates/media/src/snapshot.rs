//! The console's picture of a camera: a masked frame (the type guarantees it went through the masking stage)
//! encoded as JPEG. Chroma is upsampled by repetition; the picture is for looking at, not for evidence.

use anyhow::{Result, anyhow};
use mask::PixelFormat;
use stage::MaskedFrame;

/// JPEG quality of snapshots (0–100).
pub const SNAPSHOT_QUALITY: u8 = 80;

/// Encodes a masked frame (I420 or NV12) as a JPEG picture.
pub fn jpeg(frame: &MaskedFrame) -> Result<Vec<u8>> {
    encode(frame.layout(), frame.data(), 1, SNAPSHOT_QUALITY)
}

/// JPEG quality of the review stills of an opened window.
pub const STILL_QUALITY: u8 = 70;

/// A still of an UNMASKED frame of a sealed window opened by its managers' approvals, for the operator who
/// reviews a data subject's track there (and for nothing else): at most `max_width` pixels wide (every n-th
/// pixel).
pub fn opened_still(layout: mask::Layout, data: &[u8], max_width: u32) -> Result<Vec<u8>> {
    let step = layout.width.div_ceil(max_width.max(1)).max(1) as usize;
    encode(layout, data, step, STILL_QUALITY)
}

fn encode(l: mask::Layout, data: &[u8], step: usize, quality: u8) -> Result<Vec<u8>> {
    if data.len() < l.min_len() {
        return Err(anyhow!(
            "snapshot frame of {}x{} has {} bytes, needs {}",
            l.width,
            l.height,
            data.len(),
            l.min_len()
        ));
    }
    let (w, h) = (l.width as usize / step, l.height as usize / step);
    let mut ycbcr = Vec::with_capacity(w * h * 3);
    for y in (0..h).map(|y| y * step) {
        for x in (0..w).map(|x| x * step) {
            let luma = data[l.offsets[0] + y * l.strides[0] + x];
            let (cx, cy) = (x / 2, y / 2);
            let (cb, cr) = match l.format {
                PixelFormat::I420 => (
                    data[l.offsets[1] + cy * l.strides[1] + cx],
                    data[l.offsets[2] + cy * l.strides[2] + cx],
                ),
                PixelFormat::Nv12 => {
                    let i = l.offsets[1] + cy * l.strides[1] + cx * 2;
                    (data[i], data[i + 1])
                }
            };
            ycbcr.extend_from_slice(&[luma, cb, cr]);
        }
    }
    let mut out = Vec::new();
    let encoder = jpeg_encoder::Encoder::new(&mut out, quality);
    encoder
        .encode(
            &ycbcr,
            u16::try_from(w).map_err(|_| anyhow!("snapshot wider than 65535 px"))?,
            u16::try_from(h).map_err(|_| anyhow!("snapshot taller than 65535 px"))?,
            jpeg_encoder::ColorType::Ycbcr,
        )
        .map_err(|e| anyhow!("jpeg encoding failed: {e}"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_signal_frame_encodes_as_a_jpeg_of_its_size() {
        let frame = MaskedFrame::no_signal(PixelFormat::I420, 64, 48);
        let jpg = jpeg(&frame).unwrap();
        assert_eq!(&jpg[..2], &[0xFF, 0xD8], "JPEG start of image");
        assert_eq!(&jpg[jpg.len() - 2..], &[0xFF, 0xD9], "JPEG end of image");
        // SOF0 carries height then width.
        let sof = jpg.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        assert_eq!(u16::from_be_bytes([jpg[sof + 5], jpg[sof + 6]]), 48);
        assert_eq!(u16::from_be_bytes([jpg[sof + 7], jpg[sof + 8]]), 64);
    }
}
