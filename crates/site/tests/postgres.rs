//! The site's people and ledger in the shared Postgres, as a multi-replica site has them (the policy's
//! `storage.index_url_env`): two replicas with their own storage folders open the same directory and ledger,
//! see each other's users and rows, keep one chain, and a new replica makes its own signing key. A real
//! PostgreSQL 15 (testpg), on its own port.

const PORT: u16 = 19473;
const PASSWORD: &str = "pw-s3cret-51e";
const URL_ENV: &str = "GARIM_SITE_TEST_PG_URL";

fn policy(storage: &std::path::Path) -> policy::SiteConfig {
    policy::SiteConfig::from_toml_str(&format!(
        r#"
[site]
name = "t"
[[people]]
id = "m"
role = "manager"
title = "과장"
phone = "1"
[storage]
path = "{}"
index_url_env = "{URL_ENV}"
[[cameras]]
id = "a"
url = "rtsp://h/a"
"#,
        storage.display()
    ))
    .unwrap()
}

#[test]
fn replicas_share_users_and_one_ledger_chain_in_postgres() {
    let pg = testpg::Cluster::start(PORT, PASSWORD);
    let (url, _) = pg.create_database("site");
    // SAFETY: set before any other thread of this test binary reads the environment.
    unsafe { std::env::set_var(URL_ENV, &url) };
    let work = std::env::temp_dir().join(format!("garim-site-pg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let a = site::open_records(&policy(&work.join("a"))).unwrap();
    a.accounts
        .bootstrap("m", &"a long enough password".into(), Some("m"))
        .unwrap();
    let (_, me) = a
        .accounts
        .login(
            "m",
            &"a long enough password".into(),
            access::SessionKind::Bearer,
            "t",
        )
        .unwrap();
    a.accounts
        .add(
            &me,
            "t",
            "lee",
            access::Role::Access,
            &"another long password".into(),
            None,
        )
        .unwrap();
    a.checkpoint();
    // A second replica, its own folder: the same users and rows; its own key, made now.
    let b = site::open_records(&policy(&work.join("b"))).unwrap();
    assert!(work.join("b/ledger-signing.key").exists());
    let users: Vec<String> = b
        .directory()
        .list()
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(users, ["lee", "m"]);
    b.ledger()
        .append(ledger::Entry::new(ledger::Kind::View, "lee", "camera a"))
        .unwrap();
    let rows = a.ledger().list(&ledger::Filter::default()).unwrap();
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert_eq!(rows.last().unwrap().entry.actor, "lee");
    assert!(a.verify().unwrap().problem.is_none());
    b.checkpoint();
    assert!(b.verify().unwrap().problem.is_none());
    // Nothing of the URL's password in what the records show.
    let shown = format!("{:?}", a.directory());
    assert!(!shown.contains(PASSWORD), "{shown}");
    // Replica A's key lost beside its checkpoints: it refuses to start rather than re-sign.
    std::fs::remove_file(work.join("a/ledger-signing.key")).unwrap();
    let e = site::open_records(&policy(&work.join("a")))
        .err()
        .expect("refused");
    assert!(e.to_string().contains("signing key is missing"), "{e}");
    drop(pg);
    let _ = std::fs::remove_dir_all(work);
}
