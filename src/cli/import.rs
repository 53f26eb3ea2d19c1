//! `strata import`: a catalogue, histories, an orders export or a MovieLens folder.

use anyhow::Context as _;
use strata::import::{ImportKind, ImportRequest, run_import};
use strata::store::Store;

use super::progress::with_progress;
use super::{ImportArgs, with_advice};

pub fn run(args: ImportArgs) -> anyhow::Result<()> {
    let (kind, path) = [
        (ImportKind::Items, args.items),
        (ImportKind::Interactions, args.interactions),
        (ImportKind::Orders, args.orders),
        (ImportKind::MovieLens, args.movielens),
    ]
    .into_iter()
    .find_map(|(kind, path)| Some((kind, path?)))
    .context("name a file to import: --items, --interactions, --orders or --movielens")?;
    let mut store = Store::open(&args.project.project)?;
    let request = ImportRequest {
        kind,
        path,
        overrides: args.overrides,
    };
    let report = with_progress(|job| run_import(&mut store, &request, job)).map_err(with_advice)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{report}");
    }
    Ok(())
}
