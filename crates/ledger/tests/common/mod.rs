//! Scenarios shared by the SQLite and the Postgres tests: each takes a `Store` that makes a fresh, empty
//! ledger and a way to run SQL on its database behind the ledger's back (as an attacker with the file or
//! the database password would).

#![allow(dead_code)]

use ledger::{
    CheckpointLog, Entry, Filter, GENESIS_HASH, InspectionKind, Kind, Ledger, Problem, Row,
    SigningKey,
};
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

/// Runs SQL on the ledger's database directly, its append-only triggers switched off first.
pub type Tamper = Box<dyn Fn(&str)>;

pub trait Store {
    fn fresh(&self, name: &str) -> (Ledger, Tamper);
}

/// A clock that moves only when told (and by `step` at every reading).
pub struct FakeClock {
    now: AtomicI64,
    step: i64,
}

impl FakeClock {
    pub fn new(start: i64, step: i64) -> Arc<FakeClock> {
        Arc::new(FakeClock {
            now: AtomicI64::new(start),
            step,
        })
    }

    pub fn set(&self, t: i64) {
        self.now.store(t, Ordering::SeqCst);
    }

    pub fn install(self: &Arc<Self>, l: Ledger) -> Ledger {
        let c = self.clone();
        l.with_clock(Arc::new(move || c.now.fetch_add(c.step, Ordering::SeqCst)))
    }
}

/// 2026-12-01 09:00:00 KST.
pub const T0: i64 = 1_796_083_200_000;

/// A folder of its own under the temp dir, removed first.
pub fn work(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "garim-ledger-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn entry(i: usize) -> Entry {
    let kind = [
        Kind::View,
        Kind::Use,
        Kind::Provide,
        Kind::Destroy,
        Kind::Login,
    ][i % 5];
    Entry {
        purpose: format!("purpose {i}"),
        recipient: if kind == Kind::Provide {
            "Seoul police".into()
        } else {
            String::new()
        },
        basis: "PIPA 18(2)7".into(),
        form: "copy".into(),
        period: "30 days".into(),
        manager: "manager-kim".into(),
        client: "10.0.0.9".into(),
        detail: json!({"i": i}),
        ..Entry::new(
            kind,
            format!("user-{}", i % 3),
            format!("cam-{} seg {i}", i % 4),
        )
    }
}

fn filled(store: &dyn Store, name: &str, n: usize) -> (Ledger, Tamper, Vec<Row>) {
    let (l, tamper) = store.fresh(name);
    let l = FakeClock::new(T0, 1000).install(l);
    let rows = l.append_batch((0..n).map(entry).collect()).unwrap();
    (l, tamper, rows)
}

fn problem(l: &Ledger, log: Option<&CheckpointLog>) -> Problem {
    let r = l.verify(log).unwrap();
    match r.problem {
        Some(p) => p,
        None => panic!("tampering not detected: {r:?}"),
    }
}

fn sql_text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// An INSERT of `r` as stored.
fn insert_sql(r: &Row) -> String {
    let e = &r.entry;
    format!(
        "INSERT INTO ledger_rows (seq, at_ms, kind, actor, subject, purpose, recipient, basis, form, period, \
         manager, client, detail, prev_hash, hash) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, \
         {}, {})",
        r.seq,
        r.at_ms,
        sql_text(e.kind.name()),
        sql_text(&e.actor),
        sql_text(&e.subject),
        sql_text(&e.purpose),
        sql_text(&e.recipient),
        sql_text(&e.basis),
        sql_text(&e.form),
        sql_text(&e.period),
        sql_text(&e.manager),
        sql_text(&e.client),
        sql_text(&serde_json::to_string(&e.detail).unwrap()),
        sql_text(&r.prev_hash),
        sql_text(&r.hash)
    )
}

/// Renumbers rows with seq ≥ `from` by `by`, through negative numbers so no two rows collide midway.
fn shift_sql(from: u64, by: i64) -> String {
    format!(
        "UPDATE ledger_rows SET seq = -(seq + ({by})) WHERE seq >= {from}; \
         UPDATE ledger_rows SET seq = -seq WHERE seq < 0;"
    )
}

pub fn appended_rows_form_one_chain(store: &dyn Store) {
    let (l, _) = store.fresh("chain");
    let clock = FakeClock::new(T0, 1000);
    let l = clock.install(l);
    assert_eq!(l.head().unwrap(), None);
    assert!(l.verify(None).unwrap().is_ok());
    let mut rows = Vec::new();
    for i in 0..5 {
        rows.push(l.append(entry(i)).unwrap());
    }
    rows.extend(l.append_batch((5..8).map(entry).collect()).unwrap());
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r.seq, i as u64 + 1);
        assert_eq!(r.at_ms, T0 + 1000 * i as i64);
        assert_eq!(r.entry, entry(i));
        assert_eq!(r.hash, r.expected_hash());
        let prev = if i == 0 {
            GENESIS_HASH
        } else {
            &rows[i - 1].hash
        };
        assert_eq!(r.prev_hash, prev);
    }
    assert_eq!(l.count().unwrap(), 8);
    assert_eq!(l.head().unwrap(), Some((8, rows[7].hash.clone())));
    assert_eq!(l.list(&Filter::default()).unwrap(), rows);
    let report = l.verify(None).unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(
        (report.rows, report.head),
        (8, Some((8, rows[7].hash.clone())))
    );
    assert_eq!(l.get(3).unwrap().as_ref(), Some(&rows[2]));
    assert_eq!(l.get(9).unwrap(), None);
    // Filters: each condition narrows, all together intersect.
    let seqs = |f: Filter| -> Vec<u64> { l.list(&f).unwrap().iter().map(|r| r.seq).collect() };
    assert_eq!(
        seqs(Filter {
            kinds: vec![Kind::View, Kind::Provide],
            ..Filter::default()
        }),
        [1, 3, 6, 8]
    );
    assert_eq!(
        seqs(Filter {
            actor: Some("user-0".into()),
            ..Filter::default()
        }),
        [1, 4, 7]
    );
    assert_eq!(
        seqs(Filter {
            subject_contains: Some("cam-1 seg".into()),
            ..Filter::default()
        }),
        [2, 6]
    );
    assert_eq!(
        seqs(Filter {
            from_ms: Some(T0 + 2000),
            to_ms: Some(T0 + 5000),
            ..Filter::default()
        }),
        [3, 4, 5]
    );
    assert_eq!(
        seqs(Filter {
            after_seq: Some(5),
            limit: Some(2),
            ..Filter::default()
        }),
        [6, 7]
    );
    // '%' is matched literally, not as a wildcard.
    assert!(
        seqs(Filter {
            subject_contains: Some("%".into()),
            ..Filter::default()
        })
        .is_empty()
    );
}

pub fn edited_row_is_named(store: &dyn Store) {
    let (l, tamper, _) = filled(store, "edit", 20);
    tamper("UPDATE ledger_rows SET purpose = 'nothing to see' WHERE seq = 7");
    let p = problem(&l, None);
    assert_eq!(p, Problem::Edited { seq: 7 });
    assert_eq!(
        p.to_string(),
        "row 7 was edited: its hash does not match its contents"
    );
}

pub fn edited_detail_is_named(store: &dyn Store) {
    let (l, tamper, _) = filled(store, "edit-detail", 20);
    tamper("UPDATE ledger_rows SET detail = '{\"i\":99}' WHERE seq = 12");
    assert_eq!(problem(&l, None), Problem::Edited { seq: 12 });
}

pub fn deleted_row_is_named(store: &dyn Store) {
    let (l, tamper, _) = filled(store, "delete", 20);
    tamper("DELETE FROM ledger_rows WHERE seq = 7");
    let p = problem(&l, None);
    assert_eq!(
        p,
        Problem::Deleted {
            after_seq: 6,
            missing_seq: 7
        }
    );
    assert!(p.to_string().starts_with("row 7 was deleted"), "{p}");
}

pub fn deleted_and_renumbered_row_is_named(store: &dyn Store) {
    let (l, tamper, _) = filled(store, "renumber", 20);
    tamper(&format!(
        "DELETE FROM ledger_rows WHERE seq = 7; {}",
        shift_sql(8, -1)
    ));
    assert_eq!(l.count().unwrap(), 19);
    assert_eq!(
        problem(&l, None),
        Problem::Deleted {
            after_seq: 6,
            missing_seq: 7
        }
    );
    // The first row gone and the rest renumbered.
    let (l, tamper, _) = filled(store, "renumber-first", 5);
    tamper(&format!(
        "DELETE FROM ledger_rows WHERE seq = 1; {}",
        shift_sql(2, -1)
    ));
    assert_eq!(
        problem(&l, None),
        Problem::Deleted {
            after_seq: 0,
            missing_seq: 1
        }
    );
}

pub fn forged_rows_are_named(store: &dyn Store) {
    // At the end, hashed correctly but linked to nothing.
    let (l, tamper, rows) = filled(store, "forge-end", 20);
    let mut forged = Row {
        seq: 21,
        at_ms: T0 + 21_000,
        entry: entry(3),
        prev_hash: "ab".repeat(32),
        hash: String::new(),
    };
    forged.hash = forged.expected_hash();
    tamper(&insert_sql(&forged));
    assert_eq!(problem(&l, None), Problem::Inserted { seq: 21 });
    // In the middle: later rows renumbered up, the forgery linked to row 6 and hashed correctly.
    let (l, tamper, _) = filled(store, "forge-mid", 20);
    let mut forged = Row {
        seq: 7,
        at_ms: rows[5].at_ms + 1,
        entry: Entry::new(Kind::View, "user-9", "cam-1 alibi"),
        prev_hash: l.get(6).unwrap().unwrap().hash,
        hash: String::new(),
    };
    forged.hash = forged.expected_hash();
    tamper(&format!("{} {}", shift_sql(7, 1), insert_sql(&forged)));
    let p = problem(&l, None);
    assert_eq!(p, Problem::Inserted { seq: 7 });
    assert!(p.to_string().starts_with("row 7 was inserted"), "{p}");
}

pub fn swapped_rows_are_named(store: &dyn Store) {
    let (l, tamper, _) = filled(store, "swap", 20);
    tamper(
        "UPDATE ledger_rows SET seq = -1 WHERE seq = 7; \
         UPDATE ledger_rows SET seq = 7 WHERE seq = 8; \
         UPDATE ledger_rows SET seq = 8 WHERE seq = -1;",
    );
    let p = problem(&l, None);
    assert_eq!(p, Problem::Reordered { seq: 7 });
    assert!(p.to_string().starts_with("row 7 was moved"), "{p}");
    // Far apart too.
    let (l, tamper, _) = filled(store, "swap-far", 300);
    tamper(
        "UPDATE ledger_rows SET seq = -1 WHERE seq = 10; \
         UPDATE ledger_rows SET seq = 10 WHERE seq = 250; \
         UPDATE ledger_rows SET seq = 250 WHERE seq = -1;",
    );
    assert_eq!(problem(&l, None), Problem::Reordered { seq: 10 });
}

/// The attacker's best move without the key: edit a row and recompute every later hash.
pub fn rewritten_chain_is_caught_only_by_the_checkpoint(store: &dyn Store, dir: &std::path::Path) {
    let (l, tamper, _) = filled(store, "rewrite", 20);
    let key = SigningKey::init(&dir.join("rewrite.key")).unwrap();
    let log = CheckpointLog::new(dir.join("rewrite.jsonl"))
        .trusting(&key.public_hex())
        .unwrap();
    let cp = l.checkpoint(&key, &log).unwrap().unwrap();
    assert_eq!(cp.seq, 20);
    assert!(l.verify(Some(&log)).unwrap().is_ok());
    let mut rows = l.list(&Filter::default()).unwrap();
    rows[6].entry.purpose = "nothing to see".into();
    let mut sql = String::from("DELETE FROM ledger_rows WHERE seq >= 7;");
    for i in 6..rows.len() {
        rows[i].prev_hash = rows[i - 1].hash.clone();
        rows[i].hash = rows[i].expected_hash();
        sql += &insert_sql(&rows[i]);
        sql += ";";
    }
    tamper(&sql);
    assert!(
        l.verify(None).unwrap().is_ok(),
        "the chain itself is consistent"
    );
    let p = problem(&l, Some(&log));
    assert_eq!(
        p,
        Problem::Truncated {
            checkpoint_seq: 20,
            head_seq: 20
        }
    );
    assert!(p.to_string().contains("rewritten"), "{p}");
    // And the ledger refuses to sign over it.
    let e = l.checkpoint(&key, &log).unwrap_err().to_string();
    assert!(e.contains("row 20") && e.contains("verify"), "{e}");
}

pub fn truncation_is_caught_by_the_checkpoint(store: &dyn Store, dir: &std::path::Path) {
    let (l, tamper, _) = filled(store, "truncate", 20);
    let key = SigningKey::init(&dir.join("truncate.key")).unwrap();
    let log = CheckpointLog::new(dir.join("truncate.jsonl"));
    assert!(l.checkpoint(&key, &log).unwrap().is_some());
    assert!(
        l.checkpoint(&key, &log).unwrap().is_none(),
        "an unchanged head is not signed again"
    );
    tamper("DELETE FROM ledger_rows WHERE seq > 15");
    assert!(
        l.verify(None).unwrap().is_ok(),
        "cut rows leave no trace in the chain"
    );
    let p = problem(&l, Some(&log));
    assert_eq!(
        p,
        Problem::Truncated {
            checkpoint_seq: 20,
            head_seq: 15
        }
    );
    assert_eq!(
        p.to_string(),
        "the ledger was truncated: a signed checkpoint names row 20 but the newest row is 15"
    );
    // Appending past the checkpoint again does not hide it.
    l.append_batch((0..10).map(entry).collect()).unwrap();
    assert_eq!(
        problem(&l, Some(&log)),
        Problem::Truncated {
            checkpoint_seq: 20,
            head_seq: 25
        }
    );
}

pub fn bad_checkpoint_signature_is_named(store: &dyn Store, dir: &std::path::Path) {
    let (l, _, _) = filled(store, "badsig", 10);
    let key = SigningKey::init(&dir.join("badsig.key")).unwrap();
    let log = CheckpointLog::new(dir.join("badsig.jsonl"));
    l.checkpoint(&key, &log).unwrap();
    l.append(entry(11)).unwrap();
    l.checkpoint(&key, &log).unwrap();
    assert_eq!(log.read().unwrap().len(), 2);
    let verified = l.verify(Some(&log)).unwrap();
    assert!(
        verified.is_ok() && verified.checkpoints == 2,
        "{verified:?}"
    );
    // A forger moves the second checkpoint back to hide later rows.
    let text = std::fs::read_to_string(log.path()).unwrap();
    let forged = text.replacen("\"seq\":11", "\"seq\":10", 1);
    assert_ne!(text, forged);
    std::fs::write(log.path(), forged).unwrap();
    match problem(&l, Some(&log)) {
        Problem::BadCheckpoint { line: 2, why } => {
            assert!(why.contains("does not verify"), "{why}")
        }
        other => panic!("{other:?}"),
    }
}

pub fn database_refuses_updates_and_deletes(
    store: &dyn Store,
    run: &dyn Fn(&Ledger, &str) -> String,
) {
    let (l, _, _) = filled(store, "appendonly", 3);
    for sql in [
        "UPDATE ledger_rows SET purpose = 'x' WHERE seq = 2",
        "DELETE FROM ledger_rows WHERE seq = 3",
    ] {
        let e = run(&l, sql);
        assert!(e.contains("append-only"), "{sql}: {e}");
    }
    assert!(l.verify(None).unwrap().is_ok());
}

pub fn inspections_are_recorded_and_countersigned_once(store: &dyn Store) {
    let (l, _) = store.fresh("inspect");
    let clock = FakeClock::new(T0, 0);
    let l = clock.install(l);
    let report =
        json!({"cameras": {"cam-1": "ok", "cam-2": "no signal"}, "disk_free_bytes": 1_000_000});
    let a = l
        .record_inspection(InspectionKind::Daily, report.clone(), false, "system")
        .unwrap();
    assert_eq!((a.id, a.at_ms, a.ok), (1, T0, false));
    assert_eq!(a.report, report);
    clock.set(T0 + 3_600_000);
    let b = l
        .record_inspection(InspectionKind::OnDemand, json!({"all": "ok"}), true, "lee")
        .unwrap();
    assert_eq!(b.id, 2);
    // Each inspection's row, in the same transaction, names it and its report's hash.
    let rows = l.list(&Filter::default()).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].entry.kind, Kind::Inspection);
    assert_eq!(rows[0].at_ms, T0);
    assert_eq!(rows[0].entry.detail["inspection_id"], 1);
    assert_eq!(rows[0].entry.detail["report_sha256"], a.report_sha256());
    assert_eq!(rows[1].entry.actor, "lee");
    assert_eq!(l.inspection(1).unwrap().as_ref(), Some(&a));
    assert_eq!(l.inspections(None).unwrap(), [a.clone(), b.clone()]);
    assert_eq!(
        l.inspections(Some(T0 + 1)).unwrap(),
        std::slice::from_ref(&b)
    );
    // Both unsigned; only the older one is past 30 minutes at T0 + 1 h + 10 min.
    let now = T0 + 3_600_000 + 600_000;
    let late = l.unsigned_older_than(now, 1_800_000).unwrap();
    assert_eq!(late.iter().map(|i| i.id).collect::<Vec<_>>(), [1]);
    clock.set(T0 + 7_200_000);
    let signed = l
        .countersign(1, "manager-kim", Some("cam-2 cable replaced"))
        .unwrap();
    assert_eq!(signed.signed_by.as_deref(), Some("manager-kim"));
    assert_eq!(signed.signed_at_ms, Some(T0 + 7_200_000));
    assert_eq!(l.inspection(1).unwrap().unwrap(), signed);
    let e = l
        .countersign(1, "manager-park", None)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("inspection 1") && e.contains("already countersigned by manager-kim"),
        "{e}"
    );
    let e = l
        .countersign(9, "manager-kim", None)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("inspection 9") && e.contains("no such inspection"),
        "{e}"
    );
    let rows = l.list(&Filter::default()).unwrap();
    assert_eq!(rows.len(), 3, "refused countersignatures leave no row");
    assert_eq!(rows[2].entry.kind, Kind::Countersign);
    assert_eq!(rows[2].entry.manager, "manager-kim");
    assert_eq!(rows[2].entry.detail["inspection_id"], 1);
    assert!(l.unsigned_older_than(now, 1_800_000).unwrap().is_empty());
    assert_eq!(
        l.unsigned_older_than(now, 0)
            .unwrap()
            .iter()
            .map(|i| i.id)
            .collect::<Vec<_>>(),
        [2]
    );
    assert!(l.verify(None).unwrap().is_ok());
}

/// Four threads appending while a fifth keeps failing inside the same group commits.
pub fn concurrent_appends_keep_one_chain(store: &dyn Store) {
    let (l, _) = store.fresh("threads");
    let l = Arc::new(l);
    let insp = l
        .record_inspection(InspectionKind::Daily, json!({}), true, "system")
        .unwrap();
    l.countersign(insp.id, "manager-kim", None).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let l = l.clone();
            std::thread::spawn(move || {
                for i in 0..100 {
                    let r = if i % 10 == 0 {
                        l.append_batch(vec![entry(t * 1000 + i), entry(t * 1000 + i + 1)])
                            .unwrap()
                            .len()
                    } else {
                        l.append(entry(t * 1000 + i)).map(|_| 1).unwrap()
                    };
                    assert!(r >= 1);
                }
            })
        })
        .collect();
    let failing = {
        let l = l.clone();
        std::thread::spawn(move || {
            for _ in 0..50 {
                assert!(l.countersign(insp.id, "manager-park", None).is_err());
            }
        })
    };
    for t in threads {
        t.join().unwrap();
    }
    failing.join().unwrap();
    let report = l.verify(None).unwrap();
    assert!(report.is_ok(), "{report:?}");
    // 2 inspection rows, 4 × (90 single + 10 batches of 2).
    assert_eq!(report.rows, 2 + 4 * 110);
    assert_eq!(l.count().unwrap(), 442);
}
