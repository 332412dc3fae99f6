//! The HTTP side: `/metrics` (Prometheus text) and `/healthz` (JSON, 200 when every camera streams, 503
//! otherwise) on the policy's bind address. It runs its own small tokio runtime so the camera threads stay
//! plain threads; `HttpServer::stop` shuts it down explicitly.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use std::net::SocketAddr;
use std::sync::Arc;

/// Returns (healthy, detail) for `/healthz`.
pub type HealthFn = Arc<dyn Fn() -> (bool, serde_json::Value) + Send + Sync>;

/// Lists recordings for `/api/v1/recordings?camera=&from=&to=`; an error is a bad request (its text says why).
pub type RecordingsFn = Arc<
    dyn Fn(Option<&str>, Option<&str>, Option<&str>) -> Result<serde_json::Value, String>
        + Send
        + Sync,
>;

#[derive(Clone)]
struct AppState {
    health: HealthFn,
    recordings: Option<RecordingsFn>,
}

pub fn router(health: HealthFn, recordings: Option<RecordingsFn>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/api/v1/recordings", get(list_recordings))
        .with_state(AppState { health, recordings })
}

#[derive(serde::Deserialize)]
struct RecordingsQuery {
    camera: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

async fn list_recordings(
    State(s): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<RecordingsQuery>,
) -> impl IntoResponse {
    let Some(f) = s.recordings else {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({"error": "recording is not enabled"})),
        );
    };
    // The listing blocks on the index (a Postgres one runs its own runtime): off the async workers.
    let listed = tokio::task::spawn_blocking(move || {
        f(q.camera.as_deref(), q.from.as_deref(), q.to.as_deref())
    })
    .await
    .unwrap_or_else(|e| Err(format!("listing failed: {e}")));
    match listed {
        Ok(v) => (StatusCode::OK, axum::Json(v)),
        Err(e) => (
            StatusCode::BAD_REQUEST,
            axum::Json(serde_json::json!({"error": e})),
        ),
    }
}

async fn metrics() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        telemetry::metrics().encode_text(),
    )
}

async fn healthz(State(s): State<AppState>) -> impl IntoResponse {
    let (ok, detail) = (s.health)();
    let code = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, axum::Json(detail))
}

pub struct HttpServer {
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HttpServer {
    /// Binds `bind` (port 0 picks a free port; see `addr()`) and serves until `stop`.
    pub fn start(
        bind: &str,
        health: HealthFn,
        recordings: Option<RecordingsFn>,
    ) -> std::io::Result<HttpServer> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
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
        let app = router(health, recordings);
        let thread = std::thread::Builder::new()
            .name("http".into())
            .spawn(move || {
                rt.block_on(async move {
                    let _ = axum::serve(listener, app)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn get(addr: SocketAddr, path: &str) -> String {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn healthz_reports_503_when_a_camera_is_down_and_metrics_are_served() {
        telemetry::metrics().register_camera("cam-http");
        let server = HttpServer::start(
            "127.0.0.1:0",
            Arc::new(|| {
                (
                    false,
                    serde_json::json!({"cameras": [{"id": "cam-http", "state": "retrying(1)"}]}),
                )
            }),
            Some(Arc::new(|camera, _, _| match camera {
                Some("cam-http") => Ok(serde_json::json!({"segments": [{"camera": "cam-http"}]})),
                other => Err(format!("unknown camera {other:?}")),
            })),
        )
        .unwrap();
        let health = get(server.addr(), "/healthz");
        assert!(health.starts_with("HTTP/1.1 503"), "{health}");
        assert!(health.contains("retrying(1)"), "{health}");
        let metrics = get(server.addr(), "/metrics");
        assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
        assert!(
            metrics.contains(r#"garim_camera_up{camera="cam-http"} 0"#),
            "{metrics}"
        );
        let rec = get(server.addr(), "/api/v1/recordings?camera=cam-http");
        assert!(
            rec.starts_with("HTTP/1.1 200") && rec.contains("segments"),
            "{rec}"
        );
        let bad = get(server.addr(), "/api/v1/recordings?camera=x");
        assert!(
            bad.starts_with("HTTP/1.1 400") && bad.contains("unknown camera"),
            "{bad}"
        );
        server.stop();
    }
}
