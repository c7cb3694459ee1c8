/*
 * What the fidelity_wait_*.c programs share: one line per check ("what: ok" or
 * "what: FAIL (...)"), the names of wait results, and a thread of the program's own.
 *
 * Threads: CreateThread, on Windows and with libshmkit_win32 alike (a mutex a thread holds
 * when it ends is abandoned). Transcripts print outcomes only, never timings.
 */
#ifndef FIDELITY_WAIT_H
#define FIDELITY_WAIT_H

#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

static inline void report(const char *what, int ok, const char *detail) {
    if (ok) {
        printf("%s: ok\n", what);
    } else {
        printf("%s: FAIL (%s)\n", what, detail);
        failures++;
    }
    fflush(stdout);
}

/* The name of a wait's result, for details and for outcomes that are printed. */
static inline const char *outcome(DWORD r) {
    static char buf[64];
    if (r == WAIT_TIMEOUT) return "WAIT_TIMEOUT";
    if (r == WAIT_FAILED) return "WAIT_FAILED";
    if (r < MAXIMUM_WAIT_OBJECTS) {
        sprintf_s(buf, sizeof buf, "WAIT_OBJECT_0 + %u", (unsigned)r);
        return buf;
    }
    if (r >= WAIT_ABANDONED_0 && r < WAIT_ABANDONED_0 + MAXIMUM_WAIT_OBJECTS) {
        sprintf_s(buf, sizeof buf, "WAIT_ABANDONED_0 + %u", (unsigned)(r - WAIT_ABANDONED_0));
        return buf;
    }
    sprintf_s(buf, sizeof buf, "%#lx", (unsigned long)r);
    return buf;
}

/* A wait that must return `want` (and, when it is WAIT_FAILED, set `want_error`). */
static inline void expect_wait(const char *what, DWORD r, DWORD want, DWORD want_error) {
    char detail[160];
    DWORD e = GetLastError();
    sprintf_s(detail, sizeof detail, "returned %s", outcome(r));
    sprintf_s(detail + strlen(detail), sizeof detail - strlen(detail), " (last error %u), want %s",
              (unsigned)e, outcome(want));
    report(what, r == want && (want != WAIT_FAILED || e == want_error), detail);
}

/* A call that must succeed or fail as told. */
static inline void expect_bool(const char *what, BOOL got, BOOL want, DWORD want_error) {
    char detail[96];
    DWORD e = GetLastError();
    sprintf_s(detail, sizeof detail, "returned %d, last error %u", (int)got, (unsigned)e);
    report(what, (got != 0) == (want != 0) && (want || e == want_error), detail);
}

static inline HANDLE event(BOOL manual, BOOL set) {
    HANDLE h = CreateEventA(NULL, manual, set, NULL);
    if (!h) {
        printf("CreateEventA failed: %u\n", (unsigned)GetLastError());
        exit(1);
    }
    return h;
}

/* ---- threads ------------------------------------------------------------------------ */

typedef void (*thread_body)(void *);

struct thread_start {
    thread_body body;
    void *arg;
};

typedef HANDLE thread;

static inline DWORD WINAPI thread_main(LPVOID p) {
    struct thread_start s = *(struct thread_start *)p;
    free(p);
    s.body(s.arg);
    return 0;
}

static inline thread start_thread(thread_body body, void *arg) {
    struct thread_start *s = malloc(sizeof *s);
    HANDLE t;
    s->body = body;
    s->arg = arg;
    t = CreateThread(NULL, 0, thread_main, s, 0, NULL);
    if (!t) {
        printf("CreateThread failed: %u\n", (unsigned)GetLastError());
        exit(1);
    }
    return t;
}

static inline void join_thread(thread t) {
    WaitForSingleObject(t, INFINITE);
    CloseHandle(t);
}

/* ---- a second process: the program itself --------------------------------------------- */

/* Starts this program again with `args` after its name; the handles it inherits are the
 * inheritable ones. Returns the process handle (its thread handle is closed). */
static inline HANDLE start_self(const char *args) {
    char self[MAX_PATH], cmd[2 * MAX_PATH];
    STARTUPINFOA si;
    PROCESS_INFORMATION pi;
    GetModuleFileNameA(NULL, self, MAX_PATH);
    sprintf_s(cmd, sizeof cmd, "\"%s\" %s", self, args);
    ZeroMemory(&si, sizeof si);
    si.cb = sizeof si;
    fflush(stdout);
    if (!CreateProcessA(NULL, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi)) {
        printf("CreateProcess failed: %u\n", (unsigned)GetLastError());
        exit(1);
    }
    CloseHandle(pi.hThread);
    return pi.hProcess;
}

#endif
