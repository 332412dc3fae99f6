//! A large synthetic site, built here (not a copy of any real one): 2,000 cameras in 36 units under 4 국,
//! retention of 10, 14, 15 and 30 days, contractors on a few units and none on the rest, traffic- and
//! dumping-enforcement cameras with their own masking rules, and a vehicle-mounted (mobile) camera. The
//! notice must publish exactly what the policy states, and `garim check` must stay readable.

use policy::SiteConfig;
use policy::notice::{Format, render, render_signs};
use std::fmt::Write;
use std::time::{Duration, Instant};

const BUREAUS: [(&str, &str); 4] = [
    ("admin", "행정자치국"),
    ("welfare", "복지국"),
    ("safety", "안전건설국"),
    ("city", "도시교통국"),
];
/// Units with contractors: (unit index, contractor ids).
const SERVED: [(usize, &[&str]); 4] = [
    (0, &["s1"]),
    (3, &["s1", "kt"]),
    (27, &["kt"]),
    (35, &["caps"]),
];
const TRAFFIC_UNIT: usize = 35;
const DUMPING_UNIT: usize = 30;
const CAMERAS: usize = 2000;

fn unit_name(u: usize) -> String {
    match u {
        TRAFFIC_UNIT => "교통지도과".into(),
        DUMPING_UNIT => "청소행정과".into(),
        u if u % 3 == 0 => format!("제{}동 행정복지센터", u / 3 + 1),
        u => format!(
            "{}과",
            [
                "총무",
                "민원",
                "복지정책",
                "아동보육",
                "건설",
                "공원녹지",
                "세무",
                "문화체육"
            ][u % 8]
        ),
    }
}

fn retention(u: usize) -> u32 {
    [10, 14, 15, 30][u % 4]
}

/// The site as TOML; `tweak` edits the text (for the bad-input cases).
fn site(name: &str) -> String {
    let mut t = format!(
        r#"[site]
name = "{name}"
operator = "정보통신과"

[storage]
sealed_public_key = "{}"

[notice]
effective_date = "2026-07-01"
announced_date = "2026-06-20"
announced_at = "구청 홈페이지"
previous_url = "https://example.invalid/cctv/2025"
published_by = ["홈페이지 게시", "구청 민원실 게시"]

[[notice.revisions]]
date = "2019-03-01"
kind = "enacted"

[[notice.revisions]]
date = "2026-07-01"
kind = "rewritten"
summary = "국·과 개편, 단속 카메라 봉인 녹화"
published_by = "홈페이지 게시"
url = "https://example.invalid/cctv/2026"

[[notice.provisos]]
section = "intro"
text = "부서별로 별도 방침을 공개하는 경우 그에 따름"

[[notice.provisos]]
section = "retention"
text = "다만, 다른 법령에 특별한 규정이 있는 경우에는 그러하지 아니합니다."

[[purposes]]
id = "crime"
ground = "crime_prevention"
text = "범죄 예방 및 수사"

[[purposes]]
id = "facility"
ground = "facility_safety"
text = "시설안전 및 화재 예방"

[[purposes]]
id = "traffic"
ground = "traffic_enforcement"
text = "주정차 위반 단속"
detect = ["person", "face"]
recording = "sealed"

[[purposes]]
id = "dumping"
ground = "statutory"
text = "쓰레기 무단투기 단속(「폐기물관리법」 제68조)"
recording = "sealed"

[[purposes]]
id = "disaster"
ground = "facility_safety"
text = "재난·재해 예방 및 대응"

[[people]]
id = "cio"
role = "manager"
title = "정보통신과장"
phone = "02-100-0000"

[[contractors]]
id = "s1"
name = "에스원"
phone = "1588-3112"

[[contractors]]
id = "kt"
name = "KT텔레캅"
phone = "1577-0112"

[[contractors]]
id = "caps"
name = "ADT캡스"
phone = "1588-6400"
scope = "단속 카메라 유지보수 및 영상 판독 지원"
"#,
        "ab".repeat(32)
    );
    for (id, bname) in BUREAUS {
        write!(t, "\n[[facilities]]\nid = \"{id}\"\nname = \"{bname}\"\n").unwrap();
    }
    for u in 0..36 {
        let contractors = SERVED
            .iter()
            .find(|(i, _)| *i == u)
            .map(|(_, c)| {
                c.iter()
                    .map(|c| format!("\"{c}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        write!(
            t,
            "\n[[facilities]]\nid = \"u{u:02}\"\nname = \"{}\"\nparent = \"{}\"\npeople = [\"cio\", \"h{u:02}\"]\ncontractors = [{contractors}]\nretention_days = {}\n",
            unit_name(u),
            BUREAUS[u % 4].0,
            retention(u)
        )
        .unwrap();
        write!(
            t,
            "\n[[people]]\nid = \"h{u:02}\"\nrole = \"access\"\ntitle = \"주무관\"\norg = \"{}\"\nphone = \"02-100-{:04}\"\n",
            unit_name(u),
            u + 1
        )
        .unwrap();
    }
    for i in 0..CAMERAS {
        let u = i % 36;
        let purposes = match u {
            TRAFFIC_UNIT => "\"traffic\"",
            DUMPING_UNIT => "\"dumping\"",
            _ => "\"crime\", \"facility\"",
        };
        write!(
            t,
            "\n[[cameras]]\nid = \"c{i:04}\"\nurl_env = \"C{i:04}_URL\"\nfacility = \"u{u:02}\"\nlocation = \"{} {}번지 일대\"\nrange = \"반경 {}m\"\npurposes = [{purposes}]\n",
            unit_name(u),
            i % 5 + 1,
            [30, 50, 100][i % 3]
        )
        .unwrap();
    }
    t.push_str("\n[[cameras]]\nid = \"patrol-1\"\nurl_env = \"PATROL_URL\"\nfacility = \"u35\"\nkind = \"mobile\"\nlocation = \"관내 전역 (단속 차량 탑재)\"\nrange = \"차량 전방 약 20m\"\npurposes = [\"traffic\"]\n");
    t
}

fn parse(text: &str) -> SiteConfig {
    SiteConfig::from_toml_str(text).unwrap_or_else(|e| panic!("{e}"))
}

/// Rows of the markdown table that follows `heading` in `md`.
fn table_after<'a>(md: &'a str, heading: &str) -> Vec<&'a str> {
    let at = md.find(heading).unwrap_or_else(|| panic!("no {heading:?}"));
    let rest = &md[at..];
    let next = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    rest[..next]
        .lines()
        .filter(|l| {
            l.starts_with("| ") && !l.starts_with("| 부서·시설") && !l.starts_with("| 설치 목적")
        })
        .collect()
}

fn best_of(n: usize, mut f: impl FnMut()) -> Duration {
    (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap()
}

#[test]
fn a_2000_camera_district_publishes_exactly_what_it_states() {
    let text = site("서울특별시 가상구");
    let cfg = parse(&text);
    assert_eq!(cfg.cameras.len(), CAMERAS + 1);
    let md = render(&cfg, Format::Markdown, None).unwrap();

    // Separators, and the count per 국.
    assert!(
        md.contains("총 2,001대 (고정형 2,000대, 이동형 1대)"),
        "{}",
        &md[..2000]
    );
    assert!(md.contains("복지국 "), "per-bureau counts");

    // 위탁: one row per (unit, contractor) stated, none for the units that state none.
    let rows = table_after(&md, "위탁에 관한 사항");
    let expected: usize = SERVED.iter().map(|(_, c)| c.len()).sum();
    assert_eq!(rows.len(), expected, "{rows:#?}");
    for (u, cs) in SERVED {
        let mine: Vec<&&str> = rows.iter().filter(|r| r.contains(&unit_name(u))).collect();
        assert_eq!(mine.len(), cs.len(), "unit {u}: {mine:?}");
    }
    assert!(md.contains("위 표에 없는 부서·시설(32곳)은 설치 및 관리 업무를 위탁하지 않습니다."));
    assert!(md.contains("단속 카메라 유지보수 및 영상 판독 지원"));

    // Every declared purpose, the unused one ("disaster") included.
    for p in &cfg.purposes {
        assert!(
            md.contains(&format!("- {}", p.text)),
            "purpose {} missing",
            p.id
        );
    }
    assert!(
        !cfg.warnings().is_empty(),
        "an unused purpose is warned about"
    );

    // Masking per group: traffic masks people and faces live and keeps plates in its sealed recordings.
    let masking = table_after(&md, "가림 처리 및 녹화 방식");
    let traffic = masking
        .iter()
        .find(|r| r.contains("주정차 위반 단속"))
        .expect("traffic row");
    assert!(
        traffic.contains("사람·얼굴 가림 (차량번호판은 가리지 않음)")
            && traffic.contains("봉인 녹화"),
        "{traffic}"
    );
    let dumping = masking
        .iter()
        .find(|r| r.contains("쓰레기 무단투기"))
        .expect("dumping row");
    assert!(
        dumping.contains("사람·얼굴·차량번호판 가림 |") && dumping.contains("봉인 녹화"),
        "{dumping}"
    );
    let general = masking
        .iter()
        .find(|r| r.contains("범죄 예방 및 수사"))
        .expect("general row");
    assert!(general.contains("가림 처리된 영상만 녹화"), "{general}");
    assert!(md.contains("봉인 녹화는 가림 처리 전의 원본으로, 관리책임자(정보통신과장)"));

    // The mobile camera is published as mobile, with the Art. 25-2 wording, and gets no fixed sign.
    assert!(
        md.contains("이동형 영상정보처리기기 (차량 탑재·휴대형)") && md.contains("제25조의2 제3항")
    );
    let signs = render_signs(&cfg, Format::Markdown);
    assert!(
        !signs.contains("단속 차량 탑재"),
        "a mobile camera has no fixed sign"
    );
    assert_eq!(signs.matches("# CCTV 설치 안내").count(), 36);

    // Retention mix, in the order of the units, each unit with its own.
    for d in [10, 14, 15, 30] {
        assert!(md.contains(&format!("촬영일로부터 {d}일")), "{d} days");
    }
    // Locations stay in the order given (not sorted): 1번지 before 2번지 … within a unit.
    let a = md.find("총무과 2번지 일대").unwrap();
    let b = md.find("총무과 3번지 일대").unwrap();
    assert!(a < b);

    // Particles by the final consonant of the site's name.
    assert!(md.contains("서울특별시 가상구(이하 \"본 기관\"이라 함)는"));
    let other = render(&parse(&site("가상경제자유구역청")), Format::Markdown, None).unwrap();
    assert!(
        other.contains("가상경제자유구역청(이하 \"본 기관\"이라 함)은"),
        "{}",
        &other[..400]
    );
    assert!(md.contains("운영 부서: 정보통신과"));

    // The notice's own facts: enactment, 시행·공고일, 공개방법, the previous version, revision kinds, provisos.
    assert!(md.contains("2019년 3월 1일에 제정되었으며, 2026년 7월 1일부터 시행합니다."));
    assert!(md.contains("구청 홈페이지를 통해 공지하겠습니다"));
    assert!(
        md.contains("- 공고일자: 2026년 6월 20일") && md.contains("- 시행일자: 2026년 7월 1일")
    );
    assert!(md.contains("- 공개방법: 홈페이지 게시, 구청 민원실 게시"));
    assert!(md.contains("- 이전 방침: https://example.invalid/cctv/2025"));
    assert!(md.contains("| 일자 | 구분 | 내용 | 공개방법 | 보기 |"));
    assert!(md.contains("| 2026년 7월 1일 | 전면 개정 | 국·과 개편, 단속 카메라 봉인 녹화 | 홈페이지 게시 | https://example.invalid/cctv/2026 |"));
    assert!(md.contains("| 2019년 3월 1일 | 제정 | - | - | - |"));
    assert!(md.contains("※ 부서별로 별도 방침을 공개하는 경우 그에 따름"));
    let retention = &md[md.find("## 4.").unwrap()..md.find("## 5.").unwrap()];
    assert!(
        retention.contains("※ 다만, 다른 법령에 특별한 규정이 있는 경우에는 그러하지 아니합니다.")
    );
    // The law's defaults where the site states nothing.
    assert!(
        md.contains("「개인영상정보 열람·존재확인 청구서」")
            && md.contains("서면 등으로 알려드립니다")
    );
    assert!(md.contains("보관기간이 경과하여 파기한 경우"));

    // Speed: best of 5 (the first run warms caches); the figure is printed for docs/.
    let check = best_of(5, || {
        parse(&text);
    });
    let notice = best_of(5, || {
        render(&cfg, Format::Html, None).unwrap();
    });
    eprintln!("2,001 cameras: check {check:?}, notice (html) {notice:?}");
    assert!(check < Duration::from_millis(100), "check took {check:?}");
    assert!(
        notice < Duration::from_millis(100),
        "notice took {notice:?}"
    );
}

#[test]
fn a_large_sites_check_names_each_cause_once() {
    // One unit with 1,148 cameras kept 45 days without a reason, and every camera without a url.
    let mut text = site("서울특별시 가상구").replace(
        "id = \"u01\"\nname = \"민원과\"\nparent = \"welfare\"\npeople = [\"cio\", \"h01\"]\ncontractors = []\nretention_days = 14",
        "id = \"u01\"\nname = \"민원과\"\nparent = \"welfare\"\npeople = [\"cio\", \"h01\"]\ncontractors = []\nretention_days = 45",
    );
    for i in 0..1148 {
        write!(text, "\n[[cameras]]\nid = \"x{i:04}\"\nfacility = \"u01\"\nlocation = \"민원실\"\nrange = \"실내\"\n").unwrap();
    }
    let err = SiteConfig::from_toml_str(&text).unwrap_err();
    let lines = err.to_string().lines().count();
    assert!(lines <= 5, "{lines} lines:\n{err}");
    let text = err.to_string();
    assert!(
        text.contains("facilities[u01].retention_days: over 30 days needs retention_reason")
            && text.contains("(1,204 cameras)"),
        "{text}"
    );
    assert!(
        text.contains("cameras[x0000, x0001, x0002, … 1,145 more]: no camera url"),
        "{text}"
    );
}

/// Each bad input gives exactly one error, at its path.
#[test]
fn bad_input_gets_one_clear_error_with_its_path() {
    let base = site("서울특별시 가상구");
    let cases = [
        (
            base.replace(
                "effective_date = \"2026-07-01\"",
                "effective_date = \"2023-13-45\"",
            ),
            "notice.effective_date",
            "month 13 does not exist",
        ),
        (
            base.replace("people = [\"cio\", \"h07\"]", "people = [\"h07\"]"),
            "facilities[u07].people",
            "no 관리책임자",
        ),
        (
            base.replace("contractors = [\"kt\"]", "contractors = [\"nobody\"]"),
            "facilities[u27].contractors[0]",
            "contractor not declared",
        ),
        (
            base.replace(
                "detect = [\"person\", \"face\"]",
                "detect = [\"person\", \"fase\"]",
            ),
            "purposes[traffic].detect[1]",
            "unknown class",
        ),
    ];
    for (text, path, reason) in cases {
        let errors = SiteConfig::from_toml_str(&text).unwrap_err().0;
        assert_eq!(errors.len(), 1, "{path}: {errors:#?}");
        assert_eq!(errors[0].path, path);
        assert!(errors[0].reason.contains(reason), "{:?}", errors[0]);
    }
}

/// Writes the synthetic site's policy and notice for a person to read (`GARIM_NOTICE_OUT=dir`).
#[test]
fn the_synthetic_site_can_be_written_out() {
    let Ok(dir) = std::env::var("GARIM_NOTICE_OUT") else {
        return;
    };
    let text = site("서울특별시 가상구");
    let cfg = parse(&text);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(format!("{dir}/large-site.toml"), &text).unwrap();
    std::fs::write(
        format!("{dir}/large-site.md"),
        render(&cfg, Format::Markdown, None).unwrap(),
    )
    .unwrap();
}
