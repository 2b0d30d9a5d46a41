//! Facts about the machine that limits rest on.

/// Memory this process can still take without swapping, in bytes: Linux's
/// `MemAvailable`, and no more than the room left under the process's control-group
/// limit (`memory.max` − `memory.current`) when there is one. `None` off Linux.
///
/// ```
/// if let Some(bytes) = geoxr::base::sys::available_memory() {
///     assert!(bytes > 0);
/// }
/// ```
pub fn available_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let available = meminfo_field(&meminfo, "MemAvailable:")?;
    Some(match cgroup_room() {
        Some(room) => available.min(room),
        None => available,
    })
}

/// A `/proc/meminfo` field (given in kB) in bytes.
pub(crate) fn meminfo_field(text: &str, key: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(key))?;
    let kb: u64 = line[key.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb.saturating_mul(1024))
}

fn cgroup_room() -> Option<u64> {
    let read = |name: &str| -> Option<u64> {
        std::fs::read_to_string(format!("/sys/fs/cgroup/{name}"))
            .ok()?
            .trim()
            .parse()
            .ok()
    };
    let max = read("memory.max")?;
    let current = read("memory.current").unwrap_or(0);
    Some(max.saturating_sub(current))
}

/// Makes `command`'s program start with no open file of this process but its
/// standard streams. libhdf5 opens files without close-on-exec and locks them with
/// `flock`, whose lock belongs to the open file and so is shared with a child that
/// inherits it: an MPI launcher or a fixture writer started while libnetcdf had a file
/// open would keep it locked after geoxr closed it, and the next open or write of that
/// file would fail with "HDF error". Best effort: kernels before Linux 5.11 lack the
/// call, and the child then inherits what it always did.
///
/// ```
/// let mut ls = std::process::Command::new("ls");
/// geoxr::base::sys::inherit_std_streams_only(&mut ls);
/// assert!(ls.arg("/proc/self/fd").output()?.status.success());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn inherit_std_streams_only(command: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs between fork and exec and makes one system call,
    // which is async-signal-safe; it touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
            libc::syscall(
                libc::SYS_close_range,
                3,
                libc::c_uint::MAX,
                CLOSE_RANGE_CLOEXEC,
            );
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_meminfo_fields_in_bytes() {
        let text = "MemTotal:        8000000 kB\nMemAvailable:    1234 kB\n";
        assert_eq!(
            super::meminfo_field(text, "MemAvailable:"),
            Some(1234 * 1024)
        );
        assert_eq!(super::meminfo_field(text, "SwapTotal:"), None);
    }

    #[test]
    fn children_inherit_only_the_standard_streams() {
        // A descriptor opened without close-on-exec, as libhdf5 opens its files,
        // moved above the numbers the child's own `ls` will open.
        // SAFETY: open(2) on a C string we own, fcntl(2) to copy it; both
        // descriptors are closed below.
        let (first, fd) = unsafe {
            let first = libc::open(c"/proc/self/status".as_ptr(), libc::O_RDONLY);
            (first, libc::fcntl(first, libc::F_DUPFD, 200))
        };
        assert!(first > 2 && fd >= 200);
        let listing = |isolated: bool| {
            let mut c = std::process::Command::new("ls");
            c.arg("/proc/self/fd");
            if isolated {
                super::inherit_std_streams_only(&mut c);
            }
            let out = c.output().unwrap();
            String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .any(|n| n == fd.to_string())
        };
        let (plain, isolated) = (listing(false), listing(true));
        // SAFETY: closes the descriptors opened above, once each.
        unsafe {
            libc::close(fd);
            libc::close(first);
        }
        assert!(plain, "a plain child inherits the descriptor");
        assert!(!isolated, "an isolated child does not");
    }
}
