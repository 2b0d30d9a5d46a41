//! What travels between the ranks of an MPI job and back to the driver, as bytes:
//! the fixed split of pieces over ranks, each rank's outcome (its partial results or
//! its error, with its wall time and peak memory), and the outcomes file rank 0
//! writes for the driver. Everything read is checked: a short or damaged message is
//! an error naming what was being read, never a panic or an unbounded allocation.

use std::fmt;
use std::ops::Range;
use std::path::Path;

use crate::error::{Error, Result};

/// The pieces rank `rank` of `ranks` runs: a contiguous range, the first
/// `pieces % ranks` ranks taking one more. Ranks in order cover `0..pieces` once.
///
/// ```
/// use geoxr::compute::mpi::split;
/// assert_eq!(split(10, 4, 0), 0..3);
/// assert_eq!(split(10, 4, 3), 8..10);
/// assert_eq!(split(2, 4, 3), 2..2); // more ranks than pieces: some run nothing
/// ```
pub fn split(pieces: usize, ranks: usize, rank: usize) -> Range<usize> {
    let ranks = ranks.max(1);
    let (base, extra) = (pieces / ranks, pieces % ranks);
    let start = rank.saturating_mul(base).saturating_add(rank.min(extra));
    let len = base + usize::from(rank < extra);
    start.min(pieces)..start.saturating_add(len).min(pieces)
}

/// What one rank did: its pieces, how long it took, its peak memory, and either
/// the encoded partial results of its pieces or the error that stopped it.
#[derive(Clone, Debug, PartialEq)]
pub struct RankOutcome {
    /// The rank's number in the job.
    pub rank: usize,
    /// The host it ran on.
    pub host: String,
    /// The pieces it ran.
    pub pieces: Range<usize>,
    /// Wall-clock seconds from reading the plan to having its results.
    pub seconds: f64,
    /// Of which: reading the plan (parsing and checking it, making its sources).
    pub plan_seconds: f64,
    /// Of which: after its own pieces, waiting for the running total from the rank
    /// before, merging onto it and encoding what it sends.
    pub waited_seconds: f64,
    /// Its peak resident memory, in bytes (0 when unknown).
    pub peak_bytes: u64,
    /// The bytes it handed on to the next rank (its running total), if any.
    pub passed_bytes: u64,
    /// The results of its pieces (none when it handed them on), or the error
    /// message.
    pub result: std::result::Result<Vec<u8>, String>,
}

const OUTCOME_MAGIC: &[u8; 8] = b"GXRRANK3";
const FILE_MAGIC: &[u8; 8] = b"GXRJOB01";
/// Longest host name or error message kept.
const MAX_TEXT: usize = 1 << 16;

impl RankOutcome {
    /// The outcome as bytes, for sending to rank 0.
    pub fn encode(&self) -> Vec<u8> {
        let payload: &[u8] = match &self.result {
            Ok(bytes) => bytes,
            Err(message) => message.as_bytes(),
        };
        let mut out = Vec::with_capacity(64 + self.host.len() + payload.len());
        out.extend_from_slice(OUTCOME_MAGIC);
        for n in [self.rank, self.pieces.start, self.pieces.end] {
            out.extend_from_slice(&(n as u64).to_le_bytes());
        }
        for f in [self.seconds, self.plan_seconds, self.waited_seconds] {
            out.extend_from_slice(&f.to_le_bytes());
        }
        out.extend_from_slice(&self.peak_bytes.to_le_bytes());
        out.extend_from_slice(&self.passed_bytes.to_le_bytes());
        let host = truncate(&self.host);
        out.extend_from_slice(&(host.len() as u64).to_le_bytes());
        out.extend_from_slice(host.as_bytes());
        out.push(u8::from(self.result.is_ok()));
        out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        out.extend_from_slice(payload);
        out
    }

    /// Reads an outcome written by [`RankOutcome::encode`] at the start of `bytes`,
    /// returning it and the number of bytes it took.
    pub fn decode(bytes: &[u8]) -> Result<(RankOutcome, usize)> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(8)? != OUTCOME_MAGIC {
            return Err(damaged("a rank's outcome does not start with its marker"));
        }
        let rank = r.size()?;
        let pieces = r.size()?..r.size()?;
        let seconds = f64::from_le_bytes(r.array()?);
        let plan_seconds = f64::from_le_bytes(r.array()?);
        let waited_seconds = f64::from_le_bytes(r.array()?);
        let peak_bytes = r.u64()?;
        let passed_bytes = r.u64()?;
        let host_len = r.size()?.min(MAX_TEXT + 1);
        let host = String::from_utf8_lossy(r.take(host_len)?).into_owned();
        let ok = r.take(1)?[0] == 1;
        let len = r.size()?;
        let payload = r.take(len)?;
        let result = if ok {
            Ok(payload.to_vec())
        } else {
            Err(String::from_utf8_lossy(&payload[..payload.len().min(MAX_TEXT)]).into_owned())
        };
        let outcome = RankOutcome {
            rank,
            host,
            pieces,
            seconds,
            plan_seconds,
            waited_seconds,
            peak_bytes,
            passed_bytes,
            result,
        };
        Ok((outcome, r.at))
    }
}

fn truncate(text: &str) -> &str {
    let mut end = text.len().min(MAX_TEXT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn damaged(why: &str) -> Error {
    Error::invalid("MPI job outcome", why.to_owned())
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| damaged("ends early (truncated)"))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn size(&mut self) -> Result<usize> {
        usize::try_from(self.u64()?).map_err(|_| damaged("holds a size too large"))
    }
}

/// Every rank's outcome, in rank order: what rank 0 hands back to the driver.
#[derive(Clone, Debug, PartialEq)]
pub struct JobOutcome {
    /// One per rank, rank 0 first.
    pub ranks: Vec<RankOutcome>,
}

impl JobOutcome {
    /// The outcomes as the bytes of an outcomes file.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(FILE_MAGIC);
        out.extend_from_slice(&(self.ranks.len() as u64).to_le_bytes());
        for rank in &self.ranks {
            out.extend_from_slice(&rank.encode());
        }
        out
    }

    /// Reads the bytes of an outcomes file, checking that the ranks come in order
    /// and that their pieces follow one another from 0.
    pub fn decode(bytes: &[u8]) -> Result<JobOutcome> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(8)? != FILE_MAGIC {
            return Err(damaged("is not a geoxr MPI outcomes file"));
        }
        let count = r.size()?;
        let mut ranks = Vec::new();
        let mut next_piece = 0;
        for expected in 0..count {
            let (outcome, used) = RankOutcome::decode(&bytes[r.at..])?;
            r.at += used;
            if outcome.rank != expected || outcome.pieces.start != next_piece {
                return Err(damaged("holds ranks out of order"));
            }
            next_piece = outcome.pieces.end.max(next_piece);
            ranks.push(outcome);
        }
        if r.at != bytes.len() {
            return Err(damaged("has bytes after the last rank"));
        }
        Ok(JobOutcome { ranks })
    }

    /// Writes the outcomes file at `path`, whole or not at all (written aside, then
    /// renamed), but not synced to disk: the file lives only until the driver has
    /// read it, and a sync of the partials cost about a second per job here.
    pub fn write(&self, path: &Path) -> Result<()> {
        let aside = path.with_extension("partial");
        let failed = |e: std::io::Error| Error::File {
            path: path.to_path_buf(),
            reason: format!("cannot write the MPI job's outcomes: {e}"),
        };
        std::fs::write(&aside, self.encode()).map_err(failed)?;
        std::fs::rename(&aside, path).map_err(failed)
    }

    /// Reads an outcomes file, refusing one larger than memory allows.
    pub fn read(path: &Path) -> Result<JobOutcome> {
        let file_error = |e: std::io::Error| Error::File {
            path: path.into(),
            reason: format!("cannot read the MPI job's outcomes: {e}"),
        };
        let size = std::fs::metadata(path).map_err(file_error)?.len();
        crate::base::budget::check_fits("reading the MPI job's outcomes", size)?;
        let bytes = std::fs::read(path).map_err(file_error)?;
        JobOutcome::decode(&bytes).map_err(|e| Error::File {
            path: path.into(),
            reason: e.to_string(),
        })
    }

    /// Each rank's results in rank order (ranks that handed theirs on to the next
    /// rank have none), or the first rank's error, naming the rank and its host (the
    /// message itself names the file at fault).
    pub fn parts(self) -> Result<Vec<Vec<u8>>> {
        let n = self.ranks.len();
        let mut parts = Vec::with_capacity(n);
        for r in self.ranks {
            let part = r.result.map_err(|message| {
                Error::invalid(
                    format!("MPI rank {} of {n} (on {})", r.rank, r.host),
                    message,
                )
            })?;
            if !part.is_empty() {
                parts.push(part);
            }
        }
        Ok(parts)
    }

    /// Per-rank figures without the results.
    pub fn report(&self) -> JobReport {
        JobReport {
            ranks: self
                .ranks
                .iter()
                .map(|r| RankFigures {
                    rank: r.rank,
                    host: r.host.clone(),
                    pieces: r.pieces.clone(),
                    seconds: r.seconds,
                    plan_seconds: r.plan_seconds,
                    waited_seconds: r.waited_seconds,
                    peak_bytes: r.peak_bytes,
                    sent_bytes: r
                        .result
                        .as_ref()
                        .map_or(0, |b| b.len() as u64)
                        .saturating_add(r.passed_bytes),
                    failed: r.result.is_err(),
                })
                .collect(),
            wall_seconds: None,
            start_seconds: None,
            driver_seconds: None,
        }
    }
}

/// One rank's figures in a [`JobReport`].
#[derive(Clone, Debug, PartialEq)]
pub struct RankFigures {
    /// The rank's number.
    pub rank: usize,
    /// The host it ran on.
    pub host: String,
    /// The pieces it ran.
    pub pieces: Range<usize>,
    /// Its wall-clock seconds.
    pub seconds: f64,
    /// Of which: reading the plan.
    pub plan_seconds: f64,
    /// Of which: waiting for the running total from the rank before, and merging.
    pub waited_seconds: f64,
    /// Its peak resident memory in bytes (0 when unknown).
    pub peak_bytes: u64,
    /// The bytes of results it sent (to rank 0, or on to the next rank).
    pub sent_bytes: u64,
    /// Whether it stopped with an error.
    pub failed: bool,
}

/// What each rank of an MPI job did: a table of pieces, wall time and peak memory.
/// It prints itself, one line per rank.
#[derive(Clone, Debug, PartialEq)]
pub struct JobReport {
    /// One entry per rank, in rank order.
    pub ranks: Vec<RankFigures>,
    /// The load's wall time seen by the driver (plan shipped, outcome read back,
    /// result finished).
    pub wall_seconds: Option<f64>,
    /// How long the pool took to start its ranks (once per client, not per load).
    pub start_seconds: Option<f64>,
    /// The driver's own part of the load: writing the plan and asking for it, then
    /// reading the outcome back and finishing the result.
    pub driver_seconds: Option<(f64, f64)>,
}

impl fmt::Display for JobReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plain = crate::base::text::plain;
        write!(f, "MPI job: {} ranks", self.ranks.len())?;
        if let Some(s) = self.wall_seconds {
            write!(f, ", {s:.2} s wall time for this load")?;
        }
        if let Some(s) = self.start_seconds {
            write!(f, " (the ranks started once, in {s:.2} s)")?;
        }
        writeln!(f)?;
        if let Some((ship, back)) = self.driver_seconds {
            writeln!(
                f,
                "driver: plan shipped in {:.1} ms, outcome read back and finished in {:.1} ms",
                1e3 * ship,
                1e3 * back
            )?;
        }
        writeln!(
            f,
            "rank  host              pieces        seconds  (plan, waited)  peak RSS     sent"
        )?;
        for r in &self.ranks {
            let pieces = format!("{}..{}", r.pieces.start, r.pieces.end);
            writeln!(
                f,
                "{:<5} {:<17} {:<13} {:>7.2}  ({:.3}, {:.3})  {:>7.1} MB  {:.1} MB{}",
                r.rank,
                plain(&r.host).to_string(),
                pieces,
                r.seconds,
                r.plan_seconds,
                r.waited_seconds,
                r.peak_bytes as f64 / 1e6,
                r.sent_bytes as f64 / 1e6,
                if r.failed { "  (failed)" } else { "" }
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_covers_pieces_once_in_order() {
        for pieces in 0..40 {
            for ranks in 1..9 {
                let mut next = 0;
                for rank in 0..ranks {
                    let r = split(pieces, ranks, rank);
                    assert_eq!(r.start, next, "{pieces} pieces, {ranks} ranks, rank {rank}");
                    assert!(r.len() <= pieces / ranks + 1);
                    next = r.end;
                }
                assert_eq!(next, pieces);
            }
        }
    }

    fn outcome(
        rank: usize,
        pieces: Range<usize>,
        result: std::result::Result<Vec<u8>, String>,
    ) -> RankOutcome {
        RankOutcome {
            rank,
            host: "node-ü".into(),
            pieces,
            seconds: 1.25,
            plan_seconds: 0.25,
            waited_seconds: 0.5,
            peak_bytes: 123 << 20,
            passed_bytes: 0,
            result,
        }
    }

    #[test]
    fn job_outcome_round_trips_and_names_the_failed_rank() {
        let job = JobOutcome {
            ranks: vec![
                outcome(0, 0..2, Ok(vec![1, 2, 3])),
                outcome(1, 2..4, Err("/data/b.nc4: variable `x`: damaged".into())),
                outcome(2, 4..4, Ok(vec![])),
            ],
        };
        let back = JobOutcome::decode(&job.encode()).expect("decodes");
        assert_eq!(back, job);
        let err = back.parts().expect_err("rank 1 failed").to_string();
        assert!(err.contains("MPI rank 1 of 3"), "{err}");
        assert!(err.contains("/data/b.nc4"), "{err}");
    }

    #[test]
    fn damaged_outcomes_are_errors() {
        let job = JobOutcome {
            ranks: vec![
                outcome(0, 0..1, Ok(vec![7; 100])),
                outcome(1, 1..2, Ok(vec![9; 3])),
            ],
        };
        let bytes = job.encode();
        for cut in 0..bytes.len() {
            assert!(JobOutcome::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut huge = bytes.clone();
        // The first rank's payload length, made enormous.
        let at = 16 + 8 + 24 + 40 + 8 + "node-ü".len() + 1;
        huge[at..at + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(JobOutcome::decode(&huge).is_err());
        let swapped = JobOutcome {
            ranks: vec![outcome(1, 0..1, Ok(vec![])), outcome(0, 1..2, Ok(vec![]))],
        };
        assert!(JobOutcome::decode(&swapped.encode()).is_err());
    }
}
