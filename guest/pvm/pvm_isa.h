/*
 * pvm_isa.h — the PVM instruction-set versions (NUB_ISA_* of nub_abi.h).
 *
 * Everything that differs between Gray Paper v0.7.2 and v0.8.0 is a field of
 * one struct pvm_isa per version (pvm_isa.c), read by the shared code: which
 * code byte is which instruction, whether a blob is validated before it runs,
 * which gas model prices blocks (pvm_gas.h), whether a page fault keeps its
 * block paid, and the host-call ids. Engines never test the version itself.
 *
 * Freestanding.
 */
#ifndef NUB_PVM_ISA_H
#define NUB_PVM_ISA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nub_abi.h"
#include "pvm_opcodes.h"

enum pvm_gas_model {
    /* GP v0.7.2 (SPEC.md §7.2): each instruction costs its table gas; a block
     * entered at pc pays for the instructions from pc to its end. */
    PVM_GAS_PER_INSTRUCTION = 0,
    /* GP v0.8.0 (SPEC-0.8.md §3): a block costs what the modelled pipeline
     * needs to retire it; entering anywhere in it pays for the whole block. */
    PVM_GAS_PIPELINE = 1,
};

/* Host-call ids that the library itself serves or that tools name. */
struct pvm_host_call_ids {
    uint32_t gas;       /* `gas` */
    uint32_t grow_heap; /* UINT32_MAX: this version has no grow_heap */
    uint32_t fetch;     /* first of the ids that shifted between versions */
    uint32_t log;       /* JIP-1 `log` */
};

struct pvm_isa {
    uint32_t id;      /* NUB_ISA_* */
    const char *name; /* "0.7.2" */
    /* Code byte -> internal opcode (pvm_opcodes.h), or PVM_OPCODE_INVALID
     * for bytes outside this version's valid set U. */
    uint8_t opcode_of[256];
    /* Internal opcode -> code byte, or PVM_OPCODE_INVALID (for emitters). */
    uint8_t byte_of[256];
    uint8_t gas_model; /* enum pvm_gas_model */
    /* GP 0.8.0 §4: the whole blob and the entry pc are checked before a run
     * starts; failing either panics with nothing charged. GP 0.7.2 runs any
     * decodable blob (undefined opcodes trap when reached). */
    bool validate_before_run;
    /* GP 0.8.0 §2: a page fault leaves the block's gas-charged flag set, so
     * resuming at the faulting instruction charges nothing. GP 0.7.2 (the
     * vectors' rule): a resume starts a new gas block. */
    bool fault_keeps_block_paid;
    /* A block started at pc == code_len (after a terminator that is the last
     * instruction) costs this: 0.7.2 charges the implicit trap, 0.8.0 fails
     * the pc check first and charges nothing. */
    uint32_t end_block_cost;
    struct pvm_host_call_ids host_calls;
};

extern const struct pvm_isa pvm_isa_gp_0_7_2;
extern const struct pvm_isa pvm_isa_gp_0_8_0;

/* The version with id NUB_ISA_*, or NULL for an unknown id. */
const struct pvm_isa *pvm_isa_get(uint32_t id);

/* The version named "0.7.2" / "0.8.0" (name_len bytes), or NULL. */
const struct pvm_isa *pvm_isa_by_name(const char *name, size_t name_len);

#endif /* NUB_PVM_ISA_H */
