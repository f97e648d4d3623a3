/*
 * insn_cases.h — one RISC-V instruction (or a short sequence) per case,
 * shared by the assembly test programs (each case becomes one endpoint,
 * `f(a0, a1) -> a0`) and the C reference semantics in test_rv2pvm_insn.c.
 *
 * X(endpoint, name, asm...) — the asm runs with a0 = first argument,
 * a1 = second argument and must leave the result in a0. Several programs,
 * because a program has at most 64 endpoints.
 */
#ifndef NUB_TEST_INSN_CASES_H
#define NUB_TEST_INSN_CASES_H

/* Register-register ALU, M and Zbb, including x0 operands. */
#define INSN_CASES_RR(X)                                                                           \
    X(0, add, add a0, a0, a1)                                                                      \
    X(1, sub, sub a0, a0, a1)                                                                      \
    X(2, sll, sll a0, a0, a1)                                                                      \
    X(3, slt, slt a0, a0, a1)                                                                      \
    X(4, sltu, sltu a0, a0, a1)                                                                    \
    X(5, xor, xor a0, a0, a1)                                                                      \
    X(6, srl, srl a0, a0, a1)                                                                      \
    X(7, sra, sra a0, a0, a1)                                                                      \
    X(8, or, or a0, a0, a1)                                                                        \
    X(9, and, and a0, a0, a1)                                                                      \
    X(10, addw, addw a0, a0, a1)                                                                   \
    X(11, subw, subw a0, a0, a1)                                                                   \
    X(12, sllw, sllw a0, a0, a1)                                                                   \
    X(13, srlw, srlw a0, a0, a1)                                                                   \
    X(14, sraw, sraw a0, a0, a1)                                                                   \
    X(15, mul, mul a0, a0, a1)                                                                     \
    X(16, mulh, mulh a0, a0, a1)                                                                   \
    X(17, mulhsu, mulhsu a0, a0, a1)                                                               \
    X(18, mulhu, mulhu a0, a0, a1)                                                                 \
    X(19, div, div a0, a0, a1)                                                                     \
    X(20, divu, divu a0, a0, a1)                                                                   \
    X(21, rem, rem a0, a0, a1)                                                                     \
    X(22, remu, remu a0, a0, a1)                                                                   \
    X(23, mulw, mulw a0, a0, a1)                                                                   \
    X(24, divw, divw a0, a0, a1)                                                                   \
    X(25, divuw, divuw a0, a0, a1)                                                                 \
    X(26, remw, remw a0, a0, a1)                                                                   \
    X(27, remuw, remuw a0, a0, a1)                                                                 \
    X(28, andn, andn a0, a0, a1)                                                                   \
    X(29, orn, orn a0, a0, a1)                                                                     \
    X(30, xnor, xnor a0, a0, a1)                                                                   \
    X(31, min, min a0, a0, a1)                                                                     \
    X(32, max, max a0, a0, a1)                                                                     \
    X(33, minu, minu a0, a0, a1)                                                                   \
    X(34, maxu, maxu a0, a0, a1)                                                                   \
    X(35, rol, rol a0, a0, a1)                                                                     \
    X(36, ror, ror a0, a0, a1)                                                                     \
    X(37, rolw, rolw a0, a0, a1)                                                                   \
    X(38, rorw, rorw a0, a0, a1)                                                                   \
    X(39, neg, sub a0, x0, a0)                                                                     \
    X(40, negw, subw a0, x0, a0)                                                                   \
    X(41, sgtz, slt a0, x0, a0)                                                                    \
    X(42, snez, sltu a0, x0, a0)                                                                   \
    X(43, sltz, slt a0, a0, x0)                                                                    \
    X(44, sll_zero_by, sll a0, x0, a1)                                                             \
    X(45, div_zero_by, div a0, x0, a1)                                                             \
    X(46, add_x0, add a0, a1, x0)                                                                  \
    X(47, divu_by_x0, divu a0, a1, x0)                                                             \
    X(48, rem_by_x0, rem a0, a1, x0)                                                               \
    X(49, andn_x0, andn a0, a1, x0)                                                                \
    X(50, orn_zero, orn a0, x0, a1)                                                                \
    X(51, sra_zero_by, sra a0, x0, a1)                                                             \
    X(52, mv_other, mv a2, a1; add a0, a0, a2)                                                     \
    X(53, all_regs, mv t0, a0; mv t1, t0; mv t2, t1; mv s0, t2; mv s1, s0; mv a5, s1; mv a4, a5;   \
      mv a3, a4; mv a2, a3; mv a1, a2; mv a0, a1)

/* Register-immediate ALU, upper immediates, Zbb unary. */
#define INSN_CASES_IMM(X)                                                                          \
    X(0, addi, addi a0, a0, -2048)                                                                 \
    X(1, addi_pos, addi a0, a0, 2047)                                                              \
    X(2, slti, slti a0, a0, -5)                                                                    \
    X(3, sltiu, sltiu a0, a0, -5)                                                                  \
    X(4, xori, xori a0, a0, -1)                                                                    \
    X(5, ori, ori a0, a0, 0x555)                                                                   \
    X(6, andi, andi a0, a0, -16)                                                                   \
    X(7, slli, slli a0, a0, 63)                                                                    \
    X(8, srli, srli a0, a0, 33)                                                                    \
    X(9, srai, srai a0, a0, 40)                                                                    \
    X(10, addiw, addiw a0, a0, 1000)                                                               \
    X(11, slliw, slliw a0, a0, 31)                                                                 \
    X(12, srliw, srliw a0, a0, 0)                                                                  \
    X(13, sraiw, sraiw a0, a0, 7)                                                                  \
    X(14, rori, rori a0, a0, 13)                                                                   \
    X(15, roriw, roriw a0, a0, 5)                                                                  \
    X(16, li_small, li a0, -42)                                                                    \
    X(17, li_32, li a0, 0x12345678)                                                                \
    X(18, li_64, li a0, 0x123456789abcdef0)                                                        \
    X(19, lui, lui a0, 0xfffff)                                                                    \
    X(20, lui_addiw, lui a0, 0x80000; addiw a0, a0, -1)                                            \
    X(21, clz, clz a0, a0)                                                                         \
    X(22, ctz, ctz a0, a0)                                                                         \
    X(23, cpop, cpop a0, a0)                                                                       \
    X(24, clzw, clzw a0, a0)                                                                       \
    X(25, ctzw, ctzw a0, a0)                                                                       \
    X(26, cpopw, cpopw a0, a0)                                                                     \
    X(27, sext_b, sext.b a0, a0)                                                                   \
    X(28, sext_h, sext.h a0, a0)                                                                   \
    X(29, zext_h, zext.h a0, a0)                                                                   \
    X(30, rev8, rev8 a0, a0)                                                                       \
    X(31, sext_w, sext.w a0, a0)                                                                   \
    X(32, zext_w, slli a0, a0, 32; srli a0, a0, 32)                                                \
    X(33, seqz, seqz a0, a0)                                                                       \
    X(34, not, not a0, a0)                                                                         \
    X(35, slti_x0, slti a0, x0, 3)                                                                 \
    X(36, andi_x0, andi a0, x0, -1)                                                                \
    X(37, mv, mv a0, a1)                                                                           \
    X(38, c_li, c.li a0, -32)                                                                      \
    X(39, c_lui, c.lui a0, 0x1f)                                                                   \
    X(40, c_addi, c.addi a0, -7)                                                                   \
    X(41, c_addiw, c.addiw a0, 31)                                                                 \
    X(42, c_slli, c.slli a0, 17)                                                                   \
    X(43, c_srli, c.srli a0, 3)                                                                    \
    X(44, c_srai, c.srai a0, 61)                                                                   \
    X(45, c_andi, c.andi a0, 12)                                                                   \
    X(46, c_sub, c.sub a0, a1)                                                                     \
    X(47, c_xor, c.xor a0, a1)                                                                     \
    X(48, c_or, c.or a0, a1)                                                                       \
    X(49, c_and, c.and a0, a1)                                                                     \
    X(50, c_subw, c.subw a0, a1)                                                                   \
    X(51, c_addw, c.addw a0, a1)                                                                   \
    X(52, c_mv, c.mv a0, a1)                                                                       \
    X(53, c_add, c.add a0, a1)                                                                     \
    X(54, c_addi16sp, c.addi16sp sp, -64; sub a0, a0, sp; c.addi16sp sp, 64; add a0, a0, sp)       \
    X(55, c_addi4spn, c.addi4spn a2, sp, 24; sub a0, a2, sp)                                       \
    X(56, c_nop, c.nop; nop; mv a0, a0)

/* Loads, stores and atomics: on a stack slot at -16(sp). */
#define INSN_CASES_MEM(X)                                                                          \
    X(0, sb_lb, sb a0, -16(sp); lb a0, -16(sp))                                                    \
    X(1, sb_lbu, sb a0, -16(sp); lbu a0, -16(sp))                                                  \
    X(2, sh_lh, sh a0, -16(sp); lh a0, -16(sp))                                                    \
    X(3, sh_lhu, sh a0, -16(sp); lhu a0, -16(sp))                                                  \
    X(4, sw_lw, sw a0, -16(sp); lw a0, -16(sp))                                                    \
    X(5, sw_lwu, sw a0, -16(sp); lwu a0, -16(sp))                                                  \
    X(6, sd_ld, sd a0, -16(sp); ld a0, -16(sp))                                                    \
    X(7, sd_lbu_hi, sd a0, -16(sp); lbu a0, -9(sp))                                                \
    X(8, sd_x0, sd a0, -16(sp); sw x0, -12(sp); ld a0, -16(sp))                                    \
    X(9, sb_x0, sd a0, -16(sp); sb x0, -15(sp); sh zero, -14(sp); ld a0, -16(sp))                  \
    X(10, c_sdsp_ldsp, addi sp, sp, -16; c.sdsp a0, 8(sp); c.ldsp a0, 8(sp); addi sp, sp, 16)      \
    X(11, c_swsp_lwsp, addi sp, sp, -16; c.swsp a0, 4(sp); c.lwsp a0, 4(sp); addi sp, sp, 16)      \
    X(12, c_sd_ld, addi a2, sp, -32; c.sd a0, 16(a2); c.ld a0, 16(a2))                             \
    X(13, c_sw_lw, addi a2, sp, -32; c.sw a0, 20(a2); c.lw a0, 20(a2))                             \
    X(14, amoadd_d, addi a2, sp, -16; sd a0, 0(a2); amoadd.d a3, a1, (a2); ld a0, 0(a2);           \
      add a0, a0, a3)                                                                              \
    X(15, amoadd_w, addi a2, sp, -16; sw a0, 0(a2); amoadd.w a3, a1, (a2); lw a0, 0(a2);           \
      xor a0, a0, a3)                                                                              \
    X(16, amoswap_d, addi a2, sp, -16; sd a0, 0(a2); amoswap.d a0, a1, (a2); ld a3, 0(a2);         \
      sub a0, a3, a0)                                                                              \
    X(17, amoxor_w, addi a2, sp, -16; sw a0, 0(a2); amoxor.w zero, a1, (a2); lwu a0, 0(a2))        \
    X(18, amoand_d, addi a2, sp, -16; sd a0, 0(a2); amoand.d a3, a1, (a2); ld a0, 0(a2);           \
      xor a0, a0, a3)                                                                              \
    X(19, amoor_w, addi a2, sp, -16; sw a0, 0(a2); amoor.w a3, a1, (a2); lw a0, 0(a2);             \
      add a0, a0, a3)                                                                              \
    X(20, amomin_w, addi a2, sp, -16; sw a0, 0(a2); amomin.w a3, a1, (a2); lw a0, 0(a2))           \
    X(21, amomaxu_w, addi a2, sp, -16; sw a0, 0(a2); amomaxu.w a3, a1, (a2); lw a0, 0(a2))         \
    X(22, amominu_d, addi a2, sp, -16; sd a0, 0(a2); amominu.d a3, a1, (a2); ld a0, 0(a2))         \
    X(23, amomax_d, addi a2, sp, -16; sd a0, 0(a2); amomax.d a3, a1, (a2); ld a0, 0(a2))           \
    X(24, lr_sc_d, addi a2, sp, -16; sd a0, 0(a2); lr.d a3, (a2); sc.d a4, a1, (a2); ld a0, 0(a2); \
      add a0, a0, a3; add a0, a0, a4)                                                              \
    X(25, lr_sc_w, addi a2, sp, -16; sw a0, 0(a2); lr.w a3, (a2); sc.w a4, a1, (a2); lw a0, 0(a2); \
      sub a0, a0, a3)                                                                              \
    X(26, amo_keeps_temps, li t0, 1; li t1, 2; li t2, 3; li s0, 4; li s1, 5; addi a2, sp, -16;     \
      sd a0, 0(a2); amoadd.d a3, a1, (a2); add a0, t0, t1; add a0, a0, t2; add a0, a0, s0;         \
      add a0, a0, s1; add a0, a0, a3)                                                              \
    X(27, fence, fence; fence.i; mv a0, a1)

/* Branches (taken -> 1, not taken -> 0) and jumps. The fuse_* cases are
 * `li rX, imm; branch` pairs whose rX is dead on both paths (rv2pvm turns
 * them into one branch_*_imm); nofuse_live keeps rX live. */
// clang-format off
#define BRANCH_BODY(...) __VA_ARGS__, 1f; li a0, 0; ret; 1: li a0, 1
#define FUSED_BODY(...) __VA_ARGS__, 1f; li a2, 0; mv a0, a2; ret; 1: li a2, 1; mv a0, a2
#define INSN_CASES_BRANCH(X)                                                                       \
    X(0, beq, BRANCH_BODY(beq a0, a1))                                                             \
    X(1, bne, BRANCH_BODY(bne a0, a1))                                                             \
    X(2, blt, BRANCH_BODY(blt a0, a1))                                                             \
    X(3, bge, BRANCH_BODY(bge a0, a1))                                                             \
    X(4, bltu, BRANCH_BODY(bltu a0, a1))                                                           \
    X(5, bgeu, BRANCH_BODY(bgeu a0, a1))                                                           \
    X(6, beqz, BRANCH_BODY(beqz a0))                                                               \
    X(7, bnez, BRANCH_BODY(bnez a0))                                                               \
    X(8, bltz, BRANCH_BODY(bltz a0))                                                               \
    X(9, bgez, BRANCH_BODY(bgez a0))                                                               \
    X(10, blez, BRANCH_BODY(blez a0))                                                              \
    X(11, bgtz, BRANCH_BODY(bgtz a0))                                                              \
    X(12, bltu_zero_a, BRANCH_BODY(bltu x0, a0))                                                   \
    X(13, bgeu_zero_a, BRANCH_BODY(bgeu x0, a0))                                                   \
    X(14, bltu_a_zero, BRANCH_BODY(bltu a0, x0))                                                   \
    X(15, bgeu_a_zero, BRANCH_BODY(bgeu a0, x0))                                                   \
    X(16, c_beqz, BRANCH_BODY(c.beqz a0))                                                          \
    X(17, c_bnez, BRANCH_BODY(c.bnez a0))                                                          \
    X(18, beq_x0_x0, BRANCH_BODY(beq x0, x0))                                                      \
    X(19, bne_x0_x0, BRANCH_BODY(bne x0, x0))                                                      \
    X(20, c_j, li a2, 5; c.j 1f; li a2, 7; 1: add a0, a0, a2)                                      \
    X(21, jal_x0, li a2, 5; jal x0, 1f; li a2, 7; 1: add a0, a0, a2)                               \
    X(22, loop, andi a1, a1, 63; addi a1, a1, 1; li a2, 0; 1: add a2, a2, a0; addi a1, a1, -1;    \
      bnez a1, 1b; mv a0, a2)                                                                      \
    X(23, backward_far, j 2f; 1: addi a0, a0, 100; ret; .rept 1100; addi a0, a0, 0; .endr;       \
      2: addi a0, a0, 1; j 1b)                                                                     \
    X(24, fuse_bltu, li a2, 5; FUSED_BODY(bltu a0, a2))                                            \
    X(25, fuse_bltu_rev, li a2, 5; FUSED_BODY(bltu a2, a0))                                        \
    X(26, fuse_bge_neg, li a2, -3; FUSED_BODY(bge a0, a2))                                         \
    X(27, fuse_bge_rev, li a2, -3; FUSED_BODY(bge a2, a0))                                         \
    X(28, fuse_beq, li a2, 0x7ff; FUSED_BODY(beq a2, a0))                                          \
    X(29, fuse_bne_lui, lui a2, 0x80000; FUSED_BODY(bne a0, a2))                                   \
    X(30, fuse_blt_lui, lui a2, 0x80000; FUSED_BODY(blt a0, a2))                                   \
    X(31, fuse_bgeu_rev, li a2, 100; FUSED_BODY(bgeu a2, a0))                                      \
    X(32, fuse_blt_rev, li a2, 0; FUSED_BODY(blt a2, a0))                                          \
    X(33, nofuse_live, li a2, 5; bltu a0, a2, 1f; mv a0, a2; ret; 1: add a0, a2, a2)
// clang-format on

#endif /* NUB_TEST_INSN_CASES_H */
