/*
 * jam_runner.h — run one endpoint of a JAM standard program (a nub-cc .jam)
 * on any PVM engine through the engine-neutral vtable of pvm.h. Used by the
 * toolchain tests and by nubbench's kernel figures, so both run programs the
 * same way: standard layout (SPEC §11), entry pc 5*K, up to four u64
 * arguments overlaid on r7..r10 (as nubrun --args does), no host calls
 * (an ecalli ends the run with PVM_EXIT_HOST_CALL).
 */
#ifndef NUB_JAM_RUNNER_H
#define NUB_JAM_RUNNER_H

#include <stddef.h>
#include <stdint.h>

#include "pvm.h"
#include "pvm_program.h"

struct jam_loaded; /* a decoded program, ready for any number of runs */

struct jam_run_result {
    struct pvm_exit exit;
    uint64_t regs[PVM_NUM_REGS];
    int64_t gas_left;
    uint64_t create_ns; /* engine create (for a JIT: includes compilation) */
    uint64_t run_ns;    /* engine run until the exit */
};

/* Splits and decodes a .jam; NULL on failure (message in err). */
struct jam_loaded *jam_load(const uint8_t *jam, size_t len, char *err, size_t err_len);
/* The same, run as ISA version isa (NUB_ISA_*): the .jam's GP 0.7.2 code is
 * renumbered to that version first (pvm_program_recode); jam_bytes then
 * returns the renumbered container. */
struct jam_loaded *jam_load_isa(const uint8_t *jam, size_t len, uint32_t isa, char *err,
                                size_t err_len);
void jam_free(struct jam_loaded *loaded);
const struct pvm_program *jam_program(const struct jam_loaded *loaded);
/* The container bytes (for engines that take the whole .jam, e.g. the sandbox). */
const uint8_t *jam_bytes(const struct jam_loaded *loaded, size_t *len);

/*
 * Creates an instance on engine, runs endpoint (pc 5*endpoint) with the
 * given arguments and gas until the first exit, destroys it.
 * Returns 0, or -1 with a message if the engine could not create it.
 */
int jam_run(const struct jam_loaded *loaded, const struct pvm_engine *engine, uint32_t endpoint,
            const uint64_t *args, size_t arg_count, int64_t gas, struct jam_run_result *out,
            char *err, size_t err_len);

/* The same, but before the run is timed every writable segment is written
 * with its own initial contents, so the run starts on resident pages, as a
 * native program's static memory is after its first run. The instance's
 * memory and the run's result are those of jam_run. */
int jam_run_resident(const struct jam_loaded *loaded, const struct pvm_engine *engine,
                     uint32_t endpoint, const uint64_t *args, size_t arg_count, int64_t gas,
                     struct jam_run_result *out, char *err, size_t err_len);

/* Monotonic clock in nanoseconds. */
uint64_t jam_now_ns(void);

#endif /* NUB_JAM_RUNNER_H */
