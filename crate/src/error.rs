//! One error type for the whole crate.
//!
//! Every variant names the thing at fault (file, variable, dimension, label) so a
//! notebook user can act on the message without reading a backtrace.

use std::fmt;
use std::path::PathBuf;

use crate::base::text::plain;

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
    /// A computation, without a memory limit, that needs more memory than the
    /// machine has available.
    OutOfMemory {
        what: String,
        needed: u64,
        available: u64,
    },
    /// An attribute or argument with a value we cannot use.
    Invalid { what: String, reason: String },
}

impl fmt::Display for Error {
    /// Names, paths and reasons may come from a file; they are written through
    /// [`plain`], so an error message is always one line that cannot script evcxr.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = |p: &PathBuf| plain(&p.display().to_string()).to_string();
        let list = |v: &[String]| {
            v.iter()
                .map(|s| plain(s).to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Error::NoFilesMatch { pattern } => {
                write!(f, "no file matches the pattern `{}`", plain(pattern))
            }
            Error::BadPattern { pattern, reason } => {
                write!(f, "bad file pattern `{}`: {}", plain(pattern), plain(reason))
            }
            Error::File { path: p, reason } => write!(f, "{}: {}", path(p), plain(reason)),
            Error::FileVariable {
                path: p,
                variable,
                reason,
            } => write!(
                f,
                "{}: variable `{}`: {}",
                path(p),
                plain(variable),
                plain(reason)
            ),
            Error::GridMismatch {
                dim,
                first,
                other,
                detail,
            } => write!(
                f,
                "files do not share the `{}` grid: {} differs from {} ({})",
                plain(dim),
                path(other),
                path(first),
                plain(detail)
            ),
            Error::MissingInFile {
                variable,
                path: p,
                reference,
            } => write!(
                f,
                "{} lacks the variable `{}` that {} has",
                path(p),
                plain(variable),
                path(reference)
            ),
            Error::DuplicateLabel {
                dim,
                label,
                first,
                other,
            } => write!(
                f,
                "{} and {} both hold `{}` = {}",
                path(first),
                path(other),
                plain(dim),
                plain(label)
            ),
            Error::NoSuchVariable { name, available } => write!(
                f,
                "no variable named `{}`; the dataset has: {}",
                plain(name),
                list(available)
            ),
            Error::NoSuchDim { dim, available } => write!(
                f,
                "no dimension named `{}`; the dimensions are: {}",
                plain(dim),
                list(available)
            ),
            Error::NoSuchLabel { dim, label, hint } => {
                write!(f, "`{}` has no label {}", plain(dim), plain(label))?;
                if !hint.is_empty() {
                    write!(f, "; {}", plain(hint))?;
                }
                Ok(())
            }
            Error::Shape {
                what,
                expected,
                found,
            } => {
                write!(
                    f,
                    "{}: expected shape {expected:?}, found {found:?}",
                    plain(what)
                )
            }
            Error::MemoryLimit { what, needed, limit } => write!(
                f,
                "{} needs {} but the memory limit is {}; raise `memory_limit` or work on a smaller selection",
                plain(what),
                mb(*needed),
                mb(*limit)
            ),
            Error::OutOfMemory {
                what,
                needed,
                available,
            } => write!(
                f,
                "{} needs {} but only {} of memory is available; work on a smaller selection, \
                 or reduce it lazily so it streams",
                plain(what),
                mb(*needed),
                mb(*available)
            ),
            Error::Invalid { what, reason } => write!(f, "{}: {}", plain(what), plain(reason)),
        }
    }
}

impl std::error::Error for Error {}

fn mb(bytes: u64) -> String {
    crate::base::bytes::human(bytes)
}

impl Error {
    pub(crate) fn invalid(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Invalid {
            what: what.into(),
            reason: reason.into(),
        }
    }
}
