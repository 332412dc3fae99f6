//! The one route table of `/api/v1`, and the one place requests are authorised: the `authorize` layer finds
//! the matched route in `ROUTES`, authenticates the session (cookie or bearer token), checks the route's
//! permission from the role (deny by default) and the camera scope of contractors, and only then runs the
//! handler. Tests enumerate `ROUTES` to check every route × role.

use crate::api::{AcceptBody, ApiError, ExportQuery, PolicyBody, RangeQuery};
use crate::{AppState, Client, pages};
use access::{Permission, Principal, SessionKind};
use axum::Json;
use axum::body::Body;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, patch, post};
use serde::Deserialize;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Anyone (login, /healthz, /metrics): carries no personal data.
    Public,
    /// An authenticated principal whose role has this permission.
    Needs(Permission),
}

pub struct Route {
    pub method: Method,
    /// The axum path, with `{camera}`-style parameters.
    pub path: &'static str,
    pub gate: Gate,
    /// A concrete request the tests make: path and query, and the JSON body (if any).
    pub example: &'static str,
    pub example_body: Option<&'static str>,
    handler: fn() -> MethodRouter<AppState>,
}

const fn route(
    method: Method,
    path: &'static str,
    gate: Gate,
    example: &'static str,
    example_body: Option<&'static str>,
    handler: fn() -> MethodRouter<AppState>,
) -> Route {
    Route {
        method,
        path,
        gate,
        example,
        example_body,
        handler,
    }
}

use Gate::{Needs, Public};
use Permission as P;

/// Every route of the service. Camera routes take the camera as `{camera}`: a contractor asking for one outside
/// its scope gets the same 404 as for a camera that does not exist.
pub static ROUTES: &[Route] = &[
    route(Method::GET, "/healthz", Public, "/healthz", None, || {
        get(healthz)
    }),
    // The console: its page and files carry no data; everything it shows comes from /api/v1 after login.
    route(Method::GET, "/", Public, "/", None, || get(pages::console)),
    route(
        Method::GET,
        "/console/{file}",
        Public,
        "/console/app.js",
        None,
        || get(pages::console_file),
    ),
    // What the law makes public (PIPA Art. 25(7)), at stable URLs a homepage can link to.
    route(
        Method::GET,
        "/site/notice",
        Public,
        "/site/notice",
        None,
        || get(pages::notice),
    ),
    route(
        Method::GET,
        "/site/signs",
        Public,
        "/site/signs",
        None,
        || get(pages::signs),
    ),
    route(Method::GET, "/metrics", Public, "/metrics", None, || {
        get(metrics)
    }),
    route(
        Method::POST,
        "/api/v1/session/login",
        Public,
        "/api/v1/session/login",
        None,
        || post(login),
    ),
    route(
        Method::POST,
        "/api/v1/session/logout",
        Needs(P::ReadStatus),
        "/api/v1/session/logout",
        None,
        || post(logout),
    ),
    route(
        Method::GET,
        "/api/v1/session/me",
        Needs(P::ReadStatus),
        "/api/v1/session/me",
        None,
        || get(me),
    ),
    route(
        Method::GET,
        "/api/v1/cameras",
        Needs(P::ReadStatus),
        "/api/v1/cameras",
        None,
        || get(cameras),
    ),
    route(
        Method::GET,
        "/api/v1/cameras/{camera}/snapshot.jpg",
        Needs(P::ViewLive),
        "/api/v1/cameras/cam-a/snapshot.jpg",
        None,
        || get(snapshot),
    ),
    route(
        Method::GET,
        "/api/v1/cameras/{camera}/live.mjpeg",
        Needs(P::ViewLive),
        "/api/v1/cameras/cam-a/live.mjpeg?frames=1",
        None,
        || get(pages::live_mjpeg),
    ),
    route(
        Method::GET,
        "/api/v1/cameras/{camera}/trend",
        Needs(P::ReadStatus),
        "/api/v1/cameras/cam-a/trend",
        None,
        || get(pages::trend),
    ),
    route(
        Method::GET,
        "/api/v1/cameras/{camera}/zones",
        Needs(P::ReadPolicy),
        "/api/v1/cameras/cam-a/zones",
        None,
        || get(pages::zones),
    ),
    route(
        Method::POST,
        "/api/v1/cameras/{camera}/zones",
        Needs(P::ManagePolicy),
        "/api/v1/cameras/cam-a/zones",
        Some(
            r#"{"privacy_masks": [[[0, 0], [0.5, 0], [0.5, 0.5]]], "base_sha256": "x", "reason": "matrix"}"#,
        ),
        || post(pages::put_zones),
    ),
    route(
        Method::GET,
        "/api/v1/cameras/{camera}/scene",
        Needs(P::ReadStatus),
        "/api/v1/cameras/cam-a/scene",
        None,
        || get(scene),
    ),
    route(
        Method::POST,
        "/api/v1/cameras/{camera}/scene/accept",
        Needs(P::AcceptScene),
        "/api/v1/cameras/cam-a/scene/accept",
        Some(r#"{"zones_checked": true}"#),
        || post(accept_scene),
    ),
    route(
        Method::GET,
        "/api/v1/cameras/{camera}/export.mp4",
        Needs(P::ExportRecordings),
        "/api/v1/cameras/cam-a/export.mp4?from=2026-11-24T09:00:00Z&to=2026-11-24T09:10:00Z&purpose=incident",
        None,
        || get(export),
    ),
    route(
        Method::GET,
        "/api/v1/recordings",
        Needs(P::ViewRecordings),
        "/api/v1/recordings?camera=cam-a",
        None,
        || get(recordings),
    ),
    route(
        Method::GET,
        "/api/v1/policy",
        Needs(P::ReadPolicy),
        "/api/v1/policy",
        None,
        || get(policy),
    ),
    route(
        Method::POST,
        "/api/v1/policy",
        Needs(P::ManagePolicy),
        "/api/v1/policy",
        Some(r#"{"toml": "[site]\nname = \"x\"\n", "reason": "matrix"}"#),
        || post(put_policy),
    ),
    route(
        Method::GET,
        "/api/v1/policy/history",
        Needs(P::ReadPolicy),
        "/api/v1/policy/history",
        None,
        || get(policy_history),
    ),
    route(
        Method::GET,
        "/api/v1/users",
        Needs(P::ManageUsers),
        "/api/v1/users",
        None,
        || get(users),
    ),
    route(
        Method::POST,
        "/api/v1/users",
        Needs(P::ManageUsers),
        "/api/v1/users",
        Some(r#"{"name": "matrix-new", "role": "auditor", "password": "a long enough password"}"#),
        || post(add_user),
    ),
    route(
        Method::PATCH,
        "/api/v1/users/{user}",
        Needs(P::ManageUsers),
        "/api/v1/users/matrix-target",
        Some(r#"{"role": "auditor"}"#),
        || patch(change_user),
    ),
    route(
        Method::GET,
        "/api/v1/ledger",
        Needs(P::ReadLedger),
        "/api/v1/ledger?kind=login&limit=10",
        None,
        || get(ledger_list),
    ),
    route(
        Method::GET,
        "/api/v1/ledger/verify",
        Needs(P::VerifyLedger),
        "/api/v1/ledger/verify",
        None,
        || get(ledger_verify),
    ),
    route(
        Method::GET,
        "/api/v1/ledger/export",
        Needs(P::ExportLedger),
        "/api/v1/ledger/export?format=csv",
        None,
        || get(ledger_export),
    ),
    route(
        Method::GET,
        "/api/v1/ledger/review",
        Needs(P::ReadLedger),
        "/api/v1/ledger/review?month=2026-11",
        None,
        || get(pages::review),
    ),
    route(
        Method::POST,
        "/api/v1/ledger/review",
        Needs(P::SignReview),
        "/api/v1/ledger/review",
        // An empty month's review (what the GET shows for it, and so what its signature hashes).
        Some(
            r#"{"month": "2001-01", "sha256": "b71f0ed2a6e899209d0ed337bbfe33f02ff53af276892df3701b332fdd24f90a"}"#,
        ),
        || post(pages::sign_review),
    ),
    route(
        Method::GET,
        "/api/v1/inspections",
        Needs(P::ReadInspections),
        "/api/v1/inspections",
        None,
        || get(inspections),
    ),
    route(
        Method::POST,
        "/api/v1/inspections",
        Needs(P::RunInspection),
        "/api/v1/inspections",
        None,
        || post(inspect),
    ),
    route(
        Method::POST,
        "/api/v1/inspections/{id}/countersign",
        Needs(P::SignInspection),
        "/api/v1/inspections/1/countersign",
        Some(r#"{"note": "checked"}"#),
        || post(countersign),
    ),
    route(
        Method::GET,
        "/api/v1/requests",
        Needs(P::ReadRequests),
        "/api/v1/requests",
        None,
        || get(requests_list),
    ),
    route(
        Method::POST,
        "/api/v1/requests",
        Needs(P::ManageRequests),
        "/api/v1/requests",
        Some(
            r#"{"type": "existence", "requester": "홍길동", "contact": "010", "cameras": ["cam-a"], "from": 0, "to": 60, "identity_check": "주민등록증"}"#,
        ),
        || post(requests_create),
    ),
    route(
        Method::GET,
        "/api/v1/requests/{id}",
        Needs(P::ReadRequests),
        "/api/v1/requests/DSR-2026-0001",
        None,
        || get(requests_get),
    ),
    route(
        Method::POST,
        "/api/v1/requests/{id}/state",
        Needs(P::ManageRequests),
        "/api/v1/requests/DSR-2026-0001/state",
        Some(r#"{"to": "checking"}"#),
        || post(requests_advance),
    ),
    route(
        Method::POST,
        "/api/v1/requests/{id}/decision",
        Needs(P::ManageRequests),
        "/api/v1/requests/DSR-2026-0001/decision",
        Some(r#"{"outcome": "fulfil"}"#),
        || post(requests_decide),
    ),
    route(
        Method::POST,
        "/api/v1/requests/{id}/existence",
        Needs(P::ManageRequests),
        "/api/v1/requests/DSR-2026-0001/existence",
        None,
        || post(requests_existence),
    ),
    route(
        Method::GET,
        "/api/v1/requests/{id}/documents/{which}",
        Needs(P::ReadRequests),
        "/api/v1/requests/DSR-2026-0001/documents/claim",
        None,
        || get(requests_document),
    ),
    route(
        Method::GET,
        "/api/v1/openings",
        Needs(P::ReadRequests),
        "/api/v1/openings",
        None,
        || get(openings_list),
    ),
    route(
        Method::POST,
        "/api/v1/openings",
        Needs(P::FileOpening),
        "/api/v1/openings",
        Some(
            r#"{"cameras": ["cam-a"], "from": 0, "to": 60, "reason": "r", "ground": "emergency", "requested_by": "119"}"#,
        ),
        || post(openings_file),
    ),
    route(
        Method::POST,
        "/api/v1/openings/{id}/approve",
        Needs(P::ApproveOpening),
        "/api/v1/openings/SA-2026-0001/approve",
        Some(r#"{"password": "a long enough password"}"#),
        || post(openings_approve),
    ),
    route(
        Method::GET,
        "/api/v1/openings/{id}/review",
        Needs(P::FileOpening),
        "/api/v1/openings/SA-2026-0001/review",
        None,
        || get(openings_review),
    ),
    route(
        Method::POST,
        "/api/v1/openings/{id}/review",
        Needs(P::FileOpening),
        "/api/v1/openings/SA-2026-0001/review",
        Some(r#"{"marks": [{"at": 0, "bbox": [0.1, 0.1, 0.2, 0.5]}]}"#),
        || post(openings_review_save),
    ),
    route(
        Method::GET,
        "/api/v1/openings/{id}/frames/{n}",
        Needs(P::FileOpening),
        "/api/v1/openings/SA-2026-0001/frames/0",
        None,
        || get(openings_still),
    ),
    route(
        Method::POST,
        "/api/v1/openings/{id}/export",
        Needs(P::FileOpening),
        "/api/v1/openings/SA-2026-0001/export",
        Some("{}"),
        || post(openings_export),
    ),
    route(
        Method::POST,
        "/api/v1/openings/{id}/erase",
        Needs(P::FileOpening),
        "/api/v1/openings/SA-2026-0001/erase",
        Some("{}"),
        || post(openings_erase),
    ),
    route(
        Method::GET,
        "/api/v1/openings/{id}/sidecar",
        Needs(P::ReadRequests),
        "/api/v1/openings/SA-2026-0001/sidecar",
        None,
        || get(openings_sidecar),
    ),
];

/// The router of `ROUTES`, every route behind `authorize`.
pub fn router(state: AppState) -> axum::Router {
    let mut by_path: Vec<(&'static str, MethodRouter<AppState>)> = Vec::new();
    for r in ROUTES {
        match by_path.iter_mut().find(|(p, _)| *p == r.path) {
            Some((_, m)) => *m = std::mem::take(m).merge((r.handler)()),
            None => by_path.push((r.path, (r.handler)())),
        }
    }
    let mut app = axum::Router::new();
    for (path, m) in by_path {
        app = app.route(path, m);
    }
    app.route_layer(axum::middleware::from_fn_with_state(
        state.clone(),
        authorize,
    ))
    .fallback(|| async { ApiError::NotFound("no such route".into()) })
    .layer(axum::extract::DefaultBodyLimit::max(crate::MAX_BODY_BYTES))
    .with_state(state)
}

pub(crate) const COOKIE: &str = "garim_session";

/// Reads that write a 관리대장 row (an export is 이용 or 제공): a page of another origin must not be able to make
/// them in a user's name with a planted link, so they need the CSRF token like changes do.
pub const LEDGERED_READS: &[&str] = &[
    "/api/v1/cameras/{camera}/export.mp4",
    "/api/v1/ledger/export",
    "/api/v1/openings/{id}/review",
    "/api/v1/openings/{id}/frames/{n}",
];

/// Routes whose handler runs a footage job (decrypting, encoding, re-sealing) before it answers: they get
/// `Limits::job_timeout` instead of the usual request deadline.
pub const JOB_ROUTES: &[&str] = &[
    "/api/v1/cameras/{camera}/export.mp4",
    "/api/v1/openings/{id}/approve",
    "/api/v1/openings/{id}/export",
    "/api/v1/openings/{id}/erase",
];

/// Whether a request's path is one of [`JOB_ROUTES`] (a `{…}` segment matches any one segment).
pub fn is_job(path: &str) -> bool {
    JOB_ROUTES.iter().any(|pattern| {
        let (mut p, mut q) = (pattern.split('/'), path.split('/'));
        loop {
            match (p.next(), q.next()) {
                (None, None) => return true,
                (Some(a), Some(b)) if a == b || (a.starts_with('{') && !b.is_empty()) => {}
                _ => return false,
            }
        }
    })
}

/// The header a cookie session's changes carry (its value: `csrf_of` the session token).
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The CSRF token of a session: derived from its token, so it needs no storage and dies with the session;
/// the cookie is HttpOnly, so only an answer of this origin (login, `me`) tells a page what it is.
pub fn csrf_of(session_token: &str) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(format!("garim-csrf\0{session_token}").as_bytes());
    hex::encode(&d[..16])
}

fn has_bearer(headers: &HeaderMap) -> bool {
    headers.contains_key(header::AUTHORIZATION)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The session token of a request: `Authorization: Bearer …`, else the session cookie.
pub(crate) fn token_of(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        return v.strip_prefix("Bearer ").map(|t| t.trim().to_string());
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

async fn authorize(
    State(state): State<AppState>,
    matched: MatchedPath,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(route) = ROUTES
        .iter()
        .find(|r| r.path == matched.as_str() && r.method == *req.method())
    else {
        // Not in the table: nothing is served that the table doesn't list.
        return ApiError::NotFound("no such route".into()).into_response();
    };
    let Gate::Needs(permission) = route.gate else {
        return next.run(req).await;
    };
    let Some(token) = token_of(req.headers()) else {
        return ApiError::Unauthenticated("log in first (session cookie or bearer token)".into())
            .into_response();
    };
    // A browser sends the cookie with any request, a forged one included: a change made with the cookie must
    // carry the session's CSRF token too, which only a page of this origin can have read.
    let changes = !matches!(*req.method(), Method::GET | Method::HEAD)
        || LEDGERED_READS.contains(&matched.as_str());
    if changes
        && !has_bearer(req.headers())
        && req
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|v| !constant_time_eq(v.as_bytes(), csrf_of(&token).as_bytes()))
    {
        return ApiError::Forbidden(format!(
            "a change made with the session cookie needs the {CSRF_HEADER} header of this session"
        ))
        .into_response();
    }
    let directory = state.accounts.directory.clone();
    let principal = match tokio::task::spawn_blocking(move || directory.authenticate(&token)).await
    {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => return ApiError::Unauthenticated(e.to_string()).into_response(),
        Err(e) => return ApiError::Internal(format!("authentication failed: {e}")).into_response(),
    };
    if let Err(e) = principal.require(permission) {
        return ApiError::Forbidden(e.to_string()).into_response();
    }
    if matched.as_str().contains("{camera}") {
        let (mut parts, body) = req.into_parts();
        let camera = Path::<std::collections::HashMap<String, String>>::from_request_parts(
            &mut parts, &state,
        )
        .await
        .ok()
        .and_then(|p| p.0.get("camera").cloned())
        .unwrap_or_default();
        if !principal.may_see_camera(&camera) {
            return ApiError::no_camera(&camera).into_response();
        }
        req = Request::from_parts(parts, body);
    }
    req.extensions_mut().insert(principal);
    next.run(req).await
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = match &self {
            ApiError::BadRequest { .. } | ApiError::Invalid { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let mut body = serde_json::json!({"error": self.to_string()});
        match &self {
            ApiError::BadRequest { field, .. } => body["field"] = field.clone().into(),
            ApiError::Invalid { field, errors, .. } => {
                body["field"] = field.clone().into();
                body["errors"] = errors.clone();
            }
            _ => {}
        }
        let mut resp = (code, Json(body)).into_response();
        if let ApiError::TooMany {
            retry_after_secs, ..
        } = self
        {
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}

/// A JSON body whose errors are 400s naming the field (axum's default is 422 for a type error).
pub struct Body400<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for Body400<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body400(v)),
            Err(JsonRejection::BytesRejection(e))
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                Err(ApiError::TooLarge("body: larger than 1 MiB".into()))
            }
            Err(e) => Err(json_error(&e)),
        }
    }
}

fn json_error(e: &JsonRejection) -> ApiError {
    named_error(&e.body_text(), "body")
}

/// A 400 from axum's text of a body or query that did not deserialise: its fixed prefix dropped, the field
/// named — from serde's path (`role: invalid type …`) or its message (missing/unknown field `x`).
fn named_error(text: &str, whole: &str) -> ApiError {
    let detail = [
        "Failed to deserialize the JSON body into the target type: ",
        "Failed to parse the request body as JSON: ",
        "Failed to deserialize query string: ",
    ]
    .iter()
    .find_map(|p| text.strip_prefix(p))
    .unwrap_or(text);
    let is_path = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']'))
    };
    if let Some((path, rest)) = detail.split_once(": ").filter(|(p, _)| is_path(p)) {
        return ApiError::bad(path, rest.to_string());
    }
    let field = detail
        .split('`')
        .nth(1)
        .filter(|_| detail.contains("field"))
        .unwrap_or(whole);
    ApiError::bad(field, detail.to_string())
}

/// Query parameters whose errors are 400s.
pub struct Query400<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequestParts<S> for Query400<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query400(q.0))
            .map_err(|e: QueryRejection| named_error(&e.body_text(), "query"))
    }
}

/// Runs blocking site work (index, ledger, files) off the async workers.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(ApiError::Internal(format!("request failed: {e}"))))
}

pub(crate) type Answer = Result<Response, ApiError>;

pub(crate) fn json(v: impl serde::Serialize) -> Answer {
    Ok(Json(v).into_response())
}

async fn healthz(State(s): State<AppState>) -> Response {
    let (ok, detail) = (s.health)();
    let code = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(detail)).into_response()
}

async fn metrics() -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        telemetry::metrics().encode_text(),
    )
        .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    user: String,
    password: String,
    /// `cookie` (browser, default) or `bearer` (scripts, CLI: the token is in the answer)
    #[serde(default)]
    session: Option<String>,
}

async fn login(
    State(s): State<AppState>,
    client: Client,
    Body400(b): Body400<LoginBody>,
) -> Answer {
    let kind = match b.session.as_deref() {
        None | Some("cookie") => SessionKind::Cookie,
        Some("bearer") => SessionKind::Bearer,
        Some(other) => {
            return Err(ApiError::bad(
                "session",
                format!("{other:?} is not cookie or bearer"),
            ));
        }
    };
    let accounts = s.accounts.clone();
    let addr = client.0.clone();
    let (token, principal) = blocking(move || {
        let password = access::Password::from(b.password);
        accounts
            .login(&b.user, &password, kind, &addr)
            .map_err(|e| match e {
                access::accounts::AccountError::Throttled(secs) => ApiError::TooMany {
                    message: format!("too many failed logins; retry in {secs} s"),
                    retry_after_secs: secs,
                },
                access::accounts::AccountError::Auth(e) => ApiError::Unauthenticated(e.to_string()),
                e => ApiError::Internal(e.to_string()),
            })
    })
    .await?;
    let me = me_of(&principal, s.site.site_name());
    match kind {
        SessionKind::Bearer => json(serde_json::json!({"token": token.expose(), "me": me})),
        SessionKind::Cookie => {
            let secure = if s.secure_cookies { "; Secure" } else { "" };
            let cookie = format!(
                "{COOKIE}={}; HttpOnly{secure}; SameSite=Strict; Path=/",
                token.expose()
            );
            let mut resp = Json(serde_json::json!({"me": me, "csrf": csrf_of(token.expose())}))
                .into_response();
            resp.headers_mut().insert(
                header::SET_COOKIE,
                HeaderValue::from_str(&cookie).map_err(|e| ApiError::Internal(e.to_string()))?,
            );
            Ok(resp)
        }
    }
}

fn me_of(p: &Principal, site: String) -> serde_json::Value {
    let permissions: Vec<&str> = Permission::ALL
        .into_iter()
        .filter(|perm| p.require(*perm).is_ok())
        .map(Permission::as_str)
        .collect();
    serde_json::json!({
        "user": p.user, "role": p.role, "person_id": p.person_id,
        "cameras": p.camera_scope.as_ref().map(|s| s.iter().cloned().collect::<Vec<_>>()),
        "permissions": permissions, "site": site,
    })
}

async fn logout(
    State(s): State<AppState>,
    client: Client,
    axum::Extension(p): axum::Extension<Principal>,
    headers: HeaderMap,
) -> Answer {
    let token = token_of(&headers).unwrap_or_default();
    let accounts = s.accounts.clone();
    blocking(move || {
        accounts
            .logout(&p, &token, &client.0)
            .map_err(|e| ApiError::Internal(e.to_string()))
    })
    .await?;
    let mut resp = Json(serde_json::json!({"logged_out": true})).into_response();
    let secure = if s.secure_cookies { "; Secure" } else { "" };
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{COOKIE}=; HttpOnly{secure}; SameSite=Strict; Path=/; Max-Age=0"
    )) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

async fn me(
    State(s): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    headers: HeaderMap,
) -> Answer {
    let mut me = me_of(&p, s.site.site_name());
    // The page's CSRF token (a bearer session needs none).
    if !has_bearer(&headers) {
        me["csrf"] = token_of(&headers).map(|t| csrf_of(&t)).into();
    }
    json(me)
}

async fn cameras(
    State(s): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
) -> Answer {
    let site = s.site.clone();
    json(blocking(move || site.cameras(&p)).await?)
}

async fn snapshot(
    State(s): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Path(camera): Path<String>,
) -> Answer {
    let site = s.site.clone();
    let jpeg = blocking(move || site.snapshot(&p, &camera)).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        jpeg,
    )
        .into_response())
}

async fn scene(
    State(s): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Path(camera): Path<String>,
) -> Answer {
    let site = s.site.clone();
    json(blocking(move || site.scene(&p, &camera)).await?)
}

async fn accept_scene(
    State(s): State<AppState>,
    client: Client,
    axum::Extension(p): axum::Extension<Principal>,
    Path(camera): Path<String>,
    Body400(body): Body400<AcceptBody>,
) -> Answer {
    let site = s.site.clone();
    json(blocking(move || site.accept_scene(&p, &camera, &body, &client.0)).await?)
}

async fn export(
    State(s): State<AppState>,
    client: Client,
    axum::Extension(p): axum::Extension<Principal>,
    Path(camera): Path<String>,
    Query400(q): Query400<ExportQuery>,
) -> Answer {
    let site = s.site.clone();
    let file = blocking(move || site.export(&p, &camera, &q, &client.0)).await?;
    Ok(stream_file(file).await)
}

/// Streams a footage file once: unlinked as soon as it is open (dropping it removes the file), so the export
/// exists only while it streams.
async fn stream_file(file: crate::api::ExportFile) -> Response {
    let f = match tokio::fs::File::open(&file.path).await {
        Ok(f) => f,
        Err(e) => return ApiError::Internal(format!("export file: {e}")).into_response(),
    };
    let file_name = file.file_name.clone();
    drop(file);
    let len = f.metadata().await.map(|m| m.len()).unwrap_or(0);
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(f));
    // File names are made from camera ids ([A-Za-z0-9._-], policy), request ids and time stamps: nothing to
    // escape in the header.
    let disposition = format!("attachment; filename=\"{file_name}\"");
    let kind = if file_name.ends_with(".mp4") {
        "video/mp4"
    } else if file_name.ends_with(".zip") {
        "application/zip"
    } else {
        "application/octet-stream"
    };
    (
        [
            (header::CONTENT_TYPE, kind.to_string()),
            (header::CONTENT_LENGTH, len.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

async fn recordings(
    State(s): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Query400(q): Query400<RangeQuery>,
) -> Answer {
    if let Some(c) = &q.camera {
        if !p.may_see_camera(c) {
            return Err(ApiError::no_camera(c));
        }
    }
    let site = s.site.clone();
    json(blocking(move || site.recordings(&p, &q)).await?)
}

async fn policy(
    State(s): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
) -> Answer {
    let site = s.site.clone();
    json(blocking(move || site.policy(&p)).await?)
}

async fn put_policy(
    State(s): State<AppState>,
    client: Client,
    axum::Extension(p): axum::Extension<Principal>,
    Body400(b): Body400<PolicyBody>,
) -> Answer {
    let site = s.site.clone();
    json(blocking(move || site.put_policy(&p, &b, &client.0)).await?)
}

async fn policy_history(
    State(s): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
) -> Answer {
    let site = s.site.clone();
    json(blocking(move || site.policy_history(&p)).await?)
}

fn account_error(e: access::accounts::AccountError) -> ApiError {
    use access::AccessError as E;
    use access::accounts::AccountError as A;
    match e {
        A::Denied(m) => ApiError::Forbidden(m),
        A::Access(E::UnknownUser(n)) => ApiError::NotFound(format!("no user {n:?}")),
        A::Access(e @ E::Exists(_))
        | A::Access(e @ E::LastManager(_))
        | A::Access(e @ E::SealedLockout { .. }) => ApiError::Conflict(e.to_string()),
        A::Access(e @ E::BadName(..)) => ApiError::bad("name", e.to_string()),
        A::Access(e @ E::WeakPassword(_)) => ApiError::bad("password", e.to_string()),
        e => ApiError::Internal(e.to_string()),
    }
}

async fn users(
    State(s): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
) -> Answer {
    let accounts = s.accounts.clone();
    let sealed = s.site.sealed_public_key();
    json(
        blocking(move || {
            let users = accounts.list(&p).map_err(account_error)?;
            // Who holds a share of the policy's sealed key (what a reset, disable or demotion may cost).
            let holders = match sealed {
                Some(key) => accounts
                    .directory
                    .custody_of(&key)
                    .map_err(|e| ApiError::Internal(e.to_string()))?
                    .map(|c| c.holders)
                    .unwrap_or_default(),
                None => Vec::new(),
            };
            Ok::<_, ApiError>(
                users
                    .into_iter()
                    .map(|u| {
                        let share = holders.contains(&u.name);
                        let mut v = serde_json::to_value(u).unwrap_or_default();
                        v["sealed_share"] = share.into();
                        v
                    })
                    .collect::<Vec<_>>(),
            )
        })
        .await?,
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    name: String,
    role: String,
    password: String,
    #[serde(default)]
    person_id: Option<String>,
}

fn role_of(s: &str) -> Result<access::Role, ApiError> {
    access::Role::parse(s).map_err(|e| ApiError::bad("role", e.to_string()))
}

async fn add_user(
    State(s): State<AppState>,
    client: Client,
    axum::Extension(p): axum::Extension<Principal>,
    Body400(b): Body400<NewUser>,
) -> Answer {
    let role = role_of(&b.role)?;
    let accounts = s.accounts.clone();
    let site = s.site.clone();
    let user = blocking(move || {
        site.check_person(role, b.person_id.as_deref())?;
        accounts
            .add(
                &p,
                &client.0,
                &b.name,
                role,
                &access::Password::from(b.password),
                b.person_id.as_deref(),
            )
            .map_err(account_error)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(user)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserChange {
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    disabled: Option<bool>,
    #[serde(default)]
    password: Option<String>,
    /// Needed to change one's own password.
    #[serde(default)]
    current_password: Option<String>,
    /// A policy `people` id (or contractor id); null unlinks.
    #[serde(default, with = "double_option")]
    person_id: Option<Option<String>>,
    /// Go ahead where the change leaves fewer than k managers able to open the sealed key (its recordings
    /// can then never be opened again); without it such a change is refused with 409.
    #[serde(default)]
    allow_sealed_lockout: bool,
}

mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

async fn change_user(
    State(s): State<AppState>,
    client: Client,
    axum::Extension(p): axum::Extension<Principal>,
    Path(name): Path<String>,
    Body400(b): Body400<UserChange>,
) -> Answer {
    let role = b.role.as_deref().map(role_of).transpose()?;
    let accounts = s.accounts.clone();
    let site = s.site.clone();
    let user = blocking(move || {
        let c = &client.0;
        let lockout = if b.allow_sealed_lockout {
            access::SealedLockout::Accept
        } else {
            access::SealedLockout::Refuse
        };
        // Everything is checked before anything changes, so a bad field leaves the user as it was (a change
        // refused for the sealed key is refused for the first of role, password and disabled it meets, all
        // three asking the same of the same shares).
        let current = accounts
            .directory
            .get(&name)
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .ok_or_else(|| ApiError::NotFound(format!("no user {name:?}")))?;
        if let Some(pw) = &b.password {
            access::Password::from(pw.as_str())
                .validate_for(&name)
                .map_err(|e| ApiError::bad("password", e.to_string()))?;
        }
        if b.password.is_some() && name == p.user && b.current_password.is_none() {
            return Err(ApiError::bad(
                "current_password",
                "changing your own password needs your current password",
            ));
        }
        let stays_manager = role.unwrap_or(current.role) == access::Role::Manager
            && !b.disabled.unwrap_or(current.disabled);
        if current.role == access::Role::Manager && !current.disabled && !stays_manager {
            let managers = accounts
                .directory
                .list()
                .map_err(|e| ApiError::Internal(e.to_string()))?
                .iter()
                .filter(|u| u.role == access::Role::Manager && !u.disabled)
                .count();
            if managers <= 1 {
                return Err(ApiError::Conflict(format!(
                    "`{name}` is the last enabled manager: add or enable another manager first"
                )));
            }
        }
        if let Some(person) = &b.person_id {
            site.check_person(role.unwrap_or(current.role), person.as_deref())?;
        } else if role.is_some_and(|r| r != current.role) {
            site.check_person(role.unwrap_or(current.role), current.person_id.as_deref())?;
        }
        let mut user = None;
        if let Some(role) = role {
            user = Some(
                accounts
                    .set_role(&p, c, &name, role, lockout)
                    .map_err(account_error)?,
            );
        }
        if let Some(pw) = b.password {
            let pw = access::Password::from(pw);
            let current = b.current_password.map(access::Password::from);
            user = Some(
                accounts
                    .set_password(&p, c, &name, &pw, current.as_ref(), lockout)
                    .map_err(account_error)?,
            );
        }
        if let Some(person) = b.person_id {
            user = Some(
                accounts
                    .link(&p, c, &name, person.as_deref())
                    .map_err(account_error)?,
            );
        }
        match b.disabled {
            Some(true) => {
                user = Some(
                    accounts
                        .disable(&p, c, &name, lockout)
                        .map_err(account_error)?,
                )
            }
            Some(false) => user = Some(accounts.enable(&p, c, &name).map_err(account_error)?),
            None => {}
        }
        user.ok_or_else(|| {
            ApiError::bad(
                "body",
                "nothing to change: give role, disabled, password or person_id",
            )
        })
    })
    .await?;
    json(user)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LedgerQuery {
    from: Option<String>,
    to: Option<String>,
    /// Comma-separated kinds (login, view, destroy, …)
    kind: Option<String>,
    actor: Option<String>,
    after: Option<u64>,
    limit: Option<usize>,
    /// Export only: csv (default) or xlsx
    format: Option<String>,
}

/// The ledger filter of a query: times as for recordings, kinds by name.
fn filter_of(q: &LedgerQuery) -> Result<ledger::Filter, ApiError> {
    let time = |field: &str, v: &Option<String>| -> Result<Option<i64>, ApiError> {
        v.as_deref()
            .map(|s| {
                vault::time::read_time(s)
                    .map(|t| t * 1000)
                    .map_err(|e| ApiError::bad(field, e))
            })
            .transpose()
    };
    let mut kinds = Vec::new();
    for k in q
        .kind
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter(|k| !k.is_empty())
    {
        kinds.push(ledger::Kind::parse(k).map_err(|e| ApiError::bad("kind", e.to_string()))?);
    }
    Ok(ledger::Filter {
        from_ms: time("from", &q.from)?,
        to_ms: time("to", &q.to)?,
        kinds,
        actor: q.actor.clone(),
        after_seq: q.after,
        limit: Some(q.limit.unwrap_or(1000).min(10_000)),
        ..ledger::Filter::default()
    })
}

async fn ledger_list(State(s): State<AppState>, Query400(q): Query400<LedgerQuery>) -> Answer {
    let filter = filter_of(&q)?;
    let ledger = s.accounts.ledger.clone();
    let rows = blocking(move || {
        ledger
            .list(&filter)
            .map_err(|e| ApiError::Internal(e.to_string()))
    })
    .await?;
    json(serde_json::json!({"rows": rows}))
}

async fn ledger_verify(State(s): State<AppState>) -> Answer {
    let ledger = s.accounts.ledger.clone();
    let checkpoints = s.checkpoints.clone();
    let report = blocking(move || {
        ledger
            .verify(checkpoints.as_deref())
            .map_err(|e| ApiError::Internal(e.to_string()))
    })
    .await?;
    json(serde_json::json!({
        "ok": report.problem.is_none(),
        "rows": report.rows,
        "head": report.head.map(|(seq, hash)| serde_json::json!({"seq": seq, "hash": hash})),
        "problem": report.problem.map(|p| p.to_string()),
    }))
}

async fn ledger_export(
    State(s): State<AppState>,
    client: Client,
    axum::Extension(p): axum::Extension<Principal>,
    Query400(q): Query400<LedgerQuery>,
) -> Answer {
    let mut filter = filter_of(&q)?;
    // One more than the most an export holds, to tell a full period from one too long for one file.
    filter.limit = Some(ledger::MAX_EXPORT_ROWS + 1);
    let xlsx = match q.format.as_deref() {
        None | Some("csv") => false,
        Some("xlsx") => true,
        Some(other) => {
            return Err(ApiError::bad(
                "format",
                format!("{other:?} is not csv or xlsx"),
            ));
        }
    };
    let ledger = s.accounts.ledger.clone();
    let bytes = blocking(move || {
        // One export at a time: each holds its rows in memory.
        static EXPORTING: parking_lot::Mutex<()> = parking_lot::Mutex::new(());
        let Some(_one) = EXPORTING.try_lock() else {
            return Err(ApiError::Unavailable(
                "another ledger export is running; retry when it is done".into(),
            ));
        };
        let internal = |e: &dyn std::fmt::Display| ApiError::Internal(e.to_string());
        let rows = ledger.list(&filter).map_err(|e| internal(&e))?;
        if rows.len() > ledger::MAX_EXPORT_ROWS {
            return Err(ApiError::bad(
                "from",
                format!(
                    "more than {} rows in the period: export a shorter one (from/to)",
                    ledger::MAX_EXPORT_ROWS
                ),
            ));
        }
        // The export's own row before any of it leaves (it is the next row, after those exported).
        ledger
            .append(ledger::Entry {
                kind: ledger::Kind::Use,
                actor: p.user.clone(),
                subject: "관리대장".into(),
                purpose: "ledger export".into(),
                form: if xlsx { "xlsx" } else { "csv" }.into(),
                client: client.0.clone(),
                detail: serde_json::json!({"role": p.role, "rows": rows.len()}),
                ..ledger::Entry::default()
            })
            .map_err(|e| internal(&e))?;
        if xlsx {
            let tmp =
                std::env::temp_dir().join(format!("garim-ledger-{}.xlsx", crate::unique_suffix()));
            let written = ledger::export_xlsx(&rows, &tmp).map_err(|e| internal(&e));
            let bytes = written.and_then(|()| std::fs::read(&tmp).map_err(|e| internal(&e)));
            let _ = std::fs::remove_file(&tmp);
            bytes
        } else {
            let mut out = Vec::new();
            ledger::export_csv(&rows, &mut out).map_err(|e| internal(&e))?;
            Ok(out)
        }
    })
    .await?;
    let (mime, name) = if xlsx {
        (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "ledger.xlsx",
        )
    } else {
        ("text/csv; charset=utf-8", "ledger.csv")
    };
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// Runs one request operation off the async threads and answers it as JSON, HTML or a file.
async fn request_op(
    s: AppState,
    p: Principal,
    op: crate::api::RequestOp,
    client: String,
) -> Response {
    let site = s.site.clone();
    match blocking(move || site.requests(&p, op, &client)).await {
        Ok(crate::api::RequestAnswer::Json(v)) => Json(v).into_response(),
        // A printed form: no script may run in it (its text is escaped too).
        Ok(crate::api::RequestAnswer::Html(h)) => pages::document(h),
        Ok(crate::api::RequestAnswer::File(f)) => stream_file(f).await,
        Ok(crate::api::RequestAnswer::Jpeg(j)) => (
            [
                (header::CONTENT_TYPE, "image/jpeg"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            j,
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

async fn requests_list(
    State(s): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Client(c): Client,
) -> Response {
    request_op(s, p, crate::api::RequestOp::List, c).await
}

async fn requests_get(
    State(s): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Client(c): Client,
    Path(id): Path<String>,
) -> Response {
    request_op(s, p, crate::api::RequestOp::Get(id), c).await
}

async fn requests_create(
    State(s): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Client(c): Client,
    Body400(b): Body400<serde_json::Value>,
) -> Response {
    request_op(s, p, crate::api::RequestOp::Create(b), c).await
}

async fn requests_advance(
    State(s): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Client(c): Client,
    Path(id): Path<String>,
    Body400(b): Body400<serde_json::Value>,
) -> Response {
    request_op(s, p, crate::api::RequestOp::Advance(id, b), c).await
}

async fn requests_decide(
    State(s): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Client(c): Client,
    Path(id): Path<String>,
    Body400(b): Body400<serde_json::Value>,
) -> Response {
    request_op(s, p, crate::api::RequestOp::Decide(id, b), c).await
}

async fn requests_existence(
    State(s): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Client(c): Client,
    Path(id): Path<String>,
) -> Response {
    request_op(s, p, crate::api::RequestOp::Existence(id), c).await
}

async fn requests_document(
    State(s): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Client(c): Client,
    Path((id, which)): Path<(String, String)>,
) -> Response {
    request_op(s, p, crate::api::RequestOp::Document(id, which), c).await
}

async fn openings_list(
    State(s): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Client(c): Client,
) -> Response {
    request_op(s, p, crate::api::RequestOp::Openings, c).await
}

async fn openings_file(
    State(s): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Client(c): Client,
    Body400(b): Body400<serde_json::Value>,
) -> Response {
    request_op(s, p, crate::api::RequestOp::FileOpening(b), c).await
}

async fn openings_approve(
    State(s): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Client(c): Client,
    Path(id): Path<String>,
    Body400(b): Body400<serde_json::Value>,
) -> Response {
    request_op(s, p, crate::api::RequestOp::Approve(id, b), c).await
}

async fn openings_review(
    State(s): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Client(c): Client,
    Path(id): Path<String>,
) -> Response {
    request_op(s, p, crate::api::RequestOp::Review(id), c).await
}

async fn openings_review_save(
    State(s): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Client(c): Client,
    Path(id): Path<String>,
    Body400(b): Body400<serde_json::Value>,
) -> Response {
    request_op(s, p, crate::api::RequestOp::SaveReview(id, b), c).await
}

async fn openings_still(
    State(s): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Client(c): Client,
    Path((id, n)): Path<(String, usize)>,
) -> Response {
    request_op(s, p, crate::api::RequestOp::Still(id, n), c).await
}

async fn openings_export(
    State(s): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Client(c): Client,
    Path(id): Path<String>,
) -> Response {
    request_op(s, p, crate::api::RequestOp::RedactedExport(id), c).await
}

async fn openings_erase(
    State(s): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Client(c): Client,
    Path(id): Path<String>,
) -> Response {
    request_op(s, p, crate::api::RequestOp::Erase(id), c).await
}

async fn openings_sidecar(
    State(s): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Client(c): Client,
    Path(id): Path<String>,
) -> Response {
    request_op(s, p, crate::api::RequestOp::Sidecar(id), c).await
}

async fn inspections(State(s): State<AppState>) -> Answer {
    let ledger = s.accounts.ledger.clone();
    let list = blocking(move || {
        ledger
            .inspections(None)
            .map_err(|e| ApiError::Internal(e.to_string()))
    })
    .await?;
    json(serde_json::json!({"inspections": list}))
}

async fn inspect(
    State(s): State<AppState>,
    client: Client,
    axum::Extension(p): axum::Extension<Principal>,
) -> Answer {
    let site = s.site.clone();
    let v = blocking(move || site.inspect(&p, &client.0)).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CountersignBody {
    #[serde(default)]
    note: Option<String>,
}

async fn countersign(
    State(s): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Path(id): Path<String>,
    Body400(b): Body400<CountersignBody>,
) -> Answer {
    let id: u64 = id
        .parse()
        .map_err(|_| ApiError::bad("id", format!("{id:?} is not an inspection number")))?;
    let ledger = s.accounts.ledger.clone();
    let signed = blocking(move || {
        ledger
            .countersign(id, &p.user, b.note.as_deref())
            .map_err(|e| {
                let m = e.to_string();
                if m.contains("unknown") || m.contains("no inspection") {
                    ApiError::NotFound(m)
                } else if m.contains("already") {
                    ApiError::Conflict(m)
                } else {
                    ApiError::Internal(m)
                }
            })
    })
    .await?;
    json(signed)
}
