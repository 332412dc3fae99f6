//! `models/manifest.toml` pins every fetched file (models, the runtime library, demo footage) by sha256.
//! Nothing is loaded without its hash checked, and a missing or corrupt file names the command that fetches it.

use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use thiserror::Error;

const FETCH_HINT: &str = "scripts/fetch-models";

#[derive(Debug, Error)]
pub enum ModelError {
    #[error(
        "no models directory found (looked in {looked}); set GARIM_MODELS_DIR or run {FETCH_HINT}"
    )]
    NoModelsDir { looked: String },
    #[error("cannot read manifest {path}: {reason}")]
    Manifest { path: PathBuf, reason: String },
    #[error("manifest {path} has no entry named {name:?}")]
    Unknown { path: PathBuf, name: String },
    #[error("{name} is missing: {path} does not exist; fetch it with {FETCH_HINT}")]
    Missing { name: String, path: PathBuf },
    #[error(
        "{name} is corrupt: {path} has sha256 {actual}, manifest pins {expected}; re-fetch it with {FETCH_HINT}"
    )]
    Corrupt {
        name: String,
        path: PathBuf,
        actual: String,
        expected: String,
    },
    #[error("cannot read {path}: {reason}")]
    Io { path: PathBuf, reason: String },
}

/// One pinned file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Asset {
    pub name: String,
    /// Path relative to the models directory.
    pub file: String,
    pub sha256: String,
    pub kind: String,
    pub licence: String,
    pub source: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub member: Option<String>,
    #[serde(default)]
    pub input: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    #[serde(rename = "asset")]
    pub assets: Vec<Asset>,
}

/// The models directory: its manifest and the verified paths of the files it pins.
#[derive(Debug)]
pub struct ModelStore {
    dir: PathBuf,
    manifest: Manifest,
    verified: Mutex<HashMap<String, PathBuf>>,
}

impl ModelStore {
    /// Finds the models directory: `explicit`, then `$GARIM_MODELS_DIR`, then `models/` next to the
    /// checkout the binary was built in (target/release/garim → ../../models), then `./models`.
    pub fn locate(explicit: Option<&Path>) -> Result<ModelStore, ModelError> {
        let mut candidates: Vec<PathBuf> = Vec::new();
        if let Some(p) = explicit {
            candidates.push(p.to_path_buf());
        } else {
            if let Some(p) = std::env::var_os("GARIM_MODELS_DIR") {
                candidates.push(PathBuf::from(p));
            }
            if let Ok(exe) = std::env::current_exe() {
                for up in exe.ancestors().skip(1).take(4) {
                    candidates.push(up.join("models"));
                }
            }
            candidates.push(PathBuf::from("models"));
        }
        for dir in &candidates {
            if dir.join("manifest.toml").is_file() {
                return ModelStore::open(dir);
            }
        }
        Err(ModelError::NoModelsDir {
            looked: candidates
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }

    pub fn open(dir: &Path) -> Result<ModelStore, ModelError> {
        let path = dir.join("manifest.toml");
        let text = std::fs::read_to_string(&path).map_err(|e| ModelError::Manifest {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let manifest: Manifest = toml::from_str(&text).map_err(|e| ModelError::Manifest {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        Ok(ModelStore {
            dir: dir.to_path_buf(),
            manifest,
            verified: Mutex::new(HashMap::new()),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    pub fn asset(&self, name: &str) -> Result<&Asset, ModelError> {
        self.manifest
            .assets
            .iter()
            .find(|a| a.name == name)
            .ok_or_else(|| ModelError::Unknown {
                path: self.dir.join("manifest.toml"),
                name: name.to_string(),
            })
    }

    /// Path of `name`, after checking its sha256 (once per process).
    pub fn verified_path(&self, name: &str) -> Result<PathBuf, ModelError> {
        if let Some(p) = self.verified.lock().expect("not poisoned").get(name) {
            return Ok(p.clone());
        }
        let asset = self.asset(name)?;
        let path = self.dir.join(&asset.file);
        if !path.is_file() {
            return Err(ModelError::Missing {
                name: name.to_string(),
                path,
            });
        }
        let actual = sha256_file(&path)?;
        if !actual.eq_ignore_ascii_case(&asset.sha256) {
            return Err(ModelError::Corrupt {
                name: name.to_string(),
                path,
                actual,
                expected: asset.sha256.clone(),
            });
        }
        self.verified
            .lock()
            .expect("not poisoned")
            .insert(name.to_string(), path.clone());
        Ok(path)
    }
}

pub fn sha256_file(path: &Path) -> Result<String, ModelError> {
    let io = |e: std::io::Error| ModelError::Io {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let mut f = File::open(path).map_err(io)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with(content: &[u8], sha: &str) -> (PathBuf, ModelStore) {
        let dir = std::env::temp_dir().join(format!(
            "garim-manifest-{}-{}",
            std::process::id(),
            sha.len() + content.len()
        ));
        std::fs::create_dir_all(dir.join("cache")).unwrap();
        std::fs::write(dir.join("cache/m.onnx"), content).unwrap();
        std::fs::write(
            dir.join("manifest.toml"),
            format!(
                "[[asset]]\nname = \"m\"\nfile = \"cache/m.onnx\"\nsha256 = \"{sha}\"\nkind = \"model\"\nlicence = \"MIT\"\nsource = \"test\"\n"
            ),
        )
        .unwrap();
        let store = ModelStore::open(&dir).unwrap();
        (dir, store)
    }

    #[test]
    fn corrupt_model_names_file_and_fetch_command() {
        let (dir, store) = store_with(b"abc", &"0".repeat(64));
        let err = store.verified_path("m").unwrap_err().to_string();
        assert!(err.contains("cache/m.onnx"), "{err}");
        assert!(err.contains("scripts/fetch-models"), "{err}");
        assert!(err.contains("corrupt"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn matching_hash_is_accepted_and_missing_file_is_reported() {
        // sha256("abcd")
        let sha = "88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589";
        let (dir, store) = store_with(b"abcd", sha);
        assert!(store.verified_path("m").unwrap().ends_with("cache/m.onnx"));
        std::fs::remove_file(dir.join("cache/m.onnx")).unwrap();
        let store = ModelStore::open(&dir).unwrap();
        let err = store.verified_path("m").unwrap_err().to_string();
        assert!(
            err.contains("missing") && err.contains("scripts/fetch-models"),
            "{err}"
        );
        assert!(store.verified_path("nope").is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
