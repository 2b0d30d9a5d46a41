//! NetCDF input and output, with CF decoding in one place (`cf`).

mod cf;
mod chunks;
mod combine;
mod files;
mod index;
mod libnetcdf;
mod native;
mod options;
mod phony;
mod read;
pub(crate) mod source;
mod write;

pub use combine::open_mfdataset;
pub use options::{Engine, OpenOptions};
pub use read::open_dataset;

#[cfg(test)]
mod engine_tests;
#[cfg(test)]
mod tests;

/// The Python (with netCDF4 and h5py) that writes the tests' fixtures: the project
/// venv, or `GEOXR_PYTHON`; the one lookup shared with the damaged-file test.
#[cfg(test)]
fn test_python() -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    xtask::fuzz::python(&root).unwrap_or_else(|e| panic!("{e}"))
}

/// A command running [`test_python`] that inherits no file but its standard streams.
///
/// libhdf5 opens files without close-on-exec and locks them with `flock`, whose lock
/// belongs to the open file, shared with a forked child. A child started while another
/// test writes a NetCDF-4 file through libnetcdf would keep that file locked after the
/// writer closed it, and the next open of it fails with "HDF error".
#[cfg(test)]
fn python_command() -> std::process::Command {
    use std::os::unix::process::CommandExt;
    let mut command = std::process::Command::new(test_python());
    // SAFETY: the closure only makes one system call, which is async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
            libc::syscall(
                libc::SYS_close_range,
                3,
                libc::c_uint::MAX,
                CLOSE_RANGE_CLOEXEC,
            );
            Ok(())
        });
    }
    command
}
