//! Crash safety of the recording vault: `garim run` is killed with SIGKILL at random moments (20 times) while
//! it records 2-second segments; after each kill, opening the vault must leave every indexed segment
//! decryptable, no partial file, and no unindexed segment on disk.

mod common;

use common::*;
use std::time::Duration;

const KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

fn files_with(dir: &std::path::Path, ext: &str) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(ext) {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn sigkill_at_random_moments_never_leaves_a_broken_vault() {
    let work = temp_dir("crash");
    let _camera = sim_camera(18655, "cam-k");
    let config = work.join("site.toml");
    std::fs::write(
        &config,
        site_policy(
            18680,
            18654,
            &work.join("data"),
            r#"segment_secs = 2"#,
            r#"[defaults]
detect = ["person"]
[[cameras]]
id = "cam-k"
url = "rtsp://127.0.0.1:18655/cam-k""#,
        ),
    )
    .unwrap();
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut sealed_total = 0;
    for round in 0..20 {
        let run = Guard::new(spawn(
            garim()
                .args(["run", "--config", config.to_str().unwrap()])
                .env("GARIM_SITE_KEY", KEY),
        ));
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        // Between 2 and 10 s: before the first frame, mid-segment, around a rotation.
        std::thread::sleep(Duration::from_millis(2000 + seed % 8000));
        drop(run); // SIGKILL
        let v = vault::Vault::open(
            &work.join("data"),
            vault::SecretKey::load_site_key(None).unwrap_or_else(|_| {
                // SAFETY: the test process sets its own environment before any thread reads it.
                unsafe { std::env::set_var("GARIM_SITE_KEY", KEY) };
                vault::SecretKey::load_site_key(None).unwrap()
            }),
        )
        .unwrap();
        let rows = v.list(None, 0, i64::MAX).unwrap();
        for r in &rows {
            let plain = v.read(r).unwrap_or_else(|e| panic!("round {round}: {e}"));
            assert!(
                plain.windows(4).any(|w| w == b"ftyp"),
                "round {round}: not an MP4"
            );
        }
        assert!(
            files_with(&work.join("data"), ".part").is_empty(),
            "round {round}: partial file left"
        );
        let on_disk = files_with(&work.join("data"), ".gseg");
        assert_eq!(
            on_disk.len(),
            rows.len(),
            "round {round}: unindexed segment on disk"
        );
        sealed_total = rows.len();
        eprintln!("round {round}: {} segments indexed", rows.len());
    }
    assert!(
        sealed_total >= 5,
        "only {sealed_total} segments sealed over 20 rounds"
    );
    eprintln!("{sealed_total} segments sealed and verified after 20 SIGKILLs");
}

#[test]
fn full_disk_degrades_recording_while_masked_output_keeps_flowing() {
    use std::os::unix::process::CommandExt;
    let work = temp_dir("full");
    let _camera = sim_camera(18955, "cam-f");
    let config = work.join("site.toml");
    std::fs::write(
        &config,
        site_policy(
            18980,
            18954,
            &work.join("data"),
            r#"segment_secs = 60"#,
            r#"[defaults]
detect = ["person"]
[[cameras]]
id = "cam-f"
url = "rtsp://127.0.0.1:18955/cam-f""#,
        ),
    )
    .unwrap();
    let mut cmd = garim();
    cmd.args(["run", "--config", config.to_str().unwrap()])
        .env("GARIM_SITE_KEY", KEY);
    // Every file garim writes may grow to 200 kB at most: the first segment hits the "disk full" wall.
    // SAFETY: only async-signal-safe setrlimit runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: 200_000,
                rlim_max: 200_000,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let run = Guard::new(spawn(&mut cmd));
    let metrics = || http_get("127.0.0.1:18980", "/metrics").unwrap_or_default();
    let degraded = wait_for(Duration::from_secs(30), || {
        metric(&metrics(), r#"garim_recording_up{camera="cam-f"}"#) == Some(0.0)
    });
    assert!(
        degraded,
        "recording never reported degraded:\n{}",
        metrics()
    );
    let masked =
        |m: &str| metric(m, r#"garim_frames_total{camera="cam-f",stage="masked"}"#).unwrap_or(0.0);
    let before = masked(&metrics());
    std::thread::sleep(Duration::from_secs(2));
    let after = masked(&metrics());
    assert!(
        after > before + 10.0,
        "masked output stalled: {before} → {after}"
    );
    let (ok, _, stderr) = interrupt(run.into_inner());
    assert!(ok, "garim did not stop cleanly:\n{stderr}");
    assert!(stderr.contains("recording"), "{stderr}");
}
