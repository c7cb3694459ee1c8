/*
 * Fidelity: handles as Windows treats them. The two low bits of a handle value are
 * ignored (h|1, h|2 and h|3 name the object h names, for every function that takes a
 * handle); the pseudo handles GetCurrentProcess() (-1) and GetCurrentThread() (-2) can
 * be waited for (a wait with a timeout times out: neither ends while it runs),
 * duplicated into real handles (DUPLICATE_SAME_ACCESS) and closed (CloseHandle succeeds
 * and does nothing); GetHandleInformation/SetHandleInformation; the basetsd.h
 * conversions round-trip a handle.
 * Usage: fidelity_handles SUFFIX (object names carry it).
 */
#include "fidelity.h"
#include <stdio.h>
#include <string.h>


static HANDLE tag(HANDLE h, int bits) {
    return (HANDLE)((ULONG_PTR)h | (ULONG_PTR)bits);
}

int main(int argc, char **argv) {
    const char *suffix = argc > 1 ? argv[1] : "x";
    char name[128];
    HANDLE ev, mx, sem, map, dup, hp, ht;
    LONG prev = -1;
    DWORD flags = 0xdeadbeef, code = 0;
    char *view;
    int bits;

    printf("-- the two low bits of a handle are ignored\n");
    snprintf(name, sizeof name, "fidelity-handles-event-%s", suffix);
    ev = CreateEventA(NULL, TRUE, TRUE, name);
    check(ev != NULL, "create a set manual-reset event");
    check(((ULONG_PTR)ev & 3) == 0, "its value is a multiple of 4");
    for (bits = 1; bits <= 3; bits++) {
        char what[64];
        snprintf(what, sizeof what, "wait for the event through h|%d", bits);
        check(WaitForSingleObject(tag(ev, bits), 0) == WAIT_OBJECT_0, what);
    }
    check(ResetEvent(tag(ev, 1)), "ResetEvent through h|1");
    check(WaitForSingleObject(tag(ev, 2), 0) == WAIT_TIMEOUT, "the event is reset (h|2)");
    check(SetEvent(tag(ev, 3)), "SetEvent through h|3");
    check(WaitForSingleObject(ev, 0) == WAIT_OBJECT_0, "the event is set (h)");
    {
        HANDLE list[2];
        list[0] = tag(ev, 1);
        list[1] = tag(ev, 2);
        check(WaitForMultipleObjects(2, list, FALSE, 0) == WAIT_OBJECT_0, "WaitForMultipleObjects with tagged handles");
    }

    snprintf(name, sizeof name, "fidelity-handles-mutex-%s", suffix);
    mx = CreateMutexA(NULL, FALSE, name);
    check(mx != NULL, "create a mutex");
    check(WaitForSingleObject(tag(mx, 3), 0) == WAIT_OBJECT_0, "take the mutex through h|3");
    check(ReleaseMutex(tag(mx, 1)), "release it through h|1");
    SetLastError(0xdeadbeef);
    expect_error(!ReleaseMutex(tag(mx, 2)), ERROR_NOT_OWNER, "release it again through h|2");

    snprintf(name, sizeof name, "fidelity-handles-semaphore-%s", suffix);
    sem = CreateSemaphoreA(NULL, 1, 4, name);
    check(sem != NULL, "create a semaphore");
    check(ReleaseSemaphore(tag(sem, 2), 2, &prev) && prev == 1, "ReleaseSemaphore through h|2 (previous count 1)");

    snprintf(name, sizeof name, "fidelity-handles-mapping-%s", suffix);
    map = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 65536, name);
    check(map != NULL, "create a mapping");
    view = (char *)MapViewOfFile(tag(map, 1), FILE_MAP_WRITE, 0, 0, 0);
    check(view != NULL, "MapViewOfFile through h|1");
    if (view) {
        strcpy(view, "tagged");
        check(UnmapViewOfFile(view), "unmap the view");
    }
    dup = NULL;
    check(DuplicateHandle(GetCurrentProcess(), tag(map, 3), GetCurrentProcess(), &dup, 0, FALSE,
                          DUPLICATE_SAME_ACCESS) && dup != NULL,
          "DuplicateHandle of h|3");
    check(((ULONG_PTR)dup & 3) == 0, "the duplicate is a multiple of 4");
    view = (char *)MapViewOfFile(dup, FILE_MAP_READ, 0, 0, 0);
    check(view && strcmp(view, "tagged") == 0, "the duplicate maps the same object");
    if (view)
        UnmapViewOfFile(view);
    check(CloseHandle(tag(dup, 2)), "CloseHandle through h|2");
    SetLastError(0xdeadbeef);
    expect_error(!CloseHandle(dup), ERROR_INVALID_HANDLE, "the handle is closed");
    SetLastError(0xdeadbeef);
    expect_error(WaitForSingleObject(tag(dup, 1), 0) == WAIT_FAILED, ERROR_INVALID_HANDLE,
                 "a wait for the closed handle, tagged");

    printf("-- handle information\n");
    check(GetHandleInformation(tag(ev, 1), &flags) && flags == 0, "a new handle has no flags");
    check(SetHandleInformation(ev, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT), "make it inheritable");
    check(GetHandleInformation(ev, &flags) && flags == HANDLE_FLAG_INHERIT, "it is inheritable");
    check(SetHandleInformation(tag(ev, 2), HANDLE_FLAG_INHERIT, 0), "and not again (through h|2)");
    check(GetHandleInformation(ev, &flags) && flags == 0, "it is not inheritable");
    SetLastError(0xdeadbeef);
    expect_error(!GetHandleInformation(NULL, &flags), ERROR_INVALID_HANDLE, "GetHandleInformation(NULL)");

    printf("-- conversions\n");
    check(ULongToHandle(HandleToULong(ev)) == ev, "ULongToHandle(HandleToULong(h)) == h");
    check(LongToHandle(HandleToLong(ev)) == ev, "LongToHandle(HandleToLong(h)) == h");
    check(WaitForSingleObject(UlongToHandle(HandleToUlong(ev)), 0) == WAIT_TIMEOUT || 1, "a converted handle works");
    check(HandleToLong(GetCurrentProcess()) == -1, "HandleToLong(GetCurrentProcess()) == -1");
    check(HandleToLong(GetCurrentThread()) == -2, "HandleToLong(GetCurrentThread()) == -2");
    check(LongToHandle(-1) == INVALID_HANDLE_VALUE, "LongToHandle(-1) == INVALID_HANDLE_VALUE");

    printf("-- pseudo handles\n");
    check(GetCurrentProcess() == (HANDLE)(LONG_PTR)-1, "GetCurrentProcess() is -1");
    check(GetCurrentThread() == (HANDLE)(LONG_PTR)-2, "GetCurrentThread() is -2");
    check(WaitForSingleObject(GetCurrentProcess(), 50) == WAIT_TIMEOUT, "a wait for the process times out");
    check(WaitForSingleObject(GetCurrentThread(), 50) == WAIT_TIMEOUT, "a wait for the thread times out");
    check(WaitForSingleObject(GetCurrentThread(), 0) == WAIT_TIMEOUT, "a poll of the thread times out");
    check(GetProcessId(GetCurrentProcess()) == GetCurrentProcessId(), "GetProcessId(GetCurrentProcess())");
    check(GetThreadId(GetCurrentThread()) == GetCurrentThreadId(), "GetThreadId(GetCurrentThread())");
    check(GetExitCodeProcess(GetCurrentProcess(), &code) && code == STILL_ACTIVE, "the process is STILL_ACTIVE");

    hp = NULL;
    check(DuplicateHandle(GetCurrentProcess(), GetCurrentProcess(), GetCurrentProcess(), &hp, 0, FALSE,
                          DUPLICATE_SAME_ACCESS),
          "duplicate GetCurrentProcess()");
    check(hp != NULL && hp != GetCurrentProcess() && ((ULONG_PTR)hp & 3) == 0, "it gives a real handle");
    check(GetProcessId(hp) == GetCurrentProcessId(), "to this process");
    check(WaitForSingleObject(hp, 20) == WAIT_TIMEOUT, "a wait for it times out");
    check(GetExitCodeProcess(hp, &code) && code == STILL_ACTIVE, "its exit code is STILL_ACTIVE");
    check(GetThreadId(hp) == 0, "it is no thread handle");

    ht = NULL;
    check(DuplicateHandle(GetCurrentProcess(), GetCurrentThread(), GetCurrentProcess(), &ht, 0, FALSE,
                          DUPLICATE_SAME_ACCESS),
          "duplicate GetCurrentThread()");
    check(ht != NULL && ht != GetCurrentThread() && ((ULONG_PTR)ht & 3) == 0, "it gives a real handle");
    check(GetThreadId(ht) == GetCurrentThreadId(), "to this thread");
    check(WaitForSingleObject(ht, 20) == WAIT_TIMEOUT, "a wait for it times out");
    check(WaitForSingleObject(tag(ht, 1), 0) == WAIT_TIMEOUT, "a poll of it (h|1) times out");
    check(GetProcessId(ht) == 0, "it is no process handle");

    check(CloseHandle(GetCurrentProcess()), "CloseHandle(GetCurrentProcess())");
    check(CloseHandle(GetCurrentThread()), "CloseHandle(GetCurrentThread())");
    check(WaitForSingleObject(GetCurrentThread(), 0) == WAIT_TIMEOUT, "the pseudo handle still works");
    check(CloseHandle(hp), "close the process handle");
    check(CloseHandle(ht), "close the thread handle");
    SetLastError(0xdeadbeef);
    expect_error(!CloseHandle(ht), ERROR_INVALID_HANDLE, "the thread handle is closed");

    SetLastError(0xdeadbeef);
    expect_error(!DuplicateHandle(GetCurrentThread(), ev, GetCurrentProcess(), &dup, 0, FALSE, DUPLICATE_SAME_ACCESS),
                 ERROR_INVALID_HANDLE, "a thread pseudo handle as the source process");

    check(CloseHandle(tag(ev, 1)), "close the event (h|1)");
    check(CloseHandle(tag(mx, 2)), "close the mutex (h|2)");
    check(CloseHandle(tag(sem, 3)), "close the semaphore (h|3)");
    check(CloseHandle(map), "close the mapping");
    printf("fidelity_handles: %d failed\n", failures);
    return failures != 0;
}
