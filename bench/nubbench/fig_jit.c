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
 *   jit_mips_alu / _mem / _branch   the loop programs of loop_programs.c on
 *                            the hosted JIT (instance creation, i.e. the
 *                            compile, not timed), M PVM instructions/s
 *   jit_mips                 = jit_mips_alu
 *   jit_vs_interp_alu / _mem / _branch   JIT MIPS / interpreter MIPS, both
 *                            measured here, best of three runs each
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "jit.h"
#include "loop_mips.h"
#include "loop_programs.h"
#include "nubbench.h"
#include "pvm_alloc_libc.h"
#include "pvm_hosted.h"
#include "pvm_interp.h"
#include "pvm_program.h"
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
    size_t size = jit_code_size_bound(prog);
    uint8_t *buf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf != MAP_FAILED) {
        struct jit_options opt = {.platform = JIT_PLATFORM_HOSTED};
        memset(buf, 0xCC, size); /* fault the pages in before timing */
        for (int rep = 0; rep < 5; rep++) {
            struct jit_code code;
            uint64_t t0 = nubbench_now_ns();
            int r = jit_compile(prog, &opt, &alloc, buf, size, &code, NULL);
            uint64_t t1 = nubbench_now_ns();
            if (r != PVM_OK) {
                fprintf(stderr, "fig_jit: compile failed: %s\n", jit_error_name(r));
                best = -1;
                break;
            }
            jit_code_release(&code);
            double ns = (double)(t1 - t0) / insns;
            if (best < 0 || ns < best)
                best = ns;
        }
        munmap(buf, size);
    }
    pvm_program_destroy(prog);
    pvmasm_output_free(&as);
    *insns_out = insns;
    return best;
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
