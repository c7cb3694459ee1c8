/* shmkit-win32: heaps (windows.h includes this header, and it includes windows.h). */
#include "windows.h"
#ifndef SHMKIT_HEAPAPI_H
#define SHMKIT_HEAPAPI_H
#ifdef __cplusplus
extern "C" {
#endif
#define HEAP_GROWABLE 0x00000002
#define HEAP_CREATE_ENABLE_EXECUTE 0x00040000

HANDLE WINAPI GetProcessHeap(void);
HANDLE WINAPI HeapCreate(DWORD flOptions, SIZE_T dwInitialSize, SIZE_T dwMaximumSize);
BOOL WINAPI HeapDestroy(HANDLE hHeap);
LPVOID WINAPI HeapAlloc(HANDLE hHeap, DWORD dwFlags, SIZE_T dwBytes);
LPVOID WINAPI HeapReAlloc(HANDLE hHeap, DWORD dwFlags, LPVOID lpMem, SIZE_T dwBytes);
BOOL WINAPI HeapFree(HANDLE hHeap, DWORD dwFlags, LPVOID lpMem);
SIZE_T WINAPI HeapSize(HANDLE hHeap, DWORD dwFlags, LPCVOID lpMem);
BOOL WINAPI HeapValidate(HANDLE hHeap, DWORD dwFlags, LPCVOID lpMem);
#ifdef __cplusplus
}
#endif
#endif
