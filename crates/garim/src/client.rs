//! How privileged CLI commands act as a named user: they log in with the user's password (asked on the
//! terminal, or `GARIM_PASSWORD` for scripts) or use a bearer token (`GARIM_TOKEN`), and either call the running
//! service's API (what only the service can do, like accepting a camera's view) or open the site's records
//! directly (exports, user administration), through the same accountable operations the API uses.

use anyhow::{Result, anyhow};
use policy::SiteConfig;

/// Who is acting: `--user`, else `$GARIM_USER`.
pub fn user_name(flag: Option<&str>) -> Result<String> {
    flag.map(str::to_string)
        .or_else(|| std::env::var("GARIM_USER").ok().filter(|s| !s.is_empty()))
        .ok_or_else(|| anyhow!("--user: who is acting? give --user NAME (or set GARIM_USER)"))
}

/// The user's password: `$GARIM_PASSWORD`, else asked on the terminal (never echoed).
pub fn password(user: &str) -> Result<access::Password> {
    if let Ok(p) = std::env::var("GARIM_PASSWORD") {
        return Ok(access::Password::from(p));
    }
    let p = rpassword::prompt_password(format!("password for {user}: ")).map_err(|e| {
        anyhow!("cannot read the password from the terminal ({e}); set GARIM_PASSWORD")
    })?;
    Ok(access::Password::from(p))
}

/// A principal for this CLI run: the session of `$GARIM_TOKEN` (a bearer token from the API's login), else
/// the user logged in against the site's directory with the password (ledgered like the API's).
pub fn login(records: &site::Records, user: Option<&str>) -> Result<access::Principal> {
    if let Some(t) = std::env::var("GARIM_TOKEN").ok().filter(|t| !t.is_empty()) {
        let p = records
            .directory()
            .authenticate(&t)
            .map_err(|e| anyhow!("GARIM_TOKEN: {e}"))?;
        if let Some(u) = user.filter(|u| *u != p.user) {
            return Err(anyhow!("--user {u}: GARIM_TOKEN is {}'s session", p.user));
        }
        return Ok(p);
    }
    let name = user_name(user)?;
    let pw = password(&name)?;
    records
        .accounts
        .login(&name, &pw, access::SessionKind::Bearer, "cli")
        .map(|(_, p)| p)
        .map_err(|e| anyhow!("login as {name}: {e}"))
}

/// The running service's API address, from the policy's bind address (0.0.0.0 and :: mean this host).
pub fn api_base(cfg: &SiteConfig) -> String {
    let bind = &cfg.server.http_bind;
    let (host, port) = bind.rsplit_once(':').unwrap_or((bind.as_str(), "8080"));
    let host = match host.trim_matches(['[', ']']) {
        "0.0.0.0" | "" => "127.0.0.1".to_string(),
        "::" => "[::1]".to_string(),
        h if h.contains(':') => format!("[{h}]"),
        h => h.to_string(),
    };
    format!("http://{host}:{port}")
}

/// Calls the service as `user` (logging in through the API, so the service ledgers it); returns status + JSON.
pub fn call_service(
    cfg: &SiteConfig,
    user: Option<&str>,
    method: &str,
    path: &str,
    body: serde_json::Value,
) -> Result<(u16, serde_json::Value)> {
    let base = std::env::var("GARIM_API_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| api_base(cfg));
    // Passwords and tokens go over plain HTTP: only to this machine.
    let host = base
        .strip_prefix("http://")
        .and_then(|r| r.rsplit_once(':'))
        .map(|(h, _)| h);
    if !matches!(host, Some("127.0.0.1" | "[::1]" | "localhost")) {
        return Err(anyhow!(
            "the service's API at {base} is not on this machine: the CLI sends credentials over plain HTTP \
             only to 127.0.0.1 or [::1]; run the command on the service's host (or set GARIM_API_URL to its \
             loopback address)"
        ));
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut own_session = false;
    let token = match std::env::var("GARIM_TOKEN") {
        Ok(t) if !t.is_empty() => t,
        _ => {
            own_session = true;
            let name = user_name(user)?;
            let pw = password(&name)?;
            let mut resp = agent
                .post(&format!("{base}/api/v1/session/login"))
                .send_json(
                    serde_json::json!({"user": name, "password": pw.expose(), "session": "bearer"}),
                )
                .map_err(|e| {
                    anyhow!("cannot reach the service at {base} (is `garim run` running?): {e}")
                })?;
            let status = resp.status().as_u16();
            let v: serde_json::Value = resp.body_mut().read_json().unwrap_or_default();
            if status != 200 {
                return Err(anyhow!(
                    "login as {name}: {}",
                    v["error"].as_str().unwrap_or("refused")
                ));
            }
            v["token"].as_str().unwrap_or_default().to_string()
        }
    };
    let url = format!("{base}{path}");
    let auth = format!("Bearer {token}");
    let mut resp = match method {
        "POST" => agent
            .post(&url)
            .header("Authorization", &auth)
            .send_json(body),
        _ => agent.get(&url).header("Authorization", &auth).call(),
    }
    .map_err(|e| anyhow!("cannot reach the service at {base}: {e}"))?;
    let status = resp.status().as_u16();
    let v = resp.body_mut().read_json().unwrap_or_default();
    // The session made for this one call ends with it (a ledgered logout).
    if own_session {
        let _ = agent
            .post(&format!("{base}/api/v1/session/logout"))
            .header("Authorization", &auth)
            .send_empty();
    }
    Ok((status, v))
}
