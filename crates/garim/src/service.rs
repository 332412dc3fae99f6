//! `garim run`, `garim demo`, `garim check`, `garim sim-camera`: the live service wired from a site
//! configuration — RTSP out, HTTP (/metrics, /healthz), one runner per camera, status line every 5 s, and an
//! explicit shutdown that closes every open segment.

use crate::{MaskArgs, ModelArgs};
use anyhow::{Context, Result, anyhow};
use clap::Args;
use media::SimCamera;
use policy::SiteConfig;
use site::{Site, SiteOptions, open_vault};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub models: crate::ModelArgs,
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
    #[command(flatten)]
    pub models: crate::ModelArgs,
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
    /// Address to serve RTSP on
    #[arg(long, default_value = "127.0.0.1")]
    pub address: String,
    /// Port to serve RTSP on
    #[arg(long, default_value_t = 8555)]
    pub port: u16,
    /// Mount name: rtsp://ADDRESS:PORT/NAME
    #[arg(long, default_value = "sim-1")]
    pub name: String,
    /// Stop after this many seconds (default: until Ctrl-C)
    #[arg(long)]
    pub seconds: Option<u64>,
    /// Serve the file's H.264 as it is (an MP4 with H.264 video), without decoding or encoding it, looped at
    /// --fps: cameras that cost almost nothing (what `garim bench --cameras` uses)
    #[arg(long, requires = "fps")]
    pub passthrough: bool,
    /// With --passthrough: the frame rate the footage is served at
    #[arg(long)]
    pub fps: Option<f64>,
    /// With --passthrough: this many cameras, NAME-1 … NAME-N, on the one port
    #[arg(long, default_value_t = 1, requires = "passthrough")]
    pub cameras: usize,
}

pub fn check(file: &Path, format: &str) -> ExitCode {
    let result = SiteConfig::load(file);
    let (errors, warnings): (Vec<policy::ConfigError>, Vec<policy::ConfigError>) = match &result {
        Ok(cfg) => (Vec::new(), cfg.warnings()),
        Err(e) => (e.0.clone(), Vec::new()),
    };
    let rows = |list: &[policy::ConfigError]| -> Vec<serde_json::Value> {
        list.iter()
            .map(|e| serde_json::json!({"path": e.path, "value": e.value, "reason": e.reason}))
            .collect()
    };
    let mut out = String::new();
    if format == "json" {
        out = serde_json::json!({
            "file": file.display().to_string(),
            "valid": errors.is_empty(),
            "errors": rows(&errors),
            "warnings": rows(&warnings),
        })
        .to_string();
        out.push('\n');
    } else if errors.is_empty() {
        out.push_str(&format!("{}: valid\n", file.display()));
        for w in &warnings {
            out.push_str(&format!("warning: {w}\n"));
        }
    } else {
        for e in &errors {
            out.push_str(&format!("{e}\n"));
        }
    }
    print_quietly(&out);
    if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Writes to stdout; a reader that went away (`garim check site.toml | head`) ends the output quietly.
pub fn print_quietly(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
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
    print_quietly(&text);
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
        Some(s) => vault::time::read_time(s).map_err(|e| anyhow!("{flag}: {e}")),
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
    (from, to): (Option<&str>, Option<&str>),
    user: Option<&str>,
) -> Result<()> {
    let records = site::open_records(&load_config(config)?)?;
    let me = crate::client::login(&records, user)?;
    me.require(access::Permission::ViewRecordings)
        .map_err(|e| anyhow!("{e}"))?;
    let (vault, from, to) = vault_and_range(config, from, to)?;
    let rows: Vec<_> = vault
        .list(camera, from, to)?
        .into_iter()
        .filter(|r| me.may_see_camera(vocab::camera_of(&r.camera)))
        .collect();
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
    (from, to): (Option<&str>, Option<&str>),
    (purpose, user): (&str, Option<&str>),
    (out, force): (&Path, bool),
) -> Result<()> {
    if out.exists() && !force {
        return Err(anyhow!(
            "{} exists; nothing exported (use --force to replace it)",
            out.display()
        ));
    }
    let records = site::open_records(&load_config(config)?)?;
    let me = crate::client::login(&records, user)?;
    me.require(access::Permission::ExportRecordings)
        .map_err(|e| anyhow!("{e}"))?;
    if !me.may_see_camera(camera) {
        return Err(anyhow!("--camera: no camera {camera:?}"));
    }
    let (vault, from, to) = vault_and_range(config, from, to)?;
    // The row first: no export without it.
    records.ledger().append(ledger::Entry {
        kind: ledger::Kind::Use,
        actor: me.user.clone(),
        subject: format!(
            "{camera} {}–{}",
            vault::time::utc_stamp(from.max(0)),
            if to == i64::MAX { "end".into() } else { vault::time::utc_stamp(to) }
        ),
        purpose: purpose.to_string(),
        form: "MP4 export (CLI)".into(),
        client: "cli".into(),
        detail: serde_json::json!({"camera": camera, "from": from, "to": to, "file": out.display().to_string()}),
        ..ledger::Entry::default()
    })?;
    // Masked recordings only: sealed ones open through an approved opening (two managers), never here.
    let (path, n) = media::export::export(&vault, camera, from, to, None, out)?;
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

pub fn load_config(path: &Path) -> Result<SiteConfig> {
    site::read_policy(path, &|_: &mut SiteConfig| {}).map(|(cfg, _)| cfg)
}

pub fn sim_camera(a: SimArgs) -> Result<()> {
    let (controller, control) = site::control::channel();
    site::control::forward_signals(controller)?;
    let _sims;
    let _sim;
    if a.passthrough {
        let names: Vec<String> = (1..=a.cameras.max(1))
            .map(|i| format!("{}-{i}", a.name))
            .collect();
        let sims =
            media::EncodedSims::start(&a.video, &a.address, a.port, &names, a.fps.unwrap_or(10.0))?;
        for u in sims.urls(&a.address) {
            println!("simulated camera: {u}");
        }
        _sims = sims;
    } else {
        let sim = SimCamera::start(&a.video, &a.address, a.port, &a.name)?;
        println!("simulated camera: {}", sim.url());
        _sim = sim;
    }
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    let limit = a.seconds.map_or(Duration::MAX, Duration::from_secs);
    // Returns at Ctrl-C / SIGTERM or when the time is up.
    let _ = control.recv_timeout(limit);
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
    let config_path = demo_policy_copy(&find_repo_file(&a.config))?;
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
    let sim_url = sim.url().to_string();
    // The demo's camera is the simulated one, whatever URL the file gives (also after a reload).
    let adjust = Arc::new(move |cfg: &mut SiteConfig| {
        for cam in &mut cfg.cameras {
            if cam.id == "sim-1" {
                cam.url = Some(sim_url.clone());
                cam.url_env = None;
                cam.url_file = None;
            }
        }
    });
    println!(
        "garim demo: simulated camera {} serving {}",
        sim.url(),
        video.display()
    );
    // The simulated camera's footage is chosen per run (--video): its reference view is taken afresh.
    let mut overrides = a.mask.overrides()?;
    overrides.fresh_scene = vec!["sim-1".into()];
    serve(
        models,
        config_path,
        adjust,
        overrides,
        a.seconds,
        policy::Shard::WHOLE,
        true,
    )
}

/// The demo runs on its own copy of the site file, under its storage folder, so the console's zone editor
/// never edits the repository's example; the copy is made again when the example changes.
fn demo_policy_copy(source: &Path) -> Result<PathBuf> {
    use sha2::Digest;
    let text = std::fs::read_to_string(source)
        .with_context(|| format!("cannot read {}", source.display()))?;
    let dir = PathBuf::from(&load_config(source)?.storage.path);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let copy = dir.join("demo-site.toml");
    let stamp = dir.join("demo-site.toml.source");
    let hash = hex::encode(sha2::Sha256::digest(text.as_bytes()));
    if copy.exists() && std::fs::read_to_string(&stamp).is_ok_and(|h| h == hash) {
        return Ok(copy);
    }
    for (path, body) in [(&copy, &text), (&stamp, &hash)] {
        let tmp = path.with_extension("part");
        std::fs::write(&tmp, body)
            .and_then(|_| std::fs::File::open(&tmp)?.sync_all())
            .and_then(|_| std::fs::rename(&tmp, path))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!(
        "garim demo: the demo site's policy is {} (a copy of {}; the console edits the copy)",
        copy.display(),
        source.display()
    );
    Ok(copy)
}

/// The demo's manager account.
const DEMO_MANAGER: &str = "demo-manager";

/// The demo site's one-time manager login: made as the first manager of an empty directory, or given a new
/// random password when it exists (a ledgered reset by the demo on the host; `garim run` never does this).
/// `None` when the site has other users and no demo manager.
fn demo_manager_login(site: &Site) -> Result<Option<String>> {
    let mut raw = [0u8; 12];
    getrandom::fill(&mut raw).map_err(|e| anyhow!("no randomness: {e}"))?;
    // Easy to type: lowercase letters and digits without look-alikes.
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let pw: String = raw
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect::<Vec<_>>()
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-");
    let password = access::Password::from(pw.clone());
    let records = site.records();
    let dir = records.directory();
    let person = site
        .config()
        .people
        .iter()
        .find(|p| p.role == policy::legal::Role::Manager)
        .map(|p| p.id.clone());
    if dir.is_empty()? {
        records
            .accounts
            .bootstrap(DEMO_MANAGER, &password, person.as_deref())?;
        return Ok(Some(pw));
    }
    if dir.get(DEMO_MANAGER)?.is_none() {
        return Ok(None);
    }
    let row = ledger::Entry {
        kind: ledger::Kind::UserChange,
        actor: "demo".into(),
        subject: format!("user {DEMO_MANAGER}"),
        purpose: "one-time demo login: a new password made by `garim demo` on the host".into(),
        client: "cli".into(),
        detail: serde_json::json!({"change": "password", "own": false}),
        ..ledger::Entry::default()
    };
    // The row first (no change without it); a change that then fails says so in a row of its own.
    records.ledger().append(row.clone())?;
    if let Err(e) = dir.set_password_keeping(DEMO_MANAGER, &password, None) {
        let mut failed = row;
        failed.purpose = format!("{} (failed: nothing changed)", failed.purpose);
        failed.detail["outcome"] = "failed".into();
        records.ledger().append(failed)?;
        return Err(e.into());
    }
    Ok(Some(pw))
}

pub fn run(models: &ModelArgs, a: RunArgs) -> Result<()> {
    let shard = site::shard::resolve(a.shard.as_deref())?;
    serve(
        models,
        a.config,
        Arc::new(|_: &mut SiteConfig| {}),
        MaskArgs::default().overrides()?,
        a.seconds,
        shard,
        false,
    )
}

/// How the HTTP port is served: TLS with the policy's certificate, plain on a loopback bind, plain when the
/// policy says `dangerously_plain_http`, else TLS with a self-signed pair kept under `<storage>/tls/`. The line
/// to print names the certificate's fingerprint.
fn http_transport(cfg: &SiteConfig) -> Result<(server::tls::Transport, Option<String>)> {
    let bind: std::net::SocketAddr = cfg
        .server
        .http_bind
        .parse()
        .map_err(|_| anyhow!("server.http_bind: not a socket address"))?;
    let cert = match (&cfg.server.tls_cert_file, &cfg.server.tls_key_file) {
        (Some(c), Some(k)) => server::tls::load(Path::new(c), Path::new(k))
            .map_err(|e| anyhow!("server.tls_cert_file: {e}"))?,
        _ if bind.ip().is_loopback() => return Ok((server::tls::Transport::Plain, None)),
        _ if cfg.server.dangerously_plain_http => {
            tracing::warn!(bind = %bind, "dangerously_plain_http: the API is served in plain HTTP on the network");
            return Ok((server::tls::Transport::Plain, None));
        }
        _ => site::runtime::tls_certificate(cfg).map_err(|e| anyhow!("HTTPS: {e:#}"))?,
    };
    tracing::info!(fingerprint = %cert.fingerprint, file = %cert.cert_file.display(), created = cert.created, "HTTPS certificate");
    let line = format!(
        "https: {} (certificate {}{}, SHA-256 {})",
        bind,
        cert.cert_file.display(),
        if cert.created {
            ", self-signed, made now"
        } else {
            ""
        },
        cert.fingerprint
    );
    Ok((server::tls::Transport::Tls(cert.config), Some(line)))
}

/// Starts the site and its HTTP server, serves until Ctrl-C / SIGTERM (or `seconds`), then stops cleanly.
fn serve(
    models: &ModelArgs,
    config_path: PathBuf,
    adjust: site::Adjust,
    overrides: site::Overrides,
    seconds: Option<u64>,
    shard: policy::Shard,
    demo_login: bool,
) -> Result<()> {
    let (controller, control) = site::control::channel();
    site::control::forward_signals(controller)?;
    let site = Arc::new(Site::start(SiteOptions {
        config_path: config_path.clone(),
        adjust,
        overrides,
        shard,
        models: models.options(),
    })?);
    let cfg = site.config();
    let health_site = site.clone();
    let state = server::AppState {
        health: Arc::new(move || {
            let status = health_site.status();
            let mut body = serde_json::to_value(&status).unwrap_or_default();
            // Anonymous: why a reload was refused is told by field path only (values can be personal data,
            // such as a manager's phone number); the full text is in the log and the API.
            if let Some(e) = status.policy.last_error.as_deref() {
                body["policy"]["last_error"] = site::status::paths_only(e).into();
            }
            let m = telemetry::metrics();
            body["ledger_ok"] = (m.ledger_ok.get() == 1).into();
            body["inspections_unsigned"] = m.inspections_unsigned.get().into();
            (status.ok, body)
        }),
        site: site.clone(),
        accounts: site.records().accounts.clone(),
        checkpoints: Some(site.records().checkpoints.clone()),
        secure_cookies: true,
    };
    // HTTP gets what the cameras leave of the open-file limit (raised to the hard limit first).
    let nofile = server::limits::raise_nofile();
    let limits = server::Limits::for_budget(nofile, site.camera_ids().len());
    tracing::info!(
        open_files = nofile,
        http_connections = limits.max_connections,
        "file descriptor budget"
    );
    let (transport, https) = http_transport(&cfg)?;
    let transport_is_tls = matches!(transport, server::tls::Transport::Tls(_));
    let http = server::HttpServer::start_on(&cfg.server.http_bind, state, limits, transport)
        .with_context(|| format!("cannot serve HTTP on {}", cfg.server.http_bind))?;
    let http_addr = http.addr();
    if let Some(line) = https {
        println!("{line}");
    }
    let host = site::runtime::rtsp_host(&cfg);
    let ids = site.camera_ids();
    println!("site: {}", cfg.site.name);
    for id in &ids {
        println!(
            "  {:<10} masked RTSP  rtsp://{host}:{}/{id}",
            id,
            site.rtsp_port().unwrap_or(cfg.server.rtsp_port),
        );
        if let Some(p) = site.rtsps_port() {
            println!("  {:<10} masked RTSPS rtsps://{host}:{p}/{id}", "");
        }
        println!(
            "  {:<10} recordings   {}/",
            "",
            Path::new(&cfg.storage.path).join(id).display()
        );
    }
    if shard.count > 1 {
        println!(
            "  shard     {shard}: {} of {} cameras",
            ids.len(),
            site.status().shard.site_cameras
        );
    }
    let scheme = if transport_is_tls { "https" } else { "http" };
    println!(
        "  console   {scheme}://{http_addr}/ (운영 콘솔; the public notice: {scheme}://{http_addr}/site/notice)"
    );
    println!("  api       {scheme}://{http_addr}/api/v1 (log in first)");
    if demo_login {
        match demo_manager_login(&site) {
            Ok(Some(pw)) => println!(
                "  login     user {DEMO_MANAGER}, password {pw} (one-time: a new one each `garim demo`)"
            ),
            Ok(None) => println!(
                "  login     this demo site has its own users; log in with one of them (no demo login made)"
            ),
            Err(e) => println!("  login     the demo login could not be made: {e:#}"),
        }
    } else if site.records().directory().is_empty().unwrap_or(false) {
        println!(
            "  users     none yet: make the first manager with `garim user add --config {} NAME --role manager`",
            config_path.display()
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
    site.run(&control, seconds);
    println!("stopping: closing open segments…");
    for (id, segments) in site.stop() {
        for seg in segments {
            println!("  {id}: segment {}", seg.display());
        }
    }
    http.stop();
    println!("stopped cleanly");
    Ok(())
}
