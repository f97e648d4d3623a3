/*
 * pvm.h — engine-neutral types of the PVM (SPEC.md, Gray Paper v0.7.2).
 *
 * Everything every PVM engine (reference interpreter, x86-64 JIT, the guest
 * kernel's runner) agrees on: machine constants, exit reasons, the machine
 * state, how memory is described before a run, the result of a run, error
 * codes of the decoders, the allocator callers pass in, and the shape of an
 * engine instance (struct pvm_engine, at the end of this file).
 *
 * Freestanding: only the compiler's own headers and project headers.
 */
#ifndef NUB_PVM_H
#define NUB_PVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nub_abi.h"

/* ---- Machine constants (SPEC §1, §2, §6.3, §11.2) ---------------------- */
#define PVM_NUM_REGS      13
#define PVM_PAGE_SIZE     4096u
#define PVM_PAGE_SHIFT    12
#define PVM_PAGE_COUNT    (1u << 20)  /* pages in the 32-bit address space */
#define PVM_LOW_GUARD_END 0x10000u    /* accesses below this panic (pages 0-15) */
#define PVM_HALT_ADDRESS  0xFFFF0000u /* dynamic jump here = halt */
#define PVM_JUMP_ALIGN    2u          /* ZA: dynamic jump address = 2 * (index + 1) */
#define PVM_MAX_SKIP      24u         /* skip() is capped at this */
#define PVM_ZONE_SIZE     0x10000u    /* ZZ */
#define PVM_INPUT_SIZE    0x1000000u  /* ZI: maximum argument data */

_Static_assert(PVM_NUM_REGS == NUB_PVM_REGS, "register count must match the ABI");

/* Register names of the toolchain convention (informative, SPEC §1). */
enum pvm_reg {
    PVM_REG_RA = 0, /* return address */
    PVM_REG_SP = 1, /* stack pointer */
    PVM_REG_T0 = 2,
    PVM_REG_T1 = 3,
    PVM_REG_T2 = 4,
    PVM_REG_S0 = 5,
    PVM_REG_S1 = 6,
    PVM_REG_A0 = 7, /* first argument / result */
    PVM_REG_A1 = 8,
    PVM_REG_A2 = 9,
    PVM_REG_A3 = 10,
    PVM_REG_A4 = 11,
    PVM_REG_A5 = 12,
};

/* ---- Exit reasons (numerically equal to NUB_EXIT_*) -------------------- */
enum pvm_exit_reason {
    PVM_EXIT_HALT = 0,       /* dynamic jump to PVM_HALT_ADDRESS */
    PVM_EXIT_PANIC = 1,      /* trap, bad jump, low-memory access, ... */
    PVM_EXIT_OUT_OF_GAS = 2, /* a gas block could not be paid */
    PVM_EXIT_PAGE_FAULT = 3, /* arg = page address of the lowest offending byte */
    PVM_EXIT_HOST_CALL = 4,  /* arg = host-call id (ecalli immediate, as u64) */
    /* The engine itself failed (not a PVM outcome): arg = a nub_status, e.g.
     * NUB_ERR_NOMEM when a page could not be allocated. */
    PVM_EXIT_ERROR = 0xFFFFFFFFu,
};
_Static_assert(PVM_EXIT_HALT == NUB_EXIT_HALT, "exit code");
_Static_assert(PVM_EXIT_PANIC == NUB_EXIT_PANIC, "exit code");
_Static_assert(PVM_EXIT_OUT_OF_GAS == NUB_EXIT_OUT_OF_GAS, "exit code");
_Static_assert(PVM_EXIT_PAGE_FAULT == NUB_EXIT_PAGE_FAULT, "exit code");
_Static_assert(PVM_EXIT_HOST_CALL == NUB_EXIT_HOST_CALL, "exit code");
_Static_assert(PVM_EXIT_ERROR == NUB_EXIT_ERROR, "exit code");

/* ---- Machine state ----------------------------------------------------- */
struct pvm_state {
    uint64_t regs[PVM_NUM_REGS];
    uint32_t pc; /* byte offset into the code */
    int64_t gas; /* signed: may be negative after out-of-gas (SPEC §7, D9) */
    /* sbrk's heap top (SPEC §9.9, project decision): sbrk(n) returns this,
     * then advances it by n and makes the pages it now covers writable
     * (zero-filled where they were inaccessible). 0 = no heap: sbrk returns 0
     * and changes nothing. The standard loader sets it to the end of the
     * read-write zone. */
    uint32_t heap_top;
    /* The break may grow up to here (the INSTANCE's heap_limit): an sbrk
     * whose new top would pass it returns 0 and changes nothing. 0 = no
     * limit of its own (the break stops at PVM_HALT_ADDRESS); every engine
     * applies pvm_heap_limit() to it. */
    uint32_t heap_limit;
    /* The gas-charged flag (GP 0.8.0 §2, ϱ̃): the gas block containing pc is
     * already paid, so the next run continues at pc without charging. Set by
     * engines after a host call (0.7.2 too) and, where the version says so,
     * after a page fault; cleared after out-of-gas. */
    bool gas_charged;
};

/* The highest break sbrk may reach: heap_limit, or the 4 GiB space without
 * its last zone when heap_limit is 0. */
static inline uint64_t pvm_heap_limit(uint32_t heap_limit)
{
    return heap_limit != 0 && heap_limit < PVM_HALT_ADDRESS ? heap_limit : PVM_HALT_ADDRESS;
}

/* Whether struct pvm_engine.grow_heap may move the break of state to
 * new_top: the program has a heap, and new_top is page-aligned, not below
 * the break and within pvm_heap_limit(). */
static inline bool pvm_heap_grow_valid(const struct pvm_state *state, uint32_t new_top)
{
    return state->heap_top != 0 && new_top % PVM_PAGE_SIZE == 0 && new_top >= state->heap_top &&
           new_top <= pvm_heap_limit(state->heap_limit);
}

/* ---- Memory description ------------------------------------------------ */
enum pvm_access {
    PVM_ACCESS_NONE = 0,
    PVM_ACCESS_READ = 1,  /* read-only */
    PVM_ACCESS_WRITE = 2, /* read-write (writable implies readable) */
};

/*
 * One contiguous run of accessible pages, the way every engine is told how to
 * set up memory before a run. address and length are multiples of
 * PVM_PAGE_SIZE; address + length <= 2^32 (computed in 64 bits); no page below
 * PVM_LOW_GUARD_END; segments must not overlap. The first data_len bytes
 * (data_len <= length) are copied from data, the rest of the segment is zero.
 * data is only read while the instance is created.
 */
struct pvm_segment {
    uint32_t address;
    uint32_t length;
    uint32_t access; /* enum pvm_access */
    const uint8_t *data;
    uint32_t data_len;
};

/* ---- The result of a run ----------------------------------------------- */
struct pvm_exit {
    uint32_t reason; /* enum pvm_exit_reason */
    uint32_t pc;     /* pc of the instruction that ended the run (SPEC §12 D1) */
    uint64_t arg;    /* page-fault: fault page address; host-call: id; error: nub_status */
};

/* ---- Decoder / loader errors ------------------------------------------- */
enum pvm_error {
    PVM_OK = 0,
    PVM_ERR_INVALID_ARGUMENT = 1, /* NULL pointer or out-of-range argument */
    PVM_ERR_NOMEM = 2,            /* the allocator returned NULL */
    /* program blob (SPEC §4) */
    PVM_ERR_BLOB_TRUNCATED = 10,       /* shorter than its declared sizes */
    PVM_ERR_BLOB_TRAILING = 11,        /* bytes after the bitmask */
    PVM_ERR_BLOB_VARINT = 12,          /* non-canonical varint */
    PVM_ERR_BLOB_CODE_TOO_LARGE = 13,  /* code length >= 2^32 (pc is 32-bit) */
    PVM_ERR_BLOB_JUMP_TABLE_SIZE = 14, /* J * z does not fit the blob */
    PVM_ERR_BLOB_BITMASK_PADDING = 15, /* unused high bits of the last bitmask byte set */
    /* standard program container (SPEC §11) */
    PVM_ERR_STDPROG_TRUNCATED = 20,      /* shorter than its declared sizes */
    PVM_ERR_STDPROG_TRAILING = 21,       /* bytes after the code blob */
    PVM_ERR_STDPROG_TOO_LARGE = 22,      /* the layout does not fit in 2^32 */
    PVM_ERR_STDPROG_ARGS_TOO_LARGE = 23, /* argument data longer than ZI */
    /* segments given to an engine */
    PVM_ERR_SEGMENT_UNALIGNED = 30, /* address or length not page-aligned */
    PVM_ERR_SEGMENT_RANGE = 31,     /* past 2^32, below 0x10000, or data_len > length */
    PVM_ERR_SEGMENT_OVERLAP = 32,   /* two segments share a page */
    PVM_ERR_SEGMENT_ACCESS = 33,    /* access not one of enum pvm_access */
    /* ISA versions */
    PVM_ERR_ISA_NO_EQUIVALENT = 40, /* an instruction the target version lacks (sbrk in 0.8.0) */
};

/* A static, never-NULL name for an error ("unknown error" for others). */
const char *pvm_error_name(int error);

/* ---- Allocator --------------------------------------------------------- */
/*
 * Freestanding code cannot call malloc: every function that allocates takes
 * one of these. alloc returns memory aligned for any object type (like
 * malloc), or NULL. free(ctx, NULL) must be harmless. On a hosted build,
 * pvm_libc_allocator() (pvm_alloc_libc.h) wraps malloc/free.
 */
struct pvm_allocator {
    void *(*alloc)(void *ctx, size_t size);
    void (*free)(void *ctx, void *ptr);
    void *ctx;
};

/* ---- The engine-neutral instance API ----------------------------------- */
struct pvm_program; /* pvm_program.h: a decoded blob */

/*
 * Every engine exposes one const struct pvm_engine (e.g. pvm_interp_engine in
 * pvm_interp.h; the JIT provides its own). An instance = one program + its
 * memory + its state. Usage:
 *
 *   void *inst;
 *   int err = engine->create(prog, segs, n, &initial, &alloc, &inst);
 *   struct pvm_exit e;
 *   for (;;) {
 *       engine->run(inst, &e);
 *       if (e.reason != PVM_EXIT_HOST_CALL) break;
 *       engine->get_state(inst, &s);  ... serve host call e.arg: change
 *       s.regs / s.gas / memory ...   engine->set_state(inst, &s);
 *   }
 *
 * Run semantics (all engines must agree exactly with the interpreter):
 *  - the program's ISA version (program->isa, pvm_isa.h) decides opcodes,
 *    validation and the gas model; engines read its fields, never its id.
 *  - a version with validate_before_run panics at once, with nothing
 *    charged and pc unchanged, if the blob or the start pc is invalid.
 *  - run starts at state.pc. If state.gas_charged it continues there without
 *    charging; otherwise it pays the gas block it enters (pvm_gas.h). After a
 *    page fault the flag is the version's fault_keeps_block_paid: GP 0.7.2
 *    re-executes the faulting instruction as a fresh block, GP 0.8.0 does
 *    not charge again.
 *  - after a PVM_EXIT_HOST_CALL exit, state.pc is the pc of the ecalli; the
 *    next run resumes at the instruction after the ecalli WITHOUT starting a
 *    new gas block. set_state in between keeps that pending resume unless it
 *    changes pc (then the next run starts a fresh block at the new pc, and
 *    gas_charged is cleared; only create's initial state may start a run
 *    with its block already paid).
 *  - halt and panic are final: running again returns the same exit.
 *  - out-of-gas: state unchanged (pc = the block start, gas not charged).
 *
 * create: program must outlive the instance (engines may keep pointers into
 *   it); segments are copied. Returns PVM_OK or an enum pvm_error.
 * destroy: frees everything create allocated; NULL is harmless.
 * read_memory / write_memory: copy bytes out of / into the instance's memory
 *   at address (wrapping modulo 2^32), ignoring read-only protection but
 *   requiring every byte to be accessible. Return PVM_OK, or
 *   PVM_ERR_INVALID_ARGUMENT if any byte is inaccessible (then nothing is
 *   copied), or PVM_ERR_NOMEM.
 * page_access: the enum pvm_access of the page containing address.
 * grow_heap: moves the break (state.heap_top) up to new_top, which must be
 *   page-aligned, above the break and at most pvm_heap_limit(heap_limit);
 *   the pages below new_top become writable as sbrk makes them (zero where
 *   they were inaccessible). For GP 0.8.0's grow_heap host call (served by
 *   the host library): valid between runs and from a host handler inside a
 *   run. PVM_OK, PVM_ERR_INVALID_ARGUMENT (no heap, or new_top out of
 *   range: nothing changed) or PVM_ERR_NOMEM.
 */
struct pvm_engine {
    const char *name;
    int (*create)(const struct pvm_program *program, const struct pvm_segment *segments,
                  size_t segment_count, const struct pvm_state *initial,
                  const struct pvm_allocator *allocator, void **instance_out);
    void (*destroy)(void *instance);
    void (*run)(void *instance, struct pvm_exit *exit_out);
    void (*get_state)(const void *instance, struct pvm_state *state_out);
    void (*set_state)(void *instance, const struct pvm_state *state);
    int (*read_memory)(const void *instance, uint32_t address, void *buffer, uint32_t length);
    int (*write_memory)(void *instance, uint32_t address, const void *buffer, uint32_t length);
    uint32_t (*page_access)(const void *instance, uint32_t address);
    int (*grow_heap)(void *instance, uint32_t new_top);
};

/* Checks a segment list against the rules of struct pvm_segment. */
int pvm_segments_validate(const struct pvm_segment *segments, size_t count);

#endif /* NUB_PVM_H */
