/* arm32 exception vectors (VBAR, Thumb-2 since SCTLR.TE is set). Interrupts stay masked:
   we wait with WFI and read the GIC ourselves (setup.c), so every vector here is a fault
   to report before crashing the domain. */
    .syntax unified
    .arch armv7-a
    .thumb

    .section .text.vectors, "ax"
    .balign 32
    .globl vectors
vectors:
    b.w   trap_reset
    b.w   trap_undef
    b.w   trap_svc
    b.w   trap_pabt
    b.w   trap_dabt
    b.w   trap_reset
    b.w   trap_irq
    b.w   trap_fiq

.macro TRAP name, kind
    .thumb_func
trap_\name:
    push  {r0-r12, lr}            /* on the exception mode's own stack */
    mov   r0, #\kind
    mov   r1, sp
    bl    arm32_trap              /* reports and crashes: never returns */
1:  b     1b
.endm

TRAP reset, 0
TRAP undef, 1
TRAP svc, 2
TRAP pabt, 3
TRAP dabt, 4
TRAP irq, 6
TRAP fiq, 7
