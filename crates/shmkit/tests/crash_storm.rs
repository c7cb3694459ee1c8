//! The crash storm: worker processes create, open, map, write, lock, signal and close
//! one shared set of names while they are SIGKILLed at random moments (mid-create,
//! holding a mutex, between map and close, ...); a keeper process that is never killed
//! holds some of the objects, with known contents, through the whole run.
//!
//! After every round (every worker killed and reaped) the storm checks, through the
//! public API and the store directory only:
//! 1. no object is in the store without a live holder, and no lease of a dead process
//!    is left (SPEC 5.3);
//! 2. every mutex can be acquired (under a watchdog), an abandonment is reported at most
//!    once (the second acquire after a release is plain `Acquired`), and data guarded by
//!    a mutex is consistent unless the acquire said `Abandoned` (SPEC 7.1);
//! 3. the keeper's data are intact, and its event and semaphore still work.
//!
//! At the end the keeper exits, a garbage-collection pass runs, and the store must be
//! empty. It prints one line, e.g.
//! `crash storm: 40 rounds, 312 kills, 0 leftovers, seed 1234`.
//!
//! The default run takes about 10 seconds. Longer runs, and replays:
//! ```text
//! SHMKIT_STORM_SECONDS=600 cargo test -p shmkit --test crash_storm -- --nocapture
//! SHMKIT_STORM_ROUNDS=1000 cargo test -p shmkit --test crash_storm
//! SHMKIT_STORM_SEED=1234 cargo test -p shmkit --test crash_storm   # the same choices again
//! ```
//! A seed replays the storm's random choices (names, operations, kill times); where the
//! kills land still depends on the scheduler.
//!
//! Processes: the test starts a coordinator (this binary again, with `SHMKIT_DIR` set to
//! a private store, so nothing runs in the store of other tests); the coordinator starts
//! the keeper and the workers, kills and checks.
#![cfg(target_os = "linux")]

mod common;

use common::users::{walk, TempStore};
use common::{child, child_role, report};
use shmkit::channel::{Receiver, Sender};
use shmkit::sync::{Acquire, Event, EventReset, Mutex, Semaphore};
use shmkit::{inspect, Access, ErrorKind, Kind, Mapping, View};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

// --- the shared set of names ----------------------------------------------------------

/// The keeper's data: a known pattern, read (never written) by the workers.
const KEEP: &str = "Local\\storm-keep";
const KEEP_SIZE: u64 = 2 * 65_536 + 4096;
/// The keeper's bookkeeping mapping: violation count, update count, one phase word per
/// worker slot (what the worker is doing, read by the coordinator just before a kill).
const BOARD: &str = "Local\\storm-board";
/// Mutexes held by the keeper, each guarding a record in a mapping the keeper holds.
const GUARDED: [(&str, &str); 2] = [
    ("Local\\storm-x0", "Local\\storm-g0"),
    ("Global\\storm-x1", "Global\\storm-g1"),
];
/// The keeper's event (auto-reset) and semaphore (1 of 3).
const KEEPER_EVENT: &str = "Local\\storm-e0";
const KEEPER_SEM: &str = "Local\\storm-s0";
/// Names only workers hold: they come and go with the workers.
const WORKER_MUTEX: &str = "Local\\storm-x2";
const WORKER_EVENT: &str = "Global\\storm-e1";
const WORKER_SEM: &str = "Local\\storm-s1";
const MAPPINGS: [(&str, u64); 3] = [
    ("Local\\storm-m0", 4096),
    ("Local\\storm-m1", 3 * 65_536),
    ("Global\\storm-m2", 10_000),
];
/// The keeper's channel: it receives (and checks) what the workers send, several at a
/// time; a worker is killed mid-loan too.
const CHANNEL: &str = "Local\\storm-c0";
const CHANNEL_PRODUCERS: usize = 16;
/// The first byte of a committed storm message, and of an abandoned loan's bytes.
const SENT: u8 = 0xc5;
const ABANDONED: u8 = 0xab;
/// A name the workers create as a mapping, a mutex or an event, whichever comes first.
const ANY: &str = "Local\\storm-any";
const ANY_SIZE: u64 = 8192;

/// What the keeper holds: every one must be listed after every round.
const KEEPER_NAMES: [&str; 9] = [
    KEEP,
    CHANNEL,
    BOARD,
    GUARDED[0].0,
    GUARDED[0].1,
    GUARDED[1].0,
    GUARDED[1].1,
    KEEPER_EVENT,
    KEEPER_SEM,
];

/// The first word of a worker mapping once a worker has seen it (it starts zeroed).
const MAGIC: u64 = 0x5354_4f52_4d21_2121;

const BOARD_VIOLATIONS: usize = 0;
const BOARD_UPDATES: usize = 8;
const BOARD_SLOTS: usize = 64;

/// Worker slots alive at a time (the machine may have two cores).
const WORKERS: usize = 3;
/// The watchdog of any wait that must end (a lock, a reply, a reaped process).
const PATIENCE: Duration = Duration::from_secs(10);

fn keep_byte(i: usize) -> u8 {
    (i.wrapping_mul(31) as u8 ^ (i >> 12) as u8).wrapping_add(7)
}

/// The guarded record: `busy`, `a`, `b`; consistent when not busy and `b == seal(a)`.
fn seal(a: u64) -> u64 {
    a.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

// --- phases -----------------------------------------------------------------------------

/// What a worker was doing when it was killed (its board word).
const PHASES: [&str; 12] = [
    "starting",
    "idle",
    "creating or opening a mapping",
    "between map and close",
    "waiting for a mutex",
    "holding a mutex mid-update",
    "using an event",
    "using a semaphore",
    "closing handles",
    "racing kinds on one name",
    "reading the keeper's data",
    "mid-channel-send (a loan open)",
];
const P_IDLE: u64 = 1;
const P_CREATE: u64 = 2;
const P_MAPPED: u64 = 3;
const P_WAIT_MUTEX: u64 = 4;
const P_HOLD_MUTEX: u64 = 5;
const P_EVENT: u64 = 6;
const P_SEM: u64 = 7;
const P_CLOSE: u64 = 8;
const P_ANY: u64 = 9;
const P_KEEP: u64 = 10;
const P_CHANNEL: u64 = 11;

// --- a small seeded generator (splitmix64) ----------------------------------------------

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
    fn pick<T: Copy>(&mut self, of: &[T]) -> T {
        of[self.below(of.len() as u64) as usize]
    }
}

fn env_u64(var: &str) -> Option<u64> {
    let v = std::env::var(var).ok()?;
    Some(
        v.parse()
            .unwrap_or_else(|_| panic!("{var}={v:?} is not a number")),
    )
}

// --- roles ------------------------------------------------------------------------------

#[test]
#[ignore = "entry point of the child processes that the storm starts"]
fn child_entry() {
    let Some((role, args)) = child_role() else {
        return;
    };
    match role.as_str() {
        "coordinator" => coordinator(),
        "keeper" => keeper(),
        "worker" => worker(args[0].parse().unwrap(), args[1].parse().unwrap()),
        other => panic!("unknown role {other}"),
    }
}

/// Ends this process when its parent does, so no worker outlives a failed run.
fn die_with_parent() {
    // SAFETY: prctl(PR_SET_PDEATHSIG) takes a signal number and changes nothing else.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
    // SAFETY: getppid has no preconditions. A parent gone before the prctl took effect
    // left this process to init.
    if unsafe { libc::getppid() } == 1 {
        // SAFETY: ends this process at once.
        unsafe { libc::_exit(2) };
    }
}

/// The keeper: creates its objects, fills them, says `ready`; then answers `check` lines
/// on stdin with `intact` or `damaged ...`, until stdin closes.
fn keeper() {
    die_with_parent();
    let keep = Mapping::create_new(KEEP, KEEP_SIZE).unwrap();
    let keep_view = keep.map(Access::ReadWrite).unwrap();
    let pattern: Vec<u8> = (0..KEEP_SIZE as usize).map(keep_byte).collect();
    keep_view.write(0, &pattern).unwrap();
    let board = Mapping::create_new(BOARD, 4096).unwrap();
    let mut guarded = Vec::new();
    for (mutex, data) in GUARDED {
        guarded.push((
            Mutex::create_new(mutex).unwrap(),
            Mapping::create_new(data, 4096).unwrap(),
        ));
    }
    let event = Event::create_new(KEEPER_EVENT, EventReset::Auto, false).unwrap();
    let sem = Semaphore::create_new(KEEPER_SEM, 1, 3).unwrap();
    let mut channel = Channel::start();
    report("ready");
    let check = |channel: &Channel| {
        let mut buf = vec![0; KEEP_SIZE as usize];
        keep_view.read(0, &mut buf).unwrap();
        // A second, fresh view through the same handle sees the same bytes.
        let mut again = vec![0; 4096];
        keep.map_range(65_536, 4096, Access::Read)
            .unwrap()
            .read(0, &mut again)
            .unwrap();
        if let Some(problem) = channel.check() {
            return problem;
        }
        match buf.iter().zip(&pattern).position(|(a, b)| a != b) {
            Some(at) => format!("damaged at byte {at}"),
            None if again[..] != pattern[65_536..65_536 + 4096] => {
                "damaged: a new view differs".to_owned()
            }
            None => "intact".to_owned(),
        }
    };
    for line in std::io::stdin().lock().lines() {
        if line.unwrap() == "check" {
            // After a round of kills: the channel still carries a message.
            match channel.probe() {
                Some(problem) => report(problem),
                None => report(check(&channel)),
            }
        }
    }
    report(check(&channel));
    channel.stop();
    drop((keep_view, keep, board, guarded, event, sem));
}

/// The bytes of a storm message of `len` bytes, from `seed` (the first byte says
/// whether it was to be committed).
fn storm_message(first: u8, seed: u64, len: usize) -> Vec<u8> {
    let mut m: Vec<u8> = (0..len)
        .map(|k| (seed as u8).wrapping_mul(3).wrapping_add(k as u8))
        .collect();
    if len >= 9 {
        m[0] = first;
        m[1..9].copy_from_slice(&seed.to_le_bytes());
    }
    m
}

/// Whether `m` is a storm message that was committed, whole.
fn storm_message_ok(m: &[u8]) -> bool {
    m.len() >= 9
        && m[0] == SENT
        && *m
            == *storm_message(
                SENT,
                u64::from_le_bytes(m[1..9].try_into().unwrap()),
                m.len(),
            )
}

/// The keeper's receiving end: a thread that receives and checks every message, and a
/// probe that proves the channel still carries messages after a round of kills.
struct Channel {
    stop: Arc<AtomicBool>,
    bad: Arc<AtomicU64>,
    probes: Arc<AtomicU64>,
    thread: std::thread::JoinHandle<()>,
    probe: Sender,
    sent_probes: u64,
}

impl Channel {
    fn start() -> Channel {
        let mut rx = Receiver::options()
            .name(CHANNEL)
            .capacity(64 * 1024)
            .max_message(2048)
            .producers(CHANNEL_PRODUCERS)
            .receiver()
            .unwrap();
        let probe = Sender::open(CHANNEL).unwrap();
        let (stop, bad, probes) = Default::default();
        let (stop2, bad2, probes2): (Arc<AtomicBool>, Arc<AtomicU64>, Arc<AtomicU64>) =
            (Arc::clone(&stop), Arc::clone(&bad), Arc::clone(&probes));
        let thread = std::thread::spawn(move || {
            while !stop2.load(Ordering::SeqCst) {
                match rx.recv_timeout(Duration::from_millis(20)) {
                    Ok(Some(m)) if &*m == b"probe" => {
                        probes2.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(Some(m)) if storm_message_ok(&m) => {}
                    Ok(Some(m)) => {
                        bad2.fetch_add(1, Ordering::SeqCst);
                        eprintln!(
                            "VIOLATION keeper: a bad channel message of {} bytes",
                            m.len()
                        );
                    }
                    Ok(None) | Err(_) => {}
                }
            }
        });
        Channel {
            stop,
            bad,
            probes,
            thread,
            probe,
            sent_probes: 0,
        }
    }

    /// `None` when every message so far was whole and a probe goes through.
    fn check(&self) -> Option<String> {
        let bad = self.bad.load(Ordering::SeqCst);
        if bad != 0 {
            return Some(format!("damaged: {bad} bad channel messages"));
        }
        None
    }

    /// Sends a probe and waits for the receiver to see it.
    fn probe(&mut self) -> Option<String> {
        if let Err(e) = self.probe.send_timeout(b"probe", PATIENCE) {
            return Some(format!("damaged: the channel probe was not sent: {e}"));
        }
        self.sent_probes += 1;
        let deadline = Instant::now() + PATIENCE;
        while self.probes.load(Ordering::SeqCst) < self.sent_probes {
            if Instant::now() > deadline {
                return Some("damaged: the channel probe was not received".to_owned());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        None
    }

    fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().unwrap();
    }
}

/// A worker: random operations on the shared names until it is killed.
fn worker(slot: usize, seed: u64) {
    die_with_parent();
    let mut w = Worker {
        rng: Rng(seed),
        board: None,
        slot,
    };
    let board = match Mapping::open(BOARD, Access::ReadWrite) {
        Ok(m) => m.map(Access::ReadWrite).unwrap(),
        Err(e) => {
            w.violation(format!("the keeper's {BOARD} cannot be opened: {e}"));
            return;
        }
    };
    w.board = Some(board);
    let mut held: Vec<Held> = Vec::new();
    // A worker is always killed; this only ends one whose coordinator vanished.
    let give_up = Instant::now() + Duration::from_secs(120);
    while Instant::now() < give_up {
        w.phase(P_IDLE);
        let got = match w.rng.below(18) {
            0..=3 => w.mapping(),
            4..=7 => w.guarded(),
            8 => w.worker_mutex(),
            9 | 10 => w.event(),
            11 | 12 => w.semaphore(),
            13 => w.any_kind(),
            14 | 15 => w.channel(),
            _ => w.keeper_data(),
        };
        for h in got {
            if w.rng.chance(2) {
                held.push(h);
            }
        }
        if !held.is_empty() && (held.len() > 8 || w.rng.chance(3)) {
            w.phase(P_CLOSE);
            let i = w.rng.below(held.len() as u64) as usize;
            drop(held.swap_remove(i));
        }
        if w.rng.chance(4) {
            std::thread::sleep(Duration::from_micros(w.rng.below(2000)));
        }
    }
}

/// Something a worker keeps open across operations.
#[allow(dead_code)] // held for its drop only
enum Held {
    Mapping(Mapping),
    View(View),
    Mutex(Mutex),
    Event(Event),
    Semaphore(Semaphore),
    Sender(Sender),
}

struct Worker {
    rng: Rng,
    board: Option<View>,
    slot: usize,
}

impl Worker {
    fn word(&self, offset: usize) -> &AtomicU64 {
        self.board.as_ref().unwrap().atomic_u64(offset).unwrap()
    }

    fn phase(&self, p: u64) {
        self.word(BOARD_SLOTS + 8 * self.slot)
            .store(p, Ordering::SeqCst);
    }

    /// Records a broken rule: counted on the board, described on stderr (a log file the
    /// coordinator reads).
    fn violation(&self, what: String) {
        if self.board.is_some() {
            self.word(BOARD_VIOLATIONS).fetch_add(1, Ordering::SeqCst);
        }
        let line = format!("VIOLATION worker {}: {what}\n", std::process::id());
        let _ = std::io::stderr().write_all(line.as_bytes());
    }

    /// `Ok` as `Some`; an error of an `expected` kind as `None`; any other error is a
    /// violation.
    fn ok<T>(&self, r: shmkit::Result<T>, expected: &[ErrorKind], what: &str) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) if expected.contains(&e.kind()) => None,
            Err(e) => {
                self.violation(format!("{what}: {:?} {e}", e.kind()));
                None
            }
        }
    }

    fn nap(&mut self) {
        if self.rng.chance(3) {
            std::thread::sleep(Duration::from_micros(self.rng.below(3000)));
        }
    }

    /// Create-or-open, create-new or open one of the worker mappings; check its size and
    /// that it is zero-filled or marked by a worker; scribble in it.
    fn mapping(&mut self) -> Vec<Held> {
        let (name, size) = self.rng.pick(&MAPPINGS);
        self.phase(P_CREATE);
        let m = match self.rng.below(3) {
            0 => self.ok(Mapping::create(name, size), &[], "create"),
            1 => match Mapping::create_new(name, size) {
                Err(e) if e.kind() == ErrorKind::AlreadyExists => self.ok(
                    Mapping::open(name, Access::ReadWrite),
                    &[ErrorKind::NotFound],
                    "open after AlreadyExists",
                ),
                r => self.ok(r, &[], "create_new"),
            },
            _ => self.ok(
                Mapping::open(name, Access::ReadWrite),
                &[ErrorKind::NotFound],
                "open",
            ),
        };
        let Some(m) = m else { return Vec::new() };
        if m.size() != size {
            self.violation(format!("{name} has size {} instead of {size}", m.size()));
            return Vec::new();
        }
        let Some(v) = self.ok(m.map(Access::ReadWrite), &[], "map") else {
            return Vec::new();
        };
        self.phase(P_MAPPED);
        match v.atomic_u64(0).unwrap().compare_exchange(
            0,
            MAGIC,
            Ordering::SeqCst,
            Ordering::SeqCst,
        ) {
            Ok(_) | Err(MAGIC) => {}
            Err(other) => self.violation(format!("{name} starts with {other:#x}, not 0 or magic")),
        }
        let len = 1 + self.rng.below(256) as usize;
        let at = 64 + self.rng.below(size - 64 - len as u64) as usize;
        let data: Vec<u8> = (0..len).map(|_| self.rng.next() as u8).collect();
        self.ok(v.write(at, &data), &[], "write");
        self.nap();
        let mut back = vec![0; len];
        self.ok(v.read(at, &mut back), &[], "read");
        // Close in either order: the view keeps the memory, the handle the name.
        if self.rng.chance(2) {
            vec![Held::View(v), Held::Mapping(m)]
        } else {
            vec![Held::Mapping(m), Held::View(v)]
        }
    }

    /// Updates a keeper-held record under its keeper-held mutex, in steps a kill can
    /// interrupt; checks the record first unless the acquire said `Abandoned`.
    fn guarded(&mut self) -> Vec<Held> {
        let (mutex_name, data_name) = self.rng.pick(&GUARDED);
        self.phase(P_WAIT_MUTEX);
        let Some(mutex) = self.ok(Mutex::create(mutex_name), &[], "create the guarded mutex")
        else {
            return Vec::new();
        };
        if !mutex.already_existed() {
            self.violation(format!("the keeper's {mutex_name} was created anew"));
        }
        let Some(data) = self.ok(
            Mapping::open(data_name, Access::ReadWrite),
            &[],
            "open the guarded data",
        ) else {
            return Vec::new();
        };
        let Some(v) = self.ok(data.map(Access::ReadWrite), &[], "map the guarded data") else {
            return Vec::new();
        };
        let guard = match mutex.lock_timeout(PATIENCE) {
            Ok(Some(guard)) => guard,
            Ok(None) => {
                self.violation(format!("{mutex_name} not acquired in {PATIENCE:?}"));
                return Vec::new();
            }
            Err(e) => {
                self.violation(format!("lock {mutex_name}: {e}"));
                return Vec::new();
            }
        };
        self.phase(P_HOLD_MUTEX);
        let [busy, a, b] = [0, 8, 16].map(|o| v.atomic_u64(o).unwrap());
        let (was_busy, old, sealed) = (
            busy.load(Ordering::SeqCst),
            a.load(Ordering::SeqCst),
            b.load(Ordering::SeqCst),
        );
        if !guard.was_abandoned() && (was_busy != 0 || sealed != seal(old)) {
            self.violation(format!(
                "{mutex_name} acquired (not abandoned) over a half-done update: \
                 busy={was_busy} a={old} b={sealed:#x}"
            ));
        }
        busy.store(1, Ordering::SeqCst);
        let new = old.wrapping_add(1);
        a.store(new, Ordering::SeqCst);
        self.nap();
        b.store(seal(new), Ordering::SeqCst);
        if self.rng.chance(4) {
            // Recursive for its owner.
            match mutex.try_lock() {
                Ok(Some(inner)) => drop(inner),
                r => self.violation(format!("recursive try_lock gave {r:?}")),
            }
        }
        busy.store(0, Ordering::SeqCst);
        self.word(BOARD_UPDATES).fetch_add(1, Ordering::SeqCst);
        self.nap();
        drop(guard);
        vec![Held::Mutex(mutex), Held::View(v), Held::Mapping(data)]
    }

    /// Sends a few messages to the keeper, written in place; a loan is sometimes dropped
    /// (it must never appear), and a kill may land while one is open.
    fn channel(&mut self) -> Vec<Held> {
        self.phase(P_CHANNEL);
        let Some(mut tx) = self.ok(
            Sender::open(CHANNEL),
            &[ErrorKind::Busy],
            "open the channel",
        ) else {
            return Vec::new();
        };
        for _ in 0..1 + self.rng.below(4) {
            let len = 9 + self.rng.below(2000) as usize;
            let seed = self.rng.next();
            let Some(mut loan) = self.ok(tx.loan(len), &[], "loan") else {
                break;
            };
            let commit = !self.rng.chance(4);
            loan.copy_from_slice(&storm_message(
                if commit { SENT } else { ABANDONED },
                seed,
                len,
            ));
            self.nap();
            if commit {
                loan.commit();
            }
        }
        vec![Held::Sender(tx)]
    }

    /// A mutex only workers hold: it vanishes with its last holder.
    fn worker_mutex(&mut self) -> Vec<Held> {
        self.phase(P_WAIT_MUTEX);
        let Some(m) = self.ok(Mutex::create(WORKER_MUTEX), &[], "create a worker mutex") else {
            return Vec::new();
        };
        let wait = Duration::from_millis(self.rng.below(5));
        if let Some(Some(g)) = self.ok(m.lock_timeout(wait), &[], "lock a worker mutex") {
            self.phase(P_HOLD_MUTEX);
            self.nap();
            drop(g);
        }
        vec![Held::Mutex(m)]
    }

    fn event(&mut self) -> Vec<Held> {
        let (name, reset) = self.rng.pick(&[
            (KEEPER_EVENT, EventReset::Auto),
            (WORKER_EVENT, EventReset::Manual),
        ]);
        self.phase(P_EVENT);
        let Some(e) = self.ok(Event::create(name, reset, false), &[], "create an event") else {
            return Vec::new();
        };
        if e.reset_kind() != reset {
            self.violation(format!("{name} resets {:?}, not {reset:?}", e.reset_kind()));
        }
        match self.rng.below(3) {
            0 => {
                self.ok(e.set(), &[], "set");
            }
            1 => {
                self.ok(e.reset(), &[], "reset");
            }
            _ => {
                let wait = Duration::from_micros(self.rng.below(2000));
                let _ = self.ok(e.wait_timeout(wait), &[], "wait for an event");
            }
        }
        vec![Held::Event(e)]
    }

    fn semaphore(&mut self) -> Vec<Held> {
        let (name, initial, max) = self.rng.pick(&[(KEEPER_SEM, 1, 3), (WORKER_SEM, 0, 2)]);
        self.phase(P_SEM);
        let Some(s) = self.ok(
            Semaphore::create(name, initial, max),
            &[],
            "create a semaphore",
        ) else {
            return Vec::new();
        };
        if s.max() != max {
            self.violation(format!("{name} has maximum {}, not {max}", s.max()));
        }
        if self.rng.chance(2) {
            if let Some(before) = self.ok(s.release(1), &[ErrorKind::TooManyPosts], "release") {
                if before >= max {
                    self.violation(format!("{name} released from {before} of {max}"));
                }
            }
        } else {
            let wait = Duration::from_micros(self.rng.below(2000));
            self.ok(s.acquire_timeout(wait), &[], "acquire a semaphore");
        }
        vec![Held::Semaphore(s)]
    }

    /// One name, three kinds: whichever kind holds it, the others get `WrongType`.
    fn any_kind(&mut self) -> Vec<Held> {
        self.phase(P_ANY);
        let wrong = &[ErrorKind::WrongType];
        match self.rng.below(3) {
            0 => {
                let Some(m) = self.ok(Mapping::create(ANY, ANY_SIZE), wrong, "create any") else {
                    return Vec::new();
                };
                if m.size() != ANY_SIZE {
                    self.violation(format!("{ANY} has size {}", m.size()));
                }
                vec![Held::Mapping(m)]
            }
            1 => {
                let Some(m) = self.ok(Mutex::create(ANY), wrong, "create any mutex") else {
                    return Vec::new();
                };
                if let Some(Some(g)) = self.ok(m.try_lock(), &[], "try_lock any") {
                    drop(g);
                }
                vec![Held::Mutex(m)]
            }
            _ => self
                .ok(
                    Event::create(ANY, EventReset::Manual, false),
                    wrong,
                    "create any event",
                )
                .map(Held::Event)
                .into_iter()
                .collect(),
        }
    }

    fn keeper_data(&mut self) -> Vec<Held> {
        self.phase(P_KEEP);
        let Some(m) = self.ok(
            Mapping::open(KEEP, Access::Read),
            &[],
            "open the keeper's data",
        ) else {
            return Vec::new();
        };
        let offset = self.rng.pick(&[0, 65_536, 2 * 65_536]);
        let len = (KEEP_SIZE - offset) as usize;
        let Some(v) = self.ok(
            m.map_range(offset, len, Access::Read),
            &[],
            "map the keeper's data",
        ) else {
            return Vec::new();
        };
        let mut buf = vec![0; len];
        v.read(0, &mut buf).unwrap();
        if let Some(at) = (0..len).find(|&i| buf[i] != keep_byte(offset as usize + i)) {
            self.violation(format!(
                "the keeper's data differ at byte {}",
                offset as usize + at
            ));
        }
        vec![Held::View(v)]
    }
}

// --- the coordinator ----------------------------------------------------------------------

/// A child whose `@@` lines arrive on a channel.
struct Talking {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
}

impl Talking {
    fn start(mut cmd: std::process::Command) -> Talking {
        let mut child = cmd.spawn().expect("spawn");
        let stdin = child.stdin.take();
        let out = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if let Some(l) = line.strip_prefix("@@") {
                    let _ = tx.send(l.to_owned());
                }
            }
        });
        Talking {
            child,
            stdin,
            lines: rx,
        }
    }

    /// The next report line, or `None` when none came within `patience`.
    fn next(&self, patience: Duration) -> Option<String> {
        self.lines.recv_timeout(patience).ok()
    }

    fn say(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").expect("write to the child");
    }
}

impl Drop for Talking {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = reap(&mut self.child);
    }
}

/// Waits for a child that ends (or was killed), under the watchdog.
fn reap(child: &mut Child) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

struct Slot {
    child: Child,
    kill_at: Instant,
}

struct Storm {
    rng: Rng,
    seed: u64,
    log: std::path::PathBuf,
    log_seen: usize,
    board: View,
    kills: u64,
    by_phase: [u64; PHASES.len()],
    spawned: u64,
    keeper_pid: u32,
}

impl Storm {
    fn spawn(&mut self, slot: usize) -> Slot {
        self.board
            .atomic_u64(BOARD_SLOTS + 8 * slot)
            .unwrap()
            .store(0, Ordering::SeqCst);
        let seed = self.rng.next();
        let mut cmd = child("worker", &[&slot.to_string(), &seed.to_string()]);
        let log = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.log)
            .unwrap();
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log));
        self.spawned += 1;
        // Some kills land while the worker starts (before or inside its first create),
        // most while it works.
        let after = if self.rng.chance(5) {
            self.rng.below(5_000)
        } else {
            5_000 + self.rng.below(60_000)
        };
        Slot {
            child: cmd.spawn().expect("spawn a worker"),
            kill_at: Instant::now() + Duration::from_micros(after),
        }
    }

    /// SIGKILLs a worker and reaps it; a worker that ended by itself is a problem.
    fn kill(&mut self, slot: usize, s: &mut Slot, problems: &mut Vec<String>) {
        let phase = self
            .board
            .atomic_u64(BOARD_SLOTS + 8 * slot)
            .unwrap()
            .load(Ordering::SeqCst);
        if let Ok(Some(status)) = s.child.try_wait() {
            problems.push(format!("a worker ended by itself: {status}"));
            return;
        }
        let _ = s.child.kill();
        match reap(&mut s.child) {
            None => problems.push(format!("worker {} survived SIGKILL", s.child.id())),
            Some(_) => {
                self.kills += 1;
                self.by_phase[(phase as usize).min(PHASES.len() - 1)] += 1;
            }
        }
    }

    /// One round: keep `WORKERS` workers busy for `length`, killing each at its moment
    /// and starting another in its place; at the end kill them all.
    fn round(&mut self, length: Duration, problems: &mut Vec<String>) {
        let end = Instant::now() + length;
        let mut slots: Vec<Slot> = (0..WORKERS).map(|i| self.spawn(i)).collect();
        while Instant::now() < end {
            for (i, slot) in slots.iter_mut().enumerate() {
                if Instant::now() >= slot.kill_at {
                    self.kill(i, slot, problems);
                    *slot = self.spawn(i);
                }
            }
            std::thread::sleep(Duration::from_micros(500));
        }
        for (i, slot) in slots.iter_mut().enumerate() {
            self.kill(i, slot, problems);
        }
    }

    /// The checks after a round, with every worker dead and reaped.
    fn check(&mut self, keeper: &mut Talking, problems: &mut Vec<String>) -> u64 {
        let me = std::process::id();
        let live = [me, self.keeper_pid];
        let mut leftovers = 0;
        // (1) What the store shows: every listed object held, by live processes only.
        let listed = match inspect::list(false) {
            Ok(l) => l,
            Err(e) => {
                problems.push(format!("inspect::list: {e}"));
                return 1;
            }
        };
        for o in &listed {
            let pids: Vec<u32> = o.holders.iter().map(|h| h.pid).collect();
            if pids.is_empty() || pids.iter().any(|p| !live.contains(p)) {
                leftovers += 1;
                problems.push(format!(
                    "{} ({:?}) listed with holders {pids:?}",
                    o.name, o.kind
                ));
            }
        }
        for name in KEEPER_NAMES {
            if !listed.iter().any(|o| o.name == name) {
                problems.push(format!("the keeper's {name} is not listed"));
            }
        }
        // ... and the store itself: no object file that the listing does not show (one
        // whose holders all died), no lease of a dead process.
        let files = store_files();
        let objects = files
            .iter()
            .filter(|f| f.starts_with("o.") || f.starts_with("h."))
            .count();
        if objects != listed.len() {
            leftovers += objects.saturating_sub(listed.len()) as u64;
            problems.push(format!(
                "{objects} object files in the store, {} listed: {files:?}",
                listed.len()
            ));
        }
        for f in files.iter().filter(|f| f.starts_with("l.")) {
            let pid: u32 = f[2..].split('.').next().unwrap().parse().unwrap_or(0);
            if !live.contains(&pid) {
                leftovers += 1;
                problems.push(format!("lease {f} of a dead process"));
            }
        }
        // (2) Every mutex acquirable, abandonment reported once, guarded data consistent
        // unless abandoned.
        for o in listed.iter().filter(|o| o.kind == Some(Kind::Mutex)) {
            self.check_mutex(&o.name, problems);
        }
        // (3) The keeper's data and objects.
        keeper.say("check");
        match keeper.next(PATIENCE) {
            Some(r) if r == "intact" => {}
            r => problems.push(format!("the keeper says {r:?}")),
        }
        self.check_keeper_objects(problems);
        let violations = self.board.atomic_u64(BOARD_VIOLATIONS).unwrap();
        let n = violations.swap(0, Ordering::SeqCst);
        if n > 0 {
            problems.push(format!("workers saw {n} violations"));
        }
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        for line in log[self.log_seen..].lines() {
            if line.contains("VIOLATION") || line.contains("panicked") {
                problems.push(line.to_owned());
            }
        }
        self.log_seen = log.len();
        leftovers
    }

    fn check_mutex(&mut self, name: &str, problems: &mut Vec<String>) {
        let m = match Mutex::open(name) {
            Ok(m) => m,
            Err(e) => return problems.push(format!("open {name}: {e}")),
        };
        let guarded = GUARDED.iter().find(|(x, _)| *x == name).map(|(_, g)| {
            Mapping::open(g, Access::ReadWrite)
                .unwrap()
                .map(Access::ReadWrite)
                .unwrap()
        });
        let first = m.acquire(Some(PATIENCE));
        match first {
            Ok(Acquire::TimedOut) => {
                return problems.push(format!("{name} not acquirable within {PATIENCE:?}"))
            }
            Err(e) => return problems.push(format!("acquire {name}: {e}")),
            Ok(outcome) => {
                if let Some(v) = &guarded {
                    let [busy, a, b] = [0, 8, 16].map(|o| v.atomic_u64(o).unwrap());
                    let consistent = busy.load(Ordering::SeqCst) == 0
                        && b.load(Ordering::SeqCst) == seal(a.load(Ordering::SeqCst));
                    if !consistent && outcome == Acquire::Acquired {
                        problems.push(format!(
                            "{name} acquired (not abandoned) over a half-done update"
                        ));
                    }
                    if !consistent {
                        // Repair, as the owner of an abandoned mutex does.
                        b.store(seal(a.load(Ordering::SeqCst)), Ordering::SeqCst);
                        busy.store(0, Ordering::SeqCst);
                    }
                }
                if let Err(e) = m.release() {
                    problems.push(format!("release {name}: {e}"));
                }
            }
        }
        match m.acquire(Some(PATIENCE)) {
            Ok(Acquire::Acquired) => {
                let _ = m.release();
            }
            Ok(Acquire::Abandoned) => {
                let _ = m.release();
                problems.push(format!("{name}: abandonment reported twice"));
            }
            r => problems.push(format!("{name}: second acquire gave {r:?}")),
        }
    }

    fn check_keeper_objects(&mut self, problems: &mut Vec<String>) {
        let keep = Mapping::open(KEEP, Access::Read)
            .and_then(|m| m.map(Access::Read))
            .map(|v| {
                let mut buf = vec![0; v.len()];
                v.read(0, &mut buf).unwrap();
                buf.iter().enumerate().all(|(i, &b)| b == keep_byte(i))
            });
        if !matches!(keep, Ok(true)) {
            problems.push(format!(
                "the keeper's data as another process sees them: {keep:?}"
            ));
        }
        // The event works: a set releases one wait (auto-reset), then it is reset.
        match Event::open(KEEPER_EVENT) {
            Ok(e) => {
                let ok = e.set().is_ok()
                    && matches!(e.wait_timeout(PATIENCE), Ok(true))
                    && matches!(e.wait_timeout(Duration::ZERO), Ok(false));
                if !ok {
                    problems.push(format!("{KEEPER_EVENT} does not work"));
                }
            }
            Err(e) => problems.push(format!("open {KEEPER_EVENT}: {e}")),
        }
        // The semaphore: whatever units the killed workers took, one can be given back
        // (or the count is at its maximum) and then taken.
        match Semaphore::open(KEEPER_SEM) {
            Ok(s) => {
                let given = match s.release(1) {
                    Ok(before) => before < 3,
                    Err(e) => e.kind() == ErrorKind::TooManyPosts,
                };
                if !given || !matches!(s.acquire_timeout(PATIENCE), Ok(true)) {
                    problems.push(format!("{KEEPER_SEM} does not work"));
                }
            }
            Err(e) => problems.push(format!("open {KEEPER_SEM}: {e}")),
        }
    }
}

/// The entries of the store's namespace directories, by file name.
fn store_files() -> Vec<String> {
    let root = std::env::var("SHMKIT_DIR").expect("the storm runs in a private store");
    walk(std::path::Path::new(&root))
        .into_iter()
        .filter(|p| !std::path::Path::new(p).is_dir())
        .map(|p| p.rsplit('/').next().unwrap().to_owned())
        .collect()
}

fn coordinator() {
    let seed = env_u64("SHMKIT_STORM_SEED").unwrap();
    let rounds = env_u64("SHMKIT_STORM_ROUNDS");
    let seconds = env_u64("SHMKIT_STORM_SECONDS").unwrap_or(10);
    let log = std::env::temp_dir().join(common::unique_base("storm-log"));
    std::fs::write(&log, b"").unwrap();

    let mut cmd = child("keeper", &[]);
    cmd.stderr(Stdio::inherit());
    let mut keeper = Talking::start(cmd);
    assert_eq!(
        keeper.next(PATIENCE).as_deref(),
        Some("ready"),
        "the keeper started"
    );
    let board = Mapping::open(BOARD, Access::ReadWrite)
        .unwrap()
        .map(Access::ReadWrite)
        .unwrap();
    let mut storm = Storm {
        rng: Rng(seed),
        seed,
        log: log.clone(),
        log_seen: 0,
        board,
        kills: 0,
        by_phase: [0; PHASES.len()],
        spawned: 0,
        keeper_pid: keeper.child.id(),
    };
    let started = Instant::now();
    let mut done = 0u64;
    let mut leftovers = 0u64;
    let mut problems = Vec::new();
    loop {
        let more = match rounds {
            Some(n) => done < n,
            None => started.elapsed() < Duration::from_secs(seconds),
        };
        if !more || !problems.is_empty() {
            break;
        }
        let length = Duration::from_millis(100 + storm.rng.below(200));
        storm.round(length, &mut problems);
        leftovers += storm.check(&mut keeper, &mut problems);
        done += 1;
        if !problems.is_empty() {
            problems.insert(0, format!("round {done} (seed {}):", storm.seed));
        }
    }
    let updates = storm
        .board
        .atomic_u64(BOARD_UPDATES)
        .unwrap()
        .load(Ordering::SeqCst);
    let by_phase: Vec<String> = PHASES
        .iter()
        .zip(storm.by_phase)
        .filter(|(_, n)| *n > 0)
        .map(|(p, n)| format!("{n} {p}"))
        .collect();

    // The end: the keeper leaves, a collection runs, nothing is left.
    drop(storm.board);
    if let Some(stdin) = keeper.stdin.take() {
        drop(stdin);
    }
    match keeper.next(PATIENCE) {
        Some(r) if r == "intact" => {}
        r => problems.push(format!("at its exit the keeper says {r:?}")),
    }
    match reap(&mut keeper.child) {
        Some(s) if s.success() => {}
        s => problems.push(format!("the keeper ended with {s:?}")),
    }
    match inspect::collect_garbage(false) {
        Ok(freed) if freed.is_empty() => {}
        Ok(freed) => {
            leftovers += freed.len() as u64;
            problems.push(format!("the final collection freed {freed:?}"));
        }
        Err(e) => problems.push(format!("collect_garbage: {e}")),
    }
    let me = format!("l.{}.", std::process::id());
    let left: Vec<String> = store_files()
        .into_iter()
        .filter(|f| !f.starts_with(&me))
        .collect();
    if !left.is_empty() {
        leftovers += left.len() as u64;
        problems.push(format!("left in the store at the end: {left:?}"));
    }
    let _ = std::fs::remove_file(&log);
    report(format!(
        "summary crash storm: {done} rounds, {} kills, {leftovers} leftovers, seed {seed}",
        storm.kills
    ));
    report(format!(
        "detail {} workers started, {updates} guarded updates; kills: {}",
        storm.spawned,
        by_phase.join(", ")
    ));
    for p in problems {
        report(format!("problem {p}"));
    }
}

// --- the test ---------------------------------------------------------------------------

#[test]
fn crash_storm() {
    let seed = env_u64("SHMKIT_STORM_SEED").unwrap_or_else(|| {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        (t.as_nanos() as u64 ^ u64::from(std::process::id())) % 1_000_000_000
    });
    // Shown even when the test passes (the harness captures only print! and eprint!).
    let say = |line: &str| {
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    };
    say(&format!(
        "crash storm: seed {seed} (SHMKIT_STORM_SEED={seed} replays it)"
    ));
    let store = TempStore::new("storm");
    let mut cmd = child("coordinator", &[]);
    store.env(&mut cmd);
    cmd.env("SHMKIT_STORM_SEED", seed.to_string())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit());
    let budget = match env_u64("SHMKIT_STORM_ROUNDS") {
        // A round takes well under a second, checks included.
        Some(rounds) => Duration::from_secs(rounds * 5),
        None => Duration::from_secs(env_u64("SHMKIT_STORM_SECONDS").unwrap_or(10)),
    } + Duration::from_secs(60);
    let coordinator = Talking::start(cmd);
    let deadline = Instant::now() + budget;
    let mut lines = Vec::new();
    loop {
        match coordinator.lines.recv_timeout(Duration::from_millis(100)) {
            Ok(l) => lines.push(l),
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                assert!(
                    Instant::now() < deadline,
                    "watchdog: the storm ran longer than {budget:?} (seed {seed}); so far: {lines:#?}"
                );
            }
        }
    }
    let mut coordinator = coordinator;
    let status = reap(&mut coordinator.child);
    for l in &lines {
        if let Some(s) = l
            .strip_prefix("summary ")
            .or_else(|| l.strip_prefix("detail "))
        {
            say(s);
        }
    }
    let problems: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("problem "))
        .collect();
    assert!(
        problems.is_empty(),
        "the crash storm found problems (seed {seed}):\n{}",
        problems.join("\n")
    );
    assert!(
        status.is_some_and(|s| s.success()),
        "the coordinator failed ({status:?}, seed {seed}): {lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("summary ")),
        "no summary (seed {seed})"
    );
    // After the coordinator's exit its own lease is gone too: the store holds only the
    // namespace directories.
    let files: Vec<String> = walk(&store.0)
        .into_iter()
        .filter(|p| !std::path::Path::new(p).is_dir())
        .collect();
    assert!(
        files.is_empty(),
        "left in the store (seed {seed}): {files:?}"
    );
}
