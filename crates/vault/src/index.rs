//! The vault's index: which day keys exist (wrapped by the site key, or destroyed) and where each segment is.
//! Two backends with the same tables and meaning: SQLite in the vault's own folder (one node, the default), and
//! Postgres shared by several replicas, where each segment row also names the node whose volume holds the file
//! (SQLite rows are all the local node's). Destroying a key must leave no readable copy of it in the index:
//! SQLite overwrites freed content in place (`secure_delete`); Postgres keeps the old row version of an UPDATE
//! until a vacuum, so `vacuum_keys` rewrites the keys table after every destruction (see its comment for what
//! remains). The Postgres connection is plain TCP or a Unix socket without TLS (`NoTls`): put the database on
//! a trusted network, or behind a TLS-terminating proxy on localhost.

use crate::VaultError;
use parking_lot::Mutex;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where a Postgres index is: the URL (a secret: it carries the password) and how to show it.
#[derive(Clone)]
pub struct PostgresIndex {
    /// `postgres://user:password@host:port/database`, as libpq and the `postgres` crate read it.
    pub url: String,
    /// The URL with its credentials removed, for errors and logs.
    pub shown: String,
}

impl std::fmt::Debug for PostgresIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PostgresIndex({})", self.shown)
    }
}

/// One segment row as stored: its path relative to the vault folder of `node` (None: this node, SQLite).
pub(crate) struct IndexRow {
    pub id: i64,
    pub node: Option<String>,
    pub camera: String,
    pub day: i64,
    pub start_unix: i64,
    pub end_unix: i64,
    pub bytes: i64,
    pub rel: String,
    pub sha256: String,
    pub sealed: bool,
}

const INSERT_SQLITE: &str = "INSERT OR IGNORE INTO segments (camera, day, start_unix, end_unix, bytes, path, sha256, sealed_key)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
const SELECT_SQLITE: &str = "SELECT id FROM segments WHERE path = ?1";
const INSERT_PG: &str = "INSERT INTO segments (node, camera, day, start_unix, end_unix, bytes, path, sha256, sealed_key)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (node, path) DO NOTHING";
const SELECT_PG: &str = "SELECT id FROM segments WHERE node = $1 AND path = $2";

/// A [`NewSegment`]'s columns, in the order of `INSERT_SQLITE`.
fn sqlite_row<'a>(s: &'a NewSegment<'_>) -> [&'a dyn rusqlite::ToSql; 8] {
    [
        &s.camera,
        &s.day,
        &s.start_unix,
        &s.end_unix,
        &s.bytes,
        &s.rel,
        &s.sha256,
        &s.sealed_key,
    ]
}

/// A [`NewSegment`]'s columns, in the order of `INSERT_PG`.
fn pg_row<'a>(s: &'a NewSegment<'_>) -> [&'a (dyn postgres::types::ToSql + Sync); 9] {
    [
        &s.node,
        &s.camera,
        &s.day,
        &s.start_unix,
        &s.end_unix,
        &s.bytes,
        &s.rel,
        &s.sha256,
        &s.sealed_key,
    ]
}

pub(crate) struct NewSegment<'a> {
    pub node: &'a str,
    pub camera: &'a str,
    pub day: i64,
    pub start_unix: i64,
    pub end_unix: i64,
    pub bytes: i64,
    pub rel: &'a str,
    pub sha256: &'a str,
    pub sealed_key: Option<&'a [u8]>,
}

/// Which segments to list: one camera or all, rows on one node or on all, overlapping [from, to).
pub(crate) struct Filter<'a> {
    pub camera: Option<&'a str>,
    pub node: Option<&'a str>,
    pub from: i64,
    pub to: i64,
}

pub(crate) enum IndexDb {
    Sqlite {
        path: PathBuf,
        conn: Mutex<Connection>,
    },
    Postgres(Box<Pg>),
}

const SQLITE_SCHEMA: &str =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON;
     CREATE TABLE IF NOT EXISTS keys (
         camera TEXT NOT NULL, day INTEGER NOT NULL, wrapped BLOB, created INTEGER NOT NULL,
         destroyed_at INTEGER, logged INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (camera, day));
     CREATE TABLE IF NOT EXISTS segments (
         id INTEGER PRIMARY KEY, camera TEXT NOT NULL, day INTEGER NOT NULL,
         start_unix INTEGER NOT NULL, end_unix INTEGER NOT NULL, bytes INTEGER NOT NULL,
         path TEXT NOT NULL UNIQUE, sha256 TEXT NOT NULL, sealed_key BLOB);
     CREATE INDEX IF NOT EXISTS segments_by_time ON segments (camera, start_unix);";

/// The same tables, plus the node that holds each segment's file (paths are unique per node's volume).
const POSTGRES_SCHEMA: &str = "
     CREATE TABLE IF NOT EXISTS keys (
         camera TEXT NOT NULL, day BIGINT NOT NULL, wrapped BYTEA, created BIGINT NOT NULL,
         destroyed_at BIGINT, logged INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (camera, day));
     CREATE TABLE IF NOT EXISTS segments (
         id BIGSERIAL PRIMARY KEY, node TEXT NOT NULL, camera TEXT NOT NULL, day BIGINT NOT NULL,
         start_unix BIGINT NOT NULL, end_unix BIGINT NOT NULL, bytes BIGINT NOT NULL,
         path TEXT NOT NULL, sha256 TEXT NOT NULL, sealed_key BYTEA, UNIQUE (node, path));
     CREATE INDEX IF NOT EXISTS segments_by_time ON segments (camera, start_unix);
     CREATE INDEX IF NOT EXISTS segments_by_node ON segments (node, camera, day);";

/// Serialises schema creation between replicas starting together (CREATE … IF NOT EXISTS is not race-free).
const SCHEMA_LOCK: i64 = 0x6761_7269_6d00; // "garim\0"

impl IndexDb {
    pub fn open_sqlite(path: &Path) -> Result<IndexDb, VaultError> {
        let idx = |e: rusqlite::Error| VaultError::Index {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        let conn = Connection::open(path).map_err(idx)?;
        conn.execute_batch(SQLITE_SCHEMA).map_err(idx)?;
        Ok(IndexDb::Sqlite {
            path: path.to_path_buf(),
            conn: Mutex::new(conn),
        })
    }

    pub fn open_postgres(at: &PostgresIndex) -> Result<IndexDb, VaultError> {
        let mut config: postgres::Config = at.url.parse().map_err(|e| VaultError::Index {
            path: at.shown.clone(),
            reason: format!("not a Postgres connection URL: {e}"),
        })?;
        // A database that does not answer must not hang the service: connecting is bounded.
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        let pg = Pg {
            password: config.get_password().map(<[u8]>::to_vec),
            config,
            shown: at.shown.clone(),
            client: Mutex::new(None),
        };
        pg.with(|c| {
            let mut tx = c.transaction()?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])?;
            tx.batch_execute(POSTGRES_SCHEMA)?;
            tx.commit()
        })?;
        Ok(IndexDb::Postgres(Box::new(pg)))
    }

    /// Whether several nodes share this index (rows carry their node).
    pub fn is_shared(&self) -> bool {
        matches!(self, IndexDb::Postgres(_))
    }

    /// Where the index is, for messages (never the credentials).
    pub fn describe(&self) -> String {
        match self {
            IndexDb::Sqlite { path, .. } => path.display().to_string(),
            IndexDb::Postgres(pg) => pg.shown.clone(),
        }
    }

    fn sqlite<T>(
        &self,
        conn: &Mutex<Connection>,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, VaultError> {
        f(&conn.lock()).map_err(|e| VaultError::Index {
            path: self.describe(),
            reason: e.to_string(),
        })
    }

    /// The wrapped key of a day: None when there is no row, Some(None) when it was destroyed.
    pub fn wrapped_key(
        &self,
        camera: &str,
        day: i64,
    ) -> Result<Option<Option<Vec<u8>>>, VaultError> {
        match self {
            IndexDb::Sqlite { conn, .. } => self.sqlite(conn, |db| {
                db.query_row(
                    "SELECT wrapped FROM keys WHERE camera = ?1 AND day = ?2",
                    params![camera, day],
                    |r| r.get::<_, Option<Vec<u8>>>(0),
                )
                .optional()
            }),
            IndexDb::Postgres(pg) => pg.with(|c| {
                c.query_opt(
                    "SELECT wrapped FROM keys WHERE camera = $1 AND day = $2",
                    &[&camera, &day],
                )
                .map(|r| r.map(|r| r.get::<_, Option<Vec<u8>>>(0)))
            }),
        }
    }

    /// Stores a day's wrapped key unless the day already has a row (another process may have made it first).
    /// Returns whether this one was stored.
    pub fn insert_key(
        &self,
        camera: &str,
        day: i64,
        wrapped: &[u8],
        created: i64,
    ) -> Result<bool, VaultError> {
        let n = match self {
            IndexDb::Sqlite { conn, .. } => self.sqlite(conn, |db| {
                db.execute(
                    "INSERT OR IGNORE INTO keys (camera, day, wrapped, created) VALUES (?1, ?2, ?3, ?4)",
                    params![camera, day, wrapped, created],
                )
            })? as u64,
            IndexDb::Postgres(pg) => pg.with(|c| {
                c.execute(
                    "INSERT INTO keys (camera, day, wrapped, created) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (camera, day) DO NOTHING",
                    &[&camera, &day, &wrapped, &created],
                )
            })?,
        };
        Ok(n == 1)
    }

    /// Makes sure a sealed stream's day has its marker row (no key: those are per segment) and says whether
    /// the day was already destroyed.
    pub fn mark_day(&self, stream: &str, day: i64, created: i64) -> Result<bool, VaultError> {
        let destroyed = match self {
            IndexDb::Sqlite { conn, .. } => self.sqlite(conn, |db| {
                db.execute(
                    "INSERT OR IGNORE INTO keys (camera, day, wrapped, created) VALUES (?1, ?2, X'', ?3)",
                    params![stream, day, created],
                )?;
                db.query_row(
                    "SELECT destroyed_at IS NOT NULL FROM keys WHERE camera = ?1 AND day = ?2",
                    params![stream, day],
                    |r| r.get::<_, bool>(0),
                )
                .optional()
            })?,
            IndexDb::Postgres(pg) => pg.with(|c| {
                c.execute(
                    "INSERT INTO keys (camera, day, wrapped, created) VALUES ($1, $2, ''::bytea, $3)
                     ON CONFLICT (camera, day) DO NOTHING",
                    &[&stream, &day, &created],
                )?;
                c.query_opt(
                    "SELECT destroyed_at IS NOT NULL FROM keys WHERE camera = $1 AND day = $2",
                    &[&stream, &day],
                )
                .map(|r| r.map(|r| r.get::<_, bool>(0)))
            })?,
        };
        Ok(destroyed == Some(true))
    }

    /// Indexes a segment (again: a path already indexed on that node keeps its row) and returns its id.
    pub fn insert_segment(&self, s: &NewSegment<'_>) -> Result<i64, VaultError> {
        match self {
            IndexDb::Sqlite { conn, .. } => self.sqlite(conn, |db| {
                db.execute(INSERT_SQLITE, sqlite_row(s))?;
                db.query_row(SELECT_SQLITE, params![s.rel], |r| r.get(0))
            }),
            IndexDb::Postgres(pg) => pg.with(|c| {
                c.execute(INSERT_PG, &pg_row(s))?;
                c.query_one(SELECT_PG, &[&s.node, &s.rel]).map(|r| r.get(0))
            }),
        }
    }

    /// Indexes a segment and deletes the row `old` in one transaction, so that a crash leaves either the old
    /// row or the new one, never both and never neither. Where `old` is no longer indexed (replaced or deleted
    /// meanwhile) or the new path is indexed already, nothing changes: [`VaultError::NotReplaced`].
    pub fn replace_segment(&self, old: i64, s: &NewSegment<'_>) -> Result<i64, VaultError> {
        // Some(id) when both the insert and the delete touched exactly one row; None rolls back (the
        // transaction is dropped uncommitted).
        let done = match self {
            IndexDb::Sqlite { conn, .. } => self.sqlite(conn, |db| {
                let tx = db.unchecked_transaction()?;
                if tx.execute(INSERT_SQLITE, sqlite_row(s))? != 1
                    || tx.execute("DELETE FROM segments WHERE id = ?1", params![old])? != 1
                {
                    return Ok(None);
                }
                let id = tx.query_row(SELECT_SQLITE, params![s.rel], |r| r.get(0))?;
                tx.commit()?;
                Ok(Some(id))
            })?,
            IndexDb::Postgres(pg) => pg.with(|c| {
                let mut tx = c.transaction()?;
                if tx.execute(INSERT_PG, &pg_row(s))? != 1
                    || tx.execute("DELETE FROM segments WHERE id = $1", &[&old])? != 1
                {
                    return Ok(None);
                }
                let id: i64 = tx.query_one(SELECT_PG, &[&s.node, &s.rel])?.get(0);
                tx.commit()?;
                Ok(Some(id))
            })?,
        };
        done.ok_or_else(|| {
            VaultError::NotReplaced(format!(
                "segment row {old} is no longer indexed, or {} is indexed already",
                s.rel
            ))
        })
    }

    /// Segments matching `f`, ordered by camera and start (two started in one second in the order they were
    /// indexed). With SQLite every row is this node's, so the node filter has nothing to exclude.
    pub fn segments(&self, f: &Filter<'_>) -> Result<Vec<IndexRow>, VaultError> {
        match self {
            IndexDb::Sqlite { conn, .. } => self.sqlite(conn, |db| {
                let mut st = db.prepare(
                    "SELECT id, camera, day, start_unix, end_unix, bytes, path, sha256, sealed_key IS NOT NULL
                     FROM segments
                     WHERE (?1 IS NULL OR camera = ?1) AND end_unix > ?2 AND start_unix < ?3
                     ORDER BY camera, start_unix, id",
                )?;
                st.query_map(params![f.camera, f.from, f.to], |r| {
                    Ok(IndexRow {
                        id: r.get(0)?,
                        node: None,
                        camera: r.get(1)?,
                        day: r.get(2)?,
                        start_unix: r.get(3)?,
                        end_unix: r.get(4)?,
                        bytes: r.get(5)?,
                        rel: r.get(6)?,
                        sha256: r.get(7)?,
                        sealed: r.get(8)?,
                    })
                })?
                .collect()
            }),
            IndexDb::Postgres(pg) => pg.with(|c| {
                let rows = c.query(
                    "SELECT id, node, camera, day, start_unix, end_unix, bytes, path, sha256,
                            sealed_key IS NOT NULL
                     FROM segments
                     WHERE ($1::TEXT IS NULL OR camera = $1) AND ($2::TEXT IS NULL OR node = $2)
                       AND end_unix > $3 AND start_unix < $4
                     ORDER BY camera, start_unix, node, id",
                    &[&f.camera, &f.node, &f.from, &f.to],
                )?;
                Ok(rows
                    .iter()
                    .map(|r| IndexRow {
                        id: r.get(0),
                        node: Some(r.get(1)),
                        camera: r.get(2),
                        day: r.get(3),
                        start_unix: r.get(4),
                        end_unix: r.get(5),
                        bytes: r.get(6),
                        rel: r.get(7),
                        sha256: r.get(8),
                        sealed: r.get(9),
                    })
                    .collect())
            }),
        }
    }

    /// The relative paths indexed on `node`.
    pub fn paths_on(&self, node: &str) -> Result<HashSet<String>, VaultError> {
        match self {
            IndexDb::Sqlite { conn, .. } => self.sqlite(conn, |db| {
                let mut st = db.prepare("SELECT path FROM segments")?;
                st.query_map([], |r| r.get::<_, String>(0))?.collect()
            }),
            IndexDb::Postgres(pg) => pg.with(|c| {
                let rows = c.query("SELECT path FROM segments WHERE node = $1", &[&node])?;
                Ok(rows.iter().map(|r| r.get(0)).collect())
            }),
        }
    }

    /// A sealed segment's wrapped key.
    pub fn sealed_key(&self, id: i64) -> Result<Option<Vec<u8>>, VaultError> {
        let k = match self {
            IndexDb::Sqlite { conn, .. } => self.sqlite(conn, |db| {
                db.query_row(
                    "SELECT sealed_key FROM segments WHERE id = ?1",
                    params![id],
                    |r| r.get::<_, Option<Vec<u8>>>(0),
                )
                .optional()
            })?,
            IndexDb::Postgres(pg) => pg.with(|c| {
                c.query_opt("SELECT sealed_key FROM segments WHERE id = $1", &[&id])
                    .map(|r| r.map(|r| r.get::<_, Option<Vec<u8>>>(0)))
            })?,
        };
        Ok(k.flatten())
    }

    /// Days whose destruction has not been recorded yet: (camera, day, key already destroyed).
    pub fn open_days(&self) -> Result<Vec<(String, i64, bool)>, VaultError> {
        match self {
            IndexDb::Sqlite { conn, .. } => self.sqlite(conn, |db| {
                let mut st = db.prepare(
                    "SELECT camera, day, destroyed_at IS NOT NULL FROM keys WHERE logged = 0",
                )?;
                st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect()
            }),
            IndexDb::Postgres(pg) => pg.with(|c| {
                let rows = c.query(
                    "SELECT camera, day, destroyed_at IS NOT NULL FROM keys WHERE logged = 0
                     ORDER BY camera, day",
                    &[],
                )?;
                Ok(rows
                    .iter()
                    .map(|r| (r.get(0), r.get(1), r.get(2)))
                    .collect())
            }),
        }
    }

    /// Destroys a day's key: the wrapped key is overwritten with NULL and the row keeps `destroyed_at`.
    /// Returns whether this call destroyed it (false when it already was).
    pub fn destroy_key(&self, camera: &str, day: i64, now_unix: i64) -> Result<bool, VaultError> {
        let n = match self {
            IndexDb::Sqlite { conn, .. } => self.sqlite(conn, |db| {
                db.execute(
                    "UPDATE keys SET wrapped = NULL, destroyed_at = ?3
                     WHERE camera = ?1 AND day = ?2 AND destroyed_at IS NULL",
                    params![camera, day, now_unix],
                )
            })? as u64,
            IndexDb::Postgres(pg) => pg.with(|c| {
                c.execute(
                    "UPDATE keys SET wrapped = NULL, destroyed_at = $3
                     WHERE camera = $1 AND day = $2 AND destroyed_at IS NULL",
                    &[&camera, &day, &now_unix],
                )
            })?,
        };
        Ok(n == 1)
    }

    pub fn delete_segment(&self, id: i64) -> Result<(), VaultError> {
        match self {
            IndexDb::Sqlite { conn, .. } => self
                .sqlite(conn, |db| {
                    db.execute("DELETE FROM segments WHERE id = ?1", params![id])
                })
                .map(drop),
            IndexDb::Postgres(pg) => pg
                .with(|c| c.execute("DELETE FROM segments WHERE id = $1", &[&id]))
                .map(drop),
        }
    }

    /// Marks that a day's 파기 record was written.
    pub fn mark_logged(&self, camera: &str, day: i64) -> Result<(), VaultError> {
        match self {
            IndexDb::Sqlite { conn, .. } => self
                .sqlite(conn, |db| {
                    db.execute(
                        "UPDATE keys SET logged = 1 WHERE camera = ?1 AND day = ?2",
                        params![camera, day],
                    )
                })
                .map(drop),
            IndexDb::Postgres(pg) => pg
                .with(|c| {
                    c.execute(
                        "UPDATE keys SET logged = 1 WHERE camera = $1 AND day = $2",
                        &[&camera, &day],
                    )
                })
                .map(drop),
        }
    }

    /// Days whose key is destroyed but which still have segment rows on `node` (copies left on a node that no
    /// longer serves the camera, or a sweep interrupted between key and files).
    pub fn destroyed_days_on(&self, node: &str) -> Result<Vec<(String, i64)>, VaultError> {
        match self {
            IndexDb::Sqlite { conn, .. } => self.sqlite(conn, |db| {
                let mut st = db.prepare(
                    "SELECT DISTINCT s.camera, s.day FROM segments s
                     JOIN keys k ON k.camera = s.camera AND k.day = s.day
                     WHERE k.destroyed_at IS NOT NULL ORDER BY s.camera, s.day",
                )?;
                st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect()
            }),
            IndexDb::Postgres(pg) => pg.with(|c| {
                let rows = c.query(
                    "SELECT DISTINCT s.camera, s.day FROM segments s
                     JOIN keys k ON k.camera = s.camera AND k.day = s.day
                     WHERE s.node = $1 AND k.destroyed_at IS NOT NULL ORDER BY s.camera, s.day",
                    &[&node],
                )?;
                Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
            }),
        }
    }

    /// Per camera, for the segments on `node`: bytes stored and the start of the oldest segment.
    pub fn usage(&self, node: &str) -> Result<Vec<(String, i64, i64)>, VaultError> {
        match self {
            IndexDb::Sqlite { conn, .. } => self.sqlite(conn, |db| {
                let mut st = db.prepare(
                    "SELECT camera, SUM(bytes), MIN(start_unix) FROM segments GROUP BY camera",
                )?;
                st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect()
            }),
            IndexDb::Postgres(pg) => pg.with(|c| {
                let rows = c.query(
                    "SELECT camera, SUM(bytes)::BIGINT, MIN(start_unix) FROM segments WHERE node = $1
                     GROUP BY camera ORDER BY camera",
                    &[&node],
                )?;
                Ok(rows
                    .iter()
                    .map(|r| (r.get(0), r.get(1), r.get(2)))
                    .collect())
            }),
        }
    }

    /// After keys were destroyed: leave no old version of them readable in the index.
    ///
    /// SQLite has nothing to do (`secure_delete` overwrote the old value in its page when it was updated).
    /// Postgres's UPDATE leaves the old row version, wrapped key included, as a dead tuple in the table's pages
    /// until a vacuum; a plain VACUUM removes that version but may leave its bytes in the page's free space, so
    /// the table is rewritten (`VACUUM FULL`: a few MB for 1,790 cameras × 30 days, under an exclusive lock on
    /// `keys` for that long). What remains afterwards, all of it only in the site-key-wrapped form: the old
    /// table file's blocks as free space of the file system, the write-ahead log until its segments are
    /// recycled after a checkpoint, and whatever copies the operator keeps (WAL archives, base backups,
    /// streaming replicas). A transaction already open when the key was destroyed keeps the old version alive
    /// until it ends.
    pub fn vacuum_keys(&self) -> Result<(), VaultError> {
        match self {
            IndexDb::Sqlite { .. } => Ok(()),
            IndexDb::Postgres(pg) => pg.with(|c| {
                // Never queue behind a long lock holder for long: the next sweep tries again.
                c.batch_execute("SET lock_timeout = '10s'")?;
                let r = c.batch_execute("VACUUM FULL keys");
                c.batch_execute("RESET lock_timeout")?;
                r
            }),
        }
    }

    /// Runs raw SQL on the SQLite index (tests that simulate a crash half-way).
    #[cfg(test)]
    pub fn execute_sqlite(&self, sql: &str) {
        if let IndexDb::Sqlite { conn, .. } = self {
            conn.lock().execute(sql, []).unwrap();
        }
    }
}

/// A Postgres connection, made again when it was lost (the database restarted, the network dropped).
pub(crate) struct Pg {
    config: postgres::Config,
    password: Option<Vec<u8>>,
    shown: String,
    client: Mutex<Option<postgres::Client>>,
}

impl Pg {
    fn with<T>(
        &self,
        f: impl FnOnce(&mut postgres::Client) -> Result<T, postgres::Error>,
    ) -> Result<T, VaultError> {
        let mut guard = self.client.lock();
        if guard.as_ref().is_none_or(postgres::Client::is_closed) {
            *guard = Some(
                self.config
                    .connect(postgres::NoTls)
                    .map_err(|e| self.err(&e))?,
            );
        }
        let client = guard.as_mut().expect("connected above");
        let r = f(client).map_err(|e| self.err(&e));
        if client.is_closed() {
            *guard = None;
        }
        r
    }

    /// The error with the password blanked out, should the driver ever quote it.
    fn err(&self, e: &postgres::Error) -> VaultError {
        // The driver's Display is the kind only ("db error"); the server's message is in the source chain.
        let mut reason = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            reason.push_str(&format!(": {s}"));
            source = s.source();
        }
        if let Some(p) = self
            .password
            .as_deref()
            .and_then(|p| std::str::from_utf8(p).ok())
            .filter(|p| !p.is_empty())
        {
            reason = reason.replace(p, "***");
        }
        VaultError::Index {
            path: self.shown.clone(),
            reason,
        }
    }
}

/// Advisory-lock key space of shard claims ("gari").
const SHARD_LOCK_CLASS: i32 = 0x6761_7269;

/// A replica's claim on its shard when replicas share a Postgres index (and so need not share a volume): a
/// session-level advisory lock on a connection of its own, held while the process runs. A second replica
/// asking for the same shard is refused with the holder's name, and leaves a row the holder reports.
pub struct ShardLease {
    config: postgres::Config,
    client: postgres::Client,
    shard: String,
    key: i32,
    last_conflict: Option<i64>,
    errs: Pg,
}

/// The outcome of `ShardLease::try_claim`.
pub enum ShardClaimResult {
    Held(Box<ShardLease>),
    /// Another replica holds the shard: its connection's application name (garim puts pid and host there).
    Taken {
        holder: String,
    },
}

/// What `ShardLease::poll` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseEvent {
    /// Still held, nothing new.
    Held,
    /// Another replica tried to claim this shard and was refused (who, as it named itself).
    Refused { who: String },
    /// The connection holding the lock dropped and the shard is now held by someone else.
    Lost { holder: String },
}

const SHARD_CONFLICTS_SCHEMA: &str = "CREATE TABLE IF NOT EXISTS shard_conflicts (
    shard TEXT PRIMARY KEY, at BIGINT NOT NULL, who TEXT NOT NULL)";

impl ShardLease {
    /// Tries to take shard `index` of `count`; `holder` (pid, host) is what a refused replica is told.
    pub fn try_claim(
        at: &PostgresIndex,
        index: u32,
        count: u32,
        holder: &str,
    ) -> Result<ShardClaimResult, VaultError> {
        let mut config: postgres::Config = at.url.parse().map_err(|e| VaultError::Index {
            path: at.shown.clone(),
            reason: format!("not a Postgres connection URL: {e}"),
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        // Postgres keeps application names to 63 bytes.
        let name: String = format!("garim {holder}").chars().take(60).collect();
        config.application_name(&name);
        let errs = Pg {
            password: config.get_password().map(<[u8]>::to_vec),
            config: config.clone(),
            shown: at.shown.clone(),
            client: Mutex::new(None),
        };
        let mut client = config.connect(postgres::NoTls).map_err(|e| errs.err(&e))?;
        let shard = format!("{index}/{count}");
        let key = i32::try_from((u64::from(count) << 16) | u64::from(index)).map_err(|_| {
            VaultError::Index {
                path: at.shown.clone(),
                reason: format!("shard {shard} is out of range for a lease"),
            }
        })?;
        let run = |c: &mut postgres::Client| -> Result<bool, postgres::Error> {
            c.batch_execute(SHARD_CONFLICTS_SCHEMA)?;
            Ok(c.query_one(
                "SELECT pg_try_advisory_lock($1, $2)",
                &[&SHARD_LOCK_CLASS, &key],
            )?
            .get(0))
        };
        if run(&mut client).map_err(|e| errs.err(&e))? {
            let last_conflict = client
                .query_opt("SELECT at FROM shard_conflicts WHERE shard = $1", &[&shard])
                .map_err(|e| errs.err(&e))?
                .map(|r| r.get(0));
            return Ok(ShardClaimResult::Held(Box::new(ShardLease {
                config,
                client,
                shard,
                key,
                last_conflict,
                errs,
            })));
        }
        let holder = lock_holder(&mut client, key).map_err(|e| errs.err(&e))?;
        client
            .execute(
                "INSERT INTO shard_conflicts (shard, at, who) VALUES ($1, $2, $3)
                 ON CONFLICT (shard) DO UPDATE SET at = EXCLUDED.at, who = EXCLUDED.who",
                &[&shard, &crate::time::unix_now(), &name],
            )
            .map_err(|e| errs.err(&e))?;
        Ok(ShardClaimResult::Taken { holder })
    }

    /// Reports refused claims since the last poll, and whether the lock is still held (a dropped connection
    /// releases it: the lease is taken again if nobody else has it).
    pub fn poll(&mut self) -> Result<LeaseEvent, VaultError> {
        if self.client.is_closed() {
            let mut client = self
                .config
                .connect(postgres::NoTls)
                .map_err(|e| self.errs.err(&e))?;
            let got: bool = client
                .query_one(
                    "SELECT pg_try_advisory_lock($1, $2)",
                    &[&SHARD_LOCK_CLASS, &self.key],
                )
                .map_err(|e| self.errs.err(&e))?
                .get(0);
            if !got {
                let holder = lock_holder(&mut client, self.key).map_err(|e| self.errs.err(&e))?;
                return Ok(LeaseEvent::Lost { holder });
            }
            self.client = client;
        }
        let row = self
            .client
            .query_opt(
                "SELECT at, who FROM shard_conflicts WHERE shard = $1",
                &[&self.shard],
            )
            .map_err(|e| self.errs.err(&e))?;
        if let Some(r) = row {
            let at: i64 = r.get(0);
            if self.last_conflict != Some(at) {
                self.last_conflict = Some(at);
                return Ok(LeaseEvent::Refused { who: r.get(1) });
            }
        }
        Ok(LeaseEvent::Held)
    }
}

fn lock_holder(c: &mut postgres::Client, key: i32) -> Result<String, postgres::Error> {
    let row = c.query_opt(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
           AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid LIMIT 1",
        &[&i64::from(SHARD_LOCK_CLASS), &i64::from(key)],
    )?;
    Ok(row
        .map(|r| r.get::<_, String>(0))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "holder unknown".into()))
}
