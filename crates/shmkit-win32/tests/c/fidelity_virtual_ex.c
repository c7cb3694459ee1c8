/*
 * The memory functions that name a process: ntdll's NtAllocateVirtualMemory,
 * NtFreeVirtualMemory, NtProtectVirtualMemory and NtQueryVirtualMemory (found with
 * GetProcAddress), kernel32's VirtualAllocEx, VirtualFreeEx, VirtualProtectEx and
 * VirtualQueryEx, and ReadProcessMemory/WriteProcessMemory, all on the calling process:
 * pages of a SEC_RESERVE view committed, protected, queried and (refused) freed through
 * GetCurrentProcess() and through real handles of chosen rights, with NTSTATUS results
 * and the base and size each NT call gives back; bad parameters and bad handles; copies
 * in and out of the view, with ranges that reach a no-access or a read-only page. One
 * line per case; addresses are printed as offsets from the view's base, never as
 * addresses. Another process is not used (its memory cannot be changed from here, by
 * design: crates/shmkit-win32/README.md).
 *
 * Two copies are known departures of Wine 8 from Windows ("partial-copy",
 * "readonly-write" in fidelity_wine.h): their lines state the Windows outcome, which the
 * library gives natively, and Wine its own.
 *
 * Usage: fidelity_virtual_ex SUFFIX
 * Exit status: 0; 1 when the setup fails.
 */
#include <windows.h>
#include <stdio.h>
#include <string.h>

#include "fidelity_wine.h"
#include "fidelity_memory.h"

#define VIEW 0x10000
/* A count the calls must overwrite (or, where Windows says so, leave alone). */
#define UNTOUCHED ((SIZE_T)0xdeadbeef)

typedef LONG(NTAPI *alloc_fn)(HANDLE, PVOID *, ULONG_PTR, PSIZE_T, ULONG, ULONG);
typedef LONG(NTAPI *free_fn)(HANDLE, PVOID *, PSIZE_T, ULONG);
typedef LONG(NTAPI *protect_fn)(HANDLE, PVOID *, PSIZE_T, ULONG, PULONG);
typedef LONG(NTAPI *query_fn)(HANDLE, PVOID, int, PVOID, SIZE_T, PSIZE_T);

static alloc_fn nt_alloc;
static free_fn nt_free;
static protect_fn nt_protect;
static query_fn nt_query;

static char *v;

/* The offset of `p` from the view's base, or "other". */
static const char *offset(char *buf, size_t size, const void *p) {
    if ((const char *)p >= v && (const char *)p < v + VIEW)
        sprintf_s(buf, size, "+0x%x", (unsigned)((const char *)p - v));
    else
        sprintf_s(buf, size, "other");
    return buf;
}

static void print_mbi(const MEMORY_BASIC_INFORMATION *mbi) {
    char prot[64], aprot[64], at[32];
    printf("BaseAddress=%s AllocationBase=%s Protect=%s AllocationProtect=%s State=%s Type=%s RegionSize=0x%x",
           offset(at, sizeof at, mbi->BaseAddress), mbi->AllocationBase == v ? "view" : "other",
           protect_name(mbi->Protect, prot, sizeof prot), protect_name(mbi->AllocationProtect, aprot, sizeof aprot),
           state_name(mbi->State), type_name(mbi->Type), (unsigned)mbi->RegionSize);
}

/* ---- the NT forms ---------------------------------------------------------------------- */

static void alloc(const char *label, HANDLE h, char *addr, SIZE_T size, ULONG_PTR zero_bits, ULONG type,
                  ULONG protect) {
    PVOID base = addr;
    char at[32];
    LONG s = nt_alloc(h, &base, zero_bits, &size, type, protect);
    printf("NtAllocateVirtualMemory %s: status 0x%08x base=%s size=0x%x\n", label, (unsigned)s,
           offset(at, sizeof at, base), (unsigned)size);
}

static void protect(const char *label, HANDLE h, char *addr, SIZE_T size, ULONG prot) {
    PVOID base = addr;
    ULONG old = 0x5555;
    char at[32], name[64];
    LONG s = nt_protect(h, &base, &size, prot, &old);
    printf("NtProtectVirtualMemory %s: status 0x%08x base=%s size=0x%x old=%s\n", label, (unsigned)s,
           offset(at, sizeof at, base), (unsigned)size, old == 0x5555 ? "untouched" : protect_name(old, name, sizeof name));
}

static void query(const char *label, HANDLE h, const void *addr, int cls, SIZE_T len) {
    MEMORY_BASIC_INFORMATION mbi[2];
    SIZE_T ret = UNTOUCHED;
    LONG s;
    memset(mbi, 0, sizeof mbi);
    s = nt_query(h, (PVOID)addr, cls, mbi, len, &ret);
    printf("NtQueryVirtualMemory %s: status 0x%08x return=", label, (unsigned)s);
    if (ret == UNTOUCHED)
        printf("untouched");
    else
        printf("%u", (unsigned)ret);
    if (s == 0) {
        printf(" ");
        print_mbi(mbi);
    }
    printf("\n");
}

static void nfree(const char *label, HANDLE h, char *addr, SIZE_T size, ULONG type) {
    PVOID base = addr;
    char at[32];
    LONG s = nt_free(h, &base, &size, type);
    printf("NtFreeVirtualMemory %s: status 0x%08x base=%s size=0x%x\n", label, (unsigned)s,
           offset(at, sizeof at, base), (unsigned)size);
}

/* A real handle to this process with `access`. */
static HANDLE self(DWORD access) {
    HANDLE h = NULL;
    if (!DuplicateHandle(GetCurrentProcess(), GetCurrentProcess(), GetCurrentProcess(), &h, access, FALSE, 0))
        printf("setup: DuplicateHandle: error %u\n", (unsigned)GetLastError());
    return h;
}

/* The four NT calls through `h`, each on the view (its first page committed). */
static void all_four(const char *label, HANDLE h) {
    char name[96];
    sprintf_s(name, sizeof name, "%s commit", label);
    alloc(name, h, v + 0x64, 10, 0, MEM_COMMIT, PAGE_READWRITE);
    sprintf_s(name, sizeof name, "%s protect", label);
    protect(name, h, v + 0x64, 10, PAGE_READWRITE);
    sprintf_s(name, sizeof name, "%s query", label);
    query(name, h, v + 0x64, 0, sizeof(MEMORY_BASIC_INFORMATION));
    sprintf_s(name, sizeof name, "%s release", label);
    nfree(name, h, v, 0, MEM_RELEASE);
}

static void nt_forms(HANDLE event, HANDLE unmapped_base) {
    HANDLE cur = GetCurrentProcess(), q, op;
    PVOID base;
    SIZE_T size;
    char *u = unmapped_base;

    printf("-- the NT forms\n");
    alloc("commit +0x64 5000", cur, v + 0x64, 5000, 0, MEM_COMMIT, PAGE_READWRITE);
    query("+0x64", cur, v + 0x64, 0, sizeof(MEMORY_BASIC_INFORMATION));
    query("+0x2000 (reserved)", cur, v + 0x2000, 0, sizeof(MEMORY_BASIC_INFORMATION));
    alloc("commit again +0x1000 1", cur, v + 0x1000, 1, 0, MEM_COMMIT, PAGE_READONLY);
    query("+0x1000", cur, v + 0x1000, 0, sizeof(MEMORY_BASIC_INFORMATION));
    alloc("size 0", cur, v + 0x64, 0, 0, MEM_COMMIT, PAGE_READWRITE);
    alloc("type 0", cur, v + 0x64, 10, 0, 0, PAGE_READWRITE);
    alloc("type MEM_COMMIT|1", cur, v + 0x64, 10, 0, MEM_COMMIT | 1, PAGE_READWRITE);
    alloc("MEM_RESERVE in a view", cur, v + 0x64, 10, 0, MEM_RESERVE, PAGE_READWRITE);
    alloc("MEM_COMMIT|MEM_RESERVE in a view", cur, v + 0x64, 10, 0, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    alloc("protection 0x1234", cur, v + 0x64, 10, 0, MEM_COMMIT, 0x1234);
    alloc("PAGE_EXECUTE_READWRITE in a read-write view", cur, v + 0x64, 10, 0, MEM_COMMIT, PAGE_EXECUTE_READWRITE);
    alloc("past the view's end", cur, v + VIEW - 10, 5000, 0, MEM_COMMIT, PAGE_READWRITE);
    alloc("an unmapped view", cur, u, PAGE, 0, MEM_COMMIT, PAGE_READWRITE);
    alloc("zero bits 21", cur, v + 0x64, 10, 21, MEM_COMMIT, PAGE_READWRITE);
    alloc("zero bits 22", cur, v + 0x64, 10, 22, MEM_COMMIT, PAGE_READWRITE);

    protect("+0x64 10 PAGE_READONLY", cur, v + 0x64, 10, PAGE_READONLY);
    protect("+0x64 0 PAGE_READWRITE", cur, v + 0x64, 0, PAGE_READWRITE);
    protect("+0x0 0x2000 PAGE_READWRITE", cur, v, 0x2000, PAGE_READWRITE);
    protect("+0x2005 (reserved)", cur, v + 0x2005, 10, PAGE_READONLY);
    protect("+0x1ffc across into reserved", cur, v + 0x1ffc, 10, PAGE_READONLY);
    protect("protection 0x1234", cur, v + 0x64, 10, 0x1234);
    protect("PAGE_EXECUTE_READWRITE in a read-write view", cur, v + 0x64, 10, PAGE_EXECUTE_READWRITE);
    protect("past the view's end", cur, v + 0x64, VIEW + PAGE, PAGE_READWRITE);
    base = v + 0x64;
    size = 10;
    printf("NtProtectVirtualMemory NULL old: status 0x%08x\n",
           (unsigned)nt_protect(cur, &base, &size, PAGE_READONLY, NULL));

    query("class 1", cur, v + 0x64, 1, sizeof(MEMORY_BASIC_INFORMATION));
    query("class 99", cur, v + 0x64, 99, sizeof(MEMORY_BASIC_INFORMATION));
    query("length - 1", cur, v + 0x64, 0, sizeof(MEMORY_BASIC_INFORMATION) - 1);
    query("length 0", cur, v + 0x64, 0, 0);
    query("length + 8", cur, v + 0x64, 0, sizeof(MEMORY_BASIC_INFORMATION) + 8);
    query("above the application range", cur, (void *)(ULONG_PTR)0x7fffffff0000ull, 0,
          sizeof(MEMORY_BASIC_INFORMATION));
    {
        MEMORY_BASIC_INFORMATION mbi;
        printf("NtQueryVirtualMemory NULL buffer: status 0x%08x\n",
               (unsigned)nt_query(cur, v, 0, NULL, sizeof mbi, NULL));
        printf("NtQueryVirtualMemory NULL return length: status 0x%08x\n",
               (unsigned)nt_query(cur, v, 0, &mbi, sizeof mbi, NULL));
    }

    nfree("MEM_RELEASE of the view", cur, v, 0, MEM_RELEASE);
    nfree("MEM_DECOMMIT of the view", cur, v, 0, MEM_DECOMMIT);
    nfree("MEM_DECOMMIT of a page", cur, v, PAGE, MEM_DECOMMIT);
    nfree("type 0", cur, v, 0, 0);
    nfree("MEM_RELEASE|MEM_DECOMMIT", cur, v, 0, MEM_RELEASE | MEM_DECOMMIT);

    all_four("handle 0x1234", (HANDLE)(ULONG_PTR)0x1234);
    all_four("handle NULL", NULL);
    all_four("an event", event);
    all_four("GetCurrentThread()", GetCurrentThread());
    q = self(PROCESS_QUERY_INFORMATION);
    all_four("PROCESS_QUERY_INFORMATION", q);
    op = self(PROCESS_VM_OPERATION);
    all_four("PROCESS_VM_OPERATION", op);
    CloseHandle(q);
    CloseHandle(op);
    {
        HANDLE all = self(PROCESS_ALL_ACCESS);
        all_four("PROCESS_ALL_ACCESS", all);
        CloseHandle(all);
    }
}

/* ---- the Ex forms ---------------------------------------------------------------------- */

static void print_result(const char *label, BOOL ok) {
    printf("%s: ", label);
    if (ok)
        printf("ok\n");
    else
        printf("error %u\n", (unsigned)GetLastError());
}

static void alloc_ex(const char *label, HANDLE h, char *addr, SIZE_T size, DWORD type, DWORD prot) {
    char at[32];
    void *p;
    SetLastError(0);
    p = VirtualAllocEx(h, addr, size, type, prot);
    printf("VirtualAllocEx %s: ", label);
    if (p)
        printf("%s\n", offset(at, sizeof at, p));
    else
        printf("error %u\n", (unsigned)GetLastError());
}

static void protect_ex(const char *label, HANDLE h, char *addr, SIZE_T size, DWORD prot) {
    DWORD old = 0x5555;
    char name[64];
    BOOL ok = VirtualProtectEx(h, addr, size, prot, &old);
    printf("VirtualProtectEx %s: ", label);
    if (ok)
        printf("ok old=%s\n", protect_name(old, name, sizeof name));
    else
        printf("error %u\n", (unsigned)GetLastError());
}

static void query_ex(const char *label, HANDLE h, const void *addr, SIZE_T len) {
    MEMORY_BASIC_INFORMATION mbi[2];
    SIZE_T n;
    memset(mbi, 0, sizeof mbi);
    n = VirtualQueryEx(h, addr, mbi, len);
    printf("VirtualQueryEx %s: ", label);
    if (n) {
        printf("%u ", (unsigned)n);
        print_mbi(mbi);
        printf("\n");
    } else {
        printf("error %u\n", (unsigned)GetLastError());
    }
}

static void free_ex(const char *label, HANDLE h, char *addr, SIZE_T size, DWORD type) {
    char name[96];
    sprintf_s(name, sizeof name, "VirtualFreeEx %s", label);
    print_result(name, VirtualFreeEx(h, addr, size, type));
}

static void all_four_ex(const char *label, HANDLE h) {
    char name[96];
    sprintf_s(name, sizeof name, "%s commit", label);
    alloc_ex(name, h, v + 0x64, 10, MEM_COMMIT, PAGE_READWRITE);
    sprintf_s(name, sizeof name, "%s protect", label);
    protect_ex(name, h, v + 0x64, 10, PAGE_READWRITE);
    sprintf_s(name, sizeof name, "%s query", label);
    query_ex(name, h, v + 0x64, sizeof(MEMORY_BASIC_INFORMATION));
    sprintf_s(name, sizeof name, "%s release", label);
    free_ex(name, h, v, 0, MEM_RELEASE);
}

static void ex_forms(HANDLE event, char *u) {
    HANDLE cur = GetCurrentProcess(), q, op;
    DWORD old;

    printf("-- the Ex forms\n");
    alloc_ex("commit +0x3064 5000", cur, v + 0x3064, 5000, MEM_COMMIT, PAGE_READWRITE);
    query_ex("+0x3064", cur, v + 0x3064, sizeof(MEMORY_BASIC_INFORMATION));
    protect_ex("+0x3064 10 PAGE_READONLY", cur, v + 0x3064, 10, PAGE_READONLY);
    protect_ex("+0x3064 10 PAGE_READWRITE", cur, v + 0x3064, 10, PAGE_READWRITE);
    query_ex("+0x5000 (reserved)", cur, v + 0x5000, sizeof(MEMORY_BASIC_INFORMATION));
    alloc_ex("size 0", cur, v + 0x64, 0, MEM_COMMIT, PAGE_READWRITE);
    alloc_ex("type 0", cur, v + 0x64, 10, 0, PAGE_READWRITE);
    alloc_ex("MEM_RESERVE in a view", cur, v + 0x64, 10, MEM_RESERVE, PAGE_READWRITE);
    alloc_ex("protection 0x1234", cur, v + 0x64, 10, MEM_COMMIT, 0x1234);
    alloc_ex("past the view's end", cur, v + VIEW - 10, 5000, MEM_COMMIT, PAGE_READWRITE);
    alloc_ex("an unmapped view", cur, u, PAGE, MEM_COMMIT, PAGE_READWRITE);
    protect_ex("+0x6000 (reserved)", cur, v + 0x6000, 10, PAGE_READONLY);
    protect_ex("protection 0x1234", cur, v + 0x64, 10, 0x1234);
    print_result("VirtualProtectEx NULL old", VirtualProtectEx(cur, v + 0x64, 10, PAGE_READONLY, NULL));
    query_ex("length - 1", cur, v + 0x64, sizeof(MEMORY_BASIC_INFORMATION) - 1);
    printf("VirtualQueryEx NULL buffer: ");
    if (VirtualQueryEx(cur, v, NULL, sizeof(MEMORY_BASIC_INFORMATION)))
        printf("ok\n");
    else
        printf("error %u\n", (unsigned)GetLastError());
    printf("VirtualQuery NULL buffer: ");
    if (VirtualQuery(v, NULL, sizeof(MEMORY_BASIC_INFORMATION)))
        printf("ok\n");
    else
        printf("error %u\n", (unsigned)GetLastError());
    query_ex("above the application range", cur, (void *)(ULONG_PTR)0x7fffffff0000ull,
             sizeof(MEMORY_BASIC_INFORMATION));
    free_ex("MEM_RELEASE of the view", cur, v, 0, MEM_RELEASE);
    free_ex("MEM_DECOMMIT of a page", cur, v, PAGE, MEM_DECOMMIT);
    free_ex("type 0", cur, v, 0, 0);

    all_four_ex("handle 0x1234", (HANDLE)(ULONG_PTR)0x1234);
    all_four_ex("handle NULL", NULL);
    all_four_ex("an event", event);
    all_four_ex("GetCurrentThread()", GetCurrentThread());
    q = self(PROCESS_QUERY_INFORMATION);
    all_four_ex("PROCESS_QUERY_INFORMATION", q);
    op = self(PROCESS_VM_OPERATION);
    all_four_ex("PROCESS_VM_OPERATION", op);
    CloseHandle(q);
    CloseHandle(op);
    (void)old;
}

/* ---- ReadProcessMemory and WriteProcessMemory ------------------------------------------ */

static void count(char *buf, size_t size, BOOL ok, SIZE_T n) {
    char num[32];
    if (n == UNTOUCHED)
        sprintf_s(num, sizeof num, "untouched");
    else
        sprintf_s(num, sizeof num, "%u", (unsigned)n);
    if (ok)
        sprintf_s(buf, size, "ok count=%s", num);
    else
        sprintf_s(buf, size, "error %u count=%s", (unsigned)GetLastError(), num);
}

static void rpm(const char *label, HANDLE h, const void *from, void *to, SIZE_T len) {
    SIZE_T n = UNTOUCHED;
    char buf[64];
    BOOL ok = ReadProcessMemory(h, from, to, len, &n);
    count(buf, sizeof buf, ok, n);
    printf("ReadProcessMemory %s: %s\n", label, buf);
}

static void wpm(const char *label, HANDLE h, void *to, const void *from, SIZE_T len) {
    SIZE_T n = UNTOUCHED;
    char buf[64];
    BOOL ok = WriteProcessMemory(h, to, from, len, &n);
    count(buf, sizeof buf, ok, n);
    printf("WriteProcessMemory %s: %s\n", label, buf);
}

static void copies(HANDLE event) {
    HANDLE cur = GetCurrentProcess(), h;
    char buf[32];
    DWORD old;
    SIZE_T n;
    BOOL ok;

    printf("-- ReadProcessMemory and WriteProcessMemory\n");
    if (!VirtualAlloc(v, VIEW, MEM_COMMIT, PAGE_READWRITE) || !VirtualProtect(v + 2 * PAGE, PAGE, PAGE_NOACCESS, &old) ||
        !VirtualProtect(v + 4 * PAGE, PAGE, PAGE_READONLY, &old)) {
        printf("setup: the view's pages: error %u\n", (unsigned)GetLastError());
        return;
    }
    wpm("hello to +0x0", cur, v, "hello", 6);
    memset(buf, 0, sizeof buf);
    rpm("+0x0", cur, v, buf, 6);
    printf("read: %s\n", buf);
    rpm("0 bytes", cur, v, buf, 0);
    print_result("ReadProcessMemory NULL count", ReadProcessMemory(cur, v, buf, 6, NULL));
    print_result("WriteProcessMemory NULL count", WriteProcessMemory(cur, v + 8, "abc", 4, NULL));
    rpm("+0x8", cur, v + 8, buf, 4);
    printf("read: %s\n", buf);
    rpm("above the user addresses", cur, (void *)(ULONG_PTR)0x7fffffff0000ull, buf, 8);
    /* The source buffer reaches a no-access page. */
    wpm("from a buffer crossing into a no-access page", cur, buf, v + 2 * PAGE - 8, 16);
    /* The destination buffer reaches a no-access page. */
    n = UNTOUCHED;
    ok = ReadProcessMemory(cur, v, v + 2 * PAGE - 8, 16, &n);
    {
        char got[64];
        count(got, sizeof got, ok, n);
        printf("ReadProcessMemory into a buffer crossing into a no-access page: ");
        wine_departs("partial-copy", got, "error 299 count=8", "error 998 count=0");
    }
    /* A read-only page of the process. */
    n = UNTOUCHED;
    ok = WriteProcessMemory(cur, v + 4 * PAGE, "abc", 4, &n);
    {
        char got[64];
        count(got, sizeof got, ok, n);
        printf("WriteProcessMemory to a read-only page: ");
        wine_departs("readonly-write", got, "error 998 count=untouched", "error 5 count=0");
    }

    rpm("handle 0x1234", (HANDLE)(ULONG_PTR)0x1234, v, buf, 6);
    rpm("an event", event, v, buf, 6);
    wpm("handle 0x1234", (HANDLE)(ULONG_PTR)0x1234, v, "abc", 4);
    h = self(PROCESS_VM_READ);
    rpm("PROCESS_VM_READ", h, v, buf, 6);
    wpm("PROCESS_VM_READ", h, v, "abc", 4);
    CloseHandle(h);
    h = self(PROCESS_QUERY_INFORMATION);
    rpm("PROCESS_QUERY_INFORMATION", h, v, buf, 6);
    CloseHandle(h);
    h = self(PROCESS_VM_OPERATION);
    wpm("PROCESS_VM_OPERATION", h, v, "abc", 4);
    CloseHandle(h);
    h = self(PROCESS_VM_WRITE | PROCESS_VM_OPERATION);
    wpm("PROCESS_VM_WRITE|PROCESS_VM_OPERATION", h, v, "xyz", 4);
    CloseHandle(h);
    memset(buf, 0, sizeof buf);
    rpm("+0x0 again", cur, v, buf, 4);
    printf("read: %s\n", buf);
}

int main(int argc, char *argv[]) {
    HMODULE ntdll;
    HANDLE m, event;
    char *u;
    if (argc != 2) {
        printf("usage: %s SUFFIX\n", argv[0]);
        return 1;
    }
    ntdll = GetModuleHandleA("ntdll.dll");
    nt_alloc = (alloc_fn)(void (*)(void))GetProcAddress(ntdll, "NtAllocateVirtualMemory");
    nt_free = (free_fn)(void (*)(void))GetProcAddress(ntdll, "NtFreeVirtualMemory");
    nt_protect = (protect_fn)(void (*)(void))GetProcAddress(ntdll, "NtProtectVirtualMemory");
    nt_query = (query_fn)(void (*)(void))GetProcAddress(ntdll, "NtQueryVirtualMemory");
    printf("GetProcAddress(ntdll) finds the four: %s\n",
           nt_alloc && nt_free && nt_protect && nt_query ? "yes" : "no");
    m = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE | SEC_RESERVE, 0, VIEW, NULL);
    v = m ? MapViewOfFile(m, FILE_MAP_WRITE, 0, 0, 0) : NULL;
    /* Where a view was: unmapped again. */
    u = m ? MapViewOfFile(m, FILE_MAP_WRITE, 0, 0, 0) : NULL;
    event = CreateEventA(NULL, TRUE, FALSE, NULL);
    if (!v || !u || !event || !nt_alloc || !nt_free || !nt_protect || !nt_query || !UnmapViewOfFile(u)) {
        printf("setup: error %u\n", (unsigned)GetLastError());
        return 1;
    }
    nt_forms(event, u);
    ex_forms(event, u);
    copies(event);
    UnmapViewOfFile(v);
    CloseHandle(m);
    CloseHandle(event);
    return 0;
}
