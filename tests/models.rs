//! The real models on real footage: YOLOX-nano finds the walkers of vtest.avi, CenterFace finds a face in
//! Megamind.avi, through the same pre/post-processing the live pipeline uses.

mod common;

use common::*;
use detect::{CenterFaceDetector, Class, Detector, YoloxDetector};
use std::sync::Arc;

#[test]
fn yolox_finds_people_on_a_vtest_frame() {
    let frames = decode_file(&asset("vtest"), 101);
    let frame = frames.last().expect("vtest decodes");
    assert_eq!((frame.width, frame.height), (768, 576));
    let yolox = YoloxDetector::new(
        Arc::new(runtime().backend("yolox_nano").unwrap()),
        vec![Class::Person],
    );
    let people: Vec<_> = yolox
        .detect(&frame.frame_ref())
        .unwrap()
        .into_iter()
        .filter(|d| d.score >= 0.5)
        .collect();
    assert!(
        people.len() >= 4,
        "found {} people: {people:?}",
        people.len()
    );
    for p in &people {
        let h = p.bbox.y1 - p.bbox.y0;
        assert!(
            p.class == Class::Person && (30.0..300.0).contains(&h),
            "{p:?}"
        );
        assert!(
            p.bbox.x0 >= 0.0 && p.bbox.x1 <= 768.0 && p.bbox.y1 <= 576.0,
            "{p:?}"
        );
    }
}

#[test]
fn centerface_finds_a_face_in_megamind() {
    let frames = decode_file(&asset("megamind"), 60);
    let centerface = CenterFaceDetector::new(Arc::new(runtime().backend("centerface").unwrap()));
    let found = frames
        .iter()
        .step_by(10)
        .map(|f| centerface.detect(&f.frame_ref()).unwrap())
        .filter(|faces| {
            faces
                .iter()
                .any(|d| d.class == Class::Face && d.score >= 0.5)
        })
        .count();
    assert!(
        found >= 3,
        "faces found in only {found} of 6 sampled Megamind frames"
    );
}
