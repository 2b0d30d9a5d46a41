//! `load`: the door from lazy to in-memory. Chunks are read in parallel on rayon
//! and written straight into their place in one output array.

use ndarray::{ArrayD, Axis};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::model::{ArrayData, Chunk, ChunkedArray, DataArray, Dataset, Element, Variable};

/// Reads every chunk of a lazy array into one in-memory array.
pub(crate) fn materialize(lazy: &ChunkedArray) -> Result<ArrayData> {
    let mut out = ArrayData::zeros(lazy.dtype(), lazy.shape());
    let (axis, chunks) = (lazy.axis(), lazy.chunks());
    macro_rules! fill_as {
        ($a:ident, $variant:ident) => {
            fill($a, axis, chunks, |d| match d {
                ArrayData::$variant(x) => Some(x),
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
            fill(a, axis, chunks, move |d| match d {
                ArrayData::Time(x, cal) if cal == calendar => Some(x),
                _ => None,
            })
        }
    }?;
    Ok(out)
}

fn fill<T: Copy + Send + Sync>(
    out: &mut ArrayD<T>,
    axis: usize,
    chunks: &[Chunk],
    extract: impl Fn(ArrayData) -> Option<ArrayD<T>> + Sync,
) -> Result<()> {
    if out.ndim() == 0 {
        if let Some(chunk) = chunks.first() {
            let values = extract(chunk.source.read()?).ok_or_else(|| type_error(chunk))?;
            out.assign(&values);
        }
        return Ok(());
    }
    let mut slots = Vec::with_capacity(chunks.len());
    let mut rest = out.view_mut();
    for chunk in chunks {
        let (head, tail) = rest.split_at(Axis(axis), chunk.len);
        slots.push(head);
        rest = tail;
    }
    slots
        .into_par_iter()
        .zip(chunks.par_iter())
        .try_for_each(|(mut slot, chunk)| {
            let values = extract(chunk.source.read()?).ok_or_else(|| type_error(chunk))?;
            if values.shape() != slot.shape() {
                return Err(Error::Shape {
                    what: chunk.source.describe(),
                    expected: slot.shape().to_vec(),
                    found: values.shape().to_vec(),
                });
            }
            slot.assign(&values);
            Ok(())
        })
}

fn type_error(chunk: &Chunk) -> Error {
    Error::invalid(
        chunk.source.describe(),
        "chunk has a different element type than expected",
    )
}

impl Variable {
    /// The variable with its values in memory (a cheap clone when they already are).
    ///
    /// ```
    /// use geoxr::{ArrayData, Variable};
    /// use geoxr::ndarray::ArrayD;
    /// let v = Variable::new(["x"], ArrayData::from(ArrayD::<f32>::zeros(vec![4])))?;
    /// assert!(!v.load()?.is_lazy());
    /// # Ok::<(), geoxr::Error>(())
    /// ```
    pub fn load(&self) -> Result<Variable> {
        match self.data() {
            crate::model::Data::InMemory(_) => Ok(self.clone()),
            crate::model::Data::Lazy(lazy) => self.with_data(materialize(lazy)?),
        }
    }
}

impl DataArray {
    /// Reads (or computes) the values into memory: the single door from lazy to
    /// eager, xarray's `.load()` / `.compute()`.
    pub fn load(&self) -> Result<DataArray> {
        Ok(self.with_variable(self.variable().load()?))
    }

    /// The values as an `ndarray` of element type `T`, loading them if needed.
    ///
    /// ```no_run
    /// # let ds = geoxr::open_mfdataset("data/IMERG/*.nc4")?;
    /// let rain = ds.get("HQprecipitation")?.to_ndarray::<f32>()?;
    /// # Ok::<(), geoxr::Error>(())
    /// ```
    pub fn to_ndarray<T: Element>(&self) -> Result<ArrayD<T>> {
        let loaded = self.variable().load()?;
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
    /// Every variable in memory.
    pub fn load(&self) -> Result<Dataset> {
        let load_all = |vars: &[(String, Variable)]| -> Result<Vec<(String, Variable)>> {
            vars.iter()
                .map(|(n, v)| Ok((n.clone(), v.load()?)))
                .collect()
        };
        Dataset::new(
            load_all(self.coords())?,
            load_all(self.data_vars())?,
            self.attrs().clone(),
        )
    }
}
