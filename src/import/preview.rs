//! A look at a file before importing it: its first rows and how its columns map to what
//! Strata reads, so the app can show both and let the user change the mapping.

use super::columns::{ColumnMap, ColumnOverride, Role};
use super::layout::Layout;
use super::table::Table;
use super::{ImportError, ImportKind, catalogue, guess_kind, history, orders};

/// The first rows of a file and its column mapping.
#[derive(Clone, Debug, PartialEq)]
pub struct Preview {
    /// The file shown (movies.csv for a MovieLens folder).
    pub file: String,
    pub encoding: &'static str,
    pub headers: Vec<String>,
    /// Up to the asked number of data rows, cut to the header's width.
    pub rows: Vec<Vec<String>>,
    /// Each role this kind of import reads, with the column it maps to (`None`: not found),
    /// overrides applied. Empty for MovieLens and platform exports, whose columns are fixed.
    pub mapping: Vec<(Role, Option<usize>)>,
    /// The roles an import cannot do without.
    pub required: &'static [Role],
    /// The platform export the header was recognised as; its columns are then fixed (no
    /// mapping to choose).
    pub layout: Option<Layout>,
    /// What the file will be read as (the kind the columns fit, for a file to recognise).
    pub read_as: ImportKind,
}

impl Preview {
    /// The required roles no column maps to.
    pub fn missing(&self) -> Vec<Role> {
        self.required
            .iter()
            .copied()
            .filter(|role| self.mapping.iter().any(|(r, c)| r == role && c.is_none()))
            .collect()
    }
}

impl ImportKind {
    /// The roles this kind of import reads from a file's columns.
    pub fn roles(self) -> &'static [Role] {
        match self {
            ImportKind::Items => &catalogue::ROLES,
            ImportKind::Interactions => &history::ROLES,
            ImportKind::Orders => &orders::ROLES,
            ImportKind::MovieLens => &[],
            ImportKind::Auto => &Role::ALL,
        }
    }

    /// The roles without which this kind of import fails.
    pub fn required_roles(self) -> &'static [Role] {
        match self {
            ImportKind::Items => &[Role::ItemId, Role::Title],
            ImportKind::Interactions => &[Role::UserId, Role::ItemId],
            ImportKind::Orders => &[Role::ItemId, Role::Title, Role::UserId],
            ImportKind::MovieLens | ImportKind::Auto => &[],
        }
    }
}

/// Reads the first `rows` data rows of the file `kind` would import from `path`, and maps its
/// columns as the import would with `overrides`.
pub fn preview(
    kind: ImportKind,
    path: &std::path::Path,
    overrides: &[ColumnOverride],
    rows: usize,
) -> Result<Preview, ImportError> {
    let file = match kind {
        ImportKind::MovieLens => path.join("movies.csv"),
        _ => path.to_path_buf(),
    };
    let table = Table::open(&file)?;
    let layout = Layout::detect(&table.headers).filter(|layout| {
        overrides.is_empty() && (kind == ImportKind::Auto || kind == layout.kind())
    });
    let read_as = match (layout, kind) {
        (Some(layout), _) => layout.kind(),
        (None, ImportKind::Auto) => guess_kind(&table, overrides)?,
        (None, kind) => kind,
    };
    let mapped = layout.is_none() && read_as != ImportKind::MovieLens;
    let map = if mapped {
        table.columns(read_as.roles(), overrides)?
    } else {
        ColumnMap::default()
    };
    let width = table.headers.len();
    let head = table
        .head(rows)
        .into_iter()
        .map(|mut row| {
            row.resize(width, String::new());
            row
        })
        .collect();
    Ok(Preview {
        file: table.file_name(),
        encoding: table.encoding,
        mapping: if mapped {
            read_as.roles().iter().map(|&r| (r, map.get(r))).collect()
        } else {
            Vec::new()
        },
        required: if mapped {
            read_as.required_roles()
        } else {
            &[]
        },
        layout,
        read_as,
        headers: table.headers,
        rows: head,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_shows_rows_and_the_mapping_with_overrides() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("订单.csv");
        std::fs::write(
            &path,
            "单号,货号,名称,数量,日期,买家编码\n1,A1,红茶,2,2024-01-02,c1\n2,B2,绿茶,1,2024-01-03,c2\n3,C3,花茶,1,2024-01-04\n",
        )
        .unwrap();
        let p = preview(ImportKind::Orders, &path, &[], 2).unwrap();
        assert_eq!(p.headers.len(), 6);
        assert_eq!(
            p.rows,
            vec![
                vec!["1", "A1", "红茶", "2", "2024-01-02", "c1"],
                vec!["2", "B2", "绿茶", "1", "2024-01-03", "c2"],
            ]
        );
        // Chinese headers the import knows map without help; an unknown one needs the user.
        let column = |p: &Preview, role| p.mapping.iter().find(|(r, _)| *r == role).unwrap().1;
        assert_eq!(column(&p, Role::Title), Some(2));
        assert_eq!(column(&p, Role::UserId), None);
        assert_eq!(p.missing(), vec![Role::UserId]);
        let overrides: Vec<ColumnOverride> = ["user_id=买家编码"]
            .iter()
            .map(|o| o.parse().unwrap())
            .collect();
        let p = preview(ImportKind::Orders, &path, &overrides, 10).unwrap();
        assert!(p.missing().is_empty());
        assert_eq!(p.rows.len(), 3);
        assert_eq!(p.rows[2][5], "", "a short row is padded to the header");
        assert_eq!((p.layout, p.read_as), (None, ImportKind::Orders));
        let bad: Vec<ColumnOverride> = vec!["title=nope".parse().unwrap()];
        let err = preview(ImportKind::Orders, &path, &bad, 10).unwrap_err();
        assert!(
            err.to_string().contains("there is no column 'nope'"),
            "{err}"
        );
    }

    #[test]
    fn a_platform_export_is_previewed_as_its_layout_issue_14() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("orders.csv");
        std::fs::write(
            &path,
            "Name,Email,Financial Status,Created at,Lineitem quantity,Lineitem name,Lineitem sku\n#1,a@b.c,paid,2024-03-01 12:31:00 -0500,1,Tee - M,T-M\n",
        )
        .unwrap();
        let p = preview(ImportKind::Auto, &path, &[], 5).unwrap();
        assert_eq!(p.layout, Some(Layout::ShopifyOrders));
        assert_eq!(p.read_as, ImportKind::Orders);
        assert!(p.mapping.is_empty() && p.missing().is_empty());
        // Mapping a column by hand reads it as a generic file again.
        let o: Vec<ColumnOverride> = [
            "user_id=Email",
            "item_id=Lineitem sku",
            "title=Lineitem name",
        ]
        .iter()
        .map(|o| o.parse().unwrap())
        .collect();
        let p = preview(ImportKind::Auto, &path, &o, 5).unwrap();
        assert_eq!((p.layout, p.read_as), (None, ImportKind::Orders));
        assert!(p.missing().is_empty());
    }
}
