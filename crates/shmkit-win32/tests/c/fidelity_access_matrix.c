/*
 * The access matrix of file mappings, as Windows checks it: page protection x SEC_*
 * attributes x backing (memory, or a file opened with some access) for
 * CreateFileMapping, then handle access (DuplicateHandle, OpenFileMapping) x view access
 * for MapViewOfFile. One line per cell: the inputs and the outcome, "ok" with what
 * VirtualQuery says of the view, or "error N" (GetLastError). The lane runs it natively
 * and under Wine and requires the two transcripts to agree cell for cell.
 *
 * Two kinds of cell are known departures of Wine 8 (fidelity_wine.h): an execute
 * protection over a file handle without FILE_EXECUTE ("file-execute": Windows refuses
 * the mapping, Wine makes it; the views of such a mapping are not tried), and a view
 * that the handle's rights allow but the mapping's protection does not
 * ("section-protection": Windows refuses it with 87, Wine maps it, or for a writable view
 * over a file opened without write access says ERROR_ACCESS_DENIED). Their lines state
 * the Windows outcome, which the library must give natively and Wine its own.
 *
 * Usage: fidelity_access_matrix SUFFIX  (SUFFIX makes every name unique to the run)
 * Exit status: 0 (the cells are compared, not judged here); 1 when the setup fails.
 */
#include <windows.h>
#include <stdio.h>
#include <string.h>

#include "fidelity_wine.h"
#include "fidelity_memory.h"

static const struct named protects[] = {
    {0, "0"},
    {PAGE_NOACCESS, "NOACCESS"},
    {PAGE_READONLY, "READONLY"},
    {PAGE_READWRITE, "READWRITE"},
    {PAGE_WRITECOPY, "WRITECOPY"},
    {PAGE_EXECUTE, "EXECUTE"},
    {PAGE_EXECUTE_READ, "EXECUTE_READ"},
    {PAGE_EXECUTE_READWRITE, "EXECUTE_READWRITE"},
    {PAGE_EXECUTE_WRITECOPY, "EXECUTE_WRITECOPY"},
    {PAGE_READONLY | PAGE_READWRITE, "READONLY|READWRITE"},
    {PAGE_READWRITE | PAGE_EXECUTE_READ, "READWRITE|EXECUTE_READ"},
    {PAGE_READWRITE | PAGE_GUARD, "READWRITE|GUARD"},
    {PAGE_READWRITE | PAGE_NOCACHE, "READWRITE|NOCACHE"},
    {PAGE_READWRITE | PAGE_WRITECOMBINE, "READWRITE|WRITECOMBINE"},
    {PAGE_READONLY | PAGE_NOCACHE, "READONLY|NOCACHE"},
    {PAGE_GUARD, "GUARD"},
    {PAGE_NOCACHE, "NOCACHE"},
    {0x800, "0x800"},
};

static const struct named secs[] = {
    {0, "-"},
    {SEC_COMMIT, "COMMIT"},
    {SEC_RESERVE, "RESERVE"},
    {SEC_COMMIT | SEC_RESERVE, "COMMIT|RESERVE"},
    {SEC_NOCACHE, "NOCACHE"},
    {SEC_COMMIT | SEC_NOCACHE, "COMMIT|NOCACHE"},
    {SEC_RESERVE | SEC_NOCACHE, "RESERVE|NOCACHE"},
    {SEC_WRITECOMBINE, "WRITECOMBINE"},
    {SEC_COMMIT | SEC_WRITECOMBINE, "COMMIT|WRITECOMBINE"},
    {SEC_COMMIT | SEC_NOCACHE | SEC_WRITECOMBINE, "COMMIT|NOCACHE|WRITECOMBINE"},
    {SEC_IMAGE, "IMAGE"},
    {SEC_LARGE_PAGES, "LARGE_PAGES"},
    {SEC_COMMIT | SEC_LARGE_PAGES, "COMMIT|LARGE_PAGES"},
    {SEC_COMMIT | SEC_RESERVE | SEC_NOCACHE, "COMMIT|RESERVE|NOCACHE"},
    {SEC_RESERVE | SEC_WRITECOMBINE, "RESERVE|WRITECOMBINE"},
    {SEC_NOCACHE | SEC_WRITECOMBINE, "NOCACHE|WRITECOMBINE"},
    {SEC_IMAGE | SEC_COMMIT, "IMAGE|COMMIT"},
    {SEC_IMAGE | SEC_RESERVE, "IMAGE|RESERVE"},
    {SEC_IMAGE | SEC_NOCACHE, "IMAGE|NOCACHE"},
    {SEC_IMAGE | SEC_WRITECOMBINE, "IMAGE|WRITECOMBINE"},
    {SEC_IMAGE | SEC_LARGE_PAGES, "IMAGE|LARGE_PAGES"},
    {SEC_RESERVE | SEC_LARGE_PAGES, "RESERVE|LARGE_PAGES"},
    {SEC_COMMIT | SEC_NOCACHE | SEC_LARGE_PAGES, "COMMIT|NOCACHE|LARGE_PAGES"},
    {0x800000, "0x800000"},
    {SEC_COMMIT | 0x800000, "COMMIT|0x800000"},
    {0x400000, "0x400000"},
    {0x2000000, "0x2000000"},
    {0x11000000, "0x11000000"},
    {0x100000, "0x100000"},
    {0x20000000, "0x20000000"},
};

/* The backings: memory, or the data file opened with this access. */
static const struct named backings[] = {
    {0, "memory"},
    {GENERIC_READ, "file:GENERIC_READ"},
    {GENERIC_WRITE, "file:GENERIC_WRITE"},
    {GENERIC_READ | GENERIC_WRITE, "file:GENERIC_READ|GENERIC_WRITE"},
    {GENERIC_EXECUTE, "file:GENERIC_EXECUTE"},
    {GENERIC_READ | GENERIC_EXECUTE, "file:GENERIC_READ|GENERIC_EXECUTE"},
    {GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE, "file:GENERIC_READ|GENERIC_WRITE|GENERIC_EXECUTE"},
    {GENERIC_ALL, "file:GENERIC_ALL"},
    {FILE_READ_DATA, "file:FILE_READ_DATA"},
    {FILE_READ_DATA | FILE_WRITE_DATA, "file:FILE_READ_DATA|FILE_WRITE_DATA"},
};

/* Handle access, for DuplicateHandle and OpenFileMapping. */
static const struct named handle_accesses[] = {
    {0, "0"},
    {FILE_MAP_READ, "READ"},
    {FILE_MAP_WRITE, "WRITE"},
    {FILE_MAP_READ | FILE_MAP_WRITE, "READ|WRITE"},
    {FILE_MAP_COPY, "COPY"},
    {FILE_MAP_EXECUTE, "EXECUTE"},
    {FILE_MAP_READ | FILE_MAP_EXECUTE, "READ|EXECUTE"},
    {SECTION_MAP_EXECUTE, "SECTION_MAP_EXECUTE"},
    {FILE_MAP_READ | SECTION_MAP_EXECUTE, "READ|SECTION_MAP_EXECUTE"},
    {FILE_MAP_ALL_ACCESS, "ALL_ACCESS"},
    {FILE_MAP_ALL_ACCESS | FILE_MAP_EXECUTE, "ALL_ACCESS|EXECUTE"},
    {GENERIC_READ, "GENERIC_READ"},
    {GENERIC_WRITE, "GENERIC_WRITE"},
    {GENERIC_EXECUTE, "GENERIC_EXECUTE"},
    {GENERIC_ALL, "GENERIC_ALL"},
    {SYNCHRONIZE, "SYNCHRONIZE"},
};

/* View access, for MapViewOfFile. */
static const struct named view_accesses[] = {
    {0, "0"},
    {FILE_MAP_COPY, "COPY"},
    {FILE_MAP_WRITE, "WRITE"},
    {FILE_MAP_READ, "READ"},
    {FILE_MAP_READ | FILE_MAP_WRITE, "READ|WRITE"},
    {FILE_MAP_EXECUTE, "EXECUTE"},
    {FILE_MAP_READ | FILE_MAP_EXECUTE, "READ|EXECUTE"},
    {FILE_MAP_WRITE | FILE_MAP_EXECUTE, "WRITE|EXECUTE"},
    {FILE_MAP_COPY | FILE_MAP_EXECUTE, "COPY|EXECUTE"},
    {FILE_MAP_COPY | FILE_MAP_READ, "COPY|READ"},
    {FILE_MAP_COPY | FILE_MAP_WRITE, "COPY|WRITE"},
    {FILE_MAP_ALL_ACCESS, "ALL_ACCESS"},
    {FILE_MAP_ALL_ACCESS | FILE_MAP_EXECUTE, "ALL_ACCESS|EXECUTE"},
    {SECTION_MAP_EXECUTE, "SECTION_MAP_EXECUTE"},
    {FILE_MAP_READ | SECTION_MAP_EXECUTE, "READ|SECTION_MAP_EXECUTE"},
    {0x40, "0x40"},
    {0x80000000, "0x80000000"},
    {FILE_MAP_READ | 0x80000000, "READ|0x80000000"},
};

static char suffix[64];
static char data_path[MAX_PATH];
static int cells;

#define SIZE 0x20000


/* "ok" and what VirtualQuery says of the view at `p`, then unmaps it. */
static void describe_view(void *p) {
    MEMORY_BASIC_INFORMATION mbi;
    char prot[64], aprot[64];
    memset(&mbi, 0, sizeof mbi);
    if (VirtualQuery(p, &mbi, sizeof mbi) != sizeof mbi) {
        printf("ok, VirtualQuery error %u\n", (unsigned)GetLastError());
    } else {
        printf("ok Protect=%s AllocationProtect=%s State=%s Type=%s RegionSize=0x%x%s%s\n",
               protect_name(mbi.Protect, prot, sizeof prot),
               protect_name(mbi.AllocationProtect, aprot, sizeof aprot), state_name(mbi.State),
               type_name(mbi.Type), (unsigned)mbi.RegionSize,
               mbi.BaseAddress == p ? "" : " BaseAddress!=view",
               mbi.AllocationBase == p ? "" : " AllocationBase!=view");
    }
    if (!UnmapViewOfFile(p)) printf("  UnmapViewOfFile error %u\n", (unsigned)GetLastError());
}

static void outcome_of_map(void *p) {
    cells++;
    if (p) {
        describe_view(p);
    } else {
        printf("error %u\n", (unsigned)GetLastError());
    }
    fflush(stdout);
}

static HANDLE open_data(DWORD access) {
    return CreateFileA(data_path, access, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                       NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
}

/* The protection an execute protection is without execute; 0 for the others. */
static DWORD without_execute(DWORD protect) {
    switch (protect) {
    case PAGE_EXECUTE_READ: return PAGE_READONLY;
    case PAGE_EXECUTE_READWRITE: return PAGE_READWRITE;
    case PAGE_EXECUTE_WRITECOPY: return PAGE_WRITECOPY;
    default: return 0;
    }
}

static HANDLE create_mapping(const struct named *backing, DWORD flags, HANDLE *file);

/* Whether CreateFileMapping of `backing` with `protect | sec` is the "file-execute"
 * departure: an execute protection over a file handle without FILE_EXECUTE, where the
 * same mapping without execute is made (Wine 8 asks no more than that; Windows asks
 * FILE_EXECUTE too). */
static int create_departs(const struct named *backing, DWORD protect, DWORD sec) {
    HANDLE file, h;
    int made;
    if (backing->value == 0 || (backing->value & (GENERIC_EXECUTE | GENERIC_ALL | FILE_EXECUTE)))
        return 0;
    if (!without_execute(protect)) return 0;
    h = create_mapping(backing, without_execute(protect) | sec, &file);
    made = h != NULL;
    if (h) CloseHandle(h);
    if (file != INVALID_HANDLE_VALUE) CloseHandle(file);
    return made;
}

/* What a page protection lets a page do: read 1, write through 2, execute 4
 * (write-copy counts as read). */
static DWORD abilities(DWORD protect) {
    switch (protect) {
    case PAGE_READONLY:
    case PAGE_WRITECOPY: return 1;
    case PAGE_READWRITE: return 3;
    case PAGE_EXECUTE:
    case PAGE_EXECUTE_READ:
    case PAGE_EXECUTE_WRITECOPY: return 5;
    case PAGE_EXECUTE_READWRITE: return 7;
    default: return 0;
    }
}

/* The protection of a view asked for with `access` (as Windows gives it). */
static DWORD view_protect(DWORD access) {
    BOOL exec = (access & FILE_MAP_EXECUTE) != 0;
    access &= ~FILE_MAP_EXECUTE;
    if (access == FILE_MAP_COPY) return exec ? PAGE_EXECUTE_WRITECOPY : PAGE_WRITECOPY;
    if (access & FILE_MAP_WRITE) return exec ? PAGE_EXECUTE_READWRITE : PAGE_READWRITE;
    if (access & FILE_MAP_READ) return exec ? PAGE_EXECUTE_READ : PAGE_READONLY;
    return PAGE_NOACCESS;
}

/* Whether the backing may be written: memory, or the file opened with write access. */
static int file_writes(const struct named *backing) {
    return backing->value == 0 ||
           (backing->value & (GENERIC_WRITE | GENERIC_ALL | FILE_WRITE_DATA)) != 0;
}

/* The section rights of a handle duplicated (or, `opened`, opened) with `access`. */
static DWORD section_rights(DWORD access, int opened) {
    DWORD a = access & 0x0FFFFFFF;
    if (opened && access == FILE_MAP_COPY) return SECTION_MAP_READ;
    if (access & GENERIC_READ) a |= SECTION_QUERY | SECTION_MAP_READ;
    if (access & GENERIC_WRITE) a |= SECTION_MAP_WRITE;
    if (access & GENERIC_EXECUTE) a |= SECTION_MAP_EXECUTE;
    if (access & GENERIC_ALL) a |= SECTION_ALL_ACCESS;
    return a;
}

/* Whether MapViewOfFile with `view` through a handle duplicated or opened with
 * `handle` access, of a mapping of `protect`, is the "section-protection" departure: the
 * handle has the rights the view needs, the mapping's protection does not allow it. */
static int view_departs(DWORD protect, DWORD handle, int opened, DWORD view) {
    DWORD page = view_protect(view), rights = section_rights(handle, opened);
    DWORD needed = (abilities(page) & 2) ? SECTION_MAP_WRITE : SECTION_MAP_READ;
    if (abilities(page) & 4) needed |= SECTION_MAP_EXECUTE;
    return (rights & needed) == needed && (abilities(page) & abilities(protect)) != abilities(page);
}

/* A view cell that is the "section-protection" departure: Windows says 87; Wine 8 maps
 * the view, or says ERROR_ACCESS_DENIED for a writable one over a file opened without
 * write access (`file_writes` 0). */
static void departing_view(void *p, DWORD view, int file_writes) {
    const char *wine = (abilities(view_protect(view)) & 2) && !file_writes ? "error 5" : "ok";
    char got[32];
    cells++;
    if (p) {
        strcpy_s(got, sizeof got, "ok");
        UnmapViewOfFile(p);
    } else {
        sprintf_s(got, sizeof got, "error %u", (unsigned)GetLastError());
    }
    wine_departs("section-protection", got, "error 87", wine);
    fflush(stdout);
}

/* CreateFileMapping of `backing` with `flags`: the mapping, or NULL. */
static HANDLE create_mapping(const struct named *backing, DWORD flags, HANDLE *file) {
    *file = INVALID_HANDLE_VALUE;
    if (backing->value == 0) {
        return CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, flags, 0, SIZE, NULL);
    }
    *file = open_data(backing->value);
    if (*file == INVALID_HANDLE_VALUE) {
        printf("setup: cannot open the data file with %s: error %u\n", backing->name,
               (unsigned)GetLastError());
        return NULL;
    }
    return CreateFileMappingA(*file, NULL, flags, 0, 0, NULL);
}

/* Part 1: CreateFileMapping over every backing, protection and SEC_* attribute. */
static void creates(void) {
    size_t b, p, s;
    for (b = 0; b < N(backings); b++) {
        for (p = 0; p < N(protects); p++) {
            for (s = 0; s < N(secs); s++) {
                HANDLE file, h;
                DWORD e;
                int departs = create_departs(&backings[b], protects[p].value, secs[s].value);
                SetLastError(0xdeadbeef);
                h = create_mapping(&backings[b], protects[p].value | secs[s].value, &file);
                e = GetLastError();
                cells++;
                printf("create %s protect=%s sec=%s: ", backings[b].name, protects[p].name, secs[s].name);
                if (departs) {
                    char got[32];
                    if (h) {
                        strcpy_s(got, sizeof got, "ok");
                        CloseHandle(h);
                    } else {
                        sprintf_s(got, sizeof got, "error %u", (unsigned)e);
                    }
                    wine_departs("file-execute", got, "error 5", "ok");
                } else if (h) {
                    printf("ok\n");
                    CloseHandle(h);
                } else {
                    printf("error %u\n", (unsigned)e);
                }
                if (file != INVALID_HANDLE_VALUE) CloseHandle(file);
            }
        }
    }
}

/* Part 2: views through the handle CreateFileMapping returned, for the mappings part 1
 * made (over files, for the attributes that change what a view reports); views through
 * duplicates of every access for the SEC_COMMIT ones over memory and two kinds of file. */
static void views(void) {
    size_t b, p, s, a, v;
    for (b = 0; b < N(backings); b++) {
        for (p = 0; p < N(protects); p++) {
            for (s = 0; s < N(secs); s++) {
                HANDLE file, h;
                DWORD sec = secs[s].value;
                int duplicates = sec == SEC_COMMIT &&
                                 (backings[b].value == 0 || backings[b].value == GENERIC_READ ||
                                  backings[b].value == (GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE));
                if (backings[b].value != 0 && sec != 0 && sec != SEC_COMMIT && sec != SEC_RESERVE &&
                    sec != (SEC_COMMIT | SEC_NOCACHE) && sec != (SEC_COMMIT | SEC_WRITECOMBINE))
                    continue;
                if (create_departs(&backings[b], protects[p].value, sec)) continue;
                h = create_mapping(&backings[b], protects[p].value | sec, &file);
                if (!h) {
                    if (file != INVALID_HANDLE_VALUE) CloseHandle(file);
                    continue;
                }
                for (v = 0; v < N(view_accesses); v++) {
                    printf("view %s protect=%s sec=%s handle=created view=%s: ", backings[b].name,
                           protects[p].name, secs[s].name, view_accesses[v].name);
                    outcome_of_map(MapViewOfFile(h, view_accesses[v].value, 0, 0, 0));
                }
                if (duplicates) {
                    for (a = 0; a < N(handle_accesses); a++) {
                        HANDLE dup = NULL;
                        printf("duplicate %s protect=%s access=%s: ", backings[b].name,
                               protects[p].name, handle_accesses[a].name);
                        cells++;
                        if (!DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), &dup,
                                             handle_accesses[a].value, FALSE, 0)) {
                            printf("error %u\n", (unsigned)GetLastError());
                            continue;
                        }
                        printf("ok\n");
                        for (v = 0; v < N(view_accesses); v++) {
                            printf("view %s protect=%s sec=%s handle=%s view=%s: ", backings[b].name,
                                   protects[p].name, secs[s].name, handle_accesses[a].name,
                                   view_accesses[v].name);
                            if (view_departs(protects[p].value, handle_accesses[a].value, 0,
                                             view_accesses[v].value))
                                departing_view(MapViewOfFile(dup, view_accesses[v].value, 0, 0, 0),
                                               view_accesses[v].value, file_writes(&backings[b]));
                            else
                                outcome_of_map(MapViewOfFile(dup, view_accesses[v].value, 0, 0, 0));
                        }
                        CloseHandle(dup);
                    }
                }
                CloseHandle(h);
                if (file != INVALID_HANDLE_VALUE) CloseHandle(file);
            }
        }
    }
}

/* Part 3: OpenFileMapping of a named mapping with every handle access, and the views
 * each opened handle admits. */
static void opens(void) {
    static const struct named created[] = {
        {PAGE_READONLY, "READONLY"},
        {PAGE_READWRITE, "READWRITE"},
        {PAGE_WRITECOPY, "WRITECOPY"},
        {PAGE_EXECUTE_READ, "EXECUTE_READ"},
        {PAGE_EXECUTE_READWRITE, "EXECUTE_READWRITE"},
    };
    size_t c, a, v;
    char name[128];
    for (c = 0; c < N(created); c++) {
        HANDLE h;
        sprintf_s(name, sizeof name, "Local\\fidelity-access-matrix-%u-%s", (unsigned)c, suffix);
        h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, created[c].value, 0, SIZE, name);
        if (!h) {
            printf("setup: named mapping %s: error %u\n", created[c].name, (unsigned)GetLastError());
            continue;
        }
        for (a = 0; a < N(handle_accesses); a++) {
            HANDLE o;
            SetLastError(0xdeadbeef);
            o = OpenFileMappingA(handle_accesses[a].value, FALSE, name);
            cells++;
            printf("open protect=%s access=%s: ", created[c].name, handle_accesses[a].name);
            if (!o) {
                printf("error %u\n", (unsigned)GetLastError());
                continue;
            }
            printf("ok\n");
            for (v = 0; v < N(view_accesses); v++) {
                printf("view open protect=%s handle=%s view=%s: ", created[c].name,
                       handle_accesses[a].name, view_accesses[v].name);
                if (view_departs(created[c].value, handle_accesses[a].value, 1, view_accesses[v].value))
                    departing_view(MapViewOfFile(o, view_accesses[v].value, 0, 0, 0), view_accesses[v].value, 1);
                else
                    outcome_of_map(MapViewOfFile(o, view_accesses[v].value, 0, 0, 0));
            }
            CloseHandle(o);
        }
        CloseHandle(h);
    }
}

int main(int argc, char *argv[]) {
    HANDLE f;
    DWORD written;
    static char zeros[SIZE];
    if (argc != 2) {
        printf("usage: %s SUFFIX\n", argv[0]);
        return 1;
    }
    strcpy_s(suffix, sizeof suffix, argv[1]);
    sprintf_s(data_path, sizeof data_path, "fidelity-access-matrix-%s.dat", suffix);
    f = CreateFileA(data_path, GENERIC_READ | GENERIC_WRITE, 0, NULL, CREATE_ALWAYS,
                    FILE_ATTRIBUTE_NORMAL, NULL);
    if (f == INVALID_HANDLE_VALUE || !WriteFile(f, zeros, SIZE, &written, NULL) || written != SIZE) {
        printf("setup: cannot write the data file: error %u\n", (unsigned)GetLastError());
        return 1;
    }
    CloseHandle(f);

    creates();
    views();
    opens();

    if (!DeleteFileA(data_path)) printf("cleanup: DeleteFile error %u\n", (unsigned)GetLastError());
    printf("%d cells\n", cells);
    return 0;
}
