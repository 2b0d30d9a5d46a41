//! Byte counts for people: one format for every message.

/// Bytes in decimal units with one decimal, as errors and refusals show them:
/// `160.0 GB`, `800.0 kB`, `12 B`.
///
/// ```
/// assert_eq!(geoxr::base::bytes::human(160_000_000_000), "160.0 GB");
/// assert_eq!(geoxr::base::bytes::human(999), "999 B");
/// ```
pub fn human(bytes: u64) -> String {
    const UNITS: [(&str, f64); 5] = [
        ("EB", 1e18),
        ("PB", 1e15),
        ("TB", 1e12),
        ("GB", 1e9),
        ("MB", 1e6),
    ];
    let b = bytes as f64;
    for (unit, size) in UNITS {
        if b >= size {
            return format!("{:.1} {unit}", b / size);
        }
    }
    if b >= 1e3 {
        format!("{:.1} kB", b / 1e3)
    } else {
        format!("{bytes} B")
    }
}
