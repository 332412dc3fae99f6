//! The soak: 4 simulated cameras for `GARIM_SOAK_SECS` (default 600) with random camera kills and freezes,
//! policy reloads every minute, HTTP bursts, and one kill -9 of garim halfway. It reports frames in and out,
//! the longest gap in one camera's masked output, segments closed against segments that decrypt, frames masked
//! whole by reason, and garim's open files and RSS over time; it fails on a lost closed segment, a broken one,
//! a gap of 2 frame intervals, growth of descriptors or memory, or a password in the logs. Not in the default
//! suite (`cargo test` skips it, saying so): `GARIM_SOAK=1 scripts/test` runs it.

mod common;

use common::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const HTTP: &str = "127.0.0.1:18830";
const CAMS: [&str; 4] = ["s1", "s2", "s3", "s4"];
const KEY: &str = "5ab1e0f2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e";
const CANARY: &str = "soakCanary-77x";

fn port(i: usize) -> u16 {
    18832 + i as u16
}

/// A simulated camera at nice 10: cameras are devices of their own, their encoding is not garim's CPU.
fn start_camera(i: usize) -> Guard {
    Guard::new(spawn(
        std::process::Command::new("nice")
            .args(["-n", "10", env!("CARGO_BIN_EXE_garim"), "sim-camera"])
            .arg(asset("vtest"))
            .args(["--port", &port(i).to_string(), "--name", CAMS[i]]),
    ))
}

fn start_garim(config: &std::path::Path) -> Guard {
    let mut cmd = garim();
    cmd.env("GARIM_MODELS_DIR", models_dir())
        .env("GARIM_SITE_KEY", KEY)
        .args(["run", "--config", config.to_str().unwrap()]);
    for (i, c) in CAMS.iter().enumerate() {
        cmd.env(
            format!("SOAK_{}_URL", c.to_uppercase()),
            format!("rtsp://viewer:{CANARY}@127.0.0.1:{}/{c}", port(i)),
        );
    }
    Guard::new(spawn(&mut cmd))
}

fn sum(text: &str, prefix: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// (open descriptors, RSS in KiB) of a process.
fn usage(pid: u32) -> Option<(usize, u64)> {
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some((fds, rss))
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
#[ignore = "the 10-minute soak: GARIM_SOAK=1 scripts/test runs it"]
fn four_cameras_for_ten_minutes_of_faults() {
    let secs: u64 = std::env::var("GARIM_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let work = temp_dir("soak");
    let storage = work.join("data");
    let mut cams_toml =
        String::from("[defaults]\ndetect = [\"person\"]\ndetect_every_n_frames = 2\n");
    for c in CAMS {
        cams_toml.push_str(&format!(
            "[[cameras]]\nid = \"{c}\"\nurl_env = \"SOAK_{}_URL\"\nrange = \"soak\"\n",
            c.to_uppercase()
        ));
    }
    let policy = site_policy(18830, 18831, &storage, "segment_secs = 10", &cams_toml);
    let config = work.join("site.toml");
    std::fs::write(&config, &policy).unwrap();
    let mut cameras: Vec<Option<Guard>> = (0..4).map(|i| Some(start_camera(i))).collect();
    let mut service = start_garim(&config);
    let up = wait_for(Duration::from_secs(90), || {
        sum(
            &http_get(HTTP, "/metrics").unwrap_or_default(),
            "garim_frames_total{",
        ) > 200.0
    });
    assert!(up, "the soak site never streamed");

    // One camera's masked output, watched throughout: presentation-time gaps while garim runs.
    let stop = Arc::new(AtomicBool::new(false));
    let gaps = Arc::new(Mutex::new(Vec::<Duration>::new()));
    let watcher = {
        let (stop, gaps) = (stop.clone(), gaps.clone());
        std::thread::spawn(move || {
            // The watcher stands for the NVR, a machine of its own: its decoding is not garim's CPU.
            // SAFETY: lowers this thread's own priority (the pipeline threads it starts inherit it).
            unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 10) };
            while !stop.load(Ordering::Relaxed) {
                let mut last: Option<Duration> = None;
                for_each_frame(
                    "rtspsrc location=rtsp://127.0.0.1:18831/s1 protocols=tcp latency=200 ! application/x-rtp,media=video \
                     ! decodebin ! videoconvert ! video/x-raw,format=I420 ! appsink name=sink sync=false max-buffers=400",
                    Duration::from_secs(30),
                    |f| {
                        if let (Some(p), Some(t)) = (last, f.pts) {
                            gaps.lock().unwrap().push(t.saturating_sub(p));
                        }
                        last = f.pts;
                        !stop.load(Ordering::Relaxed)
                    },
                );
            }
        })
    };

    let started = Instant::now();
    let mut rng = Rng(0x9e3779b97f4a7c15);
    let mut samples: Vec<(Duration, usize, u64)> = Vec::new();
    let mut totals_before_kill = String::new();
    let mut killed = false;
    let mut reloads = 0;
    let mut faults = Vec::new();
    let mut next_fault = Duration::from_secs(20);
    let mut next_reload = Duration::from_secs(60);
    let mut next_burst = Duration::from_secs(45);
    let good_policy = policy.clone();
    while started.elapsed() < Duration::from_secs(secs) {
        let now = started.elapsed();
        if let Some(u) = usage(service.id()) {
            samples.push((now, u.0, u.1));
        }
        if now >= next_fault {
            let i = (rng.next() % 4) as usize;
            if rng.next() % 2 == 0 {
                // Killed, back after 10 s.
                cameras[i] = None;
                faults.push(format!("{:>4}s kill {}", now.as_secs(), CAMS[i]));
                std::thread::sleep(Duration::from_secs(10));
                cameras[i] = Some(start_camera(i));
            } else {
                // Frozen for 8 s.
                let pid = cameras[i].as_ref().unwrap().id() as i32;
                faults.push(format!("{:>4}s freeze {}", now.as_secs(), CAMS[i]));
                // SAFETY: signals to the test's own child.
                unsafe { libc::kill(pid, libc::SIGSTOP) };
                std::thread::sleep(Duration::from_secs(8));
                unsafe { libc::kill(pid, libc::SIGCONT) };
            }
            next_fault = started.elapsed() + Duration::from_secs(25 + rng.next() % 20);
        }
        if now >= next_reload {
            reloads += 1;
            let text = if reloads % 2 == 1 {
                good_policy.replace(
                    "id = \"s2\"\n",
                    "id = \"s2\"\nprivacy_masks = [[[0.0, 0.0], [0.3, 0.0], [0.3, 0.3]]]\n",
                )
            } else {
                good_policy.clone()
            };
            std::fs::write(&config, text).unwrap();
            next_reload = now + Duration::from_secs(60);
        }
        if now >= next_burst {
            let burst: Vec<_> = (0..20)
                .map(|_| {
                    std::thread::spawn(|| {
                        // SAFETY: lowers this thread's own priority.
                        unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 19) };
                        for _ in 0..100 {
                            let _ = http_get(HTTP, "/healthz");
                        }
                    })
                })
                .collect();
            for b in burst {
                let _ = b.join();
            }
            next_burst = now + Duration::from_secs(90);
        }
        if !killed && now >= Duration::from_secs(secs / 2) {
            // kill -9 of garim itself; its counters start over, so they are read first.
            std::thread::sleep(Duration::from_secs(3));
            totals_before_kill = http_get(HTTP, "/metrics").unwrap_or_default();
            let _ = service.kill();
            let _ = service.wait();
            faults.push(format!("{:>4}s kill -9 garim", started.elapsed().as_secs()));
            service = start_garim(&config);
            killed = true;
        }
        std::thread::sleep(Duration::from_secs(2));
    }
    // Let the open segments close cleanly.
    let totals_after = http_get(HTTP, "/metrics").unwrap_or_default();
    stop.store(true, Ordering::Relaxed);
    let (ok, stdout, stderr) = interrupt(service.into_inner());
    let _ = watcher.join();
    drop(cameras);
    // The log of the run after the kill -9, for whoever reads the report (scene checks, reconnections).
    if let Some(dir) = std::env::var_os("GARIM_SOAK_OUT") {
        let _ = std::fs::write(std::path::Path::new(&dir).join("garim.log"), &stderr);
    }

    let both = |prefix: &str| sum(&totals_before_kill, prefix) + sum(&totals_after, prefix);
    let stage = |name: &str| {
        let tag = format!("stage=\"{name}\"");
        totals_before_kill
            .lines()
            .chain(totals_after.lines())
            .filter(|l| l.starts_with("garim_frames_total{") && l.contains(&tag))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>()
    };
    let by_reason: Vec<(&str, f64)> = [
        "late",
        "detector_error",
        "model_not_loaded",
        "scene_changed",
    ]
    .into_iter()
    .map(|r| {
        let tag = format!("reason=\"{r}\"");
        let n = totals_before_kill
            .lines()
            .chain(totals_after.lines())
            .filter(|l| l.starts_with("garim_fail_closed_frames_total{") && l.contains(&tag))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>()
            .max(0.0);
        (r, n)
    })
    .collect();
    let closed = both("garim_segments_total{");
    // Every segment in the index decrypts and is an MP4.
    // SAFETY: set before any thread of this test reads the environment again.
    unsafe { std::env::set_var("GARIM_SITE_KEY", KEY) };
    let vault =
        vault::Vault::open(&storage, vault::SecretKey::load_site_key(None).unwrap()).unwrap();
    let rows = vault.list(None, 0, i64::MAX).unwrap();
    let broken = rows
        .iter()
        .filter(|r| {
            !vault
                .read(r)
                .is_ok_and(|p| p.windows(4).any(|w| w == b"ftyp"))
        })
        .count();
    let gaps = gaps.lock().unwrap().clone();
    // Gaps within each RTSP session of the watcher (while garim is killed there is no session to measure).
    let longest = gaps.iter().max().copied().unwrap_or_default();
    let minute = |from: Duration, to: Duration| {
        let s: Vec<_> = samples.iter().filter(|s| s.0 >= from && s.0 < to).collect();
        let n = s.len().max(1) as f64;
        (
            s.iter().map(|s| s.1 as f64).sum::<f64>() / n,
            s.iter().map(|s| s.2 as f64).sum::<f64>() / n / 1024.0,
        )
    };
    let end = Duration::from_secs(secs);
    // Memory settles over the first two minutes after a start (models, buffers, caches; measured flat after
    // that with 4 cameras): the window two minutes after the restart is compared with the last one.
    let (fd_first, rss_first) = minute(
        Duration::from_secs(secs / 2 + 120),
        Duration::from_secs(secs / 2 + 150),
    );
    let (fd_last, rss_last) = minute(end - Duration::from_secs(30), end);
    let peak_fd = samples.iter().map(|s| s.1).max().unwrap_or(0);
    let peak_rss = samples.iter().map(|s| s.2).max().unwrap_or(0) / 1024;
    let report = format!(
        "soak {secs} s, 4 cameras: {} faults, {reloads} policy reloads, 1 kill -9\n\
         frames: {} in, {} masked, {} encoded (all cameras, both runs)\n\
         masked whole by reason: {by_reason:?}\n\
         segments: {closed} closed, {} in the index, {broken} that do not decrypt\n\
         s1 output: {} frames watched, longest gap {longest:?} (within each RTSP session)\n\
         garim: peak {peak_fd} open files, {peak_rss} MiB RSS; 2 min after the restart {fd_first:.0} files {rss_first:.0} MiB, \
         at the end {fd_last:.0} files {rss_last:.0} MiB\n{}",
        faults.len(),
        stage("ingested"),
        stage("masked"),
        stage("encoded"),
        rows.len(),
        gaps.len() + 1,
        faults.join("\n")
    );
    eprintln!("{report}");
    if let Ok(dir) = std::env::var("GARIM_SOAK_OUT") {
        let _ = std::fs::write(format!("{dir}/soak.txt"), &report);
    }
    assert!(ok, "garim did not stop cleanly:\n{stderr}");
    assert_eq!(broken, 0, "{report}");
    // Closed segments all in the index; the kill -9 may cost the open one per camera.
    assert!(rows.len() as f64 >= closed - 4.0, "{report}");
    assert!(longest < Duration::from_millis(200), "{report}");
    assert!(fd_last <= fd_first * 1.2 + 8.0, "open files grew: {report}");
    assert!(rss_last <= rss_first * 1.2 + 32.0, "memory grew: {report}");
    assert!(
        !stdout.contains(CANARY) && !stderr.contains(CANARY),
        "a camera password leaked"
    );
}
