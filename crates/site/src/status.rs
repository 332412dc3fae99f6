//! What the running site reports (typed, serialised as the `/healthz` body): models, the policy in force,
//! the shard and each camera's state. Camera ids only: no personal data, so probes may read it anonymously.

use crate::detectors::ModelsState;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct SiteStatus {
    /// Every camera streams and the models are loaded.
    pub ok: bool,
    pub models: ModelsState,
    /// Where inference runs (cpu, cuda, tensorrt), what was asked for, and why not that.
    pub inference: onnx::Placement,
    pub policy: PolicyState,
    /// Data-subject requests: unanswered, overdue, and the ids due within 3 days (or overdue).
    pub requests: RequestsStatus,
    pub shard: ShardStatus,
    pub cameras: Vec<CameraView>,
}

/// The policy in force: its file and hash, and why the last reload was refused (if it was).
#[derive(Debug, Clone, Serialize)]
pub struct PolicyState {
    pub file: String,
    pub sha256: String,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct RequestsStatus {
    pub open: usize,
    pub overdue: usize,
    /// Open requests due within 3 days (or overdue): counted here, listed to signed-in users.
    pub due_soon: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ShardStatus {
    pub index: u32,
    pub count: u32,
    pub cameras: usize,
    pub site_cameras: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct CameraView {
    pub id: String,
    /// `starting`, `streaming`, `retrying(n)`, `failed(reason)`.
    pub state: String,
    pub frames_in: u64,
    pub frames_out: u64,
    pub fail_closed: u64,
    pub reconnects: u64,
}

impl CameraView {
    pub fn of(s: &media::CameraStatus) -> CameraView {
        CameraView {
            id: s.id.clone(),
            state: s.state.to_string(),
            frames_in: s.frames_in,
            frames_out: s.frames_out,
            fail_closed: s.fail_closed,
            reconnects: s.reconnects,
        }
    }
}

/// The field paths of a refused policy's errors (`cameras[a].detect_every_n_frames`), without their values.
pub fn paths_only(error: &str) -> String {
    let paths: Vec<&str> = error
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.ends_with("is invalid:"))
        .map(|l| l.split([':', ' ']).next().unwrap_or(""))
        .filter(|p| !p.is_empty())
        .collect();
    if paths.is_empty() {
        "invalid (see the service log)".into()
    } else {
        format!("invalid: {}", paths.join(", "))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn refused_policy_is_told_by_paths_without_values() {
        let e = "/etc/garim/site.toml is invalid:\n  people[0].phone: \"010-1234-5678\": not a phone\n  cameras[a].detect_every_n_frames: 0: must be at least 1";
        let shown = super::paths_only(e);
        assert_eq!(
            shown,
            "invalid: people[0].phone, cameras[a].detect_every_n_frames"
        );
        assert!(!shown.contains("010"));
    }
}
