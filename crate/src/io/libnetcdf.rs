//! The libnetcdf engine (`Engine::Libnetcdf`, xarray's `engine="netcdf4"`): files read
//! through the NetCDF C library by the `netcdf` crate, one call at a time behind that
//! crate's process-wide lock. It is the oracle the Rust engine is tested against, the
//! fallback for filters the Rust engine cannot decode, and a choice users can make.
//! Its calls run under `native::guarded`, since the `netcdf` crate unwraps some
//! library errors; a segfault inside libhdf5 on a damaged file cannot be caught, which
//! is why this is not the default.

use std::path::Path;

use ndarray::{ArrayD, IxDyn};
use netcdf::types::{EnumTypeValues, FloatType, IntType, NcVariableType};
use netcdf::AttributeValue;

use super::read::{FileMeta, UnreadMeta, VarMeta};
use crate::model::{with_storage_type, ArrayData, AttrValue, Attrs, DType};

/// Opens a NetCDF file for reading, with a message that says what is wrong with it.
pub(crate) fn open(path: &Path) -> Result<netcdf::File, String> {
    quiet_hdf5_on_this_thread();
    no_chunk_cache();
    netcdf::open(path).map_err(|e| {
        let text = e.to_string();
        if text.contains("Unknown file format") || text.contains("-51") {
            "not a NetCDF file (the NetCDF library does not recognise its format)".into()
        } else if text.contains("HDF") || text.contains("-101") {
            format!("damaged or truncated NetCDF-4/HDF5 file ({text})")
        } else {
            format!("cannot open as NetCDF: {text}")
        }
    })
}

/// The metadata of the root group or of the group at `group`.
pub(crate) fn metadata(file: &netcdf::File, group: Option<&str>) -> Result<FileMeta, String> {
    let mut attrs = Attrs::default();
    let mut vars = Vec::new();
    let mut unread = Vec::new();
    let (unlimited, prefix);
    let mut add_var = |var: netcdf::Variable<'_>, prefix: &str| -> Result<(), String> {
        let vartype = var.vartype();
        let name = var.name();
        let Some(raw) = dtype_of(&vartype) else {
            unread.push(UnreadMeta {
                name,
                dims: var.dimensions().iter().map(|d| d.name()).collect(),
                kind: kind_of(&vartype).to_owned(),
            });
            return Ok(());
        };
        let mut var_attrs = Attrs::default();
        for a in var.attributes() {
            let value = a
                .value()
                .map_err(|e| format!("variable `{name}`, attribute `{}`: {e}", a.name()))?;
            if let Some(v) = attr_value(value) {
                var_attrs.set(a.name(), v);
            }
        }
        vars.push(VarMeta {
            path: format!("{prefix}{name}"),
            dims: var.dimensions().iter().map(|d| d.name()).collect(),
            shape: var.dimensions().iter().map(|d| d.len()).collect(),
            unlimited: var.dimensions().first().is_some_and(|d| d.is_unlimited()),
            name,
            raw,
            attrs: var_attrs,
            chunks: None,
            values: None,
            enum_members: match &vartype {
                NcVariableType::Enum(e) => enum_members(e),
                _ => Vec::new(),
            },
        });
        Ok(())
    };
    match group {
        None => {
            prefix = String::new();
            unlimited = file
                .dimensions()
                .filter(|d| d.is_unlimited())
                .map(|d| d.name())
                .collect();
            for a in file.attributes() {
                if let Some(v) = a.value().ok().and_then(attr_value) {
                    attrs.set(a.name(), v);
                }
            }
            for var in file.variables() {
                add_var(var, &prefix)?;
            }
        }
        Some(name) => {
            let g = file
                .group(name)
                .ok()
                .flatten()
                .ok_or_else(|| format!("no group `{name}`"))?;
            prefix = format!("{name}/");
            unlimited = g
                .dimensions()
                .filter(|d| d.is_unlimited())
                .map(|d| d.name())
                .collect();
            for a in g.attributes() {
                if let Some(v) = a.value().ok().and_then(attr_value) {
                    attrs.set(a.name(), v);
                }
            }
            for var in g.variables() {
                add_var(var, &prefix)?;
            }
        }
    }
    Ok(FileMeta {
        unlimited,
        attrs,
        vars,
        unread,
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
        // An enum reads as its base integer type, as xarray reads it.
        NcVariableType::Enum(e) => match &e.fieldvalues {
            EnumTypeValues::U8(_) => DType::U8,
            EnumTypeValues::I8(_) => DType::I8,
            EnumTypeValues::U16(_) => DType::U16,
            EnumTypeValues::I16(_) => DType::I16,
            EnumTypeValues::U32(_) => DType::U32,
            EnumTypeValues::I32(_) => DType::I32,
            EnumTypeValues::U64(_) => DType::U64,
            EnumTypeValues::I64(_) => DType::I64,
        },
        _ => return None,
    })
}

/// A type geoxr does not read, in the words both engines use.
fn kind_of(t: &NcVariableType) -> &'static str {
    match t {
        NcVariableType::String => "string",
        NcVariableType::Char => "char",
        NcVariableType::Compound(_) => "compound",
        NcVariableType::Opaque(_) => "opaque",
        NcVariableType::Vlen(_) => "vlen",
        _ => "unknown",
    }
}

/// An enum's members as `name=value`.
fn enum_members(e: &netcdf::types::EnumType) -> Vec<String> {
    fn pairs<T: std::fmt::Display>(names: &[String], values: &[T]) -> Vec<String> {
        names
            .iter()
            .zip(values)
            .map(|(n, v)| format!("{n}={v}"))
            .collect()
    }
    let names = &e.fieldnames;
    match &e.fieldvalues {
        EnumTypeValues::U8(v) => pairs(names, v),
        EnumTypeValues::I8(v) => pairs(names, v),
        EnumTypeValues::U16(v) => pairs(names, v),
        EnumTypeValues::I16(v) => pairs(names, v),
        EnumTypeValues::U32(v) => pairs(names, v),
        EnumTypeValues::I32(v) => pairs(names, v),
        EnumTypeValues::U64(v) => pairs(names, v),
        EnumTypeValues::I64(v) => pairs(names, v),
    }
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
        // One NC_STRING reads as text, like NC_CHAR, so `units` decode either way.
        AttributeValue::Strs(mut x) if x.len() == 1 => AttrValue::Text(x.remove(0)),
        AttributeValue::Strs(x) => AttrValue::Texts(x),
    })
}

/// Reads the hyperslab `start .. start + count` of a variable in its storage type.
pub(crate) fn read(
    file: &netcdf::File,
    var: &VarMeta,
    start: &[usize],
    count: &[usize],
) -> Result<ArrayData, String> {
    quiet_hdf5_on_this_thread();
    let v = file
        .variable(&var.path)
        .ok_or_else(|| "the variable is no longer in the file".to_owned())?;
    let shape: Vec<usize> = v.dimensions().iter().map(|d| d.len()).collect();
    if shape != var.shape {
        return Err(format!("shape changed from {:?} to {shape:?}", var.shape));
    }
    let extents = if count == shape.as_slice() || count.is_empty() {
        netcdf::Extents::All
    } else {
        netcdf::Extents::try_from((start, count)).map_err(|e| e.to_string())?
    };
    fn get<T: netcdf::NcTypeDescriptor + Copy + Default>(
        var: &netcdf::Variable<'_>,
        count: &[usize],
        extents: netcdf::Extents,
    ) -> Result<ArrayD<T>, String> {
        let n: usize = count.iter().product();
        let mut buffer = vec![T::default(); n];
        if n > 0 {
            var.get_values_into(&mut buffer, extents)
                .map_err(|e| e.to_string())?;
        }
        ArrayD::from_shape_vec(IxDyn(count), buffer).map_err(|e| e.to_string())
    }
    if let NcVariableType::Enum(_) = v.vartype() {
        return read_enum(&v, var.raw, count, extents);
    }
    Ok(with_storage_type!(var.raw,
        T => ArrayData::from(get::<T>(&v, count, extents)?),
        time => return Err("time is not a storage type".into())))
}

/// Reads an enum variable as its base integer type: libnetcdf converts only between
/// atomic types, so its values come as raw bytes (this machine's order).
fn read_enum(
    v: &netcdf::Variable<'_>,
    raw: DType,
    count: &[usize],
    extents: netcdf::Extents,
) -> Result<ArrayData, String> {
    fn cast<T: bytemuck::Pod>(bytes: &[u8], count: &[usize]) -> Result<ArrayD<T>, String> {
        if bytes.len() % std::mem::size_of::<T>() != 0 {
            return Err(format!(
                "{} bytes of enum values are not whole values",
                bytes.len()
            ));
        }
        let values: Vec<T> = bytemuck::pod_collect_to_vec(bytes);
        ArrayD::from_shape_vec(IxDyn(count), values).map_err(|e| e.to_string())
    }
    let n: usize = count.iter().product();
    let bytes = if n == 0 {
        Vec::new()
    } else {
        v.get_raw_values(extents).map_err(|e| e.to_string())?
    };
    let not_integer = || format!("an enum of {raw} is not an integer enum");
    if raw.is_float() {
        return Err(not_integer());
    }
    Ok(with_storage_type!(raw,
        T => ArrayData::from(cast::<T>(&bytes, count)?),
        time => return Err(not_integer())))
}

/// Every chunk is read exactly once per computation, so HDF5's chunk cache only
/// costs a copy and memory (one decompressed chunk per variable per open file).
/// Files opened after this call get no cache.
fn no_chunk_cache() {
    let _guard = netcdf_sys::libnetcdf_lock.lock();
    // SAFETY: sets three process-wide defaults of libnetcdf; no pointer is involved;
    // under the lock every libnetcdf call takes.
    unsafe {
        netcdf_sys::nc_set_chunk_cache(0, 0, 0.75);
    }
}

/// HDF5 prints a diagnostic for every (harmless) failed attribute probe that
/// libnetcdf makes, on any thread where automatic error printing was not switched
/// off; libnetcdf switches it off only on the thread that initialised it. Switch it
/// off on the current thread too. HDF5 is found at run time (it is already loaded as a
/// dependency of libnetcdf), so no extra link flag is needed.
pub(crate) fn quiet_hdf5_on_this_thread() {
    thread_local! {
        static DONE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if DONE.with(|d| d.replace(true)) {
        return;
    }
    type SetAuto = unsafe extern "C" fn(i64, *const libc::c_void, *mut libc::c_void) -> i32;
    // SAFETY: looks a symbol up by a NUL-terminated name; a null result is handled.
    let symbol = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"H5Eset_auto2".as_ptr()) };
    if symbol.is_null() {
        return;
    }
    let _guard = netcdf_sys::libnetcdf_lock.lock();
    // SAFETY: `H5Eset_auto2(hid_t estack_id, H5E_auto2_t func, void *client_data)`;
    // hid_t is int64_t in HDF5 >= 1.10 and H5E_DEFAULT is 0. Null turns printing off.
    // Under the lock every libnetcdf call takes, since HDF5 is not thread-safe.
    unsafe {
        let set_auto: SetAuto = std::mem::transmute::<*mut libc::c_void, SetAuto>(symbol);
        set_auto(0, std::ptr::null(), std::ptr::null_mut());
    }
}
