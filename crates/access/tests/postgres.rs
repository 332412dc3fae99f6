//! The directory on a real PostgreSQL 15 (Debian's `postgresql`; scripts/test installs it), started as the
//! vault's test does: a throwaway cluster made with initdb in a temporary folder, on 127.0.0.1:19471 (not
//! the vault test's port, so both may run at once), stopped when the test ends. Every shared scenario runs
//! on its own database; then what only Postgres shows: the table files hold neither token nor password,
//! errors show the URL without its password, and two replicas share users and sessions. Fails, not skips,
//! when PostgreSQL is missing.

mod scenarios;

use access::{AccessError, Directory, Role, SessionKind};
use scenarios::{PW, pw};

const PORT: u16 = 19471;
const PASSWORD: &str = "pw-s3cret-a11c";

/// The shared test cluster, with directories on fresh databases.
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

    /// A directory on a fresh database.
    fn directory(&self, name: &str) -> Directory {
        let (url, shown) = self.0.create_database(name);
        Directory::open_postgres(&url, &shown).unwrap()
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
