//! The sealed key in the managers' hands: splitting it among them (`garim keys sealed-init`), re-splitting it
//! when managers change (which takes k of them), and the shares held in memory while an opening collects its
//! approvals. The key itself exists only inside [`open_for_one_job`] and [`reshare`], and is zeroized after.

use crate::records::Records;
use access::Principal;
use anyhow::{Result, anyhow};
use sha2::Digest;
use std::collections::HashMap;
use zeroize::Zeroizing;

/// Shares given by approving managers, per opening, in memory only (a restart forgets them: the managers
/// approve again).
#[derive(Default)]
pub struct Held(parking_lot::Mutex<HashMap<String, Vec<custody::Share>>>);

impl Held {
    /// Adds a share; returns how many distinct managers' shares the opening now holds.
    pub fn add(&self, opening: &str, share: custody::Share) -> usize {
        let mut m = self.0.lock();
        let v = m.entry(opening.to_string()).or_default();
        if !v.iter().any(|s| s.holder() == share.holder()) {
            v.push(share);
        }
        v.len()
    }

    pub fn has(&self, opening: &str, holder: &str) -> bool {
        self.0
            .lock()
            .get(opening)
            .is_some_and(|v| v.iter().any(|s| s.holder() == holder))
    }

    pub fn take(&self, opening: &str) -> Vec<custody::Share> {
        self.0.lock().remove(opening).unwrap_or_default()
    }
}

/// Rebuilds the key from the shares, runs one job with it, and forgets it; returns the job's file with its
/// SHA-256.
pub fn open_for_one_job(
    shares: Vec<custody::Share>,
    k: usize,
    sealed_public: &[u8; 32],
    job: impl FnOnce(&vault::Grant) -> Result<server::api::ExportFile>,
) -> Result<(server::api::ExportFile, String)> {
    let secret = custody::combine(&shares, k, sealed_public).map_err(|e| anyhow!("{e}"))?;
    drop(shares);
    let grant = vault::Grant::from_bytes(&secret);
    drop(secret);
    let file = job(&grant)?;
    drop(grant);
    let sha = sha256_file(&file.path)?;
    Ok((file, sha))
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

/// A new sealed key, split k-of-n among the managers who hold share keys; returns its public key (hex) for
/// `storage.sealed_public_key`. The private key is never written anywhere.
pub fn sealed_init(records: &Records, actor: &Principal, k: usize) -> Result<String> {
    actor
        .require(access::Permission::ManageUsers)
        .map_err(|e| anyhow!("{e}"))?;
    let holders = records.directory().share_holders()?;
    let secret = Zeroizing::new(random32()?);
    let public = custody::public_of(&secret);
    let shares = custody::split(&secret, k, &holders).map_err(|e| {
        anyhow!(
            "{e}; managers with a share key: {} (a manager gets one by setting their own password)",
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
    sealed_public: &[u8; 32],
    k_new: usize,
    approvers: &[(String, access::Password)],
) -> Result<Vec<String>> {
    actor
        .require(access::Permission::ManageUsers)
        .map_err(|e| anyhow!("{e}"))?;
    let dir = records.directory();
    let custody = dir
        .custody_of(sealed_public)?
        .ok_or_else(|| anyhow!("this sealed key has no shares: run garim keys sealed-init"))?;
    let mut shares = Vec::new();
    for (name, pw) in approvers {
        if dir.check_password(name, pw).is_err() {
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
    let holders = dir.share_holders()?;
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
