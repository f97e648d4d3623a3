/*
 * ring3.S — the ring-3 service's gate into a PVM run, and the way back.
 *
 * The RPC service (rpc.c and everything it calls) runs in ring 3 over the
 * kernel's identity map; only the address-space switch of a PVM run needs
 * ring 0. nub_ring3_enter(ret, rip, cr3), called by the service, saves its
 * callee-saved registers and stack pointer in *ret and executes the gate
 * (`ud2` at nub_gate_enter_program). The kernel's #UD handler recognises the
 * gate, loads cr3 (the run's address space) and irets to rip, the JIT entry,
 * with every register cleared. When the run ends, the kernel switches back
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
nub_gate_enter_program:
    ud2                         /* the kernel takes over: rsi = rip, rdx = cr3 */

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
 * do the minimum in assembly and leave everything else (page faults in JIT
 * code, anything unexpected) to the generic path, nub_exception_common.
 * The run's facts come from struct nub_run_gate (ring3.h), which the service
 * fills before the gate and clears after: a switch happens only for the run
 * in progress.
 *
 * CPU frame on entry (no error code): rip 0, cs 8, rflags 16, rsp 24, ss 32.
 */
#define GATE_CR3        0
#define GATE_ENTRY      8
#define GATE_CODE_LO    16
#define GATE_CODE_HI    24
#define GATE_RET        32
#define GATE_KERNEL_CR3 40
#define PROGRAM_RFLAGS  0x2
#define SERVICE_RFLAGS  0x2
#define EXIT_STUB_BYTES 0x0B0F20CD /* int 32; ud2 */

    .globl nub_fast_ud
nub_fast_ud:
    testb   $3, 8(%rsp)
    jz      .Lslow_ud                   /* a #UD in ring 0: a kernel bug */
    pushq   %rax
    pushq   %rcx
    lea     nub_run_gate(%rip), %rcx
    cmpq    $0, GATE_RET(%rcx)
    je      .Lslow_ud_pop               /* no run in progress */
    mov     16(%rsp), %rax              /* faulting rip */
    lea     nub_gate_enter_program(%rip), %rcx
    cmp     %rcx, %rax
    jne     .Lmaybe_exit
    /* The gate: rsi = JIT entry, rdx = the run's CR3; both must be the
     * run's own. */
    lea     nub_run_gate(%rip), %rcx
    cmp     GATE_CR3(%rcx), %rdx
    jne     .Lslow_ud_pop
    cmp     GATE_ENTRY(%rcx), %rsi
    jne     .Lslow_ud_pop
    popq    %rcx
    popq    %rax
    mov     %rdx, %cr3
    mov     %rsi, 0(%rsp)               /* rip = the JIT entry stub */
    movq    $PROGRAM_RFLAGS, 16(%rsp)
    movq    $0, 24(%rsp)                /* rsp: the JIT code never uses the stack */
    xor     %eax, %eax                  /* no service value reaches the program */
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
    iretq
.Lmaybe_exit:
    /* The exit stub `int 32; ud2`: this hypervisor raises #UD on the int. */
    lea     nub_run_gate(%rip), %rcx
    cmp     GATE_CODE_LO(%rcx), %rax
    jb      .Lslow_ud_pop
    lea     4(%rax), %rax
    cmp     GATE_CODE_HI(%rcx), %rax
    ja      .Lslow_ud_pop
    cmpl    $EXIT_STUB_BYTES, -4(%rax)
    jne     .Lslow_ud_pop
    popq    %rcx
    popq    %rax
    jmp     .Lback_to_service
.Lslow_ud_pop:
    popq    %rcx
    popq    %rax
.Lslow_ud:
    pushq   $0
    pushq   $6
    jmp     nub_exception_common

    .globl nub_fast_jit_exit
nub_fast_jit_exit:
    /* `int 32` from the JIT code (hardware that delivers it). */
    testb   $3, 8(%rsp)
    jz      .Lslow_exit
    pushq   %rcx
    lea     nub_run_gate(%rip), %rcx
    cmpq    $0, GATE_RET(%rcx)
    popq    %rcx
    je      .Lslow_exit
.Lback_to_service:
    /* The exit stub stored the registers in the context block: back to the
     * kernel's tables and to nub_ring3_resume(gate.ret) in the service. */
    lea     nub_run_gate(%rip), %rdi
    mov     GATE_KERNEL_CR3(%rdi), %rax
    mov     %rax, %cr3
    mov     GATE_RET(%rdi), %rdi
    lea     nub_ring3_resume(%rip), %rax
    mov     %rax, 0(%rsp)
    movq    $SERVICE_RFLAGS, 16(%rsp)
    mov     RET_RSP(%rdi), %rax
    mov     %rax, 24(%rsp)
    iretq
.Lslow_exit:
    pushq   $0
    pushq   $32
    jmp     nub_exception_common

    .section .note.GNU-stack, "", @progbits
