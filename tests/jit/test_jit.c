/*
 * test_jit.c — unit tests of the JIT: emitter encodings, the compile
 * buffer protocol, SPEC corner cases run on both engines with explicit
 * expected values, the signal plumbing, and the guest entry/exit flavour.
 * (Broad equivalence with the interpreter is jit_differential's job.)
 */
#include <asm/prctl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "jit.h"
#include "jit_decode.h"
#include "jit_x86.h"
#include "pvm_alloc_libc.h"
#include "pvm_hosted.h"
#include "pvm_hosted_int.h"
#include "pvm_interp.h"
#include "pvm_program.h"
#include "pvmasm.h"

/* ---- gas items -------------------------------------------------------- */

/* The fields of a gas item the model reads (move_to/move_from only for
 * move_reg). */
static void assert_same_item(const struct pvm_gas_item *got, const struct pvm_gas_item *want)
{
    assert_int_equal(got->src, want->src);
    assert_int_equal(got->dst, want->dst);
    assert_int_equal(got->lat, want->lat);
    assert_int_equal(got->dec, want->dec);
    assert_int_equal(got->units, want->units);
    assert_int_equal(got->is_move, want->is_move);
    assert_int_equal(got->ends_block, want->ends_block);
    if (want->is_move) {
        assert_int_equal(got->move_to, want->move_to);
        assert_int_equal(got->move_from, want->move_from);
    }
}

/* The compiler takes 0.8.0 gas words from an instruction's head and raw
 * register fields (jit_gas_word_of_head; their items: pvm_gas_item_of_word);
 * the interpreter builds items from the whole decoded instruction
 * (pvm_gas_item_of on pvm_decode_insn). Every code
 * byte, every byte 1, a spread of byte 2 values (register fields 0..15 and
 * clamped ones) and skips, away from the end of the code (the program's
 * own bytes) and at its end (the compiler's padded copy); the branch
 * successors and targets land on trap, unlikely and other bytes. */
static void test_gas_words_from_heads_match_decoded_items(void **state)
{
    (void)state;
    enum { CODE = 256, AT = 64 };
    uint8_t blob[5 + CODE + CODE / 8] = {0, 0, 0x80 | (CODE >> 8), CODE & 0xFF};
    uint8_t *code = blob + 4, *bitmask = code + CODE;
    for (unsigned i = 0; i < CODE; i++)
        code[i] = i % 5 == 0 ? 0 : i % 7 == 0 ? 2 : (uint8_t)(i * 37 + 11);
    bitmask[0] = 1;
    struct pvm_allocator a = pvm_libc_allocator();
    struct pvm_program *p = NULL;
    assert_int_equal(pvm_program_decode_isa(blob, 4 + CODE + CODE / 8, NUB_ISA_GP_0_8_0, &a, &p),
                     PVM_OK);
    assert_ptr_equal(p->code, code); /* borrowed: the bytes below are changed in place */
    static const uint8_t third[] = {0, 1, 5, 7, 12, 13, 15, 16, 0x87, 255};
    static const unsigned skips[] = {0, 1, 3, 9, 24};
    unsigned branches[2] = {0, 0}; /* cheap, dear */
    for (unsigned at_end = 0; at_end < 2; at_end++) {
        uint32_t pc = at_end ? CODE - 2 : AT;
        for (unsigned si = 0; si < sizeof skips / sizeof skips[0]; si++) {
            unsigned skip = at_end ? si % 2 : skips[si];
            memset(bitmask, 0, CODE / 8);
            bitmask[pc / 8] |= (uint8_t)(1u << (pc % 8));
            if (pc + 1 + skip < CODE)
                bitmask[(pc + 1 + skip) / 8] |= (uint8_t)(1u << ((pc + 1 + skip) % 8));
            for (unsigned op = 0; op < 256; op++) {
                code[pc] = (uint8_t)op;
                for (unsigned b1 = 0; b1 < 256; b1++) {
                    code[pc + 1] = (uint8_t)b1;
                    for (unsigned ti = 0; ti < sizeof third && (!at_end || ti == 0); ti++) {
                        if (!at_end)
                            code[pc + 2] = third[ti];
                        struct pvm_insn in;
                        pvm_decode_insn(p, pc, &in);
                        struct pvm_gas_item want, got;
                        pvm_gas_item_of(p, &in, &want);
                        struct jit_tail tail;
                        uint8_t hop;
                        unsigned l;
                        uint32_t word;
                        if (at_end) {
                            jit_tail_init(&tail, p);
                            l = jit_head(tail.bitmask, tail.code, p->isa->opcode_of, pc - tail.base,
                                         &hop);
                            word =
                                jit_gas_word_of_head(p, pc, hop, l, tail.code + (pc - tail.base));
                        } else {
                            l = jit_head_fast(p, pc, &hop);
                            word = jit_gas_word_of_head(p, pc, hop, l, code + pc);
                        }
                        pvm_gas_item_of_word(word, jit_op_ends_block[hop], &got);
                        assert_int_equal(l, in.skip);
                        assert_same_item(&got, &want);
                        if (pvm_gas_rows[in.opcode].lat == PVM_GAS_LAT_BRANCH)
                            branches[want.lat != 1]++;
                    }
                }
            }
        }
    }
    assert_true(branches[0] > 0 && branches[1] > 0);
    pvm_program_destroy(p);
}

/* ---- emitter ------------------------------------------------------------ */
struct enc_case {
    const char *asm_text;
    uint8_t bytes[12];
    size_t len;
};

static size_t emit_case(int i, struct jit_buf *b)
{
    uint8_t *p = jit_buf_cursor(b);
    switch (i) {
    case 0:
        p = emit_mov_rr(p, true, X86_RAX, X86_RBX);
        break;
    case 1:
        p = emit_load_m(p, X86_LOAD_U64, X86_R11, X86_R13, 0x10);
        break;
    case 2:
        p = emit_store_m(p, X86_STORE_8, X86_RSI, X86_GSBASE, 0x20010);
        break;
    case 3:
        p = emit_lea(p, false, X86_RAX, X86_R13, 0);
        break;
    case 4:
        p = emit_lea(p, false, X86_RAX, X86_R12, 5);
        break;
    case 5:
        p = emit_grp3_m(p, true, X86_G3_DIV, X86_R15, -24);
        break;
    case 6:
        p = emit_popcnt_rr(p, true, X86_RAX, X86_RBX);
        break;
    case 7:
        p = emit_movzx8_rr(p, X86_RAX, X86_RSI);
        break;
    case 8:
        p = emit_alu_ri32(p, X86_ALU_SUB, X86_R15, 1000);
        break;
    case 9:
        p = x86_rm(p, XF_W | 0x63, X86_RAX, X86_RCX, X86_RAX, 1, -4);
        break;
    case 10:
        p = emit_jmp_m(p, X86_R15, -144);
        break;
    case 11:
        p = emit_mov_ri(p, X86_RAX, UINT64_MAX);
        break;
    case 12:
        p = emit_mov_ri(p, X86_R9, 0x123456789ull);
        break;
    case 13:
        p = emit_mov_ri(p, X86_RDX, 5);
        break;
    case 14:
        p = emit_shift_cl(p, false, X86_SH_SAR, X86_RAX);
        break;
    case 15:
        p = emit_bswap(p, X86_R10);
        break;
    case 16:
        p = emit_setcc(p, X86_CC_E, X86_RAX);
        break;
    case 17:
        p = emit_push(p, X86_R15);
        break;
    case 18:
        p = emit_store_imm_m(p, X86_STORE_IMM_16, X86_R12, -4, 0x1234, 2);
        break;
    case 19:
        p = emit_movsx8_rr(p, X86_RBP, X86_RDI);
        break;
    case 20:
        p = emit_load_disp(p, X86_R15, X86_GSBASE, -8);
        break;
    case 21:
        p = emit_load_m(p, X86_LOAD_I8, X86_RBP, X86_RBP, 0);
        break;
    case 22:
        p = x86_rm(p, X86_LOAD_I32 | XF_GS | XF_A32, X86_R10, X86_R12, X86_R10, 2, 0);
        break;
    case 23:
        p = x86_rm(p, X86_LOAD_U64 | XF_GS | XF_A32, X86_RDX, X86_R13, X86_R12, 3, 8);
        break;

    default:
        return 0;
    }
    jit_buf_advance(b, p);
    return b->off;
}

/* Expected bytes, checked against llvm-mc's encodings of the same text. */
static const struct enc_case enc_cases[] = {
    {"mov rax, rbx", {0x48, 0x89, 0xd8}, 3},
    {"mov r11, qword ptr gs:[r13d+0x10]", {0x65, 0x67, 0x4d, 0x8b, 0x5d, 0x10}, 6},
    /* llvm-mc puts the 67 (addr32) first; the order of prefixes is free */
    {"addr32 mov byte ptr gs:[0x20010], sil",
     {0x65, 0x67, 0x40, 0x88, 0x34, 0x25, 0x10, 0x00, 0x02, 0x00},
     10},
    {"lea eax, [r13]", {0x41, 0x8d, 0x45, 0x00}, 4},
    {"lea eax, [r12+5]", {0x41, 0x8d, 0x44, 0x24, 0x05}, 5},
    {"div qword ptr [r15-24]", {0x49, 0xf7, 0x77, 0xe8}, 4},
    {"popcnt rax, rbx", {0xf3, 0x48, 0x0f, 0xb8, 0xc3}, 5},
    {"movzx eax, sil", {0x40, 0x0f, 0xb6, 0xc6}, 4},
    {"sub r15, 1000", {0x49, 0x81, 0xef, 0xe8, 0x03, 0x00, 0x00}, 7},
    {"movsxd rax, dword ptr [rcx+2*rax-4]", {0x48, 0x63, 0x44, 0x41, 0xfc}, 5},
    {"jmp qword ptr [r15-144]", {0x41, 0xff, 0xa7, 0x70, 0xff, 0xff, 0xff}, 7},
    {"mov rax, -1", {0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff}, 7},
    {"movabs r9, 0x123456789", {0x49, 0xb9, 0x89, 0x67, 0x45, 0x23, 0x01, 0, 0, 0}, 10},
    {"mov edx, 5", {0xba, 0x05, 0, 0, 0}, 5},
    {"sar eax, cl", {0xd3, 0xf8}, 2},
    {"bswap r10", {0x49, 0x0f, 0xca}, 3},
    {"sete al", {0x0f, 0x94, 0xc0}, 3},
    {"push r15", {0x41, 0x57}, 2},
    {"mov word ptr gs:[r12d-4], 0x1234",
     {0x65, 0x67, 0x66, 0x41, 0xc7, 0x44, 0x24, 0xfc, 0x34, 0x12},
     10},
    {"movsx rbp, dil", {0x48, 0x0f, 0xbe, 0xef}, 4},
    {"mov r15, qword ptr gs:[-8]", {0x65, 0x4c, 0x8b, 0x3c, 0x25, 0xf8, 0xff, 0xff, 0xff}, 9},
    {"movsx rbp, byte ptr gs:[ebp]", {0x65, 0x67, 0x48, 0x0f, 0xbe, 0x6d, 0x00}, 7},
    {"movsxd r10, dword ptr gs:[r12d+4*r10d]", {0x65, 0x67, 0x4f, 0x63, 0x14, 0x94}, 6},
    {"mov rdx, qword ptr gs:[r13d+8*r12d+8]", {0x65, 0x67, 0x4b, 0x8b, 0x54, 0xe5, 0x08}, 7},
};

static void test_emitter_encodings(void **state)
{
    (void)state;
    for (int i = 0; i < (int)(sizeof(enc_cases) / sizeof(enc_cases[0])); i++) {
        uint8_t code[32];
        memset(code, 0xCC, sizeof(code));
        struct jit_buf b = {.code = code, .size = sizeof(code), .off = 0};
        size_t n = emit_case(i, &b);
        if (n != enc_cases[i].len || memcmp(code, enc_cases[i].bytes, n) != 0) {
            print_error("encoding of '%s' differs (got %zu bytes:", enc_cases[i].asm_text, n);
            for (size_t k = 0; k < n; k++)
                print_error(" %02x", code[k]);
            print_error(")\n");
            fail();
        }
    }
}

static void test_emitter_sticky_overflow(void **state)
{
    (void)state;
    uint8_t code[8];
    memset(code, 0xAA, sizeof(code));
    struct jit_buf b = {.code = code, .size = 5, .off = 0};
    /* 10 bytes into a 5-byte buffer */
    jit_buf_advance(&b, emit_mov_ri(jit_buf_cursor(&b), X86_R9, 0x123456789ull));
    jit_buf_advance(&b, emit_ret(jit_buf_cursor(&b)));
    assert_true(jit_buf_overflowed(&b));
    assert_int_equal(b.off, 11);
    assert_int_equal(code[5], 0xAA); /* nothing written past the size */
}

/* ---- helpers: assemble, run on both engines ------------------------------ */
struct prog {
    struct pvmasm_output as;
    struct pvm_program *p;
};

static void prog_build(struct prog *pr, const char *src)
{
    char err[256];
    if (pvmasm_assemble(src, strlen(src), &pr->as, err, sizeof(err)) != 0) {
        print_error("pvmasm: %s\n", err);
        fail();
    }
    struct pvm_allocator a = pvm_libc_allocator();
    assert_int_equal(pvm_program_decode(pr->as.blob, pr->as.blob_len, &a, &pr->p), PVM_OK);
}

static void prog_free(struct prog *pr)
{
    pvm_program_destroy(pr->p);
    pvmasm_output_free(&pr->as);
}

struct run {
    struct pvm_exit exit;
    struct pvm_state state;
};

/* Runs src on the interpreter and the JIT (first exit), requires the same
 * exit and state, and returns the JIT's. */
static struct run run_both(const char *src, const struct pvm_segment *segs, size_t nseg,
                           const struct pvm_state *init)
{
    struct prog pr;
    prog_build(&pr, src);
    struct pvm_allocator a = pvm_libc_allocator();
    struct pvm_interp *it;
    struct pvm_hosted *h;
    assert_int_equal(pvm_interp_create(pr.p, segs, nseg, init, &a, &it), PVM_OK);
    assert_int_equal(pvm_hosted_create(pr.p, segs, nseg, init, &a, &h), PVM_OK);
    struct run ri, rh;
    pvm_interp_run(it, &ri.exit);
    pvm_hosted_run(h, &rh.exit);
    pvm_interp_get_state(it, &ri.state);
    pvm_hosted_get_state(h, &rh.state);
    assert_int_equal(ri.exit.reason, rh.exit.reason);
    assert_int_equal(ri.exit.pc, rh.exit.pc);
    assert_int_equal(ri.exit.arg, rh.exit.arg);
    assert_memory_equal(ri.state.regs, rh.state.regs, sizeof(ri.state.regs));
    assert_int_equal(ri.state.gas, rh.state.gas);
    pvm_hosted_destroy(h);
    pvm_interp_destroy(it);
    prog_free(&pr);
    return rh;
}

static const uint8_t zero_data[1] = {0};
static const struct pvm_segment rw_20000 = {0x20000, 0x1000, PVM_ACCESS_WRITE, zero_data, 0};

static struct pvm_state state_with(int64_t gas)
{
    struct pvm_state s;
    memset(&s, 0, sizeof(s));
    s.gas = gas;
    s.regs[0] = PVM_HALT_ADDRESS;
    return s;
}

/* ---- SPEC corner cases -------------------------------------------------- */
static void test_division_corner_cases(void **state)
{
    (void)state;
    struct pvm_state s = state_with(1000);
    s.regs[2] = 0x8000000000000000ull; /* INT64_MIN */
    s.regs[3] = UINT64_MAX;            /* -1 */
    s.regs[4] = 0;
    s.regs[5] = 0xFFFFFFFF80000000ull; /* INT32_MIN sign-extended */
    s.regs[6] = (uint64_t)-7;
    s.regs[7] = 2;
    struct run r = run_both("div_s_64 r8, r2, r3\n"  /* MIN / -1 = MIN */
                            "rem_s_64 r9, r2, r3\n"  /* MIN % -1 = 0 */
                            "div_u_64 r10, r6, r4\n" /* x / 0 = ~0 */
                            "rem_u_64 r11, r6, r4\n" /* x % 0 = x */
                            "div_s_32 r12, r5, r3\n" /* INT32_MIN / -1 */
                            "rem_s_32 r1, r6, r7\n"  /* -7 % 2 = -1 */
                            "jump_ind r0, 0\n",
                            NULL, 0, &s);
    assert_int_equal(r.exit.reason, PVM_EXIT_HALT);
    assert_int_equal(r.state.regs[8], 0x8000000000000000ull);
    assert_int_equal(r.state.regs[9], 0);
    assert_int_equal(r.state.regs[10], UINT64_MAX);
    assert_int_equal(r.state.regs[11], (uint64_t)-7);
    assert_int_equal(r.state.regs[12], 0xFFFFFFFF80000000ull);
    assert_int_equal(r.state.regs[1], UINT64_MAX);
    assert_int_equal(r.state.gas, 1000 - 7);
}

static void test_shifts_use_rcx_safely(void **state)
{
    (void)state;
    /* r11 lives in rcx and r12 in rdx: shifts/divisions involving them must
     * see and keep their values. */
    struct pvm_state s = state_with(100);
    s.regs[11] = 0x8000000000000001ull;
    s.regs[12] = 3;
    s.regs[2] = 0xF0;
    struct run r = run_both("shlo_l_64 r3, r2, r12\n"   /* 0xF0 << 3 */
                            "rot_r_64 r4, r11, r12\n"   /* rotr(r11, 3) */
                            "shar_r_32 r11, r11, r12\n" /* sx32(1) >> 3 = 0, into rcx */
                            "div_u_64 r12, r2, r12\n"   /* 0xF0 / 3 into rdx */
                            "jump_ind r0, 0\n",
                            NULL, 0, &s);
    assert_int_equal(r.exit.reason, PVM_EXIT_HALT);
    assert_int_equal(r.state.regs[3], 0x780);
    assert_int_equal(r.state.regs[4], 0x3000000000000000ull);
    assert_int_equal(r.state.regs[11], 0);
    assert_int_equal(r.state.regs[12], 0x50);
}

/* `shlo_l_imm_64 T, S, k` + `add_64 T, T/O, O/T` (k = 1..3) is compiled as one
 * lea: every operand order and register overlap, the registers with
 * encoding quirks (r1 = rbp, r9 = r13, r8 = r12 as an index, r11 = rcx,
 * r12 = rdx), pairs that must not fuse, and a run entered at the add. */
static void test_fused_shift_add(void **state)
{
    (void)state;
    struct pvm_state s = state_with(100);
    for (unsigned i = 1; i < PVM_NUM_REGS; i++)
        s.regs[i] = 0x0123456789ABCDEFull * i + ((uint64_t)i << 60);
    struct run r =
        run_both("shlo_l_imm_64 r3, r2, 1\n add_64 r3, r3, r4\n"      /* O + S*2 */
                 "shlo_l_imm_64 r5, r6, 3\n add_64 r5, r7, r5\n"      /* O first */
                 "shlo_l_imm_64 r8, r8, 2\n add_64 r8, r8, r1\n"      /* T = S, base rbp */
                 "shlo_l_imm_64 r9, r11, 3\n add_64 r9, r9, r9\n"     /* O = T: no fusion */
                 "shlo_l_imm_64 r10, r12, 2\n add_64 r10, r12, r10\n" /* O = S */
                 "shlo_l_imm_64 r11, r9, 4\n add_64 r11, r11, r2\n"   /* k = 4: no fusion */
                 "shlo_l_imm_64 r12, r8, 1\n add_64 r4, r12, r3\n"    /* into another reg */
                 "shlo_l_imm_64 r7, r1, 2\n add_64 r7, r7, r9\n"      /* base r13 */
                 "jump_ind r0, 0\n",
                 NULL, 0, &s);
    assert_int_equal(r.exit.reason, PVM_EXIT_HALT);
    /* Entered at the add of a fused pair (pc 3): the add alone, then on. */
    s.pc = 3;
    r = run_both("shlo_l_imm_64 r3, r2, 2\n add_64 r3, r3, r4\n"
                 "shlo_l_imm_64 r5, r3, 1\n add_64 r5, r5, r6\n"
                 "jump_ind r0, 0\n",
                 NULL, 0, &s);
    assert_int_equal(r.exit.reason, PVM_EXIT_HALT);
    assert_int_equal(r.state.regs[3], s.regs[3] + s.regs[4]);
    assert_int_equal(r.state.regs[5], (r.state.regs[3] << 1) + s.regs[6]);
}

/* `shlo_l_imm_64 T, S, k; add_64 T, T, O; load_ind_* D, T, X` is compiled
 * as a lea beside one load from gs:[O + S*2^k + X]. Every form (S = T or
 * not, D = T, D = O or another register), loads in bounds, a page fault
 * (T must hold O + S*2^k at the fault, though the fused load never
 * computed it into T), the low-memory panic, a 64-bit sum whose low 32
 * bits wrap into a mapped page, and runs entered at the add and at the
 * load. */
static void test_fused_indexed_load(void **state)
{
    (void)state;
    static uint8_t data[0x1000];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7 + 3);
    const struct pvm_segment seg = {0x20000, 0x1000, PVM_ACCESS_READ, data, sizeof(data)};
    static const char *const progs[] = {
        /* S = T = D, base r12 (rdx); the crc32 form */
        "shlo_l_imm_64 r6, r6, 2\n add_64 r6, r6, r12\n load_ind_i32 r6, r6, 0\n trap\n",
        /* S = T, D another register, O first, index r8 (r12) */
        "shlo_l_imm_64 r8, r8, 3\n add_64 r8, r9, r8\n load_ind_u64 r2, r8, 8\n trap\n",
        /* S = T, D = O */
        "shlo_l_imm_64 r3, r3, 1\n add_64 r3, r3, r1\n load_ind_i16 r1, r3, -2\n trap\n",
        /* S not T, D = T */
        "shlo_l_imm_64 r7, r4, 2\n add_64 r7, r7, r9\n load_ind_u32 r7, r7, 4\n trap\n",
        /* S not T, D = S */
        "shlo_l_imm_64 r10, r11, 1\n add_64 r10, r5, r10\n load_ind_u8 r11, r10, 1\n trap\n",
        /* k = 4 and a load not through T: not fused */
        "shlo_l_imm_64 r6, r6, 4\n add_64 r6, r6, r12\n load_ind_i8 r6, r6, 0\n trap\n",
        "shlo_l_imm_64 r6, r6, 2\n add_64 r6, r6, r12\n load_ind_u8 r6, r12, 0\n trap\n",
    };
    /* (index, base): in bounds; the page above; below 0x10000; a base whose
     * 64-bit sum wraps in its low 32 bits into the page */
    static const uint64_t values[][2] = {
        {0x10, 0x20000},
        {0x3FF, 0x20000},
        {0x1000, 0x20000},
        {0x4, 0x100},
        {0x8, 0xFFFFFFFF00020000ull},
        {0x40000000, 0x20000},
    };
    for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
        for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
            for (uint32_t entry = 0; entry <= 6; entry += 3) {
                struct pvm_state s = state_with(100);
                for (unsigned r = 1; r < PVM_NUM_REGS; r++)
                    s.regs[r] = values[v][1];
                /* the shift's source: the first operand after the shift's destination */
                static const unsigned index_reg[] = {6, 8, 3, 4, 11, 6, 6};
                s.regs[index_reg[i]] = values[v][0];
                s.pc = entry;
                struct run r = run_both(progs[i], &seg, 1, &s);
                assert_true(r.exit.reason == PVM_EXIT_PANIC ||
                            r.exit.reason == PVM_EXIT_PAGE_FAULT);
            }
        }
    }
    /* the crc32 form faulting: T holds the address, the fault is at the load */
    struct pvm_state s = state_with(100);
    s.regs[6] = 0x400;
    s.regs[12] = 0x20000;
    struct run r = run_both(progs[0], &seg, 1, &s);
    assert_int_equal(r.exit.reason, PVM_EXIT_PAGE_FAULT);
    assert_int_equal(r.exit.arg, 0x21000);
    assert_int_equal(r.exit.pc, 6);
    assert_int_equal(r.state.regs[6], 0x21000);
    /* and in bounds: the loaded word, sign-extended */
    s.regs[6] = 0x10;
    r = run_both(progs[0], &seg, 1, &s);
    assert_int_equal(r.exit.reason, PVM_EXIT_PANIC); /* the trap after it */
    uint32_t word = (uint32_t)data[0x40] | (uint32_t)data[0x41] << 8 | (uint32_t)data[0x42] << 16 |
                    (uint32_t)data[0x43] << 24;
    assert_int_equal(r.state.regs[6], (uint64_t)(int64_t)(int32_t)word);
}

/* Register values for the peephole tests: the carry and sign edges. */
static const uint64_t seed_values[] = {0,
                                       1,
                                       0x7FFFFFFFFFFFFFFFull,
                                       0x8000000000000000ull,
                                       0xFFFFFFFFFFFFFFFFull,
                                       0x0123456789ABCDEFull};
#define SEED_COUNT (sizeof(seed_values) / sizeof(seed_values[0]))

/* A state with gas 100 and r1..r12 set from seed value v: every register
 * that value, two of three mixed with another, so that operands differ. */
static struct pvm_state seeded_state(size_t v)
{
    struct pvm_state s = state_with(100);
    for (unsigned r = 1; r < PVM_NUM_REGS; r++)
        s.regs[r] = seed_values[v] ^ (r % 3 == 0 ? 0 : seed_values[(v + r) % SEED_COUNT]);
    return s;
}

/* Runs each program with every register set to each value (halting at its
 * end), entered at pc 0 and at pc 3 (the second instruction of each pair
 * below), on both engines. */
static void run_pairs(const char *const *progs, size_t nprogs)
{
    for (size_t i = 0; i < nprogs; i++) {
        for (size_t v = 0; v < SEED_COUNT; v++) {
            for (uint32_t entry = 0; entry <= 3; entry += 3) {
                struct pvm_state s = seeded_state(v);
                s.pc = entry;
                struct run r = run_both(progs[i], NULL, 0, &s);
                assert_int_equal(r.exit.reason, PVM_EXIT_HALT);
            }
        }
    }
}

/* `add_64 D, A, B; set_lt_u C, D, Y` (Y the operand the add keeps) takes C
 * from the add's carry flag: every operand overlap, the registers with
 * encoding quirks (r1 = rbp, r9 = r13, r11 = rcx, r12 = rdx), pairs that
 * must not fuse, and runs entered at the set_lt_u. */
static void test_fused_add_carry(void **state)
{
    (void)state;
    static const char *const progs[] = {
        "add_64 r3, r3, r4\n set_lt_u r4, r3, r4\n jump_ind r0, 0\n",    /* D = A, C = Y */
        "add_64 r3, r4, r3\n set_lt_u r5, r3, r4\n jump_ind r0, 0\n",    /* D = B */
        "add_64 r12, r9, r1\n set_lt_u r12, r12, r1\n jump_ind r0, 0\n", /* C = D, in rdx */
        "add_64 r11, r9, r1\n set_lt_u r1, r11, r9\n jump_ind r0, 0\n",  /* Y = A, C = Y */
        "add_64 r3, r3, r4\n set_lt_u r5, r3, r3\n jump_ind r0, 0\n",    /* Y = D: no fusion */
        "add_64 r3, r3, r4\n set_lt_u r5, r4, r3\n jump_ind r0, 0\n",    /* D second: no fusion */
        "add_64 r3, r4, r3\n set_lt_u r5, r3, r3\n jump_ind r0, 0\n",
        "add_64 r3, r3, r3\n set_lt_u r5, r3, r3\n jump_ind r0, 0\n",
    };
    run_pairs(progs, sizeof(progs) / sizeof(progs[0]));
}

/* Runs each program (a carry group, then `load_ind_u64 r3, r4, 16`, which
 * reads back what the group stored, and a halt) with every register set to
 * each value, r4 pointing into writable memory or at an unmapped page (the
 * store faults), entered at every pc up to the halt (each instruction of the
 * group, and pcs inside instructions), on both engines. */
static void run_carry_groups(const char *const *progs, size_t nprogs)
{
    static const uint64_t bases[] = {0x20100, 0x30100};
    static const char tail[] = "load_ind_u64 r3, r4, 16\n jump_ind r0, 0\n";
    char src[512];
    for (size_t i = 0; i < nprogs; i++) {
        snprintf(src, sizeof(src), "%s%s", progs[i], tail);
        unsigned halts = 0, faults = 0;
        for (size_t v = 0; v < SEED_COUNT; v++) {
            for (size_t b = 0; b < 2; b++) {
                for (uint32_t entry = 0; entry <= 24; entry++) {
                    struct pvm_state s = seeded_state(v);
                    s.regs[4] = bases[b];
                    s.pc = entry;
                    struct run r = run_both(src, &rw_20000, 1, &s);
                    halts += r.exit.reason == PVM_EXIT_HALT;
                    faults += r.exit.reason == PVM_EXIT_PAGE_FAULT;
                }
            }
        }
        assert_true(halts > 0);
        assert_true(faults > 0);
    }
}

/* Carry groups (jit_lower.h, add_and_carry): a carry taken from the flag
 * by the add that consumes it (adc), after at most one store; two pairs
 * with the add of the first carry moved before the second pair (bignum's
 * limb step); every overlap that must keep the group shorter (the moved add
 * reading or writing what the second pair reads or writes, the second pair
 * writing the first carry), the registers with encoding quirks (r1 = rbp,
 * r9 = r13, r11 = rcx, r12 = rdx), and runs entered at every instruction of
 * the group and at its store after a fault. */
static void test_fused_carry_chain(void **state)
{
    (void)state;
#define PAIRS "add_64 r10, r10, r7\n set_lt_u r7, r10, r7\n add_64 r9, r9, r10\n"
#define STORE " store_ind_u64 r9, r4, 16\n"
    static const char *const progs[] = {
        /* bignum's: the add moves, the second carry into adc after the store */
        PAIRS " set_lt_u r10, r9, r10\n add_64 r7, r7, r5\n" STORE " add_64 r7, r7, r10\n",
        PAIRS " set_lt_u r10, r9, r10\n add_64 r7, r5, r7\n add_64 r7, r10, r7\n", /* no store */
        PAIRS " set_lt_u r10, r9, r10\n add_64 r6, r7, r5\n" STORE " add_64 r8, r6, r10\n",
        PAIRS " set_lt_u r10, r9, r10\n add_64 r5, r5, r7\n" STORE " add_64 r10, r10, r5\n",
        /* the first carry is the first sum (C = D) */
        "add_64 r10, r10, r7\n set_lt_u r10, r10, r7\n add_64 r9, r9, r8\n set_lt_u r8, r9, r8\n"
        " add_64 r10, r10, r5\n" STORE " add_64 r6, r8, r5\n",
        /* quirk registers: v0..v3 = r12 (rdx), r11 (rcx), r1 (rbp), r9 (r13) */
        "add_64 r12, r12, r11\n set_lt_u r11, r12, r11\n add_64 r1, r1, r12\n"
        " set_lt_u r12, r1, r12\n add_64 r11, r11, r9\n store_ind_u64 r1, r4, 16\n"
        " add_64 r11, r11, r12\n",
        "add_64 r9, r11, r12\n set_lt_u r1, r9, r11\n add_64 r11, r1, r12\n", /* r1 = rbp */
        /* must not move: the second pair reads the moved add's result (A2) */
        "add_64 r10, r10, r7\n set_lt_u r7, r10, r7\n add_64 r9, r7, r10\n"
        " set_lt_u r10, r9, r10\n add_64 r7, r7, r5\n" STORE " add_64 r7, r7, r10\n",
        /* ... writes the first carry (D2 = C1, C2 = C1) */
        "add_64 r10, r10, r7\n set_lt_u r7, r10, r7\n add_64 r7, r9, r10\n"
        " set_lt_u r10, r7, r10\n add_64 r7, r7, r5\n" STORE " add_64 r7, r7, r10\n",
        "add_64 r10, r10, r7\n set_lt_u r7, r10, r7\n add_64 r7, r9, r10\n"
        " set_lt_u r10, r7, r10\n add_64 r6, r7, r5\n" STORE " add_64 r7, r7, r10\n",
        PAIRS " set_lt_u r7, r9, r10\n add_64 r7, r7, r5\n" STORE " add_64 r7, r7, r10\n",
        PAIRS " set_lt_u r7, r9, r10\n add_64 r6, r7, r5\n" STORE " add_64 r7, r7, r10\n",
        /* ... the moved add reads D2 or C2 (then C2 goes into adc at once) */
        PAIRS " set_lt_u r10, r9, r10\n add_64 r7, r7, r9\n" STORE " add_64 r7, r7, r10\n",
        PAIRS " set_lt_u r10, r9, r10\n add_64 r7, r7, r10\n" STORE " add_64 r7, r7, r5\n",
        /* ... the moved add writes D2 or C2 */
        PAIRS " set_lt_u r10, r9, r10\n add_64 r9, r7, r5\n" STORE " add_64 r7, r7, r10\n",
        PAIRS " set_lt_u r6, r9, r10\n add_64 r6, r7, r5\n" STORE " add_64 r7, r7, r6\n",
        "add_64 r10, r10, r7\n set_lt_u r7, r10, r7\n add_64 r8, r9, r10\n"
        " set_lt_u r10, r8, r10\n add_64 r8, r7, r5\n" STORE " add_64 r7, r7, r10\n",
        /* the add after the pairs adds neither carry, or a carry to itself */
        PAIRS " set_lt_u r10, r9, r10\n add_64 r7, r5, r6\n" STORE " add_64 r7, r7, r10\n",
        PAIRS " set_lt_u r10, r9, r10\n add_64 r7, r7, r7\n" STORE " add_64 r7, r7, r10\n",
        /* one pair: a store, then an add of its carry: C kept (E = O), C
         * overwritten (E = C), a third register (E new) */
        "add_64 r5, r5, r6\n set_lt_u r6, r5, r6\n store_ind_u8 r6, r4, 16\n add_64 r8, r8, r6\n",
        "add_64 r5, r5, r6\n set_lt_u r6, r5, r6\n store_ind_u32 r5, r4, 16\n add_64 r6, r8, r6\n",
        "add_64 r5, r6, r8\n set_lt_u r2, r5, r8\n store_ind_u16 r2, r4, 16\n add_64 r7, r2, r5\n",
        /* ... no store between, or two (the second ends the group), or the
         * add not of the carry */
        "add_64 r5, r5, r6\n set_lt_u r6, r5, r6\n add_64 r6, r6, r8\n" STORE,
        "add_64 r5, r5, r6\n set_lt_u r6, r5, r6\n" STORE STORE " add_64 r8, r8, r6\n",
        "add_64 r5, r5, r6\n set_lt_u r6, r5, r6\n" STORE " add_64 r8, r8, r5\n",
    };
#undef PAIRS
#undef STORE
    run_carry_groups(progs, sizeof(progs) / sizeof(progs[0]));
}

/* `mul_upper_u_u H, A, B` (or s_s) then `mul_64 L, A, B` (or B, A) takes L
 * from the low half of the mul_upper's multiply: rdx (r12) as H, A, B and
 * L (rdx parked in H or in the context block), H = L, pairs that must not
 * fuse (H an operand, s_u, other operands), and runs entered at the
 * mul_64. */
static void test_fused_mul_pair(void **state)
{
    (void)state;
    static const char *const progs[] = {
        "mul_upper_u_u r5, r10, r9\n mul_64 r9, r10, r9\n jump_ind r0, 0\n", /* bignum's */
        "mul_upper_s_s r5, r10, r9\n mul_64 r6, r9, r10\n jump_ind r0, 0\n",
        "mul_upper_u_u r12, r1, r2\n mul_64 r3, r1, r2\n jump_ind r0, 0\n",
        "mul_upper_u_u r5, r12, r2\n mul_64 r12, r2, r12\n jump_ind r0, 0\n",
        "mul_upper_u_u r5, r1, r2\n mul_64 r5, r1, r2\n jump_ind r0, 0\n",
        "mul_upper_u_u r5, r12, r2\n mul_64 r6, r2, r12\n jump_ind r0, 0\n",  /* A in rdx */
        "mul_upper_s_s r11, r3, r12\n mul_64 r3, r3, r12\n jump_ind r0, 0\n", /* B in rdx */
        "mul_upper_s_s r11, r11, r2\n mul_64 r6, r11, r2\n jump_ind r0, 0\n", /* H = A */
        "mul_upper_s_u r5, r1, r2\n mul_64 r6, r1, r2\n jump_ind r0, 0\n",
        "mul_upper_u_u r5, r1, r2\n mul_64 r6, r1, r3\n jump_ind r0, 0\n",
    };
    run_pairs(progs, sizeof(progs) / sizeof(progs[0]));
}

static void test_page_fault_straddle_lowest_page(void **state)
{
    (void)state;
    /* 2-byte store at 0x20FFF: page 0x20000 writable, 0x21000 not: fault at
     * 0x21000, nothing written, the whole block (store + trap) charged. */
    struct pvm_state s = state_with(50);
    s.regs[7] = 0x20FFF;
    struct run r = run_both("store_ind_u16 r8, r7, 0\ntrap\n", &rw_20000, 1, &s);
    assert_int_equal(r.exit.reason, PVM_EXIT_PAGE_FAULT);
    assert_int_equal(r.exit.arg, 0x21000);
    assert_int_equal(r.exit.pc, 0);
    assert_int_equal(r.state.gas, 48);
    /* unmapped below, mapped above: the fault is the LOWER page */
    s.regs[7] = 0x1FFFE;
    r = run_both("load_ind_u32 r8, r7, 0\ntrap\n", &rw_20000, 1, &s);
    assert_int_equal(r.exit.reason, PVM_EXIT_PAGE_FAULT);
    assert_int_equal(r.exit.arg, 0x1F000);
}

static void test_wrap_and_low_memory_panic(void **state)
{
    (void)state;
    struct pvm_state s = state_with(50);
    s.regs[7] = 0xFFFFFFFF; /* bytes 0xFFFFFFFF and 0x0: lowest offending byte 0 */
    struct run r = run_both("load_ind_u16 r8, r7, 0\ntrap\n", &rw_20000, 1, &s);
    assert_int_equal(r.exit.reason, PVM_EXIT_PANIC);
    assert_int_equal(r.exit.pc, 0);
    s.regs[7] = 0xFFF0;
    r = run_both("store_ind_u8 r8, r7, 0\ntrap\n", &rw_20000, 1, &s);
    assert_int_equal(r.exit.reason, PVM_EXIT_PANIC);
}

static void test_read_only_write_faults(void **state)
{
    (void)state;
    static const uint8_t data[4] = {1, 2, 3, 4};
    struct pvm_segment ro = {0x30000, 0x1000, PVM_ACCESS_READ, data, 4};
    struct pvm_state s = state_with(50);
    struct run r = run_both("load_u32 r9, 0x30000\nstore_u8 r9, 0x30001\ntrap\n", &ro, 1, &s);
    assert_int_equal(r.exit.reason, PVM_EXIT_PAGE_FAULT);
    assert_int_equal(r.exit.arg, 0x30000);
    assert_int_equal(r.exit.pc, 5); /* load_u32 with a 3-byte address is 5 bytes */
    assert_int_equal(r.state.regs[9], 0x04030201);
}

static void test_out_of_gas_leaves_state(void **state)
{
    (void)state;
    struct pvm_state s = state_with(2); /* the block costs 4 */
    s.regs[7] = 5;
    struct run r = run_both("add_imm_64 r7, r7, 1\nadd_imm_64 r7, r7, 1\nadd_imm_64 r7, r7, 1\n"
                            "jump_ind r0, 0\n",
                            NULL, 0, &s);
    assert_int_equal(r.exit.reason, PVM_EXIT_OUT_OF_GAS);
    assert_int_equal(r.exit.pc, 0);
    assert_int_equal(r.state.gas, 2);
    assert_int_equal(r.state.regs[7], 5);
}

static void test_dynamic_jumps(void **state)
{
    (void)state;
    struct pvm_state s = state_with(100);
    /* &target = 2: entry 0 of the jump table */
    struct run r = run_both("load_imm r7, &target\n"
                            "jump_ind r7, 0\n"
                            "target:\n"
                            "load_imm r8, 42\n"
                            "jump_ind r0, 0\n"
                            ".jumptable target\n",
                            NULL, 0, &s);
    assert_int_equal(r.exit.reason, PVM_EXIT_HALT);
    assert_int_equal(r.state.regs[8], 42);
    /* misaligned: panic at the jump */
    r = run_both("load_imm r7, 3\njump_ind r7, 0\ntarget:\ntrap\n.jumptable target\n", NULL, 0, &s);
    assert_int_equal(r.exit.reason, PVM_EXIT_PANIC);
    assert_int_equal(r.exit.pc, 3);
    /* 0 and 2J + 2: panic at the jump (the inlined check folds them with
     * the odd addresses) */
    r = run_both("load_imm r7, 0\njump_ind r7, 0\ntarget:\ntrap\n.jumptable target\n", NULL, 0, &s);
    assert_int_equal(r.exit.reason, PVM_EXIT_PANIC);
    assert_int_equal(r.exit.pc, 2); /* load_imm of 0 has no immediate byte */
    r = run_both("load_imm r7, 4\njump_ind r7, 0\ntarget:\ntrap\n.jumptable target\n", NULL, 0, &s);
    assert_int_equal(r.exit.reason, PVM_EXIT_PANIC);
    assert_int_equal(r.exit.pc, 3);
}

/* f(n) recurses n = DEEP_RECURSION_DEPTH deep (more call frames than the
 * return stack holds), counting the returns in a1; the stack below 0x21000
 * holds its saved ra values, and it halts with a1 = the depth. */
#define DEEP_RECURSION_DEPTH 400
#define DEPTH_TEXT(n)        #n
#define DEPTH_ASM(n)         DEPTH_TEXT(n)
_Static_assert(DEEP_RECURSION_DEPTH > JIT_RETURN_FRAMES, "deeper than the return stack");
// clang-format off
static const char deep_recursion_src[] =
    "load_imm sp, 0x21000\n"
    "load_imm a0, " DEPTH_ASM(DEEP_RECURSION_DEPTH) "\n"
    "load_imm a1, 0\n"
    "load_imm_jump ra, &done, f\n"
    "done:\n"
    "load_imm t0, -65536\n"
    "jump_ind t0, 0\n"
    "f:\n"
    "branch_eq_imm a0, 0, out\n"
    "add_imm_64 sp, sp, -8\n"
    "store_ind_u64 ra, sp, 0\n"
    "add_imm_64 a0, a0, -1\n"
    "load_imm_jump ra, &back, f\n"
    "back:\n"
    "load_ind_u64 ra, sp, 0\n"
    "add_imm_64 sp, sp, 8\n"
    "add_imm_64 a1, a1, 1\n"
    "fallthrough\n"
    "out:\n"
    "jump_ind ra, 0\n"
    ".jumptable done, back\n";
// clang-format on

/* Calls and returns through ra are x86 call/ret pairs (jit.h, "Returns"):
 * recursion deeper than JIT_RETURN_FRAMES, and a return to an address
 * other than the one its call wrote, behave as on the interpreter. */
static void test_call_return_pairs(void **state)
{
    (void)state;
    struct pvm_state s = state_with(100000);
    struct run r = run_both(deep_recursion_src, &rw_20000, 1, &s);
    assert_int_equal(r.exit.reason, PVM_EXIT_HALT);
    assert_int_equal(r.state.regs[8], DEEP_RECURSION_DEPTH);
    /* f returns to &other, not to the &back its call wrote */
    r = run_both("load_imm a1, 0\n"
                 "load_imm_jump ra, &back, f\n"
                 "back:\n"
                 "load_imm a1, 1\n"
                 "trap\n"
                 "other:\n"
                 "load_imm a1, 2\n"
                 "load_imm t0, -65536\n"
                 "jump_ind t0, 0\n"
                 "f:\n"
                 "load_imm ra, &other\n"
                 "jump_ind ra, 0\n"
                 ".jumptable back, other\n",
                 NULL, 0, &s);
    assert_int_equal(r.exit.reason, PVM_EXIT_HALT);
    assert_int_equal(r.state.regs[8], 2);
    /* an indirect call (load_imm_jump_ind through ra), then a return to an
     * address that is not in the table: panic at the return */
    r = run_both("load_imm t0, &f\n"
                 "load_imm_jump_ind ra, t0, &back, 0\n"
                 "back:\n"
                 "trap\n"
                 "f:\n"
                 "load_imm ra, 7\n"
                 "jump_ind ra, 0\n"
                 ".jumptable back, f\n",
                 NULL, 0, &s);
    assert_int_equal(r.exit.reason, PVM_EXIT_PANIC);
    /* Returns through ra with an offset (run_both compares the exit pc
     * with the interpreter's): a negative offset back to the pad, a
     * negative offset to the halt address from a frame that expects
     * another address, and an offset that makes the address misaligned
     * (panic at the return). */
    r = run_both("load_imm a1, 0\n"
                 "load_imm_jump ra, &back, f\n"
                 "back:\n"
                 "load_imm a1, 1\n"
                 "load_imm t0, -65536\n"
                 "jump_ind t0, 0\n"
                 "f:\n"
                 "add_imm_64 ra, ra, 6\n"
                 "jump_ind ra, -6\n"
                 ".jumptable back\n",
                 NULL, 0, &s);
    assert_int_equal(r.exit.reason, PVM_EXIT_HALT);
    assert_int_equal(r.state.regs[8], 1);
    r = run_both("load_imm_jump ra, &back, f\n"
                 "back:\n"
                 "trap\n"
                 "f:\n"
                 "load_imm ra, -65520\n"
                 "jump_ind ra, -16\n"
                 ".jumptable back\n",
                 NULL, 0, &s);
    assert_int_equal(r.exit.reason, PVM_EXIT_HALT);
    r = run_both("load_imm_jump ra, &back, f\n"
                 "back:\n"
                 "trap\n"
                 "f:\n"
                 "jump_ind ra, 1\n"
                 ".jumptable back\n",
                 NULL, 0, &s);
    assert_int_equal(r.exit.reason, PVM_EXIT_PANIC);
}

/* The hosted backend without rd/wrgsbase (arch_prctl), whichever this CPU
 * has: same results, the fault address found from the base register, and
 * the thread's gs base given back after the run. */
static void test_gs_base_without_fsgsbase(void **state)
{
    (void)state;
    struct prog pr;
    prog_build(&pr, "load_imm r7, 0x20FFE\n"
                    "store_imm_ind_u16 r7, 0, 0x1234\n"
                    "load_ind_u16 r8, r7, 0\n"
                    "load_ind_u32 r9, r7, 0\n"); /* straddles into 0x21000 */
    struct pvm_allocator a = pvm_libc_allocator();
    struct pvm_state s = state_with(100);
    struct pvm_hosted *h;
    assert_int_equal(pvm_hosted_create(pr.p, &rw_20000, 1, &s, &a, &h), PVM_OK);
    h->gs_fast = false;
    uint64_t gs_before = hosted_gs_base_get(false);
    struct pvm_exit e;
    pvm_hosted_run(h, &e);
    assert_int_equal(hosted_gs_base_get(false), gs_before);
    assert_int_equal(e.reason, PVM_EXIT_PAGE_FAULT);
    assert_int_equal(e.arg, 0x21000);
    pvm_hosted_get_state(h, &s);
    assert_int_equal(s.regs[8], 0x1234);
    assert_int_equal(s.pc, e.pc);
    pvm_hosted_destroy(h);
    prog_free(&pr);
}

static void test_host_call_resume(void **state)
{
    (void)state;
    struct prog pr;
    prog_build(&pr, "load_imm r7, 1\necalli 77\nadd_imm_64 r7, r7, 5\njump_ind r0, 0\n");
    struct pvm_allocator a = pvm_libc_allocator();
    struct pvm_state s = state_with(100);
    struct pvm_hosted *h;
    assert_int_equal(pvm_hosted_create(pr.p, NULL, 0, &s, &a, &h), PVM_OK);
    struct pvm_exit e;
    pvm_hosted_run(h, &e);
    assert_int_equal(e.reason, PVM_EXIT_HOST_CALL);
    assert_int_equal(e.arg, 77);
    pvm_hosted_get_state(h, &s);
    assert_int_equal(s.pc, 3);
    assert_int_equal(s.gas, 96); /* one block of 4 */
    s.regs[7] = 100;             /* the host's answer */
    s.gas -= 10;
    pvm_hosted_set_state(h, &s);
    pvm_hosted_run(h, &e);
    assert_int_equal(e.reason, PVM_EXIT_HALT);
    pvm_hosted_get_state(h, &s);
    assert_int_equal(s.regs[7], 105);
    assert_int_equal(s.gas, 86); /* the block is not charged again */
    pvm_hosted_run(h, &e);       /* halt is final */
    assert_int_equal(e.reason, PVM_EXIT_HALT);
    pvm_hosted_destroy(h);
    prog_free(&pr);
}

static void test_sbrk(void **state)
{
    (void)state;
    struct pvm_state s = state_with(100);
    s.heap_top = 0x40000;
    s.regs[2] = 0x1800;
    struct run r = run_both("sbrk r3, r2\nstore_ind_u32 r2, r3, 0x17fc\nsbrk r4, r2\n"
                            "jump_ind r0, 0\n",
                            NULL, 0, &s);
    assert_int_equal(r.exit.reason, PVM_EXIT_HALT);
    assert_int_equal(r.state.regs[3], 0x40000);
    assert_int_equal(r.state.regs[4], 0x41800);
    assert_int_equal(r.state.heap_top, 0x43000);
}

static void test_buffer_too_small_reports_size(void **state)
{
    (void)state;
    struct prog pr;
    prog_build(&pr, "add_64 r1, r2, r3\nbranch_eq r1, r2, end\ndiv_s_64 r4, r5, r6\nend:\ntrap\n");
    struct pvm_allocator a = pvm_libc_allocator();
    struct jit_options opt = {.platform = JIT_PLATFORM_HOSTED};
    struct jit_code code;
    size_t needed = 0;
    assert_int_equal(jit_compile(pr.p, &opt, &a, NULL, 0, &code, &needed),
                     JIT_ERR_BUFFER_TOO_SMALL);
    assert_true(needed > 0 && needed <= jit_code_size_bound(pr.p));
    uint8_t *buf = malloc(needed);
    size_t again = 0;
    assert_int_equal(jit_compile(pr.p, &opt, &a, buf, needed - 1, &code, &again),
                     JIT_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(again, needed);
    assert_int_equal(jit_compile(pr.p, &opt, &a, buf, needed, &code, &again), PVM_OK);
    assert_int_equal(code.code_size, needed);
    jit_code_release(&code);
    free(buf);
    prog_free(&pr);
}

/* ---- signals: faults outside JIT code reach the previous handler -------- */
static void earlier_handler(int sig)
{
    (void)sig;
    _exit(42);
}

static void test_foreign_segv_is_chained(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGSEGV, earlier_handler);
        struct prog pr;
        prog_build(&pr, "trap\n");
        struct pvm_allocator a = pvm_libc_allocator();
        struct pvm_state s = state_with(10);
        struct pvm_hosted *h;
        if (pvm_hosted_create(pr.p, NULL, 0, &s, &a, &h) != PVM_OK) /* installs our handler */
            _exit(1);
        volatile uint8_t *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        p[0] = 1; /* a fault outside JIT code: must reach earlier_handler */
        _exit(2);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 42);
}

/* ---- guest flavour: entry stub + `int N` exit, exercised in user space --- */
static sigjmp_buf guest_exit_jmp;

static void on_sigtrap(int sig)
{
    (void)sig;
    siglongjmp(guest_exit_jmp, 1);
}

/*
 * Runs src with the guest flavour's entry stub and `int 3` exit in this
 * process, laid out as the guest kernel lays out a run: a context page
 * (the block at its top, the return stack below) right under the window of
 * PVM pages 0..0x20FFF, here all plain RW memory, with an inaccessible page
 * under the context page. The context page's bytes start as 0xA5. Returns
 * the mapping (guard page first); the run's context block is at window -
 * JIT_CTX_SIZE.
 */
#define GUEST_RUN_BYTES (2 * 4096 + 0x21000)
static uint8_t *run_guest_flavour(const char *src, int64_t gas)
{
    struct prog pr;
    prog_build(&pr, src);
    uint8_t *mem =
        mmap(NULL, GUEST_RUN_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(mem != MAP_FAILED);
    assert_int_equal(mprotect(mem, 4096, PROT_NONE), 0);
    uint8_t *window = mem + 2 * 4096;
    memset(window - 4096, 0xA5, 4096);
    struct jit_ctx *ctx = (struct jit_ctx *)(window - JIT_CTX_SIZE);
    struct jit_options opt = {.platform = JIT_PLATFORM_GUEST,
                              .guest_exit_vector = 3}; /* int 3 -> SIGTRAP here */
    struct pvm_allocator a = pvm_libc_allocator();
    size_t size = jit_code_size_bound(pr.p);
    uint8_t *code = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct jit_code jc;
    assert_int_equal(jit_compile(pr.p, &opt, &a, code, size, &jc, NULL), PVM_OK);
    assert_int_equal(mprotect(code, size, PROT_READ | PROT_EXEC), 0);
    memset(ctx, 0, sizeof(*ctx));
    ctx->gas = gas;
    ctx->pc = 0;
    /* the return stack, as the guest kernel places it: below the block */
    ctx->host_rsp = (uint64_t)(uintptr_t)(window - JIT_CTX_SIZE) & ~(uint64_t)15;
    struct pvm_exit e;
    assert_true(jit_prepare_entry(&jc, ctx, (uint64_t)(uintptr_t)code, false, false, &e));
    /* The entry stub moves rsp into the context page: SIGTRAP must not be
     * delivered on that stack. */
    static uint8_t alt_stack[1 << 16];
    stack_t ss = {.ss_sp = alt_stack, .ss_size = sizeof(alt_stack), .ss_flags = 0}, old_ss;
    assert_int_equal(sigaltstack(&ss, &old_ss), 0);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigtrap;
    sa.sa_flags = SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTRAP, &sa, &old);
    /* the guest kernel's gs base is the window (jit.h); here, this thread's */
    uint64_t old_gs = 0;
    assert_int_equal(syscall(SYS_arch_prctl, ARCH_GET_GS, &old_gs), 0);
    assert_int_equal(syscall(SYS_arch_prctl, ARCH_SET_GS, (uint64_t)(uintptr_t)window), 0);
    if (sigsetjmp(guest_exit_jmp, 1) == 0) {
        /* the entry stub ignores its caller's registers and never returns */
        void (*entry)(void);
        void *at = code + jc.entry_offset;
        memcpy(&entry, &at, sizeof(entry));
        entry();
        fail_msg("the guest entry returned");
    }
    syscall(SYS_arch_prctl, ARCH_SET_GS, old_gs);
    sigaction(SIGTRAP, &old, NULL);
    sigaltstack(&old_ss, NULL);
    jit_code_release(&jc);
    munmap(code, size);
    prog_free(&pr);
    return mem;
}

static void test_guest_entry_exit(void **state)
{
    (void)state;
    uint8_t *mem = run_guest_flavour(
        "load_imm r7, 40\nadd_imm_64 r7, r7, 2\nstore_u32 r7, 0x20010\necalli 9\n", 100);
    uint8_t *window = mem + 2 * 4096;
    const struct jit_ctx *ctx = (const struct jit_ctx *)(window - JIT_CTX_SIZE);
    assert_int_equal(ctx->reason, PVM_EXIT_HOST_CALL);
    assert_int_equal(ctx->arg, 9);
    assert_int_equal(ctx->regs[7], 42);
    assert_int_equal(ctx->gas, 100 - 5); /* ecalli does not end the block: + implicit trap */
    assert_int_equal(*(uint32_t *)(window + 0x20010), 42);
    munmap(mem, GUEST_RUN_BYTES);
}

/* Recursion deeper than the return stack holds: the calls' frames fill the
 * lower half of the context page down to its first byte and go no further
 * (the page under it is inaccessible), the upper half below the block is
 * left alone, and the run halts with the result test_call_return_pairs
 * checks against the interpreter. */
static void test_guest_return_stack_bounds(void **state)
{
    (void)state;
    uint8_t *mem = run_guest_flavour(deep_recursion_src, 100000);
    uint8_t *page = mem + 4096, *window = mem + 2 * 4096;
    const struct jit_ctx *ctx = (const struct jit_ctx *)(window - JIT_CTX_SIZE);
    assert_int_equal(ctx->reason, PVM_EXIT_HALT);
    assert_int_equal(ctx->regs[8], DEEP_RECURSION_DEPTH);
    static const uint8_t untouched[8] = {0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5};
    /* the deepest frame is the page's first slot */
    assert_memory_not_equal(page, untouched, 8);
    /* above the region: nothing between it and the block */
    for (size_t i = 4096 - JIT_RETURN_STACK_BYTES; i < 4096 - JIT_CTX_SIZE; i++)
        assert_int_equal(page[i], 0xA5);
    munmap(mem, GUEST_RUN_BYTES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gas_words_from_heads_match_decoded_items),
        cmocka_unit_test(test_emitter_encodings),
        cmocka_unit_test(test_emitter_sticky_overflow),
        cmocka_unit_test(test_division_corner_cases),
        cmocka_unit_test(test_shifts_use_rcx_safely),
        cmocka_unit_test(test_fused_shift_add),
        cmocka_unit_test(test_fused_indexed_load),
        cmocka_unit_test(test_fused_add_carry),
        cmocka_unit_test(test_fused_carry_chain),
        cmocka_unit_test(test_fused_mul_pair),
        cmocka_unit_test(test_page_fault_straddle_lowest_page),
        cmocka_unit_test(test_wrap_and_low_memory_panic),
        cmocka_unit_test(test_read_only_write_faults),
        cmocka_unit_test(test_out_of_gas_leaves_state),
        cmocka_unit_test(test_dynamic_jumps),
        cmocka_unit_test(test_gs_base_without_fsgsbase),
        cmocka_unit_test(test_call_return_pairs),
        cmocka_unit_test(test_host_call_resume),
        cmocka_unit_test(test_sbrk),
        cmocka_unit_test(test_buffer_too_small_reports_size),
        cmocka_unit_test(test_foreign_segv_is_chained),
        cmocka_unit_test(test_guest_entry_exit),
        cmocka_unit_test(test_guest_return_stack_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
