/*
 * ref_semantics.h — RISC-V semantics of every case in insn_cases.h, written
 * directly from the RISC-V unprivileged spec (RV64 I, M, A, Zbb, C), as the
 * oracle the translated programs are checked against. a = a0, b = a1.
 */
#ifndef NUB_TEST_REF_SEMANTICS_H
#define NUB_TEST_REF_SEMANTICS_H

#include <stdint.h>

typedef uint64_t u64;
typedef int64_t i64;

/* The stack pointer every endpoint starts with (SPEC §11.4). */
#define REF_SP 0xFEFE0000ull

static inline u64 sx32(u64 v)
{
    return (u64)(i64)(int32_t)(uint32_t)v;
}
static inline u64 sx16(u64 v)
{
    return (u64)(i64)(int16_t)(uint16_t)v;
}
static inline u64 sx8(u64 v)
{
    return (u64)(i64)(int8_t)(uint8_t)v;
}
static inline u64 sra64(u64 v, unsigned s)
{
    s &= 63;
    return (v >> s) | ((v >> 63) && s ? ~0ull << (64 - s) : 0);
}
static inline u64 rotl64(u64 v, unsigned s)
{
    s &= 63;
    return s ? (v << s) | (v >> (64 - s)) : v;
}
static inline uint32_t rotl32(uint32_t v, unsigned s)
{
    s &= 31;
    return s ? (v << s) | (v >> (32 - s)) : v;
}
static inline u64 sra32(u64 v, unsigned s)
{
    return sx32(sra64(sx32(v), s & 31));
}

/* ---- INSN_CASES_RR ---- */
static u64 ref_add(u64 a, u64 b)
{
    return a + b;
}
static u64 ref_sub(u64 a, u64 b)
{
    return a - b;
}
static u64 ref_sll(u64 a, u64 b)
{
    return a << (b & 63);
}
static u64 ref_slt(u64 a, u64 b)
{
    return (i64)a < (i64)b;
}
static u64 ref_sltu(u64 a, u64 b)
{
    return a < b;
}
static u64 ref_xor(u64 a, u64 b)
{
    return a ^ b;
}
static u64 ref_srl(u64 a, u64 b)
{
    return a >> (b & 63);
}
static u64 ref_sra(u64 a, u64 b)
{
    return sra64(a, (unsigned)b);
}
static u64 ref_or(u64 a, u64 b)
{
    return a | b;
}
static u64 ref_and(u64 a, u64 b)
{
    return a & b;
}
static u64 ref_addw(u64 a, u64 b)
{
    return sx32(a + b);
}
static u64 ref_subw(u64 a, u64 b)
{
    return sx32(a - b);
}
static u64 ref_sllw(u64 a, u64 b)
{
    return sx32((uint32_t)a << (b & 31));
}
static u64 ref_srlw(u64 a, u64 b)
{
    return sx32((uint32_t)a >> (b & 31));
}
static u64 ref_sraw(u64 a, u64 b)
{
    return sra32(a, (unsigned)b);
}
static u64 ref_mul(u64 a, u64 b)
{
    return a * b;
}
static u64 ref_mulh(u64 a, u64 b)
{
    return (u64)(((__int128)(i64)a * (__int128)(i64)b) >> 64);
}
static u64 ref_mulhsu(u64 a, u64 b)
{
    return (u64)(((__int128)(i64)a * (__int128)b) >> 64);
}
static u64 ref_mulhu(u64 a, u64 b)
{
    return (u64)(((unsigned __int128)a * b) >> 64);
}
static u64 ref_div(u64 a, u64 b)
{
    if (b == 0)
        return ~0ull;
    if (a == (1ull << 63) && b == ~0ull)
        return a;
    return (u64)((i64)a / (i64)b);
}
static u64 ref_divu(u64 a, u64 b)
{
    return b == 0 ? ~0ull : a / b;
}
static u64 ref_rem(u64 a, u64 b)
{
    if (b == 0)
        return a;
    if (a == (1ull << 63) && b == ~0ull)
        return 0;
    return (u64)((i64)a % (i64)b);
}
static u64 ref_remu(u64 a, u64 b)
{
    return b == 0 ? a : a % b;
}
static u64 ref_mulw(u64 a, u64 b)
{
    return sx32(a * b);
}
static u64 ref_divw(u64 a, u64 b)
{
    int32_t x = (int32_t)(uint32_t)a, y = (int32_t)(uint32_t)b;
    if (y == 0)
        return ~0ull;
    if (x == INT32_MIN && y == -1)
        return sx32((uint32_t)x);
    return (u64)(i64)(x / y);
}
static u64 ref_divuw(u64 a, u64 b)
{
    return (uint32_t)b == 0 ? ~0ull : sx32((uint32_t)a / (uint32_t)b);
}
static u64 ref_remw(u64 a, u64 b)
{
    int32_t x = (int32_t)(uint32_t)a, y = (int32_t)(uint32_t)b;
    if (y == 0)
        return sx32((uint32_t)x);
    if (x == INT32_MIN && y == -1)
        return 0;
    return (u64)(i64)(x % y);
}
static u64 ref_remuw(u64 a, u64 b)
{
    return (uint32_t)b == 0 ? sx32(a) : sx32((uint32_t)a % (uint32_t)b);
}
static u64 ref_andn(u64 a, u64 b)
{
    return a & ~b;
}
static u64 ref_orn(u64 a, u64 b)
{
    return a | ~b;
}
static u64 ref_xnor(u64 a, u64 b)
{
    return ~(a ^ b);
}
static u64 ref_min(u64 a, u64 b)
{
    return (i64)a < (i64)b ? a : b;
}
static u64 ref_max(u64 a, u64 b)
{
    return (i64)a > (i64)b ? a : b;
}
static u64 ref_minu(u64 a, u64 b)
{
    return a < b ? a : b;
}
static u64 ref_maxu(u64 a, u64 b)
{
    return a > b ? a : b;
}
static u64 ref_rol(u64 a, u64 b)
{
    return rotl64(a, (unsigned)b);
}
static u64 ref_ror(u64 a, u64 b)
{
    return rotl64(a, (unsigned)(64 - (b & 63)));
}
static u64 ref_rolw(u64 a, u64 b)
{
    return sx32(rotl32((uint32_t)a, (unsigned)b));
}
static u64 ref_rorw(u64 a, u64 b)
{
    return sx32(rotl32((uint32_t)a, (unsigned)(32 - (b & 31))));
}
static u64 ref_neg(u64 a, u64 b)
{
    (void)b;
    return 0 - a;
}
static u64 ref_negw(u64 a, u64 b)
{
    (void)b;
    return sx32(0 - a);
}
static u64 ref_sgtz(u64 a, u64 b)
{
    (void)b;
    return (i64)a > 0;
}
static u64 ref_snez(u64 a, u64 b)
{
    (void)b;
    return a != 0;
}
static u64 ref_sltz(u64 a, u64 b)
{
    (void)b;
    return (i64)a < 0;
}
static u64 ref_sll_zero_by(u64 a, u64 b)
{
    (void)a;
    (void)b;
    return 0;
}
static u64 ref_div_zero_by(u64 a, u64 b)
{
    (void)a;
    return ref_div(0, b);
}
static u64 ref_add_x0(u64 a, u64 b)
{
    (void)a;
    return b;
}
static u64 ref_divu_by_x0(u64 a, u64 b)
{
    (void)a;
    (void)b;
    return ~0ull;
}
static u64 ref_rem_by_x0(u64 a, u64 b)
{
    (void)a;
    return b;
}
static u64 ref_andn_x0(u64 a, u64 b)
{
    (void)a;
    return b;
}
static u64 ref_orn_zero(u64 a, u64 b)
{
    (void)a;
    return ~b;
}
static u64 ref_sra_zero_by(u64 a, u64 b)
{
    (void)a;
    (void)b;
    return 0;
}
static u64 ref_mv_other(u64 a, u64 b)
{
    return a + b;
}
static u64 ref_all_regs(u64 a, u64 b)
{
    (void)b;
    return a;
}

/* ---- INSN_CASES_IMM ---- */
static u64 ref_addi(u64 a, u64 b)
{
    (void)b;
    return a - 2048;
}
static u64 ref_addi_pos(u64 a, u64 b)
{
    (void)b;
    return a + 2047;
}
static u64 ref_slti(u64 a, u64 b)
{
    (void)b;
    return (i64)a < -5;
}
static u64 ref_sltiu(u64 a, u64 b)
{
    (void)b;
    return a < (u64)-5;
}
static u64 ref_xori(u64 a, u64 b)
{
    (void)b;
    return ~a;
}
static u64 ref_ori(u64 a, u64 b)
{
    (void)b;
    return a | 0x555;
}
static u64 ref_andi(u64 a, u64 b)
{
    (void)b;
    return a & ~15ull;
}
static u64 ref_slli(u64 a, u64 b)
{
    (void)b;
    return a << 63;
}
static u64 ref_srli(u64 a, u64 b)
{
    (void)b;
    return a >> 33;
}
static u64 ref_srai(u64 a, u64 b)
{
    (void)b;
    return sra64(a, 40);
}
static u64 ref_addiw(u64 a, u64 b)
{
    (void)b;
    return sx32(a + 1000);
}
static u64 ref_slliw(u64 a, u64 b)
{
    (void)b;
    return sx32((uint32_t)a << 31);
}
static u64 ref_srliw(u64 a, u64 b)
{
    (void)b;
    return sx32(a);
}
static u64 ref_sraiw(u64 a, u64 b)
{
    (void)b;
    return sra32(a, 7);
}
static u64 ref_rori(u64 a, u64 b)
{
    (void)b;
    return rotl64(a, 64 - 13);
}
static u64 ref_roriw(u64 a, u64 b)
{
    (void)b;
    return sx32(rotl32((uint32_t)a, 32 - 5));
}
static u64 ref_li_small(u64 a, u64 b)
{
    (void)a;
    (void)b;
    return (u64)-42;
}
static u64 ref_li_32(u64 a, u64 b)
{
    (void)a;
    (void)b;
    return 0x12345678;
}
static u64 ref_li_64(u64 a, u64 b)
{
    (void)a;
    (void)b;
    return 0x123456789abcdef0ull;
}
static u64 ref_lui(u64 a, u64 b)
{
    (void)a;
    (void)b;
    return 0xFFFFFFFFFFFFF000ull;
}
static u64 ref_lui_addiw(u64 a, u64 b)
{
    (void)a;
    (void)b;
    return 0x7FFFFFFF;
}
static u64 ref_clz(u64 a, u64 b)
{
    (void)b;
    return a ? (u64)__builtin_clzll(a) : 64;
}
static u64 ref_ctz(u64 a, u64 b)
{
    (void)b;
    return a ? (u64)__builtin_ctzll(a) : 64;
}
static u64 ref_cpop(u64 a, u64 b)
{
    (void)b;
    return (u64)__builtin_popcountll(a);
}
static u64 ref_clzw(u64 a, u64 b)
{
    (void)b;
    return (uint32_t)a ? (u64)__builtin_clz((uint32_t)a) : 32;
}
static u64 ref_ctzw(u64 a, u64 b)
{
    (void)b;
    return (uint32_t)a ? (u64)__builtin_ctz((uint32_t)a) : 32;
}
static u64 ref_cpopw(u64 a, u64 b)
{
    (void)b;
    return (u64)__builtin_popcount((uint32_t)a);
}
static u64 ref_sext_b(u64 a, u64 b)
{
    (void)b;
    return sx8(a);
}
static u64 ref_sext_h(u64 a, u64 b)
{
    (void)b;
    return sx16(a);
}
static u64 ref_zext_h(u64 a, u64 b)
{
    (void)b;
    return a & 0xFFFF;
}
static u64 ref_rev8(u64 a, u64 b)
{
    (void)b;
    return __builtin_bswap64(a);
}
static u64 ref_sext_w(u64 a, u64 b)
{
    (void)b;
    return sx32(a);
}
static u64 ref_zext_w(u64 a, u64 b)
{
    (void)b;
    return a & 0xFFFFFFFFull;
}
static u64 ref_seqz(u64 a, u64 b)
{
    (void)b;
    return a == 0;
}
static u64 ref_not(u64 a, u64 b)
{
    (void)b;
    return ~a;
}
static u64 ref_slti_x0(u64 a, u64 b)
{
    (void)a;
    (void)b;
    return 1;
}
static u64 ref_andi_x0(u64 a, u64 b)
{
    (void)a;
    (void)b;
    return 0;
}
static u64 ref_mv(u64 a, u64 b)
{
    (void)a;
    return b;
}
static u64 ref_c_li(u64 a, u64 b)
{
    (void)a;
    (void)b;
    return (u64)-32;
}
static u64 ref_c_lui(u64 a, u64 b)
{
    (void)a;
    (void)b;
    return 0x1F000;
}
static u64 ref_c_addi(u64 a, u64 b)
{
    (void)b;
    return a - 7;
}
static u64 ref_c_addiw(u64 a, u64 b)
{
    (void)b;
    return sx32(a + 31);
}
static u64 ref_c_slli(u64 a, u64 b)
{
    (void)b;
    return a << 17;
}
static u64 ref_c_srli(u64 a, u64 b)
{
    (void)b;
    return a >> 3;
}
static u64 ref_c_srai(u64 a, u64 b)
{
    (void)b;
    return sra64(a, 61);
}
static u64 ref_c_andi(u64 a, u64 b)
{
    (void)b;
    return a & 12;
}
static u64 ref_c_sub(u64 a, u64 b)
{
    return a - b;
}
static u64 ref_c_xor(u64 a, u64 b)
{
    return a ^ b;
}
static u64 ref_c_or(u64 a, u64 b)
{
    return a | b;
}
static u64 ref_c_and(u64 a, u64 b)
{
    return a & b;
}
static u64 ref_c_subw(u64 a, u64 b)
{
    return sx32(a - b);
}
static u64 ref_c_addw(u64 a, u64 b)
{
    return sx32(a + b);
}
static u64 ref_c_mv(u64 a, u64 b)
{
    (void)a;
    return b;
}
static u64 ref_c_add(u64 a, u64 b)
{
    return a + b;
}
static u64 ref_c_addi16sp(u64 a, u64 b)
{
    (void)b;
    return a + 64;
}
static u64 ref_c_addi4spn(u64 a, u64 b)
{
    (void)a;
    (void)b;
    return 24;
}
static u64 ref_c_nop(u64 a, u64 b)
{
    (void)b;
    return a;
}

/* ---- INSN_CASES_MEM ---- */
static u64 ref_sb_lb(u64 a, u64 b)
{
    (void)b;
    return sx8(a);
}
static u64 ref_sb_lbu(u64 a, u64 b)
{
    (void)b;
    return a & 0xFF;
}
static u64 ref_sh_lh(u64 a, u64 b)
{
    (void)b;
    return sx16(a);
}
static u64 ref_sh_lhu(u64 a, u64 b)
{
    (void)b;
    return a & 0xFFFF;
}
static u64 ref_sw_lw(u64 a, u64 b)
{
    (void)b;
    return sx32(a);
}
static u64 ref_sw_lwu(u64 a, u64 b)
{
    (void)b;
    return a & 0xFFFFFFFFull;
}
static u64 ref_sd_ld(u64 a, u64 b)
{
    (void)b;
    return a;
}
static u64 ref_sd_lbu_hi(u64 a, u64 b)
{
    (void)b;
    return a >> 56;
}
static u64 ref_sd_x0(u64 a, u64 b)
{
    (void)b;
    return a & 0xFFFFFFFFull;
}
static u64 ref_sb_x0(u64 a, u64 b)
{
    (void)b;
    return a & 0xFFFFFFFF000000FFull;
}
static u64 ref_c_sdsp_ldsp(u64 a, u64 b)
{
    (void)b;
    return a;
}
static u64 ref_c_swsp_lwsp(u64 a, u64 b)
{
    (void)b;
    return sx32(a);
}
static u64 ref_c_sd_ld(u64 a, u64 b)
{
    (void)b;
    return a;
}
static u64 ref_c_sw_lw(u64 a, u64 b)
{
    (void)b;
    return sx32(a);
}
static u64 ref_amoadd_d(u64 a, u64 b)
{
    return (a + b) + a;
}
static u64 ref_amoadd_w(u64 a, u64 b)
{
    return sx32(a + b) ^ sx32(a);
}
static u64 ref_amoswap_d(u64 a, u64 b)
{
    return b - a;
}
static u64 ref_amoxor_w(u64 a, u64 b)
{
    return (uint32_t)(a ^ b);
}
static u64 ref_amoand_d(u64 a, u64 b)
{
    return (a & b) ^ a;
}
static u64 ref_amoor_w(u64 a, u64 b)
{
    return sx32(a | b) + sx32(a);
}
static u64 ref_amomin_w(u64 a, u64 b)
{
    return (int32_t)(uint32_t)a < (int32_t)(uint32_t)b ? sx32(a) : sx32(b);
}
static u64 ref_amomaxu_w(u64 a, u64 b)
{
    return (uint32_t)a > (uint32_t)b ? sx32(a) : sx32(b);
}
static u64 ref_amominu_d(u64 a, u64 b)
{
    return a < b ? a : b;
}
static u64 ref_amomax_d(u64 a, u64 b)
{
    return (i64)a > (i64)b ? a : b;
}
static u64 ref_lr_sc_d(u64 a, u64 b)
{
    return b + a + 0;
}
static u64 ref_lr_sc_w(u64 a, u64 b)
{
    return sx32(b) - sx32(a);
}
static u64 ref_amo_keeps_temps(u64 a, u64 b)
{
    (void)b;
    return 15 + a;
}
static u64 ref_fence(u64 a, u64 b)
{
    (void)a;
    return b;
}

/* ---- INSN_CASES_BRANCH ---- */
static u64 ref_beq(u64 a, u64 b)
{
    return a == b;
}
static u64 ref_bne(u64 a, u64 b)
{
    return a != b;
}
static u64 ref_blt(u64 a, u64 b)
{
    return (i64)a < (i64)b;
}
static u64 ref_bge(u64 a, u64 b)
{
    return (i64)a >= (i64)b;
}
static u64 ref_bltu(u64 a, u64 b)
{
    return a < b;
}
static u64 ref_bgeu(u64 a, u64 b)
{
    return a >= b;
}
static u64 ref_beqz(u64 a, u64 b)
{
    (void)b;
    return a == 0;
}
static u64 ref_bnez(u64 a, u64 b)
{
    (void)b;
    return a != 0;
}
static u64 ref_bltz(u64 a, u64 b)
{
    (void)b;
    return (i64)a < 0;
}
static u64 ref_bgez(u64 a, u64 b)
{
    (void)b;
    return (i64)a >= 0;
}
static u64 ref_blez(u64 a, u64 b)
{
    (void)b;
    return (i64)a <= 0;
}
static u64 ref_bgtz(u64 a, u64 b)
{
    (void)b;
    return (i64)a > 0;
}
static u64 ref_bltu_zero_a(u64 a, u64 b)
{
    (void)b;
    return 0 < a;
}
static u64 ref_bgeu_zero_a(u64 a, u64 b)
{
    (void)b;
    return 0 >= a;
}
static u64 ref_bltu_a_zero(u64 a, u64 b)
{
    (void)a;
    (void)b;
    return 0;
}
static u64 ref_bgeu_a_zero(u64 a, u64 b)
{
    (void)a;
    (void)b;
    return 1;
}
static u64 ref_c_beqz(u64 a, u64 b)
{
    (void)b;
    return a == 0;
}
static u64 ref_c_bnez(u64 a, u64 b)
{
    (void)b;
    return a != 0;
}
static u64 ref_beq_x0_x0(u64 a, u64 b)
{
    (void)a;
    (void)b;
    return 1;
}
static u64 ref_bne_x0_x0(u64 a, u64 b)
{
    (void)a;
    (void)b;
    return 0;
}
static u64 ref_c_j(u64 a, u64 b)
{
    (void)b;
    return a + 5;
}
static u64 ref_jal_x0(u64 a, u64 b)
{
    (void)b;
    return a + 5;
}
static u64 ref_loop(u64 a, u64 b)
{
    return a * ((b & 63) + 1);
}
static u64 ref_backward_far(u64 a, u64 b)
{
    (void)b;
    return a + 101;
}

static u64 ref_fuse_bltu(u64 a, u64 b)
{
    (void)b;
    return a < 5;
}
static u64 ref_fuse_bltu_rev(u64 a, u64 b)
{
    (void)b;
    return 5 < a;
}
static u64 ref_fuse_bge_neg(u64 a, u64 b)
{
    (void)b;
    return (i64)a >= -3;
}
static u64 ref_fuse_bge_rev(u64 a, u64 b)
{
    (void)b;
    return -3 >= (i64)a;
}
static u64 ref_fuse_beq(u64 a, u64 b)
{
    (void)b;
    return a == 0x7FF;
}
static u64 ref_fuse_bne_lui(u64 a, u64 b)
{
    (void)b;
    return a != 0xFFFFFFFF80000000ull;
}
static u64 ref_fuse_blt_lui(u64 a, u64 b)
{
    (void)b;
    return (i64)a < (i64)0xFFFFFFFF80000000ull;
}
static u64 ref_fuse_bgeu_rev(u64 a, u64 b)
{
    (void)b;
    return 100 >= a;
}
static u64 ref_fuse_blt_rev(u64 a, u64 b)
{
    (void)b;
    return 0 < (i64)a;
}
static u64 ref_nofuse_live(u64 a, u64 b)
{
    (void)b;
    return a < 5 ? 10 : 5;
}

#endif /* NUB_TEST_REF_SEMANTICS_H */
