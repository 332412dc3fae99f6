//! Parsing and validation of site files: every error is collected with its path and value, secrets are never
//! shown, and defaults merge into cameras.

use policy::SiteConfig;

const GOOD: &str = r#"
[site]
name = "t"
[[people]]
id = "m"
role = "manager"
title = "과장"
phone = "02-1"
[[purposes]]
id = "safety"
ground = "facility_safety"
text = "시설안전"
[defaults]
detect = ["person"]
mask_style = "blur"
[[cameras]]
id = "cam-1"
url = "rtsp://10.0.0.1/live"
privacy_masks = [[[0.1, 0.1], [0.4, 0.1], [0.4, 0.4]]]
[[cameras]]
id = "cam-2"
url_env = "GARIM_POLICY_TEST_URL"
mask_style = "fill"
detect_every_n_frames = 2
"#;

fn errors(toml: &str) -> Vec<String> {
    match SiteConfig::from_toml_str(toml) {
        Ok(_) => Vec::new(),
        Err(e) => e.0.iter().map(|e| e.to_string()).collect(),
    }
}

#[test]
fn defaults_merge_into_camera_and_url_env_is_resolved() {
    // SAFETY: only this test reads this variable.
    unsafe { std::env::set_var("GARIM_POLICY_TEST_URL", "rtsp://u:secret@10.0.0.2/live") };
    let cfg = SiteConfig::from_toml_str(GOOD).unwrap();
    let cams = cfg.enabled_cameras().unwrap();
    assert_eq!(cams[0].detect, vec![policy::DetectClass::Person]);
    assert_eq!(cams[0].mask_style, policy::MaskStyleName::Blur);
    assert_eq!(cams[0].fail_closed_deadline_ms, 200);
    assert_eq!(cams[1].mask_style, policy::MaskStyleName::Fill);
    assert_eq!(cams[1].detect_every_n_frames, 2);
    assert_eq!(cams[1].url.expose(), "rtsp://u:secret@10.0.0.2/live");
    assert!(!format!("{:?}", cams[1]).contains("secret"));
    assert_eq!(cfg.server.http_bind, "127.0.0.1:8080");
}

#[test]
fn polygon_with_two_points_is_rejected_with_path() {
    let e = errors(&GOOD.replace(
        "[[[0.1, 0.1], [0.4, 0.1], [0.4, 0.4]]]",
        "[[[0.1, 0.1], [0.4, 0.1]]]",
    ));
    assert!(
        e.iter()
            .any(|l| l
                .starts_with("cameras[cam-1].privacy_masks[0]: polygon has 2 points, needs ≥ 3")),
        "{e:?}"
    );
}

#[test]
fn all_errors_are_collected() {
    let bad = GOOD
        .replace("[0.4, 0.4]]]", "[1.4, 0.4]]]")
        .replace("id = \"cam-2\"", "id = \"cam-1\"")
        .replace("mask_style = \"fill\"", "mask_style = \"mosaic\"")
        .replace("detect = [\"person\"]", "detect = [\"persons\"]");
    let e = errors(&bad);
    assert!(
        e.iter()
            .any(|l| l.contains("privacy_masks[0][2]") && l.contains("1.4")),
        "{e:?}"
    );
    assert!(e.iter().any(|l| l.contains("duplicate camera id")), "{e:?}");
    assert!(
        e.iter()
            .any(|l| l.contains("mask_style") && l.contains("mosaic")),
        "{e:?}"
    );
    assert!(
        e.iter()
            .any(|l| l.contains("defaults.detect[0]") && l.contains("persons")),
        "{e:?}"
    );
    assert!(e.len() >= 4);
}

#[test]
fn self_intersecting_polygon_is_rejected() {
    let e = errors(&GOOD.replace(
        "[[[0.1, 0.1], [0.4, 0.1], [0.4, 0.4]]]",
        "[[[0.1, 0.1], [0.4, 0.4], [0.4, 0.1], [0.1, 0.4]]]",
    ));
    assert!(e.iter().any(|l| l.contains("intersects itself")), "{e:?}");
}

#[test]
fn inline_credentials_are_rejected_and_not_printed() {
    let e = errors(&GOOD.replace("rtsp://10.0.0.1/live", "rtsp://admin:hunter2@10.0.0.1/live"));
    let line = e
        .iter()
        .find(|l| l.contains("cameras[cam-1].url"))
        .expect("url error");
    assert!(
        line.contains("url_env") && line.contains("url_file"),
        "{line}"
    );
    assert!(
        !line.contains("hunter2") && line.contains("***@10.0.0.1"),
        "{line}"
    );
}

#[test]
fn unknown_field_suggests_closest_name() {
    let e = errors(&GOOD.replace("privacy_masks =", "privacy_mask ="));
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].contains("did you mean `privacy_masks`?"), "{e:?}");
    assert!(e[0].contains("cameras[0].privacy_mask:"), "{e:?}");
    assert!(e[0].starts_with("<config>:"), "{e:?}");
}

#[test]
fn malformed_toml_reports_line_and_column() {
    let e = errors("[site]\nname = \"t\"\n[[cameras]]\nid = cam-1\n");
    assert_eq!(e.len(), 1);
    assert!(e[0].starts_with("<config>:4:"), "{e:?}");
}

#[test]
fn wrong_type_names_the_expected_type() {
    let e = errors(&GOOD.replace(
        "detect_every_n_frames = 2",
        "detect_every_n_frames = \"two\"",
    ));
    assert!(
        e[0].starts_with("<config>:24:")
            && e[0].contains("cameras[1].detect_every_n_frames: invalid type")
            && e[0].contains("whole number"),
        "{e:?}"
    );
}

#[test]
fn demo_example_is_valid() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/sites/demo.toml");
    let cfg = SiteConfig::load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cfg.cameras[0].id, "sim-1");
}

#[test]
fn non_utf8_file_is_an_error_naming_it() {
    let p = std::env::temp_dir().join(format!("garim-nonutf8-{}.toml", std::process::id()));
    std::fs::write(&p, b"[site]\nname = \"\xff\"\n").unwrap();
    let e = SiteConfig::load(&p).unwrap_err().to_string();
    assert!(
        e.contains("not UTF-8") && e.contains("garim-nonutf8"),
        "{e}"
    );
    std::fs::remove_file(p).unwrap();
}

#[test]
fn legal_rules_are_enforced_with_paths() {
    let bad = GOOD
        .replace("role = \"manager\"", "role = \"access\"")
        .replace(
            "id = \"cam-1\"\n",
            "id = \"cam-1\"\naudio = true\nlocation = \"2층 화장실 앞\"\nretention_days = 45\npurposes = [\"marketing\"]\nfacility = \"annex\"\n",
        );
    let e = errors(&bad);
    let has = |needle: &str| e.iter().any(|l| l.contains(needle));
    assert!(has("no 관리책임자"), "{e:?}");
    assert!(has("cameras[cam-1].audio") && has("Art. 25(5)"), "{e:?}");
    assert!(has("cameras[cam-1].location") && has("화장실"), "{e:?}");
    assert!(
        has("cameras[cam-1].retention_days") && has("retention_reason"),
        "{e:?}"
    );
    assert!(
        has("cameras[cam-1].purposes[0]") && has("marketing"),
        "{e:?}"
    );
    assert!(has("cameras[cam-1].facility") && has("annex"), "{e:?}");
    // A stated reason and legal exception make the same camera acceptable.
    let fixed = bad
        .replace("role = \"access\"", "role = \"manager\"")
        .replace("audio = true\n", "")
        .replace("retention_days = 45\n", "retention_days = 45\nretention_reason = \"수사 협조 요청에 따른 연장\"\nlegal_exception = \"화장실 입구 복도만 촬영, 내부 미촬영\"\n")
        .replace("purposes = [\"marketing\"]\n", "")
        .replace("facility = \"annex\"\n", "");
    assert!(errors(&fixed).is_empty(), "{:?}", errors(&fixed));
}

#[test]
fn random_documents_never_panic() {
    // Mutations of a valid document (bytes dropped, swapped, duplicated) must give Ok or errors, not panics.
    let base = GOOD.as_bytes().to_vec();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..3000 {
        let mut doc = base.clone();
        for _ in 0..(next() % 6 + 1) {
            let i = (next() as usize) % doc.len().max(1);
            match next() % 4 {
                0 => {
                    doc.remove(i);
                }
                1 => doc.insert(i, b"[]{}=\",.0\n#x"[(next() % 12) as usize]),
                2 => {
                    let j = (next() as usize) % doc.len();
                    doc.swap(i, j);
                }
                _ => {
                    let end = (i + (next() as usize % 40)).min(doc.len());
                    let chunk = doc[i..end].to_vec();
                    doc.splice(i..i, chunk);
                }
            }
        }
        let text = String::from_utf8_lossy(&doc);
        if let Ok(cfg) = SiteConfig::from_toml_str(&text) {
            let _ = policy::notice::render(&cfg, policy::notice::Format::Html, None);
        }
    }
}

#[test]
fn secret_query_parameters_count_as_inline_credentials() {
    let e = errors(&GOOD.replace(
        "rtsp://10.0.0.1/live",
        "rtsp://10.0.0.1/live?user=admin&password=hunter2",
    ));
    let line = e
        .iter()
        .find(|l| l.contains("cameras[cam-1].url"))
        .expect("url error");
    assert!(
        line.contains("url_env") && !line.contains("hunter2"),
        "{line}"
    );
}

#[test]
fn scene_check_defaults_to_three_seconds_and_cannot_be_switched_off() {
    // SAFETY: every test that sets this variable sets the same value.
    unsafe { std::env::set_var("GARIM_POLICY_TEST_URL", "rtsp://u:secret@10.0.0.2/live") };
    let cfg = SiteConfig::from_toml_str(&GOOD.replace(
        "detect_every_n_frames = 2",
        "detect_every_n_frames = 2\nscene_check_secs = 10",
    ))
    .unwrap();
    let cam = |id: &str| cfg.camera_settings(id).unwrap().unwrap();
    assert_eq!(cam("cam-1").scene_check_secs, 3);
    assert_eq!(cam("cam-2").scene_check_secs, 10);
    let e = errors(&GOOD.replace(
        "mask_style = \"fill\"",
        "mask_style = \"fill\"\nscene_check_secs = 0",
    ));
    assert_eq!(
        e,
        ["cameras[cam-2].scene_check_secs: must be between 1 and 300 (value: 0)"]
    );
    let e = errors(&GOOD.replace(
        "mask_style = \"blur\"",
        "mask_style = \"blur\"\nscene_check_secs = 301",
    ));
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("defaults.scene_check_secs"), "{e:?}");
}

#[test]
fn camera_ids_that_name_garims_own_storage_folders_are_refused() {
    for id in ["scene", "shards", "policy-history"] {
        let e = errors(&GOOD.replace("id = \"cam-1\"", &format!("id = \"{id}\"")));
        assert!(
            e.iter()
                .any(|l| l.contains(&format!("cameras[{id}].id")) && l.contains("reserved")),
            "{id}: {e:?}"
        );
    }
}

#[test]
fn a_camera_without_detect_masks_the_shipped_default_classes() {
    let toml = GOOD.replace("detect = [\"person\"]\n", "").replace(
        "url_env = \"GARIM_POLICY_TEST_URL\"",
        "url = \"rtsp://10.0.0.2/live\"",
    );
    let cfg = SiteConfig::from_toml_str(&toml).unwrap();
    let cams = cfg.enabled_cameras().unwrap();
    assert_eq!(
        cams[0].detect,
        [
            policy::DetectClass::Person,
            policy::DetectClass::Face,
            policy::DetectClass::Plate
        ]
    );
}

#[test]
fn index_url_env_names_a_postgres_url_that_is_never_shown() {
    // No index_url_env: the SQLite index.
    let cfg = SiteConfig::from_toml_str(GOOD).unwrap();
    assert!(cfg.index_url().unwrap().is_none());
    let with = |var: &str| {
        GOOD.replace(
            "[defaults]",
            &format!("[storage]\nindex_url_env = \"{var}\"\n[defaults]"),
        )
    };
    let e = errors(&with("GARIM INDEX"));
    assert!(
        e.iter()
            .any(|l| l.starts_with("storage.index_url_env:") && l.contains("GARIM INDEX")),
        "{e:?}"
    );
    // Unset, not a postgres URL (its value not shown), then a URL shown only redacted.
    let cfg = SiteConfig::from_toml_str(&with("GARIM_POLICY_TEST_INDEX_UNSET")).unwrap();
    let e = cfg.index_url().unwrap_err().to_string();
    assert!(
        e.starts_with("storage.index_url_env:") && e.contains("not set"),
        "{e}"
    );
    // SAFETY: only this test sets these variables.
    unsafe {
        std::env::set_var("GARIM_POLICY_TEST_INDEX_BAD", "host=db password=hunter2");
        std::env::set_var(
            "GARIM_POLICY_TEST_INDEX",
            "postgres://garim:hunter2@db.internal:5432/garim",
        );
    }
    let cfg = SiteConfig::from_toml_str(&with("GARIM_POLICY_TEST_INDEX_BAD")).unwrap();
    let e = cfg.index_url().unwrap_err().to_string();
    assert!(
        e.contains("storage.index_url_env") && e.contains("postgres://") && !e.contains("hunter2"),
        "{e}"
    );
    let cfg = SiteConfig::from_toml_str(&with("GARIM_POLICY_TEST_INDEX")).unwrap();
    let url = cfg.index_url().unwrap().unwrap();
    assert_eq!(
        url.expose(),
        "postgres://garim:hunter2@db.internal:5432/garim"
    );
    assert_eq!(url.redacted(), "postgres://***@db.internal:5432/garim");
    assert!(!format!("{cfg:?}").contains("hunter2"));
}

#[test]
fn ledger_retention_under_a_year_is_refused_and_three_years_is_the_default() {
    let base = r#"
[site]
name = "t"
[[people]]
id = "m"
role = "manager"
title = "과장"
phone = "1"
[[cameras]]
id = "a"
url = "rtsp://h/a"
"#;
    let cfg = policy::SiteConfig::from_toml_str(base).unwrap();
    assert_eq!(cfg.ledger.retention_years, 3);
    assert_eq!(cfg.ledger.checkpoint_file, None);
    let short = format!("{base}[ledger]\nretention_years = 0\n");
    let errs = policy::SiteConfig::from_toml_str(&short).unwrap_err();
    assert!(
        errs.0
            .iter()
            .any(|e| e.path == "ledger.retention_years" && e.reason.contains("1 year")),
        "{errs:?}"
    );
    let placed = format!("{base}[ledger]\ncheckpoint_file = \"/mnt/audit/garim.jsonl\"\n");
    let cfg = policy::SiteConfig::from_toml_str(&placed).unwrap();
    assert_eq!(
        cfg.ledger.checkpoint_file.as_deref(),
        Some("/mnt/audit/garim.jsonl")
    );
}

/// A sensitive place (children, counselling, patients, protection) without person and face masking is warned
/// about, wherever the rule comes from; a stated exception silences it.
#[test]
fn sensitive_places_without_person_masking_are_warned_about() {
    let site = |extra: &str| {
        format!(
            "[site]\nname = \"s\"\n[[people]]\nid = \"m\"\nrole = \"manager\"\ntitle = \"과장\"\nphone = \"0\"\n\
             [[purposes]]\nid = \"care\"\nground = \"facility_safety\"\ntext = \"어린이집 아동 보호\"\ndetect = [\"plate\"]\n{extra}\n\
             [[cameras]]\nid = \"c1\"\nurl = \"rtsp://10.0.0.1/a\"\nrange = \"실내\"\npurposes = [\"care\"]\n"
        )
    };
    let cfg = SiteConfig::from_toml_str(&site("")).unwrap();
    let w = cfg.warnings();
    assert_eq!(w.len(), 1, "{w:#?}");
    assert_eq!(w[0].path, "purposes[care].detect");
    assert!(
        w[0].reason.contains("person and face unmasked") && w[0].reason.contains("아동"),
        "{:?}",
        w[0]
    );
    let quiet = SiteConfig::from_toml_str(&site(
        "masking_exception = \"얼굴이 보이지 않는 천장 각도, 차량 출입만 촬영\"",
    ))
    .unwrap();
    assert!(quiet.warnings().is_empty(), "{:#?}", quiet.warnings());
}

/// Masking rules merge camera → purpose → facility → site; purposes that disagree are an error naming both.
#[test]
fn masking_rules_merge_by_level_and_conflicts_are_refused() {
    let text = "[site]\nname = \"s\"\n[[people]]\nid = \"m\"\nrole = \"manager\"\ntitle = \"과장\"\nphone = \"0\"\n\
        [defaults]\ndetect = [\"person\"]\n\
        [[purposes]]\nid = \"a\"\nground = \"crime_prevention\"\ntext = \"A\"\ndetect = [\"face\"]\n\
        [[purposes]]\nid = \"b\"\nground = \"crime_prevention\"\ntext = \"B\"\ndetect = [\"plate\"]\n\
        [[purposes]]\nid = \"plain\"\nground = \"crime_prevention\"\ntext = \"C\"\n\
        [[facilities]]\nid = \"f\"\nname = \"F\"\npeople = [\"m\"]\ndetect = [\"person\", \"face\", \"plate\", \"vehicle\"]\n\
        [[cameras]]\nid = \"by-purpose\"\nurl = \"rtsp://h/1\"\nfacility = \"f\"\npurposes = [\"a\"]\n\
        [[cameras]]\nid = \"by-facility\"\nurl = \"rtsp://h/2\"\nfacility = \"f\"\npurposes = [\"plain\"]\n\
        [[cameras]]\nid = \"own\"\nurl = \"rtsp://h/3\"\nfacility = \"f\"\npurposes = [\"a\", \"b\"]\ndetect = []\n";
    let cfg = SiteConfig::from_toml_str(text).unwrap();
    let rule = |id: &str| {
        let cam = cfg.cameras.iter().find(|c| c.id == id).unwrap();
        cfg.detect_rule(cam).unwrap()
    };
    assert_eq!(rule("by-purpose").value, vec!["face"]);
    assert_eq!(
        rule("by-purpose").from.as_deref(),
        Some("purposes[a].detect")
    );
    assert_eq!(rule("by-facility").value.len(), 4);
    assert!(rule("own").value.is_empty());
    let e = SiteConfig::from_toml_str(&text.replace("detect = []\n", ""))
        .unwrap_err()
        .0;
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!(e[0].path, "cameras[own].purposes");
    assert!(
        e[0].reason
            .contains("purposes a and b set different detect"),
        "{:?}",
        e[0]
    );
}

/// NVR logins: one password source each (never the policy), declared cameras, unique names; an RTSP server on
/// the network without any login, or open to anonymous pulls, is warned about.
#[test]
fn nvr_logins_are_checked_and_open_rtsp_is_warned_about() {
    let base = "[site]\nname = \"s\"\n[[people]]\nid = \"m\"\nrole = \"manager\"\ntitle = \"과장\"\nphone = \"0\"\n\
        [[cameras]]\nid = \"c1\"\nurl = \"rtsp://10.0.0.1/a\"\nrange = \"r\"\n";
    let bad = format!(
        "{base}[[nvrs]]\nid = \"a\"\nuser = \"nvr\"\n\
         [[nvrs]]\nid = \"b\"\nuser = \"nvr\"\npassword_env = \"NVR_PW\"\ncameras = [\"c9\"]\n"
    );
    let errors = SiteConfig::from_toml_str(&bad).unwrap_err().to_string();
    assert!(
        errors.contains("nvrs[a]: set exactly one of password_env, password_file"),
        "{errors}"
    );
    assert!(
        errors.contains("nvrs[b].user: two NVRs share this user name"),
        "{errors}"
    );
    assert!(
        errors.contains("nvrs[b].cameras[0]: camera not declared"),
        "{errors}"
    );
    let net = base.replace(
        "[[cameras]]",
        "[server]\nhttp_bind = \"0.0.0.0:8080\"\n[[cameras]]",
    );
    let w = SiteConfig::from_toml_str(&net).unwrap().warnings();
    assert!(
        w.iter()
            .any(|w| w.path == "nvrs" && w.reason.contains("nobody can pull")),
        "{w:#?}"
    );
    let open = net.replace(
        "http_bind = \"0.0.0.0:8080\"",
        "http_bind = \"0.0.0.0:8080\"\nrtsp_anonymous = true",
    );
    let w = SiteConfig::from_toml_str(&open).unwrap().warnings();
    assert!(
        w.iter().any(|w| w.path == "server.rtsp_anonymous"),
        "{w:#?}"
    );
    // A password is read from its variable, and a missing one is named, not shown.
    let ok = format!(
        "{net}[[nvrs]]\nid = \"n\"\nuser = \"nvr\"\npassword_env = \"GARIM_TEST_UNSET_NVR_PW\"\n"
    );
    let cfg = SiteConfig::from_toml_str(&ok).unwrap();
    assert!(cfg.warnings().is_empty(), "{:#?}", cfg.warnings());
    let e = cfg.nvrs[0].password().unwrap_err().to_string();
    assert!(
        e.contains("nvrs[n].password_env") && e.contains("not set"),
        "{e}"
    );
}
