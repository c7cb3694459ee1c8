/*
 * Fidelity: SetEndOfFile. It cuts or extends a file at the file pointer (which stays
 * where it is); a file cannot shrink while a mapping object over it exists or a view of
 * it is mapped (ERROR_USER_MAPPED_FILE), though it may grow; a read-only handle is
 * refused and what is not a file handle is ERROR_INVALID_HANDLE.
 * Usage: fidelity_setendoffile SUFFIX (the test file's name carries it).
 */
#include "fidelity.h"
#include <stdio.h>
#include <string.h>


static DWORD size_of(HANDLE f) {
    return GetFileSize(f, NULL);
}

static DWORD where(HANDLE f) {
    return SetFilePointer(f, 0, NULL, FILE_CURRENT);
}

int main(int argc, char **argv) {
    char path[MAX_PATH];
    HANDLE file, other, ro, mapping;
    char *view;
    DWORD n;
    snprintf(path, sizeof path, "seteof-%s.tmp", argc > 1 ? argv[1] : "x");

    file = CreateFileA(path, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                       CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    check(file != INVALID_HANDLE_VALUE, "create the file");

    SetFilePointer(file, 4096, NULL, FILE_BEGIN);
    check(SetEndOfFile(file), "extend to the file pointer (4096)");
    check(size_of(file) == 4096, "the size is 4096");
    check(where(file) == 4096, "the file pointer stays at 4096");

    SetFilePointer(file, 0, NULL, FILE_BEGIN);
    check(WriteFile(file, "0123456789", 10, &n, NULL) && n == 10, "write 10 bytes at 0");
    SetFilePointer(file, 6, NULL, FILE_BEGIN);
    check(SetEndOfFile(file), "cut at 6 without a mapping");
    check(size_of(file) == 6, "the size is 6");
    {
        char buf[16] = {0};
        SetFilePointer(file, 0, NULL, FILE_BEGIN);
        check(ReadFile(file, buf, sizeof buf, &n, NULL) && n == 6 && memcmp(buf, "012345", 6) == 0,
              "the first 6 bytes are kept");
    }

    SetFilePointer(file, 0x20000, NULL, FILE_BEGIN);
    check(SetEndOfFile(file), "extend to 128 KiB");
    mapping = CreateFileMappingA(file, NULL, PAGE_READWRITE, 0, 0, NULL);
    check(mapping != NULL, "map the file (no view yet)");

    SetFilePointer(file, 0x10000, NULL, FILE_BEGIN);
    SetLastError(0xdeadbeef);
    expect_error(!SetEndOfFile(file), ERROR_USER_MAPPED_FILE, "cut while a mapping object exists");
    check(size_of(file) == 0x20000, "the size is still 128 KiB");

    other = CreateFileA(path, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                        OPEN_EXISTING, 0, NULL);
    check(other != INVALID_HANDLE_VALUE, "open the file a second time");
    SetFilePointer(other, 100, NULL, FILE_BEGIN);
    SetLastError(0xdeadbeef);
    expect_error(!SetEndOfFile(other), ERROR_USER_MAPPED_FILE, "cut through the other handle");

    view = (char *)MapViewOfFile(mapping, FILE_MAP_WRITE, 0, 0, 0);
    check(view != NULL, "map a view");
    check(view && memcmp(view, "012345", 6) == 0, "the view shows the data");
    check(CloseHandle(mapping), "close the mapping handle (the view stays)");

    SetLastError(0xdeadbeef);
    expect_error(!SetEndOfFile(file), ERROR_USER_MAPPED_FILE, "cut while a view is mapped");
    SetFilePointer(file, 0x30000, NULL, FILE_BEGIN);
    check(SetEndOfFile(file), "extend while a view is mapped");
    check(size_of(file) == 0x30000, "the size is 192 KiB");
    SetFilePointer(file, 0x30000, NULL, FILE_BEGIN);
    check(SetEndOfFile(file), "set the size it already has");

    check(UnmapViewOfFile(view), "unmap the view");
    SetFilePointer(file, 10, NULL, FILE_BEGIN);
    check(SetEndOfFile(file), "cut once no mapping or view is left");
    check(size_of(file) == 10, "the size is 10");

    ro = CreateFileA(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL);
    check(ro != INVALID_HANDLE_VALUE, "open the file read-only");
    SetFilePointer(ro, 2, NULL, FILE_BEGIN);
    /* Windows refuses it with ERROR_ACCESS_DENIED (the handle lacks FILE_WRITE_DATA), as
     * this library does; Wine says ERROR_INVALID_PARAMETER. The transcript shows the
     * refusal, which both give. */
    SetLastError(0xdeadbeef);
    {
        BOOL ret = SetEndOfFile(ro);
        DWORD e = GetLastError();
        check(!ret && (e == ERROR_ACCESS_DENIED || e == ERROR_INVALID_PARAMETER), "cut through a read-only handle: refused");
    }
    check(size_of(file) == 10, "the size is still 10");

    SetLastError(0xdeadbeef);
    expect_error(!SetEndOfFile(NULL), ERROR_INVALID_HANDLE, "a NULL handle");
    mapping = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 4096, NULL);
    SetLastError(0xdeadbeef);
    expect_error(!SetEndOfFile(mapping), ERROR_INVALID_HANDLE, "a mapping handle");
    CloseHandle(mapping);

    SetFilePointer(file, 0, NULL, FILE_BEGIN);
    check(SetEndOfFile(file), "cut to 0");
    check(size_of(file) == 0, "the size is 0");

    CloseHandle(ro);
    CloseHandle(other);
    CloseHandle(file);
    check(DeleteFileA(path), "delete the file");
    printf("fidelity_setendoffile: %d failed\n", failures);
    return failures != 0;
}
