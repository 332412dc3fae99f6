//! Sealed footage opens only with two managers, and data-subject requests are answered, through the real site
//! runtime in-process (a simulated camera recording sealed, real vault, SQLite directory and ledger) and the
//! real HTTP API on 127.0.0.1:0:
//! - one manager's approval opens nothing, the same manager twice and a wrong password are refused (and
//!   ledgered), a second manager's approval returns the sealed MP4, whose hash the ledger records; an opening
//!   of three cameras returns one ZIP of the two MP4s recorded then with a manifest of their hashes (the third
//!   named without a file), one naming a camera that keeps only masked recordings is refused, and a wrong
//!   password given with a filing files nothing;
//! - root with every file of the site but no password cannot rebuild the key (every 32-byte window of every
//!   file, raw and hex, is tried against the sealed public key; of segment files, the first 4 KiB);
//! - 존재확인 answers "exists", "destroyed on DATE" (from the 파기 row) and "never recorded"; states move only
//!   in order, each step a ledger row; a contractor sees only requests about its cameras; the forms render;
//! - a data subject's opening over half an hour, of two cameras, or of a camera that keeps only masked
//!   recordings, is refused.

mod common;

use common::*;
use std::time::Duration;

/// Every file under `dir`, recursively.
fn files_under(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Whether any 32 bytes of `bytes` (raw, or as 64 hex characters) are the private key of `public`.
fn holds_the_key(bytes: &[u8], public: &[u8; 32]) -> bool {
    let raw = bytes.windows(32).any(|w| {
        let w: [u8; 32] = w.try_into().unwrap();
        custody::public_of(&w) == *public
    });
    let hex = bytes.windows(64).any(|w| {
        w.iter().all(u8::is_ascii_hexdigit)
            && hex::decode(w)
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .is_some_and(|k| custody::public_of(&k) == *public)
    });
    raw || hex
}

#[test]
fn sealed_footage_opens_only_with_two_managers_and_requests_are_answered() {
    let work = temp_dir("requests");
    let storage = work.join("data");
    std::fs::create_dir_all(&storage).unwrap();
    let key = storage.join("site.key");
    vault::SecretKey::init_site_key(&key).unwrap();
    let storage_extra = format!("key_file = \"{}\"\nsegment_secs = 2", key.display());

    // The managers first: the sealed key is split among them before the policy names it.
    let public_hex = two_managers_split_a_sealed_key(&site_policy(
        0,
        18961,
        &storage,
        &storage_extra,
        &format!("{LEE}\n[[cameras]]\nid = \"cam-x\"\nurl = \"rtsp://127.0.0.1:9/none\""),
    ));
    let public = vault::SealedPublicKey::parse(&public_hex).unwrap().0;

    let _camera = sim_camera(18960, "req");
    let cameras = LEE.to_string()
        + r#"
[[contractors]]
id = "fix-it"
name = "수리업체"
phone = "000"
[[facilities]]
id = "hall"
name = "본관"
people = ["m"]
[[facilities]]
id = "gate"
name = "정문"
people = ["m"]
contractors = ["fix-it"]
[[cameras]]
id = "cam-s"
url = "rtsp://127.0.0.1:18960/req"
facility = "hall"
detect = ["person"]
recording = "sealed"
[[cameras]]
id = "cam-t"
url = "rtsp://127.0.0.1:18960/req"
facility = "hall"
detect = ["person"]
recording = "sealed"
[[cameras]]
id = "cam-u"
url = "rtsp://127.0.0.1:9/none"
facility = "hall"
detect = ["person"]
recording = "sealed"
[[cameras]]
id = "cam-x"
url = "rtsp://127.0.0.1:9/none"
facility = "gate"
detect = ["person"]
"#;
    let policy = site_policy(
        0,
        18961,
        &storage,
        &format!("{storage_extra}\nsealed_public_key = \"{public_hex}\""),
        &cameras,
    );
    let config = work.join("site.toml");
    // A sealed key not split among the managers here (someone may hold its private half alone): the site
    // refuses to start, at once, saying why.
    let alone = "11".repeat(32);
    std::fs::write(&config, policy.replace(&public_hex, &alone)).unwrap();
    let started = std::time::Instant::now();
    let e = format!("{:#}", try_start_site(&config).err().expect("refused"));
    assert!(
        e.contains("cam-s") && e.contains("could open the footage alone"),
        "{e}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    std::fs::write(&config, &policy).unwrap();
    let site = start_site(&config);
    let records = site.records().clone();
    let ledger = records.ledger().clone();
    let (http_server, base) = serve_api(&site);
    let http = Http::new(base);
    assert!(
        wait_for(Duration::from_secs(90), || site
            .vault()
            .list(Some("cam-s.sealed"), 0, i64::MAX)
            .unwrap()
            .len()
            >= 3),
        "the sealed camera never recorded: {:?}",
        site.status()
    );
    let now = vault::time::unix_now();
    let (tm, tl, tf) = (
        http.login("m", PW),
        http.login("lee", LEE_PW),
        http.login("fix", "set by m for lee"),
    );

    // ---- Two-person rule ----
    // The key in force cannot be replaced by one manager with a new split: that would leave its footage to
    // whoever made the new one.
    let (_, m) = records
        .accounts
        .login("m", &PW.into(), access::SessionKind::Bearer, "test")
        .unwrap();
    let e = site::custody::sealed_init(&records, &m, &site.config())
        .unwrap_err()
        .to_string();
    assert!(e.contains("already split"), "{e}");
    let opening = serde_json::json!({
        "cameras": ["cam-s"], "from": now - 600, "to": now + 60, "reason": "폭행 사건 수사",
        "ground": "investigation", "reference": "미추홀서 수사 2026-77", "requested_by": "미추홀경찰서",
    });
    let mut before_1970 = opening.clone();
    before_1970["from"] = (-1).into();
    before_1970["to"] = i64::MAX.into();
    let (code, body) = http.post(&tm, "/api/v1/openings", before_1970);
    assert_eq!(
        (code, body["field"].as_str()),
        (400, Some("from")),
        "{body}"
    );
    let mut too_long = opening.clone();
    too_long["from"] = (now - 25 * 3600).into();
    let (code, body) = http.post(&tm, "/api/v1/openings", too_long);
    assert_eq!((code, body["field"].as_str()), (400, Some("to")), "{body}");
    let mut filed = opening.clone();
    filed["password"] = PW.into();
    let (code, body) = http.post(&tm, "/api/v1/openings", filed);
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        (body["state"].as_str(), body["needed"].as_u64()),
        (Some("pending"), Some(1)),
        "{body}"
    );
    let id = body["id"].as_str().unwrap().to_string();
    let approve = format!("/api/v1/openings/{id}/approve");
    // One manager cannot: approving again is refused, and a contractor may not approve at all.
    let (code, body) = http.post(&tm, &approve, serde_json::json!({"password": PW}));
    assert_eq!(code, 409, "{body}");
    assert_eq!(
        http.post(&tf, &approve, serde_json::json!({"password": "x"}))
            .0,
        403
    );
    let (code, body) = http.post(
        &tl,
        &approve,
        serde_json::json!({"password": "not lee's password"}),
    );
    assert_eq!(code, 403, "{body}");
    // Two can: the second approval answers with the sealed footage.
    let (code, kind, mp4) = http.post_raw(&tl, &approve, serde_json::json!({"password": LEE_PW}));
    assert_eq!(
        (code, kind.as_str()),
        (200, "video/mp4"),
        "{}",
        String::from_utf8_lossy(&mp4)
    );
    let out = work.join("opened.mp4");
    std::fs::write(&out, &mp4).unwrap();
    let frames = decode_file(&out, 400);
    assert!(
        frames.len() >= 20,
        "the opened export has {} frames",
        frames.len()
    );
    let (code, body) = http.post(&tl, &approve, serde_json::json!({"password": LEE_PW}));
    assert_eq!(code, 409, "a done opening takes no more approvals: {body}");
    let provide = rows_of(&ledger, ledger::Kind::Provide);
    let steps: Vec<&str> = provide
        .iter()
        .filter_map(|r| r.entry.detail["step"].as_str())
        .collect();
    assert_eq!(
        steps,
        [
            "filed",
            "approved",
            "approval_refused",
            "approval_refused",
            "approved",
            "key_rebuilt",
            "opened"
        ],
        "{provide:#?}"
    );
    let opened = provide.last().unwrap();
    use sha2::Digest;
    assert_eq!(
        opened.entry.detail["output_sha256"].as_str().unwrap(),
        hex::encode(sha2::Sha256::digest(&mp4))
    );
    assert_eq!(opened.entry.recipient, "미추홀경찰서");
    assert!(
        opened.entry.basis.contains("수사기관의 요청") && opened.entry.basis.contains("2026-77")
    );
    assert_eq!(opened.entry.manager, "m, lee");

    // Several cameras in one opening: one ZIP of their MP4s with a manifest of hashes, after the same two
    // approvals. A camera that keeps only masked recordings among them is refused, naming it.
    let mut several = opening.clone();
    several["cameras"] = serde_json::json!(["cam-s", "cam-x"]);
    let (code, body) = http.post(&tm, "/api/v1/openings", several.clone());
    assert_eq!(code, 409, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("\"cam-x\""),
        "{body}"
    );
    assert!(
        wait_for(Duration::from_secs(60), || !site
            .vault()
            .list(Some("cam-t.sealed"), now - 600, now + 60)
            .unwrap()
            .is_empty()),
        "cam-t never recorded: {:?}",
        site.status()
    );
    // cam-u records sealed but never connected: the manifest names it with no file.
    several["cameras"] = serde_json::json!(["cam-u", "cam-t", "cam-s"]);
    let openings = || {
        http.get_json(&tm, "/api/v1/openings").1["openings"]
            .as_array()
            .unwrap()
            .len()
    };
    let before = openings();
    let mut wrong = several.clone();
    wrong["password"] = "not m's password".into();
    let (code, body) = http.post(&tm, "/api/v1/openings", wrong);
    assert_eq!(code, 403, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("nothing was filed"),
        "{body}"
    );
    assert_eq!(openings(), before, "a wrong password files nothing");
    let mut filed = several.clone();
    filed["password"] = PW.into();
    let (code, body) = http.post(&tm, "/api/v1/openings", filed);
    assert_eq!((code, body["needed"].as_u64()), (200, Some(1)), "{body}");
    let zip_id = body["id"].as_str().unwrap().to_string();
    let approve = format!("/api/v1/openings/{zip_id}/approve");
    let (code, kind, zipped) =
        http.post_raw(&tl, &approve, serde_json::json!({"password": LEE_PW}));
    assert_eq!(
        (code, kind.as_str()),
        (200, "application/zip"),
        "{}",
        String::from_utf8_lossy(&zipped)
    );
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&zipped)).unwrap();
    let mut entries = std::collections::BTreeMap::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut bytes).unwrap();
        entries.insert(f.name().to_string(), bytes);
    }
    let manifest_name = entries
        .keys()
        .find(|n| n.ends_with("-manifest.json"))
        .expect("a manifest")
        .clone();
    let manifest: serde_json::Value = serde_json::from_slice(&entries[&manifest_name]).unwrap();
    assert_eq!(manifest["approved_by"], serde_json::json!(["m", "lee"]));
    let parts = manifest["cameras"].as_array().unwrap();
    assert_eq!(parts.len(), 3, "{manifest}");
    assert_eq!(
        parts[2],
        serde_json::json!({"camera": "cam-u", "segments": 0}),
        "{manifest}"
    );
    for (part, camera) in parts.iter().zip(["cam-s", "cam-t"]) {
        assert_eq!(part["camera"], camera, "{manifest}");
        let name = part["file"].as_str().unwrap();
        let mp4 = &entries[name];
        assert_eq!(
            part["sha256"].as_str().unwrap(),
            hex::encode(sha2::Sha256::digest(mp4))
        );
        let out = work.join(name);
        std::fs::write(&out, mp4).unwrap();
        assert!(decode_file(&out, 400).len() >= 10, "{name} does not play");
    }
    assert_eq!(entries.len(), 3, "{:?}", entries.keys());
    let rows: Vec<_> = rows_of(&ledger, ledger::Kind::Provide)
        .into_iter()
        .filter(|r| r.entry.detail["id"] == zip_id.as_str())
        .collect();
    let steps: Vec<&str> = rows
        .iter()
        .filter_map(|r| r.entry.detail["step"].as_str())
        .collect();
    assert_eq!(
        steps,
        ["filed", "approved", "approved", "key_rebuilt", "opened"],
        "{rows:#?}"
    );
    let opened = rows.last().unwrap();
    assert_eq!(opened.entry.form, "sealed MP4 x3 (ZIP)");
    assert_eq!(
        opened.entry.detail["output_sha256"].as_str().unwrap(),
        hex::encode(sha2::Sha256::digest(&zipped))
    );
    assert_eq!(opened.entry.detail["cameras"], manifest["cameras"]);
    assert!(
        std::fs::read_dir(storage.join("exports"))
            .unwrap()
            .next()
            .is_none(),
        "an opening's files stay in exports/ after it is handed over"
    );

    // Root, with every file of the site (data dir, key file, databases, policy) but no password, holds no
    // copy of the private key in any form.
    let mut files = vec![config.clone()];
    files_under(&storage, &mut files);
    let mut scanned = 0usize;
    for f in &files {
        // A segment being written may be renamed or swept meanwhile.
        let Ok(bytes) = std::fs::read(f) else {
            continue;
        };
        // Segment files (a 19-byte header, then ciphertext) are scanned in their first 4 KiB, every other
        // file whole (each 32-byte window costs one X25519 multiplication).
        let part = if bytes.starts_with(b"GARIMSG1") {
            &bytes[..bytes.len().min(4 << 10)]
        } else {
            &bytes[..]
        };
        scanned += part.len();
        assert!(
            !holds_the_key(part, &public),
            "{} holds the sealed private key",
            f.display()
        );
    }
    assert!(
        files.len() >= 6 && scanned > 50_000,
        "{} files, {scanned} bytes",
        files.len()
    );
    eprintln!(
        "{} files, {scanned} bytes scanned: no sealed private key",
        files.len()
    );

    // ---- Data-subject requests ----
    let new_request = |from: i64, to: i64, camera: &str| {
        serde_json::json!({
            "type": "existence", "requester": "홍길동 <b>", "contact": "010-0000-0000", "cameras": [camera],
            "from": from, "to": to, "description": "빨간 외투", "identity_check": "주민등록증",
        })
    };
    let (code, r1) = http.post(
        &tm,
        "/api/v1/requests",
        new_request(now - 300, now, "cam-s"),
    );
    assert_eq!(code, 200, "{r1}");
    let r1 = r1["id"].as_str().unwrap().to_string();
    let (code, ans) = http.post(
        &tm,
        &format!("/api/v1/requests/{r1}/existence"),
        serde_json::json!(null),
    );
    assert_eq!(
        (code, ans["answer"].as_str()),
        (200, Some("exists")),
        "{ans}"
    );
    // 40 days ago: the retention sweep destroyed that day (its 파기 row, as the sweep writes it).
    let old = now - 40 * 86_400;
    ledger
        .append(ledger::Entry {
            kind: ledger::Kind::Destroy,
            actor: "system".into(),
            subject: "cam-s.sealed".into(),
            detail: serde_json::json!({"camera": "cam-s.sealed", "day": vault::time::day_label(vault::time::day_of(old)), "segments": 3}),
            ..ledger::Entry::default()
        })
        .unwrap();
    let (_, r2) = http.post(
        &tm,
        "/api/v1/requests",
        new_request(old, old + 600, "cam-s"),
    );
    let r2 = r2["id"].as_str().unwrap().to_string();
    let (_, ans) = http.post(
        &tm,
        &format!("/api/v1/requests/{r2}/existence"),
        serde_json::json!(null),
    );
    assert_eq!(ans["answer"], "destroyed", "{ans}");
    assert!(ans["text"].as_str().unwrap().contains("파기"), "{ans}");
    let (_, r3) = http.post(
        &tm,
        "/api/v1/requests",
        new_request(now - 20 * 86_400, now - 20 * 86_400 + 600, "cam-s"),
    );
    let r3 = r3["id"].as_str().unwrap().to_string();
    let (_, ans) = http.post(
        &tm,
        &format!("/api/v1/requests/{r3}/existence"),
        serde_json::json!(null),
    );
    assert_eq!(ans["answer"], "never_recorded", "{ans}");
    // Bad input: a window over the maximum, unknown or foreign ids.
    let (code, body) = http.post(
        &tm,
        "/api/v1/requests",
        new_request(now - 25 * 3600, now, "cam-s"),
    );
    assert_eq!((code, body["field"].as_str()), (400, Some("to")), "{body}");
    for bad in ["DSR-2026-9999", "SA-2026-0001", "..%2F..%2Fetc"] {
        assert_eq!(
            http.get(&tm, &format!("/api/v1/requests/{bad}")).0,
            404,
            "{bad}"
        );
    }
    // A contractor sees only requests about its cameras (and gets the same 404 for the others).
    let (_, r4) = http.post(
        &tm,
        "/api/v1/requests",
        new_request(now - 300, now, "cam-x"),
    );
    let r4 = r4["id"].as_str().unwrap().to_string();
    assert_eq!(http.get(&tf, &format!("/api/v1/requests/{r1}")).0, 404);
    assert_eq!(http.get(&tf, &format!("/api/v1/requests/{r4}")).0, 200);
    let (_, list) = http.get_json(&tf, "/api/v1/requests");
    let ids: Vec<&str> = list["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert_eq!(ids, [r4.as_str()]);
    assert_eq!(
        http.post(
            &tf,
            "/api/v1/requests",
            new_request(now - 300, now, "cam-x")
        )
        .0,
        403
    );

    // States only in order, each a 열람등 요구 row; the refusal names one of the policy's reasons.
    let before = rows_of(&ledger, ledger::Kind::Request).len();
    let path = |what: &str| format!("/api/v1/requests/{r2}/{what}");
    let (code, body) = http.post(&tm, &path("state"), serde_json::json!({"to": "refused"}));
    assert_eq!(code, 409, "{body}");
    assert_eq!(
        http.post(&tm, &path("state"), serde_json::json!({"to": "checking"}))
            .0,
        200
    );
    let (code, body) = http.post(
        &tm,
        &path("decision"),
        serde_json::json!({"outcome": "refuse", "reason": "9"}),
    );
    assert_eq!(
        (code, body["field"].as_str()),
        (400, Some("reason")),
        "{body}"
    );
    let (code, body) = http.post(
        &tm,
        &path("decision"),
        serde_json::json!({"outcome": "refuse", "reason": "2", "note": "파기됨"}),
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        http.post(&tm, &path("state"), serde_json::json!({"to": "refused"}))
            .0,
        200
    );
    assert_eq!(
        http.post(&tm, &path("state"), serde_json::json!({"to": "closed"}))
            .0,
        200
    );
    assert_eq!(rows_of(&ledger, ledger::Kind::Request).len(), before + 4);
    let (code, html) = http.get(&tm, &path("documents/notice"));
    let html = String::from_utf8_lossy(&html);
    assert_eq!(code, 200);
    assert!(
        html.contains("보관기간이 경과하여 파기한 경우") && html.contains("행정심판"),
        "{html}"
    );
    let (code, html) = http.get(&tm, &format!("/api/v1/requests/{r1}/documents/claim"));
    let html = String::from_utf8_lossy(&html);
    assert_eq!(code, 200);
    assert!(
        html.contains("홍길동 &lt;b&gt;") && !html.contains("홍길동 <b>"),
        "not escaped"
    );

    // 열람 by a data subject (the redacted export: tests/subject.rs): a window over half an hour, or a camera
    // that keeps only masked recordings (no unmasked footage of anyone exists), is refused.
    let mut view = new_request(now - 3600, now, "cam-s");
    view["type"] = "view".into();
    let (_, rv) = http.post(&tm, "/api/v1/requests", view);
    let opening = |camera: &str, from: i64| {
        serde_json::json!({
            "cameras": [camera], "from": from, "to": now, "reason": "본인 영상 열람",
            "ground": "subject_view", "reference": rv["id"], "requested_by": "홍길동",
        })
    };
    let (code, body) = http.post(&tm, "/api/v1/openings", opening("cam-s", now - 3600));
    assert_eq!((code, body["field"].as_str()), (400, Some("to")), "{body}");
    let mut two = opening("cam-s", now - 600);
    two["cameras"] = serde_json::json!(["cam-s", "cam-t"]);
    let (code, body) = http.post(&tm, "/api/v1/openings", two);
    assert_eq!(
        (code, body["field"].as_str()),
        (400, Some("cameras")),
        "{body}"
    );
    let (code, body) = http.post(&tm, "/api/v1/openings", opening("cam-x", now - 600));
    assert_eq!(code, 409, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("only masked recordings"),
        "{body}"
    );

    // Open requests show on /healthz's status and the metrics; r2 is closed.
    let status = site.status();
    assert_eq!(
        (status.requests.open, status.requests.overdue),
        (4, 0),
        "{:?}",
        status.requests
    );
    let metrics = telemetry::metrics().encode_text();
    assert_eq!(metric(&metrics, "garim_requests_open"), Some(4.0));
    assert_eq!(metric(&metrics, "garim_requests_overdue"), Some(0.0));

    // A manager's reset of lee's password would drop lee's share (m would know the password): with k = 2 and
    // two holders, the sealed footage could never be opened again. Refused (409, ledgered), as are disabling
    // and demoting lee; lee keeps their password and share.
    for change in [
        serde_json::json!({"password": "m resets lee's password"}),
        serde_json::json!({"disabled": true}),
        serde_json::json!({"role": "access"}),
    ] {
        let (code, body) = http.patch(&tm, "/api/v1/users/lee", change.clone());
        assert_eq!(code, 409, "{change}: {body}");
        let e = body["error"].as_str().unwrap();
        assert!(
            e.contains("k = 2") && e.contains("allow_sealed_lockout") && !e.contains(&public_hex),
            "{e}"
        );
    }
    let refused = rows_of(&ledger, ledger::Kind::UserChange)
        .into_iter()
        .filter(|r| r.entry.subject == "user lee" && r.entry.detail["outcome"] == "refused")
        .count();
    assert_eq!(refused, 3, "a refused row for each");
    http.login("lee", LEE_PW);
    let holders = || {
        records
            .directory()
            .custody_of(&public)
            .unwrap()
            .unwrap()
            .holders
    };
    assert_eq!(holders(), ["lee", "m"]);
    let share_of = |who: &str| {
        let (code, users) = http.get_json(&tm, "/api/v1/users");
        assert_eq!(code, 200, "{users}");
        let u = users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["name"] == who)
            .cloned()
            .unwrap();
        u["sealed_share"].as_bool().unwrap()
    };
    assert!(share_of("lee") && share_of("m") && !share_of("fix"));
    // Accepted, it is done and says so; the site still starts, saying the key can no longer be opened.
    let (code, body) = http.patch(
        &tm,
        "/api/v1/users/lee",
        serde_json::json!({"password": "m resets lee's password", "allow_sealed_lockout": true}),
    );
    assert_eq!(code, 200, "{body}");
    let row = rows_of(&ledger, ledger::Kind::UserChange).pop().unwrap();
    assert_eq!(row.entry.detail["sealed_lockout"], "accepted", "{row:?}");
    assert_eq!(holders(), ["m"]);
    assert!(!share_of("lee") && share_of("m"));
    http_server.stop();
    site.stop();
    drop(site);
    let again = start_site(&config);
    assert!(
        again.status().cameras.iter().any(|c| c.id == "cam-s"),
        "the sealed camera runs"
    );
    again.stop();
}
