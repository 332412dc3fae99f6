//! The route × role matrix, generated from `ROUTES`: anonymous → 401, a role without the permission → 403,
//! the right role → 2xx, a contractor asking for a camera outside its scope → 404 (as for a camera that does
//! not exist). Real SQLite directory and ledger, a real HTTP client, the server on 127.0.0.1:0; the site's
//! footage operations are a stand-in that answers every call.

use access::{Permission, Principal, Role, allows};
use server::api::{AcceptBody, ApiError, ExportFile, ExportQuery, RangeQuery};
use server::routes::Gate;
use server::{AppState, HttpServer, ROUTES, SiteApi};
use std::sync::Arc;

struct FakeSite {
    dir: std::path::PathBuf,
}

impl SiteApi for FakeSite {
    fn requests(
        &self,
        _: &Principal,
        op: server::api::RequestOp,
        _: &str,
    ) -> Result<server::api::RequestAnswer, ApiError> {
        Ok(server::api::RequestAnswer::Json(
            serde_json::json!({"op": format!("{op:?}").split('(').next()}),
        ))
    }
    fn cameras(&self, _: &Principal) -> Result<serde_json::Value, ApiError> {
        Ok(serde_json::json!({"cameras": []}))
    }
    fn snapshot(&self, _: &Principal, _: &str) -> Result<Vec<u8>, ApiError> {
        Ok(vec![0xFF, 0xD8, 0xFF, 0xD9])
    }
    fn recordings(&self, _: &Principal, _: &RangeQuery) -> Result<serde_json::Value, ApiError> {
        Ok(serde_json::json!({"segments": []}))
    }
    fn export(
        &self,
        _: &Principal,
        camera: &str,
        _: &ExportQuery,
        _: &str,
    ) -> Result<ExportFile, ApiError> {
        let path = self.dir.join(format!("export-{}.mp4", rand_name()));
        std::fs::write(&path, b"mp4").unwrap();
        Ok(ExportFile {
            path,
            file_name: format!("{camera}.mp4"),
        })
    }
    fn scene(&self, _: &Principal, _: &str) -> Result<serde_json::Value, ApiError> {
        Ok(serde_json::json!({}))
    }
    fn accept_scene(
        &self,
        _: &Principal,
        _: &str,
        _: &AcceptBody,
        _: &str,
    ) -> Result<serde_json::Value, ApiError> {
        Ok(serde_json::json!({"accepted": true}))
    }
    fn policy(&self, _: &Principal) -> Result<serde_json::Value, ApiError> {
        Ok(serde_json::json!({}))
    }
    fn put_policy(
        &self,
        _: &Principal,
        _: &server::api::PolicyBody,
        _: &str,
    ) -> Result<serde_json::Value, ApiError> {
        Ok(serde_json::json!({"changes": []}))
    }
    fn check_person(&self, _: Role, _: Option<&str>) -> Result<(), ApiError> {
        Ok(())
    }
    fn policy_history(&self, _: &Principal) -> Result<serde_json::Value, ApiError> {
        Ok(serde_json::json!({}))
    }
    fn inspect(&self, _: &Principal, _: &str) -> Result<serde_json::Value, ApiError> {
        Ok(serde_json::json!({}))
    }
    fn zones(&self, _: &Principal, _: &str) -> Result<serde_json::Value, ApiError> {
        Ok(serde_json::json!({"privacy_masks": [], "recording_zones": []}))
    }
    fn put_zones(
        &self,
        _: &Principal,
        _: &str,
        _: &server::api::ZonesBody,
        _: &str,
    ) -> Result<serde_json::Value, ApiError> {
        Ok(serde_json::json!({"changes": []}))
    }
    fn trend(&self, _: &Principal, _: &str) -> Result<serde_json::Value, ApiError> {
        Ok(serde_json::json!({"samples": [], "events": []}))
    }
    fn public_page(&self, which: &str) -> Result<String, ApiError> {
        Ok(format!("<h1>{which}</h1>"))
    }
    fn site_name(&self) -> String {
        "시험 사이트".into()
    }
}

fn rand_name() -> u64 {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

const PW: &str = "a long enough password";

struct World {
    server: HttpServer,
    ledger: Arc<ledger::Ledger>,
    directory: Arc<access::Directory>,
    _dir: std::path::PathBuf,
}

fn world(tag: &str) -> World {
    // The route matrix makes hundreds of requests at once from one address: no rate limit here.
    world_with(
        tag,
        server::Limits {
            rate_per_sec: 1e6,
            burst: 1e6,
            ..server::Limits::default()
        },
    )
}

fn world_with(tag: &str, limits: server::Limits) -> World {
    world_on(tag, limits, server::tls::Transport::Plain)
}

fn world_on(tag: &str, limits: server::Limits, transport: server::tls::Transport) -> World {
    let dir = std::env::temp_dir().join(format!("garim-api-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let ledger = Arc::new(ledger::Ledger::open_sqlite(&dir.join("ledger.sqlite")).unwrap());
    let directory = access::Directory::open_sqlite(&dir.join("access.sqlite"))
        .unwrap()
        .with_scope(Arc::new(|u: &access::User| {
            (u.role == Role::Contractor).then(|| ["cam-a".to_string()].into_iter().collect())
        }));
    let directory = Arc::new(directory);
    for role in Role::ALL {
        directory
            .add_user(role.as_str(), role, &PW.into(), None)
            .unwrap();
    }
    directory
        .add_user("matrix-target", Role::Access, &PW.into(), None)
        .unwrap();
    ledger
        .record_inspection(
            ledger::InspectionKind::Daily,
            serde_json::json!({}),
            true,
            "system",
        )
        .unwrap();
    let state = AppState {
        health: Arc::new(|| (true, serde_json::json!({"ok": true}))),
        site: Arc::new(FakeSite { dir: dir.clone() }),
        accounts: access::accounts::Accounts::new(directory.clone(), ledger.clone()),
        checkpoints: None,
        secure_cookies: false,
    };
    World {
        server: HttpServer::start_on("127.0.0.1:0", state, limits, transport).unwrap(),
        ledger,
        directory,
        _dir: dir,
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

fn base(w: &World) -> String {
    format!("http://{}", w.server.addr())
}

fn login(w: &World, user: &str) -> String {
    let mut r = agent()
        .post(&format!("{}/api/v1/session/login", base(w)))
        .send_json(serde_json::json!({"user": user, "password": PW, "session": "bearer"}))
        .unwrap();
    assert_eq!(r.status(), 200, "login {user}");
    let v: serde_json::Value = r.body_mut().read_json().unwrap();
    v["token"].as_str().unwrap().to_string()
}

fn call(w: &World, method: &str, path: &str, body: Option<&str>, token: Option<&str>) -> u16 {
    call_full(w, method, path, body, token).0
}

fn call_full(
    w: &World,
    method: &str,
    path: &str,
    body: Option<&str>,
    token: Option<&str>,
) -> (u16, String) {
    let url = format!("{}{path}", base(w));
    let a = agent();
    let auth = token.map(|t| format!("Bearer {t}"));
    let resp = match method {
        "GET" => {
            let mut r = a.get(&url);
            if let Some(h) = &auth {
                r = r.header("Authorization", h);
            }
            r.call()
        }
        m => {
            let mut r = match m {
                "POST" => a.post(&url),
                "PATCH" => a.patch(&url),
                _ => panic!("{m}"),
            };
            r = r.header("Content-Type", "application/json");
            if let Some(h) = &auth {
                r = r.header("Authorization", h);
            }
            r.send(body.unwrap_or("{}"))
        }
    };
    let mut resp = resp.unwrap();
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_to_string().unwrap_or_default())
}

#[test]
fn every_route_answers_401_403_or_2xx_by_role_from_the_route_table() {
    let w = world("matrix");
    let tokens: Vec<(Role, String)> = Role::ALL
        .iter()
        .map(|r| (*r, login(&w, r.as_str())))
        .collect();
    let mut checked = 0;
    for route in ROUTES {
        let method = route.method.as_str();
        let Gate::Needs(permission) = route.gate else {
            continue;
        };
        // Logout ends the session: checked last, below.
        if route.path.ends_with("/logout") {
            continue;
        }
        assert_eq!(
            call(&w, method, route.example, route.example_body, None),
            401,
            "anonymous {method} {}",
            route.path
        );
        assert_eq!(
            call(
                &w,
                method,
                route.example,
                route.example_body,
                Some("not-a-token")
            ),
            401,
            "bad token {method} {}",
            route.path
        );
        for (role, token) in &tokens {
            let (code, body) =
                call_full(&w, method, route.example, route.example_body, Some(token));
            if allows(*role, permission) {
                assert!(
                    (200..300).contains(&code),
                    "{role} {method} {} → {code} {body}",
                    route.path
                );
            } else {
                assert_eq!(code, 403, "{role} {method} {} → {body}", route.path);
            }
            checked += 1;
        }
    }
    let authed = ROUTES
        .iter()
        .filter(|r| r.gate != Gate::Public && !r.path.ends_with("/logout"))
        .count();
    assert!(authed >= 15, "{authed} routes");
    assert_eq!(checked, authed * Role::ALL.len());
    for (role, token) in &tokens {
        assert_eq!(
            call(&w, "POST", "/api/v1/session/logout", None, Some(token)),
            200
        );
        assert_eq!(
            call(&w, "GET", "/api/v1/session/me", None, Some(token)),
            401,
            "{role}'s session still works after logout"
        );
    }
    // Public routes answer anyone.
    for route in ROUTES
        .iter()
        .filter(|r| r.gate == Gate::Public && r.method == "GET")
    {
        assert_eq!(
            call(&w, "GET", route.example, None, None),
            200,
            "{}",
            route.path
        );
    }
}

#[test]
fn a_contractor_sees_only_its_cameras_and_other_ids_look_like_missing_ones() {
    let w = world("scope");
    let t = login(&w, "contractor");
    assert_eq!(
        call(
            &w,
            "GET",
            "/api/v1/cameras/cam-a/snapshot.jpg",
            None,
            Some(&t)
        ),
        200
    );
    let (other, body_other) = call_full(
        &w,
        "GET",
        "/api/v1/cameras/cam-b/snapshot.jpg",
        None,
        Some(&t),
    );
    let (missing, body_missing) = call_full(
        &w,
        "GET",
        "/api/v1/cameras/no-such/snapshot.jpg",
        None,
        Some(&t),
    );
    assert_eq!((other, missing), (404, 404));
    assert_eq!(
        body_other.replace("cam-b", "X"),
        body_missing.replace("no-such", "X"),
        "the answers differ, so the camera's existence leaks"
    );
    assert_eq!(
        call(&w, "GET", "/api/v1/cameras/cam-b/scene", None, Some(&t)),
        404
    );
}

#[test]
fn failed_logins_are_ledgered_and_throttled_with_429() {
    let w = world("brute");
    let mut codes = Vec::new();
    for _ in 0..7 {
        let (code, _) = call_full(
            &w,
            "POST",
            "/api/v1/session/login",
            Some(r#"{"user": "manager", "password": "wrong password!"}"#),
            None,
        );
        codes.push(code);
    }
    assert_eq!(&codes[..5], &[401; 5], "{codes:?}");
    assert!(codes[5..].iter().all(|c| *c == 429), "{codes:?}");
    // Even the right password is refused while locked.
    let (code, _) = call_full(
        &w,
        "POST",
        "/api/v1/session/login",
        Some(&format!(r#"{{"user": "manager", "password": "{PW}"}}"#)),
        None,
    );
    assert_eq!(code, 429);
    let failed = w
        .ledger
        .list(&ledger::Filter {
            kinds: vec![ledger::Kind::LoginFailed],
            ..ledger::Filter::default()
        })
        .unwrap();
    // A row per failed password, and one for the lockout (not one per throttled request).
    assert_eq!(failed.len(), 6, "{failed:?}");
    assert!(
        failed[5].entry.purpose.contains("too many"),
        "{:?}",
        failed[5].entry
    );
    assert!(
        failed
            .iter()
            .all(|r| r.entry.actor == "manager" && r.entry.client == "127.0.0.1")
    );
    let text = serde_json::to_string(&failed).unwrap();
    assert!(
        !text.contains("wrong password"),
        "a password reached the ledger"
    );
    assert!(w.ledger.verify(None).unwrap().problem.is_none());
}

#[test]
fn bad_bodies_and_hostile_parameters_are_4xx_naming_the_field() {
    let w = world("bad");
    let t = login(&w, "manager");
    // Malformed JSON and a missing field: 400, naming what is wrong.
    let (code, body) = call_full(&w, "POST", "/api/v1/users", Some("{\"name\": "), Some(&t));
    assert_eq!(code, 400, "{body}");
    let (code, body) = call_full(
        &w,
        "POST",
        "/api/v1/users",
        Some(r#"{"name": "x1", "role": "auditor"}"#),
        Some(&t),
    );
    assert_eq!(code, 400, "{body}");
    assert!(body.contains(r#""field":"password""#), "{body}");
    // A wrong type names its field too.
    let (code, body) = call_full(
        &w,
        "POST",
        "/api/v1/users",
        Some(r#"{"name": "x1", "role": 5, "password": "a long enough password"}"#),
        Some(&t),
    );
    assert_eq!(code, 400, "{body}");
    assert!(body.contains(r#""field":"role""#), "{body}");
    let (code, body) = call_full(&w, "GET", "/api/v1/ledger?limit=many", None, Some(&t));
    assert_eq!(code, 400, "{body}");
    assert!(body.contains(r#""field":"limit""#), "{body}");
    // Over 1 MiB: 413.
    // (The server answers before the whole body is sent, so the client writes raw and reads the answer.)
    let big = format!(
        r#"{{"zones_checked": true, "pad": "{}"}}"#,
        "x".repeat(1 << 21)
    );
    let answer = {
        use std::io::{Read, Write};
        let mut c = std::net::TcpStream::connect(w.server.addr()).unwrap();
        let head = format!(
            "POST /api/v1/cameras/cam-a/scene/accept HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {t}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            big.len()
        );
        c.write_all(head.as_bytes()).unwrap();
        let _ = c.write_all(big.as_bytes());
        let mut out = String::new();
        let _ = c.read_to_string(&mut out);
        out
    };
    assert!(
        answer.starts_with("HTTP/1.1 413"),
        "{}",
        &answer[..answer.len().min(200)]
    );
    // Injection and traversal strings in names and query parameters.
    for evil in [
        "'; DROP TABLE users;--",
        "../../etc/passwd",
        "..%2F..%2Fetc%2Fpasswd",
    ] {
        let body = serde_json::json!({"name": evil, "role": "auditor", "password": PW}).to_string();
        let (code, resp) = call_full(&w, "POST", "/api/v1/users", Some(&body), Some(&t));
        assert_eq!(code, 400, "{evil}: {resp}");
        let q = format!(
            "/api/v1/ledger?kind={}",
            evil.replace(' ', "%20").replace(';', "%3B")
        );
        let (code, _) = call_full(&w, "GET", &q, None, Some(&t));
        assert_eq!(code, 400, "{q}");
    }
    // Days that do not exist and years that would wrap are refused, never rolled over.
    for bad in [
        "yesterday-ish",
        "2026-02-31",
        "99999-01-01",
        "99999999999999",
    ] {
        let (code, resp) = call_full(
            &w,
            "GET",
            &format!("/api/v1/ledger?from={bad}"),
            None,
            Some(&t),
        );
        assert_eq!(code, 400, "{bad}: {resp}");
        assert!(resp.contains(bad), "the error names the value: {resp}");
    }
    assert!(w.directory.get("users").unwrap().is_none());
    assert_eq!(w.directory.list().unwrap().len(), Role::ALL.len() + 1);
    let _ = Permission::ALL;
}

/// A hostile client cannot take what cameras need: connections beyond the budget are closed as they come,
/// half-sent and idle connections are dropped after the header deadline, and a client over its rate gets 429
/// with Retry-After while the service keeps answering.
#[test]
fn connections_beyond_the_budget_slow_headers_and_floods_are_bounded() {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::{Duration, Instant};
    let w = world_with(
        "limits",
        server::Limits {
            max_connections: 8,
            header_timeout: Duration::from_secs(1),
            rate_per_sec: 5.0,
            burst: 5.0,
            ..server::Limits::default()
        },
    );
    let addr = w.server.addr();
    let closed_within = |s: &mut TcpStream, limit: Duration| {
        s.set_read_timeout(Some(limit)).unwrap();
        let started = Instant::now();
        let mut buf = [0u8; 64];
        let closed =
            matches!(s.read(&mut buf), Ok(0)) || matches!(s.read(&mut buf), Ok(0) | Err(_));
        (closed, started.elapsed())
    };
    let refused_before = telemetry::metrics().http_connections_refused_total.get();
    // Eight idle sockets hold the budget (one sends half a request, as slowloris does).
    let mut idle: Vec<TcpStream> = (0..8).map(|_| TcpStream::connect(addr).unwrap()).collect();
    idle[0]
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    // The ninth is closed at once.
    let mut extra = TcpStream::connect(addr).unwrap();
    let (closed, took) = closed_within(&mut extra, Duration::from_secs(3));
    assert!(
        closed && took < Duration::from_millis(900),
        "beyond the budget: closed {closed} after {took:?}"
    );
    assert!(telemetry::metrics().http_connections_refused_total.get() > refused_before);
    // The idle and half-sent ones are closed by the header deadline (1 s), freeing the budget.
    for s in &mut idle {
        let (closed, took) = closed_within(s, Duration::from_secs(5));
        assert!(
            closed && took < Duration::from_secs(3),
            "idle socket closed {closed} after {took:?}"
        );
    }
    let (code, _) = call_full(&w, "GET", "/healthz", None, None);
    assert_eq!(code, 200, "the service answers again");
    // Over the rate: 429 with Retry-After, then served again once the bucket refills.
    let agent = agent();
    let mut codes = Vec::new();
    let mut retry_after = None;
    for _ in 0..12 {
        let r = agent.get(&format!("{}/healthz", base(&w))).call().unwrap();
        if r.status().as_u16() == 429 {
            retry_after = r
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_string());
        }
        codes.push(r.status().as_u16());
    }
    assert!(codes.contains(&429) && codes[0] == 200, "{codes:?}");
    assert_eq!(retry_after.as_deref(), Some("1"));
    std::thread::sleep(Duration::from_millis(1200));
    let (code, _) = call_full(&w, "GET", "/healthz", None, None);
    assert_eq!(code, 200);
}

/// Trusts exactly one certificate, by its SHA-256 fingerprint (as a user checks the printed one).
#[derive(Debug)]
struct Pinned(String);

impl rustls::client::danger::ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        use sha2::Digest;
        let fp: Vec<String> = sha2::Sha256::digest(end_entity.as_ref())
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        if fp.join(":") == self.0 {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General("fingerprint differs".into()))
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &rustls::crypto::ring::default_provider().signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &rustls::crypto::ring::default_provider().signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        rustls::crypto::ring::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// GET `path` over TLS, trusting only the certificate with `fingerprint`; the raw response.
fn https_get(addr: std::net::SocketAddr, path: &str, fingerprint: &str) -> Result<String, String> {
    use std::io::{Read, Write};
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .dangerous()
    .with_custom_certificate_verifier(std::sync::Arc::new(Pinned(fingerprint.into())))
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(std::sync::Arc::new(config), name).unwrap();
    let tcp = std::net::TcpStream::connect(addr).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    tls.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .map_err(|e| e.to_string())?;
    let mut out = String::new();
    let _ = tls.read_to_string(&mut out);
    if out.is_empty() {
        return Err("no answer".into());
    }
    Ok(out)
}

/// HTTPS with a self-signed pair made once and kept (0600), checked by its printed fingerprint; the same port
/// answers plain HTTP from loopback (the container's healthcheck), and a wrong certificate is refused.
#[test]
fn https_with_a_kept_self_signed_certificate() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("garim-tls-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cert = server::tls::self_signed(&dir, &["localhost".into()]).unwrap();
    assert!(cert.created);
    let again = server::tls::self_signed(&dir, &["localhost".into()]).unwrap();
    assert!(
        !again.created && again.fingerprint == cert.fingerprint,
        "kept, not made again"
    );
    for f in ["cert.pem", "key.pem"] {
        let mode = std::fs::metadata(dir.join(f)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{f}");
    }
    let w = world_on(
        "tls",
        server::Limits::default(),
        server::tls::Transport::Tls(cert.config.clone()),
    );
    let addr = w.server.addr();
    let r = https_get(addr, "/healthz", &cert.fingerprint).unwrap();
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    assert!(
        https_get(addr, "/healthz", "00:11").is_err(),
        "another certificate is not trusted"
    );
    let (code, _) = call_full(&w, "GET", "/healthz", None, None);
    assert_eq!(code, 200, "plain HTTP from loopback");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Logs in for a browser: the session cookie and the CSRF token from the answer.
fn cookie_login(w: &World, user: &str) -> (String, String) {
    let mut r = agent()
        .post(&format!("{}/api/v1/session/login", base(w)))
        .send_json(serde_json::json!({"user": user, "password": PW}))
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    let cookie = cookie.split(';').next().unwrap().to_string();
    let v: serde_json::Value = r.body_mut().read_json().unwrap();
    (cookie, v["csrf"].as_str().unwrap().to_string())
}

#[test]
fn a_cookie_session_changes_nothing_without_its_csrf_token() {
    let w = world("csrf");
    let (cookie, csrf) = cookie_login(&w, "manager");
    let send = |method: &str, path: &str, body: &str, token: Option<&str>| {
        let url = format!("{}{path}", base(&w));
        let a = agent();
        let mut r = if method == "PATCH" {
            a.patch(&url)
        } else {
            a.post(&url)
        }
        .header("Cookie", &cookie)
        .header("Content-Type", "application/json");
        if let Some(t) = token {
            r = r.header("X-CSRF-Token", t);
        }
        let mut resp = r.send(body).unwrap();
        (
            resp.status().as_u16(),
            resp.body_mut().read_to_string().unwrap(),
        )
    };
    // Every state-changing route of the table: refused without the token, or with another session's.
    let (_, other) = cookie_login(&w, "auditor");
    for route in ROUTES
        .iter()
        .filter(|r| r.method != "GET" && r.gate != Gate::Public)
    {
        let body = route.example_body.unwrap_or("{}");
        for token in [None, Some(other.as_str()), Some("")] {
            let (code, text) = send(route.method.as_str(), route.example, body, token);
            assert_eq!(code, 403, "{} with {token:?}: {text}", route.path);
            assert!(text.contains("x-csrf-token"), "{text}");
        }
    }
    // Reads that write a ledger row need it too.
    for path in server::routes::LEDGERED_READS {
        let route = ROUTES.iter().find(|r| r.path == *path).unwrap();
        let get = |token: Option<&str>| {
            let mut r = agent()
                .get(&format!("{}{}", base(&w), route.example))
                .header("Cookie", &cookie);
            if let Some(t) = token {
                r = r.header("X-CSRF-Token", t);
            }
            r.call().unwrap().status().as_u16()
        };
        assert_eq!(get(None), 403, "{path} without the token");
        assert_eq!(
            get(Some(&other)),
            403,
            "{path} with another session's token"
        );
        assert_eq!(get(Some(&csrf)), 200, "{path} with the token");
    }
    // With it, the change goes through; other GETs never need it; bearer sessions never need it.
    let (code, text) = send("POST", "/api/v1/inspections", "{}", Some(&csrf));
    assert!((200..300).contains(&code), "{code} {text}");
    let mut me = agent()
        .get(&format!("{}/api/v1/session/me", base(&w)))
        .header("Cookie", &cookie)
        .call()
        .unwrap();
    assert_eq!(me.status(), 200);
    let me: serde_json::Value = me.body_mut().read_json().unwrap();
    assert_eq!(me["csrf"], csrf.as_str());
    assert_eq!(me["site"], "시험 사이트");
    assert!(
        me["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "manage_policy")
    );
    let bearer = login(&w, "manager");
    let code = call(&w, "POST", "/api/v1/inspections", None, Some(&bearer));
    assert!((200..300).contains(&code), "{code}");
}

#[test]
fn the_console_is_served_with_a_policy_that_refuses_inline_script() {
    let w = world("console");
    for (path, kind) in [
        ("/", "text/html"),
        ("/console/app.js", "text/javascript"),
        ("/console/app.css", "text/css"),
    ] {
        let r = agent().get(&format!("{}{path}", base(&w))).call().unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind)
        );
        let csp = r.headers()["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    }
    for path in [
        "/console/index.html",
        "/console/..%2FCargo.toml",
        "/console/nope.js",
    ] {
        assert_eq!(call(&w, "GET", path, None, None), 404, "{path}");
    }
    // The public notice: no login, and no script may run in it.
    let r = agent()
        .get(&format!("{}/site/notice", base(&w)))
        .call()
        .unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.starts_with("default-src 'none'") && !csp.contains("script"),
        "{csp}"
    );
}

#[test]
fn live_views_are_limited_per_user_and_end_with_their_session() {
    use std::io::Read;
    let w = world("live");
    let token = login(&w, "access");
    let live = |token: &str, query: &str| {
        agent()
            .get(&format!(
                "{}/api/v1/cameras/cam-a/live.mjpeg{query}",
                base(&w)
            ))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .unwrap()
    };
    let open = || live(&token, "");
    let mut views: Vec<_> = (0..3).map(|_| open()).collect();
    for v in &mut views {
        assert_eq!(v.status(), 200);
        assert!(
            v.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("multipart/x-mixed-replace")
        );
        let mut first = [0u8; 64];
        v.body_mut().as_reader().read_exact(&mut first).unwrap();
        assert!(first.starts_with(b"--garimframe\r\nContent-Type: image/jpeg"));
    }
    // A fourth view of the same user is refused; another user still gets one.
    let fourth = open();
    assert_eq!(fourth.status(), 429);
    let other = login(&w, "manager");
    let mut theirs = live(&other, "?frames=2");
    assert_eq!(theirs.status(), 200);
    let mut all = Vec::new();
    theirs.body_mut().as_reader().read_to_end(&mut all).unwrap();
    assert_eq!(all.windows(12).filter(|w| w == b"--garimframe").count(), 2);
    // Logged out: the open views end within a few seconds instead of streaming on.
    assert_eq!(
        call(&w, "POST", "/api/v1/session/logout", None, Some(&token)),
        200
    );
    let started = std::time::Instant::now();
    for mut v in views {
        let mut rest = Vec::new();
        v.body_mut().as_reader().read_to_end(&mut rest).unwrap();
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    // Their slots are free again.
    let again = login(&w, "access");
    assert_eq!(live(&again, "?frames=1").status(), 200);
}

#[test]
fn a_review_is_signed_only_as_it_was_read() {
    let w = world("review");
    let token = login(&w, "manager");
    let get = |month: &str| -> serde_json::Value {
        let mut r = agent()
            .get(&format!("{}/api/v1/ledger/review?month={month}", base(&w)))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .unwrap();
        assert_eq!(r.status(), 200);
        r.body_mut().read_json().unwrap()
    };
    let now = ledger::time::Kst::of(w.ledger.now_ms());
    let month = format!("{:04}-{:02}", now.year, now.month);
    let read = get(&month);
    let sha = read["sha256"].as_str().unwrap().to_string();
    // A row lands after the manager read it: the signature of what they read is refused.
    call(&w, "GET", "/api/v1/session/me", None, Some(&token));
    assert!(login(&w, "auditor").len() > 10);
    let body = serde_json::json!({"month": month, "sha256": sha}).to_string();
    let (code, text) = call_full(
        &w,
        "POST",
        "/api/v1/ledger/review",
        Some(&body),
        Some(&token),
    );
    assert_eq!(code, 409, "{text}");
    assert!(text.contains("changed since you read it"), "{text}");
    // Read again, sign that: a Review row with the hash of what was read.
    let sha = get(&month)["sha256"].as_str().unwrap().to_string();
    let body = serde_json::json!({"month": month, "sha256": sha}).to_string();
    let (code, text) = call_full(
        &w,
        "POST",
        "/api/v1/ledger/review",
        Some(&body),
        Some(&token),
    );
    assert_eq!(code, 200, "{text}");
    let rows = w
        .ledger
        .list(&ledger::Filter {
            kinds: vec![ledger::Kind::Review],
            ..ledger::Filter::default()
        })
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].entry.detail["sha256"], sha.as_str());
    assert_eq!(get(&month)["signatures"][0]["by"], "manager");
    let (code, _) = call_full(
        &w,
        "GET",
        "/api/v1/ledger/review?month=2026-13",
        None,
        Some(&token),
    );
    assert_eq!(code, 400);
}
