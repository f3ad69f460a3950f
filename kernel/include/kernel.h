/* The boot layer's internal interfaces: what common code and the MicroPython port use,
   implemented per arch (kernel/x86_64, kernel/arm32) and in kernel/common. */
#ifndef MORGANA_KERNEL_H
#define MORGANA_KERNEL_H
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include "xen.h"

#define PAGE_SHIFT 12
#define PAGE_SIZE  (1UL << PAGE_SHIFT)
#define PFN_UP(x)  (((unsigned long)(x) + PAGE_SIZE - 1) >> PAGE_SHIFT)

/* arch */
void arch_init(void *boot_info);             /* traps, callbacks, shared_info, page tables */
extern shared_info_t *HYPERVISOR_shared_info;
unsigned long pfn_to_mfn(unsigned long pfn);  /* frame number a backend is granted */
void *mfn_to_virt(unsigned long mfn);
static inline unsigned long virt_to_pfn(const void *va) { return (unsigned long)va >> PAGE_SHIFT; }
static inline void *pfn_to_virt(unsigned long pfn) { return (void *)(pfn << PAGE_SHIFT); }
int arch_map_frame(void *va, unsigned long mfn); /* map a machine frame at va */
uint64_t monotonic_ns(void);                  /* Xen system time */
uint64_t wallclock_ns(void);                  /* Unix epoch */
bool is_dom0(void);
const char *boot_cmdline(void);
uint32_t store_evtchn(void);
void *store_page(void);
uint32_t console_evtchn(void);
void *console_page(void);                     /* NULL for dom0: console_io instead */
unsigned long boot_nr_pages(void);
domid_t my_domid(void);
/* entropy: bytes from the CPU's random-number instruction, or 0 when it has none (then
   *name is NULL); a free-running cycle counter for timer jitter (rdtsc, CNTVCT) */
size_t arch_hw_random(uint8_t *buf, size_t n, const char **name);
uint64_t arch_cycles(void);

/* memory (kernel/common/mm.c): a first-fit allocator of whole pages */
void mm_init(unsigned long first_free_pfn, unsigned long end_pfn);
void *alloc_pages(unsigned long n);
void free_pages(void *va, unsigned long n);
unsigned long mm_free_pages(void);
/* I/O pages: the only pages Python may share with a backend (_xen.Page) */
void *alloc_io_pages(unsigned long n);
int free_io_pages(void *va, unsigned long n);  /* 0, or -1 (not I/O pages: nothing freed) */
long io_pfn_of_frame(unsigned long frame);     /* the live I/O page whose frame it is, or -1 */

/* events (kernel/common/events.c). The 2-level ABI has one pending and one mask bit per
   port in shared_info: xen_ulong_t words (64-bit on x86_64 and arm32 alike), as many
   words as a word has bits, so ports are 0..4095 (0 is reserved by Xen). Calls with a
   port outside that range return -EINVAL and touch nothing. */
#define EVTCHN_NR_PORTS (sizeof(xen_ulong_t) * 8 * sizeof(xen_ulong_t) * 8)
#define KERNEL_EINVAL 22                      /* Xen's errno values are Linux's */
void events_init(void);
void evtchn_scan(void);                       /* Xen pending bits -> our pending set */
int evtchn_take_pending(uint32_t *ports, int max);
bool evtchn_any_pending(void);
int evtchn_alloc_unbound(domid_t remote, uint32_t *port);
int evtchn_bind_virq(uint32_t virq, uint32_t *port);
int evtchn_notify(uint32_t port);
int evtchn_mask(uint32_t port);
int evtchn_unmask(uint32_t port);
int evtchn_close(uint32_t port);
const char *evtchn_kernel_use(uint32_t port); /* "timer"/"console" for the kernel's own */
void block_until(uint64_t deadline_ns);       /* 0: no deadline */
void block_for_port(uint32_t port, uint64_t deadline_ns); /* woken by port only */

/* grant table v1 (kernel/common/gnttab.c) */
int gnttab_init(void);
/* ref, or -1 (no free ref) or -2 (frame is not a live I/O page: see io_pfn_of_frame) */
int gnttab_grant(domid_t dom, unsigned long frame, bool readonly);
int gnttab_end(long ref);                     /* 1 ended, 0 still mapped, -1 not ours */
int gnttab_ref_on(unsigned long pfn, unsigned long n); /* a live grant of one of these, or -1 */

/* console (kernel/common/console.c) */
void console_init(void);
void console_write(const char *s, size_t n);
int console_read(char *buf, size_t max);      /* non-blocking, bytes read */
void console_flush(void);                     /* console_sync, then wait for xenconsoled */
uint64_t console_pump(void);                  /* writes stop waiting; ns of next pump or 0 */
void console_sync(void);                      /* writes wait for ring space again */
void early_write(const char *s, size_t n);    /* console_io: dom0 and pre-init only */

/* shutdown */
void kernel_shutdown(unsigned int reason) __attribute__((noreturn));
void panic(const char *fmt, ...) __attribute__((noreturn));
int printk(const char *fmt, ...);
#endif
