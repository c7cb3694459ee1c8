/*
 * Named and inherited sync objects between two processes (SPEC 7): the parent starts a
 * child with handle inheritance; the child sets an inherited unnamed event (by handle
 * value), takes a named mutex and a semaphore unit, and exits without releasing the
 * mutex. The parent sees the event, then acquires the mutex as ABANDONED, and counts
 * the semaphore. Narrow (ANSI) build.
 *
 * Usage: scenario6_sync SUFFIX   (the child: ... child SUFFIX EVENT)
 */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>

static const char *outcome(DWORD r) {
    switch (r) {
    case WAIT_OBJECT_0: return "WAIT_OBJECT_0";
    case WAIT_OBJECT_0 + 1: return "WAIT_OBJECT_0 + 1";
    case WAIT_ABANDONED: return "WAIT_ABANDONED";
    case WAIT_TIMEOUT: return "WAIT_TIMEOUT";
    case WAIT_FAILED: return "WAIT_FAILED";
    default: return "something else";
    }
}

int main(int argc, char *argv[]) {
    char mutex_name[128], sem_name[128], self[MAX_PATH], cmd[2 * MAX_PATH];
    HANDLE mx, sem, ready, both[2];
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
    STARTUPINFOA si;
    PROCESS_INFORMATION pi;
    DWORD r, code = 1;
    LONG prev = -1;

    if (argc < 2) {
        printf("usage: %s SUFFIX\n", argv[0]);
        return 2;
    }
    sprintf_s(mutex_name, sizeof mutex_name, "Local\\scenario6-mutex-%s", argv[argc == 4 ? 2 : 1]);
    sprintf_s(sem_name, sizeof sem_name, "Local\\scenario6-semaphore-%s", argv[argc == 4 ? 2 : 1]);

    if (argc == 4) {
        ready = (HANDLE)(ULONG_PTR)strtoul(argv[3], NULL, 10);
        mx = OpenMutexA(SYNCHRONIZE | MUTEX_MODIFY_STATE, FALSE, mutex_name);
        sem = OpenSemaphoreA(SYNCHRONIZE | SEMAPHORE_MODIFY_STATE, FALSE, sem_name);
        r = WaitForSingleObject(mx, 10000);
        printf("child: took the mutex: %s\n", outcome(r));
        r = WaitForSingleObject(sem, 10000);
        printf("child: took a semaphore unit: %s\n", outcome(r));
        fflush(stdout);
        if (!SetEvent(ready)) {
            printf("child: SetEvent on the inherited handle failed (%u)\n", (unsigned)GetLastError());
            return 1;
        }
        /* Ends holding the mutex: the next owner is told it was abandoned. */
        ExitProcess(3);
    }

    mx = CreateMutexA(NULL, FALSE, mutex_name);
    sem = CreateSemaphoreA(NULL, 2, 2, sem_name);
    ready = CreateEventA(&sa, TRUE, FALSE, NULL);
    if (!mx || !sem || !ready) {
        printf("parent: creating the objects failed (%u)\n", (unsigned)GetLastError());
        return 1;
    }
    GetModuleFileNameA(NULL, self, MAX_PATH);
    sprintf_s(cmd, sizeof cmd, "\"%s\" child %s %u", self, argv[1], (unsigned)(ULONG_PTR)ready);
    ZeroMemory(&si, sizeof si);
    si.cb = sizeof si;
    fflush(stdout);
    if (!CreateProcessA(NULL, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi)) {
        printf("CreateProcess failed (%u)\n", (unsigned)GetLastError());
        return 1;
    }
    both[0] = pi.hProcess;
    both[1] = ready;
    r = WaitForMultipleObjects(2, both, TRUE, 20000);
    printf("parent: the child ended and set the event: %s\n", outcome(r));
    GetExitCodeProcess(pi.hProcess, &code);
    printf("parent: the child exited with code %u\n", (unsigned)code);
    r = WaitForSingleObject(mx, 10000);
    printf("parent: took the mutex: %s\n", outcome(r));
    r = WaitForSingleObject(mx, 0);
    printf("parent: took it again (recursive): %s\n", outcome(r));
    printf("parent: released it twice: %s\n", ReleaseMutex(mx) && ReleaseMutex(mx) ? "yes" : "no");
    ReleaseSemaphore(sem, 1, &prev);
    printf("parent: the semaphore count was %ld\n", (long)prev);
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    CloseHandle(ready);
    CloseHandle(sem);
    CloseHandle(mx);
    return 0;
}
