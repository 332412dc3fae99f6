//! Where users and sessions are kept: a SQLite file beside the service (one node), or Postgres shared by
//! replicas. Both have the same two tables and are driven by the same SQL, written once with `$n`
//! placeholders (SQLite gets them as `?n`), every value bound, never spliced. The directory's logic runs in
//! a transaction closure over the small [`Tx`] interface, so it is written once for both backends.
//! Postgres is reached without TLS (`NoTls`), as the vault index is: put it on a trusted network.

use crate::AccessError;
use parking_lot::Mutex;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, TransactionBehavior};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::time::Duration;

/// A bound value.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arg<'a> {
    Int(i64),
    Text(&'a str),
    OptText(Option<&'a str>),
}

/// A value read back.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Int(i64),
    Text(String),
    Null,
}

pub(crate) struct Row(Vec<Cell>);

impl Row {
    pub fn int(&self, i: usize) -> i64 {
        match &self.0[i] {
            Cell::Int(v) => *v,
            other => panic!("column {i} is {other:?}, the schema says integer"),
        }
    }

    pub fn text(&self, i: usize) -> String {
        self.opt_text(i)
            .unwrap_or_else(|| panic!("column {i} is null, the schema says not null"))
    }

    pub fn opt_text(&self, i: usize) -> Option<String> {
        match &self.0[i] {
            Cell::Text(s) => Some(s.clone()),
            Cell::Null => None,
            other => panic!("column {i} is {other:?}, the schema says text"),
        }
    }
}

/// What a transaction may do.
pub(crate) trait Tx {
    fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64, AccessError>;
    fn query(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<Row>, AccessError>;
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Reads only.
    Read,
    /// Writes that need no ordering against other writers (sessions).
    Write,
    /// Read-check-write on users (the last manager rule): serialised across every process on the store.
    Exclusive,
}

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS access_users (
        name TEXT PRIMARY KEY, role TEXT NOT NULL, person_id TEXT, phc TEXT NOT NULL,
        disabled BIGINT NOT NULL DEFAULT 0, created_ms BIGINT NOT NULL, updated_ms BIGINT NOT NULL);
    CREATE TABLE IF NOT EXISTS access_sessions (
        digest TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, user_name TEXT NOT NULL, kind TEXT NOT NULL,
        client TEXT NOT NULL, created_ms BIGINT NOT NULL, last_seen_ms BIGINT NOT NULL);
    CREATE INDEX IF NOT EXISTS access_sessions_by_user ON access_sessions (user_name);";

/// SQLite settings: WAL for readers beside the writer; secure_delete so ended sessions' rows are overwritten.
const SQLITE_PRAGMAS: &str =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON;";

/// Advisory-lock key for schema creation and exclusive user changes ("access").
const USERS_LOCK: i64 = 0x6163_6365_7373;

pub(crate) enum Store {
    Sqlite {
        shown: String,
        conn: Mutex<Connection>,
    },
    Postgres(Box<Pg>),
}

impl Store {
    pub fn open_sqlite(path: &Path) -> Result<Store, AccessError> {
        let shown = path.display().to_string();
        let err = |what: String| AccessError::Store {
            what,
            shown: shown.clone(),
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.exists() {
                // Only folders made here are set to 0700: an existing one is the operator's to decide.
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .map_err(|e| err(format!("cannot create folder {}: {e}", dir.display())))?;
            }
        }
        // Created 0600 before SQLite opens it: SQLite gives its -wal and -shm files the same mode.
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| err(format!("cannot open: {e}")))?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| err(format!("cannot set mode 0600: {e}")))?;
        let conn = Connection::open(path).map_err(|e| err(e.to_string()))?;
        // Another process (the CLI) may hold the write lock for a moment.
        conn.busy_timeout(Duration::from_secs(5))
            .map_err(|e| err(e.to_string()))?;
        conn.execute_batch(SQLITE_PRAGMAS)
            .and_then(|()| conn.execute_batch(SCHEMA))
            .and_then(|()| conn.execute_batch(crate::shares::SCHEMA))
            .map_err(|e| err(e.to_string()))?;
        Ok(Store::Sqlite {
            shown,
            conn: Mutex::new(conn),
        })
    }

    pub fn open_postgres(url: &str, shown: &str) -> Result<Store, AccessError> {
        let mut config: postgres::Config = url.parse().map_err(|e| AccessError::Store {
            what: format!("not a Postgres connection URL: {e}"),
            shown: shown.to_string(),
        })?;
        // A database that does not answer must not hang a login: connecting is bounded.
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        let pg = Pg {
            password: config
                .get_password()
                .and_then(|p| std::str::from_utf8(p).ok())
                .filter(|p| !p.is_empty())
                .map(str::to_string),
            config,
            shown: shown.to_string(),
            client: Mutex::new(None),
        };
        let store = Store::Postgres(Box::new(pg));
        // CREATE … IF NOT EXISTS is not race-free between replicas starting together: under the lock.
        store.tx(Mode::Exclusive, |tx| {
            for stmt in SCHEMA
                .split(';')
                .chain(crate::shares::SCHEMA.split(';'))
                .filter(|s| !s.trim().is_empty())
            {
                tx.execute(stmt, &[])?;
            }
            Ok(())
        })?;
        Ok(store)
    }

    /// Where the store is, for messages (never credentials).
    pub fn shown(&self) -> &str {
        match self {
            Store::Sqlite { shown, .. } => shown,
            Store::Postgres(pg) => &pg.shown,
        }
    }

    /// Runs `f` in a transaction, committed when it returns Ok and rolled back otherwise.
    pub fn tx<T>(
        &self,
        mode: Mode,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, AccessError>,
    ) -> Result<T, AccessError> {
        match self {
            Store::Sqlite { shown, conn } => {
                let err = |e: rusqlite::Error| AccessError::Store {
                    what: e.to_string(),
                    shown: shown.clone(),
                };
                let mut conn = conn.lock();
                // IMMEDIATE takes the write lock up front, so a read-check-write cannot interleave with
                // another process's.
                let behavior = if mode == Mode::Read {
                    TransactionBehavior::Deferred
                } else {
                    TransactionBehavior::Immediate
                };
                let tx = conn.transaction_with_behavior(behavior).map_err(err)?;
                let mut t = SqliteTx { tx: &tx, shown };
                let out = f(&mut t)?;
                tx.commit().map_err(err)?;
                Ok(out)
            }
            Store::Postgres(pg) => pg.with(|client| {
                let mut tx = client.transaction().map_err(|e| pg.err(&e))?;
                if mode == Mode::Exclusive {
                    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&USERS_LOCK])
                        .map_err(|e| pg.err(&e))?;
                }
                let mut t = PgTx { tx: &mut tx, pg };
                let out = f(&mut t)?;
                tx.commit().map_err(|e| pg.err(&e))?;
                Ok(out)
            }),
        }
    }
}

/// `$1` → `?1`: SQLite reads `$1` as a named parameter, `?1` binds by position like Postgres. (No SQL here
/// has a `$` of its own: values, PHC strings included, are always bound.)
fn sqlite_sql(sql: &str) -> String {
    sql.replace('$', "?")
}

impl rusqlite::ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match *self {
            Arg::Int(v) => ToSqlOutput::from(v),
            Arg::Text(s) | Arg::OptText(Some(s)) => ToSqlOutput::from(s),
            Arg::OptText(None) => ToSqlOutput::from(rusqlite::types::Null),
        })
    }
}

struct SqliteTx<'a> {
    tx: &'a rusqlite::Transaction<'a>,
    shown: &'a str,
}

impl SqliteTx<'_> {
    fn err(&self, e: rusqlite::Error) -> AccessError {
        AccessError::Store {
            what: e.to_string(),
            shown: self.shown.to_string(),
        }
    }
}

impl Tx for SqliteTx<'_> {
    fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64, AccessError> {
        self.tx
            .execute(&sqlite_sql(sql), rusqlite::params_from_iter(args))
            .map(|n| n as u64)
            .map_err(|e| self.err(e))
    }

    fn query(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<Row>, AccessError> {
        let mut stmt = self
            .tx
            .prepare_cached(&sqlite_sql(sql))
            .map_err(|e| self.err(e))?;
        let n = stmt.column_count();
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args), |r| {
                (0..n)
                    .map(|i| {
                        Ok(match r.get_ref(i)? {
                            ValueRef::Integer(v) => Cell::Int(v),
                            ValueRef::Text(t) => {
                                Cell::Text(String::from_utf8_lossy(t).into_owned())
                            }
                            ValueRef::Null => Cell::Null,
                            ValueRef::Real(_) | ValueRef::Blob(_) => {
                                return Err(rusqlite::Error::InvalidColumnType(
                                    i,
                                    "real or blob".into(),
                                    r.get_ref(i)?.data_type(),
                                ));
                            }
                        })
                    })
                    .collect::<rusqlite::Result<Vec<Cell>>>()
                    .map(Row)
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<Row>>>()
            .map_err(|e| self.err(e))
    }
}

pub(crate) struct Pg {
    config: postgres::Config,
    password: Option<String>,
    shown: String,
    client: Mutex<Option<postgres::Client>>,
}

impl Pg {
    /// Runs `f` on the connection, connecting (again) first when there is none or it was closed.
    fn with<T>(
        &self,
        f: impl FnOnce(&mut postgres::Client) -> Result<T, AccessError>,
    ) -> Result<T, AccessError> {
        let mut guard = self.client.lock();
        if guard.as_ref().is_none_or(postgres::Client::is_closed) {
            *guard = Some(
                self.config
                    .connect(postgres::NoTls)
                    .map_err(|e| self.err(&e))?,
            );
        }
        let client = guard.as_mut().expect("connected above");
        let r = f(client);
        if client.is_closed() {
            *guard = None;
        }
        r
    }

    /// The driver's error with the server's message (the source chain) and the password blanked out,
    /// should either ever quote it.
    fn err(&self, e: &postgres::Error) -> AccessError {
        let mut what = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            what.push_str(&format!(": {s}"));
            source = s.source();
        }
        if let Some(p) = &self.password {
            what = what.replace(p.as_str(), "***");
        }
        AccessError::Store {
            what,
            shown: self.shown.clone(),
        }
    }
}

struct PgTx<'a, 'b> {
    tx: &'a mut postgres::Transaction<'b>,
    pg: &'a Pg,
}

fn pg_args<'a>(args: &'a [Arg<'a>]) -> Vec<&'a (dyn postgres::types::ToSql + Sync)> {
    args.iter()
        .map(|a| -> &(dyn postgres::types::ToSql + Sync) {
            match a {
                Arg::Int(v) => v,
                Arg::Text(s) => s,
                Arg::OptText(o) => o,
            }
        })
        .collect()
}

impl Tx for PgTx<'_, '_> {
    fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64, AccessError> {
        self.tx
            .execute(sql, &pg_args(args))
            .map_err(|e| self.pg.err(&e))
    }

    fn query(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<Row>, AccessError> {
        use postgres::types::Type;
        let rows = self
            .tx
            .query(sql, &pg_args(args))
            .map_err(|e| self.pg.err(&e))?;
        rows.iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| {
                        let ty = r.columns()[i].type_();
                        let cell = if *ty == Type::INT8 {
                            r.try_get::<_, Option<i64>>(i).map(|v| v.map(Cell::Int))
                        } else if *ty == Type::INT4 {
                            r.try_get::<_, Option<i32>>(i)
                                .map(|v| v.map(|v| Cell::Int(v.into())))
                        } else {
                            r.try_get::<_, Option<String>>(i).map(|v| v.map(Cell::Text))
                        };
                        cell.map(|c| c.unwrap_or(Cell::Null))
                            .map_err(|e| self.pg.err(&e))
                    })
                    .collect::<Result<Vec<Cell>, AccessError>>()
                    .map(Row)
            })
            .collect()
    }
}
