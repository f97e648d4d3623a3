/* insn_imm.S — the INSN_CASES_IMM test programs (see insn_cases.h). */
#include "insn_cases.h"

#define CASE(k, name, ...)                                                                         \
    .globl t_##name; t_##name: __VA_ARGS__; ret;                                                   \
    .globl __nub_export_##k; .set __nub_export_##k, t_##name;

    .text
INSN_CASES_IMM(CASE)
