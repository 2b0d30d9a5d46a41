//! IMERG-like sample data: daily NetCDF-4 files in the layout of NASA's GPM IMERG
//! "Final Run" V06 daily product as cut to South America by the GES DISC subsetter,
//! filled with synthetic rainfall that has the broad shape of the real thing.
//!
//! The real files need an Earthdata login; these let the tutorial run anywhere. They
//! are *not* NASA data and say so in their `history` attribute.

mod climate;
mod random;
mod write;

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::model::Calendar;

pub use climate::Grid;

/// What to generate.
///
/// ```no_run
/// use geoxr::sample::SampleSpec;
/// let files = SampleSpec::tutorial().days(10).write_to("data/IMERG")?;
/// assert_eq!(files.len(), 10);
/// # Ok::<(), geoxr::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SampleSpec {
    /// First day (year, month, day).
    pub start: (i64, u32, u32),
    /// Number of daily files.
    pub days: usize,
    /// Seed of the random weather; the same seed gives the same files.
    pub seed: u64,
    /// Calendar written in the `time` attributes.
    pub calendar: Calendar,
}

impl SampleSpec {
    /// The tutorial's set: 303 days from 2018-02-01, Julian calendar, seed 2018.
    pub fn tutorial() -> SampleSpec {
        SampleSpec {
            start: (2018, 2, 1),
            days: 303,
            seed: 2018,
            calendar: Calendar::Julian,
        }
    }

    /// The same spec with another number of days.
    pub fn days(mut self, days: usize) -> SampleSpec {
        self.days = days;
        self
    }

    /// The same spec with another seed.
    pub fn seed(mut self, seed: u64) -> SampleSpec {
        self.seed = seed;
        self
    }

    /// The same spec with another calendar (`Julian` or `Standard` as IMERG files
    /// carry; any CF calendar works).
    pub fn calendar(mut self, calendar: Calendar) -> SampleSpec {
        self.calendar = calendar;
        self
    }

    /// Writes the files into `dir` (created if missing) and returns their paths.
    pub fn write_to(&self, dir: impl AsRef<Path>) -> Result<Vec<PathBuf>> {
        write::write_all(self, dir.as_ref())
    }
}

/// The file name of the daily file for a date, as the subsetter names it.
///
/// ```
/// assert_eq!(
///     geoxr::sample::file_name(2018, 2, 1),
///     "3B-DAY.MS.MRG.3IMERG.20180201-S000000-E235959.V06.nc4.nc4"
/// );
/// ```
pub fn file_name(year: i64, month: u32, day: u32) -> String {
    format!("3B-DAY.MS.MRG.3IMERG.{year:04}{month:02}{day:02}-S000000-E235959.V06.nc4.nc4")
}
