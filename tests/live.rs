//! The live pipeline end to end, on 127.0.0.1: `garim demo` masks what the person detector finds in the
//! source frames, records a playable segment and exports valid metrics; a camera that dies and comes back
//! is reconnected while its masked output keeps running, and a camera with bad credentials never leaks them.

mod common;

use common::*;
use detect::{Class, Detector, YoloxDetector};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The live tests bind fixed ports and load both cores; run them one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// 4× smaller luma, for matching output frames to source frames.
fn thumb(f: &Frame) -> Vec<i32> {
    let (w, h) = (f.width / 4, f.height / 4);
    let mut t = Vec::with_capacity((w * h) as usize);
    for y in 0..h {
        for x in 0..w {
            t.push(i32::from(f.luma(x * 4 + 1, y * 4 + 1)));
        }
    }
    t
}

/// Difference between an output thumbnail `a` and a source thumbnail `b`, over the output's unmasked cells only
/// (masks are filled dark; counting them would pull the match towards frames whose people stand elsewhere).
fn sad(a: &[i32], b: &[i32]) -> i64 {
    a.iter()
        .zip(b)
        .filter(|(x, _)| **x >= 40)
        .map(|(x, y)| i64::from((x - y).abs()))
        .sum()
}

#[test]
fn demo_masks_every_person_the_detector_finds_and_records_a_playable_segment() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let work = temp_dir("demo");
    let child = Guard::new(spawn(
        garim()
            .args(["demo", "--seconds", "30", "--style", "fill"])
            .current_dir(&work),
    ));
    // Wait until the models are loaded and the camera streams.
    let healthy = wait_for(Duration::from_secs(40), || {
        http_get("127.0.0.1:8080", "/healthz").is_some_and(|h| h.starts_with("HTTP/1.1 200"))
    });
    // The first inference warms the runtime up; wait until frames have been masked.
    let masked = r#"garim_frames_total{camera="sim-1",stage="masked"}"#;
    let mut metrics = String::new();
    wait_for(Duration::from_secs(15), || {
        metrics = http_get("127.0.0.1:8080", "/metrics").unwrap_or_default();
        metric(&metrics, masked).unwrap_or(0.0) > 0.0
    });
    let listing = http_get("127.0.0.1:8080", "/api/v1/recordings?camera=sim-1").unwrap_or_default();
    let output = pull_rtsp("rtsp://127.0.0.1:8554/sim-1", 60, Duration::from_secs(15));
    let (ok, stdout, stderr) = collect(&mut child.into_inner());
    assert!(healthy, "demo never became healthy:\n{stdout}\n{stderr}");
    assert!(ok, "demo failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("stopped cleanly"), "{stdout}");
    assert!(
        output.len() >= 30,
        "only {} masked frames pulled",
        output.len()
    );

    // Metrics are valid Prometheus text.
    let body = metrics.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    let prom = work.join("metrics.txt");
    std::fs::write(&prom, &body).unwrap();
    let promtool = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(&prom).unwrap())
        .output()
        .expect("promtool (Debian package prometheus) is installed by scripts/test");
    assert!(
        promtool.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&promtool.stdout),
        String::from_utf8_lossy(&promtool.stderr)
    );
    assert!(
        metric(
            &body,
            r#"garim_frames_total{camera="sim-1",stage="masked"}"#
        )
        .unwrap_or(0.0)
            > 0.0
    );
    assert_eq!(
        metric(&body, r#"garim_recording_up{camera="sim-1"}"#),
        Some(1.0),
        "{body}"
    );
    assert!(
        listing.starts_with("HTTP/1.1 401"),
        "the recordings list answered without a login: {listing}"
    );

    // Match each output frame to its source frame, run the person detector on the source, and check the inner
    // part of every person box in the output. The shipped schedule detects on every 2nd frame at 10 fps, so a
    // person entering the view can be partly covered for one frame, as `garim eval` measures: no box may be
    // less than half covered (a leak), and at least 95% of them must be covered at least 90%.
    let source = decode_file(&asset("vtest"), 800);
    let thumbs: Vec<Vec<i32>> = source.iter().map(thumb).collect();
    let detector = YoloxDetector::new(
        Arc::new(runtime().backend("yolox_nano").unwrap()),
        vec![Class::Person],
    );
    let (mut checked, mut masked_boxes, mut whole) = (0, 0, 0);
    for out in &output {
        assert_eq!((out.width, out.height), (768, 576));
        let t = thumb(out);
        let best = (0..thumbs.len())
            .min_by_key(|&i| sad(&t, &thumbs[i]))
            .unwrap();
        let dark = (0..out.height)
            .step_by(8)
            .flat_map(|y| (0..out.width).step_by(8).map(move |x| (x, y)));
        let dark_share =
            dark.clone().filter(|&(x, y)| out.luma(x, y) < 40).count() as f64 / dark.count() as f64;
        if dark_share > 0.95 {
            whole += 1; // fail-closed frame: everything is masked
            continue;
        }
        let people = detector.detect(&source[best].frame_ref()).unwrap();
        for p in people.iter().filter(|d| d.score >= 0.5) {
            let b = p.bbox;
            let (w, h) = (b.x1 - b.x0, b.y1 - b.y0);
            let (x0, x1) = ((b.x0 + 0.2 * w) as u32, (b.x1 - 0.2 * w) as u32);
            let (y0, y1) = ((b.y0 + 0.2 * h) as u32, (b.y1 - 0.2 * h) as u32);
            let (mut n, mut filled) = (0, 0);
            for y in y0..y1.min(out.height) {
                for x in x0..x1.min(out.width) {
                    n += 1;
                    filled += usize::from(out.luma(x, y) < 40);
                }
            }
            checked += 1;
            let share = if n > 0 { filled as f64 / n as f64 } else { 0.0 };
            if share >= 0.9 {
                masked_boxes += 1;
            } else if share < 0.5 {
                panic!(
                    "person at {b:?} (score {:.2}) in source frame {best} is not masked in the output ({filled}/{n})",
                    p.score
                );
            }
        }
    }
    assert!(
        checked >= 20,
        "only {checked} person boxes checked ({whole} frames masked whole)"
    );
    assert!(
        whole < output.len() / 2,
        "{whole} of {} frames were masked whole",
        output.len()
    );
    eprintln!("{masked_boxes}/{checked} person boxes masked; {whole} frames masked whole");
    assert!(
        masked_boxes as f64 >= 0.95 * checked as f64,
        "only {masked_boxes} of {checked} person boxes covered at least 90%"
    );

    // The segment was sealed on shutdown: it is encrypted on disk (no plaintext MP4 anywhere), and exports
    // into a playable file.
    let day_dirs: Vec<_> = std::fs::read_dir(work.join("data/sim-1"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let segments: Vec<_> = day_dirs
        .iter()
        .flat_map(|d| std::fs::read_dir(d).unwrap().map(|e| e.unwrap().path()))
        .collect();
    assert!(
        !segments.is_empty()
            && segments
                .iter()
                .all(|p| p.extension().is_some_and(|e| e == "gseg")),
        "{segments:?}"
    );
    let stored = std::fs::read(&segments[0]).unwrap();
    assert!(
        !stored.windows(4).any(|w| w == b"ftyp" || w == b"moof"),
        "MP4 structure visible on disk"
    );
    let demo_config = repo_root().join("examples/sites/demo.toml");
    let export = work.join("export.mp4");
    // The demo made its manager and printed a one-time login with the console's URL.
    assert!(
        stdout.contains("console   http://127.0.0.1:8080/"),
        "{stdout}"
    );
    let password = stdout
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("login     user demo-manager, password ")
        })
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no demo login printed:\n{stdout}"))
        .to_string();
    let manager = [
        ("GARIM_USER", "demo-manager".to_string()),
        ("GARIM_PASSWORD", password),
    ];
    let out = garim()
        .current_dir(&work)
        .envs(manager.clone())
        .args([
            "recordings",
            "export",
            "--config",
            demo_config.to_str().unwrap(),
            "--camera",
            "sim-1",
            "--purpose",
            "test",
        ])
        .arg(&export)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let frames = decode_file(&export, 1000);
    assert!(
        frames.len() >= 100,
        "the export decodes to {} frames",
        frames.len()
    );
    // An export never replaces a file silently.
    let before = std::fs::read(&export).unwrap();
    let again = garim()
        .current_dir(&work)
        .envs(manager.clone())
        .args([
            "recordings",
            "export",
            "--config",
            demo_config.to_str().unwrap(),
            "--camera",
            "sim-1",
            "--purpose",
            "test",
        ])
        .arg(&export)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(!again.status.success() && err.contains("--force"), "{err}");
    assert_eq!(std::fs::read(&export).unwrap(), before);
    // Everything garim wrote is private, whatever the umask of the test runner.
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let mut stack = vec![work.join("data")];
    let mut seen = 0;
    while let Some(p) = stack.pop() {
        seen += 1;
        if p.is_dir() {
            assert_eq!(mode(&p), 0o700, "{}", p.display());
            stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else {
            assert_eq!(mode(&p), 0o600, "{}", p.display());
        }
    }
    assert!(seen > 5, "only {seen} paths under data/");
    assert_eq!(mode(&export), 0o600);
}

#[test]
fn killed_camera_is_reconnected_while_output_continues_and_credentials_never_leak() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let work = temp_dir("reconnect");
    let vtest = asset("vtest");
    let start_camera = || {
        Guard::new(spawn(garim().args([
            "sim-camera",
            vtest.to_str().unwrap(),
            "--port",
            "18555",
            "--name",
            "cam-a",
        ])))
    };
    let mut camera = start_camera();
    let config = work.join("site.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[site]
name = "reconnect test"
[[people]]
id = "m"
role = "manager"
title = "과장"
phone = "000"
[server]
http_bind = "127.0.0.1:18080"
rtsp_port = 18554
[storage]
path = "{}"
segment_secs = 60
[defaults]
detect = ["person"]
detect_every_n_frames = 2
[[cameras]]
id = "cam-a"
url_env = "GARIM_TEST_CAM_A"
[[cameras]]
id = "cam-b"
url_env = "GARIM_TEST_CAM_B"
"#,
            work.join("data").display()
        ),
    )
    .unwrap();
    let garim_run = Guard::new(spawn(
        garim()
            .args([
                "run",
                "--config",
                config.to_str().unwrap(),
                "--seconds",
                "240",
            ])
            .env(
                "GARIM_TEST_CAM_B",
                "rtsp://admin:hunter2secret@127.0.0.1:1/stream",
            )
            // Credentials go to rtspsrc as user-id/user-pw (the simulated camera asks for none).
            .env(
                "GARIM_TEST_CAM_A",
                "rtsp://viewer:hunter2secret@127.0.0.1:18555/cam-a",
            )
            .env(
                "GARIM_SITE_KEY",
                "5ab1e0f2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e",
            ),
    ));
    let metrics = || http_get("127.0.0.1:18080", "/metrics").unwrap_or_default();
    let up = |v: f64| move || metric(&metrics(), r#"garim_camera_up{camera="cam-a"}"#) == Some(v);
    assert!(
        wait_for(Duration::from_secs(40), up(1.0)),
        "cam-a never streamed"
    );

    camera.kill().unwrap();
    let _ = camera.wait();
    assert!(
        wait_for(Duration::from_secs(20), up(0.0)),
        "cam-a loss not noticed"
    );
    // The masked output keeps running on the "no signal" picture.
    let during = pull_rtsp("rtsp://127.0.0.1:18554/cam-a", 10, Duration::from_secs(15));
    assert!(
        during.len() >= 5,
        "output stopped while the camera was down ({} frames)",
        during.len()
    );
    let health = http_get("127.0.0.1:18080", "/healthz").unwrap_or_default();
    assert!(health.contains("retrying"), "{health}");

    let camera = start_camera();
    assert!(
        wait_for(Duration::from_secs(60), up(1.0)),
        "cam-a did not reconnect"
    );
    let m = metrics();
    // One outage, one reconnection: reconnections are counted when frames flow again, attempts apart.
    assert_eq!(
        metric(&m, r#"garim_camera_reconnects_total{camera="cam-a"}"#),
        Some(1.0),
        "{m}"
    );
    assert_eq!(
        metric(&m, r#"garim_camera_reconnects_total{camera="cam-b"}"#),
        Some(0.0),
        "{m}"
    );
    assert!(
        metric(
            &m,
            r#"garim_camera_reconnect_attempts_total{camera="cam-b"}"#
        )
        .unwrap_or(0.0)
            >= 1.0,
        "{m}"
    );
    // cam-b never connects, cam-a is unaffected by it, and its password appears nowhere.
    assert_eq!(metric(&m, r#"garim_camera_up{camera="cam-b"}"#), Some(0.0));
    let health = http_get("127.0.0.1:18080", "/healthz").unwrap_or_default();
    assert!(!m.contains("hunter2secret") && !health.contains("hunter2secret"));
    // Where inference runs is reported, with what was asked for (the policy's default, auto).
    assert!(
        health.contains(r#""inference":{"provider":"#) && health.contains(r#""requested":"auto""#),
        "{health}"
    );

    // Hot reload: an invalid file changes nothing and is reported; a valid one is applied and kept.
    let good = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        good.replace("detect_every_n_frames = 2", "detect_every_n_frames = 31"),
    )
    .unwrap();
    let reloads = |result: &str| {
        metric(
            &metrics(),
            &format!("garim_policy_reloads_total{{result=\"{result}\"}}"),
        )
    };
    assert!(
        wait_for(Duration::from_secs(10), || reloads("invalid") == Some(1.0)),
        "invalid reload not counted"
    );
    let health = http_get("127.0.0.1:18080", "/healthz").unwrap_or_default();
    assert!(health.contains("detect_every_n_frames"), "{health}");
    // Writing back the policy in force clears the error: health is recomputed on every attempt.
    std::fs::write(&config, &good).unwrap();
    assert!(
        wait_for(Duration::from_secs(10), || {
            !http_get("127.0.0.1:18080", "/healthz")
                .unwrap_or_default()
                .contains("detect_every_n_frames")
        }),
        "a stale error stays on /healthz"
    );
    let masked_zone = good.replace(
        "id = \"cam-a\"\n",
        "id = \"cam-a\"\nprivacy_masks = [[[0.0, 0.0], [0.3, 0.0], [0.3, 0.3]]]\n",
    );
    std::fs::write(&config, masked_zone).unwrap();
    assert!(
        wait_for(Duration::from_secs(10), || reloads("applied") == Some(1.0)),
        "valid reload not applied"
    );
    // Both reloads are 관리대장 rows: the start and the applied one as policy changes, the refused one too.
    let ledger = ledger::Ledger::open_sqlite(&work.join("data/ledger.sqlite")).unwrap();
    let rows = |kind| {
        ledger
            .list(&ledger::Filter {
                kinds: vec![kind],
                ..ledger::Filter::default()
            })
            .unwrap()
    };
    let applied = rows(ledger::Kind::PolicyChange);
    assert_eq!(applied.len(), 2, "{applied:?}");
    assert!(
        applied[1]
            .entry
            .detail
            .to_string()
            .contains("cameras[cam-a].privacy_masks"),
        "{applied:?}"
    );
    let refused = rows(ledger::Kind::PolicyRejected);
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(
        refused[0]
            .entry
            .detail
            .to_string()
            .contains("detect_every_n_frames")
    );
    assert!(ledger.verify(None).unwrap().problem.is_none());

    // A canary password in every shape of inline URL: each policy is refused, and the password shows in no
    // log, health, metric, ledger row or kept policy copy.
    const CANARY: &str = "S3cretPW9";
    let shapes = [
        "rtsp://admin:S3cretPW9@127.0.0.1:1/s1",
        "rtsp:/admin:S3cretPW9@127.0.0.1:1/s1",
        "rtsp:admin:S3cretPW9@127.0.0.1:1/s1",
        "rtps://admin:S3cretPW9@127.0.0.1:1/s1",
        "rtsp://127.0.0.1:1/video?user=admin&pw=S3cretPW9",
        "rtsp://127.0.0.1:1/video?usr=admin;pwd=S3cretPW9",
        "http://127.0.0.1:1/video?channel=1&x-auth=S3cretPW9",
        "rtsp://admin:p@ss:S3cretPW9@127.0.0.1:1/s1",
    ];
    let before = rows(ledger::Kind::PolicyRejected).len();
    for (refused, shape) in (before..).zip(shapes) {
        std::fs::write(
            &config,
            format!("{good}\n[[cameras]]\nid = \"cam-c\"\nurl = \"{shape}\"\n"),
        )
        .unwrap();
        assert!(
            wait_for(Duration::from_secs(10), || rows(
                ledger::Kind::PolicyRejected
            )
            .len()
                > refused),
            "a policy with {shape} was not refused"
        );
        let health = http_get("127.0.0.1:18080", "/healthz").unwrap_or_default();
        assert!(
            health.contains("cam-c") && !health.contains(CANARY),
            "{shape}: {health}"
        );
    }
    assert!(!metrics().contains(CANARY));
    let kept: String = ledger
        .list(&ledger::Filter::default())
        .unwrap()
        .iter()
        .map(|r| format!("{:?}", r.entry))
        .collect();
    assert!(!kept.contains(CANARY), "a ledger row holds the canary");
    for copy in std::fs::read_dir(work.join("data/policy-history")).unwrap() {
        let text = std::fs::read_to_string(copy.unwrap().path()).unwrap();
        assert!(
            !text.contains(CANARY),
            "a kept policy copy holds the canary"
        );
    }

    let (ok, stdout, stderr) = interrupt(garim_run.into_inner());
    let _ = interrupt(camera.into_inner());
    assert!(ok, "garim run failed:\n{stdout}\n{stderr}");
    assert!(
        !stdout.contains("hunter2secret") && !stderr.contains("hunter2secret"),
        "password leaked:\n{stderr}"
    );
    assert!(
        !stdout.contains(CANARY) && !stderr.contains(CANARY),
        "canary leaked:\n{stderr}"
    );
    assert!(
        stderr.contains("cam-b"),
        "cam-b's failure is not reported:\n{stderr}"
    );
}
