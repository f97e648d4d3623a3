/*
 * program_mode.h — `nubrun [options] [PROGRAM]`: run a JAM standard program
 * (or a raw blob), or the built-in demo.
 */
#ifndef NUBRUN_PROGRAM_MODE_H
#define NUBRUN_PROGRAM_MODE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "engine.h"

struct nubrun_program_options {
    const struct nubrun_engine *engine;
    int64_t gas;
    uint32_t endpoint;      /* entry at pc 5 * endpoint (0: refine, 1: accumulate) */
    uint64_t args[4];       /* overlay phi7..phi10 */
    unsigned arg_count;     /* how many of args were given */
    bool raw;               /* PROGRAM is a bare §4 blob */
    bool service;           /* PROGRAM is a JAM service blob: E(len meta) ++ meta ++ Y */
    bool json;              /* one JSON object instead of lines */
    bool host_jam;          /* --host jam (jam_host.h); else no host functions */
    const char *input_path; /* --input FILE, or NULL */
    uint32_t isa;           /* NUB_ISA_* of the program (default GP 0.7.2) */
};

#define NUBRUN_DEFAULT_GAS INT64_C(1000000000)

/* Runs PROGRAM (path) or, when path is NULL, the demo. Returns the exit code. */
int nubrun_program_mode(const struct nubrun_program_options *opt, const char *path, FILE *out);

/* `--block-costs`: prints ONE JSON object mapping each basic-block start of
 * PROGRAM's code (decimal string) to the gas opt->engine charges on entering
 * it. Returns the exit code. */
int nubrun_block_costs_mode(const struct nubrun_program_options *opt, const char *path, FILE *out);

#endif /* NUBRUN_PROGRAM_MODE_H */
