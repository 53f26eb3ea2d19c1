//! Timestamps as shops write them: Unix seconds or milliseconds, ISO 8601 with
//! or without a zone, `YYYY-MM-DD HH:MM[:SS]`, `YYYY/M/D H:MM`, `M/D/YYYY H:MM`.
//! Times without a zone are taken as the shop's wall clock and stored as if UTC.

use chrono::{DateTime, NaiveDate, NaiveDateTime};

/// Numbers above this are milliseconds (1e11 s is the year 5138).
const MILLIS_THRESHOLD: f64 = 1e11;

const DATE_TIME_FORMATS: &[&str] = &[
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
];

const DATE_FORMATS: &[&str] = &["%Y-%m-%d", "%Y/%m/%d", "%m/%d/%Y", "%Y年%m月%d日"];

/// Parses one timestamp to Unix seconds; `None` when no known format fits.
pub fn parse_timestamp(raw: &str) -> Option<i64> {
    let s = raw.trim();
    if s.is_empty() {
        return None;
    }
    if s.bytes()
        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
        && s.bytes().skip(1).all(|b| b != b'-')
    {
        let n: f64 = s.parse().ok()?;
        if !n.is_finite() {
            return None;
        }
        let secs = if n.abs() >= MILLIS_THRESHOLD {
            n / 1000.0
        } else {
            n
        };
        return Some(secs.floor() as i64);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.timestamp());
    }
    if let Ok(dt) = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(dt.timestamp());
    }
    for format in DATE_TIME_FORMATS {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, format) {
            return Some(dt.and_utc().timestamp());
        }
    }
    for format in DATE_FORMATS {
        if let Ok(d) = NaiveDate::parse_from_str(s, format) {
            return d.and_hms_opt(0, 0, 0).map(|dt| dt.and_utc().timestamp());
        }
    }
    None
}

/// Remembers the last parse: exports list many lines of one order with the same time.
#[derive(Default)]
pub struct TimestampParser {
    last: Option<(String, Option<i64>)>,
}

impl TimestampParser {
    pub fn parse(&mut self, raw: &str) -> Option<i64> {
        if let Some((text, value)) = &self.last
            && text == raw
        {
            return *value;
        }
        let value = parse_timestamp(raw);
        self.last = Some((raw.to_owned(), value));
        value
    }
}

#[cfg(test)]
mod tests {
    use super::parse_timestamp as p;

    #[test]
    fn known_formats() {
        let t = Some(1_291_191_960); // 2010-12-01 08:26:00
        assert_eq!(p("1291191960"), t);
        assert_eq!(p("1291191960000"), t);
        assert_eq!(p("2010-12-01 08:26:00"), t);
        assert_eq!(p("2010-12-01 08:26"), t);
        assert_eq!(p("2010-12-01T08:26:00"), t);
        assert_eq!(p("2010-12-01T08:26:00Z"), t);
        assert_eq!(p("2010-12-01T09:26:00+01:00"), t);
        assert_eq!(p("12/1/2010 8:26"), t);
        assert_eq!(p("2010/12/1 8:26"), t);
        assert_eq!(p("2010年12月1日 08:26"), t);
        assert_eq!(p("2010-12-01"), Some(1_291_161_600));
        assert_eq!(p(" 964982703 "), Some(964_982_703));
    }

    #[test]
    fn rejects_nonsense() {
        for bad in [
            "",
            "yesterday",
            "2010-13-01",
            "31/12/2010 10:00",
            "12-",
            "1.2.3",
            "2010-02-30",
        ] {
            assert_eq!(p(bad), None, "{bad}");
        }
    }
}
