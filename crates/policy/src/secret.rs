//! Camera URLs carry credentials; `SecretUrl` keeps them out of every log, error and metric by printing
//! itself redacted (`rtsp://***@host/path`). Only `expose()` yields the real string, for the RTSP source.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(String);

impl SecretUrl {
    pub fn new(s: impl Into<String>) -> SecretUrl {
        SecretUrl(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn redacted(&self) -> String {
        redact_url(&self.0)
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretUrl({})", self.redacted())
    }
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

const SECRET_PARAMS: [&str; 6] = ["password", "pass", "pwd", "token", "auth", "key"];

/// Redacts the userinfo of every URL in `s` (`scheme://user:pass@host` → `scheme://***@host`) and the values
/// of secret-looking query parameters. Works on free text too, so error messages can be passed through it.
pub fn redact_url(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        // The authority ends at the first '/', '?', '#' or whitespace; userinfo ends at its last '@'.
        let end = tail
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace())
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                out.push_str("***");
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    redact_params(&out)
}

fn redact_params(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for (i, c) in s.char_indices() {
        if c != '?' && c != '&' {
            continue;
        }
        let after = &s[i + 1..];
        let Some(eq) = after.find('=') else { continue };
        let name = &after[..eq];
        if name.is_empty() || name.contains(|c: char| !c.is_ascii_alphanumeric() && c != '_') {
            continue;
        }
        if SECRET_PARAMS.contains(&name.to_ascii_lowercase().as_str()) {
            let vstart = i + 1 + eq + 1;
            let vend = s[vstart..]
                .find(|c: char| c == '&' || c == '#' || c.is_whitespace())
                .map_or(s.len(), |e| vstart + e);
            out.push_str(&s[last..vstart]);
            out.push_str("***");
            last = vend;
        }
    }
    out.push_str(&s[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_url_hides_userinfo_and_secret_params() {
        assert_eq!(
            redact_url("rtsp://admin:pw@10.0.0.1:554/s1"),
            "rtsp://***@10.0.0.1:554/s1"
        );
        assert_eq!(redact_url("rtsp://10.0.0.1/s1"), "rtsp://10.0.0.1/s1");
        assert_eq!(
            redact_url("http://cam/x?user=a&password=b&q=1"),
            "http://cam/x?user=a&password=***&q=1"
        );
        assert_eq!(
            redact_url("failed: rtsp://u:p@h/a and rtsp://v:q@i/b"),
            "failed: rtsp://***@h/a and rtsp://***@i/b"
        );
    }

    #[test]
    fn redact_url_handles_userinfo_with_at_sign_in_password() {
        assert_eq!(
            redact_url("rtsp://admin:p@ss@cam.local/live"),
            "rtsp://***@cam.local/live"
        );
    }

    #[test]
    fn secret_url_debug_and_display_are_redacted() {
        let u = SecretUrl::new("rtsp://admin:hunter2@cam/live");
        assert!(!format!("{u:?}").contains("hunter2"));
        assert!(!format!("{u}").contains("hunter2"));
        assert_eq!(u.expose(), "rtsp://admin:hunter2@cam/live");
    }
}
