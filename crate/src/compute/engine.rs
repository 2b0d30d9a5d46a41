//! How a computation runs: on a client's thread pool, within its memory limit, with
//! progress for long runs. The settings travel in thread-locals of the thread that
//! starts the computation, so lazy chunk sources deep inside a plan can read them
//! without every call passing them along.

use std::cell::Cell;

thread_local! {
    static MEMORY_LIMIT: Cell<Option<u64>> = const { Cell::new(None) };
    static NESTED: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with a memory limit visible to the computation it starts.
pub(crate) fn with_memory_limit<R>(limit: Option<u64>, f: impl FnOnce() -> R) -> R {
    let before = MEMORY_LIMIT.with(|m| m.replace(limit));
    let result = f();
    MEMORY_LIMIT.with(|m| m.set(before));
    result
}

/// The memory limit of the computation running on this thread.
pub(crate) fn memory_limit() -> Option<u64> {
    MEMORY_LIMIT.with(Cell::get)
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

/// How many tasks may run at once: the pool's threads, fewer when each task needs
/// `per_task` bytes and only `available` bytes fit in the limit. `None` when not even
/// one task fits.
pub(crate) fn width(per_task: u64, fixed: u64) -> Option<usize> {
    if is_nested() {
        return Some(1);
    }
    let threads = rayon::current_num_threads().max(1);
    match memory_limit() {
        None => Some(threads),
        Some(limit) => {
            let room = limit.checked_sub(fixed)?;
            let fit = (room / per_task.max(1)) as usize;
            if fit == 0 {
                None
            } else {
                Some(fit.min(threads))
            }
        }
    }
}
