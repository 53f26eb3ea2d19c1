//! `strata layer`: a new layer run, built or updated (printed as a table or `--json`, with
//! what changed since the run before), the stored runs, or what changed between two.

use strata::layers::{
    LayerChanges, LayerParams, LayerRun, layer_changes, layer_project, update_project_layers,
};
use strata::store::{Store, display_name};

use super::progress::with_progress;
use super::{LayerArgs, format_ts, with_advice};

pub fn run(args: LayerArgs) -> anyhow::Result<()> {
    let mut store = Store::open(&args.project.project)?;
    if args.list {
        println!("{:>4}  {:<16}  {:>3}  {:>6}", "run", "made", "k", "items");
        for (run_id, created_at, k, items) in store.layer_runs()? {
            println!(
                "{run_id:>4}  {:<16}  {k:>3}  {items:>6}",
                format_ts(created_at)
            );
        }
        return Ok(());
    }
    if let Some(run_id) = args.delete {
        if !store.delete_layer_run(run_id)? {
            anyhow::bail!("{}: no layer run {run_id}", store.path().display());
        }
        println!("deleted layer run {run_id}");
        return Ok(());
    }
    if let Some([from, to]) = args.diff.as_deref() {
        let changes = layer_changes(&store, *from, *to).map_err(with_advice)?;
        if args.json {
            println!("{}", serde_json::to_string(&changes)?);
        } else {
            print_changes(&changes);
        }
        return Ok(());
    }
    let before = store.latest_layer_run_id()?;
    if args.update {
        let (run_id, run) =
            with_progress(|job| update_project_layers(&mut store, job)).map_err(with_advice)?;
        return report(&store, &args, &run.params, before, run_id, &run);
    }
    let params = LayerParams {
        k: args.k.fixed(),
        k_min: args.k_min,
        k_max: args.k_max,
        sub: args.sub.fixed(),
        seed: args.seed,
        k_tolerance: args.k_tolerance,
        ..LayerParams::default()
    };
    let (run_id, run) =
        with_progress(|job| layer_project(&mut store, &params, job)).map_err(with_advice)?;
    report(&store, &args, &params, before, run_id, &run)
}

fn print_changes(changes: &LayerChanges) {
    for line in changes.describe() {
        println!("{line}");
    }
}

/// Prints run `run_id` and what changed since run `before`.
fn report(
    store: &Store,
    args: &LayerArgs,
    params: &LayerParams,
    before: Option<i64>,
    run_id: i64,
    run: &LayerRun,
) -> anyhow::Result<()> {
    if args.json {
        println!("{}", serde_json::to_string(&run.summary(run_id))?);
        return Ok(());
    }
    for note in &run.notes {
        eprintln!("note: {note}");
    }
    let fmt = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.3}"));
    if !run.curve.is_empty() {
        let curve: Vec<String> = run
            .curve
            .iter()
            .map(|(k, s)| format!("{k}:{s:.3}"))
            .collect();
        println!("silhouette by k: {}", curve.join("  "));
    }
    println!(
        "{:>5}  {:>4}  {:>6}  {:>10}  name",
        "layer", "subs", "size", "silhouette"
    );
    for layer in &run.layers {
        let number = layer.id + 1;
        println!(
            "{:>5}  {:>4}  {:>6}  {:>10}  {}",
            number,
            layer.sublayers.len(),
            layer.size,
            fmt(layer.silhouette),
            display_name(&layer.name)
        );
        if layer.sublayers.len() > 1 {
            for (j, sub) in layer.sublayers.iter().enumerate() {
                println!(
                    "{:>5}  {:>4}  {:>6}  {:>10}    {}",
                    "",
                    format!("{number}.{}", j + 1),
                    sub.size,
                    fmt(sub.silhouette),
                    display_name(&sub.name)
                );
            }
        }
    }
    let q = &run.quality;
    println!(
        "k = {} ({}), silhouette {}, Davies-Bouldin {}, Calinski-Harabasz {}, stability (ARI, 3 seeds) {}",
        run.k,
        match (run.updated_from, params.k) {
            (Some(from), _) => format!("kept from layer run {from}"),
            (None, Some(_)) => "fixed".to_owned(),
            (None, None) => "chosen by silhouette".to_owned(),
        },
        fmt(q.silhouette),
        fmt(q.davies_bouldin),
        q.calinski_harabasz
            .map_or("-".to_owned(), |v| format!("{v:.1}")),
        fmt(q.stability_ari)
    );
    println!(
        "map: the two axes keep {:.1}% + {:.1}% = {:.1}% of the variance; overlap on it is not overlap in the {}-dimensional space",
        q.explained_variance[0] * 100.0,
        q.explained_variance[1] * 100.0,
        (q.explained_variance[0] + q.explained_variance[1]) * 100.0,
        run.layers.first().map_or(0, |l| l.centroid.len())
    );
    println!("stored as layer run {run_id} ({:.2} s)", run.seconds);
    if let Some(before) = before {
        println!();
        println!("changes since layer run {before}:");
        print_changes(&layer_changes(store, before, run_id)?);
    }
    Ok(())
}
