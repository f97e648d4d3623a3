/*
 * test_engines.h — every PVM engine the toolchain tests run programs on.
 * Each case runs on each engine; there is no per-engine skip list.
 */
#ifndef NUB_TEST_ENGINES_H
#define NUB_TEST_ENGINES_H

#include <stddef.h>

#include "pvm_hosted.h"
#include "pvm_interp.h"

static const struct pvm_engine *const test_engines[] = {
    &pvm_interp_engine,
    &pvm_jit_engine,
};
#define TEST_ENGINE_COUNT (sizeof test_engines / sizeof test_engines[0])

#endif /* NUB_TEST_ENGINES_H */
