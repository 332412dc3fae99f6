//! Motion gate: a scheduled detection is skipped when nothing in the picture has changed since the last one
//! (an empty corridor at night, a person standing still), but never for longer than the track hold, so a
//! still person is re-confirmed at least once per hold and no track can age out unseen.
//!
//! "Changed" is judged on 16×16-pixel cells of luma: a cell whose mean moved by `THRESHOLD` levels since the
//! last detection's frame means motion there. Cell means average out sensor noise; a person 20 px wide entering
//! covers whole cells and moves their means by far more than the threshold.

use mask::FrameRef;

const CELL: usize = 16;
/// Luma levels (0–255) a cell's mean must move by to count as motion.
const THRESHOLD: u16 = 4;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellMeans {
    w: usize,
    h: usize,
    means: Vec<u16>,
}

impl CellMeans {
    /// Means of the luma of each 16×16 cell (every 2nd pixel of every 2nd row is sampled).
    pub fn of(frame: &FrameRef<'_>) -> CellMeans {
        let (fw, fh) = (frame.width() as usize, frame.height() as usize);
        let (w, h) = (fw.div_ceil(CELL), fh.div_ceil(CELL));
        let mut sums = vec![0u32; w * h];
        let mut counts = vec![0u32; w * h];
        for y in (0..fh).step_by(2) {
            let row = (y / CELL) * w;
            for x in (0..fw).step_by(2) {
                let c = row + x / CELL;
                sums[c] += u32::from(frame.y(x, y));
                counts[c] += 1;
            }
        }
        let means = sums
            .iter()
            .zip(&counts)
            .map(|(s, n)| (s / (*n).max(1)) as u16)
            .collect();
        CellMeans { w, h, means }
    }

    /// Whether any cell moved by the threshold or more (a different size always counts as a change).
    pub fn differs(&self, other: &CellMeans) -> bool {
        self.w != other.w
            || self.h != other.h
            || self
                .means
                .iter()
                .zip(&other.means)
                .any(|(a, b)| a.abs_diff(*b) >= THRESHOLD)
    }
}

/// The reference a detection left, and how long since a full detection ran.
#[derive(Debug, Default)]
pub struct MotionGate {
    reference: Option<CellMeans>,
    /// Frames since the last detection that ran.
    since_detection: u64,
}

impl MotionGate {
    /// Whether the scheduled detection may be skipped for this frame: the picture is as it was at the last
    /// detection, and that was fewer than `max_gap` frames ago.
    pub fn may_skip(&mut self, now: &CellMeans, max_gap: u64) -> bool {
        self.since_detection += 1;
        let still = self.reference.as_ref().is_some_and(|r| !r.differs(now));
        still && self.since_detection < max_gap
    }

    /// A detection ran on a frame that looked like `now`.
    pub fn detected(&mut self, now: CellMeans) {
        self.reference = Some(now);
        self.since_detection = 0;
    }

    /// Forgets the reference (the detection failed, or the view changed): the next scheduled detection runs.
    pub fn reset(&mut self) {
        self.reference = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mask::{Layout, PixelFormat};

    fn frame(fill: impl Fn(usize, usize) -> u8) -> (Layout, Vec<u8>) {
        let l = Layout::packed(PixelFormat::I420, 320, 240);
        let mut d = vec![128u8; l.min_len()];
        for y in 0..240 {
            for x in 0..320 {
                d[y * 320 + x] = fill(x, y);
            }
        }
        (l, d)
    }

    #[test]
    fn noise_is_still_a_small_person_entering_is_motion() {
        let (l, a) = frame(|x, y| ((x * 3 + y * 5) % 200) as u8);
        // ±2 levels of noise on every pixel.
        let (_, noisy) = frame(|x, y| {
            (((x * 3 + y * 5) % 200) as i32 + ((x * 7 + y * 13) % 5) as i32 - 2).clamp(0, 255) as u8
        });
        // A 12×24 px figure 60 levels brighter.
        let (_, person) = frame(|x, y| {
            let v = ((x * 3 + y * 5) % 200) as u8;
            if (100..112).contains(&x) && (50..74).contains(&y) {
                v.saturating_add(60)
            } else {
                v
            }
        });
        let m = |d: &Vec<u8>| CellMeans::of(&FrameRef::new(l, d).unwrap());
        assert!(!m(&a).differs(&m(&noisy)));
        assert!(m(&a).differs(&m(&person)));
    }

    #[test]
    fn the_gate_skips_only_a_still_picture_and_never_past_the_gap() {
        let (l, a) = frame(|x, _| x as u8);
        let (_, b) = frame(|x, y| if y < 16 && x < 16 { 255 } else { x as u8 });
        let ma = CellMeans::of(&FrameRef::new(l, &a).unwrap());
        let mb = CellMeans::of(&FrameRef::new(l, &b).unwrap());
        let mut g = MotionGate::default();
        // No reference yet: detect.
        assert!(!g.may_skip(&ma, 10));
        g.detected(ma.clone());
        assert!(g.may_skip(&ma, 3));
        assert!(g.may_skip(&ma, 3));
        // The third frame since the detection reaches the gap: detect.
        assert!(!g.may_skip(&ma, 3));
        g.detected(ma.clone());
        assert!(!g.may_skip(&mb, 10), "a changed corner must be detected");
        g.reset();
        assert!(!g.may_skip(&ma, 10));
    }
}
