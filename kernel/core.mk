# The kernel core of an arch: the boot layer + MicroPython (from Debian's source, fetched
# into .cache/micropython by tools/fetch-micropython.sh), built once per arch into
# build/kernel-ARCH by kernel/Makefile; images then only add their frozen Python.
# `core-objs` leaves the object list and compile flags for kernel/Makefile; the default
# target links a bare image (port/manifest.py: the REPL) to check the core links.
ARCH     ?= x86_64
NAME     ?= kernel
KDIR     := $(CURDIR)
MPY_DIR  ?= $(abspath $(KDIR)/../.cache/micropython)
BUILD    ?= $(abspath $(KDIR)/../build/kernel-$(ARCH))
MANIFEST ?= $(KDIR)/port/manifest.py

include $(MPY_DIR)/py/mkenv.mk
vpath mpconfigport.h $(KDIR)/port

FROZEN_MANIFEST = $(MANIFEST)
QSTR_DEFS = port/qstrdefsport.h
MICROPY_ROM_TEXT_COMPRESSION = 1
MICROPY_MANIFEST_MORGANA = $(abspath $(KDIR)/..)

ifeq ($(ARCH),x86_64)
MPY_CROSS_FLAGS += -march=x64
MPY_TOOL_FLAGS += -mmpz-dig-size 32
ARCH_CFLAGS = -m64 -mno-red-zone -mcmodel=small -fno-pic -fno-pie
else ifeq ($(ARCH),arm32)
CROSS_COMPILE ?= arm-linux-gnueabihf-
MPY_CROSS_FLAGS += -march=armv7m
ARCH_CFLAGS = -march=armv7-a -mthumb -mfpu=vfpv4 -mfloat-abi=hard -fno-pic -fno-pie
endif

include $(TOP)/py/py.mk
include $(TOP)/extmod/extmod.mk

# The Xen public headers come from Debian's libxen-dev, exposed alone (not all of /usr/include).
XENINC := $(BUILD)/xeninc
$(XENINC)/xen:
	mkdir -p $(XENINC) && ln -sfn /usr/include/xen $(XENINC)/xen

INC += -I$(KDIR)/include/libc -I$(KDIR)/include -I$(KDIR)/$(ARCH) -I$(KDIR)/port -I$(KDIR)
INC += -I$(TOP) -I$(BUILD) -I$(XENINC)
CFLAGS += $(INC) $(ARCH_CFLAGS) -std=gnu11 -Wall -Os -DNDEBUG -ffreestanding -fbuiltin -nostdinc \
	-isystem $(shell $(CC) -print-file-name=include) -fno-stack-protector \
	-fno-asynchronous-unwind-tables -fdata-sections -ffunction-sections -fno-common
CSUPEROPT = -O2
# The event upcall path may interrupt code holding live SSE registers: keep it off them.
$(BUILD)/common/events.o $(BUILD)/$(ARCH)/setup.o: CFLAGS += -mgeneral-regs-only
$(BUILD)/common/lib.o: CFLAGS += -fno-builtin
$(BUILD)/lib/libm_dbl/%.o: CFLAGS += -Wno-maybe-uninitialized -Wno-unused-but-set-variable

SRC_C = \
	port/main.c port/mphalport.c port/modxen.c \
	common/console.c common/events.c common/mm.c common/gnttab.c common/lib.c common/time.c \
	$(ARCH)/setup.c
SRC_S = $(ARCH)/head.S $(ARCH)/entry.S
SRC_SHARED = \
	shared/libc/string0.c \
	shared/readline/readline.c shared/runtime/pyexec.c \
	shared/runtime/stdout_helpers.c shared/runtime/sys_stdio_mphal.c \
	shared/runtime/gchelper_generic.c
SRC_LIBM = $(SRC_LIB_LIBM_DBL_C) $(SRC_LIB_LIBM_DBL_SQRT_SW_C)
SRC_QSTR += port/modxen.c port/main.c shared/readline/readline.c shared/runtime/pyexec.c \
	shared/runtime/sys_stdio_mphal.c

OBJ += $(PY_O)
OBJ += $(addprefix $(BUILD)/, $(SRC_C:.c=.o) $(SRC_S:.S=.o) $(SRC_SHARED:.c=.o) $(SRC_LIBM:.c=.o))

$(BUILD)/%.o: %.S | $(XENINC)/xen
	$(ECHO) "AS $<"
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -D__ASSEMBLY__ -c -o $@ $<

$(OBJ): | $(XENINC)/xen

LDFLAGS_K = -nostdlib -static -T $(KDIR)/$(ARCH)/kernel.lds --gc-sections -z max-page-size=4096 \
	-z noexecstack --no-warn-rwx-segments
LIBGCC := $(shell $(CC) $(ARCH_CFLAGS) -print-libgcc-file-name)

all: $(BUILD)/$(NAME).xen

CORE_OBJ = $(filter-out $(BUILD)/frozen_content.o,$(OBJ))
core-objs: $(CORE_OBJ)
	@echo $(CORE_OBJ) > $(BUILD)/objs.new
	@cmp -s $(BUILD)/objs.new $(BUILD)/objs && rm $(BUILD)/objs.new || mv $(BUILD)/objs.new $(BUILD)/objs
	@echo '$(filter-out -DFFCONF_H%,$(CFLAGS))' > $(BUILD)/cflags.new
	@cmp -s $(BUILD)/cflags.new $(BUILD)/cflags && rm $(BUILD)/cflags.new || mv $(BUILD)/cflags.new $(BUILD)/cflags
	@echo '$(MPY_CROSS_FLAGS)' > $(BUILD)/mpy-cross-flags
	@echo '$(MPY_TOOL_FLAGS)' > $(BUILD)/mpy-tool-flags

$(BUILD)/$(NAME).elf: $(OBJ) $(KDIR)/$(ARCH)/kernel.lds
	$(ECHO) "LINK $@"
	$(Q)$(LD) $(LDFLAGS_K) -Map=$@.map -o $@ $(OBJ) $(LIBGCC)

$(BUILD)/$(NAME).xen: $(BUILD)/$(NAME).elf
	$(Q)$(OBJCOPY) --strip-all $< $@
	$(Q)$(SIZE) $@ | tail -1 | awk '{printf "image %s: text %d data %d bss %d; ", "$(NAME).xen", $$1, $$2, $$3}'
	$(Q)stat -c '%s bytes on disk (%s)' $@ | awk '{printf "%s %s %s %s (%.1f KiB)\n", $$1, $$2, $$3, $$4, $$1/1024}'

include $(TOP)/py/mkrules.mk
