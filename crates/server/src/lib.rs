//! The HTTP side on the policy's bind address: `/metrics` (Prometheus text) and `/healthz` (JSON, 200 when
//! every camera streams, 503 otherwise) for scrapers and probes, anonymous and free of personal data; and the
//! authenticated `/api/v1` (one route table, `routes::ROUTES`). It runs its own small tokio runtime so the
//! camera threads stay plain threads; `HttpServer::stop` shuts it down explicitly.

pub mod api;
pub mod limits;
mod pages;
pub mod routes;
pub mod tls;

pub use api::{ApiError, SiteApi};
pub use limits::Limits;
pub use routes::ROUTES;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use std::net::SocketAddr;
use std::sync::Arc;

/// Returns (healthy, detail) for `/healthz`.
pub type HealthFn = Arc<dyn Fn() -> (bool, serde_json::Value) + Send + Sync>;

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub health: HealthFn,
    pub site: Arc<dyn SiteApi>,
    pub accounts: access::accounts::Accounts,
    /// The signed checkpoints `ledger verify` checks truncation against.
    pub checkpoints: Option<Arc<ledger::CheckpointLog>>,
    /// Cookies carry `Secure` (browsers then send them only over HTTPS, or to localhost).
    pub secure_cookies: bool,
}

/// The client's address, for the ledger and the login throttle.
pub struct Client(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Client(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or_else(|| "unknown".into(), |c| c.0.ip().to_string()),
        ))
    }
}

/// A name no other temporary file of this process has.
pub(crate) fn unique_suffix() -> String {
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

pub struct HttpServer {
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HttpServer {
    /// Binds `bind` (port 0 picks a free port; see `addr()`) and serves until `stop`, with the default
    /// `Limits`.
    pub fn start(bind: &str, state: AppState) -> std::io::Result<HttpServer> {
        HttpServer::start_with(bind, state, Limits::default())
    }

    /// `start` with the given limits, plain HTTP.
    pub fn start_with(bind: &str, state: AppState, limits: Limits) -> std::io::Result<HttpServer> {
        HttpServer::start_on(bind, state, limits, tls::Transport::Plain)
    }

    /// `start` with the given limits and transport.
    pub fn start_on(
        bind: &str,
        state: AppState,
        limits: Limits,
        transport: tls::Transport,
    ) -> std::io::Result<HttpServer> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("http")
            .on_thread_start(limits::yield_cpu_to_cameras)
            .enable_all()
            .build()?;
        let listener = rt
            .block_on(tokio::net::TcpListener::bind(bind))
            .map_err(|e| {
                std::io::Error::new(e.kind(), format!("cannot listen for HTTP on {bind}: {e}"))
            })?;
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = routes::router(state)
            .layer(axum::middleware::from_fn_with_state(
                limits,
                limits::deadline,
            ))
            .layer(axum::middleware::from_fn_with_state(
                limits::RateLimiter::new(limits),
                limits::rate_limit,
            ));
        let thread = std::thread::Builder::new()
            .name("http".into())
            .spawn(move || rt.block_on(serve(listener, app, limits, transport, rx)))?;
        Ok(HttpServer {
            addr,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn stop(mut self) {
        self.shutdown_now();
    }

    fn shutdown_now(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The accept loop: a connection beyond the budget is closed as it is accepted (and counted); one that
/// cannot be accepted (no descriptor left) waits a moment instead of spinning.
async fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    limits: Limits,
    transport: tls::Transport,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt;
    let budget = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let m = telemetry::metrics();
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!("HTTP accept failed ({e}); retrying in 100 ms");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = budget.clone().try_acquire_owned() else {
            m.http_connections_refused_total.inc();
            drop(stream);
            continue;
        };
        let svc =
            app.clone()
                .map_request(move |mut req: axum::http::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(ConnectInfo(peer));
                    req
                });
        let svc = hyper_util::service::TowerToHyperService::new(svc);
        let transport = transport.clone();
        tokio::spawn(async move {
            let http = || {
                let mut b = hyper::server::conn::http1::Builder::new();
                b.timer(TokioTimer::new())
                    .header_read_timeout(limits.header_timeout);
                b
            };
            match transport {
                tls::Transport::Plain => {
                    let _ = http().serve_connection(TokioIo::new(stream), svc).await;
                }
                tls::Transport::Tls(config) => {
                    // The first byte tells a TLS handshake (0x16) from plain HTTP; plain only from loopback.
                    let mut first = [0u8; 1];
                    let peeked =
                        tokio::time::timeout(limits.header_timeout, stream.peek(&mut first)).await;
                    if !matches!(peeked, Ok(Ok(1))) {
                        return;
                    }
                    if first[0] == 0x16 {
                        let acceptor = tokio_rustls::TlsAcceptor::from(config);
                        let Ok(Ok(tls)) =
                            tokio::time::timeout(limits.header_timeout, acceptor.accept(stream))
                                .await
                        else {
                            return;
                        };
                        let _ = http().serve_connection(TokioIo::new(tls), svc).await;
                    } else if peer.ip().is_loopback() {
                        let _ = http().serve_connection(TokioIo::new(stream), svc).await;
                    } else {
                        use tokio::io::AsyncWriteExt;
                        let mut stream = stream;
                        let _ = stream
                            .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: 30\r\n\r\nthis port speaks HTTPS only.\r\n")
                            .await;
                    }
                }
            }
            drop(permit);
        });
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.shutdown_now();
    }
}
