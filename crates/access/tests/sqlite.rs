//! The directory on SQLite files in temporary folders: every shared scenario, plus what only a file store
//! can show — the file's modes, that its bytes hold neither a token nor a password, that users and sessions
//! survive a reopen, and that two handles on one file (two processes) keep the last-manager rule.

mod scenarios;

use access::{AccessError, Directory, Role, SessionKind};
use scenarios::{FakeClock, PW, pw};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

/// A fresh folder for one test, removed when dropped.
struct Work(PathBuf);

impl Work {
    fn new(tag: &str) -> Work {
        let d = std::env::temp_dir().join(format!("garim-access-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        Work(d)
    }
}

impl Drop for Work {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

macro_rules! on_sqlite {
    ($($name:ident),* $(,)?) => {$(
        #[test]
        fn $name() {
            let work = Work::new(stringify!($name));
            let open = |tag: &str| {
                Directory::open_sqlite(&work.0.join(format!("{tag}.sqlite"))).unwrap()
            };
            scenarios::$name(&open);
        }
    )*};
}

on_sqlite!(
    users_are_added_listed_and_changed,
    last_manager_cannot_be_demoted_or_disabled,
    hostile_names_are_refused,
    login_token_authenticates_until_logout,
    disabling_a_user_ends_its_sessions,
    set_password_ends_other_sessions,
    sessions_expire_when_idle_and_after_twelve_hours,
    wrong_password_and_unknown_user_look_the_same,
    contractor_scope_comes_from_the_resolver,
    role_changes_apply_to_the_next_request,
    failed_logins_are_throttled,
    shares_open_only_with_their_holders_own_passwords,
);

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn store_file_is_private_to_the_service() {
    let work = Work::new("modes");
    let dir = work.0.join("state");
    let path = dir.join("users.sqlite");
    let d = Directory::open_sqlite(&path).unwrap();
    d.add_user("boss", Role::Manager, &pw(PW), None).unwrap();
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&path), 0o600);
    let wal = dir.join("users.sqlite-wal");
    assert!(wal.exists(), "WAL mode");
    assert_eq!(mode(&wal), 0o600);
    // A file left readable by others is tightened at open.
    drop(d);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    Directory::open_sqlite(&path).unwrap();
    assert_eq!(mode(&path), 0o600);
}

#[test]
fn store_file_holds_neither_token_nor_password() {
    let work = Work::new("bytes");
    let path = work.0.join("users.sqlite");
    let d = Directory::open_sqlite(&path).unwrap();
    let password = "a password to look for 7f3a";
    d.add_user("boss", Role::Manager, &pw(password), None)
        .unwrap();
    let (token, _) = d
        .login("boss", &pw(password), SessionKind::Cookie, "10.0.0.1")
        .unwrap();
    let (ended, _) = d
        .login("boss", &pw(password), SessionKind::Bearer, "10.0.0.1")
        .unwrap();
    d.logout(ended.expose()).unwrap();
    // Checkpoint the WAL into the main file (closing the last connection does), then read every file left.
    drop(d);
    let mut bytes = Vec::new();
    for f in std::fs::read_dir(&work.0).unwrap().flatten() {
        bytes.extend(std::fs::read(f.path()).unwrap());
    }
    let holds = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(holds(b"$argon2id$v=19$"), "the test reads the store");
    assert!(holds(b"10.0.0.1"), "the session row is there");
    for secret in [password, token.expose(), ended.expose()] {
        assert!(!holds(secret.as_bytes()), "the store file holds a secret");
    }
    // The token, upper-cased, is not there either (no other encoding of it is stored).
    assert!(!holds(token.expose().to_uppercase().as_bytes()));
    let d = Directory::open_sqlite(&path).unwrap();
    d.authenticate(token.expose()).unwrap();
}

#[test]
fn users_and_sessions_survive_a_reopen() {
    let work = Work::new("reopen");
    let path = work.0.join("users.sqlite");
    let d = Directory::open_sqlite(&path).unwrap();
    d.add_user("boss", Role::Manager, &pw(PW), Some("person-1"))
        .unwrap();
    let (t, p) = d.login("boss", &pw(PW), SessionKind::Cookie, "x").unwrap();
    drop(d);
    let d = Directory::open_sqlite(&path).unwrap();
    assert_eq!(d.authenticate(t.expose()).unwrap(), p);
    assert_eq!(d.list().unwrap()[0].person_id.as_deref(), Some("person-1"));
}

#[test]
fn two_handles_on_one_file_keep_one_manager() {
    let work = Work::new("two-handles");
    let path = work.0.join("users.sqlite");
    let clock = FakeClock::new();
    let a = Directory::open_sqlite(&path)
        .unwrap()
        .with_clock(clock.clock());
    let b = Directory::open_sqlite(&path)
        .unwrap()
        .with_clock(clock.clock());
    a.add_user("boss", Role::Manager, &pw(PW), None).unwrap();
    b.add_user("kim", Role::Manager, &pw("kim's long password"), None)
        .unwrap();
    a.set_role("kim", Role::Access).unwrap();
    assert!(matches!(
        b.disable("boss").unwrap_err(),
        AccessError::LastManager(_)
    ));
    // A session made through one handle is ended through the other.
    let (t, _) = a
        .login("kim", &pw("kim's long password"), SessionKind::Cookie, "x")
        .unwrap();
    b.disable("kim").unwrap();
    assert!(a.authenticate(t.expose()).is_err());
}

#[test]
fn store_errors_name_the_file() {
    let work = Work::new("errors");
    std::fs::create_dir_all(&work.0).unwrap();
    let path = work.0.join("not-a-db.sqlite");
    std::fs::write(
        &path,
        b"this is not a database file, it is text ".repeat(200),
    )
    .unwrap();
    let e = Directory::open_sqlite(&path).unwrap_err();
    assert!(matches!(e, AccessError::Store { .. }), "{e}");
    let e = e.to_string();
    assert!(
        e.starts_with(&format!("user store {}: ", path.display())),
        "{e}"
    );
}
