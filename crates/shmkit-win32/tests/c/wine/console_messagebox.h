/*
 * Forced into the Windows (mingw) builds of the test programs by scripts/lane-c-api:
 * Wine on a machine without a display cannot show a message box, so the Windows build
 * gets the same console stand-in the Linux headers provide ("CAPTION: TEXT" on
 * standard output). The programs themselves are unchanged.
 */
#include <windows.h>
#include <stdio.h>
static inline int console_MessageBoxA(HWND h, LPCSTR text, LPCSTR caption, UINT type) {
    (void)h;
    (void)type;
    printf("%s: %s\n", caption ? caption : "Error", text ? text : "");
    return IDOK;
}
static inline int console_MessageBoxW(HWND h, LPCWSTR text, LPCWSTR caption, UINT type) {
    (void)h;
    (void)type;
    printf("%ls: %ls\n", caption ? caption : L"Error", text ? text : L"");
    return IDOK;
}
#undef MessageBox
#ifdef UNICODE
#define MessageBox console_MessageBoxW
#else
#define MessageBox console_MessageBoxA
#endif
#define MessageBoxA console_MessageBoxA
#define MessageBoxW console_MessageBoxW
