//! Selection: `isel` by position and `sel` by label, on arrays and datasets, lazy or
//! in memory. Selecting along the chunked axis keeps only the chunks it needs.

use std::ops::{Range, RangeFrom, RangeFull, RangeInclusive, RangeTo, RangeToInclusive};
use std::sync::Arc;

use crate::compute::ops::ChunkOp;
use crate::compute::sources::free_axis;
use crate::error::{Error, Result};
use crate::model::{ArrayData, CfDateTime, ChunkedArray, DType, DataArray, Dataset, Variable};

/// Positions along one dimension, for `isel`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pos {
    /// One position; the dimension is dropped.
    At(usize),
    /// A range of positions.
    Range(Range<usize>),
    /// Positions in any order (repeats allowed).
    List(Vec<usize>),
}

impl From<usize> for Pos {
    fn from(i: usize) -> Pos {
        Pos::At(i)
    }
}
impl From<Range<usize>> for Pos {
    fn from(r: Range<usize>) -> Pos {
        Pos::Range(r)
    }
}
impl From<RangeInclusive<usize>> for Pos {
    fn from(r: RangeInclusive<usize>) -> Pos {
        // An inclusive end at usize::MAX means "to the end", as `..` does.
        Pos::Range(*r.start()..r.end().saturating_add(1))
    }
}
impl From<RangeFrom<usize>> for Pos {
    fn from(r: RangeFrom<usize>) -> Pos {
        Pos::Range(r.start..usize::MAX)
    }
}
impl From<RangeTo<usize>> for Pos {
    fn from(r: RangeTo<usize>) -> Pos {
        Pos::Range(0..r.end)
    }
}
impl From<RangeFull> for Pos {
    fn from(_: RangeFull) -> Pos {
        Pos::Range(0..usize::MAX)
    }
}
impl From<Vec<usize>> for Pos {
    fn from(v: Vec<usize>) -> Pos {
        Pos::List(v)
    }
}

/// A coordinate label: a number, or a date (`"2018-02-04"`, `"2018-02-04 12:00"`).
#[derive(Debug, Clone, PartialEq)]
pub enum Label {
    /// A numeric label.
    Number(f64),
    /// A date or date-time, read in the coordinate's calendar.
    Text(String),
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Label::Number(x) => write!(f, "{x}"),
            Label::Text(s) => write!(f, "{s:?}"),
        }
    }
}

macro_rules! number_label {
    ($($t:ty),*) => {$(
        impl From<$t> for Label {
            fn from(x: $t) -> Label { Label::Number(x as f64) }
        }
        impl From<$t> for Selector {
            fn from(x: $t) -> Selector { Selector::Exact(Label::from(x)) }
        }
        impl From<RangeInclusive<$t>> for Selector {
            fn from(r: RangeInclusive<$t>) -> Selector {
                Selector::Between(Some(Label::from(*r.start())), Some(Label::from(*r.end())))
            }
        }
        impl From<RangeFrom<$t>> for Selector {
            fn from(r: RangeFrom<$t>) -> Selector { Selector::Between(Some(Label::from(r.start)), None) }
        }
        impl From<RangeToInclusive<$t>> for Selector {
            fn from(r: RangeToInclusive<$t>) -> Selector { Selector::Between(None, Some(Label::from(r.end))) }
        }
    )*};
}
number_label!(f64, f32, i32, i64);

impl From<&str> for Label {
    fn from(s: &str) -> Label {
        Label::Text(s.to_owned())
    }
}

/// What to keep along one dimension, by label, for `sel`.
///
/// Ranges are inclusive at both ends, as pandas label slices are, and select by value
/// whichever way the coordinate runs. The bounds may come in either order, so
/// `10.0..=-10.0` (xarray's `slice(10, -10)` on a descending latitude) and
/// `-10.0..=10.0` keep the same labels.
/// Float32 coordinates compare with float64 bounds exactly; an exact float label is
/// compared at the coordinate's own precision.
#[derive(Debug, Clone, PartialEq)]
pub enum Selector {
    /// Every label between the bounds (inclusive; `None` is open).
    Between(Option<Label>, Option<Label>),
    /// Exactly this label; the dimension is dropped.
    Exact(Label),
    /// The label nearest to this one; the dimension is dropped.
    Nearest(Label),
}

impl Selector {
    /// The label nearest to `label` (xarray's `method="nearest"`).
    pub fn nearest(label: impl Into<Label>) -> Selector {
        Selector::Nearest(label.into())
    }
}

impl From<&str> for Selector {
    fn from(s: &str) -> Selector {
        Selector::Exact(Label::from(s))
    }
}

impl From<RangeInclusive<&str>> for Selector {
    fn from(r: RangeInclusive<&str>) -> Selector {
        Selector::Between(Some(Label::from(*r.start())), Some(Label::from(*r.end())))
    }
}

impl From<RangeFull> for Selector {
    fn from(_: RangeFull) -> Selector {
        Selector::Between(None, None)
    }
}

/// One or more `(dimension, selection)` pairs: `("lon", -74.1..=-61.0)`, or an array
/// of pairs of the same kind.
pub trait IntoSelection<S> {
    /// The pairs.
    fn into_selection(self) -> Vec<(String, S)>;
}

impl<S, T: Into<S>> IntoSelection<S> for (&str, T) {
    fn into_selection(self) -> Vec<(String, S)> {
        vec![(self.0.to_owned(), self.1.into())]
    }
}

impl<S, T: Into<S>, const N: usize> IntoSelection<S> for [(&str, T); N] {
    fn into_selection(self) -> Vec<(String, S)> {
        self.into_iter()
            .map(|(d, t)| (d.to_owned(), t.into()))
            .collect()
    }
}

impl<S, T: Into<S>> IntoSelection<S> for Vec<(&str, T)> {
    fn into_selection(self) -> Vec<(String, S)> {
        self.into_iter()
            .map(|(d, t)| (d.to_owned(), t.into()))
            .collect()
    }
}

/// A label as a number comparable with the coordinate's values (times: seconds).
fn label_value(dim: &str, coord: &ArrayData, label: &Label) -> Result<f64> {
    match (coord.dtype(), label) {
        (DType::Time(calendar), Label::Text(text)) => parse_date(calendar, text)
            .map(|t| t.seconds() as f64)
            .ok_or_else(|| Error::NoSuchLabel {
                dim: dim.to_owned(),
                label: label.to_string(),
                hint: format!("expected a date such as \"2018-02-04\" in the {calendar} calendar"),
            }),
        (DType::Time(_), Label::Number(_)) => Err(Error::NoSuchLabel {
            dim: dim.to_owned(),
            label: label.to_string(),
            hint: "`time` labels are dates, such as \"2018-02-04\"".into(),
        }),
        (_, Label::Number(x)) => Ok(*x),
        (_, Label::Text(t)) => t.trim().parse::<f64>().map_err(|_| Error::NoSuchLabel {
            dim: dim.to_owned(),
            label: label.to_string(),
            hint: "this coordinate holds numbers".into(),
        }),
    }
}

/// Parses `YYYY-MM-DD`, optionally followed by `HH:MM[:SS]`, in a calendar.
pub(crate) fn parse_date(calendar: crate::Calendar, text: &str) -> Option<CfDateTime> {
    let units = format!("seconds since {}", text.trim());
    crate::TimeUnits::parse(&units, calendar).map(|u| u.epoch)
}

fn positions_for(dim: &str, coord: &Variable, selector: &Selector) -> Result<Pos> {
    let values_data = coord
        .values()
        .ok_or_else(|| Error::invalid(format!("coordinate `{dim}`"), "not in memory"))?;
    let values = values_data.to_f64_vec();
    let is_f32 = values_data.dtype() == DType::F32;
    match selector {
        Selector::Between(lo, hi) => {
            let lo = lo
                .as_ref()
                .map(|l| label_value(dim, values_data, l))
                .transpose()?;
            let hi = hi
                .as_ref()
                .map(|l| label_value(dim, values_data, l))
                .transpose()?;
            // Bounds in either order mean the values between them: xarray's
            // `slice(10, -10)` on a descending latitude reads `10.0..=-10.0`.
            let (lo, hi) = match (lo, hi) {
                (Some(a), Some(b)) if a > b => (Some(b), Some(a)),
                bounds => bounds,
            };
            let keep: Vec<usize> = values
                .iter()
                .enumerate()
                .filter(|(_, v)| lo.is_none_or(|lo| **v >= lo) && hi.is_none_or(|hi| **v <= hi))
                .map(|(i, _)| i)
                .collect();
            let contiguous = keep.windows(2).all(|w| w[1] == w[0] + 1);
            Ok(match (keep.first(), keep.last(), contiguous) {
                (Some(a), Some(b), true) => Pos::Range(*a..b + 1),
                (None, _, _) => Pos::Range(0..0),
                _ => Pos::List(keep),
            })
        }
        Selector::Exact(label) => {
            let x = label_value(dim, values_data, label)?;
            let matches = |v: f64| if is_f32 { v as f32 == x as f32 } else { v == x };
            if let Some(i) = values.iter().position(|v| matches(*v)) {
                return Ok(Pos::At(i));
            }
            let hint = nearest(&values, x)
                .map(|i| {
                    format!(
                        "the nearest is {}; use Selector::nearest(..) to take it",
                        label_text(values_data, i)
                    )
                })
                .unwrap_or_default();
            Err(Error::NoSuchLabel {
                dim: dim.to_owned(),
                label: label.to_string(),
                hint,
            })
        }
        Selector::Nearest(label) => {
            let x = label_value(dim, values_data, label)?;
            if x.is_nan() {
                return Err(Error::invalid(
                    format!("Selector::nearest along `{dim}`"),
                    "NaN is not near any label; give a number",
                ));
            }
            nearest(&values, x)
                .map(Pos::At)
                .ok_or_else(|| Error::NoSuchLabel {
                    dim: dim.to_owned(),
                    label: label.to_string(),
                    hint: "the coordinate is empty".into(),
                })
        }
    }
}

/// The position of the label nearest `x` (the first of equals); none for NaN. An
/// infinite `x` is nearest the largest (or smallest) label.
fn nearest(values: &[f64], x: f64) -> Option<usize> {
    if x.is_nan() {
        return None;
    }
    let labels = values.iter().enumerate().filter(|(_, v)| !v.is_nan());
    if x.is_infinite() {
        let toward = |v: f64| if x > 0.0 { -v } else { v };
        return labels
            .min_by(|a, b| toward(*a.1).total_cmp(&toward(*b.1)))
            .map(|(i, _)| i);
    }
    labels
        .min_by(|a, b| (a.1 - x).abs().total_cmp(&(b.1 - x).abs()))
        .map(|(i, _)| i)
}

fn label_text(values: &ArrayData, i: usize) -> String {
    match values.as_times() {
        Some(t) => t[i].to_string(),
        None => values.get_f64(i).map(|v| v.to_string()).unwrap_or_default(),
    }
}

/// Positions clipped to an axis of length `len`, checked.
fn resolve(dim: &str, pos: &Pos, len: usize) -> Result<Pos> {
    let out_of_range = |i: usize| {
        Error::invalid(
            format!("position {i} along `{dim}`"),
            format!("out of range (the dimension has {len} positions)"),
        )
    };
    Ok(match pos {
        Pos::At(i) if *i >= len => return Err(out_of_range(*i)),
        Pos::At(i) => Pos::At(*i),
        Pos::Range(r) => Pos::Range(r.start.min(len)..r.end.min(len).max(r.start.min(len))),
        Pos::List(v) => {
            if let Some(bad) = v.iter().find(|i| **i >= len) {
                return Err(out_of_range(*bad));
            }
            Pos::List(v.clone())
        }
    })
}

impl Variable {
    /// The variable at some positions along `dim` (a no-op when it lacks `dim`).
    pub(crate) fn select_positions(&self, dim: &str, pos: &Pos) -> Result<Variable> {
        let Ok(axis) = self.axis_of(dim) else {
            return Ok(self.clone());
        };
        let pos = resolve(dim, pos, self.shape()[axis])?;
        let mut dims = self.dims().to_vec();
        if let Pos::At(_) = pos {
            dims.remove(axis);
        }
        let split = free_axis(self.dims().len(), &[axis]);
        let data = self
            .data()
            .through_chunks(split, |lazy| select_lazy(lazy, axis, &pos))?;
        Ok(Variable::new(dims, data)?
            .with_attrs(self.attrs().clone())
            .with_encoding(self.encoding().clone()))
    }
}

/// Positions `pos` along `axis`, as an operation on chunks.
fn take_op(axis: usize, pos: &Pos) -> ChunkOp {
    match pos {
        Pos::At(i) => ChunkOp::Index { axis, index: *i },
        Pos::Range(r) => ChunkOp::Slice {
            axis,
            range: r.clone(),
        },
        Pos::List(v) => ChunkOp::Take {
            axis,
            positions: Arc::new(v.clone()),
        },
    }
}

fn select_lazy(lazy: &ChunkedArray, axis: usize, pos: &Pos) -> Result<ChunkedArray> {
    let mut shape = lazy.shape().to_vec();
    if axis != lazy.axis() {
        match pos {
            Pos::At(_) => {
                shape.remove(axis);
            }
            Pos::Range(r) => shape[axis] = r.len(),
            Pos::List(v) => shape[axis] = v.len(),
        }
        let new_axis = lazy.axis() - usize::from(matches!(pos, Pos::At(_)) && axis < lazy.axis());
        return lazy.map_chunks(shape, new_axis, 1, take_op(axis, pos));
    }
    match pos {
        Pos::Range(r) => lazy.slice_chunked_axis(r.clone()),
        Pos::At(i) => {
            let one = lazy.slice_chunked_axis(*i..i + 1)?;
            shape.remove(axis);
            one.map_whole(shape, ChunkOp::Index { axis, index: 0 })
        }
        Pos::List(v) => {
            // Consecutive runs become slices of the chunk list, joined in order.
            let mut parts = Vec::new();
            let mut start = 0;
            for k in 1..=v.len() {
                if k == v.len() || v[k] != v[k - 1] + 1 {
                    parts.push(lazy.slice_chunked_axis(v[start]..v[k - 1] + 1)?);
                    start = k;
                }
            }
            if parts.is_empty() {
                return lazy.slice_chunked_axis(0..0);
            }
            ChunkedArray::concat(&parts, axis)
        }
    }
}

fn check_dims(have: &[String], wanted: &[(String, impl Sized)]) -> Result<()> {
    for (dim, _) in wanted {
        if !have.contains(dim) {
            return Err(Error::NoSuchDim {
                dim: dim.clone(),
                available: have.to_vec(),
            });
        }
    }
    Ok(())
}

fn select_all(
    vars: &[(String, Variable)],
    dim: &str,
    pos: &Pos,
) -> Result<Vec<(String, Variable)>> {
    vars.iter()
        .map(|(n, v)| Ok((n.clone(), v.select_positions(dim, pos)?)))
        .collect()
}

fn dimension_coord<'a>(coords: &'a [(String, Variable)], dim: &str) -> Result<&'a Variable> {
    coords
        .iter()
        .find(|(n, v)| n == dim && v.dims().len() == 1)
        .map(|(_, v)| v)
        .ok_or_else(|| {
            Error::invalid(
                format!("selecting `{dim}` by label"),
                format!("`{dim}` has no coordinate; select by position with isel"),
            )
        })
}

/// The dimension names of a selection, for naming a failed step: `lon, lat`.
fn selection_dims<S>(selection: &[(String, S)]) -> String {
    let names: Vec<&str> = selection.iter().map(|(d, _)| d.as_str()).collect();
    names.join(", ")
}

impl DataArray {
    /// Selects by position along named dimensions: xarray's `isel`.
    ///
    /// ```no_run
    /// # let ds = geoxr::open_mfdataset("data/IMERG/*.nc4")?;
    /// let first_day = ds.get("HQprecipitation").isel(("time", 0));
    /// let first_week = ds.get("HQprecipitation").isel(("time", 0..7));
    /// # Ok::<(), geoxr::Error>(())
    /// ```
    pub fn isel(&self, selection: impl IntoSelection<Pos>) -> DataArray {
        let selection = selection.into_selection();
        self.step(
            || format!("isel({})", selection_dims(&selection)),
            |a| a.try_isel(&selection),
        )
    }

    fn try_isel(&self, selection: &[(String, Pos)]) -> Result<DataArray> {
        check_dims(self.dims(), selection)?;
        let mut out = self.clone();
        for (dim, pos) in selection {
            let variable = out.variable().select_positions(dim, pos)?;
            let coords = select_all(out.coords(), dim, pos)?;
            out = out.with_parts(variable, coords)?;
        }
        Ok(out)
    }

    /// Selects by label along named dimensions: xarray's `sel`. Ranges are inclusive.
    ///
    /// ```no_run
    /// # let ds = geoxr::open_mfdataset("data/IMERG/*.nc4")?;
    /// let rain = ds.get("HQprecipitation");
    /// let box_ = rain.sel([("lon", -74.14..=-60.98), ("lat", -15.37..=-10.69)]);
    /// let day = rain.sel(("time", "2018-02-04"));
    /// # Ok::<(), geoxr::Error>(())
    /// ```
    pub fn sel(&self, selection: impl IntoSelection<Selector>) -> DataArray {
        let selection = selection.into_selection();
        self.step(
            || format!("sel({})", selection_dims(&selection)),
            |a| {
                check_dims(a.dims(), &selection)?;
                let mut out = a.clone();
                for (dim, selector) in &selection {
                    let pos = positions_for(dim, dimension_coord(out.coords(), dim)?, selector)?;
                    out = out.try_isel(&[(dim.clone(), pos)])?;
                }
                Ok(out)
            },
        )
    }
}

impl Dataset {
    /// Selects by position along named dimensions, in every variable: `isel`.
    pub fn isel(&self, selection: impl IntoSelection<Pos>) -> Result<Dataset> {
        let selection = selection.into_selection();
        check_dims(&self.dims().names(), &selection)?;
        let mut out = self.clone();
        for (dim, pos) in &selection {
            out = out.with_variables(
                select_all(out.coords(), dim, pos)?,
                select_all(out.data_vars(), dim, pos)?,
            )?;
        }
        Ok(out)
    }

    /// Selects by label along named dimensions, in every variable: `sel`.
    ///
    /// ```no_run
    /// let imerg = geoxr::open_mfdataset("data/IMERG/*.nc4")?;
    /// let subset = imerg.sel([("lon", -74.14..=-60.98), ("lat", -15.37..=-10.69)])?;
    /// assert_eq!(subset.dims().get("lon"), Some(131));
    /// # Ok::<(), geoxr::Error>(())
    /// ```
    pub fn sel(&self, selection: impl IntoSelection<Selector>) -> Result<Dataset> {
        let selection = selection.into_selection();
        check_dims(&self.dims().names(), &selection)?;
        let mut out = self.clone();
        for (dim, selector) in &selection {
            let pos = positions_for(dim, dimension_coord(out.coords(), dim)?, selector)?;
            out = out.isel((dim.as_str(), pos))?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use crate::model::{ArrayData, DataArray, Variable};
    use crate::Selector;

    /// `x` with labels 10, 20, 30 and values 1, 2, 3.
    fn line() -> DataArray {
        let values =
            Variable::new(["x"], ArrayData::F64(array![1.0, 2.0, 3.0].into_dyn())).unwrap();
        let labels =
            Variable::new(["x"], ArrayData::F64(array![10.0, 20.0, 30.0].into_dyn())).unwrap();
        DataArray::new(Some("v"), values, vec![("x".into(), labels)]).unwrap()
    }

    fn value(da: &DataArray) -> f64 {
        da.values().and_then(|v| v.get_f64(0)).unwrap()
    }

    #[test]
    fn nearest_nan_is_an_error_and_infinities_reach_the_ends() {
        let da = line();
        let err = da
            .sel(("x", Selector::nearest(f64::NAN)))
            .into_result()
            .unwrap_err();
        assert!(
            err.to_string().contains("NaN") && err.to_string().contains("`x`"),
            "{err}"
        );
        assert!(
            da.sel(("x", f64::NAN)).check().is_err(),
            "an exact NaN label matches nothing"
        );
        assert_eq!(
            value(
                &da.sel(("x", Selector::nearest(f64::INFINITY)))
                    .into_result()
                    .unwrap()
            ),
            3.0
        );
        assert_eq!(
            value(
                &da.sel(("x", Selector::nearest(f64::NEG_INFINITY)))
                    .into_result()
                    .unwrap()
            ),
            1.0
        );
        assert_eq!(
            value(
                &da.sel(("x", Selector::nearest(24.0)))
                    .into_result()
                    .unwrap()
            ),
            2.0
        );
    }

    #[test]
    fn inclusive_range_to_usize_max_means_to_the_end() {
        let da = line();
        let tail = da.isel(("x", 1..=usize::MAX)).into_result().unwrap();
        assert_eq!(tail.shape(), [2]);
        let all = da.isel(("x", 0..=usize::MAX)).into_result().unwrap();
        assert_eq!(all.shape(), [3]);
        assert!(da.isel(("x", usize::MAX)).check().is_err());
        assert!(da.isel(("x", vec![0, usize::MAX])).check().is_err());
    }
}
