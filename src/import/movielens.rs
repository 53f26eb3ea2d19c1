//! MovieLens folders (movies.csv + ratings.csv): titles become items, genres their
//! category, ratings the histories. Both files go in one transaction.

use std::collections::HashSet;
use std::path::Path;

use super::columns::{ColumnOverride, Role};
use super::report::ImportReport;
use super::table::Table;
use super::{ImportError, catalogue, history};
use crate::pipeline::JobContext;
use crate::store::{Histories, ImportBatch};

fn fixed(role: Role, column: &str) -> ColumnOverride {
    ColumnOverride {
        role,
        column: column.to_owned(),
    }
}

pub fn parse_movielens(
    dir: &Path,
    mut known: HashSet<String>,
    histories: Histories,
    report: &mut ImportReport,
    job: &JobContext,
) -> Result<ImportBatch, ImportError> {
    if !dir.is_dir() {
        return Err(ImportError::Format {
            path: dir.to_path_buf(),
            line: None,
            reason: "a MovieLens import takes the folder holding movies.csv and ratings.csv".into(),
        });
    }
    let movies = Table::open(&dir.join("movies.csv"))?;
    let ratings = Table::open(&dir.join("ratings.csv"))?;
    let item_columns = [
        fixed(Role::ItemId, "movieId"),
        fixed(Role::Title, "title"),
        fixed(Role::Category, "genres"),
    ];
    let mut items = catalogue::parse_items(&movies, &item_columns, report, job)?;
    for item in &mut items {
        item.category = match item.category.as_str() {
            "(no genres listed)" => String::new(),
            genres => genres.replace('|', ", "),
        };
    }
    known.extend(items.iter().map(|i| i.item_id.clone()));
    let history_columns = [
        fixed(Role::UserId, "userId"),
        fixed(Role::ItemId, "movieId"),
        fixed(Role::Rating, "rating"),
        fixed(Role::Timestamp, "timestamp"),
    ];
    let histories =
        history::parse_interactions(&ratings, &history_columns, &known, histories, report, job)?;
    Ok(ImportBatch { items, histories })
}
