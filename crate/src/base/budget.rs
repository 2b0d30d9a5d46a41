//! The memory a computation may take: the client's memory limit while one is in
//! force on this thread, otherwise the memory the machine has available less a
//! margin. Every allocation sized by data or files is checked here first, so a
//! request too large is an error that names it, never an abort.

use std::cell::Cell;

use crate::error::{Error, Result};

thread_local! {
    static MEMORY_LIMIT: Cell<Option<u64>> = const { Cell::new(None) };
}

/// Runs `f` with a memory limit visible to the computation it starts.
pub(crate) fn with_memory_limit<R>(limit: Option<u64>, f: impl FnOnce() -> R) -> R {
    let before = MEMORY_LIMIT.with(|m| m.replace(limit));
    let result = f();
    MEMORY_LIMIT.with(|m| m.set(before));
    result
}

/// Sets the memory limit of this thread for good (a pool's worker threads).
pub(crate) fn set_thread_limit(limit: Option<u64>) {
    MEMORY_LIMIT.with(|m| m.set(limit));
}

/// The memory limit of the computation running on this thread.
pub(crate) fn memory_limit() -> Option<u64> {
    MEMORY_LIMIT.with(Cell::get)
}

/// What a computation may hold in memory: the client's limit, or, without one, the
/// memory the machine has available less a margin for everything else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Budget {
    Limit(u64),
    Available(u64),
}

/// Kept free when there is no limit: a tenth of what is available, at least this.
const MARGIN: u64 = 64 << 20;

impl Budget {
    pub(crate) fn bytes(self) -> u64 {
        match self {
            Budget::Limit(b) | Budget::Available(b) => b,
        }
    }

    /// The refusal of `needed` bytes for `what`.
    pub(crate) fn refuse(self, what: &str, needed: u64) -> Error {
        match self {
            Budget::Limit(limit) => Error::MemoryLimit {
                what: what.to_owned(),
                needed,
                limit,
            },
            Budget::Available(available) => Error::OutOfMemory {
                what: what.to_owned(),
                needed,
                available,
            },
        }
    }
}

/// The budget of the computation running on this thread (none off Linux without a
/// limit).
pub(crate) fn budget() -> Option<Budget> {
    if let Some(limit) = memory_limit() {
        return Some(Budget::Limit(limit));
    }
    let available = crate::base::sys::available_memory()?;
    let margin = (available / 10).max(MARGIN);
    Some(Budget::Available(available.saturating_sub(margin)))
}

/// Refuses `bytes` for `what` when they exceed the budget.
///
/// ```
/// // 16 EB is more than any machine has.
/// assert!(geoxr::base::budget::check_fits("a test", u64::MAX).is_err());
/// ```
pub fn check_fits(what: &str, bytes: u64) -> Result<()> {
    match budget() {
        Some(b) if bytes > b.bytes() => Err(b.refuse(what, bytes)),
        _ => Ok(()),
    }
}
