/* shmkit-win32: threads (APCs, suspension, termination), thread-local storage and TerminateProcess (windows.h includes this header, and it includes windows.h). */
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
 * its routine runs once ResumeThread has lowered its suspend count to 0. */
HANDLE WINAPI CreateThread(LPSECURITY_ATTRIBUTES lpThreadAttributes, SIZE_T dwStackSize,
                           LPTHREAD_START_ROUTINE lpStartAddress, LPVOID lpParameter,
                           DWORD dwCreationFlags, LPDWORD lpThreadId);
__attribute__((noreturn)) void WINAPI ExitThread(DWORD dwExitCode);
BOOL WINAPI GetExitCodeThread(HANDLE hThread, LPDWORD lpExitCode);
DWORD WINAPI ResumeThread(HANDLE hThread);

/* Threads of this process only. SuspendThread and TerminateThread take a thread of
 * CreateThread or the calling thread (another: ERROR_NOT_SUPPORTED); SuspendThread of
 * another thread returns once it has stopped. TerminateThread runs nothing of the
 * thread: locks it holds stay held, as on Windows. QueueUserAPC's routine runs in the
 * thread's next alertable wait (SleepEx, WaitFor...Ex, SignalObjectAndWait). */
#ifndef MAXIMUM_SUSPEND_COUNT
#define MAXIMUM_SUSPEND_COUNT 0x7f
#endif
typedef VOID(WINAPI *PAPCFUNC)(ULONG_PTR Parameter);
DWORD WINAPI QueueUserAPC(PAPCFUNC pfnAPC, HANDLE hThread, ULONG_PTR dwData);
DWORD WINAPI SuspendThread(HANDLE hThread);
BOOL WINAPI TerminateThread(HANDLE hThread, DWORD dwExitCode);
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
