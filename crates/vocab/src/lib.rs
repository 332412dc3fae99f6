//! garim's vocabulary, typed once: what may be detected (`DetectClass`), how it is hidden
//! (`MaskStyleName`), how a camera records (`RecordingMode`) and which of a camera's streams a recording
//! belongs to (`StreamKind`, with the stream names the vault index stores), and where inference runs
//! (`Hardware`). The policy parses them where it
//! reads the file; detect, mask, vault and the site use the types, never the strings. (Camera ids are
//! letters, digits, `-` and `_`, so no id can end in the sealed suffix.)

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a camera's masks are made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DetectClass {
    Person,
    Face,
    Plate,
    Vehicle,
}

impl DetectClass {
    pub const ALL: [DetectClass; 4] = [
        DetectClass::Person,
        DetectClass::Face,
        DetectClass::Plate,
        DetectClass::Vehicle,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DetectClass::Person => "person",
            DetectClass::Face => "face",
            DetectClass::Plate => "plate",
            DetectClass::Vehicle => "vehicle",
        }
    }

    /// Parses "person,face" (whitespace and empty items ignored, duplicates removed).
    pub fn parse_list(s: &str) -> Result<Vec<DetectClass>, String> {
        let mut out = Vec::new();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let c: DetectClass = item.parse()?;
            if !out.contains(&c) {
                out.push(c);
            }
        }
        if out.is_empty() {
            return Err("no class given; valid classes: person, face, plate, vehicle".into());
        }
        Ok(out)
    }
}

impl FromStr for DetectClass {
    type Err = String;
    fn from_str(s: &str) -> Result<DetectClass, String> {
        DetectClass::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                format!("unknown class {s:?}; valid classes: person, face, plate, vehicle")
            })
    }
}

impl fmt::Display for DetectClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the models run: `[server] hardware` and `--hardware`. `auto` takes TensorRT, then CUDA, when the ONNX
/// Runtime library has them and a GPU answers, else the CPU; a named GPU provider that cannot start falls back
/// to the CPU with its reason logged and shown in /healthz.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Hardware {
    #[default]
    Auto,
    Cpu,
    Cuda,
    TensorRt,
}

impl Hardware {
    pub const ALL: [Hardware; 4] = [
        Hardware::Auto,
        Hardware::Cpu,
        Hardware::Cuda,
        Hardware::TensorRt,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Hardware::Auto => "auto",
            Hardware::Cpu => "cpu",
            Hardware::Cuda => "cuda",
            Hardware::TensorRt => "tensorrt",
        }
    }
}

impl FromStr for Hardware {
    type Err = String;
    fn from_str(s: &str) -> Result<Hardware, String> {
        Hardware::ALL
            .into_iter()
            .find(|h| h.as_str() == s)
            .ok_or_else(|| format!("unknown hardware {s:?}; one of auto, cpu, cuda, tensorrt"))
    }
}

impl fmt::Display for Hardware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How masked regions are hidden (the pixel parameters of each are the mask crate's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MaskStyleName {
    Pixelate,
    Blur,
    Fill,
}

impl MaskStyleName {
    pub const ALL: [MaskStyleName; 3] = [
        MaskStyleName::Pixelate,
        MaskStyleName::Blur,
        MaskStyleName::Fill,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MaskStyleName::Pixelate => "pixelate",
            MaskStyleName::Blur => "blur",
            MaskStyleName::Fill => "fill",
        }
    }
}

impl FromStr for MaskStyleName {
    type Err = String;
    fn from_str(s: &str) -> Result<MaskStyleName, String> {
        MaskStyleName::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| format!("unknown mask style {s:?}; valid styles: pixelate, blur, fill"))
    }
}

impl fmt::Display for MaskStyleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a camera's recording keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordingMode {
    /// What the NVR sees: masked, zone-limited (the default).
    #[default]
    Masked,
    /// The zone-limited frame before the dynamic masks, encrypted to the sealed key: only a grant opens it.
    Sealed,
}

impl RecordingMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordingMode::Masked => "masked",
            RecordingMode::Sealed => "sealed",
        }
    }

    /// The kind of stream this mode records.
    pub fn stream(self) -> StreamKind {
        match self {
            RecordingMode::Masked => StreamKind::Masked,
            RecordingMode::Sealed => StreamKind::Sealed,
        }
    }
}

impl FromStr for RecordingMode {
    type Err = String;
    fn from_str(s: &str) -> Result<RecordingMode, String> {
        match s {
            "masked" => Ok(RecordingMode::Masked),
            "sealed" => Ok(RecordingMode::Sealed),
            other => Err(format!(
                "unknown recording mode {other:?}; use masked or sealed"
            )),
        }
    }
}

impl fmt::Display for RecordingMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which of a camera's streams a recorded segment belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamKind {
    Masked,
    Sealed,
}

/// What the vault index stores after a camera id for its sealed stream (camera ids cannot contain a dot
/// followed by this word: the policy allows no `.sealed` suffix).
const SEALED_SUFFIX: &str = ".sealed";

/// A camera's stream as the vault names it: `cam-a` (masked) or `cam-a.sealed`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StreamName(String);

impl StreamName {
    pub fn new(camera: &str, kind: StreamKind) -> StreamName {
        match kind {
            StreamKind::Masked => StreamName(camera.to_string()),
            StreamKind::Sealed => StreamName(format!("{camera}{SEALED_SUFFIX}")),
        }
    }

    /// Reads a stored stream name back.
    pub fn parse(stored: &str) -> StreamName {
        StreamName(stored.to_string())
    }

    pub fn camera(&self) -> &str {
        self.0.strip_suffix(SEALED_SUFFIX).unwrap_or(&self.0)
    }

    pub fn kind(&self) -> StreamKind {
        if self.0.ends_with(SEALED_SUFFIX) {
            StreamKind::Sealed
        } else {
            StreamKind::Masked
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StreamName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The camera a stored stream name belongs to (`cam-a.sealed` → `cam-a`).
pub fn camera_of(stream: &str) -> &str {
    stream.strip_suffix(SEALED_SUFFIX).unwrap_or(stream)
}

/// Whether a stored stream name is a sealed stream.
pub fn is_sealed(stream: &str) -> bool {
    stream.ends_with(SEALED_SUFFIX)
}

/// Days in `month` (1–12) of `year` in the Gregorian calendar; 0 for a month that does not exist. One
/// calendar for the policy's dates and the vault's times.
pub fn days_in_month(year: u32, month: u32) -> u32 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_parse_from_and_print_as_the_policy_spells_them() {
        for c in DetectClass::ALL {
            assert_eq!(c.as_str().parse::<DetectClass>(), Ok(c));
        }
        for m in MaskStyleName::ALL {
            assert_eq!(m.to_string().parse::<MaskStyleName>(), Ok(m));
        }
        assert_eq!("sealed".parse::<RecordingMode>(), Ok(RecordingMode::Sealed));
        assert!(
            "mosaic"
                .parse::<MaskStyleName>()
                .unwrap_err()
                .contains("pixelate, blur, fill")
        );
        assert_eq!(
            DetectClass::parse_list(" face,person,face ,"),
            Ok(vec![DetectClass::Face, DetectClass::Person])
        );
    }

    #[test]
    fn sealed_streams_name_their_camera() {
        let s = StreamName::new("gate", RecordingMode::Sealed.stream());
        assert_eq!(s.as_str(), "gate.sealed");
        assert_eq!((s.camera(), s.kind()), ("gate", StreamKind::Sealed));
        let m = StreamName::parse("gate");
        assert_eq!((m.camera(), m.kind()), ("gate", StreamKind::Masked));
        assert_eq!(camera_of("gate.sealed"), "gate");
        assert!(is_sealed("gate.sealed") && !is_sealed("gate"));
    }
}
