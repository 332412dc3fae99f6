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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_of_known_instants() {
        assert_eq!(utc_stamp(1_795_923_045), "20261129T033045Z");
        assert_eq!(utc_stamp(0), "19700101T000000Z");
        assert_eq!(day_label(day_of(951_782_400)), "20000229");
    }
}
