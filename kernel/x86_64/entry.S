/* x86_64 PV trap and event-callback entry points.
   Xen bounces to these with { RCX, R11, [ERRCODE,] RIP, CS, RFLAGS, RSP, SS } on the stack. */

    .text
.macro SAVE_ALL
    push %rax; push %rbx; push %rcx; push %rdx; push %rsi; push %rdi; push %rbp
    push %r8; push %r9; push %r10; push %r11; push %r12; push %r13; push %r14; push %r15
.endm

/* Exceptions are fatal here: report and crash, so no return path is needed. */
.macro TRAP vec, has_err
    .globl trap_\vec
trap_\vec:
    pop %rcx
    pop %r11
    .if \has_err == 0
    pushq $0
    .endif
    pushq $\vec
    jmp trap_common
.endm

TRAP 0,0;  TRAP 1,0;  TRAP 2,0;  TRAP 3,0;  TRAP 4,0;  TRAP 5,0;  TRAP 6,0;  TRAP 7,0
TRAP 8,1;  TRAP 9,0;  TRAP 10,1; TRAP 11,1; TRAP 12,1; TRAP 13,1; TRAP 14,1; TRAP 16,0
TRAP 17,1; TRAP 18,0; TRAP 19,0

trap_common:                    /* stack: vec, err, rip, cs, rflags, rsp, ss */
    SAVE_ALL
    mov  %rsp, %rdi
    and  $-16, %rsp
    call do_trap
1:  jmp 1b

/* Event upcall. Events stay masked after it (Xen masks on delivery and we return with
   a plain iretq, which does not unmask): they are only unmasked inside SCHEDOP_block. */
    .globl hypervisor_callback
hypervisor_callback:
    pop %rcx
    pop %r11
    push %rax; push %rcx; push %rdx; push %rsi; push %rdi
    push %r8; push %r9; push %r10; push %r11; push %rbp
    mov  %rsp, %rbp
    and  $-16, %rsp
    call do_hypervisor_callback
    mov  %rbp, %rsp
    pop %rbp; pop %r11; pop %r10; pop %r9; pop %r8
    pop %rdi; pop %rsi; pop %rdx; pop %rcx; pop %rax
    orb  $3, 8(%rsp)            /* CS RPL 3: the PV kernel runs in ring 3 */
    orb  $3, 32(%rsp)           /* SS RPL 3 */
    iretq

    .globl failsafe_callback
failsafe_callback:
    mov  %rsp, %rdi
    and  $-16, %rsp
    call do_failsafe
1:  jmp 1b
