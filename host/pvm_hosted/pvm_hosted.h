/*
 * pvm_hosted.h — the hosted JIT backend: runs JIT-compiled PVM code in this
 * Linux process.
 *
 * Each instance owns one reservation of JIT_CTX page + 4 GiB window +
 * JIT_WINDOW_GUARD (mmap PROT_NONE, MAP_NORESERVE); accessible PVM pages are
 * mprotect'ed PROT_READ or PROT_READ|PROT_WRITE, so the hardware checks every
 * access. The code buffer is mmap'ed RW, compiled into, then flipped to RX.
 *
 * Faults: a process-wide SIGSEGV/SIGBUS/SIGFPE handler (installed at create
 * and re-installed before a run if other code replaced it) turns a fault inside the code of the
 * instance that this thread is running into a PVM exit; every other signal goes to the handler that
 * was installed before ours (or the default action), never swallowed. The running instance is found
 * through a thread-local pointer set for the duration of the native call: that pointer and the
 * saved previous handlers are the backend's only global state.
 *
 * Under ASan, run with ASAN_OPTIONS=allow_user_segv_handler=1 (and
 * handle_segv=0:handle_sigbus=0:handle_sigfpe=0) so ASan lets us own them.
 */
#ifndef NUB_PVM_HOSTED_H
#define NUB_PVM_HOSTED_H

#include <stddef.h>
#include <stdint.h>

#include "pvm.h"
#include "pvm_program.h"

struct pvm_hosted;

/**
 * Compiles program and creates an instance with its memory and state.
 * @param[in] program   decoded program; must outlive the instance
 * @param[in] segments  accessible memory (pvm_segments_validate rules)
 * @param[in] initial   registers, pc, gas, heap top
 * @param[in] allocator for the instance's bookkeeping and JIT tables
 * @param[out] out      the new instance
 * @retval PVM_OK, PVM_ERR_* (arguments, segments, memory), or a JIT_ERR_* of jit.h
 */
int pvm_hosted_create(const struct pvm_program *program, const struct pvm_segment *segments,
                      size_t segment_count, const struct pvm_state *initial,
                      const struct pvm_allocator *allocator, struct pvm_hosted **out);
void pvm_hosted_destroy(struct pvm_hosted *h);
void pvm_hosted_run(struct pvm_hosted *h, struct pvm_exit *exit_out);
void pvm_hosted_get_state(const struct pvm_hosted *h, struct pvm_state *state_out);
void pvm_hosted_set_state(struct pvm_hosted *h, const struct pvm_state *state);
int pvm_hosted_read_memory(const struct pvm_hosted *h, uint32_t address, void *buffer,
                           uint32_t length);
int pvm_hosted_write_memory(struct pvm_hosted *h, uint32_t address, const void *buffer,
                            uint32_t length);
uint32_t pvm_hosted_page_access(const struct pvm_hosted *h, uint32_t address);
/* Same contract as pvm_interp_set_access (pages below 0x10000 refused). */
int pvm_hosted_set_access(struct pvm_hosted *h, uint32_t address, uint32_t length, uint32_t access);
/* Moves the break up (struct pvm_engine.grow_heap); callable from a host
 * handler inside a run. */
int pvm_hosted_grow_heap(struct pvm_hosted *h, uint32_t new_top);
/*
 * A host-call handler that runs inside the native code at each ecalli, on
 * the run's stack: no exit from the run (hostcall_jit_ns). regs and *gas are
 * the live ones (read and change them); id is the host-call id and pc the
 * ecalli's. Return PVM_HOSTED_HOST_CONTINUE to continue after the ecalli,
 * or a PVM exit reason to end the run there (PVM_EXIT_ERROR with *error_arg
 * a nub_status).
 * pvm_hosted_read_memory / write_memory / page_access / grow_heap may be
 * called from it.
 * NULL: an ecalli ends the run with PVM_EXIT_HOST_CALL (the default).
 */
#define PVM_HOSTED_HOST_CONTINUE 0x101u /* = JIT_EXIT_HOST_RESUME */
typedef uint32_t (*pvm_hosted_host_handler)(void *data, uint64_t id, uint32_t pc, uint64_t *regs,
                                            int64_t *gas, uint64_t *error_arg);
void pvm_hosted_set_host_handler(struct pvm_hosted *h, pvm_hosted_host_handler fn, void *data);
/* Bytes of machine code generated for the instance's program. */
size_t pvm_hosted_code_size(const struct pvm_hosted *h);
/* The gas the compiled code charges on entering the block at pc (a block
 * start, or 0), read from the code itself (jit_block_charge). */
bool pvm_hosted_block_charge(const struct pvm_hosted *h, uint32_t pc, uint32_t *cost_out);

/* The hosted JIT behind the engine-neutral vtable (name "jit"). */
extern const struct pvm_engine pvm_jit_engine;

#endif /* NUB_PVM_HOSTED_H */
