//! The API of a data subject's opening after its approvals (see [`crate::subject`]): the review of the
//! requester's track, the redacted export (열람) and the deletion (삭제). Each step is allowed by role and camera
//! scope and leaves its 관리대장 row: opening the window, each user's first look at its frames, what the operator
//! said, and the output with its hash.

use crate::requests::{body, internal, opening_entry, req_err, subject_kind};
use crate::runtime::Site;
use crate::subject::{self, Review};
use access::{Permission, Principal};
use requests::{Ground, Opening, OpeningState, RequestError};
use server::api::{ApiError, ExportFile, RequestAnswer, RequestOp};
use std::sync::Arc;

impl Site {
    /// At the last approval of a data subject's opening: the key is rebuilt only to unwrap the window's segment
    /// keys and forgotten; pass 1 starts on its own thread.
    pub(crate) fn open_for_review(
        &self,
        p: &Principal,
        client: &str,
        o: &Opening,
        shares: Vec<custody::Share>,
        k: usize,
        sealed_public: &[u8; 32],
    ) -> Result<RequestAnswer, ApiError> {
        let vault = self.vault().clone();
        let opened = crate::custody::with_rebuilt_key(shares, k, sealed_public, |grant| {
            Review::open(&o.id, &o.cameras[0], o.from, o.to, &vault, grant)
        });
        let review = match opened {
            Ok(r) => Arc::new(r),
            Err(e) => return Err(self.opening_failed(p, client, o, &e)),
        };
        // Reopened after a restart: what the operator said before comes back (the proposal is made from it
        // once pass 1 is done).
        let kept = match o.review.clone().map(serde_json::from_value) {
            Some(Ok(said)) => {
                *review.said.lock() = said;
                true
            }
            Some(Err(e)) => {
                tracing::warn!(opening = %o.id, "the kept review does not read back ({e}); reviewing afresh");
                false
            }
            None => false,
        };
        let detector = self
            .detectors()
            .loaded_footage_detector_for(&[
                detect::Class::Person,
                detect::Class::Face,
                detect::Class::Plate,
            ])
            .map_err(|e| self.opening_failed(p, client, o, &e))?;
        let ledger = self.records().ledger().clone();
        let segments = review.sources().len();
        let (o, _) = self
            .store()
            .update_opening(&o.id, |o| {
                ledger
                    .append(opening_entry(p, client, o, "봉인 영상 검토 열림 (구간 열쇠만 메모리에)", serde_json::json!({"id": o.id, "step": "opened_for_review", "segments": segments, "review_kept": kept})))
                    .map_err(|e| RequestError::Store(format!("ledger: {e}")))?;
                o.state = OpeningState::Review;
                o.note.clear();
                Ok(())
            })
            .map_err(req_err)?;
        self.reviews().insert(review.clone());
        let r = review.clone();
        std::thread::Builder::new()
            .name(format!("review-{}", o.id))
            .spawn(move || r.detect(&vault, detector.as_ref()))
            .map_err(internal)?;
        let mut v = serde_json::to_value(&o).map_err(internal)?;
        v["review"] = review.status().map_err(internal)?;
        Ok(RequestAnswer::Json(v))
    }

    /// The opened window of an opening the principal may see.
    fn review_of(&self, p: &Principal, id: &str) -> Result<(Opening, Arc<Review>), ApiError> {
        let o = self.store().opening(id).map_err(req_err)?;
        if !self.visible(p, &o.cameras) {
            return Err(ApiError::NotFound(format!("no request {id:?}")));
        }
        if subject_kind(o.ground).is_none() {
            return Err(ApiError::Conflict(format!(
                "{id} is not a data subject's opening: it has no review"
            )));
        }
        match self.reviews().get(id) {
            Some(r) => Ok((o, r)),
            None if o.state == OpeningState::Review => {
                let why = self.requeue_forgotten(p, &o)?;
                Err(ApiError::Conflict(format!("{id}: {why}")))
            }
            None if o.state == OpeningState::Pending => Err(ApiError::Conflict(format!(
                "{id} is not open for review yet: its window opens at its last approval"
            ))),
            None => Err(ApiError::Conflict(format!(
                "{id} is not open for review ({}): its job is done or it failed; file it again",
                state_name(o.state),
            ))),
        }
    }

    /// A data subject's opening whose window was forgotten (a restart, or its time ran out): its segment keys
    /// are gone, so it waits for its approvals again, with its row; what the operator said is kept and comes
    /// back with the window. Returns why, for the answer.
    pub(crate) fn requeue_forgotten(&self, p: &Principal, o: &Opening) -> Result<String, ApiError> {
        let ledger = self.records().ledger().clone();
        let kept = o.review.is_some();
        let why = format!(
            "the opened window was forgotten (a restart, or its {} h ran out): the managers approve it again \
             to reopen it{}",
            subject::REVIEW_FOR.as_secs() / 3600,
            if kept { ", with the review kept" } else { "" }
        );
        self.store()
            .update_opening(&o.id, |o| {
                ledger
                    .append(opening_entry(
                        p,
                        "",
                        o,
                        "검토 만료: 다시 승인되면 열림",
                        serde_json::json!({"id": o.id, "step": "review_forgotten", "review_kept": kept}),
                    ))
                    .map_err(|e| RequestError::Store(format!("ledger: {e}")))?;
                o.state = OpeningState::Pending;
                o.approvals.clear();
                o.note = why.clone();
                Ok(())
            })
            .map_err(req_err)?;
        Ok(why)
    }

    /// A user's first look at the opened frames is their 열람 row.
    fn looked(&self, p: &Principal, client: &str, o: &Opening, r: &Review) -> Result<(), ApiError> {
        let mut viewers = r.viewers.lock();
        if !viewers.contains(&p.user) {
            // The row first: a look that could not be recorded is refused.
            self.records()
                .ledger()
                .append(opening_entry(
                    p,
                    client,
                    o,
                    "봉인 영상 검토 (요청인 확인)",
                    serde_json::json!({"id": o.id, "step": "review_viewed"}),
                ))
                .map_err(internal)?;
            viewers.insert(p.user.clone());
        }
        Ok(())
    }

    pub(crate) fn review_op(
        &self,
        p: &Principal,
        op: RequestOp,
        client: &str,
    ) -> Result<RequestAnswer, ApiError> {
        let json = |v: serde_json::Value| Ok(RequestAnswer::Json(v));
        match op {
            RequestOp::Review(id) => {
                p.require(Permission::FileOpening)
                    .map_err(|e| ApiError::Forbidden(e.to_string()))?;
                let (o, r) = self.review_of(p, &id)?;
                self.looked(p, client, &o, &r)?;
                json(
                    r.status()
                        .map_err(|e| ApiError::bad("review", format!("{e:#}")))?,
                )
            }
            RequestOp::Still(id, n) => {
                p.require(Permission::FileOpening)
                    .map_err(|e| ApiError::Forbidden(e.to_string()))?;
                let (o, r) = self.review_of(p, &id)?;
                self.looked(p, client, &o, &r)?;
                r.still(n).map(RequestAnswer::Jpeg).ok_or_else(|| {
                    ApiError::NotFound(format!("no frame {n} (or pass 1 has not finished)"))
                })
            }
            RequestOp::SaveReview(id, b) => {
                p.require(Permission::FileOpening)
                    .map_err(|e| ApiError::Forbidden(e.to_string()))?;
                let (o, r) = self.review_of(p, &id)?;
                let said: crate::redaction::OperatorReview = body(b)?;
                let ready = r.ready().ok_or_else(|| {
                    ApiError::Conflict("pass 1 has not finished: see its progress".into())
                })?;
                for (n, m) in said.marks.iter().chain(&said.not_them).enumerate() {
                    let ok = m
                        .bbox
                        .iter()
                        .all(|v| v.is_finite() && (0.0..=1.0).contains(v))
                        && m.bbox[2] > 0.0
                        && m.bbox[3] > 0.0
                        && m.at.is_finite();
                    if !ok {
                        return Err(ApiError::bad(
                            "marks",
                            format!(
                                "box {n}: x, y, width, height in 0..1 of the frame, and a time"
                            ),
                        ));
                    }
                }
                if !said.marks.is_empty() {
                    ready
                        .window
                        .propose(&said)
                        .map_err(|e| ApiError::bad("marks", format!("{e:#}")))?;
                } else if said.confirmed {
                    return Err(ApiError::bad("confirmed", "mark the requester first"));
                }
                // The row and the kept review in one step (a restart reopens the window with it).
                let ledger = self.records().ledger().clone();
                let kept = serde_json::to_value(&said).map_err(internal)?;
                self.store()
                    .update_opening(&id, |o| {
                        ledger
                            .append(opening_entry(
                                p,
                                client,
                                o,
                                if said.confirmed { "요청인 추적 확인" } else { "요청인 추적 수정" },
                                serde_json::json!({"id": o.id, "step": "review", "marks": said.marks.len(), "not_them": said.not_them.len(), "absent": said.absent.len(), "confirmed": said.confirmed}),
                            ))
                            .map_err(|e| RequestError::Store(format!("ledger: {e}")))?;
                        o.review = Some(kept);
                        Ok(())
                    })
                    .map_err(req_err)?;
                *r.said.lock() = said;
                self.looked(p, client, &o, &r)?;
                json(r.status().map_err(internal)?)
            }
            RequestOp::RedactedExport(id) => self.job(p, client, &id, Ground::SubjectView),
            RequestOp::Erase(id) => self.job(p, client, &id, Ground::SubjectDeletion),
            RequestOp::Sidecar(id) => {
                p.require(Permission::ReadRequests)
                    .map_err(|e| ApiError::Forbidden(e.to_string()))?;
                let o = self.store().opening(&id).map_err(req_err)?;
                if !self.visible(p, &o.cameras) {
                    return Err(ApiError::NotFound(format!("no request {id:?}")));
                }
                o.sidecar.map(RequestAnswer::Json).ok_or_else(|| {
                    ApiError::NotFound(format!("{id} has no redacted export or deletion yet"))
                })
            }
            other => Err(ApiError::Internal(format!(
                "not a review operation: {other:?}"
            ))),
        }
    }

    /// The one job of a confirmed review: the redacted copy of a 열람, or the erasure of a 삭제 (`ground`
    /// says which was asked for; the opening's own ground must match).
    fn job(
        &self,
        p: &Principal,
        client: &str,
        id: &str,
        ground: Ground,
    ) -> Result<RequestAnswer, ApiError> {
        p.require(Permission::FileOpening)
            .map_err(|e| ApiError::Forbidden(e.to_string()))?;
        let (o, r) = self.review_of(p, id)?;
        match (o.ground, ground) {
            (Ground::SubjectView, Ground::SubjectView) => self.redacted_export(p, client, &o, &r),
            (Ground::SubjectDeletion, Ground::SubjectDeletion) => self.erase(p, client, &o, &r),
            (Ground::SubjectView, _) => Err(ApiError::Conflict(format!(
                "{id} is a 열람: export, not erase"
            ))),
            _ => Err(ApiError::Conflict(format!(
                "{id} is a deletion: erase, not export"
            ))),
        }
    }

    fn redacted_export(
        &self,
        p: &Principal,
        client: &str,
        o: &Opening,
        r: &Review,
    ) -> Result<RequestAnswer, ApiError> {
        let _one = job_of(o, r)?;
        let cfg = self.config();
        let cam = cfg
            .cameras
            .iter()
            .find(|c| c.id == r.camera)
            .ok_or_else(|| ApiError::no_camera(&r.camera))?;
        let static_masks: Vec<mask::Polygon> = cam
            .privacy_masks
            .iter()
            .map(|p| mask::Polygon(p.clone()))
            .collect();
        let dir = crate::api::exports_dir(&cfg);
        std::fs::create_dir_all(&dir).map_err(internal)?;
        let reference = o.reference.clone().unwrap_or_default();
        let now = self.records().ledger().now_ms();
        let stamp = vault::time::utc_stamp(now / 1000);
        let watermark = format!(
            "{reference} {}-{}-{}",
            &stamp[..4],
            &stamp[4..6],
            &stamp[6..8]
        );
        let name = format!("{reference}-{}-redacted.mp4", r.camera);
        let out = dir.join(format!("{}-{}", crate::api::unique_suffix(), name));
        let done = subject::export(r, self.vault(), &watermark, &static_masks, &out)
            .and_then(|d| Ok((crate::custody::sha256_file(&out)?, d)));
        let (sha, done) = match done {
            Ok(x) => x,
            Err(e) => {
                let _ = std::fs::remove_file(&out);
                return Err(ApiError::Internal(format!(
                    "the redacted export failed: {e:#}"
                )));
            }
        };
        let ready = r
            .ready()
            .ok_or_else(|| ApiError::Internal("pass 1 vanished".into()))?;
        let times = &ready.window.times;
        let said = r.said.lock().clone();
        let sidecar = serde_json::json!({
            "request": reference, "opening": o.id, "camera": r.camera,
            "window": {"from": vault::time::utc_stamp(o.from), "to": vault::time::utc_stamp(o.to)},
            "watermark": watermark,
            "source_segments": r.sources(),
            "output": {"file": name, "sha256": sha, "frames": done.frames, "render_seconds": done.seconds, "detect_seconds": ready.detect_seconds},
            "lost_frames": {
                "count": done.lost_frames.len(),
                "note": "masked whole: the requester's track is lost, uncertain (someone else may be inside their box) or not confirmed there",
                "frames": done.lost_frames,
                "times": done.lost_frames.iter().map(|&i| times[i]).collect::<Vec<_>>(),
            },
            "masked": {
                "boxes": done.masked_boxes,
                "what": "every other person, face and plate detected (carried across missed detections), the camera's static privacy masks, and whole frames where the track is lost",
                "style": "black fill",
            },
            "review": {"marks": said.marks.len(), "not_them": said.not_them.len(), "absent": said.absent.len(), "confirmed": said.confirmed, "by": o.filed_by},
            "made_by": p.user, "made_at": vault::time::utc_stamp(now / 1000),
        });
        self.finish(
            p,
            client,
            o,
            "정보주체 열람 사본 (타인 가림)",
            &sidecar,
            vec![requests::Output {
                what: name.clone(),
                sha256: sha.clone(),
                at_ms: now,
            }],
        )?;
        Ok(RequestAnswer::File(ExportFile {
            path: out,
            file_name: name,
        }))
    }

    fn erase(
        &self,
        p: &Principal,
        client: &str,
        o: &Opening,
        r: &Review,
    ) -> Result<RequestAnswer, ApiError> {
        let _one = job_of(o, r)?;
        let cfg = self.config();
        let public = cfg
            .storage
            .sealed_public_key
            .as_deref()
            .ok_or_else(|| ApiError::Conflict("the policy has no storage.sealed_public_key".into()))
            .and_then(|k| vault::SealedPublicKey::parse(k).map_err(internal))?;
        let ledger = self.records().ledger().clone();
        let now = ledger.now_ms();
        // The row before anything is replaced: no recording changes without it.
        ledger
            .append(ledger::Entry {
                kind: ledger::Kind::Destroy,
                ..opening_entry(p, client, o, "정보주체 삭제 요구: 해당 인물 가림 후 재암호화, 원본 파기 시작", serde_json::json!({"id": o.id, "step": "erase_started", "camera": r.camera, "segments": r.sources()}))
            })
            .map_err(internal)?;
        let replaced = match subject::erase(r, self.vault(), &public) {
            Ok(x) => x,
            Err(e) => {
                let text = format!("{e:#}");
                let _ = ledger.append(opening_entry(
                    p,
                    client,
                    o,
                    "정보주체 삭제 실패",
                    serde_json::json!({"id": o.id, "step": "erase_failed", "error": text}),
                ));
                return Err(ApiError::Internal(format!(
                    "the deletion failed part way ({text}); segments already replaced stay replaced, run it again"
                )));
            }
        };
        let said = r.said.lock().clone();
        let sidecar = serde_json::json!({
            "request": o.reference, "opening": o.id, "camera": r.camera,
            "window": {"from": vault::time::utc_stamp(o.from), "to": vault::time::utc_stamp(o.to)},
            "replaced": replaced,
            "how": "each segment decoded, the requester's box (and frames where their confirmed track is lost between its ends) masked, re-encoded, sealed under a new data key; the old file and its wrapped key deleted",
            "review": {"marks": said.marks.len(), "not_them": said.not_them.len(), "absent": said.absent.len(), "confirmed": said.confirmed},
            "made_by": p.user, "made_at": vault::time::utc_stamp(now / 1000),
        });
        ledger
            .append(ledger::Entry {
                kind: ledger::Kind::Destroy,
                ..opening_entry(p, client, o, "정보주체 삭제 요구: 원본 파기 완료", serde_json::json!({"id": o.id, "step": "erased", "camera": r.camera, "replaced": replaced}))
            })
            .map_err(internal)?;
        self.finish(
            p,
            client,
            o,
            "정보주체 삭제 (해당 인물 가림, 원본 파기)",
            &sidecar,
            Vec::new(),
        )?;
        Ok(RequestAnswer::Json(sidecar))
    }

    /// The job is done: its row, the opening done with its sidecar, and the window forgotten.
    fn finish(
        &self,
        p: &Principal,
        client: &str,
        o: &Opening,
        what: &str,
        sidecar: &serde_json::Value,
        outputs: Vec<requests::Output>,
    ) -> Result<(), ApiError> {
        let ledger = self.records().ledger().clone();
        let sidecar_sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
            serde_json::to_vec(sidecar).map_err(internal)?,
        ));
        let out = self.store().update_opening(&o.id, |o| {
            ledger
                .append(opening_entry(p, client, o, what, serde_json::json!({"id": o.id, "step": "done", "output_sha256": outputs.first().map(|x| x.sha256.clone()), "sidecar_sha256": sidecar_sha})))
                .map_err(|e| RequestError::Store(format!("ledger: {e}")))?;
            o.state = OpeningState::Done;
            o.outputs.extend(outputs.iter().cloned());
            o.sidecar = Some(sidecar.clone());
            Ok(())
        });
        self.reviews().remove(&o.id);
        out.map(drop).map_err(req_err)
    }
}

/// The one job of an opened window, once its track is confirmed (a second job meanwhile is refused).
fn job_of<'a>(o: &Opening, r: &'a Review) -> Result<parking_lot::MutexGuard<'a, ()>, ApiError> {
    let one = r
        .job
        .try_lock()
        .ok_or_else(|| ApiError::Conflict(format!("{}: its job is running", o.id)))?;
    if !r.said.lock().confirmed {
        return Err(ApiError::Conflict(format!(
            "{}: confirm the requester's track first (POST …/review with \"confirmed\": true)",
            o.id
        )));
    }
    Ok(one)
}

fn state_name(s: OpeningState) -> &'static str {
    match s {
        OpeningState::Pending => "pending",
        OpeningState::Review => "review",
        OpeningState::Done => "done",
        OpeningState::Refused => "refused",
        OpeningState::Failed => "failed",
    }
}
