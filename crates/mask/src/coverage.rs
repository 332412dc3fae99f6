//! Which luma pixels of a frame must be hidden. Detections arrive as pixel rectangles and privacy zones as
//! normalized polygons; both are rasterised into one per-pixel `Coverage` that tracks the bounding box of
//! what it holds, so masking and clearing only touch that box and a small mask on a large frame stays cheap.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Pixel rectangle, half-open [x0,x1)×[y0,y1), in frame pixels; may extend beyond the frame (clipped on use).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RectPx {
    pub x0: i32,
    pub y0: i32,
    pub x1: i32,
    pub y1: i32,
}

/// Polygon in normalized frame coordinates (0..1 on both axes); points may lie outside (clipped on use).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Polygon(pub Vec<[f32; 2]>);

/// Half-open box (x0, y0, x1, y1) in pixels; empty when x0 >= x1 or y0 >= y1.
pub(crate) type BoxPx = (usize, usize, usize, usize);

/// Per-luma-pixel coverage bitmap: which pixels must be hidden.
#[derive(Clone)]
pub struct Coverage {
    width: u32,
    height: u32,
    /// One byte per pixel, 0 or 1, row-major with stride `width`. Bytes (not bits) keep the hot loops simple.
    bits: Vec<u8>,
    /// Box holding every covered pixel (it may be larger than the tight box after `invert`); empty box when
    /// nothing was added, so `apply` returns at once.
    bbox: BoxPx,
}

impl fmt::Debug for Coverage {
    // The bitmap is a megabyte at 720p; print its summary, not its bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Coverage")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("bbox", &self.bbox)
            .field("count", &self.count())
            .finish()
    }
}

impl Coverage {
    /// An empty coverage for a `width`×`height` frame.
    pub fn new(width: u32, height: u32) -> Coverage {
        Coverage {
            width,
            height,
            bits: vec![0; width as usize * height as usize],
            bbox: Self::EMPTY_BOX,
        }
    }

    const EMPTY_BOX: BoxPx = (usize::MAX, usize::MAX, 0, 0);

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    /// Uncovers everything (only the dirty box is rewritten, so per-frame reuse is cheap).
    pub fn clear(&mut self) {
        if let Some((x0, y0, x1, y1)) = self.bounds() {
            let w = self.width as usize;
            for y in y0..y1 {
                self.bits[y * w + x0..y * w + x1].fill(0);
            }
        }
        self.bbox = Self::EMPTY_BOX;
    }

    /// Covers the rectangle, clipped to the frame; an empty or wholly outside rectangle covers nothing.
    pub fn add_rect(&mut self, r: RectPx) {
        let (w, h) = (self.width as i64, self.height as i64);
        let x0 = i64::from(r.x0).clamp(0, w) as usize;
        let x1 = i64::from(r.x1).clamp(0, w) as usize;
        let y0 = i64::from(r.y0).clamp(0, h) as usize;
        let y1 = i64::from(r.y1).clamp(0, h) as usize;
        if x0 >= x1 || y0 >= y1 {
            return;
        }
        let w = self.width as usize;
        for y in y0..y1 {
            self.bits[y * w + x0..y * w + x1].fill(1);
        }
        self.grow((x0, y0, x1, y1));
    }

    /// Covers pixel (x, y) iff its centre ((x+0.5)/w, (y+0.5)/h) lies inside the polygon by the even-odd
    /// rule. Only centres count (a pixel the outline merely grazes stays uncovered), which keeps the result
    /// exact and testable; an edge on the frame border still covers the border pixels, whose centres are
    /// inside. A centre exactly on the outline counts as inside on left/top edges and outside on right/bottom
    /// edges, so two polygons sharing an edge cover each pixel once. Fewer than 3 points, no area, or
    /// non-finite coordinates cover nothing; points outside 0..1 are fine (the result is clipped).
    pub fn add_polygon(&mut self, p: &Polygon) {
        if p.0.len() < 3 || self.bits.is_empty() {
            return;
        }
        // Scale to pixel units in f64 so f32 inputs lose nothing and pixel centres sit at k + 0.5.
        let (fw, fh) = (f64::from(self.width), f64::from(self.height));
        let pts: Vec<(f64, f64)> =
            p.0.iter()
                .map(|&[x, y]| (f64::from(x) * fw, f64::from(y) * fh))
                .collect();
        if pts.iter().any(|&(x, y)| !x.is_finite() || !y.is_finite()) {
            return; // garbage in: cover nothing here; config validation reports it
        }
        let (ymin, ymax) = pts.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &(_, y)| {
            (lo.min(y), hi.max(y))
        });
        // Rows whose centre y+0.5 lies in [ymin, ymax].
        let row_start = (ymin - 0.5).ceil().clamp(0.0, fh) as usize;
        let row_end = ((ymax - 0.5).floor() + 1.0).clamp(0.0, fh) as usize;
        let w = self.width as usize;
        let mut xs: Vec<f64> = Vec::with_capacity(pts.len());
        for y in row_start..row_end {
            let cy = y as f64 + 0.5;
            xs.clear();
            for (i, &(ax, ay)) in pts.iter().enumerate() {
                let (bx, by) = pts[(i + 1) % pts.len()];
                // Half-open in y, so a vertex shared by two edges is crossed once and horizontal edges never.
                if (ay <= cy) != (by <= cy) {
                    xs.push(ax + (cy - ay) / (by - ay) * (bx - ax));
                }
            }
            xs.sort_by(f64::total_cmp);
            for pair in xs.chunks_exact(2) {
                // Pixel x is inside when its centre x+0.5 lies in [left, right).
                let x0 = (pair[0] - 0.5).ceil().clamp(0.0, fw) as usize;
                let x1 = (pair[1] - 0.5).ceil().clamp(0.0, fw) as usize;
                if x0 < x1 {
                    self.bits[y * w + x0..y * w + x1].fill(1);
                    self.grow((x0, y, x1, y + 1));
                }
            }
        }
    }

    /// Covers every pixel.
    pub fn fill_all(&mut self) {
        self.bits.fill(1);
        self.bbox = Self::EMPTY_BOX;
        if !self.bits.is_empty() {
            self.bbox = (0, 0, self.width as usize, self.height as usize);
        }
    }

    /// Whether pixel (x, y) is covered; panics unless x < width and y < height.
    #[inline]
    pub fn is_covered(&self, x: u32, y: u32) -> bool {
        assert!(
            x < self.width && y < self.height,
            "({x},{y}) outside coverage"
        );
        self.bits[y as usize * self.width as usize + x as usize] != 0
    }

    /// Number of covered luma pixels.
    pub fn count(&self) -> u64 {
        let Some((x0, y0, x1, y1)) = self.bounds() else {
            return 0;
        };
        let w = self.width as usize;
        (y0..y1)
            .map(|y| {
                self.bits[y * w + x0..y * w + x1]
                    .iter()
                    .map(|&b| u64::from(b))
                    .sum::<u64>()
            })
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.count() == 0
    }

    /// Whether every pixel is covered (an empty 0×0 coverage is not full).
    pub fn is_full(&self) -> bool {
        !self.bits.is_empty() && self.count() == self.bits.len() as u64
    }

    /// Swaps covered and uncovered: for recording zones, where the zone is kept and everything else hidden.
    pub fn invert(&mut self) {
        for b in &mut self.bits {
            *b ^= 1;
        }
        // The tight box of the complement is not cheap to know; the whole frame is a safe superset.
        self.bbox = (0, 0, self.width as usize, self.height as usize);
        if self.is_empty() {
            self.bbox = Self::EMPTY_BOX;
        }
    }

    fn grow(&mut self, (x0, y0, x1, y1): BoxPx) {
        let b = &mut self.bbox;
        *b = (b.0.min(x0), b.1.min(y0), b.2.max(x1), b.3.max(y1));
    }

    /// The dirty box (superset of covered pixels), or None when nothing was covered since `clear`.
    pub(crate) fn bounds(&self) -> Option<BoxPx> {
        let (x0, y0, x1, y1) = self.bbox;
        (x0 < x1 && y0 < y1).then_some(self.bbox)
    }

    /// Coverage bytes of row `y` between columns `x0..x1`.
    #[inline]
    pub(crate) fn row(&self, y: usize, x0: usize, x1: usize) -> &[u8] {
        let w = self.width as usize;
        &self.bits[y * w + x0..y * w + x1]
    }

    /// Chroma-resolution coverage over the chroma box of `bounds`: a chroma sample (cx, cy) is covered iff
    /// any luma pixel it spans (2cx..2cx+1 × 2cy..2cy+1, clipped) is covered, so nothing leaks through the
    /// colour planes (privacy first).
    pub(crate) fn chroma(&self) -> Option<ChromaCoverage> {
        let (x0, y0, x1, y1) = self.bounds()?;
        let (cx0, cy0, cx1, cy1) = (x0 / 2, y0 / 2, x1.div_ceil(2), y1.div_ceil(2));
        let stride = cx1 - cx0;
        let mut bits = vec![0u8; stride * (cy1 - cy0)];
        for y in y0..y1 {
            let out = &mut bits[(y / 2 - cy0) * stride..][..stride];
            for (i, &b) in self.row(y, x0, x1).iter().enumerate() {
                out[(x0 + i) / 2 - cx0] |= b;
            }
        }
        Some(ChromaCoverage {
            bits,
            stride,
            bbox: (cx0, cy0, cx1, cy1),
        })
    }
}

/// Coverage at chroma resolution, stored only for its box (so a small mask costs a small buffer).
pub(crate) struct ChromaCoverage {
    bits: Vec<u8>,
    stride: usize,
    pub(crate) bbox: BoxPx,
}

impl ChromaCoverage {
    /// Coverage bytes of chroma row `cy` between columns `x0..x1` (within the box).
    #[inline]
    pub(crate) fn row(&self, cy: usize, x0: usize, x1: usize) -> &[u8] {
        let (bx0, by0, _, _) = self.bbox;
        let start = (cy - by0) * self.stride;
        &self.bits[start + x0 - bx0..start + x1 - bx0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect(x0: i32, y0: i32, x1: i32, y1: i32) -> RectPx {
        RectPx { x0, y0, x1, y1 }
    }

    /// Coverage as rows of '#' (covered) and '.' for readable expectations.
    fn picture(c: &Coverage) -> Vec<String> {
        (0..c.height())
            .map(|y| {
                (0..c.width())
                    .map(|x| if c.is_covered(x, y) { '#' } else { '.' })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn rect_covers_half_open_range() {
        let mut c = Coverage::new(5, 3);
        c.add_rect(rect(1, 1, 3, 2));
        assert_eq!(picture(&c), [".....", ".##..", "....."]);
        assert_eq!(c.count(), 2);
    }

    #[test]
    fn rect_outside_frame_is_clipped() {
        let mut c = Coverage::new(5, 3);
        c.add_rect(rect(-10, -10, 2, 1));
        c.add_rect(rect(4, 2, 50, 60));
        assert_eq!(picture(&c), ["##...", ".....", "....#"]);
    }

    #[test]
    fn rect_wholly_outside_or_inverted_covers_nothing() {
        let mut c = Coverage::new(5, 3);
        c.add_rect(rect(5, 0, 9, 3));
        c.add_rect(rect(-4, 0, 0, 3));
        c.add_rect(rect(0, 3, 5, 7));
        c.add_rect(rect(3, 1, 2, 2));
        c.add_rect(rect(i32::MIN, i32::MIN, i32::MIN + 1, i32::MAX));
        assert!(c.is_empty());
        assert_eq!(c.bounds(), None);
    }

    #[test]
    fn polygon_covers_pixels_whose_centre_is_inside() {
        // Triangle (0,0),(1,0),(0,1) on 4x4: centre (x+.5, y+.5) inside iff x + y + 1 < 4, i.e. x + y <= 2
        // (pixels with x + y = 3 have centres exactly on the hypotenuse, a right edge: outside).
        let mut c = Coverage::new(4, 4);
        c.add_polygon(&Polygon(vec![[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]));
        assert_eq!(picture(&c), ["###.", "##..", "#...", "...."]);
    }

    #[test]
    fn polygon_on_edge_covers_edge_pixels() {
        // The whole frame, edges on the frame border: every pixel, border ones included.
        let mut c = Coverage::new(5, 3);
        c.add_polygon(&Polygon(vec![
            [0.0, 0.0],
            [1.0, 0.0],
            [1.0, 1.0],
            [0.0, 1.0],
        ]));
        assert!(c.is_full());
        // A strip along the right edge, one pixel wide (x from 0.8 = 4 px): the last column.
        let mut c = Coverage::new(5, 3);
        c.add_polygon(&Polygon(vec![
            [0.8, 0.0],
            [1.0, 0.0],
            [1.0, 1.0],
            [0.8, 1.0],
        ]));
        assert_eq!(picture(&c), ["....#", "....#", "....#"]);
    }

    #[test]
    fn polygon_crossing_frame_edges_is_clipped() {
        // Square from -0.5 to 0.5 on both axes on a 4x4 frame: the top-left 2x2 quarter.
        let mut c = Coverage::new(4, 4);
        c.add_polygon(&Polygon(vec![
            [-0.5, -0.5],
            [0.5, -0.5],
            [0.5, 0.5],
            [-0.5, 0.5],
        ]));
        assert_eq!(picture(&c), ["##..", "##..", "....", "...."]);
        // Far larger than the frame: everything.
        let mut c = Coverage::new(4, 4);
        c.add_polygon(&Polygon(vec![[-3.0, -3.0], [9.0, -3.0], [-3.0, 9.0]]));
        assert!(c.is_full());
        // Wholly to the right: nothing.
        let mut c = Coverage::new(4, 4);
        c.add_polygon(&Polygon(vec![[1.5, 0.0], [2.0, 0.0], [2.0, 1.0]]));
        assert!(c.is_empty());
    }

    #[test]
    fn degenerate_polygon_covers_nothing() {
        let mut c = Coverage::new(4, 4);
        c.add_polygon(&Polygon(vec![]));
        c.add_polygon(&Polygon(vec![[0.5, 0.5]]));
        c.add_polygon(&Polygon(vec![[0.0, 0.0], [1.0, 1.0]]));
        // Collinear points: no area.
        c.add_polygon(&Polygon(vec![[0.0, 0.0], [0.5, 0.5], [1.0, 1.0]]));
        // Non-finite coordinates.
        c.add_polygon(&Polygon(vec![[0.0, 0.0], [f32::NAN, 0.0], [0.0, 1.0]]));
        c.add_polygon(&Polygon(vec![[0.0, 0.0], [f32::INFINITY, 0.0], [0.0, 1.0]]));
        assert!(c.is_empty());
    }

    #[test]
    fn polygon_uses_even_odd_rule() {
        // Outer square with an inner square hole joined by a two-way bridge: the hole stays uncovered.
        let (t, u) = (1.0 / 3.0, 2.0 / 3.0);
        let mut c = Coverage::new(6, 6);
        c.add_polygon(&Polygon(vec![
            [0.0, 0.0],
            [1.0, 0.0],
            [1.0, 1.0],
            [0.0, 1.0],
            [0.0, 0.0],
            [t, t],
            [t, u],
            [u, u],
            [u, t],
            [t, t],
        ]));
        assert_eq!(
            picture(&c),
            ["######", "######", "##..##", "##..##", "######", "######"]
        );
    }

    #[test]
    fn concave_polygon_leaves_its_notch_uncovered() {
        // A "U": x 0..1, y 0..1 with the notch x 1/3..2/3, y 0..2/3 cut out (6x6 frame).
        let (t, u) = (1.0 / 3.0, 2.0 / 3.0);
        let mut c = Coverage::new(6, 6);
        c.add_polygon(&Polygon(vec![
            [0.0, 0.0],
            [t, 0.0],
            [t, u],
            [u, u],
            [u, 0.0],
            [1.0, 0.0],
            [1.0, 1.0],
            [0.0, 1.0],
        ]));
        assert_eq!(
            picture(&c),
            ["##..##", "##..##", "##..##", "##..##", "######", "######"]
        );
    }

    #[test]
    fn clear_invert_fill_all_keep_counts_consistent() {
        let mut c = Coverage::new(6, 4);
        c.add_rect(rect(1, 1, 3, 3));
        assert_eq!(c.count(), 4);
        c.invert();
        assert_eq!(c.count(), 24 - 4);
        assert!(!c.is_covered(1, 1) && c.is_covered(0, 0) && c.is_covered(5, 3));
        c.invert();
        assert_eq!(picture(&c), ["......", ".##...", ".##...", "......"]);
        c.clear();
        assert!(c.is_empty() && !c.is_full());
        assert!(c.bits.iter().all(|&b| b == 0));
        c.fill_all();
        assert!(c.is_full() && c.count() == 24);
        c.invert();
        assert!(c.is_empty());
        assert_eq!(c.bounds(), None);
        c.invert();
        assert!(c.is_full());
    }

    #[test]
    fn clear_after_polygon_uncovers_everything() {
        let mut c = Coverage::new(7, 5);
        c.add_polygon(&Polygon(vec![[0.1, 0.1], [0.9, 0.3], [0.4, 0.9]]));
        c.add_rect(rect(5, 3, 7, 5));
        assert!(!c.is_empty());
        c.clear();
        assert!(c.bits.iter().all(|&b| b == 0));
        assert!(c.is_empty());
    }

    #[test]
    fn chroma_coverage_is_any_of_the_2x2() {
        // 5x3 luma -> 3x2 chroma. Luma (4,2) lies in chroma (2,1); luma (1,0) in chroma (0,0).
        let mut c = Coverage::new(5, 3);
        c.add_rect(rect(4, 2, 5, 3));
        c.add_rect(rect(1, 0, 2, 1));
        let cc = c.chroma().unwrap();
        assert_eq!(cc.bbox, (0, 0, 3, 2));
        assert_eq!(cc.row(0, 0, 3), [1, 0, 0]);
        assert_eq!(cc.row(1, 0, 3), [0, 0, 1]);
        assert!(Coverage::new(5, 3).chroma().is_none());
    }

    #[test]
    fn zero_sized_coverage_is_empty_and_not_full() {
        let mut c = Coverage::new(0, 0);
        c.add_rect(rect(0, 0, 5, 5));
        c.add_polygon(&Polygon(vec![[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]));
        c.fill_all();
        c.invert();
        assert!(c.is_empty() && !c.is_full());
    }
}
