/*
 * jit_x86.h — the x86-64 instruction emitter of the PVM JIT.
 *
 * Layered like an instruction table: bytes -> REX/ModRM/SIB (x86_rr, x86_rm)
 * -> one emit_* per x86 form, each with its assembly in a trailing comment.
 * Every helper takes a cursor first (where its bytes go) and returns the
 * cursor after them; see "The cursor and the buffer" for the room an emit
 * needs, and for struct jit_buf, a bounds-checked buffer with sticky
 * overflow on top of the cursor.
 *
 * A user that checks the room itself defines JIT_EMIT_ROOM_CHECKED to 1
 * before including this header: it promises JIT_EMIT_SLACK bytes of buffer
 * past the end of every instruction it emits, and struct jit_buf then skips
 * its bounds tests. jit_compile.c does, and emits through cursors it keeps
 * in locals (one room test per PVM instruction instead of one per x86
 * instruction).
 *
 * Freestanding: no libc.
 */
#ifndef NUB_JIT_X86_H
#define NUB_JIT_X86_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The byte-level helpers are forced inline: with constant forms their flag
 * tests fold away, which is most of the compile speed. */
#define JIT_INLINE static inline __attribute__((always_inline))

/* A function that emits returns the cursor after its code; a caller that
 * dropped it would have those bytes overwritten by its next emit, so the
 * result must be used. JIT_EMITTER: the inline ones. */
#define JIT_CURSOR  __attribute__((warn_unused_result))
#define JIT_EMITTER JIT_INLINE JIT_CURSOR

/* ---- Registers --------------------------------------------------------- */
enum x86_reg {
    X86_RAX = 0,
    X86_RCX = 1,
    X86_RDX = 2,
    X86_RBX = 3,
    X86_RSP = 4,
    X86_RBP = 5,
    X86_RSI = 6,
    X86_RDI = 7,
    X86_R8 = 8,
    X86_R9 = 9,
    X86_R10 = 10,
    X86_R11 = 11,
    X86_R12 = 12,
    X86_R13 = 13,
    X86_R14 = 14,
    X86_R15 = 15,
    X86_NONE = -1, /* "no index register" in a memory operand */
    /* As the base of a memory operand: no register, gs:[disp32]. The JIT
     * reaches everything it addresses (PVM window, context block) through
     * the gs base, so a base-less operand is always gs-relative. */
    X86_GSBASE = -2,
};

/* Condition codes (the low nibble of Jcc / SETcc / CMOVcc). */
enum x86_cc {
    X86_CC_O = 0x0,
    X86_CC_NO = 0x1,
    X86_CC_B = 0x2,  /* unsigned <  */
    X86_CC_AE = 0x3, /* unsigned >= */
    X86_CC_E = 0x4,
    X86_CC_NE = 0x5,
    X86_CC_BE = 0x6, /* unsigned <= */
    X86_CC_A = 0x7,  /* unsigned >  */
    X86_CC_S = 0x8,
    X86_CC_NS = 0x9,
    X86_CC_L = 0xC,  /* signed <  */
    X86_CC_GE = 0xD, /* signed >= */
    X86_CC_LE = 0xE, /* signed <= */
    X86_CC_G = 0xF,  /* signed >  */
};

#ifndef JIT_EMIT_ROOM_CHECKED
#define JIT_EMIT_ROOM_CHECKED 0
#endif

/* Bytes an append may store past the end of what it emits. */
#define JIT_EMIT_SLACK 16u

/* ---- The cursor and the buffer ---------------------------------------- */
/*
 * Every emitter takes a cursor p, the address its instruction starts at,
 * stores the instruction there and returns the cursor after it. A caller
 * keeps the cursor in a local, so the emits of a sequence form no chain
 * through memory. An emit stores whole words: it may write up to
 * JIT_EMIT_SLACK bytes from p (bytes past its instruction are overwritten
 * by the next emit), so p must have that much room after it.
 */
typedef uint32_t jit_u32_unaligned __attribute__((aligned(1)));

/* Stores the low n (1..8) bytes of v, little-endian. */
JIT_EMITTER uint8_t *emitn(uint8_t *p, uint64_t v, unsigned n)
{
    jit_u32_unaligned *d = (jit_u32_unaligned *)p;
    d[0] = (uint32_t)v;
    d[1] = (uint32_t)(v >> 32);
    return p + n;
}

/*
 * Stores head (nh <= 8 bytes) and then tail (nt <= 8 bytes), little-endian:
 * a whole x86 instruction (prefixes to SIB, then displacement and
 * immediate) with one advance of the cursor.
 */
JIT_EMITTER uint8_t *emit_head_tail(uint8_t *p, uint64_t head, unsigned nh, uint64_t tail,
                                    unsigned nt)
{
    jit_u32_unaligned *d = (jit_u32_unaligned *)p;
    d[0] = (uint32_t)head;
    d[1] = (uint32_t)(head >> 32);
    jit_u32_unaligned *e = (jit_u32_unaligned *)(p + nh);
    e[0] = (uint32_t)tail;
    e[1] = (uint32_t)(tail >> 32);
    return p + nh + nt;
}

JIT_EMITTER uint8_t *emit1(uint8_t *p, uint8_t v)
{
    return emitn(p, v, 1);
}

JIT_EMITTER uint8_t *emit4(uint8_t *p, uint32_t v)
{
    return emitn(p, v, 4);
}

JIT_EMITTER uint8_t *emit8(uint8_t *p, uint64_t v)
{
    return emitn(p, v, 8);
}

/* Point the rel32 at site to target, and the rel8 at site to target. */
JIT_INLINE void jit_link32_at(uint8_t *site, const uint8_t *target)
{
    *(jit_u32_unaligned *)site = (uint32_t)(target - (site + 4));
}

JIT_INLINE void jit_link8_at(uint8_t *site, const uint8_t *target)
{
    *site = (uint8_t)(target - (site + 1));
}

/*
 * A code buffer with offsets. Overflow is sticky: once the buffer is full,
 * bytes are no longer written but the offset keeps counting, so after the
 * compile the caller learns exactly how many bytes were needed. Check
 * jit_buf_overflowed() once at the end. One emit into a buffer:
 *     jit_buf_advance(b, emit_X(jit_buf_cursor(b), ...));
 * With JIT_EMIT_ROOM_CHECKED the caller has checked the room and the
 * cursor is always in the buffer.
 */
struct jit_buf {
    uint8_t *code;
    size_t size;                   /* capacity of code */
    size_t off;                    /* bytes emitted so far; may exceed size (sticky overflow) */
    uint8_t spill[JIT_EMIT_SLACK]; /* where an emit goes when code has no room */
};

JIT_INLINE bool jit_buf_overflowed(const struct jit_buf *b)
{
    return b->off > b->size;
}

JIT_INLINE bool jit_buf_has_slack(const struct jit_buf *b)
{
    return JIT_EMIT_ROOM_CHECKED || (b->off <= b->size && b->size - b->off >= JIT_EMIT_SLACK);
}

/* The cursor of the next emit: in the code, or in spill near the end. */
JIT_EMITTER uint8_t *jit_buf_cursor(struct jit_buf *b)
{
    return jit_buf_has_slack(b) ? b->code + b->off : b->spill;
}

/* After an emit at jit_buf_cursor(b) that ended at end: count its bytes,
 * and copy those that fit from spill into the code. */
JIT_INLINE void jit_buf_advance(struct jit_buf *b, const uint8_t *end)
{
    if (jit_buf_has_slack(b)) {
        b->off = (size_t)(end - b->code);
        return;
    }
    size_t n = (size_t)(end - b->spill);
    for (size_t i = 0; i < n && b->off + i < b->size; i++)
        b->code[b->off + i] = b->spill[i];
    b->off += n;
}

/* Overwrite 4 bytes at offset 'at' (a rel32 or imm32 placeholder emitted
 * earlier). */
JIT_INLINE void jit_patch4(struct jit_buf *b, size_t at, uint32_t v)
{
    if (JIT_EMIT_ROOM_CHECKED || at + 4 <= b->size) /* emitted bytes are in the buffer */
        *(jit_u32_unaligned *)(b->code + at) = v;
}

/* Point the rel32 at offset 'site' to offset 'target'. */
JIT_INLINE void jit_link32(struct jit_buf *b, size_t site, size_t target)
{
    jit_patch4(b, site, (uint32_t)((int64_t)target - (int64_t)(site + 4)));
}

JIT_INLINE bool is_imm8(int64_t v)
{
    return v >= -128 && v <= 127;
}

JIT_INLINE bool is_simm32(int64_t v)
{
    return v >= INT32_MIN && v <= INT32_MAX;
}

JIT_INLINE bool is_uimm32(uint64_t v)
{
    return v <= UINT32_MAX;
}

/* ---- Instruction shape: [prefix] [REX] opcode ModRM [SIB] [disp] -------- */
/*
 * A "form" packs the opcode byte with flags saying which prefixes and escape
 * bytes it needs, so each x86 form below is one constant.
 */
enum {
    XF_W = 1u << 8,     /* REX.W: 64-bit operand size */
    XF_66 = 1u << 9,    /* 66 prefix: 16-bit operand size */
    XF_F3 = 1u << 10,   /* F3 prefix (popcnt) */
    XF_0F = 1u << 11,   /* two-byte opcode 0F xx */
    XF_BYTE = 1u << 12, /* byte register operand: spl/bpl/sil/dil need a REX */
    XF_GS = 1u << 13,   /* 65 prefix: the address is relative to the gs base */
    /* 67 prefix: 32-bit address size. The effective address (base32 +
     * disp) wraps modulo 2^32 before the gs base is added: PVM's own
     * address arithmetic (SPEC §2) in the operand itself. */
    XF_A32 = 1u << 14,
};

/* The bytes of an instruction head (prefixes to SIB) in a word, before one
 * append. */
struct x86_bytes {
    uint64_t v;
    unsigned n;
};

/*
 * [prefixes] [REX] then body (nb bytes: [0F] opcode [ModRM [SIB]]), built
 * without data-dependent branches: the prefixes follow from the constant
 * form, the REX byte from the register numbers. The REX byte is always
 * placed in front of the body and shifted out again when it is not needed,
 * so there is one variable shift for the whole head.
 */
JIT_INLINE struct x86_bytes x86_head_body(unsigned form, int reg, int index, int rm, uint64_t body,
                                          unsigned nb)
{
    uint64_t pre = 0;
    unsigned np = 0;
    if (form & XF_GS)
        pre |= (uint64_t)0x65 << (8 * np++);
    if (form & XF_A32)
        pre |= (uint64_t)0x67 << (8 * np++);
    if (form & XF_66)
        pre |= (uint64_t)0x66 << (8 * np++);
    if (form & XF_F3)
        pre |= (uint64_t)0xF3 << (8 * np++);
    unsigned rex = 0x40 | ((form & XF_W) ? 8u : 0u) | (((unsigned)reg & 8) >> 1) |
                   (index >= 0 ? ((unsigned)index & 8) >> 2 : 0u) | (((unsigned)rm & 8) >> 3);
    bool need = rex != 0x40;
    if (form & XF_BYTE) /* spl/bpl/sil/dil exist only with a REX */
        need = need || (unsigned)(reg - 4) < 4 || (unsigned)(rm - 4) < 4;
    uint64_t rest = ((uint64_t)rex | body << 8) >> (need ? 0 : 8);
    return (struct x86_bytes){pre | rest << (8 * np), np + (unsigned)need + nb};
}

/* The [0F] opcode of a form, and its length. */
JIT_INLINE uint64_t x86_opcode(unsigned form, unsigned *n)
{
    if (form & XF_0F) {
        *n = 2;
        return 0x0F | (uint64_t)(uint8_t)form << 8;
    }
    *n = 1;
    return (uint8_t)form;
}

/* [prefix] [REX] [0F] opcode, without ModRM (forms like push, bswap, mov r,
 * imm), then the ni bytes of imm. */
JIT_EMITTER uint8_t *x86_prefix_rex_imm(uint8_t *p, unsigned form, int reg, int index, int rm,
                                        uint64_t imm, unsigned ni)
{
    unsigned no;
    uint64_t op = x86_opcode(form, &no);
    struct x86_bytes x = x86_head_body(form, reg, index, rm, op, no);
    return emit_head_tail(p, x.v, x.n, imm, ni);
}

JIT_EMITTER uint8_t *x86_prefix_rex(uint8_t *p, unsigned form, int reg, int index, int rm)
{
    unsigned no;
    uint64_t op = x86_opcode(form, &no);
    struct x86_bytes x = x86_head_body(form, reg, index, rm, op, no);
    return emitn(p, x.v, x.n);
}

/* Register-direct operand: ModRM mod=11. 'reg' may be an opcode extension. */
JIT_INLINE struct x86_bytes x86_rr_head(unsigned form, int reg, int rm)
{
    unsigned no;
    uint64_t op = x86_opcode(form, &no);
    uint64_t modrm = 0xC0 | (((unsigned)reg & 7) << 3) | ((unsigned)rm & 7);
    return x86_head_body(form, reg, -1, rm, op | modrm << (8 * no), no + 1);
}

JIT_EMITTER uint8_t *x86_rr(uint8_t *p, unsigned form, int reg, int rm)
{
    struct x86_bytes x = x86_rr_head(form, reg, rm);
    return emitn(p, x.v, x.n);
}

/* x86_rr followed by the ni (1..4) bytes of an immediate. */
JIT_EMITTER uint8_t *x86_rr_imm(uint8_t *p, unsigned form, int reg, int rm, uint32_t imm,
                                unsigned ni)
{
    struct x86_bytes x = x86_rr_head(form, reg, rm);
    return emit_head_tail(p, x.v, x.n, imm, ni);
}

/*
 * Memory operand [base + index*scale + disp]. Traps handled here: rsp/r12 as
 * a base need a SIB byte; rbp/r13 as a base need a displacement; rsp cannot
 * be an index. Base X86_GSBASE: gs:[disp32], encoded with a SIB byte that
 * names neither base nor index (ModRM rm=101 alone would be rip-relative);
 * with 64-bit addresses the disp32 is sign-extended (the context block
 * below the base), with XF_A32 zero-extended (a PVM address).
 * The prefixes, REX, opcode, ModRM and SIB take at most 8 bytes (65 67 66
 * REX 0F op ModRM SIB), the displacement and an immediate of ni (0..4)
 * bytes after it at most 8: one emit_head_tail. The displacement size
 * (mod) and the SIB byte are chosen without branches: they depend on the
 * program's immediates and registers, which a branch predictor cannot learn
 * in one compile.
 */
JIT_EMITTER uint8_t *x86_rm_imm(uint8_t *p, unsigned form, int reg, int base, int index,
                                unsigned scale_log2, int32_t disp, uint32_t imm, unsigned ni)
{
    unsigned no;
    uint64_t op = x86_opcode(form, &no);
    if (base == X86_GSBASE) {
        uint64_t modrm_sib = (((unsigned)reg & 7) << 3) | 4 /* mod 00, rm 100: SIB follows */
                             | 0x25 << 8;                   /* no index, no base: disp32 */
        struct x86_bytes x =
            x86_head_body(form | XF_GS, reg, -1, 0, op | modrm_sib << (8 * no), no + 2);
        return emit_head_tail(p, x.v, x.n, (uint32_t)disp | (uint64_t)imm << 32, 4 + ni);
    }
    static const uint32_t disp_mask[3] = {0, 0xFF, 0xFFFFFFFF};
    unsigned low = (unsigned)base & 7;
    /* mod 0: no displacement (not for rbp/r13), 1: disp8, 2: disp32 */
    unsigned mod = (unsigned)(disp != 0 || low == 5) + (unsigned)!is_imm8(disp);
    unsigned nd = mod * mod; /* 0, 1 or 4 bytes */
    bool sib = index >= 0 || low == 4;
    unsigned idx = index >= 0 ? (unsigned)index & 7 : 4; /* 100 = no index */
    uint64_t modrm = (mod << 6) | (((unsigned)reg & 7) << 3) | (sib ? 4 : low);
    uint64_t sib_byte = (scale_log2 << 6) | (idx << 3) | low;
    uint64_t tail_of_op = modrm | (sib ? sib_byte << 8 : 0);
    struct x86_bytes x =
        x86_head_body(form, reg, index, base, op | tail_of_op << (8 * no), no + 1 + (unsigned)sib);
    uint64_t tail = (uint32_t)disp & disp_mask[mod];
    if (ni != 0)
        tail |= (uint64_t)imm << (8 * nd);
    return emit_head_tail(p, x.v, x.n, tail, nd + ni);
}

/* A memory operand with no immediate after it. */
JIT_EMITTER uint8_t *x86_rm(uint8_t *p, unsigned form, int reg, int base, int index,
                            unsigned scale_log2, int32_t disp)
{
    return x86_rm_imm(p, form, reg, base, index, scale_log2, disp, 0, 0);
}

/* ---- ALU group 1 opcode extensions (81 /n, 83 /n) ---------------------- */
enum x86_alu {
    X86_ALU_ADD = 0,
    X86_ALU_OR = 1,
    X86_ALU_ADC = 2,
    X86_ALU_AND = 4,
    X86_ALU_SUB = 5,
    X86_ALU_XOR = 6,
    X86_ALU_CMP = 7,
};

/* Shift group 2 extensions (C1 /n ib, D3 /n). */
enum x86_shift {
    X86_SH_ROL = 0,
    X86_SH_ROR = 1,
    X86_SH_SHL = 4,
    X86_SH_SHR = 5,
    X86_SH_SAR = 7,
};

/* ---- Register-register forms ------------------------------------------- */
/* 'w64' selects the 64-bit (REX.W) or 32-bit form; 32-bit writes zero-extend. */
JIT_INLINE unsigned xw(bool w64)
{
    return w64 ? XF_W : 0;
}

JIT_EMITTER uint8_t *emit_mov_rr(uint8_t *p, bool w64, int dst, int src)
{
    return x86_rr(p, xw(w64) | 0x89, src, dst); /* mov dst, src */
}

/* op dst, src for op in {add, or, adc, and, sub, xor, cmp}: opcode = ext*8 + 1. */
JIT_EMITTER uint8_t *emit_alu_rr(uint8_t *p, bool w64, enum x86_alu op, int dst, int src)
{
    return x86_rr(p, xw(w64) | (unsigned)(op * 8 + 1), src, dst); /* op dst, src */
}

JIT_EMITTER uint8_t *emit_test_rr(uint8_t *p, bool w64, int a, int c)
{
    return x86_rr(p, xw(w64) | 0x85, c, a); /* test a, c */
}

/* op dst, imm (sign-extended imm8 or imm32). */
JIT_EMITTER uint8_t *emit_alu_ri(uint8_t *p, bool w64, enum x86_alu op, int dst, int32_t imm)
{
    if (is_imm8(imm)) {
        return x86_rr_imm(p, xw(w64) | 0x83, op, dst, (uint8_t)imm, 1); /* op dst, imm8 */
    } else {
        return x86_rr_imm(p, xw(w64) | 0x81, op, dst, (uint32_t)imm, 4); /* op dst, imm32 */
    }
}

JIT_EMITTER uint8_t *emit_test_ri(uint8_t *p, bool w64, int dst, int32_t imm)
{
    return x86_rr_imm(p, xw(w64) | 0xF7, 0, dst, (uint32_t)imm, 4); /* test dst, imm32 */
}

/* dst = imm, shortest form. Clobbers no flags except the xor form (imm 0). */
JIT_EMITTER uint8_t *emit_mov_ri(uint8_t *p, int dst, uint64_t imm)
{
    if (is_uimm32(imm)) {
        return x86_prefix_rex_imm(p, 0xB8 + (dst & 7), 0, -1, dst, imm, 4); /* mov dst32, imm32 */
    } else if (is_simm32((int64_t)imm)) {
        return x86_rr_imm(p, XF_W | 0xC7, 0, dst, (uint32_t)imm, 4); /* mov dst, simm32 */
    } else {
        return x86_prefix_rex_imm(p, XF_W | (0xB8 + (dst & 7)), 0, -1, dst, imm,
                                  8); /* movabs dst, imm64 */
    }
}

JIT_EMITTER uint8_t *emit_imul_rr(uint8_t *p, bool w64, int dst, int src)
{
    return x86_rr(p, xw(w64) | XF_0F | 0xAF, dst, src); /* imul dst, src */
}

JIT_EMITTER uint8_t *emit_imul_rri(uint8_t *p, bool w64, int dst, int src, int32_t imm)
{
    return x86_rr_imm(p, xw(w64) | 0x69, dst, src, (uint32_t)imm, 4); /* imul dst, src, imm32 */
}

JIT_EMITTER uint8_t *emit_shift_ri(uint8_t *p, bool w64, enum x86_shift op, int dst, uint8_t count)
{
    return x86_rr_imm(p, xw(w64) | 0xC1, op, dst, count, 1); /* shl/shr/sar/rol/ror dst, imm8 */
}

JIT_EMITTER uint8_t *emit_shift_cl(uint8_t *p, bool w64, enum x86_shift op, int dst)
{
    return x86_rr(p, xw(w64) | 0xD3, op, dst); /* shl/shr/sar/rol/ror dst, cl */
}

/* Group 3 (F7 /n): not 2, neg 3, mul 4, imul 5, div 6, idiv 7. */
enum x86_grp3 {
    X86_G3_NOT = 2,
    X86_G3_NEG = 3,
    X86_G3_MUL = 4,
    X86_G3_IMUL = 5,
    X86_G3_DIV = 6,
    X86_G3_IDIV = 7,
};

JIT_EMITTER uint8_t *emit_grp3_r(uint8_t *p, bool w64, enum x86_grp3 op, int rm)
{
    return x86_rr(p, xw(w64) | 0xF7, op, rm); /* not/neg/mul/imul/div/idiv rm */
}

JIT_EMITTER uint8_t *emit_grp3_m(uint8_t *p, bool w64, enum x86_grp3 op, int base, int32_t disp)
{
    return x86_rm(p, xw(w64) | 0xF7, op, base, X86_NONE, 0, disp); /* div/idiv/mul [base+disp] */
}

JIT_EMITTER uint8_t *emit_cqo(uint8_t *p)
{
    return emitn(p, 0x9948, 2); /* cqo: rdx:rax = sign-extend rax */
}

JIT_EMITTER uint8_t *emit_cdq(uint8_t *p)
{
    return emit1(p, 0x99); /* cdq: edx:eax = sign-extend eax */
}

JIT_EMITTER uint8_t *emit_movsxd_rr(uint8_t *p, int dst, int src)
{
    return x86_rr(p, XF_W | 0x63, dst, src); /* movsxd dst, src32 */
}

JIT_EMITTER uint8_t *emit_movsx8_rr(uint8_t *p, int dst, int src)
{
    return x86_rr(p, XF_W | XF_0F | XF_BYTE | 0xBE, dst, src); /* movsx dst, src8 */
}

JIT_EMITTER uint8_t *emit_movsx16_rr(uint8_t *p, int dst, int src)
{
    return x86_rr(p, XF_W | XF_0F | 0xBF, dst, src); /* movsx dst, src16 */
}

JIT_EMITTER uint8_t *emit_movzx8_rr(uint8_t *p, int dst, int src)
{
    return x86_rr(p, XF_0F | XF_BYTE | 0xB6, dst, src); /* movzx dst32, src8 */
}

JIT_EMITTER uint8_t *emit_movzx16_rr(uint8_t *p, int dst, int src)
{
    return x86_rr(p, XF_0F | 0xB7, dst, src); /* movzx dst32, src16 */
}

JIT_EMITTER uint8_t *emit_popcnt_rr(uint8_t *p, bool w64, int dst, int src)
{
    return x86_rr(p, XF_F3 | xw(w64) | XF_0F | 0xB8, dst, src); /* popcnt dst, src */
}

JIT_EMITTER uint8_t *emit_bsr_rr(uint8_t *p, bool w64, int dst, int src)
{
    return x86_rr(p, xw(w64) | XF_0F | 0xBD, dst, src); /* bsr dst, src (ZF=1 if src==0) */
}

JIT_EMITTER uint8_t *emit_bsf_rr(uint8_t *p, bool w64, int dst, int src)
{
    return x86_rr(p, xw(w64) | XF_0F | 0xBC, dst, src); /* bsf dst, src (ZF=1 if src==0) */
}

JIT_EMITTER uint8_t *emit_bswap(uint8_t *p, int reg)
{
    return x86_prefix_rex(p, XF_W | XF_0F | (0xC8 + (reg & 7)), 0, -1, reg); /* bswap reg */
}

JIT_EMITTER uint8_t *emit_setcc(uint8_t *p, enum x86_cc cc, int dst)
{
    return x86_rr(p, XF_0F | XF_BYTE | (0x90 + cc), 0, dst); /* setcc dst8 */
}

JIT_EMITTER uint8_t *emit_cmovcc_rr(uint8_t *p, enum x86_cc cc, int dst, int src)
{
    return x86_rr(p, XF_W | XF_0F | (0x40 + cc), dst, src); /* cmovcc dst, src */
}

/* lea dst32/64, [base + disp]: the 32-bit form computes lo32(base + disp). */
JIT_EMITTER uint8_t *emit_lea(uint8_t *p, bool w64, int dst, int base, int32_t disp)
{
    return x86_rm(p, xw(w64) | 0x8D, dst, base, X86_NONE, 0, disp); /* lea dst, [base+disp] */
}

/* ---- Memory forms ------------------------------------------------------ */
/* The PVM memory operand gs:[base32 + disp] (base X86_GSBASE: gs:[disp]):
 * the window is at the gs base, the address wraps modulo 2^32 (XF_A32). */
JIT_EMITTER uint8_t *emit_load_m(uint8_t *p, unsigned form, int dst, int base, int32_t disp)
{
    return x86_rm(p, form | XF_GS | XF_A32, dst, base, X86_NONE, 0, disp); /* mov dst, gs:[a32] */
}

JIT_EMITTER uint8_t *emit_store_m(uint8_t *p, unsigned form, int src, int base, int32_t disp)
{
    return x86_rm(p, form | XF_GS | XF_A32, src, base, X86_NONE, 0, disp); /* mov gs:[a32], src */
}

/* mov gs:[a32], imm (8/16/32/64 via form); imm bytes follow. */
JIT_EMITTER uint8_t *emit_store_imm_m(uint8_t *p, unsigned form, int base, int32_t disp,
                                      int32_t imm, unsigned imm_bytes)
{
    return x86_rm_imm(p, form | XF_GS | XF_A32, 0, base, X86_NONE, 0, disp, (uint32_t)imm,
                      imm_bytes); /* mov gs:[a32], imm */
}

/* Load forms (dst register in reg field). */
#define X86_LOAD_U8  (XF_0F | 0xB6)        /* movzx r32, byte */
#define X86_LOAD_I8  (XF_W | XF_0F | 0xBE) /* movsx r64, byte */
#define X86_LOAD_U16 (XF_0F | 0xB7)        /* movzx r32, word */
#define X86_LOAD_I16 (XF_W | XF_0F | 0xBF) /* movsx r64, word */
#define X86_LOAD_U32 (0x8B)                /* mov r32, dword  */
#define X86_LOAD_I32 (XF_W | 0x63)         /* movsxd r64, dword */
#define X86_LOAD_U64 (XF_W | 0x8B)         /* mov r64, qword  */
/* Store forms (src register in reg field). */
#define X86_STORE_8  (XF_BYTE | 0x88) /* mov byte [m], r8 */
#define X86_STORE_16 (XF_66 | 0x89)   /* mov word [m], r16 */
#define X86_STORE_32 (0x89)           /* mov dword [m], r32 */
#define X86_STORE_64 (XF_W | 0x89)    /* mov qword [m], r64 */
/* Store-immediate forms (C6 /0 ib, C7 /0 iw/id). */
#define X86_STORE_IMM_8  (0xC6)         /* mov byte [m], imm8 */
#define X86_STORE_IMM_16 (XF_66 | 0xC7) /* mov word [m], imm16 */
#define X86_STORE_IMM_32 (0xC7)         /* mov dword [m], imm32 */
#define X86_STORE_IMM_64 (XF_W | 0xC7)  /* mov qword [m], simm32 */

/* reg <-> [base + disp] (context-block slots). */
JIT_EMITTER uint8_t *emit_load_disp(uint8_t *p, int dst, int base, int32_t disp)
{
    return x86_rm(p, XF_W | 0x8B, dst, base, X86_NONE, 0, disp); /* mov dst, [base+disp] */
}

JIT_EMITTER uint8_t *emit_store_disp(uint8_t *p, int src, int base, int32_t disp)
{
    return x86_rm(p, XF_W | 0x89, src, base, X86_NONE, 0, disp); /* mov [base+disp], src */
}

JIT_EMITTER uint8_t *emit_store32_imm_disp(uint8_t *p, int base, int32_t disp, uint32_t imm)
{
    return x86_rm_imm(p, 0xC7, 0, base, X86_NONE, 0, disp, imm,
                      4); /* mov dword [base+disp], imm32 */
}

JIT_EMITTER uint8_t *emit_store64_imm_disp(uint8_t *p, int base, int32_t disp, int32_t imm)
{
    return x86_rm_imm(p, XF_W | 0xC7, 0, base, X86_NONE, 0, disp, (uint32_t)imm,
                      4); /* mov qword [base+disp], simm32 */
}

/* op reg64, imm32 (always the imm32 form: patchable). */
JIT_EMITTER uint8_t *emit_alu_ri32(uint8_t *p, enum x86_alu op, int dst, uint32_t imm)
{
    return x86_rr_imm(p, XF_W | 0x81, op, dst, imm, 4); /* op dst, imm32 */
}

/* op qword [base+disp], imm32 (always the imm32 form: patchable). */
JIT_EMITTER uint8_t *emit_alu64_mi32(uint8_t *p, enum x86_alu op, int base, int32_t disp,
                                     uint32_t imm)
{
    return x86_rm_imm(p, XF_W | 0x81, op, base, X86_NONE, 0, disp, imm,
                      4); /* op qword [base+disp], imm32 */
}

/* op reg, qword [base+disp] for op in {add, or, and, sub, xor, cmp}. */
JIT_EMITTER uint8_t *emit_alu_rm(uint8_t *p, enum x86_alu op, int reg, int base, int32_t disp)
{
    return x86_rm(p, XF_W | (unsigned)(op * 8 + 3), reg, base, X86_NONE, 0, disp); /* op reg, [m] */
}

/* ---- Control flow ------------------------------------------------------ */
/* The jumps and calls end with their rel32 (rel8) field: it is the 4 (1)
 * bytes before the returned cursor, for jit_link32_at (jit_link8_at). */
JIT_EMITTER uint8_t *emit_jmp32(uint8_t *p)
{
    return emitn(p, 0xE9, 5); /* jmp rel32 */
}

JIT_EMITTER uint8_t *emit_jcc32(uint8_t *p, enum x86_cc cc)
{
    return emitn(p, 0x800F + ((unsigned)cc << 8), 6); /* jcc rel32 */
}

JIT_EMITTER uint8_t *emit_jmp8(uint8_t *p)
{
    return emitn(p, 0xEB, 2); /* jmp rel8 */
}

JIT_EMITTER uint8_t *emit_call32(uint8_t *p)
{
    return emitn(p, 0xE8, 5); /* call rel32 */
}

JIT_EMITTER uint8_t *emit_jcc8(uint8_t *p, enum x86_cc cc)
{
    return emitn(p, (uint8_t)(0x70 + cc), 2); /* jcc rel8 */
}

JIT_EMITTER uint8_t *emit_jmp_r(uint8_t *p, int reg)
{
    return x86_rr(p, 0xFF, 4, reg); /* jmp reg */
}

JIT_EMITTER uint8_t *emit_jmp_m(uint8_t *p, int base, int32_t disp)
{
    return x86_rm(p, 0xFF, 4, base, X86_NONE, 0, disp); /* jmp qword [base+disp] */
}

/* lea dst, [rip + rel32]; the rel32 field ends the instruction. */
JIT_EMITTER uint8_t *emit_lea_rip(uint8_t *p, int dst)
{
    uint64_t body = 0x8D | (uint64_t)((((unsigned)dst & 7) << 3) | 5) << 8; /* ModRM: rip+rel32 */
    struct x86_bytes x = x86_head_body(XF_W | 0x8D, dst, -1, 0, body, 2); /* lea dst, [rip+rel32] */
    return emit_head_tail(p, x.v, x.n, 0, 4);
}

JIT_EMITTER uint8_t *emit_push(uint8_t *p, int reg)
{
    return x86_prefix_rex(p, 0x50 + (reg & 7), 0, -1, reg); /* push reg */
}

JIT_EMITTER uint8_t *emit_pop(uint8_t *p, int reg)
{
    return x86_prefix_rex(p, 0x58 + (reg & 7), 0, -1, reg); /* pop reg */
}

JIT_EMITTER uint8_t *emit_ret(uint8_t *p)
{
    return emit1(p, 0xC3); /* ret */
}

JIT_EMITTER uint8_t *emit_int(uint8_t *p, uint8_t vector)
{
    return emitn(p, 0xCD + ((unsigned)vector << 8), 2); /* int imm8 */
}

JIT_EMITTER uint8_t *emit_call_m(uint8_t *p, int base, int32_t disp)
{
    return x86_rm(p, 0xFF, 2, base, X86_NONE, 0, disp); /* call qword [base+disp] */
}

JIT_EMITTER uint8_t *emit_out_dx_eax(uint8_t *p)
{
    return emit1(p, 0xEF); /* out dx, eax */
}

/* cmp dword [base+disp], imm32 */
JIT_EMITTER uint8_t *emit_cmp32_mi(uint8_t *p, int base, int32_t disp, uint32_t imm)
{
    return x86_rm_imm(p, 0x81, X86_ALU_CMP, base, X86_NONE, 0, disp, imm, 4);
}

/* cmp qword [base+disp], simm8 */
JIT_EMITTER uint8_t *emit_cmp64_mi8(uint8_t *p, int base, int32_t disp, int8_t imm)
{
    return x86_rm_imm(p, XF_W | 0x83, X86_ALU_CMP, base, X86_NONE, 0, disp, (uint8_t)imm, 1);
}

JIT_EMITTER uint8_t *emit_ud2(uint8_t *p)
{
    return emitn(p, 0x0B0F, 2); /* ud2 */
}

JIT_EMITTER uint8_t *emit_int3(uint8_t *p)
{
    return emit1(p, 0xCC); /* int3 */
}

#endif /* NUB_JIT_X86_H */
