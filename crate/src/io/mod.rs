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

/// A command running [`test_python`] that inherits no file but its standard streams
/// (see [`crate::base::sys::inherit_std_streams_only`]: a fixture writer started
/// while another test wrote through libnetcdf kept that file locked).
#[cfg(test)]
pub(crate) fn python_command() -> std::process::Command {
    let mut command = std::process::Command::new(test_python());
    crate::base::sys::inherit_std_streams_only(&mut command);
    command
}
