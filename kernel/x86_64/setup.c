/* x86_64 PV bring-up: callbacks, trap table, shared_info, and page tables that map all
   of the domain's memory (Xen maps only the boot image plus a little padding). */
#include <string.h>
#include "kernel.h"
#include "hypercall.h"
#include <xen/callback.h>

#define PT_ENTRIES 512
#define _PAGE_PRESENT  0x001UL
#define _PAGE_RW       0x002UL
#define _PAGE_USER     0x004UL
#define _PAGE_ACCESSED 0x020UL
#define _PAGE_DIRTY    0x040UL
#define L1_PROT (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_USER)
#define L2_PROT (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_USER)
#define PTE_MFN(e) (((e) & 0x000ffffffffff000UL) >> PAGE_SHIFT)

extern char _text[], _end[], shared_info_page[], null_page[], stack_guard[];
extern void hypervisor_callback(void), failsafe_callback(void);
#define T(n) extern void trap_##n(void);
T(0) T(1) T(2) T(3) T(4) T(5) T(6) T(7) T(8) T(9) T(10) T(11) T(12) T(13) T(14) T(16) T(17) T(18) T(19)
#undef T

static start_info_t *si;
shared_info_t *HYPERVISOR_shared_info;
static unsigned long *p2m;          /* pfn -> mfn, from the loader */
static unsigned long nr_pages;

/* flags: DPL 3 for int3/into so they can be raised from our own ring; 0 otherwise */
static trap_info_t trap_table[] = {
    {0, 0, FLAT_KERNEL_CS, (unsigned long)trap_0},   {1, 0, FLAT_KERNEL_CS, (unsigned long)trap_1},
    {2, 0, FLAT_KERNEL_CS, (unsigned long)trap_2},   {3, 3, FLAT_KERNEL_CS, (unsigned long)trap_3},
    {4, 3, FLAT_KERNEL_CS, (unsigned long)trap_4},   {5, 0, FLAT_KERNEL_CS, (unsigned long)trap_5},
    {6, 0, FLAT_KERNEL_CS, (unsigned long)trap_6},   {7, 0, FLAT_KERNEL_CS, (unsigned long)trap_7},
    {8, 0, FLAT_KERNEL_CS, (unsigned long)trap_8},   {9, 0, FLAT_KERNEL_CS, (unsigned long)trap_9},
    {10, 0, FLAT_KERNEL_CS, (unsigned long)trap_10}, {11, 0, FLAT_KERNEL_CS, (unsigned long)trap_11},
    {12, 0, FLAT_KERNEL_CS, (unsigned long)trap_12}, {13, 0, FLAT_KERNEL_CS, (unsigned long)trap_13},
    {14, 0, FLAT_KERNEL_CS, (unsigned long)trap_14}, {16, 0, FLAT_KERNEL_CS, (unsigned long)trap_16},
    {17, 0, FLAT_KERNEL_CS, (unsigned long)trap_17}, {18, 0, FLAT_KERNEL_CS, (unsigned long)trap_18},
    {19, 0, FLAT_KERNEL_CS, (unsigned long)trap_19}, {0, 0, 0, 0},
};

unsigned long pfn_to_mfn(unsigned long pfn) { return p2m[pfn]; }

void *mfn_to_virt(unsigned long mfn) {
    unsigned long *m2p = (unsigned long *)MACH2PHYS_VIRT_START;
    return pfn_to_virt(m2p[mfn]);
}

static unsigned long *table_of(unsigned long entry) {
    return (unsigned long *)mfn_to_virt(PTE_MFN(entry));
}

static unsigned long machine_addr(const void *va) {
    return (pfn_to_mfn(virt_to_pfn(va)) << PAGE_SHIFT) | ((unsigned long)va & (PAGE_SIZE - 1));
}

static void set_pte(void *va, unsigned long pte) {
    if (HYPERVISOR_update_va_mapping((unsigned long)va, pte, UVMF_INVLPG))
        panic("update_va_mapping %p failed", va);
}

/* Map pfns [start, nr_pages) with new L1 tables taken from *next_free; capped at 1 GiB
   (one L2 table), which is far beyond what a unikernel is given. */
static void extend_page_tables(unsigned long *next_free) {
    unsigned long *l4 = (unsigned long *)si->pt_base;
    unsigned long *l3 = table_of(l4[0]);
    unsigned long *l2 = table_of(l3[0]);
    unsigned long i = 0;
    while (i < PT_ENTRIES && (l2[i] & _PAGE_PRESENT))
        i++;
    if (nr_pages > PT_ENTRIES * PT_ENTRIES) {
        printk("morgana: using 1 GiB of the domain's %lu MiB\n", nr_pages >> 8);
        nr_pages = PT_ENTRIES * PT_ENTRIES;
    }
    for (; i * PT_ENTRIES < nr_pages; i++) {
        unsigned long pt_pfn = (*next_free)++;
        unsigned long *pt = pfn_to_virt(pt_pfn);
        for (unsigned long j = 0; j < PT_ENTRIES; j++) {
            unsigned long pfn = i * PT_ENTRIES + j;
            pt[j] = pfn < nr_pages ? (pfn_to_mfn(pfn) << PAGE_SHIFT) | L1_PROT : 0;
        }
        /* Xen only accepts a page as a page table once no writable mapping of it exists */
        set_pte(pt, (pfn_to_mfn(pt_pfn) << PAGE_SHIFT) | (L1_PROT & ~_PAGE_RW));
        mmu_update_t u = { .ptr = machine_addr(&l2[i]) | MMU_NORMAL_PT_UPDATE,
                           .val = (pfn_to_mfn(pt_pfn) << PAGE_SHIFT) | L2_PROT };
        if (HYPERVISOR_mmu_update(&u, 1, NULL, DOMID_SELF))
            panic("mmu_update L2[%lu] failed", i);
    }
}

int arch_map_frame(void *va, unsigned long mfn) {
    return HYPERVISOR_update_va_mapping((unsigned long)va, (mfn << PAGE_SHIFT) | L1_PROT, UVMF_INVLPG);
}

static unsigned long max_ul(unsigned long a, unsigned long b) { return a > b ? a : b; }

void arch_init(void *boot_info) {
    si = boot_info;
    p2m = (unsigned long *)si->mfn_list;
    nr_pages = si->nr_pages;

    if (HYPERVISOR_set_callbacks((unsigned long)hypervisor_callback,
                                 (unsigned long)failsafe_callback, 0))
        early_write("set_callbacks failed\n", 21);
    if (HYPERVISOR_set_trap_table(trap_table))
        early_write("set_trap_table failed\n", 22);
    set_pte(shared_info_page, si->shared_info | L1_PROT);
    HYPERVISOR_shared_info = (shared_info_t *)shared_info_page;

    /* The first free frame follows everything the domain builder placed after the image:
       p2m list, start_info, xenstore and console pages, boot page tables, boot stack. */
    unsigned long next_free = PFN_UP(_end);
    next_free = max_ul(next_free, PFN_UP(si->mfn_list + si->nr_pages * sizeof(long)));
    next_free = max_ul(next_free, virt_to_pfn(si) + 1);
    next_free = max_ul(next_free, virt_to_pfn((void *)si->pt_base) + si->nr_pt_frames + 1);
    if (si->mod_start)
        next_free = max_ul(next_free, PFN_UP(si->mod_start + si->mod_len));
    if (!is_dom0()) {
        next_free = max_ul(next_free, virt_to_pfn(store_page()) + 1);
        next_free = max_ul(next_free, virt_to_pfn(console_page()) + 1);
    }
    next_free += 1;                 /* the loader's boot stack page */
    extend_page_tables(&next_free);
    set_pte(null_page, 0);          /* NULL dereferences now fault */
    set_pte(stack_guard, 0);        /* and so does a stack overflow */
    mm_init(next_free, nr_pages);
}

bool is_dom0(void) { return si->flags & SIF_INITDOMAIN; }
const char *boot_cmdline(void) { return (const char *)si->cmd_line; }
unsigned long boot_nr_pages(void) { return nr_pages; }
uint32_t store_evtchn(void) { return si->store_evtchn; }
void *store_page(void) { return is_dom0() ? NULL : mfn_to_virt(si->store_mfn); }
uint32_t console_evtchn(void) { return is_dom0() ? 0 : si->console.domU.evtchn; }
void *console_page(void) { return is_dom0() ? NULL : mfn_to_virt(si->console.domU.mfn); }

/* vcpu_time_info: read under its version counter (odd = being updated). */
uint64_t monotonic_ns(void) {
    volatile struct vcpu_time_info *t = &HYPERVISOR_shared_info->vcpu_info[0].time;
    uint32_t ver, mul;
    uint64_t tsc_ts, sys;
    int8_t shift;
    do {
        ver = t->version;
        rmb();
        tsc_ts = t->tsc_timestamp;
        sys = t->system_time;
        mul = t->tsc_to_system_mul;
        shift = t->tsc_shift;
        rmb();
    } while ((ver & 1) || ver != t->version);
    uint64_t delta = rdtsc() - tsc_ts;
    delta = shift < 0 ? delta >> -shift : delta << shift;
    return sys + (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}

domid_t my_domid(void) { return DOMID_SELF; }

static const char *const trap_names[] = {
    "divide error", "debug", "NMI", "int3", "overflow", "bounds", "invalid opcode",
    "device not available", "double fault", "coprocessor segment", "invalid TSS",
    "segment not present", "stack fault", "general protection", "page fault", "?",
    "x87 FPU error", "alignment check", "machine check", "SIMD FP error",
};

struct trap_frame {
    unsigned long r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    unsigned long vector, error, rip, cs, rflags, rsp, ss;
};

void do_trap(struct trap_frame *f) {
    printk("\n*** trap %lu (%s) at rip=%lx err=%lx rsp=%lx", f->vector,
           f->vector < 20 ? trap_names[f->vector] : "?", f->rip, f->error, f->rsp);
    if (f->vector == 14)
        printk(" addr=%lx", HYPERVISOR_shared_info->vcpu_info[0].arch.cr2);
    printk("\n    rax=%lx rbx=%lx rcx=%lx rdx=%lx rsi=%lx rdi=%lx rbp=%lx\n",
           f->rax, f->rbx, f->rcx, f->rdx, f->rsi, f->rdi, f->rbp);
    kernel_shutdown(SHUTDOWN_crash);
}

void do_failsafe(void *frame) {
    printk("\n*** failsafe callback (bad segment state), frame %p\n", frame);
    kernel_shutdown(SHUTDOWN_crash);
}

void do_hypervisor_callback(void) {
    evtchn_scan();
}

/* ---- entropy. RDSEED (a conditioned hardware source: reseeds a DRBG at full strength)
   when CPUID leaf 7 has it, else RDRAND (its DRBG's output). Both may fail transiently
   (carry clear): retried a bounded number of times, then the bytes we got are returned. */
static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
    asm volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

static int rd64(bool seed, uint64_t *v) {
    unsigned char ok;
    for (int i = 0; i < (seed ? 512 : 16); i++) {
        if (seed)
            asm volatile("rdseed %0; setc %1" : "=r"(*v), "=qm"(ok));
        else
            asm volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok));
        if (ok)
            return 1;
        asm volatile("pause");
    }
    return 0;
}

size_t arch_hw_random(uint8_t *buf, size_t n, const char **name) {
    uint32_t r[4];
    cpuid(0, 0, r);
    uint32_t max_leaf = r[0];
    bool seed = false, rand = false;
    if (max_leaf >= 7) {
        cpuid(7, 0, r);
        seed = (r[1] >> 18) & 1;
    }
    cpuid(1, 0, r);
    rand = (r[2] >> 30) & 1;
    *name = seed ? "rdseed" : rand ? "rdrand" : NULL;
    if (!seed && !rand)
        return 0;
    size_t got = 0;
    while (got < n) {
        uint64_t v;
        if (!rd64(seed, &v))
            break;
        size_t k = n - got < 8 ? n - got : 8;
        memcpy(buf + got, &v, k);
        got += k;
    }
    return got;
}

uint64_t arch_cycles(void) { return rdtsc(); }
