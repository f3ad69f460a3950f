# Morgana top-level Makefile. `make test` and `make run` set up a fresh machine themselves.
TOP   := $(CURDIR)
CACHE := $(TOP)/.cache
BUILD := $(TOP)/build
MPY   := $(CACHE)/micropython
VENV  := $(CACHE)/venv
PY    := $(VENV)/bin/python
MICROPYTHON := $(BUILD)/unix/micropython
MPY_CROSS   := $(MPY)/mpy-cross/build/mpy-cross
export MICROPYPATH := $(TOP)/pylib:$(TOP)/drivers/console:$(TOP)/drivers/netfront:$(TOP)/drivers/blkfront:$(TOP)/tests/unit

.PHONY: all deps test run clean micropython-src unix mpy-cross

all: unix

deps:
	tools/deps.sh test

micropython-src: $(MPY)/py/mpconfig.h
$(MPY)/py/mpconfig.h:
	tools/fetch-micropython.sh

mpy-cross: $(MPY_CROSS)
$(MPY_CROSS): | $(MPY)/py/mpconfig.h
	$(MAKE) -C $(MPY)/mpy-cross -j2 >/dev/null

# MicroPython's Unix port, built from Debian's source (btree/ssl are not in the +ds tarball).
unix: $(MICROPYTHON)
$(MICROPYTHON): | $(MPY)/py/mpconfig.h
	$(MAKE) -C $(MPY)/ports/unix -j2 BUILD=$(BUILD)/unix PROG=micropython \
	  MICROPY_PY_BTREE=0 MICROPY_PY_SSL=0 FROZEN_MANIFEST= >$(BUILD)/unix.log 2>&1 || (tail -30 $(BUILD)/unix.log; exit 1)

clean:
	rm -rf $(BUILD)
