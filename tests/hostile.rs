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
const NVR_PASSWORD: &str = "nvr-Pw-4471";

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
        "[defaults]\ndetect = [\"person\"]\n[[cameras]]\nid = \"h1\"\nurl = \"rtsp://127.0.0.1:18792/h1\"\nrange = \"test\"\n\
         [[nvrs]]\nid = \"nvr-1\"\nuser = \"nvr1\"\npassword_env = \"GARIM_TEST_NVR_PW\"\n",
    )
    // On the network, as in a container: HTTPS with a self-signed pair; plain HTTP only from loopback (this
    // test's own requests). The masked mounts also over RTSPS, with the same certificate.
    .replace("127.0.0.1:18790", "0.0.0.0:18790")
    .replace("rtsp_port = 18791", "rtsp_port = 18791\nrtsps_port = 18796");
    let config = work.join("site.toml");
    std::fs::write(&config, policy).unwrap();
    let service = Guard::new(spawn(
        garim()
            .env("GARIM_MODELS_DIR", models_dir())
            .env("GARIM_TEST_NVR_PW", NVR_PASSWORD)
            .args([
                "run",
                "--config",
                config.to_str().unwrap(),
                "--seconds",
                "150",
            ]),
    ));
    let streaming = wait_for(Duration::from_secs(60), || {
        counter(
            &http_get(HTTP, "/metrics").unwrap_or_default(),
            r#"garim_frames_total{camera="h1",stage="masked"}"#,
        ) > 50.0
    });
    assert!(streaming, "the camera never streamed");
    // On the network the masked mount asks for a login: the NVR's digest login pulls frames, nobody else does.
    let pull_from = |url: &str, login: &str| {
        let mut n = 0;
        for_each_frame(
            &format!(
                "rtspsrc location={url} protocols=tcp latency=100 tls-validation-flags=0 {login} \
                 ! application/x-rtp,media=video ! decodebin ! videoconvert ! video/x-raw,format=I420 \
                 ! appsink name=sink sync=false max-buffers=50"
            ),
            Duration::from_secs(8),
            |_| {
                n += 1;
                n < 5
            },
        );
        n
    };
    let pull = |login: &str| pull_from("rtsp://127.0.0.1:18791/h1", login);
    assert_eq!(
        pull(&format!("user-id=nvr1 user-pw={NVR_PASSWORD}")),
        5,
        "the NVR gets frames"
    );
    assert_eq!(pull(""), 0, "an anonymous client gets nothing");
    assert_eq!(
        pull("user-id=nvr1 user-pw=wrong"),
        0,
        "a wrong password gets nothing"
    );
    // RTSPS: the same stream over TLS, the same login; plain RTSP on the TLS port gets nothing.
    let login = format!("user-id=nvr1 user-pw={NVR_PASSWORD}");
    assert_eq!(
        pull_from("rtsps://127.0.0.1:18796/h1", &login),
        5,
        "the NVR gets frames over RTSPS"
    );
    assert_eq!(
        pull_from("rtsps://127.0.0.1:18796/h1", ""),
        0,
        "RTSPS still asks for the login"
    );
    assert_eq!(
        pull_from("rtsp://127.0.0.1:18796/h1", &login),
        0,
        "no plain RTSP on the RTSPS port"
    );
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

    let (ok, stdout, stderr) = interrupt(service.into_inner());
    assert!(
        stdout.contains("https: 0.0.0.0:18790")
            && stdout.contains("self-signed, made now")
            && stdout.contains("SHA-256"),
        "{stdout}"
    );
    use std::os::unix::fs::PermissionsExt;
    let key_mode = std::fs::metadata(storage.join("tls/key.pem"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(key_mode, 0o600);
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
    assert!(
        !stderr.contains(NVR_PASSWORD) && !stdout.contains(NVR_PASSWORD),
        "the NVR password leaked"
    );
}

/// A camera that freezes (SIGSTOP: its TCP connection stays open, nothing flows) for 12 s: the masked output
/// keeps its frame rate through the stall, the reconnection attempts and the retry waits. The longest gap
/// between output frames (their presentation times at the NVR's side) stays under 2 frame intervals.
#[test]
fn a_frozen_camera_never_leaves_a_gap_in_the_masked_output() {
    let work = temp_dir("frozen");
    let storage = work.join("data");
    std::fs::create_dir_all(&storage).unwrap();
    let key = storage.join("site.key");
    vault::SecretKey::init_site_key(&key).unwrap();
    let camera = sim_camera(18795, "f1");
    let policy = site_policy(
        18793,
        18794,
        &storage,
        &format!("key_file = \"{}\"", key.display()),
        "[defaults]\ndetect = [\"person\"]\n[[cameras]]\nid = \"f1\"\nurl = \"rtsp://127.0.0.1:18795/f1\"\nrange = \"test\"\n",
    );
    let config = work.join("site.toml");
    std::fs::write(&config, policy).unwrap();
    let service = Guard::new(spawn(garim().env("GARIM_MODELS_DIR", models_dir()).args([
        "run",
        "--config",
        config.to_str().unwrap(),
        "--seconds",
        "120",
    ])));
    let streaming = wait_for(Duration::from_secs(60), || {
        counter(
            &http_get("127.0.0.1:18793", "/metrics").unwrap_or_default(),
            r#"garim_frames_total{camera="f1",stage="masked"}"#,
        ) > 30.0
    });
    assert!(streaming, "the camera never streamed");
    let pid = camera.id() as i32;
    let freezer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(3));
        // SAFETY: signals to the simulated camera's own process.
        unsafe { libc::kill(pid, libc::SIGSTOP) };
        std::thread::sleep(Duration::from_secs(12));
        unsafe { libc::kill(pid, libc::SIGCONT) };
    });
    let mut pts: Vec<Duration> = Vec::new();
    for_each_frame(
        "rtspsrc location=rtsp://127.0.0.1:18794/f1 protocols=tcp latency=200 ! application/x-rtp,media=video \
         ! decodebin ! videoconvert ! video/x-raw,format=I420 ! appsink name=sink sync=false max-buffers=400",
        Duration::from_secs(30),
        |f| {
            if let Some(t) = f.pts {
                pts.push(t);
            }
            true
        },
    );
    freezer.join().unwrap();
    let (ok, _, stderr) = interrupt(service.into_inner());
    assert!(ok, "{stderr}");
    let gaps: Vec<Duration> = pts.windows(2).map(|w| w[1].saturating_sub(w[0])).collect();
    let longest = gaps.iter().max().copied().unwrap_or_default();
    let span = pts
        .last()
        .copied()
        .unwrap_or_default()
        .saturating_sub(pts[0]);
    eprintln!(
        "{} output frames over {span:?} through a 12 s freeze; longest gap {longest:?}",
        pts.len()
    );
    assert!(
        span > Duration::from_secs(25),
        "the output stopped: {} frames over {span:?}",
        pts.len()
    );
    // vtest.avi is 10 fps: 2 frame intervals are 200 ms.
    assert!(
        longest < Duration::from_millis(200),
        "longest gap {longest:?}"
    );
}
