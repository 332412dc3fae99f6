//! The 관리대장 (PIPA Enforcement Decree Art. 15: every use, provision, viewing and destruction of footage)
//! together with the service's own accountable events, and the 점검대장 (inspection records), kept in one
//! append-only store (SQLite on one node, Postgres shared by replicas). Each row carries the SHA-256 of its
//! contents and of the previous row's hash, so an edit, a deletion, an insertion or a reordering breaks the
//! chain where it happened; signed checkpoints kept outside the database catch a rewritten or cut-back chain.
//! Rows are never deleted by this crate.

mod checkpoint;
mod export;
pub mod inspection;
pub mod review;
mod store;
pub mod time;
mod verify;

pub use checkpoint::{Checkpoint, CheckpointLog, SigningKey};
pub use export::{HEADERS, export_csv, export_xlsx};
pub use inspection::{Inspection, InspectionKind};
pub use review::{Review, review};
pub use store::Ledger;
pub use verify::{Problem, VerifyReport};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// The retention floor for the ledger itself: the Decree's records must outlive the footage they describe.
pub const MIN_RETENTION_YEARS: u32 = 1;
pub const DEFAULT_RETENTION_YEARS: u32 = 3;

/// The most rows one CSV/XLSX export holds (an XLSX sheet holds 1,048,575; and the export is built in memory).
pub const MAX_EXPORT_ROWS: usize = 500_000;

/// Checks a configured ledger retention (in years) against the legal floor.
pub fn validate_retention_years(years: u32) -> Result<u32, String> {
    if years < MIN_RETENTION_YEARS {
        return Err(format!(
            "ledger retention_years {years} is below the minimum of {MIN_RETENTION_YEARS} year"
        ));
    }
    Ok(years)
}

/// The `prev_hash` of row 1.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What a ledger row records: the four legal kinds of the Decree first, then the service's own events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// 이용: footage used by the controller itself.
    #[default]
    Use,
    /// 제공: footage provided to a third party.
    Provide,
    /// 열람: footage viewed on request (열람등 요구).
    View,
    /// 파기: footage destroyed.
    Destroy,
    Login,
    LoginFailed,
    Logout,
    UserChange,
    PolicyChange,
    PolicyRejected,
    SceneAcceptance,
    SceneAlarm,
    Inspection,
    Countersign,
    Review,
    /// A data-subject request (열람등 요구) received or moved to its next state.
    Request,
    /// Custody of the sealed key: split, re-split, an approval refused.
    Custody,
}

impl Kind {
    pub const ALL: [Kind; 17] = [
        Kind::Use,
        Kind::Provide,
        Kind::View,
        Kind::Destroy,
        Kind::Login,
        Kind::LoginFailed,
        Kind::Logout,
        Kind::UserChange,
        Kind::PolicyChange,
        Kind::PolicyRejected,
        Kind::SceneAcceptance,
        Kind::SceneAlarm,
        Kind::Inspection,
        Kind::Countersign,
        Kind::Review,
        Kind::Request,
        Kind::Custody,
    ];

    /// The snake_case name, as stored and as serde writes it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Use => "use",
            Kind::Provide => "provide",
            Kind::View => "view",
            Kind::Destroy => "destroy",
            Kind::Login => "login",
            Kind::LoginFailed => "login_failed",
            Kind::Logout => "logout",
            Kind::UserChange => "user_change",
            Kind::PolicyChange => "policy_change",
            Kind::PolicyRejected => "policy_rejected",
            Kind::SceneAcceptance => "scene_acceptance",
            Kind::SceneAlarm => "scene_alarm",
            Kind::Inspection => "inspection",
            Kind::Countersign => "countersign",
            Kind::Review => "review",
            Kind::Request => "request",
            Kind::Custody => "custody",
        }
    }

    /// The 구분 column of the 관리대장 form.
    pub fn korean(self) -> &'static str {
        match self {
            Kind::Use => "이용",
            Kind::Provide => "제공",
            Kind::View => "열람",
            Kind::Destroy => "파기",
            Kind::Login => "로그인",
            Kind::LoginFailed => "로그인 실패",
            Kind::Logout => "로그아웃",
            Kind::UserChange => "사용자 변경",
            Kind::PolicyChange => "방침 변경",
            Kind::PolicyRejected => "방침 거부",
            Kind::SceneAcceptance => "화면 승인",
            Kind::SceneAlarm => "화면 경보",
            Kind::Inspection => "점검",
            Kind::Countersign => "확인 서명",
            Kind::Review => "접근 검토",
            Kind::Request => "열람등 요구",
            Kind::Custody => "봉인 열쇠 관리",
        }
    }

    /// Whether the Decree itself requires this row (이용·제공·열람·파기).
    pub fn is_legal(self) -> bool {
        matches!(self, Kind::Use | Kind::Provide | Kind::View | Kind::Destroy)
    }

    pub fn parse(s: &str) -> Result<Kind, LedgerError> {
        Kind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
                LedgerError::Invalid(format!(
                    "unknown ledger kind {s:?}: expected one of {}",
                    names.join(", ")
                ))
            })
    }
}

impl std::str::FromStr for Kind {
    type Err = LedgerError;
    fn from_str(s: &str) -> Result<Kind, LedgerError> {
        Kind::parse(s)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the caller records; the ledger adds the number, the time and the hashes.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    pub kind: Kind,
    /// The acting user's name; "system" for the service itself.
    pub actor: String,
    /// 파일명/형태: camera, time range, segment ids.
    pub subject: String,
    /// 목적/사유.
    pub purpose: String,
    /// 이용·제공받는 제3자/열람등 요구자.
    pub recipient: String,
    /// 이용·제공 근거.
    pub basis: String,
    /// 이용·제공 형태.
    pub form: String,
    /// 기간.
    pub period: String,
    /// 확인 관리책임자.
    pub manager: String,
    /// Client address, or "cli"/"service".
    pub client: String,
    /// Extra machine-readable facts; Null when none.
    pub detail: serde_json::Value,
}

impl Entry {
    /// An entry with only the kind, actor and subject filled in; the other fields are set directly.
    pub fn new(kind: Kind, actor: impl Into<String>, subject: impl Into<String>) -> Entry {
        Entry {
            kind,
            actor: actor.into(),
            subject: subject.into(),
            ..Entry::default()
        }
    }
}

/// A stored ledger row (one line of the 관리대장).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Row {
    /// 번호, from 1 without gaps.
    pub seq: u64,
    /// Unix milliseconds.
    pub at_ms: i64,
    pub entry: Entry,
    /// Hex SHA-256 of the previous row; [`GENESIS_HASH`] for row 1.
    pub prev_hash: String,
    pub hash: String,
}

impl Row {
    /// The hash this row's contents call for; differs from `hash` when the row was altered.
    pub fn expected_hash(&self) -> String {
        let detail = compact(&self.entry.detail);
        hex::encode(row_digest(&HashInput::of_entry(
            self.seq,
            self.at_ms,
            &self.entry,
            &detail,
            &self.prev_hash,
        )))
    }
}

/// Which rows `Ledger::list` returns; every condition given must hold. Rows come in seq order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    /// Inclusive.
    pub from_ms: Option<i64>,
    /// Exclusive.
    pub to_ms: Option<i64>,
    /// Any of these kinds; empty means all.
    pub kinds: Vec<Kind>,
    pub actor: Option<String>,
    pub subject_contains: Option<String>,
    /// Rows after this seq (for paging).
    pub after_seq: Option<u64>,
    pub limit: Option<usize>,
}

#[derive(Clone, Debug, thiserror::Error, PartialEq)]
pub enum LedgerError {
    /// The database failed; `at` is the SQLite path or the redacted Postgres URL.
    #[error("ledger {at}: {reason}")]
    Store { at: String, reason: String },
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
    #[error("signing key {path}: {reason}")]
    Key { path: String, reason: String },
    #[error("checkpoint log {path} line {line}: {why}")]
    Checkpoint {
        path: String,
        line: usize,
        why: String,
    },
    #[error("inspection {id}: {reason}")]
    Inspection { id: u64, reason: String },
    #[error("{0}")]
    Invalid(String),
    #[error("export to {path}: {reason}")]
    Export { path: String, reason: String },
}

impl LedgerError {
    pub(crate) fn io(path: &std::path::Path, e: std::io::Error) -> LedgerError {
        LedgerError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        }
    }
}

/// The compact JSON that is stored and hashed for `detail`.
pub(crate) fn compact(v: &serde_json::Value) -> String {
    // Serialising a Value cannot fail: its map keys are strings.
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

/// A row as the hash sees it, borrowed from an Entry or straight from a database row.
/// Text as bytes: the walk over stored rows hashes them without validating UTF-8 again.
pub(crate) struct HashInput<'a> {
    pub seq: u64,
    pub at_ms: i64,
    pub kind: &'a [u8],
    /// actor, subject, purpose, recipient, basis, form, period, manager, client.
    pub fields: [&'a [u8]; 9],
    pub detail: &'a [u8],
    pub prev_hash: &'a [u8],
}

impl<'a> HashInput<'a> {
    pub fn of_entry(
        seq: u64,
        at_ms: i64,
        e: &'a Entry,
        detail: &'a str,
        prev_hash: &'a str,
    ) -> HashInput<'a> {
        HashInput {
            seq,
            at_ms,
            kind: e.kind.name().as_bytes(),
            fields: [
                e.actor.as_bytes(),
                e.subject.as_bytes(),
                e.purpose.as_bytes(),
                e.recipient.as_bytes(),
                e.basis.as_bytes(),
                e.form.as_bytes(),
                e.period.as_bytes(),
                e.manager.as_bytes(),
                e.client.as_bytes(),
            ],
            detail: detail.as_bytes(),
            prev_hash: prev_hash.as_bytes(),
        }
    }
}

/// Names the encoding, so a future change of fields cannot collide with this one.
const ROW_DOMAIN: &[u8] = b"garim-ledger-row-v1";

/// SHA-256 over the row: fixed-width numbers, then every text field with its length in front, so no
/// choice of field contents can move a boundary and produce another row's bytes.
pub(crate) fn row_digest(r: &HashInput<'_>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update((ROW_DOMAIN.len() as u64).to_be_bytes());
    h.update(ROW_DOMAIN);
    h.update(r.seq.to_be_bytes());
    h.update(r.at_ms.to_be_bytes());
    let mut field = |s: &[u8]| {
        h.update((s.len() as u64).to_be_bytes());
        h.update(s);
    };
    field(r.kind);
    for f in r.fields {
        field(f);
    }
    field(r.detail);
    field(r.prev_hash);
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip_through_parse_and_serde() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.name()).unwrap(), k);
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.name())
            );
        }
        assert_eq!(Kind::View.korean(), "열람");
        assert_eq!(Kind::LoginFailed.korean(), "로그인 실패");
    }

    #[test]
    fn unknown_kind_error_names_the_value_and_the_choices() {
        let e = Kind::parse("watch").unwrap_err().to_string();
        assert!(
            e.contains("\"watch\"") && e.contains("view") && e.contains("countersign"),
            "{e}"
        );
    }

    #[test]
    fn moving_text_between_fields_changes_the_hash() {
        let a = Entry {
            actor: "ab".into(),
            subject: "c".into(),
            ..Entry::default()
        };
        let b = Entry {
            actor: "a".into(),
            subject: "bc".into(),
            ..Entry::default()
        };
        let d = |e: &Entry| row_digest(&HashInput::of_entry(1, 0, e, "null", GENESIS_HASH));
        assert_ne!(d(&a), d(&b));
    }

    #[test]
    fn ledger_can_be_shared_between_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<Ledger>();
    }

    #[test]
    fn retention_below_one_year_is_refused() {
        assert_eq!(validate_retention_years(DEFAULT_RETENTION_YEARS), Ok(3));
        let e = validate_retention_years(0).unwrap_err();
        assert!(e.contains('0') && e.contains("minimum of 1"), "{e}");
    }
}
