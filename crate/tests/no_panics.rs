//! No panics in library code: the public API driven with edge inputs (empty arrays,
//! NaN, ±inf, subnormal and huge values, zero and maximal sizes, out-of-range
//! positions) returns a value or an `Err`, never a panic and never a hang. Built
//! as a test, so with overflow checks on, as evcxr builds notebook cells.
//!
//! proptest counts a panic as a failure; each case also runs under a time budget
//! set by the loop bounds the library validates (a hang would stall the suite).

use geoxr::maps::{Colormap, Map, Orthographic};
use geoxr::ndarray::{ArrayD, IxDyn};
use geoxr::{ArrayData, DataArray, Pos, Selector, Variable};
use proptest::prelude::*;

/// Floats a file or a user may hand over: ordinary, huge, tiny, subnormal, special.
fn edge_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        -1e3f64..1e3,
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(f64::MAX),
        Just(f64::MIN),
        Just(f64::MIN_POSITIVE),
        Just(5e-324),
        Just(-5e-324),
        Just(0.0),
        Just(-0.0),
        Just(1e12),
        Just(1e200),
        Just(-1e200),
        any::<f64>(),
    ]
}

fn edge_usize() -> impl Strategy<Value = usize> {
    prop_oneof![
        0usize..8,
        Just(usize::MAX),
        Just(usize::MAX - 1),
        Just(usize::MAX / 2 + 1),
        any::<usize>(),
    ]
}

fn pos() -> impl Strategy<Value = Pos> {
    prop_oneof![
        edge_usize().prop_map(Pos::At),
        (edge_usize(), edge_usize()).prop_map(|(a, b)| Pos::Range(a..b)),
        (edge_usize(), edge_usize()).prop_map(|(a, b)| Pos::from(a..=b)),
        proptest::collection::vec(edge_usize(), 0..4).prop_map(Pos::List),
    ]
}

/// A (time, lon, lat) array of any small shape, zero sizes included, with
/// coordinates, holding edge values.
fn grid() -> impl Strategy<Value = DataArray> {
    (0usize..4, 0usize..4, 0usize..4).prop_flat_map(|(t, x, y)| {
        (
            proptest::collection::vec(edge_f64(), t * x * y),
            proptest::collection::vec(edge_f64(), x),
            proptest::collection::vec(edge_f64(), y),
        )
            .prop_map(move |(values, lon, lat)| {
                let data = ArrayD::from_shape_vec(IxDyn(&[t, x, y]), values).unwrap();
                let v = Variable::new(["time", "lon", "lat"], ArrayData::F64(data)).unwrap();
                let coord = |dim: &str, c: Vec<f64>| {
                    let n = c.len();
                    let data = ArrayD::from_shape_vec(IxDyn(&[n]), c).unwrap();
                    (
                        dim.to_owned(),
                        Variable::new([dim], ArrayData::F64(data)).unwrap(),
                    )
                };
                DataArray::new(Some("rain"), v, vec![coord("lon", lon), coord("lat", lat)]).unwrap()
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(192) })]

    #[test]
    fn isel_takes_any_position(da in grid(), p in pos(), q in pos()) {
        let _ = da.isel(("lon", p.clone()));
        let _ = da.isel([("time", p), ("lat", q)]);
    }

    #[test]
    fn sel_takes_any_label(da in grid(), x in edge_f64(), lo in edge_f64(), hi in edge_f64()) {
        let _ = da.sel(("lon", Selector::nearest(x)));
        let _ = da.sel(("lat", x));
        let _ = da.sel(("lon", lo..=hi));
        if x.is_nan() {
            prop_assert!(da.sel(("lon", Selector::nearest(x))).check().is_err());
        }
    }

    #[test]
    fn reductions_take_any_values(da in grid(), chunk in edge_usize()) {
        for dim in ["time", "lon", "lat"] {
            let _ = da.mean(dim).load();
            let _ = da.std(dim);
            let _ = da.var_ddof(dim, u32::MAX);
            let _ = da.min(dim);
            let _ = da.max(dim);
            let _ = da.sum(dim);
            let _ = da.count(dim);
            let lazy = da.chunk(dim, chunk);
            let _ = lazy.mean(dim).load();
            let _ = lazy.std(["time", "lon"]).load();
        }
        let _ = da.mean(["time", "lon", "lat"]);
    }

    #[test]
    fn reshaping_and_arithmetic_take_any_array(da in grid(), x in edge_f64(), other in grid(), name in ".{0,12}") {
        use geoxr::analysis::BinaryOp;
        let _ = da.transpose().transpose_to(["lat", "time", "lon"]);
        let z = da.stack(&name, ["lat", "lon"]);
        let _ = z.unstack(&name);
        let _ = z.to_string();
        prop_assert!(da.stack("z", ["lat", "lat"]).check().is_err());
        prop_assert!(da.transpose_to(["lat", "lat", "lon"]).check().is_err());
        for op in [BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div] {
            let _ = da.apply_scalar(op, x);
            let _ = da.apply_array(op, &other);
        }
        let _ = da.to_string();
        let _ = da.sel(("lon", Selector::Between(None, Some(x.into()))));
    }

    #[test]
    fn memory_sizes_parse_or_fail(text in ".{0,40}", digits in "[0-9]{1,400}", unit in "(|k|M|G|T|KiB|MiB|GiB|TiB|B|kB|MB|GB|TB)") {
        let _ = geoxr::parse_bytes(&text);
        let _ = geoxr::parse_bytes(&format!("{digits}{unit}"));
        if let Ok(client) = geoxr::Client::new().n_workers(usize::MAX).memory_limit(&format!("{digits}.{digits}{unit}")) {
            let _ = client.to_string();
            let _ = client.memory_limit_total();
        }
    }
}

proptest! {
    // Drawing is the slow part: fewer, small maps.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(40) })]

    #[test]
    fn maps_draw_or_refuse_any_settings(
        lo in edge_f64(), hi in edge_f64(), step in edge_f64(),
        w in prop_oneof![0u32..48, Just(u32::MAX), Just(8193u32)],
        h in prop_oneof![0u32..48, Just(u32::MAX)],
        categorical in any::<bool>(), lon0 in edge_f64(), lat0 in edge_f64(),
    ) {
        let values = ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![0.0, 1.0, f64::NAN, 3.0]).unwrap();
        let v = Variable::new(["lon", "lat"], ArrayData::F64(values)).unwrap();
        let coord = |dim: &str, c: Vec<f64>| {
            let data = ArrayD::from_shape_vec(IxDyn(&[2]), c).unwrap();
            (dim.to_owned(), Variable::new([dim], ArrayData::F64(data)).unwrap())
        };
        let da = DataArray::new(Some("r"), v, vec![coord("lon", vec![-60.0, -59.0]), coord("lat", vec![-10.0, -9.0])]).unwrap();
        let cmap = if categorical { Colormap::Category10 } else { Colormap::Viridis };
        let raster = da.plot().cmap(cmap).clim(lo, hi);
        let map = Map::from(raster.clone()).size(w, h).graticule(step);
        let _ = map.draw();
        let _ = map.clone().projection(Orthographic::new(lon0, lat0)).draw();
        let _ = map.to_svg();
        let _ = Map::from(raster).size(w.min(40), h.min(40)).draw();
    }
}

/// The cases named in the issue, each once: they used to hang, grow memory or panic.
#[test]
fn issue_cases_return_errors_quickly() {
    let values = ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![0.0, 1.0, 2.0, 3.0]).unwrap();
    let v = Variable::new(["lon", "lat"], ArrayData::F64(values)).unwrap();
    let coord = |dim: &str, c: Vec<f64>| {
        let data = ArrayD::from_shape_vec(IxDyn(&[2]), c).unwrap();
        (
            dim.to_owned(),
            Variable::new([dim], ArrayData::F64(data)).unwrap(),
        )
    };
    let da = DataArray::new(
        Some("regime"),
        v,
        vec![
            coord("lon", vec![-60.0, -59.0]),
            coord("lat", vec![-10.0, -9.0]),
        ],
    )
    .unwrap();
    let raster = da.plot().cmap(Colormap::Category10);
    let started = std::time::Instant::now();
    let err = Map::from(raster.clone().clim(0.0, 1e12))
        .size(60, 40)
        .draw()
        .unwrap_err();
    assert!(err.to_string().contains("classes"), "{err}");
    let err = Map::from(raster.clone().clim(0.0, 5e-324))
        .size(60, 40)
        .draw()
        .unwrap_err();
    assert!(err.to_string().contains("narrow"), "{err}");
    let err = Map::from(raster.clone())
        .size(60, 40)
        .graticule(1e-7)
        .draw()
        .unwrap_err();
    assert!(err.to_string().contains("graticule(0.0000001)"), "{err}");
    assert!(Map::from(raster).size(60, 40).graticule(0.1).draw().is_ok());
    assert!(da.isel(("lon", 0..=usize::MAX)).check().is_ok());
    assert!(geoxr::parse_bytes(&"9".repeat(500)).is_err());
    assert!(
        started.elapsed().as_secs() < 60,
        "took {:?}",
        started.elapsed()
    );
}
