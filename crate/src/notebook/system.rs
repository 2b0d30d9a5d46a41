//! Facts about the machine a notebook runs on: `cpu_count` and `virtual_memory`,
//! the twins of Python's `multiprocessing.cpu_count()` and `psutil.virtual_memory()`.

use std::fmt;

use crate::base::bytes::Bytes;
use crate::error::{Error, Result};

/// Number of logical CPUs online, as `multiprocessing.cpu_count()` reports it.
///
/// ```
/// assert!(geoxr::cpu_count() >= 1);
/// ```
pub fn cpu_count() -> usize {
    // SAFETY: sysconf only reads a system value.
    let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    if online > 0 {
        online as usize
    } else {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    }
}

/// Memory of the machine, in bytes, as `psutil.virtual_memory()` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VirtualMemory {
    /// Physical memory.
    pub total: u64,
    /// Memory that can be given to programs without swapping (Linux `MemAvailable`).
    pub available: u64,
}

impl VirtualMemory {
    /// Total memory in MiB.
    pub fn total_mib(&self) -> u64 {
        self.total / (1 << 20)
    }

    /// Available memory in MiB.
    pub fn available_mib(&self) -> u64 {
        self.available / (1 << 20)
    }
}

impl fmt::Display for VirtualMemory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "total: {} MiB\navailable: {} MiB",
            self.total_mib(),
            self.available_mib()
        )
    }
}

/// Reads total and available memory from `/proc/meminfo`.
///
/// ```
/// let mem = geoxr::virtual_memory()?;
/// assert!(mem.available <= mem.total);
/// # Ok::<(), geoxr::Error>(())
/// ```
pub fn virtual_memory() -> Result<VirtualMemory> {
    let path = "/proc/meminfo";
    let text = std::fs::read_to_string(path).map_err(|e| Error::File {
        path: path.into(),
        reason: e.to_string(),
    })?;
    let field = |name: &str| -> Result<u64> {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
            .map(|kib| kib * 1024)
            .ok_or_else(|| Error::File {
                path: path.into(),
                reason: format!("no `{name}` line"),
            })
    };
    Ok(VirtualMemory {
        total: field("MemTotal")?,
        available: field("MemAvailable")?,
    })
}

/// The most memory this process has held so far (Linux `VmHWM`): what a
/// benchmark reports as peak RSS. It prints itself (`812.3 MB`).
///
/// ```
/// let peak = geoxr::peak_memory()?;
/// assert!(peak.bytes() > 0);
/// println!("peak resident memory: {peak}");
/// # Ok::<(), geoxr::Error>(())
/// ```
pub fn peak_memory() -> Result<Bytes> {
    status_memory("VmHWM")
}

/// The memory this process holds now (Linux `VmRSS`, its resident set).
///
/// ```
/// let now = geoxr::resident_memory()?;
/// assert!(now <= geoxr::peak_memory()?);
/// # Ok::<(), geoxr::Error>(())
/// ```
pub fn resident_memory() -> Result<Bytes> {
    status_memory("VmRSS")
}

/// Starts [`peak_memory`] again from the memory held now, so that the next
/// reading is the peak of what ran in between (a cell, a benchmark step).
/// Linux ≥ 4.0; an error names the file that refused.
///
/// ```
/// geoxr::reset_peak_memory()?;
/// let peak = geoxr::peak_memory()?;
/// assert!(peak.bytes() > 0);
/// # Ok::<(), geoxr::Error>(())
/// ```
pub fn reset_peak_memory() -> Result<()> {
    let path = "/proc/self/clear_refs";
    // Writing 5 resets the high-water mark (VmHWM) to the current resident set.
    std::fs::write(path, "5").map_err(|e| Error::File {
        path: path.into(),
        reason: format!("cannot reset the peak memory: {e}"),
    })
}

/// One memory figure (`VmHWM`, `VmRSS`, ...) of `/proc/self/status`.
fn status_memory(field: &str) -> Result<Bytes> {
    let path = "/proc/self/status";
    let status = std::fs::read_to_string(path).map_err(|e| Error::File {
        path: path.into(),
        reason: format!("cannot read the process's memory: {e}"),
    })?;
    let kib: Option<u64> = status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|r| r.split_whitespace().next()?.parse().ok());
    let kib = kib.ok_or_else(|| Error::File {
        path: path.into(),
        reason: format!("no readable `{field}:` line (memory figures are known on Linux only)"),
    })?;
    Ok(Bytes(kib.saturating_mul(1024)))
}
