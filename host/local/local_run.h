/*
 * local_run.h — private: running a pvm.h engine instance in this process
 * with host functions and per-call data. Used by nub_local_invoke and by
 * nubrun's in-process engines, so both serve host calls the same way.
 */
#ifndef NUB_LOCAL_RUN_H
#define NUB_LOCAL_RUN_H

#include <stddef.h>

#include "hostcall.h"
#include "pvm.h"

/*
 * Runs inst until an exit that ends the run. Each ecalli goes to
 * nub__host_call_dispatch when host->fn is set (else it ends the run as
 * PVM_EXIT_HOST_CALL); isa (NUB_ISA_*, the program's) picks the host calls
 * the library serves itself. handle is the storage of the host-call handle
 * (it outlives the call, so a stale handle is refused, not a dangling
 * pointer). *host_calls counts the host calls served.
 * @retval NUB_OK (*exit_out filled), NUB_ERR_HOST_ACTION or an engine
 *         failure of a builtin host call (run ended)
 */
nub_status nub__local_run(const struct pvm_engine *engine, void *inst, uint32_t isa,
                          const struct nub_host *host, struct nub_host_call *handle,
                          uint64_t *host_calls, struct pvm_exit *exit_out);

/*
 * Segments of a run with per-call input: the program's segments minus any
 * in the argument zone [NUB_STDPROG_ARGS_BASE, + NUB_STDPROG_MAX_ARGS), plus
 * one read-only segment holding input (whole pages). out has room for
 * count + 1 entries. Returns the number written.
 */
size_t nub__local_input_segments(const struct pvm_segment *segs, size_t count, const void *input,
                                 uint32_t input_len, struct pvm_segment *out);

/* Copies [phi7, phi7 + phi8) of a halted run into call->output (see struct nub_call). */
void nub__local_output(const struct pvm_engine *engine, const void *inst,
                       const struct pvm_state *final, struct nub_call *call);

#endif /* NUB_LOCAL_RUN_H */
