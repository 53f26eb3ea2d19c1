//! Strata's core library: project store, importers and the pipeline that the
//! command line and the desktop app both drive.
//!
//! Nothing here outside [`gui`] knows that a user interface exists: the `gui` feature holds
//! every window crate, and the library builds without it (`scripts/test` checks the tree).

pub mod demo;
pub mod embed;
pub mod export;
#[cfg(feature = "gui")]
pub mod gui;
pub mod import;
pub mod layers;
pub mod linalg;
pub mod map;
pub mod memory;
pub mod pipeline;
pub mod recommend;
pub mod store;
pub mod text;
