/*
 * What VirtualQuery reports for views, and what VirtualAlloc, VirtualProtect and
 * VirtualFree do to them: the regions of a SEC_RESERVE view before and after committing
 * some of its pages, the protections a commit may give, VirtualProtect over views of
 * every mapping and view protection, the size and base of views that do not end on a
 * page, and copy-on-write against shared views. One line per check; addresses are
 * printed as offsets from the view's base. The lane runs it natively and under Wine and
 * requires the transcripts to agree. No reserved or no-access page is ever touched.
 *
 * What a write-copy page reports once written is a known departure of Wine 8
 * ("written-copy" in fidelity_wine.h): Windows reports the private copy read-write, Wine
 * keeps write-copy; so is where the write to a write-copy page of a shared or read-only
 * view goes ("shared-copy": Windows gives the view a private copy, Wine writes the
 * mapping). Those lines state the Windows outcome, which the library must give natively
 * and Wine its own.
 *
 * Usage: fidelity_virtual_query SUFFIX
 * Exit status: 0; 1 when the setup fails.
 */
#include <windows.h>
#include <stdio.h>
#include <string.h>

#include "fidelity_wine.h"
#include "fidelity_memory.h"


static char suffix[64];


/* What VirtualQuery says at `base + offset`, offsets from `base`, into `buf`. */
static const char *describe(char *buf, size_t size, char *base, size_t offset) {
    MEMORY_BASIC_INFORMATION mbi;
    char prot[64], aprot[64];
    SIZE_T n;
    memset(&mbi, 0, sizeof mbi);
    n = VirtualQuery(base + offset, &mbi, sizeof mbi);
    if (n != sizeof mbi) {
        sprintf_s(buf, size, "error %u", (unsigned)GetLastError());
        return buf;
    }
    sprintf_s(buf, size, "BaseAddress=+0x%x AllocationBase=%s Protect=%s AllocationProtect=%s State=%s Type=%s RegionSize=0x%x",
              (unsigned)((char *)mbi.BaseAddress - base), mbi.AllocationBase == base ? "view" : "other",
              protect_name(mbi.Protect, prot, sizeof prot), protect_name(mbi.AllocationProtect, aprot, sizeof aprot),
              state_name(mbi.State), type_name(mbi.Type), (unsigned)mbi.RegionSize);
    return buf;
}

/* "label: query +OFFSET" and what VirtualQuery says there, offsets from `base`. */
static void query(const char *label, char *base, size_t offset) {
    char buf[256];
    describe(buf, sizeof buf, base, offset);
    printf("%s: query +0x%x: %s\n", label, (unsigned)offset, buf);
}

/* The same, for a case where Wine 8 departs: `windows` is what Windows says there,
 * `wine` what Wine says. */
static void query_departing(const char *label, char *base, size_t offset, const char *id,
                            const char *windows, const char *wine) {
    char buf[256];
    describe(buf, sizeof buf, base, offset);
    printf("%s: query +0x%x: ", label, (unsigned)offset);
    wine_departs(id, buf, windows, wine);
}

static void print_ptr_result(const char *label, void *got, void *want) {
    printf("%s: ", label);
    if (!got) {
        printf("error %u\n", (unsigned)GetLastError());
    } else {
        printf("%s\n", got == want ? "ok" : "ok, at another address");
    }
}

static void print_bool(const char *label, BOOL ok) {
    printf("%s: ", label);
    if (ok) {
        printf("ok\n");
    } else {
        printf("error %u\n", (unsigned)GetLastError());
    }
}

static HANDLE memory_mapping(DWORD flags, DWORD size) {
    return CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, flags, 0, size, NULL);
}

/* A SEC_RESERVE view: regions before and after committing pages. */
static void reserved(void) {
    HANDLE m = memory_mapping(PAGE_READWRITE | SEC_RESERVE, 0x30000);
    char *v, *v2;
    void *p;
    DWORD old = 0;
    if (!m) {
        printf("setup: reserve mapping: error %u\n", (unsigned)GetLastError());
        return;
    }
    v = MapViewOfFile(m, FILE_MAP_WRITE, 0, 0, 0);
    if (!v) {
        printf("setup: reserve view: error %u\n", (unsigned)GetLastError());
        return;
    }
    query("reserve fresh", v, 0);
    query("reserve fresh", v, 0x2345);
    query("reserve fresh", v, 0x2ffff);

    p = VirtualAlloc(v + 0x2000, 0x3000, MEM_COMMIT, PAGE_READWRITE);
    print_ptr_result("reserve commit +0x2000 0x3000 READWRITE", p, v + 0x2000);
    query("reserve after commit", v, 0);
    query("reserve after commit", v, 0x1fff);
    query("reserve after commit", v, 0x2000);
    query("reserve after commit", v, 0x4fff);
    query("reserve after commit", v, 0x5000);
    if (p) {
        v[0x2000] = 42;
        v[0x4fff] = 43;
        printf("reserve committed pages hold: %d %d\n", v[0x2000], v[0x4fff]);
    }

    p = VirtualAlloc(v + 0x7100, 0x100, MEM_COMMIT, PAGE_READONLY);
    print_ptr_result("reserve commit +0x7100 0x100 READONLY", p, v + 0x7000);
    printf("reserve commit +0x7100 returned: %s\n",
           p == v + 0x7100 ? "+0x7100" : p == v + 0x7000 ? "+0x7000" : p ? "other" : "NULL");
    query("reserve after unaligned commit", v, 0x7000);
    query("reserve after unaligned commit", v, 0x8000);

    p = VirtualAlloc(v + 0x2000, 0x1000, MEM_COMMIT, PAGE_READWRITE);
    print_ptr_result("reserve commit of committed pages, same protection", p, v + 0x2000);
    p = VirtualAlloc(v + 0x2000, 0x1000, MEM_COMMIT, PAGE_READONLY);
    print_ptr_result("reserve commit of committed pages, READONLY", p, v + 0x2000);
    query("reserve after second commit", v, 0x2000);
    p = VirtualAlloc(v + 0x2f000, 0x2000, MEM_COMMIT, PAGE_READWRITE);
    print_ptr_result("reserve commit past the view's end", p, v + 0x2f000);
    query("reserve after commit past the end", v, 0x2f000);
    p = VirtualAlloc(v + 0x9000, 0x1000, MEM_RESERVE, PAGE_READWRITE);
    print_ptr_result("reserve MEM_RESERVE in the view", p, v + 0x9000);
    p = VirtualAlloc(v + 0x9000, 0x1000, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    print_ptr_result("reserve MEM_COMMIT|MEM_RESERVE in the view", p, v + 0x9000);
    p = VirtualAlloc(v + 0x9000, 0, MEM_COMMIT, PAGE_READWRITE);
    print_ptr_result("reserve commit of 0 bytes", p, v + 0x9000);

    print_bool("reserve VirtualProtect of reserved pages",
               VirtualProtect(v + 0xa000, 0x1000, PAGE_READONLY, &old));
    print_bool("reserve VirtualProtect across committed and reserved pages",
               VirtualProtect(v + 0x4000, 0x2000, PAGE_READONLY, &old));
    old = 0;
    print_bool("reserve VirtualProtect of committed pages READONLY",
               VirtualProtect(v + 0x3000, 0x1000, PAGE_READONLY, &old));
    printf("reserve VirtualProtect old: 0x%x\n", (unsigned)old);
    query("reserve after VirtualProtect", v, 0x2000);
    query("reserve after VirtualProtect", v, 0x3000);
    query("reserve after VirtualProtect", v, 0x4000);

    print_bool("reserve VirtualFree MEM_DECOMMIT", VirtualFree(v + 0x2000, 0x1000, MEM_DECOMMIT));
    query("reserve after VirtualFree", v, 0x2000);
    print_bool("reserve VirtualFree MEM_RELEASE", VirtualFree(v, 0, MEM_RELEASE));
    query("reserve after VirtualFree MEM_RELEASE", v, 0);

    /* A second view of the same mapping. */
    v2 = MapViewOfFile(m, FILE_MAP_WRITE, 0, 0, 0);
    if (v2) {
        query("reserve second view", v2, 0);
        query("reserve second view", v2, 0x2000);
        query("reserve second view", v2, 0x7000);
        if (v2[0x2000] == 42 || 1) {
            MEMORY_BASIC_INFORMATION mbi;
            if (VirtualQuery(v2 + 0x2000, &mbi, sizeof mbi) && mbi.State == MEM_COMMIT)
                printf("reserve second view sees the first's data: %d\n", v2[0x2000]);
        }
        UnmapViewOfFile(v2);
    } else {
        printf("reserve second view: error %u\n", (unsigned)GetLastError());
    }
    print_bool("reserve UnmapViewOfFile", UnmapViewOfFile(v));
    CloseHandle(m);
}

/* VirtualAlloc(MEM_COMMIT) of a reserved page with every protection. */
static void commit_protections(void) {
    static const struct named prots[] = {
        {0, "0"},
        {PAGE_NOACCESS, "NOACCESS"},
        {PAGE_READONLY, "READONLY"},
        {PAGE_READWRITE, "READWRITE"},
        {PAGE_WRITECOPY, "WRITECOPY"},
        {PAGE_EXECUTE, "EXECUTE"},
        {PAGE_EXECUTE_READ, "EXECUTE_READ"},
        {PAGE_EXECUTE_READWRITE, "EXECUTE_READWRITE"},
        {PAGE_EXECUTE_WRITECOPY, "EXECUTE_WRITECOPY"},
        {PAGE_READWRITE | PAGE_GUARD, "READWRITE|GUARD"},
        {PAGE_READWRITE | PAGE_NOCACHE, "READWRITE|NOCACHE"},
        {PAGE_READWRITE | PAGE_WRITECOMBINE, "READWRITE|WRITECOMBINE"},
        {PAGE_READONLY | PAGE_READWRITE, "READONLY|READWRITE"},
    };
    static const struct named maps[] = {
        {PAGE_READONLY, "READONLY"},
        {PAGE_READWRITE, "READWRITE"},
        {PAGE_EXECUTE_READWRITE, "EXECUTE_READWRITE"},
    };
    static const struct named views[] = {
        {FILE_MAP_READ, "READ"},
        {FILE_MAP_WRITE, "WRITE"},
        {FILE_MAP_COPY, "COPY"},
        {FILE_MAP_WRITE | FILE_MAP_EXECUTE, "WRITE|EXECUTE"},
    };
    size_t m, w, p;
    char label[160];
    for (m = 0; m < N(maps); m++) {
        HANDLE h = memory_mapping(maps[m].value | SEC_RESERVE, 0x20000);
        if (!h) {
            printf("setup: commit mapping %s: error %u\n", maps[m].name, (unsigned)GetLastError());
            continue;
        }
        for (w = 0; w < N(views); w++) {
            char *v = MapViewOfFile(h, views[w].value, 0, 0, 0);
            if (!v) {
                printf("commit mapping=%s view=%s: map error %u\n", maps[m].name, views[w].name,
                       (unsigned)GetLastError());
                continue;
            }
            for (p = 0; p < N(prots); p++) {
                void *got;
                sprintf_s(label, sizeof label, "commit mapping=%s view=%s protect=%s", maps[m].name,
                          views[w].name, prots[p].name);
                got = VirtualAlloc(v + p * PAGE, PAGE, MEM_COMMIT, prots[p].value);
                print_ptr_result(label, got, v + p * PAGE);
                if (got) query(label, v, p * PAGE);
            }
            UnmapViewOfFile(v);
        }
        CloseHandle(h);
    }
}

/* VirtualProtect of a page of a fresh view, for every mapping protection, view access and
 * new protection. */
static void protections(void) {
    static const struct named maps[] = {
        {PAGE_READONLY, "READONLY"},
        {PAGE_READWRITE, "READWRITE"},
        {PAGE_WRITECOPY, "WRITECOPY"},
        {PAGE_EXECUTE_READ, "EXECUTE_READ"},
        {PAGE_EXECUTE_READWRITE, "EXECUTE_READWRITE"},
        {PAGE_EXECUTE_WRITECOPY, "EXECUTE_WRITECOPY"},
    };
    static const struct named views[] = {
        {0, "0"},
        {FILE_MAP_COPY, "COPY"},
        {FILE_MAP_WRITE, "WRITE"},
        {FILE_MAP_READ, "READ"},
        {FILE_MAP_READ | FILE_MAP_EXECUTE, "READ|EXECUTE"},
        {FILE_MAP_WRITE | FILE_MAP_EXECUTE, "WRITE|EXECUTE"},
        {FILE_MAP_COPY | FILE_MAP_EXECUTE, "COPY|EXECUTE"},
    };
    static const struct named prots[] = {
        {0, "0"},
        {PAGE_NOACCESS, "NOACCESS"},
        {PAGE_READONLY, "READONLY"},
        {PAGE_READWRITE, "READWRITE"},
        {PAGE_WRITECOPY, "WRITECOPY"},
        {PAGE_EXECUTE, "EXECUTE"},
        {PAGE_EXECUTE_READ, "EXECUTE_READ"},
        {PAGE_EXECUTE_READWRITE, "EXECUTE_READWRITE"},
        {PAGE_EXECUTE_WRITECOPY, "EXECUTE_WRITECOPY"},
        {PAGE_READONLY | PAGE_GUARD, "READONLY|GUARD"},
        {PAGE_READONLY | PAGE_NOCACHE, "READONLY|NOCACHE"},
        {PAGE_READONLY | PAGE_READWRITE, "READONLY|READWRITE"},
    };
    size_t m, w, p;
    char label[160], oldname[64];
    for (m = 0; m < N(maps); m++) {
        HANDLE h = memory_mapping(maps[m].value, 0x10000);
        if (!h) {
            printf("setup: protect mapping %s: error %u\n", maps[m].name, (unsigned)GetLastError());
            continue;
        }
        for (w = 0; w < N(views); w++) {
            char *v = MapViewOfFile(h, views[w].value, 0, 0, 0);
            if (!v) continue;
            for (p = 0; p < N(prots); p++) {
                DWORD old = 0xdeadbeef;
                BOOL ok;
                sprintf_s(label, sizeof label, "protect mapping=%s view=%s protect=%s", maps[m].name,
                          views[w].name, prots[p].name);
                ok = VirtualProtect(v + p * PAGE, PAGE, prots[p].value, &old);
                if (!ok) {
                    printf("%s: error %u\n", label, (unsigned)GetLastError());
                    continue;
                }
                printf("%s: ok old=%s\n", label, protect_name(old, oldname, sizeof oldname));
                query(label, v, p * PAGE);
            }
            /* The whole view, then back; a range past its end; no place for the old
             * protection. */
            {
                DWORD old = 0xdeadbeef;
                sprintf_s(label, sizeof label, "protect mapping=%s view=%s whole view READONLY",
                          maps[m].name, views[w].name);
                if (VirtualProtect(v, 0x10000, PAGE_READONLY, &old)) {
                    printf("%s: ok old=%s\n", label, protect_name(old, oldname, sizeof oldname));
                    query(label, v, 0);
                } else {
                    printf("%s: error %u\n", label, (unsigned)GetLastError());
                }
                sprintf_s(label, sizeof label, "protect mapping=%s view=%s past the end", maps[m].name,
                          views[w].name);
                print_bool(label, VirtualProtect(v + 0xf000, 0x2000, PAGE_READONLY, &old));
                sprintf_s(label, sizeof label, "protect mapping=%s view=%s NULL old", maps[m].name,
                          views[w].name);
                print_bool(label, VirtualProtect(v, PAGE, PAGE_READONLY, NULL));
            }
            UnmapViewOfFile(v);
        }
        CloseHandle(h);
    }
}

/* Views whose size is not a page multiple, at an offset, over a file. */
static void shapes(void) {
    HANDLE m = memory_mapping(PAGE_READWRITE, 0x30000);
    HANDLE f;
    char *v;
    char path[MAX_PATH];
    DWORD written;
    static char data[0x1800];
    MEMORY_BASIC_INFORMATION mbi;
    if (!m) {
        printf("setup: shapes mapping: error %u\n", (unsigned)GetLastError());
        return;
    }
    v = MapViewOfFile(m, FILE_MAP_READ, 0, 0, 0x1800);
    if (v) {
        query("shape 0x1800 bytes", v, 0);
        query("shape 0x1800 bytes", v, 0x1234);
        UnmapViewOfFile(v);
    }
    v = MapViewOfFile(m, FILE_MAP_WRITE, 0, 0x10000, 0);
    if (v) {
        query("shape at 0x10000 to the end", v, 0);
        query("shape at 0x10000 to the end", v, 0x1ffff);
        printf("shape UnmapViewOfFile inside the view: ");
        if (UnmapViewOfFile(v + 0x1000)) {
            printf("ok\n");
        } else {
            printf("error %u\n", (unsigned)GetLastError());
            UnmapViewOfFile(v);
        }
    }
    printf("shape VirtualQuery short buffer: %u",
           (unsigned)VirtualQuery(&mbi, &mbi, sizeof mbi - 1));
    printf(" error %u\n", (unsigned)GetLastError());
    CloseHandle(m);

    sprintf_s(path, sizeof path, "fidelity-virtual-query-%s.dat", suffix);
    f = CreateFileA(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    if (f == INVALID_HANDLE_VALUE || !WriteFile(f, data, sizeof data, &written, NULL)) {
        printf("setup: shapes file: error %u\n", (unsigned)GetLastError());
        return;
    }
    m = CreateFileMappingA(f, NULL, PAGE_READWRITE | SEC_RESERVE, 0, 0, NULL);
    if (m) {
        v = MapViewOfFile(m, FILE_MAP_WRITE, 0, 0, 0);
        if (v) {
            query("shape file of 0x1800 bytes, SEC_RESERVE", v, 0);
            print_ptr_result("shape file VirtualAlloc MEM_COMMIT READWRITE",
                             VirtualAlloc(v, PAGE, MEM_COMMIT, PAGE_READWRITE), v);
            print_ptr_result("shape file VirtualAlloc MEM_COMMIT READONLY",
                             VirtualAlloc(v + PAGE, PAGE, MEM_COMMIT, PAGE_READONLY), v + PAGE);
            query("shape file after VirtualAlloc", v, 0);
            UnmapViewOfFile(v);
        }
        CloseHandle(m);
    }
    m = CreateFileMappingA(f, NULL, PAGE_READONLY | SEC_COMMIT | SEC_NOCACHE, 0, 0, NULL);
    if (m) {
        v = MapViewOfFile(m, FILE_MAP_READ, 0, 0, 0);
        if (v) {
            query("shape file, SEC_NOCACHE", v, 0);
            print_ptr_result("shape file, SEC_NOCACHE, VirtualAlloc MEM_COMMIT READONLY",
                             VirtualAlloc(v, PAGE, MEM_COMMIT, PAGE_READONLY), v);
            UnmapViewOfFile(v);
        }
        CloseHandle(m);
    }
    CloseHandle(f);
    DeleteFileA(path);
}

/* Copy-on-write views keep their writes; shared views see each other's. What a
 * written write-copy page reports. */
static void copies(void) {
    HANDLE m = memory_mapping(PAGE_READWRITE, 0x10000);
    char *shared, *other, *copy;
    DWORD old = 0;
    char oldname[64], got[80];
    if (!m) return;
    shared = MapViewOfFile(m, FILE_MAP_WRITE, 0, 0, 0);
    other = MapViewOfFile(m, FILE_MAP_READ, 0, 0, 0);
    copy = MapViewOfFile(m, FILE_MAP_COPY, 0, 0, 0);
    if (!shared || !other || !copy) {
        printf("setup: copies: error %u\n", (unsigned)GetLastError());
        return;
    }
    query("copy view before a write", copy, 0);
    shared[0] = 1;
    printf("copy: a shared write is seen by the read view: %d, by the copy view: %d\n", other[0], copy[0]);
    query("copy view after a shared write", copy, 0);
    copy[0] = 2;
    copy[1] = 3;
    printf("copy: a copy write stays in the copy view: shared %d %d, copy %d %d\n", shared[0], shared[1],
           copy[0], copy[1]);
    query_departing("copy view after a write", copy, 0, "written-copy",
                    "BaseAddress=+0x0 AllocationBase=view Protect=READWRITE AllocationProtect=WRITECOPY "
                    "State=COMMIT Type=MAPPED RegionSize=0x1000",
                    "BaseAddress=+0x0 AllocationBase=view Protect=WRITECOPY AllocationProtect=WRITECOPY "
                    "State=COMMIT Type=MAPPED RegionSize=0x10000");
    query("copy view after a write", copy, 0x1000);
    shared[PAGE] = 4;
    printf("copy: a shared write to a page the copy view has not written: %d\n", copy[PAGE]);
    query("copy view after a shared write to a page it has not written", copy, 0x1000);

    /* VirtualProtect of the written page: its old protection is its copy's. */
    printf("copy VirtualProtect of the written page READONLY: ");
    if (VirtualProtect(copy, PAGE, PAGE_READONLY, &old)) {
        sprintf_s(got, sizeof got, "ok old=%s", protect_name(old, oldname, sizeof oldname));
        wine_departs("written-copy", got, "ok old=READWRITE", "ok old=WRITECOPY");
    } else {
        printf("error %u\n", (unsigned)GetLastError());
    }
    query("copy view after VirtualProtect READONLY", copy, 0);
    printf("copy: the written page still holds: %d %d\n", copy[0], copy[1]);
    printf("copy VirtualProtect of the written page WRITECOPY: ");
    if (VirtualProtect(copy, PAGE, PAGE_WRITECOPY, &old)) {
        printf("ok old=%s\n", protect_name(old, oldname, sizeof oldname));
    } else {
        printf("error %u\n", (unsigned)GetLastError());
    }
    query_departing("copy view after VirtualProtect WRITECOPY", copy, 0, "written-copy",
                    "BaseAddress=+0x0 AllocationBase=view Protect=READWRITE AllocationProtect=WRITECOPY "
                    "State=COMMIT Type=MAPPED RegionSize=0x1000",
                    "BaseAddress=+0x0 AllocationBase=view Protect=WRITECOPY AllocationProtect=WRITECOPY "
                    "State=COMMIT Type=MAPPED RegionSize=0x10000");
    UnmapViewOfFile(shared);
    UnmapViewOfFile(other);
    UnmapViewOfFile(copy);
    CloseHandle(m);

    /* Execute-write-copy. */
    m = memory_mapping(PAGE_EXECUTE_READWRITE, 0x10000);
    if (!m) {
        printf("setup: copies execute mapping: error %u\n", (unsigned)GetLastError());
        return;
    }
    copy = MapViewOfFile(m, FILE_MAP_COPY | FILE_MAP_EXECUTE, 0, 0, 0);
    if (!copy) {
        printf("setup: copies execute view: error %u\n", (unsigned)GetLastError());
        CloseHandle(m);
        return;
    }
    query("execute copy view before a write", copy, 0);
    copy[PAGE] = 5;
    query_departing("execute copy view after a write to its second page", copy, 0, "written-copy",
                    "BaseAddress=+0x0 AllocationBase=view Protect=EXECUTE_WRITECOPY "
                    "AllocationProtect=EXECUTE_WRITECOPY State=COMMIT Type=MAPPED RegionSize=0x1000",
                    "BaseAddress=+0x0 AllocationBase=view Protect=EXECUTE_WRITECOPY "
                    "AllocationProtect=EXECUTE_WRITECOPY State=COMMIT Type=MAPPED RegionSize=0x10000");
    query_departing("execute copy view after a write to its second page", copy, PAGE, "written-copy",
                    "BaseAddress=+0x1000 AllocationBase=view Protect=EXECUTE_READWRITE "
                    "AllocationProtect=EXECUTE_WRITECOPY State=COMMIT Type=MAPPED RegionSize=0x1000",
                    "BaseAddress=+0x1000 AllocationBase=view Protect=EXECUTE_WRITECOPY "
                    "AllocationProtect=EXECUTE_WRITECOPY State=COMMIT Type=MAPPED RegionSize=0xf000");
    UnmapViewOfFile(copy);
    CloseHandle(m);
}

/* Write-copy pages of a shared and of a read-only view (VirtualProtect made them so):
 * the first write gives the view a private copy. */
static void shared_copies(void) {
    HANDLE m = memory_mapping(PAGE_READWRITE, 0x10000);
    char *shared, *other, *ro;
    DWORD old = 0;
    char got[80];
    if (!m) return;
    shared = MapViewOfFile(m, FILE_MAP_WRITE, 0, 0, 0);
    other = MapViewOfFile(m, FILE_MAP_WRITE, 0, 0, 0);
    ro = MapViewOfFile(m, FILE_MAP_READ, 0, 0, 0);
    if (!shared || !other || !ro) {
        printf("setup: shared copies: error %u\n", (unsigned)GetLastError());
        return;
    }
    shared[0] = 1;
    print_bool("shared view VirtualProtect of two pages WRITECOPY",
               VirtualProtect(shared, 2 * PAGE, PAGE_WRITECOPY, &old));
    query("shared view before a write", shared, 0);
    printf("shared view reads the mapping: %d\n", shared[0]);
    shared[0] = 7;
    printf("shared view after a write to its write-copy page: ");
    sprintf_s(got, sizeof got, "view %d, mapping %d", shared[0], other[0]);
    wine_departs("shared-copy", got, "view 7, mapping 1", "view 7, mapping 7");
    query_departing("shared view after a write", shared, 0, "written-copy",
                    "BaseAddress=+0x0 AllocationBase=view Protect=READWRITE AllocationProtect=READWRITE "
                    "State=COMMIT Type=MAPPED RegionSize=0x1000",
                    "BaseAddress=+0x0 AllocationBase=view Protect=WRITECOPY AllocationProtect=READWRITE "
                    "State=COMMIT Type=MAPPED RegionSize=0x2000");
    query("shared view after a write", shared, PAGE);
    query("shared view after a write", shared, 2 * PAGE);

    print_bool("read-only view VirtualProtect WRITECOPY", VirtualProtect(ro + 3 * PAGE, PAGE, PAGE_WRITECOPY, &old));
    ro[3 * PAGE] = 5;
    printf("read-only view after a write to its write-copy page: ");
    sprintf_s(got, sizeof got, "view %d, mapping %d", ro[3 * PAGE], other[3 * PAGE]);
    wine_departs("shared-copy", got, "view 5, mapping 0", "view 5, mapping 5");
    query_departing("read-only view after a write", ro, 3 * PAGE, "written-copy",
                    "BaseAddress=+0x3000 AllocationBase=view Protect=READWRITE AllocationProtect=READONLY "
                    "State=COMMIT Type=MAPPED RegionSize=0x1000",
                    "BaseAddress=+0x3000 AllocationBase=view Protect=WRITECOPY AllocationProtect=READONLY "
                    "State=COMMIT Type=MAPPED RegionSize=0x1000");
    UnmapViewOfFile(shared);
    UnmapViewOfFile(other);
    UnmapViewOfFile(ro);
    CloseHandle(m);
}

/* A SEC_NOCACHE view's pages keep PAGE_NOCACHE through VirtualAlloc and VirtualProtect. */
static void nocache(void) {
    HANDLE m = memory_mapping(PAGE_READWRITE | SEC_RESERVE | SEC_NOCACHE, 0x10000);
    char *v;
    void *p;
    DWORD old = 0;
    char oldname[64];
    if (!m) {
        printf("setup: nocache mapping: error %u\n", (unsigned)GetLastError());
        return;
    }
    v = MapViewOfFile(m, FILE_MAP_WRITE, 0, 0, 0);
    if (!v) {
        printf("setup: nocache view: error %u\n", (unsigned)GetLastError());
        CloseHandle(m);
        return;
    }
    query("nocache fresh", v, 0);
    p = VirtualAlloc(v, 0x2000, MEM_COMMIT, PAGE_READONLY);
    print_ptr_result("nocache commit 0x2000 READONLY", p, v);
    query("nocache after commit", v, 0);
    p = VirtualAlloc(v + 0x2000, 0x1000, MEM_COMMIT, PAGE_READWRITE | PAGE_NOCACHE);
    print_ptr_result("nocache commit +0x2000 READWRITE|NOCACHE", p, v + 0x2000);
    query("nocache after commit", v, 0x2000);
    printf("nocache VirtualProtect READWRITE: ");
    if (VirtualProtect(v, 0x1000, PAGE_READWRITE, &old)) {
        printf("ok old=%s\n", protect_name(old, oldname, sizeof oldname));
    } else {
        printf("error %u\n", (unsigned)GetLastError());
    }
    query("nocache after VirtualProtect", v, 0);
    UnmapViewOfFile(v);
    CloseHandle(m);
}

int main(int argc, char *argv[]) {
    if (argc != 2) {
        printf("usage: %s SUFFIX\n", argv[0]);
        return 1;
    }
    strcpy_s(suffix, sizeof suffix, argv[1]);
    reserved();
    commit_protections();
    protections();
    shapes();
    copies();
    shared_copies();
    nocache();
    return 0;
}
