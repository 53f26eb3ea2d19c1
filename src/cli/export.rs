//! `strata export`: item assignments, the layer list and recommendations as CSV.

use strata::export::{write_item_layers, write_layer_list, write_recommendations};
use strata::recommend::{FitOrigin, ProjectRecommender};
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
    let mut store = Store::open(&args.export.project.project)?;
    let recommender = with_progress(|job| {
        let (profile, per_layer) = (args.profile.profile(), args.per_layer);
        if args.changed {
            ProjectRecommender::load_updated(&store, profile, per_layer, job)
        } else {
            ProjectRecommender::load(&store, profile, per_layer, job)
        }
    })
    .map_err(with_advice)?;
    // A fit made now is kept, so the next run (or `--changed` after an import) needs none.
    recommender.keep(&mut store).map_err(with_advice)?;
    let users = if args.changed {
        note_fit(&recommender);
        recommender.for_users(&recommender.changed_users)
    } else {
        recommender
            .rows_for(args.user.as_deref())
            .map_err(with_advice)?
    };
    let count =
        write_recommendations(&users, &args.export.out, args.export.bom).map_err(with_advice)?;
    eprintln!(
        "wrote {count} recommendations for {} user(s) to {}",
        users.len(),
        args.export.out.display()
    );
    Ok(())
}

/// Says where `--changed`'s lists came from.
fn note_fit(recommender: &ProjectRecommender) {
    let changed = recommender.changed_users.len();
    match recommender.origin {
        FitOrigin::Extended { new_items } => eprintln!(
            "{changed} user(s) with new history since the last full fit; the kept fit was \
             extended to {new_items} new item(s), which get collaborative evidence at the next \
             full fit (`strata export recommendations` without --changed)"
        ),
        FitOrigin::Kept => eprintln!("{changed} user(s) with new history since the last full fit"),
        FitOrigin::Fitted => eprintln!(
            "{changed} user(s) with new history since the last full fit (fitted in full now: \
             no kept fit, or the import changed too much to extend it)"
        ),
    }
}
