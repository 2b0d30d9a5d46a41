//! `geoxr-mpi-worker`: one rank of an MPI job running geoxr plans.
//!
//! ```sh
//! mpirun -n 4 geoxr-mpi-worker plan.json out.nc          # batch: rank 0 writes out.nc
//! mpirun -n 4 geoxr-mpi-worker --serve DIR                # what a notebook's Client::mpi runs
//! ```
//!
//! Everything but the messages lives in `geoxr::compute::mpi` (which does not link
//! MPI): this file only moves bytes. In the batch form rank 0 reads the plan and
//! broadcasts it; in the pool form (`--serve`) rank 0 reads one request after
//! another from its standard input and hands each to the other ranks, until the
//! input ends (see `geoxr::compute::mpi::pool`). For each plan every rank runs its
//! share. For a reduction, rank `r` then receives the running total of the pieces
//! before its own from rank `r - 1`, merges its partials onto it and hands it on to
//! rank `r + 1`, so the last rank holds the whole merge, made in the in-process
//! order. Every rank sends its outcome to rank 0, which receives them in rank order
//! and concludes. Every rank takes part in every message whatever went wrong in its
//! own work, so an error never leaves a rank waiting; a rank that dies ends the job
//! through the launcher. A rank waiting for a message probes for it with short
//! sleeps instead of MPI's blocking calls, which spin on a core.

use std::io::BufRead;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use geoxr::compute::mpi::pool::{done_line, failed_line, ready_line, Order};
use geoxr::compute::mpi::{conclude, JobOutcome, RankOutcome, RankWork, WorkerOptions};
use geoxr::compute::plan::OpenFiles;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

/// Largest single message, well under MPI's `int` count limit.
const CHUNK: usize = 1 << 30;
/// Sent instead of a length when the plan could not be read.
const NO_PLAN: u64 = u64::MAX;
/// Longest sleep between probes while a plan runs, and while a pool waits for one.
const BUSY_PAUSE: Duration = Duration::from_millis(1);
const IDLE_PAUSE: Duration = Duration::from_millis(2);

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
    if let Some(dir) = &options.serve {
        end_with_parent();
        serve(&world, me, n, dir);
        return ExitCode::SUCCESS;
    }
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
    let Some(outcomes) = run_plan(&world, me, n, &plan, &options, &OpenFiles::default()) else {
        return ExitCode::SUCCESS;
    };
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

/// Ends this rank when its parent (the launcher, or its daemon on this node) is
/// gone: a launcher killed outright cannot stop its ranks, and a pool's rank would
/// otherwise wait for requests that never come.
fn end_with_parent() {
    // SAFETY: getppid has no preconditions.
    let parent = unsafe { libc::getppid() };
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(200));
        // SAFETY: as above.
        if unsafe { libc::getppid() } != parent {
            eprintln!("geoxr-mpi-worker: the launcher is gone; this rank ends");
            std::process::exit(3);
        }
    });
}

/// Rank 0 tells the driver something on its standard output (a driver that can
/// no longer hear it is gone: nothing to do).
fn tell(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

/// The pool form: rank 0 reads requests from its standard input and hands them on;
/// every rank runs each plan, its files kept open from one plan to the next. Ends
/// when the input ends (or says `quit`).
fn serve(world: &SimpleCommunicator, me: usize, n: usize, dir: &Path) {
    let files = OpenFiles::default();
    let mut input = std::io::stdin().lock();
    if me == 0 {
        // Unheard, the end of the input follows, and with it the quit.
        tell(&ready_line(n));
    }
    loop {
        let order = if me == 0 {
            let order = next_order(&mut input, dir);
            let message = order.encode();
            for r in 1..n {
                send(&world.process_at_rank(r as i32), &message);
            }
            order
        } else {
            Order::decode(&receive(&world.process_at_rank(0), IDLE_PAUSE))
        };
        let (request, plan) = match order {
            Order::Quit => return,
            Order::Run(request, Err(why)) => {
                if me == 0 {
                    tell(&failed_line(request.seq, &why));
                }
                continue;
            }
            Order::Run(request, Ok(plan)) => (request, plan),
        };
        let options = request.options(dir);
        if let Some(outcomes) = run_plan(world, me, n, &plan, &options, &files) {
            let written = options
                .outcomes
                .as_deref()
                .map(|path| JobOutcome { ranks: outcomes }.write(path));
            match written {
                Some(Err(e)) => tell(&failed_line(request.seq, &e.to_string())),
                _ => tell(&done_line(request.seq)),
            }
        }
    }
}

/// Rank 0's next order: the next request line of its input (lines that are not
/// requests are skipped), or quit at the end of the input.
fn next_order(input: &mut impl BufRead, dir: &Path) -> Order {
    let mut line = String::new();
    loop {
        line.clear();
        match input.read_line(&mut line) {
            Ok(0) | Err(_) => return Order::Quit,
            Ok(_) => {
                if let Some(order) = Order::from_line(&line, dir) {
                    return order;
                }
                eprintln!(
                    "geoxr-mpi-worker rank 0: ignored the line `{}`",
                    line.trim()
                );
            }
        }
    }
}

/// Runs this rank's share of `plan` and hands its running total on; rank 0 gets
/// every rank's outcome, in rank order.
fn run_plan(
    world: &SimpleCommunicator,
    me: usize,
    n: usize,
    plan: &str,
    options: &WorkerOptions,
    files: &OpenFiles,
) -> Option<Vec<RankOutcome>> {
    let rank = me as i32;
    let work = RankWork::start(plan, me, n, options, files);
    let before = work
        .takes_total()
        .then(|| receive(&world.process_at_rank(rank - 1), BUSY_PAUSE));
    let (onward, outcome) = work.finish(before.as_deref());
    if let Some(message) = onward {
        send(&world.process_at_rank(rank + 1), &message);
    }
    if me != 0 {
        send(&world.process_at_rank(0), &outcome.encode());
        return None;
    }
    let mut outcomes = vec![outcome];
    for r in 1..n {
        let bytes = receive(&world.process_at_rank(r as i32), BUSY_PAUSE);
        match RankOutcome::decode(&bytes) {
            Ok((o, _)) => outcomes.push(o),
            Err(e) => outcomes.push(RankOutcome {
                rank: r,
                host: "?".into(),
                pieces: 0..0,
                seconds: 0.0,
                plan_seconds: 0.0,
                waited_seconds: 0.0,
                peak_bytes: 0,
                passed_bytes: 0,
                result: Err(format!("its message to rank 0 is damaged: {e}")),
            }),
        }
    }
    Some(outcomes)
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

/// Receives what [`send`] sent, probing for it with sleeps of up to `pause`.
fn receive(from: &impl Source, pause: Duration) -> Vec<u8> {
    let mut nap = Duration::from_micros(20);
    while from.immediate_probe().is_none() {
        std::thread::sleep(nap);
        nap = (nap * 2).min(pause);
    }
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
