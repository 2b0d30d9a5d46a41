//! `load` and `persist`: the doors from lazy to in-memory. Chunks are read (or
//! computed) in parallel on the client's pool and written straight into their place.

use std::sync::Arc;

use ndarray::{ArrayD, Axis};
use rayon::prelude::*;

use super::client::Client;
use super::engine;
use super::progress::Progress;
use super::sources::MemoryChunk;
use crate::error::{Error, Result};
use crate::model::{
    with_array, ArrayData, Chunk, ChunkedArray, DType, Data, DataArray, Dataset, Element, Variable,
    Window,
};

fn nbytes(lazy: &ChunkedArray) -> u64 {
    crate::base::bytes::of_shape(lazy.shape(), lazy.dtype().size())
}

/// Reads every chunk of a lazy array into one in-memory array.
pub(crate) fn materialize(lazy: &ChunkedArray, what: &str) -> Result<ArrayData> {
    let _held = engine::reserve(&format!("loading {what}"), nbytes(lazy))?;
    if let [only] = lazy.chunks() {
        // Untouched zeros cost no memory until written, so trying costs nothing.
        let mut out = ArrayData::zeros(lazy.dtype(), lazy.shape());
        if whole_straight(only, &mut out)? {
            return Ok(out);
        }
        return Ok(Arc::unwrap_or_clone(only.source.read()?));
    }
    let progress = Progress::new(format!("loading {what}"), lazy.chunks().len());
    let mut out = ArrayData::zeros(lazy.dtype(), lazy.shape());
    let (axis, chunks) = (lazy.axis(), lazy.chunks());
    macro_rules! fill_as {
        ($a:ident, $variant:ident) => {
            fill($a, lazy.dtype(), axis, chunks, &progress, |d| match d {
                ArrayData::$variant(x) => Some(x.view()),
                _ => None,
            })
        };
    }
    match &mut out {
        ArrayData::F32(a) => fill_as!(a, F32),
        ArrayData::F64(a) => fill_as!(a, F64),
        ArrayData::I8(a) => fill_as!(a, I8),
        ArrayData::U8(a) => fill_as!(a, U8),
        ArrayData::I16(a) => fill_as!(a, I16),
        ArrayData::U16(a) => fill_as!(a, U16),
        ArrayData::I32(a) => fill_as!(a, I32),
        ArrayData::U32(a) => fill_as!(a, U32),
        ArrayData::I64(a) => fill_as!(a, I64),
        ArrayData::U64(a) => fill_as!(a, U64),
        ArrayData::Time(a, c) => {
            let calendar = *c;
            fill(a, lazy.dtype(), axis, chunks, &progress, move |d| match d {
                ArrayData::Time(x, cal) if *cal == calendar => Some(x.view()),
                _ => None,
            })
        }
    }?;
    progress.finish();
    Ok(out)
}

fn fill<T: bytemuck::Pod + Send + Sync>(
    out: &mut ArrayD<T>,
    dtype: DType,
    axis: usize,
    chunks: &[Chunk],
    progress: &Progress,
    view: impl for<'a> Fn(&'a ArrayData) -> Option<ndarray::ArrayViewD<'a, T>> + Sync,
) -> Result<()> {
    let mut slots = Vec::with_capacity(chunks.len());
    let mut rest = out.view_mut();
    for chunk in chunks {
        let (head, tail) = rest.split_at(Axis(axis), chunk.len);
        slots.push(head);
        rest = tail;
    }
    let put = |slot: &mut ndarray::ArrayViewMutD<'_, T>, chunk: &Chunk| -> Result<()> {
        engine::nested(|| {
            if read_straight(chunk, dtype, slot)? {
                progress.tick(1);
                return Ok(());
            }
            let data = chunk.source.read()?;
            let values = view(&data).ok_or_else(|| {
                Error::invalid(
                    chunk.source.describe(),
                    "chunk has another element type than the array",
                )
            })?;
            if values.shape() != slot.shape() {
                return Err(Error::Shape {
                    what: chunk.source.describe(),
                    expected: slot.shape().to_vec(),
                    found: values.shape().to_vec(),
                });
            }
            slot.assign(&values);
            progress.tick(1);
            Ok(())
        })
    };
    // Chunks refused for memory while others were being computed beside them are
    // computed again one at a time, once the others are done.
    let refused: Vec<_> = slots
        .into_par_iter()
        .zip(chunks.par_iter())
        .filter_map(|(mut slot, chunk)| match put(&mut slot, chunk) {
            Ok(()) => None,
            Err(e @ Error::MemoryLimit { .. }) => Some(Err((slot, chunk, e))),
            Err(e) => Some(Ok(e)),
        })
        .collect();
    for failure in refused {
        match failure {
            Ok(other) => return Err(other),
            Err((mut slot, chunk, _)) => put(&mut slot, chunk)?,
        }
    }
    Ok(())
}

/// Lets a chunk's source write its values straight into their place in the output,
/// when it can (which saves a copy of the chunk); `Ok(false)` when it cannot.
fn read_straight<T: bytemuck::Pod>(
    chunk: &Chunk,
    dtype: DType,
    slot: &mut ndarray::ArrayViewMutD<'_, T>,
) -> Result<bool> {
    match slot.as_slice_mut() {
        Some(values) => {
            chunk
                .source
                .read_into(dtype, &Window::all(), bytemuck::cast_slice_mut(values))
        }
        None => Ok(false),
    }
}

/// `read_straight` for a chunk that is the whole array.
fn whole_straight(chunk: &Chunk, out: &mut ArrayData) -> Result<bool> {
    let dtype = out.dtype();
    with_array!(out, a => read_straight(chunk, dtype, &mut a.view_mut()))
}

/// Reads every chunk into memory, keeping the chunks.
fn persist_chunks(lazy: &ChunkedArray, what: &str) -> Result<ChunkedArray> {
    let _held = engine::reserve(&format!("persisting {what}"), nbytes(lazy))?;
    let progress = Progress::new(format!("persisting {what}"), lazy.chunks().len());
    let chunks = lazy
        .chunks()
        .par_iter()
        .map(|c| {
            engine::nested(|| {
                let data = c.source.read()?;
                progress.tick(1);
                Ok(Chunk {
                    len: c.len,
                    source: Arc::new(MemoryChunk(data)),
                })
            })
        })
        .collect::<Result<Vec<_>>>()?;
    progress.finish();
    ChunkedArray::new(lazy.dtype(), lazy.shape().to_vec(), lazy.axis(), chunks)
}

impl Variable {
    pub(crate) fn load_here(&self, what: &str) -> Result<Variable> {
        match self.data() {
            Data::InMemory(_) => Ok(self.clone()),
            Data::Lazy(lazy) => self.with_data(materialize(lazy, what)?),
        }
    }

    pub(crate) fn persist_here(&self, what: &str) -> Result<Variable> {
        match self.data() {
            Data::InMemory(_) => Ok(self.clone()),
            Data::Lazy(lazy) => self.with_data(Data::Lazy(persist_chunks(lazy, what)?)),
        }
    }

    /// The variable with its values in memory (a cheap clone when they already are),
    /// computed on all cores.
    ///
    /// ```
    /// use geoxr::{ArrayData, Variable};
    /// use geoxr::ndarray::ArrayD;
    /// let v = Variable::new(["x"], ArrayData::from(ArrayD::<f32>::zeros(vec![4])))?;
    /// assert!(!v.load()?.is_lazy());
    /// # Ok::<(), geoxr::Error>(())
    /// ```
    pub fn load(&self) -> Result<Variable> {
        Client::new().run(|| self.load_here("variable"))
    }
}

/// Things a [`Client`] can load or persist.
pub trait Computable: Sized + Send + Sync {
    /// Computes everything into memory (on the current pool and limit).
    fn load_here(&self) -> Result<Self>;
    /// Computes every chunk into memory, keeping the chunked structure.
    fn persist_here(&self) -> Result<Self>;
    /// Computes into memory on the ranks of an MPI client ([`Client::mpi`]).
    fn load_on_ranks(&self, client: &Client) -> Result<Self>;
}

impl Computable for DataArray {
    fn load_here(&self) -> Result<Self> {
        self.check()?;
        let what = self.name().unwrap_or("array").to_owned();
        Ok(self.with_variable(self.variable().load_here(&what)?))
    }

    fn persist_here(&self) -> Result<Self> {
        self.check()?;
        let what = self.name().unwrap_or("array").to_owned();
        Ok(self.with_variable(self.variable().persist_here(&what)?))
    }

    fn load_on_ranks(&self, client: &Client) -> Result<Self> {
        if !self.check()?.is_lazy() {
            return Ok(self.clone());
        }
        client.run_on_ranks(&self.plan())
    }
}

impl Computable for Dataset {
    fn load_here(&self) -> Result<Self> {
        let all = |vars: &[(String, Variable)]| -> Result<Vec<(String, Variable)>> {
            vars.iter()
                .map(|(n, v)| Ok((n.clone(), v.load_here(n)?)))
                .collect()
        };
        self.with_variables(all(self.coords())?, all(self.data_vars())?)
    }

    fn persist_here(&self) -> Result<Self> {
        let all = |vars: &[(String, Variable)]| -> Result<Vec<(String, Variable)>> {
            vars.iter()
                .map(|(n, v)| Ok((n.clone(), v.persist_here(n)?)))
                .collect()
        };
        self.with_variables(all(self.coords())?, all(self.data_vars())?)
    }

    /// Each lazy data variable is one MPI job; coordinates are computed here.
    fn load_on_ranks(&self, client: &Client) -> Result<Self> {
        let coords = self
            .coords()
            .iter()
            .map(|(n, v)| Ok((n.clone(), v.load_here(n)?)))
            .collect::<Result<Vec<_>>>()?;
        let data = self
            .data_vars()
            .iter()
            .map(|(n, v)| {
                if !v.is_lazy() {
                    return Ok((n.clone(), v.clone()));
                }
                let loaded = self.get(n).load_on_ranks(client)?;
                Ok((n.clone(), loaded.variable().clone()))
            })
            .collect::<Result<Vec<_>>>()?;
        self.with_variables(coords, data)
    }
}

impl Client {
    /// Computes `x` into memory on this client (dask's `client.compute(x).result()`);
    /// on an MPI client, on its ranks.
    pub fn load<T: Computable>(&self, x: &T) -> Result<T> {
        if self.is_mpi() {
            return x.load_on_ranks(self);
        }
        self.run(|| x.load_here())
    }

    /// Same as [`Client::load`].
    pub fn compute<T: Computable>(&self, x: &T) -> Result<T> {
        self.load(x)
    }

    /// Computes every chunk of `x` and keeps them in memory, still chunked, so later
    /// computations start from memory instead of files (dask's `client.persist`).
    ///
    /// On an MPI client the ranks compute `x` and its values come back here in
    /// memory, as with [`Client::load`] (re-chunk with `chunk` for streaming).
    pub fn persist<T: Computable>(&self, x: &T) -> Result<T> {
        if self.is_mpi() {
            return x.load_on_ranks(self);
        }
        self.run(|| x.persist_here())
    }
}

impl DataArray {
    /// Reads (or computes) the values into memory on all cores: the single door from
    /// lazy to eager, xarray's `.load()` / `.compute()`. Use [`Client::load`] for a
    /// sized pool and a memory limit.
    pub fn load(&self) -> Result<DataArray> {
        Client::new().load(self)
    }

    /// Same as [`DataArray::load`].
    pub fn compute(&self) -> Result<DataArray> {
        self.load()
    }

    /// Computes every chunk into memory, keeping the chunks (dask's `persist`).
    pub fn persist(&self) -> Result<DataArray> {
        Client::new().persist(self)
    }

    /// The values as an `ndarray` of element type `T`, loading them if needed.
    ///
    /// ```no_run
    /// # let ds = geoxr::open_mfdataset("data/IMERG/*.nc4")?;
    /// let rain = ds.get("HQprecipitation").to_ndarray::<f32>()?;
    /// # Ok::<(), geoxr::Error>(())
    /// ```
    pub fn to_ndarray<T: Element>(&self) -> Result<ArrayD<T>> {
        let loaded = self.load()?;
        let values = loaded
            .values()
            .ok_or_else(|| Error::invalid("load", "values not in memory"))?;
        T::array(values).cloned().ok_or_else(|| {
            Error::invalid(
                format!("`{}`", self.name().unwrap_or("array")),
                format!("holds {} values, not {}", values.dtype(), T::DTYPE),
            )
        })
    }
}

impl Dataset {
    /// Every variable in memory, computed on all cores.
    pub fn load(&self) -> Result<Dataset> {
        Client::new().load(self)
    }

    /// Every lazy variable computed chunk by chunk into memory.
    pub fn persist(&self) -> Result<Dataset> {
        Client::new().persist(self)
    }
}
