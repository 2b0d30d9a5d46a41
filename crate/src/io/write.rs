//! Writing datasets to NetCDF-4, CF-encoded: NaN becomes the variable's fill value
//! (its original `_FillValue`, or NaN itself as xarray writes), times become numbers
//! in their `units` and `calendar`, attributes go back as they came. Lazy variables
//! are computed and written one chunk at a time, so writing never holds more than a
//! chunk of them in memory.

use std::path::Path;

use netcdf::AttributeValue;

use crate::error::{Error, Result};
use crate::model::{ArrayData, AttrValue, Attrs, Calendar, Data, DataArray, Dataset, Variable};

fn attr_value(v: &AttrValue) -> AttributeValue {
    match v {
        AttrValue::Text(s) => AttributeValue::Str(s.clone()),
        AttrValue::Texts(s) => AttributeValue::Strs(s.clone()),
        AttrValue::I8(x) => AttributeValue::Schars(x.clone()),
        AttrValue::U8(x) => AttributeValue::Uchars(x.clone()),
        AttrValue::I16(x) => AttributeValue::Shorts(x.clone()),
        AttrValue::U16(x) => AttributeValue::Ushorts(x.clone()),
        AttrValue::I32(x) => AttributeValue::Ints(x.clone()),
        AttrValue::U32(x) => AttributeValue::Uints(x.clone()),
        AttrValue::I64(x) => AttributeValue::Longlongs(x.clone()),
        AttrValue::U64(x) => AttributeValue::Ulonglongs(x.clone()),
        AttrValue::F32(x) => AttributeValue::Floats(x.clone()),
        AttrValue::F64(x) => AttributeValue::Doubles(x.clone()),
    }
}

/// How a variable's values are stored: the element type and, for times, the units.
struct Encoding {
    fill: Option<f64>,
    time_units: Option<(String, Calendar)>,
}

fn encoding_of(v: &Variable) -> Encoding {
    let fill = v.encoding().get("_FillValue").and_then(AttrValue::as_f64);
    let time_units = match v.dtype() {
        crate::DType::Time(calendar) => {
            let units = v
                .encoding()
                .get("units")
                .and_then(AttrValue::as_str)
                .filter(|u| crate::TimeUnits::parse(u, calendar).is_some())
                .unwrap_or("seconds since 1970-01-01 00:00:00")
                .to_owned();
            Some((units, calendar))
        }
        _ => None,
    };
    Encoding { fill, time_units }
}

/// Times as numbers in `units`: whole numbers when every time falls on a unit, and
/// missing times (NaT) as the fill value (`_FillValue` from the file, or NaN).
fn encode_times(
    data: &ArrayData,
    units: &str,
    calendar: Calendar,
    fill: Option<f64>,
) -> Result<ArrayData> {
    let parsed = crate::TimeUnits::parse(units, calendar)
        .ok_or_else(|| Error::invalid("time units", format!("cannot encode with `{units}`")))?;
    let ArrayData::Time(a, _) = data else {
        return Ok(data.clone());
    };
    let missing = fill.unwrap_or(f64::NAN);
    let offsets = a.mapv(
        |s| match parsed.encode(crate::CfDateTime::from_seconds(calendar, s)) {
            x if x.is_nan() => missing,
            x => x,
        },
    );
    if offsets.iter().all(|x| x.fract() == 0.0) {
        Ok(ArrayData::I64(offsets.mapv(|x| x as i64)))
    } else {
        Ok(ArrayData::F64(offsets))
    }
}

fn with_fill(data: ArrayData, fill: Option<f64>) -> ArrayData {
    match (data, fill) {
        (ArrayData::F32(a), Some(f)) => {
            ArrayData::F32(a.mapv(|x| if x.is_nan() { f as f32 } else { x }))
        }
        (ArrayData::F64(a), Some(f)) => ArrayData::F64(a.mapv(|x| if x.is_nan() { f } else { x })),
        (other, _) => other,
    }
}

fn put(
    var: &mut netcdf::VariableMut<'_>,
    data: &ArrayData,
    start: &[usize],
) -> std::result::Result<(), netcdf::Error> {
    let count = data.shape().to_vec();
    if count.iter().product::<usize>() == 0 {
        return Ok(());
    }
    let extents = if count.is_empty() {
        netcdf::Extents::All
    } else {
        netcdf::Extents::try_from((start, count.as_slice()))?
    };
    macro_rules! put_as {
        ($a:expr) => {{
            let values: Vec<_> = $a.iter().copied().collect();
            var.put_values(&values, extents)
        }};
    }
    match data {
        ArrayData::F32(a) => put_as!(a),
        ArrayData::F64(a) => put_as!(a),
        ArrayData::I8(a) => put_as!(a),
        ArrayData::U8(a) => put_as!(a),
        ArrayData::I16(a) => put_as!(a),
        ArrayData::U16(a) => put_as!(a),
        ArrayData::I32(a) => put_as!(a),
        ArrayData::U32(a) => put_as!(a),
        ArrayData::I64(a) | ArrayData::Time(a, _) => put_as!(a),
        ArrayData::U64(a) => put_as!(a),
    }
}

fn write_variable(file: &mut netcdf::FileMut, name: &str, v: &Variable, path: &Path) -> Result<()> {
    let error = |reason: String| Error::FileVariable {
        path: path.to_owned(),
        variable: name.to_owned(),
        reason,
    };
    let enc = encoding_of(v);
    let dims: Vec<&str> = v.dims().iter().map(String::as_str).collect();
    // Times are coordinates, always in memory: encode them once, up front.
    let encoded_times = match &enc.time_units {
        Some((units, calendar)) => {
            let values = v
                .values()
                .ok_or_else(|| error("lazy times cannot be written".into()))?;
            Some(encode_times(values, units, *calendar, enc.fill)?)
        }
        None => None,
    };
    let stored = encoded_times.as_ref().map_or(v.dtype(), ArrayData::dtype);
    let mut var = match stored {
        crate::DType::F32 => file.add_variable::<f32>(name, &dims),
        crate::DType::F64 => file.add_variable::<f64>(name, &dims),
        crate::DType::I8 => file.add_variable::<i8>(name, &dims),
        crate::DType::U8 => file.add_variable::<u8>(name, &dims),
        crate::DType::I16 => file.add_variable::<i16>(name, &dims),
        crate::DType::U16 => file.add_variable::<u16>(name, &dims),
        crate::DType::I32 => file.add_variable::<i32>(name, &dims),
        crate::DType::U32 => file.add_variable::<u32>(name, &dims),
        crate::DType::I64 | crate::DType::Time(_) => file.add_variable::<i64>(name, &dims),
        crate::DType::U64 => file.add_variable::<u64>(name, &dims),
    }
    .map_err(|e| error(e.to_string()))?;
    let fill = match stored {
        crate::DType::F32 | crate::DType::F64 => Some(enc.fill.unwrap_or(f64::NAN)),
        crate::DType::I64 if encoded_times.is_some() => enc.fill,
        _ => None,
    };
    match (stored, fill) {
        (crate::DType::F32, Some(f)) => var.set_fill_value(f as f32),
        (crate::DType::F64, Some(f)) => var.set_fill_value(f),
        (crate::DType::I64, Some(f)) => var.set_fill_value(f as i64),
        _ => Ok(()),
    }
    .map_err(|e| error(e.to_string()))?;
    for (key, value) in v.attrs().iter() {
        if key == "_FillValue" {
            continue;
        }
        var.put_attribute(key, attr_value(value))
            .map_err(|e| error(format!("attribute `{key}`: {e}")))?;
    }
    if let Some((units, calendar)) = &enc.time_units {
        var.put_attribute("units", units.as_str())
            .map_err(|e| error(e.to_string()))?;
        var.put_attribute("calendar", calendar.name())
            .map_err(|e| error(e.to_string()))?;
    }
    match (&encoded_times, v.data()) {
        (Some(times), _) => {
            let start = vec![0; times.shape().len()];
            put(&mut var, times, &start).map_err(|e| error(e.to_string()))?;
        }
        (None, Data::InMemory(a)) => {
            let start = vec![0; a.shape().len()];
            put(&mut var, &with_fill(a.as_ref().clone(), fill), &start)
                .map_err(|e| error(e.to_string()))?;
        }
        (None, Data::Lazy(lazy)) => {
            let offsets = lazy.offsets();
            for (i, chunk) in lazy.chunks().iter().enumerate() {
                let values = with_fill(chunk.source.read()?.as_ref().clone(), fill);
                let mut start = vec![0; lazy.shape().len()];
                start[lazy.axis()] = offsets[i];
                put(&mut var, &values, &start).map_err(|e| error(e.to_string()))?;
            }
        }
    }
    Ok(())
}

impl Dataset {
    /// Writes the dataset to a NetCDF-4 file, CF-encoded (xarray's `to_netcdf`).
    /// Lazy variables are computed chunk by chunk as they are written.
    ///
    /// ```no_run
    /// # let ds = geoxr::open_mfdataset("data/IMERG/*.nc4")?;
    /// ds.mean("time")?.to_netcdf("mean.nc")?;
    /// # Ok::<(), geoxr::Error>(())
    /// ```
    pub fn to_netcdf(&self, path: impl AsRef<Path>) -> Result<()> {
        write_dataset(
            path.as_ref(),
            self.coords(),
            self.data_vars(),
            self.attrs(),
            self.dims(),
        )
    }
}

impl DataArray {
    /// Writes the array, with its coordinates, to a NetCDF-4 file; the variable is
    /// named after the array (or `__xarray_dataarray_variable__`, as xarray does).
    pub fn to_netcdf(&self, path: impl AsRef<Path>) -> Result<()> {
        if let Some((dim, _)) = self.multi_indexes().first() {
            return Err(Error::invalid(
                format!("writing `{}`", self.name().unwrap_or("array")),
                format!("`{dim}` is a stacked dimension; unstack it first"),
            ));
        }
        let name = self
            .name()
            .unwrap_or("__xarray_dataarray_variable__")
            .to_owned();
        let data_vars = vec![(name, self.variable().clone())];
        write_dataset(
            path.as_ref(),
            self.coords(),
            &data_vars,
            &Attrs::default(),
            &self.sizes(),
        )
    }
}

fn write_dataset(
    path: &Path,
    coords: &[(String, Variable)],
    data_vars: &[(String, Variable)],
    attrs: &Attrs,
    sizes: &crate::Sizes,
) -> Result<()> {
    let file_error = |reason: String| Error::File {
        path: path.to_owned(),
        reason,
    };
    match path.extension().and_then(|e| e.to_str()) {
        Some("nc" | "nc4" | "netcdf") => {}
        _ => return Err(file_error("a NetCDF file name ends in .nc or .nc4".into())),
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.is_dir() {
            return Err(file_error(format!(
                "the folder {} does not exist",
                dir.display()
            )));
        }
    }
    // Write next to the target and rename, so a failure never leaves half a file.
    let partial = path.with_extension("partial.nc");
    let result = (|| -> Result<()> {
        let mut file = netcdf::create(&partial).map_err(|e| file_error(e.to_string()))?;
        for (dim, len) in sizes.iter() {
            file.add_dimension(dim, len)
                .map_err(|e| file_error(format!("dimension `{dim}`: {e}")))?;
        }
        for (key, value) in attrs.iter() {
            file.add_attribute(key, attr_value(value))
                .map_err(|e| file_error(format!("attribute `{key}`: {e}")))?;
        }
        for (name, v) in coords.iter().chain(data_vars) {
            write_variable(&mut file, name, v, path)?;
        }
        file.close().map_err(|e| file_error(e.to_string()))
    })();
    match result {
        Ok(()) => std::fs::rename(&partial, path).map_err(|e| file_error(e.to_string())),
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}
