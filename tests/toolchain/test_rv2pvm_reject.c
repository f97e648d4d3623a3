/*
 * test_rv2pvm_reject.c — rv2pvm refuses what it cannot translate faithfully,
 * with a message naming the problem (and the address, for instructions and
 * relocations): malformed ELF files (every header field that locates data,
 * every truncation, random corruption), instructions outside RV64EMAC+Zbb
 * or without a PVM meaning, and relocations it does not handle.
 *
 * The base input is reject_base.elf (reject_base.S linked by nub-cc).
 */
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pvm_alloc_libc.h"
#include "pvm_stdprog.h"
#include "rv2pvm.h"
#include "test_util.h"

#define TEXT_BASE 0x40000000u

static uint8_t *base;
static size_t base_len;

static int setup(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/reject_base.elf", TOOLCHAIN_JAM_DIR);
    base = test_read_file(path, &base_len);
    return base == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    free(base);
    return 0;
}

static uint8_t *copy_base(void)
{
    uint8_t *c = malloc(base_len);
    assert_non_null(c);
    memcpy(c, base, base_len);
    return c;
}

/* Translates; returns rc and leaves the message in err. */
static int translate(const uint8_t *elf, size_t len, char *err, size_t err_len)
{
    uint8_t *out = NULL;
    size_t out_len = 0;
    struct rv2pvm_options opt = {.stack_size = 4096};
    int rc = rv2pvm_translate(elf, len, &opt, &out, &out_len, NULL, err, err_len);
    if (rc == 0) {
        /* Whatever is accepted must be a valid standard program. */
        struct pvm_stdprog sp;
        struct pvm_program *prog = NULL;
        struct pvm_allocator alloc = pvm_libc_allocator();
        assert_int_equal(pvm_stdprog_load(out, out_len, NULL, 0, &sp), PVM_OK);
        assert_int_equal(pvm_program_decode(sp.code_blob, sp.code_blob_len, &alloc, &prog), PVM_OK);
        pvm_program_destroy(prog);
    }
    free(out);
    return rc;
}

static void expect_reject(const uint8_t *elf, size_t len, const char *must_contain)
{
    char err[512] = "";
    assert_int_equal(translate(elf, len, err, sizeof err), -1);
    if (strstr(err, must_contain) == NULL)
        fail_msg("message \"%s\" does not mention \"%s\"", err, must_contain);
}

static Elf64_Ehdr header(const uint8_t *elf)
{
    Elf64_Ehdr h;
    memcpy(&h, elf, sizeof h);
    return h;
}

static Elf64_Shdr section(const uint8_t *elf, size_t i)
{
    Elf64_Ehdr h = header(elf);
    Elf64_Shdr s;
    memcpy(&s, elf + h.e_shoff + i * sizeof s, sizeof s);
    return s;
}

static void put_section(uint8_t *elf, size_t i, const Elf64_Shdr *s)
{
    Elf64_Ehdr h = header(elf);
    memcpy(elf + h.e_shoff + i * sizeof *s, s, sizeof *s);
}

static size_t find_section(const uint8_t *elf, const char *name)
{
    Elf64_Ehdr h = header(elf);
    Elf64_Shdr names = section(elf, h.e_shstrndx);
    for (size_t i = 0; i < h.e_shnum; i++) {
        Elf64_Shdr s = section(elf, i);
        if (strcmp((const char *)elf + names.sh_offset + s.sh_name, name) == 0)
            return i;
    }
    fail_msg("no section %s", name);
    return 0;
}

static void put_insn(uint8_t *elf, unsigned slot, uint32_t raw)
{
    Elf64_Shdr text = section(elf, find_section(elf, ".text"));
    assert_int_equal(text.sh_addr, TEXT_BASE);
    memcpy(elf + text.sh_offset + 4 * slot, &raw, 4);
}

static void test_base_translates(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(translate(base, base_len, err, sizeof err), 0);
}

static void test_header_fields(void **state)
{
    (void)state;
    uint8_t *e;
    Elf64_Ehdr h;

    expect_reject(base, 10, "shorter than an ELF64 header");
    expect_reject(NULL, 0, "no input");

    e = copy_base();
    e[1] = 'X';
    expect_reject(e, base_len, "bad magic");
    memcpy(e, base, base_len);
    e[EI_CLASS] = ELFCLASS32;
    expect_reject(e, base_len, "ELFCLASS64");
    memcpy(e, base, base_len);
    e[EI_DATA] = ELFDATA2MSB;
    expect_reject(e, base_len, "little-endian");

    memcpy(e, base, base_len);
    h = header(e);
    h.e_machine = EM_X86_64;
    memcpy(e, &h, sizeof h);
    expect_reject(e, base_len, "not RISC-V");

    memcpy(e, base, base_len);
    h = header(e);
    h.e_type = ET_REL;
    memcpy(e, &h, sizeof h);
    expect_reject(e, base_len, "not an executable");

    memcpy(e, base, base_len);
    h = header(e);
    h.e_flags |= 0x2; /* EF_RISCV_FLOAT_ABI_SINGLE */
    memcpy(e, &h, sizeof h);
    expect_reject(e, base_len, "floating-point ABI");

    memcpy(e, base, base_len);
    h = header(e);
    h.e_shentsize = 32;
    memcpy(e, &h, sizeof h);
    expect_reject(e, base_len, "section header size");

    memcpy(e, base, base_len);
    h = header(e);
    h.e_shoff = base_len - 8;
    memcpy(e, &h, sizeof h);
    expect_reject(e, base_len, "outside the file");

    memcpy(e, base, base_len);
    h = header(e);
    h.e_shoff = UINT64_MAX - 100; /* offset + size overflows */
    memcpy(e, &h, sizeof h);
    expect_reject(e, base_len, "outside the file");

    memcpy(e, base, base_len);
    h = header(e);
    h.e_shnum = 0xFFFF;
    memcpy(e, &h, sizeof h);
    expect_reject(e, base_len, "outside the file");

    memcpy(e, base, base_len);
    h = header(e);
    h.e_shnum = 0;
    memcpy(e, &h, sizeof h);
    expect_reject(e, base_len, "no section table");

    memcpy(e, base, base_len);
    h = header(e);
    h.e_shstrndx = h.e_shnum;
    memcpy(e, &h, sizeof h);
    expect_reject(e, base_len, "section-name table index");
    free(e);
}

static void test_section_fields(void **state)
{
    (void)state;
    uint8_t *e = copy_base();
    size_t text = find_section(base, ".text");
    size_t symtab = find_section(base, ".symtab");
    size_t rela = find_section(base, ".rela.data");
    Elf64_Shdr s;

    s = section(e, text);
    s.sh_offset = base_len - 4;
    put_section(e, text, &s);
    expect_reject(e, base_len, "outside the file");

    memcpy(e, base, base_len);
    s = section(e, text);
    s.sh_size = UINT64_MAX;
    put_section(e, text, &s);
    expect_reject(e, base_len, "outside the file");

    memcpy(e, base, base_len);
    s = section(e, text);
    s.sh_name = 0x7FFFFFFF;
    put_section(e, text, &s);
    expect_reject(e, base_len, "bad name offset");

    memcpy(e, base, base_len);
    s = section(e, symtab);
    s.sh_entsize = 16;
    put_section(e, symtab, &s);
    expect_reject(e, base_len, "symbol table");

    memcpy(e, base, base_len);
    s = section(e, symtab);
    s.sh_link = 0;
    put_section(e, symtab, &s);
    expect_reject(e, base_len, "bad string table");

    memcpy(e, base, base_len);
    s = section(e, rela);
    s.sh_info = 999;
    put_section(e, rela, &s);
    expect_reject(e, base_len, "applies to bad section");

    memcpy(e, base, base_len);
    s = section(e, rela);
    s.sh_size = 20; /* not a whole entry */
    put_section(e, rela, &s);
    expect_reject(e, base_len, "entry size");

    /* A relocation naming a symbol past the table. */
    memcpy(e, base, base_len);
    s = section(e, rela);
    Elf64_Rela r;
    memcpy(&r, e + s.sh_offset, sizeof r);
    r.r_info = ELF64_R_INFO(100000, ELF64_R_TYPE(r.r_info));
    memcpy(e + s.sh_offset, &r, sizeof r);
    expect_reject(e, base_len, "names symbol");

    /* A relocation outside its section. */
    memcpy(e, base, base_len);
    memcpy(&r, e + s.sh_offset, sizeof r);
    r.r_offset = 0x12345;
    memcpy(e + s.sh_offset, &r, sizeof r);
    expect_reject(e, base_len, "outside section");
    free(e);
}

/* Every truncation of a valid file is rejected, never read past its end. */
static void test_every_truncation(void **state)
{
    (void)state;
    char err[512];
    for (size_t len = 0; len < base_len; len++) {
        uint8_t *e = malloc(len ? len : 1); /* exact size: ASan sees any overread */
        assert_non_null(e);
        memcpy(e, base, len);
        assert_int_equal(translate(e, len, err, sizeof err), -1);
        assert_true(err[0] != '\0');
        free(e);
    }
}

/* Random corruption: accepted or rejected with a message, never a crash. */
static void test_random_corruption(void **state)
{
    (void)state;
    uint64_t seed = 0x1234567887654321ull;
    char err[512];
    size_t accepted = 0, rejected = 0;
    uint8_t *e = malloc(base_len);
    assert_non_null(e);
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(e, base, base_len);
        int flips = 1 + iter % 4;
        for (int f = 0; f < flips; f++) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            e[(seed >> 8) % base_len] ^= (uint8_t)(1u << (seed % 8));
        }
        err[0] = '\0';
        if (translate(e, base_len, err, sizeof err) == 0) {
            accepted++;
        } else {
            assert_true(err[0] != '\0');
            rejected++;
        }
    }
    free(e);
    assert_true(accepted > 0 && rejected > 0);
}

struct bad_insn {
    uint32_t raw;
    const char *message;
};

/* RISC-V encodings (RV64 base opcodes, register fields rd/rs1/rs2). */
#define R_TYPE(f7, rs2, rs1, f3, rd, op)                                                           \
    (((uint32_t)(f7) << 25) | ((uint32_t)(rs2) << 20) | ((uint32_t)(rs1) << 15) |                  \
     ((uint32_t)(f3) << 12) | ((uint32_t)(rd) << 7) | (op))
#define I_TYPE(imm, rs1, f3, rd, op)                                                               \
    ((((uint32_t)(imm)&0xFFFu) << 20) | ((uint32_t)(rs1) << 15) | ((uint32_t)(f3) << 12) |         \
     ((uint32_t)(rd) << 7) | (op))

static void test_untranslatable_instructions(void **state)
{
    (void)state;
    const struct bad_insn cases[] = {
        {R_TYPE(0, 11, 10, 0, 10, 0x53),
         "0x40000000: unsupported or invalid instruction"}, /* fadd.s */
        {0x00000073u, "0x40000000: cannot translate ECALL"},
        {R_TYPE(0, 10, 16, 0, 10, 0x33), "0x40000000: ADD uses register x16"},
        {R_TYPE(0, 10, 3, 0, 10, 0x33), "uses register x3"}, /* gp */
        {I_TYPE(0x287, 10, 5, 10, 0x13), "cannot translate ORC_B"},
        {I_TYPE(4, 10, 0, 0, 0x67), "indirect jump with a nonzero offset"},
        {I_TYPE(0, 10, 3, 0, 0x03), "load into x0"},
        {I_TYPE(0, 0, 0, 0, 0x67), "indirect jump to an absolute address"},
        {0x0000001Fu, "unsupported or invalid instruction"},              /* a 48-bit encoding */
        {I_TYPE(0, 0, 1, 0, 0x73), "unsupported or invalid instruction"}, /* csrrw */
        {R_TYPE(0x08, 0, 10, 2, 10, 0x2F) | (1u << 20),
         "unsupported or invalid"}, /* lr.w with rs2 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t *e = copy_base();
        put_insn(e, 0, cases[i].raw);
        expect_reject(e, base_len, cases[i].message);
        free(e);
    }
    /* auipc without a relocation that is neither a call nor lla. */
    uint8_t *e = copy_base();
    put_insn(e, 1, 0x00000517u); /* auipc a0, 0 */
    expect_reject(e, base_len, "0x40000004: auipc without a relocation");
    free(e);
    /* A branch into the middle of an instruction. */
    e = copy_base();
    put_insn(e, 0, 0x00000163u); /* beq x0, x0, +2 */
    expect_reject(e, base_len, "is not an instruction");
    free(e);
}

static void set_rela_type(uint8_t *e, const char *rela_section, size_t index, uint32_t type)
{
    Elf64_Shdr s = section(e, find_section(e, rela_section));
    Elf64_Rela r;
    memcpy(&r, e + s.sh_offset + index * sizeof r, sizeof r);
    r.r_info = ELF64_R_INFO(ELF64_R_SYM(r.r_info), type);
    memcpy(e + s.sh_offset + index * sizeof r, &r, sizeof r);
}

static void test_unsupported_relocations(void **state)
{
    (void)state;
    uint8_t *e = copy_base();
    set_rela_type(e, ".rela.text", 0, R_RISCV_TPREL_HI20);
    expect_reject(e, base_len, "unsupported relocation R_RISCV_TPREL_HI20 (type 29) at 0x40000008");
    memcpy(e, base, base_len);
    set_rela_type(e, ".rela.text", 0, R_RISCV_GOT_HI20);
    expect_reject(e, base_len, "R_RISCV_GOT_HI20");
    memcpy(e, base, base_len);
    set_rela_type(e, ".rela.data", 0, R_RISCV_ADD64); /* a code address in a label difference */
    expect_reject(e, base_len, "unsupported relocation R_RISCV_ADD64");
    memcpy(e, base, base_len);
    set_rela_type(e, ".rela.text", 0, R_RISCV_PCREL_HI20); /* on a lui */
    expect_reject(e, base_len, "R_RISCV_PCREL_HI20 at 0x40000008 is on a LUI");
    memcpy(e, base, base_len);
    set_rela_type(e, ".rela.text", 2, R_RISCV_LO12_S); /* a store to a code address */
    expect_reject(e, base_len, "a store at a code address");
    memcpy(e, base, base_len);
    set_rela_type(e, ".rela.text", 0, R_RISCV_CALL_PLT); /* not on auipc+jalr */
    expect_reject(e, base_len, "not on an auipc+jalr pair");
    free(e);
}

static void test_endpoints(void **state)
{
    (void)state;
    char err[512];
    uint8_t *out = NULL;
    size_t out_len = 0;
    const char *missing[] = {"no_such_function"};
    struct rv2pvm_options opt = {
        .stack_size = 4096, .entry_symbols = missing, .entry_symbol_count = 1};
    assert_int_equal(rv2pvm_translate(base, base_len, &opt, &out, &out_len, NULL, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "entry symbol no_such_function not found"));
    const char *helper[] = {"helper"};
    opt.entry_symbols = helper;
    struct rv2pvm_stats st;
    assert_int_equal(rv2pvm_translate(base, base_len, &opt, &out, &out_len, &st, err, sizeof err),
                     0);
    assert_int_equal(st.endpoint_count, 2); /* __nub_export_0 = entry, then helper */
    free(out);
    opt.stack_size = 1u << 24;
    assert_int_equal(rv2pvm_translate(base, base_len, &opt, &out, &out_len, NULL, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "stack size"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base_translates),
        cmocka_unit_test(test_header_fields),
        cmocka_unit_test(test_section_fields),
        cmocka_unit_test(test_every_truncation),
        cmocka_unit_test(test_random_corruption),
        cmocka_unit_test(test_untranslatable_instructions),
        cmocka_unit_test(test_unsupported_relocations),
        cmocka_unit_test(test_endpoints),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
