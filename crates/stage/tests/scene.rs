//! The scene guard inside `MaskingStage`, with synthetic views: a turned, covered or blinded camera has every
//! frame masked whole (reason `scene_changed`) once the change is confirmed, the alarm latches (also across a
//! restart, and when the camera is turned back), raises the metrics and writes the ledger, and only an
//! acceptance request clears it — refused when the view moved and the zones were not checked, or when the
//! view is covered.

use detect::{BBox, Class, DetectError, Detection, Detector, TrackerConfig};
use mask::{FrameRef, Layout, MaskStyle, PixelFormat, Polygon, SceneVerdict};
use stage::scene::{AcceptRequest, CONFIRM_CHECKS, SceneConfig, SceneInbox, SceneStore};
use stage::{FailClosedReason, MaskingStage, StageConfig};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

const W: usize = 160;
const H: usize = 120;
const FILL_Y: u8 = 16;
/// One check every 3 frames at the assumed 10 fps; confirmations every frame.
const EVERY: Duration = Duration::from_millis(300);

/// Always finds one person at the same place.
struct OnePerson;
impl Detector for OnePerson {
    fn detect(&self, _: &FrameRef<'_>) -> Result<Vec<Detection>, DetectError> {
        Ok(vec![Detection {
            bbox: BBox {
                x0: 10.0,
                y0: 10.0,
                x1: 30.0,
                y1: 60.0,
            },
            score: 0.9,
            class: Class::Person,
        }])
    }
    fn name(&self) -> &str {
        "one-person"
    }
}

/// Rectangles of many sizes and greys on a canvas twice the frame, so a camera can be turned across it.
fn canvas() -> Vec<u8> {
    let (cw, ch) = (W * 2, H * 2);
    let mut c: Vec<u8> = (0..cw * ch)
        .map(|i| (70 + (i % cw) * 50 / cw) as u8)
        .collect();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut rnd = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    for _ in 0..160 {
        let (w, h) = (4 + rnd(30), 4 + rnd(26));
        let (x0, y0) = (rnd(cw - w), rnd(ch - h));
        let v = 30 + rnd(190) as u8;
        for y in y0..y0 + h {
            c[y * cw + x0..y * cw + x0 + w].fill(v);
        }
    }
    c
}

fn layout() -> Layout {
    Layout::packed(PixelFormat::I420, W as u32, H as u32)
}

/// The camera's view with its top-left corner at (ox, oy) of the canvas.
fn view(ox: usize, oy: usize) -> Vec<u8> {
    let c = canvas();
    let mut f = vec![128u8; layout().min_len()];
    for y in 0..H {
        let row = (oy + y) * W * 2 + ox;
        f[y * W..(y + 1) * W].copy_from_slice(&c[row..row + W]);
    }
    f
}

fn home() -> Vec<u8> {
    view(W / 2, H / 2)
}

fn turned() -> Vec<u8> {
    view(W / 2 + W / 8, H / 2)
}

fn black() -> Vec<u8> {
    let mut f = home();
    f[..W * H].fill(16);
    f
}

fn storage(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("garim-scene-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn stage(camera: &str, storage: &Path, zones: bool) -> MaskingStage {
    let mut s = MaskingStage::new(
        StageConfig {
            camera: camera.into(),
            deadline: Duration::from_millis(500),
            detect_every: 1,
            style: MaskStyle::Fill {
                y: FILL_Y,
                u: 128,
                v: 128,
            },
            privacy_masks: if zones {
                vec![Polygon(vec![[0.7, 0.7], [0.9, 0.7], [0.9, 0.9]])]
            } else {
                Vec::new()
            },
            recording_zones: Vec::new(),
            motion_gate: false,
            tracker: TrackerConfig::default(),
        },
        Arc::new(OnePerson),
    );
    let (inbox, events) = trail(storage);
    s.set_scene_guard(Some(
        SceneConfig::every(EVERY, Some(storage.to_path_buf()))
            .with_inbox(inbox)
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

/// The inbox and the events (the ledger, in memory) of the guards storing under `storage`: kept across a
/// restart of the stage, as the site keeps them.
fn trail(storage: &Path) -> (SceneInbox, Events) {
    static TRAILS: std::sync::Mutex<Vec<(PathBuf, SceneInbox, Events)>> =
        std::sync::Mutex::new(Vec::new());
    let mut all = TRAILS.lock().unwrap();
    if let Some((_, i, e)) = all.iter().find(|(p, _, _)| p == storage) {
        return (i.clone(), e.clone());
    }
    let t = (SceneInbox::default(), Events::default());
    all.push((storage.to_path_buf(), t.0.clone(), t.1.clone()));
    t
}

/// Feeds `n` copies of a view; returns each frame's fail-closed reason.
fn feed(s: &mut MaskingStage, view: &[u8], n: usize) -> Vec<Option<FailClosedReason>> {
    (0..n)
        .map(|_| {
            let out = s.mask(layout(), view.to_vec(), Instant::now()).unwrap();
            if out.outcome().fail_closed == Some(FailClosedReason::SceneChanged) {
                assert!(
                    out.data()[..W * H].iter().all(|&v| v == FILL_Y),
                    "a scene_changed frame left pixels unmasked"
                );
            }
            out.outcome().fail_closed
        })
        .collect()
}

fn all_clear(r: &[Option<FailClosedReason>]) -> bool {
    r.iter().all(|o| o.is_none())
}

fn all_changed(r: &[Option<FailClosedReason>]) -> bool {
    r.iter().all(|o| *o == Some(FailClosedReason::SceneChanged))
}

fn gauge(camera: &str) -> i64 {
    telemetry::metrics()
        .scene_changed
        .with_label_values(&[camera])
        .get()
}

fn changes(camera: &str, verdict: &str) -> u64 {
    telemetry::metrics()
        .scene_changes_total
        .with_label_values(&[camera, verdict])
        .get()
}

fn ledger_events(storage: &Path, camera: &str) -> Vec<String> {
    trail(storage)
        .1
        .lock()
        .unwrap()
        .iter()
        .filter(|v| v["camera"] == camera)
        .map(|v| v["event"].as_str().unwrap().to_string())
        .collect()
}

fn request(storage: &Path, _camera: &str, zones_checked: bool) {
    trail(storage).0.request(AcceptRequest {
        by: "m (manager)".into(),
        zones_checked,
        requested_unix: 0,
    });
}

/// Frames until the alarm latches after a change: the check that sees it plus the confirmations.
const LATCH_FRAMES: usize = 3 + CONFIRM_CHECKS as usize;

#[test]
fn turned_camera_is_masked_whole_until_accepted_even_when_turned_back() {
    let (cam, dir) = ("sc-turned", storage("turned"));
    let mut s = stage(cam, &dir, false);
    // The reference is taken one period in; the view stays the same: masked as usual (boxes only).
    assert!(all_clear(&feed(&mut s, &home(), 12)));
    assert!(s.scene_guard().unwrap().state().reference.is_some());
    assert_eq!(gauge(cam), 0);

    // Turned: from the first check that sees it, every frame is masked whole.
    let r = feed(&mut s, &turned(), 3 + LATCH_FRAMES + 6);
    let first = r.iter().position(|o| o.is_some()).expect("turn detected");
    assert!(first < 3, "detected at frame {first}");
    assert!(all_changed(&r[first..]), "{r:?}");
    let st = s.scene_guard().unwrap().state().clone();
    let alarm = st.alarm.expect("alarm latched");
    assert_eq!(alarm.verdict, SceneVerdict::Turned);
    // Content moved left by an eighth of the frame.
    assert!(
        (alarm.scores.shift.dx + 0.125).abs() < 0.02,
        "{:?}",
        alarm.scores.shift
    );
    assert_eq!(gauge(cam), 1);
    assert_eq!(changes(cam, "turned"), 1);

    // Turned back: still alarmed (the re-aim is the event to review).
    assert!(all_changed(&feed(&mut s, &home(), 12)));

    // A manager accepts; the view is the old one again, so no zone check is needed.
    request(&dir, cam, false);
    let r = feed(&mut s, &home(), 8);
    assert!(r.iter().rev().take(4).all(|o| o.is_none()), "{r:?}");
    let st = s.scene_guard().unwrap().state().clone();
    assert!(st.alarm.is_none());
    assert!(st.last_acceptance.as_ref().unwrap().accepted);
    assert_eq!(st.reference_by.as_deref(), Some("m (manager)"));
    assert_eq!(gauge(cam), 0);
    assert_eq!(
        ledger_events(&dir, cam),
        ["reference_taken", "scene_changed", "accepted"]
    );
    assert!(!trail(&dir).0.pending());
    assert!(trail(&dir).0.take_answer().is_some_and(|a| a.accepted));
}

#[test]
fn alarm_survives_a_restart() {
    let (cam, dir) = ("sc-restart", storage("restart"));
    let mut s = stage(cam, &dir, false);
    feed(&mut s, &home(), 6);
    feed(&mut s, &turned(), 3 + LATCH_FRAMES);
    assert!(s.scene_guard().unwrap().alarmed());
    drop(s);
    // A new process: the saved alarm holds from the very first frame, on any view.
    let mut s = stage(cam, &dir, false);
    assert_eq!(gauge(cam), 1);
    assert!(all_changed(&feed(&mut s, &home(), 10)));
    let saved = SceneStore::new(&dir).load(cam).unwrap().unwrap();
    assert!(saved.alarm.is_some() && saved.reference.is_some());
}

#[test]
fn saved_reference_catches_a_camera_turned_while_garim_was_down() {
    let (cam, dir) = ("sc-down", storage("down"));
    let mut s = stage(cam, &dir, false);
    feed(&mut s, &home(), 6);
    drop(s);
    let mut s = stage(cam, &dir, false);
    // Checked from the first frame: masked whole at once, latched after the confirmations.
    let r = feed(&mut s, &turned(), LATCH_FRAMES);
    assert!(all_changed(&r), "{r:?}");
    assert!(s.scene_guard().unwrap().alarmed());
}

#[test]
fn covered_and_blinded_cameras_raise_their_verdicts() {
    for (cam, view, verdict) in [
        ("sc-covered", black(), "covered"),
        (
            "sc-blinded",
            {
                let mut f = home();
                f[..W * H].fill(235);
                f
            },
            "blinded",
        ),
    ] {
        let dir = storage(cam);
        let mut s = stage(cam, &dir, false);
        feed(&mut s, &home(), 6);
        let r = feed(&mut s, &view, 3 + LATCH_FRAMES);
        assert!(r.iter().any(|o| o.is_some()));
        assert_eq!(
            s.scene_guard()
                .unwrap()
                .state()
                .alarm
                .as_ref()
                .unwrap()
                .verdict
                .as_str(),
            verdict
        );
        assert_eq!(changes(cam, verdict), 1);
    }
}

#[test]
fn a_moment_of_change_is_masked_but_not_latched() {
    let (cam, dir) = ("sc-moment", storage("moment"));
    let mut s = stage(cam, &dir, false);
    feed(&mut s, &home(), 6);
    // Covered for two checks (a truck passing close), then clear again before the confirmations end.
    let r = feed(&mut s, &black(), CONFIRM_CHECKS as usize);
    assert!(r.contains(&Some(FailClosedReason::SceneChanged)));
    let r = feed(&mut s, &home(), 6);
    assert!(r.last().unwrap().is_none(), "{r:?}");
    assert!(!s.scene_guard().unwrap().alarmed());
    assert_eq!(gauge(cam), 0);
    assert_eq!(ledger_events(&dir, cam), ["reference_taken"]);
}

#[test]
fn acceptance_of_a_moved_view_needs_the_zones_checked() {
    let (cam, dir) = ("sc-zones", storage("zones"));
    let mut s = stage(cam, &dir, true);
    feed(&mut s, &home(), 6);
    feed(&mut s, &turned(), 3 + LATCH_FRAMES);
    assert!(s.scene_guard().unwrap().alarmed());
    // Without --zones-checked: refused, naming the privacy mask; the alarm stays.
    request(&dir, cam, false);
    assert!(all_changed(&feed(&mut s, &turned(), 6)));
    let st = s.scene_guard().unwrap().state().clone();
    let refusal = st.last_acceptance.unwrap();
    assert!(!refusal.accepted);
    assert!(
        refusal.message.contains("privacy_masks[0]") && refusal.message.contains("--zones-checked"),
        "{}",
        refusal.message
    );
    assert!(st.alarm.is_some());
    // With it: the turned view becomes the reference, and is masked as usual from then on.
    request(&dir, cam, true);
    let r = feed(&mut s, &turned(), 8);
    assert!(r.iter().rev().take(4).all(|o| o.is_none()), "{r:?}");
    let st = s.scene_guard().unwrap().state().clone();
    assert!(st.alarm.is_none());
    let shift = st.last_acceptance.unwrap().shift.unwrap();
    assert!((shift.dx + 0.125).abs() < 0.02, "{shift:?}");
    assert_eq!(
        ledger_events(&dir, cam),
        [
            "reference_taken",
            "scene_changed",
            "accept_refused",
            "accepted"
        ]
    );
    // The old view is now the changed one.
    feed(&mut s, &home(), 3 + LATCH_FRAMES);
    assert!(s.scene_guard().unwrap().alarmed());
}

#[test]
fn a_covered_view_cannot_be_accepted() {
    let (cam, dir) = ("sc-accept-covered", storage("accept-covered"));
    let mut s = stage(cam, &dir, false);
    feed(&mut s, &home(), 6);
    feed(&mut s, &black(), 3 + LATCH_FRAMES);
    request(&dir, cam, true);
    assert!(all_changed(&feed(&mut s, &black(), 6)));
    let st = s.scene_guard().unwrap().state().clone();
    assert!(st.alarm.is_some());
    assert!(st.last_acceptance.unwrap().message.contains("covered"));
}

#[test]
fn a_request_without_an_alarm_is_refused_and_changes_nothing() {
    let (cam, dir) = ("sc-no-alarm", storage("no-alarm"));
    let mut s = stage(cam, &dir, false);
    feed(&mut s, &home(), 6);
    let before = s.scene_guard().unwrap().state().reference.clone();
    request(&dir, cam, false);
    assert!(all_clear(&feed(&mut s, &home(), 6)));
    let st = s.scene_guard().unwrap().state().clone();
    assert_eq!(st.reference, before);
    assert!(!st.last_acceptance.unwrap().accepted);
}

#[test]
fn a_covered_first_view_is_not_taken_as_the_reference() {
    let (cam, dir) = ("sc-first-covered", storage("first-covered"));
    let mut s = stage(cam, &dir, false);
    feed(&mut s, &black(), 9);
    assert!(s.scene_guard().unwrap().state().reference.is_none());
    feed(&mut s, &home(), 4);
    assert!(s.scene_guard().unwrap().state().reference.is_some());
}

#[test]
fn unreadable_state_fails_closed_until_a_manager_accepts_the_view() {
    // The lost file may have held an alarm: the camera is masked whole (also after a restart) until accepted.
    let (cam, dir) = ("sc-corrupt", storage("corrupt"));
    let store = SceneStore::new(&dir);
    std::fs::create_dir_all(store.state_path(cam).parent().unwrap()).unwrap();
    std::fs::write(store.state_path(cam), "{not json").unwrap();
    let mut s = stage(cam, &dir, false);
    assert!(all_changed(&feed(&mut s, &home(), 6)));
    assert!(s.scene_guard().unwrap().alarmed());
    assert!(s.scene_guard().unwrap().state().reference.is_some());
    drop(s);
    let mut s = stage(cam, &dir, false);
    assert!(
        all_changed(&feed(&mut s, &home(), 6)),
        "still alarmed after a restart"
    );
    request(&dir, cam, false);
    feed(&mut s, &home(), 12);
    assert!(!s.scene_guard().unwrap().alarmed());
    assert!(all_clear(&feed(&mut s, &home(), 6)));
    assert_eq!(
        ledger_events(&dir, cam),
        ["state_unreadable", "reference_taken", "accepted"]
    );
    let aside = std::fs::read_dir(store.state_path(cam).parent().unwrap())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("unreadable")
        })
        .count();
    assert_eq!(aside, 1);
}

#[test]
fn stage_without_a_guard_never_fingerprints() {
    let mut s = stage("sc-none", &storage("none"), false);
    s.set_scene_guard(None);
    assert!(all_clear(&feed(&mut s, &home(), 4)));
    assert!(all_clear(&feed(&mut s, &black(), 10)));
}

#[test]
fn a_new_stream_is_checked_on_its_first_frame() {
    // Two cameras, same history: the reference taken, then one frame past a check. The next scheduled check is
    // a period away; a reconnect (recheck) brings it to the very next frame.
    let run = |cam: &str, recheck: bool| {
        let dir = storage(cam);
        let mut s = stage(cam, &dir, false);
        // Checks every 3 frames at the default 10 fps: reference at frame 3, checks at 6, 9, 12.
        feed(&mut s, &home(), 13);
        assert!(s.scene_guard().unwrap().state().reference.is_some());
        if recheck {
            s.recheck_scene();
        }
        feed(&mut s, &turned(), 1)[0]
    };
    assert_eq!(run("sc-steady", false), None, "not yet due");
    assert_eq!(
        run("sc-reconnect", true),
        Some(FailClosedReason::SceneChanged)
    );
}
