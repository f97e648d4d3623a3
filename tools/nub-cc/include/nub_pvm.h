/*
 * nub_pvm.h — what a C program compiled with nub-cc needs to talk to its
 * PVM host. Freestanding: only compiler headers.
 *
 * Host calls (SPEC §10): NUB_ECALLI(id, a0, a1, a2, a3, a4, a5) runs the
 * PVM instruction `ecalli id` with the six arguments in r7..r12 (a0..a5) and
 * evaluates to r7 after the call (the primary result; r8 is available with
 * NUB_ECALLI2). id must be a compile-time constant in 0..2047.
 *
 *     uint64_t gas_left = NUB_ECALLI(0, 0, 0, 0, 0, 0, 0);   // `gas` host call
 *
 * Endpoints: NUB_EXPORT(k, fn) makes the (non-static) function fn endpoint
 * k, i.e. the code at pc 5*k (k = 0 is refine / is-authorized, k = 1 is
 * accumulate in JAM). An endpoint is entered with r7 = argument pointer and
 * r8 = argument length (SPEC §11.4), i.e. as fn(const uint8_t *args,
 * uint64_t len) under the RISC-V calling convention; returning halts, and
 * the output is the r8 bytes at r7 (return a two-word struct or use
 * NUB_RETURN).
 */
#ifndef NUB_PVM_H_INCLUDED
#define NUB_PVM_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#if !defined(__riscv)
#error "nub_pvm.h is for code compiled by nub-cc (RISC-V -> PVM)"
#endif

/* The instruction rv2pvm turns into `ecalli id`: the custom-0 opcode. */
#define NUB_ECALLI_INSN_(id) ".insn i 0x0B, 0, x0, x0, " #id

#define NUB_ECALLI_REGS_(a0_, a1_, a2_, a3_, a4_, a5_)                                             \
    register uint64_t nub_r7_ __asm__("a0") = (uint64_t)(a0_);                                     \
    register uint64_t nub_r8_ __asm__("a1") = (uint64_t)(a1_);                                     \
    register uint64_t nub_r9_ __asm__("a2") = (uint64_t)(a2_);                                     \
    register uint64_t nub_r10_ __asm__("a3") = (uint64_t)(a3_);                                    \
    register uint64_t nub_r11_ __asm__("a4") = (uint64_t)(a4_);                                    \
    register uint64_t nub_r12_ __asm__("a5") = (uint64_t)(a5_)

#define NUB_ECALLI_ASM_(id)                                                                        \
    __asm__ volatile(NUB_ECALLI_INSN_(id)                                                          \
                     : "+r"(nub_r7_), "+r"(nub_r8_)                                                \
                     : "r"(nub_r9_), "r"(nub_r10_), "r"(nub_r11_), "r"(nub_r12_)                   \
                     : "memory")

/* Host call `id`; evaluates to r7 afterwards. */
#define NUB_ECALLI(id, a0, a1, a2, a3, a4, a5)                                                     \
    __extension__({                                                                                \
        NUB_ECALLI_REGS_(a0, a1, a2, a3, a4, a5);                                                  \
        NUB_ECALLI_ASM_(id);                                                                       \
        nub_r7_;                                                                                   \
    })

/* Host call `id`; stores r7 in *out7 and r8 in *out8. */
#define NUB_ECALLI2(id, a0, a1, a2, a3, a4, a5, out7, out8)                                        \
    do {                                                                                           \
        NUB_ECALLI_REGS_(a0, a1, a2, a3, a4, a5);                                                  \
        NUB_ECALLI_ASM_(id);                                                                       \
        *(out7) = nub_r7_;                                                                         \
        *(out8) = nub_r8_;                                                                         \
    } while (0)

/* Makes fn (external linkage) endpoint k (pc 5*k). */
#define NUB_EXPORT(k, fn) __asm__(".globl __nub_export_" #k "\n.set __nub_export_" #k ", " #fn "\n")

/* An endpoint's result: {pointer, length} returned in a0/a1 = r7/r8. */
struct nub_output {
    const void *ptr;
    uint64_t len;
};

/* Stops the program at once (PVM `trap`: the invocation panics). */
static inline __attribute__((noreturn)) void nub_panic(void)
{
    __builtin_trap();
}

/* The tiny libc nub-cc links into every program: memcpy, memmove, memset, memcmp. */
#include <string.h>

#endif /* NUB_PVM_H_INCLUDED */
