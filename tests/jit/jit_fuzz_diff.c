/*
 * jit_fuzz_diff — differential fuzzing of the JIT against the interpreter
 * over generated programs (jit_gen.h).
 *
 *   jit_fuzz_diff [--count N] [--seed S] [--max-insns M] [--isa 0.7.2|0.8.0] [--dump]
 *   jit_fuzz_diff --write-seeds DIR [--count N]   (libFuzzer seed corpus)
 *
 * Runs programs S .. S+N-1 and exits 1 at the first divergence, printing the
 * seed, the reason and (with --dump) the blob in hex, so a failure can be
 * replayed with --seed <that seed> --count 1.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jit_diff.h"
#include "jit_gen.h"
#include "pvm_isa.h"

/* Seed files for fuzz_jit_blob: its 16-byte header, then a generated blob. */
static int write_seeds(const char *dir, uint64_t seed, uint64_t count, unsigned max_insns)
{
    static struct jit_gen_case c;
    for (uint64_t s = seed; s < seed + count; s++) {
        jit_gen_case(s, max_insns, &c);
        char path[4096];
        snprintf(path, sizeof(path), "%s/gen-%" PRIu64, dir, s);
        FILE *f = fopen(path, "wb");
        if (f == NULL) {
            perror(path);
            return 1;
        }
        uint32_t gas = (uint32_t)(c.initial.gas < 0 ? 0 : c.initial.gas), pc = c.initial.pc;
        uint64_t rseed = s;
        fwrite(&gas, 4, 1, f);
        fwrite(&pc, 4, 1, f);
        fwrite(&rseed, 8, 1, f);
        fwrite(c.blob, 1, c.blob_len, f);
        fclose(f);
    }
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t count = 1000, seed = 1;
    unsigned max_insns = 40;
    int dump = 0;
    const char *seed_dir = NULL;
    uint32_t isa = NUB_ISA_GP_0_7_2;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
            count = strtoull(argv[++i], NULL, 0);
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 0);
        else if (strcmp(argv[i], "--max-insns") == 0 && i + 1 < argc)
            max_insns = (unsigned)strtoul(argv[++i], NULL, 0);
        else if (strcmp(argv[i], "--write-seeds") == 0 && i + 1 < argc)
            seed_dir = argv[++i];
        else if (strcmp(argv[i], "--isa") == 0 && i + 1 < argc &&
                 pvm_isa_by_name(argv[i + 1], strlen(argv[i + 1])) != NULL) {
            isa = pvm_isa_by_name(argv[i + 1], strlen(argv[i + 1]))->id;
            i++;
        } else if (strcmp(argv[i], "--dump") == 0)
            dump = 1;
        else {
            fprintf(stderr, "usage: %s [--count N] [--seed S] [--max-insns M] [--dump]\n", argv[0]);
            return 2;
        }
    }
    static struct jit_gen_case c;
    char msg[256];
    struct jit_diff_stats stats = {0};
    if (seed_dir != NULL)
        return write_seeds(seed_dir, seed, count, max_insns);
    for (uint64_t s = seed; s < seed + count; s++) {
        jit_gen_case_isa(s, max_insns, isa, &c);
        int r = jit_diff_run_isa(c.blob, c.blob_len, isa, c.segments, c.segment_count, &c.initial,
                                 &stats, msg, sizeof(msg));
        if (r != 0) {
            printf("seed %" PRIu64 ": %s: %s\n", s, r > 0 ? "DIVERGENCE" : "harness error", msg);
            if (dump) {
                for (size_t i = 0; i < c.blob_len; i++)
                    printf("%02x", c.blob[i]);
                printf("\n");
            }
            return 1;
        }
    }
    printf("%" PRIu64 " programs, 0 divergences (exits: halt %" PRIu64 ", panic %" PRIu64
           ", out-of-gas %" PRIu64 ", page-fault %" PRIu64 ", host-call %" PRIu64 ", error %" PRIu64
           "; invalid blobs %" PRIu64 "; gas used in first runs %" PRIu64 ")\n",
           count, stats.exits[0], stats.exits[1], stats.exits[2], stats.exits[3], stats.exits[4],
           stats.exits[5], stats.invalid_blobs, stats.executed_insns_hint);
    return 0;
}
