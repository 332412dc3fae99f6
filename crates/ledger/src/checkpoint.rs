//! Signed checkpoints: from time to time the ledger's head (row number and hash) is signed with an Ed25519
//! key and appended as one JSON line to a log that can live outside the data folder. Someone who can write
//! the database can recompute every hash after an edit, or cut the newest rows off; they cannot sign a
//! matching checkpoint without the key, so `verify` catches both against the last signed head.

use crate::LedgerError;
use ed25519_dalek::{Signer, Verifier};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The Ed25519 key that signs checkpoints. Its Debug shows the public half only.
pub struct SigningKey {
    key: ed25519_dalek::SigningKey,
    path: PathBuf,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("path", &self.path)
            .field("public", &self.public_hex())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Creates a new random key in a new file (mode 0600); an existing file is never overwritten.
    pub fn init(path: &Path) -> Result<SigningKey, LedgerError> {
        let err = |reason: String| LedgerError::Key {
            path: path.display().to_string(),
            reason,
        };
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| err(format!("no randomness: {e}")))?;
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    err("already exists; refusing to overwrite a signing key".into())
                } else {
                    err(e.to_string())
                }
            })?;
        let text = format!("{}\n", hex::encode(key.as_bytes()));
        f.write_all(text.as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(|e| err(e.to_string()))?;
        sync_parent(path);
        Ok(SigningKey {
            key,
            path: path.to_path_buf(),
        })
    }

    /// Loads a key made by `init`; refuses a file that group or others may read or write.
    pub fn load(path: &Path) -> Result<SigningKey, LedgerError> {
        let err = |reason: String| LedgerError::Key {
            path: path.display().to_string(),
            reason,
        };
        let meta = std::fs::metadata(path).map_err(|e| err(e.to_string()))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(err(format!(
                "is open to group or others (mode {mode:03o}); chmod 600 it"
            )));
        }
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let seed: [u8; 32] = hex::decode(text.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| err("is not a 64-hex-digit Ed25519 key".into()))?;
        Ok(SigningKey {
            key: ed25519_dalek::SigningKey::from_bytes(&seed),
            path: path.to_path_buf(),
        })
    }

    /// The public key, hex; what a checkpoint log is pinned to.
    pub fn public_hex(&self) -> String {
        hex::encode(self.key.verifying_key().as_bytes())
    }
}

/// One signed head.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub seq: u64,
    pub hash: String,
    pub at_ms: i64,
    /// Hex Ed25519 public key.
    pub public_key: String,
    /// Hex Ed25519 signature over `seq`, `hash` and `at_ms`.
    pub signature: String,
}

/// Names what is signed, so the signature cannot be replayed as some other message of the same key.
const CHECKPOINT_DOMAIN: &[u8] = b"garim-ledger-checkpoint-v1";

fn message(seq: u64, hash: &str, at_ms: i64) -> Vec<u8> {
    let mut m = Vec::with_capacity(CHECKPOINT_DOMAIN.len() + 24 + hash.len());
    m.extend_from_slice(CHECKPOINT_DOMAIN);
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(&at_ms.to_be_bytes());
    m.extend_from_slice(&(hash.len() as u64).to_be_bytes());
    m.extend_from_slice(hash.as_bytes());
    m
}

/// The checkpoints that verify, and the first line that does not (1-based) with what is wrong with it.
pub(crate) type Checked = (Vec<Checkpoint>, Option<(usize, String)>);

/// The JSON-lines file of checkpoints.
#[derive(Clone, Debug)]
pub struct CheckpointLog {
    path: PathBuf,
    /// The public key every line must carry; without it, every line must carry line 1's.
    trusted: Option<String>,
}

impl CheckpointLog {
    pub fn new(path: impl Into<PathBuf>) -> CheckpointLog {
        CheckpointLog {
            path: path.into(),
            trusted: None,
        }
    }

    /// Accepts only checkpoints signed by this public key (hex), so a forger cannot re-sign the log with a
    /// key of their own.
    pub fn trusting(mut self, public_hex: &str) -> Result<CheckpointLog, LedgerError> {
        let valid = hex::decode(public_hex)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .is_some_and(|b| ed25519_dalek::VerifyingKey::from_bytes(&b).is_ok());
        if !valid {
            return Err(LedgerError::Invalid(format!(
                "trusted checkpoint key {public_hex:?} is not a hex Ed25519 public key"
            )));
        }
        self.trusted = Some(public_hex.to_ascii_lowercase());
        Ok(self)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Signs and appends one checkpoint, fsync'ed before it returns (the file is created 0600).
    pub fn append(
        &self,
        key: &SigningKey,
        seq: u64,
        hash: &str,
        at_ms: i64,
    ) -> Result<Checkpoint, LedgerError> {
        let public_key = key.public_hex();
        if let Some(trusted) = self.trusted.as_deref().filter(|t| *t != public_key) {
            return Err(LedgerError::Key {
                path: key.path.display().to_string(),
                reason: format!("public key {public_key} is not the log's trusted key {trusted}"),
            });
        }
        let signature = hex::encode(key.key.sign(&message(seq, hash, at_ms)).to_bytes());
        let cp = Checkpoint {
            seq,
            hash: hash.to_string(),
            at_ms,
            public_key,
            signature,
        };
        let io = |e| LedgerError::io(&self.path, e);
        let created = !self.path.exists();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(&self.path)
            .map_err(io)?;
        let mut line =
            serde_json::to_string(&cp).map_err(|e| LedgerError::Invalid(e.to_string()))?;
        line.push('\n');
        // One write of the whole line: appenders never interleave inside a line.
        f.write_all(line.as_bytes())
            .and_then(|()| f.sync_data())
            .map_err(io)?;
        if created {
            sync_parent(&self.path);
        }
        Ok(cp)
    }

    /// Every checkpoint, each signature verified; the first bad line is an error naming it.
    pub fn read(&self) -> Result<Vec<Checkpoint>, LedgerError> {
        let (cps, bad) = self.read_checked()?;
        match bad {
            None => Ok(cps),
            Some((line, why)) => Err(LedgerError::Checkpoint {
                path: self.path.display().to_string(),
                line,
                why,
            }),
        }
    }

    pub fn last(&self) -> Result<Option<Checkpoint>, LedgerError> {
        Ok(self.read()?.pop())
    }

    /// The checkpoints before the first bad line, and that line (1-based) with what is wrong.
    pub(crate) fn read_checked(&self) -> Result<Checked, LedgerError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(LedgerError::io(&self.path, e)),
        };
        let mut out: Vec<Checkpoint> = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let expected = self
                .trusted
                .as_deref()
                .or(out.first().map(|c| c.public_key.as_str()));
            match check_line(line, expected, out.last()) {
                Ok(cp) => out.push(cp),
                Err(why) => return Ok((out, Some((i + 1, why)))),
            }
        }
        Ok((out, None))
    }
}

fn check_line(
    line: &str,
    expected_key: Option<&str>,
    previous: Option<&Checkpoint>,
) -> Result<Checkpoint, String> {
    let cp: Checkpoint =
        serde_json::from_str(line).map_err(|e| format!("not a checkpoint record: {e}"))?;
    if let Some(k) = expected_key.filter(|k| !k.eq_ignore_ascii_case(&cp.public_key)) {
        return Err(format!("signed by key {} instead of {k}", cp.public_key));
    }
    let public: [u8; 32] = hex::decode(&cp.public_key)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| format!("public key {:?} is not 32 hex bytes", cp.public_key))?;
    let public = ed25519_dalek::VerifyingKey::from_bytes(&public)
        .map_err(|_| format!("public key {} is not an Ed25519 key", cp.public_key))?;
    let signature: [u8; 64] = hex::decode(&cp.signature)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| format!("signature {:?} is not 64 hex bytes", cp.signature))?;
    public
        .verify(
            &message(cp.seq, &cp.hash, cp.at_ms),
            &ed25519_dalek::Signature::from_bytes(&signature),
        )
        .map_err(|_| format!("the signature over row {} does not verify", cp.seq))?;
    if let Some(prev) = previous.filter(|p| p.seq > cp.seq) {
        return Err(format!(
            "row {} comes after a checkpoint of row {}",
            cp.seq, prev.seq
        ));
    }
    Ok(cp)
}

/// Makes a new file's name durable. Best effort: the data itself is already synced.
fn sync_parent(path: &Path) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("garim-ledger-cp-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn key_file_is_private_and_never_overwritten() {
        let d = dir("init");
        let p = d.join("ledger.key");
        let k = SigningKey::init(&p).unwrap();
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let e = SigningKey::init(&p).unwrap_err().to_string();
        assert!(
            e.contains("ledger.key") && e.contains("refusing to overwrite"),
            "{e}"
        );
        assert_eq!(SigningKey::load(&p).unwrap().public_hex(), k.public_hex());
        assert!(!format!("{k:?}").contains(&hex::encode(k.key.as_bytes())));
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        let e = SigningKey::load(&p).unwrap_err().to_string();
        assert!(e.contains("ledger.key") && e.contains("640"), "{e}");
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn altered_checkpoint_line_fails_its_signature() {
        let d = dir("sig");
        let k = SigningKey::init(&d.join("k")).unwrap();
        let log = CheckpointLog::new(d.join("cp.jsonl"));
        log.append(&k, 3, &"a".repeat(64), 10).unwrap();
        log.append(&k, 7, &"b".repeat(64), 20).unwrap();
        assert_eq!(log.read().unwrap().len(), 2);
        assert_eq!(log.last().unwrap().unwrap().seq, 7);
        let text = std::fs::read_to_string(log.path()).unwrap();
        std::fs::write(log.path(), text.replace("\"seq\":7", "\"seq\":9")).unwrap();
        let e = log.read().unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("does not verify"), "{e}");
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn log_pinned_to_a_key_refuses_another_signer() {
        let d = dir("pin");
        let mine = SigningKey::init(&d.join("mine")).unwrap();
        let theirs = SigningKey::init(&d.join("theirs")).unwrap();
        let open = CheckpointLog::new(d.join("cp.jsonl"));
        open.append(&theirs, 1, &"c".repeat(64), 1).unwrap();
        let pinned = open.clone().trusting(&mine.public_hex()).unwrap();
        let e = pinned.read().unwrap_err().to_string();
        assert!(
            e.contains("line 1") && e.contains(&mine.public_hex()),
            "{e}"
        );
        assert!(pinned.append(&theirs, 2, &"d".repeat(64), 2).is_err());
        // Unpinned, a second signer is refused after line 1's.
        open.append(&mine, 2, &"d".repeat(64), 2).unwrap();
        let e = open.read().unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("instead of"), "{e}");
        std::fs::remove_dir_all(d).unwrap();
    }
}
