//! Who may do what in garim: named users with a role, the one permission table every action on footage,
//! policy or users is checked against (deny by default), password login with argon2id, opaque session
//! tokens stored only as digests, and throttling of failed logins. Pure logic and storage (SQLite or
//! Postgres): no server here, so all of it is tested without one.

pub mod accounts;
mod directory;
mod principal;
mod role;
mod secret;
mod shares;
mod store;
mod throttle;

pub use directory::{Directory, ScopeResolver, SessionPolicy};
pub use principal::{Denied, Principal, SessionId, SessionKind, User};
pub use role::{Permission, Role, allows, render_table};
pub use secret::{MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, Password, Token};
pub use shares::{Custody, SealedLockout};
pub use throttle::{DEFAULT_CAP, Limit, RetryAfter, Throttle};

use std::sync::Arc;

/// The time in unix milliseconds; replaced by a fake one in tests.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

pub(crate) fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
    })
}

pub type Result<T, E = AccessError> = std::result::Result<T, E>;

/// Longest user name.
pub const MAX_NAME_CHARS: usize = 64;

/// What went wrong managing users. Messages name the user, role or value, never a secret.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("unknown user `{0}`")]
    UnknownUser(String),
    #[error("user `{0}` already exists")]
    Exists(String),
    #[error("`{0}` is the last enabled manager: add or enable another manager first")]
    LastManager(String),
    #[error("bad user name {0:?}: {1}")]
    BadName(String, &'static str),
    #[error("bad person id {0:?}: {1}")]
    BadPersonId(String, &'static str),
    #[error("weak password: {0}")]
    WeakPassword(String),
    #[error("unknown role `{0}`: expected one of manager, access, handler, contractor, auditor")]
    UnknownRole(String),
    #[error("unknown permission `{0}`")]
    UnknownPermission(String),
    #[error("user store {shown}: {what}")]
    Store { what: String, shown: String },
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error("no randomness from the operating system: {0}")]
    Random(String),
    #[error("sealed key custody: {0}")]
    Custody(String),
    #[error("the current password of `{0}` is wrong")]
    WrongCurrentPassword(String),
    #[error(
        "`{name}` holds a share of the sealed key {key}… (k = {k}); without it {others} enabled manager(s) could \
         open that key ({list}), fewer than k, and the sealed recordings under it could never be opened again. \
         Re-split the key among the other managers first (garim keys sealed-split), or let `{name}` change \
         their own password (their share stays); to go ahead and lose it, repeat with allow_sealed_lockout"
    )]
    SealedLockout {
        name: String,
        /// The first 16 hex digits of the sealed public key.
        key: String,
        k: usize,
        others: usize,
        list: String,
    },
}

/// Why a login or a token was refused. The first two are all a client learns about a failed login: an
/// unknown user and a wrong password give the same `BadCredentials`, in about the same time.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("wrong user name or password")]
    BadCredentials,
    #[error("user `{0}` is disabled")]
    Disabled(String),
    #[error(transparent)]
    Throttled(#[from] RetryAfter),
    /// Too many password checks at once (not a failed login: nothing was checked).
    #[error("too many logins at once; retry in a second")]
    Busy,
    #[error("no session token")]
    Missing,
    #[error("invalid session token")]
    Invalid,
    #[error("session expired: log in again")]
    Expired,
    #[error(transparent)]
    Store(#[from] AccessError),
}

/// Cuts a refused value for an error message: a megabyte-long "name" must not become a megabyte-long log line.
fn shown_value(s: &str) -> String {
    const MAX: usize = 80;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// User names are 1–64 characters of `[A-Za-z0-9._-]`, not starting with `.` or `-`: safe in paths, logs,
/// URLs and shell commands without quoting.
pub fn validate_name(name: &str) -> Result<()> {
    let bad = |why| Err(AccessError::BadName(shown_value(name), why));
    if name.is_empty() {
        return bad("empty");
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return bad("longer than 64 characters");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return bad("only letters A-Z a-z, digits, '.', '_' and '-' are allowed");
    }
    if name.starts_with(['.', '-']) {
        return bad("must not start with '.' or '-'");
    }
    Ok(())
}

/// Person ids come from the policy, where they are free text: here 1–128 characters without control
/// characters.
pub(crate) fn validate_person_id(id: &str) -> Result<()> {
    let bad = |why| Err(AccessError::BadPersonId(shown_value(id), why));
    if id.trim().is_empty() {
        return bad("empty");
    }
    if id.chars().count() > 128 {
        return bad("longer than 128 characters");
    }
    if id.chars().any(char::is_control) {
        return bad("contains control characters");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_are_refused_with_the_rule_they_break() {
        let cases = [
            ("'; DROP TABLE users;--", "only letters"),
            ("../../etc/passwd", "only letters"),
            ("", "empty"),
            (&"a".repeat(65), "longer than 64"),
            ("kim\nroot", "only letters"),
            ("-rf", "must not start"),
            (".hidden", "must not start"),
            ("김철수", "only letters"),
        ];
        for (name, why) in cases {
            let e = validate_name(name).unwrap_err();
            assert!(matches!(e, AccessError::BadName(..)), "{name}: {e}");
            assert!(e.to_string().contains(why), "{name}: {e}");
        }
        assert_eq!(
            validate_name("'; DROP TABLE users;--")
                .unwrap_err()
                .to_string(),
            "bad user name \"'; DROP TABLE users;--\": only letters A-Z a-z, digits, '.', '_' and '-' are allowed"
        );
        for ok in [
            "kim",
            "kim.manager",
            "contractor_7",
            "a",
            &"a".repeat(64),
            "K-9",
        ] {
            validate_name(ok).unwrap();
        }
    }

    #[test]
    fn refused_values_are_cut_in_messages() {
        let e = validate_name(&"x".repeat(10_000)).unwrap_err().to_string();
        assert!(e.len() < 200, "{e}");
    }

    #[test]
    fn person_ids_are_free_text_without_control_characters() {
        validate_person_id("contractor:에스원").unwrap();
        assert!(validate_person_id(" ").is_err());
        assert!(
            validate_person_id("a\u{0}b")
                .unwrap_err()
                .to_string()
                .contains("control")
        );
    }
}
