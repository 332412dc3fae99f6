//! The site's people and its 관리대장: the user directory and the ledger, opened where the vault index is
//! (SQLite files in the storage dir by default, the shared Postgres when the site puts its index there), the
//! Ed25519 key that signs the ledger's checkpoints, and the checkpoint log (`ledger.checkpoint_file`, best on
//! another volume, so that deleting the newest rows is caught; default in the storage dir).
//! The service and the CLI open these the same way.

use crate::vaults::postgres_index;
use access::accounts::Accounts;
use anyhow::{Result, anyhow};
use policy::SiteConfig;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The ledger, the directory and the checkpoint signing of one site.
#[derive(Clone)]
pub struct Records {
    pub accounts: Accounts,
    /// The policy contractor scopes are resolved from: replaced at every applied reload.
    scope_policy: Arc<parking_lot::RwLock<SiteConfig>>,
    pub checkpoints: Arc<ledger::CheckpointLog>,
    signing_key: Arc<ledger::SigningKey>,
    /// Data-subject requests and openings of sealed recordings (`requests/` in the storage dir).
    requests: Arc<requests::Store>,
}

impl Records {
    /// From now on, contractors' cameras follow this policy (their sessions included).
    pub fn set_policy(&self, cfg: &SiteConfig) {
        *self.scope_policy.write() = cfg.clone();
    }

    pub fn ledger(&self) -> &Arc<ledger::Ledger> {
        &self.accounts.ledger
    }

    pub fn directory(&self) -> &Arc<access::Directory> {
        &self.accounts.directory
    }

    pub fn requests(&self) -> &requests::Store {
        &self.requests
    }

    /// Signs the chain head into the checkpoint log (nothing when it has not moved).
    pub fn checkpoint(&self) {
        match self
            .ledger()
            .checkpoint(&self.signing_key, &self.checkpoints)
        {
            Ok(Some(c)) => tracing::debug!(seq = c.seq, "ledger checkpoint signed"),
            Ok(None) => {}
            Err(e) => tracing::error!("ledger checkpoint failed: {e}"),
        }
    }

    /// Verifies the whole chain against the last signed checkpoint; sets `garim_ledger_ok` and logs a break.
    pub fn verify(&self) -> Result<ledger::VerifyReport> {
        let report = self
            .ledger()
            .verify(Some(&self.checkpoints))
            .map_err(|e| anyhow!("ledger: {e}"))?;
        let ok = report.problem.is_none();
        telemetry::metrics().ledger_ok.set(i64::from(ok));
        if let Some(p) = &report.problem {
            tracing::error!("LEDGER BROKEN: {p}");
        }
        Ok(report)
    }
}

/// `ledger.checkpoint_file` of the policy, else `$GARIM_LEDGER_CHECKPOINTS`, else in the storage dir.
fn checkpoint_path(cfg: &SiteConfig, storage: &Path) -> PathBuf {
    cfg.ledger
        .checkpoint_file
        .as_ref()
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("GARIM_LEDGER_CHECKPOINTS").map(PathBuf::from))
        .unwrap_or_else(|| storage.join("ledger-checkpoints.jsonl"))
}

/// Opens (creating on first use) the site's ledger, directory, signing key and checkpoint log.
pub fn open_records(cfg: &SiteConfig) -> Result<Records> {
    let storage = Path::new(&cfg.storage.path);
    std::fs::create_dir_all(storage)
        .map_err(|e| anyhow!("storage.path {}: cannot create: {e}", storage.display()))?;
    let (ledger, directory) = match postgres_index(cfg)? {
        Some(pg) => (
            ledger::Ledger::open_postgres(&pg.url, &pg.shown),
            access::Directory::open_postgres(&pg.url, &pg.shown),
        ),
        None => (
            ledger::Ledger::open_sqlite(&storage.join("ledger.sqlite")),
            access::Directory::open_sqlite(&storage.join("access.sqlite")),
        ),
    };
    let ledger = Arc::new(ledger.map_err(|e| anyhow!("ledger: {e}"))?);
    let scope_policy = Arc::new(parking_lot::RwLock::new(cfg.clone()));
    let scope_of = scope_policy.clone();
    let directory = directory
        .map_err(|e| anyhow!("users: {e}"))?
        .with_scope(Arc::new(move |u: &access::User| {
            contractor_scope(&scope_of.read(), u)
        }));
    let key_path = storage.join("ledger-signing.key");
    let signing_key = if key_path.exists() {
        ledger::SigningKey::load(&key_path)
    } else {
        // Checkpoints signed here but no key: the key was lost (or removed to re-sign a shortened chain):
        // that is for a person to look at, not to paper over with a new key. (A new replica of a shared
        // ledger has rows but no checkpoints of its own yet: it makes its key.)
        let rows = ledger.count().map_err(|e| anyhow!("ledger: {e}"))?;
        let signed_here = std::fs::metadata(checkpoint_path(cfg, storage)).is_ok_and(|m| m.len() > 0);
        if rows > 0 && signed_here {
            return Err(anyhow!(
                "{}: the ledger's signing key is missing but its checkpoints ({}) and {rows} rows are there; \
                 restore the key from its backup (a new key would hide a truncated ledger)",
                key_path.display(),
                checkpoint_path(cfg, storage).display()
            ));
        }
        ledger::SigningKey::init(&key_path)
    }
    .map_err(|e| anyhow!("ledger signing key: {e}"))?;
    let checkpoints = ledger::CheckpointLog::new(checkpoint_path(cfg, storage))
        .trusting(&signing_key.public_hex())
        .map_err(|e| anyhow!("ledger checkpoints: {e}"))?;
    let requests = requests::Store::open(&storage.join("requests")).map_err(|e| anyhow!("{e}"))?;
    Ok(Records {
        requests: Arc::new(requests),
        scope_policy,
        accounts: Accounts::new(Arc::new(directory), ledger),
        checkpoints: Arc::new(checkpoints),
        signing_key: Arc::new(signing_key),
    })
}

/// The cameras a contractor user may see: those of the facilities that list its contractor (exactly as the
/// notice publishes them; every camera of a site without facilities). Users of other roles see every camera
/// (None).
pub fn contractor_scope(
    cfg: &SiteConfig,
    u: &access::User,
) -> Option<std::collections::BTreeSet<String>> {
    if u.role != access::Role::Contractor {
        return None;
    }
    Some(
        u.person_id
            .as_deref()
            .map(|c| cfg.contractor_cameras(c))
            .unwrap_or_default(),
    )
}

/// A user is linked to someone the policy (and so the notice) names: a `people` id, or for a contractor its
/// `contractors` id (a contractor must be linked: it sees only its facilities' cameras).
pub fn check_person(
    cfg: &SiteConfig,
    role: access::Role,
    person: Option<&str>,
) -> Result<(), String> {
    let Some(id) = person else {
        if role == access::Role::Contractor {
            return Err(
                "a contractor user needs its policy `contractors` id (it sees only those facilities' cameras)"
                    .into(),
            );
        }
        return Ok(());
    };
    let (known, table): (Vec<&str>, &str) = if role == access::Role::Contractor {
        (
            cfg.contractors.iter().map(|c| c.id.as_str()).collect(),
            "contractors",
        )
    } else {
        (cfg.people.iter().map(|p| p.id.as_str()).collect(), "people")
    };
    if known.contains(&id) {
        Ok(())
    } else {
        Err(format!(
            "{id:?} is not in the policy's {table} ({}): link the user to someone the notice names",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        ))
    }
}
