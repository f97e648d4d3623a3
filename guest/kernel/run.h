/*
 * run.h — one PVM run of INVOKE_CACHED, shared by its parts:
 *   run_space.c  the run's ring-3 address space (kept between calls)
 *   run_trap.c   entering ring 3, and the traps that come back (exit, faults)
 *   invoke.c     the RPC: request, registers and gas, input/output, reply
 */
#ifndef NUB_KERNEL_RUN_H
#define NUB_KERNEL_RUN_H

#include "directory.h"
#include "jit_cache.h"
#include "ring3.h"
#include "uspace.h"

struct cached_space;

struct run {
    struct cached_space *cached;
    struct nub_uspace *space_ptr;
    struct jit_ctx *ctx; /* kernel alias of the context block */
    uint64_t code_va;    /* where the space maps the code (nub_uspace_code_va) */
    struct nub_jit_entry *jit;
    struct nub_ring3_return ret;
    uint32_t heap_base;     /* the instance's initial break (0: no heap) */
    uint32_t heap_declared; /* the break up to which the tables declare the heap */
    uint32_t refill;        /* pages the next refill of the pool asks for */
    int out_of_pages;       /* the pool could not be refilled: the run failed */
};

#define POOL_RESERVE_PAGES 64u   /* free pool pages before entering a run */
#define POOL_REFILL_MAX    4096u /* 16 MiB: the largest single refill */

/* PVM address -> the run's virtual address. */
static inline uint64_t nub_run_window_va(uint32_t address)
{
    return NUB_USPACE_WINDOW_VA + address;
}

/* Per-call input of a run: NULL = none (the published argument segment, if
 * any, stays); else the argument area holds input_len bytes. */
struct run_input {
    const uint8_t *bytes;
    uint32_t len;
};

/* ---- run_space.c ---- */
/* The instance's space, kept or freshly built, ready for a call (published
 * memory restored, input placed). */
nub_status nub_run_acquire_space(struct run *r, const struct nub_cap_entry *inst,
                                 const struct run_input *input);
/* After a call: undo what it backed or changed (the page pool's undo log);
 * keep the space unless the call failed. */
void nub_run_release_space(struct run *r, nub_status s);

/* ---- run_trap.c ---- */
/* The platform side of jit_run for a guest run. */
void nub_run_platform(struct run *r, struct jit_runner *out);

#endif /* NUB_KERNEL_RUN_H */
