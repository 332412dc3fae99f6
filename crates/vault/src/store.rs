//! The vault on disk: `<dir>/<camera>/<YYYYMMDD>/*.gseg` encrypted segments, `<dir>/destruction-log.jsonl` (the
//! 파기 records until the ledger exists) and the index of keys and segments: `<dir>/index.sqlite` (WAL,
//! secure_delete), or one Postgres database shared by several replicas, each with its own volume (its node,
//! named in `<dir>/node-id`). Every step is ordered so a crash at any point leaves a state the next open or
//! sweep finishes: segments are renamed before they are indexed, keys destroyed before files are deleted.
//! With a shared index a replica recovers and sweeps only the cameras it serves and deletes only files on its
//! own volume; it lists every node's segments but reads only its own.

use crate::VaultError;
use crate::index::{Filter, IndexDb, IndexRow, NewSegment, PostgresIndex};
use crate::keys::SecretKey;
use crate::segment::{SegmentWriter, read_segment};
use crate::time::{day_label, day_of, unix_now, utc_stamp};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Which cameras a process serves (a sealed stream `<camera>.sealed` is asked as itself).
pub type Owns = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// How to open a vault beyond its folder and site key.
#[derive(Clone, Default)]
pub struct VaultOptions {
    /// The index on Postgres, shared by several replicas; None: `<dir>/index.sqlite`.
    pub postgres: Option<PostgresIndex>,
    /// This node's name in a shared index. None: the name in `<dir>/node-id`, made on first open from the
    /// hostname and a random suffix, so the name stays with the volume whatever pod mounts it.
    pub node: Option<String>,
    /// The cameras this process serves. With a shared index, crash recovery and the retention sweep touch only
    /// these (another replica's open segments and keys are its own business). Ignored with SQLite: a local
    /// index holds only this node's recordings, and all of them are swept (a camera moved to another shard
    /// must still expire here). None: every camera.
    pub owns: Option<Owns>,
    /// Run crash recovery at open (the service). Tools that only read (listing, export) skip it, so they never
    /// remove the segments a running service has open.
    pub skip_recovery: bool,
}

/// Receives each 파기 record (one JSON object) and makes it durable, or says why it could not.
pub type Trail = Arc<dyn Fn(&serde_json::Value) -> Result<(), String> + Send + Sync>;

pub struct Vault {
    trail: Option<Trail>,
    dir: PathBuf,
    site_key: SecretKey,
    db: IndexDb,
    node: String,
    owns: Option<Owns>,
    /// A key was destroyed and the Postgres keys table not yet rewritten (retried at every sweep).
    vacuum_pending: AtomicBool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentRow {
    pub id: i64,
    /// The node whose storage holds the file (always this node's with SQLite).
    pub node: String,
    pub camera: String,
    pub day: i64,
    pub start_unix: i64,
    pub end_unix: i64,
    pub bytes: i64,
    /// The file, under this vault's folder: it exists only on `node`.
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

/// The node name of a shared-index vault: `<dir>/node-id`, made once.
fn node_id(dir: &Path) -> Result<String, VaultError> {
    let path = dir.join("node-id");
    match std::fs::read_to_string(&path) {
        Ok(s) if !s.trim().is_empty() => return Ok(s.trim().to_string()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(VaultError::io(&path, e)),
    }
    let host: String = hostname()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
        .take(63)
        .collect();
    let mut suffix = [0u8; 4];
    getrandom::fill(&mut suffix)
        .map_err(|e| VaultError::io(&path, std::io::Error::other(e.to_string())))?;
    let name = format!(
        "{}-{}",
        if host.is_empty() { "node" } else { &host },
        hex::encode(suffix)
    );
    let tmp = dir.join("node-id.part");
    std::fs::write(&tmp, format!("{name}\n"))
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| VaultError::io(&path, e))?;
    Ok(name)
}

fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that many bytes.
    if unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } != 0 {
        return String::new();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

impl Vault {
    /// Opens (or creates) the vault with its SQLite index and recovers from any crash: partial segments are
    /// removed, segments that were renamed but not yet indexed are verified and indexed (or removed if they do
    /// not decrypt).
    pub fn open(dir: &Path, site_key: SecretKey) -> Result<Vault, VaultError> {
        Vault::open_with(dir, site_key, VaultOptions::default())
    }

    /// Opens the vault as `opts` say (index backend, node, cameras served, recovery).
    pub fn open_with(
        dir: &Path,
        site_key: SecretKey,
        opts: VaultOptions,
    ) -> Result<Vault, VaultError> {
        std::fs::create_dir_all(dir).map_err(|e| VaultError::io(dir, e))?;
        let db = match &opts.postgres {
            None => IndexDb::open_sqlite(&dir.join("index.sqlite"))?,
            Some(pg) => IndexDb::open_postgres(pg)?,
        };
        let node = match opts.node {
            Some(n) if n.trim().is_empty() || n.chars().any(char::is_whitespace) => {
                return Err(VaultError::Index {
                    path: db.describe(),
                    reason: format!("node name {n:?} must be non-empty and without spaces"),
                });
            }
            Some(n) => n,
            None if db.is_shared() => node_id(dir)?,
            None => "local".to_string(),
        };
        let vault = Vault {
            trail: None,
            dir: dir.to_path_buf(),
            site_key,
            db,
            node,
            owns: opts.owns,
            vacuum_pending: AtomicBool::new(false),
        };
        if !opts.skip_recovery {
            vault.recover()?;
        }
        Ok(vault)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// This node's name (the holder of the files under `dir`).
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Where the index is (a path, or the Postgres URL without credentials).
    pub fn index_location(&self) -> String {
        self.db.describe()
    }

    /// Whether this process recovers and sweeps `camera` (always with a local index).
    fn owns(&self, camera: &str) -> bool {
        !self.db.is_shared() || self.owns.as_ref().is_none_or(|f| f(camera))
    }

    /// The data key of a camera's day, created (and wrapped into the index) on first use. A destroyed day's
    /// key is never recreated.
    fn day_key(&self, camera: &str, day: i64) -> Result<SecretKey, VaultError> {
        // Twice at most: when another process stores the day's key first, this one uses that key.
        for _ in 0..2 {
            match self.db.wrapped_key(camera, day)? {
                Some(Some(w)) => return self.site_key.unwrap_key(&w, &label(camera, day)),
                Some(None) => {
                    return Err(VaultError::Key {
                        what: label(camera, day),
                        reason: "this day's key was destroyed at the end of retention".into(),
                    });
                }
                None => {
                    let key = SecretKey::random();
                    let wrapped = self.site_key.wrap(&key, &label(camera, day));
                    if self.db.insert_key(camera, day, &wrapped, unix_now())? {
                        return Ok(key);
                    }
                }
            }
        }
        Err(VaultError::Key {
            what: label(camera, day),
            reason: "the key row changed while it was being created; try again".into(),
        })
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
        let stream = vocab::StreamName::new(camera, vocab::StreamKind::Sealed).to_string();
        let day = day_of(start_unix);
        // A marker row per day (no key: keys are per segment) so the retention sweep destroys the day.
        if self.db.mark_day(&stream, day, unix_now())? {
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
        // A name neither committed nor being written: two segments started in one second (one still
        // draining when the next begins) once shared a `.part` and each ruined the other.
        let stamp = utc_stamp(start_unix);
        for n in 0.. {
            let path = match n {
                0 => dir.join(format!("{camera}-{stamp}.gseg")),
                n => dir.join(format!("{camera}-{stamp}-{n}.gseg")),
            };
            if path.exists() {
                continue;
            }
            if let Some(writer) = SegmentWriter::create_new(&path, &key)? {
                // Only the holder of a `.part` renames onto its name: once the `.part` is ours, a segment
                // committed under the name just before (between the check and the claim) is the only way it
                // can exist. Then let the name go.
                if path.exists() {
                    writer.abort();
                    continue;
                }
                return Ok(OpenSegment {
                    sealed_key,
                    camera: camera.to_string(),
                    day,
                    start_unix,
                    writer,
                });
            }
        }
        unreachable!("an unbounded range ends")
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
        self.index_as(camera, day, (start, end), path, sealed_key, None)
    }

    /// [`Self::index`] of the time span (start, end), deleting the row `replaces` in the same transaction.
    fn index_as(
        &self,
        camera: &str,
        day: i64,
        (start, end): (i64, i64),
        path: &Path,
        sealed_key: Option<&[u8]>,
        replaces: Option<i64>,
    ) -> Result<SegmentRow, VaultError> {
        let bytes = std::fs::read(path).map_err(|e| VaultError::io(path, e))?;
        let sha = hex::encode(Sha256::digest(&bytes));
        let rel = path
            .strip_prefix(&self.dir)
            .unwrap_or(path)
            .display()
            .to_string();
        let row = NewSegment {
            node: &self.node,
            camera,
            day,
            start_unix: start,
            end_unix: end,
            bytes: bytes.len() as i64,
            rel: &rel,
            sha256: &sha,
            sealed_key,
        };
        let id = match replaces {
            Some(old) => self.db.replace_segment(old, &row)?,
            None => self.db.insert_segment(&row)?,
        };
        Ok(SegmentRow {
            id,
            node: self.node.clone(),
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

    fn row(&self, r: IndexRow) -> SegmentRow {
        SegmentRow {
            id: r.id,
            node: r.node.unwrap_or_else(|| self.node.clone()),
            camera: r.camera,
            day: r.day,
            start_unix: r.start_unix,
            end_unix: r.end_unix,
            bytes: r.bytes,
            path: self.dir.join(r.rel),
            sha256: r.sha256,
            sealed: r.sealed,
        }
    }

    /// Segments of `camera` (all cameras when None) overlapping [from, to), oldest first; on every node.
    pub fn list(
        &self,
        camera: Option<&str>,
        from: i64,
        to: i64,
    ) -> Result<Vec<SegmentRow>, VaultError> {
        self.select(camera, None, from, to)
    }

    /// The same, only the segments whose files are on this node.
    pub fn list_local(
        &self,
        camera: Option<&str>,
        from: i64,
        to: i64,
    ) -> Result<Vec<SegmentRow>, VaultError> {
        self.select(camera, Some(&self.node), from, to)
    }

    fn select(
        &self,
        camera: Option<&str>,
        node: Option<&str>,
        from: i64,
        to: i64,
    ) -> Result<Vec<SegmentRow>, VaultError> {
        let rows = self.db.segments(&Filter {
            camera,
            node,
            from,
            to,
        })?;
        Ok(rows.into_iter().map(|r| self.row(r)).collect())
    }

    /// Refuses a segment whose file is on another node's storage, naming the camera and that node.
    fn here(&self, row: &SegmentRow) -> Result<(), VaultError> {
        if row.node == self.node {
            return Ok(());
        }
        Err(VaultError::Elsewhere {
            what: format!(
                "segment {} of {}",
                row.path
                    .strip_prefix(&self.dir)
                    .unwrap_or(&row.path)
                    .display(),
                row.camera
            ),
            node: row.node.clone(),
            here: self.node.clone(),
        })
    }

    /// The plaintext of an indexed segment (authenticated chunk by chunk).
    pub fn read(&self, row: &SegmentRow) -> Result<Vec<u8>, VaultError> {
        if row.sealed {
            return Err(VaultError::Key {
                what: label(&row.camera, row.day),
                reason: "sealed recording: it opens only with a grant".into(),
            });
        }
        self.here(row)?;
        let key = self.day_key(&row.camera, row.day)?;
        read_segment(&row.path, &key)
    }

    /// The plaintext of a sealed segment, opened with a grant (the private half of the sealed key pair).
    pub fn read_sealed(
        &self,
        row: &SegmentRow,
        grant: &crate::Grant,
    ) -> Result<Vec<u8>, VaultError> {
        let key = self.sealed_segment_key(row, grant)?;
        self.read_sealed_with(row, &key)
    }

    /// A sealed segment's own data key, unwrapped with a grant: it opens that segment and nothing else (an
    /// opening holds these, never the grant, while its operator reviews).
    pub fn sealed_segment_key(
        &self,
        row: &SegmentRow,
        grant: &crate::Grant,
    ) -> Result<SecretKey, VaultError> {
        let wrapped = self.db.sealed_key(row.id)?;
        let wrapped = wrapped.ok_or_else(|| VaultError::Key {
            what: label(&row.camera, row.day),
            reason: "not a sealed recording".into(),
        })?;
        crate::sealed::unwrap_sealed(grant, &wrapped, &label(&row.camera, row.day))
    }

    /// The plaintext of a sealed segment with its own data key (from [`Vault::sealed_segment_key`]).
    pub fn read_sealed_with(
        &self,
        row: &SegmentRow,
        key: &SecretKey,
    ) -> Result<Vec<u8>, VaultError> {
        self.here(row)?;
        read_segment(&row.path, key)
    }

    /// Replaces a sealed segment of `camera` by another recording of the same time (its copy with a person
    /// masked out): the new one is written and sealed to `public` under a new data key; one index transaction
    /// then adds its row and deletes the old one (which holds the old file's only wrapped key); then the old
    /// file is removed. Interrupted before the transaction, the old segment stands and the new file, unindexed,
    /// is removed when the vault next opens; after it, the old file can no longer be opened and is removed
    /// then too. Never are both indexed: where the old row is gone already (another deletion replaced it
    /// meanwhile), nothing changes and the error says so ([`VaultError::NotReplaced`]).
    pub fn replace_sealed(
        &self,
        camera: &str,
        old: &SegmentRow,
        plaintext: &[u8],
        public: &crate::SealedPublicKey,
    ) -> Result<SegmentRow, VaultError> {
        self.here(old)?;
        let mut seg = self.begin_sealed(camera, old.start_unix, public)?;
        if let Err(e) = seg.write(plaintext) {
            seg.abort();
            return Err(e);
        }
        let (path, _) = seg.writer.finish()?;
        let new = match self.index_as(
            &seg.camera,
            seg.day,
            (seg.start_unix, old.end_unix),
            &path,
            seg.sealed_key.as_deref(),
            Some(old.id),
        ) {
            Ok(new) => new,
            // Rolled back for certain: the new file is nobody's.
            Err(e @ VaultError::NotReplaced(_)) => {
                let _ = std::fs::remove_file(&path);
                return Err(e);
            }
            // Perhaps committed after all (a connection lost at the commit): the file stays, and the next
            // open keeps it if its row is there, or removes it.
            Err(e) => return Err(e),
        };
        match std::fs::remove_file(&old.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(VaultError::io(&old.path, e)),
        }
        Ok(new)
    }

    fn recover(&self) -> Result<(), VaultError> {
        let indexed = self.db.paths_on(&self.node)?;
        for cam_dir in read_dirs(&self.dir) {
            let camera = cam_dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if !self.owns(&camera) {
                // Another replica's camera (a shared storage path, or a camera that moved shards): its open
                // segments and unindexed files are not this process's to judge.
                continue;
            }
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

    /// Deletes this node's files and index rows of a camera's day. Returns (segments, bytes).
    /// Segments and bytes of one camera's day on this node.
    fn day_contents(&self, camera: &str, day: i64) -> Result<(usize, i64), VaultError> {
        let rows = self.list_local(Some(camera), day * 86_400 - 1, (day + 1) * 86_400 + 86_400)?;
        let rows: Vec<_> = rows.into_iter().filter(|r| r.day == day).collect();
        Ok((rows.len(), rows.iter().map(|r| r.bytes).sum::<i64>()))
    }

    fn delete_day(&self, camera: &str, day: i64) -> Result<(usize, i64), VaultError> {
        let rows = self.list_local(Some(camera), day * 86_400 - 1, (day + 1) * 86_400 + 86_400)?;
        let rows: Vec<_> = rows.into_iter().filter(|r| r.day == day).collect();
        let (n, bytes) = (rows.len(), rows.iter().map(|r| r.bytes).sum::<i64>());
        for r in &rows {
            match std::fs::remove_file(&r.path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(VaultError::io(&r.path, e)),
            }
            self.db.delete_segment(r.id)?;
        }
        let _ = std::fs::remove_dir(self.dir.join(camera).join(day_label(day)));
        Ok((n, bytes))
    }

    /// Destroys every day older than its camera's retention: the 파기 record first, then the key, then files
    /// and index rows. `retention_days(camera)` gives the policy's value (None: keep). Safe to interrupt.
    /// With a shared index only the cameras this process serves are swept, and only this node's files are
    /// deleted; copies on this node of a day whose key another replica destroyed are deleted too.
    pub fn sweep(
        &self,
        now_unix: i64,
        retention_days: &dyn Fn(&str) -> Option<u32>,
    ) -> Result<SweepReport, VaultError> {
        let today = day_of(now_unix);
        let mut report = SweepReport::default();
        for (camera, day, destroyed) in self.db.open_days()? {
            if !self.owns(&camera) {
                continue;
            }
            let expired = retention_days(&camera).is_some_and(|r| today - day > i64::from(r));
            if !destroyed && !expired {
                continue;
            }
            // 1. The 파기 record, with what is about to go: no destruction without its row. (A crash between
            //    the record and the key leaves the day to the next sweep, which records it again.)
            if !destroyed {
                let (n, bytes) = self.day_contents(&camera, day)?;
                self.record_destruction(&serde_json::json!({
                    "구분": "파기",
                    "at": utc_stamp(now_unix),
                    "camera": camera,
                    "day": day_label(day),
                    "segments": n,
                    "bytes": bytes,
                    "how": "data key destroyed (crypto-shredding), files deleted, index rows removed",
                    "reason": format!("retention of {} days ended", retention_days(&camera).map_or("?".into(), |r| r.to_string())),
                }))?;
                // 2. The key: once it is gone, no copy of this day can be decrypted.
                if self.db.destroy_key(&camera, day, now_unix)? {
                    report.keys_destroyed += 1;
                    self.vacuum_pending.store(true, Ordering::SeqCst);
                }
            }
            // 3. The files and their index rows (after a crash here the key is gone and the row written).
            let (n, bytes) = self.delete_day(&camera, day)?;
            report.segments_deleted += n;
            if n > 0 {
                *report.per_camera.entry(camera.clone()).or_default() += n;
            }
            report.bytes_deleted += bytes;
            // 4. The mark that the day is done.
            self.db.mark_logged(&camera, day)?;
        }
        // Copies left on this node of days whose key is already destroyed (by the replica now serving them).
        for (camera, day) in self.db.destroyed_days_on(&self.node)? {
            let (n, bytes) = self.day_contents(&camera, day)?;
            if n == 0 {
                continue;
            }
            // The record first, as for every destruction.
            self.record_destruction(&serde_json::json!({
                "구분": "파기",
                "at": utc_stamp(now_unix),
                "camera": camera,
                "day": day_label(day),
                "segments": n,
                "bytes": bytes,
                "how": "files deleted, index rows removed (the day's data key was already destroyed)",
                "reason": "retention ended",
            }))?;
            let (n, bytes) = self.delete_day(&camera, day)?;
            report.segments_deleted += n;
            *report.per_camera.entry(camera.clone()).or_default() += n;
            report.bytes_deleted += bytes;
        }
        if self.vacuum_pending.load(Ordering::SeqCst) {
            self.db.vacuum_keys()?;
            self.vacuum_pending.store(false, Ordering::SeqCst);
        }
        Ok(report)
    }
}

impl Vault {
    /// Writes one 파기 record to the site's ledger (durable when it returns). Without a ledger nothing is
    /// destroyed: a destruction without its record is not allowed.
    fn record_destruction(&self, record: &serde_json::Value) -> Result<(), VaultError> {
        let trail = self.trail.as_ref().ok_or_else(|| {
            VaultError::io(
                &self.dir,
                std::io::Error::other("no ledger to record the destruction in; nothing destroyed"),
            )
        })?;
        trail(record).map_err(|e| {
            VaultError::io(
                &self.dir,
                std::io::Error::other(format!(
                    "the 파기 record could not be written to the ledger: {e}"
                )),
            )
        })
    }

    /// Where 파기 records go (the site's 관리대장).
    pub fn with_trail(mut self, trail: Trail) -> Vault {
        self.trail = Some(trail);
        self
    }

    /// Per camera, on this node: bytes stored and the start of the oldest segment.
    pub fn usage(&self) -> Result<Vec<(String, i64, i64)>, VaultError> {
        self.db.usage(&self.node)
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
                .list_local(None, i64::MIN, i64::MAX)?
                .into_iter()
                .min_by_key(|r| r.start_unix)
            else {
                break;
            };
            // The record first: no destruction without its row.
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
            match std::fs::remove_file(&oldest.path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(VaultError::io(&oldest.path, e)),
            }
            self.db.delete_segment(oldest.id)?;
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

    /// A trail that keeps the 파기 records in memory, one JSON line each, as the ledger would.
    fn trail() -> (Trail, Arc<parking_lot::Mutex<String>>) {
        let log = Arc::new(parking_lot::Mutex::new(String::new()));
        let l = log.clone();
        let t: Trail = Arc::new(move |r| {
            l.lock().push_str(&format!("{r}\n"));
            Ok(())
        });
        (t, log)
    }

    #[test]
    fn no_destruction_without_a_ledger_to_record_it() {
        let d = dir("no-trail");
        let v = Vault::open(&d, SecretKey::random()).unwrap();
        let day = 20_000i64;
        let old = put(&v, "cam-1", (day - 31) * 86_400 + 100, b"old");
        let failing: Trail = Arc::new(|_| Err("disk full".into()));
        assert!(v.sweep(day * 86_400, &|_| Some(30)).is_err());
        let v = v.with_trail(failing);
        let e = v.sweep(day * 86_400, &|_| Some(30)).unwrap_err();
        assert!(e.to_string().contains("disk full"), "{e}");
        // Retried at the next sweep with a working ledger: recorded once.
        let (t, log) = trail();
        let v = v.with_trail(t);
        v.sweep(day * 86_400, &|_| Some(30)).unwrap();
        assert!(!old.path.exists());
        assert_eq!(log.lock().lines().count(), 1);
        std::fs::remove_dir_all(d).unwrap();
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
    fn segments_started_in_one_second_and_open_together_keep_apart() {
        // The recorder begins the next segment while the last one still drains: in one second (a camera that
        // reconnects at once, an encoder restarted) the two once wrote into one `.part` and ruined each other.
        let d = dir("one-second");
        let v = Vault::open(&d, SecretKey::random()).unwrap();
        let t = 1_795_923_045;
        let mut a = v.begin("cam-1", t).unwrap();
        let mut b = v.begin("cam-1", t).unwrap();
        let mut c = v.begin("cam-1", t).unwrap();
        let data = |n: u8| vec![n; CHUNK_FOR_TEST + 17 * usize::from(n)];
        for (seg, n) in [(&mut a, 1), (&mut b, 2), (&mut c, 3)] {
            seg.write(&data(n)).unwrap();
        }
        let rows = [
            v.commit(b, t + 1).unwrap(),
            v.commit(a, t + 1).unwrap(),
            v.commit(c, t + 1).unwrap(),
        ];
        for (row, n) in rows.iter().zip([2, 1, 3]) {
            assert_eq!(v.read(row).unwrap(), data(n), "{}", row.path.display());
        }
        let names: std::collections::BTreeSet<_> = rows.iter().map(|r| r.path.clone()).collect();
        assert_eq!(names.len(), 3);
        std::fs::remove_dir_all(d).unwrap();
    }

    /// More than one sealed chunk, so a clobbered file cannot pass as whole.
    const CHUNK_FOR_TEST: usize = crate::segment::CHUNK + 100;

    #[test]
    fn expired_day_key_is_destroyed_then_files_then_rows() {
        let d = dir("sweep");
        let (t, ledger) = trail();
        let v = Vault::open(&d, SecretKey::random()).unwrap().with_trail(t);
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
        let log = ledger.lock().clone();
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
        let (t, ledger) = trail();
        let v = Vault::open(&d, SecretKey::random()).unwrap().with_trail(t);
        let seg = put(&v, "cam-1", 100, b"x");
        // Simulate a crash right after the key was destroyed (its record was written before it).
        v.db.execute_sqlite("UPDATE keys SET wrapped = NULL, destroyed_at = 1");
        let report = v.sweep(10 * 86_400, &|_| None).unwrap();
        assert_eq!((report.keys_destroyed, report.segments_deleted), (0, 1));
        assert!(!seg.path.exists());
        // The record came before the key (written then), so finishing writes no second one.
        assert_eq!(ledger.lock().lines().count(), 0);
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
        let (t, ledger) = trail();
        let v = Vault::open(&d, SecretKey::random()).unwrap().with_trail(t);
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
        let log = ledger.lock().clone();
        assert_eq!(log.lines().count(), 2);
        assert!(log.contains("storage below its floor"));
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn sealed_segments_open_only_with_the_grant_and_are_destroyed_with_their_day() {
        let d = dir("sealed");
        let v = Vault::open(&d, SecretKey::random())
            .unwrap()
            .with_trail(trail().0);
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
    fn a_replacement_leaves_one_segment_wherever_it_is_interrupted() {
        let d = dir("replace");
        let key = SecretKey::random();
        let v = Vault::open(&d, key.clone()).unwrap().with_trail(trail().0);
        let (grant_hex, public_hex) = crate::sealed::new_keypair();
        let public = crate::SealedPublicKey::parse(&public_hex).unwrap();
        let grant = crate::Grant::parse(&grant_hex, "test").unwrap();
        let t = 20_000 * 86_400 + 10;
        let seal = |v: &Vault, bytes: &[u8]| {
            let mut s = v.begin_sealed("cam-1", t, &public).unwrap();
            s.write(bytes).unwrap();
            v.commit(s, t + 60).unwrap()
        };
        let only = |v: &Vault| {
            let rows = v.list(None, 0, i64::MAX).unwrap();
            assert_eq!(rows.len(), 1, "{rows:?}");
            v.read_sealed(&rows[0], &grant).unwrap()
        };
        // Segment files on disk, in every camera's every day.
        let files = |d: &Path| {
            read_dirs(d)
                .iter()
                .flat_map(|c| read_dirs(c))
                .flat_map(|day| std::fs::read_dir(day).unwrap().flatten())
                .filter(|e| e.path().extension().is_some_and(|x| x == "gseg"))
                .count()
        };

        // Uninterrupted: the new segment alone, the old file gone.
        let old = seal(&v, b"unmasked");
        let new = v.replace_sealed("cam-1", &old, b"masked", &public).unwrap();
        assert_eq!(only(&v), b"masked");
        assert!(!old.path.exists() && new.path.exists());
        assert_eq!(files(&d), 1);

        // Replacing a row that is gone (another deletion replaced it meanwhile) changes nothing.
        let e = v
            .replace_sealed("cam-1", &old, b"another copy", &public)
            .unwrap_err();
        assert!(matches!(e, VaultError::NotReplaced(_)), "{e}");
        assert_eq!(only(&v), b"masked");
        assert_eq!(files(&d), 1);

        // Killed after the new file was sealed, before the index transaction: the old one stands.
        let mut s = v.begin_sealed("cam-1", t + 1, &public).unwrap();
        s.write(b"masked again").unwrap();
        let (orphan, _) = s.writer.finish().unwrap();
        drop(v);
        let v = Vault::open(&d, key.clone()).unwrap().with_trail(trail().0);
        assert_eq!(only(&v), b"masked");
        assert!(!orphan.exists());

        // Killed after the transaction, before the old file was removed: that file, keyless now, goes.
        let kept = std::fs::read(&new.path).unwrap();
        let newer = v
            .replace_sealed("cam-1", &new, b"masked twice", &public)
            .unwrap();
        std::fs::write(&new.path, kept).unwrap();
        drop(v);
        let v = Vault::open(&d, key).unwrap().with_trail(trail().0);
        assert_eq!(only(&v), b"masked twice");
        assert!(!new.path.exists() && newer.path.exists());
        assert_eq!(files(&d), 1);
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
