/*
 * fig_jit.c — JIT figures, measured in the same run as the interpreter
 * figures they are compared with:
 *
 *   jit_compile_ns_per_insn  jit_compile time per PVM instruction on a
 *                            generated straight-line-and-branches program of
 *                            120,000 instructions (decode not timed, code
 *                            buffer preallocated; best of five)
 *   jit_compile_ns_per_insn_080  the same program run as GP 0.8.0
 *                            (renumbered): block costs come from the
 *                            pipeline model, computed while compiling
 *   jit_compile_real_ms_per_640kb  the real JAM service blobs (every .bin
 *                            file of the programs folder: NUBBENCH_PROGRAMS_DIR,
 *                            default ../shared/pvm/programs beside the
 *                            source tree), run as GP 0.7.2: the sum of their
 *                            jit_compile times (best of five each, decode not
 *                            timed) scaled to 640 KiB of service blob
 *   jit_compile_real_ms_per_640kb_code  the same time scaled to 640 KiB of
 *                            PVM code (the blobs' code_len; stricter: the
 *                            blobs also hold data)
 *   jit_compile_real_ns_per_insn  the same time per PVM instruction
 *                            (A folder that cannot be read is reported on
 *                            stderr and these figures are left out.)
 *   jit_mips_alu / _mem / _branch   the loop programs of loop_programs.c on
 *                            the hosted JIT (instance creation, i.e. the
 *                            compile, not timed), M PVM instructions/s
 *   jit_mips                 = jit_mips_alu
 *   jit_vs_interp_alu / _mem / _branch   JIT MIPS / interpreter MIPS, both
 *                            measured here, best of three runs each
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile_time.h"
#include "loop_mips.h"
#include "loop_programs.h"
#include "nub_readfile.h"
#include "nub_service_blob.h"
#include "nubbench.h"
#include "pvm_alloc_libc.h"
#include "pvm_hosted.h"
#include "pvm_interp.h"
#include "pvm_program.h"
#include "pvm_stdprog.h"
#include "pvmasm.h"

/* Assembler text of a large program: groups of 12 instructions mixing ALU,
 * memory, division, shifts and a forward branch per group. */
static char *big_program_source(unsigned groups, unsigned *insns_out)
{
    static const char group[] = "b%u:\n"
                                "    add_64 a1, a1, a2\n"
                                "    load_ind_u64 a3, s0, 16\n"
                                "    xor a2, a2, a3\n"
                                "    shlo_l_64 t0, a1, a2\n"
                                "    div_u_64 t1, a1, a3\n"
                                "    store_ind_u32 t1, s0, 8\n"
                                "    add_imm_32 t2, t1, 77\n"
                                "    mul_64 a4, a4, t2\n"
                                "    set_lt_s a5, a4, a1\n"
                                "    cmov_nz a0, a5, t0\n"
                                "    rot_r_64_imm s1, a0, 9\n"
                                "    branch_eq_imm s1, 12345, b%u\n";
    size_t cap = (size_t)groups * (sizeof(group) + 24) + 64;
    char *text = malloc(cap);
    if (text == NULL)
        return NULL;
    size_t len = 0;
    for (unsigned g = 0; g < groups; g++)
        len += (size_t)snprintf(text + len, cap - len, group, g, g + 1);
    len += (size_t)snprintf(text + len, cap - len, "b%u:\n    trap\n", groups);
    *insns_out = groups * 12 + 1;
    return text;
}

static double compile_ns_per_insn(uint32_t isa, unsigned *insns_out)
{
    unsigned insns = 0;
    char *text = big_program_source(10000, &insns);
    if (text == NULL)
        return -1;
    struct pvmasm_output as;
    char err[200];
    double best = -1;
    int rc = pvmasm_assemble(text, strlen(text), &as, err, sizeof(err));
    free(text);
    if (rc != 0) {
        fprintf(stderr, "fig_jit: big program: %s\n", err);
        return -1;
    }
    struct pvm_allocator alloc = pvm_libc_allocator();
    struct pvm_program *prog = NULL;
    if (pvm_program_recode(as.blob, as.blob_len, NUB_ISA_GP_0_7_2, isa, as.blob, &alloc) !=
            PVM_OK ||
        pvm_program_decode_isa(as.blob, as.blob_len, isa, &alloc, &prog) != PVM_OK) {
        pvmasm_output_free(&as);
        return -1;
    }
    uint64_t ns = nubbench_best_compile_ns(prog, "fig_jit: big program");
    if (ns != 0)
        best = (double)ns / insns;
    pvm_program_destroy(prog);
    pvmasm_output_free(&as);
    *insns_out = insns;
    return best;
}

/* The jit_compile_real_* figures (see the top of the file). 0, or 1 after
 * a blob failed to load or compile. */
static int real_programs(void)
{
    const char *dir_path = getenv("NUBBENCH_PROGRAMS_DIR");
    if (dir_path == NULL)
        dir_path = NUB_REAL_PROGRAMS_DIR;
    DIR *dir = opendir(dir_path);
    if (dir == NULL) {
        fprintf(stderr,
                "fig_jit: %s: cannot open (set NUBBENCH_PROGRAMS_DIR); "
                "jit_compile_real_* left out\n",
                dir_path);
        return 0;
    }
    uint64_t ns = 0, blob_bytes = 0, code_bytes = 0, insns = 0;
    int failed = 0, count = 0;
    struct pvm_allocator alloc = pvm_libc_allocator();
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        size_t name_len = strlen(e->d_name);
        if (name_len < 4 || strcmp(e->d_name + name_len - 4, ".bin") != 0)
            continue;
        char path[4096], err[256];
        snprintf(path, sizeof path, "%s/%s", dir_path, e->d_name);
        size_t len = 0;
        uint8_t *bytes = nub_read_file(path, NUB_READFILE_DEFAULT_MAX, &len, err, sizeof err);
        const uint8_t *y;
        size_t y_len;
        struct pvm_stdprog sp;
        struct pvm_program *prog = NULL;
        if (bytes == NULL || !nub_service_program(bytes, len, &y, &y_len) ||
            pvm_stdprog_load(y, y_len, NULL, 0, &sp) != PVM_OK ||
            pvm_program_decode(sp.code_blob, sp.code_blob_len, &alloc, &prog) != PVM_OK) {
            fprintf(stderr, "fig_jit: %s: %s\n", path,
                    bytes == NULL ? err : "not a JAM service blob with a valid program");
            free(bytes);
            failed = 1;
            continue;
        }
        uint64_t t = nubbench_best_compile_ns(prog, path);
        if (t == 0)
            failed = 1;
        ns += t;
        blob_bytes += len;
        code_bytes += prog->code_len;
        insns += nubbench_count_insns(prog);
        count++;
        pvm_program_destroy(prog);
        free(bytes);
    }
    closedir(dir);
    if (failed || count == 0) {
        if (count == 0)
            fprintf(stderr, "fig_jit: %s: no .bin service blobs\n", dir_path);
        return failed;
    }
    double ms = (double)ns / 1e6;
    nubbench_emit("jit_compile_real_ms_per_640kb", ms * 655360.0 / (double)blob_bytes, "ms");
    nubbench_emit("jit_compile_real_ms_per_640kb_code", ms * 655360.0 / (double)code_bytes, "ms");
    nubbench_emit("jit_compile_real_ns_per_insn", (double)ns / (double)insns, "ns/PVM instruction");
    return 0;
}

int fig_jit(const struct nubbench_options *opt)
{
    uint64_t iterations = opt->quick ? 200000 : 10000000;
    static const struct {
        enum loop_kind kind;
        const char *name;
    } loops[] = {{LOOP_ALU, "alu"}, {LOOP_MEM, "mem"}, {LOOP_BRANCH, "branch"}};
    unsigned insns = 0;
    double compile = compile_ns_per_insn(NUB_ISA_GP_0_7_2, &insns);
    if (compile < 0 || insns < 100000)
        return 1;
    nubbench_emit("jit_compile_ns_per_insn", compile, "ns/PVM instruction");
    double compile_080 = compile_ns_per_insn(NUB_ISA_GP_0_8_0, &insns);
    if (compile_080 < 0)
        return 1;
    nubbench_emit("jit_compile_ns_per_insn_080", compile_080, "ns/PVM instruction");
    if (real_programs() != 0)
        return 1;
    double jit[3], interp[3];
    for (int i = 0; i < 3; i++) {
        jit[i] = loop_mips(&pvm_jit_engine, loops[i].kind, iterations * 10);
        interp[i] = loop_mips(&pvm_interp_engine, loops[i].kind, iterations);
        if (jit[i] < 0 || interp[i] < 0)
            return 1;
    }
    nubbench_emit("jit_mips", jit[0], "M PVM instructions/s");
    char name[64];
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof(name), "jit_mips_%s", loops[i].name);
        nubbench_emit(name, jit[i], "M PVM instructions/s");
    }
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof(name), "jit_vs_interp_%s", loops[i].name);
        nubbench_emit(name, jit[i] / interp[i], "x");
    }
    return 0;
}
