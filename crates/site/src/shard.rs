//! Which shard of the site this replica runs, and the claim that keeps two replicas off the same shard.
//!
//! The claim is an exclusive `flock` on `<storage>/shards/shard-K-of-N.lock`, held for the life of the process
//! (the kernel drops it when the process dies, SIGKILL included, so a stale file never blocks a restart). It
//! protects replicas that share one storage path (one node, or an NFS/RWX volume). A second replica asking
//! for a taken shard refuses to start, naming the holder, and leaves a note beside the lock that the holder
//! reports as `garim_shard_conflict` 1 and a log line — so the conflict is visible on the replica that is up
//! and scraped. Replicas on different volumes that share a Postgres index are kept apart by a session advisory
//! lock on the shard's key as well (`vault::ShardLease`), which tells the holder of refused claims the same way.

use anyhow::{Result, anyhow};
use policy::Shard;
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How long a refused claim keeps `garim_shard_conflict` at 1 on the holder.
const CONFLICT_SHOWN_FOR: Duration = Duration::from_secs(300);

/// This machine's hostname (a StatefulSet pod's name), or "" when it cannot be read.
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that many bytes.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return String::new();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// The shard from `--shard`, else `$GARIM_SHARD`, else the whole site.
pub fn resolve(flag: Option<&str>) -> Result<Shard> {
    let (spec, source) = match (flag, std::env::var("GARIM_SHARD").ok()) {
        (Some(s), _) => (s.to_string(), "--shard"),
        (None, Some(s)) if !s.trim().is_empty() => (s, "GARIM_SHARD"),
        _ => return Ok(Shard::WHOLE),
    };
    Shard::parse(&spec, &hostname()).map_err(|e| anyhow!("{source} {e}"))
}

/// A held shard: the lock is released when this is dropped or the process ends.
pub struct ShardClaim {
    pub shard: Shard,
    /// With a shared Postgres index: the replica-wide claim (volumes need not be shared).
    lease: Option<Box<vault::ShardLease>>,
    _file: File,
    note: PathBuf,
    last_note: Option<SystemTime>,
    last_lease_conflict: Option<std::time::Instant>,
}

fn holder_line() -> String {
    format!(
        "pid={} host={} since={}\n",
        std::process::id(),
        hostname(),
        vault::time::utc_stamp(vault::time::unix_now())
    )
}

/// Takes the shard's lock under `storage` and, when the replicas share a Postgres index, the shard's lease in
/// it; or refuses with the holder's pid and host.
pub fn claim(
    storage: &Path,
    shard: Shard,
    index: Option<&vault::PostgresIndex>,
) -> Result<ShardClaim> {
    let dir = storage.join("shards");
    std::fs::create_dir_all(&dir).map_err(|e| {
        anyhow!(
            "cannot create {}: {e}; storage.path must be a writable directory (in a container, mount a volume \
             there that the garim user can write, e.g. `-v garim-data:/var/lib/garim`)",
            dir.display()
        )
    })?;
    let path = dir.join(shard.lock_name());
    let note = path.with_extension("conflict");
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| anyhow!("cannot open the shard lock {}: {e}", path.display()))?;
    // SAFETY: flock on a file descriptor we own.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
            return Err(anyhow!("cannot lock {}: {err}", path.display()));
        }
        let mut holder = String::new();
        let _ = file.read_to_string(&mut holder);
        let holder = holder.trim();
        // Tell the holder (best effort): it shows garim_shard_conflict 1 and logs who tried.
        let _ = std::fs::write(&note, holder_line());
        telemetry::metrics().shard_conflict.set(1);
        return Err(anyhow!(
            "shard {shard} is already claimed by another replica ({}; lock {}); two replicas must never run the \
             same cameras: give this one another shard index (--shard K/{} or GARIM_SHARD, or check the \
             StatefulSet ordinal), or stop the other one",
            if holder.is_empty() {
                "holder unknown"
            } else {
                holder
            },
            path.display(),
            shard.count
        ));
    }
    file.set_len(0)?;
    file.rewind()?;
    file.write_all(holder_line().as_bytes())?;
    file.sync_all()?;
    let last_note = std::fs::metadata(&note).and_then(|m| m.modified()).ok();
    let lease = match index {
        None => None,
        Some(at) => {
            let me = holder_line();
            match vault::ShardLease::try_claim(at, shard.index, shard.count, me.trim())
                .map_err(|e| anyhow!("storage.index_url_env: {e}"))?
            {
                vault::ShardClaimResult::Held(lease) => Some(lease),
                vault::ShardClaimResult::Taken { holder } => {
                    telemetry::metrics().shard_conflict.set(1);
                    return Err(anyhow!(
                        "shard {shard} is already claimed by another replica in the shared index ({holder}); \
                         two replicas must never run the same cameras: give this one another shard index \
                         (--shard K/{} or GARIM_SHARD, or check the StatefulSet ordinal), or stop the other one",
                        shard.count
                    ));
                }
            }
        }
    };
    Ok(ShardClaim {
        shard,
        lease,
        _file: file,
        note,
        last_note,
        last_lease_conflict: None,
    })
}

impl ShardClaim {
    /// Reports refused claims on this shard: logs each new one, and keeps `garim_shard_conflict` at 1 for
    /// five minutes after the last.
    pub fn poll_conflicts(&mut self) {
        self.poll_lease();
        let lease_recent = self
            .last_lease_conflict
            .is_some_and(|t| t.elapsed() < CONFLICT_SHOWN_FOR);
        let Ok(modified) = std::fs::metadata(&self.note).and_then(|m| m.modified()) else {
            telemetry::metrics()
                .shard_conflict
                .set(i64::from(lease_recent));
            return;
        };
        if self.last_note != Some(modified) {
            self.last_note = Some(modified);
            let who = std::fs::read_to_string(&self.note).unwrap_or_default();
            tracing::error!(
                shard = %self.shard,
                other = who.trim(),
                "another replica tried to claim this replica's shard and was refused; check the shard settings"
            );
        }
        let recent = modified.elapsed().is_ok_and(|age| age < CONFLICT_SHOWN_FOR);
        telemetry::metrics()
            .shard_conflict
            .set(i64::from(recent || lease_recent));
    }

    /// The shared-index lease: refused claims by other replicas, and a lease lost with its connection.
    fn poll_lease(&mut self) {
        let Some(lease) = &mut self.lease else { return };
        match lease.poll() {
            Ok(vault::LeaseEvent::Held) => {}
            Ok(vault::LeaseEvent::Refused { who }) => {
                self.last_lease_conflict = Some(std::time::Instant::now());
                tracing::error!(shard = %self.shard, other = %who, "another replica tried to claim this replica's shard in the shared index and was refused; check the shard settings");
            }
            Ok(vault::LeaseEvent::Lost { holder }) => {
                self.last_lease_conflict = Some(std::time::Instant::now());
                tracing::error!(shard = %self.shard, holder = %holder, "this replica's shard lease was lost with its database connection and is now held by another replica: two replicas may be running the same cameras; stop one");
            }
            Err(e) => tracing::warn!(shard = %self.shard, "cannot check the shard lease: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_claim_on_the_same_shard_names_the_holder_and_leaves_a_note() {
        let dir = std::env::temp_dir().join(format!("garim-shard-lock-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let shard = Shard::new(1, 4).unwrap();
        let mut first = claim(&dir, shard, None).unwrap();
        // flock locks belong to the open file description, so a second open in this process conflicts too.
        let e = claim(&dir, shard, None)
            .err()
            .expect("second claim refused");
        let msg = format!("{e:#}");
        assert!(
            msg.contains("shard 1/4") && msg.contains(&format!("pid={}", std::process::id())),
            "{msg}"
        );
        first.poll_conflicts();
        assert_eq!(telemetry::metrics().shard_conflict.get(), 1);
        // Another shard is free.
        assert!(claim(&dir, Shard::new(2, 4).unwrap(), None).is_ok());
        drop(first);
        assert!(claim(&dir, shard, None).is_ok(), "released when dropped");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
