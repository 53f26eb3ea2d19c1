//! Issue 16, "crash-safe": the real `strata` process is killed (SIGKILL) at 20 seeded random
//! points during import, embedding, layering and update. Every time, the project opens, passes
//! `PRAGMA integrity_check`, holds either the state from before the killed step or the state
//! after it, and running the step again completes with the state a run that was never killed
//! gives.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::online_retail_slices;
use rand::{Rng, SeedableRng};

/// What a step leaves in a project, as far as the step promises it: the catalogue, histories and
/// import log, which vectors are current, and the layer runs with their items. (The embedding
/// cache may hold a killed run's finished batches: it is a cache, and the next run uses them.)
#[derive(Debug, PartialEq)]
struct State {
    items: i64,
    users: i64,
    interactions: i64,
    imports: i64,
    embedding: Option<String>,
    layer_runs: Vec<(i64, i64)>,
    item_layers: i64,
}

fn state(project: &Path) -> State {
    let db = rusqlite::Connection::open(project).unwrap();
    let check: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok", "{}", project.display());
    let count = |sql: &str| db.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    let mut runs = db
        .prepare(
            "SELECT r.run_id, (SELECT count(*) FROM layers l WHERE l.run_id = r.run_id) \
             FROM layer_runs r ORDER BY r.run_id",
        )
        .unwrap();
    let layer_runs = runs
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    State {
        items: count("SELECT count(*) FROM items"),
        users: count("SELECT count(*) FROM users"),
        interactions: count("SELECT count(*) FROM interactions"),
        imports: count("SELECT count(*) FROM imports"),
        embedding: db
            .query_row("SELECT value FROM meta WHERE key = 'embedding'", [], |r| {
                r.get(0)
            })
            .ok(),
        layer_runs,
        item_layers: count("SELECT count(*) FROM item_layers"),
    }
}

fn strata(project: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_strata"));
    command
        .args(args)
        .args(["--project", project.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

/// Copies a project that no process has open (its WAL checkpointed away, if it ever had one).
fn copy_project(from: &Path, to: &Path) {
    for suffix in ["-wal", "-shm"] {
        assert!(
            !PathBuf::from(format!("{}{suffix}", from.display())).exists(),
            "{} was left open",
            from.display()
        );
    }
    std::fs::copy(from, to).unwrap();
}

fn run_to_end(project: &Path, args: &[&str]) -> Duration {
    let started = Instant::now();
    let out = strata(project, args).output().unwrap();
    assert!(
        out.status.success(),
        "strata {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    started.elapsed()
}

#[test]
fn killed_at_20_random_points_the_project_keeps_the_old_or_the_new_state_issue_16() {
    let dir = tempfile::tempdir().unwrap();
    // A week of Online Retail's orders, then the next day's: small enough for 20 kills in
    // the debug build, real enough to have every step do its work.
    let slices = online_retail_slices(dir.path(), &["2010-12-08", "2010-12-09"]);
    let (week, day) = (slices[0].to_str().unwrap(), slices[1].to_str().unwrap());
    let steps: [(&str, Vec<&str>); 6] = [
        ("import", vec!["import", "--orders", week]),
        ("embed", vec!["embed", "--lsa"]),
        ("layer", vec!["layer"]),
        ("import", vec!["import", "--orders", day]),
        ("embed", vec!["embed", "--lsa"]),
        ("update", vec!["layer", "--update"]),
    ];

    // The run that is never killed: each step's starting project, end state and time.
    let reference = dir.path().join("reference.strata");
    drop(strata::store::Store::open(&reference).unwrap());
    let mut starts = Vec::new();
    let mut ends = Vec::new();
    let mut durations = Vec::new();
    for (i, (_, args)) in steps.iter().enumerate() {
        let start = dir.path().join(format!("start-{i}.strata"));
        copy_project(&reference, &start);
        starts.push(start);
        durations.push(run_to_end(&reference, args));
        ends.push(state(&reference));
    }
    assert!(ends[5].layer_runs.len() == 2 && ends[5].items > ends[2].items);
    eprintln!("step times (debug build): {durations:?}");

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(16);
    let mut killed_running = 0;
    let mut left_old = 0;
    for point in 0..20 {
        let step = point % steps.len();
        let (what, args) = &steps[step];
        let project = dir.path().join(format!("killed-{point}.strata"));
        copy_project(&starts[step], &project);
        let before = state(&starts[step]);
        // Somewhere in the step's time, startup and the final write included.
        let delay = durations[step].mul_f64(rng.gen_range(0.02..1.0));
        let mut child = strata(&project, args).spawn().unwrap();
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_none() {
            killed_running += 1;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        let after_kill = state(&project);
        let as_before = after_kill == before;
        let as_after = after_kill == ends[step];
        assert!(
            as_before || as_after,
            "killed {what} (point {point}, after {delay:?}): neither the old nor the new state: \
             {after_kill:?}\nold: {before:?}\nnew: {:?}",
            ends[step]
        );
        // Opened by Strata itself, and the step runs to the same end as the reference.
        strata::store::Store::open(&project).unwrap();
        if as_before {
            left_old += 1;
            run_to_end(&project, args);
        }
        assert_eq!(
            state(&project),
            ends[step],
            "{what} rerun after the kill at point {point}"
        );
    }
    eprintln!(
        "{killed_running} of 20 kills landed while the step was running; {left_old} left the old \
         state, {} the new",
        20 - left_old
    );
    assert!(
        killed_running >= 15,
        "only {killed_running} of 20 kills landed while the step was running"
    );
}
