//! The motion gate cannot make a still person leak: a person standing still for 10 s at 15 fps stays masked in
//! every frame, though the gate skips most detections and the detector misses the person on some runs.

use detect::{BBox, Class, DetectError, Detection, Detector, TrackerConfig};
use mask::{FrameRef, Layout, MaskStyle, PixelFormat};
use stage::{MaskingStage, StageConfig};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const W: u32 = 320;
const H: u32 = 240;
const FILL_Y: u8 = 16;

/// Finds the bright figure (luma 230) by scanning, but misses it on every 3rd run (a low score).
struct Bright {
    runs: AtomicUsize,
}

impl Detector for Bright {
    fn detect(&self, f: &FrameRef<'_>) -> Result<Vec<Detection>, DetectError> {
        let n = self.runs.fetch_add(1, Ordering::SeqCst);
        if n % 3 == 2 {
            return Ok(Vec::new());
        }
        let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
        for y in 0..f.height() {
            for x in 0..f.width() {
                if f.y(x as usize, y as usize) == 230 {
                    (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x + 1), y1.max(y + 1));
                }
            }
        }
        if x1 == 0 {
            return Ok(Vec::new());
        }
        Ok(vec![Detection {
            bbox: BBox {
                x0: x0 as f32,
                y0: y0 as f32,
                x1: x1 as f32,
                y1: y1 as f32,
            },
            score: 0.9,
            class: Class::Person,
        }])
    }
    fn name(&self) -> &str {
        "bright"
    }
}

/// A textured background; the person (luma 230) walks in from the left for 2 s, then stands still for 10 s.
fn frame(i: usize) -> (Layout, Vec<u8>) {
    let l = Layout::packed(PixelFormat::I420, W, H);
    let mut d = vec![128u8; l.min_len()];
    for y in 0..H as usize {
        for x in 0..W as usize {
            d[y * W as usize + x] = 40 + ((x * 7 + y * 3) % 150) as u8;
        }
    }
    let px = 10 + i.min(30) * 4;
    for y in 100..160 {
        for x in px..px + 24 {
            d[y * W as usize + x] = 230;
        }
    }
    (l, d)
}

#[test]
fn a_person_standing_still_stays_masked_in_every_frame() {
    let detector = Arc::new(Bright {
        runs: AtomicUsize::new(0),
    });
    let mut stage = MaskingStage::new(
        StageConfig {
            camera: "motion-still".into(),
            deadline: Duration::from_secs(2),
            detect_every: 0,
            style: MaskStyle::Fill {
                y: FILL_Y,
                u: 128,
                v: 128,
            },
            privacy_masks: Vec::new(),
            recording_zones: Vec::new(),
            tracker: TrackerConfig::default(),
            motion_gate: true,
        },
        detector.clone(),
    );
    stage.set_frame_rate(15.0);
    let frames = 15 * 12;
    for i in 0..frames {
        let (l, d) = frame(i);
        let px = 10 + i.min(30) * 4;
        let masked = stage.mask(l, d, Instant::now()).unwrap();
        assert!(
            masked.outcome().fail_closed.is_none(),
            "frame {i}: {:?}",
            masked.outcome()
        );
        let data = masked.data();
        for y in 100..160 {
            for x in px..px + 24 {
                assert_eq!(
                    data[y * W as usize + x],
                    FILL_Y,
                    "frame {i}: the person shows at ({x}, {y})"
                );
            }
        }
    }
    // Every 3rd frame is scheduled (5 a second at 15 fps); while the person stands still most are skipped,
    // but one runs at least every track hold (1.5 s): 10 s still means at least 6 runs.
    let scheduled = frames.div_ceil(3) as u64;
    let runs = detector.runs.load(Ordering::SeqCst) as u64;
    assert!(
        stage.detections_skipped() > scheduled / 2,
        "{} of {scheduled} skipped",
        stage.detections_skipped()
    );
    assert!(runs >= 10 + 6, "only {runs} detections ran");
    assert_eq!(runs + stage.detections_skipped(), scheduled);
}

#[test]
fn without_the_gate_every_scheduled_detection_runs() {
    let detector = Arc::new(Bright {
        runs: AtomicUsize::new(0),
    });
    let mut stage = MaskingStage::new(
        StageConfig {
            camera: "motion-off".into(),
            deadline: Duration::from_secs(2),
            detect_every: 0,
            style: MaskStyle::BLACK,
            privacy_masks: Vec::new(),
            recording_zones: Vec::new(),
            tracker: TrackerConfig::default(),
            motion_gate: false,
        },
        detector.clone(),
    );
    stage.set_frame_rate(15.0);
    for i in 0..90 {
        let (l, d) = frame(i);
        stage.mask(l, d, Instant::now()).unwrap();
    }
    assert_eq!(stage.detections_skipped(), 0);
    assert_eq!(detector.runs.load(Ordering::SeqCst), 30);
}
