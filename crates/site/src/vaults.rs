//! The site's vault: opened with the site key (never plaintext), and the retention sweep that destroys
//! expired days and keeps the storage floor.

use anyhow::{Result, anyhow};
use policy::SiteConfig;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// How often expired days are destroyed and the storage floor checked (also at start).
pub const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// The shared Postgres index of a multi-replica site, when the policy names one.
pub fn postgres_index(cfg: &SiteConfig) -> Result<Option<vault::PostgresIndex>> {
    Ok(cfg
        .index_url()
        .map_err(|e| anyhow!("{e}"))?
        .map(|url| vault::PostgresIndex {
            url: url.expose().to_string(),
            shown: url.redacted(),
        }))
}

/// Opens the vault with the site key; a missing or wrong key file stops the service (never plaintext).
/// `serving`: the shard a running service records (it recovers and, with a shared Postgres index, sweeps only
/// that shard's cameras); None for the tools that only list and export (no recovery: a service may be
/// recording into the same folder).
pub fn open_vault(cfg: &SiteConfig, serving: Option<policy::Shard>) -> Result<Arc<vault::Vault>> {
    let key = vault::SecretKey::load_site_key(cfg.storage.key_file.as_deref().map(Path::new))
        .map_err(|e| anyhow!("storage.key_file: {e}"))?;
    let postgres = postgres_index(cfg)?;
    let shared = postgres.is_some();
    let owns = serving.map(|shard| {
        Arc::new(move |camera: &str| shard.contains(vocab::camera_of(camera))) as vault::Owns
    });
    let opts = vault::VaultOptions {
        postgres,
        node: None,
        owns,
        skip_recovery: serving.is_none(),
    };
    let vault =
        vault::Vault::open_with(Path::new(&cfg.storage.path), key, opts).map_err(|e| match e {
            vault::VaultError::Index { .. } if shared => anyhow!("storage.index_url_env: {e}"),
            _ => anyhow!("{e}"),
        })?;
    if shared && serving.is_some() {
        tracing::info!(
            index = %vault.index_location(),
            node = vault.node(),
            "vault index on Postgres, shared with the other replicas"
        );
    }
    Ok(Arc::new(vault))
}

/// The scene guard's files of a site, opened with its site key when it can be loaded (the states are sealed
/// under it; without it they cannot be read).
pub fn scene_store(cfg: &SiteConfig) -> stage::scene::SceneStore {
    let key = vault::SecretKey::load_site_key(cfg.storage.key_file.as_deref().map(Path::new))
        .ok()
        .map(Arc::new);
    stage::scene::SceneStore::sealed(Path::new(&cfg.storage.path), key)
}

/// A camera's retention in days; a camera no longer in the policy keeps the site's default.
pub fn retention_of(cfg: &SiteConfig, camera: &str) -> u32 {
    cfg.cameras
        .iter()
        .find(|c| c.id == camera)
        .map_or(cfg.defaults.retention_days, |c| cfg.retention_days(c))
}

/// The retention sweep: every day older than its camera's retention_days is destroyed.
pub fn sweep(vault: &vault::Vault, cfg: &SiteConfig) {
    // A camera no longer in the policy keeps the site's default retention: its footage must not outlive it.
    // A sealed stream (`cam-a.sealed`) keeps its camera's retention, never the site default.
    let retention = |stream: &str| Some(retention_of(cfg, vocab::camera_of(stream)));
    match vault.sweep(vault::time::unix_now(), &retention) {
        Ok(r) => {
            for (camera, n) in &r.per_camera {
                telemetry::metrics()
                    .segments_destroyed_total
                    .with_label_values(&[camera])
                    .inc_by(*n as u64);
            }
            if r.keys_destroyed > 0 || r.segments_deleted > 0 {
                tracing::info!(
                    keys = r.keys_destroyed,
                    segments = r.segments_deleted,
                    bytes = r.bytes_deleted,
                    "retention sweep destroyed expired recordings"
                );
            }
        }
        Err(e) => tracing::error!("retention sweep failed (retried at the next run): {e}"),
    }
    let m = telemetry::metrics();
    let now = vault::time::unix_now();
    match vault.enforce_floor(cfg.storage.min_free_bytes, now, &|| vault.free_bytes()) {
        Ok(deleted) => {
            let low = vault
                .free_bytes()
                .map_or(true, |f| f < cfg.storage.min_free_bytes);
            m.storage_low.set(i64::from(low || !deleted.is_empty()));
            for d in &deleted {
                m.segments_destroyed_total
                    .with_label_values(&[&d.camera])
                    .inc();
            }
            if !deleted.is_empty() {
                tracing::warn!(
                    segments = deleted.len(),
                    floor_bytes = cfg.storage.min_free_bytes,
                    "free space under storage.min_free_bytes: oldest recordings removed"
                );
            }
        }
        Err(e) => {
            m.storage_low.set(1);
            tracing::error!("storage floor check failed: {e}");
        }
    }
    for cam in &cfg.cameras {
        m.retention_seconds
            .with_label_values(&[&cam.id])
            .set(i64::from(cfg.retention_days(cam)) * 86_400);
    }
    if let Ok(usage) = vault.usage() {
        for (camera, bytes, oldest) in usage {
            m.storage_bytes.with_label_values(&[&camera]).set(bytes);
            m.oldest_segment_age_seconds
                .with_label_values(&[&camera])
                .set((now - oldest).max(0));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_stream_keeps_its_cameras_retention() {
        let cfg = SiteConfig::from_toml_str(
            r#"
[site]
name = "t"
[[people]]
id = "m"
role = "manager"
title = "과장"
phone = "1"
[defaults]
retention_days = 30
[[cameras]]
id = "gate"
url = "rtsp://h/gate"
retention_days = 7
"#,
        )
        .unwrap();
        assert_eq!(retention_of(&cfg, vocab::camera_of("gate.sealed")), 7);
        assert_eq!(retention_of(&cfg, vocab::camera_of("gate")), 7);
        assert_eq!(retention_of(&cfg, "gone"), 30);
    }
}

/// Makes every directory under `root` 0700 and every file 0600 where they are open to group or others;
/// returns how many were changed. Links are not followed. Errors (a file removed meanwhile) are skipped: the
/// next start tries again.
pub fn make_private(root: &std::path::Path) -> usize {
    use std::os::unix::fs::PermissionsExt;
    let mut changed = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(p) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        let want = if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&p) {
                stack.extend(entries.flatten().map(|e| e.path()));
            }
            0o700
        } else if meta.is_file() {
            0o600
        } else {
            continue;
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0
            && std::fs::set_permissions(&p, std::fs::Permissions::from_mode(want)).is_ok()
        {
            changed += 1;
        }
    }
    changed
}

#[cfg(test)]
mod private_tests {
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn open_files_and_directories_are_made_private() {
        let root = std::env::temp_dir().join(format!("garim-private-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("cam/20261201")).unwrap();
        std::fs::write(root.join("cam/20261201/seg.bin"), b"x").unwrap();
        std::fs::write(root.join("index.sqlite"), b"x").unwrap();
        let set = |p: &std::path::Path, m| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
        };
        set(&root.join("cam"), 0o755);
        set(&root.join("cam/20261201/seg.bin"), 0o644);
        set(&root.join("index.sqlite"), 0o600);
        let mode = |p: &str| {
            std::fs::metadata(root.join(p))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        assert!(super::make_private(&root) >= 2);
        assert_eq!(mode("cam"), 0o700);
        assert_eq!(mode("cam/20261201/seg.bin"), 0o600);
        assert_eq!(mode("index.sqlite"), 0o600);
        assert_eq!(super::make_private(&root), 0, "nothing left to change");
        let _ = std::fs::remove_dir_all(&root);
    }
}
