/* shmkit-win32: timer queues (winbase.h includes this header, and it includes windows.h).
 * Each callback runs on a thread of the library; the WT_ flags are accepted. */
#include "windows.h"
#ifndef SHMKIT_THREADPOOLLEGACYAPISET_H
#define SHMKIT_THREADPOOLLEGACYAPISET_H
#ifdef __cplusplus
extern "C" {
#endif
HANDLE WINAPI CreateTimerQueue(void);
BOOL WINAPI DeleteTimerQueue(HANDLE TimerQueue);
BOOL WINAPI DeleteTimerQueueEx(HANDLE TimerQueue, HANDLE CompletionEvent);
BOOL WINAPI CreateTimerQueueTimer(PHANDLE phNewTimer, HANDLE TimerQueue, WAITORTIMERCALLBACK Callback,
                                  PVOID Parameter, DWORD DueTime, DWORD Period, ULONG Flags);
BOOL WINAPI ChangeTimerQueueTimer(HANDLE TimerQueue, HANDLE Timer, ULONG DueTime, ULONG Period);
BOOL WINAPI DeleteTimerQueueTimer(HANDLE TimerQueue, HANDLE Timer, HANDLE CompletionEvent);
#ifdef __cplusplus
}
#endif
#endif
