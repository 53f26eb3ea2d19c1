//! The command line's arguments (clap's derive), and what they ask the core for.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use strata::embed::{EmbedderRequest, ModelQueryRequest};
use strata::import::ColumnOverride;
use strata::recommend::{ProfileParams, Weighting};

#[derive(Parser)]
#[command(
    name = "strata",
    version,
    about = "Interest layers and per-layer recommendations from your own catalogue and histories.\n\nRun with no subcommand to open the desktop app."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Project to open in the desktop app.
    #[arg(long, value_name = "FILE")]
    pub project: Option<PathBuf>,

    /// View the desktop app starts on (default: the last one shown).
    #[arg(long, value_enum)]
    pub view: Option<StartView>,

    /// Open the desktop app on the demo shop, built afresh (as its "Open demo" button does).
    #[arg(long, conflicts_with = "project")]
    pub demo: bool,

    /// Memory the item models and the evaluation may hold at once, e.g. 6GiB or 512MB
    /// (default: $STRATA_MEMORY_BUDGET, else a quarter of physical memory). Dense models that
    /// do not fit give way to sparse ones.
    #[arg(long, global = true, value_name = "SIZE", value_parser = parse_budget)]
    pub memory_budget: Option<strata::memory::MemoryBudget>,
}

fn parse_budget(s: &str) -> Result<strata::memory::MemoryBudget, String> {
    strata::memory::parse_size(s)
        .map(|bytes| strata::memory::MemoryBudget { bytes })
        .ok_or_else(|| format!("{s:?} is not a size (write it like 6GiB, 512MB or 1000000000)"))
}

/// The desktop app's views, as `--view` names them.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum StartView {
    Import,
    Map,
    Users,
    Quality,
}

#[derive(Subcommand)]
pub enum Command {
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
pub struct ProfileArgs {
    /// What an interaction weighs before recency: `one`, `quantity` or `rating`.
    #[arg(long, default_value = "one", value_parser = parse_weighting)]
    pub weight: Weighting,
    /// Days after which an interaction counts half (measured back from the user's latest).
    #[arg(long, default_value_t = 180.0)]
    pub half_life_days: f64,
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
pub struct RecommendArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    /// The user's id as imported.
    #[arg(long)]
    pub user: String,
    /// Recommendations per layer.
    #[arg(long, default_value_t = 5)]
    pub per_layer: usize,
    #[command(flatten)]
    pub profile: ProfileArgs,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct EvaluateArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    #[command(flatten)]
    pub profile: ProfileArgs,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// A count, or `auto` to choose it from the data.
#[derive(Clone, Copy, Debug)]
pub enum Count {
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
    pub fn fixed(self) -> Option<usize> {
        match self {
            Count::Auto => None,
            Count::Fixed(n) => Some(n),
        }
    }
}

#[derive(Args)]
pub struct LayerArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    /// Number of layers, or `auto`: the fewest layers whose mean silhouette is within
    /// --k-tolerance of the best over k_min..=k_max.
    #[arg(long, default_value = "auto")]
    pub k: Count,
    /// How close to the best silhouette an automatic k must come, as a share of it (0: the
    /// highest silhouette, however many layers that takes).
    #[arg(long, default_value_t = strata::layers::K_TOLERANCE)]
    pub k_tolerance: f64,
    /// Smallest k tried by `--k auto`.
    #[arg(long, default_value_t = 4)]
    pub k_min: usize,
    /// Largest k tried by `--k auto` [default: min(16, √items)].
    #[arg(long)]
    pub k_max: Option<usize>,
    /// Sub-layers per layer, or `auto` (2 to min(8, √size) by silhouette; layers under 10 items stay whole).
    #[arg(long, default_value = "auto")]
    pub sub: Count,
    /// Seed for every random choice (same seed, same layers).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print the run as JSON.
    #[arg(long)]
    pub json: bool,
    /// Update the latest run to the items imported since instead of building from scratch:
    /// old items keep their layer, new ones go to their nearest layer and sub-layer.
    #[arg(long, conflicts_with_all = ["list", "delete", "diff", "k", "sub", "seed", "k_min", "k_max", "k_tolerance"])]
    pub update: bool,
    /// What changed from stored run RUN_A to RUN_B (items added, moved, layers born, split or
    /// merged), instead of making a run.
    #[arg(long, num_args = 2, value_names = ["RUN_A", "RUN_B"], conflicts_with_all = ["list", "delete"])]
    pub diff: Option<Vec<i64>>,
    /// List the stored layer runs instead of making one.
    #[arg(long, conflicts_with = "delete")]
    pub list: bool,
    /// Delete stored layer run RUN instead of making one.
    #[arg(long, value_name = "RUN")]
    pub delete: Option<i64>,
}

#[derive(clap::Subcommand)]
pub enum ExportCommand {
    /// One row per item: item_id,title,layer,layer_name,sublayer,sublayer_name,x,y (latest run).
    Layers(ExportArgs),
    /// One row per layer and sub-layer: layer,sublayer,name,size,silhouette,share (latest run).
    LayerList(ExportArgs),
    /// One row per recommendation:
    /// user_id,layer,layer_name,rank,item_id,title,score,reason_item_id.
    Recommendations(ExportRecommendationsArgs),
}

#[derive(Args)]
pub struct ExportRecommendationsArgs {
    #[command(flatten)]
    pub export: ExportArgs,
    /// Only this user (default: every user).
    #[arg(long, conflicts_with = "changed")]
    pub user: Option<String>,
    /// Only the users whose histories changed since the recommender was last fitted in full
    /// (after an import: the day's customers). Their lists come at once from the fit kept in
    /// the project, extended to the new items, where the import added little.
    #[arg(long)]
    pub changed: bool,
    /// Recommendations per layer.
    #[arg(long, default_value_t = 5)]
    pub per_layer: usize,
    #[command(flatten)]
    pub profile: ProfileArgs,
}

#[derive(Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    /// The CSV file to write (replaced).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Start the file with a UTF-8 byte-order mark (Excel needs it to read UTF-8).
    #[arg(long)]
    pub bom: bool,
}

#[derive(Args)]
pub struct EmbedArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Use the LSA fallback (TF-IDF over words with Chinese word segmentation, then SVD)
    /// instead of a neural model. Used anyway, with a warning, when no model can be found.
    #[arg(long, conflicts_with_all = ["model", "model_dir"])]
    pub lsa: bool,
    /// Texts per batch.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct ModelArgs {
    /// A Hugging Face repo id [default: sentence-transformers/all-MiniLM-L6-v2].
    #[arg(long, value_name = "REPO", conflicts_with = "model_dir")]
    pub model: Option<String>,
    /// A folder holding config.json, tokenizer.json and model.safetensors
    /// [default: $STRATA_MODEL_DIR, then the Hugging Face cache, then a download].
    #[arg(long, value_name = "DIR")]
    pub model_dir: Option<PathBuf>,
}

#[derive(Args)]
pub struct EmbedTextsArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Texts per batch.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
}

#[derive(Args)]
pub struct ProjectArg {
    /// The project file (created if missing).
    #[arg(long, value_name = "FILE")]
    pub project: PathBuf,
}

#[derive(Args)]
#[command(group = clap::ArgGroup::new("source").required(true).multiple(false))]
pub struct ImportArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    /// An items file: id, title, description, category (other columns are kept).
    #[arg(long, value_name = "FILE", group = "source")]
    pub items: Option<PathBuf>,
    /// An interactions file: user, item, time, quantity or rating.
    #[arg(long, value_name = "FILE", group = "source")]
    pub interactions: Option<PathBuf>,
    /// A raw orders export (e.g. UCI Online Retail); items and histories are derived.
    #[arg(long, value_name = "FILE", group = "source")]
    pub orders: Option<PathBuf>,
    /// A MovieLens folder holding movies.csv and ratings.csv.
    #[arg(long, value_name = "DIR", group = "source")]
    pub movielens: Option<PathBuf>,
    /// Files whose layout is recognised from their header (Shopify, WooCommerce, Taobao,
    /// Pinduoduo, Moodle, Canvas exports; else a catalogue, histories or orders by their
    /// columns), imported together in one transaction: a catalogue with its histories, or
    /// both halves of a two-file export.
    #[arg(value_name = "FILE", group = "source")]
    pub files: Vec<PathBuf>,
    /// Keep each variant (size, colour) as an item of its own instead of grouping it into
    /// its product.
    #[arg(long)]
    pub keep_variants: bool,
    /// The sheet of a workbook (.xlsx, .xls, .ods) to read; the first by default.
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
    /// The year of times written without one (Moodle's logs); the file's date by default.
    #[arg(long, value_name = "YYYY")]
    pub year: Option<i32>,
    /// Override a column: ROLE=COLUMN, e.g. --map title=Description. Roles: item_id, title,
    /// description, category, user_id, timestamp, quantity, rating, basket.
    #[arg(long = "map", value_name = "ROLE=COLUMN")]
    pub overrides: Vec<ColumnOverride>,
    /// Read and check the files and print the report, writing nothing to the project.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the import report as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct InfoArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    /// Print JSON: {"items":…,"users":…,"interactions":…,"first_ts":…,"last_ts":…}.
    #[arg(long)]
    pub json: bool,
}

impl ProfileArgs {
    pub fn profile(&self) -> ProfileParams {
        ProfileParams {
            weighting: self.weight,
            half_life_days: self.half_life_days,
        }
    }
}

impl ModelArgs {
    /// The model these flags name (`STRATA_MODEL_DIR`, the cache or a download when none).
    pub fn request(&self) -> ModelQueryRequest {
        ModelQueryRequest {
            repo: self.model.clone(),
            dir: self.model_dir.clone(),
        }
    }
}

impl EmbedArgs {
    pub fn request(&self) -> EmbedderRequest {
        if self.lsa {
            EmbedderRequest::Lsa
        } else {
            EmbedderRequest::Model(self.model.request())
        }
    }
}
