//! The Rust engine against libnetcdf, value for value (bit patterns, NaN where the fill
//! is), on a matrix of layouts the tests write themselves: with the `netcdf` crate, and
//! with netCDF4-python / h5py where the `netcdf` crate cannot make the layout.

use std::path::{Path, PathBuf};

use netcdf::{Endianness, Options};

use super::files::Identity;
use crate::model::{ArrayData, Dataset};
use crate::{Engine, OpenOptions};

/// A folder under the system temp dir, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("geoxr-engine-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn open(path: &Path, engine: Engine) -> Dataset {
    OpenOptions::new()
        .engine(engine)
        .open_dataset(path)
        .unwrap_or_else(|e| panic!("{engine} engine: {e}"))
        .load()
        .unwrap_or_else(|e| panic!("{engine} engine, load: {e}"))
}

/// Same bits, or NaN in both (NaN payloads may differ after decoding).
fn same_values(a: &ArrayData, b: &ArrayData) -> Option<usize> {
    let (x, y) = (a.to_f64_vec(), b.to_f64_vec());
    if x.len() != y.len() {
        return Some(0);
    }
    x.iter()
        .zip(&y)
        .position(|(p, q)| p.to_bits() != q.to_bits() && !(p.is_nan() && q.is_nan()))
}

/// Every variable of the file, read by both engines: same names, dims, types,
/// attributes, encodings and values. Returns how many variables were compared.
fn assert_engines_agree(path: &Path) -> usize {
    assert_engines_agree_except(path, &[])
}

/// As `assert_engines_agree`, with the values of `differ` left to the caller.
fn assert_engines_agree_except(path: &Path, differ: &[&str]) -> usize {
    let rust = open(path, Engine::Rust);
    let oracle = open(path, Engine::Libnetcdf);
    assert_eq!(
        rust.attrs(),
        oracle.attrs(),
        "{}: global attributes",
        path.display()
    );
    let vars = |ds: &Dataset| -> Vec<(String, crate::Variable)> {
        ds.coords().iter().chain(ds.data_vars()).cloned().collect()
    };
    let (a, b) = (vars(&rust), vars(&oracle));
    let names =
        |v: &[(String, crate::Variable)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&a), names(&b), "{}: variables", path.display());
    assert_eq!(
        names(rust.coords()),
        names(oracle.coords()),
        "{}: coordinates",
        path.display()
    );
    assert_eq!(
        rust.unread(),
        oracle.unread(),
        "{}: variables not read",
        path.display()
    );
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        let at = format!("{}: `{name}`", path.display());
        assert_eq!(x.dims(), y.dims(), "{at}: dims");
        assert_eq!(x.dtype(), y.dtype(), "{at}: dtype");
        assert_eq!(x.attrs(), y.attrs(), "{at}: attributes");
        assert_eq!(x.encoding(), y.encoding(), "{at}: encoding");
        let (vx, vy) = (x.values().unwrap(), y.values().unwrap());
        assert_eq!(vx.shape(), vy.shape(), "{at}: shape");
        if differ.contains(&name.as_str()) {
            continue;
        }
        if let Some(i) = same_values(vx, vy) {
            panic!(
                "{at}: value {i} is {:?} with the Rust engine, {:?} with libnetcdf",
                vx.get_f64(i),
                vy.get_f64(i)
            );
        }
    }
    a.len()
}

macro_rules! for_each_type {
    ($m:ident) => {
        $m!(i8, "i8");
        $m!(u8, "u8");
        $m!(i16, "i16");
        $m!(u16, "u16");
        $m!(i32, "i32");
        $m!(u32, "u32");
        $m!(i64, "i64");
        $m!(u64, "u64");
        $m!(f32, "f32");
        $m!(f64, "f64");
    };
}

/// Values with every byte busy and a few negative (wrapped for unsigned types).
fn values<T: Sample>(n: usize) -> Vec<T> {
    (0..n as i64).map(|i| T::sample(i * 37 - 100)).collect()
}

trait Sample: Copy {
    fn sample(i: i64) -> Self;
}

macro_rules! int_sample {
    ($($t:ty),*) => {$(
        impl Sample for $t {
            fn sample(i: i64) -> Self {
                i as $t
            }
        }
    )*};
}
int_sample!(i8, u8, i16, u16, i32, u32, i64, u64);

impl Sample for f32 {
    fn sample(i: i64) -> Self {
        i as f32 * 0.37 + 0.001
    }
}

impl Sample for f64 {
    fn sample(i: i64) -> Self {
        i as f64 * 0.37 + 1e-9
    }
}

/// Every numeric type in every layout the `netcdf` crate can write, in one
/// NetCDF-4 file: contiguous, chunked with edge chunks, chunks spanning several
/// steps of an unlimited dimension, deflate 1-9 with and without shuffle, big endian,
/// unwritten and half-written chunks.
fn write_netcdf4_matrix(path: &Path) {
    write_netcdf4_matrix_from(path, 0);
}

/// The layout matrix with its five time steps from day `first_day` on.
fn write_netcdf4_matrix_from(path: &Path, first_day: i32) {
    let mut f = netcdf::create(path).unwrap();
    f.add_unlimited_dimension("time").unwrap();
    f.add_dimension("y", 7).unwrap();
    f.add_dimension("x", 10).unwrap();
    f.add_attribute("title", "layout matrix").unwrap();
    f.add_attribute("numbers", vec![1.5f64, -2.0]).unwrap();
    let n = 5 * 7 * 10;
    let all = (&[0usize, 0, 0][..], &[5usize, 7, 10][..]);
    macro_rules! layouts {
        ($t:ty, $name:expr) => {{
            let data: Vec<$t> = values(n);
            let plain: Vec<$t> = values(7 * 10);
            let mut v = f
                .add_variable::<$t>(&format!("contiguous_{}", $name), &["y", "x"])
                .unwrap();
            v.put_attribute("units", "1").unwrap();
            v.put_values(&plain, ..).unwrap();
            let mut v = f
                .add_variable::<$t>(&format!("edges_{}", $name), &["time", "y", "x"])
                .unwrap();
            v.set_chunking(&[2, 3, 4]).unwrap();
            v.put_values(&data, all).unwrap();
            let mut v = f
                .add_variable::<$t>(&format!("steps_{}", $name), &["time", "y", "x"])
                .unwrap();
            v.set_chunking(&[4, 7, 10]).unwrap();
            v.set_compression(4, true).unwrap();
            v.put_values(&data, all).unwrap();
            let mut v = f
                .add_variable::<$t>(&format!("big_{}", $name), &["time", "y", "x"])
                .unwrap();
            v.set_endianness(Endianness::Big).unwrap();
            v.set_chunking(&[1, 7, 10]).unwrap();
            v.set_compression(2, true).unwrap();
            v.put_values(&data, all).unwrap();
            let mut v = f
                .add_variable::<$t>(&format!("bigplain_{}", $name), &["y", "x"])
                .unwrap();
            v.set_endianness(Endianness::Big).unwrap();
            v.put_values(&plain, ..).unwrap();
            // Chunks of 2 x 5 rows: only the first row is written, so one chunk is
            // half written and the others never were.
            let mut v = f
                .add_variable::<$t>(&format!("unwritten_{}", $name), &["y", "x"])
                .unwrap();
            v.set_chunking(&[2, 5]).unwrap();
            v.set_fill_value(plain[3]).unwrap();
            v.put_values(&plain[..10], (&[0usize, 0][..], &[1usize, 10][..]))
                .unwrap();
        }};
    }
    for_each_type!(layouts);
    for level in 1..=9 {
        for shuffle in [false, true] {
            let data: Vec<f32> = values(n);
            let name = format!(
                "deflate{level}_{}",
                if shuffle { "shuffle" } else { "plain" }
            );
            let mut v = f.add_variable::<f32>(&name, &["time", "y", "x"]).unwrap();
            v.set_chunking(&[1, 7, 10]).unwrap();
            v.set_compression(level, shuffle).unwrap();
            v.set_fill_value(data[5]).unwrap();
            v.put_values(&data, all).unwrap();
        }
    }
    let mut v = f.add_variable::<i32>("time", &["time"]).unwrap();
    v.put_attribute("units", "days since 2000-01-01").unwrap();
    let days: Vec<i32> = (first_day..first_day + 5).collect();
    v.put_values(&days, ..).unwrap();
    f.close().unwrap();
}

#[test]
fn netcdf4_layouts_and_types_read_as_libnetcdf_reads_them() {
    let dir = Scratch::new("nc4");
    let path = dir.path("matrix.nc");
    write_netcdf4_matrix(&path);
    let compared = assert_engines_agree(&path);
    assert_eq!(compared, 10 * 6 + 18 + 1);
}

/// Loading many files writes each file's chunks straight into the joined array; the
/// values are still those libnetcdf reads, for every layout and type.
#[test]
fn joined_files_load_as_libnetcdf_reads_them() {
    let dir = Scratch::new("joined");
    for (i, first_day) in [0, 5, 10].into_iter().enumerate() {
        write_netcdf4_matrix_from(&dir.path(&format!("part{i}.nc")), first_day);
    }
    let pattern = dir.path("part*.nc").display().to_string();
    let load = |engine: Engine| {
        OpenOptions::new()
            .engine(engine)
            .open_mfdataset(&pattern)
            .and_then(|ds| ds.load())
            .unwrap_or_else(|e| panic!("{engine} engine: {e}"))
    };
    let (rust, oracle) = (load(Engine::Rust), load(Engine::Libnetcdf));
    assert_eq!(rust.dims().get("time"), Some(15));
    let mut compared = 0;
    for ((name, x), (other, y)) in rust.data_vars().iter().zip(oracle.data_vars()) {
        assert_eq!(name, other);
        assert_eq!(x.dtype(), y.dtype(), "`{name}`: dtype");
        let (vx, vy) = (x.values().unwrap(), y.values().unwrap());
        assert_eq!(vx.shape(), vy.shape(), "`{name}`: shape");
        if let Some(i) = same_values(vx, vy) {
            panic!(
                "`{name}`: value {i} is {:?} with the Rust engine, {:?} with libnetcdf",
                vx.get_f64(i),
                vy.get_f64(i)
            );
        }
        compared += 1;
    }
    assert_eq!(compared, 10 * 6 + 18);
}

/// A box of a lazy variable (a selection, a transpose, a stack) is decoded from each
/// chunk straight into its place in the result: the values are still those of the
/// same steps applied to what libnetcdf reads, for every layout and type.
#[test]
fn boxes_of_lazy_variables_read_as_libnetcdf_reads_them() {
    let dir = Scratch::new("boxes");
    for (i, first_day) in [0, 5].into_iter().enumerate() {
        write_netcdf4_matrix_from(&dir.path(&format!("part{i}.nc")), first_day);
    }
    let pattern = dir.path("part*.nc").display().to_string();
    let open = |engine: Engine| {
        OpenOptions::new()
            .engine(engine)
            .open_mfdataset(&pattern)
            .unwrap_or_else(|e| panic!("{engine} engine: {e}"))
    };
    let lazy = open(Engine::Rust);
    let oracle = open(Engine::Libnetcdf).load().unwrap();
    type Step = fn(&crate::DataArray) -> crate::DataArray;
    let boxes: [(&str, Step, bool); 6] = [
        (
            "y 1..6, x 2..9",
            |a| a.isel([("y", 1..6), ("x", 2..9)]),
            false,
        ),
        (
            "one x, transposed",
            |a| a.isel([("x", 3..4), ("y", 1..5)]).transpose(),
            false,
        ),
        (
            "nested",
            |a| a.isel(("x", 1..9)).isel(("x", 2..5)).isel(("y", 3..7)),
            false,
        ),
        ("nothing", |a| a.isel(("x", 4..4)), false),
        (
            "box stacked",
            |a| a.isel([("y", 2..7), ("x", 0..9)]).stack("z", ["x", "y"]),
            true,
        ),
        ("all stacked", |a| a.stack("z", ["y", "x"]), true),
    ];
    let mut compared = 0;
    for (name, v) in lazy.data_vars() {
        if v.dims().first().map(String::as_str) != Some("time") {
            continue;
        }
        for (what, step, stacks) in &boxes {
            if *stacks && v.dims().len() != 3 {
                continue;
            }
            let got = step(&lazy.get(name)).load();
            let got = got.unwrap_or_else(|e| panic!("`{name}`, {what}: {e}"));
            let want = step(&oracle.get(name)).into_result().unwrap();
            let (x, y) = (got.values().unwrap(), want.values().unwrap());
            assert_eq!(x.shape(), y.shape(), "`{name}`, {what}: shape");
            if let Some(i) = same_values(x, y) {
                panic!(
                    "`{name}`, {what}: value {i} is {:?} read as a box, {:?} from libnetcdf",
                    x.get_f64(i),
                    y.get_f64(i)
                );
            }
            compared += 1;
        }
    }
    // 3 three-dimensional layouts of 10 types and 18 deflate variants, 6 boxes each.
    assert_eq!(compared, (3 * 10 + 18) * 6);
}

/// The common layouts are read through `io::chunks` (the fast path the chunk index
/// stores), not silently by the slower general reader; the others are not mapped.
#[test]
fn common_netcdf4_layouts_get_a_chunk_map() {
    let dir = Scratch::new("maps");
    let path = dir.path("matrix.nc");
    write_netcdf4_matrix(&path);
    let files = super::read::Files::new(Engine::Rust, 1);
    let meta = files.metadata(&path, None).unwrap();
    for v in &meta.vars {
        let mapped = v.chunks.is_some();
        let expected = !v.name.starts_with("unwritten_");
        assert_eq!(mapped, expected, "`{}`", v.name);
    }
    let big = meta.vars.iter().find(|v| v.name == "big_f64").unwrap();
    assert!(big.chunks.as_ref().unwrap().big_endian);
}

#[test]
fn netcdf3_formats_and_netcdf4_classic_read_as_libnetcdf_reads_them() {
    let dir = Scratch::new("nc3");
    for (name, options, wide) in [
        ("classic.nc", Options::empty(), false),
        ("offset64.nc", Options::_64BIT_OFFSET, false),
        ("cdf5.nc", Options::_64BIT_DATA, true),
        ("nc4classic.nc", Options::NETCDF4 | Options::CLASSIC, false),
    ] {
        let path = dir.path(name);
        let mut f = netcdf::create_with(&path, options).unwrap();
        f.add_unlimited_dimension("time").unwrap();
        f.add_dimension("x", 5).unwrap();
        f.add_attribute("history", "written by the engine tests")
            .unwrap();
        // NetCDF-3 files are defined first and written after.
        let mut t = f.add_variable::<f64>("time", &["time"]).unwrap();
        t.put_attribute("units", "hours since 2018-02-01").unwrap();
        macro_rules! define {
            ($t:ty, $n:expr) => {{
                let data: Vec<$t> = values(15);
                let mut v = f
                    .add_variable::<$t>(&format!("rec_{}", $n), &["time", "x"])
                    .unwrap();
                v.set_fill_value(data[2]).unwrap();
                f.add_variable::<$t>(&format!("fixed_{}", $n), &["x"])
                    .unwrap();
            }};
        }
        define!(i8, "i8");
        define!(i16, "i16");
        define!(i32, "i32");
        define!(f32, "f32");
        define!(f64, "f64");
        if wide {
            define!(u8, "u8");
            define!(u16, "u16");
            define!(u32, "u32");
            define!(i64, "i64");
            define!(u64, "u64");
        }
        // A record variable written for fewer records than the others.
        f.add_variable::<f32>("short", &["time", "x"]).unwrap();
        macro_rules! write {
            ($t:ty, $n:expr) => {{
                let data: Vec<$t> = values(15);
                let mut v = f.variable_mut(&format!("rec_{}", $n)).unwrap();
                v.put_values(&data, (&[0usize, 0][..], &[3usize, 5][..]))
                    .unwrap();
                let mut v = f.variable_mut(&format!("fixed_{}", $n)).unwrap();
                v.put_values(&data[..5], ..).unwrap();
            }};
        }
        f.enddef().unwrap();
        f.variable_mut("time")
            .unwrap()
            .put_values(&[0.0, 6.0, 12.0], ..)
            .unwrap();
        write!(i8, "i8");
        write!(i16, "i16");
        write!(i32, "i32");
        write!(f32, "f32");
        write!(f64, "f64");
        if wide {
            write!(u8, "u8");
            write!(u16, "u16");
            write!(u32, "u32");
            write!(i64, "i64");
            write!(u64, "u64");
        }
        f.variable_mut("short")
            .unwrap()
            .put_values(&[1.0f32; 5], (&[0usize, 0][..], &[1usize, 5][..]))
            .unwrap();
        f.close().unwrap();
        let compared = assert_engines_agree(&path);
        assert_eq!(compared, if wide { 22 } else { 12 }, "{name}");
    }
}

/// The project's Python (netCDF4-python, h5py): `GEOXR_PYTHON`, or the venv that
/// `cargo xtask setup` makes. Fails, not skips, when there is none.
/// Layouts only netCDF4-python and h5py write, into `dir`.
const PYTHON_FIXTURES: &str = r#"
import sys, numpy as np, netCDF4, h5py
d = sys.argv[1]

# A variable shorter than its unlimited dimension, fill mode off, one chunk the size
# of the netCDF shape: libnetcdf gives the fill value beyond its own extent.
with netCDF4.Dataset(f"{d}/short.nc", "w") as ds:
    ds.set_fill_off()
    ds.createDimension("time", None)
    ds.createDimension("x", 6)
    t = ds.createVariable("time", "i4", ("time",))
    t.units = "days since 2018-02-01"
    t[:] = np.arange(4)
    full = ds.createVariable("full", "f4", ("time", "x"), chunksizes=(4, 6))
    full[:] = np.arange(24, dtype="f4").reshape(4, 6)
    filled = ds.createVariable("filled", "f4", ("time", "x"), chunksizes=(4, 6), fill_value=-9999.9)
    filled[0:2] = np.arange(12, dtype="f4").reshape(2, 6) + 0.5
    default = ds.createVariable("default", "f8", ("time", "x"), chunksizes=(4, 6))
    default[0:1] = np.arange(6, dtype="f8") + 0.25
    ints = ds.createVariable("ints", "i2", ("time", "x"), chunksizes=(4, 6), zlib=True)
    ints[0:3] = np.arange(18, dtype="i2").reshape(3, 6)

with netCDF4.Dataset(f"{d}/short_fill.nc", "w") as ds:
    ds.createDimension("time", None)
    ds.createDimension("x", 3)
    t = ds.createVariable("time", "i4", ("time",))
    t[:] = np.arange(4)
    a = ds.createVariable("a", "f4", ("time", "x"), chunksizes=(4, 3), fill_value=-9999.9)
    a[0:2] = 1
    b = ds.createVariable("b", "i2", ("time", "x"), chunksizes=(4, 3))
    b[0:1] = 1

# fletcher32 with deflate and shuffle; NC_STRING and other attribute types.
with netCDF4.Dataset(f"{d}/fletcher.nc", "w") as ds:
    ds.createDimension("x", 1000)
    v = ds.createVariable("checked", "f8", ("x",), zlib=True, shuffle=True, fletcher32=True, chunksizes=(300,))
    v[:] = np.linspace(-1, 1, 1000)
    v.setncattr_string("label", "a string attribute")
    v.setncattr_string("labels", ["one", "two"])
    v.valid_range = np.array([-1, 1], dtype="f8")
    v.flags = np.array([1, 2, 4], dtype="u1")
    ds.setncattr_string("source", "netCDF4-python")

# Compact, shuffle without compression, with dimension scales so libnetcdf sees dims.
with h5py.File(f"{d}/hdf5.nc", "w") as f:
    x = f.create_dataset("x", data=np.arange(50, dtype="f4"))
    x.make_scale("x")
    space = h5py.h5s.create_simple((50,))
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_layout(h5py.h5d.COMPACT)
    c = h5py.h5d.create(f.id, b"compact", h5py.h5t.IEEE_F32BE, space, dcpl=dcpl)
    c.write(h5py.h5s.ALL, h5py.h5s.ALL, np.linspace(0, 5, 50, dtype="f4"))
    f["compact"].dims[0].attach_scale(x)
    s = f.create_dataset("shuffled", data=np.arange(50, dtype="i4") * 1000003, chunks=(16,), shuffle=True)
    s.dims[0].attach_scale(x)

# Filters the Rust engine does not decode.
for name in ["zstd", "bzip2"]:
    with netCDF4.Dataset(f"{d}/{name}.nc", "w") as ds:
        ds.createDimension("x", 100)
        v = ds.createVariable("packed", "f4", ("x",), compression=name)
        v[:] = np.arange(100, dtype="f4")
"#;

fn write_python_fixtures(dir: &Path) {
    let python = crate::io::test_python();
    let out = crate::io::python_command()
        .arg("-c")
        .arg(PYTHON_FIXTURES)
        .arg(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {}: {e}; run `cargo xtask setup`",
                python.display()
            )
        });
    assert!(
        out.status.success(),
        "{} could not write the fixtures (needs netCDF4 and h5py; run `cargo xtask setup`):\n{}",
        python.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn files_from_netcdf4_python_and_h5py_read_as_libnetcdf_reads_them() {
    let dir = Scratch::new("py");
    write_python_fixtures(&dir.0);
    assert_eq!(assert_engines_agree_except(&dir.path("short.nc"), &[]), 5);
    assert_eq!(assert_engines_agree(&dir.path("fletcher.nc")), 1);
    assert_eq!(assert_engines_agree(&dir.path("hdf5.nc")), 3);

    // Beyond its own extent, a variable written with fill mode off reads as netCDF's
    // default fill (as libnetcdf 4.9 / 4.10 and xarray 2026.9 read it), never as 0.
    let ds = open(&dir.path("short.nc"), Engine::Rust);
    let filled = ds.get("filled").values().unwrap().to_f64_vec();
    assert_eq!(
        filled[..12],
        (0..12).map(|i| i as f64 + 0.5).collect::<Vec<_>>()[..]
    );
    assert!(
        filled[12..].iter().all(|v| *v == 9.96921e36_f32 as f64),
        "{filled:?}"
    );
    let ints = ds.get("ints").values().unwrap().to_f64_vec();
    assert!(ints[18..].iter().all(|v| *v == -32767.0), "{ints:?}");
    // With fill mode on, the variable's _FillValue, so NaN once decoded.
    assert_eq!(assert_engines_agree(&dir.path("short_fill.nc")), 3);
    let ds = open(&dir.path("short_fill.nc"), Engine::Rust);
    let a = ds.get("a").values().unwrap().to_f64_vec();
    assert_eq!(a[..6], [1.0; 6]);
    assert!(a[6..].iter().all(|v| v.is_nan()), "{a:?}");

    // A filter the Rust engine cannot decode: libnetcdf's values, or an error that
    // names the filter; never other values.
    for (file, filter) in [("zstd.nc", "32015 (zstd)"), ("bzip2.nc", "307 (bzip2)")] {
        let result = crate::open_dataset(dir.path(file)).and_then(|ds| ds.load());
        match result {
            Ok(ds) => {
                let v = ds.get("packed").values().unwrap().to_f64_vec();
                assert_eq!(v, (0..100).map(f64::from).collect::<Vec<_>>(), "{file}");
            }
            Err(e) => {
                let e = e.to_string();
                assert!(
                    e.contains(filter) && e.contains("libnetcdf failed too") && e.contains(file),
                    "{e}"
                );
            }
        }
    }
}

#[test]
fn a_file_replaced_after_open_is_an_error_naming_it() {
    let dir = Scratch::new("changed");
    let path = dir.path("day.nc");
    let write = |path: &Path, float: bool, value: f64| {
        let mut f = netcdf::create(path).unwrap();
        f.add_dimension("x", 4).unwrap();
        if float {
            let mut v = f.add_variable::<f32>("rain", &["x"]).unwrap();
            v.put_values(&[value as f32; 4], ..).unwrap();
        } else {
            let mut v = f.add_variable::<i32>("rain", &["x"]).unwrap();
            v.put_values(&[value as i32; 4], ..).unwrap();
        }
        f.close().unwrap();
    };
    for engine in [Engine::Rust, Engine::Libnetcdf] {
        for float in [true, false] {
            write(&path, true, 1.0);
            let ds = OpenOptions::new()
                .engine(engine)
                .open_dataset(&path)
                .unwrap();
            let before = Identity::of(&path).unwrap();
            // Another file renamed over it: other values, or another dtype.
            let other = dir.path("other.nc");
            write(&other, float, 2.0);
            std::fs::rename(&other, &path).unwrap();
            assert_ne!(before, Identity::of(&path).unwrap());
            let err = ds
                .load()
                .expect_err("a replaced file must not be read")
                .to_string();
            assert!(
                err.contains("day.nc") && err.contains("open it again"),
                "{engine}: {err}"
            );
        }
    }
}

#[test]
fn glob_matches_that_are_not_files_are_named() {
    let dir = Scratch::new("glob");
    std::fs::create_dir(dir.path("a-folder.nc")).unwrap();
    let pattern = dir.0.join("*.nc").to_string_lossy().into_owned();
    let err = crate::open_mfdataset(&pattern).unwrap_err().to_string();
    assert!(
        err.contains("a-folder.nc") && err.contains("directory"),
        "{err}"
    );
    std::fs::remove_dir(dir.path("a-folder.nc")).unwrap();
    std::os::unix::fs::symlink(dir.path("gone.nc"), dir.path("dangling.nc")).unwrap();
    let err = crate::open_mfdataset(&pattern).unwrap_err().to_string();
    assert!(
        err.contains("dangling.nc") && err.contains("dangling"),
        "{err}"
    );
}

#[test]
fn a_group_opens_with_either_engine_and_a_missing_one_is_named() {
    let dir = Scratch::new("group");
    let path = dir.path("groups.nc");
    {
        let mut f = netcdf::create(&path).unwrap();
        f.add_dimension("x", 3).unwrap();
        let mut v = f.add_variable::<f32>("top", &["x"]).unwrap();
        v.put_values(&[1.0f32, 2.0, 3.0], ..).unwrap();
        let mut g = f.add_group("forecast").unwrap();
        g.add_dimension("step", 2).unwrap();
        g.add_attribute("kind", "ensemble").unwrap();
        let mut v = g.add_variable::<f64>("t2m", &["step"]).unwrap();
        v.put_attribute("units", "K").unwrap();
        v.put_values(&[280.5f64, 281.25], ..).unwrap();
    }
    for engine in [Engine::Rust, Engine::Libnetcdf] {
        let options = OpenOptions::new().engine(engine).group("/forecast/");
        let ds = options.open_dataset(&path).unwrap().load().unwrap();
        assert_eq!(
            ds.attrs().get("kind").and_then(|v| v.as_str()),
            Some("ensemble")
        );
        let t2m = ds.get("t2m").into_result().unwrap();
        assert_eq!(
            t2m.values().unwrap().to_f64_vec(),
            [280.5, 281.25],
            "{engine}"
        );
        assert!(
            ds.get("top").check().is_err(),
            "{engine}: the root's variables are not in the group"
        );
        let err = OpenOptions::new()
            .engine(engine)
            .group("hindcast")
            .open_dataset(&path)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("hindcast") && err.contains("groups.nc"),
            "{engine}: {err}"
        );
    }
}

/// h5py files without dimension scales: plain datasets with several axes of one
/// length, groups, and a NetCDF-4 file that h5py added datasets to afterwards.
const PHONY_FIXTURES: &str = r#"
import sys, h5py, numpy as np, netCDF4
d = sys.argv[1]
with h5py.File(d + "/plain.h5", "w") as f:
    for name, shape in [("a", (2, 3)), ("b", (3,)), ("c", (3, 3)), ("d", (4, 2)), ("e", (2, 3, 3))]:
        f[name] = np.arange(np.prod(shape), dtype="f8").reshape(shape)
with h5py.File(d + "/groups.h5", "w") as f:
    for name, shape in [("a", (2, 3)), ("g/b", (3,)), ("g/c", (2, 5)), ("h/d", (5,)), ("h/k/e", (5, 5))]:
        f[name] = np.ones(shape, dtype="i4")
ds = netCDF4.Dataset(d + "/mixed.nc", "w")
ds.createDimension("x", 3)
ds.createDimension("t", 2)
ds.createVariable("v", "f4", ("t", "x"))[:] = 1.0
sub = ds.createGroup("sub")
sub.createDimension("y", 4)
sub.createVariable("w", "f4", ("y",))[:] = 2.0
ds.close()
with h5py.File(d + "/mixed.nc", "a") as f:
    f["extra"] = np.zeros((3, 2, 3))
    f["sub/more"] = np.zeros((4, 7))
"#;

#[test]
fn phony_dimensions_are_named_as_libnetcdf_names_them() {
    let dir = Scratch::new("phony");
    let out = crate::io::python_command()
        .args(["-c", PHONY_FIXTURES])
        .arg(&dir.0)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dims = |file: &str, group: Option<&str>, engine: Engine| -> Vec<(String, Vec<String>)> {
        let mut options = OpenOptions::new().engine(engine);
        if let Some(g) = group {
            options = options.group(g);
        }
        let ds = options
            .open_dataset(dir.path(file))
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        ds.data_vars()
            .iter()
            .map(|(name, v)| (name.clone(), v.dims().to_vec()))
            .collect()
    };
    for (file, groups) in [
        ("plain.h5", &[None][..]),
        ("groups.h5", &[None, Some("g"), Some("h"), Some("h/k")][..]),
        ("mixed.nc", &[None, Some("sub")][..]),
    ] {
        for group in groups {
            let ours = dims(file, *group, Engine::Rust);
            assert_eq!(
                ours,
                dims(file, *group, Engine::Libnetcdf),
                "{file} {group:?}"
            );
            assert!(!ours.is_empty(), "{file} {group:?}");
        }
    }
    // As netCDF4-python 1.7.5 (libnetcdf 4.10.1) names them (2026-12-02): a second
    // axis of one length is a second dimension, and numbers count the real ones.
    let plain = dims("plain.h5", None, Engine::Rust);
    assert_eq!(plain[4].1, ["phony_dim_0", "phony_dim_1", "phony_dim_2"]);
    let mixed = dims("mixed.nc", None, Engine::Rust);
    assert_eq!(mixed[1].1, ["x", "t", "phony_dim_4"]);
}
