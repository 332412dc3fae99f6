//! `garim bench --cameras N`: N simulated cameras through the service path itself (RTSP in, detect, mask, live
//! RTSP out with a client on every mount, encrypted recording), measured after a warm-up: CPU per camera, fps
//! in and out, fail-closed frames, latency p50/p99 and RSS, and the largest N that holds real time. Settings
//! ("variants") are compared side by side in one run.
//!
//! The simulated cameras (a child `garim sim-camera --passthrough`, serving pre-encoded footage without
//! decoding it) and the RTSP clients (a child `gst-launch-1.0`) are processes of their own, so the CPU measured
//! is garim's alone.

use crate::ModelArgs;
use anyhow::{Context, Result, anyhow};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What holding real time means: every camera at ≥ 95% of its frame rate in and out, no frame masked whole,
/// frame latency p99 under 200 ms.
const FPS_SHARE: f64 = 0.95;
const P99_LIMIT_MS: f64 = 200.0;

#[derive(Debug, Clone)]
pub struct LiveBench {
    pub cameras: Vec<usize>,
    /// Stop a variant's sweep at the first N that does not hold.
    pub stop_at_failure: bool,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub warmup: Duration,
    pub seconds: Duration,
    pub variants: Vec<String>,
    pub detect: Option<String>,
    pub json: bool,
    pub video: PathBuf,
}

/// One variant: the command-line overrides a site is started with.
struct Variant {
    name: String,
    overrides: site::Overrides,
    /// None: the shipped plate recheck.
    plate_recheck: Option<Duration>,
    /// None: the command line's --threads.
    ort_threads: Option<usize>,
}

/// `before` is what garim shipped before the cost work; `shipped` is today's default. Either can be followed
/// by `+lever` terms: `shared`, `two-encodes`, `trellis`, `no-trellis`, `preset=NAME`, `threads=N`, `every=K`,
/// `motion`, `no-motion`, `plate-cache`, `no-plate-cache`, `ort-threads=N` (intra-op threads per model).
fn variant(spec: &str, detect: Option<&str>) -> Result<Variant> {
    let mut parts = spec.split('+');
    let base = parts.next().unwrap_or_default();
    let mut o = site::Overrides {
        detect: detect
            .map(detect::Class::parse_list)
            .transpose()
            .map_err(|e| anyhow!("--detect: {e}"))?,
        ..Default::default()
    };
    let mut plate_recheck = None;
    let mut ort_threads = None;
    match base {
        "shipped" => {}
        "before" => {
            plate_recheck = Some(Duration::ZERO);
            o.encode = media::EncodeSettings::legacy();
            o.detect_every = Some(1);
            o.motion_gate = Some(false);
        }
        other => {
            return Err(anyhow!(
                "--variants: unknown base {other:?} (before, shipped)"
            ));
        }
    }
    for lever in parts {
        let (k, v) = lever.split_once('=').unwrap_or((lever, ""));
        match (k, v) {
            ("shared", "") => o.encode.shared = true,
            ("two-encodes", "") => o.encode.shared = false,
            ("trellis", "") => o.encode.trellis = true,
            ("no-trellis", "") => o.encode.trellis = false,
            ("preset", p) if media::encoder::PRESETS.contains(&p) => {
                o.encode.preset = p.to_string()
            }
            ("threads", t) => {
                o.encode.threads = t
                    .parse()
                    .map_err(|_| anyhow!("--variants: threads={t:?} is not a number"))?
            }
            ("ort-threads", t) => {
                ort_threads = Some(
                    t.parse::<usize>()
                        .ok()
                        .filter(|t| (1..=64).contains(t))
                        .ok_or_else(|| {
                            anyhow!("--variants: ort-threads={t:?} is not a number from 1 to 64")
                        })?,
                )
            }
            ("plate-cache", "") => plate_recheck = None,
            ("no-plate-cache", "") => plate_recheck = Some(Duration::ZERO),
            ("motion", "") => o.motion_gate = Some(true),
            ("no-motion", "") => o.motion_gate = Some(false),
            ("every", k) => {
                o.detect_every =
                    Some(k.parse::<u32>().ok().filter(|k| *k <= 30).ok_or_else(|| {
                        anyhow!(
                            "--variants: every={k:?} is not a whole number from 0 (automatic) to 30"
                        )
                    })?)
            }
            _ => return Err(anyhow!("--variants: unknown lever {lever:?} in {spec:?}")),
        }
    }
    Ok(Variant {
        name: spec.to_string(),
        overrides: o,
        plate_recheck,
        ort_threads,
    })
}

#[derive(Debug, Clone, serde::Serialize)]
struct Row {
    variant: String,
    cameras: usize,
    resolution: String,
    fps: u32,
    seconds: f64,
    cpu_cores: f64,
    cpu_per_camera: f64,
    fps_in_min: f64,
    fps_out_min: f64,
    fail_closed_frames: u64,
    frames_dropped: u64,
    latency_p50_ms: f64,
    latency_p99_ms: f64,
    rss_mib: f64,
    peak_rss_mib: f64,
    holds: bool,
}

pub fn run(models: &ModelArgs, b: LiveBench) -> Result<()> {
    media::init()?;
    let variants: Vec<Variant> = b
        .variants
        .iter()
        .map(|v| variant(v, b.detect.as_deref()))
        .collect::<Result<_>>()?;
    let footage = footage(&b)?;
    let mut rows = Vec::new();
    for v in &variants {
        for &n in &b.cameras {
            eprintln!(
                "bench {}: {n} camera(s) {}x{}@{}, warm-up {} s, measuring {} s",
                v.name,
                b.width,
                b.height,
                b.fps,
                b.warmup.as_secs(),
                b.seconds.as_secs()
            );
            let row = one(models, &b, v, n, &footage)?;
            eprintln!(
                "  {:.3} core/camera, fps in {:.1} out {:.1}, fail-closed {}, p50 {:.0} ms, p99 {:.0} ms: {}",
                row.cpu_per_camera,
                row.fps_in_min,
                row.fps_out_min,
                row.fail_closed_frames,
                row.latency_p50_ms,
                row.latency_p99_ms,
                if row.holds { "holds" } else { "does not hold" }
            );
            let held = row.holds;
            rows.push(row);
            if !held && b.stop_at_failure {
                break;
            }
        }
    }
    let largest: Vec<serde_json::Value> = variants
        .iter()
        .map(|v| {
            let n = rows
                .iter()
                .filter(|r| r.variant == v.name && r.holds)
                .map(|r| r.cameras)
                .max()
                .unwrap_or(0);
            serde_json::json!({"variant": v.name, "largest_n_holding": n})
        })
        .collect();
    if b.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "machine": {"cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)},
                "holds_means": format!("fps in and out ≥ {:.0}% of the camera's, 0 fail-closed frames, latency p99 < {P99_LIMIT_MS} ms", FPS_SHARE * 100.0),
                "runs": rows,
                "largest": largest,
            }))?
        );
    } else {
        println!(
            "{:<28} {:>3} {:>10} {:>9} {:>7} {:>7} {:>6} {:>6} {:>6} {:>7} {:>6}",
            "variant",
            "N",
            "core/cam",
            "cores",
            "fps in",
            "fps out",
            "f-c",
            "p50",
            "p99",
            "RSS MiB",
            "holds"
        );
        for r in &rows {
            println!(
                "{:<28} {:>3} {:>10.3} {:>9.2} {:>7.1} {:>7.1} {:>6} {:>6.0} {:>6.0} {:>7.0} {:>6}",
                r.variant,
                r.cameras,
                r.cpu_per_camera,
                r.cpu_cores,
                r.fps_in_min,
                r.fps_out_min,
                r.fail_closed_frames,
                r.latency_p50_ms,
                r.latency_p99_ms,
                r.rss_mib,
                if r.holds { "yes" } else { "no" }
            );
        }
        for l in &largest {
            println!(
                "largest N holding real time, {}: {}",
                l["variant"].as_str().unwrap_or_default(),
                l["largest_n_holding"]
            );
        }
    }
    Ok(())
}

/// The bench's footage at its size, made once next to the source footage (`bench/NAME-WxH.mp4`).
fn footage(b: &LiveBench) -> Result<PathBuf> {
    let dir = b
        .video
        .parent()
        .map(|p| p.join("bench"))
        .unwrap_or_else(|| PathBuf::from("bench"));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let stem = b
        .video
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "footage".into());
    let out = dir.join(format!("{stem}-{}x{}.mp4", b.width, b.height));
    if !out.is_file() {
        eprintln!(
            "bench: scaling {} to {}x{} once → {}",
            b.video.display(),
            b.width,
            b.height,
            out.display()
        );
        media::sim::make_footage(&b.video, &out, b.width, b.height, b.fps)?;
    }
    Ok(out)
}

/// Kills a child process when dropped.
struct Kid(Child);

impl Drop for Kid {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn one(models: &ModelArgs, b: &LiveBench, v: &Variant, n: usize, footage: &Path) -> Result<Row> {
    let dir =
        std::env::temp_dir().join(format!("garim-bench-{}-{}", std::process::id(), rand_tag()));
    std::fs::create_dir_all(&dir)?;
    let result = run_site(models, b, v, n, footage, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn rand_tag() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default()
}

fn run_site(
    models: &ModelArgs,
    b: &LiveBench,
    v: &Variant,
    n: usize,
    footage: &Path,
    dir: &Path,
) -> Result<Row> {
    // The simulated cameras: their own process, serving the footage as it is.
    let exe = std::env::current_exe().context("cannot find the garim executable")?;
    let mut sim = Kid(Command::new(&exe)
        .args([
            "sim-camera",
            "--passthrough",
            "--port",
            "0",
            "--name",
            "bench",
        ])
        .arg("--cameras")
        .arg(n.to_string())
        .arg("--fps")
        .arg(b.fps.to_string())
        .arg(footage)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("cannot start the simulated cameras")?);
    let stdout = sim
        .0
        .stdout
        .take()
        .context("no output from the simulated cameras")?;
    let mut urls = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        if let Some(u) = line.strip_prefix("simulated camera: ") {
            urls.push(u.trim().to_string());
            if urls.len() == n {
                break;
            }
        }
    }
    if urls.len() != n {
        return Err(anyhow!(
            "the simulated cameras did not start ({} of {n} URLs)",
            urls.len()
        ));
    }
    let storage = dir.join("data");
    std::fs::create_dir_all(&storage)?;
    let key = storage.join("site.key");
    vault::SecretKey::init_site_key(&key).map_err(|e| anyhow!("{e}"))?;
    let mut cams = String::new();
    for (i, u) in urls.iter().enumerate() {
        cams.push_str(&format!(
            "[[cameras]]\nid = \"bench-{}\"\nurl = \"{u}\"\nlocation = \"bench\"\nrange = \"bench\"\n\n",
            i + 1
        ));
    }
    let policy = format!(
        r#"[site]
name = "garim bench"
[[people]]
id = "m"
role = "manager"
title = "bench"
phone = "000"
[server]
http_bind = "127.0.0.1:0"
rtsp_port = 0
[storage]
path = "{}"
key_file = "{}"
segment_secs = 10
{cams}"#,
        storage.display(),
        key.display()
    );
    let config = dir.join("site.toml");
    std::fs::write(&config, policy)?;
    let site = site::Site::start(site::SiteOptions {
        config_path: config,
        adjust: std::sync::Arc::new(|_: &mut policy::SiteConfig| {}),
        overrides: v.overrides.clone(),
        shard: policy::Shard::WHOLE,
        models: {
            let mut m = models.options();
            if let Some(r) = v.plate_recheck {
                m.plate_recheck = r;
            }
            if let Some(t) = v.ort_threads {
                m.threads = t;
            }
            m
        },
    })?;
    let port = site.rtsp_port().context("the site has no RTSP port")?;
    // One client per masked mount, as an NVR would pull it (no decoding: it only has to take the stream).
    let mut launch = Command::new("gst-launch-1.0");
    launch.arg("-q");
    for id in site.camera_ids() {
        launch.args([
            "rtspsrc",
            &format!("location=rtsp://127.0.0.1:{port}/{id}"),
            "protocols=tcp",
            "latency=0",
            "!",
            "fakesink",
            "sync=false",
        ]);
    }
    let _clients = Kid(launch
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start gst-launch-1.0 (apt install gstreamer1.0-tools)")?);
    // Warm-up: models loaded, every camera streaming, then the warm-up time.
    let ready_by = Instant::now() + Duration::from_secs(120);
    while site.status().cameras.iter().any(|c| c.frames_in == 0) {
        if Instant::now() > ready_by {
            site.stop();
            return Err(anyhow!("the cameras did not stream within 120 s"));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(b.warmup);
    let m = telemetry::metrics();
    let ids = site.camera_ids();
    let counters = |ids: &[String]| -> (Vec<(u64, u64)>, u64, u64) {
        let st = site.status();
        let frames = ids
            .iter()
            .map(|id| {
                st.cameras
                    .iter()
                    .find(|c| &c.id == id)
                    .map_or((0, 0), |c| (c.frames_in, c.frames_out))
            })
            .collect();
        let fc: u64 = st.cameras.iter().map(|c| c.fail_closed).sum();
        let dropped: u64 = ids
            .iter()
            .flat_map(|id| {
                telemetry::dropped::ALL.iter().map(move |r| {
                    m.frames_dropped_total
                        .with_label_values(&[id.as_str(), r])
                        .get()
                })
            })
            .sum();
        (frames, fc, dropped)
    };
    let (f0, fc0, d0) = counters(&ids);
    let u0 = crate::offline::usage();
    let t0 = Instant::now();
    std::thread::sleep(b.seconds);
    let wall = t0.elapsed().as_secs_f64();
    let u1 = crate::offline::usage();
    let (f1, fc1, d1) = counters(&ids);
    let latency: Vec<(f64, f64)> = site
        .camera_latencies()
        .into_iter()
        .map(|(p50, p99)| (p50.unwrap_or(f64::NAN), p99.unwrap_or(f64::NAN)))
        .collect();
    let rss = current_rss_mib();
    site.stop();
    drop(sim);
    let cores = (u1.cpu_secs - u0.cpu_secs) / wall;
    let rate = |a: u64, b: u64| (b.saturating_sub(a)) as f64 / wall;
    let fps_in_min = f0
        .iter()
        .zip(&f1)
        .map(|(a, b)| rate(a.0, b.0))
        .fold(f64::INFINITY, f64::min);
    let fps_out_min = f0
        .iter()
        .zip(&f1)
        .map(|(a, b)| rate(a.1, b.1))
        .fold(f64::INFINITY, f64::min);
    let p50 = latency.iter().map(|l| l.0).fold(0.0, f64::max);
    let p99 = latency.iter().map(|l| l.1).fold(0.0, f64::max);
    let fail_closed = fc1.saturating_sub(fc0);
    let target = f64::from(b.fps) * FPS_SHARE;
    Ok(Row {
        variant: v.name.clone(),
        cameras: n,
        resolution: format!("{}x{}", b.width, b.height),
        fps: b.fps,
        seconds: wall,
        cpu_cores: cores,
        cpu_per_camera: cores / n as f64,
        fps_in_min,
        fps_out_min,
        fail_closed_frames: fail_closed,
        frames_dropped: d1.saturating_sub(d0),
        latency_p50_ms: p50,
        latency_p99_ms: p99,
        rss_mib: rss,
        peak_rss_mib: u1.max_rss_kib as f64 / 1024.0,
        holds: fps_in_min >= target
            && fps_out_min >= target
            && fail_closed == 0
            && p99 < P99_LIMIT_MS,
    })
}

/// The process's resident memory now (VmRSS), in MiB.
fn current_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<f64>().ok())
        })
        .map_or(0.0, |k| k / 1024.0)
}

/// `--cameras`: "4" (1 to 4, stopping at the first that does not hold) or "1,2,4" (exactly those).
pub fn parse_cameras(s: &str) -> Result<(Vec<usize>, bool)> {
    let bad = || anyhow!("--cameras {s:?}: a number of cameras (sweeps 1..N) or a list like 1,2,4");
    if s.contains(',') {
        let list: Vec<usize> = s
            .split(',')
            .map(|p| p.trim().parse::<usize>().ok().filter(|n| *n >= 1))
            .collect::<Option<_>>()
            .ok_or_else(bad)?;
        return Ok((list, false));
    }
    let n: usize = s.trim().parse().ok().filter(|n| *n >= 1).ok_or_else(bad)?;
    Ok(((1..=n).collect(), true))
}

/// `--resolution WxH`.
pub fn parse_resolution(s: &str) -> Result<(u32, u32)> {
    let bad = || {
        anyhow!(
            "--resolution {s:?}: expected WIDTHxHEIGHT, even numbers from 64 to 7680, like 1920x1080"
        )
    };
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(bad)?;
    let p = |v: &str| {
        v.trim()
            .parse::<u32>()
            .ok()
            .filter(|v| (64..=7680).contains(v) && v % 2 == 0)
    };
    Ok((p(w).ok_or_else(bad)?, p(h).ok_or_else(bad)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_parse_or_say_why() {
        assert_eq!(parse_cameras("3").unwrap(), (vec![1, 2, 3], true));
        assert_eq!(parse_cameras("1,4").unwrap(), (vec![1, 4], false));
        assert!(parse_cameras("0").is_err() && parse_cameras("a").is_err());
        assert_eq!(parse_resolution("1920x1080").unwrap(), (1920, 1080));
        assert!(parse_resolution("1920").is_err() && parse_resolution("1921x1080").is_err());
        assert!(variant("shipped+every=2+two-encodes", None).is_ok());
        assert!(variant("before+every=31", None).is_err());
        assert!(variant("before+every=0", None).is_ok());
        assert!(variant("nightly", None).is_err());
        assert!(variant("shipped+preset=fast ! filesink", None).is_err());
        let before = variant("before", None).unwrap().overrides;
        assert!(!before.encode.shared && before.encode.trellis);
        let shipped = variant("shipped", None).unwrap().overrides;
        assert!(shipped.encode.shared && !shipped.encode.trellis);
    }
}
