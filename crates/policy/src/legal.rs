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
    /// What this purpose's cameras mask live (camera → purpose → facility → site defaults). A traffic-
    /// enforcement purpose, say, masks people and faces but records plates in its sealed recordings.
    #[serde(default)]
    pub detect: Option<Vec<String>>,
    /// How this purpose's cameras record: "masked" or "sealed" (same merge as `detect`).
    #[serde(default)]
    pub recording: Option<String>,
    /// Why these cameras leave people or faces unmasked where children, counselling, patients or protection
    /// are concerned; stating it silences `garim check`'s warning.
    #[serde(default)]
    pub masking_exception: Option<String>,
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
    /// 위탁하는 업무의 내용 (e.g. "고정형 영상정보처리기기 설치 및 관리"); the column is printed when stated.
    #[serde(default)]
    pub scope: Option<String>,
}

/// A building or department (과, 동, 센터) with its own cameras, and possibly its own managers, storage and
/// viewing place; `parent` places it under an organisation level (국) that is itself a facility.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Facility {
    pub id: String,
    pub name: String,
    /// The organisation level above this unit (a facility id, e.g. the 국 of a 과).
    #[serde(default)]
    pub parent: Option<String>,
    /// Exactly the people responsible here (ids from `people`): none when absent or empty. A unit with
    /// cameras needs its 관리책임자.
    #[serde(default)]
    pub people: Vec<String>,
    /// Exactly the contractors working here (ids from `contractors`): none when absent or empty.
    #[serde(default)]
    pub contractors: Vec<String>,
    /// What this unit's cameras mask live, unless the camera or its purpose says otherwise.
    #[serde(default)]
    pub detect: Option<Vec<String>>,
    /// How this unit's cameras record ("masked" or "sealed"), unless the camera or its purpose says otherwise.
    #[serde(default)]
    pub recording: Option<String>,
    /// See `Purpose::masking_exception`.
    #[serde(default)]
    pub masking_exception: Option<String>,
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

/// What a revision of the notice was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RevisionKind {
    /// 제정
    Enacted,
    /// 일부 개정
    Amended,
    /// 전면 개정
    Rewritten,
}

impl RevisionKind {
    pub fn korean(self) -> &'static str {
        match self {
            RevisionKind::Enacted => "제정",
            RevisionKind::Amended => "일부 개정",
            RevisionKind::Rewritten => "전면 개정",
        }
    }
}

/// One version of the notice in its history (the current one included, when listed).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Revision {
    /// The day this version took effect (or was made), YYYY-MM-DD.
    pub date: String,
    #[serde(default)]
    pub kind: Option<RevisionKind>,
    /// What changed (may be left out when `kind` says it all, e.g. 제정).
    #[serde(default)]
    pub summary: String,
    /// Where this version can still be read (이전 방침 보기).
    #[serde(default)]
    pub url: Option<String>,
    /// 공개방법 of this version (e.g. "홈페이지 게시, 청사 게시판 게시").
    #[serde(default)]
    pub published_by: Option<String>,
}

/// Sections of the notice a proviso can be attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeSection {
    Intro,
    Purposes,
    Cameras,
    People,
    Retention,
    Masking,
    Contractors,
    Viewing,
    Requests,
    Safety,
    Changes,
}

/// A sentence the site adds under one section, such as "다만, 다른 법령에 특별한 규정이 있는 경우에는 그러하지
/// 아니합니다."
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Proviso {
    pub section: NoticeSection,
    pub text: String,
    /// Only in this facility's part (its own notice; prefixed with its name in the site's).
    #[serde(default)]
    pub facility: Option<String>,
}

/// The notice's own facts: when it takes effect, where changes are announced, earlier versions, and the
/// site's own wording where the law leaves it to the site. Where nothing is stated the defaults follow the law.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct NoticeInfo {
    /// 시행일, YYYY-MM-DD
    pub effective_date: Option<String>,
    /// 공고일, YYYY-MM-DD
    pub announced_date: Option<String>,
    /// The day the notice was written as of ("…을 기준으로 작성"), YYYY-MM-DD, for notices that state that
    /// rather than a 시행일.
    pub as_of: Option<String>,
    /// Where changes are announced (e.g. "미추홀구 홈페이지"); when absent the notice makes no promise of it.
    pub announced_at: Option<String>,
    /// 공개방법: how the notice itself is made public (Decree Art. 31(2), e.g. "홈페이지 게시"); printed when
    /// stated.
    pub published_by: Vec<String>,
    /// Where the previous version can be read (이전 방침).
    pub previous_url: Option<String>,
    pub revisions: Vec<Revision>,
    /// Reasons a request may be refused; default: those of PIPA Art. 35(4) and the Standard Guideline.
    pub refusal_reasons: Vec<String>,
    /// Who receives requests; default "영상정보 관리책임자".
    pub request_to: Option<String>,
    /// When the answer (or refusal) is given, as the whole phrase; default "요구를 받은 날부터 10일 이내에"
    /// (Decree Art. 42). E.g. "지체 없이(늦어도 요구를 받은 날부터 10일 이내에)".
    pub refusal_deadline: Option<String>,
    /// How it is notified; default "서면 등으로".
    pub refusal_method: Option<String>,
    /// The form a request is made on; default "개인영상정보 열람·존재확인 청구서".
    pub request_form: Option<String>,
    /// The site's own 안전성 확보조치; garim's enforced measures are listed after them.
    pub safety_measures: Vec<String>,
    /// Sentences the site adds under a section ("다만, …", "부서별로 별도 방침을 공개하는 경우 그에 따름").
    pub provisos: Vec<Proviso>,
}

/// Who receives a data-subject request, on which form, how soon it is answered, how a refusal is sent and on
/// which grounds: the site's words where it states them, else the law's. The notice and the rendered forms
/// (청구서, 통지서) read them here, so the two cannot disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestTerms<'a> {
    /// 청구서 title, e.g. "개인영상정보 열람·존재확인 청구서".
    pub form: &'a str,
    /// The addressee, e.g. "영상정보 관리책임자".
    pub to: &'a str,
    /// The whole phrase, e.g. "요구를 받은 날부터 10일 이내에".
    pub deadline: &'a str,
    /// e.g. "서면 등으로".
    pub method: &'a str,
    /// The reasons a request may be refused, word for word (what `SubjectRequest::decide` checks against).
    pub refusal_reasons: Vec<String>,
}

impl NoticeInfo {
    pub fn request_terms(&self) -> RequestTerms<'_> {
        RequestTerms {
            form: self
                .request_form
                .as_deref()
                .unwrap_or("개인영상정보 열람·존재확인 청구서"),
            to: self.request_to.as_deref().unwrap_or("영상정보 관리책임자"),
            deadline: self
                .refusal_deadline
                .as_deref()
                .unwrap_or("요구를 받은 날부터 10일 이내에"),
            method: self.refusal_method.as_deref().unwrap_or("서면 등으로"),
            refusal_reasons: if self.refusal_reasons.is_empty() {
                DEFAULT_REFUSAL_REASONS.map(String::from).to_vec()
            } else {
                self.refusal_reasons.clone()
            },
        }
    }
}

/// Refusal reasons of PIPA Art. 35(4) as they apply to footage, with the guideline's catch-all.
pub const DEFAULT_REFUSAL_REASONS: [&str; 4] = [
    "범죄수사·공소유지·재판수행에 중대한 지장을 초래하는 경우",
    "개인영상정보의 보관기간이 경과하여 파기한 경우",
    "열람 등 요구로 다른 사람의 생명·신체를 해할 우려가 있거나 다른 사람의 재산과 그 밖의 이익을 부당하게 침해할 우려가 있는 경우",
    "그 밖에 정보주체의 열람 등 요구를 거부할 만한 정당한 사유가 있는 경우",
];

/// Whether a camera is installed in one place (고정형, Art. 25) or carried or vehicle-mounted (이동형, Art. 25-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CameraKind {
    #[default]
    Fixed,
    Mobile,
}

/// Words of a location or purpose that speak of people most hurt by being seen: children, counselling,
/// patients, protection. A camera there without person and face masking is warned about.
pub const SENSITIVE_WORDS: [&str; 8] = [
    "아동",
    "어린이",
    "상담",
    "진료",
    "환자",
    "보호",
    "보육",
    "쉼터",
];

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
