//! The running site: one runner per camera of this replica's shard, the masked RTSP server, the vault and its
//! retention sweeps, the detector pool and the policy in force (hot-reloaded). `Site::start` brings it up,
//! `Site::run` serves until a `Control::Stop` (or the time limit), `Site::stop` closes every open segment.
//! Readers on other threads (the HTTP API) see it through the typed `status()`.

use crate::control::Control;
use crate::detectors::{DetectorPool, ModelOptions, ModelsState};
use crate::history::{FileWatch, PolicyHistory, diff};
use crate::records::{Records, open_records};
use crate::shard::ShardClaim;
use crate::status::{CameraView, PolicyState, ShardStatus, SiteStatus};
use crate::vaults::{SWEEP_EVERY, open_vault, postgres_index, sweep};
use anyhow::{Context, Result, anyhow};
use crossbeam_channel::Receiver;
use mask::{MaskStyle, Polygon};
use media::camera::CameraSpec;
use media::{CameraHandle, CameraRunner, RtspOut};
use parking_lot::Mutex;
use policy::{CameraSettings, SiteConfig};
use stage::StageConfig;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Changes a policy after it is read and before it is validated against the running site (the demo points its
/// camera at the simulated one this way, also after a reload).
pub type Adjust = Arc<dyn Fn(&mut SiteConfig) + Send + Sync>;

/// Command-line overrides of the policy's masking settings (`garim demo --detect …`), parsed.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub detect: Option<Vec<detect::Class>>,
    pub style: Option<policy::MaskStyleName>,
    pub detect_every: Option<u32>,
    pub tracker: detect::TrackerConfig,
    /// Cameras whose reference view is taken afresh at start (the demo's simulated camera, whose footage is
    /// chosen per run). Only code sets this: deleting a state file never does it.
    pub fresh_scene: Vec<String>,
    /// The motion gate on or off (default on; `garim bench` compares).
    pub motion_gate: Option<bool>,
    /// How cameras encode (`garim bench` compares settings; everything else uses the default).
    pub encode: media::EncodeSettings,
}

/// What a site is started from.
pub struct SiteOptions {
    pub config_path: PathBuf,
    pub adjust: Adjust,
    pub overrides: Overrides,
    pub shard: policy::Shard,
    pub models: ModelOptions,
}

/// One running camera, with what it was started from.
struct Running {
    inbox: stage::scene::SceneInbox,
    id: String,
    url: policy::SecretUrl,
    classes: Vec<detect::Class>,
    scene_check_secs: u32,
    handle: CameraHandle,
}

/// The policy in force and how it got there.
struct Policy {
    cfg: SiteConfig,
    state: PolicyState,
}

pub struct Site {
    records: Records,
    opts: SiteOptions,
    policy: Mutex<Policy>,
    cameras: Mutex<Vec<Running>>,
    vault: Arc<vault::Vault>,
    pool: DetectorPool,
    history: PolicyHistory,
    claim: Mutex<ShardClaim>,
    rtsp: Mutex<Option<RtspOut>>,
    /// The same mounts over TLS (`server.rtsps_port`).
    rtsps: Mutex<Option<RtspOut>>,
    /// Held while the policy file is written or applied.
    policy_write: Mutex<()>,
    site_cameras: usize,
    last_sweep: std::sync::atomic::AtomicI64,
    /// The scene guard's files, sealed under the site key loaded at start (read by the API and inspections).
    scenes: stage::scene::SceneStore,
    /// Managers' shares given to openings still collecting approvals (memory only).
    held: crate::custody::Held,
    /// Data subjects' openings under review: their segment keys, in memory only.
    reviews: crate::subject::Reviews,
    /// The request counts as last read (after each request operation and at each inspection check), so
    /// /healthz does not read every request file on every probe.
    requests_seen: Mutex<crate::status::RequestsStatus>,
    /// Each camera's recent figures and events, for the console's charts.
    trends: crate::trend::Trends,
    /// The newest masked frame of each camera as JPEG, with the frame's time: snapshots and live views of
    /// the same frame are encoded once.
    jpegs: Mutex<std::collections::HashMap<String, Jpeg>>,
}

/// A camera's newest masked frame as JPEG, with the frame's time.
type Jpeg = (Instant, Arc<Vec<u8>>);

/// Why an edit of the policy file (the console's zone editor) was not applied.
#[derive(Debug)]
pub enum EditError {
    /// The file is no longer the one the editor opened.
    Stale(String),
    /// The edited policy fails validation (the file was not changed).
    Invalid(Vec<policy::ConfigError>),
    /// The edit could not be made, or another check refused it (the message says which).
    Refused(String),
    /// Writing or recording failed.
    Failed(String),
}

/// The live mounts take the one encode, or raw frames to encode themselves (two encodes, by setting).
fn live_feed(encode: &media::EncodeSettings) -> media::Feed {
    if encode.shared {
        media::Feed::H264
    } else {
        media::Feed::Raw {
            trellis: encode.trellis,
        }
    }
}

/// Reads, adjusts and validates the policy file; returns it with the exact text that was applied.
pub fn read_policy(path: &Path, adjust: &dyn Fn(&mut SiteConfig)) -> Result<(SiteConfig, String)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {} as UTF-8 text", path.display()))?;
    // Parse the very text that is recorded, so the history holds exactly what was applied.
    let mut cfg = SiteConfig::parse_named(&text, &path.display().to_string())
        .map_err(|errs| anyhow!("{} is invalid:\n{}", path.display(), list_errors(&errs)))?;
    adjust(&mut cfg);
    Ok((cfg, text))
}

pub fn list_errors(errs: &policy::ConfigErrors) -> String {
    errs.0
        .iter()
        .map(|e| format!("  {e}"))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn stage_config(cam: &CameraSettings, overrides: &Overrides) -> Result<StageConfig> {
    let style = MaskStyle::from_name(overrides.style.unwrap_or(cam.mask_style));
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
        motion_gate: overrides.motion_gate.unwrap_or(true),
        tracker: overrides.tracker,
    })
}

fn classes_of(cam: &CameraSettings, overrides: &Overrides) -> Vec<detect::Class> {
    overrides
        .detect
        .clone()
        .unwrap_or_else(|| cam.detect.clone())
}

/// The masked RTSP output listens on the host of the HTTP bind address.
/// Who may pull the masked mounts: each NVR with its digest login; anonymous clients on a loopback bind, or
/// when the policy says `rtsp_anonymous`.
pub fn rtsp_access(cfg: &SiteConfig) -> Result<media::rtsp::RtspAccess> {
    let loopback = rtsp_host(cfg)
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
        || rtsp_host(cfg) == "localhost";
    let mut nvrs = Vec::new();
    for n in &cfg.nvrs {
        nvrs.push(media::rtsp::NvrLogin {
            id: n.id.clone(),
            user: n.user.clone(),
            password: n.password().map_err(|e| anyhow!("{e}"))?,
            cameras: n.cameras.clone(),
        });
    }
    Ok(media::rtsp::RtspAccess {
        nvrs,
        anonymous: loopback || cfg.server.rtsp_anonymous,
    })
}

pub fn rtsp_host(cfg: &SiteConfig) -> String {
    cfg.server
        .http_bind
        .rsplit_once(':')
        .map(|(h, _)| h.trim_matches(['[', ']']).to_string())
        .unwrap_or_else(|| "127.0.0.1".into())
}

/// The names a self-signed certificate is made for: localhost, the bind address (unless it is any address),
/// and the host name.
pub fn tls_names(cfg: &SiteConfig) -> Vec<String> {
    let mut names = vec!["localhost".to_string()];
    let host = rtsp_host(cfg);
    let unspecified = host
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_unspecified());
    if !unspecified && !names.contains(&host) {
        names.push(host);
    }
    if let Ok(h) = std::fs::read_to_string("/etc/hostname") {
        let h = h.trim();
        if !h.is_empty() && !names.iter().any(|n| n == h) {
            names.push(h.to_string());
        }
    }
    names
}

/// The certificate of HTTPS and RTSPS: the policy's pair, else the self-signed one under `<storage>/tls/`
/// (made on first start).
pub fn tls_certificate(cfg: &SiteConfig) -> Result<server::tls::Certificate> {
    match (&cfg.server.tls_cert_file, &cfg.server.tls_key_file) {
        (Some(c), Some(k)) => server::tls::load(Path::new(c), Path::new(k))
            .map_err(|e| anyhow!("server.tls_cert_file: {e}")),
        _ => {
            // RTSPS and HTTPS share the pair: whichever loads it first may make it, and both report that.
            static MADE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
            let mut c = server::tls::self_signed(
                &Path::new(&cfg.storage.path).join("tls"),
                &tls_names(cfg),
            )
            .map_err(|e| anyhow!("TLS certificate: {e}"))?;
            c.created |= MADE.fetch_or(c.created, std::sync::atomic::Ordering::SeqCst);
            Ok(c)
        }
    }
}

/// How often the ledger's head is signed into the checkpoint log (also at stop).
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(3600);
/// How often the service looks whether the day's automatic 점검대장 row (with the ledger's verify) is due.
pub const INSPECTION_CHECK_EVERY: Duration = Duration::from_secs(600);
/// An inspection a manager has not countersigned after this long shows on /healthz and the dashboard.
pub const UNSIGNED_AFTER: Duration = Duration::from_secs(7 * 24 * 3600);

/// Who changes the policy, for its ledger row.
#[derive(Debug, Clone)]
pub struct PolicySource {
    pub actor: String,
    pub manager: String,
    pub client: String,
    pub purpose: String,
}

impl PolicySource {
    /// The file changed on the host (SIGHUP or the file watch): garim cannot tell who wrote it.
    pub fn host() -> PolicySource {
        PolicySource {
            actor: "host".into(),
            manager: String::new(),
            client: "policy file".into(),
            purpose: "policy file changed on the host".into(),
        }
    }
}

/// The stage settings and classes of the shard's cameras under a policy (an error names the camera).
fn camera_configs(
    cfg: &SiteConfig,
    shard: policy::Shard,
    overrides: &Overrides,
) -> Result<Vec<(CameraSettings, StageConfig, Vec<detect::Class>)>> {
    let mut cams = cfg
        .enabled_cameras()
        .map_err(|e| anyhow!("{}", list_errors(&e)))?;
    cams.retain(|c| shard.contains(&c.id));
    let mut configs = Vec::new();
    for cam in &cams {
        configs.push((
            cam.clone(),
            stage_config(cam, overrides)?,
            classes_of(cam, overrides),
        ));
    }
    Ok(configs)
}

/// The 관리대장 row of an applied policy: its hash, the kept copy and what changed.
fn policy_entry(hash: &str, copy: &str, changes: &[String]) -> ledger::Entry {
    ledger::Entry {
        kind: ledger::Kind::PolicyChange,
        actor: "system".into(),
        subject: format!("policy {copy}"),
        purpose: "policy applied".into(),
        client: "service".into(),
        detail: serde_json::json!({"sha256": hash, "file": copy, "changes": changes}),
        ..ledger::Entry::default()
    }
}

/// 파기 records of the vault as ledger rows.
fn destruction_trail(ledger: Arc<ledger::Ledger>) -> vault::Trail {
    Arc::new(move |r: &serde_json::Value| {
        let s = |k: &str| {
            r.get(k)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let subject = match r.get("day") {
            Some(_) => format!("{} {} ({} segments)", s("camera"), s("day"), r["segments"]),
            None => format!("{} segment {}", s("camera"), s("file")),
        };
        ledger
            .append(ledger::Entry {
                kind: ledger::Kind::Destroy,
                actor: "system".into(),
                subject,
                purpose: s("reason"),
                form: s("how"),
                client: "service".into(),
                detail: r.clone(),
                ..ledger::Entry::default()
            })
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
}

/// The cameras whose scene state must exist: their ledger holds a reference taken or accepted for them (one
/// read of the ledger for all cameras). None when the ledger cannot be read: every state is then expected
/// (fail closed).
fn scenes_recorded(ledger: &ledger::Ledger) -> Option<std::collections::HashSet<String>> {
    ledger
        .list(&ledger::Filter {
            kinds: vec![ledger::Kind::SceneAlarm, ledger::Kind::SceneAcceptance],
            ..ledger::Filter::default()
        })
        .ok()
        .map(|rows| {
            rows.into_iter()
                .filter(|r| matches!(r.entry.purpose.as_str(), "reference_taken" | "accepted"))
                .filter_map(|r| r.entry.subject.strip_prefix("camera ").map(str::to_string))
                .collect()
        })
}

/// Whether `camera`'s scene state must exist (see `scenes_recorded`). A camera in `Overrides::fresh_scene`
/// starts over instead (its old state is removed).
fn scene_expected(
    recorded: Option<&std::collections::HashSet<String>>,
    camera: &str,
    overrides: &Overrides,
    storage: &Path,
) -> bool {
    if overrides.fresh_scene.iter().any(|c| c == camera) {
        let _ = std::fs::remove_file(stage::scene::SceneStore::new(storage).state_path(camera));
        return false;
    }
    recorded.is_none_or(|r| r.contains(camera))
}

/// Scene guard events as ledger rows: acceptances (and refusals) and alarms.
fn scene_trail(ledger: Arc<ledger::Ledger>) -> stage::scene::SceneEvents {
    Arc::new(move |camera: &str, r: &serde_json::Value| {
        let event = r["event"].as_str().unwrap_or_default();
        let kind = match event {
            "accepted" | "accept_refused" => ledger::Kind::SceneAcceptance,
            _ => ledger::Kind::SceneAlarm,
        };
        let by = r["by"].as_str().unwrap_or("system").to_string();
        ledger
            .append(ledger::Entry {
                kind,
                actor: if by.is_empty() {
                    "system".into()
                } else {
                    by.clone()
                },
                subject: format!("camera {camera}"),
                purpose: event.to_string(),
                manager: if event == "accepted" {
                    by
                } else {
                    String::new()
                },
                client: "service".into(),
                detail: r.clone(),
                ..ledger::Entry::default()
            })
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
}

impl Site {
    /// Claims the shard, opens the vault, verifies the models and starts every camera of the shard. Models
    /// load in the background: frames that arrive earlier are masked whole.
    pub fn start(opts: SiteOptions) -> Result<Site> {
        media::init()?;
        let (cfg, text) = read_policy(&opts.config_path, &*opts.adjust)?;
        let shard = opts.shard;
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
        // Files an older garim (or a careless umask) left readable by others are made private first.
        let widened = crate::vaults::make_private(Path::new(&cfg.storage.path));
        if widened > 0 {
            tracing::warn!(
                paths = widened,
                "storage files were readable by others; made private (0700 dirs, 0600 files)"
            );
        }
        let claim = crate::shard::claim(Path::new(&cfg.storage.path), shard, index.as_ref())?;
        tracing::info!(
            shard = %shard,
            cameras = cameras.len(),
            site_cameras = site_total,
            "shard claimed"
        );
        if cameras.is_empty() && shard.count > 1 {
            tracing::warn!(shard = %shard, "no camera of the site falls in this shard");
        }
        let records = open_records(&cfg)?;
        // Exports left by a crash: footage copies outside the vault, removed.
        let _ = std::fs::remove_dir_all(crate::api::exports_dir(&cfg));
        let report = records.verify()?;
        tracing::info!(
            rows = report.rows,
            ok = report.problem.is_none(),
            "ledger verified"
        );
        let vault = Arc::new(
            Arc::try_unwrap(open_vault(&cfg, Some(shard))?)
                .map_err(|_| anyhow!("vault shared before start"))?
                .with_trail(destruction_trail(records.ledger().clone())),
        );
        sweep(&vault, &cfg);
        let history = PolicyHistory::open(Path::new(&cfg.storage.path))?;
        let (hash, copy) = history.keep(&text)?;
        records
            .ledger()
            .append(policy_entry(&hash, &copy, &["started".to_string()]))
            .map_err(|e| anyhow!("ledger: {e}"))?;
        let state = PolicyState {
            file: opts.config_path.display().to_string(),
            sha256: hash,
            last_error: None,
        };
        // Models are verified before anything starts (a missing model is an error naming the file). They run
        // where `--hardware`, else the policy's `[server] hardware`, says; TensorRT keeps its engines under the
        // storage dir.
        let mut models = opts.models.clone();
        let hardware = models.hardware.unwrap_or(cfg.server.hardware);
        models.hardware = Some(hardware);
        if models.engine_cache.is_none() {
            models.engine_cache = Some(Path::new(&cfg.storage.path).join("trt-cache"));
        }
        let pool = DetectorPool::verify(&models)?;
        let rtsp = RtspOut::start_with(
            &rtsp_host(&cfg),
            cfg.server.rtsp_port,
            Some(rtsp_access(&cfg)?),
        )?;
        let rtsps = match cfg.server.rtsps_port {
            Some(port) => {
                let cert = tls_certificate(&cfg)?;
                tracing::info!(port, fingerprint = %cert.fingerprint, "RTSPS");
                Some(
                    RtspOut::start_tls(
                        &rtsp_host(&cfg),
                        port,
                        Some(rtsp_access(&cfg)?),
                        Some((&cert.cert_file, &cert.key_file)),
                    )
                    .map_err(|e| anyhow!("server.rtsps_port: {e:#}"))?,
                )
            }
            None => None,
        };
        let record_dir = PathBuf::from(&cfg.storage.path);
        // Scene states are sealed under the site key (no picture on disk, an edit is refused).
        let recorded = scenes_recorded(records.ledger());
        let site_key = Arc::new(
            vault::SecretKey::load_site_key(cfg.storage.key_file.as_deref().map(Path::new))
                .map_err(|e| anyhow!("storage.key_file: {e}"))?,
        );
        let segment = Duration::from_secs(u64::from(cfg.storage.segment_secs));
        let mut running: Vec<Running> = Vec::new();
        for cam in &cameras {
            let classes = classes_of(cam, &opts.overrides);
            let inbox = stage::scene::SceneInbox::default();
            let sealed = if cam.recording == policy::RecordingMode::Sealed {
                let text = cfg.storage.sealed_public_key.as_deref().unwrap_or_default();
                let key = vault::SealedPublicKey::parse(text).map_err(|e| anyhow!("{e}"))?;
                // A key not split among the managers here may have a private half someone holds alone.
                match records.directory().custody_of(&key.0) {
                    Ok(Some(c)) if c.k >= 2 && c.holders.len() >= c.k => {}
                    // Shares were dropped on purpose (allow_sealed_lockout): nobody can open this key, which is
                    // no risk to privacy; the cameras still run, and the log says what to do.
                    Ok(Some(c)) if c.k >= 2 => tracing::error!(
                        camera = %cam.id,
                        k = c.k,
                        holders = c.holders.len(),
                        "the sealed key has fewer share holders than k: its recordings can never be opened; \
                         make a new one (garim keys sealed-init) and put it in storage.sealed_public_key"
                    ),
                    Ok(_) => {
                        return Err(anyhow!(
                            "camera {}: recording = \"sealed\" needs storage.sealed_public_key to be a key split among \
                             the managers (garim keys sealed-init); this one has no custody here, so whoever made it \
                             could open the footage alone",
                            cam.id
                        ));
                    }
                    Err(e) => return Err(anyhow!("users: {e}")),
                }
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
                stage: stage_config(cam, &opts.overrides)?,
                detector: pool.detector_for(&classes)?,
                live: Some({
                    let feed = live_feed(&opts.overrides.encode);
                    let live = rtsp.mount_fed(&cam.id, feed)?;
                    if let Some(s) = &rtsps {
                        s.mount_into(&cam.id, feed, &live)?;
                    }
                    live
                }),
                record: Some((vault.clone(), segment)),
                scene: Some(
                    stage::scene::SceneConfig::every(
                        Duration::from_secs(u64::from(cam.scene_check_secs)),
                        Some(record_dir.clone()),
                    )
                    .with_inbox(inbox.clone())
                    .with_events(scene_trail(records.ledger().clone()))
                    .sealed(
                        site_key.clone(),
                        scene_expected(recorded.as_ref(), &cam.id, &opts.overrides, &record_dir),
                    ),
                ),
                encode: opts.overrides.encode.clone(),
            };
            running.push(Running {
                inbox,
                id: cam.id.clone(),
                url: cam.url.clone(),
                classes,
                scene_check_secs: cam.scene_check_secs,
                handle: CameraRunner::spawn(spec)?,
            });
            tracing::info!(camera = %cam.id, source = %cam.url, "camera started");
        }
        pool.load_in_background();
        Ok(Site {
            records,
            opts,
            policy: Mutex::new(Policy { cfg, state }),
            cameras: Mutex::new(running),
            vault,
            pool,
            history,
            claim: Mutex::new(claim),
            rtsp: Mutex::new(Some(rtsp)),
            rtsps: Mutex::new(rtsps),
            policy_write: Mutex::new(()),
            site_cameras: site_total,
            last_sweep: std::sync::atomic::AtomicI64::new(vault::time::unix_now()),
            scenes: stage::scene::SceneStore::sealed(&record_dir, Some(site_key)),
            held: Default::default(),
            reviews: Default::default(),
            requests_seen: Default::default(),
            trends: Default::default(),
            jpegs: Default::default(),
        })
    }

    /// The scene guard's files of this site.
    pub fn scenes(&self) -> &stage::scene::SceneStore {
        &self.scenes
    }

    /// The storage folder of the policy in force.
    pub fn storage_dir(&self) -> PathBuf {
        PathBuf::from(&self.policy.lock().cfg.storage.path)
    }

    /// A copy of the policy in force.
    pub fn config(&self) -> SiteConfig {
        self.policy.lock().cfg.clone()
    }

    pub fn vault(&self) -> &Arc<vault::Vault> {
        &self.vault
    }

    /// The ledger, users and checkpoints.
    pub fn held_shares(&self) -> &crate::custody::Held {
        &self.held
    }

    /// Data subjects' openings under review.
    pub fn reviews(&self) -> &crate::subject::Reviews {
        &self.reviews
    }

    /// The models (for pass 1 of a redacted export).
    pub fn detectors(&self) -> &DetectorPool {
        &self.pool
    }

    pub fn records(&self) -> &Records {
        &self.records
    }

    /// Each camera's recent figures and events.
    pub fn trends(&self) -> &crate::trend::Trends {
        &self.trends
    }

    /// The running cameras' own status (size, latency, counters).
    pub fn camera_statuses(&self) -> Vec<media::CameraStatus> {
        self.cameras
            .lock()
            .iter()
            .map(|r| r.handle.status())
            .collect()
    }

    /// The policy file's text now and its SHA-256 (what an editor opens and must still find when it saves).
    pub fn policy_file(&self) -> Result<(String, String), String> {
        let path = &self.opts.config_path;
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let hash = crate::history::sha256_hex(&text);
        Ok((text, hash))
    }

    /// Edits the policy file as `by`: refused when the file's hash is no longer `base_sha256`; `edit` turns
    /// the text into the new one, which is validated, written and applied like `replace_policy` (a refused
    /// one is ledgered and changes nothing). Returns the changes and the new file's hash.
    pub fn edit_policy(
        &self,
        base_sha256: &str,
        by: &PolicySource,
        edit: impl FnOnce(&str) -> Result<String, String>,
    ) -> Result<(Vec<String>, String), EditError> {
        let _one = self.policy_write.lock();
        let (text, hash) = self.policy_file().map_err(EditError::Failed)?;
        // A refusal before validation is the user's attempt too, and recorded like an invalid policy.
        let refuse = |why: &str| {
            self.record_refusal(by, why)
                .map_err(|e| EditError::Failed(format!("the refusal could not be recorded: {e}")))
        };
        if hash != base_sha256 {
            let why = "changed since you opened it: the policy file was saved by someone else (or edited on \
                       the host) after this editor loaded it; reload the editor and make the change again";
            refuse(why)?;
            return Err(EditError::Stale(why.into()));
        }
        let new = match edit(&text) {
            Ok(new) => new,
            Err(e) => {
                refuse(&e)?;
                return Err(EditError::Refused(e));
            }
        };
        match self.replace_locked(&new, by) {
            Ok(changes) => Ok((changes, crate::history::sha256_hex(&new))),
            Err(e) if e.starts_with("cannot write") || e.contains("could not be recorded") => {
                Err(EditError::Failed(e))
            }
            // Refused: parsed again only now, for the errors' paths (to place them on their polygons).
            Err(e) => Err(
                match SiteConfig::parse_named(&new, &self.opts.config_path.display().to_string()) {
                    Err(errs) => EditError::Invalid(errs.0),
                    Ok(_) => EditError::Refused(e),
                },
            ),
        }
    }

    /// The newest masked frame of a camera as JPEG (encoded once per frame), or `None` before the first.
    pub fn snapshot_jpeg(&self, camera: &str) -> Option<Result<Arc<Vec<u8>>>> {
        let (at, frame) = self.snapshot_of(camera)?;
        if let Some((t, jpeg)) = self.jpegs.lock().get(camera) {
            if *t == at {
                return Some(Ok(jpeg.clone()));
            }
        }
        Some(media::snapshot::jpeg(&frame).map(|j| {
            let j = Arc::new(j);
            self.jpegs
                .lock()
                .insert(camera.to_string(), (at, j.clone()));
            j
        }))
    }

    /// The newest masked frame of a camera of this replica.
    pub fn snapshot_of(&self, camera: &str) -> Option<(Instant, stage::MaskedFrame)> {
        self.cameras
            .lock()
            .iter()
            .find(|r| r.id == camera)
            .and_then(|r| r.handle.snapshot())
    }

    pub(crate) fn inbox_of(&self, camera: &str) -> Option<stage::scene::SceneInbox> {
        self.cameras
            .lock()
            .iter()
            .find(|r| r.id == camera)
            .map(|r| r.inbox.clone())
    }

    /// Writes a 점검대장 row now: each camera, the server, storage and the ledger's verify.
    pub fn inspect_now(
        &self,
        kind: ledger::InspectionKind,
        actor: &str,
    ) -> Result<ledger::Inspection> {
        let verify = self.records.verify()?;
        let cfg = self.config();
        let (report, ok) = crate::inspection::report(
            &self.status(),
            &self.cameras_status(),
            (&self.vault, &self.scenes),
            &cfg,
            &verify,
            self.last_sweep_unix(),
            &self.opts.shard.to_string(),
        );
        self.records
            .ledger()
            .record_inspection(kind, report, ok, actor)
            .map_err(|e| anyhow!("ledger: {e}"))
    }

    fn cameras_status(&self) -> Vec<(media::CameraStatus, Option<Duration>)> {
        self.cameras
            .lock()
            .iter()
            .map(|r| {
                (
                    r.handle.status(),
                    r.handle.snapshot().map(|(at, _)| at.elapsed()),
                )
            })
            .collect()
    }

    fn last_sweep_unix(&self) -> i64 {
        self.last_sweep.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn rtsp_port(&self) -> Option<u16> {
        self.rtsp.lock().as_ref().map(|r| r.port())
    }

    /// The RTSPS port, when `server.rtsps_port` is set.
    pub fn rtsps_port(&self) -> Option<u16> {
        self.rtsps.lock().as_ref().map(|r| r.port())
    }

    /// Ids of the cameras this replica runs, in policy order.
    /// Frame latency p50 and p99 (ms, over each camera's last 1,000 frames), in `camera_ids` order.
    pub fn camera_latencies(&self) -> Vec<(Option<f64>, Option<f64>)> {
        self.cameras
            .lock()
            .iter()
            .map(|r| {
                let s = r.handle.status();
                (s.latency_p50_ms, s.latency_p99_ms)
            })
            .collect()
    }

    pub fn camera_ids(&self) -> Vec<String> {
        self.cameras.lock().iter().map(|r| r.id.clone()).collect()
    }

    /// Everything `/healthz` and the API show: healthy when every camera streams and the models are loaded.
    pub fn status(&self) -> SiteStatus {
        let statuses: Vec<media::CameraStatus> = self
            .cameras
            .lock()
            .iter()
            .map(|r| r.handle.status())
            .collect();
        let streaming = statuses
            .iter()
            .all(|s| s.state == media::CameraState::Streaming);
        let cameras: Vec<CameraView> = statuses.iter().map(CameraView::of).collect();
        let models = self.pool.state().lock().clone();
        let shard = self.opts.shard;
        SiteStatus {
            ok: streaming && models == ModelsState::Loaded,
            models,
            inference: self.pool.placement(),
            policy: self.policy.lock().state.clone(),
            requests: self.requests_seen.lock().clone(),
            shard: ShardStatus {
                index: shard.index,
                count: shard.count,
                cameras: cameras.len(),
                site_cameras: self.site_cameras,
            },
            cameras,
        }
    }

    /// Serves until a `Control::Stop` arrives or `seconds` have passed: applies reloads (SIGHUP or the policy
    /// file changing), runs the retention sweep every minute and prints a status line per camera every 5 s.
    pub fn run(&self, control: &Receiver<Control>, seconds: Option<u64>) {
        let started = Instant::now();
        let mut last_report = Instant::now();
        let mut last_sweep = Instant::now();
        let mut watch = FileWatch::new(&self.opts.config_path);
        let mut last_counts: Vec<(u64, u64)> = vec![(0, 0); self.cameras.lock().len()];
        let mut last_checkpoint = Instant::now();
        // The first daily inspection a minute after start, when the cameras had time to connect.
        let mut next_inspection = Instant::now() + Duration::from_secs(60);
        self.check_unsigned();
        loop {
            // Wakes for the next periodic job (the file watch is checked every second), or a control message.
            let mut wait = Duration::from_secs(1);
            if let Some(s) = seconds {
                let left = Duration::from_secs(s).saturating_sub(started.elapsed());
                if left.is_zero() {
                    self.records.checkpoint();
                    return;
                }
                wait = wait.min(left);
            }
            match control.recv_timeout(wait) {
                Ok(Control::Stop) => {
                    self.records.checkpoint();
                    return;
                }
                Ok(Control::Reload) => self.reload(),
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                    if watch.changed() {
                        self.reload();
                    }
                }
                // Every controller is gone: nobody can stop the site any more but the time limit.
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                    std::thread::sleep(wait);
                }
            }
            if last_checkpoint.elapsed() >= CHECKPOINT_EVERY {
                last_checkpoint = Instant::now();
                self.records.checkpoint();
            }
            if Instant::now() >= next_inspection {
                next_inspection = Instant::now() + INSPECTION_CHECK_EVERY;
                // Due by the ledger's last daily row: a restart neither skips a day nor inspects twice.
                // It verifies the chain too (and sets garim_ledger_ok).
                match crate::inspection::daily_due(
                    self.records.ledger(),
                    &self.opts.shard.to_string(),
                ) {
                    Ok(true) => {
                        if let Err(e) = self.inspect_now(ledger::InspectionKind::Daily, "system") {
                            tracing::error!("daily inspection failed: {e:#}");
                        }
                    }
                    Ok(false) => {}
                    Err(e) => tracing::error!("inspections: {e}"),
                }
                self.check_unsigned();
            }
            if last_sweep.elapsed() >= SWEEP_EVERY {
                last_sweep = Instant::now();
                self.sweep();
                // Opened windows past their time drop their segment keys.
                self.reviews.prune();
            }
            if last_report.elapsed() >= Duration::from_secs(5) {
                self.claim.lock().poll_conflicts();
                let secs = last_report.elapsed().as_secs_f64();
                last_report = Instant::now();
                let cameras = self.cameras.lock();
                for (r, last) in cameras.iter().zip(last_counts.iter_mut()) {
                    let s = r.handle.status();
                    self.trends.record(
                        &s.id,
                        Instant::now(),
                        vault::time::unix_now(),
                        crate::trend::Reading {
                            state: s.state.to_string(),
                            frames_in: s.frames_in,
                            frames_out: s.frames_out,
                            fail_closed: s.fail_closed,
                            latency_p99_ms: s.latency_p99_ms,
                            scene_alarm: telemetry::metrics()
                                .scene_changed
                                .with_label_values(&[&s.id])
                                .get()
                                != 0,
                        },
                    );
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
    }

    /// The retention sweep and storage floor, now.
    pub fn sweep(&self) {
        let cfg = self.policy.lock().cfg.clone();
        sweep(&self.vault, &cfg);
        self.last_sweep.store(
            vault::time::unix_now(),
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    /// Data-subject requests open, overdue and due within 3 days: the metrics, /healthz and the 점검대장.
    pub fn request_counts(&self) -> crate::status::RequestsStatus {
        let now = self.records.ledger().now_ms();
        let counts = crate::requests::request_counts(self.records.requests(), now);
        let m = telemetry::metrics();
        m.requests_open.set(counts.open as i64);
        m.requests_overdue.set(counts.overdue as i64);
        *self.requests_seen.lock() = counts.clone();
        counts
    }

    /// Shows inspections still unsigned after 7 days, and requests open and overdue (metrics; /healthz reads
    /// them too).
    fn check_unsigned(&self) {
        self.request_counts();
        let ledger = self.records.ledger();
        match ledger.unsigned_older_than(ledger.now_ms(), UNSIGNED_AFTER.as_millis() as i64) {
            Ok(list) => telemetry::metrics()
                .inspections_unsigned
                .set(list.len() as i64),
            Err(e) => tracing::error!("inspections: {e}"),
        }
    }

    /// Applies a changed policy file (changed on the host: SIGHUP or the file watch) to the running cameras,
    /// or reports why it cannot (the previous policy stays in force).
    pub fn reload(&self) {
        let _ = self.apply_policy(&PolicySource::host());
    }

    /// Validates the policy file and applies it: the kept copy and its PolicyChange row first (no change in
    /// force without its row), then the running cameras. A refused file leaves a PolicyRejected row. Returns
    /// what changed, or why nothing did.
    pub fn apply_policy(&self, by: &PolicySource) -> Result<Vec<String>, String> {
        let _one = self.policy_write.lock();
        self.apply_policy_now(by)
    }

    /// `apply_policy` with `policy_write` held.
    fn apply_policy_now(&self, by: &PolicySource) -> Result<Vec<String>, String> {
        let m = telemetry::metrics();
        let path = &self.opts.config_path;
        let overrides = &self.opts.overrides;
        let shard = self.opts.shard;
        let attempt = read_policy(path, &*self.opts.adjust).and_then(|(cfg, text)| {
            let configs = camera_configs(&cfg, shard, overrides)?;
            Ok((cfg, text, configs))
        });
        let mut policy = self.policy.lock();
        let (cfg, text, configs) = match attempt {
            Ok(x) => x,
            Err(e) => {
                let reason = format!("{e:#}");
                tracing::error!(
                    "policy reload refused, the previous policy stays in force: {reason}"
                );
                m.policy_reloads_total.with_label_values(&["invalid"]).inc();
                if let Err(e) = self.records.ledger().append(ledger::Entry {
                    kind: ledger::Kind::PolicyRejected,
                    actor: by.actor.clone(),
                    subject: path.display().to_string(),
                    purpose: format!(
                        "{}; refused, the previous policy stays in force",
                        by.purpose
                    ),
                    client: by.client.clone(),
                    detail: serde_json::json!({"reason": reason}),
                    ..ledger::Entry::default()
                }) {
                    tracing::error!("ledger: the refused reload was not recorded: {e}");
                }
                policy.state.last_error = Some(reason.clone());
                return Err(reason);
            }
        };
        let changes = diff(&policy.cfg, &cfg);
        if changes.is_empty() {
            // The policy in force is valid again (e.g. an invalid edit was undone): health says so.
            policy.state.last_error = None;
            return Ok(changes);
        }
        // The record first: a policy the ledger cannot show is not applied.
        let recorded = self.history.keep(&text).and_then(|(hash, copy)| {
            let mut entry = policy_entry(&hash, &copy, &changes);
            entry.actor = by.actor.clone();
            entry.manager = by.manager.clone();
            entry.purpose = by.purpose.clone();
            entry.client = by.client.clone();
            self.records
                .ledger()
                .append(entry)
                .map_err(|e| anyhow!("ledger: {e}"))?;
            Ok(hash)
        });
        let hash = match recorded {
            Ok(h) => h,
            Err(e) => {
                let reason =
                    format!("the policy could not be recorded, so it is not applied: {e:#}");
                tracing::error!("{reason}");
                m.policy_reloads_total.with_label_values(&["invalid"]).inc();
                policy.state.last_error = Some(reason.clone());
                return Err(reason);
            }
        };
        let running = self.cameras.lock();
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
        for r in running.iter() {
            if !configs.iter().any(|(c, _, _)| c.id == r.id) {
                tracing::warn!(camera = %r.id, "removed or disabled in the policy: stops at the next restart");
            }
        }
        policy.state = PolicyState {
            file: path.display().to_string(),
            sha256: hash,
            last_error: None,
        };
        for c in &changes {
            tracing::info!(by = %by.actor, "policy change: {c}");
        }
        m.policy_reloads_total.with_label_values(&["applied"]).inc();
        self.records.set_policy(&cfg);
        policy.cfg = cfg;
        Ok(changes)
    }

    /// Replaces the policy file with `text` (validated first; written beside it, fsync'ed, renamed over) and
    /// applies it, as `by`. An invalid text changes nothing, not even the file.
    pub fn replace_policy(&self, text: &str, by: &PolicySource) -> Result<Vec<String>, String> {
        // One writer at a time, and the file watch's reload waits too: the text applied is the one written,
        // recorded as this user's.
        let _one = self.policy_write.lock();
        self.replace_locked(text, by)
    }

    /// The PolicyRejected row of a policy change `by` asked for and that was refused before the file changed.
    fn record_refusal(&self, by: &PolicySource, reason: &str) -> Result<(), ledger::LedgerError> {
        self.records
            .ledger()
            .append(ledger::Entry {
                kind: ledger::Kind::PolicyRejected,
                actor: by.actor.clone(),
                subject: self.opts.config_path.display().to_string(),
                purpose: format!("{}; refused, the file was not changed", by.purpose),
                client: by.client.clone(),
                detail: serde_json::json!({"reason": reason}),
                ..ledger::Entry::default()
            })
            .map(drop)
    }

    /// `replace_policy` with `policy_write` held.
    fn replace_locked(&self, text: &str, by: &PolicySource) -> Result<Vec<String>, String> {
        let path = &self.opts.config_path;
        let checked = SiteConfig::parse_named(text, &path.display().to_string())
            .map_err(|errs| format!("the policy is invalid:\n{}", list_errors(&errs)))
            .and_then(|mut cfg| {
                (self.opts.adjust)(&mut cfg);
                camera_configs(&cfg, self.opts.shard, &self.opts.overrides)
                    .map(drop)
                    .map_err(|e| format!("{e:#}"))
            });
        if let Err(reason) = checked {
            // Refused before the file was touched; the attempt is the user's, and recorded.
            if let Err(e) = self.record_refusal(by, &reason) {
                tracing::error!("ledger: the refused policy was not recorded: {e}");
            }
            return Err(reason);
        }
        let tmp = path.with_extension(format!("toml.{}.part", crate::api::unique_suffix()));
        std::fs::write(&tmp, text)
            .and_then(|_| std::fs::File::open(&tmp)?.sync_all())
            .and_then(|_| std::fs::rename(&tmp, path))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        self.apply_policy_now(by)
    }

    /// Stops every camera (closing its open segment) and the RTSP server; returns the segments committed, per
    /// camera.
    pub fn stop(&self) -> Vec<(String, Vec<PathBuf>)> {
        let running: Vec<Running> = std::mem::take(&mut *self.cameras.lock());
        let out = running
            .into_iter()
            .map(|r| (r.id, r.handle.stop()))
            .collect();
        drop(self.rtsp.lock().take());
        drop(self.rtsps.lock().take());
        out
    }
}
