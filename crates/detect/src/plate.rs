//! Licence plates on vehicles. A plate in a wide CCTV view is a few dozen pixels wide: too small for a plate
//! detector run on the whole frame at a real-time input size, yet every plate sits on a vehicle the person
//! detector's model (YOLOX) already finds. So each vehicle box is cropped (with a margin), letterboxed into
//! HyperLPR3's plate detector, and the plate's four corners are mapped back to frame pixels. The masked box is
//! the bounding box of that quadrilateral, a superset of the plate.
//!
//! HyperLPR3 (`y5fu_*_sim.onnx`, as its Python `multitask_detect.py` runs it): input [1,3,S,S] RGB / 255,
//! letterboxed *centred* with black padding; output [1,N,15] per anchor, already decoded to input pixels:
//! cx, cy, w, h, objectness, four corners (x,y)×4, two class scores (single-/double-row plate). A candidate is
//! kept when its objectness clears the threshold; its score is objectness × the better class score.

use crate::nms::nms;
use crate::preprocess::{Letterbox, letterbox_crop_rgb};
use crate::types::{BBox, Backend, Class, DetectError, Detection, Detector, Tensor};
use mask::FrameRef;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const STRIDES: [usize; 3] = [8, 16, 32];
const ANCHORS_PER_CELL: usize = 3;
const ROW: usize = 15;

#[derive(Debug, Clone, Copy)]
pub struct HyperLprDecoder {
    /// S of the model's [1,3,S,S] input: 320 or 640 for the shipped files.
    pub input_size: u32,
    /// Minimum objectness. HyperLPR3 uses 0.25 for reading plates; masking favours recall, and on vehicle
    /// crops a false plate only masks a little more of a car.
    pub obj_threshold: f32,
    pub nms_iou: f32,
}

impl Default for HyperLprDecoder {
    fn default() -> Self {
        HyperLprDecoder {
            input_size: 320,
            obj_threshold: 0.1,
            nms_iou: 0.5,
        }
    }
}

/// A plate's four corners in frame pixels (HyperLPR3 order: top-left, top-right, bottom-right,
/// bottom-left) and its score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlateQuad {
    pub corners: [(f32, f32); 4],
    pub score: f32,
}

impl PlateQuad {
    /// The smallest box holding all four corners.
    pub fn bbox(&self) -> BBox {
        let mut b = BBox {
            x0: f32::INFINITY,
            y0: f32::INFINITY,
            x1: f32::NEG_INFINITY,
            y1: f32::NEG_INFINITY,
        };
        for &(x, y) in &self.corners {
            b.x0 = b.x0.min(x);
            b.y0 = b.y0.min(y);
            b.x1 = b.x1.max(x);
            b.y1 = b.y1.max(y);
        }
        b
    }
}

impl HyperLprDecoder {
    /// Anchors in the output: three per cell of the stride 8/16/32 grids (6300 at 320, 25200 at 640).
    pub fn rows(&self) -> usize {
        let s = self.input_size as usize;
        STRIDES
            .iter()
            .map(|st| ANCHORS_PER_CELL * (s / st) * (s / st))
            .sum()
    }

    /// Plates of one model run over the crop `lb` describes, in frame pixels (clipped to the frame), after
    /// NMS, best first.
    pub fn decode(
        &self,
        output: &Tensor,
        lb: &Letterbox,
        frame_w: u32,
        frame_h: u32,
    ) -> Result<Vec<PlateQuad>, DetectError> {
        let rows = self.rows();
        if output.shape != [1, rows, ROW] || output.data.len() != rows * ROW {
            return Err(DetectError::BadOutput {
                model: "hyperlpr3".into(),
                what: format!("shape {:?}, expected [1, {rows}, {ROW}]", output.shape),
            });
        }
        let (fw, fh) = (frame_w as f32, frame_h as f32);
        let mut cands: Vec<(Detection, PlateQuad)> = Vec::new();
        for p in output.data.chunks_exact(ROW) {
            let obj = p[4];
            // NaN is dropped with the weak candidates.
            if obj.is_nan() || obj < self.obj_threshold {
                continue;
            }
            let mut corners = [(0.0, 0.0); 4];
            for (k, c) in corners.iter_mut().enumerate() {
                *c = lb.to_frame(p[5 + 2 * k], p[6 + 2 * k]);
            }
            // A plate the model is sure of but whose corners are not numbers is masked by its box instead;
            // if that is not a number either, nobody can say where the plate is: the frame fails closed.
            if corners.iter().any(|c| !c.0.is_finite() || !c.1.is_finite()) {
                let (cx, cy, w, h) = (p[0], p[1], p[2], p[3]);
                let (x0, y0) = lb.to_frame(cx - w / 2.0, cy - h / 2.0);
                let (x1, y1) = lb.to_frame(cx + w / 2.0, cy + h / 2.0);
                if ![x0, y0, x1, y1].iter().all(|v| v.is_finite()) {
                    return Err(DetectError::BadOutput {
                        model: "hyperlpr3".into(),
                        what: "a plate candidate with non-numeric geometry".into(),
                    });
                }
                corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)];
            }
            for c in corners.iter_mut() {
                *c = (c.0.clamp(0.0, fw), c.1.clamp(0.0, fh));
            }
            // Non-numeric class scores must not turn a confident plate into a NaN that NMS mishandles.
            let class = p[13].max(p[14]);
            let quad = PlateQuad {
                corners,
                score: if class.is_finite() { obj * class } else { obj },
            };
            let bbox = quad.bbox();
            if bbox.area() <= 0.0 {
                continue;
            }
            let det = Detection {
                bbox,
                score: quad.score,
                class: Class::Plate,
            };
            cands.push((det, quad));
        }
        let kept = nms(cands.iter().map(|c| c.0).collect(), self.nms_iou);
        Ok(kept
            .iter()
            .filter_map(|k| cands.iter().find(|c| c.0 == *k).map(|c| c.1))
            .collect())
    }
}

/// Runs `inner` (YOLOX with vehicles among its classes), then the plate model on the largest vehicles.
pub struct PlatesFromVehicles<D: Detector, B: Backend> {
    inner: D,
    backend: B,
    pub decoder: HyperLprDecoder,
    /// Each side of a vehicle box grows by this share of its size before cropping, so a plate on a bumper
    /// the box cuts stays in the crop.
    pub crop_margin: f32,
    /// At most this many vehicles per frame, largest first, go through the plate model (one run each, about
    /// 15 ms at 320 on 2 cores); smaller ones beyond the cap have plates too small to read.
    pub max_crops: usize,
    /// Also return the vehicle detections themselves (when vehicles are masked too).
    pub keep_vehicles: bool,
    /// A vehicle whose crop is where it was and looks as it did (a parked car) keeps the plates found in it
    /// this long before the plate model looks again.
    pub recheck: Recheck,
    cache: Mutex<Vec<CachedCrop>>,
    /// Detections run so far (the clock of [`Recheck::Detections`]).
    runs: std::sync::atomic::AtomicU64,
}

/// How long an unchanged vehicle keeps its plates; zero in either runs the model on every detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recheck {
    /// By the wall clock: live cameras.
    Time(Duration),
    /// Counted in this detector's detections: footage read faster or slower than it was recorded, where the
    /// same footage must give the same plates however busy the machine is.
    Detections(u64),
}

impl Recheck {
    fn is_zero(self) -> bool {
        matches!(self, Recheck::Time(Duration::ZERO) | Recheck::Detections(0))
    }
}

/// How long an unchanged parked vehicle keeps its plates before the plate model looks again (the track hold).
pub const PLATE_RECHECK: Duration = Duration::from_millis(1500);
/// [`PLATE_RECHECK`] for footage, in detections (1.5 s at 10 frames a second; less at higher rates).
pub const PLATE_RECHECK_DETECTIONS: u64 = 15;

/// The plates found in a crop, and what the crop looked like then.
struct CachedCrop {
    crop: BBox,
    thumb: [u8; THUMB_CELLS],
    plates: Vec<PlateQuad>,
    at: Instant,
    /// The detection it was found in.
    run: u64,
}

const THUMB_W: usize = 16;
const THUMB_H: usize = 8;
const THUMB_CELLS: usize = THUMB_W * THUMB_H;
/// Crops of one vehicle in two detections overlap at least this much when it has not moved.
const SAME_PLACE_IOU: f32 = 0.9;
/// Mean luma difference (0–255) of the thumbnails under which the crop counts as unchanged.
const SAME_LOOK: u32 = 6;
/// Crops remembered (all cameras that share this detector together).
const CACHE_MAX: usize = 512;

/// A 16×8 thumbnail of the crop's luma (cell means over a sparse grid of samples).
fn thumbnail(frame: &FrameRef<'_>, crop: BBox) -> [u8; THUMB_CELLS] {
    let (x0, y0) = (crop.x0.max(0.0) as usize, crop.y0.max(0.0) as usize);
    let x1 = (crop.x1 as usize).min(frame.width() as usize).max(x0 + 1);
    let y1 = (crop.y1 as usize).min(frame.height() as usize).max(y0 + 1);
    let mut out = [0u8; THUMB_CELLS];
    for cy in 0..THUMB_H {
        let (ya, yb) = (
            y0 + (y1 - y0) * cy / THUMB_H,
            y0 + (y1 - y0) * (cy + 1) / THUMB_H,
        );
        for cx in 0..THUMB_W {
            let (xa, xb) = (
                x0 + (x1 - x0) * cx / THUMB_W,
                x0 + (x1 - x0) * (cx + 1) / THUMB_W,
            );
            let (mut sum, mut n) = (0u32, 0u32);
            let (sy, sx) = (((yb - ya) / 4).max(1), ((xb - xa) / 4).max(1));
            let mut y = ya;
            while y < yb.max(ya + 1) {
                let mut x = xa;
                while x < xb.max(xa + 1) {
                    sum += u32::from(frame.y(x.min(x1 - 1), y.min(y1 - 1)));
                    n += 1;
                    x += sx;
                }
                y += sy;
            }
            out[cy * THUMB_W + cx] = (sum / n.max(1)) as u8;
        }
    }
    out
}

fn look_diff(a: &[u8; THUMB_CELLS], b: &[u8; THUMB_CELLS]) -> u32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| u32::from(x.abs_diff(*y)))
        .sum::<u32>()
        / THUMB_CELLS as u32
}

impl<D: Detector, B: Backend> PlatesFromVehicles<D, B> {
    pub fn new(inner: D, backend: B, keep_vehicles: bool) -> Self {
        PlatesFromVehicles {
            inner,
            backend,
            decoder: HyperLprDecoder::default(),
            crop_margin: 0.05,
            max_crops: 8,
            keep_vehicles,
            recheck: Recheck::Time(PLATE_RECHECK),
            cache: Mutex::new(Vec::new()),
            runs: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// How long an unchanged vehicle keeps its plates before the model looks again (zero: every detection).
    pub fn with_recheck(mut self, recheck: Recheck) -> Self {
        self.recheck = recheck;
        self
    }

    /// The plates in `crop`: remembered when the vehicle is where it was and looks the same (within
    /// `recheck`), else from the model. Keyed by what the crop shows, so cameras sharing this detector never
    /// get each other's plates.
    fn plates_cached(
        &self,
        frame: &FrameRef<'_>,
        crop: BBox,
        run: u64,
    ) -> Result<Vec<PlateQuad>, DetectError> {
        if self.recheck.is_zero() {
            return self.plates_in(frame, crop);
        }
        let thumb = thumbnail(frame, crop);
        let now = Instant::now();
        {
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            cache.retain(|c| match self.recheck {
                Recheck::Time(d) => now.duration_since(c.at) < d,
                Recheck::Detections(n) => run.saturating_sub(c.run) < n,
            });
            if let Some(hit) = cache.iter().find(|c| {
                c.crop.iou(&crop) >= SAME_PLACE_IOU && look_diff(&c.thumb, &thumb) <= SAME_LOOK
            }) {
                return Ok(hit.plates.clone());
            }
        }
        let plates = self.plates_in(frame, crop)?;
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= CACHE_MAX {
            cache.remove(0);
        }
        cache.push(CachedCrop {
            crop,
            thumb,
            plates: plates.clone(),
            at: now,
            run,
        });
        Ok(plates)
    }

    pub fn with_decoder(mut self, decoder: HyperLprDecoder) -> Self {
        self.decoder = decoder;
        self
    }

    /// The crops (frame pixels) the plate model runs on for these detections, largest vehicle first.
    pub fn crops(&self, dets: &[Detection], frame_w: u32, frame_h: u32) -> Vec<BBox> {
        let mut vehicles: Vec<BBox> = dets
            .iter()
            .filter(|d| d.class == Class::Vehicle)
            .map(|d| d.bbox)
            .collect();
        vehicles.sort_by(|a, b| b.area().total_cmp(&a.area()));
        vehicles
            .into_iter()
            .map(|b| b.dilate(self.crop_margin).clip(frame_w, frame_h))
            .filter(|c| c.width() >= 4.0 && c.height() >= 4.0)
            .take(self.max_crops)
            .collect()
    }

    /// The plates within one crop.
    pub fn plates_in(
        &self,
        frame: &FrameRef<'_>,
        crop: BBox,
    ) -> Result<Vec<PlateQuad>, DetectError> {
        let (input, lb) =
            letterbox_crop_rgb(frame, crop, self.decoder.input_size, 0.0, 1.0 / 255.0);
        let out = self.backend.run(input)?;
        let first = out.first().ok_or_else(|| DetectError::BadOutput {
            model: self.backend.model_name().into(),
            what: "no output".into(),
        })?;
        self.decoder
            .decode(first, &lb, frame.width(), frame.height())
    }
}

impl<D: Detector, B: Backend> Detector for PlatesFromVehicles<D, B> {
    fn detect(&self, frame: &FrameRef<'_>) -> Result<Vec<Detection>, DetectError> {
        let dets = self.inner.detect(frame)?;
        let run = self.runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut plates = Vec::new();
        for crop in self.crops(&dets, frame.width(), frame.height()) {
            plates.extend(
                self.plates_cached(frame, crop, run)?
                    .iter()
                    .map(|q| Detection {
                        bbox: q.bbox(),
                        score: q.score,
                        class: Class::Plate,
                    }),
            );
        }
        // Overlapping vehicles give overlapping crops and so the same plate twice.
        let mut out: Vec<Detection> = dets
            .into_iter()
            .filter(|d| self.keep_vehicles || d.class != Class::Vehicle)
            .collect();
        out.extend(nms(plates, self.decoder.nms_iou));
        Ok(out)
    }

    fn name(&self) -> &str {
        "plates-from-vehicles"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mask::{Layout, PixelFormat};
    use std::sync::Mutex;

    fn row(obj: f32, corners: [(f32, f32); 4], cls: (f32, f32)) -> [f32; ROW] {
        let mut r = [0.0; ROW];
        let b = PlateQuad {
            corners,
            score: 0.0,
        }
        .bbox();
        r[..4].copy_from_slice(&[
            (b.x0 + b.x1) / 2.0,
            (b.y0 + b.y1) / 2.0,
            b.width(),
            b.height(),
        ]);
        r[4] = obj;
        for (k, (x, y)) in corners.iter().enumerate() {
            r[5 + 2 * k] = *x;
            r[6 + 2 * k] = *y;
        }
        r[13] = cls.0;
        r[14] = cls.1;
        r
    }

    fn output(rows: &[(usize, [f32; ROW])]) -> Tensor {
        let n = HyperLprDecoder::default().rows();
        let mut data = vec![0.0; n * ROW];
        for (i, r) in rows {
            data[i * ROW..(i + 1) * ROW].copy_from_slice(r);
        }
        Tensor {
            shape: vec![1, n, ROW],
            data,
        }
    }

    const IDENTITY: Letterbox = Letterbox {
        origin: (0.0, 0.0),
        offset: (0.0, 0.0),
        scale: (1.0, 1.0),
    };

    const QUAD: [(f32, f32); 4] = [
        (100.0, 150.0),
        (180.0, 146.0),
        (182.0, 170.0),
        (102.0, 174.0),
    ];

    #[test]
    fn anchor_counts_match_the_shipped_models() {
        assert_eq!(HyperLprDecoder::default().rows(), 6300);
        let big = HyperLprDecoder {
            input_size: 640,
            ..Default::default()
        };
        assert_eq!(big.rows(), 25200);
    }

    #[test]
    fn weak_objectness_is_dropped_and_score_is_obj_times_best_class() {
        let t = output(&[
            (7, row(0.8, QUAD, (0.1, 0.9))),
            (
                900,
                row(
                    0.09,
                    [(10.0, 10.0), (40.0, 10.0), (40.0, 20.0), (10.0, 20.0)],
                    (1.0, 0.0),
                ),
            ),
        ]);
        let plates = HyperLprDecoder::default()
            .decode(&t, &IDENTITY, 320, 320)
            .unwrap();
        assert_eq!(plates.len(), 1);
        assert!((plates[0].score - 0.72).abs() < 1e-6);
        assert_eq!(plates[0].corners, QUAD);
        assert_eq!(
            plates[0].bbox(),
            BBox {
                x0: 100.0,
                y0: 146.0,
                x1: 182.0,
                y1: 174.0
            }
        );
    }

    #[test]
    fn overlapping_candidates_keep_the_best_and_distinct_plates_both_stay() {
        let shifted = QUAD.map(|(x, y)| (x + 3.0, y + 1.0));
        let other = QUAD.map(|(x, y)| (x + 120.0, y));
        let t = output(&[
            (1, row(0.5, QUAD, (0.9, 0.1))),
            (2, row(0.7, shifted, (0.9, 0.1))),
            (3, row(0.3, other, (0.9, 0.1))),
        ]);
        let plates = HyperLprDecoder::default()
            .decode(&t, &IDENTITY, 640, 480)
            .unwrap();
        assert_eq!(plates.len(), 2);
        assert_eq!(plates[0].corners, shifted);
        assert_eq!(plates[1].corners, other);
    }

    #[test]
    fn corners_map_back_through_letterbox_and_crop_offset() {
        // A 160x80 crop at (400, 300) letterboxed into 320: scale 2, content 320x160 at rows 80..240.
        let lb = Letterbox {
            origin: (400.0, 300.0),
            offset: (0.0, 80.0),
            scale: (2.0, 2.0),
        };
        let t = output(&[(5, row(0.9, QUAD, (0.9, 0.1)))]);
        let p = HyperLprDecoder::default()
            .decode(&t, &lb, 1280, 720)
            .unwrap();
        assert_eq!(p[0].corners[0], (450.0, 335.0));
        assert_eq!(p[0].corners[2], (491.0, 345.0));
        // Corners outside the frame are clipped to it.
        let p = HyperLprDecoder::default()
            .decode(&t, &lb, 480, 340)
            .unwrap();
        assert_eq!(p[0].corners[2], (480.0, 340.0));
    }

    #[test]
    fn wrong_shape_and_nan_are_handled() {
        let t = Tensor {
            shape: vec![1, 6300, 14],
            data: vec![0.0; 6300 * 14],
        };
        assert!(matches!(
            HyperLprDecoder::default().decode(&t, &IDENTITY, 320, 320),
            Err(DetectError::BadOutput { .. })
        ));
        // NaN objectness: dropped like a weak candidate.
        let t = output(&[(0, row(f32::NAN, QUAD, (0.9, 0.1)))]);
        assert!(
            HyperLprDecoder::default()
                .decode(&t, &IDENTITY, 320, 320)
                .unwrap()
                .is_empty()
        );
        // NaN class scores: the plate is kept with its objectness as score.
        let t = output(&[(0, row(0.8, QUAD, (f32::NAN, f32::NAN)))]);
        let q = HyperLprDecoder::default()
            .decode(&t, &IDENTITY, 320, 320)
            .unwrap();
        assert_eq!(q.len(), 1);
        assert!((q[0].score - 0.8).abs() < 1e-6);
        // NaN corners but a usable box: masked by the box.
        let mut r = row(0.9, QUAD, (0.9, 0.1));
        r[5..13].fill(f32::NAN);
        let q = HyperLprDecoder::default()
            .decode(&output(&[(0, r)]), &IDENTITY, 320, 320)
            .unwrap();
        assert_eq!(q.len(), 1);
        let b = q[0].bbox();
        assert!(
            (b.x0 - 100.0).abs() < 1e-3 && (b.x1 - 182.0).abs() < 1e-3,
            "{b:?}"
        );
        // Nothing numeric about where a confident plate is: the frame must fail closed.
        r[..4].fill(f32::NAN);
        assert!(matches!(
            HyperLprDecoder::default().decode(&output(&[(0, r)]), &IDENTITY, 320, 320),
            Err(DetectError::BadOutput { .. })
        ));
    }

    struct Fixed(Vec<Detection>);
    impl Detector for Fixed {
        fn detect(&self, _: &FrameRef<'_>) -> Result<Vec<Detection>, DetectError> {
            Ok(self.0.clone())
        }
        fn name(&self) -> &str {
            "fixed"
        }
    }

    /// Answers every run with one plate at the centre of the input, and records the inputs' shapes.
    struct CentrePlate(Mutex<Vec<Vec<usize>>>);
    impl Backend for CentrePlate {
        fn run(&self, input: Tensor) -> Result<Vec<Tensor>, DetectError> {
            self.0.lock().unwrap().push(input.shape.clone());
            assert!(input.data.iter().all(|v| (0.0..=1.0).contains(v)));
            Ok(vec![output(&[(
                0,
                row(
                    0.9,
                    [
                        (150.0, 155.0),
                        (170.0, 155.0),
                        (170.0, 165.0),
                        (150.0, 165.0),
                    ],
                    (0.9, 0.1),
                ),
            )])])
        }
        fn model_name(&self) -> &str {
            "centre-plate"
        }
    }

    fn det(class: Class, x0: f32, y0: f32, x1: f32, y1: f32) -> Detection {
        Detection {
            bbox: BBox { x0, y0, x1, y1 },
            score: 0.9,
            class,
        }
    }

    #[test]
    fn plates_come_from_vehicle_crops_only_and_vehicles_stay_only_when_asked() {
        let l = Layout::packed(PixelFormat::I420, 640, 480);
        let data = vec![128u8; l.min_len()];
        let f = FrameRef::new(l, &data).unwrap();
        let person = det(Class::Person, 0.0, 0.0, 50.0, 200.0);
        // A 320x160 car at (100, 200) with no margin: scale 1, content at rows 80..240 of the input, so the
        // input's centre (160, 160) is the car's centre (260, 280).
        let car = det(Class::Vehicle, 100.0, 200.0, 420.0, 360.0);
        let mut p = PlatesFromVehicles::new(
            Fixed(vec![person, car]),
            CentrePlate(Mutex::new(Vec::new())),
            false,
        );
        p.crop_margin = 0.0;
        let out = p.detect(&f).unwrap();
        assert_eq!(out.len(), 2, "{out:?}");
        assert!(out.contains(&person));
        let plate = out.iter().find(|d| d.class == Class::Plate).unwrap();
        assert_eq!(
            plate.bbox,
            BBox {
                x0: 250.0,
                y0: 275.0,
                x1: 270.0,
                y1: 285.0
            }
        );
        assert_eq!(*p.backend.0.lock().unwrap(), vec![vec![1, 3, 320, 320]]);
        p.keep_vehicles = true;
        assert!(p.detect(&f).unwrap().contains(&car));
    }

    #[test]
    fn a_parked_vehicle_keeps_its_plate_until_it_moves_changes_or_the_recheck_is_due() {
        let l = Layout::packed(PixelFormat::I420, 640, 480);
        let mut data = vec![128u8; l.min_len()];
        for (i, v) in data[..640 * 480].iter_mut().enumerate() {
            *v = (i % 640 / 5) as u8;
        }
        let car = det(Class::Vehicle, 100.0, 200.0, 420.0, 360.0);
        let runs = |p: &PlatesFromVehicles<Fixed, CentrePlate>| p.backend.0.lock().unwrap().len();
        let p =
            PlatesFromVehicles::new(Fixed(vec![car]), CentrePlate(Mutex::new(Vec::new())), false)
                .with_recheck(Recheck::Time(Duration::from_millis(300)));
        let f = FrameRef::new(l, &data).unwrap();
        let first = p.detect(&f).unwrap();
        assert_eq!(first.len(), 1);
        // Same place, same look: the plate comes back without running the model.
        assert_eq!(p.detect(&f).unwrap(), first);
        assert_eq!(runs(&p), 1);
        // Someone walks in front of it: the crop looks different, so the model looks again.
        let mut changed = data.clone();
        for y in 220..340 {
            for x in 150..300 {
                changed[y * 640 + x] = 250;
            }
        }
        p.detect(&FrameRef::new(l, &changed).unwrap()).unwrap();
        assert_eq!(runs(&p), 2);
        // It moves: another place is another crop.
        let moved = PlatesFromVehicles::new(
            Fixed(vec![det(Class::Vehicle, 160.0, 200.0, 480.0, 360.0)]),
            CentrePlate(Mutex::new(Vec::new())),
            false,
        );
        moved.detect(&f).unwrap();
        assert_eq!(runs(&moved), 1);
        // After the recheck period the model runs again even for an unchanged vehicle.
        std::thread::sleep(Duration::from_millis(350));
        p.detect(&f).unwrap();
        assert_eq!(runs(&p), 3);
        // Zero recheck: every detection runs the model.
        let always =
            PlatesFromVehicles::new(Fixed(vec![car]), CentrePlate(Mutex::new(Vec::new())), false)
                .with_recheck(Recheck::Time(Duration::ZERO));
        always.detect(&f).unwrap();
        always.detect(&f).unwrap();
        assert_eq!(runs(&always), 2);
    }

    #[test]
    fn on_footage_the_recheck_counts_detections_not_seconds() {
        let l = Layout::packed(PixelFormat::I420, 640, 480);
        let data = vec![128u8; l.min_len()];
        let f = FrameRef::new(l, &data).unwrap();
        let car = det(Class::Vehicle, 100.0, 200.0, 420.0, 360.0);
        let runs = |p: &PlatesFromVehicles<Fixed, CentrePlate>| p.backend.0.lock().unwrap().len();
        let p =
            PlatesFromVehicles::new(Fixed(vec![car]), CentrePlate(Mutex::new(Vec::new())), false)
                .with_recheck(Recheck::Detections(3));
        // However slowly the frames come, the 4th detection looks again, and so on every 3rd.
        for _ in 0..3 {
            p.detect(&f).unwrap();
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(runs(&p), 1);
        p.detect(&f).unwrap();
        assert_eq!(runs(&p), 2);
        for _ in 0..3 {
            p.detect(&f).unwrap();
        }
        assert_eq!(runs(&p), 3);
        // Zero: every detection.
        let always =
            PlatesFromVehicles::new(Fixed(vec![car]), CentrePlate(Mutex::new(Vec::new())), false)
                .with_recheck(Recheck::Detections(0));
        always.detect(&f).unwrap();
        always.detect(&f).unwrap();
        assert_eq!(runs(&always), 2);
    }

    /// Counts its runs: the stacked compositions must run the shared person/vehicle model once per frame.
    struct Counted(Fixed, std::sync::Arc<Mutex<usize>>);
    impl Detector for Counted {
        fn detect(&self, f: &FrameRef<'_>) -> Result<Vec<Detection>, DetectError> {
            *self.1.lock().unwrap() += 1;
            self.0.detect(f)
        }
        fn name(&self) -> &str {
            "counted"
        }
    }

    #[test]
    fn faces_and_plates_stacked_on_one_detector_run_it_once() {
        let l = Layout::packed(PixelFormat::I420, 640, 480);
        let data = vec![128u8; l.min_len()];
        let f = FrameRef::new(l, &data).unwrap();
        let person = det(Class::Person, 0.0, 0.0, 50.0, 200.0);
        let car = det(Class::Vehicle, 100.0, 200.0, 420.0, 360.0);
        let runs = std::sync::Arc::new(Mutex::new(0));
        let inner = Counted(Fixed(vec![person, car]), runs.clone());
        let faces = crate::heads::FacesFromPersons::new(Box::new(inner) as Box<dyn Detector>, true);
        let stacked = PlatesFromVehicles::new(faces, CentrePlate(Mutex::new(Vec::new())), false);
        let mut classes: Vec<Class> = stacked
            .detect(&f)
            .unwrap()
            .iter()
            .map(|d| d.class)
            .collect();
        classes.sort();
        assert_eq!(classes, vec![Class::Person, Class::Face, Class::Plate]);
        assert_eq!(*runs.lock().unwrap(), 1);
        assert_eq!(
            *stacked.backend.0.lock().unwrap(),
            vec![vec![1, 3, 320, 320]]
        );
    }

    #[test]
    fn only_the_largest_vehicles_are_cropped_and_crops_keep_a_clipped_margin() {
        let p = PlatesFromVehicles::new(Fixed(vec![]), CentrePlate(Mutex::new(Vec::new())), false);
        let mut dets: Vec<Detection> = (0..12)
            .map(|i| {
                let s = 10.0 + i as f32 * 5.0;
                det(Class::Vehicle, 20.0 * i as f32, 0.0, 20.0 * i as f32 + s, s)
            })
            .collect();
        dets.push(det(Class::Person, 0.0, 0.0, 600.0, 400.0));
        let crops = p.crops(&dets, 640, 480);
        assert_eq!(crops.len(), 8);
        // Largest first: the last vehicle (65x65 at x=220), grown by 5% a side, top clipped at 0.
        assert_eq!(
            crops[0],
            BBox {
                x0: 220.0 - 3.25,
                y0: 0.0,
                x1: 285.0 + 3.25,
                y1: 65.0 + 3.25
            }
        );
        assert!(crops.windows(2).all(|w| w[0].area() >= w[1].area()));
    }
}
