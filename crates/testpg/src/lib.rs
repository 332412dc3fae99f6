//! A PostgreSQL 15 cluster for one test binary (Debian's `postgresql`; scripts/test installs it): made with
//! initdb in a temporary folder, started on 127.0.0.1 at the port the test gives (each test binary its own,
//! so they may run at once), stopped and removed when dropped. Tests fail, not skip, when PostgreSQL is
//! missing.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = "/usr/lib/postgresql/15/bin";

pub struct Cluster {
    root: PathBuf,
    server: Child,
    port: u16,
    password: &'static str,
}

/// initdb and postgres refuse to run as root: as root they run as the `postgres` user the package creates.
fn as_postgres(cmd: &mut Command) -> &mut Command {
    // SAFETY: geteuid has no preconditions.
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
    /// Starts a cluster on `port`; `password` is put in the URLs the test uses (trust auth: any works), so
    /// that a test can check it never shows.
    pub fn start(port: u16, password: &'static str) -> Cluster {
        assert!(
            Path::new(BIN).join("postgres").exists(),
            "{BIN}/postgres not found: install PostgreSQL 15 (apt-get install postgresql; scripts/test does)"
        );
        let root = std::env::temp_dir().join(format!("garim-pg-{port}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("sock")).unwrap();
        // SAFETY: geteuid has no preconditions.
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
            &port.to_string(),
            "-F",
        ]))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
        let mut cluster = Cluster {
            root,
            server,
            port,
            password,
        };
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = cluster.server.try_wait() {
                panic!(
                    "postgres exited ({status}) before accepting connections (port {port} taken?): {}",
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

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.root.join("server.log")).unwrap_or_default()
    }

    pub fn url(&self, db: &str) -> String {
        format!(
            "postgres://garim:{}@127.0.0.1:{}/{db}",
            self.password, self.port
        )
    }

    /// The URL as errors must show it: without the password.
    pub fn shown(&self, db: &str) -> String {
        format!("postgres://***@127.0.0.1:{}/{db}", self.port)
    }

    pub fn client(&self, db: &str) -> postgres::Client {
        postgres::Client::connect(&self.url(db), postgres::NoTls).unwrap()
    }

    /// A fresh database for one scenario: its URL and shown URL.
    pub fn create_database(&self, name: &str) -> (String, String) {
        self.client("postgres")
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        (self.url(name), self.shown(name))
    }

    /// The bytes of a table's file as PostgreSQL has written them to disk.
    pub fn table_file(&self, db: &str, table: &str) -> Vec<u8> {
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
        // SAFETY: kill with a child's pid and a signal number has no memory effects.
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
