//! The parts of a site policy that the law asks to be published (PIPA Art. 25, Decree Art. 25): purposes,
//! the people responsible, contractors, facilities, where footage can be viewed, and the notice's own dates.
//! They drive both validation (e.g. every camera's purpose must be declared) and `garim notice`.

use serde::{Deserialize, Serialize};

/// Grounds of PIPA Art. 25(1) on which a fixed camera may be installed in a public place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PurposeGround {
    /// 1호: 법령에서 구체적으로 허용하고 있는 경우
    Statutory,
    /// 2호: 범죄의 예방 및 수사를 위하여 필요한 경우
    CrimePrevention,
    /// 3호: 시설의 안전 및 관리, 화재 예방을 위하여 정당한 권한을 가진 자가 설치·운영하는 경우
    FacilitySafety,
    /// 4호: 교통단속을 위하여 정당한 권한을 가진 자가 설치·운영하는 경우
    TrafficEnforcement,
    /// 5호: 교통정보의 수집·분석 및 제공을 위하여 정당한 권한을 가진 자가 설치·운영하는 경우
    TrafficInformation,
    /// 6호: 촬영된 영상정보를 저장하지 아니하는 경우로서 대통령령으로 정하는 경우
    NotStored,
}

impl PurposeGround {
    /// The item of Art. 25(1) and its wording, as printed in notices.
    pub fn article(self) -> (&'static str, &'static str) {
        match self {
            PurposeGround::Statutory => ("제1호", "법령에서 구체적으로 허용하고 있는 경우"),
            PurposeGround::CrimePrevention => ("제2호", "범죄의 예방 및 수사를 위하여 필요한 경우"),
            PurposeGround::FacilitySafety => (
                "제3호",
                "시설의 안전 및 관리, 화재 예방을 위하여 정당한 권한을 가진 자가 설치·운영하는 경우",
            ),
            PurposeGround::TrafficEnforcement => (
                "제4호",
                "교통단속을 위하여 정당한 권한을 가진 자가 설치·운영하는 경우",
            ),
            PurposeGround::TrafficInformation => (
                "제5호",
                "교통정보의 수집·분석 및 제공을 위하여 정당한 권한을 가진 자가 설치·운영하는 경우",
            ),
            PurposeGround::NotStored => (
                "제6호",
                "촬영된 영상정보를 저장하지 아니하는 경우로서 대통령령으로 정하는 경우",
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Purpose {
    pub id: String,
    pub ground: PurposeGround,
    /// The purpose as the notice states it (e.g. "시설안전 및 화재 예방").
    pub text: String,
}

/// What a person is responsible for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 관리책임자
    Manager,
    /// 접근권한자
    Access,
    /// 취급자
    Handler,
    /// 부서담당
    Department,
}

impl Role {
    pub fn korean(self) -> &'static str {
        match self {
            Role::Manager => "관리책임자",
            Role::Access => "접근권한자",
            Role::Handler => "취급자",
            Role::Department => "부서담당",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    pub id: String,
    pub role: Role,
    /// 직위
    pub title: String,
    /// 이름 (some notices publish only the title)
    #[serde(default)]
    pub name: Option<String>,
    /// 소속
    #[serde(default)]
    pub org: Option<String>,
    /// 연락처
    pub phone: String,
}

/// 수탁업체
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Contractor {
    pub id: String,
    pub name: String,
    /// 담당자
    #[serde(default)]
    pub contact: Option<String>,
    pub phone: String,
    /// 위탁 업무
    #[serde(default = "default_scope")]
    pub scope: String,
}

fn default_scope() -> String {
    "영상정보처리기기 설치 및 유지보수".into()
}

/// A building or department with its own cameras, and possibly its own managers, storage and viewing place.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Facility {
    pub id: String,
    pub name: String,
    /// People responsible here (ids from `people`); all site people when empty.
    #[serde(default)]
    pub people: Vec<String>,
    /// Contractors working here (ids from `contractors`); all site contractors when empty.
    #[serde(default)]
    pub contractors: Vec<String>,
    #[serde(default)]
    pub retention_days: Option<u32>,
    #[serde(default)]
    pub retention_reason: Option<String>,
    #[serde(default)]
    pub recording_hours: Option<String>,
    /// 보관장소
    #[serde(default)]
    pub storage_place: Option<String>,
    /// 확인 장소
    #[serde(default)]
    pub viewing_place: Option<String>,
}

/// 개인영상정보의 확인 방법 및 장소
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Viewing {
    pub method: String,
    pub place: String,
}

impl Default for Viewing {
    fn default() -> Self {
        Viewing {
            method: "영상정보 관리책임자에게 미리 연락하고 본 기관을 방문하시면 확인 가능합니다."
                .into(),
            place: "관리책임자 사무실".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Revision {
    /// YYYY-MM-DD
    pub date: String,
    pub summary: String,
}

/// The notice's own facts: when it takes effect, where changes are announced, earlier versions.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct NoticeInfo {
    /// 시행일, YYYY-MM-DD
    pub effective_date: Option<String>,
    /// Where changes are announced (e.g. "미추홀구 홈페이지").
    pub announced_at: Option<String>,
    pub revisions: Vec<Revision>,
}

/// Areas where cameras are forbidden by Art. 25(2) unless a legal exception applies.
pub const RESTRICTED_AREA_WORDS: [&str; 8] = [
    "화장실",
    "탈의실",
    "목욕실",
    "샤워실",
    "restroom",
    "toilet",
    "changing room",
    "bathroom",
];
