//! `strata import`: files recognised from their header, or a catalogue, histories, an orders
//! export or a MovieLens folder named by its flag.

use anyhow::Context as _;
use strata::import::{ImportKind, ImportOptions, ImportRequest, check_import, run_import};
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
    let project = &args.project.project;
    let report = if args.dry_run {
        // A dry run reads against the project when there is one, and creates none.
        let store = if project.exists() {
            Some(Store::open(project)?)
        } else {
            None
        };
        with_progress(|job| check_import(store.as_ref(), &request, job))
    } else {
        let mut store = Store::open(project)?;
        with_progress(|job| run_import(&mut store, &request, job))
    }
    .map_err(with_advice)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{report}");
    }
    Ok(())
}
