//! The CLI's contract on bad input and offline masking: errors name the file, field and value, exit 1, and
//! leave nothing half-written behind.

mod common;

use common::*;

#[test]
fn check_reports_every_error_with_camera_and_field() {
    let dir = temp_dir("check");
    let file = dir.join("bad.toml");
    std::fs::write(
        &file,
        r#"
[site]
name = "bad"
[[cameras]]
id = "cam-1"
url = "rtsp://10.0.0.1/a"
privacy_masks = [[[0.1, 0.1], [0.5, 0.5]]]
[[cameras]]
id = "cam-2"
url = "rtsp://10.0.0.2/a"
privacy_masks = [[[0.1, 0.1], [1.5, 0.1], [0.5, 0.5]]]
"#,
    )
    .unwrap();
    let out = garim()
        .args(["check", file.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("cam-1") && text.contains("privacy_masks[0]"),
        "{text}"
    );
    assert!(text.contains("cam-2") && text.contains("1.5"), "{text}");
    assert!(text.lines().count() >= 2, "{text}");
}

#[test]
fn mask_refuses_a_non_video_file_and_leaves_no_output() {
    let dir = temp_dir("mask-bad");
    let input = dir.join("notes.mp4");
    std::fs::write(&input, "this is not a video\n".repeat(100)).unwrap();
    let output = dir.join("out.mp4");
    let out = garim()
        .env("GARIM_MODELS_DIR", models_dir())
        .args(["mask", input.to_str().unwrap(), output.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("notes.mp4"), "{err}");
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 1, "left behind: {left:?}");
}

#[test]
fn missing_model_names_the_file_and_the_fetch_command() {
    let dir = temp_dir("no-models");
    std::fs::copy(
        models_dir().join("manifest.toml"),
        dir.join("manifest.toml"),
    )
    .unwrap();
    let out = garim()
        .args([
            "mask",
            "--models-dir",
            dir.to_str().unwrap(),
            "in.avi",
            "out.mp4",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("libonnxruntime.so") || err.contains("yolox_nano"),
        "{err}"
    );
    assert!(err.contains("scripts/fetch-models"), "{err}");
}

#[test]
fn mask_file_masks_people_and_writes_a_playable_file() {
    let dir = temp_dir("mask-ok");
    // A 40-frame clip of vtest keeps this quick.
    let clip = dir.join("clip.mkv");
    encode_clip(
        &[
            "filesrc",
            &format!("location={}", asset("vtest").display()),
            "!",
            "decodebin",
            "!",
            "videoconvert",
            "!",
            "identity",
            "eos-after=40",
        ],
        &clip,
    );
    let output = dir.join("masked.mp4");
    let out = garim()
        .env("GARIM_MODELS_DIR", models_dir())
        .args([
            "mask",
            clip.to_str().unwrap(),
            output.to_str().unwrap(),
            "--detect",
            "person",
            "--style",
            "fill",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("fps"), "{text}");
    let masked = decode_file(&output, 100);
    let original = decode_file(&clip, 100);
    assert_eq!(masked.len(), original.len());
    // People were masked: more near-black luma in the output than in the input, but far from all of it.
    let dark = |f: &Frame| {
        f.data[..(f.width * f.height) as usize]
            .iter()
            .filter(|&&v| v < 30)
            .count()
    };
    let (d_in, d_out) = (dark(&original[20]), dark(&masked[20]));
    let total = (masked[20].width * masked[20].height) as usize;
    assert!(
        d_out > d_in + 2000 && d_out < total / 2,
        "dark pixels {d_in} → {d_out} of {total}"
    );
}

#[test]
fn notice_and_import_work_from_the_command_line() {
    let site = repo_root().join("examples/sites/gimje-family.toml");
    let out = garim()
        .args(["notice", site.to_str().unwrap(), "--format", "html"])
        .output()
        .unwrap();
    let html = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && html.contains("장덕상") && html.contains("총 28대"),
        "{html}"
    );
    let out = garim()
        .args(["notice", site.to_str().unwrap(), "--format", "pdf"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));

    let dir = temp_dir("import");
    let target = dir.join("site.toml");
    std::fs::copy(&site, &target).unwrap();
    let csv = dir.join("cams.csv");
    std::fs::write(
        &csv,
        "id,location,url_env,retention_days\ngimje-29,\"2층, 상담실 복도\",GIMJE_29_URL,30\n",
    )
    .unwrap();
    let out = garim()
        .args([
            "import",
            csv.to_str().unwrap(),
            "--into",
            target.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("1 cameras added"),
        "{text}"
    );
    assert!(
        std::fs::read_to_string(&target)
            .unwrap()
            .contains("gimje-29")
    );
    // A bad row leaves the file as it was.
    let before = std::fs::read_to_string(&target).unwrap();
    std::fs::write(&csv, "id,url_env,retention_days\ngimje-30,X,0\n").unwrap();
    let out = garim()
        .args([
            "import",
            csv.to_str().unwrap(),
            "--into",
            target.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("nothing changed") && err.contains("retention_days"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), before);
}

#[test]
fn run_refuses_to_start_without_its_site_key() {
    let dir = temp_dir("nokey");
    let site = dir.join("site.toml");
    std::fs::write(
        &site,
        format!(
            "[site]\nname = \"t\"\n[[people]]\nid = \"m\"\nrole = \"manager\"\ntitle = \"과장\"\nphone = \"1\"\n\
             [storage]\npath = \"{}\"\nkey_file = \"{}\"\n[[cameras]]\nid = \"c\"\nurl = \"rtsp://127.0.0.1:1/c\"\n",
            dir.join("data").display(),
            dir.join("missing.key").display()
        ),
    )
    .unwrap();
    let out = garim()
        .env("GARIM_MODELS_DIR", models_dir())
        .args(["run", "--config", site.to_str().unwrap(), "--seconds", "1"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("missing.key") && err.contains("garim keys init"),
        "{err}"
    );
    assert!(
        !dir.join("data").join("c").exists(),
        "nothing may be recorded without the key"
    );
}

fn smpte_clip(dir: &std::path::Path, frames: u32) -> std::path::PathBuf {
    let clip = dir.join("bars.mkv");
    encode_clip(
        &[
            "videotestsrc",
            &format!("num-buffers={frames}"),
            "pattern=smpte",
            "!",
            "video/x-raw,width=320,height=240,framerate=10/1",
        ],
        &clip,
    );
    clip
}

#[test]
fn eval_counts_every_unmasked_ground_truth_box_as_a_leak() {
    // Colour bars show nobody, so a ground-truth "person" painted on them is never masked: every box leaks,
    // in one run as long as the clip, and nothing is over-masked. Rows with conf 0 do not count.
    let dir = temp_dir("eval");
    let clip = smpte_clip(&dir, 20);
    let mut gt = String::new();
    for f in 1..=20 {
        gt += &format!("{f},7,100,60,40,100,1,-1,-1,-1\n");
        gt += &format!("{f},8,10,10,20,20,0,-1,-1,-1\n");
    }
    std::fs::write(dir.join("gt.txt"), gt).unwrap();
    let out = garim()
        .env("GARIM_MODELS_DIR", models_dir())
        .args(["eval", "--json", "--video"])
        .arg(&clip)
        .arg("--gt")
        .arg(dir.join("gt.txt"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&text).expect("JSON report");
    assert_eq!(v["frames"], 20, "{v}");
    assert_eq!(v["gt_boxes"], 20, "{v}");
    assert_eq!(v["leaked_boxes"], 20, "{v}");
    assert_eq!(v["leak_rate"], 1.0, "{v}");
    assert_eq!(v["longest_leaked_run_long_tracks"], 20, "{v}");
    assert_eq!(v["over_masking"], 0.0, "{v}");
    assert_eq!(v["per_track"][0]["track"], 7, "{v}");
    assert!(v["fps"].as_f64().unwrap() > 0.0, "{v}");
    // Without --detect, eval (like `garim mask`, the demo and a camera without `detect`) uses the shipped
    // defaults chosen in docs/quality.md.
    let s = &v["settings"];
    assert_eq!(s["classes"], "person,face,plate", "{v}");
    assert_eq!(
        (
            s["person_conf"].as_f64(),
            s["dilate"].as_f64(),
            s["hold_secs"].as_f64()
        ),
        (Some(0.15), Some(0.3), Some(1.5)),
        "{v}"
    );
}

#[test]
fn eval_rejects_malformed_ground_truth_naming_file_and_line() {
    let dir = temp_dir("eval-bad");
    std::fs::write(dir.join("gt.txt"), "1,1,10,10,5,5,1\n2,1,ten,10,5,5,1\n").unwrap();
    let out = garim()
        .env("GARIM_MODELS_DIR", models_dir())
        .args(["eval", "--video", "nothing.avi", "--gt"])
        .arg(dir.join("gt.txt"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("gt.txt") && err.contains("line 2") && err.contains("\"ten\""),
        "{err}"
    );
}

/// A site with `n` cameras whose sources never answer (nothing listens on port 1).
fn unreachable_site(dir: &std::path::Path, http: u16, rtsp: u16, n: usize) -> std::path::PathBuf {
    let cams: String = (0..n)
        .map(|i| format!("[[cameras]]\nid = \"cam-{i}\"\nurl = \"rtsp://127.0.0.1:1/cam-{i}\"\n"))
        .collect();
    let site = dir.join("site.toml");
    std::fs::write(
        &site,
        site_policy(
            http,
            rtsp,
            &dir.join("data"),
            "",
            &format!("[defaults]\ndetect = [\"person\"]\n{cams}"),
        ),
    )
    .unwrap();
    site
}

const TEST_KEY: &str = "3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d";

#[test]
fn second_replica_claiming_the_same_shard_refuses_and_the_holder_reports_it() {
    let dir = temp_dir("shard-conflict");
    let site = unreachable_site(&dir, 19080, 19054, 8);
    let mine: Vec<String> = (0..8)
        .map(|i| format!("cam-{i}"))
        .filter(|id| policy::shard_of(id, 2) == 1)
        .collect();
    let first = Guard::new(spawn(
        garim()
            .args([
                "run",
                "--config",
                site.to_str().unwrap(),
                "--shard",
                "1/2",
                "--seconds",
                "60",
            ])
            .env("GARIM_SITE_KEY", TEST_KEY),
    ));
    let health = || http_get("127.0.0.1:19080", "/healthz").unwrap_or_default();
    assert!(
        wait_for(std::time::Duration::from_secs(30), || health()
            .contains("\"shard\"")),
        "first replica never served"
    );
    let h = health();
    let body: serde_json::Value =
        serde_json::from_str(h.split_once("\r\n\r\n").unwrap().1.trim()).unwrap();
    assert_eq!(body["shard"]["index"], 1);
    assert_eq!(body["shard"]["count"], 2);
    assert_eq!(body["shard"]["cameras"], mine.len());
    assert_eq!(body["shard"]["site_cameras"], 8);
    let ids: Vec<&str> = body["cameras"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, mine.iter().map(String::as_str).collect::<Vec<_>>());

    // Same shard again (GARIM_SHARD this time): refused before it binds or records anything, naming the holder.
    let out = garim()
        .env("GARIM_MODELS_DIR", models_dir())
        .env("GARIM_SITE_KEY", TEST_KEY)
        .env("GARIM_SHARD", "1/2")
        .args(["run", "--config", site.to_str().unwrap(), "--seconds", "5"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("shard 1/2")
            && err.contains("already claimed")
            && err.contains(&format!("pid={}", first.id())),
        "{err}"
    );
    assert!(err.contains("shard-1-of-2.lock"), "{err}");
    let metrics = || http_get("127.0.0.1:19080", "/metrics").unwrap_or_default();
    assert!(
        wait_for(std::time::Duration::from_secs(15), || metric(
            &metrics(),
            "garim_shard_conflict"
        ) == Some(1.0)),
        "the holder does not report the conflict"
    );
    // An index outside the shard count is refused with the value.
    let out = garim()
        .env("GARIM_MODELS_DIR", models_dir())
        .env("GARIM_SITE_KEY", TEST_KEY)
        .args(["run", "--config", site.to_str().unwrap(), "--shard", "7/4"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("--shard") && err.contains("7/4"), "{err}");

    let (ok, stdout, stderr) = interrupt(first.into_inner());
    assert!(ok, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("another replica tried to claim"),
        "{stderr}"
    );
}

#[test]
fn logs_are_json_lines_with_camera_state_changes_and_no_secret() {
    let dir = temp_dir("json-logs");
    let site = dir.join("site.toml");
    std::fs::write(
        &site,
        site_policy(
            19280,
            19254,
            &dir.join("data"),
            "",
            "[defaults]\ndetect = [\"person\"]\n[[cameras]]\nid = \"cam-j\"\nurl_env = \"GARIM_TEST_CAM_J\"\n",
        ),
    )
    .unwrap();
    // stderr is a pipe, not a terminal: JSON by default.
    let run = Guard::new(spawn(
        garim()
            .args(["run", "--config", site.to_str().unwrap(), "--seconds", "6"])
            .env("GARIM_SITE_KEY", TEST_KEY)
            .env(
                "GARIM_TEST_CAM_J",
                "rtsp://admin:s3cretpass@127.0.0.1:1/stream",
            )
            .env_remove("GARIM_LOG_FORMAT"),
    ));
    let (ok, stdout, stderr) = collect(&mut run.into_inner());
    assert!(ok, "{stdout}\n{stderr}");
    assert!(
        !stdout.contains("s3cretpass") && !stderr.contains("s3cretpass"),
        "secret leaked:\n{stderr}"
    );
    let events: Vec<serde_json::Value> = stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    assert!(
        events
            .iter()
            .all(|e| e["level"].is_string() && e["timestamp"].is_string())
    );
    let changes: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["message"] == "camera state changed" && e["camera"] == "cam-j")
        .collect();
    assert!(
        changes.iter().any(|e| e["from"] == "starting"
            && e["to"]
                .as_str()
                .unwrap_or_default()
                .starts_with("retrying(1)")),
        "no starting → retrying event:\n{stderr}"
    );
    assert!(
        changes.iter().any(|e| e["to"] == "stopped"),
        "no stop event:\n{stderr}"
    );
}

/// `garim check site.toml | head`: the reader going away ends the output quietly (no panic, no message), and
/// warnings are printed after "valid".
#[test]
fn check_ends_quietly_when_its_reader_goes_away_and_prints_warnings() {
    use std::fmt::Write;
    use std::io::{BufRead, BufReader};
    let dir = temp_dir("check-pipe");
    let file = dir.join("many.toml");
    let mut text = String::from(
        "[site]\nname = \"pipe\"\n[[people]]\nid = \"m\"\nrole = \"manager\"\ntitle = \"과장\"\nphone = \"0\"\n",
    );
    // 4,000 different errors (different values are never grouped): far more than a pipe buffer holds.
    for i in 0..4000 {
        write!(text, "[[cameras]]\nid = \"c{i}\"\nurl = \"rtsp://10.0.0.1/{i}\"\nprivacy_masks = [[[0.1, 0.1], [{}, 0.1], [0.5, 0.5]]]\n", 2.0 + i as f32).unwrap();
    }
    std::fs::write(&file, &text).unwrap();
    let mut child = garim()
        .args(["check", file.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader is dropped here, as `head -1` would close it.
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(first.contains("privacy_masks"), "{first}");
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe"),
        "{err}"
    );

    let file = dir.join("warn.toml");
    std::fs::write(
        &file,
        "[site]\nname = \"warn\"\n[[people]]\nid = \"m\"\nrole = \"manager\"\ntitle = \"과장\"\nphone = \"0\"\n\
         [[cameras]]\nid = \"kids\"\nurl = \"rtsp://10.0.0.1/k\"\nlocation = \"아동 상담실\"\nrange = \"실내\"\ndetect = [\"plate\"]\n",
    )
    .unwrap();
    let out = garim()
        .args(["check", file.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("valid")
            && text.contains("warning: cameras[kids].detect")
            && text.contains("person and face unmasked"),
        "{text}"
    );
}

/// `garim mask` on the kinds of file sites hand it: each ends within a minute, either with a playable output
/// of every input frame or with an error naming the file and the element, and never leaves a half-written
/// output. Megamind.avi (MPEG-4 ASP with packed B-frames: repeated timestamps) and H.264 with B-frames and
/// with gaps (variable frame rate) are masked; audio-only, empty and truncated files are refused.
#[test]
fn mask_never_hangs_on_odd_files() {
    let dir = temp_dir("mask-odd");
    let bframes = dir.join("bframes.mp4");
    let status = std::process::Command::new("gst-launch-1.0")
        .args([
            "-q",
            "videotestsrc",
            "num-buffers=60",
            "!",
            "video/x-raw,width=320,height=240,framerate=15/1",
        ])
        .args([
            "!",
            "x264enc",
            "bframes=3",
            "b-adapt=false",
            "speed-preset=ultrafast",
            "!",
            "mp4mux",
            "!",
            "filesink",
        ])
        .arg(format!("location={}", bframes.display()))
        .status()
        .unwrap();
    assert!(status.success());
    let vfr = dir.join("vfr.mkv");
    encode_clip(
        &[
            "videotestsrc",
            "num-buffers=90",
            "!",
            "video/x-raw,width=320,height=240,framerate=15/1",
            "!",
            "identity",
            "drop-probability=0.3",
        ],
        &vfr,
    );
    let audio = dir.join("audio.wav");
    let status = std::process::Command::new("gst-launch-1.0")
        .args([
            "-q",
            "audiotestsrc",
            "num-buffers=50",
            "!",
            "audioconvert",
            "!",
            "wavenc",
            "!",
            "filesink",
        ])
        .arg(format!("location={}", audio.display()))
        .status()
        .unwrap();
    assert!(status.success());
    let empty = dir.join("empty.mp4");
    std::fs::write(&empty, b"").unwrap();
    let truncated = dir.join("truncated.mp4");
    let whole = std::fs::read(&bframes).unwrap();
    std::fs::write(&truncated, &whole[..whole.len() / 2]).unwrap();

    let run = |input: &std::path::Path, name: &str| {
        let out = dir.join(name);
        let started = std::time::Instant::now();
        let mut child = spawn(
            garim()
                .env("GARIM_MODELS_DIR", models_dir())
                .args(["mask", "--detect", "face"])
                .arg(input)
                .arg(&out),
        );
        let done = wait_for(std::time::Duration::from_secs(90), || {
            child.try_wait().unwrap().is_some()
        });
        if !done {
            let _ = child.kill();
        }
        let (ok, _, err) = collect(&mut child);
        assert!(done, "{} hung", input.display());
        (ok, err, out, started.elapsed())
    };
    for (input, frames) in [
        (asset("megamind"), 270),
        (bframes.clone(), 60),
        (vfr.clone(), 0),
    ] {
        let (ok, err, out, took) = run(&input, "out.mp4");
        assert!(ok, "{}: {err}", input.display());
        let n = decode_file(&out, 10_000).len();
        let expected = if frames > 0 {
            frames
        } else {
            decode_file(&input, 10_000).len()
        };
        assert_eq!(
            n,
            expected,
            "{}: {n} frames out of {expected} ({took:?})",
            input.display()
        );
        std::fs::remove_file(&out).unwrap();
    }
    for input in [&audio, &empty, &truncated] {
        let (ok, err, out, _) = run(input, "refused.mp4");
        assert!(!ok, "{} was accepted", input.display());
        assert!(
            err.contains(input.file_name().unwrap().to_str().unwrap()),
            "{}: {err}",
            input.display()
        );
        assert!(
            !out.exists() && !dir.join("refused.mp4.part").exists(),
            "left an output behind"
        );
        if input == &audio {
            assert!(err.contains("no video stream"), "{err}");
        }
    }
}

#[test]
fn bench_with_cameras_runs_the_service_path_and_reports_what_it_measured() {
    let dir = temp_dir("bench-cameras");
    // Small footage keeps it short; the bench scales it once (into bench/ beside it) and loops it.
    let clip = smpte_clip(&dir, 40);
    let out = garim()
        .args([
            "bench",
            "--cameras",
            "1,2",
            "--resolution",
            "320x240",
            "--fps",
            "10",
            "--seconds",
            "3",
            "--warmup",
            "2",
            "--variants",
            "before,shipped",
            "--json",
            "--video",
        ])
        .arg(&clip)
        .output()
        .expect("run garim bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    let runs = v["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 4, "{stdout}");
    for r in runs {
        for field in [
            "cpu_per_camera",
            "fps_in_min",
            "fps_out_min",
            "fail_closed_frames",
            "latency_p50_ms",
            "latency_p99_ms",
            "rss_mib",
            "holds",
        ] {
            assert!(!r[field].is_null(), "{field} missing in {r}");
        }
        // Frames went in and out of every camera, and the CPU it took was counted.
        assert!(r["fps_in_min"].as_f64().unwrap() > 0.0, "{r}");
        assert!(r["fps_out_min"].as_f64().unwrap() > 0.0, "{r}");
        assert!(r["cpu_per_camera"].as_f64().unwrap() > 0.0, "{r}");
    }
    assert_eq!(v["largest"].as_array().map(Vec::len), Some(2), "{stdout}");
    assert!(dir.join("bench/bars-320x240.mp4").is_file());
}
