//! The vault on disk: `<dir>/index.sqlite` (WAL, secure_delete) with keys and segments,
//! `<dir>/<camera>/<YYYYMMDD>/*.gseg` encrypted segments, and `<dir>/destruction-log.jsonl` (the 파기 records
//! until the ledger exists). Every step is ordered so a crash at any point leaves a state the next open or
//! sweep finishes: segments are renamed before they are indexed, keys destroyed before files are deleted.

use crate::VaultError;
use crate::keys::SecretKey;
use crate::segment::{SegmentWriter, read_segment};
use crate::time::{day_label, day_of, unix_now, utc_stamp};
use parking_lot::Mutex;
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

pub struct Vault {
    dir: PathBuf,
    site_key: SecretKey,
    db: Mutex<Connection>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentRow {
    pub id: i64,
    pub camera: String,
    pub day: i64,
    pub start_unix: i64,
    pub end_unix: i64,
    pub bytes: i64,
    pub path: PathBuf,
    pub sha256: String,
    /// A sealed (unmasked, zone-limited) segment: readable only with a grant.
    pub sealed: bool,
}

/// A segment being written.
pub struct OpenSegment {
    /// For sealed segments, their own data key wrapped to the sealed public key (stored with the row).
    sealed_key: Option<Vec<u8>>,
    camera: String,
    day: i64,
    start_unix: i64,
    writer: SegmentWriter,
}

impl OpenSegment {
    pub fn write(&mut self, data: &[u8]) -> Result<(), VaultError> {
        self.writer.write(data)
    }

    pub fn abort(self) {
        self.writer.abort();
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepReport {
    pub keys_destroyed: usize,
    pub segments_deleted: usize,
    pub bytes_deleted: i64,
    /// Segments deleted per camera.
    pub per_camera: std::collections::BTreeMap<String, usize>,
}

fn label(camera: &str, day: i64) -> String {
    format!("{camera}/{}", day_label(day))
}

impl Vault {
    /// Opens (or creates) the vault and recovers from any crash: partial segments are removed, segments that
    /// were renamed but not yet indexed are verified and indexed (or removed if they do not decrypt).
    pub fn open(dir: &Path, site_key: SecretKey) -> Result<Vault, VaultError> {
        std::fs::create_dir_all(dir).map_err(|e| VaultError::io(dir, e))?;
        let db_path = dir.join("index.sqlite");
        let idx = |e: rusqlite::Error| VaultError::Index {
            path: db_path.display().to_string(),
            reason: e.to_string(),
        };
        let db = Connection::open(&db_path).map_err(idx)?;
        db.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON;
             CREATE TABLE IF NOT EXISTS keys (
                 camera TEXT NOT NULL, day INTEGER NOT NULL, wrapped BLOB, created INTEGER NOT NULL,
                 destroyed_at INTEGER, logged INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (camera, day));
             CREATE TABLE IF NOT EXISTS segments (
                 id INTEGER PRIMARY KEY, camera TEXT NOT NULL, day INTEGER NOT NULL,
                 start_unix INTEGER NOT NULL, end_unix INTEGER NOT NULL, bytes INTEGER NOT NULL,
                 path TEXT NOT NULL UNIQUE, sha256 TEXT NOT NULL, sealed_key BLOB);
             CREATE INDEX IF NOT EXISTS segments_by_time ON segments (camera, start_unix);",
        )
        .map_err(idx)?;
        let vault = Vault {
            dir: dir.to_path_buf(),
            site_key,
            db: Mutex::new(db),
        };
        vault.recover()?;
        Ok(vault)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn idx(&self, e: rusqlite::Error) -> VaultError {
        VaultError::Index {
            path: self.dir.join("index.sqlite").display().to_string(),
            reason: e.to_string(),
        }
    }

    /// The data key of a camera's day, created (and wrapped into the index) on first use. A destroyed day's
    /// key is never recreated.
    fn day_key(&self, camera: &str, day: i64) -> Result<SecretKey, VaultError> {
        let db = self.db.lock();
        let row: Option<(Option<Vec<u8>>,)> = db
            .query_row(
                "SELECT wrapped FROM keys WHERE camera = ?1 AND day = ?2",
                params![camera, day],
                |r| Ok((r.get(0)?,)),
            )
            .optional()
            .map_err(|e| self.idx(e))?;
        match row {
            Some((Some(w),)) => self.site_key.unwrap_key(&w, &label(camera, day)),
            Some((None,)) => Err(VaultError::Key {
                what: label(camera, day),
                reason: "this day's key was destroyed at the end of retention".into(),
            }),
            None => {
                let key = SecretKey::random();
                let wrapped = self.site_key.wrap(&key, &label(camera, day));
                db.execute(
                    "INSERT INTO keys (camera, day, wrapped, created) VALUES (?1, ?2, ?3, ?4)",
                    params![camera, day, wrapped, unix_now()],
                )
                .map_err(|e| self.idx(e))?;
                Ok(key)
            }
        }
    }

    /// Starts a segment of `camera` beginning at `start_unix`.
    pub fn begin(&self, camera: &str, start_unix: i64) -> Result<OpenSegment, VaultError> {
        let key = self.day_key(camera, day_of(start_unix))?;
        self.begin_with(camera, start_unix, key, None)
    }

    /// Starts a sealed segment of `camera`: its own data key, wrapped to `public` (garim cannot read it back).
    pub fn begin_sealed(
        &self,
        camera: &str,
        start_unix: i64,
        public: &crate::SealedPublicKey,
    ) -> Result<OpenSegment, VaultError> {
        let stream = format!("{camera}{}", crate::SEALED_SUFFIX);
        let day = day_of(start_unix);
        // A marker row per day (no key: keys are per segment) so the retention sweep destroys the day.
        let destroyed: Option<bool> = {
            let db = self.db.lock();
            db.execute(
                "INSERT OR IGNORE INTO keys (camera, day, wrapped, created) VALUES (?1, ?2, X'', ?3)",
                params![stream, day, unix_now()],
            )
            .map_err(|e| self.idx(e))?;
            db.query_row(
                "SELECT destroyed_at IS NOT NULL FROM keys WHERE camera = ?1 AND day = ?2",
                params![stream, day],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.idx(e))?
        };
        if destroyed == Some(true) {
            return Err(VaultError::Key {
                what: label(&stream, day),
                reason: "this day was destroyed at the end of retention".into(),
            });
        }
        let key = SecretKey::random();
        let wrapped = crate::sealed::wrap_sealed(public, &key, &label(&stream, day));
        self.begin_with(&stream, start_unix, key, Some(wrapped))
    }

    fn begin_with(
        &self,
        camera: &str,
        start_unix: i64,
        key: SecretKey,
        sealed_key: Option<Vec<u8>>,
    ) -> Result<OpenSegment, VaultError> {
        let day = day_of(start_unix);
        let dir = self.dir.join(camera).join(day_label(day));
        std::fs::create_dir_all(&dir).map_err(|e| VaultError::io(&dir, e))?;
        let mut path = dir.join(format!("{camera}-{}.gseg", utc_stamp(start_unix)));
        let mut n = 1;
        while path.exists() {
            path = dir.join(format!("{camera}-{}-{n}.gseg", utc_stamp(start_unix)));
            n += 1;
        }
        Ok(OpenSegment {
            sealed_key,
            camera: camera.to_string(),
            day,
            start_unix,
            writer: SegmentWriter::create(&path, &key)?,
        })
    }

    /// Seals, renames and indexes a segment.
    pub fn commit(&self, seg: OpenSegment, end_unix: i64) -> Result<SegmentRow, VaultError> {
        let (path, _) = seg.writer.finish()?;
        self.index(
            &seg.camera,
            seg.day,
            seg.start_unix,
            end_unix,
            &path,
            seg.sealed_key.as_deref(),
        )
    }

    fn index(
        &self,
        camera: &str,
        day: i64,
        start: i64,
        end: i64,
        path: &Path,
        sealed_key: Option<&[u8]>,
    ) -> Result<SegmentRow, VaultError> {
        let bytes = std::fs::read(path).map_err(|e| VaultError::io(path, e))?;
        let sha = hex::encode(Sha256::digest(&bytes));
        let rel = path
            .strip_prefix(&self.dir)
            .unwrap_or(path)
            .display()
            .to_string();
        let db = self.db.lock();
        db.execute(
            "INSERT OR IGNORE INTO segments (camera, day, start_unix, end_unix, bytes, path, sha256, sealed_key)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![camera, day, start, end, bytes.len() as i64, rel, sha, sealed_key],
        )
        .map_err(|e| self.idx(e))?;
        let id = db
            .query_row(
                "SELECT id FROM segments WHERE path = ?1",
                params![rel],
                |r| r.get(0),
            )
            .map_err(|e| self.idx(e))?;
        Ok(SegmentRow {
            id,
            camera: camera.to_string(),
            day,
            start_unix: start,
            end_unix: end,
            bytes: bytes.len() as i64,
            path: path.to_path_buf(),
            sha256: sha,
            sealed: sealed_key.is_some(),
        })
    }

    /// Segments of `camera` (all cameras when None) overlapping [from, to), oldest first.
    pub fn list(
        &self,
        camera: Option<&str>,
        from: i64,
        to: i64,
    ) -> Result<Vec<SegmentRow>, VaultError> {
        let db = self.db.lock();
        let mut st = db
            .prepare(
                "SELECT id, camera, day, start_unix, end_unix, bytes, path, sha256, sealed_key IS NOT NULL
                 FROM segments
                 WHERE (?1 IS NULL OR camera = ?1) AND end_unix > ?2 AND start_unix < ?3
                 ORDER BY camera, start_unix",
            )
            .map_err(|e| self.idx(e))?;
        let rows = st
            .query_map(params![camera, from, to], |r| {
                Ok(SegmentRow {
                    id: r.get(0)?,
                    camera: r.get(1)?,
                    day: r.get(2)?,
                    start_unix: r.get(3)?,
                    end_unix: r.get(4)?,
                    bytes: r.get(5)?,
                    path: self.dir.join(r.get::<_, String>(6)?),
                    sha256: r.get(7)?,
                    sealed: r.get(8)?,
                })
            })
            .map_err(|e| self.idx(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.idx(e))
    }

    /// The plaintext of an indexed segment (authenticated chunk by chunk).
    pub fn read(&self, row: &SegmentRow) -> Result<Vec<u8>, VaultError> {
        if row.sealed {
            return Err(VaultError::Key {
                what: label(&row.camera, row.day),
                reason: "sealed recording: it opens only with a grant".into(),
            });
        }
        let key = self.day_key(&row.camera, row.day)?;
        read_segment(&row.path, &key)
    }

    /// The plaintext of a sealed segment, opened with a grant (the private half of the sealed key pair).
    pub fn read_sealed(
        &self,
        row: &SegmentRow,
        grant: &crate::Grant,
    ) -> Result<Vec<u8>, VaultError> {
        let wrapped: Option<Vec<u8>> = self
            .db
            .lock()
            .query_row(
                "SELECT sealed_key FROM segments WHERE id = ?1",
                params![row.id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.idx(e))?
            .flatten();
        let wrapped = wrapped.ok_or_else(|| VaultError::Key {
            what: label(&row.camera, row.day),
            reason: "not a sealed recording".into(),
        })?;
        let key = crate::sealed::unwrap_sealed(grant, &wrapped, &label(&row.camera, row.day))?;
        read_segment(&row.path, &key)
    }

    fn recover(&self) -> Result<(), VaultError> {
        let indexed: std::collections::HashSet<String> = {
            let db = self.db.lock();
            let mut st = db
                .prepare("SELECT path FROM segments")
                .map_err(|e| self.idx(e))?;
            st.query_map([], |r| r.get::<_, String>(0))
                .map_err(|e| self.idx(e))?
                .collect::<Result<_, _>>()
                .map_err(|e| self.idx(e))?
        };
        for cam_dir in read_dirs(&self.dir) {
            let camera = cam_dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            for day_dir in read_dirs(&cam_dir) {
                for entry in std::fs::read_dir(&day_dir).into_iter().flatten().flatten() {
                    let p = entry.path();
                    let name = p
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    if name.ends_with(".part") {
                        tracing::warn!(file = %p.display(), "removing a segment left open by a crash");
                        let _ = std::fs::remove_file(&p);
                        continue;
                    }
                    let rel = p
                        .strip_prefix(&self.dir)
                        .unwrap_or(&p)
                        .display()
                        .to_string();
                    if !name.ends_with(".gseg") || indexed.contains(&rel) {
                        continue;
                    }
                    // Renamed but not indexed: keep it only if it is whole and opens with its day key.
                    let day = day_dir
                        .file_name()
                        .and_then(|n| n.to_str())
                        .and_then(day_from_label);
                    let ok = day.is_some_and(|d| {
                        self.day_key(&camera, d)
                            .and_then(|k| read_segment(&p, &k))
                            .is_ok()
                    });
                    match (ok, day) {
                        (true, Some(d)) => {
                            let start = start_from_name(&name).unwrap_or(d * 86_400);
                            let mtime = std::fs::metadata(&p)
                                .and_then(|m| m.modified())
                                .ok()
                                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                                .map_or(start, |d| d.as_secs() as i64);
                            self.index(&camera, d, start, mtime.max(start), &p, None)?;
                            tracing::info!(file = %p.display(), "indexed a segment closed just before a crash");
                        }
                        _ => {
                            tracing::warn!(file = %p.display(), "removing an unindexed segment that does not decrypt");
                            let _ = std::fs::remove_file(&p);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Destroys every day older than its camera's retention: key first, then files, then index rows, then a
    /// 파기 record. `retention_days(camera)` gives the policy's value (None: keep). Safe to interrupt.
    pub fn sweep(
        &self,
        now_unix: i64,
        retention_days: &dyn Fn(&str) -> Option<u32>,
    ) -> Result<SweepReport, VaultError> {
        let today = day_of(now_unix);
        let mut report = SweepReport::default();
        let days: Vec<(String, i64, bool)> = {
            let db = self.db.lock();
            let mut st = db
                .prepare("SELECT camera, day, destroyed_at IS NOT NULL FROM keys WHERE logged = 0")
                .map_err(|e| self.idx(e))?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .map_err(|e| self.idx(e))?
                .collect::<Result<_, _>>()
                .map_err(|e| self.idx(e))?
        };
        for (camera, day, destroyed) in days {
            let expired = retention_days(&camera).is_some_and(|r| today - day > i64::from(r));
            if !destroyed && !expired {
                continue;
            }
            if !destroyed {
                // 1. The key: once it is gone, no copy of this day can be decrypted.
                self.db
                    .lock()
                    .execute(
                        "UPDATE keys SET wrapped = NULL, destroyed_at = ?3 WHERE camera = ?1 AND day = ?2",
                        params![camera, day, now_unix],
                    )
                    .map_err(|e| self.idx(e))?;
                report.keys_destroyed += 1;
            }
            // 2. The files and their index rows.
            let rows = self.list(Some(&camera), day * 86_400 - 1, (day + 1) * 86_400 + 86_400)?;
            let rows: Vec<_> = rows.into_iter().filter(|r| r.day == day).collect();
            let (n, bytes) = (rows.len(), rows.iter().map(|r| r.bytes).sum::<i64>());
            for r in &rows {
                match std::fs::remove_file(&r.path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(VaultError::io(&r.path, e)),
                }
                self.db
                    .lock()
                    .execute("DELETE FROM segments WHERE id = ?1", params![r.id])
                    .map_err(|e| self.idx(e))?;
            }
            let _ = std::fs::remove_dir(self.dir.join(&camera).join(day_label(day)));
            report.segments_deleted += n;
            if n > 0 {
                *report.per_camera.entry(camera.clone()).or_default() += n;
            }
            report.bytes_deleted += bytes;
            // 3. The 파기 record, then the mark that it was written.
            let record = serde_json::json!({
                "구분": "파기",
                "at": utc_stamp(now_unix),
                "camera": camera,
                "day": day_label(day),
                "segments": n,
                "bytes": bytes,
                "how": "data key destroyed (crypto-shredding), files deleted, index rows removed",
                "reason": format!("retention of {} days ended", retention_days(&camera).map_or("?".into(), |r| r.to_string())),
            });
            self.record_destruction(&record)?;
            self.db
                .lock()
                .execute(
                    "UPDATE keys SET logged = 1 WHERE camera = ?1 AND day = ?2",
                    params![camera, day],
                )
                .map_err(|e| self.idx(e))?;
        }
        Ok(report)
    }
}

impl Vault {
    /// Appends one 파기 record (fsync'ed) to the destruction log.
    fn record_destruction(&self, record: &serde_json::Value) -> Result<(), VaultError> {
        let log = self.dir.join("destruction-log.jsonl");
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(|e| VaultError::io(&log, e))?;
        writeln!(f, "{record}")
            .and_then(|_| f.sync_all())
            .map_err(|e| VaultError::io(&log, e))
    }

    /// Per camera: bytes stored and the start of the oldest segment.
    pub fn usage(&self) -> Result<Vec<(String, i64, i64)>, VaultError> {
        let db = self.db.lock();
        let mut st = db
            .prepare("SELECT camera, SUM(bytes), MIN(start_unix) FROM segments GROUP BY camera")
            .map_err(|e| self.idx(e))?;
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(|e| self.idx(e))?
            .collect::<Result<_, _>>()
            .map_err(|e| self.idx(e))
    }

    /// Free bytes on the vault's file system.
    pub fn free_bytes(&self) -> Result<u64, VaultError> {
        let c = std::ffi::CString::new(self.dir.as_os_str().as_encoded_bytes())
            .map_err(|_| VaultError::io(&self.dir, std::io::Error::other("path has a NUL byte")))?;
        // SAFETY: statvfs fills the struct we pass for a valid C path.
        let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
        if unsafe { libc::statvfs(c.as_ptr(), &mut s) } != 0 {
            return Err(VaultError::io(&self.dir, std::io::Error::last_os_error()));
        }
        Ok(s.f_bavail as u64 * s.f_frsize as u64)
    }

    /// When free space is under `floor_bytes`, deletes the oldest segments (the nearest to expiry) until it is
    /// not, each with a 파기 record. Returns the segments deleted.
    pub fn enforce_floor(
        &self,
        floor_bytes: u64,
        now_unix: i64,
        free: &dyn Fn() -> Result<u64, VaultError>,
    ) -> Result<Vec<SegmentRow>, VaultError> {
        let mut deleted = Vec::new();
        while free()? < floor_bytes {
            let Some(oldest) = self
                .list(None, i64::MIN, i64::MAX)?
                .into_iter()
                .min_by_key(|r| r.start_unix)
            else {
                break;
            };
            match std::fs::remove_file(&oldest.path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(VaultError::io(&oldest.path, e)),
            }
            self.db
                .lock()
                .execute("DELETE FROM segments WHERE id = ?1", params![oldest.id])
                .map_err(|e| self.idx(e))?;
            self.record_destruction(&serde_json::json!({
                "구분": "파기",
                "at": utc_stamp(now_unix),
                "camera": oldest.camera,
                "day": day_label(oldest.day),
                "segments": 1,
                "bytes": oldest.bytes,
                "how": "file deleted, index row removed",
                "reason": format!("storage below its floor of {floor_bytes} bytes: oldest recording removed first"),
            }))?;
            deleted.push(oldest);
        }
        Ok(deleted)
    }
}

fn read_dirs(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect()
}

fn day_from_label(s: &str) -> Option<i64> {
    if s.len() != 8 || !s.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let day = crate::time::days_from_civil(
        s[..4].parse().ok()?,
        s[4..6].parse().ok()?,
        s[6..].parse().ok()?,
    );
    (day_label(day) == s).then_some(day)
}

fn start_from_name(name: &str) -> Option<i64> {
    // <camera>-YYYYMMDDTHHMMSSZ[-n].gseg
    let i = name.rfind('Z')?;
    let stamp = name.get(i - 15..=i)?;
    let day = day_from_label(&stamp[..8])?;
    let (h, mi, s): (i64, i64, i64) = (
        stamp[9..11].parse().ok()?,
        stamp[11..13].parse().ok()?,
        stamp[13..15].parse().ok()?,
    );
    Some(day * 86_400 + h * 3600 + mi * 60 + s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("garim-vault-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn put(v: &Vault, cam: &str, start: i64, data: &[u8]) -> SegmentRow {
        let mut s = v.begin(cam, start).unwrap();
        s.write(data).unwrap();
        v.commit(s, start + 60).unwrap()
    }

    #[test]
    fn segments_are_indexed_listed_and_read_back() {
        let d = dir("list");
        let key = SecretKey::random();
        let v = Vault::open(&d, key.clone()).unwrap();
        let t = 1_795_923_045;
        let a = put(&v, "cam-1", t, b"first");
        put(&v, "cam-1", t + 60, b"second");
        put(&v, "cam-2", t, b"other");
        let rows = v.list(Some("cam-1"), t, t + 120).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(v.read(&rows[0]).unwrap(), b"first");
        assert_eq!(rows[0], a);
        drop(v);
        // Reopening with a different site key cannot read anything.
        let other = Vault::open(&d, SecretKey::random()).unwrap();
        assert!(other.read(&a).is_err());
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn expired_day_key_is_destroyed_then_files_then_rows() {
        let d = dir("sweep");
        let v = Vault::open(&d, SecretKey::random()).unwrap();
        let day = 20_000i64;
        let old = put(&v, "cam-1", (day - 31) * 86_400 + 100, b"old");
        let kept = put(&v, "cam-1", (day - 30) * 86_400 + 100, b"kept");
        let now = day * 86_400 + 3600;
        let report = v.sweep(now, &|_| Some(30)).unwrap();
        assert_eq!(report.keys_destroyed, 1);
        assert_eq!(report.segments_deleted, 1);
        assert!(!old.path.exists() && kept.path.exists());
        assert!(v.read(&old).is_err(), "the destroyed day's key is gone");
        assert_eq!(v.read(&kept).unwrap(), b"kept");
        let log = std::fs::read_to_string(d.join("destruction-log.jsonl")).unwrap();
        assert!(
            log.contains("파기") && log.contains(&day_label(day - 31)),
            "{log}"
        );
        // Idempotent: a second sweep does nothing more.
        assert_eq!(v.sweep(now, &|_| Some(30)).unwrap(), SweepReport::default());
        assert_eq!(log.lines().count(), 1);
        // A new segment on a destroyed day is refused rather than written under a new key.
        assert!(v.begin("cam-1", (day - 31) * 86_400 + 200).is_err());
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn interrupted_sweep_finishes_on_the_next_run() {
        let d = dir("resume");
        let v = Vault::open(&d, SecretKey::random()).unwrap();
        let seg = put(&v, "cam-1", 100, b"x");
        // Simulate a crash right after the key was destroyed.
        v.db.lock()
            .execute("UPDATE keys SET wrapped = NULL, destroyed_at = 1", [])
            .unwrap();
        let report = v.sweep(10 * 86_400, &|_| None).unwrap();
        assert_eq!((report.keys_destroyed, report.segments_deleted), (0, 1));
        assert!(!seg.path.exists());
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn open_removes_partial_segments_and_indexes_renamed_ones() {
        let d = dir("recover");
        let key = SecretKey::random();
        let v = Vault::open(&d, key.clone()).unwrap();
        let t = 1_795_923_045;
        // A segment left open (crash while writing).
        let mut open = v.begin("cam-1", t).unwrap();
        open.write(b"half").unwrap();
        std::mem::forget(open);
        // A segment renamed but not indexed (crash between rename and insert).
        let s = v.begin("cam-1", t + 60).unwrap();
        let (path, _) = s.writer.finish().unwrap();
        drop(v);
        let v = Vault::open(&d, key).unwrap();
        let rows = v.list(None, 0, i64::MAX).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].path, path);
        assert_eq!(rows[0].start_unix, t + 60);
        let day_dir = path.parent().unwrap();
        assert!(
            std::fs::read_dir(day_dir).unwrap().all(|e| !e
                .unwrap()
                .path()
                .display()
                .to_string()
                .ends_with(".part"))
        );
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn storage_floor_removes_oldest_segments_first() {
        let d = dir("floor");
        let v = Vault::open(&d, SecretKey::random()).unwrap();
        let a = put(&v, "cam-1", 1000, &[1u8; 100]);
        let b = put(&v, "cam-2", 2000, &[2u8; 100]);
        let c = put(&v, "cam-1", 3000, &[3u8; 100]);
        // Pretend free space grows by 1000 bytes per deleted segment, from 500 under a floor of 2000.
        let gone = std::cell::Cell::new(0u64);
        let free = || {
            let n = v.list(None, i64::MIN, i64::MAX).unwrap().len() as u64;
            gone.set(3 - n);
            Ok(500 + 1000 * gone.get())
        };
        let deleted = v.enforce_floor(2000, 5000, &free).unwrap();
        assert_eq!(deleted, vec![a.clone(), b.clone()]);
        assert!(!a.path.exists() && !b.path.exists() && c.path.exists());
        let usage = v.usage().unwrap();
        assert_eq!(usage, vec![("cam-1".to_string(), c.bytes, 3000)]);
        assert!(v.free_bytes().unwrap() > 0);
        let log = std::fs::read_to_string(d.join("destruction-log.jsonl")).unwrap();
        assert_eq!(log.lines().count(), 2);
        assert!(log.contains("storage below its floor"));
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn sealed_segments_open_only_with_the_grant_and_are_destroyed_with_their_day() {
        let d = dir("sealed");
        let v = Vault::open(&d, SecretKey::random()).unwrap();
        let (grant_hex, public_hex) = crate::sealed::new_keypair();
        let public = crate::SealedPublicKey::parse(&public_hex).unwrap();
        let day = 20_000i64;
        let mut s = v.begin_sealed("cam-1", day * 86_400 + 10, &public).unwrap();
        s.write(b"unmasked zone").unwrap();
        let row = v.commit(s, day * 86_400 + 70).unwrap();
        assert!(row.sealed && row.camera == "cam-1.sealed");
        let e = v.read(&row).unwrap_err().to_string();
        assert!(e.contains("grant"), "{e}");
        let grant = crate::Grant::parse(&grant_hex, "test").unwrap();
        assert_eq!(v.read_sealed(&row, &grant).unwrap(), b"unmasked zone");
        let (other, _) = crate::sealed::new_keypair();
        assert!(
            v.read_sealed(&row, &crate::Grant::parse(&other, "t").unwrap())
                .is_err()
        );
        // Retention destroys the sealed day like any other.
        let r = v.sweep((day + 40) * 86_400, &|_| Some(30)).unwrap();
        assert_eq!(r.segments_deleted, 1);
        assert!(!row.path.exists());
        assert!(
            v.begin_sealed("cam-1", day * 86_400 + 100, &public)
                .is_err()
        );
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn day_labels_parse_back() {
        for day in [0, 11_016, 20_416, 20_780] {
            assert_eq!(day_from_label(&day_label(day)), Some(day));
        }
        assert_eq!(
            start_from_name("cam-1-20261129T033045Z.gseg"),
            Some(1_795_923_045)
        );
    }
}
