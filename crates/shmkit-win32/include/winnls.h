/* shmkit-win32: part of windows.h, which declares everything. */
#include "windows.h"
