//! The documents of a data-subject request (PIPA Art. 35): the 청구서 as received and the notice of its
//! decision (결정 통지서 or 거부 통지서), rendered from the request and the site policy as print-ready A4
//! HTML pages, and printed to PDF by headless Chromium (`to_pdf`). The form's title, its addressee, the
//! answer's deadline and the refusal reasons are the policy's `RequestTerms`, which the public notice states
//! too. Times are KST; every piece of text from a request or a policy is escaped.

mod claim;
mod decision;
mod html;
mod kst;
mod pdf;

pub use claim::claim_form;
pub use decision::decision_notice;
pub use pdf::{PDF_TIMEOUT, PdfError, to_pdf};

use html::Html;
use policy::SiteConfig;
use policy::legal::Role;
use requests::SubjectRequest;

/// The window asked about: "2026년 11월 24일 09:00 ~ 2026년 11월 24일 10:00" (KST).
fn window(r: &SubjectRequest) -> String {
    format!(
        "{} ~ {}",
        kst::date_time(r.from * 1000),
        kst::date_time(r.to * 1000)
    )
}

/// The cameras asked about, one a line: where they are (their unit and location, when the policy states
/// them) and their id.
fn places(cfg: &SiteConfig, r: &SubjectRequest) -> Html {
    Html::list(r.cameras.iter().map(|id| {
        let cam = cfg.cameras.iter().find(|c| &c.id == id);
        let unit = cam
            .and_then(|c| cfg.facility_of(c))
            .map(|f| cfg.unit_name(f));
        let location = cam.and_then(|c| c.location.clone());
        let place = match (unit, location) {
            (Some(u), Some(l)) if !l.contains(&u) => format!("{u} {l}"),
            (_, Some(l)) => l,
            (Some(u), None) => u,
            (None, None) => String::new(),
        };
        if place.is_empty() {
            Html::text(&format!("카메라 {id}"))
        } else {
            Html::text(&format!("{place} (카메라 {id})"))
        }
    }))
}

/// The 관리책임자 of the request's cameras, as the 안내판 names them: "평생학습과 과장 (032-…)".
fn managers(cfg: &SiteConfig, r: &SubjectRequest) -> Vec<String> {
    let units: Vec<_> = if cfg.facilities.is_empty() {
        vec![None]
    } else {
        r.cameras
            .iter()
            .filter_map(|id| cfg.cameras.iter().find(|c| &c.id == id))
            .filter_map(|c| cfg.facility_of(c))
            .map(Some)
            .collect()
    };
    let mut out: Vec<String> = Vec::new();
    for p in units
        .into_iter()
        .flat_map(|u| cfg.people_of(u))
        .filter(|p| p.role == Role::Manager)
    {
        let mut who: Vec<&str> = Vec::new();
        if let Some(o) = p.org.as_deref().filter(|o| !p.title.contains(o)) {
            who.push(o);
        }
        who.push(&p.title);
        if let Some(n) = &p.name {
            who.push(n);
        }
        let line = format!("{} ({})", who.join(" "), p.phone);
        if !out.contains(&line) {
            out.push(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use requests::{Decision, Kind, Outcome, Output, State};

    const SITE: &str = r#"
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
viewing_place = "평생학습관 1층 사무실"
[[cameras]]
id = "lib-01"
url = "rtsp://h/lib-01"
facility = "library"
location = "1층 출입구"
[[cameras]]
id = "lib-02"
url = "rtsp://h/lib-02"
facility = "library"
"#;

    fn site() -> SiteConfig {
        SiteConfig::from_toml_str(SITE).unwrap()
    }

    /// Received 2026-11-24 14:05 KST about 09:00–10:00 KST that day, due ten days later.
    fn request(kind: Kind) -> SubjectRequest {
        let received_ms = 1_795_478_400_000 + 5 * 3_600_000 + 5 * 60_000;
        SubjectRequest {
            id: "REQ-2026-0007".into(),
            kind,
            requester: "홍길동".into(),
            contact: "010-1234-5678, 인천광역시 미추홀구 독정이로 95".into(),
            cameras: vec!["lib-01".into(), "lib-02".into()],
            from: 1_795_478_400,
            to: 1_795_482_000,
            description: "빨간 외투, 검은 배낭\n09:20쯤 출입구로 들어감".into(),
            identity_check: "주민등록증".into(),
            received_ms,
            due_ms: received_ms + 10 * requests::DAY_MS,
            state: State::Received,
            filed_by: "kim.clerk".into(),
            steps: Vec::new(),
            decision: None,
            existence: None,
            outputs: Vec::new(),
        }
    }

    fn decided(mut r: SubjectRequest, outcome: Outcome, reason: Option<&str>) -> SubjectRequest {
        r.decision = Some(Decision {
            outcome,
            reason: reason.map(str::to_string),
            note: "내부 메모".into(),
            by: "lee.manager".into(),
            // 2026-11-27 10:00 KST
            at_ms: 1_795_741_200_000,
        });
        r
    }

    #[test]
    fn the_claim_form_holds_every_field_of_the_request() {
        let html = claim_form(&site(), &request(Kind::View));
        for want in [
            "<html lang=\"ko\">",
            "@page { size: A4; margin: 15mm; }",
            "<title>개인영상정보 열람·존재확인 청구서</title>",
            "홍길동",
            "010-1234-5678, 인천광역시 미추홀구 독정이로 95",
            "☐ 존재확인",
            "☑ 열람",
            "☐ 삭제",
            "2026년 11월 24일 09:00 ~ 2026년 11월 24일 10:00",
            "평생학습관 1층 출입구 (카메라 lib-01)",
            "평생학습관 (카메라 lib-02)",
            "빨간 외투, 검은 배낭\n09:20쯤 출입구로 들어감",
            "주민등록증 확인",
            "사본 미보관",
            "REQ-2026-0007",
            "2026년 11월 24일 14:05",
            "2026년 12월 4일 14:05",
            "접수일부터 10일 이내",
            "kim.clerk",
            "「개인정보 보호법」 제35조에 따라 위와 같이 개인영상정보의 열람을 청구합니다.",
            "인천광역시 미추홀구 영상정보 관리책임자 귀하",
            "요구를 받은 날부터 10일 이내에 처리 결과를 알려드립니다.",
        ] {
            assert!(html.contains(want), "missing {want:?} in\n{html}");
        }
    }

    #[test]
    fn the_claim_form_takes_its_title_and_addressee_from_the_policy() {
        let cfg = SiteConfig::from_toml_str(&format!(
            "{SITE}\n[notice]\nrequest_form = \"영상정보 열람 등 청구서\"\nrequest_to = \"고정형 영상정보 관리책임자\"\n"
        ))
        .unwrap();
        let html = claim_form(&cfg, &request(Kind::Deletion));
        assert!(html.contains("<h1>영상정보 열람 등 청구서</h1>"));
        assert!(html.contains("인천광역시 미추홀구 고정형 영상정보 관리책임자 귀하"));
        assert!(html.contains("☑ 삭제") && html.contains("☐ 열람"));
        assert!(html.contains("제36조에 따라 위와 같이 개인영상정보의 삭제를 청구합니다."));
    }

    #[test]
    fn user_text_is_escaped_everywhere() {
        let mut r = request(Kind::Existence);
        r.requester = "<script>alert(1)</script>".into();
        r.description = "<img src=x onerror=alert(2)>".into();
        r.existence = Some(serde_json::json!({ "answer": "<b>있음</b> & 끝" }));
        let mut cfg = site();
        cfg.site.name = "구청 <i>".into();
        let claim = claim_form(&cfg, &r);
        let notice = decision_notice(&cfg, &decided(r, Outcome::Fulfil, None)).unwrap();
        for html in [&claim, &notice] {
            assert!(!html.contains("<script>") && !html.contains("<img") && !html.contains("<i>"));
            assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
            assert!(html.contains("구청 &lt;i&gt;"));
        }
        assert!(claim.contains("&lt;img src=x onerror=alert(2)&gt;"));
        assert!(notice.contains("&lt;b&gt;있음&lt;/b&gt; &amp; 끝"));
    }

    #[test]
    fn no_decision_no_notice() {
        let e = decision_notice(&site(), &request(Kind::View)).unwrap_err();
        assert!(
            e.contains("REQ-2026-0007") && e.contains("no decision"),
            "{e}"
        );
        let e = decision_notice(
            &site(),
            &decided(request(Kind::View), Outcome::Refuse, None),
        )
        .unwrap_err();
        assert!(e.contains("without a reason"), "{e}");
    }

    #[test]
    fn a_refusal_names_its_reason_word_for_word_and_how_to_appeal() {
        let cfg = site();
        let reasons = cfg.notice.request_terms().refusal_reasons;
        let r = decided(request(Kind::View), Outcome::Refuse, Some(&reasons[1]));
        let html = decision_notice(&cfg, &r).unwrap();
        for want in [
            "<title>개인영상정보 열람·존재확인 거부 통지서</title>",
            "개인영상정보의 보관기간이 경과하여 파기한 경우",
            "「개인정보 보호법」 제35조 제4항",
            "「행정심판법」 제27조",
            "알게 된 날부터 90일 이내",
            "「행정소송법」 제20조",
            "국번없이 118",
            "개인정보 분쟁조정위원회 (1833-6972",
            "REQ-2026-0007",
            "2026년 11월 27일",
            "홍길동 귀하",
            "위와 같은 사유로 거부하였음을",
            "<p class=\"issuer\">인천광역시 미추홀구</p>",
            "평생학습과 과장 (032-728-6530)",
        ] {
            assert!(html.contains(want), "missing {want:?} in\n{html}");
        }
        // Only the chosen reason, not the list it was chosen from; internal notes stay internal.
        for other in [&reasons[0], &reasons[2], &reasons[3]] {
            assert!(!html.contains(other.as_str()), "{other}");
        }
        assert!(!html.contains("내부 메모") && !html.contains("lee.manager"));
        assert!(!html.contains(decision::VIEW_GRANTED));
    }

    #[test]
    fn a_fulfilled_view_gives_a_masked_copy_and_no_appeal() {
        let mut r = decided(request(Kind::View), Outcome::Fulfil, None);
        r.outputs.push(Output {
            what: "lib-01 2026-11-24 09:00–10:00 가림 처리 사본 (MP4)".into(),
            sha256: "ab".repeat(32),
            at_ms: 0,
        });
        let html = decision_notice(&site(), &r).unwrap();
        assert!(html.contains("<title>개인영상정보 열람·존재확인 결정 통지서</title>"));
        assert!(html.contains(decision::VIEW_GRANTED));
        assert!(html.contains("☑ 전부 이행") && html.contains("☐ 일부 이행"));
        assert!(
            html.contains("평생학습관 1층 사무실"),
            "the unit's viewing place"
        );
        assert!(html.contains(&"ab".repeat(32)));
        assert!(
            !html.contains("행정심판"),
            "nothing refused, nothing to appeal"
        );
    }

    #[test]
    fn a_partly_fulfilled_request_shows_what_was_refused_and_how_to_appeal() {
        let cfg = site();
        let reasons = cfg.notice.request_terms().refusal_reasons;
        let mut r = request(Kind::Existence);
        r.existence = Some(serde_json::json!({
            "answer": "2026년 11월 24일 09:18–09:24 1층 출입구 카메라에 촬영된 영상이 있습니다.",
            "segments": 2
        }));
        let html = decision_notice(&cfg, &decided(r, Outcome::Partly, Some(&reasons[2]))).unwrap();
        assert!(html.contains("☐ 전부 이행") && html.contains("☑ 일부 이행"));
        assert!(html.contains("09:18–09:24 1층 출입구 카메라에 촬영된 영상이 있습니다."));
        assert!(html.contains("거부한 부분의\n사유"));
        assert!(html.contains(&reasons[2]));
        assert!(html.contains("「행정심판법」 제27조") && html.contains("1833-6972"));

        let html = decision_notice(
            &cfg,
            &decided(request(Kind::Deletion), Outcome::Fulfil, None),
        )
        .unwrap();
        assert!(html.contains("<title>개인영상정보 삭제 결정 통지서</title>"));
        assert!(html.contains("삭제 조치"));
    }
}
