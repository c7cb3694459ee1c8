/*
 * Waitable timers and timer queues: manual-reset (notification) and auto-reset
 * (synchronization) timers with relative and absolute due times, periodic ones, cancel,
 * the reset a set makes, multi-object waits over timers, timers opened by name, access
 * rights; timer queues with one-shot and periodic timers, ChangeTimerQueueTimer, and each
 * way of deleting a timer or a queue; completion routines (run by alertable waits of the
 * thread that set the timer; taken back by a cancel or a new set,
 * not by a close; each expiry of a periodic timer). Only outcomes are printed ("fired at least 3
 * times"), never timings.
 *
 * Usage: fidelity_timers SUFFIX
 */
#include "fidelity_wait.h"
#include "fidelity_wine.h"

/* A relative due time of `ms` milliseconds (negative: 100-ns units from now). */
static LARGE_INTEGER after(LONGLONG ms) {
    LARGE_INTEGER due;
    due.QuadPart = -ms * 10000;
    return due;
}

/* An absolute due time `ms` milliseconds from now (negative: in the past). */
static LARGE_INTEGER at(LONGLONG ms) {
    FILETIME now;
    LARGE_INTEGER due;
    GetSystemTimeAsFileTime(&now);
    due.QuadPart = (LONGLONG)(((ULONGLONG)now.dwHighDateTime << 32) | now.dwLowDateTime) + ms * 10000;
    return due;
}

static BOOL set_timer(HANDLE t, LARGE_INTEGER due, LONG period) {
    return SetWaitableTimer(t, &due, period, NULL, NULL, FALSE);
}

/* ---- timer-queue callbacks ------------------------------------------------------------ */

struct counter {
    volatile LONG calls;
    LONG signal_at;
    HANDLE reached;
};

static VOID CALLBACK count(PVOID p, BOOLEAN fired) {
    struct counter *c = p;
    LONG n = InterlockedIncrement(&c->calls);
    if (!fired) c->calls = -1000;
    if (n == c->signal_at) SetEvent(c->reached);
}

struct blocker {
    HANDLE started, go;
    volatile LONG done;
};

/* Says it started, waits for `go` (or sleeps a while when there is none), then is done. */
static VOID CALLBACK block(PVOID p, BOOLEAN fired) {
    struct blocker *b = p;
    (void)fired;
    SetEvent(b->started);
    if (b->go)
        WaitForSingleObject(b->go, 10000);
    else
        Sleep(200);
    InterlockedIncrement(&b->done);
}

static void counter_init(struct counter *c, LONG signal_at) {
    c->calls = 0;
    c->signal_at = signal_at;
    c->reached = event(TRUE, FALSE);
}

static void blocker_init(struct blocker *b, BOOL with_go) {
    b->started = event(TRUE, FALSE);
    b->go = with_go ? event(TRUE, FALSE) : NULL;
    b->done = 0;
}

static void waitable_timers(const char *suffix) {
    HANDLE m, a, b, two[2], named, again, opened, weak, nosync, ex;
    char name[128];
    LONG fired;
    int i;

    /* ---- a manual-reset timer ---- */
    m = CreateWaitableTimerA(NULL, TRUE, NULL);
    report("create a manual-reset timer", m != NULL, "NULL");
    expect_wait("  not signalled before it is set", WaitForSingleObject(m, 0), WAIT_TIMEOUT, 0);
    expect_bool("  set 50 ms from now", set_timer(m, after(50), 0), TRUE, 0);
    expect_wait("  signalled when due", WaitForSingleObject(m, 10000), WAIT_OBJECT_0, 0);
    expect_wait("  and stays signalled", WaitForSingleObject(m, 0), WAIT_OBJECT_0, 0);
    expect_wait("  for every waiter", WaitForSingleObject(m, 0), WAIT_OBJECT_0, 0);
    expect_bool("  set again, 10 s from now", set_timer(m, after(10000), 0), TRUE, 0);
    expect_wait("  the set reset it", WaitForSingleObject(m, 0), WAIT_TIMEOUT, 0);
    expect_bool("  cancel", CancelWaitableTimer(m), TRUE, 0);
    expect_wait("  still not signalled", WaitForSingleObject(m, 0), WAIT_TIMEOUT, 0);
    expect_bool("  set 300 ms from now", set_timer(m, after(300), 0), TRUE, 0);
    expect_bool("  cancel it at once", CancelWaitableTimer(m), TRUE, 0);
    expect_wait("  a cancelled timer does not fire", WaitForSingleObject(m, 600), WAIT_TIMEOUT, 0);
    expect_bool("  set to a time already past (absolute)", set_timer(m, at(-1000), 0), TRUE, 0);
    expect_wait("  fires at once", WaitForSingleObject(m, 10000), WAIT_OBJECT_0, 0);
    expect_bool("  cancel a signalled timer", CancelWaitableTimer(m), TRUE, 0);
    expect_wait("  it stays signalled", WaitForSingleObject(m, 0), WAIT_OBJECT_0, 0);
    expect_bool("  set 100 ms from now (absolute)", set_timer(m, at(100), 0), TRUE, 0);
    expect_wait("  not signalled yet", WaitForSingleObject(m, 0), WAIT_TIMEOUT, 0);
    expect_wait("  signalled when due", WaitForSingleObject(m, 10000), WAIT_OBJECT_0, 0);
    expect_bool("  set 10 s from now (absolute)", set_timer(m, at(10000), 0), TRUE, 0);
    expect_wait("  not signalled", WaitForSingleObject(m, 100), WAIT_TIMEOUT, 0);

    /* ---- an auto-reset (synchronization) timer ---- */
    a = CreateWaitableTimerW(NULL, FALSE, NULL);
    report("create an auto-reset timer", a != NULL, "NULL");
    expect_bool("  set 20 ms from now", set_timer(a, after(20), 0), TRUE, 0);
    expect_wait("  a wait is released when due", WaitForSingleObject(a, 10000), WAIT_OBJECT_0, 0);
    expect_wait("  and took the expiry", WaitForSingleObject(a, 0), WAIT_TIMEOUT, 0);
    expect_wait("  a one-shot timer expires once", WaitForSingleObject(a, 200), WAIT_TIMEOUT, 0);
    expect_bool("  periodic: every 10 ms", set_timer(a, after(10), 10), TRUE, 0);
    fired = 0;
    for (i = 0; i < 3; i++)
        if (WaitForSingleObject(a, 10000) == WAIT_OBJECT_0) fired++;
    report("  a periodic timer fired at least 3 times", fired == 3, "fewer");
    expect_bool("  cancel", CancelWaitableTimer(a), TRUE, 0);
    WaitForSingleObject(a, 0); /* an expiry just before the cancel */
    expect_wait("  a cancelled periodic timer fires no more", WaitForSingleObject(a, 200),
                WAIT_TIMEOUT, 0);

    /* ---- two timers in one wait ---- */
    b = CreateWaitableTimerA(NULL, TRUE, NULL);
    two[0] = m;
    two[1] = b;
    expect_bool("second timer set 50 ms from now", set_timer(b, after(50), 0), TRUE, 0);
    expect_wait("wait-any over two timers: the one that fires",
                WaitForMultipleObjects(2, two, FALSE, 10000), WAIT_OBJECT_0 + 1, 0);
    expect_wait("wait-all: not until both fired", WaitForMultipleObjects(2, two, TRUE, 100),
                WAIT_TIMEOUT, 0);
    expect_bool("first timer set 50 ms from now", set_timer(m, after(50), 0), TRUE, 0);
    expect_wait("wait-all: both fired", WaitForMultipleObjects(2, two, TRUE, 10000), WAIT_OBJECT_0, 0);

    /* ---- names ---- */
    sprintf_s(name, sizeof name, "fidelity_timer_%s", suffix);
    SetLastError(0xdeadbeef);
    named = CreateWaitableTimerA(NULL, TRUE, name);
    report("create a named timer: a new one", named != NULL && GetLastError() == 0, "not new");
    again = CreateWaitableTimerA(NULL, FALSE, name);
    report("  create it again: the same timer, ERROR_ALREADY_EXISTS",
           again != NULL && GetLastError() == ERROR_ALREADY_EXISTS, "not so");
    opened = OpenWaitableTimerA(TIMER_ALL_ACCESS, FALSE, name);
    report("  open it by name", opened != NULL, "NULL");
    expect_bool("  set through the opened handle", set_timer(opened, after(20), 0), TRUE, 0);
    expect_wait("  the created handle sees it fire", WaitForSingleObject(named, 10000), WAIT_OBJECT_0, 0);
    expect_wait("  the second create's handle too (manual reset, kept)",
                WaitForSingleObject(again, 0), WAIT_OBJECT_0, 0);
    report("open a timer that does not exist: ERROR_FILE_NOT_FOUND",
           OpenWaitableTimerA(TIMER_ALL_ACCESS, FALSE, "fidelity_no_such_timer") == NULL &&
               GetLastError() == ERROR_FILE_NOT_FOUND,
           "not so");

    /* ---- access ---- */
    weak = OpenWaitableTimerA(SYNCHRONIZE | TIMER_QUERY_STATE, FALSE, name);
    report("open without TIMER_MODIFY_STATE", weak != NULL, "NULL");
    expect_bool("  SetWaitableTimer is refused", set_timer(weak, after(10), 0), FALSE, ERROR_ACCESS_DENIED);
    expect_bool("  CancelWaitableTimer is refused", CancelWaitableTimer(weak), FALSE, ERROR_ACCESS_DENIED);
    expect_wait("  it can be waited for", WaitForSingleObject(weak, 0), WAIT_OBJECT_0, 0);
    nosync = OpenWaitableTimerA(TIMER_MODIFY_STATE, FALSE, name);
    report("open without SYNCHRONIZE", nosync != NULL, "NULL");
    expect_wait("  it cannot be waited for", WaitForSingleObject(nosync, 0), WAIT_FAILED, ERROR_ACCESS_DENIED);
    expect_bool("  it can be set", set_timer(nosync, after(10000), 0), TRUE, 0);
    expect_wait("  the set reset the timer", WaitForSingleObject(named, 0), WAIT_TIMEOUT, 0);
    expect_bool("  and cancelled", CancelWaitableTimer(nosync), TRUE, 0);
    ex = CreateWaitableTimerExA(NULL, NULL, CREATE_WAITABLE_TIMER_MANUAL_RESET, SYNCHRONIZE | TIMER_QUERY_STATE);
    report("CreateWaitableTimerEx with SYNCHRONIZE | TIMER_QUERY_STATE", ex != NULL, "NULL");
    expect_bool("  SetWaitableTimer is refused", set_timer(ex, after(10), 0), FALSE, ERROR_ACCESS_DENIED);
    CloseHandle(ex);
    ex = CreateWaitableTimerExW(NULL, NULL, CREATE_WAITABLE_TIMER_MANUAL_RESET, TIMER_ALL_ACCESS);
    expect_bool("CreateWaitableTimerEx manual reset, set", set_timer(ex, after(10), 0), TRUE, 0);
    expect_wait("  fires", WaitForSingleObject(ex, 10000), WAIT_OBJECT_0, 0);
    expect_wait("  and stays signalled", WaitForSingleObject(ex, 0), WAIT_OBJECT_0, 0);

    /* ---- bad handles ---- */
    expect_bool("SetWaitableTimer on a bad handle", set_timer((HANDLE)(ULONG_PTR)0x7ff0, after(10), 0),
                FALSE, ERROR_INVALID_HANDLE);
    two[0] = event(TRUE, FALSE);
    expect_bool("SetWaitableTimer on an event", set_timer(two[0], after(10), 0), FALSE, ERROR_INVALID_HANDLE);
    expect_bool("CancelWaitableTimer on an event", CancelWaitableTimer(two[0]), FALSE, ERROR_INVALID_HANDLE);

    CloseHandle(two[0]);
    CloseHandle(ex);
    CloseHandle(weak);
    CloseHandle(nosync);
    CloseHandle(opened);
    CloseHandle(again);
    CloseHandle(named);
    CloseHandle(b);
    CloseHandle(a);
    CloseHandle(m);
}

/* A deletion Windows (since Vista) finishes with TRUE and Wine 8 with ERROR_IO_PENDING. */
static void expect_done(const char *what, BOOL ret) {
    printf("%s: ", what);
    if (!wine_departs("timer-queue-pending",
                      ret ? "TRUE" : GetLastError() == ERROR_IO_PENDING ? "ERROR_IO_PENDING" : "other",
                      "TRUE", "ERROR_IO_PENDING"))
        failures++;
    fflush(stdout);
}

static void timer_queues(void) {
    HANDLE q, t, t2, done;
    struct counter once, periodic, changed, spent, left;
    struct blocker slow, held, evented;
    LONG calls;
    BOOL ret;

    q = CreateTimerQueue();
    report("CreateTimerQueue", q != NULL, "NULL");

    /* ---- a one-shot timer ---- */
    counter_init(&once, 1);
    expect_bool("a one-shot timer (due 0)", CreateTimerQueueTimer(&t, q, count, &once, 0, 0, 0), TRUE, 0);
    expect_wait("  its callback runs", WaitForSingleObject(once.reached, 10000), WAIT_OBJECT_0, 0);
    Sleep(100);
    report("  once, with TimerOrWaitFired TRUE", once.calls == 1, "not once");
    expect_bool("  ChangeTimerQueueTimer of a one-shot that fired: TRUE",
                ChangeTimerQueueTimer(q, t, 0, 0), TRUE, 0);
    Sleep(100);
    report("  and it does not fire again", once.calls == 1, "fired again");
    expect_bool("  delete it, waiting", DeleteTimerQueueTimer(q, t, INVALID_HANDLE_VALUE), TRUE, 0);

    /* ---- a periodic timer ---- */
    counter_init(&periodic, 3);
    expect_bool("a periodic timer (every 10 ms)",
                CreateTimerQueueTimer(&t, q, count, &periodic, 10, 10, WT_EXECUTEDEFAULT), TRUE, 0);
    expect_wait("  fired at least 3 times", WaitForSingleObject(periodic.reached, 10000), WAIT_OBJECT_0, 0);
    expect_bool("  delete it, waiting", DeleteTimerQueueTimer(q, t, INVALID_HANDLE_VALUE), TRUE, 0);
    calls = periodic.calls;
    Sleep(100);
    report("  no call after the delete", periodic.calls == calls, "called");

    /* ---- ChangeTimerQueueTimer before it fires ---- */
    counter_init(&changed, 1);
    expect_bool("a timer due in 100 s", CreateTimerQueueTimer(&t, q, count, &changed, 100000, 0, WT_EXECUTEONLYONCE),
                TRUE, 0);
    expect_bool("  changed to due now", ChangeTimerQueueTimer(q, t, 0, 0), TRUE, 0);
    expect_wait("  fires", WaitForSingleObject(changed.reached, 10000), WAIT_OBJECT_0, 0);
    expect_bool("  delete it, waiting", DeleteTimerQueueTimer(q, t, INVALID_HANDLE_VALUE), TRUE, 0);
    counter_init(&spent, 1);
    expect_bool("a periodic timer in the default queue",
                CreateTimerQueueTimer(&t, NULL, count, &spent, 100000, 100000, WT_EXECUTEINTIMERTHREAD), TRUE, 0);
    expect_bool("  changed to due in 10 ms, every 10 ms", ChangeTimerQueueTimer(NULL, t, 10, 10), TRUE, 0);
    expect_wait("  fires", WaitForSingleObject(spent.reached, 10000), WAIT_OBJECT_0, 0);
    expect_bool("  delete it, waiting", DeleteTimerQueueTimer(NULL, t, INVALID_HANDLE_VALUE), TRUE, 0);

    /* ---- deleting a timer whose callback runs ---- */
    blocker_init(&slow, FALSE);
    expect_bool("a timer whose callback takes a while",
                CreateTimerQueueTimer(&t, q, block, &slow, 0, 0, WT_EXECUTELONGFUNCTION), TRUE, 0);
    WaitForSingleObject(slow.started, 10000);
    expect_bool("  delete with INVALID_HANDLE_VALUE while it runs", DeleteTimerQueueTimer(q, t, INVALID_HANDLE_VALUE),
                TRUE, 0);
    report("  the delete waited for the callback", slow.done == 1, "returned first");

    blocker_init(&held, TRUE);
    CreateTimerQueueTimer(&t, q, block, &held, 0, 0, 0);
    WaitForSingleObject(held.started, 10000);
    SetLastError(0xdeadbeef);
    ret = DeleteTimerQueueTimer(q, t, NULL);
    expect_bool("delete with NULL while the callback runs: ERROR_IO_PENDING", ret, FALSE, ERROR_IO_PENDING);
    report("  without waiting", held.done == 0, "waited");
    SetEvent(held.go);

    blocker_init(&evented, TRUE);
    done = event(TRUE, FALSE);
    CreateTimerQueueTimer(&t, q, block, &evented, 0, 0, 0);
    WaitForSingleObject(evented.started, 10000);
    ret = DeleteTimerQueueTimer(q, t, done);
    expect_bool("delete with an event while the callback runs: ERROR_IO_PENDING", ret, FALSE, ERROR_IO_PENDING);
    expect_wait("  the event is not set while it runs", WaitForSingleObject(done, 100), WAIT_TIMEOUT, 0);
    SetEvent(evented.go);
    expect_wait("  it is set when the callback returns", WaitForSingleObject(done, 10000), WAIT_OBJECT_0, 0);
    report("  after the callback", evented.done == 1, "before");

    ResetEvent(done);
    counter_init(&left, 1);
    CreateTimerQueueTimer(&t, q, count, &left, 100000, 0, 0);
    SetLastError(0xdeadbeef);
    ret = DeleteTimerQueueTimer(q, t, done);
    report("delete with an event, no callback running: TRUE, last error kept",
           ret && GetLastError() == 0xdeadbeef, "failed");
    expect_wait("  the event is set", WaitForSingleObject(done, 0), WAIT_OBJECT_0, 0);
    CreateTimerQueueTimer(&t, q, count, &left, 100000, 0, 0);
    expect_done("delete with NULL, no callback running", DeleteTimerQueueTimer(q, t, NULL));

    /* ---- deleting queues ---- */
    counter_init(&periodic, 3);
    CreateTimerQueueTimer(&t, q, count, &periodic, 10, 10, 0);
    CreateTimerQueueTimer(&t2, q, count, &left, 100000, 0, 0);
    WaitForSingleObject(periodic.reached, 10000);
    expect_bool("DeleteTimerQueueEx with INVALID_HANDLE_VALUE", DeleteTimerQueueEx(q, INVALID_HANDLE_VALUE), TRUE, 0);
    calls = periodic.calls;
    Sleep(100);
    report("  its timers are gone", periodic.calls == calls, "called");

    q = CreateTimerQueue();
    blocker_init(&held, TRUE);
    CreateTimerQueueTimer(&t, q, block, &held, 0, 0, 0);
    WaitForSingleObject(held.started, 10000);
    ResetEvent(done);
    expect_done("DeleteTimerQueueEx with an event while a callback runs", DeleteTimerQueueEx(q, done));
    /* Windows sets the event once the callbacks returned; Wine 8 may set it before. */
    SetEvent(held.go);
    expect_wait("  the event is set", WaitForSingleObject(done, 10000), WAIT_OBJECT_0, 0);

    q = CreateTimerQueue();
    counter_init(&periodic, 0);
    CreateTimerQueueTimer(&t, q, count, &periodic, 100000, 0, 0);
    expect_done("DeleteTimerQueue", DeleteTimerQueue(q));
    CloseHandle(done);
}

/* ---- completion routines ------------------------------------------------------------- */

struct apc_runs {
    volatile LONG runs;
    DWORD thread;
};

/* The routine's time (the expiry's, in UTC) is checked by the library's unit tests: Wine 8
 * passes another value for a relative due time. */
static VOID CALLBACK on_expiry(LPVOID p, DWORD low, DWORD high) {
    struct apc_runs *r = p;
    r->runs++;
    r->thread = GetCurrentThreadId();
}

static BOOL set_with_routine(HANDLE t, LARGE_INTEGER due, LONG period, struct apc_runs *r) {
    return SetWaitableTimer(t, &due, period, on_expiry, r, FALSE);
}

static void sleep_alertably(void *p) {
    *(DWORD *)p = SleepEx(100, TRUE);
}

static void completion_routines(void) {
    struct apc_runs r = {0, 0};
    HANDLE t = CreateWaitableTimerA(NULL, TRUE, NULL);
    HANDLE periodic = CreateWaitableTimerA(NULL, FALSE, NULL);
    DWORD slept = 1;
    int i;

    expect_bool("SetWaitableTimer with a completion routine", set_with_routine(t, after(10), 0, &r), TRUE, 0);
    expect_wait("  the timer is signalled", WaitForSingleObject(t, 10000), WAIT_OBJECT_0, 0);
    report("  the routine has not run in a wait that is not alertable", r.runs == 0, "it ran");
    join_thread(start_thread(sleep_alertably, &slept));
    report("  nor in another thread's alertable wait", slept == 0 && r.runs == 0, "it ran there");
    expect_wait("  an alertable SleepEx runs it", SleepEx(10000, TRUE), WAIT_IO_COMPLETION, 0);
    report("  once, on the thread that set the timer", r.runs == 1 && r.thread == GetCurrentThreadId(),
           "not once, or elsewhere");
    expect_wait("  the next alertable wait runs nothing", SleepEx(0, TRUE), 0, 0);

    r.runs = 0;
    expect_bool("a routine queued, then the timer cancelled", set_with_routine(t, after(1), 0, &r), TRUE, 0);
    WaitForSingleObject(t, 10000);
    CancelWaitableTimer(t);
    expect_wait("  the cancel takes it back", SleepEx(0, TRUE), 0, 0);
    expect_bool("a routine queued, then the timer set again", set_with_routine(t, after(1), 0, &r), TRUE, 0);
    WaitForSingleObject(t, 10000);
    set_timer(t, after(60000), 0);
    expect_wait("  the new set takes it back", SleepEx(0, TRUE), 0, 0);
    CancelWaitableTimer(t);
    report("  neither ran", r.runs == 0, "one ran");

    /* Periodic: a synchronization timer (Wine 8 queues a manual-reset timer's routine
     * at its first expiry only; no conformance test records Windows there). */
    expect_bool("a periodic timer with a routine", set_with_routine(periodic, after(1), 5, &r), TRUE, 0);
    for (i = 0; i < 200 && r.runs < 3; i++)
        SleepEx(100, TRUE);
    report("  runs it at each expiry (3 times at least)", r.runs >= 3, "fewer runs");
    CancelWaitableTimer(periodic);
    SleepEx(0, TRUE);
    r.runs = 0;
    expect_bool("expiries while its routine waits to run", set_with_routine(periodic, after(1), 300, &r),
                TRUE, 0);
    Sleep(700);
    expect_wait("  the next alertable wait runs it", SleepEx(0, TRUE), WAIT_IO_COMPLETION, 0);
    report("  once", r.runs == 1, "more than once");
    CancelWaitableTimer(periodic);
    CloseHandle(periodic);

    r.runs = 0;
    expect_bool("a routine queued, then the timer closed", set_with_routine(t, after(1), 0, &r), TRUE, 0);
    WaitForSingleObject(t, 10000);
    CloseHandle(t);
    expect_wait("  it still runs", SleepEx(0, TRUE), WAIT_IO_COMPLETION, 0);
    report("  once", r.runs == 1, "not once");
}

int main(int argc, char *argv[]) {
    if (argc < 2) {
        printf("usage: %s SUFFIX\n", argv[0]);
        return 2;
    }
    waitable_timers(argv[1]);
    timer_queues();
    completion_routines();
    printf("%d failures\n", failures);
    return failures;
}
