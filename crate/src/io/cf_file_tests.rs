//! CF decoding of files written by netCDF4-python and h5py (`fixtures/cf_cases.py`),
//! against the values xarray 2026.9 decodes from the same files.
//!
//! The references were made once in a scratch venv (xarray 2026.9.0, netCDF4 1.7.5,
//! h5py 3.16, cftime 1.6.6, numpy 2.4) with `python cf_cases.py DIR --xarray`, which
//! prints `xr.open_dataset(path)[name].values` for every variable; for `cf_times.nc`,
//! whose bad variables make xarray fail the whole file, each variable was decoded alone
//! with `xr.decode_cf(xr.open_dataset(path, decode_times=False)[[name]])`.
//! The fixtures need a Python with netCDF4 and h5py: `GEOXR_PYTHON`, or the project venv
//! that `cargo xtask setup` makes.

use std::path::{Path, PathBuf};

use crate::model::{ArrayData, DType};
use crate::{open_dataset, Calendar, OpenOptions};

/// A temporary folder holding the fixtures, removed when dropped.
struct Fixtures(PathBuf);

impl Fixtures {
    fn write() -> Fixtures {
        let python = crate::io::test_python();
        let name = format!(
            "geoxr-cf-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        );
        let dir = std::env::temp_dir().join(name.replace(['(', ')'], ""));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/io/fixtures/cf_cases.py");
        let out = crate::io::python_command()
            .arg(&script)
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{} {} failed (does it have netCDF4 and h5py? `cargo xtask setup` installs \
             them):\n{}",
            python.display(),
            script.display(),
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

fn values(path: &Path, name: &str) -> ArrayData {
    let ds = open_dataset(path).unwrap();
    let da = ds.get(name).load().unwrap();
    da.values().unwrap().clone()
}

/// Asserts the very bits xarray gives (NaN for NaN), in the dtype it gives.
fn assert_floats(path: &Path, name: &str, dtype: DType, expected: &[f64]) {
    let got = values(path, name);
    assert_eq!(got.dtype(), dtype, "{name}");
    let same = |g: f64, e: f64| match got {
        ArrayData::F32(_) => (g as f32).to_bits() == (e as f32).to_bits(),
        _ => g.to_bits() == e.to_bits(),
    };
    let got_values = got.to_f64_vec();
    assert_eq!(got_values.len(), expected.len(), "{name}");
    for (i, (&g, &e)) in got_values.iter().zip(expected).enumerate() {
        assert!(
            (g.is_nan() && e.is_nan()) || same(g, e),
            "{name}[{i}]: {g:?}, xarray gives {e:?}"
        );
    }
}

fn times(path: &Path, name: &str) -> Vec<String> {
    let got = values(path, name);
    got.as_times()
        .unwrap_or_else(|| panic!("{name} is {}, not times", got.dtype()))
        .iter()
        .map(|t| t.to_string())
        .collect()
}

const NAN: f64 = f64::NAN;

#[test]
fn masks_match_xarray() {
    let f = Fixtures::write();
    let p = f.path("cf_masks.nc");
    assert_floats(&p, "f32_fill", DType::F32, &[1.5, NAN, 0.0]);
    assert_floats(&p, "i16_missing_vector", DType::F32, &[1.0, NAN, NAN, 3.0]);
    // The float64 missing_value 0.1 does not equal the float32 0.1.
    assert_floats(
        &p,
        "f32_missing_f64",
        DType::F32,
        &[0.10000000149011612, NAN, 2.0],
    );
    assert_floats(&p, "i32_fill_and_missing", DType::F64, &[7.0, NAN, NAN]);
}

#[test]
fn packing_and_unsigned_match_xarray_bit_for_bit() {
    let f = Fixtures::write();
    let p = f.path("cf_packing.nc");
    let f32_ = DType::F32;
    let f64_ = DType::F64;
    assert_floats(
        &p,
        "i16_packed_f32",
        f32_,
        &[0.0, -10.0, 30.0, NAN, 483.6000061035156],
    );
    assert_floats(
        &p,
        "i16_packed_f32_nofill",
        f32_,
        &[0.0, -10.0, 30.0, -13116.7998046875, 483.6000061035156],
    );
    assert_floats(
        &p,
        "i16_packed_f64",
        f64_,
        &[0.0, -10.0, 30.0, -13116.800000000001, 483.6],
    );
    assert_floats(
        &p,
        "i32_packed_f32",
        f64_,
        &[
            1.4901161193847656e-07,
            -10.0,
            30.000000596046448,
            429496726.0,
            NAN,
        ],
    );
    assert_floats(
        &p,
        "f32_scale_f64",
        f64_,
        &[
            0.010000000149011612,
            0.1,
            0.25,
            100000.0,
            -0.30000000000000004,
        ],
    );
    assert_floats(
        &p,
        "i16_scale_only_f32",
        f32_,
        &[2.5, 0.0, 10.0, -3276.699951171875, 123.4000015258789],
    );
    assert_floats(
        &p,
        "i16_offset_only_f32",
        f64_,
        &[25.5, 0.5, 100.5, -32766.5, 1234.5],
    );
    assert_floats(&p, "i8_unsigned_fill", f32_, &[NAN, 0.0, 127.0, 128.0, 5.0]);
    assert_floats(
        &p,
        "i16_unsigned_packed",
        f32_,
        &[NAN, 0.0, 10.0, 327.67999267578125, 327.66998291015625],
    );
    let ints = values(&p, "i16_int_scale");
    assert_eq!(ints.dtype(), DType::I16);
    assert_eq!(ints.to_f64_vec(), [2.0, 4.0, 600.0, -25536.0, -6.0]);
    let unsigned = values(&p, "i8_unsigned");
    assert_eq!(unsigned.dtype(), DType::U8);
    assert_eq!(unsigned.to_f64_vec(), [255.0, 0.0, 127.0, 128.0, 5.0]);
}

#[test]
fn time_units_match_xarray_and_cftime() {
    let f = Fixtures::write();
    let p = f.path("cf_times.nc");
    let cases: &[(&str, &[&str])] = &[
        (
            "t_plus_0530",
            &["1999-12-31 18:30:00", "1999-12-31 19:30:00"],
        ),
        (
            "t_minus_0600",
            &["2000-01-01 06:00:00", "2000-01-03 06:00:00"],
        ),
        (
            "t_ns",
            &[
                "2000-01-01 00:00:00",
                "2000-01-02 00:00:00",
                "2000-01-01 00:00:03",
            ],
        ),
        (
            "t_months_360",
            &[
                "2000-01-01 00:00:00",
                "2000-02-01 00:00:00",
                "2001-02-01 00:00:00",
                "1999-12-01 00:00:00",
            ],
        ),
        (
            "t_fraction",
            &["2000-01-01 00:00:01", "2000-01-01 00:01:00"],
        ),
        (
            "t_masked",
            &["2000-01-01 00:00:00", "NaT", "2000-01-03 00:00:00"],
        ),
        (
            "t_nan",
            &["2000-01-01 00:00:00", "NaT", "2000-01-02 12:00:00"],
        ),
    ];
    for (name, want) in cases {
        assert_eq!(times(&p, name), *want, "{name}");
    }
    // days [0, -1, -366, -1000] since 0001-01-01: cftime has no year 0 in standard and
    // julian (year -1 precedes year 1), and has one in the other calendars.
    let bc: &[(&str, [&str; 4])] = &[
        (
            "standard",
            ["0001-01-01", "-0001-12-31", "-0001-01-01", "-0003-04-07"],
        ),
        (
            "julian",
            ["0001-01-01", "-0001-12-31", "-0001-01-01", "-0003-04-07"],
        ),
        (
            "proleptic_gregorian",
            ["0001-01-01", "0000-12-31", "0000-01-01", "-0002-04-07"],
        ),
        (
            "noleap",
            ["0001-01-01", "0000-12-31", "-0001-12-31", "-0002-04-06"],
        ),
        (
            "all_leap",
            ["0001-01-01", "0000-12-31", "0000-01-01", "-0002-04-08"],
        ),
        (
            "360_day",
            ["0001-01-01", "0000-12-30", "-0001-12-25", "-0002-03-21"],
        ),
    ];
    for (cal, want) in bc {
        let name = format!("t_bc_{cal}");
        let want: Vec<String> = want.iter().map(|d| format!("{d} 00:00:00")).collect();
        assert_eq!(times(&p, &name), want, "{name}");
        let dtype = values(&p, &name).dtype();
        assert_eq!(dtype, DType::Time(Calendar::parse(cal).unwrap()), "{name}");
    }
}

#[test]
fn undecodable_times_name_file_variable_units_and_calendar() {
    // xarray fails on both ("unable to decode time units ... Try opening your dataset
    // with decode_times=False"); so does geoxr, saying where and why.
    let f = Fixtures::write();
    let p = f.path("cf_times.nc");
    let ds = open_dataset(&p).unwrap();
    for (name, extra) in [
        ("t_default_fill", "default fill"),
        ("t_far_future", "1e300"),
    ] {
        let err = ds.get(name).load().unwrap_err().to_string();
        for part in [
            "cf_times.nc",
            name,
            "days since 1970-01-01",
            "standard",
            "decode_times(false)",
            extra,
        ] {
            assert!(err.contains(part), "`{part}` missing from: {err}");
        }
    }
}

#[test]
fn h5py_nc_string_attributes_are_text() {
    // xarray: time is cftime noleap [2001-01-01, 2001-03-01, 2002-01-01]; x is float32
    // [0.5, nan, 1.5].
    let f = Fixtures::write();
    let p = f.path("cf_h5py.nc");
    let ds = open_dataset(&p).unwrap();
    let time = ds.get("time").into_result().unwrap();
    assert_eq!(time.dtype(), DType::Time(Calendar::NoLeap));
    assert_eq!(
        times(&p, "time"),
        [
            "2001-01-01 00:00:00",
            "2001-03-01 00:00:00",
            "2002-01-01 00:00:00"
        ]
    );
    assert_floats(&p, "x", DType::F32, &[0.5, NAN, 1.5]);
}

#[test]
fn open_options_turn_decoding_steps_off_as_xarray_does() {
    // xarray 2026.9, open_dataset(..., mask_and_scale=False): i16_packed_f32 is int16
    // [25, 0, 100, -32767, 1234] with _FillValue, scale_factor and add_offset kept in
    // attrs; i8_unsigned is int8 [-1, 0, 127, -128, 5]. decode_times=False: t_masked
    // is float64 [0, nan, 2] and t_default_fill int32 [0, -2147483647], units kept.
    let f = Fixtures::write();
    let raw = OpenOptions::new()
        .mask_and_scale(false)
        .open_dataset(f.path("cf_packing.nc"))
        .unwrap();
    let packed = raw.get("i16_packed_f32").load().unwrap();
    assert_eq!(packed.dtype(), DType::I16);
    assert_eq!(
        packed.values().unwrap().to_f64_vec(),
        [25.0, 0.0, 100.0, -32767.0, 1234.0]
    );
    for name in ["_FillValue", "scale_factor", "add_offset"] {
        assert!(packed.attrs().get(name).is_some(), "{name}");
    }
    let signed = raw.get("i8_unsigned").load().unwrap();
    assert_eq!(signed.dtype(), DType::I8);
    assert_eq!(
        signed.attrs().get("_Unsigned").and_then(|v| v.as_str()),
        Some("true")
    );

    let numbers = OpenOptions::new()
        .decode_times(false)
        .open_dataset(f.path("cf_times.nc"))
        .unwrap();
    assert_floats_of(&numbers, "t_masked", DType::F64, &[0.0, NAN, 2.0]);
    let fill = numbers.get("t_default_fill").load().unwrap();
    assert_eq!(fill.dtype(), DType::I32);
    assert_eq!(fill.values().unwrap().to_f64_vec(), [0.0, -2147483647.0]);
    let units = fill.attrs().get("units").and_then(|v| v.as_str());
    assert_eq!(units, Some("days since 1970-01-01"));
}

fn assert_floats_of(ds: &crate::Dataset, name: &str, dtype: DType, expected: &[f64]) {
    let got = ds.get(name).load().unwrap();
    assert_eq!(got.dtype(), dtype, "{name}");
    let v = got.values().unwrap().to_f64_vec();
    assert_eq!(v.len(), expected.len(), "{name}");
    for (g, e) in v.iter().zip(expected) {
        assert!(
            (g.is_nan() && e.is_nan()) || g == e,
            "{name}: {v:?} vs {expected:?}"
        );
    }
}

#[test]
fn nat_is_shown_skipped_and_written_back_as_the_fill_value() {
    let f = Fixtures::write();
    let ds = open_dataset(f.path("cf_times.nc")).unwrap();
    let masked = ds.get("t_masked").load().unwrap();
    let dim = "d_t_masked";
    assert!(masked.to_string().contains("NaT"), "{masked}");
    let first = masked.min(dim).values().unwrap().as_times().unwrap();
    let last = masked.max(dim).values().unwrap().as_times().unwrap();
    assert_eq!(first[0].to_string(), "2000-01-01 00:00:00");
    assert_eq!(last[0].to_string(), "2000-01-03 00:00:00");
    assert_eq!(masked.count(dim).values().unwrap().to_f64_vec(), [2.0]);

    // Written back: NaT becomes the variable's _FillValue (-1) in its units...
    let out = f.path("written.nc");
    masked.to_netcdf(&out).unwrap();
    let file = netcdf::open(&out).unwrap();
    let var = file.variable("t_masked").unwrap();
    assert_eq!(var.get_values::<i64, _>(..).unwrap(), [0, -1, 2]);
    let fill = var.attribute_value("_FillValue").unwrap().unwrap();
    assert_eq!(fill, netcdf::AttributeValue::Longlong(-1));
    drop(file);
    assert_eq!(
        times(&out, "t_masked"),
        ["2000-01-01 00:00:00", "NaT", "2000-01-03 00:00:00"]
    );
    // ... or NaN when the variable had none.
    let nan = ds.get("t_nan").load().unwrap();
    let out = f.path("written_nan.nc");
    nan.to_netcdf(&out).unwrap();
    assert_eq!(times(&out, "t_nan")[1], "NaT");
}
