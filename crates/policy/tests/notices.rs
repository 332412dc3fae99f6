//! The example policies reproduce the three published notices: rendering each must show every published fact
//! (counts per facility, retention, storage places, managers' names and numbers, contractors, purposes).

use policy::SiteConfig;
use policy::notice::{Format, render};
use std::path::Path;

fn load(name: &str) -> SiteConfig {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/sites")
        .join(name);
    SiteConfig::load(&p).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn assert_all(text: &str, facts: &[&str]) {
    for f in facts {
        assert!(text.contains(f), "missing {f:?} in:\n{text}");
    }
}

#[test]
fn michuhol_notice_has_every_published_fact() {
    let cfg = load("michuhol.toml");
    assert_eq!(cfg.cameras.len(), 98);
    let md = render(&cfg, Format::Markdown, None).unwrap();
    assert_all(
        &md,
        &[
            "총 98대",
            "(21대)",
            "(32대)",
            "(15대)",
            "(30대)",
            "촬영일로부터 30일",
            "촬영일로부터 15일",
            "032-728-6530",
            "032-728-6536",
            "박성은",
            "032-715-5648",
            "정가람",
            "032-887-5272",
            "032-728-6547",
            "032-728-6833",
            "에스원",
            "안명성 파트장",
            "1588-3112",
            "차장 권순태",
            "888-9837",
            "시설안전 및 화재 예방",
            "100m 이내",
            "15m 이내",
            "미추홀구청소년센터 3층",
            "2025년 12월 31일",
            "미추홀구 홈페이지",
            "요구를 받은 날부터 10일 이내",
        ],
    );
    // One facility's own notice, as published: only its cameras, retention and people.
    let career = render(&cfg, Format::Markdown, Some("career")).unwrap();
    assert_all(
        &career,
        &[
            "총 30대",
            "촬영일로부터 15일",
            "032-728-6833",
            "진로교육지원센터 사무실",
        ],
    );
    assert!(
        !career.contains("촬영일로부터 30일") && !career.contains("박성은"),
        "{career}"
    );
    assert!(render(&cfg, Format::Markdown, Some("nope")).is_err());
}

#[test]
fn labour_office_notice_has_every_published_fact() {
    let cfg = load("labour-office.toml");
    assert_eq!(cfg.cameras.len(), 60);
    let md = render(&cfg, Format::Markdown, None).unwrap();
    assert_all(
        &md,
        &[
            "총 60대",
            "중부지방고용노동청 (4대)",
            "인천고용복지+센터 (56대)",
            "촬영일로부터 30일",
            "4층 고용관리과",
            "1층 경비실",
            "이승섭",
            "032-460-4521",
            "송슬기",
            "032-460-4513",
            "이가연",
            "032-460-4859",
            "ADT캡스",
            "1588-6400",
            "시설안전 및 화재 예방",
            "고객의 안전을 위한 범죄 예방",
            "차량도난 및 파손방지",
            "2021년 7월 23일",
        ],
    );
}

#[test]
fn gimje_notice_has_every_published_fact() {
    let cfg = load("gimje-family.toml");
    assert_eq!(cfg.cameras.len(), 28);
    let html = render(&cfg, Format::Html, None).unwrap();
    assert_all(
        &html,
        &[
            "<html lang=\"ko\">",
            "@page { size: A4;",
            "name=\"viewport\"",
            "총 28대",
            "촬영일로부터 30일",
            "방재실",
            "장덕상",
            "070-4632-2651",
            "시세인",
            "부서담당",
            "박해란",
            "취급자",
            "윤지연",
            "070-4632-5147",
            "최정환",
            "070-4632-5084",
            "청사방호와 범죄예방",
            "2025년 1월 1일",
            "2024년 12월 19일",
            "위탁하지 않습니다",
        ],
    );
}

#[test]
fn demo_notice_renders() {
    let md = render(&load("demo.toml"), Format::Markdown, None).unwrap();
    assert_all(&md, &["총 1대", "홍길동", "촬영일로부터 30일"]);
}

#[test]
fn signs_carry_the_article_25_4_items_per_facility() {
    let cfg = load("michuhol.toml");
    let md = policy::notice::render_signs(&cfg, Format::Markdown);
    assert_eq!(md.matches("# CCTV 설치 안내").count(), 4, "{md}");
    assert_all(
        &md,
        &[
            "설치 목적",
            "촬영 범위: 100m 이내",
            "촬영 시간: 24시간",
            "032-715-5648",
            "수탁관리자 및 연락처: 에스원 (1588-3112)",
        ],
    );
    let html = policy::notice::render_signs(&load("gimje-family.toml"), Format::Html);
    assert_all(
        &html,
        &["break-after: page", "센터장 장덕상 (070-4632-2651)"],
    );
    assert!(!html.contains("수탁관리자"), "no contractor at this site");
}
