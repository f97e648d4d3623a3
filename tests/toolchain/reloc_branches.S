/*
 * reloc_branches.S — branches and jumps to global symbols in another
 * section, so the linked ELF carries R_RISCV_BRANCH, R_RISCV_RVC_BRANCH,
 * R_RISCV_JAL and R_RISCV_RVC_JUMP (the assembler resolves them itself
 * inside one section). The conditional and compressed ones are written with
 * .insn, because the assembler otherwise rewrites a branch to another
 * section into an inverted branch + jal. f(0) = 200, f(1) = 100,
 * f(2) = 300, else 2x + 1.
 */
    .section .text.entry, "ax", @progbits
    .globl br_entry
br_entry:
    addi a1, a0, -1
    .insn b 0x63, 0, a1, x0, target_one  /* beq a1, x0: R_RISCV_BRANCH */
    .insn cb 1, 6, a0, target_zero       /* c.beqz a0: R_RISCV_RVC_BRANCH */
    addi a1, a0, -2
    c.bnez a1, 1f
    jal x0, target_two          /* R_RISCV_JAL */
1:  .insn cj 1, 5, target_other        /* c.j: R_RISCV_RVC_JUMP */

    .section .text.targets, "ax", @progbits
    .globl target_one, target_zero, target_two, target_other, helper
target_one:
    li a0, 100
    ret
target_zero:
    li a0, 200
    ret
target_two:
    li a0, 300
    ret
target_other:
    mv s0, ra
    jal ra, helper              /* R_RISCV_JAL with a link: a call */
    mv ra, s0
    addi a0, a0, 1
    ret
helper:
    slli a0, a0, 1
    ret

    .globl __nub_export_0
    .set __nub_export_0, br_entry
