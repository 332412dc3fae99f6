//! The burned-in watermark of an export: a line of ASCII (request number and date) in white on a black band at
//! the top left, drawn with the 8×8 bitmap font at 2× (4× on frames 1280 wide or more).

use font8x8::UnicodeFonts;
use mask::FrameMut;

/// Draws `text` (ASCII; other characters become `?`) into the frame's top-left corner; nothing when empty.
pub fn watermark(frame: &mut FrameMut<'_>, text: &str) {
    if text.is_empty() {
        return;
    }
    let (w, h) = (
        frame.as_ref().width() as usize,
        frame.as_ref().height() as usize,
    );
    let scale = if w >= 1280 { 4 } else { 2 };
    let glyph = 8 * scale;
    let pad = scale * 2;
    let chars: Vec<char> = text
        .chars()
        .take((w.saturating_sub(2 * pad)) / glyph)
        .collect();
    let band_w = (chars.len() * glyph + 2 * pad).min(w);
    let band_h = (glyph + 2 * pad).min(h);
    for y in 0..band_h {
        for x in 0..band_w {
            frame.set_y(x, y, 16);
        }
    }
    for cy in 0..band_h.div_ceil(2).min(h / 2) {
        for cx in 0..band_w.div_ceil(2).min(w / 2) {
            frame.set_uv(cx, cy, 128, 128);
        }
    }
    for (i, c) in chars.iter().enumerate() {
        let rows = font8x8::BASIC_FONTS
            .get(*c)
            .or_else(|| font8x8::BASIC_FONTS.get('?'))
            .unwrap_or([0; 8]);
        for (ry, bits) in rows.iter().enumerate() {
            for rx in 0..8 {
                if bits & (1 << rx) == 0 {
                    continue;
                }
                for sy in 0..scale {
                    for sx in 0..scale {
                        let x = pad + i * glyph + rx * scale + sx;
                        let y = pad + ry * scale + sy;
                        if x < w && y < h {
                            frame.set_y(x, y, 235);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mask::{Layout, PixelFormat};

    #[test]
    fn the_watermark_is_white_text_on_a_black_band_in_the_corner() {
        let layout = Layout::packed(PixelFormat::I420, 320, 240);
        let mut data = vec![128u8; layout.min_len()];
        let mut f = FrameMut::new(layout, &mut data).unwrap();
        watermark(&mut f, "DSR-2026-0001 2026-12-01");
        let f = f.as_ref();
        let white = (0..20)
            .flat_map(|y| (0..320).map(move |x| (x, y)))
            .filter(|&(x, y)| f.y(x, y) == 235)
            .count();
        let black = (0..20)
            .flat_map(|y| (0..320).map(move |x| (x, y)))
            .filter(|&(x, y)| f.y(x, y) == 16)
            .count();
        assert!(white > 300 && black > 1500, "white {white}, black {black}");
        // Below the band the frame is untouched.
        assert!((0..320).all(|x| f.y(x, 100) == 128));
    }
}
