//! Detection without a model runtime: the `Detector` trait, pre- and post-processing for YOLOX-nano,
//! CenterFace and HyperLPR3 (plates on vehicle crops); the models themselves run behind `Backend`. Also NMS
//! and the tracker that carries boxes between detections. Boxes are in frame pixels.

pub mod centerface;
pub mod heads;
pub mod nms;
pub mod plate;
pub mod preprocess;
pub mod tracker;
pub mod types;
pub mod yolox;

pub use centerface::{CenterFaceDecoder, CenterFaceDetector};
pub use heads::{FacesFromPersons, head_region};
pub use nms::nms;
pub use plate::{HyperLprDecoder, PlateQuad, PlatesFromVehicles};
pub use preprocess::{Letterbox, crop_resize_rgb, letterbox_bgr, letterbox_crop_rgb};
pub use tracker::{Tracker, TrackerConfig};
pub use types::{BBox, Backend, Class, DetectError, Detection, Detector, Tensor};
pub use yolox::{YoloxDecoder, YoloxDetector};

#[cfg(test)]
mod tests {
    use super::*;

    fn d(x: f32, score: f32, class: Class) -> Detection {
        Detection {
            bbox: BBox {
                x0: x,
                y0: 0.0,
                x1: x + 10.0,
                y1: 10.0,
            },
            score,
            class,
        }
    }

    #[test]
    fn nms_suppresses_overlapping_same_class_only() {
        let kept = nms(
            vec![
                d(0.0, 0.5, Class::Person),
                d(1.0, 0.9, Class::Person),
                d(1.0, 0.4, Class::Face),
                d(50.0, 0.3, Class::Person),
            ],
            0.45,
        );
        assert_eq!(kept.len(), 3);
        assert_eq!(kept[0].score, 0.9);
        assert!(kept.iter().any(|k| k.class == Class::Face));
    }

    #[test]
    fn bbox_geometry() {
        let a = BBox {
            x0: 0.0,
            y0: 0.0,
            x1: 10.0,
            y1: 10.0,
        };
        let b = BBox {
            x0: 5.0,
            y0: 0.0,
            x1: 15.0,
            y1: 10.0,
        };
        assert!((a.iou(&b) - 50.0 / 150.0).abs() < 1e-6);
        assert_eq!(
            a.dilate(0.1),
            BBox {
                x0: -1.0,
                y0: -1.0,
                x1: 11.0,
                y1: 11.0
            }
        );
        assert_eq!(a.dilate(0.1).clip(10, 10), a);
        assert_eq!(
            BBox {
                x0: 0.5,
                y0: 1.2,
                x1: 3.1,
                y1: 4.0
            }
            .to_rect_px(),
            (0, 1, 4, 4)
        );
    }

    #[test]
    fn class_lists_parse_and_reject_unknown_names() {
        assert_eq!(
            Class::parse_list("person, face,person").unwrap(),
            vec![Class::Person, Class::Face]
        );
        let e = Class::parse_list("person,dog").unwrap_err();
        assert!(
            e.contains("\"dog\"") && e.contains("person, face, plate, vehicle"),
            "{e}"
        );
    }
}
