//! The notice of what was decided on a request: a 결정 통지서 for one answered in full or in part (what is
//! given), a 거부 통지서 for one refused (the reason, word for word the policy's). Whatever is refused, in
//! whole or in part, comes with the ways to contest it (Decree Art. 42: 거절의 사유 및 이의제기 방법).

use crate::html::{self, Group, Html, Row};
use crate::{kst, managers, places, window};
use policy::SiteConfig;
use requests::{Kind, Outcome, SubjectRequest};

/// What a fulfilled 열람 gives.
pub(crate) const VIEW_GRANTED: &str = "가림 처리(다른 사람은 가림)된 영상 사본 제공";
/// What a fulfilled 삭제 does.
const DELETION_GRANTED: &str = "삭제 조치";

/// How a refusal can be contested, as the forms of public bodies list it: the appeal and the suit, with
/// their time limits, then where to report or seek mediation.
fn appeal_rows() -> Vec<Row> {
    vec![
        Row::One(
            "행정심판",
            Html::text(
                "「행정심판법」 제27조에 따라 처분이 있음을 알게 된 날부터 90일 이내(처분이 있었던 날부터 180일 이내)에 행정심판을 청구할 수 있습니다.",
            ),
        ),
        Row::One(
            "행정소송",
            Html::text(
                "「행정소송법」 제20조에 따라 처분이 있음을 안 날부터 90일 이내(처분이 있은 날부터 1년 이내)에 행정소송을 제기할 수 있습니다.",
            ),
        ),
        Row::One(
            "신고·상담",
            Html::list([
                Html::text("개인정보 침해신고센터 (국번없이 118, privacy.kisa.or.kr)"),
                Html::text("개인정보 분쟁조정위원회 (1833-6972, www.kopico.go.kr)"),
            ]),
        ),
    ]
}

/// "열람·존재확인" or "삭제", as the title names the request.
fn subject(kind: Kind) -> &'static str {
    match kind {
        Kind::Existence | Kind::View => "열람·존재확인",
        Kind::Deletion => "삭제",
    }
}

/// What is given for a request answered in full or in part.
fn granted(r: &SubjectRequest) -> Html {
    match r.kind {
        Kind::View => Html::text(VIEW_GRANTED),
        Kind::Deletion => Html::text(DELETION_GRANTED),
        // The 존재확인 answer as recorded ("-" when none is).
        Kind::Existence => Html::lines(
            r.existence
                .as_ref()
                .and_then(|v| v.get("answer"))
                .and_then(|v| v.as_str())
                .unwrap_or(""),
        ),
    }
}

pub fn decision_notice(cfg: &SiteConfig, r: &SubjectRequest) -> Result<String, String> {
    let d = r.decision.as_ref().ok_or_else(|| {
        format!(
            "request {:?} has no decision yet: its notice is written once it is decided",
            r.id
        )
    })?;
    let refused = match (d.outcome, d.reason.as_deref()) {
        (Outcome::Fulfil, _) => None,
        (_, Some(reason)) if !reason.trim().is_empty() => Some(reason),
        (_, _) => {
            return Err(format!(
                "request {:?} was refused without a reason: a refusal names one of the policy's refusal reasons",
                r.id
            ));
        }
    };
    let title = match d.outcome {
        Outcome::Fulfil | Outcome::Partly => {
            format!("개인영상정보 {} 결정 통지서", subject(r.kind))
        }
        Outcome::Refuse => format!("개인영상정보 {} 거부 통지서", subject(r.kind)),
    };

    let mut decided = Vec::new();
    match d.outcome {
        Outcome::Fulfil | Outcome::Partly => {
            decided.push(Row::One(
                "결정",
                Html::choices(&[
                    ("전부 이행", d.outcome == Outcome::Fulfil),
                    ("일부 이행", d.outcome == Outcome::Partly),
                ]),
            ));
            decided.push(Row::One("이행 내용", granted(r)));
            if r.kind == Kind::View {
                decided.push(Row::One("확인 장소", Html::text(&viewing_place(cfg, r))));
            }
            if !r.outputs.is_empty() {
                decided.push(Row::One(
                    "제공 파일",
                    Html::list(r.outputs.iter().map(|o| {
                        let mut line = Html::text(&o.what);
                        line.push(Html::literal("<br><span class=\"mono\">SHA-256 "))
                            .push(Html::text(&o.sha256))
                            .push(Html::literal("</span>"));
                        line
                    })),
                ));
            }
        }
        Outcome::Refuse => decided.push(Row::One("결정", Html::literal("<b>거부</b>"))),
    }
    if let Some(reason) = refused {
        let label = match d.outcome {
            Outcome::Partly => "거부한 부분의\n사유",
            _ => "거부 사유",
        };
        decided.push(Row::One(label, Html::text(reason)));
        // The policy's reasons are those of Art. 35(4); a deletion is refused under Art. 36, so it cites none.
        if r.kind != Kind::Deletion {
            decided.push(Row::One(
                "근거",
                Html::text("「개인정보 보호법」 제35조 제4항"),
            ));
        }
    }

    let mut groups = vec![
        Group {
            head: "청구인",
            rows: vec![
                Row::One("성명", Html::text(&r.requester)),
                Row::One("연락처", Html::text(&r.contact)),
            ],
        },
        Group {
            head: "청구 내용",
            rows: vec![
                Row::Two(
                    "청구 구분",
                    Html::text(r.kind.korean()),
                    "접수일",
                    Html::text(&kst::date_time(r.received_ms)),
                ),
                Row::One("영상정보\n촬영 일시", Html::text(&window(r))),
                Row::One("영상정보\n촬영 장소", places(cfg, r)),
            ],
        },
        Group {
            head: "결정 내용",
            rows: decided,
        },
    ];
    if refused.is_some() {
        groups.push(Group {
            head: "이의제기\n방법",
            rows: appeal_rows(),
        });
    }

    let mut body = Html::default();
    body.push(html::strip(&[
        ("통지번호", Html::text_or_dash(&r.id)),
        ("통지일", Html::text(&kst::date(d.at_ms))),
    ]));
    body.push(html::para(
        "to",
        Html::text(&format!("{} 귀하", r.requester)),
    ));
    body.push(html::table(&groups));
    let done = match d.outcome {
        Outcome::Fulfil | Outcome::Partly => "위와 같이 결정하였음을",
        Outcome::Refuse => "위와 같은 사유로 거부하였음을",
    };
    let mut closing = Html::default();
    closing.push(html::para(
        "declare",
        Html::text(&format!(
            "귀하께서 {} 청구하신 개인영상정보 {}에 대하여 {done} 알려드립니다.",
            kst::date(r.received_ms),
            r.kind.korean()
        )),
    ));
    closing.push(html::para("date", Html::text(&kst::date(d.at_ms))));
    closing.push(html::para("issuer", Html::text(&cfg.site.name)));
    let mut contact: Vec<String> = Vec::new();
    if let Some(op) = &cfg.site.operator {
        contact.push(format!("담당 부서: {op}"));
    }
    let managers = managers(cfg, r);
    if !managers.is_empty() {
        contact.push(format!("관리책임자: {}", managers.join(", ")));
    }
    if !contact.is_empty() {
        closing.push(html::para("contact", Html::text(&contact.join("  ·  "))));
    }
    body.push(html::block("closing", closing));
    Ok(html::page(&title, &body))
}

/// Where the copy is given: the viewing place of the first of the request's units that states one, else the
/// site's.
fn viewing_place(cfg: &SiteConfig, r: &SubjectRequest) -> String {
    r.cameras
        .iter()
        .filter_map(|id| cfg.cameras.iter().find(|c| &c.id == id))
        .find_map(|c| cfg.facility_of(c).and_then(|f| f.viewing_place.clone()))
        .unwrap_or_else(|| cfg.viewing.place.clone())
}
