//! The picture garim sends while a camera has no signal: a packed frame of dark grey with lighter diagonal
//! stripes and neutral chroma, so a viewer reads it as "no camera" rather than as a dark scene (which a plain
//! black frame, or a fully masked one, could be mistaken for).

use crate::frame::{Layout, PixelFormat};

/// Luma of the background and of the stripes (video range, both well above black at 16).
pub const NO_SIGNAL_DARK: u8 = 40;
pub const NO_SIGNAL_LIGHT: u8 = 72;
/// Width of each stripe, measured along x + y (so stripes run at 45°).
pub const NO_SIGNAL_STRIPE_PX: usize = 24;

/// Packed-layout bytes (`Layout::packed(format, width, height)`) of the "no signal" picture: luma
/// `NO_SIGNAL_DARK` where `(x + y) / NO_SIGNAL_STRIPE_PX` is even and `NO_SIGNAL_LIGHT` where odd; all
/// chroma 128 (grey). A zero width or height gives an empty buffer.
pub fn no_signal_frame(format: PixelFormat, width: u32, height: u32) -> Vec<u8> {
    if width == 0 || height == 0 {
        return Vec::new();
    }
    let layout = Layout::packed(format, width, height);
    // Chroma 128 everywhere; the luma plane (first in a packed layout, stride = width) is rewritten below.
    let mut data = vec![128u8; layout.min_len()];
    let w = width as usize;
    for (y, row) in data[..w * height as usize].chunks_exact_mut(w).enumerate() {
        for (x, v) in row.iter_mut().enumerate() {
            *v = if (x + y) / NO_SIGNAL_STRIPE_PX % 2 == 0 {
                NO_SIGNAL_DARK
            } else {
                NO_SIGNAL_LIGHT
            };
        }
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::FrameRef;

    #[test]
    fn no_signal_frame_has_packed_size_for_both_formats_and_odd_sizes() {
        for format in [PixelFormat::I420, PixelFormat::Nv12] {
            for (w, h) in [(1280, 720), (5, 3), (1, 1), (33, 17)] {
                let d = no_signal_frame(format, w, h);
                let l = Layout::packed(format, w, h);
                assert_eq!(d.len(), l.min_len(), "{format:?} {w}x{h}");
                assert!(FrameRef::new(l, &d).is_ok());
            }
        }
    }

    #[test]
    fn no_signal_frame_is_grey_stripes_with_neutral_chroma() {
        for format in [PixelFormat::I420, PixelFormat::Nv12] {
            let (w, h) = (64u32, 36u32);
            let d = no_signal_frame(format, w, h);
            let f = FrameRef::new(Layout::packed(format, w, h), &d).unwrap();
            assert_eq!(f.y(0, 0), NO_SIGNAL_DARK);
            assert_eq!(f.y(23, 0), NO_SIGNAL_DARK);
            assert_eq!(f.y(24, 0), NO_SIGNAL_LIGHT);
            assert_eq!(f.y(12, 12), NO_SIGNAL_LIGHT);
            assert_eq!(f.y(40, 8), NO_SIGNAL_DARK);
            for cy in 0..18 {
                for cx in 0..32 {
                    assert_eq!(f.uv(cx, cy), (128, 128));
                }
            }
            // Not a black scene: nothing at or near black, and both tones present.
            assert!(d[..64 * 36].iter().all(|&v| v >= NO_SIGNAL_DARK));
            assert!(d[..64 * 36].contains(&NO_SIGNAL_LIGHT));
        }
    }

    #[test]
    fn no_signal_frame_of_zero_size_is_empty() {
        assert!(no_signal_frame(PixelFormat::I420, 0, 10).is_empty());
        assert!(no_signal_frame(PixelFormat::Nv12, 10, 0).is_empty());
    }
}
