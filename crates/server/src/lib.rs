//! The HTTP side on the policy's bind address: `/metrics` (Prometheus text) and `/healthz` (JSON, 200 when
//! every camera streams, 503 otherwise) for scrapers and probes, anonymous and free of personal data; and the
//! authenticated `/api/v1` (one route table, `routes::ROUTES`). It runs its own small tokio runtime so the
//! camera threads stay plain threads; `HttpServer::stop` shuts it down explicitly.

pub mod api;
pub mod routes;

pub use api::{ApiError, SiteApi};
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
    /// Binds `bind` (port 0 picks a free port; see `addr()`) and serves until `stop`.
    pub fn start(bind: &str, state: AppState) -> std::io::Result<HttpServer> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("http")
            .enable_all()
            .build()?;
        let listener = rt
            .block_on(tokio::net::TcpListener::bind(bind))
            .map_err(|e| {
                std::io::Error::new(e.kind(), format!("cannot listen for HTTP on {bind}: {e}"))
            })?;
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = routes::router(state);
        let thread = std::thread::Builder::new()
            .name("http".into())
            .spawn(move || {
                rt.block_on(async move {
                    let _ = axum::serve(
                        listener,
                        app.into_make_service_with_connect_info::<SocketAddr>(),
                    )
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await;
                });
            })?;
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

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.shutdown_now();
    }
}
