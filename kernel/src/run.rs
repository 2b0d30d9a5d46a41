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

/// Trivial cells the latency check times: what a user types between real work.
pub const TRIVIAL_CELLS: [&str; 11] = [
    "let a = 1 + 1;",
    "cpu_count()",
    "a",
    "let b = a * 2;",
    "cpu_count()",
    "b",
    "let c = a + b;",
    "cpu_count()",
    "c",
    "let d = c + 1;",
    "cpu_count()",
];

/// One timed cell.
#[derive(Debug, Clone)]
pub struct LatencyCell {
    /// The code run.
    pub code: String,
    /// Seconds from request to reply.
    pub seconds: f64,
    /// What the cell wrote to stderr (errors land there).
    pub stderr: String,
    /// The cell's `text/plain` result.
    pub text: String,
}

/// How the kernel answers a user: seconds from launch until it accepts cells, each
/// trivial cell's seconds, and the seconds shutting it down.
#[derive(Debug, Clone)]
pub struct Latency {
    /// Launch until the kernel answers `kernel_info` (what Jupyter waits for).
    pub start: f64,
    /// CPU seconds of that start: in evcxr_jupyter itself (its rust-analyzer), and in
    /// the builds it waited for; `None` when the process could not be read. Unlike
    /// `start`, these barely move with the machine's load.
    pub start_cpu: Option<(f64, f64)>,
    /// Each cell: its code, seconds, what it wrote to stderr, its text result.
    pub cells: Vec<LatencyCell>,
    /// Shutdown request until the kernel process is gone.
    pub shutdown: f64,
}

impl Latency {
    /// Median seconds of the timed cells.
    pub fn median_cell(&self) -> f64 {
        let mut s: Vec<f64> = self.cells.iter().map(|c| c.seconds).collect();
        s.sort_by(f64::total_cmp);
        s.get(s.len() / 2).copied().unwrap_or(f64::NAN)
    }
}

/// Starts the kernel once more with Jupyter's client (`kernel/latency.py`), runs
/// `cells` and shuts it down, timing each step; the start may take up to
/// `startup_timeout_s` seconds.
pub fn latency(paths: &Paths, cells: &[&str], startup_timeout_s: u64) -> Result<Latency> {
    let script = paths.root.join("kernel").join("latency.py");
    let printed = crate::setup::output(
        Command::new(paths.venv_bin("python"))
            .arg(&script)
            .arg(KERNEL_NAME)
            .arg(startup_timeout_s.to_string())
            .args(cells)
            .env("JUPYTER_PLATFORM_DIRS", "1"),
    )?;
    let line = printed.lines().last().unwrap_or_default();
    Latency::from_json(line).map_err(|e| format!("{}: {e}", script.display()))
}

impl Latency {
    /// Reads the JSON line `kernel/latency.py` prints.
    fn from_json(line: &str) -> Result<Latency> {
        let json: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("printed `{line}`: {e}"))?;
        Ok(Latency::from_value(&json))
    }

    fn from_value(json: &serde_json::Value) -> Latency {
        let number = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN);
        Latency {
            start: number(&json["start"]),
            start_cpu: json["start_cpu"]
                .as_array()
                .filter(|a| a.len() == 2)
                .map(|a| (number(&a[0]), number(&a[1]))),
            cells: json["cells"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|c| {
                            let text = |i: usize| c[i].as_str().unwrap_or_default().to_owned();
                            LatencyCell {
                                code: text(0),
                                seconds: number(&c[1]),
                                stderr: text(2),
                                text: text(3),
                            }
                        })
                        .collect()
                })
                .unwrap_or_default(),
            shutdown: number(&json["shutdown"]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `kernel/latency.py` prints reaches the tutorial's report, the start's CPU
    /// seconds included, and a kernel whose process could not be read has none.
    #[test]
    fn the_latency_line_gives_start_cpu_cells_and_shutdown() {
        let line = r#"{"start": 15.3, "start_cpu": [7.46, 2.07], "cells": [["let a = 1 + 1;", 1.6, "", ""], ["cpu_count()", 0.77, "", "2"]], "shutdown": 0.71}"#;
        let l = Latency::from_json(line).unwrap();
        assert_eq!(l.start, 15.3);
        assert_eq!(l.start_cpu, Some((7.46, 2.07)));
        assert_eq!(l.cells.len(), 2);
        assert_eq!(
            (l.cells[1].code.as_str(), l.cells[1].text.as_str()),
            ("cpu_count()", "2")
        );
        assert_eq!(l.median_cell(), 1.6);
        let none = Latency::from_json(
            r#"{"start": 9.0, "start_cpu": null, "cells": [], "shutdown": 1.0}"#,
        )
        .unwrap();
        assert_eq!(none.start_cpu, None);
        assert!(Latency::from_json("Traceback (most recent call last)").is_err());
    }

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
