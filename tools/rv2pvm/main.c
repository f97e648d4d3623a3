/*
 * rv2pvm — command-line front end of the RISC-V ELF -> JAM standard program
 * translator. nub-cc runs it; it can also be used on its own:
 *
 *   rv2pvm [--stack-size BYTES] [--heap-pages N] [--entry SYMBOL]... [--stats]
 *          [--isa 0.7.2|0.8.0] INPUT.elf -o OUTPUT.jam
 *
 * The translator emits GP 0.7.2 opcode numbering; --isa 0.8.0 renumbers the
 * code blob for GP 0.8.0 (pvm_program_recode). A .jam does not record its
 * version: run or publish it with the same --isa.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nub_readfile.h"
#include "pvm_alloc_libc.h"
#include "pvm_program.h"
#include "pvm_stdprog.h"
#include "rv2pvm.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: rv2pvm [--stack-size BYTES] [--heap-pages N] [--entry SYMBOL]... [--stats]\n"
            "              [--map FILE] [--isa 0.7.2|0.8.0] INPUT.elf -o OUTPUT.jam\n"
            "\n"
            "Translates a static RISC-V ELF (rv64emac_zbb, lp64e, linked by ld.lld with\n"
            "--emit-relocs and nub-cc's linker script; nub-cc runs this tool) into a JAM\n"
            "standard program. Endpoint K is the jump at pc 5*K: from the symbols\n"
            "__nub_export_K (NUB_EXPORT in <nub_pvm.h>), then --entry symbols in order.\n"
            "\n"
            "  -o FILE             the JAM standard program to write (required)\n"
            "  --stack-size BYTES  stack size (default %u; at most 2^24 - 1)\n"
            "  --heap-pages N      zero pages added after .bss (default 0)\n"
            "  --entry SYMBOL      make SYMBOL an endpoint (lowest free index; at most %u)\n"
            "  --stats             print instruction and size counts\n"
            "  --map FILE          write one \"0x<RISC-V address> <PVM pc>\" line per instruction\n"
            "  --isa V             the PVM ISA to emit: 0.7.2 (default) or 0.8.0\n"
            "  -h, --help          this text\n"
            "\n"
            "Exit code: 0 written; 1 unreadable or untranslatable input (the reason on\n"
            "stderr, e.g. an unsupported instruction or relocation); 2 usage errors.\n",
            RV2PVM_DEFAULT_STACK_SIZE, RV2PVM_MAX_ENDPOINTS);
}

/* --map: one line per RISC-V instruction, "0x<riscv address> <pvm pc>". */
static void write_map_line(void *f, uint64_t rv_addr, uint32_t pvm_pc)
{
    fprintf(f, "0x%llx %u\n", (unsigned long long)rv_addr, pvm_pc);
}

static int parse_u32(const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno != 0 || end == s || *end != '\0' || v > 0xFFFFFFFFull)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

int main(int argc, char **argv)
{
    struct rv2pvm_options opt = {.stack_size = RV2PVM_DEFAULT_STACK_SIZE};
    const char **entries = calloc((size_t)argc + 1, sizeof *entries);
    const char *input = NULL, *output = NULL, *map_path = NULL;
    int want_stats = 0;
    const struct pvm_isa *isa = pvm_isa_get(NUB_ISA_GP_0_7_2);
    if (entries == NULL)
        return 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-o") == 0 && next) {
            output = next;
            i++;
        } else if (strcmp(a, "--stack-size") == 0 && next) {
            if (parse_u32(next, &opt.stack_size) != 0) {
                fprintf(stderr, "rv2pvm: bad --stack-size %s\n", next);
                return 2;
            }
            i++;
        } else if (strcmp(a, "--heap-pages") == 0 && next) {
            if (parse_u32(next, &opt.extra_heap_pages) != 0) {
                fprintf(stderr, "rv2pvm: bad --heap-pages %s\n", next);
                return 2;
            }
            i++;
        } else if (strcmp(a, "--entry") == 0 && next) {
            entries[opt.entry_symbol_count++] = next;
            i++;
        } else if (strcmp(a, "--map") == 0 && next) {
            map_path = next;
            i++;
        } else if (strcmp(a, "--isa") == 0 && next) {
            isa = pvm_isa_by_name(next, strlen(next));
            if (isa == NULL) {
                fprintf(stderr, "rv2pvm: --isa must be 0.7.2 or 0.8.0\n");
                return 2;
            }
            i++;
        } else if (strcmp(a, "--stats") == 0) {
            want_stats = 1;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (a[0] != '-' && input == NULL) {
            input = a;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (input == NULL || output == NULL) {
        usage(stderr);
        return 2;
    }
    opt.entry_symbols = entries;
    FILE *map_file = NULL;
    if (map_path != NULL) {
        map_file = fopen(map_path, "w");
        if (map_file == NULL) {
            fprintf(stderr, "rv2pvm: %s: %s\n", map_path, strerror(errno));
            return 1;
        }
        opt.map = write_map_line;
        opt.map_ctx = map_file;
    }
    uint8_t *elf = NULL, *program = NULL;
    size_t elf_len = 0, program_len = 0;
    char err[512];
    elf = nub_read_file(input, NUB_READFILE_DEFAULT_MAX, &elf_len, err, sizeof err);
    if (elf == NULL) {
        fprintf(stderr, "rv2pvm: %s\n", err);
        free(entries);
        if (map_file != NULL)
            fclose(map_file);
        return 1;
    }
    struct rv2pvm_stats st;
    int rc = rv2pvm_translate(elf, elf_len, &opt, &program, &program_len, &st, err, sizeof err);
    free(elf);
    free(entries);
    if (map_file != NULL && fclose(map_file) != 0)
        rc = -1;
    if (rc != 0) {
        fprintf(stderr, "rv2pvm: %s: %s\n", input, err);
        return 1;
    }
    if (isa->id != NUB_ISA_GP_0_7_2) {
        struct pvm_stdprog sp;
        struct pvm_allocator alloc = pvm_libc_allocator();
        int e = pvm_stdprog_load(program, program_len, NULL, 0, &sp);
        if (e == PVM_OK) {
            uint8_t *code = program + (sp.code_blob - program);
            e = pvm_program_recode(code, sp.code_blob_len, NUB_ISA_GP_0_7_2, isa->id, code, &alloc);
        }
        if (e != PVM_OK) {
            fprintf(stderr, "rv2pvm: %s: cannot renumber for GP %s: %s\n", input, isa->name,
                    pvm_error_name(e));
            free(program);
            return 1;
        }
    }
    FILE *f = fopen(output, "wb");
    if (f == NULL || fwrite(program, 1, program_len, f) != program_len || fclose(f) != 0) {
        fprintf(stderr, "rv2pvm: %s: write failed: %s\n", output, strerror(errno));
        free(program);
        return 1;
    }
    free(program);
    if (want_stats)
        printf("rv2pvm: %zu RISC-V instructions -> %zu PVM instructions (%zu bytes, %zu "
               "fallthroughs, %zu fused compare-branches), %zu jump-table entries, %zu endpoint "
               "slots, %zu bytes total\n",
               st.rv_insns, st.pvm_insns, st.code_bytes, st.fallthroughs, st.fused_branches,
               st.jump_table_len, st.endpoint_count, program_len);
    return 0;
}
