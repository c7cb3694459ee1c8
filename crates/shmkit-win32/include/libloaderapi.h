/* shmkit-win32: modules by name (windows.h includes this header, and it includes windows.h). */
#include "windows.h"
#ifndef SHMKIT_LIBLOADERAPI_H
#define SHMKIT_LIBLOADERAPI_H
#ifdef __cplusplus
extern "C" {
#endif
/* kernel32.dll, kernelbase.dll, ntdll.dll and advapi32.dll are libshmkit_win32 itself:
 * GetProcAddress finds in them exactly the functions it provides. */
HMODULE WINAPI GetModuleHandleA(LPCSTR lpModuleName);
HMODULE WINAPI GetModuleHandleW(LPCWSTR lpModuleName);
HMODULE WINAPI LoadLibraryA(LPCSTR lpLibFileName);
HMODULE WINAPI LoadLibraryW(LPCWSTR lpLibFileName);
BOOL WINAPI FreeLibrary(HMODULE hLibModule);
FARPROC WINAPI GetProcAddress(HMODULE hModule, LPCSTR lpProcName);
#ifdef UNICODE
#define GetModuleHandle GetModuleHandleW
#define LoadLibrary LoadLibraryW
#else
#define GetModuleHandle GetModuleHandleA
#define LoadLibrary LoadLibraryA
#endif
#ifdef __cplusplus
}
#endif
#endif
