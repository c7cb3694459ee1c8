/*
 * Scenario 1: the parent creates Local\sharedmemory (1024 bytes), writes a string and
 * starts a child that opens the object by name and prints the string. The parent also
 * hands the child an inheritable unnamed mapping and a non-inheritable one, by handle
 * value on the command line: the first works in the child, the second is an invalid
 * handle there. Built with UNICODE and _UNICODE: TCHAR is WCHAR, _tmain gets wide
 * arguments.
 *
 * Usage: scenario1_parent_child SUFFIX   (the child: ... child SUFFIX H1 H2)
 */
#include <windows.h>
#include <tchar.h>
#include <stdio.h>

#define BUF_SIZE 1024

static int child(const TCHAR *name, HANDLE inherited, HANDLE private_handle) {
    HANDLE hMapFile;
    LPCTSTR pBuf;
    const char *unnamed;

    hMapFile = OpenFileMapping(FILE_MAP_ALL_ACCESS, FALSE, name);
    if (hMapFile == NULL) {
        _tprintf(TEXT("child: could not open file mapping object (%u).\n"), (unsigned)GetLastError());
        return 1;
    }
    pBuf = (LPCTSTR)MapViewOfFile(hMapFile, FILE_MAP_ALL_ACCESS, 0, 0, BUF_SIZE);
    if (pBuf == NULL) {
        _tprintf(TEXT("child: could not map view of file (%u).\n"), (unsigned)GetLastError());
        CloseHandle(hMapFile);
        return 1;
    }
    _tprintf(TEXT("child: read \"%s\"\n"), pBuf);
    UnmapViewOfFile(pBuf);
    CloseHandle(hMapFile);

    unnamed = (const char *)MapViewOfFile(inherited, FILE_MAP_READ, 0, 0, 0);
    if (unnamed)
        printf("child: the inherited unnamed mapping holds \"%s\"\n", unnamed);
    else
        printf("child: the inherited handle does not work (%u)\n", (unsigned)GetLastError());
    UnmapViewOfFile(unnamed);
    CloseHandle(inherited);

    if (MapViewOfFile(private_handle, FILE_MAP_READ, 0, 0, 0) == NULL)
        printf("child: the non-inheritable handle is invalid here (%u)\n", (unsigned)GetLastError());
    else
        printf("child: the non-inheritable handle works, which it must not\n");
    return 7;
}

int _tmain(int argc, TCHAR *argv[]) {
    TCHAR szName[128];
    TCHAR szMsg[] = TEXT("Hello from the parent process");
    TCHAR self[MAX_PATH], cmd[2 * MAX_PATH];
    HANDLE hMapFile, hInherit, hPrivate;
    LPTSTR pBuf;
    char *shared;
    SECURITY_ATTRIBUTES sa = {sizeof(SECURITY_ATTRIBUTES), NULL, TRUE};
    STARTUPINFO si;
    PROCESS_INFORMATION pi;
    DWORD code = 0;

    if (argc < 2) {
        _tprintf(TEXT("usage: %s SUFFIX\n"), argv[0]);
        return 2;
    }
    wsprintf(szName, TEXT("Local\\sharedmemory-%s"), argv[argc == 5 ? 2 : 1]);
    if (argc == 5 && _tcscmp(argv[1], TEXT("child")) == 0)
        return child(szName, (HANDLE)(ULONG_PTR)_tcstoul(argv[3], NULL, 10),
                     (HANDLE)(ULONG_PTR)_tcstoul(argv[4], NULL, 10));

    hMapFile = CreateFileMapping(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, BUF_SIZE, szName);
    if (hMapFile == NULL) {
        _tprintf(TEXT("Could not create file mapping object (%u).\n"), (unsigned)GetLastError());
        return 1;
    }
    pBuf = (LPTSTR)MapViewOfFile(hMapFile, FILE_MAP_ALL_ACCESS, 0, 0, BUF_SIZE);
    if (pBuf == NULL) {
        _tprintf(TEXT("Could not map view of file (%u).\n"), (unsigned)GetLastError());
        CloseHandle(hMapFile);
        return 1;
    }
    CopyMemory((PVOID)pBuf, szMsg, (_tcslen(szMsg) + 1) * sizeof(TCHAR));
    _tprintf(TEXT("parent: wrote \"%s\" (%u characters)\n"), pBuf, (unsigned)_tcslen(pBuf));

    hInherit = CreateFileMapping(INVALID_HANDLE_VALUE, &sa, PAGE_READWRITE, 0, 4096, NULL);
    hPrivate = CreateFileMapping(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 4096, NULL);
    shared = (char *)MapViewOfFile(hInherit, FILE_MAP_WRITE, 0, 0, 0);
    strcpy_s(shared, 4096, "passed down by handle");

    GetModuleFileName(NULL, self, MAX_PATH);
    wsprintf(cmd, TEXT("\"%s\" child %s %u %u"), self, argv[1], (unsigned)(ULONG_PTR)hInherit,
             (unsigned)(ULONG_PTR)hPrivate);
    ZeroMemory(&si, sizeof(si));
    si.cb = sizeof(si);
    ZeroMemory(&pi, sizeof(pi));
    fflush(stdout);
    if (!CreateProcess(NULL, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi)) {
        _tprintf(TEXT("CreateProcess failed (%u).\n"), (unsigned)GetLastError());
        return 1;
    }
    if (WaitForSingleObject(pi.hProcess, 30000) != WAIT_OBJECT_0) {
        printf("parent: the child did not finish\n");
        return 1;
    }
    GetExitCodeProcess(pi.hProcess, &code);
    printf("parent: the child exited with code %u\n", (unsigned)code);
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);

    UnmapViewOfFile(shared);
    CloseHandle(hInherit);
    CloseHandle(hPrivate);
    UnmapViewOfFile(pBuf);
    CloseHandle(hMapFile);
    return 0;
}
