/* shmkit-win32: environment variables, the command line and the current directory (windows.h includes this header, and it includes windows.h). */
#include "windows.h"
#ifndef SHMKIT_PROCESSENV_H
#define SHMKIT_PROCESSENV_H
#ifdef __cplusplus
extern "C" {
#endif
DWORD WINAPI GetEnvironmentVariableA(LPCSTR lpName, LPSTR lpBuffer, DWORD nSize);
DWORD WINAPI GetEnvironmentVariableW(LPCWSTR lpName, LPWSTR lpBuffer, DWORD nSize);
BOOL WINAPI SetEnvironmentVariableA(LPCSTR lpName, LPCSTR lpValue);
BOOL WINAPI SetEnvironmentVariableW(LPCWSTR lpName, LPCWSTR lpValue);
/* Rebuilt from the arguments, quoted as the Microsoft C runtime splits them. */
LPSTR WINAPI GetCommandLineA(void);
LPWSTR WINAPI GetCommandLineW(void);
DWORD WINAPI GetCurrentDirectoryA(DWORD nBufferLength, LPSTR lpBuffer);
DWORD WINAPI GetCurrentDirectoryW(DWORD nBufferLength, LPWSTR lpBuffer);
BOOL WINAPI SetCurrentDirectoryA(LPCSTR lpPathName);
BOOL WINAPI SetCurrentDirectoryW(LPCWSTR lpPathName);
#ifdef UNICODE
#define GetEnvironmentVariable GetEnvironmentVariableW
#define SetEnvironmentVariable SetEnvironmentVariableW
#define GetCurrentDirectory GetCurrentDirectoryW
#define GetCommandLine GetCommandLineW
#define SetCurrentDirectory SetCurrentDirectoryW
#else
#define GetEnvironmentVariable GetEnvironmentVariableA
#define SetEnvironmentVariable SetEnvironmentVariableA
#define GetCurrentDirectory GetCurrentDirectoryA
#define GetCommandLine GetCommandLineA
#define SetCurrentDirectory SetCurrentDirectoryA
#endif
#ifdef __cplusplus
}
#endif
#endif
