//! Who and what belongs to each unit of a site: its exact people and contractors (a unit states them; none is
//! none), its place in the organisation (국 → 과), and the masking rules a camera inherits from its purposes,
//! its unit and the site. The notice, the signs, `garim check` and the API's contractor scope all ask here, so
//! they cannot disagree.

use crate::config::{CameraConfig, ConfigError, SiteConfig};
use crate::legal::{Contractor, Facility, Person};
use std::collections::BTreeSet;

/// Where an inherited setting came from, as a path `garim check` can point at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inherited<T> {
    pub value: T,
    /// "cameras[x].detect", "purposes[traffic].detect", "facilities[hall].detect" or "defaults.detect";
    /// None for the built-in default.
    pub from: Option<String>,
}

impl SiteConfig {
    /// The people the notice publishes for `f`: exactly its list; the whole site's when it has no facilities
    /// (`f` None).
    pub fn people_of(&self, f: Option<&Facility>) -> Vec<&Person> {
        match f {
            Some(f) => f
                .people
                .iter()
                .filter_map(|id| self.people.iter().find(|p| &p.id == id))
                .collect(),
            None => self.people.iter().collect(),
        }
    }

    /// The contractors serving `f`: exactly its list; the whole site's when it has no facilities (`f` None).
    pub fn contractors_of(&self, f: Option<&Facility>) -> Vec<&Contractor> {
        match f {
            Some(f) => f
                .contractors
                .iter()
                .filter_map(|id| self.contractors.iter().find(|c| &c.id == id))
                .collect(),
            None => self.contractors.iter().collect(),
        }
    }

    pub fn facility(&self, id: &str) -> Option<&Facility> {
        self.facilities.iter().find(|f| f.id == id)
    }

    /// The unit's name with its organisation levels: "복지국 복지정책과".
    pub fn unit_name(&self, f: &Facility) -> String {
        let mut names = vec![f.name.as_str()];
        let mut at = f;
        // Bounded: a cycle is refused by check, and never loops here.
        for _ in 0..self.facilities.len() {
            match at.parent.as_deref().and_then(|p| self.facility(p)) {
                Some(parent) => {
                    names.push(parent.name.as_str());
                    at = parent;
                }
                None => break,
            }
        }
        names.reverse();
        names.join(" ")
    }

    /// The top organisation level of `f` (itself when it has no parent).
    pub fn top_unit<'a>(&'a self, f: &'a Facility) -> &'a Facility {
        let mut at = f;
        for _ in 0..self.facilities.len() {
            match at.parent.as_deref().and_then(|p| self.facility(p)) {
                Some(parent) => at = parent,
                None => break,
            }
        }
        at
    }

    /// The cameras a contractor's users may see: those of the units it serves, or every camera of a site
    /// without facilities. Unknown contractors see none.
    pub fn contractor_cameras(&self, contractor: &str) -> BTreeSet<String> {
        if !self.contractors.iter().any(|c| c.id == contractor) {
            return BTreeSet::new();
        }
        if self.facilities.is_empty() {
            return self.cameras.iter().map(|c| c.id.clone()).collect();
        }
        self.cameras
            .iter()
            .filter(|c| {
                self.facility_of(c)
                    .is_some_and(|f| f.contractors.iter().any(|x| x == contractor))
            })
            .map(|c| c.id.clone())
            .collect()
    }

    /// One rule a camera inherits: its own value, else the one its listed purposes agree on, else its unit's,
    /// else the site default. Purposes that disagree are an error naming them (set the camera's own value).
    fn inherit<T: Clone + PartialEq + std::fmt::Debug>(
        &self,
        cam: &CameraConfig,
        field: &str,
        own: Option<&T>,
        purpose: impl Fn(&crate::legal::Purpose) -> Option<&T>,
        facility: impl Fn(&Facility) -> Option<&T>,
        default: Option<(&T, String)>,
    ) -> Result<Option<Inherited<T>>, ConfigError> {
        if let Some(v) = own {
            return Ok(Some(Inherited {
                value: v.clone(),
                from: Some(format!("cameras[{}].{field}", cam.id)),
            }));
        }
        let mut found: Option<(&str, &T)> = None;
        for id in &cam.purposes {
            let Some(p) = self.purposes.iter().find(|p| &p.id == id) else {
                continue;
            };
            if let Some(v) = purpose(p) {
                match found {
                    Some((other, w)) if w != v => {
                        return Err(ConfigError {
                            path: format!("cameras[{}].purposes", cam.id),
                            value: format!("{other}, {id}"),
                            reason: format!(
                                "purposes {other} and {id} set different {field} ({w:?} and {v:?}); set {field} on the camera"
                            ),
                        });
                    }
                    Some(_) => {}
                    None => found = Some((id.as_str(), v)),
                }
            }
        }
        if let Some((id, v)) = found {
            return Ok(Some(Inherited {
                value: v.clone(),
                from: Some(format!("purposes[{id}].{field}")),
            }));
        }
        if let Some(f) = self.facility_of(cam) {
            if let Some(v) = facility(f) {
                return Ok(Some(Inherited {
                    value: v.clone(),
                    from: Some(format!("facilities[{}].{field}", f.id)),
                }));
            }
        }
        Ok(default.map(|(v, from)| Inherited {
            value: v.clone(),
            from: Some(from),
        }))
    }

    /// The classes a camera masks live (words as written; camera → purpose → facility → site defaults).
    pub fn detect_rule(&self, cam: &CameraConfig) -> Result<Inherited<Vec<String>>, ConfigError> {
        Ok(self
            .inherit(
                cam,
                "detect",
                cam.detect.as_ref(),
                |p| p.detect.as_ref(),
                |f| f.detect.as_ref(),
                Some((&self.defaults.detect, "defaults.detect".to_string())),
            )?
            .expect("the site default always applies"))
    }

    /// How a camera records, as written ("masked" when nothing says otherwise).
    pub fn recording_rule(&self, cam: &CameraConfig) -> Result<Inherited<String>, ConfigError> {
        let default = self
            .defaults
            .recording
            .as_ref()
            .map(|r| (r, "defaults.recording".to_string()));
        Ok(self
            .inherit(
                cam,
                "recording",
                cam.recording.as_ref(),
                |p| p.recording.as_ref(),
                |f| f.recording.as_ref(),
                default,
            )?
            .unwrap_or(Inherited {
                value: "masked".into(),
                from: None,
            }))
    }

    /// What a camera masks live and how it records, typed (the URL is not needed, unlike `camera_settings`).
    pub fn masking_of(
        &self,
        cam: &CameraConfig,
    ) -> Result<(Vec<vocab::DetectClass>, vocab::RecordingMode), ConfigError> {
        let detect = self.detect_rule(cam)?;
        let live =
            vocab::DetectClass::parse_list(&detect.value.join(",")).map_err(|e| ConfigError {
                path: detect.from.clone().unwrap_or_default(),
                value: String::new(),
                reason: e,
            })?;
        let rec = self.recording_rule(cam)?;
        let mode = rec.value.parse().map_err(|e| ConfigError {
            path: rec.from.clone().unwrap_or_default(),
            value: rec.value.clone(),
            reason: e,
        })?;
        Ok((live, mode))
    }

    /// The stated reason a camera leaves people or faces unmasked (camera, its purposes, its unit).
    pub fn masking_exception<'a>(&'a self, cam: &'a CameraConfig) -> Option<&'a str> {
        cam.masking_exception
            .as_deref()
            .or_else(|| {
                cam.purposes.iter().find_map(|id| {
                    self.purposes
                        .iter()
                        .find(|p| &p.id == id)
                        .and_then(|p| p.masking_exception.as_deref())
                })
            })
            .or_else(|| {
                self.facility_of(cam)
                    .and_then(|f| f.masking_exception.as_deref())
            })
    }

    /// The purposes a camera serves: those it lists, or every declared one when it lists none.
    pub fn purposes_of<'a>(
        &'a self,
        cam: &'a CameraConfig,
    ) -> impl Iterator<Item = &'a crate::legal::Purpose> {
        self.purposes
            .iter()
            .filter(move |p| cam.purposes.is_empty() || cam.purposes.contains(&p.id))
    }
}
