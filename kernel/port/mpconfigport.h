/* MicroPython configuration for the Morgana kernel: the "extra features" level (what
   portable Python code expects: memoryview, deque, heapq, f-strings, source lines in
   tracebacks), minus everything that assumes an OS or hardware underneath. */
#include <stdint.h>

#define MICROPY_CONFIG_ROM_LEVEL            (MICROPY_CONFIG_ROM_LEVEL_EXTRA_FEATURES)

#define MICROPY_ENABLE_COMPILER             (1)     /* REPL, eval, exec */
#define MICROPY_ENABLE_GC                   (1)
#define MICROPY_HELPER_REPL                 (1)
#define MICROPY_REPL_AUTO_INDENT            (1)
#define MICROPY_ENABLE_EXTERNAL_IMPORT      (1)     /* import of frozen modules */
#define MICROPY_ALLOC_PATH_MAX              (256)
#define MICROPY_STACK_CHECK                 (1)
#define MICROPY_MEM_STATS                   (0)
#define MICROPY_GC_ALLOC_THRESHOLD          (1)
#define MICROPY_FLOAT_IMPL                  (MICROPY_FLOAT_IMPL_DOUBLE)
#define MICROPY_LONGINT_IMPL                (MICROPY_LONGINT_IMPL_MPZ)
#define MICROPY_ENABLE_FINALISER            (1)
#define MICROPY_PY_SYS_EXIT                 (1)
#define MICROPY_PY_SYS_EXC_INFO             (1)
#define MICROPY_PY_SYS_ATEXIT               (1)     /* run at a normal end, before poweroff */
#define MICROPY_ENABLE_EMERGENCY_EXCEPTION_BUF (1)  /* exceptions while the heap is locked */
#define MICROPY_EMERGENCY_EXCEPTION_BUF_SIZE (256)
#define MICROPY_PY_SYS_PLATFORM             "xen"
#define MICROPY_PY_SYS_STDIO_BUFFER         (1)
#define MICROPY_PY_MICROPYTHON_MEM_INFO     (1)
#define MICROPY_USE_INTERNAL_PRINTF         (1)
#define MICROPY_USE_INTERNAL_ERRNO          (1)
#define MICROPY_PY_BUILTINS_HELP            (0)

/* Native code: @micropython.native / viper, and frozen native code from mpy-cross. */
#if defined(__x86_64__)
#define MICROPY_EMIT_X64                    (1)
#elif defined(__thumb2__)
#define MICROPY_EMIT_THUMB                  (1)
#define MICROPY_EMIT_INLINE_THUMB           (1)
#endif
#define MICROPY_PERSISTENT_CODE_LOAD        (1)

/* time: ticks and time_ns from Xen time; no calendar functions */
#define MICROPY_PY_TIME                     (1)
#define MICROPY_PY_TIME_TIME_TIME_NS        (1)
#define MICROPY_PY_TIME_GMTIME_LOCALTIME_MKTIME (0)
#define MICROPY_PY_TIME_INCLUDEFILE         "port/modtime.c"

/* no OS, filesystem, hardware, threads or sockets in a unikernel's interpreter */
#define MICROPY_PY_OS                       (0)
#define MICROPY_VFS                         (0)
#define MICROPY_READER_VFS                  (0)
#define MICROPY_PY_SELECT                   (0)
#define MICROPY_PY_MACHINE                  (0)
#define MICROPY_PY_FRAMEBUF                 (0)
#define MICROPY_PY_DEFLATE                  (0)
#define MICROPY_PY_ASYNCIO                  (0)
#define MICROPY_PY_PLATFORM                 (0)
#define MICROPY_PY_CRYPTOLIB                (0)
#define MICROPY_PY_WEBSOCKET                (0)
#define MICROPY_PY_WEBREPL                  (0)
#define MICROPY_PY_OS_DUPTERM               (0)
#define MICROPY_PY_THREAD                   (0)
#define MICROPY_PY_SOCKET                   (0)
#define MICROPY_PY_NETWORK                  (0)
#define MICROPY_PY_SSL                      (0)
#define MICROPY_PY_BTREE                    (0)
#define MICROPY_PY_UCTYPES                  (0)
#define MICROPY_PY_HASHLIB_MD5              (0)
#define MICROPY_PY_HASHLIB_SHA1             (0)

#define MICROPY_HW_BOARD_NAME               "xen"
#if defined(__x86_64__)
#define MICROPY_HW_MCU_NAME                 "x86_64-pv"
#else
#define MICROPY_HW_MCU_NAME                 "arm32"
#endif
#define MICROPY_BANNER_MACHINE              "Morgana (Xen " MICROPY_HW_MCU_NAME ")"

typedef intptr_t mp_int_t;
typedef uintptr_t mp_uint_t;
typedef long mp_off_t;

#include <alloca.h>

#define MP_STATE_PORT MP_STATE_VM
#define MICROPY_PORT_ROOT_POINTERS
#define MICROPY_HEAP_SIZE_FROM_DOMAIN       (1)
uintptr_t mp_hal_ticks_cpu(void);
#define MICROPY_PY_RANDOM_SEED_INIT_FUNC    ((uint32_t)mp_hal_ticks_cpu())
