/* x86_64 PV entry: the ELF notes Xen's loader reads, the entry point, the hypercall
   page Xen fills in, the page shared_info gets mapped over, and the boot stack. */
#include <xen/elfnote.h>

#define NOTE(type, desc...)                         \
    .pushsection .note.Xen, "a", @note;             \
    .balign 4;                                      \
    .long 2f - 1f; .long 4f - 3f; .long type;       \
1:  .asciz "Xen";                                   \
2:  .balign 4;                                      \
3:  desc;                                           \
4:  .balign 4;                                      \
    .popsection

NOTE(XEN_ELFNOTE_GUEST_OS,       .asciz "Morgana")
NOTE(XEN_ELFNOTE_GUEST_VERSION,  .asciz "0.1")
NOTE(XEN_ELFNOTE_XEN_VERSION,    .asciz "xen-3.0")
NOTE(XEN_ELFNOTE_VIRT_BASE,      .quad 0)
NOTE(XEN_ELFNOTE_PADDR_OFFSET,   .quad 0)
NOTE(XEN_ELFNOTE_ENTRY,          .quad _start)
NOTE(XEN_ELFNOTE_HYPERCALL_PAGE, .quad hypercall_page)
NOTE(XEN_ELFNOTE_LOADER,         .asciz "generic")

    .section .text.null, "ax"
    /* Page 0 is unmapped once we run, so a NULL dereference faults. */
    .globl null_page
null_page:
    .fill 4096, 1, 0xcc

    .section .text.entry, "ax"
    .globl _start
_start:                         /* long mode, paging on, %rsi = start_info */
    cld
    lea   stack_top(%rip), %rsp
    mov   %rsi, %rdi
    call  kernel_start          /* never returns */
1:  jmp 1b

    .section .data.pages, "aw"
    .balign 4096
    .globl hypercall_page, shared_info_page
hypercall_page:                 /* Xen writes one 32-byte stub per hypercall */
    .fill 4096, 1, 0xcc
shared_info_page:               /* remapped to the machine's shared_info frame */
    .fill 4096, 1, 0

    .section .bss.stack, "aw", @nobits
    .balign 4096
    .globl stack_guard, stack_bottom, stack_top
stack_guard:                    /* unmapped at boot: an overflow faults */
    .skip 4096
stack_bottom:
    .skip 131072
stack_top:
