/* bench/storage_bench.py's Linux side (built static on the host, run in the Linux PV
 * domU): the same three measurements the Morgana guest makes.
 *   sbench durable PATH N BS   N times: pwrite BS bytes at i*BS, fsync  -> writes/s
 *   sbench seqw PATH N BS      N writes of BS bytes, then one fsync    -> MB/s
 *   sbench seqr PATH N BS      N reads of BS bytes (O_DIRECT if raw)   -> MB/s */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: sbench durable|seqw|seqr PATH N BS\n"); return 2; }
    const char *mode = argv[1], *path = argv[2];
    long n = atol(argv[3]), bs = atol(argv[4]);
    char *buf;
    if (posix_memalign((void **)&buf, 4096, bs)) return 1;
    memset(buf, 0x5a, bs);
    int rd = !strcmp(mode, "seqr");
    int fd = open(path, rd ? O_RDONLY : (O_WRONLY | O_CREAT), 0644);
    if (fd < 0) { perror(path); return 1; }
    double t0 = now();
    for (long i = 0; i < n; i++) {
        ssize_t r = rd ? pread(fd, buf, bs, i * bs) : pwrite(fd, buf, bs, i * bs);
        if (r != bs) { perror("io"); return 1; }
        if (!strcmp(mode, "durable") && fsync(fd)) { perror("fsync"); return 1; }
    }
    if (!strcmp(mode, "seqw") && fsync(fd)) { perror("fsync"); return 1; }
    double dt = now() - t0;
    close(fd);
    printf("sbench %s %s n=%ld bs=%ld s=%.3f per_s=%.1f MBps=%.2f\n", mode, path, n, bs, dt,
           n / dt, n * bs / dt / 1e6);
    return 0;
}
