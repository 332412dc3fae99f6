//! Accountable account operations: each login, failed login, logout and user change is done by a named
//! principal allowed by role, and writes its 관리대장 row in the same step — the row first, so no path does
//! the action without it (an action that then fails leaves a row saying so). The HTTP API and the CLI both
//! call these; nothing here knows HTTP.

use crate::{
    AccessError, AuthError, Directory, Password, Permission, Principal, Role, SessionKind, Token,
    User,
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
}

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
        Accounts { directory, ledger }
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
                self.ledger.append(Entry {
                    kind: Kind::LoginFailed,
                    actor: shown_name(name),
                    subject: "session".into(),
                    purpose: e.to_string(),
                    client: client.into(),
                    ..Entry::default()
                })?;
                match e {
                    AuthError::Throttled(r) => Err(AccountError::Throttled(
                        (r.ms.max(0) as u64).div_ceil(1000).max(1),
                    )),
                    e => Err(e.into()),
                }
            }
        }
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
        self.ledger.append(user_entry(
            actor,
            client,
            name,
            serde_json::json!({"change": "add", "role": role, "person_id": person_id}),
        ))?;
        Ok(self.directory.add_user(name, role, password, person_id)?)
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
        Ok(self
            .directory
            .add_user(name, Role::Manager, password, person_id)?)
    }

    pub fn disable(
        &self,
        actor: &Principal,
        client: &str,
        name: &str,
    ) -> Result<User, AccountError> {
        self.require(actor, Permission::ManageUsers)?;
        self.ledger.append(user_entry(
            actor,
            client,
            name,
            serde_json::json!({"change": "disable"}),
        ))?;
        Ok(self.directory.disable(name)?)
    }

    pub fn enable(
        &self,
        actor: &Principal,
        client: &str,
        name: &str,
    ) -> Result<User, AccountError> {
        self.require(actor, Permission::ManageUsers)?;
        self.ledger.append(user_entry(
            actor,
            client,
            name,
            serde_json::json!({"change": "enable"}),
        ))?;
        Ok(self.directory.enable(name)?)
    }

    /// A manager sets anyone's password; every user may set their own.
    pub fn set_password(
        &self,
        actor: &Principal,
        client: &str,
        name: &str,
        password: &Password,
    ) -> Result<User, AccountError> {
        let own = actor.user == name;
        if !own {
            self.require(actor, Permission::ManageUsers)?;
        }
        self.ledger.append(user_entry(
            actor,
            client,
            name,
            serde_json::json!({"change": "password"}),
        ))?;
        // Changing one's own password keeps the session it is done from; every other session ends.
        let keep = own.then_some(&actor.session);
        Ok(self.directory.set_password_keeping(name, password, keep)?)
    }

    pub fn set_role(
        &self,
        actor: &Principal,
        client: &str,
        name: &str,
        role: Role,
    ) -> Result<User, AccountError> {
        self.require(actor, Permission::ManageUsers)?;
        self.ledger.append(user_entry(
            actor,
            client,
            name,
            serde_json::json!({"change": "role", "role": role}),
        ))?;
        Ok(self.directory.set_role(name, role)?)
    }

    pub fn link(
        &self,
        actor: &Principal,
        client: &str,
        name: &str,
        person_id: Option<&str>,
    ) -> Result<User, AccountError> {
        self.require(actor, Permission::ManageUsers)?;
        self.ledger.append(user_entry(
            actor,
            client,
            name,
            serde_json::json!({"change": "link", "person_id": person_id}),
        ))?;
        Ok(self.directory.link(name, person_id)?)
    }
}

/// A login name as the ledger shows it: an attacker's 10 kB or binary "name" is cut and escaped, so failed
/// logins cannot flood or forge the ledger's columns.
fn shown_name(name: &str) -> String {
    let cut: String = name.chars().take(64).collect();
    cut.escape_debug().to_string()
}
