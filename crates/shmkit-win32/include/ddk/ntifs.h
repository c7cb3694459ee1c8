/* shmkit-win32: ddk/ntifs.h, where mingw declares NtAllocateVirtualMemory and
 * NtFreeVirtualMemory. Of the WDK's header only the virtual memory functions are
 * provided: winternl.h declares them, with NtProtectVirtualMemory and
 * NtQueryVirtualMemory. */
#include "../winternl.h"
