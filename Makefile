# Morgana: `make test` and `make run` set up a fresh machine themselves (tools/deps.sh:
# apt + pip, idempotent; MicroPython's source from Debian; Xen, Linux dom0 and QEMU from
# Debian for the Xen-in-QEMU rig).
TOP   := $(CURDIR)
CACHE := $(TOP)/.cache
BUILD := $(TOP)/build
MPY   := $(CACHE)/micropython
VENV  := $(CACHE)/venv
PY    := $(VENV)/bin/python
MORGANA := $(VENV)/bin/morgana
MICROPYTHON := $(BUILD)/unix/micropython
MPY_CROSS   := $(MPY)/mpy-cross/build/mpy-cross
export MICROPYPATH := $(TOP)/pylib:$(TOP)/pylib/compat:$(TOP)/drivers/console:$(TOP)/drivers/netfront:$(TOP)/drivers/blkfront:$(TOP)/tests/unit
export PATH := $(VENV)/bin:$(PATH)

# the unikernels built for Xen x86_64 by `make`
IMAGES := hello repl www dns echo notes
XEN_IMAGES := $(foreach n,$(IMAGES),$(BUILD)/$(n)/$(n).xen)

.PHONY: all deps deps-build deps-run unix mpy-cross images test test-fast run clean sizes xenrig soak

all: deps-build unix images sizes

deps-build:
	@tools/deps.sh build

deps:
	@tools/deps.sh test

deps-run:
	@tools/deps.sh run

$(MPY)/py/mpconfig.h:
	tools/fetch-micropython.sh

mpy-cross: $(MPY_CROSS)
$(MPY_CROSS): | $(MPY)/py/mpconfig.h
	$(MAKE) -C $(MPY)/mpy-cross -j2 >/dev/null

# MicroPython's Unix port, built from Debian's source (btree/ssl are not in the +ds tarball).
unix: $(MICROPYTHON)
$(MICROPYTHON): | $(MPY)/py/mpconfig.h
	@mkdir -p $(BUILD)
	$(MAKE) -C $(MPY)/ports/unix -j2 BUILD=$(BUILD)/unix PROG=micropython \
	  MICROPY_PY_BTREE=0 MICROPY_PY_SSL=0 FROZEN_MANIFEST= >$(BUILD)/unix.log 2>&1 || (tail -30 $(BUILD)/unix.log; exit 1)

# One Xen image per config: `morgana configure` + `morgana build` (kernel/Makefile inside).
images: $(XEN_IMAGES)
# everything an image is made of: a change to any of these rebuilds the images
IMAGE_INPUTS := $(shell find kernel pylib drivers htdocs configs/zones -type f -not -path '*/__pycache__/*')
.SECONDEXPANSION:
$(BUILD)/%.xen: configs/$$(*F).py $(MPY_CROSS) $(IMAGE_INPUTS)
	$(MORGANA) configure configs/$(*F).py --target xen-x86_64
	$(MORGANA) build $(*F)

sizes: $(XEN_IMAGES)
	@printf '%-8s %10s %10s %10s %12s %8s %22s\n' image text data bss 'file bytes' KiB 'headroom under 1 MiB'
	@for n in $(IMAGES); do f=$(BUILD)/$$n/$$n.xen; size $$f | tail -1 | \
	  awk -v n=$$n -v b=$$(stat -c %s $$f) '{printf "%-8s %10d %10d %10d %12d %8.0f %22s\n", n, $$1, $$2, $$3, b, \
	    b/1024, sprintf("%.0f KiB (%.0f%%)", 1024-b/1024, 100-b/10485.76)}'; done

# Everything: unit tests on CPython and MicroPython, property tests, the TAP/netns tests
# against Linux peers, the services, and Xen 4.17 in QEMU (x86_64 and arm32). A failed test
# gets one more try (reported as "rerun" in the summary): emulated machines on a shared
# host time out now and then; a real bug fails twice.
test: deps unix mpy-cross images sizes xenrig
	$(PY) -m pytest -q -p no:cacheprovider --reruns 1 tests

# The heavier tier, not in `make test` (root, network namespaces): www and dns on unix-tap
# under wrk, DNS queries and randomized scapy abuse for SOAK_MINUTES, then checked for
# crashes and heap growth (tests/tap/soak.py prints the numbers).
SOAK_MINUTES ?= 30
soak: deps unix mpy-cross
	$(PY) tests/tap/soak.py --minutes $(SOAK_MINUTES)

# Quick loop while developing: no QEMU, no network namespaces.
test-fast: deps unix
	$(PY) -m pytest -q -p no:cacheprovider tests/unit tests/prop tests/test_unit_micropython.py

# `make run`: www under Xen in QEMU, served at http://127.0.0.1:8080/ until Ctrl-C. The rig's
# dom0 bridges the guest onto QEMU's user network, where the host's port 8080 is forwarded
# to 10.0.2.20:80 (build/www/www.xl, from `make`, uses DHCP as on a real Xen host).
RUN_OPTS := DHCP=no IP=10.0.2.20 GATEWAY=10.0.2.2
run: deps-run unix mpy-cross
	$(MORGANA) -B $(BUILD)/run configure configs/www.py --target xen-x86_64 $(RUN_OPTS)
	$(MORGANA) -B $(BUILD)/run build www
	GUEST_IP=10.0.2.20 PORT=8080 tools/xenrig/run.sh $(BUILD)/run/www/www.xen $(BUILD)/run/www/www.xl

# Debian's Xen 4.17, a Linux dom0 and its initramfs for the Xen-in-QEMU tests (cached).
xenrig:
	tools/xenrig/setup.sh

clean:
	rm -rf $(BUILD)
