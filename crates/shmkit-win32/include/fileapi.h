/* shmkit-win32: temporary files (windows.h includes this header, and it includes windows.h). */
#include "windows.h"
#ifndef SHMKIT_FILEAPI_H
#define SHMKIT_FILEAPI_H
#ifdef __cplusplus
extern "C" {
#endif
DWORD WINAPI GetTempPathA(DWORD nBufferLength, LPSTR lpBuffer);
DWORD WINAPI GetTempPathW(DWORD nBufferLength, LPWSTR lpBuffer);
UINT WINAPI GetTempFileNameA(LPCSTR lpPathName, LPCSTR lpPrefixString, UINT uUnique, LPSTR lpTempFileName);
UINT WINAPI GetTempFileNameW(LPCWSTR lpPathName, LPCWSTR lpPrefixString, UINT uUnique, LPWSTR lpTempFileName);
#ifdef UNICODE
#define GetTempPath GetTempPathW
#define GetTempFileName GetTempFileNameW
#else
#define GetTempPath GetTempPathA
#define GetTempFileName GetTempFileNameA
#endif
#ifdef __cplusplus
}
#endif
#endif
