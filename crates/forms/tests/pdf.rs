//! Real PDFs: a claim form and a refusal notice printed by headless Chromium, turned into PNG pages by
//! pdftoppm (80 dpi) and read back by pdftotext and pdfinfo. The files are kept under `$GARIM_TEST_OUT`, else
//! `target/forms-pdf/`, to be looked at. It needs chromium, poppler-utils and a Korean font (fonts-nanum),
//! which scripts/test installs: without them it fails and says so, it does not skip.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use policy::SiteConfig;
use requests::{Decision, Kind, Outcome, State, SubjectRequest};

fn out_dir() -> PathBuf {
    let dir = std::env::var_os("GARIM_TEST_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/forms-pdf"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs a poppler tool and returns its stdout, or fails naming the package to install.
fn poppler(tool: &str, args: &[&std::ffi::OsStr]) -> String {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("cannot run {tool} ({e}): install poppler-utils (apt-get install poppler-utils)")
    });
    assert!(
        out.status.success(),
        "{tool} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn site() -> SiteConfig {
    SiteConfig::from_toml_str(
        r#"
[site]
name = "인천광역시 미추홀구"
operator = "평생학습과"
[[people]]
id = "head"
role = "manager"
title = "과장"
org = "평생학습과"
phone = "032-728-6530"
[[facilities]]
id = "library"
name = "평생학습관"
people = ["head"]
[[cameras]]
id = "lib-01"
url = "rtsp://h/lib-01"
facility = "library"
location = "1층 출입구"
[[cameras]]
id = "lib-02"
url = "rtsp://h/lib-02"
facility = "library"
location = "2층 복도"
"#,
    )
    .unwrap()
}

fn request() -> SubjectRequest {
    // Received 2026-11-24 14:05 KST about 09:00–10:00 KST that morning.
    let received_ms = 1_795_478_400_000 + 5 * 3_600_000 + 5 * 60_000;
    SubjectRequest {
        id: "REQ-2026-0007".into(),
        kind: Kind::View,
        requester: "홍길동".into(),
        contact: "010-1234-5678 / 인천광역시 미추홀구 독정이로 95, 101동 1001호".into(),
        cameras: vec!["lib-01".into(), "lib-02".into()],
        from: 1_795_478_400,
        to: 1_795_482_000,
        description: "평생학습관 1층 출입구에서 휴대전화를 분실하여 확인하고자 합니다.\n\
                      인상착의: 빨간 외투, 검은 배낭, 흰 운동화. 09:20쯤 출입구로 들어가 2층 복도로 이동함."
            .into(),
        identity_check: "주민등록증".into(),
        received_ms,
        due_ms: received_ms + 10 * requests::DAY_MS,
        state: State::Refused,
        filed_by: "kim.clerk".into(),
        steps: Vec::new(),
        decision: None,
        existence: None,
        outputs: Vec::new(),
    }
}

/// Prints `html` to `<name>.pdf`, renders its pages to PNG and checks them; returns the PDF's text.
fn print_and_check(name: &str, html: &str) -> String {
    let dir = out_dir();
    std::fs::write(dir.join(format!("{name}.html")), html).unwrap();
    let pdf = dir.join(format!("{name}.pdf"));
    forms::to_pdf(html, &pdf).unwrap_or_else(|e| panic!("printing {name}: {e}"));
    let meta = std::fs::metadata(&pdf).unwrap();
    assert_eq!(
        meta.permissions().mode() & 0o777,
        0o600,
        "{}",
        pdf.display()
    );
    assert!(!dir.join(format!("{name}.pdf.part")).exists());

    let info = poppler("pdfinfo", &[pdf.as_os_str()]);
    assert!(info.contains("(A4)"), "not A4:\n{info}");

    // Stale pages of an earlier run would be counted: remove them first.
    let is_page = |p: &Path| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(&format!("{name}-")) && n.ends_with(".png"))
    };
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if is_page(&p) {
            std::fs::remove_file(p).unwrap();
        }
    }
    let prefix = dir.join(name);
    poppler(
        "pdftoppm",
        &[
            "-png".as_ref(),
            "-r".as_ref(),
            "80".as_ref(),
            pdf.as_os_str(),
            prefix.as_os_str(),
        ],
    );
    let mut pages: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| is_page(p))
        .collect();
    pages.sort();
    // ≥ 1 page in general; these forms, like the official ones, fit on one.
    assert_eq!(
        pages.len(),
        1,
        "{name} takes {} pages: {pages:?}",
        pages.len()
    );
    for p in &pages {
        let size = std::fs::metadata(p).unwrap().len();
        // A blank A4 page at 80 dpi compresses to well under 5 kB; a filled form is tens of kB.
        assert!(size > 5_000, "{} is {size} bytes: blank?", p.display());
    }
    eprintln!("{name}: {} page(s) under {}", pages.len(), dir.display());
    poppler(
        "pdftotext",
        &["-layout".as_ref(), pdf.as_os_str(), "-".as_ref()],
    )
}

#[test]
fn a_claim_form_prints_as_an_a4_korean_pdf() {
    let text = print_and_check("claim", &forms::claim_form(&site(), &request()));
    // Korean in the text layer: the font had the glyphs (a missing font prints boxes and no text).
    for want in [
        "청구서",
        "홍길동",
        "주민등록증",
        "2026년 11월 24일 09:00",
        "귀하",
    ] {
        assert!(
            text.contains(want),
            "{want:?} not in the PDF's text:\n{text}"
        );
    }
}

#[test]
fn a_refusal_notice_prints_as_an_a4_korean_pdf() {
    let cfg = site();
    let reason = cfg.notice.request_terms().refusal_reasons[0].clone();
    let mut r = request();
    r.decision = Some(Decision {
        outcome: Outcome::Refuse,
        reason: Some(reason),
        note: String::new(),
        by: "lee.manager".into(),
        at_ms: 1_795_741_200_000,
    });
    let html = forms::decision_notice(&cfg, &r).unwrap();
    let text = print_and_check("refusal", &html);
    for want in [
        "거부",
        "통지서",
        "행정심판",
        "1833-6972",
        "인천광역시 미추홀구",
    ] {
        assert!(
            text.contains(want),
            "{want:?} not in the PDF's text:\n{text}"
        );
    }
}

#[test]
fn a_partly_fulfilled_notice_prints_as_an_a4_korean_pdf() {
    let cfg = site();
    let reason = cfg.notice.request_terms().refusal_reasons[2].clone();
    let mut r = request();
    r.outputs.push(requests::Output {
        what: "lib-01 2026-11-24 09:00–10:00 가림 처리 사본 (MP4)".into(),
        sha256: "3f".repeat(32),
        at_ms: 1_795_741_200_000,
    });
    r.decision = Some(Decision {
        outcome: Outcome::Partly,
        reason: Some(reason),
        note: String::new(),
        by: "lee.manager".into(),
        at_ms: 1_795_741_200_000,
    });
    let text = print_and_check("partly", &forms::decision_notice(&cfg, &r).unwrap());
    for want in ["결정 통지서", "일부 이행", "가림 처리", "행정소송"] {
        assert!(
            text.contains(want),
            "{want:?} not in the PDF's text:\n{text}"
        );
    }
}
