//! `garim notice`: the public 고정형 영상정보처리기기 운영·관리 방침 rendered from the same policy file the
//! service runs from, so the two cannot disagree. The document is built once as sections of paragraphs,
//! lists and tables (here), then written as Markdown or HTML (`write`); the 안내판 are in `signs`.
//!
//! Nothing is invented: a fact the policy does not state is left out or shown as "-", never guessed. Where
//! the law fixes the wording (refusal reasons, deadlines) and the site states nothing, the law's is used.

mod signs;
mod write;

pub use signs::render_signs;

use crate::config::{CameraConfig, SiteConfig};
use crate::korean::{Particle, korean_date, thousands, units, with_particle};
use crate::legal::{CameraKind, Facility, NoticeSection, Purpose, RequestTerms, Role};
use vocab::{DetectClass, RecordingMode};
use write::{Block, Document, Section};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Html,
}

/// Stated when a camera in the notice has static privacy masks.
const PRIVACY_MASKS: &str = "고정 가림 영역(프라이버시 마스크)이 정해진 카메라는 그 영역을 모든 실시간 영상과 녹화에서 가립니다.";

/// What garim enforces by construction, stated after the site's own 안전성 확보조치 (the masking itself is
/// stated in its own section).
const SAFETY_MEASURES: [&str; 4] = [
    "음성은 수집·녹음하지 않습니다(개인정보 보호법 제25조 제5항).",
    "녹화 영상은 암호화하여 저장하고, 보관기간이 끝나면 복원할 수 없도록 암호 키와 함께 파기합니다.",
    "영상의 이용·제공·열람·파기와 설정 변경은 이름이 등록된 사용자만 권한에 따라 할 수 있고, 모두 위·변조를 확인할 수 있는 관리대장에 기록됩니다.",
    "카메라 접속 정보(아이디·비밀번호)는 운영 설정 파일에 기록하지 않고 별도로 보관하며, 로그·오류 메시지에 노출하지 않습니다.",
];

const TITLE: &str = "고정형 영상정보처리기기 운영·관리 방침";

/// Korean names of the classes, in the order notices list them.
fn class_names(classes: &[DetectClass]) -> String {
    DetectClass::ALL
        .iter()
        .filter(|c| classes.contains(c))
        .map(|c| match c {
            DetectClass::Person => "사람",
            DetectClass::Face => "얼굴",
            DetectClass::Plate => "차량번호판",
            DetectClass::Vehicle => "차량",
        })
        .collect::<Vec<_>>()
        .join("·")
}

/// Locations in the order the policy gives them, with their camera counts and the ranges stated for them.
fn location_rows<'a>(cams: impl Iterator<Item = &'a CameraConfig>) -> Vec<(String, usize, String)> {
    let mut rows: Vec<(String, usize, Vec<String>)> = Vec::new();
    for c in cams {
        let loc = c.location.clone().unwrap_or_else(|| "-".into());
        let i = match rows.iter().position(|r| r.0 == loc) {
            Some(i) => i,
            None => {
                rows.push((loc, 0, Vec::new()));
                rows.len() - 1
            }
        };
        rows[i].1 += 1;
        if let Some(r) = &c.range {
            if !rows[i].2.contains(r) {
                rows[i].2.push(r.clone());
            }
        }
    }
    rows.into_iter()
        .map(|(loc, n, ranges)| {
            let ranges = if ranges.is_empty() {
                "-".into()
            } else {
                ranges.join(", ")
            };
            (loc, n, ranges)
        })
        .collect()
}

/// Distinct values in first-seen order.
fn uniq(items: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for it in items {
        if !out.contains(&it) {
            out.push(it);
        }
    }
    out
}

/// "시설안전 및 화재 예방 (개인정보 보호법 제25조 제1항 제3호: …)"; the law's wording is not repeated when the
/// purpose already says it.
fn purpose_line(p: &Purpose) -> String {
    let (item, wording) = p.ground.article();
    let squash = |s: &str| s.split_whitespace().collect::<String>();
    if squash(&p.text).contains(&squash(wording)) {
        format!("{} (개인정보 보호법 제25조 제1항 {item})", p.text)
    } else {
        format!(
            "{} (개인정보 보호법 제25조 제1항 {item}: {wording})",
            p.text
        )
    }
}

/// The notice's view of a site or of one unit (and the units under it).
struct Scope<'a> {
    cfg: &'a SiteConfig,
    /// Units with cameras, in the order declared (one entry `None` for a site without facilities).
    units: Vec<Option<&'a Facility>>,
    cameras: Vec<&'a CameraConfig>,
    /// The notice of one unit (its purposes are those its cameras serve), not the whole site's.
    unit_only: bool,
}

impl<'a> Scope<'a> {
    fn new(cfg: &'a SiteConfig, facility: Option<&'a Facility>) -> Scope<'a> {
        let within = |f: &Facility| match facility {
            None => true,
            Some(top) => {
                let mut at = Some(f);
                let mut steps = 0;
                while let Some(x) = at {
                    if x.id == top.id {
                        return true;
                    }
                    steps += 1;
                    if steps > cfg.facilities.len() {
                        break;
                    }
                    at = x.parent.as_deref().and_then(|p| cfg.facility(p));
                }
                false
            }
        };
        let units: Vec<Option<&Facility>> = if cfg.facilities.is_empty() {
            vec![None]
        } else {
            cfg.facilities
                .iter()
                .filter(|f| {
                    within(f)
                        && cfg
                            .cameras
                            .iter()
                            .any(|c| c.facility.as_deref() == Some(&f.id))
                })
                .map(Some)
                .collect()
        };
        let cameras = cfg
            .cameras
            .iter()
            .filter(|c| match facility {
                None => true,
                Some(_) => cfg.facility_of(c).is_some_and(within),
            })
            .collect();
        Scope {
            cfg,
            units,
            cameras,
            unit_only: facility.is_some(),
        }
    }

    fn cameras_of(&self, unit: Option<&Facility>) -> Vec<&'a CameraConfig> {
        self.cameras
            .iter()
            .copied()
            .filter(|c| unit.is_none_or(|f| c.facility.as_deref() == Some(f.id.as_str())))
            .collect()
    }

    fn several(&self) -> bool {
        self.units.len() > 1
    }

    /// Whether `list` differs between units (else one table without the unit column says it once).
    fn differs<T: PartialEq>(&self, list: impl Fn(Option<&Facility>) -> T) -> bool {
        let first = self.units.first().map(|u| list(*u));
        self.units.iter().any(|u| Some(list(*u)) != first)
    }

    /// The units a people or contractor table is drawn for: every unit (with a unit column) when their lists
    /// (`ids`) differ, else the first alone, so a list shared by every unit is printed once.
    fn tables_by_unit(
        &self,
        ids: impl Fn(Option<&Facility>) -> Vec<String>,
    ) -> (bool, Vec<Option<&'a Facility>>) {
        if self.several() && self.differs(ids) {
            (true, self.units.clone())
        } else {
            (false, self.units.iter().take(1).copied().collect())
        }
    }

    fn unit_name(&self, unit: Option<&Facility>) -> String {
        unit.map_or_else(|| self.cfg.site.name.clone(), |f| self.cfg.unit_name(f))
    }

    /// The site's sentences for `section`: the site-wide ones, and those of the units in this notice (named
    /// when the notice covers several units).
    fn proviso_texts(&self, section: NoticeSection) -> Vec<String> {
        self.cfg
            .notice
            .provisos
            .iter()
            .filter(|p| p.section == section)
            .filter_map(|p| match &p.facility {
                None => Some(format!("※ {}", p.text)),
                Some(id) => {
                    let unit = self.units.iter().flatten().find(|f| &f.id == id)?;
                    Some(if self.several() {
                        format!("※ {}: {}", self.cfg.unit_name(unit), p.text)
                    } else {
                        format!("※ {}", p.text)
                    })
                }
            })
            .collect()
    }

    fn provisos(&self, section: NoticeSection) -> Vec<Block> {
        self.proviso_texts(section)
            .into_iter()
            .map(Block::Para)
            .collect()
    }
}

fn section(title: &str, mut blocks: Vec<Block>, scope: &Scope, at: NoticeSection) -> Section {
    blocks.extend(scope.provisos(at));
    Section {
        title: title.into(),
        blocks,
    }
}

fn purposes_section(s: &Scope) -> Section {
    // Every declared purpose is published: the site declared it, so the public is told (check warns about a
    // purpose no camera lists).
    let listed: Vec<String> = s
        .cfg
        .purposes
        .iter()
        .filter(|p| {
            !s.unit_only
                || s.cameras
                    .iter()
                    .any(|c| c.purposes.is_empty() || c.purposes.contains(&p.id))
        })
        .map(purpose_line)
        .collect();
    let mut blocks = vec![
        Block::Para("본 기관은 개인정보 보호법 제25조 제1항에 따라 다음과 같은 목적으로 고정형 영상정보처리기기를 설치·운영합니다.".into()),
        Block::List(listed),
    ];
    if s.cameras.iter().any(|c| c.kind == CameraKind::Mobile) {
        blocks.push(Block::Para(
            "이동형 영상정보처리기기는 개인정보 보호법 제25조의2에 따라 위 목적으로 운영합니다."
                .into(),
        ));
    }
    section(
        "고정형 영상정보처리기기의 설치 근거 및 설치 목적",
        blocks,
        s,
        NoticeSection::Purposes,
    )
}

fn cameras_section(s: &Scope) -> Section {
    let cfg = s.cfg;
    let fixed: Vec<&CameraConfig> = s
        .cameras
        .iter()
        .copied()
        .filter(|c| c.kind == CameraKind::Fixed)
        .collect();
    let mobile: Vec<&CameraConfig> = s
        .cameras
        .iter()
        .copied()
        .filter(|c| c.kind == CameraKind::Mobile)
        .collect();
    let mut total = format!("총 {}", units(s.cameras.len()));
    if !mobile.is_empty() {
        total.push_str(&format!(
            " (고정형 {}, 이동형 {})",
            units(fixed.len()),
            units(mobile.len())
        ));
    }
    // Large sites: the count per organisation level (국).
    if cfg.facilities.iter().any(|f| f.parent.is_some()) && s.several() {
        let tops = uniq(s.units.iter().flatten().map(|f| cfg.top_unit(f).id.clone()));
        let parts: Vec<String> = tops
            .iter()
            .filter_map(|id| cfg.facility(id))
            .map(|top| {
                let n = s
                    .cameras
                    .iter()
                    .filter(|c| {
                        cfg.facility_of(c)
                            .is_some_and(|f| cfg.top_unit(f).id == top.id)
                    })
                    .count();
                format!("{} {}", top.name, units(n))
            })
            .collect();
        total.push_str(&format!(": {}", parts.join(", ")));
    }
    let mut blocks = vec![Block::Para(total)];
    let table = |cams: &[&CameraConfig], place_head: &'static str, merged_head: &'static str| {
        // A site that states place and range in one phrase (as many notices do) gets one column for both.
        let merged = cams
            .iter()
            .all(|c| c.range.is_some() && c.range == c.location);
        let mut rows = Vec::new();
        for u in &s.units {
            let mine: Vec<&CameraConfig> = cams
                .iter()
                .copied()
                .filter(|c| u.is_none_or(|f| c.facility.as_deref() == Some(f.id.as_str())))
                .collect();
            for (i, (loc, n, range)) in location_rows(mine.iter().copied()).into_iter().enumerate()
            {
                let mut row = vec![units(n), loc];
                if !merged {
                    row.push(range);
                }
                if s.several() {
                    row.insert(
                        0,
                        if i == 0 {
                            format!("{} ({})", s.unit_name(*u), units(mine.len()))
                        } else {
                            String::new()
                        },
                    );
                }
                rows.push(row);
            }
        }
        let mut head = if merged {
            vec!["설치 대수", merged_head]
        } else {
            vec!["설치 대수", place_head, "촬영범위"]
        };
        if s.several() {
            head.insert(0, "부서·시설");
        }
        Block::Table(head, rows)
    };
    if !fixed.is_empty() {
        blocks.push(table(&fixed, "설치 위치", "설치 위치 및 촬영범위"));
    }
    if !mobile.is_empty() {
        blocks.push(Block::Para(
            "이동형 영상정보처리기기 (차량 탑재·휴대형)".into(),
        ));
        blocks.push(table(
            &mobile,
            "운영 지역·장소",
            "운영 지역·장소 및 촬영범위",
        ));
        blocks.push(Block::Para("이동형 영상정보처리기기로 사람 또는 그 사람과 관련된 사물을 촬영할 때에는 불빛, 소리, 안내판, 안내서면, 안내방송 등으로 촬영 사실을 표시합니다(개인정보 보호법 제25조의2 제3항).".into()));
    }
    section(
        "설치 대수, 설치 위치 및 촬영범위",
        blocks,
        s,
        NoticeSection::Cameras,
    )
}

fn people_section(s: &Scope) -> Section {
    let (per_unit, shown) =
        s.tables_by_unit(|u| s.cfg.people_of(u).iter().map(|x| x.id.clone()).collect());
    let named = shown
        .iter()
        .flat_map(|u| s.cfg.people_of(*u))
        .any(|p| p.name.is_some());
    let mut rows = Vec::new();
    for u in &shown {
        let mut people = s.cfg.people_of(*u);
        people.sort_by_key(|p| p.role != Role::Manager);
        for p in people {
            let mut row = vec![p.role.korean().to_string()];
            if named {
                row.push(p.name.clone().unwrap_or_else(|| "-".into()));
            }
            row.extend([
                p.title.clone(),
                p.org.clone().unwrap_or_else(|| "-".into()),
                p.phone.clone(),
            ]);
            if per_unit {
                row.insert(0, s.unit_name(*u));
            }
            rows.push(row);
        }
    }
    let mut head = vec!["구분"];
    if named {
        head.push("이름");
    }
    head.extend(["직위", "소속", "전화번호"]);
    if per_unit {
        head.insert(0, "부서·시설");
    }
    section(
        "관리책임자 및 접근권한자",
        vec![
            Block::Para("귀하의 영상정보를 보호하고 개인영상정보와 관련한 민원을 처리하기 위하여 아래와 같이 개인영상정보 관리책임자를 두고 있습니다.".into()),
            Block::Table(head, rows),
        ],
        s,
        NoticeSection::People,
    )
}

fn retention_section(s: &Scope) -> Section {
    let cfg = s.cfg;
    let mut rows = Vec::new();
    for u in &s.units {
        let cams = s.cameras_of(*u);
        let hours = uniq(cams.iter().map(|c| {
            c.recording_hours
                .clone()
                .or_else(|| u.and_then(|f| f.recording_hours.clone()))
                .unwrap_or_else(|| cfg.defaults.recording_hours.clone())
        }));
        // Each retention with its reason (over 30 days) and, when the unit mixes several, its count.
        let mut kept: Vec<(u32, Option<String>, usize)> = Vec::new();
        for c in &cams {
            let d = cfg.retention_days(c);
            let why = (d > 30)
                .then(|| cfg.retention_reason(c).map(str::to_string))
                .flatten();
            match kept.iter_mut().find(|k| k.0 == d && k.1 == why) {
                Some(k) => k.2 += 1,
                None => kept.push((d, why, 1)),
            }
        }
        kept.sort_by_key(|k| k.0);
        let mixed = kept.len() > 1;
        let retention: Vec<String> = kept
            .iter()
            .map(|(d, why, n)| {
                let mut t = format!("촬영일로부터 {}일", thousands(*d as usize));
                if let Some(why) = why {
                    t.push_str(&format!(" (사유: {why})"));
                }
                if mixed {
                    t.push_str(&format!(" [{}]", units(*n)));
                }
                t
            })
            .collect();
        let place = u
            .and_then(|f| f.storage_place.clone())
            .or_else(|| cfg.storage.place.clone())
            .unwrap_or_else(|| "-".into());
        let mut row = vec![hours.join(", "), retention.join(", "), place];
        if s.several() {
            row.insert(0, s.unit_name(*u));
        }
        rows.push(row);
    }
    let mut head = vec!["촬영시간", "보관기간", "보관장소"];
    if s.several() {
        head.insert(0, "부서·시설");
    }
    section(
        "영상정보의 촬영시간, 보관기간, 보관장소 및 처리방법",
        vec![
            Block::Table(head, rows),
            Block::Para("처리방법: 개인영상정보의 목적 외 이용, 제3자 제공, 파기, 열람 등 요구에 관한 사항을 기록·관리하고, 보관기간 만료 시 복원이 불가능한 방법으로 영구 삭제(출력물의 경우 파쇄 또는 소각)합니다.".into()),
        ],
        s,
        NoticeSection::Retention,
    )
}

/// One group of cameras that are masked and recorded alike.
#[derive(PartialEq)]
struct MaskingGroup {
    purposes: String,
    live: Vec<DetectClass>,
    recording: RecordingMode,
    zones: bool,
}

fn masking_section(s: &Scope) -> Section {
    let cfg = s.cfg;
    let mut groups: Vec<(MaskingGroup, usize)> = Vec::new();
    for c in &s.cameras {
        let Ok((live, recording)) = cfg.masking_of(c) else {
            continue;
        };
        let g = MaskingGroup {
            purposes: cfg
                .purposes_of(c)
                .map(|p| p.text.clone())
                .collect::<Vec<_>>()
                .join(", "),
            live,
            recording,
            zones: !c.recording_zones.is_empty(),
        };
        match groups.iter_mut().find(|(x, _)| *x == g) {
            Some((_, n)) => *n += 1,
            None => groups.push((g, 1)),
        }
    }
    let shown = [DetectClass::Person, DetectClass::Face, DetectClass::Plate];
    let rows: Vec<Vec<String>> = groups
        .iter()
        .map(|(g, n)| {
            let masked = class_names(&g.live);
            let open: Vec<DetectClass> = shown.iter().copied().filter(|c| !g.live.contains(c)).collect();
            let live = match (masked.is_empty(), open.is_empty()) {
                (true, _) => "자동 가림 없음 (고정 가림 영역만 적용)".to_string(),
                (false, true) => format!("{masked} 가림"),
                (false, false) => format!(
                    "{masked} 가림 ({} 가리지 않음)",
                    with_particle(&class_names(&open), Particle::Topic)
                ),
            };
            let zones = if g.zones { ", 녹화 구역 밖은 검게 처리" } else { "" };
            let recording = match g.recording {
                RecordingMode::Masked => format!("실시간 영상과 같이 가림 처리된 영상만 녹화{zones}"),
                RecordingMode::Sealed => format!(
                    "봉인 녹화: 가림 처리 전 원본을 암호화하여 보관{zones} (사람·얼굴·차량번호판이 가려지지 않음)"
                ),
            };
            vec![g.purposes.clone(), units(*n), live, recording]
        })
        .collect();
    let mut blocks = vec![
        Block::Para("본 기관의 영상정보처리기기 영상은 영상녹화장치·네트워크 등 외부로 나가기 전에 아래와 같이 자동으로 가림 처리(마스킹)되며, 탐지가 지연되거나 실패하면 화면 전체가 가려집니다.".into()),
        Block::Table(vec!["설치 목적", "대수", "실시간 영상의 가림 처리", "녹화"], rows),
    ];
    if groups
        .iter()
        .any(|(g, _)| g.recording == RecordingMode::Sealed)
    {
        let managers = uniq(
            s.units
                .iter()
                .flat_map(|u| cfg.people_of(*u))
                .filter(|p| p.role == Role::Manager)
                .map(|p| {
                    p.name
                        .as_ref()
                        .map_or(p.title.clone(), |n| format!("{} {n}", p.title))
                }),
        );
        blocks.push(Block::Para(format!(
            "봉인 녹화는 가림 처리 전의 원본으로, 관리책임자({})가 따로 보관하는 열쇠(복호화 키)로만 열 수 있습니다. 수사기관의 요청(공문·영장), 재판, 정보주체의 열람 요구, 급박한 생명·신체·재산의 이익 등 개인정보 보호법 제18조 제2항 및 제35조가 허용하는 경우에 한하여 열며, 열 때마다 요구자와 근거를 관리대장에 기록합니다.",
            managers.join(", ")
        )));
    }
    section(
        "영상정보의 가림 처리 및 녹화 방식",
        blocks,
        s,
        NoticeSection::Masking,
    )
}

fn contractors_section(s: &Scope) -> Section {
    let (per_unit, shown) = s.tables_by_unit(|u| {
        s.cfg
            .contractors_of(u)
            .iter()
            .map(|x| x.id.clone())
            .collect()
    });
    let scoped = shown
        .iter()
        .flat_map(|u| s.cfg.contractors_of(*u))
        .any(|c| c.scope.is_some());
    let mut rows = Vec::new();
    let mut without = 0;
    for u in &shown {
        let list = s.cfg.contractors_of(*u);
        without += usize::from(list.is_empty());
        for c in list {
            let mut row = vec![
                c.name.clone(),
                c.contact.clone().unwrap_or_else(|| "-".into()),
                c.phone.clone(),
            ];
            if scoped {
                row.push(c.scope.clone().unwrap_or_else(|| "-".into()));
            }
            if per_unit {
                row.insert(0, s.unit_name(*u));
            }
            rows.push(row);
        }
    }
    let mut head = vec!["수탁업체", "담당자", "전화번호"];
    if scoped {
        head.push("위탁하는 업무의 내용");
    }
    if per_unit {
        head.insert(0, "부서·시설");
    }
    let blocks = if rows.is_empty() {
        vec![Block::Para(
            "본 기관은 고정형 영상정보처리기기의 설치 및 관리 업무를 위탁하지 않습니다.".into(),
        )]
    } else {
        let mut b = vec![
            Block::Para("본 기관은 아래와 같이 고정형 영상정보처리기기 설치 및 관리 등을 위탁하고 있으며, 관계 법령에 따라 위탁계약 시 영상정보가 안전하게 관리될 수 있도록 필요한 사항을 규정하고 있습니다.".into()),
            Block::Table(head, rows),
        ];
        if without > 0 && per_unit {
            b.push(Block::Para(format!(
                "위 표에 없는 부서·시설({}곳)은 설치 및 관리 업무를 위탁하지 않습니다.",
                thousands(without)
            )));
        }
        b
    };
    section(
        "고정형 영상정보처리기기 설치 및 관리 등의 위탁에 관한 사항",
        blocks,
        s,
        NoticeSection::Contractors,
    )
}

fn viewing_section(s: &Scope) -> Section {
    let place_of = |u: Option<&Facility>| {
        u.and_then(|f| f.viewing_place.clone())
            .unwrap_or_else(|| s.cfg.viewing.place.clone())
    };
    let places = if s.several() && s.differs(place_of) {
        s.units
            .iter()
            .map(|u| {
                let (name, place) = (s.unit_name(*u), place_of(*u));
                if place.contains(&name) {
                    place
                } else {
                    format!("{name} — {place}")
                }
            })
            .collect::<Vec<_>>()
    } else {
        uniq(s.units.iter().map(|u| place_of(*u)))
    };
    section(
        "개인영상정보의 확인 방법 및 장소에 관한 사항",
        vec![Block::List(vec![
            format!("확인 방법: {}", s.cfg.viewing.method),
            format!("확인 장소: {}", places.join(" / ")),
        ])],
        s,
        NoticeSection::Viewing,
    )
}

fn requests_section(s: &Scope) -> Section {
    let RequestTerms {
        form,
        to,
        deadline,
        method,
        refusal_reasons: reasons,
    } = s.cfg.notice.request_terms();
    section(
        "정보주체의 개인영상정보 열람 등 요구에 대한 조치",
        vec![
            Block::Para(format!(
                "귀하는 개인영상정보에 관하여 열람 또는 존재확인·삭제를 원하는 경우 언제든지 {to}에게 요구하실 수 있습니다. 단, 귀하가 촬영된 개인영상정보 및 명백히 정보주체의 급박한 생명, 신체, 재산의 이익을 위하여 필요한 개인영상정보에 한정됩니다."
            )),
            Block::Para(format!(
                "열람 등 요구는 「{form}」에 적어 {to}에게 제출하시면 됩니다. 본 기관은 {deadline} 필요한 조치를 하고 그 결과를 알려드립니다."
            )),
            Block::Para(viewing_what(s)),
            Block::Para(format!(
                "다음의 경우에는 요구를 거절할 수 있으며, 거절하는 경우 {deadline} 그 사유를 {method} 알려드립니다."
            )),
            Block::List(reasons),
        ],
        s,
        NoticeSection::Requests,
    )
}

/// What a requester is shown, as the cameras record it: a masked-only recording cannot show anyone unmasked.
fn viewing_what(s: &Scope) -> String {
    let sealed = s
        .cameras
        .iter()
        .filter(|c| matches!(s.cfg.masking_of(c), Ok((_, RecordingMode::Sealed))))
        .count();
    let others =
        "다른 사람이 함께 촬영된 경우 그 사람은 알아볼 수 없도록 가림 처리하여 보여드립니다.";
    let masked_only = "가림 처리된 영상만 녹화하는 카메라의 영상은 정보주체 본인의 모습도 가려진 상태로만 보여드릴 수 있으며, 존재확인은 촬영 일시와 장소로 답변드립니다.";
    match (sealed, s.cameras.len() - sealed) {
        (0, _) => masked_only.to_string(),
        (_, 0) => others.to_string(),
        _ => format!("봉인 녹화 영상은 {others} {masked_only}"),
    }
}

fn safety_section(s: &Scope) -> Section {
    let mut items = s.cfg.notice.safety_measures.clone();
    if s.cameras.iter().any(|c| !c.privacy_masks.is_empty()) {
        items.push(PRIVACY_MASKS.into());
    }
    items.extend(SAFETY_MEASURES.iter().map(|m| m.to_string()));
    section(
        "개인영상정보의 안전성 확보조치",
        vec![Block::List(items)],
        s,
        NoticeSection::Safety,
    )
}

fn changes_section(s: &Scope) -> Section {
    use crate::legal::RevisionKind;
    let n = &s.cfg.notice;
    let enacted = n
        .revisions
        .iter()
        .find(|r| r.kind == Some(RevisionKind::Enacted))
        .map(|r| korean_date(&r.date));
    let mut first = String::from("이 고정형 영상정보처리기기 운영·관리 방침은 ");
    match (&enacted, &n.effective_date, &n.as_of) {
        (Some(e), Some(d), _) => first.push_str(&format!(
            "{e}에 제정되었으며, {}부터 시행합니다.",
            korean_date(d)
        )),
        (None, Some(d), _) => first.push_str(&format!("{}부터 시행합니다.", korean_date(d))),
        (Some(e), None, _) => first.push_str(&format!("{e}에 제정되었습니다.")),
        (None, None, Some(d)) => {
            first.push_str(&format!("{}을 기준으로 작성되었습니다.", korean_date(d)))
        }
        (None, None, None) => first.clear(),
    }
    if let Some(at) = &n.announced_at {
        if !first.is_empty() {
            first.push(' ');
        }
        first.push_str(&format!(
            "추가, 삭제, 수정 등의 변동사항이 있을 경우 {} 통해 공지하겠습니다.",
            with_particle(at, Particle::Object)
        ));
    }
    let mut blocks = Vec::new();
    if !first.is_empty() {
        blocks.push(Block::Para(first));
    }
    // The site's own promises about changes follow the sentence they qualify.
    blocks.extend(s.provisos(NoticeSection::Changes));
    let mut facts = Vec::new();
    if let Some(d) = &n.announced_date {
        facts.push(format!("공고일자: {}", korean_date(d)));
    }
    if let (Some(d), Some(_)) = (&n.effective_date, &n.announced_date) {
        // Beside the 공고일자, as notices pair them; alone it would repeat the sentence above.
        facts.push(format!("시행일자: {}", korean_date(d)));
    }
    if !n.published_by.is_empty() {
        facts.push(format!("공개방법: {}", n.published_by.join(", ")));
    }
    if let Some(u) = &n.previous_url {
        facts.push(format!("이전 방침: {u}"));
    }
    if !facts.is_empty() {
        blocks.push(Block::List(facts));
    }
    if !n.revisions.is_empty() {
        let kinds = n.revisions.iter().any(|r| r.kind.is_some());
        let urls = n.revisions.iter().any(|r| r.url.is_some());
        let published = n.revisions.iter().any(|r| r.published_by.is_some());
        let mut head = vec!["일자"];
        if kinds {
            head.push("구분");
        }
        head.push("내용");
        if published {
            head.push("공개방법");
        }
        if urls {
            head.push("보기");
        }
        let rows = n
            .revisions
            .iter()
            .map(|r| {
                let mut row = vec![korean_date(&r.date)];
                if kinds {
                    row.push(r.kind.map_or("-", |k| k.korean()).to_string());
                }
                row.push(if r.summary.is_empty() {
                    "-".into()
                } else {
                    r.summary.clone()
                });
                if published {
                    row.push(r.published_by.clone().unwrap_or_else(|| "-".into()));
                }
                if urls {
                    row.push(r.url.clone().unwrap_or_else(|| "-".into()));
                }
                row
            })
            .collect();
        blocks.push(Block::Table(head, rows));
    }
    Section {
        title: "고정형 영상정보처리기기 운영·관리 방침 변경에 관한 사항".into(),
        blocks,
    }
}

fn build(cfg: &SiteConfig, facility: Option<&str>) -> Result<Document, String> {
    let fac = match facility {
        Some(id) => Some(
            cfg.facility(id)
                .ok_or_else(|| format!("facility {id:?} is not declared in [[facilities]]"))?,
        ),
        None => None,
    };
    let scope = Scope::new(cfg, fac);
    let body = match fac {
        Some(f) => unit_title(cfg, f),
        None => cfg.site.name.clone(),
    };
    let topic = with_particle(&body, Particle::Topic)[body.len()..].to_string();
    // "기관(…포함)" + "(이하 …)" → "기관(…포함, 이하 …)", as notices write it.
    let named = match body.strip_suffix(')') {
        Some(open) => format!("{open}, 이하 \"본 기관\"이라 함){topic}"),
        None => format!("{body}(이하 \"본 기관\"이라 함){topic}"),
    };
    let mut intro = vec![format!(
        "{named} 고정형 영상정보처리기기 운영·관리 방침을 통해 본 기관에서 처리하는 영상정보가 어떠한 용도와 방식으로 이용·관리되고 있는지 알려드립니다."
    )];
    if let Some(op) = &cfg.site.operator {
        intro.push(format!("운영 부서: {op}"));
    }
    intro.extend(scope.proviso_texts(NoticeSection::Intro));
    let sections = vec![
        purposes_section(&scope),
        cameras_section(&scope),
        people_section(&scope),
        retention_section(&scope),
        masking_section(&scope),
        contractors_section(&scope),
        viewing_section(&scope),
        requests_section(&scope),
        safety_section(&scope),
        changes_section(&scope),
    ];
    Ok(Document {
        title: TITLE.into(),
        intro,
        sections,
    })
}

/// The name a unit's own notice and sign go by: "{site} {unit}", or the unit's name alone when the site's
/// name already holds it ("중부지방고용노동청(인천고용복지+센터 포함)" and its unit "인천고용복지+센터").
pub(crate) fn unit_title(cfg: &SiteConfig, f: &Facility) -> String {
    if cfg.site.name.contains(&f.name) {
        f.name.clone()
    } else {
        format!("{} {}", cfg.site.name, cfg.unit_name(f))
    }
}

/// Renders the notice for the whole site, or for one unit (with the units under it).
pub fn render(cfg: &SiteConfig, format: Format, facility: Option<&str>) -> Result<String, String> {
    let doc = build(cfg, facility)?;
    Ok(match format {
        Format::Markdown => write::markdown(&doc),
        Format::Html => write::html(&doc),
    })
}
