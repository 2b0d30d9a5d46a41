//! How a computation runs: on a client's thread pool, within its memory budget
//! (`base::budget`: one ledger shared by the pool's threads), as wide as the budget
//! allows; tasks inside a parallel step run their own work sequentially.

use std::cell::Cell;

pub(crate) use crate::base::budget::{budget, reserve, Reservation};
use crate::error::Result;

thread_local! {
    static NESTED: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` as a task inside a parallel step: computations it starts run
/// sequentially, so parallelism (and memory) is decided once, at the top.
pub(crate) fn nested<R>(f: impl FnOnce() -> R) -> R {
    let before = NESTED.with(|n| n.replace(true));
    let result = f();
    NESTED.with(|n| n.set(before));
    result
}

/// Whether the computation on this thread runs under a memory limit (a client's
/// `memory_limit`), rather than within the memory the machine has.
pub(crate) fn limited() -> bool {
    matches!(budget(), Some(crate::base::budget::Budget::Limit { .. }))
}

/// Whether this thread is inside a parallel step.
pub(crate) fn is_nested() -> bool {
    NESTED.with(Cell::get)
}

/// How many tasks may run at once, with their memory held: the pool's threads,
/// fewer when each task needs `per_task` bytes and only part of the budget is left
/// after `fixed` bytes. An error naming `what` when not even one task fits.
pub(crate) fn width(what: &str, per_task: u64, fixed: u64) -> Result<(usize, Reservation)> {
    let needed = per_task.saturating_add(fixed);
    let threads = if is_nested() {
        1
    } else {
        rayon::current_num_threads().max(1)
    };
    let Some(budget) = budget() else {
        return Ok((threads, reserve(what, 0)?));
    };
    let room = budget
        .bytes()
        .checked_sub(fixed)
        .ok_or_else(|| budget.refuse(what, needed))?;
    let fit = room / per_task.max(1);
    if fit == 0 {
        return Err(budget.refuse(what, needed));
    }
    let width = (fit.min(usize::MAX as u64) as usize).min(threads);
    let held = reserve(
        what,
        fixed.saturating_add(per_task.saturating_mul(width as u64)),
    )?;
    Ok((width, held))
}

/// Arrays a computation has finished with, kept so that the next chunk read into an
/// array of the same type and size reuses their memory instead of fresh pages (which
/// the kernel must fault in and zero: as much time as a chunk's unshuffling). At
/// most `SPARE_BYTES` are kept, in arrays of at most a quarter of that each.
static SPARE: std::sync::Mutex<Vec<crate::model::ArrayData>> = std::sync::Mutex::new(Vec::new());

/// Bytes the spare arrays may hold in all (outside any memory limit, so small).
const SPARE_BYTES: usize = 16 << 20;

fn bytes_of(a: &crate::model::ArrayData) -> usize {
    a.len().saturating_mul(a.dtype().size())
}

/// Keeps `data`'s memory for a later [`take_spare`], when there is room.
pub(crate) fn give_back(data: crate::model::ArrayData) {
    let bytes = bytes_of(&data);
    if bytes == 0 || bytes > SPARE_BYTES / 4 {
        return;
    }
    if let Ok(mut spare) = SPARE.lock() {
        let held: usize = spare.iter().map(bytes_of).sum();
        if held.saturating_add(bytes) <= SPARE_BYTES {
            spare.push(data);
        }
    }
}

/// A kept array of element type `dtype` and `len` values, if there is one (its
/// values are whatever they were).
pub(crate) fn take_spare(
    dtype: crate::model::DType,
    len: usize,
) -> Option<crate::model::ArrayData> {
    let mut spare = SPARE.lock().ok()?;
    let i = spare
        .iter()
        .position(|a| a.dtype() == dtype && a.len() == len)?;
    Some(spare.swap_remove(i))
}
