/* shmkit-win32: code pages (windows.h includes this header, and it includes windows.h).
 *
 * Narrow strings are UTF-8 here, so the ANSI and OEM code pages are UTF-8: GetACP and
 * GetOEMCP return CP_UTF8 (65001), and CP_ACP, CP_OEMCP, CP_MACCP, CP_THREAD_ACP and
 * CP_UTF8 convert UTF-8. US-ASCII (20127) and ISO 8859-1 (28591) are known too; other
 * code pages are ERROR_INVALID_PARAMETER. A wide character is one wchar_t, one Unicode
 * code point. */
#include "windows.h"
#ifndef SHMKIT_WINNLS_H
#define SHMKIT_WINNLS_H
#ifdef __cplusplus
extern "C" {
#endif

#define CP_ACP 0
#define CP_OEMCP 1
#define CP_MACCP 2
#define CP_THREAD_ACP 3
#define CP_SYMBOL 42
#define CP_UTF7 65000
#define CP_UTF8 65001

#define MB_PRECOMPOSED 0x00000001
#define MB_COMPOSITE 0x00000002
#define MB_USEGLYPHCHARS 0x00000004
#define MB_ERR_INVALID_CHARS 0x00000008

#define WC_DISCARDNS 0x00000010
#define WC_SEPCHARS 0x00000020
#define WC_DEFAULTCHAR 0x00000040
#define WC_ERR_INVALID_CHARS 0x00000080
#define WC_COMPOSITECHECK 0x00000200
#define WC_NO_BEST_FIT_CHARS 0x00000400

UINT WINAPI GetACP(void);
UINT WINAPI GetOEMCP(void);
BOOL WINAPI IsValidCodePage(UINT CodePage);
int WINAPI MultiByteToWideChar(UINT CodePage, DWORD dwFlags, LPCSTR lpMultiByteStr, int cbMultiByte,
                               LPWSTR lpWideCharStr, int cchWideChar);
int WINAPI WideCharToMultiByte(UINT CodePage, DWORD dwFlags, LPCWSTR lpWideCharStr, int cchWideChar,
                               LPSTR lpMultiByteStr, int cbMultiByte, LPCSTR lpDefaultChar, LPBOOL lpUsedDefaultChar);

#ifdef __cplusplus
}
#endif
#endif
