/* shmkit-win32: excpt.h, the dispositions an exception filter returns. Structured
 * exception handling (__try/__except) is a compiler feature GCC does not have: a program
 * handles faults with SetUnhandledExceptionFilter (errhandlingapi.h). */
#ifndef SHMKIT_EXCPT_H
#define SHMKIT_EXCPT_H
#define _INC_EXCPT

#ifndef EXCEPTION_EXECUTE_HANDLER
#define EXCEPTION_EXECUTE_HANDLER 1
#define EXCEPTION_CONTINUE_SEARCH 0
#define EXCEPTION_CONTINUE_EXECUTION (-1)
#endif

typedef enum _EXCEPTION_DISPOSITION {
    ExceptionContinueExecution,
    ExceptionContinueSearch,
    ExceptionNestedException,
    ExceptionCollidedUnwind
} EXCEPTION_DISPOSITION;

#endif /* SHMKIT_EXCPT_H */
