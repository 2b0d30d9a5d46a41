//! Tests of reading and combining on small files the tests write themselves.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::model::{ArrayData, Calendar, DType};
use crate::{open_dataset, open_mfdataset, Error};

/// A folder under the system temp dir, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("geoxr-io-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn pattern(&self, glob: &str) -> String {
        self.0.join(glob).to_string_lossy().into_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const FILL: f32 = -9999.9;

/// What one small daily file holds.
struct Day<'a> {
    day: i32,
    calendar: &'a str,
    lon: &'a [f32],
    lat: &'a [f32],
    with_count: bool,
}

impl Default for Day<'_> {
    fn default() -> Self {
        Day {
            day: 17_563,
            calendar: "julian",
            lon: &[-70.0, -69.9, -69.8, -69.7],
            lat: &[-15.0, -14.9, -14.8],
            with_count: true,
        }
    }
}

/// Writes a file in the IMERG layout: `rain(time, lon, lat)` float32 whose values are
/// `day + 0.01 * (i * nlat + j)` with a fill value at (0, 0); `count` int16; `packed`
/// int16 with scale and offset; int32 time with units and calendar.
fn write_day(path: &Path, d: &Day) {
    let mut f = netcdf::create(path).unwrap();
    f.add_unlimited_dimension("time").unwrap();
    f.add_dimension("lon", d.lon.len()).unwrap();
    f.add_dimension("lat", d.lat.len()).unwrap();
    f.add_attribute("title", "test <b>file</b> & more").unwrap();
    let mut v = f.add_variable::<f32>("lon", &["lon"]).unwrap();
    v.put_attribute("units", "degrees_east").unwrap();
    v.put_values(d.lon, ..).unwrap();
    let mut v = f.add_variable::<f32>("lat", &["lat"]).unwrap();
    v.put_values(d.lat, ..).unwrap();
    let mut v = f.add_variable::<i32>("time", &["time"]).unwrap();
    v.put_attribute("units", "days since 1970-01-01 00:00:00Z")
        .unwrap();
    v.put_attribute("calendar", d.calendar).unwrap();
    v.put_values(&[d.day], (&[0], &[1])).unwrap();
    let n = d.lon.len() * d.lat.len();
    let extent = (&[0usize, 0, 0], &[1usize, d.lon.len(), d.lat.len()]);
    let mut rain: Vec<f32> = (0..n).map(|k| d.day as f32 + 0.01 * k as f32).collect();
    rain[0] = FILL;
    let mut v = f
        .add_variable::<f32>("rain", &["time", "lon", "lat"])
        .unwrap();
    v.set_fill_value(FILL).unwrap();
    v.put_attribute("units", "mm").unwrap();
    v.put_attribute("long_name", "rain <script>alert(1)</script>")
        .unwrap();
    v.put_values(&rain, extent).unwrap();
    if d.with_count {
        let mut v = f
            .add_variable::<i16>("count", &["time", "lon", "lat"])
            .unwrap();
        v.put_values(&vec![3i16; n], extent).unwrap();
    }
    let mut v = f
        .add_variable::<i16>("packed", &["time", "lon", "lat"])
        .unwrap();
    v.put_attribute("scale_factor", 0.5f32).unwrap();
    v.put_attribute("add_offset", 10.0f32).unwrap();
    v.set_fill_value(-1i16).unwrap();
    let mut packed = vec![4i16; n];
    packed[1] = -1;
    v.put_values(&packed, extent).unwrap();
    f.close().unwrap();
}

fn write_days(dir: &Scratch, days: &[i32]) -> Vec<PathBuf> {
    days.iter()
        .enumerate()
        .map(|(k, &day)| {
            // Names run against time order, so ordering by name would be wrong.
            let path = dir.path(&format!("day-{}.nc4", days.len() - k));
            write_day(
                &path,
                &Day {
                    day,
                    ..Day::default()
                },
            );
            path
        })
        .collect()
}

#[test]
fn open_dataset_decodes_cf_encoding() {
    let dir = Scratch::new();
    let path = dir.path("one.nc4");
    write_day(&path, &Day::default());
    let ds = open_dataset(&path).unwrap();
    assert_eq!(ds.dims().get("lon"), Some(4));
    let time = ds.get("time").into_result().unwrap();
    assert_eq!(time.dtype(), DType::Time(Calendar::Julian));
    let times = time.values().unwrap().as_times().unwrap();
    assert_eq!(times[0].to_string(), "2018-02-01 00:00:00");
    assert!(time.variable().encoding().get("units").is_some());

    let rain = ds.get("rain").into_result().unwrap();
    assert!(rain.is_lazy());
    assert_eq!(rain.dtype(), DType::F32);
    let values = rain.to_ndarray::<f32>().unwrap();
    assert!(values[[0, 0, 0]].is_nan(), "the fill value becomes NaN");
    assert_eq!(values[[0, 0, 1]], 17_563.0 + 0.01);
    assert!(rain.attrs().get("_FillValue").is_none());
    assert_eq!(
        rain.variable()
            .encoding()
            .get("_FillValue")
            .and_then(|v| v.as_f64()),
        Some(FILL as f64)
    );

    let packed = ds.get("packed").to_ndarray::<f32>().unwrap();
    assert_eq!(packed[[0, 0, 0]], 12.0);
    assert!(packed[[0, 0, 1]].is_nan());
    let count = ds.get("count").into_result().unwrap();
    assert_eq!(
        count.dtype(),
        DType::I16,
        "integers without encoding stay integers"
    );
    assert_eq!(
        ds.get("lon").dtype(),
        DType::F32,
        "float32 coordinates stay float32"
    );
}

#[test]
fn mfdataset_orders_by_time_not_name_and_stays_lazy() {
    let dir = Scratch::new();
    write_days(&dir, &[17_563, 17_564, 17_565]);
    let ds = open_mfdataset(&dir.pattern("day-*.nc4")).unwrap();
    assert_eq!(ds.dims().get("time"), Some(3));
    let times: Vec<String> = ds
        .get("time")
        .values()
        .unwrap()
        .as_times()
        .unwrap()
        .iter()
        .map(|t| t.date_string())
        .collect();
    assert_eq!(times, ["2018-02-01", "2018-02-02", "2018-02-03"]);
    let rain = ds.get("rain").into_result().unwrap();
    let crate::model::Data::Lazy(lazy) = rain.data() else {
        panic!("rain should be lazy")
    };
    assert_eq!(lazy.chunks().len(), 3, "one chunk per file");
    assert_eq!(lazy.chunk_shape(), vec![1, 4, 3]);
    let values = rain.to_ndarray::<f32>().unwrap();
    for (t, day) in [17_563.0f32, 17_564.0, 17_565.0].iter().enumerate() {
        assert_eq!(
            values[[t, 1, 2]],
            day + 0.01 * 5.0,
            "day {t} comes from its own file"
        );
    }
    let loaded = ds.load().unwrap();
    assert!(loaded.data_vars().iter().all(|(_, v)| !v.is_lazy()));
}

#[test]
fn mixed_calendars_keep_their_dates() {
    let dir = Scratch::new();
    write_day(
        &dir.path("a.nc4"),
        &Day {
            day: 17_563,
            calendar: "julian",
            ..Day::default()
        },
    );
    write_day(
        &dir.path("b.nc4"),
        &Day {
            day: 17_564,
            calendar: "standard",
            ..Day::default()
        },
    );
    let ds = open_mfdataset(&dir.pattern("*.nc4")).unwrap();
    let time = ds.get("time").into_result().unwrap();
    assert_eq!(time.dtype(), DType::Time(Calendar::Julian));
    let dates: Vec<String> = time
        .values()
        .unwrap()
        .as_times()
        .unwrap()
        .iter()
        .map(|t| t.date_string())
        .collect();
    assert_eq!(dates, ["2018-02-01", "2018-02-02"]);
}

#[test]
fn a_missing_time_stays_missing_when_calendars_are_harmonised() {
    let dir = Scratch::new();
    let write = |name: &str, calendar: &str, days: &[i32]| {
        let mut f = netcdf::create(dir.path(name)).unwrap();
        f.add_unlimited_dimension("time").unwrap();
        let mut v = f.add_variable::<i32>("time", &["time"]).unwrap();
        v.set_fill_value(-1i32).unwrap();
        v.put_attribute("units", "days since 1970-01-01").unwrap();
        v.put_attribute("calendar", calendar).unwrap();
        v.put_values(days, (&[0], &[days.len()])).unwrap();
        let mut v = f.add_variable::<f32>("rain", &["time"]).unwrap();
        v.put_values(&vec![1.0f32; days.len()], (&[0], &[days.len()]))
            .unwrap();
    };
    write("a.nc", "julian", &[17_563]);
    write("b.nc", "standard", &[17_564, -1]);
    let ds = open_mfdataset(&dir.pattern("*.nc")).unwrap();
    let time = ds.get("time").into_result().unwrap();
    assert_eq!(time.dtype(), DType::Time(Calendar::Julian));
    let times = time.values().unwrap().as_times().unwrap();
    let shown: Vec<String> = times.iter().map(|t| t.to_string()).collect();
    assert_eq!(shown[..2], ["2018-02-01 00:00:00", "2018-02-02 00:00:00"]);
    assert!(times[2].is_nat(), "{shown:?}");
}

#[test]
fn reprs_show_structure_and_escape_file_text() {
    let dir = Scratch::new();
    write_days(&dir, &[17_563, 17_564]);
    let ds = open_mfdataset(&dir.pattern("day-*.nc4")).unwrap();
    let text = ds.to_string();
    assert!(text.starts_with("<geoxr.Dataset>"), "{text}");
    assert!(
        text.contains("Dimensions:") && text.contains("time: 2") && text.contains("lon: 4"),
        "{text}"
    );
    assert!(
        text.contains("  * time") && text.contains("cftime[julian]"),
        "{text}"
    );
    assert!(text.contains("2018-02-01 2018-02-02"), "{text}");
    assert!(
        text.contains("rain ") && text.contains("lazy<chunksize=(1, 4, 3), chunks=2>"),
        "{text}"
    );
    let html = crate::notebook::dataset_html_for_tests(&ds);
    assert!(!html.contains("<b>file</b>") && html.contains("&lt;b&gt;file&lt;/b&gt; &amp; more"));
    let rain = crate::notebook::dataarray_html_for_tests(&ds.get("rain").into_result().unwrap());
    assert!(!rain.contains("<script>") && rain.contains("&lt;script&gt;"));
    let loaded = ds.get("rain").load().unwrap().to_string();
    assert!(
        loaded.contains("nan 1.756e+04"),
        "in-memory arrays preview their values: {loaded}"
    );
}

fn assert_error(result: Result<crate::Dataset, Error>, needles: &[&str]) -> Error {
    let err = result.expect_err("expected an error");
    let message = err.to_string();
    for n in needles {
        assert!(message.contains(n), "`{message}` should mention `{n}`");
    }
    err
}

#[test]
fn glob_matching_nothing_names_the_pattern() {
    let dir = Scratch::new();
    let pattern = dir.pattern("3B-DAY*.nc4");
    let err = assert_error(open_mfdataset(&pattern), &[&pattern]);
    assert!(matches!(err, Error::NoFilesMatch { .. }));
}

#[test]
fn a_file_that_is_not_netcdf_is_named() {
    let dir = Scratch::new();
    write_days(&dir, &[17_563]);
    std::fs::write(dir.path("day-9.nc4"), "this is a text file, not NetCDF\n").unwrap();
    assert_error(
        open_mfdataset(&dir.pattern("day-*.nc4")),
        &["day-9.nc4", "not a NetCDF file"],
    );
    assert_error(open_dataset(dir.path("day-9.nc4")), &["day-9.nc4"]);
    assert_error(
        open_dataset(dir.path("missing.nc4")),
        &["missing.nc4", "no such file"],
    );
}

#[test]
fn a_truncated_file_is_named() {
    let dir = Scratch::new();
    let paths = write_days(&dir, &[17_563, 17_564]);
    let bytes = std::fs::read(&paths[1]).unwrap();
    std::fs::write(&paths[1], &bytes[..bytes.len() / 2]).unwrap();
    let name = paths[1].file_name().unwrap().to_string_lossy().into_owned();
    let result = open_mfdataset(&dir.pattern("day-*.nc4")).and_then(|ds| ds.load());
    assert_error(result, &[&name]);
}

#[test]
fn differing_grids_name_the_dimension_and_files() {
    let dir = Scratch::new();
    write_day(&dir.path("a.nc4"), &Day::default());
    write_day(
        &dir.path("b.nc4"),
        &Day {
            day: 17_564,
            lon: &[-70.0, -69.9, -69.8, -69.6],
            ..Day::default()
        },
    );
    let err = assert_error(
        open_mfdataset(&dir.pattern("*.nc4")),
        &["`lon`", "a.nc4", "b.nc4", "value 3"],
    );
    assert!(matches!(err, Error::GridMismatch { .. }));
}

#[test]
fn a_missing_variable_names_it_and_the_file() {
    let dir = Scratch::new();
    write_day(&dir.path("a.nc4"), &Day::default());
    write_day(
        &dir.path("b.nc4"),
        &Day {
            day: 17_564,
            with_count: false,
            ..Day::default()
        },
    );
    let err = assert_error(
        open_mfdataset(&dir.pattern("*.nc4")),
        &["`count`", "b.nc4 lacks"],
    );
    assert!(matches!(err, Error::MissingInFile { .. }));
}

#[test]
fn two_files_with_the_same_time_are_named() {
    let dir = Scratch::new();
    write_day(&dir.path("a.nc4"), &Day::default());
    write_day(&dir.path("b.nc4"), &Day::default());
    write_day(
        &dir.path("c.nc4"),
        &Day {
            day: 17_570,
            ..Day::default()
        },
    );
    let err = assert_error(
        open_mfdataset(&dir.pattern("*.nc4")),
        &["a.nc4", "b.nc4", "2018-02-01"],
    );
    assert!(matches!(err, Error::DuplicateLabel { .. }));
}

#[test]
fn a_missing_name_lists_what_exists_and_loses_nothing() {
    let dir = Scratch::new();
    write_days(&dir, &[17_563, 17_564]);
    let ds = open_mfdataset(&dir.pattern("day-*.nc4")).unwrap();
    let err = ds.get("HQprecipitation").into_result().unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("`HQprecipitation`") && message.contains("rain"),
        "{message}"
    );
    // A failed call leaves what was opened intact.
    assert_eq!(
        ds.get("rain").to_ndarray::<f32>().unwrap().shape(),
        &[2, 4, 3]
    );
    // And a bad pattern afterwards does not disturb it either.
    assert!(open_mfdataset(&dir.pattern("nothing-*.nc4")).is_err());
    assert_eq!(ds.dims().get("time"), Some(2));
}

#[test]
fn sample_generator_writes_the_imerg_layout() {
    let dir = Scratch::new();
    let files = crate::sample::SampleSpec::tutorial()
        .days(6)
        .write_to(&dir.0)
        .unwrap();
    assert_eq!(files.len(), 6);
    assert!(files[0].ends_with("3B-DAY.MS.MRG.3IMERG.20180201-S000000-E235959.V06.nc4.nc4"));
    let ds = open_mfdataset(&dir.pattern("3B-DAY.MS.MRG.3IMERG.2018*.nc4")).unwrap();
    assert_eq!(ds.dims().get("time"), Some(6));
    assert_eq!(ds.dims().get("lon"), Some(550));
    assert_eq!(ds.dims().get("lat"), Some(501));
    let hq = ds.get("HQprecipitation").into_result().unwrap();
    assert_eq!(hq.dims(), ["time", "lon", "lat"]);
    assert_eq!(hq.attrs().get("units").and_then(|v| v.as_str()), Some("mm"));
    let file = netcdf::open(&files[0]).unwrap();
    let var = file.variable("HQprecipitation").unwrap();
    assert_eq!(var.chunking().unwrap(), Some(vec![1, 550, 501]));
    let time = file.variable("time").unwrap();
    assert_eq!(
        time.attribute_value("calendar").unwrap().unwrap(),
        netcdf::AttributeValue::Str("julian".into())
    );
    let values = hq.to_ndarray::<f32>().unwrap();
    let zeros = values.iter().filter(|v| **v == 0.0).count();
    let nans = values.iter().filter(|v| v.is_nan()).count();
    assert!(zeros > values.len() / 3, "many exact zeros: {zeros}");
    assert!(
        nans > 0 && nans < values.len() / 100,
        "a few missing pixels: {nans}"
    );
    // Same seed, same files.
    let again = Scratch::new();
    crate::sample::SampleSpec::tutorial()
        .days(1)
        .write_to(&again.0)
        .unwrap();
    let a = open_dataset(&files[0])
        .unwrap()
        .get("HQprecipitation")
        .to_ndarray::<f32>()
        .unwrap();
    let b = open_dataset(again.0.join(files[0].file_name().unwrap()))
        .unwrap()
        .get("HQprecipitation")
        .to_ndarray::<f32>()
        .unwrap();
    assert!(a
        .iter()
        .zip(&b)
        .all(|(x, y)| x == y || (x.is_nan() && y.is_nan())));
    let _ = ArrayData::zeros(DType::F32, &[1]);
}

#[test]
fn to_netcdf_round_trips_values_coordinates_and_attributes() {
    let dir = Scratch::new();
    write_days(&dir, &[17_563, 17_564, 17_565]);
    let ds = open_mfdataset(&dir.pattern("day-*.nc4")).unwrap();
    let out = dir.path("copy.nc");
    ds.to_netcdf(&out).unwrap();
    let back = open_dataset(&out).unwrap();
    for name in ["rain", "packed", "count", "time", "lon", "lat"] {
        let (a, b) = (ds.get(name).load().unwrap(), back.get(name).load().unwrap());
        assert_eq!(a.dtype(), b.dtype(), "{name}");
        let (va, vb) = (
            a.values().unwrap().to_f64_vec(),
            b.values().unwrap().to_f64_vec(),
        );
        assert!(
            va.iter()
                .zip(&vb)
                .all(|(x, y)| x == y || (x.is_nan() && y.is_nan())),
            "{name}"
        );
        assert_eq!(a.attrs(), b.attrs(), "{name}");
    }
    assert_eq!(back.attrs().get("title"), ds.attrs().get("title"));
    let time = back.get("time").into_result().unwrap();
    assert_eq!(time.dtype(), DType::Time(Calendar::Julian));
    // A reduced array writes and reads back too.
    let mean = ds.get("rain").mean("time").into_result().unwrap();
    mean.to_netcdf(dir.path("mean.nc")).unwrap();
    let again = open_dataset(dir.path("mean.nc"))
        .unwrap()
        .get("rain")
        .into_result()
        .unwrap();
    let (a, b) = (
        again.to_ndarray::<f32>().unwrap(),
        mean.to_ndarray::<f32>().unwrap(),
    );
    assert!(a
        .iter()
        .zip(b.iter())
        .all(|(x, y)| x.to_bits() == y.to_bits()));
}

#[test]
fn to_netcdf_names_bad_paths() {
    let dir = Scratch::new();
    write_days(&dir, &[17_563]);
    let ds = open_mfdataset(&dir.pattern("day-*.nc4")).unwrap();
    let err = ds
        .to_netcdf(dir.path("nowhere/out.nc"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("nowhere") && err.contains("does not exist"),
        "{err}"
    );
    let err = ds.to_netcdf(dir.path("out.png")).unwrap_err().to_string();
    assert!(err.contains("out.png") && err.contains(".nc"), "{err}");
    let stacked = ds
        .get("rain")
        .stack("z", ["lat", "lon"])
        .into_result()
        .unwrap();
    assert!(stacked
        .to_netcdf(dir.path("z.nc"))
        .unwrap_err()
        .to_string()
        .contains("unstack"));
}

#[test]
fn the_tutorial_box_selects_131_by_47_and_stacks_to_6157() {
    let dir = Scratch::new();
    crate::sample::SampleSpec::tutorial()
        .days(2)
        .write_to(&dir.0)
        .unwrap();
    let imerg = open_mfdataset(&dir.pattern("3B-DAY.MS.MRG.3IMERG.2018*.nc4")).unwrap();
    // The bounds of the tutorial's box, as the Python notebook computed them.
    let subset = imerg
        .sel([
            ("lon", -74.13671875..=-60.984375),
            ("lat", -15.3724475816178..=-10.685765151760275),
        ])
        .unwrap();
    assert_eq!(subset.dims().get("lon"), Some(131));
    assert_eq!(subset.dims().get("lat"), Some(47));
    assert_eq!(subset.dims().get("nv"), Some(2));
    let lon = subset.get("lon").values().unwrap().to_f64_vec();
    assert!((lon[0] + 74.05).abs() < 1e-4 && (lon[130] + 61.05).abs() < 1e-4);
    let lat = subset.get("lat").values().unwrap().to_f64_vec();
    assert!((lat[0] + 15.35).abs() < 1e-4 && (lat[46] + 10.75).abs() < 1e-4);
    let stacked = subset
        .get("HQprecipitation")
        .stack("z", ["lat", "lon"])
        .into_result()
        .unwrap();
    assert_eq!(stacked.sizes().unwrap().to_string(), "{time: 2, z: 6157}");
    let x = crate::Client::new()
        .persist(&stacked)
        .unwrap()
        .transpose()
        .into_result()
        .unwrap();
    assert_eq!(x.sizes().unwrap().to_string(), "{z: 6157, time: 2}");
    let text = x.to_string();
    assert!(text.contains("MultiIndex[lat, lon]"), "{text}");
    // One chunk of the full grid does not fit in 1 MB.
    let tight = crate::Client::new().memory_limit("1MB").unwrap();
    let err = tight
        .load(
            &imerg
                .get("HQprecipitation")
                .mean("time")
                .into_result()
                .unwrap(),
        )
        .unwrap_err();
    assert!(err.to_string().contains("memory limit is 1.0 MB"), "{err}");
}
