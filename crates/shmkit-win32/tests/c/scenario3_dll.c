/*
 * Scenario 3, the shared library: on load (DLL_PROCESS_ATTACH) it creates or opens the
 * named object "dllmemfilemap" (4096 bytes) and zero-fills it only if it was first; on
 * unload it unmaps it and closes the handle. It exports SetSharedMem and GetSharedMem.
 * The code is the reference document's, with a per-run name suffix taken from the
 * environment (SHMKIT_TEST_SUFFIX), one line that shows DllMain running, and the copy
 * loop bounded in characters rather than bytes. Built with
 * UNICODE.
 */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <memory.h>

#define SHMEMSIZE 4096

static LPVOID lpvMem = NULL;      // pointer to shared memory
static HANDLE hMapObject = NULL;  // handle to file mapping

BOOL WINAPI DllMain(HINSTANCE hinstDLL, DWORD fdwReason, LPVOID lpvReserved)
{
    BOOL fInit, fIgnore;
    TCHAR szName[128];
    const char *suffix;

    switch (fdwReason)
    {
        case DLL_PROCESS_ATTACH:
            suffix = getenv("SHMKIT_TEST_SUFFIX");
            wsprintf(szName, TEXT("dllmemfilemap-%S"), suffix ? suffix : "default");

            hMapObject = CreateFileMapping(
                INVALID_HANDLE_VALUE,   // use paging file
                NULL,                   // default security attributes
                PAGE_READWRITE,         // read/write access
                0,                      // size: high 32-bits
                SHMEMSIZE,              // size: low 32-bits
                szName);                // name of map object
            if (hMapObject == NULL)
                return FALSE;

            // The first process to attach initializes memory
            fInit = (GetLastError() != ERROR_ALREADY_EXISTS);

            lpvMem = MapViewOfFile(hMapObject, FILE_MAP_WRITE, 0, 0, 0);
            if (lpvMem == NULL)
                return FALSE;

            if (fInit)
                memset(lpvMem, '\0', SHMEMSIZE);
            printf("DllMain: DLL_PROCESS_ATTACH, %s\n",
                   fInit ? "first process: zero-filled the memory" : "the memory already existed");
            fflush(stdout);
            break;

        case DLL_THREAD_ATTACH:
            break;

        case DLL_THREAD_DETACH:
            break;

        case DLL_PROCESS_DETACH:
            fIgnore = UnmapViewOfFile(lpvMem);
            fIgnore = CloseHandle(hMapObject);
            (void)fIgnore;
            break;

        default:
          break;
     }

    return TRUE;
    UNREFERENCED_PARAMETER(hinstDLL);
    UNREFERENCED_PARAMETER(lpvReserved);
}

#ifdef __cplusplus    // If used by C++ code,
extern "C" {          // we need to export the C interface
#endif

// SetSharedMem sets the contents of the shared memory
__declspec(dllexport) VOID __cdecl SetSharedMem(LPWSTR lpszBuf)
{
    LPWSTR lpszTmp;
    DWORD dwCount=1;

    lpszTmp = (LPWSTR) lpvMem;
    while (*lpszBuf && dwCount<SHMEMSIZE / sizeof(WCHAR))
    {
        *lpszTmp++ = *lpszBuf++;
        dwCount++;
    }
    *lpszTmp = '\0';
}

// GetSharedMem gets the contents of the shared memory
__declspec(dllexport) VOID __cdecl GetSharedMem(LPWSTR lpszBuf, DWORD cchSize)
{
    LPWSTR lpszTmp;

    lpszTmp = (LPWSTR) lpvMem;
    while (*lpszTmp && --cchSize)
        *lpszBuf++ = *lpszTmp++;
    *lpszBuf = '\0';
}
#ifdef __cplusplus
}
#endif
