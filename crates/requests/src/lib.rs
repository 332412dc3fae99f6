//! Data-subject requests (존재확인 · 열람 · 삭제, PIPA Art. 35) and openings of sealed recordings (two
//! managers, a named legal ground): what they hold, the states they go through, when they are due. Pure logic
//! and a file store; the site layer checks roles and writes the 관리대장 row of every step.

mod store;

pub use store::Store;

use serde::{Deserialize, Serialize};

pub const DAY_MS: i64 = 86_400_000;
/// A request due within this long is flagged (on /healthz and in the 점검대장).
pub const DUE_SOON_MS: i64 = 3 * DAY_MS;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RequestError {
    #[error("{field}: {message}")]
    Bad {
        field: &'static str,
        message: String,
    },
    #[error("no request {0:?}")]
    NotFound(String),
    #[error("request {id} is {state}: {message}")]
    Conflict {
        id: String,
        state: &'static str,
        message: String,
    },
    #[error("request store {0}")]
    Store(String),
}

pub type Result<T, E = RequestError> = std::result::Result<T, E>;

fn bad(field: &'static str, message: impl Into<String>) -> RequestError {
    RequestError::Bad {
        field,
        message: message.into(),
    }
}

/// What the data subject asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// 존재확인: whether footage of them exists.
    Existence,
    /// 열람: to view it (others masked).
    View,
    /// 삭제: to have it deleted.
    Deletion,
}

impl Kind {
    pub fn parse(s: &str) -> Result<Kind> {
        match s {
            "existence" | "존재확인" => Ok(Kind::Existence),
            "view" | "열람" => Ok(Kind::View),
            "deletion" | "삭제" => Ok(Kind::Deletion),
            other => Err(bad(
                "type",
                format!("{other:?} is not existence (존재확인), view (열람) or deletion (삭제)"),
            )),
        }
    }

    pub fn korean(self) -> &'static str {
        match self {
            Kind::Existence => "존재확인",
            Kind::View => "열람",
            Kind::Deletion => "삭제",
        }
    }
}

/// received → checking → decided → fulfilled | partly_fulfilled | refused → closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Received,
    Checking,
    Decided,
    Fulfilled,
    PartlyFulfilled,
    Refused,
    Closed,
}

impl State {
    pub const ALL: [State; 7] = [
        State::Received,
        State::Checking,
        State::Decided,
        State::Fulfilled,
        State::PartlyFulfilled,
        State::Refused,
        State::Closed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            State::Received => "received",
            State::Checking => "checking",
            State::Decided => "decided",
            State::Fulfilled => "fulfilled",
            State::PartlyFulfilled => "partly_fulfilled",
            State::Refused => "refused",
            State::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Result<State> {
        State::ALL
            .into_iter()
            .find(|x| x.name() == s)
            .ok_or_else(|| bad("to", format!("{s:?} is not one of received, checking, decided, fulfilled, partly_fulfilled, refused, closed")))
    }

    pub fn korean(self) -> &'static str {
        match self {
            State::Received => "접수",
            State::Checking => "확인 중",
            State::Decided => "결정",
            State::Fulfilled => "이행",
            State::PartlyFulfilled => "일부 이행",
            State::Refused => "거부",
            State::Closed => "종결",
        }
    }

    /// Still waiting for its answer: the 10 days run.
    pub fn is_open(self) -> bool {
        matches!(self, State::Received | State::Checking | State::Decided)
    }

    /// The states this one may move to.
    pub fn next(self) -> &'static [State] {
        match self {
            State::Received => &[State::Checking],
            State::Checking => &[State::Decided],
            State::Decided => &[State::Fulfilled, State::PartlyFulfilled, State::Refused],
            State::Fulfilled | State::PartlyFulfilled | State::Refused => &[State::Closed],
            State::Closed => &[],
        }
    }
}

/// What was decided: to answer (in full or in part) or to refuse, with one of the policy's refusal reasons.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub outcome: Outcome,
    /// The refusal reason, word for word one of the policy's (the notice lists the same).
    pub reason: Option<String>,
    pub note: String,
    pub by: String,
    pub at_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Fulfil,
    Partly,
    Refuse,
}

impl Outcome {
    pub fn parse(s: &str) -> Result<Outcome> {
        match s {
            "fulfil" | "fulfill" => Ok(Outcome::Fulfil),
            "partly" => Ok(Outcome::Partly),
            "refuse" => Ok(Outcome::Refuse),
            other => Err(bad(
                "outcome",
                format!("{other:?} is not fulfil, partly or refuse"),
            )),
        }
    }

    /// The final state this decision leads to.
    pub fn state(self) -> State {
        match self {
            Outcome::Fulfil => State::Fulfilled,
            Outcome::Partly => State::PartlyFulfilled,
            Outcome::Refuse => State::Refused,
        }
    }
}

/// One step of a request, as its ledger row also says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub at_ms: i64,
    pub by: String,
    pub from: Option<State>,
    pub to: State,
    pub note: String,
}

/// A file given out for a request: what it is and its hash (the sidecar names the sources).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Output {
    pub what: String,
    pub sha256: String,
    pub at_ms: i64,
}

/// A data subject's request, as received (the 청구서) and as it goes on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubjectRequest {
    pub id: String,
    pub kind: Kind,
    /// 청구인: name.
    pub requester: String,
    /// How to reach them (address, phone, e-mail).
    pub contact: String,
    pub cameras: Vec<String>,
    /// The window asked about, unix seconds.
    pub from: i64,
    pub to: i64,
    /// What they looked like (clothes, what they carried), to find them.
    pub description: String,
    /// The identity document the operator saw (e.g. "주민등록증"): never a copy of it.
    pub identity_check: String,
    pub received_ms: i64,
    pub due_ms: i64,
    pub state: State,
    pub filed_by: String,
    pub steps: Vec<Step>,
    pub decision: Option<Decision>,
    /// The 존재확인 answer, once given.
    pub existence: Option<serde_json::Value>,
    pub outputs: Vec<Output>,
}

/// What the operator enters for a new request.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    #[serde(rename = "type")]
    pub kind: String,
    pub requester: String,
    pub contact: String,
    pub cameras: Vec<String>,
    pub from: i64,
    pub to: i64,
    #[serde(default)]
    pub description: String,
    pub identity_check: String,
}

/// Free text of a form field: 1–`max` characters without control characters (new lines allowed).
pub fn text(field: &'static str, v: &str, max: usize) -> Result<String> {
    let v = v.trim();
    if v.is_empty() {
        return Err(bad(field, "required"));
    }
    if v.chars().count() > max {
        return Err(bad(field, format!("longer than {max} characters")));
    }
    if v.chars().any(|c| c.is_control() && c != '\n') {
        return Err(bad(field, "contains control characters"));
    }
    Ok(v.to_string())
}

/// A time window: `to` after `from`, at most `max_hours` long.
pub fn window(from: i64, to: i64, max_hours: u32) -> Result<()> {
    if from < 0 {
        return Err(bad("from", "must be a time after 1970"));
    }
    if to <= from {
        return Err(bad("to", "must be after from"));
    }
    if to
        .checked_sub(from)
        .is_none_or(|d| d > i64::from(max_hours) * 3600)
    {
        return Err(bad(
            "to",
            format!(
                "the window is {:.1} h; at most {max_hours} h may be asked at once",
                (to - from) as f64 / 3600.0
            ),
        ));
    }
    Ok(())
}

impl SubjectRequest {
    /// A request received now (`now_ms`), due in `due_days` (≤ 10, checked by the policy).
    pub fn new(
        n: &NewRequest,
        by: &str,
        now_ms: i64,
        due_days: u32,
        max_hours: u32,
    ) -> Result<SubjectRequest> {
        let kind = Kind::parse(&n.kind)?;
        if n.cameras.is_empty() {
            return Err(bad("cameras", "name at least one camera"));
        }
        window(n.from, n.to, max_hours)?;
        let description = if n.description.trim().is_empty() {
            String::new()
        } else {
            text("description", &n.description, 2000)?
        };
        let identity_check = text("identity_check", &n.identity_check, 200)?;
        if looks_like_an_id_number(&identity_check) {
            return Err(bad(
                "identity_check",
                "write which document was seen (e.g. 주민등록증), not its number: no copy of it is kept",
            ));
        }
        let mut cameras = n.cameras.clone();
        cameras.sort();
        cameras.dedup();
        Ok(SubjectRequest {
            id: String::new(),
            kind,
            requester: text("requester", &n.requester, 200)?,
            contact: text("contact", &n.contact, 500)?,
            cameras,
            from: n.from,
            to: n.to,
            description,
            identity_check,
            received_ms: now_ms,
            due_ms: now_ms + i64::from(due_days.min(10)) * DAY_MS,
            state: State::Received,
            filed_by: by.to_string(),
            steps: vec![Step {
                at_ms: now_ms,
                by: by.to_string(),
                from: None,
                to: State::Received,
                note: "접수".into(),
            }],
            decision: None,
            existence: None,
            outputs: Vec::new(),
        })
    }

    pub fn is_overdue(&self, now_ms: i64) -> bool {
        self.state.is_open() && now_ms > self.due_ms
    }

    pub fn is_due_soon(&self, now_ms: i64) -> bool {
        self.state.is_open() && now_ms <= self.due_ms && self.due_ms - now_ms <= DUE_SOON_MS
    }

    /// Moves to `to` when the state machine allows it; a final state must follow the decision.
    pub fn advance(&mut self, to: State, by: &str, note: &str, now_ms: i64) -> Result<()> {
        if to == State::Decided && self.decision.is_none() {
            return Err(bad(
                "to",
                "a request is decided with its decision (outcome and reason), not moved there",
            ));
        }
        if !self.state.next().contains(&to) {
            return Err(RequestError::Conflict {
                id: self.id.clone(),
                state: self.state.name(),
                message: format!(
                    "cannot move to {}; next: {}",
                    to.name(),
                    if self.state.next().is_empty() {
                        "none (closed)".to_string()
                    } else {
                        self.state
                            .next()
                            .iter()
                            .map(|s| s.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                ),
            });
        }
        if self.state == State::Decided {
            let decided = self.decision.as_ref().map(|d| d.outcome.state());
            if decided != Some(to) {
                return Err(RequestError::Conflict {
                    id: self.id.clone(),
                    state: self.state.name(),
                    message: format!(
                        "it was decided to {}; it can only become {}",
                        self.decision.as_ref().map_or("?", |d| match d.outcome {
                            Outcome::Fulfil => "fulfil",
                            Outcome::Partly => "fulfil in part",
                            Outcome::Refuse => "refuse",
                        }),
                        decided.map_or("?", State::name)
                    ),
                });
            }
        }
        self.steps.push(Step {
            at_ms: now_ms,
            by: by.to_string(),
            from: Some(self.state),
            to,
            note: note.to_string(),
        });
        self.state = to;
        Ok(())
    }

    /// checking → decided, with the decision; a refusal names one of `reasons` (the policy's).
    pub fn decide(
        &mut self,
        outcome: Outcome,
        reason: Option<&str>,
        note: &str,
        by: &str,
        reasons: &[String],
        now_ms: i64,
    ) -> Result<()> {
        let reason = match (outcome, reason.map(str::trim).filter(|r| !r.is_empty())) {
            (Outcome::Refuse, None) | (Outcome::Partly, None) => {
                return Err(bad(
                    "reason",
                    format!(
                        "required: one of the policy's refusal reasons: {}",
                        reasons.join(" / ")
                    ),
                ));
            }
            (_, Some(r)) => {
                // A reason may be given by its number (1-based) or its words.
                let found = r
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| i.checked_sub(1))
                    .and_then(|i| reasons.get(i))
                    .or_else(|| reasons.iter().find(|x| x.as_str() == r));
                Some(found.cloned().ok_or_else(|| {
                    bad(
                        "reason",
                        format!(
                            "{r:?} is not one of the policy's refusal reasons (1–{})",
                            reasons.len()
                        ),
                    )
                })?)
            }
            (Outcome::Fulfil, None) => None,
        };
        let mut next = self.clone();
        next.decision = Some(Decision {
            outcome,
            reason,
            note: note.to_string(),
            by: by.to_string(),
            at_ms: now_ms,
        });
        next.advance(State::Decided, by, note, now_ms)?;
        *self = next;
        Ok(())
    }
}

/// A long run of digits (a resident registration or passport number) does not belong in the record.
fn looks_like_an_id_number(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    digits >= 6
}

/// The legal ground for opening sealed recordings (PIPA Arts. 18(2) and 35).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ground {
    /// 수사기관의 요청 (공문·영장 번호 required).
    Investigation,
    /// 재판
    Trial,
    /// 정보주체의 열람 (a data-subject request, named): the export hides everyone else.
    SubjectView,
    /// 정보주체의 삭제 (a data-subject request, named): their presence is masked out of the sealed recordings.
    SubjectDeletion,
    /// 급박한 생명·신체·재산의 이익
    Emergency,
}

impl Ground {
    pub fn parse(s: &str) -> Result<Ground> {
        match s {
            "investigation" | "수사기관의 요청" => Ok(Ground::Investigation),
            "trial" | "재판" => Ok(Ground::Trial),
            "subject_view" | "정보주체의 열람" => Ok(Ground::SubjectView),
            "subject_deletion" | "정보주체의 삭제" => Ok(Ground::SubjectDeletion),
            "emergency" | "급박한 생명·신체·재산의 이익" => Ok(Ground::Emergency),
            other => Err(bad(
                "ground",
                format!(
                    "{other:?} is not investigation, trial, subject_view, subject_deletion or emergency"
                ),
            )),
        }
    }

    pub fn korean(self) -> &'static str {
        match self {
            Ground::Investigation => "수사기관의 요청",
            Ground::Trial => "재판",
            Ground::SubjectView => "정보주체의 열람",
            Ground::SubjectDeletion => "정보주체의 삭제",
            Ground::Emergency => "급박한 생명·신체·재산의 이익",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpeningState {
    /// Waiting for managers' approvals.
    Pending,
    /// Opened for the operator's review of a data subject's track: the window's segment keys are held in memory
    /// (never the sealed key) until the redacted export or deletion is done, or the review expires.
    Review,
    /// Opened and exported.
    Done,
    /// Refused by a manager.
    Refused,
    /// The job failed after the key was rebuilt (the key is forgotten either way).
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    pub by: String,
    pub at_ms: i64,
}

/// A request to open sealed recordings: camera(s), a bounded window, a reason and a legal ground; opened only
/// when k distinct managers have approved with their passwords.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Opening {
    pub id: String,
    pub cameras: Vec<String>,
    pub from: i64,
    pub to: i64,
    pub reason: String,
    pub ground: Ground,
    /// 공문·영장 번호 (investigation), 사건번호 (trial), or the data-subject request id.
    pub reference: Option<String>,
    /// 요구자: who asked (the police office, the court, the data subject).
    pub requested_by: String,
    pub filed_by: String,
    pub filed_ms: i64,
    pub state: OpeningState,
    pub approvals: Vec<Approval>,
    pub note: String,
    pub outputs: Vec<Output>,
    /// A data subject's redacted export or deletion: what it did (source segment hashes, output hash, lost
    /// frames, what was masked), handed over with the export.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sidecar: Option<serde_json::Value>,
    /// What the operator said in a data subject's review (marks, not them, not in the frame, confirmed: boxes
    /// and times, no pixels), kept so that a window forgotten at a restart reopens with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOpening {
    pub cameras: Vec<String>,
    pub from: i64,
    pub to: i64,
    pub reason: String,
    pub ground: String,
    #[serde(default)]
    pub reference: Option<String>,
    pub requested_by: String,
}

impl Opening {
    pub fn new(n: &NewOpening, by: &str, now_ms: i64, max_hours: u32) -> Result<Opening> {
        let ground = Ground::parse(&n.ground)?;
        if n.cameras.is_empty() {
            return Err(bad("cameras", "name at least one camera"));
        }
        window(n.from, n.to, max_hours)?;
        let reference = n
            .reference
            .as_deref()
            .map(|r| text("reference", r, 200))
            .transpose()?;
        if reference.is_none()
            && matches!(
                ground,
                Ground::Investigation
                    | Ground::Trial
                    | Ground::SubjectView
                    | Ground::SubjectDeletion
            )
        {
            return Err(bad(
                "reference",
                match ground {
                    Ground::Investigation => "required: the 공문 or 영장 number",
                    Ground::Trial => "required: the case number (사건번호)",
                    _ => "required: the data-subject request id",
                },
            ));
        }
        let mut cameras = n.cameras.clone();
        cameras.sort();
        cameras.dedup();
        Ok(Opening {
            id: String::new(),
            cameras,
            from: n.from,
            to: n.to,
            reason: text("reason", &n.reason, 1000)?,
            ground,
            reference,
            requested_by: text("requested_by", &n.requested_by, 200)?,
            filed_by: by.to_string(),
            filed_ms: now_ms,
            state: OpeningState::Pending,
            approvals: Vec::new(),
            note: String::new(),
            outputs: Vec::new(),
            sidecar: None,
            review: None,
        })
    }

    /// Records one manager's approval; the same manager twice is refused.
    pub fn approve(&mut self, by: &str, now_ms: i64) -> Result<()> {
        if self.state != OpeningState::Pending {
            return Err(RequestError::Conflict {
                id: self.id.clone(),
                state: match self.state {
                    OpeningState::Done => "done",
                    OpeningState::Review => "review",
                    OpeningState::Refused => "refused",
                    OpeningState::Failed => "failed",
                    OpeningState::Pending => "pending",
                },
                message: "it takes no more approvals".into(),
            });
        }
        if self.approvals.iter().any(|a| a.by == by) {
            return Err(RequestError::Conflict {
                id: self.id.clone(),
                state: "pending",
                message: format!("{by} has approved it already: another manager must approve"),
            });
        }
        self.approvals.push(Approval {
            by: by.to_string(),
            at_ms: now_ms,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_req(kind: &str) -> NewRequest {
        NewRequest {
            kind: kind.into(),
            requester: "홍길동".into(),
            contact: "010-0000-0000".into(),
            cameras: vec!["cam-a".into()],
            from: 1_800_000_000,
            to: 1_800_003_600,
            description: "빨간 외투".into(),
            identity_check: "주민등록증".into(),
        }
    }

    fn reasons() -> Vec<String> {
        vec!["범죄수사".into(), "보관기간 경과".into()]
    }

    #[test]
    fn a_request_is_due_in_ten_days_and_overdue_after() {
        let now = 1_800_000_000_000;
        let r = SubjectRequest::new(&new_req("열람"), "kim", now, 10, 24).unwrap();
        assert_eq!(r.kind, Kind::View);
        assert_eq!(r.due_ms, now + 10 * DAY_MS);
        assert!(!r.is_overdue(now + 10 * DAY_MS));
        assert!(r.is_overdue(now + 10 * DAY_MS + 1));
        assert!(!r.is_due_soon(now));
        assert!(r.is_due_soon(now + 7 * DAY_MS));
        // The policy may shorten it, never lengthen it.
        assert_eq!(
            SubjectRequest::new(&new_req("view"), "kim", now, 30, 24)
                .unwrap()
                .due_ms,
            now + 10 * DAY_MS
        );
        assert_eq!(
            SubjectRequest::new(&new_req("view"), "kim", now, 5, 24)
                .unwrap()
                .due_ms,
            now + 5 * DAY_MS
        );
    }

    #[test]
    fn states_follow_the_machine_and_the_decision() {
        let now = 1_800_000_000_000;
        let mut r = SubjectRequest::new(&new_req("existence"), "kim", now, 10, 24).unwrap();
        let e = r.advance(State::Fulfilled, "kim", "", now).unwrap_err();
        assert!(e.to_string().contains("next: checking"), "{e}");
        r.advance(State::Checking, "kim", "", now).unwrap();
        assert!(
            r.decide(Outcome::Refuse, None, "", "kim", &reasons(), now)
                .unwrap_err()
                .to_string()
                .contains("required")
        );
        assert!(
            r.decide(Outcome::Refuse, Some("made up"), "", "kim", &reasons(), now)
                .is_err()
        );
        assert_eq!(
            r.state,
            State::Checking,
            "a refused decision changes nothing"
        );
        r.decide(
            Outcome::Refuse,
            Some("2"),
            "destroyed",
            "kim",
            &reasons(),
            now,
        )
        .unwrap();
        assert_eq!(
            r.decision.as_ref().unwrap().reason.as_deref(),
            Some("보관기간 경과")
        );
        assert!(
            r.advance(State::Fulfilled, "kim", "", now)
                .unwrap_err()
                .to_string()
                .contains("can only become refused")
        );
        r.advance(State::Refused, "kim", "", now).unwrap();
        assert!(
            !r.is_overdue(now + 20 * DAY_MS),
            "answered requests are not overdue"
        );
        r.advance(State::Closed, "kim", "", now).unwrap();
        assert_eq!(r.steps.len(), 5);
        assert!(
            r.advance(State::Closed, "kim", "", now)
                .unwrap_err()
                .to_string()
                .contains("none (closed)")
        );
        // Decided is reached only with a decision.
        let mut r = SubjectRequest::new(&new_req("view"), "kim", now, 10, 24).unwrap();
        r.advance(State::Checking, "kim", "", now).unwrap();
        let e = r.advance(State::Decided, "kim", "", now).unwrap_err();
        assert!(e.to_string().starts_with("to: a request is decided"), "{e}");
    }

    #[test]
    fn bad_input_names_its_field() {
        let now = 0;
        let mut n = new_req("view");
        n.to = n.from + 25 * 3600;
        assert!(
            SubjectRequest::new(&n, "kim", now, 10, 24)
                .unwrap_err()
                .to_string()
                .starts_with("to: the window is 25.0 h")
        );
        let mut n = new_req("view");
        (n.from, n.to) = (-1, i64::MAX);
        let e = SubjectRequest::new(&n, "kim", now, 10, 24).unwrap_err();
        assert!(e.to_string().starts_with("from:"), "{e}");
        let mut n = new_req("view");
        n.identity_check = "주민등록증 900101-1234567".into();
        assert!(
            SubjectRequest::new(&n, "kim", now, 10, 24)
                .unwrap_err()
                .to_string()
                .contains("not its number")
        );
        let mut n = new_req("copy");
        n.cameras.clear();
        assert!(
            SubjectRequest::new(&n, "kim", now, 10, 24)
                .unwrap_err()
                .to_string()
                .starts_with("type:")
        );
        let n = new_req("view");
        let mut o = NewOpening {
            cameras: n.cameras.clone(),
            from: n.from,
            to: n.to,
            reason: "폭행 사건".into(),
            ground: "investigation".into(),
            reference: None,
            requested_by: "미추홀경찰서".into(),
        };
        assert!(
            Opening::new(&o, "kim", 0, 24)
                .unwrap_err()
                .to_string()
                .contains("영장")
        );
        o.reference = Some("수사 2026-123".into());
        let mut op = Opening::new(&o, "kim", 0, 24).unwrap();
        op.approve("kim", 1).unwrap();
        assert!(
            op.approve("kim", 2)
                .unwrap_err()
                .to_string()
                .contains("approved it already")
        );
        op.approve("lee", 2).unwrap();
    }
}
