/*
 * reject_base.S — a small valid program that test_rv2pvm_reject.c corrupts
 * in specific ways. Code at 0x40000000 (nub_pvm.ld): slot i is the 4-byte
 * instruction at 0x40000000 + 4*i.
 */
    .option norvc
    .text
    .globl entry
entry:
    addi a0, a0, 1          /* slot 0 */
    addi a0, a0, 2          /* slot 1 */
    lui a1, %hi(value)      /* slot 2: R_RISCV_HI20 (data) */
    ld a1, %lo(value)(a1)   /* slot 3: R_RISCV_LO12_I (data) */
    add a0, a0, a1          /* slot 4 */
    lui a2, %hi(helper)     /* slot 5: R_RISCV_HI20 (code) */
    addi a2, a2, %lo(helper) /* slot 6: R_RISCV_LO12_I (code) */
    jr a2                   /* slot 7: tail call through a register */
helper:
    addi a0, a0, 3          /* slot 8 */
    ret                     /* slot 9 */

    .globl __nub_export_0
    .set __nub_export_0, entry

    .data
    .p2align 3
value:
    .quad 100
fnptr:
    .quad helper            /* R_RISCV_64 (code) */
