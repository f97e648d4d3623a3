/*
 * jam_host.h — `nubrun --host jam`: a minimal JAM host for trying real
 * services. Every host call costs 10 gas (out of gas when it cannot be
 * paid); `gas` (id 0) sets phi7 to the gas left; `log` (id 100, JIP-1)
 * prints `log <level> <target>: <message>` on stderr; every other id sets
 * phi7 = WHAT (2^64 - 2) and continues.
 */
#ifndef NUBRUN_JAM_HOST_H
#define NUBRUN_JAM_HOST_H

#include <stdio.h>

#include "nub/host.h"

#define NUBRUN_JAM_HOST_CALL_GAS 10
#define NUBRUN_JAM_ID_GAS        0u
#define NUBRUN_JAM_ID_LOG        100u
#define NUBRUN_JAM_WHAT          (UINT64_MAX - 1) /* 2^64 - 2 */

/* The host function; ctx is the FILE the log lines go to (stderr). */
int nubrun_jam_host(void *ctx, nub_host_call *call);

#endif /* NUBRUN_JAM_HOST_H */
