//! No damaged file can take a notebook down: damaged copies of real NetCDF files (an
//! IMERG-layout day from geoxr's generator, files written by netCDF4-python and h5py,
//! NetCDF-3 classic and 64-bit offset) are opened and fully loaded by `geoxr-probe`,
//! each batch in a child process with a timeout. A signal, an abort, a panic or a hang
//! fails the test, and so does an error that does not name the file and say it is
//! damaged, truncated or not NetCDF. Failing mutants stay under
//! `target/tmp/damaged_files/mutants/`, with the command that reproduces each.
//!
//! The mutation code and the campaign are `xtask::fuzz`, shared with
//! `cargo xtask fuzz N`, which runs many more mutants and also the libnetcdf engine.
//!
//! The Python seeds need netCDF4 and h5py: the project venv made by
//! `cargo xtask setup`, or `GEOXR_PYTHON`.

use std::path::{Path, PathBuf};

use xtask::fuzz::{self, Campaign, Verdict};

/// The seed of the mutants this test runs; `cargo xtask fuzz` uses others.
const PLAN_SEED: u64 = 0x6e65_7463_6466;
/// Mutants in this test: a fixed slice, kept under a minute on two cores.
const MUTANTS: usize = 1500;

fn work_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("damaged_files")
}

#[test]
fn damaged_files_are_refused_cleanly_never_crash() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = fuzz::python(&root).unwrap_or_else(|e| panic!("{e}"));
    let dir = work_dir();
    let seeds = fuzz::seeds(
        &dir.join("seeds"),
        Path::new(env!("CARGO_BIN_EXE_imerg-sample")),
        &python,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<String> = seeds.iter().map(|s| s.name()).collect();
    assert_eq!(
        names,
        ["3B-DAY", "classic", "h5py", "netcdf4py", "offset64"],
        "the seed files"
    );
    let probe = env!("CARGO_BIN_EXE_geoxr-probe");

    // The intact files open and load, so what the mutants show is their damage.
    let intact = Campaign::new(probe, dir.join("intact"))
        .run(&seeds, &identity_mutants(seeds.len()))
        .unwrap_or_else(|e| panic!("{e}"));
    for o in &intact.outcomes {
        assert!(
            matches!(o.verdict, Verdict::Opened(_)),
            "the intact {} does not load: {:?}",
            names[o.mutant.seed],
            o.verdict
        );
    }

    let mutants = fuzz::plan(&seeds, MUTANTS, PLAN_SEED);
    let report = Campaign::new(probe, dir.join("mutants"))
        .run(&seeds, &mutants)
        .unwrap_or_else(|e| panic!("{e}"));
    println!("{}", report.summary());
    assert!(
        report.passed(),
        "{} of {} damaged files crashed, hung or gave an unclear error:\n{}\n{}",
        report
            .outcomes
            .iter()
            .filter(|o| o.verdict.failed())
            .count(),
        report.outcomes.len(),
        report.failures(),
        report.summary()
    );
    // Both answers occur, so the messages were checked and loading did run.
    let refused = report
        .outcomes
        .iter()
        .filter(|o| matches!(o.verdict, Verdict::Refused(_)))
        .count();
    let opened = report
        .outcomes
        .iter()
        .filter(|o| matches!(o.verdict, Verdict::Opened(_)))
        .count();
    assert!(
        refused > 100 && opened > 10,
        "refused {refused}, opened {opened}"
    );
}

/// One unchanged copy of each seed, as mutants of the campaign.
fn identity_mutants(seeds: usize) -> Vec<fuzz::Mutant> {
    (0..seeds)
        .map(|seed| fuzz::Mutant {
            index: seed,
            seed,
            mutation: fuzz::Mutation::Flips(Vec::new()),
            target: fuzz::Target::Anywhere,
        })
        .collect()
}
