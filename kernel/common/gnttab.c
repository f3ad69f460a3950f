/* Grant table v1: we own a few frames of grant entries shared with Xen. A grant lets one
   backend domain map (or copy) one of our frames; ending it is only safe once the backend
   no longer uses it, which the entry's GTF_reading/GTF_writing bits tell. */
#include "kernel.h"
#include "arch.h"

#define NR_FRAMES 4
#define NR_ENTRIES (NR_FRAMES * PAGE_SIZE / sizeof(grant_entry_v1_t))
#define FIRST_REF 8                        /* refs below are reserved for the toolstack */

static grant_entry_v1_t *table;
static uint16_t free_list[NR_ENTRIES];
static int nfree_refs;
/* per ref: 0 when free, else 1 + the pfn of the I/O page it grants (so that a page
   cannot be freed while a backend may still map it: gnttab_ref_on) */
static uint32_t granted[NR_ENTRIES];        /* pfns are below 2^18 (mm.c) */

int gnttab_init(void) {
    xen_pfn_t frames[NR_FRAMES];          /* 64-bit on arm32 too */
    gnttab_setup_table_t setup = { .dom = DOMID_SELF, .nr_frames = NR_FRAMES };
    set_xen_guest_handle(setup.frame_list, frames);
    int rc = HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &setup, 1);
    if (rc || setup.status)
        return rc ? rc : setup.status;
    /* map the table frames over pages of our own, which we then never free */
    table = alloc_pages(NR_FRAMES);
    if (!table)
        return -1;
    for (int i = 0; i < NR_FRAMES; i++)
        if (arch_map_frame((char *)table + i * PAGE_SIZE, frames[i]))
            return -1;
    for (unsigned int r = NR_ENTRIES - 1; r >= FIRST_REF; r--)
        free_list[nfree_refs++] = r;
    return 0;
}

int gnttab_grant(domid_t dom, unsigned long frame, bool readonly) {
    /* only I/O pages are shared: never the heap, the kernel or a frame not ours */
    long pfn = io_pfn_of_frame(frame);
    if (pfn < 0)
        return -2;
    if (!table || !nfree_refs)
        return -1;
    int ref = free_list[--nfree_refs];
    granted[ref] = 1 + (uint32_t)pfn;
    table[ref].frame = frame;
    table[ref].domid = dom;
    wmb();                                  /* flags last: it makes the entry valid */
    table[ref].flags = GTF_permit_access | (readonly ? GTF_readonly : 0);
    return ref;
}

int gnttab_end(long ref) {
    if (!table || ref < FIRST_REF || ref >= (long)NR_ENTRIES || !granted[ref])
        return -1;                          /* not a grant of ours */
    volatile uint16_t *flags = &table[ref].flags;
    uint16_t f = *flags;
    for (;;) {
        if (f & (GTF_reading | GTF_writing))
            return 0;                       /* still in use: the caller retries later */
        uint16_t prev = cmpxchg_u16(flags, f, 0);
        if (prev == f)
            break;
        f = prev;
    }
    granted[ref] = 0;
    free_list[nfree_refs++] = ref;
    return 1;
}

int gnttab_ref_on(unsigned long pfn, unsigned long n) {
    for (unsigned int r = FIRST_REF; r < NR_ENTRIES; r++)
        if (granted[r] && (unsigned long)granted[r] - 1 - pfn < n)  /* pfn <= its pfn < pfn + n */
            return r;
    return -1;
}
