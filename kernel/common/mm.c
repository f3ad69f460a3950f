/* Page allocator: a bitmap over the free frames, first fit. Used once for the Python heap
   and then for pages shared with backends (rings, buffers), which need whole frames. */
#include "kernel.h"

#define MAX_TRACKED (1UL << 18)             /* 1 GiB of 4 KiB pages */
#define LBITS (8 * sizeof(unsigned long))
static unsigned long used[MAX_TRACKED / LBITS];
/* I/O pages (alloc_io_pages): what Python's _xen.Page holds, and the only frames a grant
   may name; io_lo..io_hi bounds the pfns ever handed out as such */
static unsigned long io[MAX_TRACKED / LBITS];
static unsigned long first_pfn, end_pfn, nfree, io_lo, io_hi;

#define BIT(p) (used[(p) / LBITS] & (1UL << ((p) % LBITS)))
#define IO_BIT(p) (io[(p) / LBITS] & (1UL << ((p) % LBITS)))
static void mark(unsigned long *map, unsigned long p, bool on) {
    unsigned long m = 1UL << (p % LBITS);
    if (on) map[p / LBITS] |= m; else map[p / LBITS] &= ~m;
}

void mm_init(unsigned long first, unsigned long end) {
    first_pfn = first;
    end_pfn = end < MAX_TRACKED ? end : MAX_TRACKED;
    nfree = end_pfn > first_pfn ? end_pfn - first_pfn : 0;
}

void *alloc_pages(unsigned long n) {
    unsigned long run = 0;
    for (unsigned long p = first_pfn; p < end_pfn; p++) {
        run = BIT(p) ? 0 : run + 1;
        if (run == n) {
            unsigned long start = p + 1 - n;
            for (unsigned long q = start; q <= p; q++)
                mark(used, q, true);
            nfree -= n;
            return pfn_to_virt(start);
        }
    }
    return NULL;
}

void free_pages(void *va, unsigned long n) {
    unsigned long start = virt_to_pfn(va);
    for (unsigned long q = start; q < start + n; q++) {
        if (q < first_pfn || q >= end_pfn || !BIT(q))
            panic("free_pages: frame %lx not allocated", q);
        mark(used, q, false);
        mark(io, q, false);
    }
    nfree += n;
}

void *alloc_io_pages(unsigned long n) {
    char *va = alloc_pages(n);
    if (!va)
        return NULL;
    unsigned long start = virt_to_pfn(va);
    for (unsigned long q = start; q < start + n; q++)
        mark(io, q, true);
    if (!io_hi || start < io_lo)
        io_lo = start;
    if (start + n > io_hi)
        io_hi = start + n;
    return va;
}

int free_io_pages(void *va, unsigned long n) {
    unsigned long start = virt_to_pfn(va);
    if (start < first_pfn || start >= end_pfn || n > end_pfn - start)
        return -1;
    for (unsigned long q = start; q < start + n; q++)
        if (!IO_BIT(q))
            return -1;
    free_pages(va, n);
    return 0;
}

/* Frames are what backends are granted (machine frames on x86 PV). Looked up in our own
   p2m over the I/O range only, never in Xen's m2p: an arbitrary frame number may not be
   mapped there at all, and one that is may name another domain's memory. */
long io_pfn_of_frame(unsigned long frame) {
    if (!io_hi)
        return -1;
    /* the I/O range is usually contiguous in frames too: try that first */
    unsigned long base = pfn_to_mfn(io_lo);
    if (frame >= base && frame - base < io_hi - io_lo) {
        unsigned long p = io_lo + (frame - base);
        if (IO_BIT(p) && pfn_to_mfn(p) == frame)
            return p;
    }
    for (unsigned long p = io_lo; p < io_hi; p++)
        if (IO_BIT(p) && pfn_to_mfn(p) == frame)
            return p;
    return -1;
}

unsigned long mm_free_pages(void) { return nfree; }
