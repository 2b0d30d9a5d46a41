//! `geoxr-mpi-worker`: one rank of an MPI job running a geoxr plan.
//!
//! ```sh
//! mpirun -n 4 geoxr-mpi-worker plan.json out.nc          # batch: rank 0 writes out.nc
//! mpirun -n 4 geoxr-mpi-worker --outcomes o.bin plan.json # what a notebook's Client::mpi runs
//! ```
//!
//! Everything but the messages lives in `geoxr::compute::mpi` (which does not link
//! MPI): this file only moves bytes. Rank 0 reads the plan and broadcasts it; every
//! rank runs its share. For a reduction, rank `r` then receives the running total
//! of the pieces before its own from rank `r - 1`, merges its partials onto it and
//! hands it on to rank `r + 1`, so the last rank holds the whole merge, made in the
//! in-process order. Every rank sends its outcome to rank 0, which receives them in
//! rank order and concludes. Every rank takes part in every message whatever went
//! wrong in its own work, so an error never leaves a rank waiting; a rank that dies
//! ends the job through the launcher.

use std::process::ExitCode;

use geoxr::compute::mpi::{conclude, RankOutcome, RankWork, WorkerOptions};
use mpi::traits::*;

/// Largest single message, well under MPI's `int` count limit.
const CHUNK: usize = 1 << 30;
/// Sent instead of a length when the plan could not be read.
const NO_PLAN: u64 = u64::MAX;

fn main() -> ExitCode {
    let Some(universe) = mpi::initialize() else {
        eprintln!("geoxr-mpi-worker: MPI could not be initialised");
        return ExitCode::FAILURE;
    };
    let world = universe.world();
    let (rank, ranks) = (world.rank(), world.size());
    let say = |message: &str| eprintln!("geoxr-mpi-worker rank {rank} of {ranks}: {message}");
    let (Ok(me), Ok(n)) = (usize::try_from(rank), usize::try_from(ranks)) else {
        say("MPI gave a negative rank or size");
        return ExitCode::FAILURE;
    };
    // Every rank reads the same arguments, so all agree on whether to go on.
    let options = match WorkerOptions::parse(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(e) => {
            if me == 0 {
                eprintln!("{e}");
            }
            return ExitCode::from(2);
        }
    };
    let root = world.process_at_rank(0);
    let plan = match broadcast_plan(&root, me, &options) {
        Ok(plan) => plan,
        Err(e) => {
            if me == 0 {
                say(&e);
            }
            return ExitCode::FAILURE;
        }
    };
    let work = RankWork::start(&plan, me, n, &options);
    let before = work
        .takes_total()
        .then(|| receive(&world.process_at_rank(rank - 1)));
    let (onward, outcome) = work.finish(before.as_deref());
    if let Some(message) = onward {
        send(&world.process_at_rank(rank + 1), &message);
    }
    if me != 0 {
        send(&root, &outcome.encode());
        return ExitCode::SUCCESS;
    }
    let mut outcomes = vec![outcome];
    for r in 1..ranks {
        let bytes = receive(&world.process_at_rank(r));
        match RankOutcome::decode(&bytes) {
            Ok((o, _)) => outcomes.push(o),
            Err(e) => outcomes.push(RankOutcome {
                rank: r as usize,
                host: "?".into(),
                pieces: 0..0,
                seconds: 0.0,
                peak_bytes: 0,
                passed_bytes: 0,
                result: Err(format!("its message to rank 0 is damaged: {e}")),
            }),
        }
    }
    match conclude(&plan, outcomes, &options) {
        Ok(report) => {
            eprint!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            say(&e.to_string());
            ExitCode::FAILURE
        }
    }
}

/// Rank 0 reads the plan file and sends its text to every rank.
fn broadcast_plan(root: &impl Root, me: usize, options: &WorkerOptions) -> Result<String, String> {
    let mut text = Vec::new();
    let mut len = NO_PLAN;
    let mut problem = String::new();
    if me == 0 {
        match std::fs::read(&options.plan) {
            Ok(t) => {
                len = t.len() as u64;
                text = t;
            }
            Err(e) => problem = format!("{}: cannot read the plan: {e}", options.plan.display()),
        }
    }
    root.broadcast_into(&mut len);
    if len == NO_PLAN {
        return Err(problem);
    }
    let len = usize::try_from(len).map_err(|_| "the plan is too large".to_owned())?;
    if me != 0 {
        text = vec![0; len];
    }
    for piece in text.chunks_mut(CHUNK) {
        root.broadcast_into(piece);
    }
    String::from_utf8(text)
        .map_err(|_| format!("{}: the plan is not UTF-8 text", options.plan.display()))
}

/// Sends `bytes` to a rank: their length, then pieces of at most [`CHUNK`] bytes.
fn send(to: &impl Destination, bytes: &[u8]) {
    to.send(&(bytes.len() as u64));
    for piece in bytes.chunks(CHUNK) {
        to.send(piece);
    }
}

/// Receives what [`send`] sent.
fn receive(from: &impl Source) -> Vec<u8> {
    let (len, _) = from.receive::<u64>();
    let mut bytes = Vec::new();
    while (bytes.len() as u64) < len {
        let (piece, _) = from.receive_vec::<u8>();
        if piece.is_empty() {
            break;
        }
        bytes.extend_from_slice(&piece);
    }
    bytes
}
