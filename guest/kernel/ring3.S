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

    .section .note.GNU-stack, "", @progbits
