//! The memory budget: one setting that every large allocation is checked against before the
//! work starts, so a catalogue too big for the machine gets a message saying what does not
//! fit instead of an out-of-memory kill (issue 15).
//!
//! The default is a quarter of physical memory, leaving the rest to the system, the app's
//! window and the user's other programs. The command line's `--memory-budget` and the app's
//! setting choose it for the process ([`MemoryBudget::choose`]); `STRATA_MEMORY_BUDGET` (e.g.
//! `6GiB`, `512MB`, or bytes) sets it for a run where neither does.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// The budget chosen for this process, in bytes (0: none chosen).
static CHOSEN: AtomicU64 = AtomicU64::new(0);

/// Environment variable that sets the budget for a run.
pub const BUDGET_VAR: &str = "STRATA_MEMORY_BUDGET";

/// Bytes a piece of work may hold at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryBudget {
    pub bytes: u64,
}

/// A piece of work that does not fit the budget.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} needs {} but the memory budget is {}", Bytes(*.needed), Bytes(*.budget))]
pub struct OverBudget {
    pub what: String,
    pub needed: u64,
    pub budget: u64,
}

/// A `STRATA_MEMORY_BUDGET` value that is not a size.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{BUDGET_VAR}={value:?} is not a size (write it like 6GiB, 512MB or 1000000000)")]
pub struct BadBudget {
    pub value: String,
}

impl MemoryBudget {
    /// A quarter of physical memory (1 GiB where it cannot be read).
    pub fn quarter_of_physical() -> Self {
        let total = sysinfo::System::new().map_or(0, |mut system| {
            system.refresh_memory_specifics(sysinfo::MemoryRefreshKind::nothing().with_ram());
            system.total_memory()
        });
        Self {
            bytes: if total > 0 { total / 4 } else { 1 << 30 },
        }
    }

    /// Chooses the budget for this process (`None`: back to the environment's or the default
    /// quarter). Work started afterwards uses it.
    pub fn choose(budget: Option<MemoryBudget>) {
        CHOSEN.store(budget.map_or(0, |b| b.bytes.max(1)), Ordering::Relaxed);
    }

    /// The budget chosen for this process, if any.
    pub fn chosen() -> Option<MemoryBudget> {
        match CHOSEN.load(Ordering::Relaxed) {
            0 => None,
            bytes => Some(Self { bytes }),
        }
    }

    /// The budget `STRATA_MEMORY_BUDGET` sets, else [`MemoryBudget::quarter_of_physical`].
    pub fn from_env() -> Result<Self, BadBudget> {
        match std::env::var(BUDGET_VAR) {
            Ok(value) if !value.trim().is_empty() => parse_size(&value)
                .map(|bytes| Self { bytes })
                .ok_or(BadBudget { value }),
            _ => Ok(Self::quarter_of_physical()),
        }
    }

    /// Whether `needed` bytes fit.
    pub fn fits(&self, needed: u64) -> bool {
        needed <= self.bytes
    }

    /// `Ok` when `needed` bytes for `what` fit, else the message saying so.
    pub fn check(&self, what: impl Into<String>, needed: u64) -> Result<(), OverBudget> {
        if self.fits(needed) {
            Ok(())
        } else {
            Err(OverBudget {
                what: what.into(),
                needed,
                budget: self.bytes,
            })
        }
    }
}

impl Default for MemoryBudget {
    /// The budget chosen for the process, else the environment's, else a quarter of physical
    /// memory (also where the environment names it badly: the CLI and the app report that
    /// through [`MemoryBudget::from_env`]).
    fn default() -> Self {
        Self::chosen()
            .unwrap_or_else(|| Self::from_env().unwrap_or_else(|_| Self::quarter_of_physical()))
    }
}

/// `6GiB`, `1.5 GB`, `512MB`, `800k`, `1000000`: binary and decimal units, case-insensitive.
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let unit = unit.trim().to_ascii_lowercase();
    let scale: f64 = match unit.as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024f64.powi(2),
        "gib" => 1024f64.powi(3),
        "tib" => 1024f64.powi(4),
        _ => return None,
    };
    let bytes = number * scale;
    (bytes.is_finite() && bytes >= 1.0).then_some(bytes as u64)
}

/// A byte count as people read it: `1.5 GB`, `640 MB`.
pub struct Bytes(pub u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0 as f64;
        if b >= 1e9 {
            write!(f, "{:.1} GB", b / 1e9)
        } else if b >= 1e6 {
            write!(f, "{:.0} MB", b / 1e6)
        } else {
            write!(f, "{:.0} kB", b / 1e3)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_both_unit_systems() {
        assert_eq!(parse_size("6GiB"), Some(6 << 30));
        assert_eq!(parse_size("1.5 GB"), Some(1_500_000_000));
        assert_eq!(parse_size("512mb"), Some(512_000_000));
        assert_eq!(parse_size("1000"), Some(1000));
        assert_eq!(parse_size("lots"), None);
        assert_eq!(parse_size("5 parsecs"), None);
        assert_eq!(parse_size("0"), None);
    }

    #[test]
    fn the_default_is_a_quarter_of_physical_memory() {
        let budget = MemoryBudget::quarter_of_physical();
        // Any machine that runs the tests has between 1 and 4096 GB.
        assert!((1 << 28..1 << 40).contains(&budget.bytes), "{budget:?}");
    }

    #[test]
    fn over_budget_names_what_and_both_sizes_issue_15() {
        let budget = MemoryBudget {
            bytes: 2_000_000_000,
        };
        assert!(budget.check("dense EASE", 1_000).is_ok());
        let refused = budget
            .check("dense EASE over 30000 items", 14_400_000_000)
            .unwrap_err();
        assert_eq!(
            refused.to_string(),
            "dense EASE over 30000 items needs 14.4 GB but the memory budget is 2.0 GB"
        );
    }
}
