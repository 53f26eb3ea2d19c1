//! The demo shop behind the app's "Open demo": 320 products and 2,605 orders of 302
//! customers from UCI Online Retail (CC BY 4.0; `assets/demo/SOURCE.md`), in the raw
//! orders-export format. Bundled in the binary, so the demo works wherever Strata runs.

/// The orders export, gzip-compressed.
pub const ORDERS_GZ: &[u8] = include_bytes!("../assets/demo/orders.csv.gz");

/// The name the orders are written under before they are imported.
pub const ORDERS_FILE_NAME: &str = "demo-orders.csv.gz";
