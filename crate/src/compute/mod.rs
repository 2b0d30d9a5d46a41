//! Lazy, chunked computation. For now: `load`, which reads every chunk in parallel.

mod load;
