//! Executing notebooks headlessly with Jupyter's own client (nbconvert's
//! `--execute`, which drives nbclient) on the real "Rust (geoxr)" kernel.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::paths::{Paths, KERNEL_NAME};
use crate::setup::run;
use crate::{say, Result};

/// Seconds Jupyter waits for the kernel to start: a cold start compiles geoxr's
/// dependencies inside evcxr (about 2 minutes here), far past Jupyter's default 60 s.
pub const STARTUP_TIMEOUT_S: u64 = 1200;
/// Seconds one cell may run.
pub const CELL_TIMEOUT_S: u64 = 1800;

/// The committed notebooks, in name order.
pub fn notebooks(paths: &Paths) -> Result<Vec<PathBuf>> {
    let dir = paths.notebooks();
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "ipynb"))
        .collect();
    found.sort();
    Ok(found)
}

/// Executes `notebook` (in its own folder, so relative data paths work) and writes
/// the executed copy into `out_dir`; returns its path. Errors inside cells do not
/// stop the run: check the result with [`crate::outputs::problems`].
pub fn execute(paths: &Paths, notebook: &Path, out_dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let name = notebook
        .file_name()
        .ok_or_else(|| format!("{} is not a notebook file", notebook.display()))?;
    let started = Instant::now();
    say(format!(
        "executing {} on the {KERNEL_NAME} kernel",
        notebook.display()
    ));
    run(Command::new(paths.venv_bin("jupyter"))
        .current_dir(notebook.parent().unwrap_or(Path::new(".")))
        .arg("nbconvert")
        .arg("--to=notebook")
        .arg("--execute")
        .arg("--allow-errors")
        .arg(format!("--ExecutePreprocessor.kernel_name={KERNEL_NAME}"))
        .arg(format!(
            "--ExecutePreprocessor.startup_timeout={STARTUP_TIMEOUT_S}"
        ))
        .arg(format!("--ExecutePreprocessor.timeout={CELL_TIMEOUT_S}"))
        .arg("--output-dir")
        .arg(out_dir)
        .arg(notebook)
        .env("JUPYTER_PLATFORM_DIRS", "1"))?;
    say(format!(
        "  done in {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    Ok(out_dir.join(name))
}

/// Exports an executed notebook to a standalone HTML page beside it.
pub fn export_html(paths: &Paths, executed: &Path) -> Result<PathBuf> {
    let dir = executed.parent().unwrap_or(Path::new("."));
    run(Command::new(paths.venv_bin("jupyter"))
        .arg("nbconvert")
        .arg("--to=html")
        .arg("--log-level=WARN")
        .arg("--output-dir")
        .arg(dir)
        .arg(executed))?;
    Ok(executed.with_extension("html"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_notebooks_carry_no_outputs_and_use_the_geoxr_kernel() {
        let paths = Paths::from_checkout();
        let found = notebooks(&paths).unwrap();
        assert!(found.len() >= 2, "{found:?}");
        for path in found {
            let text = std::fs::read_to_string(&path).unwrap();
            let json: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(
                json["metadata"]["kernelspec"]["name"],
                KERNEL_NAME,
                "{}",
                path.display()
            );
            for cell in json["cells"].as_array().unwrap() {
                if cell["cell_type"] == "code" {
                    let outputs = cell["outputs"].as_array().map_or(0, Vec::len);
                    assert_eq!(outputs, 0, "{}: outputs committed", path.display());
                    assert!(cell["execution_count"].is_null(), "{}", path.display());
                }
            }
        }
    }
}
