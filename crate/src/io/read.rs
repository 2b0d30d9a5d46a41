//! One file becomes a `Dataset` whose dimension coordinates are in memory and whose
//! other variables are lazy. The engines (`native`, the default, and `libnetcdf`) give
//! metadata and hyperslabs; this module is the same for both: it records the file's
//! identity, builds variables, and decodes what the engines read.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::cf::{self, CfDecoding};
use super::chunks::ChunkMap;
use super::files::{checked_bytes, FilePool, Identity};
use super::native::{guarded, ReadError};
use super::options::{Engine, OpenOptions};
use super::{index, libnetcdf, native};
use crate::error::{Error, Result};
use crate::model::{
    ArrayData, AttrValue, Attrs, Chunk, ChunkSource, ChunkedArray, DType, Data, Dataset, Unread,
    Variable, Window,
};

/// Opens one NetCDF file as a lazy `Dataset`: coordinates are read now, data
/// variables when loaded or computed. Values are CF-decoded.
///
/// ```no_run
/// let ds = geoxr::open_dataset("data/IMERG/3B-DAY.MS.MRG.3IMERG.20180201-S000000-E235959.V06.nc4.nc4")?;
/// println!("{}", ds.dims());
/// # Ok::<(), geoxr::Error>(())
/// ```
pub fn open_dataset(path: impl AsRef<Path>) -> Result<Dataset> {
    open_one(path.as_ref(), &OpenOptions::new())
}

/// `open_dataset` with options.
pub(crate) fn open_one(path: &Path, options: &OpenOptions) -> Result<Dataset> {
    let files = Arc::new(Files::new(options.get_engine(), 1));
    Ok(read_file(path, &files, options)?.dataset)
}

/// A variable as an engine describes it.
#[derive(Debug, Clone)]
pub(crate) struct VarMeta {
    pub name: String,
    /// The name with its group, as the engines look it up.
    pub path: String,
    pub dims: Vec<String>,
    pub shape: Vec<usize>,
    /// Whether the first dimension is unlimited.
    pub unlimited: bool,
    pub raw: DType,
    pub attrs: Attrs,
    /// Where its bytes are, when the layout is one `io::chunks` reads itself.
    pub chunks: Option<Arc<ChunkMap>>,
    /// The stored values of a dimension coordinate, once read (the chunk index keeps
    /// them, so a re-opened file is not read at all).
    pub values: Option<Arc<ArrayData>>,
    /// For an enum variable (read as its base integer type), its members as
    /// `name=value`, in the file's order; empty otherwise (what marks an enum).
    pub enum_members: Vec<String>,
}

/// A variable whose type geoxr cannot hold: its name, dimensions and type in words
/// (`string`, `char`, `compound`, `opaque`, `vlen`), the same from both engines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnreadMeta {
    pub name: String,
    pub dims: Vec<String>,
    pub kind: String,
}

/// A group of a file as an engine describes it.
#[derive(Debug, Clone)]
pub(crate) struct FileMeta {
    pub unlimited: Vec<String>,
    pub attrs: Attrs,
    pub vars: Vec<VarMeta>,
    /// Variables of types geoxr does not read, in file order.
    pub unread: Vec<UnreadMeta>,
}

/// The open files of one dataset, through the engine it was opened with.
pub(crate) struct Files {
    engine: Engine,
    rust: FilePool<native::NativeFile>,
    libnetcdf: FilePool<netcdf::File>,
}

impl std::fmt::Debug for Files {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Files({})", self.engine)
    }
}

impl Files {
    pub(crate) fn new(engine: Engine, capacity: usize) -> Files {
        Files {
            engine,
            rust: FilePool::new(capacity),
            // An open NetCDF-4 file costs libnetcdf about 1 MB of HDF5 metadata cache.
            libnetcdf: FilePool::new(capacity.min(32)),
        }
    }

    fn rust(&self, path: &Path) -> Result<Arc<native::NativeFile>> {
        self.rust.get(path, || {
            guarded(path, || native::open(path).map_err(|r| file_error(path, r)))
        })
    }

    fn libnetcdf(&self, path: &Path) -> Result<Arc<netcdf::File>> {
        self.libnetcdf.get(path, || {
            guarded(path, || {
                libnetcdf::open(path).map_err(|r| file_error(path, r))
            })
        })
    }

    /// The metadata of a file (of the group asked for).
    pub(crate) fn metadata(&self, path: &Path, group: Option<&str>) -> Result<FileMeta> {
        let meta = match self.engine {
            Engine::Rust => {
                let file = self.rust(path)?;
                guarded(path, || {
                    native::metadata(&file, group).map_err(|r| file_error(path, r))
                })
            }
            Engine::Libnetcdf => {
                let file = self.libnetcdf(path)?;
                guarded(path, || {
                    libnetcdf::metadata(&file, group).map_err(|r| file_error(path, r))
                })
            }
        }?;
        Ok(meta)
    }

    /// Reads a hyperslab of a variable in its storage type. A filter the Rust engine
    /// cannot decode is read through libnetcdf, or named in the error.
    fn read(
        &self,
        path: &Path,
        var: &VarMeta,
        start: &[usize],
        count: &[usize],
    ) -> Result<ArrayData> {
        let error = |reason: String| Error::FileVariable {
            path: path.to_owned(),
            variable: var.path.clone(),
            reason,
        };
        checked_bytes(count, var.raw.size()).map_err(error)?;
        let through_libnetcdf = |why: Option<String>| -> Result<ArrayData> {
            let file = self.libnetcdf(path)?;
            guarded(path, || {
                libnetcdf::read(&file, var, start, count).map_err(|e| {
                    error(match &why {
                        Some(filter) => format!(
                            "it is compressed with {filter}, which the Rust engine cannot \
                             decode, and libnetcdf failed too: {e}"
                        ),
                        None => e,
                    })
                })
            })
        };
        match self.engine {
            Engine::Libnetcdf => through_libnetcdf(None),
            Engine::Rust => {
                // Mapped variables need no parsed headers (the map may come from the
                // chunk index, with the file never opened by the reader).
                if let Some(map) = &var.chunks {
                    if let Some(values) = guarded(path, || {
                        Ok(native::read_mapped(map, path, var, start, count))
                    })? {
                        return values.map_err(|e| match e {
                            ReadError::Filter(f) | ReadError::Other(f) => error(f),
                        });
                    }
                }
                let file = self.rust(path)?;
                match guarded(path, || Ok(native::read(&file, var, start, count)))? {
                    Ok(values) => Ok(values),
                    Err(ReadError::Filter(filter)) => through_libnetcdf(Some(filter)),
                    Err(ReadError::Other(reason)) => Err(error(reason)),
                }
            }
        }
    }
}

impl Files {
    /// Reads a box of a variable into `out` (its stored values' bytes, this
    /// machine's order, the box's axes in `order`) through its chunk map, when the
    /// Rust engine reads it that way; `Ok(false)` when it does not.
    fn read_mapped_into(
        &self,
        path: &Path,
        var: &VarMeta,
        ranges: &[std::ops::Range<usize>],
        order: &[usize],
        out: &mut [u8],
    ) -> Result<bool> {
        let (Engine::Rust, Some(map)) = (self.engine, &var.chunks) else {
            return Ok(false);
        };
        guarded(path, || {
            map.read_window(path, ranges, order, out)
                .map_err(|reason| Error::FileVariable {
                    path: path.to_owned(),
                    variable: var.path.clone(),
                    reason,
                })
        })?;
        Ok(true)
    }
}

fn file_error(path: &Path, reason: String) -> Error {
    Error::File {
        path: path.to_owned(),
        reason,
    }
}

/// A file read for combining: the dataset plus what the combiner needs to know.
pub(crate) struct FileDataset {
    pub path: PathBuf,
    pub dataset: Dataset,
    pub unlimited: Vec<String>,
}

pub(crate) fn read_file(
    path: &Path,
    files: &Arc<Files>,
    options: &OpenOptions,
) -> Result<FileDataset> {
    let identity = Identity::of(path)?;
    let group = options.get_group();
    let (mut meta, store) = match options.get_engine() {
        Engine::Rust => match index::load(path, &identity, group) {
            Some(meta) => (meta, false),
            None => (files.metadata(path, group)?, true),
        },
        Engine::Libnetcdf => (files.metadata(path, group)?, false),
    };
    // Dimension coordinates are read now (unless the index holds them).
    for var in &mut meta.vars {
        if is_dim_coord(var) && var.values.is_none() {
            let start = vec![0; var.shape.len()];
            var.values = Some(Arc::new(files.read(path, var, &start, &var.shape)?));
        }
    }
    if store {
        index::store(path, &identity, group, &meta);
    }
    let mut global = meta.attrs;
    let named_coords = if options.get_decode_coords() {
        let names = cf::coordinate_names(&global, meta.vars.iter().map(|v| &v.attrs));
        global.remove("coordinates");
        names
    } else {
        Vec::new()
    };
    // Bounds take the time units and calendar of their parent (when times are decoded).
    let parents: Vec<(String, Attrs)> = meta
        .vars
        .iter()
        .filter(|_| options.get_decode_times())
        .filter_map(|v| {
            let bounds = v.attrs.get("bounds")?.as_str()?;
            Some((bounds.to_owned(), v.attrs.clone()))
        })
        .collect();
    let unread: Vec<Unread> = meta
        .unread
        .into_iter()
        .map(|u| Unread {
            name: u.name,
            dims: u.dims,
            kind: u.kind,
            file: path.to_owned(),
        })
        .collect();
    // Dimensions in the order the file's variables first use them, as xarray has them.
    let dim_order: Vec<String> = meta.vars.iter().flat_map(|v| v.dims.clone()).collect();
    let mut coords = Vec::new();
    let mut data_vars = Vec::new();
    for var in meta.vars {
        let variable = var.path.clone();
        let var_error = |reason: String| Error::FileVariable {
            path: path.to_owned(),
            variable: variable.clone(),
            reason,
        };
        let inherited = parents
            .iter()
            .find(|(bounds, _)| *bounds == var.name)
            .map(|(_, parent)| cf::with_parent_time(&var.attrs, parent));
        let attrs = inherited.as_ref().unwrap_or(&var.attrs);
        let (decoding, mut kept, mut encoding) =
            CfDecoding::from_attrs(var.raw, attrs, options).map_err(var_error)?;
        if options.get_decode_coords() {
            if let Some(list) = kept.remove("coordinates") {
                encoding.set("coordinates", list);
            }
        }
        if !var.enum_members.is_empty() {
            // Where xarray keeps an enum's members too: with the encoding, not the
            // attributes.
            encoding.set("enum", AttrValue::Texts(var.enum_members.clone()));
        }
        let name = var.name.clone();
        let dims = var.dims.clone();
        let shape = var.shape.clone();
        let slab = Slab {
            path: path.to_owned(),
            identity,
            var: Arc::new(var),
            decoding: Arc::new(decoding),
            files: files.clone(),
            options: options.clone(),
        };
        let index = is_dim_coord(&slab.var);
        let data = if let (true, Some(raw)) = (index, &slab.var.values) {
            let decoded = slab.decoding.decode((**raw).clone()).map_err(var_error)?;
            Data::from(decoded)
        } else {
            let len = shape.first().copied().unwrap_or(1);
            let dtype = slab.decoding.output();
            let chunk = Chunk {
                len,
                source: Arc::new(slab),
            };
            Data::Lazy(ChunkedArray::new(dtype, shape, 0, vec![chunk])?)
        };
        let variable = Variable::new(dims, data)
            .map_err(|e| Error::FileVariable {
                path: path.to_owned(),
                variable: name.clone(),
                reason: e.to_string(),
            })?
            .with_attrs(kept)
            .with_encoding(encoding);
        if index || named_coords.contains(&name) {
            coords.push((name, variable));
        } else {
            data_vars.push((name, variable));
        }
    }
    let dataset = Dataset::new(coords, data_vars, global)
        .map_err(|e| file_error(path, e.to_string()))?
        .with_dim_order(&dim_order)
        .with_unread(unread);
    Ok(FileDataset {
        path: path.to_owned(),
        dataset,
        unlimited: meta.unlimited,
    })
}

/// Whether a variable is the coordinate of its one dimension (read when opened).
fn is_dim_coord(var: &VarMeta) -> bool {
    var.dims.len() == 1 && var.dims[0] == var.name
}

/// The whole of one variable in one file, read and decoded on demand.
#[derive(Debug)]
pub(crate) struct Slab {
    path: PathBuf,
    identity: Identity,
    var: Arc<VarMeta>,
    decoding: Arc<CfDecoding>,
    files: Arc<Files>,
    /// How the file was opened (for a plan to open it again elsewhere).
    options: OpenOptions,
}

impl Slab {
    /// The file, variable, options and identity a plan records for this source.
    pub(crate) fn file_ref(&self) -> super::source::FileRef {
        super::source::FileRef {
            path: self.path.clone(),
            variable: self.var.name.clone(),
            options: self.options.clone(),
            identity: self.identity,
            dtype: self.decoding.output(),
            shape: self.var.shape.clone(),
        }
    }

    fn read_range(&self, start: &[usize], count: &[usize]) -> Result<Arc<ArrayData>> {
        self.identity.check(&self.path)?;
        let raw = self.files.read(&self.path, &self.var, start, count)?;
        let decoded = self
            .decoding
            .decode(raw)
            .map_err(|reason| Error::FileVariable {
                path: self.path.clone(),
                variable: self.var.path.clone(),
                reason,
            })?;
        Ok(Arc::new(decoded))
    }
}

impl ChunkSource for Slab {
    fn read(&self) -> Result<Arc<ArrayData>> {
        let start = vec![0; self.var.shape.len()];
        self.read_range(&start, &self.var.shape)
    }

    fn read_part(&self, axis: usize, range: std::ops::Range<usize>) -> Result<Arc<ArrayData>> {
        let shape = &self.var.shape;
        if shape.is_empty() || (range.start == 0 && Some(&range.end) == shape.get(axis)) {
            return self.read();
        }
        let mut start = vec![0; shape.len()];
        let mut count = shape.clone();
        if axis >= shape.len() || range.end > shape[axis] || range.start > range.end {
            return Err(Error::FileVariable {
                path: self.path.clone(),
                variable: self.var.path.clone(),
                reason: format!("positions {range:?} along axis {axis} are outside {shape:?}"),
            });
        }
        start[axis] = range.start;
        count[axis] = range.len();
        self.read_range(&start, &count)
    }

    fn read_into(&self, dtype: DType, window: &Window, out: &mut [u8]) -> Result<bool> {
        if dtype != self.decoding.output() || !self.decoding.in_place() {
            return Ok(false);
        }
        let error = |reason: String| Error::FileVariable {
            path: self.path.clone(),
            variable: self.var.path.clone(),
            reason,
        };
        let (ranges, order) = window.resolve(&self.var.shape).ok_or_else(|| {
            error(format!(
                "the part asked for, {window:?}, lies outside its shape {:?}",
                self.var.shape
            ))
        })?;
        let lens: Vec<usize> = ranges.iter().map(|r| r.len()).collect();
        let bytes = checked_bytes(&lens, dtype.size()).map_err(error)?;
        if bytes != out.len() {
            return Err(error(format!(
                "{} bytes to read into, not the {bytes} its values take",
                out.len()
            )));
        }
        self.identity.check(&self.path)?;
        if !self
            .files
            .read_mapped_into(&self.path, &self.var, &ranges, &order, out)?
        {
            return Ok(false);
        }
        self.decoding.decode_in_place(out).map_err(error)?;
        Ok(true)
    }

    fn describe(&self) -> String {
        format!("{}:{}", self.path.display(), self.var.path)
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

#[cfg(test)]
#[path = "odd_file_tests.rs"]
mod odd_file_tests;
