//! The vault index on a real PostgreSQL 15 (Debian's `postgresql`; scripts/test installs it): a throwaway
//! cluster made with initdb in a temporary folder and started on 127.0.0.1:19354, stopped when the test ends.
//! Two replicas (two vaults with their own folders and nodes) share one index and run the vault's scenarios:
//! listing, reading and exporting from the owning node only, crash recovery limited to the replica's cameras,
//! and the retention sweep that destroys a day's key (no copy left in the table file) and the files of the
//! node that holds them.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use vault::{PostgresIndex, SecretKey, Vault, VaultError, VaultOptions};

const PORT: u16 = 19354;
const PASSWORD: &str = "pw-s3cret-9f2";

/// The shared test cluster, with the vault's own view of a database.
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

    /// A fresh database for one scenario.
    fn database(&self, name: &str) -> PostgresIndex {
        let (url, shown) = self.0.create_database(name);
        PostgresIndex { url, shown }
    }
}

/// A replica: its own folder and node, serving the cameras whose id starts with `prefix`.
fn replica(
    index: &PostgresIndex,
    key: &SecretKey,
    dir: &Path,
    node: &str,
    prefix: &'static str,
) -> Vault {
    Vault::open_with(
        dir,
        key.clone(),
        VaultOptions {
            postgres: Some(index.clone()),
            node: Some(node.to_string()),
            owns: Some(Arc::new(move |camera: &str| camera.starts_with(prefix)) as vault::Owns),
            skip_recovery: false,
        },
    )
    .unwrap()
}

fn put(v: &Vault, cam: &str, start: i64, data: &[u8]) -> vault::SegmentRow {
    let mut s = v.begin(cam, start).unwrap();
    s.write(data).unwrap();
    v.commit(s, start + 60).unwrap()
}

fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for cam in std::fs::read_dir(dir).unwrap().flatten() {
        if !cam.path().is_dir() {
            continue;
        }
        for day in std::fs::read_dir(cam.path()).unwrap().flatten() {
            for f in std::fs::read_dir(day.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                if f.path().to_string_lossy().ends_with(suffix) {
                    out.push(f.path());
                }
            }
        }
    }
    out.sort();
    out
}

fn work(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("garim-pgvault-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Both replicas' segments are listed everywhere; each reads (exports) only its own.
fn replicas_list_everything_and_read_only_their_own(pg: &Cluster) {
    let index = pg.database("listing");
    let key = SecretKey::random();
    let w = work("listing");
    let a = replica(&index, &key, &w.join("a"), "replica-a", "cam-a");
    let b = replica(&index, &key, &w.join("b"), "replica-b", "cam-b");
    let t = 1_795_923_045;
    let ra = put(&a, "cam-a", t, b"from a");
    put(&a, "cam-a", t + 60, b"from a again");
    let rb = put(&b, "cam-b", t, b"from b");
    for v in [&a, &b] {
        let rows = v.list(None, t, t + 120).unwrap();
        assert_eq!(rows.len(), 3, "{rows:?}");
        assert_eq!(
            rows.iter().map(|r| r.node.as_str()).collect::<Vec<_>>(),
            ["replica-a", "replica-a", "replica-b"]
        );
    }
    assert_eq!(a.list(Some("cam-a"), t, t + 120).unwrap()[0], ra);
    assert_eq!(a.read(&ra).unwrap(), b"from a");
    assert_eq!(b.read(&rb).unwrap(), b"from b");
    let e = a.read(&rb).unwrap_err();
    assert!(matches!(e, VaultError::Elsewhere { .. }), "{e}");
    let e = e.to_string();
    assert!(
        e.contains("cam-b") && e.contains("replica-b") && e.contains("not on this node's storage"),
        "{e}"
    );
    // Sealed segments: opened with the grant, on their node only.
    let (grant_hex, public_hex) = vault::sealed::new_keypair();
    let public = vault::SealedPublicKey::parse(&public_hex).unwrap();
    let grant = vault::Grant::parse(&grant_hex, "test").unwrap();
    let mut s = a.begin_sealed("cam-a", t + 200, &public).unwrap();
    s.write(b"unmasked zone").unwrap();
    let sealed = a.commit(s, t + 260).unwrap();
    assert!(sealed.sealed && sealed.node == "replica-a");
    assert_eq!(a.read_sealed(&sealed, &grant).unwrap(), b"unmasked zone");
    assert!(a.read(&sealed).unwrap_err().to_string().contains("grant"));
    let e = b.read_sealed(&sealed, &grant).unwrap_err().to_string();
    assert!(e.contains("replica-a"), "{e}");
    // Usage (storage metrics) counts this node's files only.
    assert_eq!(
        a.usage()
            .unwrap()
            .iter()
            .map(|u| u.0.as_str())
            .collect::<Vec<_>>(),
        ["cam-a", "cam-a.sealed"]
    );
    assert_eq!(b.usage().unwrap(), vec![("cam-b".into(), rb.bytes, t)]);
    // The same key opens the same day whichever process creates it first: a second vault on A's folder
    // (the listing tool) reads what A wrote.
    let tool = Vault::open_with(
        &w.join("a"),
        key.clone(),
        VaultOptions {
            postgres: Some(index.clone()),
            node: Some("replica-a".into()),
            owns: None,
            skip_recovery: true,
        },
    )
    .unwrap();
    assert_eq!(tool.read(&ra).unwrap(), b"from a");
    std::fs::remove_dir_all(w).unwrap();
}

/// Recovery of replica A removes its own partial segments and indexes its renamed ones, and leaves B's
/// partial segments (even in A's folder, as on a shared storage path) and B's rows alone.
fn recovery_touches_only_the_replicas_own_cameras(pg: &Cluster) {
    let index = pg.database("recovery");
    let key = SecretKey::random();
    let w = work("recovery");
    let (da, db) = (w.join("a"), w.join("b"));
    let a = replica(&index, &key, &da, "replica-a", "cam-a");
    let b = replica(&index, &key, &db, "replica-b", "cam-b");
    let t = 1_795_923_045;
    let rb = put(&b, "cam-b", t, b"b indexed");
    // Crashes: a segment left open and one renamed but not indexed, on each replica.
    let mut open_a = a.begin("cam-a", t).unwrap();
    open_a.write(b"half").unwrap();
    std::mem::forget(open_a);
    let mut open_b = b.begin("cam-b", t + 60).unwrap();
    open_b.write(b"half").unwrap();
    std::mem::forget(open_b);
    // cam-b also recorded into A's folder (a shared path): A must not judge those files either.
    let mut stray = a.begin("cam-b", t + 120).unwrap();
    stray.write(b"b's open segment on a shared path").unwrap();
    std::mem::forget(stray);
    let renamed = |v: &Vault, cam: &str, at: i64| {
        let mut s = v.begin(cam, at).unwrap();
        s.write(b"closed before the crash").unwrap();
        let row = v.commit(s, at + 60).unwrap();
        // Undo the index row only: the file stays renamed, as after a crash between rename and insert.
        let mut c = pg.client("recovery");
        c.execute("DELETE FROM segments WHERE id = $1", &[&row.id])
            .unwrap();
        row.path
    };
    let renamed_a = renamed(&a, "cam-a", t + 180);
    let renamed_b = renamed(&b, "cam-b", t + 180);
    drop(a);
    assert_eq!(files(&da, ".part").len(), 2);
    let a = replica(&index, &key, &da, "replica-a", "cam-a");
    // A's partial segment is gone; cam-b's (in A's folder) stays; B's folder is untouched.
    let parts_a = files(&da, ".part");
    assert_eq!(parts_a.len(), 1, "{parts_a:?}");
    assert!(parts_a[0].to_string_lossy().contains("cam-b"));
    assert_eq!(files(&db, ".part").len(), 1);
    // A's renamed segment is indexed on A; B's is still unindexed and B's rows are unchanged.
    let rows = a.list(None, 0, i64::MAX).unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows.iter()
            .any(|r| r.path == renamed_a && r.node == "replica-a")
    );
    // (Paths are joined to the reading vault's folder: another node's row names its file by id and node.)
    assert!(
        rows.iter()
            .any(|r| r.id == rb.id && r.node == "replica-b" && r.sha256 == rb.sha256)
    );
    assert!(renamed_b.exists());
    assert_eq!(a.read(&rows[0]).unwrap(), b"closed before the crash");
    // B's own recovery then finishes B's.
    drop(b);
    let b = replica(&index, &key, &db, "replica-b", "cam-b");
    assert!(files(&db, ".part").is_empty());
    let rows = b.list(Some("cam-b"), 0, i64::MAX).unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows.iter().all(|r| r.node == "replica-b"));
    assert_eq!(
        b.read(rows.iter().find(|r| r.path == renamed_b).unwrap())
            .unwrap(),
        b"closed before the crash"
    );
    std::fs::remove_dir_all(w).unwrap();
}

/// Replica A's sweep destroys its expired day key (no copy left in the keys table's file), its files and rows;
/// B's camera is B's to sweep; a copy of B's day left on A goes once B has destroyed the key.
fn sweep_destroys_the_key_and_the_owning_nodes_files(pg: &Cluster) {
    let index = pg.database("sweep");
    let key = SecretKey::random();
    let w = work("sweep");
    let (da, db) = (w.join("a"), w.join("b"));
    // Each replica's 파기 records, as its ledger would keep them.
    let log_of = || {
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let l = log.clone();
        let t: vault::Trail = std::sync::Arc::new(move |r| {
            l.lock().unwrap().push_str(&format!("{r}\n"));
            Ok(())
        });
        (t, log)
    };
    let ((ta, log_a), (tb, _)) = (log_of(), log_of());
    let a = replica(&index, &key, &da, "replica-a", "cam-a").with_trail(ta);
    let b = replica(&index, &key, &db, "replica-b", "cam-b").with_trail(tb);
    let day = 20_000i64;
    let old = put(&a, "cam-a", (day - 31) * 86_400 + 100, b"old");
    let kept = put(&a, "cam-a", (day - 30) * 86_400 + 100, b"kept");
    let old_b = put(&b, "cam-b", (day - 31) * 86_400 + 100, b"old b");
    // A copy of cam-b's day on A (cam-b was A's before the replicas were resharded).
    let moved = put(&a, "cam-b", (day - 31) * 86_400 + 400, b"old b on a");
    let mut c = pg.client("sweep");
    let wrapped: Vec<u8> = c
        .query_one(
            "SELECT wrapped FROM keys WHERE camera = 'cam-a' AND day = $1",
            &[&(day - 31)],
        )
        .unwrap()
        .get(0);
    let holds = |file: &[u8]| file.windows(wrapped.len()).any(|w| w == wrapped.as_slice());
    assert!(
        holds(&pg.table_file("sweep", "keys")),
        "the wrapped key is in the table file before destruction"
    );
    let now = day * 86_400 + 3600;
    let report = a.sweep(now, &|_| Some(30)).unwrap();
    assert_eq!(
        (report.keys_destroyed, report.segments_deleted),
        (1, 1),
        "{report:?}"
    );
    assert!(!old.path.exists() && kept.path.exists());
    assert!(old_b.path.exists() && moved.path.exists(), "cam-b is B's");
    let row = c
        .query_one(
            "SELECT wrapped IS NULL, destroyed_at, logged FROM keys WHERE camera = 'cam-a' AND day = $1",
            &[&(day - 31)],
        )
        .unwrap();
    assert!(row.get::<_, bool>(0));
    assert_eq!(row.get::<_, Option<i64>>(1), Some(now));
    assert_eq!(row.get::<_, i32>(2), 1);
    assert!(
        !holds(&pg.table_file("sweep", "keys")),
        "the destroyed key's old row version is still in the keys table file"
    );
    let e = a.read(&old).unwrap_err().to_string();
    assert!(e.contains("destroyed"), "{e}");
    assert_eq!(a.read(&kept).unwrap(), b"kept");
    let b_key: bool = c
        .query_one(
            "SELECT wrapped IS NOT NULL FROM keys WHERE camera = 'cam-b' AND day = $1",
            &[&(day - 31)],
        )
        .unwrap()
        .get(0);
    assert!(b_key, "A destroyed the key of B's camera");
    // Idempotent on A; A's 파기 record is in A's ledger.
    assert_eq!(
        a.sweep(now, &|_| Some(30)).unwrap(),
        vault::SweepReport::default()
    );
    let log = log_a.lock().unwrap().clone();
    assert_eq!(log.lines().count(), 1, "{log}");
    assert!(log.contains("파기") && log.contains("cam-a"));
    // B destroys its own day: its key and its file; A's copy of that day stays until A's next sweep.
    let report = b.sweep(now, &|_| Some(30)).unwrap();
    assert_eq!((report.keys_destroyed, report.segments_deleted), (1, 1));
    assert!(!old_b.path.exists() && moved.path.exists());
    let report = a.sweep(now, &|_| Some(30)).unwrap();
    assert_eq!(
        (report.keys_destroyed, report.segments_deleted),
        (0, 1),
        "{report:?}"
    );
    assert!(!moved.path.exists());
    assert!(a.list(Some("cam-b"), 0, i64::MAX).unwrap().is_empty());
    // A destroyed day is never written again, from any replica.
    assert!(a.begin("cam-a", (day - 31) * 86_400 + 200).is_err());
    assert!(b.begin("cam-b", (day - 31) * 86_400 + 200).is_err());
    std::fs::remove_dir_all(w).unwrap();
}

/// Without a name given, a node is named once in its folder (`node-id`) and keeps that name.
fn node_name_stays_with_the_folder(pg: &Cluster) {
    let index = pg.database("naming");
    let w = work("naming");
    let open = || {
        Vault::open_with(
            &w,
            SecretKey::random(),
            VaultOptions {
                postgres: Some(index.clone()),
                ..VaultOptions::default()
            },
        )
        .unwrap()
    };
    let first = open().node().to_string();
    assert!(
        first.len() > 9 && !first.contains(char::is_whitespace),
        "{first}"
    );
    assert_eq!(
        std::fs::read_to_string(w.join("node-id")).unwrap().trim(),
        first
    );
    assert_eq!(open().node(), first);
    std::fs::remove_dir_all(w).unwrap();
}

/// A sealed segment's replacement swaps the rows in one transaction; a row replaced meanwhile is not replaced
/// twice.
fn a_sealed_segment_is_replaced_once(pg: &Cluster) {
    let index = pg.database("replacing");
    let w = work("replacing");
    let v = replica(&index, &SecretKey::random(), &w, "node-r", "cam")
        .with_trail(Arc::new(|_: &serde_json::Value| Ok(())));
    let (grant_hex, public_hex) = vault::sealed::new_keypair();
    let public = vault::SealedPublicKey::parse(&public_hex).unwrap();
    let grant = vault::Grant::parse(&grant_hex, "test").unwrap();
    let t = 20_000 * 86_400 + 10;
    let mut s = v.begin_sealed("cam-1", t, &public).unwrap();
    s.write(b"unmasked").unwrap();
    let old = v.commit(s, t + 60).unwrap();
    let new = v.replace_sealed("cam-1", &old, b"masked", &public).unwrap();
    let rows = v.list(None, 0, i64::MAX).unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(v.read_sealed(&rows[0], &grant).unwrap(), b"masked");
    assert!(!old.path.exists() && new.path.exists());
    let e = v
        .replace_sealed("cam-1", &old, b"again", &public)
        .unwrap_err();
    assert!(e.to_string().contains("nothing was changed"), "{e}");
    assert_eq!(v.list(None, 0, i64::MAX).unwrap().len(), 1);
    assert_eq!(files(&w, ".gseg").len(), 1);
    std::fs::remove_dir_all(w).unwrap();
}

/// Errors name the index by its URL without the credentials.
fn errors_never_show_the_password(pg: &Cluster) {
    let missing = PostgresIndex {
        url: pg.url("no_such_db"),
        shown: format!("postgres://***@127.0.0.1:{PORT}/no_such_db"),
    };
    let w = work("secret");
    let e = Vault::open_with(
        &w,
        SecretKey::random(),
        VaultOptions {
            postgres: Some(missing.clone()),
            ..VaultOptions::default()
        },
    )
    .err()
    .expect("no such database")
    .to_string();
    assert!(
        e.contains("postgres://***@127.0.0.1")
            && e.contains("database \"no_such_db\" does not exist"),
        "{e}"
    );
    assert!(!e.contains(PASSWORD), "{e}");
    assert!(!format!("{missing:?}").contains(PASSWORD));
    let _ = std::fs::remove_dir_all(w);
}

/// Two replicas on different volumes claiming one shard: the second is refused with the holder's name, the
/// holder hears of it, other shards are free, and the shard is free again when the holder goes.
fn a_shard_is_leased_by_one_replica_at_a_time(pg: &Cluster) {
    use vault::{LeaseEvent, ShardClaimResult, ShardLease};
    let at = pg.database("lease");
    let ShardClaimResult::Held(mut first) =
        ShardLease::try_claim(&at, 1, 3, "pid=1 host=replica-a").unwrap()
    else {
        panic!("the first claim must hold");
    };
    assert_eq!(first.poll().unwrap(), LeaseEvent::Held);
    match ShardLease::try_claim(&at, 1, 3, "pid=2 host=replica-b").unwrap() {
        ShardClaimResult::Taken { holder } => {
            assert!(holder.contains("replica-a"), "{holder}")
        }
        ShardClaimResult::Held(_) => panic!("shard 1/3 claimed twice"),
    }
    match first.poll().unwrap() {
        LeaseEvent::Refused { who } => assert!(who.contains("replica-b"), "{who}"),
        other => panic!("the holder was not told: {other:?}"),
    }
    assert_eq!(first.poll().unwrap(), LeaseEvent::Held, "reported once");
    assert!(matches!(
        ShardLease::try_claim(&at, 2, 3, "pid=3 host=replica-c").unwrap(),
        ShardClaimResult::Held(_)
    ));
    drop(first);
    // The server releases the lock when it notices the holder's connection closed: give it a moment.
    let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match ShardLease::try_claim(&at, 1, 3, "pid=2 host=replica-b").unwrap() {
            ShardClaimResult::Held(_) => break,
            ShardClaimResult::Taken { holder } => {
                assert!(
                    std::time::Instant::now() < until,
                    "never released: {holder}"
                );
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
    }
}

#[test]
fn postgres_index_shared_by_two_replicas() {
    let pg = Cluster::start();
    replicas_list_everything_and_read_only_their_own(&pg);
    recovery_touches_only_the_replicas_own_cameras(&pg);
    sweep_destroys_the_key_and_the_owning_nodes_files(&pg);
    node_name_stays_with_the_folder(&pg);
    errors_never_show_the_password(&pg);
    a_sealed_segment_is_replaced_once(&pg);
    a_shard_is_leased_by_one_replica_at_a_time(&pg);
}
