//! `strata recommend`: one user's layers by strength and per-layer lists with reasons.

use strata::recommend::{ProjectRecommender, RecommendationRow};
use strata::store::Store;

use super::progress::with_progress;
use super::{RecommendArgs, with_advice};

pub fn run(args: RecommendArgs) -> anyhow::Result<()> {
    let mut store = Store::open(&args.project.project)?;
    let recommender = with_progress(|job| {
        ProjectRecommender::load(&store, args.profile.profile(), args.per_layer, job)
    })
    .map_err(with_advice)?;
    // A fit made now is kept, so the next run needs none.
    recommender.keep(&mut store).map_err(with_advice)?;
    let lists = recommender.for_user(&args.user).map_err(with_advice)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&lists)?);
        return Ok(());
    }
    println!(
        "user {}: {} layer(s) in the history",
        lists.user_id,
        lists.layers.len()
    );
    let item = |r: &RecommendationRow| format!("{} {}", r.item_id, r.title);
    for layer in &lists.layers {
        println!(
            "\nlayer {:>2}  {:>5.1}%  {}",
            layer.layer,
            layer.strength * 100.0,
            layer.layer_name
        );
        println!("  rank  score  item                                       because of");
        for r in &layer.recommendations {
            let reason = match (&r.reason_item_id, &r.reason_title) {
                (Some(id), Some(title)) => format!("{id} {title}"),
                _ => "(popular in this layer)".to_owned(),
            };
            println!(
                "  {:>4}  {:>5.3}  {:<42} {}",
                r.rank,
                r.score,
                item(r),
                reason
            );
        }
    }
    println!(
        "\ntop {} across layers (each of the strongest layers has a place)",
        lists.merged.len()
    );
    println!("  rank  layer  score  item");
    for r in &lists.merged {
        println!(
            "  {:>4}  {:>5}  {:>5.3}  {}",
            r.rank,
            r.layer,
            r.score,
            item(r)
        );
    }
    Ok(())
}
