//! Analysis on the data model: selection, reshaping, reductions and resampling, lazy
//! or in memory with the same numbers either way.

mod arith;
mod compare;
mod dims;
mod reduce;
mod resample;
mod reshape;
mod select;

pub use arith::BinaryOp;
pub use dims::IntoDims;
pub use resample::Resample;
pub use select::{IntoSelection, Label, Pos, Selector};

#[cfg(test)]
mod tests;
