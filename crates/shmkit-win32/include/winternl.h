/* shmkit-win32: winternl.h, the Windows SDK's types of the NT layer that programs name
 * around their calls to the Win32 API, NtWaitForSingleObject and the virtual memory
 * functions (NtAllocateVirtualMemory, NtFreeVirtualMemory, NtProtectVirtualMemory,
 * NtQueryVirtualMemory). Of ntdll's other functions only NtWaitForMultipleObjects,
 * NtQueueApcThread, NtTestAlert and RtlInterlockedPushListSList(Ex) are provided
 * (GetProcAddress finds them); for any other a program that looks it up gets NULL and
 * ERROR_PROC_NOT_FOUND. */
#include "windows.h"
#ifndef SHMKIT_WINTERNL_H
#define SHMKIT_WINTERNL_H
#define _WINTERNL_
#ifdef __cplusplus
extern "C" {
#endif

#ifndef SHMKIT_NTSTATUS_TYPE
#define SHMKIT_NTSTATUS_TYPE
typedef int NTSTATUS;
typedef NTSTATUS *PNTSTATUS;
#endif
#ifndef NT_SUCCESS
#define NT_SUCCESS(status) (((NTSTATUS)(status)) >= 0)
#endif

typedef struct _UNICODE_STRING {
    USHORT Length;
    USHORT MaximumLength;
    PWSTR Buffer;
} UNICODE_STRING, *PUNICODE_STRING;
typedef const UNICODE_STRING *PCUNICODE_STRING;

typedef struct _STRING {
    USHORT Length;
    USHORT MaximumLength;
    PCHAR Buffer;
} STRING, *PSTRING, ANSI_STRING, *PANSI_STRING, OEM_STRING, *POEM_STRING;
typedef const STRING *PCANSI_STRING;

typedef struct _OBJECT_ATTRIBUTES {
    ULONG Length;
    HANDLE RootDirectory;
    PUNICODE_STRING ObjectName;
    ULONG Attributes;
    PVOID SecurityDescriptor;
    PVOID SecurityQualityOfService;
} OBJECT_ATTRIBUTES, *POBJECT_ATTRIBUTES;

#define OBJ_INHERIT 0x00000002L
#define OBJ_PERMANENT 0x00000010L
#define OBJ_EXCLUSIVE 0x00000020L
#define OBJ_CASE_INSENSITIVE 0x00000040L
#define OBJ_OPENIF 0x00000080L
#define OBJ_OPENLINK 0x00000100L
#define OBJ_KERNEL_HANDLE 0x00000200L
#define OBJ_FORCE_ACCESS_CHECK 0x00000400L
#define OBJ_VALID_ATTRIBUTES 0x000007F2L

#define InitializeObjectAttributes(p, n, a, r, s) \
    do {                                          \
        (p)->Length = sizeof(OBJECT_ATTRIBUTES);  \
        (p)->RootDirectory = (r);                 \
        (p)->Attributes = (a);                    \
        (p)->ObjectName = (n);                    \
        (p)->SecurityDescriptor = (s);            \
        (p)->SecurityQualityOfService = NULL;     \
    } while (0)

typedef struct _IO_STATUS_BLOCK {
    union {
        NTSTATUS Status;
        PVOID Pointer;
    } DUMMYUNIONNAME;
    ULONG_PTR Information;
} IO_STATUS_BLOCK, *PIO_STATUS_BLOCK;

typedef VOID(NTAPI *PIO_APC_ROUTINE)(PVOID ApcContext, PIO_STATUS_BLOCK IoStatusBlock, ULONG Reserved);

typedef struct _CLIENT_ID {
    HANDLE UniqueProcess;
    HANDLE UniqueThread;
} CLIENT_ID, *PCLIENT_ID;

/* Waits with NT's conventions: an NTSTATUS result (STATUS_WAIT_0 + i,
 * STATUS_ABANDONED_WAIT_0 + i, STATUS_TIMEOUT, STATUS_INVALID_HANDLE...), the last-error
 * code untouched, a timeout in 100 ns units (NULL: none; negative: relative; positive:
 * an absolute system time). An alertable wait runs the thread's queued APCs and returns
 * STATUS_USER_APC. */
NTSTATUS NTAPI NtWaitForSingleObject(HANDLE Handle, BOOLEAN Alertable, PLARGE_INTEGER Timeout);

/* The memory of a process (the WDK declares these in ntifs.h; mingw declares the first two
 * in ddk/ntifs.h): for the calling process what VirtualAlloc, VirtualFree, VirtualProtect
 * and VirtualQuery do, with NTSTATUS results, *BaseAddress and *RegionSize updated to the
 * pages concerned; NtQueryVirtualMemory also describes a child; allocating, freeing and
 * protecting in another process is STATUS_NOT_SUPPORTED. */
typedef enum _MEMORY_INFORMATION_CLASS {
    MemoryBasicInformation = 0
} MEMORY_INFORMATION_CLASS;
NTSTATUS NTAPI NtAllocateVirtualMemory(HANDLE ProcessHandle, PVOID *BaseAddress, ULONG_PTR ZeroBits,
                                       PSIZE_T RegionSize, ULONG AllocationType, ULONG Protect);
NTSTATUS NTAPI NtFreeVirtualMemory(HANDLE ProcessHandle, PVOID *BaseAddress, PSIZE_T RegionSize,
                                   ULONG FreeType);
NTSTATUS NTAPI NtProtectVirtualMemory(HANDLE ProcessHandle, PVOID *BaseAddress, PSIZE_T RegionSize,
                                      ULONG NewProtect, PULONG OldProtect);
NTSTATUS NTAPI NtQueryVirtualMemory(HANDLE ProcessHandle, PVOID BaseAddress,
                                    MEMORY_INFORMATION_CLASS MemoryInformationClass,
                                    PVOID MemoryInformation, SIZE_T MemoryInformationLength,
                                    PSIZE_T ReturnLength);

#ifdef __cplusplus
}
#endif
#endif
