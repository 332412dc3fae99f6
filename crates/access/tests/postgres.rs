//! The directory on a real PostgreSQL 15 (Debian's `postgresql`; scripts/test installs it), started as the
//! vault's test does: a throwaway cluster made with initdb in a temporary folder, on 127.0.0.1:19471 (not
//! the vault test's port, so both may run at once), stopped when the test ends. Every shared scenario runs
//! on its own database; then what only Postgres shows: the table files hold neither token nor password,
//! errors show the URL without its password, and two replicas share users and sessions. Fails, not skips,
//! when PostgreSQL is missing.

mod scenarios;

use access::{AccessError, Directory, Role, SessionKind};
use scenarios::{PW, pw};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PORT: u16 = 19471;
const BIN: &str = "/usr/lib/postgresql/15/bin";
const PASSWORD: &str = "pw-s3cret-a11c";

/// A PostgreSQL cluster for this test only; dropping it stops the server and removes its folder.
struct Cluster {
    root: PathBuf,
    server: Child,
}

/// initdb and postgres refuse to run as root: as root they run as the `postgres` user the package creates.
fn as_postgres(cmd: &mut Command) -> &mut Command {
    if unsafe { libc::geteuid() } == 0 {
        let (uid, gid) = postgres_user();
        cmd.uid(uid).gid(gid);
    }
    cmd
}

fn postgres_user() -> (u32, u32) {
    let name = std::ffi::CString::new("postgres").unwrap();
    // SAFETY: getpwnam returns null or a pointer to a static record, read at once.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    assert!(
        !pw.is_null(),
        "no `postgres` user: install Debian's postgresql package (apt-get install postgresql)"
    );
    unsafe { ((*pw).pw_uid, (*pw).pw_gid) }
}

impl Cluster {
    fn start() -> Cluster {
        assert!(
            Path::new(BIN).join("postgres").exists(),
            "{BIN}/postgres not found: install PostgreSQL 15 (apt-get install postgresql; scripts/test does)"
        );
        let root = std::env::temp_dir().join(format!("garim-access-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("sock")).unwrap();
        if unsafe { libc::geteuid() } == 0 {
            let (uid, gid) = postgres_user();
            for p in [root.clone(), root.join("sock")] {
                std::os::unix::fs::chown(&p, Some(uid), Some(gid)).unwrap();
            }
        }
        let data = root.join("data");
        let out = as_postgres(Command::new(Path::new(BIN).join("initdb")).args([
            "-D",
            data.to_str().unwrap(),
            "-U",
            "garim",
            "--auth=trust",
            "--no-locale",
            "-E",
            "UTF8",
            "--no-sync",
        ]))
        .output()
        .unwrap();
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let log = std::fs::File::create(root.join("server.log")).unwrap();
        let server = as_postgres(Command::new(Path::new(BIN).join("postgres")).args([
            "-D",
            data.to_str().unwrap(),
            "-k",
            root.join("sock").to_str().unwrap(),
            "-h",
            "127.0.0.1",
            "-p",
            &PORT.to_string(),
            "-F",
        ]))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
        let mut cluster = Cluster { root, server };
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = cluster.server.try_wait() {
                panic!(
                    "postgres exited ({status}) before accepting connections (port {PORT} taken?): {}",
                    cluster.log()
                );
            }
            if postgres::Client::connect(&cluster.url("postgres"), postgres::NoTls).is_ok() {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "postgres did not accept connections within 30 s: {}",
                cluster.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        cluster
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.root.join("server.log")).unwrap_or_default()
    }

    fn url(&self, db: &str) -> String {
        format!("postgres://garim:{PASSWORD}@127.0.0.1:{PORT}/{db}")
    }

    fn shown(&self, db: &str) -> String {
        format!("postgres://***@127.0.0.1:{PORT}/{db}")
    }

    fn client(&self, db: &str) -> postgres::Client {
        postgres::Client::connect(&self.url(db), postgres::NoTls).unwrap()
    }

    /// A directory on a fresh database.
    fn directory(&self, name: &str) -> Directory {
        self.client("postgres")
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        Directory::open_postgres(&self.url(name), &self.shown(name)).unwrap()
    }

    /// The bytes of a table's file as PostgreSQL has written them to disk.
    fn table_file(&self, db: &str, table: &str) -> Vec<u8> {
        let mut c = self.client(db);
        c.batch_execute("CHECKPOINT").unwrap();
        let rel: String = c
            .query_one("SELECT pg_relation_filepath($1::text::regclass)", &[&table])
            .unwrap()
            .get(0);
        std::fs::read(self.root.join("data").join(rel)).unwrap()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // SIGQUIT: immediate shutdown (a throwaway cluster needs no checkpoint).
        unsafe { libc::kill(self.server.id() as i32, libc::SIGQUIT) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.server.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.server.kill();
        let _ = self.server.wait();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// The users and sessions tables' files hold the PHC string and the client, never the password or a token.
fn table_files_hold_neither_token_nor_password(pg: &Cluster) {
    let d = pg.directory("bytes");
    let password = "a password to look for 7f3a";
    d.add_user("boss", Role::Manager, &pw(password), None)
        .unwrap();
    let (token, _) = d
        .login("boss", &pw(password), SessionKind::Cookie, "10.0.0.1")
        .unwrap();
    let users = pg.table_file("bytes", "access_users");
    let sessions = pg.table_file("bytes", "access_sessions");
    let holds = |file: &[u8], needle: &[u8]| file.windows(needle.len()).any(|w| w == needle);
    assert!(
        holds(&users, b"$argon2id$v=19$"),
        "the test reads the table"
    );
    assert!(holds(&sessions, b"10.0.0.1"), "the session row is there");
    for file in [&users, &sessions] {
        assert!(!holds(file, password.as_bytes()));
        assert!(!holds(file, token.expose().as_bytes()));
    }
}

/// Errors name the database by its shown URL, without the credentials.
fn errors_never_show_the_password(pg: &Cluster) {
    let e = Directory::open_postgres(&pg.url("no_such_db"), &pg.shown("no_such_db")).unwrap_err();
    assert!(matches!(e, AccessError::Store { .. }), "{e}");
    let e = e.to_string();
    assert!(
        e.starts_with("user store postgres://***@127.0.0.1")
            && e.contains("database \"no_such_db\" does not exist"),
        "{e}"
    );
    assert!(!e.contains(PASSWORD), "{e}");
    let e = Directory::open_postgres("not a url", "the configured database").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("user store the configured database: not a Postgres connection URL"),
        "{e}"
    );
}

/// Two replicas on one database: users and sessions made on one are seen and ended on the other, and
/// the last-manager rule holds across them.
fn replicas_share_users_and_sessions(pg: &Cluster) {
    let a = pg.directory("replicas");
    let b = Directory::open_postgres(&pg.url("replicas"), &pg.shown("replicas")).unwrap();
    a.add_user("boss", Role::Manager, &pw(PW), None).unwrap();
    b.add_user("kim", Role::Manager, &pw("kim's long password"), None)
        .unwrap();
    let (t, _) = a
        .login("kim", &pw("kim's long password"), SessionKind::Bearer, "x")
        .unwrap();
    assert_eq!(b.authenticate(t.expose()).unwrap().user, "kim");
    b.set_role("boss", Role::Auditor).unwrap();
    assert!(matches!(
        a.disable("kim").unwrap_err(),
        AccessError::LastManager(_)
    ));
    // Demotions racing on two replicas: the lock lets exactly one of them through.
    a.set_role("boss", Role::Manager).unwrap();
    let (ra, rb) = std::thread::scope(|s| {
        let ha = s.spawn(|| a.set_role("kim", Role::Access));
        let hb = s.spawn(|| b.set_role("boss", Role::Access));
        (ha.join().unwrap(), hb.join().unwrap())
    });
    assert!(ra.is_ok() != rb.is_ok(), "{ra:?} {rb:?}");
    let managers = a
        .list()
        .unwrap()
        .into_iter()
        .filter(|u| u.role == Role::Manager && !u.disabled)
        .count();
    assert_eq!(managers, 1);
}

#[test]
fn directory_on_postgres() {
    let pg = Cluster::start();
    let open = |tag: &str| pg.directory(tag);
    scenarios::all(&open);
    table_files_hold_neither_token_nor_password(&pg);
    errors_never_show_the_password(&pg);
    replicas_share_users_and_sessions(&pg);
}
