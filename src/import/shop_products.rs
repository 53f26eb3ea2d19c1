//! Product exports of shop platforms: Shopify (both header generations) and WooCommerce.
//!
//! Both list a product's variants as extra rows: Shopify's share the product's handle with a
//! blank title (and image-only rows carry just a picture), WooCommerce's `variation` rows point
//! at their parent (`id:N` or the parent's SKU). A variant is kept as an attribute of its
//! product (`extra.variants`, whose SKUs let orders find the product), not as an item of its
//! own, unless the import keeps variants separate.

use std::collections::HashMap;

use super::html::{looks_like_html, to_plain_text};
use super::layout::{Columns, Layout};
use super::report::{ImportReport, SkipReason};
use super::shop_orders::unquote_excel;
use super::table::Table;
use super::{ImportError, ImportOptions};
use crate::pipeline::JobContext;
use crate::store::ItemRow;

/// A product being assembled from its rows.
struct Product {
    id: String,
    title: String,
    description_html: String,
    category: String,
    extra: serde_json::Map<String, serde_json::Value>,
    variants: Vec<serde_json::Value>,
    /// The catalogue line it was first seen on.
    line: u64,
}

impl Product {
    fn into_item(mut self) -> ItemRow {
        let description = to_plain_text(&self.description_html);
        if looks_like_html(&self.description_html) {
            self.extra
                .insert("description_html".into(), self.description_html.into());
        }
        if !self.variants.is_empty() {
            self.extra
                .insert("variants".into(), serde_json::Value::Array(self.variants));
        }
        ItemRow {
            item_id: self.id,
            title: self.title,
            description,
            category: self.category,
            extra: serde_json::Value::Object(self.extra).to_string(),
        }
    }
}

fn put(extra: &mut serde_json::Map<String, serde_json::Value>, key: &str, value: &str) {
    if !value.is_empty() {
        extra.insert(key.to_owned(), value.into());
    }
}

/// Reads a Shopify or WooCommerce products export into one item per product.
pub fn parse_shop_products(
    table: &Table,
    layout: Layout,
    options: &ImportOptions,
    report: &mut ImportReport,
    job: &JobContext,
) -> Result<Vec<ItemRow>, ImportError> {
    match layout {
        Layout::ShopifyProducts => shopify(table, options, report, job),
        Layout::WooCommerceProducts => woocommerce(table, options, report, job),
        _ => Err(table.format_err(None, format!("{layout} is not a products export"))),
    }
}

fn shopify(
    table: &Table,
    options: &ImportOptions,
    report: &mut ImportReport,
    job: &JobContext,
) -> Result<Vec<ItemRow>, ImportError> {
    let c = Columns::new(&table.headers);
    let handle = c.find(&["handle", "urlhandle"]);
    let title = c.find(&["title"]);
    let body = c.find(&["body(html)", "description"]);
    // Shopify's own taxonomy when filled, else the shop's product type.
    let categories: Vec<usize> = ["productcategory", "type", "producttype"]
        .iter()
        .filter_map(|n| c.find(&[n]))
        .collect();
    let vendor = c.find(&["vendor"]);
    let tags = c.find(&["tags"]);
    let status = c.find(&["status"]);
    let sku = c.find(&["variantsku", "sku"]);
    let option_values: Vec<usize> = ["option1value", "option2value", "option3value"]
        .iter()
        .filter_map(|n| c.find(&[n]))
        .collect();
    let image = c.find(&[
        "imagesrc",
        "productimageurl",
        "variantimage",
        "variantimageurl",
    ]);
    let Some(handle) = handle else {
        return Err(table.format_err(Some(1), "no Handle column".into()));
    };
    let used: Vec<usize> = [Some(handle), title, body, vendor, tags, status, sku]
        .into_iter()
        .flatten()
        .chain(option_values.iter().copied())
        .chain(categories.iter().copied())
        .collect();
    report.recognise(table, Layout::ShopifyProducts, &used);
    let file = table.file_name();

    let mut products: Vec<Product> = Vec::new();
    let mut by_handle: HashMap<String, usize> = HashMap::new();
    let read = table.for_each_record(job, |line, record| {
        let cell =
            |col: Option<usize>| unquote_excel(col.and_then(|c| record.get(c)).unwrap_or(""));
        let h = cell(Some(handle));
        if h.is_empty() {
            report.skip(&file, line, SkipReason::NoItemId);
            return Ok(());
        }
        let options_text: Vec<&str> = option_values
            .iter()
            .map(|&c| unquote_excel(record.get(c).unwrap_or("")))
            .filter(|v| !v.is_empty() && *v != "Default Title")
            .collect();
        let variant_sku = cell(sku);
        let at = match by_handle.get(h) {
            Some(&at) => at,
            None => {
                let t = cell(title);
                if t.is_empty() {
                    report.skip(&file, line, SkipReason::NoTitle);
                    return Ok(());
                }
                let mut extra = serde_json::Map::new();
                put(&mut extra, "vendor", cell(vendor));
                put(&mut extra, "tags", cell(tags));
                put(&mut extra, "status", cell(status));
                by_handle.insert(h.to_owned(), products.len());
                products.push(Product {
                    id: h.to_owned(),
                    title: t.to_owned(),
                    description_html: cell(body).to_owned(),
                    category: categories
                        .iter()
                        .map(|&c| cell(Some(c)))
                        .find(|c| !c.is_empty())
                        .unwrap_or("")
                        .to_owned(),
                    extra,
                    variants: Vec::new(),
                    line,
                });
                products.len() - 1
            }
        };
        let is_first_row = products[at].line == line;
        if variant_sku.is_empty() && options_text.is_empty() {
            if !is_first_row {
                // Rows with only a picture (or nothing) of a product already read.
                let reason = if cell(image).is_empty() {
                    SkipReason::NoTitle
                } else {
                    SkipReason::ImageOnlyRow
                };
                report.skip(&file, line, reason);
            }
            return Ok(());
        }
        if !is_first_row {
            report.variants_grouped += 1;
        }
        products[at].variants.push(serde_json::json!({
            "sku": variant_sku,
            "options": options_text.join(" / "),
        }));
        Ok(())
    })?;
    report.rows_read += read;
    Ok(finish(products, options.keep_variants))
}

fn woocommerce(
    table: &Table,
    options: &ImportOptions,
    report: &mut ImportReport,
    job: &JobContext,
) -> Result<Vec<ItemRow>, ImportError> {
    let c = Columns::new(&table.headers);
    let (id, kind, sku, name, short, long, categories, tags, parent) = (
        c.find(&["id"]),
        c.find(&["type"]),
        c.find(&["sku"]),
        c.find(&["name"]),
        c.find(&["shortdescription"]),
        c.find(&["description"]),
        c.find(&["categories"]),
        c.find(&["tags"]),
        c.find(&["parent"]),
    );
    let attributes: Vec<usize> = (1..=9)
        .filter_map(|n| c.find(&[format!("attribute{n}value(s)").as_str()]))
        .collect();
    let used: Vec<usize> = [id, kind, sku, name, short, long, categories, tags, parent]
        .into_iter()
        .flatten()
        .chain(attributes.iter().copied())
        .collect();
    report.recognise(table, Layout::WooCommerceProducts, &used);
    let file = table.file_name();

    struct Variation {
        line: u64,
        parent: String,
        sku: String,
        name: String,
        options: String,
    }
    let mut products: Vec<Product> = Vec::new();
    let mut variations: Vec<Variation> = Vec::new();
    let read = table.for_each_record(job, |line, record| {
        let cell =
            |col: Option<usize>| unquote_excel(col.and_then(|c| record.get(c)).unwrap_or(""));
        let (row_id, row_sku, row_name) = (cell(id), cell(sku), cell(name));
        let key = if row_id.is_empty() { row_sku } else { row_id };
        if key.is_empty() {
            report.skip(&file, line, SkipReason::NoItemId);
            return Ok(());
        }
        let options_text: Vec<&str> = attributes
            .iter()
            .map(|&c| unquote_excel(record.get(c).unwrap_or("")))
            .filter(|v| !v.is_empty())
            .collect();
        if cell(kind).eq_ignore_ascii_case("variation") {
            variations.push(Variation {
                line,
                parent: cell(parent).to_owned(),
                sku: row_sku.to_owned(),
                name: row_name.to_owned(),
                options: options_text.join(" / "),
            });
            return Ok(());
        }
        if row_name.is_empty() {
            report.skip(&file, line, SkipReason::NoTitle);
            return Ok(());
        }
        let mut description = cell(short).to_owned();
        let full = cell(long);
        if !full.is_empty() {
            if !description.is_empty() {
                description.push_str("\n\n");
            }
            description.push_str(full);
        }
        let all_categories = cell(categories);
        let mut extra = serde_json::Map::new();
        put(&mut extra, "sku", row_sku);
        put(&mut extra, "type", cell(kind));
        put(&mut extra, "categories", all_categories);
        put(&mut extra, "tags", cell(tags));
        products.push(Product {
            id: key.to_owned(),
            title: row_name.to_owned(),
            description_html: description,
            // `Clothing > Hoodies, Clothing`: the first path names the product's place.
            category: all_categories
                .split(',')
                .next()
                .unwrap_or("")
                .trim()
                .to_owned(),
            extra,
            variants: Vec::new(),
            line,
        });
        Ok(())
    })?;
    report.rows_read += read;
    // Parents are `id:N` or the parent's SKU.
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for (at, product) in products.iter().enumerate() {
        by_key.insert(format!("id:{}", product.id), at);
        if let Some(sku) = product.extra.get("sku").and_then(|s| s.as_str()) {
            by_key.entry(sku.to_owned()).or_insert(at);
        }
    }
    for variation in variations {
        let Some(&at) = by_key.get(variation.parent.as_str()) else {
            report.skip(&file, variation.line, SkipReason::UnknownParent);
            continue;
        };
        report.variants_grouped += 1;
        products[at].variants.push(serde_json::json!({
            "sku": variation.sku,
            "name": variation.name,
            "options": variation.options,
        }));
    }
    Ok(finish(products, options.keep_variants))
}

/// One item per product, or with `keep_variants` one per variant (`Title - Options`).
fn finish(products: Vec<Product>, keep_variants: bool) -> Vec<ItemRow> {
    if !keep_variants {
        return products.into_iter().map(Product::into_item).collect();
    }
    let mut items = Vec::new();
    for mut product in products {
        let variants = std::mem::take(&mut product.variants);
        let has_sku = |v: &serde_json::Value| v["sku"].as_str().is_some_and(|s| !s.is_empty());
        if variants.iter().filter(|v| has_sku(v)).count() < 2 {
            product.variants = variants;
            items.push(product.into_item());
            continue;
        }
        for variant in variants.iter().filter(|v| has_sku(v)) {
            let options = variant["options"].as_str().unwrap_or("");
            let mut item = Product {
                id: variant["sku"].as_str().unwrap_or("").to_owned(),
                title: if options.is_empty() {
                    product.title.clone()
                } else {
                    format!("{} - {options}", product.title)
                },
                description_html: product.description_html.clone(),
                category: product.category.clone(),
                extra: product.extra.clone(),
                variants: Vec::new(),
                line: product.line,
            };
            item.extra
                .insert("product".into(), product.id.clone().into());
            items.push(item.into_item());
        }
    }
    items
}
