// Console and clock for MicroPython, over the boot layer.
#include "py/mphal.h"
#include "py/runtime.h"
#include "kernel.h"

mp_uint_t mp_hal_stdout_tx_strn(const char *str, size_t len) {
    console_write(str, len);
    return len;
}

// Blocks the domain (no spinning) until the console has input.
int mp_hal_stdin_rx_chr(void) {
    char c;
    console_sync();         /* whoever waits for input must see the prompt */
    while (console_read(&c, 1) == 0) {
        if (console_page())
            block_for_port(console_evtchn(), monotonic_ns() + 1000000000ULL);
        else
            block_until(monotonic_ns() + 1000000000ULL);
    }
    return (unsigned char)c;
}

uintptr_t mp_hal_stdio_poll(uintptr_t poll_flags) {
    (void)poll_flags;
    return 0;
}

uint64_t mp_hal_time_ns(void) { return wallclock_ns(); }
mp_uint_t mp_hal_ticks_ms(void) { return monotonic_ns() / 1000000; }
mp_uint_t mp_hal_ticks_us(void) { return monotonic_ns() / 1000; }
mp_uint_t mp_hal_ticks_cpu(void) { return (mp_uint_t)monotonic_ns(); }

void mp_hal_delay_us(mp_uint_t us) {
    uint64_t until = monotonic_ns() + (uint64_t)us * 1000;
    while (monotonic_ns() < until)
        block_until(until);
}

void mp_hal_delay_ms(mp_uint_t ms) { mp_hal_delay_us(ms * 1000); }
