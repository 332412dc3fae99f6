//! The secrets this crate handles — passwords and session tokens — as types that never print themselves
//! and are wiped when dropped, plus the argon2id hashing of passwords and the SHA-256 digest under which a
//! token is stored (the store never sees a token or a password).
//!
//! Cost of one hash or verification with `Argon2::default()` (argon2id, m = 19 MiB, t = 2, p = 1): about
//! 25 ms in a release build on the 2-core build machine (see `hashing_costs_tens_of_milliseconds`).

use crate::AccessError;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::OnceLock;
use zeroize::Zeroize;

/// Shortest password accepted for a new password (NIST SP 800-63B asks for at least 8; KISA's guidance
/// for two character classes asks for 10).
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest accepted: argon2 reads all of it, so an unbounded one is a way to make the server work.
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// A password as typed. `Debug` and `Display` print `[redacted]`; the memory is wiped on drop.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn new(s: impl Into<String>) -> Password {
        Password(s.into())
    }

    /// Whether this may become `user`'s new password; the error says which rule it breaks.
    pub fn validate_for(&self, user: &str) -> Result<(), AccessError> {
        let n = self.0.chars().count();
        if n < MIN_PASSWORD_CHARS {
            return Err(AccessError::WeakPassword(format!(
                "{n} characters, needs at least {MIN_PASSWORD_CHARS}"
            )));
        }
        if n > MAX_PASSWORD_CHARS {
            return Err(AccessError::WeakPassword(format!(
                "{n} characters, at most {MAX_PASSWORD_CHARS} are accepted"
            )));
        }
        if self.0.to_lowercase() == user.to_lowercase() {
            return Err(AccessError::WeakPassword(format!(
                "it is the user name `{user}`"
            )));
        }
        Ok(())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Password {
    fn from(s: String) -> Password {
        Password(s)
    }
}

impl From<&str> for Password {
    fn from(s: &str) -> Password {
        Password(s.to_string())
    }
}

impl Drop for Password {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

impl fmt::Display for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Random bytes in a session token: 256 bits, beyond guessing.
const TOKEN_BYTES: usize = 32;

/// A session token as handed to the client (cookie value or bearer token): 64 lowercase hex digits.
/// `Debug` and `Display` print `[redacted]`; [`Token::expose`] is the one way to read it.
pub struct Token(String);

impl Token {
    pub(crate) fn random() -> Result<Token, AccessError> {
        let mut bytes = [0u8; TOKEN_BYTES];
        getrandom::fill(&mut bytes).map_err(|e| AccessError::Random(e.to_string()))?;
        let t = Token(hex::encode(bytes));
        bytes.zeroize();
        Ok(t)
    }

    /// The token itself, to put in a `Set-Cookie` header or a response body — nowhere else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token([redacted])")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Whether `s` has a token's shape; anything else is refused before the store is asked.
pub(crate) fn looks_like_token(s: &str) -> bool {
    s.len() == 2 * TOKEN_BYTES && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// What the store keeps of a token: a stolen database does not give working sessions.
pub(crate) fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A random identifier that is not the token (for listing and ending sessions by id).
pub(crate) fn random_id() -> Result<String, AccessError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| AccessError::Random(e.to_string()))?;
    Ok(hex::encode(bytes))
}

fn hasher() -> Argon2<'static> {
    // What Argon2::default() is, spelled out so a change of the crate's default cannot pass unnoticed:
    // argon2id v0x13, m = 19456 KiB, t = 2, p = 1 (OWASP's first recommendation).
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

/// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) of a password with a fresh random salt.
pub(crate) fn hash_password(p: &Password) -> Result<String, AccessError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| AccessError::Random(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| AccessError::Hashing(e.to_string()))?;
    hasher()
        .hash_password(p.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccessError::Hashing(e.to_string()))
}

/// Whether `p` matches the stored PHC string. The parameters come from the string, so hashes made with
/// older settings still verify. A malformed string verifies nothing.
pub(crate) fn verify_password(p: &Password, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(h) => hasher().verify_password(p.expose().as_bytes(), &h).is_ok(),
        Err(_) => false,
    }
}

/// Spends the same time as verifying a real user's password, so that an unknown name cannot be told from a
/// wrong password by timing.
pub(crate) fn verify_dummy(p: &Password) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let phc = DUMMY.get_or_init(|| {
        hash_password(&Password::new("garim dummy password, matches no user")).unwrap_or_default()
    });
    let _ = verify_password(p, phc);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn secrets_print_redacted() {
        let p = Password::from("correct horse battery".to_string());
        assert_eq!(format!("{p}"), "[redacted]");
        assert_eq!(format!("{p:?}"), "Password([redacted])");
        let t = Token::random().unwrap();
        assert_eq!(format!("{t} {t:?}"), "[redacted] Token([redacted])");
        assert!(looks_like_token(t.expose()));
    }

    #[test]
    fn tokens_are_random_and_stored_as_digest() {
        let (a, b) = (Token::random().unwrap(), Token::random().unwrap());
        assert_ne!(a.expose(), b.expose());
        let d = token_digest(a.expose());
        assert_eq!(d.len(), 64);
        assert_ne!(d, a.expose());
        assert!(!looks_like_token("short"));
        assert!(!looks_like_token(&a.expose().to_uppercase()));
    }

    #[test]
    fn password_rules_say_which_is_broken() {
        let e = Password::from("short").validate_for("kim").unwrap_err();
        assert_eq!(
            e.to_string(),
            "weak password: 5 characters, needs at least 10"
        );
        let e = Password::from("Kim.Manager").validate_for("kim.manager");
        assert_eq!(
            e.unwrap_err().to_string(),
            "weak password: it is the user name `kim.manager`"
        );
        let long = Password::new("x".repeat(MAX_PASSWORD_CHARS + 1));
        assert!(
            long.validate_for("kim")
                .unwrap_err()
                .to_string()
                .contains("at most")
        );
        // Characters, not bytes: ten Hangul syllables are ten characters.
        Password::from("가나다라마바사아자차")
            .validate_for("kim")
            .unwrap();
    }

    #[test]
    fn hashes_are_argon2id_phc_strings_that_verify() {
        let p = Password::from("correct horse battery");
        let phc = hash_password(&p).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(!phc.contains("correct horse"));
        assert!(verify_password(&p, &phc));
        assert!(!verify_password(
            &Password::from("wrong horse battery"),
            &phc
        ));
        assert!(!verify_password(&p, "not a phc string"));
        // Salted: the same password hashes differently each time.
        assert_ne!(phc, hash_password(&p).unwrap());
    }

    #[test]
    fn hashing_costs_tens_of_milliseconds() {
        let p = Password::from("correct horse battery");
        let phc = hash_password(&p).unwrap();
        let n = 5;
        let start = Instant::now();
        for _ in 0..n {
            assert!(verify_password(&p, &phc));
        }
        let each = start.elapsed() / n;
        println!("argon2id verify: {each:?} per password");
        // Cheap enough for a login, dear enough to slow a stolen-database attack; debug builds are slower.
        assert!(each.as_millis() >= 2, "{each:?}: suspiciously cheap");
    }
}
