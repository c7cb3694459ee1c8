/*
 * WaitForMultipleObjects, wait-any: the lowest signalled index, only that object taken;
 * wake-ups from another thread (events, a semaphore, a mutex, over 8 and 64 handles) and
 * from another process (a named event set by a child, the child's end); timeouts; the
 * parameter and handle errors.
 *
 * Usage: fidelity_wait_any SUFFIX   (the child: fidelity_wait_any child SUFFIX)
 */
#include "fidelity_wait.h"

static char event_name[128];

struct later {
    HANDLE h;
    int what; /* 0 SetEvent, 1 ReleaseSemaphore, 2 ReleaseMutex (after taking it) */
    HANDLE taken;
};

/* Does `what` to `h` after a pause long enough for the waiter to be asleep. */
static void act_later(void *p) {
    struct later *l = p;
    Sleep(100);
    switch (l->what) {
    case 0: SetEvent(l->h); break;
    case 1: ReleaseSemaphore(l->h, 1, NULL); break;
    case 2: ReleaseMutex(l->h); break;
    }
}

/* Takes the mutex, signals that it has, holds it a moment, then releases it. */
static void hold_then_release(void *p) {
    struct later *l = p;
    WaitForSingleObject(l->h, INFINITE);
    SetEvent(l->taken);
    Sleep(100);
    ReleaseMutex(l->h);
}

static void child(void) {
    HANDLE e = OpenEventA(EVENT_MODIFY_STATE | SYNCHRONIZE, FALSE, event_name);
    Sleep(150);
    if (!e || !SetEvent(e)) ExitProcess(1);
    Sleep(150);
    ExitProcess(7);
}

int main(int argc, char *argv[]) {
    HANDLE h[64], s, m, proc, named;
    struct later l;
    thread t;
    LONG prev = -1;
    DWORD r, code = 0;
    int i;

    if (argc < 2) {
        printf("usage: %s SUFFIX\n", argv[0]);
        return 2;
    }
    sprintf_s(event_name, sizeof event_name, "Local\\fidelity-wait-any-%s",
              argv[argc == 3 ? 2 : 1]);
    if (argc == 3 && strcmp(argv[1], "child") == 0) {
        child();
    }

    /* ---- which object, and what is taken ---- */
    h[0] = event(TRUE, FALSE);
    h[1] = event(TRUE, TRUE);
    h[2] = event(FALSE, TRUE);
    r = WaitForMultipleObjects(3, h, FALSE, 0);
    expect_wait("the lowest signalled index is reported", r, WAIT_OBJECT_0 + 1, 0);
    expect_wait("  the auto-reset event after it was not consumed", WaitForSingleObject(h[2], 0),
                WAIT_OBJECT_0, 0);
    SetEvent(h[2]);
    ResetEvent(h[1]);
    r = WaitForMultipleObjects(3, h, FALSE, 0);
    expect_wait("an auto-reset event is reported", r, WAIT_OBJECT_0 + 2, 0);
    expect_wait("  and consumed", WaitForMultipleObjects(3, h, FALSE, 0), WAIT_TIMEOUT, 0);
    s = CreateSemaphoreA(NULL, 2, 5, NULL);
    h[2] = s;
    r = WaitForMultipleObjects(3, h, FALSE, 0);
    expect_wait("a semaphore with units is reported", r, WAIT_OBJECT_0 + 2, 0);
    ReleaseSemaphore(s, 1, &prev);
    report("  and one unit taken (2 -> 1)", prev == 1, "count before the release");
    h[1] = h[0];
    expect_wait("the same handle twice is fine in a wait-any",
                WaitForMultipleObjects(2, h, FALSE, 0), WAIT_TIMEOUT, 0);
    SetEvent(h[0]);
    expect_wait("  and reported at its first place", WaitForMultipleObjects(2, h, FALSE, 0),
                WAIT_OBJECT_0, 0);
    ResetEvent(h[0]);

    /* ---- timeouts ---- */
    h[1] = event(FALSE, FALSE);
    expect_wait("nothing signalled: a poll times out", WaitForMultipleObjects(2, h, FALSE, 0),
                WAIT_TIMEOUT, 0);
    expect_wait("nothing signalled: a 50 ms wait times out",
                WaitForMultipleObjects(2, h, FALSE, 50), WAIT_TIMEOUT, 0);

    /* ---- wake-ups from another thread ---- */
    for (i = 0; i < 64; i++) h[i] = event(FALSE, FALSE);
    l.h = h[5];
    l.what = 0;
    t = start_thread(act_later, &l);
    r = WaitForMultipleObjects(8, h, FALSE, 10000);
    join_thread(t);
    expect_wait("8 handles: another thread's SetEvent of the 6th wakes the wait", r,
                WAIT_OBJECT_0 + 5, 0);
    l.h = h[63];
    t = start_thread(act_later, &l);
    r = WaitForMultipleObjects(64, h, FALSE, 10000);
    join_thread(t);
    expect_wait("64 handles: another thread's SetEvent of the last wakes the wait", r,
                WAIT_OBJECT_0 + 63, 0);
    expect_wait("  which consumed it", WaitForSingleObject(h[63], 0), WAIT_TIMEOUT, 0);

    s = CreateSemaphoreA(NULL, 0, 1, NULL);
    h[1] = s;
    l.h = s;
    l.what = 1;
    t = start_thread(act_later, &l);
    r = WaitForMultipleObjects(2, h, FALSE, 10000);
    join_thread(t);
    expect_wait("another thread's ReleaseSemaphore wakes the wait", r, WAIT_OBJECT_0 + 1, 0);
    expect_wait("  which took the unit", WaitForSingleObject(s, 0), WAIT_TIMEOUT, 0);

    m = CreateMutexA(NULL, FALSE, NULL);
    h[1] = m;
    l.h = m;
    l.taken = event(FALSE, FALSE);
    t = start_thread(hold_then_release, &l);
    WaitForSingleObject(l.taken, INFINITE);
    r = WaitForMultipleObjects(2, h, FALSE, 10000);
    expect_wait("another thread's ReleaseMutex wakes the wait", r, WAIT_OBJECT_0 + 1, 0);
    expect_bool("  which owns the mutex now", ReleaseMutex(m), TRUE, 0);
    join_thread(t);

    /* ---- wake-ups from another process ---- */
    named = CreateEventA(NULL, FALSE, FALSE, event_name);
    sprintf_s(event_name, sizeof event_name, "child %s", argv[1]);
    proc = start_self(event_name);
    h[1] = named;
    r = WaitForMultipleObjects(2, h, FALSE, 10000);
    expect_wait("a child process's SetEvent of a named event wakes the wait", r,
                WAIT_OBJECT_0 + 1, 0);
    h[1] = proc;
    r = WaitForMultipleObjects(2, h, FALSE, 10000);
    expect_wait("the child's end wakes a wait for its process handle", r, WAIT_OBJECT_0 + 1, 0);
    GetExitCodeProcess(proc, &code);
    report("  and its exit code is there", code == 7, outcome(code));
    expect_wait("an ended process stays signalled", WaitForMultipleObjects(2, h, FALSE, 0),
                WAIT_OBJECT_0 + 1, 0);
    CloseHandle(proc);
    CloseHandle(named);

    /* ---- errors ---- */
    h[1] = event(FALSE, TRUE);
    SetLastError(0);
    expect_wait("a count of 0 is ERROR_INVALID_PARAMETER", WaitForMultipleObjects(0, h, FALSE, 0),
                WAIT_FAILED, ERROR_INVALID_PARAMETER);
    expect_wait("a count of 65 is ERROR_INVALID_PARAMETER",
                WaitForMultipleObjects(65, h, FALSE, 0), WAIT_FAILED, ERROR_INVALID_PARAMETER);
    h[0] = (HANDLE)(ULONG_PTR)0x12340;
    expect_wait("an invalid handle among them is ERROR_INVALID_HANDLE",
                WaitForMultipleObjects(2, h, FALSE, 0), WAIT_FAILED, ERROR_INVALID_HANDLE);
    h[0] = NULL;
    expect_wait("a NULL handle among them is ERROR_INVALID_HANDLE",
                WaitForMultipleObjects(2, h, FALSE, 0), WAIT_FAILED, ERROR_INVALID_HANDLE);
    expect_wait("  and the signalled one was not taken", WaitForSingleObject(h[1], 0),
                WAIT_OBJECT_0, 0);
    h[0] = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 4096, NULL);
    expect_wait("a mapping among them is ERROR_ACCESS_DENIED",
                WaitForMultipleObjects(2, h, FALSE, 0), WAIT_FAILED, ERROR_ACCESS_DENIED);

    printf("%d failed\n", failures);
    return failures;
}
