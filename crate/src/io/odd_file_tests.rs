//! Files written by netCDF4-python that geoxr used to read differently from xarray:
//! variables of types geoxr does not hold (strings, chars, compounds), enums, CF
//! `coordinates` attributes, time bounds, a fill-less scalar and pre-1582 dates.
//!
//! The fixtures are written by the script below; the expected values are what xarray
//! 2026.9.0 (netCDF4 1.7.5, cftime 1.6.6) gives for the same files, computed once on
//! 2026-12-02 with `xr.open_dataset(path)` (and `xr.open_mfdataset` for `step*.nc`) in
//! the scratch venv and written in here by hand.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::model::{ArrayData, AttrValue, DType, Dataset};
use crate::{open_dataset, Calendar, Engine, OpenOptions};

const FIXTURES: &str = r#"
import sys, netCDF4 as nc, numpy as np
d = sys.argv[1]
def new(name):
    return nc.Dataset(f"{d}/{name}", "w", format="NETCDF4")
f = new("common.nc")
f.createDimension("time", None); f.createDimension("lat", 3); f.createDimension("nv", 2)
t = f.createVariable("time", "f8", ("time",)); t.units = "days since 2000-01-01"
t.calendar = "noleap"; t.bounds = "time_bnds"; t[:] = [0.5, 1.5]
tb = f.createVariable("time_bnds", "f8", ("time", "nv")); tb[:] = [[0, 1], [1, 2]]
la = f.createVariable("lat", "f4", ("lat",)); la[:] = [10, 0, -10]
crs = f.createVariable("crs", "i4", ()); crs.grid_mapping_name = "latitude_longitude"
p = f.createVariable("pr", "f4", ("time", "lat"), fill_value=-9999.0); p.grid_mapping = "crs"
p[:] = np.arange(6).reshape(2, 3)
s = f.createVariable("station", "str", ("lat",)); s[:] = np.array(["a", "bb", "ccc"], dtype=object)
c = f.createVariable("flag", "S1", ("lat", "nv")); c[:] = np.array([[b"x", b"y"], [b"z", b"w"], [b"q", b"r"]])
w = f.createVariable("a<b>&", "str", ("lat",)); w[:] = np.array(["", "", ""], dtype=object)
f.close()
f = new("types.nc")
f.createDimension("t", 3); f.createDimension("x", 2)
e8 = f.createEnumType(np.uint8, "cloud_t", {"clear": 0, "cloudy": 1})
v = f.createVariable("cloud", e8, ("x",)); v[:] = np.array([0, 1], dtype=np.uint8)
e16 = f.createEnumType(np.int16, "phase_t", {"ice": -1, "none": 0, "water": 7})
v = f.createVariable("phase", e16, ("t", "x")); v[:] = np.array([[0, 7], [-1, 0], [7, 7]], dtype=np.int16)
ct = f.createCompoundType(np.dtype([("a", "f4"), ("b", "i4")]), "pair_t")
f.createVariable("pair", ct, ("x",))[:] = np.zeros(2, dtype=[("a", "f4"), ("b", "i4")])
f.createVariable("ok", "f8", ("x",))[:] = [1, 2]
f.close()
f = new("curvilinear.nc")
f.createDimension("y", 2); f.createDimension("x", 3)
f.createVariable("lat", "f8", ("y", "x"))[:] = np.arange(6).reshape(2, 3)
f.createVariable("lon", "f8", ("y", "x"))[:] = np.arange(6).reshape(2, 3) + 100
f.createVariable("height", "f4", ())[:] = 2.0
v = f.createVariable("tas", "f4", ("y", "x")); v.coordinates = "lat lon missing"; v[:] = np.ones((2, 3))
f.coordinates = "height"
f.close()
for i, day in enumerate([0, 2]):
    f = new(f"step{i}.nc")
    f.createDimension("time", None); f.createDimension("x", 2)
    t = f.createVariable("time", "f8", ("time",)); t.units = "days since 2000-01-01"; t[:] = [day, day + 1]
    lead = f.createVariable("lead", "i4", ("time",)); lead[:] = [10 * day, 10 * day + 5]
    v = f.createVariable("v", "f4", ("time", "x")); v.coordinates = "lead"; v[:] = np.full((2, 2), day)
    f.close()
f = new("old_dates.nc")
f.createDimension("time", 3)
t = f.createVariable("time", "f8", ("time",)); t.units = "days since 0001-01-01"; t.calendar = "standard"
t[:] = [0, 577735, 730000]
f.close()
"#;

/// The fixtures in a temporary folder, removed when dropped.
struct Fixtures(PathBuf);

impl Fixtures {
    fn write() -> Fixtures {
        let python = crate::io::test_python();
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("geoxr-odd-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let out = Command::new(&python)
            .arg("-c")
            .arg(FIXTURES)
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{} could not write the fixtures (does it have netCDF4?):\n{}",
            python.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        Fixtures(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Fixtures {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh set of fixtures for one test.
fn fixtures() -> Fixtures {
    Fixtures::write()
}

/// The file opened with each engine, and with the Rust engine a second time (from its
/// entry in the metadata index).
fn each_open(path: &Path, options: OpenOptions) -> Vec<(String, Dataset)> {
    let mut out = Vec::new();
    for (label, engine) in [
        ("rust", Engine::Rust),
        ("rust, from the index", Engine::Rust),
        ("libnetcdf", Engine::Libnetcdf),
    ] {
        let ds = options
            .clone()
            .engine(engine)
            .open_dataset(path)
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        out.push((label.to_owned(), ds));
    }
    out
}

fn loaded(ds: &Dataset, name: &str) -> ArrayData {
    ds.get(name)
        .load()
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .values()
        .unwrap()
        .clone()
}

fn names(list: &[(String, crate::Variable)]) -> Vec<&str> {
    list.iter().map(|(n, _)| n.as_str()).collect()
}

fn labels(a: &ArrayData) -> Vec<String> {
    a.as_times()
        .unwrap()
        .iter()
        .map(|t| t.to_string())
        .collect()
}

#[test]
fn variables_of_types_geoxr_does_not_hold_are_listed_and_named() {
    let files = fixtures();
    let path = files.path("common.nc");
    for (engine, ds) in each_open(&path, OpenOptions::new()) {
        let unread: Vec<(&str, Vec<&str>, &str)> = ds
            .unread()
            .iter()
            .map(|u| {
                let dims = u.dims.iter().map(String::as_str).collect();
                (u.name.as_str(), dims, u.kind.as_str())
            })
            .collect();
        assert_eq!(
            unread,
            [
                ("station", vec!["lat"], "string"),
                ("flag", vec!["lat", "nv"], "char"),
                ("a<b>&", vec!["lat"], "string"),
            ],
            "{engine}"
        );
        let err = ds.get("station").check().unwrap_err().to_string();
        for part in ["common.nc", "`station`", "string", "does not read"] {
            assert!(err.contains(part), "{engine}: {err}");
        }
        let err = ds.get("flag").load().unwrap_err().to_string();
        assert!(
            err.contains("`flag`") && err.contains("char"),
            "{engine}: {err}"
        );
        // A name the file does not have is still a plain "no such variable".
        let err = ds.get("nothing").check().unwrap_err().to_string();
        assert!(
            err.contains("station") || err.contains("pr"),
            "{engine}: {err}"
        );

        // xarray 2026.9: Dimensions (time: 2, nv: 2, lat: 3), by first use in the file.
        assert_eq!(ds.dims().names(), ["time", "nv", "lat"], "{engine}");
        let text = ds.to_string();
        assert!(text.contains("Not read"), "{engine}: {text}");
        assert!(
            text.contains("station") && text.contains("(lat, nv) char"),
            "{text}"
        );
        let html = crate::notebook::dataset_html_for_tests(&ds);
        assert!(
            html.contains("Not read") && html.contains("a&lt;b&gt;&amp;"),
            "{html}"
        );
        assert!(
            !html.contains("a<b>"),
            "file text reaches the HTML unescaped"
        );

        // A selection keeps the list; the variables read are still read.
        let first = ds.isel(("time", 0)).unwrap();
        assert_eq!(first.unread().len(), 3, "{engine}");
        assert_eq!(
            loaded(&ds, "pr").to_f64_vec(),
            [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
        );
    }
    let compound = files.path("types.nc");
    for (engine, ds) in each_open(&compound, OpenOptions::new()) {
        let unread: Vec<&str> = ds.unread().iter().map(|u| u.kind.as_str()).collect();
        assert_eq!(unread, ["compound"], "{engine}");
        let err = ds.get("pair").check().unwrap_err().to_string();
        assert!(
            err.contains("types.nc") && err.contains("compound"),
            "{engine}: {err}"
        );
    }
}

#[test]
fn enums_read_as_their_base_integers_with_members_in_the_encoding() {
    let files = fixtures();
    let path = files.path("types.nc");
    for (engine, ds) in each_open(&path, OpenOptions::new()) {
        let cloud = loaded(&ds, "cloud");
        // xarray 2026.9: cloud uint8 [0, 1]; phase int16 [[0, 7], [-1, 0], [7, 7]].
        assert_eq!(cloud.dtype(), DType::U8, "{engine}");
        assert_eq!(cloud.to_f64_vec(), [0.0, 1.0], "{engine}");
        let phase = loaded(&ds, "phase");
        assert_eq!(phase.dtype(), DType::I16, "{engine}");
        assert_eq!(
            phase.to_f64_vec(),
            [0.0, 7.0, -1.0, 0.0, 7.0, 7.0],
            "{engine}"
        );
        let row = ds.get("phase").isel(("t", 1)).load().unwrap();
        assert_eq!(row.values().unwrap().to_f64_vec(), [-1.0, 0.0], "{engine}");
        let members = ds.get("phase").variable().encoding().get("enum").cloned();
        let expected = ["ice=-1", "none=0", "water=7"].map(String::from).to_vec();
        assert_eq!(members, Some(AttrValue::Texts(expected)), "{engine}");
        assert!(
            ds.get("phase").attrs().is_empty(),
            "{engine}: as xarray, no attributes"
        );
    }
}

#[test]
fn cf_coordinates_attributes_make_coordinates() {
    let files = fixtures();
    let path = files.path("curvilinear.nc");
    for (engine, ds) in each_open(&path, OpenOptions::new()) {
        // xarray 2026.9: coords [lat, lon, height], data_vars [tas]; `missing` ignored.
        assert_eq!(names(ds.coords()), ["lat", "lon", "height"], "{engine}");
        assert_eq!(names(ds.data_vars()), ["tas"], "{engine}");
        let tas = ds.get("tas");
        assert_eq!(names(tas.coords()), ["lat", "lon", "height"], "{engine}");
        assert!(tas.attrs().get("coordinates").is_none(), "{engine}");
        let kept = tas.variable().encoding().get("coordinates");
        assert_eq!(kept.and_then(AttrValue::as_str), Some("lat lon missing"));
        assert!(ds.attrs().get("coordinates").is_none(), "{engine}");
        let lon = tas.coord("lon").unwrap().load().unwrap();
        let expected = [100.0, 101.0, 102.0, 103.0, 104.0, 105.0];
        assert_eq!(lon.values().unwrap().to_f64_vec(), expected, "{engine}");
        let text = ds.to_string();
        assert!(text.contains("Coordinates:\n    lat "), "{engine}: {text}");
        // A selection keeps the 2-D coordinates, cut the same way.
        let row = tas.isel(("y", 1)).load().unwrap();
        let lat = row.coord("lat").unwrap().load().unwrap();
        assert_eq!(
            lat.values().unwrap().to_f64_vec(),
            [3.0, 4.0, 5.0],
            "{engine}"
        );
    }
    for (engine, ds) in each_open(&path, OpenOptions::new().decode_coords(false)) {
        assert!(ds.coords().is_empty(), "{engine}");
        assert_eq!(names(ds.data_vars()), ["lat", "lon", "height", "tas"]);
        let attr = ds.get("tas").attrs().get("coordinates").cloned();
        assert_eq!(
            attr,
            Some(AttrValue::Text("lat lon missing".into())),
            "{engine}"
        );
    }
}

#[test]
fn a_coordinate_along_the_joined_dimension_is_joined_too() {
    let files = fixtures();
    let pattern = files.path("step*.nc");
    for engine in [Engine::Rust, Engine::Libnetcdf] {
        let ds = OpenOptions::new()
            .engine(engine)
            .open_mfdataset(pattern.to_str().unwrap())
            .unwrap();
        assert_eq!(names(ds.coords()), ["time", "lead"], "{engine}");
        // xarray 2026.9 (open_mfdataset): lead [0, 5, 20, 25].
        let lead = ds.get("v").coord("lead").unwrap().load().unwrap();
        let lead = lead.values().unwrap().to_f64_vec();
        assert_eq!(lead, [0.0, 5.0, 20.0, 25.0], "{engine}");
    }
}

#[test]
fn bounds_take_the_units_and_calendar_of_their_variable() {
    let files = fixtures();
    let path = files.path("common.nc");
    for (engine, ds) in each_open(&path, OpenOptions::new()) {
        let bounds = loaded(&ds, "time_bnds");
        assert_eq!(bounds.dtype(), DType::Time(Calendar::NoLeap), "{engine}");
        // xarray 2026.9: cftime.DatetimeNoLeap values, printed with str().
        let expected = [
            "2000-01-01 00:00:00",
            "2000-01-02 00:00:00",
            "2000-01-02 00:00:00",
            "2000-01-03 00:00:00",
        ];
        assert_eq!(labels(&bounds), expected, "{engine}");
        let var = ds.get("time_bnds");
        assert!(
            var.attrs().is_empty(),
            "{engine}: as xarray, units go to the encoding"
        );
        let units = var.variable().encoding().get("units").cloned();
        assert_eq!(units, Some(AttrValue::Text("days since 2000-01-01".into())));
    }
    for (engine, ds) in each_open(&path, OpenOptions::new().decode_times(false)) {
        let bounds = loaded(&ds, "time_bnds");
        assert_eq!(bounds.to_f64_vec(), [0.0, 1.0, 1.0, 2.0], "{engine}");
        assert!(
            ds.get("time_bnds").attrs().get("units").is_none(),
            "{engine}"
        );
    }
}

#[test]
fn a_scalar_without_fill_and_dates_before_1582_agree_with_xarray() {
    let files = fixtures();
    let common = files.path("common.nc");
    let old = files.path("old_dates.nc");
    for (engine, ds) in each_open(&common, OpenOptions::new()) {
        // xarray 2026.9: crs int32 -2147483647 (netCDF's default fill, not masked).
        let crs = loaded(&ds, "crs");
        assert_eq!(crs.dtype(), DType::I32, "{engine}");
        assert_eq!(crs.to_f64_vec(), [-2147483647.0], "{engine}");
    }
    for (engine, ds) in each_open(&old, OpenOptions::new()) {
        // xarray 2026.9 (cftime.DatetimeGregorian, Julian before 1582-10-15).
        let expected = [
            "0001-01-01 00:00:00",
            "1582-10-03 00:00:00",
            "1999-09-02 00:00:00",
        ];
        assert_eq!(labels(&loaded(&ds, "time")), expected, "{engine}");
    }
}

#[test]
fn coordinates_and_time_bounds_survive_a_round_trip() {
    let files = fixtures();
    let curvilinear = open_dataset(files.path("curvilinear.nc")).unwrap();
    let copy = files.path("curvilinear-copy.nc");
    curvilinear.to_netcdf(&copy).unwrap();
    let back = open_dataset(&copy).unwrap();
    assert_eq!(names(back.coords()), ["lat", "lon", "height"]);
    assert_eq!(names(back.data_vars()), ["tas"]);
    let tas = files.path("tas-copy.nc");
    curvilinear.get("tas").to_netcdf(&tas).unwrap();
    let back = open_dataset(&tas).unwrap();
    assert_eq!(names(back.get("tas").coords()), ["lat", "lon", "height"]);

    let common = open_dataset(files.path("common.nc")).unwrap();
    let copy = files.path("common-copy.nc");
    common.to_netcdf(&copy).unwrap();
    let back = open_dataset(&copy).unwrap();
    let bounds = loaded(&back, "time_bnds");
    assert_eq!(bounds.dtype(), DType::Time(Calendar::NoLeap));
    assert_eq!(labels(&bounds), labels(&loaded(&common, "time_bnds")));
}
