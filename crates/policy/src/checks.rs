//! The legal half of `garim check`: what PIPA Art. 25 and the notice need from a policy (every unit with
//! cameras has its 관리책임자, dates that exist, declared ids, sealed recording only with its key), the
//! warnings for choices that are lawful but leave people exposed, and the grouping that keeps a 2,000-camera
//! site's report readable (one line per cause, with the number of cameras it touches).

use crate::config::{CameraConfig, ConfigError, SiteConfig, check_common, err};
use crate::korean::{Date, thousands};
use crate::legal::{CameraKind, RESTRICTED_AREA_WORDS, Role, SENSITIVE_WORDS};
use std::collections::{HashMap, HashSet};
use vocab::DetectClass;

fn check_recording_word(path: String, value: Option<&String>, errors: &mut Vec<ConfigError>) {
    if let Some(v) = value {
        if v.parse::<vocab::RecordingMode>().is_err() {
            errors.push(err(
                path,
                v,
                "unknown recording mode; valid modes: masked, sealed",
            ));
        }
    }
}

fn check_date(path: String, value: Option<&String>, errors: &mut Vec<ConfigError>) {
    if let Some(v) = value {
        if let Err(e) = Date::parse(v) {
            errors.push(err(path, v, e));
        }
    }
}

impl SiteConfig {
    pub(crate) fn validate_legal(&self, errors: &mut Vec<ConfigError>) {
        if !self.people.iter().any(|p| p.role == Role::Manager) {
            errors.push(err(
                "people",
                "",
                "no 관리책임자: declare a person with role = \"manager\" (PIPA Art. 25(7), Decree Art. 25)",
            ));
        }
        if self.defaults.retention_days == 0 {
            errors.push(err(
                "defaults.retention_days",
                "0",
                "retention of 0 days keeps nothing; use at least 1",
            ));
        }
        check_recording_word(
            "defaults.recording".into(),
            self.defaults.recording.as_ref(),
            errors,
        );
        let n = &self.notice;
        check_date(
            "notice.effective_date".into(),
            n.effective_date.as_ref(),
            errors,
        );
        check_date(
            "notice.announced_date".into(),
            n.announced_date.as_ref(),
            errors,
        );
        check_date("notice.as_of".into(), n.as_of.as_ref(), errors);
        for (i, p) in n.provisos.iter().enumerate() {
            if let Some(f) = p.facility.as_ref().filter(|f| self.facility(f).is_none()) {
                errors.push(err(
                    format!("notice.provisos[{i}].facility"),
                    f,
                    "facility not declared in [[facilities]]",
                ));
            }
        }
        for (i, r) in n.revisions.iter().enumerate() {
            check_date(format!("notice.revisions[{i}].date"), Some(&r.date), errors);
        }
        if let (Some(a), Some(e)) = (
            n.announced_date
                .as_deref()
                .and_then(|d| Date::parse(d).ok()),
            n.effective_date
                .as_deref()
                .and_then(|d| Date::parse(d).ok()),
        ) {
            if a > e {
                errors.push(err(
                    "notice.announced_date",
                    n.announced_date.clone().unwrap_or_default(),
                    "announced after it takes effect (notice.effective_date); a change is announced first",
                ));
            }
        }
        let mut ids = HashSet::new();
        for (i, x) in self.purposes.iter().enumerate() {
            if !ids.insert(("purpose", x.id.clone())) {
                errors.push(err(
                    format!("purposes[{i}].id"),
                    &x.id,
                    "duplicate purpose id",
                ));
            }
            let p = format!("purposes[{}]", x.id);
            check_common(&p, x.detect.as_ref(), None, None, None, errors);
            check_recording_word(format!("{p}.recording"), x.recording.as_ref(), errors);
        }
        for (i, x) in self.people.iter().enumerate() {
            if !ids.insert(("person", x.id.clone())) {
                errors.push(err(format!("people[{i}].id"), &x.id, "duplicate person id"));
            }
        }
        for (i, x) in self.contractors.iter().enumerate() {
            if !ids.insert(("contractor", x.id.clone())) {
                errors.push(err(
                    format!("contractors[{i}].id"),
                    &x.id,
                    "duplicate contractor id",
                ));
            }
        }
        let mut cameras_per_unit: HashMap<&str, usize> = HashMap::new();
        for c in &self.cameras {
            if let Some(f) = c.facility.as_deref() {
                *cameras_per_unit.entry(f).or_default() += 1;
            }
        }
        for (i, f) in self.facilities.iter().enumerate() {
            let p = format!("facilities[{}]", f.id);
            if !ids.insert(("facility", f.id.clone())) {
                errors.push(err(
                    format!("facilities[{i}].id"),
                    &f.id,
                    "duplicate facility id",
                ));
            }
            for (k, id) in f.people.iter().enumerate() {
                if !self.people.iter().any(|x| &x.id == id) {
                    errors.push(err(
                        format!("{p}.people[{k}]"),
                        id,
                        "person not declared in [[people]]",
                    ));
                }
            }
            for (k, id) in f.contractors.iter().enumerate() {
                if !self.contractors.iter().any(|x| &x.id == id) {
                    errors.push(err(
                        format!("{p}.contractors[{k}]"),
                        id,
                        "contractor not declared in [[contractors]]",
                    ));
                }
            }
            if f.retention_days == Some(0) {
                errors.push(err(
                    format!("{p}.retention_days"),
                    "0",
                    "retention of 0 days keeps nothing",
                ));
            }
            check_common(&p, f.detect.as_ref(), None, None, None, errors);
            check_recording_word(format!("{p}.recording"), f.recording.as_ref(), errors);
            if let Some(parent) = &f.parent {
                if self.facility(parent).is_none() {
                    errors.push(err(
                        format!("{p}.parent"),
                        parent,
                        "facility not declared in [[facilities]]",
                    ));
                } else if self.parent_cycle(f) {
                    errors.push(err(
                        format!("{p}.parent"),
                        parent,
                        "the organisation levels loop back to this facility",
                    ));
                }
            }
            let cams = cameras_per_unit.get(f.id.as_str()).copied().unwrap_or(0);
            if cams > 0
                && !self
                    .people_of(Some(f))
                    .iter()
                    .any(|x| x.role == Role::Manager)
            {
                errors.push(err(
                    format!("{p}.people"),
                    format!("[{}]", f.people.join(", ")),
                    format!(
                        "no 관리책임자 for this unit's {} cameras: list a person with role = \"manager\" (their sign and notice name one)",
                        thousands(cams)
                    ),
                ));
            }
        }
    }

    fn parent_cycle(&self, start: &crate::legal::Facility) -> bool {
        let mut at = start;
        for _ in 0..self.facilities.len() {
            match at.parent.as_deref().and_then(|p| self.facility(p)) {
                Some(p) if p.id == start.id => return true,
                Some(p) => at = p,
                None => return false,
            }
        }
        true
    }

    pub(crate) fn validate_camera_legal(
        &self,
        p: &str,
        cam: &CameraConfig,
        errors: &mut Vec<ConfigError>,
    ) {
        match &cam.facility {
            Some(f) if self.facility(f).is_none() => errors.push(err(
                format!("{p}.facility"),
                f,
                "facility not declared in [[facilities]]",
            )),
            None if !self.facilities.is_empty() => errors.push(err(
                format!("{p}.facility"),
                "",
                "the site declares facilities: name this camera's, so its unit's 관리책임자 and contractors are published for it",
            )),
            _ => {}
        }
        for (k, id) in cam.purposes.iter().enumerate() {
            if !self.purposes.iter().any(|x| &x.id == id) {
                errors.push(err(
                    format!("{p}.purposes[{k}]"),
                    id,
                    "purpose not declared by the site in [[purposes]]",
                ));
            }
        }
        let days = self.retention_days(cam);
        if cam.retention_days == Some(0) {
            errors.push(err(
                format!("{p}.retention_days"),
                "0",
                "retention of 0 days keeps nothing; use at least 1",
            ));
        } else if days > 30 && self.retention_reason(cam).is_none() {
            // Point at where the retention was set: one line for a facility's 1,000 cameras, not 1,000.
            let from = if cam.retention_days.is_some() {
                format!("{p}.retention_days")
            } else if let Some(f) = self.facility_of(cam).filter(|f| f.retention_days.is_some()) {
                format!("facilities[{}].retention_days", f.id)
            } else {
                "defaults.retention_days".into()
            };
            errors.push(err(
                from,
                days.to_string(),
                "over 30 days needs retention_reason (the guideline's ceiling is 30 days)",
            ));
        }
        if let Err(e) = self.detect_rule(cam) {
            errors.push(e);
        }
        match self.recording_rule(cam) {
            Err(e) => errors.push(e),
            Ok(rule) => {
                let from = rule.from.unwrap_or_else(|| format!("{p}.recording"));
                match rule.value.as_str() {
                    "masked" => {}
                    "sealed" if self.storage.sealed_public_key.is_none() => errors.push(err(
                        from,
                        "sealed",
                        "sealed recording needs storage.sealed_public_key (make one with `garim keys sealed-init`)",
                    )),
                    "sealed" => {}
                    // Words at the site, unit and purpose levels were checked where they are written.
                    other if cam.recording.is_some() => errors.push(err(
                        from,
                        other,
                        "unknown recording mode; valid modes: masked, sealed",
                    )),
                    _ => {}
                }
            }
        }
        if cam.audio {
            errors.push(err(
                format!("{p}.audio"),
                "true",
                "recording sound is forbidden (PIPA Art. 25(5)); remove audio",
            ));
        }
        let location = cam.location.as_deref().unwrap_or("").to_lowercase();
        if let Some(word) = RESTRICTED_AREA_WORDS.iter().find(|w| location.contains(*w)) {
            if cam.legal_exception.is_none() {
                errors.push(err(
                    format!("{p}.location"),
                    cam.location.clone().unwrap_or_default(),
                    format!(
                        "cameras are forbidden in a {word} (PIPA Art. 25(2)); state the legal exception in legal_exception"
                    ),
                ));
            }
        }
    }

    /// Choices that are lawful but deserve a second look; `garim check` prints them and still passes. Call on
    /// a valid policy.
    pub fn warnings(&self) -> Vec<ConfigError> {
        let mut out = Vec::new();
        let loopback = self
            .server
            .http_bind
            .parse::<std::net::SocketAddr>()
            .is_ok_and(|a| a.ip().is_loopback());
        if !loopback && self.server.rtsp_anonymous {
            out.push(err(
                "server.rtsp_anonymous",
                "true",
                "anyone on the network can pull the masked streams without a login; give each NVR its own login in [[nvrs]]",
            ));
        } else if !loopback && self.nvrs.is_empty() {
            out.push(err(
                "nvrs",
                "",
                "no NVR login: nobody can pull the masked streams (RTSP on the network asks for a digest login); add [[nvrs]]",
            ));
        }
        if self.server.dangerously_plain_http && !loopback {
            out.push(err(
                "server.dangerously_plain_http",
                "true",
                "the API is served in plain HTTP on the network: passwords and session tokens cross it in clear",
            ));
        }
        for x in &self.purposes {
            if !self
                .cameras
                .iter()
                .any(|c| c.purposes.is_empty() || c.purposes.contains(&x.id))
            {
                out.push(err(
                    format!("purposes[{}]", x.id),
                    &x.text,
                    "no camera lists this purpose; the notice still publishes it, as declared",
                ));
            }
        }
        if !self.facilities.is_empty() {
            for x in &self.contractors {
                if !self
                    .facilities
                    .iter()
                    .any(|f| f.contractors.contains(&x.id))
                {
                    out.push(err(
                        format!("contractors[{}]", x.id),
                        &x.name,
                        "serves no facility, so the notice does not publish it; list it in the facilities it serves",
                    ));
                }
            }
            for x in &self.people {
                if !self.facilities.iter().any(|f| f.people.contains(&x.id)) {
                    out.push(err(
                        format!("people[{}]", x.id),
                        &x.title,
                        "listed in no facility, so the notice does not publish them; list them in their facilities",
                    ));
                }
            }
        }
        for cam in &self.cameras {
            let p = format!("cameras[{}]", cam.id);
            if cam.kind == CameraKind::Fixed && cam.range.is_none() {
                out.push(err(
                    format!("{p}.range"),
                    "",
                    "no 촬영범위: the sign and notice leave it out (PIPA Art. 25(4) asks for it); set range",
                ));
            }
            let Ok(rule) = self.detect_rule(cam) else {
                continue;
            };
            let classes = DetectClass::parse_list(&rule.value.join(",")).unwrap_or_default();
            let exposed: Vec<&str> = [DetectClass::Person, DetectClass::Face]
                .into_iter()
                .filter(|c| !classes.contains(c))
                .map(DetectClass::as_str)
                .collect();
            if exposed.is_empty() || self.masking_exception(cam).is_some() {
                continue;
            }
            let mut texts = vec![cam.location.clone().unwrap_or_default()];
            texts.extend(self.purposes_of(cam).map(|x| x.text.clone()));
            if let Some(f) = self.facility_of(cam) {
                texts.push(self.unit_name(f));
            }
            if let Some(word) = SENSITIVE_WORDS
                .iter()
                .find(|w| texts.iter().any(|t| t.contains(*w)))
            {
                out.push(err(
                    rule.from.unwrap_or_else(|| format!("{p}.detect")),
                    format!("[{}]", rule.value.join(", ")),
                    format!(
                        "leaves {} unmasked where the place or purpose speaks of {word}; mask them, or state why in masking_exception",
                        exposed.join(" and ")
                    ),
                ));
            }
        }
        group(out)
    }
}

/// One line per cause: identical problems are merged with the number of cameras they touch, and a problem
/// repeated on more than 3 cameras is written once with the first camera ids and the count.
pub(crate) fn group(errors: Vec<ConfigError>) -> Vec<ConfigError> {
    const SHOWN: usize = 3;
    // (path pattern, value, reason) → (first index, camera ids or exact path, count)
    let mut order: Vec<(String, String, String)> = Vec::new();
    let mut seen: HashMap<(String, String, String), (Vec<String>, usize)> = HashMap::new();
    for e in errors {
        let (pattern, camera) = match e
            .path
            .strip_prefix("cameras[")
            .and_then(|r| r.split_once(']'))
        {
            Some((id, rest)) => (format!("cameras[*]{rest}"), Some(id.to_string())),
            None => (e.path.clone(), None),
        };
        let key = (pattern, e.value, e.reason);
        let entry = seen.entry(key.clone()).or_insert_with(|| {
            order.push(key.clone());
            (Vec::new(), 0)
        });
        entry.1 += 1;
        if let Some(id) = camera {
            entry.0.push(id);
        }
    }
    order
        .into_iter()
        .map(|key| {
            let (ids, count) = &seen[&key];
            let (pattern, value, reason) = key;
            let path = match ids.len() {
                0 => pattern,
                n if n <= SHOWN => pattern.replacen('*', &ids.join(", "), 1),
                n => pattern.replacen(
                    '*',
                    &format!(
                        "{}, … {} more",
                        ids[..SHOWN].join(", "),
                        thousands(n - SHOWN)
                    ),
                    1,
                ),
            };
            let reason = if *count > 1 {
                format!("{reason} ({} cameras)", thousands(*count))
            } else {
                reason
            };
            ConfigError {
                path,
                value,
                reason,
            }
        })
        .collect()
}
