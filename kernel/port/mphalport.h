// MicroPython HAL for the Morgana kernel: console I/O and time come from Xen.
#include <stdint.h>
#include <stddef.h>
#include "py/mpconfig.h"

uint64_t mp_hal_time_ns(void);
mp_uint_t mp_hal_ticks_ms(void);
mp_uint_t mp_hal_ticks_us(void);
mp_uint_t mp_hal_ticks_cpu(void);
void mp_hal_delay_ms(mp_uint_t ms);
void mp_hal_delay_us(mp_uint_t us);
static inline void mp_hal_set_interrupt_char(int c) { (void)c; }
