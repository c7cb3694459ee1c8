/* shmkit-win32: pshpack4.h, as in the SDK: structures declared after it are packed to
 * 4-byte alignment, until poppack.h. */
#pragma pack(push, 4)
