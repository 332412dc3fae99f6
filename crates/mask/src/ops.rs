//! Which pixels to hide (`Coverage`: rectangles, polygons, whole frame) and how (`MaskStyle`: pixelate,
//! blur, fill). Coverage is kept per luma pixel; a chroma sample is hidden when any luma pixel it spans is
//! covered (privacy first). Work is confined to the coverage's bounding box, so small masks are cheap.

use crate::frame::{FrameMut, PixelFormat};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Pixel rectangle, half-open [x0,x1)×[y0,y1), in frame pixels; may extend beyond the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RectPx {
    pub x0: i32,
    pub y0: i32,
    pub x1: i32,
    pub y1: i32,
}

/// Polygon in normalized frame coordinates (0..1 on both axes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Polygon(pub Vec<[f32; 2]>);

/// How covered pixels are hidden.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MaskStyle {
    /// Each block of the grid (aligned to the frame origin) gets the mean of its covered pixels.
    Pixelate { block_px: u32 },
    /// Box blur of the given radius, two passes, on the original pixels.
    Blur { radius_px: u32 },
    /// A solid colour.
    Fill { y: u8, u: u8, v: u8 },
}

impl MaskStyle {
    pub const BLACK: MaskStyle = MaskStyle::Fill {
        y: 16,
        u: 128,
        v: 128,
    };

    pub fn pixelate() -> MaskStyle {
        MaskStyle::Pixelate { block_px: 16 }
    }

    pub fn blur() -> MaskStyle {
        MaskStyle::Blur { radius_px: 12 }
    }

    pub fn parse(s: &str) -> Result<MaskStyle, String> {
        match s {
            "pixelate" => Ok(MaskStyle::pixelate()),
            "blur" => Ok(MaskStyle::blur()),
            "fill" => Ok(MaskStyle::BLACK),
            other => Err(format!(
                "unknown mask style {other:?}; valid styles: pixelate, blur, fill"
            )),
        }
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum MaskError {
    #[error("coverage is {cw}x{ch} but frame is {fw}x{fh}")]
    SizeMismatch { cw: u32, ch: u32, fw: u32, fh: u32 },
}

/// Per-luma-pixel coverage: which pixels must be hidden.
#[derive(Debug, Clone)]
pub struct Coverage {
    width: u32,
    height: u32,
    bits: Vec<u8>,
    /// Bounding box of covered pixels (x0, y0, x1, y1), half-open; empty when x0 >= x1.
    bbox: (u32, u32, u32, u32),
}

impl Coverage {
    pub fn new(width: u32, height: u32) -> Coverage {
        Coverage {
            width,
            height,
            bits: vec![0; width as usize * height as usize],
            bbox: (width, height, 0, 0),
        }
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    pub fn clear(&mut self) {
        let (x0, y0, x1, y1) = self.bbox;
        for y in y0..y1 {
            let row = y as usize * self.width as usize;
            self.bits[row + x0 as usize..row + x1 as usize].fill(0);
        }
        self.bbox = (self.width, self.height, 0, 0);
    }

    fn grow(&mut self, x0: u32, y0: u32, x1: u32, y1: u32) {
        let b = &mut self.bbox;
        *b = (b.0.min(x0), b.1.min(y0), b.2.max(x1), b.3.max(y1));
    }

    pub fn add_rect(&mut self, r: RectPx) {
        let x0 = r.x0.clamp(0, self.width as i32) as u32;
        let x1 = r.x1.clamp(0, self.width as i32) as u32;
        let y0 = r.y0.clamp(0, self.height as i32) as u32;
        let y1 = r.y1.clamp(0, self.height as i32) as u32;
        if x0 >= x1 || y0 >= y1 {
            return;
        }
        for y in y0..y1 {
            let row = y as usize * self.width as usize;
            self.bits[row + x0 as usize..row + x1 as usize].fill(1);
        }
        self.grow(x0, y0, x1, y1);
    }

    /// Covers every pixel whose centre lies inside the polygon (even-odd rule). Fewer than 3 points cover
    /// nothing (validation rejects such polygons before they get here).
    pub fn add_polygon(&mut self, p: &Polygon) {
        let pts: Vec<(f64, f64)> =
            p.0.iter()
                .map(|&[x, y]| {
                    (
                        f64::from(x) * f64::from(self.width),
                        f64::from(y) * f64::from(self.height),
                    )
                })
                .collect();
        if pts.len() < 3 {
            return;
        }
        let (mut ymin, mut ymax) = (f64::MAX, f64::MIN);
        for &(_, y) in &pts {
            ymin = ymin.min(y);
            ymax = ymax.max(y);
        }
        let y_start = (ymin - 0.5).ceil().max(0.0) as u32;
        let y_end = ((ymax - 0.5).floor() + 1.0).clamp(0.0, f64::from(self.height)) as u32;
        let mut xs: Vec<f64> = Vec::with_capacity(pts.len());
        for y in y_start..y_end {
            let cy = f64::from(y) + 0.5;
            xs.clear();
            for i in 0..pts.len() {
                let (ax, ay) = pts[i];
                let (bx, by) = pts[(i + 1) % pts.len()];
                // Half-open in y so a vertex shared by two edges is counted once.
                if (ay <= cy) != (by <= cy) {
                    xs.push(ax + (cy - ay) / (by - ay) * (bx - ax));
                }
            }
            xs.sort_by(f64::total_cmp);
            for pair in xs.chunks_exact(2) {
                // Pixel x is inside when its centre x+0.5 lies in [left, right).
                let x0 = (pair[0] - 0.5).ceil().max(0.0) as i64;
                let x1 = ((pair[1] - 0.5).ceil() as i64).min(i64::from(self.width));
                if x0 < x1 {
                    let row = y as usize * self.width as usize;
                    self.bits[row + x0 as usize..row + x1 as usize].fill(1);
                    self.grow(x0 as u32, y, x1 as u32, y + 1);
                }
            }
        }
    }

    pub fn fill_all(&mut self) {
        self.bits.fill(1);
        self.bbox = (0, 0, self.width, self.height);
    }

    /// Swaps covered and uncovered (recording zones: keep inside, hide outside).
    pub fn invert(&mut self) {
        for b in &mut self.bits {
            *b ^= 1;
        }
        self.bbox = (0, 0, self.width, self.height);
        if self.is_empty() {
            self.bbox = (self.width, self.height, 0, 0);
        }
    }

    #[inline]
    pub fn is_covered(&self, x: u32, y: u32) -> bool {
        self.bits[y as usize * self.width as usize + x as usize] != 0
    }

    pub fn count(&self) -> u64 {
        let (x0, y0, x1, y1) = self.bbox;
        (y0..y1)
            .map(|y| {
                let row = y as usize * self.width as usize;
                self.bits[row + x0 as usize..row + x1 as usize]
                    .iter()
                    .filter(|&&b| b != 0)
                    .count() as u64
            })
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.bbox.0 >= self.bbox.2 || self.count() == 0
    }

    pub fn is_full(&self) -> bool {
        self.count() == u64::from(self.width) * u64::from(self.height)
    }

    /// Chroma-resolution coverage: a chroma sample is covered when any luma pixel it spans is.
    fn chroma(&self) -> (Vec<u8>, usize, usize, (usize, usize, usize, usize)) {
        let (cw, ch) = (
            (self.width as usize).div_ceil(2),
            (self.height as usize).div_ceil(2),
        );
        let mut out = vec![0u8; cw * ch];
        let (x0, y0, x1, y1) = self.bbox;
        let w = self.width as usize;
        for y in y0 as usize..y1 as usize {
            for x in x0 as usize..x1 as usize {
                if self.bits[y * w + x] != 0 {
                    out[(y / 2) * cw + x / 2] = 1;
                }
            }
        }
        let cb = (
            x0 as usize / 2,
            y0 as usize / 2,
            (x1 as usize).div_ceil(2),
            (y1 as usize).div_ceil(2),
        );
        (out, cw, ch, cb)
    }
}

/// A view of one plane (or one component of the interleaved NV12 chroma plane) for uniform processing.
struct PlaneMut<'a> {
    data: &'a mut [u8],
    offset: usize,
    stride: usize,
    /// Bytes between horizontally adjacent samples (1 planar, 2 for NV12 UV).
    step: usize,
}

impl PlaneMut<'_> {
    #[inline]
    fn idx(&self, x: usize, y: usize) -> usize {
        self.offset + y * self.stride + x * self.step
    }
}

/// Hides every covered pixel of `frame` in `style`.
pub fn apply(frame: &mut FrameMut<'_>, cov: &Coverage, style: MaskStyle) -> Result<(), MaskError> {
    let l = frame.layout;
    if cov.width != l.width || cov.height != l.height {
        return Err(MaskError::SizeMismatch {
            cw: cov.width,
            ch: cov.height,
            fw: l.width,
            fh: l.height,
        });
    }
    if cov.bbox.0 >= cov.bbox.2 {
        return Ok(());
    }
    let (cbits, cw, _ch, cbox) = cov.chroma();
    let luma_box = (
        cov.bbox.0 as usize,
        cov.bbox.1 as usize,
        cov.bbox.2 as usize,
        cov.bbox.3 as usize,
    );
    let (w, h) = (l.width as usize, l.height as usize);
    let (cwid, chei) = l.chroma_size();
    let chroma_planes: [(usize, usize, usize); 2] = match l.format {
        PixelFormat::I420 => [
            (l.offsets[1], l.strides[1], 1),
            (l.offsets[2], l.strides[2], 1),
        ],
        PixelFormat::Nv12 => [
            (l.offsets[1], l.strides[1], 2),
            (l.offsets[1] + 1, l.strides[1], 2),
        ],
    };
    let (fill_y, fill_u, fill_v) = match style {
        MaskStyle::Fill { y, u, v } => (y, u, v),
        _ => (0, 0, 0),
    };
    let mut luma = PlaneMut {
        data: frame.data,
        offset: l.offsets[0],
        stride: l.strides[0],
        step: 1,
    };
    hide_plane(&mut luma, &cov.bits, w, w, h, luma_box, style, fill_y, 1);
    for (i, (offset, stride, step)) in chroma_planes.into_iter().enumerate() {
        let mut plane = PlaneMut {
            data: frame.data,
            offset,
            stride,
            step,
        };
        let fill = if i == 0 { fill_u } else { fill_v };
        hide_plane(&mut plane, &cbits, cw, cwid, chei, cbox, style, fill, 2);
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn hide_plane(
    p: &mut PlaneMut<'_>,
    bits: &[u8],
    bits_stride: usize,
    w: usize,
    h: usize,
    bbox: (usize, usize, usize, usize),
    style: MaskStyle,
    fill: u8,
    subsample: u32,
) {
    let (bx0, by0, bx1, by1) = (bbox.0, bbox.1, bbox.2.min(w), bbox.3.min(h));
    match style {
        MaskStyle::Fill { .. } => {
            for y in by0..by1 {
                for x in bx0..bx1 {
                    if bits[y * bits_stride + x] != 0 {
                        let i = p.idx(x, y);
                        p.data[i] = fill;
                    }
                }
            }
        }
        MaskStyle::Pixelate { block_px } => {
            let b = (block_px / subsample).max(1) as usize;
            let mut gy = (by0 / b) * b;
            while gy < by1 {
                let mut gx = (bx0 / b) * b;
                while gx < bx1 {
                    let (ye, xe) = ((gy + b).min(h), (gx + b).min(w));
                    let (mut sum, mut n) = (0u64, 0u64);
                    for y in gy..ye {
                        for x in gx..xe {
                            if bits[y * bits_stride + x] != 0 {
                                sum += u64::from(p.data[p.idx(x, y)]);
                                n += 1;
                            }
                        }
                    }
                    if let Some(mean) = (sum + n / 2).checked_div(n) {
                        let mean = mean as u8;
                        for y in gy..ye {
                            for x in gx..xe {
                                if bits[y * bits_stride + x] != 0 {
                                    let i = p.idx(x, y);
                                    p.data[i] = mean;
                                }
                            }
                        }
                    }
                    gx += b;
                }
                gy += b;
            }
        }
        MaskStyle::Blur { radius_px } => {
            let r = (radius_px / subsample).max(1) as usize;
            // Work on the bbox grown by 2r (two passes), so every covered pixel sees its full window.
            let (x0, y0) = (bx0.saturating_sub(2 * r), by0.saturating_sub(2 * r));
            let (x1, y1) = ((bx1 + 2 * r).min(w), (by1 + 2 * r).min(h));
            let (rw, rh) = (x1 - x0, y1 - y0);
            let mut buf: Vec<u32> = Vec::with_capacity(rw * rh);
            for y in y0..y1 {
                for x in x0..x1 {
                    buf.push(u32::from(p.data[p.idx(x, y)]));
                }
            }
            let mut tmp = vec![0u32; rw * rh];
            for _ in 0..2 {
                box_pass(&buf, &mut tmp, rw, rh, r, true);
                box_pass(&tmp, &mut buf, rw, rh, r, false);
            }
            for y in by0..by1 {
                for x in bx0..bx1 {
                    if bits[y * bits_stride + x] != 0 {
                        let i = p.idx(x, y);
                        p.data[i] = buf[(y - y0) * rw + (x - x0)] as u8;
                    }
                }
            }
        }
    }
}

/// One separable box-mean pass (window clipped to the region) with running sums.
fn box_pass(src: &[u32], dst: &mut [u32], w: usize, h: usize, r: usize, horizontal: bool) {
    let (outer, inner) = if horizontal { (h, w) } else { (w, h) };
    let at = |o: usize, i: usize| if horizontal { o * w + i } else { i * w + o };
    for o in 0..outer {
        let mut sum: u32 = 0;
        let mut lo = 0usize;
        let mut hi = 0usize; // window is [lo, hi)
        for i in 0..inner {
            let want_hi = (i + r + 1).min(inner);
            while hi < want_hi {
                sum += src[at(o, hi)];
                hi += 1;
            }
            let want_lo = i.saturating_sub(r);
            while lo < want_lo {
                sum -= src[at(o, lo)];
                lo += 1;
            }
            let n = (hi - lo) as u32;
            dst[at(o, i)] = (sum + n / 2) / n;
        }
    }
}

/// Hides the whole frame (fail-closed). Fill styles fill; pixelate and blur become a pixelation so coarse
/// (blocks of ≥ 1/8 of the smaller side) that nothing identifiable survives.
pub fn mask_whole(frame: &mut FrameMut<'_>, style: MaskStyle) {
    let l = frame.layout;
    let mut cov = Coverage::new(l.width, l.height);
    cov.fill_all();
    let coarse = match style {
        MaskStyle::Fill { .. } => style,
        MaskStyle::Pixelate { block_px } => MaskStyle::Pixelate {
            block_px: block_px.max(l.width.min(l.height) / 8).max(2),
        },
        MaskStyle::Blur { .. } => MaskStyle::Pixelate {
            block_px: (l.width.min(l.height) / 8).max(2),
        },
    };
    apply(frame, &cov, coarse).expect("coverage made for this frame");
}

/// The "no signal" picture, packed: dark grey with lighter diagonal stripes and neutral chroma, so it reads as
/// "no camera" rather than a dark scene.
pub fn no_signal_frame(format: PixelFormat, width: u32, height: u32) -> Vec<u8> {
    let layout = crate::frame::Layout::packed(format, width, height);
    let mut data = vec![128u8; layout.min_len()];
    let (w, h) = (width as usize, height as usize);
    for y in 0..h {
        for x in 0..w {
            data[y * w + x] = if ((x + y) / 24) % 2 == 0 { 40 } else { 72 };
        }
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{FrameMut, Layout};

    fn plane(format: PixelFormat, w: u32, h: u32) -> (Layout, Vec<u8>) {
        let l = Layout::packed(format, w, h);
        let mut d = vec![0u8; l.min_len()];
        for (i, v) in d.iter_mut().enumerate() {
            *v = (i * 37 % 251) as u8;
        }
        (l, d)
    }

    fn luma(l: &Layout, d: &[u8], x: usize, y: usize) -> u8 {
        d[l.offsets[0] + y * l.strides[0] + x]
    }

    #[test]
    fn fill_sets_covered_luma_and_leaves_the_rest() {
        let (l, mut d) = plane(PixelFormat::I420, 7, 5);
        let orig = d.clone();
        let mut cov = Coverage::new(7, 5);
        cov.add_rect(RectPx {
            x0: 2,
            y0: 1,
            x1: 4,
            y1: 3,
        });
        apply(
            &mut FrameMut::new(l, &mut d).unwrap(),
            &cov,
            MaskStyle::BLACK,
        )
        .unwrap();
        for y in 0..5 {
            for x in 0..7 {
                let inside = (2..4).contains(&x) && (1..3).contains(&y);
                let want = if inside { 16 } else { luma(&l, &orig, x, y) };
                assert_eq!(luma(&l, &d, x, y), want, "({x},{y})");
            }
        }
    }

    #[test]
    fn chroma_hidden_when_any_luma_of_its_2x2_covered() {
        let (l, mut d) = plane(PixelFormat::I420, 7, 5);
        let orig = d.clone();
        let mut cov = Coverage::new(7, 5);
        // Luma (3,3) lies in chroma sample (1,1) only.
        cov.add_rect(RectPx {
            x0: 3,
            y0: 3,
            x1: 4,
            y1: 4,
        });
        apply(
            &mut FrameMut::new(l, &mut d).unwrap(),
            &cov,
            MaskStyle::BLACK,
        )
        .unwrap();
        let (cw, ch) = l.chroma_size();
        for cy in 0..ch {
            for cx in 0..cw {
                let (u, v) = (
                    l.offsets[1] + cy * l.strides[1] + cx,
                    l.offsets[2] + cy * l.strides[2] + cx,
                );
                if (cx, cy) == (1, 1) {
                    assert_eq!((d[u], d[v]), (128, 128));
                } else {
                    assert_eq!((d[u], d[v]), (orig[u], orig[v]), "chroma ({cx},{cy})");
                }
            }
        }
    }

    #[test]
    fn odd_width_nv12_last_column_chroma_masked() {
        let (l, mut d) = plane(PixelFormat::Nv12, 5, 3);
        let mut cov = Coverage::new(5, 3);
        cov.add_rect(RectPx {
            x0: 4,
            y0: 2,
            x1: 5,
            y1: 3,
        });
        apply(
            &mut FrameMut::new(l, &mut d).unwrap(),
            &cov,
            MaskStyle::Fill { y: 1, u: 2, v: 3 },
        )
        .unwrap();
        assert_eq!(luma(&l, &d, 4, 2), 1);
        // Chroma is 3x2 samples, interleaved UV; sample (2,1) covers luma (4..6, 2..4).
        let i = l.offsets[1] + l.strides[1] + 2 * 2;
        assert_eq!((d[i], d[i + 1]), (2, 3));
        assert_ne!((d[l.offsets[1]], d[l.offsets[1] + 1]), (2, 3));
    }

    #[test]
    fn pixelate_sets_covered_pixels_to_block_mean_of_covered_pixels() {
        let (l, mut d) = plane(PixelFormat::I420, 9, 9);
        let orig = d.clone();
        let mut cov = Coverage::new(9, 9);
        cov.add_rect(RectPx {
            x0: 1,
            y0: 1,
            x1: 6,
            y1: 3,
        });
        apply(
            &mut FrameMut::new(l, &mut d).unwrap(),
            &cov,
            MaskStyle::Pixelate { block_px: 4 },
        )
        .unwrap();
        // Block (0..4, 0..4) holds covered pixels x 1..4, y 1..3; block (4..8, 0..4) holds x 4..6, y 1..3.
        let mean = |xs: std::ops::Range<usize>| {
            let v: Vec<u64> = (1..3)
                .flat_map(|y| xs.clone().map(move |x| (x, y)))
                .map(|(x, y)| u64::from(luma(&l, &orig, x, y)))
                .collect();
            ((v.iter().sum::<u64>() + v.len() as u64 / 2) / v.len() as u64) as u8
        };
        let (m0, m1) = (mean(1..4), mean(4..6));
        for y in 0..9 {
            for x in 0..9 {
                let want = match (x, y) {
                    (1..=3, 1..=2) => m0,
                    (4..=5, 1..=2) => m1,
                    _ => luma(&l, &orig, x, y),
                };
                assert_eq!(luma(&l, &d, x, y), want, "({x},{y})");
            }
        }
    }

    #[test]
    fn rect_outside_frame_is_clipped() {
        let mut cov = Coverage::new(5, 3);
        cov.add_rect(RectPx {
            x0: -10,
            y0: -10,
            x1: 2,
            y1: 1,
        });
        cov.add_rect(RectPx {
            x0: 50,
            y0: 0,
            x1: 60,
            y1: 3,
        });
        assert_eq!(cov.count(), 2);
        assert!(cov.is_covered(0, 0) && cov.is_covered(1, 0) && !cov.is_covered(2, 0));
    }

    #[test]
    fn polygon_covers_pixels_whose_centre_is_inside_including_edges() {
        let mut cov = Coverage::new(4, 4);
        cov.add_polygon(&Polygon(vec![
            [0.0, 0.0],
            [1.0, 0.0],
            [1.0, 0.5],
            [0.0, 0.5],
        ]));
        for y in 0..4 {
            for x in 0..4 {
                assert_eq!(cov.is_covered(x, y), y < 2, "({x},{y})");
            }
        }
        // A triangle: the diagonal splits pixels by their centres.
        let mut tri = Coverage::new(4, 4);
        tri.add_polygon(&Polygon(vec![[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]));
        assert_eq!(tri.count(), 6);
        assert!(
            tri.is_covered(0, 2)
                && !tri.is_covered(0, 3)
                && tri.is_covered(2, 0)
                && !tri.is_covered(3, 0)
        );
        // Fewer than three points cover nothing.
        let mut none = Coverage::new(4, 4);
        none.add_polygon(&Polygon(vec![[0.0, 0.0], [1.0, 1.0]]));
        assert!(none.is_empty());
    }

    #[test]
    fn padded_stride_rows_untouched() {
        let (w, h) = (5u32, 3u32);
        let l = Layout {
            format: PixelFormat::I420,
            width: w,
            height: h,
            strides: [8, 4, 4],
            offsets: [0, 24, 24 + 8],
        };
        let mut d = vec![7u8; l.min_len() + 4];
        let mut cov = Coverage::new(w, h);
        cov.fill_all();
        apply(
            &mut FrameMut::new(l, &mut d).unwrap(),
            &cov,
            MaskStyle::BLACK,
        )
        .unwrap();
        for y in 0..3 {
            for x in 0..8 {
                assert_eq!(d[y * 8 + x], if x < 5 { 16 } else { 7 }, "({x},{y})");
            }
        }
    }

    #[test]
    fn blur_replaces_covered_pixels_with_local_mean() {
        let (l, mut d) = plane(PixelFormat::I420, 16, 8);
        for y in 0..8 {
            for x in 0..16 {
                d[y * 16 + x] = if x < 8 { 0 } else { 200 };
            }
        }
        let mut cov = Coverage::new(16, 8);
        cov.add_rect(RectPx {
            x0: 6,
            y0: 0,
            x1: 10,
            y1: 8,
        });
        apply(
            &mut FrameMut::new(l, &mut d).unwrap(),
            &cov,
            MaskStyle::Blur { radius_px: 2 },
        )
        .unwrap();
        let row: Vec<u8> = (0..16).map(|x| d[3 * 16 + x]).collect();
        assert_eq!(&row[..6], &[0; 6]);
        assert_eq!(&row[10..], &[200; 6]);
        assert!(
            row[6] > 0 && row[6] < row[7] && row[7] < row[8] && row[8] < row[9] && row[9] < 200,
            "{row:?}"
        );
    }

    #[test]
    fn mask_whole_leaves_no_detail() {
        let (l, mut d) = plane(PixelFormat::I420, 64, 48);
        for y in 0..48 {
            for x in 0..64 {
                d[y * 64 + x] = if (x + y) % 2 == 0 { 0 } else { 255 };
            }
        }
        mask_whole(
            &mut FrameMut::new(l, &mut d).unwrap(),
            MaskStyle::pixelate(),
        );
        // Blocks are ≥ 48/8 = 6 px wide and aligned at 16: every 16-px block is uniform.
        for y in 0..48 {
            for x in 0..64 {
                assert_eq!(
                    d[y * 64 + x],
                    d[(y / 16 * 16) * 64 + x / 16 * 16],
                    "({x},{y})"
                );
            }
        }
        let mut f = plane(PixelFormat::Nv12, 9, 7);
        mask_whole(&mut FrameMut::new(f.0, &mut f.1).unwrap(), MaskStyle::BLACK);
        assert!(f.1[..63].iter().all(|&v| v == 16));
        assert!(f.1[63..].iter().all(|&v| v == 128));
    }

    #[test]
    fn clear_and_invert_keep_coverage_consistent() {
        let mut cov = Coverage::new(6, 4);
        cov.add_rect(RectPx {
            x0: 1,
            y0: 1,
            x1: 3,
            y1: 3,
        });
        cov.invert();
        assert_eq!(cov.count(), 24 - 4);
        assert!(!cov.is_covered(1, 1) && cov.is_covered(0, 0));
        cov.clear();
        assert!(cov.is_empty());
        cov.fill_all();
        assert!(cov.is_full());
    }

    #[test]
    fn style_names_parse_and_unknown_lists_valid_ones() {
        assert_eq!(MaskStyle::parse("fill"), Ok(MaskStyle::BLACK));
        let err = MaskStyle::parse("mosaic").unwrap_err();
        assert!(err.contains("pixelate, blur, fill"), "{err}");
    }
}
