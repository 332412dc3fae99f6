//! The fail-closed guarantees of `MaskingStage`, proven with fake detectors: a late, failing or not-yet-loaded
//! detector never lets an unmasked frame through, and each such frame is counted.

use detect::{BBox, Class, DetectError, Detection, Detector, TrackerConfig};
use mask::{FrameRef, Layout, MaskStyle, PixelFormat, Polygon};
use stage::{DetectorSlot, FailClosedReason, MaskingStage, StageConfig};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const W: u32 = 64;
const H: u32 = 48;
const FILL_Y: u8 = 16;

fn textured() -> (Layout, Vec<u8>) {
    let layout = Layout::packed(PixelFormat::I420, W, H);
    let mut data = vec![128u8; layout.min_len()];
    for y in 0..H as usize {
        for x in 0..W as usize {
            data[y * W as usize + x] = 40 + ((x * 7 + y * 13) % 180) as u8;
        }
    }
    (layout, data)
}

fn config(camera: &str, deadline_ms: u64, detect_every: u32) -> StageConfig {
    StageConfig {
        camera: camera.into(),
        deadline: Duration::from_millis(deadline_ms),
        detect_every,
        style: MaskStyle::Fill {
            y: FILL_Y,
            u: 128,
            v: 128,
        },
        privacy_masks: Vec::new(),
        recording_zones: Vec::new(),
        motion_gate: false,
        tracker: TrackerConfig {
            iou_match: 0.3,
            hold_frames: 5,
            dilate_frac: 0.0,
            hold_secs: 1.0,
        },
    }
}

fn fail_closed_count(camera: &str, reason: &str) -> u64 {
    telemetry::metrics()
        .fail_closed_frames_total
        .with_label_values(&[camera, reason])
        .get()
}

fn all_luma_masked(data: &[u8]) -> bool {
    data[..(W * H) as usize].iter().all(|&v| v == FILL_Y)
}

struct Sleeper(Duration);
impl Detector for Sleeper {
    fn detect(&self, _: &FrameRef<'_>) -> Result<Vec<Detection>, DetectError> {
        std::thread::sleep(self.0);
        Ok(Vec::new())
    }
    fn name(&self) -> &str {
        "sleeper"
    }
}

struct Failing;
impl Detector for Failing {
    fn detect(&self, _: &FrameRef<'_>) -> Result<Vec<Detection>, DetectError> {
        Err(DetectError::Inference {
            model: "failing".into(),
            reason: "injected".into(),
        })
    }
    fn name(&self) -> &str {
        "failing"
    }
}

/// Finds one person box, but only on the first call (later calls see nothing, as if detection missed).
struct OneShot {
    calls: AtomicUsize,
}
impl Detector for OneShot {
    fn detect(&self, _: &FrameRef<'_>) -> Result<Vec<Detection>, DetectError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(if n == 0 {
            vec![Detection {
                bbox: BBox {
                    x0: 10.0,
                    y0: 8.0,
                    x1: 20.0,
                    y1: 30.0,
                },
                score: 0.9,
                class: Class::Person,
            }]
        } else {
            Vec::new()
        })
    }
    fn name(&self) -> &str {
        "oneshot"
    }
}

#[test]
fn late_detection_masks_whole_frame() {
    let cam = "t-late";
    let mut stage = MaskingStage::new(
        config(cam, 20, 1),
        Arc::new(Sleeper(Duration::from_millis(120))),
    );
    for _ in 0..6 {
        let (layout, data) = textured();
        let out = stage.mask(layout, data, Instant::now()).unwrap();
        assert_eq!(out.outcome().fail_closed, Some(FailClosedReason::Late));
        assert!(
            all_luma_masked(out.data()),
            "a late frame left unmasked pixels"
        );
    }
    assert_eq!(fail_closed_count(cam, "late"), 6);
}

#[test]
fn detector_error_masks_whole_frame() {
    let cam = "t-error";
    let mut stage = MaskingStage::new(config(cam, 200, 1), Arc::new(Failing));
    for _ in 0..4 {
        let (layout, data) = textured();
        let out = stage.mask(layout, data, Instant::now()).unwrap();
        assert_eq!(
            out.outcome().fail_closed,
            Some(FailClosedReason::DetectorError)
        );
        assert!(all_luma_masked(out.data()));
    }
    assert_eq!(fail_closed_count(cam, "detector_error"), 4);
}

#[test]
fn frames_before_models_load_are_masked_whole_then_only_boxes() {
    let cam = "t-loading";
    let slot = DetectorSlot::empty("person");
    let mut stage = MaskingStage::new(config(cam, 200, 1), slot.clone());
    let (layout, data) = textured();
    let out = stage.mask(layout, data, Instant::now()).unwrap();
    assert_eq!(
        out.outcome().fail_closed,
        Some(FailClosedReason::ModelNotLoaded)
    );
    assert!(all_luma_masked(out.data()));
    assert_eq!(fail_closed_count(cam, "model_not_loaded"), 1);

    slot.set(Arc::new(OneShot {
        calls: AtomicUsize::new(0),
    }));
    let (layout, data) = textured();
    let original = data.clone();
    let out = stage.mask(layout, data, Instant::now()).unwrap();
    assert_eq!(out.outcome().fail_closed, None);
    let d = out.data();
    for y in 0..H as usize {
        for x in 0..W as usize {
            let i = y * W as usize + x;
            let inside = (10..20).contains(&x) && (8..30).contains(&y);
            if inside {
                assert_eq!(d[i], FILL_Y, "box pixel ({x},{y}) not masked");
            } else {
                assert_eq!(d[i], original[i], "pixel ({x},{y}) outside the box changed");
            }
        }
    }
}

#[test]
fn tracker_covers_frames_between_detections_and_missed_detections() {
    let cam = "t-track";
    let mut stage = MaskingStage::new(
        config(cam, 200, 2),
        Arc::new(OneShot {
            calls: AtomicUsize::new(0),
        }),
    );
    // Frame 1: detected. Frame 2: no detection run. Frame 3: detection misses. All must cover the box.
    for n in 0..3 {
        let (layout, data) = textured();
        let out = stage.mask(layout, data, Instant::now()).unwrap();
        assert_eq!(out.outcome().fail_closed, None, "frame {n}");
        assert!(out.outcome().boxes >= 1, "frame {n} lost the box");
        let d = out.data();
        for y in 8..30usize {
            for x in 10..20usize {
                assert_eq!(
                    d[y * W as usize + x],
                    FILL_Y,
                    "frame {n}: ({x},{y}) unmasked"
                );
            }
        }
    }
}

#[test]
fn late_verdict_carries_to_frames_between_detections() {
    let cam = "t-late-between";
    let mut stage = MaskingStage::new(
        config(cam, 20, 3),
        Arc::new(Sleeper(Duration::from_millis(80))),
    );
    for n in 0..6 {
        let (layout, data) = textured();
        let out = stage.mask(layout, data, Instant::now()).unwrap();
        assert!(
            out.outcome().fail_closed.is_some(),
            "frame {n} was vouched for by a late detection"
        );
        assert!(all_luma_masked(out.data()));
    }
}

#[test]
fn static_privacy_mask_is_always_applied() {
    let cam = "t-privacy";
    let mut cfg = config(cam, 200, 1);
    cfg.privacy_masks = vec![Polygon(vec![
        [0.0, 0.0],
        [0.5, 0.0],
        [0.5, 0.5],
        [0.0, 0.5],
    ])];
    let mut stage = MaskingStage::new(cfg, Arc::new(Sleeper(Duration::ZERO)));
    let (layout, data) = textured();
    let out = stage.mask(layout, data, Instant::now()).unwrap();
    assert_eq!(out.outcome().fail_closed, None);
    let d = out.data();
    assert!(d[0] == FILL_Y && d[(H as usize / 2 - 1) * W as usize + W as usize / 2 - 1] == FILL_Y);
    assert_ne!(d[(H as usize - 1) * W as usize + W as usize - 1], FILL_Y);
}

#[test]
fn recording_copy_keeps_only_the_recording_zone() {
    let cam = "t-zones";
    let mut stage = MaskingStage::new(config(cam, 200, 1), Arc::new(Sleeper(Duration::ZERO)));
    let (layout, data) = textured();
    let original = data.clone();
    let out = stage.mask(layout, data, Instant::now()).unwrap();
    let zone = Polygon(vec![[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]);
    let rec = out.limited_to(&[zone]);
    let (w, d) = (W as usize, rec.data());
    for y in 0..H as usize {
        for x in 0..w {
            let want = if x >= w / 2 { original[y * w + x] } else { 16 };
            assert_eq!(d[y * w + x], want, "({x},{y})");
        }
    }
    // The live frame is untouched by the recording limit.
    assert_eq!(out.data()[0], original[0]);
}

#[test]
fn sealed_copy_is_unmasked_inside_zones_but_honours_privacy_masks() {
    let (layout, data) = textured();
    let zone = Polygon(vec![[0.0, 0.0], [1.0, 0.0], [1.0, 0.5], [0.0, 0.5]]);
    let private = Polygon(vec![[0.0, 0.0], [0.25, 0.0], [0.25, 0.25], [0.0, 0.25]]);
    let sealed = stage::SealedFrame::capture(layout, &data, &[zone], &[private]).unwrap();
    let (w, h, d) = (W as usize, H as usize, sealed.data());
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let in_zone = y < h / 2;
            let in_private = x < w / 4 && y < h / 4;
            let want = if in_zone && !in_private { data[i] } else { 16 };
            assert_eq!(d[i], want, "({x},{y})");
        }
    }
}

#[test]
fn every_reason_is_exported_at_zero_before_any_frame() {
    let camera = "zero-series";
    let _stage = MaskingStage::new(
        config(camera, 50, 1),
        Arc::new(Sleeper(Duration::from_millis(1))),
    );
    let text = telemetry::metrics().encode_text();
    for r in FailClosedReason::ALL {
        let series = format!(
            "garim_fail_closed_frames_total{{camera=\"{camera}\",reason=\"{}\"}} 0",
            r.as_str()
        );
        assert!(text.contains(&series), "missing {series}");
    }
}
