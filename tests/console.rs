//! The operator console in a real browser: Debian's chromium, headless, driven through chromedriver over
//! WebDriver, against a site running in this process with a simulated camera. A manager logs in and sees
//! the masked snapshot, draws a privacy mask with mouse events and saves it (the file keeps its comments,
//! the masked RTSP output hides that area, the 관리대장 row holds the diff); bad polygons and a stale save
//! are refused and change nothing; an access-role user has no editor; a contractor sees only its cameras;
//! HTML in a camera's location stays text; an ended session goes back to the login page. A screenshot of
//! every main page goes to target/console/.

mod common;

use common::browser::{Browser, chromedriver};
use common::*;
use std::time::Duration;

const PW: &str = "console test password";
const XSS: &str =
    "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>";

/// Luma standard deviation inside a rectangle (fractions of the frame) of the masked RTSP output.
fn texture(url: &str, rect: (f64, f64, f64, f64)) -> f64 {
    let frames = pull_rtsp(url, 3, Duration::from_secs(20));
    let f = frames.last().expect("frames from the masked RTSP output");
    let (x0, y0) = (
        (rect.0 * f.width as f64) as u32,
        (rect.1 * f.height as f64) as u32,
    );
    let (x1, y1) = (
        (rect.2 * f.width as f64) as u32,
        (rect.3 * f.height as f64) as u32,
    );
    let v: Vec<f64> = (y0..y1)
        .flat_map(|y| (x0..x1).map(move |x| (x, y)))
        .map(|(x, y)| f.luma(x, y) as f64)
        .collect();
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    (v.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt()
}

#[test]
fn the_console_in_chromium() {
    // The site's warnings and errors in the test's output.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
        .with_test_writer()
        .try_init();
    let work = temp_dir("console");
    let shots = repo_root().join("target/console");
    std::fs::create_dir_all(&shots).unwrap();
    let storage = work.join("data");
    std::fs::create_dir_all(&storage).unwrap();
    let key = storage.join("site.key");
    vault::SecretKey::init_site_key(&key).unwrap();
    let _camera = sim_camera(18865, "con");
    let cameras = format!(
        r#"
[defaults]
mask_style = "fill"   # solid: the test reads the masked area's pixels
detect = ["person"]

[[contractors]]
id = "fix-it"
name = "수리업체"
phone = "000"

# Two units: the contractor serves only the yard.
[[facilities]]
id = "lobby"
name = "로비"
people = ["m"]

[[facilities]]
id = "yard"
name = "마당"
people = ["m"]
contractors = ["fix-it"]

[[cameras]]
id = "lobby-1"
url = "rtsp://127.0.0.1:18865/con"
facility = "lobby"
location = "1층 로비"
# The window block stays hidden.
privacy_masks = [[[0.0, 0.0], [0.22, 0.0], [0.22, 0.18], [0.0, 0.18]]]  # fractions of the frame

[[cameras]]
id = "yard-2"
url = "rtsp://127.0.0.1:18865/con"
facility = "yard"
location = {xss:?}
"#,
        xss = XSS
    );
    let storage_extra = format!("key_file = \"{}\"\nsegment_secs = 2", key.display());
    let policy = site_policy(0, 18866, &storage, &storage_extra, &cameras);
    let config = work.join("site.toml");
    std::fs::write(&config, &policy).unwrap();
    let site = start_site(&config);
    let records = site.records().clone();
    records
        .accounts
        .bootstrap("m", &PW.into(), Some("m"))
        .unwrap();
    let dir = records.directory();
    dir.add_user("operator", access::Role::Access, &PW.into(), Some("m"))
        .unwrap();
    dir.add_user(
        "fixer",
        access::Role::Contractor,
        &PW.into(),
        Some("fix-it"),
    )
    .unwrap();
    // The service loop: charts' samples, reloads.
    let (controller, control) = site::control::channel();
    let runner = {
        let site = site.clone();
        std::thread::spawn(move || site.run(&control, Some(600)))
    };
    // As `garim run` serves it: cookies marked Secure (browsers keep them on loopback HTTP too).
    let http = server::HttpServer::start(
        "127.0.0.1:0",
        server::AppState {
            health: std::sync::Arc::new(|| (true, serde_json::json!({}))),
            site: site.clone(),
            accounts: records.accounts.clone(),
            checkpoints: Some(records.checkpoints.clone()),
            secure_cookies: true,
        },
    )
    .unwrap();
    let base = format!("http://{}", http.addr());
    assert!(
        wait_for(Duration::from_secs(60), || site.status().ok
            && site.snapshot_of("lobby-1").is_some()),
        "cameras never streamed: {:?}",
        site.status()
    );
    // Through the API as a script would (bearer): polygons the editor cannot draw are refused the same way,
    // naming the polygon, and the file is not touched.
    let api = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build();
    let api: ureq::Agent = api.into();
    let token = {
        let mut r = api
            .post(&format!("{base}/api/v1/session/login"))
            .send_json(serde_json::json!({"user": "m", "password": PW, "session": "bearer"}))
            .unwrap();
        let v: serde_json::Value = r.body_mut().read_json().unwrap();
        v["token"].as_str().unwrap().to_string()
    };
    let bearer = format!("Bearer {token}");
    let api_get = |path: &str| -> serde_json::Value {
        api.get(&format!("{base}{path}"))
            .header("Authorization", &bearer)
            .call()
            .unwrap()
            .body_mut()
            .read_json()
            .unwrap()
    };
    let zones = api_get("/api/v1/cameras/lobby-1/zones");
    let unchanged = std::fs::read_to_string(&config).unwrap();
    for (polygon, message) in [
        (serde_json::json!([[0.1, 0.1], [0.2, 0.2]]), "needs ≥ 3"),
        (
            serde_json::json!([[0.1, 0.1], [1.5, 0.1], [0.5, 0.5]]),
            "within 0..1",
        ),
    ] {
        let mut r = api
            .post(&format!("{base}/api/v1/cameras/lobby-1/zones"))
            .header("Authorization", &bearer)
            .send_json(serde_json::json!({
                "privacy_masks": [zones["privacy_masks"][0].clone(), polygon],
                "base_sha256": zones["policy_sha256"], "reason": "test"
            }))
            .unwrap();
        assert_eq!(r.status(), 400);
        let v: serde_json::Value = r.body_mut().read_json().unwrap();
        assert_eq!(v["errors"][0]["kind"], "privacy_masks", "{v}");
        assert_eq!(v["errors"][0]["index"], 1, "{v}");
        assert!(
            v["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(message),
            "{v}"
        );
    }
    assert_eq!(std::fs::read_to_string(&config).unwrap(), unchanged);
    // A request whose requester and description hold HTML, for the requests page.
    let now = vault::time::unix_now();
    let r = api
        .post(&format!("{base}/api/v1/requests"))
        .header("Authorization", &bearer)
        .send_json(serde_json::json!({
            "type": "view", "requester": XSS, "contact": "010-0000-0000", "cameras": ["lobby-1"],
            "from": now - 600, "to": now, "identity_check": "주민등록증", "description": XSS,
        }))
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());

    let (_driver, driver_url) = chromedriver();
    let b = Browser::open(&driver_url, &base, &shots);

    // A manager logs in; the grid shows each camera's masked snapshot; HTML in a location is only text.
    b.login("m", PW);
    b.until(
        "snapshot in the grid",
        "const i = document.querySelector('.camera-tile[data-camera=\"lobby-1\"] img.snapshot'); return !!i && i.complete && i.naturalWidth === 768;",
    );
    assert_eq!(
        b.text(".camera-tile[data-camera=\"yard-2\"] .camera-location"),
        XSS
    );
    assert_eq!(
        b.js("return document.querySelectorAll('img[src=\"x\"], #main script').length;"),
        0
    );
    assert_ne!(b.js("return document.title;"), "pwned");
    b.shot("cameras");
    // Korean by default, English on request (and back).
    assert_eq!(b.js("return document.documentElement.lang;"), "ko");
    assert_eq!(b.text("a[data-page=\"cameras\"]"), "카메라");
    b.click("#lang-switch");
    b.until(
        "English",
        "return document.documentElement.lang === 'en' && document.querySelector('a[data-page=\"cameras\"]').textContent === 'Cameras';",
    );
    b.shot("cameras-en");
    b.click("#lang-switch");
    b.until(
        "Korean again",
        "return document.documentElement.lang === 'ko';",
    );

    // The camera page: the live view is the masked MJPEG.
    b.go("/#/camera/lobby-1");
    b.until(
        "live view",
        "const i = document.querySelector('#live-view'); return !!i && i.naturalWidth > 0 && i.src.includes('/live.mjpeg');",
    );
    std::thread::sleep(Duration::from_secs(6)); // a sample or two for the charts
    b.go("/#/cameras");
    b.go("/#/camera/lobby-1");
    b.until("charts", "return !!document.querySelector('#chart-fps');");
    b.shot("camera");

    // The zone editor: draw a privacy mask over textured wall and save it.
    let rtsp = "rtsp://127.0.0.1:18866/lobby-1";
    let area = (0.62, 0.05, 0.9, 0.3);
    let inner = (0.66, 0.09, 0.86, 0.26);
    let before_texture = texture(rtsp, inner);
    let before = std::fs::read_to_string(&config).unwrap();
    let rows_before = records
        .ledger()
        .list(&ledger::Filter::default())
        .unwrap()
        .len();
    b.go("/#/zones/lobby-1");
    b.until(
        "editor",
        "const c = document.querySelector('#zone-canvas'); return !!c && c.width > 0;",
    );
    b.shot("zones-before");
    let corners = [
        (area.0, area.1),
        (area.2, area.1),
        (area.2, area.3),
        (area.0, area.3),
    ];
    let mut clicks = corners.to_vec();
    clicks.push(corners[0]); // back on the first vertex closes it
    b.click_canvas("#zone-canvas", &clicks);
    b.click("#zone-save");
    b.until(
        "saved",
        "const m = document.querySelector('#zone-message'); return !!m && m.textContent.includes('privacy_masks');",
    );
    b.shot("zones-saved");
    let after = std::fs::read_to_string(&config).unwrap();
    assert_ne!(after, before, "the policy file did not change");
    for kept in [
        "# The window block stays hidden.",
        "# fractions of the frame",
        "# Two units: the contractor serves only the yard.",
        "# solid: the test reads the masked area's pixels",
    ] {
        assert!(after.contains(kept), "{kept:?} lost:\n{after}");
    }
    let cfg = policy::SiteConfig::from_toml_str(&after).unwrap();
    let masks = &cfg.cameras[0].privacy_masks;
    assert_eq!(masks.len(), 2, "{masks:?}");
    for (p, want) in masks[1].iter().zip(corners) {
        assert!(
            (p[0] as f64 - want.0).abs() < 0.01 && (p[1] as f64 - want.1).abs() < 0.01,
            "drawn {want:?}, saved {p:?}"
        );
    }
    assert_valid_policy_file(&config, "the saved policy");
    let rows = records.ledger().list(&ledger::Filter::default()).unwrap();
    let change = rows[rows_before..]
        .iter()
        .find(|r| r.entry.kind == ledger::Kind::PolicyChange)
        .expect("a PolicyChange row for the save");
    assert_eq!(change.entry.actor, "m");
    assert!(
        change
            .entry
            .detail
            .to_string()
            .contains("cameras[lobby-1].privacy_masks"),
        "{:?}",
        change.entry.detail
    );
    // The live output hides the area: its pixels are flat now.
    let mut after_texture = f64::MAX;
    assert!(
        wait_for(Duration::from_secs(20), || {
            after_texture = texture(rtsp, inner);
            after_texture < 2.0
        }),
        "the masked output still shows the drawn area: luma sd {before_texture:.1} before, {after_texture:.1} after"
    );
    assert!(
        before_texture > 8.0,
        "the area had no texture to hide ({before_texture:.1})"
    );

    // Keyboard only: arrows move the crosshair from the centre, Space adds points, Enter closes, then save.
    b.go("/#/cameras");
    b.go("/#/zones/lobby-1");
    b.until(
        "editor",
        "const c = document.querySelector('#zone-canvas'); return !!c && c.width > 0;",
    );
    b.js("document.querySelector('#zone-canvas').focus(); return true;");
    let (right, down, left) = ("\u{E014}", "\u{E015}", "\u{E012}");
    let keys = [
        right.repeat(10),
        " ".into(),
        down.repeat(10),
        " ".into(),
        left.repeat(20),
        " ".into(),
        "\u{E007}".into(), // Enter
    ]
    .concat();
    b.keys("#zone-canvas", &keys);
    b.click("#zone-save");
    b.until(
        "keyboard polygon saved",
        "const m = document.querySelector('#zone-message'); return !!m && m.textContent.includes('privacy_masks');",
    );
    let cfg =
        policy::SiteConfig::from_toml_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    let typed = cfg.cameras[0].privacy_masks.last().unwrap().clone();
    let want = [(0.6, 0.5), (0.6, 0.6), (0.4, 0.6)];
    assert_eq!(typed.len(), 3, "{typed:?}");
    for (p, w) in typed.iter().zip(want) {
        assert!(
            (p[0] as f64 - w.0).abs() < 0.005 && (p[1] as f64 - w.1).abs() < 0.005,
            "typed {w:?}, saved {p:?}"
        );
    }

    // A self-intersecting polygon: the error is shown at its polygon, and nothing is saved.
    let saved = std::fs::read_to_string(&config).unwrap();
    b.go("/#/cameras");
    b.go("/#/zones/lobby-1");
    b.until(
        "editor",
        "const c = document.querySelector('#zone-canvas'); return !!c && c.width > 0;",
    );
    let bow_tie = [(0.3, 0.5), (0.5, 0.7), (0.5, 0.5), (0.3, 0.7), (0.3, 0.5)];
    b.click_canvas("#zone-canvas", &bow_tie);
    b.click("#zone-save");
    b.until(
        "polygon error",
        "const e = document.querySelector('.zone-error[data-kind=\"privacy_masks\"][data-index=\"3\"]'); return !!e && e.textContent.includes('intersects itself');",
    );
    b.shot("zones-invalid");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), saved);

    // A stale save: the file changed after the editor opened → refused, and the other change stays.
    b.go("/#/cameras");
    b.go("/#/zones/lobby-1");
    b.until(
        "editor",
        "const c = document.querySelector('#zone-canvas'); return !!c && c.width > 0;",
    );
    let theirs = format!("{saved}\n# edited by someone else\n");
    std::fs::write(&config, &theirs).unwrap();
    b.click_canvas(
        "#zone-canvas",
        &[(0.1, 0.6), (0.2, 0.6), (0.2, 0.8), (0.1, 0.6)],
    );
    b.click("#zone-save");
    b.until(
        "stale refusal",
        "const m = document.querySelector('#zone-message'); return !!m && m.textContent.includes('changed since you opened it');",
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), theirs);

    // Every main page, for a person to look at.
    for page in ["recordings", "ledger", "site", "users"] {
        b.go(&format!("/#/{page}"));
        b.until(
            &format!("{page} page"),
            &format!("return !!document.querySelector('#{page}-page');"),
        );
        std::thread::sleep(Duration::from_millis(700));
        b.shot(page);
    }
    // Masked playback of a recording: one export, one 이용 row, a playable video.
    b.go("/#/recordings");
    b.until("player", "return !!document.querySelector('#rec-play');");
    // Unix seconds: one of the forms the time fields read.
    let stamp = |t: i64| t.to_string();
    let now = vault::time::unix_now();
    b.js("const s = document.querySelector('#rec-camera'); s.value = 'lobby-1'; s.dispatchEvent(new Event('change')); return true;");
    b.type_into("#rec-play-from", &stamp(now - 60));
    b.type_into("#rec-play-to", &stamp(now + 30));
    b.type_into("#rec-purpose", "콘솔 재생 점검");
    b.click("#rec-play");
    b.until(
        "video plays",
        "const v = document.querySelector('#rec-video'); return !!v && v.readyState >= 1 && v.videoWidth === 768;",
    );
    b.shot("recordings-play");
    let uses: Vec<_> = records
        .ledger()
        .list(&ledger::Filter {
            kinds: vec![ledger::Kind::Use],
            ..ledger::Filter::default()
        })
        .unwrap()
        .into_iter()
        .filter(|r| r.entry.purpose == "콘솔 재생 점검")
        .collect();
    assert_eq!(uses.len(), 1, "one play, one 이용 row: {uses:?}");
    assert_eq!(uses[0].entry.actor, "m");

    // The request queue shows the HTML as text.
    b.go("/#/requests");
    b.until(
        "request row",
        "return document.querySelectorAll('#request-table tr.request-row').length === 1;",
    );
    let row = b.text("#request-table tr.request-row");
    assert!(row.matches(XSS).count() == 2, "{row}");
    assert_eq!(
        b.js("return document.querySelectorAll('img[src=\"x\"], #main script').length;"),
        0
    );
    assert_ne!(b.js("return document.title;"), "pwned");
    b.shot("requests");
    // The request taken through its steps from the queue: checking, refused with one of the policy's
    // reasons, done, closed.
    let id = b
        .js("return document.querySelector('#request-table tr.request-row').dataset.request;")
        .as_str()
        .unwrap()
        .to_string();
    let state = |want: &str| {
        format!(
            "const r = document.querySelector('tr.request-row[data-request=\"{id}\"]'); return !!r && !!r.querySelector('{want}');"
        )
    };
    b.click(".request-step[data-to=\"checking\"]");
    b.until("checking", &state(".request-decide"));
    b.js("const s = document.querySelector('[id$=\"-outcome\"]'); s.value = 'refuse'; s.dispatchEvent(new Event('change')); return true;");
    b.click(".request-decide");
    b.until("decided", &state(".request-step[data-to=\"refused\"]"));
    b.click(".request-step[data-to=\"refused\"]");
    b.until("refused", &state(".request-step[data-to=\"closed\"]"));
    b.click(".request-step[data-to=\"closed\"]");
    b.until("closed", &format!(
        "const r = document.querySelector('tr.request-row[data-request=\"{id}\"]'); return !!r && !r.querySelector('.request-step, .request-decide');"
    ));
    let got = api_get(&format!("/api/v1/requests/{id}"));
    assert_eq!(got["state"], "closed", "{got}");
    assert!(got.to_string().contains("refuse"), "{got}");

    // The monthly review, signed from the console: a Review row.
    b.go("/#/ledger");
    b.until(
        "review form",
        "return !!document.querySelector('#review-month');",
    );
    let month = {
        let t = ledger::time::Kst::of(records.ledger().now_ms());
        format!("{:04}-{:02}", t.year, t.month)
    };
    b.type_into("#review-month", &month);
    b.click("#review-show");
    b.until(
        "review shown",
        "return (document.querySelector('#review-output')||{textContent:''}).textContent.length > 20;",
    );
    b.click("#review-sign");
    assert!(
        wait_for(Duration::from_secs(10), || records
            .ledger()
            .list(&ledger::Filter {
                kinds: vec![ledger::Kind::Review],
                ..ledger::Filter::default()
            })
            .unwrap()
            .iter()
            .any(
                |r| r.entry.actor == "m" && r.entry.detail["month"] == month.as_str()
            )),
        "no Review row after signing in the console"
    );

    // On a tablet, upright.
    b.resize(768, 1024);
    b.go("/#/cameras");
    b.until(
        "tablet grid",
        "const i = [...document.querySelectorAll('.camera-tile img.snapshot')]; return i.length === 2 && i.every(x => x.complete && x.naturalWidth > 0);",
    );
    b.shot("tablet-cameras");
    b.go("/#/zones/lobby-1");
    b.until(
        "tablet editor",
        "const c = document.querySelector('#zone-canvas'); return !!c && c.width > 0;",
    );
    b.shot("tablet-zones");
    b.resize(1366, 768);

    // The 점검대장: an inspection run now, then countersigned by the manager with a note.
    b.go("/#/ledger");
    b.until(
        "inspections",
        "return !!document.querySelector('#inspection-run');",
    );
    let inspections = || records.ledger().inspections(None).unwrap();
    let before_inspections = inspections().len();
    b.click("#inspection-run");
    assert!(
        wait_for(Duration::from_secs(20), || inspections().len()
            == before_inspections + 1),
        "no inspection after the run button"
    );
    let id = inspections().iter().map(|i| i.id).max().unwrap();
    b.until(
        "inspection row",
        &format!("return !!document.querySelector('.countersign[data-inspection=\"{id}\"]');"),
    );
    b.type_into(&format!("#insp-note-{id}"), "콘솔에서 확인");
    b.click(&format!(".countersign[data-inspection=\"{id}\"]"));
    assert!(
        wait_for(Duration::from_secs(10), || inspections()
            .iter()
            .any(|i| i.id == id && i.signed_by.as_deref() == Some("m"))),
        "inspection {id} not countersigned from the console"
    );

    // The ledger's CSV download goes through the API with the session's token: one 이용 row.
    b.go("/#/ledger");
    b.until(
        "ledger export",
        "return !!document.querySelector('#ledger-csv');",
    );
    let ledger_exports = || {
        records
            .ledger()
            .list(&ledger::Filter {
                kinds: vec![ledger::Kind::Use],
                ..ledger::Filter::default()
            })
            .unwrap()
            .iter()
            .filter(|r| r.entry.subject == "관리대장" && r.entry.actor == "m")
            .count()
    };
    let before_exports = ledger_exports();
    b.click("#ledger-csv");
    assert!(
        wait_for(Duration::from_secs(10), || ledger_exports()
            == before_exports + 1),
        "no ledger export row after the CSV button"
    );
    b.go("/#/ledger");
    b.until(
        "ledger rows",
        "return document.querySelectorAll('#ledger-table tr').length > 2 && (document.querySelector('#chain-status')||{}).textContent.length > 0;",
    );
    b.logout();

    // An access-role user: cameras yes, the editor no.
    b.login("operator", PW);
    b.go("/#/camera/lobby-1");
    b.until(
        "camera page",
        "return !!document.querySelector('#camera-page');",
    );
    assert!(
        !b.present("#edit-zones"),
        "an access user sees the editor link"
    );
    b.go("/#/zones/lobby-1");
    std::thread::sleep(Duration::from_millis(1500));
    b.until(
        "read-only zones",
        "return !!document.querySelector('#zone-editor');",
    );
    for tool in ["#zone-save", "#zone-kind", "#zone-delete", "#zone-close"] {
        assert!(!b.present(tool), "an access user has the editor's {tool}");
    }
    b.shot("access-zones");
    b.logout();

    // A contractor: only its own cameras.
    b.login("fixer", PW);
    b.until(
        "contractor grid",
        "return document.querySelectorAll('.camera-tile').length > 0;",
    );
    let tiles =
        b.js("return [...document.querySelectorAll('.camera-tile')].map(t => t.dataset.camera);");
    assert_eq!(tiles, serde_json::json!(["yard-2"]));
    b.shot("contractor");

    // The session ends on the server: the next call brings the login page back.
    dir.end_sessions("fixer").unwrap();
    b.go("/#/recordings");
    b.go("/#/cameras");
    b.until(
        "back to login",
        "return !!document.querySelector('#login-form');",
    );
    b.shot("expired");
    b.close();

    controller.stop();
    runner.join().unwrap();
    http.stop();
    site.stop();
    let _ = std::fs::remove_dir_all(&work);
}
