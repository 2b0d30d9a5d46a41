//! `time!`: the twin of IPython's `%time`. Prints the CPU time (user and system, all
//! threads of the kernel) and the wall time an expression took, and gives back its
//! value.

use std::time::{Duration, Instant};

/// CPU and wall clocks at the start of a timed expression.
#[doc(hidden)]
pub struct Timer {
    wall: Instant,
    user: Duration,
    system: Duration,
}

fn cpu_times() -> (Duration, Duration) {
    // SAFETY: getrusage fills a plain struct we own.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut usage) != 0 {
            return (Duration::ZERO, Duration::ZERO);
        }
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec as u32) * 1000);
    (tv(usage.ru_utime), tv(usage.ru_stime))
}

/// A span as IPython shows it: three significant digits in s, ms, µs or ns.
pub(crate) fn format_span(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 60.0 {
        return format!("{}min {}s", (s / 60.0) as u64, (s % 60.0) as u64);
    }
    let (value, unit) = if s >= 1.0 || s == 0.0 {
        (s, "s")
    } else if s >= 1e-3 {
        (s * 1e3, "ms")
    } else if s >= 1e-6 {
        (s * 1e6, "µs")
    } else {
        (s * 1e9, "ns")
    };
    let digits = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    let text = format!("{value:.digits$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    };
    format!("{text} {unit}")
}

impl Timer {
    /// Starts the clocks.
    pub fn start() -> Timer {
        let (user, system) = cpu_times();
        Timer {
            wall: Instant::now(),
            user,
            system,
        }
    }

    /// The two lines `%time` prints.
    pub fn report(&self) -> String {
        let wall = self.wall.elapsed();
        let (user, system) = cpu_times();
        let (user, system) = (
            user.saturating_sub(self.user),
            system.saturating_sub(self.system),
        );
        format!(
            "CPU times: user {}, sys: {}, total: {}\nWall time: {}",
            format_span(user),
            format_span(system),
            format_span(user + system),
            format_span(wall)
        )
    }
}

/// Times an expression like IPython's `%time`: prints CPU (user, system, total) and
/// wall time, then gives back the expression's value.
///
/// ```
/// let total = geoxr::time!((1..=1000u64).sum::<u64>());
/// assert_eq!(total, 500500);
/// ```
#[macro_export]
macro_rules! time {
    ($e:expr) => {{
        let timer = $crate::notebook::Timer::start();
        let value = $e;
        println!("{}", timer.report());
        value
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_like_ipython() {
        assert_eq!(format_span(Duration::from_secs_f64(1.23456)), "1.23 s");
        assert_eq!(format_span(Duration::from_secs_f64(0.0456)), "45.6 ms");
        assert_eq!(format_span(Duration::from_secs_f64(0.000_123)), "123 µs");
        assert_eq!(format_span(Duration::from_secs_f64(2.0)), "2 s");
        assert_eq!(format_span(Duration::from_secs(75)), "1min 15s");
    }

    #[test]
    fn report_has_both_lines() {
        let t = Timer::start();
        let r = t.report();
        assert!(
            r.starts_with("CPU times: user ") && r.contains("\nWall time: "),
            "{r}"
        );
    }
}
