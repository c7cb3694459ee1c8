/*
 * A probe of the SPEC rules through the Win32 API: one line per check, "RULE what: ok"
 * or "RULE what: FAIL (...)". It builds unchanged for Windows (mingw) and for Linux
 * (libshmkit_win32), and both transcripts must be identical.
 *
 * Usage: probe SUFFIX  (SUFFIX makes every object and file name unique to the run)
 * Exit status: the number of failed checks (0: all passed).
 */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
static char suffix[64];

static void report(const char *rule, const char *what, int ok, const char *detail) {
    if (ok) {
        printf("%s %s: ok\n", rule, what);
    } else {
        printf("%s %s: FAIL (%s)\n", rule, what, detail);
        failures++;
    }
    fflush(stdout);
}

/* A call that must fail with `want`. */
static void expect_error(const char *rule, const char *what, int failed, DWORD err, DWORD want) {
    char detail[128];
    sprintf_s(detail, sizeof detail, "%s, last error %u, want failure with %u",
              failed ? "failed" : "succeeded", (unsigned)err, (unsigned)want);
    report(rule, what, failed && err == want, detail);
}

/* A condition that must hold. */
static void expect_true(const char *rule, const char *what, int cond, DWORD err) {
    char detail[64];
    sprintf_s(detail, sizeof detail, "last error %u", (unsigned)err);
    report(rule, what, cond, detail);
}

static void name(char *out, size_t size, const char *prefix, const char *base) {
    sprintf_s(out, size, "%s%s-probe-%s", prefix, base, suffix);
}

static HANDLE create(const char *n, DWORD protect, DWORD size) {
    return CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, protect, 0, size, n);
}

static void names(void) {
    char n[400];
    HANDLE h;
    DWORD e;
    int i;

    h = create("Bogus\\x", PAGE_READWRITE, 4096);
    e = GetLastError();
    expect_error("1.4", "unknown namespace prefix", h == NULL, e, ERROR_PATH_NOT_FOUND);

    h = create("Local\\", PAGE_READWRITE, 4096);
    e = GetLastError();
    expect_error("1.4", "empty base name", h == NULL, e, ERROR_INVALID_NAME);

    name(n, sizeof n, "Local\\", "a\\b");
    h = create(n, PAGE_READWRITE, 4096);
    e = GetLastError();
    expect_error("1.4", "backslash inside the base name", h == NULL, e, ERROR_PATH_NOT_FOUND);

    strcpy_s(n, sizeof n, "Local\\");
    for (i = 6; i < 261; i++) n[i] = 'x';
    n[261] = 0;
    h = create(n, PAGE_READWRITE, 4096);
    e = GetLastError();
    expect_error("1.4", "261-character name", h == NULL, e, ERROR_FILENAME_EXCED_RANGE);

    sprintf_s(n, sizeof n, "Local\\%s-", suffix);
    for (i = (int)strlen(n); i < 255; i++) n[i] = 'y';
    n[255] = 0;
    SetLastError(77);
    h = create(n, PAGE_READWRITE, 4096);
    e = GetLastError();
    expect_true("1.4", "255-character name is fine, fresh create reports 0", h != NULL && e == 0, e);
    CloseHandle(h);

    SetLastError(77);
    h = OpenFileMappingA(FILE_MAP_READ, FALSE, NULL);
    e = GetLastError();
    expect_error("1.4", "open with a NULL name", h == NULL, e, ERROR_INVALID_PARAMETER);

    name(n, sizeof n, "Local\\", "odd /:*? chars");
    h = create(n, PAGE_READWRITE, 4096);
    e = GetLastError();
    expect_true("1.3", "base name with / : * ? and spaces", h != NULL, e);
    CloseHandle(h);
}

static void mappings(void) {
    char n[128];
    HANDLE a, b, h;
    DWORD e, e2;
    unsigned char *v;
    MEMORY_BASIC_INFORMATION mbi;
    int zero = 1, i;

    name(n, sizeof n, "Local\\", "create-open");
    a = create(n, PAGE_READWRITE, 2 * 65536);
    e = GetLastError();
    b = create(n, PAGE_READWRITE, 4096);
    e2 = GetLastError();
    expect_true("2.1", "fresh create reports 0", a != NULL && e == 0, e);
    expect_true("2.1", "create of an existing name opens it with ERROR_ALREADY_EXISTS",
                b != NULL && b != a && e2 == ERROR_ALREADY_EXISTS, e2);
    v = (unsigned char *)MapViewOfFile(b, FILE_MAP_READ, 0, 0, 0);
    e = GetLastError();
    expect_true("2.1", "the existing object keeps its size",
                v != NULL && VirtualQuery(v, &mbi, sizeof mbi) == sizeof mbi &&
                    mbi.RegionSize == 2 * 65536,
                e);
    for (i = 0; v && i < 2 * 65536; i++) zero &= v[i] == 0;
    expect_true("2.4", "a new object is zero-filled", v != NULL && zero, e);
    UnmapViewOfFile(v);
    CloseHandle(b);
    CloseHandle(a);

    name(n, sizeof n, "Local\\", "size0");
    h = create(n, PAGE_READWRITE, 0);
    e = GetLastError();
    expect_error("2.4", "size 0", h == NULL, e, ERROR_INVALID_PARAMETER);

    name(n, sizeof n, "Local\\", "badprot");
    h = create(n, 0x1234, 4096);
    e = GetLastError();
    expect_error("2.5", "unknown protection", h == NULL, e, ERROR_INVALID_PARAMETER);

    name(n, sizeof n, "Local\\", "readonly");
    h = create(n, PAGE_READONLY, 4096);
    v = (unsigned char *)MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0);
    e = GetLastError();
    expect_error("4.4", "write view of a PAGE_READONLY object", h != NULL && v == NULL, e,
                 ERROR_ACCESS_DENIED);
    v = (unsigned char *)MapViewOfFile(h, FILE_MAP_READ, 0, 0, 0);
    e = GetLastError();
    expect_true("2.5", "read view of a PAGE_READONLY object", v != NULL, e);
    UnmapViewOfFile(v);
    CloseHandle(h);

    name(n, sizeof n, "Local\\", "writecopy");
    h = create(n, PAGE_WRITECOPY, 4096);
    v = (unsigned char *)MapViewOfFile(h, FILE_MAP_COPY, 0, 0, 0);
    e = GetLastError();
    expect_true("2.5", "copy-on-write view of a PAGE_WRITECOPY object", v != NULL, e);
    if (v) {
        unsigned char *r = (unsigned char *)MapViewOfFile(h, FILE_MAP_READ, 0, 0, 0);
        v[0] = 42;
        expect_true("4.1", "copy-on-write writes stay private to the view",
                    r != NULL && r[0] == 0 && v[0] == 42, GetLastError());
        UnmapViewOfFile(r);
    }
    UnmapViewOfFile(v);
    CloseHandle(h);

    name(n, sizeof n, "Local\\", "missing");
    SetLastError(77);
    h = OpenFileMappingA(FILE_MAP_READ, FALSE, n);
    e = GetLastError();
    expect_error("2.6", "open of a missing name", h == NULL, e, ERROR_FILE_NOT_FOUND);

    a = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 4096, NULL);
    e = GetLastError();
    v = (unsigned char *)MapViewOfFile(a, FILE_MAP_ALL_ACCESS, 0, 0, 0);
    expect_true("2.7", "unnamed object", a != NULL && e == 0 && v != NULL, e);
    UnmapViewOfFile(v);
    CloseHandle(a);
}

static void views(void) {
    char n[128];
    HANDLE h, r;
    DWORD e;
    char *v, *w;
    MEMORY_BASIC_INFORMATION mbi;
    SIZE_T q;

    name(n, sizeof n, "Local\\", "views");
    h = create(n, PAGE_READWRITE, 3 * 65536);

    v = (char *)MapViewOfFile(h, FILE_MAP_READ, 0, 4096, 0);
    e = GetLastError();
    expect_error("4.2", "offset off the 64 KiB grid", v == NULL, e, ERROR_MAPPED_ALIGNMENT);

    v = (char *)MapViewOfFile(h, FILE_MAP_READ, 0, 65536, 0);
    e = GetLastError();
    q = v ? VirtualQuery(v, &mbi, sizeof mbi) : 0;
    expect_true("4.2", "length 0 maps to the end of the object",
                v != NULL && q == sizeof mbi && mbi.RegionSize == 2 * 65536, e);
    UnmapViewOfFile(v);

    v = (char *)MapViewOfFile(h, FILE_MAP_READ, 0, 65536, 3 * 65536);
    e = GetLastError();
    expect_error("4.3", "a view past the end of the object", v == NULL, e, ERROR_ACCESS_DENIED);

    v = (char *)MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, 0);
    w = (char *)MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, 65536);
    strcpy_s(v + 100, 32, "coherent");
    expect_true("4.5", "two views of one object are coherent", w && strcmp(w + 100, "coherent") == 0,
                GetLastError());

    q = VirtualQuery(w + 5000, &mbi, sizeof mbi);
    expect_true("4", "VirtualQuery describes a view",
                q == sizeof mbi && mbi.AllocationBase == w && mbi.BaseAddress == w + 4096 &&
                    mbi.RegionSize == 65536 - 4096 && mbi.State == MEM_COMMIT &&
                    mbi.Type == MEM_MAPPED && mbi.Protect == PAGE_READWRITE &&
                    mbi.AllocationProtect == PAGE_READWRITE,
                GetLastError());

    expect_true("4", "UnmapViewOfFile", UnmapViewOfFile(w), GetLastError());
    SetLastError(77);
    e = UnmapViewOfFile(w);
    expect_error("4", "UnmapViewOfFile of an unmapped address", e == FALSE, GetLastError(),
                 ERROR_INVALID_ADDRESS);

    r = OpenFileMappingA(FILE_MAP_READ, FALSE, n);
    w = (char *)MapViewOfFile(r, FILE_MAP_WRITE, 0, 0, 0);
    e = GetLastError();
    expect_error("4.4", "write view through a read-only handle", r != NULL && w == NULL, e,
                 ERROR_ACCESS_DENIED);
    w = (char *)MapViewOfFile(r, FILE_MAP_READ, 0, 0, 0);
    expect_true("4.4", "read view through a read-only handle sees the data",
                w != NULL && strcmp(w + 100, "coherent") == 0, GetLastError());
    UnmapViewOfFile(w);
    CloseHandle(r);

    CloseHandle(h);
    strcpy_s(v + 200, 32, "still mapped");
    expect_true("5.2", "a view stays valid after its last handle closes",
                strcmp(v + 200, "still mapped") == 0 && strcmp(v + 100, "coherent") == 0, 0);
    SetLastError(77);
    h = OpenFileMappingA(FILE_MAP_READ, FALSE, n);
    e = GetLastError();
    expect_error("5.1", "a view does not keep the name", h == NULL, e, ERROR_FILE_NOT_FOUND);
    UnmapViewOfFile(v);
}

static void lifetime(void) {
    char n[128];
    HANDLE a, d = NULL;
    DWORD e;
    char *v;
    BOOL ok;

    name(n, sizeof n, "Local\\", "life");
    a = create(n, PAGE_READWRITE, 4096);
    v = (char *)MapViewOfFile(a, FILE_MAP_ALL_ACCESS, 0, 0, 0);
    strcpy_s(v, 16, "old");
    UnmapViewOfFile(v);
    ok = DuplicateHandle(GetCurrentProcess(), a, GetCurrentProcess(), &d, 0, FALSE,
                         DUPLICATE_SAME_ACCESS);
    expect_true("8", "DuplicateHandle", ok && d != NULL && d != a, GetLastError());
    CloseHandle(a);
    a = OpenFileMappingA(FILE_MAP_READ, FALSE, n);
    expect_true("5.1", "a duplicated handle keeps the name", a != NULL, GetLastError());
    CloseHandle(a);
    CloseHandle(d);
    SetLastError(77);
    a = OpenFileMappingA(FILE_MAP_READ, FALSE, n);
    e = GetLastError();
    expect_error("5.1", "the name goes with the last handle", a == NULL, e, ERROR_FILE_NOT_FOUND);
    a = create(n, PAGE_READWRITE, 4096);
    e = GetLastError();
    v = (char *)MapViewOfFile(a, FILE_MAP_READ, 0, 0, 0);
    expect_true("5.1", "a later create makes a new, zeroed object", a && e == 0 && v && v[0] == 0, e);
    UnmapViewOfFile(v);
    CloseHandle(a);
}

static void handles(void) {
    char n[128];
    HANDLE h;
    DWORD e, r;
    BOOL ok;

    name(n, sizeof n, "Local\\", "handles");
    h = create(n, PAGE_READWRITE, 4096);
    expect_true("8.2", "CloseHandle", CloseHandle(h), GetLastError());
    ok = CloseHandle(h);
    e = GetLastError();
    expect_error("8.2", "closing a handle twice", ok == FALSE, e, ERROR_INVALID_HANDLE);
    SetLastError(77);
    e = MapViewOfFile(h, FILE_MAP_READ, 0, 0, 0) == NULL;
    expect_error("8.2", "mapping through a closed handle", e, GetLastError(), ERROR_INVALID_HANDLE);
    ok = CloseHandle(NULL);
    e = GetLastError();
    expect_error("8.2", "closing NULL", ok == FALSE, e, ERROR_INVALID_HANDLE);
    ok = CloseHandle((HANDLE)(ULONG_PTR)0x7ff0);
    e = GetLastError();
    expect_error("8.2", "closing a made-up handle", ok == FALSE, e, ERROR_INVALID_HANDLE);
    r = WaitForSingleObject((HANDLE)(ULONG_PTR)0x7ff0, 0);
    e = GetLastError();
    expect_error("8.2", "waiting for a made-up handle", r == WAIT_FAILED, e, ERROR_INVALID_HANDLE);
    h = create(n, PAGE_READWRITE, 4096);
    r = WaitForSingleObject(h, 0);
    e = GetLastError();
    expect_error("8.2", "waiting for a mapping (no SYNCHRONIZE access)", r == WAIT_FAILED, e, ERROR_ACCESS_DENIED);
    CloseHandle(h);
    r = WaitForSingleObject(GetCurrentProcess(), 10);
    expect_true("8", "the calling process is not signalled", r == WAIT_TIMEOUT, GetLastError());
}

static void files(void) {
    char path[128], *v;
    HANDLE f, m;
    DWORD e, n, high;
    LONG hi;
    LARGE_INTEGER li;
    char buf[64];

    sprintf_s(path, sizeof path, "probe-%s.dat", suffix);
    f = CreateFileA(path, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                    CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    e = GetLastError();
    expect_true("3", "CreateFile CREATE_ALWAYS of a new file reports 0", f != INVALID_HANDLE_VALUE && e == 0, e);

    m = CreateFileMappingA(f, NULL, PAGE_READWRITE, 0, 0, NULL);
    e = GetLastError();
    expect_error("3.1", "size 0 over an empty file", m == NULL, e, ERROR_FILE_INVALID);

    m = CreateFileMappingA(f, NULL, PAGE_READWRITE, 0, 8192, NULL);
    e = GetLastError();
    expect_true("3.2", "a larger size grows a writable file", m != NULL && GetFileSize(f, &high) == 8192 && high == 0, e);
    v = (char *)MapViewOfFile(m, FILE_MAP_ALL_ACCESS, 0, 0, 0);
    strcpy_s(v + 4000, 32, "flushed to the file");
    expect_true("3.4", "FlushViewOfFile", FlushViewOfFile(v, 0), GetLastError());
    hi = 0;
    n = SetFilePointer(f, 4000, &hi, FILE_BEGIN);
    ReadFile(f, buf, 20, &n, NULL);
    buf[19] = 0;
    expect_true("3.4", "flushed writes are in the file", n == 20 && strcmp(buf, "flushed to the file") == 0,
                GetLastError());
    UnmapViewOfFile(v);
    CloseHandle(m);

    li.QuadPart = -10;
    expect_true("3", "SetFilePointerEx from the end",
                SetFilePointerEx(f, li, &li, FILE_END) && li.QuadPart == 8182, GetLastError());
    expect_true("3", "WriteFile", WriteFile(f, "0123456789", 10, &n, NULL) && n == 10, GetLastError());
    expect_true("3", "GetFileSizeEx", GetFileSizeEx(f, &li) && li.QuadPart == 8192, GetLastError());
    n = SetFilePointer(f, -20000, NULL, FILE_CURRENT);
    e = GetLastError();
    expect_error("3", "seeking before the start", n == INVALID_SET_FILE_POINTER, e, ERROR_NEGATIVE_SEEK);
    expect_true("3", "FlushFileBuffers", FlushFileBuffers(f), GetLastError());
    CloseHandle(f);

    f = CreateFileA(path, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                    OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    e = GetLastError();
    expect_true("3", "CreateFile OPEN_ALWAYS of an existing file reports ERROR_ALREADY_EXISTS",
                f != INVALID_HANDLE_VALUE && e == ERROR_ALREADY_EXISTS, e);
    CloseHandle(f);
    f = CreateFileA(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, CREATE_NEW,
                    FILE_ATTRIBUTE_NORMAL, NULL);
    e = GetLastError();
    expect_error("3", "CreateFile CREATE_NEW of an existing file", f == INVALID_HANDLE_VALUE, e,
                 ERROR_FILE_EXISTS);

    f = CreateFileA(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING,
                    FILE_ATTRIBUTE_NORMAL, NULL);
    m = CreateFileMappingA(f, NULL, PAGE_READWRITE, 0, 0, NULL);
    e = GetLastError();
    expect_error("3.3", "read-write object over a read-only file", m == NULL, e, ERROR_ACCESS_DENIED);
    m = CreateFileMappingA(f, NULL, PAGE_READONLY, 0, 16384, NULL);
    e = GetLastError();
    expect_error("3.2", "a read-only file that would have to grow", m == NULL, e, ERROR_NOT_ENOUGH_MEMORY);
    m = CreateFileMappingA(f, NULL, PAGE_READONLY, 0, 0, NULL);
    v = (char *)MapViewOfFile(m, FILE_MAP_READ, 0, 0, 0);
    expect_true("3", "read-only mapping of a file sees its bytes",
                v != NULL && strcmp(v + 4000, "flushed to the file") == 0 && memcmp(v + 8182, "0123456789", 10) == 0,
                GetLastError());
    UnmapViewOfFile(v);
    CloseHandle(m);
    CloseHandle(f);

    expect_true("3", "DeleteFile", DeleteFileA(path), GetLastError());
    SetLastError(77);
    e = DeleteFileA(path);
    expect_error("3", "DeleteFile of a missing file", e == FALSE, GetLastError(), ERROR_FILE_NOT_FOUND);
    f = CreateFileA(path, GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL);
    e = GetLastError();
    expect_error("3", "CreateFile OPEN_EXISTING of a missing file", f == INVALID_HANDLE_VALUE, e,
                 ERROR_FILE_NOT_FOUND);
}

static void wide_forms(void) {
    WCHAR wn[128], wbuf[128];
    char buf[128];
    HANDLE a, b;
    DWORD e;

    wsprintfW(wn, L"Local\\%S-probe-%s", "wide", L"x");
    expect_true("-", "wsprintfW: %S narrow, %s wide", wcscmp(wn, L"Local\\wide-probe-x") == 0, 0);
    wsprintfW(wn, L"Local\\wide-probe-%S", suffix);
    a = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 4096, wn);
    e = GetLastError();
    expect_true("1", "CreateFileMappingW", a != NULL && e == 0, e);
    b = OpenFileMappingW(FILE_MAP_ALL_ACCESS, FALSE, wn);
    expect_true("1", "OpenFileMappingW", b != NULL, GetLastError());
    CloseHandle(b);
    CloseHandle(a);

    wsprintfA(buf, "%s=%d,%u,%c", "wsprintfA", -5, 7u, 'z');
    expect_true("-", "wsprintfA", strcmp(buf, "wsprintfA=-5,7,z") == 0, 0);
    sprintf_s(buf, sizeof buf, "%I64d|%ws|%S", (LONGLONG)-5000000000LL, L"ws", L"S");
    expect_true("-", "sprintf_s: %I64d, %ws and %S", strcmp(buf, "-5000000000|ws|S") == 0, 0);
    swprintf_s(wbuf, 128, L"%s and %d", L"wide", 3);
    expect_true("-", "swprintf_s: %s wide", wcscmp(wbuf, L"wide and 3") == 0, 0);
    ZeroMemory(buf, sizeof buf);
    CopyMemory(buf, "copied", 6);
    expect_true("-", "ZeroMemory and CopyMemory", strcmp(buf, "copied") == 0 && buf[100] == 0, 0);
}

static void sync_objects(void) {
    char n[128], m[128];
    HANDLE mx, ev, ev2, sem, h, set[2];
    DWORD e, r;
    BOOL ok;
    LONG prev;

    name(n, sizeof n, "Local\\", "mutex");
    SetLastError(77);
    mx = CreateMutexA(NULL, TRUE, n);
    e = GetLastError();
    expect_true("7.1", "CreateMutex, owned, fresh create reports 0", mx != NULL && e == 0, e);
    h = CreateMutexA(NULL, FALSE, n);
    e = GetLastError();
    expect_true("7.5", "CreateMutex of an existing name reports ERROR_ALREADY_EXISTS",
                h != NULL && e == ERROR_ALREADY_EXISTS, e);
    CloseHandle(h);
    r = WaitForSingleObject(mx, 0);
    expect_true("7.1", "the owner can take its mutex again (recursive)", r == WAIT_OBJECT_0, GetLastError());
    ok = ReleaseMutex(mx) && ReleaseMutex(mx);
    expect_true("7.1", "ReleaseMutex once per acquisition", ok, GetLastError());
    ok = ReleaseMutex(mx);
    e = GetLastError();
    expect_error("7.1", "ReleaseMutex of a mutex not owned", ok == FALSE, e, ERROR_NOT_OWNER);

    h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 4096, n);
    e = GetLastError();
    expect_error("1.5", "a mapping under a mutex's name", h == NULL, e, ERROR_INVALID_HANDLE);
    name(m, sizeof m, "Local\\", "mapping-name");
    h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 4096, m);
    ev = CreateEventA(NULL, TRUE, FALSE, m);
    e = GetLastError();
    expect_error("1.5", "an event under a mapping's name", ev == NULL, e, ERROR_INVALID_HANDLE);
    ev = OpenSemaphoreA(SYNCHRONIZE, FALSE, m);
    e = GetLastError();
    expect_error("1.5", "opening a mapping's name as a semaphore", ev == NULL, e, ERROR_INVALID_HANDLE);
    CloseHandle(h);

    name(n, sizeof n, "Local\\", "missing-event");
    ev = OpenEventA(EVENT_ALL_ACCESS, FALSE, n);
    e = GetLastError();
    expect_error("7.5", "OpenEvent of a missing name", ev == NULL, e, ERROR_FILE_NOT_FOUND);
    ev = OpenMutexA(SYNCHRONIZE, FALSE, NULL);
    e = GetLastError();
    expect_error("7.5", "OpenMutex with a NULL name", ev == NULL, e, ERROR_INVALID_PARAMETER);

    name(n, sizeof n, "Local\\", "manual");
    ev = CreateEventA(NULL, TRUE, FALSE, n);
    r = WaitForSingleObject(ev, 30);
    expect_true("7.4", "a wait for an unset event times out", r == WAIT_TIMEOUT, GetLastError());
    SetEvent(ev);
    r = WaitForSingleObject(ev, 0);
    expect_true("7.2", "a manual-reset event stays set",
                r == WAIT_OBJECT_0 && WaitForSingleObject(ev, 0) == WAIT_OBJECT_0, GetLastError());
    ev2 = OpenEventA(EVENT_ALL_ACCESS, FALSE, n);
    ResetEvent(ev2);
    r = WaitForSingleObject(ev, 0);
    expect_true("7.2", "ResetEvent through another handle", ev2 != NULL && r == WAIT_TIMEOUT, GetLastError());
    CloseHandle(ev2);
    CloseHandle(ev);

    ev = CreateEventA(NULL, FALSE, TRUE, NULL);
    r = WaitForSingleObject(ev, 0);
    expect_true("7.2", "an auto-reset event releases one wait, then resets",
                r == WAIT_OBJECT_0 && WaitForSingleObject(ev, 0) == WAIT_TIMEOUT, GetLastError());

    sem = CreateSemaphoreA(NULL, 5, 2, NULL);
    e = GetLastError();
    expect_error("7.3", "initial count above the maximum", sem == NULL, e, ERROR_INVALID_PARAMETER);
    name(n, sizeof n, "Local\\", "semaphore");
    sem = CreateSemaphoreA(NULL, 1, 2, n);
    prev = -1;
    ok = ReleaseSemaphore(sem, 1, &prev);
    expect_true("7.3", "a release reports the previous count", ok && prev == 1, GetLastError());
    prev = -1;
    ok = ReleaseSemaphore(sem, 1, &prev);
    e = GetLastError();
    expect_error("7.3", "a release past the maximum", ok == FALSE && prev == -1, e, ERROR_TOO_MANY_POSTS);
    r = WaitForSingleObject(sem, 0);
    expect_true("7.3", "a failed release changed nothing",
                r == WAIT_OBJECT_0 && WaitForSingleObject(sem, 0) == WAIT_OBJECT_0 &&
                    WaitForSingleObject(sem, 0) == WAIT_TIMEOUT,
                GetLastError());
    ok = ReleaseSemaphore(mx, 1, NULL);
    e = GetLastError();
    expect_error("8.2", "ReleaseSemaphore of a mutex handle", ok == FALSE, e, ERROR_INVALID_HANDLE);

    ReleaseSemaphore(sem, 1, NULL);
    set[0] = ev;  /* auto-reset, not set */
    set[1] = sem; /* count 1 */
    r = WaitForMultipleObjects(2, set, FALSE, 0);
    expect_true("7.4", "WaitForMultipleObjects, any: the second object", r == WAIT_OBJECT_0 + 1, GetLastError());
    ReleaseSemaphore(sem, 1, NULL);
    r = WaitForMultipleObjects(2, set, TRUE, 20);
    prev = -1;
    ReleaseSemaphore(sem, 1, &prev);
    expect_true("7.4", "WaitForMultipleObjects, all: times out and takes nothing",
                r == WAIT_TIMEOUT && prev == 1, GetLastError());
    SetEvent(ev);
    r = WaitForMultipleObjects(2, set, TRUE, 0);
    expect_true("7.4", "WaitForMultipleObjects, all: takes every object",
                r == WAIT_OBJECT_0 && WaitForSingleObject(ev, 0) == WAIT_TIMEOUT &&
                    WaitForSingleObject(sem, 0) == WAIT_OBJECT_0 && WaitForSingleObject(sem, 0) == WAIT_TIMEOUT,
                GetLastError());
    r = WaitForMultipleObjects(0, set, FALSE, 0);
    e = GetLastError();
    expect_error("7.4", "WaitForMultipleObjects of no object", r == WAIT_FAILED, e, ERROR_INVALID_PARAMETER);
    CloseHandle(sem);
    CloseHandle(ev);
    CloseHandle(mx);
}

static void processes(void) {
    STARTUPINFOA si;
    PROCESS_INFORMATION pi;
    char cmd[] = "shmkit-no-such-program.exe";
    BOOL ok;
    DWORD e, code;

    ZeroMemory(&si, sizeof si);
    si.cb = sizeof si;
    ok = CreateProcessA(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi);
    e = GetLastError();
    expect_error("8", "CreateProcess of a missing program", ok == FALSE, e, ERROR_FILE_NOT_FOUND);
    ok = GetExitCodeProcess((HANDLE)(ULONG_PTR)0x7ff0, &code);
    e = GetLastError();
    expect_error("8.2", "GetExitCodeProcess of a made-up handle", ok == FALSE, e, ERROR_INVALID_HANDLE);
    ok = GetExitCodeProcess(GetCurrentProcess(), &code);
    expect_true("8", "GetExitCodeProcess of the running process is STILL_ACTIVE", ok && code == STILL_ACTIVE,
                GetLastError());
}

/* The child of spawn_with_environment: prints a variable of its environment. */
static int env_child(void) {
    const char *v = getenv("PROBE_VAR");
    printf("PROBE_VAR=%s", v ? v : "(unset)");
    return 5;
}

static void spawn_with_environment(void) {
    char path[128], self[MAX_PATH], cmd[2 * MAX_PATH], buf[64];
    char env[] = "PROBE_VAR=from the block\0OTHER=1\0";
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
    STARTUPINFOA si;
    PROCESS_INFORMATION pi;
    HANDLE out;
    DWORD code = 0, n = 0;
    BOOL ok;

    sprintf_s(path, sizeof path, "probe-%s.out", suffix);
    out = CreateFileA(path, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, &sa,
                      CREATE_ALWAYS, FILE_FLAG_DELETE_ON_CLOSE, NULL);
    GetModuleFileNameA(NULL, self, MAX_PATH);
    sprintf_s(cmd, sizeof cmd, "\"%s\" env-child", self);
    ZeroMemory(&si, sizeof si);
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    si.hStdOutput = out;
    si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
    ok = CreateProcessA(NULL, cmd, NULL, NULL, TRUE, 0, env, NULL, &si, &pi);
    expect_true("8", "CreateProcess with an environment block and standard handles", ok, GetLastError());
    if (!ok) return;
    expect_true("8", "WaitForSingleObject on the child's thread handle",
                WaitForSingleObject(pi.hThread, 30000) == WAIT_OBJECT_0, GetLastError());
    WaitForSingleObject(pi.hProcess, 30000);
    ok = GetExitCodeProcess(pi.hProcess, &code);
    expect_true("8", "GetExitCodeProcess of an ended child", ok && code == 5, GetLastError());
    SetFilePointer(out, 0, NULL, FILE_BEGIN);
    ZeroMemory(buf, sizeof buf);
    ReadFile(out, buf, sizeof buf - 1, &n, NULL);
    expect_true("8", "the child saw the block and wrote to the given standard output",
                strcmp(buf, "PROBE_VAR=from the block") == 0, GetLastError());
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    CloseHandle(out);
    SetLastError(77);
    out = CreateFileA(path, GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL);
    expect_error("3", "FILE_FLAG_DELETE_ON_CLOSE removed the file", out == INVALID_HANDLE_VALUE, GetLastError(),
                 ERROR_FILE_NOT_FOUND);
}

int main(int argc, char *argv[]) {
    if (argc > 1 && strcmp(argv[1], "env-child") == 0)
        return env_child();
    strcpy_s(suffix, sizeof suffix, argc > 1 ? argv[1] : "default");
    names();
    mappings();
    views();
    lifetime();
    handles();
    files();
    wide_forms();
    sync_objects();
    processes();
    spawn_with_environment();
    printf("probe: %d failed\n", failures);
    return failures;
}
