//! `resample`: grouping a time dimension into calendar bins with pandas' anchored
//! rules, then reducing each bin.
//!
//! | rule | bins | closed | label |
//! | --- | --- | --- | --- |
//! | `D`, `nD` | n days from the first day's midnight | left | left |
//! | `W` (= `W-SUN`), `W-MON` … | weeks ending on the anchor day | right | right |
//! | `MS` | calendar months | left | left (the 1st) |
//! | `ME` (`M`) | calendar months | right | right (the last day) |
//! | `QS` (= `QS-JAN`), `QS-DEC` … | quarters starting in the anchor month | left | left |
//! | `YS` (`AS`) | calendar years | left | left (Jan 1) |
//! | `YE` (`Y`, `A`) | calendar years | right | right (Dec 31) |
//!
//! Dates are taken by their own year-month-day, whatever the calendar, so a Julian
//! 2018-02-04 is a Sunday as its label says. Empty bins inside the range are kept and
//! reduce to NaN, as in pandas.

use std::ops::Range;
use std::sync::Arc;

use crate::analysis::Pos;
use crate::base::budget::Budget;
use crate::compute::ops::ChunkOp;
use crate::compute::reduce::{reduce_chunked, Reduction};
use crate::compute::sources::free_axis;
use crate::compute::Client;
use crate::error::{Error, Result};
use crate::model::{ArrayData, Calendar, CfDateTime, ChunkedArray, DataArray, Variable, NAT};

const DAY: i64 = 86_400;
/// The largest multiple a rule takes (`1000000000D`), far beyond any time span.
const MAX_MULTIPLE: i64 = 1_000_000_000;

/// A parsed resampling rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Bins of a fixed length in seconds (`D`, `h`, `min`, `s` and their multiples),
    /// counted from midnight of the first time's day (pandas' `origin="start_day"`).
    Fixed(i64),
    Week {
        anchor: u32,
    },
    MonthStart,
    MonthEnd,
    QuarterStart {
        month: u32,
    },
    YearStart,
    YearEnd,
}

const WEEKDAYS: [&str; 7] = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];
const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];

fn parse_rule(text: &str) -> Result<Rule> {
    let bad = |why: &str| Error::invalid(format!("resample rule `{text}`"), why.to_owned());
    let upper = text.trim().to_ascii_uppercase();
    let digits = upper
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(upper.len());
    let (count, rest) = upper.split_at(digits);
    let n: i64 = if count.is_empty() {
        1
    } else {
        count
            .parse()
            .map_err(|_| bad("the multiple is not a number below 10^9"))?
    };
    if n < 1 {
        return Err(bad("the multiple must be at least 1"));
    }
    if n > MAX_MULTIPLE {
        return Err(bad("the multiple is too large (at most 10^9)"));
    }
    let (unit, anchor) = match rest.split_once('-') {
        Some((u, a)) => (u, Some(a)),
        None => (rest, None),
    };
    let only_one = |rule: Rule| {
        if n == 1 {
            Ok(rule)
        } else {
            Err(bad("multiples are supported for D, h, min and s only"))
        }
    };
    let lower = text.trim().trim_start_matches(|c: char| c.is_ascii_digit());
    if ["ms", "us", "ns", "L", "U", "N"].contains(&lower) {
        return Err(bad(
            "times hold whole seconds, so rules below a second are not supported",
        ));
    }
    match (unit, anchor) {
        ("D", None) => Ok(Rule::Fixed(n * DAY)),
        ("H", None) => Ok(Rule::Fixed(n * 3_600)),
        ("MIN" | "T", None) => Ok(Rule::Fixed(n * 60)),
        ("S", None) => Ok(Rule::Fixed(n)),
        ("W", a) => {
            let day = a.unwrap_or("SUN");
            let anchor = WEEKDAYS
                .iter()
                .position(|w| *w == day)
                .ok_or_else(|| bad("unknown weekday anchor"))?;
            only_one(Rule::Week {
                anchor: anchor as u32,
            })
        }
        ("MS", None) => only_one(Rule::MonthStart),
        ("ME" | "M", None) => only_one(Rule::MonthEnd),
        ("QS", a) => {
            let month = a.unwrap_or("JAN");
            let m = MONTHS
                .iter()
                .position(|x| *x == month)
                .ok_or_else(|| bad("unknown month anchor"))?;
            only_one(Rule::QuarterStart {
                month: m as u32 + 1,
            })
        }
        ("YS" | "AS", None) => only_one(Rule::YearStart),
        ("YE" | "Y" | "A", None) => only_one(Rule::YearEnd),
        _ => Err(bad(
            "supported rules: nD, nh, nmin, ns, W, W-MON..W-SUN, MS, ME, QS, QS-JAN..QS-DEC, \
             YS, YE",
        )),
    }
}

/// Day of the week (0 = Monday) of day numbers of one series. The first day gets the
/// weekday of its own year-month-day in the proleptic Gregorian calendar (so a Julian
/// 2018-02-04 is a Sunday, as its label says); every later day follows on by day count,
/// so every week has seven days in every calendar, 360_day and all_leap included.
#[derive(Debug, Clone, Copy)]
struct Weekdays {
    shift: i64,
}

impl Weekdays {
    fn new(calendar: Calendar, first_day: i64) -> Weekdays {
        let (y, m, d) = calendar.ymd_from_days(first_day);
        let proleptic = Calendar::ProlepticGregorian.days_from_epoch(y, m, d);
        Weekdays {
            shift: (proleptic + 3).rem_euclid(7) - first_day.rem_euclid(7),
        }
    }

    fn of(self, day: i64) -> i64 {
        (day + self.shift).rem_euclid(7)
    }
}

impl Rule {
    /// The label (seconds) of the bin holding time `t`.
    fn label(self, cal: Calendar, t: i64, origin_day: i64, weekdays: Weekdays) -> i64 {
        let day = t.div_euclid(DAY);
        let at_midnight = t.rem_euclid(DAY) == 0;
        let (y, m, d) = cal.ymd_from_days(day);
        let month = cal.month_number(y, m);
        let start_of = |number: i64| {
            let (y, m) = cal.year_month_of(number);
            cal.days_from_epoch(y, m, 1)
        };
        let end_of = |number: i64| {
            let (y, m) = cal.year_month_of(number);
            cal.days_from_epoch(y, m, cal.days_in_month(y, m))
        };
        let label_day = match self {
            Rule::Fixed(step) => {
                let origin = origin_day.saturating_mul(DAY);
                return origin.saturating_add(t.saturating_sub(origin).div_euclid(step) * step);
            }
            Rule::Week { anchor } => {
                let ahead = (i64::from(anchor) - weekdays.of(day)).rem_euclid(7);
                day + if ahead == 0 && !at_midnight { 7 } else { ahead }
            }
            Rule::MonthStart => start_of(month),
            Rule::MonthEnd => {
                let last = d == cal.days_in_month(y, m) && !at_midnight;
                end_of(month + i64::from(last))
            }
            Rule::QuarterStart { month: anchor } => {
                let since = (month - (i64::from(anchor) - 1)).rem_euclid(3);
                start_of(month - since)
            }
            Rule::YearStart => start_of(month - i64::from(m) + 1),
            Rule::YearEnd => {
                let december = month - i64::from(m) + 12;
                let last = m == 12 && d == cal.days_in_month(y, 12) && !at_midnight;
                end_of(december + 12 * i64::from(last))
            }
        };
        label_day.saturating_mul(DAY)
    }

    /// The label after `label`.
    fn next(self, cal: Calendar, label: i64) -> i64 {
        let day = label.div_euclid(DAY);
        let (y, m, _) = cal.ymd_from_days(day);
        let month_step = |months: i64, end: bool| {
            let (ny, nm) = cal.year_month_of(cal.month_number(y, m) + months);
            let d = if end { cal.days_in_month(ny, nm) } else { 1 };
            cal.days_from_epoch(ny, nm, d).saturating_mul(DAY)
        };
        match self {
            Rule::Fixed(step) => label.saturating_add(step),
            Rule::Week { .. } => label.saturating_add(7 * DAY),
            Rule::MonthStart => month_step(1, false),
            Rule::MonthEnd => month_step(1, true),
            Rule::QuarterStart { .. } => month_step(3, false),
            Rule::YearStart => month_step(12, false),
            Rule::YearEnd => month_step(12, true),
        }
    }

    /// How many bins the labels `first ..= last` span, empty ones included.
    fn count(self, cal: Calendar, first: i64, last: i64) -> u64 {
        let months = |t: i64| {
            let (y, m, _) = cal.ymd_from_days(t.div_euclid(DAY));
            cal.month_number(y, m)
        };
        let span = |step: i64| (i128::from(last) - i128::from(first)) / i128::from(step.max(1));
        let steps = match self {
            Rule::Fixed(step) => span(step),
            Rule::Week { .. } => span(7 * DAY),
            Rule::MonthStart | Rule::MonthEnd => i128::from(months(last) - months(first)),
            Rule::QuarterStart { .. } => i128::from(months(last) - months(first)) / 3,
            Rule::YearStart | Rule::YearEnd => i128::from(months(last) - months(first)) / 12,
        };
        u64::try_from(steps.max(0) + 1).unwrap_or(u64::MAX)
    }
}

/// Bytes one bin costs: its label and range, and one reduced element per position of
/// the other dimensions (8 bytes at most each).
fn bytes_per_bin(shape: &[usize], axis: usize) -> u64 {
    let others: u64 = shape
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != axis)
        .map(|(_, n)| *n as u64)
        .fold(1, u64::saturating_mul);
    others.saturating_mul(8).saturating_add(32)
}

/// Bins of sorted times: each time in the bin of its label, empty bins between.
fn make_bins(
    rule: Rule,
    calendar: Calendar,
    times: &[i64],
    max_bins: u64,
) -> Vec<(i64, Range<usize>)> {
    let (Some(first), Some(_)) = (times.first(), times.last()) else {
        return Vec::new();
    };
    let origin_day = first.div_euclid(DAY);
    let weekdays = Weekdays::new(calendar, origin_day);
    let labels: Vec<i64> = times
        .iter()
        .map(|t| rule.label(calendar, *t, origin_day, weekdays))
        .collect();
    let mut bins: Vec<(i64, Range<usize>)> = Vec::new();
    let mut at = 0;
    while at < labels.len() {
        let label = labels[at];
        let start = at;
        while at < labels.len() && labels[at] == label {
            at += 1;
        }
        bins.push((label, start..at));
        if let Some(&wanted) = labels.get(at) {
            let mut next = rule.next(calendar, label);
            while next > label && next < wanted && (bins.len() as u64) < max_bins {
                bins.push((next, at..at));
                next = rule.next(calendar, next);
            }
        }
    }
    bins
}

/// An array grouped into time bins, waiting for a reduction (`mean`, `std`, ...).
#[derive(Debug, Clone)]
pub struct Resample {
    /// The grouped array; a failed array when it or the grouping failed.
    array: DataArray,
    dim: String,
    rule: String,
    calendar: Calendar,
    bins: Vec<(i64, Range<usize>)>,
}

impl DataArray {
    /// Groups dimension `dim` (a time coordinate) into bins by a pandas rule such as
    /// `"1W"`, `"D"`, `"3h"`, `"MS"`, `"QS-DEC"`; reduce the bins with `.mean()` and friends.
    ///
    /// ```no_run
    /// # let ds = geoxr::open_mfdataset("data/IMERG/*.nc4")?;
    /// let weekly = ds.get("HQprecipitation").resample("time", "1W").mean();
    /// assert_eq!(weekly.sizes()?.get("time"), Some(44));
    /// # Ok::<(), geoxr::Error>(())
    /// ```
    ///
    /// A bad rule, a missing dimension or unsorted times make the reductions give a
    /// failed array with that error (see [`DataArray`]).
    pub fn resample(&self, dim: &str, rule: &str) -> Resample {
        let failed = |array| Resample {
            array,
            dim: dim.to_owned(),
            rule: rule.to_owned(),
            calendar: Calendar::Standard,
            bins: Vec::new(),
        };
        if self.error().is_some() {
            return failed(self.clone());
        }
        self.try_resample(dim, rule)
            .unwrap_or_else(|e| failed(DataArray::failed(format!("resample({dim}, {rule})"), e)))
    }

    fn try_resample(&self, dim: &str, rule: &str) -> Result<Resample> {
        self.variable().axis_of(dim)?;
        let text = rule;
        let rule = parse_rule(text)?;
        let coord = self.coord(dim).map_err(|_| {
            Error::invalid(
                format!("resample along `{dim}`"),
                "the dimension has no coordinate",
            )
        })?;
        let values = coord
            .values()
            .ok_or_else(|| Error::invalid(format!("coordinate `{dim}`"), "not in memory"))?;
        let ArrayData::Time(times, calendar) = values else {
            return Err(Error::invalid(
                format!("resample along `{dim}`"),
                format!(
                    "needs a time coordinate; `{dim}` holds {} values",
                    values.dtype()
                ),
            ));
        };
        let calendar = *calendar;
        let all: Vec<i64> = times.iter().copied().collect();
        if all.contains(&NAT) {
            // Missing times belong to no bin, as in pandas: drop their positions.
            let kept: Vec<usize> = (0..all.len()).filter(|i| all[*i] != NAT).collect();
            return self
                .isel((dim, Pos::List(kept)))
                .into_result()?
                .try_resample(dim, text);
        }
        let times = all;
        if let Some(i) = times.windows(2).position(|w| w[1] < w[0]) {
            return Err(Error::invalid(
                format!("resample along `{dim}`"),
                format!(
                    "the times are not sorted: {} comes after {}; sort them first",
                    CfDateTime::from_seconds(calendar, times[i + 1]),
                    CfDateTime::from_seconds(calendar, times[i])
                ),
            ));
        }
        let max_bins = match (times.first(), times.last()) {
            (Some(&first), Some(&last)) => {
                let origin_day = first.div_euclid(DAY);
                let weekdays = Weekdays::new(calendar, origin_day);
                let label = |t| rule.label(calendar, t, origin_day, weekdays);
                let count = rule.count(calendar, label(first), label(last));
                self.check_bin_memory(dim, text, count, first, last, calendar)?;
                count
            }
            _ => 0,
        };
        Ok(Resample {
            array: self.clone(),
            dim: dim.to_owned(),
            rule: text.to_owned(),
            calendar,
            bins: make_bins(rule, calendar, &times, max_bins),
        })
    }

    /// Fails when `count` bins would not fit in the memory limit of the running
    /// client, or else in the memory available.
    fn check_bin_memory(
        &self,
        dim: &str,
        rule: &str,
        count: u64,
        first: i64,
        last: i64,
        calendar: Calendar,
    ) -> Result<()> {
        let axis = self.variable().axis_of(dim)?;
        let need = count.saturating_mul(bytes_per_bin(self.variable().shape(), axis));
        let (limit, what) = match crate::base::budget::budget() {
            Some(Budget::Limit { room, .. }) => (room, "the memory limit"),
            Some(Budget::Available(available)) => (available, "the memory available"),
            None => return Ok(()),
        };
        if need <= limit {
            return Ok(());
        }
        Err(Error::invalid(
            format!("resample along `{dim}` by `{rule}`"),
            format!(
                "{} .. {} makes {count} bins, about {} MB, more than {what} ({} MB); \
                 the times may hold a fill value (such as netCDF's default, \
                 -2147483647) decoded as a date: look at the first and last times, \
                 or open the file with decode_times(false)",
                CfDateTime::from_seconds(calendar, first),
                CfDateTime::from_seconds(calendar, last),
                need / 1_000_000,
                limit / 1_000_000
            ),
        ))
    }
}

impl Resample {
    /// The bins: label and number of positions in each (or the error of a failed
    /// grouping).
    pub fn bins(&self) -> Result<Vec<(CfDateTime, usize)>> {
        self.array.check()?;
        Ok(self
            .bins
            .iter()
            .map(|(l, r)| (CfDateTime::from_seconds(self.calendar, *l), r.len()))
            .collect())
    }

    /// The grouped array (a failed array when the grouping failed).
    pub fn array(&self) -> &DataArray {
        &self.array
    }

    /// Reduces every bin with any [`Reduction`].
    pub fn reduce(&self, op: Reduction) -> DataArray {
        let step = || format!("resample({}, {}).{}()", self.dim, self.rule, op.name());
        self.array.step(step, |_| self.try_reduce(op))
    }

    fn try_reduce(&self, op: Reduction) -> Result<DataArray> {
        let var = self.array.variable();
        let axis = var.axis_of(&self.dim)?;
        op.output_dtype(var.dtype())?;
        let mut shape = var.shape().to_vec();
        shape[axis] = self.bins.len();
        let bins = ChunkOp::Bins {
            axis,
            bins: Arc::new(self.bins.iter().map(|(_, r)| r.clone()).collect()),
            op,
        };
        // Values in memory are reduced at once, on all cores.
        let split = free_axis(var.dims().len(), &[axis]);
        let data = Client::new().run(|| {
            var.data().through_chunks(split, |lazy| {
                if lazy.axis() == axis {
                    self.reduce_lazy_bins(lazy, axis, op, &shape)
                } else {
                    lazy.map_chunks(shape.clone(), lazy.axis(), 1, bins)
                }
            })
        })?;
        let variable = Variable::new(var.dims().to_vec(), data)?;
        let labels: Vec<i64> = self.bins.iter().map(|(l, _)| *l).collect();
        let time = ArrayData::Time(ndarray::Array1::from(labels).into_dyn(), self.calendar);
        let time_coord = self.array.coord(&self.dim)?.with_data_unchecked(time);
        let coords = self
            .array
            .coords()
            .iter()
            .filter_map(|(n, c)| {
                if *n == self.dim {
                    Some((n.clone(), time_coord.clone()))
                } else if c.dims().contains(&self.dim) {
                    None
                } else {
                    Some((n.clone(), c.clone()))
                }
            })
            .collect();
        self.array.with_parts(variable, coords)
    }

    /// Each bin: a lazy reduction over its chunks, with the time axis put back.
    fn reduce_lazy_bins(
        &self,
        lazy: &ChunkedArray,
        axis: usize,
        op: Reduction,
        shape: &[usize],
    ) -> Result<ChunkedArray> {
        let mut bin_shape = shape.to_vec();
        bin_shape[axis] = 1;
        let parts = self
            .bins
            .iter()
            .map(|(_, range)| {
                let reduced = reduce_chunked(&lazy.slice_chunked_axis(range.clone())?, axis, op)?;
                let add_axis = ChunkOp::Reshape {
                    shape: bin_shape.clone(),
                };
                let mut one = reduced.map_whole(bin_shape.clone(), add_axis)?;
                if axis != 0 {
                    // map_whole chunks along axis 0; as a single chunk it covers `axis` too.
                    one = ChunkedArray::concat(&[one], axis)?;
                }
                Ok(one)
            })
            .collect::<Result<Vec<_>>>()?;
        if parts.is_empty() {
            return lazy.slice_chunked_axis(0..0);
        }
        ChunkedArray::concat(&parts, axis)
    }

    /// Mean of each bin.
    pub fn mean(&self) -> DataArray {
        self.reduce(Reduction::Mean)
    }
    /// Sum of each bin.
    pub fn sum(&self) -> DataArray {
        self.reduce(Reduction::Sum)
    }
    /// Smallest value of each bin.
    pub fn min(&self) -> DataArray {
        self.reduce(Reduction::Min)
    }
    /// Largest value of each bin.
    pub fn max(&self) -> DataArray {
        self.reduce(Reduction::Max)
    }
    /// Population standard deviation of each bin.
    pub fn std(&self) -> DataArray {
        self.reduce(Reduction::Std { ddof: 0 })
    }
    /// Population variance of each bin.
    pub fn var(&self) -> DataArray {
        self.reduce(Reduction::Var { ddof: 0 })
    }
    /// Number of non-NaN values in each bin.
    pub fn count(&self) -> DataArray {
        self.reduce(Reduction::Count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{ArrayD, IxDyn};

    fn labels(rule: &str, cal: Calendar, days: Range<(i64, u32, u32)>) -> Vec<(String, usize)> {
        let (a, b) = (days.start, days.end);
        let first = cal.days_from_epoch(a.0, a.1, a.2);
        let last = cal.days_from_epoch(b.0, b.1, b.2);
        let times: Vec<i64> = (first..=last).map(|d| d * DAY).collect();
        let n = times.len();
        let time = Variable::new(
            ["time"],
            ArrayData::Time(ArrayD::from_shape_vec(IxDyn(&[n]), times).unwrap(), cal),
        )
        .unwrap();
        let data = Variable::new(["time"], ArrayData::F32(ArrayD::zeros(IxDyn(&[n])))).unwrap();
        let da = DataArray::new(Some("x"), data, vec![("time".into(), time)]).unwrap();
        da.resample("time", rule)
            .bins()
            .unwrap()
            .iter()
            .map(|(t, k)| (t.date_string(), *k))
            .collect()
    }

    #[test]
    fn weekly_bins_of_the_tutorial_year() {
        // pandas: pd.date_range("2018-02-01", "2018-11-30").to_series().resample("W").size()
        // gives 44 bins, 2018-02-04 (4 days) ... 2018-12-02 (5 days), 7 days otherwise.
        let bins = labels("1W", Calendar::Julian, (2018, 2, 1)..(2018, 11, 30));
        assert_eq!(bins.len(), 44);
        assert_eq!(bins[0], ("2018-02-04".to_string(), 4));
        assert_eq!(bins[43], ("2018-12-02".to_string(), 5));
        assert!(bins[1..43].iter().all(|(_, n)| *n == 7));
    }

    #[test]
    fn month_and_day_rules_around_year_ends() {
        let ms = labels("MS", Calendar::Standard, (2017, 12, 30)..(2018, 3, 1));
        assert_eq!(
            ms,
            [
                ("2017-12-01".into(), 2),
                ("2018-01-01".into(), 31),
                ("2018-02-01".into(), 28),
                ("2018-03-01".into(), 1)
            ]
        );
        let me = labels("ME", Calendar::Standard, (2017, 12, 30)..(2018, 2, 1));
        assert_eq!(
            me,
            [
                ("2017-12-31".into(), 2),
                ("2018-01-31".into(), 31),
                ("2018-02-28".into(), 1)
            ]
        );
        let d = labels("2D", Calendar::Standard, (2017, 12, 31)..(2018, 1, 3));
        assert_eq!(d, [("2017-12-31".into(), 2), ("2018-01-02".into(), 2)]);
        let q = labels("QS-DEC", Calendar::Standard, (2018, 2, 27)..(2018, 3, 2));
        assert_eq!(q, [("2017-12-01".into(), 2), ("2018-03-01".into(), 2)]);
        let noleap = labels("MS", Calendar::NoLeap, (2020, 2, 27)..(2020, 3, 1));
        assert_eq!(noleap, [("2020-02-01".into(), 2), ("2020-03-01".into(), 1)]);
        let y = labels("YS", Calendar::Day360, (2018, 12, 29)..(2019, 1, 2));
        assert_eq!(y, [("2018-01-01".into(), 2), ("2019-01-01".into(), 2)]);
    }

    #[test]
    fn sub_daily_bins_count_from_midnight_of_the_first_day() {
        // pandas 3.1: s = pd.date_range("2018-01-01 22:30", periods=12, freq="30min")
        // .to_series(); s.resample(rule).size() for "3h", "90min", "45min".
        let first = Calendar::Standard.days_from_epoch(2018, 1, 1) * DAY + 22 * 3_600 + 1_800;
        let times: Vec<i64> = (0..12).map(|i| first + i * 1_800).collect();
        let da = series(Calendar::Standard, times);
        let bins = |rule: &str| -> Vec<(String, usize)> {
            da.resample("time", rule)
                .bins()
                .unwrap()
                .iter()
                .map(|(t, k)| (t.to_string(), *k))
                .collect()
        };
        let at = |hm: &str, k: usize| (hm.to_string(), k);
        assert_eq!(
            bins("3h"),
            [
                at("2018-01-01 21:00:00", 3),
                at("2018-01-02 00:00:00", 6),
                at("2018-01-02 03:00:00", 3)
            ]
        );
        assert_eq!(bins("90min").len(), 4);
        assert_eq!(bins("90min")[0], at("2018-01-01 22:30:00", 3));
        let counts: Vec<usize> = bins("45min").iter().map(|(_, k)| *k).collect();
        assert_eq!(counts, [2, 1, 2, 1, 2, 1, 2, 1]);
        assert_eq!(bins("45min")[1].0, "2018-01-01 23:15:00");
    }

    #[test]
    fn bad_rules_and_dims_are_named() {
        for rule in ["2X", "W-FUN", "3MS", "0D", "", "10ms"] {
            assert!(parse_rule(rule).is_err(), "{rule}");
        }
        let err = parse_rule("W-FUN").unwrap_err().to_string();
        assert!(err.contains("W-FUN"), "{err}");
    }

    fn series(cal: Calendar, times: Vec<i64>) -> DataArray {
        let n = times.len();
        let time = Variable::new(
            ["time"],
            ArrayData::Time(ArrayD::from_shape_vec(IxDyn(&[n]), times).unwrap(), cal),
        )
        .unwrap();
        let values: Vec<f32> = (0..n).map(|i| i as f32).collect();
        let data = Variable::new(
            ["time"],
            ArrayData::F32(ArrayD::from_shape_vec(IxDyn(&[n]), values).unwrap()),
        )
        .unwrap();
        DataArray::new(Some("x"), data, vec![("time".into(), time)]).unwrap()
    }

    const RULES: [&str; 14] = [
        "D", "3D", "W", "W-WED", "MS", "ME", "QS", "QS-MAR", "QS-NOV", "YS", "YE", "10D", "3h",
        "90min",
    ];

    /// Checks that bins partition the times in order, that each time lies inside its
    /// bin's bounds, and that labels have the rule's shape.
    fn check_bins(rule: &str, cal: Calendar, times: &[i64], bins: &[(i64, Range<usize>)]) {
        let parsed = parse_rule(rule).unwrap();
        let mut at = 0;
        for (i, (label, range)) in bins.iter().enumerate() {
            assert_eq!(range.start, at, "{rule} {cal}: bins must follow each other");
            at = range.end;
            let next = bins.get(i + 1).map_or(parsed.next(cal, *label), |b| b.0);
            assert!(next > *label, "{rule} {cal}: labels must increase");
            let right_closed = matches!(parsed, Rule::Week { .. } | Rule::MonthEnd | Rule::YearEnd);
            let prev = if i > 0 { Some(bins[i - 1].0) } else { None };
            for &t in &times[range.clone()] {
                let inside = if right_closed {
                    t <= *label && prev.is_none_or(|p| t > p)
                } else {
                    t >= *label && t < next
                };
                let shown = CfDateTime::from_seconds(cal, t);
                assert!(inside, "{rule} {cal}: {shown} in the bin labelled {label}");
            }
            let (_, _, d) = cal.ymd_from_days(label.div_euclid(DAY));
            let (y, m, _) = cal.ymd_from_days(label.div_euclid(DAY));
            match parsed {
                Rule::MonthStart | Rule::QuarterStart { .. } | Rule::YearStart => {
                    assert_eq!(d, 1, "{rule} {cal}")
                }
                Rule::MonthEnd | Rule::YearEnd => {
                    assert_eq!(d, cal.days_in_month(y, m), "{rule} {cal}")
                }
                Rule::Week { .. } => {
                    if let Some(p) = prev {
                        assert_eq!(*label - p, 7 * DAY, "{rule} {cal}")
                    }
                }
                Rule::Fixed(step) => {
                    assert_eq!((*label - bins[0].0).rem_euclid(step), 0, "{rule} {cal}")
                }
            }
        }
        assert_eq!(at, times.len(), "{rule} {cal}: every time in a bin");
    }

    /// Random sorted series (days to months apart, some at odd hours, from year -9000
    /// to 9000) in every calendar, under every rule.
    #[test]
    fn every_time_in_exactly_one_bin_in_every_calendar() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(4);
        for cal in Calendar::ALL {
            for _ in 0..12 {
                let year = rng.gen_range(-9000..9000);
                let mut t = cal.days_from_epoch(year, 1, 1) * DAY;
                let step_days = [1, 1, 2, 5, 31][rng.gen_range(0..5)];
                let times: Vec<i64> = (0..rng.gen_range(1..400))
                    .map(|_| {
                        t += rng.gen_range(0..step_days) * DAY;
                        t += [0, 0, 0, 3_600, 43_200][rng.gen_range(0..5)];
                        t
                    })
                    .collect();
                let da = series(cal, times.clone());
                for rule in RULES {
                    let r = da.resample("time", rule);
                    check_bins(rule, cal, &times, &r.bins);
                }
            }
        }
    }

    #[test]
    fn weekly_bins_keep_every_day_in_odd_calendars() {
        // The cases that lost days: 360_day, noleap across 2020-02-29, all_leap, and
        // julian across 2100-02-29 (not a Gregorian leap day).
        for (cal, first, last) in [
            (Calendar::Day360, (2018, 1, 1), (2018, 12, 30)),
            (Calendar::NoLeap, (2020, 1, 1), (2020, 12, 31)),
            (Calendar::AllLeap, (2021, 1, 1), (2021, 12, 31)),
            (Calendar::Julian, (2100, 1, 1), (2100, 12, 31)),
        ] {
            let bins = labels("W", cal, first..last);
            let days = cal.days_in_year(first.0) as usize;
            assert_eq!(bins.iter().map(|b| b.1).sum::<usize>(), days, "{cal}");
            assert!(
                bins[1..bins.len() - 1].iter().all(|b| b.1 == 7),
                "{cal} {bins:?}"
            );
        }
    }

    #[test]
    fn missing_times_are_left_out_of_every_bin() {
        let day = |d: i64| d * DAY;
        let da = series(Calendar::Standard, vec![day(0), NAT, day(1), day(2), NAT]);
        let r = da.resample("time", "2D");
        let sizes: Vec<usize> = r.bins().unwrap().iter().map(|b| b.1).collect();
        assert_eq!(sizes, [2, 1]);
        // Values are the positions: the bins hold 0 and 2, then 3.
        assert_eq!(r.mean().values().unwrap().to_f64_vec(), [1.0, 3.0]);
    }

    #[test]
    fn huge_spans_and_multiples_fail_before_allocating() {
        // int32 -2147483647 (netCDF's default fill) days before the epoch, then day 0.
        let da = series(Calendar::Standard, vec![-2_147_483_647 * DAY, 0]);
        let err = da
            .resample("time", "1D")
            .mean()
            .into_result()
            .unwrap_err()
            .to_string();
        for part in ["2147483648 bins", "fill value", "decode_times(false)"] {
            assert!(err.contains(part), "`{part}` missing from: {err}");
        }
        // One-second bins over the same span: 1.9e14 bins, refused before any is made.
        let err = da.resample("time", "1s").mean().into_result().unwrap_err();
        assert!(err.to_string().contains("bins"), "{err}");
        let small = series(Calendar::Julian, (0..1000).map(|d| d * DAY).collect());
        let limited = Client::new().memory_limit("1KiB").unwrap();
        let err = limited
            .run(|| small.resample("time", "D").bins())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("1000 bins") && err.contains("memory limit"),
            "{err}"
        );
        assert!(limited.run(|| small.resample("time", "YS").bins()).is_ok());
        for rule in [
            "99999999999999999999D",
            "1000000001D",
            "9223372036854775807D",
        ] {
            let err = small.resample("time", rule).bins().unwrap_err().to_string();
            assert!(err.contains(rule) && err.contains("multiple"), "{err}");
        }
        let r = small.resample("time", "1000000000D");
        assert_eq!(r.bins().unwrap().len(), 1);
    }

    #[test]
    fn extreme_times_never_panic() {
        for cal in Calendar::ALL {
            for times in [vec![NAT + 1, -1, i64::MAX], vec![i64::MAX - 1, i64::MAX]] {
                let da = series(cal, times);
                for rule in RULES {
                    if let Ok(bins) = da.resample("time", rule).bins() {
                        assert!(bins.len() <= 3, "{rule} {cal}");
                    }
                }
            }
        }
    }
}
