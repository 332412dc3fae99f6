//! Real Prometheus against a real garim: Debian's `prometheus` scrapes a `garim run` (one simulated camera) every
//! second, and a query through its HTTP API returns the camera's frame rate.

mod common;

use common::*;
use std::process::{Command, Stdio};
use std::time::Duration;

const CAMERA_PORT: u16 = 19155;
const RTSP_PORT: u16 = 19154;
const HTTP_PORT: u16 = 19180;
const PROMETHEUS_PORT: u16 = 19190;

/// Percent-encodes a PromQL query for a URL.
fn encode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'-' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The JSON body of a Prometheus API answer.
fn query(q: &str) -> Option<serde_json::Value> {
    let reply = http_get(
        &format!("127.0.0.1:{PROMETHEUS_PORT}"),
        &format!("/api/v1/query?query={}", encode(q)),
    )?;
    let (_, body) = reply.split_once("\r\n\r\n")?;
    serde_json::from_str(body.trim()).ok()
}

#[test]
fn prometheus_scrapes_garim_and_sees_the_cameras_frame_rate() {
    let work = temp_dir("prometheus");
    let _camera = sim_camera(CAMERA_PORT, "cam-p");
    let config = work.join("site.toml");
    std::fs::write(
        &config,
        site_policy(
            HTTP_PORT,
            RTSP_PORT,
            &work.join("data"),
            "",
            &format!(
                "[defaults]\ndetect = [\"person\"]\ndetect_every_n_frames = 2\n[[cameras]]\nid = \"cam-p\"\nurl = \"rtsp://127.0.0.1:{CAMERA_PORT}/cam-p\"\n"
            ),
        ),
    )
    .unwrap();
    let run = Guard::new(spawn(
        garim()
            .args([
                "run",
                "--config",
                config.to_str().unwrap(),
                "--seconds",
                "150",
            ])
            .env(
                "GARIM_SITE_KEY",
                "7d1e0f2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e1",
            ),
    ));
    let prom_dir = work.join("prometheus");
    std::fs::create_dir_all(&prom_dir).unwrap();
    std::fs::write(
        prom_dir.join("prometheus.yml"),
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: garim-test\n    static_configs:\n      - targets: [\"127.0.0.1:{HTTP_PORT}\"]\n"
        ),
    )
    .unwrap();
    let prometheus = Guard::new(
        Command::new("prometheus")
            .arg(format!(
                "--config.file={}",
                prom_dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                prom_dir.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{PROMETHEUS_PORT}"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("prometheus (Debian package prometheus) is installed by scripts/test"),
    );
    let metrics = || http_get(&format!("127.0.0.1:{HTTP_PORT}"), "/metrics").unwrap_or_default();
    assert!(
        wait_for(Duration::from_secs(60), || metric(
            &metrics(),
            r#"garim_camera_up{camera="cam-p"}"#
        ) == Some(1.0)),
        "cam-p never streamed"
    );
    // The target is up in Prometheus, then the rate of ingested frames of cam-p is positive.
    let q = r#"rate(garim_frames_total{camera="cam-p",stage="ingested"}[10s])"#;
    let mut last = None;
    let seen = wait_for(Duration::from_secs(60), || {
        last = query(q);
        last.as_ref()
            .and_then(|v| v["data"]["result"].as_array().cloned())
            .and_then(|r| r.first().cloned())
            .and_then(|s| s["value"][1].as_str().and_then(|v| v.parse::<f64>().ok()))
            .is_some_and(|fps| fps > 0.0)
    });
    let up = query(r#"up{job="garim-test"}"#);
    let (_, _, prom_log) = {
        let mut p = prometheus.into_inner();
        // SAFETY: signalling our own child process.
        unsafe { libc::kill(p.id() as i32, libc::SIGTERM) };
        collect(&mut p)
    };
    let (ok, stdout, stderr) = interrupt(run.into_inner());
    assert!(
        seen,
        "no positive rate for cam-p in Prometheus: {last:?}\nup: {up:?}\nprometheus log:\n{prom_log}"
    );
    let r = &last.unwrap()["data"]["result"][0];
    assert_eq!(r["metric"]["job"].as_str(), Some("garim-test"));
    let fps: f64 = r["value"][1].as_str().unwrap().parse().unwrap();
    assert!(fps > 0.0, "cam-p rate {fps} fps");
    assert_eq!(
        up.as_ref()
            .and_then(|v| v["data"]["result"][0]["value"][1].as_str()),
        Some("1"),
        "target not up: {up:?}"
    );
    assert!(ok, "garim run did not stop cleanly:\n{stdout}\n{stderr}");
}
