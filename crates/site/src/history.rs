//! Hot reload of the site policy (SIGHUP or the file changing): a valid file changes masks, zones and
//! retention in running cameras without restarting their streams; an invalid one changes nothing, is
//! reported (log, /healthz, `garim_policy_reloads_total{result}`), and the last valid policy stays. Every
//! applied policy is kept under `<storage>/policy-history/`, and its hash, time and diff are a PolicyChange row
//! of the ledger, so an audit can show which masks were in force when.

use anyhow::{Context, Result};
use policy::SiteConfig;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// What changed between two policies, one line per change, camera by camera.
pub fn diff(old: &SiteConfig, new: &SiteConfig) -> Vec<String> {
    let mut out = Vec::new();
    for (name, a, b) in [
        ("site", js(&old.site), js(&new.site)),
        ("server", js(&old.server), js(&new.server)),
        ("storage", js(&old.storage), js(&new.storage)),
        ("defaults", js(&old.defaults), js(&new.defaults)),
        ("purposes", js(&old.purposes), js(&new.purposes)),
        ("people", js(&old.people), js(&new.people)),
        ("contractors", js(&old.contractors), js(&new.contractors)),
        ("facilities", js(&old.facilities), js(&new.facilities)),
        ("viewing", js(&old.viewing), js(&new.viewing)),
        ("notice", js(&old.notice), js(&new.notice)),
        ("ledger", js(&old.ledger), js(&new.ledger)),
    ] {
        if a != b {
            out.push(format!("{name}: changed"));
        }
    }
    for cam in &new.cameras {
        match old.cameras.iter().find(|c| c.id == cam.id) {
            None => out.push(format!("cameras[{}]: added", cam.id)),
            Some(prev) => {
                let (a, b) = (js(prev), js(cam));
                if let (serde_json::Value::Object(a), serde_json::Value::Object(b)) = (a, b) {
                    for (k, v) in &b {
                        if a.get(k) != Some(v) {
                            // URLs may carry credentials only through env/file, but never print them anyway.
                            let shown = if k.starts_with("url") {
                                "(changed)".to_string()
                            } else {
                                v.to_string()
                            };
                            out.push(format!("cameras[{}].{k}: {shown}", cam.id));
                        }
                    }
                }
            }
        }
    }
    for cam in &old.cameras {
        if !new.cameras.iter().any(|c| c.id == cam.id) {
            out.push(format!("cameras[{}]: removed", cam.id));
        }
    }
    out
}

fn js<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// The policy history: one copy of every applied file and an append-only index.
pub struct PolicyHistory {
    dir: PathBuf,
}

impl PolicyHistory {
    pub fn open(storage: &Path) -> Result<PolicyHistory> {
        let dir = storage.join("policy-history");
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(PolicyHistory { dir })
    }

    /// Keeps a copy of an applied policy; returns its hash and the copy's file name. What changed, who and
    /// when go into the ledger's PolicyChange row.
    pub fn keep(&self, text: &str) -> Result<(String, String)> {
        let hash = sha256_hex(text);
        let stamp = vault::time::utc_stamp(vault::time::unix_now());
        let name = format!("{stamp}-{}.toml", &hash[..12]);
        let copy = self.dir.join(&name);
        if !copy.exists() {
            let tmp = copy.with_extension("toml.part");
            std::fs::write(&tmp, text)?;
            std::fs::File::open(&tmp)?.sync_all()?;
            std::fs::rename(&tmp, &copy)?;
        }
        Ok((hash, name))
    }
}

/// Watches the policy file: `changed()` is true when its modification time or size moved.
pub struct FileWatch {
    path: PathBuf,
    seen: Option<(SystemTime, u64)>,
}

impl FileWatch {
    pub fn new(path: &Path) -> FileWatch {
        let mut w = FileWatch {
            path: path.to_path_buf(),
            seen: None,
        };
        w.seen = w.stamp();
        w
    }

    fn stamp(&self) -> Option<(SystemTime, u64)> {
        let m = std::fs::metadata(&self.path).ok()?;
        Some((m.modified().ok()?, m.len()))
    }

    pub fn changed(&mut self) -> bool {
        let now = self.stamp();
        if now != self.seen {
            self.seen = now;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
[site]
name = "t"
[[people]]
id = "m"
role = "manager"
title = "과장"
phone = "1"
[[cameras]]
id = "a"
url = "rtsp://h/a"
privacy_masks = [[[0.0, 0.0], [0.5, 0.0], [0.5, 0.5]]]
[[cameras]]
id = "b"
url = "rtsp://h/b"
"#;

    #[test]
    fn diff_names_changed_fields_added_and_removed_cameras() {
        let old = SiteConfig::from_toml_str(BASE).unwrap();
        let changed = BASE.replace("[0.5, 0.5]]]", "[0.6, 0.6]]]").replace(
            "id = \"b\"\nurl = \"rtsp://h/b\"",
            "id = \"c\"\nurl = \"rtsp://h/c\"",
        );
        let new = SiteConfig::from_toml_str(&changed).unwrap();
        let d = diff(&old, &new);
        assert!(
            d.iter()
                .any(|l| l.starts_with("cameras[a].privacy_masks:") && l.contains("0.6")),
            "{d:?}"
        );
        assert!(d.contains(&"cameras[c]: added".to_string()), "{d:?}");
        assert!(d.contains(&"cameras[b]: removed".to_string()), "{d:?}");
        assert!(diff(&old, &old).is_empty());
    }

    #[test]
    fn history_keeps_each_applied_file() {
        let dir = std::env::temp_dir().join(format!("garim-history-{}", std::process::id()));
        let h = PolicyHistory::open(&dir).unwrap();
        let (hash, name) = h.keep(BASE).unwrap();
        assert_eq!(hash, sha256_hex(BASE));
        let copy = std::fs::read_to_string(dir.join("policy-history").join(&name)).unwrap();
        assert_eq!(copy, BASE);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
