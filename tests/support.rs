//! Shared set-up of the end-to-end tests: run a committed notebook through Jupyter
//! on the real "Rust (geoxr)" kernel, once per test process, and hand out what it
//! showed.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use xtask::outputs::Notebook;
use xtask::{run, Paths};

/// The checkout, once the notebook set-up is in place (panics with the hint
/// otherwise).
pub fn checkout() -> Paths {
    let paths = Paths::from_checkout();
    require_setup(&paths).unwrap_or_else(|e| panic!("{e}"));
    paths
}

/// Executes `notebooks/<name>` headlessly into `target/notebook/test-runs/` and reads
/// the result. Fails with a hint when the set-up (`cargo xtask test`) has not run.
pub fn execute_notebook(name: &str) -> Result<Notebook, String> {
    let paths = Paths::from_checkout();
    require_setup(&paths)?;
    let notebook: PathBuf = paths.notebooks().join(name);
    let out = paths.build_area().join("test-runs");
    let executed = run::execute(&paths, &notebook, &out)?;
    Notebook::read(&executed)
}

/// Fails with a hint when the notebook set-up (`cargo xtask test`) has not run.
pub fn require_setup(paths: &Paths) -> Result<(), String> {
    let missing: Vec<String> = [
        paths.kernel_spec_dir().join("kernel.json"),
        paths.venv_bin("jupyter"),
        paths.imerg_data().join(".geoxr-sample"),
    ]
    .into_iter()
    .filter(|p| !p.exists())
    .map(|p| p.display().to_string())
    .collect();
    if !missing.is_empty() {
        return Err(format!(
            "the notebook set-up is missing ({}); run the tests with `cargo xtask test`, \
             which installs it",
            missing.join(", ")
        ));
    }
    Ok(())
}

/// Asserts that each screenshot is a real picture (more than 10 colours), not a
/// blank or single-colour box.
pub fn assert_pictures(shots: &[PathBuf]) {
    for shot in shots {
        let colours = distinct_colours(shot);
        assert!(colours > 10, "{}: {colours} colours", shot.display());
    }
}

/// Number of distinct RGB colours of a PNG file.
pub fn distinct_colours(png: &Path) -> usize {
    let img = image::open(png)
        .unwrap_or_else(|e| panic!("{}: not a PNG screenshot: {e}", png.display()))
        .to_rgb8();
    img.pixels()
        .map(|p| p.0)
        .collect::<HashSet<[u8; 3]>>()
        .len()
}
