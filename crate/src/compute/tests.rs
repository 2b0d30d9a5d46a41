//! Limits hold on data too large for the machine: every door from lazy to memory
//! refuses, with the sizes, what cannot fit, instead of aborting the process.

use std::path::Path;
use std::time::Duration;

use crate::base::child;
use crate::{open_dataset, Client, Computable, Error};

/// Writes a 200 000 × 200 000 float32 variable with nothing written: a tiny file
/// whose variable would take 160 GB in memory.
fn write_huge(path: &Path) {
    let mut file = netcdf::create(path).unwrap();
    file.add_dimension("y", 200_000).unwrap();
    file.add_dimension("x", 200_000).unwrap();
    file.add_variable::<f32>("big", &["y", "x"]).unwrap();
    file.close().unwrap();
}

fn refused<T: std::fmt::Debug>(what: &str, r: crate::Result<T>, needles: &[&str]) -> Error {
    let err = r.expect_err(what);
    let message = err.to_string();
    for n in needles {
        assert!(message.contains(n), "{what}: `{message}` should say `{n}`");
    }
    err
}

#[test]
fn a_variable_larger_than_memory_is_refused_everywhere() {
    if child::role().is_none() {
        // In a child: if anything still allocated 160 GB, the abort fails this test
        // instead of ending the test run.
        child::run(
            "compute::tests::a_variable_larger_than_memory_is_refused_everywhere",
            "child",
            Duration::from_secs(120),
        )
        .assert_success();
        return;
    }
    let dir = std::env::temp_dir().join(format!("geoxr-huge-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("huge.nc");
    write_huge(&path);
    let big = open_dataset(&path)
        .unwrap()
        .get("big")
        .into_result()
        .unwrap();

    let err = refused("load", big.load(), &["big", "160.0 GB"]);
    assert!(matches!(err, Error::OutOfMemory { .. }), "{err:?}");
    refused("persist", big.persist(), &["big", "160.0 GB"]);
    let client = Client::new().memory_limit("1GB").unwrap();
    for dim in ["x", "y"] {
        let mean = big.mean(dim).into_result().unwrap();
        let err = refused("mean under 1GB", client.load(&mean), &["1.0 GB"]);
        assert!(matches!(err, Error::MemoryLimit { .. }), "{dim}: {err:?}");
        refused("mean without a client", mean.load(), &["available"]);
    }
    refused(
        "load under 1GB",
        client.load(&big),
        &["big", "160.0 GB", "1.0 GB"],
    );
    refused(
        "persist under 1GB",
        client.persist(&big),
        &["big", "1.0 GB"],
    );
    let out = dir.join("out.nc");
    refused("to_netcdf", big.to_netcdf(&out), &["out.nc"]);
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(left.len(), 1, "only the input remains: {left:?}");
    // Loading through the trait on a dataset refuses too.
    let ds = open_dataset(&path).unwrap();
    refused("dataset load", client.run(|| ds.load_here()), &["big"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn huge_memory_limits_and_thread_counts_are_refused_or_capped() {
    assert!(crate::parse_bytes(&"9".repeat(400)).is_err());
    assert!(crate::parse_bytes("99999999999999999999999TB").is_err());
    assert!(crate::parse_bytes("1EiB").is_err(), "unknown unit");
    let c = Client::new()
        .n_workers(usize::MAX)
        .threads_per_worker(usize::MAX)
        .memory_limit("1024TiB")
        .unwrap();
    assert_eq!(c.threads(), 1024);
    assert_eq!(c.memory_limit_total(), Some(1024u64.pow(5) * 1024));
    assert!(c.to_string().contains("Workers: 1024"), "{c}");
}
