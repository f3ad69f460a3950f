/* A minimal flattened-device-tree reader for setup.c: /memory, /chosen/bootargs and
   whether a top-level node exists. It walks the structure block's tokens (big-endian)
   for top-level nodes only, bounds-checked against the header, since the tree is input.
   Header-only (static) because the arch build compiles setup.c as the arch's one C file. */
#ifndef MORGANA_ARM32_FDT_H
#define MORGANA_ARM32_FDT_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FDT_MAGIC      0xd00dfeed
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE   2
#define FDT_PROP       3
#define FDT_NOP        4
#define FDT_END        9

static uint32_t be32(const void *p) {
    const uint8_t *b = p;
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

typedef int (*node_fn)(void *ctx, const char *node);
typedef int (*prop_fn)(void *ctx, int depth, const char *node, const char *prop,
                       const uint8_t *val, uint32_t len);

/* Calls fn for every property of the root and of its children; stops when fn returns 1. */
static int walk(const void *fdt, prop_fn fn, void *ctx, node_fn nfn) {
    const uint8_t *base = fdt;
    if (be32(base) != FDT_MAGIC)
        return -1;
    uint32_t total = be32(base + 4), off_struct = be32(base + 8), off_strings = be32(base + 12);
    uint32_t size_strings = be32(base + 32), size_struct = be32(base + 36);
    if (off_struct > total || size_struct > total - off_struct || off_strings > total ||
        size_strings > total - off_strings)
        return -1;
    const uint8_t *p = base + off_struct, *end = p + size_struct;
    const char *strings = (const char *)base + off_strings;
    const char *node = "";
    int depth = 0;
    while (p + 4 <= end) {
        uint32_t tok = be32(p);
        p += 4;
        if (tok == FDT_BEGIN_NODE) {
            const char *name = (const char *)p;
            size_t n = 0;
            while (p + n < end && name[n])
                n++;
            if (p + n >= end)
                return -1;
            p += (n + 4) & ~3u;
            if (++depth == 2) {
                node = name;
                if (nfn && nfn(ctx, name))
                    return 0;
            }
        } else if (tok == FDT_END_NODE) {
            if (--depth < 0)
                return -1;
        } else if (tok == FDT_PROP) {
            if (p + 8 > end)
                return -1;
            uint32_t len = be32(p), nameoff = be32(p + 4);
            p += 8;
            if (len > (uint32_t)(end - p) || nameoff >= size_strings)
                return -1;
            if (depth <= 2 && fn(ctx, depth, depth == 1 ? "" : node, strings + nameoff, p, len))
                return 0;
            p += (len + 3) & ~3u;
        } else if (tok == FDT_END) {
            break;
        } else if (tok != FDT_NOP) {
            return -1;
        }
    }
    return 1;
}

struct mem_ctx { uint32_t addr_cells, size_cells; uint64_t base, size; int found; };

static uint64_t cells(const uint8_t *v, uint32_t n) {
    uint64_t x = 0;
    for (uint32_t i = 0; i < n; i++)
        x = (x << 32) | be32(v + 4 * i);
    return x;
}

static int mem_prop(void *c, int depth, const char *node, const char *prop,
                    const uint8_t *val, uint32_t len) {
    struct mem_ctx *m = c;
    if (depth == 1 && len == 4 && !strcmp(prop, "#address-cells"))
        m->addr_cells = be32(val);
    else if (depth == 1 && len == 4 && !strcmp(prop, "#size-cells"))
        m->size_cells = be32(val);
    else if (depth == 2 && !strncmp(node, "memory", 6) && !strcmp(prop, "reg") &&
             m->addr_cells <= 2 && m->size_cells <= 2 &&
             len >= 4 * (m->addr_cells + m->size_cells)) {
        m->base = cells(val, m->addr_cells);
        m->size = cells(val + 4 * m->addr_cells, m->size_cells);
        m->found = 1;
        return 1;                        /* the first bank: where we live */
    }
    return 0;
}

static int fdt_memory(const void *fdt, uint64_t *base, uint64_t *size) {
    struct mem_ctx m = { 2, 1, 0, 0, 0 };
    if (walk(fdt, mem_prop, &m, NULL) < 0 || !m.found)
        return -1;
    *base = m.base;
    *size = m.size;
    return 0;
}

struct args_ctx { const char *args; };

static int args_prop(void *c, int depth, const char *node, const char *prop,
                     const uint8_t *val, uint32_t len) {
    if (depth == 2 && !strcmp(node, "chosen") && !strcmp(prop, "bootargs") && len &&
        val[len - 1] == 0) {
        ((struct args_ctx *)c)->args = (const char *)val;
        return 1;
    }
    return 0;
}

static const char *fdt_chosen_bootargs(const void *fdt) {
    struct args_ctx a = { NULL };
    walk(fdt, args_prop, &a, NULL);
    return a.args;
}

struct node_ctx { const char *prefix; int found; };

static int node_match(void *c, const char *node) {
    struct node_ctx *n = c;
    size_t len = strlen(n->prefix);
    return n->found = !strncmp(node, n->prefix, len);
}

static int no_prop(void *c, int depth, const char *node, const char *prop,
                   const uint8_t *val, uint32_t len) {
    return 0;
}

static int fdt_has_node(const void *fdt, const char *prefix) {
    struct node_ctx n = { prefix, 0 };
    walk(fdt, no_prop, &n, node_match);
    return n.found;
}
#endif
