//! Orders exports of shop platforms (Shopify, WooCommerce, Taobao/Tmall, Pinduoduo and
//! single-file Chinese exports), one row per line item.
//!
//! Each platform is described by an [`OrderSpec`]: the column names of each field, the fields
//! written on an order's first row only (carried down its other rows) or kept in a second
//! file of the same export (Taobao's order report, joined on 订单编号), which statuses are not
//! purchases, and how variants group into products. Rows that are not purchases are skipped
//! and counted by reason, checked in this order: no product, order status (cancelled,
//! refunded, voided, closed, failed, unpaid, test), quantity, service code, no customer, time.

use std::collections::{BTreeSet, HashMap, HashSet};

use csv::StringRecord;
use rustc_hash::FxHashMap;

use super::dates::TimestampParser;
use super::layout::{Columns, Layout};
use super::report::{ImportReport, SkipReason};
use super::table::Table;
use super::{ImportError, ImportOptions, fields, is_service_code};
use crate::pipeline::JobContext;
use crate::store::{Histories, ImportBatch, Interner, ItemAliases, ItemRow, NewEvent};

/// How a platform's line items name their product.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Grouping {
    /// A product-level id column (WooCommerce `product_id`, Pinduoduo `商品id`).
    ProductColumn,
    /// The line's name is `Title - Variant` (Shopify): lines whose names share a title
    /// before the last ` - ` but differ after it are variants of one product.
    TitleSuffix,
    /// The title names the product and the variant has its own column (Taobao 商品属性);
    /// the product's id is the first product code seen with that title.
    Title,
}

/// Where one platform keeps each field of an order line (normalised header names, best first).
struct OrderSpec {
    basket: &'static [&'static str],
    /// Customer columns, tried in order: the first non-empty one names the customer.
    user: &'static [&'static str],
    product: &'static [&'static str],
    sku: &'static [&'static str],
    title: &'static [&'static str],
    variant: &'static [&'static str],
    quantity: &'static [&'static str],
    time: &'static [&'static str],
    /// Columns the status rule reads.
    status: &'static [&'static str],
    grouping: Grouping,
    /// Order-level fields are filled on an order's first row only.
    carry_down: bool,
    rule: StatusRule,
}

/// Which rows' order status makes them not a purchase; reads named fields of the row (or of
/// its order).
type StatusRule = fn(&Fields<'_>) -> Option<SkipReason>;

const SHOPIFY: OrderSpec = OrderSpec {
    basket: &["name", "id"],
    user: &["email"],
    product: &[],
    sku: &["lineitemsku"],
    title: &["lineitemname"],
    variant: &[],
    quantity: &["lineitemquantity"],
    time: &["createdat", "paidat"],
    status: &["cancelledat", "financialstatus", "paymentmethod", "test"],
    grouping: Grouping::TitleSuffix,
    carry_down: true,
    rule: shopify_status,
};

const WOOCOMMERCE: OrderSpec = OrderSpec {
    basket: &["orderid", "ordernumber"],
    user: &["customerid", "customeremail", "billingemail", "email"],
    product: &["productid"],
    sku: &["variationid", "sku"],
    title: &["itemname", "productname", "name"],
    variant: &["variation", "variationattributes", "meta"],
    quantity: &["quantity", "qty", "itemquantity"],
    time: &["orderdate", "datecreated", "date"],
    status: &["status"],
    grouping: Grouping::ProductColumn,
    carry_down: true,
    rule: woocommerce_status,
};

/// Taobao's item report (宝贝报表); buyer and times come from the order report.
const TAOBAO_ITEMS: OrderSpec = OrderSpec {
    basket: &["订单编号"],
    user: &["买家会员名", "买家支付宝账号"],
    product: &["商家编码", "外部系统编号"],
    sku: &["商家编码", "外部系统编号"],
    title: &["标题", "宝贝标题"],
    variant: &["商品属性", "宝贝规格", "套餐信息"],
    quantity: &["购买数量"],
    time: &[
        "订单付款时间",
        "买家付款时间",
        "订单创建时间",
        "买家下单时间",
    ],
    status: &["订单状态", "订单关闭原因", "退款状态"],
    grouping: Grouping::Title,
    carry_down: false,
    rule: chinese_status,
};

/// A single-file Chinese orders export (one row per line item).
const CHINESE: OrderSpec = OrderSpec {
    basket: &["订单编号", "订单号", "主订单编号"],
    user: &["买家会员名", "买家昵称", "买家id"],
    product: &["商家编码", "商品编码", "商品id"],
    sku: &["sku编码", "商家编码", "商品编码"],
    title: &["宝贝标题", "商品标题", "标题", "商品名称"],
    variant: &["宝贝规格", "商品属性", "销售属性", "商品规格"],
    quantity: &["购买数量", "宝贝数量", "数量"],
    time: &[
        "订单付款时间",
        "买家付款时间",
        "付款时间",
        "订单创建时间",
        "买家下单时间",
        "下单时间",
    ],
    status: &["订单状态", "订单关闭原因", "退款状态", "售后状态"],
    grouping: Grouping::Title,
    carry_down: true,
    rule: chinese_status,
};

/// Pinduoduo hides buyers' ids: a customer is the recipient and their (masked) phone.
const PINDUODUO: OrderSpec = OrderSpec {
    basket: &["订单号"],
    user: &["买家id", "用户id", "收货人+手机", "收货人"],
    product: &["商品id"],
    sku: &["商家编码sku维度", "样式id"],
    title: &["商品"],
    variant: &["商品规格"],
    quantity: &["商品数量(件)"],
    time: &["支付时间", "拼单成功时间", "订单成交时间"],
    status: &["订单状态", "售后状态"],
    grouping: Grouping::ProductColumn,
    carry_down: false,
    rule: chinese_status,
};

fn spec(layout: Layout) -> Option<&'static OrderSpec> {
    match layout {
        Layout::ShopifyOrders => Some(&SHOPIFY),
        Layout::WooCommerceOrders => Some(&WOOCOMMERCE),
        Layout::TaobaoItems => Some(&TAOBAO_ITEMS),
        Layout::ChineseOrders => Some(&CHINESE),
        Layout::PinduoduoOrders => Some(&PINDUODUO),
        _ => None,
    }
}

fn shopify_status(f: &Fields<'_>) -> Option<SkipReason> {
    if !f.get("cancelledat").is_empty() {
        return Some(SkipReason::CancelledOrder);
    }
    let financial = f.get("financialstatus");
    if financial.eq_ignore_ascii_case("refunded") {
        return Some(SkipReason::RefundedOrder);
    }
    if financial.eq_ignore_ascii_case("voided") {
        return Some(SkipReason::VoidedOrder);
    }
    // Shopify's test orders are paid with its Bogus Gateway.
    let test = f.get("test");
    (f.get("paymentmethod")
        .as_bytes()
        .windows(5)
        .any(|w| w.eq_ignore_ascii_case(b"bogus"))
        || test.eq_ignore_ascii_case("true")
        || test.eq_ignore_ascii_case("yes"))
    .then_some(SkipReason::TestOrder)
}

fn woocommerce_status(f: &Fields<'_>) -> Option<SkipReason> {
    let status = f.get("status").to_ascii_lowercase();
    match status.trim_start_matches("wc-") {
        "cancelled" | "trash" => Some(SkipReason::CancelledOrder),
        "refunded" => Some(SkipReason::RefundedOrder),
        "failed" => Some(SkipReason::FailedOrder),
        "pending" | "checkout-draft" | "draft" => Some(SkipReason::UnpaidOrder),
        _ => None,
    }
}

/// Taobao, Tmall, Pinduoduo: 交易关闭, 已取消, 退款成功, 等待买家付款…
fn chinese_status(f: &Fields<'_>) -> Option<SkipReason> {
    let status = f.get("订单状态");
    let refunded = |s: &str| s.contains("退款成功");
    if refunded(status) || refunded(f.get("退款状态")) || refunded(f.get("售后状态")) {
        Some(SkipReason::RefundedOrder)
    } else if status.contains("取消") {
        Some(SkipReason::CancelledOrder)
    } else if status.contains("关闭") || !f.get("订单关闭原因").is_empty() {
        Some(SkipReason::ClosedOrder)
    } else if status.contains("等待买家付款")
        || status.contains("待付款")
        || status.contains("待支付")
    {
        Some(SkipReason::UnpaidOrder)
    } else {
        None
    }
}

/// A field as Chinese Excel exports write ids to keep their digits: `="2024030112345"`.
pub(super) fn unquote_excel(raw: &str) -> &str {
    let s = raw.trim();
    s.strip_prefix("=\"")
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s)
        .trim()
}

/// Order-level fields of one order (from its first row, or from the order report).
type OrderRecord = FxHashMap<&'static str, String>;

/// The named fields of one row: its own value, else its order's (carried down from the
/// order's first row, or from the order report).
pub struct Fields<'a> {
    record: &'a StringRecord,
    columns: &'a FxHashMap<&'static str, usize>,
    orders: [Option<&'a OrderRecord>; 2],
}

impl<'a> Fields<'a> {
    pub fn get(&self, name: &str) -> &'a str {
        let own = self
            .columns
            .get(name)
            .and_then(|&c| self.record.get(c))
            .map_or("", unquote_excel);
        if !own.is_empty() {
            return own;
        }
        self.orders
            .iter()
            .flatten()
            .find_map(|o| o.get(name).map(String::as_str))
            .unwrap_or("")
    }

    /// The first of `names` with a value; `a+b` joins two fields that together name one
    /// thing (Pinduoduo's recipient and phone). A customer id `0` is WooCommerce's guest.
    fn first(&self, names: &[&str]) -> Option<std::borrow::Cow<'a, str>> {
        names.iter().find_map(|name| {
            let value = match name.split_once('+') {
                Some((a, b)) => {
                    let (a, b) = (self.get(a), self.get(b));
                    if a.is_empty() || b.is_empty() {
                        return None;
                    }
                    std::borrow::Cow::Owned(format!("{a} {b}"))
                }
                None => std::borrow::Cow::Borrowed(self.get(name)),
            };
            (!value.is_empty() && value != "0").then_some(value)
        })
    }
}

/// The order report's orders by 订单编号, for Taobao's two-file export.
pub struct OrderReport {
    orders: FxHashMap<String, OrderRecord>,
}

/// Fields an order report or an order's first row holds for all its lines.
const ORDER_LEVEL: &[&str] = &[
    "买家会员名",
    "买家支付宝账号",
    "订单状态",
    "订单关闭原因",
    "订单创建时间",
    "买家下单时间",
    "订单付款时间",
    "买家付款时间",
    "email",
    "financialstatus",
    "paidat",
    "createdat",
    "cancelledat",
    "paymentmethod",
    "test",
    "customerid",
    "customeremail",
    "billingemail",
    "orderdate",
    "status",
];

impl OrderReport {
    /// Reads Taobao's order report (订单报表): one row per order.
    pub fn read(
        table: &Table,
        report: &mut ImportReport,
        job: &JobContext,
    ) -> Result<Self, ImportError> {
        let columns = Columns::new(&table.headers);
        let basket = columns
            .find(&["订单编号"])
            .ok_or_else(|| table.format_err(Some(1), "no 订单编号 column".into()))?;
        let wanted: Vec<(&'static str, usize)> = ORDER_LEVEL
            .iter()
            .filter_map(|&name| Some((name, columns.find(&[name])?)))
            .collect();
        let used: Vec<usize> = wanted.iter().map(|&(_, c)| c).chain([basket]).collect();
        report.recognise(table, Layout::TaobaoOrders, &used);
        let mut orders = FxHashMap::default();
        let read = table.for_each_record(job, |_, record| {
            let id = unquote_excel(record.get(basket).unwrap_or(""));
            if id.is_empty() {
                return Ok(());
            }
            let fields: OrderRecord = wanted
                .iter()
                .map(|&(name, c)| (name, unquote_excel(record.get(c).unwrap_or("")).to_owned()))
                .collect();
            orders.insert(id.to_owned(), fields);
            Ok(())
        })?;
        report.rows_read += read;
        Ok(Self { orders })
    }
}

/// What a line sold, as the file names it: product code, SKU, title and variant.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Offer {
    product: String,
    sku: String,
    title: String,
    variant: String,
}

/// A purchase line held back until the whole file is read (its product was not yet certain):
/// its customer, order and offer by index.
struct Line {
    user: u32,
    basket: Option<u32>,
    offer: u32,
    quantity: f64,
    ts: Option<i64>,
}

/// Reads a platform's orders export: the purchases as events, their products as items.
/// `orders` is Taobao's order report for its item report; `aliases` are the catalogue's
/// variant SKUs and titles, so a product already imported from a products export keeps its id.
#[allow(clippy::too_many_arguments)]
pub fn parse_shop_orders(
    table: &Table,
    layout: Layout,
    orders: Option<&OrderReport>,
    aliases: &ItemAliases,
    options: &ImportOptions,
    mut histories: Histories,
    report: &mut ImportReport,
    job: &JobContext,
) -> Result<ImportBatch, ImportError> {
    let spec = spec(layout).ok_or_else(|| {
        table.format_err(
            None,
            format!("{} is not an orders export", layout.describe()),
        )
    })?;
    let columns = Columns::new(&table.headers);
    let find = |names: &[&str]| columns.find(names);
    let (basket_col, product_col, sku_col, title_col, variant_col, quantity_col) = (
        find(spec.basket),
        find(spec.product),
        find(spec.sku),
        find(spec.title),
        find(spec.variant),
        find(spec.quantity),
    );
    if title_col.is_none() && product_col.is_none() && sku_col.is_none() {
        return Err(table.format_err(
            Some(1),
            format!(
                "{} without a product column ({})",
                layout.describe(),
                spec.title.join(", ")
            ),
        ));
    }
    // Order-level columns this file has (a joined order report supplies the rest).
    let order_level: Vec<(&'static str, usize)> = ORDER_LEVEL
        .iter()
        .filter_map(|&name| Some((name, columns.find(&[name])?)))
        .collect();
    // The customer, time and status columns this file has, by name.
    let named_cols: FxHashMap<&'static str, usize> = spec
        .user
        .iter()
        .chain(spec.time)
        .chain(spec.status)
        .flat_map(|name| name.split('+'))
        .filter_map(|name| Some((name, columns.find(&[name])?)))
        .collect();
    let used: Vec<usize> = [
        basket_col,
        product_col,
        sku_col,
        title_col,
        variant_col,
        quantity_col,
    ]
    .into_iter()
    .flatten()
    .chain(named_cols.values().copied())
    .collect();
    report.recognise(table, layout, &used);
    let file = table.file_name();

    // Day/month order is decided from the file's time column before any row is read.
    let finding = table.date_order(spec.time.iter().find_map(|n| columns.find(&[n])));
    report.notes.extend(finding.note());
    let mut times = TimestampParser::new(finding.order, None);

    // The order being read: its number and the fields its first row carried.
    let mut current: (String, OrderRecord) = Default::default();
    let (mut users, mut baskets, mut offers) = (
        Interner::default(),
        Interner::default(),
        Interner::default(),
    );
    let mut offer_rows: Vec<Offer> = Vec::new();
    // Each offer's product id once it is certain, and how many lines bought it.
    let mut offer_ids: Vec<Option<String>> = Vec::new();
    let mut offer_lines: Vec<u32> = Vec::new();
    let mut evidence = Evidence::default();
    let mut key = String::new();
    let mut lines: Vec<Line> = Vec::new();
    let read = table.for_each_record(job, |line, record| {
        let cell = |c: Option<usize>| unquote_excel(c.and_then(|c| record.get(c)).unwrap_or(""));
        let basket = cell(basket_col);
        if spec.carry_down {
            if current.0 != basket {
                current.0.clear();
                current.0.push_str(basket);
                current.1.clear();
            }
            for &(name, c) in &order_level {
                let value = unquote_excel(record.get(c).unwrap_or(""));
                if !value.is_empty() && current.1.get(name).is_none_or(|v| v.is_empty()) {
                    current.1.insert(name, value.to_owned());
                }
            }
        }
        let joined = orders.and_then(|o| o.orders.get(basket));
        if orders.is_some() && joined.is_none() {
            report.skip(&file, line, SkipReason::UnknownOrder);
            return Ok(());
        }
        let fields = Fields {
            record,
            columns: &named_cols,
            orders: [spec.carry_down.then_some(&current.1), joined],
        };
        let (product, sku, title) = (cell(product_col), cell(sku_col), cell(title_col));
        if product.is_empty() && sku.is_empty() && title.is_empty() {
            report.skip(&file, line, SkipReason::NoItemId);
            return Ok(());
        }
        if let Some(reason) = (spec.rule)(&fields) {
            report.skip(&file, line, reason);
            return Ok(());
        }
        let quantity = match fields::quantity(cell(quantity_col)) {
            Ok(q) => q.unwrap_or(1.0),
            Err(reason) => {
                report.skip(&file, line, reason);
                return Ok(());
            }
        };
        if is_service_code(sku) || is_service_code(product) {
            report.skip(&file, line, SkipReason::ServiceCode);
            return Ok(());
        }
        let Some(user) = fields.first(spec.user) else {
            report.skip(&file, line, SkipReason::GuestOrder);
            return Ok(());
        };
        let raw_time = fields.first(spec.time);
        let ts = match fields::time(&mut times, raw_time.as_deref().unwrap_or("")) {
            Ok(ts) => ts,
            Err(reason) => {
                report.skip(&file, line, reason);
                return Ok(());
            }
        };
        let variant = cell(variant_col);
        key.clear();
        for part in [product, sku, title, variant] {
            key.push_str(part);
            key.push('\u{1f}');
        }
        let (offer, new) = offers.intern(&key);
        if new {
            let row = Offer {
                product: product.to_owned(),
                sku: sku.to_owned(),
                title: title.to_owned(),
                variant: variant.to_owned(),
            };
            evidence.observe(&row);
            offer_rows.push(row);
            offer_ids.push(None);
            offer_lines.push(0);
        }
        let at = offer as usize;
        offer_lines[at] += 1;
        // A line whose product is already certain goes to the writer now; the others wait
        // for the whole file.
        if offer_ids[at].is_none() {
            offer_ids[at] = evidence
                .certain(
                    &offer_rows[at],
                    spec.grouping,
                    aliases,
                    options.keep_variants,
                )
                .map(|choice| choice.id);
        }
        match &offer_ids[at] {
            Some(item_id) => {
                report.merged_duplicates += u64::from(histories.add(NewEvent {
                    user_id: &user[..],
                    item_id,
                    ts,
                    quantity: Some(quantity),
                    rating: None,
                    basket_id: (!basket.is_empty()).then_some(basket),
                }));
            }
            None => lines.push(Line {
                user: users.intern(&user).0,
                basket: (!basket.is_empty()).then(|| baskets.intern(basket).0),
                offer,
                quantity,
                ts,
            }),
        }
        Ok(())
    })?;
    report.rows_read += read;

    let products = group_products(
        &offer_rows,
        &evidence,
        spec.grouping,
        aliases,
        options.keep_variants,
    );
    for line in &lines {
        let event = NewEvent {
            user_id: users.get(line.user),
            item_id: &products.items[products.of_offer[line.offer as usize]].item_id,
            ts: line.ts,
            quantity: Some(line.quantity),
            rating: None,
            basket_id: line.basket.map(|b| &**baskets.get(b)),
        };
        report.merged_duplicates += u64::from(histories.add(event));
    }
    for (offer, &count) in offer_lines.iter().enumerate() {
        debug_assert!(
            offer_ids[offer]
                .as_ref()
                .is_none_or(|id| *id == products.items[products.of_offer[offer]].item_id),
            "a streamed line's product changed"
        );
        if products.grouped[offer] {
            report.variants_grouped += u64::from(count);
        }
    }
    // Products already in the catalogue (from a products export) keep their richer rows.
    let items = products
        .items
        .into_iter()
        .filter(|item| !products.known.contains(&item.item_id))
        .collect();
    Ok(ImportBatch { items, histories })
}

/// The products the offers are of, and which product each offer is.
struct Products {
    items: Vec<ItemRow>,
    of_offer: Vec<usize>,
    /// Offers whose variant was folded into their product.
    grouped: Vec<bool>,
    /// Ids that were already in the catalogue.
    known: HashSet<String>,
}

/// What the lines read so far say about grouping offers into products (see [`Grouping`]).
#[derive(Default)]
struct Evidence {
    /// Shopify: each title before a ` - ` suffix, with the first suffix seen and whether
    /// another followed (then the suffixes are variants of that title).
    suffixes: HashMap<String, (String, bool)>,
    /// Taobao: the first product code seen with each title.
    first_code_of_title: HashMap<String, String>,
}

/// The product an offer belongs to: its id, title and the variant folded into it.
struct Choice<'a> {
    id: String,
    title: &'a str,
    variant: &'a str,
}

impl Evidence {
    fn observe(&mut self, offer: &Offer) {
        if let Some((base, variant)) = offer.title.rsplit_once(" - ") {
            match self.suffixes.get_mut(base) {
                Some((first, many)) => *many |= first != variant,
                None => {
                    self.suffixes
                        .insert(base.to_owned(), (variant.to_owned(), false));
                }
            }
        }
        let code = if offer.product.is_empty() {
            &offer.sku
        } else {
            &offer.product
        };
        if !code.is_empty() && !self.first_code_of_title.contains_key(&offer.title) {
            self.first_code_of_title
                .insert(offer.title.clone(), code.clone());
        }
    }

    /// The product `offer` is grouped into, once lines still to come cannot change it (a
    /// Shopify title seen with one suffix so far, or a Taobao title seen with no code yet,
    /// wait for the whole file).
    fn certain<'a>(
        &self,
        offer: &'a Offer,
        grouping: Grouping,
        aliases: &ItemAliases,
        keep_variants: bool,
    ) -> Option<Choice<'a>> {
        let waits = !keep_variants
            && match grouping {
                Grouping::TitleSuffix => offer
                    .title
                    .rsplit_once(" - ")
                    .is_some_and(|(base, _)| !self.has_variants(base)),
                Grouping::Title => {
                    aliases.known(offer).is_none()
                        && !self.first_code_of_title.contains_key(&offer.title)
                }
                Grouping::ProductColumn => false,
            };
        (!waits).then(|| self.product(offer, grouping, aliases, keep_variants))
    }

    /// Whether `base` was seen with two different ` - ` suffixes.
    fn has_variants(&self, base: &str) -> bool {
        self.suffixes.get(base).is_some_and(|(_, many)| *many)
    }

    /// The product `offer` is grouped into by what was seen so far (all of it, at the end).
    fn product<'a>(
        &self,
        offer: &'a Offer,
        grouping: Grouping,
        aliases: &ItemAliases,
        keep_variants: bool,
    ) -> Choice<'a> {
        let (title, variant) = match (grouping, offer.title.rsplit_once(" - ")) {
            (Grouping::TitleSuffix, Some((base, v))) if self.has_variants(base) => (base, v),
            _ => (offer.title.as_str(), offer.variant.as_str()),
        };
        let id = if keep_variants {
            [&offer.sku, &offer.product]
                .into_iter()
                .find(|c| !c.is_empty())
                .cloned()
                .unwrap_or_else(|| slug(&offer.title))
        } else if let Some(known) = aliases.known(offer) {
            known.clone()
        } else {
            match grouping {
                Grouping::ProductColumn if !offer.product.is_empty() => offer.product.clone(),
                Grouping::Title => self
                    .first_code_of_title
                    .get(&offer.title)
                    .map_or_else(|| offer.title.clone(), Clone::clone),
                _ => aliases
                    .titles
                    .get(title)
                    .cloned()
                    .unwrap_or_else(|| slug(title)),
            }
        };
        Choice { id, title, variant }
    }
}

impl ItemAliases {
    /// The catalogue item an offer's SKU or product code names.
    fn known(&self, offer: &Offer) -> Option<&String> {
        self.skus
            .get(&offer.sku)
            .or_else(|| self.skus.get(&offer.product))
    }
}

/// Groups offers into products by `evidence` from the whole file; with `keep_variants` each
/// SKU is its own item.
fn group_products(
    offers: &[Offer],
    evidence: &Evidence,
    grouping: Grouping,
    aliases: &ItemAliases,
    keep_variants: bool,
) -> Products {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut products = Products {
        items: Vec::new(),
        of_offer: Vec::with_capacity(offers.len()),
        grouped: Vec::with_capacity(offers.len()),
        known: HashSet::new(),
    };
    let mut variants: Vec<BTreeSet<String>> = Vec::new();
    for offer in offers {
        let Choice { id, title, variant } =
            evidence.product(offer, grouping, aliases, keep_variants);
        let title = if !keep_variants {
            title.to_owned()
        } else if variant.is_empty() || offer.title.contains(variant) {
            offer.title.clone()
        } else {
            format!("{} ({variant})", offer.title)
        };
        let title = if title.is_empty() { id.clone() } else { title };
        let at = *index.entry(id.clone()).or_insert_with(|| {
            products.items.push(ItemRow {
                item_id: id,
                title,
                description: String::new(),
                category: String::new(),
                extra: String::new(),
            });
            variants.push(BTreeSet::new());
            products.items.len() - 1
        });
        let grouped = !keep_variants && !variant.is_empty();
        if grouped {
            variants[at].insert(variant.to_owned());
        }
        products.grouped.push(grouped);
        products.of_offer.push(at);
    }
    let catalogue: HashSet<&String> = aliases
        .skus
        .values()
        .chain(aliases.titles.values())
        .collect();
    for (item, variants) in products.items.iter_mut().zip(variants) {
        if catalogue.contains(&item.item_id) {
            products.known.insert(item.item_id.clone());
        }
        let variants: Vec<serde_json::Value> = variants
            .into_iter()
            .map(|v| serde_json::json!({ "options": v }))
            .collect();
        item.extra = if variants.is_empty() {
            "{}".to_owned()
        } else {
            serde_json::json!({ "variants": variants }).to_string()
        };
    }
    products
}

/// A Shopify-style handle: lower case, words joined by `-` (`Classic Tee` → `classic-tee`).
/// Letters of every script are kept, so Chinese titles keep their characters.
pub fn slug(title: &str) -> String {
    let mut out = String::with_capacity(title.len());
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_shopify_handles() {
        assert_eq!(slug("Classic Tee"), "classic-tee");
        assert_eq!(slug("  Mug (12 oz) — Blue!"), "mug-12-oz-blue");
        assert_eq!(slug("手冲 咖啡壶"), "手冲-咖啡壶");
    }

    fn offer(product: &str, sku: &str, title: &str) -> Offer {
        Offer {
            product: product.into(),
            sku: sku.into(),
            title: title.into(),
            variant: String::new(),
        }
    }

    /// Issue 14: a line is written as soon as its product is certain, and what is certain
    /// early is what the whole file decides.
    #[test]
    fn products_are_certain_once_no_later_line_can_change_them() {
        let aliases = ItemAliases::default();
        let mut evidence = Evidence::default();
        let id = |e: &Evidence, o: &Offer, g| e.certain(o, g, &aliases, false).map(|c| c.id);
        let (small, medium, mug) = (
            offer("", "T-S", "Tee - S"),
            offer("", "T-M", "Tee - M"),
            offer("", "MUG", "Mug - Large"),
        );
        evidence.observe(&small);
        assert_eq!(id(&evidence, &small, Grouping::TitleSuffix), None);
        evidence.observe(&medium);
        evidence.observe(&mug);
        assert_eq!(
            id(&evidence, &small, Grouping::TitleSuffix).as_deref(),
            Some("tee")
        );
        assert_eq!(
            id(&evidence, &medium, Grouping::TitleSuffix).as_deref(),
            Some("tee")
        );
        // One suffix only, to the end: the whole title is the product.
        assert_eq!(id(&evidence, &mug, Grouping::TitleSuffix), None);
        let end = evidence.product(&mug, Grouping::TitleSuffix, &aliases, false);
        assert_eq!((end.id.as_str(), end.title), ("mug-large", "Mug - Large"));
        // Without a ` - ` a title is certain at once; so is every line with keep_variants.
        let plain = offer("", "", "Tea caddy");
        evidence.observe(&plain);
        assert_eq!(
            id(&evidence, &plain, Grouping::TitleSuffix).as_deref(),
            Some("tea-caddy")
        );
        assert_eq!(
            evidence
                .certain(&small, Grouping::TitleSuffix, &aliases, true)
                .map(|c| c.id)
                .as_deref(),
            Some("T-S")
        );

        // Taobao: a title waits for its first product code.
        let mut evidence = Evidence::default();
        let uncoded = offer("", "", "手冲壶");
        evidence.observe(&uncoded);
        assert_eq!(id(&evidence, &uncoded, Grouping::Title), None);
        let coded = offer("P9", "", "手冲壶");
        evidence.observe(&coded);
        assert_eq!(
            id(&evidence, &uncoded, Grouping::Title).as_deref(),
            Some("P9")
        );
        assert_eq!(
            id(&evidence, &coded, Grouping::Title).as_deref(),
            Some("P9")
        );
    }

    #[test]
    fn excel_quoted_ids() {
        assert_eq!(unquote_excel("=\"2024030112345\""), "2024030112345");
        assert_eq!(unquote_excel(" 123 "), "123");
        assert_eq!(unquote_excel("=SUM(A1)"), "=SUM(A1)");
    }

    #[test]
    fn chinese_statuses() {
        let columns: FxHashMap<&'static str, usize> = [("订单状态", 0)].into_iter().collect();
        let status = |s: &str| {
            let record = StringRecord::from(vec![s]);
            chinese_status(&Fields {
                record: &record,
                columns: &columns,
                orders: [None, None],
            })
        };
        assert_eq!(status("交易关闭"), Some(SkipReason::ClosedOrder));
        assert_eq!(status("已取消"), Some(SkipReason::CancelledOrder));
        assert_eq!(status("退款成功"), Some(SkipReason::RefundedOrder));
        assert_eq!(status("等待买家付款"), Some(SkipReason::UnpaidOrder));
        assert_eq!(status("交易成功"), None);
        assert_eq!(status("卖家已发货，等待买家确认"), None);
    }
}
