//! Appearance as a colour histogram of a person's torso (Y, U and V in 4 bins each: 64 bins, normalised):
//! cheap, and enough to tell a red coat from a grey one when a track has to be found again.

use detect::BBox;
use mask::FrameRef;

pub const BINS: usize = 64;

#[derive(Debug, Clone, PartialEq)]
pub struct Hist(pub [f32; BINS]);

impl Hist {
    /// All weight in one bin (tests).
    pub fn one_hot(bin: usize) -> Hist {
        let mut h = [0.0; BINS];
        h[bin % BINS] = 1.0;
        Hist(h)
    }

    /// `(1 - w)·self + w·other`.
    pub fn blend(&self, other: &Hist, w: f32) -> Hist {
        let mut h = [0.0; BINS];
        for (i, v) in h.iter_mut().enumerate() {
            *v = (1.0 - w) * self.0[i] + w * other.0[i];
        }
        Hist(h)
    }
}

/// Bhattacharyya coefficient: 1 for the same distribution, 0 for disjoint ones.
pub fn similarity(a: &Hist, b: &Hist) -> f32 {
    a.0.iter().zip(&b.0).map(|(x, y)| (x * y).sqrt()).sum()
}

/// The histogram of the box's torso (the middle 60% across, 15–60% down), sampled every other pixel.
pub fn histogram(frame: &FrameRef<'_>, b: &BBox) -> Hist {
    let (w, h) = (frame.width() as f32, frame.height() as f32);
    let x0 = (b.x0 + 0.2 * b.width()).clamp(0.0, w - 1.0) as usize;
    let x1 = (b.x1 - 0.2 * b.width()).clamp(0.0, w - 1.0) as usize;
    let y0 = (b.y0 + 0.15 * b.height()).clamp(0.0, h - 1.0) as usize;
    let y1 = (b.y0 + 0.6 * b.height()).clamp(0.0, h - 1.0) as usize;
    let mut hist = [0.0f32; BINS];
    let mut n = 0.0;
    for y in (y0..=y1).step_by(2) {
        for x in (x0..=x1).step_by(2) {
            let (u, v) = frame.uv(x / 2, y / 2);
            let bin =
                (frame.y(x, y) as usize >> 6) * 16 + (u as usize >> 6) * 4 + (v as usize >> 6);
            hist[bin] += 1.0;
            n += 1.0;
        }
    }
    if n > 0.0 {
        for v in &mut hist {
            *v /= n;
        }
    }
    Hist(hist)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mask::{Layout, PixelFormat};

    #[test]
    fn a_red_coat_and_a_grey_coat_differ_and_a_coat_matches_itself() {
        let (w, h) = (64u32, 64u32);
        let layout = Layout::packed(PixelFormat::I420, w, h);
        let mut data = vec![128u8; layout.min_len()];
        // The right half reddish (V high), the left half grey.
        let (cw, ch) = layout.chroma_size();
        for cy in 0..ch {
            for cx in cw / 2..cw {
                data[layout.offsets[2] + cy * layout.strides[2] + cx] = 230;
            }
        }
        let f = FrameRef::new(layout, &data).unwrap();
        let left = BBox {
            x0: 2.0,
            y0: 2.0,
            x1: 28.0,
            y1: 60.0,
        };
        let right = BBox {
            x0: 36.0,
            y0: 2.0,
            x1: 62.0,
            y1: 60.0,
        };
        let (l, r) = (histogram(&f, &left), histogram(&f, &right));
        assert!((similarity(&l, &l) - 1.0).abs() < 1e-4);
        assert!(similarity(&l, &r) < 0.1, "{}", similarity(&l, &r));
    }
}
