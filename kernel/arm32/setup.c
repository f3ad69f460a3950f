/* arm32 bring-up for Xen guests: shared_info and grant frames placed with
   XENMEM_add_to_physmap, xenstore/console from HVM params, the device tree for memory and
   the command line, the GIC for the event-channel PPI, the virtual generic timer for time
   and timeouts. The same kernel.h interface as x86_64, so common code is shared. */
#include "kernel.h"
#include "arch.h"
#include "layout.h"
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include "fdt.h"

#define RAM_PFN   (RAM_IPA >> PAGE_SHIFT)
#define MAGIC_PFN (MAGIC_IPA >> PAGE_SHIFT)
#define GNTTAB_PFN (GNTTAB_IPA >> PAGE_SHIFT)
#define GNTTAB_MAX 32
#define GICD(off) (*(volatile uint32_t *)(GIC_VA + 0x1000 + (off)))
#define GICC(off) (*(volatile uint32_t *)(GIC_VA + 0x2000 + (off)))
#define UART_DR   (*(volatile uint32_t *)(UART_VA + 0x00))
#define UART_FR   (*(volatile uint32_t *)(UART_VA + 0x18))

extern char _end[], shared_info_page[];
void kernel_start(void *boot_info);

shared_info_t *HYPERVISOR_shared_info;
static unsigned long nr_pages;           /* RAM pages from VA 0 */
static uint64_t store_pfn, store_port, cons_pfn, cons_port;
static char cmdline[1024];
static uint32_t cntfrq;
/* Output goes to the vpl011 when the device tree has one (dom0less guests: Xen prints it
   on its serial line unfiltered), else console_io until the PV console ring is up. */
static bool use_uart;

unsigned long pfn_to_mfn(unsigned long pfn) { return pfn + RAM_PFN; }

void *mfn_to_virt(unsigned long mfn) {
    if (mfn >= MAGIC_PFN && mfn < MAGIC_PFN + (MAGIC_MB << 8))
        return (void *)(MAGIC_VA + ((mfn - MAGIC_PFN) << PAGE_SHIFT));
    return pfn_to_virt(mfn - RAM_PFN);
}

static int add_to_physmap(unsigned int space, unsigned long idx, unsigned long gpfn) {
    struct xen_add_to_physmap a = { .domid = DOMID_SELF, .space = space, .idx = idx, .gpfn = gpfn };
    return HYPERVISOR_memory_op(XENMEM_add_to_physmap, &a);
}

/* Grant frames: pre-placed at GUEST_GNTTAB_BASE, so GNTTABOP_setup_table reports those
   frame numbers; mapping one at va moves it there. Xen maps a grant frame at one place
   only and onto an empty guest frame: unmap it, and give the RAM page at va back first. */
int arch_map_frame(void *va, unsigned long mfn) {
    if (mfn < GNTTAB_PFN || mfn >= GNTTAB_PFN + GNTTAB_MAX)
        return -1;
    xen_pfn_t gfn = pfn_to_mfn(virt_to_pfn(va));
    struct xen_memory_reservation r = { .nr_extents = 1, .extent_order = 0, .domid = DOMID_SELF };
    set_xen_guest_handle(r.extent_start, &gfn);
    struct xen_remove_from_physmap old = { .domid = DOMID_SELF, .gpfn = mfn };
    if (HYPERVISOR_memory_op(XENMEM_remove_from_physmap, &old))
        return -2;
    if (HYPERVISOR_memory_op(XENMEM_decrease_reservation, &r) != 1)
        return -3;
    int rc = add_to_physmap(XENMAPSPACE_grant_table, mfn - GNTTAB_PFN, gfn);
    asm volatile("dsb ish\n\tmcr p15, 0, %0, c8, c7, 0\n\tdsb ish\n\tisb" :: "r"(0) : "memory");
    return rc;
}

static uint64_t hvm_param(unsigned int index) {
    struct xen_hvm_param p = { .domid = DOMID_SELF, .index = index };
    return HYPERVISOR_hvm_op(HVMOP_get_param, &p) ? 0 : p.value;
}

static uint64_t cntvct(void) {
    uint32_t lo, hi;
    asm volatile("isb\n\tmrrc p15, 1, %0, %1, c14" : "=r"(lo), "=r"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* ns since the domain was created (Xen sets the virtual counter's offset then) */
uint64_t monotonic_ns(void) {
    uint64_t t = cntvct();
    return t / cntfrq * 1000000000ULL + t % cntfrq * 1000000000ULL / cntfrq;
}

static uint64_t ns_to_ticks(uint64_t ns) {
    return ns / 1000000000ULL * cntfrq + ns % 1000000000ULL * cntfrq / 1000000000ULL;
}

int arch_set_timer(uint64_t deadline_ns) {
    if (!deadline_ns) {
        asm volatile("mcr p15, 0, %0, c14, c3, 1" :: "r"(0));          /* CNTV_CTL off */
        return 0;
    }
    uint64_t t = ns_to_ticks(deadline_ns);
    asm volatile("mcrr p15, 3, %0, %1, c14" :: "r"((uint32_t)t), "r"((uint32_t)(t >> 32)));
    asm volatile("mcr p15, 0, %0, c14, c3, 1\n\tisb" :: "r"(1));     /* enable, unmasked */
    return 0;
}

/* WFI wakes on any pending virtual interrupt, masked or not (Xen blocks the vCPU until
   one is): then acknowledge what the GIC holds. The timer is one-shot; the event PPI is
   re-raised by Xen while evtchn_upcall_pending is set, so scan before the EOI. */
void arch_wait(void) {
    asm volatile("dsb\n\twfi" ::: "memory");
    for (;;) {
        uint32_t iar = GICC(0x0c);
        uint32_t irq = iar & 0x3ff;
        if (irq >= 1020)
            break;
        if (irq == GUEST_VTIMER_PPI_NR)
            asm volatile("mcr p15, 0, %0, c14, c3, 1" :: "r"(2));      /* masked, off */
        else if (irq == GUEST_EVTCHN_PPI_NR)
            evtchn_scan();
        GICC(0x10) = iar;
    }
}

long arch_console_io(int cmd, unsigned long n, const char *s) {
    if (!use_uart || cmd != CONSOLEIO_write)
        return _hypercall3(__HYPERVISOR_console_io, cmd, n, s);
    for (unsigned long i = 0; i < n; i++) {
        while (UART_FR & (1 << 5))       /* TX FIFO full */
            ;
        UART_DR = (unsigned char)s[i];
    }
    return 0;
}

static void gic_init(void) {
    GICD(0x000) = 1;                                      /* distributor on */
    GICD(0x100) = (1u << GUEST_EVTCHN_PPI_NR) | (1u << GUEST_VTIMER_PPI_NR);
    GICC(0x004) = 0xff;                                   /* priority mask: all */
    GICC(0x000) = 1;                                      /* CPU interface on */
}

/* The device tree Xen wrote: RAM size and our command line. */
static void read_device_tree(const void *fdt) {
    uint64_t base = 0, size = 0;
    const char *args;
    if (!fdt || fdt_memory(fdt, &base, &size) || base != RAM_IPA)
        panic("no usable /memory in the device tree at %p", fdt);
    nr_pages = size >> PAGE_SHIFT;
    use_uart = fdt_has_node(fdt, "sbsa-uart@");
    if (nr_pages > ((unsigned long)RAM_MAX_MB << 8))
        nr_pages = (unsigned long)RAM_MAX_MB << 8;
    if ((args = fdt_chosen_bootargs(fdt)) != NULL) {
        size_t i = 0;
        for (; args[i] && i < sizeof(cmdline) - 1; i++)
            cmdline[i] = args[i];
        cmdline[i] = 0;
    }
}

void arch_init(void *boot_info) {
    asm volatile("mrc p15, 0, %0, c14, c0, 0" : "=r"(cntfrq));
    read_device_tree(boot_info);
    if (add_to_physmap(XENMAPSPACE_shared_info, 0, pfn_to_mfn(virt_to_pfn(shared_info_page))))
        panic("cannot map shared_info");
    HYPERVISOR_shared_info = (shared_info_t *)shared_info_page;
    store_pfn = hvm_param(HVM_PARAM_STORE_PFN);
    store_port = hvm_param(HVM_PARAM_STORE_EVTCHN);
    cons_pfn = hvm_param(HVM_PARAM_CONSOLE_PFN);
    cons_port = hvm_param(HVM_PARAM_CONSOLE_EVTCHN);
    for (unsigned long i = 0; i < 4; i++)                /* common/gnttab.c's frames */
        if (add_to_physmap(XENMAPSPACE_grant_table, i, GNTTAB_PFN + i))
            printk("morgana: grant frame %lu not placed\n", i);
    gic_init();
    mm_init(PFN_UP(_end), nr_pages);
}

/* From head.S with the MMU on: r0 = device tree IPA. */
void arm32_start(unsigned long fdt_ipa) {
    void *fdt = fdt_ipa >= RAM_IPA && fdt_ipa < RAM_IPA + ((unsigned long)RAM_MAX_MB << 20)
                ? (void *)(fdt_ipa - RAM_IPA) : NULL;
    kernel_start(fdt);
}

bool is_dom0(void) { return false; }     /* a unikernel is never the hardware domain here */
const char *boot_cmdline(void) { return cmdline; }
unsigned long boot_nr_pages(void) { return nr_pages; }
uint32_t store_evtchn(void) { return store_port; }
void *store_page(void) { return store_pfn ? mfn_to_virt(store_pfn) : NULL; }
uint32_t console_evtchn(void) { return cons_port; }
void *console_page(void) { return cons_pfn ? mfn_to_virt(cons_pfn) : NULL; }
domid_t my_domid(void) { return DOMID_SELF; }

static const char *const trap_names[] = { "reset", "undefined instruction", "svc",
                                          "prefetch abort", "data abort", "?", "irq", "fiq" };

void arm32_trap(unsigned int kind, unsigned long *regs) {
    uint32_t dfar, dfsr, ifar, ifsr;
    asm volatile("mrc p15, 0, %0, c6, c0, 0" : "=r"(dfar));
    asm volatile("mrc p15, 0, %0, c5, c0, 0" : "=r"(dfsr));
    asm volatile("mrc p15, 0, %0, c6, c0, 2" : "=r"(ifar));
    asm volatile("mrc p15, 0, %0, c5, c0, 1" : "=r"(ifsr));
    printk("\n*** trap: %s at lr=%lx dfar=%lx dfsr=%lx ifar=%lx ifsr=%lx\n",
           trap_names[kind & 7], regs[13], (unsigned long)dfar, (unsigned long)dfsr,
           (unsigned long)ifar, (unsigned long)ifsr);
    printk("    r0=%lx r1=%lx r2=%lx r3=%lx r4=%lx r5=%lx r6=%lx r7=%lx\n",
           regs[0], regs[1], regs[2], regs[3], regs[4], regs[5], regs[6], regs[7]);
    kernel_shutdown(SHUTDOWN_crash);
}

/* libgcc's division helpers report a zero divisor here (its Linux build would raise()). */
int __aeabi_idiv0(int r) { panic("integer division by zero"); return r; }
long long __aeabi_ldiv0(long long r) { panic("integer division by zero"); return r; }

/* ---- entropy: ARMv7 has no random-number instruction (docs/design.md says what the
   image uses instead); the virtual counter serves timer jitter. */
size_t arch_hw_random(uint8_t *buf, size_t n, const char **name) {
    (void)buf;
    (void)n;
    *name = NULL;
    return 0;
}

uint64_t arch_cycles(void) { return cntvct(); }
