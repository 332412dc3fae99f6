//! Every accountable action leaves exactly its 관리대장 row, through the real site runtime started in-process
//! (a simulated camera, real models, real vault and SQLite ledger) and the real HTTP API on 127.0.0.1:0:
//! logins and failed logins, a user change, a masked export, a refused scene acceptance, policy reloads
//! (applied and refused), a retention destruction and storage-floor destructions, an inspection and its
//! countersignature. Reads without effect (status, snapshot, lists) leave none.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::time::Duration;

const PW: &str = "correct horse battery";

fn counts(ledger: &ledger::Ledger) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for r in ledger.list(&ledger::Filter::default()).unwrap() {
        *m.entry(r.entry.kind.name().to_string()).or_insert(0) += 1;
    }
    m
}

/// What was added since `before`, kind by kind.
fn added(before: &BTreeMap<String, usize>, ledger: &ledger::Ledger) -> BTreeMap<String, usize> {
    counts(ledger)
        .into_iter()
        .filter_map(|(k, n)| {
            let d = n - before.get(&k).copied().unwrap_or(0);
            (d > 0).then_some((k, d))
        })
        .collect()
}

fn expect(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, n)| (k.to_string(), *n)).collect()
}

struct Http {
    base: String,
    agent: ureq::Agent,
}

impl Http {
    fn login(&self, user: &str, pw: &str) -> (u16, Option<String>) {
        let mut r = self
            .agent
            .post(&format!("{}/api/v1/session/login", self.base))
            .send_json(serde_json::json!({"user": user, "password": pw, "session": "bearer"}))
            .unwrap();
        let status = r.status().as_u16();
        let v: serde_json::Value = r.body_mut().read_json().unwrap_or_default();
        (status, v["token"].as_str().map(str::to_string))
    }

    fn get(&self, token: &str, path: &str) -> (u16, Vec<u8>) {
        let mut r = self
            .agent
            .get(&format!("{}{path}", self.base))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .unwrap();
        (r.status().as_u16(), r.body_mut().read_to_vec().unwrap())
    }

    fn post(&self, token: &str, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let mut r = self
            .agent
            .post(&format!("{}{path}", self.base))
            .header("Authorization", &format!("Bearer {token}"))
            .send_json(body)
            .unwrap();
        (
            r.status().as_u16(),
            r.body_mut().read_json().unwrap_or_default(),
        )
    }
}

#[test]
fn every_accountable_action_leaves_exactly_its_ledger_row() {
    let work = temp_dir("accountability");
    let storage = work.join("data");
    std::fs::create_dir_all(&storage).unwrap();
    let key = storage.join("site.key");
    vault::SecretKey::init_site_key(&key).unwrap();
    let _camera = sim_camera(18755, "acc");
    let camera = r#"
[[contractors]]
id = "fix-it"
name = "수리업체"
phone = "000"
[[facilities]]
id = "hall"
name = "본관"
people = ["m"]
contractors = ["fix-it"]
[[cameras]]
id = "cam-acc"
url = "rtsp://127.0.0.1:18755/acc"
facility = "hall"
detect = ["person"]
"#;
    let storage_extra = format!("key_file = \"{}\"\nsegment_secs = 2", key.display());
    let policy = site_policy(0, 18756, &storage, &storage_extra, camera);
    let config = work.join("site.toml");
    std::fs::write(&config, &policy).unwrap();
    let site = start_site(&config);
    let records = site.records().clone();
    let ledger = records.ledger().clone();
    records
        .accounts
        .bootstrap("m", &PW.into(), Some("m"))
        .unwrap();
    let (http_server, base) = serve_api(&site);
    let http = Http {
        base,
        agent: ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into(),
    };
    assert!(
        wait_for(Duration::from_secs(60), || site.status().ok
            && site
                .vault()
                .list(Some("cam-acc"), 0, i64::MAX)
                .unwrap()
                .len()
                >= 2),
        "camera never streamed and recorded: {:?}",
        site.status()
    );

    // Logins: one row each, failed ones too.
    let before = counts(&ledger);
    let (code, token) = http.login("m", PW);
    assert_eq!(code, 200);
    let m = token.unwrap();
    assert_eq!(http.login("m", "not the password").0, 401);
    assert_eq!(
        added(&before, &ledger),
        expect(&[("login", 1), ("login_failed", 1)])
    );

    // A user change, by a manager.
    let before = counts(&ledger);
    let (code, body) = http.post(
        &m,
        "/api/v1/users",
        serde_json::json!({"name": "lee", "role": "access", "password": PW}),
    );
    assert_eq!(code, 201, "{body}");
    let (code, body) = http.post(
        &m,
        "/api/v1/users",
        serde_json::json!({"name": "fix", "role": "contractor", "password": PW, "person_id": "fix-it"}),
    );
    assert_eq!(code, 201, "{body}");
    assert_eq!(added(&before, &ledger), expect(&[("user_change", 2)]));

    // Reads: the camera list, its masked snapshot, the recordings list, the policy: no rows.
    let lee = http.login("lee", PW).1.unwrap();
    let fix = http.login("fix", PW).1.unwrap();
    let before = counts(&ledger);
    assert_eq!(http.get(&lee, "/api/v1/cameras").0, 200);
    let (code, jpeg) = http.get(&lee, "/api/v1/cameras/cam-acc/snapshot.jpg");
    assert_eq!(code, 200);
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8], "a JPEG");
    let (code, list) = http.get(&lee, "/api/v1/recordings?camera=cam-acc");
    assert_eq!(code, 200);
    let list: serde_json::Value = serde_json::from_slice(&list).unwrap();
    let first = list["segments"][0]["start"].as_str().unwrap().to_string();
    let (code, policy) = http.get(&m, "/api/v1/policy");
    assert_eq!(code, 200);
    let policy = String::from_utf8_lossy(&policy);
    assert!(
        !policy.contains("rtsp://127.0.0.1"),
        "a camera URL in the answer: {policy}"
    );
    // The contractor sees its facility's camera, live only.
    assert_eq!(
        http.get(&fix, "/api/v1/cameras/cam-acc/snapshot.jpg").0,
        200
    );
    assert_eq!(http.get(&fix, "/api/v1/recordings").0, 403);
    assert_eq!(added(&before, &ledger), BTreeMap::new());

    // A masked export: its row first, then the MP4.
    let before = counts(&ledger);
    let now = vault::time::utc_stamp(vault::time::unix_now() + 5);
    let (code, mp4) = http.get(
        &lee,
        &format!(
            "/api/v1/cameras/cam-acc/export.mp4?from={first}&to={now}&purpose=incident%20check"
        ),
    );
    assert_eq!(code, 200, "{}", String::from_utf8_lossy(&mp4));
    assert!(mp4.windows(4).any(|w| w == b"ftyp"), "not an MP4");
    // Without a purpose, or past the range limit: refused, no row.
    let (code, _) = http.get(
        &lee,
        &format!("/api/v1/cameras/cam-acc/export.mp4?from={first}&to={now}"),
    );
    assert_eq!(code, 400);
    assert_eq!(added(&before, &ledger), expect(&[("use", 1)]));
    let row = ledger
        .list(&ledger::Filter {
            kinds: vec![ledger::Kind::Use],
            ..ledger::Filter::default()
        })
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(row.entry.actor, "lee");
    assert_eq!(row.entry.purpose, "incident check");
    assert!(row.entry.subject.contains("cam-acc"), "{:?}", row.entry);

    // A scene acceptance without an alarm: refused by the camera's guard, and that refusal is its row.
    let before = counts(&ledger);
    let (code, body) = http.post(
        &m,
        "/api/v1/cameras/cam-acc/scene/accept",
        serde_json::json!({"zones_checked": false}),
    );
    assert_eq!(code, 409, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("no scene alarm"),
        "{body}"
    );
    assert_eq!(
        http.post(
            &lee,
            "/api/v1/cameras/cam-acc/scene/accept",
            serde_json::json!({})
        )
        .0,
        403
    );
    assert_eq!(added(&before, &ledger), expect(&[("scene_acceptance", 1)]));

    // Policy reloads: a refused one and an applied one.
    let before = counts(&ledger);
    std::fs::write(
        &config,
        policy_with(
            &policy_text(&config),
            "segment_secs = 2",
            "segment_secs = 0",
        ),
    )
    .unwrap();
    site.reload();
    std::fs::write(
        &config,
        policy_text(&config).replace("segment_secs = 0", "segment_secs = 3"),
    )
    .unwrap();
    site.reload();
    assert_eq!(
        added(&before, &ledger),
        expect(&[("policy_change", 1), ("policy_rejected", 1)])
    );

    // A manager replaces the policy through the API: the change names the manager and the reason; a refused
    // text changes nothing, not even the file, and is recorded too.
    let before = counts(&ledger);
    let text = policy_text(&config);
    let (code, body) = http.post(
        &m,
        "/api/v1/policy",
        serde_json::json!({"toml": text.replace("segment_secs = 3", "segment_secs = 4"), "reason": "longer segments"}),
    );
    assert_eq!(code, 200, "{body}");
    assert!(body["changes"].to_string().contains("storage"), "{body}");
    let (code, body) = http.post(
        &m,
        "/api/v1/policy",
        serde_json::json!({"toml": "[site]\nname = 1", "reason": "broken"}),
    );
    assert_eq!(code, 400, "{body}");
    assert_eq!(body["field"], "toml");
    assert!(policy_text(&config).contains("segment_secs = 4"));
    assert_eq!(
        http.post(
            &lee,
            "/api/v1/policy",
            serde_json::json!({"toml": text, "reason": "x"})
        )
        .0,
        403
    );
    assert_eq!(
        added(&before, &ledger),
        expect(&[("policy_change", 1), ("policy_rejected", 1)])
    );
    let change = ledger
        .list(&ledger::Filter {
            kinds: vec![ledger::Kind::PolicyChange],
            ..ledger::Filter::default()
        })
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(
        (change.entry.actor.as_str(), change.entry.purpose.as_str()),
        ("m", "longer segments")
    );
    std::fs::write(
        &config,
        policy_text(&config).replace("segment_secs = 4", "segment_secs = 3"),
    )
    .unwrap();
    site.reload();

    // Retention: a segment of a day 40 days ago is destroyed with its key, one 파기 row for the day.
    let before = counts(&ledger);
    let old = vault::time::unix_now() - 40 * 86_400;
    let mut seg = site.vault().begin("cam-acc", old).unwrap();
    seg.write(b"old footage").unwrap();
    site.vault().commit(seg, old + 2).unwrap();
    site.sweep();
    assert_eq!(added(&before, &ledger), expect(&[("destroy", 1)]));

    // The storage floor: with a floor above the disk's free space, the oldest segments go, a row each.
    let before = counts(&ledger);
    let text = policy_text(&config).replace(
        "segment_secs = 3",
        "segment_secs = 3\nmin_free_bytes = 18446744073709551615",
    );
    std::fs::write(&config, text).unwrap();
    site.reload();
    let kept = site
        .vault()
        .list(Some("cam-acc"), 0, i64::MAX)
        .unwrap()
        .len();
    assert!(kept >= 2);
    site.sweep();
    let gone = kept
        - site
            .vault()
            .list(Some("cam-acc"), 0, i64::MAX)
            .unwrap()
            .len();
    assert!(gone >= kept - 1, "{gone} of {kept} removed");
    assert_eq!(
        added(&before, &ledger),
        expect(&[("destroy", gone), ("policy_change", 1)])
    );

    // An inspection on demand (handler or manager), and its countersignature (manager only).
    let before = counts(&ledger);
    let (code, inspection) = http.post(&m, "/api/v1/inspections", serde_json::json!({}));
    assert_eq!(code, 201, "{inspection}");
    let id = inspection["id"].as_u64().unwrap();
    assert_eq!(inspection["report"]["cameras"][0]["camera"], "cam-acc");
    assert_eq!(inspection["report"]["ledger"]["ok"], true);
    let (code, body) = http.post(
        &m,
        &format!("/api/v1/inspections/{id}/countersign"),
        serde_json::json!({"note": "ok"}),
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["signed_by"], "m");
    let (code, _) = http.post(
        &m,
        &format!("/api/v1/inspections/{id}/countersign"),
        serde_json::json!({}),
    );
    assert_eq!(code, 409, "signed twice");
    assert_eq!(
        added(&before, &ledger),
        expect(&[("inspection", 1), ("countersign", 1)])
    );

    // The whole chain verifies, and its head is signed at stop.
    records.checkpoint();
    let report = records.verify().unwrap();
    assert!(report.problem.is_none(), "{:?}", report.problem);
    http_server.stop();
    site.stop();
    drop(site);

    // A row edited by hand: the service, started again, reports it (metric, /healthz reads it too).
    let db = rusqlite::Connection::open(storage.join("ledger.sqlite")).unwrap();
    db.execute_batch(
        "DROP TRIGGER IF EXISTS ledger_rows_no_update; UPDATE ledger_rows SET actor = 'nobody' WHERE seq = 3;",
    )
    .unwrap();
    drop(db);
    let out = garim()
        .env("GARIM_MODELS_DIR", models_dir())
        .args([
            "run",
            "--config",
            config.to_str().unwrap(),
            "--seconds",
            "3",
        ])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains("LEDGER BROKEN: row 3"),
        "the service did not report the broken chain:\n{log}"
    );
    let report = site::open_records(&site::read_policy(&config, &|_| {}).unwrap().0)
        .unwrap()
        .verify()
        .unwrap();
    assert!(
        report
            .problem
            .as_ref()
            .is_some_and(|p| p.to_string().contains("row 3")),
        "{:?}",
        report.problem
    );
    assert_eq!(telemetry::metrics().ledger_ok.get(), 0);
}

fn policy_text(config: &std::path::Path) -> String {
    std::fs::read_to_string(config).unwrap()
}

fn policy_with(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "{from} not in the policy");
    text.replace(from, to)
}
