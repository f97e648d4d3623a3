/*
 * hostcall.h — private: the host-call handle every engine fills, and the ONE
 * place an `ecalli` is dispatched (nub__host_call_dispatch).
 *
 * An engine stopped at an ecalli copies the registers, gas, id and pc into a
 * struct nub_host_call with memory operations of its own, calls
 * nub__host_call_dispatch, and writes registers and gas back. Sandbox
 * (host/sandbox_hostcall.c), in-process JIT and interpreter (host/local/) do
 * exactly this, so a host function sees the same thing on every engine.
 */
#ifndef NUB_HOST_HOSTCALL_H
#define NUB_HOST_HOSTCALL_H

#include <stdint.h>

#include "nub/host.h"

/* PVM memory of the stopped run, as the engine reaches it. read and write
 * check the page rules (every byte accessible; for write, writable) before
 * copying anything and return NUB_OK, NUB_ERR_MEMORY_INACCESSIBLE or
 * NUB_ERR_MEMORY_READ_ONLY (or an engine failure such as NUB_ERR_NOMEM).
 *
 * The heap operations serve the library's own grow_heap (grow_heap.c); a
 * host function has no access to them. The heap is the run's break (the
 * pvm_state.heap_top sbrk moves under GP 0.7.2): pages below it, from the
 * program's initial break up, are read-write. */
struct nub_host_call_memory {
    nub_status (*read)(void *self, uint32_t address, void *dst, uint32_t len);
    nub_status (*write)(void *self, uint32_t address, const void *src, uint32_t len);
    /* The break now (*top, 0 = the program has no heap) and the highest it
     * may reach (*limit, pvm_heap_limit() applied; >= *top when *top != 0). */
    void (*heap)(void *self, uint32_t *top, uint32_t *limit);
    /* Moves the break up to new_top (top < new_top <= limit, page-aligned):
     * the pages in between become read-write, reading as zero where they
     * were inaccessible. NUB_OK or an engine failure (NUB_ERR_NOMEM,
     * NUB_ERR_HEAP_EXHAUSTED); on failure the break has not moved. */
    nub_status (*grow_heap)(void *self, uint32_t new_top);
};

struct nub_host_call {
    uint64_t id;
    uint32_t isa; /* NUB_ISA_* of the running program: which builtins apply */
    uint32_t pc;
    int live; /* 1 while the host function runs; handles are refused after */
    uint64_t regs[NUB_PVM_REGS];
    int64_t gas;
    const struct nub_host_call_memory *memory;
    void *memory_self;
};

/*
 * Runs the host call: first the host calls the library serves itself
 * (builtin_host_calls in hostcall.c, a table by ISA version: GP 0.8.0's
 * grow_heap, id 1, goes there), else the embedder's function. A call with
 * no host function is not dispatched (the engine ends the run with
 * NUB_EXIT_HOST_CALL instead).
 * @retval NUB_OK and *action a valid enum nub_host_action
 * @retval NUB_ERR_HOST_ACTION the function returned something else
 * @retval an engine failure of a builtin (NUB_ERR_NOMEM, ...)
 */
nub_status nub__host_call_dispatch(const struct nub_host *host, struct nub_host_call *call,
                                   enum nub_host_action *action);

/* GP 0.8.0's grow_heap (SPEC-0.8.md §5.2), served on the handle's heap
 * operations (grow_heap.c): *action NUB_HOST_CONTINUE or NUB_HOST_OUT_OF_GAS.
 * @retval NUB_OK, or the engine's failure to map pages (the run ends and
 *         the call fails with it, as for any engine failure) */
nub_status nub__grow_heap(struct nub_host_call *call, enum nub_host_action *action);

/* The PVM exit reason an action other than NUB_HOST_CONTINUE ends the run with. */
uint32_t nub__host_action_exit(enum nub_host_action action);

#endif /* NUB_HOST_HOSTCALL_H */
