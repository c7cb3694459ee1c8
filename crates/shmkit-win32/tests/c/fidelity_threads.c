/*
 * Threads and the in-process locks: CreateThread (ids, exit codes, the handle signalled
 * when the thread ends, for WaitForSingleObject and WaitForMultipleObjects; a suspended
 * start and ResumeThread), ExitThread, GetExitCodeThread, a mutex abandoned by a thread,
 * critical sections (recursion, fields, contention), condition variables, SRW locks,
 * InitOnceExecuteOnce, thread-local storage, interlocked operations and lists, the
 * alertable waits, WaitOnAddress, the Ex creators of events, mutexes and semaphores,
 * TerminateProcess of a child and of itself.
 *
 * One line per check; outcomes only. Usage: fidelity_threads SUFFIX (the lane's run
 * suffix; the program starts itself with "child-sleep" or "child-terminate-self").
 */
#include "fidelity_wait.h"

/* ---- thread routines ------------------------------------------------------------------ */

static DWORD WINAPI returns_42(LPVOID p) {
    (void)p;
    return 42;
}

static DWORD WINAPI waits_then_returns(LPVOID p) {
    WaitForSingleObject((HANDLE)p, 10000);
    return 1234;
}

static DWORD WINAPI calls_exit_thread(LPVOID p) {
    (void)p;
    ExitThread(7);
}

static DWORD tid_seen;
static DWORD WINAPI records_its_id(LPVOID p) {
    (void)p;
    tid_seen = GetCurrentThreadId();
    return 0;
}

static LONG ran;
static DWORD WINAPI marks_that_it_ran(LPVOID p) {
    InterlockedExchange(&ran, 1);
    return (DWORD)(ULONG_PTR)p;
}

static DWORD WINAPI takes_mutex_and_ends(LPVOID p) {
    return WaitForSingleObject((HANDLE)p, 5000);
}

static HANDLE run(LPTHREAD_START_ROUTINE f, LPVOID arg, DWORD *id) {
    HANDLE h = CreateThread(NULL, 0, f, arg, 0, id);
    if (!h) {
        printf("CreateThread failed: %u\n", (unsigned)GetLastError());
        exit(1);
    }
    return h;
}

static DWORD exit_code(HANDLE h) {
    DWORD code = 0xdeadbeef;
    if (!GetExitCodeThread(h, &code)) return 0xdeadbeef;
    return code;
}

static void test_create_thread(void) {
    DWORD id = 0, code;
    HANDLE go = event(TRUE, FALSE);
    HANDLE h = run(waits_then_returns, go, &id), h2, dup = NULL, set[2];
    char detail[96];

    report("CreateThread gives an id", id != 0, "id 0");
    report("GetThreadId of the handle is that id", GetThreadId(h) == id, "differs");
    report("the id is not the caller's", id != GetCurrentThreadId(), "same id");
    code = exit_code(h);
    sprintf_s(detail, sizeof detail, "code %u", (unsigned)code);
    report("GetExitCodeThread while it runs is STILL_ACTIVE", code == STILL_ACTIVE, detail);
    expect_wait("a running thread's handle is not signalled", WaitForSingleObject(h, 0), WAIT_TIMEOUT, 0);
    expect_bool("DuplicateHandle of the thread handle",
                DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), &dup, 0, FALSE, DUPLICATE_SAME_ACCESS),
                TRUE, 0);
    SetEvent(go);
    expect_wait("the handle is signalled when the thread ends", WaitForSingleObject(h, 10000), WAIT_OBJECT_0, 0);
    expect_wait("and stays signalled", WaitForSingleObject(h, 0), WAIT_OBJECT_0, 0);
    expect_wait("its duplicate too", WaitForSingleObject(dup, 0), WAIT_OBJECT_0, 0);
    code = exit_code(h);
    sprintf_s(detail, sizeof detail, "code %u", (unsigned)code);
    report("GetExitCodeThread then is the routine's value", code == 1234, detail);
    report("GetExitCodeThread of the duplicate too", exit_code(dup) == 1234, "differs");
    CloseHandle(dup);
    CloseHandle(h);

    h = run(returns_42, NULL, NULL);
    WaitForSingleObject(h, 10000);
    report("a routine's return value is the exit code", exit_code(h) == 42, "not 42");
    CloseHandle(h);

    h = run(calls_exit_thread, NULL, NULL);
    expect_wait("a thread that calls ExitThread ends", WaitForSingleObject(h, 10000), WAIT_OBJECT_0, 0);
    report("ExitThread's code is the exit code", exit_code(h) == 7, "not 7");
    CloseHandle(h);

    h = run(records_its_id, NULL, &id);
    WaitForSingleObject(h, 10000);
    report("GetCurrentThreadId in the thread is the id CreateThread gave", tid_seen == id, "differs");
    CloseHandle(h);

    /* Wait-any wakes when the thread ends; wait-all when both have. */
    ResetEvent(go);
    set[0] = event(TRUE, FALSE);
    set[1] = run(waits_then_returns, go, NULL);
    SetEvent(go);
    expect_wait("wait-any {unset event, thread} wakes when the thread ends",
                WaitForMultipleObjects(2, set, FALSE, 10000), WAIT_OBJECT_0 + 1, 0);
    CloseHandle(set[0]);
    CloseHandle(set[1]);
    ResetEvent(go);
    set[0] = run(waits_then_returns, go, NULL);
    set[1] = run(waits_then_returns, go, NULL);
    expect_wait("wait-all {thread, thread} while they run", WaitForMultipleObjects(2, set, TRUE, 0), WAIT_TIMEOUT, 0);
    SetEvent(go);
    expect_wait("wait-all {thread, thread} wakes when both have ended",
                WaitForMultipleObjects(2, set, TRUE, 10000), WAIT_OBJECT_0, 0);
    CloseHandle(set[0]);
    CloseHandle(set[1]);

    /* Closing the handle does not stop the thread. */
    ResetEvent(go);
    h = run(waits_then_returns, go, &id);
    h2 = NULL;
    DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), &h2, 0, FALSE, DUPLICATE_SAME_ACCESS);
    CloseHandle(h);
    SetEvent(go);
    expect_wait("a thread whose first handle was closed still runs and ends", WaitForSingleObject(h2, 10000),
                WAIT_OBJECT_0, 0);
    CloseHandle(h2);
    CloseHandle(go);
}

static void test_suspended(void) {
    DWORD id = 0, r;
    HANDLE go = event(TRUE, FALSE);
    HANDLE h = CreateThread(NULL, 0, marks_that_it_ran, (LPVOID)5, CREATE_SUSPENDED, &id), running;
    char detail[64];

    report("CreateThread with CREATE_SUSPENDED", h != NULL && id != 0, "failed");
    report("the suspended thread has its id", GetThreadId(h) == id, "differs");
    expect_wait("a suspended thread's handle is not signalled", WaitForSingleObject(h, 100), WAIT_TIMEOUT, 0);
    report("its routine has not run", ran == 0, "it ran");
    report("GetExitCodeThread is STILL_ACTIVE", exit_code(h) == STILL_ACTIVE, "differs");
    r = ResumeThread(h);
    sprintf_s(detail, sizeof detail, "returned %lu", (unsigned long)r);
    report("ResumeThread returns the previous suspend count, 1", r == 1, detail);
    expect_wait("the resumed thread runs and ends", WaitForSingleObject(h, 10000), WAIT_OBJECT_0, 0);
    report("its routine ran", ran == 1 && exit_code(h) == 5, "it did not");
    CloseHandle(h);

    running = run(waits_then_returns, go, NULL);
    r = ResumeThread(running);
    sprintf_s(detail, sizeof detail, "returned %lu", (unsigned long)r);
    report("ResumeThread of a running thread returns 0", r == 0, detail);
    SetEvent(go);
    WaitForSingleObject(running, 10000);
    CloseHandle(running);
    SetLastError(0);
    r = ResumeThread(go);
    report("ResumeThread of an event: (DWORD)-1, ERROR_INVALID_HANDLE",
           r == (DWORD)-1 && GetLastError() == ERROR_INVALID_HANDLE, "differs");
    CloseHandle(go);
}

static void test_bad_thread_calls(void) {
    DWORD code;
    HANDLE e = event(TRUE, FALSE);
    SetLastError(0);
    expect_bool("GetExitCodeThread of a made-up handle", GetExitCodeThread((HANDLE)(ULONG_PTR)0x1230, &code), FALSE,
                ERROR_INVALID_HANDLE);
    expect_bool("GetExitCodeThread of an event", GetExitCodeThread(e, &code), FALSE, ERROR_INVALID_HANDLE);
    expect_bool("GetExitCodeThread of GetCurrentThread()", GetExitCodeThread(GetCurrentThread(), &code), TRUE, 0);
    report("the calling thread is STILL_ACTIVE", code == STILL_ACTIVE, "not");
    CloseHandle(e);
}

static void test_abandoned(void) {
    HANDLE m = CreateMutexA(NULL, FALSE, NULL);
    HANDLE h = run(takes_mutex_and_ends, m, NULL);
    WaitForSingleObject(h, 10000);
    report("the thread took the mutex", exit_code(h) == WAIT_OBJECT_0, "it did not");
    CloseHandle(h);
    expect_wait("a mutex held by a CreateThread thread that ended is abandoned", WaitForSingleObject(m, 5000),
                WAIT_ABANDONED_0, 0);
    expect_bool("and is then the waiter's", ReleaseMutex(m), TRUE, 0);
    expect_wait("and is free afterwards", WaitForSingleObject(m, 0), WAIT_OBJECT_0, 0);
    ReleaseMutex(m);
    CloseHandle(m);
}

/* ---- critical sections -------------------------------------------------------------- */

static CRITICAL_SECTION cs;
static LONG counter;

static DWORD WINAPI try_enter(LPVOID p) {
    BOOL got = TryEnterCriticalSection(&cs);
    (void)p;
    if (got) LeaveCriticalSection(&cs);
    return got;
}

static DWORD WINAPI add_many(LPVOID p) {
    int i;
    (void)p;
    for (i = 0; i < 100000; i++) {
        EnterCriticalSection(&cs);
        counter = counter + 1; /* not atomic: only the section protects it */
        LeaveCriticalSection(&cs);
    }
    return 0;
}

static DWORD WINAPI enter_and_leave(LPVOID p) {
    EnterCriticalSection(&cs);
    *(LONG *)p = 1;
    LeaveCriticalSection(&cs);
    return 0;
}

static DWORD thread_result(LPTHREAD_START_ROUTINE f, LPVOID arg) {
    HANDLE h = run(f, arg, NULL);
    DWORD code;
    WaitForSingleObject(h, 10000);
    code = exit_code(h);
    CloseHandle(h);
    return code;
}

static void test_critical_sections(void) {
    HANDLE h[2];
    LONG entered = 0;
    char detail[96];

    InitializeCriticalSection(&cs);
    report("a new critical section: LockCount -1", cs.LockCount == -1, "not -1");
    report("a new critical section: RecursionCount 0", cs.RecursionCount == 0, "not 0");
    report("a new critical section: no owner", cs.OwningThread == NULL, "owned");
    report("TryEnterCriticalSection of a free section", thread_result(try_enter, NULL) == TRUE, "FALSE");
    EnterCriticalSection(&cs);
    EnterCriticalSection(&cs);
    report("entered twice: RecursionCount 2", cs.RecursionCount == 2, "not 2");
    report("entered twice: LockCount 1", cs.LockCount == 1, "not 1");
    report("entered twice: OwningThread is the thread id",
           cs.OwningThread == (HANDLE)(ULONG_PTR)GetCurrentThreadId(), "not");
    report("TryEnterCriticalSection by the owner (recursive)", TryEnterCriticalSection(&cs) == TRUE, "FALSE");
    LeaveCriticalSection(&cs);
    report("another thread cannot enter a held section", thread_result(try_enter, NULL) == FALSE, "it entered");
    LeaveCriticalSection(&cs);
    report("nor after one of two leaves", thread_result(try_enter, NULL) == FALSE, "it entered");
    h[0] = run(enter_and_leave, &entered, NULL);
    expect_wait("a thread entering a held section waits", WaitForSingleObject(h[0], 100), WAIT_TIMEOUT, 0);
    report("and has not entered", entered == 0, "it entered");
    LeaveCriticalSection(&cs);
    expect_wait("it enters once the owner left as often as it entered", WaitForSingleObject(h[0], 10000),
                WAIT_OBJECT_0, 0);
    report("and did its work", entered == 1, "it did not");
    CloseHandle(h[0]);
    report("left as often as entered: free again", cs.LockCount == -1 && cs.RecursionCount == 0 && !cs.OwningThread,
           "fields not reset");

    counter = 0;
    h[0] = run(add_many, NULL, NULL);
    h[1] = run(add_many, NULL, NULL);
    WaitForMultipleObjects(2, h, TRUE, 60000);
    sprintf_s(detail, sizeof detail, "counter %ld", (long)counter);
    report("two threads incrementing 100000 times each inside the section", counter == 200000, detail);
    CloseHandle(h[0]);
    CloseHandle(h[1]);
    DeleteCriticalSection(&cs);

    report("InitializeCriticalSectionAndSpinCount", InitializeCriticalSectionAndSpinCount(&cs, 4000) == TRUE, "FALSE");
    EnterCriticalSection(&cs);
    report("a spinning section is held", thread_result(try_enter, NULL) == FALSE, "it entered");
    LeaveCriticalSection(&cs);
    DeleteCriticalSection(&cs);
}

/* ---- condition variables and SRW locks ---------------------------------------------- */

static CONDITION_VARIABLE cv;
static SRWLOCK srw;
static int ready;

static DWORD WINAPI signal_ready(LPVOID p) {
    (void)p;
    Sleep(50);
    EnterCriticalSection(&cs);
    ready = 1;
    LeaveCriticalSection(&cs);
    WakeConditionVariable(&cv);
    return 0;
}

static DWORD WINAPI try_shared(LPVOID p) {
    BOOLEAN got = TryAcquireSRWLockShared(&srw);
    (void)p;
    if (got) ReleaseSRWLockShared(&srw);
    return got;
}

static DWORD WINAPI try_exclusive(LPVOID p) {
    BOOLEAN got = TryAcquireSRWLockExclusive(&srw);
    (void)p;
    if (got) ReleaseSRWLockExclusive(&srw);
    return got;
}

/* The order in which the preference test's threads got the lock: 'x' exclusive, 's' shared. */
static char srw_order[4];
static LONG srw_got;

static DWORD WINAPI waits_exclusive(LPVOID p) {
    (void)p;
    AcquireSRWLockExclusive(&srw);
    srw_order[InterlockedIncrement(&srw_got) - 1] = 'x';
    Sleep(20);
    ReleaseSRWLockExclusive(&srw);
    return 0;
}

static DWORD WINAPI waits_shared(LPVOID p) {
    (void)p;
    AcquireSRWLockShared(&srw);
    srw_order[InterlockedIncrement(&srw_got) - 1] = 's';
    ReleaseSRWLockShared(&srw);
    return 0;
}

/* Windows prefers a waiting exclusive acquirer: while one waits, no new shared hold is
 * granted (not even by a try), and it holds the lock before the shared acquirers that
 * came after it. */
static void test_srw_preference(void) {
    HANDLE x, sh;
    int tries = 0;

    InitializeSRWLock(&srw);
    srw_got = 0;
    AcquireSRWLockShared(&srw);
    x = run(waits_exclusive, NULL, NULL);
    while (TryAcquireSRWLockShared(&srw) && tries++ < 10000) {
        ReleaseSRWLockShared(&srw);
        Sleep(1);
    }
    report("while an exclusive acquirer waits, a shared try fails", tries < 10000, "succeeds");
    sh = run(waits_shared, NULL, NULL);
    Sleep(50);
    report("and a shared acquirer waits too", srw_got == 0, "let in");
    ReleaseSRWLockShared(&srw);
    report("the exclusive waiter ends", WaitForSingleObject(x, 10000) == WAIT_OBJECT_0, "still waits");
    report("the shared waiter ends", WaitForSingleObject(sh, 10000) == WAIT_OBJECT_0, "still waits");
    report("the exclusive waiter held the lock first", srw_got == 2 && srw_order[0] == 'x' &&
           srw_order[1] == 's', "shared first");
    report("the lock is free afterwards", thread_result(try_exclusive, NULL) != 0, "held");
    CloseHandle(x);
    CloseHandle(sh);
}

static void test_condition_variables(void) {
    HANDLE h;
    BOOL ok = TRUE;
    DWORD e;

    InitializeCriticalSection(&cs);
    InitializeConditionVariable(&cv);
    EnterCriticalSection(&cs);
    SetLastError(0);
    ok = SleepConditionVariableCS(&cv, &cs, 10);
    e = GetLastError();
    report("SleepConditionVariableCS with nobody waking times out", !ok && e == ERROR_TIMEOUT, "not ERROR_TIMEOUT");
    report("and holds the section again", cs.RecursionCount == 1 &&
           cs.OwningThread == (HANDLE)(ULONG_PTR)GetCurrentThreadId(), "not held");
    ready = 0;
    ok = TRUE;
    h = run(signal_ready, NULL, NULL);
    while (!ready && ok) ok = SleepConditionVariableCS(&cv, &cs, 10000);
    report("SleepConditionVariableCS wakes when another thread wakes it", ready && ok, "not woken");
    LeaveCriticalSection(&cs);
    WaitForSingleObject(h, 10000);
    CloseHandle(h);
    DeleteCriticalSection(&cs);

    InitializeSRWLock(&srw);
    AcquireSRWLockShared(&srw);
    report("a shared SRW hold admits another shared one", thread_result(try_shared, NULL) != 0, "refused");
    report("but no exclusive one", thread_result(try_exclusive, NULL) == 0, "admitted");
    ReleaseSRWLockShared(&srw);
    AcquireSRWLockExclusive(&srw);
    report("an exclusive SRW hold admits no shared one", thread_result(try_shared, NULL) == 0, "admitted");
    SetLastError(0);
    ok = SleepConditionVariableSRW(&cv, &srw, 10, 0);
    e = GetLastError();
    report("SleepConditionVariableSRW with nobody waking times out", !ok && e == ERROR_TIMEOUT, "not ERROR_TIMEOUT");
    report("and holds the lock again", thread_result(try_shared, NULL) == 0, "not held");
    ReleaseSRWLockExclusive(&srw);
    report("a released SRW lock admits an exclusive hold", thread_result(try_exclusive, NULL) != 0, "refused");
    test_srw_preference();
}

/* ---- one-time initialization ---------------------------------------------------------- */

static INIT_ONCE once = INIT_ONCE_STATIC_INIT;
static LONG once_runs;
static int context_value;

static BOOL WINAPI init_slowly(PINIT_ONCE o, PVOID param, PVOID *context) {
    (void)o;
    (void)param;
    InterlockedIncrement(&once_runs);
    Sleep(50);
    *context = &context_value;
    return TRUE;
}

static BOOL WINAPI init_fails(PINIT_ONCE o, PVOID param, PVOID *context) {
    (void)o;
    (void)context;
    InterlockedIncrement((LONG *)param);
    return FALSE;
}

static DWORD WINAPI execute_once(LPVOID p) {
    PVOID ctx = NULL;
    BOOL ok = InitOnceExecuteOnce(&once, init_slowly, NULL, &ctx);
    (void)p;
    return ok && ctx == &context_value;
}

static void test_init_once(void) {
    HANDLE h[3];
    DWORD codes[3];
    int i;
    INIT_ONCE other;
    LONG tries = 0;
    PVOID ctx = NULL;

    for (i = 0; i < 3; i++) h[i] = run(execute_once, NULL, NULL);
    WaitForMultipleObjects(3, h, TRUE, 10000);
    for (i = 0; i < 3; i++) {
        codes[i] = exit_code(h[i]);
        CloseHandle(h[i]);
    }
    report("InitOnceExecuteOnce from three threads runs the callback once", once_runs == 1, "not once");
    report("and each gets TRUE and its context", codes[0] == 1 && codes[1] == 1 && codes[2] == 1, "differs");
    report("a later call gets the context without a run",
           InitOnceExecuteOnce(&once, init_slowly, NULL, &ctx) && ctx == &context_value && once_runs == 1, "differs");
    InitOnceInitialize(&other);
    report("a callback that fails: FALSE", !InitOnceExecuteOnce(&other, init_fails, &tries, NULL), "TRUE");
    report("and the next call runs it again", !InitOnceExecuteOnce(&other, init_fails, &tries, NULL) && tries == 2,
           "it did not");
}

/* ---- thread-local storage and interlocked operations ---------------------------------- */

static DWORD slot;

static DWORD WINAPI tls_in_thread(LPVOID p) {
    DWORD fresh = TlsGetValue(slot) == NULL;
    (void)p;
    TlsSetValue(slot, (LPVOID)(ULONG_PTR)99);
    return fresh && TlsGetValue(slot) == (LPVOID)(ULONG_PTR)99;
}

static LONG shared_count;

static DWORD WINAPI increments(LPVOID p) {
    int i;
    (void)p;
    for (i = 0; i < 100000; i++) InterlockedIncrement(&shared_count);
    return 0;
}

static void test_tls_and_interlocked(void) {
    HANDLE h[2];
    LONG v = 5;
    char detail[64];

    slot = TlsAlloc();
    report("TlsAlloc", slot != TLS_OUT_OF_INDEXES, "out of indexes");
    report("a new slot is NULL", TlsGetValue(slot) == NULL, "not NULL");
    SetLastError(5);
    TlsGetValue(slot);
    report("TlsGetValue clears the last error", GetLastError() == 0, "not cleared");
    TlsSetValue(slot, (LPVOID)(ULONG_PTR)11);
    report("another thread's value starts NULL and is its own", thread_result(tls_in_thread, NULL) == TRUE, "not");
    report("this thread's value is kept", TlsGetValue(slot) == (LPVOID)(ULONG_PTR)11, "changed");
    expect_bool("TlsFree", TlsFree(slot), TRUE, 0);

    report("InterlockedIncrement returns the new value", InterlockedIncrement(&v) == 6, "not 6");
    report("InterlockedDecrement returns the new value", InterlockedDecrement(&v) == 5, "not 5");
    report("InterlockedExchange returns the old value", InterlockedExchange(&v, 9) == 5 && v == 9, "wrong");
    report("InterlockedCompareExchange that matches", InterlockedCompareExchange(&v, 1, 9) == 9 && v == 1, "wrong");
    report("InterlockedCompareExchange that does not", InterlockedCompareExchange(&v, 2, 9) == 1 && v == 1, "wrong");
    report("InterlockedExchangeAdd returns the old value", InterlockedExchangeAdd(&v, 10) == 1 && v == 11, "wrong");
    shared_count = 0;
    h[0] = run(increments, NULL, NULL);
    h[1] = run(increments, NULL, NULL);
    WaitForMultipleObjects(2, h, TRUE, 60000);
    sprintf_s(detail, sizeof detail, "count %ld", (long)shared_count);
    report("two threads' interlocked increments all count", shared_count == 200000, detail);
    CloseHandle(h[0]);
    CloseHandle(h[1]);
}

struct item {
    SLIST_ENTRY entry;
    int value;
};

static SLIST_HEADER list;
static struct item items[2][1000];

static DWORD WINAPI pushes(LPVOID p) {
    struct item *mine = p;
    int i;
    for (i = 0; i < 1000; i++) InterlockedPushEntrySList(&list, &mine[i].entry);
    return 0;
}

static void test_slist(void) {
    struct item a, b, c, *got;
    PSLIST_ENTRY e;
    HANDLE h[2];
    int n = 0;

    memset(&list, 0xFF, sizeof list);
    InitializeSListHead(&list);
    /* (x64 Windows and Wine mark the header as the 16-byte form: it is not all zero.) */
    report("InitializeSListHead makes an empty list", QueryDepthSList(&list) == 0 &&
           InterlockedPopEntrySList(&list) == NULL, "not empty");
    report("SLIST_HEADER is 16 bytes", sizeof(SLIST_HEADER) == 16, "differs");
    a.value = 1;
    b.value = 2;
    c.value = 3;
    report("a push on an empty list returns NULL", InterlockedPushEntrySList(&list, &a.entry) == NULL, "not NULL");
    report("a push returns the entry that was first", InterlockedPushEntrySList(&list, &b.entry) == &a.entry, "differs");
    InterlockedPushEntrySList(&list, &c.entry);
    report("QueryDepthSList counts them", QueryDepthSList(&list) == 3, "differs");
    got = (struct item *)InterlockedPopEntrySList(&list);
    report("a pop takes the last pushed", got && got->value == 3 && QueryDepthSList(&list) == 2, "differs");
    e = InterlockedFlushSList(&list);
    report("a flush empties the list and returns its first entry",
           QueryDepthSList(&list) == 0 && e && ((struct item *)e)->value == 2 &&
           ((struct item *)e->Next)->value == 1, "differs");
    report("a pop of an empty list returns NULL", InterlockedPopEntrySList(&list) == NULL, "not NULL");
    h[0] = run(pushes, items[0], NULL);
    h[1] = run(pushes, items[1], NULL);
    WaitForMultipleObjects(2, h, TRUE, 60000);
    CloseHandle(h[0]);
    CloseHandle(h[1]);
    report("two threads' 1000 pushes each all count", QueryDepthSList(&list) == 2000, "differs");
    while (InterlockedPopEntrySList(&list)) n++;
    report("and all pop off", n == 2000 && QueryDepthSList(&list) == 0, "differs");
}

static void test_alertable(void) {
    HANDLE e = event(TRUE, TRUE), set[2];
    set[0] = event(FALSE, FALSE);
    set[1] = e;
    report("SleepEx(0, TRUE) returns 0", SleepEx(0, TRUE) == 0, "not 0");
    report("SleepEx(10, FALSE) returns 0", SleepEx(10, FALSE) == 0, "not 0");
    expect_wait("WaitForSingleObjectEx of a set event", WaitForSingleObjectEx(e, 0, TRUE), WAIT_OBJECT_0, 0);
    expect_wait("WaitForSingleObjectEx of an unset event", WaitForSingleObjectEx(set[0], 10, TRUE), WAIT_TIMEOUT, 0);
    expect_wait("WaitForMultipleObjectsEx wait-any", WaitForMultipleObjectsEx(2, set, FALSE, 0, TRUE),
                WAIT_OBJECT_0 + 1, 0);
    expect_wait("WaitForMultipleObjectsEx wait-all", WaitForMultipleObjectsEx(2, set, TRUE, 10, TRUE), WAIT_TIMEOUT, 0);
    SetLastError(0);
    expect_wait("WaitForSingleObjectEx of a made-up handle", WaitForSingleObjectEx((HANDLE)(ULONG_PTR)0x1230, 0, TRUE),
                WAIT_FAILED, ERROR_INVALID_HANDLE);
    CloseHandle(set[0]);
    CloseHandle(e);
}

/* ---- waits on an address (looked up in kernelbase.dll, where Windows 8 has them) ------ */

typedef BOOL(WINAPI *wait_on_address_fn)(volatile VOID *, PVOID, SIZE_T, DWORD);
typedef void(WINAPI *wake_fn)(PVOID);
static wake_fn wake_all;
static volatile LONG address_value;

static DWORD WINAPI changes_the_value(LPVOID p) {
    (void)p;
    Sleep(50);
    InterlockedExchange((LONG *)&address_value, 1);
    wake_all((PVOID)&address_value);
    return 0;
}

static void test_wait_on_address(void) {
    HMODULE k = GetModuleHandleA("kernelbase.dll");
    wait_on_address_fn wait_on = (wait_on_address_fn)(void *)GetProcAddress(k, "WaitOnAddress");
    LONG zero = 0, one = 1;
    HANDLE h;
    BOOL ok = TRUE;
    int rounds = 0;
    DWORD e;

    wake_all = (wake_fn)(void *)GetProcAddress(k, "WakeByAddressAll");
    report("WaitOnAddress and WakeByAddressAll are in kernelbase.dll", wait_on && wake_all, "not found");
    if (!wait_on || !wake_all) return;
    address_value = 0;
    report("WaitOnAddress of a value that differs returns at once", wait_on(&address_value, &one, 4, 10000),
           "FALSE");
    SetLastError(0);
    ok = wait_on(&address_value, &zero, 4, 10);
    e = GetLastError();
    report("WaitOnAddress with nobody waking: FALSE, ERROR_TIMEOUT", !ok && e == ERROR_TIMEOUT, "differs");
    SetLastError(0);
    ok = wait_on(&address_value, &zero, 3, 10);
    e = GetLastError();
    report("WaitOnAddress of 3 bytes: FALSE, ERROR_INVALID_PARAMETER", !ok && e == ERROR_INVALID_PARAMETER,
           "differs");
    h = run(changes_the_value, NULL, NULL);
    ok = TRUE;
    while (address_value == 0 && ok && rounds++ < 100) ok = wait_on(&address_value, &zero, 4, 10000);
    report("WaitOnAddress wakes when another thread changes the value and wakes it", address_value == 1 && ok,
           "not woken");
    WaitForSingleObject(h, 10000);
    CloseHandle(h);
}

/* ---- the Ex creators ------------------------------------------------------------------ */

static const char *suffix = "x";

static void test_ex_creators(void) {
    char name[128];
    HANDLE e, m, m2, s;
    DWORD err;

    e = CreateEventExA(NULL, NULL, CREATE_EVENT_MANUAL_RESET | CREATE_EVENT_INITIAL_SET, EVENT_ALL_ACCESS);
    report("CreateEventExA, manual and set", e != NULL, "failed");
    expect_wait("  it is set", WaitForSingleObject(e, 0), WAIT_OBJECT_0, 0);
    expect_wait("  and stays set (manual)", WaitForSingleObject(e, 0), WAIT_OBJECT_0, 0);
    CloseHandle(e);
    e = CreateEventExA(NULL, NULL, 0, SYNCHRONIZE);
    report("CreateEventExA with SYNCHRONIZE only", e != NULL, "failed");
    expect_wait("  it is not set", WaitForSingleObject(e, 0), WAIT_TIMEOUT, 0);
    expect_bool("  SetEvent needs EVENT_MODIFY_STATE", SetEvent(e), FALSE, ERROR_ACCESS_DENIED);
    CloseHandle(e);

    sprintf_s(name, sizeof name, "Local\\fidelity-threads-mutex-%s", suffix);
    m = CreateMutexExA(NULL, name, CREATE_MUTEX_INITIAL_OWNER, MUTEX_ALL_ACCESS);
    err = GetLastError();
    report("CreateMutexExA, owned, named", m != NULL && err == 0, "failed");
    expect_bool("  the creator owns it", ReleaseMutex(m), TRUE, 0);
    m2 = CreateMutexExA(NULL, name, 0, SYNCHRONIZE);
    err = GetLastError();
    report("  a second CreateMutexExA opens it: ERROR_ALREADY_EXISTS", m2 != NULL && err == ERROR_ALREADY_EXISTS,
           "differs");
    expect_wait("  and may wait for it", WaitForSingleObject(m2, 0), WAIT_OBJECT_0, 0);
    expect_bool("  and release it (no right needed)", ReleaseMutex(m2), TRUE, 0);
    CloseHandle(m2);
    CloseHandle(m);

    s = CreateSemaphoreExA(NULL, 1, 2, NULL, 0, SEMAPHORE_ALL_ACCESS);
    report("CreateSemaphoreExA", s != NULL, "failed");
    expect_wait("  one unit", WaitForSingleObject(s, 0), WAIT_OBJECT_0, 0);
    expect_wait("  and no more", WaitForSingleObject(s, 0), WAIT_TIMEOUT, 0);
    CloseHandle(s);
}

/* ---- TerminateProcess ------------------------------------------------------------------- */

static void test_terminate(void) {
    HANDLE p = start_self("child-sleep");
    DWORD code = 0;
    char detail[64];
    expect_wait("a child that sleeps runs", WaitForSingleObject(p, 100), WAIT_TIMEOUT, 0);
    expect_bool("TerminateProcess of the child", TerminateProcess(p, 77), TRUE, 0);
    expect_wait("the terminated child's handle is signalled", WaitForSingleObject(p, 10000), WAIT_OBJECT_0, 0);
    GetExitCodeProcess(p, &code);
    sprintf_s(detail, sizeof detail, "code %u", (unsigned)code);
    report("its exit code is TerminateProcess's", code == 77, detail);
    CloseHandle(p);

    p = start_self("child-terminate-self");
    expect_wait("a child that terminates itself ends", WaitForSingleObject(p, 10000), WAIT_OBJECT_0, 0);
    GetExitCodeProcess(p, &code);
    sprintf_s(detail, sizeof detail, "code %u", (unsigned)code);
    report("with the code it gave", code == 21, detail);
    CloseHandle(p);

    p = event(TRUE, FALSE);
    SetLastError(0);
    expect_bool("TerminateProcess of an event", TerminateProcess(p, 1), FALSE, ERROR_INVALID_HANDLE);
    CloseHandle(p);
    expect_bool("TerminateProcess of a made-up handle", TerminateProcess((HANDLE)(ULONG_PTR)0x1230, 1), FALSE,
                ERROR_INVALID_HANDLE);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "child-sleep") == 0) {
        Sleep(30000);
        return 3;
    }
    if (argc > 1 && strcmp(argv[1], "child-terminate-self") == 0) {
        TerminateProcess(GetCurrentProcess(), 21);
        return 4;
    }
    test_create_thread();
    if (argc > 1) suffix = argv[1];
    test_suspended();
    test_bad_thread_calls();
    test_abandoned();
    test_critical_sections();
    test_condition_variables();
    test_init_once();
    test_tls_and_interlocked();
    test_slist();
    test_alertable();
    test_ex_creators();
    test_wait_on_address();
    test_terminate();
    printf("%s\n", failures ? "FAILURES" : "all ok");
    return failures ? 1 : 0;
}
