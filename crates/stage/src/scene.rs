//! The scene guard: every few seconds a camera's view is compared with its accepted reference view; a
//! camera that was turned, covered, blinded or defocused has every frame masked whole (fail-closed reason
//! `scene_changed`) until a 관리책임자 accepts the new view — PIPA Art. 25(5) forbids pointing a camera at
//! anything but its published range, so a re-aim is an event to review, not to adapt to. The alarm latches:
//! turning the camera back does not clear it. The reference, the alarm and the last acceptance are kept in
//! `<storage>/scene/<camera>.json` (written whole, fsync'ed, renamed over) so a restart keeps the alarm; every
//! event goes to the site's ledger through `SceneConfig::events`. Acceptance arrives only in memory, through
//! the camera's `SceneInbox`, put there by the site runtime for an authenticated manager; the guard answers
//! it at the next frame. No file on disk can accept a view.
//!
//! The fingerprints are 64×48 luma averages: people in them are a few cells tall, nobody can be recognized;
//! the cells under the camera's privacy masks are left out (held at the picture's mean), and with a site key
//! the state file is encrypted and authenticated under it, so it shows no picture and an edited one is
//! refused. An edited, unreadable, or (once a reference was recorded in the ledger) deleted state fails
//! closed: every frame is masked whole until a manager accepts the view again.

use mask::scene::{self, SceneComparison, SceneFingerprint, SceneShift};
use mask::{FrameRef, Polygon, SceneThresholds, SceneVerdict};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// A check that is not `Same` is repeated this many times, `1/CONFIRM_DIVISOR` of the check period apart,
/// before the alarm latches (frames are masked whole meanwhile): a bus filling the view for a moment is not
/// a re-aim.
pub const CONFIRM_CHECKS: u32 = 2;
const CONFIRM_DIVISOR: u64 = 3;
/// A new view whose content moved more than this share of the frame (either axis) from the old reference
/// needs `--zones-checked`: privacy masks and recording zones are drawn in frame coordinates.
pub const ZONE_SHIFT_LIMIT: f32 = 0.02;
/// Below this match score the shift estimate is meaningless (another scene): zones must be checked too.
pub const MIN_SHIFT_MATCH: f32 = 0.5;
/// Frame rate assumed until the camera reports its own.
const DEFAULT_FPS: f64 = 10.0;

/// Where the guard's events go (the site's ledger): camera id and the event as JSON. An error refuses an
/// acceptance (no acceptance without its row); other events are logged when they cannot be written.
pub type SceneEvents = Arc<dyn Fn(&str, &serde_json::Value) -> Result<(), String> + Send + Sync>;

/// An acceptance request waiting for the camera's guard, and the guard's answer to it.
#[derive(Clone, Default)]
pub struct SceneInbox(Arc<Mutex<InboxSlot>>);

#[derive(Default)]
struct InboxSlot {
    request: Option<AcceptRequest>,
    answer: Option<AcceptOutcome>,
}

impl SceneInbox {
    /// Asks the guard to accept the current view; a request not yet answered is replaced.
    pub fn request(&self, req: AcceptRequest) {
        let mut slot = self.0.lock();
        slot.request = Some(req);
        slot.answer = None;
    }

    /// Withdraws a request not taken yet (whoever asked stopped waiting): it is never applied later. False
    /// when the guard has already taken it: its answer comes.
    pub fn cancel(&self) -> bool {
        self.0.lock().request.take().is_some()
    }

    pub fn pending(&self) -> bool {
        self.0.lock().request.is_some()
    }

    /// The answer to the last request, once the guard has given it (taken: asked once).
    pub fn take_answer(&self) -> Option<AcceptOutcome> {
        self.0.lock().answer.take()
    }

    fn take_request(&self) -> Option<AcceptRequest> {
        self.0.lock().request.take()
    }

    fn answer(&self, outcome: AcceptOutcome) {
        self.0.lock().answer = Some(outcome);
    }
}

impl std::fmt::Debug for SceneInbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SceneInbox(pending: {})", self.pending())
    }
}

/// Scene guard settings of one camera.
#[derive(Clone)]
pub struct SceneConfig {
    pub check_every: Duration,
    /// The storage path (`[storage] path`): state under `scene/`. In memory only when `None` (tests, offline
    /// masking).
    pub storage: Option<PathBuf>,
    pub thresholds: SceneThresholds,
    pub inbox: SceneInbox,
    /// The ledger of the guard's events; tracing only when `None`.
    pub events: Option<SceneEvents>,
    /// The key the state file is sealed under (the site key); in the clear when `None` (tests, offline).
    pub seal: Option<Arc<vault::SecretKey>>,
    /// A reference was recorded for this camera before (its ledger says so): a missing state file is then a
    /// deletion, not a first start, and fails closed.
    pub expect_state: bool,
}

impl std::fmt::Debug for SceneConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SceneConfig")
            .field("check_every", &self.check_every)
            .field("storage", &self.storage)
            .field("thresholds", &self.thresholds)
            .field("inbox", &self.inbox)
            .field("events", &self.events.is_some())
            .field("sealed", &self.seal.is_some())
            .field("expect_state", &self.expect_state)
            .finish()
    }
}

impl SceneConfig {
    pub fn every(check_every: Duration, storage: Option<PathBuf>) -> SceneConfig {
        SceneConfig {
            check_every,
            storage,
            thresholds: SceneThresholds::default(),
            inbox: SceneInbox::default(),
            events: None,
            seal: None,
            expect_state: false,
        }
    }

    /// Seals the state file under `key`; `expect_state`: see the field.
    pub fn sealed(mut self, key: Arc<vault::SecretKey>, expect_state: bool) -> SceneConfig {
        self.seal = Some(key);
        self.expect_state = expect_state;
        self
    }

    pub fn with_events(mut self, events: SceneEvents) -> SceneConfig {
        self.events = Some(events);
        self
    }

    pub fn with_inbox(mut self, inbox: SceneInbox) -> SceneConfig {
        self.inbox = inbox;
        self
    }
}

/// The alarm while a camera's view is not its reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SceneAlarm {
    pub since_unix: i64,
    pub verdict: SceneVerdict,
    pub reason: String,
    pub scores: mask::SceneScores,
}

/// One comparison with the reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SceneCheck {
    pub at_unix: i64,
    pub verdict: SceneVerdict,
    pub reason: String,
    pub scores: mask::SceneScores,
}

/// What `garim scene accept` asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AcceptRequest {
    pub by: String,
    /// The person checked that the privacy masks and recording zones fit the new view.
    pub zones_checked: bool,
    pub requested_unix: i64,
}

/// What became of the last acceptance request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AcceptOutcome {
    pub at_unix: i64,
    pub by: String,
    pub accepted: bool,
    pub message: String,
    pub shift: Option<SceneShift>,
}

/// Everything kept per camera.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SceneState {
    pub camera: String,
    pub reference: Option<SceneFingerprint>,
    #[serde(default)]
    pub reference_since_unix: i64,
    /// Who accepted the reference (`None`: taken automatically when the camera was first seen).
    pub reference_by: Option<String>,
    pub alarm: Option<SceneAlarm>,
    /// The latest check while alarmed (or the one that raised the alarm).
    pub last_check: Option<SceneCheck>,
    pub last_acceptance: Option<AcceptOutcome>,
}

impl SceneState {
    fn new(camera: &str) -> SceneState {
        SceneState {
            camera: camera.to_string(),
            reference: None,
            reference_since_unix: 0,
            reference_by: None,
            alarm: None,
            last_check: None,
            last_acceptance: None,
        }
    }

    /// The newest shift estimate between the reference and the camera's view while alarmed.
    pub fn current_shift(&self) -> Option<SceneShift> {
        self.last_check
            .as_ref()
            .map(|c| c.scores.shift)
            .or_else(|| self.alarm.as_ref().map(|a| a.scores.shift))
    }
}

/// Whether a view that moved by `shift` may be accepted without `--zones-checked`.
pub fn zones_still_fit(shift: Option<SceneShift>) -> bool {
    shift.is_some_and(|s| s.score >= MIN_SHIFT_MATCH && s.magnitude() <= ZONE_SHIFT_LIMIT)
}

/// The names of the camera's zones a re-aim may have displaced, e.g. `privacy_masks[0]`.
pub fn zone_names(privacy_masks: usize, recording_zones: usize) -> Vec<String> {
    (0..privacy_masks)
        .map(|i| format!("privacy_masks[{i}]"))
        .chain((0..recording_zones).map(|i| format!("recording_zones[{i}]")))
        .collect()
}

pub fn describe_shift(s: &SceneShift) -> String {
    if s.score < MIN_SHIFT_MATCH {
        format!(
            "an unknown amount (the new view matches the old one only {:.2})",
            s.score
        )
    } else {
        format!(
            "about {:+.1}% across and {:+.1}% down",
            s.dx * 100.0,
            s.dy * 100.0
        )
    }
}

/// Files of the scene guard under a storage path.
#[derive(Clone)]
pub struct SceneStore {
    root: PathBuf,
    seal: Option<Arc<vault::SecretKey>>,
}

impl std::fmt::Debug for SceneStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SceneStore({}, sealed: {})",
            self.root.display(),
            self.seal.is_some()
        )
    }
}

/// A sealed state file: the state's JSON, encrypted and authenticated under the site key (hex).
#[derive(Serialize, Deserialize)]
struct SealedState {
    camera: String,
    sealed: String,
}

impl SceneStore {
    pub fn new(storage: &Path) -> SceneStore {
        SceneStore {
            root: storage.to_path_buf(),
            seal: None,
        }
    }

    /// A store whose files are sealed under `key` (and refused when they are not).
    pub fn sealed(storage: &Path, key: Option<Arc<vault::SecretKey>>) -> SceneStore {
        SceneStore {
            root: storage.to_path_buf(),
            seal: key,
        }
    }

    fn label(camera: &str) -> String {
        format!("garim scene state {camera}")
    }

    pub fn state_path(&self, camera: &str) -> PathBuf {
        self.root.join("scene").join(format!("{camera}.json"))
    }

    /// The saved state; `Ok(None)` when the camera has none yet.
    pub fn load(&self, camera: &str) -> Result<Option<SceneState>, String> {
        let p = self.state_path(camera);
        match std::fs::read_to_string(&p) {
            Ok(text) => {
                let text = match &self.seal {
                    None => text,
                    Some(key) => {
                        let opened = serde_json::from_str::<SealedState>(&text)
                            .ok()
                            .filter(|s| s.camera == camera)
                            .and_then(|s| hex_decode(&s.sealed))
                            .and_then(|b| key.open_bytes(&b, &Self::label(camera)))
                            .and_then(|b| String::from_utf8(b).ok());
                        opened.ok_or_else(|| {
                            format!(
                                "{}: not sealed by this site's key (edited, or written elsewhere)",
                                p.display()
                            )
                        })?
                    }
                };
                serde_json::from_str::<SceneState>(&text)
                    .map(Some)
                    .map_err(|e| format!("{}: {e}", p.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: {e}", p.display())),
        }
    }

    pub fn save(&self, state: &SceneState) -> std::io::Result<()> {
        let mut text = serde_json::to_string(state).map_err(std::io::Error::other)?;
        if let Some(key) = &self.seal {
            let sealed = key.seal_bytes(text.as_bytes(), &Self::label(&state.camera));
            text = serde_json::to_string(&SealedState {
                camera: state.camera.clone(),
                sealed: sealed.iter().map(|b| format!("{b:02x}")).collect(),
            })
            .map_err(std::io::Error::other)?;
        }
        write_atomic(&self.state_path(&state.camera), text.as_bytes())
    }
}

/// Holds the cells under the privacy masks at the mean of the others: what is never shown is never kept, not
/// even as a 64×48 thumbnail, and compares the same in every view.
pub fn exclude_masked(f: &mut SceneFingerprint, privacy_masks: &[Polygon]) {
    if privacy_masks.is_empty() {
        return;
    }
    let (gw, gh) = (scene::GRID_W as u32, scene::GRID_H as u32);
    let mut cov = mask::Coverage::new(gw, gh);
    for p in privacy_masks {
        cov.add_polygon(p);
    }
    let open: Vec<u64> = (0..gh)
        .flat_map(|y| (0..gw).map(move |x| (x, y)))
        .filter(|&(x, y)| !cov.is_covered(x, y))
        .map(|(x, y)| u64::from(f.grid[(y * gw + x) as usize]))
        .collect();
    let mean = if open.is_empty() {
        0
    } else {
        (open.iter().sum::<u64>() / open.len() as u64) as u16
    };
    for y in 0..gh {
        for x in 0..gw {
            if cov.is_covered(x, y) {
                f.grid[(y * gw + x) as usize] = mean;
            }
        }
    }
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Writes beside the target, fsyncs, renames over it: a crash leaves the old file or the new one. The
/// temporary name is unique, so two writers (the service and `garim scene accept`) never share it.
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("json.{}-{seq}.part", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// What the guard says about a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SceneHold {
    /// The view is the reference one (or none is known yet): mask as usual.
    Clear,
    /// The view differs (suspected or alarmed): mask the frame whole.
    Changed,
}

/// The running guard of one camera (state as in `SceneState`, plus the schedule).
pub struct SceneGuard {
    camera: String,
    cfg: SceneConfig,
    store: Option<SceneStore>,
    state: SceneState,
    fps: f64,
    frames: u64,
    next_check: u64,
    /// Consecutive checks that were not `Same`, before the alarm latches.
    suspect: u32,
}

impl SceneGuard {
    /// Starts the guard, with the saved reference and alarm when there are.
    pub fn open(camera: &str, cfg: SceneConfig) -> SceneGuard {
        let store = cfg
            .storage
            .as_deref()
            .map(|p| SceneStore::sealed(p, cfg.seal.clone()));
        let state = match store.as_ref().map(|s| s.load(camera)) {
            Some(Ok(Some(s))) if s.reference.as_ref().is_none_or(|r| r.is_well_formed()) => s,
            Some(Ok(None)) if cfg.expect_state => {
                // The ledger shows a reference was taken: the state was deleted. Nobody can vouch for the
                // view, so the camera is masked whole until a manager accepts it again.
                tracing::error!(
                    camera,
                    "scene state missing although a reference was recorded; every frame is masked whole until a manager accepts the view"
                );
                emit(
                    &cfg.events,
                    camera,
                    serde_json::json!({"event": "state_missing"}),
                );
                let mut state = SceneState::new(camera);
                state.alarm = Some(SceneAlarm {
                    since_unix: now_unix(),
                    verdict: SceneVerdict::Turned,
                    reason: "the saved scene state was deleted; the view cannot be vouched for"
                        .into(),
                    scores: mask::SceneScores::default(),
                });
                if let Some(store) = &store {
                    let _ = store.save(&state);
                }
                state
            }
            Some(Ok(None)) | None => SceneState::new(camera),
            Some(Ok(Some(_))) | Some(Err(_)) => {
                // Unreadable: kept aside for the audit; a new reference is taken. (Whoever can damage this
                // file can delete it, with the same effect; the ledger keeps the event.)
                let store = store.as_ref().expect("loaded from a store");
                let path = store.state_path(camera);
                let aside = path.with_extension(format!("json.unreadable-{}", now_unix()));
                let _ = std::fs::rename(&path, &aside);
                tracing::error!(camera, file = %aside.display(), "scene state unreadable or edited; kept aside; every frame is masked whole until a manager accepts the view");
                emit(
                    &cfg.events,
                    camera,
                    serde_json::json!({
                        "event": "state_unreadable", "file": aside.display().to_string(),
                    }),
                );
                // The lost state may have held an alarm, and nobody can vouch that the view is still the
                // accepted one: fail closed until a manager accepts the current view.
                let mut state = SceneState::new(camera);
                state.alarm = Some(SceneAlarm {
                    since_unix: now_unix(),
                    verdict: SceneVerdict::Turned,
                    reason: format!(
                        "the saved scene state could not be read (kept as {}); the view cannot be vouched for",
                        aside.display()
                    ),
                    scores: mask::SceneScores::default(),
                });
                let _ = store.save(&state);
                state
            }
        };
        let m = telemetry::metrics();
        m.scene_changed
            .with_label_values(&[camera])
            .set(i64::from(state.alarm.is_some()));
        for v in SceneVerdict::CHANGED {
            m.scene_changes_total
                .with_label_values(&[camera, v.as_str()]);
        }
        if let Some(a) = &state.alarm {
            tracing::warn!(
                camera,
                verdict = a.verdict.as_str(),
                "scene alarm from before the restart still stands: every frame is masked whole until a manager accepts the view (garim scene accept)"
            );
        }
        let mut g = SceneGuard {
            camera: camera.to_string(),
            cfg,
            store,
            state,
            fps: DEFAULT_FPS,
            frames: 0,
            next_check: 0,
            suspect: 0,
        };
        // With a reference, the first frame is checked (a camera turned while garim was down); without one,
        // the reference is taken one period in, when the stream has settled.
        if g.state.reference.is_none() {
            g.next_check = g.period();
        }
        g
    }

    pub fn config(&self) -> &SceneConfig {
        &self.cfg
    }

    /// The camera's frame rate, so `check_every` becomes a number of frames.
    pub fn set_fps(&mut self, fps: f64) {
        // Some cameras report nonsense rates in their stream timing (50–90000 fps); a check period computed
        // from those would switch the guard off, so the rate is held to what cameras really send.
        if fps.is_finite() && fps > 0.0 {
            self.fps = fps.clamp(1.0, 120.0);
        }
    }

    /// Makes the next observed frame a check (when a reference exists; the first reference is still taken
    /// one period in, once the stream has settled).
    pub fn check_next_frame(&mut self) {
        if self.state.reference.is_some() {
            self.next_check = self.frames;
        }
    }

    pub fn state(&self) -> &SceneState {
        &self.state
    }

    pub fn alarmed(&self) -> bool {
        self.state.alarm.is_some()
    }

    fn period(&self) -> u64 {
        ((self.cfg.check_every.as_secs_f64() * self.fps).round() as u64).max(1)
    }

    /// Looks at one raw frame (fingerprinting it when a check is due) and says whether it must be masked
    /// whole. `zones` are the camera's privacy-mask and recording-zone counts, named when an acceptance
    /// needs them checked.
    pub fn observe(
        &mut self,
        frame: &FrameRef<'_>,
        privacy_masks: &[Polygon],
        zones: (usize, usize),
    ) -> SceneHold {
        let n = self.frames;
        self.frames += 1;
        // An acceptance is answered at once, on this frame; otherwise checks keep their schedule.
        if n >= self.next_check || self.cfg.inbox.pending() {
            self.check(frame, privacy_masks, n, zones);
        }
        if self.alarmed() || self.suspect > 0 {
            SceneHold::Changed
        } else {
            SceneHold::Clear
        }
    }

    fn check(
        &mut self,
        frame: &FrameRef<'_>,
        privacy_masks: &[Polygon],
        n: u64,
        zones: (usize, usize),
    ) {
        self.next_check = n + self.period();
        let mut current = SceneFingerprint::of(frame);
        exclude_masked(&mut current, privacy_masks);
        let request = self.cfg.inbox.take_request();
        let answered = request.is_some();
        self.check_with(current, request.map(Ok), n, zones);
        // Answered once the outcome is saved, so whoever asked never reads a stale state.
        if answered {
            if let Some(outcome) = self.state.last_acceptance.clone() {
                self.cfg.inbox.answer(outcome);
            }
        }
    }

    fn check_with(
        &mut self,
        current: SceneFingerprint,
        request: Option<Result<AcceptRequest, String>>,
        n: u64,
        zones: (usize, usize),
    ) {
        let Some(reference) = self.state.reference.clone() else {
            self.take_first_reference(current);
            if let Some(req) = request {
                self.refuse(
                    req.ok(),
                    "no reference view was recorded yet: nothing to accept".into(),
                    None,
                );
            }
            return;
        };
        let cmp = scene::compare(&reference, &current, &self.cfg.thresholds);
        match request {
            Some(Ok(req)) => {
                if self.alarmed() {
                    self.accept(req, current, &cmp, zones);
                } else {
                    self.refuse(
                        Some(req),
                        "the camera has no scene alarm: nothing to accept".into(),
                        None,
                    );
                }
                return;
            }
            Some(Err(e)) => self.refuse(None, format!("unreadable request: {e}"), None),
            None => {}
        }
        if self.alarmed() {
            // Stays latched; the newest estimate is kept for `garim scene status` and `accept`.
            self.state.last_check = Some(check_of(&cmp));
            self.save();
            return;
        }
        if cmp.verdict == SceneVerdict::Same {
            if self.suspect > 0 {
                tracing::info!(camera = %self.camera, "scene check: the view is the reference one again ({})", cmp.reason);
            }
            self.suspect = 0;
            return;
        }
        self.suspect += 1;
        if self.suspect <= CONFIRM_CHECKS {
            tracing::info!(camera = %self.camera, verdict = cmp.verdict.as_str(), "scene check: view differs from the reference ({}); confirming, frames masked whole meanwhile", cmp.reason);
            self.next_check = n + (self.period() / CONFIRM_DIVISOR).max(1);
            return;
        }
        self.latch(cmp);
    }

    fn take_first_reference(&mut self, current: SceneFingerprint) {
        if let Some(v) = current.degenerate(&self.cfg.thresholds) {
            tracing::warn!(camera = %self.camera, verdict = v.as_str(), "scene check: the view is {} — not taken as the reference view; retrying", v.as_str());
            return;
        }
        let now = now_unix();
        self.state.reference = Some(current);
        self.state.reference_since_unix = now;
        self.state.reference_by = None;
        tracing::info!(camera = %self.camera, "scene check: reference view taken");
        self.log(serde_json::json!({"event": "reference_taken", "by": null}));
        self.save();
    }

    fn latch(&mut self, cmp: SceneComparison) {
        self.suspect = 0;
        let now = now_unix();
        self.state.alarm = Some(SceneAlarm {
            since_unix: now,
            verdict: cmp.verdict,
            reason: cmp.reason.clone(),
            scores: cmp.scores,
        });
        self.state.last_check = Some(check_of(&cmp));
        let m = telemetry::metrics();
        m.scene_changed.with_label_values(&[&self.camera]).set(1);
        m.scene_changes_total
            .with_label_values(&[&self.camera, cmp.verdict.as_str()])
            .inc();
        tracing::warn!(camera = %self.camera, verdict = cmp.verdict.as_str(), "SCENE CHANGED: {}; every frame is masked whole until a manager accepts the view (garim scene accept)", cmp.reason);
        self.log(serde_json::json!({
            "event": "scene_changed", "verdict": cmp.verdict, "reason": cmp.reason, "scores": cmp.scores,
        }));
        self.save();
    }

    fn accept(
        &mut self,
        req: AcceptRequest,
        current: SceneFingerprint,
        cmp: &SceneComparison,
        zones: (usize, usize),
    ) {
        if let Some(v) = current.degenerate(&self.cfg.thresholds) {
            let msg = format!(
                "the camera's view is {} now: it cannot become the reference view; repair the camera and accept again",
                v.as_str()
            );
            return self.refuse(Some(req), msg, Some(cmp.scores.shift));
        }
        // A covered or blinded lens is a fault to repair, never a view to accept, even in part.
        if matches!(cmp.verdict, SceneVerdict::Covered | SceneVerdict::Blinded) {
            let msg = format!(
                "the camera's view is {} ({}): it cannot become the reference view; repair the camera and accept again",
                cmp.verdict.as_str(),
                cmp.reason
            );
            return self.refuse(Some(req), msg, Some(cmp.scores.shift));
        }
        let shift = cmp.scores.shift;
        let names = zone_names(zones.0, zones.1);
        let turned = cmp.verdict == SceneVerdict::Turned;
        if (turned || !zones_still_fit(Some(shift))) && !names.is_empty() && !req.zones_checked {
            let msg = format!(
                "the view moved by {} since the reference: {} may no longer fit; check them and accept with --zones-checked",
                describe_shift(&shift),
                names.join(", ")
            );
            return self.refuse(Some(req), msg, Some(shift));
        }
        // The acceptance's ledger row first: no acceptance without it.
        let row = serde_json::json!({
            "event": "accepted", "by": req.by, "zones_checked": req.zones_checked,
            "verdict": self.state.alarm.as_ref().map(|a| a.verdict), "shift": shift, "scores": cmp.scores,
        });
        if let Some(events) = &self.cfg.events {
            if let Err(e) = events(&self.camera, &row) {
                return self.refuse(
                    Some(req),
                    format!(
                        "the acceptance could not be written to the ledger ({e}); nothing changed"
                    ),
                    Some(shift),
                );
            }
        }
        let now = now_unix();
        self.state.alarm = None;
        self.state.reference = Some(current);
        self.state.reference_since_unix = now;
        self.state.reference_by = Some(req.by.clone());
        self.state.last_check = None;
        self.suspect = 0;
        let message = format!(
            "new reference view accepted by {}; the view moved by {} from the old one{}",
            req.by,
            describe_shift(&shift),
            if req.zones_checked {
                "; zones checked"
            } else {
                ""
            }
        );
        self.state.last_acceptance = Some(AcceptOutcome {
            at_unix: now,
            by: req.by.clone(),
            accepted: true,
            message: message.clone(),
            shift: Some(shift),
        });
        telemetry::metrics()
            .scene_changed
            .with_label_values(&[&self.camera])
            .set(0);
        tracing::info!(camera = %self.camera, by = %req.by, "scene alarm cleared: {message}");
        self.save();
    }

    fn refuse(&mut self, req: Option<AcceptRequest>, message: String, shift: Option<SceneShift>) {
        let by = req.as_ref().map(|r| r.by.clone()).unwrap_or_default();
        tracing::warn!(camera = %self.camera, by = %by, "scene acceptance refused: {message}");
        self.state.last_acceptance = Some(AcceptOutcome {
            at_unix: now_unix(),
            by: by.clone(),
            accepted: false,
            message: message.clone(),
            shift,
        });
        self.log(serde_json::json!({
            "event": "accept_refused", "by": by, "shift": shift, "message": message,
        }));
        self.save();
    }

    fn log(&self, row: serde_json::Value) {
        emit(&self.cfg.events, &self.camera, row);
    }

    fn save(&self) {
        if let Some(store) = &self.store {
            if let Err(e) = store.save(&self.state) {
                // The alarm still holds in memory; only a restart would lose it.
                tracing::error!(camera = %self.camera, "scene state not saved: {e}");
            }
        }
    }
}

/// Sends one event to the ledger; one that cannot be written is logged in full (the alarm itself holds).
fn emit(events: &Option<SceneEvents>, camera: &str, row: serde_json::Value) {
    let Some(events) = events else { return };
    if let Err(e) = events(camera, &row) {
        tracing::error!(camera, "scene event not written to the ledger ({e}): {row}");
    }
}

fn check_of(cmp: &SceneComparison) -> SceneCheck {
    SceneCheck {
        at_unix: now_unix(),
        verdict: cmp.verdict,
        reason: cmp.reason.clone(),
        scores: cmp.scores,
    }
}

fn now_unix() -> i64 {
    vault::time::unix_now()
}

/// Zone counts of a stage configuration, for `SceneGuard::observe`.
pub(crate) fn zone_counts(
    privacy_masks: &[Polygon],
    recording_zones: &[Polygon],
) -> (usize, usize) {
    (privacy_masks.len(), recording_zones.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shift(dx: f32, dy: f32, score: f32) -> Option<SceneShift> {
        Some(SceneShift { dx, dy, score })
    }

    #[test]
    fn zones_fit_only_a_small_well_matched_shift() {
        assert!(zones_still_fit(shift(0.0, 0.0, 0.95)));
        assert!(zones_still_fit(shift(-0.02, 0.015, 0.8)));
        assert!(!zones_still_fit(shift(0.021, 0.0, 0.9)));
        assert!(!zones_still_fit(shift(0.0, -0.05, 0.9)));
        // Another scene: the estimate means nothing, so the zones must be checked.
        assert!(!zones_still_fit(shift(0.0, 0.0, 0.3)));
        assert!(!zones_still_fit(None));
    }

    #[test]
    fn zone_names_follow_the_policy_paths() {
        assert_eq!(
            zone_names(2, 1),
            ["privacy_masks[0]", "privacy_masks[1]", "recording_zones[0]"]
        );
        assert!(zone_names(0, 0).is_empty());
    }

    #[test]
    fn state_is_replaced_whole_and_read_back() {
        let dir = std::env::temp_dir().join(format!("garim-scene-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = SceneStore::new(&dir);
        assert_eq!(store.load("c").unwrap(), None);
        let mut st = SceneState::new("c");
        st.reference_since_unix = 7;
        store.save(&st).unwrap();
        st.reference_by = Some("m".into());
        store.save(&st).unwrap();
        assert_eq!(store.load("c").unwrap(), Some(st));
        let names: Vec<_> = std::fs::read_dir(dir.join("scene"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["c.json"], "a temporary file was left behind");
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn pattern(w: u32, h: u32, blob: Option<(u32, u32)>) -> Vec<u8> {
        let layout = mask::Layout::packed(mask::PixelFormat::I420, w, h);
        let mut data = vec![128u8; layout.min_len()];
        for y in 0..h {
            for x in 0..w {
                let mut v = ((x / 20 + y / 20) % 2 * 160 + 40) as u8;
                if let Some((bx, by)) = blob {
                    if x.abs_diff(bx) < 12 && y.abs_diff(by) < 24 {
                        v = 250;
                    }
                }
                data[(y * w + x) as usize] = v;
            }
        }
        data
    }

    fn fingerprint(data: &[u8], w: u32, h: u32) -> SceneFingerprint {
        let layout = mask::Layout::packed(mask::PixelFormat::I420, w, h);
        SceneFingerprint::of(&FrameRef::new(layout, data).unwrap())
    }

    /// What is under a privacy mask is not kept, and a change there does not change the fingerprint.
    #[test]
    fn masked_areas_are_left_out_of_the_fingerprint() {
        let masks = [Polygon(vec![
            [0.5, 0.0],
            [1.0, 0.0],
            [1.0, 1.0],
            [0.5, 1.0],
        ])];
        let mut empty = fingerprint(&pattern(320, 240, None), 320, 240);
        let mut person = fingerprint(&pattern(320, 240, Some((240, 120))), 320, 240);
        assert_ne!(empty.grid, person.grid, "the person shows before exclusion");
        exclude_masked(&mut empty, &masks);
        exclude_masked(&mut person, &masks);
        assert_eq!(
            empty.grid, person.grid,
            "a person under the mask leaves no trace"
        );
        let right: Vec<u16> = (0..48)
            .flat_map(|y| (40..64).map(move |x| (x, y)))
            .map(|(x, y)| person.grid[y * 64 + x])
            .collect();
        assert!(
            right.iter().all(|&v| v == right[0]),
            "the masked half is one value"
        );
    }

    /// A sealed state shows no picture, reads back whole, and an edited or foreign one is refused.
    #[test]
    fn sealed_states_show_no_picture_and_refuse_edits() {
        let dir = std::env::temp_dir().join(format!("garim-scene-sealed-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let key = Arc::new(vault::SecretKey::random());
        let store = SceneStore::sealed(&dir, Some(key.clone()));
        let mut st = SceneState::new("c");
        st.reference = Some(fingerprint(&pattern(320, 240, Some((100, 100))), 320, 240));
        store.save(&st).unwrap();
        let text = std::fs::read_to_string(store.state_path("c")).unwrap();
        assert!(
            !text.contains("grid") && !text.contains("reference"),
            "{}",
            &text[..80]
        );
        assert_eq!(store.load("c").unwrap(), Some(st.clone()));
        // Another site's key, a plain (unsealed) file, an edited byte: all refused.
        assert!(
            SceneStore::sealed(&dir, Some(Arc::new(vault::SecretKey::random())))
                .load("c")
                .is_err()
        );
        let mut edited = text.clone().into_bytes();
        let at = edited.len() - 10;
        edited[at] = if edited[at] == b'0' { b'1' } else { b'0' };
        std::fs::write(store.state_path("c"), &edited).unwrap();
        assert!(store.load("c").is_err());
        SceneStore::new(&dir).save(&st).unwrap();
        assert!(store.load("c").is_err(), "an unsealed state is not taken");
        // The guard fails closed on it, and on a deleted state once one was recorded.
        let cfg =
            SceneConfig::every(Duration::from_secs(3), Some(dir.clone())).sealed(key.clone(), true);
        assert!(SceneGuard::open("c", cfg.clone()).alarmed());
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            SceneGuard::open("c", cfg).alarmed(),
            "a deleted state fails closed"
        );
        let _ = std::fs::remove_dir_all(&dir);
        let first =
            SceneConfig::every(Duration::from_secs(3), Some(dir.clone())).sealed(key, false);
        assert!(
            !SceneGuard::open("c", first).alarmed(),
            "a first start takes its reference"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn verdicts_are_written_in_snake_case() {
        assert_eq!(
            serde_json::to_string(&SceneVerdict::Defocused).unwrap(),
            "\"defocused\""
        );
        for v in SceneVerdict::CHANGED {
            assert_eq!(serde_json::to_value(v).unwrap(), v.as_str());
        }
    }
}
