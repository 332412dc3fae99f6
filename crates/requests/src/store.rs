//! Requests on disk: one JSON file per request in a private folder (0700, files 0600), each change written
//! to a temporary file, synced and renamed over the old one, so a request survives kill -9 whole (the old
//! version or the new). Ids are numbered per year and prefix (`DSR-2026-0001`, `SA-2026-0001`); a new id is
//! claimed by creating its file exclusively, so the service and the CLI never hand out the same one.

use crate::{Opening, RequestError, Result, SubjectRequest};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

pub struct Store {
    dir: PathBuf,
    /// One writer per process at a time (read-change-write of one request).
    lock: parking_lot::Mutex<()>,
}

const SUBJECT: &str = "DSR";
const OPENING: &str = "SA";

fn store_err(path: &Path, e: impl std::fmt::Display) -> RequestError {
    RequestError::Store(format!("{}: {e}", path.display()))
}

/// `DSR-2026-0001` → ("DSR", 2026, 1).
fn parse_id(id: &str) -> Option<(&str, i32, u32)> {
    let mut p = id.split('-');
    let (prefix, year, n) = (p.next()?, p.next()?, p.next()?);
    if p.next().is_some() || year.len() != 4 || n.len() < 4 {
        return None;
    }
    Some((prefix, year.parse().ok()?, n.parse().ok()?))
}

impl Store {
    pub fn open(dir: &Path) -> Result<Store> {
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| store_err(dir, format!("cannot create: {e}")))?;
        }
        Ok(Store {
            dir: dir.to_path_buf(),
            lock: parking_lot::Mutex::new(()),
        })
    }

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Only well-formed ids of the kind asked reach the file system (no `../` from a URL).
    fn checked<'a>(&self, id: &'a str, prefix: &str) -> Result<&'a str> {
        match parse_id(id) {
            Some((p, _, _)) if p == prefix => Ok(id),
            _ => Err(RequestError::NotFound(id.chars().take(40).collect())),
        }
    }

    fn read<T: DeserializeOwned>(&self, id: &str) -> Result<Option<T>> {
        let path = self.path(id);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(store_err(&path, e)),
        };
        if bytes.is_empty() {
            // An id claimed by a process that died before writing it.
            return Ok(None);
        }
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| store_err(&path, format!("unreadable: {e}")))
    }

    fn write<T: Serialize>(&self, id: &str, v: &T) -> Result<()> {
        let path = self.path(id);
        let tmp = self.dir.join(format!(".{id}.json.part"));
        let bytes = serde_json::to_vec_pretty(v).map_err(|e| store_err(&path, e))?;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| store_err(&tmp, e))?;
        f.write_all(&bytes)
            .and_then(|()| f.sync_all())
            .map_err(|e| store_err(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| store_err(&path, e))?;
        if let Ok(d) = std::fs::File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Claims the next id of `prefix` in `year`.
    fn claim(&self, prefix: &str, year: i32) -> Result<String> {
        let mut n = self
            .ids(prefix)?
            .iter()
            .filter_map(|id| parse_id(id))
            .filter(|(_, y, _)| *y == year)
            .map(|(_, _, n)| n)
            .max()
            .unwrap_or(0);
        loop {
            n += 1;
            let id = format!("{prefix}-{year}-{n:04}");
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(self.path(&id))
            {
                Ok(_) => {
                    // The claim is durable before the id is used: after a power cut it is not handed out again.
                    std::fs::File::open(&self.dir)
                        .and_then(|d| d.sync_all())
                        .map_err(|e| store_err(&self.dir, e))?;
                    return Ok(id);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(store_err(&self.dir, e)),
            }
        }
    }

    fn ids(&self, prefix: &str) -> Result<Vec<String>> {
        let mut ids: Vec<String> = std::fs::read_dir(&self.dir)
            .map_err(|e| store_err(&self.dir, e))?
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .filter_map(|n| n.strip_suffix(".json").map(str::to_string))
            .filter(|id| parse_id(id).is_some_and(|(p, _, _)| p == prefix))
            .collect();
        ids.sort();
        Ok(ids)
    }

    fn all<T: DeserializeOwned>(&self, prefix: &str) -> Result<Vec<T>> {
        let mut out = Vec::new();
        for id in self.ids(prefix)? {
            if let Some(v) = self.read(&id)? {
                out.push(v);
            }
        }
        Ok(out)
    }

    /// Stores a new subject request under a fresh id (the year of its receipt). `first` runs with the id
    /// before anything is written (the ledger row): when it fails the id stays claimed but empty, and nothing
    /// is stored.
    pub fn add_subject(
        &self,
        mut r: SubjectRequest,
        year: i32,
        first: impl FnOnce(&SubjectRequest) -> Result<()>,
    ) -> Result<SubjectRequest> {
        let _g = self.lock.lock();
        r.id = self.claim(SUBJECT, year)?;
        first(&r)?;
        self.write(&r.id, &r)?;
        Ok(r)
    }

    pub fn subject(&self, id: &str) -> Result<SubjectRequest> {
        let id = self.checked(id, SUBJECT)?;
        self.read(id)?
            .ok_or_else(|| RequestError::NotFound(id.to_string()))
    }

    pub fn subjects(&self) -> Result<Vec<SubjectRequest>> {
        self.all(SUBJECT)
    }

    /// Changes a subject request: `f` sees the stored version; nothing is written when it fails.
    pub fn update_subject<T>(
        &self,
        id: &str,
        f: impl FnOnce(&mut SubjectRequest) -> Result<T>,
    ) -> Result<(SubjectRequest, T)> {
        let _g = self.lock.lock();
        let mut r = self.subject(id)?;
        let out = f(&mut r)?;
        self.write(&r.id, &r)?;
        Ok((r, out))
    }

    /// Stores a new opening; `first` as for [`Store::add_subject`].
    pub fn add_opening(
        &self,
        mut o: Opening,
        year: i32,
        first: impl FnOnce(&Opening) -> Result<()>,
    ) -> Result<Opening> {
        let _g = self.lock.lock();
        o.id = self.claim(OPENING, year)?;
        first(&o)?;
        self.write(&o.id, &o)?;
        Ok(o)
    }

    pub fn opening(&self, id: &str) -> Result<Opening> {
        let id = self.checked(id, OPENING)?;
        self.read(id)?
            .ok_or_else(|| RequestError::NotFound(id.to_string()))
    }

    pub fn openings(&self) -> Result<Vec<Opening>> {
        self.all(OPENING)
    }

    pub fn update_opening<T>(
        &self,
        id: &str,
        f: impl FnOnce(&mut Opening) -> Result<T>,
    ) -> Result<(Opening, T)> {
        let _g = self.lock.lock();
        let mut o = self.opening(id)?;
        let out = f(&mut o)?;
        self.write(&o.id, &o)?;
        Ok((o, out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NewRequest, State};
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn requests_get_their_own_ids_and_survive_a_reopen() {
        let dir = std::env::temp_dir().join(format!("garim-requests-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let s = Store::open(&dir).unwrap();
        let n = NewRequest {
            kind: "existence".into(),
            requester: "홍길동".into(),
            contact: "010".into(),
            cameras: vec!["cam-a".into()],
            from: 0,
            to: 60,
            description: String::new(),
            identity_check: "운전면허증".into(),
        };
        let a = s
            .add_subject(
                SubjectRequest::new(&n, "kim", 0, 10, 24).unwrap(),
                2026,
                |_| Ok(()),
            )
            .unwrap();
        // A step whose first part (its ledger row) fails stores nothing; its claimed id stays empty and is
        // skipped, like one claimed by a process that died, never handed out again.
        let refused = s.add_subject(
            SubjectRequest::new(&n, "kim", 0, 10, 24).unwrap(),
            2026,
            |_| Err(RequestError::Store("ledger full".into())),
        );
        assert!(refused.is_err());
        assert_eq!(std::fs::read(dir.join("DSR-2026-0002.json")).unwrap(), b"");
        let b = s
            .add_subject(
                SubjectRequest::new(&n, "kim", 0, 10, 24).unwrap(),
                2026,
                |_| Ok(()),
            )
            .unwrap();
        assert_eq!(
            (a.id.as_str(), b.id.as_str()),
            ("DSR-2026-0001", "DSR-2026-0003")
        );
        let failed = s.update_subject(&a.id, |r| r.advance(State::Closed, "kim", "", 1));
        assert!(failed.is_err());
        s.update_subject(&a.id, |r| r.advance(State::Checking, "kim", "", 1))
            .unwrap();
        let s2 = Store::open(&dir).unwrap();
        assert_eq!(s2.subject(&a.id).unwrap().state, State::Checking);
        assert_eq!(s2.subjects().unwrap().len(), 2);
        for bad in ["../../etc/passwd", "SA-2026-0001", "DSR-2026-9999"] {
            assert!(
                matches!(s2.subject(bad), Err(RequestError::NotFound(_))),
                "{bad}"
            );
        }
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("DSR-2026-0001.json")), 0o600);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
