/*
 * The wake-up latency of WaitForSingleObject and WaitForMultipleObjects (wait-any) within
 * one process, threads not pinned: a signaller thread waits until the waiter is about to
 * wait, sleeps GAP_US (default 1000) so that the waiter is asleep, stamps the time and sets
 * the last event of the waiter's set; the waiter stamps its return. Prints the median and
 * the 99th percentile of SAMPLES wake-ups. (The suite's win32-wait rows measure the same
 * across two processes pinned to two CPUs: see BENCHMARKS.md.)
 *
 * Build and run (Linux, libshmkit_win32; or with mingw for Windows, where pthreads come
 * from winpthreads):
 *   cargo build -p shmkit-win32 --release
 *   cc -O2 -Icrates/shmkit-win32/include crates/shmkit-bench/c/wake_latency.c \
 *      -Ltarget/release -lshmkit_win32 -Wl,-rpath,$PWD/target/release -o wake_latency
 *   ./wake_latency 8          # WaitForMultipleObjects over 8 handles
 *   ./wake_latency 1 single   # WaitForSingleObject
 */
#include <windows.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define SAMPLES 1000

static HANDLE set[64], armed;
static volatile long long set_at;
static int n, gap_us = 1000;

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void *signaller(void *arg) {
    int i;
    for (i = 0; i < SAMPLES; i++) {
        WaitForSingleObject(armed, INFINITE);
        usleep(gap_us);
        __atomic_store_n(&set_at, now_ns(), __ATOMIC_SEQ_CST);
        SetEvent(set[n - 1]);
    }
    return arg;
}

static int by_value(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    static long long took[SAMPLES];
    int i, single = argc > 2 && argv[2][0] == 's';
    pthread_t t;
    n = argc > 1 ? atoi(argv[1]) : 8;
    if (n < 1 || n > 64) return 2;
    if (getenv("GAP_US")) gap_us = atoi(getenv("GAP_US"));
    for (i = 0; i < n; i++) set[i] = CreateEventA(NULL, FALSE, FALSE, NULL);
    armed = CreateEventA(NULL, FALSE, FALSE, NULL);
    pthread_create(&t, NULL, signaller, NULL);
    for (i = 0; i < SAMPLES; i++) {
        DWORD r;
        SetEvent(armed);
        r = single ? WaitForSingleObject(set[n - 1], INFINITE)
                   : WaitForMultipleObjects(n, set, FALSE, INFINITE);
        took[i] = now_ns() - __atomic_load_n(&set_at, __ATOMIC_SEQ_CST);
        if (r != WAIT_OBJECT_0 + (DWORD)(single ? 0 : n - 1)) {
            printf("the wait returned %lu\n", (unsigned long)r);
            return 1;
        }
    }
    pthread_join(t, NULL);
    qsort(took, SAMPLES, sizeof took[0], by_value);
    printf("%s over %d: median %.1f us, p99 %.1f us\n",
           single ? "WaitForSingleObject" : "WaitForMultipleObjects", single ? 1 : n,
           took[SAMPLES / 2] / 1e3, took[SAMPLES * 99 / 100] / 1e3);
    return 0;
}
