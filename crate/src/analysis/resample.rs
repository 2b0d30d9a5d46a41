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

use rayon::prelude::*;

use crate::compute::engine;
use crate::compute::reduce::{reduce_chunked, reduce_range, Reduction};
use crate::compute::sources::ChunkFn;
use crate::compute::Client;
use crate::error::{Error, Result};
use crate::model::{
    ArrayData, Calendar, CfDateTime, ChunkedArray, DType, Data, DataArray, Variable,
};

const DAY: i64 = 86_400;

/// A parsed resampling rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    Days(i64),
    Week { anchor: u32 },
    MonthStart,
    MonthEnd,
    QuarterStart { month: u32 },
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
        count.parse().map_err(|_| bad("bad multiple"))?
    };
    if n < 1 {
        return Err(bad("the multiple must be at least 1"));
    }
    let (unit, anchor) = match rest.split_once('-') {
        Some((u, a)) => (u, Some(a)),
        None => (rest, None),
    };
    let only_one = |rule: Rule| {
        if n == 1 {
            Ok(rule)
        } else {
            Err(bad("multiples are supported for D only"))
        }
    };
    match (unit, anchor) {
        ("D", None) => Ok(Rule::Days(n)),
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
            "supported rules: D, nD, W, W-MON..W-SUN, MS, ME, QS, QS-JAN..QS-DEC, YS, YE",
        )),
    }
}

/// Day of the week of a date by its year-month-day (0 = Monday).
fn weekday(calendar: Calendar, day: i64) -> u32 {
    let (y, m, d) = calendar.ymd_from_days(day);
    let proleptic = Calendar::ProlepticGregorian.days_from_epoch(y, m, d);
    (proleptic + 3).rem_euclid(7) as u32
}

fn month_index(y: i64, m: u32) -> i64 {
    y * 12 + m as i64 - 1
}

fn from_month_index(i: i64) -> (i64, u32) {
    (i.div_euclid(12), (i.rem_euclid(12) + 1) as u32)
}

impl Rule {
    /// The label (seconds) of the bin holding time `t`.
    fn label(self, cal: Calendar, t: i64, origin_day: i64) -> i64 {
        let day = t.div_euclid(DAY);
        let at_midnight = t.rem_euclid(DAY) == 0;
        let (y, m, d) = cal.ymd_from_days(day);
        let label_day = match self {
            Rule::Days(n) => origin_day + (day - origin_day).div_euclid(n) * n,
            Rule::Week { anchor } => {
                let ahead = (anchor as i64 - weekday(cal, day) as i64).rem_euclid(7);
                day + if ahead == 0 && !at_midnight { 7 } else { ahead }
            }
            Rule::MonthStart => cal.days_from_epoch(y, m, 1),
            Rule::MonthEnd => {
                let last = cal.days_in_month(y, m);
                if d == last && !at_midnight {
                    let (ny, nm) = from_month_index(month_index(y, m) + 1);
                    cal.days_from_epoch(ny, nm, cal.days_in_month(ny, nm))
                } else {
                    cal.days_from_epoch(y, m, last)
                }
            }
            Rule::QuarterStart { month } => {
                let since = (month_index(y, m) - (month as i64 - 1)).rem_euclid(3);
                let (qy, qm) = from_month_index(month_index(y, m) - since);
                cal.days_from_epoch(qy, qm, 1)
            }
            Rule::YearStart => cal.days_from_epoch(y, 1, 1),
            Rule::YearEnd => {
                if m == 12 && d == 31 && !at_midnight {
                    cal.days_from_epoch(y + 1, 12, 31)
                } else {
                    cal.days_from_epoch(y, 12, cal.days_in_month(y, 12))
                }
            }
        };
        label_day * DAY
    }

    /// The label after `label`.
    fn next(self, cal: Calendar, label: i64) -> i64 {
        let day = label.div_euclid(DAY);
        let (y, m, _) = cal.ymd_from_days(day);
        let month_step = |months: i64, end: bool| {
            let (ny, nm) = from_month_index(month_index(y, m) + months);
            let d = if end { cal.days_in_month(ny, nm) } else { 1 };
            cal.days_from_epoch(ny, nm, d) * DAY
        };
        match self {
            Rule::Days(n) => label + n * DAY,
            Rule::Week { .. } => label + 7 * DAY,
            Rule::MonthStart => month_step(1, false),
            Rule::MonthEnd => month_step(1, true),
            Rule::QuarterStart { .. } => month_step(3, false),
            Rule::YearStart => month_step(12, false),
            Rule::YearEnd => month_step(12, true),
        }
    }
}

/// An array grouped into time bins, waiting for a reduction (`mean`, `std`, ...).
#[derive(Debug, Clone)]
pub struct Resample {
    array: DataArray,
    dim: String,
    calendar: Calendar,
    bins: Vec<(i64, Range<usize>)>,
}

impl DataArray {
    /// Groups dimension `dim` (a time coordinate) into bins by a pandas rule such as
    /// `"1W"`, `"D"`, `"MS"`, `"QS-DEC"`; reduce the bins with `.mean()` and friends.
    ///
    /// ```no_run
    /// # let ds = geoxr::open_mfdataset("data/IMERG/*.nc4")?;
    /// let weekly = ds.get("HQprecipitation")?.resample("time", "1W")?.mean()?;
    /// assert_eq!(weekly.sizes().get("time"), Some(44));
    /// # Ok::<(), geoxr::Error>(())
    /// ```
    pub fn resample(&self, dim: &str, rule: &str) -> Result<Resample> {
        self.variable().axis_of(dim)?;
        let rule = parse_rule(rule)?;
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
        let times: Vec<i64> = times.iter().copied().collect();
        if let Some(i) = times.windows(2).position(|w| w[1] < w[0]) {
            return Err(Error::invalid(
                format!("resample along `{dim}`"),
                format!(
                    "the times are not sorted: {} comes after {}; sort them first",
                    CfDateTime::from_seconds(*calendar, times[i + 1]),
                    CfDateTime::from_seconds(*calendar, times[i])
                ),
            ));
        }
        let mut bins: Vec<(i64, Range<usize>)> = Vec::new();
        if let (Some(first), Some(last)) = (times.first(), times.last()) {
            let origin_day = first.div_euclid(DAY);
            let labels: Vec<i64> = times
                .iter()
                .map(|t| rule.label(*calendar, *t, origin_day))
                .collect();
            let last_label = rule.label(*calendar, *last, origin_day);
            let mut label = labels[0];
            let mut at = 0;
            while label <= last_label {
                let start = at;
                while at < labels.len() && labels[at] == label {
                    at += 1;
                }
                bins.push((label, start..at));
                label = rule.next(*calendar, label);
            }
        }
        Ok(Resample {
            array: self.clone(),
            dim: dim.to_owned(),
            calendar: *calendar,
            bins,
        })
    }
}

impl Resample {
    /// The bins: label and number of positions in each.
    pub fn bins(&self) -> Vec<(CfDateTime, usize)> {
        self.bins
            .iter()
            .map(|(l, r)| (CfDateTime::from_seconds(self.calendar, *l), r.len()))
            .collect()
    }

    /// Reduces every bin with any [`Reduction`].
    pub fn reduce(&self, op: Reduction) -> Result<DataArray> {
        let var = self.array.variable();
        let axis = var.axis_of(&self.dim)?;
        let out_dtype = op.output_dtype(var.dtype())?;
        let mut shape = var.shape().to_vec();
        shape[axis] = self.bins.len();
        let data = match var.data() {
            Data::InMemory(a) => {
                let (a, bins) = (a.clone(), self.bins.clone());
                Data::from(Client::new().run(move || reduce_bins_in_memory(&a, axis, &bins, op))?)
            }
            Data::Lazy(lazy) if lazy.axis() == axis => {
                Data::Lazy(self.reduce_lazy_bins(lazy, axis, op, out_dtype, &shape)?)
            }
            Data::Lazy(lazy) => {
                let bins = self.bins.clone();
                let f: ChunkFn = Arc::new(move |chunk: &ArrayData| {
                    reduce_bins_in_memory(&Arc::new(chunk.clone()), axis, &bins, op)
                });
                Data::Lazy(lazy.map_chunks(out_dtype, shape.clone(), lazy.axis(), 1, f)?)
            }
        };
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
        out_dtype: DType,
        shape: &[usize],
    ) -> Result<ChunkedArray> {
        let mut bin_shape = shape.to_vec();
        bin_shape[axis] = 1;
        let parts = self
            .bins
            .iter()
            .map(|(_, range)| {
                let reduced = reduce_chunked(&lazy.slice_chunked_axis(range.clone())?, axis, op)?;
                let s = bin_shape.clone();
                let add_axis: ChunkFn = Arc::new(move |chunk: &ArrayData| chunk.reshape(&s));
                let mut one = reduced.map_whole(out_dtype, bin_shape.clone(), add_axis)?;
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
    pub fn mean(&self) -> Result<DataArray> {
        self.reduce(Reduction::Mean)
    }
    /// Sum of each bin.
    pub fn sum(&self) -> Result<DataArray> {
        self.reduce(Reduction::Sum)
    }
    /// Smallest value of each bin.
    pub fn min(&self) -> Result<DataArray> {
        self.reduce(Reduction::Min)
    }
    /// Largest value of each bin.
    pub fn max(&self) -> Result<DataArray> {
        self.reduce(Reduction::Max)
    }
    /// Population standard deviation of each bin.
    pub fn std(&self) -> Result<DataArray> {
        self.reduce(Reduction::Std { ddof: 0 })
    }
    /// Population variance of each bin.
    pub fn var(&self) -> Result<DataArray> {
        self.reduce(Reduction::Var { ddof: 0 })
    }
    /// Number of non-NaN values in each bin.
    pub fn count(&self) -> Result<DataArray> {
        self.reduce(Reduction::Count)
    }
}

fn reduce_bins_in_memory(
    a: &Arc<ArrayData>,
    axis: usize,
    bins: &[(i64, Range<usize>)],
    op: Reduction,
) -> Result<ArrayData> {
    // Bins are independent: reduce them in parallel, each one sequentially.
    let reduced = bins
        .par_iter()
        .map(|(_, r)| {
            let mut s = a.shape().to_vec();
            s[axis] = 1;
            engine::nested(|| reduce_range(a, axis, r.clone(), op))?.reshape(&s)
        })
        .collect::<Result<Vec<_>>>()?;
    if reduced.is_empty() {
        return Ok(a.slice_axis(axis, 0..0));
    }
    let refs: Vec<&ArrayData> = reduced.iter().collect();
    ArrayData::concat(&refs, axis)
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
            .unwrap()
            .bins()
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
    fn bad_rules_and_dims_are_named() {
        for rule in ["2X", "W-FUN", "3MS", "0D", ""] {
            assert!(parse_rule(rule).is_err(), "{rule}");
        }
        let err = parse_rule("W-FUN").unwrap_err().to_string();
        assert!(err.contains("W-FUN"), "{err}");
    }
}
