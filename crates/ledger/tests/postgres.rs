//! The ledger on a real PostgreSQL 15 (Debian's `postgresql`; scripts/test installs it): a throwaway
//! cluster made with initdb in a temporary folder and started on 127.0.0.1:19355, stopped when the test
//! ends. The SQLite scenarios run again on it (chain, tampering, checkpoints, inspections, concurrent
//! writers), plus two ledgers on separate connections extending one chain under the advisory lock, and
//! errors that never show the password.

mod common;

use common::*;
use ledger::{Filter, Ledger};
use std::sync::atomic::{AtomicUsize, Ordering};

// Not the vault test's port: the two test binaries may run at the same time.
const PORT: u16 = 19355;
const PASSWORD: &str = "pw-s3cret-9f2";

/// The shared test cluster.
struct Cluster(testpg::Cluster);

impl std::ops::Deref for Cluster {
    type Target = testpg::Cluster;
    fn deref(&self) -> &testpg::Cluster {
        &self.0
    }
}

impl Cluster {
    fn start() -> Cluster {
        Cluster(testpg::Cluster::start(PORT, PASSWORD))
    }

    /// A fresh database for one scenario: its URL and the URL as errors may show it.
    fn database(&self, name: &str) -> (String, String) {
        self.0.create_database(name)
    }
}

struct Postgres<'c> {
    pg: &'c Cluster,
    n: AtomicUsize,
}

impl Store for Postgres<'_> {
    fn fresh(&self, name: &str) -> (Ledger, Tamper) {
        let db = format!(
            "{}_{}",
            name.replace('-', "_"),
            self.n.fetch_add(1, Ordering::SeqCst)
        );
        let (url, shown) = self.pg.database(&db);
        let l = Ledger::open_postgres(&url, &shown).unwrap();
        let tamper = Box::new(move |sql: &str| {
            let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            c.batch_execute(&format!(
                "ALTER TABLE ledger_rows DISABLE TRIGGER USER; {sql}"
            ))
            .unwrap();
        });
        (l, tamper)
    }
}

/// Two ledgers on their own connections (as two replicas would be) appending at once.
fn two_connections_keep_one_chain(pg: &Cluster) {
    let (url, shown) = pg.database("two_writers");
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let (url, shown) = (url.clone(), shown.clone());
            std::thread::spawn(move || {
                let l = Ledger::open_postgres(&url, &shown).unwrap();
                for i in 0..150 {
                    if i % 10 == 0 {
                        l.append_batch((0..5).map(|k| entry(w * 1000 + i + k)).collect())
                            .unwrap();
                    } else {
                        l.append(entry(w * 1000 + i)).unwrap();
                    }
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let l = Ledger::open_postgres(&url, &shown).unwrap();
    let report = l.verify(None).unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.rows, 2 * (135 + 15 * 5));
    let rows = l.list(&Filter::default()).unwrap();
    assert_eq!(rows.len() as u64, report.rows);
    assert!(rows.iter().enumerate().all(|(i, r)| r.seq == i as u64 + 1));
}

/// Errors name the database by its URL without the credentials.
fn errors_never_show_the_password(pg: &Cluster) {
    let url = pg.url("no_such_db");
    let shown = format!("postgres://***@127.0.0.1:{PORT}/no_such_db");
    let e = Ledger::open_postgres(&url, &shown)
        .err()
        .expect("no such database")
        .to_string();
    assert!(
        e.contains("postgres://***@127.0.0.1")
            && e.contains("database \"no_such_db\" does not exist"),
        "{e}"
    );
    assert!(!e.contains(PASSWORD), "{e}");
    let e = Ledger::open_postgres(
        "postgres://garim:x@127.0.0.1:notaport/db",
        "postgres://***@127.0.0.1/db",
    )
    .err()
    .expect("bad url")
    .to_string();
    assert!(
        e.contains("not a Postgres connection URL") && !e.contains(":x@"),
        "{e}"
    );
}

#[test]
fn ledger_on_postgres() {
    let pg = Cluster::start();
    let s = Postgres {
        pg: &pg,
        n: AtomicUsize::new(0),
    };
    let dir = work("pg-checkpoints");
    appended_rows_form_one_chain(&s);
    edited_row_is_named(&s);
    edited_detail_is_named(&s);
    deleted_row_is_named(&s);
    deleted_and_renumbered_row_is_named(&s);
    forged_rows_are_named(&s);
    swapped_rows_are_named(&s);
    rewritten_chain_is_caught_only_by_the_checkpoint(&s, &dir);
    truncation_is_caught_by_the_checkpoint(&s, &dir);
    bad_checkpoint_signature_is_named(&s, &dir);
    database_refuses_updates_and_deletes(&s, &|_, sql| {
        let n = s.n.load(Ordering::SeqCst) - 1;
        let mut c = pg.client(&format!("appendonly_{n}"));
        let e = c.batch_execute(sql).unwrap_err();
        format!(
            "{e}: {}",
            e.as_db_error().map(|d| d.message()).unwrap_or("")
        )
    });
    inspections_are_recorded_and_countersigned_once(&s);
    concurrent_appends_keep_one_chain(&s);
    two_connections_keep_one_chain(&pg);
    errors_never_show_the_password(&pg);
    std::fs::remove_dir_all(dir).unwrap();
}
