//! The API's list routes under load: 4 simulated cameras stream through the real site (detection, masking,
//! recording), the ledger holds 100,000 rows, and each list route is called 300 times by a logged-in manager
//! over real HTTP. Prints p50/p99 per route and the cameras' fps meanwhile; asserts nothing (the goal is
//! p99 < 50 ms). `cargo bench -p garim --bench api` (needs the fetched models: scripts/fetch-models).

use std::sync::Arc;
use std::time::{Duration, Instant};

const CAMERAS: usize = 4;
const LEDGER_ROWS: usize = 100_000;
const CALLS: usize = 300;

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let models = std::env::var_os("GARIM_MODELS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("models"));
    let video = models.join("cache/vtest.avi");
    let work = std::env::temp_dir().join(format!("garim-bench-api-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let storage = work.join("data");
    std::fs::create_dir_all(&storage).unwrap();
    let key = storage.join("site.key");
    vault::SecretKey::init_site_key(&key).unwrap();
    let sims: Vec<_> = (0..CAMERAS)
        .map(|i| {
            media::SimCamera::start(&video, "127.0.0.1", 18855 + i as u16, &format!("b{i}"))
                .unwrap()
        })
        .collect();
    let mut policy = format!(
        "[site]\nname = \"bench\"\n[[people]]\nid = \"m\"\nrole = \"manager\"\ntitle = \"과장\"\nphone = \"0\"\n\
         [server]\nhttp_bind = \"127.0.0.1:0\"\nrtsp_port = 18854\n[storage]\npath = \"{}\"\nkey_file = \"{}\"\nsegment_secs = 10\n",
        storage.display(),
        key.display()
    );
    for (i, s) in sims.iter().enumerate() {
        policy.push_str(&format!(
            "[[cameras]]\nid = \"cam-{i}\"\nurl = \"{}\"\ndetect = [\"person\"]\n",
            s.url()
        ));
    }
    let config = work.join("site.toml");
    std::fs::write(&config, policy).unwrap();
    let site = Arc::new(
        site::Site::start(site::SiteOptions {
            config_path: config,
            adjust: Arc::new(|_| {}),
            overrides: site::Overrides::default(),
            shard: policy::Shard::WHOLE,
            models: site::ModelOptions {
                models_dir: Some(models),
                ort_lib: None,
                threads: 1,
                face_width: 384,
                person_conf: 0.15,
                plate_recheck: detect::plate::PLATE_RECHECK,
                hardware: None,
                engine_cache: None,
            },
        })
        .unwrap(),
    );
    let records = site.records().clone();
    let ledger = records.ledger().clone();
    let t = Instant::now();
    for chunk in 0..LEDGER_ROWS / 10_000 {
        let batch = (0..10_000)
            .map(|i| ledger::Entry {
                kind: [ledger::Kind::View, ledger::Kind::Use, ledger::Kind::Login][i % 3],
                actor: format!("user{}", i % 17),
                subject: format!("cam-{} segment {}", i % CAMERAS, chunk * 10_000 + i),
                purpose: "bench".into(),
                ..ledger::Entry::default()
            })
            .collect();
        ledger.append_batch(batch).unwrap();
    }
    println!(
        "ledger filled: {LEDGER_ROWS} rows in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    records
        .accounts
        .bootstrap("m", &"bench password 1".into(), None)
        .unwrap();
    let state = server::AppState {
        health: Arc::new(|| (true, serde_json::json!({}))),
        site: site.clone(),
        accounts: records.accounts.clone(),
        checkpoints: Some(records.checkpoints.clone()),
        secure_cookies: false,
    };
    // The bench measures the API itself: no per-client rate limit (it would answer 429 to the load).
    let limits = server::Limits {
        rate_per_sec: 1e9,
        burst: 1e9,
        max_connections: 1024,
        ..server::Limits::default()
    };
    let http = server::HttpServer::start_with("127.0.0.1:0", state, limits).unwrap();
    let base = format!("http://{}", http.addr());
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut login = agent
        .post(&format!("{base}/api/v1/session/login"))
        .send_json(
            serde_json::json!({"user": "m", "password": "bench password 1", "session": "bearer"}),
        )
        .unwrap();
    let v: serde_json::Value = login.body_mut().read_json().unwrap();
    let auth = format!("Bearer {}", v["token"].as_str().unwrap());
    // Let the cameras stream and record a little first.
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) && !site.status().ok {
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(12));
    let frames =
        |site: &site::Site| -> u64 { site.status().cameras.iter().map(|c| c.frames_out).sum() };
    let (f0, t0) = (frames(&site), Instant::now());
    println!("{CAMERAS} cameras streaming: {}", site.status().ok);
    for route in [
        "/api/v1/cameras",
        "/api/v1/recordings",
        "/api/v1/recordings?camera=cam-1",
        "/api/v1/ledger?limit=100",
        "/api/v1/ledger?kind=view&actor=user3&limit=100",
        "/api/v1/ledger?after=99000&limit=100",
        "/api/v1/policy/history",
        "/api/v1/inspections",
        "/api/v1/users",
    ] {
        let mut ms: Vec<f64> = (0..CALLS)
            .map(|_| {
                let t = Instant::now();
                let mut r = agent
                    .get(&format!("{base}{route}"))
                    .header("Authorization", &auth)
                    .call()
                    .unwrap();
                assert_eq!(r.status(), 200, "{route}");
                let _ = r.body_mut().read_to_vec().unwrap();
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        ms.sort_by(f64::total_cmp);
        println!(
            "{route:<48} p50 {:>7.2} ms   p99 {:>7.2} ms   ({CALLS} calls)",
            ms[CALLS / 2],
            ms[CALLS * 99 / 100]
        );
    }
    let fps = (frames(&site) - f0) as f64 / t0.elapsed().as_secs_f64();
    println!(
        "meanwhile: {fps:.1} frames/s masked over {CAMERAS} cameras ({:.1} per camera; the footage is 10 fps)",
        fps / CAMERAS as f64
    );
    http.stop();
    site.stop();
    drop(sims);
    let _ = std::fs::remove_dir_all(&work);
}
