/*
 * SignalObjectAndWait: signals an event (set), a semaphore (one unit) or a mutex
 * (released), then waits; both handles are checked before anything is signalled; a
 * failed signal fails the call without waiting; and a ping-pong of two threads, each
 * signalling the other and waiting in one call.
 *
 * Usage: fidelity_wait_signal SUFFIX
 */
#include "fidelity_wait.h"

#define ROUNDS 200

static HANDLE ping, pong;

static void answer(void *p) {
    int i, *ok = p;
    for (i = 0; i < ROUNDS; i++) {
        if (WaitForSingleObject(ping, 10000) != WAIT_OBJECT_0) return;
        if (!SetEvent(pong)) return;
        ++*ok;
    }
}

int main(int argc, char *argv[]) {
    HANDLE e, a, set, s, full, m, map;
    thread t;
    int i, rounds = 0, answered = 0;

    if (argc < 2) {
        printf("usage: %s SUFFIX\n", argv[0]);
        return 2;
    }
    e = event(FALSE, FALSE);
    set = event(TRUE, TRUE);

    /* ---- what each kind of object gets ---- */
    expect_wait("signal an auto-reset event, wait for a set one",
                SignalObjectAndWait(e, set, 0, FALSE), WAIT_OBJECT_0, 0);
    expect_wait("  the event was set", WaitForSingleObject(e, 0), WAIT_OBJECT_0, 0);
    s = CreateSemaphoreA(NULL, 0, 2, NULL);
    expect_wait("signal a semaphore", SignalObjectAndWait(s, set, 0, FALSE), WAIT_OBJECT_0, 0);
    expect_wait("  it has one unit", WaitForSingleObject(s, 0), WAIT_OBJECT_0, 0);
    expect_wait("  only one", WaitForSingleObject(s, 0), WAIT_TIMEOUT, 0);
    m = CreateMutexA(NULL, TRUE, NULL);
    expect_wait("signal an owned mutex", SignalObjectAndWait(m, set, 0, FALSE), WAIT_OBJECT_0, 0);
    expect_bool("  it was released", ReleaseMutex(m), FALSE, ERROR_NOT_OWNER);
    expect_wait("signal an auto-reset event and wait for it: the wait takes the set",
                SignalObjectAndWait(e, e, 0, FALSE), WAIT_OBJECT_0, 0);
    expect_wait("  consumed", WaitForSingleObject(e, 0), WAIT_TIMEOUT, 0);
    WaitForSingleObject(m, 0);
    expect_wait("release a mutex owned once and wait for it: owned again",
                SignalObjectAndWait(m, m, 0, FALSE), WAIT_OBJECT_0, 0);
    expect_bool("  released", ReleaseMutex(m), TRUE, 0);
    expect_bool("  once", ReleaseMutex(m), FALSE, ERROR_NOT_OWNER);
    a = event(FALSE, FALSE);
    expect_wait("a wait that times out", SignalObjectAndWait(a, e, 50, FALSE), WAIT_TIMEOUT, 0);
    expect_wait("  after the signal", WaitForSingleObject(a, 0), WAIT_OBJECT_0, 0);

    /* ---- signals that fail: no wait ---- */
    expect_wait("a mutex the caller does not own: ERROR_NOT_OWNER, no wait",
                SignalObjectAndWait(m, e, 10000, FALSE), WAIT_FAILED, ERROR_NOT_OWNER);
    full = CreateSemaphoreA(NULL, 1, 1, NULL);
    expect_wait("a semaphore at its maximum: ERROR_TOO_MANY_POSTS, no wait",
                SignalObjectAndWait(full, e, 10000, FALSE), WAIT_FAILED, ERROR_TOO_MANY_POSTS);

    /* ---- handles that cannot be signalled or waited for ---- */
    map = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 4096, NULL);
    expect_wait("signal the process: ERROR_INVALID_HANDLE",
                SignalObjectAndWait(GetCurrentProcess(), set, 0, FALSE), WAIT_FAILED,
                ERROR_INVALID_HANDLE);
    expect_wait("signal a mapping: ERROR_INVALID_HANDLE", SignalObjectAndWait(map, set, 0, FALSE),
                WAIT_FAILED, ERROR_INVALID_HANDLE);
    expect_wait("signal an invalid handle: ERROR_INVALID_HANDLE",
                SignalObjectAndWait((HANDLE)(ULONG_PTR)0x12340, set, 0, FALSE), WAIT_FAILED,
                ERROR_INVALID_HANDLE);
    expect_wait("wait for an invalid handle: ERROR_INVALID_HANDLE",
                SignalObjectAndWait(a, (HANDLE)(ULONG_PTR)0x12340, 0, FALSE), WAIT_FAILED,
                ERROR_INVALID_HANDLE);
    expect_wait("  and nothing was signalled", WaitForSingleObject(a, 0), WAIT_TIMEOUT, 0);
    expect_wait("wait for a mapping: ERROR_ACCESS_DENIED", SignalObjectAndWait(a, map, 0, FALSE),
                WAIT_FAILED, ERROR_ACCESS_DENIED);
    expect_wait("  and nothing was signalled", WaitForSingleObject(a, 0), WAIT_TIMEOUT, 0);

    /* ---- a ping-pong ---- */
    ping = event(FALSE, FALSE);
    pong = event(FALSE, FALSE);
    t = start_thread(answer, &answered);
    for (i = 0; i < ROUNDS; i++) {
        if (SignalObjectAndWait(ping, pong, 10000, FALSE) == WAIT_OBJECT_0) rounds++;
    }
    join_thread(t);
    report("200 rounds of a ping-pong, each side signalling and waiting in one call",
           rounds == ROUNDS && answered == ROUNDS, "rounds lost");

    printf("%d failed\n", failures);
    return failures;
}
