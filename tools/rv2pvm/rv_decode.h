/*
 * rv_decode.h — decoder for the RISC-V subset nub-cc emits: RV64E base (I
 * with 16 registers), M, A, C (compressed forms, expanded to their 32-bit
 * meaning) and Zbb. One call decodes one instruction at a given address.
 */
#ifndef NUB_RV_DECODE_H
#define NUB_RV_DECODE_H

#include <stddef.h>
#include <stdint.h>

/* clang-format off */
#define RV_OP_LIST(X) \
    X(INVALID) \
    X(LUI) X(AUIPC) X(JAL) X(JALR) \
    X(BEQ) X(BNE) X(BLT) X(BGE) X(BLTU) X(BGEU) \
    X(LB) X(LH) X(LW) X(LD) X(LBU) X(LHU) X(LWU) \
    X(SB) X(SH) X(SW) X(SD) \
    X(ADDI) X(SLTI) X(SLTIU) X(XORI) X(ORI) X(ANDI) X(SLLI) X(SRLI) X(SRAI) \
    X(ADDIW) X(SLLIW) X(SRLIW) X(SRAIW) \
    X(ADD) X(SUB) X(SLL) X(SLT) X(SLTU) X(XOR) X(SRL) X(SRA) X(OR) X(AND) \
    X(ADDW) X(SUBW) X(SLLW) X(SRLW) X(SRAW) \
    X(MUL) X(MULH) X(MULHSU) X(MULHU) X(DIV) X(DIVU) X(REM) X(REMU) \
    X(MULW) X(DIVW) X(DIVUW) X(REMW) X(REMUW) \
    X(ANDN) X(ORN) X(XNOR) X(MIN) X(MINU) X(MAX) X(MAXU) \
    X(ROL) X(ROR) X(ROLW) X(RORW) X(RORI) X(RORIW) \
    X(CLZ) X(CTZ) X(CPOP) X(CLZW) X(CTZW) X(CPOPW) \
    X(SEXT_B) X(SEXT_H) X(ZEXT_H) X(REV8) X(ORC_B) \
    X(LR_W) X(SC_W) X(AMOSWAP_W) X(AMOADD_W) X(AMOXOR_W) X(AMOAND_W) X(AMOOR_W) \
    X(AMOMIN_W) X(AMOMAX_W) X(AMOMINU_W) X(AMOMAXU_W) \
    X(LR_D) X(SC_D) X(AMOSWAP_D) X(AMOADD_D) X(AMOXOR_D) X(AMOAND_D) X(AMOOR_D) \
    X(AMOMIN_D) X(AMOMAX_D) X(AMOMINU_D) X(AMOMAXU_D) \
    X(FENCE) X(FENCE_I) X(ECALL) X(EBREAK) X(UNIMP) \
    X(NUB_ECALLI)
/* clang-format on */

enum rv_op {
#define RV_OP_ENUM(name) RV_##name,
    RV_OP_LIST(RV_OP_ENUM)
#undef RV_OP_ENUM
        RV_OP_COUNT
};

/*
 * nub's host-call instruction: the custom-0 major opcode (0x0B) in I-type
 * form with funct3 = 0, rd = rs1 = x0; the 12-bit immediate is the host-call
 * id. nub_pvm.h emits it with `.insn i 0x0B, 0, x0, x0, ID`.
 */
#define RV_NUB_ECALLI_MAJOR 0x0Bu

struct rv_insn {
    enum rv_op op;
    uint8_t len; /* 2 (compressed) or 4 bytes */
    uint8_t rd, rs1, rs2;
    int64_t imm; /* sign-extended immediate / offset / shift amount */
    uint32_t raw;
};

/*
 * Decodes the instruction at bytes[0..avail). Returns 0 and fills *out, or -1
 * if the bytes are not a supported instruction (out->raw and out->len still
 * describe what was seen, for the error message).
 */
int rv_decode(const uint8_t *bytes, size_t avail, struct rv_insn *out);

/* Whether insn reads / writes integer register r (r != 0). Conservative for
 * the host-call instruction, which reads a0..a5 and writes a0, a1. */
int rv_insn_reads(const struct rv_insn *insn, unsigned r);
int rv_insn_writes(const struct rv_insn *insn, unsigned r);

/* Whether op ends a straight line of code: a jump, a branch, or a trap. The
 * next instruction is then reached, if at all, only through a jump target. */
int rv_op_ends_block(enum rv_op op);

/* Lower-case mnemonic ("addi", "c.unimp" is reported as "unimp"). */
const char *rv_op_name(enum rv_op op);

#endif /* NUB_RV_DECODE_H */
