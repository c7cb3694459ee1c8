/* shmkit-win32: pshpack8.h, as in the SDK: structures declared after it are packed to
 * 8-byte alignment, until poppack.h. */
#pragma pack(push, 8)
