//! Person-guided face regions. In wide CCTV views faces are 8–20 px tall: too small for a face detector at a
//! real-time input size, yet every such face sits on a body the person detector finds reliably. So a face
//! region is derived from each person box (its upper part), and a face detector at reduced size covers the
//! faces large enough to be found directly (and faces without a visible body).

use crate::types::{BBox, Class, DetectError, Detection, Detector};
use mask::FrameRef;

/// Turns the person detections of `inner` into face regions (the upper `head_frac` of each person box).
pub struct FacesFromPersons<D: Detector> {
    inner: D,
    /// Share of the person box height, from the top, that is masked as the face region.
    pub head_frac: f32,
    /// Also return the person detections themselves (when persons are masked too).
    pub keep_persons: bool,
}

impl<D: Detector> FacesFromPersons<D> {
    pub fn new(inner: D, keep_persons: bool) -> Self {
        FacesFromPersons {
            inner,
            head_frac: 0.5,
            keep_persons,
        }
    }
}

/// The face region of a person box.
pub fn head_region(person: &BBox, head_frac: f32) -> BBox {
    BBox {
        y1: person.y0 + person.height() * head_frac,
        ..*person
    }
}

impl<D: Detector> Detector for FacesFromPersons<D> {
    fn detect(&self, frame: &FrameRef<'_>) -> Result<Vec<Detection>, DetectError> {
        let dets = self.inner.detect(frame)?;
        let mut out = Vec::with_capacity(dets.len() * 2);
        for d in dets {
            if d.class == Class::Person {
                out.push(Detection {
                    bbox: head_region(&d.bbox, self.head_frac),
                    class: Class::Face,
                    ..d
                });
                if self.keep_persons {
                    out.push(d);
                }
            } else {
                out.push(d);
            }
        }
        Ok(out)
    }

    fn name(&self) -> &str {
        "faces-from-persons"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mask::{Layout, PixelFormat};

    struct Fixed(Vec<Detection>);
    impl Detector for Fixed {
        fn detect(&self, _: &FrameRef<'_>) -> Result<Vec<Detection>, DetectError> {
            Ok(self.0.clone())
        }
        fn name(&self) -> &str {
            "fixed"
        }
    }

    #[test]
    fn person_boxes_become_upper_half_face_regions() {
        let person = Detection {
            bbox: BBox {
                x0: 10.0,
                y0: 20.0,
                x1: 30.0,
                y1: 100.0,
            },
            score: 0.8,
            class: Class::Person,
        };
        let l = Layout::packed(PixelFormat::I420, 8, 8);
        let data = vec![0u8; l.min_len()];
        let f = FrameRef::new(l, &data).unwrap();
        let only_faces = FacesFromPersons::new(Fixed(vec![person]), false)
            .detect(&f)
            .unwrap();
        assert_eq!(only_faces.len(), 1);
        assert_eq!(only_faces[0].class, Class::Face);
        assert_eq!(
            only_faces[0].bbox,
            BBox {
                x0: 10.0,
                y0: 20.0,
                x1: 30.0,
                y1: 60.0
            }
        );
        let both = FacesFromPersons::new(Fixed(vec![person]), true)
            .detect(&f)
            .unwrap();
        assert_eq!(both.len(), 2);
        assert!(both.contains(&person));
    }
}
