/*
 * jam_runner.c — see jam_runner.h.
 */
#include "jam_runner.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pvm_alloc_libc.h"
#include "pvm_stdprog.h"

struct jam_loaded {
    uint8_t *bytes; /* a private copy: segments point into it */
    size_t len;
    struct pvm_stdprog layout;
    struct pvm_program *program;
};

uint64_t jam_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct jam_loaded *jam_load(const uint8_t *jam, size_t len, char *err, size_t err_len)
{
    return jam_load_isa(jam, len, NUB_ISA_GP_0_7_2, err, err_len);
}

struct jam_loaded *jam_load_isa(const uint8_t *jam, size_t len, uint32_t isa, char *err,
                                size_t err_len)
{
    struct jam_loaded *l = calloc(1, sizeof *l);
    if (l == NULL || (l->bytes = malloc(len ? len : 1)) == NULL) {
        snprintf(err, err_len, "out of memory");
        free(l);
        return NULL;
    }
    memcpy(l->bytes, jam, len);
    l->len = len;
    int rc = pvm_stdprog_load(l->bytes, l->len, NULL, 0, &l->layout);
    if (rc != PVM_OK) {
        snprintf(err, err_len, "not a standard program: %s", pvm_error_name(rc));
        jam_free(l);
        return NULL;
    }
    struct pvm_allocator alloc = pvm_libc_allocator();
    if (isa != NUB_ISA_GP_0_7_2) {
        /* nub-cc emits GP 0.7.2 numbering: renumber the code in place */
        uint8_t *code = l->bytes + (l->layout.code_blob - l->bytes);
        rc = pvm_program_recode(code, l->layout.code_blob_len, NUB_ISA_GP_0_7_2, isa, code, &alloc);
        if (rc != PVM_OK) {
            snprintf(err, err_len, "cannot recode for the ISA: %s", pvm_error_name(rc));
            jam_free(l);
            return NULL;
        }
    }
    rc = pvm_program_decode_isa(l->layout.code_blob, l->layout.code_blob_len, isa, &alloc,
                                &l->program);
    if (rc != PVM_OK) {
        snprintf(err, err_len, "bad code blob: %s", pvm_error_name(rc));
        jam_free(l);
        return NULL;
    }
    return l;
}

void jam_free(struct jam_loaded *l)
{
    if (l == NULL)
        return;
    pvm_program_destroy(l->program);
    free(l->bytes);
    free(l);
}

const struct pvm_program *jam_program(const struct jam_loaded *l)
{
    return l->program;
}

const uint8_t *jam_bytes(const struct jam_loaded *l, size_t *len)
{
    *len = l->len;
    return l->bytes;
}

/* Writes every writable segment's initial contents (its data, then zeros)
 * over itself: the instance's memory is unchanged, and its pages are
 * resident before the run is timed. */
static int make_resident(const struct jam_loaded *l, const struct pvm_engine *engine, void *inst)
{
    static const uint8_t zeros[65536];
    for (size_t i = 0; i < l->layout.segment_count; i++) {
        const struct pvm_segment *s = &l->layout.segments[i];
        if (s->access != PVM_ACCESS_WRITE)
            continue;
        if (s->data_len > 0 && engine->write_memory(inst, s->address, s->data, s->data_len) != 0)
            return -1;
        for (uint32_t at = s->data_len; at < s->length;) {
            uint32_t n = s->length - at < sizeof zeros ? s->length - at : (uint32_t)sizeof zeros;
            if (engine->write_memory(inst, s->address + at, zeros, n) != 0)
                return -1;
            at += n;
        }
    }
    return 0;
}

static int run(const struct jam_loaded *l, const struct pvm_engine *engine, uint32_t endpoint,
               const uint64_t *args, size_t arg_count, int64_t gas, bool resident,
               struct jam_run_result *out, char *err, size_t err_len)
{
    struct pvm_state initial;
    struct pvm_allocator alloc = pvm_libc_allocator();
    void *inst = NULL;
    memset(out, 0, sizeof *out);
    if (arg_count > 4 || endpoint > 0x7FFFFFFFu / 5) {
        snprintf(err, err_len, "bad arguments");
        return -1;
    }
    pvm_stdprog_initial_state(&l->layout, 5 * endpoint, gas, &initial);
    for (size_t i = 0; i < arg_count; i++)
        initial.regs[7 + i] = args[i];
    uint64_t t0 = jam_now_ns();
    int rc = engine->create(l->program, l->layout.segments, l->layout.segment_count, &initial,
                            &alloc, &inst);
    uint64_t t1 = jam_now_ns();
    if (rc != PVM_OK) {
        snprintf(err, err_len, "%s: create failed: %s", engine->name, pvm_error_name(rc));
        return -1;
    }
    if (resident && make_resident(l, engine, inst) != 0) {
        snprintf(err, err_len, "%s: cannot rewrite the writable segments", engine->name);
        engine->destroy(inst);
        return -1;
    }
    uint64_t t_run = jam_now_ns();
    engine->run(inst, &out->exit);
    uint64_t t2 = jam_now_ns();
    struct pvm_state final;
    engine->get_state(inst, &final);
    memcpy(out->regs, final.regs, sizeof out->regs);
    out->gas_left = final.gas;
    out->create_ns = t1 - t0;
    out->run_ns = t2 - t_run;
    engine->destroy(inst);
    return 0;
}

int jam_run(const struct jam_loaded *l, const struct pvm_engine *engine, uint32_t endpoint,
            const uint64_t *args, size_t arg_count, int64_t gas, struct jam_run_result *out,
            char *err, size_t err_len)
{
    return run(l, engine, endpoint, args, arg_count, gas, false, out, err, err_len);
}

int jam_run_resident(const struct jam_loaded *l, const struct pvm_engine *engine, uint32_t endpoint,
                     const uint64_t *args, size_t arg_count, int64_t gas,
                     struct jam_run_result *out, char *err, size_t err_len)
{
    return run(l, engine, endpoint, args, arg_count, gas, true, out, err, err_len);
}
