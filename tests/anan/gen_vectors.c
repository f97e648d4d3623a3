/*
 * gen_vectors — write generated PVM programs (tests/jit/jit_gen.h) as
 * conformance-vector JSON files (SPEC §13) without expected-* fields, so any
 * PVM that reads vectors (nubrun, anan-as) can run them.
 *
 *   gen_vectors --out DIR [--count N] [--seed S] [--max-insns M] [--keep-sbrk]
 *
 * Writes DIR/gen-<seed>.json for seeds S .. S+N-1. Programs containing an
 * sbrk instruction are skipped unless --keep-sbrk: sbrk's behaviour is a
 * project decision (SPEC §9.9, D7) and vectors carry no heap top, so two
 * engines are not expected to agree on it. Skipped seeds do not count
 * towards N. Prints "<written> written, <skipped> skipped (sbrk)".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jit_gen.h"
#include "pvm_alloc_libc.h"
#include "pvm_opcodes.h"
#include "pvm_program.h"

/* True when an instruction start of the program holds sbrk. A blob that does
 * not decode counts as no sbrk (it panics before running anything). */
static bool has_sbrk(const uint8_t *blob, size_t len)
{
    struct pvm_allocator alloc = pvm_libc_allocator();
    struct pvm_program *prog = NULL;
    if (pvm_program_decode(blob, len, &alloc, &prog) != PVM_OK)
        return false;
    bool found = false;
    for (uint32_t pc = 0; pc < prog->code_len && !found; pc++)
        found = pvm_program_is_insn_start(prog, pc) && prog->code[pc] == PVM_OP_sbrk;
    pvm_program_destroy(prog);
    return found;
}

static void write_u8_list(FILE *f, const uint8_t *bytes, size_t len)
{
    fputc('[', f);
    for (size_t i = 0; i < len; i++)
        fprintf(f, "%s%u", i ? ", " : "", bytes[i]);
    fputc(']', f);
}

static int write_vector(const char *path, const char *name, const struct jit_gen_case *c)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "gen_vectors: %s: %s\n", path, strerror(errno));
        return -1;
    }
    fprintf(f, "{\n  \"name\": \"%s\",\n  \"initial-regs\": [", name);
    for (int i = 0; i < PVM_NUM_REGS; i++)
        fprintf(f, "%s%" PRIu64, i ? ", " : "", c->initial.regs[i]);
    fprintf(f, "],\n  \"initial-pc\": %" PRIu32 ",\n  \"initial-page-map\": [", c->initial.pc);
    for (size_t i = 0; i < c->segment_count; i++) {
        const struct pvm_segment *s = &c->segments[i];
        fprintf(f, "%s{\"address\": %" PRIu32 ", \"length\": %" PRIu32 ", \"is-writable\": %s}",
                i ? ", " : "", s->address, s->length,
                s->access == PVM_ACCESS_WRITE ? "true" : "false");
    }
    fprintf(f, "],\n  \"initial-memory\": [");
    bool first = true;
    for (size_t i = 0; i < c->segment_count; i++) {
        const struct pvm_segment *s = &c->segments[i];
        if (s->data_len == 0)
            continue;
        fprintf(f, "%s{\"address\": %" PRIu32 ", \"contents\": ", first ? "" : ", ", s->address);
        write_u8_list(f, s->data, s->data_len);
        fputc('}', f);
        first = false;
    }
    fprintf(f, "],\n  \"initial-gas\": %" PRId64 ",\n  \"program\": ", c->initial.gas);
    write_u8_list(f, c->blob, c->blob_len);
    fprintf(f, "\n}\n");
    if (fclose(f) != 0) {
        fprintf(stderr, "gen_vectors: %s: write failed\n", path);
        return -1;
    }
    return 0;
}

static void usage(const char *argv0)
{
    fprintf(stderr, "usage: %s --out DIR [--count N] [--seed S] [--max-insns M] [--keep-sbrk]\n",
            argv0);
}

int main(int argc, char **argv)
{
    const char *out_dir = NULL;
    uint64_t count = 100, seed = 1;
    unsigned max_insns = 40;
    bool keep_sbrk = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out_dir = argv[++i];
        else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
            count = strtoull(argv[++i], NULL, 0);
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 0);
        else if (strcmp(argv[i], "--max-insns") == 0 && i + 1 < argc)
            max_insns = (unsigned)strtoul(argv[++i], NULL, 0);
        else if (strcmp(argv[i], "--keep-sbrk") == 0)
            keep_sbrk = true;
        else {
            usage(argv[0]);
            return 2;
        }
    }
    if (out_dir == NULL) {
        usage(argv[0]);
        return 2;
    }
    static struct jit_gen_case c;
    uint64_t written = 0, skipped = 0;
    for (uint64_t s = seed; written < count; s++) {
        jit_gen_case(s, max_insns, &c);
        if (!keep_sbrk && has_sbrk(c.blob, c.blob_len)) {
            skipped++;
            continue;
        }
        char name[64], path[4096];
        snprintf(name, sizeof(name), "gen-%" PRIu64, s);
        if ((size_t)snprintf(path, sizeof(path), "%s/%s.json", out_dir, name) >= sizeof(path)) {
            fprintf(stderr, "gen_vectors: output path too long\n");
            return 1;
        }
        if (write_vector(path, name, &c) != 0)
            return 1;
        written++;
    }
    printf("%" PRIu64 " written, %" PRIu64 " skipped (sbrk)\n", written, skipped);
    return 0;
}
