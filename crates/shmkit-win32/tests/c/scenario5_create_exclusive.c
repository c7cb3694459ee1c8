/*
 * Scenario 5: the same sharing with an unprefixed name (which means Local\), and the
 * documented create-exclusive idiom: create, and treat ERROR_ALREADY_EXISTS as "the
 * name is taken" (closing the handle that was returned). The first process creates the
 * object exclusively and starts the second; the second's exclusive create finds the
 * name taken, so it opens the object and reads the message. Narrow (ANSI) build.
 *
 * Usage: scenario5_create_exclusive SUFFIX   (the second process: ... second SUFFIX)
 */
#include <windows.h>
#include <stdio.h>
#include <string.h>

#define BUF_SIZE 256

/* The create-exclusive idiom: NULL, with ERROR_ALREADY_EXISTS, when the name is taken. */
static HANDLE CreateExclusive(const char *name, DWORD size)
{
    HANDLE h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, size, name);
    if (h != NULL && GetLastError() == ERROR_ALREADY_EXISTS) {
        CloseHandle(h);
        SetLastError(ERROR_ALREADY_EXISTS);
        return NULL;
    }
    return h;
}

int main(int argc, char *argv[])
{
    char name[128], local_name[160], self[MAX_PATH], cmd[2 * MAX_PATH];
    HANDLE h, again;
    char *p;

    if (argc < 2) {
        printf("usage: %s SUFFIX\n", argv[0]);
        return 2;
    }
    sprintf_s(name, sizeof name, "MyFileMappingObject-%s", argv[argc - 1]);
    sprintf_s(local_name, sizeof local_name, "Local\\%s", name);

    if (argc == 3) {
        h = CreateExclusive(name, BUF_SIZE);
        if (h == NULL && GetLastError() == ERROR_ALREADY_EXISTS)
            printf("second: the exclusive create found the name taken\n");
        else
            printf("second: the exclusive create succeeded (%u), which it must not\n", (unsigned)GetLastError());
        h = OpenFileMappingA(FILE_MAP_READ, FALSE, local_name);
        if (h == NULL) {
            printf("second: could not open %s (%u)\n", "Local\\ name", (unsigned)GetLastError());
            return 1;
        }
        p = (char *)MapViewOfFile(h, FILE_MAP_READ, 0, 0, 0);
        printf("second: opened it as Local\\..., read \"%s\"\n", p ? p : "(nothing)");
        UnmapViewOfFile(p);
        CloseHandle(h);
        return 0;
    }

    h = CreateExclusive(name, BUF_SIZE);
    if (h == NULL) {
        printf("first: the exclusive create failed (%u)\n", (unsigned)GetLastError());
        return 1;
    }
    printf("first: created the object exclusively\n");
    again = CreateExclusive(name, BUF_SIZE);
    printf("first: a second exclusive create %s\n",
           again == NULL && GetLastError() == ERROR_ALREADY_EXISTS ? "reports the name taken" : "succeeded");
    p = (char *)MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, 0);
    strcpy_s(p, BUF_SIZE, "Message from the exclusive creator.");

    {
        STARTUPINFOA si;
        PROCESS_INFORMATION pi;
        DWORD code = 1;

        GetModuleFileNameA(NULL, self, MAX_PATH);
        sprintf_s(cmd, sizeof cmd, "\"%s\" second %s", self, argv[1]);
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
    }
    UnmapViewOfFile(p);
    CloseHandle(h);
    h = OpenFileMappingA(FILE_MAP_READ, FALSE, name);
    printf("first: after the last handle closed, open reports %u\n", h == NULL ? (unsigned)GetLastError() : 0u);
    return 0;
}
