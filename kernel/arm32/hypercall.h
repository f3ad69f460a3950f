/* arm32 hypercalls: `hvc #0xEA1`, number in r12, arguments in r0-r4, result in r0; Xen
   clobbers r12 and the argument registers it used. Barriers and atomics for memory
   shared with Xen and backends (which must be Normal WB inner-shareable: see head.S). */
#ifndef MORGANA_ARM32_HYPERCALL_H
#define MORGANA_ARM32_HYPERCALL_H
#include <stdint.h>
#include "xen.h"

static inline long _hypercall5(int nr, unsigned long a1, unsigned long a2, unsigned long a3,
                               unsigned long a4, unsigned long a5) {
    register unsigned long r0 asm("r0") = a1, r1 asm("r1") = a2, r2 asm("r2") = a3;
    register unsigned long r3 asm("r3") = a4, r4 asm("r4") = a5, r12 asm("r12") = nr;
    asm volatile(".arch_extension virt\n\thvc #0xEA1"
                 : "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r3), "+r"(r4), "+r"(r12) :: "memory");
    return (long)r0;
}
#define _hypercall2(nr, a, b)       _hypercall5(nr, (unsigned long)(a), (unsigned long)(b), 0, 0, 0)
#define _hypercall3(nr, a, b, c)    _hypercall5(nr, (unsigned long)(a), (unsigned long)(b), (unsigned long)(c), 0, 0)

/* No PV timer or SCHEDOP_block on Arm (xen/arch-arm.h): common code's "set the timer,
   then block" becomes "program the virtual generic timer, then WFI" (setup.c). */
int arch_set_timer(uint64_t deadline_ns);
void arch_wait(void);
long arch_console_io(int cmd, unsigned long n, const char *s);
static inline long arch_sched_op(int cmd, unsigned long arg) {
    if (cmd == SCHEDOP_block) {
        arch_wait();
        return 0;
    }
    return _hypercall2(__HYPERVISOR_sched_op, cmd, arg);
}

#define HYPERVISOR_sched_op(cmd, arg)      arch_sched_op((cmd), (unsigned long)(arg))
#define HYPERVISOR_set_timer_op(t)         arch_set_timer(t)
#define HYPERVISOR_event_channel_op(c, a)  _hypercall2(__HYPERVISOR_event_channel_op, (c), (a))
#define HYPERVISOR_console_io(c, n, s)     arch_console_io((c), (n), (const char *)(s))
#define HYPERVISOR_grant_table_op(c, a, n) _hypercall3(__HYPERVISOR_grant_table_op, (c), (a), (n))
#define HYPERVISOR_memory_op(c, a)         _hypercall2(__HYPERVISOR_memory_op, (c), (a))
#define HYPERVISOR_hvm_op(c, a)            _hypercall2(__HYPERVISOR_hvm_op, (c), (a))
#define HYPERVISOR_xen_version(c, a)       _hypercall2(__HYPERVISOR_xen_version, (c), (a))

static inline void mb(void)  { asm volatile("dmb ish" ::: "memory"); }
static inline void rmb(void) { asm volatile("dmb ish" ::: "memory"); }
static inline void wmb(void) { asm volatile("dmb ishst" ::: "memory"); }

/* Xen writes the same words concurrently: exclusive load/store loops. The event words
   (evtchn_pending, evtchn_mask, evtchn_pending_sel) are xen_ulong_t, 64-bit on arm32. */
static inline uint64_t xchg_xen_ulong(volatile uint64_t *p, uint64_t v) {
    uint64_t old;
    unsigned long fail;
    mb();
    do {
        asm volatile("ldrexd %Q0, %R0, [%2]\n\tstrexd %1, %Q3, %R3, [%2]"
                     : "=&r"(old), "=&r"(fail) : "r"(p), "r"(v) : "memory");
    } while (fail);
    mb();
    return old;
}
static inline void sync_clear_bit(unsigned int bit, volatile uint64_t *word) {
    /* little-endian: bit b of the 64-bit word is bit b%32 of 32-bit half b/32 */
    volatile unsigned long *w = (volatile unsigned long *)word + bit / 32;
    unsigned long v, fail;
    mb();
    do {
        asm volatile("ldrex %0, [%2]\n\tbic %0, %0, %3\n\tstrex %1, %0, [%2]"
                     : "=&r"(v), "=&r"(fail) : "r"(w), "r"(1UL << (bit % 32)) : "memory");
    } while (fail);
    mb();
}
static inline void sync_set_bit(unsigned int bit, volatile uint64_t *word) {
    volatile unsigned long *w = (volatile unsigned long *)word + bit / 32;
    unsigned long v, fail;
    mb();
    do {
        asm volatile("ldrex %0, [%2]\n\torr %0, %0, %3\n\tstrex %1, %0, [%2]"
                     : "=&r"(v), "=&r"(fail) : "r"(w), "r"(1UL << (bit % 32)) : "memory");
    } while (fail);
    mb();
}
static inline uint16_t cmpxchg_u16(volatile uint16_t *p, uint16_t old, uint16_t new) {
    unsigned long prev, fail;
    mb();
    do {
        asm volatile("ldrexh %0, [%2]\n\tmov %1, #0\n\tteq %0, %3\n\tit eq\n\tstrexheq %1, %4, [%2]"
                     : "=&r"(prev), "=&r"(fail) : "r"(p), "r"((unsigned long)old),
                       "r"((unsigned long)new) : "memory", "cc");
    } while (fail);
    mb();
    return prev;
}
#endif
