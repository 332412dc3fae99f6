//! Roles, permissions and the one table that says which role may do what. Every check in garim ends in
//! [`allows`]; anything the table does not name is refused.

use crate::AccessError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A user's role, as the 개인영상정보 보호 guidance names the people around a CCTV system.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 관리책임자: answers for the system; manages users and policy.
    Manager,
    /// 접근권한자: may view and export (masked) footage.
    Access,
    /// 취급자: operates the system day to day.
    Handler,
    /// 수탁업체: the maintenance contractor, limited to the cameras in its contract.
    Contractor,
    /// 감사자: reads and verifies the ledger and inspections, sees no footage.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Manager,
        Role::Access,
        Role::Handler,
        Role::Contractor,
        Role::Auditor,
    ];

    /// The name used in configuration, the API and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Manager => "manager",
            Role::Access => "access",
            Role::Handler => "handler",
            Role::Contractor => "contractor",
            Role::Auditor => "auditor",
        }
    }

    /// The Korean term, for rendered forms.
    pub fn korean(self) -> &'static str {
        match self {
            Role::Manager => "관리책임자",
            Role::Access => "접근권한자",
            Role::Handler => "취급자",
            Role::Contractor => "수탁업체",
            Role::Auditor => "감사자",
        }
    }

    /// Reads a role by its English name or its Korean term.
    pub fn parse(s: &str) -> Result<Role, AccessError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s || r.korean() == s)
            .ok_or_else(|| AccessError::UnknownRole(s.to_string()))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = AccessError;
    fn from_str(s: &str) -> Result<Role, AccessError> {
        Role::parse(s)
    }
}

/// One kind of action a user may be allowed. The names are what the API reports when it refuses.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Camera list and state, one's own session.
    ReadStatus,
    /// A masked live snapshot.
    ViewLive,
    /// List masked recordings.
    ViewRecordings,
    /// Export masked recordings.
    ExportRecordings,
    /// Accept a re-aimed camera's new view.
    AcceptScene,
    ReadPolicy,
    ManagePolicy,
    ManageUsers,
    ReadLedger,
    ExportLedger,
    VerifyLedger,
    ReadInspections,
    SignInspection,
    RunInspection,
    SignReview,
    /// Data-subject requests: list and read (a contractor: only those of its cameras).
    ReadRequests,
    /// Receive a data-subject request and take it through its states.
    ManageRequests,
    /// Ask for sealed recordings to be opened (it opens only when k managers approve).
    FileOpening,
    /// Approve an opening with one's own share of the sealed key (one of the k).
    ApproveOpening,
}

impl Permission {
    pub const ALL: [Permission; 19] = [
        Permission::ReadStatus,
        Permission::ViewLive,
        Permission::ViewRecordings,
        Permission::ExportRecordings,
        Permission::AcceptScene,
        Permission::ReadPolicy,
        Permission::ManagePolicy,
        Permission::ManageUsers,
        Permission::ReadLedger,
        Permission::ExportLedger,
        Permission::VerifyLedger,
        Permission::ReadInspections,
        Permission::SignInspection,
        Permission::RunInspection,
        Permission::SignReview,
        Permission::ReadRequests,
        Permission::ManageRequests,
        Permission::FileOpening,
        Permission::ApproveOpening,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ReadStatus => "read_status",
            Permission::ViewLive => "view_live",
            Permission::ViewRecordings => "view_recordings",
            Permission::ExportRecordings => "export_recordings",
            Permission::AcceptScene => "accept_scene",
            Permission::ReadPolicy => "read_policy",
            Permission::ManagePolicy => "manage_policy",
            Permission::ManageUsers => "manage_users",
            Permission::ReadLedger => "read_ledger",
            Permission::ExportLedger => "export_ledger",
            Permission::VerifyLedger => "verify_ledger",
            Permission::ReadInspections => "read_inspections",
            Permission::SignInspection => "sign_inspection",
            Permission::RunInspection => "run_inspection",
            Permission::SignReview => "sign_review",
            Permission::ReadRequests => "read_requests",
            Permission::ManageRequests => "manage_requests",
            Permission::FileOpening => "file_opening",
            Permission::ApproveOpening => "approve_opening",
        }
    }

    pub fn parse(s: &str) -> Result<Permission, AccessError> {
        Permission::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| AccessError::UnknownPermission(s.to_string()))
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether `role` may do `p`. The whole access policy of garim:
///
/// | permission        | manager | access | handler | contractor | auditor |
/// |-------------------|:-------:|:------:|:-------:|:----------:|:-------:|
/// | read_status       |    ✓    |   ✓    |    ✓    |     ✓      |    ✓    |
/// | view_live         |    ✓    |   ✓    |    ✓    |  ✓ (scope) |         |
/// | view_recordings   |    ✓    |   ✓    |         |            |         |
/// | export_recordings |    ✓    |   ✓    |         |            |         |
/// | accept_scene      |    ✓    |        |         |            |         |
/// | read_policy       |    ✓    |   ✓    |    ✓    |            |    ✓    |
/// | manage_policy     |    ✓    |        |         |            |         |
/// | manage_users      |    ✓    |        |         |            |         |
/// | read_ledger       |    ✓    |        |         |            |    ✓    |
/// | export_ledger     |    ✓    |        |         |            |    ✓    |
/// | verify_ledger     |    ✓    |        |         |            |    ✓    |
/// | read_inspections  |    ✓    |        |    ✓    |            |    ✓    |
/// | sign_inspection   |    ✓    |        |         |            |         |
/// | run_inspection    |    ✓    |        |    ✓    |            |         |
/// | sign_review       |    ✓    |        |         |            |         |
/// | read_requests     |    ✓    |   ✓    |    ✓    |  ✓ (scope) |    ✓    |
/// | manage_requests   |    ✓    |   ✓    |    ✓    |            |         |
/// | file_opening      |    ✓    |   ✓    |         |            |         |
/// | approve_opening   |    ✓    |        |         |            |         |
///
/// A contractor's live view is further limited to the cameras in its scope, which the caller checks with
/// [`crate::Principal::may_see_camera`] (or [`crate::Principal::require_camera`], which does both).
///
/// Written as an exhaustive match on both enums, so a new role or permission does not compile until it has
/// been placed here (no wildcard arm grants or refuses it silently).
pub fn allows(role: Role, p: Permission) -> bool {
    use Permission::*;
    match role {
        Role::Manager => match p {
            ReadStatus | ViewLive | ViewRecordings | ExportRecordings | AcceptScene
            | ReadPolicy | ManagePolicy | ManageUsers | ReadLedger | ExportLedger
            | VerifyLedger | ReadInspections | SignInspection | RunInspection | SignReview
            | ReadRequests | ManageRequests | FileOpening | ApproveOpening => true,
        },
        Role::Access => match p {
            ReadStatus | ViewLive | ViewRecordings | ExportRecordings | ReadPolicy
            | ReadRequests | ManageRequests | FileOpening => true,
            AcceptScene | ManagePolicy | ManageUsers | ReadLedger | ExportLedger | VerifyLedger
            | ReadInspections | SignInspection | RunInspection | SignReview | ApproveOpening => {
                false
            }
        },
        Role::Handler => match p {
            ReadStatus | ViewLive | ReadPolicy | RunInspection | ReadInspections | ReadRequests
            | ManageRequests => true,
            ViewRecordings | ExportRecordings | AcceptScene | ManagePolicy | ManageUsers
            | ReadLedger | ExportLedger | VerifyLedger | SignInspection | SignReview
            | FileOpening | ApproveOpening => false,
        },
        Role::Contractor => match p {
            ReadStatus | ViewLive | ReadRequests => true,
            ViewRecordings | ExportRecordings | AcceptScene | ReadPolicy | ManagePolicy
            | ManageUsers | ReadLedger | ExportLedger | VerifyLedger | ReadInspections
            | SignInspection | RunInspection | SignReview | ManageRequests | FileOpening
            | ApproveOpening => false,
        },
        Role::Auditor => match p {
            ReadStatus | ReadPolicy | ReadLedger | ExportLedger | VerifyLedger
            | ReadInspections | ReadRequests => true,
            ViewLive | ViewRecordings | ExportRecordings | AcceptScene | ManagePolicy
            | ManageUsers | SignInspection | RunInspection | SignReview | ManageRequests
            | FileOpening | ApproveOpening => false,
        },
    }
}

/// The table of [`allows`] as Markdown, for documentation and reviews.
pub fn render_table() -> String {
    let mut out = String::from("| permission |");
    for r in Role::ALL {
        out.push_str(&format!(" {r} |"));
    }
    out.push_str("\n|---|");
    for _ in Role::ALL {
        out.push_str(":-:|");
    }
    for p in Permission::ALL {
        out.push_str(&format!("\n| {p} |"));
        for r in Role::ALL {
            out.push_str(if allows(r, p) { " ✓ |" } else { "   |" });
        }
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expected table, written out independently of `allows`: a change to either fails this test.
    /// Columns: manager, access, handler, contractor, auditor.
    const EXPECTED: [(Permission, [bool; 5]); 19] = {
        use Permission::*;
        const Y: bool = true;
        const N: bool = false;
        [
            (ReadStatus, [Y, Y, Y, Y, Y]),
            (ViewLive, [Y, Y, Y, Y, N]),
            (ViewRecordings, [Y, Y, N, N, N]),
            (ExportRecordings, [Y, Y, N, N, N]),
            (AcceptScene, [Y, N, N, N, N]),
            (ReadPolicy, [Y, Y, Y, N, Y]),
            (ManagePolicy, [Y, N, N, N, N]),
            (ManageUsers, [Y, N, N, N, N]),
            (ReadLedger, [Y, N, N, N, Y]),
            (ExportLedger, [Y, N, N, N, Y]),
            (VerifyLedger, [Y, N, N, N, Y]),
            (ReadInspections, [Y, N, Y, N, Y]),
            (SignInspection, [Y, N, N, N, N]),
            (RunInspection, [Y, N, Y, N, N]),
            (SignReview, [Y, N, N, N, N]),
            (ReadRequests, [Y, Y, Y, Y, Y]),
            (ManageRequests, [Y, Y, Y, N, N]),
            (FileOpening, [Y, Y, N, N, N]),
            (ApproveOpening, [Y, N, N, N, N]),
        ]
    };

    #[test]
    fn every_role_and_permission_matches_the_written_table() {
        assert_eq!(EXPECTED.len(), Permission::ALL.len());
        for (i, (p, row)) in EXPECTED.iter().enumerate() {
            assert_eq!(*p, Permission::ALL[i], "row {i} out of order");
            for (j, role) in Role::ALL.into_iter().enumerate() {
                assert_eq!(
                    allows(role, *p),
                    row[j],
                    "{role} × {p}: the code and the table disagree"
                );
            }
        }
    }

    #[test]
    fn rendered_table_shows_who_may_do_what() {
        let table = render_table();
        // Printed so that `cargo test -- --nocapture` shows the reviewer the table the code implements.
        println!("{table}");
        assert!(
            table.starts_with("| permission | manager | access | handler | contractor | auditor |")
        );
        assert!(table.contains("| manage_users | ✓ |   |   |   |   |"));
        assert!(table.contains("| view_live | ✓ | ✓ | ✓ | ✓ |   |"));
        assert_eq!(table.lines().count(), 2 + Permission::ALL.len());
    }

    #[test]
    fn every_role_reads_status() {
        assert!(Role::ALL.iter().all(|r| allows(*r, Permission::ReadStatus)));
    }

    #[test]
    fn roles_parse_by_english_or_korean_name() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()).unwrap(), r);
            assert_eq!(Role::parse(r.korean()).unwrap(), r);
            assert_eq!(r.to_string(), r.as_str());
            assert_eq!(serde_json::to_string(&r).unwrap(), format!("\"{r}\""));
        }
        let e = Role::parse("admin").unwrap_err().to_string();
        assert_eq!(
            e,
            "unknown role `admin`: expected one of manager, access, handler, contractor, auditor"
        );
    }

    #[test]
    fn permissions_parse_by_their_snake_case_name() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()).unwrap(), p);
            assert_eq!(serde_json::to_string(&p).unwrap(), format!("\"{p}\""));
        }
        assert!(
            Permission::parse("ViewLive")
                .unwrap_err()
                .to_string()
                .contains("`ViewLive`")
        );
    }
}
