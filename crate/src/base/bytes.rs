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

/// A number of bytes that prints itself as [`human`] does (`334.0 MB`).
///
/// ```
/// use geoxr::base::bytes::Bytes;
/// let b = Bytes(334_000_000);
/// assert_eq!(b.to_string(), "334.0 MB");
/// assert_eq!((b.bytes(), b.mib().round()), (334_000_000, 319.0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Bytes(pub u64);

impl Bytes {
    /// The count.
    pub fn bytes(self) -> u64 {
        self.0
    }

    /// In mebibytes (2^20 bytes).
    pub fn mib(self) -> f64 {
        self.0 as f64 / (1024.0 * 1024.0)
    }
}

impl std::fmt::Display for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&human(self.0))
    }
}

/// The bytes of an array of `shape` with `element` bytes each, saturating at
/// `u64::MAX` instead of overflowing (a size that large never fits anyway).
///
/// ```
/// assert_eq!(geoxr::base::bytes::of_shape(&[200_000, 200_000], 4), 160_000_000_000);
/// assert_eq!(geoxr::base::bytes::of_shape(&[usize::MAX, 3], 8), u64::MAX);
/// ```
pub fn of_shape(shape: &[usize], element: usize) -> u64 {
    shape
        .iter()
        .fold(element as u64, |acc, &n| acc.saturating_mul(n as u64))
}
