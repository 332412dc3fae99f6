//! `garim run`, `garim demo`, `garim check`, `garim sim-camera`: the live service wired from a site
//! configuration — RTSP out, HTTP (/metrics, /healthz), one runner per camera, status line every 5 s, and an
//! explicit shutdown that closes every open segment.

use crate::detectors::DetectorPool;
use crate::reload::{FileWatch, PolicyHistory, diff};
use crate::{MaskArgs, ModelArgs, signals};
use anyhow::{Context, Result, anyhow};
use clap::Args;
use mask::{MaskStyle, Polygon};
use media::camera::CameraSpec;
use media::{CameraHandle, CameraRunner, RtspOut, SimCamera};
use parking_lot::Mutex;
use policy::{CameraSettings, SiteConfig};
use stage::StageConfig;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Site configuration (TOML)
    #[arg(long)]
    pub config: PathBuf,
    /// Stop cleanly after this many seconds
    #[arg(long)]
    pub seconds: Option<u64>,
    /// Run only shard K of N of the site's cameras (K/N, or hostname/N to take K from a StatefulSet pod
    /// name such as garim-3) [env: GARIM_SHARD]
    #[arg(long)]
    pub shard: Option<String>,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Stop cleanly after this many seconds (default: until Ctrl-C)
    #[arg(long)]
    pub seconds: Option<u64>,
    /// Site configuration for the demo
    #[arg(long, default_value = "examples/sites/demo.toml")]
    pub config: PathBuf,
    /// Footage the simulated camera serves (default: the fetched vtest.avi)
    #[arg(long)]
    pub video: Option<PathBuf>,
    /// Port of the simulated camera's RTSP server
    #[arg(long, default_value_t = 8555)]
    pub camera_port: u16,
    #[command(flatten)]
    pub mask: MaskArgs,
}

#[derive(Args, Debug)]
pub struct SimArgs {
    /// Video file to serve, looped at its own frame rate
    pub video: PathBuf,
    #[arg(long, default_value = "127.0.0.1")]
    pub address: String,
    #[arg(long, default_value_t = 8555)]
    pub port: u16,
    /// Mount name: rtsp://ADDRESS:PORT/NAME
    #[arg(long, default_value = "sim-1")]
    pub name: String,
    #[arg(long)]
    pub seconds: Option<u64>,
}

pub fn check(file: &Path, format: &str) -> ExitCode {
    let result = SiteConfig::load(file);
    let errors: Vec<policy::ConfigError> = match &result {
        Ok(_) => Vec::new(),
        Err(e) => e.0.clone(),
    };
    if format == "json" {
        let rows: Vec<_> = errors
            .iter()
            .map(|e| serde_json::json!({"path": e.path, "value": e.value, "reason": e.reason}))
            .collect();
        println!(
            "{}",
            serde_json::json!({"file": file.display().to_string(), "valid": errors.is_empty(), "errors": rows})
        );
    } else if errors.is_empty() {
        println!("{}: valid", file.display());
    } else {
        for e in &errors {
            println!("{e}");
        }
    }
    if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

pub fn notice(file: &Path, format: &str, facility: Option<&str>, signs: bool) -> Result<()> {
    let format = match format {
        "md" | "markdown" => policy::notice::Format::Markdown,
        "html" => policy::notice::Format::Html,
        other => {
            return Err(anyhow!(
                "--format: unknown format {other:?}; use md or html"
            ));
        }
    };
    let cfg = load_config(file)?;
    let text = if signs {
        policy::notice::render_signs(&cfg, format)
    } else {
        policy::notice::render(&cfg, format, facility).map_err(|e| anyhow!("--facility: {e}"))?
    };
    print!("{text}");
    Ok(())
}

pub fn import(csv: &Path, into: &Path) -> Result<()> {
    let read = |p: &Path| {
        std::fs::read_to_string(p)
            .with_context(|| format!("cannot read {} as UTF-8 text", p.display()))
    };
    let (site, rows) = (read(into)?, read(csv)?);
    let (text, report) = policy::import::import_cameras(&site, &rows).map_err(|errs| {
        anyhow!(
            "nothing changed; {}:\n{}",
            csv.display(),
            errs.0
                .iter()
                .map(|e| format!("  {e}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    })?;
    // Write beside the file, then rename over it: a crash never leaves a half-written policy.
    let tmp = into.with_extension("toml.part");
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, into).with_context(|| format!("cannot replace {}", into.display()))?;
    println!(
        "{}: {} cameras added, {} updated; the file is valid",
        into.display(),
        report.added,
        report.updated
    );
    Ok(())
}

pub fn keys_sealed_init(grant_out: &Path) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let (grant, public) = vault::sealed::new_keypair();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(grant_out)
        .with_context(|| format!("cannot create {}", grant_out.display()))?;
    writeln!(f, "{grant}")?;
    f.sync_all()?;
    println!("sealed_public_key = \"{public}\"   # put this under [storage] in the site policy");
    println!(
        "{}: the grant (private key). Keep it OFF this machine (e.g. split between two 관리책임자); garim cannot open sealed recordings without it.",
        grant_out.display()
    );
    Ok(())
}

pub fn keys_init(file: &Path) -> Result<()> {
    vault::SecretKey::init_site_key(file).map_err(|e| anyhow!("{e}"))?;
    println!(
        "{}: new site key written (mode 0600); point storage.key_file at it and keep a backup offline",
        file.display()
    );
    Ok(())
}

fn parse_time_arg(flag: &str, v: Option<&str>, default: i64) -> Result<i64> {
    match v {
        None => Ok(default),
        Some(s) => vault::time::parse_time(s).ok_or_else(|| {
            anyhow!("{flag}: cannot read {s:?} as a time; use 2026-11-24T09:00:00Z, 2026-11-24 or unix seconds")
        }),
    }
}

/// The vault of a site file and a `--from`/`--to` range (everything when omitted).
fn vault_and_range(
    config: &Path,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(Arc<vault::Vault>, i64, i64)> {
    let vault = open_vault(&load_config(config)?, None)?;
    Ok((
        vault,
        parse_time_arg("--from", from, 0)?,
        parse_time_arg("--to", to, i64::MAX)?,
    ))
}

pub fn recordings_list(
    config: &Path,
    camera: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<()> {
    let (vault, from, to) = vault_and_range(config, from, to)?;
    let rows = vault.list(camera, from, to)?;
    println!(
        "{:<12} {:<18} {:<18} {:>12}  file",
        "camera", "start (UTC)", "end (UTC)", "bytes"
    );
    for r in &rows {
        // With a shared index, other replicas' segments are listed too: their files are on those nodes.
        let elsewhere = if r.node == vault.node() {
            String::new()
        } else {
            format!("  (on node {})", r.node)
        };
        println!(
            "{:<12} {:<18} {:<18} {:>12}  {}{elsewhere}",
            r.camera,
            vault::time::utc_stamp(r.start_unix),
            vault::time::utc_stamp(r.end_unix),
            r.bytes,
            r.path.display()
        );
    }
    println!("{} segments", rows.len());
    Ok(())
}

pub fn recordings_export(
    config: &Path,
    camera: &str,
    from: Option<&str>,
    to: Option<&str>,
    grant: Option<&Path>,
    out: &Path,
) -> Result<()> {
    let (vault, from, to) = vault_and_range(config, from, to)?;
    let grant = grant
        .map(vault::Grant::load)
        .transpose()
        .map_err(|e| anyhow!("--grant: {e}"))?;
    let stream = match &grant {
        Some(_) => format!("{camera}{}", vault::SEALED_SUFFIX),
        None => camera.to_string(),
    };
    let (path, n) = media::export::export(&vault, &stream, from, to, grant.as_ref(), out)?;
    println!("exported {n} segments of {camera} to {}", path.display());
    Ok(())
}

/// Finds a repository file (`examples/…`) from the working directory or next to the binary's checkout.
fn find_repo_file(rel: &Path) -> PathBuf {
    if rel.is_absolute() || rel.exists() {
        return rel.to_path_buf();
    }
    if let Ok(exe) = std::env::current_exe() {
        for up in exe.ancestors().skip(1).take(4) {
            let p = up.join(rel);
            if p.exists() {
                return p;
            }
        }
    }
    rel.to_path_buf()
}

fn load_config(path: &Path) -> Result<SiteConfig> {
    read_policy(path, &|_: &mut SiteConfig| {}).map(|(cfg, _)| cfg)
}

pub fn sim_camera(a: SimArgs) -> Result<()> {
    signals::install();
    let sim = SimCamera::start(&a.video, &a.address, a.port, &a.name)?;
    println!("simulated camera: {}", sim.url());
    let started = Instant::now();
    while !signals::stop_requested() && a.seconds.is_none_or(|s| started.elapsed().as_secs() < s) {
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

pub fn demo(models: &ModelArgs, a: DemoArgs) -> Result<()> {
    media::init()?;
    let store = onnx::ModelStore::locate(models.models_dir.as_deref())?;
    let video = match a.video {
        Some(v) => v,
        None => store.verified_path("vtest")?,
    };
    let sim = SimCamera::start(&video, "127.0.0.1", a.camera_port, "sim-1")?;
    let config_path = find_repo_file(&a.config);
    // The demo makes its own site key on first run; `garim run` never does (it refuses to start without one).
    if let Some(key_file) = load_config(&config_path)?.storage.key_file {
        let p = Path::new(&key_file);
        if !p.exists() {
            if let Some(dir) = p.parent() {
                std::fs::create_dir_all(dir)?;
            }
            vault::SecretKey::init_site_key(p).map_err(|e| anyhow!("{e}"))?;
            println!("garim demo: created the demo site key {key_file}");
        }
    }
    // The simulated camera's footage is chosen per run (--video): its reference view is taken afresh.
    let scene_state =
        stage::scene::SceneStore::new(Path::new(&load_config(&config_path)?.storage.path))
            .state_path("sim-1");
    if std::fs::remove_file(&scene_state).is_ok() {
        println!("garim demo: sim-1 takes a new reference view (simulated camera)");
    }
    let sim_url = sim.url().to_string();
    // The demo's camera is the simulated one, whatever URL the file gives (also after a reload).
    let adjust = move |cfg: &mut SiteConfig| {
        for cam in &mut cfg.cameras {
            if cam.id == "sim-1" {
                cam.url = Some(sim_url.clone());
                cam.url_env = None;
                cam.url_file = None;
            }
        }
    };
    println!(
        "garim demo: simulated camera {} serving {}",
        sim.url(),
        video.display()
    );
    serve(
        models,
        &config_path,
        &adjust,
        &a.mask,
        a.seconds,
        policy::Shard::WHOLE,
    )
}

pub fn run(models: &ModelArgs, a: RunArgs) -> Result<()> {
    let shard = crate::shard::resolve(a.shard.as_deref())?;
    serve(
        models,
        &a.config,
        &|_: &mut SiteConfig| {},
        &MaskArgs::default(),
        a.seconds,
        shard,
    )
}

fn stage_config(cam: &CameraSettings, overrides: &MaskArgs) -> Result<StageConfig> {
    let style_name = overrides.style.as_deref().unwrap_or(&cam.mask_style);
    let style =
        MaskStyle::parse(style_name).map_err(|e| anyhow!("cameras[{}].mask_style: {e}", cam.id))?;
    Ok(StageConfig {
        camera: cam.id.clone(),
        deadline: Duration::from_millis(u64::from(cam.fail_closed_deadline_ms)),
        detect_every: overrides.detect_every.unwrap_or(cam.detect_every_n_frames),
        style,
        privacy_masks: cam
            .privacy_masks
            .iter()
            .map(|p| Polygon(p.clone()))
            .collect(),
        recording_zones: cam
            .recording_zones
            .iter()
            .map(|p| Polygon(p.clone()))
            .collect(),
        tracker: overrides.tracker(),
    })
}

/// Reads, adjusts and validates the policy file; returns it with the exact text that was applied.
fn read_policy(path: &Path, adjust: &dyn Fn(&mut SiteConfig)) -> Result<(SiteConfig, String)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {} as UTF-8 text", path.display()))?;
    // Parse the very text that is recorded, so the history holds exactly what was applied.
    let mut cfg = SiteConfig::parse_named(&text, &path.display().to_string())
        .map_err(|errs| anyhow!("{} is invalid:\n{}", path.display(), list_errors(&errs)))?;
    adjust(&mut cfg);
    Ok((cfg, text))
}

fn list_errors(errs: &policy::ConfigErrors) -> String {
    errs.0
        .iter()
        .map(|e| format!("  {e}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The running cameras, by id, with what they were started from.
struct Running {
    id: String,
    url: policy::SecretUrl,
    classes: Vec<detect::Class>,
    scene_check_secs: u32,
    handle: CameraHandle,
}

fn classes_of(cam: &CameraSettings, overrides: &MaskArgs) -> Result<Vec<detect::Class>> {
    detect::Class::parse_list(
        &overrides
            .detect
            .clone()
            .unwrap_or_else(|| cam.detect.join(",")),
    )
    .map_err(|e| anyhow!("cameras[{}].detect: {e}", cam.id))
}

fn serve(
    models: &ModelArgs,
    config_path: &Path,
    adjust: &dyn Fn(&mut SiteConfig),
    overrides: &MaskArgs,
    seconds: Option<u64>,
    shard: policy::Shard,
) -> Result<()> {
    media::init()?;
    signals::install();
    let (mut cfg, text) = read_policy(config_path, adjust)?;
    let site_cameras = cfg
        .enabled_cameras()
        .map_err(|e| anyhow!("{}", list_errors(&e)))?;
    let site_total = site_cameras.len();
    // This replica's cameras only; the policy (retention of every camera, history) stays whole.
    let cameras: Vec<_> = site_cameras
        .into_iter()
        .filter(|c| shard.contains(&c.id))
        .collect();
    // Claimed before the vault opens, so two processes of one shard never recover or record into one vault.
    // (Replicas of different shards must not share a storage path: see the Helm chart.)
    let index = postgres_index(&cfg)?;
    let mut claim = crate::shard::claim(Path::new(&cfg.storage.path), shard, index.as_ref())?;
    tracing::info!(
        shard = %shard,
        cameras = cameras.len(),
        site_cameras = site_total,
        "shard claimed"
    );
    if cameras.is_empty() && shard.count > 1 {
        tracing::warn!(shard = %shard, "no camera of the site falls in this shard");
    }
    let vault = open_vault(&cfg, Some(shard))?;
    sweep(&vault, &cfg);
    let history = PolicyHistory::open(Path::new(&cfg.storage.path))?;
    let hash = history.record(&text, &["started".to_string()])?;
    let policy_state = Arc::new(Mutex::new(serde_json::json!({
        "file": config_path.display().to_string(), "sha256": hash, "last_error": null,
    })));
    // Models are verified before anything starts (a missing model is an error naming the file); sessions
    // then load in the background and frames that arrive earlier are masked whole.
    let pool = DetectorPool::verify(models)?;
    let host = cfg
        .server
        .http_bind
        .rsplit_once(':')
        .map(|(h, _)| h.trim_matches(['[', ']']).to_string())
        .unwrap_or_else(|| "127.0.0.1".into());
    let rtsp = RtspOut::start(&host, cfg.server.rtsp_port)?;
    let record_dir = PathBuf::from(&cfg.storage.path);
    let segment = Duration::from_secs(u64::from(cfg.storage.segment_secs));
    let mut running: Vec<Running> = Vec::new();
    for cam in &cameras {
        let classes = classes_of(cam, overrides)?;
        let sealed = if cam.recording == "sealed" {
            let text = cfg.storage.sealed_public_key.as_deref().unwrap_or_default();
            let key = vault::SealedPublicKey::parse(text).map_err(|e| anyhow!("{e}"))?;
            tracing::warn!(
                camera = %cam.id,
                "sealed recording: the zone-limited video is kept UNMASKED, encrypted to the sealed key; only a grant opens it"
            );
            Some(key)
        } else {
            None
        };
        let spec = CameraSpec {
            sealed,
            id: cam.id.clone(),
            url: cam.url.clone(),
            stage: stage_config(cam, overrides)?,
            detector: pool.detector_for(&classes)?,
            live: Some(rtsp.mount(&cam.id)?),
            record: Some((vault.clone(), segment)),
            scene: Some(stage::scene::SceneConfig::every(
                Duration::from_secs(u64::from(cam.scene_check_secs)),
                Some(record_dir.clone()),
            )),
        };
        running.push(Running {
            id: cam.id.clone(),
            url: cam.url.clone(),
            classes,
            scene_check_secs: cam.scene_check_secs,
            handle: CameraRunner::spawn(spec)?,
        });
        tracing::info!(camera = %cam.id, source = %cam.url, "camera started");
    }
    pool.load_in_background();
    let statuses: Vec<_> = running.iter().map(|r| r.handle.shared_status()).collect();
    let pool_state = pool.state();
    let health_policy = policy_state.clone();
    let http = server::HttpServer::start(
        &cfg.server.http_bind,
        Arc::new(move || {
            let cams: Vec<_> = statuses
                .iter()
                .map(|s| {
                    let s = s.lock();
                    serde_json::json!({
                        "id": s.id, "state": s.state.to_string(), "frames_in": s.frames_in,
                        "frames_out": s.frames_out, "fail_closed": s.fail_closed, "reconnects": s.reconnects,
                    })
                })
                .collect();
            let streaming = statuses
                .iter()
                .all(|s| s.lock().state == media::CameraState::Streaming);
            let models = pool_state.lock().clone();
            let ok = streaming && models == "loaded";
            let policy = health_policy.lock().clone();
            let shard = serde_json::json!({
                "index": shard.index, "count": shard.count, "cameras": cams.len(), "site_cameras": site_total,
            });
            (ok, serde_json::json!({"ok": ok, "models": models, "policy": policy, "shard": shard, "cameras": cams}))
        }),
        Some(recordings_api(vault.clone())),
    )
    .with_context(|| format!("cannot serve HTTP on {}", cfg.server.http_bind))?;
    let http_addr = http.addr();
    println!("site: {}", cfg.site.name);
    for cam in &cameras {
        println!(
            "  {:<10} masked RTSP  rtsp://{host}:{}/{}",
            cam.id,
            rtsp.port(),
            cam.id
        );
        println!(
            "  {:<10} recordings   {}/",
            "",
            record_dir.join(&cam.id).display()
        );
    }
    if shard.count > 1 {
        println!(
            "  shard     {shard}: {} of {site_total} cameras",
            cameras.len()
        );
    }
    println!("  metrics   http://{http_addr}/metrics");
    println!("  health    http://{http_addr}/healthz");
    println!(
        "  policy    {} (reloaded on change or SIGHUP)",
        config_path.display()
    );
    match seconds {
        Some(s) => println!("running for {s} s (Ctrl-C stops earlier)"),
        None => println!("running (Ctrl-C stops)"),
    }
    let started = Instant::now();
    let mut last_report = Instant::now();
    let mut last_check = Instant::now();
    let mut last_sweep = Instant::now();
    let mut watch = FileWatch::new(config_path);
    let mut last_counts: Vec<(u64, u64)> = running.iter().map(|_| (0, 0)).collect();
    while !signals::stop_requested() && seconds.is_none_or(|s| started.elapsed().as_secs() < s) {
        std::thread::sleep(Duration::from_millis(100));
        if signals::take_reload_request()
            || (last_check.elapsed() >= Duration::from_secs(1) && watch.changed())
        {
            reload(
                config_path,
                adjust,
                overrides,
                &mut cfg,
                &running,
                &history,
                &policy_state,
                shard,
            );
        }
        if last_check.elapsed() >= Duration::from_secs(1) {
            last_check = Instant::now();
        }
        if last_sweep.elapsed() >= SWEEP_EVERY {
            last_sweep = Instant::now();
            sweep(&vault, &cfg);
        }
        if last_report.elapsed() >= Duration::from_secs(5) {
            claim.poll_conflicts();
            let secs = last_report.elapsed().as_secs_f64();
            last_report = Instant::now();
            for (r, last) in running.iter().zip(last_counts.iter_mut()) {
                let s = r.handle.status();
                let fps_in = (s.frames_in - last.0) as f64 / secs;
                let fps_out = (s.frames_out - last.1) as f64 / secs;
                *last = (s.frames_in, s.frames_out);
                let ms = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.1}"));
                println!(
                    "[{:>5.0}s] {}: in {fps_in:.1} fps, out {fps_out:.1} fps, inference p50 {} ms, latency p99 {} ms, fail-closed {}, reconnects {}, {}",
                    started.elapsed().as_secs_f64(),
                    s.id,
                    ms(s.inference_p50_ms),
                    ms(s.latency_p99_ms),
                    s.fail_closed,
                    s.reconnects,
                    s.state
                );
            }
        }
    }
    println!("stopping: closing open segments…");
    for r in running {
        let segments = r.handle.stop();
        for seg in segments {
            println!("  {}: segment {}", r.id, seg.display());
        }
    }
    http.stop();
    drop(rtsp);
    println!("stopped cleanly");
    Ok(())
}

/// `GET /api/v1/recordings?camera=&from=&to=`: the index rows (no content), the same listing as the CLI.
fn recordings_api(vault: Arc<vault::Vault>) -> server::RecordingsFn {
    Arc::new(move |camera, from, to| {
        let from = parse_time_arg("from", from, 0).map_err(|e| e.to_string())?;
        let to = parse_time_arg("to", to, i64::MAX).map_err(|e| e.to_string())?;
        let rows = vault.list(camera, from, to).map_err(|e| e.to_string())?;
        let segments: Vec<_> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "camera": r.camera,
                    "start": vault::time::utc_stamp(r.start_unix),
                    "end": vault::time::utc_stamp(r.end_unix),
                    "bytes": r.bytes,
                    "sha256": r.sha256,
                    "node": r.node,
                })
            })
            .collect();
        Ok(serde_json::json!({"segments": segments}))
    })
}

/// How often expired days are destroyed and the storage floor checked (also at start).
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// The shared Postgres index of a multi-replica site, when the policy names one.
fn postgres_index(cfg: &SiteConfig) -> Result<Option<vault::PostgresIndex>> {
    Ok(cfg
        .index_url()
        .map_err(|e| anyhow!("{e}"))?
        .map(|url| vault::PostgresIndex {
            url: url.expose().to_string(),
            shown: url.redacted(),
        }))
}

/// Opens the vault with the site key; a missing or wrong key file stops the service (never plaintext).
/// `serving`: the shard a running service records (it recovers and, with a shared Postgres index, sweeps only
/// that shard's cameras); None for the tools that only list and export (no recovery: a service may be
/// recording into the same folder).
pub fn open_vault(cfg: &SiteConfig, serving: Option<policy::Shard>) -> Result<Arc<vault::Vault>> {
    let key = vault::SecretKey::load_site_key(cfg.storage.key_file.as_deref().map(Path::new))
        .map_err(|e| anyhow!("storage.key_file: {e}"))?;
    let postgres = postgres_index(cfg)?;
    let shared = postgres.is_some();
    let owns = serving.map(|shard| {
        Arc::new(move |camera: &str| {
            shard.contains(camera.strip_suffix(vault::SEALED_SUFFIX).unwrap_or(camera))
        }) as vault::Owns
    });
    let opts = vault::VaultOptions {
        postgres,
        node: None,
        owns,
        skip_recovery: serving.is_none(),
    };
    let vault =
        vault::Vault::open_with(Path::new(&cfg.storage.path), key, opts).map_err(|e| match e {
            vault::VaultError::Index { .. } if shared => anyhow!("storage.index_url_env: {e}"),
            _ => anyhow!("{e}"),
        })?;
    if shared && serving.is_some() {
        tracing::info!(
            index = %vault.index_location(),
            node = vault.node(),
            "vault index on Postgres, shared with the other replicas"
        );
    }
    Ok(Arc::new(vault))
}

/// The retention sweep: every day older than its camera's retention_days is destroyed.
fn sweep(vault: &vault::Vault, cfg: &SiteConfig) {
    // A camera no longer in the policy keeps the site's default retention: its footage must not outlive it.
    let retention = |camera: &str| {
        Some(
            cfg.cameras
                .iter()
                .find(|c| c.id == camera)
                .map_or(cfg.defaults.retention_days, |c| cfg.retention_days(c)),
        )
    };
    match vault.sweep(vault::time::unix_now(), &retention) {
        Ok(r) => {
            for (camera, n) in &r.per_camera {
                telemetry::metrics()
                    .segments_destroyed_total
                    .with_label_values(&[camera])
                    .inc_by(*n as u64);
            }
            if r.keys_destroyed > 0 || r.segments_deleted > 0 {
                tracing::info!(
                    keys = r.keys_destroyed,
                    segments = r.segments_deleted,
                    bytes = r.bytes_deleted,
                    "retention sweep destroyed expired recordings"
                );
            }
        }
        Err(e) => tracing::error!("retention sweep failed (retried at the next run): {e}"),
    }
    let m = telemetry::metrics();
    let now = vault::time::unix_now();
    match vault.enforce_floor(cfg.storage.min_free_bytes, now, &|| vault.free_bytes()) {
        Ok(deleted) => {
            let low = vault
                .free_bytes()
                .map_or(true, |f| f < cfg.storage.min_free_bytes);
            m.storage_low.set(i64::from(low || !deleted.is_empty()));
            for d in &deleted {
                m.segments_destroyed_total
                    .with_label_values(&[&d.camera])
                    .inc();
            }
            if !deleted.is_empty() {
                tracing::warn!(
                    segments = deleted.len(),
                    floor_bytes = cfg.storage.min_free_bytes,
                    "free space under storage.min_free_bytes: oldest recordings removed"
                );
            }
        }
        Err(e) => {
            m.storage_low.set(1);
            tracing::error!("storage floor check failed: {e}");
        }
    }
    for cam in &cfg.cameras {
        m.retention_seconds
            .with_label_values(&[&cam.id])
            .set(i64::from(cfg.retention_days(cam)) * 86_400);
    }
    if let Ok(usage) = vault.usage() {
        for (camera, bytes, oldest) in usage {
            m.storage_bytes.with_label_values(&[&camera]).set(bytes);
            m.oldest_segment_age_seconds
                .with_label_values(&[&camera])
                .set((now - oldest).max(0));
        }
    }
}

/// Applies a changed policy file to the running cameras, or reports why it cannot.
#[allow(clippy::too_many_arguments)]
fn reload(
    path: &Path,
    adjust: &dyn Fn(&mut SiteConfig),
    overrides: &MaskArgs,
    current: &mut SiteConfig,
    running: &[Running],
    history: &PolicyHistory,
    state: &Arc<Mutex<serde_json::Value>>,
    shard: policy::Shard,
) {
    let m = telemetry::metrics();
    let attempt = read_policy(path, adjust).and_then(|(cfg, text)| {
        let mut cams = cfg
            .enabled_cameras()
            .map_err(|e| anyhow!("{}", list_errors(&e)))?;
        cams.retain(|c| shard.contains(&c.id));
        let mut configs = Vec::new();
        for cam in &cams {
            configs.push((
                cam.clone(),
                stage_config(cam, overrides)?,
                classes_of(cam, overrides)?,
            ));
        }
        Ok((cfg, text, configs))
    });
    let (cfg, text, configs) = match attempt {
        Ok(x) => x,
        Err(e) => {
            let reason = format!("{e:#}");
            tracing::error!("policy reload refused, the previous policy stays in force: {reason}");
            m.policy_reloads_total.with_label_values(&["invalid"]).inc();
            state.lock()["last_error"] = serde_json::Value::String(reason);
            return;
        }
    };
    let changes = diff(current, &cfg);
    if changes.is_empty() {
        return;
    }
    for (cam, stage_cfg, classes) in &configs {
        match running.iter().find(|r| r.id == cam.id) {
            Some(r) => {
                if r.url != cam.url || &r.classes != classes {
                    tracing::warn!(camera = %cam.id, "url or detect classes changed: takes effect at the next restart");
                }
                if r.scene_check_secs != cam.scene_check_secs {
                    tracing::warn!(camera = %cam.id, "scene_check_secs changed: takes effect at the next restart");
                }
                r.handle.update(stage_cfg.clone());
            }
            None => tracing::warn!(camera = %cam.id, "new camera: starts at the next restart"),
        }
    }
    for r in running {
        if !configs.iter().any(|(c, _, _)| c.id == r.id) {
            tracing::warn!(camera = %r.id, "removed or disabled in the policy: stops at the next restart");
        }
    }
    match history.record(&text, &changes) {
        Ok(hash) => {
            *state.lock() = serde_json::json!({
                "file": path.display().to_string(), "sha256": hash, "last_error": null,
            });
        }
        Err(e) => tracing::error!("policy applied but its history could not be written: {e:#}"),
    }
    for c in &changes {
        tracing::info!("policy change: {c}");
    }
    m.policy_reloads_total.with_label_values(&["applied"]).inc();
    *current = cfg;
}
