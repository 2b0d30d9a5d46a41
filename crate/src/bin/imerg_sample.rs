//! Writes IMERG-like daily sample files (see `geoxr::sample`).
//!
//! Usage: `imerg-sample [--out DIR] [--days N] [--seed S] [--calendar julian|standard]`

use std::process::ExitCode;
use std::time::Instant;

use geoxr::sample::SampleSpec;
use geoxr::Calendar;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("imerg-sample: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut spec = SampleSpec::tutorial();
    let mut out = String::from("data/IMERG");
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--out" => out = value()?,
            "--days" => spec = spec.days(value()?.parse().map_err(|e| format!("--days: {e}"))?),
            "--seed" => spec = spec.seed(value()?.parse().map_err(|e| format!("--seed: {e}"))?),
            "--calendar" => {
                let name = value()?;
                let calendar =
                    Calendar::parse(&name).ok_or_else(|| format!("unknown calendar `{name}`"))?;
                spec = spec.calendar(calendar);
            }
            "-h" | "--help" => {
                println!(
                    "imerg-sample [--out DIR] [--days N] [--seed S] [--calendar julian|standard]"
                );
                return Ok(());
            }
            other => return Err(format!("unknown argument `{other}` (try --help)")),
        }
    }
    let started = Instant::now();
    let files = spec.write_to(&out).map_err(|e| e.to_string())?;
    println!(
        "wrote {} IMERG-like daily files to {out} in {:.1} s",
        files.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
