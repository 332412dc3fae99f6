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

/// Query parameter names whose values are credentials (or the account they belong to).
const SECRET_PARAMS: [&str; 28] = [
    "password",
    "passwd",
    "pass",
    "pwd",
    "pw",
    "passcode",
    "secret",
    "token",
    "access_token",
    "auth",
    "authorization",
    "key",
    "apikey",
    "api_key",
    "sig",
    "signature",
    "credential",
    "credentials",
    "user",
    "username",
    "usr",
    "login",
    "uid",
    "userid",
    "user_id",
    "account",
    "session",
    "sid",
];

/// Query parameter names whose values are stream settings, never secrets, however they look.
const PLAIN_PARAMS: [&str; 16] = [
    "channel",
    "ch",
    "subtype",
    "stream",
    "streamtype",
    "profile",
    "codec",
    "resolution",
    "fps",
    "unicast",
    "proto",
    "transportmode",
    "camera",
    "cam",
    "track",
    "tcp",
];

/// A value shaped like a password or token: 8 or more characters mixing letters and digits.
fn looks_secret(value: &str) -> bool {
    value.chars().count() >= 8
        && value.chars().any(|c| c.is_alphabetic())
        && value.chars().any(|c| c.is_ascii_digit())
}

/// Whether the query parameter `name=value` is to be hidden.
pub(crate) fn secret_param(name: &str, value: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_PARAMS.contains(&name.as_str())
        || (!PLAIN_PARAMS.contains(&name.as_str()) && looks_secret(value))
}

fn is_scheme_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '+' || c == '.' || c == '-'
}

/// The one redactor every printed URL goes through. It hides the userinfo of every URL in `s`
/// (`scheme://user:pass@host` → `scheme://***@host`), also when the scheme is mistyped (`rtsp:/u:p@h`,
/// `rtsp:u:p@h`), and the values of query parameters that hold credentials by name (`pw`, `user`, `token`, …)
/// or look like them (8+ characters of letters and digits). Works on free text too, so error messages can be
/// passed through it.
pub fn redact_url(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let (mut from, mut last) = (0, 0);
    while let Some(rel) = s[from..].find(':') {
        let colon = from + rel;
        let start = s[..colon]
            .rfind(|c: char| !is_scheme_char(c))
            .map_or(0, |p| p + 1);
        let scheme = &s[start..colon];
        if scheme.len() < 2 || !scheme.starts_with(|c: char| c.is_ascii_alphabetic()) {
            from = colon + 1;
            continue;
        }
        // The authority follows the scheme and any slashes, up to the path, query, fragment or a space; its
        // userinfo ends at the last '@'.
        let auth = colon + 1 + s[colon + 1..].len() - s[colon + 1..].trim_start_matches('/').len();
        let end = s[auth..]
            .find(|c: char| {
                matches!(c, '/' | '?' | '#' | '"' | '\'' | '<' | '>') || c.is_whitespace()
            })
            .map_or(s.len(), |e| auth + e);
        if let Some(at) = s[auth..end].rfind('@').filter(|&at| at > 0) {
            out.push_str(&s[last..auth]);
            out.push_str("***");
            last = auth + at;
        }
        from = end.max(colon + 1);
    }
    out.push_str(&s[last..]);
    redact_params(&out)
}

fn redact_params(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for (i, c) in s.char_indices() {
        if c != '?' && c != '&' && c != ';' {
            continue;
        }
        let after = &s[i + 1..];
        let Some(eq) = after.find('=') else { continue };
        let name = &after[..eq];
        if name.is_empty()
            || name.contains(|c: char| !c.is_ascii_alphanumeric() && c != '_' && c != '-')
        {
            continue;
        }
        let vstart = i + 1 + eq + 1;
        let vend = s[vstart..]
            .find(|c: char| matches!(c, '&' | '#' | ';' | '"' | '\'') || c.is_whitespace())
            .map_or(s.len(), |e| vstart + e);
        if vstart < vend && vstart >= last && secret_param(name, &s[vstart..vend]) {
            out.push_str(&s[last..vstart]);
            out.push_str("***");
            last = vend;
        }
    }
    out.push_str(&s[last..]);
    out
}

/// Splits the userinfo out of an RTSP URL, so the credentials can be given to rtspsrc as its `user-id` and
/// `user-pw` properties and never appear in the URL it prints at debug level: (URL without userinfo, user,
/// password), percent-decoded. None when the URL has no userinfo.
pub fn split_credentials(url: &str) -> Option<(String, String, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let at = rest[..end].rfind('@')?;
    let (userinfo, host) = (&rest[..at], &rest[at + 1..]);
    let (user, pass) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    Some((
        format!("{scheme}://{host}"),
        percent_decode(user),
        percent_decode(pass),
    ))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match (b[i], b.get(i + 1..i + 3)) {
            (b'%', Some(hex)) if hex.iter().all(u8::is_ascii_hexdigit) => {
                let h = std::str::from_utf8(hex).unwrap_or("00");
                out.push(u8::from_str_radix(h, 16).unwrap_or(0));
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
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
            "http://cam/x?user=***&password=***&q=1"
        );
        assert_eq!(
            redact_url("failed: rtsp://u:p@h/a and rtsp://v:q@i/b"),
            "failed: rtsp://***@h/a and rtsp://***@i/b"
        );
    }

    /// A canary password in every shape of URL a site file or a GStreamer message may hold never survives.
    #[test]
    fn no_url_shape_lets_a_canary_through() {
        let canary = "S3cretPW9";
        let shapes = [
            "rtsp://admin:S3cretPW9@10.0.0.1/s1",
            "rtsp://admin:S3cretPW9@10.0.0.1",
            "rtsps://admin:S3cretPW9@cam:322/live?x=1",
            "rtsp:/admin:S3cretPW9@10.0.0.1/s1",
            "rtsp:admin:S3cretPW9@10.0.0.1/s1",
            "rtps://admin:S3cretPW9@10.0.0.1/s1",
            "RTSP://admin:S3cretPW9@10.0.0.1/s1",
            "http://10.0.0.1/video?user=admin&pw=S3cretPW9",
            "http://10.0.0.1/video?usr=admin;pwd=S3cretPW9",
            "http://10.0.0.1/video?channel=1&x-auth=S3cretPW9",
            "http://10.0.0.1/video?a=S3cretPW9#frag",
            "rtsp://admin:S3cretPW9@[fe80::1]:554/s1",
            "error at \"rtsp://admin:S3cretPW9@cam/live\": 401",
            "rtsp://admin:p@ss:S3cretPW9@cam/live",
        ];
        for url in shapes {
            let shown = redact_url(url);
            assert!(!shown.contains(canary), "{url} → {shown}");
        }
        // Settings are left as they are.
        assert_eq!(
            redact_url("rtsp://10.0.0.1/cam/realmonitor?channel=1&subtype=0&profile=Profile_1"),
            "rtsp://10.0.0.1/cam/realmonitor?channel=1&subtype=0&profile=Profile_1"
        );
        assert_eq!(
            redact_url("reason: polygon has 2 points"),
            "reason: polygon has 2 points"
        );
    }

    #[test]
    fn credentials_split_out_of_the_url_for_rtspsrc() {
        assert_eq!(
            split_credentials("rtsp://admin:p%40ss%3Aw@10.0.0.1:554/s1?x=1"),
            Some((
                "rtsp://10.0.0.1:554/s1?x=1".into(),
                "admin".into(),
                "p@ss:w".into()
            ))
        );
        assert_eq!(split_credentials("rtsp://10.0.0.1/s1"), None);
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
