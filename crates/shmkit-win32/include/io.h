/* shmkit-win32: io.h, the Microsoft C runtime's low-level I/O over the Linux C
 * library's: the POSIX names (isatty, fileno, access, close, read, write, lseek...) are
 * the C library's, with Microsoft's underscore spellings. _get_osfhandle gives the
 * handle of a standard stream's descriptor (0, 1, 2: GetStdHandle's handles); for any
 * other descriptor it returns INVALID_HANDLE_VALUE (as (intptr_t)-1) with errno EBADF. */
#ifndef SHMKIT_IO_H
#define SHMKIT_IO_H
#define _INC_IO

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#ifdef __cplusplus
extern "C" {
#endif

intptr_t _get_osfhandle(int fd);

#define _isatty isatty
#define _fileno fileno
#define _access access
#define _close close
#define _read read
#define _write write
#define _lseek lseek
#define _dup dup
#define _dup2 dup2
#define _unlink unlink

#ifdef __cplusplus
}
#endif
#endif /* SHMKIT_IO_H */
