//! What a hostile or careless client can take from the HTTP side, bounded: a budget of connections (beyond
//! it, new ones are closed at once, so HTTP never takes the file descriptors that cameras and recording need),
//! a deadline for a request's headers (a half-sent request is dropped) that is also the idle deadline between
//! keep-alive requests, a deadline for a request's body and handler (408), a per-client request rate (429
//! beyond it), and HTTP threads that yield the CPU to the camera threads (nice 10): a flood of requests slows
//! the API, not the masking.

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Open HTTP connections at most; more are closed as they are accepted.
    pub max_connections: usize,
    /// A request's headers must arrive within this; it is also how long a keep-alive connection may wait
    /// idle for its next request (hyper starts the same timer when it waits for the next request's head).
    pub header_timeout: Duration,
    /// A request (its body read and its handler run, not the streaming of a response) must finish within this.
    pub request_timeout: Duration,
    /// The same for the routes that run a footage job in the request (`routes::JOB_ROUTES`: an opening's
    /// export, a redacted copy, a deletion, a recording's export): cut short, the job would still finish and
    /// write its row, and its output would be thrown away.
    pub job_timeout: Duration,
    /// Requests per second per client address, sustained.
    pub rate_per_sec: f64,
    /// Requests a client may make at once above its rate.
    pub burst: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 256,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(120),
            job_timeout: Duration::from_secs(3600),
            rate_per_sec: 50.0,
            burst: 100.0,
        }
    }
}

/// File descriptors kept for everything but HTTP: the process itself, and per camera its sockets, decoder,
/// encoders, recording files and the index.
pub const RESERVED_FDS: u64 = 128;
pub const FDS_PER_CAMERA: u64 = 48;

impl Limits {
    /// The connection budget for a process allowed `nofile` descriptors and running `cameras` cameras: what
    /// remains after the cameras' share, halved (a connection may hold more than one descriptor while it
    /// streams a file), between 16 and 1,024.
    pub fn for_budget(nofile: u64, cameras: usize) -> Limits {
        let reserved = RESERVED_FDS + FDS_PER_CAMERA * cameras as u64;
        let share = nofile.saturating_sub(reserved) / 2;
        Limits {
            max_connections: share.clamp(16, 1024) as usize,
            ..Limits::default()
        }
    }
}

/// Raises the soft limit of open files to the hard limit; returns the limit now in force.
pub fn raise_nofile() -> u64 {
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        let mut r = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) != 0 {
            return 1024;
        }
        if r.rlim_cur < r.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: r.rlim_max,
                rlim_max: r.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                r.rlim_cur = r.rlim_max;
            }
        }
        r.rlim_cur
    }
}

/// Lowers the calling thread's priority (Linux: nice is per thread), for the HTTP runtime's threads.
pub(crate) fn yield_cpu_to_cameras() {
    // SAFETY: setpriority on the calling thread (who = 0) with a valid nice value.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 10);
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets per client address.
#[derive(Clone)]
pub(crate) struct RateLimiter {
    limits: Limits,
    buckets: Arc<Mutex<HashMap<IpAddr, Bucket>>>,
}

/// Buckets kept at most; idle full ones are dropped first when there are more.
const MAX_CLIENTS: usize = 10_000;

impl RateLimiter {
    pub(crate) fn new(limits: Limits) -> RateLimiter {
        RateLimiter {
            limits,
            buckets: Arc::default(),
        }
    }

    /// Takes one request's token; `Err(wait)` when the client is over its rate.
    fn take(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        let l = self.limits;
        let mut buckets = self.buckets.lock();
        if buckets.len() >= MAX_CLIENTS && !buckets.contains_key(&ip) {
            let full = Duration::from_secs_f64(l.burst / l.rate_per_sec.max(0.001));
            buckets.retain(|_, b| now.duration_since(b.at) < full);
        }
        let b = buckets.entry(ip).or_insert(Bucket {
            tokens: l.burst,
            at: now,
        });
        b.tokens =
            (b.tokens + now.duration_since(b.at).as_secs_f64() * l.rate_per_sec).min(l.burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - b.tokens) / l.rate_per_sec.max(0.001),
            ))
        }
    }
}

/// The request's body and handler within `Limits::request_timeout` (`job_timeout` for a footage job's route).
pub(crate) async fn deadline(State(limits): State<Limits>, req: Request, next: Next) -> Response {
    let limit = if crate::routes::is_job(req.uri().path()) {
        limits.job_timeout
    } else {
        limits.request_timeout
    };
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => (
            StatusCode::REQUEST_TIMEOUT,
            axum::Json(serde_json::json!({"error": format!("the request took longer than {} s", limit.as_secs())})),
        )
            .into_response(),
    }
}

/// The per-client rate, before anything else runs for the request.
pub(crate) async fn rate_limit(
    State(limiter): State<RateLimiter>,
    req: Request,
    next: Next,
) -> Response {
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(ip) = ip {
        if let Err(wait) = limiter.take(ip, Instant::now()) {
            let secs = wait.as_secs().max(1).to_string();
            let mut resp = (
                StatusCode::TOO_MANY_REQUESTS,
                axum::Json(serde_json::json!({"error": format!("too many requests from {ip}; retry in {secs} s")})),
            )
                .into_response();
            if let Ok(v) = HeaderValue::from_str(&secs) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return resp;
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn footage_jobs_get_the_job_deadline_and_nothing_else_does() {
        use crate::routes::{JOB_ROUTES, ROUTES, is_job};
        let path_of = |example: &'static str| example.split('?').next().unwrap();
        for path in JOB_ROUTES {
            let r = ROUTES
                .iter()
                .find(|r| r.path == *path)
                .unwrap_or_else(|| panic!("{path} is no route"));
            assert!(is_job(path_of(r.example)), "{}", r.example);
        }
        let jobs: Vec<_> = ROUTES
            .iter()
            .filter(|r| is_job(path_of(r.example)))
            .map(|r| r.path)
            .collect();
        assert_eq!(jobs.len(), JOB_ROUTES.len(), "{jobs:?}");
        for not in [
            "/api/v1/openings/SA-2026-0001/review",
            "/api/v1/openings//approve",
            "/api/v1/openings/SA-2026-0001/approve/x",
            "/api/v1/openings/approve",
        ] {
            assert!(!is_job(not), "{not}");
        }
        assert!(Limits::default().job_timeout >= Duration::from_secs(30 * 60));
    }

    #[test]
    fn buckets_allow_the_burst_then_the_rate() {
        let l = Limits {
            rate_per_sec: 10.0,
            burst: 5.0,
            ..Limits::default()
        };
        let r = RateLimiter::new(l);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..5 {
            assert!(r.take(ip, t0).is_ok());
        }
        assert!(r.take(ip, t0).is_err(), "over the burst");
        assert!(
            r.take("10.0.0.2".parse().unwrap(), t0).is_ok(),
            "another client is not affected"
        );
        assert!(
            r.take(ip, t0 + Duration::from_millis(120)).is_ok(),
            "refilled at the rate"
        );
    }

    #[test]
    fn the_connection_budget_leaves_the_cameras_their_share() {
        assert_eq!(
            Limits::for_budget(1024, 1).max_connections,
            (1024 - 176) / 2
        );
        assert_eq!(Limits::for_budget(1024, 30).max_connections, 16, "floor");
        assert_eq!(
            Limits::for_budget(1 << 20, 4).max_connections,
            1024,
            "ceiling"
        );
    }
}
