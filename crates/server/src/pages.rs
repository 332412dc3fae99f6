//! What the console adds to the route table: the console's own files, the public notice pages, the live
//! MJPEG view, the zone editor's read and save, a camera's recent trend, and the monthly access review. The
//! route table and the `authorize` layer stay in `routes`; every route here is listed there.

use crate::api::{ApiError, ZonesBody};
use crate::routes::{Answer, Body400, Query400, blocking, json};
use crate::{AppState, Client};
use access::Principal;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::time::Duration;

/// Pages that hold no script at all (the public notice): inline styles allowed, nothing else.
const NOTICE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
base-uri 'none'; frame-ancestors *; form-action 'none'";

fn page(content_type: &'static str, csp: &'static str, body: impl Into<Body>) -> Response {
    let mut r = (StatusCode::OK, body.into()).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    r
}

/// A document page garim renders (a printed form): styled, no script, not framed by another site.
pub(crate) fn document(html: String) -> Response {
    page("text/html; charset=utf-8", DOCUMENT_CSP, html)
}

const DOCUMENT_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
base-uri 'none'; frame-ancestors 'self'; form-action 'none'";

/// The console's page: the same for everyone; what it shows comes from the API after login.
pub(crate) async fn console() -> Response {
    let (t, bytes) = webconsole::asset("index.html").expect("index.html is embedded");
    let mut r = page(t, webconsole::CSP, bytes);
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

pub(crate) async fn console_file(Path(file): Path<String>) -> Response {
    match webconsole::asset(&file).filter(|_| file != "index.html") {
        Some((t, bytes)) => {
            let mut r = page(t, webconsole::CSP, bytes);
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            r
        }
        None => ApiError::NotFound(format!("no console file {file:?}")).into_response(),
    }
}

async fn public(s: AppState, which: &'static str) -> Response {
    let site = s.site.clone();
    match blocking(move || site.public_page(which)).await {
        Ok(html) => page("text/html; charset=utf-8", NOTICE_CSP, html),
        Err(ApiError::NotFound(m)) => ApiError::NotFound(m).into_response(),
        // Anonymous: the reason goes to the log only.
        Err(e) => {
            tracing::error!(page = which, "public page failed: {e}");
            ApiError::Internal("the page cannot be shown now; see the service log".into())
                .into_response()
        }
    }
}

pub(crate) async fn notice(State(s): State<AppState>) -> Response {
    public(s, "notice").await
}

pub(crate) async fn signs(State(s): State<AppState>) -> Response {
    public(s, "signs").await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LiveQuery {
    /// Stop after this many pictures (tests); unlimited otherwise, up to `LIVE_MAX`.
    frames: Option<u32>,
}

/// One live view lasts at most this long (the page opens a new one when it is still shown).
const LIVE_MAX: Duration = Duration::from_secs(30 * 60);
/// Live views open at once, per user and in all: each holds a connection, and the HTTP budget is shared.
const LIVE_PER_USER: usize = 3;
const LIVE_TOTAL: usize = 16;
/// How often a live view checks that its session still exists and may still see the camera.
const LIVE_RECHECK: Duration = Duration::from_secs(2);

static LIVE: parking_lot::Mutex<std::collections::BTreeMap<String, usize>> =
    parking_lot::Mutex::new(std::collections::BTreeMap::new());

/// One open live view, counted until it is dropped (the stream ended or the client went away).
struct LiveSlot(String);

impl LiveSlot {
    fn take(user: &str) -> Result<LiveSlot, ApiError> {
        let mut open = LIVE.lock();
        let total: usize = open.values().sum();
        let mine = open.get(user).copied().unwrap_or(0);
        if total >= LIVE_TOTAL || mine >= LIVE_PER_USER {
            return Err(ApiError::TooMany {
                message: format!(
                    "too many live views open ({mine} of yours, {total} in all; at most {LIVE_PER_USER} and {LIVE_TOTAL}); close one"
                ),
                retry_after_secs: 5,
            });
        }
        *open.entry(user.to_string()).or_default() += 1;
        Ok(LiveSlot(user.to_string()))
    }
}

impl Drop for LiveSlot {
    fn drop(&mut self) {
        let mut open = LIVE.lock();
        if let Some(n) = open.get_mut(&self.0) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.0);
            }
        }
    }
}
/// Pictures per second of the live view.
const LIVE_FPS: u64 = 4;
const BOUNDARY: &str = "garimframe";

/// The masked live view as MJPEG: the camera's newest masked frame, a few times a second. The same frames
/// as the snapshot (only masked frames are kept for it), so no unmasked pixel has a path to the browser. The
/// view ends when its session ends or may no longer see the camera (checked every 2 s).
pub(crate) async fn live_mjpeg(
    State(s): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Path(camera): Path<String>,
    Query400(q): Query400<LiveQuery>,
    headers: axum::http::HeaderMap,
) -> Answer {
    // Counted per user of this server's directory (a process may serve more than one site in tests).
    let slot = LiveSlot::take(&format!(
        "{:p}/{}",
        std::sync::Arc::as_ptr(&s.accounts.directory),
        p.user
    ))?;
    let token = crate::routes::token_of(&headers).unwrap_or_default();
    // The first picture before the answer starts: a camera without one gets its error, not an empty stream.
    let site = s.site.clone();
    let (p2, c2) = (p.clone(), camera.clone());
    let first = blocking(move || site.snapshot(&p2, &c2)).await?;
    let limit = q.frames.unwrap_or(u32::MAX);
    let live = Live {
        s,
        p,
        camera,
        token,
        started: std::time::Instant::now(),
        checked: std::time::Instant::now(),
        _slot: slot,
    };
    let stream = futures_util::stream::unfold(
        (live, Some(first), 0u32),
        move |(mut live, next, sent)| async move {
            if sent >= limit || live.started.elapsed() >= LIVE_MAX {
                return None;
            }
            let jpeg = match next {
                Some(j) => j,
                None => {
                    tokio::time::sleep(Duration::from_millis(1000 / LIVE_FPS)).await;
                    if live.checked.elapsed() >= LIVE_RECHECK {
                        live.checked = std::time::Instant::now();
                        if !live.still_allowed().await {
                            return None;
                        }
                    }
                    let site = live.s.site.clone();
                    let (p2, c2) = (live.p.clone(), live.camera.clone());
                    blocking(move || site.snapshot(&p2, &c2)).await.ok()?
                }
            };
            let mut part = format!(
                "--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
                jpeg.len()
            )
            .into_bytes();
            part.extend_from_slice(&jpeg);
            part.extend_from_slice(b"\r\n");
            Some((
                Ok::<_, std::convert::Infallible>(part),
                (live, None, sent + 1),
            ))
        },
    );
    let mut r = Body::from_stream(stream).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&format!("multipart/x-mixed-replace; boundary={BOUNDARY}"))
            .map_err(|e| ApiError::Internal(e.to_string()))?,
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// What a live view holds while it streams.
struct Live {
    s: AppState,
    p: Principal,
    camera: String,
    token: String,
    started: std::time::Instant,
    checked: std::time::Instant,
    _slot: LiveSlot,
}

impl Live {
    /// The session still exists (not logged out, expired or disabled) and may still see the camera live.
    async fn still_allowed(&self) -> bool {
        let directory = self.s.accounts.directory.clone();
        let token = self.token.clone();
        let camera = self.camera.clone();
        tokio::task::spawn_blocking(move || {
            directory.authenticate(&token).is_ok_and(|p| {
                p.require(access::Permission::ViewLive).is_ok() && p.may_see_camera(&camera)
            })
        })
        .await
        .unwrap_or(false)
    }
}

pub(crate) async fn trend(
    State(s): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Path(camera): Path<String>,
) -> Answer {
    let site = s.site.clone();
    json(blocking(move || site.trend(&p, &camera)).await?)
}

pub(crate) async fn zones(
    State(s): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Path(camera): Path<String>,
) -> Answer {
    let site = s.site.clone();
    json(blocking(move || site.zones(&p, &camera)).await?)
}

pub(crate) async fn put_zones(
    State(s): State<AppState>,
    client: Client,
    axum::Extension(p): axum::Extension<Principal>,
    Path(camera): Path<String>,
    Body400(body): Body400<ZonesBody>,
) -> Answer {
    let site = s.site.clone();
    json(blocking(move || site.put_zones(&p, &camera, &body, &client.0)).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MonthQuery {
    month: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MonthBody {
    month: String,
    /// The SHA-256 of the review the manager read (`sha256` of the GET): the signature is refused when the
    /// month's rows changed since.
    sha256: String,
}

fn review_hash(r: &ledger::review::MonthReview) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(r.markdown.as_bytes()))
}

fn month_review(s: &AppState, month: &str) -> Result<ledger::review::MonthReview, ApiError> {
    ledger::review::month_review(&s.accounts.ledger, month).map_err(|e| {
        if e.contains("is not a month") {
            ApiError::bad("month", e)
        } else {
            ApiError::Internal(e)
        }
    })
}

/// The monthly access review (시행령 제30조) of `?month=YYYY-MM` (this month by default), with its
/// signatures so far.
pub(crate) async fn review(State(s): State<AppState>, Query400(q): Query400<MonthQuery>) -> Answer {
    let month = q.month.unwrap_or_else(|| {
        let now = ledger::time::Kst::of(s.accounts.ledger.now_ms());
        format!("{:04}-{:02}", now.year, now.month)
    });
    json(
        blocking(move || {
            let r = month_review(&s, &month)?;
            let signed = s
                .accounts
                .ledger
                .list(&ledger::Filter {
                    kinds: vec![ledger::Kind::Review],
                    ..ledger::Filter::default()
                })
                .map_err(|e| ApiError::Internal(e.to_string()))?
                .into_iter()
                .filter(|row| row.entry.detail["month"] == month.as_str())
                .map(|row| {
                    serde_json::json!({"seq": row.seq, "by": row.entry.actor,
                        "at": ledger::time::format_kst(row.at_ms)})
                })
                .collect::<Vec<_>>();
            let mut v = serde_json::to_value(&r).map_err(|e| ApiError::Internal(e.to_string()))?;
            v["signatures"] = signed.into();
            v["sha256"] = review_hash(&r).into();
            Ok(v)
        })
        .await?,
    )
}

/// A manager signs a month's review: a Kind::Review row holding the hash of what was reviewed.
pub(crate) async fn sign_review(
    State(s): State<AppState>,
    client: Client,
    axum::Extension(p): axum::Extension<Principal>,
    Body400(b): Body400<MonthBody>,
) -> Answer {
    json(
        blocking(move || {
            let r = month_review(&s, &b.month)?;
            if review_hash(&r) != b.sha256 {
                return Err(ApiError::Conflict(format!(
                    "the review of {} changed since you read it (new rows); read it again and sign that",
                    b.month
                )));
            }
            let row = s
                .accounts
                .ledger
                .append(ledger::review::signature(&r, &p.user, &client.0))
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            Ok(serde_json::json!({"signed": true, "seq": row.seq, "month": r.month}))
        })
        .await?,
    )
}
