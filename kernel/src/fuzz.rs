//! Damaged copies of real NetCDF files, and a campaign that opens and loads each one
//! in a child process (`geoxr-probe`) to prove that no damaged file can crash, abort
//! or hang geoxr. Used by `cargo xtask fuzz N` and by `crate/tests/damaged_files.rs`.
//!
//! - [`seeds`] writes the files to damage: one IMERG-layout day from geoxr's own
//!   generator, and files written by netCDF4-python and h5py (NetCDF-4/HDF5) and
//!   NetCDF-3 classic and 64-bit-offset files (`fuzz/fixtures.py`). The script also
//!   reports where each file keeps array values, so the rest is known to be metadata
//!   (superblock, object headers, B-trees, heaps; the header of a classic file).
//! - [`plan`] derives mutants from a seed number, deterministically: bit flips in
//!   metadata and in data, truncations, zeroed ranges, and runs of 0xFF (addresses and
//!   lengths that point far away). Half of the metadata hits land in the first 4 KiB.
//! - [`Campaign::run`] writes the mutants, runs the probe over batches of them with a
//!   timeout, re-runs an interrupted batch file by file to name the culprit, and keeps
//!   on disk every mutant that failed.
//!
//! ```no_run
//! # fn main() -> xtask::Result<()> {
//! use std::path::Path;
//! use xtask::fuzz::{plan, seeds, Campaign};
//! let python = xtask::fuzz::python(Path::new("."))?;
//! let seeds = seeds(Path::new("target/fuzz/seeds"), Path::new("target/release/imerg-sample"), &python)?;
//! let mutants = plan(&seeds, 100, 1);
//! let report = Campaign::new("target/release/geoxr-probe", "target/fuzz/mutants").run(&seeds, &mutants)?;
//! println!("{}", report.summary());
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::child::{self, Finished};
use crate::Result;

const FIXTURES_PY: &str = include_str!("fuzz/fixtures.py");

/// A file to damage, with the byte ranges that hold array values.
#[derive(Debug, Clone)]
pub struct Seed {
    /// Where the intact file is.
    pub path: PathBuf,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Byte ranges of array values (chunks, contiguous data); sorted.
    pub data: Vec<Range<usize>>,
}

impl Seed {
    /// A short name for reports: the file name up to its first dot.
    pub fn name(&self) -> String {
        let name = self.path.file_name().unwrap_or_default().to_string_lossy();
        name.split('.').next().unwrap_or_default().to_owned()
    }

    /// The byte ranges that are not array values: the metadata.
    pub fn metadata(&self) -> Vec<Range<usize>> {
        let mut gaps = Vec::new();
        let mut at = 0;
        for r in &self.data {
            if r.start > at {
                gaps.push(at..r.start);
            }
            at = at.max(r.end);
        }
        if at < self.bytes.len() {
            gaps.push(at..self.bytes.len());
        }
        gaps
    }
}

/// The Python that writes the netCDF4-python and h5py seeds: `GEOXR_PYTHON` if set,
/// else the project venv's (`target/notebook/venv`, made by `cargo xtask setup`).
pub fn python(root: &Path) -> Result<PathBuf> {
    if let Some(python) = std::env::var_os("GEOXR_PYTHON") {
        return Ok(PathBuf::from(python));
    }
    let venv = root.join("target/notebook/venv/bin/python");
    if venv.is_file() {
        Ok(venv)
    } else {
        Err(format!(
            "no Python with netCDF4 and h5py: {} does not exist; run `cargo xtask setup` \
             (or set GEOXR_PYTHON to a Python that has them)",
            venv.display()
        ))
    }
}

/// Writes the seed files into `dir` (replacing what is there): one IMERG-layout day
/// made by the `imerg-sample` program, then the files of `fixtures.py` run by
/// `python`, and reads where each keeps its values.
pub fn seeds(dir: &Path, imerg_sample: &Path, python: &Path) -> Result<Vec<Seed>> {
    let _ = std::fs::remove_dir_all(dir);
    let imerg_dir = dir.join("imerg");
    std::fs::create_dir_all(&imerg_dir).map_err(|e| format!("{}: {e}", imerg_dir.display()))?;
    let mut sample = Command::new(imerg_sample);
    sample.arg("--out").arg(&imerg_dir).args(["--days", "1"]);
    checked(&mut sample, "imerg-sample")?;
    let imerg = std::fs::read_dir(&imerg_dir)
        .map_err(|e| format!("{}: {e}", imerg_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "nc4"))
        .ok_or_else(|| format!("imerg-sample wrote no file in {}", imerg_dir.display()))?;
    let script = dir.join("fixtures.py");
    std::fs::write(&script, FIXTURES_PY).map_err(|e| format!("{}: {e}", script.display()))?;
    let mut fixtures = Command::new(python);
    fixtures.arg(&script).arg(dir).arg(&imerg);
    let layout = checked(&mut fixtures, "fixtures.py")?;
    let layout: serde_json::Value = serde_json::from_str(&layout)
        .map_err(|e| format!("fixtures.py printed no layout ({e}): {layout}"))?;
    let map = layout
        .as_object()
        .ok_or_else(|| format!("fixtures.py printed {layout}, not a map of files"))?;
    let mut seeds = Vec::new();
    for (path, ranges) in map {
        let path = PathBuf::from(path);
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut data: Vec<Range<usize>> = ranges
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| Some((r.get(0)?.as_u64()?, r.get(1)?.as_u64()?)))
            .map(|(at, len)| at as usize..(at + len) as usize)
            .filter(|r| r.end <= bytes.len())
            .collect();
        data.sort_by_key(|r| r.start);
        seeds.push(Seed { path, bytes, data });
    }
    // The IMERG day first: it is the layout the tutorial reads.
    seeds.sort_by_key(|s| (s.path != imerg, s.path.clone()));
    Ok(seeds)
}

/// Runs a set-up program and returns its output, or an error with its stderr.
fn checked(command: &mut Command, what: &str) -> Result<String> {
    let done = child::run(command, Duration::from_secs(300))?;
    match done.trouble() {
        None => Ok(done.stdout),
        Some(trouble) => Err(format!("{what} {trouble}:\n{}", done.stderr_tail())),
    }
}

/// One way of damaging a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mutation {
    /// XOR each mask into the byte at its offset.
    Flips(Vec<(usize, u8)>),
    /// Keep only the first `len` bytes.
    Truncate(usize),
    /// Overwrite `len` bytes from `at` with `byte`.
    Fill { at: usize, len: usize, byte: u8 },
}

impl Mutation {
    /// The damaged copy of `bytes`.
    pub fn apply(&self, bytes: &[u8]) -> Vec<u8> {
        let mut out = bytes.to_vec();
        match self {
            Mutation::Flips(flips) => {
                for &(at, mask) in flips {
                    if let Some(b) = out.get_mut(at) {
                        *b ^= mask;
                    }
                }
            }
            Mutation::Truncate(len) => out.truncate(*len),
            Mutation::Fill { at, len, byte } => {
                let end = at.saturating_add(*len).min(out.len());
                if let Some(range) = out.get_mut(*at..end) {
                    range.fill(*byte);
                }
            }
        }
        out
    }
}

/// Which part of a file a mutation aims at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// Everything but array values.
    Metadata,
    /// Chunks and contiguous array values.
    Data,
    /// Any offset.
    Anywhere,
}

/// One damaged copy of a seed, reproducible from the plan's seed number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mutant {
    /// Its number in the plan.
    pub index: usize,
    /// Which seed file it damages (position in the seed list).
    pub seed: usize,
    /// The damage.
    pub mutation: Mutation,
    /// Where the damage was aimed.
    pub target: Target,
}

impl Mutant {
    /// The kind of damage, for tallies: `flip metadata`, `truncate anywhere`, ...
    pub fn kind(&self) -> String {
        let what = match &self.mutation {
            Mutation::Flips(_) => "flip",
            Mutation::Truncate(_) => "truncate",
            Mutation::Fill { byte: 0, .. } => "zero",
            Mutation::Fill { .. } => "fill 0xff",
        };
        let target = match self.target {
            Target::Metadata => "metadata",
            Target::Data => "data",
            Target::Anywhere => "anywhere",
        };
        format!("{what} {target}")
    }

    /// What exactly was done, with offsets.
    pub fn describe(&self) -> String {
        match &self.mutation {
            Mutation::Flips(flips) => {
                let list: Vec<String> = flips
                    .iter()
                    .map(|(at, mask)| format!("byte {at} ^= {mask:#04x}"))
                    .collect();
                format!("{}: {}", self.kind(), list.join(", "))
            }
            Mutation::Truncate(len) => format!("{}: cut to {len} bytes", self.kind()),
            Mutation::Fill { at, len, byte } => {
                format!("{}: {len} bytes from {at} set to {byte:#04x}", self.kind())
            }
        }
    }

    /// The mutant's file name: `<seed>-<index>-<kind>.nc`.
    pub fn file_name(&self, seeds: &[Seed]) -> String {
        let seed = seeds.get(self.seed).map(Seed::name).unwrap_or_default();
        format!(
            "{seed}-{:05}-{}.nc",
            self.index,
            self.kind().replace(' ', "-")
        )
    }
}

/// A small deterministic generator (SplitMix64): the same seed, the same mutants on
/// every machine and every version of every dependency.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    /// An offset inside `ranges`; with probability 1/2 among their first 4 KiB.
    fn offset_in(&mut self, ranges: &[Range<usize>]) -> Option<usize> {
        let total: usize = ranges.iter().map(|r| r.len()).sum();
        if total == 0 {
            return None;
        }
        let mut k = if self.below(2) == 0 {
            self.below(total.min(4096))
        } else {
            self.below(total)
        };
        for r in ranges {
            if k < r.len() {
                return Some(r.start + k);
            }
            k -= r.len();
        }
        None
    }
}

/// `count` mutants of `seeds`, taken in turn, derived from `seed` alone: mutant `i`
/// is the same whatever `count` is.
pub fn plan(seeds: &[Seed], count: usize, seed: u64) -> Vec<Mutant> {
    if seeds.is_empty() {
        return Vec::new();
    }
    (0..count)
        .map(|index| {
            let mut rng = SplitMix(seed ^ (index as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
            let which = index % seeds.len();
            let file = &seeds[which];
            let (mutation, target) = mutation(file, &mut rng);
            Mutant {
                index,
                seed: which,
                mutation,
                target,
            }
        })
        .collect()
}

fn mutation(file: &Seed, rng: &mut SplitMix) -> (Mutation, Target) {
    let len = file.bytes.len();
    let metadata = file.metadata();
    let everything = 0..len;
    let (ranges, target) = match rng.below(100) {
        // Mostly aimed at metadata: that is where a reader follows offsets and sizes.
        0..=69 => (metadata.as_slice(), Target::Metadata),
        70..=84 if !file.data.is_empty() => (file.data.as_slice(), Target::Data),
        _ => (std::slice::from_ref(&everything), Target::Anywhere),
    };
    let at = rng.offset_in(ranges).unwrap_or(0);
    let mutation = match rng.below(100) {
        0..=44 => {
            let flips = 1 + rng.below(4);
            Mutation::Flips(
                (0..flips)
                    .map(|i| {
                        let near = if i == 0 {
                            at
                        } else {
                            rng.offset_in(ranges).unwrap_or(at)
                        };
                        (near, 1u8 << rng.below(8))
                    })
                    .collect(),
            )
        }
        45..=69 => Mutation::Truncate(if rng.below(40) == 0 { 0 } else { at }),
        70..=89 => {
            let longest = if rng.below(2) == 0 { 16 } else { 512 };
            Mutation::Fill {
                at,
                len: 1 + rng.below(longest),
                byte: 0,
            }
        }
        _ => Mutation::Fill {
            at,
            len: 1 + rng.below(8),
            byte: 0xff,
        },
    };
    (mutation, target)
}

/// What became of one mutant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Opened and loaded; the probe's summary.
    Opened(String),
    /// Refused with an error that names the file and says it is damaged.
    Refused(String),
    /// Refused well-formed content geoxr cannot use (CF time units, calendar or time
    /// values it cannot decode, a dimension used twice by one variable, a compression
    /// filter neither engine decodes), naming the file and the variable: damage there
    /// leaves the file's structure intact, so the reader cannot tell it from a file
    /// written that way.
    Unusable(String),
    /// Refused, but the error does not name the file or say what is wrong with it.
    Unclear(String),
    /// The probe died (signal, abort, panic, or a hang killed at the timeout).
    Crashed(String),
}

impl Verdict {
    /// Whether this is a failure of the reader.
    pub fn failed(&self) -> bool {
        matches!(self, Verdict::Unclear(_) | Verdict::Crashed(_))
    }
}

/// Whether an error message names `path` and says it is damaged, truncated or not
/// NetCDF: what a user needs to know to stop trusting the file.
pub fn error_is_clear(message: &str, path: &Path) -> bool {
    let path = path.display().to_string();
    // The words must be in what the error says, not in the path it names.
    let said = message.replace(&path, "").to_lowercase();
    message.contains(&path)
        && ["damaged", "truncated", "not a netcdf"]
            .iter()
            .any(|w| said.contains(w))
}

/// Whether an error message names `path` and a variable and refuses content that is
/// well-formed but unusable: CF time units, calendar or values that do not decode, a
/// dimension named twice in one variable, a filter (by id) that no engine decodes.
pub fn error_refuses_content(message: &str, path: &Path) -> bool {
    let path = path.display().to_string();
    message.starts_with(&format!("{path}: variable `"))
        && [
            "cannot parse time units `",
            "cannot decode time units `",
            "open the file with decode_times(false)",
            "unknown calendar `",
            "time value ",
            "missing values in a time variable",
            "named twice",
            "compressed with filter id ",
        ]
        .iter()
        .any(|w| message.contains(w))
}

/// One mutant's result.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The mutant.
    pub mutant: Mutant,
    /// Where its file is (kept only when it failed).
    pub path: PathBuf,
    /// What happened.
    pub verdict: Verdict,
}

/// How to run the probe over mutants.
#[derive(Debug, Clone)]
pub struct Campaign {
    /// The `geoxr-probe` program.
    pub probe: PathBuf,
    /// Arguments before the file names (`--engine libnetcdf`).
    pub args: Vec<String>,
    /// Where mutants are written (emptied first); failing ones stay there.
    pub dir: PathBuf,
    /// Mutants per child process.
    pub batch: usize,
    /// Timeout of a child: this much plus [`Campaign::per_file`] per file.
    pub base_timeout: Duration,
    /// Extra timeout per file of a batch.
    pub per_file: Duration,
    /// Address-space limit of a child, in MiB.
    pub memory_mib: u64,
}

impl Campaign {
    /// Batches of 20, 20 s + 3 s per file before a child counts as hung, 4 GiB of
    /// address space per child.
    pub fn new(probe: impl Into<PathBuf>, dir: impl Into<PathBuf>) -> Campaign {
        Campaign {
            probe: probe.into(),
            args: Vec::new(),
            dir: dir.into(),
            batch: 20,
            base_timeout: Duration::from_secs(20),
            per_file: Duration::from_secs(3),
            memory_mib: 4096,
        }
    }

    /// The same campaign with arguments for the probe (before the file names).
    pub fn args<S: Into<String>>(mut self, args: impl IntoIterator<Item = S>) -> Campaign {
        self.args = args.into_iter().map(Into::into).collect();
        self
    }

    /// Runs the probe over `paths` in one child and reads its answers.
    fn probe(&self, paths: &[PathBuf]) -> Result<(Finished, BTreeMap<PathBuf, Verdict>)> {
        let mut command = child::limited(&self.probe, self.memory_mib);
        command.args(&self.args).args(paths);
        let timeout = self.base_timeout + self.per_file * paths.len() as u32;
        let done = child::run(&mut command, timeout)?;
        let mut answers = BTreeMap::new();
        for line in done.stdout.lines() {
            let mut fields = line.splitn(3, '\t');
            let (Some(status), Some(path), Some(text)) =
                (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            let path = PathBuf::from(path);
            let verdict = match status {
                "ok" => Verdict::Opened(text.to_owned()),
                _ if error_is_clear(text, &path) => Verdict::Refused(text.to_owned()),
                _ if error_refuses_content(text, &path) => Verdict::Unusable(text.to_owned()),
                _ => Verdict::Unclear(text.to_owned()),
            };
            answers.insert(path, verdict);
        }
        Ok((done, answers))
    }

    /// Writes, probes and judges every mutant; returns the tally. Mutants that failed
    /// stay in [`Campaign::dir`]; the others are deleted.
    pub fn run(&self, seeds: &[Seed], mutants: &[Mutant]) -> Result<Report> {
        let started = Instant::now();
        let _ = std::fs::remove_dir_all(&self.dir);
        std::fs::create_dir_all(&self.dir).map_err(|e| format!("{}: {e}", self.dir.display()))?;
        let mut outcomes = Vec::new();
        let mut batch_crashes = Vec::new();
        for batch in mutants.chunks(self.batch.max(1)) {
            let mut paths = Vec::new();
            for m in batch {
                let seed = seeds.get(m.seed).ok_or_else(|| {
                    format!(
                        "mutant {} names seed {} of {}",
                        m.index,
                        m.seed,
                        seeds.len()
                    )
                })?;
                let path = self.dir.join(m.file_name(seeds));
                std::fs::write(&path, m.mutation.apply(&seed.bytes))
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                paths.push(path);
            }
            let (done, mut answers) = self.probe(&paths)?;
            let mut unexplained = false;
            if let Some(trouble) = done.trouble() {
                // Which file killed it? Each unanswered one, alone.
                let mut named = false;
                let unanswered: Vec<PathBuf> = paths
                    .iter()
                    .filter(|p| !answers.contains_key(*p))
                    .cloned()
                    .collect();
                for path in &unanswered {
                    let (alone, mut answer) = self.probe(std::slice::from_ref(path))?;
                    let verdict = match (alone.trouble(), answer.remove(path)) {
                        (Some(trouble), _) => {
                            named = true;
                            Verdict::Crashed(format!("{trouble}: {}", alone.stderr_gist()))
                        }
                        (None, Some(verdict)) => verdict,
                        (None, None) => Verdict::Crashed("the probe gave no answer".into()),
                    };
                    answers.insert(path.clone(), verdict);
                }
                if !named {
                    // It may have died after its last answer (closing a file, at
                    // exit): try the answered files alone too.
                    for path in paths.iter().filter(|p| !unanswered.contains(p)) {
                        let (alone, _) = self.probe(std::slice::from_ref(path))?;
                        if let Some(trouble) = alone.trouble() {
                            named = true;
                            let gist = alone.stderr_gist();
                            let verdict =
                                Verdict::Crashed(format!("{trouble} after answering: {gist}"));
                            answers.insert(path.clone(), verdict);
                        }
                    }
                }
                if !named {
                    unexplained = true;
                    batch_crashes.push(BatchCrash {
                        paths: paths.clone(),
                        trouble: format!("{trouble}: {}", done.stderr_gist()),
                    });
                }
            }
            for (m, path) in batch.iter().zip(paths) {
                let verdict = answers
                    .remove(&path)
                    .unwrap_or_else(|| Verdict::Crashed("the probe gave no answer".into()));
                let keep = verdict.failed() || unexplained;
                if !keep {
                    let _ = std::fs::remove_file(&path);
                }
                outcomes.push(Outcome {
                    mutant: m.clone(),
                    path,
                    verdict,
                });
            }
        }
        Ok(Report {
            probe: std::iter::once(self.probe.display().to_string())
                .chain(self.args.iter().cloned())
                .collect::<Vec<_>>()
                .join(" "),
            seeds: seeds.iter().map(Seed::name).collect(),
            outcomes,
            batch_crashes,
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}

/// A batch whose child died although none of its files, probed alone, kills it: the
/// damage of one file showed only after others were read in the same process.
#[derive(Debug, Clone)]
pub struct BatchCrash {
    /// The files of the batch, in the order they were probed (all kept on disk).
    pub paths: Vec<PathBuf>,
    /// How the child ended.
    pub trouble: String,
}

/// The result of a campaign.
#[derive(Debug, Clone)]
pub struct Report {
    /// The probe command line, for reproduction.
    pub probe: String,
    /// Seed names, by position.
    pub seeds: Vec<String>,
    /// Every mutant's outcome, in plan order.
    pub outcomes: Vec<Outcome>,
    /// Batches that died with no single culprit.
    pub batch_crashes: Vec<BatchCrash>,
    /// Wall-clock seconds of the campaign.
    pub seconds: f64,
}

impl Report {
    /// Mutants that crashed or hung the probe.
    pub fn crashed(&self) -> Vec<&Outcome> {
        self.outcomes
            .iter()
            .filter(|o| matches!(o.verdict, Verdict::Crashed(_)))
            .collect()
    }

    /// Mutants refused with an error that does not name the file or the damage.
    pub fn unclear(&self) -> Vec<&Outcome> {
        self.outcomes
            .iter()
            .filter(|o| matches!(o.verdict, Verdict::Unclear(_)))
            .collect()
    }

    /// Whether nothing failed.
    pub fn passed(&self) -> bool {
        self.batch_crashes.is_empty() && self.outcomes.iter().all(|o| !o.verdict.failed())
    }

    /// A table of outcomes per seed file and per kind of damage.
    pub fn summary(&self) -> String {
        let mut rows: BTreeMap<(usize, String), [usize; 5]> = BTreeMap::new();
        let mut by_kind: BTreeMap<String, [usize; 5]> = BTreeMap::new();
        for o in &self.outcomes {
            let column = match o.verdict {
                Verdict::Opened(_) => 0,
                Verdict::Refused(_) => 1,
                Verdict::Unusable(_) => 2,
                Verdict::Unclear(_) => 3,
                Verdict::Crashed(_) => 4,
            };
            let seed = self.seeds.get(o.mutant.seed).cloned().unwrap_or_default();
            rows.entry((o.mutant.seed, seed)).or_default()[column] += 1;
            by_kind.entry(o.mutant.kind()).or_default()[column] += 1;
        }
        let mut text = format!(
            "{} mutants through `{}` in {:.1} s\n{:<22} {:>7} {:>7} {:>9} {:>8} {:>8}\n",
            self.outcomes.len(),
            self.probe,
            self.seconds,
            "",
            "opened",
            "refused",
            "unusable",
            "unclear",
            "crashed"
        );
        let mut line = |name: &str, c: &[usize; 5]| {
            text += &format!(
                "{name:<22} {:>7} {:>7} {:>9} {:>8} {:>8}\n",
                c[0], c[1], c[2], c[3], c[4]
            );
        };
        for ((_, name), counts) in &rows {
            line(name, counts);
        }
        for (kind, counts) in &by_kind {
            line(kind, counts);
        }
        text += "most frequent errors (the file's path shown as FILE):\n";
        for (count, message) in self.common_errors(8) {
            text += &format!("{count:>7}  {message}\n");
        }
        if !self.batch_crashes.is_empty() {
            text += &format!(
                "{} batches died with no single culprit\n",
                self.batch_crashes.len()
            );
        }
        text
    }

    /// The `n` most frequent error messages with their counts, the mutant's path
    /// replaced by `FILE` and cut to 160 characters.
    pub fn common_errors(&self, n: usize) -> Vec<(usize, String)> {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for o in &self.outcomes {
            if let Verdict::Refused(t) | Verdict::Unusable(t) | Verdict::Unclear(t) = &o.verdict {
                let general = t.replace(&o.path.display().to_string(), "FILE");
                *counts
                    .entry(general.chars().take(160).collect())
                    .or_default() += 1;
            }
        }
        let mut sorted: Vec<(usize, String)> = counts.into_iter().map(|(m, c)| (c, m)).collect();
        sorted.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        sorted.truncate(n);
        sorted
    }

    /// Every failure with its mutant's path, description and verdict, and how to
    /// reproduce it: crashes first.
    pub fn failures(&self) -> String {
        self.failures_listed(usize::MAX, usize::MAX)
    }

    /// Like [`Report::failures`], with at most `crashes` crashes and `unclear`
    /// unclear errors listed, and a count of the rest.
    pub fn failures_listed(&self, crashes: usize, unclear: usize) -> String {
        let crashed = self.crashed();
        let vague = self.unclear();
        let mut text = String::new();
        let listed = crashed
            .iter()
            .take(crashes)
            .chain(vague.iter().take(unclear));
        for o in listed {
            let (what, detail) = match &o.verdict {
                Verdict::Crashed(t) => ("CRASH", t.as_str()),
                Verdict::Unclear(t) => ("unclear error", t.as_str()),
                Verdict::Opened(t) | Verdict::Refused(t) | Verdict::Unusable(t) => ("", t.as_str()),
            };
            let detail: String = detail.chars().take(300).collect();
            text += &format!(
                "{what}: {}\n    {}\n    {detail}\n    reproduce: {} {}\n",
                o.path.display(),
                o.mutant.describe(),
                self.probe,
                o.path.display()
            );
        }
        for b in &self.batch_crashes {
            let list: Vec<String> = b.paths.iter().map(|p| p.display().to_string()).collect();
            text += &format!(
                "CRASH of a whole batch, no single file reproduces it:\n    {}\n    reproduce: {} {}\n",
                b.trouble.chars().take(300).collect::<String>(),
                self.probe,
                list.join(" ")
            );
        }
        let left = crashed.len().saturating_sub(crashes) + vague.len().saturating_sub(unclear);
        if left > 0 {
            text += &format!("... and {left} more\n");
        }
        text
    }
}

/// `cargo xtask fuzz N [SEED]`: builds the probe (release), writes the seeds under
/// `target/fuzz/`, and runs `count` mutants through every read engine the probe
/// knows. Fails if the default engine crashes, hangs or gives an unclear error on any
/// of them; other engines are measured and reported only.
pub fn xtask(paths: &crate::Paths, count: usize, plan_seed: u64) -> Result<()> {
    let root = &paths.root;
    crate::say("building geoxr-probe and imerg-sample (release)");
    crate::setup::run(Command::new("cargo").current_dir(root).args([
        "build",
        "--release",
        "-p",
        "geoxr",
        "--bin",
        "geoxr-probe",
        "--bin",
        "imerg-sample",
    ]))?;
    let bin = root.join("target/release");
    let probe = bin.join("geoxr-probe");
    let work = root.join("target/fuzz");
    let seeds = seeds(
        &work.join("seeds"),
        &bin.join("imerg-sample"),
        &python(root)?,
    )?;
    let engines = checked(
        Command::new(&probe).arg("--engines"),
        "geoxr-probe --engines",
    )?;
    let engines: Vec<&str> = engines.lines().filter(|l| !l.is_empty()).collect();
    let mutants = plan(&seeds, count, plan_seed);
    crate::say(format!(
        "{count} mutants (plan seed {plan_seed}) of {} seed files, engines: {}",
        seeds.len(),
        engines.join(", ")
    ));
    let mut default_failed = None;
    for (i, engine) in engines.iter().enumerate() {
        // The default engine is probed as a user gets it, without naming it.
        let args = if i == 0 {
            vec![]
        } else {
            vec!["--engine", engine]
        };
        let campaign = Campaign::new(&probe, work.join(format!("mutants-{engine}"))).args(args);
        let report = campaign.run(&seeds, &mutants)?;
        println!("\n{}", report.summary());
        println!("{}", report.failures_listed(usize::MAX, 10));
        let failed = report
            .outcomes
            .iter()
            .filter(|o| o.verdict.failed())
            .count();
        let crashed = report.crashed();
        let hung = crashed
            .iter()
            .filter(|o| matches!(&o.verdict, Verdict::Crashed(t) if t.contains("(hang)")))
            .count();
        crate::say(format!(
            "engine {engine}{}: {} of {} crashed the probe ({hung} of them hung), {} unclear errors, \
             {} batches died without a single culprit",
            if i == 0 { " (default)" } else { "" },
            crashed.len(),
            report.outcomes.len(),
            report.unclear().len(),
            report.batch_crashes.len()
        ));
        if i == 0 && !report.passed() {
            default_failed = Some(failed + report.batch_crashes.len());
        }
    }
    match default_failed {
        None => Ok(()),
        Some(n) => Err(format!(
            "the default engine failed on {n} damaged files (kept under {})",
            work.display()
        )),
    }
}

#[cfg(test)]
// One-element lists of byte ranges are what the tests mean.
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    use super::*;

    fn seed(len: usize, data: Vec<Range<usize>>) -> Seed {
        Seed {
            path: PathBuf::from("/tmp/x.nc"),
            bytes: (0..len).map(|i| i as u8).collect(),
            data,
        }
    }

    #[test]
    fn metadata_is_what_data_leaves() {
        let s = seed(100, vec![10..20, 15..30, 50..60]);
        assert_eq!(s.metadata(), vec![0..10, 30..50, 60..100]);
        assert_eq!(seed(10, vec![0..10]).metadata(), Vec::<Range<usize>>::new());
    }

    #[test]
    fn mutations_change_what_they_say() {
        let bytes = [0u8, 1, 2, 3, 4, 5];
        assert_eq!(
            Mutation::Flips(vec![(1, 0x80), (9, 1)]).apply(&bytes),
            [0, 0x81, 2, 3, 4, 5]
        );
        assert_eq!(Mutation::Truncate(2).apply(&bytes), [0, 1]);
        assert_eq!(
            Mutation::Fill {
                at: 4,
                len: 9,
                byte: 0
            }
            .apply(&bytes),
            [0, 1, 2, 3, 0, 0]
        );
    }

    #[test]
    fn plans_are_deterministic_and_aimed() {
        let seeds = [seed(20_000, vec![8000..20_000]), seed(3000, vec![])];
        let a = plan(&seeds, 400, 7);
        assert_eq!(a, plan(&seeds, 400, 7));
        assert_eq!(a[..100], plan(&seeds, 100, 7)[..]);
        assert_ne!(a, plan(&seeds, 400, 8));
        for m in &a {
            if let (Target::Metadata, Mutation::Flips(flips)) = (m.target, &m.mutation) {
                if m.seed == 0 {
                    assert!(flips.iter().all(|&(at, _)| at < 8000), "{m:?}");
                }
            }
            if m.target == Target::Data {
                assert_eq!(m.seed, 0, "a seed without data ranges gets no data hits");
            }
        }
        let kinds: std::collections::BTreeSet<String> = a.iter().map(Mutant::kind).collect();
        for kind in [
            "flip metadata",
            "flip data",
            "truncate metadata",
            "zero metadata",
            "fill 0xff metadata",
        ] {
            assert!(kinds.contains(kind), "{kind} missing from {kinds:?}");
        }
    }

    #[test]
    fn clear_errors_name_the_file_and_the_damage() {
        let p = Path::new("/x/a.nc");
        assert!(error_is_clear(
            "/x/a.nc: damaged or truncated NetCDF-4/HDF5 file",
            p
        ));
        assert!(error_is_clear("/x/a.nc: not a NetCDF file", p));
        assert!(!error_is_clear(
            "/x/a.nc: variable `t`: NetCDF: HDF error",
            p
        ));
        assert!(!error_is_clear("damaged file", p));
        assert!(error_refuses_content(
            "/x/a.nc: variable `time`: cannot parse time units `da`",
            p
        ));
        assert!(!error_refuses_content(
            "/x/a.nc: cannot parse time units `da`",
            p
        ));
        assert!(!error_refuses_content(
            "/x/a.nc: variable `t`: HDF error",
            p
        ));
        let filter = "/x/a.nc: variable `v`: it is compressed with filter id 2050, which ...";
        assert!(error_refuses_content(filter, p));
        let damaged_dir = Path::new("/tmp/damaged_files/truncated.nc");
        assert!(!error_is_clear(
            "/tmp/damaged_files/truncated.nc: HDF error",
            damaged_dir
        ));
    }

    /// A fake probe that crashes on one file, hangs on another, dies at exit after
    /// answering for a third, and crashes on a fourth only after a fifth was read in
    /// the same process: the campaign must name the first three culprits, keep their
    /// files, judge the rest of their batches, and keep the whole fourth batch.
    #[test]
    fn campaigns_name_and_keep_the_mutants_that_crash() {
        let dir = std::env::temp_dir().join(format!("xtask-fuzz-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let probe = dir.join("probe.sh");
        let script = r#"#!/bin/sh
for f in "$@"; do
  case "$f" in
    *-00001-*) printf 'err\t%s\t%s: variable x: HDF error\n' "$f" "$f" ;;
    *-00002-*) printf 'err\t%s\t%s: truncated file\n' "$f" "$f" ;;
    *-00003-*) kill -SEGV $$ ;;
    *-00005-*) sleep 60 ;;
    *-00009-*) at_exit=1; printf 'ok\t%s\t1 variables\n' "$f" ;;
    *-00012-*) seen=1; printf 'ok\t%s\t1 variables\n' "$f" ;;
    *-00013-*) [ -n "$seen" ] && kill -SEGV $$; printf 'ok\t%s\t1 variables\n' "$f" ;;
    *) printf 'ok\t%s\t1 variables\n' "$f" ;;
  esac
done
[ -n "$at_exit" ] && kill -ABRT $$
exit 0
"#;
        std::fs::write(&probe, script).expect("probe written");
        let mut perms = std::fs::metadata(&probe).expect("probe").permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(&probe, perms).expect("chmod");
        let seeds = [seed(5000, vec![1000..5000])];
        let mutants = plan(&seeds, 16, 1);
        let mut campaign = Campaign::new(&probe, dir.join("mutants"));
        campaign.batch = 4;
        campaign.base_timeout = Duration::from_millis(1500);
        campaign.per_file = Duration::ZERO;
        let report = campaign.run(&seeds, &mutants).expect("campaign runs");
        let verdicts: Vec<&Verdict> = report.outcomes.iter().map(|o| &o.verdict).collect();
        let crashed = |i: usize, what: &str| {
            assert!(
                matches!(verdicts[i], Verdict::Crashed(t) if t.contains(what)),
                "mutant {i}: {:?}",
                verdicts[i]
            )
        };
        assert!(matches!(verdicts[0], Verdict::Opened(_)));
        assert!(matches!(verdicts[1], Verdict::Unclear(_)));
        assert!(matches!(verdicts[2], Verdict::Refused(_)));
        crashed(3, "SIGSEGV");
        crashed(5, "hang");
        crashed(9, "SIGABRT");
        crashed(9, "after answering");
        for i in [0, 4, 6, 7, 8, 10, 11, 12, 13, 14, 15] {
            assert!(
                matches!(verdicts[i], Verdict::Opened(_)),
                "mutant {i}: {:?}",
                verdicts[i]
            );
        }
        assert!(!report.passed());
        assert_eq!((report.crashed().len(), report.unclear().len()), (3, 1));
        assert_eq!(report.batch_crashes.len(), 1);
        assert_eq!(report.batch_crashes[0].paths.len(), 4);
        assert!(report.batch_crashes[0].trouble.contains("SIGSEGV"));
        let kept: Vec<usize> = (0..16)
            .filter(|&i| report.outcomes[i].path.exists())
            .collect();
        assert_eq!(kept, [1, 3, 5, 9, 12, 13, 14, 15]);
        assert!(report.failures().contains("reproduce:"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
