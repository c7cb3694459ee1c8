/*
 * APCs and alertable waits (QueueUserAPC; SleepEx, WaitForSingleObjectEx,
 * WaitForMultipleObjectsEx and SignalObjectAndWait with bAlertable), SuspendThread and
 * ResumeThread (suspend counts; a suspended thread makes no progress), TerminateThread
 * (the handle signalled, the exit code, a mutex it held abandoned).
 *
 * One line per check; outcomes only, never timings. Usage: fidelity_apc SUFFIX (the
 * lane's run suffix; unused: every object here is unnamed).
 */
#include "fidelity_wait.h"

/* ---- APCs ----------------------------------------------------------------------------- */

/* The data of each APC run, in the order they ran, and the thread each ran on. */
static ULONG_PTR ran[16];
static DWORD ran_on[16];
static int nran;

static VOID CALLBACK record(ULONG_PTR data) {
    if (nran < 16) {
        ran_on[nran] = GetCurrentThreadId();
        ran[nran++] = data;
    }
}

/* An APC that queues another to its own thread: it runs in the same wait. */
static VOID CALLBACK queues_another(ULONG_PTR data) {
    record(data);
    QueueUserAPC(record, GetCurrentThread(), data + 1);
}

static void queue(ULONG_PTR data) {
    if (!QueueUserAPC(record, GetCurrentThread(), data)) {
        printf("QueueUserAPC failed: %u\n", (unsigned)GetLastError());
        exit(1);
    }
}

/* The data that ran, as a string of digits. */
static const char *ran_string(void) {
    static char buf[32];
    int i;
    for (i = 0; i < nran && i < 30; i++) buf[i] = (char)('0' + (int)ran[i]);
    buf[i] = 0;
    nran = 0;
    return buf;
}

static void expect_ran(const char *what, const char *want) {
    char detail[96];
    const char *got = ran_string();
    sprintf_s(detail, sizeof detail, "ran \"%s\", want \"%s\"", got, want);
    report(what, strcmp(got, want) == 0, detail);
}

static void test_apcs_on_the_calling_thread(void) {
    HANDLE unset = event(TRUE, FALSE), unset2 = event(TRUE, FALSE), set = event(TRUE, TRUE);
    HANDLE two[2];
    HANDLE held = CreateMutexA(NULL, TRUE, NULL);
    DWORD r;
    two[0] = unset;
    two[1] = unset2;

    queue(1);
    queue(2);
    queue(3);
    report("SleepEx(0, FALSE) with APCs queued returns 0", SleepEx(0, FALSE) == 0, "not 0");
    expect_wait("WaitForSingleObject does not run APCs", WaitForSingleObject(unset, 0), WAIT_TIMEOUT, 0);
    expect_wait("WaitForSingleObjectEx(FALSE) does not run APCs", WaitForSingleObjectEx(unset, 10, FALSE),
                WAIT_TIMEOUT, 0);
    expect_wait("WaitForMultipleObjectsEx(FALSE) does not run APCs",
                WaitForMultipleObjectsEx(2, two, FALSE, 0, FALSE), WAIT_TIMEOUT, 0);
    expect_wait("SignalObjectAndWait(FALSE) does not run APCs", SignalObjectAndWait(set, unset, 0, FALSE),
                WAIT_TIMEOUT, 0);
    expect_ran("no APC ran in a wait that is not alertable", "");
    r = SleepEx(0, TRUE);
    expect_wait("SleepEx(0, TRUE) runs the queued APCs", r, WAIT_IO_COMPLETION, 0);
    expect_ran("they ran first queued first", "123");
    r = SleepEx(0, TRUE);
    expect_wait("SleepEx(0, TRUE) with none queued returns 0", r, 0, 0);

    queue(4);
    r = SleepEx(INFINITE, TRUE);
    expect_wait("SleepEx(INFINITE, TRUE) with an APC queued before it", r, WAIT_IO_COMPLETION, 0);
    expect_ran("the APC ran", "4");

    queue(5);
    r = WaitForSingleObjectEx(unset, INFINITE, TRUE);
    expect_wait("WaitForSingleObjectEx(TRUE) of an unset event", r, WAIT_IO_COMPLETION, 0);
    expect_ran("its APC ran", "5");

    queue(6);
    r = WaitForMultipleObjectsEx(2, two, FALSE, INFINITE, TRUE);
    expect_wait("WaitForMultipleObjectsEx(TRUE), wait-any", r, WAIT_IO_COMPLETION, 0);
    expect_ran("its APC ran", "6");

    queue(7);
    SetEvent(unset2);
    r = WaitForMultipleObjectsEx(2, two, TRUE, INFINITE, TRUE);
    expect_wait("WaitForMultipleObjectsEx(TRUE), wait-all of one set and one unset", r,
                WAIT_IO_COMPLETION, 0);
    expect_ran("its APC ran", "7");
    ResetEvent(unset2);

    queue(8);
    r = SignalObjectAndWait(held, unset, INFINITE, TRUE);
    expect_wait("SignalObjectAndWait(TRUE) of an unset event", r, WAIT_IO_COMPLETION, 0);
    expect_ran("its APC ran", "8");
    expect_bool("SignalObjectAndWait released the mutex first", ReleaseMutex(held), FALSE, ERROR_NOT_OWNER);

    queue(9);
    expect_wait("WaitForSingleObjectEx(TRUE) of a set event is satisfied", WaitForSingleObjectEx(set, 0, TRUE),
                WAIT_OBJECT_0, 0);
    expect_wait("the next alertable wait runs the APC", WaitForSingleObjectEx(unset, 0, TRUE),
                WAIT_IO_COMPLETION, 0);
    expect_ran("it ran", "9");

    QueueUserAPC(queues_another, GetCurrentThread(), 1);
    expect_wait("an APC that queues another", SleepEx(0, TRUE), WAIT_IO_COMPLETION, 0);
    expect_ran("both ran in the one wait", "12");

    CloseHandle(unset);
    CloseHandle(unset2);
    CloseHandle(set);
    CloseHandle(held);
}

static HANDLE worker_ready, worker_go;

static DWORD WINAPI sleeps_alertably(LPVOID p) {
    DWORD r1, r2;
    HANDLE two[2];
    (void)p;
    two[0] = worker_go;
    two[1] = worker_go;
    SetEvent(worker_ready);
    r1 = SleepEx(INFINITE, TRUE);
    SetEvent(worker_ready);
    r2 = WaitForMultipleObjectsEx(2, two, FALSE, INFINITE, TRUE);
    return r1 == WAIT_IO_COMPLETION && r2 == WAIT_IO_COMPLETION ? 0xC0 : r1 * 1000 + r2;
}

static void test_apcs_to_another_thread(void) {
    DWORD id, code = 0;
    HANDLE t, bogus = (HANDLE)(ULONG_PTR)0x1230, e = event(FALSE, FALSE);
    char detail[96];
    worker_ready = event(FALSE, FALSE);
    worker_go = event(TRUE, FALSE);
    t = CreateThread(NULL, 0, sleeps_alertably, NULL, 0, &id);
    WaitForSingleObject(worker_ready, INFINITE);
    Sleep(20);
    expect_bool("QueueUserAPC to a worker", QueueUserAPC(record, t, 1) != 0, TRUE, 0);
    WaitForSingleObject(worker_ready, INFINITE);
    Sleep(20);
    expect_bool("QueueUserAPC to it again", QueueUserAPC(record, t, 2) != 0, TRUE, 0);
    expect_wait("the worker ends", WaitForSingleObject(t, 10000), WAIT_OBJECT_0, 0);
    GetExitCodeThread(t, &code);
    sprintf_s(detail, sizeof detail, "exit code %#x", (unsigned)code);
    report("its SleepEx and WaitForMultipleObjectsEx returned WAIT_IO_COMPLETION", code == 0xC0, detail);
    report("the APCs ran on the worker", nran == 2 && ran_on[0] == id && ran_on[1] == id, "not on it");
    expect_ran("in order", "12");

    SetLastError(0);
    expect_bool("QueueUserAPC to a made-up handle", QueueUserAPC(record, bogus, 0) != 0, FALSE,
                ERROR_INVALID_HANDLE);
    SetLastError(0);
    expect_bool("QueueUserAPC to an event", QueueUserAPC(record, e, 0) != 0, FALSE, ERROR_INVALID_HANDLE);
    CloseHandle(t);
    CloseHandle(e);
    CloseHandle(worker_ready);
    CloseHandle(worker_go);
}

/* ---- SuspendThread and ResumeThread ------------------------------------------------------ */

static volatile LONG counter, stop;

static DWORD WINAPI counts(LPVOID p) {
    (void)p;
    while (!stop) InterlockedIncrement(&counter);
    return 0;
}

/* Whether the counter moves within 5 seconds. */
static int counter_moves(void) {
    LONG before = counter;
    int i;
    for (i = 0; i < 5000; i++) {
        if (counter != before) return 1;
        Sleep(1);
    }
    return 0;
}

static void expect_count(const char *what, DWORD got, DWORD want) {
    char detail[64];
    sprintf_s(detail, sizeof detail, "returned %d, want %d", (int)got, (int)want);
    report(what, got == want, detail);
}

static DWORD WINAPI suspends_itself(LPVOID p) {
    DWORD r;
    SetEvent((HANDLE)p);
    r = SuspendThread(GetCurrentThread());
    InterlockedExchange(&stop, 2);
    return r;
}

static void test_suspend(void) {
    HANDLE t, e, bogus = (HANDLE)(ULONG_PTR)0x1230;
    LONG seen;
    DWORD r, code = 0xdeadbeef;
    int i, ok;
    counter = 0;
    stop = 0;
    t = CreateThread(NULL, 0, counts, NULL, 0, NULL);
    report("the worker counts", counter_moves(), "the counter did not move");
    expect_count("SuspendThread of a running thread returns 0", SuspendThread(t), 0);
    expect_count("SuspendThread again returns 1", SuspendThread(t), 1);
    seen = counter;
    Sleep(50);
    report("a suspended thread makes no progress", counter == seen, "the counter moved");
    expect_count("ResumeThread returns 2", ResumeThread(t), 2);
    seen = counter;
    Sleep(50);
    report("still suspended at a count of 1", counter == seen, "the counter moved");
    expect_count("ResumeThread returns 1", ResumeThread(t), 1);
    report("the resumed thread counts again", counter_moves(), "the counter did not move");
    expect_count("ResumeThread of a running thread returns 0", ResumeThread(t), 0);

    ok = 1;
    for (i = 0; i < MAXIMUM_SUSPEND_COUNT; i++)
        if (SuspendThread(t) != (DWORD)i) ok = 0;
    report("SuspendThread counts up to MAXIMUM_SUSPEND_COUNT", ok, "a count was wrong");
    SetLastError(0);
    r = SuspendThread(t);
    expect_bool("one more: (DWORD)-1, ERROR_SIGNAL_REFUSED", r != (DWORD)-1, FALSE, ERROR_SIGNAL_REFUSED);
    ok = 1;
    for (i = MAXIMUM_SUSPEND_COUNT; i > 0; i--)
        if (ResumeThread(t) != (DWORD)i) ok = 0;
    report("ResumeThread counts down from it", ok, "a count was wrong");
    report("and the thread counts again", counter_moves(), "the counter did not move");
    stop = 1;
    expect_wait("the worker ends", WaitForSingleObject(t, 10000), WAIT_OBJECT_0, 0);
    SetLastError(0);
    r = SuspendThread(t);
    expect_bool("SuspendThread of an ended thread: (DWORD)-1, ERROR_ACCESS_DENIED", r != (DWORD)-1, FALSE,
                ERROR_ACCESS_DENIED);
    expect_count("ResumeThread of an ended thread returns 0", ResumeThread(t), 0);
    CloseHandle(t);

    /* A thread made suspended: its count is 1. */
    counter = 0;
    stop = 0;
    t = CreateThread(NULL, 0, counts, NULL, CREATE_SUSPENDED, NULL);
    expect_count("SuspendThread of a CREATE_SUSPENDED thread returns 1", SuspendThread(t), 1);
    expect_count("ResumeThread returns 2", ResumeThread(t), 2);
    Sleep(50);
    report("it has not started at a count of 1", counter == 0, "the counter moved");
    expect_count("ResumeThread returns 1", ResumeThread(t), 1);
    report("then it starts", counter_moves(), "the counter did not move");
    stop = 1;
    expect_wait("it ends", WaitForSingleObject(t, 10000), WAIT_OBJECT_0, 0);
    CloseHandle(t);

    /* A thread that suspends itself until another resumes it. */
    stop = 0;
    e = event(FALSE, FALSE);
    t = CreateThread(NULL, 0, suspends_itself, e, 0, NULL);
    WaitForSingleObject(e, INFINITE);
    Sleep(50);
    report("a thread that suspended itself stays suspended", stop == 0, "it went on");
    for (i = 0; i < 5000 && (r = ResumeThread(t)) == 0; i++) Sleep(1);
    expect_count("ResumeThread of it returns 1", r, 1);
    expect_wait("it goes on and ends", WaitForSingleObject(t, 10000), WAIT_OBJECT_0, 0);
    GetExitCodeThread(t, &code);
    report("its SuspendThread returned 0", code == 0 && stop == 2, "it did not");
    CloseHandle(t);

    SetLastError(0);
    r = SuspendThread(e);
    expect_bool("SuspendThread of an event: (DWORD)-1, ERROR_INVALID_HANDLE", r != (DWORD)-1, FALSE,
                ERROR_INVALID_HANDLE);
    SetLastError(0);
    r = SuspendThread(bogus);
    expect_bool("SuspendThread of a made-up handle: (DWORD)-1, ERROR_INVALID_HANDLE", r != (DWORD)-1, FALSE,
                ERROR_INVALID_HANDLE);
    CloseHandle(e);
}

/* ---- TerminateThread ------------------------------------------------------------------ */

static volatile LONG went_on;

static DWORD WINAPI holds_mutex_and_sleeps(LPVOID p) {
    HANDLE m = *(HANDLE *)p;
    WaitForSingleObject(m, INFINITE);
    SetEvent(worker_ready);
    Sleep(INFINITE);
    InterlockedExchange(&went_on, 1);
    return 1;
}

static DWORD WINAPI terminates_itself(LPVOID p) {
    (void)p;
    TerminateThread(GetCurrentThread(), 55);
    InterlockedExchange(&went_on, 1);
    return 2;
}

static void test_terminate(void) {
    HANDLE t, m = CreateMutexA(NULL, FALSE, NULL), e = event(FALSE, FALSE);
    DWORD code = 0;
    char detail[64];
    worker_ready = event(FALSE, FALSE);
    went_on = 0;
    t = CreateThread(NULL, 0, holds_mutex_and_sleeps, &m, 0, NULL);
    WaitForSingleObject(worker_ready, INFINITE);
    expect_wait("the worker holds the mutex", WaitForSingleObject(m, 0), WAIT_TIMEOUT, 0);
    expect_bool("TerminateThread of it", TerminateThread(t, 77), TRUE, 0);
    expect_wait("its handle is signalled", WaitForSingleObject(t, 10000), WAIT_OBJECT_0, 0);
    GetExitCodeThread(t, &code);
    sprintf_s(detail, sizeof detail, "exit code %u", (unsigned)code);
    report("GetExitCodeThread reports TerminateThread's code", code == 77, detail);
    expect_wait("the mutex it held is abandoned", WaitForSingleObject(m, 10000), WAIT_ABANDONED_0, 0);
    ReleaseMutex(m);
    report("nothing more of it ran", went_on == 0, "it went on");
    CloseHandle(t);

    t = CreateThread(NULL, 0, terminates_itself, NULL, 0, NULL);
    expect_wait("a thread that terminates itself ends", WaitForSingleObject(t, 10000), WAIT_OBJECT_0, 0);
    GetExitCodeThread(t, &code);
    sprintf_s(detail, sizeof detail, "exit code %u", (unsigned)code);
    report("with its code", code == 55 && went_on == 0, detail);
    CloseHandle(t);

    counter = 0;
    t = CreateThread(NULL, 0, counts, NULL, CREATE_SUSPENDED, NULL);
    expect_bool("TerminateThread of a suspended thread", TerminateThread(t, 9), TRUE, 0);
    expect_wait("it ends", WaitForSingleObject(t, 10000), WAIT_OBJECT_0, 0);
    GetExitCodeThread(t, &code);
    report("with its code, never having run", code == 9 && counter == 0, "it ran or has another code");
    CloseHandle(t);

    SetLastError(0);
    expect_bool("TerminateThread of an event", TerminateThread(e, 1), FALSE, ERROR_INVALID_HANDLE);
    SetLastError(0);
    expect_bool("TerminateThread of a made-up handle", TerminateThread((HANDLE)(ULONG_PTR)0x1230, 1), FALSE,
                ERROR_INVALID_HANDLE);
    CloseHandle(e);
    CloseHandle(m);
    CloseHandle(worker_ready);
}

/* ntdll's APC calls, found with GetProcAddress as programs find them. */
typedef LONG(NTAPI *nt_queue_apc)(HANDLE, void(NTAPI *)(ULONG_PTR, ULONG_PTR, ULONG_PTR), ULONG_PTR,
                                  ULONG_PTR, ULONG_PTR);
typedef LONG(NTAPI *nt_test_alert)(void);
typedef LONG(NTAPI *nt_wait_single)(HANDLE, BOOLEAN, PLARGE_INTEGER);

static ULONG_PTR nt_args[3];

static void NTAPI record_three(ULONG_PTR a, ULONG_PTR b, ULONG_PTR c) {
    nt_args[0] = a;
    nt_args[1] = b;
    nt_args[2] = c;
    record(a + b + c);
}

static void test_ntdll_apcs(void) {
    HMODULE ntdll = GetModuleHandleA("ntdll.dll");
    nt_queue_apc queue_apc = (nt_queue_apc)(void (*)(void))GetProcAddress(ntdll, "NtQueueApcThread");
    nt_test_alert test_alert = (nt_test_alert)(void (*)(void))GetProcAddress(ntdll, "NtTestAlert");
    nt_wait_single wait_single = (nt_wait_single)(void (*)(void))GetProcAddress(ntdll, "NtWaitForSingleObject");
    HANDLE unset = event(TRUE, FALSE);
    LARGE_INTEGER timeout;
    char detail[64];
    LONG status;
    DWORD r;
    if (!queue_apc || !test_alert || !wait_single) {
        report("ntdll has NtQueueApcThread, NtTestAlert and NtWaitForSingleObject", 0, "missing");
        return;
    }
    status = queue_apc(GetCurrentThread(), record_three, 1, 2, 3);
    sprintf_s(detail, sizeof detail, "status %#lx", (unsigned long)status);
    report("NtQueueApcThread of three arguments", status == 0, detail);
    r = SleepEx(0, TRUE);
    expect_wait("SleepEx(0, TRUE) runs it", r, WAIT_IO_COMPLETION, 0);
    report("with its three arguments", nt_args[0] == 1 && nt_args[1] == 2 && nt_args[2] == 3, "other arguments");
    expect_ran("it ran once", "6");
    status = queue_apc(GetCurrentThread(), NULL, 0, 0, 0);
    report("NtQueueApcThread of a NULL routine succeeds", status == 0, "failed");
    expect_wait("and queues nothing: SleepEx(0, TRUE) returns 0", SleepEx(0, TRUE), 0, 0);
    queue(4);
    status = test_alert();
    report("NtTestAlert", status == 0, "not STATUS_SUCCESS");
    expect_ran("runs the queued APC", "4");
    expect_wait("after it nothing is queued", SleepEx(0, TRUE), 0, 0);
    queue(5);
    timeout.QuadPart = -10000000; /* 1 s */
    status = wait_single(unset, TRUE, &timeout);
    sprintf_s(detail, sizeof detail, "status %#lx", (unsigned long)status);
    report("an alertable NtWaitForSingleObject returns STATUS_USER_APC", status == 0xC0, detail);
    expect_ran("its APC ran", "5");
    queue(6);
    timeout.QuadPart = 0;
    status = wait_single(unset, FALSE, &timeout);
    sprintf_s(detail, sizeof detail, "status %#lx", (unsigned long)status);
    report("one that is not alertable times out", status == 0x102, detail);
    expect_ran("without running it", "");
    SleepEx(0, TRUE);
    nran = 0;
    CloseHandle(unset);
}

int main(int argc, char **argv) {
    (void)argc;
    (void)argv;
    test_apcs_on_the_calling_thread();
    test_ntdll_apcs();
    test_apcs_to_another_thread();
    test_suspend();
    test_terminate();
    printf("failures: %d\n", failures);
    return failures;
}
