//! Helpers shared by the integration tests: decoding footage, pulling an RTSP stream, HTTP GET, running the
//! garim binary, and the one ONNX Runtime environment the test process may hold.

#![allow(dead_code)]

pub mod browser;

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn garim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_garim"))
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn models_dir() -> PathBuf {
    repo_root().join("models")
}

pub fn asset(name: &str) -> PathBuf {
    onnx::ModelStore::open(&models_dir())
        .expect("models/manifest.toml")
        .verified_path(name)
        .unwrap_or_else(|e| panic!("{e} (scripts/test fetches it)"))
}

pub fn runtime() -> &'static onnx::Runtime {
    static RT: std::sync::OnceLock<onnx::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| {
        onnx::Runtime::init(onnx::RuntimeOptions {
            models_dir: Some(models_dir()),
            ..Default::default()
        })
        .expect("ONNX Runtime")
    })
}

/// A decoded frame: packed I420, with its presentation time when the stream gave one.
pub struct Frame {
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
    pub pts: Option<Duration>,
}

impl Frame {
    pub fn layout(&self) -> mask::Layout {
        mask::Layout::packed(mask::PixelFormat::I420, self.width, self.height)
    }
    pub fn frame_ref(&self) -> mask::FrameRef<'_> {
        mask::FrameRef::new(self.layout(), &self.data).expect("valid frame")
    }
    pub fn luma(&self, x: u32, y: u32) -> u8 {
        self.data[(y * self.width + x) as usize]
    }
    /// U and V at the pixel (2×2 subsampled).
    pub fn chroma(&self, x: u32, y: u32) -> (u8, u8) {
        self.frame_ref().uv(x as usize / 2, y as usize / 2)
    }
}

/// Calls `f` with each frame (packed I420) a pipeline ending in `appsink name=sink` produces, until `f` returns
/// false, the stream ends, or `timeout` passes; returns how many frames `f` saw.
pub fn for_each_frame(desc: &str, timeout: Duration, mut f: impl FnMut(Frame) -> bool) -> usize {
    media::init().unwrap();
    let pipeline = gst::parse::launch(desc)
        .unwrap()
        .downcast::<gst::Pipeline>()
        .unwrap();
    let sink = pipeline
        .by_name("sink")
        .unwrap()
        .downcast::<gst_app::AppSink>()
        .unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let until = Instant::now() + timeout;
    let mut n = 0;
    while Instant::now() < until {
        let Some(sample) = sink.try_pull_sample(gst::ClockTime::from_mseconds(200)) else {
            if sink.is_eos() {
                break;
            }
            continue;
        };
        let caps = sample.caps().unwrap();
        let s = caps.structure(0).unwrap();
        let (w, h) = (
            s.get::<i32>("width").unwrap() as u32,
            s.get::<i32>("height").unwrap() as u32,
        );
        let buffer = sample.buffer().unwrap();
        let pts = buffer.pts().map(|t| Duration::from_nanos(t.nseconds()));
        let map = buffer.map_readable().unwrap();
        let layout = mask::Layout::packed(mask::PixelFormat::I420, w, h);
        n += 1;
        let more = f(Frame {
            width: w,
            height: h,
            data: map.as_slice()[..layout.min_len()].to_vec(),
            pts,
        });
        if !more {
            break;
        }
    }
    let _ = pipeline.set_state(gst::State::Null);
    n
}

fn pull_frames(desc: &str, max: usize, timeout: Duration) -> Vec<Frame> {
    let mut out = Vec::new();
    if max > 0 {
        for_each_frame(desc, timeout, |f| {
            out.push(f);
            out.len() < max
        });
    }
    out
}

/// Encodes what the gst-launch `source` elements produce into an H.264 Matroska file at `out`.
pub fn encode_clip(source: &[&str], out: &Path) {
    let location = format!("location={}", out.display());
    let mut args = vec!["-q"];
    args.extend_from_slice(source);
    args.extend_from_slice(&[
        "!",
        "x264enc",
        "speed-preset=ultrafast",
        "!",
        "matroskamux",
        "!",
        "filesink",
        &location,
    ]);
    let status = Command::new("gst-launch-1.0")
        .args(&args)
        .status()
        .expect("gst-launch-1.0 (gstreamer1.0-tools) is installed by scripts/test");
    assert!(status.success(), "gst-launch-1.0 {args:?}");
}

/// Decodes up to `max` frames of a file (packed I420; the widths used here are multiples of 4).
pub fn decode_file(path: &Path, max: usize) -> Vec<Frame> {
    pull_frames(
        &format!(
            "filesrc location={} ! decodebin ! videoconvert ! video/x-raw,format=I420 ! appsink name=sink sync=false",
            path.display()
        ),
        max,
        Duration::from_secs(120),
    )
}

/// Decodes a still image scaled to `width`×`height` (packed I420 needs a width that is a multiple of 4).
pub fn decode_image(path: &Path, width: u32, height: u32) -> Frame {
    pull_frames(
        &format!(
            "filesrc location={} ! decodebin ! videoconvert ! videoscale \
             ! video/x-raw,format=I420,width={width},height={height} ! appsink name=sink sync=false",
            path.display()
        ),
        1,
        Duration::from_secs(60),
    )
    .pop()
    .unwrap_or_else(|| panic!("{} does not decode", path.display()))
}

/// Pulls up to `max` frames from an RTSP URL within `timeout`.
pub fn pull_rtsp(url: &str, max: usize, timeout: Duration) -> Vec<Frame> {
    pull_frames(
        &format!(
            "rtspsrc location={url} protocols=tcp latency=100 ! application/x-rtp,media=video ! decodebin \
             ! videoconvert ! video/x-raw,format=I420 ! appsink name=sink sync=false max-buffers=100"
        ),
        max,
        timeout,
    )
}

pub fn http_get(addr: &str, path: &str) -> Option<String> {
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

/// The value of a metric series in Prometheus text, e.g. `garim_camera_up{camera="a"}`.
pub fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// Polls `f` every 250 ms until it returns true or `timeout` passes.
pub fn wait_for(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + timeout;
    while Instant::now() < until {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    false
}

/// Sends SIGINT and waits for the process; returns its exit status and output.
pub fn interrupt(mut child: Child) -> (bool, String, String) {
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    collect(&mut child)
}

pub fn collect(child: &mut Child) -> (bool, String, String) {
    let status = child.wait().unwrap();
    let mut out = String::new();
    let mut err = String::new();
    if let Some(mut o) = child.stdout.take() {
        o.read_to_string(&mut out).unwrap();
    }
    if let Some(mut e) = child.stderr.take() {
        e.read_to_string(&mut err).unwrap();
    }
    (status.success(), out, err)
}

pub fn spawn(cmd: &mut Command) -> Child {
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("GARIM_MODELS_DIR", models_dir())
        .spawn()
        .expect("start garim")
}

pub fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("garim-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A child process that is killed if the test panics before handing it back.
pub struct Guard(Option<Child>);

impl Guard {
    pub fn new(child: Child) -> Guard {
        Guard(Some(child))
    }

    pub fn into_inner(mut self) -> Child {
        self.0.take().expect("child present")
    }
}

impl std::ops::Deref for Guard {
    type Target = Child;
    fn deref(&self) -> &Child {
        self.0.as_ref().expect("child present")
    }
}

impl std::ops::DerefMut for Guard {
    fn deref_mut(&mut self) -> &mut Child {
        self.0.as_mut().expect("child present")
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `garim sim-camera` serving vtest.avi at rtsp://127.0.0.1:PORT/NAME, killed when the guard drops.
pub fn sim_camera(port: u16, name: &str) -> Guard {
    Guard::new(spawn(garim().args([
        "sim-camera",
        asset("vtest").to_str().unwrap(),
        "--port",
        &port.to_string(),
        "--name",
        name,
    ])))
}

/// A minimal valid site policy: one 관리책임자, HTTP and RTSP on the given ports, storage under `storage`,
/// then `extra` (defaults and cameras) verbatim.
pub fn site_policy(
    http_port: u16,
    rtsp_port: u16,
    storage: &Path,
    storage_extra: &str,
    extra: &str,
) -> String {
    format!(
        r#"
[site]
name = "test site"
[[people]]
id = "m"
role = "manager"
title = "과장"
phone = "000"
[server]
http_bind = "127.0.0.1:{http_port}"
rtsp_port = {rtsp_port}
[storage]
path = "{}"
{storage_extra}
{extra}
"#,
        storage.display()
    )
}

/// `garim check` accepts the site file at `path` (`what` names it in the failure).
pub fn assert_valid_policy_file(path: &Path, what: &str) {
    let out = garim()
        .arg("check")
        .arg(path)
        .output()
        .expect("run garim check");
    assert!(
        out.status.success(),
        "{what} ({}): {}",
        path.display(),
        String::from_utf8_lossy(&out.stdout)
    );
}

/// `garim check` accepts this site policy text.
pub fn assert_valid_policy(toml: &str, what: &str) {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = temp_dir(&format!("policy-check-{n}"));
    std::fs::write(dir.join("site.toml"), toml).unwrap();
    assert_valid_policy_file(&dir.join("site.toml"), &format!("{what}\n{toml}\n"));
}

/// The password of the managers the tests make.
pub const TEST_PASSWORD: &str = "correct horse battery";

/// Makes the site's first manager `m` (run in `dir`, where the policy's relative storage path is), and returns
/// the environment a CLI command acting as `m` needs.
pub fn first_manager(config: &Path, dir: &Path) -> [(&'static str, &'static str); 2] {
    let out = garim()
        .current_dir(dir)
        .env("GARIM_NEW_PASSWORD", TEST_PASSWORD)
        .args([
            "user",
            "add",
            "--config",
            config.to_str().unwrap(),
            "m",
            "--role",
            "manager",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "first manager not made: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    [("GARIM_USER", "m"), ("GARIM_PASSWORD", TEST_PASSWORD)]
}

/// The site runtime of `config`, started in-process with the test models (one inference thread).
pub fn start_site(config: &Path) -> std::sync::Arc<site::Site> {
    std::sync::Arc::new(try_start_site(config).unwrap())
}

/// [`start_site`], or why it would not start.
pub fn try_start_site(config: &Path) -> anyhow::Result<site::Site> {
    site::Site::start(site::SiteOptions {
        config_path: config.to_path_buf(),
        adjust: std::sync::Arc::new(|_| {}),
        overrides: site::Overrides::default(),
        shard: policy::Shard::WHOLE,
        models: site::ModelOptions {
            models_dir: Some(models_dir()),
            ort_lib: None,
            threads: 1,
            face_width: 384,
            person_conf: 0.15,
            plate_recheck: detect::plate::PLATE_RECHECK,
            hardware: None,
            engine_cache: None,
        },
    })
}

/// The HTTP API of a running site on 127.0.0.1:0, and its base URL.
pub fn serve_api(site: &std::sync::Arc<site::Site>) -> (server::HttpServer, String) {
    let records = site.records().clone();
    let state = server::AppState {
        health: std::sync::Arc::new(|| (true, serde_json::json!({}))),
        site: site.clone(),
        accounts: records.accounts.clone(),
        checkpoints: Some(records.checkpoints.clone()),
        secure_cookies: false,
    };
    let http = server::HttpServer::start("127.0.0.1:0", state).unwrap();
    let base = format!("http://{}", http.addr());
    (http, base)
}

/// The first manager's password (`m`) in the sealed-key tests.
pub const PW: &str = "correct horse battery";
pub const LEE_PW: &str = "lee's very own password";
/// The second 관리책임자 the policy names (a share is held only by a manager linked to one).
pub const LEE: &str =
    "[[people]]\nid = \"lee\"\nrole = \"manager\"\ntitle = \"팀장\"\nphone = \"000\"";

/// A client of the API under test (statuses are answers, not errors).
pub struct Http {
    pub base: String,
    pub agent: ureq::Agent,
}

impl Http {
    pub fn new(base: String) -> Http {
        Http {
            base,
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .into(),
        }
    }

    pub fn login(&self, user: &str, pw: &str) -> String {
        let mut r = self
            .agent
            .post(&format!("{}/api/v1/session/login", self.base))
            .send_json(serde_json::json!({"user": user, "password": pw, "session": "bearer"}))
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "login {user}");
        let v: serde_json::Value = r.body_mut().read_json().unwrap();
        v["token"].as_str().unwrap().to_string()
    }

    pub fn get(&self, token: &str, path: &str) -> (u16, Vec<u8>) {
        let mut r = self
            .agent
            .get(&format!("{}{path}", self.base))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .unwrap();
        (r.status().as_u16(), r.body_mut().read_to_vec().unwrap())
    }

    pub fn get_json(&self, token: &str, path: &str) -> (u16, serde_json::Value) {
        let (code, body) = self.get(token, path);
        (code, serde_json::from_slice(&body).unwrap_or_default())
    }

    /// Status, content type and body.
    pub fn post_raw(
        &self,
        token: &str,
        path: &str,
        body: serde_json::Value,
    ) -> (u16, String, Vec<u8>) {
        self.send(
            self.agent.post(&format!("{}{path}", self.base)),
            token,
            body,
        )
    }

    pub fn patch(
        &self,
        token: &str,
        path: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let (code, _, bytes) = self.send(
            self.agent.patch(&format!("{}{path}", self.base)),
            token,
            body,
        );
        (code, serde_json::from_slice(&bytes).unwrap_or_default())
    }

    fn send(
        &self,
        req: ureq::RequestBuilder<ureq::typestate::WithBody>,
        token: &str,
        body: serde_json::Value,
    ) -> (u16, String, Vec<u8>) {
        let mut r = req
            .header("Authorization", &format!("Bearer {token}"))
            .send_json(body)
            .unwrap();
        let kind = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        (
            r.status().as_u16(),
            kind,
            r.body_mut().read_to_vec().unwrap(),
        )
    }

    pub fn post(
        &self,
        token: &str,
        path: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let (code, _, bytes) = self.post_raw(token, path, body);
        (code, serde_json::from_slice(&bytes).unwrap_or_default())
    }
}

/// The ledger's rows of one kind.
pub fn rows_of(ledger: &ledger::Ledger, kind: ledger::Kind) -> Vec<ledger::Row> {
    ledger
        .list(&ledger::Filter {
            kinds: vec![kind],
            ..ledger::Filter::default()
        })
        .unwrap()
}

/// Makes managers `m` (password [`PW`]) and `lee` ([`LEE_PW`], linked to the policy's [`LEE`]) and the
/// contractor `fix` (password "set by m for lee", for `fix-it`) in the records of the policy text `bare`
/// (which names LEE), splits a new sealed key 2-of-2 between the managers, and returns its public key (hex).
/// A split needs two holders: it is refused while lee holds no share key of their own.
pub fn two_managers_split_a_sealed_key(bare: &str) -> String {
    let cfg = policy::SiteConfig::parse_named(bare, "bare").unwrap();
    let records = site::open_records(&cfg).unwrap();
    records
        .accounts
        .bootstrap("m", &PW.into(), Some("m"))
        .unwrap();
    let (_, m) = records
        .accounts
        .login("m", &PW.into(), access::SessionKind::Bearer, "test")
        .unwrap();
    let first = access::Password::from("set by m for lee");
    records
        .accounts
        .add(
            &m,
            "test",
            "lee",
            access::Role::Manager,
            &first,
            Some("lee"),
        )
        .unwrap();
    records
        .accounts
        .add(
            &m,
            "test",
            "fix",
            access::Role::Contractor,
            &first,
            Some("fix-it"),
        )
        .unwrap();
    // Only one manager holds a share key yet (lee's password is m's choice): no 2-of-n split is possible.
    let e = site::custody::sealed_init(&records, &m, &cfg)
        .unwrap_err()
        .to_string();
    assert!(e.contains("fewer holders") && e.contains("m"), "{e}");
    let (_, lee) = records
        .accounts
        .login("lee", &first, access::SessionKind::Bearer, "test")
        .unwrap();
    records
        .accounts
        .set_password(
            &lee,
            "test",
            "lee",
            &LEE_PW.into(),
            Some(&first),
            access::SealedLockout::Refuse,
        )
        .unwrap();
    site::custody::sealed_init(&records, &m, &cfg).unwrap()
}

/// The person ground truth of vtest.avi frames 1–400 (../shared/eval beside the checkout, or GARIM_EVAL_DIR;
/// read at run time, never committed).
pub fn vtest_truth_file() -> PathBuf {
    vtest_truth_file_if_any().unwrap_or_else(|p| {
        panic!(
            "{}: the person ground truth of vtest.avi is needed (../shared/eval beside the checkout, or GARIM_EVAL_DIR)",
            p.display()
        )
    })
}

/// [`vtest_truth_file`], or where it was looked for.
pub fn vtest_truth_file_if_any() -> Result<PathBuf, PathBuf> {
    let p = std::env::var_os("GARIM_EVAL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/eval"))
        .join("vtest-persons-gt-frames-1-400.txt");
    if p.is_file() { Ok(p) } else { Err(p) }
}

/// Share of the box's pixels that are hidden: black fill (Y ≤ 30, neutral chroma) in the output where the
/// source was not already that dark (pixels dark in the source tell nothing and are not counted), every 2 px.
pub fn black_covered(f: &Frame, src: &Frame, b: &detect::BBox) -> f64 {
    let (mut n, mut hit) = (0u32, 0u32);
    let x1 = (b.x1 as u32).min(f.width - 1);
    let y1 = (b.y1 as u32).min(f.height - 1);
    for y in (b.y0.max(0.0) as u32..=y1).step_by(2) {
        for x in (b.x0.max(0.0) as u32..=x1).step_by(2) {
            if src.luma(x, y) <= 45 {
                continue;
            }
            n += 1;
            let (u, v) = f.chroma(x, y);
            if f.luma(x, y) <= 30 && u.abs_diff(128) <= 10 && v.abs_diff(128) <= 10 {
                hit += 1;
            }
        }
    }
    if n == 0 {
        0.0
    } else {
        f64::from(hit) / f64::from(n)
    }
}

/// Frames beyond a person's first or last annotated box at the frame's edge where they are still in view.
pub const EDGE_FRAMES: usize = 2;

/// Where a person of the ground truth is on frame `f`, as an operator would see them: their annotated box, or
/// one between their boxes on either side when both are within 15 frames (the annotation skips frames where
/// they are hidden). Up to [`EDGE_FRAMES`] frames before their first box or after their last, where that box
/// lies at the edge of vtest's 768×576 frame, they are still there, half in the frame (the annotation starts
/// and ends when most of them is in view).
pub fn truth_at(
    truth: &std::collections::BTreeMap<usize, detect::BBox>,
    f: usize,
) -> Option<detect::BBox> {
    if let Some(t) = truth.get(&f) {
        return Some(*t);
    }
    let at_edge = |b: &detect::BBox| b.x0 <= 40.0 || b.x1 >= 728.0 || b.y0 <= 30.0 || b.y1 >= 546.0;
    let (before, after) = (truth.range(..f).next_back(), truth.range(f..).next());
    match (before, after) {
        (None, Some((b, bb))) | (Some((b, bb)), None)
            if b.abs_diff(f) <= EDGE_FRAMES && at_edge(bb) =>
        {
            return Some(*bb);
        }
        _ => {}
    }
    let (a, ba) = before?;
    let (b, bb) = after?;
    (f - a <= 15 && b - f <= 15).then(|| {
        let k = (f - a) as f32 / (b - a) as f32;
        detect::BBox {
            x0: ba.x0 + (bb.x0 - ba.x0) * k,
            y0: ba.y0 + (bb.y0 - ba.y0) * k,
            x1: ba.x1 + (bb.x1 - ba.x1) * k,
            y1: ba.y1 + (bb.y1 - ba.y1) * k,
        }
    })
}
