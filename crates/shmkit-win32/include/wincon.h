/* shmkit-win32: console modes (windows.h includes this header, and it includes
 * windows.h).
 *
 * A console handle is a standard handle whose descriptor is a terminal. Standard input
 * is the console's input: its mode is the terminal's (ENABLE_PROCESSED_INPUT is ISIG,
 * ENABLE_LINE_INPUT ICANON, ENABLE_ECHO_INPUT ECHO), and SetConsoleMode changes the
 * terminal. Standard output and error are screen buffers: their mode is kept (a Linux
 * terminal processes control characters and escape sequences whatever it says). Any
 * other handle is ERROR_INVALID_HANDLE, as a handle that is not a console's is on
 * Windows. */
#include "windows.h"
#ifndef SHMKIT_WINCON_H
#define SHMKIT_WINCON_H
#ifdef __cplusplus
extern "C" {
#endif

#define ENABLE_PROCESSED_INPUT 0x0001
#define ENABLE_LINE_INPUT 0x0002
#define ENABLE_ECHO_INPUT 0x0004
#define ENABLE_WINDOW_INPUT 0x0008
#define ENABLE_MOUSE_INPUT 0x0010
#define ENABLE_INSERT_MODE 0x0020
#define ENABLE_QUICK_EDIT_MODE 0x0040
#define ENABLE_EXTENDED_FLAGS 0x0080
#define ENABLE_AUTO_POSITION 0x0100
#define ENABLE_VIRTUAL_TERMINAL_INPUT 0x0200

#define ENABLE_PROCESSED_OUTPUT 0x0001
#define ENABLE_WRAP_AT_EOL_OUTPUT 0x0002
#define ENABLE_VIRTUAL_TERMINAL_PROCESSING 0x0004
#define DISABLE_NEWLINE_AUTO_RETURN 0x0008
#define ENABLE_LVB_GRID_WORLDWIDE 0x0010

BOOL WINAPI GetConsoleMode(HANDLE hConsoleHandle, LPDWORD lpMode);
BOOL WINAPI SetConsoleMode(HANDLE hConsoleHandle, DWORD dwMode);

#ifdef __cplusplus
}
#endif
#endif
