// The `_xen` module: the small primitives Python drivers and the scheduler are built on
// (docs/design.md lists them). No policy here: rings, xenstore and devices are Python.
// The kernel does not trust its Python: every port, ref, frame, page count and length is
// checked here before Xen or memory is touched, and a bad one raises ValueError (a
// non-int TypeError, an int too big for a machine word OverflowError).
#include <string.h>
#include "py/runtime.h"
#include "py/objarray.h"
#include "py/objint.h"
#include "shared/runtime/pyexec.h"
#include "kernel.h"
#include "arch.h"

// ---- argument checks
static mp_int_t arg_int(mp_obj_t o, mp_int_t lo, mp_int_t hi, const char *what) {
    mp_int_t v = mp_obj_get_int(o);
    if (v < lo || v > hi)
        mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("%s %ld is not in %ld..%ld"),
                          what, (long)v, (long)lo, (long)hi);
    return v;
}

// An event-channel port: 1..4095 with the 2-level ABI (port 0 is reserved by Xen).
static uint32_t arg_port(mp_obj_t o) {
    return arg_int(o, 1, EVTCHN_NR_PORTS - 1, "event-channel port");
}

// A domain id a channel or a grant may name: an ordinary domain (DOMID_SELF only where
// allow_self: an unbound channel to ourselves is how loopback tests talk to themselves).
static domid_t arg_domid(mp_obj_t o, bool allow_self) {
    return arg_int(o, 0, allow_self ? DOMID_SELF : DOMID_FIRST_RESERVED - 1, "domain id");
}

static void raise_evtchn(const char *op, uint32_t port, int rc) {
    mp_raise_msg_varg(&mp_type_ValueError,
                      MP_ERROR_TEXT("%s(%d): not an open event channel of ours (Xen: %d)"),
                      op, (int)port, rc);
}

// ---- time and idling
static mp_obj_t xen_time_ns(void) { return mp_obj_new_int_from_ull(monotonic_ns()); }
static MP_DEFINE_CONST_FUN_OBJ_0(xen_time_ns_obj, xen_time_ns);

static mp_obj_t xen_wall_ns(void) { return mp_obj_new_int_from_ull(wallclock_ns()); }
static MP_DEFINE_CONST_FUN_OBJ_0(xen_wall_ns_obj, xen_wall_ns);

// A time in ns: 0 <= t < 2^63 (Xen's s_time_t is signed), also on arm32 where it does not
// fit a small int.
static uint64_t get_time_ns(mp_obj_t o) {
    if (mp_obj_is_small_int(o)) {
        mp_int_t v = MP_OBJ_SMALL_INT_VALUE(o);
        if (v < 0)
            mp_raise_ValueError(MP_ERROR_TEXT("deadline is negative"));
        return (uint64_t)v;
    }
    if (!mp_obj_is_int(o))
        mp_obj_get_int(o);                  // raises the TypeError
    if (mp_obj_int_sign(o) < 0)
        mp_raise_ValueError(MP_ERROR_TEXT("deadline is negative"));
    if (mp_obj_is_true(mp_binary_op(MP_BINARY_OP_RSHIFT, o, MP_OBJ_NEW_SMALL_INT(63))))
        mp_raise_msg(&mp_type_OverflowError, MP_ERROR_TEXT("deadline beyond 2**63 ns"));
    byte buf[8];
    mp_obj_int_to_bytes_impl(o, false, sizeof(buf), buf);
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | buf[i];
    return v;
}

// block(deadline_ns or None): sleep the domain until an event or the deadline.
static mp_obj_t xen_block(mp_obj_t deadline) {
    uint64_t d = deadline == mp_const_none ? 0 : get_time_ns(deadline);
    if (deadline != mp_const_none && d == 0)
        d = 1;                              // 0 means "no deadline" to Xen: already due
    block_until(d);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(xen_block_obj, xen_block);

static mp_obj_t xen_pending(void) {
    uint32_t ports[64];
    mp_obj_t list = mp_obj_new_list(0, NULL);
    int n;
    do {
        n = evtchn_take_pending(ports, 64);
        for (int i = 0; i < n; i++)
            mp_obj_list_append(list, MP_OBJ_NEW_SMALL_INT(ports[i]));
    } while (n == 64);
    return list;
}
static MP_DEFINE_CONST_FUN_OBJ_0(xen_pending_obj, xen_pending);

// Only the reasons the design names: suspend (2) would need a resume path we lack.
static mp_obj_t xen_shutdown(mp_obj_t reason) {
    mp_int_t r = mp_obj_get_int(reason);
    if (r != SHUTDOWN_poweroff && r != SHUTDOWN_reboot && r != SHUTDOWN_crash)
        mp_raise_msg_varg(&mp_type_ValueError,
                          MP_ERROR_TEXT("shutdown reason %ld: not 0 (poweroff), 1 (reboot) or 3 (crash)"),
                          (long)r);
    kernel_shutdown(r);
}
static MP_DEFINE_CONST_FUN_OBJ_1(xen_shutdown_obj, xen_shutdown);

// ---- console
static mp_obj_t xen_console_write(mp_obj_t data) {
    mp_buffer_info_t b;
    mp_get_buffer_raise(data, &b, MP_BUFFER_READ);
    console_write(b.buf, b.len);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(xen_console_write_obj, xen_console_write);

// The scheduler's idle path: from the first call on, console writes never wait for
// xenconsoled (kernel/common/console.c). Returns when to call again (monotonic ns), or 0.
static mp_obj_t xen_console_pump(void) {
    return mp_obj_new_int_from_ull(console_pump());
}
static MP_DEFINE_CONST_FUN_OBJ_0(xen_console_pump_obj, xen_console_pump);

static mp_obj_t xen_console_read(void) {
    char buf[256];
    int n = console_read(buf, sizeof(buf));
    return mp_obj_new_bytes((const byte *)buf, n);
}
static MP_DEFINE_CONST_FUN_OBJ_0(xen_console_read_obj, xen_console_read);

static mp_obj_t xen_repl(void) {
    pyexec_friendly_repl();
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_0(xen_repl_obj, xen_repl);

// soft_reset(arg): end this interpreter and boot `_boot` again in a fresh one (the test
// runner's isolation between scripts); boot_arg() then returns arg.
extern mp_int_t xen_boot_arg;
extern bool xen_soft_reset_requested;

static mp_obj_t xen_soft_reset(mp_obj_t arg) {
    xen_boot_arg = mp_obj_get_int(arg);
    xen_soft_reset_requested = true;
    mp_raise_type(&mp_type_SystemExit);
}
static MP_DEFINE_CONST_FUN_OBJ_1(xen_soft_reset_obj, xen_soft_reset);

static mp_obj_t xen_boot_arg_get(void) { return mp_obj_new_int(xen_boot_arg); }
static MP_DEFINE_CONST_FUN_OBJ_0(xen_boot_arg_obj, xen_boot_arg_get);

// ---- pages shared with backends
typedef struct {
    mp_obj_base_t base;
    char *va;                               // NULL once freed
    size_t npages;
    bool owned;                             // false for the xenstore/console pages
    mp_obj_t mv, u32, frames;
} xen_page_obj_t;

#define MAX_PAGES 1024                      // one Page: at most 4 MiB

static const mp_obj_type_t xen_page_type;

static mp_obj_t page_wrap(char *va, size_t npages, bool owned) {
    xen_page_obj_t *p = mp_obj_malloc(xen_page_obj_t, &xen_page_type);
    p->va = va;
    p->npages = npages;
    p->owned = owned;
    size_t bytes = npages * PAGE_SIZE;
    p->mv = mp_obj_new_memoryview('B' | MP_OBJ_ARRAY_TYPECODE_FLAG_RW, bytes, va);
    p->u32 = mp_obj_new_memoryview('I' | MP_OBJ_ARRAY_TYPECODE_FLAG_RW, bytes / 4, va);
    p->frames = mp_obj_new_list(0, NULL);
    for (size_t i = 0; i < npages; i++)
        mp_obj_list_append(p->frames, mp_obj_new_int_from_uint(pfn_to_mfn(virt_to_pfn(va + i * PAGE_SIZE))));
    return MP_OBJ_FROM_PTR(p);
}

static mp_obj_t page_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    mp_arg_check_num(n_args, n_kw, 0, 1, false);
    mp_int_t n = n_args ? arg_int(args[0], 1, MAX_PAGES, "npages") : 1;
    char *va = alloc_io_pages(n);
    if (!va)
        mp_raise_msg_varg(&mp_type_MemoryError,
                          MP_ERROR_TEXT("out of I/O pages (%d wanted, %d free)"),
                          (int)n, (int)mm_free_pages());
    memset(va, 0, n * PAGE_SIZE);
    return page_wrap(va, n, true);
}

// free(): refused (ValueError) while a backend may still map one of its frames, i.e.
// while a grant of it has not been ended (gnttab_end True), and for a page that is not
// ours (xenstore, console) or already freed. The page's own views are emptied in place,
// so a driver holding page.mv or page.u32 gets IndexError rather than freed memory.
static mp_obj_t page_free(mp_obj_t self_in) {
    xen_page_obj_t *p = MP_OBJ_TO_PTR(self_in);
    if (!p->owned)
        mp_raise_ValueError(MP_ERROR_TEXT("the xenstore and console pages are not ours to free"));
    if (!p->va)
        mp_raise_ValueError(MP_ERROR_TEXT("page freed twice"));
    int ref = gnttab_ref_on(virt_to_pfn(p->va), p->npages);
    if (ref >= 0)
        mp_raise_msg_varg(&mp_type_ValueError,
                          MP_ERROR_TEXT("page still granted (ref %d): end its grants first"), ref);
    if (free_io_pages(p->va, p->npages))
        mp_raise_ValueError(MP_ERROR_TEXT("not an I/O page"));      // cannot happen
    p->va = NULL;
    ((mp_obj_array_t *)MP_OBJ_TO_PTR(p->mv))->len = 0;
    ((mp_obj_array_t *)MP_OBJ_TO_PTR(p->u32))->len = 0;
    p->frames = mp_obj_new_list(0, NULL);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(page_free_obj, page_free);

static void page_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    xen_page_obj_t *p = MP_OBJ_TO_PTR(self_in);
    if (dest[0] != MP_OBJ_NULL)
        return;
    if (attr == MP_QSTR_mv) dest[0] = p->mv;
    else if (attr == MP_QSTR_u32) dest[0] = p->u32;
    else if (attr == MP_QSTR_frames) dest[0] = p->frames;
    else if (attr == MP_QSTR_npages) dest[0] = MP_OBJ_NEW_SMALL_INT(p->npages);
    else if (attr == MP_QSTR_free) { dest[0] = MP_OBJ_FROM_PTR(&page_free_obj); dest[1] = self_in; }
}

static MP_DEFINE_CONST_OBJ_TYPE(xen_page_type, MP_QSTR_Page, MP_TYPE_FLAG_NONE,
    make_new, page_make_new, attr, page_attr);

static mp_obj_t xen_store_page(void) {
    char *va = store_page();
    if (!va)
        mp_raise_msg(&mp_type_OSError, MP_ERROR_TEXT("no xenstore page"));
    return page_wrap(va, 1, false);
}
static MP_DEFINE_CONST_FUN_OBJ_0(xen_store_page_obj, xen_store_page);

static mp_obj_t xen_console_page(void) {
    char *va = console_page();
    if (!va)
        mp_raise_msg(&mp_type_OSError, MP_ERROR_TEXT("no console page"));
    return page_wrap(va, 1, false);
}
static MP_DEFINE_CONST_FUN_OBJ_0(xen_console_page_obj, xen_console_page);

static mp_obj_t xen_start_info(void) {
    mp_obj_t d = mp_obj_new_dict(8);
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_nr_pages), mp_obj_new_int_from_uint(boot_nr_pages()));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_free_pages), mp_obj_new_int_from_uint(mm_free_pages()));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_dom0), mp_obj_new_bool(is_dom0()));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_cmdline), mp_obj_new_str(boot_cmdline(), strlen(boot_cmdline())));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_store_evtchn), MP_OBJ_NEW_SMALL_INT(store_evtchn()));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_console_evtchn), MP_OBJ_NEW_SMALL_INT(console_evtchn()));
    return d;
}
static MP_DEFINE_CONST_FUN_OBJ_0(xen_start_info_obj, xen_start_info);

// ---- event channels
static mp_obj_t check_port(int rc, uint32_t port) {
    if (rc)
        mp_raise_OSError(-rc);
    return MP_OBJ_NEW_SMALL_INT(port);
}

static mp_obj_t xen_evtchn_alloc_unbound(mp_obj_t remote) {
    uint32_t port = 0;
    int rc = evtchn_alloc_unbound(arg_domid(remote, true), &port);
    return check_port(rc, port);
}
static MP_DEFINE_CONST_FUN_OBJ_1(xen_evtchn_alloc_unbound_obj, xen_evtchn_alloc_unbound);

static mp_obj_t xen_evtchn_bind_virq(mp_obj_t virq) {
    uint32_t port = 0;
    int rc = evtchn_bind_virq(arg_int(virq, 0, NR_VIRQS - 1, "virq"), &port);
    return check_port(rc, port);
}
static MP_DEFINE_CONST_FUN_OBJ_1(xen_evtchn_bind_virq_obj, xen_evtchn_bind_virq);

static mp_obj_t xen_evtchn_notify(mp_obj_t port_in) {
    uint32_t port = arg_port(port_in);
    int rc = evtchn_notify(port);
    if (rc)
        raise_evtchn("evtchn_notify", port, rc);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(xen_evtchn_notify_obj, xen_evtchn_notify);

// Masking or closing a port the kernel itself waits on is refused (evtchn_kernel_use).
static uint32_t arg_python_port(mp_obj_t port_in, const char *op) {
    uint32_t port = arg_port(port_in);
    const char *use = evtchn_kernel_use(port);
    if (use)
        mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("%s(%d): the kernel's %s port"),
                          op, (int)port, use);
    return port;
}

static mp_obj_t xen_evtchn_mask(mp_obj_t port_in) {
    evtchn_mask(arg_python_port(port_in, "evtchn_mask"));   // a bit of ours: cannot fail
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(xen_evtchn_mask_obj, xen_evtchn_mask);

static mp_obj_t xen_evtchn_unmask(mp_obj_t port_in) {
    uint32_t port = arg_port(port_in);
    int rc = evtchn_unmask(port);
    if (rc)
        raise_evtchn("evtchn_unmask", port, rc);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(xen_evtchn_unmask_obj, xen_evtchn_unmask);

static mp_obj_t xen_evtchn_close(mp_obj_t port_in) {
    uint32_t port = arg_python_port(port_in, "evtchn_close");
    int rc = evtchn_close(port);
    if (rc)
        raise_evtchn("evtchn_close", port, rc);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(xen_evtchn_close_obj, xen_evtchn_close);

// ---- grants
// gnttab_grant(domid, frame, readonly): frame must be one of a live Page's frames.
static mp_obj_t xen_gnttab_grant(mp_obj_t dom, mp_obj_t frame, mp_obj_t ro) {
    domid_t d = arg_domid(dom, false);
    mp_int_t f = mp_obj_get_int(frame);
    int ref = f < 0 ? -2 : gnttab_grant(d, f, mp_obj_is_true(ro));
    if (ref == -2)
        mp_raise_msg_varg(&mp_type_ValueError,
                          MP_ERROR_TEXT("frame %lx is not a frame of a live Page"), (long)f);
    if (ref < 0)
        mp_raise_msg(&mp_type_OSError, MP_ERROR_TEXT("no free grant references"));
    return MP_OBJ_NEW_SMALL_INT(ref);
}
static MP_DEFINE_CONST_FUN_OBJ_3(xen_gnttab_grant_obj, xen_gnttab_grant);

static mp_obj_t xen_gnttab_end(mp_obj_t ref_in) {
    mp_int_t ref = mp_obj_get_int(ref_in);
    int r = gnttab_end(ref);
    if (r < 0)
        mp_raise_msg_varg(&mp_type_ValueError,
                          MP_ERROR_TEXT("grant ref %ld is not an active grant of ours"), (long)ref);
    return mp_obj_new_bool(r);
}
static MP_DEFINE_CONST_FUN_OBJ_1(xen_gnttab_end_obj, xen_gnttab_end);

// ---- barriers
static mp_obj_t xen_mb(void) { mb(); return mp_const_none; }
static MP_DEFINE_CONST_FUN_OBJ_0(xen_mb_obj, xen_mb);
static mp_obj_t xen_rmb(void) { rmb(); return mp_const_none; }
static MP_DEFINE_CONST_FUN_OBJ_0(xen_rmb_obj, xen_rmb);
static mp_obj_t xen_wmb(void) { wmb(); return mp_const_none; }
static MP_DEFINE_CONST_FUN_OBJ_0(xen_wmb_obj, xen_wmb);

// ---- Internet checksum (RFC 1071): ones'-complement sum of big-endian 16-bit words,
// folded, not inverted. Summed as little-endian words and byte-swapped once at the end.
// start: the sum so far (e.g. a pseudo-header's), a non-negative int; it is not an offset.
static mp_obj_t xen_inet_csum(size_t n_args, const mp_obj_t *args) {
    mp_int_t start = 0;
    if (n_args > 1) {
        start = mp_obj_get_int(args[1]);
        if (start < 0)
            mp_raise_ValueError(MP_ERROR_TEXT("inet_csum: start (a partial sum) is negative"));
    }
    mp_buffer_info_t b;
    mp_get_buffer_raise(args[0], &b, MP_BUFFER_READ);
    const uint8_t *p = b.buf;
    size_t n = b.len;
    uint64_t sum = 0;
    while (n >= 8) {
        uint32_t w0, w1;
        memcpy(&w0, p, 4);
        memcpy(&w1, p + 4, 4);
        sum += (uint64_t)w0 + w1;
        p += 8;
        n -= 8;
    }
    while (n >= 2) {
        sum += (uint16_t)(p[0] | (p[1] << 8));
        p += 2;
        n -= 2;
    }
    if (n)
        sum += p[0];
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    sum = ((sum & 0xff) << 8) | (sum >> 8);
    sum += (mp_uint_t)start;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return MP_OBJ_NEW_SMALL_INT(sum);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(xen_inet_csum_obj, 1, 2, xen_inet_csum);

// ---- entropy sources for morgana.entropy (which mixes them; no policy here)
// hw_random(n) -> (name, bytes) from the CPU's RNG instruction (fewer bytes than asked if
// it kept failing), or None when the CPU has none. cycles() -> the cycle counter.
static mp_obj_t xen_hw_random(mp_obj_t n_in) {
    size_t n = arg_int(n_in, 1, 256, "hw_random length");
    uint8_t buf[256];
    const char *name = NULL;
    size_t got = arch_hw_random(buf, n, &name);
    if (name == NULL)
        return mp_const_none;
    mp_obj_t t[2] = { mp_obj_new_str(name, strlen(name)), mp_obj_new_bytes(buf, got) };
    memset(buf, 0, sizeof(buf));
    return mp_obj_new_tuple(2, t);
}
static MP_DEFINE_CONST_FUN_OBJ_1(xen_hw_random_obj, xen_hw_random);

static mp_obj_t xen_cycles(void) { return mp_obj_new_int_from_ull(arch_cycles()); }
static MP_DEFINE_CONST_FUN_OBJ_0(xen_cycles_obj, xen_cycles);

static const mp_rom_map_elem_t xen_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR__xen) },
    { MP_ROM_QSTR(MP_QSTR_time_ns), MP_ROM_PTR(&xen_time_ns_obj) },
    { MP_ROM_QSTR(MP_QSTR_wall_ns), MP_ROM_PTR(&xen_wall_ns_obj) },
    { MP_ROM_QSTR(MP_QSTR_block), MP_ROM_PTR(&xen_block_obj) },
    { MP_ROM_QSTR(MP_QSTR_pending), MP_ROM_PTR(&xen_pending_obj) },
    { MP_ROM_QSTR(MP_QSTR_shutdown), MP_ROM_PTR(&xen_shutdown_obj) },
    { MP_ROM_QSTR(MP_QSTR_console_write), MP_ROM_PTR(&xen_console_write_obj) },
    { MP_ROM_QSTR(MP_QSTR_console_pump), MP_ROM_PTR(&xen_console_pump_obj) },
    { MP_ROM_QSTR(MP_QSTR_console_read), MP_ROM_PTR(&xen_console_read_obj) },
    { MP_ROM_QSTR(MP_QSTR_repl), MP_ROM_PTR(&xen_repl_obj) },
    { MP_ROM_QSTR(MP_QSTR_soft_reset), MP_ROM_PTR(&xen_soft_reset_obj) },
    { MP_ROM_QSTR(MP_QSTR_boot_arg), MP_ROM_PTR(&xen_boot_arg_obj) },
    { MP_ROM_QSTR(MP_QSTR_start_info), MP_ROM_PTR(&xen_start_info_obj) },
    { MP_ROM_QSTR(MP_QSTR_store_page), MP_ROM_PTR(&xen_store_page_obj) },
    { MP_ROM_QSTR(MP_QSTR_console_page), MP_ROM_PTR(&xen_console_page_obj) },
    { MP_ROM_QSTR(MP_QSTR_Page), MP_ROM_PTR(&xen_page_type) },
    { MP_ROM_QSTR(MP_QSTR_evtchn_alloc_unbound), MP_ROM_PTR(&xen_evtchn_alloc_unbound_obj) },
    { MP_ROM_QSTR(MP_QSTR_evtchn_bind_virq), MP_ROM_PTR(&xen_evtchn_bind_virq_obj) },
    { MP_ROM_QSTR(MP_QSTR_evtchn_notify), MP_ROM_PTR(&xen_evtchn_notify_obj) },
    { MP_ROM_QSTR(MP_QSTR_evtchn_mask), MP_ROM_PTR(&xen_evtchn_mask_obj) },
    { MP_ROM_QSTR(MP_QSTR_evtchn_unmask), MP_ROM_PTR(&xen_evtchn_unmask_obj) },
    { MP_ROM_QSTR(MP_QSTR_evtchn_close), MP_ROM_PTR(&xen_evtchn_close_obj) },
    { MP_ROM_QSTR(MP_QSTR_gnttab_grant), MP_ROM_PTR(&xen_gnttab_grant_obj) },
    { MP_ROM_QSTR(MP_QSTR_gnttab_end), MP_ROM_PTR(&xen_gnttab_end_obj) },
    { MP_ROM_QSTR(MP_QSTR_mb), MP_ROM_PTR(&xen_mb_obj) },
    { MP_ROM_QSTR(MP_QSTR_rmb), MP_ROM_PTR(&xen_rmb_obj) },
    { MP_ROM_QSTR(MP_QSTR_wmb), MP_ROM_PTR(&xen_wmb_obj) },
    { MP_ROM_QSTR(MP_QSTR_inet_csum), MP_ROM_PTR(&xen_inet_csum_obj) },
    { MP_ROM_QSTR(MP_QSTR_hw_random), MP_ROM_PTR(&xen_hw_random_obj) },
    { MP_ROM_QSTR(MP_QSTR_cycles), MP_ROM_PTR(&xen_cycles_obj) },
    { MP_ROM_QSTR(MP_QSTR_SHUTDOWN_POWEROFF), MP_ROM_INT(SHUTDOWN_poweroff) },
    { MP_ROM_QSTR(MP_QSTR_SHUTDOWN_CRASH), MP_ROM_INT(SHUTDOWN_crash) },
};
static MP_DEFINE_CONST_DICT(xen_globals, xen_globals_table);

const mp_obj_module_t mp_module_xen = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&xen_globals,
};
MP_REGISTER_MODULE(MP_QSTR__xen, mp_module_xen);
