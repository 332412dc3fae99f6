//! Builds detectors for the classes a camera asks for, sharing one ONNX session per model across cameras.
//! Model files are verified up front (an error names the file and the fetch command); sessions load in the
//! background for the live service, so cameras start at once and fail closed until the models are ready.

use anyhow::{Result, anyhow};
use detect::{
    CenterFaceDetector, Class, Detector, FacesFromPersons, PlatesFromVehicles, YoloxDecoder,
    YoloxDetector,
};
use onnx::{OrtBackend, Runtime, RuntimeOptions};
use parking_lot::Mutex;
use stage::{DetectorSet, DetectorSlot};
use std::collections::BTreeMap;
use std::sync::Arc;

pub const YOLOX: &str = "yolox_nano";
pub const CENTERFACE: &str = "centerface";
pub const HYPERLPR: &str = "hyperlpr3_320";

/// Detector settings chosen by `garim eval` (see docs/quality.md); overridable from the command line.
#[derive(Debug, Clone, Copy)]
pub struct Tuning {
    pub face_width: u32,
    pub yolox: YoloxDecoder,
    /// How long an unchanged parked vehicle keeps its plates before the plate model looks again.
    pub plate_recheck: std::time::Duration,
}

/// Where the models and the ONNX Runtime library are, and how detectors are tuned (the CLI's global options).
#[derive(Debug, Clone)]
pub struct ModelOptions {
    pub models_dir: Option<std::path::PathBuf>,
    pub ort_lib: Option<std::path::PathBuf>,
    pub threads: usize,
    pub face_width: u32,
    pub person_conf: f32,
    /// Plates of an unchanged parked vehicle are looked at again after this long (zero: on every detection).
    pub plate_recheck: std::time::Duration,
    /// Where the models run (None: the site policy's `[server] hardware`, or `auto` offline).
    pub hardware: Option<vocab::Hardware>,
    /// Where TensorRT keeps its engines (the site sets `<storage>/trt-cache`).
    pub engine_cache: Option<std::path::PathBuf>,
}

/// Whether the detector sessions are ready (until they are, every frame is masked whole).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "error")]
pub enum ModelsState {
    Loading,
    Loaded,
    Failed(String),
}

impl std::fmt::Display for ModelsState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ModelsState::Loading => f.write_str("loading"),
            ModelsState::Loaded => f.write_str("loaded"),
            ModelsState::Failed(e) => write!(f, "error: {e}"),
        }
    }
}

/// What a detector slot is for: its classes, and whether it reads recorded footage.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SlotKey {
    classes: Vec<Class>,
    /// Footage read faster or slower than it was recorded: the plates of a parked vehicle are kept for a number
    /// of frames, not of seconds, so the same footage always gives the same detections.
    footage: bool,
}

pub struct DetectorPool {
    runtime: Arc<Runtime>,
    tuning: Tuning,
    slots: Mutex<Vec<(SlotKey, Arc<DetectorSlot>)>>,
    state: Arc<Mutex<ModelsState>>,
}

fn models_for(classes: &[Class]) -> Result<Vec<&'static str>> {
    let mut models = Vec::new();
    // Every class goes through YOLOX: persons and vehicles directly, faces also through the people they
    // belong to (detect::heads), plates through the vehicles they belong to (detect::plate). It runs once per
    // frame whatever the mix.
    if !classes.is_empty() {
        models.push(YOLOX);
    }
    if classes.contains(&Class::Face) {
        models.push(CENTERFACE);
    }
    if classes.contains(&Class::Plate) {
        models.push(HYPERLPR);
    }
    if models.is_empty() {
        return Err(anyhow!(
            "nothing to detect: choose person, face, plate or vehicle"
        ));
    }
    Ok(models)
}

impl DetectorPool {
    /// Loads the ONNX Runtime library (sha256-checked) without creating sessions yet.
    pub fn verify(args: &ModelOptions) -> Result<DetectorPool> {
        let runtime = Runtime::init(RuntimeOptions {
            models_dir: args.models_dir.clone(),
            ort_lib: args.ort_lib.clone(),
            intra_threads: args.threads.max(1),
            hardware: args.hardware.unwrap_or_default(),
            engine_cache: args.engine_cache.clone(),
        })?;
        Ok(DetectorPool {
            runtime: Arc::new(runtime),
            tuning: Tuning {
                face_width: args.face_width,
                plate_recheck: args.plate_recheck,
                yolox: YoloxDecoder {
                    conf_threshold: args.person_conf,
                    ..YoloxDecoder::default()
                },
            },
            slots: Mutex::new(Vec::new()),
            state: Arc::new(Mutex::new(ModelsState::Loading)),
        })
    }

    /// Where inference runs, and why not where it was asked to (for /healthz and the log).
    pub fn placement(&self) -> onnx::Placement {
        self.runtime.placement()
    }

    /// Loading, loaded or failed, for /healthz.
    pub fn state(&self) -> Arc<Mutex<ModelsState>> {
        self.state.clone()
    }

    /// A detector for `classes`; it reports "not loaded" until `load_*` has run.
    pub fn detector_for(&self, classes: &[Class]) -> Result<Arc<dyn Detector>> {
        Ok(self.slot_for(classes, false)?.1)
    }

    /// A detector for `classes` with its models loaded now if they were not (a job on a running site whose
    /// cameras detect other classes).
    pub fn loaded_detector_for(&self, classes: &[Class]) -> Result<Arc<dyn Detector>> {
        self.loaded(self.slot_for(classes, false)?)
    }

    /// [`Self::loaded_detector_for`] for recorded footage (a redacted export, a deletion): nothing it keeps
    /// expires by the wall clock, so the same footage gives the same detections however fast it is read.
    pub fn loaded_footage_detector_for(&self, classes: &[Class]) -> Result<Arc<dyn Detector>> {
        self.loaded(self.slot_for(classes, true)?)
    }

    fn loaded(&self, (key, slot): (SlotKey, Arc<DetectorSlot>)) -> Result<Arc<dyn Detector>> {
        if !slot.is_loaded() {
            load(&self.runtime, self.tuning, &[(key, slot.clone())])?;
        }
        Ok(slot)
    }

    fn slot_for(&self, classes: &[Class], footage: bool) -> Result<(SlotKey, Arc<DetectorSlot>)> {
        for m in models_for(classes)? {
            self.runtime.store().verified_path(m)?;
        }
        let mut classes = classes.to_vec();
        classes.sort();
        classes.dedup();
        let key = SlotKey { classes, footage };
        let mut slots = self.slots.lock();
        if let Some((_, s)) = slots.iter().find(|(k, _)| *k == key) {
            return Ok((key, s.clone()));
        }
        let name = key
            .classes
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join("+");
        let slot = DetectorSlot::empty(&name);
        slots.push((key.clone(), slot.clone()));
        Ok((key, slot))
    }

    /// Creates the sessions now (offline use).
    pub fn load_now(&self) -> Result<()> {
        let result = load(&self.runtime, self.tuning, &self.slots.lock());
        *self.state.lock() = match &result {
            Ok(()) => ModelsState::Loaded,
            Err(e) => ModelsState::Failed(format!("{e:#}")),
        };
        result
    }

    pub fn load_in_background(&self) {
        let runtime = self.runtime.clone();
        let tuning = self.tuning;
        let slots = self.slots.lock().clone();
        let state = self.state.clone();
        std::thread::spawn(move || {
            let started = std::time::Instant::now();
            let result = load(&runtime, tuning, &slots);
            match &result {
                Ok(()) => {
                    tracing::info!("models loaded in {:.1} s", started.elapsed().as_secs_f64())
                }
                Err(e) => {
                    tracing::error!("models failed to load; every frame stays masked whole: {e:#}")
                }
            }
            *state.lock() = match result {
                Ok(()) => ModelsState::Loaded,
                Err(e) => ModelsState::Failed(format!("{e:#}")),
            };
        });
    }
}

fn load(runtime: &Runtime, tuning: Tuning, slots: &[(SlotKey, Arc<DetectorSlot>)]) -> Result<()> {
    let mut sessions: BTreeMap<&str, Arc<OrtBackend>> = BTreeMap::new();
    let mut session = |model: &'static str| -> Result<Arc<OrtBackend>> {
        if let Some(b) = sessions.get(model) {
            return Ok(b.clone());
        }
        let b = Arc::new(runtime.backend(model)?);
        sessions.insert(model, b.clone());
        Ok(b)
    };
    for (key, slot) in slots {
        let classes = &key.classes;
        let recheck = match (key.footage, tuning.plate_recheck.is_zero()) {
            (_, true) => detect::plate::Recheck::Time(std::time::Duration::ZERO),
            (true, false) => {
                detect::plate::Recheck::Detections(detect::plate::PLATE_RECHECK_DETECTIONS)
            }
            (false, false) => detect::plate::Recheck::Time(tuning.plate_recheck),
        };
        let mut members: Vec<Arc<dyn Detector>> = Vec::new();
        for model in models_for(classes)? {
            let backend = session(model)?;
            members.push(match model {
                // One YOLOX run per frame feeds persons, the face regions derived from them and the vehicle
                // crops the plate model runs on.
                YOLOX => {
                    let has = |c: Class| classes.contains(&c);
                    let mut want: Vec<Class> = classes
                        .iter()
                        .copied()
                        .filter(|c| matches!(c, Class::Person | Class::Vehicle))
                        .collect();
                    if has(Class::Face) && !want.contains(&Class::Person) {
                        want.push(Class::Person);
                    }
                    if has(Class::Plate) && !want.contains(&Class::Vehicle) {
                        want.push(Class::Vehicle);
                    }
                    let mut d: Box<dyn Detector> =
                        Box::new(YoloxDetector::new(backend, want).with_decoder(tuning.yolox));
                    if has(Class::Face) {
                        d = Box::new(FacesFromPersons::new(d, has(Class::Person)));
                    }
                    if has(Class::Plate) {
                        d = Box::new(
                            PlatesFromVehicles::new(d, session(HYPERLPR)?, has(Class::Vehicle))
                                .with_recheck(recheck),
                        );
                    }
                    Arc::from(d)
                }
                // Runs inside the YOLOX member, on its vehicle crops.
                HYPERLPR => continue,
                _ => Arc::new(CenterFaceDetector::new(backend).with_max_width(tuning.face_width)),
            });
        }
        let detector: Arc<dyn Detector> = if members.len() == 1 {
            members.pop().expect("one member")
        } else {
            Arc::new(DetectorSet::new(members))
        };
        slot.set(detector);
    }
    Ok(())
}
