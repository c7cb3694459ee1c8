/*
 * Scenario 2, open-or-create: the first process creates "sharememory" and writes
 * "This is common data!"; a later process makes the same create call, is told the
 * object already existed (ERROR_ALREADY_EXISTS), and reads the data. The first process
 * waits for the second before it exits. Narrow (ANSI) build.
 *
 * Usage: scenario2_open_or_create SUFFIX   (the second process: ... second SUFFIX)
 */
#include <windows.h>
#include <stdio.h>
#include <string.h>

#define SIZE 4096

int main(int argc, char *argv[]) {
    char name[128], self[MAX_PATH], cmd[2 * MAX_PATH];
    const char *suffix;
    HANDLE hMap;
    char *p;
    int first;

    if (argc < 2) {
        printf("usage: %s SUFFIX\n", argv[0]);
        return 2;
    }
    first = argc == 2;
    suffix = first ? argv[1] : argv[2];
    sprintf_s(name, sizeof name, "sharememory-%s", suffix);

    hMap = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, SIZE, name);
    if (hMap == NULL) {
        printf("CreateFileMapping failed (%u)\n", (unsigned)GetLastError());
        return 1;
    }
    if (GetLastError() == ERROR_ALREADY_EXISTS) {
        printf("%s: the object already existed: opened it\n", first ? "first" : "second");
    } else {
        printf("%s: created the object\n", first ? "first" : "second");
    }
    p = (char *)MapViewOfFile(hMap, FILE_MAP_ALL_ACCESS, 0, 0, 0);
    if (p == NULL) {
        printf("MapViewOfFile failed (%u)\n", (unsigned)GetLastError());
        return 1;
    }

    if (first) {
        STARTUPINFOA si;
        PROCESS_INFORMATION pi;
        DWORD code = 1;

        strcpy_s(p, SIZE, "This is common data!");
        GetModuleFileNameA(NULL, self, MAX_PATH);
        sprintf_s(cmd, sizeof cmd, "\"%s\" second %s", self, suffix);
        ZeroMemory(&si, sizeof si);
        si.cb = sizeof si;
        fflush(stdout);
        if (!CreateProcessA(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) {
            printf("CreateProcess failed (%u)\n", (unsigned)GetLastError());
            return 1;
        }
        WaitForSingleObject(pi.hProcess, 30000);
        GetExitCodeProcess(pi.hProcess, &code);
        printf("first: the second process exited with code %u\n", (unsigned)code);
        CloseHandle(pi.hThread);
        CloseHandle(pi.hProcess);
    } else {
        printf("second: read \"%s\"\n", p);
    }
    UnmapViewOfFile(p);
    CloseHandle(hMap);
    return 0;
}
