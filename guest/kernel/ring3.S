/*
 * ring3.S — the ring-3 service's gate into a PVM run, and the way back.
 *
 * The RPC service (rpc.c and everything it calls) runs in ring 3 over the
 * kernel's identity map; only the address-space switch of a PVM run needs
 * ring 0. nub_ring3_enter(ret), called by the service after it filled
 * nub_run_gate with the run's facts, saves its callee-saved registers
 * and stack pointer in *ret, clears every register and executes the gate
 * (`ud2` at nub_gate_enter_program). The kernel's #UD fast path recognises
 * the gate, loads the run's CR3 and irets to the JIT entry. When the run ends, the kernel switches back
 * to the kernel's page tables and irets to nub_ring3_resume with rdi = ret,
 * which makes nub_ring3_enter return 0 in the service.
 */
#define RET_RBX 0
#define RET_RBP 8
#define RET_R12 16
#define RET_R13 24
#define RET_R14 32
#define RET_R15 40
#define RET_RSP 48

    .text
    .globl nub_ring3_enter, nub_gate_enter_program
nub_ring3_enter:
    mov     %rbx, RET_RBX(%rdi)
    mov     %rbp, RET_RBP(%rdi)
    mov     %r12, RET_R12(%rdi)
    mov     %r13, RET_R13(%rdi)
    mov     %r14, RET_R14(%rdi)
    mov     %r15, RET_R15(%rdi)
    mov     %rsp, RET_RSP(%rdi)
    /* Nothing of the service may reach the program: clear every register
     * here, natively, rather than in the (possibly emulated) ring-0 path. */
    xor     %eax, %eax
    xor     %ebx, %ebx
    xor     %ecx, %ecx
    xor     %edx, %edx
    xor     %esi, %esi
    xor     %edi, %edi
    xor     %ebp, %ebp
    xor     %r8d, %r8d
    xor     %r9d, %r9d
    xor     %r10d, %r10d
    xor     %r11d, %r11d
    xor     %r12d, %r12d
    xor     %r13d, %r13d
    xor     %r14d, %r14d
    xor     %r15d, %r15d
nub_gate_enter_program:
    ud2                         /* the kernel takes over (struct nub_run_gate) */

    .globl nub_ring3_resume
nub_ring3_resume:
    mov     RET_RBX(%rdi), %rbx
    mov     RET_RBP(%rdi), %rbp
    mov     RET_R12(%rdi), %r12
    mov     RET_R13(%rdi), %r13
    mov     RET_R14(%rdi), %r14
    mov     RET_R15(%rdi), %r15
    mov     RET_RSP(%rdi), %rsp
    xor     %eax, %eax
    ret

/*
 * Ring-0 fast paths for the two switches of a PVM run. On a hypervisor that
 * emulates guest ring 0 every instruction here costs microseconds, so they
 * do the minimum: the facts come from struct nub_run_gate (ring3.h), which
 * the service fills before the gate and clears after (so a switch happens
 * only for the run in progress, at the two addresses it names), and the
 * service has already cleared its registers. Everything else (page faults
 * in JIT code, anything unexpected) goes to nub_exception_common; rax is
 * lost on that path, which only reports or maps faults.
 *
 * CPU frame on entry (no error code): rip 0, cs 8, rflags 16, rsp 24, ss 32.
 */
#define GATE_CR3         0
#define GATE_ENTRY       8
#define GATE_VA          16
#define GATE_EXIT_INT_VA 24
#define GATE_RET         32
#define GATE_KERNEL_CR3  40
#define RING3_RFLAGS     0x2 /* IF 0, IOPL 0 (the TSS I/O bitmap decides) */

    .globl nub_fast_ud
nub_fast_ud:
    testb   $3, 8(%rsp)
    jz      .Lslow_ud                   /* a #UD in ring 0: a kernel bug */
    mov     0(%rsp), %rax               /* faulting rip */
    cmp     nub_run_gate+GATE_EXIT_INT_VA(%rip), %rax
    je      .Lback_to_service           /* this hypervisor: #UD on the exit's int */
    cmp     nub_run_gate+GATE_VA(%rip), %rax
    jne     .Lslow_ud
    /* The gate: into the run's address space, at the JIT entry stub. */
    mov     nub_run_gate+GATE_CR3(%rip), %rax
    mov     %rax, %cr3
    mov     nub_run_gate+GATE_ENTRY(%rip), %rax
    mov     %rax, 0(%rsp)
    movq    $RING3_RFLAGS, 16(%rsp)
    movq    $0, 24(%rsp)                /* rsp: the JIT code never uses the stack */
    xor     %eax, %eax
    iretq
.Lslow_ud:
    pushq   $0
    pushq   $6
    jmp     nub_exception_common

    .globl nub_fast_jit_exit
nub_fast_jit_exit:
    /* `int 32` from the JIT code (hardware that delivers it). */
    testb   $3, 8(%rsp)
    jz      .Lslow_exit
    cmpq    $0, nub_run_gate+GATE_RET(%rip)
    je      .Lslow_exit
.Lback_to_service:
    /* The exit stub stored the registers in the context block: back to the
     * kernel's tables and to nub_ring3_resume(gate.ret) in the service. */
    mov     nub_run_gate+GATE_RET(%rip), %rdi
    mov     RET_RSP(%rdi), %rax
    mov     %rax, 24(%rsp)
    lea     nub_ring3_resume(%rip), %rax
    mov     %rax, 0(%rsp)
    movq    $RING3_RFLAGS, 16(%rsp)
    mov     nub_run_gate+GATE_KERNEL_CR3(%rip), %rax
    mov     %rax, %cr3
    iretq
.Lslow_exit:
    pushq   $0
    pushq   $32
    jmp     nub_exception_common

    .section .note.GNU-stack, "", @progbits
