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

/// Bytes the attributes take in a file, at least: names and values.
fn attrs_bytes(attrs: &Attrs) -> u64 {
    let value = |v: &AttrValue| -> usize {
        match v {
            AttrValue::Text(s) => s.len(),
            AttrValue::Texts(s) => s.iter().map(String::len).sum(),
            AttrValue::I8(x) => x.len(),
            AttrValue::U8(x) => x.len(),
            AttrValue::I16(x) => 2 * x.len(),
            AttrValue::U16(x) => 2 * x.len(),
            AttrValue::I32(x) => 4 * x.len(),
            AttrValue::U32(x) => 4 * x.len(),
            AttrValue::F32(x) => 4 * x.len(),
            AttrValue::I64(x) => 8 * x.len(),
            AttrValue::U64(x) => 8 * x.len(),
            AttrValue::F64(x) => 8 * x.len(),
        }
    };
    attrs
        .iter()
        .map(|(k, v)| (k.len() + value(v)) as u64)
        .fold(0, u64::saturating_add)
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
            let mut values = Vec::new();
            values
                .try_reserve_exact($a.len())
                .map_err(|e| netcdf::Error::Str(format!("no memory for the values: {e}")))?;
            values.extend($a.iter().copied());
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

fn write_variable(
    file: &mut netcdf::FileMut,
    name: &str,
    v: &Variable,
    coordinates: Option<&str>,
    path: &Path,
) -> Result<()> {
    let error = |reason: String| Error::FileVariable {
        path: path.to_owned(),
        variable: name.to_owned(),
        reason,
    };
    let enc = encoding_of(v);
    let dims: Vec<&str> = v.dims().iter().map(String::as_str).collect();
    // Times are encoded once, up front (lazy ones, such as time bounds, are loaded:
    // they are small next to the data).
    let encoded_times = match &enc.time_units {
        Some((units, calendar)) => {
            let loaded;
            let values = match v.values() {
                Some(values) => values,
                None => {
                    loaded = v.load_here(name)?;
                    loaded
                        .values()
                        .ok_or_else(|| error("its times could not be loaded".into()))?
                }
            };
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
        if key == "_FillValue" || (key == "coordinates" && coordinates.is_some()) {
            continue;
        }
        var.put_attribute(key, attr_value(value))
            .map_err(|e| error(format!("attribute `{key}`: {e}")))?;
    }
    if let Some(list) = coordinates {
        var.put_attribute("coordinates", list)
            .map_err(|e| error(e.to_string()))?;
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
            // A filled copy and the buffer handed to the library.
            let copies =
                crate::base::bytes::of_shape(a.shape(), v.dtype().size()).saturating_mul(2);
            crate::base::budget::check_fits(&format!("writing `{name}`"), copies)?;
            let start = vec![0; a.shape().len()];
            put(&mut var, &with_fill(a.as_ref().clone(), fill), &start)
                .map_err(|e| error(e.to_string()))?;
        }
        (None, Data::Lazy(lazy)) => {
            let offsets = lazy.offsets();
            for (i, chunk) in lazy.chunks().iter().enumerate() {
                let mut shape = lazy.shape().to_vec();
                if let Some(n) = shape.get_mut(lazy.axis()) {
                    *n = chunk.len;
                }
                // The chunk read, its filled copy and the buffer handed to the library.
                let bytes =
                    crate::base::bytes::of_shape(&shape, v.dtype().size()).saturating_mul(3);
                crate::base::budget::check_fits(
                    &format!("writing `{name}` ({})", chunk.source.describe()),
                    bytes,
                )?;
                let values = with_fill(chunk.source.read()?.as_ref().clone(), fill);
                let mut start = vec![0; lazy.shape().len()];
                // A scalar (a grid mapping's `crs`, say) has no axis to offset.
                if let (Some(s), Some(offset)) = (start.get_mut(lazy.axis()), offsets.get(i)) {
                    *s = *offset;
                }
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
        self.check()?;
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
            &self.variable().sizes(),
        )
    }
}

/// Whether a coordinate is the index of its one dimension.
fn is_index(name: &str, c: &Variable) -> bool {
    c.dims().len() == 1 && c.dims()[0] == name
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
    // Refuse up front what cannot fit: a write that fails half-way inside HDF5
    // leaves the library holding the file. The estimate is the values' and the
    // attributes' own bytes (nothing is compressed) plus a little metadata, so it
    // stays below the file's size.
    let values: u64 = coords
        .iter()
        .chain(data_vars)
        .map(|(_, v)| (v.nbytes() as u64 + 4096).saturating_add(attrs_bytes(v.attrs())))
        .fold(attrs_bytes(attrs), u64::saturating_add);
    crate::base::fsx::check_room(path, "the file", values.saturating_add(16 * 1024))?;
    // A fresh temporary beside the target, synced and renamed over it: a failure
    // never leaves half a file, and no other file is touched.
    crate::base::fsx::write_atomic(path, |temporary| {
        let mut file = netcdf::create(temporary).map_err(|e| file_error(e.to_string()))?;
        for (dim, len) in sizes.iter() {
            file.add_dimension(dim, len)
                .map_err(|e| file_error(format!("dimension `{dim}`: {e}")))?;
        }
        for (key, value) in attrs.iter() {
            file.add_attribute(key, attr_value(value))
                .map_err(|e| file_error(format!("attribute `{key}`: {e}")))?;
        }
        // Coordinates that are not indexes are named in the CF `coordinates`
        // attribute of each data variable they label, so they come back as
        // coordinates; those that label none are named in the file's attribute.
        let labels = |v: &Variable| -> Vec<&str> {
            coords
                .iter()
                .filter(|(n, c)| !is_index(n, c) && c.dims().iter().all(|d| v.dims().contains(d)))
                .map(|(n, _)| n.as_str())
                .collect()
        };
        let unattached: Vec<&str> = coords
            .iter()
            .filter(|(n, c)| !is_index(n, c))
            .filter(|(n, _)| {
                !data_vars
                    .iter()
                    .any(|(_, v)| labels(v).contains(&n.as_str()))
            })
            .map(|(n, _)| n.as_str())
            .collect();
        if !unattached.is_empty() {
            file.add_attribute("coordinates", unattached.join(" ").as_str())
                .map_err(|e| file_error(format!("attribute `coordinates`: {e}")))?;
        }
        for (name, v) in coords {
            write_variable(&mut file, name, v, None, path)?;
        }
        for (name, v) in data_vars {
            let list = labels(v).join(" ");
            let list = (!list.is_empty()).then_some(list.as_str());
            write_variable(&mut file, name, v, list, path)?;
        }
        file.close().map_err(|e| file_error(e.to_string()))
    })
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    use crate::base::child;
    use crate::model::{ArrayData, Attrs, Dataset, Variable};

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("geoxr-write-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn listing(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// `n` float32 values along `x`, no two alike (so no filter can shrink them).
    fn dataset(n: usize) -> Dataset {
        let values: Vec<f32> = (0..n).map(|i| i as f32 * 0.37).collect();
        let v = Variable::new(
            ["x"],
            ArrayData::F32(ndarray::Array1::from(values).into_dyn()),
        )
        .unwrap();
        Dataset::new(vec![], vec![("rain".into(), v)], Attrs::default()).unwrap()
    }

    #[test]
    fn disk_full_keeps_the_old_file_and_leaves_nothing_behind() {
        if let Some(role) = child::role() {
            // The child: files may grow to 64 kB, and writing past that returns
            // EFBIG instead of killing the process with SIGXFSZ.
            let dir = PathBuf::from(role);
            let limit = libc::rlimit {
                rlim_cur: 64 * 1024,
                rlim_max: 64 * 1024,
            };
            // SAFETY: plain libc calls on this process's own limits and signal mask.
            unsafe {
                assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &limit), 0);
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            }
            let target = dir.join("result.nc");
            let err = dataset(1 << 20).to_netcdf(&target).unwrap_err();
            println!("refused as expected: {err}");
            assert!(err.to_string().contains("result.nc"), "{err}");
            // Small values with large attributes: the attributes count too.
            let mut attrs = Attrs::default();
            for i in 0..100 {
                attrs.set(&format!("note{i}"), "x".repeat(1000).as_str());
            }
            let v = Variable::new(
                ["x"],
                ArrayData::F32(ndarray::Array1::<f32>::zeros(10).into_dyn()),
            )
            .unwrap()
            .with_attrs(attrs);
            let wordy = Dataset::new(vec![], vec![("rain".into(), v)], Attrs::default()).unwrap();
            let err = wordy.to_netcdf(&target).unwrap_err();
            assert!(err.to_string().contains("nothing was written"), "{err}");
            return;
        }
        let dir = scratch("full");
        let target = dir.join("result.nc");
        dataset(10).to_netcdf(&target).unwrap();
        let old = std::fs::read(&target).unwrap();
        std::fs::write(dir.join("result.partial.nc"), "someone else's").unwrap();
        let ended = child::run(
            "io::write::tests::disk_full_keeps_the_old_file_and_leaves_nothing_behind",
            &dir.to_string_lossy(),
            Duration::from_secs(60),
        );
        ended.assert_success();
        assert_eq!(std::fs::read(&target).unwrap(), old, "old file changed");
        assert_eq!(listing(&dir), ["result.nc", "result.partial.nc"]);
        assert_eq!(
            std::fs::read_to_string(dir.join("result.partial.nc")).unwrap(),
            "someone else's"
        );
        let back = crate::open_dataset(&target).unwrap();
        assert_eq!(back.get("rain").shape(), [10]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn writing_through_a_symlink_updates_its_target() {
        let dir = scratch("link");
        let real = dir.join("real.nc");
        dataset(3).to_netcdf(&real).unwrap();
        let link = dir.join("link.nc");
        std::os::unix::fs::symlink("real.nc", &link).unwrap();
        dataset(5).to_netcdf(&link).unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        let back = crate::open_dataset(&real).unwrap();
        assert_eq!(back.get("rain").shape(), [5]);
        assert_eq!(listing(&dir), ["link.nc", "real.nc"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// One day of `rain(time, x)` in the given element type, with a time coordinate.
    fn day(day: i64, rain: ArrayData) -> Dataset {
        let time = ArrayData::Time(
            ndarray::Array1::from(vec![day * 86_400]).into_dyn(),
            crate::Calendar::Standard,
        );
        let time = Variable::new(["time"], time).unwrap();
        let rain = Variable::new(["time", "x"], rain).unwrap();
        Dataset::new(
            vec![("time".into(), time)],
            vec![("rain".into(), rain)],
            Attrs::default(),
        )
        .unwrap()
    }

    #[test]
    fn files_differing_in_dtype_are_refused_as_such() {
        let dir = scratch("dtype");
        let f32s = ArrayData::F32(ndarray::Array2::<f32>::zeros((1, 4)).into_dyn());
        let f64s = ArrayData::F64(ndarray::Array2::<f64>::zeros((1, 4)).into_dyn());
        day(17_563, f32s).to_netcdf(dir.join("day-1.nc")).unwrap();
        day(17_564, f64s).to_netcdf(dir.join("day-2.nc")).unwrap();
        let pattern = dir.join("day-*.nc").to_string_lossy().into_owned();
        let message = match crate::open_mfdataset(&pattern) {
            Ok(ds) => ds.get("rain").load().map(|_| ()).unwrap_err().to_string(),
            Err(e) => e.to_string(),
        };
        assert!(
            message.contains("float32")
                && message.contains("float64")
                && !message.contains("shape"),
            "{message}"
        );
        assert!(message.contains("day-2.nc"), "{message}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
