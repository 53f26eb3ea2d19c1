//! `strata info`: a project's counts, time span and embedder.

use strata::store::Store;

use super::{InfoArgs, format_ts};

pub fn run(args: InfoArgs) -> anyhow::Result<()> {
    let store = Store::open(&args.project.project)?;
    let info = store.info()?;
    if args.json {
        println!("{}", serde_json::to_string(&info)?);
        return Ok(());
    }
    println!("project:      {}", store.path().display());
    println!("items:        {}", info.items);
    println!("users:        {}", info.users);
    println!("interactions: {}", info.interactions);
    match (info.first_ts, info.last_ts) {
        (Some(first), Some(last)) => println!(
            "time span:    {} … {} ({} days)",
            format_ts(first),
            format_ts(last),
            (last - first) / 86_400
        ),
        _ => println!("time span:    no timed interactions"),
    }
    match &info.embedding {
        Some(e) if e.fallback => println!(
            "embeddings:   {} ({}, {} dims) [fallback, not a neural model]",
            e.name, e.model_id, e.dim
        ),
        Some(e) => println!("embeddings:   {} ({}, {} dims)", e.name, e.model_id, e.dim),
        None => println!("embeddings:   none yet (strata embed)"),
    }
    Ok(())
}
