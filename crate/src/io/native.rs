//! The pure-Rust engine (`Engine::Rust`): NetCDF-3 (classic, 64-bit offset, CDF-5) and
//! NetCDF-4/HDF5 read by the `netcdf-reader` / `hdf5-reader` crates.
//!
//! Why these crates: they parse every structure through bounds-checked cursors, bound
//! their allocations by the file size and by limits we set, take no process-wide lock
//! (each open file has its own small caches), decode deflate, shuffle, fletcher32,
//! szip, nbit, scaleoffset and lz4, and give fill values for unwritten chunks. What we
//! add at this boundary: files are read with positional reads, never memory-mapped
//! (a file truncated under a mapping would kill the process with SIGBUS); HDF5's
//! chunk cache is off (each chunk is read once per computation, and a cache per open
//! file would cost memory); every call runs under `catch_unwind`, so a bug in the
//! reader on a damaged file becomes an error naming the file; and sizes taken from
//! metadata are checked against memory before anything is allocated. We only call
//! their slice-into-buffer methods and never pass their arrays on.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use ndarray::{ArrayD, IxDyn};
use netcdf_reader::{NcAttrValue, NcFile, NcGroup, NcOpenOptions, NcSliceInfo, NcSliceInfoElem};
use netcdf_reader::{NcFormat, NcType, NcVariable};

use super::chunks::{self, ChunkMap};
use super::files::memory_cap;
use super::phony::{self, PhonyNames};
use super::read::{FileMeta, UnreadMeta, VarMeta};
use crate::error::{Error, Result};
use crate::model::{with_storage_type, ArrayData, AttrValue, Attrs, DType};

/// Why a read through this engine failed.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// A filter this engine cannot decode (its HDF5 filter id and name).
    Filter(String),
    /// Anything else; the message says what.
    Other(String),
}

/// An open file: the NetCDF view, and, for NetCDF-4 files, the HDF5 view that says
/// how far each variable was really written (opened when first needed).
pub(crate) struct NativeFile {
    nc: NcFile,
    storage: netcdf_reader::DynStorage,
    hdf5: OnceLock<Option<hdf5_reader::Hdf5File>>,
}

/// Opens a file with positional reads and no chunk cache.
pub(crate) fn open(path: &Path) -> std::result::Result<NativeFile, String> {
    let storage: netcdf_reader::DynStorage =
        Arc::new(netcdf_reader::FileStorage::open(path).map_err(|e| e.to_string())?);
    let mut nc = NcFile::from_storage_with_options(storage.clone(), nc_options())
        .map_err(|e| describe(&e))?;
    if nc.root_group().is_err_and(|e| lacks_dimension_list(&e)) {
        // A NetCDF-4 file that another tool (h5py) added plain datasets to: libnetcdf
        // gives those datasets phony dimensions, and so does the reader's lossy mode.
        let lossy = NcOpenOptions {
            metadata_mode: netcdf_reader::NcMetadataMode::Lossy,
            ..nc_options()
        };
        nc = NcFile::from_storage_with_options(storage.clone(), lossy).map_err(|e| describe(&e))?;
    }
    Ok(NativeFile {
        nc,
        storage,
        hdf5: OnceLock::new(),
    })
}

/// Whether the reader refused a file because a dataset has no dimension scales,
/// which libnetcdf accepts (and names its axes `phony_dim_N`).
fn lacks_dimension_list(e: &netcdf_reader::Error) -> bool {
    matches!(e, netcdf_reader::Error::InvalidData(m) if m.contains("missing required DIMENSION_LIST"))
}

fn max_read_bytes() -> usize {
    usize::try_from(memory_cap()).unwrap_or(usize::MAX)
}

fn nc_options() -> NcOpenOptions {
    NcOpenOptions {
        chunk_cache_bytes: 0,
        max_read_bytes: max_read_bytes(),
        ..NcOpenOptions::default()
    }
}

impl NativeFile {
    /// The HDF5 view of a NetCDF-4 file, opened on first use.
    fn hdf5(&self) -> Option<&hdf5_reader::Hdf5File> {
        if !matches!(self.nc.format(), NcFormat::Nc4 | NcFormat::Nc4Classic) {
            return None;
        }
        self.hdf5
            .get_or_init(|| {
                let options = hdf5_reader::OpenOptions {
                    chunk_cache_bytes: 0,
                    max_read_bytes: max_read_bytes(),
                    ..hdf5_reader::OpenOptions::default()
                };
                hdf5_reader::Hdf5File::from_storage_with_options(self.storage.clone(), options).ok()
            })
            .as_ref()
    }

    /// How many steps along its first (unlimited) axis a NetCDF-4 variable holds in
    /// the file, when fewer than the dimension's length, and the fill that libnetcdf
    /// reads beyond them: the `_FillValue` when the variable was written with fill
    /// mode on, netCDF's default fill for the type when fill mode was off.
    fn stored_steps(&self, var: &VarMeta) -> Option<(usize, bool)> {
        if !matches!(self.nc.format(), NcFormat::Nc4 | NcFormat::Nc4Classic) || !var.unlimited {
            return None;
        }
        let hdf5 = self
            .hdf5
            .get_or_init(|| {
                let options = hdf5_reader::OpenOptions {
                    chunk_cache_bytes: 0,
                    max_read_bytes: max_read_bytes(),
                    ..hdf5_reader::OpenOptions::default()
                };
                hdf5_reader::Hdf5File::from_storage_with_options(self.storage.clone(), options).ok()
            })
            .as_ref()?;
        let dataset = hdf5.dataset(&var.path).ok()?;
        let stored = usize::try_from(*dataset.shape().first()?).ok()?;
        // libnetcdf treats a variable whose HDF5 fill value was never set (written with
        // fill mode off) as having no fill, and reads netCDF's default fill there.
        let header = hdf5.get_or_parse_header(dataset.address()).ok()?;
        let fill_off = !header.messages.iter().any(|m| {
            matches!(m, hdf5_reader::messages::HdfMessage::FillValue(f) if f.defined && f.value.is_some())
        });
        (stored < *var.shape.first()?).then_some((stored, fill_off))
    }
}

/// A reader error in words a user can act on.
fn describe(e: &netcdf_reader::Error) -> String {
    match e {
        netcdf_reader::Error::InvalidMagic => {
            "not a NetCDF file (neither NetCDF-3 nor HDF5)".into()
        }
        netcdf_reader::Error::UnexpectedEof { .. } => format!("truncated or damaged file ({e})"),
        netcdf_reader::Error::Io(io) => format!("cannot read it: {io}"),
        other => format!("damaged or unsupported NetCDF file ({other})"),
    }
}

/// The metadata of the root group or of the group at `group`.
pub(crate) fn metadata(
    native: &NativeFile,
    group: Option<&str>,
) -> std::result::Result<FileMeta, String> {
    let file = &native.nc;
    let root = file.root_group().map_err(|e| describe(&e))?;
    let (g, prefix) = match group {
        None => (root, String::new()),
        Some(name) => (
            file.group(name).map_err(|_| {
                let mut names = Vec::new();
                group_paths(root, "", &mut names);
                format!(
                    "no group `{name}`; the file has {}",
                    if names.is_empty() {
                        "no groups".to_owned()
                    } else {
                        names.join(", ")
                    }
                )
            })?,
            format!("{name}/"),
        ),
    };
    let above = phony::ancestors(root, group);
    let phony = if PhonyNames::needed(g, &above) {
        PhonyNames::of(root)
    } else {
        PhonyNames::default()
    };
    let mut vars = Vec::new();
    let mut unread = Vec::new();
    for v in &g.variables {
        let Some(raw) = dtype_of(&v.dtype) else {
            unread.push(UnreadMeta {
                name: v.name.clone(),
                dims: v
                    .dimensions
                    .iter()
                    .map(|d| phony.name(&prefix, &d.name).to_owned())
                    .collect(),
                kind: kind_of(&v.dtype).to_owned(),
            });
            continue;
        };
        let mut meta = var_meta(v, raw, &prefix, &phony)?;
        if let NcType::Enum { members, .. } = &v.dtype {
            meta.enum_members = members
                .iter()
                .map(|m| match m.value.as_i128() {
                    Some(n) => format!("{}={n}", m.name),
                    None => m.name.clone(),
                })
                .collect();
        }
        meta.chunks = native
            .hdf5()
            .and_then(|h| chunks::map(h, &meta.path, &meta.shape))
            .filter(|m| m.elem_size == raw.size())
            .map(Arc::new);
        vars.push(meta);
    }
    Ok(FileMeta {
        unlimited: g
            .dimensions
            .iter()
            .filter(|d| d.is_unlimited)
            .map(|d| d.name.clone())
            .collect(),
        attrs: attrs(&g.attributes),
        vars,
        unread,
    })
}

fn group_paths(g: &NcGroup, prefix: &str, out: &mut Vec<String>) {
    for sub in &g.groups {
        let path = format!("{prefix}{}", sub.name);
        out.push(path.clone());
        if out.len() < 1000 {
            group_paths(sub, &format!("{path}/"), out);
        }
    }
}

fn var_meta(
    v: &NcVariable,
    raw: DType,
    prefix: &str,
    phony: &PhonyNames,
) -> std::result::Result<VarMeta, String> {
    let shape = v
        .dimensions
        .iter()
        .map(|d| usize::try_from(d.size).map_err(|_| format!("dimension `{}` is too long", d.name)))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(VarMeta {
        name: v.name.clone(),
        path: format!("{prefix}{}", v.name),
        dims: v
            .dimensions
            .iter()
            .map(|d| phony.name(prefix, &d.name).to_owned())
            .collect(),
        shape,
        unlimited: v.dimensions.first().is_some_and(|d| d.is_unlimited),
        raw,
        attrs: attrs(&v.attributes),
        chunks: None,
        values: None,
        enum_members: Vec::new(),
    })
}

fn dtype_of(t: &NcType) -> Option<DType> {
    Some(match t {
        NcType::Byte => DType::I8,
        NcType::UByte => DType::U8,
        NcType::Short => DType::I16,
        NcType::UShort => DType::U16,
        NcType::Int => DType::I32,
        NcType::UInt => DType::U32,
        NcType::Int64 => DType::I64,
        NcType::UInt64 => DType::U64,
        NcType::Float => DType::F32,
        NcType::Double => DType::F64,
        // An enum reads as its base integer type, as xarray reads it.
        NcType::Enum { base, .. } => return dtype_of(base),
        _ => return None,
    })
}

/// A type geoxr does not read, in the words both engines use.
fn kind_of(t: &NcType) -> &'static str {
    match t {
        NcType::String => "string",
        NcType::Char => "char",
        NcType::Compound { .. } => "compound",
        NcType::Opaque { .. } => "opaque",
        NcType::VLen { .. } => "vlen",
        NcType::Array { .. } => "array",
        _ => "unknown",
    }
}

fn attrs(list: &[netcdf_reader::NcAttribute]) -> Attrs {
    let mut out = Attrs::default();
    for a in list {
        let v = match &a.value {
            NcAttrValue::Bytes(x) => AttrValue::I8(x.clone()),
            NcAttrValue::UBytes(x) => AttrValue::U8(x.clone()),
            NcAttrValue::Shorts(x) => AttrValue::I16(x.clone()),
            NcAttrValue::UShorts(x) => AttrValue::U16(x.clone()),
            NcAttrValue::Ints(x) => AttrValue::I32(x.clone()),
            NcAttrValue::UInts(x) => AttrValue::U32(x.clone()),
            NcAttrValue::Int64s(x) => AttrValue::I64(x.clone()),
            NcAttrValue::UInt64s(x) => AttrValue::U64(x.clone()),
            NcAttrValue::Floats(x) => AttrValue::F32(x.clone()),
            NcAttrValue::Doubles(x) => AttrValue::F64(x.clone()),
            NcAttrValue::Chars(x) => AttrValue::Text(x.clone()),
            NcAttrValue::Strings(x) if x.len() == 1 => AttrValue::Text(x[0].clone()),
            NcAttrValue::Strings(x) => AttrValue::Texts(x.clone()),
            _ => continue, // user-defined attribute types are not kept
        };
        out.set(&a.name, v);
    }
    out
}

/// Reads the hyperslab `start .. start + count` of a variable in its storage type.
/// Steps past what a NetCDF-4 variable holds read as libnetcdf reads them (see
/// `NativeFile::stored_steps`), never as whatever the HDF5 default fill is.
pub(crate) fn read(
    file: &NativeFile,
    var: &VarMeta,
    start: &[usize],
    count: &[usize],
) -> std::result::Result<ArrayData, ReadError> {
    let Some((stored, fill_off)) = file.stored_steps(var) else {
        return read_stored(file, var, start, count);
    };
    let (first, n) = (start[0], count[0]);
    let held = stored.clamp(first, first + n) - first;
    let fill = (!fill_off).then(|| var.attrs.get("_FillValue")).flatten();
    let mut part_count = count.to_vec();
    part_count[0] = held;
    let held_part = read_stored(file, var, start, &part_count)?;
    let mut rest_shape = count.to_vec();
    rest_shape[0] = n - held;
    let rest = fill_array(var.raw, &rest_shape, fill);
    ArrayData::concat(&[&held_part, &rest], 0).map_err(|e| ReadError::Other(e.to_string()))
}

/// Reads through the variable's chunk map, when the selection is whole along every
/// axis but the first (the only reads lazy chunks make).
pub(crate) fn read_mapped(
    map: &ChunkMap,
    path: &Path,
    var: &VarMeta,
    start: &[usize],
    count: &[usize],
) -> Option<std::result::Result<ArrayData, ReadError>> {
    if start.is_empty() || start[1..].iter().any(|s| *s != 0) || count[1..] != var.shape[1..] {
        return None;
    }
    Some(
        map.read_array(path, var.raw, start[0], count)
            .map_err(ReadError::Other),
    )
}

/// An array of the variable's `_FillValue`, or of netCDF's default fill for the type
/// (`NC_FILL_*`) when there is none.
fn fill_array(dtype: DType, shape: &[usize], fill: Option<&AttrValue>) -> ArrayData {
    macro_rules! typed {
        ($variant:ident, $default:expr) => {{
            let value = match fill {
                Some(AttrValue::$variant(v)) => v.first().copied().unwrap_or($default),
                _ => $default,
            };
            ArrayData::$variant(ArrayD::from_elem(IxDyn(shape), value))
        }};
    }
    match dtype {
        DType::I8 => typed!(I8, -127),
        DType::U8 => typed!(U8, 255),
        DType::I16 => typed!(I16, -32767),
        DType::U16 => typed!(U16, 65535),
        DType::I32 => typed!(I32, -2_147_483_647),
        DType::U32 => typed!(U32, 4_294_967_295),
        DType::I64 => typed!(I64, -9_223_372_036_854_775_806),
        DType::U64 => typed!(U64, 18_446_744_073_709_551_614),
        DType::F32 => typed!(F32, 9.969_21e36),
        DType::F64 | DType::Time(_) => typed!(F64, 9.969_209_968_386_869e36),
    }
}

/// Reads an enum variable as its base integer type. The reader converts only atomic
/// types, so the whole variable comes as bytes in this machine's order, and the
/// selection is cut from it.
fn read_enum(
    file: &NativeFile,
    var: &VarMeta,
    start: &[usize],
    count: &[usize],
) -> std::result::Result<ArrayData, ReadError> {
    fn cut<T: bytemuck::Pod>(
        bytes: &[u8],
        var: &VarMeta,
        start: &[usize],
        count: &[usize],
    ) -> std::result::Result<ArrayD<T>, String> {
        if bytes.len() % std::mem::size_of::<T>() != 0 {
            return Err(format!("{} bytes are not whole enum values", bytes.len()));
        }
        let all = ArrayD::from_shape_vec(IxDyn(&var.shape), bytemuck::pod_collect_to_vec(bytes))
            .map_err(|e| e.to_string())?;
        let part = all.slice_each_axis(|ax| {
            let (s, c) = (start[ax.axis.index()], count[ax.axis.index()]);
            ndarray::Slice::from(s..s + c)
        });
        Ok(part.to_owned())
    }
    let n: usize = var.shape.iter().product();
    let bytes = if n == 0 {
        Vec::new()
    } else {
        file.nc
            .read_variable_native_bytes(&var.path)
            .map_err(read_error)?
    };
    let bad = |e: String| ReadError::Other(format!("enum values: {e}"));
    let not_integer = || bad(format!("an enum of {} is not an integer enum", var.raw));
    if var.raw.is_float() {
        return Err(not_integer());
    }
    Ok(with_storage_type!(var.raw,
        T => ArrayData::from(cut::<T>(&bytes, var, start, count).map_err(bad)?),
        time => return Err(not_integer())))
}

/// Reads a hyperslab that lies within what the file holds.
fn read_stored(
    file: &NativeFile,
    var: &VarMeta,
    start: &[usize],
    count: &[usize],
) -> std::result::Result<ArrayData, ReadError> {
    if !var.enum_members.is_empty() {
        return read_enum(file, var, start, count);
    }
    fn get<T: netcdf_reader::NcReadable + Copy>(
        file: &NativeFile,
        var: &VarMeta,
        start: &[usize],
        count: &[usize],
    ) -> std::result::Result<ArrayD<T>, ReadError> {
        let n: usize = count.iter().product();
        let bytes = (n as u64).saturating_mul(std::mem::size_of::<T>() as u64);
        let classic = !matches!(file.nc.format(), NcFormat::Nc4 | NcFormat::Nc4Classic);
        // NetCDF-3 stores values uncompressed, so a selection cannot need more bytes
        // than the whole file holds: a larger shape comes from a damaged header.
        if classic && bytes > file.storage.len() {
            return Err(ReadError::Other(format!(
                "damaged file: variable shape {:?} needs {bytes} bytes but the whole \
                 file holds {}",
                var.shape,
                file.storage.len()
            )));
        }
        let values: Vec<T> = if n == 0 {
            Vec::new()
        } else if count == var.shape.as_slice() {
            let mut buffer = Vec::new();
            buffer.try_reserve_exact(n).map_err(|_| {
                ReadError::Other(format!(
                    "damaged file? variable shape {:?} needs more memory than can be allocated",
                    var.shape
                ))
            })?;
            buffer.resize(n, T::default());
            file.nc
                .read_variable_into(&var.path, &mut buffer)
                .map_err(read_error)?;
            buffer
        } else {
            let selection = NcSliceInfo {
                selections: start
                    .iter()
                    .zip(count)
                    .map(|(s, c)| NcSliceInfoElem::Slice {
                        start: *s as u64,
                        end: (*s + *c) as u64,
                        step: 1,
                    })
                    .collect(),
            };
            let part = file
                .nc
                .read_variable_slice::<T>(&var.path, &selection)
                .map_err(read_error)?;
            part.iter().copied().collect()
        };
        ArrayD::from_shape_vec(IxDyn(count), values).map_err(|e| ReadError::Other(e.to_string()))
    }
    Ok(with_storage_type!(var.raw,
        T => ArrayData::from(get::<T>(file, var, start, count)?),
        time => return Err(ReadError::Other("time is not a storage type".into()))))
}

fn read_error(e: netcdf_reader::Error) -> ReadError {
    // The reader may wrap the error in the dataset's name, so look at its words.
    let text = e.to_string();
    if let Some(at) = text.find("unsupported filter: ") {
        let what = text[at + "unsupported filter: ".len()..].trim();
        return ReadError::Filter(filter_name(what));
    }
    ReadError::Other(describe(&e))
}

/// "filter id 307" with the filter's registered name, when known.
fn filter_name(what: &str) -> String {
    let id = what.rsplit(' ').next().and_then(|n| n.parse::<u32>().ok());
    let name = match id {
        Some(4) => "szip",
        Some(307) => "bzip2",
        Some(32000) => "lzf",
        Some(32001) => "blosc",
        Some(32004) => "lz4",
        Some(32008) => "bitshuffle",
        Some(32013) => "zfp",
        Some(32015) => "zstd",
        Some(32017) => "sz",
        _ => return what.to_owned(),
    };
    format!("{what} ({name})")
}

/// Runs a reader call, turning a panic inside it into an error naming the file.
pub(crate) fn guarded<T>(path: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(Error::File {
                path: path.to_owned(),
                reason: format!("damaged file: the reader failed on it ({what})"),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_named() {
        assert_eq!(filter_name("filter id 307"), "filter id 307 (bzip2)");
        assert_eq!(filter_name("filter id 32015"), "filter id 32015 (zstd)");
        assert_eq!(filter_name("filter id 9"), "filter id 9");
    }

    #[test]
    fn a_panic_becomes_an_error_naming_the_file() {
        let err = guarded::<()>(Path::new("/x/bad.nc4"), || panic!("index out of range"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("bad.nc4") && err.contains("damaged"), "{err}");
    }
}
