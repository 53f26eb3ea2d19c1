//! The demo shop behind the app's "Open demo" (and `strata --demo`): 320 products and 2,605
//! orders of 302 customers from UCI Online Retail (CC BY 4.0; `assets/demo/SOURCE.md`), in
//! the raw orders-export format. Bundled in the binary, so the demo works wherever Strata
//! runs, and built by the same pipeline a user's own project goes through.

use std::path::Path;

use crate::embed::{EmbedSummary, EmbedderRequest, choose_embedder, embed_project, item_text};
use crate::import::{ImportKind, ImportRequest, run_import};
use crate::layers::{LayerParams, layer_project};
use crate::pipeline::{JobContext, StepError};
use crate::recommend::{ProfileParams, evaluate_project};
use crate::store::{ProjectInfo, Store};

/// The orders export, gzip-compressed.
pub const ORDERS_GZ: &[u8] = include_bytes!("../assets/demo/orders.csv.gz");

/// The name the orders are written under before they are imported.
pub const ORDERS_FILE_NAME: &str = "demo-orders.csv.gz";

/// What the demo project holds once built.
#[derive(Clone, Debug)]
pub struct DemoSummary {
    pub info: ProjectInfo,
    pub embedding: EmbedSummary,
}

/// Builds the demo project at `project` from the bundled orders: import, embed with
/// `embedder`, layers, and an evaluation with histories weighed by `profile`, so every view
/// has something to show. An earlier demo there is replaced.
pub fn build_demo(
    project: &Path,
    embedder: &EmbedderRequest,
    profile: &ProfileParams,
    job: &JobContext,
) -> Result<DemoSummary, StepError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| StepError::Io { path, source }
    };
    let dir = project.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    for suffix in ["", "-wal", "-shm"] {
        let mut path = project.as_os_str().to_owned();
        path.push(suffix);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(io(project)(e));
            }
            _ => {}
        }
    }
    let orders = dir.join(ORDERS_FILE_NAME);
    std::fs::write(&orders, ORDERS_GZ).map_err(io(&orders))?;
    let mut store = Store::open(project)?;
    let request = ImportRequest {
        kind: ImportKind::Orders,
        path: orders,
        overrides: Vec::new(),
        also: Vec::new(),
        options: Default::default(),
    };
    run_import(&mut store, &request, job)?;
    let texts: Vec<String> = store.items()?.iter().map(item_text).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let choice = choose_embedder(embedder, &refs)?;
    let embedding = embed_project(&mut store, choice.embedder.as_embedder(), 32, job)?;
    layer_project(&mut store, &LayerParams::default(), job)?;
    evaluate_project(&mut store, profile, job)?;
    Ok(DemoSummary {
        info: store.info()?,
        embedding,
    })
}
