/*
 * shmkit-win32: basetsd.h — the sized and pointer-sized integer types of Windows and the
 * conversions between handles, pointers and integers, as the Windows SDK's basetsd.h
 * defines them for 64-bit Windows (LLP64: pointers are 64 bits, LONG and ULONG 32).
 * Included by windows.h; may also be included on its own.
 */
#ifndef SHMKIT_BASETSD_H
#define SHMKIT_BASETSD_H
#define _BASETSD_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define POINTER_32
#define POINTER_64
#define FIRMWARE_PTR
#define POINTER_SIGNED
#define POINTER_UNSIGNED
#define SPOINTER_32 POINTER_SIGNED POINTER_32
#define UPOINTER_32 POINTER_UNSIGNED POINTER_32
#ifndef _W64
#define _W64
#endif
#define __int3264 long long
#define ADDRESS_TAG_BIT 0x40000000000ULL

typedef signed char INT8, *PINT8;
typedef signed short INT16, *PINT16;
typedef signed int INT32, *PINT32;
typedef signed long long INT64, *PINT64;
typedef unsigned char UINT8, *PUINT8;
typedef unsigned short UINT16, *PUINT16;
typedef unsigned int UINT32, *PUINT32;
typedef unsigned long long UINT64, *PUINT64;
typedef signed int LONG32, *PLONG32;
typedef unsigned int ULONG32, *PULONG32;
typedef unsigned int DWORD32, *PDWORD32;

/* Pointer-sized: intptr_t and uintptr_t are 64 bits, as on 64-bit Windows. */
typedef intptr_t INT_PTR, *PINT_PTR;
typedef uintptr_t UINT_PTR, *PUINT_PTR;
typedef intptr_t LONG_PTR, *PLONG_PTR;
typedef uintptr_t ULONG_PTR, *PULONG_PTR;
typedef ULONG_PTR DWORD_PTR, *PDWORD_PTR;
typedef int HALF_PTR, *PHALF_PTR;
typedef unsigned int UHALF_PTR, *PUHALF_PTR;
typedef long long SHANDLE_PTR;
typedef unsigned long long HANDLE_PTR;
typedef ULONG_PTR SIZE_T, *PSIZE_T;
typedef LONG_PTR SSIZE_T, *PSSIZE_T;
typedef long long LONG64, *PLONG64;
typedef unsigned long long ULONG64, *PULONG64;
typedef unsigned long long DWORD64, *PDWORD64;
typedef ULONG_PTR KAFFINITY, *PKAFFINITY;
typedef unsigned long long POINTER_64_INT;

/* Handles, pointers and integers. A handle value fits in 32 bits (sign-extended), as
 * on Windows, so HandleToLong/LongToHandle round-trip every handle. */
static inline unsigned int HandleToULong(const void *h) { return (unsigned int)(ULONG_PTR)h; }
static inline int HandleToLong(const void *h) { return (int)(LONG_PTR)h; }
static inline void *ULongToHandle(const unsigned int h) { return (void *)(UINT_PTR)h; }
static inline void *LongToHandle(const int h) { return (void *)(INT_PTR)h; }
static inline unsigned int PtrToUlong(const void *p) { return (unsigned int)(ULONG_PTR)p; }
static inline unsigned int PtrToUint(const void *p) { return (unsigned int)(UINT_PTR)p; }
static inline unsigned short PtrToUshort(const void *p) { return (unsigned short)(unsigned int)(ULONG_PTR)p; }
static inline int PtrToLong(const void *p) { return (int)(LONG_PTR)p; }
static inline int PtrToInt(const void *p) { return (int)(INT_PTR)p; }
static inline short PtrToShort(const void *p) { return (short)(int)(LONG_PTR)p; }
static inline void *IntToPtr(const int i) { return (void *)(INT_PTR)i; }
static inline void *UIntToPtr(const unsigned int ui) { return (void *)(UINT_PTR)ui; }
static inline void *LongToPtr(const int l) { return (void *)(LONG_PTR)l; }
static inline void *ULongToPtr(const unsigned int ul) { return (void *)(ULONG_PTR)ul; }
static inline void *Ptr32ToPtr(const void *p) { return (void *)(ULONG_PTR)(unsigned int)(ULONG_PTR)p; }
static inline void *Handle32ToHandle(const void *h) { return (void *)(LONG_PTR)(int)(ULONG_PTR)h; }
static inline void *PtrToPtr32(const void *p) { return (void *)(ULONG_PTR)(unsigned int)(ULONG_PTR)p; }
#define HandleToHandle32(h) (PtrToPtr32(h))
#define PtrToPtr64(p) ((void *)(p))
#define Ptr64ToPtr(p) ((void *)(p))
#define HandleToHandle64(h) (PtrToPtr64(h))
#define Handle64ToHandle(h) (Ptr64ToPtr(h))
#define HandleToUlong(h) HandleToULong(h)
#define UlongToHandle(ul) ULongToHandle(ul)
#define UlongToPtr(ul) ULongToPtr(ul)
#define UintToPtr(ui) UIntToPtr(ui)

#define MAXUINT_PTR (~((UINT_PTR)0))
#define MAXINT_PTR ((INT_PTR)(MAXUINT_PTR >> 1))
#define MININT_PTR (~MAXINT_PTR)
#define MAXULONG_PTR (~((ULONG_PTR)0))
#define MAXLONG_PTR ((LONG_PTR)(MAXULONG_PTR >> 1))
#define MINLONG_PTR (~MAXLONG_PTR)
#define MAXUHALF_PTR ((UHALF_PTR)~0)
#define MAXHALF_PTR ((HALF_PTR)(MAXUHALF_PTR >> 1))
#define MINHALF_PTR (~MAXHALF_PTR)
#define MAXUINT8 ((UINT8)~((UINT8)0))
#define MAXINT8 ((INT8)(MAXUINT8 >> 1))
#define MININT8 ((INT8)~MAXINT8)
#define MAXUINT16 ((UINT16)~((UINT16)0))
#define MAXINT16 ((INT16)(MAXUINT16 >> 1))
#define MININT16 ((INT16)~MAXINT16)
#define MAXUINT32 ((UINT32)~((UINT32)0))
#define MAXINT32 ((INT32)(MAXUINT32 >> 1))
#define MININT32 ((INT32)~MAXINT32)
#define MAXUINT64 ((UINT64)~((UINT64)0))
#define MAXINT64 ((INT64)(MAXUINT64 >> 1))
#define MININT64 ((INT64)~MAXINT64)
#define MAXULONG32 ((ULONG32)~((ULONG32)0))
#define MAXLONG32 ((LONG32)(MAXULONG32 >> 1))
#define MINLONG32 ((LONG32)~MAXLONG32)
#define MAXULONG64 ((ULONG64)~((ULONG64)0))
#define MAXLONG64 ((LONG64)(MAXULONG64 >> 1))
#define MINLONG64 ((LONG64)~MAXLONG64)
#define MAXULONGLONG ((unsigned long long)~((unsigned long long)0))
#define MINLONGLONG ((long long)~MAXLONGLONG)
#define MAXSIZE_T ((SIZE_T)~((SIZE_T)0))
#define MAXSSIZE_T ((SSIZE_T)(MAXSIZE_T >> 1))
#define MINSSIZE_T ((SSIZE_T)~MAXSSIZE_T)
#define MAXUINT ((unsigned int)~((unsigned int)0))
#define MAXINT ((int)(MAXUINT >> 1))
#define MININT ((int)~MAXINT)
#define MAXDWORD32 ((DWORD32)~((DWORD32)0))
#define MAXDWORD64 ((DWORD64)~((DWORD64)0))

#ifdef __cplusplus
}
#endif

#endif /* SHMKIT_BASETSD_H */
