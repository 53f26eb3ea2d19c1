//! `strata`: with no subcommand, the desktop app; otherwise the command line (`src/cli`).
//! Both drive the same core library.

mod cli;

use std::process::ExitCode;

use clap::Parser;
use strata::embed::configure_process;

fn main() -> ExitCode {
    restore_sigpipe();
    configure_process();
    let args = cli::Cli::parse();
    strata::memory::MemoryBudget::choose(args.memory_budget);
    let result = match args.command {
        None => strata::gui::run(
            args.project,
            args.demo,
            args.view.map(|view| match view {
                cli::StartView::Import => strata::gui::Tab::Import,
                cli::StartView::Map => strata::gui::Tab::Map,
                cli::StartView::Users => strata::gui::Tab::Users,
                cli::StartView::Quality => strata::gui::Tab::Quality,
            }),
        ),
        Some(command) => cli::run(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Output piped into `head` and closed early ends the process quietly, as other command-line
/// tools do, instead of a panic in `println!` (Rust ignores SIGPIPE by default).
fn restore_sigpipe() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: called first thing in `main`, before any thread starts; it only resets one
    // signal's disposition to the system default.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
