//! A hostile network cannot cost a frame or a segment: while a camera records, 2,000 idle sockets and a burst of
//! 50 clients × 200 requests hit the HTTP port. HTTP keeps to its connection budget (the rest are closed as they
//! come), its threads yield the CPU to the cameras, and afterwards no segment is missing, no frame was masked
//! whole because of the load, and the service answers.

mod common;

use common::*;
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

const HTTP: &str = "127.0.0.1:18790";

fn counter(text: &str, series: &str) -> f64 {
    metric(text, series).unwrap_or(0.0)
}

/// /metrics once the test's own address is under its rate again.
fn metrics() -> String {
    let mut out = String::new();
    wait_for(Duration::from_secs(10), || {
        out = http_get(HTTP, "/metrics").unwrap_or_default();
        out.starts_with("HTTP/1.1 200")
    });
    out
}

#[test]
fn idle_sockets_and_a_request_flood_cost_no_frame_and_no_segment() {
    // SAFETY: raising this test process's own open-file limit to its hard limit.
    unsafe {
        let mut r = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut r);
        r.rlim_cur = r.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &r);
    }
    let work = temp_dir("hostile");
    let storage = work.join("data");
    std::fs::create_dir_all(&storage).unwrap();
    let key = storage.join("site.key");
    vault::SecretKey::init_site_key(&key).unwrap();
    let _camera = sim_camera(18792, "h1");
    let policy = site_policy(
        18790,
        18791,
        &storage,
        &format!("key_file = \"{}\"\nsegment_secs = 2", key.display()),
        "[defaults]\ndetect = [\"person\"]\n[[cameras]]\nid = \"h1\"\nurl = \"rtsp://127.0.0.1:18792/h1\"\nrange = \"test\"\n",
    );
    let config = work.join("site.toml");
    std::fs::write(&config, policy).unwrap();
    let service = Guard::new(spawn(garim().env("GARIM_MODELS_DIR", models_dir()).args([
        "run",
        "--config",
        config.to_str().unwrap(),
        "--seconds",
        "150",
    ])));
    let streaming = wait_for(Duration::from_secs(60), || {
        counter(
            &http_get(HTTP, "/metrics").unwrap_or_default(),
            r#"garim_frames_total{camera="h1",stage="masked"}"#,
        ) > 50.0
    });
    assert!(streaming, "the camera never streamed");
    // Let a few segments close before measuring.
    std::thread::sleep(Duration::from_secs(5));
    let before = metrics();
    let started = Instant::now();

    // 2,000 idle sockets, held open (those beyond the budget are closed by garim at once; the rest by the
    // header deadline; the holder reconnects to keep the pressure up).
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let holder = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut held: Vec<TcpStream> = Vec::new();
            let mut opened = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                held.retain(|s| s.peer_addr().is_ok());
                while held.len() < 2000 {
                    match TcpStream::connect(HTTP) {
                        Ok(mut s) => {
                            let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n");
                            held.push(s);
                            opened += 1;
                        }
                        Err(_) => break,
                    }
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            opened
        })
    };
    // 50 clients × 200 requests, as fast as they can (they run at the lowest priority: an attacker's CPU is
    // not the cameras').
    let flood: Vec<_> = (0..50)
        .map(|_| {
            std::thread::spawn(|| {
                // SAFETY: lowers this thread's own priority.
                unsafe {
                    libc::setpriority(libc::PRIO_PROCESS, 0, 19);
                }
                let mut answered = 0;
                for _ in 0..200 {
                    if http_get(HTTP, "/healthz").is_some_and(|r| r.starts_with("HTTP/1.1")) {
                        answered += 1;
                    }
                }
                answered
            })
        })
        .collect();
    let answered: usize = flood.into_iter().map(|t| t.join().unwrap()).sum();
    std::thread::sleep(Duration::from_secs(5));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let opened = holder.join().unwrap();
    let loaded = started.elapsed();
    // Wait for the segment in progress to close, then read the counters.
    std::thread::sleep(Duration::from_secs(5));
    let after = metrics();
    let elapsed = started.elapsed();
    let health = http_get(HTTP, "/healthz").unwrap_or_default();

    let (ok, _stdout, stderr) = interrupt(service.into_inner());
    let delta = |series: &str| counter(&after, series) - counter(&before, series);
    let segments = delta(r#"garim_segments_total{camera="h1"}"#);
    let late = delta(r#"garim_fail_closed_frames_total{camera="h1",reason="late"}"#);
    let errors = delta(r#"garim_fail_closed_frames_total{camera="h1",reason="detector_error"}"#);
    let refused = delta("garim_http_connections_refused_total");
    eprintln!(
        "load for {loaded:?}: {opened} idle sockets opened, {answered} of 10,000 requests answered (200 or 429), \
         {refused} connections refused; {segments} segments closed in {elapsed:?}; {late} late frames"
    );
    assert!(ok, "garim run failed under load:\n{stderr}");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(opened >= 2000, "only {opened} sockets opened");
    assert!(refused > 0.0, "the connection budget was never reached");
    // 2-second segments: one per 2 s of the measured time (one may still be open at either end).
    let expected = (elapsed.as_secs_f64() / 2.0).floor();
    assert!(
        segments >= expected - 1.0,
        "{segments} segments in {elapsed:?} (expected {expected})"
    );
    assert_eq!(
        late + errors,
        0.0,
        "frames masked whole under the load: {late} late, {errors} detector errors"
    );
    assert!(!stderr.contains("Too many open files"), "{stderr}");
}
