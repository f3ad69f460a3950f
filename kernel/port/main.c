// Kernel entry after the arch code: bring up Xen services, size the Python heap from the
// domain's memory, run the frozen `_boot` module, and turn its outcome into the domain's
// shutdown reason (poweroff on a normal end, crash on an uncaught exception).
#include "py/compile.h"
#include "py/gc.h"
#include "py/mperrno.h"
#include "py/runtime.h"
#include "py/stackctrl.h"
#include "py/builtin.h"
#include "shared/runtime/gchelper.h"
#include "kernel.h"

extern char stack_top[], stack_bottom[];

// Pages kept out of the heap for rings and I/O buffers shared with backends.
static unsigned long io_reserve(unsigned long free) {
    unsigned long r = free / 4;
    return r < 512 ? (free > 1024 ? 512 : free / 2) : r;
}

static char *heap;
static unsigned long heap_pages;

// What _xen.soft_reset(arg) passes to the next run of `_boot` (see _xen.boot_arg()).
mp_int_t xen_boot_arg;
bool xen_soft_reset_requested;

static void start_python(void) {
    if (!heap) {
        unsigned long free = mm_free_pages();
        heap_pages = free - io_reserve(free);
        heap = alloc_pages(heap_pages);
        if (!heap)
            panic("no memory for a %lu-page heap", heap_pages);
    }
    mp_stack_set_top(stack_top);
    mp_stack_set_limit(stack_top - stack_bottom - 8192);
    gc_init(heap, heap + heap_pages * PAGE_SIZE);
    mp_init();
}

#define SOFT_RESET 0x100

// Returns the shutdown reason, or SOFT_RESET to start a fresh interpreter.
static unsigned int run_boot_module(void) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t args[1] = { MP_OBJ_NEW_QSTR(MP_QSTR__boot) };
        mp_builtin___import__(1, args);
        nlr_pop();
        return SHUTDOWN_poweroff;
    }
    if (xen_soft_reset_requested)
        return SOFT_RESET;
    mp_obj_t exc = MP_OBJ_FROM_PTR(nlr.ret_val);
    if (mp_obj_is_subclass_fast(MP_OBJ_FROM_PTR(mp_obj_get_type(exc)),
                                MP_OBJ_FROM_PTR(&mp_type_SystemExit))) {
        mp_obj_t code = mp_obj_exception_get_value(exc);
        if (code == mp_const_none || (mp_obj_is_small_int(code) && MP_OBJ_SMALL_INT_VALUE(code) == 0))
            return SHUTDOWN_poweroff;
        mp_obj_print_helper(&mp_plat_print, code, PRINT_STR);
        mp_printf(&mp_plat_print, "\n");
        return SHUTDOWN_crash;
    }
    mp_obj_print_exception(&mp_plat_print, exc);
    return SHUTDOWN_crash;
}

// sys.atexit() callback, run once the app has ended (not on a soft reset).
static void run_atexit(void) {
    if (!mp_obj_is_callable(MP_STATE_VM(sys_exitfunc)))
        return;
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_call_function_0(MP_STATE_VM(sys_exitfunc));
        nlr_pop();
    } else {
        mp_obj_print_exception(&mp_plat_print, MP_OBJ_FROM_PTR(nlr.ret_val));
    }
}

void kernel_start(void *boot_info) {
    arch_init(boot_info);
    console_init();
    events_init();
    if (gnttab_init())
        printk("morgana: grant table unavailable\n");
    unsigned int reason;
    for (;;) {
        start_python();
        xen_soft_reset_requested = false;
        reason = run_boot_module();
        if (reason != SOFT_RESET) {
            run_atexit();
            break;
        }
        mp_deinit();                        // a clean VM over the same heap
    }
    kernel_shutdown(reason);
}

void gc_collect(void) {
    gc_collect_start();
    gc_helper_collect_regs_and_stack();
    gc_collect_end();
}

// No filesystem: only frozen modules exist.
mp_import_stat_t mp_import_stat(const char *path) {
    (void)path;
    return MP_IMPORT_STAT_NO_EXIST;
}

mp_lexer_t *mp_lexer_new_from_file(qstr filename) {
    mp_raise_OSError(MP_ENOENT);
}

// No files either: open() exists (the io module refers to it) and always fails.
static mp_obj_t no_open(size_t n_args, const mp_obj_t *args, mp_map_t *kwargs) {
    mp_raise_OSError(MP_ENOENT);
}
MP_DEFINE_CONST_FUN_OBJ_KW(mp_builtin_open_obj, 1, no_open);

void nlr_jump_fail(void *val) {
    panic("uncaught NLR %p", val);
}

void NORETURN __fatal_error(const char *msg) {
    panic("%s", msg);
}
