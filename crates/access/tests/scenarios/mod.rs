//! The directory's behaviour, written once and run against each store (tests/sqlite.rs, tests/postgres.rs).
//! Each scenario gets `open`, which returns a directory on a fresh, empty store named by its argument.

// Each test file uses its own subset of these helpers.
#![allow(dead_code)]

use access::{
    AccessError, AuthError, Clock, Directory, Password, Permission, Role, SealedLockout,
    SessionKind, SessionPolicy,
};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

pub type Open<'a> = &'a dyn Fn(&str) -> Directory;

pub const MIN: i64 = 60_000;
pub const PW: &str = "correct horse battery";

/// A clock the test moves by hand.
#[derive(Clone)]
pub struct FakeClock(Arc<AtomicI64>);

impl FakeClock {
    pub fn new() -> FakeClock {
        FakeClock(Arc::new(AtomicI64::new(1_800_000_000_000)))
    }

    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }

    pub fn clock(&self) -> Clock {
        let n = self.0.clone();
        Arc::new(move || n.load(Ordering::SeqCst))
    }
}

pub fn pw(s: &str) -> Password {
    Password::from(s)
}

/// A directory with one manager, `boss`, on a fake clock.
pub fn with_boss(open: Open, tag: &str) -> (Directory, FakeClock) {
    let clock = FakeClock::new();
    let d = open(tag).with_clock(clock.clock());
    d.add_user("boss", Role::Manager, &pw(PW), None).unwrap();
    (d, clock)
}

pub fn users_are_added_listed_and_changed(open: Open) {
    let clock = FakeClock::new();
    let d = open("users").with_clock(clock.clock());
    assert!(d.is_empty().unwrap());
    let boss = d
        .add_user("boss", Role::Manager, &pw(PW), Some("person-1"))
        .unwrap();
    assert!(!d.is_empty().unwrap());
    assert_eq!(boss.name, "boss");
    assert_eq!(boss.role, Role::Manager);
    assert_eq!(boss.person_id.as_deref(), Some("person-1"));
    assert!(!boss.disabled);
    assert_eq!(boss.created_ms, 1_800_000_000_000);
    clock.advance(1000);
    d.add_user("lee", Role::Handler, &pw("lee's long password"), None)
        .unwrap();
    d.add_user("ahn", Role::Auditor, &pw("ahn's long password"), None)
        .unwrap();
    let names: Vec<String> = d.list().unwrap().into_iter().map(|u| u.name).collect();
    assert_eq!(names, ["ahn", "boss", "lee"]);
    let e = d
        .add_user("lee", Role::Access, &pw("another long password"), None)
        .unwrap_err();
    assert!(matches!(e, AccessError::Exists(_)), "{e}");
    assert_eq!(e.to_string(), "user `lee` already exists");
    let e = d
        .add_user("park", Role::Access, &pw("short"), None)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "weak password: 5 characters, needs at least 10"
    );
    let e = d
        .add_user("park.jiwoo", Role::Access, &pw("Park.Jiwoo"), None)
        .unwrap_err();
    assert!(e.to_string().contains("user name"), "{e}");
    assert!(d.get("park").unwrap().is_none());

    clock.advance(1000);
    let lee = d.set_role("lee", Role::Access).unwrap();
    assert_eq!(lee.role, Role::Access);
    assert_eq!(lee.updated_ms, 1_800_000_002_000);
    assert!(lee.created_ms < lee.updated_ms);
    assert!(d.disable("lee").unwrap().disabled);
    assert!(d.get("lee").unwrap().unwrap().disabled);
    assert!(!d.enable("lee").unwrap().disabled);
    let lee = d.link("lee", Some("contractor:에스원")).unwrap();
    assert_eq!(lee.person_id.as_deref(), Some("contractor:에스원"));
    assert_eq!(d.link("lee", None).unwrap().person_id, None);
    d.set_password("lee", &pw("lee's new long password"))
        .unwrap();
    d.check_password("lee", &pw("lee's new long password"))
        .unwrap();
    assert!(matches!(
        d.check_password("lee", &pw("lee's long password")),
        Err(AuthError::BadCredentials)
    ));

    for e in [
        d.disable("nobody").unwrap_err(),
        d.enable("nobody").unwrap_err(),
        d.set_role("nobody", Role::Auditor).unwrap_err(),
        d.link("nobody", None).unwrap_err(),
        d.set_password("nobody", &pw("a long password"))
            .unwrap_err(),
    ] {
        assert_eq!(e.to_string(), "unknown user `nobody`");
    }
}

pub fn last_manager_cannot_be_demoted_or_disabled(open: Open) {
    let (d, _) = with_boss(open, "last_manager");
    let e = d.set_role("boss", Role::Auditor).unwrap_err();
    assert!(matches!(e, AccessError::LastManager(_)), "{e}");
    assert_eq!(
        e.to_string(),
        "`boss` is the last enabled manager: add or enable another manager first"
    );
    assert!(matches!(
        d.disable("boss").unwrap_err(),
        AccessError::LastManager(_)
    ));
    // Setting a manager's role to manager again is no demotion.
    d.set_role("boss", Role::Manager).unwrap();
    d.add_user("kim", Role::Manager, &pw("kim's long password"), None)
        .unwrap();
    d.disable("kim").unwrap();
    // A disabled manager does not count.
    assert!(matches!(
        d.set_role("boss", Role::Access).unwrap_err(),
        AccessError::LastManager(_)
    ));
    d.enable("kim").unwrap();
    d.set_role("boss", Role::Access).unwrap();
    assert!(matches!(
        d.disable("kim").unwrap_err(),
        AccessError::LastManager(_)
    ));
    // Nothing changed by the refusals.
    let kim = d.get("kim").unwrap().unwrap();
    assert_eq!((kim.role, kim.disabled), (Role::Manager, false));
}

pub fn hostile_names_are_refused(open: Open) {
    let (d, _) = with_boss(open, "hostile_names");
    let long = "a".repeat(65);
    for name in [
        "'; DROP TABLE users;--",
        "../../etc/passwd",
        "",
        long.as_str(),
    ] {
        let e = d
            .add_user(name, Role::Access, &pw("a long password"), None)
            .unwrap_err();
        assert!(matches!(e, AccessError::BadName(..)), "{name:?}: {e}");
        assert!(e.to_string().starts_with("bad user name "), "{e}");
        assert!(matches!(d.get(name), Err(AccessError::BadName(..))));
        assert!(matches!(d.disable(name), Err(AccessError::BadName(..))));
        assert!(matches!(
            d.login(name, &pw(PW), SessionKind::Cookie, "10.0.0.1"),
            Err(AuthError::BadCredentials)
        ));
    }
    // Bound parameters everywhere: a quote in a value is a value.
    let u = d
        .link("boss", Some("x'); DELETE FROM access_users;--"))
        .unwrap();
    assert_eq!(
        u.person_id.as_deref(),
        Some("x'); DELETE FROM access_users;--")
    );
    assert_eq!(d.list().unwrap().len(), 1);
    let e = d
        .add_user("ok", Role::Access, &pw("a long password"), Some("a\nb"))
        .unwrap_err();
    assert!(matches!(e, AccessError::BadPersonId(..)), "{e}");
}

pub fn login_token_authenticates_until_logout(open: Open) {
    let (d, _) = with_boss(open, "login");
    let (token, p) = d
        .login("boss", &pw(PW), SessionKind::Cookie, "10.0.0.1")
        .unwrap();
    assert_eq!(p.user, "boss");
    assert_eq!(p.role, Role::Manager);
    assert_eq!(p.camera_scope, None);
    assert_ne!(p.session.0, token.expose());
    assert_eq!(token.expose().len(), 64);
    assert_eq!(format!("{token:?}"), "Token([redacted])");
    let again = d.authenticate(token.expose()).unwrap();
    assert_eq!(again, p);
    p.require(Permission::ManageUsers).unwrap();
    assert_eq!(d.sessions_of("boss").unwrap(), 1);
    let (bearer, _) = d
        .login("boss", &pw(PW), SessionKind::Bearer, "cli")
        .unwrap();
    assert_ne!(bearer.expose(), token.expose());
    assert_eq!(d.sessions_of("boss").unwrap(), 2);

    d.logout(token.expose()).unwrap();
    assert!(matches!(
        d.authenticate(token.expose()),
        Err(AuthError::Invalid)
    ));
    d.authenticate(bearer.expose()).unwrap();
    assert_eq!(d.sessions_of("boss").unwrap(), 1);
    // Logging out twice, or with rubbish, is not an error.
    d.logout(token.expose()).unwrap();
    d.logout("rubbish").unwrap();
    assert!(matches!(d.authenticate(""), Err(AuthError::Missing)));
    assert!(matches!(d.authenticate("  "), Err(AuthError::Missing)));
    assert!(matches!(
        d.authenticate("' OR 1=1 --"),
        Err(AuthError::Invalid)
    ));
    assert!(matches!(
        d.authenticate(&"0".repeat(64)),
        Err(AuthError::Invalid)
    ));
    assert_eq!(d.end_sessions("boss").unwrap(), 1);
    assert!(matches!(
        d.authenticate(bearer.expose()),
        Err(AuthError::Invalid)
    ));
}

pub fn disabling_a_user_ends_its_sessions(open: Open) {
    let (d, _) = with_boss(open, "disable_sessions");
    d.add_user("lee", Role::Access, &pw("lee's long password"), None)
        .unwrap();
    let (a, _) = d
        .login("lee", &pw("lee's long password"), SessionKind::Cookie, "x")
        .unwrap();
    let (b, _) = d
        .login("lee", &pw("lee's long password"), SessionKind::Bearer, "y")
        .unwrap();
    let (boss, _) = d.login("boss", &pw(PW), SessionKind::Cookie, "x").unwrap();
    d.disable("lee").unwrap();
    assert_eq!(d.sessions_of("lee").unwrap(), 0);
    for t in [&a, &b] {
        assert!(matches!(
            d.authenticate(t.expose()),
            Err(AuthError::Invalid)
        ));
    }
    d.authenticate(boss.expose()).unwrap();
    // Disabled: the right password says so, a wrong one says nothing more than for anyone.
    let e = d
        .login("lee", &pw("lee's long password"), SessionKind::Cookie, "x")
        .unwrap_err();
    assert_eq!(e.to_string(), "user `lee` is disabled");
    assert!(matches!(
        d.login("lee", &pw("not lee's password"), SessionKind::Cookie, "x"),
        Err(AuthError::BadCredentials)
    ));
    // Enabling again does not bring old sessions back.
    d.enable("lee").unwrap();
    assert!(matches!(
        d.authenticate(a.expose()),
        Err(AuthError::Invalid)
    ));
    d.login("lee", &pw("lee's long password"), SessionKind::Cookie, "x")
        .unwrap();
}

pub fn set_password_ends_other_sessions(open: Open) {
    let (d, _) = with_boss(open, "set_password");
    let (here, p) = d.login("boss", &pw(PW), SessionKind::Cookie, "x").unwrap();
    let (there, _) = d.login("boss", &pw(PW), SessionKind::Bearer, "y").unwrap();
    d.set_password_keeping("boss", &pw("boss's second password"), Some(&p.session))
        .unwrap();
    d.authenticate(here.expose()).unwrap();
    assert!(matches!(
        d.authenticate(there.expose()),
        Err(AuthError::Invalid)
    ));
    assert!(matches!(
        d.login("boss", &pw(PW), SessionKind::Cookie, "x"),
        Err(AuthError::BadCredentials)
    ));
    // An administrator's reset ends them all.
    d.set_password("boss", &pw("boss's third password"))
        .unwrap();
    assert!(matches!(
        d.authenticate(here.expose()),
        Err(AuthError::Invalid)
    ));
    assert_eq!(d.sessions_of("boss").unwrap(), 0);
    let e = d.set_password("boss", &pw("boss")).unwrap_err();
    assert!(matches!(e, AccessError::WeakPassword(_)), "{e}");
    d.login(
        "boss",
        &pw("boss's third password"),
        SessionKind::Cookie,
        "x",
    )
    .unwrap();
}

pub fn sessions_expire_when_idle_and_after_twelve_hours(open: Open) {
    let clock = FakeClock::new();
    let d = open("expiry")
        .with_clock(clock.clock())
        .with_policy(SessionPolicy::default());
    d.add_user("boss", Role::Manager, &pw(PW), None).unwrap();
    // Idle: each request slides the 30 minutes.
    let (t, _) = d.login("boss", &pw(PW), SessionKind::Cookie, "x").unwrap();
    clock.advance(29 * MIN);
    d.authenticate(t.expose()).unwrap();
    clock.advance(29 * MIN);
    d.authenticate(t.expose()).unwrap();
    clock.advance(30 * MIN);
    assert_eq!(d.sessions_of("boss").unwrap(), 0);
    assert!(matches!(
        d.authenticate(t.expose()),
        Err(AuthError::Expired)
    ));
    // The expired session is gone, not just refused.
    assert!(matches!(
        d.authenticate(t.expose()),
        Err(AuthError::Invalid)
    ));
    // Requests a second apart are not each written, yet the session stays alive.
    let (t, _) = d.login("boss", &pw(PW), SessionKind::Cookie, "x").unwrap();
    for _ in 0..10 {
        clock.advance(1000);
        d.authenticate(t.expose()).unwrap();
    }
    // Absolute: however active, 12 hours after login it ends.
    let (t, _) = d.login("boss", &pw(PW), SessionKind::Bearer, "x").unwrap();
    for _ in 0..(12 * 60 / 20 - 1) {
        clock.advance(20 * MIN);
        d.authenticate(t.expose()).unwrap();
    }
    clock.advance(20 * MIN - 1);
    d.authenticate(t.expose()).unwrap();
    clock.advance(1);
    assert!(matches!(
        d.authenticate(t.expose()),
        Err(AuthError::Expired)
    ));

    // A shorter policy.
    let clock = FakeClock::new();
    let d = open("expiry_short")
        .with_clock(clock.clock())
        .with_policy(SessionPolicy {
            idle_ms: MIN,
            absolute_ms: 10 * MIN,
        });
    d.add_user("boss", Role::Manager, &pw(PW), None).unwrap();
    let (t, _) = d.login("boss", &pw(PW), SessionKind::Cookie, "x").unwrap();
    clock.advance(MIN - 1);
    d.authenticate(t.expose()).unwrap();
    clock.advance(MIN);
    assert!(matches!(
        d.authenticate(t.expose()),
        Err(AuthError::Expired)
    ));
}

pub fn wrong_password_and_unknown_user_look_the_same(open: Open) {
    let (d, _) = with_boss(open, "same_error");
    let wrong = d
        .check_password("boss", &pw("wrong password!"))
        .unwrap_err();
    let unknown = d
        .check_password("ghost", &pw("wrong password!"))
        .unwrap_err();
    assert!(matches!(wrong, AuthError::BadCredentials));
    assert!(matches!(unknown, AuthError::BadCredentials));
    assert_eq!(wrong.to_string(), unknown.to_string());
    assert_eq!(wrong.to_string(), "wrong user name or password");
    // Timing: an unknown user costs a (dummy) verification too. Best of three each, generous bound, so a
    // busy machine does not fail it; skipping the dummy would make the ratio about 1/1000.
    let best = |name: &str| {
        (0..3)
            .map(|_| {
                let t = Instant::now();
                let _ = d.check_password(name, &pw("wrong password!"));
                t.elapsed()
            })
            .min()
            .unwrap()
    };
    let (w, u) = (best("boss"), best("ghost"));
    assert!(
        u * 3 >= w && u >= Duration::from_millis(1),
        "unknown {u:?} vs wrong {w:?}"
    );
}

pub fn contractor_scope_comes_from_the_resolver(open: Open) {
    let (d, _) = with_boss(open, "scope");
    d.add_user(
        "s1-tech",
        Role::Contractor,
        &pw("contractor password"),
        Some("s1"),
    )
    .unwrap();
    // Without a resolver a contractor sees nothing.
    let (t, p) = d
        .login(
            "s1-tech",
            &pw("contractor password"),
            SessionKind::Cookie,
            "x",
        )
        .unwrap();
    assert_eq!(p.camera_scope, Some(BTreeSet::new()));
    assert!(!p.may_see_camera("gate-1"));
    assert!(
        p.require_camera(Permission::ViewLive, "gate-1").is_err(),
        "deny by default"
    );
    drop(d.authenticate(t.expose()).unwrap());
    let d = d.with_scope(Arc::new(|u: &access::User| {
        (u.person_id.as_deref() == Some("s1"))
            .then(|| ["gate-1".to_string(), "gate-2".to_string()].into())
    }));
    let p = d.authenticate(t.expose()).unwrap();
    assert!(p.may_see_camera("gate-1") && !p.may_see_camera("lobby"));
    p.require_camera(Permission::ViewLive, "gate-2").unwrap();
    assert!(p.require(Permission::ViewRecordings).is_err());
    // Unlinked (the resolver knows no such contractor): nothing again.
    d.link("s1-tech", None).unwrap();
    let p = d.authenticate(t.expose()).unwrap();
    assert_eq!(p.camera_scope, Some(BTreeSet::new()));
    // Others are not scoped.
    let (_, boss) = d.login("boss", &pw(PW), SessionKind::Cookie, "x").unwrap();
    assert_eq!(boss.camera_scope, None);
    assert!(boss.may_see_camera("lobby"));
}

pub fn role_changes_apply_to_the_next_request(open: Open) {
    let (d, _) = with_boss(open, "role_change");
    d.add_user("lee", Role::Access, &pw("lee's long password"), None)
        .unwrap();
    let (t, p) = d
        .login("lee", &pw("lee's long password"), SessionKind::Cookie, "x")
        .unwrap();
    p.require(Permission::ExportRecordings).unwrap();
    d.set_role("lee", Role::Auditor).unwrap();
    let p = d.authenticate(t.expose()).unwrap();
    assert_eq!(p.role, Role::Auditor);
    let e = p.require(Permission::ExportRecordings).unwrap_err();
    assert_eq!(
        e.to_string(),
        "user `lee` (auditor) may not export_recordings"
    );
}

pub fn failed_logins_are_throttled(open: Open) {
    let (d, clock) = with_boss(open, "throttle");
    for _ in 0..5 {
        assert!(matches!(
            d.login(
                "boss",
                &pw("a wrong guess"),
                SessionKind::Cookie,
                "203.0.113.9"
            ),
            Err(AuthError::BadCredentials)
        ));
    }
    // Locked: even the right password is refused, from any client, without being checked.
    let e = d
        .login("boss", &pw(PW), SessionKind::Cookie, "10.0.0.1")
        .unwrap_err();
    assert!(
        matches!(e, AuthError::Throttled(r) if r.ms == 15 * MIN),
        "{e}"
    );
    assert_eq!(e.to_string(), "too many failed logins: retry in 900 s");
    clock.advance(15 * MIN);
    d.login("boss", &pw(PW), SessionKind::Cookie, "10.0.0.1")
        .unwrap();
    // Unknown names count too (per client).
    for i in 0..20 {
        let _ = d.login(
            &format!("ghost{i}"),
            &pw("a wrong guess"),
            SessionKind::Cookie,
            "198.51.100.7",
        );
    }
    assert!(matches!(
        d.login("boss", &pw(PW), SessionKind::Cookie, "198.51.100.7"),
        Err(AuthError::Throttled(_))
    ));
    d.login("boss", &pw(PW), SessionKind::Cookie, "10.0.0.1")
        .unwrap();
}

/// Every scenario, in order, for a store's test to run.
pub fn all(open: Open) {
    users_are_added_listed_and_changed(open);
    last_manager_cannot_be_demoted_or_disabled(open);
    hostile_names_are_refused(open);
    login_token_authenticates_until_logout(open);
    disabling_a_user_ends_its_sessions(open);
    set_password_ends_other_sessions(open);
    sessions_expire_when_idle_and_after_twelve_hours(open);
    wrong_password_and_unknown_user_look_the_same(open);
    contractor_scope_comes_from_the_resolver(open);
    role_changes_apply_to_the_next_request(open);
    failed_logins_are_throttled(open);
    shares_open_only_with_their_holders_own_passwords(open);
}

/// A manager holds a share of the sealed key only under a password they chose; an administrator's reset
/// drops it, and changing one's own password keeps it.
pub fn shares_open_only_with_their_holders_own_passwords(open: Open) {
    let d = open("shares");
    d.add_user("kim", Role::Manager, &pw(PW), None).unwrap();
    d.make_own_share_key("kim", &pw(PW)).unwrap();
    // Added by kim with a password kim knows: no share key yet.
    d.add_user("lee", Role::Manager, &pw("lee's first password"), None)
        .unwrap();
    d.add_user("park", Role::Access, &pw("park's long password"), None)
        .unwrap();
    let names = |d: &Directory| {
        d.share_holders()
            .unwrap()
            .into_iter()
            .map(|(n, _)| n)
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&d), ["kim"]);
    d.set_own_password(
        "lee",
        &pw("lee's first password"),
        &pw("lee's own password"),
        None,
    )
    .unwrap();
    // A non-manager changing its password gets no key.
    d.set_own_password(
        "park",
        &pw("park's long password"),
        &pw("park's own password"),
        None,
    )
    .unwrap();
    assert_eq!(names(&d), ["kim", "lee"]);

    let secret = [7u8; 32];
    let sealed_public = custody_public(&secret);
    let split = custody_split(&secret, &d.share_holders().unwrap());
    d.put_shares(&sealed_public, 2, &split).unwrap();
    assert_eq!(
        d.custody_of(&sealed_public).unwrap(),
        Some(access::Custody {
            k: 2,
            holders: vec!["kim".into(), "lee".into()]
        })
    );
    let kim = d.open_share("kim", &pw(PW), &sealed_public).unwrap();
    assert!(
        d.open_share("kim", &pw("a wrong password!"), &sealed_public)
            .is_err()
    );
    // lee's own change re-locks the same key: the share still opens, with the new password only.
    d.set_own_password(
        "lee",
        &pw("lee's own password"),
        &pw("lee's second password"),
        None,
    )
    .unwrap();
    assert!(
        d.open_share("lee", &pw("lee's own password"), &sealed_public)
            .is_err()
    );
    let lee = d
        .open_share("lee", &pw("lee's second password"), &sealed_public)
        .unwrap();
    assert_eq!(lee.holder(), "lee");
    let _ = kim;
    // An administrator's reset would drop lee's share (kim would know the password). With k = 2 and kim the
    // only other holder, the key could never be opened again: refused, as are disabling and demoting lee,
    // and nothing changes.
    let lockout = |e: AccessError| match e {
        AccessError::SealedLockout {
            ref name,
            k,
            others,
            ref list,
            ..
        } => {
            assert!(e.to_string().contains("allow_sealed_lockout"), "{e}");
            (name.clone(), k, others, list.clone())
        }
        e => panic!("not a lockout: {e}"),
    };
    let refused = ("lee".to_string(), 2, 1, "kim".to_string());
    assert_eq!(
        lockout(
            d.set_password("lee", &pw("reset by kim password"))
                .unwrap_err()
        ),
        refused
    );
    assert_eq!(lockout(d.disable("lee").unwrap_err()), refused);
    assert_eq!(
        lockout(d.set_role("lee", Role::Access).unwrap_err()),
        refused
    );
    d.open_share("lee", &pw("lee's second password"), &sealed_public)
        .unwrap();
    assert!(
        d.get("lee")
            .unwrap()
            .is_some_and(|u| u.role == Role::Manager && !u.disabled)
    );
    // Accepted: kim would know lee's password, so lee's share is gone.
    d.reset_password(
        "lee",
        &pw("reset by kim password"),
        None,
        SealedLockout::Accept,
    )
    .unwrap();
    let e = d
        .open_share("lee", &pw("reset by kim password"), &sealed_public)
        .unwrap_err();
    assert!(e.to_string().contains("holds no share"), "{e}");
    assert_eq!(names(&d), ["kim"]);
    assert_eq!(
        d.custody_of(&sealed_public).unwrap().unwrap().holders,
        ["kim"]
    );

    // Three holders of another key, k = 2: one may go; then the last two are each needed.
    d.set_role("park", Role::Manager).unwrap();
    d.set_own_password(
        "park",
        &pw("park's own password"),
        &pw("park's manager password"),
        None,
    )
    .unwrap();
    d.set_own_password(
        "lee",
        &pw("reset by kim password"),
        &pw("lee's third password"),
        None,
    )
    .unwrap();
    assert_eq!(names(&d), ["kim", "lee", "park"]);
    let second = [9u8; 32];
    let second_public = custody_public(&second);
    d.put_shares(
        &second_public,
        2,
        &custody_split(&second, &d.share_holders().unwrap()),
    )
    .unwrap();
    d.set_password("park", &pw("reset by kim, again")).unwrap();
    assert_eq!(
        lockout(
            d.set_password("lee", &pw("reset by kim password"))
                .unwrap_err()
        ),
        ("lee".to_string(), 2, 1, "kim".to_string())
    );
    assert_eq!(
        lockout(d.disable("kim").unwrap_err()),
        ("kim".to_string(), 2, 1, "lee".to_string())
    );
    // A disabled holder does not count among those who can open it.
    d.disable_with("lee", SealedLockout::Accept).unwrap();
    assert!(d.set_password("kim", &pw("kim's reset password")).is_ok());
}

fn custody_public(secret: &[u8; 32]) -> [u8; 32] {
    custody::public_of(secret)
}

fn custody_split(secret: &[u8; 32], holders: &[(String, [u8; 32])]) -> Vec<(String, Vec<u8>)> {
    custody::split(secret, 2, holders).unwrap()
}
