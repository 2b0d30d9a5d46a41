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
use crate::model::{with_array, ArrayData, Chunk, ChunkSource, ChunkedArray, DType, NAT};

/// Positions folded sequentially into one partial.
pub(crate) const BLOCK: usize = 8;

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
        let alloc = |needed: bool, value: f64| {
            if needed {
                vec![value; cells]
            } else {
                Vec::new()
            }
        };
        Partial {
            count: vec![0.0; cells],
            sum: alloc(op.needs_sum(), 0.0),
            mean: alloc(op.needs_moments(), 0.0),
            m2: alloc(op.needs_moments(), 0.0),
            min: alloc(op.needs_extremes(), f64::INFINITY),
            max: alloc(op.needs_extremes(), f64::NEG_INFINITY),
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

    /// Adds positions `range` of `part` along `axis`, in order. The array is read
    /// as (outer, positions, inner) in C order, so every run of `inner` values is
    /// contiguous whichever axis is reduced.
    #[allow(clippy::unnecessary_cast)]
    fn fold(&mut self, part: &ArrayData, axis: usize, range: Range<usize>) {
        let shape = part.shape();
        let len = shape[axis];
        let inner: usize = shape[axis + 1..].iter().product();
        let outer: usize = shape[..axis].iter().product();
        let is_time = matches!(part, ArrayData::Time(..));
        with_array!(part, a => {
            // Logical (C) order, copied only when the array is laid out otherwise.
            let copied: Vec<_>;
            let values = match a.as_slice() {
                Some(v) => v,
                None => {
                    copied = a.iter().copied().collect();
                    &copied
                }
            };
            for o in 0..outer {
                for p in range.clone() {
                    let start = (o * len + p) * inner;
                    let run = &values[start..start + inner];
                    // A missing time (NaT) is skipped like NaN.
                    self.push_run(o * inner, run.iter().map(|v| match *v as f64 {
                        x if is_time && x == NAT as f64 => f64::NAN,
                        x => x,
                    }));
                }
            }
        })
    }

    /// Adds one value to each of the cells from `first` on, in cell order.
    fn push_run(&mut self, first: usize, values: impl Iterator<Item = f64>) {
        let (sum, moments, extremes) = (
            !self.sum.is_empty(),
            !self.mean.is_empty(),
            !self.min.is_empty(),
        );
        for (k, x) in values.enumerate() {
            let i = first + k;
            if x.is_nan() {
                continue;
            }
            let n = self.count[i] + 1.0;
            self.count[i] = n;
            if sum {
                self.sum[i] += x;
            }
            if moments {
                let delta = x - self.mean[i];
                self.mean[i] += delta / n;
                self.m2[i] += delta * (x - self.mean[i]);
            }
            if extremes {
                self.min[i] = self.min[i].min(x);
                self.max[i] = self.max[i].max(x);
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

    /// The result values, in `f64`.
    fn finish(&self, op: Reduction) -> Vec<f64> {
        (0..self.count.len())
            .map(|i| {
                let n = self.count[i];
                match op {
                    Reduction::Count => n,
                    Reduction::Sum => self.sum[i],
                    _ if n == 0.0 => f64::NAN,
                    Reduction::Mean => self.sum[i] / n,
                    Reduction::Min => self.min[i],
                    Reduction::Max => self.max[i],
                    Reduction::Var { ddof } | Reduction::Std { ddof } => {
                        let dof = n - ddof as f64;
                        let var = if dof > 0.0 {
                            self.m2[i] / dof
                        } else {
                            f64::NAN
                        };
                        if matches!(op, Reduction::Std { .. }) {
                            var.sqrt()
                        } else {
                            var
                        }
                    }
                }
            })
            .collect()
    }
}

/// Takes the values of some positions of a block: an array and the positions of it
/// to use.
type Visit<'v> = dyn FnMut(&ArrayData, Range<usize>) + 'v;

/// Hands the pieces of a block (positions `range`), in order, to a visitor, reading
/// each only when the previous one has been folded.
type ReadBlock<'a> = dyn Fn(Range<usize>, &mut Visit<'_>) -> Result<()> + Sync + 'a;

/// The shape of a blocked reduction: how many positions and output cells, along
/// which axis, and the bytes a block reads and the bytes held throughout.
struct BlockPlan {
    len: usize,
    cells: usize,
    axis: usize,
    op: Reduction,
    block_bytes: u64,
    fixed_bytes: u64,
}

/// Folds the blocks `blocks` of positions `0..len` (block `i` holds positions
/// `i * BLOCK ..`): `read(range, visit)` hands over the values of a block (one or
/// more pieces along `axis`, in order), one piece in memory at a time. Blocks run in
/// parallel waves as wide as the pool and the memory limit allow, and go to `sink`
/// in order, so what the sink makes of them never depends on the width.
fn reduce_blocks(
    plan: &BlockPlan,
    blocks: Range<usize>,
    progress: Option<&Progress>,
    read: &ReadBlock<'_>,
    sink: &mut dyn FnMut(Partial) -> Result<()>,
) -> Result<()> {
    let BlockPlan {
        len,
        cells,
        axis,
        op,
        block_bytes,
        fixed_bytes,
    } = *plan;
    let per_block = Partial::bytes(cells, op).saturating_add(block_bytes);
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
    let fold_block = |range: &Range<usize>| -> Result<Partial> {
        engine::nested(|| {
            let mut partial = Partial::new(cells, op);
            read(range.clone(), &mut |data, positions| {
                partial.fold(data, axis, positions);
            })?;
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
pub(crate) fn reduce_range(
    data: &ArrayData,
    axis: usize,
    range: Range<usize>,
    op: Reduction,
) -> Result<ArrayData> {
    let out_shape = without(data.shape(), axis);
    let out_dtype = op.output_dtype(data.dtype())?;
    let cells: usize = out_shape.iter().product();
    let start = range.start;
    let read = |r: Range<usize>, visit: &mut Visit<'_>| -> Result<()> {
        visit(data, r.start + start..r.end + start);
        Ok(())
    };
    let plan = BlockPlan {
        len: range.len(),
        cells,
        axis,
        op,
        block_bytes: 0,
        fixed_bytes: 0,
    };
    let mut total = Partial::new(cells, op);
    let all = 0..block_count(plan.len);
    reduce_blocks(&plan, all, None, &read, &mut |p| {
        total.merge(&p);
        Ok(())
    })?;
    to_array(total.finish(op), &out_shape, out_dtype)
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
        // A block holds one piece at a time (at most BLOCK positions), and reading it
        // decodes the whole chunk it comes from.
        let block_bytes = crate::base::bytes::of_shape(
            &[
                chunk_positions.saturating_add(BLOCK.min(chunk_positions)),
                cells,
            ],
            elem as usize,
        );
        let out_bytes = crate::base::bytes::of_shape(&[cells], out_dtype.size());
        let plan = BlockPlan {
            len,
            cells,
            axis,
            op: self.op,
            block_bytes,
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
        let read = |r: Range<usize>, visit: &mut Visit<'_>| -> Result<()> {
            for (i, c) in input.chunks().iter().enumerate() {
                let (start, end) = (offsets[i], offsets[i + 1]);
                let (lo, hi) = (r.start.max(start), r.end.min(end));
                if lo < hi {
                    let part = c.source.read_part(axis, lo - start..hi - start)?;
                    visit(&part, 0..hi - lo);
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
        let (_, _, plan) = self.plan()?;
        let _held = engine::reserve(
            &format!("merging the {} partials", self.op.name()),
            Partial::bytes(plan.cells, self.op),
        )?;
        let mut total = start.unwrap_or_else(|| Partial::new(plan.cells, self.op));
        for p in partials {
            total.merge(&p?);
        }
        self.result(&total)
    }

    /// The result from the merged partial of all blocks.
    pub(crate) fn result(&self, total: &Partial) -> Result<ArrayData> {
        let (out_shape, out_dtype, _) = self.plan()?;
        to_array(total.finish(self.op), &out_shape, out_dtype)
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
            total
                .get_or_insert_with(|| Partial::new(plan.cells, self.op))
                .merge(&p);
            Ok(())
        })?;
        let total = total.unwrap_or_else(|| Partial::new(plan.cells, self.op));
        Ok(Arc::new(to_array(
            total.finish(self.op),
            &out_shape,
            out_dtype,
        )?))
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
