/*
 * bcryptprimitives.dll for Wine 8, which lacks it: Rust's standard library (1.78 and
 * later) imports ProcessPrng from this DLL for its random numbers (HashMap seeds), so
 * without it no Rust test executable starts under Wine 8. This shim implements
 * ProcessPrng with RtlGenRandom (advapi32's SystemFunction036), which Wine has.
 * Used by scripts/lane-windows only; never shipped.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    /* Documented to always return TRUE. */
    return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    (void)instance;
    (void)reason;
    (void)reserved;
    return TRUE;
}
