//! Progress of long computations, printed to the notebook at most every two seconds
//! and only once a computation has run for two seconds: short ones print nothing.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const QUIET_FOR: Duration = Duration::from_secs(2);

/// Counts finished chunks of one computation.
#[derive(Debug)]
pub(crate) struct Progress {
    what: String,
    total: usize,
    done: AtomicUsize,
    started: Instant,
    last: Mutex<Instant>,
    printed: AtomicBool,
    enabled: bool,
}

impl Progress {
    /// A counter for `total` chunks; silent when nested in a larger computation.
    pub(crate) fn new(what: impl Into<String>, total: usize) -> Progress {
        let now = Instant::now();
        Progress {
            what: what.into(),
            total,
            done: AtomicUsize::new(0),
            started: now,
            last: Mutex::new(now),
            printed: AtomicBool::new(false),
            enabled: !super::engine::is_nested(),
        }
    }

    /// Records `n` more finished chunks.
    pub(crate) fn tick(&self, n: usize) {
        let done = self.done.fetch_add(n, Ordering::Relaxed) + n;
        if !self.enabled || self.started.elapsed() < QUIET_FOR {
            return;
        }
        let Ok(mut last) = self.last.lock() else {
            return;
        };
        if self.printed.load(Ordering::Relaxed) && last.elapsed() < QUIET_FOR {
            return;
        }
        *last = Instant::now();
        self.printed.store(true, Ordering::Relaxed);
        println!(
            "[geoxr] {}: {done}/{} chunks, {:.1} s",
            crate::base::text::plain(&self.what),
            self.total,
            self.started.elapsed().as_secs_f64()
        );
    }

    /// Says the computation is over, if progress was shown.
    pub(crate) fn finish(&self) {
        if self.printed.load(Ordering::Relaxed) {
            println!(
                "[geoxr] {}: done in {:.1} s",
                crate::base::text::plain(&self.what),
                self.started.elapsed().as_secs_f64()
            );
        }
    }
}
