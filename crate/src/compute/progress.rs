//! Progress of long computations: one line per computation, with chunks done /
//! total, a bar, the time elapsed and an estimate of the time left. Nothing is
//! printed for the first second, so short computations stay silent; a computation
//! that ran longer ends with one final line giving the total time.
//!
//! In a terminal the line rewrites itself (carriage return, no newline) every
//! quarter second from 1 s on, then turns into the final line. In the "Rust
//! (geoxr)" kernel each update is one marked line (see [`DISPLAY_MARK`]) that the
//! kernel's proxy (`kernel/progress_proxy.py`) turns into a Jupyter display it
//! updates in place. Anywhere else — a pipe, a log file, evcxr without the proxy —
//! only the final line is written. evcxr 0.22 alone cannot show a line that
//! changes: it reads a cell's stdout and stderr one whole line at a time and sends
//! each as a stream message ending in a newline, and it sends display data only
//! when the cell ends, so updates would reach a notebook as a pile of lines.
//!
//! A line left open (a computation that fails half-way) is closed when the counter
//! is dropped: evcxr recognises its own markers only at the start of a line, and a
//! cell whose output ended mid-line would hide the marker that follows.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
#[cfg(test)]
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The environment variable the kernel's proxy sets, with the value
/// [`DISPLAY_VALUE`], when it turns marked lines into updating displays.
pub(crate) const DISPLAY_ENV: &str = "GEOXR_PROGRESS";
/// See [`DISPLAY_ENV`].
pub(crate) const DISPLAY_VALUE: &str = "jupyter-display";
/// Starts a progress line meant for the proxy:
/// `ESC ] geoxr-progress ; <id> ; <update|final> BEL <text>`, then a newline.
/// File text in the line is escaped (`base::text::plain`), so it cannot forge one.
pub(crate) const DISPLAY_MARK: &str = "\u{1b}]geoxr-progress;";

/// How updates reach the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A terminal: the line is rewritten in place with a carriage return.
    Terminal,
    /// The geoxr kernel's proxy: each update is a marked line of its own.
    Display,
    /// Anything else: the final line alone.
    FinalOnly,
}

impl Mode {
    fn detect() -> Mode {
        if std::io::stdout().is_terminal() {
            Mode::Terminal
        } else if std::env::var_os(DISPLAY_ENV).is_some_and(|v| v == DISPLAY_VALUE) {
            Mode::Display
        } else {
            Mode::FinalOnly
        }
    }
}

/// A name for one computation's display, unique within a kernel: each cell links
/// its own copy of this crate's statics, so a counter alone would repeat across
/// cells; the process id and the start time in nanoseconds tell them apart.
fn display_id() -> String {
    use std::sync::atomic::AtomicU64;
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Silence before the first update, and the least time between updates.
const QUIET_FOR: Duration = Duration::from_secs(1);
const EVERY: Duration = Duration::from_millis(250);
const BAR: usize = 20;

/// Chunks finished by this process's top-level computations so far: what an MPI
/// rank reports to the driver watching it from another process.
static FINISHED: AtomicUsize = AtomicUsize::new(0);

/// The chunks this process's top-level computations have finished so far.
pub(crate) fn finished() -> usize {
    FINISHED.load(Ordering::Relaxed)
}

/// Where the line goes: the process's stdout, or a buffer tests read.
#[derive(Debug, Clone)]
enum Sink {
    Stdout,
    #[cfg(test)]
    Buffer(Arc<Mutex<Vec<u8>>>),
}

/// Counts finished chunks of one computation.
#[derive(Debug)]
pub(crate) struct Progress {
    what: String,
    total: usize,
    done: AtomicUsize,
    started: Instant,
    /// Time of the last update since `started`, once one was printed.
    shown: Mutex<Option<Duration>>,
    /// Set once the final line is written (or nothing needed writing).
    ended: AtomicBool,
    enabled: bool,
    mode: Mode,
    /// The display's name, in [`Mode::Display`].
    id: String,
    sink: Sink,
}

impl Progress {
    /// A counter for `total` chunks; silent when nested in a larger computation.
    pub(crate) fn new(what: impl Into<String>, total: usize) -> Progress {
        Progress {
            what: what.into(),
            total,
            done: AtomicUsize::new(0),
            started: Instant::now(),
            shown: Mutex::new(None),
            ended: AtomicBool::new(false),
            enabled: !super::engine::is_nested(),
            mode: Mode::detect(),
            id: display_id(),
            sink: Sink::Stdout,
        }
    }

    /// Records `n` more finished chunks.
    pub(crate) fn tick(&self, n: usize) {
        self.tick_at(n, self.started.elapsed());
    }

    fn tick_at(&self, n: usize, elapsed: Duration) {
        let done = self.done.fetch_add(n, Ordering::Relaxed).saturating_add(n);
        if self.enabled {
            FINISHED.fetch_add(n, Ordering::Relaxed);
        }
        if !self.enabled || self.mode == Mode::FinalOnly || elapsed < QUIET_FOR {
            return;
        }
        let Ok(mut shown) = self.shown.lock() else {
            return;
        };
        if self.ended.load(Ordering::Relaxed)
            || shown.is_some_and(|last| elapsed.saturating_sub(last) < EVERY)
        {
            return;
        }
        *shown = Some(elapsed);
        let left = estimate_left(done, self.total, elapsed);
        let line = format!(
            "{} {:.1} s{}",
            self.head(done),
            elapsed.as_secs_f64(),
            match left {
                Some(s) => format!(", ~{s:.1} s left"),
                None => String::new(),
            }
        );
        match self.mode {
            Mode::Display => self.write(&self.marked("update", &line)),
            _ => self.write(&pad(&format!("\r{line}"))),
        }
    }

    /// A line for the kernel's proxy, newline included.
    fn marked(&self, kind: &str, line: &str) -> String {
        format!("{DISPLAY_MARK}{};{kind}\u{7}{line}\n", self.id)
    }

    /// Writes the final line with the total time, if the computation ran for more
    /// than a second or showed progress.
    pub(crate) fn finish(&self) {
        self.end_at(self.started.elapsed(), "done in");
    }

    #[cfg(test)]
    fn finish_at(&self, elapsed: Duration) {
        self.end_at(elapsed, "done in");
    }

    /// Writes the final line once (`verb` is "done in" or "stopped after").
    fn end_at(&self, elapsed: Duration, verb: &str) {
        // Holding the lock keeps a late tick from reopening the line.
        let Ok(shown) = self.shown.lock() else {
            return;
        };
        if self.ended.swap(true, Ordering::Relaxed) || !self.enabled {
            return;
        }
        if shown.is_none() && elapsed < QUIET_FOR {
            return;
        }
        let done = self.done.load(Ordering::Relaxed);
        let line = format!("{} {verb} {:.1} s", self.head(done), elapsed.as_secs_f64());
        let text = match self.mode {
            Mode::Terminal => pad(&format!("\r{line}")) + "\n",
            Mode::Display => self.marked("final", &line),
            Mode::FinalOnly => line + "\n",
        };
        self.write(&text);
    }

    /// `[geoxr] what: [#####-----] done/total chunks,`
    fn head(&self, done: usize) -> String {
        format!(
            "[geoxr] {}: [{}] {done}/{} chunks,",
            crate::base::text::plain(&self.what),
            bar(done, self.total),
            self.total
        )
    }

    fn write(&self, text: &str) {
        // Progress is advice: a closed stdout must not fail the computation.
        match &self.sink {
            Sink::Stdout => {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(text.as_bytes());
                let _ = out.flush();
            }
            #[cfg(test)]
            Sink::Buffer(b) => {
                if let Ok(mut b) = b.lock() {
                    b.extend_from_slice(text.as_bytes());
                }
            }
        }
    }
}

impl Drop for Progress {
    /// A computation that stopped early (an error, a panic) still closes its line.
    fn drop(&mut self) {
        self.end_at(self.started.elapsed(), "stopped after");
    }
}

/// Pads a line so that it covers a longer line printed before it on the same row.
fn pad(line: &str) -> String {
    format!("{line:<72}")
}

/// `#` for the part done, `-` for the rest.
fn bar(done: usize, total: usize) -> String {
    let filled = if total == 0 {
        BAR
    } else {
        (done.min(total) as u128 * BAR as u128 / total as u128) as usize
    };
    "#".repeat(filled) + &"-".repeat(BAR - filled)
}

/// Seconds left if the remaining chunks go as fast as the finished ones did.
fn estimate_left(done: usize, total: usize, elapsed: Duration) -> Option<f64> {
    if done == 0 || done >= total {
        return None;
    }
    Some(elapsed.as_secs_f64() * (total - done) as f64 / done as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A counter writing to a buffer, as in a terminal (`live`) or a plain pipe.
    fn recorded(total: usize, live: bool) -> (Progress, Arc<Mutex<Vec<u8>>>) {
        recorded_as(
            total,
            if live {
                Mode::Terminal
            } else {
                Mode::FinalOnly
            },
        )
    }

    fn recorded_as(total: usize, mode: Mode) -> (Progress, Arc<Mutex<Vec<u8>>>) {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let mut p = Progress::new("mean", total);
        p.enabled = true;
        p.mode = mode;
        p.sink = Sink::Buffer(buffer.clone());
        (p, buffer)
    }

    fn text(b: &Arc<Mutex<Vec<u8>>>) -> String {
        String::from_utf8(b.lock().unwrap().clone()).unwrap()
    }

    /// What a terminal or Jupyter leaves on screen: each `\r` returns to the start
    /// of the row, and the text written after it covers what was there.
    fn on_screen(raw: &str) -> Vec<String> {
        let mut rows = Vec::new();
        for row in raw.split_terminator('\n') {
            let mut shown: Vec<char> = Vec::new();
            for part in row.split('\r') {
                for (i, c) in part.chars().enumerate() {
                    if i < shown.len() {
                        shown[i] = c;
                    } else {
                        shown.push(c);
                    }
                }
            }
            rows.push(shown.into_iter().collect::<String>().trim_end().to_owned());
        }
        rows
    }

    #[test]
    fn a_computation_under_a_second_prints_nothing() {
        for live in [true, false] {
            let (p, b) = recorded(10, live);
            for k in 0..10 {
                p.tick_at(1, Duration::from_millis(90 * k));
            }
            p.finish_at(Duration::from_millis(950));
            drop(p);
            assert_eq!(text(&b), "", "live: {live}");
        }
    }

    #[test]
    fn one_line_moves_in_place_and_the_final_line_stays() {
        let (p, b) = recorded(300, true);
        // 3 s of work, a tick every 10 ms.
        for k in 1..=300u64 {
            p.tick_at(1, Duration::from_millis(10 * k));
        }
        p.finish_at(Duration::from_millis(3000));
        let raw = text(&b);
        assert_eq!(
            raw.matches('\n').count(),
            1,
            "one newline, at the end: {raw:?}"
        );
        assert!(raw.ends_with('\n'));
        // Updates at most every 250 ms from 1 s on: 1.00, 1.25, ..., 3.00 s.
        let updates = raw.matches('\r').count() - 1;
        assert_eq!(updates, 9, "{raw:?}");
        let first = raw.split('\r').nth(1).unwrap();
        assert!(
            first.starts_with(
                "[geoxr] mean: [######--------------] 100/300 chunks, 1.0 s, ~2.0 s left"
            ),
            "{first:?}"
        );
        assert_eq!(
            on_screen(&raw),
            vec!["[geoxr] mean: [####################] 300/300 chunks, done in 3.0 s"]
        );
    }

    #[test]
    fn file_text_in_the_name_cannot_break_the_line() {
        let (mut p, b) = recorded(2, true);
        p.what = "loading rain\nfake\r".into();
        p.tick_at(1, Duration::from_secs(2));
        p.finish_at(Duration::from_secs(4));
        let raw = text(&b);
        assert_eq!(raw.matches('\n').count(), 1, "{raw:?}");
        assert_eq!(raw.matches('\r').count(), 2, "{raw:?}");
    }

    #[test]
    fn outside_a_terminal_only_the_final_line_is_written() {
        let (p, b) = recorded(300, false);
        for k in 1..=300u64 {
            p.tick_at(1, Duration::from_millis(10 * k));
        }
        p.finish_at(Duration::from_millis(3000));
        // A second finish (or the drop) adds nothing.
        p.finish_at(Duration::from_millis(3500));
        drop(p);
        assert_eq!(
            text(&b),
            "[geoxr] mean: [####################] 300/300 chunks, done in 3.0 s\n"
        );
    }

    #[test]
    fn a_computation_stopped_half_way_closes_its_line() {
        let (p, b) = recorded(300, true);
        for k in 1..=150u64 {
            p.tick_at(1, Duration::from_millis(10 * k));
        }
        drop(p);
        let raw = text(&b);
        assert!(raw.ends_with('\n'), "{raw:?}");
        let rows = on_screen(&raw);
        assert_eq!(rows.len(), 1, "{raw:?}");
        assert!(
            rows[0]
                .starts_with("[geoxr] mean: [##########----------] 150/300 chunks, stopped after "),
            "{rows:?}"
        );

        // Outside a terminal: the line is written if it ran for more than a second.
        let (mut p, b) = recorded(300, false);
        p.started = Instant::now()
            .checked_sub(Duration::from_secs(2))
            .expect("a clock two seconds back");
        p.tick_at(30, Duration::from_secs(2));
        drop(p);
        let raw = text(&b);
        assert!(
            raw.starts_with("[geoxr] mean: [##------------------] 30/300 chunks, stopped after 2.")
                && raw.ends_with(" s\n")
                && raw.matches('\n').count() == 1,
            "{raw:?}"
        );
    }

    #[test]
    fn behind_the_kernel_proxy_each_update_is_one_marked_line() {
        let (p, b) = recorded_as(300, Mode::Display);
        for k in 1..=300u64 {
            p.tick_at(1, Duration::from_millis(10 * k));
        }
        p.finish_at(Duration::from_millis(3000));
        drop(p);
        let raw = text(&b);
        let lines: Vec<&str> = raw.lines().collect();
        // The same updates as in a terminal (1.00, 1.25, ..., 3.00 s), then the end.
        assert_eq!(lines.len(), 10, "{raw:?}");
        assert!(!raw.contains('\r'), "{raw:?}");
        let parts: Vec<(&str, &str, &str)> = lines
            .iter()
            .map(|l| {
                let rest = l.strip_prefix(DISPLAY_MARK).expect("a marked line");
                let (head, text) = rest.split_once('\u{7}').expect("a BEL after the kind");
                let (id, kind) = head.split_once(';').expect("id;kind");
                (id, kind, text)
            })
            .collect();
        assert!(parts
            .iter()
            .all(|(id, _, _)| *id == parts[0].0 && !id.is_empty()));
        assert!(parts[..9].iter().all(|(_, kind, _)| *kind == "update"));
        assert_eq!(
            parts[0].2,
            "[geoxr] mean: [######--------------] 100/300 chunks, 1.0 s, ~2.0 s left"
        );
        assert_eq!(parts[9].1, "final");
        assert_eq!(
            parts[9].2,
            "[geoxr] mean: [####################] 300/300 chunks, done in 3.0 s"
        );
        // Two computations never share a display.
        let (q, _) = recorded_as(1, Mode::Display);
        assert_ne!(q.id, parts[0].0);
    }

    #[test]
    fn bar_and_estimate_stay_in_range() {
        assert_eq!(bar(0, 0), "#".repeat(BAR));
        assert_eq!(bar(usize::MAX, 3), "#".repeat(BAR));
        assert_eq!(bar(1, usize::MAX), "-".repeat(BAR));
        assert_eq!(estimate_left(0, 10, Duration::from_secs(5)), None);
        assert_eq!(estimate_left(10, 10, Duration::from_secs(5)), None);
        assert_eq!(estimate_left(5, 10, Duration::from_secs(5)), Some(5.0));
    }
}
