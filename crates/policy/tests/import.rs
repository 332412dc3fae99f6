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
    let mut site = String::from(SITE);
    for f in 0..40 {
        site.push_str(&format!(
            "\n[[facilities]]\nid = \"f{f:02}\"\nname = \"시설 {f:02}\"\n"
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
        md.contains("총 1790대") && md.contains("촬영일로부터 15일"),
        "{md}"
    );
    eprintln!(
        "1,790 cameras: import {imported:?}, parse+validate {validated:?}, notice {rendered:?}"
    );
}
