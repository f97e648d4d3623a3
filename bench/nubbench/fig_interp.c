/*
 * fig_interp.c — reference interpreter speed, in millions of PVM
 * instructions per second, on the loop programs of loop_programs.c:
 *
 *   interp_mips_alu     ALU-heavy loop (the headline figure; goal >= 100)
 *   interp_mips_mem     loads/stores over a 64 KiB buffer
 *   interp_mips_branch  short blocks, a taken/not-taken branch mix
 *   interp_mips         = interp_mips_alu
 *
 * Measured by loop_mips() (see loop_mips.h): instructions executed are read
 * off the gas used (every instruction costs 1), checked against the loop's
 * instruction count. Instance creation is not timed; each figure is the best
 * of three runs.
 */
#include "loop_mips.h"
#include "nubbench.h"
#include "pvm_interp.h"

int fig_interp(const struct nubbench_options *opt)
{
    uint64_t iterations = opt->quick ? 200000 : 10000000;
    double alu = loop_mips(&pvm_interp_engine, LOOP_ALU, iterations);
    double mem = loop_mips(&pvm_interp_engine, LOOP_MEM, iterations);
    double branch = loop_mips(&pvm_interp_engine, LOOP_BRANCH, iterations);
    if (alu < 0 || mem < 0 || branch < 0)
        return 1;
    nubbench_emit("interp_mips", alu, "M PVM instructions/s");
    nubbench_emit("interp_mips_alu", alu, "M PVM instructions/s");
    nubbench_emit("interp_mips_mem", mem, "M PVM instructions/s");
    nubbench_emit("interp_mips_branch", branch, "M PVM instructions/s");
    return 0;
}
