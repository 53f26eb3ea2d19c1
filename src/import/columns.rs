//! Header recognition: which column holds the item id, the title, the user…
//!
//! Names are compared after lower-casing and dropping spaces, `_`, `-` and
//! `.`, so `Item ID`, `item_id` and `ItemID` all match. The user can override
//! any role with `role=Column` (`--map title=Description`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What a column means to Strata.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    ItemId,
    Title,
    Description,
    Category,
    UserId,
    Timestamp,
    Quantity,
    Rating,
    Basket,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Role::ItemId,
        Role::Title,
        Role::Description,
        Role::Category,
        Role::UserId,
        Role::Timestamp,
        Role::Quantity,
        Role::Rating,
        Role::Basket,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Role::ItemId => "item_id",
            Role::Title => "title",
            Role::Description => "description",
            Role::Category => "category",
            Role::UserId => "user_id",
            Role::Timestamp => "timestamp",
            Role::Quantity => "quantity",
            Role::Rating => "rating",
            Role::Basket => "basket",
        }
    }

    /// A few recognised header names, for error messages.
    pub fn example_names(self) -> String {
        self.synonyms()
            .iter()
            .take(5)
            .copied()
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Header names recognised for this role, best first, already normalised.
    fn synonyms(self) -> &'static [&'static str] {
        match self {
            Role::ItemId => &[
                "itemid",
                "sku",
                "productid",
                "stockcode",
                "productcode",
                "movieid",
                "courseid",
                "lessonid",
                "asin",
                "itemcode",
                "item",
                "product",
                "id",
                "商品id",
                "商品编号",
                "商品编码",
                "产品id",
                "产品编号",
                "货号",
                "课程id",
                "课程编号",
                "物品id",
                "编号",
            ],
            Role::Title => &[
                "title",
                "name",
                "productname",
                "itemname",
                "coursename",
                "lessonname",
                "titleen",
                "商品名称",
                "产品名称",
                "课程名称",
                "名称",
                "标题",
                "商品名",
                "品名",
                // A lone Description column (the UCI orders layout) is the product name.
                "description",
            ],
            Role::Description => &[
                "description",
                "desc",
                "summary",
                "details",
                "body",
                "text",
                "descriptionen",
                "商品描述",
                "描述",
                "简介",
                "详情",
                "说明",
                "课程简介",
            ],
            Role::Category => &[
                "category",
                "categories",
                "genres",
                "genre",
                "department",
                "type",
                "categoryen",
                "类别",
                "分类",
                "类目",
                "品类",
                "商品类别",
                "课程分类",
            ],
            Role::UserId => &[
                "userid",
                "customerid",
                "memberid",
                "learnerid",
                "studentid",
                "buyerid",
                "clientid",
                "user",
                "customer",
                "member",
                "learner",
                "student",
                "用户id",
                "客户id",
                "会员id",
                "学员id",
                "买家id",
                "用户",
                "客户",
                "会员",
                "学员",
            ],
            Role::Timestamp => &[
                "timestamp",
                "time",
                "datetime",
                "date",
                "invoicedate",
                "orderdate",
                "createdat",
                "eventtime",
                "purchasedate",
                "enrolledat",
                "时间",
                "日期",
                "下单时间",
                "购买时间",
                "订单时间",
                "创建时间",
                "支付时间",
                "报名时间",
            ],
            Role::Quantity => &[
                "quantity",
                "qty",
                "units",
                "count",
                "数量",
                "购买数量",
                "件数",
            ],
            Role::Rating => &["rating", "score", "stars", "评分", "打分", "评价分数"],
            Role::Basket => &[
                "invoiceno",
                "invoice",
                "orderid",
                "ordernumber",
                "orderno",
                "order",
                "basket",
                "transactionid",
                "订单号",
                "订单id",
                "订单编号",
            ],
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = normalise(s);
        Role::ALL
            .into_iter()
            .find(|role| normalise(role.name()) == wanted)
            .ok_or_else(|| {
                let names: Vec<_> = Role::ALL.iter().map(|r| r.name()).collect();
                format!("unknown column role '{s}' (roles: {})", names.join(", "))
            })
    }
}

/// A user's `role=Column` override.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnOverride {
    pub role: Role,
    pub column: String,
}

impl FromStr for ColumnOverride {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (role, column) = s
            .split_once('=')
            .ok_or_else(|| format!("'{s}' is not role=Column (e.g. title=Description)"))?;
        Ok(Self {
            role: role.trim().parse()?,
            column: column.trim().to_owned(),
        })
    }
}

pub fn normalise(header: &str) -> String {
    header
        .trim()
        .trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-' | '.' | '\t'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Which column index each role maps to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ColumnMap {
    slots: [Option<usize>; 9],
}

impl ColumnMap {
    /// Maps `headers` to roles: overrides first, then each role's synonyms, best first,
    /// never giving one column two roles. An override naming no column is an error.
    pub fn resolve(
        headers: &[String],
        roles: &[Role],
        overrides: &[ColumnOverride],
    ) -> Result<Self, String> {
        let normalised: Vec<String> = headers.iter().map(|h| normalise(h)).collect();
        let mut map = Self::default();
        let mut taken = vec![false; headers.len()];
        for o in overrides {
            let wanted = normalise(&o.column);
            let index = headers
                .iter()
                .position(|h| h.trim() == o.column)
                .or_else(|| normalised.iter().position(|h| *h == wanted))
                .ok_or_else(|| {
                    format!(
                        "the column mapping {}={}: there is no column '{}' (columns: {})",
                        o.role,
                        o.column,
                        o.column,
                        headers.join(", ")
                    )
                })?;
            map.slots[o.role as usize] = Some(index);
            taken[index] = true;
        }
        for &role in roles {
            if map.slots[role as usize].is_some() {
                continue;
            }
            let found = role.synonyms().iter().find_map(|syn| {
                normalised
                    .iter()
                    .enumerate()
                    .find(|(i, h)| !taken[*i] && h == syn)
                    .map(|(i, _)| i)
            });
            if let Some(index) = found {
                map.slots[role as usize] = Some(index);
                taken[index] = true;
            }
        }
        Ok(map)
    }

    pub fn get(&self, role: Role) -> Option<usize> {
        self.slots[role as usize]
    }

    /// Whether `index` was given any role.
    pub fn is_mapped(&self, index: usize) -> bool {
        self.slots.contains(&Some(index))
    }

    /// `(role, column name)` pairs, for the report.
    pub fn describe(&self, headers: &[String]) -> Vec<(Role, String)> {
        Role::ALL
            .into_iter()
            .filter_map(|role| Some((role, headers.get(self.get(role)?)?.trim().to_owned())))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn recognises_english_chinese_and_uci_names() {
        let roles = [Role::ItemId, Role::Title, Role::Description, Role::Category];
        let h = headers(&["商品ID", "商品名称", "描述", "分类"]);
        let m = ColumnMap::resolve(&h, &roles, &[]).unwrap();
        assert_eq!(
            (
                m.get(Role::ItemId),
                m.get(Role::Title),
                m.get(Role::Description),
                m.get(Role::Category)
            ),
            (Some(0), Some(1), Some(2), Some(3))
        );
        // Title and Description both present: each keeps its own.
        let h = headers(&["Item ID", "Title", "Description"]);
        let m = ColumnMap::resolve(&h, &roles, &[]).unwrap();
        assert_eq!(
            (m.get(Role::Title), m.get(Role::Description)),
            (Some(1), Some(2))
        );
        // UCI layout: Description alone is the title.
        let h = headers(&["InvoiceNo", "StockCode", "Description", "Quantity"]);
        let m = ColumnMap::resolve(
            &h,
            &[Role::ItemId, Role::Title, Role::Description, Role::Basket],
            &[],
        )
        .unwrap();
        assert_eq!(
            (
                m.get(Role::ItemId),
                m.get(Role::Title),
                m.get(Role::Description),
                m.get(Role::Basket)
            ),
            (Some(1), Some(2), None, Some(0))
        );
    }

    #[test]
    fn overrides_win_and_unknown_columns_are_errors() {
        let h = headers(&["code", "label", "notes"]);
        let o: ColumnOverride = "title=label".parse().unwrap();
        let o2: ColumnOverride = "item_id = code".parse().unwrap();
        let m = ColumnMap::resolve(&h, &[Role::ItemId, Role::Title], &[o, o2]).unwrap();
        assert_eq!(
            (m.get(Role::ItemId), m.get(Role::Title)),
            (Some(0), Some(1))
        );
        let bad: ColumnOverride = "title=nope".parse().unwrap();
        assert!(
            ColumnMap::resolve(&h, &[Role::Title], &[bad])
                .unwrap_err()
                .contains("no column 'nope'")
        );
        assert!("colour=x".parse::<ColumnOverride>().is_err());
        assert!("title".parse::<ColumnOverride>().is_err());
    }
}
