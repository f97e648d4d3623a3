/*
 * pvm_gas.h — what a block of PVM code costs, for every ISA version.
 *
 * The gas model is a property of the version (pvm_isa.h, gas_model):
 *  - PVM_GAS_PER_INSTRUCTION (GP 0.7.2): each instruction costs its table
 *    gas; entering at pc pays from pc to the end of the block.
 *  - PVM_GAS_PIPELINE (GP 0.8.0, SPEC-0.8.md §3): a block costs the cycles
 *    an idealised out-of-order pipeline needs to retire it, minus 3 (at least
 *    1); entering anywhere in a block pays the whole block.
 * Costs depend only on code bytes and bitmask, so engines compute them once
 * (interpreter: at create; JIT: at compile time) through this file only.
 *
 * Freestanding; allocates nothing.
 */
#ifndef NUB_PVM_GAS_H
#define NUB_PVM_GAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pvm_program.h"

/* One instruction as the pipeline model sees it (SPEC-0.8.md §3.1, §3.3). */
struct pvm_gas_item {
    uint16_t src, dst; /* register sets (bit r = register r) */
    uint8_t lat;       /* cycles until dependants may start */
    uint8_t dec;       /* decode slots */
    uint8_t units;     /* PVM_GAS_UNIT_* counts */
    bool is_move;      /* move_reg: renamed away, never enters the reorder buffer */
    bool ends_block;   /* a terminator (decoding stops after it) */
    uint8_t move_to, move_from;
};

/* Static data of the instruction `in` of program p. */
void pvm_gas_item_of(const struct pvm_program *p, const struct pvm_insn *in,
                     struct pvm_gas_item *out);
/* The implicit trap at pc = code_len. */
void pvm_gas_item_trap(struct pvm_gas_item *out);

/* Cycle-exact simulation of SPEC-0.8.md §3.2 over items[0..n) (the last one
 * ends the block); returns max(cycles - 3, 1). */
uint32_t pvm_gas_simulate(const struct pvm_gas_item *items, size_t n);

/* cost(start): the cost of the gas block that starts at `start` under the
 * program's gas model (for PVM_GAS_PER_INSTRUCTION: from start to the end
 * of the block). start <= code_len. */
uint32_t pvm_gas_block_cost(const struct pvm_program *p, uint32_t start);

/* The gas a run pays when it enters a gas block at pc with the block unpaid:
 * per instruction, the rest of the block from pc; pipeline, the whole block
 * containing pc (cost(L(pc))); at pc >= code_len the version's end cost. */
uint32_t pvm_gas_entry_cost(const struct pvm_program *p, uint32_t pc);

/* pvm_gas_entry_cost for every pc in 0..code_len, written as uint32_t at
 * base + pc * stride (base suitably aligned). Positions that are not
 * instruction starts get a value no run uses. */
void pvm_gas_fill_entry_costs(const struct pvm_program *p, void *base, size_t stride);

#endif /* NUB_PVM_GAS_H */
