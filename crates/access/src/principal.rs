//! Who is asking: a stored [`User`], and the [`Principal`] an authenticated request carries, whose
//! [`Principal::require`] is the one check every action goes through.

use crate::role::{Permission, Role, allows};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// A user as stored, without the password hash (which never leaves the store module's queries).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub role: Role,
    /// The policy's id of this person (a contractor's contractor id), when linked.
    pub person_id: Option<String>,
    pub disabled: bool,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// A session's public id: names a session in lists and logs, but is not the token and cannot be used as one.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionId(pub String);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How the token travels: a browser's cookie or an API client's bearer header.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionKind {
    Cookie,
    Bearer,
}

impl SessionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::Cookie => "cookie",
            SessionKind::Bearer => "bearer",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<SessionKind> {
        match s {
            "cookie" => Some(SessionKind::Cookie),
            "bearer" => Some(SessionKind::Bearer),
            _ => None,
        }
    }
}

/// An authenticated user for the length of one request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub user: String,
    pub role: Role,
    pub person_id: Option<String>,
    pub session: SessionId,
    /// The cameras this user may see: None for all, Some for contractors (their contract's cameras).
    pub camera_scope: Option<BTreeSet<String>>,
}

/// Refused by the permission table or the camera scope; the message names the user, role and action.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct Denied {
    pub user: String,
    pub role: Role,
    pub permission: Permission,
    /// Set when the permission is held but the camera is outside the user's scope.
    pub camera: Option<String>,
}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.camera {
            None => write!(
                f,
                "user `{}` ({}) may not {}",
                self.user, self.role, self.permission
            ),
            Some(c) => write!(
                f,
                "user `{}` ({}) may not {} camera `{c}`: not in its scope",
                self.user, self.role, self.permission
            ),
        }
    }
}

impl Principal {
    /// Whether this user's role holds `p`; everything the table does not grant is refused.
    pub fn require(&self, p: Permission) -> Result<(), Denied> {
        if allows(self.role, p) {
            Ok(())
        } else {
            Err(self.denied(p, None))
        }
    }

    /// Whether this user may see camera `id` at all. A contractor without a scope sees nothing, whatever
    /// built this principal: deny by default.
    pub fn may_see_camera(&self, id: &str) -> bool {
        match &self.camera_scope {
            Some(scope) => scope.contains(id),
            None => self.role != Role::Contractor,
        }
    }

    /// [`Principal::require`] and [`Principal::may_see_camera`] together, for actions on one camera.
    pub fn require_camera(&self, p: Permission, camera: &str) -> Result<(), Denied> {
        self.require(p)?;
        if self.may_see_camera(camera) {
            Ok(())
        } else {
            Err(self.denied(p, Some(camera)))
        }
    }

    fn denied(&self, p: Permission, camera: Option<&str>) -> Denied {
        Denied {
            user: self.user.clone(),
            role: self.role,
            permission: p,
            camera: camera.map(str::to_string),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, scope: Option<&[&str]>) -> Principal {
        Principal {
            user: "kim".into(),
            role,
            person_id: None,
            session: SessionId("s1".into()),
            camera_scope: scope.map(|s| s.iter().map(|c| c.to_string()).collect()),
        }
    }

    #[test]
    fn require_refuses_what_the_table_does_not_grant() {
        let p = principal(Role::Handler, None);
        p.require(Permission::RunInspection).unwrap();
        let e = p.require(Permission::ExportRecordings).unwrap_err();
        assert_eq!(
            e.to_string(),
            "user `kim` (handler) may not export_recordings"
        );
    }

    #[test]
    fn contractor_sees_only_cameras_in_scope() {
        let p = principal(Role::Contractor, Some(&["gate-1"]));
        p.require_camera(Permission::ViewLive, "gate-1").unwrap();
        let e = p.require_camera(Permission::ViewLive, "lobby").unwrap_err();
        assert_eq!(
            e.to_string(),
            "user `kim` (contractor) may not view_live camera `lobby`: not in its scope"
        );
        assert!(
            p.require_camera(Permission::ViewRecordings, "gate-1")
                .is_err()
        );
    }

    #[test]
    fn contractor_without_scope_sees_nothing() {
        assert!(!principal(Role::Contractor, None).may_see_camera("gate-1"));
        assert!(principal(Role::Access, None).may_see_camera("gate-1"));
    }
}
