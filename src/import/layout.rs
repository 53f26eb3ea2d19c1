//! The export layouts of the platforms shops and schools use, recognised from a file's header.
//!
//! A platform's export has fixed column names (Shopify's `Lineitem sku`, Taobao's `订单编号`),
//! so a header that holds a layout's signature columns is that layout, and the import reads it
//! with that platform's rules: which rows are purchases, how variants group into products,
//! which fields are written on an order's first row only. A file no layout claims is read by
//! the generic importers, exactly as before.

use std::fmt;

use serde::Serialize;

use super::ImportKind;
use super::columns::normalise;

/// A recognised platform export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    ShopifyOrders,
    ShopifyProducts,
    WooCommerceProducts,
    WooCommerceOrders,
    /// Taobao / Tmall 订单报表: one row per order (buyer, status, times).
    TaobaoOrders,
    /// Taobao / Tmall 宝贝报表: one row per order line, joined to the order report on 订单编号.
    TaobaoItems,
    PinduoduoOrders,
    /// A single-file Chinese orders export: buyer, product code, title, quantity, time, status.
    ChineseOrders,
    MoodleCourses,
    MoodleLogs,
    CanvasCourses,
    CanvasEnrollments,
}

/// Each layout's signature: normalised header names that must all be present. Alternatives
/// for one slot are separated by `|`. Checked in this order; the first match wins.
const SIGNATURES: &[(Layout, &[&str])] = &[
    (
        Layout::ShopifyOrders,
        &[
            "name",
            "email",
            "financialstatus",
            "lineitemname",
            "lineitemquantity",
        ],
    ),
    (Layout::ShopifyProducts, &["handle", "title", "body(html)"]),
    (Layout::ShopifyProducts, &["urlhandle", "title"]),
    (
        Layout::WooCommerceProducts,
        &["id", "type", "sku", "name", "parent"],
    ),
    (
        Layout::WooCommerceOrders,
        &[
            "orderid",
            "orderdate",
            "status",
            "productid|itemname|productname|sku",
        ],
    ),
    (
        Layout::ChineseOrders,
        &[
            "买家会员名",
            "宝贝标题|商品标题|标题",
            "购买数量|宝贝数量|数量",
            "订单状态",
            "订单创建时间|买家下单时间|下单时间",
            "商家编码",
        ],
    ),
    (
        Layout::TaobaoOrders,
        &[
            "订单编号",
            "买家会员名",
            "订单状态",
            "订单创建时间|买家下单时间",
        ],
    ),
    (Layout::TaobaoItems, &["订单编号", "标题", "购买数量"]),
    (
        Layout::PinduoduoOrders,
        &["订单号", "商品", "订单状态", "商品数量(件)", "商品id"],
    ),
    (Layout::MoodleCourses, &["shortname", "fullname"]),
    (
        Layout::MoodleLogs,
        &["time", "userfullname", "eventcontext", "eventname"],
    ),
    (
        Layout::CanvasCourses,
        &["courseid", "shortname|longname", "status"],
    ),
    (
        Layout::CanvasEnrollments,
        &["courseid", "userid", "role", "status"],
    ),
];

impl Layout {
    /// The layout whose signature `headers` hold, if any.
    pub fn detect(headers: &[String]) -> Option<Layout> {
        let names: Vec<String> = headers.iter().map(|h| normalise(h)).collect();
        SIGNATURES
            .iter()
            .find(|(_, signature)| {
                signature
                    .iter()
                    .all(|slot| slot.split('|').any(|name| names.iter().any(|n| n == name)))
            })
            .map(|(layout, _)| *layout)
    }

    /// What the report calls it: "a Shopify orders export".
    pub fn describe(self) -> &'static str {
        match self {
            Layout::ShopifyOrders => "a Shopify orders export",
            Layout::ShopifyProducts => "a Shopify products export",
            Layout::WooCommerceProducts => "a WooCommerce products export",
            Layout::WooCommerceOrders => "a WooCommerce orders export (one row per line item)",
            Layout::TaobaoOrders => "a Taobao/Tmall order report (订单报表)",
            Layout::TaobaoItems => "a Taobao/Tmall item report (宝贝报表)",
            Layout::PinduoduoOrders => "a Pinduoduo orders export",
            Layout::ChineseOrders => "a Chinese orders export (订单导出)",
            Layout::MoodleCourses => "a Moodle course list",
            Layout::MoodleLogs => "a Moodle logs export",
            Layout::CanvasCourses => "a Canvas SIS courses.csv",
            Layout::CanvasEnrollments => "a Canvas SIS enrollments.csv",
        }
    }

    /// The generic kind of data the layout holds.
    pub fn kind(self) -> ImportKind {
        match self {
            Layout::ShopifyProducts
            | Layout::WooCommerceProducts
            | Layout::MoodleCourses
            | Layout::CanvasCourses => ImportKind::Items,
            Layout::CanvasEnrollments => ImportKind::Interactions,
            Layout::ShopifyOrders
            | Layout::WooCommerceOrders
            | Layout::TaobaoOrders
            | Layout::TaobaoItems
            | Layout::PinduoduoOrders
            | Layout::ChineseOrders
            | Layout::MoodleLogs => ImportKind::Orders,
        }
    }

    /// The file of the same export this one needs beside it, if any: a Taobao order report
    /// and its item report are two halves of one export.
    pub fn partner(self) -> Option<Layout> {
        match self {
            Layout::TaobaoOrders => Some(Layout::TaobaoItems),
            Layout::TaobaoItems => Some(Layout::TaobaoOrders),
            _ => None,
        }
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// Finds columns by any of their normalised names.
pub struct Columns {
    names: Vec<String>,
}

impl Columns {
    pub fn new(headers: &[String]) -> Self {
        Self {
            names: headers.iter().map(|h| normalise(h)).collect(),
        }
    }

    /// The first of `names` (normalised) that is a column.
    pub fn find(&self, names: &[&str]) -> Option<usize> {
        names
            .iter()
            .find_map(|name| self.names.iter().position(|n| n == name))
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(line: &str) -> Vec<String> {
        line.split(',').map(str::to_owned).collect()
    }

    #[test]
    fn recognises_each_platform_from_its_header_issue_14() {
        let cases = [
            (
                "Name,Email,Financial Status,Paid at,Fulfillment Status,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku",
                Some(Layout::ShopifyOrders),
            ),
            (
                "Handle,Title,Body (HTML),Vendor,Variant SKU",
                Some(Layout::ShopifyProducts),
            ),
            (
                "Title,URL handle,Description,SKU",
                Some(Layout::ShopifyProducts),
            ),
            (
                "ID,Type,SKU,Name,Published,Short description,Description,Categories,Parent",
                Some(Layout::WooCommerceProducts),
            ),
            (
                "order_id,order_date,status,customer_id,product_id,item_name,quantity",
                Some(Layout::WooCommerceOrders),
            ),
            (
                "订单编号,买家会员名,买家支付宝账号,订单状态,订单创建时间,订单付款时间,宝贝标题",
                Some(Layout::TaobaoOrders),
            ),
            (
                "订单编号,标题,价格,购买数量,外部系统编号,商品属性,套餐信息,备注,订单状态,商家编码",
                Some(Layout::TaobaoItems),
            ),
            (
                "商品,订单号,订单状态,商品数量(件),支付时间,商品id",
                Some(Layout::PinduoduoOrders),
            ),
            (
                "订单编号,买家会员名,商家编码,宝贝标题,购买数量,订单创建时间,订单状态",
                Some(Layout::ChineseOrders),
            ),
            (
                "shortname,fullname,summary,category,idnumber",
                Some(Layout::MoodleCourses),
            ),
            (
                "Time,User full name,Affected user,Event context,Component,Event name,Description,Origin,IP address",
                Some(Layout::MoodleLogs),
            ),
            (
                "course_id,short_name,long_name,account_id,term_id,status",
                Some(Layout::CanvasCourses),
            ),
            (
                "course_id,root_account,user_id,role,section_id,status",
                Some(Layout::CanvasEnrollments),
            ),
            // Generic files stay generic.
            (
                "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country",
                None,
            ),
            ("item_id,title,description,category", None),
            ("customer_id,sku,date,qty", None),
        ];
        for (line, want) in cases {
            assert_eq!(Layout::detect(&headers(line)), want, "{line}");
        }
    }
}
