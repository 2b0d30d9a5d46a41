//! Shared set-up of the end-to-end tests: run a committed notebook through Jupyter
//! on the real "Rust (geoxr)" kernel, once per test process, and hand out what it
//! showed.

use std::path::PathBuf;

use xtask::outputs::Notebook;
use xtask::{run, Paths};

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
