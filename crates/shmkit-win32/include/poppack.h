/* shmkit-win32: poppack.h, as in the SDK: ends the packing of the last pshpackN.h. */
#pragma pack(pop)
