//! YOLOX-nano: letterboxed BGR input, raw head output [1,N,85] decoded on stride 8/16/32 grids. The export
//! already applies the sigmoid to objectness and class scores, so score = obj × class probability.

use crate::nms::nms;
use crate::preprocess::letterbox_bgr;
use crate::types::{BBox, Backend, Class, DetectError, Detection, Detector, Tensor};
use mask::FrameRef;

const STRIDES: [usize; 3] = [8, 16, 32];
const PAD: f32 = 114.0;

#[derive(Debug, Clone, Copy)]
pub struct YoloxDecoder {
    pub input_size: u32,
    pub conf_threshold: f32,
    pub nms_iou: f32,
}

impl Default for YoloxDecoder {
    fn default() -> Self {
        YoloxDecoder {
            input_size: 416,
            // Chosen with `garim eval` (docs/quality.md): at 0.3 people half hidden behind others were
            // dropped for up to 2 s; 0.1–0.15 closed those gaps at little extra masked area.
            conf_threshold: 0.15,
            nms_iou: 0.45,
        }
    }
}

/// COCO class indices behind each garim class (persons, and the vehicles whose plates matter); other COCO
/// classes are ignored.
fn coco_classes(c: Class) -> &'static [usize] {
    match c {
        Class::Person => &[0],
        // car, motorcycle, bus, truck
        Class::Vehicle => &[2, 3, 5, 7],
        Class::Face | Class::Plate => &[],
    }
}

impl YoloxDecoder {
    fn rows(&self) -> usize {
        let s = self.input_size as usize;
        STRIDES.iter().map(|st| (s / st) * (s / st)).sum()
    }

    pub fn decode(
        &self,
        output: &Tensor,
        scale: f32,
        frame_w: u32,
        frame_h: u32,
        want: &[Class],
    ) -> Result<Vec<Detection>, DetectError> {
        let rows = self.rows();
        if output.shape != [1, rows, 85] || output.data.len() != rows * 85 {
            return Err(DetectError::BadOutput {
                model: "yolox_nano".into(),
                what: format!("shape {:?}, expected [1, {rows}, 85]", output.shape),
            });
        }
        let s = self.input_size as usize;
        let mut dets = Vec::new();
        let mut row = 0;
        for stride in STRIDES {
            let g = s / stride;
            for gy in 0..g {
                for gx in 0..g {
                    let p = &output.data[row * 85..(row + 1) * 85];
                    row += 1;
                    let obj = p[4];
                    if obj < self.conf_threshold {
                        continue;
                    }
                    let st = stride as f32;
                    let cx = (p[0] + gx as f32) * st;
                    let cy = (p[1] + gy as f32) * st;
                    let w = p[2].exp() * st;
                    let h = p[3].exp() * st;
                    let bbox = BBox {
                        x0: (cx - w / 2.0) / scale,
                        y0: (cy - h / 2.0) / scale,
                        x1: (cx + w / 2.0) / scale,
                        y1: (cy + h / 2.0) / scale,
                    }
                    .clip(frame_w, frame_h);
                    if bbox.area() <= 0.0 {
                        continue;
                    }
                    // Each wanted class is scored on its own rather than taking the arg-max over all 80: a
                    // rider whose anchor scores "motorcycle" highest is still a person to be masked.
                    for &class in want {
                        let prob = coco_classes(class)
                            .iter()
                            .map(|&k| p[5 + k])
                            .fold(0.0f32, f32::max);
                        let score = obj * prob;
                        if score >= self.conf_threshold {
                            dets.push(Detection { bbox, score, class });
                        }
                    }
                }
            }
        }
        Ok(nms(dets, self.nms_iou))
    }
}

pub struct YoloxDetector<B: Backend> {
    backend: B,
    decoder: YoloxDecoder,
    want: Vec<Class>,
}

impl<B: Backend> YoloxDetector<B> {
    pub fn new(backend: B, want: Vec<Class>) -> Self {
        YoloxDetector {
            backend,
            decoder: YoloxDecoder::default(),
            want,
        }
    }

    pub fn with_decoder(mut self, decoder: YoloxDecoder) -> Self {
        self.decoder = decoder;
        self
    }
}

impl<B: Backend> Detector for YoloxDetector<B> {
    fn detect(&self, frame: &FrameRef<'_>) -> Result<Vec<Detection>, DetectError> {
        let (input, scale) = letterbox_bgr(frame, self.decoder.input_size, PAD);
        let out = self.backend.run(input)?;
        let first = out.first().ok_or_else(|| DetectError::BadOutput {
            model: self.backend.model_name().into(),
            what: "no output".into(),
        })?;
        self.decoder
            .decode(first, scale, frame.width(), frame.height(), &self.want)
    }

    fn name(&self) -> &str {
        "yolox_nano"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mask::{Layout, PixelFormat};

    fn head_with(hot: &[(usize, [f32; 4], f32, usize, f32)]) -> Tensor {
        let rows = YoloxDecoder::default().rows();
        let mut data = vec![0.0; rows * 85];
        for &(row, reg, obj, class, prob) in hot {
            let p = &mut data[row * 85..(row + 1) * 85];
            p[..4].copy_from_slice(&reg);
            p[4] = obj;
            p[5 + class] = prob;
        }
        Tensor {
            shape: vec![1, rows, 85],
            data,
        }
    }

    #[test]
    fn decodes_one_anchor_on_the_stride_16_grid() {
        // Stride 16 rows start after 52² stride-8 rows; cell (gx=3, gy=2) of the 26-wide grid.
        let row = 52 * 52 + 2 * 26 + 3;
        let t = head_with(&[(row, [0.5, 0.5, (2.0f32).ln(), (4.0f32).ln()], 0.9, 0, 0.8)]);
        let dets = YoloxDecoder::default()
            .decode(&t, 0.5, 1000, 1000, &[Class::Person])
            .unwrap();
        assert_eq!(dets.len(), 1);
        let d = dets[0];
        // centre (3.5*16, 2.5*16) = (56, 40), size (32, 64) in model px; /0.5 into frame px.
        assert_eq!(d.class, Class::Person);
        assert!((d.score - 0.72).abs() < 1e-5);
        let b = d.bbox;
        assert!(
            (b.x0 - 80.0).abs() < 1e-3 && (b.y0 - 16.0).abs() < 1e-3,
            "{b:?}"
        );
        assert!(
            (b.x1 - 144.0).abs() < 1e-3 && (b.y1 - 144.0).abs() < 1e-3,
            "{b:?}"
        );
    }

    #[test]
    fn unwanted_and_weak_classes_are_dropped() {
        let t = head_with(&[
            (10, [0.0, 0.0, 1.0, 1.0], 0.9, 2, 0.9),  // car
            (20, [0.0, 0.0, 1.0, 1.0], 0.9, 0, 0.1),  // person, score 0.09
            (30, [0.0, 0.0, 1.0, 1.0], 0.9, 15, 0.9), // cat
        ]);
        let d = YoloxDecoder::default();
        assert!(
            d.decode(&t, 1.0, 416, 416, &[Class::Person])
                .unwrap()
                .is_empty()
        );
        let cars = d.decode(&t, 1.0, 416, 416, &[Class::Vehicle]).unwrap();
        assert_eq!(cars.len(), 1);
        assert_eq!(cars[0].class, Class::Vehicle);
    }

    #[test]
    fn a_wanted_class_counts_even_when_another_class_scores_higher() {
        // A motorcyclist: the anchor's best class is motorcycle, yet the person score clears the threshold.
        let mut t = head_with(&[(40, [0.0, 0.0, 1.0, 1.0], 0.9, 3, 0.9)]);
        t.data[40 * 85 + 5] = 0.6; // person
        let d = YoloxDecoder::default();
        let persons = d.decode(&t, 1.0, 416, 416, &[Class::Person]).unwrap();
        assert_eq!(persons.len(), 1);
        assert_eq!(persons[0].class, Class::Person);
        assert!((persons[0].score - 0.54).abs() < 1e-5);
        let both = d
            .decode(&t, 1.0, 416, 416, &[Class::Person, Class::Vehicle])
            .unwrap();
        assert_eq!(both.len(), 2, "class-wise NMS keeps one box per class");
    }

    #[test]
    fn wrong_output_shape_is_an_error() {
        let t = Tensor {
            shape: vec![1, 10, 85],
            data: vec![0.0; 850],
        };
        assert!(matches!(
            YoloxDecoder::default().decode(&t, 1.0, 416, 416, &[Class::Person]),
            Err(DetectError::BadOutput { .. })
        ));
    }

    struct Fake(Tensor);
    impl Backend for Fake {
        fn run(&self, input: Tensor) -> Result<Vec<Tensor>, DetectError> {
            assert_eq!(input.shape, vec![1, 3, 416, 416]);
            Ok(vec![self.0.clone()])
        }
        fn model_name(&self) -> &str {
            "fake"
        }
    }

    #[test]
    fn detector_maps_boxes_back_to_frame_pixels() {
        // 832x624 frame → scale 0.5; a box centred at stride-8 cell (10, 10) = (84, 84) model px.
        let row = 10 * 52 + 10;
        let t = head_with(&[(row, [0.5, 0.5, (2.0f32).ln(), (2.0f32).ln()], 0.9, 0, 0.9)]);
        let det = YoloxDetector::new(Fake(t), vec![Class::Person]);
        let l = Layout::packed(PixelFormat::I420, 832, 624);
        let data = vec![128u8; l.min_len()];
        let dets = det.detect(&FrameRef::new(l, &data).unwrap()).unwrap();
        assert_eq!(dets.len(), 1);
        let b = dets[0].bbox;
        assert!(
            (b.x0 - 152.0).abs() < 1e-3 && (b.x1 - 184.0).abs() < 1e-3,
            "{b:?}"
        );
        assert!(
            (b.y0 - 152.0).abs() < 1e-3 && (b.y1 - 184.0).abs() < 1e-3,
            "{b:?}"
        );
    }

    #[test]
    fn wrong_row_count_from_the_backend_is_bad_output() {
        let t = Tensor {
            shape: vec![1, 3549, 84],
            data: vec![0.0; 3549 * 84],
        };
        let det = YoloxDetector::new(Fake(t), vec![Class::Person]);
        let l = Layout::packed(PixelFormat::I420, 64, 48);
        let data = vec![128u8; l.min_len()];
        assert!(matches!(
            det.detect(&FrameRef::new(l, &data).unwrap()),
            Err(DetectError::BadOutput { .. })
        ));
    }
}
