//! The site configuration `garim run` starts from: site, server, storage, defaults and cameras, with every
//! unit in its field name. Parsing is strict (unknown fields are errors with a suggestion), then validation
//! collects every problem with its path and value. Camera settings merge site defaults into each camera.

use crate::legal::{CameraKind, Contractor, Facility, NoticeInfo, Person, Purpose, Viewing};
use crate::secret::SecretUrl;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;
use vocab::{DetectClass, Hardware, MaskStyleName, RecordingMode};

/// Names of folders garim keeps beside the cameras' recording folders in the storage path.
pub const RESERVED_CAMERA_IDS: [&str; 4] = ["scene", "shards", "policy-history", "exports"];

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    pub site: Site,
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub storage: StorageConfig,
    #[serde(default)]
    pub defaults: CameraDefaults,
    #[serde(default)]
    pub purposes: Vec<Purpose>,
    #[serde(default)]
    pub people: Vec<Person>,
    #[serde(default)]
    pub contractors: Vec<Contractor>,
    #[serde(default)]
    pub facilities: Vec<Facility>,
    #[serde(default)]
    pub viewing: Viewing,
    #[serde(default)]
    pub notice: NoticeInfo,
    #[serde(default)]
    pub cameras: Vec<CameraConfig>,
    #[serde(default)]
    pub ledger: LedgerConfig,
    /// The NVRs that pull the masked streams, each with its own RTSP digest login.
    #[serde(default)]
    pub nvrs: Vec<NvrConfig>,
    /// Data-subject requests and the opening of sealed recordings.
    #[serde(default)]
    pub requests: RequestsConfig,
}

/// The law's longest time to answer a data-subject request (Decree Art. 42: 10 days).
pub const MAX_DUE_DAYS: u32 = 10;

/// Data-subject requests (열람·존재확인·삭제) and the two-person opening of sealed recordings.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RequestsConfig {
    /// Days to answer a request, from its receipt: at most 10 (the law's), may be shorter.
    pub due_days: u32,
    /// Managers whose passwords together open sealed recordings (k of the n managers holding shares).
    pub sealed_threshold: u32,
    /// Longest time window one opening of sealed recordings (or one request) may cover, in hours.
    pub max_window_hours: u32,
}

impl Default for RequestsConfig {
    fn default() -> Self {
        RequestsConfig {
            due_days: MAX_DUE_DAYS,
            sealed_threshold: 2,
            max_window_hours: 24,
        }
    }
}

/// An NVR's login to the masked RTSP mounts. The password comes from the environment or a file, never the
/// policy.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NvrConfig {
    pub id: String,
    /// The RTSP user name the NVR logs in with.
    pub user: String,
    #[serde(default)]
    pub password_env: Option<String>,
    #[serde(default)]
    pub password_file: Option<String>,
    /// Camera ids it may pull; every camera when empty.
    #[serde(default)]
    pub cameras: Vec<String>,
}

impl NvrConfig {
    /// The password, from its environment variable or file; the error names the field, never a value.
    pub fn password(&self) -> Result<String, ConfigError> {
        let p = format!("nvrs[{}]", self.id);
        match (&self.password_env, &self.password_file) {
            (Some(var), None) => std::env::var(var).map_err(|_| {
                err(
                    format!("{p}.password_env"),
                    var,
                    "environment variable is not set",
                )
            }),
            (None, Some(file)) => std::fs::read_to_string(file)
                .map(|s| s.trim_end_matches(['\n', '\r']).to_string())
                .map_err(|e| {
                    err(
                        format!("{p}.password_file"),
                        file,
                        format!("cannot read: {}", e.kind()),
                    )
                }),
            _ => Err(err(
                &p,
                "",
                "set exactly one of password_env, password_file",
            )),
        }
    }
}

/// The 관리대장 (ledger of every use, provision, viewing and destruction) and its signed checkpoints.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LedgerConfig {
    /// How long ledger rows are kept (they hold no images). Decree Art. 30 asks for at least a year of access
    /// records; the footage's retention never deletes them.
    pub retention_years: u32,
    /// Where the signed checkpoints of the chain head go (hourly and at stop). Best outside the storage dir (a
    /// separate volume or a write-only mount), so that whoever can delete the newest rows cannot delete these.
    /// Default `<storage>/ledger-checkpoints.jsonl`.
    pub checkpoint_file: Option<String>,
}

/// Ledger rows are kept at least this long.
pub const MIN_LEDGER_YEARS: u32 = 1;

impl Default for LedgerConfig {
    fn default() -> Self {
        LedgerConfig {
            retention_years: 3,
            checkpoint_file: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// 기관명, as the notice names the body that operates the cameras.
    pub name: String,
    /// The department that operates them, if not the body itself.
    #[serde(default)]
    pub operator: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address of /metrics and /healthz; its host is also where the RTSP server listens.
    pub http_bind: String,
    pub rtsp_port: u16,
    /// PEM certificate chain for HTTPS (with `tls_key_file`). Without them a non-loopback bind gets a
    /// self-signed pair made on first start under `<storage>/tls/`.
    pub tls_cert_file: Option<String>,
    /// PEM private key of `tls_cert_file` (readable only by garim).
    pub tls_key_file: Option<String>,
    /// Serve plain HTTP on a non-loopback bind (sessions and passwords then cross the network in clear).
    pub dangerously_plain_http: bool,
    /// Let anyone on the network pull the masked RTSP streams without a login (a loopback bind always does).
    pub rtsp_anonymous: bool,
    /// Also serve the masked mounts as RTSPS (RTSP over TLS) on this port, with the HTTPS certificate (the
    /// policy's pair, else the self-signed one under `<storage>/tls/`), for NVRs that support it.
    pub rtsps_port: Option<u16>,
    /// Where the models run: "auto" (a GPU when the ONNX Runtime library and the machine have one, else the
    /// CPU), "cpu", "cuda" or "tensorrt". A GPU that cannot be used falls back to the CPU, logged and shown
    /// in /healthz; `--hardware` overrides it.
    pub hardware: Hardware,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            http_bind: "127.0.0.1:8080".into(),
            rtsp_port: 8554,
            tls_cert_file: None,
            tls_key_file: None,
            dangerously_plain_http: false,
            rtsp_anonymous: false,
            rtsps_port: None,
            hardware: Hardware::Auto,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    pub path: String,
    pub segment_secs: u32,
    /// 보관장소 as published (the room where the recorder stands).
    pub place: Option<String>,
    /// File holding the site key that wraps recording keys (readable only by garim).
    pub key_file: Option<String>,
    /// Below this much free space the oldest recordings are removed first (and an alert metric is raised).
    pub min_free_bytes: u64,
    /// X25519 public key (hex) that sealed recordings are encrypted to; its private half is the grant.
    pub sealed_public_key: Option<String>,
    /// Environment variable holding the Postgres URL (`postgres://user:password@host/db`) of an index shared
    /// by several replicas; absent: the vault's own SQLite index. The URL is a secret and is never logged.
    pub index_url_env: Option<String>,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            path: "./data".into(),
            segment_secs: 60,
            place: None,
            key_file: None,
            min_free_bytes: 1 << 30,
            sealed_public_key: None,
            index_url_env: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CameraDefaults {
    pub detect: Vec<String>,
    pub mask_style: String,
    pub fail_closed_deadline_ms: u32,
    pub detect_every_n_frames: u32,
    /// How often each camera's view is compared with its accepted reference view (re-aim and tamper check).
    pub scene_check_secs: u32,
    pub retention_days: u32,
    /// Why footage is kept beyond 30 days (the guideline's ceiling), when it is.
    pub retention_reason: Option<String>,
    /// 촬영시간 as published.
    pub recording_hours: String,
    /// How cameras record unless their unit, purpose or own setting says otherwise: "masked" (default) or
    /// "sealed".
    pub recording: Option<String>,
}

impl Default for CameraDefaults {
    fn default() -> Self {
        CameraDefaults {
            // The shipped default (docs/quality.md): people, their faces, and the plates of vehicles.
            detect: vec!["person".into(), "face".into(), "plate".into()],
            mask_style: "pixelate".into(),
            fail_closed_deadline_ms: 200,
            // 0: from each camera's frame rate, about 5 detections a second (docs/performance.md).
            detect_every_n_frames: 0,
            scene_check_secs: 3,
            retention_days: 30,
            retention_reason: None,
            recording_hours: "24시간".into(),
            recording: None,
        }
    }
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CameraConfig {
    pub id: String,
    /// Camera URL without credentials; use `url_env` or `url_file` for URLs that carry them.
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub url_env: Option<String>,
    #[serde(default)]
    pub url_file: Option<String>,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub detect: Option<Vec<String>>,
    #[serde(default)]
    pub mask_style: Option<String>,
    /// Polygons in normalized coordinates (0..1), always masked.
    #[serde(default)]
    pub privacy_masks: Vec<Vec<[f32; 2]>>,
    #[serde(default)]
    pub fail_closed_deadline_ms: Option<u32>,
    #[serde(default)]
    pub detect_every_n_frames: Option<u32>,
    #[serde(default)]
    pub scene_check_secs: Option<u32>,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Facility id (from `facilities`).
    #[serde(default)]
    pub facility: Option<String>,
    /// 촬영범위 (e.g. "100m 이내", "90~180°").
    #[serde(default)]
    pub range: Option<String>,
    /// Purpose ids (from `purposes`); all site purposes when empty.
    #[serde(default)]
    pub purposes: Vec<String>,
    #[serde(default)]
    pub retention_days: Option<u32>,
    #[serde(default)]
    pub retention_reason: Option<String>,
    #[serde(default)]
    pub recording_hours: Option<String>,
    /// Polygons (0..1) of the part of the scene that may be recorded; everything when empty.
    #[serde(default)]
    pub recording_zones: Vec<Vec<[f32; 2]>>,
    /// Sound recording is forbidden (Art. 25(5)); present so a file that asks for it is refused loudly.
    #[serde(default)]
    pub audio: bool,
    /// The legal exception that allows a camera in a restroom, changing room or bath (Art. 25(2) proviso).
    #[serde(default)]
    pub legal_exception: Option<String>,
    /// "masked" (default: what the NVR sees) or "sealed" (zone-limited, unmasked, readable only with a grant).
    #[serde(default)]
    pub recording: Option<String>,
    /// "fixed" (고정형, default) or "mobile" (이동형: vehicle-mounted or carried, PIPA Art. 25-2).
    #[serde(default)]
    pub kind: CameraKind,
    /// Why this camera leaves people or faces unmasked in a sensitive place (silences check's warning).
    #[serde(default)]
    pub masking_exception: Option<String>,
}

/// One camera's effective settings: defaults merged, URL resolved, the vocabulary typed.
#[derive(Debug, Clone, PartialEq)]
pub struct CameraSettings {
    pub id: String,
    pub recording: RecordingMode,
    pub facility: Option<String>,
    pub retention_days: u32,
    pub recording_hours: String,
    pub recording_zones: Vec<Vec<[f32; 2]>>,
    pub url: SecretUrl,
    pub detect: Vec<DetectClass>,
    pub mask_style: MaskStyleName,
    pub privacy_masks: Vec<Vec<[f32; 2]>>,
    pub fail_closed_deadline_ms: u32,
    pub detect_every_n_frames: u32,
    pub scene_check_secs: u32,
}

/// One problem in a configuration: where, what value, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: String,
    pub value: String,
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.value.is_empty() {
            write!(f, "{}: {}", self.path, self.reason)
        } else {
            write!(f, "{}: {} (value: {})", self.path, self.reason, self.value)
        }
    }
}

/// Every problem found, one per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

fn is_env_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

pub(crate) fn err(
    path: impl Into<String>,
    value: impl Into<String>,
    reason: impl Into<String>,
) -> ConfigError {
    ConfigError {
        path: path.into(),
        value: value.into(),
        reason: reason.into(),
    }
}

/// Levenshtein distance, for "did you mean" suggestions.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != *cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Adds "did you mean `x`?" to serde's "unknown field `a`, expected one of `x`, `y`" messages.
fn suggest(message: &str) -> String {
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return message.to_string();
    };
    let Some((field, tail)) = rest.split_once('`') else {
        return message.to_string();
    };
    let candidates: Vec<&str> = tail.split('`').skip(1).step_by(2).collect();
    match candidates.iter().min_by_key(|c| distance(field, c)) {
        Some(best) if distance(field, best) <= best.len().max(3) / 2 + 1 => {
            format!("unknown field `{field}`, did you mean `{best}`?")
        }
        _ => message.to_string(),
    }
}

/// The TOML table the end of `text` is in, as a path: `server`, `cameras[2]` (array tables by index).
fn table_path_at(text: &str) -> String {
    let mut counts: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut current = String::new();
    for line in text.lines() {
        let t = line.trim();
        if let Some(name) = t
            .strip_prefix("[[")
            .and_then(|r| r.split_once("]]"))
            .map(|(n, _)| n.trim())
        {
            let n = counts.entry(name.to_string()).or_insert(0);
            current = format!("{name}[{n}]");
            *n += 1;
        } else if let Some(name) = t
            .strip_prefix('[')
            .and_then(|r| r.split_once(']'))
            .map(|(n, _)| n.trim())
        {
            current = name.to_string();
        }
    }
    current
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

impl SiteConfig {
    pub fn from_toml_str(s: &str) -> Result<SiteConfig, ConfigErrors> {
        Self::parse_named(s, "<config>")
    }

    /// Parses and validates `s`; errors name `name` (the file) with line and column.
    pub fn parse_named(s: &str, name: &str) -> Result<SiteConfig, ConfigErrors> {
        let cfg: SiteConfig = toml::from_str(s).map_err(|e| {
            let at = e
                .span()
                .map(|sp| {
                    let (l, c) = line_col(s, sp.start);
                    format!("{name}:{l}:{c}")
                })
                .unwrap_or_else(|| name.to_string());
            // Name the table and key at the error, so a type error or unknown field says which field.
            let key = e
                .span()
                .map(|sp| {
                    let upto = &s[..sp.start.min(s.len())];
                    let table = table_path_at(upto);
                    // The whole line the error is on (the span may start at the key itself).
                    let line_start = upto.rfind('\n').map_or(0, |i| i + 1);
                    let line = s[line_start..].lines().next().unwrap_or("");
                    let key = Some(line)
                        .and_then(|line| line.split_once('='))
                        .map(|(k, _)| k.trim().to_string())
                        .filter(|k| !k.is_empty() && !k.starts_with('['));
                    match (table.is_empty(), key) {
                        (true, Some(k)) => format!("{k}: "),
                        (false, Some(k)) => format!("{table}.{k}: "),
                        (false, None) => format!("{table}: "),
                        (true, None) => String::new(),
                    }
                })
                .unwrap_or_default();
            let message = suggest(e.message()).replace("expected u32", "expected a whole number");
            ConfigErrors(vec![err(at, "", format!("{key}{message}"))])
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn load(path: &Path) -> Result<SiteConfig, ConfigErrors> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path)
            .map_err(|e| ConfigErrors(vec![err(&name, "", format!("cannot read: {e}"))]))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            ConfigErrors(vec![err(
                &name,
                "",
                format!(
                    "not UTF-8 text (invalid byte at offset {})",
                    e.utf8_error().valid_up_to()
                ),
            )])
        })?;
        Self::parse_named(&text, &name)
    }

    /// Checks everything and returns every problem found.
    pub fn validate(&self) -> Result<(), ConfigErrors> {
        let mut errors = Vec::new();
        if self
            .server
            .http_bind
            .parse::<std::net::SocketAddr>()
            .is_err()
        {
            errors.push(err(
                "server.http_bind",
                &self.server.http_bind,
                "not a socket address (e.g. 127.0.0.1:8080)",
            ));
        }
        if let Some(p) = self.server.rtsps_port {
            let http_port = self
                .server
                .http_bind
                .parse::<std::net::SocketAddr>()
                .map(|a| a.port())
                .ok();
            if p != 0 && (p == self.server.rtsp_port || Some(p) == http_port) {
                errors.push(err(
                    "server.rtsps_port",
                    p.to_string(),
                    "must differ from rtsp_port and from the HTTP port",
                ));
            }
        }
        if self.server.tls_cert_file.is_some() != self.server.tls_key_file.is_some() {
            errors.push(err(
                if self.server.tls_cert_file.is_some() {
                    "server.tls_key_file"
                } else {
                    "server.tls_cert_file"
                },
                "",
                "set both tls_cert_file and tls_key_file, or neither (a self-signed pair is then made)",
            ));
        }
        let mut nvr_ids = std::collections::HashSet::new();
        let mut nvr_users = std::collections::HashSet::new();
        for (i, n) in self.nvrs.iter().enumerate() {
            let p = format!("nvrs[{}]", n.id);
            if !nvr_ids.insert(n.id.clone()) {
                errors.push(err(format!("nvrs[{i}].id"), &n.id, "duplicate NVR id"));
            }
            if n.user.is_empty() || n.user.contains([':', '@', '/']) {
                errors.push(err(
                    format!("{p}.user"),
                    &n.user,
                    "an RTSP user name without ':', '@' or '/'",
                ));
            } else if !nvr_users.insert(n.user.clone()) {
                errors.push(err(
                    format!("{p}.user"),
                    &n.user,
                    "two NVRs share this user name",
                ));
            }
            if n.password_env.is_some() == n.password_file.is_some() {
                errors.push(err(
                    &p,
                    "",
                    "set exactly one of password_env, password_file",
                ));
            }
            if let Some(v) = n.password_env.as_ref().filter(|v| !is_env_name(v)) {
                errors.push(err(
                    format!("{p}.password_env"),
                    v,
                    "not an environment variable name",
                ));
            }
            for (k, c) in n.cameras.iter().enumerate() {
                if !self.cameras.iter().any(|x| &x.id == c) {
                    errors.push(err(
                        format!("{p}.cameras[{k}]"),
                        c,
                        "camera not declared in [[cameras]]",
                    ));
                }
            }
        }
        let r = &self.requests;
        if !(1..=MAX_DUE_DAYS).contains(&r.due_days) {
            errors.push(err(
                "requests.due_days",
                r.due_days.to_string(),
                "must be 1 to 10: the law gives at most 10 days to answer (it may be shortened, never lengthened)",
            ));
        }
        if !(2..=32).contains(&r.sealed_threshold) {
            errors.push(err(
                "requests.sealed_threshold",
                r.sealed_threshold.to_string(),
                "must be 2 to 32: one person alone must never open sealed recordings",
            ));
        }
        if !(1..=24 * 31).contains(&r.max_window_hours) {
            errors.push(err(
                "requests.max_window_hours",
                r.max_window_hours.to_string(),
                "must be 1 to 744",
            ));
        }
        if self.storage.segment_secs == 0 {
            errors.push(err("storage.segment_secs", "0", "must be at least 1"));
        }
        if self.ledger.retention_years < MIN_LEDGER_YEARS {
            errors.push(err(
                "ledger.retention_years",
                self.ledger.retention_years.to_string(),
                "access records are kept at least 1 year (PIPA Decree Art. 30)",
            ));
        }
        if let Some(var) = self
            .storage
            .index_url_env
            .as_ref()
            .filter(|v| !is_env_name(v))
        {
            errors.push(err(
                "storage.index_url_env",
                var,
                "not an environment variable name (letters, digits and '_', not starting with a digit), e.g. GARIM_INDEX_URL",
            ));
        }
        check_common(
            "defaults",
            Some(&self.defaults.detect),
            Some(&self.defaults.mask_style),
            Some(self.defaults.fail_closed_deadline_ms),
            Some(self.defaults.detect_every_n_frames),
            &mut errors,
        );
        check_scene_secs(
            "defaults",
            Some(self.defaults.scene_check_secs),
            &mut errors,
        );
        if self.cameras.is_empty() {
            errors.push(err("cameras", "", "no cameras configured"));
        }
        self.validate_legal(&mut errors);
        let mut seen = std::collections::HashSet::new();
        for (i, cam) in self.cameras.iter().enumerate() {
            let p = if cam.id.is_empty() {
                format!("cameras[{i}]")
            } else {
                format!("cameras[{}]", cam.id)
            };
            if cam.id.is_empty() {
                errors.push(err(format!("{p}.id"), "", "camera id is empty"));
            } else if cam.id.len() > 64
                || !cam
                    .id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                errors.push(err(
                    format!("{p}.id"),
                    &cam.id,
                    "use 1-64 letters, digits, '-' or '_' (it becomes an RTSP path and a metric label)",
                ));
            } else if RESERVED_CAMERA_IDS.contains(&cam.id.as_str()) {
                errors.push(err(
                    format!("{p}.id"),
                    &cam.id,
                    "reserved: the storage folder of that name holds garim's own files (scene states, shard locks, policy history); choose another id",
                ));
            }
            if !cam.id.is_empty() && !seen.insert(cam.id.clone()) {
                errors.push(err(format!("{p}.id"), &cam.id, "duplicate camera id"));
            }
            check_url(&p, cam, &mut errors);
            check_common(
                &p,
                cam.detect.as_ref(),
                cam.mask_style.as_ref(),
                cam.fail_closed_deadline_ms,
                cam.detect_every_n_frames,
                &mut errors,
            );
            check_scene_secs(&p, cam.scene_check_secs, &mut errors);
            for (k, poly) in cam.privacy_masks.iter().enumerate() {
                check_polygon(&format!("{p}.privacy_masks[{k}]"), poly, &mut errors);
            }
            for (k, poly) in cam.recording_zones.iter().enumerate() {
                check_polygon(&format!("{p}.recording_zones[{k}]"), poly, &mut errors);
            }
            self.validate_camera_legal(&p, cam, &mut errors);
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ConfigErrors(crate::checks::group(errors)))
        }
    }

    /// The Postgres URL of a shared index, read from `storage.index_url_env`; None: the SQLite index.
    pub fn index_url(&self) -> Result<Option<SecretUrl>, ConfigError> {
        let Some(var) = &self.storage.index_url_env else {
            return Ok(None);
        };
        let url = std::env::var(var).map_err(|_| {
            err(
                "storage.index_url_env",
                var,
                "environment variable is not set (it must hold postgres://user:password@host/database)",
            )
        })?;
        let url = SecretUrl::new(url.trim());
        if !["postgres://", "postgresql://"]
            .iter()
            .any(|s| url.expose().starts_with(s))
        {
            // The value is not shown: it may be a secret in some other form.
            return Err(err(
                "storage.index_url_env",
                var,
                "the variable must hold a postgres:// or postgresql:// URL",
            ));
        }
        Ok(Some(url))
    }

    pub fn camera_settings(&self, id: &str) -> Option<Result<CameraSettings, ConfigError>> {
        let cam = self.cameras.iter().find(|c| c.id == id)?;
        let p = format!("cameras[{id}]");
        let url = match (&cam.url, &cam.url_env, &cam.url_file) {
            (Some(u), None, None) => Ok(u.clone()),
            (None, Some(var), None) => std::env::var(var).map_err(|_| {
                err(
                    format!("{p}.url_env"),
                    var,
                    "environment variable is not set",
                )
            }),
            (None, None, Some(file)) => std::fs::read_to_string(file)
                .map(|s| s.trim().to_string())
                .map_err(|e| err(format!("{p}.url_file"), file, format!("cannot read: {e}"))),
            _ => Err(err(&p, "", "set exactly one of url, url_env, url_file")),
        };
        let url = match url {
            Ok(u) => SecretUrl::new(u),
            Err(e) => return Some(Err(e)),
        };
        let d = &self.defaults;
        let fac = self.facility_of(cam);
        Some(Ok(CameraSettings {
            id: cam.id.clone(),
            // Validated before: an unknown word here is refused, never defaulted.
            recording: match self.recording_rule(cam) {
                Err(e) => return Some(Err(e)),
                Ok(rule) => match rule.value.parse::<RecordingMode>() {
                    Ok(m) => m,
                    Err(e) => {
                        return Some(Err(err(
                            rule.from.unwrap_or_else(|| format!("{p}.recording")),
                            rule.value,
                            e,
                        )));
                    }
                },
            },
            facility: cam.facility.clone(),
            retention_days: self.retention_days(cam),
            recording_hours: cam
                .recording_hours
                .clone()
                .or_else(|| fac.and_then(|f| f.recording_hours.clone()))
                .unwrap_or_else(|| d.recording_hours.clone()),
            recording_zones: cam.recording_zones.clone(),
            url,
            detect: match self.detect_rule(cam).and_then(|rule| {
                DetectClass::parse_list(&rule.value.join(","))
                    .map_err(|e| err(rule.from.unwrap_or_else(|| format!("{p}.detect")), "", e))
            }) {
                Ok(c) => c,
                Err(e) => return Some(Err(e)),
            },
            mask_style: match cam.mask_style.as_ref().unwrap_or(&d.mask_style).parse() {
                Ok(m) => m,
                Err(e) => return Some(Err(err(format!("{p}.mask_style"), "", e))),
            },
            privacy_masks: cam.privacy_masks.clone(),
            fail_closed_deadline_ms: cam
                .fail_closed_deadline_ms
                .unwrap_or(d.fail_closed_deadline_ms),
            detect_every_n_frames: cam.detect_every_n_frames.unwrap_or(d.detect_every_n_frames),
            scene_check_secs: cam.scene_check_secs.unwrap_or(d.scene_check_secs),
        }))
    }

    pub fn facility_of(&self, cam: &CameraConfig) -> Option<&Facility> {
        let id = cam.facility.as_deref()?;
        self.facilities.iter().find(|f| f.id == id)
    }

    /// Retention merged camera → facility → site defaults.
    pub fn retention_days(&self, cam: &CameraConfig) -> u32 {
        cam.retention_days
            .or_else(|| self.facility_of(cam).and_then(|f| f.retention_days))
            .unwrap_or(self.defaults.retention_days)
    }

    pub(crate) fn retention_reason<'a>(&'a self, cam: &'a CameraConfig) -> Option<&'a str> {
        cam.retention_reason
            .as_deref()
            .or_else(|| {
                self.facility_of(cam)
                    .and_then(|f| f.retention_reason.as_deref())
            })
            .or(self.defaults.retention_reason.as_deref())
    }

    /// Settings of every enabled camera; URL problems (unset env var, unreadable file) for all of them.
    pub fn enabled_cameras(&self) -> Result<Vec<CameraSettings>, ConfigErrors> {
        let mut out = Vec::new();
        let mut errors = Vec::new();
        for cam in self.cameras.iter().filter(|c| c.enabled) {
            match self.camera_settings(&cam.id) {
                Some(Ok(s)) => out.push(s),
                Some(Err(e)) => errors.push(e),
                None => {}
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(ConfigErrors(errors))
        }
    }
}

fn check_url(p: &str, cam: &CameraConfig, errors: &mut Vec<ConfigError>) {
    let sources = [
        cam.url.is_some(),
        cam.url_env.is_some(),
        cam.url_file.is_some(),
    ]
    .iter()
    .filter(|&&b| b)
    .count();
    if sources != 1 {
        errors.push(err(
            p,
            "",
            if sources == 0 {
                "no camera url: set url, url_env or url_file"
            } else {
                "set only one of url, url_env, url_file"
            },
        ));
    }
    let Some(url) = &cam.url else { return };
    let shown = crate::redact_url(url);
    if !["rtsp://", "rtsps://", "http://", "https://", "file://"]
        .iter()
        .any(|s| url.starts_with(s))
    {
        errors.push(err(
            format!("{p}.url"),
            shown.clone(),
            "url must start with rtsp://, rtsps://, http(s):// or file://",
        ));
    }
    // Userinfo (however the scheme is written) and query values that are credentials by name or by shape are
    // what the redactor hides: anything it changes is a secret that must not sit in the policy file.
    if shown != *url {
        errors.push(err(
            format!("{p}.url"),
            shown,
            "url carries credentials inline (user:password@, or a query value such as pw=, user=, token=, or one \
             that looks like a password); put the whole url in an environment variable (url_env = \"CAM_URL\") \
             or a file readable only by garim (url_file = \"/etc/garim/cam.url\"); garim then gives rtspsrc \
             the user and password as its user-id/user-pw properties, never inside the URL",
        ));
    }
}

pub(crate) fn check_common(
    p: &str,
    detect: Option<&Vec<String>>,
    style: Option<&String>,
    deadline_ms: Option<u32>,
    every: Option<u32>,
    errors: &mut Vec<ConfigError>,
) {
    if let Some(detect) = detect {
        for (i, c) in detect.iter().enumerate() {
            if c.parse::<DetectClass>().is_err() {
                errors.push(err(
                    format!("{p}.detect[{i}]"),
                    c,
                    "unknown class; valid classes: person, face, plate, vehicle",
                ));
            }
        }
    }
    if let Some(s) = style {
        if s.parse::<MaskStyleName>().is_err() {
            errors.push(err(
                format!("{p}.mask_style"),
                s,
                "unknown mask style; valid styles: pixelate, blur, fill",
            ));
        }
    }
    if let Some(d) = deadline_ms {
        if d == 0 || d > 10_000 {
            errors.push(err(
                format!("{p}.fail_closed_deadline_ms"),
                d.to_string(),
                "must be between 1 and 10000",
            ));
        }
    }
    if let Some(k) = every {
        if k > 30 {
            errors.push(err(
                format!("{p}.detect_every_n_frames"),
                k.to_string(),
                "must be between 1 and 30, or 0 for about 5 detections a second at the camera's frame rate",
            ));
        }
    }
}

/// The re-aim check cannot be switched off (PIPA Art. 25(5)); it can only be made rarer, up to 5 minutes.
fn check_scene_secs(p: &str, secs: Option<u32>, errors: &mut Vec<ConfigError>) {
    if let Some(s) = secs {
        if s == 0 || s > 300 {
            errors.push(err(
                format!("{p}.scene_check_secs"),
                s.to_string(),
                "must be between 1 and 300",
            ));
        }
    }
}

fn check_polygon(p: &str, poly: &[[f32; 2]], errors: &mut Vec<ConfigError>) {
    if poly.len() < 3 {
        errors.push(err(
            p,
            format!("{poly:?}"),
            format!("polygon has {} points, needs ≥ 3", poly.len()),
        ));
        return;
    }
    for (i, pt) in poly.iter().enumerate() {
        if pt
            .iter()
            .any(|v| !(0.0..=1.0).contains(v) || !v.is_finite())
        {
            errors.push(err(
                format!("{p}[{i}]"),
                format!("[{}, {}]", pt[0], pt[1]),
                "coordinates must be within 0..1 (fractions of the frame)",
            ));
        }
    }
    if self_intersects(poly) {
        errors.push(err(p, format!("{poly:?}"), "polygon intersects itself"));
    }
}

/// Proper intersection between two non-adjacent edges.
fn self_intersects(poly: &[[f32; 2]]) -> bool {
    let n = poly.len();
    let cross = |o: [f32; 2], a: [f32; 2], b: [f32; 2]| {
        (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
    };
    for i in 0..n {
        for j in i + 1..n {
            if j == i + 1 || (i == 0 && j == n - 1) {
                continue;
            }
            let (a, b) = (poly[i], poly[(i + 1) % n]);
            let (c, d) = (poly[j], poly[(j + 1) % n]);
            let (d1, d2) = (cross(c, d, a), cross(c, d, b));
            let (d3, d4) = (cross(a, b, c), cross(a, b, d));
            if d1 * d2 < 0.0 && d3 * d4 < 0.0 {
                return true;
            }
        }
    }
    false
}
