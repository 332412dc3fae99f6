//! The console's picture of a camera: a masked frame (the type guarantees it went through the masking stage)
//! encoded as JPEG. Chroma is upsampled by repetition; the picture is for looking at, not for evidence.

use anyhow::{Result, anyhow};
use mask::PixelFormat;
use stage::MaskedFrame;

/// JPEG quality of snapshots (0–100).
pub const SNAPSHOT_QUALITY: u8 = 80;

/// Encodes a masked frame (I420 or NV12) as a JPEG picture.
pub fn jpeg(frame: &MaskedFrame) -> Result<Vec<u8>> {
    let l = frame.layout();
    let data = frame.data();
    if data.len() < l.min_len() {
        return Err(anyhow!(
            "snapshot frame of {}x{} has {} bytes, needs {}",
            l.width,
            l.height,
            data.len(),
            l.min_len()
        ));
    }
    let (w, h) = (l.width as usize, l.height as usize);
    let mut ycbcr = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
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
    let encoder = jpeg_encoder::Encoder::new(&mut out, SNAPSHOT_QUALITY);
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
