//! `strata export`: item assignments, the layer list and recommendations as CSV.

use strata::export::{write_item_layers, write_layer_list, write_recommendations};
use strata::recommend::ProjectRecommender;
use strata::store::Store;

use super::progress::with_progress;
use super::{ExportArgs, ExportRecommendationsArgs, with_advice};

pub fn layers(args: ExportArgs) -> anyhow::Result<()> {
    let store = Store::open(&args.project.project)?;
    let count = write_item_layers(&store, &args.out, args.bom).map_err(with_advice)?;
    eprintln!("wrote {count} items to {}", args.out.display());
    Ok(())
}

pub fn layer_list(args: ExportArgs) -> anyhow::Result<()> {
    let store = Store::open(&args.project.project)?;
    let count = write_layer_list(&store, &args.out, args.bom).map_err(with_advice)?;
    eprintln!(
        "wrote {count} layers and sub-layers to {}",
        args.out.display()
    );
    Ok(())
}

pub fn recommendations(args: ExportRecommendationsArgs) -> anyhow::Result<()> {
    let store = Store::open(&args.export.project.project)?;
    let recommender = with_progress(|job| {
        ProjectRecommender::load(&store, args.profile.profile(), args.per_layer, job)
    })
    .map_err(with_advice)?;
    let users = recommender
        .rows_for(args.user.as_deref())
        .map_err(with_advice)?;
    let count =
        write_recommendations(&users, &args.export.out, args.export.bom).map_err(with_advice)?;
    eprintln!(
        "wrote {count} recommendations for {} user(s) to {}",
        users.len(),
        args.export.out.display()
    );
    Ok(())
}
