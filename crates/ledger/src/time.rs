//! Korean Standard Time for the rendered forms and the access review: KST is UTC+9 all year (no daylight
//! saving), so a fixed offset and the civil-calendar arithmetic below are exact.

/// KST's offset from UTC in milliseconds.
pub const KST_OFFSET_MS: i64 = 9 * 3_600_000;

const DAY_MS: i64 = 86_400_000;

/// The KST calendar fields of an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kst {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// 0 = Sunday … 6 = Saturday.
    pub weekday: u32,
}

impl Kst {
    pub fn of(at_ms: i64) -> Kst {
        let local = at_ms + KST_OFFSET_MS;
        let days = local.div_euclid(DAY_MS);
        let ms = local.rem_euclid(DAY_MS);
        let (year, month, day) = civil_from_days(days);
        let secs = (ms / 1000) as u32;
        Kst {
            year,
            month,
            day,
            hour: secs / 3600,
            minute: secs / 60 % 60,
            second: secs % 60,
            // 1970-01-01 was a Thursday.
            weekday: (days + 4).rem_euclid(7) as u32,
        }
    }

    pub fn is_weekend(&self) -> bool {
        self.weekday == 0 || self.weekday == 6
    }
}

/// `2026-12-01 17:05:09`, the 일시 column's format.
pub fn format_kst(at_ms: i64) -> String {
    let t = Kst::of(at_ms);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

/// The start (inclusive) and end (exclusive) of a KST calendar month, in unix ms.
pub fn kst_month_ms(year: i64, month: u32) -> (i64, i64) {
    let (ny, nm) = if month >= 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    let start = days_from_civil(year, month, 1) * DAY_MS - KST_OFFSET_MS;
    let end = days_from_civil(ny, nm, 1) * DAY_MS - KST_OFFSET_MS;
    (start, end)
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
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_instant_is_rendered_nine_hours_ahead() {
        // 2026-12-01T08:05:09Z
        assert_eq!(format_kst(1_796_112_309_000), "2026-12-01 17:05:09");
        assert_eq!(format_kst(0), "1970-01-01 09:00:00");
    }

    #[test]
    fn late_utc_evening_is_the_next_kst_day() {
        // 2026-12-05T15:30:00Z is Sunday 00:30 in Seoul.
        let t = Kst::of(1_796_484_600_000);
        assert_eq!((t.day, t.hour, t.weekday), (6, 0, 0));
        assert!(t.is_weekend());
    }

    #[test]
    fn kst_month_bounds_start_at_local_midnight() {
        let (s, e) = kst_month_ms(2026, 12);
        assert_eq!(format_kst(s), "2026-12-01 00:00:00");
        assert_eq!(format_kst(e), "2027-01-01 00:00:00");
        assert_eq!(format_kst(e - 1000), "2026-12-31 23:59:59");
        let (s, _) = kst_month_ms(2028, 2);
        assert_eq!(
            days_from_civil(2028, 2, 29) - days_from_civil(2028, 2, 1),
            28
        );
        assert_eq!(format_kst(s), "2028-02-01 00:00:00");
    }
}
