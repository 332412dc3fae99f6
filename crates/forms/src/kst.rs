//! Dates as the forms print them, in Korean Standard Time: KST is UTC+9 all year (no daylight saving), so a
//! fixed offset and civil-calendar arithmetic are exact. (The ledger crate has the same arithmetic for its
//! 관리대장; the forms do not pull in the ledger and its databases for it.)

const KST_OFFSET_MS: i64 = 9 * 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// `2026년 11월 24일`.
pub(crate) fn date(at_ms: i64) -> String {
    let (y, m, d, _, _) = fields(at_ms);
    format!("{y}년 {m}월 {d}일")
}

/// `2026년 11월 24일 09:00`.
pub(crate) fn date_time(at_ms: i64) -> String {
    let (y, m, d, hh, mm) = fields(at_ms);
    format!("{y}년 {m}월 {d}일 {hh:02}:{mm:02}")
}

/// The year, month, day, hour and minute of an instant in KST.
fn fields(at_ms: i64) -> (i64, u32, u32, u32, u32) {
    let local = at_ms + KST_OFFSET_MS;
    let (y, m, d) = civil_from_days(local.div_euclid(DAY_MS));
    let minutes = (local.rem_euclid(DAY_MS) / 60_000) as u32;
    (y, m, d, minutes / 60, minutes % 60)
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_midnight_is_nine_in_the_morning_in_seoul() {
        assert_eq!(date_time(1_795_478_400_000), "2026년 11월 24일 09:00");
    }

    #[test]
    fn an_afternoon_in_utc_is_the_next_day_in_seoul() {
        // 2026-11-24 15:30 UTC
        assert_eq!(date_time(1_795_534_200_000), "2026년 11월 25일 00:30");
        assert_eq!(date(1_795_534_200_000), "2026년 11월 25일");
        // 2024-02-29 00:00 UTC: a leap day.
        assert_eq!(date(1_709_164_800_000), "2024년 2월 29일");
        assert_eq!(date(0), "1970년 1월 1일");
    }
}
