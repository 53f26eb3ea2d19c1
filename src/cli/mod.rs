//! The command line: clap's arguments, one file per subcommand, the terminal progress bar
//! and the wording of each error's next step. The core does the work; this folder only reads
//! arguments and prints.

mod advice;
mod args;
mod embed;
mod evaluate;
mod export;
mod import;
mod info;
mod layer;
mod progress;
mod recommend;

pub use advice::with_advice;
pub use args::*;

/// Runs `command` and prints its result.
pub fn run(command: Command) -> anyhow::Result<()> {
    // A budget the environment names badly is refused before any work, not quietly replaced
    // (unless --memory-budget chose one).
    if strata::memory::MemoryBudget::chosen().is_none() {
        strata::memory::MemoryBudget::from_env()?;
    }
    match command {
        Command::Import(args) => import::run(args),
        Command::Info(args) => info::run(args),
        Command::Embed(args) => embed::run(args),
        Command::EmbedTexts(args) => embed::run_texts(args),
        Command::Layer(args) => layer::run(args),
        Command::Recommend(args) => recommend::run(args),
        Command::Evaluate(args) => evaluate::run(args),
        Command::Export(ExportCommand::Layers(args)) => export::layers(args),
        Command::Export(ExportCommand::LayerList(args)) => export::layer_list(args),
        Command::Export(ExportCommand::Recommendations(args)) => export::recommendations(args),
    }
}

/// A time as the command line prints it.
fn format_ts(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0).map_or_else(
        || ts.to_string(),
        |dt| dt.format("%Y-%m-%d %H:%M").to_string(),
    )
}
