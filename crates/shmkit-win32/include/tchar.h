/*
 * shmkit-win32: generic-text mappings. _UNICODE selects the wide forms: _TCHAR is
 * wchar_t, _T("x") is L"x", _tprintf is wprintf with Microsoft's %s rules, and _tmain
 * becomes wmain, which receives its arguments as wide strings (a main() that converts
 * them is generated where wmain is defined).
 */
#ifndef SHMKIT_TCHAR_H
#define SHMKIT_TCHAR_H
#define _INC_TCHAR

#include "shmkit_win32_crt.h"

#ifdef _UNICODE

typedef wchar_t _TCHAR, _TSCHAR, _TUCHAR, _TXCHAR;
typedef wint_t _TINT;
#define __T(x) L##x
#define _TEOF WEOF
#define _tmain wmain
#define _tprintf shmkit_wprintf
#define _ftprintf shmkit_fwprintf
#define _vtprintf shmkit_vwprintf
#define _vftprintf shmkit_vfwprintf
#define _stprintf shmkit_swprintf
#define _stprintf_s swprintf_s
#define _sntprintf _snwprintf
#define _vsntprintf _vsnwprintf
#define _tcslen wcslen
#define _tcsnlen wcsnlen
#define _tcscpy wcscpy
#define _tcscpy_s wcscpy_s
#define _tcsncpy wcsncpy
#define _tcsncpy_s wcsncpy_s
#define _tcscat wcscat
#define _tcscat_s wcscat_s
#define _tcsncat wcsncat
#define _tcscmp wcscmp
#define _tcsncmp wcsncmp
#define _tcsicmp _wcsicmp
#define _tcsnicmp _wcsnicmp
#define _tcschr wcschr
#define _tcsrchr wcsrchr
#define _tcsstr wcsstr
#define _tcstok wcstok
#define _tcsdup _wcsdup
#define _tcstol wcstol
#define _tcstoul wcstoul
#define _tcstod wcstod
#define _ttoi _wtoi
#define _tstoi _wtoi
#define _ttol _wtol
#define _tstol _wtol
#define _tfopen _wfopen
#define _istalpha iswalpha
#define _istdigit iswdigit
#define _istspace iswspace
#define _istupper iswupper
#define _istlower iswlower
#define _totupper towupper
#define _totlower towlower

#else

typedef char _TCHAR, _TSCHAR, _TXCHAR;
typedef unsigned char _TUCHAR;
typedef int _TINT;
#define __T(x) x
#define _TEOF EOF
#define _tmain main
#define _tprintf printf
#define _ftprintf fprintf
#define _vtprintf vprintf
#define _vftprintf vfprintf
#define _stprintf sprintf
#define _stprintf_s sprintf_s
#define _sntprintf _snprintf
#define _vsntprintf _vsnprintf
#define _tcslen strlen
#define _tcsnlen strnlen
#define _tcscpy strcpy
#define _tcscpy_s strcpy_s
#define _tcsncpy strncpy
#define _tcsncpy_s strncpy_s
#define _tcscat strcat
#define _tcscat_s strcat_s
#define _tcsncat strncat
#define _tcscmp strcmp
#define _tcsncmp strncmp
#define _tcsicmp _stricmp
#define _tcsnicmp _strnicmp
#define _tcschr strchr
#define _tcsrchr strrchr
#define _tcsstr strstr
#define _tcstok strtok
#define _tcsdup _strdup
#define _tcstol strtol
#define _tcstoul strtoul
#define _tcstod strtod
#define _ttoi atoi
#define _tstoi atoi
#define _ttol atol
#define _tstol atol
#define _tfopen fopen
#define _istalpha isalpha
#define _istdigit isdigit
#define _istspace isspace
#define _istupper isupper
#define _istlower islower
#define _totupper toupper
#define _totlower tolower

#endif

#define _T(x) __T(x)
#define _TEXT(x) __T(x)

#endif /* SHMKIT_TCHAR_H */
