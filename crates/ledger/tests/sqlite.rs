//! The ledger on SQLite files in temporary folders: the shared chain, tamper and inspection scenarios, the
//! file's permissions, and what separate processes do to one file — several appending at once, and one
//! killed with SIGKILL at random moments while it appends.

mod common;

use common::*;
use ledger::{Entry, Filter, Kind, Ledger};
use serde_json::json;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Sqlite {
    dir: PathBuf,
}

impl Store for Sqlite {
    fn fresh(&self, name: &str) -> (Ledger, Tamper) {
        let path = self.dir.join(format!("{name}.db"));
        let l = Ledger::open_sqlite(&path).unwrap();
        let tamper = Box::new(move |sql: &str| {
            let c = rusqlite::Connection::open(&path).unwrap();
            c.execute_batch(&format!(
                "DROP TRIGGER IF EXISTS ledger_rows_no_update; \
                 DROP TRIGGER IF EXISTS ledger_rows_no_delete; {sql}"
            ))
            .unwrap();
        });
        (l, tamper)
    }
}

impl Drop for Sqlite {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn store(tag: &str) -> Sqlite {
    Sqlite { dir: work(tag) }
}

#[test]
fn appended_rows_form_one_chain_on_sqlite() {
    appended_rows_form_one_chain(&store("chain"));
}

#[test]
fn edited_rows_are_named_on_sqlite() {
    let s = store("edit");
    edited_row_is_named(&s);
    edited_detail_is_named(&s);
}

#[test]
fn deleted_rows_are_named_on_sqlite() {
    let s = store("delete");
    deleted_row_is_named(&s);
    deleted_and_renumbered_row_is_named(&s);
}

#[test]
fn forged_rows_are_named_on_sqlite() {
    forged_rows_are_named(&store("forge"));
}

#[test]
fn swapped_rows_are_named_on_sqlite() {
    swapped_rows_are_named(&store("swap"));
}

#[test]
fn checkpoints_catch_rewrites_truncation_and_forged_signatures_on_sqlite() {
    let s = store("checkpoint");
    rewritten_chain_is_caught_only_by_the_checkpoint(&s, &s.dir);
    truncation_is_caught_by_the_checkpoint(&s, &s.dir);
    bad_checkpoint_signature_is_named(&s, &s.dir);
}

#[test]
fn sqlite_refuses_updates_and_deletes_of_rows() {
    let s = store("appendonly");
    let dir = s.dir.clone();
    database_refuses_updates_and_deletes(&s, &move |_, sql| {
        let c = rusqlite::Connection::open(dir.join("appendonly.db")).unwrap();
        c.execute_batch(sql).unwrap_err().to_string()
    });
}

#[test]
fn inspections_are_recorded_and_countersigned_once_on_sqlite() {
    inspections_are_recorded_and_countersigned_once(&store("inspect"));
}

#[test]
fn concurrent_threads_keep_one_chain_on_sqlite() {
    concurrent_appends_keep_one_chain(&store("threads"));
}

#[test]
fn ledger_file_and_new_folder_are_private() {
    let dir = work("perms");
    let path = dir.join("data").join("ledger.db");
    let l = Ledger::open_sqlite(&path).unwrap();
    l.append(Entry::new(Kind::Login, "lee", "login")).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&dir.join("data")), 0o700);
    assert_eq!(mode(&dir.join("data").join("ledger.db-wal")), 0o600);
    drop(l);
    // Reopening keeps the rows.
    assert_eq!(Ledger::open_sqlite(&path).unwrap().count().unwrap(), 1);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn unopenable_path_error_names_it() {
    let dir = work("bad-path");
    std::fs::write(dir.join("file"), b"not a folder").unwrap();
    let path = dir.join("file").join("ledger.db");
    let e = Ledger::open_sqlite(&path).err().unwrap().to_string();
    assert!(e.contains(&path.display().to_string()), "{e}");
    std::fs::remove_dir_all(dir).unwrap();
}

// ---- separate processes ----

/// Set in a re-executed test binary: what the child does (`loop:PATH` or `count:N:PATH`).
const CHILD: &str = "GARIM_LEDGER_TEST_CHILD";

/// The child's work: appends singles and batches of five (detail names the batch), forever or N rows.
fn child(spec: &str) {
    let (limit, path) = match spec.split_once(':') {
        Some(("loop", path)) => (usize::MAX, path),
        Some(("count", rest)) => {
            let (n, path) = rest.split_once(':').unwrap();
            (n.parse().unwrap(), path)
        }
        _ => panic!("bad {CHILD}: {spec}"),
    };
    let l = Ledger::open_sqlite(Path::new(path)).unwrap();
    let pid = std::process::id();
    let mut written = 0;
    let mut batch = 0u64;
    while written < limit {
        if batch % 3 == 0 {
            let es = (0..5)
                .map(|i| Entry {
                    // Rows big enough to span database pages.
                    purpose: "x".repeat(3000),
                    detail: json!({"pid": pid, "batch": batch, "i": i}),
                    ..Entry::new(Kind::View, "child", format!("cam-{pid} batch {batch}"))
                })
                .collect();
            written += l.append_batch(es).unwrap().len();
        } else {
            l.append(Entry {
                detail: json!({"pid": pid, "single": batch}),
                ..Entry::new(Kind::Use, "child", format!("cam-{pid} single {batch}"))
            })
            .unwrap();
            written += 1;
        }
        batch += 1;
    }
}

fn spawn_child(test: &str, spec: String) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD, spec)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

fn random_below(n: u64) -> u64 {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).unwrap();
    u64::from_le_bytes(b) % n
}

/// Every batch of five in the ledger is whole.
fn batches_are_whole(l: &Ledger) {
    let mut per_batch = std::collections::BTreeMap::new();
    for r in l.list(&Filter::default()).unwrap() {
        if let (Some(pid), Some(batch)) = (r.entry.detail.get("pid"), r.entry.detail.get("batch")) {
            *per_batch
                .entry((pid.to_string(), batch.to_string()))
                .or_insert(0) += 1;
        }
    }
    for (b, n) in per_batch {
        assert_eq!(n, 5, "batch {b:?} has {n} of its 5 rows");
    }
}

#[test]
fn killed_appender_leaves_whole_rows_only() {
    if let Ok(spec) = std::env::var(CHILD) {
        return child(&spec);
    }
    let dir = work("kill");
    let path = dir.join("ledger.db");
    let watcher = Ledger::open_sqlite(&path).unwrap();
    let mut before = 0;
    for round in 0..5 {
        let mut appender = spawn_child(
            "killed_appender_leaves_whole_rows_only",
            format!("loop:{}", path.display()),
        );
        // Wait for it to be appending, then kill it at a random moment.
        let started = Instant::now();
        while watcher.count().unwrap() <= before {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "round {round}: the child never appended"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(random_below(250)));
        appender.kill().unwrap(); // SIGKILL
        appender.wait().unwrap();
        let l = Ledger::open_sqlite(&path).unwrap();
        let report = l.verify(None).unwrap();
        assert!(report.is_ok(), "round {round}: {report:?}");
        let count = l.count().unwrap();
        assert!(count > before, "round {round}");
        assert_eq!(report.head.as_ref().map(|h| h.0), Some(count));
        batches_are_whole(&l);
        let check: String = rusqlite::Connection::open(&path)
            .unwrap()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        before = count;
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn two_processes_appending_keep_one_chain() {
    if let Ok(spec) = std::env::var(CHILD) {
        return child(&spec);
    }
    let dir = work("procs");
    let path = dir.join("ledger.db");
    let parent = Ledger::open_sqlite(&path).unwrap();
    let children: Vec<_> = (0..2)
        .map(|_| {
            spawn_child(
                "two_processes_appending_keep_one_chain",
                format!("count:300:{}", path.display()),
            )
        })
        .collect();
    // The parent appends too, from its own connection.
    for i in 0..100 {
        parent.append(entry(i)).unwrap();
    }
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let report = parent.verify(None).unwrap();
    assert!(report.is_ok(), "{report:?}");
    let rows = parent.list(&Filter::default()).unwrap();
    assert!(rows.len() >= 700, "{}", rows.len());
    let pids: std::collections::BTreeSet<String> = rows
        .iter()
        .filter_map(|r| r.entry.detail.get("pid").map(|p| p.to_string()))
        .collect();
    assert_eq!(pids.len(), 2);
    batches_are_whole(&parent);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_edited_or_deleted_inspection_is_named_and_the_file_refuses_edits() {
    let dir = work("inspection-edit");
    let path = dir.join("l.db");
    let l = Ledger::open_sqlite(&path).unwrap();
    let i = l
        .record_inspection(
            ledger::InspectionKind::Daily,
            json!({"cameras": []}),
            true,
            "system",
        )
        .unwrap();
    let second = l
        .record_inspection(
            ledger::InspectionKind::Daily,
            json!({"cameras": [1]}),
            false,
            "system",
        )
        .unwrap();
    l.countersign(i.id, "m", Some("ok")).unwrap();
    assert!(l.verify(None).unwrap().problem.is_none());
    let c = rusqlite::Connection::open(&path).unwrap();
    // The file itself refuses: a signed inspection, or a report, cannot be changed; none can be deleted.
    assert!(
        c.execute(
            "UPDATE ledger_inspections SET note = 'x' WHERE id = ?1",
            [i.id as i64]
        )
        .is_err()
    );
    assert!(
        c.execute(
            "UPDATE ledger_inspections SET ok = 1 WHERE id = ?1",
            [second.id as i64]
        )
        .is_err()
    );
    assert!(
        c.execute(
            "DELETE FROM ledger_inspections WHERE id = ?1",
            [i.id as i64]
        )
        .is_err()
    );
    // With the triggers dropped, the edit is still caught against the chain.
    c.execute_batch(&format!(
        "DROP TRIGGER ledger_inspections_sign_once; \
         UPDATE ledger_inspections SET report = '{{\"cameras\":[]}}', ok = 1 WHERE id = {};",
        second.id
    ))
    .unwrap();
    let p = l.verify(None).unwrap().problem.expect("edit caught");
    assert!(
        p.to_string()
            .contains(&format!("inspection {} was edited", second.id)),
        "{p}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_inspection_signed_behind_the_ledgers_back_is_named() {
    let dir = work("inspection-forged-signature");
    let path = dir.join("l.db");
    let l = Ledger::open_sqlite(&path).unwrap();
    let i = l
        .record_inspection(
            ledger::InspectionKind::Daily,
            json!({"cameras": []}),
            false,
            "system",
        )
        .unwrap();
    // The file allows the one signature an unsigned inspection may get; only the chain can tell it is forged.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute(
            "UPDATE ledger_inspections SET signed_by = 'boss', signed_at_ms = 1 WHERE id = ?1",
            [i.id as i64],
        )
        .unwrap();
    let p = l
        .verify(None)
        .unwrap()
        .problem
        .expect("forged signature caught");
    assert!(
        p.to_string().contains(&format!("inspection {}", i.id)),
        "{p}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn reports_with_any_float_read_back_to_the_hash_their_rows_carry() {
    let dir = work("inspection-floats");
    let l = Ledger::open_sqlite(&dir.join("l.db")).unwrap();
    // Values a camera's report really holds: shares, ages and load averages, some not short decimals.
    let mut floats: Vec<f64> = vec![
        0.1 + 0.2,
        1.0 / 3.0,
        2.0f64.sqrt(),
        1e-300,
        123_456.789_012_345_6,
    ];
    let mut x = 0.731_f64;
    for _ in 0..2000 {
        x = (x * 3.999 * (1.0 - x)).abs();
        floats.push(x * 1e3);
    }
    let i = l
        .record_inspection(
            ledger::InspectionKind::Daily,
            json!({"values": floats}),
            true,
            "system",
        )
        .unwrap();
    l.countersign(i.id, "m", None).unwrap();
    assert!(l.verify(None).unwrap().problem.is_none());
    let _ = std::fs::remove_dir_all(dir);
}
