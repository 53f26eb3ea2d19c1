//! Timestamps as shops and schools write them: Unix seconds or milliseconds, ISO 8601 with or without a zone (`+08:00`, `-0500`, with or without a space),
//! `YYYY-MM-DD HH:MM[:SS]`, `YYYY/M/D H:MM`, `M/D/YYYY H:MM` or `D/M/YYYY H:MM` (also
//! with `-`, a 2-digit year or AM/PM), `2024年3月1日`, Moodle's `Thursday, 1 May 2024, 9:12 AM` and its yearless
//! `1 May, 09:12`. Times without a zone are taken as the shop's wall clock and stored as if UTC.
//!
//! Whether `03/04/2024` is the 4th of March or the 3rd of April is decided once per file
//! from all of its values ([`DateOrder::decide`]: a first number above 12 means day first),
//! never row by row, and the import report says what was decided.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime};

/// Numbers above this are milliseconds (1e11 s is the year 5138).
const MILLIS_THRESHOLD: f64 = 1e11;

const DATE_TIME_FORMATS: &[&str] = &[
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日%H:%M:%S",
    "%Y年%m月%d日%H:%M",
    // Moodle's log reports.
    "%A, %d %B %Y, %I:%M %p",
    "%A, %d %B %Y, %H:%M",
    "%d %B %Y, %I:%M %p",
    "%d %B %Y, %H:%M",
];

/// Zoned layouts: ISO with a space before the offset (Shopify's `2024-03-01 12:31:00 -0500`).
const ZONED_FORMATS: &[&str] = &[
    "%Y-%m-%d %H:%M:%S%.f %z",
    "%Y-%m-%d %H:%M:%S%.f%z",
    "%Y-%m-%dT%H:%M:%S%.f%z",
    "%Y-%m-%dT%H:%M:%S%.f %z",
    "%Y-%m-%d %H:%M %z",
    "%Y/%m/%d %H:%M:%S %z",
];

const DATE_FORMATS: &[&str] = &["%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日", "%d %B %Y"];

/// How a file orders day and month in dates like `03/04/2024`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DateOrder {
    /// `M/D/Y`: what US exports (and the UCI file) write; the default when nothing decides.
    #[default]
    MonthFirst,
    /// `D/M/Y`: most of the rest of the world.
    DayFirst,
}

/// What a file's values said about their day/month order, for the report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DateOrderFinding {
    pub order: DateOrder,
    /// Values before the decision with two small numbers (`03/04/2024`): read either way.
    pub ambiguous: u64,
    /// The value that decided it (`25/04/2024` for day first), if any did.
    pub decided_by: Option<String>,
}

impl DateOrderFinding {
    /// A line for the import report, when the file has slashed dates whose order mattered.
    pub fn note(&self) -> Option<String> {
        let how = match self.order {
            DateOrder::MonthFirst => "month/day/year",
            DateOrder::DayFirst => "day/month/year",
        };
        match &self.decided_by {
            Some(value) if self.order == DateOrder::DayFirst || self.ambiguous > 0 => {
                Some(format!("dates read as {how}, decided by '{value}'"))
            }
            Some(_) => None,
            None if self.ambiguous > 0 => Some(format!(
                "dates read as {how}: no value in the file has a day above 12, so {} dates like 03/04 could be either",
                self.ambiguous
            )),
            None => None,
        }
    }
}

/// Decides a file's day/month order from its time column, value by value: the first number
/// above 12 in first place (`25/04`) means day first, in second place (`04/25`) month first.
/// The first such value decides, so a scan can stop there; so can a scan whose first
/// [`UNSLASHED_LIMIT`] values hold no slashed date at all (ISO dates, Unix seconds).
#[derive(Default)]
pub struct DateOrderScan {
    finding: DateOrderFinding,
    slashed: bool,
    unslashed: u64,
}

/// Values without a slashed date after which a column is taken to have none.
pub const UNSLASHED_LIMIT: u64 = 1_000;

impl DateOrderScan {
    /// Looks at one value; `Break` once the order is decided.
    pub fn see(&mut self, value: &str) -> std::ops::ControlFlow<()> {
        let Some((a, b, _)) = numeric_date_parts(value.trim()) else {
            self.unslashed += 1;
            return if !self.slashed && self.unslashed >= UNSLASHED_LIMIT {
                std::ops::ControlFlow::Break(())
            } else {
                std::ops::ControlFlow::Continue(())
            };
        };
        self.slashed = true;
        let decided = if a > 12 && b <= 12 {
            Some(DateOrder::DayFirst)
        } else if b > 12 && a <= 12 {
            Some(DateOrder::MonthFirst)
        } else {
            None
        };
        match decided {
            Some(order) => {
                self.finding.order = order;
                self.finding.decided_by = Some(value.trim().to_owned());
                std::ops::ControlFlow::Break(())
            }
            None => {
                self.finding.ambiguous += u64::from(a <= 12 && b <= 12);
                std::ops::ControlFlow::Continue(())
            }
        }
    }

    pub fn finish(self) -> DateOrderFinding {
        self.finding
    }
}

impl DateOrder {
    /// Decides the order from a column's values (see [`DateOrderScan`]).
    pub fn decide<'a>(values: impl IntoIterator<Item = &'a str>) -> DateOrderFinding {
        let mut scan = DateOrderScan::default();
        for value in values {
            if scan.see(value).is_break() {
                break;
            }
        }
        scan.finish()
    }
}

/// Years for times written without one (Moodle's `1 May, 09:12`): the newest entry is in
/// `year`, and the year steps back each time the months step back over New Year. Moodle
/// lists newest first; a file listed oldest first steps forward instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YearlessYears {
    pub year: i32,
    pub newest_first: bool,
}

impl YearlessYears {
    /// Decides the listing order from the months of a column's yearless values. Newest first,
    /// months step down (May, April) and jump up at New Year (January to December); oldest
    /// first, the other way round. A step of under six months counts as a step, more as a jump.
    pub fn decide<'a>(values: impl IntoIterator<Item = &'a str>, year: i32) -> Option<Self> {
        let mut months = values.into_iter().filter_map(yearless_month);
        let mut previous = months.next()?;
        let (mut backwards, mut forwards) = (0u32, 0u32);
        for month in months {
            let step = i64::from(month) - i64::from(previous);
            match step {
                -5..=-1 | 6.. => backwards += 1,
                1..=5 | ..=-6 => forwards += 1,
                0 => {}
            }
            previous = month;
        }
        Some(Self {
            year,
            newest_first: backwards >= forwards,
        })
    }
}

/// Parses one timestamp to Unix seconds, month first; `None` when no known format fits.
pub fn parse_timestamp(raw: &str) -> Option<i64> {
    parse_with(raw, DateOrder::MonthFirst)
}

/// Parses one timestamp to Unix seconds with a file's day/month order.
pub fn parse_with(raw: &str, order: DateOrder) -> Option<i64> {
    let s = raw.trim();
    if s.is_empty() {
        return None;
    }
    if s.bytes()
        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
        && s.bytes().skip(1).all(|b| b != b'-')
        && s.bytes().filter(|&b| b == b'.').count() <= 1
    {
        return parse_number(s);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.timestamp());
    }
    if let Some(seconds) = parse_numeric_date(s, order) {
        return Some(seconds);
    }
    for format in ZONED_FORMATS {
        if let Ok(dt) = DateTime::parse_from_str(s, format) {
            return Some(dt.timestamp());
        }
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

/// Unix seconds or milliseconds. (A workbook's dates are typed cells, read as dates.)
fn parse_number(s: &str) -> Option<i64> {
    let n: f64 = s.parse().ok()?;
    if !n.is_finite() {
        return None;
    }
    let secs = if n.abs() >= MILLIS_THRESHOLD {
        n / 1000.0
    } else {
        n
    };
    Some(secs.floor() as i64)
}

/// `a/b/y` or `a-b-y` with a 2- or 4-digit year: the two leading numbers and the year.
fn numeric_date_parts(s: &str) -> Option<(u32, u32, i32)> {
    let date = s.split([' ', 'T', ',']).next()?;
    let separator = date.chars().find(|c| matches!(c, '/' | '-'))?;
    let mut parts = date.split(separator);
    let (a, b, y) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || !(1..=2).contains(&a.len())
        || !(1..=2).contains(&b.len())
        || !matches!(y.len(), 2 | 4)
    {
        return None;
    }
    let year: i32 = y.parse().ok()?;
    let year = if y.len() == 2 { 2000 + year } else { year };
    Some((a.parse().ok()?, b.parse().ok()?, year))
}

/// `M/D/YYYY[ H:MM[:SS][ AM|PM]]` and its day-first and dashed forms.
fn parse_numeric_date(s: &str, order: DateOrder) -> Option<i64> {
    let (a, b, year) = numeric_date_parts(s)?;
    let (month, day) = match order {
        DateOrder::DayFirst => (b, a),
        DateOrder::MonthFirst => (a, b),
    };
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let rest = s
        .split_once([' ', 'T', ','])
        .map_or("", |(_, rest)| rest)
        .trim_start_matches([',', ' ']);
    let time = parse_clock(rest)?;
    Some(date.and_time(time).and_utc().timestamp())
}

/// `H:MM`, `H:MM:SS`, either with ` AM`/` PM`, or nothing (midnight).
fn parse_clock(s: &str) -> Option<NaiveTime> {
    let s = s.trim();
    if s.is_empty() {
        return NaiveTime::from_hms_opt(0, 0, 0);
    }
    ["%H:%M:%S%.f", "%H:%M", "%I:%M:%S %p", "%I:%M %p"]
        .iter()
        .find_map(|f| NaiveTime::parse_from_str(s, f).ok())
}

/// The month of a yearless Moodle time (`1 May, 09:12`), if `raw` is one.
fn yearless_month(raw: &str) -> Option<u32> {
    let (date, _) = raw.trim().split_once(',')?;
    let with_year = format!("{} 2000", date.trim());
    NaiveDate::parse_from_str(&with_year, "%d %B %Y")
        .ok()
        .map(|d| d.month())
}

/// Parses a file's timestamps with what was decided for the whole file, remembering the
/// last value: exports list many lines of one order with the same time.
#[derive(Default)]
pub struct TimestampParser {
    order: DateOrder,
    yearless: Option<YearlessYears>,
    /// The year and month the last yearless value was placed in.
    yearless_at: Option<(i32, u32)>,
    last: Option<(String, Option<i64>)>,
}

impl TimestampParser {
    pub fn new(order: DateOrder, yearless: Option<YearlessYears>) -> Self {
        Self {
            order,
            yearless,
            ..Self::default()
        }
    }

    pub fn parse(&mut self, raw: &str) -> Option<i64> {
        if let Some((text, value)) = &self.last
            && text == raw
        {
            return *value;
        }
        let value = parse_with(raw, self.order).or_else(|| self.parse_yearless(raw));
        self.last = Some((raw.to_owned(), value));
        value
    }

    /// `1 May, 09:12`: placed in the year the file's order implies.
    fn parse_yearless(&mut self, raw: &str) -> Option<i64> {
        let years = self.yearless.as_ref()?;
        let (date, clock) = raw.trim().split_once(',')?;
        let month = yearless_month(raw)?;
        let year = match self.yearless_at {
            None => years.year,
            Some((year, last)) if years.newest_first && month > last => year - 1,
            Some((year, last)) if !years.newest_first && month < last => year + 1,
            Some((year, _)) => year,
        };
        let day = NaiveDate::parse_from_str(&format!("{} {year}", date.trim()), "%d %B %Y").ok()?;
        let time = parse_clock(clock)?;
        self.yearless_at = Some((year, month));
        Some(day.and_time(time).and_utc().timestamp())
    }
}

#[cfg(test)]
mod tests {
    use super::parse_timestamp as p;
    use super::*;

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

    /// Issue 14: Shopify's `Created at`, offsets with and without a colon or a space.
    #[test]
    fn zone_offsets_issue_14() {
        let t = Some(1_709_314_260); // 2024-03-01 17:31:00 UTC
        assert_eq!(p("2024-03-01 12:31:00 -0500"), t);
        assert_eq!(p("2024-03-01 12:31:00 -05:00"), t);
        assert_eq!(p("2024-03-01T12:31:00-0500"), t);
        assert_eq!(p("2024-03-02 01:31:00 +08:00"), t);
        assert_eq!(p("2024-03-02T01:31:00+08:00"), t);
        assert_eq!(p("2024/3/1 17:31"), t);
        assert_eq!(p("3/1/2024 5:31 PM"), t);
    }

    /// Issue 14: Moodle's times.
    #[test]
    fn moodle_times_issue_14() {
        assert_eq!(p("Friday, 1 March 2024, 9:12 AM"), p("2024-03-01 09:12"));
        assert_eq!(p("1 March 2024, 09:12"), p("2024-03-01 09:12"));
        assert_eq!(
            p("1 May, 09:12"),
            None,
            "no year without the file's context"
        );
    }

    #[test]
    fn day_month_order_is_decided_for_the_file_issue_14() {
        let finding = DateOrder::decide(["03/04/2024 10:00", "25/04/2024 09:00", "01/02/2024"]);
        assert_eq!(finding.order, DateOrder::DayFirst);
        assert_eq!(finding.decided_by.as_deref(), Some("25/04/2024 09:00"));
        assert_eq!(
            parse_with("03/04/2024 10:00", DateOrder::DayFirst),
            p("2024-04-03 10:00")
        );
        let us = DateOrder::decide(["03/04/2024", "04/25/2024"]);
        assert_eq!(us.order, DateOrder::MonthFirst);
        assert_eq!(
            us.note().unwrap(),
            "dates read as month/day/year, decided by '04/25/2024'"
        );
        let unsure = DateOrder::decide(["03/04/2024", "2024-05-01"]);
        assert_eq!(unsure.order, DateOrder::MonthFirst);
        assert!(unsure.note().unwrap().contains("could be either"));
        assert_eq!(DateOrder::decide(["2024-05-01"]).note(), None);
        // Two-digit years are this century; dotted dates stay unread, as before.
        assert_eq!(p("1.3.2024 12:00"), None);
        assert_eq!(
            parse_with("1/05/24, 09:12", DateOrder::DayFirst),
            p("2024-05-01 09:12")
        );
    }

    #[test]
    fn yearless_times_roll_over_new_year_issue_14() {
        let newest_first = [
            "3 Jan, 10:00",
            "1 Jan, 08:00",
            "30 Dec, 09:00",
            "2 Dec, 09:00",
        ];
        let years = YearlessYears::decide(newest_first, 2025).unwrap();
        assert!(years.newest_first);
        let mut parser = TimestampParser::new(DateOrder::MonthFirst, Some(years));
        let got: Vec<_> = newest_first.iter().map(|v| parser.parse(v)).collect();
        assert_eq!(got[0], p("2025-01-03 10:00"));
        assert_eq!(got[2], p("2024-12-30 09:00"));
        assert_eq!(got[3], p("2024-12-02 09:00"));
        let oldest_first = ["30 Dec, 09:00", "3 Jan, 10:00", "5 Jan, 10:00"];
        let years = YearlessYears::decide(oldest_first, 2024).unwrap();
        assert!(!years.newest_first);
        let mut parser = TimestampParser::new(DateOrder::MonthFirst, Some(years));
        assert_eq!(parser.parse(oldest_first[0]), p("2024-12-30 09:00"));
        assert_eq!(parser.parse(oldest_first[1]), p("2025-01-03 10:00"));
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
