/*
 * Fidelity: a child started with CREATE_SUSPENDED runs nothing of its program until
 * ResumeThread of its thread handle brings its suspend count to 0; SuspendThread and
 * ResumeThread of a running child's main thread stop it and let it go on (their counts);
 * a child terminated while suspended ends with TerminateProcess's code; the calls on a
 * child that has ended; CREATE_SUSPENDED of a file that is no program.
 *
 * The child counts, in a named mapping, the rounds of a loop that waits 1 ms on a "stop"
 * event; it sets a "started" event first. Transcripts print outcomes only.
 * Usage: fidelity_process_suspend SUFFIX  (the child: fidelity_process_suspend child SUFFIX)
 */
#include "fidelity_wait.h"

static char map_name[128], started_name[128], stop_name[128];

static void names(const char *suffix) {
    sprintf_s(map_name, sizeof map_name, "Local\\shmkit-fps-map-%s", suffix);
    sprintf_s(started_name, sizeof started_name, "Local\\shmkit-fps-started-%s", suffix);
    sprintf_s(stop_name, sizeof stop_name, "Local\\shmkit-fps-stop-%s", suffix);
}

static int child(void) {
    HANDLE map = OpenFileMappingA(FILE_MAP_WRITE, FALSE, map_name);
    HANDLE started = OpenEventA(EVENT_MODIFY_STATE, FALSE, started_name);
    HANDLE stop = OpenEventA(SYNCHRONIZE, FALSE, stop_name);
    volatile LONG *count;
    if (!map || !started || !stop) return 3;
    count = MapViewOfFile(map, FILE_MAP_WRITE, 0, 0, 0);
    if (!count) return 4;
    SetEvent(started);
    while (WaitForSingleObject(stop, 1) == WAIT_TIMEOUT) InterlockedIncrement(count);
    UnmapViewOfFile((void *)count);
    CloseHandle(map);
    CloseHandle(started);
    CloseHandle(stop);
    return 5;
}

/* Starts the child with `flags`; exits the program if it cannot. */
static PROCESS_INFORMATION start_child(const char *suffix, DWORD flags) {
    char self[MAX_PATH], cmd[2 * MAX_PATH];
    STARTUPINFOA si;
    PROCESS_INFORMATION pi;
    GetModuleFileNameA(NULL, self, MAX_PATH);
    sprintf_s(cmd, sizeof cmd, "\"%s\" child %s", self, suffix);
    ZeroMemory(&si, sizeof si);
    si.cb = sizeof si;
    fflush(stdout);
    if (!CreateProcessA(NULL, cmd, NULL, NULL, FALSE, flags, NULL, NULL, &si, &pi)) {
        printf("CreateProcess failed: %u\n", (unsigned)GetLastError());
        exit(1);
    }
    return pi;
}

/* A count that must be `want`. */
static void expect_count(const char *what, DWORD got, DWORD want) {
    char detail[64];
    sprintf_s(detail, sizeof detail, "returned %ld, want %ld", (long)(LONG)got, (long)(LONG)want);
    report(what, got == want, detail);
}

/* Waits up to 10 s for the counter to pass `than`. */
static int advances(volatile LONG *count, LONG than) {
    int i;
    for (i = 0; i < 1000; i++) {
        if (*count > than) return 1;
        Sleep(10);
    }
    return 0;
}

int main(int argc, char *argv[]) {
    HANDLE map, started, stop;
    volatile LONG *count;
    PROCESS_INFORMATION pi;
    DWORD code = 0, r;
    LONG before, after;
    char path[MAX_PATH], detail[64];

    if (argc == 3 && strcmp(argv[1], "child") == 0) {
        names(argv[2]);
        return child();
    }
    if (argc < 2) {
        printf("usage: %s SUFFIX\n", argv[0]);
        return 2;
    }
    names(argv[1]);
    map = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 4096, map_name);
    started = CreateEventA(NULL, TRUE, FALSE, started_name);
    stop = CreateEventA(NULL, TRUE, FALSE, stop_name);
    if (!map || !started || !stop) {
        printf("setup failed: %u\n", (unsigned)GetLastError());
        return 1;
    }
    count = MapViewOfFile(map, FILE_MAP_WRITE, 0, 0, 0);

    /* ---- started suspended ---- */
    pi = start_child(argv[1], CREATE_SUSPENDED);
    report("CREATE_SUSPENDED: a process id", pi.dwProcessId != 0, "0");
    expect_wait("  the child runs nothing of its program", WaitForSingleObject(started, 300),
                WAIT_TIMEOUT, 0);
    report("  and counts nothing", *count == 0, "it counted");
    report("  GetExitCodeProcess: STILL_ACTIVE",
           GetExitCodeProcess(pi.hProcess, &code) && code == STILL_ACTIVE, "not active");
    expect_wait("  its process handle is not signalled", WaitForSingleObject(pi.hProcess, 0),
                WAIT_TIMEOUT, 0);
    expect_count("  SuspendThread: 1 before", SuspendThread(pi.hThread), 1);
    expect_count("  ResumeThread: 2 before", ResumeThread(pi.hThread), 2);
    expect_wait("  still held at a count of 1", WaitForSingleObject(started, 100), WAIT_TIMEOUT, 0);
    expect_count("  ResumeThread: 1 before", ResumeThread(pi.hThread), 1);
    expect_wait("  then it runs", WaitForSingleObject(started, 10000), WAIT_OBJECT_0, 0);
    expect_count("  ResumeThread of a running child: 0", ResumeThread(pi.hThread), 0);

    /* ---- a running child suspended and resumed ---- */
    report("a running child counts", advances(count, 0), "no progress");
    expect_count("SuspendThread of a running child: 0 before", SuspendThread(pi.hThread), 0);
    Sleep(50);
    before = *count;
    Sleep(300);
    after = *count;
    sprintf_s(detail, sizeof detail, "%ld then %ld", (long)before, (long)after);
    report("  a suspended child makes no progress", before == after, detail);
    expect_count("  SuspendThread again: 1 before", SuspendThread(pi.hThread), 1);
    expect_count("  ResumeThread: 2 before", ResumeThread(pi.hThread), 2);
    Sleep(100);
    report("  at a count of 1 it still makes none", *count == after, "it counted");
    expect_count("  ResumeThread: 1 before", ResumeThread(pi.hThread), 1);
    report("  resumed, it counts again", advances(count, after), "no progress");
    SetEvent(stop);
    expect_wait("  it ends when told", WaitForSingleObject(pi.hProcess, 10000), WAIT_OBJECT_0, 0);
    report("  with its own exit code", GetExitCodeProcess(pi.hProcess, &code) && code == 5,
           "another code");
    SetLastError(0);
    r = SuspendThread(pi.hThread);
    printf("SuspendThread of a child that has ended: %ld (error %u)\n", (long)(LONG)r,
           (unsigned)GetLastError());
    SetLastError(0);
    r = ResumeThread(pi.hThread);
    printf("ResumeThread of a child that has ended: %ld (error %u)\n", (long)(LONG)r,
           (unsigned)GetLastError());
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);

    /* ---- terminated while suspended ---- */
    ResetEvent(started);
    ResetEvent(stop);
    pi = start_child(argv[1], CREATE_SUSPENDED);
    expect_bool("TerminateProcess of a suspended child", TerminateProcess(pi.hProcess, 7), TRUE, 0);
    expect_wait("  its handle is signalled", WaitForSingleObject(pi.hProcess, 10000), WAIT_OBJECT_0, 0);
    report("  it ends with TerminateProcess's code",
           GetExitCodeProcess(pi.hProcess, &code) && code == 7, "another code");
    expect_wait("  having run nothing", WaitForSingleObject(started, 0), WAIT_TIMEOUT, 0);
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);

    /* ---- a file that is no program ---- */
    {
        STARTUPINFOA si;
        HANDLE f;
        DWORD n;
        GetTempPathA(MAX_PATH, path);
        strcat_s(path, sizeof path, "shmkit-fps-not-a-program.txt");
        f = CreateFileA(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
        WriteFile(f, "plain text\r\n", 12, &n, NULL);
        CloseHandle(f);
        ZeroMemory(&si, sizeof si);
        si.cb = sizeof si;
        expect_bool("CREATE_SUSPENDED of a text file",
                    CreateProcessA(path, NULL, NULL, NULL, FALSE, CREATE_SUSPENDED, NULL, NULL, &si, &pi),
                    FALSE, ERROR_BAD_EXE_FORMAT);
        DeleteFileA(path);
    }

    UnmapViewOfFile((void *)count);
    CloseHandle(map);
    CloseHandle(started);
    CloseHandle(stop);
    printf("failures: %d\n", failures);
    return failures;
}
