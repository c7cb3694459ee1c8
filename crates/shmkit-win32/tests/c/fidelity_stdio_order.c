/*
 * Fidelity: the order of a parent's and its child's output. The parent prints a line
 * in two parts, the first without a newline and without fflush, starts itself as a
 * child that prints a line, waits for it, then ends its own line.
 *
 * What the transcript shows depends on where stdout goes, as with Windows' C runtime:
 * to a console, nothing is held back (the runtime writes each printf out), so the
 * parent's first part comes before the child's line — CreateProcess writes out what the
 * C library holds for a terminal first (tests/c_api.rs runs this program on a
 * pseudo-terminal); to a file or a pipe, as in scripts/lane-c-api, the C runtime buffers
 * stdout fully, so the child's line is written first and the parent's two parts come
 * together when it exits. Natively and under Wine the transcripts are the same.
 * Usage: fidelity_stdio_order [child]
 */
#include <windows.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    char self[MAX_PATH], cmd[MAX_PATH + 16];
    STARTUPINFOA si;
    PROCESS_INFORMATION pi;
    DWORD code = 1;
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        printf("child: printed while the parent waits\n");
        return 0;
    }
    printf("parent: before the child (no newline, no flush) ... ");
    if (!GetModuleFileNameA(NULL, self, sizeof self))
        return 2;
    snprintf(cmd, sizeof cmd, "\"%s\" child", self);
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    if (!CreateProcessA(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) {
        printf("CreateProcess failed: %u\n", (unsigned)GetLastError());
        return 1;
    }
    WaitForSingleObject(pi.hProcess, INFINITE);
    GetExitCodeProcess(pi.hProcess, &code);
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    printf("after it (the child exited with %u)\n", (unsigned)code);
    return (int)code;
}
