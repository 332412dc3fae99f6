//! The CLI acts as a named user: the first manager is made on the host, everything after needs a login
//! (ledgered, failures too), roles are enforced, and the ledger's own commands verify, export and review it.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Output;

fn site(tag: &str) -> (PathBuf, PathBuf) {
    let dir = temp_dir(tag);
    let storage = dir.join("data");
    let extra = r#"
[[contractors]]
id = "fix-it"
name = "수리업체"
phone = "000"
[[cameras]]
id = "cam-1"
url = "rtsp://127.0.0.1:9/none"
"#;
    let config = dir.join("site.toml");
    std::fs::write(&config, site_policy(0, 0, &storage, "", extra)).unwrap();
    (dir, config)
}

fn run(config: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = garim();
    cmd.env_remove("GARIM_USER")
        .env_remove("GARIM_PASSWORD")
        .env_remove("GARIM_NEW_PASSWORD")
        .envs(env.iter().copied());
    let (verb, rest) = args.split_at(2);
    cmd.args(verb)
        .args(["--config", config.to_str().unwrap()])
        .args(rest);
    cmd.stdin(std::process::Stdio::null()).output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

const M: [(&str, &str); 2] = [("GARIM_USER", "m"), ("GARIM_PASSWORD", TEST_PASSWORD)];

fn rows_of(dir: &Path, kind: ledger::Kind) -> Vec<ledger::Row> {
    ledger::Ledger::open_sqlite(&dir.join("data/ledger.sqlite"))
        .unwrap()
        .list(&ledger::Filter {
            kinds: vec![kind],
            ..ledger::Filter::default()
        })
        .unwrap()
}

#[test]
fn the_first_manager_is_made_on_the_host_and_everything_after_needs_a_login() {
    let (dir, config) = site("people-cli");
    // The first user must be a manager.
    let o = run(
        &config,
        &[("GARIM_NEW_PASSWORD", TEST_PASSWORD)],
        &["user", "add", "kim", "--role", "auditor"],
    );
    assert!(
        !o.status.success() && text(&o).contains("must be a manager"),
        "{}",
        text(&o)
    );
    first_manager(&config, &dir);
    // Now a login is needed: without a password (no terminal) it fails, with a wrong one it is ledgered.
    let o = run(
        &config,
        &[("GARIM_USER", "m"), ("GARIM_NEW_PASSWORD", TEST_PASSWORD)],
        &["user", "add", "lee", "--role", "access"],
    );
    assert!(
        !o.status.success() && text(&o).contains("GARIM_PASSWORD"),
        "{}",
        text(&o)
    );
    let o = run(
        &config,
        &[
            ("GARIM_USER", "m"),
            ("GARIM_PASSWORD", "not the password"),
            ("GARIM_NEW_PASSWORD", TEST_PASSWORD),
        ],
        &["user", "add", "lee", "--role", "access"],
    );
    assert!(
        !o.status.success() && text(&o).contains("login as m"),
        "{}",
        text(&o)
    );
    let failed = rows_of(&dir, ledger::Kind::LoginFailed);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].entry.client, "cli");
    // A user linked to nobody the policy names is refused, naming who is there.
    let mut env = M.to_vec();
    env.push(("GARIM_NEW_PASSWORD", TEST_PASSWORD));
    let o = run(
        &config,
        &env,
        &[
            "user", "add", "ghost", "--role", "access", "--person", "nobody",
        ],
    );
    assert!(
        !o.status.success() && text(&o).contains("\"nobody\" is not in the policy's people (m)"),
        "{}",
        text(&o)
    );
    let o = run(
        &config,
        &env,
        &["user", "add", "fix", "--role", "contractor"],
    );
    assert!(
        !o.status.success() && text(&o).contains("contractors"),
        "{}",
        text(&o)
    );
    for (name, role, person) in [
        ("lee", "access", None),
        ("aud", "auditor", None),
        ("fix", "contractor", Some("fix-it")),
    ] {
        let mut args = vec!["user", "add", name, "--role", role];
        if let Some(p) = person {
            args.extend(["--person", p]);
        }
        let o = run(&config, &env, &args);
        assert!(o.status.success(), "{}", text(&o));
    }
    let o = run(&config, &M, &["user", "list"]);
    assert!(o.status.success(), "{}", text(&o));
    let listing = text(&o);
    for u in ["m ", "lee", "aud", "fix"] {
        assert!(listing.contains(u), "{listing}");
    }
    // Roles hold on the CLI too: an access user may not manage users or read the ledger.
    let lee = [("GARIM_USER", "lee"), ("GARIM_PASSWORD", TEST_PASSWORD)];
    let o = run(&config, &lee, &["user", "list"]);
    assert!(
        !o.status.success() && text(&o).contains("may not"),
        "{}",
        text(&o)
    );
    let out = dir.join("ledger.csv");
    let o = run(
        &config,
        &lee,
        &["ledger", "export", "--format", "csv", out.to_str().unwrap()],
    );
    assert!(
        !o.status.success() && text(&o).contains("may not"),
        "{}",
        text(&o)
    );
    // The last manager cannot be demoted.
    let o = run(&config, &M, &["user", "set-role", "m", "access"]);
    assert!(
        !o.status.success() && text(&o).contains("last enabled manager"),
        "{}",
        text(&o)
    );
    // Each change is its row, by the acting user; the refused one says so.
    let changes = rows_of(&dir, ledger::Kind::UserChange);
    assert!(changes.iter().all(|r| r.entry.actor == "m"), "{changes:?}");
    assert!(
        changes
            .last()
            .is_some_and(|r| r.entry.detail["outcome"] == "refused"),
        "{changes:?}"
    );
    // A disabled user cannot log in.
    let o = run(&config, &M, &["user", "disable", "lee"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = run(&config, &lee, &["recordings", "list"]);
    assert!(
        !o.status.success() && text(&o).contains("disabled"),
        "{}",
        text(&o)
    );
}

#[test]
fn ledger_verify_names_an_edited_row_and_exports_keep_the_form() {
    let (dir, config) = site("ledger-cli");
    first_manager(&config, &dir);
    let mut env = M.to_vec();
    env.push(("GARIM_NEW_PASSWORD", TEST_PASSWORD));
    let o = run(&config, &env, &["user", "add", "aud", "--role", "auditor"]);
    assert!(o.status.success(), "{}", text(&o));
    let aud = [("GARIM_USER", "aud"), ("GARIM_PASSWORD", TEST_PASSWORD)];
    let o = run(&config, &[], &["ledger", "verify"]);
    assert!(
        o.status.success() && text(&o).contains("ledger ok"),
        "{}",
        text(&o)
    );

    // The auditor exports the 관리대장 form: CSV with a BOM and the Korean columns, XLSX as a workbook.
    let csv = dir.join("ledger.csv");
    let o = run(
        &config,
        &aud,
        &["ledger", "export", "--format", "csv", csv.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", text(&o));
    let body = std::fs::read_to_string(&csv).unwrap();
    assert!(body.starts_with('\u{feff}'));
    assert!(
        body.contains("번호,구분,일시,파일명/형태,목적/사유,이용·제공받는 제3자/열람등 요구자,이용·제공 근거,이용·제공 형태,기간,관리책임자"),
        "{body}"
    );
    let xlsx = dir.join("ledger.xlsx");
    let o = run(
        &config,
        &aud,
        &[
            "ledger",
            "export",
            "--format",
            "xlsx",
            xlsx.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(&std::fs::read(&xlsx).unwrap()[..2], b"PK");
    // The export itself is a row.
    assert!(
        rows_of(&dir, ledger::Kind::Use)
            .iter()
            .any(|r| r.entry.subject == "관리대장" && r.entry.actor == "aud")
    );

    // The monthly review: printed for the auditor, signed by a manager.
    let month = ledger::time::format_kst(
        ledger::Ledger::open_sqlite(&dir.join("data/ledger.sqlite"))
            .unwrap()
            .now_ms(),
    )[..7]
        .to_string();
    let o = run(&config, &aud, &["ledger", "review", "--month", &month]);
    assert!(o.status.success(), "{}", text(&o));
    let o = run(
        &config,
        &aud,
        &["ledger", "review", "--month", &month, "--sign"],
    );
    assert!(
        !o.status.success() && text(&o).contains("may not"),
        "{}",
        text(&o)
    );
    let o = run(
        &config,
        &M,
        &["ledger", "review", "--month", &month, "--sign"],
    );
    assert!(
        o.status.success() && text(&o).contains("signed by m"),
        "{}",
        text(&o)
    );
    assert_eq!(rows_of(&dir, ledger::Kind::Review).len(), 1);
    let o = run(&config, &M, &["ledger", "review", "--month", "2026-13"]);
    assert!(
        !o.status.success() && text(&o).contains("YYYY-MM"),
        "{}",
        text(&o)
    );

    // A row edited by hand (the append-only triggers dropped first, as an attacker with the file would):
    // verify exits 1 naming the row.
    let target = rows_of(&dir, ledger::Kind::UserChange)[0].seq;
    let db = rusqlite::Connection::open(dir.join("data/ledger.sqlite")).unwrap();
    db.execute_batch(&format!(
        "DROP TRIGGER IF EXISTS ledger_rows_no_update; UPDATE ledger_rows SET purpose = 'nothing to see' WHERE seq = {target};"
    ))
    .unwrap();
    drop(db);
    let o = run(&config, &[], &["ledger", "verify"]);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains(&format!("row {target}")), "{}", text(&o));
}
