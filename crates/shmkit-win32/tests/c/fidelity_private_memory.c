/*
 * Fidelity: private memory of VirtualAlloc (outside views): reserving (where the system
 * chooses, aligned to the allocation granularity), committing pages of a reservation,
 * a commit at NULL (which reserves too), VirtualQuery of reserved and committed pages,
 * VirtualProtect, decommitting (pages come back zeroed) and releasing, and the errors of
 * each. Transcripts print outcomes only, never addresses.
 * Usage: fidelity_private_memory SUFFIX
 */
#include "fidelity_wait.h"

/* A region size that is not checked: how far free memory, or reserved pages that were
 * committed once, extend is the system's own. */
#define ANY_SIZE ((SIZE_T)-1)

static void expect_query(const char *what, void *addr, DWORD state, DWORD protect, SIZE_T size,
                         void *alloc_base) {
    MEMORY_BASIC_INFORMATION m;
    char detail[160];
    SIZE_T n = VirtualQuery(addr, &m, sizeof m);
    sprintf_s(detail, sizeof detail, "state %#lx protect %#lx size %#lx type %#lx base ok %d",
              (unsigned long)m.State, (unsigned long)m.Protect, (unsigned long)m.RegionSize,
              (unsigned long)m.Type, m.AllocationBase == alloc_base);
    report(what,
           n == sizeof m && m.State == state && m.Protect == protect &&
               (size == ANY_SIZE || m.RegionSize == size) &&
               (state == MEM_FREE || (m.Type == MEM_PRIVATE && m.AllocationBase == alloc_base &&
                                      m.AllocationProtect == PAGE_READWRITE)),
           detail);
}

static void expect_null(const char *what, void *p, DWORD error) {
    char detail[96];
    DWORD e = GetLastError();
    sprintf_s(detail, sizeof detail, "returned %s, last error %u", p ? "an address" : "NULL",
              (unsigned)e);
    report(what, p == NULL && e == error, detail);
}

int main(int argc, char *argv[]) {
    SYSTEM_INFO si;
    DWORD page, old = 0;
    char *base, *p, *big;
    volatile char *c;

    if (argc < 2) {
        printf("usage: %s SUFFIX\n", argv[0]);
        return 2;
    }
    GetSystemInfo(&si);
    page = si.dwPageSize;

    /* ---- reserve, commit, protect ---- */
    base = VirtualAlloc(NULL, 2 * page + 100, MEM_RESERVE, PAGE_READWRITE);
    report("MEM_RESERVE at NULL", base != NULL, "NULL");
    report("  at a multiple of the allocation granularity",
           ((ULONG_PTR)base % si.dwAllocationGranularity) == 0, "unaligned");
    expect_query("  reserved, in whole pages", base, MEM_RESERVE, 0, 3 * page, base);
    p = VirtualAlloc(base + page + 5, 10, MEM_COMMIT, PAGE_READWRITE);
    report("MEM_COMMIT of a reserved page: its page", p == base + page, "another address");
    c = (volatile char *)p;
    report("  reads zero", c[0] == 0 && c[page - 1] == 0, "not zero");
    c[0] = 42;
    report("  and keeps what is written", c[0] == 42, "lost");
    expect_query("  committed read-write", base + page, MEM_COMMIT, PAGE_READWRITE, page, base);
    expect_query("  the page before it still reserved", base, MEM_RESERVE, 0, page, base);
    expect_query("  and the one after it", base + 2 * page, MEM_RESERVE, 0, page, base);
    expect_bool("VirtualProtect of the committed page", VirtualProtect(base + page, 1, PAGE_READONLY, &old),
                TRUE, 0);
    report("  its old protection: read-write", old == PAGE_READWRITE, "another");
    expect_query("  now read-only", base + page, MEM_COMMIT, PAGE_READONLY, page, base);
    SetLastError(0);
    expect_bool("VirtualProtect of a reserved page", VirtualProtect(base, 1, PAGE_READONLY, &old), FALSE,
                ERROR_INVALID_ADDRESS);
    SetLastError(0);
    expect_null("MEM_COMMIT past the reservation's end", VirtualAlloc(base + 2 * page, 2 * page, MEM_COMMIT,
                PAGE_READWRITE), ERROR_INVALID_ADDRESS);
    SetLastError(0);
    expect_null("MEM_RESERVE where a reservation is", VirtualAlloc(base, page, MEM_RESERVE, PAGE_READWRITE),
                ERROR_INVALID_ADDRESS);
    SetLastError(0);
    expect_null("MEM_COMMIT with PAGE_WRITECOPY", VirtualAlloc(base, page, MEM_COMMIT, PAGE_WRITECOPY),
                ERROR_INVALID_PARAMETER);

    /* ---- decommit, release ---- */
    expect_bool("MEM_DECOMMIT of the committed page", VirtualFree(base + page, page, MEM_DECOMMIT), TRUE, 0);
    expect_query("  reserved again", base + page, MEM_RESERVE, 0, ANY_SIZE, base);
    p = VirtualAlloc(base + page, page, MEM_COMMIT, PAGE_READWRITE);
    report("  committed again, it reads zero", p && ((volatile char *)p)[0] == 0, "not zero");
    SetLastError(0);
    expect_bool("MEM_RELEASE inside the reservation", VirtualFree(base + page, 0, MEM_RELEASE), FALSE,
                ERROR_INVALID_ADDRESS);
    SetLastError(0);
    expect_bool("MEM_RELEASE with a size", VirtualFree(base, page, MEM_RELEASE), FALSE,
                ERROR_INVALID_PARAMETER);
    expect_bool("MEM_DECOMMIT of the whole reservation (size 0 at its base)", VirtualFree(base, 0, MEM_DECOMMIT),
                TRUE, 0);
    expect_query("  all reserved", base, MEM_RESERVE, 0, ANY_SIZE, base);
    expect_bool("MEM_RELEASE at its base", VirtualFree(base, 0, MEM_RELEASE), TRUE, 0);
    expect_query("  then the memory is free", base, MEM_FREE, PAGE_NOACCESS, ANY_SIZE, NULL);

    /* ---- a commit at NULL, a large reservation, bad input ---- */
    p = VirtualAlloc(NULL, 100, MEM_COMMIT, PAGE_READWRITE);
    report("MEM_COMMIT at NULL reserves and commits", p != NULL, "NULL");
    expect_query("  one committed page", p, MEM_COMMIT, PAGE_READWRITE, page, p);
    expect_bool("  released", VirtualFree(p, 0, MEM_RELEASE), TRUE, 0);
    big = VirtualAlloc(NULL, (SIZE_T)1 << 30, MEM_RESERVE, PAGE_READWRITE);
    report("a reservation of 1 GiB", big != NULL, "NULL");
    p = VirtualAlloc(big + ((SIZE_T)1 << 29), page, MEM_COMMIT, PAGE_READWRITE);
    report("  a page in its middle committed", p == big + ((SIZE_T)1 << 29), "another address");
    if (p) p[0] = 1;
    expect_bool("  released", VirtualFree(big, 0, MEM_RELEASE), TRUE, 0);
    SetLastError(0);
    expect_null("MEM_RESERVE of 0 bytes", VirtualAlloc(NULL, 0, MEM_RESERVE, PAGE_READWRITE),
                ERROR_INVALID_PARAMETER);
    SetLastError(0);
    expect_null("a bad protection", VirtualAlloc(NULL, page, MEM_RESERVE, 0x1234), ERROR_INVALID_PARAMETER);
    SetLastError(0);
    expect_bool("VirtualFree of an unknown type", VirtualFree(NULL, 0, 0x1), FALSE, ERROR_INVALID_PARAMETER);

    printf("failures: %d\n", failures);
    return failures;
}
