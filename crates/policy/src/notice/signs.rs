//! One 안내판 per unit with fixed cameras (the whole site when it has no facilities), with the items of PIPA
//! Art. 25(4): purpose, place and range, hours, the 관리책임자's name and contact, and the contractors that
//! serve that unit. Mobile cameras show that they film with lights, sounds or leaflets instead (Art. 25-2(3)),
//! so they get no sign. Items the policy does not state are left out, never guessed.

use super::Format;
use super::write::esc;
use crate::config::{CameraConfig, SiteConfig};
use crate::korean::units;
use crate::legal::{CameraKind, Facility, Role};

fn items_of(
    cfg: &SiteConfig,
    f: Option<&Facility>,
    cams: &[&CameraConfig],
) -> Vec<(&'static str, String)> {
    let purposes: Vec<String> = cfg
        .purposes
        .iter()
        .filter(|p| {
            cams.iter()
                .any(|c| c.purposes.is_empty() || c.purposes.contains(&p.id))
        })
        .map(|p| p.text.clone())
        .collect();
    let rows = super::location_rows(cams.iter().copied());
    let places: Vec<String> = rows
        .iter()
        .map(|(loc, n, _)| format!("{loc} ({})", units(*n)))
        .collect();
    // Locations often hold commas themselves ("강의실, 복도 등"): entries are separated by " / ".
    let ranges = super::uniq(cams.iter().filter_map(|c| c.range.clone()));
    let hours = super::uniq(cams.iter().map(|c| {
        c.recording_hours
            .clone()
            .or_else(|| f.and_then(|f| f.recording_hours.clone()))
            .unwrap_or_else(|| cfg.defaults.recording_hours.clone())
    }));
    let managers: Vec<String> = cfg
        .people_of(f)
        .into_iter()
        .filter(|p| p.role == Role::Manager)
        .map(|p| {
            // "센터장 장덕상", or with no published name the unit and title: "평생학습과 과장".
            // "고용관리과 과장 이승섭": the unit (unless the title names it), the title, the name if published.
            let mut who: Vec<&str> = Vec::new();
            if let Some(o) = p.org.as_deref().filter(|o| !p.title.contains(o)) {
                who.push(o);
            }
            who.push(&p.title);
            if let Some(n) = &p.name {
                who.push(n);
            }
            let who = who.join(" ");
            format!("{who} ({})", p.phone)
        })
        .collect();
    let mut items = vec![("설치 목적", purposes.join(", "))];
    if cams
        .iter()
        .all(|c| c.range.is_some() && c.range == c.location)
    {
        // Stated as one phrase by the site: one item.
        items.push(("설치 장소 및 촬영 범위", places.join(" / ")));
    } else {
        items.push(("설치 장소", places.join(" / ")));
        if !ranges.is_empty() {
            items.push(("촬영 범위", ranges.join(" / ")));
        }
    }
    items.push(("촬영 시간", hours.join(", ")));
    items.push(("관리책임자 및 연락처", managers.join(", ")));
    let contractors: Vec<String> = cfg
        .contractors_of(f)
        .into_iter()
        .map(|c| format!("{} ({})", c.name, c.phone))
        .collect();
    if !contractors.is_empty() {
        items.push(("수탁관리자 및 연락처", contractors.join(", ")));
    }
    items
}

pub fn render_signs(cfg: &SiteConfig, format: Format) -> String {
    let facilities: Vec<Option<&Facility>> = if cfg.facilities.is_empty() {
        vec![None]
    } else {
        cfg.facilities.iter().map(Some).collect()
    };
    let mut signs: Vec<(String, Vec<(&str, String)>)> = Vec::new();
    for f in facilities {
        let cams: Vec<&CameraConfig> = cfg
            .cameras
            .iter()
            .filter(|c| c.kind == CameraKind::Fixed)
            .filter(|c| f.is_none_or(|f| c.facility.as_deref() == Some(f.id.as_str())))
            .collect();
        if cams.is_empty() {
            continue;
        }
        let name = f.map_or(cfg.site.name.clone(), |f| super::unit_title(cfg, f));
        signs.push((name, items_of(cfg, f, &cams)));
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
                 body { font-family: 'Noto Sans KR', 'NanumGothic', 'Malgun Gothic', sans-serif; margin: 0; }\n\
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
