//! How files are opened: the engine that reads them, the group, and which CF decoding
//! steps apply. The same knobs as xarray's `open_dataset(engine=..., group=...,
//! decode_times=..., mask_and_scale=..., decode_coords=...)`, as a builder.

use std::path::Path;

use crate::error::Result;
use crate::model::Dataset;

/// The library that reads a file's metadata and chunks.
///
/// ```
/// use geoxr::{Engine, OpenOptions};
/// assert_eq!(OpenOptions::new().get_engine(), Engine::Rust);
/// let libnetcdf = OpenOptions::new().engine(Engine::Libnetcdf);
/// assert_eq!(libnetcdf.get_engine(), Engine::Libnetcdf);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Engine {
    /// The pure-Rust reader (NetCDF-3 and NetCDF-4/HDF5): no process-wide lock, chunks
    /// inflated in parallel, bounds-checked on damaged files. The default.
    #[default]
    Rust,
    /// The NetCDF C library (xarray's `engine="netcdf4"`), one call at a time behind its
    /// process-wide lock.
    Libnetcdf,
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Engine::Rust => "rust",
            Engine::Libnetcdf => "libnetcdf",
        })
    }
}

/// Options for opening NetCDF files, as a builder; `open_dataset(path)` and
/// `open_mfdataset(pattern)` are the defaults.
///
/// ```no_run
/// use geoxr::{Engine, OpenOptions};
/// let raw = OpenOptions::new()
///     .engine(Engine::Libnetcdf)
///     .decode_times(false)
///     .mask_and_scale(false)
///     .open_dataset("day.nc4")?;
/// let all = OpenOptions::new().open_mfdataset("data/IMERG/*.nc4")?;
/// # Ok::<(), geoxr::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenOptions {
    engine: Engine,
    group: Option<String>,
    decode_times: bool,
    mask_and_scale: bool,
    decode_coords: bool,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions::new()
    }
}

impl OpenOptions {
    /// The defaults: the Rust engine, the root group, times decoded, fill values masked,
    /// packed values scaled, and `coordinates` attributes honoured.
    pub fn new() -> OpenOptions {
        OpenOptions {
            engine: Engine::Rust,
            group: None,
            decode_times: true,
            mask_and_scale: true,
            decode_coords: true,
        }
    }

    /// Picks the library that reads the files.
    pub fn engine(mut self, engine: Engine) -> OpenOptions {
        self.engine = engine;
        self
    }

    /// Opens the group at this path (`"forecast"` or `"a/b"`) instead of the root.
    pub fn group(mut self, group: impl Into<String>) -> OpenOptions {
        let group = group.into();
        let trimmed = group.trim_matches('/');
        self.group = (!trimmed.is_empty()).then(|| trimmed.to_owned());
        self
    }

    /// Whether `"<unit> since <date>"` variables become dates (default `true`).
    pub fn decode_times(mut self, yes: bool) -> OpenOptions {
        self.decode_times = yes;
        self
    }

    /// Whether `_FillValue`/`missing_value` become NaN and `scale_factor`/`add_offset`
    /// are applied (default `true`).
    pub fn mask_and_scale(mut self, yes: bool) -> OpenOptions {
        self.mask_and_scale = yes;
        self
    }

    /// Whether the variables named in CF `coordinates` attributes (a variable's or the
    /// file's) become coordinates rather than data variables (default `true`, as
    /// xarray's `decode_coords=True`).
    ///
    /// ```
    /// use geoxr::OpenOptions;
    /// assert!(OpenOptions::new().get_decode_coords());
    /// assert!(!OpenOptions::new().decode_coords(false).get_decode_coords());
    /// ```
    pub fn decode_coords(mut self, yes: bool) -> OpenOptions {
        self.decode_coords = yes;
        self
    }

    /// Whether `coordinates` attributes make coordinates.
    pub fn get_decode_coords(&self) -> bool {
        self.decode_coords
    }

    /// The engine chosen.
    pub fn get_engine(&self) -> Engine {
        self.engine
    }

    /// The group chosen, `None` for the root.
    pub fn get_group(&self) -> Option<&str> {
        self.group.as_deref()
    }

    /// Whether times are decoded.
    pub fn get_decode_times(&self) -> bool {
        self.decode_times
    }

    /// Whether fill values are masked and packed values scaled.
    pub fn get_mask_and_scale(&self) -> bool {
        self.mask_and_scale
    }

    /// Opens one file with these options (see [`crate::open_dataset`]).
    pub fn open_dataset(&self, path: impl AsRef<Path>) -> Result<Dataset> {
        super::read::open_one(path.as_ref(), self)
    }

    /// Opens every file matching a glob pattern with these options (see
    /// [`crate::open_mfdataset`]).
    pub fn open_mfdataset(&self, pattern: &str) -> Result<Dataset> {
        super::combine::open_many(pattern, self)
    }
}
