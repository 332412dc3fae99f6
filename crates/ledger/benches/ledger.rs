//! What the ledger costs on this machine's disk, printed, not asserted: durable single-row appends (each its
//! own fsync'ed transaction) from one thread and from eight (group commit), batched appends, verify over a
//! million rows, and list() latency for filtered queries over 100,000 rows.
//! Run: `cargo bench -p ledger --bench ledger`.

use ledger::{Entry, Filter, Kind, Ledger};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn entry(i: u64) -> Entry {
    let kind = [
        Kind::View,
        Kind::Use,
        Kind::Provide,
        Kind::Destroy,
        Kind::Login,
    ][(i % 5) as usize];
    Entry {
        purpose: "민원 처리를 위한 열람".into(),
        recipient: "정보주체 본인".into(),
        basis: "개인정보 보호법 제35조".into(),
        form: "화면 열람".into(),
        period: "2026-12-01 08:00–08:10".into(),
        manager: "manager-kim".into(),
        client: "10.0.0.9".into(),
        detail: json!({"segments": [i, i + 1], "role": "staff"}),
        ..Entry::new(
            kind,
            format!("user-{}", i % 7),
            format!("cam-{} segment {i}", i % 16),
        )
    }
}

fn fresh(dir: &Path, name: &str) -> (Ledger, PathBuf) {
    let path = dir.join(name);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    (Ledger::open_sqlite(&path).unwrap(), path)
}

/// Appends from `threads` threads, one row per call, for `secs`; rows per second.
fn durable_appends(dir: &Path, threads: u64, secs: u64) -> f64 {
    let (l, _) = fresh(dir, &format!("durable-{threads}.db"));
    let l = Arc::new(l);
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let (l, stop, done) = (l.clone(), stop.clone(), done.clone());
            std::thread::spawn(move || {
                let mut i = t * 1_000_000_000;
                while !stop.load(Ordering::Relaxed) {
                    l.append(entry(i)).unwrap();
                    done.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let n = done.load(Ordering::Relaxed);
    let rate = n as f64 / started.elapsed().as_secs_f64();
    assert!(l.verify(None).unwrap().is_ok());
    rate
}

/// A ledger of `n` rows made with append_batch in batches of `batch`, one row per second of fake time.
fn filled(dir: &Path, name: &str, n: u64, batch: u64) -> (Ledger, Duration) {
    let (l, _) = fresh(dir, name);
    let t = Arc::new(AtomicI64::new(1_796_083_200_000));
    let l = l.with_clock(Arc::new(move || t.fetch_add(1000, Ordering::Relaxed)));
    let started = Instant::now();
    let mut i = 0;
    while i < n {
        let k = batch.min(n - i);
        l.append_batch((i..i + k).map(entry).collect()).unwrap();
        i += k;
    }
    (l, started.elapsed())
}

/// The filter of query number q.
type MakeFilter = Box<dyn Fn(u64) -> Filter>;

fn p(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
}

fn main() {
    let dir = std::env::temp_dir().join(format!("garim-ledger-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    println!(
        "ledger bench (SQLite WAL, synchronous=FULL) in {}",
        dir.display()
    );

    for threads in [1, 8] {
        let rate = durable_appends(&dir, threads, 3);
        println!("durable appends, {threads} thread(s), 3 s: {rate:.0} rows/s");
    }

    let (_, took) = filled(&dir, "batched-100.db", 100_000, 100);
    println!(
        "batched appends, batches of 100: {:.0} rows/s",
        100_000.0 / took.as_secs_f64()
    );

    let (big, took) = filled(&dir, "million.db", 1_000_000, 10_000);
    println!(
        "batched appends, batches of 10,000 (1,000,000 rows): {:.0} rows/s ({:.2} s)",
        1_000_000.0 / took.as_secs_f64(),
        took.as_secs_f64()
    );
    let bytes = std::fs::metadata(dir.join("million.db")).unwrap().len();
    println!("  database size: {:.0} MiB", bytes as f64 / 1048576.0);
    for run in 1..=2 {
        let started = Instant::now();
        let report = big.verify(None).unwrap();
        let took = started.elapsed();
        assert!(report.is_ok() && report.rows == 1_000_000, "{report:?}");
        println!(
            "verify 1,000,000 rows (run {run}): {:.3} s ({:.0} rows/s)",
            took.as_secs_f64(),
            1_000_000.0 / took.as_secs_f64()
        );
    }
    drop(big);

    let (l, _) = filled(&dir, "hundred-k.db", 100_000, 10_000);
    let t0 = 1_796_083_200_000i64;
    let span_ms = 100_000 * 1000;
    let mut queries: Vec<(&str, MakeFilter)> = Vec::new();
    queries.push((
        "kind=view & actor & 1 h window, limit 100",
        Box::new(move |q| {
            let from = t0 + (q as i64 * 7_919_000) % (span_ms - 3_600_000);
            Filter {
                from_ms: Some(from),
                to_ms: Some(from + 3_600_000),
                kinds: vec![Kind::View],
                actor: Some(format!("user-{}", q % 7)),
                limit: Some(100),
                ..Filter::default()
            }
        }),
    ));
    queries.push((
        "subject contains 'cam-3 segment 4' (full scan), limit 100",
        Box::new(|_| Filter {
            subject_contains: Some("cam-3 segment 4".into()),
            limit: Some(100),
            ..Filter::default()
        }),
    ));
    queries.push((
        "page of 100 after a seq",
        Box::new(|q| Filter {
            after_seq: Some(q * 397 % 99_000),
            limit: Some(100),
            ..Filter::default()
        }),
    ));
    for (name, make) in &queries {
        let mut times = Vec::new();
        let mut found = 0;
        for q in 0..300 {
            let f = make(q);
            let started = Instant::now();
            found += l.list(&f).unwrap().len();
            times.push(started.elapsed());
        }
        times.sort();
        println!(
            "list() on 100,000 rows, {name}: p50 {:.2} ms, p99 {:.2} ms ({} rows/query avg)",
            p(&times, 0.5).as_secs_f64() * 1e3,
            p(&times, 0.99).as_secs_f64() * 1e3,
            found / 300
        );
    }
    drop(l);
    let _ = std::fs::remove_dir_all(&dir);
}
