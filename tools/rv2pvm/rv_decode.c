/*
 * rv_decode.c — RISC-V instruction decoder (RV64 I/M/A/C/Zbb subset).
 * Compressed instructions are expanded into the struct of the 32-bit
 * instruction they stand for, so the translator sees one instruction set.
 */
#include "rv_decode.h"

static const char *const rv_op_names[RV_OP_COUNT] = {
#define RV_OP_NAME(name) #name,
    RV_OP_LIST(RV_OP_NAME)
#undef RV_OP_NAME
};

const char *rv_op_name(enum rv_op op)
{
    if ((unsigned)op >= RV_OP_COUNT)
        return "?";
    return rv_op_names[op];
}

int rv_insn_reads(const struct rv_insn *insn, unsigned r)
{
    if (r == 0)
        return 0;
    switch (insn->op) {
    case RV_LUI:
    case RV_AUIPC:
    case RV_JAL:
        return 0;
    case RV_NUB_ECALLI:
    case RV_ECALL:
        return 1;
    default:
        return insn->rs1 == r || insn->rs2 == r; /* unused fields are 0 */
    }
}

int rv_insn_writes(const struct rv_insn *insn, unsigned r)
{
    if (r == 0)
        return 0;
    if (insn->op == RV_NUB_ECALLI || insn->op == RV_ECALL)
        return 1;
    return insn->rd == r; /* stores, branches and fences have rd = 0 */
}

int rv_op_ends_block(enum rv_op op)
{
    switch (op) {
    case RV_JAL:
    case RV_JALR:
    case RV_BEQ:
    case RV_BNE:
    case RV_BLT:
    case RV_BGE:
    case RV_BLTU:
    case RV_BGEU:
    case RV_EBREAK:
    case RV_UNIMP:
        return 1;
    default:
        return 0;
    }
}

static int64_t sext(uint64_t value, unsigned bits)
{
    uint64_t sign = 1ull << (bits - 1);
    value &= (sign << 1) - 1;
    return (int64_t)((value ^ sign) - sign);
}

static uint32_t bit(uint32_t raw, unsigned n)
{
    return (raw >> n) & 1u;
}

static uint32_t bits(uint32_t raw, unsigned lo, unsigned count)
{
    return (raw >> lo) & ((1u << count) - 1u);
}

static void set(struct rv_insn *out, enum rv_op op, unsigned rd, unsigned rs1, unsigned rs2,
                int64_t imm)
{
    out->op = op;
    out->rd = (uint8_t)rd;
    out->rs1 = (uint8_t)rs1;
    out->rs2 = (uint8_t)rs2;
    out->imm = imm;
}

/* ---- 32-bit instructions ----------------------------------------------- */

static int64_t imm_i(uint32_t raw)
{
    return sext(raw >> 20, 12);
}

static int64_t imm_s(uint32_t raw)
{
    return sext((bits(raw, 25, 7) << 5) | bits(raw, 7, 5), 12);
}

static int64_t imm_b(uint32_t raw)
{
    return sext((bit(raw, 31) << 12) | (bit(raw, 7) << 11) | (bits(raw, 25, 6) << 5) |
                    (bits(raw, 8, 4) << 1),
                13);
}

static int64_t imm_u(uint32_t raw)
{
    return sext(raw & 0xFFFFF000u, 32);
}

static int64_t imm_j(uint32_t raw)
{
    return sext((bit(raw, 31) << 20) | (bits(raw, 12, 8) << 12) | (bit(raw, 20) << 11) |
                    (bits(raw, 21, 10) << 1),
                21);
}

static int decode_op_imm(uint32_t raw, unsigned rd, unsigned f3, unsigned rs1, struct rv_insn *out)
{
    static const enum rv_op by_f3[8] = {RV_ADDI, RV_INVALID, RV_SLTI, RV_SLTIU,
                                        RV_XORI, RV_INVALID, RV_ORI,  RV_ANDI};
    unsigned f6 = raw >> 26, shamt = bits(raw, 20, 6), imm12 = raw >> 20;
    if (by_f3[f3] != RV_INVALID) {
        set(out, by_f3[f3], rd, rs1, 0, imm_i(raw));
        return 0;
    }
    if (f3 == 1) {
        if (f6 == 0) {
            set(out, RV_SLLI, rd, rs1, 0, shamt);
            return 0;
        }
        static const struct {
            unsigned imm12;
            enum rv_op op;
        } unary[] = {{0x600, RV_CLZ},
                     {0x601, RV_CTZ},
                     {0x602, RV_CPOP},
                     {0x604, RV_SEXT_B},
                     {0x605, RV_SEXT_H}};
        for (unsigned i = 0; i < sizeof unary / sizeof unary[0]; i++) {
            if (imm12 == unary[i].imm12) {
                set(out, unary[i].op, rd, rs1, 0, 0);
                return 0;
            }
        }
        return -1;
    }
    /* f3 == 5 */
    if (imm12 == 0x6B8) {
        set(out, RV_REV8, rd, rs1, 0, 0);
        return 0;
    }
    if (imm12 == 0x287) {
        set(out, RV_ORC_B, rd, rs1, 0, 0);
        return 0;
    }
    if (f6 == 0x00)
        set(out, RV_SRLI, rd, rs1, 0, shamt);
    else if (f6 == 0x10)
        set(out, RV_SRAI, rd, rs1, 0, shamt);
    else if (f6 == 0x18)
        set(out, RV_RORI, rd, rs1, 0, shamt);
    else
        return -1;
    return 0;
}

static int decode_op_imm_32(uint32_t raw, unsigned rd, unsigned f3, unsigned rs1,
                            struct rv_insn *out)
{
    unsigned f7 = raw >> 25, shamt = bits(raw, 20, 5), rs2 = bits(raw, 20, 5);
    if (f3 == 0) {
        set(out, RV_ADDIW, rd, rs1, 0, imm_i(raw));
        return 0;
    }
    if (f3 == 1 && f7 == 0) {
        set(out, RV_SLLIW, rd, rs1, 0, shamt);
        return 0;
    }
    if (f3 == 1 && f7 == 0x30 && rs2 <= 2) {
        static const enum rv_op unary[3] = {RV_CLZW, RV_CTZW, RV_CPOPW};
        set(out, unary[rs2], rd, rs1, 0, 0);
        return 0;
    }
    if (f3 == 5 && f7 == 0x00)
        set(out, RV_SRLIW, rd, rs1, 0, shamt);
    else if (f3 == 5 && f7 == 0x20)
        set(out, RV_SRAIW, rd, rs1, 0, shamt);
    else if (f3 == 5 && f7 == 0x30)
        set(out, RV_RORIW, rd, rs1, 0, shamt);
    else
        return -1;
    return 0;
}

static int decode_op(uint32_t raw, unsigned rd, unsigned f3, unsigned rs1, unsigned rs2,
                     struct rv_insn *out)
{
    static const enum rv_op base[8] = {RV_ADD, RV_SLL, RV_SLT, RV_SLTU,
                                       RV_XOR, RV_SRL, RV_OR,  RV_AND};
    static const enum rv_op alt[8] = {RV_SUB,  RV_INVALID, RV_INVALID, RV_INVALID,
                                      RV_XNOR, RV_SRA,     RV_ORN,     RV_ANDN};
    static const enum rv_op muldiv[8] = {RV_MUL, RV_MULH, RV_MULHSU, RV_MULHU,
                                         RV_DIV, RV_DIVU, RV_REM,    RV_REMU};
    static const enum rv_op minmax[8] = {RV_INVALID, RV_INVALID, RV_INVALID, RV_INVALID,
                                         RV_MIN,     RV_MINU,    RV_MAX,     RV_MAXU};
    static const enum rv_op rot[8] = {RV_INVALID, RV_ROL, RV_INVALID, RV_INVALID,
                                      RV_INVALID, RV_ROR, RV_INVALID, RV_INVALID};
    enum rv_op op;
    switch (raw >> 25) {
    case 0x00:
        op = base[f3];
        break;
    case 0x20:
        op = alt[f3];
        break;
    case 0x01:
        op = muldiv[f3];
        break;
    case 0x05:
        op = minmax[f3];
        break;
    case 0x30:
        op = rot[f3];
        break;
    default:
        return -1;
    }
    if (op == RV_INVALID)
        return -1;
    set(out, op, rd, rs1, rs2, 0);
    return 0;
}

static int decode_op_32(uint32_t raw, unsigned rd, unsigned f3, unsigned rs1, unsigned rs2,
                        struct rv_insn *out)
{
    enum rv_op op = RV_INVALID;
    unsigned f7 = raw >> 25;
    if (f7 == 0x00)
        op = f3 == 0 ? RV_ADDW : f3 == 1 ? RV_SLLW : f3 == 5 ? RV_SRLW : RV_INVALID;
    else if (f7 == 0x20)
        op = f3 == 0 ? RV_SUBW : f3 == 5 ? RV_SRAW : RV_INVALID;
    else if (f7 == 0x01) {
        static const enum rv_op m[8] = {RV_MULW, RV_INVALID, RV_INVALID, RV_INVALID,
                                        RV_DIVW, RV_DIVUW,   RV_REMW,    RV_REMUW};
        op = m[f3];
    } else if (f7 == 0x04 && f3 == 4 && rs2 == 0)
        op = RV_ZEXT_H;
    else if (f7 == 0x30)
        op = f3 == 1 ? RV_ROLW : f3 == 5 ? RV_RORW : RV_INVALID;
    if (op == RV_INVALID)
        return -1;
    set(out, op, rd, rs1, op == RV_ZEXT_H ? 0 : rs2, 0);
    return 0;
}

static int decode_amo(uint32_t raw, unsigned rd, unsigned f3, unsigned rs1, unsigned rs2,
                      struct rv_insn *out)
{
    static const struct {
        unsigned funct5;
        enum rv_op w, d;
    } amo[] = {{0x02, RV_LR_W, RV_LR_D},           {0x03, RV_SC_W, RV_SC_D},
               {0x01, RV_AMOSWAP_W, RV_AMOSWAP_D}, {0x00, RV_AMOADD_W, RV_AMOADD_D},
               {0x04, RV_AMOXOR_W, RV_AMOXOR_D},   {0x0C, RV_AMOAND_W, RV_AMOAND_D},
               {0x08, RV_AMOOR_W, RV_AMOOR_D},     {0x10, RV_AMOMIN_W, RV_AMOMIN_D},
               {0x14, RV_AMOMAX_W, RV_AMOMAX_D},   {0x18, RV_AMOMINU_W, RV_AMOMINU_D},
               {0x1C, RV_AMOMAXU_W, RV_AMOMAXU_D}};
    unsigned funct5 = raw >> 27;
    if (f3 != 2 && f3 != 3)
        return -1;
    for (unsigned i = 0; i < sizeof amo / sizeof amo[0]; i++) {
        if (amo[i].funct5 != funct5)
            continue;
        if ((funct5 == 0x02) && rs2 != 0)
            return -1;
        set(out, f3 == 2 ? amo[i].w : amo[i].d, rd, rs1, rs2, 0);
        return 0;
    }
    return -1;
}

static int decode32(uint32_t raw, struct rv_insn *out)
{
    unsigned rd = bits(raw, 7, 5), f3 = bits(raw, 12, 3), rs1 = bits(raw, 15, 5),
             rs2 = bits(raw, 20, 5);
    switch (raw & 0x7Fu) {
    case 0x37:
        set(out, RV_LUI, rd, 0, 0, imm_u(raw));
        return 0;
    case 0x17:
        set(out, RV_AUIPC, rd, 0, 0, imm_u(raw));
        return 0;
    case 0x6F:
        set(out, RV_JAL, rd, 0, 0, imm_j(raw));
        return 0;
    case 0x67:
        if (f3 != 0)
            return -1;
        set(out, RV_JALR, rd, rs1, 0, imm_i(raw));
        return 0;
    case 0x63: {
        static const enum rv_op br[8] = {RV_BEQ, RV_BNE, RV_INVALID, RV_INVALID,
                                         RV_BLT, RV_BGE, RV_BLTU,    RV_BGEU};
        if (br[f3] == RV_INVALID)
            return -1;
        set(out, br[f3], 0, rs1, rs2, imm_b(raw));
        return 0;
    }
    case 0x03: {
        static const enum rv_op ld[8] = {RV_LB,  RV_LH,  RV_LW,  RV_LD,
                                         RV_LBU, RV_LHU, RV_LWU, RV_INVALID};
        if (ld[f3] == RV_INVALID)
            return -1;
        set(out, ld[f3], rd, rs1, 0, imm_i(raw));
        return 0;
    }
    case 0x23: {
        static const enum rv_op st[4] = {RV_SB, RV_SH, RV_SW, RV_SD};
        if (f3 > 3)
            return -1;
        set(out, st[f3], 0, rs1, rs2, imm_s(raw));
        return 0;
    }
    case 0x13:
        return decode_op_imm(raw, rd, f3, rs1, out);
    case 0x1B:
        return decode_op_imm_32(raw, rd, f3, rs1, out);
    case 0x33:
        return decode_op(raw, rd, f3, rs1, rs2, out);
    case 0x3B:
        return decode_op_32(raw, rd, f3, rs1, rs2, out);
    case 0x2F:
        return decode_amo(raw, rd, f3, rs1, rs2, out);
    case 0x0F:
        if (f3 == 0)
            set(out, RV_FENCE, 0, 0, 0, 0);
        else if (f3 == 1)
            set(out, RV_FENCE_I, 0, 0, 0, 0);
        else
            return -1;
        return 0;
    case 0x73:
        if (raw == 0x00000073u)
            set(out, RV_ECALL, 0, 0, 0, 0);
        else if (raw == 0x00100073u)
            set(out, RV_EBREAK, 0, 0, 0, 0);
        else if (raw == 0xC0001073u) /* unimp = csrrw x0, cycle, x0 */
            set(out, RV_UNIMP, 0, 0, 0, 0);
        else
            return -1;
        return 0;
    case RV_NUB_ECALLI_MAJOR:
        if (f3 != 0 || rd != 0 || rs1 != 0)
            return -1;
        set(out, RV_NUB_ECALLI, 0, 0, 0, imm_i(raw));
        return 0;
    default:
        return -1;
    }
}

/* ---- 16-bit (compressed) instructions ---------------------------------- */

/* The 3-bit register fields of the CIW/CL/CS/CA/CB formats name x8..x15. */
static unsigned creg(uint32_t raw, unsigned lo)
{
    return bits(raw, lo, 3) + 8;
}

static int64_t cimm6(uint32_t raw)
{
    return sext((bit(raw, 12) << 5) | bits(raw, 2, 5), 6);
}

static int decode_q0(uint32_t raw, struct rv_insn *out)
{
    unsigned f3 = bits(raw, 13, 3);
    uint32_t uimm_w = (bit(raw, 6) << 2) | (bits(raw, 10, 3) << 3) | (bit(raw, 5) << 6);
    uint32_t uimm_d = (bits(raw, 10, 3) << 3) | (bits(raw, 5, 2) << 6);
    switch (f3) {
    case 0: {
        uint32_t nzuimm = (bit(raw, 6) << 2) | (bit(raw, 5) << 3) | (bits(raw, 11, 2) << 4) |
                          (bits(raw, 7, 4) << 6);
        if (raw == 0) {
            set(out, RV_UNIMP, 0, 0, 0, 0);
            return 0;
        }
        if (nzuimm == 0)
            return -1;
        set(out, RV_ADDI, creg(raw, 2), 2, 0, nzuimm);
        return 0;
    }
    case 2:
        set(out, RV_LW, creg(raw, 2), creg(raw, 7), 0, uimm_w);
        return 0;
    case 3:
        set(out, RV_LD, creg(raw, 2), creg(raw, 7), 0, uimm_d);
        return 0;
    case 6:
        set(out, RV_SW, 0, creg(raw, 7), creg(raw, 2), uimm_w);
        return 0;
    case 7:
        set(out, RV_SD, 0, creg(raw, 7), creg(raw, 2), uimm_d);
        return 0;
    default:
        return -1; /* floating point and reserved */
    }
}

static int decode_q1_alu(uint32_t raw, struct rv_insn *out)
{
    unsigned rd = creg(raw, 7), rs2 = creg(raw, 2);
    uint32_t shamt = (bit(raw, 12) << 5) | bits(raw, 2, 5);
    switch (bits(raw, 10, 2)) {
    case 0:
        set(out, RV_SRLI, rd, rd, 0, shamt);
        return 0;
    case 1:
        set(out, RV_SRAI, rd, rd, 0, shamt);
        return 0;
    case 2:
        set(out, RV_ANDI, rd, rd, 0, cimm6(raw));
        return 0;
    default:
        break;
    }
    static const enum rv_op ops[2][4] = {{RV_SUB, RV_XOR, RV_OR, RV_AND},
                                         {RV_SUBW, RV_ADDW, RV_INVALID, RV_INVALID}};
    enum rv_op op = ops[bit(raw, 12)][bits(raw, 5, 2)];
    if (op == RV_INVALID)
        return -1;
    set(out, op, rd, rd, rs2, 0);
    return 0;
}

static int decode_q1(uint32_t raw, struct rv_insn *out)
{
    unsigned rd = bits(raw, 7, 5);
    switch (bits(raw, 13, 3)) {
    case 0:
        set(out, RV_ADDI, rd, rd, 0, cimm6(raw));
        return 0;
    case 1:
        if (rd == 0)
            return -1;
        set(out, RV_ADDIW, rd, rd, 0, cimm6(raw));
        return 0;
    case 2:
        set(out, RV_ADDI, rd, 0, 0, cimm6(raw));
        return 0;
    case 3:
        if (rd == 2) {
            int64_t imm = sext((bit(raw, 12) << 9) | (bits(raw, 3, 2) << 7) | (bit(raw, 5) << 6) |
                                   (bit(raw, 2) << 5) | (bit(raw, 6) << 4),
                               10);
            if (imm == 0)
                return -1;
            set(out, RV_ADDI, 2, 2, 0, imm);
        } else {
            int64_t imm = sext((bit(raw, 12) << 17) | (bits(raw, 2, 5) << 12), 18);
            if (imm == 0)
                return -1;
            set(out, RV_LUI, rd, 0, 0, imm);
        }
        return 0;
    case 4:
        return decode_q1_alu(raw, out);
    case 5: {
        int64_t off = sext((bit(raw, 12) << 11) | (bit(raw, 11) << 4) | (bits(raw, 9, 2) << 8) |
                               (bit(raw, 8) << 10) | (bit(raw, 7) << 6) | (bit(raw, 6) << 7) |
                               (bits(raw, 3, 3) << 1) | (bit(raw, 2) << 5),
                           12);
        set(out, RV_JAL, 0, 0, 0, off);
        return 0;
    }
    default: {
        int64_t off = sext((bit(raw, 12) << 8) | (bits(raw, 10, 2) << 3) | (bits(raw, 5, 2) << 6) |
                               (bits(raw, 3, 2) << 1) | (bit(raw, 2) << 5),
                           9);
        set(out, bits(raw, 13, 3) == 6 ? RV_BEQ : RV_BNE, 0, creg(raw, 7), 0, off);
        return 0;
    }
    }
}

static int decode_q2(uint32_t raw, struct rv_insn *out)
{
    unsigned rd = bits(raw, 7, 5), rs2 = bits(raw, 2, 5);
    switch (bits(raw, 13, 3)) {
    case 0:
        set(out, RV_SLLI, rd, rd, 0, (bit(raw, 12) << 5) | bits(raw, 2, 5));
        return 0;
    case 2:
        if (rd == 0)
            return -1;
        set(out, RV_LW, rd, 2, 0,
            (bit(raw, 12) << 5) | (bits(raw, 4, 3) << 2) | (bits(raw, 2, 2) << 6));
        return 0;
    case 3:
        if (rd == 0)
            return -1;
        set(out, RV_LD, rd, 2, 0,
            (bit(raw, 12) << 5) | (bits(raw, 5, 2) << 3) | (bits(raw, 2, 3) << 6));
        return 0;
    case 4:
        if (bit(raw, 12) == 0) {
            if (rs2 == 0) {
                if (rd == 0)
                    return -1;
                set(out, RV_JALR, 0, rd, 0, 0); /* c.jr */
            } else {
                set(out, RV_ADD, rd, 0, rs2, 0); /* c.mv */
            }
        } else if (rd == 0 && rs2 == 0) {
            set(out, RV_EBREAK, 0, 0, 0, 0);
        } else if (rs2 == 0) {
            set(out, RV_JALR, 1, rd, 0, 0); /* c.jalr */
        } else {
            set(out, RV_ADD, rd, rd, rs2, 0);
        }
        return 0;
    case 6:
        set(out, RV_SW, 0, 2, rs2, (bits(raw, 9, 4) << 2) | (bits(raw, 7, 2) << 6));
        return 0;
    case 7:
        set(out, RV_SD, 0, 2, rs2, (bits(raw, 10, 3) << 3) | (bits(raw, 7, 3) << 6));
        return 0;
    default:
        return -1; /* floating point */
    }
}

int rv_decode(const uint8_t *bytes, size_t avail, struct rv_insn *out)
{
    set(out, RV_INVALID, 0, 0, 0, 0);
    out->len = 0;
    out->raw = 0;
    if (avail < 2)
        return -1;
    uint32_t raw = (uint32_t)bytes[0] | ((uint32_t)bytes[1] << 8);
    if ((raw & 3u) != 3u) {
        out->len = 2;
        out->raw = raw;
        int rc = (raw & 3u) == 0   ? decode_q0(raw, out)
                 : (raw & 3u) == 1 ? decode_q1(raw, out)
                                   : decode_q2(raw, out);
        if (rc != 0)
            out->op = RV_INVALID;
        return rc;
    }
    out->len = 4;
    if (avail < 4)
        return -1;
    raw |= ((uint32_t)bytes[2] << 16) | ((uint32_t)bytes[3] << 24);
    out->raw = raw;
    if ((raw & 0x1Fu) == 0x1Fu) /* 48-bit and longer encodings */
        return -1;
    int rc = decode32(raw, out);
    if (rc != 0)
        out->op = RV_INVALID;
    return rc;
}
