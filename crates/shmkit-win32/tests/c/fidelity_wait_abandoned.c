/*
 * Abandoned mutexes in WaitForMultipleObjects: a mutex whose owner (a thread, or another
 * process) ended holding it is reported as WAIT_ABANDONED_0 + its index by a wait-any,
 * as WAIT_ABANDONED_0 by a wait-all, also when the owner ends while the wait sleeps; a
 * wait-all that cannot take everything leaves the mutex abandoned for the next wait.
 *
 * Usage: fidelity_wait_abandoned SUFFIX   (the child: ... child SUFFIX)
 */
#include "fidelity_wait.h"

static char mutex_name[128], ready_name[128];

struct holder {
    HANDLE m;
    HANDLE taken; /* set once the mutex is held */
    DWORD hold_ms;
};

/* Takes the mutex and ends holding it, after `hold_ms`. */
static void take_and_end(void *p) {
    struct holder *h = p;
    WaitForSingleObject(h->m, INFINITE);
    if (h->taken) SetEvent(h->taken);
    Sleep(h->hold_ms);
}

static void abandon_by_thread(HANDLE m) {
    struct holder h = {m, NULL, 0};
    join_thread(start_thread(take_and_end, &h));
}

static void child(void) {
    HANDLE m = OpenMutexA(SYNCHRONIZE | MUTEX_MODIFY_STATE, FALSE, mutex_name);
    HANDLE ready = OpenEventA(EVENT_MODIFY_STATE | SYNCHRONIZE, FALSE, ready_name);
    if (!m || !ready || WaitForSingleObject(m, 10000) != WAIT_OBJECT_0) ExitProcess(1);
    SetEvent(ready);
    Sleep(150);
    ExitProcess(0); /* holding the mutex */
}

int main(int argc, char *argv[]) {
    HANDLE h[3], m, m2, unset, set, named, ready, proc;
    struct holder holder;
    thread t;
    DWORD r;
    char args[160];

    if (argc < 2) {
        printf("usage: %s SUFFIX\n", argv[0]);
        return 2;
    }
    sprintf_s(mutex_name, sizeof mutex_name, "Local\\fidelity-wait-abandoned-%s",
              argv[argc == 3 ? 2 : 1]);
    sprintf_s(ready_name, sizeof ready_name, "Local\\fidelity-wait-abandoned-ready-%s",
              argv[argc == 3 ? 2 : 1]);
    if (argc == 3 && strcmp(argv[1], "child") == 0) {
        child();
    }
    unset = event(TRUE, FALSE);
    set = event(TRUE, TRUE);

    /* ---- wait-any ---- */
    m = CreateMutexA(NULL, FALSE, NULL);
    abandon_by_thread(m);
    h[0] = unset;
    h[1] = m;
    expect_wait("wait-any {unset event, mutex abandoned by a thread}", WaitForMultipleObjects(2, h, FALSE, 0),
                WAIT_ABANDONED_0 + 1, 0);
    expect_wait("  the mutex is ours now: again, it is signalled", WaitForMultipleObjects(2, h, FALSE, 0),
                WAIT_OBJECT_0 + 1, 0);
    expect_bool("  released once", ReleaseMutex(m), TRUE, 0);
    expect_bool("  released twice", ReleaseMutex(m), TRUE, 0);
    expect_bool("  no third time", ReleaseMutex(m), FALSE, ERROR_NOT_OWNER);

    /* ---- the owner ends while the wait sleeps ---- */
    holder.m = m;
    holder.taken = event(FALSE, FALSE);
    holder.hold_ms = 150;
    t = start_thread(take_and_end, &holder);
    WaitForSingleObject(holder.taken, INFINITE);
    r = WaitForMultipleObjects(2, h, FALSE, 10000);
    join_thread(t);
    expect_wait("wait-any sleeping while the owning thread ends", r, WAIT_ABANDONED_0 + 1, 0);
    expect_bool("  the mutex is ours", ReleaseMutex(m), TRUE, 0);

    /* ---- wait-all ---- */
    m2 = CreateMutexA(NULL, FALSE, NULL);
    abandon_by_thread(m);
    abandon_by_thread(m2);
    h[0] = set;
    h[1] = m;
    h[2] = m2;
    expect_wait("wait-all {set event, abandoned mutex, abandoned mutex}",
                WaitForMultipleObjects(3, h, TRUE, 0), WAIT_ABANDONED_0, 0);
    expect_bool("  the first is ours", ReleaseMutex(m), TRUE, 0);
    expect_bool("  the second is ours", ReleaseMutex(m2), TRUE, 0);

    abandon_by_thread(m);
    h[0] = m;
    h[1] = unset;
    expect_wait("wait-all {abandoned mutex, unset event} times out",
                WaitForMultipleObjects(2, h, TRUE, 0), WAIT_TIMEOUT, 0);
    SetEvent(unset);
    expect_wait("  the event set: the mutex is still reported abandoned",
                WaitForMultipleObjects(2, h, TRUE, 0), WAIT_ABANDONED_0, 0);
    expect_bool("  and ours", ReleaseMutex(m), TRUE, 0);
    ResetEvent(unset);

    /* ---- abandoned by another process ---- */
    named = CreateMutexA(NULL, FALSE, mutex_name);
    ready = CreateEventA(NULL, TRUE, FALSE, ready_name);
    sprintf_s(args, sizeof args, "child %s", argv[1]);
    proc = start_self(args);
    WaitForSingleObject(ready, 10000);
    h[0] = unset;
    h[1] = named;
    r = WaitForMultipleObjects(2, h, FALSE, 10000);
    expect_wait("wait-any sleeping while the owning process ends", r, WAIT_ABANDONED_0 + 1, 0);
    expect_bool("  the mutex is ours", ReleaseMutex(named), TRUE, 0);
    WaitForSingleObject(proc, 10000);
    CloseHandle(proc);
    CloseHandle(named);
    CloseHandle(ready);

    printf("%d failed\n", failures);
    return failures;
}
