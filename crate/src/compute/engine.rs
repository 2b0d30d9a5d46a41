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
