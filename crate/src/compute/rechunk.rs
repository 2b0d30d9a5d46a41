//! `chunk`: splitting an array into chunks along one dimension (dask's `chunk`).
//! In-memory arrays become lazy arrays over in-memory pieces; lazy arrays chunked
//! along the same dimension are regrouped without reading anything.

use std::sync::Arc;

use super::sources::MemoryChunk;
use crate::error::{Error, Result};
use crate::model::{ArrayData, Chunk, ChunkSource, ChunkedArray, Data, DataArray, Variable};

/// Pieces of other chunks joined along the chunked axis.
#[derive(Debug)]
pub(crate) struct Joined {
    pub pieces: Vec<Arc<dyn ChunkSource>>,
    pub axis: usize,
}

impl ChunkSource for Joined {
    fn read(&self) -> Result<Arc<ArrayData>> {
        let parts = self
            .pieces
            .iter()
            .map(|p| p.read())
            .collect::<Result<Vec<_>>>()?;
        let refs: Vec<&ArrayData> = parts.iter().map(|p| p.as_ref()).collect();
        Ok(Arc::new(ArrayData::concat(&refs, self.axis)?))
    }

    fn in_memory(&self) -> bool {
        self.pieces.iter().all(|p| p.in_memory())
    }

    fn describe(&self) -> String {
        self.pieces
            .first()
            .map(|p| p.describe())
            .unwrap_or_default()
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

impl Variable {
    fn rechunk(&self, dim: &str, size: usize) -> Result<Variable> {
        let axis = self.axis_of(dim)?;
        if size == 0 {
            return Err(Error::invalid(
                format!("chunks of `{dim}`"),
                "the chunk size must be at least 1",
            ));
        }
        let lazy = match self.data() {
            Data::InMemory(a) => ChunkedArray::from_memory(a.clone(), axis)?,
            Data::Lazy(lazy) if lazy.axis() == axis => lazy.clone(),
            Data::Lazy(_) => {
                return Err(Error::invalid(
                    format!("chunking along `{dim}`"),
                    "the data are chunked along another dimension; load or persist first",
                ))
            }
        };
        let len = self.shape()[axis];
        let mut chunks = Vec::new();
        for start in (0..len).step_by(size) {
            let end = (start + size).min(len);
            let part = lazy.slice_chunked_axis(start..end)?;
            let source: Arc<dyn ChunkSource> = match part.chunks() {
                [only] if only.source.in_memory() && !matches!(self.data(), Data::Lazy(_)) => {
                    Arc::new(MemoryChunk(only.source.read()?))
                }
                [only] => only.source.clone(),
                many => Arc::new(Joined {
                    pieces: many.iter().map(|c| c.source.clone()).collect(),
                    axis,
                }),
            };
            chunks.push(Chunk {
                len: end - start,
                source,
            });
        }
        let data = ChunkedArray::new(self.dtype(), self.shape().to_vec(), axis, chunks)?;
        self.with_data(Data::Lazy(data))
    }
}

impl DataArray {
    /// Splits the array into chunks of `size` positions along `dim`, making it lazy
    /// (dask's `.chunk({dim: size})`).
    ///
    /// ```
    /// use geoxr::{ArrayData, DataArray, Variable};
    /// use geoxr::ndarray::ArrayD;
    /// let v = Variable::new(["time"], ArrayData::from(ArrayD::<f32>::zeros(vec![10])))?;
    /// let da = DataArray::new(None, v, vec![])?.chunk("time", 4);
    /// assert!(da.is_lazy());
    /// # Ok::<(), geoxr::Error>(())
    /// ```
    pub fn chunk(&self, dim: &str, size: usize) -> DataArray {
        self.step(
            || format!("chunk({dim}, {size})"),
            |a| Ok(a.with_variable(a.variable().rechunk(dim, size)?)),
        )
    }
}
