//! Accountable account operations: each login, failed login, logout and user change is done by a named
//! principal allowed by role, and writes its 관리대장 row in the same step — the row first, so no path does
//! the action without it (an action that then fails leaves a row saying so). The HTTP API and the CLI both
//! call these; nothing here knows HTTP.

use crate::{
    AccessError, AuthError, Directory, Password, Permission, Principal, Role, SealedLockout,
    SessionKind, Token, User,
};
use ledger::{Entry, Kind, Ledger};
use std::sync::Arc;

/// Why an account operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0}")]
    Denied(String),
    #[error("too many failed logins; retry in {0} s")]
    Throttled(u64),
    #[error("{0}")]
    Auth(#[from] AuthError),
    #[error("{0}")]
    Access(#[from] AccessError),
    #[error("ledger: {0}")]
    Ledger(#[from] ledger::LedgerError),
}

/// The directory (which throttles logins) and the ledger, together.
#[derive(Clone)]
pub struct Accounts {
    pub directory: Arc<Directory>,
    pub ledger: Arc<Ledger>,
    /// (name, client) pairs whose lockout already has its ledger row, until when: a flood of throttled
    /// attempts is one row per lockout, not one per request (it must not fill the disk the footage is on).
    locked_rows: Arc<parking_lot::Mutex<std::collections::HashMap<(String, String), i64>>>,
}

/// Most lockouts remembered for the row-per-lockout rule.
const LOCKED_ROWS_CAP: usize = 10_000;

/// What a user change is, for its ledger row.
fn user_entry(actor: &Principal, client: &str, subject: &str, what: serde_json::Value) -> Entry {
    Entry {
        kind: Kind::UserChange,
        actor: actor.user.clone(),
        subject: format!("user {subject}"),
        purpose: "사용자 관리".into(),
        client: client.into(),
        manager: actor.user.clone(),
        detail: what,
        ..Entry::default()
    }
}

impl Accounts {
    pub fn new(directory: Arc<Directory>, ledger: Arc<Ledger>) -> Accounts {
        Accounts {
            directory,
            ledger,
            locked_rows: Default::default(),
        }
    }

    /// Logs in (the directory throttles per account and per client); every failure is ledgered, without the
    /// password.
    pub fn login(
        &self,
        name: &str,
        password: &Password,
        kind: SessionKind,
        client: &str,
    ) -> Result<(Token, Principal), AccountError> {
        match self.directory.login(name, password, kind, client) {
            Ok((token, principal)) => {
                self.ledger.append(Entry {
                    kind: Kind::Login,
                    actor: principal.user.clone(),
                    subject: "session".into(),
                    purpose: format!("{kind:?}").to_lowercase(),
                    client: client.into(),
                    detail: serde_json::json!({"role": principal.role}),
                    ..Entry::default()
                })?;
                Ok((token, principal))
            }
            Err(e) => {
                if self.first_row_of_lockout(name, client, &e) {
                    self.ledger.append(Entry {
                        kind: Kind::LoginFailed,
                        actor: shown_name(name),
                        subject: "session".into(),
                        purpose: e.to_string(),
                        client: client.into(),
                        ..Entry::default()
                    })?;
                }
                match e {
                    AuthError::Busy => Err(AccountError::Throttled(1)),
                    AuthError::Throttled(r) => Err(AccountError::Throttled(
                        (r.ms.max(0) as u64).div_ceil(1000).max(1),
                    )),
                    e => Err(e.into()),
                }
            }
        }
    }

    /// Every failure but a refused (throttled or busy) attempt is a row; a client's refused attempts are one
    /// row per lockout, whatever names it tries, and past the memory cap none (counted in the log instead).
    fn first_row_of_lockout(&self, _name: &str, client: &str, e: &AuthError) -> bool {
        let until = match e {
            AuthError::Throttled(r) => r.ms.max(1000),
            AuthError::Busy => return false,
            _ => return true,
        };
        let now = self.ledger.now_ms();
        let mut rows = self.locked_rows.lock();
        rows.retain(|_, t| *t > now);
        let key = (String::new(), client.to_string());
        if rows.contains_key(&key) {
            return false;
        }
        if rows.len() >= LOCKED_ROWS_CAP {
            tracing::warn!(
                client,
                "refused login not ledgered: too many clients locked out at once"
            );
            return false;
        }
        rows.insert(key, now + until);
        true
    }

    pub fn logout(
        &self,
        principal: &Principal,
        token: &str,
        client: &str,
    ) -> Result<(), AccountError> {
        self.ledger.append(Entry {
            kind: Kind::Logout,
            actor: principal.user.clone(),
            subject: "session".into(),
            client: client.into(),
            ..Entry::default()
        })?;
        self.directory.logout(token)?;
        Ok(())
    }

    /// A user change: its row first, then the change; a change the directory refuses gets a second row saying
    /// so, so that the ledger never reads as if it had happened.
    fn changed<T>(
        &self,
        actor: &Principal,
        client: &str,
        name: &str,
        what: serde_json::Value,
        change: impl FnOnce() -> Result<T, AccessError>,
    ) -> Result<T, AccountError> {
        self.ledger
            .append(user_entry(actor, client, name, what.clone()))?;
        change().map_err(|e| {
            let mut refused = what;
            refused["outcome"] = "refused".into();
            refused["error"] = e.to_string().into();
            if let Err(le) = self.ledger.append(user_entry(actor, client, name, refused)) {
                tracing::error!("ledger: a refused user change was not recorded: {le}");
            }
            e.into()
        })
    }

    fn require(&self, p: &Principal, perm: Permission) -> Result<(), AccountError> {
        p.require(perm)
            .map_err(|e| AccountError::Denied(e.to_string()))
    }

    pub fn list(&self, actor: &Principal) -> Result<Vec<User>, AccountError> {
        self.require(actor, Permission::ManageUsers)?;
        Ok(self.directory.list()?)
    }

    pub fn add(
        &self,
        actor: &Principal,
        client: &str,
        name: &str,
        role: Role,
        password: &Password,
        person_id: Option<&str>,
    ) -> Result<User, AccountError> {
        self.require(actor, Permission::ManageUsers)?;
        self.changed(
            actor,
            client,
            name,
            serde_json::json!({"change": "add", "role": role, "person_id": person_id}),
            || self.directory.add_user(name, role, password, person_id),
        )
    }

    /// The first manager, made on the host when the directory is empty (there is no default account).
    pub fn bootstrap(
        &self,
        name: &str,
        password: &Password,
        person_id: Option<&str>,
    ) -> Result<User, AccountError> {
        if !self.directory.is_empty()? {
            return Err(AccountError::Denied(
                "users exist already: log in as a manager to add more".into(),
            ));
        }
        self.ledger.append(Entry {
            kind: Kind::UserChange,
            actor: name.into(),
            subject: format!("user {name}"),
            purpose: "first manager, created on the host".into(),
            client: "cli".into(),
            manager: name.into(),
            detail: serde_json::json!({"change": "bootstrap", "role": Role::Manager, "person_id": person_id}),
            ..Entry::default()
        })?;
        let user = self
            .directory
            .add_user(name, Role::Manager, password, person_id)?;
        // They chose this password themselves: their share key of the sealed key is made now.
        self.directory.make_own_share_key(name, password)?;
        Ok(user)
    }

    /// Disables a user. A manager whose share the sealed key cannot be opened without is refused unless
    /// `lockout` accepts losing it (the row says so).
    pub fn disable(
        &self,
        actor: &Principal,
        client: &str,
        name: &str,
        lockout: SealedLockout,
    ) -> Result<User, AccountError> {
        self.require(actor, Permission::ManageUsers)?;
        self.changed(
            actor,
            client,
            name,
            with_lockout(serde_json::json!({"change": "disable"}), lockout),
            || self.directory.disable_with(name, lockout),
        )
    }

    pub fn enable(
        &self,
        actor: &Principal,
        client: &str,
        name: &str,
    ) -> Result<User, AccountError> {
        self.require(actor, Permission::ManageUsers)?;
        self.changed(
            actor,
            client,
            name,
            serde_json::json!({"change": "enable"}),
            || self.directory.enable(name),
        )
    }

    /// A manager sets anyone's password; every user may set their own, giving the current one (a stolen
    /// session alone cannot take the account over). Someone else's reset drops their share of the sealed key:
    /// refused where the key could then never be opened, unless `lockout` accepts it.
    pub fn set_password(
        &self,
        actor: &Principal,
        client: &str,
        name: &str,
        password: &Password,
        current: Option<&Password>,
        lockout: SealedLockout,
    ) -> Result<User, AccountError> {
        let own = actor.user == name;
        // One's own change keeps one's share: nothing to accept, and the row does not say so.
        let lockout = if own { SealedLockout::Refuse } else { lockout };
        if own {
            let current = current.ok_or_else(|| {
                AccountError::Denied(
                    "changing your own password needs your current password".into(),
                )
            })?;
            // Guessing it is throttled like a login, and a wrong guess is a row.
            let throttle = self.directory.throttle();
            if let Err(r) = throttle.check(name, client) {
                return Err(AccountError::Throttled(
                    (r.ms.max(0) as u64).div_ceil(1000).max(1),
                ));
            }
            if self.directory.check_password(name, current).is_err() {
                throttle.failed(name, client);
                self.ledger.append(user_entry(
                    actor,
                    client,
                    name,
                    serde_json::json!({"change": "password", "outcome": "refused", "error": "wrong current password"}),
                ))?;
                return Err(AccountError::Denied("the current password is wrong".into()));
            }
        } else {
            self.require(actor, Permission::ManageUsers)?;
        }
        // Changing one's own password keeps the session it is done from; every other session ends.
        self.changed(
            actor,
            client,
            name,
            with_lockout(
                serde_json::json!({"change": "password", "own": own}),
                lockout,
            ),
            || match current.filter(|_| own) {
                Some(cur) => {
                    self.directory
                        .set_own_password(name, cur, password, Some(&actor.session))
                }
                None => self.directory.reset_password(name, password, None, lockout),
            },
        )
    }

    pub fn set_role(
        &self,
        actor: &Principal,
        client: &str,
        name: &str,
        role: Role,
        lockout: SealedLockout,
    ) -> Result<User, AccountError> {
        self.require(actor, Permission::ManageUsers)?;
        self.changed(
            actor,
            client,
            name,
            with_lockout(serde_json::json!({"change": "role", "role": role}), lockout),
            || self.directory.set_role_with(name, role, lockout),
        )
    }

    pub fn link(
        &self,
        actor: &Principal,
        client: &str,
        name: &str,
        person_id: Option<&str>,
    ) -> Result<User, AccountError> {
        self.require(actor, Permission::ManageUsers)?;
        self.changed(
            actor,
            client,
            name,
            serde_json::json!({"change": "link", "person_id": person_id}),
            || self.directory.link(name, person_id),
        )
    }
}

/// A login name as the ledger shows it: an attacker's 10 kB or binary "name" is cut and escaped, so failed
/// logins cannot flood or forge the ledger's columns.
fn shown_name(name: &str) -> String {
    let cut: String = name.chars().take(64).collect();
    cut.escape_debug().to_string()
}

/// A change's row detail, saying so where it was allowed to lose the sealed key.
fn with_lockout(mut what: serde_json::Value, lockout: SealedLockout) -> serde_json::Value {
    if lockout == SealedLockout::Accept {
        what["sealed_lockout"] = "accepted".into();
    }
    what
}
