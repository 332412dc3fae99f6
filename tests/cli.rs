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
            "--models-dir",
            dir.to_str().unwrap(),
            "mask",
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
    let status = std::process::Command::new("gst-launch-1.0")
        .args([
            "-q",
            "filesrc",
            &format!("location={}", asset("vtest").display()),
            "!",
            "decodebin",
            "!",
            "videoconvert",
            "!",
            "identity",
            "eos-after=40",
            "!",
            "x264enc",
            "speed-preset=ultrafast",
            "!",
            "matroskamux",
            "!",
            "filesink",
            &format!("location={}", clip.display()),
        ])
        .status()
        .expect("gst-launch-1.0 (gstreamer1.0-tools) is installed by scripts/test");
    assert!(status.success());
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
