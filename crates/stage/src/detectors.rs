//! Detector handles shared across cameras: a slot that is empty until the models are loaded (frames that
//! arrive before are fail-closed), and a set that runs several detectors on one frame.

use detect::{DetectError, Detection, Detector};
use mask::FrameRef;
use parking_lot::RwLock;
use std::sync::Arc;

/// Holds the detector once its models are loaded; until then `detect` reports `NotLoaded`.
pub struct DetectorSlot {
    name: String,
    inner: RwLock<Option<Arc<dyn Detector>>>,
}

impl DetectorSlot {
    pub fn empty(name: &str) -> Arc<DetectorSlot> {
        Arc::new(DetectorSlot {
            name: name.to_string(),
            inner: RwLock::new(None),
        })
    }

    pub fn loaded(detector: Arc<dyn Detector>) -> Arc<DetectorSlot> {
        let slot = DetectorSlot::empty(detector.name());
        slot.set(detector);
        slot
    }

    pub fn set(&self, detector: Arc<dyn Detector>) {
        *self.inner.write() = Some(detector);
    }

    pub fn is_loaded(&self) -> bool {
        self.inner.read().is_some()
    }
}

impl Detector for DetectorSlot {
    fn detect(&self, frame: &FrameRef<'_>) -> Result<Vec<Detection>, DetectError> {
        let detector = self.inner.read().clone();
        match detector {
            Some(d) => d.detect(frame),
            None => Err(DetectError::NotLoaded(self.name.clone())),
        }
    }

    fn name(&self) -> &str {
        &self.name
    }
}

/// Runs every member on the same frame; one failure fails the frame (it will be masked whole).
pub struct DetectorSet {
    members: Vec<Arc<dyn Detector>>,
    name: String,
}

impl DetectorSet {
    pub fn new(members: Vec<Arc<dyn Detector>>) -> DetectorSet {
        let name = members
            .iter()
            .map(|d| d.name().to_string())
            .collect::<Vec<_>>()
            .join("+");
        DetectorSet { members, name }
    }
}

impl Detector for DetectorSet {
    fn detect(&self, frame: &FrameRef<'_>) -> Result<Vec<Detection>, DetectError> {
        let mut all = Vec::new();
        for d in &self.members {
            all.extend(d.detect(frame)?);
        }
        Ok(all)
    }

    fn name(&self) -> &str {
        &self.name
    }
}
