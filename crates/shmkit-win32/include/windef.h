/* shmkit-win32: points, sizes and rectangles (windows.h includes this header, and it includes windows.h). */
#include "windows.h"
#ifndef SHMKIT_WINDEF_H
#define SHMKIT_WINDEF_H
typedef struct tagPOINT {
    LONG x;
    LONG y;
} POINT, *PPOINT, *LPPOINT;
typedef struct tagSIZE {
    LONG cx;
    LONG cy;
} SIZE, *PSIZE, *LPSIZE;
typedef struct tagRECT {
    LONG left;
    LONG top;
    LONG right;
    LONG bottom;
} RECT, *PRECT, *LPRECT;
typedef const RECT *LPCRECT;
#endif
