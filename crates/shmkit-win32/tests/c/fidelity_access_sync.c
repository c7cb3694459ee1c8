/*
 * Access rights of mutex, event, semaphore and process handles, as Windows checks them:
 * what OpenMutex/OpenEvent/OpenSemaphore and DuplicateHandle grant for each access value,
 * and what each handle may then do (wait: SYNCHRONIZE; set, reset, release of a
 * semaphore: the *_MODIFY_STATE right). Also DuplicateHandle of a reduced handle
 * (DUPLICATE_SAME_ACCESS keeps the reduction; an explicit access may be wider than the
 * source's), and waits for mapping handles. One line per check: the inputs and the
 * outcome ("ok", a wait result, or "error N"). The lane runs it natively and under Wine
 * and requires the transcripts to agree.
 *
 * A mutex, event or semaphore opened with access 0 or with a right its kind does not have is a known
 * departure of Wine 8 ("open-access" in fidelity_wine.h): Windows refuses the open,
 * Wine opens it. Its line states the Windows outcome, which the library must give
 * natively and Wine its own; what such a handle could do is not tried.
 *
 * Usage: fidelity_access_sync SUFFIX
 * Exit status: 0; 1 when the setup fails.
 */
#include <windows.h>
#include <stdio.h>
#include <string.h>

#include "fidelity_wine.h"

#ifndef MAXIMUM_ALLOWED
#define MAXIMUM_ALLOWED 0x02000000
#endif
#ifndef ACCESS_SYSTEM_SECURITY
#define ACCESS_SYSTEM_SECURITY 0x01000000
#endif

struct named {
    DWORD value;
    const char *name;
};

#define N(x) (sizeof(x) / sizeof((x)[0]))

/* The access values tried for every kind; 0x1 and 0x2 are the kinds' own rights
 * (MUTANT_QUERY_STATE = MUTEX_MODIFY_STATE; EVENT/SEMAPHORE_MODIFY_STATE, and
 * EVENT_QUERY_STATE 0x1). */
static const struct named accesses[] = {
    {0, "0"},
    {SYNCHRONIZE, "SYNCHRONIZE"},
    {0x1, "0x1"},
    {0x2, "0x2"},
    {0x3, "0x3"},
    {SYNCHRONIZE | 0x1, "SYNCHRONIZE|0x1"},
    {SYNCHRONIZE | 0x2, "SYNCHRONIZE|0x2"},
    {0x4, "0x4"},
    {DELETE, "DELETE"},
    {READ_CONTROL, "READ_CONTROL"},
    {GENERIC_READ, "GENERIC_READ"},
    {GENERIC_WRITE, "GENERIC_WRITE"},
    {GENERIC_EXECUTE, "GENERIC_EXECUTE"},
    {GENERIC_ALL, "GENERIC_ALL"},
    {MAXIMUM_ALLOWED, "MAXIMUM_ALLOWED"},
    {MUTEX_ALL_ACCESS, "MUTEX_ALL_ACCESS"},
    {EVENT_ALL_ACCESS, "EVENT_ALL_ACCESS"},
    {0x00F00000, "0xF00000"},
};

static char suffix[64];

static void print_wait(DWORD r) {
    if (r == WAIT_FAILED) {
        printf("error %u", (unsigned)GetLastError());
    } else if (r == WAIT_OBJECT_0) {
        printf("signalled");
    } else if (r == WAIT_TIMEOUT) {
        printf("timeout");
    } else if (r == WAIT_ABANDONED) {
        printf("abandoned");
    } else {
        printf("0x%x", (unsigned)r);
    }
}

static void print_bool(BOOL ok) {
    if (ok) {
        printf("ok");
    } else {
        printf("error %u", (unsigned)GetLastError());
    }
}

/* What a mutex handle `h` may do; `full` is a handle with every right. */
static void try_mutex(HANDLE h, HANDLE full) {
    DWORD r;
    BOOL ok;
    int held = 0;
    printf(" wait=");
    r = WaitForSingleObject(h, 0);
    print_wait(r);
    if (r == WAIT_OBJECT_0) held++;
    if (WaitForSingleObject(full, 0) == WAIT_OBJECT_0) held++;
    printf(" wait-multiple=");
    r = WaitForMultipleObjects(1, &h, FALSE, 0);
    print_wait(r);
    if (r == WAIT_OBJECT_0) held++;
    printf(" release=");
    ok = ReleaseMutex(h);
    print_bool(ok);
    if (ok) held--;
    while (held > 0 && ReleaseMutex(full)) held--;
    if (held) printf(" (still held: %d)", held);
}

static void try_event(HANDLE h, HANDLE full) {
    BOOL ok;
    printf(" set=");
    ResetEvent(full);
    ok = SetEvent(h);
    print_bool(ok);
    printf(" (state ");
    print_wait(WaitForSingleObject(full, 0));
    printf(") reset=");
    SetEvent(full);
    ok = ResetEvent(h);
    print_bool(ok);
    printf(" (state ");
    print_wait(WaitForSingleObject(full, 0));
    printf(") wait=");
    SetEvent(full);
    print_wait(WaitForSingleObject(h, 0));
    printf(" wait-multiple=");
    print_wait(WaitForMultipleObjects(1, &h, FALSE, 0));
    ResetEvent(full);
}

static void try_semaphore(HANDLE h, HANDLE full) {
    LONG prev = -1;
    BOOL ok;
    printf(" release=");
    ok = ReleaseSemaphore(h, 1, &prev);
    print_bool(ok);
    if (ok) printf(" (previous %d)", (int)prev);
    while (WaitForSingleObject(full, 0) == WAIT_OBJECT_0) {
    }
    ReleaseSemaphore(full, 2, NULL);
    printf(" wait=");
    print_wait(WaitForSingleObject(h, 0));
    printf(" wait-multiple=");
    print_wait(WaitForMultipleObjects(1, &h, FALSE, 0));
    while (WaitForSingleObject(full, 0) == WAIT_OBJECT_0) {
    }
}

enum kind { MUTEX, EVENT, SEMAPHORE };
static const char *kind_names[] = {"mutex", "event", "semaphore"};

/* Rights only opened, not duplicated: more of the standard ones, and one no object has. */
static const struct named open_only_accesses[] = {
    {WRITE_DAC, "WRITE_DAC"},
    {WRITE_OWNER, "WRITE_OWNER"},
    {0x00200000, "0x200000"},
    {ACCESS_SYSTEM_SECURITY, "ACCESS_SYSTEM_SECURITY"},
};

/* What Windows says to opening an object of kind `k` with `access`, where Wine 8 opens
 * it ("open-access"): NULL when this is no departure. */
static const char *open_departs(enum kind k, DWORD access) {
    const DWORD generic = MAXIMUM_ALLOWED | GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE | GENERIC_ALL;
    const DWORD valid = generic | (k == MUTEX ? MUTEX_ALL_ACCESS : k == EVENT ? EVENT_ALL_ACCESS : SEMAPHORE_ALL_ACCESS);
    if (access & ACCESS_SYSTEM_SECURITY) return "error 1314";
    if (access == 0 || (access & ~valid)) return "error 5";
    return NULL;
}

static HANDLE open_kind(enum kind k, DWORD access, const char *name) {
    switch (k) {
    case MUTEX: return OpenMutexA(access, FALSE, name);
    case EVENT: return OpenEventA(access, FALSE, name);
    default: return OpenSemaphoreA(access, FALSE, name);
    }
}

static void try_kind(enum kind k, HANDLE h, HANDLE full) {
    switch (k) {
    case MUTEX: try_mutex(h, full); break;
    case EVENT: try_event(h, full); break;
    default: try_semaphore(h, full); break;
    }
}

static void one_kind(enum kind k) {
    char name[128];
    HANDLE full;
    size_t a, b;
    sprintf_s(name, sizeof name, "Local\\fidelity-access-sync-%s-%s", kind_names[k], suffix);
    switch (k) {
    case MUTEX: full = CreateMutexA(NULL, FALSE, name); break;
    case EVENT: full = CreateEventA(NULL, TRUE, FALSE, name); break;
    default: full = CreateSemaphoreA(NULL, 0, 10, name); break;
    }
    if (!full) {
        printf("setup: cannot create the %s: error %u\n", kind_names[k], (unsigned)GetLastError());
        return;
    }
    printf("%s created:", kind_names[k]);
    try_kind(k, full, full);
    printf("\n");

    for (a = 0; a < N(accesses) + N(open_only_accesses); a++) {
        const struct named *access = a < N(accesses) ? &accesses[a] : &open_only_accesses[a - N(accesses)];
        const char *windows = open_departs(k, access->value);
        HANDLE h;
        SetLastError(0xdeadbeef);
        h = open_kind(k, access->value, name);
        printf("%s open access=%s: ", kind_names[k], access->name);
        if (windows) {
            char got[32];
            if (h) {
                strcpy_s(got, sizeof got, "ok");
                CloseHandle(h);
            } else {
                sprintf_s(got, sizeof got, "error %u", (unsigned)GetLastError());
            }
            wine_departs("open-access", got, windows, "ok");
        } else if (!h) {
            printf("error %u\n", (unsigned)GetLastError());
        } else {
            printf("ok");
            try_kind(k, h, full);
            printf("\n");
            CloseHandle(h);
        }
    }

    for (a = 0; a < N(accesses); a++) {
        HANDLE h = NULL;
        printf("%s duplicate access=%s: ", kind_names[k], accesses[a].name);
        if (!DuplicateHandle(GetCurrentProcess(), full, GetCurrentProcess(), &h, accesses[a].value,
                             FALSE, 0)) {
            printf("error %u\n", (unsigned)GetLastError());
            continue;
        }
        printf("ok");
        try_kind(k, h, full);
        printf("\n");
        CloseHandle(h);
    }

    /* From a reduced handle: the same access again, and each wider one. */
    for (a = 0; a < N(accesses); a += 3) {
        HANDLE reduced = open_kind(k, accesses[a].value, name);
        HANDLE h = NULL;
        if (reduced && open_departs(k, accesses[a].value)) {
            /* Opened by Wine only: not tried. */
            CloseHandle(reduced);
            reduced = NULL;
        }
        if (!reduced) continue;
        printf("%s duplicate of access=%s same-access: ", kind_names[k], accesses[a].name);
        if (!DuplicateHandle(GetCurrentProcess(), reduced, GetCurrentProcess(), &h, 0, FALSE,
                             DUPLICATE_SAME_ACCESS)) {
            printf("error %u\n", (unsigned)GetLastError());
        } else {
            printf("ok");
            try_kind(k, h, full);
            printf("\n");
            CloseHandle(h);
        }
        for (b = 0; b < N(accesses); b += 2) {
            h = NULL;
            printf("%s duplicate of access=%s access=%s: ", kind_names[k], accesses[a].name,
                   accesses[b].name);
            if (!DuplicateHandle(GetCurrentProcess(), reduced, GetCurrentProcess(), &h,
                                 accesses[b].value, FALSE, 0)) {
                printf("error %u\n", (unsigned)GetLastError());
                continue;
            }
            printf("ok");
            try_kind(k, h, full);
            printf("\n");
            CloseHandle(h);
        }
        CloseHandle(reduced);
    }

    /* Created again by name: a new handle with every right. */
    {
        HANDLE again;
        switch (k) {
        case MUTEX: again = CreateMutexA(NULL, FALSE, name); break;
        case EVENT: again = CreateEventA(NULL, TRUE, FALSE, name); break;
        default: again = CreateSemaphoreA(NULL, 0, 10, name); break;
        }
        printf("%s created again: %s", kind_names[k], again ? "ok" : "error");
        if (again) {
            printf(" (last error %u)", (unsigned)GetLastError());
            try_kind(k, again, full);
            CloseHandle(again);
        }
        printf("\n");
    }
    CloseHandle(full);
}

static const struct named other_accesses[] = {
    {0, "0"},
    {SYNCHRONIZE, "SYNCHRONIZE"},
    {FILE_MAP_ALL_ACCESS, "FILE_MAP_ALL_ACCESS"},
    {FILE_MAP_ALL_ACCESS | SYNCHRONIZE, "FILE_MAP_ALL_ACCESS|SYNCHRONIZE"},
    {GENERIC_READ, "GENERIC_READ"},
    {GENERIC_EXECUTE, "GENERIC_EXECUTE"},
    {GENERIC_ALL, "GENERIC_ALL"},
    {MAXIMUM_ALLOWED, "MAXIMUM_ALLOWED"},
};

/* Waits for mapping handles, and for duplicates of the calling process's, of every
 * access. */
static void other_waits(void) {
    size_t a;
    HANDLE m = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 4096, NULL);
    if (!m) {
        printf("setup: mapping: error %u\n", (unsigned)GetLastError());
        return;
    }
    printf("mapping created wait=");
    print_wait(WaitForSingleObject(m, 0));
    printf("\n");
    for (a = 0; a < N(other_accesses); a++) {
        HANDLE h = NULL;
        printf("mapping duplicate access=%s: ", other_accesses[a].name);
        if (!DuplicateHandle(GetCurrentProcess(), m, GetCurrentProcess(), &h, other_accesses[a].value,
                             FALSE, 0)) {
            printf("error %u\n", (unsigned)GetLastError());
            continue;
        }
        printf("ok wait=");
        print_wait(WaitForSingleObject(h, 0));
        printf(" wait-multiple=");
        print_wait(WaitForMultipleObjects(1, &h, FALSE, 0));
        printf("\n");
        CloseHandle(h);
    }
    CloseHandle(m);
    for (a = 0; a < N(other_accesses); a++) {
        HANDLE h = NULL;
        printf("process duplicate access=%s: ", other_accesses[a].name);
        if (!DuplicateHandle(GetCurrentProcess(), GetCurrentProcess(), GetCurrentProcess(), &h,
                             other_accesses[a].value, FALSE, 0)) {
            printf("error %u\n", (unsigned)GetLastError());
            continue;
        }
        printf("ok wait=");
        print_wait(WaitForSingleObject(h, 0));
        printf("\n");
        CloseHandle(h);
    }
}

int main(int argc, char *argv[]) {
    if (argc != 2) {
        printf("usage: %s SUFFIX\n", argv[0]);
        return 1;
    }
    strcpy_s(suffix, sizeof suffix, argv[1]);
    one_kind(MUTEX);
    one_kind(EVENT);
    one_kind(SEMAPHORE);
    other_waits();
    return 0;
}
