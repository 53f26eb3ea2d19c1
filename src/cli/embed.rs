//! `strata embed` (every item of a project, through the cache) and `strata embed-texts`.

use anyhow::Context as _;
use strata::embed::{
    BertSentenceEmbedder, EmbedWarning, MULTILINGUAL_MODEL, choose_embedder, embed_all,
    embed_project, embed_workers, item_text, resolve::resolve,
};
use strata::pipeline::{JobContext, JobError as _};
use strata::store::Store;

use super::advice::advice;
use super::progress::with_progress;
use super::{EmbedArgs, EmbedTextsArgs, ModelArgs, with_advice};

pub fn run(args: EmbedArgs) -> anyhow::Result<()> {
    let mut store = Store::open(&args.project.project)?;
    let texts: Vec<String> = store.items()?.iter().map(item_text).collect();
    let text_refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let choice = choose_embedder(&args.request(), &text_refs).map_err(with_advice)?;
    for warning in &choice.warnings {
        warn(warning);
    }
    let embedder = choice.embedder.as_embedder();
    let summary = with_progress(|job| embed_project(&mut store, embedder, args.batch_size, job))
        .map_err(with_advice)?;
    if args.json {
        println!("{}", serde_json::to_string(&summary)?);
    } else {
        let label = if summary.fallback {
            " [fallback, not a neural model]"
        } else {
            ""
        };
        println!(
            "model:      {} ({}){label}",
            summary.model_name, summary.model_id
        );
        println!("items:      {}", summary.items);
        println!("embedded:   {}", summary.embedded);
        println!("from cache: {}", summary.from_cache);
        println!(
            "took:       {:.2} s ({:.0} sentences/s)",
            summary.seconds, summary.sentences_per_s
        );
    }
    Ok(())
}

/// Says on stderr what the user should know about the chosen embedder.
fn warn(warning: &EmbedWarning) {
    match warning {
        EmbedWarning::Fallback(not_found) => {
            match not_found.next_step() {
                Some(step) => eprintln!("warning: {not_found}; {}", advice(&step)),
                None => eprintln!("warning: {not_found}"),
            }
            eprintln!(
                "warning: using the LSA fallback instead (TF-IDF + SVD over this catalogue's \
                 words): weaker than a sentence-transformer; the project records it as such"
            );
        }
        EmbedWarning::UnknownTokens { share, model } => eprintln!(
            "warning: {:.0}% of this catalogue's tokens are unknown to {model} (it does not read the language); \
             a multilingual model reads it: --model {MULTILINGUAL_MODEL}, \
             or without one, --lsa (word-based, segments Chinese)",
            share * 100.0
        ),
    }
}

pub fn run_texts(args: EmbedTextsArgs) -> anyhow::Result<()> {
    use std::io::{BufRead, Write};
    let embedder = load_embedder(&args.model)?;
    let lines: Vec<String> = std::io::stdin()
        .lock()
        .lines()
        .collect::<Result<_, _>>()
        .context("reading texts from stdin")?;
    let texts: Vec<&str> = lines.iter().map(String::as_str).collect();
    let vectors = embed_all(
        &embedder,
        &texts,
        args.batch_size,
        embed_workers(),
        &JobContext::silent(),
    )?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for v in vectors {
        serde_json::to_writer(&mut out, &v)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

/// The neural model the flags name; no fallback (there is no catalogue to fit LSA on).
fn load_embedder(args: &ModelArgs) -> anyhow::Result<BertSentenceEmbedder> {
    let model = resolve(&args.request().query()).map_err(with_advice)?;
    Ok(BertSentenceEmbedder::load(&model.dir, &model.name)?)
}
