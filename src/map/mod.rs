//! The layer map's heavy lifting, apart from any UI: where each item sits on screen, a raster
//! of every point, and which point the pointer is over.
//!
//! A scatter of a million points cannot be a million shapes per frame (egui_plot takes 139 ms a
//! frame at 1M). Instead the points are rasterised into one RGBA image only when the view, the
//! visible layers or the highlights change, and the app shows that image as a texture. Hover
//! asks a grid index for the nearest point within a few pixels instead of scanning every point.

mod data;
mod grid;
mod palette;
mod raster;
mod view;

pub use data::{LegendLayer, LegendSublayer, MapData};
pub use grid::GridIndex;
pub use palette::{layer_colour, sublayer_colour};
pub use raster::{Highlight, MapPoints, Raster, rasterize};
pub use view::MapView;
