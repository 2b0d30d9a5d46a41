//! Plans: pieces split any way merge to the bits of `load`, JSON round trips give
//! the same plan and result, damaged JSON and results give errors, never panics.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use rand::{Rng, SeedableRng};

use crate::{open_mfdataset, Client, DataArray, Plan};

struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("geoxr-plan-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const NLON: usize = 9;
const NLAT: usize = 7;

/// One day in the IMERG layout, small: `rain(time, lon, lat)` float32 with a fill
/// value and a few missing cells, Julian days since 1970.
fn write_day(path: &Path, day: i32, rng: &mut impl Rng) {
    let mut f = netcdf::create(path).unwrap();
    f.add_unlimited_dimension("time").unwrap();
    f.add_dimension("lon", NLON).unwrap();
    f.add_dimension("lat", NLAT).unwrap();
    let lon: Vec<f32> = (0..NLON).map(|i| -70.0 + i as f32).collect();
    let lat: Vec<f32> = (0..NLAT).map(|j| -20.0 + j as f32).collect();
    f.add_variable::<f32>("lon", &["lon"])
        .unwrap()
        .put_values(&lon, ..)
        .unwrap();
    f.add_variable::<f32>("lat", &["lat"])
        .unwrap()
        .put_values(&lat, ..)
        .unwrap();
    let mut t = f.add_variable::<i32>("time", &["time"]).unwrap();
    t.put_attribute("units", "days since 1970-01-01 00:00:00Z")
        .unwrap();
    t.put_attribute("calendar", "julian").unwrap();
    t.put_values(&[day], (&[0], &[1])).unwrap();
    let rain: Vec<f32> = (0..NLON * NLAT)
        .map(|_| match rng.gen_range(0..10) {
            0 => -9999.9,
            1..=4 => 0.0,
            _ => rng.gen_range(0.0f32..80.0),
        })
        .collect();
    let mut v = f
        .add_variable::<f32>("rain", &["time", "lon", "lat"])
        .unwrap();
    v.set_fill_value(-9999.9f32).unwrap();
    v.put_attribute("units", "mm").unwrap();
    v.put_values(&rain, (&[0, 0, 0], &[1, NLON, NLAT])).unwrap();
    f.close().unwrap();
}

/// `days` daily files from 2018-02-01 (Julian), opened as one lazy array.
fn rain(dir: &Scratch, days: usize) -> DataArray {
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(14);
    let first = crate::Calendar::Julian.days_from_epoch(2018, 2, 1) as i32;
    for d in 0..days {
        write_day(
            &dir.0.join(format!("day-{d:03}.nc4")),
            first + d as i32,
            &mut rng,
        );
    }
    open_mfdataset(&dir.0.join("day-*.nc4").to_string_lossy())
        .unwrap()
        .get("rain")
        .into_result()
        .unwrap()
}

/// The three computations the MPI work is measured on.
fn computations(rain: &DataArray) -> Vec<(&'static str, DataArray)> {
    let box_ = rain
        .sel([("lon", -68.0..=-64.0), ("lat", -19.0..=-16.0)])
        .into_result()
        .unwrap();
    vec![
        (
            "weekly std",
            rain.resample("time", "1W")
                .mean()
                .std("time")
                .into_result()
                .unwrap(),
        ),
        ("time mean", rain.mean("time").into_result().unwrap()),
        (
            "box mean over time",
            box_.mean("time").into_result().unwrap(),
        ),
        (
            "box mean",
            box_.mean(["time", "lon", "lat"]).into_result().unwrap(),
        ),
    ]
}

fn bits(da: &DataArray) -> Vec<u64> {
    da.values()
        .expect("in memory")
        .to_f64_vec()
        .iter()
        .map(|v| v.to_bits())
        .collect()
}

/// Cuts `0..n` into `k` consecutive ranges (some empty when `k > n`).
fn split(n: usize, k: usize) -> Vec<std::ops::Range<usize>> {
    (0..k).map(|i| i * n / k..(i + 1) * n / k).collect()
}

/// `run(k, client)` for each count of parts `k`, on 1 and on 3 threads, gives the
/// labels and bits of `loaded`.
fn each_split_gives(
    what: &str,
    loaded: &DataArray,
    counts: impl IntoIterator<Item = usize>,
    run: impl Fn(usize, &Client) -> DataArray,
) {
    for k in counts {
        for threads in [1, 3] {
            let got = run(k, &Client::new().threads_per_worker(threads));
            assert_eq!(bits(&got), bits(loaded), "{what} in {k} parts");
            assert_eq!(got.dims(), loaded.dims(), "{what}");
            assert_eq!(got.coords().len(), loaded.coords().len(), "{what}");
        }
    }
}

#[test]
fn pieces_split_any_way_merge_to_the_bits_of_load() {
    let dir = Scratch::new();
    let rain = rain(&dir, 130);
    for (what, x) in computations(&rain) {
        let loaded = x.load().unwrap();
        let plan = x.plan();
        plan.shippable().unwrap();
        let n = plan.pieces();
        assert!(n >= 3, "{what}: {n} pieces, too few to split");
        each_split_gives(what, &loaded, 1..=4, |k, client| {
            let parts: Vec<Vec<u8>> = split(n, k)
                .into_iter()
                .map(|r| client.run_pieces(&plan, r).unwrap())
                .collect();
            plan.finish(&parts).unwrap()
        });
        // Parts out of order, missing or repeated are refused.
        let halves: Vec<Vec<u8>> = split(n, 2)
            .into_iter()
            .map(|r| plan.run_pieces(r).unwrap())
            .collect();
        for wrong in [
            vec![halves[1].clone(), halves[0].clone()],
            vec![halves[0].clone()],
            vec![halves[0].clone(), halves[0].clone()],
        ] {
            assert!(plan.finish(&wrong).is_err(), "{what}");
        }
        assert!(plan.run_pieces(0..n + 1).is_err(), "{what}");
    }
}

/// Shares run as ranks run them: each merges its partials onto the running total
/// handed on by the share before it, and only the last total is finished.
fn run_chained(plan: &Plan, k: usize, client: &Client) -> Vec<u8> {
    let mut before: Option<Vec<u8>> = None;
    for r in split(plan.pieces(), k) {
        let share = client.run(|| plan.run_share(r)).unwrap();
        before = Some(share.onto(before.as_deref()).unwrap());
    }
    before.expect("at least one share")
}

#[test]
fn running_totals_handed_along_shares_give_the_bits_of_load() {
    let dir = Scratch::new();
    let rain = rain(&dir, 130);
    for (what, x) in computations(&rain) {
        let loaded = x.load().unwrap();
        let plan = x.plan();
        assert!(plan.merges(), "{what} is a reduction");
        let n = plan.pieces();
        each_split_gives(what, &loaded, [1, 2, 3, 4, n + 2], |k, client| {
            plan.finish(&[run_chained(&plan, k, client)]).unwrap()
        });
        // One message for all the pieces, whatever their number.
        let one = run_chained(&plan, 1, &Client::new());
        let four = run_chained(&plan, 4, &Client::new());
        assert_eq!(one.len(), four.len(), "{what}");
        // A total may be followed by the single pieces after it.
        let head = plan.run_share(0..1).unwrap().onto(None).unwrap();
        let tail = plan.run_pieces(1..n).unwrap();
        assert_eq!(
            bits(&plan.finish(&[head.clone(), tail.clone()]).unwrap()),
            bits(&loaded)
        );
        // A total that does not end where the next share starts, or that comes
        // after pieces, or that misses pieces, is refused.
        assert!(
            plan.run_share(2..n).unwrap().onto(Some(&head)).is_err(),
            "{what}"
        );
        assert!(plan.run_share(1..n).unwrap().onto(None).is_err(), "{what}");
        assert!(plan
            .finish(&[plan.run_pieces(0..1).unwrap(), head.clone()])
            .is_err());
        assert!(plan.finish(&[head]).is_err(), "{what}: pieces 1.. missing");
    }
    // The chunks of a load are not merged: each share's arrays go as they are.
    let plan = rain.plan();
    assert!(!plan.merges());
    let parts: Vec<Vec<u8>> = split(plan.pieces(), 3)
        .into_iter()
        .map(|r| plan.run_share(r).unwrap().onto(None).unwrap())
        .collect();
    assert_eq!(
        bits(&plan.finish(&parts).unwrap()),
        bits(&rain.load().unwrap())
    );
    let share = plan.run_share(1..2).unwrap();
    assert!(share.onto(Some(&parts[0])).is_err());
}

#[test]
fn a_json_round_trip_gives_the_same_plan_and_result() {
    let dir = Scratch::new();
    let rain = rain(&dir, 20);
    let scaled = ((&rain * 2.0).into_result().unwrap() - 1.0)
        .into_result()
        .unwrap();
    let anomaly = (&rain - &rain.mean("time").into_result().unwrap())
        .into_result()
        .unwrap();
    let mut all = computations(&rain);
    all.push((
        "arithmetic",
        scaled
            .transpose_to(["lat", "time", "lon"])
            .into_result()
            .unwrap(),
    ));
    all.push(("anomaly", anomaly));
    all.push(("isel", rain.isel(("time", 3)).into_result().unwrap()));
    all.push(("rechunked", rain.chunk("time", 6).into_result().unwrap()));
    all.push((
        "stacked",
        rain.stack("z", ["lon", "lat"])
            .mean("time")
            .into_result()
            .unwrap(),
    ));
    for (what, x) in all {
        let plan = x.plan();
        let text = plan.to_json().unwrap();
        assert!(
            text.starts_with("{") && text.contains("\"geoxr-plan\":1"),
            "{what}"
        );
        let again = Plan::from_json(&text).unwrap();
        assert_eq!(again.graph, plan.graph, "{what}");
        assert_eq!(again.to_json().unwrap(), text, "{what}");
        assert_eq!(again.to_string(), plan.to_string(), "{what}");
        let parts = [again.run_pieces(0..again.pieces()).unwrap()];
        let got = again.finish(&parts).unwrap();
        assert_eq!(bits(&got), bits(&x.load().unwrap()), "{what}");
        assert_eq!(bits(&again.array().load().unwrap()), bits(&got), "{what}");
    }
}

#[test]
fn a_plan_shows_its_steps_and_files_as_a_range() {
    let dir = Scratch::new();
    let rain = rain(&dir, 20);
    let text = rain.mean("time").plan().to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains("rain (lon: 9, lat: 7) float32"), "{text}");
    assert!(lines[1].contains("mean over axis 0"), "{text}");
    assert!(lines[2].contains("(20, 9, 7) float32, 20 chunks"), "{text}");
    assert!(
        lines[3].contains("day-000.nc4 … day-019.nc4 (20 files)") && lines[3].contains("× 20"),
        "{text}"
    );
    assert_eq!(lines.len(), 4, "{text}");
}

#[test]
fn a_changed_file_is_refused_by_a_plan_read_back() {
    let dir = Scratch::new();
    let rain = rain(&dir, 3);
    let text = rain.plan().to_json().unwrap();
    let plan = Plan::from_json(&text).unwrap();
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(1);
    // Rewritten with other values (and so another size or time).
    std::thread::sleep(std::time::Duration::from_millis(20));
    write_day(&dir.0.join("day-001.nc4"), 0, &mut rng);
    let err = plan.array().load().unwrap_err().to_string();
    assert!(
        err.contains("day-001.nc4") && err.contains("changed since the plan was made"),
        "{err}"
    );
}

#[test]
fn in_memory_and_outside_sources_are_named_when_they_cannot_ship() {
    use crate::{ArrayData, Variable};
    let big = Variable::new(
        ["x"],
        ArrayData::from(ndarray::ArrayD::<f64>::zeros(vec![9 << 20])),
    )
    .unwrap();
    let big = DataArray::new(Some("big"), big, vec![]).unwrap();
    let err = big.plan().to_json().unwrap_err().to_string();
    assert!(
        err.contains("75.5 MB") && err.contains("in memory"),
        "{err}"
    );
    let small = big.isel(("x", 0..10)).into_result().unwrap();
    let plan = Plan::from_json(&small.plan().to_json().unwrap()).unwrap();
    assert_eq!(
        plan.finish(&[plan.run_pieces(0..1).unwrap()])
            .unwrap()
            .shape(),
        [10]
    );
}

/// Random bytes and random edits of a real plan's JSON and results give errors (or,
/// for edits that keep the plan valid, a plan), never a panic.
#[test]
fn damaged_json_and_results_give_errors_not_panics() {
    let dir = Scratch::new();
    let rain = rain(&dir, 10);
    let x = rain
        .resample("time", "1W")
        .mean()
        .std("time")
        .into_result()
        .unwrap();
    let plan = x.plan();
    let text = plan.to_json().unwrap();
    let parts = plan.run_pieces(0..plan.pieces()).unwrap();
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
    let tokens = [
        "0",
        "1",
        "-1",
        "99999999999999999999",
        "null",
        "[]",
        "{}",
        "\"\"",
        "\"NaN\"",
        "1e300",
        "true",
        "\"time:julian\"",
        "[0,0]",
        "18446744073709551615",
    ];
    let mut valid = 0;
    for round in 0..600 {
        let damaged = if round % 6 == 0 {
            (0..rng.gen_range(0..200))
                .map(|_| rng.gen_range(0u8..128) as char)
                .collect::<String>()
        } else {
            // Replace a random number or token-sized stretch with another token.
            let mut t = text.clone();
            for _ in 0..rng.gen_range(1..4) {
                let at = rng.gen_range(0..t.len());
                let end = (at + rng.gen_range(0..6)).min(t.len());
                if t.is_char_boundary(at) && t.is_char_boundary(end) {
                    t.replace_range(at..end, tokens[rng.gen_range(0..tokens.len())]);
                }
            }
            t
        };
        if let Ok(p) = Plan::from_json(&damaged) {
            valid += 1;
            // A plan that still reads may describe other work; running it must
            // not panic either (it may fail naming what is wrong).
            let n = p.pieces();
            if n < 64 {
                let _ = p.run_pieces(0..n).and_then(|r| p.finish(&[r]));
            }
        }
    }
    assert!(valid < 600, "every damaged plan was accepted");
    for round in 0..300 {
        let mut bad = parts.clone();
        match round % 3 {
            0 => bad.truncate(rng.gen_range(0..bad.len())),
            1 => {
                let i = rng.gen_range(0..bad.len());
                bad[i] ^= 1 << rng.gen_range(0..8);
            }
            _ => bad = (0..rng.gen_range(0..64)).map(|_| rng.gen()).collect(),
        }
        assert!(plan.finish(&[bad]).is_err(), "round {round}");
    }
}

/// Days written by netCDF4-python (not by geoxr): packed int16 with scale and offset,
/// deflate and shuffle, chunks smaller than a day, a cell missing everywhere. The
/// script is shared with the MPI tests (`mpi/tests/ranks.rs`).
pub(crate) const NETCDF4_DAYS: &str = include_str!("netcdf4_days.py");

/// Writes the netCDF4-python days into `dir` with the project's Python.
fn netcdf4_days(dir: &Path) -> DataArray {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = xtask::fuzz::python(&root).unwrap_or_else(|e| panic!("{e}"));
    let out = std::process::Command::new(&python)
        .arg("-c")
        .arg(NETCDF4_DAYS)
        .arg(dir)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    open_mfdataset(&dir.join("days-*.nc").to_string_lossy())
        .unwrap()
        .get("rain")
        .into_result()
        .unwrap()
}

#[test]
fn plans_over_netcdf4_python_files_ship_and_merge_to_the_bits_of_load() {
    let dir = Scratch::new();
    let rain = netcdf4_days(&dir.0);
    assert_eq!(rain.sizes().unwrap().get("time"), Some(12));
    let cases = [
        ("weekly std", rain.resample("time", "1W").mean().std("time")),
        ("time mean", rain.mean("time")),
        ("scaled", (&rain * 0.5).into_result().unwrap()),
    ];
    for (what, x) in cases {
        let x = x.into_result().unwrap();
        let loaded = x.load().unwrap();
        let again = Plan::from_json(&x.plan().to_json().unwrap()).unwrap();
        let n = again.pieces();
        each_split_gives(what, &loaded, [1, 2, 5], |k, client| {
            let parts: Vec<Vec<u8>> = if again.merges() {
                vec![run_chained(&again, k, client)]
            } else {
                split(n, k)
                    .into_iter()
                    .map(|r| client.run(|| again.run_share(r)?.onto(None)).unwrap())
                    .collect()
            };
            again.finish(&parts).unwrap()
        });
    }
    // The cell missing in every file stays missing; the others are numbers.
    let mean = rain.mean("time").load().unwrap();
    let values = mean.values().unwrap().to_f64_vec();
    assert!(values[0].is_nan(), "{}", values[0]);
    assert!(values[1..].iter().all(|v| v.is_finite()));
}

#[test]
fn open_files_are_kept_between_plans_and_a_replaced_file_is_still_refused() {
    let dir = Scratch::new();
    let rain = netcdf4_days(&dir.0);
    let text = rain.mean("time").plan().to_json().unwrap();
    let files = super::OpenFiles::default();
    let first = Plan::from_json_keeping(&text, &files).unwrap();
    let want = first
        .finish(&[first.run_pieces(0..first.pieces()).unwrap()])
        .unwrap();
    assert_eq!(files.len(), 4, "one kept source per file");
    let second = Plan::from_json_keeping(&text, &files).unwrap();
    let got = second
        .finish(&[second.run_pieces(0..second.pieces()).unwrap()])
        .unwrap();
    assert_eq!(bits(&got), bits(&want));
    assert_eq!(files.len(), 4, "the second plan opened no file again");
    // The third file rewritten (same bytes, later modification time): the plan's
    // record no longer matches, and the kept source is not used.
    let third = dir.0.join("days-2.nc");
    let bytes = std::fs::read(&third).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&third, bytes).unwrap();
    let stale = Plan::from_json_keeping(&text, &files).unwrap();
    let err = stale.run_pieces(0..stale.pieces()).unwrap_err().to_string();
    assert!(err.contains("days-2.nc"), "{err}");
    assert!(err.contains("changed"), "{err}");
}
