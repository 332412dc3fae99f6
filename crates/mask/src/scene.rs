//! Scene fingerprints for re-aim and tamper detection (PIPA Art. 25(5) forbids pointing a camera elsewhere
//! than its published range). A fingerprint is a coarse summary of one frame's luma — a 64×48 area-averaged
//! grid, its contrast, and the sharpness of the full-resolution picture — small enough to keep as a camera's
//! reference view. `compare` tells whether a later frame still shows that view, and if not, how it changed:
//! turned (structure moved, with the estimated shift), covered (dark, uniform, or partly taped over), blinded
//! (washed out), defocused (same layout, edges gone). Everything is normalized by the frame's own brightness and
//! contrast, so lighting that drifts is not a change; the structure score is a median over blocks, so people
//! walking through part of the view are not one either.

use crate::frame::FrameRef;
use serde::{Deserialize, Serialize};

/// Grid the luma is averaged into (cells across, cells down).
pub const GRID_W: usize = 64;
pub const GRID_H: usize = 48;
/// Cells per side of a block of the structure score: 8×6 blocks.
const BLOCK: usize = 8;
/// Fixed-point scale of the stored grid (1/16 luma steps keep dark, low-contrast scenes apart).
const GRID_SCALE: f32 = 16.0;
/// Largest shift searched, in cells: ±12 across (19% of the width), ±9 down (19% of the height).
const MAX_SHIFT_X: i32 = 12;
const MAX_SHIFT_Y: i32 = 9;
/// Cells at or below this luma count as dark, at or above the other as saturated (video range 16..235).
const DARK_LUMA: f32 = 28.0;
const BRIGHT_LUMA: f32 = 225.0;

/// A coarse, resolution-independent summary of one frame's luma.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SceneFingerprint {
    pub width: u32,
    pub height: u32,
    /// Area-averaged luma, `GRID_W × GRID_H` row by row, in 1/16 luma steps.
    pub grid: Vec<u16>,
    /// Mean and standard deviation of the grid's luma.
    pub mean: f32,
    pub std: f32,
    /// Mean gradient magnitude of the grid, in luma per cell.
    pub edge_energy: f32,
    /// Full-resolution sharpness: mean squared difference of neighbouring pixels over their variance (so it
    /// does not change with brightness or contrast, only with focus and detail; squared, because the mean
    /// absolute difference across an edge stays the same however much the edge is blurred).
    pub sharpness: f32,
    /// Share of grid cells that are dark / saturated.
    pub dark_frac: f32,
    pub bright_frac: f32,
}

/// How a view compares with its reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SceneVerdict {
    Same,
    /// The structure moved or is another one: the camera was turned (or replaced).
    Turned,
    /// Dark or uniform: lens covered, painted, or the camera sees nothing.
    Covered,
    /// Washed out: a light shone into the lens.
    Blinded,
    /// Same layout, detail gone: the focus was changed or the lens smeared.
    Defocused,
}

impl SceneVerdict {
    /// Metric label and ledger value.
    pub fn as_str(self) -> &'static str {
        match self {
            SceneVerdict::Same => "same",
            SceneVerdict::Turned => "turned",
            SceneVerdict::Covered => "covered",
            SceneVerdict::Blinded => "blinded",
            SceneVerdict::Defocused => "defocused",
        }
    }

    pub const CHANGED: [SceneVerdict; 4] = [
        SceneVerdict::Turned,
        SceneVerdict::Covered,
        SceneVerdict::Blinded,
        SceneVerdict::Defocused,
    ];
}

/// Estimated movement of the scene content between two views: content at reference position (x, y) appears
/// at (x + dx, y + dy) in the current view. Fractions of the frame width and height.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SceneShift {
    pub dx: f32,
    pub dy: f32,
    /// Structure correlation at that shift (1 = identical structure); below ~0.5 the estimate means little.
    pub score: f32,
}

impl SceneShift {
    /// Largest of |dx|, |dy|.
    pub fn magnitude(&self) -> f32 {
        self.dx.abs().max(self.dy.abs())
    }
}

/// The numbers a verdict is made from (all reported, so thresholds can be checked against real footage).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SceneScores {
    /// Median over blocks of the gradient correlation at zero shift (robust to people walking through).
    pub structure: f32,
    /// Gradient correlation over the whole frame at zero shift.
    pub global: f32,
    /// Correlation of the brightness layout (mean and contrast removed); survives blur, not turning.
    pub layout: f32,
    /// Current over reference full-resolution sharpness (1 = as sharp).
    pub sharpness_ratio: f32,
    /// Current over reference contrast (luma standard deviation).
    pub contrast_ratio: f32,
    /// Share of the reference's structured blocks that went flat (part of the lens covered).
    pub flat: f32,
    pub mean_luma: f32,
    pub shift: SceneShift,
}

/// A comparison's result, with a reason a person can read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SceneComparison {
    pub verdict: SceneVerdict,
    pub scores: SceneScores,
    pub reason: String,
}

/// Where `compare` draws its lines. The defaults were set on vtest.avi (people walking, fixed background)
/// against shifted, taped, blinded and blurred versions of it; `tests/scene.rs` prints the margins.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SceneThresholds {
    /// Structure below this is a changed view.
    pub min_structure: f32,
    /// A shift of at least this many cells that correlates `shift_gain` better than zero shift is a turn
    /// even when the structure score alone would pass (a small but clean re-aim).
    pub min_shift_cells: f32,
    pub shift_gain: f32,
    /// Luma standard deviation under which a view is uniform (covered or blinded) whatever the reference.
    pub uniform_std: f32,
    /// Contrast that fell under this share of the reference's, with a mostly dark or saturated picture.
    pub collapsed_contrast: f32,
    /// Share of dark (or saturated) cells that makes a view covered (blinded) when the reference had far
    /// fewer.
    pub dark_frac: f32,
    pub bright_frac: f32,
    /// Mean luma above which a uniform view is blinded rather than covered.
    pub bright_mean: f32,
    /// Share of structured blocks gone flat that makes a view partly covered (or blinded, when they are
    /// bright).
    pub max_flat: f32,
    /// Sharpness under this share of the reference's, with the layout kept, is defocus.
    pub min_sharpness_ratio: f32,
    pub min_layout_for_defocus: f32,
}

impl Default for SceneThresholds {
    fn default() -> Self {
        SceneThresholds {
            min_structure: 0.5,
            min_shift_cells: 1.5,
            shift_gain: 0.15,
            uniform_std: 4.0,
            collapsed_contrast: 0.3,
            dark_frac: 0.8,
            bright_frac: 0.6,
            bright_mean: 180.0,
            max_flat: 0.2,
            min_sharpness_ratio: 0.55,
            min_layout_for_defocus: 0.8,
        }
    }
}

impl SceneFingerprint {
    /// Fingerprints a frame (luma only). Large frames are sampled on a sparser lattice; the grid stays the
    /// same size, so views of different resolutions remain comparable.
    pub fn of(frame: &FrameRef<'_>) -> SceneFingerprint {
        let (w, h) = (frame.width() as usize, frame.height() as usize);
        let stride = frame.layout.strides[0];
        let y0 = frame.layout.offsets[0];
        let luma = |x: usize, y: usize| frame.data[y0 + y * stride + x];
        // Sample about 640 pixels across, whatever the resolution.
        let step = (w / 640).max(1);
        let cell_of_x: Vec<usize> = (0..w).map(|x| (x * GRID_W / w).min(GRID_W - 1)).collect();
        let mut sum = vec![0u64; GRID_W * GRID_H];
        let mut count = vec![0u32; GRID_W * GRID_H];
        for y in (0..h).step_by(step) {
            let row = (y * GRID_H / h).min(GRID_H - 1) * GRID_W;
            let line = &frame.data[y0 + y * stride..y0 + y * stride + w];
            for x in (0..w).step_by(step) {
                let c = row + cell_of_x[x];
                sum[c] += u64::from(line[x]);
                count[c] += 1;
            }
        }
        // Frames smaller than the grid leave cells empty: they take their left (or upper) neighbour.
        let mut cells = vec![0f32; GRID_W * GRID_H];
        for i in 0..cells.len() {
            cells[i] = if count[i] > 0 {
                sum[i] as f32 / count[i] as f32
            } else if i % GRID_W > 0 {
                cells[i - 1]
            } else if i >= GRID_W {
                cells[i - GRID_W]
            } else {
                f32::from(luma(0, 0))
            };
        }
        let grid: Vec<u16> = cells
            .iter()
            .map(|v| (v * GRID_SCALE).round() as u16)
            .collect();
        // Statistics from the stored (quantized) grid, so a fingerprint read back compares the same.
        let g = dequantize(&grid);
        let n = g.len() as f32;
        let mean = g.iter().sum::<f32>() / n;
        let std = (g.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n).sqrt();
        let (gx, gy) = gradients(&g);
        let edge_energy = gx
            .iter()
            .zip(&gy)
            .map(|(a, b)| (a * a + b * b).sqrt())
            .sum::<f32>()
            / n;
        let dark_frac = g.iter().filter(|&&v| v <= DARK_LUMA).count() as f32 / n;
        let bright_frac = g.iter().filter(|&&v| v >= BRIGHT_LUMA).count() as f32 / n;
        // Sharpness on every other sampled row, against the right and lower neighbours.
        let (mut diff, mut s1, mut s2, mut k) = (0u64, 0u64, 0u64, 0u64);
        if w >= 2 && h >= 2 {
            for y in (0..h - 1).step_by(2 * step) {
                for x in (0..w - 1).step_by(step) {
                    let p = i32::from(luma(x, y));
                    let (a, b) = (p - i32::from(luma(x + 1, y)), p - i32::from(luma(x, y + 1)));
                    diff += (a * a + b * b) as u64;
                    s1 += p as u64;
                    s2 += (p * p) as u64;
                    k += 1;
                }
            }
        }
        let sharpness = if k == 0 {
            0.0
        } else {
            let kf = k as f64;
            let m = s1 as f64 / kf;
            let sd = (s2 as f64 / kf - m * m).max(0.0).sqrt();
            (diff as f64 / kf / sd.max(1.0).powi(2)) as f32
        };
        SceneFingerprint {
            width: frame.width(),
            height: frame.height(),
            grid,
            mean,
            std,
            edge_energy,
            sharpness,
            dark_frac,
            bright_frac,
        }
    }

    /// Whether the stored grid has the expected size (a fingerprint read from disk may not).
    pub fn is_well_formed(&self) -> bool {
        self.grid.len() == GRID_W * GRID_H
    }

    /// Covered or blinded on its own, without a reference (a view that cannot become a reference).
    pub fn degenerate(&self, t: &SceneThresholds) -> Option<SceneVerdict> {
        if self.std < t.uniform_std {
            return Some(self.dark_or_bright(t));
        }
        if self.dark_frac >= t.dark_frac {
            return Some(SceneVerdict::Covered);
        }
        if self.bright_frac >= t.bright_frac {
            return Some(SceneVerdict::Blinded);
        }
        None
    }

    fn dark_or_bright(&self, t: &SceneThresholds) -> SceneVerdict {
        if self.mean >= t.bright_mean {
            SceneVerdict::Blinded
        } else {
            SceneVerdict::Covered
        }
    }

    fn cells(&self) -> Vec<f32> {
        dequantize(&self.grid)
    }
}

fn dequantize(grid: &[u16]) -> Vec<f32> {
    grid.iter().map(|&v| f32::from(v) / GRID_SCALE).collect()
}

/// Central-difference gradients of a grid (borders replicated).
fn gradients(g: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let mut gx = vec![0f32; g.len()];
    let mut gy = vec![0f32; g.len()];
    for y in 0..GRID_H {
        for x in 0..GRID_W {
            let at = |x: usize, y: usize| g[y * GRID_W + x];
            let (l, r) = (x.saturating_sub(1), (x + 1).min(GRID_W - 1));
            let (u, d) = (y.saturating_sub(1), (y + 1).min(GRID_H - 1));
            gx[y * GRID_W + x] = (at(r, y) - at(l, y)) / (r - l) as f32;
            gy[y * GRID_W + x] = (at(x, d) - at(x, u)) / (d - u) as f32;
        }
    }
    (gx, gy)
}

/// Gradient-vector correlation of reference cells against current cells moved by (dx, dy), over the cells
/// both views have; `None` when either side is flat there.
fn correlation(
    r: &(Vec<f32>, Vec<f32>),
    c: &(Vec<f32>, Vec<f32>),
    dx: i32,
    dy: i32,
    xs: std::ops::Range<usize>,
    ys: std::ops::Range<usize>,
) -> Option<f32> {
    let (mut num, mut er, mut ec) = (0f64, 0f64, 0f64);
    for y in ys {
        let cy = y as i32 + dy;
        if cy < 0 || cy >= GRID_H as i32 {
            continue;
        }
        for x in xs.clone() {
            let cx = x as i32 + dx;
            if cx < 0 || cx >= GRID_W as i32 {
                continue;
            }
            let i = y * GRID_W + x;
            let j = cy as usize * GRID_W + cx as usize;
            let (rx, ry, qx, qy) = (r.0[i], r.1[i], c.0[j], c.1[j]);
            num += f64::from(rx * qx + ry * qy);
            er += f64::from(rx * rx + ry * ry);
            ec += f64::from(qx * qx + qy * qy);
        }
    }
    // A cell's gradient of 0.25 luma is noise; flat regions have no structure to compare.
    (er > 1.0 && ec > 1.0).then(|| (num / (er * ec).sqrt()) as f32)
}

/// Per-block comparison: the robust structure score — the median block correlation over the blocks that
/// have structure in the reference (the global correlation when fewer than 4 have) — and the share of those
/// blocks that went flat (their share of the frame's edge energy fell below 5% of the reference's: taped,
/// painted or lit over), with the mean luma of the flat ones.
struct Blocks {
    structure: f32,
    flat: f32,
    flat_luma: f32,
}

fn block_scores(
    r: &(Vec<f32>, Vec<f32>),
    c: &(Vec<f32>, Vec<f32>),
    current: &[f32],
    global: f32,
) -> Blocks {
    let energy = |g: &(Vec<f32>, Vec<f32>), bx: usize, by: usize| {
        let mut e = 0f32;
        for y in by * BLOCK..(by + 1) * BLOCK {
            for x in bx * BLOCK..(bx + 1) * BLOCK {
                let i = y * GRID_W + x;
                e += g.0[i] * g.0[i] + g.1[i] * g.1[i];
            }
        }
        e
    };
    let mut blocks = Vec::new();
    for by in 0..GRID_H / BLOCK {
        for bx in 0..GRID_W / BLOCK {
            blocks.push((bx, by, energy(r, bx, by), energy(c, bx, by)));
        }
    }
    let n = blocks.len() as f32;
    let mean_r = blocks.iter().map(|b| b.2).sum::<f32>() / n;
    let mean_c = (blocks.iter().map(|b| b.3).sum::<f32>() / n).max(1e-6);
    let informative: Vec<_> = blocks
        .iter()
        .filter(|b| b.2 >= 0.1 * mean_r && b.2 > 4.0)
        .collect();
    let mut scores: Vec<f32> = informative
        .iter()
        .map(|&&(bx, by, _, _)| {
            correlation(
                r,
                c,
                0,
                0,
                bx * BLOCK..(bx + 1) * BLOCK,
                by * BLOCK..(by + 1) * BLOCK,
            )
            .unwrap_or(0.0)
        })
        .collect();
    // Shares of the frame's energy, so a darker or blurred frame does not look flat.
    let flat: Vec<_> = informative
        .iter()
        .filter(|b| b.3 / mean_c < 0.05 * (b.2 / mean_r))
        .collect();
    let flat_luma = if flat.is_empty() {
        0.0
    } else {
        let mut sum = 0f32;
        for &&&(bx, by, _, _) in &flat {
            for y in by * BLOCK..(by + 1) * BLOCK {
                sum += current[y * GRID_W + bx * BLOCK..y * GRID_W + (bx + 1) * BLOCK]
                    .iter()
                    .sum::<f32>();
            }
        }
        sum / (flat.len() * BLOCK * BLOCK) as f32
    };
    let flat_share = if informative.is_empty() {
        0.0
    } else {
        flat.len() as f32 / informative.len() as f32
    };
    let structure = if scores.len() < 4 {
        global
    } else {
        scores.sort_by(f32::total_cmp);
        let k = scores.len();
        if k % 2 == 1 {
            scores[k / 2]
        } else {
            (scores[k / 2 - 1] + scores[k / 2]) / 2.0
        }
    };
    Blocks {
        structure,
        flat: flat_share,
        flat_luma,
    }
}

/// Correlation of the brightness layouts (mean removed, contrast normalized).
fn layout_score(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len() as f32;
    let (ma, mb) = (a.iter().sum::<f32>() / n, b.iter().sum::<f32>() / n);
    let (mut num, mut va, mut vb) = (0f64, 0f64, 0f64);
    for (x, y) in a.iter().zip(b) {
        let (p, q) = (f64::from(x - ma), f64::from(y - mb));
        num += p * q;
        va += p * p;
        vb += q * q;
    }
    if va <= 1e-6 || vb <= 1e-6 {
        return 0.0;
    }
    (num / (va * vb).sqrt()) as f32
}

/// Best integer shift (then refined to a fraction of a cell) of the current view against the reference.
fn best_shift(r: &(Vec<f32>, Vec<f32>), c: &(Vec<f32>, Vec<f32>)) -> (f32, f32, f32) {
    let score = |dx: i32, dy: i32| {
        // Overlap: reference cells whose shifted position is inside the current grid.
        let xs = (-dx).max(0) as usize..(GRID_W as i32 - dx).min(GRID_W as i32) as usize;
        let ys = (-dy).max(0) as usize..(GRID_H as i32 - dy).min(GRID_H as i32) as usize;
        correlation(r, c, dx, dy, xs, ys).unwrap_or(-1.0)
    };
    let mut table =
        vec![vec![-1f32; (2 * MAX_SHIFT_X + 1) as usize]; (2 * MAX_SHIFT_Y + 1) as usize];
    let (mut best, mut bx, mut by) = (f32::NEG_INFINITY, 0i32, 0i32);
    for dy in -MAX_SHIFT_Y..=MAX_SHIFT_Y {
        for dx in -MAX_SHIFT_X..=MAX_SHIFT_X {
            let s = score(dx, dy);
            table[(dy + MAX_SHIFT_Y) as usize][(dx + MAX_SHIFT_X) as usize] = s;
            // Ties go to the smaller shift.
            if s > best + 1e-6
                || ((s - best).abs() <= 1e-6 && dx.abs() + dy.abs() < bx.abs() + by.abs())
            {
                (best, bx, by) = (s, dx, dy);
            }
        }
    }
    let at = |dx: i32, dy: i32| table[(dy + MAX_SHIFT_Y) as usize][(dx + MAX_SHIFT_X) as usize];
    // Parabola through the peak and its neighbours, per axis.
    let refine = |m: f32, p0: f32, p: f32| {
        let den = m - 2.0 * p0 + p;
        if den.abs() < 1e-6 {
            0.0
        } else {
            (0.5 * (m - p) / den).clamp(-0.5, 0.5)
        }
    };
    let fx = if bx.abs() < MAX_SHIFT_X {
        refine(at(bx - 1, by), best, at(bx + 1, by))
    } else {
        0.0
    };
    let fy = if by.abs() < MAX_SHIFT_Y {
        refine(at(bx, by - 1), best, at(bx, by + 1))
    } else {
        0.0
    };
    (bx as f32 + fx, by as f32 + fy, best)
}

/// Where the scene content of `reference` is in `current`, as fractions of the frame.
pub fn estimate_shift(reference: &SceneFingerprint, current: &SceneFingerprint) -> SceneShift {
    let r = gradients(&reference.cells());
    let c = gradients(&current.cells());
    let (dx, dy, score) = best_shift(&r, &c);
    SceneShift {
        dx: dx / GRID_W as f32,
        dy: dy / GRID_H as f32,
        score,
    }
}

/// Compares a current view with the reference view.
pub fn compare(
    reference: &SceneFingerprint,
    current: &SceneFingerprint,
    t: &SceneThresholds,
) -> SceneComparison {
    let (rc, cc) = (reference.cells(), current.cells());
    let r = gradients(&rc);
    let c = gradients(&cc);
    let global = correlation(&r, &c, 0, 0, 0..GRID_W, 0..GRID_H).unwrap_or(0.0);
    let blocks = block_scores(&r, &c, &cc, global);
    let structure = blocks.structure;
    let layout = layout_score(&rc, &cc);
    let (sdx, sdy, sscore) = best_shift(&r, &c);
    let sharpness_ratio = current.sharpness / reference.sharpness.max(1e-3);
    let contrast_ratio = current.std / reference.std.max(1e-3);
    let scores = SceneScores {
        structure,
        global,
        layout,
        sharpness_ratio,
        contrast_ratio,
        flat: blocks.flat,
        mean_luma: current.mean,
        shift: SceneShift {
            dx: sdx / GRID_W as f32,
            dy: sdy / GRID_H as f32,
            score: sscore,
        },
    };
    let verdict = |v: SceneVerdict, reason: String| SceneComparison {
        verdict: v,
        scores,
        reason,
    };
    // Covered / blinded: the picture lost its contrast, or turned mostly black or white.
    if current.std < t.uniform_std {
        return verdict(
            current.dark_or_bright(t),
            format!(
                "the view is uniform (luma {:.0} ± {:.1})",
                current.mean, current.std
            ),
        );
    }
    if current.dark_frac >= t.dark_frac && reference.dark_frac < t.dark_frac / 2.0 {
        return verdict(
            SceneVerdict::Covered,
            format!(
                "{:.0}% of the view is dark (reference {:.0}%)",
                current.dark_frac * 100.0,
                reference.dark_frac * 100.0
            ),
        );
    }
    if current.bright_frac >= t.bright_frac && reference.bright_frac < t.bright_frac / 2.0 {
        return verdict(
            SceneVerdict::Blinded,
            format!(
                "{:.0}% of the view is saturated (reference {:.0}%)",
                current.bright_frac * 100.0,
                reference.bright_frac * 100.0
            ),
        );
    }
    if contrast_ratio < t.collapsed_contrast && structure < t.min_structure {
        return verdict(
            current.dark_or_bright(t),
            format!(
                "contrast fell to {:.0}% of the reference and the structure is gone ({structure:.2})",
                contrast_ratio * 100.0
            ),
        );
    }
    if blocks.flat >= t.max_flat {
        let v = if blocks.flat_luma >= t.bright_mean {
            SceneVerdict::Blinded
        } else {
            SceneVerdict::Covered
        };
        return verdict(
            v,
            format!(
                "{:.0}% of the view lost its structure (luma {:.0} there)",
                blocks.flat * 100.0,
                blocks.flat_luma
            ),
        );
    }
    // Defocused: the same layout with the fine detail gone (only comparable at the same resolution).
    let same_size = reference.width == current.width && reference.height == current.height;
    if same_size && sharpness_ratio < t.min_sharpness_ratio && layout >= t.min_layout_for_defocus {
        return verdict(
            SceneVerdict::Defocused,
            format!(
                "sharpness fell to {:.0}% of the reference with the layout kept ({layout:.2})",
                sharpness_ratio * 100.0
            ),
        );
    }
    let shift_text = format!(
        "estimated shift {:+.1}% across, {:+.1}% down (match {sscore:.2})",
        scores.shift.dx * 100.0,
        scores.shift.dy * 100.0
    );
    if structure < t.min_structure {
        return verdict(
            SceneVerdict::Turned,
            format!(
                "structure {structure:.2} < {:.2}; {shift_text}",
                t.min_structure
            ),
        );
    }
    if sdx.abs().max(sdy.abs()) >= t.min_shift_cells && sscore - global >= t.shift_gain {
        return verdict(
            SceneVerdict::Turned,
            format!(
                "the view matches better moved than in place ({global:.2} in place); {shift_text}"
            ),
        );
    }
    verdict(
        SceneVerdict::Same,
        format!("structure {structure:.2}, layout {layout:.2}, sharpness {sharpness_ratio:.2}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{Layout, PixelFormat};

    const W: usize = 320;
    const H: usize = 240;

    /// A deterministic "scene": rectangles of many sizes and greys on a smooth gradient, on a canvas wider
    /// and taller than the frame so the camera can be turned across it.
    fn canvas() -> (usize, usize, Vec<u8>) {
        let (cw, ch) = (W * 2, H * 2);
        let mut c: Vec<u8> = (0..cw * ch)
            .map(|i| (60 + (i % cw) * 60 / cw + (i / cw) * 40 / ch) as u8)
            .collect();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for _ in 0..220 {
            let (w, h) = (6 + rnd(60), 6 + rnd(50));
            let (x0, y0) = (rnd(cw - w), rnd(ch - h));
            let v = 30 + rnd(190) as u8;
            for y in y0..y0 + h {
                for x in x0..x0 + w {
                    c[y * cw + x] = v;
                }
            }
        }
        (cw, ch, c)
    }

    /// The frame seen by a camera whose top-left corner is at (ox, oy) on the canvas.
    fn view(ox: usize, oy: usize) -> Vec<u8> {
        let (cw, _, c) = canvas();
        let layout = Layout::packed(PixelFormat::I420, W as u32, H as u32);
        let mut f = vec![128u8; layout.min_len()];
        for y in 0..H {
            f[y * W..(y + 1) * W].copy_from_slice(&c[(oy + y) * cw + ox..(oy + y) * cw + ox + W]);
        }
        f
    }

    fn fp(data: &[u8]) -> SceneFingerprint {
        let layout = Layout::packed(PixelFormat::I420, W as u32, H as u32);
        SceneFingerprint::of(&FrameRef::new(layout, data).unwrap())
    }

    fn home() -> Vec<u8> {
        view(W / 2, H / 2)
    }

    fn verdict_of(current: &[u8]) -> SceneComparison {
        compare(&fp(&home()), &fp(current), &SceneThresholds::default())
    }

    /// Person-sized blobs (upright rectangles with a head) at pseudo-random places.
    fn with_people(mut f: Vec<u8>, n: usize, seed: usize) -> Vec<u8> {
        for k in 0..n {
            let x0 = (seed * 37 + k * 71) % (W - 20);
            let y0 = (seed * 53 + k * 29) % (H - 50);
            let v = [20u8, 200, 90, 160][(seed + k) % 4];
            for y in y0..y0 + 48 {
                for x in x0..x0 + 16 {
                    let head = y < y0 + 10 && !(4..12).contains(&(x - x0));
                    if !head {
                        f[y * W + x] = v;
                    }
                }
            }
        }
        f
    }

    fn map_luma(mut f: Vec<u8>, g: impl Fn(u8) -> u8) -> Vec<u8> {
        for v in &mut f[..W * H] {
            *v = g(*v);
        }
        f
    }

    fn box_blur(f: &[u8], r: usize) -> Vec<u8> {
        let mut out = f.to_vec();
        for y in 0..H {
            for x in 0..W {
                let (mut s, mut n) = (0u32, 0u32);
                for yy in y.saturating_sub(r)..(y + r + 1).min(H) {
                    for xx in x.saturating_sub(r)..(x + r + 1).min(W) {
                        s += u32::from(f[yy * W + xx]);
                        n += 1;
                    }
                }
                out[y * W + x] = (s / n) as u8;
            }
        }
        out
    }

    #[test]
    fn same_view_is_same_with_identical_scores() {
        let c = verdict_of(&home());
        assert_eq!(c.verdict, SceneVerdict::Same, "{}", c.reason);
        assert!(c.scores.structure > 0.99 && c.scores.layout > 0.99);
        assert_eq!((c.scores.shift.dx, c.scores.shift.dy), (0.0, 0.0));
    }

    #[test]
    fn people_walking_through_the_view_are_not_a_change() {
        for seed in 0..12 {
            let c = verdict_of(&with_people(home(), 4, seed));
            assert_eq!(c.verdict, SceneVerdict::Same, "seed {seed}: {}", c.reason);
            assert!(c.scores.structure > 0.7, "seed {seed}: {:?}", c.scores);
        }
    }

    #[test]
    fn view_turned_by_a_tenth_is_turned_with_its_shift() {
        for (dx, dy) in [(32i32, 0i32), (-32, 0), (0, 24), (0, -24), (32, 24)] {
            let now = view((W as i32 / 2 + dx) as usize, (H as i32 / 2 + dy) as usize);
            let c = verdict_of(&now);
            assert_eq!(c.verdict, SceneVerdict::Turned, "({dx},{dy}): {}", c.reason);
            // The camera moved right by dx: content moved left by dx/W of the frame.
            let (ex, ey) = (-dx as f32 / W as f32, -dy as f32 / H as f32);
            assert!(
                (c.scores.shift.dx - ex).abs() < 0.02 && (c.scores.shift.dy - ey).abs() < 0.025,
                "({dx},{dy}): estimated {:?}",
                c.scores.shift
            );
        }
    }

    #[test]
    fn view_turned_with_people_in_it_is_still_turned() {
        let now = with_people(view(W / 2 + 32, H / 2), 4, 3);
        assert_eq!(verdict_of(&now).verdict, SceneVerdict::Turned);
    }

    #[test]
    fn small_clean_turn_is_caught_by_the_shift_search() {
        // 3% of the width: about two grid cells.
        let now = view(W / 2 + 10, H / 2);
        let c = verdict_of(&now);
        assert_eq!(c.verdict, SceneVerdict::Turned, "{}", c.reason);
        assert!(
            (c.scores.shift.dx + 10.0 / W as f32).abs() < 0.01,
            "{:?}",
            c.scores.shift
        );
    }

    #[test]
    fn black_or_uniform_view_is_covered() {
        let black = map_luma(home(), |_| 16);
        assert_eq!(verdict_of(&black).verdict, SceneVerdict::Covered);
        let grey = map_luma(home(), |_| 120);
        assert_eq!(verdict_of(&grey).verdict, SceneVerdict::Covered);
        // A hand over the lens: dark, a little noise and shading left.
        let hand = map_luma(home(), |v| 18 + v / 24);
        assert_eq!(verdict_of(&hand).verdict, SceneVerdict::Covered);
    }

    #[test]
    fn partly_taped_or_lit_view_is_covered_or_blinded() {
        for (v, want) in [(16u8, SceneVerdict::Covered), (235, SceneVerdict::Blinded)] {
            let mut f = home();
            for y in 0..H {
                f[y * W..y * W + W * 2 / 5].fill(v);
            }
            let c = verdict_of(&f);
            assert_eq!(c.verdict, want, "{}", c.reason);
            assert!(c.scores.flat >= 0.3, "{:?}", c.scores);
        }
        // People walking never flatten the view.
        for seed in 0..12 {
            assert!(verdict_of(&with_people(home(), 4, seed)).scores.flat < 0.1);
        }
    }

    #[test]
    fn white_or_washed_out_view_is_blinded() {
        let white = map_luma(home(), |_| 235);
        assert_eq!(verdict_of(&white).verdict, SceneVerdict::Blinded);
        let washed = map_luma(home(), |v| 230 + v / 50);
        assert_eq!(verdict_of(&washed).verdict, SceneVerdict::Blinded);
    }

    #[test]
    fn blurred_view_is_defocused() {
        let c = verdict_of(&box_blur(&home(), 3));
        assert_eq!(c.verdict, SceneVerdict::Defocused, "{}", c.reason);
        assert!(c.scores.sharpness_ratio < 0.5, "{:?}", c.scores);
    }

    #[test]
    fn lighting_changes_are_not_a_change() {
        for g in [0.7f32, 0.5, 1.3] {
            let c = verdict_of(&map_luma(home(), |v| (f32::from(v) * g).min(235.0) as u8));
            assert_eq!(c.verdict, SceneVerdict::Same, "×{g}: {}", c.reason);
        }
        let c = verdict_of(&map_luma(home(), |v| v.saturating_add(30)));
        assert_eq!(c.verdict, SceneVerdict::Same, "+30: {}", c.reason);
        // Dimmer and with people, both at once.
        let c = verdict_of(&with_people(
            map_luma(home(), |v| (u32::from(v) * 7 / 10) as u8),
            3,
            5,
        ));
        assert_eq!(c.verdict, SceneVerdict::Same, "{}", c.reason);
    }

    #[test]
    fn another_scene_is_turned() {
        let c = verdict_of(&view(0, 0));
        assert_eq!(c.verdict, SceneVerdict::Turned, "{}", c.reason);
    }

    #[test]
    fn degenerate_views_cannot_be_references() {
        let t = SceneThresholds::default();
        assert_eq!(
            fp(&map_luma(home(), |_| 16)).degenerate(&t),
            Some(SceneVerdict::Covered)
        );
        assert_eq!(
            fp(&map_luma(home(), |_| 235)).degenerate(&t),
            Some(SceneVerdict::Blinded)
        );
        assert_eq!(fp(&home()).degenerate(&t), None);
    }

    #[test]
    fn fingerprint_round_trips_through_json_and_compares_the_same() {
        let a = fp(&home());
        let back: SceneFingerprint =
            serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        assert_eq!(a, back);
        assert!(back.is_well_formed());
        assert_eq!(
            compare(&back, &a, &SceneThresholds::default()).verdict,
            SceneVerdict::Same
        );
    }

    #[test]
    fn other_resolutions_and_strides_fingerprint_alike() {
        // The same view at twice the size with row padding: the grid is nearly the same.
        let small = home();
        let (w2, h2, stride) = (W * 2, H * 2, W * 2 + 32);
        let mut big = vec![0u8; stride * h2 + w2 * h2 / 2];
        for y in 0..h2 {
            for x in 0..w2 {
                big[y * stride + x] = small[(y / 2) * W + x / 2];
            }
        }
        let layout = Layout {
            format: PixelFormat::I420,
            width: w2 as u32,
            height: h2 as u32,
            strides: [stride, w2 / 2, w2 / 2],
            offsets: [0, stride * h2, stride * h2 + w2 * h2 / 4],
        };
        let b = SceneFingerprint::of(&FrameRef::new(layout, &big).unwrap());
        let c = compare(&fp(&small), &b, &SceneThresholds::default());
        assert_eq!(c.verdict, SceneVerdict::Same, "{}", c.reason);
        assert!(c.scores.structure > 0.95);
    }

    #[test]
    fn tiny_frames_do_not_panic() {
        for (w, h) in [(1u32, 1u32), (2, 2), (10, 6), (65, 49)] {
            let layout = Layout::packed(PixelFormat::I420, w, h);
            let data = vec![100u8; layout.min_len()];
            let f = SceneFingerprint::of(&FrameRef::new(layout, &data).unwrap());
            assert!(f.is_well_formed());
            assert_eq!(
                f.degenerate(&SceneThresholds::default()),
                Some(SceneVerdict::Covered)
            );
        }
    }
}
