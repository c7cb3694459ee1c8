/*
 * What the memory fidelity programs share: names of page protections, memory states and
 * types, as their transcripts print them.
 */
#ifndef FIDELITY_MEMORY_H
#define FIDELITY_MEMORY_H

#include <windows.h>
#include <stdio.h>
#include <string.h>

struct named {
    DWORD value;
    const char *name;
};

#define N(x) (sizeof(x) / sizeof((x)[0]))

#ifndef MEM_DECOMMIT
#define MEM_DECOMMIT 0x4000
#endif
#ifndef MEM_RELEASE
#define MEM_RELEASE 0x8000
#endif

#define PAGE 0x1000  /* the page size the programs' transcripts assume */

/* A page protection by name, modifiers included. */
static inline const char *protect_name(DWORD p, char *buf, size_t size) {
    static const struct named base[] = {
        {PAGE_NOACCESS, "NOACCESS"},
        {PAGE_READONLY, "READONLY"},
        {PAGE_READWRITE, "READWRITE"},
        {PAGE_WRITECOPY, "WRITECOPY"},
        {PAGE_EXECUTE, "EXECUTE"},
        {PAGE_EXECUTE_READ, "EXECUTE_READ"},
        {PAGE_EXECUTE_READWRITE, "EXECUTE_READWRITE"},
        {PAGE_EXECUTE_WRITECOPY, "EXECUTE_WRITECOPY"},
    };
    size_t i;
    buf[0] = 0;
    for (i = 0; i < N(base); i++)
        if ((p & 0xFF) == base[i].value) strcpy_s(buf, size, base[i].name);
    if (!buf[0]) sprintf_s(buf, size, "0x%x", (unsigned)(p & 0xFF));
    if (p & PAGE_GUARD) strcat_s(buf, size, "|GUARD");
    if (p & PAGE_NOCACHE) strcat_s(buf, size, "|NOCACHE");
    if (p & PAGE_WRITECOMBINE) strcat_s(buf, size, "|WRITECOMBINE");
    if (p & ~0x7FFu) {
        char more[16];
        sprintf_s(more, sizeof more, "|0x%x", (unsigned)(p & ~0x7FFu));
        strcat_s(buf, size, more);
    }
    return buf;
}

static inline const char *state_name(DWORD s) {
    switch (s) {
    case MEM_COMMIT: return "COMMIT";
    case MEM_RESERVE: return "RESERVE";
    case MEM_FREE: return "FREE";
    default: return "?";
    }
}

static inline const char *type_name(DWORD t) {
    switch (t) {
    case MEM_MAPPED: return "MAPPED";
    case MEM_PRIVATE: return "PRIVATE";
    case MEM_IMAGE: return "IMAGE";
    case 0: return "0";
    default: return "?";
    }
}

#endif /* FIDELITY_MEMORY_H */
