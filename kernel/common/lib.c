/* printk, panic, shutdown and the few libc entry points the runtime needs. */
#include <stdarg.h>
#include <stdio.h>
#include "kernel.h"
#include "arch.h"
#include "py/mpprint.h"

int errno;

static void printk_strn(void *env, const char *s, size_t n) {
    (void)env;
    console_write(s, n);
}

int printk(const char *fmt, ...) {
    mp_print_t p = { NULL, printk_strn };
    va_list ap;
    va_start(ap, fmt);
    int n = mp_vprintf(&p, fmt, ap);
    va_end(ap);
    return n;
}

void kernel_shutdown(unsigned int reason) {
    console_flush();
    struct sched_shutdown sd = { .reason = reason };
    for (;;)
        HYPERVISOR_sched_op(SCHEDOP_shutdown, &sd);
}

void panic(const char *fmt, ...) {
    mp_print_t p = { NULL, printk_strn };
    va_list ap;
    printk("\n*** panic: ");
    va_start(ap, fmt);
    mp_vprintf(&p, fmt, ap);
    va_end(ap);
    printk("\n");
    kernel_shutdown(SHUTDOWN_crash);
}

void abort(void) { panic("abort()"); }
void exit(int status) { kernel_shutdown(status ? SHUTDOWN_crash : SHUTDOWN_poweroff); }

void __assert_func(const char *file, int line, const char *func, const char *expr) {
    panic("assertion '%s' failed in %s (%s:%d)", expr, func, file, line);
}

/* GCC fuses sin(x) and cos(x) into one sincos() call; libm_dbl has none. (This file is
   compiled with -fno-builtin so the body is not fused back into a call to itself.) */
double sin(double), cos(double);
void sincos(double x, double *s, double *c) {
    *s = sin(x);
    *c = cos(x);
}
