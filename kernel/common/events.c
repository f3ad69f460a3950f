/* Event channels (2-level ABI) and idling. The upcall, and Python via _xen.pending(),
   move Xen's pending bits into our own set; Python decides what each port means. */
#include "kernel.h"
#include "arch.h"

/* Xen's event words are xen_ulong_t: 64-bit on x86_64 and on arm32 alike. */
#define WORD_BITS (sizeof(xen_ulong_t) * 8)
#define NR_PORTS  EVTCHN_NR_PORTS
_Static_assert(NR_PORTS == WORD_BITS * WORD_BITS, "2-level event channel ABI");
_Static_assert(sizeof(((shared_info_t *)0)->evtchn_mask) * 8 == NR_PORTS,
               "one mask bit per port in shared_info");
/* every port we touch by hand must pass this: the bit arrays end at NR_PORTS */
#define BAD_PORT(p) ((p) == 0 || (p) >= NR_PORTS)
#define BIT(b)    ((xen_ulong_t)1 << (b))
static volatile xen_ulong_t our_pending[NR_PORTS / WORD_BITS];
static uint32_t timer_port;

void evtchn_scan(void) {
    shared_info_t *s = HYPERVISOR_shared_info;
    vcpu_info_t *v = &s->vcpu_info[0];
    v->evtchn_upcall_pending = 0;
    mb();
    xen_ulong_t sel = xchg_xen_ulong(&v->evtchn_pending_sel, 0);
    while (sel) {
        unsigned int w = __builtin_ctzll(sel);
        sel &= sel - 1;
        xen_ulong_t bits = s->evtchn_pending[w] & ~s->evtchn_mask[w];
        while (bits) {
            unsigned int b = __builtin_ctzll(bits);
            bits &= bits - 1;
            sync_clear_bit(b, &s->evtchn_pending[w]);
            our_pending[w] |= BIT(b);
        }
    }
}

bool evtchn_any_pending(void) {
    evtchn_scan();
    for (unsigned int w = 0; w < NR_PORTS / WORD_BITS; w++)
        if (our_pending[w])
            return true;
    return false;
}

/* Hands out pending ports (the timer's own port is consumed here, it only wakes us). */
int evtchn_take_pending(uint32_t *ports, int max) {
    int n = 0;
    evtchn_scan();
    our_pending[timer_port / WORD_BITS] &= ~BIT(timer_port % WORD_BITS);
    for (unsigned int w = 0; w < NR_PORTS / WORD_BITS && n < max; w++) {
        while (our_pending[w] && n < max) {
            unsigned int b = __builtin_ctzll(our_pending[w]);
            our_pending[w] &= ~BIT(b);
            ports[n++] = w * WORD_BITS + b;
        }
    }
    return n;
}

int evtchn_alloc_unbound(domid_t remote, uint32_t *port) {
    evtchn_alloc_unbound_t op = { .dom = DOMID_SELF, .remote_dom = remote };
    int rc = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &op);
    if (rc == 0) {
        *port = op.port;
        evtchn_unmask(op.port);
    }
    return rc;
}

int evtchn_bind_virq(uint32_t virq, uint32_t *port) {
    evtchn_bind_virq_t op = { .virq = virq, .vcpu = 0 };
    int rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &op);
    if (rc == 0) {
        *port = op.port;
        evtchn_unmask(op.port);
    }
    return rc;
}

int evtchn_notify(uint32_t port) {
    if (BAD_PORT(port))
        return -KERNEL_EINVAL;
    evtchn_send_t op = { .port = port };
    return HYPERVISOR_event_channel_op(EVTCHNOP_send, &op);
}

int evtchn_mask(uint32_t port) {
    if (BAD_PORT(port))
        return -KERNEL_EINVAL;
    sync_set_bit(port % WORD_BITS, &HYPERVISOR_shared_info->evtchn_mask[port / WORD_BITS]);
    return 0;
}

int evtchn_unmask(uint32_t port) {
    if (BAD_PORT(port))
        return -KERNEL_EINVAL;
    /* the hypercall re-raises the upcall if the port became pending while masked */
    evtchn_unmask_t op = { .port = port };
    return HYPERVISOR_event_channel_op(EVTCHNOP_unmask, &op);
}

int evtchn_close(uint32_t port) {
    if (BAD_PORT(port))
        return -KERNEL_EINVAL;
    evtchn_close_t op = { .port = port };
    int rc = HYPERVISOR_event_channel_op(EVTCHNOP_close, &op);
    if (rc == 0)            /* a latched event of the old channel is not the next one's */
        our_pending[port / WORD_BITS] &= ~BIT(port % WORD_BITS);
    return rc;
}

/* The ports the kernel itself depends on: closing (or masking) the timer's would leave
   block_until() asleep for good, closing the console's would silence the C writer. */
const char *evtchn_kernel_use(uint32_t port) {
    if (port == timer_port)
        return "timer";
    if (console_page() && port == console_evtchn())
        return "console";
    return NULL;
}

void events_init(void) {
#ifdef __x86_64__
    HYPERVISOR_shared_info->vcpu_info[0].evtchn_upcall_mask = 1;  /* see block_until */
#endif
    if (evtchn_bind_virq(VIRQ_TIMER, &timer_port))
        panic("cannot bind VIRQ_TIMER");
}

/* Sleep until an event arrives or the deadline (Xen system time) passes. On x86 PV,
   SCHEDOP_block unmasks upcalls and blocks atomically, so a wakeup between our check and
   the block is not lost; the upcall then runs, and leaves events masked again. (Arm has
   no upcall mask: its SCHEDOP_block is a wfi with interrupts masked, see kernel/arm32.) */
static void block_now(uint64_t deadline_ns) {
    HYPERVISOR_set_timer_op(deadline_ns);
    HYPERVISOR_sched_op(SCHEDOP_block, 0);
#ifdef __x86_64__
    HYPERVISOR_shared_info->vcpu_info[0].evtchn_upcall_mask = 1;
#endif
    evtchn_scan();
}

void block_until(uint64_t deadline_ns) {
    if (evtchn_any_pending())
        return;
    if (deadline_ns && deadline_ns <= monotonic_ns())
        return;
    block_now(deadline_ns);
}

/* The same, but woken only by `port` (taken) or the deadline: the REPL's wait for console
   input. While the REPL holds the CPU no scheduler takes the other ports (a xenstore
   watch's, say); block_until would return at once for ever, spinning the vCPU. They stay
   in our set: scanning cleared Xen's bits, so the next block does sleep. */
void block_for_port(uint32_t port, uint64_t deadline_ns) {
    evtchn_scan();
    if (!BAD_PORT(port) && (our_pending[port / WORD_BITS] & BIT(port % WORD_BITS))) {
        our_pending[port / WORD_BITS] &= ~BIT(port % WORD_BITS);
        return;
    }
    if (deadline_ns && deadline_ns <= monotonic_ns())
        return;
    block_now(deadline_ns);
}
