//! The memory a computation may take: under a client's memory limit, one ledger
//! shared by the computation's threads, from which every part reserves what it
//! holds; otherwise the memory the machine has available less a margin. Every
//! allocation sized by data or files is checked here first, so a request too large
//! is an error that names it, never an abort.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::error::{Error, Result};

/// The memory limit of one computation and the bytes its parts hold now. Every
/// thread of the computation's pool shares it, so a reservation on one thread
/// leaves less for the others.
#[derive(Debug)]
pub(crate) struct Ledger {
    limit: u64,
    used: AtomicU64,
}

impl Ledger {
    pub(crate) fn new(limit: u64) -> Arc<Ledger> {
        Arc::new(Ledger {
            limit,
            used: AtomicU64::new(0),
        })
    }
}

thread_local! {
    static LEDGER: RefCell<Option<Arc<Ledger>>> = const { RefCell::new(None) };
}

/// Runs `f` with a computation's ledger visible on this thread.
pub(crate) fn with_ledger<R>(ledger: Option<Arc<Ledger>>, f: impl FnOnce() -> R) -> R {
    let before = LEDGER.with(|l| l.replace(ledger));
    let result = f();
    LEDGER.with(|l| l.replace(before));
    result
}

/// Sets the ledger of this thread for good (a pool's worker threads).
pub(crate) fn set_thread_ledger(ledger: Option<Arc<Ledger>>) {
    LEDGER.with(|l| l.replace(ledger));
}

fn ledger() -> Option<Arc<Ledger>> {
    LEDGER.with(|l| l.borrow().clone())
}

/// `what`, saying how much other parts of the computation hold, if any.
fn held_note(what: &str, held: u64) -> String {
    if held == 0 {
        what.to_owned()
    } else {
        format!(
            "{what} (while {} is held by the rest of the computation)",
            crate::base::bytes::human(held)
        )
    }
}

/// Bytes held for a part of a computation until dropped.
#[derive(Debug)]
#[must_use = "the bytes are held only while the reservation lives"]
pub(crate) struct Reservation {
    ledger: Option<Arc<Ledger>>,
    bytes: u64,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if let Some(l) = &self.ledger {
            l.used.fetch_sub(self.bytes, Ordering::AcqRel);
        }
    }
}

/// Holds `bytes` for `what` until the reservation is dropped: refused when they do
/// not fit in what the computation's limit has left (or, without a limit, in the
/// memory available).
pub(crate) fn reserve(what: &str, bytes: u64) -> Result<Reservation> {
    let Some(ledger) = ledger() else {
        check_fits(what, bytes)?;
        return Ok(Reservation {
            ledger: None,
            bytes: 0,
        });
    };
    let mut used = ledger.used.load(Ordering::Acquire);
    loop {
        let total = used.saturating_add(bytes);
        if total > ledger.limit {
            return Err(Error::MemoryLimit {
                what: held_note(what, used),
                needed: bytes,
                limit: ledger.limit,
            });
        }
        match ledger
            .used
            .compare_exchange_weak(used, total, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => {
                return Ok(Reservation {
                    ledger: Some(ledger),
                    bytes,
                })
            }
            Err(now) => used = now,
        }
    }
}

/// What a computation may hold in memory: the client's limit, or, without one, the
/// memory the machine has available less a margin for everything else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Budget {
    /// Under a client's limit: what is left of it, the limit, and what other parts
    /// of the computation hold now.
    Limit {
        room: u64,
        limit: u64,
        held: u64,
    },
    Available(u64),
}

/// Kept free when there is no limit: a tenth of what is available, at least this.
const MARGIN: u64 = 64 << 20;

impl Budget {
    pub(crate) fn bytes(self) -> u64 {
        match self {
            Budget::Limit { room: b, .. } | Budget::Available(b) => b,
        }
    }

    /// The refusal of `needed` bytes for `what`.
    pub(crate) fn refuse(self, what: &str, needed: u64) -> Error {
        match self {
            Budget::Limit { limit, held, .. } => Error::MemoryLimit {
                what: held_note(what, held),
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
    if let Some(ledger) = ledger() {
        let held = ledger.used.load(Ordering::Acquire);
        return Some(Budget::Limit {
            room: ledger.limit.saturating_sub(held),
            limit: ledger.limit,
            held,
        });
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
