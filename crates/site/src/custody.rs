//! The sealed key in the managers' hands: splitting it among them (`garim keys sealed-init`), re-splitting it
//! when managers change (which takes k of them), and the shares held in memory while an opening collects its
//! approvals. The key itself exists only inside [`with_rebuilt_key`] and [`reshare`], and is zeroized after.

use crate::records::Records;
use access::Principal;
use anyhow::{Result, anyhow};
use sha2::Digest;
use std::collections::HashMap;
use zeroize::Zeroizing;

/// How long a given share waits in memory for the other approvals; then it is dropped (zeroized) and the
/// manager approves again.
pub const HELD_FOR: std::time::Duration = std::time::Duration::from_secs(600);

/// Shares given by approving managers, per opening, in memory only (a restart forgets them: the managers
/// approve again). A manager's share waits for one opening at a time and for at most [`HELD_FOR`], so shares
/// of the same key given to different openings never sit in memory together for long. [`Held::lock_for`]
/// serialises whole approvals of one opening (check, record, hold, open), so one opening's long export does not
/// hold up the approvals of others.
#[derive(Default)]
pub struct Held {
    shares: parking_lot::Mutex<HashMap<String, Vec<(std::time::Instant, custody::Share)>>>,
    locks: parking_lot::Mutex<HashMap<String, std::sync::Arc<parking_lot::Mutex<()>>>>,
}

impl Held {
    /// The lock of one opening's approvals (the same for every caller while anyone holds it).
    pub fn lock_for(&self, opening: &str) -> std::sync::Arc<parking_lot::Mutex<()>> {
        let mut locks = self.locks.lock();
        locks.retain(|_, l| std::sync::Arc::strong_count(l) > 1);
        locks.entry(opening.to_string()).or_default().clone()
    }

    fn expire(m: &mut HashMap<String, Vec<(std::time::Instant, custody::Share)>>) {
        for v in m.values_mut() {
            v.retain(|(at, _)| at.elapsed() < HELD_FOR);
        }
        m.retain(|_, v| !v.is_empty());
    }

    /// Adds a share; returns how many distinct managers' shares the opening now holds. A manager's share held
    /// for another opening is dropped first (one pending approval each).
    pub fn add(&self, opening: &str, share: custody::Share) -> usize {
        let mut m = self.shares.lock();
        Self::expire(&mut m);
        for (id, v) in m.iter_mut() {
            if id != opening {
                v.retain(|(_, s)| s.holder() != share.holder());
            }
        }
        m.retain(|_, v| !v.is_empty());
        let v = m.entry(opening.to_string()).or_default();
        if !v.iter().any(|(_, s)| s.holder() == share.holder()) {
            v.push((std::time::Instant::now(), share));
        }
        v.len()
    }

    pub fn has(&self, opening: &str, holder: &str) -> bool {
        let mut m = self.shares.lock();
        Self::expire(&mut m);
        m.get(opening)
            .is_some_and(|v| v.iter().any(|(_, s)| s.holder() == holder))
    }

    pub fn take(&self, opening: &str) -> Vec<custody::Share> {
        let mut m = self.shares.lock();
        Self::expire(&mut m);
        m.remove(opening)
            .unwrap_or_default()
            .into_iter()
            .map(|(_, s)| s)
            .collect()
    }
}

/// Rebuilds the key from the shares, runs `job` with it, and forgets it (the shares too).
pub fn with_rebuilt_key<T>(
    shares: Vec<custody::Share>,
    k: usize,
    sealed_public: &[u8; 32],
    job: impl FnOnce(&vault::Grant) -> Result<T>,
) -> Result<T> {
    let secret = custody::combine(&shares, k, sealed_public).map_err(|e| anyhow!("{e}"))?;
    drop(shares);
    let grant = vault::Grant::from_bytes(&secret);
    drop(secret);
    let out = job(&grant);
    drop(grant);
    out
}

pub fn sha256_file(path: &std::path::Path) -> Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = sha2::Sha256::new();
    std::io::copy(&mut f, &mut h)?;
    Ok(hex::encode(h.finalize()))
}

fn custody_row(actor: &Principal, what: &str, detail: serde_json::Value) -> ledger::Entry {
    ledger::Entry {
        kind: ledger::Kind::Custody,
        actor: actor.user.clone(),
        subject: "sealed key".into(),
        purpose: what.into(),
        manager: actor.user.clone(),
        client: "cli".into(),
        detail,
        ..ledger::Entry::default()
    }
}

/// Who may hold a share: enabled managers with a share key of their own, each linked to a different
/// 관리책임자 the policy (and so the notice) names. One person cannot hold two shares through a second account.
pub fn eligible_holders(
    records: &Records,
    cfg: &policy::SiteConfig,
) -> Result<Vec<(String, [u8; 32])>> {
    let dir = records.directory();
    let mut out = Vec::new();
    let mut people: Vec<String> = Vec::new();
    let mut unlinked = Vec::new();
    for (name, public) in dir.share_holders()? {
        let person = dir.get(&name)?.and_then(|u| u.person_id);
        let named = person.as_deref().is_some_and(|p| {
            cfg.people
                .iter()
                .any(|x| x.id == p && x.role == policy::legal::Role::Manager)
        });
        match person {
            Some(p) if named => {
                if people.contains(&p) {
                    return Err(anyhow!(
                        "two manager accounts are linked to the policy's person {p:?}: one person holds one share; \
                         unlink or disable one"
                    ));
                }
                people.push(p);
                out.push((name, public));
            }
            _ => unlinked.push(name),
        }
    }
    if !unlinked.is_empty() {
        tracing::warn!(
            "managers not linked to a 관리책임자 of the policy hold no share: {}",
            unlinked.join(", ")
        );
    }
    Ok(out)
}

/// A new sealed key, split k-of-n among the eligible managers; returns its public key (hex) for
/// `storage.sealed_public_key`. The private key is never written anywhere. Refused while the policy names a
/// key that is already split (re-split that one: it takes k managers).
pub fn sealed_init(
    records: &Records,
    actor: &Principal,
    cfg: &policy::SiteConfig,
) -> Result<String> {
    actor
        .require(access::Permission::ManageUsers)
        .map_err(|e| anyhow!("{e}"))?;
    let k = cfg.requests.sealed_threshold as usize;
    if let Some(text) = cfg.storage.sealed_public_key.as_deref() {
        let current = vault::SealedPublicKey::parse(text)?;
        if records.directory().custody_of(&current.0)?.is_some() {
            return Err(anyhow!(
                "storage.sealed_public_key is already split among managers: re-split it with garim keys sealed-split \
                 (k managers), a new key would leave its recordings to whoever replaced it"
            ));
        }
    }
    let holders = eligible_holders(records, cfg)?;
    let secret = Zeroizing::new(random32()?);
    let public = custody::public_of(&secret);
    let shares = custody::split(&secret, k, &holders).map_err(|e| {
        anyhow!(
            "{e}; eligible managers: {} (a manager is eligible once linked to a 관리책임자 of the policy and after \
             setting their own password)",
            if holders.is_empty() {
                "none".to_string()
            } else {
                holders
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        )
    })?;
    let names: Vec<&str> = holders.iter().map(|(n, _)| n.as_str()).collect();
    // The row first: no split without it.
    records.ledger().append(custody_row(
        actor,
        &format!("sealed key made and split {k}-of-{}", names.len()),
        serde_json::json!({"sealed_public_key": hex::encode(public), "k": k, "holders": names}),
    ))?;
    records.directory().put_shares(&public, k, &shares)?;
    Ok(hex::encode(public))
}

/// Re-splits the sealed key among the managers who hold share keys now: `approvers` (k of the current
/// holders, each with their password) rebuild it; the old shares are replaced in one step.
pub fn reshare(
    records: &Records,
    actor: &Principal,
    cfg: &policy::SiteConfig,
    sealed_public: &[u8; 32],
    approvers: &[(String, access::Password)],
) -> Result<Vec<String>> {
    let k_new = cfg.requests.sealed_threshold as usize;
    actor
        .require(access::Permission::ManageUsers)
        .map_err(|e| anyhow!("{e}"))?;
    let dir = records.directory();
    let custody = dir
        .custody_of(sealed_public)?
        .ok_or_else(|| anyhow!("this sealed key has no shares: run garim keys sealed-init"))?;
    let mut shares = Vec::new();
    let throttle = dir.throttle();
    for (name, pw) in approvers {
        if let Err(r) = throttle.check(name, "cli") {
            return Err(anyhow!(
                "{name}: too many wrong passwords; retry in {} s",
                (r.ms.max(0) as u64).div_ceil(1000).max(1)
            ));
        }
        let manager = dir
            .get(name)?
            .is_some_and(|u| u.role == access::Role::Manager && !u.disabled);
        if !manager {
            return Err(anyhow!(
                "{name} is not an enabled manager: only managers' shares rebuild the key; nothing changed"
            ));
        }
        if dir.check_password(name, pw).is_err() {
            throttle.failed(name, "cli");
            records.ledger().append(custody_row(
                actor,
                "re-split refused: wrong password",
                serde_json::json!({"approver": name}),
            ))?;
            return Err(anyhow!("{name}: wrong password; nothing changed"));
        }
        shares.push(dir.open_share(name, pw, sealed_public)?);
    }
    let secret = custody::combine(&shares, custody.k, sealed_public)
        .map_err(|e| anyhow!("{e}; nothing changed"))?;
    drop(shares);
    let holders = eligible_holders(records, cfg)?;
    let new =
        custody::split(&secret, k_new, &holders).map_err(|e| anyhow!("{e}; nothing changed"))?;
    drop(secret);
    let names: Vec<String> = holders.into_iter().map(|(n, _)| n).collect();
    records.ledger().append(custody_row(
        actor,
        &format!("sealed key re-split {k_new}-of-{}", names.len()),
        serde_json::json!({
            "sealed_public_key": hex::encode(sealed_public), "k": k_new, "holders": names,
            "approvers": approvers.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
            "previous_holders": custody.holders,
        }),
    ))?;
    dir.put_shares(sealed_public, k_new, &new)?;
    Ok(names)
}

fn random32() -> Result<[u8; 32]> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| anyhow!("no randomness: {e}"))?;
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approvals_of_one_opening_wait_for_each_other_not_for_another_openings() {
        let held = Held::default();
        let a = held.lock_for("SA-2026-0001");
        let busy = a.lock();
        assert!(
            held.lock_for("SA-2026-0001").try_lock().is_none(),
            "the same opening waits"
        );
        assert!(
            held.lock_for("SA-2026-0002").try_lock().is_some(),
            "another does not"
        );
        drop(busy);
        drop(a);
        assert!(held.lock_for("SA-2026-0001").try_lock().is_some());
        assert!(
            held.locks.lock().len() <= 1,
            "locks nobody holds are let go"
        );
    }
}
