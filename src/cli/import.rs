//! `strata import`: files recognised from their header, or a catalogue, histories, an orders
//! export or a MovieLens folder named by its flag.

use anyhow::Context as _;
use strata::import::{ImportKind, ImportOptions, ImportRequest, run_import};
use strata::store::Store;

use super::progress::with_progress;
use super::{ImportArgs, with_advice};

pub fn run(args: ImportArgs) -> anyhow::Result<()> {
    let mut files = args.files.into_iter();
    let (kind, path) = [
        (ImportKind::Items, args.items),
        (ImportKind::Interactions, args.interactions),
        (ImportKind::Orders, args.orders),
        (ImportKind::MovieLens, args.movielens),
        (ImportKind::Auto, files.next()),
    ]
    .into_iter()
    .find_map(|(kind, path)| Some((kind, path?)))
    .context("name a file to import: FILE…, or --items, --interactions, --orders or --movielens")?;
    let mut store = Store::open(&args.project.project)?;
    let request = ImportRequest {
        kind,
        path,
        also: files.collect(),
        overrides: args.overrides,
        options: ImportOptions {
            keep_variants: args.keep_variants,
            sheet: args.sheet,
            year: args.year,
        },
    };
    let report = with_progress(|job| run_import(&mut store, &request, job)).map_err(with_advice)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{report}");
    }
    Ok(())
}
