//! `strata`: with no subcommand, the desktop app; otherwise the command line (`src/cli`).
//! Both drive the same core library.

mod cli;

use std::process::ExitCode;

use clap::Parser;
use strata::embed::configure_process;

fn main() -> ExitCode {
    configure_process();
    let args = cli::Cli::parse();
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
