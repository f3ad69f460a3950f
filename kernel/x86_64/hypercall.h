/* x86_64 PV hypercalls: call into the hypercall page, args in rdi rsi rdx r10 r8. */
#ifndef MORGANA_X86_64_HYPERCALL_H
#define MORGANA_X86_64_HYPERCALL_H
#include <stdint.h>

extern char hypercall_page[];

#define HC_STUB(nr) (hypercall_page + (nr) * 32)

static inline long _hypercall2(int nr, unsigned long a1, unsigned long a2) {
    long ret;
    register unsigned long rdi asm("rdi") = a1, rsi asm("rsi") = a2;
    asm volatile("call *%[f]" : "=a"(ret), "+r"(rdi), "+r"(rsi)
                 : [f] "r"(HC_STUB(nr)) : "memory", "rcx", "r11", "rdx", "r8", "r9", "r10");
    return ret;
}

static inline long _hypercall3(int nr, unsigned long a1, unsigned long a2, unsigned long a3) {
    long ret;
    register unsigned long rdi asm("rdi") = a1, rsi asm("rsi") = a2, rdx asm("rdx") = a3;
    asm volatile("call *%[f]" : "=a"(ret), "+r"(rdi), "+r"(rsi), "+r"(rdx)
                 : [f] "r"(HC_STUB(nr)) : "memory", "rcx", "r11", "r8", "r9", "r10");
    return ret;
}

static inline long _hypercall4(int nr, unsigned long a1, unsigned long a2, unsigned long a3,
                               unsigned long a4) {
    long ret;
    register unsigned long rdi asm("rdi") = a1, rsi asm("rsi") = a2, rdx asm("rdx") = a3;
    register unsigned long r10 asm("r10") = a4;
    asm volatile("call *%[f]" : "=a"(ret), "+r"(rdi), "+r"(rsi), "+r"(rdx), "+r"(r10)
                 : [f] "r"(HC_STUB(nr)) : "memory", "rcx", "r11", "r8", "r9");
    return ret;
}

#define HYPERVISOR_sched_op(cmd, arg)      _hypercall2(__HYPERVISOR_sched_op, (cmd), (unsigned long)(arg))
#define HYPERVISOR_event_channel_op(c, a)  _hypercall2(__HYPERVISOR_event_channel_op, (c), (unsigned long)(a))
#define HYPERVISOR_console_io(c, n, s)     _hypercall3(__HYPERVISOR_console_io, (c), (n), (unsigned long)(s))
#define HYPERVISOR_set_timer_op(t)         _hypercall2(__HYPERVISOR_set_timer_op, (t), 0)
#define HYPERVISOR_grant_table_op(c, a, n) _hypercall3(__HYPERVISOR_grant_table_op, (c), (unsigned long)(a), (n))
#define HYPERVISOR_memory_op(c, a)         _hypercall2(__HYPERVISOR_memory_op, (c), (unsigned long)(a))
#define HYPERVISOR_set_trap_table(t)       _hypercall2(__HYPERVISOR_set_trap_table, (unsigned long)(t), 0)
#define HYPERVISOR_set_callbacks(e, f, s)  _hypercall3(__HYPERVISOR_set_callbacks, (e), (f), (s))
#define HYPERVISOR_update_va_mapping(va, pte, fl) \
    _hypercall3(__HYPERVISOR_update_va_mapping, (va), (pte), (fl))
#define HYPERVISOR_mmu_update(req, n, done, dom) \
    _hypercall4(__HYPERVISOR_mmu_update, (unsigned long)(req), (n), (unsigned long)(done), (dom))

static inline void mb(void)  { asm volatile("mfence" ::: "memory"); }
static inline void rmb(void) { asm volatile("lfence" ::: "memory"); }
static inline void wmb(void) { asm volatile("sfence" ::: "memory"); }

static inline uint64_t rdtsc(void) {
    uint32_t lo, hi;
    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* Atomically exchange / clear a bit: the hypervisor writes the same words concurrently. */
static inline unsigned long xchg_ulong(volatile unsigned long *p, unsigned long v) {
    asm volatile("xchg %0, %1" : "+r"(v), "+m"(*p) :: "memory");
    return v;
}
#define xchg_xen_ulong xchg_ulong            /* xen_ulong_t is unsigned long here */
static inline void sync_clear_bit(unsigned int bit, volatile unsigned long *word) {
    asm volatile("lock btr %1, %0" : "+m"(*word) : "Ir"((unsigned long)bit) : "memory");
}
static inline void sync_set_bit(unsigned int bit, volatile unsigned long *word) {
    asm volatile("lock bts %1, %0" : "+m"(*word) : "Ir"((unsigned long)bit) : "memory");
}
static inline uint16_t cmpxchg_u16(volatile uint16_t *p, uint16_t old, uint16_t new) {
    uint16_t prev;
    asm volatile("lock cmpxchgw %2, %1" : "=a"(prev), "+m"(*p) : "r"(new), "0"(old) : "memory");
    return prev;
}
#endif
