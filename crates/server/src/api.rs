//! What the HTTP API asks of the running site (cameras, footage, scene, policy, inspections), as a trait so
//! the server builds and tests without GStreamer or ONNX Runtime. Every operation takes the authenticated
//! `Principal`; the site checks the permission again and writes the ledger row of the action in the same step,
//! so the CLI, which calls the same operations, is held to the same rules.

use access::Principal;
use serde::Deserialize;
use std::path::PathBuf;

/// Why an operation failed, as the API answers it.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// 400, naming the field and the value.
    BadRequest { field: String, message: String },
    /// 400 with the errors placed on their items (the zone editor's polygons).
    Invalid {
        field: String,
        message: String,
        errors: serde_json::Value,
    },
    /// 401
    Unauthenticated(String),
    /// 403
    Forbidden(String),
    /// 404 — also what a contractor gets for a camera outside its scope, so other cameras' ids don't leak.
    NotFound(String),
    /// 409
    Conflict(String),
    /// 413
    TooLarge(String),
    /// 429, with the seconds to wait.
    TooMany {
        message: String,
        retry_after_secs: u64,
    },
    /// 503
    Unavailable(String),
    /// 500
    Internal(String),
}

impl ApiError {
    pub fn bad(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The one answer for a camera that doesn't exist or that the principal may not see.
    pub fn no_camera(id: &str) -> ApiError {
        ApiError::NotFound(format!("no camera {id:?}"))
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::BadRequest { field, message } | ApiError::Invalid { field, message, .. } => {
                write!(f, "{field}: {message}")
            }
            ApiError::Unauthenticated(m)
            | ApiError::Forbidden(m)
            | ApiError::NotFound(m)
            | ApiError::Conflict(m)
            | ApiError::TooLarge(m)
            | ApiError::Unavailable(m)
            | ApiError::Internal(m) => f.write_str(m),
            ApiError::TooMany { message, .. } => f.write_str(message),
        }
    }
}

/// `?camera=&from=&to=` of the recordings list (times as 2026-11-24T09:00:00Z, 2026-11-24 or unix seconds).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeQuery {
    pub camera: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// `?from=&to=&purpose=&kind=&recipient=&basis=` of a masked export: the range is required and limited, and
/// the purpose goes into the 관리대장 row.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    /// 목적/사유 (required)
    pub purpose: Option<String>,
    /// `use` (이용, default) or `provide` (제공, to a third party named in `recipient`)
    pub kind: Option<String>,
    pub recipient: Option<String>,
    /// 근거, e.g. 개인정보 보호법 제18조제2항제7호
    pub basis: Option<String>,
}

/// Body of a scene acceptance.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptBody {
    /// The privacy masks and recording zones were checked against the new view.
    #[serde(default)]
    pub zones_checked: bool,
}

/// Body of a policy replacement: the whole TOML file and why.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyBody {
    pub toml: String,
    /// 사유, written to the ledger
    pub reason: String,
}

/// Body of a zone editor save: one camera's polygons (fractions of the frame), the policy hash the editor
/// opened with (a save over a newer policy is refused), and why.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZonesBody {
    #[serde(default)]
    pub privacy_masks: Vec<Vec<[f32; 2]>>,
    #[serde(default)]
    pub recording_zones: Vec<Vec<[f32; 2]>>,
    pub base_sha256: String,
    /// 사유, written to the ledger
    pub reason: String,
}

/// An exported file ready to stream. It is removed when this is dropped (the server opens it first and
/// streams from the open file), so no copy of footage outlives its request, even when the client is gone.
pub struct ExportFile {
    pub path: PathBuf,
    pub file_name: String,
}

impl Drop for ExportFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// One operation on data-subject requests or openings of sealed recordings. Bodies stay JSON here; the site
/// reads them into its typed forms (unknown fields refused) so a 400 names the field.
#[derive(Clone)]
pub enum RequestOp {
    List,
    Get(String),
    Create(serde_json::Value),
    /// `{"to": state, "note": …}`
    Advance(String, serde_json::Value),
    /// `{"outcome": fulfil|partly|refuse, "reason": …, "note": …}`
    Decide(String, serde_json::Value),
    /// Answer 존재확인 from the index and the ledger.
    Existence(String),
    /// `claim` (청구서) or `notice` (결정·거부 통지서), as HTML.
    Document(String, String),
    Openings,
    /// `{cameras, from, to, reason, ground, reference, requested_by, password?}`
    FileOpening(serde_json::Value),
    /// `{"password": …}` of the approving manager.
    Approve(String, serde_json::Value),
    /// A data subject's opened window: pass 1's progress, or the review frames with the proposed track.
    Review(String),
    /// What the operator says of the track: `{marks, not_them, absent, confirmed}` (times in unix seconds,
    /// boxes in 0..1 of the frame).
    SaveReview(String, serde_json::Value),
    /// A review still (JPEG) of frame N of the opened window.
    Still(String, usize),
    /// The redacted export of a confirmed review (MP4).
    RedactedExport(String),
    /// The requester's presence masked out of the window's sealed recordings.
    Erase(String),
    /// The sidecar of a redacted export or deletion.
    Sidecar(String),
}

/// The operation and its id only: bodies may hold a password.
impl std::fmt::Debug for RequestOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RequestOp::List => f.write_str("List"),
            RequestOp::Get(id) => write!(f, "Get({id})"),
            RequestOp::Create(_) => f.write_str("Create"),
            RequestOp::Advance(id, _) => write!(f, "Advance({id})"),
            RequestOp::Decide(id, _) => write!(f, "Decide({id})"),
            RequestOp::Existence(id) => write!(f, "Existence({id})"),
            RequestOp::Document(id, which) => write!(f, "Document({id}, {which})"),
            RequestOp::Openings => f.write_str("Openings"),
            RequestOp::FileOpening(_) => f.write_str("FileOpening"),
            RequestOp::Approve(id, _) => write!(f, "Approve({id})"),
            RequestOp::Review(id) => write!(f, "Review({id})"),
            RequestOp::SaveReview(id, _) => write!(f, "SaveReview({id})"),
            RequestOp::Still(id, n) => write!(f, "Still({id}, {n})"),
            RequestOp::RedactedExport(id) => write!(f, "RedactedExport({id})"),
            RequestOp::Erase(id) => write!(f, "Erase({id})"),
            RequestOp::Sidecar(id) => write!(f, "Sidecar({id})"),
        }
    }
}

/// What a request operation answers.
pub enum RequestAnswer {
    Json(serde_json::Value),
    Html(String),
    /// The output of an opening, streamed once and removed.
    File(ExportFile),
    /// A JPEG picture.
    Jpeg(Vec<u8>),
}

pub trait SiteApi: Send + Sync {
    /// Data-subject requests and openings of sealed recordings (the site checks role and camera scope).
    fn requests(
        &self,
        p: &Principal,
        op: RequestOp,
        client: &str,
    ) -> Result<RequestAnswer, ApiError>;
    /// The cameras the principal may see, with their state.
    fn cameras(&self, p: &Principal) -> Result<serde_json::Value, ApiError>;
    /// The newest masked frame of a camera as JPEG.
    fn snapshot(&self, p: &Principal, camera: &str) -> Result<Vec<u8>, ApiError>;
    /// Index rows of masked recordings (no content).
    fn recordings(&self, p: &Principal, q: &RangeQuery) -> Result<serde_json::Value, ApiError>;
    /// A masked export of one camera's range as MP4, with its ledger row.
    fn export(
        &self,
        p: &Principal,
        camera: &str,
        q: &ExportQuery,
        client: &str,
    ) -> Result<ExportFile, ApiError>;
    /// A camera's reference view and re-aim alarm.
    fn scene(&self, p: &Principal, camera: &str) -> Result<serde_json::Value, ApiError>;
    /// A manager accepts a camera's current view (ledgered; refused when zones must be checked first).
    fn accept_scene(
        &self,
        p: &Principal,
        camera: &str,
        body: &AcceptBody,
        client: &str,
    ) -> Result<serde_json::Value, ApiError>;
    /// The policy in force (secrets redacted).
    fn policy(&self, p: &Principal) -> Result<serde_json::Value, ApiError>;
    /// A manager replaces the policy (validated, then written and applied, with its ledger row).
    fn put_policy(
        &self,
        p: &Principal,
        body: &PolicyBody,
        client: &str,
    ) -> Result<serde_json::Value, ApiError>;
    /// Every applied policy: time, hash, changes.
    fn policy_history(&self, p: &Principal) -> Result<serde_json::Value, ApiError>;
    /// A user may be linked only to someone the policy names (`people`, or `contractors` for a contractor).
    fn check_person(&self, role: access::Role, person: Option<&str>) -> Result<(), ApiError>;
    /// The sealed key the policy names (`storage.sealed_public_key`), if any: the users list says who holds a
    /// share of it.
    fn sealed_public_key(&self) -> Option<[u8; 32]> {
        None
    }
    /// An inspection (점검대장 row) now.
    fn inspect(&self, p: &Principal, client: &str) -> Result<serde_json::Value, ApiError>;
    /// One camera's privacy masks and recording zones as the policy file holds them, the file's hash, and the
    /// picture's size (for the zone editor).
    fn zones(&self, p: &Principal, camera: &str) -> Result<serde_json::Value, ApiError>;
    /// A manager saves one camera's polygons: refused (409) when the file changed since `base_sha256`,
    /// validated like `garim check` (400 with the errors on their polygons), written with the file's comments
    /// kept, applied, and ledgered with the diff.
    fn put_zones(
        &self,
        p: &Principal,
        camera: &str,
        body: &ZonesBody,
        client: &str,
    ) -> Result<serde_json::Value, ApiError>;
    /// A camera's recent fps, latency and fail-closed share (the console's charts) and its recent events.
    fn trend(&self, p: &Principal, camera: &str) -> Result<serde_json::Value, ApiError>;
    /// The site's public pages, served without a login: `notice` (운영·관리 방침) or `signs` (안내판), HTML.
    fn public_page(&self, which: &str) -> Result<String, ApiError>;
    /// The site's name, for the console's header.
    fn site_name(&self) -> String;
}
