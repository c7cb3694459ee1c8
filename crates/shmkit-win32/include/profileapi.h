/* shmkit-win32: the performance counter (100 ns ticks, 10 MHz) (windows.h includes this header, and it includes windows.h). */
#include "windows.h"
#ifndef SHMKIT_PROFILEAPI_H
#define SHMKIT_PROFILEAPI_H
#ifdef __cplusplus
extern "C" {
#endif
BOOL WINAPI QueryPerformanceCounter(LARGE_INTEGER *lpPerformanceCount);
BOOL WINAPI QueryPerformanceFrequency(LARGE_INTEGER *lpFrequency);
#ifdef __cplusplus
}
#endif
#endif
