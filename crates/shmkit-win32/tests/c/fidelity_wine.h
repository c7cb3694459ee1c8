/*
 * The known departures of Wine 8 from Windows, and how a fidelity program states them:
 * the counterpart of Wine's own todo_wine.
 *
 * scripts/lane-c-api runs every fidelity program natively (against libshmkit_win32) and,
 * built with mingw, under Wine, and requires the two transcripts to be identical. The
 * library does as Windows wherever a conformance test that runs on Windows (Wine's or
 * ReactOS's) records what Windows does; where Wine 8 does otherwise, the program prints
 * for that case one line that states the Windows outcome and names the departure:
 *
 *     open mutex access=0: error 5, as Windows; Wine 8 differs (open-access)
 *
 * Natively the outcome must be the Windows one; under Wine (the program built with
 * _WIN32, which only the Windows build is, and the lane runs that build only under Wine)
 * it must be the one Wine 8 is known to give instead. Each printing the same line, the
 * transcripts still agree. Any other outcome is printed in full after "FAIL", which the
 * lane and `cargo test` reject. Every other case is compared literally.
 *
 * Every departure is listed here, and in crates/shmkit-win32/README.md ("What differs").
 */
#ifndef FIDELITY_WINE_H
#define FIDELITY_WINE_H

#include <stdio.h>
#include <string.h>

struct wine_departure {
    const char *id;
    /* What Windows does (what the library does). */
    const char *windows;
    /* What Wine 8 does instead. */
    const char *wine;
    /* The conformance test that records the Windows behaviour. */
    const char *source;
};

static const struct wine_departure wine_departures[] = {
    {"open-access",
     "OpenMutex, OpenEvent and OpenSemaphore with access 0, or with a right the kind does "
     "not have, fail with ERROR_ACCESS_DENIED (ACCESS_SYSTEM_SECURITY: "
     "ERROR_PRIVILEGE_NOT_HELD): the object manager's check, the same for every kind",
     "the object is opened",
     "Wine dlls/kernel32/tests/sync.c, test_mutex (todo_wine), for mutexes"},
    {"file-execute",
     "CreateFileMapping with an execute protection over a file handle without FILE_EXECUTE "
     "fails with ERROR_ACCESS_DENIED",
     "the mapping is made",
     "Wine dlls/kernel32/tests/virtual.c, test_mapping over a read-only file (todo_wine_if)"},
    {"section-protection",
     "MapViewOfFile of a view the mapping's protection does not allow (write of a read-only "
     "or write-copy mapping, execute of one that is not executable), through a handle that "
     "has the rights, fails with ERROR_INVALID_PARAMETER (STATUS_SECTION_PROTECTION)",
     "the view is mapped (a writable one over a file opened without write access: "
     "ERROR_ACCESS_DENIED)",
     "ReactOS modules/rostests/kmtests/ntos_mm/ZwMapViewOfSection.c; Wine "
     "dlls/kernel32/tests/virtual.c, test_MapViewOfFile"},
    {"written-copy",
     "a write-copy page once written reports PAGE_READWRITE (PAGE_EXECUTE_READWRITE), as a "
     "region of its own, also as VirtualProtect's old protection",
     "it keeps reporting PAGE_WRITECOPY (PAGE_EXECUTE_WRITECOPY)",
     "Wine dlls/kernel32/tests/virtual.c, test_CreateFileMapping_protection and test_mapping "
     "(todo_wine)"},
    {"shared-copy",
     "a write to a page of a shared or read-only view that VirtualProtect made write-copy "
     "gives the view a private copy: the mapping and its other views do not see it",
     "the write reaches the mapping",
     "Wine dlls/kernel32/tests/virtual.c, test_mappings: the file is not modified by "
     "test_mapping's writes (todo_wine)"},
    {"multi-pseudo",
     "WaitForMultipleObjects refuses the pseudo handles of GetCurrentProcess() and "
     "GetCurrentThread() (ERROR_INVALID_HANDLE), which WaitForSingleObject accepts",
     "it waits for them (and times out)",
     "Wine dlls/kernel32/tests/sync.c, test_WaitForMultipleObjects (todo_wine)"},
    {"timer-queue-pending",
     "DeleteTimerQueueEx with a CompletionEvent of NULL or an event returns TRUE, and so does "
     "DeleteTimerQueueTimer with NULL when no callback of the timer runs (Windows since Vista)",
     "they fail with ERROR_IO_PENDING (the deletion is done all the same)",
     "Wine dlls/kernel32/tests/sync.c, test_timer_queue (ret /* vista */)"},
    {"partial-copy",
     "ReadProcessMemory into a buffer whose later pages cannot be written fails with "
     "ERROR_PARTIAL_COPY and reports the bytes copied before them (Windows 10 since 1607)",
     "ERROR_NOACCESS, 0 bytes reported (the answer of Windows before 1607)",
     "Wine dlls/kernel32/tests/virtual.c, test_VirtualAllocEx: a buffer no-access from "
     "0x2000 (ERROR_PARTIAL_COPY /* win10 v1607+ */, 0x2000 bytes read)"},
    {"readonly-write",
     "WriteProcessMemory to a read-only page fails with ERROR_NOACCESS and leaves "
     "*lpNumberOfBytesWritten alone",
     "ERROR_ACCESS_DENIED, 0 bytes reported",
     "Wine dlls/kernel32/tests/virtual.c, test_VirtualAllocEx: readonly buffers "
     "(ERROR_NOACCESS, bytes_written == 0xdeadbeef)"},
};

#define WINE_DEPARTURES (sizeof(wine_departures) / sizeof(wine_departures[0]))

/*
 * The outcome of a case where Wine 8 departs from Windows, printed after the case's
 * label: `got` is what the call did, `windows` what Windows does and `wine` what Wine 8
 * does instead (the same words as `got` would be). Prints
 * "<windows>, as Windows; Wine 8 differs (<id>)" when the outcome is the one expected
 * here (Windows' natively, Wine's under Wine), "FAIL: ..." otherwise. Returns 1 for
 * the expected outcome.
 */
static int wine_departs(const char *id, const char *got, const char *windows, const char *wine) {
#ifdef _WIN32
    const char *expected = wine;
#else
    const char *expected = windows;
#endif
    size_t i;
    int listed = 0;
    for (i = 0; i < WINE_DEPARTURES; i++)
        if (strcmp(wine_departures[i].id, id) == 0) listed = 1;
    if (!listed) {
        printf("FAIL: %s (departure %s is not listed in fidelity_wine.h)\n", got, id);
        return 0;
    }
    if (strcmp(got, expected) != 0) {
        printf("FAIL: %s (Windows: %s; Wine 8: %s; %s)\n", got, windows, wine, id);
        return 0;
    }
    printf("%s, as Windows; Wine 8 differs (%s)\n", windows, id);
    return 1;
}

#endif /* FIDELITY_WINE_H */
