/*
 * nub/local.h — the in-process engines behind the same calls as the
 * sandbox: the x86-64 JIT (hosted in this process) and the reference
 * interpreter. Link `nublocal` (it brings libnubhost for the host-call
 * handle of nub/host.h).
 *
 * A nub_local holds one program with its published memory and endpoints,
 * like a published INSTANCE: every nub_local_invoke starts from that memory,
 * with the same packet, per-call data (struct nub_call) and result as
 * nub_invoke_call, and host functions see the same handle. Nothing runs in
 * a VM: a program's fault is still contained (the JIT maps faults to PVM
 * exits), but the program's code runs in this process.
 *
 * Threading: one thread at a time per nub_local; any number may exist.
 */
#ifndef NUB_LOCAL_H
#define NUB_LOCAL_H

#include "nub/host.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nub_local nub_local;

enum nub_local_engine {
    NUB_LOCAL_INTERP = 1, /* the reference interpreter */
    NUB_LOCAL_JIT = 2,    /* the x86-64 JIT in this process */
};

/**
 * A JAM standard program (SPEC §11) with its argument data, as
 * nub_publish_stdprog publishes it (endpoint 0 at pc 0, endpoint 1 at pc 5).
 * The bytes are copied.
 * @retval NUB_ERR_PROGRAM_INVALID the container is malformed
 */
nub_status nub_local_create_stdprog(enum nub_local_engine engine, const void *program,
                                    size_t program_len, const void *args, size_t args_len,
                                    uint64_t default_gas, nub_local **out);

/**
 * nub_local_create_stdprog for a program written for PVM ISA version isa
 * (NUB_ISA_GP_0_7_2 or NUB_ISA_GP_0_8_0), as nub_publish_stdprog_isa;
 * nub_local_create_stdprog is GP 0.7.2. Under GP 0.8.0 the library serves
 * grow_heap (host call 1) itself, as on the sandbox.
 * @retval NUB_ERR_WIRE_ISA unknown version
 */
nub_status nub_local_create_stdprog_isa(enum nub_local_engine engine, const void *program,
                                        size_t program_len, const void *args, size_t args_len,
                                        uint64_t default_gas, uint32_t isa, nub_local **out);

/** A raw PVM blob with explicit memory and one endpoint, as nub_publish_raw
 * (program->isa its version, heap_top/heap_limit its break and limit).
 * @retval NUB_ERR_WIRE_ISA unknown version */
nub_status nub_local_create_raw(enum nub_local_engine engine,
                                const struct nub_capbuild_raw *program, nub_local **out);

void nub_local_destroy(nub_local *l);

/**
 * Runs an endpoint (p->instance_hash is ignored) from the program's memory.
 * call may be NULL (no host functions, no input/output).
 * @retval NUB_ERR_BAD_ENDPOINT, NUB_ERR_ARG_COUNT, NUB_ERR_GAS_TOO_LARGE,
 *         NUB_ERR_INPUT_TOO_LARGE, NUB_ERR_HOST_ACTION, NUB_ERR_NOMEM
 */
nub_status nub_local_invoke(nub_local *l, const struct nub_invoke_packet *p, struct nub_call *call,
                            struct nub_invocation_result *out);

/** Details of the last failure on l ("" when none). */
const char *nub_local_last_error(const nub_local *l);

#ifdef __cplusplus
}
#endif

#endif /* NUB_LOCAL_H */
