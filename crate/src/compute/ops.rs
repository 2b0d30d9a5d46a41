//! Operations on one chunk, as data: what a lazy array does to each chunk when it is
//! read (select positions, permute or merge axes, arithmetic, reduce an axis, reduce
//! resampling bins). Each is written once and serves in-memory arrays (one chunk) and
//! lazy ones alike; being data, a plan that uses them can be shown, checked and sent
//! to another process.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use ndarray::{ArrayD, IxDyn};
use rayon::prelude::*;

use super::engine;
use super::reduce::{reduce_range, Reduction};
use crate::error::{Error, Result};
use crate::model::{ArrayData, DType};

/// One of the four arithmetic operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
}

impl BinaryOp {
    pub(crate) fn apply(self, a: f64, b: f64) -> f64 {
        match self {
            BinaryOp::Add => a + b,
            BinaryOp::Sub => a - b,
            BinaryOp::Mul => a * b,
            BinaryOp::Div => a / b,
        }
    }

    /// `+`, `-`, `*` or `/`.
    pub fn symbol(self) -> char {
        match self {
            BinaryOp::Add => '+',
            BinaryOp::Sub => '-',
            BinaryOp::Mul => '*',
            BinaryOp::Div => '/',
        }
    }
}

/// What happens to one chunk (its values in, new values out).
#[derive(Debug, Clone)]
pub(crate) enum ChunkOp {
    /// One position along `axis`, the axis dropped.
    Index { axis: usize, index: usize },
    /// Consecutive positions along `axis`.
    Slice { axis: usize, range: Range<usize> },
    /// Listed positions along `axis`, in order.
    Take {
        axis: usize,
        positions: Arc<Vec<usize>>,
    },
    /// Axes reordered: `order[i]` is the old axis that becomes axis `i`.
    Permute { order: Vec<usize> },
    /// The axes from `keep` on merged into one (C order).
    Merge { keep: usize },
    /// The whole chunk given another shape of the same size.
    Reshape { shape: Vec<usize> },
    /// The last axis split into `sizes`, with `targets` giving each position's flat
    /// place among them when some combinations are missing (NaN there).
    Unstack {
        keep: usize,
        sizes: Vec<usize>,
        targets: Option<Arc<Vec<usize>>>,
    },
    /// `chunk op x`, computed in `dtype`.
    Scalar { op: BinaryOp, x: f64, dtype: DType },
    /// `chunk op right`, both broadcast (`right` float64, axes as the chunk's).
    Array {
        op: BinaryOp,
        right: Arc<ArrayD<f64>>,
        dtype: DType,
    },
    /// A reduction over `axis` (removed).
    Reduce { axis: usize, op: Reduction },
    /// Each range of positions along `axis` reduced to one position.
    Bins {
        axis: usize,
        bins: Arc<Vec<Range<usize>>>,
        op: Reduction,
    },
}

impl ChunkOp {
    /// The op's name, as plans show it.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            ChunkOp::Index { .. } => "isel",
            ChunkOp::Slice { .. } => "slice",
            ChunkOp::Take { .. } => "take",
            ChunkOp::Permute { .. } => "transpose",
            ChunkOp::Merge { .. } => "merge-axes",
            ChunkOp::Reshape { .. } => "reshape",
            ChunkOp::Unstack { .. } => "unstack",
            ChunkOp::Scalar { .. } => "scalar",
            ChunkOp::Array { .. } => "array",
            ChunkOp::Reduce { .. } => "reduce",
            ChunkOp::Bins { .. } => "resample",
        }
    }

    /// The element type made from input of type `input`.
    pub(crate) fn out_dtype(&self, input: DType) -> Result<DType> {
        Ok(match self {
            ChunkOp::Scalar { dtype, .. } | ChunkOp::Array { dtype, .. } => {
                if !dtype.is_float() {
                    return Err(Error::invalid(
                        format!("{} arithmetic", self.name()),
                        format!("results are float32 or float64, not {dtype}"),
                    ));
                }
                *dtype
            }
            ChunkOp::Reduce { op, .. } | ChunkOp::Bins { op, .. } => op.output_dtype(input)?,
            ChunkOp::Unstack {
                targets: Some(_), ..
            } => match input {
                DType::F32 => DType::F32,
                _ => DType::F64,
            },
            _ => input,
        })
    }

    /// The shape made from input of shape `input`, or an error when the op does not
    /// apply to it (an axis or position out of range, sizes that do not match).
    pub(crate) fn out_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let bad =
            |why: String| Error::invalid(format!("{} of a {input:?} chunk", self.name()), why);
        let axis_len = |axis: usize| {
            input
                .get(axis)
                .copied()
                .ok_or_else(|| bad(format!("there is no axis {axis}")))
        };
        let mut shape = input.to_vec();
        match self {
            ChunkOp::Index { axis, index } => {
                if *index >= axis_len(*axis)? {
                    return Err(bad(format!("position {index} is outside axis {axis}")));
                }
                shape.remove(*axis);
            }
            ChunkOp::Slice { axis, range } => {
                if range.start > range.end || range.end > axis_len(*axis)? {
                    return Err(bad(format!("positions {range:?} are outside axis {axis}")));
                }
                shape[*axis] = range.len();
            }
            ChunkOp::Take { axis, positions } => {
                let n = axis_len(*axis)?;
                if let Some(p) = positions.iter().find(|p| **p >= n) {
                    return Err(bad(format!("position {p} is outside axis {axis}")));
                }
                shape[*axis] = positions.len();
            }
            ChunkOp::Permute { order } => {
                let mut seen = vec![false; input.len()];
                if order.len() != input.len()
                    || order
                        .iter()
                        .any(|a| *a >= input.len() || std::mem::replace(&mut seen[*a], true))
                {
                    return Err(bad(format!("{order:?} is not an order of its axes")));
                }
                shape = order.iter().map(|a| input[*a]).collect();
            }
            ChunkOp::Merge { keep } => {
                if *keep >= input.len() {
                    return Err(bad(format!("there are no axes after the first {keep}")));
                }
                let merged =
                    checked_product(&input[*keep..]).ok_or_else(|| bad("too large".into()))?;
                shape.truncate(*keep);
                shape.push(merged);
            }
            ChunkOp::Reshape { shape: to } => {
                if checked_product(to) != checked_product(input) {
                    return Err(bad(format!("it cannot become {to:?}")));
                }
                shape = to.clone();
            }
            ChunkOp::Unstack {
                keep,
                sizes,
                targets,
            } => {
                let n = axis_len(*keep)?;
                let full = checked_product(sizes).ok_or_else(|| bad("too large".into()))?;
                if *keep + 1 != input.len() {
                    return Err(bad("only the last axis can be unstacked".into()));
                }
                match targets {
                    None if n != full => {
                        return Err(bad(format!("{n} positions are not {sizes:?}")))
                    }
                    Some(t) if t.len() != n || t.iter().any(|t| *t >= full) => {
                        return Err(bad("its target positions do not fit".into()))
                    }
                    _ => {}
                }
                shape.truncate(*keep);
                shape.extend(sizes);
            }
            ChunkOp::Scalar { .. } => {}
            ChunkOp::Array { right, .. } => {
                // Either side may have length 1 where the other is longer.
                let fits = right.ndim() == input.len()
                    && right
                        .shape()
                        .iter()
                        .zip(input)
                        .all(|(r, i)| r == i || *r == 1 || *i == 1);
                if !fits {
                    return Err(bad(format!(
                        "the other operand's shape {:?} does not broadcast",
                        right.shape()
                    )));
                }
                shape = input
                    .iter()
                    .zip(right.shape())
                    .map(|(i, r)| *i.max(r))
                    .collect();
            }
            ChunkOp::Reduce { axis, .. } => {
                axis_len(*axis)?;
                shape.remove(*axis);
            }
            ChunkOp::Bins { axis, bins, .. } => {
                let n = axis_len(*axis)?;
                if bins.iter().any(|b| b.start > b.end || b.end > n) {
                    return Err(bad(format!("a bin lies outside axis {axis}")));
                }
                shape[*axis] = bins.len();
            }
        }
        if checked_product(&shape).is_none() {
            return Err(bad("the result would be too large".into()));
        }
        Ok(shape)
    }

    /// Applies the op to one chunk's values. The input's shape is checked first, so
    /// a wrong chunk gives an error, never a panic.
    pub(crate) fn apply(&self, data: &ArrayData) -> Result<ArrayData> {
        let shape = self.out_shape(data.shape())?;
        Ok(match self {
            ChunkOp::Index { axis, index } => data.index_axis(*axis, *index),
            ChunkOp::Slice { axis, range } => data.slice_axis(*axis, range.clone()),
            ChunkOp::Take { axis, positions } => data.take(*axis, positions),
            ChunkOp::Permute { order } => data.permute(order),
            ChunkOp::Merge { .. } | ChunkOp::Reshape { .. } => data.reshape(&shape)?,
            ChunkOp::Unstack { targets: None, .. } => data.reshape(&shape)?,
            ChunkOp::Unstack {
                sizes,
                targets: Some(t),
                ..
            } => scatter(data, &shape, sizes.iter().product(), t)?,
            ChunkOp::Scalar { op, x, dtype } => scalar_kernel(data, *x, *op, *dtype),
            ChunkOp::Array { op, right, dtype } => {
                from_f64(combine(&data.to_f64_array(), right, *op)?, *dtype)
            }
            ChunkOp::Reduce { axis, op } => reduce_range(data, *axis, 0..data.shape()[*axis], *op)?,
            ChunkOp::Bins { axis, bins, op } => reduce_bins(data, *axis, bins, *op)?,
        })
    }
}

impl fmt::Display for ChunkOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChunkOp::Index { axis, index } => write!(f, "isel axis {axis} at {index}"),
            ChunkOp::Slice { axis, range } => {
                write!(f, "isel axis {axis} {}..{}", range.start, range.end)
            }
            ChunkOp::Take { axis, positions } => {
                write!(f, "isel axis {axis}, {} positions", positions.len())
            }
            ChunkOp::Permute { order } => write!(f, "transpose {order:?}"),
            ChunkOp::Merge { keep } => write!(f, "merge axes {keep}.."),
            ChunkOp::Reshape { shape } => write!(f, "reshape to {shape:?}"),
            ChunkOp::Unstack { sizes, targets, .. } => match targets {
                None => write!(f, "unstack to {sizes:?}"),
                Some(_) => write!(f, "unstack to {sizes:?} (missing as NaN)"),
            },
            ChunkOp::Scalar { op, x, .. } => write!(f, "{} {x}", op.symbol()),
            ChunkOp::Array { op, right, .. } => {
                write!(f, "{} array {:?}", op.symbol(), right.shape())
            }
            ChunkOp::Reduce { axis, op } => write!(f, "{} over axis {axis}", op.name()),
            ChunkOp::Bins { axis, bins, op } => {
                write!(f, "{} of {} bins along axis {axis}", op.name(), bins.len())
            }
        }
    }
}

fn checked_product(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |acc, n| acc.checked_mul(*n))
}

pub(crate) fn from_f64(a: ArrayD<f64>, dtype: DType) -> ArrayData {
    match dtype {
        DType::F32 => ArrayData::F32(a.mapv(|v| v as f32)),
        _ => ArrayData::F64(a),
    }
}

fn scalar_kernel(data: &ArrayData, x: f64, op: BinaryOp, dtype: DType) -> ArrayData {
    match (data, dtype) {
        (ArrayData::F32(a), DType::F32) => {
            let x = x as f32;
            ArrayData::F32(a.mapv(|v| op.apply(v as f64, x as f64) as f32))
        }
        _ => from_f64(data.to_f64_array().mapv(|v| op.apply(v, x)), dtype),
    }
}

/// `a op b` with both broadcast to their common shape.
pub(crate) fn combine(a: &ArrayD<f64>, b: &ArrayD<f64>, op: BinaryOp) -> Result<ArrayD<f64>> {
    let shape: Vec<usize> = a
        .shape()
        .iter()
        .zip(b.shape())
        .map(|(x, y)| *x.max(y))
        .collect();
    let cannot = || {
        Error::invalid(
            "broadcasting",
            format!("shapes {:?} and {:?}", a.shape(), b.shape()),
        )
    };
    let a = a.broadcast(IxDyn(&shape)).ok_or_else(cannot)?;
    let b = b.broadcast(IxDyn(&shape)).ok_or_else(cannot)?;
    Ok(ndarray::Zip::from(&a)
        .and(&b)
        .map_collect(|x, y| op.apply(*x, *y)))
}

/// Places the last axis of `chunk` (the stacked positions) at flat `targets` of the
/// unstacked trailing axes, NaN elsewhere.
fn scatter(
    chunk: &ArrayData,
    shape: &[usize],
    full: usize,
    targets: &[usize],
) -> Result<ArrayData> {
    let n = targets.len();
    let outer: usize = chunk.len() / n.max(1);
    let values = chunk.to_f64_vec();
    let mut out = vec![f64::NAN; outer * full];
    for o in 0..outer {
        for (p, t) in targets.iter().enumerate() {
            out[o * full + t] = values[o * n + p];
        }
    }
    let a = ArrayD::from_shape_vec(IxDyn(shape), out)
        .map_err(|e| Error::invalid("unstack", e.to_string()))?;
    Ok(match chunk.dtype() {
        DType::F32 => ArrayData::F32(a.mapv(|v| v as f32)),
        _ => ArrayData::F64(a),
    })
}

/// Each bin of positions along `axis` reduced to one position; bins run in
/// parallel, each sequentially.
fn reduce_bins(
    a: &ArrayData,
    axis: usize,
    bins: &[Range<usize>],
    op: Reduction,
) -> Result<ArrayData> {
    let reduced = bins
        .par_iter()
        .map(|r| {
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
