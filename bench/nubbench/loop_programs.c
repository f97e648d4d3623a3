/*
 * loop_programs.c — the benchmark loops as PVM assembler text.
 */
#include "loop_programs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pvmasm.h"

/* ALU-heavy: 10 register ALU instructions + the loop counter and branch
 * (12 instructions per iteration, one basic block). Mixes 64- and 32-bit
 * adds, xor/or/and, shifts, a multiply and a rotate, with a loop-carried
 * dependency chain so nothing can be skipped. */
static const char alu_source[] = "    load_imm a1, 1\n"
                                 "    load_imm a2, 3\n"
                                 "    load_imm a3, 5\n"
                                 "    fallthrough\n"
                                 "loop:\n"
                                 "    add_64 a1, a1, a2\n"
                                 "    xor a2, a2, a1\n"
                                 "    add_imm_64 a3, a3, 7\n"
                                 "    mul_64 a4, a1, a3\n"
                                 "    shlo_r_imm_64 a5, a4, 13\n"
                                 "    or a2, a2, a5\n"
                                 "    add_32 a4, a4, a3\n"
                                 "    and_imm a5, a1, 0xFFFF\n"
                                 "    sub_64 a1, a1, a5\n"
                                 "    rot_r_64_imm a3, a3, 3\n"
                                 "    add_imm_64 a0, a0, -1\n"
                                 "    branch_ne_imm a0, 0, loop\n"
                                 "    jump_ind ra, 0\n";

/* Memory-heavy: per iteration two 64-bit loads, two stores, one byte load
 * over a 64 KiB read-write buffer at 0x20000, with the address advancing by
 * 8 modulo 64 KiB (12 instructions, 5 of them memory accesses). */
static const char mem_source[] = "    load_imm s0, 0x20000\n"
                                 "    load_imm t0, 0\n"
                                 "    fallthrough\n"
                                 "loop:\n"
                                 "    add_64 t1, s0, t0\n"
                                 "    load_ind_u64 a1, t1, 0\n"
                                 "    load_ind_u64 a2, t1, 8\n"
                                 "    add_64 a1, a1, a2\n"
                                 "    store_ind_u64 a1, t1, 16\n"
                                 "    load_ind_u8 a3, t1, 3\n"
                                 "    store_ind_u32 a3, t1, 24\n"
                                 "    add_imm_64 t0, t0, 8\n"
                                 "    and_imm t0, t0, 0xFFC0\n"
                                 "    add_imm_64 t0, t0, 40\n"
                                 "    add_imm_64 a0, a0, -1\n"
                                 "    branch_ne_imm a0, 0, loop\n"
                                 "    jump_ind ra, 0\n";

/* Branch-heavy: 4 basic blocks of 1-2 instructions per iteration (7
 * instructions, 5 of them jumps or conditional branches); the first branch
 * is taken on every other iteration (the counter's low bit), so the
 * dispatch cannot settle into one pattern. */
static const char branch_source[] = "    load_imm a1, 0\n"
                                    "    fallthrough\n"
                                    "loop:\n"
                                    "    and_imm t0, a0, 1\n"
                                    "    branch_eq_imm t0, 0, even\n"
                                    "    add_imm_64 a1, a1, 3\n"
                                    "    jump join\n"
                                    "even:\n"
                                    "    add_imm_64 a1, a1, 5\n"
                                    "    jump join\n"
                                    "join:\n"
                                    "    branch_lt_u_imm a1, 0, never\n"
                                    "    add_imm_64 a0, a0, -1\n"
                                    "    branch_ne_imm a0, 0, loop\n"
                                    "    jump_ind ra, 0\n"
                                    "never:\n"
                                    "    trap\n";

int loop_program_build(enum loop_kind kind, struct loop_program *out)
{
    memset(out, 0, sizeof(*out));
    const char *src = NULL;
    switch (kind) {
    case LOOP_ALU:
        src = alu_source;
        out->name = "alu";
        out->insns_per_iteration = 12;
        break;
    case LOOP_MEM:
        src = mem_source;
        out->name = "mem";
        out->insns_per_iteration = 12;
        out->segment =
            (struct pvm_segment){.address = 0x20000, .length = 0x10000, .access = PVM_ACCESS_WRITE};
        break;
    case LOOP_BRANCH:
        src = branch_source;
        out->name = "branch";
        /* odd counter: and, branch, add, jump, branch, add, branch = 7;
         * even: and, branch(taken), add, jump, branch, add, branch = 7 */
        out->insns_per_iteration = 7;
        break;
    }
    struct pvmasm_output asm_out;
    char err[256];
    if (pvmasm_assemble(src, strlen(src), &asm_out, err, sizeof(err)) != 0) {
        fprintf(stderr, "loop program %s: %s\n", out->name, err);
        return -1;
    }
    out->blob = malloc(asm_out.blob_len);
    if (out->blob == NULL) {
        pvmasm_output_free(&asm_out);
        return -1;
    }
    memcpy(out->blob, asm_out.blob, asm_out.blob_len);
    out->blob_len = asm_out.blob_len;
    pvmasm_output_free(&asm_out);
    return 0;
}

void loop_program_free(struct loop_program *p)
{
    free(p->blob);
    memset(p, 0, sizeof(*p));
}

void loop_program_initial_state(uint64_t iterations, int64_t gas, struct pvm_state *out)
{
    memset(out, 0, sizeof(*out));
    out->regs[PVM_REG_RA] = PVM_HALT_ADDRESS;
    out->regs[PVM_REG_A0] = iterations;
    out->gas = gas;
}
