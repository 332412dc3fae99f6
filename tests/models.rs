//! The real models on real footage: YOLOX-nano finds the walkers of vtest.avi, CenterFace finds a face in
//! Megamind.avi, HyperLPR3 finds plates on the cars YOLOX finds in street stills, through the same
//! pre/post-processing the live pipeline uses.

mod common;

use common::*;
use detect::{
    BBox, CenterFaceDetector, Class, Detection, Detector, PlatesFromVehicles, YoloxDecoder,
    YoloxDetector,
};
use onnx::OrtBackend;
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

type Plates = PlatesFromVehicles<YoloxDetector<Arc<OrtBackend>>, Arc<OrtBackend>>;

/// YOLOX (vehicles only, at the shipped score threshold) feeding HyperLPR3 on vehicle crops.
fn plates_detector() -> Plates {
    let yolox = YoloxDetector::new(
        Arc::new(runtime().backend("yolox_nano").unwrap()),
        vec![Class::Vehicle],
    )
    .with_decoder(YoloxDecoder::default());
    PlatesFromVehicles::new(
        yolox,
        Arc::new(runtime().backend("hyperlpr3_320").unwrap()),
        false,
    )
}

/// Share of `gt` inside the best single plate box.
fn best_cover(gt: &BBox, dets: &[Detection]) -> f32 {
    dets.iter()
        .filter(|d| d.class == Class::Plate)
        .map(|d| {
            let ix = (gt.x1.min(d.bbox.x1) - gt.x0.max(d.bbox.x0)).max(0.0);
            let iy = (gt.y1.min(d.bbox.y1) - gt.y0.max(d.bbox.y0)).max(0.0);
            ix * iy / gt.area()
        })
        .fold(0.0, f32::max)
}

fn bbox(x0: f32, y0: f32, x1: f32, y1: f32) -> BBox {
    BBox { x0, y0, x1, y1 }
}

/// Paints luma `y` (neutral chroma) over a rectangle of a packed I420 frame.
fn paint(frame: &mut Frame, r: (u32, u32, u32, u32), y: u8) {
    let (w, h) = (frame.width, frame.height);
    let chroma = (w / 2 * h / 2) as usize;
    for row in r.1..r.3 {
        for col in r.0..r.2 {
            frame.data[(row * w + col) as usize] = y;
            let c = ((row / 2) * (w / 2) + col / 2) as usize;
            frame.data[(w * h) as usize + c] = 128;
            frame.data[(w * h) as usize + chroma + c] = 128;
        }
    }
}

/// A plate drawn where none was: white with a dark border and seven dark glyph bars, like a rendered plate.
fn draw_plate(frame: &mut Frame, x0: u32, y0: u32, w: u32, h: u32) {
    paint(frame, (x0, y0, x0 + w, y0 + h), 20);
    paint(frame, (x0 + 1, y0 + 1, x0 + w - 1, y0 + h - 1), 235);
    let glyph = (w - 6) / 7;
    for k in 0..7 {
        let gx = x0 + 3 + k * glyph;
        paint(frame, (gx + 1, y0 + 3, gx + glyph - 1, y0 + h - 3), 20);
    }
}

#[test]
fn a_plate_drawn_on_a_street_car_is_found_and_covered() {
    // The white sedan of dlib's street still: its real plate is painted over and a rendered one drawn lower
    // on the bumper, so only a plate the pipeline finds by itself can be covered there.
    let mut frame = decode_image(&asset("street_cars"), 928, 478);
    paint(&mut frame, (710, 254, 742, 272), 200);
    draw_plate(&mut frame, 724, 282, 34, 16);
    let dets = plates_detector().detect(&frame.frame_ref()).unwrap();
    assert!(dets.iter().all(|d| d.class == Class::Plate), "{dets:?}");
    let drawn = bbox(724.0, 282.0, 758.0, 298.0);
    let cover = best_cover(&drawn, &dets);
    assert!(cover >= 0.9, "drawn plate {cover:.2} covered: {dets:?}");
    // Through the tracker into the mask coverage, as the live stage does: every pixel of the plate is masked.
    let mut tracker = detect::Tracker::new(detect::TrackerConfig::default());
    tracker.update(&dets);
    let mut coverage = mask::Coverage::new(frame.width, frame.height);
    for t in tracker.boxes() {
        let (x0, y0, x1, y1) = t.bbox.to_rect_px();
        coverage.add_rect(mask::RectPx { x0, y0, x1, y1 });
    }
    assert!((724..758).all(|x| (282..298).all(|y| coverage.is_covered(x, y))));
    // Nothing is left where the painted-over plate was.
    assert!(
        best_cover(&bbox(713.0, 257.0, 738.0, 268.0), &dets) < 0.5,
        "{dets:?}"
    );
}

/// Plates visible in the stills the manifest fetches (frame pixels, by hand): the blurred rear plate of
/// OpenCV's licenseplate_motion.jpg and the plates of dlib's two street scenes.
fn plate_ground_truth() -> Vec<(&'static str, (u32, u32), Vec<BBox>)> {
    vec![
        (
            "licenseplate_motion",
            (600, 482),
            vec![bbox(228.0, 225.0, 360.0, 295.0)],
        ),
        (
            "street_cars",
            (928, 478),
            vec![
                bbox(139.0, 275.0, 171.0, 288.0),
                bbox(327.0, 249.0, 349.0, 260.0),
                bbox(481.0, 224.0, 498.0, 233.0),
                bbox(713.0, 257.0, 738.0, 268.0),
            ],
        ),
        (
            // 2482 px wide, decoded at 2480 (packed I420 wants a multiple of 4): 0.1% narrower.
            "street_cars_wide",
            (2480, 614),
            vec![
                bbox(160.0, 332.0, 190.0, 346.0),
                bbox(533.0, 321.0, 570.0, 340.0),
                bbox(1214.0, 322.0, 1263.0, 345.0),
                bbox(2013.0, 308.0, 2053.0, 325.0),
            ],
        ),
    ]
}

#[test]
fn real_plates_on_street_cars_are_found() {
    let detector = plates_detector();
    let mut found = 0;
    let mut missed = Vec::new();
    for (name, (w, h), plates) in plate_ground_truth() {
        let frame = decode_image(&asset(name), w, h);
        let dets = detector.detect(&frame.frame_ref()).unwrap();
        for p in &plates {
            if best_cover(p, &dets) >= 0.5 {
                found += 1;
            } else {
                missed.push(format!("{name} {p:?}"));
            }
        }
    }
    // 9 plates, 8 of them found when this test was written; the one missed is 22 px wide, on the second of
    // three taxis parked in a row.
    assert!(found >= 7, "found {found} of 9 plates; missed {missed:?}");
}

/// `cargo test --release -p garim --test models -- --ignored --nocapture plate_recall` prints per-plate
/// results, the recall, and the plate model's cost per vehicle crop.
#[test]
#[ignore = "measurement; run in release"]
fn plate_recall_and_cost() {
    let detector = plates_detector();
    let (mut found, mut total, mut whole_found) = (0, 0, 0);
    for (name, (w, h), plates) in plate_ground_truth() {
        let frame = decode_image(&asset(name), w, h);
        let dets = detector.detect(&frame.frame_ref()).unwrap();
        // The alternative: the plate model once on the whole frame, no vehicles.
        let whole: Vec<Detection> = detector
            .plates_in(&frame.frame_ref(), bbox(0.0, 0.0, w as f32, h as f32))
            .unwrap()
            .iter()
            .map(|q| Detection {
                bbox: q.bbox(),
                score: q.score,
                class: Class::Plate,
            })
            .collect();
        for p in &plates {
            let c = best_cover(p, &dets);
            let cw = best_cover(p, &whole);
            total += 1;
            found += usize::from(c >= 0.5);
            whole_found += usize::from(cw >= 0.5);
            println!("{name} {p:?}: covered {c:.2} (whole frame {cw:.2})");
        }
        let extra = dets
            .iter()
            .filter(|d| plates.iter().all(|p| d.bbox.iou(p) == 0.0))
            .count();
        println!(
            "{name}: {} plate boxes, {extra} not on a listed plate",
            dets.len()
        );
    }
    println!(
        "plate recall {found}/{total} on vehicle crops, {whole_found}/{total} on whole frames"
    );
    let frame = decode_image(&asset("street_cars"), 928, 478);
    let crop = bbox(655.0, 195.0, 829.0, 331.0);
    let n = 30;
    let t = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(detector.plates_in(&frame.frame_ref(), crop).unwrap());
    }
    println!("plate model per vehicle crop: {:?}", t.elapsed() / n);
}

/// `hardware = "cuda"` where the ONNX Runtime library has no CUDA (CI, this machine): the models run on the
/// CPU and the placement (shown in /healthz and as `garim_inference_provider`) says why. Where CUDA is there,
/// its people match the CPU's.
#[test]
fn a_gpu_provider_that_is_not_there_falls_back_to_the_cpu_saying_why() {
    let cuda = onnx::Runtime::init(onnx::RuntimeOptions {
        models_dir: Some(models_dir()),
        hardware: vocab::Hardware::Cuda,
        ..Default::default()
    })
    .unwrap();
    let backend = cuda.backend("yolox_nano").unwrap();
    let frames = decode_file(&asset("vtest"), 101);
    let frame = frames.last().expect("vtest decodes");
    let people = |b: OrtBackend| -> Vec<Detection> {
        YoloxDetector::new(Arc::new(b), vec![Class::Person])
            .detect(&frame.frame_ref())
            .unwrap()
            .into_iter()
            .filter(|d| d.score >= 0.5)
            .collect()
    };
    let placement = cuda.placement();
    assert_eq!(placement.requested, vocab::Hardware::Cuda);
    if !onnx::offered().contains(&onnx::Provider::Cuda) {
        assert_eq!(backend.provider(), onnx::Provider::Cpu);
        assert_eq!(placement.provider, onnx::Provider::Cpu);
        let why = placement.reason.expect("a reason");
        assert!(
            why.contains("CUDAExecutionProvider is not in this ONNX Runtime"),
            "{why}"
        );
        let metrics = telemetry::metrics().encode_text();
        assert!(
            metrics.contains(r#"garim_inference_provider{provider="cpu"} 1"#)
                && metrics.contains(r#"garim_inference_provider{provider="cuda"} 0"#),
            "{metrics}"
        );
        assert!(people(backend).len() >= 4, "the CPU fallback detects");
        eprintln!(
            "GPU comparison skipped: this ONNX Runtime library has no CUDA execution provider"
        );
        return;
    }
    let on_gpu = people(backend);
    let on_cpu = people(runtime().backend("yolox_nano").unwrap());
    assert_eq!(on_gpu.len(), on_cpu.len(), "{on_gpu:?} vs {on_cpu:?}");
    for g in &on_gpu {
        assert!(
            on_cpu
                .iter()
                .any(|c| c.bbox.iou(&g.bbox) >= 0.9 && (c.score - g.score).abs() <= 0.05),
            "{g:?} has no CPU match in {on_cpu:?}"
        );
    }
}
