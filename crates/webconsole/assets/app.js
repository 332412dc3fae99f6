/* garim operator console.
 *
 * One script, no build step, no framework. Every page is built with `h()`, which puts server strings into the
 * DOM only as text nodes or attribute values (never as HTML), so a camera named `<img onerror=…>` is shown as
 * those characters. The server decides who may do what; the permissions in `me.permissions` only decide which
 * pages and buttons are shown. Every state-changing request carries the session's CSRF token.
 */
(() => {
  "use strict";

  // ---------------------------------------------------------------------------------------------------------
  // Strings
  // ---------------------------------------------------------------------------------------------------------

  const T = {
    ko: {
      title: "garim 관제 콘솔",
      skip: "본문으로 건너뛰기",
      nav_label: "주 메뉴",
      lang_other: "English",
      loading: "불러오는 중…",
      none: "—",
      yes: "예",
      no: "아니오",
      logout: "로그아웃",
      network_error: "서버에 연결할 수 없습니다.",
      session_expired: "세션이 만료되었습니다. 다시 로그인하세요.",
      forbidden_page: "이 화면을 볼 권한이 없습니다.",
      not_found_page: "없는 화면입니다.",
      // login
      login_title: "로그인",
      login_intro: "garim 관제 콘솔에 로그인하세요. 모든 로그인은 관리대장에 기록됩니다.",
      login_user: "사용자 이름",
      login_password: "비밀번호",
      login_submit: "로그인",
      login_failed: "사용자 이름 또는 비밀번호가 올바르지 않습니다.",
      login_throttled: "로그인 실패가 너무 많습니다. {0}초 후에 다시 시도하세요.",
      // nav
      nav_cameras: "카메라",
      nav_recordings: "녹화 영상",
      nav_requests: "열람등 요구",
      nav_ledger: "관리대장",
      nav_site: "방침·안내판",
      nav_users: "사용자",
      // roles
      role_manager: "관리책임자",
      role_access: "열람 담당자",
      role_handler: "운영 담당자",
      role_contractor: "수탁자",
      role_auditor: "감사자",
      // cameras
      cameras_title: "카메라",
      cameras_empty: "볼 수 있는 카메라가 없습니다.",
      cameras_refresh_note: "화면과 상태는 3초마다 새로 고칩니다. 화면은 모두 마스킹된 영상입니다.",
      no_picture: "화면 없음",
      no_live_permission: "실시간 화면 권한 없음",
      snapshot_alt: "{0} 카메라의 마스킹된 화면",
      state_starting: "시작 중",
      state_streaming: "송출 중",
      state_retrying: "재연결 중 ({0})",
      state_failed: "실패: {0}",
      fps: "fps (입력/출력)",
      latency_p99: "지연 p99",
      fail_closed_share: "전체 가림 비율",
      frames: "프레임 (입력/출력)",
      reconnects: "재연결",
      scene_alarm: "화면 경보",
      open_camera: "{0} 카메라 보기",
      // camera page
      camera_title: "카메라 {0}",
      back_to_cameras: "← 카메라 목록",
      live_view: "실시간 화면 (마스킹)",
      live_alt: "{0} 카메라의 마스킹된 실시간 영상",
      trend_title: "최근 추이",
      chart_fps: "fps (입력)",
      chart_latency: "지연 p99 (ms)",
      chart_failclosed: "전체 가림 (%)",
      chart_no_data: "데이터 없음",
      events_title: "최근 이벤트",
      events_empty: "이벤트가 없습니다.",
      edit_zones: "가림·녹화 구역 편집",
      camera_not_found: "카메라를 찾을 수 없습니다.",
      stats_title: "상태",
      // scene
      scene_title: "화면 기준 (방향 변경 감시)",
      scene_reference_since: "기준 화면 시작",
      scene_reference_by: "기준 승인자",
      scene_reference_auto: "자동 (처음 본 화면)",
      scene_last_acceptance: "마지막 승인 요청",
      scene_alarm_none: "경보 없음: 카메라가 기준 화면을 보고 있습니다.",
      scene_alarm_since: "경보 시작",
      scene_zones_checked: "구역을 확인했습니다",
      scene_accept: "현재 화면을 새 기준으로 승인",
      scene_accepted: "승인 요청을 보냈습니다.",
      accepted: "승인됨",
      refused: "거부됨",
      // zones
      zones_title: "구역 편집: {0}",
      zone_kind: "그리는 구역",
      zone_kind_privacy: "개인정보 가림",
      zone_kind_recording: "녹화 구역",
      zone_privacy_n: "개인정보 가림 {0}",
      zone_recording_n: "녹화 구역 {0}",
      zone_points: "점 {0}개",
      zone_close: "다각형 닫기",
      zone_cancel: "그리기 취소",
      zone_delete: "선택한 구역 삭제",
      zone_preview: "가림 미리보기 (불투명)",
      zone_list: "구역 목록",
      zone_list_empty: "구역이 없습니다.",
      zone_reason: "변경 사유",
      zone_reason_default: "콘솔에서 구역 수정",
      zone_save: "저장",
      zone_saved: "저장했습니다.",
      zone_no_changes: "바뀐 것이 없습니다.",
      zone_need_three: "다각형은 점이 3개 이상 필요합니다.",
      zone_help: "캔버스를 눌러 점을 찍고, 첫 점을 다시 누르거나 Enter로 닫습니다. 점은 끌어서 옮깁니다. 고른 종류의 구역 안을 누르거나 목록에서 눌러 선택한 뒤 Delete로 지웁니다. Esc는 그리던 다각형을 취소합니다. 키보드: 캔버스에서 화살표로 십자선을 옮기고(Shift: 크게) 스페이스로 점을 찍습니다.",
      zone_no_snapshot: "화면을 불러오지 못했습니다 (구역은 편집할 수 있습니다)",
      zone_canvas_label: "구역 편집 캔버스",
      zone_drawing: "그리는 중: 점 {0}개",
      zone_readonly: "구역을 바꿀 권한이 없습니다 (보기만 가능).",
      review_show_first: "서명할 검토 내용을 먼저 조회하세요.",
      req_action: "처리",
      req_outcome: "결정",
      req_decide: "결정하기",
      req_refusal_reason: "거부 사유",
      outcome_fulfil: "열람 등 허용",
      outcome_partly: "일부 허용",
      outcome_refuse: "거부",
      // recordings
      rec_title: "녹화 영상",
      rec_camera: "카메라",
      rec_all_cameras: "전체 카메라",
      rec_from: "시작 (현지 시각)",
      rec_to: "끝 (현지 시각)",
      rec_search: "조회",
      rec_time_hint: "예: 2026-12-06 15:10, 2026-12-06, 2026-12-06T06:10:00Z",
      rec_none: "이 기간에 녹화된 구간이 없습니다.",
      rec_segments: "구간 {0}개",
      rec_player: "재생·내보내기",
      rec_play_from: "재생 시작",
      rec_play_to: "재생 끝",
      rec_purpose: "목적 (관리대장에 기록)",
      rec_play: "재생",
      rec_download: "MP4 내려받기",
      rec_need_purpose: "목적을 입력하세요.",
      rec_need_camera: "카메라를 고르거나 구간을 누르세요.",
      rec_bad_range: "재생 범위가 올바르지 않습니다 (끝이 시작보다 뒤, 최대 1시간).",
      rec_play_note: "재생할 때마다 관리대장(이용)에 한 줄이 기록됩니다. 내려받기는 재생한 그 영상을 저장합니다.",
      rec_video_error: "재생할 수 없습니다. 범위 안에 녹화가 있는지 확인하세요.",
      rec_segment_title: "{0} ~ {1}",
      bad_time: "시간 형식이 올바르지 않습니다: {0}",
      // requests
      req_title: "열람등 요구",
      req_id: "번호",
      req_type: "유형",
      req_state: "상태",
      req_requester: "요구자",
      req_cameras: "카메라",
      req_window: "대상 기간",
      req_received: "접수",
      req_due: "기한",
      req_documents: "문서",
      req_claim: "청구서",
      req_notice: "통지서",
      req_empty: "요구가 없습니다.",
      req_overdue: "기한 지남",
      req_due_soon: "기한 임박",
      type_existence: "존재확인",
      type_view: "열람",
      type_deletion: "삭제",
      rs_received: "접수",
      rs_checking: "확인 중",
      rs_decided: "결정",
      rs_fulfilled: "이행",
      rs_partly_fulfilled: "일부 이행",
      rs_refused: "거부",
      rs_closed: "종결",
      approvals_title: "봉인 영상 열람 승인함",
      approvals_empty: "승인을 기다리는 요청이 없습니다.",
      opening_ground: "근거",
      opening_reason: "사유",
      opening_requested_by: "요구자",
      opening_filed_by: "신청자",
      opening_approvals: "승인",
      opening_password: "내 비밀번호 (승인)",
      opening_approve: "승인",
      opening_approved: "승인했습니다. 추가 승인 {0}명이 더 필요합니다.",
      opening_done: "승인이 모여 영상을 열었습니다.",
      opening_download: "열린 영상 내려받기",
      ground_investigation: "수사기관의 요청",
      ground_trial: "재판",
      ground_subject_view: "정보주체의 열람",
      ground_emergency: "급박한 생명·신체·재산의 이익",
      ground_subject_deletion: "정보주체의 삭제",
      subj_open: "봉인 영상 열기 (요청인 찾기)",
      subj_from: "부터 (현지 시각)",
      subj_to: "까지 (최대 30분)",
      subj_reason: "사유",
      subj_reason_default: "정보주체의 {0} 요구 처리",
      subj_file: "열기 요청",
      subj_filed: "열기 요청 {0}을(를) 올렸습니다. 다른 관리책임자의 승인이 필요합니다.",
      new_req: "새 요구 접수 (청구서 받음)",
      new_req_contact: "연락처",
      new_req_description: "인상착의 (찾을 사람)",
      new_req_identity: "신분 확인 (본 신분증의 종류만)",
      new_req_identity_hint: "예: 주민등록증, 운전면허증. 번호·사본은 적지 않습니다.",
      new_req_cameras: "카메라",
      new_req_file: "접수",
      new_req_filed: "요구 {0}을(를) 접수했습니다. 기한: {1}",
      open_new: "봉인 영상 열람 요청하기 (수사·재판·긴급)",
      open_filed: "열람 요청 {0}을(를) 올렸습니다. 다른 관리책임자 {1}명의 승인이 더 필요합니다.",
      open_cameras: "카메라 (봉인 녹화)",
      open_no_sealed: "봉인 녹화하는 카메라가 없습니다.",
      open_reference: "공문·영장·사건 번호",
      open_requested_by: "요구자 (기관·사람)",
      open_from: "부터 (현지 시각)",
      open_to: "까지 (현지 시각)",
      open_file: "열람 요청 올리기",
      open_pick_camera: "카메라를 하나 이상 고르세요.",
      open_bad_range: "기간을 확인하세요 (끝이 시작보다 뒤).",
      subj_bad_range: "기간을 확인하세요 (30분 이내).",
      subj_reviews_title: "요청인 확인 (열린 봉인 영상)",
      subj_review_open: "검토",
      subj_detecting: "모든 장면에서 사람을 찾는 중: {0}/{1}초 ({2}프레임)",
      subj_failed: "사람 찾기에 실패했습니다: {0}",
      subj_hint_mark: "요청인이 보이는 장면에서 그 사람의 상자를 누르세요.",
      subj_hint_review: "장면마다 초록 상자가 요청인인지 보세요. 다르면 요청인의 상자를 누르고, 상자가 다른 사람이면 '아님', 요청인이 그 장면에 없으면 '이 장면에 없음'. 모두 맞으면 확인하세요.",
      subj_summary: "{0}프레임 · 검토 장면 {1}개 · 전체 가림 {2}프레임 · 작업 {3}번",
      subj_not_them: "아님",
      subj_absent: "이 장면에 없음",
      subj_confirm: "모두 맞음: 확인",
      subj_confirmed: "확인했습니다.",
      subj_export: "가림 사본 만들기",
      subj_erase: "이 사람 지우기 (재암호화, 원본 파기)",
      subj_erase_sure: "이 사람이 나온 부분을 가린 사본으로 봉인 녹화를 바꾸고 원본을 파기합니다. 되돌릴 수 없습니다. 계속할까요?",
      subj_exported: "사본을 만들었습니다 (SHA-256 {0}).",
      subj_download: "사본 내려받기",
      subj_sidecar: "설명 파일 (JSON)",
      subj_erased: "구간 {0}개를 바꾸고 원본을 파기했습니다.",
      subj_suggested: "추정",
      // ledger
      ledger_title: "관리대장",
      chain_title: "해시 체인",
      chain_ok: "체인 정상",
      chain_broken: "체인 손상",
      chain_rows: "{0}행",
      chain_head: "마지막 행 {0}",
      chain_verify: "다시 검증",
      ledger_kind: "구분",
      ledger_all_kinds: "전체",
      ledger_from: "시작 (현지 시각)",
      ledger_to: "끝 (현지 시각)",
      ledger_search: "조회",
      ledger_more: "다음 행 더 보기",
      ledger_empty: "조건에 맞는 행이 없습니다.",
      ledger_csv: "CSV 내보내기",
      ledger_xlsx: "XLSX 내보내기",
      ledger_export_note: "내보내기도 관리대장에 기록됩니다.",
      col_seq: "번호",
      col_time: "일시",
      col_kind: "구분",
      col_actor: "사용자",
      col_subject: "파일명/형태",
      col_purpose: "목적/사유",
      col_recipient: "제공받는 자/요구자",
      col_basis: "근거",
      col_form: "형태",
      col_period: "기간",
      col_manager: "관리책임자",
      col_client: "접속지",
      col_detail: "세부",
      inspections_title: "점검대장",
      inspection_run: "지금 점검",
      inspection_ran: "점검을 기록했습니다.",
      insp_id: "번호",
      insp_time: "일시",
      insp_kind: "종류",
      insp_result: "결과",
      insp_signed: "확인",
      insp_report: "보고서",
      insp_ok: "정상",
      insp_problem: "문제 있음",
      insp_daily: "일일 점검",
      insp_on_demand: "수시 점검",
      insp_note: "메모",
      insp_countersign: "확인 서명",
      insp_empty: "점검 기록이 없습니다.",
      review_title: "월간 접근 기록 검토",
      review_month: "월 (YYYY-MM)",
      review_show: "보기",
      review_sign: "검토 서명",
      review_signed: "검토에 서명했습니다.",
      review_bad_month: "월은 YYYY-MM 형식으로 입력하세요.",
      // site
      site_title: "운영·관리 방침과 안내판",
      site_intro: "아래 두 주소는 로그인 없이 누구나 볼 수 있는 공개 페이지이며, 주소는 바뀌지 않습니다. 홈페이지나 안내문에 그대로 연결하세요.",
      site_notice: "영상정보처리기기 운영·관리 방침",
      site_signs: "안내판",
      site_name: "현장",
      // users
      users_title: "사용자",
      user_name: "이름",
      user_role: "역할",
      user_person: "사람 ID (선택)",
      user_person_col: "사람 ID",
      user_password: "비밀번호",
      user_state: "상태",
      user_created: "만든 날",
      user_actions: "작업",
      user_enabled: "사용 중",
      user_disabled: "중지됨",
      user_add_title: "사용자 추가",
      user_add: "추가",
      user_added: "사용자 {0}을(를) 추가했습니다.",
      user_set_role: "역할 변경",
      user_disable: "중지",
      user_enable: "다시 사용",
      user_changed: "{0}을(를) 바꿨습니다.",
      user_sealed_share: "봉인 열쇠 지분",
      user_sealed_share_hint: "봉인 영상의 열쇠 지분을 가지고 있습니다. 비밀번호 재설정·중지·역할 변경으로 지분을 가진 관리자가 정족수(k)보다 적어지면 봉인 영상을 열 수 없게 됩니다.",
      user_sealed_lockout_kept: "{0}의 지분을 지키려고 바꾸지 않았습니다. 먼저 다른 관리자들에게 열쇠를 다시 나누세요 (garim keys sealed-split).",
      user_sealed_lockout: "{0}의 봉인 영상 열쇠 지분이 없으면 열쇠를 열 수 있는 관리자가 정족수(k)보다 적어져, 이 열쇠로 봉인된 영상은 다시는 열 수 없습니다. 먼저 다른 관리자들에게 열쇠를 다시 나누는 것(garim keys sealed-split)이 좋습니다. 그래도 진행하시겠습니까?",
      user_role_of: "{0}의 역할",
      users_empty: "사용자가 없습니다.",
      // ledger kinds
      k_use: "이용", k_provide: "제공", k_view: "열람", k_destroy: "파기", k_login: "로그인",
      k_login_failed: "로그인 실패", k_logout: "로그아웃", k_user_change: "사용자 변경",
      k_policy_change: "방침 변경", k_policy_rejected: "방침 거부", k_scene_acceptance: "화면 승인",
      k_scene_alarm: "화면 경보", k_inspection: "점검", k_countersign: "확인 서명", k_review: "접근 검토",
      k_request: "열람등 요구", k_custody: "봉인 열쇠 관리",
      // generic field names (review, reports)
      f_month_start_ms: "월 시작", f_month_end_ms: "월 끝", f_office_hours: "업무 시간", f_rows: "행 수",
      f_actors: "사용자별 처리", f_after_hours: "업무 시간 외 접근", f_failed_logins: "로그인 실패",
      f_contractor: "수탁자 활동", f_actor: "사용자", f_views: "열람", f_uses: "이용", f_provides: "제공",
      f_destroys: "파기", f_subjects: "대상", f_seq: "번호", f_at_ms: "일시", f_at_kst: "일시 (KST)",
      f_kind: "구분", f_subject: "대상", f_client: "접속지", f_why: "이유", f_count: "횟수",
      f_first_ms: "처음", f_last_ms: "마지막", f_signed_by: "서명자", f_signed_at_ms: "서명 일시",
      f_ok: "정상", f_problems: "문제", f_month: "월", f_rows_reviewed: "검토한 행", f_review: "검토 내용",
      f_markdown: "검토서 (텍스트)", f_signatures: "서명", f_by: "서명자", f_at: "일시", f_signed: "서명함",
    },
    en: {
      title: "garim operator console",
      skip: "Skip to content",
      nav_label: "Main menu",
      lang_other: "한국어",
      loading: "Loading…",
      none: "—",
      yes: "yes",
      no: "no",
      logout: "Log out",
      network_error: "Cannot reach the server.",
      session_expired: "Your session has expired. Please log in again.",
      forbidden_page: "You may not see this page.",
      not_found_page: "No such page.",
      login_title: "Log in",
      login_intro: "Log in to the garim operator console. Every login is recorded in the ledger.",
      login_user: "User name",
      login_password: "Password",
      login_submit: "Log in",
      login_failed: "Wrong user name or password.",
      login_throttled: "Too many failed logins. Try again in {0} s.",
      nav_cameras: "Cameras",
      nav_recordings: "Recordings",
      nav_requests: "Requests",
      nav_ledger: "Ledger",
      nav_site: "Notice & signs",
      nav_users: "Users",
      role_manager: "manager",
      role_access: "access",
      role_handler: "handler",
      role_contractor: "contractor",
      role_auditor: "auditor",
      cameras_title: "Cameras",
      cameras_empty: "No cameras you may see.",
      cameras_refresh_note: "Pictures and states refresh every 3 s. Every picture is masked.",
      no_picture: "No picture",
      no_live_permission: "No live view permission",
      snapshot_alt: "Masked picture of camera {0}",
      state_starting: "starting",
      state_streaming: "streaming",
      state_retrying: "retrying ({0})",
      state_failed: "failed: {0}",
      fps: "fps (in/out)",
      latency_p99: "latency p99",
      fail_closed_share: "fail-closed share",
      frames: "frames (in/out)",
      reconnects: "reconnects",
      scene_alarm: "Scene alarm",
      open_camera: "Open camera {0}",
      camera_title: "Camera {0}",
      back_to_cameras: "← Cameras",
      live_view: "Live view (masked)",
      live_alt: "Masked live video of camera {0}",
      trend_title: "Recent trend",
      chart_fps: "fps (in)",
      chart_latency: "latency p99 (ms)",
      chart_failclosed: "fail-closed (%)",
      chart_no_data: "no data",
      events_title: "Recent events",
      events_empty: "No events.",
      edit_zones: "Edit masks and zones",
      camera_not_found: "No such camera.",
      stats_title: "State",
      scene_title: "Scene reference (re-aim watch)",
      scene_reference_since: "Reference since",
      scene_reference_by: "Accepted by",
      scene_reference_auto: "automatic (first view)",
      scene_last_acceptance: "Last acceptance",
      scene_alarm_none: "No alarm: the camera sees its reference view.",
      scene_alarm_since: "Alarm since",
      scene_zones_checked: "I checked the zones",
      scene_accept: "Accept the current view as reference",
      scene_accepted: "Acceptance sent.",
      accepted: "accepted",
      refused: "refused",
      zones_title: "Zones: {0}",
      zone_kind: "Drawing",
      zone_kind_privacy: "privacy mask",
      zone_kind_recording: "recording zone",
      zone_privacy_n: "Privacy mask {0}",
      zone_recording_n: "Recording zone {0}",
      zone_points: "{0} points",
      zone_close: "Close polygon",
      zone_cancel: "Cancel drawing",
      zone_delete: "Delete selected",
      zone_preview: "Preview masks (opaque)",
      zone_list: "Zones",
      zone_list_empty: "No zones.",
      zone_reason: "Reason for the change",
      zone_reason_default: "콘솔에서 구역 수정",
      zone_save: "Save",
      zone_saved: "Saved.",
      zone_no_changes: "Nothing changed.",
      zone_need_three: "A polygon needs at least 3 points.",
      zone_help: "Click the canvas to add points; click the first point again or press Enter to close. Drag a point to move it. Click inside a zone of the kind chosen above (or on it in the list) to select it, and press Delete to remove it. Esc cancels the polygon being drawn. Keyboard: on the canvas, arrows move a crosshair (Shift: larger steps) and Space adds a point.",
      zone_no_snapshot: "No picture could be loaded (zones can still be edited)",
      zone_canvas_label: "Zone editor canvas",
      zone_drawing: "Drawing: {0} points",
      zone_readonly: "You may not change zones (read only).",
      review_show_first: "Show the review you are signing first.",
      req_action: "Next step",
      req_outcome: "Decision",
      req_decide: "Decide",
      req_refusal_reason: "Reason for refusal",
      outcome_fulfil: "Grant",
      outcome_partly: "Grant in part",
      outcome_refuse: "Refuse",
      rec_title: "Recordings",
      rec_camera: "Camera",
      rec_all_cameras: "All cameras",
      rec_from: "From (local time)",
      rec_to: "To (local time)",
      rec_search: "Search",
      rec_time_hint: "e.g. 2026-12-06 15:10, 2026-12-06, 2026-12-06T06:10:00Z",
      rec_none: "No recorded segments in this period.",
      rec_segments: "{0} segments",
      rec_player: "Play and export",
      rec_play_from: "Play from",
      rec_play_to: "Play to",
      rec_purpose: "Purpose (written to the ledger)",
      rec_play: "Play",
      rec_download: "Download MP4",
      rec_need_purpose: "Enter a purpose.",
      rec_need_camera: "Choose a camera or click a segment.",
      rec_bad_range: "Bad playback range (the end after the start, at most 1 hour).",
      rec_play_note: "Each play is one ledger row (use). Download saves the video that was played.",
      rec_video_error: "Cannot play. Check that the range holds recordings.",
      rec_segment_title: "{0} to {1}",
      bad_time: "Bad time: {0}",
      req_title: "Data-subject requests",
      req_id: "ID",
      req_type: "Type",
      req_state: "State",
      req_requester: "Requester",
      req_cameras: "Cameras",
      req_window: "Period",
      req_received: "Received",
      req_due: "Due",
      req_documents: "Documents",
      req_claim: "claim",
      req_notice: "notice",
      req_empty: "No requests.",
      req_overdue: "overdue",
      req_due_soon: "due soon",
      type_existence: "existence",
      type_view: "view",
      type_deletion: "deletion",
      rs_received: "received",
      rs_checking: "checking",
      rs_decided: "decided",
      rs_fulfilled: "fulfilled",
      rs_partly_fulfilled: "partly fulfilled",
      rs_refused: "refused",
      rs_closed: "closed",
      approvals_title: "Approvals inbox (sealed recordings)",
      approvals_empty: "No openings await approval.",
      opening_ground: "Ground",
      opening_reason: "Reason",
      opening_requested_by: "Requested by",
      opening_filed_by: "Filed by",
      opening_approvals: "Approvals",
      opening_password: "Your password (approval)",
      opening_approve: "Approve",
      opening_approved: "Approved. {0} more approval(s) needed.",
      opening_done: "Enough approvals: the recording was opened.",
      opening_download: "Download the opened recording",
      ground_investigation: "investigation",
      ground_trial: "trial",
      ground_subject_view: "data-subject view",
      ground_emergency: "emergency",
      ground_subject_deletion: "data-subject deletion",
      subj_open: "Open the sealed recording (find the requester)",
      subj_from: "From (local time)",
      subj_to: "To (30 min at most)",
      subj_reason: "Reason",
      subj_reason_default: "Data subject's {0} request",
      subj_file: "File the opening",
      subj_filed: "Opening {0} filed. Another manager must approve it.",
      new_req: "Receive a new request (a filled 청구서)",
      new_req_contact: "Contact",
      new_req_description: "Description (who to look for)",
      new_req_identity: "Identity check (which document was seen)",
      new_req_identity_hint: "e.g. 주민등록증, 운전면허증. Never its number or a copy.",
      new_req_cameras: "Cameras",
      new_req_file: "Receive",
      new_req_filed: "Request {0} received. Due: {1}",
      open_new: "Request an opening of sealed recordings (investigation, trial, emergency)",
      open_filed: "Opening {0} filed. {1} more manager approval(s) needed.",
      open_cameras: "Cameras (sealed recording)",
      open_no_sealed: "No camera keeps sealed recordings.",
      open_reference: "Letter, warrant or case number",
      open_requested_by: "Requested by (office or person)",
      open_from: "From (local time)",
      open_to: "To (local time)",
      open_file: "File the opening",
      open_pick_camera: "Pick at least one camera.",
      open_bad_range: "Check the window (its end after its start).",
      subj_bad_range: "Check the window (30 minutes at most).",
      subj_reviews_title: "Find the requester (opened sealed recordings)",
      subj_review_open: "Review",
      subj_detecting: "Finding everyone in every frame: {0}/{1} s ({2} frames)",
      subj_failed: "Finding people failed: {0}",
      subj_hint_mark: "Click the requester's box on a frame where they are.",
      subj_hint_review: "On each frame, is the green box the requester? If not, click their box; if the box is someone else, 'Not them'; if they are not in the frame, 'Not in this frame'. When all are right, confirm.",
      subj_summary: "{0} frames · {1} review frames · {2} frames masked whole · {3} actions",
      subj_not_them: "Not them",
      subj_absent: "Not in this frame",
      subj_confirm: "All right: confirm",
      subj_confirmed: "Confirmed.",
      subj_export: "Make the redacted copy",
      subj_erase: "Erase this person (re-encrypt, destroy the original)",
      subj_erase_sure: "The sealed recording is replaced by a copy with this person masked, and the original is destroyed. This cannot be undone. Continue?",
      subj_exported: "Copy made (SHA-256 {0}).",
      subj_download: "Download the copy",
      subj_sidecar: "Sidecar (JSON)",
      subj_erased: "{0} segment(s) replaced; the originals destroyed.",
      subj_suggested: "guess",
      ledger_title: "Ledger",
      chain_title: "Hash chain",
      chain_ok: "Chain OK",
      chain_broken: "Chain BROKEN",
      chain_rows: "{0} rows",
      chain_head: "head row {0}",
      chain_verify: "Verify again",
      ledger_kind: "Kind",
      ledger_all_kinds: "all",
      ledger_from: "From (local time)",
      ledger_to: "To (local time)",
      ledger_search: "Search",
      ledger_more: "Load the next rows",
      ledger_empty: "No rows match.",
      ledger_csv: "Export CSV",
      ledger_xlsx: "Export XLSX",
      ledger_export_note: "Exports are recorded in the ledger too.",
      col_seq: "No.",
      col_time: "Time",
      col_kind: "Kind",
      col_actor: "User",
      col_subject: "Subject",
      col_purpose: "Purpose",
      col_recipient: "Recipient",
      col_basis: "Basis",
      col_form: "Form",
      col_period: "Period",
      col_manager: "Manager",
      col_client: "Client",
      col_detail: "Detail",
      inspections_title: "Inspections",
      inspection_run: "Inspect now",
      inspection_ran: "Inspection recorded.",
      insp_id: "No.",
      insp_time: "Time",
      insp_kind: "Kind",
      insp_result: "Result",
      insp_signed: "Countersigned",
      insp_report: "Report",
      insp_ok: "OK",
      insp_problem: "problems",
      insp_daily: "daily",
      insp_on_demand: "on demand",
      insp_note: "Note",
      insp_countersign: "Countersign",
      insp_empty: "No inspections.",
      review_title: "Monthly access review",
      review_month: "Month (YYYY-MM)",
      review_show: "Show",
      review_sign: "Sign the review",
      review_signed: "Review signed.",
      review_bad_month: "Enter the month as YYYY-MM.",
      site_title: "Public notice and signs",
      site_intro: "These two addresses are public pages anyone can open without logging in, and they do not change. Link them from your website or printed notices.",
      site_notice: "CCTV operation and management policy (운영·관리 방침)",
      site_signs: "Signs (안내판)",
      site_name: "Site",
      users_title: "Users",
      user_name: "Name",
      user_role: "Role",
      user_person: "Person id (optional)",
      user_person_col: "Person id",
      user_password: "Password",
      user_state: "State",
      user_created: "Created",
      user_actions: "Actions",
      user_enabled: "enabled",
      user_disabled: "disabled",
      user_add_title: "Add a user",
      user_add: "Add",
      user_added: "Added user {0}.",
      user_set_role: "Change role",
      user_disable: "Disable",
      user_enable: "Enable",
      user_changed: "Changed {0}.",
      user_sealed_share: "sealed key share",
      user_sealed_share_hint: "Holds a share of the sealed recordings' key. If a reset, disable or role change leaves fewer holders than the threshold (k), sealed recordings can no longer be opened.",
      user_sealed_lockout_kept: "Nothing changed, to keep {0}'s share. Re-split the key among the other managers first (garim keys sealed-split).",
      user_sealed_lockout: "Without {0}'s share of the sealed key, fewer managers than its threshold (k) could open it, and the recordings sealed under it could never be opened again. Re-splitting the key among the other managers first (garim keys sealed-split) is better. Go ahead anyway?",
      user_role_of: "Role of {0}",
      users_empty: "No users.",
      k_use: "use", k_provide: "provide", k_view: "view", k_destroy: "destroy", k_login: "login",
      k_login_failed: "login failed", k_logout: "logout", k_user_change: "user change",
      k_policy_change: "policy change", k_policy_rejected: "policy rejected", k_scene_acceptance: "scene acceptance",
      k_scene_alarm: "scene alarm", k_inspection: "inspection", k_countersign: "countersign", k_review: "review",
      k_request: "request", k_custody: "key custody",
      f_month_start_ms: "Month start", f_month_end_ms: "Month end", f_office_hours: "Office hours", f_rows: "Rows",
      f_actors: "Per user", f_after_hours: "Outside office hours", f_failed_logins: "Failed logins",
      f_contractor: "Contractor activity", f_actor: "User", f_views: "views", f_uses: "uses", f_provides: "provides",
      f_destroys: "destroys", f_subjects: "subjects", f_seq: "No.", f_at_ms: "Time", f_at_kst: "Time (KST)",
      f_kind: "Kind", f_subject: "Subject", f_client: "Client", f_why: "Why", f_count: "Count",
      f_first_ms: "First", f_last_ms: "Last", f_signed_by: "Signed by", f_signed_at_ms: "Signed at",
      f_ok: "OK", f_problems: "Problems", f_month: "Month", f_rows_reviewed: "Rows reviewed", f_review: "Review",
      f_markdown: "Review (text)", f_signatures: "Signatures", f_by: "By", f_at: "At", f_signed: "Signed",
    },
  };

  const LEDGER_KINDS = ["use", "provide", "view", "destroy", "login", "login_failed", "logout", "user_change",
    "policy_change", "policy_rejected", "scene_acceptance", "scene_alarm", "inspection", "countersign", "review",
    "request", "custody"];
  const ROLES = ["manager", "access", "handler", "contractor", "auditor"];

  // Only for a server whose `me` lacks `permissions`: the role table of crates/access (role.rs).
  const ROLE_PERMS = {
    manager: ["read_status", "view_live", "view_recordings", "export_recordings", "accept_scene", "read_policy",
      "manage_policy", "manage_users", "read_ledger", "export_ledger", "verify_ledger", "read_inspections",
      "sign_inspection", "run_inspection", "sign_review", "read_requests", "manage_requests", "file_opening",
      "approve_opening"],
    access: ["read_status", "view_live", "view_recordings", "export_recordings", "read_policy", "read_requests",
      "manage_requests", "file_opening"],
    handler: ["read_status", "view_live", "read_policy", "run_inspection", "read_inspections", "read_requests",
      "manage_requests"],
    contractor: ["read_status", "view_live", "read_requests"],
    auditor: ["read_status", "read_policy", "read_ledger", "export_ledger", "verify_ledger", "read_inspections",
      "read_requests"],
  };

  let lang = readLang();

  function readLang() {
    try {
      const v = localStorage.getItem("garim.lang");
      return v === "en" ? "en" : "ko";
    } catch (_) {
      return "ko";
    }
  }

  /** The string of `key` in the current language, `{0}`, `{1}` … replaced by the arguments. */
  function t(key, ...args) {
    let s = T[lang][key];
    if (s === undefined) s = T.ko[key];
    if (s === undefined) return key;
    return s.replace(/\{(\d)\}/g, (_, i) => String(args[Number(i)] ?? ""));
  }

  /** A translated label if the dictionary has `prefix + value`, else the value itself. */
  function label(prefix, value) {
    if (value === null || value === undefined || value === "") return t("none");
    const k = prefix + value;
    return T[lang][k] !== undefined ? T[lang][k] : String(value);
  }

  // ---------------------------------------------------------------------------------------------------------
  // DOM helpers
  // ---------------------------------------------------------------------------------------------------------

  /**
   * Creates an element. `attrs`: `class`, `for`, `dataset`-style `data-*`, event handlers as `on<event>`
   * functions, properties (`value`, `checked`, `disabled`, `hidden`, `selected`) set as properties, anything else
   * through setAttribute. Children: strings and numbers become text nodes; null/undefined/false are skipped;
   * arrays are flattened. Nothing is ever parsed as HTML.
   */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === null || v === undefined || v === false) continue;
        if (k.startsWith("on") && typeof v === "function") {
          el.addEventListener(k.slice(2), v);
        } else if (k === "class") {
          el.className = Array.isArray(v) ? v.filter(Boolean).join(" ") : v;
        } else if (k === "for") {
          el.htmlFor = v;
        } else if (k === "value" || k === "checked" || k === "disabled" || k === "hidden" || k === "selected") {
          el[k] = v;
        } else {
          el.setAttribute(k, v === true ? "" : String(v));
        }
      }
    }
    append(el, children);
    return el;
  }

  function append(el, children) {
    for (const c of Array.isArray(children) ? children : [children]) {
      if (c === null || c === undefined || c === false) continue;
      if (Array.isArray(c)) append(el, c);
      else if (c instanceof Node) el.appendChild(c);
      else el.appendChild(document.createTextNode(String(c)));
    }
    return el;
  }

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
    return el;
  }

  function setText(el, text) {
    el.textContent = text === null || text === undefined ? "" : String(text);
  }

  const $ = (sel, root) => (root || document).querySelector(sel);

  /** A message area: `role=alert` for errors, `role=status` for results. */
  function msgBox(id, role) {
    return h("div", { id, class: "msg", role: role || "alert", "aria-live": role === "status" ? "polite" : "assertive" });
  }

  function showMsg(el, text, kind) {
    if (!el) return;
    el.classList.remove("msg-error", "msg-ok");
    if (text) el.classList.add(kind === "ok" ? "msg-ok" : "msg-error");
    setText(el, text || "");
  }

  function errText(e) {
    if (e && e.message) return e.message;
    return String(e);
  }

  /** A labelled input: returns [label, input] wrapped in a `.field` div. */
  function field(id, text, input) {
    input.id = id;
    return h("div", { class: "field" }, h("label", { for: id }, text), input);
  }

  function dash(v) {
    return v === null || v === undefined || v === "" ? t("none") : String(v);
  }

  function pad2(n) {
    return String(n).padStart(2, "0");
  }

  // ---------------------------------------------------------------------------------------------------------
  // Time
  // ---------------------------------------------------------------------------------------------------------

  /** Local time as `YYYY-MM-DD HH:MM[:SS]`. */
  function fmtLocal(ms, seconds) {
    if (ms === null || ms === undefined || !Number.isFinite(Number(ms))) return t("none");
    const d = new Date(Number(ms));
    const s = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
    return seconds === false ? s : `${s}:${pad2(d.getSeconds())}`;
  }

  const fmtUnix = (secs) => (secs === null || secs === undefined ? t("none") : fmtLocal(Number(secs) * 1000));

  /** A server stamp (`2026-12-06T06:10:00Z`) or unix seconds shown in local time; anything else as is. */
  /**
   * A server time stamp as unix ms: the API's compact UTC form (`20261206T062227Z`, as the vault and the
   * requests write it) or any form Date.parse reads (`2026-12-06T06:22:27Z`). NaN when unreadable.
   */
  function stampMs(v) {
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(String(v || ""));
    if (m) return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
    return Date.parse(v);
  }

  function fmtStamp(v) {
    if (v === null || v === undefined || v === "") return t("none");
    if (typeof v === "number") return fmtUnix(v);
    const ms = stampMs(v);
    return Number.isFinite(ms) ? fmtLocal(ms) : String(v);
  }

  /** UTC stamp as the API reads it, without milliseconds. */
  function toStamp(ms) {
    return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
  }

  /**
   * What a user typed into a time field, as unix milliseconds (NaN when unreadable): a UTC stamp or one with an
   * offset, `YYYY-MM-DD` (local midnight), `YYYY-MM-DD HH:MM[:SS]` (local), or unix seconds.
   */
  function parseUserTime(text) {
    const s = String(text || "").trim();
    if (!s) return NaN;
    if (/^\d{9,11}$/.test(s)) return Number(s) * 1000;
    if (/(Z|[+-]\d{2}:?\d{2})$/i.test(s) && s.includes("T")) return Date.parse(s);
    const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(s);
    if (!m) return NaN;
    const d = new Date(+m[1], +m[2] - 1, +m[3], +(m[4] || 0), +(m[5] || 0), +(m[6] || 0));
    return d.getTime();
  }

  // ---------------------------------------------------------------------------------------------------------
  // API
  // ---------------------------------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, body, retryAfter) {
      super((body && body.error) || `HTTP ${status}`);
      this.status = status;
      this.body = body || {};
      this.field = this.body.field;
      this.retryAfter = retryAfter;
    }
  }

  const state = {
    me: null,
    csrf: null,
    cleanups: [],
    expired: false,
  };

  /**
   * One API call. JSON in and out; the CSRF header on every state-changing method; a 401 anywhere but the
   * login and the first `me` ends the session in the page. Non-JSON answers (files) come back as the Response.
   */
  async function api(method, path, body, opts) {
    opts = opts || {};
    const headers = { Accept: "application/json" };
    const init = { method, credentials: "same-origin", headers, cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    // Every request carries it: changes need it, and so do the reads that write a 관리대장 row (exports).
    if (state.csrf) headers["X-CSRF-Token"] = state.csrf;
    let res;
    try {
      res = await fetch(path, init);
    } catch (_) {
      throw new ApiError(0, { error: t("network_error") });
    }
    if (!res.ok) {
      let data = {};
      try {
        data = await res.json();
      } catch (_) {
        data = {};
      }
      const err = new ApiError(res.status, data, res.headers.get("Retry-After"));
      if (res.status === 401 && !opts.allow401) sessionExpired();
      // A login in another tab gave this browser a new session: take its token once and try again.
      if (res.status === 403 && !opts.retried && /x-csrf-token/i.test(String(data.error || ""))) {
        const me = await api("GET", "/api/v1/session/me", undefined, { retried: true }).catch(() => null);
        if (me && me.csrf) {
          state.csrf = me.csrf;
          return api(method, path, body, Object.assign({}, opts, { retried: true }));
        }
      }
      throw err;
    }
    const ct = res.headers.get("Content-Type") || "";
    if (ct.includes("application/json")) return res.json();
    return res;
  }

  const enc = encodeURIComponent;
  const can = (perm) => !!(state.me && Array.isArray(state.me.permissions) && state.me.permissions.includes(perm));

  // ---------------------------------------------------------------------------------------------------------
  // Shell: header, login, routing
  // ---------------------------------------------------------------------------------------------------------

  // The pages: which permission shows each in the nav (any of the list).
  const PAGES = [
    { name: "cameras", perms: ["read_status"] },
    { name: "recordings", perms: ["view_recordings"] },
    { name: "requests", perms: ["read_requests"] },
    { name: "ledger", perms: ["read_ledger", "read_inspections", "verify_ledger"] },
    { name: "site", perms: ["read_status"] },
    { name: "users", perms: ["manage_users"] },
  ];

  const mayOpen = (page) => {
    const p = PAGES.find((x) => x.name === page);
    return !!p && p.perms.some(can);
  };

  function onCleanup(fn) {
    state.cleanups.push(fn);
  }

  function runCleanups() {
    const fns = state.cleanups;
    state.cleanups = [];
    for (const fn of fns) {
      try {
        fn();
      } catch (_) {
        /* a page's cleanup must not stop the next page */
      }
    }
  }

  /** setInterval that stops with the page and skips ticks while the tab is hidden. */
  function every(ms, fn) {
    const id = setInterval(() => {
      if (!document.hidden) fn();
    }, ms);
    onCleanup(() => clearInterval(id));
  }

  function later(ms, fn) {
    const id = setTimeout(fn, ms);
    onCleanup(() => clearTimeout(id));
  }

  function listen(target, type, fn, options) {
    target.addEventListener(type, fn, options);
    onCleanup(() => target.removeEventListener(type, fn, options));
  }

  function applyStaticTexts() {
    document.documentElement.lang = lang;
    document.title = state.me && state.me.site ? `${state.me.site} · ${t("title")}` : t("title");
    setText($("#lang-switch"), t("lang_other"));
    $("#lang-switch").setAttribute("lang", lang === "ko" ? "en" : "ko");
    setText($("#logout"), t("logout"));
    setText($("#skip-link"), t("skip"));
    $("#nav").setAttribute("aria-label", t("nav_label"));
    setText($("#site-name"), state.me && state.me.site ? state.me.site : "garim");
  }

  function renderHeader() {
    applyStaticTexts();
    const nav = clear($("#nav"));
    const who = $("#whoami");
    if (!state.me) {
      nav.hidden = true;
      who.hidden = true;
      $("#logout").hidden = true;
      return;
    }
    for (const p of PAGES) {
      if (!mayOpen(p.name)) continue;
      nav.appendChild(h("a", { href: `#/${p.name}`, "data-page": p.name, class: "nav-link" }, t(`nav_${p.name}`)));
    }
    nav.hidden = false;
    clear(who);
    append(who, [h("span", { class: "who-name" }, state.me.user), " ", h("span", { class: "who-role" }, label("role_", state.me.role))]);
    who.hidden = false;
    $("#logout").hidden = false;
  }

  function markNav(page) {
    for (const a of document.querySelectorAll("#nav a")) {
      if (a.dataset.page === page) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
  }

  function setBodyPage(name) {
    for (const c of Array.from(document.body.classList)) {
      if (c.startsWith("page-")) document.body.classList.remove(c);
    }
    document.body.classList.add(`page-${name}`);
  }

  function sessionExpired() {
    if (!state.me && state.expired) return;
    state.me = null;
    state.csrf = null;
    state.expired = true;
    showLogin(t("session_expired"));
  }

  function showLogin(message) {
    runCleanups();
    state.me = null;
    renderHeader();
    setBodyPage("login");
    const main = clear($("#main"));
    const err = h("p", { id: "login-error", class: "msg", role: "alert" });
    const user = h("input", { type: "text", name: "user", autocomplete: "username", required: true, autocapitalize: "none", spellcheck: "false" });
    const pw = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
    const submit = h("button", { type: "submit", id: "login-submit", class: "btn btn-primary" }, t("login_submit"));
    const form = h("form", { id: "login-form", class: "card login-card", novalidate: true },
      h("h1", null, t("login_title")),
      h("p", { class: "muted" }, t("login_intro")),
      field("login-user", t("login_user"), user),
      field("login-password", t("login_password"), pw),
      err,
      h("div", { class: "actions" }, submit));
    if (message) showMsg(err, message);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      showMsg(err, "");
      submit.disabled = true;
      try {
        const ans = await api("POST", "/api/v1/session/login", { user: user.value, password: pw.value }, { allow401: true });
        state.csrf = ans.csrf || (ans.me && ans.me.csrf) || null;
        // The login answer may be shorter than `me` (permissions, site): ask for the whole of it.
        let me = ans.me || {};
        try {
          me = Object.assign({}, me, await api("GET", "/api/v1/session/me", undefined, { allow401: true }));
        } catch (_) {
          /* keep the login answer */
        }
        startApp(me);
      } catch (e) {
        pw.value = "";
        if (e.status === 401) showMsg(err, t("login_failed"));
        else if (e.status === 429) showMsg(err, e.retryAfter ? t("login_throttled", e.retryAfter) : errText(e));
        else showMsg(err, errText(e));
        pw.focus();
      } finally {
        submit.disabled = false;
      }
    });
    main.appendChild(h("div", { class: "login-wrap" }, form));
    user.focus();
  }

  function startApp(me) {
    state.me = me;
    state.expired = false;
    if (me.csrf) state.csrf = me.csrf;
    if (!Array.isArray(me.permissions)) me.permissions = ROLE_PERMS[me.role] || [];
    renderHeader();
    const r = ROUTES[parseHash().name];
    const target = r && r.ok() ? location.hash : "#/cameras";
    if (location.hash !== target) location.hash = target; // hashchange renders it
    else route();
  }

  function parseHash() {
    const m = /^#\/([a-z]+)(?:\/(.*))?$/.exec(location.hash || "");
    if (!m) return { name: "", arg: null };
    let arg = null;
    if (m[2] !== undefined) {
      try {
        arg = decodeURIComponent(m[2]);
      } catch (_) {
        arg = m[2];
      }
    }
    return { name: m[1], arg };
  }

  const ROUTES = {
    cameras: { page: "cameras", render: pageCameras, ok: () => can("read_status") },
    camera: { page: "cameras", render: pageCamera, ok: () => can("read_status") },
    zones: { page: "cameras", render: pageZones, ok: () => can("read_policy") || can("manage_policy") },
    recordings: { page: "recordings", render: pageRecordings, ok: () => mayOpen("recordings") },
    requests: { page: "requests", render: pageRequests, ok: () => mayOpen("requests") },
    ledger: { page: "ledger", render: pageLedger, ok: () => mayOpen("ledger") },
    site: { page: "site", render: pageSite, ok: () => true },
    users: { page: "users", render: pageUsers, ok: () => mayOpen("users") },
  };

  function route() {
    if (!state.me) return;
    runCleanups();
    const { name, arg } = parseHash();
    const r = ROUTES[name];
    const main = clear($("#main"));
    if (!r) {
      setBodyPage("notfound");
      markNav("");
      main.appendChild(h("p", { class: "notice-box" }, t("not_found_page")));
      return;
    }
    // camera and zone pages are under the cameras nav entry; the body class names the page itself
    setBodyPage(name);
    markNav(r.page);
    if (!r.ok()) {
      main.appendChild(h("p", { class: "notice-box", role: "alert" }, t("forbidden_page")));
      return;
    }
    r.render(main, arg);
  }

  async function boot() {
    applyStaticTexts();
    $("#lang-switch").addEventListener("click", () => {
      lang = lang === "ko" ? "en" : "ko";
      try {
        localStorage.setItem("garim.lang", lang);
      } catch (_) {
        /* private mode: the choice lasts this page */
      }
      renderHeader();
      if (state.me) {
        route();
      } else {
        const msg = $("#login-error");
        const keep = msg && msg.textContent === T[lang === "ko" ? "en" : "ko"].session_expired ? t("session_expired") : "";
        showLogin(keep);
      }
    });
    $("#logout").addEventListener("click", async () => {
      try {
        await api("POST", "/api/v1/session/logout", undefined, { allow401: true });
      } catch (_) {
        /* logged out either way */
      }
      state.me = null;
      state.csrf = null;
      showLogin("");
    });
    $("#skip-link").addEventListener("click", (ev) => {
      ev.preventDefault(); // not a route
      $("#main").focus();
    });
    window.addEventListener("hashchange", route);
    try {
      const me = await api("GET", "/api/v1/session/me", undefined, { allow401: true });
      startApp(me);
    } catch (e) {
      showLogin(e.status === 401 ? "" : errText(e));
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Cameras grid
  // ---------------------------------------------------------------------------------------------------------

  /** The label and colour class of a camera state (`starting`, `streaming`, `retrying(n)`, `failed(reason)`). */
  function cameraState(s) {
    const v = String(s || "");
    let m;
    if (v === "streaming") return { text: t("state_streaming"), cls: "ok" };
    if (v === "starting") return { text: t("state_starting"), cls: "warn" };
    if ((m = /^retrying\((.*)\)$/.exec(v))) return { text: t("state_retrying", m[1]), cls: "warn" };
    if ((m = /^failed\(([\s\S]*)\)$/.exec(v))) return { text: t("state_failed", m[1]), cls: "bad" };
    return { text: v || t("none"), cls: "warn" };
  }

  const fmtNum = (v, digits) => (v === null || v === undefined || !Number.isFinite(Number(v)) ? t("none") : Number(v).toFixed(digits));
  const fmtMs = (v) => (v === null || v === undefined ? t("none") : `${fmtNum(v, 0)} ms`);
  const fmtShare = (v) => (v === null || v === undefined ? t("none") : `${fmtNum(Number(v) * 100, 1)}%`);

  /** A scene alarm as text: the API gives a string, or an object with a reason. */
  function alarmText(a) {
    if (!a) return "";
    if (typeof a === "string") return a;
    return a.reason || a.verdict || JSON.stringify(a);
  }

  const snapshotUrl = (id) => `/api/v1/cameras/${enc(id)}/snapshot.jpg?t=${Date.now()}`;

  function pageCameras(main) {
    const grid = h("div", { id: "camera-grid", class: "camera-grid", "aria-live": "off" });
    const err = msgBox("cameras-error");
    main.appendChild(h("section", { id: "cameras-page", class: "page" },
      h("div", { class: "page-head" }, h("h1", null, t("cameras_title")), h("p", { class: "muted" }, t("cameras_refresh_note"))),
      err, grid));
    const tiles = new Map(); // id → {el, img, refs}
    const live = can("view_live");

    function buildTile(c) {
      const refs = {};
      let img = null;
      const picture = h("div", { class: "snapshot-box" });
      if (live) {
        img = h("img", { class: "snapshot", alt: t("snapshot_alt", c.id), width: 320, height: 180, decoding: "async" });
        img.addEventListener("load", () => el.classList.remove("no-picture"));
        img.addEventListener("error", () => el.classList.add("no-picture"));
        append(picture, [img, h("span", { class: "snapshot-placeholder" }, t("no_picture"))]);
      } else {
        append(picture, h("span", { class: "snapshot-placeholder shown" }, t("no_live_permission")));
      }
      refs.state = h("span", { class: "badge state-badge" });
      refs.alarm = h("span", { class: "badge badge-bad alarm-badge", hidden: true });
      refs.fps = h("dd", { class: "stat-fps" });
      refs.latency = h("dd", { class: "stat-latency" });
      refs.failClosed = h("dd", { class: "stat-failclosed" });
      refs.location = h("p", { class: "camera-location" });
      const link = h("a", { class: "tile-link", href: `#/camera/${enc(c.id)}`, "aria-label": t("open_camera", c.id) },
        picture, h("h2", { class: "camera-id" }, c.id));
      const el = h("article", { class: "camera-tile", "data-camera": c.id },
        link, refs.location,
        h("div", { class: "badges" }, refs.state, refs.alarm),
        h("dl", { class: "camera-stats" },
          h("div", null, h("dt", null, t("fps")), refs.fps),
          h("div", null, h("dt", null, t("latency_p99")), refs.latency),
          h("div", null, h("dt", null, t("fail_closed_share")), refs.failClosed)));
      // The whole tile opens the camera; the link inside stays the keyboard target.
      el.addEventListener("click", (ev) => {
        if (ev.target.closest("a")) return;
        location.hash = `#/camera/${enc(c.id)}`;
      });
      if (img) img.src = snapshotUrl(c.id);
      return { el, img, refs };
    }

    function update(tile, c) {
      const s = cameraState(c.state);
      setText(tile.refs.state, s.text);
      tile.refs.state.className = `badge state-badge badge-${s.cls}`;
      tile.el.dataset.state = s.cls;
      setText(tile.refs.location, dash(c.location));
      setText(tile.refs.fps, `${fmtNum(c.fps_in, 1)} / ${fmtNum(c.fps_out, 1)}`);
      setText(tile.refs.latency, fmtMs(c.latency_p99_ms));
      setText(tile.refs.failClosed, fmtShare(c.fail_closed_share));
      const alarm = alarmText(c.scene_alarm);
      tile.refs.alarm.hidden = !alarm;
      setText(tile.refs.alarm, alarm ? `${t("scene_alarm")}: ${alarm}` : "");
      tile.el.classList.toggle("has-alarm", !!alarm);
    }

    async function load(first) {
      let list;
      try {
        list = (await api("GET", "/api/v1/cameras")).cameras || [];
        showMsg(err, "");
      } catch (e) {
        if (e.status !== 401) showMsg(err, errText(e));
        return;
      }
      const ids = list.map((c) => String(c.id));
      const same = !first && ids.length === tiles.size && ids.every((id) => tiles.has(id));
      if (!same) {
        clear(grid);
        tiles.clear();
        for (const c of list) {
          const tile = buildTile(c);
          tiles.set(String(c.id), tile);
          grid.appendChild(tile.el);
        }
        if (!list.length) grid.appendChild(h("p", { class: "empty" }, t("cameras_empty")));
      } else {
        for (const tile of tiles.values()) if (tile.img) tile.img.src = snapshotUrl(tile.el.dataset.camera);
      }
      for (const c of list) update(tiles.get(String(c.id)), c);
    }

    load(true);
    every(3000, () => load(false));
  }

  // ---------------------------------------------------------------------------------------------------------
  // Camera page: live view, trend charts, events, scene
  // ---------------------------------------------------------------------------------------------------------

  /**
   * A small line chart on a canvas: axes, the min and max of the values on the y axis, the first and last time
   * on the x axis. `points` are {t: unix secs, v: number|null}; a null breaks the line.
   */
  function drawChart(canvas, points, opts) {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(120, canvas.clientWidth || 300);
    const hgt = Math.max(80, canvas.clientHeight || 140);
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(hgt * dpr);
    const ctx = canvas.getContext("2d");
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, hgt);
    const css = getComputedStyle(canvas);
    const ink = css.getPropertyValue("--chart-ink").trim() || "#555";
    const grid = css.getPropertyValue("--chart-grid").trim() || "#ddd";
    const line = css.getPropertyValue("--chart-line").trim() || "#1f5fbf";
    ctx.font = "11px system-ui, sans-serif";
    const pad = { l: 46, r: 8, t: 8, b: 18 };
    const pw = w - pad.l - pad.r;
    const ph = hgt - pad.t - pad.b;
    const vals = points.filter((p) => p.v !== null && Number.isFinite(p.v));
    // axes
    ctx.strokeStyle = grid;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(pad.l + 0.5, pad.t);
    ctx.lineTo(pad.l + 0.5, pad.t + ph + 0.5);
    ctx.lineTo(pad.l + pw, pad.t + ph + 0.5);
    ctx.stroke();
    ctx.fillStyle = ink;
    if (!vals.length) {
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.fillText(t("chart_no_data"), pad.l + pw / 2, pad.t + ph / 2);
      canvas.setAttribute("aria-label", `${opts.title}: ${t("chart_no_data")}`);
      return;
    }
    let min = Math.min(...vals.map((p) => p.v));
    let max = Math.max(...vals.map((p) => p.v));
    const dataMin = min;
    const dataMax = max;
    if (opts.zero) min = Math.min(0, min);
    if (max === min) max = min + (opts.minSpan || 1);
    const t0 = points[0].t;
    const t1 = points[points.length - 1].t;
    const span = Math.max(1, t1 - t0);
    const x = (tt) => pad.l + ((tt - t0) / span) * pw;
    const y = (v) => pad.t + ph - ((v - min) / (max - min)) * ph;
    // max gridline
    ctx.strokeStyle = grid;
    ctx.setLineDash([3, 3]);
    ctx.beginPath();
    ctx.moveTo(pad.l, y(max) + 0.5);
    ctx.lineTo(pad.l + pw, y(max) + 0.5);
    ctx.stroke();
    ctx.setLineDash([]);
    // labels
    ctx.textAlign = "right";
    ctx.textBaseline = "top";
    ctx.fillText(opts.fmt(max), pad.l - 4, pad.t - 2);
    ctx.textBaseline = "bottom";
    ctx.fillText(opts.fmt(min), pad.l - 4, pad.t + ph + 2);
    ctx.textBaseline = "top";
    ctx.textAlign = "left";
    ctx.fillText(fmtLocal(t0 * 1000, false).slice(11), pad.l, pad.t + ph + 4);
    ctx.textAlign = "right";
    ctx.fillText(fmtLocal(t1 * 1000, false).slice(11), pad.l + pw, pad.t + ph + 4);
    // the line, broken at gaps
    ctx.strokeStyle = line;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    let pen = false;
    for (const p of points) {
      if (p.v === null || !Number.isFinite(p.v)) {
        pen = false;
        continue;
      }
      if (pen) ctx.lineTo(x(p.t), y(p.v));
      else ctx.moveTo(x(p.t), y(p.v));
      pen = true;
    }
    ctx.stroke();
    const last = vals[vals.length - 1].v;
    canvas.setAttribute("aria-label", `${opts.title}: ${opts.fmt(last)} (min ${opts.fmt(dataMin)}, max ${opts.fmt(dataMax)})`);
  }

  function pageCamera(main, id) {
    const err = msgBox("camera-error");
    const head = h("div", { class: "page-head" },
      h("a", { href: "#/cameras", class: "back-link" }, t("back_to_cameras")),
      h("h1", null, t("camera_title", id)));
    const locEl = h("p", { class: "camera-location" });
    const stateBadge = h("span", { class: "badge state-badge" });
    const stats = h("dl", { class: "camera-stats wide" });
    const tools = h("div", { class: "actions" });
    if (can("manage_policy")) {
      tools.appendChild(h("a", { id: "edit-zones", class: "btn", href: `#/zones/${enc(id)}` }, t("edit_zones")));
    }
    let live = null;
    const liveBox = h("div", { class: "live-box" });
    if (can("view_live")) {
      live = h("img", { id: "live-view", class: "live-view", alt: t("live_alt", id), src: `/api/v1/cameras/${enc(id)}/live.mjpeg` });
      live.addEventListener("error", () => liveBox.classList.add("no-picture"));
      live.addEventListener("load", () => liveBox.classList.remove("no-picture"));
      append(liveBox, [live, h("span", { class: "snapshot-placeholder" }, t("no_picture"))]);
      // An MJPEG stream stays open until the image lets go of it.
      onCleanup(() => {
        live.removeAttribute("src");
        live.src = "data:,";
      });
    } else {
      append(liveBox, h("span", { class: "snapshot-placeholder shown" }, t("no_live_permission")));
    }
    const charts = [
      { id: "chart-fps", title: t("chart_fps"), get: (s) => s.fps_in, fmt: (v) => fmtNum(v, 1), zero: true },
      { id: "chart-latency", title: t("chart_latency"), get: (s) => s.latency_p99_ms, fmt: (v) => fmtNum(v, 0), zero: true },
      { id: "chart-failclosed", title: t("chart_failclosed"), get: (s) => (s.fail_closed_share === null || s.fail_closed_share === undefined ? null : s.fail_closed_share * 100), fmt: (v) => `${fmtNum(v, 1)}`, zero: true, minSpan: 1 },
    ];
    for (const c of charts) c.canvas = h("canvas", { id: c.id, class: "chart", role: "img", "aria-label": c.title }, t("chart_no_data"));
    const events = h("ol", { id: "camera-events", class: "event-list" });
    const scenePanel = h("section", { id: "scene-panel", class: "card", "aria-labelledby": "scene-title" });

    main.appendChild(h("section", { id: "camera-page", class: "page", "data-camera": id },
      head, err,
      h("div", { class: "camera-layout" },
        h("div", { class: "camera-main" },
          h("section", { class: "card" }, h("h2", null, t("live_view")), liveBox),
          h("section", { class: "card" }, h("h2", null, t("trend_title")),
            h("div", { class: "charts" }, charts.map((c) => h("figure", { class: "chart-box" }, h("figcaption", null, c.title), c.canvas))))),
        h("div", { class: "camera-side" },
          h("section", { class: "card" }, h("h2", null, t("stats_title")), locEl, h("div", { class: "badges" }, stateBadge), stats, tools),
          scenePanel,
          h("section", { class: "card" }, h("h2", null, t("events_title")), events)))));

    async function loadStatus() {
      try {
        const list = (await api("GET", "/api/v1/cameras")).cameras || [];
        const c = list.find((x) => String(x.id) === id);
        if (!c) {
          showMsg(err, t("camera_not_found"));
          return;
        }
        showMsg(err, "");
        setText(locEl, dash(c.location));
        const s = cameraState(c.state);
        setText(stateBadge, s.text);
        stateBadge.className = `badge state-badge badge-${s.cls}`;
        clear(stats);
        const row = (k, v) => h("div", null, h("dt", null, k), h("dd", null, v));
        append(stats, [
          row(t("fps"), `${fmtNum(c.fps_in, 1)} / ${fmtNum(c.fps_out, 1)}`),
          row(t("latency_p99"), fmtMs(c.latency_p99_ms)),
          row(t("fail_closed_share"), fmtShare(c.fail_closed_share)),
          row(t("frames"), `${dash(c.frames_in)} / ${dash(c.frames_out)}`),
          row(t("reconnects"), dash(c.reconnects)),
        ]);
      } catch (e) {
        if (e.status !== 401) showMsg(err, errText(e));
      }
    }

    let trend = null;
    function drawCharts() {
      const samples = (trend && Array.isArray(trend.samples) ? trend.samples : []).slice().sort((a, b) => a.t - b.t);
      for (const c of charts) {
        const pts = samples.map((s) => {
          const v = c.get(s);
          return { t: Number(s.t), v: v === null || v === undefined ? null : Number(v) };
        });
        drawChart(c.canvas, pts, c);
      }
    }

    async function loadTrend() {
      try {
        trend = await api("GET", `/api/v1/cameras/${enc(id)}/trend`);
      } catch (e) {
        if (e.status !== 401) showMsg(err, errText(e));
        trend = null;
      }
      drawCharts();
      clear(events);
      const evs = (trend && Array.isArray(trend.events) ? trend.events : []).slice().sort((a, b) => b.t - a.t);
      if (!evs.length) events.appendChild(h("li", { class: "empty" }, t("events_empty")));
      for (const e of evs) {
        events.appendChild(h("li", null, h("time", { datetime: toStamp(Number(e.t) * 1000) }, fmtUnix(e.t)), " ", h("span", null, dash(e.text))));
      }
    }

    async function loadScene() {
      clear(scenePanel);
      scenePanel.appendChild(h("h2", { id: "scene-title" }, t("scene_title")));
      const msg = msgBox("scene-message", "status");
      let sc;
      try {
        sc = await api("GET", `/api/v1/cameras/${enc(id)}/scene`);
      } catch (e) {
        scenePanel.appendChild(msg);
        if (e.status !== 401) showMsg(msg, errText(e));
        return;
      }
      const dl = h("dl", { class: "kv" });
      const row = (k, v) => append(dl, [h("dt", null, k), h("dd", null, v)]);
      row(t("scene_reference_since"), sc.reference_since_unix ? fmtUnix(sc.reference_since_unix) : t("none"));
      row(t("scene_reference_by"), sc.reference_by || t("scene_reference_auto"));
      const la = sc.last_acceptance;
      if (la) {
        const text = typeof la === "string" ? la : `${fmtUnix(la.at_unix)} · ${dash(la.by)} · ${la.accepted ? t("accepted") : t("refused")}${la.message ? ` · ${la.message}` : ""}`;
        row(t("scene_last_acceptance"), text);
      }
      scenePanel.appendChild(dl);
      const alarm = alarmText(sc.alarm);
      if (!alarm) {
        scenePanel.appendChild(h("p", { class: "scene-ok" }, t("scene_alarm_none")));
        scenePanel.appendChild(msg);
        return;
      }
      scenePanel.appendChild(h("p", { class: "scene-alarm", role: "alert" },
        h("span", { class: "badge badge-bad" }, t("scene_alarm")), " ", alarm,
        sc.alarm && sc.alarm.since_unix ? ` (${t("scene_alarm_since")} ${fmtUnix(sc.alarm.since_unix)})` : ""));
      if (can("accept_scene")) {
        const checked = h("input", { type: "checkbox", id: "scene-zones-checked" });
        const btn = h("button", { type: "submit", id: "scene-accept", class: "btn btn-primary" }, t("scene_accept"));
        const form = h("form", { class: "scene-form" },
          h("div", { class: "check" }, checked, h("label", { for: "scene-zones-checked" }, t("scene_zones_checked"))),
          h("div", { class: "actions" }, btn));
        form.addEventListener("submit", async (ev) => {
          ev.preventDefault();
          btn.disabled = true;
          showMsg(msg, "");
          try {
            const ans = await api("POST", `/api/v1/cameras/${enc(id)}/scene/accept`, { zones_checked: checked.checked });
            const text = ans && (ans.message || (ans.accepted === false ? t("refused") : "")) ? `${t("scene_accepted")} ${ans.message || ""}` : t("scene_accepted");
            await loadScene();
            showMsg($("#scene-message"), text.trim(), ans && ans.accepted === false ? "error" : "ok");
          } catch (e) {
            showMsg(msg, errText(e));
            btn.disabled = false;
          }
        });
        scenePanel.appendChild(form);
      }
      scenePanel.appendChild(msg);
    }

    loadStatus();
    loadTrend();
    loadScene();
    every(3000, loadStatus);
    every(10000, loadTrend);
    let resizeTimer = 0;
    listen(window, "resize", () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(drawCharts, 150);
    });
  }

  // ---------------------------------------------------------------------------------------------------------
  // Zone editor
  // ---------------------------------------------------------------------------------------------------------

  const KINDS = ["privacy_masks", "recording_zones"];
  const HIT_PX = 8;

  /** Ray casting: whether fraction point p is inside the polygon (fractions). */
  function inside(p, poly) {
    let c = false;
    for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
      const [xi, yi] = poly[i];
      const [xj, yj] = poly[j];
      if (yi > p[1] !== yj > p[1] && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) c = !c;
    }
    return c;
  }

  const r4 = (v) => Math.round(v * 10000) / 10000;

  function pageZones(main, id) {
    const editable = can("manage_policy");
    const msg = h("div", { id: "zone-message", class: "msg", role: "status", "aria-live": "polite" });
    const wrap = h("div", { class: "zone-canvas-wrap" });
    const canvas = h("canvas", { id: "zone-canvas", class: "zone-canvas", tabindex: "0", "aria-label": t("zone_canvas_label"), "aria-describedby": "zone-help" });
    wrap.appendChild(canvas);
    const kindSel = h("select", null,
      h("option", { value: "privacy_masks" }, t("zone_kind_privacy")),
      h("option", { value: "recording_zones" }, t("zone_kind_recording")));
    const closeBtn = h("button", { type: "button", id: "zone-close", class: "btn" }, t("zone_close"));
    const cancelBtn = h("button", { type: "button", id: "zone-cancel", class: "btn" }, t("zone_cancel"));
    const deleteBtn = h("button", { type: "button", id: "zone-delete", class: "btn btn-danger" }, t("zone_delete"));
    const preview = h("input", { type: "checkbox", id: "zone-preview" });
    const list = h("ul", { id: "zone-list", class: "zone-list", "aria-label": t("zone_list") });
    const otherErrors = h("ul", { class: "zone-other-errors" });
    const reason = h("input", { type: "text", value: t("zone_reason_default"), maxlength: "500" });
    const saveBtn = h("button", { type: "submit", id: "zone-save", class: "btn btn-primary" }, t("zone_save"));
    const drawingNote = h("p", { class: "muted zone-drawing", "aria-live": "polite" });
    const saveForm = h("form", { class: "zone-save-form" },
      field("zone-reason", t("zone_reason"), reason),
      h("div", { class: "actions" }, saveBtn));

    main.appendChild(h("section", { id: "zone-editor", class: "page", "data-camera": id },
      h("div", { class: "page-head" },
        h("a", { href: `#/camera/${enc(id)}`, class: "back-link" }, `← ${t("camera_title", id)}`),
        h("h1", null, t("zones_title", id))),
      h("div", { class: "zone-layout" },
        h("div", { class: "zone-stage" }, wrap, drawingNote),
        // Without manage_policy the page only shows the polygons: no drawing tools, no save.
        editable
          ? h("div", { class: "zone-side card" },
            field("zone-kind", t("zone_kind"), kindSel),
            h("div", { class: "actions wrap" }, closeBtn, cancelBtn, deleteBtn),
            h("div", { class: "check" }, preview, h("label", { for: "zone-preview" }, t("zone_preview"))),
            h("p", { id: "zone-help", class: "muted small" }, t("zone_help")),
            h("h2", null, t("zone_list")), list, otherErrors,
            saveForm,
            msg)
          : h("div", { class: "zone-side card" },
            h("p", { class: "notice-box" }, t("zone_readonly")),
            h("div", { class: "check" }, preview, h("label", { for: "zone-preview" }, t("zone_preview"))),
            h("h2", null, t("zone_list")), list))));

    // Editor state: polygons as fractions of the frame; the one being drawn; the selection; a drag.
    const polys = { privacy_masks: [], recording_zones: [] };
    let drawing = null; // {kind, points: [[x,y]…]}
    let selected = null; // {kind, index}
    let drag = null; // {poly: array of points, vi, moved}
    let hover = null; // [x,y] in canvas px, for the rubber band
    let cursor = null; // [x,y] in canvas px: the keyboard's crosshair (arrows move it, Space adds a point)
    let errors = []; // [{kind, index, message}]
    let base = null;
    let img = null; // the snapshot, when it loaded
    let frame = { w: 16, h: 9 };
    let W = 0;
    let H = 0;
    const ctx = canvas.getContext("2d");

    /** Sizes the canvas: at most 960 px wide, the frame's aspect, and whole on screen (no scrolling to reach it). */
    function layout() {
      const top = wrap.getBoundingClientRect().top + window.scrollY;
      const fitHeight = Math.max(240, window.innerHeight - top - 12);
      const avail = Math.max(200, Math.min(960, wrap.clientWidth || 960, (fitHeight * frame.w) / frame.h));
      W = Math.round(avail);
      H = Math.round((avail * frame.h) / frame.w);
      const dpr = window.devicePixelRatio || 1;
      canvas.width = Math.round(W * dpr);
      canvas.height = Math.round(H * dpr);
      canvas.style.width = `${W}px`;
      canvas.style.height = `${H}px`;
      draw();
    }

    /** Pointer position in canvas (CSS) pixels, whatever the canvas' displayed size. */
    function pos(ev) {
      const r = canvas.getBoundingClientRect();
      return [((ev.clientX - r.left) / (r.width || 1)) * W, ((ev.clientY - r.top) / (r.height || 1)) * H];
    }

    const px = (pt) => [pt[0] * W, pt[1] * H];
    const frac = (p) => [p[0] / W, p[1] / H];
    const near = (a, b) => Math.hypot(a[0] - b[0], a[1] - b[1]) <= HIT_PX;

    function path(points, closed) {
      ctx.beginPath();
      points.forEach((pt, i) => {
        const [x, y] = px(pt);
        if (i === 0) ctx.moveTo(x, y);
        else ctx.lineTo(x, y);
      });
      if (closed) ctx.closePath();
    }

    function handles(points, color) {
      for (const pt of points) {
        const [x, y] = px(pt);
        ctx.fillStyle = "#fff";
        ctx.strokeStyle = color;
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        ctx.rect(x - 4, y - 4, 8, 8);
        ctx.fill();
        ctx.stroke();
      }
    }

    function draw() {
      if (!ctx || !W) return;
      const dpr = window.devicePixelRatio || 1;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, W, H);
      if (img) {
        ctx.drawImage(img, 0, 0, W, H);
      } else {
        ctx.fillStyle = "#4a4f57";
        ctx.fillRect(0, 0, W, H);
        ctx.fillStyle = "#e8eaed";
        ctx.font = "14px system-ui, sans-serif";
        ctx.textAlign = "center";
        ctx.textBaseline = "middle";
        ctx.fillText(t("zone_no_snapshot"), W / 2, H / 2);
      }
      const full = preview.checked;
      ctx.font = "bold 13px system-ui, sans-serif";
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      for (const kind of ["recording_zones", "privacy_masks"]) {
        polys[kind].forEach((poly, i) => {
          const isSel = selected && selected.kind === kind && selected.index === i;
          const hasErr = errors.some((e) => e.kind === kind && Number(e.index) === i);
          path(poly, true);
          if (kind === "privacy_masks") {
            ctx.fillStyle = full ? "#111418" : "rgba(17, 20, 24, 0.6)";
            ctx.fill();
            ctx.strokeStyle = hasErr ? "#e5484d" : isSel ? "#ffb224" : "rgba(255,255,255,0.85)";
          } else {
            ctx.fillStyle = "rgba(48, 164, 108, 0.12)";
            ctx.fill();
            ctx.strokeStyle = hasErr ? "#e5484d" : isSel ? "#ffb224" : "#30a46c";
          }
          ctx.lineWidth = isSel ? 3 : 2;
          ctx.setLineDash(kind === "privacy_masks" && !isSel ? [6, 4] : []);
          // the full preview shows a mask as the stream will: solid, without an outline
          if (!(full && kind === "privacy_masks" && !isSel && !hasErr)) ctx.stroke();
          ctx.setLineDash([]);
          if (!full || kind !== "privacy_masks") {
            // the number of the polygon in its list, at its centre
            const cx = poly.reduce((s, p) => s + p[0], 0) / poly.length;
            const cy = poly.reduce((s, p) => s + p[1], 0) / poly.length;
            ctx.lineWidth = 3;
            ctx.strokeStyle = "rgba(0, 0, 0, 0.65)";
            ctx.strokeText(String(i + 1), cx * W, cy * H);
            ctx.fillStyle = kind === "privacy_masks" ? "#fff" : "#b8f0cf";
            ctx.fillText(String(i + 1), cx * W, cy * H);
          }
          if (isSel || !full) handles(poly, isSel ? "#ffb224" : kind === "privacy_masks" ? "#111418" : "#30a46c");
        });
      }
      if (drawing) {
        const pts = drawing.points;
        const color = drawing.kind === "privacy_masks" ? "#ffb224" : "#30a46c";
        ctx.strokeStyle = color;
        ctx.lineWidth = 2;
        ctx.setLineDash([5, 4]);
        path(pts, false);
        if (hover && pts.length) ctx.lineTo(hover[0], hover[1]);
        ctx.stroke();
        ctx.setLineDash([]);
        handles(pts, color);
        if (pts.length >= 3) {
          // the first point closes the polygon: ring it
          const [x, y] = px(pts[0]);
          ctx.beginPath();
          ctx.arc(x, y, HIT_PX, 0, Math.PI * 2);
          ctx.strokeStyle = color;
          ctx.stroke();
        }
      }
      if (cursor && document.activeElement === canvas) {
        // the keyboard's crosshair
        const [x, y] = cursor;
        ctx.strokeStyle = "#ffb224";
        ctx.lineWidth = 2;
        ctx.beginPath();
        ctx.moveTo(x - 12, y);
        ctx.lineTo(x + 12, y);
        ctx.moveTo(x, y - 12);
        ctx.lineTo(x, y + 12);
        ctx.stroke();
      }
    }

    function kindLabel(kind, i) {
      return t(kind === "privacy_masks" ? "zone_privacy_n" : "zone_recording_n", i + 1);
    }

    function renderList() {
      clear(list);
      clear(otherErrors);
      let n = 0;
      for (const kind of KINDS) {
        polys[kind].forEach((poly, i) => {
          n++;
          const isSel = selected && selected.kind === kind && selected.index === i;
          const li = h("li", { class: ["zone-item", `zone-${kind}`, isSel && "selected"], "data-kind": kind, "data-index": i },
            h("button", { type: "button", class: "zone-select", "aria-pressed": isSel ? "true" : "false", onclick: () => select({ kind, index: i }) },
              h("span", { class: "zone-name" }, kindLabel(kind, i)), " ", h("span", { class: "muted" }, t("zone_points", poly.length))));
          for (const e of errors.filter((x) => x.kind === kind && Number(x.index) === i)) {
            li.appendChild(h("p", { class: "zone-error", "data-kind": kind, "data-index": String(e.index), role: "alert" }, dash(e.message)));
          }
          list.appendChild(li);
        });
      }
      if (!n) list.appendChild(h("li", { class: "empty" }, t("zone_list_empty")));
      // errors naming a polygon that is not in the list any more
      for (const e of errors) {
        const k = KINDS.includes(e.kind) ? e.kind : null;
        if (k && Number(e.index) >= 0 && Number(e.index) < polys[k].length) continue;
        otherErrors.appendChild(h("li", { class: "zone-error", "data-kind": String(e.kind), "data-index": String(e.index) }, `${String(e.kind)}[${String(e.index)}]: ${dash(e.message)}`));
      }
      deleteBtn.disabled = !selected;
      closeBtn.disabled = !drawing;
      cancelBtn.disabled = !drawing;
      setText(drawingNote, drawing ? t("zone_drawing", drawing.points.length) : "");
    }

    function refresh() {
      renderList();
      draw();
    }

    function select(sel) {
      selected = sel;
      if (sel) kindSel.value = sel.kind;
      refresh();
    }

    function closeDrawing() {
      if (!drawing) return;
      if (drawing.points.length < 3) {
        showMsg(msg, t("zone_need_three"));
        return;
      }
      polys[drawing.kind].push(drawing.points);
      drawing = null;
      hover = null;
      errors = [];
      showMsg(msg, "");
      refresh();
    }

    function cancelDrawing() {
      drawing = null;
      hover = null;
      refresh();
    }

    function deleteSelected() {
      if (!selected) return;
      polys[selected.kind].splice(selected.index, 1);
      selected = null;
      errors = [];
      refresh();
    }

    /** The vertex under canvas point p: the drawn polygon's own first, then the selected one, then any. */
    function vertexAt(p) {
      if (drawing) {
        const vi = drawing.points.findIndex((pt) => near(px(pt), p));
        return vi >= 0 ? { poly: drawing.points, vi, sel: null } : null;
      }
      const order = [];
      if (selected) order.push(selected);
      for (const kind of KINDS) polys[kind].forEach((_, index) => order.push({ kind, index }));
      for (const s of order) {
        const poly = polys[s.kind][s.index];
        if (!poly) continue;
        const vi = poly.findIndex((pt) => near(px(pt), p));
        if (vi >= 0) return { poly, vi, sel: s };
      }
      return null;
    }

    /** The topmost polygon of this kind under fraction point f. */
    function polygonAt(f, kind) {
      for (let i = polys[kind].length - 1; i >= 0; i--) {
        if (inside(f, polys[kind][i])) return { kind, index: i };
      }
      return null;
    }

    function pointerDown(p) {
      canvas.focus({ preventScroll: true });
      // closing: the first vertex of a polygon with ≥ 3 points
      if (drawing && drawing.points.length >= 3 && near(px(drawing.points[0]), p)) {
        closeDrawing();
        return;
      }
      const v = vertexAt(p);
      if (v) {
        if (drawing && v.vi === 0) return; // first point of a too-short polygon: nothing to do
        drag = { poly: v.poly, vi: v.vi, moved: false };
        if (v.sel) select(v.sel);
        return;
      }
      const f = frac(p);
      if (!drawing) {
        // A click inside a polygon of the kind being drawn selects it; anywhere else starts a polygon.
        const hit = polygonAt(f, kindSel.value);
        if (hit) {
          select(hit);
          return;
        }
        drawing = { kind: kindSel.value, points: [] };
        selected = null;
      }
      drawing.points.push(f);
      hover = p;
      refresh();
    }

    function pointerMove(p) {
      if (drag) {
        drag.poly[drag.vi] = frac(p);
        drag.moved = true;
        draw();
        return;
      }
      hover = p;
      const v = vertexAt(p);
      canvas.classList.toggle("over-vertex", !!v);
      if (drawing) draw();
    }

    function pointerUp() {
      if (drag) {
        const moved = drag.moved;
        drag = null;
        if (moved) refresh();
      }
    }

    // Mouse: down on the canvas, move and up anywhere (a vertex may be dragged past the edge).
    canvas.addEventListener("mousedown", (ev) => {
      if (ev.button !== 0 || !editable) return;
      pointerDown(pos(ev));
    });
    canvas.addEventListener("mousemove", (ev) => {
      if (!drag) pointerMove(pos(ev));
    });
    // The keyboard's crosshair shows only while the canvas has the focus.
    canvas.addEventListener("focus", () => draw());
    canvas.addEventListener("blur", () => draw());
    canvas.addEventListener("mouseleave", () => {
      hover = null;
      if (drawing && !drag) draw();
    });
    listen(window, "mousemove", (ev) => {
      if (drag) pointerMove(pos(ev));
    });
    listen(window, "mouseup", () => pointerUp());
    // Touch (tablets): the same, without the synthetic mouse events that follow.
    canvas.addEventListener("touchstart", (ev) => {
      if (ev.touches.length !== 1 || !editable) return;
      ev.preventDefault();
      pointerDown(pos(ev.touches[0]));
    }, { passive: false });
    canvas.addEventListener("touchmove", (ev) => {
      if (!drag || ev.touches.length !== 1) return;
      ev.preventDefault();
      pointerMove(pos(ev.touches[0]));
    }, { passive: false });
    canvas.addEventListener("touchend", (ev) => {
      ev.preventDefault();
      pointerUp();
    }, { passive: false });

    listen(document, "keydown", (ev) => {
      const el = ev.target;
      const typing = el && (el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable ||
        (el.tagName === "INPUT" && !["checkbox", "radio", "button", "submit"].includes(el.type)));
      if (typing || ev.altKey || ev.ctrlKey || ev.metaKey || !editable) return;
      // Keyboard drawing on the focused canvas: arrows move a crosshair (Shift: 5 % steps), Space adds a point
      // there (or closes the polygon on its first point, or selects what is under it).
      const arrows = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
      if (el === canvas && (arrows[ev.key] || ev.key === " ")) {
        ev.preventDefault();
        if (!cursor) cursor = [W / 2, H / 2];
        if (arrows[ev.key]) {
          const step = ev.shiftKey ? 0.05 : 0.01;
          const [dx, dy] = arrows[ev.key];
          cursor = [Math.min(W, Math.max(0, cursor[0] + dx * step * W)), Math.min(H, Math.max(0, cursor[1] + dy * step * H))];
          hover = cursor;
          draw();
        } else {
          pointerDown(cursor);
          pointerUp();
        }
        return;
      }
      if (ev.key === "Enter" && drawing) {
        ev.preventDefault();
        closeDrawing();
      } else if (ev.key === "Escape") {
        if (drawing) cancelDrawing();
        else if (selected) select(null);
      } else if ((ev.key === "Delete" || ev.key === "Backspace") && !drawing && selected) {
        if (el && el.tagName === "BUTTON" && el !== deleteBtn && ev.key === "Backspace") return;
        ev.preventDefault();
        deleteSelected();
      } else if (ev.key === "Backspace" && drawing && el === canvas) {
        ev.preventDefault();
        drawing.points.pop();
        if (!drawing.points.length) drawing = null;
        refresh();
      }
    });

    closeBtn.addEventListener("click", closeDrawing);
    cancelBtn.addEventListener("click", cancelDrawing);
    deleteBtn.addEventListener("click", deleteSelected);
    preview.addEventListener("change", draw);
    kindSel.addEventListener("change", () => {
      if (drawing && !drawing.points.length) drawing.kind = kindSel.value;
    });

    saveForm.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      // Sent as drawn: the server validates (and names the polygon); only the unfinished one stays here.
      const body = { base_sha256: base, reason: reason.value };
      for (const kind of KINDS) body[kind] = polys[kind].filter((p) => p.length >= 1).map((p) => p.map(([x, y]) => [r4(x), r4(y)]));
      saveBtn.disabled = true;
      showMsg(msg, t("loading"), "ok");
      try {
        const ans = await api("POST", `/api/v1/cameras/${enc(id)}/zones`, body);
        errors = [];
        if (ans && ans.policy_sha256) base = ans.policy_sha256;
        clear(msg);
        msg.classList.remove("msg-error");
        msg.classList.add("msg-ok");
        const changes = (ans && Array.isArray(ans.changes)) ? ans.changes : [];
        append(msg, [h("p", null, t("zone_saved")), changes.length ? h("ul", { class: "change-list" }, changes.map((c) => h("li", null, String(c)))) : h("p", null, t("zone_no_changes"))]);
        refresh();
        later(2000, loadImage);
      } catch (e) {
        errors = e.status === 400 && Array.isArray(e.body.errors) ? e.body.errors : [];
        showMsg(msg, errText(e));
        refresh();
      } finally {
        saveBtn.disabled = false;
      }
    });

    function loadImage() {
      if (!can("view_live")) {
        img = null;
        layout();
        return;
      }
      const im = new Image();
      im.addEventListener("load", () => {
        img = im;
        if (im.naturalWidth && im.naturalHeight) frame = { w: im.naturalWidth, h: im.naturalHeight };
        layout();
      });
      im.addEventListener("error", () => {
        img = null;
        layout();
      });
      im.src = snapshotUrl(id);
    }

    async function load() {
      let z;
      try {
        z = await api("GET", `/api/v1/cameras/${enc(id)}/zones`);
      } catch (e) {
        if (e.status !== 401) showMsg(msg, errText(e));
        saveBtn.disabled = true;
        return;
      }
      for (const kind of KINDS) {
        polys[kind] = (Array.isArray(z[kind]) ? z[kind] : []).map((poly) => (Array.isArray(poly) ? poly.map((pt) => [Number(pt[0]), Number(pt[1])]) : []));
      }
      base = z.policy_sha256 || null;
      if (z.width && z.height) frame = { w: Number(z.width), h: Number(z.height) };
      layout();
      refresh();
      loadImage();
    }

    layout();
    refresh();
    load();
    let resizeTimer = 0;
    listen(window, "resize", () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(layout, 150);
    });
  }

  // ---------------------------------------------------------------------------------------------------------
  // Recordings
  // ---------------------------------------------------------------------------------------------------------

  function pageRecordings(main) {
    const err = msgBox("rec-error");
    const camSel = h("select", null, h("option", { value: "" }, t("rec_all_cameras")));
    const now = Date.now();
    const from = h("input", { type: "text", value: fmtLocal(now - 24 * 3600 * 1000, false), inputmode: "numeric", placeholder: "YYYY-MM-DD HH:MM", "aria-describedby": "rec-time-hint" });
    const to = h("input", { type: "text", value: fmtLocal(now + 5 * 60 * 1000, false), inputmode: "numeric", placeholder: "YYYY-MM-DD HH:MM", "aria-describedby": "rec-time-hint" });
    const search = h("button", { type: "submit", id: "rec-search", class: "btn btn-primary" }, t("rec_search"));
    const timelines = h("div", { id: "rec-timelines", class: "timelines" });
    const filters = h("form", { class: "filters", id: "rec-filters" },
      field("rec-camera", t("rec_camera"), camSel),
      field("rec-from", t("rec_from"), from),
      field("rec-to", t("rec_to"), to),
      h("div", { class: "actions" }, search));
    // The player (with export_recordings): the camera and range to play, chosen from the timelines.
    let playCamera = null;
    let playFrom = null;
    let playTo = null;
    let setCamNote = () => {};
    main.appendChild(h("section", { id: "recordings-page", class: "page" },
      h("div", { class: "page-head" }, h("h1", null, t("rec_title"))),
      h("section", { class: "card" }, filters, h("p", { id: "rec-time-hint", class: "muted small" }, t("rec_time_hint")), err, timelines),
      can("export_recordings") ? playerCard() : null));
    setCamNote();

    function playerCard() {
      playFrom = h("input", { type: "text", placeholder: "YYYY-MM-DD HH:MM:SS" });
      playTo = h("input", { type: "text", placeholder: "YYYY-MM-DD HH:MM:SS" });
      const purpose = h("input", { type: "text", maxlength: "500", autocomplete: "off" });
      const play = h("button", { type: "submit", id: "rec-play", class: "btn btn-primary" }, t("rec_play"));
      const perr = msgBox("rec-play-error");
      const camNote = h("p", { id: "rec-play-camera", class: "muted" });
      const out = h("div", { id: "rec-output", class: "rec-output" });
      const form = h("form", { class: "filters" },
        field("rec-play-from", t("rec_play_from"), playFrom),
        field("rec-play-to", t("rec_play_to"), playTo),
        field("rec-purpose", t("rec_purpose"), purpose),
        h("div", { class: "actions" }, play));
      form.addEventListener("submit", (ev) => {
        ev.preventDefault();
        showMsg(perr, "");
        const cam = playCamera || camSel.value;
        const a = parseUserTime(playFrom.value);
        const b = parseUserTime(playTo.value);
        if (!purpose.value.trim()) return showMsg(perr, t("rec_need_purpose"));
        if (!cam) return showMsg(perr, t("rec_need_camera"));
        if (!Number.isFinite(a) || !Number.isFinite(b) || b <= a || b - a > 3600 * 1000) return showMsg(perr, t("rec_bad_range"));
        const q = new URLSearchParams({ from: toStamp(a), to: toStamp(b), purpose: purpose.value.trim() });
        const url = `/api/v1/cameras/${enc(cam)}/export.mp4?${q}`;
        clear(out);
        // One export (one 관리대장 row) per play: fetched once, then played and offered for download from
        // memory (a <video> pointed at the URL would ask again for every seek).
        play.disabled = true;
        setText(out, t("loading"));
        api("GET", url)
          .then((res) => res.blob())
          .then((blob) => {
            if (blobUrl) URL.revokeObjectURL(blobUrl);
            blobUrl = URL.createObjectURL(blob);
            clear(out);
            const video = h("video", { id: "rec-video", class: "rec-video", controls: true, preload: "auto", playsinline: true, src: blobUrl });
            video.addEventListener("error", () => showMsg(perr, t("rec_video_error")));
            const name = `${cam}-${toStamp(a).replace(/[:]/g, "")}.mp4`;
            append(out, [video, h("p", null, h("a", { id: "rec-download", class: "btn", href: blobUrl, download: name }, t("rec_download")))]);
          })
          .catch((e) => {
            clear(out);
            showMsg(perr, errText(e));
          })
          .finally(() => {
            play.disabled = false;
          });
      });
      let blobUrl = null;
      onCleanup(() => {
        if (blobUrl) URL.revokeObjectURL(blobUrl);
        const v = $("#rec-video");
        if (v) {
          v.pause();
          v.removeAttribute("src");
          v.load();
        }
      });
      setCamNote = () => setText(camNote, `${t("rec_camera")}: ${dash(playCamera || camSel.value)}`);
      return h("section", { class: "card", id: "rec-player" }, h("h2", null, t("rec_player")), camNote, form,
        h("p", { class: "muted small" }, t("rec_play_note")), perr, out);
    }

    function choose(seg, el) {
      for (const s of timelines.querySelectorAll(".segment.active")) s.classList.remove("active");
      if (el) el.classList.add("active");
      if (!playFrom) return;
      const a = stampMs(seg.start);
      let b = stampMs(seg.end);
      if (b - a > 3600 * 1000) b = a + 3600 * 1000;
      playCamera = seg.camera;
      playFrom.value = fmtLocal(a);
      playTo.value = fmtLocal(b);
      setCamNote();
    }

    async function load() {
      showMsg(err, "");
      const a = parseUserTime(from.value);
      const b = parseUserTime(to.value);
      if (!Number.isFinite(a)) return showMsg(err, t("bad_time", from.value));
      if (!Number.isFinite(b)) return showMsg(err, t("bad_time", to.value));
      const q = new URLSearchParams({ from: toStamp(a), to: toStamp(b) });
      if (camSel.value) q.set("camera", camSel.value);
      let segs;
      try {
        segs = (await api("GET", `/api/v1/recordings?${q}`)).segments || [];
      } catch (e) {
        if (e.status !== 401) showMsg(err, errText(e));
        return;
      }
      clear(timelines);
      if (!segs.length) {
        timelines.appendChild(h("p", { class: "empty" }, t("rec_none")));
        return;
      }
      const byCam = new Map();
      for (const s of segs) {
        if (!byCam.has(s.camera)) byCam.set(s.camera, []);
        byCam.get(s.camera).push(s);
      }
      const span = Math.max(1, b - a);
      for (const [cam, list] of byCam) {
        list.sort((x, y) => stampMs(x.start) - stampMs(y.start));
        const bar = h("div", { class: "timeline", "data-camera": cam, role: "group", "aria-label": `${t("rec_camera")} ${cam}` });
        for (const s of list) {
          const s0 = Math.max(a, stampMs(s.start));
          const s1 = Math.min(b, stampMs(s.end));
          const title = t("rec_segment_title", fmtStamp(s.start), fmtStamp(s.end));
          const el = h("div", { class: "segment", role: "button", tabindex: "0", title, "aria-label": title, "data-start": s.start, "data-end": s.end });
          // positions are computed here, as percentages of the searched range
          el.style.left = `${(((s0 - a) / span) * 100).toFixed(3)}%`;
          el.style.width = `${Math.max(0.3, ((s1 - s0) / span) * 100).toFixed(3)}%`;
          el.addEventListener("click", () => choose(s, el));
          el.addEventListener("keydown", (ev) => {
            if (ev.key === "Enter" || ev.key === " ") {
              ev.preventDefault();
              choose(s, el);
            }
          });
          bar.appendChild(el);
        }
        timelines.appendChild(h("div", { class: "timeline-row" },
          h("div", { class: "timeline-head" }, h("strong", null, cam), " ", h("span", { class: "muted" }, t("rec_segments", list.length))),
          bar,
          h("div", { class: "timeline-axis" }, h("span", null, fmtLocal(a, false)), h("span", null, fmtLocal(a + span / 2, false)), h("span", null, fmtLocal(b, false)))));
      }
      // Offer the last ten minutes recorded (of the chosen camera, or the first listed) for playback.
      if (playFrom) {
        const cam = camSel.value || byCam.keys().next().value;
        const list = byCam.get(cam) || [];
        if (list.length) {
          const lastEnd = Math.max(...list.map((s) => stampMs(s.end)));
          const firstStart = Math.min(...list.map((s) => stampMs(s.start)));
          playCamera = cam;
          playFrom.value = fmtLocal(Math.max(firstStart, lastEnd - 10 * 60 * 1000));
          playTo.value = fmtLocal(lastEnd);
          setCamNote();
        }
      }
    }

    filters.addEventListener("submit", (ev) => {
      ev.preventDefault();
      load();
    });
    camSel.addEventListener("change", () => {
      playCamera = camSel.value || null;
      setCamNote();
      load();
    });

    (async () => {
      try {
        const cams = (await api("GET", "/api/v1/cameras")).cameras || [];
        for (const c of cams) camSel.appendChild(h("option", { value: c.id }, c.location ? `${c.id} · ${c.location}` : c.id));
      } catch (e) {
        if (e.status !== 401) showMsg(err, errText(e));
      }
      load();
    })();
  }

  // ---------------------------------------------------------------------------------------------------------
  // Requests and approvals
  // ---------------------------------------------------------------------------------------------------------

  const CLOSED_STATES = ["fulfilled", "partly_fulfilled", "refused", "closed"];

  /** overdue / due-soon: the server's flags when it sends them, else from the due date. */
  function dueClass(r) {
    const due = typeof r.due === "number" ? r.due * 1000 : stampMs(r.due || r.due_date || "") || (r.due_ms ? Number(r.due_ms) : NaN);
    const open = !CLOSED_STATES.includes(r.state);
    const overdue = typeof r.overdue === "boolean" ? r.overdue : open && Number.isFinite(due) && due < Date.now();
    if (overdue) return "overdue";
    const soon = typeof r.due_soon === "boolean" ? r.due_soon : open && Number.isFinite(due) && due - Date.now() <= 3 * 86400 * 1000;
    return soon ? "due-soon" : null;
  }

  function pageRequests(main) {
    const err = msgBox("requests-error");
    const tbody = h("tbody");
    const table = h("table", { id: "request-table", class: "table" },
      h("thead", null, h("tr", null, ["req_id", "req_type", "req_state", "req_requester", "req_cameras", "req_window", "req_received", "req_due", "req_documents"]
        .concat(can("manage_requests") ? ["req_action"] : []).map((k) => h("th", { scope: "col" }, t(k))))),
      tbody);
    const approvals = h("section", { id: "approvals", class: "card", "aria-labelledby": "approvals-title" });
    main.appendChild(h("section", { id: "requests-page", class: "page" },
      h("div", { class: "page-head" }, h("h1", null, t("req_title"))),
      err,
      can("manage_requests") ? requestForm() : null,
      h("section", { class: "card" }, h("div", { class: "table-wrap" }, table)),
      can("file_opening") ? openingForm() : null,
      approvals));

    /**
     * A folding form over some cameras and a time window (the last hour by default), sent to the API as JSON:
     * `fields(id)` gives its own fields, `body()` their values, `done(answer)` the message on success. A camera
     * and a window that ends after it starts are asked for before anything is sent.
     */
    function cameraWindowForm(o) {
      const m = h("div", { class: "msg", role: "alert" });
      const cams = h("fieldset", { class: "opening-cameras" }, h("legend", null, o.camerasLegend));
      const now = Date.now();
      const from = h("input", { type: "text", value: fmtLocal(now - 3600 * 1000), placeholder: "YYYY-MM-DD HH:MM:SS" });
      const to = h("input", { type: "text", value: fmtLocal(now), placeholder: "YYYY-MM-DD HH:MM:SS" });
      const b = h("button", { type: "submit", class: `btn btn-primary ${o.cls}-file` }, o.submit);
      const [before, after] = o.fields;
      const form = h("form", { class: `inline-form ${o.cls}-new` }, cams, before,
        field(`${o.cls}-from`, t("open_from"), from), field(`${o.cls}-to`, t("open_to"), to), after,
        h("div", { class: "actions" }, b), m);
      (async () => {
        try {
          const list = ((await api("GET", "/api/v1/cameras")).cameras || []).filter(o.camera);
          if (!list.length) cams.appendChild(h("p", { class: "empty" }, o.noCameras));
          for (const c of list) {
            const box = h("input", { type: "checkbox", value: c.id, class: `${o.cls}-camera` });
            cams.appendChild(h("label", { class: "check" }, box, ` ${c.id}${c.location ? ` (${c.location})` : ""}`));
          }
        } catch (e) {
          if (e.status !== 401) showMsg(m, errText(e));
        }
      })();
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const cameras = Array.from(cams.querySelectorAll(`input.${o.cls}-camera:checked`)).map((x) => x.value);
        if (!cameras.length) return showMsg(m, t("open_pick_camera"));
        const a = parseUserTime(from.value);
        const z = parseUserTime(to.value);
        if (!Number.isFinite(a) || !Number.isFinite(z) || z <= a) return showMsg(m, t("open_bad_range"));
        b.disabled = true;
        try {
          const body = Object.assign({ cameras, from: Math.floor(a / 1000), to: Math.ceil(z / 1000) }, o.body());
          const text = o.done(await api("POST", o.path, body));
          // Filed: the form is emptied (a second click would file it again), the window kept for the next.
          const [fv, tv] = [from.value, to.value];
          form.reset();
          [from.value, to.value] = [fv, tv];
          showMsg(m, text, "ok");
        } catch (e) {
          showMsg(m, errText(e));
        } finally {
          b.disabled = false;
        }
      });
      return h("section", { id: `${o.cls}-new`, class: "card" }, h("details", null, h("summary", null, o.title), form));
    }

    /**
     * A data subject's request as received on paper: its type, who asks and how to reach them, the cameras and
     * window, what they look like, and which identity document the operator saw (never its number: the server
     * refuses one). Due in 10 days (or the policy's shorter term), shown once received.
     */
    function requestForm() {
      const kind = h("select", null, ["existence", "view", "deletion"].map((k) => h("option", { value: k }, label("type_", k))));
      const requester = h("input", { type: "text", maxlength: "200", required: true });
      const contact = h("input", { type: "text", maxlength: "500", required: true });
      const description = h("input", { type: "text", maxlength: "2000" });
      const hint = t("new_req_identity_hint");
      const identity = h("input", { type: "text", maxlength: "200", required: true, placeholder: hint, title: hint });
      return cameraWindowForm({
        cls: "request", title: t("new_req"), submit: t("new_req_file"), path: "/api/v1/requests",
        camerasLegend: t("new_req_cameras"), camera: () => true, noCameras: t("none"),
        fields: [
          h("div", { class: "contents" },
            field("new-req-type", t("req_type"), kind),
            field("new-req-requester", t("req_requester"), requester),
            field("new-req-contact", t("new_req_contact"), contact)),
          h("div", { class: "contents" },
            field("new-req-description", t("new_req_description"), description),
            field("new-req-identity", t("new_req_identity"), identity)),
        ],
        body: () => ({
          type: kind.value, requester: requester.value.trim(), contact: contact.value.trim(),
          description: description.value.trim(), identity_check: identity.value.trim(),
        }),
        done: (ans) => {
          loadRequests();
          return t("new_req_filed", ans.id, fmtStamp(ans.due));
        },
      });
    }

    /**
     * An opening of sealed recordings on a legal ground other than a data subject's (theirs start from their
     * request): one or more cameras that record sealed, the window, the ground with its letter, warrant or case
     * number, who asked and why. With one's password it is also one's approval; another manager approves it.
     */
    function openingForm() {
      const ground = h("select", null, ["investigation", "trial", "emergency"].map((g) => h("option", { value: g }, label("ground_", g))));
      const reference = h("input", { type: "text", maxlength: "200" });
      const requestedBy = h("input", { type: "text", maxlength: "200", required: true });
      const reason = h("input", { type: "text", maxlength: "1000", required: true });
      const pw = can("approve_opening") ? h("input", { type: "password", autocomplete: "current-password" }) : null;
      return cameraWindowForm({
        cls: "opening", title: t("open_new"), submit: t("open_file"), path: "/api/v1/openings",
        camerasLegend: t("open_cameras"), camera: (c) => c.sealed, noCameras: t("open_no_sealed"),
        fields: [
          h("div", { class: "contents" },
            field("open-ground", t("opening_ground"), ground),
            field("open-reference", t("open_reference"), reference),
            field("open-requested-by", t("open_requested_by"), requestedBy)),
          h("div", { class: "contents" },
            field("open-reason", t("opening_reason"), reason),
            pw ? field("open-pw", t("opening_password"), pw) : null),
        ],
        body: () => {
          const body = { reason: reason.value.trim(), ground: ground.value, requested_by: requestedBy.value.trim() };
          if (reference.value.trim()) body.reference = reference.value.trim();
          if (pw && pw.value) body.password = pw.value;
          return body;
        },
        done: (ans) => {
          if (pw) pw.value = "";
          loadApprovals();
          return t("open_filed", ans.id, ans.needed === undefined ? "?" : ans.needed);
        },
      });
    }

    async function loadRequests() {
      let list;
      try {
        const ans = await api("GET", "/api/v1/requests");
        list = Array.isArray(ans) ? ans : ans.requests || [];
        reasons = (ans && ans.refusal_reasons) || [];
      } catch (e) {
        if (e.status !== 401) showMsg(err, errText(e));
        return;
      }
      clear(tbody);
      if (!list.length) tbody.appendChild(h("tr", null, h("td", { colspan: "9", class: "empty" }, t("req_empty"))));
      for (const r of list) {
        const kind = r.type || r.kind;
        const cls = dueClass(r);
        const docs = h("td", { class: "docs" },
          h("a", { href: `/api/v1/requests/${enc(r.id)}/documents/claim`, target: "_blank", rel: "noopener" }, t("req_claim")), " · ",
          h("a", { href: `/api/v1/requests/${enc(r.id)}/documents/notice`, target: "_blank", rel: "noopener" }, t("req_notice")));
        const due = h("td", null, fmtStamp(r.due ?? r.due_date ?? (r.due_ms ? Number(r.due_ms) / 1000 : null)));
        if (cls) due.appendChild(h("span", { class: `badge ${cls === "overdue" ? "badge-bad" : "badge-warn"}` }, t(cls === "overdue" ? "req_overdue" : "req_due_soon")));
        const cams = Array.isArray(r.cameras) ? r.cameras.join(", ") : r.cameras;
        tbody.appendChild(h("tr", { class: ["request-row", cls], "data-request": r.id },
          h("td", { class: "nowrap" }, dash(r.id)),
          h("td", null, label("type_", kind)),
          h("td", null, label("rs_", r.state)),
          h("td", null, dash(r.requester), r.description ? h("div", { class: "muted small" }, r.description) : null),
          h("td", null, dash(cams)),
          h("td", null, `${fmtStamp(r.from)} ~ ${fmtStamp(r.to)}`),
          h("td", null, fmtStamp(r.received ?? (r.received_ms ? Number(r.received_ms) / 1000 : null))),
          due,
          docs,
          can("manage_requests") ? actionCell(r) : null));
      }
    }

    let reasons = []; // the policy's refusal reasons (a refusal names one of them)

    /**
     * The next step of a request (each one a 관리대장 row): received → checking; checking → a decision
     * (fulfil, partly, or refuse with one of the policy's reasons); decided → what was done; done → closed.
     */
    function actionCell(r) {
      const m = h("div", { class: "msg", role: "alert" });
      const send = async (path, body, btn) => {
        btn.disabled = true;
        showMsg(m, "");
        try {
          await api("POST", `/api/v1/requests/${enc(r.id)}/${path}`, body);
          await loadRequests();
        } catch (e) {
          showMsg(m, errText(e));
          btn.disabled = false;
        }
      };
      const step = (to) => {
        const b = h("button", { type: "button", class: "btn request-step", "data-to": to }, `→ ${label("rs_", to)}`);
        b.addEventListener("click", () => send("state", { to }, b));
        return b;
      };
      const cell = h("td", { class: "request-actions" });
      if (r.state === "received") cell.appendChild(step("checking"));
      else if (r.state === "decided") append(cell, [step("fulfilled"), step("partly_fulfilled"), step("refused")]);
      else if (["fulfilled", "partly_fulfilled", "refused"].includes(r.state)) cell.appendChild(step("closed"));
      else if (r.state === "checking") {
        const id = `decide-${r.id}`;
        const outcome = h("select", null, ["fulfil", "partly", "refuse"].map((o) => h("option", { value: o }, t(`outcome_${o}`))));
        const reason = h("select", null, reasons.map((x) => h("option", { value: x }, x)));
        const reasonField = field(`${id}-reason`, t("req_refusal_reason"), reason);
        reasonField.hidden = true;
        outcome.addEventListener("change", () => {
          reasonField.hidden = outcome.value !== "refuse";
        });
        const b = h("button", { type: "submit", class: "btn btn-primary request-decide" }, t("req_decide"));
        const form = h("form", { class: "inline-form" }, field(`${id}-outcome`, t("req_outcome"), outcome), reasonField, b);
        form.addEventListener("submit", (ev) => {
          ev.preventDefault();
          const body = { outcome: outcome.value };
          if (outcome.value === "refuse") body.reason = reason.value;
          send("decision", body, b);
        });
        cell.appendChild(form);
      }
      const kind = r.type || r.kind;
      if (can("file_opening") && (kind === "view" || kind === "deletion") && !CLOSED_STATES.includes(r.state)) {
        cell.appendChild(subjectOpeningForm(r));
      }
      cell.appendChild(m);
      return cell;
    }

    /** A data subject's opening of the request's camera: at most 30 minutes of its window. */
    function subjectOpeningForm(r) {
      const kind = r.type || r.kind;
      const from0 = stampMs(r.from);
      const to0 = Math.min(stampMs(r.to), from0 + 30 * 60 * 1000);
      const cams = Array.isArray(r.cameras) ? r.cameras : [r.cameras];
      const cam = h("select", null, cams.map((c) => h("option", { value: c }, c)));
      const from = h("input", { type: "text", value: fmtLocal(from0), placeholder: "YYYY-MM-DD HH:MM:SS" });
      const to = h("input", { type: "text", value: fmtLocal(to0), placeholder: "YYYY-MM-DD HH:MM:SS" });
      const reason = h("input", { type: "text", maxlength: "500", value: t("subj_reason_default", label("type_", kind)) });
      const pw = can("approve_opening") ? h("input", { type: "password", autocomplete: "current-password" }) : null;
      const b = h("button", { type: "submit", class: "btn btn-primary subject-file" }, t("subj_file"));
      const m = h("div", { class: "msg", role: "alert" });
      const id = `subj-${String(r.id).replace(/[^A-Za-z0-9_-]/g, "_")}`;
      const form = h("form", { class: "inline-form subject-opening" },
        field(`${id}-cam`, t("req_cameras"), cam),
        field(`${id}-from`, t("subj_from"), from),
        field(`${id}-to`, t("subj_to"), to),
        field(`${id}-reason`, t("subj_reason"), reason),
        pw ? field(`${id}-pw`, t("opening_password"), pw) : null,
        h("div", { class: "actions" }, b), m);
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const a = parseUserTime(from.value);
        const z = parseUserTime(to.value);
        if (!Number.isFinite(a) || !Number.isFinite(z) || z <= a || z - a > 30 * 60 * 1000) return showMsg(m, t("subj_bad_range"));
        const body = {
          cameras: [cam.value], from: Math.floor(a / 1000), to: Math.ceil(z / 1000), reason: reason.value.trim(),
          ground: kind === "view" ? "subject_view" : "subject_deletion", reference: r.id, requested_by: r.requester,
        };
        if (pw && pw.value) body.password = pw.value;
        b.disabled = true;
        try {
          const ans = await api("POST", "/api/v1/openings", body);
          if (pw) pw.value = "";
          showMsg(m, t("subj_filed", ans.id), "ok");
          loadApprovals();
        } catch (e) {
          showMsg(m, errText(e));
        } finally {
          b.disabled = false;
        }
      });
      return h("details", { class: "subject-open" }, h("summary", null, t("subj_open")), form);
    }

    async function loadApprovals() {
      clear(approvals);
      approvals.appendChild(h("h2", { id: "approvals-title" }, t("approvals_title")));
      let list;
      let all;
      try {
        const ans = await api("GET", "/api/v1/openings");
        all = Array.isArray(ans) ? ans : ans.openings || [];
        list = all.filter((o) => !o.state || o.state === "pending");
      } catch (e) {
        const m = msgBox("approvals-error");
        approvals.appendChild(m);
        if (e.status !== 401) showMsg(m, errText(e));
        return;
      }
      if (!list.length) {
        approvals.appendChild(h("p", { class: "empty" }, t("approvals_empty")));
      } else {
        const ul = h("ul", { class: "opening-list" });
        for (const o of list) ul.appendChild(openingItem(o));
        approvals.appendChild(ul);
      }
      const open = all.filter((o) => o.state === "review");
      if (open.length && can("file_opening")) {
        approvals.appendChild(h("h2", { id: "reviews-title" }, t("subj_reviews_title")));
        const ul = h("ul", { class: "opening-list" });
        for (const o of open) {
          const box = h("div", { class: "review-box" });
          const b = h("button", { type: "button", class: "btn btn-primary review-open", "data-opening": o.id }, t("subj_review_open"));
          b.addEventListener("click", () => {
            b.hidden = true;
            reviewPanel(o, box);
          });
          ul.appendChild(h("li", { class: "opening card-inner", "data-opening": o.id },
            h("h3", null, `${o.id} · ${label("ground_", o.ground)} (${dash(o.reference)})`),
            h("p", null, `${(o.cameras || []).join(", ")} · ${fmtUnix(o.from)} ~ ${fmtUnix(o.to)}`), b, box));
        }
        approvals.appendChild(ul);
      }
    }

    function openingItem(o) {
      const approvalsText = Array.isArray(o.approvals) ? o.approvals.map((a) => `${a.by} (${fmtLocal(a.at_ms, false)})`).join(", ") : "";
      const dl = h("dl", { class: "kv" });
      const row = (k, v) => append(dl, [h("dt", null, k), h("dd", null, v)]);
      row(t("req_cameras"), dash(Array.isArray(o.cameras) ? o.cameras.join(", ") : o.cameras));
      row(t("req_window"), `${fmtStamp(o.from)} ~ ${fmtStamp(o.to)}`);
      row(t("opening_ground"), `${label("ground_", o.ground)}${o.reference ? ` (${o.reference})` : ""}`);
      row(t("opening_reason"), dash(o.reason));
      row(t("opening_requested_by"), dash(o.requested_by));
      row(t("opening_filed_by"), `${dash(o.filed_by)}${o.filed_ms ? ` · ${fmtLocal(o.filed_ms, false)}` : ""}`);
      row(t("opening_approvals"), approvalsText || t("none"));
      const li = h("li", { class: "opening card-inner", "data-opening": o.id }, h("h3", null, dash(o.id)), dl);
      if (can("approve_opening")) {
        const pid = `opening-password-${String(o.id).replace(/[^A-Za-z0-9_-]/g, "_")}`;
        const pw = h("input", { type: "password", autocomplete: "current-password", required: true });
        const btn = h("button", { type: "submit", class: "btn btn-primary opening-approve", "data-opening": o.id }, t("opening_approve"));
        const m = h("div", { class: "msg", role: "alert" });
        const form = h("form", { class: "inline-form" }, field(pid, t("opening_password"), pw), h("div", { class: "actions" }, btn), m);
        form.addEventListener("submit", async (ev) => {
          ev.preventDefault();
          btn.disabled = true;
          showMsg(m, "");
          try {
            const ans = await api("POST", `/api/v1/openings/${enc(o.id)}/approve`, { password: pw.value });
            pw.value = "";
            if (ans instanceof Response) {
              // The last approval answers with the opened recording itself.
              const blob = await ans.blob();
              const url = URL.createObjectURL(blob);
              onCleanup(() => URL.revokeObjectURL(url));
              const cd = ans.headers.get("Content-Disposition") || "";
              const name = (/filename="([^"]+)"/.exec(cd) || [])[1] || `${o.id}.mp4`;
              clear(m);
              m.classList.add("msg-ok");
              append(m, [t("opening_done"), " ", h("a", { href: url, download: name, class: "btn" }, t("opening_download"))]);
            } else {
              showMsg(m, t("opening_approved", ans && ans.needed !== undefined ? ans.needed : "?"), "ok");
            }
          } catch (e) {
            showMsg(m, errText(e));
          } finally {
            btn.disabled = false;
          }
        });
        li.appendChild(form);
      }
      return li;
    }

    /**
     * The review of a data subject's opened window: pass 1's progress, then the frames to look through with the
     * proposed track (green; orange where it is a guess). Clicking a person says "this is them"; "not them" and
     * "not in this frame" correct a frame; confirming allows the job: the redacted copy (열람) or the erasure (삭제).
     * Every step goes through the API (each a 관리대장 row); stills come with the session's CSRF token.
     */
    function reviewPanel(o, box) {
      const base = `/api/v1/openings/${enc(o.id)}`;
      const m = h("div", { class: "msg", role: "alert" });
      const status = h("p", { class: "review-status", role: "status", "aria-live": "polite" });
      const body = h("div", { class: "review-body" });
      append(clear(box), [status, m, body]);
      let said = { marks: [], not_them: [], absent: [], confirmed: false };
      let actions = 0;
      let observer = null;
      onCleanup(() => observer && observer.disconnect());

      const loadStill = async (img, n) => {
        try {
          const res = await api("GET", `${base}/frames/${n}`);
          const url = URL.createObjectURL(await res.blob());
          onCleanup(() => URL.revokeObjectURL(url));
          img.src = url;
        } catch (e) {
          showMsg(m, errText(e));
        }
      };

      async function poll() {
        if (!box.isConnected) return;
        let v;
        try {
          v = await api("GET", `${base}/review`);
        } catch (e) {
          showMsg(m, errText(e));
          return;
        }
        if (v.state === "detecting") {
          const p = v.progress || {};
          setText(status, t("subj_detecting", p.seconds ?? 0, p.of_seconds ?? "?", p.frames ?? 0));
          setTimeout(poll, 1000);
          return;
        }
        if (v.state === "failed") {
          showMsg(m, t("subj_failed", v.error));
          return;
        }
        render(v);
      }

      async function send(change) {
        // What was saved stays if the server refuses the change.
        const before = JSON.stringify(said);
        change();
        showMsg(m, "");
        try {
          const v = await api("POST", `${base}/review`, said);
          actions += 1;
          render(v);
        } catch (e) {
          said = JSON.parse(before);
          showMsg(m, errText(e));
        }
      }

      const pct = (v) => `${(Number(v) * 100).toFixed(2)}%`;
      const place = (el, b) => {
        el.style.left = pct(b[0]);
        el.style.top = pct(b[1]);
        el.style.width = pct(b[2]);
        el.style.height = pct(b[3]);
        return el;
      };
      const overlap = (a, b) => {
        const ix = Math.max(0, Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]));
        const iy = Math.max(0, Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]));
        const i = ix * iy;
        return i / (a[2] * a[3] + b[2] * b[3] - i);
      };

      function render(v) {
        said = v.review || said;
        const frames = v.review_frames || [];
        const marked = said.marks.length > 0;
        setText(status, `${t("subj_summary", v.frames, frames.length, v.lost_frames ?? "-", actions)} · ${t(marked ? "subj_hint_review" : "subj_hint_mark")}`);
        clear(body);
        if (observer) observer.disconnect();
        observer = new IntersectionObserver((entries) => {
          for (const e of entries) {
            if (!e.isIntersecting) continue;
            observer.unobserve(e.target);
            loadStill(e.target, e.target.dataset.frame);
          }
        });
        const grid = h("div", { class: "review-grid" });
        for (const f of frames) {
          const img = h("img", { alt: fmtUnix(f.at), "data-frame": f.frame, class: "review-img" });
          observer.observe(img);
          const wrap = h("div", { class: "review-pic" }, img);
          for (const p of f.persons || []) {
            const b = place(h("button", { type: "button", class: "person-box", title: t("subj_hint_mark"), "aria-label": t("subj_hint_mark") }), p);
            b.addEventListener("click", () => send(() => {
              said.marks.push({ at: f.at, bbox: p });
              if (f.box && overlap(f.box, p) < 0.5) said.not_them.push({ at: f.at, bbox: f.box });
              said.confirmed = false;
            }));
            wrap.appendChild(b);
          }
          if (f.box) wrap.appendChild(place(h("div", { class: ["track-box", f.suggested ? "suggested" : null] }), f.box));
          const tools = h("div", { class: "review-tools" }, h("span", { class: "muted small" }, fmtUnix(f.at).slice(11), f.suggested ? ` · ${t("subj_suggested")}` : ""));
          if (marked && f.box) {
            const no = h("button", { type: "button", class: "btn btn-small review-not-them" }, t("subj_not_them"));
            no.addEventListener("click", () => send(() => {
              said.not_them.push({ at: f.at, bbox: f.box });
              said.confirmed = false;
            }));
            const away = h("button", { type: "button", class: "btn btn-small review-absent" }, t("subj_absent"));
            away.addEventListener("click", () => send(() => {
              said.absent.push(f.at);
              said.confirmed = false;
            }));
            append(tools, [no, away]);
          }
          grid.appendChild(h("figure", { class: "review-frame", "data-frame": f.frame }, wrap, tools));
        }
        body.appendChild(grid);
        if (!marked) return;
        const done = h("div", { class: "actions review-done" });
        if (!said.confirmed) {
          const ok = h("button", { type: "button", class: "btn btn-primary review-confirm" }, t("subj_confirm"));
          ok.addEventListener("click", () => send(() => {
            said.confirmed = true;
          }));
          done.appendChild(ok);
        } else {
          done.appendChild(h("span", { class: "badge badge-ok" }, t("subj_confirmed")));
          const out = h("div", { class: "review-output" });
          const job = h("button", { type: "button", class: "btn btn-primary review-job" }, t(o.ground === "subject_view" ? "subj_export" : "subj_erase"));
          job.addEventListener("click", async () => {
            if (o.ground !== "subject_view" && !window.confirm(t("subj_erase_sure"))) return;
            job.disabled = true;
            showMsg(m, "");
            setText(out, t("loading"));
            try {
              const ans = await api("POST", `${base}/${o.ground === "subject_view" ? "export" : "erase"}`, {});
              clear(out);
              if (ans instanceof Response) {
                const blob = await ans.blob();
                const url = URL.createObjectURL(blob);
                onCleanup(() => URL.revokeObjectURL(url));
                const cd = ans.headers.get("Content-Disposition") || "";
                const name = (/filename="([^"]+)"/.exec(cd) || [])[1] || `${o.id}.mp4`;
                const sidecar = await api("GET", `${base}/sidecar`);
                const side = URL.createObjectURL(new Blob([JSON.stringify(sidecar, null, 2)], { type: "application/json" }));
                onCleanup(() => URL.revokeObjectURL(side));
                append(out, [
                  h("p", { class: "msg msg-ok" }, t("subj_exported", String(sidecar.output && sidecar.output.sha256).slice(0, 16))),
                  h("video", { class: "rec-video", controls: true, src: url }),
                  h("p", null, h("a", { class: "btn review-download", href: url, download: name }, t("subj_download")), " ",
                    h("a", { class: "btn", href: side, download: name.replace(/\.mp4$/, ".json") }, t("subj_sidecar"))),
                ]);
              } else {
                append(out, h("p", { class: "msg msg-ok review-erased" }, t("subj_erased", (ans.replaced || []).length)));
              }
            } catch (e) {
              clear(out);
              showMsg(m, errText(e));
              job.disabled = false;
            }
          });
          append(done, [job, out]);
        }
        body.appendChild(done);
      }

      poll();
    }

    loadRequests();
    loadApprovals();
    every(30000, loadRequests);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Generic rendering of JSON (review, inspection reports)
  // ---------------------------------------------------------------------------------------------------------

  function fieldLabel(k) {
    return T[lang][`f_${k}`] !== undefined ? T[lang][`f_${k}`] : k;
  }

  function renderValue(v, key) {
    if (v === null || v === undefined || v === "") return h("span", { class: "muted" }, t("none"));
    if (typeof v === "boolean") return h("span", { class: v ? "val-yes" : "val-no" }, v ? t("yes") : t("no"));
    if (typeof v === "number") {
      if (key && /_ms$/.test(key)) return document.createTextNode(fmtLocal(v));
      if (key && /_unix$/.test(key)) return document.createTextNode(fmtUnix(v));
      return document.createTextNode(String(v));
    }
    if (typeof v === "string") return v.includes("\n") ? h("pre", { class: "pre-text" }, v) : document.createTextNode(v);
    if (Array.isArray(v)) {
      if (!v.length) return h("span", { class: "muted" }, t("none"));
      if (v.every((x) => x && typeof x === "object" && !Array.isArray(x))) {
        const cols = [];
        for (const x of v) for (const k of Object.keys(x)) if (!cols.includes(k)) cols.push(k);
        return h("div", { class: "table-wrap" }, h("table", { class: "table compact" },
          h("thead", null, h("tr", null, cols.map((c) => h("th", { scope: "col" }, fieldLabel(c))))),
          h("tbody", null, v.map((x) => h("tr", null, cols.map((c) => h("td", null, renderValue(x[c], c))))))));
      }
      if (v.every((x) => x === null || typeof x !== "object")) return document.createTextNode(v.map((x) => dash(x)).join(", "));
      return h("ol", null, v.map((x) => h("li", null, renderValue(x))));
    }
    const dl = h("dl", { class: "kv" });
    for (const [k, x] of Object.entries(v)) append(dl, [h("dt", null, fieldLabel(k)), h("dd", null, renderValue(x, k))]);
    return dl;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Ledger, chain, inspections, review
  // ---------------------------------------------------------------------------------------------------------

  function pageLedger(main) {
    const page = h("section", { id: "ledger-page", class: "page" }, h("div", { class: "page-head" }, h("h1", null, t("ledger_title"))));
    main.appendChild(page);
    if (can("verify_ledger")) page.appendChild(chainCard());
    if (can("read_ledger")) page.appendChild(ledgerCard());
    if (can("read_inspections")) page.appendChild(inspectionsCard());
    if (can("read_ledger") || can("sign_review")) page.appendChild(reviewCard());
  }

  function chainCard() {
    const status = h("div", { id: "chain-status", class: "chain-status", role: "status", "aria-live": "polite" }, t("loading"));
    const again = h("button", { type: "button", id: "chain-verify", class: "btn" }, t("chain_verify"));
    async function verify() {
      status.className = "chain-status";
      setText(status, t("loading"));
      try {
        const r = await api("GET", "/api/v1/ledger/verify");
        clear(status);
        status.classList.add(r.ok ? "chain-ok" : "chain-broken");
        status.dataset.ok = r.ok ? "true" : "false";
        append(status, [
          h("strong", null, r.ok ? `✔ ${t("chain_ok")}` : `✖ ${t("chain_broken")}`),
          h("span", null, ` · ${t("chain_rows", dash(r.rows))}`),
          r.head ? h("span", null, ` · ${t("chain_head", dash(r.head.seq))}`) : null,
          r.problem ? h("p", { class: "chain-problem" }, r.problem) : null,
          r.head && r.head.hash ? h("p", { class: "mono small muted" }, r.head.hash) : null,
        ]);
      } catch (e) {
        status.classList.add("chain-broken");
        setText(status, errText(e));
      }
    }
    again.addEventListener("click", verify);
    verify();
    return h("section", { class: "card" }, h("h2", null, t("chain_title")), status, h("div", { class: "actions" }, again));
  }

  function ledgerCard() {
    const kind = h("select", null, h("option", { value: "" }, t("ledger_all_kinds")),
      LEDGER_KINDS.map((k) => h("option", { value: k }, `${label("k_", k)} (${k})`)));
    const now = Date.now();
    const from = h("input", { type: "text", value: fmtLocal(now - 24 * 3600 * 1000, false), placeholder: "YYYY-MM-DD HH:MM" });
    const to = h("input", { type: "text", value: "", placeholder: "YYYY-MM-DD HH:MM" });
    const err = msgBox("ledger-error");
    const search = h("button", { type: "submit", id: "ledger-search", class: "btn btn-primary" }, t("ledger_search"));
    const cols = ["col_seq", "col_time", "col_kind", "col_actor", "col_subject", "col_purpose", "col_recipient", "col_basis", "col_form", "col_period", "col_manager", "col_client", "col_detail"];
    const tbody = h("tbody");
    const table = h("table", { id: "ledger-table", class: "table compact" }, h("thead", null, h("tr", null, cols.map((c) => h("th", { scope: "col" }, t(c))))), tbody);
    const more = h("button", { type: "button", id: "ledger-more", class: "btn", hidden: true }, t("ledger_more"));
    const csv = h("button", { type: "button", id: "ledger-csv", class: "btn" }, t("ledger_csv"));
    const xlsx = h("button", { type: "button", id: "ledger-xlsx", class: "btn" }, t("ledger_xlsx"));
    const exportsBox = can("export_ledger") ? h("div", { class: "actions" }, csv, xlsx, h("span", { class: "muted small" }, t("ledger_export_note"))) : null;
    const form = h("form", { class: "filters" },
      field("ledger-kind", t("ledger_kind"), kind),
      field("ledger-from", t("ledger_from"), from),
      field("ledger-to", t("ledger_to"), to),
      h("div", { class: "actions" }, search));
    const LIMIT = 500;
    let lastSeq = null;

    /** The filters as query parameters, or an error text. */
    function query() {
      const q = new URLSearchParams();
      if (kind.value) q.set("kind", kind.value);
      for (const [name, input] of [["from", from], ["to", to]]) {
        if (!input.value.trim()) continue;
        const ms = parseUserTime(input.value);
        if (!Number.isFinite(ms)) return t("bad_time", input.value);
        q.set(name, toStamp(ms));
      }
      return q;
    }

    // An export is a 관리대장 row of its own, so it goes through api() with the session's CSRF token (a
    // plain link could be planted by another page), and is saved from memory.
    function updateExports() {}
    for (const [btn, fmt] of [[csv, "csv"], [xlsx, "xlsx"]]) {
      btn.addEventListener("click", async () => {
        const q = query();
        if (typeof q === "string") return showMsg(err, q);
        q.set("format", fmt);
        btn.disabled = true;
        try {
          const blob = await (await api("GET", `/api/v1/ledger/export?${q}`)).blob();
          const url = URL.createObjectURL(blob);
          const a = h("a", { href: url, download: `ledger.${fmt}`, hidden: true });
          document.body.appendChild(a);
          a.click();
          a.remove();
          setTimeout(() => URL.revokeObjectURL(url), 10000);
        } catch (e) {
          showMsg(err, errText(e));
        } finally {
          btn.disabled = false;
        }
      });
    }

    async function load(append_) {
      const q = query();
      if (typeof q === "string") return showMsg(err, q);
      showMsg(err, "");
      q.set("limit", String(LIMIT));
      if (append_ && lastSeq !== null) q.set("after", String(lastSeq));
      let rows;
      try {
        rows = (await api("GET", `/api/v1/ledger?${q}`)).rows || [];
      } catch (e) {
        if (e.status !== 401) showMsg(err, errText(e));
        return;
      }
      if (!append_) clear(tbody);
      if (!append_ && !rows.length) tbody.appendChild(h("tr", null, h("td", { colspan: String(cols.length), class: "empty" }, t("ledger_empty"))));
      for (const r of rows) {
        const e = r.entry || r;
        const detail = e.detail === null || e.detail === undefined ? "" : typeof e.detail === "string" ? e.detail : JSON.stringify(e.detail);
        tbody.appendChild(h("tr", { class: ["ledger-row", `kind-${e.kind}`], "data-seq": r.seq },
          h("td", { class: "num" }, dash(r.seq)),
          h("td", { class: "nowrap" }, r.at_ms !== undefined ? fmtLocal(r.at_ms) : fmtStamp(r.time)),
          h("td", null, label("k_", e.kind)),
          h("td", null, dash(e.actor)),
          h("td", null, dash(e.subject)),
          h("td", null, dash(e.purpose)),
          h("td", null, dash(e.recipient)),
          h("td", null, dash(e.basis)),
          h("td", null, dash(e.form)),
          h("td", null, dash(e.period)),
          h("td", null, dash(e.manager)),
          h("td", { class: "nowrap" }, dash(e.client)),
          h("td", { class: "detail mono small", title: detail }, detail === "null" ? "" : detail)));
      }
      if (rows.length) lastSeq = rows[rows.length - 1].seq;
      more.hidden = rows.length < LIMIT;
    }

    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      lastSeq = null;
      updateExports();
      load(false);
    });
    for (const el of [kind, from, to]) el.addEventListener("change", updateExports);
    kind.addEventListener("change", () => {
      lastSeq = null;
      load(false);
    });
    more.addEventListener("click", () => load(true));
    updateExports();
    load(false);
    return h("section", { class: "card" }, h("h2", null, t("ledger_title")), form, err, exportsBox,
      h("div", { class: "table-wrap tall" }, table), h("div", { class: "actions" }, more));
  }

  function inspectionsCard() {
    const err = msgBox("inspection-error");
    const tbody = h("tbody");
    const table = h("table", { id: "inspection-table", class: "table" },
      h("thead", null, h("tr", null, ["insp_id", "insp_time", "insp_kind", "insp_result", "insp_signed", "insp_report"].map((k) => h("th", { scope: "col" }, t(k))))),
      tbody);
    let run = null;
    if (can("run_inspection")) {
      run = h("button", { type: "button", id: "inspection-run", class: "btn btn-primary" }, t("inspection_run"));
      run.addEventListener("click", async () => {
        run.disabled = true;
        showMsg(err, t("loading"), "ok");
        try {
          await api("POST", "/api/v1/inspections");
          showMsg(err, t("inspection_ran"), "ok");
          await load();
        } catch (e) {
          showMsg(err, errText(e));
        } finally {
          run.disabled = false;
        }
      });
    }

    function signCell(i) {
      if (i.signed_by) {
        return h("td", null, `${i.signed_by} · ${fmtLocal(i.signed_at_ms, false)}`, i.note ? h("div", { class: "muted small" }, i.note) : null);
      }
      if (!can("sign_inspection")) return h("td", null, t("none"));
      const nid = `insp-note-${i.id}`;
      const note = h("input", { type: "text", maxlength: "500" });
      const btn = h("button", { type: "submit", class: "btn countersign", "data-inspection": i.id }, t("insp_countersign"));
      const m = h("div", { class: "msg", role: "alert" });
      const form = h("form", { class: "inline-form" }, field(nid, t("insp_note"), note), btn, m);
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        btn.disabled = true;
        try {
          await api("POST", `/api/v1/inspections/${enc(i.id)}/countersign`, { note: note.value });
          await load();
        } catch (e) {
          showMsg(m, errText(e));
          btn.disabled = false;
        }
      });
      return h("td", null, form);
    }

    async function load() {
      let list;
      try {
        const ans = await api("GET", "/api/v1/inspections");
        list = Array.isArray(ans) ? ans : ans.inspections || [];
      } catch (e) {
        if (e.status !== 401) showMsg(err, errText(e));
        return;
      }
      clear(tbody);
      if (!list.length) tbody.appendChild(h("tr", null, h("td", { colspan: "6", class: "empty" }, t("insp_empty"))));
      list.slice().sort((a, b) => b.id - a.id).forEach((i) => {
        tbody.appendChild(h("tr", { class: ["inspection-row", i.ok ? null : "problem"], "data-inspection": i.id },
          h("td", { class: "num" }, dash(i.id)),
          h("td", { class: "nowrap" }, fmtLocal(i.at_ms)),
          h("td", null, label("insp_", i.kind)),
          h("td", null, h("span", { class: `badge ${i.ok ? "badge-ok" : "badge-bad"}` }, i.ok ? t("insp_ok") : t("insp_problem"))),
          signCell(i),
          h("td", null, h("details", null, h("summary", null, t("insp_report")), renderValue(i.report)))));
      });
    }
    load();
    return h("section", { class: "card" }, h("h2", null, t("inspections_title")), run ? h("div", { class: "actions" }, run) : null, err,
      h("div", { class: "table-wrap" }, table));
  }

  function reviewCard() {
    const d = new Date();
    const prev = new Date(d.getFullYear(), d.getMonth() - 1, 1);
    const month = h("input", { type: "text", value: `${prev.getFullYear()}-${pad2(prev.getMonth() + 1)}`, placeholder: "YYYY-MM", inputmode: "numeric", pattern: "\\d{4}-\\d{2}", maxlength: "7" });
    const show = h("button", { type: "submit", id: "review-show", class: "btn btn-primary" }, t("review_show"));
    const sign = can("sign_review") ? h("button", { type: "button", id: "review-sign", class: "btn" }, t("review_sign")) : null;
    const err = msgBox("review-error");
    const output = h("div", { id: "review-output", class: "review-output", "aria-live": "polite" });
    const form = h("form", { class: "filters" }, field("review-month", t("review_month"), month), h("div", { class: "actions" }, show, sign));
    const valid = () => /^\d{4}-(0[1-9]|1[0-2])$/.test(month.value.trim());

    async function showReview() {
      showMsg(err, "");
      if (!valid()) return showMsg(err, t("review_bad_month"));
      clear(output).appendChild(h("p", { class: "muted" }, t("loading")));
      try {
        const r = await api("GET", `/api/v1/ledger/review?month=${enc(month.value.trim())}`);
        shown = { month: r.month, sha256: r.sha256 };
        clear(output).appendChild(renderValue(r));
      } catch (e) {
        clear(output);
        showMsg(err, errText(e));
      }
    }
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      showReview();
    });
    let shown = null; // {month, sha256} of the review on the screen
    if (sign) {
      sign.addEventListener("click", async () => {
        showMsg(err, "");
        if (!valid()) return showMsg(err, t("review_bad_month"));
        // What is signed is the review on the screen: show it first.
        if (!shown || shown.month !== month.value.trim()) return showMsg(err, t("review_show_first"));
        sign.disabled = true;
        try {
          await api("POST", "/api/v1/ledger/review", shown);
          await showReview(); // with its new signature
          showMsg(err, t("review_signed"), "ok");
        } catch (e) {
          showMsg(err, errText(e));
        } finally {
          sign.disabled = false;
        }
      });
    }
    return h("section", { class: "card" }, h("h2", null, t("review_title")), form, err, output);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Site, users
  // ---------------------------------------------------------------------------------------------------------

  function pageSite(main) {
    const abs = (p) => `${location.origin}${p}`;
    main.appendChild(h("section", { id: "site-page", class: "page" },
      h("div", { class: "page-head" }, h("h1", null, t("site_title"))),
      h("section", { class: "card" },
        state.me && state.me.site ? h("p", null, h("strong", null, `${t("site_name")}: `), state.me.site) : null,
        h("p", null, t("site_intro")),
        h("ul", { class: "link-list" },
          h("li", null, h("a", { id: "notice-link", href: "/site/notice", target: "_blank", rel: "noopener" }, t("site_notice")), " ", h("code", null, abs("/site/notice"))),
          h("li", null, h("a", { id: "signs-link", href: "/site/signs", target: "_blank", rel: "noopener" }, t("site_signs")), " ", h("code", null, abs("/site/signs")))))));
  }

  function pageUsers(main) {
    const err = msgBox("users-error");
    const tbody = h("tbody");
    const table = h("table", { id: "user-table", class: "table" },
      h("thead", null, h("tr", null, ["user_name", "user_role", "user_person_col", "user_state", "user_created", "user_actions"].map((k) => h("th", { scope: "col" }, t(k))))),
      tbody);
    const roleOptions = (sel) => ROLES.map((r) => h("option", { value: r, selected: r === sel }, `${label("role_", r)} (${r})`));
    const name = h("input", { type: "text", required: true, autocomplete: "off", autocapitalize: "none", spellcheck: "false" });
    const role = h("select", null, roleOptions("access"));
    const password = h("input", { type: "password", required: true, autocomplete: "new-password" });
    const person = h("input", { type: "text", autocomplete: "off" });
    const addErr = h("div", { id: "user-add-error", class: "msg", role: "alert" });
    const add = h("button", { type: "submit", id: "user-add", class: "btn btn-primary" }, t("user_add"));
    const form = h("form", { id: "user-add-form", class: "filters", novalidate: true },
      field("user-name", t("user_name"), name),
      field("user-role", t("user_role"), role),
      field("user-password", t("user_password"), password),
      field("user-person", t("user_person"), person),
      h("div", { class: "actions" }, add));
    main.appendChild(h("section", { id: "users-page", class: "page" },
      h("div", { class: "page-head" }, h("h1", null, t("users_title"))),
      err,
      h("section", { class: "card" }, h("div", { class: "table-wrap" }, table)),
      h("section", { class: "card" }, h("h2", null, t("user_add_title")), form, addErr)));

    function row(u) {
      const safe = String(u.name).replace(/[^A-Za-z0-9_-]/g, "_");
      const sel = h("select", { id: `user-role-${safe}`, class: "user-role-select" }, roleOptions(u.role));
      const m = h("div", { class: "msg", role: "alert" });
      const change = h("button", { type: "button", class: "btn user-set-role" }, t("user_set_role"));
      const toggle = h("button", { type: "button", class: `btn ${u.disabled ? "user-enable" : "btn-danger user-disable"}` }, u.disabled ? t("user_enable") : t("user_disable"));
      async function patch(body, btn) {
        btn.disabled = true;
        showMsg(m, "");
        try {
          await api("PATCH", `/api/v1/users/${enc(u.name)}`, body);
          showMsg(err, t("user_changed", u.name), "ok");
          await load();
        } catch (e) {
          // The last k holders of the sealed key: said in plain words, and done only when confirmed.
          if (e.status === 409 && /allow_sealed_lockout/.test(e.message) && !body.allow_sealed_lockout) {
            if (window.confirm(t("user_sealed_lockout", u.name))) {
              return patch(Object.assign({}, body, { allow_sealed_lockout: true }), btn);
            }
            showMsg(m, t("user_sealed_lockout_kept", u.name));
            btn.disabled = false;
            return;
          }
          showMsg(m, errText(e));
          btn.disabled = false;
        }
      }
      change.addEventListener("click", () => patch({ role: sel.value }, change));
      toggle.addEventListener("click", () => patch({ disabled: !u.disabled }, toggle));
      return h("tr", { class: ["user-row", u.disabled && "disabled"], "data-user": u.name },
        h("td", null, dash(u.name)),
        h("td", null, label("role_", u.role),
          u.sealed_share ? h("span", { class: "badge sealed-share", title: t("user_sealed_share_hint") }, t("user_sealed_share")) : null),
        h("td", null, dash(u.person_id)),
        h("td", { class: "nowrap" }, h("span", { class: `badge ${u.disabled ? "badge-muted" : "badge-ok"}` }, u.disabled ? t("user_disabled") : t("user_enabled"))),
        h("td", { class: "nowrap" }, u.created_ms ? fmtLocal(u.created_ms, false) : t("none")),
        h("td", { class: "user-actions" },
          h("div", { class: "inline" }, h("label", { for: sel.id, class: "sr-only" }, t("user_role_of", u.name)), sel, change, toggle), m));
    }

    async function load() {
      let list;
      try {
        const ans = await api("GET", "/api/v1/users");
        list = Array.isArray(ans) ? ans : ans.users || [];
      } catch (e) {
        if (e.status !== 401) showMsg(err, errText(e));
        return;
      }
      clear(tbody);
      if (!list.length) tbody.appendChild(h("tr", null, h("td", { colspan: "6", class: "empty" }, t("users_empty"))));
      for (const u of list) tbody.appendChild(row(u));
    }

    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      showMsg(addErr, "");
      const body = { name: name.value.trim(), role: role.value, password: password.value };
      if (person.value.trim()) body.person_id = person.value.trim();
      add.disabled = true;
      try {
        await api("POST", "/api/v1/users", body);
        showMsg(addErr, t("user_added", body.name), "ok");
        name.value = "";
        password.value = "";
        person.value = "";
        await load();
      } catch (e) {
        showMsg(addErr, errText(e));
        const target = { name, role, password, person_id: person }[e.field];
        if (target) target.focus();
      } finally {
        add.disabled = false;
      }
    });
    load();
  }

  // ---------------------------------------------------------------------------------------------------------

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();
