/*
 * pvm_stdprog.h — the JAM standard program container (SPEC §11, the paper's Y).
 *
 * pvm_stdprog_load splits a container, checks it, and produces what every
 * engine needs to start: the §4 code blob (a pointer into the container:
 * decode it with pvm_program_decode), the memory segments of §11.3 (data
 * pointers into the container and into the argument bytes: both must stay
 * alive while the segments are used) and the initial registers of §11.4.
 * No allocation.
 */
#ifndef NUB_PVM_STDPROG_H
#define NUB_PVM_STDPROG_H

#include <stddef.h>
#include <stdint.h>

#include "pvm.h"

#define PVM_STDPROG_RO_BASE      0x10000u
#define PVM_STDPROG_STACK_TOP    0xFEFE0000u /* 2^32 - 2*ZZ - ZI */
#define PVM_STDPROG_ARGS_BASE    0xFEFF0000u /* 2^32 - ZZ - ZI */
#define PVM_STDPROG_MAX_SEGMENTS 4           /* ro, rw+heap, stack, args */

struct pvm_stdprog {
    const uint8_t *code_blob; /* the §4 blob inside the container */
    uint32_t code_blob_len;
    struct pvm_segment segments[PVM_STDPROG_MAX_SEGMENTS];
    uint32_t segment_count; /* empty regions are left out */
    uint64_t regs[PVM_NUM_REGS];
    uint32_t heap_start; /* start of the read-write zone (sbrk's h) */
    uint32_t heap_top;   /* end of rw data + heap pages: pvm_state.heap_top */
    uint32_t heap_limit; /* one zone below the stack: pvm_state.heap_limit */
    /* The container's header fields, for tools. */
    uint32_t ro_len, rw_len, heap_pages, stack_size;
};

/**
 * @param[in] bytes, len       the container
 * @param[in] args, args_len   argument data (may be NULL when args_len is 0)
 * @param[out] out             the layout
 * @retval PVM_OK, PVM_ERR_INVALID_ARGUMENT, PVM_ERR_STDPROG_TRUNCATED,
 *         PVM_ERR_STDPROG_TRAILING, PVM_ERR_STDPROG_TOO_LARGE,
 *         PVM_ERR_STDPROG_ARGS_TOO_LARGE
 */
int pvm_stdprog_load(const uint8_t *bytes, size_t len, const uint8_t *args, size_t args_len,
                     struct pvm_stdprog *out);

/* A pvm_state with the program's registers, the given pc and gas, and
 * heap_top set. */
void pvm_stdprog_initial_state(const struct pvm_stdprog *prog, uint32_t pc, int64_t gas,
                               struct pvm_state *out);

#endif /* NUB_PVM_STDPROG_H */
