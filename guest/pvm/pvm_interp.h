/*
 * pvm_interp.h — the reference interpreter: the PVM oracle.
 *
 * Implements the engine-neutral instance API of pvm.h (struct pvm_engine)
 * for every instruction of SPEC §9 and both ISA versions (the program's
 * struct pvm_isa: opcodes, validation, gas model), with gas charged per basic
 * block on entry (SPEC §7.2; SPEC-0.8.md §2 for GP 0.8.0) and all five exits.
 *
 * At create the program is pre-decoded once into one entry per code byte
 * (non-instruction bytes become traps), with static branch targets already
 * checked against the block-start set and the gas a run pays entering a
 * block at each position (pvm_gas.h). run() then dispatches with a switch; it allocates only
 * when a store touches a zero page for the first time or sbrk maps pages.
 *
 * Freestanding: memory comes from the caller's struct pvm_allocator.
 */
#ifndef NUB_PVM_INTERP_H
#define NUB_PVM_INTERP_H

#include "pvm.h"
#include "pvm_program.h"

struct pvm_interp;

/**
 * Creates an interpreter instance.
 * @param[in] program   decoded program; must outlive the instance
 * @param[in] segments  accessible memory (checked with pvm_segments_validate)
 * @param[in] initial   registers, pc, gas, heap top
 * @param[in] allocator used for every allocation of the instance
 * @param[out] out      the new instance
 * @retval PVM_OK, PVM_ERR_INVALID_ARGUMENT, PVM_ERR_NOMEM or PVM_ERR_SEGMENT_*
 */
int pvm_interp_create(const struct pvm_program *program, const struct pvm_segment *segments,
                      size_t segment_count, const struct pvm_state *initial,
                      const struct pvm_allocator *allocator, struct pvm_interp **out);
void pvm_interp_destroy(struct pvm_interp *interp);

/* Runs until the next exit (see struct pvm_engine in pvm.h for the rules). */
void pvm_interp_run(struct pvm_interp *interp, struct pvm_exit *exit_out);

void pvm_interp_get_state(const struct pvm_interp *interp, struct pvm_state *state_out);
void pvm_interp_set_state(struct pvm_interp *interp, const struct pvm_state *state);
int pvm_interp_read_memory(const struct pvm_interp *interp, uint32_t address, void *buffer,
                           uint32_t length);
int pvm_interp_write_memory(struct pvm_interp *interp, uint32_t address, const void *buffer,
                            uint32_t length);
uint32_t pvm_interp_page_access(const struct pvm_interp *interp, uint32_t address);

/* Changes page access (e.g. to fix a page fault before running again).
 * Pages below PVM_LOW_GUARD_END are refused (PVM_ERR_SEGMENT_RANGE). */
int pvm_interp_set_access(struct pvm_interp *interp, uint32_t address, uint32_t length,
                          uint32_t access);

/* Moves the break up (struct pvm_engine.grow_heap). */
int pvm_interp_grow_heap(struct pvm_interp *interp, uint32_t new_top);

/* The gas this instance charges when a run enters a gas block at pc
 * (pc <= code_len), from the table built at create. */
uint32_t pvm_interp_entry_cost(const struct pvm_interp *interp, uint32_t pc);

/* The interpreter behind the engine-neutral vtable. */
extern const struct pvm_engine pvm_interp_engine;

#endif /* NUB_PVM_INTERP_H */
