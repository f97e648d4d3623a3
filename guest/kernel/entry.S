/*
 * entry.S — the first guest instructions, the exception entry stubs and the
 * kernel stacks.
 *
 * The host builds the whole CPU environment (GDT, TSS, IDT over the stubs
 * below, page tables; addresses published in .nub_layout) and enters
 * nub_kernel_entry in 64-bit long mode in RING 3: the RPC service runs
 * there, and ring 0 only ever runs the exception path (reports, the PVM run
 * gate). A fault at any instruction is reported, never a silent triple fault.
 */
#define NUB_VECTOR_STUB_STRIDE 16

    .section .text.entry, "ax", @progbits
    .globl nub_kernel_entry
nub_kernel_entry:
    lea     nub_kernel_stack_top(%rip), %rsp
    xor     %ebp, %ebp
    call    nub_service_main
    ud2                         /* never returns */

/*
 * Exception stubs, one per vector 0..31, each exactly 16 bytes apart.
 * Vectors without a CPU error code push a zero so that every frame has the
 * same shape: [vector, error_code, rip, cs, rflags, rsp, ss].
 */
.macro VECTOR_STUB vec, has_error_code
    .balign NUB_VECTOR_STUB_STRIDE
    .if \has_error_code == 0
    pushq   $0
    .endif
    pushq   $\vec
    jmp     nub_exception_common
.endm

    .text
    .balign NUB_VECTOR_STUB_STRIDE
    .globl nub_vector_stubs
nub_vector_stubs:
    VECTOR_STUB 0, 0
    VECTOR_STUB 1, 0
    VECTOR_STUB 2, 0
    VECTOR_STUB 3, 0
    VECTOR_STUB 4, 0
    VECTOR_STUB 5, 0
    /* #UD and the JIT exit have fast paths (ring3.S); same 16-byte slot. */
    .balign NUB_VECTOR_STUB_STRIDE
    jmp     nub_fast_ud
    VECTOR_STUB 7, 0
    VECTOR_STUB 8, 1
    VECTOR_STUB 9, 0
    VECTOR_STUB 10, 1
    VECTOR_STUB 11, 1
    VECTOR_STUB 12, 1
    VECTOR_STUB 13, 1
    VECTOR_STUB 14, 1
    VECTOR_STUB 15, 0
    VECTOR_STUB 16, 0
    VECTOR_STUB 17, 1
    VECTOR_STUB 18, 0
    VECTOR_STUB 19, 0
    VECTOR_STUB 20, 0
    VECTOR_STUB 21, 1
    VECTOR_STUB 22, 0
    VECTOR_STUB 23, 0
    VECTOR_STUB 24, 0
    VECTOR_STUB 25, 0
    VECTOR_STUB 26, 0
    VECTOR_STUB 27, 0
    VECTOR_STUB 28, 0
    VECTOR_STUB 29, 1
    VECTOR_STUB 30, 1
    VECTOR_STUB 31, 0
    /* Vector 32: the JIT code's exit trap from ring 3 (`int 32`, DPL 3 gate). */
    .balign NUB_VECTOR_STUB_STRIDE
    jmp     nub_fast_jit_exit
    .balign NUB_VECTOR_STUB_STRIDE
    .globl nub_vector_stubs_end
nub_vector_stubs_end:

/*
 * Saves the general registers below the CPU frame (matching
 * struct nub_trap_frame in trap.h) and calls nub_exception_dispatch(frame).
 * If it returns, the registers are restored and the frame resumed.
 */
    .globl nub_exception_common
nub_exception_common:
    cld
    pushq   %rax
    pushq   %rbx
    pushq   %rcx
    pushq   %rdx
    pushq   %rsi
    pushq   %rdi
    pushq   %rbp
    pushq   %r8
    pushq   %r9
    pushq   %r10
    pushq   %r11
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    mov     %rsp, %rdi
    /* The SysV ABI wants rsp 16-byte aligned at the call; the CPU aligned
     * it before pushing its frame, 22 quadwords later it is 8 off. */
    mov     %rsp, %rbx
    and     $-16, %rsp
    call    nub_exception_dispatch
    mov     %rbx, %rsp
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %r11
    popq    %r10
    popq    %r9
    popq    %r8
    popq    %rbp
    popq    %rdi
    popq    %rsi
    popq    %rdx
    popq    %rcx
    popq    %rbx
    popq    %rax
    add     $16, %rsp           /* vector and error code */
    iretq

/*
 * Stacks. Each has an unmapped guard page below it (paging.c leaves the
 * guard pages out of the kernel's page tables), so an overflow faults. The
 * IST stack takes #DF, #NMI, #MC and #PF so that a kernel stack overflow is
 * still reported.
 */
    .section .bss.stacks, "aw", @nobits
    .balign 4096
    .globl nub_kernel_stack_guard, nub_kernel_stack_top
nub_kernel_stack_guard:
    .skip 4096
    .skip 65536
nub_kernel_stack_top:
    .globl nub_kernel_ist_guard, nub_kernel_ist_top
nub_kernel_ist_guard:
    .skip 4096
    .skip 16384
nub_kernel_ist_top:
    /* Ring 3 -> ring 0 traps (TSS rsp0) land here, not on the kernel stack. */
    .globl nub_kernel_trap_guard, nub_kernel_trap_top
nub_kernel_trap_guard:
    .skip 4096
    .skip 16384
nub_kernel_trap_top:

    .section .note.GNU-stack, "", @progbits
