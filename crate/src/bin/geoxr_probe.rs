//! Opens NetCDF files with geoxr, loads every variable fully, and prints one line per
//! file: what it holds, or the error geoxr returned. It exits 0 either way; a crash,
//! panic or hang of this program is what the damaged-file tests look for.
//!
//! Usage: `geoxr-probe [--engine NAME] PATH_OR_GLOB...`, or `geoxr-probe --engines`
//! to list the read engines, the default first.
//!
//! Each argument is opened with `open_dataset`, or with `open_mfdataset` when it holds
//! a glob character (`*`, `?`, `[`). Output lines are tab-separated and flushed one by
//! one, so a parent that sees the process die knows which file it was on:
//!
//! ```text
//! ok<TAB>PATH<TAB>7 variables, 1378004 values, 12 NaN
//! err<TAB>PATH<TAB>the error, on one line
//! ```

use std::io::Write;
use std::process::ExitCode;

use geoxr::{Dataset, Engine, OpenOptions, Result};

/// The read engines, the default first.
fn engines() -> Vec<Engine> {
    let default = Engine::default();
    let others = [Engine::Rust, Engine::Libnetcdf];
    std::iter::once(default)
        .chain(others.into_iter().filter(|e| *e != default))
        .collect()
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--engines") {
        for engine in engines() {
            println!("{engine}");
        }
        return ExitCode::SUCCESS;
    }
    let mut options = OpenOptions::new();
    if args.first().is_some_and(|a| a == "--engine") && args.len() > 1 {
        let name = args.remove(1);
        args.remove(0);
        match engines().into_iter().find(|e| e.to_string() == name) {
            Some(engine) => options = options.engine(engine),
            None => {
                eprintln!("geoxr-probe: unknown engine `{name}`; see --engines");
                return ExitCode::from(2);
            }
        }
    }
    if args.is_empty() || args.iter().any(|a| a == "-h" || a == "--help") {
        eprintln!("usage: geoxr-probe [--engine NAME] PATH_OR_GLOB... | --engines");
        return ExitCode::from(2);
    }
    let stdout = std::io::stdout();
    for arg in &args {
        let line = match probe(&options, arg) {
            Ok(summary) => format!("ok\t{arg}\t{summary}"),
            Err(e) => format!("err\t{arg}\t{}", one_line(&e.to_string())),
        };
        let mut out = stdout.lock();
        if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

/// Opens and fully loads one file or glob; returns a short summary of its contents.
fn probe(options: &OpenOptions, arg: &str) -> Result<String> {
    let ds = if arg.contains(['*', '?', '[']) {
        options.open_mfdataset(arg)?
    } else {
        options.open_dataset(arg)?
    };
    Ok(summary(&ds.load()?))
}

fn summary(ds: &Dataset) -> String {
    let (mut values, mut nan) = (0usize, 0usize);
    let vars = ds.coords().iter().chain(ds.data_vars());
    for (_, v) in vars.clone() {
        let data = v.values().map(|a| a.to_f64_vec()).unwrap_or_default();
        values += data.len();
        nan += data.iter().filter(|x| x.is_nan()).count();
    }
    format!("{} variables, {values} values, {nan} NaN", vars.count())
}

/// Error text with its line breaks and tabs made visible, so it fits one output line.
fn one_line(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('\t', "\\t")
        .replace('\r', "\\r")
}
