/*
 * Fidelity of what the Windows SDK's conformance programs need around the API: faults
 * as exceptions (SetUnhandledExceptionFilter and the x64 CONTEXT), error modes, console
 * modes and _get_osfhandle, ntstatus.h and winternl.h, one-time initialization without
 * a callback, interlocked lists pushed as chains, ntdll's waits, the lstr functions and
 * code pages. One line per case; the transcript is the same natively and, built with
 * mingw, under Wine.
 */
#define WIN32_NO_STATUS
#include <windows.h>
#undef WIN32_NO_STATUS
#include <ntstatus.h>
#include <winternl.h>
#include <io.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "fidelity.h"
#include "fidelity_wine.h"

/* ---- faults ------------------------------------------------------------------------ */

static char rescue[16];
static volatile char *volatile target;
static DWORD seen_code, seen_params;
static ULONG_PTR seen_kind, seen_address;
static int seen_rip, seen_flags;

/* Records the exception, then points the register that holds the bad address at
 * `rescue` and resumes: the faulting instruction runs again, on good memory. */
static LONG WINAPI resume_filter(EXCEPTION_POINTERS *p) {
    DWORD64 *regs = &p->ContextRecord->Rax;
    int i;
    seen_code = p->ExceptionRecord->ExceptionCode;
    seen_params = p->ExceptionRecord->NumberParameters;
    seen_kind = p->ExceptionRecord->ExceptionInformation[0];
    seen_address = p->ExceptionRecord->ExceptionInformation[1];
    seen_rip = (DWORD64)(ULONG_PTR)p->ExceptionRecord->ExceptionAddress == p->ContextRecord->Rip;
    seen_flags = (p->ContextRecord->ContextFlags & CONTEXT_FULL) == CONTEXT_FULL;
    for (i = 0; i < 16; i++)
        if (regs[i] == (DWORD64)(ULONG_PTR)target) regs[i] = (DWORD64)(ULONG_PTR)rescue;
    return EXCEPTION_CONTINUE_EXECUTION;
}

/* Skips the faulting instruction (`skip` bytes long) and resumes after it. */
static int skip_bytes;
static LONG WINAPI skip_filter(EXCEPTION_POINTERS *p) {
    seen_code = p->ExceptionRecord->ExceptionCode;
    seen_rip = (DWORD64)(ULONG_PTR)p->ExceptionRecord->ExceptionAddress == p->ContextRecord->Rip;
    p->ContextRecord->Rip += skip_bytes;
    return EXCEPTION_CONTINUE_EXECUTION;
}

static void faults(void) {
    char c;
    printf("-- faults\n");
    printf("sizeof CONTEXT %u, Rip at %u, FltSave at %u, EXCEPTION_RECORD %u, M128A %u, XMM_SAVE_AREA32 %u\n",
           (unsigned)sizeof(CONTEXT), (unsigned)offsetof(CONTEXT, Rip), (unsigned)offsetof(CONTEXT, FltSave),
           (unsigned)sizeof(EXCEPTION_RECORD), (unsigned)sizeof(M128A), (unsigned)sizeof(XMM_SAVE_AREA32));
    printf("EXCEPTION_ACCESS_VIOLATION %08x, EXCEPTION_INT_DIVIDE_BY_ZERO %08x, EXCEPTION_EXECUTE_HANDLER %d, "
           "EXCEPTION_CONTINUE_EXECUTION %d\n",
           (unsigned)EXCEPTION_ACCESS_VIOLATION, (unsigned)EXCEPTION_INT_DIVIDE_BY_ZERO, EXCEPTION_EXECUTE_HANDLER,
           EXCEPTION_CONTINUE_EXECUTION);
    SetUnhandledExceptionFilter(resume_filter);
    check(SetUnhandledExceptionFilter(resume_filter) == resume_filter, "SetUnhandledExceptionFilter returns the previous filter");

    target = (volatile char *)(ULONG_PTR)0x10;
    *target = 'w';
    printf("write at 0x10: code %08x, %u parameters, kind %u (write), address %s, at Rip %s, context full %s; "
           "resumed: %s\n",
           (unsigned)seen_code, (unsigned)seen_params, (unsigned)seen_kind, seen_address == 0x10 ? "0x10" : "other",
           seen_rip ? "yes" : "no", seen_flags ? "yes" : "no", rescue[0] == 'w' ? "written to the rescue" : "FAIL");

    seen_code = 0;
    target = (volatile char *)(ULONG_PTR)0x21;
    c = target[0];
    printf("read at 0x21: code %08x, kind %u (read), address %s; resumed: %s\n", (unsigned)seen_code,
           (unsigned)seen_kind, seen_address == 0x21 ? "0x21" : "other", c == 'w' ? "read the rescue" : "FAIL");
#if defined(__x86_64__)
    SetUnhandledExceptionFilter(skip_filter);
    seen_code = 0;
    skip_bytes = 2;
    __asm__ volatile("ud2");
    printf("ud2: code %08x, at Rip %s; resumed after it\n", (unsigned)seen_code, seen_rip ? "yes" : "no");
    {
        int quotient = 7;
        seen_code = 0;
        skip_bytes = 2; /* idiv %ecx */
        __asm__ volatile("xorl %%ecx, %%ecx\n\tmovl $1, %%eax\n\tcltd\n\tidivl %%ecx\n\tmovl %%eax, %0"
                         : "=r"(quotient)
                         :
                         : "eax", "ecx", "edx", "cc");
        printf("integer division by zero: code %08x, at Rip %s; resumed after it (eax %d)\n", (unsigned)seen_code,
               seen_rip ? "yes" : "no", quotient);
    }
#endif
    SetUnhandledExceptionFilter(NULL);
}

static LONG WINAPI ending_filter(EXCEPTION_POINTERS *p) {
    (void)p;
    return EXCEPTION_EXECUTE_HANDLER;
}

/* A child whose filter takes its fault ends with the exception code. */
static void crash_child(void) {
    char self[MAX_PATH], line[MAX_PATH + 32];
    STARTUPINFOA si;
    PROCESS_INFORMATION pi;
    DWORD code = 0;
    memset(&si, 0, sizeof(si));
    si.cb = sizeof(si);
    GetModuleFileNameA(NULL, self, sizeof(self));
    sprintf(line, "\"%s\" child crash", self);
    if (!CreateProcessA(NULL, line, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) {
        check(0, "start the child");
        return;
    }
    WaitForSingleObject(pi.hProcess, 30000);
    GetExitCodeProcess(pi.hProcess, &code);
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    /* Exit codes keep their low 8 bits here (5 for 0xC0000005). */
    printf("a child whose filter says EXCEPTION_EXECUTE_HANDLER on a write to 0x10: exit code's low byte %02x\n",
           (unsigned)(code & 0xFF));
}

/* ---- error and console modes ------------------------------------------------------ */

static void modes(void) {
    UINT before;
    HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
    DWORD mode = 0xdeadbeef;
    intptr_t h;
    printf("-- error and console modes\n");
    before = SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOOPENFILEERRORBOX);
    check(GetErrorMode() == (SEM_FAILCRITICALERRORS | SEM_NOOPENFILEERRORBOX), "GetErrorMode gives the mode set");
    check(SetErrorMode(before) == (SEM_FAILCRITICALERRORS | SEM_NOOPENFILEERRORBOX), "SetErrorMode returns the previous mode");
    check(GetErrorMode() == before, "the mode is back");

    /* The lane runs the program with its output in a file: no console. */
    SetLastError(0xdeadbeef);
    expect_error(!GetConsoleMode(out, &mode), ERROR_INVALID_HANDLE, "GetConsoleMode of a file");
    check(mode == 0xdeadbeef, "the mode is left alone");
    SetLastError(0xdeadbeef);
    expect_error(!SetConsoleMode(out, ENABLE_PROCESSED_OUTPUT), ERROR_INVALID_HANDLE, "SetConsoleMode of a file");
    SetLastError(0xdeadbeef);
    expect_error(!GetConsoleMode(NULL, &mode), ERROR_INVALID_HANDLE, "GetConsoleMode of NULL");

    check((HANDLE)_get_osfhandle(1) == out, "_get_osfhandle(1) is the standard output handle");
    check((HANDLE)_get_osfhandle(2) == GetStdHandle(STD_ERROR_HANDLE), "_get_osfhandle(2) is the standard error handle");
    errno = 0;
    h = _get_osfhandle(-1);
    check(h == -1 && errno == EBADF, "_get_osfhandle(-1) is -1 with EBADF");
}

/* ---- ntstatus.h and winternl.h ---------------------------------------------------- */

static void nt_headers(void) {
    printf("-- ntstatus.h and winternl.h\n");
    printf("STATUS_SUCCESS %08x, STATUS_WAIT_0 %08x, STATUS_ABANDONED_WAIT_0 %08x, STATUS_TIMEOUT %08x, "
           "STATUS_PENDING %08x\n",
           (unsigned)STATUS_SUCCESS, (unsigned)STATUS_WAIT_0, (unsigned)STATUS_ABANDONED_WAIT_0,
           (unsigned)STATUS_TIMEOUT, (unsigned)STATUS_PENDING);
    printf("STATUS_ACCESS_VIOLATION %08x, STATUS_INVALID_HANDLE %08x, STATUS_ACCESS_DENIED %08x, "
           "STATUS_OBJECT_NAME_NOT_FOUND %08x, STATUS_BUFFER_OVERFLOW %08x, STATUS_NO_MEMORY %08x\n",
           (unsigned)STATUS_ACCESS_VIOLATION, (unsigned)STATUS_INVALID_HANDLE, (unsigned)STATUS_ACCESS_DENIED,
           (unsigned)STATUS_OBJECT_NAME_NOT_FOUND, (unsigned)STATUS_BUFFER_OVERFLOW, (unsigned)STATUS_NO_MEMORY);
    printf("WAIT_OBJECT_0 %u, WAIT_ABANDONED_0 %u, STILL_ACTIVE %u\n", (unsigned)WAIT_OBJECT_0,
           (unsigned)WAIT_ABANDONED_0, (unsigned)STILL_ACTIVE);
    printf("NT_SUCCESS: of STATUS_SUCCESS %d, of STATUS_TIMEOUT %d, of STATUS_BUFFER_OVERFLOW %d, of "
           "STATUS_ACCESS_DENIED %d\n",
           NT_SUCCESS(STATUS_SUCCESS), NT_SUCCESS(STATUS_TIMEOUT), NT_SUCCESS(STATUS_BUFFER_OVERFLOW),
           NT_SUCCESS(STATUS_ACCESS_DENIED));
    printf("sizeof NTSTATUS %u, UNICODE_STRING %u, STRING %u, OBJECT_ATTRIBUTES %u, IO_STATUS_BLOCK %u, CLIENT_ID %u\n",
           (unsigned)sizeof(NTSTATUS), (unsigned)sizeof(UNICODE_STRING), (unsigned)sizeof(STRING),
           (unsigned)sizeof(OBJECT_ATTRIBUTES), (unsigned)sizeof(IO_STATUS_BLOCK), (unsigned)sizeof(CLIENT_ID));
    printf("OBJ_INHERIT %x, OBJ_CASE_INSENSITIVE %x, OBJ_OPENIF %x\n", (unsigned)OBJ_INHERIT,
           (unsigned)OBJ_CASE_INSENSITIVE, (unsigned)OBJ_OPENIF);
    printf("FIELD_OFFSET(OBJECT_ATTRIBUTES, Attributes) %d\n", (int)FIELD_OFFSET(OBJECT_ATTRIBUTES, Attributes));
}

/* ---- one-time initialization ------------------------------------------------------- */

static INIT_ONCE shared_once;
static volatile LONG helper_pending = -1;
static void *helper_context;

static DWORD WINAPI begin_helper(void *unused) {
    BOOL pending = 0xf;
    (void)unused;
    /* Waits while the main thread's synchronous initialization runs. */
    if (InitOnceBeginInitialize(&shared_once, 0, &pending, &helper_context)) helper_pending = pending;
    return 0;
}

static BOOL CALLBACK seen_context(INIT_ONCE *once, void *param, void **context) {
    (void)once;
    *(void **)param = *context;
    *context = (void *)(ULONG_PTR)0x100;
    return TRUE;
}

static void init_once(void) {
    INIT_ONCE once;
    BOOL pending;
    void *ctx = NULL, *got = (void *)1;
    HANDLE thread;
    printf("-- one-time initialization\n");
    InitOnceInitialize(&once);
    pending = FALSE;
    check(InitOnceBeginInitialize(&once, 0, &pending, &ctx) && pending && once.Ptr == (void *)1,
          "synchronous begin: pending, the word is 1");
    pending = 0xf;
    SetLastError(0xdeadbeef);
    expect_error(!InitOnceBeginInitialize(&once, INIT_ONCE_CHECK_ONLY, &pending, &ctx), ERROR_GEN_FAILURE,
                 "check-only while it runs");
    check(pending == 0xf, "pending left alone");
    SetLastError(0xdeadbeef);
    expect_error(!InitOnceBeginInitialize(&once, INIT_ONCE_ASYNC, &pending, &ctx), ERROR_INVALID_PARAMETER,
                 "asynchronous begin while a synchronous one runs");
    SetLastError(0xdeadbeef);
    expect_error(!InitOnceComplete(&once, 0, (void *)0x13), ERROR_INVALID_PARAMETER, "complete with reserved bits");
    SetLastError(0xdeadbeef);
    expect_error(!InitOnceComplete(&once, INIT_ONCE_INIT_FAILED, (void *)0x10), ERROR_INVALID_PARAMETER,
                 "failed with a context");
    check(InitOnceComplete(&once, INIT_ONCE_INIT_FAILED, NULL) && once.Ptr == NULL, "failed: back to the start");
    SetLastError(0xdeadbeef);
    expect_error(!InitOnceComplete(&once, 0, (void *)0x10), ERROR_GEN_FAILURE, "complete with nothing begun");
    check(InitOnceBeginInitialize(&once, 0, &pending, &ctx) && pending, "begin again");
    check(InitOnceComplete(&once, 0, (void *)0x120) && once.Ptr == (void *)0x122, "complete: the context with bit 1");
    ctx = NULL;
    pending = TRUE;
    check(InitOnceBeginInitialize(&once, INIT_ONCE_CHECK_ONLY, &pending, &ctx) && !pending && ctx == (void *)0x120,
          "check-only when done: not pending, the context");
    SetLastError(0xdeadbeef);
    expect_error(!InitOnceBeginInitialize(&once, INIT_ONCE_CHECK_ONLY | INIT_ONCE_ASYNC, &pending, &ctx),
                 ERROR_INVALID_PARAMETER, "check-only and asynchronous");

    InitOnceInitialize(&once);
    check(InitOnceBeginInitialize(&once, INIT_ONCE_ASYNC, &pending, &ctx) && pending && once.Ptr == (void *)3,
          "asynchronous begin: pending, the word is 3");
    check(InitOnceBeginInitialize(&once, INIT_ONCE_ASYNC, &pending, &ctx) && pending, "a second asynchronous begin");
    SetLastError(0xdeadbeef);
    expect_error(!InitOnceBeginInitialize(&once, 0, &pending, &ctx), ERROR_INVALID_PARAMETER,
                 "synchronous begin while asynchronous ones are pending");
    SetLastError(0xdeadbeef);
    expect_error(!InitOnceComplete(&once, INIT_ONCE_ASYNC | INIT_ONCE_INIT_FAILED, NULL), ERROR_INVALID_PARAMETER,
                 "asynchronous failure");
    check(InitOnceComplete(&once, INIT_ONCE_ASYNC, (void *)0x200) && once.Ptr == (void *)0x202,
          "the first asynchronous complete wins");
    SetLastError(0xdeadbeef);
    expect_error(!InitOnceComplete(&once, INIT_ONCE_ASYNC, (void *)0x300), ERROR_GEN_FAILURE,
                 "a second asynchronous complete");
    check(once.Ptr == (void *)0x202, "the first context stays");

    InitOnceInitialize(&shared_once);
    check(InitOnceBeginInitialize(&shared_once, 0, &pending, &ctx) && pending, "begin, then another thread begins");
    thread = CreateThread(NULL, 0, begin_helper, NULL, 0, NULL);
    Sleep(100);
    check(helper_pending == -1, "the other thread waits");
    check(InitOnceComplete(&shared_once, 0, (void *)0x400), "complete");
    check(WaitForSingleObject(thread, 5000) == WAIT_OBJECT_0, "the other thread ends");
    CloseHandle(thread);
    check(helper_pending == FALSE && helper_context == (void *)0x400, "it found it done, with the context");

    InitOnceInitialize(&once);
    ctx = (void *)0x500;
    check(InitOnceExecuteOnce(&once, seen_context, &got, &ctx) && got == (void *)0x500 && ctx == (void *)0x100,
          "InitOnceExecuteOnce's callback gets the caller's context");
}

/* ---- interlocked lists and critical sections -------------------------------------- */

struct item {
    SLIST_ENTRY entry;
    int value;
};

static void lists(void) {
    static SLIST_HEADER head;
    static struct item items[3];
    struct item *many;
    PSLIST_ENTRY e;
    CRITICAL_SECTION cs;
    int i, order_ok = 1;
    printf("-- interlocked lists and critical sections\n");
    InitializeSListHead(&head);
    for (i = 0; i < 3; i++) items[i].value = i + 1;
    items[0].entry.Next = &items[1].entry;
    items[1].entry.Next = &items[2].entry;
    check(InterlockedPushListSListEx(&head, &items[0].entry, &items[2].entry, 3) == NULL, "push a chain of 3 on an empty list");
    check(QueryDepthSList(&head) == 3, "depth 3");
    for (i = 0; i < 3; i++) {
        e = InterlockedPopEntrySList(&head);
        if (!e || CONTAINING_RECORD(e, struct item, entry)->value != i + 1) order_ok = 0;
    }
    check(order_ok && InterlockedPopEntrySList(&head) == NULL, "popped in chain order, then empty");
    many = (struct item *)HeapAlloc(GetProcessHeap(), 0, 65537 * sizeof(*many));
    InitializeSListHead(&head);
    for (i = 0; i < 65536; i++) InterlockedPushEntrySList(&head, &many[i].entry);
    printf("depth after 65536 pushes: %u (the 16-bit depth wraps)\n", (unsigned)QueryDepthSList(&head));
    InterlockedPushEntrySList(&head, &many[65536].entry);
    printf("depth after one more: %u\n", (unsigned)QueryDepthSList(&head));
    HeapFree(GetProcessHeap(), 0, many);

    memset(&cs, 0, sizeof(cs));
    InitializeCriticalSection(&cs);
    check(cs.DebugInfo != NULL, "an initialized critical section's DebugInfo is not NULL");
    DeleteCriticalSection(&cs);
    check(cs.DebugInfo == NULL, "a deleted one's is NULL");
}

/* ---- an unaligned condition variable --------------------------------------------- */

#include <pshpack1.h>
static struct {
    char pad;
    CONDITION_VARIABLE cv;
} unaligned;
#include <poppack.h>
static CRITICAL_SECTION cv_lock;
static volatile LONG cv_flag;

static DWORD WINAPI cv_waker(void *unused) {
    (void)unused;
    Sleep(50);
    EnterCriticalSection(&cv_lock);
    cv_flag = 1;
    LeaveCriticalSection(&cv_lock);
    WakeConditionVariable(&unaligned.cv);
    return 0;
}

static void unaligned_cv(void) {
    HANDLE thread;
    BOOL r;
    DWORD start;
    printf("-- an unaligned condition variable\n");
    InitializeCriticalSection(&cv_lock);
    InitializeConditionVariable(&unaligned.cv);
    EnterCriticalSection(&cv_lock);
    SetLastError(0xdeadbeef);
    r = SleepConditionVariableCS(&unaligned.cv, &cv_lock, 20);
    printf("no wake, 20 ms: %d, error %u\n", r, (unsigned)GetLastError());
    thread = CreateThread(NULL, 0, cv_waker, NULL, 0, NULL);
    start = GetTickCount();
    while (!cv_flag && GetTickCount() - start < 5000) SleepConditionVariableCS(&unaligned.cv, &cv_lock, 5000);
    LeaveCriticalSection(&cv_lock);
    check(cv_flag == 1, "woken by another thread");
    WaitForSingleObject(thread, 5000);
    CloseHandle(thread);
    DeleteCriticalSection(&cv_lock);
}

/* ---- ntdll's waits ---------------------------------------------------------------- */

typedef NTSTATUS(WINAPI *wait1_fn)(HANDLE, BOOLEAN, const LARGE_INTEGER *);
typedef NTSTATUS(WINAPI *waitn_fn)(ULONG, const HANDLE *, BOOLEAN, BOOLEAN, const LARGE_INTEGER *);

static void nt_waits(void) {
    HMODULE ntdll = GetModuleHandleA("ntdll.dll");
    wait1_fn wait1 = (wait1_fn)(void (*)(void))GetProcAddress(ntdll, "NtWaitForSingleObject");
    waitn_fn waitn = (waitn_fn)(void (*)(void))GetProcAddress(ntdll, "NtWaitForMultipleObjects");
    HANDLE ev[2], self;
    LARGE_INTEGER t;
    FILETIME now;
    DWORD start, r;
    char got[64];
    printf("-- ntdll's waits\n");
    check(wait1 != NULL && waitn != NULL, "GetProcAddress finds NtWaitForSingleObject and NtWaitForMultipleObjects");
    if (!wait1 || !waitn) return;
    ev[0] = CreateEventA(NULL, TRUE, FALSE, NULL);
    ev[1] = CreateEventA(NULL, FALSE, TRUE, NULL);
    t.QuadPart = -200000; /* 20 ms */
    SetLastError(0xdeadbeef);
    start = GetTickCount();
    printf("unsignalled, 20 ms: %08x", (unsigned)wait1(ev[0], FALSE, &t));
    printf(", waited at least 15 ms: %s, last error untouched: %s\n", GetTickCount() - start >= 15 ? "yes" : "no",
           GetLastError() == 0xdeadbeef ? "yes" : "no");
    t.QuadPart = 0;
    printf("signalled, no time: %08x\n", (unsigned)wait1(ev[1], FALSE, &t));
    printf("the auto-reset event was taken: %08x\n", (unsigned)wait1(ev[1], FALSE, &t));
    SetLastError(0xdeadbeef);
    printf("a bad handle: %08x, last error untouched: %s\n", (unsigned)wait1((HANDLE)(ULONG_PTR)0x1230, FALSE, &t),
           GetLastError() == 0xdeadbeef ? "yes" : "no");
    GetSystemTimeAsFileTime(&now);
    t.LowPart = now.dwLowDateTime;
    t.HighPart = (LONG)now.dwHighDateTime;
    t.QuadPart += 200000; /* 20 ms from now, absolute */
    start = GetTickCount();
    printf("absolute, 20 ms ahead: %08x", (unsigned)wait1(ev[0], FALSE, &t));
    printf(", waited at least 15 ms: %s\n", GetTickCount() - start >= 15 ? "yes" : "no");
    t.QuadPart -= 10000000; /* in the past */
    printf("absolute, in the past: %08x\n", (unsigned)wait1(ev[0], FALSE, &t));
    SetEvent(ev[1]);
    t.QuadPart = 0;
    printf("any of (unsignalled, signalled): %08x\n", (unsigned)waitn(2, ev, TRUE, FALSE, &t));
    SetEvent(ev[1]);
    printf("all of (unsignalled, signalled): %08x\n", (unsigned)waitn(2, ev, FALSE, FALSE, &t));
    SetEvent(ev[0]);
    printf("all of (signalled, signalled): %08x\n", (unsigned)waitn(2, ev, FALSE, FALSE, &t));
    CloseHandle(ev[0]);
    CloseHandle(ev[1]);

    /* Windows refuses the pseudo handles in a multi-object wait (Wine waits for them). */
    self = GetCurrentProcess();
    SetLastError(0xdeadbeef);
    r = WaitForMultipleObjects(1, &self, FALSE, 0);
    if (r == WAIT_FAILED)
        sprintf(got, "error %u", (unsigned)GetLastError());
    else
        sprintf(got, "result %u", (unsigned)r);
    printf("WaitForMultipleObjects of GetCurrentProcess(): ");
    if (!wine_departs("multi-pseudo", got, "error 6", "result 258")) failures++;
}

/* ---- lstr -------------------------------------------------------------------------- */

static void lstr(void) {
    static const char *pairs[][2] = {{"a", "B"}, {"a", "A"}, {"A", "a"}, {"abc", "abd"}, {"abc", "abc"},
                                     {"abc", "ab"}, {"_", "1"}, {"9", "a"}, {"Zebra", "apple"}, {"a1", "A1"},
                                     {"", "a"}, {"hello world", "hello"},
                                     {"coop", "co-op"}, {"a-b", "ab"}, {"it's", "its"}, {"a-c", "ab"},
                                     {"~", "0"}, {"a b", "ab"}};
    char buf[32];
    WCHAR wbuf[32];
    unsigned i;
    printf("-- lstr\n");
    printf("lstrlenA: \"hello\" %d, \"\" %d, NULL %d; lstrlenW: L\"hello\" %d, NULL %d\n", lstrlenA("hello"), lstrlenA(""),
           lstrlenA(NULL), lstrlenW(L"hello"), lstrlenW(NULL));
    check(lstrcpyA(buf, "abc") == buf && strcmp(buf, "abc") == 0, "lstrcpyA");
    check(lstrcatA(buf, "def") == buf && strcmp(buf, "abcdef") == 0, "lstrcatA");
    check(lstrcpynA(buf, "hello", 3) == buf && strcmp(buf, "he") == 0, "lstrcpynA of 3: 2 bytes and the NUL");
    check(lstrcpynA(buf, "hi", 10) == buf && strcmp(buf, "hi") == 0, "lstrcpynA of a shorter string");
    check(lstrcpyA(NULL, "x") == NULL && lstrcatA(NULL, "x") == NULL, "lstrcpyA and lstrcatA of NULL are NULL");
    check(lstrcpyW(wbuf, L"abc") == wbuf && lstrcatW(wbuf, L"de") == wbuf && lstrcmpW(wbuf, L"abcde") == 0, "lstrcpyW, lstrcatW");
    check(lstrcpynW(wbuf, L"hello", 4) == wbuf && lstrcmpW(wbuf, L"hel") == 0, "lstrcpynW");
    for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
        printf("lstrcmpA(\"%s\", \"%s\") %d, lstrcmpiA %d\n", pairs[i][0], pairs[i][1], lstrcmpA(pairs[i][0], pairs[i][1]),
               lstrcmpiA(pairs[i][0], pairs[i][1]));
    printf("lstrcmpA: (NULL, \"a\") %d, (\"a\", NULL) %d, (NULL, NULL) %d\n", lstrcmpA(NULL, "a"), lstrcmpA("a", NULL),
           lstrcmpA(NULL, NULL));
    printf("lstrcmpW(L\"a\", L\"B\") %d, lstrcmpiW(L\"ABC\", L\"abc\") %d\n", lstrcmpW(L"a", L"B"), lstrcmpiW(L"ABC", L"abc"));
}

/* ---- code pages -------------------------------------------------------------------- */

static void code_pages(void) {
    WCHAR w[16];
    char s[16];
    BOOL used;
    int n, i;
    printf("-- code pages\n");
    printf("CP_ACP %u, CP_OEMCP %u, CP_UTF8 %u, MB_ERR_INVALID_CHARS %x, WC_ERR_INVALID_CHARS %x\n", CP_ACP, CP_OEMCP,
           CP_UTF8, MB_ERR_INVALID_CHARS, WC_ERR_INVALID_CHARS);
    check(IsValidCodePage(GetACP()) && IsValidCodePage(GetOEMCP()), "the ANSI and OEM code pages are valid");
    printf("IsValidCodePage: 65001 %d, 20127 %d, 28591 %d, 12345 %d\n", IsValidCodePage(65001), IsValidCodePage(20127),
           IsValidCodePage(28591), IsValidCodePage(12345));
    n = MultiByteToWideChar(CP_ACP, 0, "plain", -1, w, 16);
    check(n == 6 && lstrcmpW(w, L"plain") == 0, "MultiByteToWideChar of ASCII with CP_ACP");
    n = MultiByteToWideChar(CP_UTF8, 0, "h\xc3\xa9llo", -1, NULL, 0);
    printf("UTF-8 \"h\\xc3\\xa9llo\": %d characters counted", n);
    n = MultiByteToWideChar(CP_UTF8, 0, "h\xc3\xa9llo", -1, w, 16);
    printf(", %d converted:", n);
    for (i = 0; i < n; i++) printf(" %04x", (unsigned)w[i]);
    printf("\n");
    n = MultiByteToWideChar(CP_UTF8, 0, "abc", 2, w, 16);
    check(n == 2 && w[0] == 'a' && w[1] == 'b', "a length without the NUL converts that many");
    SetLastError(0xdeadbeef);
    expect_error(MultiByteToWideChar(CP_UTF8, 0, "hello", -1, w, 3) == 0, ERROR_INSUFFICIENT_BUFFER, "too small a buffer");
    n = MultiByteToWideChar(CP_UTF8, 0, "a\xff" "b", 3, w, 16);
    printf("invalid byte: %d characters: %04x %04x %04x\n", n, (unsigned)w[0], (unsigned)w[1], (unsigned)w[2]);
    SetLastError(0xdeadbeef);
    expect_error(MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, "a\xff" "b", 3, w, 16) == 0,
                 ERROR_NO_UNICODE_TRANSLATION, "invalid byte with MB_ERR_INVALID_CHARS");
    SetLastError(0xdeadbeef);
    expect_error(MultiByteToWideChar(CP_UTF8, 0x10, "a", -1, w, 16) == 0, ERROR_INVALID_FLAGS, "an unknown flag");
    SetLastError(0xdeadbeef);
    expect_error(MultiByteToWideChar(12345, 0, "a", -1, w, 16) == 0, ERROR_INVALID_PARAMETER, "an unknown code page");
    SetLastError(0xdeadbeef);
    expect_error(MultiByteToWideChar(CP_UTF8, 0, "a", 0, w, 16) == 0, ERROR_INVALID_PARAMETER, "a length of 0");
    SetLastError(0xdeadbeef);
    expect_error(MultiByteToWideChar(CP_UTF8, 0, NULL, -1, w, 16) == 0, ERROR_INVALID_PARAMETER, "a NULL string");

    n = WideCharToMultiByte(CP_UTF8, 0, L"h\x00e9llo", -1, s, 16, NULL, NULL);
    printf("UTF-8 of L\"h\\x00e9llo\": %d bytes:", n);
    for (i = 0; i < n; i++) printf(" %02x", (unsigned char)s[i]);
    printf("\n");
    printf("counted: %d\n", WideCharToMultiByte(CP_UTF8, 0, L"h\x00e9llo", -1, NULL, 0, NULL, NULL));
    w[0] = 'a';
    w[1] = 0xD800;
    w[2] = 'b';
    n = WideCharToMultiByte(CP_UTF8, 0, w, 3, s, 16, NULL, NULL);
    printf("a lone surrogate: %d bytes:", n);
    for (i = 0; i < n; i++) printf(" %02x", (unsigned char)s[i]);
    printf("\n");
    SetLastError(0xdeadbeef);
    expect_error(WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, w, 3, s, 16, NULL, NULL) == 0,
                 ERROR_NO_UNICODE_TRANSLATION, "a lone surrogate with WC_ERR_INVALID_CHARS");
    used = TRUE;
    check(WideCharToMultiByte(CP_UTF8, 0, L"a", -1, s, 16, NULL, &used) == 2 && !used,
          "UTF-8 with lpUsedDefaultChar: converted, no default used");
    SetLastError(0xdeadbeef);
    expect_error(WideCharToMultiByte(CP_UTF8, 0, L"hello", -1, s, 3, NULL, NULL) == 0, ERROR_INSUFFICIENT_BUFFER,
                 "too small a buffer");
    used = FALSE;
    n = WideCharToMultiByte(28591, WC_NO_BEST_FIT_CHARS, L"\x00e9\x0100", 2, s, 16, NULL, &used);
    printf("ISO 8859-1 of U+00E9 U+0100: %d bytes: %02x %02x, default used %d\n", n, (unsigned char)s[0],
           (unsigned char)s[1], used);
    used = FALSE;
    n = WideCharToMultiByte(20127, WC_NO_BEST_FIT_CHARS, L"a\x00e9", 2, s, 16, "*", &used);
    printf("US-ASCII of a U+00E9 with default '*': %d bytes: %02x %02x, default used %d\n", n, (unsigned char)s[0],
           (unsigned char)s[1], used);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 2 && strcmp(argv[2], "crash") == 0) {
        SetUnhandledExceptionFilter(ending_filter);
        target = (volatile char *)(ULONG_PTR)0x10;
        *target = 'x';
        return 0;
    }
    faults();
    crash_child();
    modes();
    nt_headers();
    init_once();
    lists();
    unaligned_cv();
    nt_waits();
    lstr();
    code_pages();
    printf("%d failures\n", failures);
    return failures;
}
