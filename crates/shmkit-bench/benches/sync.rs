//! Sync objects against what a C programmer would use instead, in one run:
//!
//! - `mutex_uncontended`: `shmkit` (a named robust mutex: lock, guard dropped) against
//!   `pthread_robust` (a process-shared robust pthread mutex in shared memory);
//! - `wake_round_trip`: `shmkit_events` (set an event another process waits on, wait for
//!   its answer) against `pipe` (one byte each way through a pipe pair).
//!
//! ```text
//! cargo bench -p shmkit-bench --bench sync -- --warm-up-time 1 --measurement-time 5
//! ```
//!
//! criterion prints each function's median; the ratio is shmkit's over the baseline's,
//! both from the same run.

use criterion::Criterion;
use shmkit_bench::sync::{serve_if_partner, EventPartner, PipePartner, RobustPthreadMutex};

fn mutex(c: &mut Criterion) {
    let name = format!("Local\\shmkit-bench-mutex-{}", std::process::id());
    let m = shmkit::Mutex::create_new(&name).expect("create the mutex");
    let p = RobustPthreadMutex::new().expect("a robust pthread mutex");
    let mut group = c.benchmark_group("mutex_uncontended");
    group.bench_function("shmkit", |b| b.iter(|| drop(m.lock().expect("lock"))));
    group.bench_function("pthread_robust", |b| b.iter(|| p.lock_unlock()));
    group.finish();
}

fn wake(c: &mut Criterion) {
    let events = EventPartner::start().expect("start the event partner");
    let mut pipe = PipePartner::start().expect("start the pipe partner");
    let mut group = c.benchmark_group("wake_round_trip");
    group.bench_function("shmkit_events", |b| {
        b.iter(|| events.round_trip().expect("event round trip"))
    });
    group.bench_function("pipe", |b| {
        b.iter(|| pipe.round_trip().expect("pipe round trip"))
    });
    group.finish();
}

fn main() {
    if serve_if_partner() {
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    mutex(&mut c);
    wake(&mut c);
    c.final_summary();
}
