//! Course platforms' exports: Moodle's course list and logs, Canvas's SIS courses.csv and
//! enrollments.csv.
//!
//! A Moodle log names a course by its full name (`Course: Introduction to Python`), so a
//! course list imported before it (or in the same import) gives the course its short name
//! as id; without one, the full name is the id. Its times have no year (`1 May, 09:12`): the
//! year is the user's, else the file's own date, and steps back over each New Year.

use chrono::Datelike;

use super::dates::{TimestampParser, YearlessYears};
use super::html::{looks_like_html, to_plain_text};
use super::layout::{Columns, Layout};
use super::report::{ImportReport, SkipReason};
use super::table::Table;
use super::{ImportError, ImportOptions, fields};
use crate::pipeline::JobContext;
use crate::store::{Histories, ImportBatch, ItemAliases, ItemRow, NewEvent};

/// Reads a Moodle course list or a Canvas courses.csv.
pub fn parse_course_list(
    table: &Table,
    layout: Layout,
    report: &mut ImportReport,
    job: &JobContext,
) -> Result<Vec<ItemRow>, ImportError> {
    let c = Columns::new(&table.headers);
    let (id, title, fallback_title, summary, category, status) = match layout {
        Layout::MoodleCourses => (
            c.find(&["shortname"]),
            c.find(&["fullname"]),
            None,
            c.find(&["summary"]),
            c.find(&["category", "categorypath", "categoryname"]),
            None,
        ),
        Layout::CanvasCourses => (
            c.find(&["courseid"]),
            c.find(&["longname"]),
            c.find(&["shortname"]),
            None,
            c.find(&["termid", "accountid"]),
            c.find(&["status"]),
        ),
        _ => return Err(table.format_err(None, format!("{layout} is not a course list"))),
    };
    let Some(id) = id else {
        return Err(table.format_err(Some(1), "no course id column".into()));
    };
    let mapped: Vec<usize> = [Some(id), title, fallback_title, summary, category, status]
        .into_iter()
        .flatten()
        .collect();
    report.recognise(table, layout, &mapped);
    let kept: Vec<usize> = (0..c.len()).filter(|i| !mapped.contains(i)).collect();
    let file = table.file_name();
    let mut items = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let read = table.for_each_record(job, |line, record| {
        let cell = |col: Option<usize>| col.and_then(|c| record.get(c)).unwrap_or("").trim();
        let course = cell(Some(id));
        if course.is_empty() {
            report.skip(&file, line, SkipReason::NoItemId);
            return Ok(());
        }
        if cell(status).eq_ignore_ascii_case("deleted") {
            report.skip(&file, line, SkipReason::DeletedRecord);
            return Ok(());
        }
        let name = [cell(title), cell(fallback_title)]
            .into_iter()
            .find(|t| !t.is_empty());
        let Some(name) = name else {
            report.skip(&file, line, SkipReason::NoTitle);
            return Ok(());
        };
        if !seen.insert(course.to_owned()) {
            report.merged_duplicates += 1;
            return Ok(());
        }
        let html = cell(summary);
        let mut extra = serde_json::Map::new();
        for &k in &kept {
            let value = record.get(k).unwrap_or("").trim();
            if !value.is_empty() {
                extra.insert(table.headers[k].clone(), value.into());
            }
        }
        if looks_like_html(html) {
            extra.insert("description_html".into(), html.into());
        }
        items.push(ItemRow {
            item_id: course.to_owned(),
            title: name.to_owned(),
            description: to_plain_text(html),
            category: cell(category).to_owned(),
            extra: serde_json::Value::Object(extra).to_string(),
        });
        Ok(())
    })?;
    report.rows_read += read;
    Ok(items)
}

/// Reads a Moodle logs export: each event in a course is an interaction of its user with
/// that course; events outside courses (the site, the front page) are skipped and counted.
pub fn parse_moodle_logs(
    table: &Table,
    aliases: &ItemAliases,
    options: &ImportOptions,
    mut histories: Histories,
    report: &mut ImportReport,
    job: &JobContext,
) -> Result<ImportBatch, ImportError> {
    let c = Columns::new(&table.headers);
    let (time, user, context) = (
        c.find(&["time"]),
        c.find(&["userfullname"]),
        c.find(&["eventcontext"]),
    );
    let (Some(user), Some(context)) = (user, context) else {
        return Err(table.format_err(Some(1), "no User full name or Event context column".into()));
    };
    report.recognise(
        table,
        Layout::MoodleLogs,
        &[Some(user), Some(context), time]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>(),
    );
    let file = table.file_name();

    // Yearless times take the user's year, else the file's own (its modification date).
    let year = options.year.unwrap_or_else(|| file_year(&table.path));
    let order = table.date_order(time);
    report.notes.extend(order.note());
    let mut values = Vec::new();
    if let Some(t) = time {
        table.scan_column(t, |v| {
            values.push(v.to_owned());
            std::ops::ControlFlow::Continue(())
        });
    }
    let yearless = YearlessYears::decide(values.iter().map(String::as_str), year);
    if let Some(y) = &yearless {
        report.notes.push(format!(
            "times without a year placed in {} and the years before it ({}); set the year with --year",
            y.year,
            if y.newest_first { "newest first" } else { "oldest first" }
        ));
    }
    let mut times = TimestampParser::new(order.order, yearless);

    let mut courses: Vec<ItemRow> = Vec::new();
    let mut course_ids: std::collections::HashMap<String, usize> = Default::default();
    let mut events: Vec<(String, usize, Option<i64>)> = Vec::new();
    let read = table.for_each_record(job, |line, record| {
        let cell = |col: Option<usize>| col.and_then(|c| record.get(c)).unwrap_or("").trim();
        let who = cell(Some(user));
        if who.is_empty() || who == "-" {
            report.skip(&file, line, SkipReason::NoUserId);
            return Ok(());
        }
        let Some(course) = cell(Some(context)).strip_prefix("Course:").map(str::trim) else {
            report.skip(&file, line, SkipReason::NotCourseEvent);
            return Ok(());
        };
        let ts = match fields::time(&mut times, cell(time)) {
            Ok(ts) => ts,
            Err(reason) => {
                report.skip(&file, line, reason);
                return Ok(());
            }
        };
        let at = *course_ids.entry(course.to_owned()).or_insert_with(|| {
            let id = aliases
                .titles
                .get(course)
                .cloned()
                .unwrap_or_else(|| course.to_owned());
            courses.push(ItemRow {
                item_id: id,
                title: course.to_owned(),
                description: String::new(),
                category: String::new(),
                extra: "{}".into(),
            });
            courses.len() - 1
        });
        events.push((who.to_owned(), at, ts));
        Ok(())
    })?;
    report.rows_read += read;
    for (who, at, ts) in &events {
        let event = NewEvent {
            user_id: who,
            item_id: &courses[*at].item_id,
            ts: *ts,
            quantity: Some(1.0),
            rating: None,
            basket_id: None,
        };
        report.merged_duplicates += u64::from(histories.add(event));
    }
    // Courses the catalogue already has keep their rows.
    let known: std::collections::HashSet<&String> = aliases.titles.values().collect();
    let items = courses
        .into_iter()
        .filter(|c| !known.contains(&c.item_id))
        .collect();
    Ok(ImportBatch { items, histories })
}

/// Reads a Canvas SIS enrollments.csv: active and completed enrolments are interactions;
/// deleted and inactive ones are skipped and counted.
pub fn parse_canvas_enrollments(
    table: &Table,
    known_items: &std::collections::HashSet<String>,
    mut histories: Histories,
    report: &mut ImportReport,
    job: &JobContext,
) -> Result<Histories, ImportError> {
    let c = Columns::new(&table.headers);
    let (course, user, status, role) = (
        c.find(&["courseid"]),
        c.find(&["userid"]),
        c.find(&["status"]),
        c.find(&["role"]),
    );
    let (Some(course), Some(user)) = (course, user) else {
        return Err(table.format_err(Some(1), "no course_id or user_id column".into()));
    };
    report.recognise(
        table,
        Layout::CanvasEnrollments,
        &[Some(course), Some(user), status, role]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>(),
    );
    let file = table.file_name();
    let read = table.for_each_record(job, |line, record| {
        let cell = |col: Option<usize>| col.and_then(|c| record.get(c)).unwrap_or("").trim();
        let (who, what) = (cell(Some(user)), cell(Some(course)));
        let reason = if who.is_empty() {
            Some(SkipReason::NoUserId)
        } else if what.is_empty() {
            Some(SkipReason::NoItemId)
        } else if matches!(
            cell(status).to_lowercase().as_str(),
            "deleted" | "inactive" | "deleted_last_completed"
        ) {
            Some(SkipReason::InactiveEnrolment)
        } else if !known_items.contains(what) {
            Some(SkipReason::UnknownItem)
        } else {
            None
        };
        match reason {
            Some(reason) => report.skip(&file, line, reason),
            None => {
                let event = NewEvent {
                    user_id: who,
                    item_id: what,
                    ts: None,
                    quantity: None,
                    rating: None,
                    basket_id: None,
                };
                report.merged_duplicates += u64::from(histories.add(event));
            }
        }
        Ok(())
    })?;
    report.rows_read += read;
    Ok(histories)
}

/// The year of a file's modification date (its export date), else this year.
fn file_year(path: &std::path::Path) -> i32 {
    let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let when: chrono::DateTime<chrono::Utc> = modified.map_or_else(chrono::Utc::now, Into::into);
    when.year()
}
