//! One error type for the whole crate.
//!
//! Every variant names the thing at fault (file, variable, dimension, label) so a
//! notebook user can act on the message without reading a backtrace.

use std::fmt;
use std::path::PathBuf;

/// The result type of every fallible call in `geoxr`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, and where.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// A glob pattern matched no file.
    NoFilesMatch { pattern: String },
    /// A glob pattern could not be parsed.
    BadPattern { pattern: String, reason: String },
    /// The NetCDF library refused a file (missing, not NetCDF, truncated, ...).
    File { path: PathBuf, reason: String },
    /// A variable inside a file could not be read or decoded.
    FileVariable {
        path: PathBuf,
        variable: String,
        reason: String,
    },
    /// Files that should share a grid do not.
    GridMismatch {
        dim: String,
        first: PathBuf,
        other: PathBuf,
        detail: String,
    },
    /// A file lacks a variable that the others have.
    MissingInFile {
        variable: String,
        path: PathBuf,
        reference: PathBuf,
    },
    /// Two files hold the same label along the dimension they are joined on.
    DuplicateLabel {
        dim: String,
        label: String,
        first: PathBuf,
        other: PathBuf,
    },
    /// A variable name that the dataset does not have.
    NoSuchVariable {
        name: String,
        available: Vec<String>,
    },
    /// A dimension name that the object does not have.
    NoSuchDim { dim: String, available: Vec<String> },
    /// A label that a coordinate does not hold.
    NoSuchLabel {
        dim: String,
        label: String,
        hint: String,
    },
    /// Shapes that do not fit together.
    Shape {
        what: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },
    /// A computation that does not fit in the client's memory limit.
    MemoryLimit {
        what: String,
        needed: u64,
        limit: u64,
    },
    /// An attribute or argument with a value we cannot use.
    Invalid { what: String, reason: String },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NoFilesMatch { pattern } => write!(f, "no file matches the pattern `{pattern}`"),
            Error::BadPattern { pattern, reason } => {
                write!(f, "bad file pattern `{pattern}`: {reason}")
            }
            Error::File { path, reason } => write!(f, "{}: {reason}", path.display()),
            Error::FileVariable {
                path,
                variable,
                reason,
            } => {
                write!(f, "{}: variable `{variable}`: {reason}", path.display())
            }
            Error::GridMismatch {
                dim,
                first,
                other,
                detail,
            } => write!(
                f,
                "files do not share the `{dim}` grid: {} differs from {} ({detail})",
                other.display(),
                first.display()
            ),
            Error::MissingInFile {
                variable,
                path,
                reference,
            } => write!(
                f,
                "{} lacks the variable `{variable}` that {} has",
                path.display(),
                reference.display()
            ),
            Error::DuplicateLabel {
                dim,
                label,
                first,
                other,
            } => write!(
                f,
                "{} and {} both hold `{dim}` = {label}",
                first.display(),
                other.display()
            ),
            Error::NoSuchVariable { name, available } => write!(
                f,
                "no variable named `{name}`; the dataset has: {}",
                available.join(", ")
            ),
            Error::NoSuchDim { dim, available } => write!(
                f,
                "no dimension named `{dim}`; the dimensions are: {}",
                available.join(", ")
            ),
            Error::NoSuchLabel { dim, label, hint } => {
                write!(f, "`{dim}` has no label {label}")?;
                if !hint.is_empty() {
                    write!(f, "; {hint}")?;
                }
                Ok(())
            }
            Error::Shape {
                what,
                expected,
                found,
            } => {
                write!(f, "{what}: expected shape {expected:?}, found {found:?}")
            }
            Error::MemoryLimit { what, needed, limit } => write!(
                f,
                "{what} needs {} but the memory limit is {}; raise `memory_limit` or work on a smaller selection",
                mb(*needed),
                mb(*limit)
            ),
            Error::Invalid { what, reason } => write!(f, "{what}: {reason}"),
        }
    }
}

impl std::error::Error for Error {}

fn mb(bytes: u64) -> String {
    let b = bytes as f64;
    match b {
        b if b >= 1e9 => format!("{:.1} GB", b / 1e9),
        b if b >= 1e6 => format!("{:.1} MB", b / 1e6),
        b if b >= 1e3 => format!("{:.1} kB", b / 1e3),
        _ => format!("{bytes} B"),
    }
}

impl Error {
    pub(crate) fn invalid(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Invalid {
            what: what.into(),
            reason: reason.into(),
        }
    }
}
