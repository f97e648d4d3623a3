/*
 * ring3.S — dropping to ring 3 to run JIT code, and coming back.
 *
 * nub_ring3_enter(ret, rip) saves the kernel's callee-saved registers and
 * stack pointer in *ret, clears every register (no kernel value leaks to
 * ring 3) and irets to rip in ring 3. The JIT code ends with a trap
 * (NUB_VECTOR_JIT_EXIT, or a fault the kernel turns into one); the trap
 * handler calls nub_ring3_resume(ret), which makes nub_ring3_enter return.
 * Traps from ring 3 arrive on the TSS rsp0 stack, which is not the kernel
 * stack, so nothing the kernel was using is overwritten.
 */
#define RET_RBX 0
#define RET_RBP 8
#define RET_R12 16
#define RET_R13 24
#define RET_R14 32
#define RET_R15 40
#define RET_RSP 48

#define USER_CODE_SEL (0x20 | 3)
#define USER_DATA_SEL (0x18 | 3)
#define USER_RFLAGS   0x2 /* IF=0 (no interrupt sources), IOPL=0: no port access */

    .text
    .globl nub_ring3_enter
nub_ring3_enter:
    mov     %rbx, RET_RBX(%rdi)
    mov     %rbp, RET_RBP(%rdi)
    mov     %r12, RET_R12(%rdi)
    mov     %r13, RET_R13(%rdi)
    mov     %r14, RET_R14(%rdi)
    mov     %r15, RET_R15(%rdi)
    mov     %rsp, RET_RSP(%rdi)
    pushq   $USER_DATA_SEL     /* ss */
    pushq   $0                 /* rsp: the JIT code never uses the stack */
    pushq   $USER_RFLAGS
    pushq   $USER_CODE_SEL     /* cs */
    pushq   %rsi               /* rip */
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
    iretq

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
