//! Importing camera spreadsheets: rows add or replace cameras, the rest of the file is kept, a bad row
//! changes nothing, and a 1,790-camera site imports, validates and renders its notice.

use policy::SiteConfig;
use policy::import::import_cameras;
use policy::notice::{Format, render};
use std::time::Instant;

const SITE: &str = r#"# 유성구 (test site)
[site]
name = "대전광역시 유성구"

[[purposes]]
id = "crime"
ground = "crime_prevention"
text = "범죄 예방"

[[people]]
id = "m"
role = "manager"
title = "과장"
phone = "042-000-0000"

[[cameras]]
# the lobby camera, kept as is
id = "lobby"
url_env = "LOBBY_URL"
location = "로비"
"#;

#[test]
fn rows_add_and_replace_cameras_and_keep_the_rest() {
    let csv = "id,location,url_env,retention_days,purposes\nlobby,1층 로비,LOBBY_URL,20,crime\nyard,마당,YARD_URL,,crime\n";
    let (text, report) = import_cameras(SITE, csv).unwrap();
    assert_eq!((report.added, report.updated), (1, 1));
    assert!(text.starts_with("# 유성구 (test site)"));
    let cfg = SiteConfig::from_toml_str(&text).unwrap();
    assert_eq!(cfg.cameras.len(), 2);
    let lobby = cfg.cameras.iter().find(|c| c.id == "lobby").unwrap();
    assert_eq!(lobby.location.as_deref(), Some("1층 로비"));
    assert_eq!(lobby.retention_days, Some(20));
    assert_eq!(lobby.purposes, vec!["crime"]);
}

#[test]
fn bad_rows_change_nothing_and_name_line_and_column() {
    let e = import_cameras(SITE, "id,location,colour\nx,a,red\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("cameras.csv:1.colour") && e.contains("known columns"),
        "{e}"
    );
    let e = import_cameras(SITE, "id,url_env,retention_days\nx,X_URL,thirty\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("cameras.csv:2.retention_days") && e.contains("thirty"),
        "{e}"
    );
    let e = import_cameras(SITE, "id,url_env,purposes\nx,X_URL,marketing\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("cameras[x].purposes[0]") && e.contains("marketing"),
        "{e}"
    );
    let e = import_cameras(SITE, "id,url_env\nx,X_URL,extra\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("cameras.csv:2") && e.contains("3 fields"), "{e}");
}

#[test]
fn a_1790_camera_site_imports_validates_and_renders() {
    let mut site = SITE.replace(
        "url_env = \"LOBBY_URL\"",
        "url_env = \"LOBBY_URL\"\nfacility = \"f00\"",
    );
    for f in 0..40 {
        site.push_str(&format!(
            "\n[[facilities]]\nid = \"f{f:02}\"\nname = \"시설 {f:02}\"\npeople = [\"m\"]\n"
        ));
    }
    let mut csv = String::from("id,facility,location,range,url_env,retention_days,purposes\n");
    for i in 0..1789 {
        csv.push_str(&format!(
            "cam-{i:04},f{:02},\"{}동 {}번 골목\",반경 30m,CAM_{i:04}_URL,{},crime\n",
            i % 40,
            i % 40 + 1,
            i % 7,
            if i % 10 == 0 { 15 } else { 30 }
        ));
    }
    let started = Instant::now();
    let (text, report) = import_cameras(&site, &csv).unwrap();
    let imported = started.elapsed();
    let started = Instant::now();
    let cfg = SiteConfig::from_toml_str(&text).unwrap();
    let validated = started.elapsed();
    let started = Instant::now();
    let md = render(&cfg, Format::Markdown, None).unwrap();
    let rendered = started.elapsed();
    assert_eq!(report.added, 1789);
    assert_eq!(cfg.cameras.len(), 1790);
    assert!(
        md.contains("총 1,790대") && md.contains("촬영일로부터 15일"),
        "{md}"
    );
    eprintln!(
        "1,790 cameras: import {imported:?}, parse+validate {validated:?}, notice {rendered:?}"
    );
}

/// The CSV covers every field a `[[cameras]]` table has, and each column lands in its field.
#[test]
fn every_camera_field_has_a_column() {
    let cam: policy::CameraConfig = toml::from_str("id = \"x\"").unwrap();
    let fields: Vec<String> = serde_json::to_value(&cam)
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    for f in &fields {
        assert!(
            policy::import::COLUMNS.contains(&f.as_str()),
            "camera field {f} has no CSV column"
        );
    }
    assert_eq!(fields.len(), policy::import::COLUMNS.len());

    let site = SITE.replace(
        "[[cameras]]",
        "[storage]\nsealed_public_key = \"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"\n\n[[facilities]]\nid = \"hall\"\nname = \"본관\"\npeople = [\"m\"]\n\n[[cameras]]\nfacility = \"hall\"",
    );
    let csv = "id,facility,kind,location,range,url,enabled,purposes,detect,mask_style,recording,retention_days,retention_reason,recording_hours,privacy_masks,recording_zones,fail_closed_deadline_ms,detect_every_n_frames,scene_check_secs,audio,legal_exception,masking_exception\n\
        van,hall,mobile,관내 전역,전방 20m,rtsp://10.0.0.9/van,false,crime,person;face,blur,sealed,20,,09:00~18:00,\"[[[0,0],[0.5,0],[0.5,0.5]]]\",\"[[[0,0],[1,0],[1,1],[0,1]]]\",300,2,10,false,,아동 시설 아님\n";
    let (text, _) = import_cameras(&site, csv).unwrap_or_else(|e| panic!("{e}"));
    let cfg = SiteConfig::from_toml_str(&text).unwrap();
    let van = cfg.cameras.iter().find(|c| c.id == "van").unwrap();
    assert_eq!(van.kind, policy::legal::CameraKind::Mobile);
    assert!(!van.enabled);
    assert_eq!(
        van.detect.as_deref(),
        Some(&["person".to_string(), "face".to_string()][..])
    );
    assert_eq!(van.recording.as_deref(), Some("sealed"));
    assert_eq!(
        van.privacy_masks,
        vec![vec![[0.0, 0.0], [0.5, 0.0], [0.5, 0.5]]]
    );
    assert_eq!(van.recording_zones[0].len(), 4);
    assert_eq!(
        (
            van.fail_closed_deadline_ms,
            van.detect_every_n_frames,
            van.scene_check_secs
        ),
        (Some(300), Some(2), Some(10))
    );
    assert_eq!(van.recording_hours.as_deref(), Some("09:00~18:00"));
    assert_eq!(van.masking_exception.as_deref(), Some("아동 시설 아님"));
    let e = import_cameras(&site, "id,privacy_masks\nx,\"[[0,0]]\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("cameras.csv:2.privacy_masks") && e.contains("polygons"),
        "{e}"
    );
    let e = import_cameras(&site, "id,enabled\nx,maybe\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("cameras.csv:2.enabled") && e.contains("true or false"),
        "{e}"
    );
}
