//! The process's one timer thread, which fires each deadline as it comes (waitable
//! timers, `timer`, and timer-queue timers, `timerqueue`, are what it fires), and the
//! waitable timer object a handle names.
//!
//! This module imports nothing of the handle table or of the objects.

use shmkit::sync::Event;
use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, Instant};

/// Something the timer thread fires at a deadline.
pub(crate) trait Due: Send + Sync {
    /// Fires the expiry armed as `generation` (an older one is ignored); returns the
    /// next deadline of a periodic timer.
    fn fire(&self, generation: u64) -> Option<Instant>;
}

type Deadlines = BTreeMap<(Instant, u64), (Weak<dyn Due>, u64)>;

struct Scheduler {
    list: Mutex<(Deadlines, u64)>,
    changed: Condvar,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn scheduler() -> &'static Scheduler {
    static S: OnceLock<Scheduler> = OnceLock::new();
    static STARTED: std::sync::Once = std::sync::Once::new();
    let s = S.get_or_init(|| Scheduler {
        list: Mutex::new((BTreeMap::new(), 0)),
        changed: Condvar::new(),
    });
    STARTED.call_once(|| {
        std::thread::Builder::new()
            .name("shmkit-timers".into())
            .spawn(run)
            .expect("the timer thread starts");
    });
    s
}

/// Arms `target`'s expiry `generation` at `at`.
pub(crate) fn schedule(at: Instant, target: Weak<dyn Due>, generation: u64) {
    let s = scheduler();
    let mut list = lock(&s.list);
    list.1 += 1;
    let seq = list.1;
    list.0.insert((at, seq), (target, generation));
    s.changed.notify_all();
}

/// The timer thread: fires each deadline as it comes, in order.
fn run() {
    let s = scheduler();
    let mut list = lock(&s.list);
    loop {
        let now = Instant::now();
        let first = list.0.keys().next().copied();
        match first {
            None => list = s.changed.wait(list).unwrap_or_else(|p| p.into_inner()),
            Some(key) if key.0 > now => {
                list = s
                    .changed
                    .wait_timeout(list, key.0 - now)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
            Some(key) => {
                let (target, generation) = list.0.remove(&key).expect("the first deadline");
                drop(list);
                let next = target.upgrade().and_then(|t| t.fire(generation));
                if let Some(at) = next {
                    schedule(at, target, generation);
                }
                list = lock(&s.list);
            }
        }
    }
}

/// The next deadline of a periodic timer that was due at `due`: one period on, or one
/// period from now when that is already past (missed expiries are not fired in a burst).
pub(crate) fn next_period(due: Instant, period: Duration) -> Instant {
    let now = Instant::now();
    let next = due + period;
    if next < now {
        now + period
    } else {
        next
    }
}

/// A timer's completion routine: what each expiry does besides signalling the timer
/// (`queue`: queue the routine to the thread that set the timer), and what takes back
/// the one queued that has not run (`withdraw`), as a new set or a cancel do. Closing the
/// timer takes nothing back: as on Windows, where a queued routine holds a reference to
/// the timer, it still runs.
pub(crate) struct Completion {
    pub(crate) queue: Box<dyn Fn() + Send + Sync>,
    pub(crate) withdraw: Box<dyn Fn() + Send + Sync>,
}

/// What a timer is armed with.
pub(crate) struct Arm {
    /// Raised by every set and cancel: an expiry armed before is ignored.
    pub(crate) generation: u64,
    pub(crate) due: Option<Instant>,
    pub(crate) period: Duration,
    pub(crate) completion: Option<Completion>,
}

/// A waitable timer.
pub(crate) struct TimerObject {
    pub(crate) event: Arc<Event>,
    pub(crate) arm: Mutex<Arm>,
}

impl TimerObject {
    /// The event waits wait for.
    pub(crate) fn event(&self) -> Arc<Event> {
        self.event.clone()
    }

    /// Replaces the completion routine (none: `None`), taking back what the old one
    /// queued that has not run. The caller holds the timer's `arm` lock.
    pub(crate) fn replace_completion(arm: &mut Arm, new: Option<Completion>) {
        if let Some(old) = std::mem::replace(&mut arm.completion, new) {
            (old.withdraw)();
        }
    }
}

impl Due for TimerObject {
    fn fire(&self, generation: u64) -> Option<Instant> {
        let mut arm = lock(&self.arm);
        if arm.generation != generation {
            return None;
        }
        let _ = self.event.set();
        if let Some(c) = &arm.completion {
            (c.queue)();
        }
        let due = arm.due?;
        if arm.period.is_zero() {
            arm.due = None;
            return None;
        }
        let next = next_period(due, arm.period);
        arm.due = Some(next);
        Some(next)
    }
}
