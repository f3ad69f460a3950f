/* arm32 address layout (shared by head.S, setup.c and kernel.lds).
   Our RAM appears at VA 0, so virtual page numbers start at 0 as on x86_64 PV and common
   code (page bitmap, pfn_to_virt) works unchanged (xen/arch-arm.h keeps its GUEST_* map
   to Xen and its tools, so the addresses we rely on are restated here); a "mfn" here is the guest frame number
   (IPA >> 12) that Xen and backends see. Devices and Xen's magic pages sit high. */
#ifndef MORGANA_ARM32_LAYOUT_H
#define MORGANA_ARM32_LAYOUT_H
#define RAM_IPA       0x40000000   /* GUEST_RAM0_BASE in xen/arch-arm.h */
#define LOAD_IPA      0x40008000   /* zImage "start": Xen copies us exactly here */
#define LINK_VA       0x00008000   /* = LOAD_IPA - RAM_IPA */
#define RAM_MAX_MB    768          /* VA 0 .. 768 MiB: RAM sections */
#define GIC_VA        0xF0000000   /* 1 MiB at IPA 0x03000000: GICD +0x1000, GICC +0x2000 */
#define GIC_IPA       0x03000000
#define UART_VA       0xF0100000   /* vpl011 at GUEST_PL011_BASE */
#define UART_IPA      0x22000000
#define MAGIC_VA      0xF1000000   /* GUEST_MAGIC_BASE: console/xenstore rings */
#define MAGIC_IPA     0x39000000
#define MAGIC_MB      16
#define GNTTAB_IPA    0x38000000   /* GUEST_GNTTAB_BASE: where grant frames are first placed */
#define GUEST_EVTCHN_PPI_NR 31     /* GUEST_EVTCHN_PPI */
#define GUEST_VTIMER_PPI_NR 27     /* GUEST_TIMER_VIRT_PPI */
#endif
