//! Builds detectors for the classes a camera asks for, sharing one ONNX session per model across cameras.
//! Model files are verified up front (an error names the file and the fetch command); sessions load in the
//! background for the live service, so cameras start at once and fail closed until the models are ready.

use crate::ModelArgs;
use anyhow::{Result, anyhow};
use detect::{CenterFaceDetector, Class, Detector, FacesFromPersons, YoloxDetector};
use onnx::{OrtBackend, Runtime, RuntimeOptions};
use parking_lot::Mutex;
use stage::{DetectorSet, DetectorSlot};
use std::collections::BTreeMap;
use std::sync::Arc;

pub const YOLOX: &str = "yolox_nano";
pub const CENTERFACE: &str = "centerface";

pub struct DetectorPool {
    runtime: Arc<Runtime>,
    face_width: u32,
    slots: Mutex<Vec<(Vec<Class>, Arc<DetectorSlot>)>>,
    state: Arc<Mutex<String>>,
}

fn models_for(classes: &[Class]) -> Result<Vec<&'static str>> {
    let mut models = Vec::new();
    // Faces are also found through the people they belong to (see detect::heads), so YOLOX runs for faces.
    if classes
        .iter()
        .any(|c| matches!(c, Class::Person | Class::Vehicle | Class::Face))
    {
        models.push(YOLOX);
    }
    if classes.contains(&Class::Face) {
        models.push(CENTERFACE);
    }
    if classes.contains(&Class::Plate) {
        return Err(anyhow!(
            "plate detection is not available in this build; use person, face or vehicle"
        ));
    }
    if models.is_empty() {
        return Err(anyhow!("nothing to detect: choose person, face or vehicle"));
    }
    Ok(models)
}

impl DetectorPool {
    /// Loads the ONNX Runtime library (sha256-checked) without creating sessions yet.
    pub fn verify(args: &ModelArgs) -> Result<DetectorPool> {
        let runtime = Runtime::init(RuntimeOptions {
            models_dir: args.models_dir.clone(),
            ort_lib: args.ort_lib.clone(),
            intra_threads: args.threads.max(1),
        })?;
        Ok(DetectorPool {
            runtime: Arc::new(runtime),
            face_width: args.face_width,
            slots: Mutex::new(Vec::new()),
            state: Arc::new(Mutex::new("loading".into())),
        })
    }

    /// "loading", "loaded" or "error: …", for /healthz.
    pub fn state(&self) -> Arc<Mutex<String>> {
        self.state.clone()
    }

    /// A detector for `classes`; it reports "not loaded" until `load_*` has run.
    pub fn detector_for(&self, classes: &[Class]) -> Result<Arc<dyn Detector>> {
        for m in models_for(classes)? {
            self.runtime.store().verified_path(m)?;
        }
        let mut key = classes.to_vec();
        key.sort();
        key.dedup();
        let mut slots = self.slots.lock();
        if let Some((_, s)) = slots.iter().find(|(k, _)| *k == key) {
            return Ok(s.clone());
        }
        let name = key
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join("+");
        let slot = DetectorSlot::empty(&name);
        slots.push((key, slot.clone()));
        Ok(slot)
    }

    /// Creates the sessions now (offline use).
    pub fn load_now(&self) -> Result<()> {
        let result = load(&self.runtime, self.face_width, &self.slots.lock());
        *self.state.lock() = match &result {
            Ok(()) => "loaded".into(),
            Err(e) => format!("error: {e:#}"),
        };
        result
    }

    pub fn load_in_background(&self) {
        let runtime = self.runtime.clone();
        let face_width = self.face_width;
        let slots = self.slots.lock().clone();
        let state = self.state.clone();
        std::thread::spawn(move || {
            let started = std::time::Instant::now();
            let result = load(&runtime, face_width, &slots);
            match &result {
                Ok(()) => {
                    tracing::info!("models loaded in {:.1} s", started.elapsed().as_secs_f64())
                }
                Err(e) => {
                    tracing::error!("models failed to load; every frame stays masked whole: {e:#}")
                }
            }
            *state.lock() = match result {
                Ok(()) => "loaded".into(),
                Err(e) => format!("error: {e:#}"),
            };
        });
    }
}

fn load(
    runtime: &Runtime,
    face_width: u32,
    slots: &[(Vec<Class>, Arc<DetectorSlot>)],
) -> Result<()> {
    let mut sessions: BTreeMap<&str, Arc<OrtBackend>> = BTreeMap::new();
    for (classes, slot) in slots {
        let mut members: Vec<Arc<dyn Detector>> = Vec::new();
        for model in models_for(classes)? {
            let backend = match sessions.get(model) {
                Some(b) => b.clone(),
                None => {
                    let b = Arc::new(runtime.backend(model)?);
                    sessions.insert(model, b.clone());
                    b
                }
            };
            members.push(match model {
                YOLOX => {
                    let mut want: Vec<Class> = classes
                        .iter()
                        .copied()
                        .filter(|c| matches!(c, Class::Person | Class::Vehicle))
                        .collect();
                    if classes.contains(&Class::Face) {
                        if !want.contains(&Class::Person) {
                            want.push(Class::Person);
                        }
                        let keep_persons = classes.contains(&Class::Person);
                        Arc::new(FacesFromPersons::new(
                            YoloxDetector::new(backend, want),
                            keep_persons,
                        ))
                    } else {
                        Arc::new(YoloxDetector::new(backend, want))
                    }
                }
                _ => Arc::new(CenterFaceDetector::new(backend).with_max_width(face_width)),
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
