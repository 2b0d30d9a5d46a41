//! `cargo xtask <command>`: see `cargo xtask help`.

use std::process::{Command, ExitCode};
use std::time::Instant;

use xtask::outputs::{problems, write_images, Notebook};
use xtask::paths::KERNEL_DISPLAY_NAME;
use xtask::{browser, run, say, setup, Paths, Result};

const HELP: &str = "\
cargo xtask <command>

  tutorial   install what is missing, run every notebook headlessly, write the
             executed notebooks, HTML exports and figures under out/
  test       install what is missing, then run every test of the workspace
             (the notebook tests included)
  lab [--port N] [--dir DIR]
             install what is missing, then open JupyterLab on notebooks/ (or
             DIR) with the Rust (geoxr) kernel, bound to 127.0.0.1 on port N
             (default 8888; the command fails if N is taken)
  setup      only install what is missing
  fuzz [N] [SEED]
             open N (default 5000) damaged copies of NetCDF files with every read
             engine, each batch in a child process; report crashes, hangs and
             unclear errors (fails on those of the default engine)
  naturalearth
             re-make data/naturalearth/*.bin from the npm package world-atlas
";

fn main() -> ExitCode {
    let command = std::env::args().nth(1).unwrap_or_default();
    let paths = Paths::from_checkout();
    let result = match command.as_str() {
        "tutorial" => tutorial(&paths),
        "test" => test(&paths),
        "lab" => LabOptions::parse(std::env::args().skip(2)).and_then(|o| lab(&paths, &o)),
        "setup" => setup::all(&paths),
        "naturalearth" => xtask::naturalearth::convert(&paths),
        "fuzz" => fuzz(&paths),
        "help" | "--help" | "-h" => {
            print!("{HELP}");
            Ok(())
        }
        other => Err(format!("unknown command `{other}`\n\n{HELP}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("[xtask] error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn tutorial(paths: &Paths) -> Result<()> {
    let started = Instant::now();
    setup::all(paths)?;
    let out = paths.out();
    let mut failures = Vec::new();
    for notebook in run::notebooks(paths)? {
        let clock = Instant::now();
        let executed = run::execute(paths, &notebook, &out)?;
        let executing = clock.elapsed().as_secs_f64();
        let clock = Instant::now();
        let html = run::export_html(paths, &executed)?;
        let exporting = clock.elapsed().as_secs_f64();
        let parsed = Notebook::read(&executed)?;
        let stem = html
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("notebook");
        let prefix = html.with_file_name(format!("{stem}-chromium"));
        let page = browser::check_page(paths, &html, &prefix)?;
        let images = write_images(&parsed, &out)?;
        say("  seconds per cell:");
        let times = parsed.cell_times();
        for (first_line, seconds) in &times {
            say(format!("  {seconds:>7.2}  {first_line}"));
        }
        let in_cells: f64 = times.iter().map(|(_, s)| s).sum();
        let mut sorted: Vec<f64> = times.iter().map(|(_, s)| *s).collect();
        sorted.sort_by(f64::total_cmp);
        let median = sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN);
        say(format!(
            "  {in_cells:.1} s in cells (median cell {median:.2} s), {:.1} s starting the kernel and Jupyter, {exporting:.1} s exporting HTML",
            executing - in_cells
        ));
        say(format!("wrote {}", executed.display()));
        say(format!("wrote {}", html.display()));
        say(format!(
            "  opened in headless Chromium: {} images shown, {} script errors; screenshot {}",
            page.images.iter().filter(|i| i.0 && i.1 > 0).count(),
            page.script_errors.len(),
            page.screenshots
                .first()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        ));
        for image in &images {
            say(format!("wrote {}", image.display()));
        }
        failures.extend(
            page.problems()
                .into_iter()
                .map(|p| format!("{} (HTML export): {p}", notebook.display())),
        );
        failures.extend(
            problems(&parsed)
                .into_iter()
                .map(|p| format!("{}: {p}", notebook.display())),
        );
    }
    let kernel = run::latency(paths, &run::TRIVIAL_CELLS, run::STARTUP_TIMEOUT_S)?;
    say(format!(
        "kernel latency (warm, Jupyter's client): start {:.1} s (goal 10 s), shutdown {:.1} s",
        kernel.start, kernel.shutdown
    ));
    if let Some((evcxr, builds)) = kernel.start_cpu {
        say(format!(
            "  start CPU: {evcxr:.1} s in evcxr (rust-analyzer), {builds:.1} s in builds; load {}",
            std::fs::read_to_string("/proc/loadavg")
                .unwrap_or_default()
                .trim()
        ));
    }
    say(format!(
        "  trivial cells: median {:.2} s (goal 0.5 s) over {}: {}",
        kernel.median_cell(),
        kernel.cells.len(),
        kernel
            .cells
            .iter()
            .map(|c| format!("{:.2}", c.seconds))
            .collect::<Vec<_>>()
            .join(" ")
    ));
    failures.extend(
        kernel
            .cells
            .iter()
            .filter(|c| !c.stderr.is_empty())
            .map(|c| format!("latency cell `{}` wrote to stderr: {}", c.code, c.stderr)),
    );
    say(format!(
        "all notebooks ran in {:.1} s; results are in {}",
        started.elapsed().as_secs_f64(),
        out.display()
    ));
    say("to open the notebooks in JupyterLab (at 127.0.0.1): cargo xtask lab");
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("some cells failed:\n  {}", failures.join("\n  ")))
    }
}

fn fuzz(paths: &Paths) -> Result<()> {
    let arg = |i: usize, default: u64| -> Result<u64> {
        match std::env::args().nth(i) {
            None => Ok(default),
            Some(a) => a
                .parse()
                .map_err(|e| format!("fuzz: `{a}` is not a number: {e}")),
        }
    };
    let count = usize::try_from(arg(2, 5000)?).map_err(|e| format!("fuzz: {e}"))?;
    xtask::fuzz::xtask(paths, count, arg(3, 1)?)
}

fn test(paths: &Paths) -> Result<()> {
    setup::all(paths)?;
    say("running every test of the workspace (cargo test --workspace)");
    setup::run(
        Command::new("cargo")
            .current_dir(&paths.root)
            .args(["test", "--workspace"]),
    )
}

/// `cargo xtask lab` options.
#[derive(Debug)]
struct LabOptions {
    port: u16,
    dir: Option<std::path::PathBuf>,
}

impl LabOptions {
    fn parse(args: impl Iterator<Item = String>) -> Result<LabOptions> {
        let mut options = LabOptions {
            port: 8888,
            dir: None,
        };
        let mut args = args.peekable();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) => (f.to_owned(), Some(v.to_owned())),
                None => (arg.clone(), None),
            };
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .ok_or_else(|| format!("lab: `{flag}` needs a value"))
            };
            match flag.as_str() {
                "--port" => {
                    let v = value()?;
                    options.port = v
                        .parse()
                        .map_err(|e| format!("lab: port `{v}` is not a port number: {e}"))?;
                }
                "--dir" => options.dir = Some(value()?.into()),
                other => return Err(format!("lab: unknown option `{other}`\n\n{HELP}")),
            }
        }
        Ok(options)
    }
}

fn lab(paths: &Paths, options: &LabOptions) -> Result<()> {
    setup::all(paths)?;
    // A cold kernel compiles geoxr's dependencies, which takes longer than JupyterLab
    // waits for a kernel; one headless start fills evcxr's cache first.
    let warm = paths.build_area().join("warmup");
    std::fs::create_dir_all(&warm).map_err(|e| format!("{}: {e}", warm.display()))?;
    let notebook = warm.join("warmup.ipynb");
    std::fs::write(&notebook, WARMUP_NOTEBOOK)
        .map_err(|e| format!("{}: {e}", notebook.display()))?;
    say(format!(
        "starting the {KERNEL_DISPLAY_NAME} kernel once so JupyterLab finds it warm"
    ));
    run::execute(paths, &notebook, &warm.join("out"))?;
    let dir = options.dir.clone().unwrap_or_else(|| paths.notebooks());
    say(format!(
        "opening JupyterLab on {} at 127.0.0.1:{}; the URL with its token follows. Ctrl-C stops it.",
        dir.display(),
        options.port
    ));
    let mut lab = Command::new(paths.venv_bin("jupyter"));
    lab.current_dir(&dir)
        .args(["lab", "--ip=127.0.0.1", "--no-browser"])
        .arg(format!("--port={}", options.port))
        // A taken port is an error, not a quiet move to the next one.
        .arg("--ServerApp.port_retries=0")
        .arg("--MappingKernelManager.default_kernel_name=geoxr");
    // Containers and CI machines often run as root, which JupyterLab refuses
    // unless told; the server still listens on 127.0.0.1 only.
    if setup::output(Command::new("id").arg("-u")).is_ok_and(|uid| uid.trim() == "0") {
        lab.arg("--allow-root");
    }
    setup::run(&mut lab)
}

const WARMUP_NOTEBOOK: &str = r#"{
 "cells": [{"cell_type": "code", "execution_count": null, "id": "warm", "metadata": {},
            "outputs": [], "source": ["cpu_count()"]}],
 "metadata": {"kernelspec": {"display_name": "Rust (geoxr)", "language": "rust", "name": "geoxr"}},
 "nbformat": 4, "nbformat_minor": 5
}
"#;
