/*
 * What the fidelity programs share: one line per check, "what: ok" or "what: FAIL", and
 * the count of failures, which each program prints at its end and returns.
 */
#ifndef FIDELITY_H
#define FIDELITY_H

#include <windows.h>
#include <stdio.h>

static int failures;

/* A check that must hold. */
static inline void check(int ok, const char *what) {
    printf("%s: %s\n", what, ok ? "ok" : "FAIL");
    if (!ok)
        failures++;
}

/* A call that must fail (`failed` is true) with the last error `code`. */
static inline void expect_error(int failed, DWORD code, const char *what) {
    DWORD got = GetLastError();
    printf("%s: %s (error %u)\n", what, failed && got == code ? "ok" : "FAIL", (unsigned)got);
    if (!failed || got != code)
        failures++;
}

#endif /* FIDELITY_H */
