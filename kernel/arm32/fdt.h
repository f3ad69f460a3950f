/* The few things we read from the device tree Xen hands us: RAM and /chosen/bootargs. */
#ifndef MORGANA_ARM32_FDT_H
#define MORGANA_ARM32_FDT_H
#include <stdint.h>
int fdt_memory(const void *fdt, uint64_t *base, uint64_t *size);   /* 0: found */
const char *fdt_chosen_bootargs(const void *fdt);                   /* NULL: none */
int fdt_has_node(const void *fdt, const char *prefix);              /* a top-level node */
#endif
