//! Reading NetCDF files through the `netcdf` crate: one file becomes a `Dataset`
//! whose dimension coordinates are in memory and whose other variables are lazy.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ndarray::{ArrayD, IxDyn};
use netcdf::types::{FloatType, IntType, NcVariableType};
use netcdf::AttributeValue;

use super::cf::CfDecoding;
use super::files::{self, FilePool};
use super::options::OpenOptions;
use crate::error::{Error, Result};
use crate::model::{
    ArrayData, AttrValue, Attrs, Chunk, ChunkSource, ChunkedArray, DType, Data, Dataset, Variable,
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
    Ok(read_file(path, &Arc::new(FilePool::new(1)), options)?.dataset)
}

/// A file read for combining: the dataset plus what the combiner needs to know.
pub(crate) struct FileDataset {
    pub path: PathBuf,
    pub dataset: Dataset,
    pub unlimited: Vec<String>,
}

pub(crate) fn read_file(
    path: &Path,
    pool: &Arc<FilePool>,
    options: &OpenOptions,
) -> Result<FileDataset> {
    let file_error = |reason: String| Error::File {
        path: path.to_owned(),
        reason,
    };
    if let Some(group) = options.get_group() {
        return Err(file_error(format!(
            "cannot open group `{group}`: groups are not read yet"
        )));
    }
    let file = Arc::new(files::open(path)?);
    pool.insert(path, file.clone());
    let unlimited = file
        .dimensions()
        .filter(|d| d.is_unlimited())
        .map(|d| d.name())
        .collect();
    let mut attrs = Attrs::default();
    for a in file.attributes() {
        if let Ok(v) = a.value() {
            if let Some(v) = attr_value(v) {
                attrs.set(a.name(), v);
            }
        }
    }
    let mut coords = Vec::new();
    let mut data_vars = Vec::new();
    for var in file.variables() {
        let name = var.name();
        let var_error = |reason: String| Error::FileVariable {
            path: path.to_owned(),
            variable: name.clone(),
            reason,
        };
        let Some(raw) = dtype_of(&var.vartype()) else {
            // Strings, compounds and other non-numeric types are not supported yet.
            continue;
        };
        let dims: Vec<String> = var.dimensions().iter().map(|d| d.name()).collect();
        let shape: Vec<usize> = var.dimensions().iter().map(|d| d.len()).collect();
        let mut var_attrs = Attrs::default();
        for a in var.attributes() {
            let value = a
                .value()
                .map_err(|e| var_error(format!("attribute `{}`: {e}", a.name())))?;
            if let Some(v) = attr_value(value) {
                var_attrs.set(a.name(), v);
            }
        }
        let (decoding, kept, encoding) =
            CfDecoding::from_attrs(raw, &var_attrs, options).map_err(var_error)?;
        let slab = NetcdfSlab {
            path: path.to_owned(),
            variable: name.clone(),
            raw,
            shape: shape.clone(),
            decoding: Arc::new(decoding),
            pool: pool.clone(),
        };
        let is_dim_coord = dims.len() == 1 && dims[0] == name;
        let data = if is_dim_coord {
            let start: Vec<usize> = shape.iter().map(|_| 0).collect();
            Data::from(read_slab(&file, &slab, &start, &shape)?)
        } else {
            let len = shape.first().copied().unwrap_or(1);
            let dtype = slab.decoding.output();
            let chunk = Chunk {
                len,
                source: Arc::new(slab),
            };
            Data::Lazy(ChunkedArray::new(dtype, shape, 0, vec![chunk])?)
        };
        let variable = Variable::new(dims, data)?
            .with_attrs(kept)
            .with_encoding(encoding);
        if is_dim_coord {
            coords.push((name, variable));
        } else {
            data_vars.push((name, variable));
        }
    }
    let dataset = Dataset::new(coords, data_vars, attrs).map_err(|e| file_error(e.to_string()))?;
    Ok(FileDataset {
        path: path.to_owned(),
        dataset,
        unlimited,
    })
}

fn dtype_of(t: &NcVariableType) -> Option<DType> {
    Some(match t {
        NcVariableType::Float(FloatType::F32) => DType::F32,
        NcVariableType::Float(FloatType::F64) => DType::F64,
        NcVariableType::Int(IntType::I8) => DType::I8,
        NcVariableType::Int(IntType::U8) => DType::U8,
        NcVariableType::Int(IntType::I16) => DType::I16,
        NcVariableType::Int(IntType::U16) => DType::U16,
        NcVariableType::Int(IntType::I32) => DType::I32,
        NcVariableType::Int(IntType::U32) => DType::U32,
        NcVariableType::Int(IntType::I64) => DType::I64,
        NcVariableType::Int(IntType::U64) => DType::U64,
        _ => return None,
    })
}

fn attr_value(v: AttributeValue) -> Option<AttrValue> {
    Some(match v {
        AttributeValue::Uchar(x) => AttrValue::U8(vec![x]),
        AttributeValue::Uchars(x) => AttrValue::U8(x),
        AttributeValue::Schar(x) => AttrValue::I8(vec![x]),
        AttributeValue::Schars(x) => AttrValue::I8(x),
        AttributeValue::Ushort(x) => AttrValue::U16(vec![x]),
        AttributeValue::Ushorts(x) => AttrValue::U16(x),
        AttributeValue::Short(x) => AttrValue::I16(vec![x]),
        AttributeValue::Shorts(x) => AttrValue::I16(x),
        AttributeValue::Uint(x) => AttrValue::U32(vec![x]),
        AttributeValue::Uints(x) => AttrValue::U32(x),
        AttributeValue::Int(x) => AttrValue::I32(vec![x]),
        AttributeValue::Ints(x) => AttrValue::I32(x),
        AttributeValue::Ulonglong(x) => AttrValue::U64(vec![x]),
        AttributeValue::Ulonglongs(x) => AttrValue::U64(x),
        AttributeValue::Longlong(x) => AttrValue::I64(vec![x]),
        AttributeValue::Longlongs(x) => AttrValue::I64(x),
        AttributeValue::Float(x) => AttrValue::F32(vec![x]),
        AttributeValue::Floats(x) => AttrValue::F32(x),
        AttributeValue::Double(x) => AttrValue::F64(vec![x]),
        AttributeValue::Doubles(x) => AttrValue::F64(x),
        AttributeValue::Str(x) => AttrValue::Text(x),
        AttributeValue::Strs(x) => AttrValue::Texts(x),
    })
}

/// The whole of one variable in one file, read and decoded on demand.
#[derive(Debug)]
struct NetcdfSlab {
    path: PathBuf,
    variable: String,
    raw: DType,
    shape: Vec<usize>,
    decoding: Arc<CfDecoding>,
    pool: Arc<FilePool>,
}

impl ChunkSource for NetcdfSlab {
    fn read(&self) -> Result<Arc<ArrayData>> {
        if let Some(raw) = self.read_direct() {
            let error = |reason: String| Error::FileVariable {
                path: self.path.clone(),
                variable: self.variable.clone(),
                reason,
            };
            return Ok(Arc::new(self.decoding.decode(raw).map_err(error)?));
        }
        files::quiet_hdf5_on_this_thread();
        let file = self.pool.get(&self.path)?;
        let full: Vec<usize> = self.shape.iter().map(|_| 0).collect();
        Ok(Arc::new(read_slab(&file, self, &full, &self.shape)?))
    }

    fn read_part(&self, axis: usize, range: std::ops::Range<usize>) -> Result<Arc<ArrayData>> {
        if self.shape.is_empty() || (range.start == 0 && range.end == self.shape[axis]) {
            return self.read();
        }
        files::quiet_hdf5_on_this_thread();
        let file = self.pool.get(&self.path)?;
        let mut start: Vec<usize> = self.shape.iter().map(|_| 0).collect();
        let mut count = self.shape.clone();
        start[axis] = range.start;
        count[axis] = range.len();
        Ok(Arc::new(read_slab(&file, self, &start, &count)?))
    }

    fn describe(&self) -> String {
        format!("{}:{}", self.path.display(), self.variable)
    }
}

/// Variables smaller than this are read through libnetcdf: the fast path's set-up
/// costs more than it saves.
const DIRECT_MIN_ELEMENTS: usize = 4096;

impl NetcdfSlab {
    /// The whole slab through the parallel fast path (`io::direct`), when its layout
    /// allows.
    fn read_direct(&self) -> Option<ArrayData> {
        if self.shape.iter().product::<usize>() < DIRECT_MIN_ELEMENTS {
            return None;
        }
        let bytes =
            super::direct::read_whole_chunk(&self.path, &self.variable, &self.shape)?.decode()?;
        bytes_to_array(self.raw, &bytes, &self.shape)
    }
}

/// Little-endian bytes as an array of a storage type.
fn bytes_to_array(dtype: DType, bytes: &[u8], shape: &[usize]) -> Option<ArrayData> {
    macro_rules! typed {
        ($t:ty, $variant:ident) => {{
            const N: usize = std::mem::size_of::<$t>();
            let values: Vec<$t> = bytes
                .chunks_exact(N)
                .map(|b| {
                    let mut bytes = [0u8; N];
                    bytes.copy_from_slice(b);
                    <$t>::from_le_bytes(bytes)
                })
                .collect();
            ArrayData::$variant(ArrayD::from_shape_vec(IxDyn(shape), values).ok()?)
        }};
    }
    Some(match dtype {
        DType::F32 => typed!(f32, F32),
        DType::F64 => typed!(f64, F64),
        DType::I8 => typed!(i8, I8),
        DType::U8 => typed!(u8, U8),
        DType::I16 => typed!(i16, I16),
        DType::U16 => typed!(u16, U16),
        DType::I32 => typed!(i32, I32),
        DType::U32 => typed!(u32, U32),
        DType::I64 => typed!(i64, I64),
        DType::U64 => typed!(u64, U64),
        DType::Time(_) => return None,
    })
}

fn read_slab(
    file: &netcdf::File,
    slab: &NetcdfSlab,
    start: &[usize],
    count: &[usize],
) -> Result<ArrayData> {
    let error = |reason: String| Error::FileVariable {
        path: slab.path.clone(),
        variable: slab.variable.clone(),
        reason,
    };
    let var = file
        .variable(&slab.variable)
        .ok_or_else(|| error("the variable is no longer in the file".into()))?;
    let shape: Vec<usize> = var.dimensions().iter().map(|d| d.len()).collect();
    if shape != slab.shape {
        return Err(error(format!(
            "shape changed from {:?} to {shape:?}",
            slab.shape
        )));
    }
    let whole = count == shape.as_slice();
    let extents = || -> netcdf::Extents {
        if whole || count.is_empty() {
            netcdf::Extents::All
        } else {
            netcdf::Extents::try_from((start, count)).unwrap_or(netcdf::Extents::All)
        }
    };
    fn get<T: netcdf::NcTypeDescriptor + Copy + Default>(
        var: &netcdf::Variable<'_>,
        count: &[usize],
        extents: netcdf::Extents,
    ) -> std::result::Result<ArrayD<T>, String> {
        let n: usize = count.iter().product();
        let mut buffer = vec![T::default(); n];
        if n > 0 {
            var.get_values_into(&mut buffer, extents)
                .map_err(|e| e.to_string())?;
        }
        ArrayD::from_shape_vec(IxDyn(count), buffer).map_err(|e| e.to_string())
    }
    let raw = match slab.raw {
        DType::F32 => ArrayData::F32(get(&var, count, extents()).map_err(error)?),
        DType::F64 => ArrayData::F64(get(&var, count, extents()).map_err(error)?),
        DType::I8 => ArrayData::I8(get(&var, count, extents()).map_err(error)?),
        DType::U8 => ArrayData::U8(get(&var, count, extents()).map_err(error)?),
        DType::I16 => ArrayData::I16(get(&var, count, extents()).map_err(error)?),
        DType::U16 => ArrayData::U16(get(&var, count, extents()).map_err(error)?),
        DType::I32 => ArrayData::I32(get(&var, count, extents()).map_err(error)?),
        DType::U32 => ArrayData::U32(get(&var, count, extents()).map_err(error)?),
        DType::I64 => ArrayData::I64(get(&var, count, extents()).map_err(error)?),
        DType::U64 => ArrayData::U64(get(&var, count, extents()).map_err(error)?),
        DType::Time(_) => return Err(error("time is not a storage type".into())),
    };
    slab.decoding.decode(raw).map_err(error)
}
