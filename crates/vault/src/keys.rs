//! The key hierarchy: a site key (a 0600 key file, or `GARIM_SITE_KEY`) wraps one random data key per camera
//! and day. Destroying a day's wrapped key makes every copy of that day's footage unreadable (crypto-shredding).

use crate::VaultError;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::fmt;
use std::path::Path;

pub const KEY_LEN: usize = 32;

/// Secret key bytes; never printed.
#[derive(Clone)]
pub struct SecretKey([u8; KEY_LEN]);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        // Best effort: do not leave key bytes in freed memory.
        for b in &mut self.0 {
            unsafe { std::ptr::write_volatile(b, 0) };
        }
    }
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).expect("the OS random source works");
    b
}

impl SecretKey {
    pub fn random() -> SecretKey {
        SecretKey(random_bytes())
    }

    pub fn from_bytes(b: &[u8]) -> Option<SecretKey> {
        <[u8; KEY_LEN]>::try_from(b).ok().map(SecretKey)
    }

    pub fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    fn from_text(text: &str, source: &str) -> Result<SecretKey, VaultError> {
        let bad = |reason: &str| VaultError::Key {
            what: source.to_string(),
            reason: reason.to_string(),
        };
        let raw =
            hex::decode(text.trim()).map_err(|_| bad("expected 64 hexadecimal characters"))?;
        let bytes: [u8; KEY_LEN] = raw
            .try_into()
            .map_err(|_| bad("expected 64 hexadecimal characters (32 bytes)"))?;
        Ok(SecretKey(bytes))
    }

    /// The site key from `path` (must not be readable by group or others), or from `GARIM_SITE_KEY` when
    /// `path` is None.
    pub fn load_site_key(path: Option<&Path>) -> Result<SecretKey, VaultError> {
        match path {
            Some(p) => {
                let source = p.display().to_string();
                let meta = std::fs::metadata(p).map_err(|e| VaultError::Key {
                    what: source.clone(),
                    reason: format!("cannot read the key file: {e}; create one with `garim keys init --file {source}`"),
                })?;
                use std::os::unix::fs::PermissionsExt;
                if meta.permissions().mode() & 0o077 != 0 {
                    return Err(VaultError::Key {
                        what: source,
                        reason: format!(
                            "permissions {:o} let others read it; run chmod 600 on it",
                            meta.permissions().mode() & 0o777
                        ),
                    });
                }
                let text = std::fs::read_to_string(p).map_err(|e| VaultError::Key {
                    what: source.clone(),
                    reason: e.to_string(),
                })?;
                SecretKey::from_text(&text, &source)
            }
            None => {
                let text = std::env::var("GARIM_SITE_KEY").map_err(|_| VaultError::Key {
                    what: "GARIM_SITE_KEY".into(),
                    reason: "no storage.key_file in the policy and GARIM_SITE_KEY is not set"
                        .into(),
                })?;
                SecretKey::from_text(&text, "GARIM_SITE_KEY")
            }
        }
    }

    /// Writes a new random site key to `path` with mode 0600 (refuses to overwrite).
    pub fn init_site_key(path: &Path) -> Result<(), VaultError> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let key = SecretKey::random();
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| VaultError::Key {
                what: path.display().to_string(),
                reason: format!("cannot create the key file: {e}"),
            })?;
        writeln!(f, "{}", hex::encode(key.bytes()))
            .and_then(|_| f.sync_all())
            .map_err(|e| VaultError::Key {
                what: path.display().to_string(),
                reason: e.to_string(),
            })
    }

    /// Wraps `data_key` under this key: nonce ‖ ciphertext, bound to `label` (camera/day).
    pub fn wrap(&self, data_key: &SecretKey, label: &str) -> Vec<u8> {
        self.seal_bytes(data_key.bytes(), label)
    }

    /// Encrypts and authenticates `data` under this key, bound to `label`: nonce ‖ ciphertext.
    pub fn seal_bytes(&self, data: &[u8], label: &str) -> Vec<u8> {
        let cipher = XChaCha20Poly1305::new(self.0.as_slice().into());
        let nonce: [u8; 24] = random_bytes();
        let ct = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                chacha20poly1305::aead::Payload {
                    msg: data,
                    aad: label.as_bytes(),
                },
            )
            .expect("encrypting in memory cannot fail");
        [nonce.as_slice(), &ct].concat()
    }

    /// Opens what `seal_bytes` made with this key and `label`; None when it was made otherwise or edited.
    pub fn open_bytes(&self, sealed: &[u8], label: &str) -> Option<Vec<u8>> {
        if sealed.len() < 24 {
            return None;
        }
        XChaCha20Poly1305::new(self.0.as_slice().into())
            .decrypt(
                XNonce::from_slice(&sealed[..24]),
                chacha20poly1305::aead::Payload {
                    msg: &sealed[24..],
                    aad: label.as_bytes(),
                },
            )
            .ok()
    }

    pub fn unwrap_key(&self, wrapped: &[u8], label: &str) -> Result<SecretKey, VaultError> {
        let fail = || VaultError::Key {
            what: label.to_string(),
            reason:
                "the data key does not open with this site key (wrong key file, or tampered index)"
                    .into(),
        };
        let pt = self.open_bytes(wrapped, label).ok_or_else(fail)?;
        let bytes: [u8; KEY_LEN] = pt.try_into().map_err(|_| fail())?;
        Ok(SecretKey(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_key_opens_only_with_its_site_key_and_label() {
        let site = SecretKey::random();
        let data = SecretKey::random();
        let w = site.wrap(&data, "cam-1/20261124");
        assert_eq!(
            site.unwrap_key(&w, "cam-1/20261124").unwrap().bytes(),
            data.bytes()
        );
        assert!(site.unwrap_key(&w, "cam-2/20261124").is_err());
        assert!(
            SecretKey::random()
                .unwrap_key(&w, "cam-1/20261124")
                .is_err()
        );
        assert_eq!(format!("{site:?}"), "SecretKey(***)");
    }

    #[test]
    fn key_file_must_be_private_and_well_formed() {
        let dir = std::env::temp_dir().join(format!("garim-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("site.key");
        let _ = std::fs::remove_file(&p);
        SecretKey::init_site_key(&p).unwrap();
        assert!(SecretKey::load_site_key(Some(&p)).is_ok());
        assert!(
            SecretKey::init_site_key(&p).is_err(),
            "never overwrites a key"
        );
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = SecretKey::load_site_key(Some(&p)).unwrap_err().to_string();
        assert!(e.contains("site.key") && e.contains("chmod 600"), "{e}");
        let missing = dir.join("nope.key");
        let e = SecretKey::load_site_key(Some(&missing))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("nope.key") && e.contains("garim keys init"),
            "{e}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
