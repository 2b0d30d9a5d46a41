//! # geoxr
//!
//! Labelled n-d arrays for geoscience notebooks, after xarray and dask: open many
//! NetCDF files as one lazy [`Dataset`], select and reduce them in parallel, and see
//! every result inline in Jupyter through the evcxr Rust kernel.
//!
//! ```no_run
//! use geoxr::prelude::*;
//! let imerg = open_mfdataset("data/IMERG/3B-DAY.MS.MRG.3IMERG.2018*.nc4")?;
//! let rain = imerg.get("HQprecipitation");
//! println!("{rain}");
//! # Ok::<(), geoxr::Error>(())
//! ```
//!
//! The crate is layered, lowest first: [`base`] (safe text, atomic files), [`model`] (Variable → DataArray → Dataset),
//! [`io`] (NetCDF and CF decoding), `compute` (lazy chunks, `load`), and `notebook`
//! (representations and machine facts), with [`cluster`] and [`maps`] on top.
//! Higher layers use lower ones only.

// Library code runs inside the user's notebook kernel, where a panic ends her
// session: failures are errors, never `unwrap`, `expect` or `panic!`.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented
    )
)]

// Lets code shared with the integration tests (`base/child.rs`) name the crate
// `geoxr` from inside it too.
extern crate self as geoxr;

pub mod base;
pub mod error;
pub mod io;
pub mod model;

pub mod analysis;
pub mod cluster;
pub mod compute;
pub mod maps;
#[doc(hidden)]
pub mod notebook;
pub mod sample;

pub use analysis::{IntoDims, IntoSelection, Label, Pos, Resample, Selector};
pub use base::text::html as escape;
pub use cluster::{adjusted_rand_index, KMeans, KMeansModel, SpectralClustering, SpectralModel};
pub use compute::mpi::Launcher;
pub use compute::{parse_bytes, Client, Computable, Plan, Reduction};
pub use error::{Error, Result};
pub use io::{open_dataset, open_mfdataset, Engine, OpenOptions};
pub use model::{
    ArrayData, AttrValue, Attrs, Calendar, CfDateTime, ChunkSource, ChunkedArray, DType, Data,
    DataArray, Dataset, Element, Sizes, TimeUnits, Unread, Variable, NAT,
};
pub use notebook::{
    cpu_count, peak_memory, reset_peak_memory, resident_memory, virtual_memory, VirtualMemory,
};

/// Re-exported so notebooks and users share the exact `ndarray` version geoxr uses.
pub use ndarray;

/// Everything a notebook needs, imported whole by the Rust (geoxr) kernel.
pub mod prelude {
    pub use crate::maps::{
        borders, coastline, land, ocean, Colormap, Map, Orthographic, PlateCarree, Resolution,
        Shape,
    };
    pub use crate::notebook::Show as _;
    pub use crate::time;
    pub use crate::{
        cpu_count, open_dataset, open_mfdataset, peak_memory, virtual_memory, Calendar, Client,
        DataArray, Dataset, Engine, Error, KMeans, OpenOptions, Pos, Reduction, Selector,
        SpectralClustering, Variable,
    };
    pub use ndarray::{array, s, Array1, Array2, ArrayD};
}
