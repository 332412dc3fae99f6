//! Korean as a notice needs it: particles chosen by the final consonant of the word they follow, numbers with
//! thousands separators, and calendar dates that are checked before they are written as "2025년 1월 1일".

/// A particle that has one form after a final consonant and another after a vowel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Particle {
    /// 은/는 (topic)
    Topic,
    /// 이/가 (subject)
    Subject,
    /// 을/를 (object)
    Object,
    /// 과/와 (and)
    And,
}

impl Particle {
    fn forms(self) -> (&'static str, &'static str) {
        match self {
            Particle::Topic => ("은", "는"),
            Particle::Subject => ("이", "가"),
            Particle::Object => ("을", "를"),
            Particle::And => ("과", "와"),
        }
    }
}

/// Whether `word` is read with a final consonant (받침) at its end. A closing parenthetical is skipped (the
/// particle agrees with the word before it), quotes are looked through; digits and Latin letters are read as
/// Korean reads them. None when it cannot be told (e.g. a symbol).
pub fn ends_with_consonant(word: &str) -> Option<bool> {
    let mut depth = 0usize;
    for c in word.chars().rev() {
        match c {
            ')' | ']' | '」' | '』' | '〕' => depth += 1,
            '(' | '[' | '「' | '『' | '〔' => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            c if c.is_whitespace() || "\"'“”‘’.".contains(c) => {}
            '가'..='힣' => return Some((c as u32 - 0xAC00) % 28 != 0),
            // 영 일 이 삼 사 오 육 칠 팔 구
            '0' | '1' | '3' | '6' | '7' | '8' => return Some(true),
            '2' | '4' | '5' | '9' => return Some(false),
            // 엘 엠 엔 알; the other letters' names end in a vowel (에이, 비, 씨, …).
            c if c.is_ascii_alphabetic() => {
                return Some(matches!(c.to_ascii_lowercase(), 'l' | 'm' | 'n' | 'r'));
            }
            _ => return None,
        }
    }
    None
}

/// `word` followed by the right form of `p`: ("경제자유구역청", Topic) → "경제자유구역청은". When the ending
/// cannot be read both are written, "은(는)", as Korean forms do.
pub fn with_particle(word: &str, p: Particle) -> String {
    let (after_consonant, after_vowel) = p.forms();
    match ends_with_consonant(word) {
        Some(true) => format!("{word}{after_consonant}"),
        Some(false) => format!("{word}{after_vowel}"),
        None => format!("{word}{after_consonant}({after_vowel})"),
    }
}

/// 1790 → "1,790".
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A count of cameras as notices write it: "1,790대".
pub fn units(n: usize) -> String {
    format!("{}대", thousands(n))
}

/// A calendar date written YYYY-MM-DD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: u32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    /// Parses exactly YYYY-MM-DD and refuses days that don't exist (2023-13-45, 2026-02-29).
    pub fn parse(s: &str) -> Result<Date, String> {
        let b = s.as_bytes();
        let shape_ok = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
        if !shape_ok {
            return Err("not a date written YYYY-MM-DD".into());
        }
        let (year, month, day) = (
            s[0..4].parse::<u32>().unwrap_or(0),
            s[5..7].parse::<u32>().unwrap_or(0),
            s[8..10].parse::<u32>().unwrap_or(0),
        );
        if !(1900..=2999).contains(&year) {
            return Err(format!("year {year} is outside 1900–2999"));
        }
        if !(1..=12).contains(&month) {
            return Err(format!("month {month} does not exist"));
        }
        if !(1..=vocab::days_in_month(year, month)).contains(&day) {
            return Err(format!("{year}-{month:02} has no day {day}"));
        }
        Ok(Date { year, month, day })
    }

    /// "2025년 12월 31일"
    pub fn korean(self) -> String {
        format!("{}년 {}월 {}일", self.year, self.month, self.day)
    }
}

/// "2025-12-31" → "2025년 12월 31일"; text that is not a valid date (already refused by `garim check`) as is.
pub fn korean_date(s: &str) -> String {
    Date::parse(s).map_or_else(|_| s.to_string(), Date::korean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn particles_follow_the_final_consonant() {
        assert_eq!(
            with_particle("경제자유구역청", Particle::Topic),
            "경제자유구역청은"
        );
        assert_eq!(
            with_particle("김제시가족센터", Particle::Topic),
            "김제시가족센터는"
        );
        assert_eq!(
            with_particle(
                "중부지방고용노동청(인천고용복지+센터 포함)",
                Particle::Topic
            ),
            "중부지방고용노동청(인천고용복지+센터 포함)은"
        );
        assert_eq!(
            with_particle("\"본 기관\"", Particle::Subject),
            "\"본 기관\"이"
        );
        assert_eq!(with_particle("시청", Particle::Object), "시청을");
        assert_eq!(with_particle("센터", Particle::Object), "센터를");
        assert_eq!(with_particle("제3", Particle::Subject), "제3이");
        assert_eq!(with_particle("제2", Particle::Subject), "제2가");
        assert_eq!(with_particle("ADT", Particle::Topic), "ADT는");
        assert_eq!(with_particle("KTL", Particle::Topic), "KTL은");
        assert_eq!(with_particle("★", Particle::Topic), "★은(는)");
    }

    #[test]
    fn numbers_get_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1790), "1,790");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(units(1148), "1,148대");
    }

    #[test]
    fn dates_are_checked_and_written_in_korean() {
        assert_eq!(korean_date("2025-12-31"), "2025년 12월 31일");
        assert_eq!(korean_date("2024-01-05"), "2024년 1월 5일");
        assert_eq!(Date::parse("2024-02-29").unwrap().day, 29);
        for bad in [
            "2023-13-45",
            "2026-02-29",
            "2026-02-31",
            "2026-04-31",
            "99999-01-01",
            "2026-1-1",
            "곧",
            "0000-01-01",
        ] {
            assert!(Date::parse(bad).is_err(), "{bad}");
        }
    }
}
