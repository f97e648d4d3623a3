/*
 * jam_sandbox.h — run a nub-cc .jam in the KVM sandbox (libnubhost): publish
 * its caps once (nub_capbuild_stdprog: endpoints 0 and 1 = pc 0 and pc 5),
 * then invoke an endpoint with up to four u64 arguments over r7..r10.
 */
#ifndef NUB_JAM_SANDBOX_H
#define NUB_JAM_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

#include "nub/host.h"

/* Publishes every cap of the program; *instance receives the INSTANCE hash. */
nub_status jam_sandbox_publish(nub_sandbox *sb, const uint8_t *jam, size_t len,
                               nub_cap_hash instance);

/* One invocation; *run_ns is the wall time of nub_invoke. */
nub_status jam_sandbox_invoke(nub_sandbox *sb, const nub_cap_hash instance, uint32_t endpoint,
                              const uint64_t *args, size_t arg_count, uint64_t gas,
                              struct nub_invocation_result *out, uint64_t *run_ns);

#endif /* NUB_JAM_SANDBOX_H */
