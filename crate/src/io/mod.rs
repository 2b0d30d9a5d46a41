//! NetCDF input and output, with CF decoding in one place (`cf`).

mod cf;
mod chunks;
mod combine;
mod files;
mod index;
mod libnetcdf;
mod native;
mod options;
mod read;
mod write;

pub use combine::open_mfdataset;
pub use options::{Engine, OpenOptions};
pub use read::open_dataset;

#[cfg(test)]
mod engine_tests;
#[cfg(test)]
mod tests;
