/*
 * test_pvm_program.c — blob decoding (SPEC §4-6, §8): varints, every
 * distinct rejection, skip, block starts, operand decoding, dynamic-jump
 * resolution, the opcode table, and no crash on arbitrary bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pvm_alloc_libc.h"
#include "pvm_interp.h"
#include "pvm_program.h"

static struct pvm_allocator alloc;

static int decode(const uint8_t *blob, size_t len, struct pvm_program **out)
{
    return pvm_program_decode(blob, len, &alloc, out);
}

static void test_varint(void **unused)
{
    (void)unused;
    uint64_t v;
    static const uint8_t b136[] = {0x80, 0x88};
    assert_int_equal(pvm_varint_decode(b136, 2, &v), 2);
    assert_int_equal(v, 136);
    static const uint8_t noncanonical5[] = {0x80, 0x05}; /* 5 fits in one byte */
    assert_int_equal(pvm_varint_decode(noncanonical5, 2, &v), -1);
    static const uint8_t truncated[] = {0xC0, 0x01};
    assert_int_equal(pvm_varint_decode(truncated, 2, &v), 0);
    assert_int_equal(pvm_varint_decode(truncated, 0, &v), 0);
    static const uint64_t values[] = {0,          1,          127,        128,
                                      16383,      16384,      1u << 21,   (1ull << 28) - 1,
                                      1ull << 35, 1ull << 49, 1ull << 56, UINT64_MAX};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        uint8_t buf[9];
        int n = pvm_varint_encode(values[i], buf);
        assert_in_range(n, 1, 9);
        assert_int_equal(pvm_varint_decode(buf, (size_t)n, &v), n);
        assert_true(v == values[i]);
        assert_int_equal(pvm_varint_decode(buf, (size_t)n - 1, &v), 0);
    }
}

static void test_each_malformed_blob_gets_its_own_error(void **unused)
{
    (void)unused;
    struct pvm_program *p = (struct pvm_program *)&alloc;
    static const uint8_t ok[] = {0x00, 0x00, 0x03, 0xbe, 0x87, 0x09, 0x01};
    assert_int_equal(decode(ok, sizeof(ok), &p), PVM_OK);
    pvm_program_destroy(p);

    struct {
        const char *what;
        uint8_t bytes[16];
        size_t len;
        int error;
    } cases[] = {
        {"empty", {0}, 0, PVM_ERR_BLOB_TRUNCATED},
        {"no entry size", {0x00}, 1, PVM_ERR_BLOB_TRUNCATED},
        {"non-canonical J", {0x80, 0x00, 0x00, 0x00}, 4, PVM_ERR_BLOB_VARINT},
        {"non-canonical C", {0x00, 0x00, 0x80, 0x01, 0x00, 0x01}, 6, PVM_ERR_BLOB_VARINT},
        {"code length >= 2^32",
         {0x00, 0x00, 0xF1, 0x00, 0x00, 0x00, 0x00}, /* C = 2^32 */
         7,
         PVM_ERR_BLOB_CODE_TOO_LARGE},
        {"jump table past the end", {0x05, 0x04, 0x00, 1, 2, 3}, 6, PVM_ERR_BLOB_JUMP_TABLE_SIZE},
        {"code past the end", {0x00, 0x00, 0x05, 0x00, 0x01}, 5, PVM_ERR_BLOB_TRUNCATED},
        {"bitmask missing", {0x00, 0x00, 0x01, 0x00}, 4, PVM_ERR_BLOB_TRUNCATED},
        {"trailing byte", {0x00, 0x00, 0x01, 0x00, 0x01, 0x00}, 6, PVM_ERR_BLOB_TRAILING},
        {"bitmask padding", {0x00, 0x00, 0x01, 0x00, 0x03}, 5, PVM_ERR_BLOB_BITMASK_PADDING},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        p = (struct pvm_program *)&alloc;
        int rc = decode(cases[i].bytes, cases[i].len, &p);
        if (rc != cases[i].error)
            fail_msg("%s: got %d (%s) want %d", cases[i].what, rc, pvm_error_name(rc),
                     cases[i].error);
        assert_null(p);
        assert_string_not_equal(pvm_error_name(rc), "unknown error");
    }
    assert_int_equal(pvm_program_decode(NULL, 3, &alloc, &p), PVM_ERR_INVALID_ARGUMENT);
}

static void test_every_prefix_of_a_valid_blob_is_rejected(void **unused)
{
    (void)unused;
    /* J = 2, z = 1, entries [0, 3], C = 5, bitmask 0b01001. */
    static const uint8_t blob[] = {0x02, 0x01, 0x05, 0x00, 0x03, 0x01,
                                   0x33, 0x00, 0x00, 0x00, 0x09};
    struct pvm_program *p;
    assert_int_equal(decode(blob, sizeof(blob), &p), PVM_OK);
    assert_int_equal(p->jump_table_len, 2);
    assert_int_equal(p->code_len, 5);
    pvm_program_destroy(p);
    for (size_t n = 0; n < sizeof(blob); n++) {
        uint8_t *copy = malloc(n + 1); /* exact-size copy: ASan catches overreads */
        memcpy(copy, blob, n);
        assert_int_not_equal(decode(copy, n, &p), PVM_OK);
        free(copy);
    }
}

static void test_skip_and_block_starts(void **unused)
{
    (void)unused;
    /* code: [0] fallthrough, [1] add_imm_64 (3 bytes), [4] undefined 2,
     * [5] jump followed by 30 bytes that start no instruction, [36] trap */
    uint8_t code[37] = {0};
    code[0] = PVM_OP_fallthrough;
    code[1] = PVM_OP_add_imm_64;
    code[4] = 2;
    code[5] = PVM_OP_jump;
    code[36] = PVM_OP_trap;
    uint8_t blob[3 + 37 + 5] = {0x00, 0x00, 37};
    memcpy(blob + 3, code, 37);
    uint8_t *mask = blob + 3 + 37;
    uint32_t starts[] = {0, 1, 4, 5, 36};
    for (size_t i = 0; i < 5; i++)
        mask[starts[i] / 8] |= (uint8_t)(1u << (starts[i] % 8));
    struct pvm_program *p;
    assert_int_equal(decode(blob, sizeof(blob), &p), PVM_OK);
    assert_int_equal(pvm_program_skip(p, 0), 0);
    assert_int_equal(pvm_program_skip(p, 1), 2);
    assert_int_equal(pvm_program_skip(p, 5), 24); /* 30 non-start bytes: capped */
    assert_int_equal(pvm_program_skip(p, 36), 0); /* bits past the end read as 1 */
    assert_true(pvm_program_is_block_start(p, 0));
    assert_true(pvm_program_is_block_start(p, 1));   /* after fallthrough */
    assert_false(pvm_program_is_block_start(p, 4));  /* after add: no */
    assert_false(pvm_program_is_block_start(p, 5));  /* after an undefined opcode: no (D6) */
    assert_false(pvm_program_is_block_start(p, 30)); /* 5 + 1 + 24: not an instruction */
    assert_false(pvm_program_is_block_start(p, 36));
    assert_false(pvm_program_is_block_start(p, 37)); /* the end is never a target */
    assert_int_equal(pvm_program_opcode(p, 4), PVM_OP_trap);
    assert_int_equal(pvm_program_opcode(p, 2), PVM_OP_trap); /* not a start */
    assert_int_equal(pvm_program_opcode(p, 1000), PVM_OP_trap);
    pvm_program_destroy(p);
}

static struct pvm_program *program_of_code(const uint8_t *code, size_t n, uint8_t mask0)
{
    static uint8_t blob[64];
    blob[0] = 0, blob[1] = 0, blob[2] = (uint8_t)n;
    memcpy(blob + 3, code, n);
    blob[3 + n] = mask0;
    struct pvm_program *p;
    assert_int_equal(decode(blob, 3 + n + 1, &p), PVM_OK);
    return p;
}

static void test_operand_decoding(void **unused)
{
    (void)unused;
    struct pvm_insn in;
    /* F12 with out-of-range register fields: all clamp to r12. */
    static const uint8_t f12[] = {PVM_OP_add_64, 0xFF, 200};
    struct pvm_program *p = program_of_code(f12, 3, 0x01);
    pvm_decode_insn(p, 0, &in);
    assert_int_equal(in.format, PVM_FMT_REG_REG_REG);
    assert_int_equal(in.ra, 12);
    assert_int_equal(in.rb, 12);
    assert_int_equal(in.rd, 12);
    pvm_program_destroy(p);

    /* load_imm_64 as the last instruction with only 3 of its 8 bytes. */
    static const uint8_t f2[] = {PVM_OP_load_imm_64, 0x07, 0xAA, 0xBB, 0xCC};
    p = program_of_code(f2, 5, 0x01);
    pvm_decode_insn(p, 0, &in);
    assert_int_equal(in.ra, 7);
    assert_true(in.imm_x == 0xCCBBAA);
    pvm_program_destroy(p);

    /* F3: lx = min(4, b1 & 7) = 4 even with b1 = 7; Y gets what is left. */
    static const uint8_t f3[] = {PVM_OP_store_imm_u8, 0x07, 0x00, 0x00, 0x00, 0x80, 0xFF};
    p = program_of_code(f3, 7, 0x01);
    pvm_decode_insn(p, 0, &in);
    assert_int_equal(in.len_x, 4);
    assert_true(in.imm_x == 0xFFFFFFFF80000000ull);
    assert_int_equal(in.len_y, 1);
    assert_true(in.imm_y == UINT64_MAX);
    pvm_program_destroy(p);

    /* F7 branch with a negative offset: target below 0. */
    static const uint8_t f7[] = {PVM_OP_branch_eq_imm, 0x07, 0xF0};
    p = program_of_code(f7, 3, 0x01);
    pvm_decode_insn(p, 0, &in);
    assert_int_equal(in.ra, 7);
    assert_int_equal(in.len_x, 0);
    assert_int_equal(in.imm_x, 0);
    assert_int_equal(in.target, -16);
    pvm_program_destroy(p);

    /* F8: low nibble is the destination. */
    static const uint8_t f8[] = {PVM_OP_move_reg, 0x87};
    p = program_of_code(f8, 2, 0x01);
    pvm_decode_insn(p, 0, &in);
    assert_int_equal(in.rd, 7);
    assert_int_equal(in.ra, 8);
    pvm_program_destroy(p);

    /* F11: lx from byte 2, Y from the rest. */
    static const uint8_t f11[] = {PVM_OP_load_imm_jump_ind, 0x21, 0x01, 0x05, 0x34, 0x12};
    p = program_of_code(f11, 6, 0x01);
    pvm_decode_insn(p, 0, &in);
    assert_int_equal(in.ra, 1);
    assert_int_equal(in.rb, 2);
    assert_int_equal(in.imm_x, 5);
    assert_int_equal(in.imm_y, 0x1234);
    pvm_program_destroy(p);
}

static void test_dynamic_jump_resolution(void **unused)
{
    (void)unused;
    /* J = 3, z = 5: entries 0 (a block start), 1 (inside move_reg), 2^32
     * (too big); code = one move_reg. */
    static const uint8_t blob[] = {0x03, 0x05, 0x02, 0, 0, 0, 0, 0,    1,    0,   0,
                                   0,    0,    0,    0, 0, 0, 1, 0x64, 0x00, 0x01};
    struct pvm_program *p;
    assert_int_equal(decode(blob, sizeof(blob), &p), PVM_OK);
    uint32_t t = 99;
    assert_int_equal(pvm_program_dynamic_jump(p, 2, &t), PVM_DJUMP_TARGET);
    assert_int_equal(t, 0);
    assert_int_equal(pvm_program_dynamic_jump(p, 4, &t), PVM_DJUMP_PANIC); /* pc 1: not a start */
    assert_int_equal(pvm_program_dynamic_jump(p, 6, &t), PVM_DJUMP_PANIC);
    assert_int_equal(pvm_program_dynamic_jump(p, 8, &t), PVM_DJUMP_PANIC);
    assert_int_equal(pvm_program_dynamic_jump(p, 0, &t), PVM_DJUMP_PANIC);
    assert_int_equal(pvm_program_dynamic_jump(p, 3, &t), PVM_DJUMP_PANIC);
    assert_int_equal(pvm_program_dynamic_jump(p, PVM_HALT_ADDRESS, &t), PVM_DJUMP_HALT);
    pvm_program_destroy(p);

    /* z = 0: a huge table of zero entries, all pointing at pc 0. */
    static const uint8_t zero_z[] = {0xFF, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00, 0x01, 0x00, 0x01};
    assert_int_equal(decode(zero_z, sizeof(zero_z), &p), PVM_OK);
    assert_int_equal(pvm_program_dynamic_jump(p, 0xFFFFFFFE, &t), PVM_DJUMP_TARGET);
    assert_int_equal(t, 0);
    pvm_program_destroy(p);
}

static void test_opcode_table(void **unused)
{
    (void)unused;
    int defined = 0, terminators = 0;
    for (int op = 0; op < 256; op++) {
        const struct pvm_opcode_info *info = &pvm_opcode_table[op];
        if (!info->is_defined) {
            /* only the internal opcodes GP 0.7.2 lacks (pvm_opcodes.h) have names */
            if (op == PVM_OP_unlikely)
                assert_int_equal(pvm_opcode_by_name("unlikely", 8), op);
            else
                assert_null(info->name);
            continue;
        }
        defined++;
        terminators += info->is_terminator;
        assert_int_equal(info->gas, 1);
        assert_int_equal(pvm_opcode_by_name(info->name, strlen(info->name)), op);
    }
    assert_int_equal(defined, PVM_DEFINED_OPCODE_COUNT);
    /* SPEC §6.1: trap, fallthrough, jump, jump_ind, load_imm_jump, 10
     * branch_*_imm, 6 branch_*, load_imm_jump_ind. */
    assert_int_equal(terminators, 5 + 10 + 6 + 1);
    assert_false(pvm_opcode_table[PVM_OP_ecalli].is_terminator);
    assert_int_equal(pvm_opcode_by_name("add_6", 5), -1);
    assert_int_equal(pvm_opcode_by_name("add_644", 7), -1);
}

/* Arbitrary bytes: decoding never reads outside the blob, and a blob that
 * decodes runs on the interpreter without crashing. ASan/UBSan check it. */
static void test_random_blobs_never_crash(void **unused)
{
    (void)unused;
    uint64_t rng = 0x9E3779B97F4A7C15ull;
    int decoded = 0;
    for (int iter = 0; iter < 3000; iter++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        size_t len = (size_t)(rng % 64);
        uint8_t *blob = malloc(len + 1);
        for (size_t i = 0; i < len; i++) {
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
            blob[i] = (uint8_t)rng;
        }
        /* Bias towards well-formed headers so the interpreter gets work. */
        if (len > 4 && (iter & 1)) {
            size_t code = (len - 4) * 8 / 9;
            size_t mask = (code + 7) / 8;
            if (3 + code + mask <= len) {
                blob[0] = 0, blob[1] = 0, blob[2] = (uint8_t)code;
                len = 3 + code + mask;
                if (code % 8)
                    blob[len - 1] &= (uint8_t)((1u << (code % 8)) - 1);
            }
        }
        struct pvm_program *p;
        if (decode(blob, len, &p) == PVM_OK) {
            decoded++;
            struct pvm_state s = {.gas = 1000};
            s.regs[0] = PVM_HALT_ADDRESS;
            struct pvm_segment seg = {
                .address = 0x10000, .length = 0x1000, .access = PVM_ACCESS_WRITE};
            struct pvm_interp *it;
            assert_int_equal(pvm_interp_create(p, &seg, 1, &s, &alloc, &it), PVM_OK);
            struct pvm_exit e;
            for (int k = 0; k < 4; k++) {
                pvm_interp_run(it, &e);
                assert_true(e.reason <= PVM_EXIT_HOST_CALL);
                if (e.reason != PVM_EXIT_HOST_CALL)
                    break;
            }
            pvm_interp_destroy(it);
            pvm_program_destroy(p);
        }
        free(blob);
    }
    assert_true(decoded > 500);
}

static int setup(void **unused)
{
    (void)unused;
    alloc = pvm_libc_allocator();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_varint),
        cmocka_unit_test(test_each_malformed_blob_gets_its_own_error),
        cmocka_unit_test(test_every_prefix_of_a_valid_blob_is_rejected),
        cmocka_unit_test(test_skip_and_block_starts),
        cmocka_unit_test(test_operand_decoding),
        cmocka_unit_test(test_dynamic_jump_resolution),
        cmocka_unit_test(test_opcode_table),
        cmocka_unit_test(test_random_blobs_never_crash),
    };
    return cmocka_run_group_tests_name("pvm_program", tests, setup, NULL);
}
