//! The user directory: users and their sessions in a store, the rules on them (valid names, password rules,
//! always one enabled manager), login with throttling, and turning a token back into a [`Principal`] with
//! idle and absolute expiry. The directory knows nothing of the policy; a contractor's cameras come from a
//! [`ScopeResolver`] the host passes in, and without one a contractor sees nothing.

use crate::principal::{Principal, SessionId, SessionKind, User};
use crate::role::Role;
use crate::secret::{self, Password, Token};
use crate::shares::SealedLockout;
use crate::store::{Arg, Mode, Row, Store, Tx};
use crate::throttle::Throttle;
use crate::{AccessError, AuthError, Clock, Result, validate_name, validate_person_id};
use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// The cameras a contractor may see, from the policy (its contract); None or a missing resolver: none.
pub type ScopeResolver = Arc<dyn Fn(&User) -> Option<BTreeSet<String>> + Send + Sync>;

/// How long sessions last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionPolicy {
    /// Ended after this long without a request.
    pub idle_ms: i64,
    /// Ended this long after login, however active.
    pub absolute_ms: i64,
}

impl Default for SessionPolicy {
    fn default() -> SessionPolicy {
        SessionPolicy {
            idle_ms: 30 * 60_000,
            absolute_ms: 12 * 3_600_000,
        }
    }
}

/// A session's last use is written at most this often: every request reading it, not every one writing.
/// Idle expiry is thus up to this much early.
const TOUCH_EVERY_MS: i64 = 5_000;
/// Longest client description kept with a session.
const MAX_CLIENT_CHARS: usize = 128;

const USER_COLS: &str = "name, role, person_id, disabled, created_ms, updated_ms";

/// Users and sessions. `Send + Sync`: share one behind an `Arc`.
pub struct Directory {
    store: Store,
    clock: Clock,
    policy: SessionPolicy,
    scope: Option<ScopeResolver>,
    throttle: Throttle,
    gate: PasswordGate,
}

/// At most this many password checks run at once (each argon2id check takes ~19 MiB and ~25 ms): a flood of
/// parallel logins can neither exhaust memory nor slip past the throttle between its check and its count.
pub const CONCURRENT_PASSWORD_CHECKS: u32 = 2;
/// A login that waits longer than this for a password check is told to retry (429).
const PASSWORD_CHECK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

#[derive(Default)]
struct PasswordGate {
    busy: parking_lot::Mutex<u32>,
    freed: parking_lot::Condvar,
}

struct GatePass<'a>(&'a PasswordGate);

impl PasswordGate {
    fn enter(&self) -> Option<GatePass<'_>> {
        let deadline = std::time::Instant::now() + PASSWORD_CHECK_WAIT;
        let mut busy = self.busy.lock();
        while *busy >= CONCURRENT_PASSWORD_CHECKS {
            if self.freed.wait_until(&mut busy, deadline).timed_out() {
                return None;
            }
        }
        *busy += 1;
        Some(GatePass(self))
    }
}

impl Drop for GatePass<'_> {
    fn drop(&mut self) {
        *self.0.busy.lock() -= 1;
        // Every waiter looks again: one whose wait just timed out must not swallow the wake-up.
        self.0.freed.notify_all();
    }
}

impl fmt::Debug for Directory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Directory")
            .field("store", &self.store.shown())
            .field("policy", &self.policy)
            .field("throttle", &self.throttle)
            .finish_non_exhaustive()
    }
}

/// Reads a user from the first six columns, in `USER_COLS` order.
fn user_from(row: &Row, shown: &str) -> Result<User> {
    let role = row.text(1);
    Ok(User {
        name: row.text(0),
        role: Role::parse(&role).map_err(|_| AccessError::Store {
            what: format!(
                "user `{}` has unknown role `{role}` in the store",
                row.text(0)
            ),
            shown: shown.to_string(),
        })?,
        person_id: row.opt_text(2),
        disabled: row.int(3) != 0,
        created_ms: row.int(4),
        updated_ms: row.int(5),
    })
}

/// What a client string is kept as: short, one line.
fn client_shown(client: &str) -> String {
    client
        .chars()
        .take(MAX_CLIENT_CHARS)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

impl Directory {
    fn new(store: Store) -> Directory {
        let clock = crate::system_clock();
        Directory {
            store,
            throttle: Throttle::default().with_clock(clock.clone()),
            gate: PasswordGate::default(),
            clock,
            policy: SessionPolicy::default(),
            scope: None,
        }
    }

    /// A directory in a SQLite file (WAL), created 0600 in a folder created 0700 when missing.
    pub fn open_sqlite(path: &Path) -> Result<Directory> {
        Ok(Directory::new(Store::open_sqlite(path)?))
    }

    /// A directory in Postgres (same tables, created if missing), shared by replicas. Errors show `shown`
    /// (the URL without credentials), never `url`.
    pub fn open_postgres(url: &str, shown: &str) -> Result<Directory> {
        Ok(Directory::new(Store::open_postgres(url, shown)?))
    }

    /// The clock (unix ms) for sessions and the built-in throttle.
    pub fn with_clock(mut self, clock: Clock) -> Directory {
        self.throttle.clock = clock.clone();
        self.clock = clock;
        self
    }

    pub fn with_policy(mut self, policy: SessionPolicy) -> Directory {
        self.policy = policy;
        self
    }

    /// How contractors' camera scopes are found.
    pub fn with_scope(mut self, resolver: ScopeResolver) -> Directory {
        self.scope = Some(resolver);
        self
    }

    /// Replaces the login throttle (default: [`crate::Limit::ACCOUNT`], [`crate::Limit::CLIENT`]). The
    /// throttle keeps its own clock: set it with [`Throttle::with_clock`].
    pub fn with_throttle(mut self, throttle: Throttle) -> Directory {
        self.throttle = throttle;
        self
    }

    pub fn throttle(&self) -> &Throttle {
        &self.throttle
    }

    pub fn policy(&self) -> SessionPolicy {
        self.policy
    }

    /// Where the directory is, for messages.
    pub fn shown(&self) -> &str {
        self.store.shown()
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    pub(crate) fn now_ms(&self) -> i64 {
        self.now()
    }

    fn now(&self) -> i64 {
        (self.clock)()
    }

    fn get_in(&self, tx: &mut dyn Tx, name: &str) -> Result<Option<User>> {
        let rows = tx.query(
            &format!("SELECT {USER_COLS} FROM access_users WHERE name = $1"),
            &[Arg::Text(name)],
        )?;
        rows.first()
            .map(|r| user_from(r, self.store.shown()))
            .transpose()
    }

    fn must_get_in(&self, tx: &mut dyn Tx, name: &str) -> Result<User> {
        self.get_in(tx, name)?
            .ok_or_else(|| AccessError::UnknownUser(name.to_string()))
    }

    /// Refuses when `user` is the last enabled manager, before it stops being one.
    fn keep_a_manager(tx: &mut dyn Tx, user: &User) -> Result<()> {
        if user.role != Role::Manager || user.disabled {
            return Ok(());
        }
        let others = tx.query(
            "SELECT COUNT(*) FROM access_users WHERE role = $1 AND disabled = 0 AND name <> $2",
            &[Arg::Text(Role::Manager.as_str()), Arg::Text(&user.name)],
        )?;
        if others[0].int(0) == 0 {
            return Err(AccessError::LastManager(user.name.clone()));
        }
        Ok(())
    }

    fn end_sessions_in(tx: &mut dyn Tx, name: &str, keep: Option<&SessionId>) -> Result<u64> {
        match keep {
            None => tx.execute(
                "DELETE FROM access_sessions WHERE user_name = $1",
                &[Arg::Text(name)],
            ),
            Some(keep) => tx.execute(
                "DELETE FROM access_sessions WHERE user_name = $1 AND id <> $2",
                &[Arg::Text(name), Arg::Text(&keep.0)],
            ),
        }
    }

    /// No users yet: the host may create the first manager.
    pub fn is_empty(&self) -> Result<bool> {
        self.store.tx(Mode::Read, |tx| {
            Ok(tx.query("SELECT COUNT(*) FROM access_users", &[])?[0].int(0) == 0)
        })
    }

    pub fn add_user(
        &self,
        name: &str,
        role: Role,
        password: &Password,
        person_id: Option<&str>,
    ) -> Result<User> {
        validate_name(name)?;
        if let Some(id) = person_id {
            validate_person_id(id)?;
        }
        password.validate_for(name)?;
        let phc = secret::hash_password(password)?;
        let now = self.now();
        self.store.tx(Mode::Exclusive, |tx| {
            if self.get_in(tx, name)?.is_some() {
                return Err(AccessError::Exists(name.to_string()));
            }
            tx.execute(
                "INSERT INTO access_users (name, role, person_id, phc, disabled, created_ms, updated_ms)
                 VALUES ($1, $2, $3, $4, 0, $5, $5)",
                &[
                    Arg::Text(name),
                    Arg::Text(role.as_str()),
                    Arg::OptText(person_id),
                    Arg::Text(&phc),
                    Arg::Int(now),
                ],
            )?;
            self.must_get_in(tx, name)
        })
    }

    /// Every user, by name.
    pub fn list(&self) -> Result<Vec<User>> {
        self.store.tx(Mode::Read, |tx| {
            tx.query(
                &format!("SELECT {USER_COLS} FROM access_users ORDER BY name"),
                &[],
            )?
            .iter()
            .map(|r| user_from(r, self.store.shown()))
            .collect()
        })
    }

    pub fn get(&self, name: &str) -> Result<Option<User>> {
        validate_name(name)?;
        self.store.tx(Mode::Read, |tx| self.get_in(tx, name))
    }

    /// Disables a user and ends all its sessions; refused for the last enabled manager.
    pub fn disable(&self, name: &str) -> Result<User> {
        self.disable_with(name, SealedLockout::Refuse)
    }

    /// Disables a user; a manager holding a share the sealed key cannot be opened without is refused unless
    /// `lockout` accepts it.
    pub fn disable_with(&self, name: &str, lockout: SealedLockout) -> Result<User> {
        validate_name(name)?;
        let now = self.now();
        self.store.tx(Mode::Exclusive, |tx| {
            let user = self.must_get_in(tx, name)?;
            Self::keep_a_manager(tx, &user)?;
            if user.role == Role::Manager && !user.disabled {
                crate::shares::check_lockout_in(tx, name, lockout)?;
            }
            tx.execute(
                "UPDATE access_users SET disabled = 1, updated_ms = $2 WHERE name = $1",
                &[Arg::Text(name), Arg::Int(now)],
            )?;
            Self::end_sessions_in(tx, name, None)?;
            self.must_get_in(tx, name)
        })
    }

    pub fn enable(&self, name: &str) -> Result<User> {
        validate_name(name)?;
        let now = self.now();
        self.store.tx(Mode::Exclusive, |tx| {
            self.must_get_in(tx, name)?;
            tx.execute(
                "UPDATE access_users SET disabled = 0, updated_ms = $2 WHERE name = $1",
                &[Arg::Text(name), Arg::Int(now)],
            )?;
            self.must_get_in(tx, name)
        })
    }

    /// The new password hash, and the end of the user's sessions other than `keep`.
    fn set_phc_in(
        &self,
        tx: &mut dyn Tx,
        name: &str,
        phc: &str,
        keep: Option<&SessionId>,
        now: i64,
    ) -> Result<()> {
        self.must_get_in(tx, name)?;
        tx.execute(
            "UPDATE access_users SET phc = $2, updated_ms = $3 WHERE name = $1",
            &[Arg::Text(name), Arg::Text(phc), Arg::Int(now)],
        )?;
        Self::end_sessions_in(tx, name, keep)?;
        Ok(())
    }

    /// Sets a new password and ends all the user's sessions (an administrator's reset).
    pub fn set_password(&self, name: &str, password: &Password) -> Result<User> {
        self.set_password_keeping(name, password, None)
    }

    /// Sets a new password and ends the user's sessions other than `keep`. Someone else may know it, so the
    /// user's share of the sealed key is dropped: refused where the key could then never be opened.
    pub fn set_password_keeping(
        &self,
        name: &str,
        password: &Password,
        keep: Option<&SessionId>,
    ) -> Result<User> {
        self.reset_password(name, password, keep, SealedLockout::Refuse)
    }

    /// [`Self::set_password_keeping`], going ahead where `lockout` accepts losing the sealed key.
    pub fn reset_password(
        &self,
        name: &str,
        password: &Password,
        keep: Option<&SessionId>,
        lockout: SealedLockout,
    ) -> Result<User> {
        validate_name(name)?;
        password.validate_for(name)?;
        let phc = secret::hash_password(password)?;
        let now = self.now();
        self.store.tx(Mode::Exclusive, |tx| {
            crate::shares::check_lockout_in(tx, name, lockout)?;
            self.set_phc_in(tx, name, &phc, keep, now)?;
            // Someone else may know this password: no share of the sealed key may open with it.
            crate::shares::drop_key_in(tx, name)?;
            self.must_get_in(tx, name)
        })
    }

    /// A user sets their own password (the caller has checked `current`): sessions other than `keep` end,
    /// and a manager's share key is locked under the new password in the same step (the same key when
    /// `current` opened it, so its share of the sealed key stays valid).
    pub fn set_own_password(
        &self,
        name: &str,
        current: &Password,
        password: &Password,
        keep: Option<&SessionId>,
    ) -> Result<User> {
        validate_name(name)?;
        password.validate_for(name)?;
        // Checked here too: only the holder of the current password re-locks (or gets) a share key.
        self.check_password(name, current)
            .map_err(|_| AccessError::WrongCurrentPassword(name.to_string()))?;
        let phc = secret::hash_password(password)?;
        let manager = self.get(name)?.is_some_and(|u| u.role == Role::Manager);
        let key = if manager {
            Some(crate::shares::LockedKey::own(
                self,
                name,
                Some(current),
                password,
            )?)
        } else {
            None
        };
        let now = self.now();
        self.store.tx(Mode::Exclusive, |tx| {
            self.set_phc_in(tx, name, &phc, keep, now)?;
            match &key {
                Some((k, same)) => k.store_in(tx, name, *same, now)?,
                None => crate::shares::drop_key_in(tx, name)?,
            }
            self.must_get_in(tx, name)
        })
    }

    /// Changes a user's role; refused when it would leave no enabled manager. Sessions stay: the role is
    /// read again at every [`Directory::authenticate`], so the change applies to the next request.
    pub fn set_role(&self, name: &str, role: Role) -> Result<User> {
        self.set_role_with(name, role, SealedLockout::Refuse)
    }

    /// [`Self::set_role`]; a manager holding a share the sealed key cannot be opened without is refused
    /// another role unless `lockout` accepts it.
    pub fn set_role_with(&self, name: &str, role: Role, lockout: SealedLockout) -> Result<User> {
        validate_name(name)?;
        let now = self.now();
        self.store.tx(Mode::Exclusive, |tx| {
            let user = self.must_get_in(tx, name)?;
            if role != Role::Manager {
                Self::keep_a_manager(tx, &user)?;
                if user.role == Role::Manager && !user.disabled {
                    crate::shares::check_lockout_in(tx, name, lockout)?;
                }
            }
            tx.execute(
                "UPDATE access_users SET role = $2, updated_ms = $3 WHERE name = $1",
                &[Arg::Text(name), Arg::Text(role.as_str()), Arg::Int(now)],
            )?;
            self.must_get_in(tx, name)
        })
    }

    /// Links a user to a person (or contractor) id of the policy, or unlinks it.
    pub fn link(&self, name: &str, person_id: Option<&str>) -> Result<User> {
        validate_name(name)?;
        if let Some(id) = person_id {
            validate_person_id(id)?;
        }
        let now = self.now();
        self.store.tx(Mode::Exclusive, |tx| {
            self.must_get_in(tx, name)?;
            tx.execute(
                "UPDATE access_users SET person_id = $2, updated_ms = $3 WHERE name = $1",
                &[Arg::Text(name), Arg::OptText(person_id), Arg::Int(now)],
            )?;
            self.must_get_in(tx, name)
        })
    }

    /// Verifies a password, unthrottled (network-facing callers go through [`Directory::login`] or a
    /// [`Throttle`]). An unknown user costs a dummy verification, so it gives the same error in about the
    /// same time as a wrong password; `Disabled` is only said to someone who knows the password.
    pub fn check_password(
        &self,
        name: &str,
        password: &Password,
    ) -> std::result::Result<User, AuthError> {
        if validate_name(name).is_err() {
            secret::verify_dummy(password);
            return Err(AuthError::BadCredentials);
        }
        let found = self.store.tx(Mode::Read, |tx| {
            let rows = tx.query(
                &format!("SELECT {USER_COLS}, phc FROM access_users WHERE name = $1"),
                &[Arg::Text(name)],
            )?;
            rows.first()
                .map(|r| Ok((user_from(r, self.store.shown())?, r.text(6))))
                .transpose()
        })?;
        let Some((user, phc)) = found else {
            secret::verify_dummy(password);
            return Err(AuthError::BadCredentials);
        };
        if !secret::verify_password(password, &phc) {
            return Err(AuthError::BadCredentials);
        }
        if user.disabled {
            return Err(AuthError::Disabled(user.name));
        }
        Ok(user)
    }

    /// Logs in: throttled per account and per client, then a new session whose token is returned once.
    /// `client` (an address, a user agent) is kept with the session for the record.
    pub fn login(
        &self,
        name: &str,
        password: &Password,
        kind: SessionKind,
        client: &str,
    ) -> std::result::Result<(Token, Principal), AuthError> {
        // The throttle is asked again once a check may run: the failures counted meanwhile are seen.
        let Some(_pass) = self.gate.enter() else {
            return Err(AuthError::Busy);
        };
        self.throttle.check(name, client)?;
        let user = match self.check_password(name, password) {
            Ok(user) => {
                self.throttle.succeeded(name, client);
                user
            }
            Err(AuthError::BadCredentials) => {
                self.throttle.failed(name, client);
                return Err(AuthError::BadCredentials);
            }
            Err(e) => return Err(e),
        };
        let token = Token::random()?;
        let id = SessionId(secret::random_id()?);
        let digest = secret::token_digest(token.expose());
        let now = self.now();
        let client = client_shown(client);
        self.store.tx(Mode::Write, |tx| {
            // Housekeeping here rather than in a timer: expired rows go at the next login.
            tx.execute(
                "DELETE FROM access_sessions WHERE last_seen_ms <= $1 OR created_ms <= $2",
                &[
                    Arg::Int(now - self.policy.idle_ms),
                    Arg::Int(now - self.policy.absolute_ms),
                ],
            )?;
            tx.execute(
                "INSERT INTO access_sessions (digest, id, user_name, kind, client, created_ms, last_seen_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $6)",
                &[
                    Arg::Text(&digest),
                    Arg::Text(&id.0),
                    Arg::Text(&user.name),
                    Arg::Text(kind.as_str()),
                    Arg::Text(&client),
                    Arg::Int(now),
                ],
            )?;
            Ok(())
        })?;
        let principal = self.principal(&user, id);
        Ok((token, principal))
    }

    /// The principal a token stands for, with the user's current role and scope. Slides the idle expiry.
    pub fn authenticate(&self, token: &str) -> std::result::Result<Principal, AuthError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(AuthError::Missing);
        }
        if !secret::looks_like_token(token) {
            return Err(AuthError::Invalid);
        }
        let digest = secret::token_digest(token);
        let now = self.now();
        let found = self.store.tx(Mode::Read, |tx| {
            let rows = tx.query(
                "SELECT u.name, u.role, u.person_id, u.disabled, u.created_ms, u.updated_ms,
                        s.digest, s.id, s.kind, s.created_ms, s.last_seen_ms
                 FROM access_sessions s JOIN access_users u ON u.name = s.user_name
                 WHERE s.digest = $1",
                &[Arg::Text(&digest)],
            )?;
            rows.first()
                .map(|r| {
                    Ok((
                        user_from(r, self.store.shown())?,
                        r.text(6),
                        SessionId(r.text(7)),
                        r.text(8),
                        r.int(9),
                        r.int(10),
                    ))
                })
                .transpose()
        })?;
        let Some((user, stored, id, kind, created, last_seen)) = found else {
            return Err(AuthError::Invalid);
        };
        // The lookup was by digest already; comparing again in constant time costs nothing and keeps the
        // match independent of how the store compares strings.
        if !bool::from(stored.as_bytes().ct_eq(digest.as_bytes()))
            || SessionKind::parse(&kind).is_none()
        {
            return Err(AuthError::Invalid);
        }
        if now >= last_seen + self.policy.idle_ms || now >= created + self.policy.absolute_ms {
            self.store.tx(Mode::Write, |tx| {
                tx.execute(
                    "DELETE FROM access_sessions WHERE digest = $1",
                    &[Arg::Text(&digest)],
                )
            })?;
            return Err(AuthError::Expired);
        }
        if user.disabled {
            return Err(AuthError::Disabled(user.name));
        }
        if now - last_seen >= TOUCH_EVERY_MS {
            self.store.tx(Mode::Write, |tx| {
                tx.execute(
                    "UPDATE access_sessions SET last_seen_ms = $2 WHERE digest = $1 AND last_seen_ms < $2",
                    &[Arg::Text(&digest), Arg::Int(now)],
                )
            })?;
        }
        Ok(self.principal(&user, id))
    }

    /// Ends the session of `token`. A token that is unknown or malformed is already logged out.
    pub fn logout(&self, token: &str) -> Result<()> {
        let token = token.trim();
        if !secret::looks_like_token(token) {
            return Ok(());
        }
        let digest = secret::token_digest(token);
        self.store.tx(Mode::Write, |tx| {
            tx.execute(
                "DELETE FROM access_sessions WHERE digest = $1",
                &[Arg::Text(&digest)],
            )
        })?;
        Ok(())
    }

    /// Ends every session of a user ("log out everywhere"); how many there were.
    pub fn end_sessions(&self, name: &str) -> Result<usize> {
        validate_name(name)?;
        self.store.tx(Mode::Write, |tx| {
            Self::end_sessions_in(tx, name, None).map(|n| n as usize)
        })
    }

    /// How many live (unexpired) sessions a user has.
    pub fn sessions_of(&self, name: &str) -> Result<usize> {
        validate_name(name)?;
        let now = self.now();
        self.store.tx(Mode::Read, |tx| {
            let rows = tx.query(
                "SELECT COUNT(*) FROM access_sessions
                 WHERE user_name = $1 AND last_seen_ms > $2 AND created_ms > $3",
                &[
                    Arg::Text(name),
                    Arg::Int(now - self.policy.idle_ms),
                    Arg::Int(now - self.policy.absolute_ms),
                ],
            )?;
            Ok(rows[0].int(0) as usize)
        })
    }

    fn principal(&self, user: &User, session: SessionId) -> Principal {
        let camera_scope = match user.role {
            Role::Contractor => Some(
                self.scope
                    .as_ref()
                    .and_then(|f| f(user))
                    .unwrap_or_default(),
            ),
            Role::Manager | Role::Access | Role::Handler | Role::Auditor => None,
        };
        Principal {
            user: user.name.clone(),
            role: user.role,
            person_id: user.person_id.clone(),
            session,
            camera_scope,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_is_send_and_sync() {
        fn shared<T: Send + Sync>() {}
        shared::<Directory>();
    }

    #[test]
    fn client_strings_are_kept_short_and_on_one_line() {
        assert_eq!(client_shown("10.0.0.1\nforged"), "10.0.0.1?forged");
        assert_eq!(client_shown(&"x".repeat(500)).len(), MAX_CLIENT_CHARS);
    }
}
