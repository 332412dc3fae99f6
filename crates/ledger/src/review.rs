//! The monthly access review (접근 기록 검토): a summary of one month of ledger rows for the person in charge
//! to read and sign — who used, provided, viewed or destroyed which footage, what people did outside office
//! hours or at weekends (KST), failed logins, and what contractors did. Signing it is a Kind::Review row,
//! appended by the caller.

use crate::time::{Kst, format_kst};
use crate::{Kind, Row};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// The usual office hours, KST: from 09:00 to before 18:00.
pub const DEFAULT_OFFICE_HOURS: (u32, u32) = (9, 18);

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Review {
    pub month_start_ms: i64,
    pub month_end_ms: i64,
    /// KST hours [start, end) on weekdays.
    pub office_hours: (u32, u32),
    /// Rows in the month.
    pub rows: u64,
    /// Per actor, the Decree's four kinds of handling; actors with none are left out.
    pub actors: Vec<ActorActivity>,
    /// People's rows (not the service's) outside office hours or at weekends.
    pub after_hours: Vec<FlaggedRow>,
    pub failed_logins: Vec<FailedLogins>,
    /// Rows whose detail says `"role": "contractor"`.
    pub contractor: Vec<FlaggedRow>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ActorActivity {
    pub actor: String,
    pub views: u64,
    pub uses: u64,
    pub provides: u64,
    pub destroys: u64,
    /// The distinct subjects handled, sorted.
    pub subjects: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FlaggedRow {
    pub seq: u64,
    pub at_ms: i64,
    /// 일시 in KST.
    pub at_kst: String,
    pub kind: Kind,
    pub actor: String,
    pub subject: String,
    pub client: String,
    /// Why the row is listed ("weekend", "outside office hours", "contractor").
    pub why: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FailedLogins {
    pub actor: String,
    pub client: String,
    pub count: u64,
    pub first_ms: i64,
    pub last_ms: i64,
}

fn flagged(r: &Row, why: &str) -> FlaggedRow {
    FlaggedRow {
        seq: r.seq,
        at_ms: r.at_ms,
        at_kst: format_kst(r.at_ms),
        kind: r.entry.kind,
        actor: r.entry.actor.clone(),
        subject: r.entry.subject.clone(),
        client: r.entry.client.clone(),
        why: why.to_string(),
    }
}

/// Summarises the rows stamped in [month_start_ms, month_end_ms); other rows are ignored.
pub fn review(
    rows: &[Row],
    month_start_ms: i64,
    month_end_ms: i64,
    office_hours: (u32, u32),
) -> Review {
    let (open, close) = office_hours;
    let mut actors: BTreeMap<&str, (ActorActivity, BTreeSet<&str>)> = BTreeMap::new();
    let mut after_hours = Vec::new();
    let mut failed: BTreeMap<(&str, &str), FailedLogins> = BTreeMap::new();
    let mut contractor = Vec::new();
    let mut count = 0;
    for r in rows
        .iter()
        .filter(|r| r.at_ms >= month_start_ms && r.at_ms < month_end_ms)
    {
        count += 1;
        let e = &r.entry;
        if e.kind.is_legal() {
            let (a, subjects) = actors.entry(&e.actor).or_default();
            match e.kind {
                Kind::View => a.views += 1,
                Kind::Use => a.uses += 1,
                Kind::Provide => a.provides += 1,
                _ => a.destroys += 1,
            }
            subjects.insert(&e.subject);
        }
        // The service's own rows (sweeps, alarms) run around the clock by design.
        if !e.actor.is_empty() && e.actor != "system" {
            let t = Kst::of(r.at_ms);
            if t.is_weekend() {
                after_hours.push(flagged(r, "weekend"));
            } else if t.hour < open || t.hour >= close {
                after_hours.push(flagged(r, "outside office hours"));
            }
        }
        if e.kind == Kind::LoginFailed {
            let f = failed
                .entry((&e.actor, &e.client))
                .or_insert_with(|| FailedLogins {
                    actor: e.actor.clone(),
                    client: e.client.clone(),
                    count: 0,
                    first_ms: r.at_ms,
                    last_ms: r.at_ms,
                });
            f.count += 1;
            f.first_ms = f.first_ms.min(r.at_ms);
            f.last_ms = f.last_ms.max(r.at_ms);
        }
        if e.detail.get("role").and_then(|v| v.as_str()) == Some("contractor") {
            contractor.push(flagged(r, "contractor"));
        }
    }
    Review {
        month_start_ms,
        month_end_ms,
        office_hours,
        rows: count,
        actors: actors
            .into_iter()
            .map(|(name, (mut a, subjects))| {
                a.actor = name.to_string();
                a.subjects = subjects.into_iter().map(str::to_string).collect();
                a
            })
            .collect(),
        after_hours,
        failed_logins: failed.into_values().collect(),
        contractor,
    }
}

/// Text for one Markdown table cell.
fn cell(s: &str) -> String {
    if s.is_empty() {
        return "-".into();
    }
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// A month as YYYY-MM.
pub fn parse_month(s: &str) -> Result<(i64, u32), String> {
    let bad = || format!("{s:?} is not a month; use YYYY-MM, e.g. 2026-11");
    let (y, m) = s.split_once('-').ok_or_else(bad)?;
    let (y, m): (i64, u32) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if !(2000..=9999).contains(&y) || !(1..=12).contains(&m) {
        return Err(bad());
    }
    Ok((y, m))
}

/// One month's review as the CLI and the console show it, with what a signature hashes.
#[derive(Clone, Debug, Serialize)]
pub struct MonthReview {
    pub month: String,
    pub rows_reviewed: usize,
    pub review: Review,
    pub markdown: String,
}

/// Reviews `month` (YYYY-MM, KST) of the ledger.
pub fn month_review(ledger: &crate::Ledger, month: &str) -> Result<MonthReview, String> {
    let (y, m) = parse_month(month)?;
    let (start, end) = crate::time::kst_month_ms(y, m);
    let rows = ledger
        .list(&crate::Filter {
            from_ms: Some(start),
            to_ms: Some(end),
            ..crate::Filter::default()
        })
        .map_err(|e| e.to_string())?;
    let review = review(&rows, start, end, DEFAULT_OFFICE_HOURS);
    let markdown = review.to_markdown();
    Ok(MonthReview {
        month: month.to_string(),
        rows_reviewed: rows.len(),
        review,
        markdown,
    })
}

/// The Kind::Review row of a manager signing `r` (the review's text is kept as its hash).
pub fn signature(r: &MonthReview, manager: &str, client: &str) -> crate::Entry {
    use sha2::Digest;
    crate::Entry {
        kind: Kind::Review,
        actor: manager.to_string(),
        subject: format!("접근기록 점검 {}", r.month),
        purpose: "monthly access review (시행령 제30조)".into(),
        manager: manager.to_string(),
        client: client.to_string(),
        detail: serde_json::json!({
            "month": r.month, "rows_reviewed": r.rows_reviewed,
            "sha256": hex::encode(sha2::Sha256::digest(r.markdown.as_bytes())),
        }),
        ..crate::Entry::default()
    }
}

impl Review {
    /// The review as Markdown: Korean headings (the form's terms), English detail.
    pub fn to_markdown(&self) -> String {
        let start = Kst::of(self.month_start_ms);
        let mut md = String::new();
        let _ = writeln!(
            md,
            "# 영상정보 접근 기록 검토 ({:04}-{:02})\n",
            start.year, start.month
        );
        let _ = writeln!(
            md,
            "Period: {} to {} KST (end exclusive). Ledger rows in the period: {}. Office hours: \
             {:02}:00–{:02}:00, Monday to Friday (public holidays are not marked).\n",
            format_kst(self.month_start_ms),
            format_kst(self.month_end_ms),
            self.rows,
            self.office_hours.0,
            self.office_hours.1
        );
        md.push_str("## 처리자별 이용·제공·열람·파기\n\n");
        if self.actors.is_empty() {
            md.push_str("No footage was used, provided, viewed or destroyed.\n\n");
        } else {
            md.push_str(
                "| 처리자 | 열람 | 이용 | 제공 | 파기 | 대상 |\n|---|---:|---:|---:|---:|---|\n",
            );
            for a in &self.actors {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {} | {} |",
                    cell(&a.actor),
                    a.views,
                    a.uses,
                    a.provides,
                    a.destroys,
                    cell(&a.subjects.join("; "))
                );
            }
            md.push('\n');
        }
        md.push_str("## 업무시간 외·주말 접근\n\n");
        flagged_table(
            &mut md,
            &self.after_hours,
            "No access outside office hours.",
        );
        md.push_str("## 로그인 실패\n\n");
        if self.failed_logins.is_empty() {
            md.push_str("No failed logins.\n\n");
        } else {
            md.push_str("| 사용자 | 접속지 | 횟수 | 처음 | 마지막 |\n|---|---|---:|---|---|\n");
            for f in &self.failed_logins {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {} |",
                    cell(&f.actor),
                    cell(&f.client),
                    f.count,
                    format_kst(f.first_ms),
                    format_kst(f.last_ms)
                );
            }
            md.push('\n');
        }
        md.push_str("## 외주 인력 활동\n\n");
        flagged_table(&mut md, &self.contractor, "No contractor activity.");
        md.push_str(
            "## 확인\n\nReviewed by the person in charge (관리책임자); the signature is recorded as a \
             접근 검토 row of the ledger.\n",
        );
        md
    }
}

fn flagged_table(md: &mut String, rows: &[FlaggedRow], none: &str) {
    if rows.is_empty() {
        md.push_str(none);
        md.push_str("\n\n");
        return;
    }
    md.push_str("| 번호 | 일시 | 구분 | 처리자 | 파일명/형태 | 접속지 | Why |\n|---:|---|---|---|---|---|---|\n");
    for r in rows {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.seq,
            r.at_kst,
            r.kind.korean(),
            cell(&r.actor),
            cell(&r.subject),
            cell(&r.client),
            r.why
        );
    }
    md.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Entry;
    use crate::time::kst_month_ms;
    use serde_json::json;

    fn row(seq: u64, at_ms: i64, kind: Kind, actor: &str, subject: &str) -> Row {
        Row {
            seq,
            at_ms,
            entry: Entry {
                client: "10.0.0.5".into(),
                ..Entry::new(kind, actor, subject)
            },
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    /// Unix ms of a KST wall-clock time in December 2026.
    fn dec(day: i64, hour: i64, minute: i64) -> i64 {
        let (start, _) = kst_month_ms(2026, 12);
        start + ((day - 1) * 24 + hour) * 3_600_000 + minute * 60_000
    }

    #[test]
    fn month_review_counts_handling_and_flags_odd_hours() {
        // 2026-12-01 is a Tuesday; the 5th a Saturday.
        let mut contractor = row(
            7,
            dec(3, 10, 0),
            Kind::View,
            "kim-contract",
            "cam-2 09:00-09:10",
        );
        contractor.entry.detail = json!({"role": "contractor"});
        let rows = vec![
            row(1, dec(1, 10, 0), Kind::View, "lee", "cam-1 08:00-08:05"),
            row(2, dec(1, 11, 0), Kind::View, "lee", "cam-1 08:00-08:05"),
            row(3, dec(1, 22, 30), Kind::Provide, "lee", "cam-3 all day"),
            row(4, dec(5, 14, 0), Kind::Use, "park", "cam-1 12:00-12:30"),
            row(5, dec(2, 3, 0), Kind::Destroy, "system", "cam-1 2026-11-01"),
            row(6, dec(2, 9, 0), Kind::LoginFailed, "choi", "login"),
            contractor,
            row(8, dec(2, 9, 1), Kind::LoginFailed, "choi", "login"),
            row(9, dec(32, 10, 0), Kind::View, "lee", "next month"),
        ];
        let (start, end) = kst_month_ms(2026, 12);
        let r = review(&rows, start, end, DEFAULT_OFFICE_HOURS);
        assert_eq!(r.rows, 8);
        let lee = r.actors.iter().find(|a| a.actor == "lee").unwrap();
        assert_eq!((lee.views, lee.provides), (2, 1));
        assert_eq!(lee.subjects, ["cam-1 08:00-08:05", "cam-3 all day"]);
        assert_eq!(
            r.actors
                .iter()
                .find(|a| a.actor == "system")
                .unwrap()
                .destroys,
            1
        );
        let odd: Vec<(u64, &str)> = r
            .after_hours
            .iter()
            .map(|f| (f.seq, f.why.as_str()))
            .collect();
        assert_eq!(odd, [(3, "outside office hours"), (4, "weekend")]);
        assert_eq!(r.failed_logins.len(), 1);
        assert_eq!(r.failed_logins[0].count, 2);
        assert_eq!(r.contractor.len(), 1);
        assert_eq!(r.contractor[0].actor, "kim-contract");
        let md = r.to_markdown();
        for heading in [
            "# 영상정보 접근 기록 검토 (2026-12)",
            "## 업무시간 외·주말 접근",
            "## 로그인 실패",
            "## 외주 인력 활동",
        ] {
            assert!(md.contains(heading), "{md}");
        }
        assert!(
            md.contains("| 3 | 2026-12-01 22:30:00 | 제공 | lee |"),
            "{md}"
        );
    }
}
