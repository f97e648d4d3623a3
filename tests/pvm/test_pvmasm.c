/*
 * test_pvmasm.c — the assembler and disassembler: known encodings from the
 * SPEC's worked examples, labels and the jump table, round trips (text ->
 * blob -> text -> blob for every opcode; blob -> text -> blob for
 * arbitrary valid blobs), and error messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pvm_alloc_libc.h"
#include "pvm_program.h"
#include "pvmasm.h"
#include "pvmasm_encode.h"

static void assemble_ok(const char *src, struct pvmasm_output *out)
{
    char err[256];
    if (pvmasm_assemble(src, strlen(src), out, err, sizeof(err)) != 0)
        fail_msg("assembling failed: %s\n%s", err, src);
}

/* The code bytes of a blob without a jump table. */
static const uint8_t *code_of(const struct pvmasm_output *out, size_t *n)
{
    assert_int_equal(out->blob[0], 0);
    *n = out->blob[2];
    return out->blob + 3;
}

static void test_spec_examples(void **unused)
{
    (void)unused;
    struct {
        const char *src;
        uint8_t bytes[12];
        size_t n;
    } cases[] = {
        {"add_32 r9, r7, r8", {0xbe, 0x87, 0x09}, 3},
        {"store_ind_u8 r8, r7, 0x1001", {0x78, 0x78, 0x01, 0x10}, 4},
        {"store_imm_ind_u16 r7, 1, 0x1234", {0x47, 0x17, 0x01, 0x34, 0x12}, 5},
        {"load_imm_64 a0, 0xDEADBEEFDEADBEEF",
         {0x14, 0x07, 0xef, 0xbe, 0xad, 0xde, 0xef, 0xbe, 0xad, 0xde},
         10},
        {"load_imm t0, -1", {0x33, 0x02, 0xff}, 3},
        {"load_imm t0, 0", {0x33, 0x02}, 2},
        {"load_u32 r1, 0x80000000", {0x38, 0x01, 0x00, 0x00, 0x00, 0x80}, 6},
        {"move_reg r7, r8", {0x64, 0x87}, 2},
        {"ecalli 300", {0x0a, 0x2c, 0x01}, 3},
        {"load_imm_jump_ind r1, r2, 5, 0x1234", {0xb4, 0x21, 0x01, 0x05, 0x34, 0x12}, 6},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct pvmasm_output out;
        assemble_ok(cases[i].src, &out);
        size_t n;
        const uint8_t *code = code_of(&out, &n);
        if (n != cases[i].n || memcmp(code, cases[i].bytes, n) != 0)
            fail_msg("%s: wrong bytes", cases[i].src);
        pvmasm_output_free(&out);
    }
}

static void test_labels_branches_and_jump_table(void **unused)
{
    (void)unused;
    struct pvmasm_output out;
    assemble_ok("    .jumptable back, fwd\n"
                "back:\n"
                "    load_imm a0, &fwd   ; 4\n"
                "    branch_eq a0, a1, fwd\n"
                "    jump back\n"
                "fwd: trap\n",
                &out);
    /* J = 2, z = 1 (largest entry < 256), C = 9. */
    assert_int_equal(out.blob[0], 2);
    assert_int_equal(out.blob[1], 1);
    assert_int_equal(out.blob[2], 9);
    assert_int_equal(pvmasm_label_pc(&out, "back"), 0);
    assert_int_equal(pvmasm_label_pc(&out, "fwd"), 8);
    assert_int_equal(pvmasm_label_pc(&out, "nope"), -1);
    assert_int_equal(out.blob[3], 0); /* entry back */
    assert_int_equal(out.blob[4], 8); /* entry fwd */
    static const uint8_t want[] = {
        0x33, 0x07, 0x04, /* load_imm a0, 4 (= &fwd: entry 1 -> 2 * 2) */
        0xaa, 0x87, 0x05, /* branch_eq a0, a1, +5 */
        0x28, 0xfa,       /* jump -6 */
        0x00,             /* trap */
    };
    assert_memory_equal(out.blob + 5, want, sizeof(want));
    assert_int_equal(out.blob[5 + 9], 0x49); /* bitmask: starts at 0, 3, 6, 8 (bit 8 next byte) */
    assert_int_equal(out.blob[5 + 10], 0x01);
    assert_int_equal(out.blob_len, 5 + 9 + 2);
    pvmasm_output_free(&out);
}

/* One line per defined opcode with sample operands. */
static char *every_opcode_source(void)
{
    size_t cap = 1 << 16, len = 0;
    char *s = malloc(cap);
    len += (size_t)snprintf(s + len, cap - len, "    .jumptable top\ntop:\n");
    int k = 0;
    for (int op = 0; op < 256; op++) {
        if (!pvm_opcode_table[op].is_defined)
            continue;
        const char *kinds = pvmasm_operand_kinds((uint8_t)op);
        len += (size_t)snprintf(s + len, cap - len, "    %s", pvm_opcode_table[op].name);
        for (int i = 0; kinds[i] != '\0'; i++) {
            const char *sep = i ? ", " : " ";
            k++;
            switch (kinds[i]) {
            case 'R':
                len += (size_t)snprintf(s + len, cap - len, "%sr%d", sep, (k * 5) % 13);
                break;
            case 'I':
                len +=
                    (size_t)snprintf(s + len, cap - len, "%s%d", sep, (k % 2 ? -1 : 1) * k * 977);
                break;
            case 'A':
                len +=
                    (size_t)snprintf(s + len, cap - len, "%s0x%x", sep, 0xFFFF0000u + (unsigned)k);
                break;
            case 'Q':
                len += (size_t)snprintf(s + len, cap - len, "%s0x%llx", sep,
                                        0x8000000000000001ull * (unsigned)k);
                break;
            case 'T':
                len += (size_t)snprintf(s + len, cap - len, "%s%s", sep, k % 2 ? "top" : "end");
                break;
            }
        }
        len += (size_t)snprintf(s + len, cap - len, "\n");
    }
    snprintf(s + len, cap - len, "end:\n    trap\n");
    return s;
}

static void test_every_opcode_round_trips(void **unused)
{
    (void)unused;
    char *src = every_opcode_source();
    struct pvmasm_output a, b;
    assemble_ok(src, &a);
    char err[256];
    char *text1 = pvmasm_disassemble(a.blob, a.blob_len, err, sizeof(err));
    if (text1 == NULL)
        fail_msg("disassembly failed: %s", err);
    /* Every instruction is canonical: no raw .opcode lines. */
    assert_null(strstr(text1, ".opcode"));
    assemble_ok(text1, &b);
    assert_int_equal(a.blob_len, b.blob_len);
    assert_memory_equal(a.blob, b.blob, a.blob_len);
    char *text2 = pvmasm_disassemble(b.blob, b.blob_len, err, sizeof(err));
    assert_non_null(text2);
    assert_string_equal(text1, text2);
    /* And the decoder agrees with the assembler on every mnemonic. */
    struct pvm_allocator alloc = pvm_libc_allocator();
    struct pvm_program *p;
    assert_int_equal(pvm_program_decode(a.blob, a.blob_len, &alloc, &p), PVM_OK);
    int seen = 0;
    for (uint32_t pc = 0; pc < p->code_len; pc++)
        if (pvm_program_is_insn_start(p, pc) && pvm_program_opcode(p, pc) == p->code[pc])
            seen++;
    assert_int_equal(seen, PVM_DEFINED_OPCODE_COUNT + 1); /* + the final trap */
    pvm_program_destroy(p);
    free(text1);
    free(text2);
    free(src);
    pvmasm_output_free(&a);
    pvmasm_output_free(&b);
}

/* Arbitrary valid blobs (random code bytes and bitmask) disassemble into text
 * that assembles back to exactly the same blob. */
static void test_random_blobs_round_trip_exactly(void **unused)
{
    (void)unused;
    uint64_t rng = 12345;
    for (int iter = 0; iter < 400; iter++) {
        uint8_t blob[3 + 4 + 100 + 13];
        size_t code_len = 1 + iter % 100;
        size_t at = 0;
        blob[at++] = 2; /* J */
        blob[at++] = 2; /* z */
        blob[at++] = (uint8_t)code_len;
        blob[at++] = (uint8_t)(iter % code_len), blob[at++] = 0;
        blob[at++] = 0xFF, blob[at++] = 0xFF;
        for (size_t i = 0; i < code_len; i++) {
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
            /* Mostly defined opcodes, sometimes anything. */
            blob[at + i] = (uint8_t)(rng >> 8);
        }
        at += code_len;
        size_t mask_len = (code_len + 7) / 8;
        for (size_t i = 0; i < mask_len; i++) {
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
            blob[at + i] = (uint8_t)rng;
        }
        if (code_len % 8)
            blob[at + mask_len - 1] &= (uint8_t)((1u << (code_len % 8)) - 1);
        at += mask_len;
        char err[256];
        char *text = pvmasm_disassemble(blob, at, err, sizeof(err));
        if (text == NULL)
            fail_msg("iteration %d: %s", iter, err);
        struct pvmasm_output out;
        if (pvmasm_assemble(text, strlen(text), &out, err, sizeof(err)) != 0)
            fail_msg("iteration %d: reassembly failed: %s\n%s", iter, err, text);
        if (out.blob_len != at || memcmp(out.blob, blob, at) != 0)
            fail_msg("iteration %d: blob differs after the round trip\n%s", iter, text);
        pvmasm_output_free(&out);
        free(text);
    }
}

/* Found by fuzz_pvm: zero-size jump-table entries all point at pc 0, which
 * needs a label in the output. */
static void test_zero_size_jump_table_round_trips(void **unused)
{
    (void)unused;
    static const uint8_t blob[] = {0x08, 0x00, 0x08, 0xd9, 0x00, 0x00,
                                   0x00, 0x00, 0x00, 0x01, 0xd9, 0x5d};
    char err[256];
    char *text = pvmasm_disassemble(blob, sizeof(blob), err, sizeof(err));
    assert_non_null(text);
    struct pvmasm_output out;
    assemble_ok(text, &out);
    assert_int_equal(out.blob_len, sizeof(blob));
    assert_memory_equal(out.blob, blob, sizeof(blob));
    pvmasm_output_free(&out);
    free(text);
}

static void test_errors_name_the_line(void **unused)
{
    (void)unused;
    struct {
        const char *src;
        const char *message;
    } cases[] = {
        {"trap\nfoo r1\n", "line 2: unknown instruction 'foo'"},
        {"add_64 r1, r2\n", "line 1: add_64 takes 3 operands"},
        {"move_reg r13, r1\n", "line 1: expected a register, got 'r13'"},
        {"load_imm r1, 0x80000000\n", "line 1: immediate does not fit"},
        {"jump nowhere\n", "line 1: undefined label 'nowhere'"},
        {"a:\na:\n", "line 2: label 'a' defined twice"},
        {"x:\nload_imm r1, &x\n", "line 2: '&x': label not in the jump table"},
        {"trap\n.jumptable nope\n", "line 2: undefined label 'nope'"},
        {".bogus 1\n", "line 1: unknown directive '.bogus'"},
        {".byte 256\n", "line 1: bad byte '256'"},
        {"load_imm r1, 12abc\n", "line 1: expected a number, got '12abc'"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct pvmasm_output out;
        char err[256];
        assert_int_equal(
            pvmasm_assemble(cases[i].src, strlen(cases[i].src), &out, err, sizeof(err)), -1);
        if (strncmp(err, cases[i].message, strlen(cases[i].message)) != 0)
            fail_msg("'%s': got '%s' want '%s'", cases[i].src, err, cases[i].message);
        assert_null(out.blob);
    }
}

static void test_disassembler_rejects_invalid_blobs(void **unused)
{
    (void)unused;
    static const uint8_t bad[] = {0x00, 0x00, 0x01, 0x00, 0x01, 0x00};
    char err[256];
    assert_null(pvmasm_disassemble(bad, sizeof(bad), err, sizeof(err)));
    assert_non_null(strstr(err, "trailing"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_examples),
        cmocka_unit_test(test_labels_branches_and_jump_table),
        cmocka_unit_test(test_every_opcode_round_trips),
        cmocka_unit_test(test_random_blobs_round_trip_exactly),
        cmocka_unit_test(test_zero_size_jump_table_round_trips),
        cmocka_unit_test(test_errors_name_the_line),
        cmocka_unit_test(test_disassembler_rejects_invalid_blobs),
    };
    return cmocka_run_group_tests_name("pvmasm", tests, NULL, NULL);
}
