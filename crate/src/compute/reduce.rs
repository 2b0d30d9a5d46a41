//! Reductions as mergeable partial aggregates.
//!
//! Positions along the reduced axis are cut into fixed blocks of [`BLOCK`]. Each block
//! is folded element by element, in order, into a partial (count, sum, mean and M2
//! for the variance, min, max); block partials are then merged left to right. The
//! blocks depend only on positions, never on how the data are chunked or how many
//! threads run, so lazy and eager, 1 thread or 20, give bit-identical results, and at
//! most a few blocks are in memory at once.

use std::ops::Range;
use std::sync::Arc;

use ndarray::{ArrayD, IxDyn};
use rayon::prelude::*;

use super::engine;
use super::ops::ChunkOp;
use super::progress::Progress;
use crate::error::{Error, Result};
use crate::model::{ArrayData, Chunk, ChunkSource, ChunkedArray, DType, NAT};

/// Positions folded sequentially into one partial.
pub(crate) const BLOCK: usize = 8;

/// Cells folded together through all the positions of a block: their aggregates
/// (up to three `f64`s each, 24 KiB) stay in the first-level cache.
const TILE: usize = 1024;

/// A reduction over one or more dimensions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reduction {
    /// Mean of the non-NaN values.
    Mean,
    /// Sum of the non-NaN values (0 when there are none).
    Sum,
    /// Smallest non-NaN value.
    Min,
    /// Largest non-NaN value.
    Max,
    /// Number of non-NaN values.
    Count,
    /// Variance with `ddof` delta degrees of freedom (0: population).
    Var { ddof: u32 },
    /// Standard deviation with `ddof` delta degrees of freedom (0: population).
    Std { ddof: u32 },
}

impl Reduction {
    /// The method name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Reduction::Mean => "mean",
            Reduction::Sum => "sum",
            Reduction::Min => "min",
            Reduction::Max => "max",
            Reduction::Count => "count",
            Reduction::Var { .. } => "var",
            Reduction::Std { .. } => "std",
        }
    }

    /// The element type of the result for input of type `dtype`.
    pub(crate) fn output_dtype(self, dtype: DType) -> Result<DType> {
        Ok(match (self, dtype) {
            (Reduction::Count, _) => DType::I64,
            (Reduction::Min | Reduction::Max, d) => d,
            (_, DType::Time(_)) => {
                return Err(Error::invalid(
                    self.name(),
                    "times can only be reduced with min, max or count",
                ))
            }
            (_, DType::F32) => DType::F32,
            (Reduction::Sum, d) if !d.is_float() => DType::I64,
            _ => DType::F64,
        })
    }

    fn needs_moments(self) -> bool {
        matches!(self, Reduction::Var { .. } | Reduction::Std { .. })
    }

    fn needs_sum(self) -> bool {
        matches!(self, Reduction::Mean | Reduction::Sum)
    }

    fn needs_extremes(self) -> bool {
        matches!(self, Reduction::Min | Reduction::Max)
    }
}

/// Per-cell aggregates of the values seen so far.
#[derive(Debug, Clone)]
pub(crate) struct Partial {
    /// The reduction and its number of cells (the vectors' length once made).
    op: Reduction,
    cells: usize,
    count: Vec<f64>,
    sum: Vec<f64>,
    mean: Vec<f64>,
    m2: Vec<f64>,
    min: Vec<f64>,
    max: Vec<f64>,
}

impl Partial {
    /// The partial of no values.
    pub(crate) fn new(cells: usize, op: Reduction) -> Partial {
        let mut p = Partial::unfilled(cells, op);
        p.fill_to(cells);
        p
    }

    /// A partial whose memory is allocated but whose cells are not made yet: `fold`
    /// makes them a tile at a time as it reaches them (while they are in cache), so
    /// nothing sweeps the whole partial first.
    fn unfilled(cells: usize, op: Reduction) -> Partial {
        let alloc = |needed: bool| {
            if needed {
                spare_f64(cells)
            } else {
                Vec::new()
            }
        };
        Partial {
            op,
            cells,
            count: spare_f64(cells),
            sum: alloc(op.needs_sum()),
            mean: alloc(op.needs_moments()),
            m2: alloc(op.needs_moments()),
            min: alloc(op.needs_extremes()),
            max: alloc(op.needs_extremes()),
        }
    }

    /// Makes the cells up to `end` (at most `cells`) that are not made yet, with the
    /// aggregates of no values.
    fn fill_to(&mut self, end: usize) {
        let end = end.min(self.cells);
        if self.count.len() >= end {
            return;
        }
        let op = self.op;
        self.count.resize(end, 0.0);
        if op.needs_sum() {
            self.sum.resize(end, 0.0);
        }
        if op.needs_moments() {
            self.mean.resize(end, 0.0);
            self.m2.resize(end, 0.0);
        }
        if op.needs_extremes() {
            self.min.resize(end, f64::INFINITY);
            self.max.resize(end, f64::NEG_INFINITY);
        }
    }

    /// Bytes one partial of `cells` cells takes.
    pub(crate) fn bytes(cells: usize, op: Reduction) -> u64 {
        let vectors = 1
            + usize::from(op.needs_sum())
            + 2 * usize::from(op.needs_moments())
            + 2 * usize::from(op.needs_extremes());
        (cells as u64).saturating_mul(vectors as u64 * 8)
    }

    /// Adds the positions of `pieces` along `axis`, piece after piece and each
    /// piece's positions in order (`(array, positions of it)`; the arrays differ only
    /// along `axis`). Each array is read as (outer, positions, inner) in C order, so
    /// every run of `inner` values is contiguous whichever axis is reduced. The cells
    /// are taken a tile at a time through every piece, so the tile of aggregates stays
    /// in cache; each cell still sees its values in position order.
    fn fold(&mut self, pieces: &[(&ArrayData, Range<usize>)], axis: usize) {
        let Some((first, _)) = pieces.first() else {
            self.fill_to(self.cells);
            return;
        };
        if pieces.iter().any(|(p, _)| p.dtype() != first.dtype()) {
            // Never built so (the pieces of one array share its type); one at a time.
            for piece in pieces {
                self.fold(std::slice::from_ref(piece), axis);
            }
            return;
        }
        let shape = first.shape();
        let inner: usize = shape[axis + 1..].iter().product();
        let outer: usize = shape[..axis].iter().product();
        macro_rules! fold_as {
            ($variant:ident, $to_f64:expr) => {{
                let arrays: Vec<(&ArrayD<_>, Range<usize>)> = pieces
                    .iter()
                    .filter_map(|(p, r)| match p {
                        ArrayData::$variant(a, ..) => Some((a, r.clone())),
                        _ => None,
                    })
                    .collect();
                self.fold_runs(&arrays, axis, outer, inner, $to_f64)
            }};
        }
        #[allow(clippy::unnecessary_cast)]
        match first {
            // A missing time (NaT) is skipped like NaN.
            ArrayData::Time(..) => fold_as!(Time, |v: i64| match v as f64 {
                x if x == NAT as f64 => f64::NAN,
                x => x,
            }),
            ArrayData::F32(_) => fold_as!(F32, f64::from),
            ArrayData::F64(_) => fold_as!(F64, |v: f64| v),
            ArrayData::I8(_) => fold_as!(I8, |v: i8| v as f64),
            ArrayData::U8(_) => fold_as!(U8, |v: u8| v as f64),
            ArrayData::I16(_) => fold_as!(I16, |v: i16| v as f64),
            ArrayData::U16(_) => fold_as!(U16, |v: u16| v as f64),
            ArrayData::I32(_) => fold_as!(I32, |v: i32| v as f64),
            ArrayData::U32(_) => fold_as!(U32, |v: u32| v as f64),
            ArrayData::I64(_) => fold_as!(I64, |v: i64| v as f64),
            ArrayData::U64(_) => fold_as!(U64, |v: u64| v as f64),
        }
    }

    /// `fold` for pieces of one element type, each value made an `f64` by `to_f64`.
    fn fold_runs<T: Copy>(
        &mut self,
        pieces: &[(&ArrayD<T>, Range<usize>)],
        axis: usize,
        outer: usize,
        inner: usize,
        to_f64: impl Fn(T) -> f64 + Copy,
    ) {
        // Logical (C) order, copied only when an array is laid out otherwise.
        let copies: Vec<Option<Vec<T>>> = pieces
            .iter()
            .map(|(a, _)| match a.as_slice() {
                Some(_) => None,
                None => Some(a.iter().copied().collect()),
            })
            .collect();
        let values: Vec<(&[T], usize, Range<usize>)> = pieces
            .iter()
            .zip(&copies)
            .map(|((a, r), copy)| {
                let v = copy.as_deref().or(a.as_slice()).unwrap_or(&[]);
                (v, a.shape()[axis], r.clone())
            })
            .collect();
        for o in 0..outer {
            for tile in (0..inner).step_by(TILE) {
                let width = TILE.min(inner - tile);
                for (v, len, range) in &values {
                    for p in range.clone() {
                        let start = (o * len + p) * inner + tile;
                        if let Some(run) = v.get(start..start + width) {
                            self.fill_to(o * inner + tile + width);
                            self.push_run(o * inner + tile, run, to_f64);
                        }
                    }
                }
            }
        }
        self.fill_to(self.cells);
    }

    /// Adds one value to each of the cells from `first` on, in cell order. Each
    /// reduction keeps one kind of aggregate besides the count, so one loop runs
    /// per kind; a NaN leaves its cell as it was.
    fn push_run<T: Copy>(&mut self, first: usize, run: &[T], to_f64: impl Fn(T) -> f64) {
        let cells = first..first + run.len();
        let Some(count) = self.count.get_mut(cells.clone()) else {
            return;
        };
        if let Some(sum) = self.sum.get_mut(cells.clone()) {
            // Without branches, so that it vectorises: adding 0.0 keeps a count and
            // a sum as they were (a sum that starts at +0.0 is never -0.0).
            for ((c, s), v) in count.iter_mut().zip(sum.iter_mut()).zip(run) {
                let x = to_f64(*v);
                let valid = !x.is_nan();
                *c += if valid { 1.0 } else { 0.0 };
                *s += if valid { x } else { 0.0 };
            }
        } else if let (Some(mean), Some(m2)) = (
            self.mean.get_mut(cells.clone()),
            self.m2.get_mut(cells.clone()),
        ) {
            for (((c, m), q), v) in count.iter_mut().zip(mean).zip(m2).zip(run) {
                let x = to_f64(*v);
                if x.is_nan() {
                    continue;
                }
                let n = *c + 1.0;
                *c = n;
                let delta = x - *m;
                *m += delta / n;
                *q += delta * (x - *m);
            }
        } else if let (Some(min), Some(max)) = (
            self.min.get_mut(cells.clone()),
            self.max.get_mut(cells.clone()),
        ) {
            // `f64::min` and `max` pass over a NaN.
            for (((c, lo), hi), v) in count.iter_mut().zip(min).zip(max).zip(run) {
                let x = to_f64(*v);
                *c += if x.is_nan() { 0.0 } else { 1.0 };
                *lo = lo.min(x);
                *hi = hi.max(x);
            }
        } else {
            for (c, v) in count.iter_mut().zip(run) {
                *c += if to_f64(*v).is_nan() { 0.0 } else { 1.0 };
            }
        }
    }

    /// Merges the aggregates of later positions into these (Chan et al.).
    pub(crate) fn merge(&mut self, other: &Partial) {
        for i in 0..self.count.len() {
            let (na, nb) = (self.count[i], other.count[i]);
            if nb == 0.0 {
                continue;
            }
            let n = na + nb;
            if !self.sum.is_empty() {
                self.sum[i] += other.sum[i];
            }
            if !self.mean.is_empty() {
                let delta = other.mean[i] - self.mean[i];
                self.mean[i] += delta * nb / n;
                self.m2[i] += other.m2[i] + delta * delta * na * nb / n;
            }
            if !self.min.is_empty() {
                self.min[i] = self.min[i].min(other.min[i]);
                self.max[i] = self.max[i].max(other.max[i]);
            }
            self.count[i] = n;
        }
    }

    /// Merges `next` into the running total of a left-to-right merge that starts
    /// from an empty partial. The first partial of a sum, count, min or max is the
    /// total itself (merged into an empty partial it stays bit for bit what it is:
    /// 0 + n, +0.0 + a sum that is never -0.0, ±inf against an extreme), so it is
    /// kept, not copied; the mean and M2 of a variance go through the merge.
    fn merge_into(total: &mut Option<Partial>, next: Partial, op: Reduction) {
        match total {
            Some(t) => {
                t.merge(&next);
                next.recycle();
            }
            None if !op.needs_moments() => *total = Some(next),
            None => {
                let mut t = Partial::new(next.count.len(), op);
                t.merge(&next);
                next.recycle();
                *total = Some(t);
            }
        }
    }

    /// Appends the partial as little-endian `f64`s (count, then the aggregates the
    /// reduction uses), `bytes(cells, op)` bytes in all.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        for v in [
            &self.count,
            &self.sum,
            &self.mean,
            &self.m2,
            &self.min,
            &self.max,
        ] {
            for x in v.iter() {
                out.extend_from_slice(&x.to_le_bytes());
            }
        }
    }

    /// The partial of `cells` cells for `op` that `encode` wrote, or an error when
    /// `bytes` is not exactly that long.
    pub(crate) fn decode(bytes: &[u8], cells: usize, op: Reduction) -> Result<Partial> {
        if Some(bytes.len() as u64) != Some(Partial::bytes(cells, op)) {
            return Err(Error::invalid(
                "a partial result",
                format!(
                    "{} bytes where {} cells of {} take {}",
                    bytes.len(),
                    cells,
                    op.name(),
                    Partial::bytes(cells, op)
                ),
            ));
        }
        let mut p = Partial::new(cells, op);
        let mut values = bytes
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().unwrap_or([0; 8])));
        for v in [
            &mut p.count,
            &mut p.sum,
            &mut p.mean,
            &mut p.m2,
            &mut p.min,
            &mut p.max,
        ] {
            for x in v.iter_mut() {
                *x = values.next().unwrap_or(f64::NAN);
            }
        }
        Ok(p)
    }

    /// The result in every cell, each made a `U` by `to` from its `f64` value. One
    /// loop per reduction (no choice made per cell), so the common ones vectorise.
    fn values<U>(&self, to: impl Fn(f64) -> U) -> Vec<U> {
        fn counted<U>(
            count: &[f64],
            of: &[f64],
            f: impl Fn(f64, f64) -> f64,
            to: impl Fn(f64) -> U,
        ) -> Vec<U> {
            // No values in a cell: NaN.
            let none = |n: f64, v: f64| if n == 0.0 { f64::NAN } else { v };
            count
                .iter()
                .zip(of)
                .map(|(n, v)| to(none(*n, f(*n, *v))))
                .collect()
        }
        let count = &self.count;
        match self.op {
            Reduction::Count => count.iter().map(|n| to(*n)).collect(),
            Reduction::Sum => self.sum.iter().map(|s| to(*s)).collect(),
            Reduction::Mean => counted(count, &self.sum, |n, s| s / n, to),
            Reduction::Min => counted(count, &self.min, |_, m| m, to),
            Reduction::Max => counted(count, &self.max, |_, m| m, to),
            Reduction::Var { ddof } | Reduction::Std { ddof } => {
                let std = matches!(self.op, Reduction::Std { .. });
                let var = move |n: f64, m2: f64| {
                    let dof = n - ddof as f64;
                    let var = if dof > 0.0 { m2 / dof } else { f64::NAN };
                    if std {
                        var.sqrt()
                    } else {
                        var
                    }
                };
                counted(count, &self.m2, var, to)
            }
        }
    }

    /// The result as an array of `shape` and element type `dtype` (float32 made
    /// straight from each `f64` value, as `to_array` would); the partial's memory
    /// goes back for the next partial.
    fn into_array(self, shape: &[usize], dtype: DType) -> Result<ArrayData> {
        let out = if dtype == DType::F32 {
            ArrayD::from_shape_vec(IxDyn(shape), self.values(|v| v as f32))
                .map(ArrayData::F32)
                .map_err(|e| Error::invalid("reduction result", e.to_string()))
        } else {
            to_array(self.values(|v| v), shape, dtype)
        };
        self.recycle();
        out
    }

    /// Gives the partial's vectors back for later partials (`engine::give_back`).
    fn recycle(self) {
        for v in [self.count, self.sum, self.mean, self.m2, self.min, self.max] {
            if v.capacity() > 0 {
                engine::give_back(ArrayData::F64(ndarray::Array1::from(v).into_dyn()));
            }
        }
    }
}

/// An empty vector with room for `len` values, from a kept array when there is one.
fn spare_f64(len: usize) -> Vec<f64> {
    match engine::take_spare(DType::F64, len) {
        Some(ArrayData::F64(a)) => {
            let (mut v, _) = a.into_raw_vec_and_offset();
            v.clear();
            v.reserve(len);
            v
        }
        _ => Vec::with_capacity(len),
    }
}

/// Values of some positions of a block: an array, borrowed or read for the block.
pub(crate) enum Piece<'a> {
    Borrowed(&'a ArrayData),
    Read(Arc<ArrayData>),
}

impl Piece<'_> {
    fn array(&self) -> &ArrayData {
        match self {
            Piece::Borrowed(a) => a,
            Piece::Read(a) => a,
        }
    }

    /// Keeps the memory of a piece read for the block (`engine::give_back`), when
    /// nothing else holds it.
    fn give_back(self) {
        if let Piece::Read(a) = self {
            if let Ok(a) = Arc::try_unwrap(a) {
                engine::give_back(a);
            }
        }
    }
}

/// Takes the values of some positions of a block: a piece and its positions to use.
type Visit<'v, 'a> = dyn FnMut(Piece<'a>, Range<usize>) + 'v;

/// Hands the pieces of a block (positions `range`), in order, to a visitor; when
/// told it may (`true`), reads them in parallel first.
type ReadBlock<'a> = dyn Fn(Range<usize>, bool, &mut Visit<'_, 'a>) -> Result<()> + Sync + 'a;

/// The shape of a blocked reduction: how many positions and output cells, along
/// which axis, the bytes a block reads (holding all its pieces, or one at a time)
/// and the bytes held throughout.
struct BlockPlan {
    len: usize,
    cells: usize,
    axis: usize,
    op: Reduction,
    block_bytes: u64,
    piece_bytes: u64,
    fixed_bytes: u64,
}

/// Folds the blocks `blocks` of positions `0..len` (block `i` holds positions
/// `i * BLOCK ..`): `read(range, visit)` hands over the values of a block (one or
/// more pieces along `axis`, in order), which are held until the block is folded
/// (at most `BLOCK` positions, counted in `block_bytes`); under a memory limit each
/// piece is folded as it comes (`piece_bytes`). Blocks run in
/// parallel waves as wide as the pool and the memory limit allow, and go to `sink`
/// in order, so what the sink makes of them never depends on the width.
fn reduce_blocks<'a>(
    plan: &BlockPlan,
    blocks: Range<usize>,
    progress: Option<&Progress>,
    read: &ReadBlock<'a>,
    sink: &mut dyn FnMut(Partial) -> Result<()>,
) -> Result<()> {
    let BlockPlan {
        len,
        cells,
        axis,
        op,
        block_bytes,
        piece_bytes,
        fixed_bytes,
    } = *plan;
    // Holding a block's pieces lets them be folded together (a tile of cells at a
    // time) and read in parallel; under a memory limit the pieces stream instead, so
    // that the nested work of costly pieces keeps its room.
    let hold = !engine::limited();
    let per_block =
        Partial::bytes(cells, op).saturating_add(if hold { block_bytes } else { piece_bytes });
    let fixed = fixed_bytes.saturating_add(Partial::bytes(cells, op));
    let (width, _held) = engine::width(
        &format!("{} over {len} positions", op.name()),
        per_block,
        fixed,
    )?;
    let blocks: Vec<Range<usize>> = blocks
        .map(|b| b.saturating_mul(BLOCK))
        .take_while(|s| *s < len)
        .map(|s| s..(s + BLOCK).min(len))
        .collect();
    // With every thread given a block, a block's pieces (chunks that may take long to
    // compute, such as a week's mean) are read in parallel too, so that the threads
    // stay busy when blocks are few or uneven; the pieces are folded in order all
    // the same. Under a tighter limit each block reads one chunk at a time.
    let parallel = hold && width > 1 && width >= rayon::current_num_threads();
    let fold_block = |range: &Range<usize>| -> Result<Partial> {
        engine::nested(|| {
            let mut partial = Partial::unfilled(cells, op);
            let mut pieces: Vec<(Piece<'a>, Range<usize>)> = Vec::new();
            read(range.clone(), parallel, &mut |piece, positions| {
                if hold {
                    pieces.push((piece, positions));
                } else {
                    partial.fold(&[(piece.array(), positions)], axis);
                    piece.give_back();
                }
            })?;
            let arrays: Vec<(&ArrayData, Range<usize>)> =
                pieces.iter().map(|(p, r)| (p.array(), r.clone())).collect();
            if hold {
                partial.fold(&arrays, axis);
            }
            drop(arrays);
            for (piece, _) in pieces {
                piece.give_back();
            }
            if let Some(p) = progress {
                p.tick(range.len());
            }
            Ok(partial)
        })
    };
    for wave in blocks.chunks(width) {
        let partials: Vec<Result<Partial>> = if width == 1 {
            wave.iter().map(fold_block).collect()
        } else {
            wave.par_iter().map(fold_block).collect()
        };
        for (p, range) in partials.into_iter().zip(wave) {
            // A block refused for memory while its siblings held theirs runs again
            // alone, now that they are done (once: a second refusal is final).
            let p = match p {
                Err(Error::MemoryLimit { .. }) if width > 1 => fold_block(range),
                other => other,
            };
            sink(p?)?;
        }
    }
    Ok(())
}

/// Number of blocks of `len` positions.
pub(crate) fn block_count(len: usize) -> usize {
    len.div_ceil(BLOCK)
}

/// Builds the result array of a reduction from its `f64` values.
fn to_array(values: Vec<f64>, shape: &[usize], dtype: DType) -> Result<ArrayData> {
    let a = ArrayD::from_shape_vec(IxDyn(shape), values)
        .map_err(|e| Error::invalid("reduction result", e.to_string()))?;
    Ok(match dtype {
        DType::F32 => ArrayData::F32(a.mapv(|v| v as f32)),
        DType::F64 => ArrayData::F64(a),
        DType::I8 => ArrayData::I8(a.mapv(|v| v as i8)),
        DType::U8 => ArrayData::U8(a.mapv(|v| v as u8)),
        DType::I16 => ArrayData::I16(a.mapv(|v| v as i16)),
        DType::U16 => ArrayData::U16(a.mapv(|v| v as u16)),
        DType::I32 => ArrayData::I32(a.mapv(|v| v as i32)),
        DType::U32 => ArrayData::U32(a.mapv(|v| v as u32)),
        DType::I64 => ArrayData::I64(a.mapv(|v| v as i64)),
        DType::U64 => ArrayData::U64(a.mapv(|v| v as u64)),
        DType::Time(c) => ArrayData::Time(a.mapv(|v| if v.is_nan() { NAT } else { v as i64 }), c),
    })
}

fn without(shape: &[usize], axis: usize) -> Vec<usize> {
    shape
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != axis)
        .map(|(_, n)| *n)
        .collect()
}

/// Reduces positions `range` of an in-memory array along `axis`.
pub(crate) fn reduce_range<'d>(
    data: &'d ArrayData,
    axis: usize,
    range: Range<usize>,
    op: Reduction,
) -> Result<ArrayData> {
    let out_shape = without(data.shape(), axis);
    let out_dtype = op.output_dtype(data.dtype())?;
    let cells: usize = out_shape.iter().product();
    let start = range.start;
    let read = move |r: Range<usize>, _: bool, visit: &mut Visit<'_, 'd>| -> Result<()> {
        visit(Piece::Borrowed(data), r.start + start..r.end + start);
        Ok(())
    };
    let plan = BlockPlan {
        len: range.len(),
        cells,
        axis,
        op,
        block_bytes: 0,
        piece_bytes: 0,
        fixed_bytes: 0,
    };
    let mut total = None;
    let all = 0..block_count(plan.len);
    reduce_blocks(&plan, all, None, &read, &mut |p| {
        Partial::merge_into(&mut total, p, op);
        Ok(())
    })?;
    let total = total.unwrap_or_else(|| Partial::new(cells, op));
    total.into_array(&out_shape, out_dtype)
}

/// A lazy reduction along the chunked axis of a lazy array: one chunk, computed by
/// streaming the input's chunks through block partials.
#[derive(Debug)]
pub(crate) struct ReduceAlongChunks {
    pub input: ChunkedArray,
    pub op: Reduction,
}

impl ReduceAlongChunks {
    /// The result's shape and element type, and the plan of its blocks.
    fn plan(&self) -> Result<(Vec<usize>, DType, BlockPlan)> {
        let input = &self.input;
        let axis = input.axis();
        let out_shape = without(input.shape(), axis);
        let out_dtype = self.op.output_dtype(input.dtype())?;
        let cells: usize = out_shape.iter().product();
        let len = input.shape().get(axis).copied().unwrap_or(1);
        let chunk_positions = input.chunks().iter().map(|c| c.len).max().unwrap_or(1);
        let elem = input.dtype().size() as u64;
        // A block holds its pieces (at most BLOCK positions), or one at a time, and
        // reading one decodes the whole chunk it comes from.
        let positions_bytes = |n: usize| {
            crate::base::bytes::of_shape(&[chunk_positions.saturating_add(n), cells], elem as usize)
        };
        let block_bytes = positions_bytes(BLOCK.min(len));
        let piece_bytes = positions_bytes(BLOCK.min(chunk_positions));
        let out_bytes = crate::base::bytes::of_shape(&[cells], out_dtype.size());
        let plan = BlockPlan {
            len,
            cells,
            axis,
            op: self.op,
            block_bytes,
            piece_bytes,
            fixed_bytes: out_bytes,
        };
        Ok((out_shape, out_dtype, plan))
    }

    /// Number of blocks: the independent pieces of work, in merge order.
    pub(crate) fn blocks(&self) -> usize {
        block_count(
            self.input
                .shape()
                .get(self.input.axis())
                .copied()
                .unwrap_or(1),
        )
    }

    /// Number of cells of one partial.
    pub(crate) fn cells(&self) -> usize {
        without(self.input.shape(), self.input.axis())
            .iter()
            .product()
    }

    /// Folds blocks `blocks` (on the current pool, within the budget) and hands their
    /// partials to `sink` in order.
    pub(crate) fn run_blocks(
        &self,
        blocks: Range<usize>,
        sink: &mut dyn FnMut(Partial) -> Result<()>,
    ) -> Result<()> {
        let (_, _, plan) = self.plan()?;
        let input = &self.input;
        let axis = input.axis();
        let offsets = input.offsets();
        // The whole reduction counts chunks, as before; a share of it (some of the
        // pieces of a plan) counts the positions it folds.
        let total = if blocks == (0..self.blocks()) {
            input.chunks().len()
        } else {
            let end = blocks.end.saturating_mul(BLOCK).min(plan.len);
            end.saturating_sub(blocks.start.saturating_mul(BLOCK))
        };
        let progress = Progress::new(self.op.name(), total);
        let read = |r: Range<usize>, parallel: bool, visit: &mut Visit<'_, '_>| -> Result<()> {
            // The chunks the block overlaps, and the positions of each it takes.
            let parts: Vec<(&Chunk, Range<usize>)> = input
                .chunks()
                .iter()
                .enumerate()
                .filter_map(|(i, c)| {
                    let (start, end) = (offsets[i], offsets[i + 1]);
                    let (lo, hi) = (r.start.max(start), r.end.min(end));
                    (lo < hi).then(|| (c, lo - start..hi - start))
                })
                .collect();
            let read_one = |(c, range): &(&Chunk, Range<usize>)| {
                engine::nested(|| c.source.read_part(axis, range.clone()))
            };
            if parallel && parts.len() > 1 {
                let read: Vec<Arc<ArrayData>> =
                    parts.par_iter().map(read_one).collect::<Result<_>>()?;
                for (part, (_, range)) in read.into_iter().zip(&parts) {
                    visit(Piece::Read(part), 0..range.len());
                }
            } else {
                for one in &parts {
                    visit(Piece::Read(read_one(one)?), 0..one.1.len());
                }
            }
            Ok(())
        };
        reduce_blocks(&plan, blocks, Some(&progress), &read, sink)?;
        progress.finish();
        Ok(())
    }

    /// The result from the partials of every block, merged left to right in block
    /// order onto `start` (the running total of the blocks before them, or none):
    /// the one merge every way of running the blocks goes through.
    pub(crate) fn merge(
        &self,
        start: Option<Partial>,
        partials: impl IntoIterator<Item = Result<Partial>>,
    ) -> Result<ArrayData> {
        let (out_shape, out_dtype, plan) = self.plan()?;
        let _held = engine::reserve(
            &format!("merging the {} partials", self.op.name()),
            Partial::bytes(plan.cells, self.op),
        )?;
        let mut total = start;
        for p in partials {
            Partial::merge_into(&mut total, p?, self.op);
        }
        let total = total.unwrap_or_else(|| Partial::new(plan.cells, self.op));
        total.into_array(&out_shape, out_dtype)
    }
}

impl ChunkSource for ReduceAlongChunks {
    fn read(&self) -> Result<Arc<ArrayData>> {
        let (out_shape, out_dtype, plan) = self.plan()?;
        // Merged as they come, in block order (as `merge` does), so only a wave of
        // partials is held at a time; the total is made once the budget has been
        // checked (the first block's partial has come).
        let mut total: Option<Partial> = None;
        self.run_blocks(0..self.blocks(), &mut |p| {
            Partial::merge_into(&mut total, p, self.op);
            Ok(())
        })?;
        let total = total.unwrap_or_else(|| Partial::new(plan.cells, self.op));
        Ok(Arc::new(total.into_array(&out_shape, out_dtype)?))
    }

    fn describe(&self) -> String {
        format!("{} of {} chunks", self.op.name(), self.input.chunks().len())
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// Reduces a lazy array along `axis`, lazily.
pub(crate) fn reduce_chunked(
    input: &ChunkedArray,
    axis: usize,
    op: Reduction,
) -> Result<ChunkedArray> {
    let out_shape = without(input.shape(), axis);
    let out_dtype = op.output_dtype(input.dtype())?;
    if axis == input.axis() {
        let len = out_shape.first().copied().unwrap_or(1);
        let chunk = Chunk {
            len,
            source: Arc::new(ReduceAlongChunks {
                input: input.clone(),
                op,
            }),
        };
        return ChunkedArray::new(out_dtype, out_shape, 0, vec![chunk]);
    }
    let new_axis = input.axis() - usize::from(axis < input.axis());
    input.map_chunks(out_shape, new_axis, 1, ChunkOp::Reduce { axis, op })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(values: &[f64]) -> Arc<ArrayData> {
        Arc::new(ArrayData::F64(
            ArrayD::from_shape_vec(IxDyn(&[values.len(), 1]), values.to_vec()).unwrap(),
        ))
    }

    fn reduce_array(data: &ArrayData, axis: usize, op: Reduction) -> Result<ArrayData> {
        reduce_range(data, axis, 0..data.shape()[axis], op)
    }

    fn one(data: &Arc<ArrayData>, op: Reduction) -> f64 {
        reduce_array(data, 0, op).unwrap().to_f64_vec()[0]
    }

    #[test]
    fn statistics_skip_nan_and_match_direct_formulas() {
        let v: Vec<f64> = (0..21)
            .map(|i| ((i * 37) % 11) as f64 * 0.7 - 1.0)
            .collect();
        let mut with_nan = v.clone();
        with_nan.insert(5, f64::NAN);
        with_nan.push(f64::NAN);
        let data = series(&with_nan);
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        assert!((one(&data, Reduction::Mean) - mean).abs() < 1e-12);
        assert!((one(&data, Reduction::Var { ddof: 0 }) - var).abs() < 1e-12);
        assert!(
            (one(&data, Reduction::Std { ddof: 1 }) - (var * n / (n - 1.0)).sqrt()).abs() < 1e-12
        );
        assert_eq!(one(&data, Reduction::Count), n);
        assert_eq!(
            one(&data, Reduction::Min),
            v.iter().cloned().fold(f64::INFINITY, f64::min)
        );
        assert_eq!(
            one(&data, Reduction::Max),
            v.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
        );
        assert!((one(&data, Reduction::Sum) - v.iter().sum::<f64>()).abs() < 1e-12);
    }

    #[test]
    fn all_nan_gives_nan_and_zero_sum() {
        let data = series(&[f64::NAN, f64::NAN]);
        assert!(one(&data, Reduction::Mean).is_nan());
        assert!(one(&data, Reduction::Std { ddof: 0 }).is_nan());
        assert!(one(&data, Reduction::Max).is_nan());
        assert_eq!(one(&data, Reduction::Sum), 0.0);
        assert_eq!(one(&data, Reduction::Count), 0.0);
        let single = series(&[2.0]);
        assert!(
            one(&single, Reduction::Var { ddof: 1 }).is_nan(),
            "ddof leaves no degree of freedom"
        );
    }

    #[test]
    fn lazy_chunks_and_threads_do_not_change_bits() {
        let v: Vec<f64> = (0..203).map(|i| ((i * 7919) % 1013) as f64 / 7.0).collect();
        let eager = series(&v);
        let expected = reduce_array(&eager, 0, Reduction::Std { ddof: 0 })
            .unwrap()
            .to_f64_vec()[0];
        // The same values as 203 one-position chunks, reduced lazily on 1 and 3 threads.
        let chunks: Vec<Chunk> = v
            .iter()
            .map(|x| Chunk {
                len: 1,
                source: Arc::new(super::super::sources::MemoryChunk(series(&[*x]))),
            })
            .collect();
        let lazy = ChunkedArray::new(DType::F64, vec![203, 1], 0, chunks).unwrap();
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let got = pool.install(|| {
                let r = reduce_chunked(&lazy, 0, Reduction::Std { ddof: 0 }).unwrap();
                r.chunks()[0].source.read().unwrap().to_f64_vec()[0]
            });
            assert_eq!(got.to_bits(), expected.to_bits(), "{threads} threads");
        }
    }

    #[test]
    fn each_cell_gets_the_bits_of_its_own_series_across_tiles_and_chunks() {
        // 2 x 21 positions x 2500 cells: more cells than a tile, not a multiple of it.
        let (outer, len, cells) = (2, 21, 2500);
        let values: Vec<f32> = (0..outer * len * cells)
            .map(|i| match (i * 7919) % 1013 {
                k if k % 17 == 0 => f32::NAN,
                k => k as f32 / 13.0 - 30.0,
            })
            .collect();
        let whole = Arc::new(ArrayData::F32(
            ArrayD::from_shape_vec(IxDyn(&[outer, len, cells]), values.clone()).unwrap(),
        ));
        // The same array lazily, in chunks of 3, 1, 9 and 8 positions along axis 1.
        let mut chunks = Vec::new();
        let mut start = 0;
        for n in [3, 1, 9, 8] {
            chunks.push(Chunk {
                len: n,
                source: Arc::new(super::super::sources::MemoryChunk(Arc::new(
                    whole.slice_axis(1, start..start + n),
                ))),
            });
            start += n;
        }
        let lazy = ChunkedArray::new(DType::F32, vec![outer, len, cells], 1, chunks).unwrap();
        for op in [
            Reduction::Mean,
            Reduction::Sum,
            Reduction::Std { ddof: 1 },
            Reduction::Min,
            Reduction::Count,
        ] {
            let eager = reduce_array(&whole, 1, op).unwrap().to_f64_vec();
            let streamed = reduce_chunked(&lazy, 1, op).unwrap().chunks()[0]
                .source
                .read()
                .unwrap()
                .to_f64_vec();
            for o in 0..outer {
                for c in [0, 1, 1023, 1024, 1500, 2047, 2048, cells - 1] {
                    let series: Vec<f32> = (0..len)
                        .map(|p| values[(o * len + p) * cells + c])
                        .collect();
                    let alone =
                        ArrayData::F32(ArrayD::from_shape_vec(IxDyn(&[len]), series).unwrap());
                    let expected = reduce_array(&alone, 0, op).unwrap().to_f64_vec()[0];
                    let i = o * cells + c;
                    assert_eq!(eager[i].to_bits(), expected.to_bits(), "{op:?} cell {i}");
                    assert_eq!(streamed[i].to_bits(), expected.to_bits(), "{op:?} cell {i}");
                }
            }
        }
    }

    #[test]
    fn float32_stays_float32_and_ints_widen() {
        let f = Arc::new(ArrayData::F32(
            ArrayD::from_shape_vec(IxDyn(&[2]), vec![1.0f32, 2.0]).unwrap(),
        ));
        assert_eq!(
            reduce_array(&f, 0, Reduction::Mean).unwrap().dtype(),
            DType::F32
        );
        let i = Arc::new(ArrayData::I16(
            ArrayD::from_shape_vec(IxDyn(&[2]), vec![1i16, 2]).unwrap(),
        ));
        assert_eq!(
            reduce_array(&i, 0, Reduction::Mean).unwrap().dtype(),
            DType::F64
        );
        assert_eq!(
            reduce_array(&i, 0, Reduction::Sum).unwrap().dtype(),
            DType::I64
        );
        assert_eq!(
            reduce_array(&i, 0, Reduction::Max).unwrap().dtype(),
            DType::I16
        );
    }
}
