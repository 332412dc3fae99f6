//! Data-subject requests (존재확인 · 열람 · 삭제) and openings of sealed recordings, for an authenticated
//! principal. Every step checks the role and the camera scope (a contractor sees only requests about its own
//! cameras; any other id is the same 404 as an unknown one) and writes its 관리대장 row in the same step as the
//! change: the row inside the store's update, so a refused step leaves neither.

use crate::custody::Held;
use crate::runtime::Site;
use access::{Permission, Principal};
use requests::{
    NewOpening, NewRequest, Opening, OpeningState, Outcome, RequestError, State, SubjectRequest,
};
use server::api::{ApiError, RequestAnswer, RequestOp};

pub(crate) fn req_err(e: RequestError) -> ApiError {
    match e {
        RequestError::Bad { field, message } => ApiError::bad(field, message),
        RequestError::NotFound(id) => ApiError::NotFound(format!("no request {id:?}")),
        e @ RequestError::Conflict { .. } => ApiError::Conflict(e.to_string()),
        RequestError::Store(m) => {
            tracing::error!("requests: {m}");
            ApiError::Internal("the request store failed; see the service log".into())
        }
    }
}

pub(crate) fn internal(e: impl std::fmt::Display) -> ApiError {
    tracing::error!("requests: {e}");
    ApiError::Internal(format!("{e}"))
}

pub(crate) fn body<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T, ApiError> {
    serde_json::from_value(v).map_err(|e| {
        let text = e.to_string();
        let field = text
            .split('`')
            .nth(1)
            .filter(|_| text.contains("field"))
            .unwrap_or("body")
            .to_string();
        ApiError::BadRequest {
            field,
            message: text,
        }
    })
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceBody {
    to: String,
    #[serde(default)]
    note: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DecideBody {
    outcome: String,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    note: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileBody {
    #[serde(flatten)]
    opening: NewOpening,
    #[serde(default)]
    password: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ApproveBody {
    password: String,
}

/// The year (UTC) of a time in unix milliseconds, for request ids.
fn year_of(ms: i64) -> i32 {
    vault::time::civil(vault::time::day_of(ms.div_euclid(1000))).0 as i32
}

fn window_text(from: i64, to: i64) -> String {
    format!(
        "{}–{}",
        vault::time::utc_stamp(from),
        vault::time::utc_stamp(to)
    )
}

fn subject_of(r: &SubjectRequest) -> String {
    format!(
        "{} {} {} {}",
        r.id,
        r.kind.korean(),
        r.cameras.join(","),
        window_text(r.from, r.to)
    )
}

/// A request's ledger row.
fn request_entry(
    p: &Principal,
    client: &str,
    r: &SubjectRequest,
    what: &str,
    detail: serde_json::Value,
) -> ledger::Entry {
    ledger::Entry {
        kind: ledger::Kind::Request,
        actor: p.user.clone(),
        subject: subject_of(r),
        purpose: what.to_string(),
        recipient: r.requester.clone(),
        basis: "개인정보 보호법 제35조".into(),
        period: window_text(r.from, r.to),
        client: client.into(),
        detail,
        ..ledger::Entry::default()
    }
}

impl Site {
    pub(crate) fn store(&self) -> &requests::Store {
        self.records().requests()
    }

    /// The cameras exist and the principal may see every one.
    fn check_cameras(&self, p: &Principal, cameras: &[String]) -> Result<(), ApiError> {
        let known = self.config();
        for c in cameras {
            if !p.may_see_camera(c) || !known.cameras.iter().any(|k| &k.id == c) {
                return Err(ApiError::no_camera(c));
            }
        }
        Ok(())
    }

    pub(crate) fn visible(&self, p: &Principal, cameras: &[String]) -> bool {
        cameras.iter().all(|c| p.may_see_camera(c))
    }

    fn subject_for(&self, p: &Principal, id: &str) -> Result<SubjectRequest, ApiError> {
        let r = self.store().subject(id).map_err(req_err)?;
        if !self.visible(p, &r.cameras) {
            return Err(ApiError::NotFound(format!("no request {id:?}")));
        }
        Ok(r)
    }

    /// Changes a request with its ledger row in the same step (the row is written before the file; a failed
    /// write is followed by a row saying so).
    fn step(
        &self,
        p: &Principal,
        client: &str,
        id: &str,
        what: &str,
        change: impl FnOnce(&mut SubjectRequest) -> Result<serde_json::Value, RequestError>,
    ) -> Result<SubjectRequest, ApiError> {
        self.subject_for(p, id)?;
        let ledger = self.records().ledger().clone();
        let mut row = None;
        let out = self.store().update_subject(id, |r| {
            let from = r.state;
            let mut detail = change(r)?;
            detail["id"] = r.id.clone().into();
            detail["from"] = from.name().into();
            detail["to"] = r.state.name().into();
            let e = request_entry(p, client, r, what, detail);
            row = Some(
                ledger
                    .append(e.clone())
                    .map_err(|e| RequestError::Store(format!("ledger: {e}")))?,
            );
            Ok(e)
        });
        match out {
            Ok((r, _)) => Ok(r),
            Err(e) => {
                if let (Some(row), RequestError::Store(m)) = (&row, &e) {
                    let mut failed = row.entry.clone();
                    failed.purpose = format!("{} (not saved: {m})", failed.purpose);
                    let _ = ledger.append(failed);
                }
                Err(req_err(e))
            }
        }
    }

    pub(crate) fn request_op(
        &self,
        p: &Principal,
        op: RequestOp,
        client: &str,
    ) -> Result<RequestAnswer, ApiError> {
        let json = |v: serde_json::Value| Ok(RequestAnswer::Json(v));
        match op {
            RequestOp::List => {
                p.require(Permission::ReadRequests)
                    .map_err(|e| ApiError::Forbidden(e.to_string()))?;
                let now = self.records().ledger().now_ms();
                let list: Vec<_> = self
                    .store()
                    .subjects()
                    .map_err(req_err)?
                    .into_iter()
                    .filter(|r| self.visible(p, &r.cameras))
                    .map(|r| summary(&r, now))
                    .collect();
                // The reasons a refusal may name (the policy's, as the notice prints them), for the deciding form.
                let reasons = self.config().notice.request_terms().refusal_reasons;
                json(serde_json::json!({"requests": list, "refusal_reasons": reasons}))
            }
            RequestOp::Get(id) => {
                p.require(Permission::ReadRequests)
                    .map_err(|e| ApiError::Forbidden(e.to_string()))?;
                let r = self.subject_for(p, &id)?;
                let now = self.records().ledger().now_ms();
                let mut v = serde_json::to_value(&r).map_err(internal)?;
                v["overdue"] = r.is_overdue(now).into();
                v["due_soon"] = r.is_due_soon(now).into();
                json(v)
            }
            RequestOp::Create(b) => {
                p.require(Permission::ManageRequests)
                    .map_err(|e| ApiError::Forbidden(e.to_string()))?;
                let n: NewRequest = body(b)?;
                self.check_cameras(p, &n.cameras)?;
                let cfg = self.config();
                let now = self.records().ledger().now_ms();
                let r = SubjectRequest::new(
                    &n,
                    &p.user,
                    now,
                    cfg.requests.due_days,
                    cfg.requests.max_window_hours,
                )
                .map_err(req_err)?;
                let ledger = self.records().ledger().clone();
                // The row first, with the new id: no request without it.
                let r = self
                    .store()
                    .add_subject(r, year_of(now), |r| {
                        let detail = serde_json::json!({"id": r.id, "type": r.kind, "to": "received", "due": vault::time::utc_stamp(r.due_ms / 1000)});
                        ledger
                            .append(request_entry(p, client, r, "접수", detail))
                            .map(|_| ())
                            .map_err(|e| RequestError::Store(format!("ledger: {e}")))
                    })
                    .map_err(req_err)?;
                json(serde_json::to_value(summary(&r, now)).map_err(internal)?)
            }
            RequestOp::Advance(id, b) => {
                p.require(Permission::ManageRequests)
                    .map_err(|e| ApiError::Forbidden(e.to_string()))?;
                let b: AdvanceBody = body(b)?;
                let to = State::parse(&b.to).map_err(req_err)?;
                let now = self.records().ledger().now_ms();
                let who = p.user.clone();
                let r = self.step(p, client, &id, to.korean(), |r| {
                    r.advance(to, &who, &b.note, now)?;
                    Ok(serde_json::json!({"note": b.note}))
                })?;
                json(serde_json::to_value(summary(&r, now)).map_err(internal)?)
            }
            RequestOp::Decide(id, b) => {
                p.require(Permission::ManageRequests)
                    .map_err(|e| ApiError::Forbidden(e.to_string()))?;
                let b: DecideBody = body(b)?;
                let outcome = Outcome::parse(&b.outcome).map_err(req_err)?;
                let reasons = self.config().notice.request_terms().refusal_reasons;
                let now = self.records().ledger().now_ms();
                let who = p.user.clone();
                let r = self.step(p, client, &id, "결정", |r| {
                    r.decide(outcome, b.reason.as_deref(), &b.note, &who, &reasons, now)?;
                    Ok(serde_json::json!({"outcome": outcome, "reason": r.decision.as_ref().and_then(|d| d.reason.clone())}))
                })?;
                json(serde_json::to_value(summary(&r, now)).map_err(internal)?)
            }
            RequestOp::Existence(id) => {
                p.require(Permission::ManageRequests)
                    .map_err(|e| ApiError::Forbidden(e.to_string()))?;
                let r = self.subject_for(p, &id)?;
                let answer = self.existence(&r)?;
                let a = answer.clone();
                self.step(p, client, &id, "존재확인 답변", move |r| {
                    r.existence = Some(a.clone());
                    Ok(serde_json::json!({"answer": a["answer"]}))
                })?;
                json(answer)
            }
            RequestOp::Document(id, which) => {
                p.require(Permission::ReadRequests)
                    .map_err(|e| ApiError::Forbidden(e.to_string()))?;
                let r = self.subject_for(p, &id)?;
                let cfg = self.config();
                match which.trim_end_matches(".html") {
                    "claim" => Ok(RequestAnswer::Html(forms::claim_form(&cfg, &r))),
                    "notice" => forms::decision_notice(&cfg, &r)
                        .map(RequestAnswer::Html)
                        .map_err(ApiError::Conflict),
                    other => Err(ApiError::NotFound(format!(
                        "no document {other:?}: claim or notice"
                    ))),
                }
            }
            RequestOp::Openings => {
                p.require(Permission::ReadRequests)
                    .map_err(|e| ApiError::Forbidden(e.to_string()))?;
                let list: Vec<_> = self
                    .store()
                    .openings()
                    .map_err(req_err)?
                    .into_iter()
                    .filter(|o| self.visible(p, &o.cameras))
                    .collect();
                json(serde_json::json!({"openings": list}))
            }
            RequestOp::FileOpening(b) => {
                p.require(Permission::FileOpening)
                    .map_err(|e| ApiError::Forbidden(e.to_string()))?;
                let b: FileBody = body(b)?;
                if b.password.is_some() && p.require(Permission::ApproveOpening).is_err() {
                    return Err(ApiError::bad(
                        "password",
                        format!(
                            "only a manager's password approves an opening (role {}); file it without one",
                            p.role
                        ),
                    ));
                }
                let password = b.password.map(access::Password::from);
                if let Some(pw) = &password {
                    // A wrong password files nothing (else retyping it would file the opening twice).
                    if !self.password_ok(p, client, pw)? {
                        return Err(ApiError::Forbidden(
                            "wrong password: nothing was filed".into(),
                        ));
                    }
                }
                let o = self.file_opening(p, client, &b.opening)?;
                match password {
                    Some(pw) => self.approve(p, client, &o.id, &pw),
                    None => {
                        let mut v = serde_json::to_value(&o).map_err(internal)?;
                        if let Ok((_, k)) = self.custody() {
                            v["needed"] = k.into();
                        }
                        json(v)
                    }
                }
            }
            RequestOp::Approve(id, b) => {
                p.require(Permission::ApproveOpening)
                    .map_err(|e| ApiError::Forbidden(e.to_string()))?;
                let b: ApproveBody = body(b)?;
                self.approve(p, client, &id, &access::Password::from(b.password))
            }
            op => self.review_op(p, op, client),
        }
    }

    /// 존재확인 from the index and the ledger: footage exists, was destroyed on a date (its 파기 row), or was
    /// never recorded.
    pub fn existence(&self, r: &SubjectRequest) -> Result<serde_json::Value, ApiError> {
        let cfg = self.config();
        let mut per_camera = Vec::new();
        let destroys = self
            .records()
            .ledger()
            .list(&ledger::Filter {
                kinds: vec![ledger::Kind::Destroy],
                ..ledger::Filter::default()
            })
            .map_err(internal)?;
        let days: Vec<String> = (vault::time::day_of(r.from)..=vault::time::day_of(r.to - 1))
            .map(vault::time::day_label)
            .collect();
        for cam in &r.cameras {
            let sealed = vocab::StreamName::new(cam, vocab::StreamKind::Sealed).to_string();
            let mut rows = self
                .vault()
                .list(Some(cam), r.from, r.to)
                .map_err(internal)?;
            rows.extend(
                self.vault()
                    .list(Some(&sealed), r.from, r.to)
                    .map_err(internal)?,
            );
            let zones = cfg
                .cameras
                .iter()
                .find(|c| &c.id == cam)
                .is_some_and(|c| !c.recording_zones.is_empty());
            let v = if !rows.is_empty() {
                serde_json::json!({
                    "camera": cam, "answer": "exists", "segments": rows.len(),
                    "sealed": rows.iter().any(|s| s.sealed),
                    "text": format!("{cam}: 요청하신 시간의 영상이 있습니다 ({}개 구간).", rows.len()),
                })
            } else if let Some(d) = destroys.iter().find(|d| {
                let c = d.entry.detail["camera"].as_str().unwrap_or_default();
                (c == cam || c == sealed)
                    && days
                        .iter()
                        .any(|day| d.entry.detail["day"].as_str() == Some(day))
            }) {
                let on = vault::time::utc_stamp(d.at_ms / 1000);
                serde_json::json!({
                    "camera": cam, "answer": "destroyed", "on": on, "ledger_row": d.seq,
                    "text": format!("{cam}: 보관기간이 지나 {}에 파기되었습니다 (관리대장 {}번).", &on[..10], d.seq),
                })
            } else {
                serde_json::json!({
                    "camera": cam, "answer": "never_recorded", "zones": zones,
                    "text": if zones {
                        format!("{cam}: 그 시간의 녹화가 없습니다 (녹화하지 않았거나, 녹화 구역 밖입니다).")
                    } else {
                        format!("{cam}: 그 시간에는 녹화하지 않았습니다.")
                    },
                })
            };
            per_camera.push(v);
        }
        let overall = ["exists", "destroyed", "never_recorded"]
            .into_iter()
            .find(|a| per_camera.iter().any(|c| c["answer"] == *a))
            .unwrap_or("never_recorded");
        let text: Vec<&str> = per_camera
            .iter()
            .filter_map(|c| c["text"].as_str())
            .collect();
        Ok(serde_json::json!({"answer": overall, "text": text.join(" "), "cameras": per_camera}))
    }

    fn file_opening(
        &self,
        p: &Principal,
        client: &str,
        n: &NewOpening,
    ) -> Result<Opening, ApiError> {
        self.check_cameras(p, &n.cameras)?;
        let cfg = self.config();
        for c in &n.cameras {
            let cam = cfg.cameras.iter().find(|k| &k.id == c).expect("checked");
            if !matches!(cfg.masking_of(cam), Ok((_, policy::RecordingMode::Sealed))) {
                return Err(ApiError::Conflict(format!(
                    "camera {c:?} keeps only masked recordings: no unmasked footage of anyone exists to open"
                )));
            }
        }
        let now = self.records().ledger().now_ms();
        let o = Opening::new(n, &p.user, now, cfg.requests.max_window_hours).map_err(req_err)?;
        if let Some(kind) = subject_kind(o.ground) {
            let id = o.reference.as_deref().unwrap_or_default();
            let r = self.subject_for(p, id).map_err(|_| {
                ApiError::bad("reference", format!("no data-subject request {id:?}"))
            })?;
            if r.kind != kind || !r.state.is_open() {
                return Err(ApiError::bad(
                    "reference",
                    format!("{id} is not an open {} request", kind.korean()),
                ));
            }
            if o.cameras.len() != 1 {
                return Err(ApiError::bad(
                    "cameras",
                    "a data subject's opening covers one camera (their track is followed in one picture): \
                     file one per camera",
                ));
            }
            if !r.cameras.contains(&o.cameras[0]) {
                return Err(ApiError::bad(
                    "cameras",
                    format!(
                        "{id} is about {}, not {}",
                        r.cameras.join(", "),
                        o.cameras.join(", ")
                    ),
                ));
            }
            if o.from < r.from || o.to > r.to {
                return Err(ApiError::bad(
                    "from",
                    format!(
                        "{id} asks about {}; a data subject's opening stays inside it",
                        window_text(r.from, r.to)
                    ),
                ));
            }
            if o.to - o.from > crate::subject::MAX_WINDOW_SECS {
                return Err(ApiError::bad(
                    "to",
                    format!(
                        "a data subject's opening covers at most {} minutes (every frame is searched for them); \
                         file one per part of the window",
                        crate::subject::MAX_WINDOW_SECS / 60
                    ),
                ));
            }
        }
        let ledger = self.records().ledger().clone();
        self.store()
            .add_opening(o, year_of(now), |o| {
                ledger
                    .append(opening_entry(
                        p,
                        client,
                        o,
                        "봉인 영상 열람 요청",
                        serde_json::json!({"id": o.id, "step": "filed"}),
                    ))
                    .map(|_| ())
                    .map_err(|e| RequestError::Store(format!("ledger: {e}")))
            })
            .map_err(req_err)
    }

    /// One manager's approval with their password: their share joins the ones held in memory for this opening;
    /// at k the key is rebuilt for this one job, the requested segments are opened, and everything is forgotten.
    fn approve(
        &self,
        p: &Principal,
        client: &str,
        id: &str,
        password: &access::Password,
    ) -> Result<RequestAnswer, ApiError> {
        // One approval of this opening at a time, start to end: no two see the same pending state.
        let lock = self.held().lock_for(id);
        let _one = lock.lock();
        let mut o = self.store().opening(id).map_err(req_err)?;
        if !self.visible(p, &o.cameras) {
            return Err(ApiError::NotFound(format!("no request {id:?}")));
        }
        if o.state == OpeningState::Review && self.reviews().get(id).is_none() {
            // Its window was forgotten before anyone looked: it takes its approvals again, this one first.
            self.requeue_forgotten(p, &o)?;
            o = self.store().opening(id).map_err(req_err)?;
        }
        if o.state != OpeningState::Pending {
            return Err(ApiError::Conflict(format!("opening {id} is not pending")));
        }
        let (sealed_public, k) = self.custody()?;
        let directory = self.records().directory().clone();
        let password_ok = self.password_ok(p, client, password)?;
        let ledger = self.records().ledger().clone();
        let refuse = |why: &str| {
            let _ = ledger.append(opening_entry(
                p,
                client,
                &o,
                &format!("승인 거부: {why}"),
                serde_json::json!({"id": o.id, "step": "approval_refused", "why": why}),
            ));
        };
        if !password_ok {
            refuse("wrong password");
            return Err(ApiError::Forbidden(
                "wrong password: the approval was refused (and recorded)".into(),
            ));
        }
        // Approvals whose shares are no longer held (the service restarted) are void: they are given again.
        let stale: Vec<String> = o
            .approvals
            .iter()
            .filter(|a| !self.held().has(id, &a.by))
            .map(|a| a.by.clone())
            .collect();
        let o = if stale.is_empty() {
            o.clone()
        } else {
            self.store()
                .update_opening(id, |o| {
                    o.approvals.retain(|a| !stale.contains(&a.by));
                    ledger
                        .append(opening_entry(p, client, o, "승인 무효: 재시작으로 열쇠 조각이 잊힘", serde_json::json!({"id": o.id, "step": "approvals_voided", "voided": stale})))
                        .map(|_| ())
                        .map_err(|e| RequestError::Store(format!("ledger: {e}")))
                })
                .map_err(req_err)?
                .0
        };
        if o.approvals.iter().any(|a| a.by == p.user) {
            refuse("the same manager approved twice");
            return Err(ApiError::Conflict(format!(
                "{} has approved {id} already: another manager must approve",
                p.user
            )));
        }
        let share = directory.open_share(&p.user, password, &sealed_public).map_err(|e| {
            refuse("no share");
            ApiError::Forbidden(format!("{e}: a manager holds a share after setting their own password and a re-split (garim keys sealed-split)"))
        })?;
        let now = ledger.now_ms();
        let who = p.user.clone();
        let (o, _) = self
            .store()
            .update_opening(id, |o| {
                o.approve(&who, now)?;
                ledger
                    .append(opening_entry(p, client, o, "봉인 영상 열람 승인", serde_json::json!({"id": o.id, "step": "approved", "approvals": o.approvals.len(), "needed": k})))
                    .map_err(|e| RequestError::Store(format!("ledger: {e}")))?;
                Ok(())
            })
            .map_err(req_err)?;
        let held = self.held().add(id, share);
        if held < k {
            let mut v = serde_json::to_value(&o).map_err(internal)?;
            v["needed"] = (k - held).into();
            return Ok(RequestAnswer::Json(v));
        }
        let shares = self.held().take(id);
        // The row before the key exists: no sealed footage is decrypted without it.
        let ledger = self.records().ledger().clone();
        ledger
            .append(opening_entry(
                p,
                client,
                &o,
                "봉인 열쇠 복원",
                serde_json::json!({"id": o.id, "step": "key_rebuilt", "approvals": o.approvals.len()}),
            ))
            .map_err(internal)?;
        if subject_kind(o.ground).is_some() {
            return self.open_for_review(p, client, &o, shares, k, &sealed_public);
        }
        let cfg = self.config();
        let dir = crate::api::exports_dir(&cfg);
        let result = crate::custody::with_rebuilt_key(shares, k, &sealed_public, |grant| {
            crate::opened::export(self.vault(), &o, &dir, &crate::api::unique_suffix, grant)
        })
        .and_then(|exported| {
            crate::opened::hand_over(&o, &dir, &crate::api::unique_suffix, exported)
        });
        match result {
            Ok(opened) => {
                let now = ledger.now_ms();
                let crate::opened::Opened {
                    file,
                    sha256,
                    parts,
                } = opened;
                self.store()
                    .update_opening(id, |o| {
                        ledger
                            .append(opening_entry(p, client, o, "봉인 영상 열람 실행", serde_json::json!({"id": o.id, "step": "opened", "output_sha256": sha256, "file": file.file_name, "cameras": parts})))
                            .map_err(|e| RequestError::Store(format!("ledger: {e}")))?;
                        o.state = OpeningState::Done;
                        if parts.len() > 1 {
                            for part in &parts {
                                if let (Some(what), Some(sha)) = (&part.file, &part.sha256) {
                                    o.outputs.push(requests::Output { what: what.clone(), sha256: sha.clone(), at_ms: now });
                                }
                            }
                        }
                        o.outputs.push(requests::Output { what: file.file_name.clone(), sha256: sha256.clone(), at_ms: now });
                        Ok(())
                    })
                    .map_err(req_err)?;
                Ok(RequestAnswer::File(file))
            }
            Err(e) => Err(self.opening_failed(p, client, &o, &e)),
        }
    }

    /// An opening whose job failed: recorded as failed, with its row.
    pub(crate) fn opening_failed(
        &self,
        p: &Principal,
        client: &str,
        o: &Opening,
        e: &anyhow::Error,
    ) -> ApiError {
        let text = format!("{e:#}");
        let _ = self.store().update_opening(&o.id, |o| {
            o.state = OpeningState::Failed;
            o.note = text.clone();
            Ok(())
        });
        let _ = self.records().ledger().append(opening_entry(
            p,
            client,
            o,
            "봉인 영상 열람 실패",
            serde_json::json!({"id": o.id, "step": "failed", "error": text}),
        ));
        ApiError::Internal(format!("the opening failed (the key is forgotten): {text}"))
    }

    /// Whether the principal's own password is right, throttled like a login: 429 while throttled, and a wrong
    /// one counts towards it.
    fn password_ok(
        &self,
        p: &Principal,
        client: &str,
        password: &access::Password,
    ) -> Result<bool, ApiError> {
        let directory = self.records().directory().clone();
        let throttle = directory.throttle();
        if let Err(r) = throttle.check(&p.user, client) {
            return Err(ApiError::TooMany {
                message: "too many wrong passwords; retry later".into(),
                retry_after_secs: (r.ms.max(0) as u64).div_ceil(1000).max(1),
            });
        }
        if directory.check_password(&p.user, password).is_err() {
            throttle.failed(&p.user, client);
            return Ok(false);
        }
        Ok(true)
    }

    /// The sealed public key of the policy and the threshold of its split.
    fn custody(&self) -> Result<([u8; 32], usize), ApiError> {
        let cfg = self.config();
        let Some(hex_key) = cfg.storage.sealed_public_key.as_deref() else {
            return Err(ApiError::Conflict(
                "the policy has no storage.sealed_public_key: nothing is sealed".into(),
            ));
        };
        let public = vault::SealedPublicKey::parse(hex_key).map_err(internal)?.0;
        match self
            .records()
            .directory()
            .custody_of(&public)
            .map_err(internal)?
        {
            Some(c) => Ok((public, c.k)),
            None => Err(ApiError::Conflict(
                "the sealed key has no shares among the managers: run garim keys sealed-init"
                    .into(),
            )),
        }
    }

    pub(crate) fn held(&self) -> &Held {
        self.held_shares()
    }
}

pub(crate) fn opening_entry(
    p: &Principal,
    client: &str,
    o: &Opening,
    what: &str,
    detail: serde_json::Value,
) -> ledger::Entry {
    let kind = if subject_kind(o.ground).is_some() {
        ledger::Kind::View
    } else {
        ledger::Kind::Provide
    };
    ledger::Entry {
        kind,
        actor: p.user.clone(),
        subject: format!(
            "{} {} (sealed) {}",
            o.id,
            o.cameras.join(","),
            window_text(o.from, o.to)
        ),
        purpose: format!("{what}: {}", o.reason),
        recipient: o.requested_by.clone(),
        basis: match &o.reference {
            Some(r) => format!("{} ({r})", o.ground.korean()),
            None => o.ground.korean().to_string(),
        },
        form: match o.cameras.len() {
            1 => "sealed MP4".into(),
            n => format!("sealed MP4 x{n} (ZIP)"),
        },
        period: window_text(o.from, o.to),
        manager: o
            .approvals
            .iter()
            .map(|a| a.by.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        client: client.into(),
        detail,
    }
}

/// The request kind a data subject's opening serves (none for the other grounds).
pub(crate) fn subject_kind(g: requests::Ground) -> Option<requests::Kind> {
    match g {
        requests::Ground::SubjectView => Some(requests::Kind::View),
        requests::Ground::SubjectDeletion => Some(requests::Kind::Deletion),
        _ => None,
    }
}

/// What a list shows of a request.
fn summary(r: &SubjectRequest, now: i64) -> serde_json::Value {
    serde_json::json!({
        "id": r.id, "type": r.kind, "state": r.state, "requester": r.requester, "cameras": r.cameras,
        "description": r.description,
        "from": vault::time::utc_stamp(r.from), "to": vault::time::utc_stamp(r.to),
        "received": vault::time::utc_stamp(r.received_ms / 1000), "due": vault::time::utc_stamp(r.due_ms / 1000),
        "overdue": r.is_overdue(now), "due_soon": r.is_due_soon(now),
    })
}

/// Counts for the metrics, /healthz and the 점검대장: open, overdue, and due within 3 days (or overdue).
pub fn request_counts(store: &requests::Store, now: i64) -> crate::status::RequestsStatus {
    let all = store.subjects().unwrap_or_else(|e| {
        tracing::error!("requests: {e}");
        Vec::new()
    });
    crate::status::RequestsStatus {
        open: all.iter().filter(|r| r.state.is_open()).count(),
        overdue: all.iter().filter(|r| r.is_overdue(now)).count(),
        due_soon: all
            .iter()
            .filter(|r| r.is_due_soon(now) || r.is_overdue(now))
            .count(),
    }
}
