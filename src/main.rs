//! `strata`: with no subcommand, the desktop app; otherwise the command line.
//! Both drive the same core library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use strata::embed::resolve::{ModelQuery, resolve};
use strata::embed::{
    BertSentenceEmbedder, EmbedError, Embedder, LsaEmbedder, configure_process, embed_all,
    embed_project, embed_workers, item_text,
};
use strata::export::{write_item_layers, write_layer_list, write_recommendations};
use strata::import::{ColumnOverride, ImportKind, ImportRequest, run_import};
use strata::layers::{LayerParams, layer_project};
use strata::pipeline::{JobContext, Progress};
use strata::recommend::{
    CUTOFF, ProfileParams, ProjectRecommender, RecommendParams, UserRecommendations, Weighting,
    evaluate_project, project_blend, project_free_share,
};
use strata::store::Store;
use strata::store::display_name;

#[derive(Parser)]
#[command(
    name = "strata",
    version,
    about = "Interest layers and per-layer recommendations from your own catalogue and histories.\n\nRun with no subcommand to open the desktop app."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    /// Project to open in the desktop app.
    #[arg(long, value_name = "FILE")]
    project: Option<PathBuf>,

    /// View the desktop app starts on (default: the last one shown).
    #[arg(long, value_enum)]
    view: Option<StartView>,

    /// Open the desktop app on the demo shop, built afresh (as its "Open demo" button does).
    #[arg(long, conflicts_with = "project")]
    demo: bool,
}

/// The desktop app's views, as `--view` names them.
#[derive(Clone, Copy, clap::ValueEnum)]
enum StartView {
    Import,
    Map,
    Users,
    Quality,
}

#[derive(Subcommand)]
enum Command {
    /// Import a catalogue, histories, an orders export or a MovieLens folder into a project.
    Import(ImportArgs),
    /// Show a project's counts: items, users, interactions, time span.
    Info(InfoArgs),
    /// Embed every item of a project with a sentence-transformer (cached: unchanged items are skipped).
    Embed(EmbedArgs),
    /// Embed one text per line from stdin; print one JSON array of floats per line.
    EmbedTexts(EmbedTextsArgs),
    /// Split the catalogue into interest layers and sub-layers (k-means, k chosen by silhouette),
    /// name and score them, and place every item on a 2D map. Stored as a new layer run.
    Layer(LayerArgs),
    /// A user's layers by strength and per-layer recommendations, each with its reason.
    Recommend(RecommendArgs),
    /// Score the recommendations on the project's own histories against baselines
    /// (popular, item-kNN, EASE, content kNN): HR@10, NDCG@10, Recall@10, coverage, diversity.
    Evaluate(EvaluateArgs),
    /// Write a project's results to CSV.
    #[command(subcommand)]
    Export(ExportCommand),
}

/// How a history is weighed (shared by recommend, evaluate and export).
#[derive(Args, Clone)]
struct ProfileArgs {
    /// What an interaction weighs before recency: `one`, `quantity` or `rating`.
    #[arg(long, default_value = "one", value_parser = parse_weighting)]
    weight: Weighting,
    /// Days after which an interaction counts half (measured back from the user's latest).
    #[arg(long, default_value_t = 180.0)]
    half_life_days: f64,
}

fn parse_weighting(s: &str) -> Result<Weighting, String> {
    match s.to_ascii_lowercase().as_str() {
        "one" => Ok(Weighting::One),
        "quantity" => Ok(Weighting::Quantity),
        "rating" => Ok(Weighting::Rating),
        _ => Err(format!("expected one, quantity or rating, got `{s}`")),
    }
}

#[derive(Args)]
struct RecommendArgs {
    #[command(flatten)]
    project: ProjectArg,
    /// The user's id as imported.
    #[arg(long)]
    user: String,
    /// Recommendations per layer.
    #[arg(long, default_value_t = 5)]
    per_layer: usize,
    #[command(flatten)]
    profile: ProfileArgs,
    /// Print as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct EvaluateArgs {
    #[command(flatten)]
    project: ProjectArg,
    #[command(flatten)]
    profile: ProfileArgs,
    /// Print as JSON.
    #[arg(long)]
    json: bool,
}

/// A count, or `auto` to choose it from the data.
#[derive(Clone, Copy, Debug)]
enum Count {
    Auto,
    Fixed(usize),
}

impl std::str::FromStr for Count {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("auto") {
            return Ok(Count::Auto);
        }
        match s.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(Count::Fixed(n)),
            _ => Err(format!("expected `auto` or a whole number >= 1, got `{s}`")),
        }
    }
}

impl Count {
    fn fixed(self) -> Option<usize> {
        match self {
            Count::Auto => None,
            Count::Fixed(n) => Some(n),
        }
    }
}

#[derive(Args)]
struct LayerArgs {
    #[command(flatten)]
    project: ProjectArg,
    /// Number of layers, or `auto`: the best mean silhouette over k_min..=k_max.
    #[arg(long, default_value = "auto")]
    k: Count,
    /// Smallest k tried by `--k auto`.
    #[arg(long, default_value_t = 4)]
    k_min: usize,
    /// Largest k tried by `--k auto` [default: min(16, √items)].
    #[arg(long)]
    k_max: Option<usize>,
    /// Sub-layers per layer, or `auto` (2 to min(8, √size) by silhouette; layers under 10 items stay whole).
    #[arg(long, default_value = "auto")]
    sub: Count,
    /// Seed for every random choice (same seed, same layers).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print the run as JSON.
    #[arg(long)]
    json: bool,
    /// List the stored layer runs instead of making one.
    #[arg(long, conflicts_with = "delete")]
    list: bool,
    /// Delete stored layer run RUN instead of making one.
    #[arg(long, value_name = "RUN")]
    delete: Option<i64>,
}

#[derive(clap::Subcommand)]
enum ExportCommand {
    /// One row per item: item_id,title,layer,layer_name,sublayer,sublayer_name,x,y (latest run).
    Layers(ExportArgs),
    /// One row per layer and sub-layer: layer,sublayer,name,size,silhouette,share (latest run).
    LayerList(ExportArgs),
    /// One row per recommendation:
    /// user_id,layer,layer_name,rank,item_id,title,score,reason_item_id.
    Recommendations(ExportRecommendationsArgs),
}

#[derive(Args)]
struct ExportRecommendationsArgs {
    #[command(flatten)]
    export: ExportArgs,
    /// Only this user (default: every user).
    #[arg(long)]
    user: Option<String>,
    /// Recommendations per layer.
    #[arg(long, default_value_t = 5)]
    per_layer: usize,
    #[command(flatten)]
    profile: ProfileArgs,
}

#[derive(Args)]
struct ExportArgs {
    #[command(flatten)]
    project: ProjectArg,
    /// The CSV file to write (replaced).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Start the file with a UTF-8 byte-order mark (Excel needs it to read UTF-8).
    #[arg(long)]
    bom: bool,
}

#[derive(Args)]
struct EmbedArgs {
    #[command(flatten)]
    project: ProjectArg,
    #[command(flatten)]
    model: ModelArgs,
    /// Use the LSA fallback (TF-IDF over words with Chinese word segmentation, then SVD)
    /// instead of a neural model. Used anyway, with a warning, when no model can be found.
    #[arg(long, conflicts_with_all = ["model", "model_dir"])]
    lsa: bool,
    /// Texts per batch.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

/// Above this share of [UNK] tokens the model does not read the catalogue's language.
const UNKNOWN_TOKEN_WARNING: f64 = 0.05;

#[derive(Args)]
struct ModelArgs {
    /// A Hugging Face repo id [default: sentence-transformers/all-MiniLM-L6-v2].
    #[arg(long, value_name = "REPO", conflicts_with = "model_dir")]
    model: Option<String>,
    /// A folder holding config.json, tokenizer.json and model.safetensors
    /// [default: $STRATA_MODEL_DIR, then the Hugging Face cache, then a download].
    #[arg(long, value_name = "DIR")]
    model_dir: Option<PathBuf>,
}

#[derive(Args)]
struct EmbedTextsArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Texts per batch.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
}

#[derive(Args)]
struct ProjectArg {
    /// The project file (created if missing).
    #[arg(long, value_name = "FILE")]
    project: PathBuf,
}

#[derive(Args)]
#[command(group = clap::ArgGroup::new("source").required(true).multiple(false))]
struct ImportArgs {
    #[command(flatten)]
    project: ProjectArg,
    /// An items file: id, title, description, category (other columns are kept).
    #[arg(long, value_name = "FILE", group = "source")]
    items: Option<PathBuf>,
    /// An interactions file: user, item, time, quantity or rating.
    #[arg(long, value_name = "FILE", group = "source")]
    interactions: Option<PathBuf>,
    /// A raw orders export (e.g. UCI Online Retail); items and histories are derived.
    #[arg(long, value_name = "FILE", group = "source")]
    orders: Option<PathBuf>,
    /// A MovieLens folder holding movies.csv and ratings.csv.
    #[arg(long, value_name = "DIR", group = "source")]
    movielens: Option<PathBuf>,
    /// Override a column: ROLE=COLUMN, e.g. --map title=Description. Roles: item_id, title,
    /// description, category, user_id, timestamp, quantity, rating, basket.
    #[arg(long = "map", value_name = "ROLE=COLUMN")]
    overrides: Vec<ColumnOverride>,
    /// Print the import report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct InfoArgs {
    #[command(flatten)]
    project: ProjectArg,
    /// Print JSON: {"items":…,"users":…,"interactions":…,"first_ts":…,"last_ts":…}.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    configure_process();
    let cli = Cli::parse();
    let result = match cli.command {
        None => strata::gui::run(
            cli.project,
            cli.demo,
            cli.view.map(|view| match view {
                StartView::Import => strata::gui::Tab::Import,
                StartView::Map => strata::gui::Tab::Map,
                StartView::Users => strata::gui::Tab::Users,
                StartView::Quality => strata::gui::Tab::Quality,
            }),
        ),
        Some(Command::Import(args)) => import(args),
        Some(Command::Info(args)) => info(args),
        Some(Command::Embed(args)) => embed(args),
        Some(Command::EmbedTexts(args)) => embed_texts(args),
        Some(Command::Layer(args)) => layer(args),
        Some(Command::Recommend(args)) => recommend(args),
        Some(Command::Evaluate(args)) => evaluate(args),
        Some(Command::Export(ExportCommand::Layers(args))) => export_layers(args),
        Some(Command::Export(ExportCommand::LayerList(args))) => export_layer_list(args),
        Some(Command::Export(ExportCommand::Recommendations(args))) => export_recommendations(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn open(project: &Path) -> anyhow::Result<Store> {
    Ok(Store::open(project)?)
}

fn import(args: ImportArgs) -> anyhow::Result<()> {
    let (kind, path) = [
        (ImportKind::Items, args.items),
        (ImportKind::Interactions, args.interactions),
        (ImportKind::Orders, args.orders),
        (ImportKind::MovieLens, args.movielens),
    ]
    .into_iter()
    .find_map(|(kind, path)| Some((kind, path?)))
    .context("name a file to import: --items, --interactions, --orders or --movielens")?;
    let mut store = open(&args.project.project)?;
    let request = ImportRequest {
        kind,
        path,
        overrides: args.overrides,
    };
    let report = with_progress(|job| run_import(&mut store, &request, job));
    let report = report?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{report}");
    }
    Ok(())
}

fn info(args: InfoArgs) -> anyhow::Result<()> {
    let store = open(&args.project.project)?;
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

fn format_ts(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0).map_or_else(
        || ts.to_string(),
        |dt| dt.format("%Y-%m-%d %H:%M").to_string(),
    )
}

fn load_embedder(args: &ModelArgs) -> anyhow::Result<BertSentenceEmbedder> {
    let query = ModelQuery {
        repo: args.model.clone(),
        dir: args.model_dir.clone(),
        ..ModelQuery::default()
    }
    .or_env_dir();
    let model = resolve(&query)?;
    Ok(BertSentenceEmbedder::load(&model.dir, &model.name)?)
}

fn embed(args: EmbedArgs) -> anyhow::Result<()> {
    let mut store = open(&args.project.project)?;
    let items = store.items()?;
    let texts: Vec<String> = items.iter().map(item_text).collect();
    let text_refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let neural = if args.lsa {
        None
    } else {
        match load_embedder(&args.model) {
            Ok(embedder) => Some(embedder),
            Err(err) if is_not_found(&err) => {
                eprintln!("warning: {err:#}");
                eprintln!(
                    "warning: using the LSA fallback instead (TF-IDF + SVD over this catalogue's \
                     words): weaker than a sentence-transformer; the project records it as such"
                );
                None
            }
            Err(err) => return Err(err),
        }
    };
    let summary = match &neural {
        Some(embedder) => {
            let unknown = embedder.unknown_token_share(&text_refs)?;
            if unknown > UNKNOWN_TOKEN_WARNING {
                eprintln!(
                    "warning: {:.0}% of this catalogue's tokens are unknown to {} (it does not read the language); \
                     a multilingual model reads it: --model sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2, \
                     or without one, --lsa (word-based, segments Chinese)",
                    unknown * 100.0,
                    embedder.name()
                );
            }
            with_progress(|job| embed_project(&mut store, embedder, args.batch_size, job))?
        }
        None => {
            let lsa = LsaEmbedder::fit(&text_refs)?;
            with_progress(|job| embed_project(&mut store, &lsa, args.batch_size, job))?
        }
    };
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

/// True when no neural model could be found or fetched (as opposed to a broken one).
fn is_not_found(err: &anyhow::Error) -> bool {
    matches!(
        err.downcast_ref::<EmbedError>(),
        Some(EmbedError::NotFound { .. })
    )
}

/// Runs `work` with a terminal progress bar (on stderr, hidden when it is not a terminal).
fn with_progress<T>(work: impl FnOnce(&JobContext) -> T) -> T {
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{msg:>9} [{bar:40}] {pos}/{len}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let on_progress = |p: Progress| {
        bar.set_message(p.stage);
        bar.set_length(p.total);
        bar.set_position(p.done);
    };
    let cancel = AtomicBool::new(false);
    let result = work(&JobContext::new(&on_progress, &cancel));
    bar.finish_and_clear();
    result
}

fn embed_texts(args: EmbedTextsArgs) -> anyhow::Result<()> {
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

fn layer(args: LayerArgs) -> anyhow::Result<()> {
    let mut store = open(&args.project.project)?;
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
    let params = LayerParams {
        k: args.k.fixed(),
        k_min: args.k_min,
        k_max: args.k_max,
        sub: args.sub.fixed(),
        seed: args.seed,
        ..LayerParams::default()
    };
    let (run_id, run) = with_progress(|job| layer_project(&mut store, &params, job))?;
    if args.json {
        let mut summary = serde_json::to_value(&run)?;
        if let Some(object) = summary.as_object_mut() {
            for bulky in ["item_layer", "item_sublayer", "points"] {
                object.remove(bulky);
            }
            for layer in object
                .get_mut("layers")
                .and_then(|l| l.as_array_mut())
                .into_iter()
                .flatten()
            {
                if let Some(layer) = layer.as_object_mut() {
                    layer.remove("centroid");
                }
            }
            object.insert("run_id".to_owned(), run_id.into());
        }
        println!("{summary}");
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
    for (i, layer) in run.layers.iter().enumerate() {
        println!(
            "{:>5}  {:>4}  {:>6}  {:>10}  {}",
            i + 1,
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
                    format!("{}.{}", i + 1, j + 1),
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
        if params.k.is_some() {
            "fixed"
        } else {
            "chosen by silhouette"
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
    Ok(())
}

fn export_layers(args: ExportArgs) -> anyhow::Result<()> {
    let store = open(&args.project.project)?;
    let count = write_item_layers(&store, &args.out, args.bom)?;
    eprintln!("wrote {count} items to {}", args.out.display());
    Ok(())
}

fn export_layer_list(args: ExportArgs) -> anyhow::Result<()> {
    let store = open(&args.project.project)?;
    let count = write_layer_list(&store, &args.out, args.bom)?;
    eprintln!(
        "wrote {count} layers and sub-layers to {}",
        args.out.display()
    );
    Ok(())
}

/// Recommendation settings from the command line and the blend `strata evaluate` chose.
fn recommend_params(
    store: &Store,
    profile: &ProfileArgs,
    per_layer: usize,
) -> anyhow::Result<RecommendParams> {
    Ok(RecommendParams {
        profile: ProfileParams {
            weighting: profile.weight,
            half_life_days: profile.half_life_days,
        },
        blend: project_blend(store)?,
        free_share: project_free_share(store)?,
        per_layer,
        ..RecommendParams::default()
    })
}

fn recommend(args: RecommendArgs) -> anyhow::Result<()> {
    let store = open(&args.project.project)?;
    let params = recommend_params(&store, &args.profile, args.per_layer)?;
    let recommender = ProjectRecommender::load(&store, params.profile.weighting)?;
    let result = recommender.for_user(&store, &args.user, &params)?;
    let item_id = |i: u32| recommender.items[i as usize].item_id.as_str();
    let title = |i: u32| recommender.items[i as usize].title.as_str();
    if args.json {
        let layers: Vec<serde_json::Value> = result
            .layers
            .iter()
            .zip(&result.per_layer)
            .map(|(strength, recs)| {
                serde_json::json!({
                    "layer": strength.layer + 1,
                    "layer_name": recommender.layer_names.get(strength.layer),
                    "strength": strength.strength,
                    "recommendations": recs.iter().enumerate().map(|(rank, r)| serde_json::json!({
                        "rank": rank + 1,
                        "item_id": item_id(r.item),
                        "title": title(r.item),
                        "score": r.score,
                        "reason_item_id": r.reason.map(item_id),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let merged: Vec<serde_json::Value> = result
            .merged
            .iter()
            .enumerate()
            .map(|(rank, r)| {
                serde_json::json!({
                    "rank": rank + 1,
                    "layer": r.layer + 1,
                    "item_id": item_id(r.item),
                    "title": title(r.item),
                    "score": r.score,
                    "reason_item_id": r.reason.map(item_id),
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"user_id": args.user, "layers": layers, "merged": merged})
            )?
        );
        return Ok(());
    }
    println!(
        "user {}: {} layer(s) in the history",
        args.user,
        result.layers.len()
    );
    for (strength, recs) in result.layers.iter().zip(&result.per_layer) {
        let name = recommender
            .layer_names
            .get(strength.layer)
            .map_or("", String::as_str);
        println!(
            "\nlayer {:>2}  {:>5.1}%  {name}",
            strength.layer + 1,
            strength.strength * 100.0
        );
        println!("  rank  score  item                                       because of");
        for (rank, r) in recs.iter().enumerate() {
            let reason = r.reason.map_or_else(
                || "(popular in this layer)".to_owned(),
                |i| format!("{} {}", item_id(i), title(i)),
            );
            println!(
                "  {:>4}  {:>5.3}  {:<42} {}",
                rank + 1,
                r.score,
                format!("{} {}", item_id(r.item), title(r.item)),
                reason
            );
        }
    }
    println!(
        "\ntop {} across layers (each of the strongest layers has a place)",
        result.merged.len()
    );
    println!("  rank  layer  score  item");
    for (rank, r) in result.merged.iter().enumerate() {
        println!(
            "  {:>4}  {:>5}  {:>5.3}  {} {}",
            rank + 1,
            r.layer + 1,
            r.score,
            item_id(r.item),
            title(r.item)
        );
    }
    Ok(())
}

fn evaluate(args: EvaluateArgs) -> anyhow::Result<()> {
    let mut store = open(&args.project.project)?;
    let params = recommend_params(&store, &args.profile, 5)?;
    let evaluation = with_progress(|job| evaluate_project(&mut store, &params, job))?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&serde_json::json!({
                "users": evaluation.users,
                "methods": evaluation.methods,
                "tuned": evaluation.tuned,
                "multi_layer_share": evaluation.multi_layer_share,
                "versus_best_baseline": evaluation.versus_best_baseline,
                "seconds": evaluation.seconds,
            }))?
        );
        return Ok(());
    }
    println!(
        "{} users (a training item and a new item at their last timestamp), cutoff {CUTOFF}",
        evaluation.users
    );
    println!("method      HR@10  NDCG@10  Recall@10  coverage  diversity");
    for (name, m) in &evaluation.methods {
        println!(
            "{name:<10} {:>6.4}  {:>7.4}  {:>9.4}  {:>8.4}  {:>9.4}",
            m.hit_rate, m.ndcg, m.recall, m.coverage, m.diversity
        );
    }
    let tuned = &evaluation.tuned;
    println!(
        "tuned on two validation folds: blend content {} collaborative {} popularity {}, free share {}, popularity half-life {} days (NDCG@10 {:.4}); EASE lambda {} (NDCG@10 {:.4})",
        tuned.blend.content,
        tuned.blend.collaborative,
        tuned.blend.popularity,
        tuned.free_share,
        tuned.trend_half_life_days,
        tuned.strata_validation_ndcg,
        tuned.ease_lambda,
        tuned.ease_validation_ndcg
    );
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

fn export_recommendations(args: ExportRecommendationsArgs) -> anyhow::Result<()> {
    let store = open(&args.export.project.project)?;
    let params = recommend_params(&store, &args.profile, args.per_layer)?;
    let recommender = ProjectRecommender::load(&store, params.profile.weighting)?;
    let users: Vec<(usize, UserRecommendations)> = match &args.user {
        Some(user) => {
            // An unknown user is an error here, so the index is there.
            let lists = recommender.for_user(&store, user, &params)?;
            let index = recommender.interactions.user_index(user);
            index.map(|u| (u, lists)).into_iter().collect()
        }
        None => recommender
            .for_all(&params)
            .into_iter()
            .enumerate()
            .collect(),
    };
    let count = write_recommendations(
        &recommender,
        users.iter().map(|(u, lists)| (*u, lists)),
        &args.export.out,
        args.export.bom,
    )?;
    eprintln!(
        "wrote {count} recommendations for {} user(s) to {}",
        users.len(),
        args.export.out.display()
    );
    Ok(())
}
