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

/* Synchronous output: waits for ring space (boot, shutdown, the REPL). */
static void write_sync(const char *s, size_t n) {
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

/* Asynchronous output, while the scheduler runs (console_pump): a write never waits for
   xenconsoled, which would stall every task behind a log line. What the ring cannot take
   waits in `spill`. When that is full too, its oldest whole lines make room: the end of a
   burst (the last words before a crash) matters more than its middle, and the gap is
   always at the head of `spill`, where a "[console: N bytes dropped]" line goes once the
   ring has room for it. Notifications are batched: xenconsoled stops reading a domain for
   the rest of a 200 ms period once it has sent 30 events in it, so at most one per
   NOTIFY_NS. */
#define SPILL_SIZE 16384                    /* a power of two */
#define SPILL_MASK (SPILL_SIZE - 1)
#define NOTIFY_NS 10000000ULL
static char spill[SPILL_SIZE];
static uint32_t spill_head, spill_tail;     /* free-running, tail - head = bytes held */
static uint64_t dropped, last_notify;
static bool async_mode, dirty;

static uint32_t ring_space(void) {
    return sizeof(ring->out) - (ring->out_prod - ring->out_cons);
}

/* c into the ring at *prod (published by the caller), or else into `spill` */
static void put_async(XENCONS_RING_IDX *prod, char c) {
    if (spill_tail == spill_head && *prod - ring->out_cons < sizeof(ring->out)) {
        ring->out[MASK_XENCONS_IDX((*prod)++, ring->out)] = c;
        return;
    }
    if (spill_tail - spill_head == SPILL_SIZE) {
        /* drop the oldest line (all of it, up to and including its LF) */
        uint32_t h = spill_head;
        while (h != spill_tail && spill[h++ & SPILL_MASK] != '\n')
            ;
        dropped += h - spill_head;
        spill_head = h;
    }
    spill[spill_tail++ & SPILL_MASK] = c;
}

static void write_async(const char *s, size_t n) {
    XENCONS_RING_IDX prod = ring->out_prod;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
            put_async(&prod, '\r');
        put_async(&prod, s[i]);
    }
    if (prod != ring->out_prod) {
        wmb();          /* xenconsoled sees the bytes before the index (once per write) */
        ring->out_prod = prod;
        dirty = true;
    }
}

/* The drop report first (it stands where the lost bytes were), then spilled bytes, as
   many as the ring takes. */
static void drain_spill(void) {
    XENCONS_RING_IDX prod = ring->out_prod;
    if (dropped) {
        /* formatted by hand: the arm32 selftest links this file without the runtime's
           printf family */
        static const char head[] = "\r\n[console: ", tail[] = " bytes dropped]\r\n";
        char digits[20];
        int nd = 0;
        for (uint64_t v = dropped; v || !nd; v /= 10)
            digits[nd++] = '0' + v % 10;
        if (ring_space() < sizeof(head) - 1 + nd + sizeof(tail) - 1)
            return;
        for (const char *c = head; *c; c++)
            ring->out[MASK_XENCONS_IDX(prod++, ring->out)] = *c;
        while (nd)
            ring->out[MASK_XENCONS_IDX(prod++, ring->out)] = digits[--nd];
        for (const char *c = tail; *c; c++)
            ring->out[MASK_XENCONS_IDX(prod++, ring->out)] = *c;
        dropped = 0;
        dirty = true;
    }
    while (spill_head != spill_tail && prod - ring->out_cons < sizeof(ring->out)) {
        ring->out[MASK_XENCONS_IDX(prod++, ring->out)] = spill[spill_head++ & SPILL_MASK];
        dirty = true;
    }
    wmb();
    ring->out_prod = prod;
}

uint64_t console_pump(void) {
    if (!ring)
        return 0;
    async_mode = true;
    drain_spill();
    uint64_t now = monotonic_ns();
    if (dirty) {
        if (now - last_notify < NOTIFY_NS)
            return last_notify + NOTIFY_NS;
        evtchn_notify(port);
        last_notify = now;
        dirty = false;
    }
    /* waiting for xenconsoled to make room: it notifies us as it reads, but look again
       anyway in case it is holding back (rate limit) */
    return spill_head != spill_tail || dropped ? now + NOTIFY_NS : 0;
}

void console_sync(void) {
    if (!ring || !async_mode)
        return;
    async_mode = false;
    uint64_t give_up = monotonic_ns() + 2000000000ULL;
    while (spill_head != spill_tail || dropped) {
        uint32_t head = spill_head;
        uint64_t lost = dropped;
        drain_spill();
        evtchn_notify(port);
        if (spill_head != head || dropped != lost) {
            give_up = monotonic_ns() + 2000000000ULL;
        } else if (monotonic_ns() > give_up) {
            spill_head = spill_tail;        /* nobody reads: give up, as write_sync does */
            dropped = 0;
        } else {
            HYPERVISOR_sched_op(SCHEDOP_yield, 0);
        }
    }
    /* what fit in the ring at once was never notified (pumps batch that): do it now, or
       a REPL's banner and prompt sit in the ring unseen while it waits for input */
    if (dirty)
        evtchn_notify(port);
    dirty = false;
}

void console_write(const char *s, size_t n) {
    if (!ring)
        early_write(s, n);
    else if (async_mode)
        write_async(s, n);
    else
        write_sync(s, n);
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
    console_sync();
    uint64_t give_up = monotonic_ns() + 1000000000ULL;
    evtchn_notify(port);
    while (ring->out_cons != ring->out_prod && monotonic_ns() < give_up)
        HYPERVISOR_sched_op(SCHEDOP_yield, 0);
}
