//! Chunk sources that the compute layer builds plans from: chunks kept in memory,
//! parts of other chunks, and operations (`ops::ChunkOp`) on other chunks.

use std::any::Any;
use std::ops::Range;
use std::sync::Arc;

use super::ops::ChunkOp;
use crate::error::Result;
use crate::model::{ArrayData, Chunk, ChunkSource, ChunkedArray, DType, Data, Window};

/// A chunk whose values are in memory.
#[derive(Debug)]
pub(crate) struct MemoryChunk(pub Arc<ArrayData>);

impl ChunkSource for MemoryChunk {
    fn read(&self) -> Result<Arc<ArrayData>> {
        Ok(self.0.clone())
    }

    fn read_part(&self, axis: usize, range: Range<usize>) -> Result<Arc<ArrayData>> {
        if range.start == 0 && Some(&range.end) == self.0.shape().get(axis) {
            return Ok(self.0.clone());
        }
        Ok(Arc::new(self.0.slice_axis(axis, range)))
    }

    fn in_memory(&self) -> bool {
        true
    }

    fn describe(&self) -> String {
        "memory".into()
    }

    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }
}

/// Positions `range` of another chunk along the chunked axis.
#[derive(Debug)]
pub(crate) struct PartOf {
    pub source: Arc<dyn ChunkSource>,
    pub axis: usize,
    pub range: Range<usize>,
}

impl ChunkSource for PartOf {
    fn read(&self) -> Result<Arc<ArrayData>> {
        self.source.read_part(self.axis, self.range.clone())
    }

    fn read_part(&self, axis: usize, range: Range<usize>) -> Result<Arc<ArrayData>> {
        let start = self.range.start + range.start;
        self.source.read_part(axis, start..start + range.len())
    }

    fn read_into(&self, dtype: DType, window: &Window, out: &mut [u8]) -> Result<bool> {
        match window.slice(self.axis, self.range.clone()) {
            Some(inner) => self.source.read_into(dtype, &inner, out),
            None => Ok(false),
        }
    }

    fn in_memory(&self) -> bool {
        self.source.in_memory()
    }

    fn describe(&self) -> String {
        self.source.describe()
    }

    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }
}

/// An operation applied to another chunk when it is read.
#[derive(Debug)]
pub(crate) struct Mapped {
    pub source: Arc<dyn ChunkSource>,
    pub op: ChunkOp,
    /// Bytes held while mapping: the chunk read and the chunk made from it.
    pub bytes: u64,
}

impl ChunkSource for Mapped {
    fn read(&self) -> Result<Arc<ArrayData>> {
        let _held = super::engine::reserve(
            &format!("a chunk of {}", self.source.describe()),
            self.bytes,
        )?;
        Ok(Arc::new(self.op.apply(&*self.source.read()?)?))
    }

    /// Selections, transposes and merges of axes become a window of the source, so
    /// the source writes the result's bytes itself (no chunk read whole, no copy).
    fn read_into(&self, dtype: DType, window: &Window, out: &mut [u8]) -> Result<bool> {
        let inner = match &self.op {
            ChunkOp::Slice { axis, range } => window.slice(*axis, range.clone()),
            ChunkOp::Permute { order } => window.permute(order),
            // The same bytes in the same order, under another shape.
            ChunkOp::Merge { .. } | ChunkOp::Reshape { .. } if window.is_all() => {
                Some(Window::all())
            }
            _ => None,
        };
        match inner {
            Some(inner) => self.source.read_into(dtype, &inner, out),
            None => Ok(false),
        }
    }

    fn describe(&self) -> String {
        self.source.describe()
    }

    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }
}

impl ChunkedArray {
    /// One in-memory chunk covering the whole array, split along `axis`.
    pub(crate) fn from_memory(data: Arc<ArrayData>, axis: usize) -> Result<ChunkedArray> {
        let shape = data.shape().to_vec();
        let len = shape.get(axis).copied().unwrap_or(1);
        let dtype = data.dtype();
        let chunk = Chunk {
            len,
            source: Arc::new(MemoryChunk(data)),
        };
        ChunkedArray::new(dtype, shape, axis, vec![chunk])
    }

    /// Applies `op` to every chunk when it is read. `op` must keep the chunked axis
    /// (now `new_axis`), scaling its length by `len_factor` (1 unless axes are merged
    /// into it); `shape` is the whole result's shape.
    pub(crate) fn map_chunks(
        &self,
        shape: Vec<usize>,
        new_axis: usize,
        len_factor: usize,
        op: ChunkOp,
    ) -> Result<ChunkedArray> {
        let dtype = op.out_dtype(self.dtype())?;
        // Chunks already in memory (persisted) are mapped now, so they stay in memory.
        let eager = self.is_persisted();
        let chunks = self
            .chunks()
            .iter()
            .map(|c| {
                let source: Arc<dyn ChunkSource> = if eager {
                    Arc::new(MemoryChunk(Arc::new(op.apply(&*c.source.read()?)?)))
                } else {
                    Arc::new(Mapped {
                        source: c.source.clone(),
                        op: op.clone(),
                        bytes: chunk_bytes(self.shape(), self.axis(), c.len, self.dtype())
                            .saturating_add(chunk_bytes(
                                &shape,
                                new_axis,
                                c.len.saturating_mul(len_factor),
                                dtype,
                            )),
                    })
                };
                Ok(Chunk {
                    len: c.len * len_factor,
                    source,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        ChunkedArray::new(dtype, shape, new_axis, chunks)
    }

    /// Applies `op` to the whole array (which must be one chunk) when it is read; the
    /// result is one chunk of `shape`.
    pub(crate) fn map_whole(&self, shape: Vec<usize>, op: ChunkOp) -> Result<ChunkedArray> {
        let dtype = op.out_dtype(self.dtype())?;
        let source: Arc<dyn ChunkSource> = match self.chunks() {
            [only] => only.source.clone(),
            _ => return Err(crate::Error::invalid("map_whole", "expects a single chunk")),
        };
        let len = shape.first().copied().unwrap_or(1);
        let bytes = crate::base::bytes::of_shape(self.shape(), self.dtype().size())
            .saturating_add(crate::base::bytes::of_shape(&shape, dtype.size()));
        let chunk = Chunk {
            len,
            source: Arc::new(Mapped { source, op, bytes }),
        };
        ChunkedArray::new(dtype, shape, 0, vec![chunk])
    }

    /// Positions `range` along the chunked axis, as chunks (parts of chunks at the
    /// ends).
    pub(crate) fn slice_chunked_axis(&self, range: Range<usize>) -> Result<ChunkedArray> {
        let offsets = self.offsets();
        let mut chunks = Vec::new();
        for (i, c) in self.chunks().iter().enumerate() {
            let (start, end) = (offsets[i], offsets[i + 1]);
            let lo = range.start.max(start);
            let hi = range.end.min(end);
            if lo >= hi {
                continue;
            }
            let source: Arc<dyn ChunkSource> = if lo == start && hi == end {
                c.source.clone()
            } else {
                Arc::new(PartOf {
                    source: c.source.clone(),
                    axis: self.axis(),
                    range: lo - start..hi - start,
                })
            };
            chunks.push(Chunk {
                len: hi - lo,
                source,
            });
        }
        let mut shape = self.shape().to_vec();
        shape[self.axis()] = range.len();
        ChunkedArray::new(self.dtype(), shape, self.axis(), chunks)
    }
}

impl Data {
    /// `op` on the values, written once for both kinds: applied now to values in
    /// memory, and to each chunk when it is read for lazy values. `chunk_axis` says,
    /// for lazy values, where the chunked axis goes and by what its length is scaled
    /// (or why the op cannot be done chunk by chunk); `shape` is the result's.
    pub(crate) fn map(
        &self,
        op: ChunkOp,
        shape: Vec<usize>,
        chunk_axis: impl FnOnce(&ChunkedArray) -> Result<(usize, usize)>,
    ) -> Result<Data> {
        match self {
            Data::InMemory(a) => Ok(Data::from(op.apply(a)?)),
            Data::Lazy(lazy) => {
                let (axis, factor) = chunk_axis(lazy)?;
                Ok(Data::Lazy(lazy.map_chunks(shape, axis, factor, op)?))
            }
        }
    }
}

impl Data {
    /// Runs the lazy form of an operation, `lazy_op`, on these values, so the
    /// operation is written once for both kinds. Values in memory are first made one
    /// in-memory chunk split along `axis` (pick one the operation does not work
    /// along, so the chunk is mapped at once), and the result is loaded straight
    /// away; lazy values give a lazy result.
    pub(crate) fn through_chunks(
        &self,
        axis: usize,
        lazy_op: impl FnOnce(&ChunkedArray) -> Result<ChunkedArray>,
    ) -> Result<Data> {
        match self {
            Data::Lazy(lazy) => Ok(Data::Lazy(lazy_op(lazy)?)),
            Data::InMemory(a) => {
                let out = lazy_op(&ChunkedArray::from_memory(a.clone(), axis)?)?;
                match out.chunks() {
                    // One chunk covers the whole result: read it, keeping its buffer.
                    [only] => Ok(Data::InMemory(only.source.read()?)),
                    _ => Ok(Data::from(super::load::materialize(&out, "values")?)),
                }
            }
        }
    }
}

/// The axis to split values in memory along for [`Data::through_chunks`]: the
/// first of `ndim` axes not in `busy`, or 0 when every axis is.
pub(crate) fn free_axis(ndim: usize, busy: &[usize]) -> usize {
    (0..ndim).find(|i| !busy.contains(i)).unwrap_or(0)
}

/// For [`Data::map`]: the chunked axis stays where it is, with its length.
pub(crate) fn same_axis(lazy: &ChunkedArray) -> Result<(usize, usize)> {
    Ok((lazy.axis(), 1))
}

/// Bytes of one chunk: `shape` with `len` positions along `axis`.
fn chunk_bytes(shape: &[usize], axis: usize, len: usize, dtype: DType) -> u64 {
    let mut shape = shape.to_vec();
    if let Some(n) = shape.get_mut(axis) {
        *n = len;
    }
    crate::base::bytes::of_shape(&shape, dtype.size())
}
