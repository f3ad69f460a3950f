// Included by extmod/modtime.c: time.time() from the Xen wallclock.
#include "kernel.h"

static mp_obj_t mp_time_time_get(void) {
    #if MICROPY_PY_BUILTINS_FLOAT
    return mp_obj_new_float((mp_float_t)wallclock_ns() / 1e9);
    #else
    return mp_obj_new_int_from_ull(wallclock_ns() / 1000000000ULL);
    #endif
}
