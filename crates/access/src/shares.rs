//! The managers' shares of the sealed key, kept beside the users they belong to.
//!
//! - Every manager who has chosen their own password has a *share key*: an X25519 key pair whose private half
//!   is stored only locked under that password (argon2id, crate custody).
//! - A password set by someone else (a new account, an administrator's reset) is known to that someone, so it
//!   gets no share key, and any old share of that user is dropped: a manager holds a share only after setting
//!   their own password. Changing one's own password re-locks the same key, so the share survives.
//! - The shares of the sealed key are sealed to the holders' share keys; opening one takes its holder's
//!   password, and rebuilding the key takes k of them.

use crate::directory::Directory;
use crate::secret::Password;
use crate::store::{Arg, Mode, Tx};
use crate::{AccessError, Result, Role};

/// The custody of one sealed key: the threshold and who holds a share.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Custody {
    pub k: usize,
    pub holders: Vec<String>,
}

fn custody_err(e: custody::CustodyError) -> AccessError {
    AccessError::Custody(e.to_string())
}

fn public32(hex_text: &str, shown: &str) -> Result<[u8; 32]> {
    hex::decode(hex_text)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| AccessError::Store {
            what: "a share key's public key is not 32 bytes of hex".into(),
            shown: shown.to_string(),
        })
}

pub(crate) const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS access_share_keys (
        name TEXT PRIMARY KEY, public TEXT NOT NULL, locked TEXT NOT NULL, updated_ms BIGINT NOT NULL);
    CREATE TABLE IF NOT EXISTS access_shares (
        sealed_public TEXT NOT NULL, name TEXT NOT NULL, k BIGINT NOT NULL, share TEXT NOT NULL,
        created_ms BIGINT NOT NULL, PRIMARY KEY (sealed_public, name));";

/// A share key prepared outside the transaction (argon2id takes tens of milliseconds).
pub(crate) struct LockedKey {
    public: String,
    locked: String,
}

impl LockedKey {
    /// The user's own key locked under `new`: the existing one re-locked when `current` opens it (its shares
    /// stay valid), else a fresh key (old shares are dropped when it is stored).
    pub(crate) fn own(
        dir: &Directory,
        name: &str,
        current: Option<&Password>,
        new: &Password,
    ) -> Result<(LockedKey, bool)> {
        let existing = dir.share_key_row(name)?;
        let kept = match (existing, current) {
            (Some((public, locked)), Some(cur)) => {
                let p = public32(&public, dir.shown())?;
                match custody::ShareKey::unlock(name, &p, &locked, cur.expose().as_bytes()) {
                    Ok(k) => Some(k),
                    Err(e) => {
                        // The current password was checked, so the stored key is not under it: it is replaced,
                        // and the user's shares go with it (a re-split gives them a new one).
                        tracing::warn!(
                            user = name,
                            "share key not opened ({e}): a new one is made; its shares are dropped"
                        );
                        None
                    }
                }
            }
            _ => None,
        };
        let same = kept.is_some();
        let key = match kept {
            Some(k) => k,
            None => custody::ShareKey::new().map_err(custody_err)?,
        };
        Ok((
            LockedKey {
                public: hex::encode(key.public()),
                locked: key
                    .lock(name, new.expose().as_bytes())
                    .map_err(custody_err)?,
            },
            same,
        ))
    }

    /// Stores the key; a new key (not `same`) drops the user's old shares, which it cannot open.
    pub(crate) fn store_in(&self, tx: &mut dyn Tx, name: &str, same: bool, now: i64) -> Result<()> {
        if !same {
            drop_shares_in(tx, name)?;
        }
        tx.execute(
            "DELETE FROM access_share_keys WHERE name = $1",
            &[Arg::Text(name)],
        )?;
        tx.execute(
            "INSERT INTO access_share_keys (name, public, locked, updated_ms) VALUES ($1, $2, $3, $4)",
            &[Arg::Text(name), Arg::Text(&self.public), Arg::Text(&self.locked), Arg::Int(now)],
        )?;
        Ok(())
    }
}

/// Whether a change may leave a sealed key with fewer than k managers able to open it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SealedLockout {
    /// Refused, naming the key and who holds the rest (the default).
    #[default]
    Refuse,
    /// Done: the sealed recordings under that key can never be opened again (a new key, `garim keys
    /// sealed-init`, seals what is recorded from then on).
    Accept,
}

/// Refuses (unless accepted) a change that takes `name` out of those who can open a sealed key (their share
/// dropped, or they are no longer an enabled manager) where exactly k − 1 others could then: with it, k can
/// open the key; without it, nobody ever can. Where it was beyond reach already, nothing is refused.
pub(crate) fn check_lockout_in(tx: &mut dyn Tx, name: &str, lockout: SealedLockout) -> Result<()> {
    if lockout == SealedLockout::Accept {
        return Ok(());
    }
    let held = tx.query(
        "SELECT sealed_public, k FROM access_shares WHERE name = $1 ORDER BY sealed_public",
        &[Arg::Text(name)],
    )?;
    for r in held {
        let (key, k) = (r.text(0), r.int(1).max(0) as usize);
        let others: Vec<String> = tx
            .query(
                "SELECT s.name FROM access_shares s JOIN access_users u ON u.name = s.name
                 WHERE s.sealed_public = $1 AND s.name <> $2 AND u.role = $3 AND u.disabled = 0
                 ORDER BY s.name",
                &[
                    Arg::Text(&key),
                    Arg::Text(name),
                    Arg::Text(Role::Manager.as_str()),
                ],
            )?
            .iter()
            .map(|r| r.text(0))
            .collect();
        if others.len() + 1 == k {
            return Err(AccessError::SealedLockout {
                name: name.to_string(),
                key: key.chars().take(16).collect(),
                k,
                others: others.len(),
                list: if others.is_empty() {
                    "nobody".into()
                } else {
                    others.join(", ")
                },
            });
        }
    }
    Ok(())
}

/// The user's share key and shares are gone (a password someone else set, or a deleted account).
pub(crate) fn drop_key_in(tx: &mut dyn Tx, name: &str) -> Result<()> {
    tx.execute(
        "DELETE FROM access_share_keys WHERE name = $1",
        &[Arg::Text(name)],
    )?;
    drop_shares_in(tx, name)
}

fn drop_shares_in(tx: &mut dyn Tx, name: &str) -> Result<()> {
    tx.execute(
        "DELETE FROM access_shares WHERE name = $1",
        &[Arg::Text(name)],
    )?;
    Ok(())
}

impl Directory {
    fn share_key_row(&self, name: &str) -> Result<Option<(String, String)>> {
        self.store().tx(Mode::Read, |tx| {
            Ok(tx
                .query(
                    "SELECT public, locked FROM access_share_keys WHERE name = $1",
                    &[Arg::Text(name)],
                )?
                .first()
                .map(|r| (r.text(0), r.text(1))))
        })
    }

    /// The first manager, who chose their password on the host, gets a share key at once.
    pub fn make_own_share_key(&self, name: &str, password: &Password) -> Result<()> {
        let (key, same) = LockedKey::own(self, name, None, password)?;
        let now = self.now_ms();
        self.store()
            .tx(Mode::Exclusive, |tx| key.store_in(tx, name, same, now))
    }

    /// Enabled managers with a share key of their own: who a sealed key can be split among.
    pub fn share_holders(&self) -> Result<Vec<(String, [u8; 32])>> {
        let rows = self.store().tx(Mode::Read, |tx| {
            tx.query(
                "SELECT k.name, k.public FROM access_share_keys k JOIN access_users u ON u.name = k.name
                 WHERE u.role = $1 AND u.disabled = 0 ORDER BY k.name",
                &[Arg::Text(Role::Manager.as_str())],
            )
        })?;
        rows.iter()
            .map(|r| Ok((r.text(0), public32(&r.text(1), self.shown())?)))
            .collect()
    }

    /// Replaces every share of `sealed_public` with these (one transaction: the old split stays whole until
    /// the new one is).
    pub fn put_shares(
        &self,
        sealed_public: &[u8; 32],
        k: usize,
        shares: &[(String, Vec<u8>)],
    ) -> Result<()> {
        let sp = hex::encode(sealed_public);
        let now = self.now_ms();
        self.store().tx(Mode::Exclusive, |tx| {
            tx.execute(
                "DELETE FROM access_shares WHERE sealed_public = $1",
                &[Arg::Text(&sp)],
            )?;
            for (name, share) in shares {
                tx.execute(
                    "INSERT INTO access_shares (sealed_public, name, k, share, created_ms)
                     VALUES ($1, $2, $3, $4, $5)",
                    &[
                        Arg::Text(&sp),
                        Arg::Text(name),
                        Arg::Int(k as i64),
                        Arg::Text(&hex::encode(share)),
                        Arg::Int(now),
                    ],
                )?;
            }
            Ok(())
        })
    }

    /// Who holds a share of the sealed key, and how many are needed; None when it was never split.
    pub fn custody_of(&self, sealed_public: &[u8; 32]) -> Result<Option<Custody>> {
        let rows = self.store().tx(Mode::Read, |tx| {
            tx.query(
                "SELECT name, k FROM access_shares WHERE sealed_public = $1 ORDER BY name",
                &[Arg::Text(&hex::encode(sealed_public))],
            )
        })?;
        Ok(rows.first().map(|r| Custody {
            k: r.int(1) as usize,
            holders: rows.iter().map(|r| r.text(0)).collect(),
        }))
    }

    /// Opens `name`'s share of the sealed key with `name`'s password (the caller has checked the password
    /// and the role, and throttles guesses). The share stays in memory only.
    pub fn open_share(
        &self,
        name: &str,
        password: &Password,
        sealed_public: &[u8; 32],
    ) -> Result<custody::Share> {
        let none = || AccessError::Custody(format!("`{name}` holds no share of the sealed key"));
        let (public, locked) = self.share_key_row(name)?.ok_or_else(none)?;
        let sealed = self
            .store()
            .tx(Mode::Read, |tx| {
                tx.query(
                    "SELECT share FROM access_shares WHERE sealed_public = $1 AND name = $2",
                    &[Arg::Text(&hex::encode(sealed_public)), Arg::Text(name)],
                )
            })?
            .first()
            .map(|r| r.text(0))
            .ok_or_else(none)?;
        let sealed = hex::decode(sealed).map_err(|_| none())?;
        let key = custody::ShareKey::unlock(
            name,
            &public32(&public, self.shown())?,
            &locked,
            password.expose().as_bytes(),
        )
        .map_err(custody_err)?;
        custody::open_share(&key, name, sealed_public, &sealed).map_err(custody_err)
    }
}
