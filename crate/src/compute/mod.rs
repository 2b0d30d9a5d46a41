//! Lazy, chunked computation: chunk sources that build plans, mergeable reductions,
//! `load`/`persist`, and the `Client` that sizes the thread pool and memory.
//! See `README.md` beside this file for how the pieces fit and what the memory
//! budget promises.

mod client;
pub(crate) mod engine;
mod load;
pub mod mpi;
pub(crate) mod ops;
pub mod plan;
mod progress;
mod rechunk;
pub(crate) mod reduce;
pub(crate) mod sources;

pub use client::{parse_bytes, Client};
pub use load::Computable;
pub use plan::Plan;
pub use reduce::Reduction;

#[cfg(test)]
mod tests;
