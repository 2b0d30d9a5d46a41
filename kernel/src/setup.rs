//! Installs what is missing, and only that: the system NetCDF library, Open MPI and
//! the MPI worker, the evcxr kernel, the Python venv with Jupyter, the kernel spec,
//! the sample data and the browser that checks the HTML exports. Each
//! step checks first and says what it does; a second run skips everything in
//! seconds.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::paths::{Paths, EVCXR_VERSION, KERNEL_DISPLAY_NAME, KERNEL_NAME};
use crate::{say, Result};

/// Number of days in the tutorial's sample set, and its seed and calendar.
pub const SAMPLE_DAYS: usize = 303;
const SAMPLE_SEED: u64 = 2018;
const SAMPLE_CALENDAR: &str = "julian";
/// Bumped whenever the generator's output changes, so old sample files are redone.
const SAMPLE_VERSION: u32 = 2;

/// Runs a command, failing with its name and exit status.
pub fn run(command: &mut Command) -> Result<()> {
    let status = command
        .status()
        .map_err(|e| format!("cannot start {:?}: {e}", command.get_program()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed ({status})"))
    }
}

/// Runs a command and returns its standard output.
pub fn output(command: &mut Command) -> Result<String> {
    let out = command
        .output()
        .map_err(|e| format!("cannot start {:?}: {e}", command.get_program()))?;
    if !out.status.success() {
        return Err(format!(
            "{command:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Every set-up step. evcxr's build, by far the longest, runs in the background
/// while the Python venv, Open MPI, the one release build of the sample generator
/// and the MPI worker, the sample data and the browser install; then the kernel is
/// started once so that it compiles geoxr before the first notebook needs it. Each
/// step that did something says how long it took.
pub fn all(paths: &Paths) -> Result<()> {
    let started = Instant::now();
    timed("the NetCDF library", netcdf_library)?;
    timed("the lld linker", fast_linker)?;
    timed("the Rust library source", || {
        rust_src();
        Ok(())
    })?;
    let evcxr = std::thread::scope(|s| {
        let evcxr = s.spawn(|| timed("evcxr_jupyter", || evcxr_jupyter(paths)));
        let rest = timed("the Python venv", || python_venv(paths))
            .and_then(|()| timed("Open MPI", mpi_libraries))
            .and_then(|()| {
                timed("the release build (sample generator, MPI worker)", || {
                    release_binaries(paths)
                })
            })
            .and_then(|()| timed("the sample data", || sample_data(paths)))
            .and_then(|()| timed("the browser", || crate::browser::install(paths)));
        let evcxr = evcxr
            .join()
            .unwrap_or_else(|_| Err("the evcxr_jupyter install stopped".into()));
        rest.and(evcxr)
    })?;
    kernel_spec(paths, &evcxr)?;
    timed("the kernel's build of geoxr", || warm_kernel(paths))?;
    say(format!(
        "set-up done in {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// Runs one step; says how long it took when it did any work (over a second).
fn timed<T>(what: &str, step: impl FnOnce() -> Result<T>) -> Result<T> {
    let clock = Instant::now();
    let result = step();
    let seconds = clock.elapsed().as_secs_f64();
    if seconds > 1.0 {
        say(format!("  {what}: {seconds:.1} s"));
    }
    result
}

/// The system libnetcdf (Debian `libnetcdf-dev`), which the `netcdf` crate links.
/// The kernel needs the shared system library: a static build is copied into each
/// notebook cell and files opened in one cell fail in the next.
pub fn netcdf_library() -> Result<()> {
    let present = Path::new("/usr/include/netcdf.h").exists()
        || Command::new("nc-config")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
    if present {
        return Ok(());
    }
    say("installing the NetCDF C library: apt-get install libnetcdf-dev (about 30 s)");
    apt_install(&["libnetcdf-dev"])
}

/// LLVM's linker (Debian `lld`). evcxr links every notebook cell into a shared
/// library and picks `ld.lld` by itself when it is on the PATH; measured here, it cuts
/// the median trivial cell from 0.77 s to 0.61 s.
pub fn fast_linker() -> Result<()> {
    let present = Command::new("ld.lld")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if present {
        return Ok(());
    }
    say("installing the lld linker, which the kernel links each cell with: apt-get install lld (about 20 s)");
    apt_install(&["lld"])
}

/// The standard library's source (rustup's `rust-src`). evcxr's rust-analyzer reads
/// it to infer the type of every `let` in a cell (`?`, `Vec`, `String` are std's);
/// when it is missing, rust-analyzer runs `rustup component add rust-src` itself
/// during the first kernel start, silently, inside Jupyter's start-up timeout. Done
/// here it is said and timed. A failure is reported, not fatal: the kernel still
/// starts, but a `let` whose type needs std to infer then fails with evcxr's
/// "Couldn't automatically determine type of variable".
pub fn rust_src() {
    let sysroot = output(Command::new("rustc").args(["--print", "sysroot"]))
        .map(|s| PathBuf::from(s.trim()))
        .unwrap_or_default();
    if sysroot.join("lib/rustlib/src/rust/library/core").is_dir() {
        return;
    }
    say("installing the Rust library source that the kernel's rust-analyzer reads: rustup component add rust-src (about 10 s)");
    if let Err(e) = run(Command::new("rustup").args(["component", "add", "rust-src"])) {
        say(format!(
            "warning: rust-src could not be installed ({e}); cells may fail to infer the types of their variables"
        ));
    }
}

/// Open MPI (Debian `openmpi-bin`, `libopenmpi-dev`) and libclang (`libclang-dev`,
/// which the `mpi` crate's bindings are generated with), needed to build the worker
/// `geoxr-mpi-worker` that `Client::mpi` starts.
pub fn mpi_libraries() -> Result<()> {
    let works = |program: &str, arg: &str| {
        Command::new(program)
            .arg(arg)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let mut missing = Vec::new();
    if !works("mpirun", "--version") {
        missing.push("openmpi-bin");
    }
    if !works("mpicc", "--showme:version") {
        missing.push("libopenmpi-dev");
    }
    if !libclang_present() {
        missing.push("libclang-dev");
    }
    if missing.is_empty() {
        return Ok(());
    }
    say(format!(
        "installing Open MPI and libclang for the MPI worker: apt-get install {} (about a minute)",
        missing.join(" ")
    ));
    apt_install(&missing)
}

/// The release binaries set-up needs, in one cargo build so that geoxr and its
/// dependencies compile once for both: the sample generator `imerg-sample` and the
/// MPI worker `geoxr-mpi-worker` (cargo skips what is up to date).
pub fn release_binaries(paths: &Paths) -> Result<()> {
    let worker = paths
        .root
        .join("target")
        .join("release")
        .join("geoxr-mpi-worker");
    if !worker.exists() {
        say("building the sample generator and the MPI worker (release; a few minutes the first time)");
    }
    run(Command::new("cargo").current_dir(&paths.root).args([
        "build",
        "--quiet",
        "--release",
        "--package",
        "geoxr",
        "--package",
        "geoxr-mpi",
        "--bin",
        "imerg-sample",
        "--bin",
        "geoxr-mpi-worker",
    ]))
}

/// Whether a libclang shared library is where bindgen looks for it.
fn libclang_present() -> bool {
    let has_libclang = |dir: &Path| {
        std::fs::read_dir(dir).is_ok_and(|entries| {
            entries.flatten().any(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.starts_with("libclang")
                    && name.contains(".so")
                    && !name.starts_with("libclang-cpp")
            })
        })
    };
    let mut dirs: Vec<PathBuf> = std::env::var_os("LIBCLANG_PATH")
        .map(PathBuf::from)
        .into_iter()
        .collect();
    dirs.push(PathBuf::from("/usr/lib/x86_64-linux-gnu"));
    dirs.push(PathBuf::from("/usr/lib/aarch64-linux-gnu"));
    if let Ok(entries) = std::fs::read_dir("/usr/lib") {
        dirs.extend(
            entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with("llvm-"))
                .map(|e| e.path().join("lib")),
        );
    }
    dirs.iter().any(|d| has_libclang(d))
}

/// `apt-get update` then `apt-get install` of `packages`, through sudo unless root.
pub fn apt_install(packages: &[&str]) -> Result<()> {
    let root = output(Command::new("id").arg("-u"))
        .map(|s| s.trim() == "0")
        .unwrap_or(false);
    let apt = |args: &[&str]| {
        let mut c = if root {
            Command::new("apt-get")
        } else {
            Command::new("sudo")
        };
        if !root {
            c.arg("apt-get");
        }
        c.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        c
    };
    run(&mut apt(&["update", "-q"]))?;
    let mut install = vec!["install", "-y", "-q"];
    install.extend_from_slice(packages);
    run(&mut apt(&install))
}

fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"))
}

/// The evcxr Jupyter kernel at the pinned version, installed with `cargo install`.
/// Cargo's output goes to `target/notebook/evcxr-install.log`, so that it does not
/// mix with the steps that run beside it.
pub fn evcxr_jupyter(paths: &Paths) -> Result<PathBuf> {
    let binary = cargo_home().join("bin").join("evcxr_jupyter");
    let installed = output(Command::new("cargo").args(["install", "--list"])).unwrap_or_default();
    let wanted = format!("evcxr_jupyter v{EVCXR_VERSION}:");
    if binary.exists() && installed.lines().any(|l| l.trim() == wanted) {
        return Ok(binary);
    }
    let log = paths.build_area().join("evcxr-install.log");
    std::fs::create_dir_all(paths.build_area())
        .map_err(|e| format!("{}: {e}", paths.build_area().display()))?;
    let file = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let copy = file
        .try_clone()
        .map_err(|e| format!("{}: {e}", log.display()))?;
    say(format!(
        "building evcxr_jupyter {EVCXR_VERSION} with `cargo install --locked` while the \
         other steps run (15-22 minutes on 2 cores, once per machine; log: {})",
        log.display()
    ));
    let installing = run(Command::new("cargo")
        .args([
            "install",
            "--locked",
            "evcxr_jupyter",
            "--version",
            EVCXR_VERSION,
        ])
        .stdout(copy)
        .stderr(file));
    installing.map_err(|e| {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(20)..].join("\n");
        format!("{e}; the end of {}:\n{tail}", log.display())
    })?;
    Ok(binary)
}

/// The project's venv with the pinned Jupyter packages.
pub fn python_venv(paths: &Paths) -> Result<()> {
    let requirements = paths.root.join("kernel").join("requirements.txt");
    let wanted = std::fs::read_to_string(&requirements)
        .map_err(|e| format!("{}: {e}", requirements.display()))?;
    let stamp = paths.venv().join(".geoxr-requirements");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str())
        && paths.venv_bin("jupyter").exists()
    {
        return Ok(());
    }
    if !paths.venv_bin("python").exists() {
        say(format!(
            "creating the Python venv {}",
            paths.venv().display()
        ));
        run(Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(paths.venv()))?;
    }
    say("installing JupyterLab, nbclient, nbconvert, netCDF4 and h5py (pinned in kernel/requirements.txt) into the venv (about 1 minute)");
    run(Command::new(paths.venv_bin("python"))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(&requirements))?;
    std::fs::write(&stamp, wanted).map_err(|e| format!("{}: {e}", stamp.display()))
}

/// The kernel spec "Rust (geoxr)" inside the venv, and evcxr's start-up files that
/// preload this checkout's `geoxr` and import its prelude (`kernel/config/init.evcxr`).
pub fn kernel_spec(paths: &Paths, evcxr: &Path) -> Result<()> {
    let write = |path: PathBuf, text: String| -> Result<()> {
        if std::fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
            return Ok(());
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        say(format!("writing {}", path.display()));
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
    };
    let template = |name: &str| -> Result<String> {
        let path = paths.kernel_templates().join(name);
        std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
    };
    let crate_dir = paths.crate_dir();
    let init = template("init.evcxr")?.replace("{GEOXR_CRATE}", &crate_dir.to_string_lossy());
    write(paths.evcxr_config().join("init.evcxr"), init)?;
    // Older set-ups wrote a separate prelude, now part of init.evcxr.
    let stale = paths.evcxr_config().join("prelude.rs");
    if stale.exists() {
        std::fs::remove_file(&stale).map_err(|e| format!("{}: {e}", stale.display()))?;
    }
    let spec = serde_json::json!({
        // Jupyter starts the progress proxy, which starts evcxr through
        // launch-kernel.sh on ports of its own (kernel/progress_proxy.py).
        "argv": [
            paths.venv_bin("python").to_string_lossy(),
            paths.root.join("kernel").join("progress_proxy.py").to_string_lossy(),
            "{connection_file}",
            "/bin/sh",
            paths.root.join("kernel").join("launch-kernel.sh").to_string_lossy(),
            evcxr.to_string_lossy(),
            paths.evcxr_builds().to_string_lossy(),
        ],
        "display_name": KERNEL_DISPLAY_NAME,
        "language": "rust",
        // evcxr stops a running cell on an interrupt_request; a SIGINT would end
        // the kernel.
        "interrupt_mode": "message",
        "env": {
            "EVCXR_CONFIG_DIR": paths.evcxr_config().to_string_lossy(),
            "XDG_CACHE_HOME": paths.evcxr_cache().to_string_lossy(),
        },
        "metadata": { "geoxr": { "name": KERNEL_NAME } },
    });
    let text = serde_json::to_string_pretty(&spec).map_err(|e| e.to_string())? + "\n";
    write(paths.kernel_spec_dir().join("kernel.json"), text)
}

/// Starts the kernel once, headless, when its first build folder holds no compiled
/// geoxr yet: evcxr compiles geoxr and its dependencies with its own settings at the
/// first start (many minutes on 2 cores), and this moves that wait from the first
/// notebook into set-up, where it is said and timed.
pub fn warm_kernel(paths: &Paths) -> Result<()> {
    if kernel_has_geoxr(&paths.evcxr_builds().join("slot-0")) {
        return Ok(());
    }
    say("compiling geoxr for the kernel by starting it once headlessly (the kernel's first start; 5-30 minutes on 2 cores)");
    let warm = crate::run::latency(paths, &["cpu_count()"], WARM_UP_TIMEOUT_S)?;
    match warm.cells.iter().find(|c| !c.stderr.is_empty()) {
        Some(cell) => Err(format!(
            "the kernel's first start: `{}` wrote to stderr: {}",
            cell.code, cell.stderr
        )),
        None => Ok(()),
    }
}

/// How long the set-up waits for a cold kernel to compile geoxr and start.
const WARM_UP_TIMEOUT_S: u64 = 3 * 3600;

/// Whether evcxr's build folder `slot` holds geoxr compiled as the library
/// evcxr links each cell against (`target/<host>/debug/deps/libgeoxr-*.rlib`).
fn kernel_has_geoxr(slot: &Path) -> bool {
    let Ok(hosts) = std::fs::read_dir(slot.join("target")) else {
        return false;
    };
    hosts.flatten().any(|host| {
        std::fs::read_dir(host.path().join("debug").join("deps")).is_ok_and(|files| {
            files.flatten().any(|f| {
                let name = f.file_name().to_string_lossy().into_owned();
                name.starts_with("libgeoxr-") && name.ends_with(".rlib")
            })
        })
    })
}

/// The tutorial's sample IMERG files, generated once (a stamp file records the set).
pub fn sample_data(paths: &Paths) -> Result<()> {
    let dir = paths.imerg_data();
    let stamp = dir.join(".geoxr-sample");
    let wanted = format!(
        "version={SAMPLE_VERSION} days={SAMPLE_DAYS} seed={SAMPLE_SEED} calendar={SAMPLE_CALENDAR}\n"
    );
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(());
    }
    say(format!(
        "generating {SAMPLE_DAYS} IMERG-like daily files in {} (synthetic rainfall; under a minute)",
        dir.display()
    ));
    run(Command::new("cargo")
        .current_dir(&paths.root)
        .args([
            "run",
            "--quiet",
            "--release",
            "--package",
            "geoxr",
            "--bin",
            "imerg-sample",
            "--",
        ])
        .arg("--out")
        .arg(&dir)
        .args(["--days", &SAMPLE_DAYS.to_string()])
        .args(["--seed", &SAMPLE_SEED.to_string()])
        .args(["--calendar", SAMPLE_CALENDAR]))?;
    std::fs::write(&stamp, wanted).map_err(|e| format!("{}: {e}", stamp.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Set-up starts the kernel to compile geoxr only while its first build folder
    /// lacks geoxr's compiled library; an empty folder, or one holding only other
    /// crates, is cold.
    #[test]
    fn the_kernel_counts_as_built_once_its_folder_holds_geoxr() {
        let slot = std::env::temp_dir().join(format!("geoxr-slot-test-{}", std::process::id()));
        let deps = slot
            .join("target")
            .join("x86_64-unknown-linux-gnu")
            .join("debug")
            .join("deps");
        std::fs::create_dir_all(&deps).unwrap();
        assert!(!kernel_has_geoxr(&slot.join("missing")));
        assert!(!kernel_has_geoxr(&slot));
        std::fs::write(deps.join("librayon-0123.rlib"), b"").unwrap();
        std::fs::write(deps.join("libgeoxr-0123.rmeta"), b"").unwrap();
        assert!(!kernel_has_geoxr(&slot));
        std::fs::write(deps.join("libgeoxr-0123.rlib"), b"").unwrap();
        assert!(kernel_has_geoxr(&slot));
        std::fs::remove_dir_all(&slot).unwrap();
    }

    /// The proxy's rewriting of progress lines (kernel/progress_proxy.py): the first
    /// update becomes a display, later ones update it, the text around them stays
    /// stream text in order, and every rewritten message carries a valid signature.
    #[test]
    fn the_progress_proxy_turns_marked_lines_into_one_updated_display() {
        let paths = Paths::from_checkout();
        let python = crate::fuzz::python(&paths.root).unwrap_or_else(|e| panic!("{e}"));
        let script = paths.root.join("kernel").join("progress_proxy.py");
        let out = Command::new(&python)
            .arg(&script)
            .arg("--self-test")
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", python.display()));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("self-test: ok"));
    }
}
