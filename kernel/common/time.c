/* Wallclock time, the same on every arch: Xen keeps the Unix time of system-time zero in
   shared_info, under a version counter (odd while it is being updated). */
#include "kernel.h"
#include "arch.h"

uint64_t wallclock_ns(void) {
    volatile shared_info_t *s = HYPERVISOR_shared_info;
    uint32_t ver;
    uint64_t sec, nsec;
    do {
        ver = s->wc_version;
        rmb();
        sec = s->wc_sec | ((uint64_t)s->wc_sec_hi << 32);
        nsec = s->wc_nsec;
        rmb();
    } while ((ver & 1) || ver != s->wc_version);
    return sec * 1000000000ULL + nsec + monotonic_ns();
}
