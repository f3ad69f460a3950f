/* Boot-layer self-test for arm32, without MicroPython: runs the arch code and the common
   console/events/memory code, checks each step and prints one verdict line that the rig
   (tests/arm/test_arm32_boot.py) waits for. */
#include <stdarg.h>
#include <string.h>
#include "kernel.h"
#include "arch.h"
#include "../layout.h"
#include <xen/version.h>

static int failures;

/* ---- just enough libc and printk for a kernel without MicroPython ---- */
void *memset(void *s, int c, size_t n) { unsigned char *p = s; while (n--) *p++ = c; return s; }
void *memcpy(void *d, const void *s, size_t n) {
    unsigned char *a = d; const unsigned char *b = s; while (n--) *a++ = *b++; return d;
}
size_t strlen(const char *s) { size_t n = 0; while (s[n]) n++; return n; }
int strcmp(const char *a, const char *b) {
    while (*a && *a == *b) a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}
int strncmp(const char *a, const char *b, size_t n) {
    for (; n; n--, a++, b++) if (*a != *b || !*a) return (unsigned char)*a - (unsigned char)*b;
    return 0;
}

static void put(const char *s, size_t n) { console_write(s, n); }

static void put_num(unsigned long long v, unsigned base) {
    char buf[24];
    int i = sizeof(buf);
    do { buf[--i] = "0123456789abcdef"[v % base]; v /= base; } while (v);
    put(buf + i, sizeof(buf) - i);
}

static int vprintk(const char *fmt, va_list ap) {
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') { put(p, 1); continue; }
        int lng = 0;
        while (*++p == 'l') lng++;
        switch (*p) {
        case 's': { const char *s = va_arg(ap, const char *); put(s ? s : "(null)", strlen(s ? s : "(null)")); break; }
        case 'd': { long long v = lng > 1 ? va_arg(ap, long long) : lng ? va_arg(ap, long) : va_arg(ap, int);
                    if (v < 0) { put("-", 1); v = -v; } put_num(v, 10); break; }
        case 'u': put_num(lng > 1 ? va_arg(ap, unsigned long long) : lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned), 10); break;
        case 'x': put_num(lng > 1 ? va_arg(ap, unsigned long long) : lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned), 16); break;
        case 'p': put("0x", 2); put_num((unsigned long)va_arg(ap, void *), 16); break;
        default: put(p, 1);
        }
    }
    return 0;
}

int printk(const char *fmt, ...) { va_list ap; va_start(ap, fmt); vprintk(fmt, ap); va_end(ap); return 0; }

void kernel_shutdown(unsigned int reason) {
    console_flush();
    struct sched_shutdown sd = { .reason = reason };
    for (;;)
        HYPERVISOR_sched_op(SCHEDOP_shutdown, &sd);
}

void panic(const char *fmt, ...) {
    va_list ap;
    printk("\n*** panic: ");
    va_start(ap, fmt); vprintk(fmt, ap); va_end(ap);
    printk("\n");
    kernel_shutdown(SHUTDOWN_crash);
}

#define CHECK(cond, ...) do { if (cond) printk("ok:   " __VA_ARGS__); \
                              else { failures++; printk("FAIL: " __VA_ARGS__); } } while (0)

/* ---- the checks ---- */
void kernel_start(void *fdt) {
    arch_init(fdt);
    console_init();
    events_init();
    printk("morgana-arm32: Thumb-2 guest up, %lu MiB RAM, cmdline '%s'\n",
           boot_nr_pages() >> 8, boot_cmdline());

    uint32_t sctlr, cpsr;
    asm volatile("mrc p15, 0, %0, c1, c0, 0" : "=r"(sctlr));
    asm volatile("mrs %0, cpsr" : "=r"(cpsr));    /* MRS reads the T bit as 0: see below */
    CHECK((sctlr & 0x40001005) == 0x40001005, "MMU, caches, Thumb exceptions on (SCTLR %lx)\n",
          (unsigned long)sctlr);
    CHECK(((uintptr_t)kernel_start & 1) && (cpsr & 0x1f) == 0x13 && (cpsr & 0x80),
          "Thumb-2 code, SVC mode, IRQs masked (CPSR %lx)\n", (unsigned long)cpsr);

    long ver = HYPERVISOR_xen_version(XENVER_version, NULL);
    CHECK(ver >> 16 == 4, "hvc #0xEA1: Xen %ld.%ld\n", ver >> 16, ver & 0xffff);

    CHECK(boot_nr_pages() >= 1024 && mm_free_pages() > 512,
          "device tree: %lu pages of RAM, %lu free\n", boot_nr_pages(), mm_free_pages());
    unsigned long *p = alloc_pages(2);
    CHECK(p && pfn_to_mfn(virt_to_pfn(p)) == virt_to_pfn(p) + (RAM_IPA >> 12),
          "page allocator: %p is guest frame %lx\n", (void *)p, pfn_to_mfn(virt_to_pfn(p)));
    p[0] = 0x12345678; p[2047] = 0x9abcdef0;
    CHECK(p[0] == 0x12345678 && p[2047] == 0x9abcdef0, "RAM read back through the MMU\n");

    uint64_t wall = wallclock_ns() / 1000000000ULL;
    CHECK(HYPERVISOR_shared_info->wc_version != 0 || wall > 0,
          "shared_info mapped: wallclock %llu s, wc_version %lu\n", (unsigned long long)wall,
          (unsigned long)HYPERVISOR_shared_info->wc_version);

    /* the virtual generic timer ends a block after the deadline, not before */
    uint64_t t0 = monotonic_ns();
    block_until(t0 + 200000000ULL);
    while (monotonic_ns() < t0 + 200000000ULL)
        block_until(t0 + 200000000ULL);
    uint64_t slept = (monotonic_ns() - t0) / 1000000;
    CHECK(slept >= 200 && slept < 2000, "generic timer: blocked %llu ms for 200 ms\n",
          (unsigned long long)slept);

    /* an event to ourselves arrives through the GIC's event-channel PPI and wakes WFI */
    uint32_t a = 0;
    evtchn_alloc_unbound(DOMID_SELF, &a);
    evtchn_bind_interdomain_t bi = { .remote_dom = DOMID_SELF, .remote_port = a };
    int rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &bi);
    evtchn_unmask(bi.local_port);
    t0 = monotonic_ns();
    evtchn_notify(bi.local_port);
    uint32_t ports[8];
    int n = 0, got = 0;
    while (!got && monotonic_ns() < t0 + 3000000000ULL) {
        block_until(t0 + 3000000000ULL);
        n = evtchn_take_pending(ports, 8);
        for (int i = 0; i < n; i++)
            got |= ports[i] == a;
    }
    CHECK(rc == 0 && got, "event channel %lu -> %lu delivered in %llu us\n",
          (unsigned long)bi.local_port, (unsigned long)a,
          (unsigned long long)(monotonic_ns() - t0) / 1000);

    /* grant table frames placed with XENMEM_add_to_physmap, then moved under our page */
    xen_pfn_t frames[4] = { 0 };
    gnttab_setup_table_t setup = { .dom = DOMID_SELF, .nr_frames = 4 };
    set_xen_guest_handle(setup.frame_list, frames);
    rc = HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &setup, 1);
    grant_entry_v1_t *gt = alloc_pages(1);
    int mrc = rc || setup.status ? -1 : arch_map_frame(gt, frames[0]);
    CHECK(mrc == 0 && frames[0] == (GNTTAB_IPA >> 12),
          "grant table frame %llx mapped at %p (rc %d)\n", (unsigned long long)frames[0],
          (void *)gt, mrc);

    printk("morgana-arm32: store evtchn %lu page %p, console evtchn %lu page %p\n",
           (unsigned long)store_evtchn(), store_page(), (unsigned long)console_evtchn(),
           console_page());
    if (failures)
        printk("MORGANA-ARM32-SELFTEST-FAILED %d\n", failures);
    else
        printk("MORGANA-ARM32-SELFTEST-OK\n");
    kernel_shutdown(failures ? SHUTDOWN_crash : SHUTDOWN_poweroff);
}
