/*
 * shmkit-win32: the Microsoft C runtime conventions Windows programs rely on, over the
 * Linux C library. Included by windows.h and tchar.h; not meant to be included alone.
 *
 * - Wide printf family (wprintf, fwprintf, swprintf, swprintf_s, _snwprintf, wsprintfW):
 *   Microsoft rules, in which %s and %c of a wide format take wide arguments and %S/%C
 *   narrow ones. Output to a stream is written as UTF-8 through the narrow stream, so
 *   wide and narrow output mix freely (a glibc stream would lock into one orientation).
 * - Narrow helpers (sprintf_s, _snprintf, wsprintfA): Microsoft length modifiers
 *   (%I64d, %I32d, %Iu, %ws) are understood.
 * - The "secure" string functions (strcpy_s, wcscpy_s, strcat_s, ...), _stricmp,
 *   _wcsicmp, _wtoi.
 */
#ifndef SHMKIT_WIN32_CRT_H
#define SHMKIT_WIN32_CRT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wchar.h>
#include <wctype.h>

#if !defined(__cplusplus) && defined(__STRICT_ANSI__)
/* A strict -std=c99/c11 build hides the POSIX functions the helpers below use; they are
 * declared here as POSIX declares them. */
size_t strnlen(const char *s, size_t maxlen);
char *strdup(const char *s);
size_t wcsnlen(const wchar_t *s, size_t maxlen);
int wcscasecmp(const wchar_t *a, const wchar_t *b);
int wcsncasecmp(const wchar_t *a, const wchar_t *b, size_t n);
wchar_t *wcsdup(const wchar_t *s);
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Conversions, implemented by libshmkit_win32: the result is malloc'ed; free() it. */
char *shmkit_win32_wcs_to_utf8(const wchar_t *s);
wchar_t *shmkit_win32_utf8_to_wcs(const char *s);
wchar_t **shmkit_win32_wide_argv(int argc, const char *const *argv);
wchar_t **shmkit_win32_wide_envp(void);

/* A Microsoft format string in glibc's terms. `wide` says whether it is the format of
 * a wide function (where %s is a wide string). malloc'ed; free() it. */
#define SHMKIT_DEFINE_FMT(NAME, CH, WIDE)                                                    \
    static inline CH *NAME(const CH *in) {                                                   \
        size_t n = 0, o = 0;                                                                 \
        CH *out;                                                                             \
        while (in[n]) n++;                                                                   \
        out = (CH *)malloc((2 * n + 1) * sizeof(CH));                                       \
        if (!out) return NULL;                                                               \
        while (*in) {                                                                        \
            int len = 0;                                                                     \
            if (*in != '%') { out[o++] = *in++; continue; }                                  \
            out[o++] = *in++;                                                                \
            while (*in == '-' || *in == '+' || *in == ' ' || *in == '#' || *in == '0')       \
                out[o++] = *in++;                                                            \
            if (*in == '*') out[o++] = *in++;                                                \
            else while (*in >= '0' && *in <= '9') out[o++] = *in++;                          \
            if (*in == '.') {                                                                \
                out[o++] = *in++;                                                            \
                if (*in == '*') out[o++] = *in++;                                            \
                else while (*in >= '0' && *in <= '9') out[o++] = *in++;                      \
            }                                                                                \
            if (in[0] == 'I' && in[1] == '6' && in[2] == '4') {                              \
                out[o++] = 'l'; out[o++] = 'l'; in += 3;                                     \
            } else if (in[0] == 'I' && in[1] == '3' && in[2] == '2') {                       \
                in += 3;                                                                     \
            } else if (in[0] == 'I' && (in[1] == 'd' || in[1] == 'i' || in[1] == 'u' ||     \
                                        in[1] == 'x' || in[1] == 'X' || in[1] == 'o')) {     \
                out[o++] = 'z'; in++;                                                        \
            } else if ((in[0] == 'h' || in[0] == 'l' || in[0] == 'w') &&                     \
                       (in[1] == 's' || in[1] == 'S' || in[1] == 'c' || in[1] == 'C')) {     \
                len = in[0] == 'h' ? 'h' : 'l'; in++;                                        \
            } else {                                                                         \
                while (*in == 'h' || *in == 'l' || *in == 'L' || *in == 'q' || *in == 'j' || \
                       *in == 'z' || *in == 't')                                             \
                    out[o++] = *in++;                                                        \
            }                                                                                \
            if (*in == 's' || *in == 'S' || *in == 'c' || *in == 'C') {                      \
                int upper = *in == 'S' || *in == 'C';                                        \
                int wide_arg = len == 'l' ? 1 : len == 'h' ? 0 : (upper ? !(WIDE) : (WIDE)); \
                if (wide_arg) out[o++] = 'l';                                                \
                out[o++] = (*in == 's' || *in == 'S') ? 's' : 'c';                           \
                in++;                                                                        \
            } else if (*in) {                                                                \
                out[o++] = *in++;                                                            \
            }                                                                                \
        }                                                                                    \
        out[o] = 0;                                                                          \
        return out;                                                                          \
    }
SHMKIT_DEFINE_FMT(shmkit_fmt_a_, char, 0)
SHMKIT_DEFINE_FMT(shmkit_fmt_w_, wchar_t, 1)
#undef SHMKIT_DEFINE_FMT

/* ---- narrow ------------------------------------------------------------------------ */

static inline int shmkit_vsnprintf_(char *buf, size_t count, const char *fmt, va_list ap) {
    char *f = shmkit_fmt_a_(fmt);
    int n = f ? vsnprintf(buf, count, f, ap) : -1;
    free(f);
    return n;
}

/* sprintf_s: -1 and an empty buffer when the text does not fit. */
static inline int sprintf_s(char *buf, size_t size, const char *fmt, ...) {
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = shmkit_vsnprintf_(buf, size, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size) {
        if (size) buf[0] = 0;
        return -1;
    }
    return n;
}

static inline int vsprintf_s(char *buf, size_t size, const char *fmt, va_list ap) {
    int n = shmkit_vsnprintf_(buf, size, fmt, ap);
    if (n < 0 || (size_t)n >= size) {
        if (size) buf[0] = 0;
        return -1;
    }
    return n;
}

/* _snprintf: no terminating NUL and -1 when the text does not fit (Microsoft rules). */
static inline int _vsnprintf(char *buf, size_t count, const char *fmt, va_list ap) {
    char *tmp = (char *)malloc(count + 1);
    int n;
    if (!tmp) return -1;
    n = shmkit_vsnprintf_(tmp, count + 1, fmt, ap);
    if (n >= 0) memcpy(buf, tmp, (size_t)n < count ? (size_t)n + 1 : count);
    free(tmp);
    return (n < 0 || (size_t)n > count) ? -1 : n;
}

static inline int _snprintf(char *buf, size_t count, const char *fmt, ...) {
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = _vsnprintf(buf, count, fmt, ap);
    va_end(ap);
    return n;
}

/* wsprintfA: at most 1024 characters, as on Windows. */
static inline int wvsprintfA(char *buf, const char *fmt, va_list ap) {
    int n = shmkit_vsnprintf_(buf, 1025, fmt, ap);
    return n < 0 ? 0 : (n > 1024 ? 1024 : n);
}

static inline int wsprintfA(char *buf, const char *fmt, ...) {
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = wvsprintfA(buf, fmt, ap);
    va_end(ap);
    return n;
}

static inline int strcpy_s(char *dst, size_t size, const char *src) {
    size_t n = strlen(src);
    if (!dst || size == 0) return 22; /* EINVAL */
    if (n >= size) { dst[0] = 0; return 34; } /* ERANGE */
    memcpy(dst, src, n + 1);
    return 0;
}

static inline int strncpy_s(char *dst, size_t size, const char *src, size_t count) {
    size_t n = strnlen(src, count);
    if (!dst || size == 0) return 22;
    if (n >= size) { dst[0] = 0; return 34; }
    memcpy(dst, src, n);
    dst[n] = 0;
    return 0;
}

static inline int strcat_s(char *dst, size_t size, const char *src) {
    size_t d = strnlen(dst, size), n = strlen(src);
    if (!dst || size == 0) return 22;
    if (d + n >= size) { dst[0] = 0; return 34; }
    memcpy(dst + d, src, n + 1);
    return 0;
}

static inline int _stricmp(const char *a, const char *b) { return strcasecmp(a, b); }
static inline int _strnicmp(const char *a, const char *b, size_t n) { return strncasecmp(a, b, n); }
static inline char *_strdup(const char *s) { return strdup(s); }

/* ---- wide -------------------------------------------------------------------------- */

/* Formats into a malloc'ed wide string. */
static inline wchar_t *shmkit_vaswprintf_(const wchar_t *fmt, va_list ap) {
    wchar_t *f = shmkit_fmt_w_(fmt);
    size_t cap = 256;
    if (!f) return NULL;
    for (;;) {
        va_list aq;
        int n;
        wchar_t *buf = (wchar_t *)malloc(cap * sizeof(wchar_t));
        if (!buf) break;
        va_copy(aq, ap);
        n = vswprintf(buf, cap, f, aq);
        va_end(aq);
        if (n >= 0 && (size_t)n < cap) {
            free(f);
            return buf;
        }
        free(buf);
        if (cap >= ((size_t)1 << 26)) break; /* a format error, not a short buffer */
        cap *= 4;
    }
    free(f);
    return NULL;
}

static inline int shmkit_vfwprintf(FILE *stream, const wchar_t *fmt, va_list ap) {
    wchar_t *w = shmkit_vaswprintf_(fmt, ap);
    char *s;
    int n;
    if (!w) return -1;
    n = (int)wcslen(w);
    s = shmkit_win32_wcs_to_utf8(w);
    free(w);
    if (!s) return -1;
    if (fputs(s, stream) < 0) n = -1;
    free(s);
    return n;
}

static inline int shmkit_fwprintf(FILE *stream, const wchar_t *fmt, ...) {
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = shmkit_vfwprintf(stream, fmt, ap);
    va_end(ap);
    return n;
}

static inline int shmkit_vwprintf(const wchar_t *fmt, va_list ap) { return shmkit_vfwprintf(stdout, fmt, ap); }

static inline int shmkit_wprintf(const wchar_t *fmt, ...) {
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = shmkit_vfwprintf(stdout, fmt, ap);
    va_end(ap);
    return n;
}

static inline int shmkit_vswprintf(wchar_t *buf, size_t count, const wchar_t *fmt, va_list ap) {
    wchar_t *f = shmkit_fmt_w_(fmt);
    int n = f ? vswprintf(buf, count, f, ap) : -1;
    free(f);
    return n;
}

static inline int shmkit_swprintf(wchar_t *buf, size_t count, const wchar_t *fmt, ...) {
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = shmkit_vswprintf(buf, count, fmt, ap);
    va_end(ap);
    return n;
}

static inline int swprintf_s(wchar_t *buf, size_t size, const wchar_t *fmt, ...) {
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = shmkit_vswprintf(buf, size, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size) {
        if (size) buf[0] = 0;
        return -1;
    }
    return n;
}

static inline int _vsnwprintf(wchar_t *buf, size_t count, const wchar_t *fmt, va_list ap) {
    wchar_t *w = shmkit_vaswprintf_(fmt, ap);
    size_t n;
    if (!w) return -1;
    n = wcslen(w);
    memcpy(buf, w, (n < count ? n + 1 : count) * sizeof(wchar_t));
    free(w);
    return n > count ? -1 : (int)n;
}

static inline int _snwprintf(wchar_t *buf, size_t count, const wchar_t *fmt, ...) {
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = _vsnwprintf(buf, count, fmt, ap);
    va_end(ap);
    return n;
}

/* wsprintfW: at most 1024 characters, as on Windows; %s is a wide string. */
static inline int wvsprintfW(wchar_t *buf, const wchar_t *fmt, va_list ap) {
    int n = shmkit_vswprintf(buf, 1025, fmt, ap);
    if (n < 0) {
        buf[1024] = 0;
        return (int)wcslen(buf);
    }
    return n;
}

static inline int wsprintfW(wchar_t *buf, const wchar_t *fmt, ...) {
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = wvsprintfW(buf, fmt, ap);
    va_end(ap);
    return n;
}

static inline int wcscpy_s(wchar_t *dst, size_t size, const wchar_t *src) {
    size_t n = wcslen(src);
    if (!dst || size == 0) return 22;
    if (n >= size) { dst[0] = 0; return 34; }
    memcpy(dst, src, (n + 1) * sizeof(wchar_t));
    return 0;
}

static inline int wcsncpy_s(wchar_t *dst, size_t size, const wchar_t *src, size_t count) {
    size_t n = wcsnlen(src, count);
    if (!dst || size == 0) return 22;
    if (n >= size) { dst[0] = 0; return 34; }
    memcpy(dst, src, n * sizeof(wchar_t));
    dst[n] = 0;
    return 0;
}

static inline int wcscat_s(wchar_t *dst, size_t size, const wchar_t *src) {
    size_t d = wcsnlen(dst, size), n = wcslen(src);
    if (!dst || size == 0) return 22;
    if (d + n >= size) { dst[0] = 0; return 34; }
    memcpy(dst + d, src, (n + 1) * sizeof(wchar_t));
    return 0;
}

static inline int _wcsicmp(const wchar_t *a, const wchar_t *b) { return wcscasecmp(a, b); }
static inline int _wcsnicmp(const wchar_t *a, const wchar_t *b, size_t n) { return wcsncasecmp(a, b, n); }
static inline wchar_t *_wcsdup(const wchar_t *s) { return wcsdup(s); }
static inline int _wtoi(const wchar_t *s) { return (int)wcstol(s, NULL, 10); }
static inline long _wtol(const wchar_t *s) { return wcstol(s, NULL, 10); }

static inline FILE *_wfopen(const wchar_t *path, const wchar_t *mode) {
    char *p = shmkit_win32_wcs_to_utf8(path), *m = shmkit_win32_wcs_to_utf8(mode);
    FILE *f = (p && m) ? fopen(p, m) : NULL;
    free(p);
    free(m);
    return f;
}

/* Wide output through the narrow streams: Microsoft's %s rules, UTF-8 out. */
#define wprintf shmkit_wprintf
#define fwprintf shmkit_fwprintf
#define vwprintf shmkit_vwprintf
#define vfwprintf shmkit_vfwprintf
#define swprintf shmkit_swprintf
#define vswprintf_s(b, n, f, a) shmkit_vswprintf(b, n, f, a)

#ifdef __cplusplus
}

/* The C++ template forms that take an array and infer its size. */
template <size_t N> inline int sprintf_s(char (&buf)[N], const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsprintf_s(buf, N, fmt, ap);
    va_end(ap);
    return n;
}
template <size_t N> inline int swprintf_s(wchar_t (&buf)[N], const wchar_t *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = shmkit_vswprintf(buf, N, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= N) {
        buf[0] = 0;
        return -1;
    }
    return n;
}
template <size_t N> inline int strcpy_s(char (&dst)[N], const char *src) { return strcpy_s(dst, N, src); }
template <size_t N> inline int strcat_s(char (&dst)[N], const char *src) { return strcat_s(dst, N, src); }
template <size_t N> inline int wcscpy_s(wchar_t (&dst)[N], const wchar_t *src) { return wcscpy_s(dst, N, src); }
template <size_t N> inline int wcscat_s(wchar_t (&dst)[N], const wchar_t *src) { return wcscat_s(dst, N, src); }
#endif

/* wmain(...) defines the program's wmain and, before it, a main() that calls it with
 * the arguments (and, with three parameters, the environment) converted to wide. */
#define SHMKIT_NARGS_(a, b, c, n, ...) n
#define SHMKIT_NARGS(...) SHMKIT_NARGS_(__VA_ARGS__, 3, 2, 1, 1)
#define SHMKIT_CAT_(a, b) a##b
#define SHMKIT_CAT(a, b) SHMKIT_CAT_(a, b)
#define SHMKIT_WMAIN_CALL_1 shmkit_user_wmain_()
#define SHMKIT_WMAIN_CALL_2                                                                  \
    shmkit_user_wmain_(shmkit_argc_, shmkit_win32_wide_argv(shmkit_argc_, (const char *const *)shmkit_argv_))
#define SHMKIT_WMAIN_CALL_3                                                                  \
    shmkit_user_wmain_(shmkit_argc_, shmkit_win32_wide_argv(shmkit_argc_, (const char *const *)shmkit_argv_), \
                       shmkit_win32_wide_envp())
#define wmain(...)                                                                           \
    shmkit_user_wmain_(__VA_ARGS__);                                                         \
    int main(int shmkit_argc_, char **shmkit_argv_) {                                        \
        (void)shmkit_argc_;                                                                  \
        (void)shmkit_argv_;                                                                  \
        return SHMKIT_CAT(SHMKIT_WMAIN_CALL_, SHMKIT_NARGS(__VA_ARGS__));                    \
    }                                                                                        \
    int shmkit_user_wmain_(__VA_ARGS__)

#endif /* SHMKIT_WIN32_CRT_H */
