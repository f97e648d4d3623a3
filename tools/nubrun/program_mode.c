/*
 * program_mode.c — run a standard program / raw blob / the demo, print
 * exit reason, exit arg, phi7 and gas left.
 *
 * A standard program gets the SPEC §11 layout with empty argument data; a
 * raw blob runs with no memory at all and r0 = the halt address. In both,
 * --args overlays phi7..phi10 (as nub_invoke_packet does). The run stops at
 * the first exit: nubrun serves no host calls (they are reported).
 */
#include "program_mode.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "demo_sieve.h"
#include "jam_host.h"
#include "nub_capbuild.h"
#include "pvm_alloc_libc.h"
#include "pvm_program.h"
#include "nub_readfile.h"
#include "nub_service_blob.h"
#include "pvm_stdprog.h"
#include "vector_mode.h"

/* The output of a halted run with --input, in hex (or the reason it has none). */
static void print_output_hex(FILE *out, const struct nubrun_outcome *o, const uint8_t *output)
{
    if (o->exit.reason != PVM_EXIT_HALT)
        return;
    if (o->output_status != NUB_OK) {
        fprintf(out, "%s",
                o->output_status == NUB_ERR_OUTPUT_TOO_LARGE ? "too-large" : "inaccessible");
        return;
    }
    for (uint32_t i = 0; i < o->output_len; i++)
        fprintf(out, "%02x", output[i]);
}

static void print_outcome(FILE *out, const struct nubrun_program_options *opt,
                          const struct nubrun_outcome *o, const uint8_t *output)
{
    const char *status = nubrun_status_name(o->exit.reason);
    bool show_output = output != NULL && o->exit.reason == PVM_EXIT_HALT;
    if (opt->json) {
        fprintf(out,
                "{\"status\": \"%s\", \"exit-arg\": %" PRIu64 ", \"phi7\": %" PRIu64
                ", \"gas\": %" PRId64 ", \"pc\": %" PRIu32 ", \"host_calls\": %" PRIu64,
                status, o->exit.arg, o->final.regs[7], o->final.gas, o->exit.pc, o->host_calls);
        if (show_output) {
            fputs(", \"output\": \"", out);
            print_output_hex(out, o, output);
            fputc('"', out);
        }
        fputs("}\n", out);
    } else {
        fprintf(out,
                "exit: %s\nexit-arg: %" PRIu64 "\nphi7: %" PRIu64 "\ngas-left: %" PRId64
                "\npc: %" PRIu32 "\n",
                status, o->exit.arg, o->final.regs[7], o->final.gas, o->exit.pc);
        if (opt->host_jam)
            fprintf(out, "host-calls: %" PRIu64 "\n", o->host_calls);
        if (show_output) {
            fputs("output: ", out);
            print_output_hex(out, o, output);
            fputc('\n', out);
        }
    }
}

/* Per-call data of a run: --input bytes, the output buffer, --host. */
struct run_io {
    const uint8_t *input; /* NULL: no --input */
    uint32_t input_len;
    uint8_t *output;
    uint32_t output_cap;
};

/* Overlays --args on phi7..phi10 of the job's initial state and runs it on
 * the engine; 0, or 1 with the engine's message on stderr. */
static int run_job(const struct nubrun_program_options *opt, const struct run_io *io,
                   struct nubrun_job *job, const char *what, struct nubrun_outcome *outcome)
{
    /* With input, phi7/phi8 describe it and --args go to phi9.. (as
     * nub_invoke_packet.args do). */
    unsigned first = 7;
    if (io != NULL && io->input != NULL) {
        job->has_input = true;
        job->input = io->input;
        job->input_len = io->input_len;
        job->initial.regs[7] = NUB_STDPROG_ARGS_BASE;
        job->initial.regs[8] = io->input_len;
        job->output = io->output;
        job->output_cap = io->output_cap;
        first = 9;
    }
    if (opt->host_jam)
        job->host = (struct nub_host){.fn = nubrun_jam_host, .ctx = stderr};
    for (unsigned i = 0; i < opt->arg_count; i++)
        job->initial.regs[first + i] = opt->args[i];
    job->isa = opt->isa;
    char msg[512];
    if (opt->engine->run(job, outcome, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "nubrun: %s: %s\n", what, msg);
        return 1;
    }
    return 0;
}

/* Runs a standard program container (bytes) on the engine. */
static int run_stdprog(const struct nubrun_program_options *opt, const struct run_io *io,
                       const uint8_t *bytes, size_t len, const char *what,
                       struct nubrun_outcome *outcome)
{
    struct pvm_stdprog sp;
    int err = pvm_stdprog_load(bytes, len, NULL, 0, &sp);
    if (err != PVM_OK) {
        fprintf(stderr, "nubrun: %s: invalid standard program: %s\n", what, pvm_error_name(err));
        return 1;
    }
    struct nubrun_job job = {
        .blob = sp.code_blob,
        .blob_len = sp.code_blob_len,
        .segments = sp.segments,
        .segment_count = sp.segment_count,
    };
    pvm_stdprog_initial_state(&sp, 5 * opt->endpoint, opt->gas, &job.initial);
    return run_job(opt, io, &job, what, outcome);
}

static int run_raw(const struct nubrun_program_options *opt, const struct run_io *io,
                   const uint8_t *blob, size_t len, const char *what,
                   struct nubrun_outcome *outcome)
{
    struct nubrun_job job = {.blob = blob, .blob_len = len};
    job.initial.regs[0] = PVM_HALT_ADDRESS;
    job.initial.pc = 5 * opt->endpoint;
    job.initial.gas = opt->gas;
    return run_job(opt, io, &job, what, outcome);
}

/* The demo: count the primes below N with a sieve written in PVM assembly
 * (demo_sieve.pvmasm, assembled at build time), and check the answer against
 * the same count computed here natively. */
static uint64_t native_prime_count(uint32_t n)
{
    uint8_t *composite = calloc(n + 1, 1);
    if (composite == NULL)
        return UINT64_MAX;
    uint64_t count = 0;
    for (uint64_t i = 2; i < n; i++) {
        if (composite[i])
            continue;
        count++;
        for (uint64_t j = i * i; j < n; j += i)
            composite[j] = 1;
    }
    free(composite);
    return count;
}

static int run_demo(const struct nubrun_program_options *opt, FILE *out)
{
    /* A standard program container around the assembled blob: no ro/rw
     * data, no heap pages (the program grows its heap with sbrk), 64 KiB stack. */
    size_t len = 11 + 4 + nubrun_demo_sieve_blob_len;
    uint8_t *container = calloc(len, 1);
    if (container == NULL) {
        fprintf(stderr, "nubrun: out of memory\n");
        return 1;
    }
    container[8] = 0x00, container[9] = 0x00, container[10] = 0x01; /* stack 0x10000 */
    uint32_t blob_len = (uint32_t)nubrun_demo_sieve_blob_len;
    for (int i = 0; i < 4; i++)
        container[11 + i] = (uint8_t)(blob_len >> (8 * i));
    memcpy(container + 15, nubrun_demo_sieve_blob, blob_len);

    struct nubrun_program_options demo = *opt;
    demo.endpoint = 0;
    if (demo.arg_count == 0) {
        demo.args[0] = NUBRUN_DEMO_SIEVE_DEFAULT_N;
        demo.arg_count = 1;
    }
    if (demo.args[0] > 100000000) {
        fprintf(stderr, "nubrun: demo: N must be at most 100000000\n");
        free(container);
        return 2;
    }
    uint32_t n = (uint32_t)demo.args[0];
    struct nubrun_outcome o;
    int rc = run_stdprog(&demo, NULL, container, len, "demo", &o);
    free(container);
    if (rc != 0)
        return rc;
    uint64_t want = native_prime_count(n);
    bool ok = o.exit.reason == PVM_EXIT_HALT && o.final.regs[7] == want;
    if (opt->json) {
        fprintf(out,
                "{\"demo\": \"sieve\", \"n\": %" PRIu32 ", \"status\": \"%s\", \"phi7\": %" PRIu64
                ", \"expected\": %" PRIu64 ", \"gas\": %" PRId64 ", \"ok\": %s}\n",
                n, nubrun_status_name(o.exit.reason), o.final.regs[7], want, o.final.gas,
                ok ? "true" : "false");
    } else {
        fprintf(out, "demo: prime sieve in PVM assembly, engine %s\n", opt->engine->name);
        struct nubrun_program_options lines = *opt;
        lines.json = false;
        print_outcome(out, &lines, &o, NULL);
        fprintf(out, "primes below %" PRIu32 ": %" PRIu64 " (expected %" PRIu64 "): %s\n", n,
                o.final.regs[7], want, ok ? "OK" : "WRONG");
    }
    if (!ok) {
        fprintf(stderr, "nubrun: demo answer is wrong\n");
        return 1;
    }
    return 0;
}

int nubrun_block_costs_mode(const struct nubrun_program_options *opt, const char *path, FILE *out)
{
    char err[512];
    size_t len = 0;
    uint8_t *bytes = nub_read_file(path, NUB_READFILE_DEFAULT_MAX, &len, err, sizeof(err));
    if (bytes == NULL) {
        fprintf(stderr, "nubrun: %s\n", err);
        return 1;
    }
    struct nubrun_job job = {.blob = bytes, .blob_len = len, .isa = opt->isa};
    struct pvm_stdprog sp;
    if (!opt->raw) {
        int e = pvm_stdprog_load(bytes, len, NULL, 0, &sp);
        if (e != PVM_OK) {
            fprintf(stderr, "nubrun: %s: invalid standard program: %s\n", path, pvm_error_name(e));
            free(bytes);
            return 1;
        }
        job.blob = sp.code_blob;
        job.blob_len = sp.code_blob_len;
    }
    struct pvm_allocator alloc = pvm_libc_allocator();
    struct pvm_program *p = NULL;
    int e = pvm_program_decode_isa(job.blob, job.blob_len, job.isa, &alloc, &p);
    uint32_t *costs = e == PVM_OK ? calloc((size_t)p->code_len + 1, sizeof(*costs)) : NULL;
    int rc = 1;
    if (e != PVM_OK) {
        fprintf(stderr, "nubrun: %s: invalid program blob: %s\n", path, pvm_error_name(e));
    } else if (costs == NULL) {
        fprintf(stderr, "nubrun: out of memory\n");
    } else if (opt->engine->block_costs(&job, costs, err, sizeof(err)) != 0) {
        fprintf(stderr, "nubrun: %s: %s\n", path, err);
    } else {
        fprintf(out, "{");
        bool first = true;
        for (uint32_t pc = 0; pc < p->code_len; pc++) {
            if (!pvm_program_is_block_start(p, pc))
                continue;
            fprintf(out, "%s\"%" PRIu32 "\": %" PRIu32, first ? "" : ", ", pc, costs[pc]);
            first = false;
        }
        fprintf(out, "}\n");
        rc = 0;
    }
    free(costs);
    pvm_program_destroy(p);
    free(bytes);
    return rc;
}

int nubrun_program_mode(const struct nubrun_program_options *opt, const char *path, FILE *out)
{
    if (path == NULL)
        return run_demo(opt, out);
    char err[512];
    size_t len = 0;
    uint8_t *bytes = nub_read_file(path, NUB_READFILE_DEFAULT_MAX, &len, err, sizeof(err));
    if (bytes == NULL) {
        fprintf(stderr, "nubrun: %s\n", err);
        return 1;
    }
    struct run_io io = {0};
    uint8_t *input = NULL;
    if (opt->input_path != NULL) {
        size_t input_len = 0;
        input = nub_read_file(opt->input_path, NUB_STDPROG_MAX_ARGS, &input_len, err, sizeof(err));
        if (input == NULL) {
            fprintf(stderr, "nubrun: --input: %s\n", err);
            free(bytes);
            return 1;
        }
        io.input = input;
        io.input_len = (uint32_t)input_len;
        io.output_cap = NUB_STDPROG_MAX_ARGS;
        io.output = malloc(io.output_cap);
        if (io.output == NULL) {
            fprintf(stderr, "nubrun: out of memory\n");
            free(input);
            free(bytes);
            return 1;
        }
    }
    const uint8_t *prog = bytes;
    size_t prog_len = len;
    struct nubrun_outcome o;
    int rc;
    if (opt->service && !nub_service_program(bytes, len, &prog, &prog_len)) {
        fprintf(stderr, "nubrun: %s: not a JAM service blob (E(len meta) ++ meta ++ Y)\n", path);
        rc = 1;
    } else {
        rc = opt->raw ? run_raw(opt, &io, prog, prog_len, path, &o)
                      : run_stdprog(opt, &io, prog, prog_len, path, &o);
    }
    if (rc == 0)
        print_outcome(out, opt, &o, io.output);
    free(io.output);
    free(input);
    free(bytes);
    return rc;
}
