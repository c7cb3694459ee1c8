/* shmkit-win32: pshpack2.h, as in the SDK: structures declared after it are packed to
 * 2-byte alignment, until poppack.h. */
#pragma pack(push, 2)
