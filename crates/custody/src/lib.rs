//! Custody of the sealed key by the site's managers, enforced by cryptography rather than by a flag.
//!
//! - The private key of the sealed recordings (an X25519 secret, 32 bytes) is split k-of-n with Shamir's
//!   scheme ([`split`]); the key itself is never stored.
//! - Each share is sealed ([`seal`]) to one manager's own X25519 *share key*.
//! - A share key's private half is kept only locked under a key derived from that manager's password with
//!   argon2id ([`ShareKey::lock`]).
//! - So the shares open only with the managers' passwords, and [`combine`] rebuilds the key from k of them,
//!   checking it against the public key the recordings are sealed to.
//!
//! Pure code without storage: the directory keeps the locked share keys and the sealed shares.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::{Zeroize, Zeroizing};

/// Most managers a key is split among (one GF(256) share index each).
pub const MAX_HOLDERS: usize = 32;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CustodyError {
    #[error("wrong password for the share key of `{0}`")]
    WrongPassword(String),
    #[error("the share of `{0}` does not open with its key")]
    BadShare(String),
    #[error("{have} share(s) given, {need} needed")]
    TooFew { have: usize, need: usize },
    #[error("the shares do not rebuild the sealed key (they belong to another key)")]
    Mismatch,
    #[error("cannot split among {n} holders with threshold {k}: {why}")]
    BadSplit {
        k: usize,
        n: usize,
        why: &'static str,
    },
    #[error("malformed {0}")]
    Malformed(&'static str),
    #[error("no randomness from the operating system: {0}")]
    Random(String),
}

pub type Result<T, E = CustodyError> = std::result::Result<T, E>;

fn random<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| CustodyError::Random(e.to_string()))?;
    Ok(b)
}

/// argon2id parameters of the password-derived key: 19 MiB, 2 passes, 1 lane (OWASP's first choice), about
/// 50 ms here: paid once per approval, and by every offline guess.
const KDF_M_KIB: u32 = 19 * 1024;
const KDF_T: u32 = 2;
const KDF_P: u32 = 1;

fn password_key(password: &[u8], salt: &[u8; 16]) -> Zeroizing<[u8; 32]> {
    let params = argon2::Params::new(KDF_M_KIB, KDF_T, KDF_P, Some(32)).expect("valid params");
    let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = Zeroizing::new([0u8; 32]);
    a.hash_password_into(password, salt, out.as_mut())
        .expect("32-byte output and a 16-byte salt are within argon2's limits");
    out
}

fn aead(key: &[u8; 32]) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(key.as_slice().into())
}

/// A manager's own X25519 key pair, to which that manager's shares are sealed.
pub struct ShareKey(StaticSecret);

impl std::fmt::Debug for ShareKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ShareKey({})", hex::encode(self.public()))
    }
}

impl ShareKey {
    pub fn new() -> Result<ShareKey> {
        Ok(ShareKey(StaticSecret::from(random::<32>()?)))
    }

    pub fn public(&self) -> [u8; 32] {
        *PublicKey::from(&self.0).as_bytes()
    }

    /// The private half locked under the password, as text: `v1$salt$nonce$ciphertext` (hex), bound to the
    /// holder's name and public key.
    pub fn lock(&self, holder: &str, password: &[u8]) -> Result<String> {
        let salt: [u8; 16] = random()?;
        let nonce: [u8; 24] = random()?;
        let key = password_key(password, &salt);
        let aad = lock_aad(holder, &self.public());
        let mut secret = Zeroizing::new(self.0.to_bytes());
        let ct = aead(&key)
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: secret.as_slice(),
                    aad: &aad,
                },
            )
            .expect("encrypting 32 bytes cannot fail");
        secret.zeroize();
        Ok(format!(
            "v1${}${}${}",
            hex::encode(salt),
            hex::encode(nonce),
            hex::encode(ct)
        ))
    }

    /// Opens a locked key with the password; a wrong password (or a key locked for someone else) fails.
    pub fn unlock(
        holder: &str,
        public: &[u8; 32],
        locked: &str,
        password: &[u8],
    ) -> Result<ShareKey> {
        let parts: Vec<&str> = locked.split('$').collect();
        let [v, salt, nonce, ct] = parts.as_slice() else {
            return Err(CustodyError::Malformed("locked share key"));
        };
        let bad = || CustodyError::Malformed("locked share key");
        if *v != "v1" {
            return Err(bad());
        }
        let salt: [u8; 16] = hex::decode(salt)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(bad)?;
        let nonce: [u8; 24] = hex::decode(nonce)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(bad)?;
        let ct = hex::decode(ct).map_err(|_| bad())?;
        let key = password_key(password, &salt);
        let pt = Zeroizing::new(
            aead(&key)
                .decrypt(
                    XNonce::from_slice(&nonce),
                    Payload {
                        msg: &ct,
                        aad: &lock_aad(holder, public),
                    },
                )
                .map_err(|_| CustodyError::WrongPassword(holder.to_string()))?,
        );
        let bytes: [u8; 32] = pt.as_slice().try_into().map_err(|_| bad())?;
        let key = ShareKey(StaticSecret::from(bytes));
        if &key.public() != public {
            return Err(CustodyError::WrongPassword(holder.to_string()));
        }
        Ok(key)
    }
}

fn lock_aad(holder: &str, public: &[u8; 32]) -> Vec<u8> {
    [
        b"garim share key v1|".as_slice(),
        holder.as_bytes(),
        b"|",
        public,
    ]
    .concat()
}

fn kek(shared: &[u8; 32], eph: &[u8; 32], recipient: &[u8; 32]) -> Zeroizing<[u8; 32]> {
    let mut h = Sha256::new();
    h.update(b"garim sealed key v1");
    h.update(shared);
    h.update(eph);
    h.update(recipient);
    Zeroizing::new(h.finalize().into())
}

/// Seals bytes to an X25519 public key (ephemeral key ‖ nonce ‖ ciphertext), bound to `label`.
pub fn seal(public: &[u8; 32], msg: &[u8], label: &str) -> Result<Vec<u8>> {
    let eph = StaticSecret::from(random::<32>()?);
    let eph_pub = PublicKey::from(&eph);
    let shared = eph.diffie_hellman(&PublicKey::from(*public));
    let key = kek(shared.as_bytes(), eph_pub.as_bytes(), public);
    let nonce: [u8; 24] = random()?;
    let ct = aead(&key)
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg,
                aad: label.as_bytes(),
            },
        )
        .expect("encrypting a short message cannot fail");
    Ok([eph_pub.as_bytes().as_slice(), &nonce, &ct].concat())
}

/// Opens what [`seal`] made for this secret and label; `None` when it is not for them (or was altered).
pub fn open(secret: &[u8; 32], sealed: &[u8], label: &str) -> Option<Zeroizing<Vec<u8>>> {
    if sealed.len() < 32 + 24 + 16 {
        return None;
    }
    let secret = StaticSecret::from(*secret);
    let eph: [u8; 32] = sealed[..32].try_into().expect("32 bytes");
    let recipient = PublicKey::from(&secret);
    let shared = secret.diffie_hellman(&PublicKey::from(eph));
    let key = kek(shared.as_bytes(), &eph, recipient.as_bytes());
    aead(&key)
        .decrypt(
            XNonce::from_slice(&sealed[32..56]),
            Payload {
                msg: &sealed[56..],
                aad: label.as_bytes(),
            },
        )
        .ok()
        .map(Zeroizing::new)
}

/// The X25519 public key of a 32-byte secret.
pub fn public_of(secret: &[u8; 32]) -> [u8; 32] {
    *PublicKey::from(&StaticSecret::from(*secret)).as_bytes()
}

/// What a share is bound to: the sealed public key it rebuilds, and its holder.
fn share_label(sealed_public: &[u8; 32], holder: &str) -> String {
    format!("garim share v1|{}|{holder}", hex::encode(sealed_public))
}

/// Splits the sealed key k-of-n among the holders: one share each, sealed to the holder's share key. The
/// holders' names must be distinct.
pub fn split(
    secret: &[u8; 32],
    k: usize,
    holders: &[(String, [u8; 32])],
) -> Result<Vec<(String, Vec<u8>)>> {
    let n = holders.len();
    let bad = |why| Err(CustodyError::BadSplit { k, n, why });
    if k < 2 {
        return bad("the threshold must be at least 2 (one person must never suffice)");
    }
    if n < k {
        return bad("fewer holders than the threshold");
    }
    if n > MAX_HOLDERS {
        return bad("too many holders");
    }
    let mut names: Vec<&str> = holders.iter().map(|(h, _)| h.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    if names.len() != n {
        return bad("a holder is named twice");
    }
    let sealed_public = public_of(secret);
    let shares: Vec<blahaj::Share> = blahaj::Sharks(k as u8).dealer(secret).take(n).collect();
    holders
        .iter()
        .zip(shares)
        .map(|((holder, public), share)| {
            let bytes = Zeroizing::new(Vec::from(&share));
            Ok((
                holder.clone(),
                seal(public, &bytes, &share_label(&sealed_public, holder))?,
            ))
        })
        .collect()
}

/// One opened share, zeroized when dropped.
pub struct Share {
    holder: String,
    bytes: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Share {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Share({}, [redacted])", self.holder)
    }
}

impl Share {
    pub fn holder(&self) -> &str {
        &self.holder
    }
}

/// Opens a holder's share with the holder's (unlocked) share key.
pub fn open_share(
    key: &ShareKey,
    holder: &str,
    sealed_public: &[u8; 32],
    sealed: &[u8],
) -> Result<Share> {
    let bytes = open(
        &key.0.to_bytes(),
        sealed,
        &share_label(sealed_public, holder),
    )
    .ok_or_else(|| CustodyError::BadShare(holder.to_string()))?;
    Ok(Share {
        holder: holder.to_string(),
        bytes,
    })
}

/// Rebuilds the sealed key from k shares of distinct holders and checks it against the public key.
pub fn combine(
    shares: &[Share],
    k: usize,
    sealed_public: &[u8; 32],
) -> Result<Zeroizing<[u8; 32]>> {
    let mut holders: Vec<&str> = shares.iter().map(|s| s.holder.as_str()).collect();
    holders.sort_unstable();
    holders.dedup();
    if holders.len() < k.max(2) {
        return Err(CustodyError::TooFew {
            have: holders.len(),
            need: k.max(2),
        });
    }
    let parsed: Vec<blahaj::Share> = shares
        .iter()
        .map(|s| {
            blahaj::Share::try_from(s.bytes.as_slice())
                .map_err(|_| CustodyError::Malformed("share"))
        })
        .collect::<Result<_>>()?;
    let secret = Zeroizing::new(
        blahaj::Sharks(k as u8)
            .recover(parsed.iter())
            .map_err(|_| CustodyError::Mismatch)?,
    );
    let secret: [u8; 32] = secret
        .as_slice()
        .try_into()
        .map_err(|_| CustodyError::Mismatch)?;
    let secret = Zeroizing::new(secret);
    if &public_of(&secret) != sealed_public {
        return Err(CustodyError::Mismatch);
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holders(names: &[&str]) -> Vec<(String, ShareKey)> {
        names
            .iter()
            .map(|n| (n.to_string(), ShareKey::new().unwrap()))
            .collect()
    }

    fn publics(h: &[(String, ShareKey)]) -> Vec<(String, [u8; 32])> {
        h.iter().map(|(n, k)| (n.clone(), k.public())).collect()
    }

    #[test]
    fn any_two_of_three_rebuild_the_key_and_one_does_not() {
        let secret: [u8; 32] = random().unwrap();
        let public = public_of(&secret);
        let h = holders(&["kim", "lee", "park"]);
        let sealed = split(&secret, 2, &publics(&h)).unwrap();
        let opened: Vec<Share> = h
            .iter()
            .zip(&sealed)
            .map(|((n, k), (m, s))| {
                assert_eq!(n, m);
                open_share(k, n, &public, s).unwrap()
            })
            .collect();
        for (a, b) in [(0, 1), (1, 2), (0, 2)] {
            let two = [opened[a].clone_for_test(), opened[b].clone_for_test()];
            assert_eq!(*combine(&two, 2, &public).unwrap(), secret);
        }
        let one = [opened[0].clone_for_test()];
        assert_eq!(
            combine(&one, 2, &public).unwrap_err(),
            CustodyError::TooFew { have: 1, need: 2 }
        );
        // The same share twice is still one holder.
        let twice = [opened[0].clone_for_test(), opened[0].clone_for_test()];
        assert!(matches!(
            combine(&twice, 2, &public),
            Err(CustodyError::TooFew { .. })
        ));
        // A share opens only for its holder and key.
        assert!(open_share(&h[1].1, "kim", &public, &sealed[0].1).is_err());
        assert!(open_share(&h[0].1, "lee", &public, &sealed[0].1).is_err());
        // Shares of another key do not combine into this one.
        let other: [u8; 32] = random().unwrap();
        let sealed2 = split(&other, 2, &publics(&h)).unwrap();
        let mixed = [
            opened[0].clone_for_test(),
            open_share(&h[1].1, "lee", &public_of(&other), &sealed2[1].1).unwrap(),
        ];
        assert_eq!(
            combine(&mixed, 2, &public).unwrap_err(),
            CustodyError::Mismatch
        );
    }

    #[test]
    fn a_split_needs_two_or_more_distinct_holders() {
        let secret: [u8; 32] = random().unwrap();
        let h = publics(&holders(&["kim", "lee"]));
        assert!(
            split(&secret, 1, &h)
                .unwrap_err()
                .to_string()
                .contains("at least 2")
        );
        assert!(
            split(&secret, 3, &h)
                .unwrap_err()
                .to_string()
                .contains("fewer holders")
        );
        let dup = vec![h[0].clone(), h[0].clone()];
        assert!(
            split(&secret, 2, &dup)
                .unwrap_err()
                .to_string()
                .contains("twice")
        );
    }

    #[test]
    fn a_share_key_unlocks_only_with_its_password_and_holder() {
        let k = ShareKey::new().unwrap();
        let locked = k.lock("kim", b"correct horse battery").unwrap();
        let public = k.public();
        assert!(!locked.contains(&hex::encode(k.0.to_bytes())));
        let back = ShareKey::unlock("kim", &public, &locked, b"correct horse battery").unwrap();
        assert_eq!(back.public(), public);
        assert_eq!(
            ShareKey::unlock("kim", &public, &locked, b"wrong").unwrap_err(),
            CustodyError::WrongPassword("kim".into())
        );
        assert!(ShareKey::unlock("lee", &public, &locked, b"correct horse battery").is_err());
        assert!(ShareKey::unlock("kim", &public, "v1$zz", b"x").is_err());
    }

    impl Share {
        fn clone_for_test(&self) -> Share {
            Share {
                holder: self.holder.clone(),
                bytes: self.bytes.clone(),
            }
        }
    }
}
