/* shmkit-win32: pshpack1.h, as in the SDK: structures declared after it are packed to
 * 1-byte alignment, until poppack.h. */
#pragma pack(push, 1)
