//! `garim notice`: the public 고정형 영상정보처리기기 운영·관리 방침 rendered from the same policy file the
//! service runs from, so the two cannot disagree. The document is built once as sections of paragraphs,
//! lists and tables, then written as Markdown or as print-ready (A4) and phone-readable HTML.

use crate::config::{CameraConfig, SiteConfig};
use crate::legal::{Facility, Person, Role};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Html,
}

enum Block {
    Para(String),
    List(Vec<String>),
    Table(Vec<&'static str>, Vec<Vec<String>>),
}

struct Section {
    title: String,
    blocks: Vec<Block>,
}

/// Everything garim enforces by construction, stated as the notice's 안전성 확보조치.
const SAFETY_MEASURES: [&str; 5] = [
    "모든 영상은 외부(영상녹화장치·네트워크)로 나가기 전에 사람·얼굴을 자동으로 가림 처리(마스킹)하며, 탐지가 지연되거나 실패하면 화면 전체를 가립니다.",
    "고정 가림 영역(프라이버시 마스크)은 설정 파일에 정의되어 모든 출력에 적용됩니다.",
    "음성은 수집·녹음하지 않습니다(개인정보 보호법 제25조 제5항).",
    "카메라 접속 정보(아이디·비밀번호)는 설정 파일에 기록하지 않고 별도 비밀 저장소에 보관하며, 기록·오류 메시지에 노출하지 않습니다.",
    "녹화 파일은 완결된 뒤에만 저장 위치로 옮겨 기록 중 장애가 나도 손상되지 않게 관리합니다.",
];

impl SiteConfig {
    /// Cameras of `facility` (None: the whole site), enabled or not — the notice counts what is installed.
    fn cameras_of<'a>(
        &'a self,
        facility: Option<&'a str>,
    ) -> impl Iterator<Item = &'a CameraConfig> {
        self.cameras
            .iter()
            .filter(move |c| facility.is_none() || c.facility.as_deref() == facility)
    }

    fn people_of(&self, f: Option<&Facility>) -> Vec<&Person> {
        match f {
            Some(f) if !f.people.is_empty() => self
                .people
                .iter()
                .filter(|p| f.people.contains(&p.id))
                .collect(),
            _ => self.people.iter().collect(),
        }
    }
}

fn days(mut v: Vec<u32>) -> String {
    v.sort_unstable();
    v.dedup();
    v.iter()
        .map(|d| format!("촬영일로부터 {d}일"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Groups cameras by location: ("강의실, 복도 (19대)", ranges).
fn location_rows<'a>(cams: impl Iterator<Item = &'a CameraConfig>) -> Vec<(String, usize, String)> {
    let mut by_loc: BTreeMap<String, (usize, Vec<String>)> = BTreeMap::new();
    for c in cams {
        let e = by_loc
            .entry(c.location.clone().unwrap_or_else(|| "(위치 미기재)".into()))
            .or_default();
        e.0 += 1;
        if let Some(r) = &c.range {
            if !e.1.contains(r) {
                e.1.push(r.clone());
            }
        }
    }
    by_loc
        .into_iter()
        .map(|(loc, (n, ranges))| (loc, n, ranges.join(", ")))
        .collect()
}

fn build(cfg: &SiteConfig, facility: Option<&str>) -> Result<(String, Vec<Section>), String> {
    let fac = match facility {
        Some(id) => Some(
            cfg.facilities
                .iter()
                .find(|f| f.id == id)
                .ok_or_else(|| format!("facility {id:?} is not declared in [[facilities]]"))?,
        ),
        None => None,
    };
    let body = match fac {
        Some(f) => format!("{} {}", cfg.site.name, f.name),
        None => cfg.site.name.clone(),
    };
    let facilities: Vec<Option<&Facility>> = match fac {
        Some(f) => vec![Some(f)],
        None if cfg.facilities.is_empty() => vec![None],
        None => cfg.facilities.iter().map(Some).collect(),
    };
    let fac_name = |f: Option<&Facility>| f.map_or(cfg.site.name.clone(), |f| f.name.clone());
    let mut sections = Vec::new();

    // 1. purposes
    let mut purposes: Vec<String> = Vec::new();
    for p in &cfg.purposes {
        let used = cfg
            .cameras_of(facility)
            .any(|c| c.purposes.is_empty() || c.purposes.contains(&p.id));
        if used {
            let (item, wording) = p.ground.article();
            purposes.push(format!(
                "{} (개인정보 보호법 제25조 제1항 {item}: {wording})",
                p.text
            ));
        }
    }
    sections.push(Section {
        title: "고정형 영상정보처리기기의 설치 근거 및 설치 목적".into(),
        blocks: vec![
            Block::Para("본 기관은 개인정보 보호법 제25조 제1항에 따라 다음과 같은 목적으로 고정형 영상정보처리기기를 설치·운영합니다.".into()),
            Block::List(purposes),
        ],
    });

    // 2. counts, locations, ranges
    let mut rows = Vec::new();
    for f in &facilities {
        let cams: Vec<&CameraConfig> = cfg.cameras_of(f.map(|f| f.id.as_str())).collect();
        for (i, (loc, n, range)) in location_rows(cams.iter().copied()).into_iter().enumerate() {
            let head = if i == 0 {
                format!("{} ({}대)", fac_name(*f), cams.len())
            } else {
                String::new()
            };
            rows.push(vec![head, format!("{loc} ({n}대)"), range]);
        }
    }
    let total = cfg.cameras_of(facility).count();
    sections.push(Section {
        title: "설치 대수, 설치 위치 및 촬영범위".into(),
        blocks: vec![
            Block::Para(format!("총 {total}대")),
            Block::Table(vec!["설치 대수", "설치 위치", "촬영범위"], rows),
        ],
    });

    // 3. people (per facility when the site has several, managers first)
    let several = facilities.len() > 1;
    let mut rows = Vec::new();
    for f in &facilities {
        let mut people = cfg.people_of(*f);
        people.sort_by_key(|p| p.role != Role::Manager);
        for p in people {
            let mut row = vec![
                p.role.korean().to_string(),
                p.name.clone().unwrap_or_else(|| "-".into()),
                p.title.clone(),
                p.org.clone().unwrap_or_else(|| "-".into()),
                p.phone.clone(),
            ];
            if several {
                row.insert(0, fac_name(*f));
            }
            rows.push(row);
        }
    }
    let mut head = vec!["구분", "이름", "직위", "소속", "전화번호"];
    if several {
        head.insert(0, "시설");
    }
    sections.push(Section {
        title: "관리책임자 및 접근권한자".into(),
        blocks: vec![
            Block::Para("귀하의 영상정보를 보호하고 개인영상정보와 관련한 민원을 처리하기 위하여 아래와 같이 개인영상정보 관리책임자를 두고 있습니다.".into()),
            Block::Table(head, rows),
        ],
    });

    // 4. hours, retention, place, method
    let mut rows = Vec::new();
    for f in &facilities {
        let cams: Vec<&CameraConfig> = cfg.cameras_of(f.map(|f| f.id.as_str())).collect();
        let mut hours: Vec<String> = cams
            .iter()
            .map(|c| {
                c.recording_hours
                    .clone()
                    .or_else(|| f.and_then(|f| f.recording_hours.clone()))
                    .unwrap_or_else(|| cfg.defaults.recording_hours.clone())
            })
            .collect();
        hours.sort();
        hours.dedup();
        let place = f
            .and_then(|f| f.storage_place.clone())
            .or_else(|| cfg.storage.place.clone())
            .unwrap_or_else(|| "-".into());
        rows.push(vec![
            fac_name(*f),
            hours.join(", "),
            days(cams.iter().map(|c| cfg.retention_days(c)).collect()),
            place,
        ]);
    }
    sections.push(Section {
        title: "영상정보의 촬영시간, 보관기간, 보관장소 및 처리방법".into(),
        blocks: vec![
            Block::Table(vec!["시설", "촬영시간", "보관기간", "보관장소"], rows),
            Block::Para("처리방법: 개인영상정보의 목적 외 이용, 제3자 제공, 파기, 열람 등 요구에 관한 사항을 기록·관리하고, 보관기간 만료 시 복원이 불가능한 방법으로 영구 삭제(출력물의 경우 파쇄 또는 소각)합니다.".into()),
        ],
    });

    // 5. contractors
    let mut rows = Vec::new();
    for f in &facilities {
        let list: Vec<_> = match f {
            Some(f) if !f.contractors.is_empty() => cfg
                .contractors
                .iter()
                .filter(|c| f.contractors.contains(&c.id))
                .collect(),
            _ => cfg.contractors.iter().collect(),
        };
        for c in list {
            let mut row = vec![
                c.name.clone(),
                c.contact.clone().unwrap_or_else(|| "-".into()),
                c.phone.clone(),
                c.scope.clone(),
            ];
            if several {
                row.insert(0, fac_name(*f));
            }
            rows.push(row);
        }
    }
    let mut head = vec!["수탁업체", "담당자", "전화번호", "위탁 업무"];
    if several {
        head.insert(0, "시설");
    }
    let blocks = if rows.is_empty() {
        vec![Block::Para(
            "본 기관은 고정형 영상정보처리기기의 설치 및 관리 업무를 위탁하지 않습니다.".into(),
        )]
    } else {
        vec![
            Block::Para("본 기관은 아래와 같이 고정형 영상정보처리기기 설치 및 관리 등을 위탁하고 있으며, 관계 법령에 따라 위탁계약 시 영상정보가 안전하게 관리될 수 있도록 필요한 사항을 규정하고 있습니다.".into()),
            Block::Table(head, rows),
        ]
    };
    sections.push(Section {
        title: "고정형 영상정보처리기기 설치 및 관리 등의 위탁에 관한 사항".into(),
        blocks,
    });

    // 6. viewing
    let places: Vec<String> = facilities
        .iter()
        .map(|f| {
            f.and_then(|f| f.viewing_place.clone())
                .unwrap_or_else(|| cfg.viewing.place.clone())
        })
        .collect();
    let mut uniq = places.clone();
    uniq.dedup();
    sections.push(Section {
        title: "개인영상정보의 확인 방법 및 장소에 관한 사항".into(),
        blocks: vec![Block::List(vec![
            format!("확인 방법: {}", cfg.viewing.method),
            format!("확인 장소: {}", uniq.join(", ")),
        ])],
    });

    // 7. data subjects' requests
    sections.push(Section {
        title: "정보주체의 개인영상정보 열람 등 요구에 대한 조치".into(),
        blocks: vec![
            Block::Para("귀하는 개인영상정보에 관하여 열람 또는 존재확인·삭제를 원하는 경우 언제든지 영상정보 관리책임자에게 요구하실 수 있습니다. 단, 귀하가 촬영된 개인영상정보 및 명백히 정보주체의 급박한 생명, 신체, 재산의 이익을 위하여 필요한 개인영상정보에 한정됩니다.".into()),
            Block::Para("본 기관은 열람 등 요구를 받은 날부터 10일 이내에 필요한 조치를 하고 그 결과를 알려드리며, 요구를 거절하는 경우 그 사유를 알려드립니다.".into()),
        ],
    });

    // 8. safety
    sections.push(Section {
        title: "개인영상정보의 안전성 확보조치".into(),
        blocks: vec![Block::List(
            SAFETY_MEASURES.iter().map(|s| s.to_string()).collect(),
        )],
    });

    // 9. changes
    let mut blocks = Vec::new();
    let announced = cfg
        .notice
        .announced_at
        .clone()
        .unwrap_or_else(|| "본 기관 홈페이지".into());
    match &cfg.notice.effective_date {
        Some(d) => blocks.push(Block::Para(format!(
            "이 고정형 영상정보처리기기 운영·관리 방침은 {}부터 시행하며, 추가, 삭제, 수정 등의 변동사항이 있을 경우 {announced}를 통해 공지하겠습니다.",
            korean_date(d)
        ))),
        None => blocks.push(Block::Para(format!(
            "이 방침의 추가, 삭제, 수정 등의 변동사항이 있을 경우 {announced}를 통해 공지하겠습니다."
        ))),
    }
    if !cfg.notice.revisions.is_empty() {
        blocks.push(Block::Table(
            vec!["이전 방침 시행일", "변경 내용"],
            cfg.notice
                .revisions
                .iter()
                .map(|r| vec![korean_date(&r.date), r.summary.clone()])
                .collect(),
        ));
    }
    sections.push(Section {
        title: "고정형 영상정보처리기기 운영·관리 방침 변경에 관한 사항".into(),
        blocks,
    });
    Ok((body, sections))
}

/// "2025-12-31" → "2025년 12월 31일" (other text unchanged).
fn korean_date(d: &str) -> String {
    let parts: Vec<&str> = d.split('-').collect();
    match parts.as_slice() {
        [y, m, dd]
            if [y, m, dd]
                .iter()
                .all(|p| p.chars().all(|c| c.is_ascii_digit())) =>
        {
            format!(
                "{y}년 {}월 {}일",
                m.trim_start_matches('0'),
                dd.trim_start_matches('0')
            )
        }
        _ => d.to_string(),
    }
}

const TITLE: &str = "고정형 영상정보처리기기 운영·관리 방침";

fn intro(body: &str) -> String {
    format!(
        "{body}(이하 \"본 기관\"이라 함)는 고정형 영상정보처리기기 운영·관리 방침을 통해 본 기관에서 처리하는 영상정보가 어떠한 용도와 방식으로 이용·관리되고 있는지 알려드립니다."
    )
}

/// Renders the notice for the whole site, or for one facility.
pub fn render(cfg: &SiteConfig, format: Format, facility: Option<&str>) -> Result<String, String> {
    let (body, sections) = build(cfg, facility)?;
    Ok(match format {
        Format::Markdown => markdown(&body, &sections),
        Format::Html => html(&body, &sections),
    })
}

fn markdown(body: &str, sections: &[Section]) -> String {
    let cell = |s: &str| s.replace('|', "\\|");
    let mut out = format!("# {TITLE}\n\n{}\n\n", intro(body));
    for (i, s) in sections.iter().enumerate() {
        out.push_str(&format!("## {}. {}\n\n", i + 1, s.title));
        for b in &s.blocks {
            match b {
                Block::Para(p) => out.push_str(&format!("{p}\n\n")),
                Block::List(items) => {
                    for it in items {
                        out.push_str(&format!("- {it}\n"));
                    }
                    out.push('\n');
                }
                Block::Table(head, rows) => {
                    out.push_str(&format!("| {} |\n", head.join(" | ")));
                    out.push_str(&format!("|{}\n", "---|".repeat(head.len())));
                    for r in rows {
                        let cells: Vec<String> = r.iter().map(|c| cell(c)).collect();
                        out.push_str(&format!("| {} |\n", cells.join(" | ")));
                    }
                    out.push('\n');
                }
            }
        }
    }
    out
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn html(body: &str, sections: &[Section]) -> String {
    let mut out = format!(
        "<!doctype html>\n<html lang=\"ko\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n\
         <style>\n\
         @page {{ size: A4; margin: 18mm 16mm; }}\n\
         body {{ font-family: 'Noto Sans KR', 'Malgun Gothic', sans-serif; line-height: 1.6; max-width: 46em; margin: 0 auto; padding: 1em; color: #111; }}\n\
         h1 {{ font-size: 1.4em; text-align: center; border-bottom: 2px solid #111; padding-bottom: .4em; }}\n\
         h2 {{ font-size: 1.1em; margin-top: 1.4em; break-after: avoid; }}\n\
         table {{ border-collapse: collapse; width: 100%; margin: .5em 0; break-inside: avoid; }}\n\
         th, td {{ border: 1px solid #555; padding: .3em .5em; text-align: left; vertical-align: top; }}\n\
         th {{ background: #eee; }}\n\
         .scroll {{ overflow-x: auto; }}\n\
         @media print {{ body {{ padding: 0; font-size: 10.5pt; }} }}\n\
         </style>\n</head>\n<body>\n<h1>{}</h1>\n<p>{}</p>\n",
        esc(TITLE),
        esc(TITLE),
        esc(&intro(body))
    );
    for (i, s) in sections.iter().enumerate() {
        out.push_str(&format!("<h2>{}. {}</h2>\n", i + 1, esc(&s.title)));
        for b in &s.blocks {
            match b {
                Block::Para(p) => out.push_str(&format!("<p>{}</p>\n", esc(p))),
                Block::List(items) => {
                    out.push_str("<ul>\n");
                    for it in items {
                        out.push_str(&format!("<li>{}</li>\n", esc(it)));
                    }
                    out.push_str("</ul>\n");
                }
                Block::Table(head, rows) => {
                    out.push_str("<div class=\"scroll\"><table>\n<tr>");
                    for h in head {
                        out.push_str(&format!("<th>{}</th>", esc(h)));
                    }
                    out.push_str("</tr>\n");
                    for r in rows {
                        out.push_str("<tr>");
                        for c in r {
                            out.push_str(&format!("<td>{}</td>", esc(c)));
                        }
                        out.push_str("</tr>\n");
                    }
                    out.push_str("</table></div>\n");
                }
            }
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

/// One 안내판 per facility (the whole site when it has none) with the items of PIPA Art. 25(4): purpose and
/// place, range and hours, the 관리책임자's name and contact, and the contractor when there is one.
pub fn render_signs(cfg: &SiteConfig, format: Format) -> String {
    let facilities: Vec<Option<&Facility>> = if cfg.facilities.is_empty() {
        vec![None]
    } else {
        cfg.facilities.iter().map(Some).collect()
    };
    let mut signs: Vec<(String, Vec<(&str, String)>)> = Vec::new();
    for f in facilities {
        let fid = f.map(|f| f.id.as_str());
        let cams: Vec<&CameraConfig> = cfg.cameras_of(fid).collect();
        if cams.is_empty() {
            continue;
        }
        let name = f.map_or(cfg.site.name.clone(), |f| {
            format!("{} {}", cfg.site.name, f.name)
        });
        let purposes: Vec<String> = cfg
            .purposes
            .iter()
            .filter(|p| {
                cams.iter()
                    .any(|c| c.purposes.is_empty() || c.purposes.contains(&p.id))
            })
            .map(|p| p.text.clone())
            .collect();
        let places: Vec<String> = location_rows(cams.iter().copied())
            .into_iter()
            .map(|(loc, n, _)| format!("{loc} ({n}대)"))
            .collect();
        let ranges: Vec<String> = location_rows(cams.iter().copied())
            .into_iter()
            .filter(|(_, _, r)| !r.is_empty())
            .map(|(_, _, r)| r)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut hours: Vec<String> = cams
            .iter()
            .filter_map(|c| {
                cfg.camera_settings(&c.id)
                    .and_then(Result::ok)
                    .map(|s| s.recording_hours)
            })
            .collect();
        hours.sort();
        hours.dedup();
        if hours.is_empty() {
            hours.push(cfg.defaults.recording_hours.clone());
        }
        let managers: Vec<String> = cfg
            .people_of(f)
            .into_iter()
            .filter(|p| p.role == Role::Manager)
            .map(|p| {
                let who = p
                    .name
                    .clone()
                    .map_or(p.title.clone(), |n| format!("{} {n}", p.title));
                format!("{who} ({})", p.phone)
            })
            .collect();
        let mut items = vec![
            ("설치 목적", purposes.join(", ")),
            ("설치 장소", places.join(", ")),
            (
                "촬영 범위",
                if ranges.is_empty() {
                    "설치 장소 주변".into()
                } else {
                    ranges.join(", ")
                },
            ),
            ("촬영 시간", hours.join(", ")),
            ("관리책임자 및 연락처", managers.join(", ")),
        ];
        let contractors: Vec<String> = match f {
            Some(f) if !f.contractors.is_empty() => cfg
                .contractors
                .iter()
                .filter(|c| f.contractors.contains(&c.id))
                .collect::<Vec<_>>(),
            _ => cfg.contractors.iter().collect(),
        }
        .into_iter()
        .map(|c| format!("{} ({})", c.name, c.phone))
        .collect();
        if !contractors.is_empty() {
            items.push(("수탁관리자 및 연락처", contractors.join(", ")));
        }
        signs.push((name, items));
    }
    match format {
        Format::Markdown => signs
            .iter()
            .map(|(name, items)| {
                let mut out = format!("# CCTV 설치 안내\n\n**{name}**\n\n");
                for (k, v) in items {
                    out.push_str(&format!("- {k}: {v}\n"));
                }
                out
            })
            .collect::<Vec<_>>()
            .join("\n---\n\n"),
        Format::Html => {
            let mut out = String::from(
                "<!doctype html>\n<html lang=\"ko\">\n<head>\n<meta charset=\"utf-8\">\n\
                 <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>CCTV 설치 안내</title>\n\
                 <style>\n@page { size: A4; margin: 15mm; }\n\
                 body { font-family: 'Noto Sans KR', 'Malgun Gothic', sans-serif; margin: 0; }\n\
                 .sign { border: 4px solid #0b3d91; border-radius: 12px; padding: 1.2em 1.5em; margin: 1em auto; max-width: 40em; break-after: page; }\n\
                 .sign h1 { background: #0b3d91; color: #fff; margin: -1.2em -1.5em 1em; padding: .6em; border-radius: 8px 8px 0 0; text-align: center; font-size: 1.8em; }\n\
                 .sign h2 { text-align: center; font-size: 1.2em; }\n\
                 th { text-align: left; padding: .4em 1em .4em 0; white-space: nowrap; vertical-align: top; } td { padding: .4em 0; }\n\
                 </style>\n</head>\n<body>\n",
            );
            for (name, items) in &signs {
                out.push_str(&format!(
                    "<section class=\"sign\">\n<h1>CCTV 설치 안내</h1>\n<h2>{}</h2>\n<table>\n",
                    esc(name)
                ));
                for (k, v) in items {
                    out.push_str(&format!(
                        "<tr><th>{}</th><td>{}</td></tr>\n",
                        esc(k),
                        esc(v)
                    ));
                }
                out.push_str("</table>\n</section>\n");
            }
            out.push_str("</body>\n</html>\n");
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_in_korean() {
        assert_eq!(korean_date("2025-12-31"), "2025년 12월 31일");
        assert_eq!(korean_date("2024-01-05"), "2024년 1월 5일");
        assert_eq!(korean_date("곧"), "곧");
    }

    #[test]
    fn html_escapes_text() {
        assert_eq!(esc("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}
