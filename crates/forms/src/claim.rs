//! The 청구서 as received: who asks, for what, about which footage, how they were identified, and when it
//! is due, addressed to the site's 관리책임자 under the policy's own title for the form.

use crate::html::{self, Group, Html, Row};
use crate::{kst, places, window};
use policy::SiteConfig;
use policy::korean::{Particle, with_particle};
use requests::{DAY_MS, Kind, SubjectRequest};

/// The article a request of this kind is made under.
fn article(kind: Kind) -> &'static str {
    match kind {
        Kind::Existence | Kind::View => "「개인정보 보호법」 제35조",
        Kind::Deletion => "「개인정보 보호법」 제36조",
    }
}

pub fn claim_form(cfg: &SiteConfig, r: &SubjectRequest) -> String {
    let terms = cfg.notice.request_terms();
    let due_days = (r.due_ms - r.received_ms).div_euclid(DAY_MS);
    let mut body = Html::default();
    body.push(html::strip(&[
        ("접수번호", Html::text_or_dash(&r.id)),
        ("접수일", Html::text(&kst::date_time(r.received_ms))),
        (
            "처리기한",
            Html::text(&kst::date_time(r.due_ms))
                .with_note(&format!("(접수일부터 {due_days}일 이내)")),
        ),
        ("접수자", Html::text(&r.filed_by)),
    ]));
    let kinds = [Kind::Existence, Kind::View, Kind::Deletion];
    let choices: Vec<(&str, bool)> = kinds.iter().map(|k| (k.korean(), *k == r.kind)).collect();
    body.push(html::table(&[
        Group {
            head: "청구인",
            rows: vec![
                Row::One("성명", Html::text(&r.requester)),
                Row::One("연락처", Html::text(&r.contact)),
                Row::One(
                    "본인 확인",
                    Html::text(&format!("{} 확인", r.identity_check))
                        .with_note("(신분증 사본 미보관)"),
                ),
            ],
        },
        Group {
            head: "청구 내용",
            rows: vec![
                Row::One("청구 구분", Html::choices(&choices)),
                Row::One("영상정보\n촬영 일시", Html::text(&window(r))),
                Row::One("영상정보\n촬영 장소", places(cfg, r)),
                Row::One(
                    "청구 목적\n및 사유\n(인상착의 등)",
                    Html::lines(&r.description),
                ),
            ],
        },
    ]));
    let mut closing = Html::default();
    closing.push(html::para(
        "declare",
        Html::text(&format!(
            "{}에 따라 위와 같이 개인영상정보의 {} 청구합니다.",
            article(r.kind),
            with_particle(r.kind.korean(), Particle::Object)
        )),
    ));
    closing.push(html::para("date", Html::text(&kst::date(r.received_ms))));
    let mut sign = Html::literal("청구인 <span class=\"who\">");
    sign.push(Html::text(&r.requester))
        .push(Html::literal("</span> (서명 또는 인)"));
    closing.push(html::para("sign", sign));
    closing.push(html::para(
        "to",
        Html::text(&format!("{} {} 귀하", cfg.site.name, terms.to)),
    ));
    body.push(html::block("closing", closing));
    body.push(html::notes(&[
        "청구인 본인임을 확인할 수 있는 신분증을 제시하여 주십시오. 확인한 신분증의 종류만 적으며, 사본은 보관하지 않습니다.".into(),
        "청구할 수 있는 개인영상정보는 청구인 자신이 촬영된 개인영상정보 및 명백히 정보주체의 급박한 생명·신체·재산의 이익을 위하여 필요한 개인영상정보에 한정됩니다.".into(),
        "다른 사람이 함께 촬영된 경우 그 사람은 알아볼 수 없도록 가림 처리합니다.".into(),
        format!("{} 처리 결과를 알려드립니다.", terms.deadline),
    ]));
    html::page(terms.form, &body)
}
