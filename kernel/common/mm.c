/* Page allocator: a bitmap over the free frames, first fit. Used once for the Python heap
   and then for pages shared with backends (rings, buffers), which need whole frames. */
#include "kernel.h"

#define MAX_TRACKED (1UL << 18)             /* 1 GiB of 4 KiB pages */
static unsigned long used[MAX_TRACKED / (8 * sizeof(unsigned long))];
static unsigned long first_pfn, end_pfn, nfree;

#define BIT(p) (used[(p) / (8 * sizeof(long))] & (1UL << ((p) % (8 * sizeof(long)))))
static void mark(unsigned long p, bool on) {
    unsigned long m = 1UL << (p % (8 * sizeof(long)));
    if (on) used[p / (8 * sizeof(long))] |= m; else used[p / (8 * sizeof(long))] &= ~m;
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
                mark(q, true);
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
        mark(q, false);
    }
    nfree += n;
}

unsigned long mm_free_pages(void) { return nfree; }
