//! A stand-in for the serialisable plan while it is being written elsewhere: the
//! sum of one variable in each of a list of files, one file per piece. It has the
//! plan's shape (text form, pieces, per-piece results as bytes, a finishing merge)
//! so the launcher, the gather and the failure handling run for real on OpenMPI.
//! It goes when the plan lands.

use std::ops::Range;

use crate::error::{Error, Result};
use crate::model::{ArrayData, DataArray, Variable};

const HEADER: &str = "geoxr-standin 1";

/// Sums of `variable` in each of `files`.
#[derive(Clone, Debug, PartialEq)]
pub struct StandIn {
    /// The variable summed.
    pub variable: String,
    /// One file per piece.
    pub files: Vec<String>,
}

impl StandIn {
    /// The job as text (one line per file).
    pub fn to_json(&self) -> Result<String> {
        let mut text = format!("{HEADER}\nvariable {}\n", self.variable);
        for f in &self.files {
            text.push_str(&format!("file {f}\n"));
        }
        Ok(text)
    }

    /// Reads [`StandIn::to_json`]'s text.
    pub fn from_json(text: &str) -> Result<StandIn> {
        let bad = |why: &str| Error::invalid("stand-in job", why.to_owned());
        let mut lines = text.lines();
        if lines.next() != Some(HEADER) {
            return Err(bad("does not start with its header"));
        }
        let variable = lines
            .next()
            .and_then(|l| l.strip_prefix("variable "))
            .ok_or_else(|| bad("lacks its variable line"))?
            .to_owned();
        let files = lines
            .map(|l| {
                l.strip_prefix("file ")
                    .map(str::to_owned)
                    .ok_or_else(|| bad("has a line that is not a file"))
            })
            .collect::<Result<_>>()?;
        Ok(StandIn { variable, files })
    }

    /// Always shippable.
    pub fn shippable(&self) -> Result<()> {
        Ok(())
    }

    /// One piece per file.
    pub fn pieces(&self) -> usize {
        self.files.len()
    }

    /// The sums of pieces `range`, eight little-endian bytes each.
    pub fn run_pieces(&self, range: Range<usize>) -> Result<Vec<u8>> {
        let files = self
            .files
            .get(range.clone())
            .ok_or_else(|| Error::invalid("stand-in job", format!("has no pieces {range:?}")))?;
        let mut out = Vec::new();
        for f in files {
            let values = crate::open_dataset(f)?
                .get(&self.variable)?
                .to_ndarray::<f32>()?;
            let sum: f64 = values.iter().map(|&v| f64::from(v)).sum();
            out.extend_from_slice(&sum.to_le_bytes());
        }
        Ok(out)
    }

    /// The sums of every file, from the parts of consecutive ranges.
    pub fn finish(&self, parts: &[Vec<u8>]) -> Result<DataArray> {
        let bytes: Vec<u8> = parts.concat();
        if bytes.len() != 8 * self.files.len() {
            return Err(Error::invalid(
                "stand-in job",
                "parts do not cover every file",
            ));
        }
        let sums: Vec<f64> = bytes
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap_or_default()))
            .collect();
        let n = sums.len();
        let array = ndarray::ArrayD::from_shape_vec(vec![n], sums)
            .map_err(|e| Error::invalid("stand-in job", e.to_string()))?;
        DataArray::new(
            Some("sums"),
            Variable::new(["file"], ArrayData::from(array))?,
            vec![],
        )
    }
}
