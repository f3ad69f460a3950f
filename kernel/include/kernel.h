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

/* memory (kernel/common/mm.c): a first-fit allocator of whole pages */
void mm_init(unsigned long first_free_pfn, unsigned long end_pfn);
void *alloc_pages(unsigned long n);
void free_pages(void *va, unsigned long n);
unsigned long mm_free_pages(void);

/* events (kernel/common/events.c) */
void events_init(void);
void evtchn_scan(void);                       /* Xen pending bits -> our pending set */
int evtchn_take_pending(uint32_t *ports, int max);
bool evtchn_any_pending(void);
int evtchn_alloc_unbound(domid_t remote, uint32_t *port);
int evtchn_bind_virq(uint32_t virq, uint32_t *port);
int evtchn_notify(uint32_t port);
void evtchn_mask(uint32_t port);
void evtchn_unmask(uint32_t port);
int evtchn_close(uint32_t port);
void block_until(uint64_t deadline_ns);       /* 0: no deadline */

/* grant table v1 (kernel/common/gnttab.c) */
int gnttab_init(void);
int gnttab_grant(domid_t dom, unsigned long frame, bool readonly);  /* ref or <0 */
int gnttab_end(int ref);                      /* 1 ended, 0 still mapped, -1 not ours */

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
