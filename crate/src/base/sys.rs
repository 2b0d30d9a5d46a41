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
}
