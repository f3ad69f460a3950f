/* The PV console: a pair of byte rings shared with xenconsoled (dom0 reads `out`, writes
   `in`). Dom0 itself has no ring and uses console_io, which reaches Xen's serial line. */
#include "kernel.h"
#include "arch.h"

static struct xencons_interface *ring;
static uint32_t port;

void early_write(const char *s, size_t n) {
    HYPERVISOR_console_io(CONSOLEIO_write, n, s);
}

void console_init(void) {
    ring = console_page();
    port = console_evtchn();
}

/* Wait (bounded) for xenconsoled to drain the ring; with no reader we drop output
   rather than hang the unikernel. */
static bool wait_for_space(void) {
    uint64_t give_up = monotonic_ns() + 2000000000ULL;
    while (ring->out_prod - ring->out_cons >= sizeof(ring->out)) {
        evtchn_notify(port);
        if (monotonic_ns() > give_up)
            return false;
        HYPERVISOR_sched_op(SCHEDOP_yield, 0);
    }
    return true;
}

void console_write(const char *s, size_t n) {
    if (!ring) {
        early_write(s, n);
        return;
    }
    XENCONS_RING_IDX prod = ring->out_prod;
    for (size_t i = 0; i < n; i++) {
        if (prod - ring->out_cons >= sizeof(ring->out)) {
            wmb();
            ring->out_prod = prod;
            if (!wait_for_space())
                return;
        }
        /* xenconsoled passes bytes through; terminals want CRLF */
        if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) {
            ring->out[MASK_XENCONS_IDX(prod++, ring->out)] = '\r';
            if (prod - ring->out_cons >= sizeof(ring->out)) {
                wmb();
                ring->out_prod = prod;
                if (!wait_for_space())
                    return;
            }
        }
        ring->out[MASK_XENCONS_IDX(prod++, ring->out)] = s[i];
    }
    wmb();
    ring->out_prod = prod;
    evtchn_notify(port);
}

int console_read(char *buf, size_t max) {
    if (!ring)
        return 0;
    XENCONS_RING_IDX cons = ring->in_cons, prod = ring->in_prod;
    rmb();
    if (prod - cons > sizeof(ring->in))     /* a lying producer: drop what it claims */
        cons = prod;
    size_t n = 0;
    while (cons != prod && n < max)
        buf[n++] = ring->in[MASK_XENCONS_IDX(cons++, ring->in)];
    mb();
    ring->in_cons = cons;
    if (n)
        evtchn_notify(port);
    return n;
}

/* Before shutting down, give xenconsoled a moment to read everything we wrote. */
void console_flush(void) {
    if (!ring)
        return;
    uint64_t give_up = monotonic_ns() + 1000000000ULL;
    evtchn_notify(port);
    while (ring->out_cons != ring->out_prod && monotonic_ns() < give_up)
        HYPERVISOR_sched_op(SCHEDOP_yield, 0);
}
