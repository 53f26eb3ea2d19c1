//! `strata evaluate`: Strata against its baselines on the project's own histories.

use strata::recommend::{CUTOFF, Method, evaluate_project};
use strata::store::Store;

use super::progress::with_progress;
use super::{EvaluateArgs, with_advice};

pub fn run(args: EvaluateArgs) -> anyhow::Result<()> {
    let mut store = Store::open(&args.project.project)?;
    let profile = args.profile.profile();
    let evaluation =
        with_progress(|job| evaluate_project(&mut store, &profile, job)).map_err(with_advice)?;
    if args.json {
        println!("{}", serde_json::to_string(&evaluation)?);
        return Ok(());
    }
    println!(
        "{} users (a training item and a new item at their last timestamp), cutoff {CUTOFF}",
        evaluation.users
    );
    println!("method      HR@10  NDCG@10  Recall@10  coverage  diversity");
    for (method, m) in &evaluation.methods {
        println!(
            "{:<10} {:>6.4}  {:>7.4}  {:>9.4}  {:>8.4}  {:>9.4}",
            method.name(),
            m.hit_rate,
            m.ndcg,
            m.recall,
            m.coverage,
            m.diversity
        );
    }
    let tuned = &evaluation.tuned;
    let ease = if evaluation.methods.contains_key(&Method::Ease) {
        format!(
            "EASE lambda {} (NDCG@10 {:.4})",
            tuned.ease_lambda, tuned.ease_validation_ndcg
        )
    } else {
        "EASE not run (see the note)".to_owned()
    };
    println!(
        "tuned on two validation folds ({} + {} users): blend content {} collaborative {} popularity {}, free share {}, popularity half-life {} days (NDCG@10 {:.4}); {ease}; item models: global {} + layers' local {} + iALS scores {}; RP3beta alpha {} beta {}; iALS {} factors, regularisation {}, unobserved weight {:.2e}",
        evaluation.tuning_users[0],
        evaluation.tuning_users[1],
        tuned.blend.content,
        tuned.blend.collaborative,
        tuned.blend.popularity,
        tuned.free_share,
        tuned.trend_half_life_days,
        tuned.strata_validation_ndcg,
        tuned.mix.global,
        tuned.mix.local,
        tuned.mix.factors,
        tuned.rp3_alpha,
        tuned.rp3_beta,
        tuned.ials_factors,
        tuned.ials_regularization,
        tuned.ials_unobserved
    );
    for note in &evaluation.notes {
        println!("note: {note}");
    }
    let versus = &evaluation.versus_best_baseline;
    println!(
        "strata minus {} (the best baseline): NDCG@10 {:+.4} ± {:.4} (standard error, paired over users)",
        versus.baseline, versus.ndcg_difference, versus.standard_error
    );
    println!(
        "{:.1}% of users with 2+ layers get lists from 2+ layers; {:.1} s",
        evaluation.multi_layer_share * 100.0,
        evaluation.seconds
    );
    Ok(())
}
