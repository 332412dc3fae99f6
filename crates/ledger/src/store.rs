//! The ledger's storage: one table of hash-chained rows (and the inspections beside it) in SQLite or Postgres,
//! written through a group commit. Every write runs in one transaction that first takes the store's write
//! lock (SQLite's `BEGIN IMMEDIATE`, a Postgres advisory lock) and reads the head inside it, so processes
//! sharing the store extend one chain; callers that arrive while a commit is in flight are committed
//! together in the next transaction, each still waiting for its own rows to be durable.

use crate::checkpoint::{Checkpoint, CheckpointLog, SigningKey};
use crate::verify::{Problem, Step, VerifyReport, Walker, explain};
use crate::{Entry, Filter, GENESIS_HASH, HashInput, Kind, LedgerError, Row, compact, row_digest};
use parking_lot::Mutex;
use rusqlite::{Connection, OptionalExtension};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use std::time::Duration;

type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The 관리대장 and 점검대장 store. Cheap to share in an `Arc`; all methods take `&self`.
pub struct Ledger {
    db: Db,
    w: Where,
    clock: Clock,
    /// Writes waiting for the next transaction (see the module doc).
    queue: Mutex<Queue>,
}

enum Db {
    Sqlite(Box<SqliteDb>),
    Postgres(Box<PgDb>),
}

struct SqliteDb {
    path: PathBuf,
    /// Held for the whole of a transaction: the group-commit leader is whoever holds it.
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
}

struct PgDb {
    config: postgres::Config,
    writer: Mutex<Option<PgWriter>>,
    reader: Mutex<Option<postgres::Client>>,
}

struct PgWriter {
    client: postgres::Client,
    insert: postgres::Statement,
}

/// Where errors happen, for messages: the SQLite path or the redacted URL, never a password.
pub(crate) struct Where {
    at: String,
    password: Option<String>,
}

impl Where {
    pub(crate) fn sql(&self, e: rusqlite::Error) -> LedgerError {
        self.msg(e.to_string())
    }

    pub(crate) fn pg(&self, e: &postgres::Error) -> LedgerError {
        // The driver's Display is the kind only ("db error"); the server's message is in the source chain.
        let mut reason = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            reason.push_str(&format!(": {s}"));
            source = s.source();
        }
        self.msg(reason)
    }

    pub(crate) fn msg(&self, mut reason: String) -> LedgerError {
        if let Some(p) = self.password.as_deref().filter(|p| !p.is_empty()) {
            reason = reason.replace(p, "***");
        }
        LedgerError::Store {
            at: self.at.clone(),
            reason,
        }
    }
}

const COLUMNS: &str = "seq, at_ms, kind, actor, subject, purpose, recipient, basis, form, period, manager, \
                       client, detail, prev_hash, hash";
const HEAD: &str = "SELECT seq, hash FROM ledger_rows ORDER BY seq DESC LIMIT 1";

const SQLITE_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS ledger_rows (
    seq INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    subject TEXT NOT NULL,
    purpose TEXT NOT NULL,
    recipient TEXT NOT NULL,
    basis TEXT NOT NULL,
    form TEXT NOT NULL,
    period TEXT NOT NULL,
    manager TEXT NOT NULL,
    client TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ledger_rows_by_time ON ledger_rows (at_ms);
CREATE INDEX IF NOT EXISTS ledger_rows_by_kind ON ledger_rows (kind, seq);
CREATE TRIGGER IF NOT EXISTS ledger_rows_no_update BEFORE UPDATE ON ledger_rows
    BEGIN SELECT RAISE(ABORT, 'ledger rows are append-only'); END;
CREATE TRIGGER IF NOT EXISTS ledger_rows_no_delete BEFORE DELETE ON ledger_rows
    BEGIN SELECT RAISE(ABORT, 'ledger rows are append-only'); END;
CREATE TABLE IF NOT EXISTS ledger_inspections (
    id INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    report TEXT NOT NULL,
    ok INTEGER NOT NULL,
    signed_by TEXT,
    signed_at_ms INTEGER,
    note TEXT
);
CREATE INDEX IF NOT EXISTS ledger_inspections_by_time ON ledger_inspections (at_ms);
CREATE TRIGGER IF NOT EXISTS ledger_inspections_no_delete BEFORE DELETE ON ledger_inspections
    BEGIN SELECT RAISE(ABORT, 'inspections are append-only'); END;
CREATE TRIGGER IF NOT EXISTS ledger_inspections_sign_once BEFORE UPDATE ON ledger_inspections
    WHEN OLD.signed_by IS NOT NULL OR NEW.id IS NOT OLD.id OR NEW.at_ms IS NOT OLD.at_ms
        OR NEW.kind IS NOT OLD.kind OR NEW.report IS NOT OLD.report OR NEW.ok IS NOT OLD.ok
    BEGIN SELECT RAISE(ABORT, 'an inspection changes only by its one countersignature'); END;";

const POSTGRES_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS ledger_rows (
    seq BIGINT PRIMARY KEY,
    at_ms BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    subject TEXT NOT NULL,
    purpose TEXT NOT NULL,
    recipient TEXT NOT NULL,
    basis TEXT NOT NULL,
    form TEXT NOT NULL,
    period TEXT NOT NULL,
    manager TEXT NOT NULL,
    client TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ledger_rows_by_time ON ledger_rows (at_ms);
CREATE INDEX IF NOT EXISTS ledger_rows_by_kind ON ledger_rows (kind, seq);
CREATE OR REPLACE FUNCTION ledger_rows_append_only() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN RAISE EXCEPTION 'ledger rows are append-only'; END $$;
DROP TRIGGER IF EXISTS ledger_rows_append_only ON ledger_rows;
CREATE TRIGGER ledger_rows_append_only BEFORE UPDATE OR DELETE ON ledger_rows
    FOR EACH ROW EXECUTE FUNCTION ledger_rows_append_only();
DROP TRIGGER IF EXISTS ledger_rows_no_truncate ON ledger_rows;
CREATE TRIGGER ledger_rows_no_truncate BEFORE TRUNCATE ON ledger_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_rows_append_only();
CREATE TABLE IF NOT EXISTS ledger_inspections (
    id BIGINT PRIMARY KEY,
    at_ms BIGINT NOT NULL,
    kind TEXT NOT NULL,
    report TEXT NOT NULL,
    ok BOOLEAN NOT NULL,
    signed_by TEXT,
    signed_at_ms BIGINT,
    note TEXT
);
CREATE INDEX IF NOT EXISTS ledger_inspections_by_time ON ledger_inspections (at_ms);
CREATE OR REPLACE FUNCTION ledger_inspections_sign_once() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN
        IF TG_OP = 'DELETE' OR OLD.signed_by IS NOT NULL OR NEW.id IS DISTINCT FROM OLD.id
            OR NEW.at_ms IS DISTINCT FROM OLD.at_ms OR NEW.kind IS DISTINCT FROM OLD.kind
            OR NEW.report IS DISTINCT FROM OLD.report OR NEW.ok IS DISTINCT FROM OLD.ok THEN
            RAISE EXCEPTION 'an inspection changes only by its one countersignature';
        END IF;
        RETURN NEW;
    END $$;
DROP TRIGGER IF EXISTS ledger_inspections_sign_once ON ledger_inspections;
CREATE TRIGGER ledger_inspections_sign_once BEFORE UPDATE OR DELETE ON ledger_inspections
    FOR EACH ROW EXECUTE FUNCTION ledger_inspections_sign_once();";

/// Advisory-lock key of the ledger's writes ("ledger"), distinct from the vault's keys.
const WRITE_LOCK: i64 = 0x6c65_6467_6572;

/// How long a write waits for another process's transaction before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

fn system_clock() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Ledger {
    /// Opens (creating if needed) the SQLite ledger at `path`: the file 0600, a missing folder 0700.
    pub fn open_sqlite(path: &Path) -> Result<Ledger, LedgerError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.exists() {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .map_err(|e| LedgerError::io(dir, e))?;
            }
        }
        // Created here with its mode, before SQLite would create it with the umask's (its -wal and -shm
        // files take the database file's mode).
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(LedgerError::io(path, e)),
        }
        let w = Where {
            at: path.display().to_string(),
            password: None,
        };
        let open = || -> Result<Connection, rusqlite::Error> {
            let c = Connection::open(path)?;
            c.busy_timeout(BUSY_TIMEOUT)?;
            Ok(c)
        };
        let writer = open().map_err(|e| w.sql(e))?;
        // FULL: the WAL is fsync'ed at every commit, so a returned append survives a power cut.
        writer
            .execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")
            .map_err(|e| w.sql(e))?;
        writer
            .execute_batch(&format!("BEGIN IMMEDIATE; {SQLITE_SCHEMA} COMMIT;"))
            .map_err(|e| w.sql(e))?;
        let reader = open().map_err(|e| w.sql(e))?;
        Ok(Ledger {
            db: Db::Sqlite(Box::new(SqliteDb {
                path: path.to_path_buf(),
                writer: Mutex::new(writer),
                reader: Mutex::new(reader),
            })),
            w,
            clock: Arc::new(system_clock),
            queue: Mutex::new(Queue::default()),
        })
    }

    /// Opens the ledger in a Postgres database (`postgres://user:password@host:port/db`), creating its
    /// tables. `shown` is the URL with the credentials removed; errors name only it.
    pub fn open_postgres(url: &str, shown: &str) -> Result<Ledger, LedgerError> {
        let mut config: postgres::Config = url.parse().map_err(|e| LedgerError::Store {
            at: shown.to_string(),
            reason: format!("not a Postgres connection URL: {e}"),
        })?;
        // A database that does not answer must not hang the service: connecting is bounded.
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        let password = config
            .get_password()
            .and_then(|p| std::str::from_utf8(p).ok())
            .map(str::to_string);
        let w = Where {
            at: shown.to_string(),
            password,
        };
        let mut client = config.connect(postgres::NoTls).map_err(|e| w.pg(&e))?;
        let schema = (|| -> Result<(), postgres::Error> {
            let mut tx = client.transaction()?;
            // CREATE … IF NOT EXISTS is not race-free between replicas starting together.
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])?;
            tx.batch_execute(POSTGRES_SCHEMA)?;
            tx.commit()
        })();
        schema.map_err(|e| w.pg(&e))?;
        Ok(Ledger {
            db: Db::Postgres(Box::new(PgDb {
                config,
                writer: Mutex::new(None),
                reader: Mutex::new(Some(client)),
            })),
            w,
            clock: Arc::new(system_clock),
            queue: Mutex::new(Queue::default()),
        })
    }

    /// Replaces the clock (unix ms) that stamps rows and inspections; for tests with a fake clock.
    pub fn with_clock(mut self, clock: Arc<dyn Fn() -> i64 + Send + Sync>) -> Ledger {
        self.clock = clock;
        self
    }

    /// The current time on the ledger's clock, unix ms.
    pub fn now_ms(&self) -> i64 {
        (self.clock)()
    }

    /// Appends one row; it is durable (committed and fsync'ed) when this returns.
    pub fn append(&self, e: Entry) -> Result<Row, LedgerError> {
        self.append_with(move |tx| tx.append(e))
    }

    /// Appends rows in one transaction: all of them or none.
    pub fn append_batch(&self, es: Vec<Entry>) -> Result<Vec<Row>, LedgerError> {
        self.append_with(move |tx| es.into_iter().map(|e| tx.append(e)).collect())
    }

    /// Runs `work` in a write transaction, with the head read inside it: whatever it stores and the rows it
    /// appends commit together or not at all.
    pub(crate) fn append_with<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Tx<'_>) -> Result<T, LedgerError> + Send + 'static,
    ) -> Result<T, LedgerError> {
        let (reply, replies) = mpsc::channel();
        let lead = {
            let mut q = self.queue.lock();
            q.jobs.push(Box::new(Pending {
                work: Some(work),
                out: None,
                reply,
            }));
            !std::mem::replace(&mut q.leading, true)
        };
        let dropped = || {
            LedgerError::Invalid(
                "ledger write was dropped before it committed (a writer panicked)".into(),
            )
        };
        if !lead {
            // The leader commits our job with its batch, or hands us the lead for the next one.
            match replies.recv() {
                Ok(Reply::Done(r)) => return r,
                Ok(Reply::Lead) => {}
                Err(_) => return Err(dropped()),
            }
        }
        {
            let _next = PassLead(&self.queue);
            self.commit_queued();
        }
        match replies.recv() {
            Ok(Reply::Done(r)) => r,
            Ok(Reply::Lead) | Err(_) => Err(dropped()),
        }
    }

    /// The leader's transaction: everything queued by the time it holds the connection, in one commit.
    fn commit_queued(&self) {
        let w = &self.w;
        match &self.db {
            Db::Sqlite(s) => {
                let conn = s.writer.lock();
                let mut jobs = std::mem::take(&mut self.queue.lock().jobs);
                let begin = || -> Result<(u64, String), LedgerError> {
                    if !conn.is_autocommit() {
                        let _ = conn.execute_batch("ROLLBACK");
                    }
                    conn.prepare_cached("BEGIN IMMEDIATE")
                        .and_then(|mut s| s.execute([]))
                        .map_err(|e| w.sql(e))?;
                    sqlite_head(&conn).map_err(|e| w.sql(e))
                };
                match begin() {
                    Ok(head) => {
                        let mut tx = Tx {
                            db: TxDb::Sqlite(&conn),
                            w,
                            clock: &*self.clock,
                            head,
                        };
                        run_batch(&mut tx, &mut jobs);
                    }
                    Err(e) => {
                        for j in jobs {
                            j.finish(Some(&e));
                        }
                    }
                }
            }
            Db::Postgres(pg) => {
                let mut guard = pg.writer.lock();
                let mut jobs = std::mem::take(&mut self.queue.lock().jobs);
                let begun = pg.writer_conn(&mut guard, w).and_then(|conn| {
                    let head = (|| -> Result<(u64, String), postgres::Error> {
                        conn.client.batch_execute("BEGIN")?;
                        conn.client
                            .execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])?;
                        let row = conn.client.query_opt(HEAD, &[])?;
                        Ok(match row {
                            Some(r) => (r.try_get::<_, i64>(0)? as u64, r.try_get(1)?),
                            None => (0, GENESIS_HASH.to_string()),
                        })
                    })();
                    match head {
                        Ok(h) => Ok((conn, h)),
                        Err(e) => {
                            let _ = conn.client.batch_execute("ROLLBACK");
                            Err(w.pg(&e))
                        }
                    }
                });
                match begun {
                    Ok((conn, head)) => {
                        let mut tx = Tx {
                            db: TxDb::Postgres {
                                client: &mut conn.client,
                                insert: &conn.insert,
                            },
                            w,
                            clock: &*self.clock,
                            head,
                        };
                        run_batch(&mut tx, &mut jobs);
                    }
                    Err(e) => {
                        for j in jobs {
                            j.finish(Some(&e));
                        }
                    }
                }
                if guard.as_ref().is_some_and(|c| c.client.is_closed()) {
                    *guard = None;
                }
            }
        }
    }

    /// The newest row's number and hash; None for an empty ledger.
    pub fn head(&self) -> Result<Option<(u64, String)>, LedgerError> {
        self.read(|r, w| match r {
            Reader::Sqlite(c) => sqlite_head(c)
                .map(|h| (h.0 > 0).then_some(h))
                .map_err(|e| w.sql(e)),
            Reader::Postgres(c) => c
                .query_opt(HEAD, &[])
                .and_then(|r| {
                    r.map(|r| Ok((r.try_get::<_, i64>(0)? as u64, r.try_get(1)?)))
                        .transpose()
                })
                .map_err(|e| w.pg(&e)),
        })
    }

    pub fn count(&self) -> Result<u64, LedgerError> {
        let sql = "SELECT count(*) FROM ledger_rows";
        self.read(|r, w| match r {
            Reader::Sqlite(c) => c
                .query_row(sql, [], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
                .map_err(|e| w.sql(e)),
            Reader::Postgres(c) => c
                .query_one(sql, &[])
                .and_then(|r| r.try_get::<_, i64>(0))
                .map(|n| n as u64)
                .map_err(|e| w.pg(&e)),
        })
    }

    /// The rows that pass `f`, in seq order.
    pub fn list(&self, f: &Filter) -> Result<Vec<Row>, LedgerError> {
        self.read(|r, w| {
            let pg = matches!(r, Reader::Postgres(_));
            let (sql, params) = list_query(f, pg);
            match r {
                Reader::Sqlite(c) => {
                    let mut stmt = c.prepare_cached(&sql).map_err(|e| w.sql(e))?;
                    let mut rows = stmt
                        .query(rusqlite::params_from_iter(params.iter()))
                        .map_err(|e| w.sql(e))?;
                    let mut out = Vec::new();
                    while let Some(row) = rows.next().map_err(|e| w.sql(e))? {
                        out.push(sqlite_row(row, w)?);
                    }
                    Ok(out)
                }
                Reader::Postgres(c) => {
                    let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
                        params.iter().map(Param::as_pg).collect();
                    let rows = c.query(&sql, &refs).map_err(|e| w.pg(&e))?;
                    rows.iter().map(|r| pg_row(r, w)).collect()
                }
            }
        })
    }

    /// The row numbered `seq`, if there is one.
    pub fn get(&self, seq: u64) -> Result<Option<Row>, LedgerError> {
        let rows = self.list(&Filter {
            after_seq: Some(seq.saturating_sub(1)),
            limit: Some(1),
            ..Filter::default()
        })?;
        Ok(rows.into_iter().next().filter(|r| r.seq == seq))
    }

    /// Walks every row in seq order, recomputing each hash and link, and checks the signed checkpoints
    /// (if given) against the rows they name. Reports the first problem found.
    /// The first stored inspection that differs from what its ledger rows say (report, result, signer), is
    /// gone, or has no row at all.
    fn check_inspections(&self) -> Result<Option<Problem>, LedgerError> {
        use std::collections::BTreeMap;
        let rows = self.list(&Filter {
            kinds: vec![Kind::Inspection, Kind::Countersign],
            ..Filter::default()
        })?;
        let mut recorded: BTreeMap<u64, (Option<Row>, Option<Row>)> = BTreeMap::new();
        for r in rows {
            let Some(id) = r.entry.detail["inspection_id"].as_u64() else {
                continue;
            };
            let slot = recorded.entry(id).or_default();
            match r.entry.kind {
                Kind::Inspection => slot.0 = Some(r),
                _ => slot.1 = Some(r),
            }
        }
        let stored: BTreeMap<u64, crate::Inspection> = self
            .inspections(None)?
            .into_iter()
            .map(|i| (i.id, i))
            .collect();
        for (id, i) in &stored {
            let Some((Some(made), signed)) = recorded.get(id) else {
                return Ok(Some(Problem::InspectionEdited { id: *id, seq: 0 }));
            };
            let d = &made.entry.detail;
            let intact = d["report_sha256"].as_str() == Some(i.report_sha256().as_str())
                && d["ok"].as_bool() == Some(i.ok);
            let signature = match (signed, &i.signed_by) {
                (None, None) => true,
                (Some(row), Some(by)) => row.entry.actor == *by,
                _ => false,
            };
            if !intact || !signature {
                let seq = signed.as_ref().filter(|_| intact).unwrap_or(made).seq;
                return Ok(Some(Problem::InspectionEdited { id: *id, seq }));
            }
        }
        if let Some((id, (made, signed))) = recorded.iter().find(|(id, _)| !stored.contains_key(id))
        {
            let seq = made.as_ref().or(signed.as_ref()).map_or(0, |r| r.seq);
            return Ok(Some(Problem::InspectionEdited { id: *id, seq }));
        }
        Ok(None)
    }

    pub fn verify(&self, checkpoints: Option<&CheckpointLog>) -> Result<VerifyReport, LedgerError> {
        let (cps, bad) = match checkpoints {
            Some(log) => log.read_checked()?,
            None => (Vec::new(), None),
        };
        let w = &self.w;
        let (head, walker, found) = match &self.db {
            Db::Sqlite(s) => verify_sqlite(&s.path, w, &cps)?,
            Db::Postgres(pg) => {
                // A connection of its own, as for SQLite.
                let mut client = pg.config.connect(postgres::NoTls).map_err(|e| w.pg(&e))?;
                verify_postgres(&mut client, w, &cps)?
            }
        };
        let problem = found
            .or_else(|| bad.map(|(line, why)| Problem::BadCheckpoint { line, why }))
            .or_else(|| walker.after_last(head.as_ref().map_or(0, |h| h.0)));
        // The chain holds each inspection's report hash and signer: the stored inspections must match.
        let problem = match problem {
            Some(p) => Some(p),
            None => self.check_inspections()?,
        };
        Ok(VerifyReport {
            rows: walker.rows,
            head,
            checkpoints: cps.len(),
            problem,
        })
    }

    /// Signs the current head into `log`; None when the ledger is empty or unchanged since the last
    /// checkpoint. Refuses to sign a ledger that no longer holds the row the last checkpoint signed.
    pub fn checkpoint(
        &self,
        key: &SigningKey,
        log: &CheckpointLog,
    ) -> Result<Option<Checkpoint>, LedgerError> {
        let Some((seq, hash)) = self.head()? else {
            return Ok(None);
        };
        if let Some(last) = log.last()? {
            if last.seq == seq && last.hash == hash {
                return Ok(None);
            }
            let held = self.get(last.seq)?.map(|r| r.hash);
            if held.as_deref() != Some(last.hash.as_str()) {
                return Err(LedgerError::Invalid(format!(
                    "refusing to sign row {seq}: the ledger no longer holds row {} as the last checkpoint \
                     signed it (truncated or rewritten); run verify",
                    last.seq
                )));
            }
        }
        log.append(key, seq, &hash, self.now_ms()).map(Some)
    }

    /// Runs `f` on the read connection.
    pub(crate) fn read<T>(
        &self,
        f: impl FnOnce(Reader<'_>, &Where) -> Result<T, LedgerError>,
    ) -> Result<T, LedgerError> {
        let w = &self.w;
        match &self.db {
            Db::Sqlite(s) => f(Reader::Sqlite(&s.reader.lock()), w),
            Db::Postgres(pg) => {
                let mut guard = pg.reader.lock();
                let client = pg.reader_conn(&mut guard, w)?;
                let r = f(Reader::Postgres(client), w);
                if client.is_closed() {
                    *guard = None;
                }
                r
            }
        }
    }
}

// ---- group commit ----

#[derive(Default)]
struct Queue {
    jobs: Vec<Box<dyn Job>>,
    /// A caller is running (or has been handed) the next transaction; the others wait for their replies.
    leading: bool,
}

/// Ends a leader's turn, even by a panic: the oldest waiting caller leads next, or no one when none waits.
struct PassLead<'a>(&'a Mutex<Queue>);

impl Drop for PassLead<'_> {
    fn drop(&mut self) {
        let mut q = self.0.lock();
        match q.jobs.first() {
            Some(next) => next.lead(),
            None => q.leading = false,
        }
    }
}

/// One caller's write, queued until a transaction runs it.
trait Job: Send {
    /// Does the write in the open transaction; false when it failed.
    fn run(&mut self, tx: &mut Tx<'_>) -> bool;
    /// Hands the caller its result once the transaction has ended; `failed` when it did not commit.
    fn finish(self: Box<Self>, failed: Option<&LedgerError>);
    /// Wakes the caller to lead the next transaction.
    fn lead(&self);
}

enum Reply<T> {
    Lead,
    Done(Result<T, LedgerError>),
}

struct Pending<T, F> {
    work: Option<F>,
    out: Option<Result<T, LedgerError>>,
    reply: mpsc::Sender<Reply<T>>,
}

impl<T, F> Job for Pending<T, F>
where
    T: Send,
    F: FnOnce(&mut Tx<'_>) -> Result<T, LedgerError> + Send,
{
    fn run(&mut self, tx: &mut Tx<'_>) -> bool {
        let Some(work) = self.work.take() else {
            return false;
        };
        // A panicking write fails alone: its savepoint is rolled back and the batch goes on.
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(tx))).unwrap_or_else(
            |_| {
                Err(LedgerError::Invalid(
                    "ledger write panicked; nothing of it was stored".into(),
                ))
            },
        );
        let ok = r.is_ok();
        self.out = Some(r);
        ok
    }

    fn finish(self: Box<Self>, failed: Option<&LedgerError>) {
        let r = match (self.out, failed) {
            (Some(Err(e)), _) => Err(e),
            (_, Some(e)) => Err(e.clone()),
            (Some(Ok(v)), None) => Ok(v),
            (None, None) => Err(LedgerError::Invalid("ledger write was not run".into())),
        };
        let _ = self.reply.send(Reply::Done(r));
    }

    fn lead(&self) {
        let _ = self.reply.send(Reply::Lead);
    }
}

/// Runs the queued jobs in the transaction `tx` has begun and ends it. With several jobs each runs under its
/// own savepoint, so one caller's failure does not undo the others'.
fn run_batch(tx: &mut Tx<'_>, jobs: &mut Vec<Box<dyn Job>>) {
    let ended = (|| -> Result<(), LedgerError> {
        if let [job] = jobs.as_mut_slice() {
            if job.run(tx) {
                tx.control("COMMIT")
            } else {
                tx.control("ROLLBACK")
            }
        } else {
            for job in jobs.iter_mut() {
                tx.control("SAVEPOINT job")?;
                let head = tx.head.clone();
                if job.run(tx) {
                    tx.control("RELEASE job")?;
                } else {
                    tx.control("ROLLBACK TO job")?;
                    tx.control("RELEASE job")?;
                    tx.head = head;
                }
            }
            tx.control("COMMIT")
        }
    })();
    if ended.is_err() {
        let _ = tx.control("ROLLBACK");
    }
    for job in jobs.drain(..) {
        job.finish(ended.as_ref().err());
    }
}

/// An open write transaction, the store's write lock held and the head read inside it.
pub(crate) struct Tx<'a> {
    pub(crate) db: TxDb<'a>,
    pub(crate) w: &'a Where,
    clock: &'a (dyn Fn() -> i64 + Send + Sync),
    head: (u64, String),
}

pub(crate) enum TxDb<'a> {
    Sqlite(&'a Connection),
    Postgres {
        client: &'a mut postgres::Client,
        insert: &'a postgres::Statement,
    },
}

impl Tx<'_> {
    pub(crate) fn now_ms(&self) -> i64 {
        (self.clock)()
    }

    pub(crate) fn append(&mut self, e: Entry) -> Result<Row, LedgerError> {
        let at_ms = self.now_ms();
        self.append_at(e, at_ms)
    }

    /// Appends a row stamped `at_ms` (an action and its row share one instant).
    pub(crate) fn append_at(&mut self, e: Entry, at_ms: i64) -> Result<Row, LedgerError> {
        let seq = self.head.0 + 1;
        let detail = compact(&e.detail);
        let hash = hex::encode(row_digest(&HashInput::of_entry(
            seq,
            at_ms,
            &e,
            &detail,
            &self.head.1,
        )));
        let w = self.w;
        match &mut self.db {
            TxDb::Sqlite(c) => {
                let mut stmt = c
                    .prepare_cached(&format!(
                        "INSERT INTO ledger_rows ({COLUMNS}) VALUES \
                         (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
                    ))
                    .map_err(|e| w.sql(e))?;
                stmt.execute(rusqlite::params![
                    seq as i64,
                    at_ms,
                    e.kind.name(),
                    e.actor,
                    e.subject,
                    e.purpose,
                    e.recipient,
                    e.basis,
                    e.form,
                    e.period,
                    e.manager,
                    e.client,
                    detail,
                    self.head.1,
                    hash,
                ])
                .map_err(|e| w.sql(e))?;
            }
            TxDb::Postgres { client, insert } => {
                client
                    .execute(
                        *insert,
                        &[
                            &(seq as i64),
                            &at_ms,
                            &e.kind.name(),
                            &e.actor,
                            &e.subject,
                            &e.purpose,
                            &e.recipient,
                            &e.basis,
                            &e.form,
                            &e.period,
                            &e.manager,
                            &e.client,
                            &detail,
                            &self.head.1,
                            &hash,
                        ],
                    )
                    .map_err(|e| w.pg(&e))?;
            }
        }
        let prev_hash = std::mem::replace(&mut self.head, (seq, hash.clone())).1;
        Ok(Row {
            seq,
            at_ms,
            entry: e,
            prev_hash,
            hash,
        })
    }

    /// A transaction-control statement (COMMIT, SAVEPOINT …), the same text on both backends.
    fn control(&mut self, sql: &str) -> Result<(), LedgerError> {
        let w = self.w;
        match &mut self.db {
            TxDb::Sqlite(c) => c
                .prepare_cached(sql)
                .and_then(|mut s| s.execute([]))
                .map(drop)
                .map_err(|e| w.sql(e)),
            TxDb::Postgres { client, .. } => client.batch_execute(sql).map_err(|e| w.pg(&e)),
        }
    }
}

pub(crate) enum Reader<'a> {
    Sqlite(&'a Connection),
    Postgres(&'a mut postgres::Client),
}

// ---- backends ----

impl PgDb {
    fn writer_conn<'g>(
        &self,
        guard: &'g mut Option<PgWriter>,
        w: &Where,
    ) -> Result<&'g mut PgWriter, LedgerError> {
        if guard.as_ref().is_none_or(|c| c.client.is_closed()) {
            let mut client = self.config.connect(postgres::NoTls).map_err(|e| w.pg(&e))?;
            let insert = client
                .prepare(&format!(
                    "INSERT INTO ledger_rows ({COLUMNS}) VALUES \
                     ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
                ))
                .map_err(|e| w.pg(&e))?;
            *guard = Some(PgWriter { client, insert });
        }
        Ok(guard.as_mut().expect("connected above"))
    }

    fn reader_conn<'g>(
        &self,
        guard: &'g mut Option<postgres::Client>,
        w: &Where,
    ) -> Result<&'g mut postgres::Client, LedgerError> {
        if guard.as_ref().is_none_or(postgres::Client::is_closed) {
            *guard = Some(self.config.connect(postgres::NoTls).map_err(|e| w.pg(&e))?);
        }
        Ok(guard.as_mut().expect("connected above"))
    }
}

fn sqlite_head(c: &Connection) -> Result<(u64, String), rusqlite::Error> {
    Ok(c.prepare_cached(HEAD)?
        .query_row([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)))
        .optional()?
        .unwrap_or_else(|| (0, GENESIS_HASH.to_string())))
}

enum Param {
    Int(i64),
    Text(String),
}

impl rusqlite::ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            Param::Int(i) => i.to_sql(),
            Param::Text(s) => s.to_sql(),
        }
    }
}

impl Param {
    fn as_pg(&self) -> &(dyn postgres::types::ToSql + Sync) {
        match self {
            Param::Int(i) => i,
            Param::Text(s) => s,
        }
    }
}

fn list_query(f: &Filter, pg: bool) -> (String, Vec<Param>) {
    let mut sql = format!("SELECT {COLUMNS} FROM ledger_rows WHERE 1 = 1");
    let mut params = Vec::new();
    let next = |p: Param, params: &mut Vec<Param>| {
        params.push(p);
        if pg {
            format!("${}", params.len())
        } else {
            format!("?{}", params.len())
        }
    };
    if let Some(from) = f.from_ms {
        sql += &format!(" AND at_ms >= {}", next(Param::Int(from), &mut params));
    }
    if let Some(to) = f.to_ms {
        sql += &format!(" AND at_ms < {}", next(Param::Int(to), &mut params));
    }
    if !f.kinds.is_empty() {
        let marks: Vec<String> = f
            .kinds
            .iter()
            .map(|k| next(Param::Text(k.name().into()), &mut params))
            .collect();
        sql += &format!(" AND kind IN ({})", marks.join(", "));
    }
    if let Some(actor) = &f.actor {
        sql += &format!(
            " AND actor = {}",
            next(Param::Text(actor.clone()), &mut params)
        );
    }
    if let Some(part) = &f.subject_contains {
        // instr/strpos, not LIKE: the text is matched literally, '%' and '_' included.
        let p = next(Param::Text(part.clone()), &mut params);
        sql += &if pg {
            format!(" AND strpos(subject, {p}) > 0")
        } else {
            format!(" AND instr(subject, {p}) > 0")
        };
    }
    if let Some(after) = f.after_seq {
        sql += &format!(" AND seq > {}", next(Param::Int(after as i64), &mut params));
    }
    sql += " ORDER BY seq";
    if let Some(limit) = f.limit {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        sql += &format!(" LIMIT {}", next(Param::Int(limit), &mut params));
    }
    (sql, params)
}

/// A stored row from its columns: seq, at_ms, then the 13 text columns in COLUMNS order.
fn decode(seq: i64, at_ms: i64, text: [String; 13], w: &Where) -> Result<Row, LedgerError> {
    let [
        kind,
        actor,
        subject,
        purpose,
        recipient,
        basis,
        form,
        period,
        manager,
        client,
        detail,
        prev_hash,
        hash,
    ] = text;
    let kind = Kind::parse(&kind).map_err(|e| w.msg(format!("row {seq}: {e}")))?;
    let detail = serde_json::from_str(&detail)
        .map_err(|e| w.msg(format!("row {seq}: detail is not JSON: {e}")))?;
    Ok(Row {
        seq: seq as u64,
        at_ms,
        entry: Entry {
            kind,
            actor,
            subject,
            purpose,
            recipient,
            basis,
            form,
            period,
            manager,
            client,
            detail,
        },
        prev_hash,
        hash,
    })
}

fn sqlite_row(r: &rusqlite::Row<'_>, w: &Where) -> Result<Row, LedgerError> {
    let get = |i: usize| r.get::<_, String>(i).map_err(|e| w.sql(e));
    let seq: i64 = r.get(0).map_err(|e| w.sql(e))?;
    let at_ms: i64 = r.get(1).map_err(|e| w.sql(e))?;
    let mut text: [String; 13] = Default::default();
    for (i, t) in text.iter_mut().enumerate() {
        *t = get(i + 2)?;
    }
    decode(seq, at_ms, text, w)
}

fn pg_row(r: &postgres::Row, w: &Where) -> Result<Row, LedgerError> {
    let get = |i: usize| r.try_get::<_, String>(i).map_err(|e| w.pg(&e));
    let seq: i64 = r.try_get(0).map_err(|e| w.pg(&e))?;
    let at_ms: i64 = r.try_get(1).map_err(|e| w.pg(&e))?;
    let mut text: [String; 13] = Default::default();
    for (i, t) in text.iter_mut().enumerate() {
        *t = get(i + 2)?;
    }
    decode(seq, at_ms, text, w)
}

// ---- verify ----

type Walked<'c> = (Option<(u64, String)>, Walker<'c>, Option<Problem>);

fn verify_sqlite<'c>(
    path: &Path,
    w: &Where,
    cps: &'c [Checkpoint],
) -> Result<Walked<'c>, LedgerError> {
    let sql = |e| w.sql(e);
    // A connection of its own: a long walk must not hold up list() on the shared reader.
    let conn = Connection::open(path).map_err(sql)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(sql)?;
    // Reading the file through a mapping saves copying every page for a one-pass walk.
    conn.execute_batch("PRAGMA mmap_size = 1073741824")
        .map_err(sql)?;
    // One read transaction: the head and the walk see the same snapshot while appends go on.
    conn.execute_batch("BEGIN").map_err(sql)?;
    let head = sqlite_head(&conn).map_err(sql)?;
    let head = (head.0 > 0).then_some(head);
    let mut walker = Walker::new(cps, head.as_ref().map_or(0, |h| h.0));
    let step = {
        let mut stmt = conn
            .prepare(&format!("SELECT {COLUMNS} FROM ledger_rows ORDER BY seq"))
            .map_err(sql)?;
        let mut rows = stmt.query([]).map_err(sql)?;
        let mut found = Step::Ok;
        while let Some(r) = rows.next().map_err(sql)? {
            let seq = r.get::<_, i64>(0).map_err(sql)?;
            let text = |i: usize| -> Result<&[u8], LedgerError> {
                r.get_ref(i)
                    .map_err(sql)?
                    .as_bytes()
                    .map_err(|e| w.msg(format!("row {seq} column {i}: {e}")))
            };
            let input = hash_input(seq as u64, r.get(1).map_err(sql)?, &text)?;
            found = walker.step(&input, text(14)?);
            if !matches!(found, Step::Ok) {
                break;
            }
        }
        found
    };
    let problem = match step {
        Step::Ok => None,
        Step::Problem(p) => Some(p),
        Step::Suspect(s) => Some(explain(s, &mut |hash| {
            conn.query_row(
                "SELECT seq FROM ledger_rows WHERE hash = ?1 ORDER BY seq LIMIT 1",
                [hash],
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .map(|s| s.map(|s| s as u64))
            .map_err(sql)
        })?),
    };
    conn.execute_batch("COMMIT").map_err(sql)?;
    Ok((head, walker, problem))
}

fn verify_postgres<'c>(
    client: &mut postgres::Client,
    w: &Where,
    cps: &'c [Checkpoint],
) -> Result<Walked<'c>, LedgerError> {
    let pg = |e: postgres::Error| w.pg(&e);
    let mut tx = client
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .map_err(pg)?;
    let head = match tx.query_opt(HEAD, &[]).map_err(pg)? {
        Some(r) => Some((
            r.try_get::<_, i64>(0).map_err(pg)? as u64,
            r.try_get(1).map_err(pg)?,
        )),
        None => None,
    };
    let mut walker = Walker::new(cps, head.as_ref().map_or(0, |h| h.0));
    let select = format!("SELECT {COLUMNS} FROM ledger_rows ORDER BY seq");
    // A portal read in chunks: memory stays bounded however long the ledger is.
    let portal = tx.bind(select.as_str(), &[]).map_err(pg)?;
    let mut found = Step::Ok;
    'walk: loop {
        let rows = tx.query_portal(&portal, 10_000).map_err(pg)?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            let text = |i: usize| r.try_get::<_, &str>(i).map(str::as_bytes).map_err(pg);
            let input = hash_input(
                r.try_get::<_, i64>(0).map_err(pg)? as u64,
                r.try_get(1).map_err(pg)?,
                &text,
            )?;
            found = walker.step(&input, text(14)?);
            if !matches!(found, Step::Ok) {
                break 'walk;
            }
        }
    }
    let problem = match found {
        Step::Ok => None,
        Step::Problem(p) => Some(p),
        Step::Suspect(s) => Some(explain(s, &mut |hash| {
            tx.query_opt(
                "SELECT seq FROM ledger_rows WHERE hash = $1 ORDER BY seq LIMIT 1",
                &[&hash],
            )
            .map_err(pg)?
            .map(|r| r.try_get::<_, i64>(0).map(|s| s as u64))
            .transpose()
            .map_err(pg)
        })?),
    };
    tx.commit().map_err(pg)?;
    Ok((head, walker, problem))
}

/// A stored row's hashed columns (2–13 in the verify queries' order), read through the backend's `text`.
fn hash_input<'a, E>(
    seq: u64,
    at_ms: i64,
    text: &impl Fn(usize) -> Result<&'a [u8], E>,
) -> Result<HashInput<'a>, E> {
    let mut fields: [&[u8]; 9] = [&[]; 9];
    for (i, f) in fields.iter_mut().enumerate() {
        *f = text(3 + i)?;
    }
    Ok(HashInput {
        seq,
        at_ms,
        kind: text(2)?,
        fields,
        detail: text(12)?,
        prev_hash: text(13)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ledger(tag: &str) -> (Ledger, PathBuf) {
        let dir =
            std::env::temp_dir().join(format!("garim-ledger-store-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        (Ledger::open_sqlite(&dir.join("l.db")).unwrap(), dir)
    }

    #[test]
    fn failed_write_leaves_neither_its_rows_nor_its_stored_action() {
        let (l, dir) = ledger("fail");
        let e = l
            .append_with(|tx| {
                tx.append(Entry::new(Kind::View, "lee", "cam-1"))?;
                Err::<(), _>(LedgerError::Invalid("refused after appending".into()))
            })
            .unwrap_err();
        assert_eq!(e.to_string(), "refused after appending");
        let panicked = l.append_with(|tx| -> Result<(), LedgerError> {
            tx.append(Entry::new(Kind::View, "lee", "cam-2"))?;
            panic!("a bug inside a write");
        });
        assert!(panicked.unwrap_err().to_string().contains("panicked"));
        assert_eq!(l.count().unwrap(), 0);
        let row = l.append(Entry::new(Kind::Use, "lee", "cam-3")).unwrap();
        assert_eq!((row.seq, row.prev_hash.as_str()), (1, GENESIS_HASH));
        assert!(l.verify(None).unwrap().is_ok());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn list_query_numbers_its_placeholders_per_backend() {
        let f = Filter {
            kinds: vec![Kind::View, Kind::Use],
            subject_contains: Some("cam".into()),
            limit: Some(5),
            ..Filter::default()
        };
        let (pg, params) = list_query(&f, true);
        assert!(
            pg.ends_with("kind IN ($1, $2) AND strpos(subject, $3) > 0 ORDER BY seq LIMIT $4"),
            "{pg}"
        );
        assert_eq!(params.len(), 4);
        let (lite, _) = list_query(&f, false);
        assert!(
            lite.contains("kind IN (?1, ?2) AND instr(subject, ?3) > 0"),
            "{lite}"
        );
    }
}
