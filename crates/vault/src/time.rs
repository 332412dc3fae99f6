//! UTC calendar helpers without a date crate: day numbers and `YYYYMMDD`/`YYYYMMDDTHHMMSSZ` labels.

use std::time::{SystemTime, UNIX_EPOCH};

pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Days since 1970-01-01 (UTC) of a unix time.
pub fn day_of(unix: i64) -> i64 {
    unix.div_euclid(86_400)
}

/// (year, month, day) of a day number (Howard Hinnant's civil-from-days).
pub fn civil(day: i64) -> (i64, u32, u32) {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

pub fn day_label(day: i64) -> String {
    let (y, m, d) = civil(day);
    format!("{y:04}{m:02}{d:02}")
}

/// `YYYYMMDDTHHMMSSZ` of a unix time.
pub fn utc_stamp(unix: i64) -> String {
    let rem = unix.rem_euclid(86_400);
    format!(
        "{}T{:02}{:02}{:02}Z",
        day_label(day_of(unix)),
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Day number of a civil date (inverse of `civil`).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Unix seconds from `1795923045`, `2026-11-29T03:30:45Z` or `2026-11-29` (UTC).
/// A time as a user gives it, or the error that says which forms are read.
/// 9999-12-31T23:59:59Z, the last time garim reads.
const LAST_SECOND: i64 = 253_402_300_799;

pub fn read_time(s: &str) -> Result<i64, String> {
    parse_time(s).ok_or_else(|| {
        format!("cannot read {s:?} as a time; use 2026-11-24T09:00:00Z, 2026-11-24 or unix seconds")
    })
}

pub fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.chars().all(|c| c.is_ascii_digit()) {
        // Unix seconds up to the end of 9999 (anything larger is a typo, not a time).
        return s.parse().ok().filter(|&t| t <= LAST_SECOND);
    }
    // The compact stamps garim itself prints (`utc_stamp`: 20261129T033045Z) are read back too.
    if let Some(c) = s.strip_suffix('Z').filter(|c| {
        c.len() == 15
            && c.as_bytes()[8] == b'T'
            && c.bytes().filter(u8::is_ascii_digit).count() == 14
    }) {
        let iso = format!(
            "{}-{}-{}T{}:{}:{}Z",
            &c[..4],
            &c[4..6],
            &c[6..8],
            &c[9..11],
            &c[11..13],
            &c[13..15]
        );
        return parse_time(&iso);
    }
    let (date, time) = s
        .trim_end_matches('Z')
        .split_once('T')
        .unwrap_or((s, "00:00:00"));
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, dd) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':').map(|p| p.parse::<i64>().ok());
    let (h, mi, sec) = (
        t.next()??,
        t.next().flatten().unwrap_or(0),
        t.next().flatten().unwrap_or(0),
    );
    // Days that exist only: 2026-02-31 and year 99999 are refused, never rolled over.
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    if !(1..=i64::from(vocab::days_in_month(y as u32, m as u32))).contains(&dd) {
        return None;
    }
    Some(days_from_civil(y, m as u32, dd as u32) * 86_400 + h * 3600 + mi * 60 + sec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_of_known_instants() {
        assert_eq!(utc_stamp(1_795_923_045), "20261129T033045Z");
        assert_eq!(utc_stamp(0), "19700101T000000Z");
        assert_eq!(parse_time(&utc_stamp(1_795_923_045)), Some(1_795_923_045));
        assert_eq!(parse_time("20261129T033045"), None);
        assert_eq!(day_label(day_of(951_782_400)), "20000229");
        assert_eq!(parse_time("2026-11-29T03:30:45Z"), Some(1_795_923_045));
        assert_eq!(parse_time("1795923045"), Some(1_795_923_045));
        assert_eq!(parse_time("2026-11-29"), Some(1_795_910_400));
        assert_eq!(parse_time("yesterday"), None);
        for bad in [
            "2026-02-31",
            "2026-02-29",
            "2026-04-31",
            "2026-13-01",
            "99999-01-01",
            "1969-12-31",
            "2026-11-29T24:00:00Z",
            "99999999999999",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
        assert_eq!(parse_time("2024-02-29"), Some(1_709_164_800));
        assert_eq!(parse_time("9999-12-31T23:59:59Z"), Some(LAST_SECOND));
        for day in [0, 11_016, 20_416] {
            let (y, m, d) = civil(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
    }
}
