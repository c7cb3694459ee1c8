/* shmkit-win32: console input. _getch waits for one character from standard input and
 * returns it without echo (EOF at the end of input); _getche echoes it. */
#ifndef SHMKIT_CONIO_H
#define SHMKIT_CONIO_H
#define _INC_CONIO

#ifdef __cplusplus
extern "C" {
#endif

int _getch(void);
int _getche(void);
#define getch _getch
#define getche _getche

#ifdef __cplusplus
}
#endif

#endif /* SHMKIT_CONIO_H */
