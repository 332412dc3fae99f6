//! The sealed key hierarchy. A camera in `recording = "sealed"` keeps its zone-limited video unmasked (for an
//! investigation or a data subject's own request), so its day keys are wrapped to an X25519 public key whose
//! private half — the grant — is not on the machine: garim can write sealed segments but never read them. The
//! grant exists only while k managers' shares rebuild it for one job (crate custody).

use crate::VaultError;
use crate::keys::{SecretKey, random_bytes};
use x25519_dalek::{PublicKey, StaticSecret};

#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SealedPublicKey(pub [u8; 32]);

/// The private half; never stored by garim.
pub struct Grant(StaticSecret);

fn hex32(text: &str, what: &str) -> Result<[u8; 32], VaultError> {
    hex::decode(text.trim())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| VaultError::Key {
            what: what.to_string(),
            reason: "expected 64 hexadecimal characters".into(),
        })
}

impl SealedPublicKey {
    pub fn parse(text: &str) -> Result<SealedPublicKey, VaultError> {
        hex32(text, "storage.sealed_public_key").map(SealedPublicKey)
    }
}

impl Grant {
    /// The key rebuilt from the managers' shares (custody::combine), for one job.
    pub fn from_bytes(bytes: &[u8; 32]) -> Grant {
        Grant(StaticSecret::from(*bytes))
    }

    /// The public key this grant opens.
    pub fn public(&self) -> SealedPublicKey {
        SealedPublicKey(*PublicKey::from(&self.0).as_bytes())
    }

    pub fn parse(text: &str, source: &str) -> Result<Grant, VaultError> {
        hex32(text, source).map(|b| Grant(StaticSecret::from(b)))
    }

    pub fn load(path: &std::path::Path) -> Result<Grant, VaultError> {
        let text = std::fs::read_to_string(path).map_err(|e| VaultError::Key {
            what: path.display().to_string(),
            reason: format!("cannot read the grant: {e}"),
        })?;
        Grant::parse(&text, &path.display().to_string())
    }
}

/// A new key pair: (private grant, public key), both hex.
pub fn new_keypair() -> (String, String) {
    let secret = StaticSecret::from(random_bytes::<32>());
    let public = PublicKey::from(&secret);
    (
        hex::encode(secret.to_bytes()),
        hex::encode(public.as_bytes()),
    )
}

/// Wraps a data key to the public key (custody's sealing: ephemeral key ‖ nonce ‖ ciphertext), bound to
/// `label`.
pub fn wrap_sealed(public: &SealedPublicKey, data_key: &SecretKey, label: &str) -> Vec<u8> {
    custody::seal(&public.0, data_key.bytes(), label)
        .expect("the operating system gives randomness")
}

pub fn unwrap_sealed(grant: &Grant, wrapped: &[u8], label: &str) -> Result<SecretKey, VaultError> {
    let fail = || VaultError::Key {
        what: label.to_string(),
        reason: "this grant does not open the sealed recording".into(),
    };
    let pt = custody::open(&grant.0.to_bytes(), wrapped, label).ok_or_else(fail)?;
    SecretKey::from_bytes(&pt).ok_or_else(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_key_opens_only_with_its_grant() {
        let (grant_hex, public_hex) = new_keypair();
        let public = SealedPublicKey::parse(&public_hex).unwrap();
        let data = SecretKey::random();
        let w = wrap_sealed(&public, &data, "cam-1.sealed/20261124");
        let grant = Grant::parse(&grant_hex, "test").unwrap();
        assert_eq!(
            unwrap_sealed(&grant, &w, "cam-1.sealed/20261124")
                .unwrap()
                .bytes(),
            data.bytes()
        );
        let (other, _) = new_keypair();
        assert!(
            unwrap_sealed(
                &Grant::parse(&other, "t").unwrap(),
                &w,
                "cam-1.sealed/20261124"
            )
            .is_err()
        );
        assert!(unwrap_sealed(&grant, &w, "cam-2.sealed/20261124").is_err());
    }
}
