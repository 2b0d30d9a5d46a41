//! Tests of selection, reshaping, reductions and resampling against straightforward
//! serial computations written here, lazy and eager, on one thread and several.

use ndarray::{ArrayD, IxDyn};

use crate::model::{ArrayData, Calendar, DataArray, Variable};
use crate::{Client, Error, Selector};

const T: usize = 40;
const NLON: usize = 5;
const NLAT: usize = 3;

/// Rain-like values in (time, lon, lat) with NaNs, one cell NaN at every time.
fn value(t: usize, i: usize, j: usize) -> f32 {
    if (i, j) == (4, 2) || (t * 7 + i * 3 + j) % 11 == 0 {
        return f32::NAN;
    }
    ((t * 31 + i * 17 + j * 5) % 23) as f32 * 0.37 + (t % 3) as f32
}

fn rain() -> DataArray {
    let values: Vec<f32> = (0..T)
        .flat_map(|t| (0..NLON).flat_map(move |i| (0..NLAT).map(move |j| value(t, i, j))))
        .collect();
    let data = ArrayData::F32(ArrayD::from_shape_vec(IxDyn(&[T, NLON, NLAT]), values).unwrap());
    let first = Calendar::Julian.days_from_epoch(2018, 2, 1);
    let times: Vec<i64> = (0..T as i64).map(|d| (first + d) * 86_400).collect();
    let time = ArrayData::Time(
        ArrayD::from_shape_vec(IxDyn(&[T]), times).unwrap(),
        Calendar::Julian,
    );
    let lon = ArrayData::F32(
        ArrayD::from_shape_vec(IxDyn(&[NLON]), vec![-70.0, -69.9, -69.8, -69.7, -69.6]).unwrap(),
    );
    let lat =
        ArrayData::F32(ArrayD::from_shape_vec(IxDyn(&[NLAT]), vec![-15.0, -14.9, -14.8]).unwrap());
    let mut v = Variable::new(["time", "lon", "lat"], data).unwrap();
    v.attrs_mut().set("units", "mm");
    DataArray::new(
        Some("rain"),
        v,
        vec![
            ("time".into(), Variable::new(["time"], time).unwrap()),
            ("lon".into(), Variable::new(["lon"], lon).unwrap()),
            ("lat".into(), Variable::new(["lat"], lat).unwrap()),
        ],
    )
    .unwrap()
}

fn values(da: &DataArray) -> Vec<f32> {
    da.to_ndarray::<f32>().unwrap().iter().copied().collect()
}

fn same_bits(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// Serial reference: mean and population std of the non-NaN values.
fn mean_std(xs: impl Iterator<Item = f64>) -> (f64, f64) {
    let v: Vec<f64> = xs.filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let m = v.iter().sum::<f64>() / v.len() as f64;
    (
        m,
        (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64).sqrt(),
    )
}

#[test]
fn time_mean_matches_a_serial_computation_lazy_and_eager() {
    let eager = rain().mean("time").into_result().unwrap();
    assert!(!eager.is_lazy());
    assert_eq!(eager.dims(), ["lon", "lat"]);
    assert_eq!(eager.dtype(), crate::DType::F32, "float32 stays float32");
    let lazy = rain().chunk("time", 1).mean("time").into_result().unwrap();
    assert!(
        lazy.is_lazy(),
        "a reduction of lazy data stays lazy until loaded"
    );
    let (e, l) = (values(&eager), values(&lazy));
    assert!(same_bits(&e, &l), "lazy and eager give the same bits");
    for i in 0..NLON {
        for j in 0..NLAT {
            let (m, _) = mean_std((0..T).map(|t| value(t, i, j) as f64));
            let got = e[i * NLAT + j];
            if m.is_nan() {
                assert!(got.is_nan(), "an all-NaN cell gives NaN");
            } else {
                assert!((got as f64 - m).abs() < 1e-5, "({i},{j}): {got} vs {m}");
            }
        }
    }
}

#[test]
fn weekly_mean_then_std_matches_serial_and_does_not_depend_on_threads() {
    let weekly = |da: DataArray| {
        da.resample("time", "1W")
            .mean()
            .std("time")
            .into_result()
            .unwrap()
    };
    let eager = values(&weekly(rain()));
    for chunk in [1, 3, 40] {
        let lazy = weekly(rain().chunk("time", chunk).into_result().unwrap());
        for threads in [1, 2, 5] {
            let client = Client::new().threads_per_worker(threads);
            let got = values(&client.load(&lazy).unwrap());
            assert!(same_bits(&eager, &got), "chunk {chunk}, {threads} threads");
        }
    }
    // Serial reference: 2018-02-01 is a Thursday, so weeks end on Feb 4, 11, ...
    let bins: Vec<std::ops::Range<usize>> = {
        let mut b = Vec::new();
        b.push(0..4);
        let mut s = 4;
        while s < T {
            b.push(s..(s + 7).min(T));
            s += 7;
        }
        b
    };
    for i in 0..NLON {
        for j in 0..NLAT {
            let means = bins
                .iter()
                .map(|r| mean_std(r.clone().map(|t| value(t, i, j) as f64)).0 as f32 as f64);
            let (_, sd) = mean_std(means);
            let got = eager[i * NLAT + j] as f64;
            assert!(
                (got - sd).abs() < 1e-5 || (got.is_nan() && sd.is_nan()),
                "({i},{j}) {got} vs {sd}"
            );
        }
    }
}

#[test]
fn resample_labels_and_counts() {
    let weekly = rain().resample("time", "W");
    let bins = weekly.bins().unwrap();
    assert_eq!(bins[0].0.date_string(), "2018-02-04");
    assert_eq!(bins[0].1, 4);
    let counts = weekly.count().into_result().unwrap();
    assert_eq!(counts.dims(), ["time", "lon", "lat"]);
    assert_eq!(counts.sizes().unwrap().get("time"), Some(bins.len()));
    let monthly = rain().resample("time", "MS").sum().into_result().unwrap();
    assert_eq!(monthly.sizes().unwrap().get("time"), Some(2));
}

#[test]
fn sel_by_label_slices_and_exact_labels() {
    let da = rain();
    let sub = da
        .sel([("lon", -69.95..=-69.65), ("lat", -15.05..=-14.85)])
        .into_result()
        .unwrap();
    assert_eq!(
        sub.sizes().unwrap().to_string(),
        "{time: 40, lon: 3, lat: 2}"
    );
    let none = da.sel(("lon", 10.0..=20.0)).into_result().unwrap();
    assert_eq!(
        none.sizes().unwrap().get("lon"),
        Some(0),
        "a slice that selects nothing is empty"
    );
    let day = da.sel(("time", "2018-02-04")).into_result().unwrap();
    assert_eq!(day.dims(), ["lon", "lat"]);
    assert_eq!(values(&day)[2], value(3, 0, 2));
    let near = da
        .sel(("lon", Selector::nearest(-69.91)))
        .into_result()
        .unwrap();
    assert_eq!(values(&near)[1].to_bits(), value(0, 1, 1).to_bits());
    let week = da
        .chunk("time", 7)
        .sel(("time", "2018-02-10"..="2018-02-12"))
        .into_result()
        .unwrap();
    assert!(week.is_lazy());
    assert!(same_bits(
        &values(&week),
        &values(&da.isel(("time", 9..12)).into_result().unwrap())
    ));
    let exact = da.sel(("lon", -69.9)).into_result().unwrap();
    assert_eq!(
        exact.dims(),
        ["time", "lat"],
        "float32 labels match at their own precision"
    );
}

#[test]
fn descending_coordinates_select_by_value() {
    let da = rain().isel(("lat", vec![2, 1, 0])).into_result().unwrap();
    let sub = da.sel(("lat", -14.95..=-14.75)).into_result().unwrap();
    assert_eq!(sub.sizes().unwrap().get("lat"), Some(2));
    // xarray users write the bounds in the coordinate's own order; the same labels.
    let reversed = da.sel(("lat", -14.75..=-14.95)).into_result().unwrap();
    assert!(reversed.equals(&sub).unwrap());
    let ascending = rain().sel(("lat", -14.75..=-14.95)).into_result().unwrap();
    assert_eq!(ascending.sizes().unwrap().get("lat"), Some(2));
}

#[test]
fn stack_and_unstack_round_trip() {
    let da = rain();
    let stacked = da.stack("z", ["lat", "lon"]).into_result().unwrap();
    assert_eq!(stacked.dims(), ["time", "z"]);
    assert_eq!(stacked.sizes().unwrap().get("z"), Some(NLON * NLAT));
    assert_eq!(stacked.levels("z").unwrap(), ["lat", "lon"]);
    let html = crate::notebook::dataarray_html_for_tests(&stacked);
    assert!(
        html.contains("MultiIndex[lat, lon]"),
        "the HTML repr names the levels"
    );
    // lat outer, lon inner.
    let z = values(&stacked.isel(("time", 0)).into_result().unwrap());
    assert_eq!(z[1].to_bits(), value(0, 1, 0).to_bits());
    assert_eq!(z[NLON].to_bits(), value(0, 0, 1).to_bits());
    let back = stacked.unstack("z").into_result().unwrap();
    assert_eq!(back.dims(), ["time", "lat", "lon"]);
    let again = back
        .transpose_to(["time", "lon", "lat"])
        .into_result()
        .unwrap();
    assert!(same_bits(&values(&again), &values(&da)));
    assert_eq!(
        again.coord("lon").unwrap().values(),
        da.coord("lon").unwrap().values()
    );
    // Lazy stacking gives the same values.
    let lazy = da
        .chunk("time", 4)
        .stack("z", ["lat", "lon"])
        .into_result()
        .unwrap();
    assert!(lazy.is_lazy() && same_bits(&values(&lazy), &values(&stacked)));
    // Missing combinations come back as NaN.
    let partial = stacked
        .isel(("z", vec![0, 1, 2, 3, 4, 6]))
        .unstack("z")
        .into_result()
        .unwrap();
    assert_eq!(
        partial.sizes().unwrap().to_string(),
        "{time: 40, lat: 2, lon: 5}"
    );
    assert!(values(&partial.isel(("time", 0)).into_result().unwrap())[NLON].is_nan());
}

#[test]
fn transpose_and_with_data_keep_labels() {
    let x = rain()
        .stack("z", ["lat", "lon"])
        .transpose()
        .into_result()
        .unwrap();
    assert_eq!(x.dims(), ["z", "time"]);
    let template = x.isel(("time", 0)).into_result().unwrap();
    let labels =
        ArrayData::I64(ArrayD::from_shape_vec(IxDyn(&[NLON * NLAT]), (0..15).collect()).unwrap());
    let map = template
        .with_data(labels)
        .unstack("z")
        .into_result()
        .unwrap();
    assert_eq!(map.dims(), ["lat", "lon"]);
    assert_eq!(
        map.to_ndarray::<i64>().unwrap()[[1, 2]],
        7,
        "integers stay integers when complete"
    );
    let err = template
        .with_data(ArrayData::I64(ArrayD::zeros(IxDyn(&[3]))))
        .into_result()
        .unwrap_err();
    assert!(matches!(err, Error::Shape { .. }), "{err}");
}

#[test]
fn persist_keeps_chunks_in_memory() {
    let lazy = rain()
        .chunk("time", 10)
        .stack("z", ["lat", "lon"])
        .into_result()
        .unwrap();
    let kept = Client::new().persist(&lazy).unwrap();
    let crate::Data::Lazy(chunks) = kept.data() else {
        panic!("persist keeps the chunked form")
    };
    assert!(chunks.is_persisted() && chunks.chunks().len() == 4);
    assert!(same_bits(&values(&kept), &values(&lazy)));
}

#[test]
fn bad_input_names_the_culprit() {
    let da = rain();
    let msg = |e: Error| e.to_string();
    assert!(msg(da.sel(("depth", 1.0..=2.0)).into_result().unwrap_err()).contains("`depth`"));
    assert!(
        msg(da.isel(("lon", 99)).into_result().unwrap_err()).contains("position 99 along `lon`")
    );
    assert!(msg(da.mean("depth").into_result().unwrap_err()).contains("`depth`"));
    assert!(msg(da.resample("time", "2X").mean().into_result().unwrap_err()).contains("`2X`"));
    assert!(
        msg(da.resample("lon", "W").mean().into_result().unwrap_err())
            .contains("`lon` holds float32")
    );
    assert!(msg(da.sel(("lon", -12.0)).into_result().unwrap_err()).contains("nearest is"));
    assert!(msg(da.sel(("time", "2018-13-45")).into_result().unwrap_err()).contains("`time`"));
    let shuffled = da.isel(("time", vec![3, 1, 2])).into_result().unwrap();
    assert!(msg(shuffled
        .resample("time", "D")
        .mean()
        .into_result()
        .unwrap_err())
    .contains("not sorted"));
    assert!(msg(da.transpose_to(["lon"]).into_result().unwrap_err()).contains("every dimension"));
    assert!(msg(da.unstack("lon").into_result().unwrap_err()).contains("multi-index"));
    assert!(msg(da.chunk("time", 0).into_result().unwrap_err()).contains("at least 1"));
}

#[test]
fn memory_limits_are_checked_before_reading() {
    let lazy = rain().chunk("time", 1).into_result().unwrap();
    let tiny = Client::new().memory_limit("1kB").unwrap();
    let err = tiny.load(&lazy).unwrap_err().to_string();
    assert!(
        err.contains("loading rain needs 2.4 kB but the memory limit is 1.0 kB"),
        "{err}"
    );
    assert!(err.contains("memory limit"), "{err}");
    // Streaming holds one chunk per block in flight; not even that fits in 100 B.
    let err = Client::new()
        .memory_limit("100B")
        .unwrap()
        .load(&lazy.mean("time").into_result().unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("mean") && err.contains("memory limit"),
        "{err}"
    );
    // A limit that holds a couple of blocks streams the reduction within it.
    let small = Client::new().memory_limit("3kB").unwrap();
    let got = values(
        &small
            .load(&lazy.mean("time").into_result().unwrap())
            .unwrap(),
    );
    assert!(same_bits(
        &got,
        &values(&rain().mean("time").into_result().unwrap())
    ));
    assert!(Client::new().memory_limit("lots").is_err());
}

#[test]
fn integer_reductions_widen_and_counts_skip_nan() {
    let counts = rain().count("time").into_result().unwrap();
    assert_eq!(counts.dtype(), crate::DType::I64);
    let c = counts.to_ndarray::<i64>().unwrap();
    assert_eq!(c[[4, 2]], 0, "an all-NaN cell counts zero");
    let both = rain().mean(["lon", "lat"]).into_result().unwrap();
    assert_eq!(both.dims(), ["time"]);
    let lazy_both = rain()
        .chunk("time", 3)
        .mean(["time", "lat"])
        .into_result()
        .unwrap();
    let eager_both = rain().mean(["time", "lat"]).into_result().unwrap();
    assert!(same_bits(&values(&lazy_both), &values(&eager_both)));
}

#[test]
fn arithmetic_broadcasts_by_name_and_keeps_float32() {
    let da = rain();
    let anomaly = &da - &da.mean("time");
    assert_eq!(anomaly.dims(), ["time", "lon", "lat"]);
    assert_eq!(anomaly.dtype(), crate::DType::F32);
    let a = values(&anomaly);
    let m = values(&da.mean("time"));
    let v = values(&da);
    assert_eq!(a[7].to_bits(), (v[7] - m[7]).to_bits());
    let lazy = &da.chunk("time", 5) - &da.mean("time");
    assert!(
        lazy.is_lazy(),
        "a lazy left operand with an in-memory right one stays lazy"
    );
    assert!(same_bits(&values(&lazy), &a));
    let doubled = &da * 2.0;
    assert_eq!(values(&doubled)[1], v[1] * 2.0);
    let per_lat = da.isel(("lon", 0)).isel(("time", 0));
    let outer = &da.isel(("lat", 0)) + &per_lat;
    assert_eq!(
        outer.dims(),
        ["time", "lon", "lat"],
        "the right operand's extra dims go last"
    );
    let wrong = da.isel(("lon", 0..2));
    let err = (&da + &wrong).load().unwrap_err().to_string();
    assert!(err.contains("`lon`"), "{err}");
}

#[test]
fn arithmetic_with_a_dimensionless_left_operand_broadcasts_to_the_right() {
    let da = rain();
    let total = da.mean(["time", "lon", "lat"]);
    assert!(total.dims().is_empty());
    let per_lat = da.isel(("lon", 1)).isel(("time", 2));
    let m = values(&total)[0];
    let expected: Vec<f32> = values(&per_lat).iter().map(|x| m - x).collect();
    let diff = &total - &per_lat;
    assert_eq!(diff.failed_step(), None);
    assert_eq!(diff.dims(), ["lat"]);
    assert!(same_bits(&values(&diff), &expected));
    let both_scalars = &total * &total;
    assert!(both_scalars.dims().is_empty());
    assert_eq!(values(&both_scalars)[0].to_bits(), (m * m).to_bits());
    // A lazy left operand whose result gains dimensions is loaded first: same bits.
    let lazy_outer = &da.chunk("time", 7).isel(("lat", 0)) + &per_lat;
    let outer = &da.isel(("lat", 0)) + &per_lat;
    assert!(same_bits(&values(&lazy_outer), &values(&outer)));
}

// Deferred errors: a chain carries its first failure to the door.

#[test]
fn a_failed_step_is_named_and_kept_to_the_door() {
    let da = rain();
    // `tme` is a typo; every later step passes the first error on untouched.
    let weekly = da.resample("tme", "1W").mean().std("time").sum("lon");
    assert_eq!(weekly.failed_step(), Some("resample(tme, 1W)"));
    assert!(weekly.values().is_none(), "a failed array holds no values");
    for err in [
        weekly.load().unwrap_err(),
        weekly.compute().unwrap_err(),
        weekly.persist().unwrap_err(),
        weekly.to_ndarray::<f32>().unwrap_err(),
        weekly.sizes().unwrap_err(),
        weekly.check().unwrap_err(),
        Client::new().load(&weekly).unwrap_err(),
    ] {
        assert!(
            matches!(&err, Error::NoSuchDim { dim, .. } if dim == "tme"),
            "{err}"
        );
        assert!(err.to_string().contains("`tme`"), "{err}");
    }
    let path = std::env::temp_dir().join(format!("geoxr-failed-{}.nc", std::process::id()));
    assert!(weekly.to_netcdf(&path).is_err());
    assert!(!path.exists(), "a failed array writes no file");
    // The first error wins over later ones (`depth` does not exist either).
    let first = da.mean("depth").std("height");
    assert!(first.error().unwrap().to_string().contains("`depth`"));
    assert_eq!(first.failed_step(), Some("mean(depth)"));
}

#[test]
fn failed_arrays_are_never_equal() {
    let da = rain();
    let bad = da.sel(("depth", 1.0));
    let also_bad = da.sel(("depth", 1.0));
    assert!(
        bad.equals(&also_bad).is_err(),
        "two failures are not `true`"
    );
    assert!(da.equals(&bad).is_err());
    assert!(bad.equals(&da).is_err());
    assert!(da.equals(&da.chunk("time", 7)).unwrap());
}

#[test]
fn chained_arithmetic_equals_the_step_by_step_values_bit_for_bit() {
    let da = rain();
    let climatology = da.mean("time");
    let chained = ((&da - &climatology) * 2.0 + 1.5) / &da.std("time");
    // The same steps, each loaded and checked before the next.
    let anomaly = (&da - &climatology.load().unwrap()).load().unwrap();
    let scaled = (&anomaly * 2.0).load().unwrap();
    let shifted = (&scaled + 1.5).load().unwrap();
    let step_by_step = (&shifted / &da.std("time").load().unwrap()).load().unwrap();
    assert_eq!(chained.dims(), ["time", "lon", "lat"]);
    assert!(same_bits(&values(&chained), &values(&step_by_step)));
    // And the same chain on lazy, chunked data.
    let lazy = da.chunk("time", 6);
    let chained_lazy = ((&lazy - &climatology) * 2.0 + 1.5) / &da.std("time");
    assert!(chained_lazy.is_lazy());
    assert!(same_bits(&values(&chained_lazy), &values(&step_by_step)));
    // One value against float32 arithmetic written out here.
    let (v, m, s) = (values(&da), values(&climatology), values(&da.std("time")));
    let k = NLAT + 1; // time 0, lon 1, lat 1
    let expected = ((v[k] - m[k]) * 2.0 + 1.5) / s[k];
    assert_eq!(values(&chained)[k].to_bits(), expected.to_bits());
}

#[test]
fn a_failure_in_the_middle_of_a_chain_surfaces_at_load_and_in_the_display() {
    let da = rain();
    let two_lons = da.isel(("lon", 0..2));
    // The shapes do not fit at `-`; `* 2.0` and `mean` pass the error on.
    let result = ((&da - &two_lons) * 2.0).mean("time");
    let err = result.load().unwrap_err().to_string();
    assert!(err.contains("`lon`") && err.contains("`rain`"), "{err}");
    assert_eq!(result.failed_step(), Some("`rain` - `rain`"));
    let text = result.to_string();
    assert!(
        text.starts_with("geoxr error in `rain` - `rain`: "),
        "{text}"
    );
    assert!(text.contains(&err), "{text}");
    // A failed operand on the right passes its own error on.
    let missing = rain().sel(("depth", 1.0));
    let sum = &da + &missing;
    assert!(sum.load().unwrap_err().to_string().contains("`depth`"));
}

#[test]
fn a_failed_array_shows_its_error_as_escaped_html() {
    let ds = crate::Dataset::new(
        vec![],
        vec![("<b>rain</b>".into(), rain().variable().clone())],
        Default::default(),
    )
    .unwrap();
    let missing = ds.get("snow").mean("time");
    let html = crate::notebook::dataarray_html_for_tests(&missing);
    assert!(html.contains("geoxr-error"), "{html}");
    assert!(
        html.contains("&lt;b&gt;rain&lt;/b&gt;"),
        "names are escaped: {html}"
    );
    assert!(!html.contains("<b>"), "{html}");
    assert!(missing.to_string().contains("`snow`"));
}
