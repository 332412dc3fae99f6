//! Re-aim / tamper detection with real pictures: a `videotestsrc` camera that pans away is masked whole (reason
//! `scene_changed`) through `MaskingStage`, stays so when it pans back, and is masked normally again once
//! `garim scene accept` (the real binary) asks the guard to take the view — refused when the view moved and
//! the privacy masks were not checked. And vtest.avi — people walking, played twice as the simulated camera
//! loops it — never trips the guard, while shifted, covered, blinded and blurred versions of it do; the scores
//! are printed so the margins can be read (`cargo test --release -p garim --test scene -- --nocapture`).

mod common;

use common::*;
use detect::{BBox, Class, DetectError, Detection, Detector, TrackerConfig};
use mask::scene::{SceneFingerprint, SceneThresholds, compare};
use mask::{FrameRef, Layout, MaskStyle, PixelFormat, Polygon, SceneVerdict};
use stage::scene::{AcceptRequest, SceneConfig, SceneGuard, SceneHold, SceneInbox};
use stage::{FailClosedReason, MaskingStage, StageConfig};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const W: u32 = 320;
const H: u32 = 240;
const FILL_Y: u8 = 16;

/// `n` frames of SMPTE bars scrolling left by `speed` pixels per frame (0: the still camera).
fn smpte(speed: i32, n: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for_each_frame(
        &format!(
            "videotestsrc pattern=smpte horizontal-speed={speed} num-buffers={n} \
             ! video/x-raw,format=I420,width={W},height={H} ! appsink name=sink sync=false"
        ),
        Duration::from_secs(120),
        |f| {
            out.push(f.data);
            true
        },
    );
    assert_eq!(out.len(), n);
    out
}

/// Always finds one person in the same place.
struct OnePerson;
impl Detector for OnePerson {
    fn detect(&self, _: &FrameRef<'_>) -> Result<Vec<Detection>, DetectError> {
        Ok(vec![Detection {
            bbox: BBox {
                x0: 20.0,
                y0: 20.0,
                x1: 60.0,
                y1: 120.0,
            },
            score: 0.9,
            class: Class::Person,
        }])
    }
    fn name(&self) -> &str {
        "one-person"
    }
}

const MASK: &str = "[[0.7, 0.7], [0.9, 0.7], [0.9, 0.9]]";

fn site(storage: &Path) -> String {
    site_policy(
        19290,
        19291,
        storage,
        "",
        &format!(
            "[[cameras]]\nid = \"gate\"\nurl = \"rtsp://127.0.0.1:1/gate\"\nprivacy_masks = [{MASK}]\n"
        ),
    )
}

fn gate_stage(storage: &Path, inbox: &SceneInbox, events: Events) -> MaskingStage {
    let mut s = MaskingStage::new(
        StageConfig {
            camera: "gate".into(),
            deadline: Duration::from_millis(500),
            detect_every: 1,
            style: MaskStyle::Fill {
                y: FILL_Y,
                u: 128,
                v: 128,
            },
            privacy_masks: vec![Polygon(vec![[0.7, 0.7], [0.9, 0.7], [0.9, 0.9]])],
            recording_zones: Vec::new(),
            motion_gate: false,
            tracker: TrackerConfig::default(),
        },
        Arc::new(OnePerson),
    );
    // Every frame is checked (0.1 s at the assumed 10 fps), so "from the shift on" is exact.
    s.set_scene_guard(Some(
        SceneConfig::every(Duration::from_millis(100), Some(storage.to_path_buf()))
            .with_inbox(inbox.clone())
            .with_events(Arc::new(move |camera, row| {
                let mut row = row.clone();
                row["camera"] = camera.into();
                events.lock().unwrap().push(row);
                Ok(())
            })),
    ));
    s
}

type Events = Arc<std::sync::Mutex<Vec<serde_json::Value>>>;

/// Masks each frame; returns the fail-closed reasons (and checks what each kind of frame looks like).
fn run(s: &mut MaskingStage, frames: &[Vec<u8>]) -> Vec<Option<FailClosedReason>> {
    let layout = Layout::packed(PixelFormat::I420, W, H);
    frames
        .iter()
        .map(|f| {
            let out = s.mask(layout, f.clone(), Instant::now()).unwrap();
            let luma = &out.data()[..(W * H) as usize];
            match out.outcome().fail_closed {
                Some(FailClosedReason::SceneChanged) => {
                    assert!(
                        luma.iter().all(|&v| v == FILL_Y),
                        "scene_changed frame not whole-masked"
                    )
                }
                None => {
                    assert!(out.outcome().boxes >= 1);
                    // The person's box is masked, and the rest of the picture is the camera's.
                    assert_eq!(luma[(40 * W + 40) as usize], FILL_Y);
                    assert_eq!(luma[(200 * W + 100) as usize], f[(200 * W + 100) as usize]);
                }
                Some(other) => panic!("unexpected fail-closed reason {other:?}"),
            }
            out.outcome().fail_closed
        })
        .collect()
}

fn changed(r: &[Option<FailClosedReason>]) -> bool {
    r.iter().all(|o| *o == Some(FailClosedReason::SceneChanged))
}

fn normal(r: &[Option<FailClosedReason>]) -> bool {
    r.iter().all(|o| o.is_none())
}

fn accept(config: &Path, extra: &[&str]) -> (bool, String, String) {
    let mut cmd = garim();
    cmd.args(["scene", "accept", "--config", config.to_str().unwrap()])
        .args(["--camera", "gate", "--user", "m"])
        .env("GARIM_PASSWORD", TEST_PASSWORD)
        .args(extra);
    let mut child = spawn(&mut cmd);
    collect(&mut child)
}

fn status_json(config: &Path) -> serde_json::Value {
    let mut child = spawn(garim().args([
        "scene",
        "status",
        "--config",
        config.to_str().unwrap(),
        "--format",
        "json",
    ]));
    let (ok, out, err) = collect(&mut child);
    assert!(ok, "{err}");
    serde_json::from_str::<serde_json::Value>(&out).unwrap()["cameras"][0].clone()
}

#[test]
fn panned_test_pattern_is_masked_whole_until_a_manager_accepts_the_view() {
    let dir = temp_dir("scene-pan");
    let config = dir.join("site.toml");
    std::fs::write(&config, site(&dir.join("data"))).unwrap();
    let storage = dir.join("data");
    let still = smpte(0, 1).remove(0);
    let pan = smpte(4, 13); // 4 px per frame: 48 px (15% of the width) at the end
    let away = pan[12].clone();
    // The site's seam: acceptances arrive in the guard's inbox, events go to the ledger (here: in memory).
    let inbox = SceneInbox::default();
    let events = Events::default();
    let mut s = gate_stage(&storage, &inbox, events.clone());
    let by_manager = |zones_checked| {
        inbox.request(AcceptRequest {
            by: "m (과장)".into(),
            zones_checked,
            requested_unix: 0,
        })
    };

    // The still camera: reference taken, every frame masked normally (the person's box only).
    assert!(normal(&run(&mut s, &vec![still.clone(); 20])));
    assert_eq!(status_json(&config)["alarm"], serde_json::Value::Null);

    // The camera pans away: from the first frame the change is visible on (8 px, 2.5%), every frame is
    // masked whole; then it latches.
    let r = run(&mut s, &pan);
    let first = r.iter().position(|o| o.is_some()).expect("pan detected");
    assert!(first <= 2, "pan first seen at {} px", first * 4);
    assert!(normal(&r[..first]) && changed(&r[first..]), "{r:?}");
    assert!(changed(&run(&mut s, &vec![away.clone(); 10])));
    let st = s.scene_guard().unwrap().state().clone();
    assert_eq!(
        st.alarm.as_ref().expect("latched").verdict,
        SceneVerdict::Turned
    );
    // The newest estimate: the bars moved left by 48 px.
    let shift = st.current_shift().unwrap();
    assert!((shift.dx + 48.0 / W as f32).abs() < 0.02, "{shift:?}");
    let m = telemetry::metrics();
    assert_eq!(m.scene_changed.with_label_values(&["gate"]).get(), 1);
    assert_eq!(
        m.scene_changes_total
            .with_label_values(&["gate", "turned"])
            .get(),
        1
    );
    let text = m.encode_text();
    assert!(text.contains(r#"garim_scene_changed{camera="gate"} 1"#));
    assert!(
        text.contains(r#"garim_fail_closed_frames_total{camera="gate",reason="scene_changed"}"#)
    );

    // While it points away, acceptance without --zones-checked is refused by the CLI, naming the mask.
    let status = status_json(&config);
    assert_eq!(status["alarm"]["verdict"], "turned");
    let (ok, _, err) = accept(&config, &[]);
    assert!(!ok);
    assert!(
        err.contains("cameras[gate].privacy_masks[0]") && err.contains("--zones-checked"),
        "{err}"
    );
    // The CLI cannot accept by itself (no file on disk accepts a view): it asks the running service's API as
    // a logged-in manager, and there is no service here.
    let (ok, _, err) = accept(&config, &["--zones-checked"]);
    assert!(!ok && err.contains("cannot reach the service"), "{err}");

    // Panned back: still masked whole (the re-aim is what must be reviewed).
    assert!(changed(&run(&mut s, &vec![still.clone(); 10])));

    // Now the view is the old one: the manager accepts without a zone check; the service applies it at its
    // next check and the camera is masked normally again (from the next detection on).
    by_manager(false);
    let r = run(&mut s, &vec![still.clone(); 6]);
    assert!(inbox.take_answer().is_some_and(|a| a.accepted));
    assert!(normal(&r[2..]), "{r:?}");
    let status = status_json(&config);
    assert_eq!(status["alarm"], serde_json::Value::Null);
    assert_eq!(status["last_acceptance"]["accepted"], true);
    assert_eq!(status["reference_by"], "m (과장)");
    assert_eq!(m.scene_changed.with_label_values(&["gate"]).get(), 0);

    // Turned away again and accepted with the zones checked: the new view becomes the reference.
    let r = run(&mut s, &vec![away.clone(); 6]);
    assert!(changed(&r));
    by_manager(true);
    let r = run(&mut s, &vec![away.clone(); 6]);
    assert!(normal(&r[2..]), "{r:?}");
    // ... and the old view is now the change.
    assert!(changed(&run(&mut s, &vec![still.clone(); 4])));

    let ledger: Vec<serde_json::Value> = events.lock().unwrap().clone();
    let events: Vec<_> = ledger
        .iter()
        .map(|r| r["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "reference_taken",
            "scene_changed",
            "accepted",
            "scene_changed",
            "accepted",
            "scene_changed"
        ]
    );
    assert_eq!(ledger[1]["verdict"], "turned");
    assert_eq!(ledger[2]["by"], "m (과장)");
    assert_eq!(ledger[4]["zones_checked"], true);
    assert!(ledger.iter().all(|r| r["camera"] == "gate"));
}

// ---- vtest.avi: the margins between people walking and a changed view ----

const VW: usize = 768;
const VH: usize = 576;

/// The luma of a `w`×`h` window at (ox, oy) of a vtest frame, as a packed I420 frame.
fn crop(f: &[u8], ox: usize, oy: usize, w: usize, h: usize) -> Vec<u8> {
    let mut out = vec![128u8; Layout::packed(PixelFormat::I420, w as u32, h as u32).min_len()];
    for y in 0..h {
        out[y * w..(y + 1) * w].copy_from_slice(&f[(oy + y) * VW + ox..(oy + y) * VW + ox + w]);
    }
    out
}

fn fingerprint(data: &[u8], w: usize, h: usize) -> SceneFingerprint {
    let layout = Layout::packed(PixelFormat::I420, w as u32, h as u32);
    SceneFingerprint::of(&FrameRef::new(layout, data).unwrap())
}

fn map_luma(f: &[u8], g: impl Fn(u8) -> u8) -> Vec<u8> {
    let mut out = f.to_vec();
    for v in &mut out[..VW * VH] {
        *v = g(*v);
    }
    out
}

/// The frame with its left `cols` columns taped over (or lit) in one grey.
fn tape(f: &[u8], cols: usize, v: u8) -> Vec<u8> {
    let mut out = f.to_vec();
    for y in 0..VH {
        out[y * VW..y * VW + cols].fill(v);
    }
    out
}

fn box_blur(f: &[u8], r: usize) -> Vec<u8> {
    let (w, h) = (VW, VH);
    let mut tmp = f.to_vec();
    let mut out = f.to_vec();
    for y in 0..h {
        for x in 0..w {
            let xs = x.saturating_sub(r)..(x + r + 1).min(w);
            let n = xs.len() as u32;
            tmp[y * w + x] = (xs.map(|xx| u32::from(f[y * w + xx])).sum::<u32>() / n) as u8;
        }
    }
    for y in 0..h {
        for x in 0..w {
            let ys = y.saturating_sub(r)..(y + r + 1).min(h);
            let n = ys.len() as u32;
            out[y * w + x] = (ys.map(|yy| u32::from(tmp[yy * w + x])).sum::<u32>() / n) as u8;
        }
    }
    out
}

#[test]
fn vtest_people_walking_and_the_loop_seam_never_trip_the_guard() {
    let video = asset("vtest");
    let desc = format!(
        "filesrc location={} ! decodebin ! videoconvert ! video/x-raw,format=I420 ! appsink name=sink sync=false",
        video.display()
    );
    let t = SceneThresholds::default();
    // The guard as the service runs it (a check every 3 s at vtest's 10 fps would be every 30 frames; every
    // 3 frames here, so ~500 checks over the two loops), in memory.
    let mut guard = SceneGuard::open(
        "vtest",
        SceneConfig::every(Duration::from_millis(300), None),
    );
    let mut reference: Option<SceneFingerprint> = None;
    let (mut min_structure, mut min_layout) = (f32::MAX, f32::MAX);
    let (mut min_sharp, mut max_sharp, mut max_shift, mut max_gain) = (f32::MAX, 0f32, 0f32, 0f32);
    let mut max_flat = 0f32;
    let mut samples: Vec<Vec<u8>> = Vec::new();
    let mut changed_frames = 0;
    let mut index = 0;
    // Played twice, as the simulated camera loops it: the seam is crossed once.
    for _ in 0..2 {
        for_each_frame(&desc, Duration::from_secs(120), |f| {
            assert_eq!((f.width as usize, f.height as usize), (VW, VH));
            let frame = f.frame_ref();
            if guard.observe(&frame, &[], (0, 0)) == SceneHold::Changed {
                changed_frames += 1;
            }
            let fp = SceneFingerprint::of(&frame);
            match &reference {
                None if index == 30 => reference = Some(fp),
                Some(r) => {
                    let c = compare(r, &fp, &t);
                    assert_eq!(c.verdict, SceneVerdict::Same, "frame {index}: {}", c.reason);
                    min_structure = min_structure.min(c.scores.structure);
                    min_layout = min_layout.min(c.scores.layout);
                    min_sharp = min_sharp.min(c.scores.sharpness_ratio);
                    max_sharp = max_sharp.max(c.scores.sharpness_ratio);
                    max_shift = max_shift.max(c.scores.shift.magnitude());
                    max_gain = max_gain.max(c.scores.shift.score - c.scores.global);
                    max_flat = max_flat.max(c.scores.flat);
                }
                None => {}
            }
            if index < 795 && index % 200 == 100 {
                samples.push(f.data.clone());
            }
            index += 1;
            true
        });
    }
    assert!(index > 1500, "decoded {index} frames");
    assert_eq!(changed_frames, 0, "people walking tripped the scene guard");
    assert!(!guard.alarmed());
    println!(
        "vtest, {index} frames (two loops) vs frame 30: structure ≥ {min_structure:.2} (turned below {:.2}), \
         layout ≥ {min_layout:.2}, sharpness ratio {min_sharp:.2}..{max_sharp:.2} (defocused below {:.2}), \
         best shift ≤ {:.1}% gaining ≤ {max_gain:.2} (turned from {:.1}% gaining {:.2}), flat blocks ≤ {:.0}% \
         (covered from {:.0}%)",
        t.min_structure,
        t.min_sharpness_ratio,
        max_shift * 100.0,
        t.min_shift_cells / 64.0 * 100.0,
        t.shift_gain,
        max_flat * 100.0,
        t.max_flat * 100.0
    );
    assert!(min_structure > t.min_structure + 0.25);
    assert!(min_sharp > t.min_sharpness_ratio + 0.2);
    assert!(max_flat < t.max_flat / 2.0);

    // The same footage, changed: shifted windows (the camera turned), covered, blinded, defocused.
    let reference_frame = &samples[0];
    let (cw, ch) = (VW * 8 / 10, VH * 8 / 10);
    let (ox, oy) = (VW / 10, VH / 10);
    let (mut worst_turned, mut min_gain) = (f32::MIN, f32::MAX);
    for f in &samples {
        let home = fingerprint(&crop(reference_frame, ox, oy, cw, ch), cw, ch);
        for (dx, dy) in [
            (3i32, 0i32),
            (-3, 0),
            (5, 0),
            (10, 0),
            (0, 5),
            (0, -10),
            (5, 5),
        ] {
            let (x, y) = (
                (ox as i32 + dx * cw as i32 / 100) as usize,
                (oy as i32 + dy * ch as i32 / 100) as usize,
            );
            let c = compare(&home, &fingerprint(&crop(f, x, y, cw, ch), cw, ch), &t);
            assert_eq!(
                c.verdict,
                SceneVerdict::Turned,
                "shift ({dx}%, {dy}%): {}",
                c.reason
            );
            assert!(
                (c.scores.shift.dx * 100.0 + dx as f32).abs() < 1.0
                    && (c.scores.shift.dy * 100.0 + dy as f32).abs() < 1.0,
                "shift ({dx}%, {dy}%) estimated as {:?}",
                c.scores.shift
            );
            worst_turned = worst_turned.max(c.scores.structure);
            min_gain = min_gain.min(c.scores.shift.score - c.scores.global);
        }
        // The unshifted window of another moment is the same view, and so is one swayed by 1%.
        for dx in [0i32, 1, -1] {
            let x = (ox as i32 + dx * cw as i32 / 100) as usize;
            let c = compare(&home, &fingerprint(&crop(f, x, oy, cw, ch), cw, ch), &t);
            assert_eq!(c.verdict, SceneVerdict::Same, "sway {dx}%: {}", c.reason);
        }
    }
    println!(
        "vtest turned by 3..10% (people in both views): structure ≤ {worst_turned:.2}, moved view matching \
         better by ≥ {min_gain:.2}"
    );
    let r = fingerprint(reference_frame, VW, VH);
    for (name, f, want) in [
        (
            "black",
            map_luma(reference_frame, |_| 16),
            SceneVerdict::Covered,
        ),
        (
            "hand over the lens",
            map_luma(reference_frame, |v| 18 + v / 24),
            SceneVerdict::Covered,
        ),
        (
            "left third taped",
            tape(reference_frame, VW / 3, 16),
            SceneVerdict::Covered,
        ),
        (
            "left half taped",
            tape(reference_frame, VW / 2, 16),
            SceneVerdict::Covered,
        ),
        (
            "left third lit",
            tape(reference_frame, VW / 3, 235),
            SceneVerdict::Blinded,
        ),
        (
            "white",
            map_luma(reference_frame, |_| 235),
            SceneVerdict::Blinded,
        ),
        (
            "flashlight",
            map_luma(reference_frame, |v| (u32::from(v) * 3).min(235) as u8),
            SceneVerdict::Blinded,
        ),
        (
            "3x3 blur",
            box_blur(reference_frame, 1),
            SceneVerdict::Defocused,
        ),
        (
            "7x7 blur",
            box_blur(reference_frame, 3),
            SceneVerdict::Defocused,
        ),
        (
            "brightness x0.7",
            map_luma(reference_frame, |v| (u32::from(v) * 7 / 10) as u8),
            SceneVerdict::Same,
        ),
        (
            "brightness x0.5",
            map_luma(reference_frame, |v| v / 2),
            SceneVerdict::Same,
        ),
        (
            "brightness +30",
            map_luma(reference_frame, |v| v.saturating_add(30)),
            SceneVerdict::Same,
        ),
    ] {
        let c = compare(&r, &fingerprint(&f, VW, VH), &t);
        let s = c.scores;
        println!(
            "vtest {name:>18}: {:<9} structure {:.2} flat {:.2} layout {:.2} sharpness {:.2} contrast {:.2} — {}",
            c.verdict.as_str(),
            s.structure,
            s.flat,
            s.layout,
            s.sharpness_ratio,
            s.contrast_ratio,
            c.reason
        );
        assert_eq!(c.verdict, want, "{name}: {}", c.reason);
    }
}

/// A covered (or blinded) lens is a fault to repair: even with `--zones-checked` the view is never accepted, and
/// every frame stays masked whole.
#[test]
fn a_partly_covered_view_is_never_accepted() {
    let dir = temp_dir("scene-covered");
    let storage = dir.join("data");
    let inbox = SceneInbox::default();
    let events = Events::default();
    let mut s = gate_stage(&storage, &inbox, events.clone());
    let still = smpte(0, 1).remove(0);
    assert!(normal(&run(&mut s, &vec![still.clone(); 20])));
    // The left third taped over.
    let mut taped = still.clone();
    for y in 0..H as usize {
        taped[y * W as usize..y * W as usize + W as usize / 3].fill(16);
    }
    assert!(changed(&run(&mut s, &vec![taped.clone(); 10])));
    let verdict = s
        .scene_guard()
        .unwrap()
        .state()
        .alarm
        .as_ref()
        .map(|a| a.verdict);
    assert_eq!(verdict, Some(SceneVerdict::Covered));
    inbox.request(AcceptRequest {
        by: "m (과장)".into(),
        zones_checked: true,
        requested_unix: 0,
    });
    assert!(changed(&run(&mut s, &vec![taped.clone(); 6])));
    let answer = inbox.take_answer().expect("answered");
    assert!(
        !answer.accepted && answer.message.contains("repair the camera"),
        "{answer:?}"
    );
    assert!(changed(&run(&mut s, &vec![taped; 4])), "still masked whole");
}
