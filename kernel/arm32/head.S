/* arm32 entry: the zImage header Xen's loader accepts, then (position-independent, MMU
   off, at LOAD_IPA) page tables, MMU and caches on, and a jump to the linked addresses.
   Xen enters in ARM state with r2 = the device tree's IPA; all else is Thumb-2. */
#include "layout.h"

    .syntax unified
    .arch armv7-a
    .section .text.head, "ax"
    .arm
    .globl _start
_start:
    b     arm_entry
    .org  _start + 0x24
    .word 0x016f2818              /* zImage magic */
    .word LOAD_IPA                /* start: non-zero, so Xen loads us exactly there */
    .word _edata + (LOAD_IPA - LINK_VA)  /* end of what Xen copies (bss is ours to clear) */
    .word 0x04030201              /* little-endian marker */
arm_entry:
    blx   boot_thumb              /* to Thumb-2 for good */

    .thumb
    .thumb_func
boot_thumb:
    cpsid aif
    mov   r9, r2                  /* device tree IPA, kept for kernel_start */
    /* r10 = physical - virtual, from where we really run */
    adr   r0, boot_thumb          /* both carry the Thumb bit: drop it */
    bic   r0, r0, #1
    ldr   r1, =boot_thumb
    bic   r1, r1, #1
    sub   r10, r0, r1

    /* L1 table: 4096 one-MiB section entries, 16 KiB aligned, in .bss (phys = va + r10) */
    ldr   r4, =l1_table
    add   r4, r4, r10
    mov   r0, r4
    mov   r1, #0
    mov   r2, #4096
1:  str   r1, [r0], #4
    subs  r2, r2, #1
    bne   1b
    /* RAM: VA i MiB -> IPA RAM_IPA + i MiB; normal write-back, shareable, RW */
    ldr   r5, =SECT_NORMAL
    ldr   r6, =RAM_IPA
    orr   r6, r6, r5
    mov   r0, r4
    mov   r2, #RAM_MAX_MB
2:  str   r6, [r0], #4
    add   r6, r6, #0x100000
    subs  r2, r2, #1
    bne   2b
    /* the MiB we run in now, identity mapped, so the MMU switch keeps fetching */
    mov   r0, pc
    lsr   r0, r0, #20
    lsl   r1, r0, #20
    orr   r1, r1, r5
    str   r1, [r4, r0, lsl #2]
    /* Xen's magic pages (console, xenstore rings): normal memory too */
    ldr   r6, =MAGIC_IPA
    orr   r6, r6, r5
    ldr   r0, =(MAGIC_VA >> 20)
    add   r0, r4, r0, lsl #2
    mov   r2, #MAGIC_MB
3:  str   r6, [r0], #4
    add   r6, r6, #0x100000
    subs  r2, r2, #1
    bne   3b
    /* devices: GIC and the vpl011, shareable device memory, never executable */
    ldr   r5, =SECT_DEVICE
    ldr   r1, =GIC_IPA
    orr   r1, r1, r5
    ldr   r0, =(GIC_VA >> 20)
    str   r1, [r4, r0, lsl #2]
    ldr   r1, =UART_IPA
    orr   r1, r1, r5
    ldr   r0, =(UART_VA >> 20)
    str   r1, [r4, r0, lsl #2]

    /* MMU on: TTBR0 (walks cached WB-WA, shareable), all domains client */
    mov   r0, #0
    mcr   p15, 0, r0, c8, c7, 0   /* TLBIALL */
    mcr   p15, 0, r0, c7, c5, 0   /* ICIALLU */
    dsb
    isb
    orr   r0, r4, #0x4a           /* IRGN=01 (bit 6), RGN=01, S */
    mcr   p15, 0, r0, c2, c0, 0   /* TTBR0 */
    mov   r0, #0
    mcr   p15, 0, r0, c2, c0, 2   /* TTBCR: short descriptors, TTBR0 only */
    ldr   r0, =0x55555555
    mcr   p15, 0, r0, c3, c0, 0   /* DACR */
    isb
    mrc   p15, 0, r0, c1, c0, 0
    ldr   r1, =SCTLR_SET
    orr   r0, r0, r1
    bic   r0, r0, #(1 << 1)       /* A: unaligned access allowed */
    bic   r0, r0, #(1 << 13)      /* V: vectors at VBAR */
    mcr   p15, 0, r0, c1, c0, 0
    isb
    ldr   r0, =virtual
    orr   r0, r0, #1
    bx    r0

    .thumb_func
virtual:
    /* clear .bss (the L1 table lives there: skip it) */
    ldr   r0, =__bss_start
    ldr   r1, =l1_table
    mov   r2, #0
4:  cmp   r0, r1
    bhs   5f
    str   r2, [r0], #4
    b     4b
5:  ldr   r0, =l1_table_end
    ldr   r1, =_end
6:  cmp   r0, r1
    bhs   7f
    str   r2, [r0], #4
    b     6b
7:  /* one small stack for every exception mode (all fatal but IRQs, unused), then SVC */
    ldr   r0, =exc_stack_top
    cps   #0x12                   /* IRQ */
    mov   sp, r0
    cps   #0x17                   /* ABT */
    mov   sp, r0
    cps   #0x1b                   /* UND */
    mov   sp, r0
    cps   #0x13                   /* SVC */
    ldr   sp, =stack_top
    ldr   r0, =vectors
    mcr   p15, 0, r0, c12, c0, 0  /* VBAR */
    isb
    /* VFP/NEON on: CPACR cp10/cp11 full access, then FPEXC.EN */
    mrc   p15, 0, r0, c1, c0, 2
    orr   r0, r0, #(0xf << 20)
    mcr   p15, 0, r0, c1, c0, 2
    isb
    mov   r0, #(1 << 30)
    vmsr  fpexc, r0
    mov   r0, r9                  /* device tree IPA */
    mov   r1, r10                 /* phys - virt */
    bl    arm32_start             /* never returns */
8:  wfi
    b     8b
    .ltorg

    .equ  SECT_NORMAL, 0x11c0e    /* section, C B, TEX=001 (WB-WA), AP=11, S */
    .equ  SECT_DEVICE, 0x00c16    /* section, B (shareable device), XN, AP=11 */
    .equ  SCTLR_SET, (1 << 0) | (1 << 2) | (1 << 11) | (1 << 12) | (1 << 30)  /* M C Z I TE */

    .section .bss.pt, "aw", %nobits
    .balign 16384
    .globl l1_table
l1_table:
    .skip 16384
l1_table_end:

    .section .bss.stack, "aw", %nobits
    .balign 4096
    .globl stack_bottom, stack_top, exc_stack_top
exc_stack:
    .skip 4096
exc_stack_top:
stack_bottom:
    .skip 131072
stack_top:

    .section .data.pages, "aw"
    .balign 4096
    .globl shared_info_page
shared_info_page:                 /* its frame is swapped for Xen's shared_info */
    .fill 4096, 1, 0
