//! The sealed key hierarchy. A camera in `recording = "sealed"` keeps its zone-limited video unmasked (for an
//! investigation or a data subject's own request), so its day keys are wrapped to an X25519 public key whose
//! private half — the grant — is not on the machine: garim can write sealed segments but never read them. Only
//! a grant passed in (later: released by two 관리책임자) opens them.

use crate::VaultError;
use crate::keys::{SecretKey, random_bytes};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};
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

fn kek(shared: &[u8; 32], eph: &[u8; 32], recipient: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"garim sealed key v1");
    h.update(shared);
    h.update(eph);
    h.update(recipient);
    h.finalize().into()
}

/// Wraps a data key to the public key: ephemeral public key ‖ nonce ‖ ciphertext, bound to `label`.
pub fn wrap_sealed(public: &SealedPublicKey, data_key: &SecretKey, label: &str) -> Vec<u8> {
    let eph = StaticSecret::from(random_bytes::<32>());
    let eph_pub = PublicKey::from(&eph);
    let shared = eph.diffie_hellman(&PublicKey::from(public.0));
    let key = kek(shared.as_bytes(), eph_pub.as_bytes(), &public.0);
    let nonce: [u8; 24] = random_bytes();
    let ct = XChaCha20Poly1305::new(key.as_slice().into())
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: data_key.bytes(),
                aad: label.as_bytes(),
            },
        )
        .expect("encrypting 32 bytes cannot fail");
    [eph_pub.as_bytes().as_slice(), &nonce, &ct].concat()
}

pub fn unwrap_sealed(grant: &Grant, wrapped: &[u8], label: &str) -> Result<SecretKey, VaultError> {
    let fail = || VaultError::Key {
        what: label.to_string(),
        reason: "this grant does not open the sealed recording".into(),
    };
    if wrapped.len() < 32 + 24 + 16 {
        return Err(fail());
    }
    let eph: [u8; 32] = wrapped[..32].try_into().expect("32 bytes");
    let recipient = PublicKey::from(&grant.0);
    let shared = grant.0.diffie_hellman(&PublicKey::from(eph));
    let key = kek(shared.as_bytes(), &eph, recipient.as_bytes());
    let pt = XChaCha20Poly1305::new(key.as_slice().into())
        .decrypt(
            XNonce::from_slice(&wrapped[32..56]),
            Payload {
                msg: &wrapped[56..],
                aad: label.as_bytes(),
            },
        )
        .map_err(|_| fail())?;
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
