//! The site's typed operations for an authenticated principal (`server::SiteApi`): each checks the
//! permission from the role and the camera scope again (the CLI calls them too), and an action on footage
//! writes its 관리대장 row before it happens.

use crate::runtime::Site;
use access::{Permission, Principal};
use server::api::{AcceptBody, ApiError, ExportFile, ExportQuery, PolicyBody, RangeQuery};
use std::time::{Duration, Instant};

/// The longest range one export may cover (an export is decrypted in memory before it is joined).
pub const MAX_EXPORT_SECS: i64 = 3600;
/// The policy history shows this many applied or refused policies (the ledger keeps them all).
const POLICY_HISTORY_ROWS: usize = 1000;
/// How long an acceptance waits for the camera's guard to answer.
const ACCEPT_WAIT: Duration = Duration::from_secs(10);

fn deny(e: access::Denied) -> ApiError {
    ApiError::Forbidden(e.to_string())
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(e.to_string())
}

fn time(field: &str, v: Option<&str>, default: Option<i64>) -> Result<i64, ApiError> {
    match (v, default) {
        (Some(s), _) => vault::time::read_time(s).map_err(|e| ApiError::bad(field, e)),
        (None, Some(d)) => Ok(d),
        (None, None) => Err(ApiError::bad(field, "required")),
    }
}

impl Site {
    fn check_camera(&self, p: &Principal, perm: Permission, camera: &str) -> Result<(), ApiError> {
        p.require(perm).map_err(deny)?;
        if !p.may_see_camera(camera) || !self.camera_ids().iter().any(|c| c == camera) {
            return Err(ApiError::no_camera(camera));
        }
        Ok(())
    }
}

impl server::SiteApi for Site {
    fn requests(
        &self,
        p: &Principal,
        op: server::api::RequestOp,
        client: &str,
    ) -> Result<server::api::RequestAnswer, ApiError> {
        let mutates = !matches!(
            op,
            server::api::RequestOp::List
                | server::api::RequestOp::Get(_)
                | server::api::RequestOp::Document(..)
                | server::api::RequestOp::Openings
        );
        let answer = self.request_op(p, op, client);
        if mutates {
            self.request_counts();
        }
        answer
    }

    fn cameras(&self, p: &Principal) -> Result<serde_json::Value, ApiError> {
        p.require(Permission::ReadStatus).map_err(deny)?;
        let cfg = self.config();
        let m = telemetry::metrics();
        let cameras: Vec<_> = self
            .camera_statuses()
            .into_iter()
            .filter(|c| p.may_see_camera(&c.id))
            .map(|c| {
                let latest = self.trends().latest(&c.id);
                let cam = cfg.cameras.iter().find(|k| k.id == c.id);
                let location = cam.and_then(|k| k.location.clone());
                let sealed = cam.is_some_and(|k| {
                    matches!(cfg.masking_of(k), Ok((_, policy::RecordingMode::Sealed)))
                });
                serde_json::json!({
                    "id": c.id,
                    "location": location,
                    "sealed": sealed,
                    "state": c.state.to_string(),
                    "frames_in": c.frames_in,
                    "frames_out": c.frames_out,
                    "fail_closed": c.fail_closed,
                    "reconnects": c.reconnects,
                    "fps_in": latest.map(|l| l.fps_in),
                    "fps_out": latest.map(|l| l.fps_out),
                    "latency_p99_ms": c.latency_p99_ms,
                    "fail_closed_share": latest.map(|l| l.fail_closed_share),
                    "scene_alarm": (m.scene_changed.with_label_values(&[&c.id]).get() != 0)
                        .then_some("the camera's view changed: every frame is masked until a manager accepts it"),
                    "width": c.width,
                    "height": c.height,
                })
            })
            .collect();
        Ok(serde_json::json!({"cameras": cameras}))
    }

    fn snapshot(&self, p: &Principal, camera: &str) -> Result<Vec<u8>, ApiError> {
        self.check_camera(p, Permission::ViewLive, camera)?;
        match self.snapshot_jpeg(camera) {
            None => Err(ApiError::Unavailable(format!(
                "camera {camera:?} has no picture yet"
            ))),
            Some(jpeg) => jpeg.map(|j| j.as_ref().clone()).map_err(internal),
        }
    }

    fn recordings(&self, p: &Principal, q: &RangeQuery) -> Result<serde_json::Value, ApiError> {
        p.require(Permission::ViewRecordings).map_err(deny)?;
        let from = time("from", q.from.as_deref(), Some(0))?;
        let to = time("to", q.to.as_deref(), Some(i64::MAX))?;
        if let Some(c) = &q.camera {
            if !p.may_see_camera(c) || !self.config().cameras.iter().any(|k| &k.id == c) {
                return Err(ApiError::no_camera(c));
            }
        }
        let rows = self
            .vault()
            .list(q.camera.as_deref(), from, to)
            .map_err(internal)?;
        let segments: Vec<_> = rows
            .iter()
            // Masked recordings only: sealed streams open only with a two-person grant.
            .filter(|r| !vocab::is_sealed(&r.camera) && p.may_see_camera(&r.camera))
            .map(|r| {
                serde_json::json!({
                    "camera": r.camera,
                    "start": vault::time::utc_stamp(r.start_unix),
                    "end": vault::time::utc_stamp(r.end_unix),
                    "bytes": r.bytes,
                    "sha256": r.sha256,
                    "node": r.node,
                })
            })
            .collect();
        Ok(serde_json::json!({"segments": segments}))
    }

    fn export(
        &self,
        p: &Principal,
        camera: &str,
        q: &ExportQuery,
        client: &str,
    ) -> Result<ExportFile, ApiError> {
        p.require(Permission::ExportRecordings).map_err(deny)?;
        let cfg = self.config();
        if !p.may_see_camera(camera) || !cfg.cameras.iter().any(|c| c.id == camera) {
            return Err(ApiError::no_camera(camera));
        }
        let from = time("from", q.from.as_deref(), None)?;
        let to = time("to", q.to.as_deref(), None)?;
        if to <= from {
            return Err(ApiError::bad("to", "must be after from"));
        }
        if to - from > MAX_EXPORT_SECS {
            return Err(ApiError::bad(
                "to",
                format!("an export covers at most {} hours", MAX_EXPORT_SECS / 3600),
            ));
        }
        let purpose = q
            .purpose
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ApiError::bad("purpose", "required: why the footage is used"))?;
        let kind = match q.kind.as_deref() {
            None | Some("use") => ledger::Kind::Use,
            Some("provide") => ledger::Kind::Provide,
            Some(other) => {
                return Err(ApiError::bad(
                    "kind",
                    format!("{other:?} is not use or provide"),
                ));
            }
        };
        if kind == ledger::Kind::Provide
            && q.recipient.as_deref().is_none_or(|r| r.trim().is_empty())
        {
            return Err(ApiError::bad(
                "recipient",
                "required when footage is provided to a third party",
            ));
        }
        let subject = format!(
            "{camera} {}–{} (masked MP4)",
            vault::time::utc_stamp(from),
            vault::time::utc_stamp(to)
        );
        // One export at a time: each holds its footage in memory while it is joined.
        let Some(_one) = EXPORTING.try_lock() else {
            return Err(ApiError::Unavailable(
                "another export is running; retry when it is done".into(),
            ));
        };
        let out_dir = exports_dir(&cfg);
        std::fs::create_dir_all(&out_dir).map_err(internal)?;
        let out = out_dir.join(format!("{camera}-{}.mp4", unique_suffix()));
        // The row first: no export without it.
        let row = self
            .records()
            .ledger()
            .append(ledger::Entry {
                kind,
                actor: p.user.clone(),
                subject: subject.clone(),
                purpose: purpose.to_string(),
                recipient: q.recipient.clone().unwrap_or_default(),
                basis: q.basis.clone().unwrap_or_default(),
                form: "masked MP4 export".into(),
                period: format!(
                    "{} – {}",
                    vault::time::utc_stamp(from),
                    vault::time::utc_stamp(to)
                ),
                client: client.into(),
                detail: serde_json::json!({"camera": camera, "from": from, "to": to, "role": p.role}),
                ..ledger::Entry::default()
            })
            .map_err(internal)?;
        let (path, n) =
            media::export::export(self.vault(), camera, from, to, None, &out).map_err(|e| {
                let _ = std::fs::remove_file(&out);
                let text = format!("{e:#}");
                // The row above says an export began: this one says nothing left.
                let mut failed = row.entry.clone();
                failed.purpose =
                    format!("{} (export failed: nothing was exported)", failed.purpose);
                failed.detail["outcome"] = "failed".into();
                if let Err(le) = self.records().ledger().append(failed) {
                    tracing::error!(camera, "ledger: the failed export was not recorded: {le}");
                }
                if text.contains("no recordings") {
                    ApiError::NotFound(format!("no recordings of {camera} between the given times"))
                } else {
                    tracing::error!(camera, "export failed: {text}");
                    ApiError::Internal("the export failed; see the service log".into())
                }
            })?;
        tracing::info!(camera, user = %p.user, segments = n, ledger_row = row.seq, "masked export");
        Ok(ExportFile {
            path,
            file_name: format!("{camera}-{}.mp4", vault::time::utc_stamp(from)),
        })
    }

    fn scene(&self, p: &Principal, camera: &str) -> Result<serde_json::Value, ApiError> {
        self.check_camera(p, Permission::ReadStatus, camera)?;
        let store = self.scenes();
        let state = store.load(camera).map_err(internal)?;
        Ok(serde_json::json!({
            "camera": camera,
            "alarm": state.as_ref().and_then(|s| s.alarm.clone()),
            "reference_since_unix": state.as_ref().map(|s| s.reference_since_unix),
            "reference_by": state.as_ref().and_then(|s| s.reference_by.clone()),
            "last_acceptance": state.as_ref().and_then(|s| s.last_acceptance.clone()),
        }))
    }

    fn accept_scene(
        &self,
        p: &Principal,
        camera: &str,
        body: &AcceptBody,
        _client: &str,
    ) -> Result<serde_json::Value, ApiError> {
        self.check_camera(p, Permission::AcceptScene, camera)?;
        let inbox = self
            .inbox_of(camera)
            .ok_or_else(|| ApiError::no_camera(camera))?;
        // One acceptance at a time, so each caller gets the answer to its own request.
        let _one = ACCEPTING.lock();
        let _ = inbox.take_answer();
        inbox.request(stage::scene::AcceptRequest {
            by: p.user.clone(),
            zones_checked: body.zones_checked,
            requested_unix: vault::time::unix_now(),
        });
        let answer = |wait: Duration| {
            let started = Instant::now();
            while started.elapsed() < wait {
                if let Some(outcome) = inbox.take_answer() {
                    return Some(outcome);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            None
        };
        // Withdrawn when the camera did not take it in time; once taken, its answer is awaited.
        let outcome = match answer(ACCEPT_WAIT) {
            Some(o) => o,
            None if inbox.cancel() => {
                return Err(ApiError::Unavailable(format!(
                    "camera {camera:?} did not answer within {} s (is it streaming?); nothing was accepted",
                    ACCEPT_WAIT.as_secs()
                )));
            }
            None => answer(ACCEPT_WAIT).ok_or_else(|| {
                ApiError::Unavailable(format!(
                    "camera {camera:?} took the request but gave no answer yet; see its scene status"
                ))
            })?,
        };
        if outcome.accepted {
            serde_json::to_value(&outcome).map_err(internal)
        } else {
            Err(ApiError::Conflict(outcome.message))
        }
    }

    fn policy(&self, p: &Principal) -> Result<serde_json::Value, ApiError> {
        p.require(Permission::ReadPolicy).map_err(deny)?;
        let mut v = serde_json::to_value(self.config()).map_err(internal)?;
        // Camera URLs may hold credentials: never in an answer.
        if let Some(cams) = v.get_mut("cameras").and_then(|c| c.as_array_mut()) {
            for c in cams {
                if let Some(o) = c.as_object_mut() {
                    for k in ["url", "url_env", "url_file"] {
                        if o.get(k).is_some_and(|u| !u.is_null()) {
                            o.insert(k.into(), "(redacted)".into());
                        }
                    }
                }
            }
        }
        Ok(serde_json::json!({"policy": v, "state": self.status().policy}))
    }

    fn put_policy(
        &self,
        p: &Principal,
        body: &PolicyBody,
        client: &str,
    ) -> Result<serde_json::Value, ApiError> {
        p.require(Permission::ManagePolicy).map_err(deny)?;
        let reason = body.reason.trim();
        if reason.is_empty() {
            return Err(ApiError::bad("reason", "required: why the policy changes"));
        }
        let by = crate::runtime::PolicySource {
            actor: p.user.clone(),
            manager: p.user.clone(),
            client: client.to_string(),
            purpose: reason.to_string(),
        };
        let changes = self.replace_policy(&body.toml, &by).map_err(|e| {
            if e.starts_with("cannot write") || e.contains("could not be recorded") {
                tracing::error!("policy replacement failed: {e}");
                ApiError::Internal(
                    "the policy could not be written or recorded; see the service log".into(),
                )
            } else {
                ApiError::bad("toml", e)
            }
        })?;
        Ok(serde_json::json!({"changes": changes}))
    }

    fn check_person(&self, role: access::Role, person: Option<&str>) -> Result<(), ApiError> {
        crate::records::check_person(&self.config(), role, person)
            .map_err(|e| ApiError::bad("person_id", e))
    }

    fn sealed_public_key(&self) -> Option<[u8; 32]> {
        let text = self.config().storage.sealed_public_key?;
        vault::SealedPublicKey::parse(&text).ok().map(|k| k.0)
    }

    fn policy_history(&self, p: &Principal) -> Result<serde_json::Value, ApiError> {
        p.require(Permission::ReadPolicy).map_err(deny)?;
        let rows = self
            .records()
            .ledger()
            .list(&ledger::Filter {
                kinds: vec![ledger::Kind::PolicyChange, ledger::Kind::PolicyRejected],
                limit: Some(POLICY_HISTORY_ROWS),
                ..ledger::Filter::default()
            })
            .map_err(internal)?;
        Ok(serde_json::json!({"history": rows}))
    }

    fn zones(&self, p: &Principal, camera: &str) -> Result<serde_json::Value, ApiError> {
        self.check_camera(p, Permission::ReadPolicy, camera)?;
        let (text, sha256) = self.policy_file().map_err(internal)?;
        // The file as it is now (what a save will edit), not only the policy in force.
        let on_disk = policy::SiteConfig::from_toml_str(&text).ok();
        let cfg = on_disk.unwrap_or_else(|| self.config());
        let cam = cfg
            .cameras
            .iter()
            .find(|c| c.id == camera)
            .ok_or_else(|| ApiError::no_camera(camera))?;
        let size = self
            .camera_statuses()
            .into_iter()
            .find(|c| c.id == camera)
            .map_or((0, 0), |c| (c.width, c.height));
        Ok(serde_json::json!({
            "camera": camera,
            "privacy_masks": cam.privacy_masks,
            "recording_zones": cam.recording_zones,
            "policy_sha256": sha256,
            "width": size.0,
            "height": size.1,
        }))
    }

    fn put_zones(
        &self,
        p: &Principal,
        camera: &str,
        body: &server::api::ZonesBody,
        client: &str,
    ) -> Result<serde_json::Value, ApiError> {
        self.check_camera(p, Permission::ManagePolicy, camera)?;
        let reason = body.reason.trim();
        if reason.is_empty() {
            return Err(ApiError::bad("reason", "required: why the zones change"));
        }
        let by = crate::runtime::PolicySource {
            actor: p.user.clone(),
            manager: p.user.clone(),
            client: client.to_string(),
            purpose: format!("{reason} (zone editor, camera {camera})"),
        };
        let zones = webconsole::zones::Zones {
            privacy_masks: body.privacy_masks.clone(),
            recording_zones: body.recording_zones.clone(),
        };
        use crate::runtime::EditError;
        match self.edit_policy(&body.base_sha256, &by, |text| {
            webconsole::zones::set_zones(text, camera, &zones)
        }) {
            Ok((changes, sha256)) => {
                Ok(serde_json::json!({"changes": changes, "policy_sha256": sha256}))
            }
            Err(EditError::Stale(m)) => Err(ApiError::Conflict(m)),
            Err(EditError::Invalid(errs)) => {
                let placed = webconsole::zones::polygon_errors(
                    camera,
                    errs.iter().map(|e| (e.path.as_str(), e.reason.as_str())),
                );
                let first = errs.first().map(|e| e.path.clone()).unwrap_or_default();
                let message = errs
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ");
                Err(ApiError::Invalid {
                    field: first,
                    message: format!("nothing was saved: {message}"),
                    errors: serde_json::to_value(placed).map_err(internal)?,
                })
            }
            Err(EditError::Refused(m)) => {
                Err(ApiError::bad("policy", format!("nothing was saved: {m}")))
            }
            Err(EditError::Failed(m)) => {
                tracing::error!(camera, "zone editor save failed: {m}");
                Err(ApiError::Internal(
                    "the policy could not be written or recorded; see the service log".into(),
                ))
            }
        }
    }

    fn trend(&self, p: &Principal, camera: &str) -> Result<serde_json::Value, ApiError> {
        self.check_camera(p, Permission::ReadStatus, camera)?;
        let (samples, events) = self.trends().of(camera);
        Ok(serde_json::json!({"camera": camera, "samples": samples, "events": events}))
    }

    fn public_page(&self, which: &str) -> Result<String, ApiError> {
        let cfg = self.config();
        match which {
            "notice" => {
                policy::notice::render(&cfg, policy::notice::Format::Html, None).map_err(internal)
            }
            "signs" => Ok(policy::notice::render_signs(
                &cfg,
                policy::notice::Format::Html,
            )),
            other => Err(ApiError::NotFound(format!("no public page {other:?}"))),
        }
    }

    fn site_name(&self) -> String {
        self.config().site.name
    }

    fn inspect(&self, p: &Principal, _client: &str) -> Result<serde_json::Value, ApiError> {
        p.require(Permission::RunInspection).map_err(deny)?;
        let i = self
            .inspect_now(ledger::InspectionKind::OnDemand, &p.user)
            .map_err(internal)?;
        serde_json::to_value(i).map_err(internal)
    }
}

static EXPORTING: parking_lot::Mutex<()> = parking_lot::Mutex::new(());
static ACCEPTING: parking_lot::Mutex<()> = parking_lot::Mutex::new(());

/// Where exports are joined before they stream (emptied at start: nothing there outlives a request).
pub fn exports_dir(cfg: &policy::SiteConfig) -> std::path::PathBuf {
    std::path::Path::new(&cfg.storage.path).join("exports")
}

/// A unique part of a file name.
pub(crate) fn unique_suffix() -> String {
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    format!(
        "{}-{}-{}",
        vault::time::unix_now(),
        std::process::id(),
        SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}
