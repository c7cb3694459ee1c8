/* shmkit-win32: threads, thread-local storage and TerminateProcess (windows.h includes this header, and it includes windows.h). */
#include "windows.h"
#ifndef SHMKIT_PROCESSTHREADSAPI_H
#define SHMKIT_PROCESSTHREADSAPI_H
#ifdef __cplusplus
extern "C" {
#endif
typedef DWORD(WINAPI *PTHREAD_START_ROUTINE)(LPVOID lpThreadParameter);
typedef PTHREAD_START_ROUTINE LPTHREAD_START_ROUTINE;
#define TLS_OUT_OF_INDEXES ((DWORD)0xFFFFFFFF)

/* A real POSIX thread; its handle is signalled when it has ended. With CREATE_SUSPENDED
 * its routine runs once ResumeThread has been called (SuspendThread is not provided). */
HANDLE WINAPI CreateThread(LPSECURITY_ATTRIBUTES lpThreadAttributes, SIZE_T dwStackSize,
                           LPTHREAD_START_ROUTINE lpStartAddress, LPVOID lpParameter,
                           DWORD dwCreationFlags, LPDWORD lpThreadId);
__attribute__((noreturn)) void WINAPI ExitThread(DWORD dwExitCode);
BOOL WINAPI GetExitCodeThread(HANDLE hThread, LPDWORD lpExitCode);
DWORD WINAPI ResumeThread(HANDLE hThread);
BOOL WINAPI SwitchToThread(void);
BOOL WINAPI TerminateProcess(HANDLE hProcess, UINT uExitCode);
DWORD WINAPI TlsAlloc(void);
BOOL WINAPI TlsFree(DWORD dwTlsIndex);
LPVOID WINAPI TlsGetValue(DWORD dwTlsIndex);
BOOL WINAPI TlsSetValue(DWORD dwTlsIndex, LPVOID lpTlsValue);
#ifdef __cplusplus
}
#endif
#endif
