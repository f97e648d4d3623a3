/*
 * local.c — nub_local: the in-process engines behind nub/local.h.
 *
 * A nub_local owns a copy of its program's bytes, the decoded blob and the
 * segment list (its "published" memory); each invoke creates a fresh engine
 * instance from them, runs it with local_run.c, and destroys it.
 */
#include "nub/local.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "local_run.h"
#include "pvm_alloc_libc.h"
#include "pvm_hosted.h"
#include "pvm_interp.h"
#include "pvm_program.h"
#include "pvm_stdprog.h"

#define LOCAL_MAX_SEGMENTS (NUB_CAPBUILD_MAX_RAW_SEGMENTS + 1)

struct nub_local {
    const struct pvm_engine *engine;
    struct pvm_allocator alloc;
    uint8_t *bytes; /* the program's bytes (container or blob + memory), owned */
    const uint8_t *blob;
    size_t blob_len;
    struct pvm_program *program; /* NULL: the blob does not decode (SPEC §4.2 panic) */
    struct pvm_segment segments[LOCAL_MAX_SEGMENTS];
    size_t segment_count;
    uint32_t endpoint_count;
    uint32_t endpoint_pc[NUB_STDPROG_MAX_ENDPOINTS];
    uint64_t regs[NUB_PVM_REGS];
    uint64_t default_gas;
    uint32_t isa;                /* NUB_ISA_*: decoding, and the host calls the library serves */
    uint32_t heap_top;           /* the initial break (0: no heap) */
    uint32_t heap_limit;         /* as an INSTANCE's heap_limit (>= heap_top) */
    struct nub_host_call handle; /* outlives each host call: stale use is refused */
    int running;                 /* an invoke is in progress (a host function calling back) */
    char last_error[256];
};

static nub_status fail(nub_local *l, nub_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static nub_status fail(nub_local *l, nub_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->last_error, sizeof l->last_error, fmt, ap);
    va_end(ap);
    return s;
}

static nub_status local_new(enum nub_local_engine engine, size_t bytes, nub_local **out)
{
    const struct pvm_engine *e = engine == NUB_LOCAL_INTERP ? &pvm_interp_engine
                                 : engine == NUB_LOCAL_JIT  ? &pvm_jit_engine
                                                            : NULL;
    if (!e || !out)
        return NUB_ERR_INVALID_ARGUMENT;
    nub_local *l = calloc(1, sizeof *l);
    if (!l)
        return NUB_ERR_NOMEM;
    l->bytes = malloc(bytes ? bytes : 1);
    if (!l->bytes) {
        free(l);
        return NUB_ERR_NOMEM;
    }
    l->engine = e;
    l->alloc = pvm_libc_allocator();
    *out = l;
    return NUB_OK;
}

static void decode(nub_local *l)
{
    if (pvm_program_decode_isa(l->blob, l->blob_len, l->isa, &l->alloc, &l->program) != PVM_OK)
        l->program = NULL;
}

nub_status nub_local_create_stdprog(enum nub_local_engine engine, const void *program,
                                    size_t program_len, const void *args, size_t args_len,
                                    uint64_t default_gas, nub_local **out)
{
    return nub_local_create_stdprog_isa(engine, program, program_len, args, args_len, default_gas,
                                        NUB_ISA_GP_0_7_2, out);
}

nub_status nub_local_create_stdprog_isa(enum nub_local_engine engine, const void *program,
                                        size_t program_len, const void *args, size_t args_len,
                                        uint64_t default_gas, uint32_t isa, nub_local **out)
{
    if (out)
        *out = NULL;
    if (!program || (args_len && !args) || args_len > NUB_STDPROG_MAX_ARGS)
        return NUB_ERR_INVALID_ARGUMENT;
    if (isa >= NUB_ISA_COUNT)
        return NUB_ERR_WIRE_ISA;
    nub_local *l;
    nub_status s = local_new(engine, program_len + args_len, &l);
    if (s != NUB_OK)
        return s;
    memcpy(l->bytes, program, program_len);
    if (args_len)
        memcpy(l->bytes + program_len, args, args_len);
    struct pvm_stdprog sp;
    if (pvm_stdprog_load(l->bytes, program_len, l->bytes + program_len, args_len, &sp) != PVM_OK) {
        nub_local_destroy(l);
        return NUB_ERR_PROGRAM_INVALID;
    }
    l->blob = sp.code_blob;
    l->blob_len = sp.code_blob_len;
    memcpy(l->segments, sp.segments, sp.segment_count * sizeof sp.segments[0]);
    l->segment_count = sp.segment_count;
    l->endpoint_count = nub_stdprog_endpoint_count(sp.code_blob, sp.code_blob_len);
    for (uint32_t e = 0; e < l->endpoint_count; e++)
        l->endpoint_pc[e] = 5 * e;
    memcpy(l->regs, sp.regs, sizeof l->regs);
    l->default_gas = default_gas;
    l->isa = isa;
    l->heap_top = sp.heap_top;
    l->heap_limit = sp.heap_limit;
    decode(l);
    *out = l;
    return NUB_OK;
}

nub_status nub_local_create_raw(enum nub_local_engine engine, const struct nub_capbuild_raw *p,
                                nub_local **out)
{
    if (out)
        *out = NULL;
    if (!p || (p->blob_len && !p->blob) || p->range_count > NUB_CAPBUILD_MAX_RAW_SEGMENTS ||
        (p->range_count && !p->ranges) || (p->chunk_count && !p->chunks))
        return NUB_ERR_INVALID_ARGUMENT;
    if (p->isa >= NUB_ISA_COUNT)
        return NUB_ERR_WIRE_ISA;
    uint64_t bytes = p->blob_len;
    for (uint32_t i = 0; i < p->range_count; i++)
        bytes += p->ranges[i].length;
    if (bytes > ((uint64_t)1 << 33))
        return NUB_ERR_INVALID_ARGUMENT;
    /* Each range's initial bytes: the chunks that fall in it (later ones win). */
    nub_local *l;
    nub_status s = local_new(engine, (size_t)bytes, &l);
    if (s != NUB_OK)
        return s;
    memcpy(l->bytes, p->blob, p->blob_len);
    l->blob = l->bytes;
    l->blob_len = p->blob_len;
    uint8_t *at = l->bytes + p->blob_len;
    for (uint32_t i = 0; i < p->range_count; i++) {
        const struct nub_capbuild_range *r = &p->ranges[i];
        memset(at, 0, r->length);
        l->segments[i] = (struct pvm_segment){r->address, r->length, r->access, at, r->length};
        at += r->length;
    }
    l->segment_count = p->range_count;
    if (pvm_segments_validate(l->segments, l->segment_count) != PVM_OK) {
        nub_local_destroy(l);
        return NUB_ERR_WIRE_OVERLAP;
    }
    for (uint32_t c = 0; c < p->chunk_count; c++) {
        const struct nub_capbuild_chunk *ch = &p->chunks[c];
        for (uint32_t k = 0; k < ch->len; k++) {
            uint64_t a = (uint64_t)ch->address + k;
            size_t i = 0;
            while (i < l->segment_count &&
                   !(a >= l->segments[i].address &&
                     a < (uint64_t)l->segments[i].address + l->segments[i].length))
                i++;
            if (i == l->segment_count) {
                nub_local_destroy(l);
                return NUB_ERR_INVALID_ARGUMENT; /* as nub_capbuild_raw */
            }
            ((uint8_t *)l->segments[i].data)[a - l->segments[i].address] = ch->bytes[k];
        }
    }
    l->endpoint_count = 1;
    l->endpoint_pc[0] = p->pc;
    memcpy(l->regs, p->regs, sizeof l->regs);
    l->default_gas = p->default_gas;
    l->isa = p->isa;
    /* As nub_capbuild_raw makes the INSTANCE facts: a limit below the break
     * is raised to it. */
    l->heap_top = p->heap_top;
    l->heap_limit = p->heap_limit < p->heap_top ? p->heap_top : p->heap_limit;
    decode(l);
    *out = l;
    return NUB_OK;
}

void nub_local_destroy(nub_local *l)
{
    if (!l)
        return;
    pvm_program_destroy(l->program);
    free(l->bytes);
    free(l);
}

const char *nub_local_last_error(const nub_local *l)
{
    return l ? l->last_error : "";
}

static void fill_result(struct nub_invocation_result *out, const struct pvm_exit *e,
                        const struct pvm_state *st)
{
    memset(out, 0, sizeof *out);
    out->exit_reason = e->reason;
    out->pc = e->pc;
    out->exit_arg = e->arg;
    out->return_value = st->regs[PVM_REG_A0];
    out->gas_remaining = (uint64_t)st->gas;
    memcpy(out->regs, st->regs, sizeof out->regs);
}

nub_status nub_local_invoke(nub_local *l, const struct nub_invoke_packet *p, struct nub_call *call,
                            struct nub_invocation_result *out)
{
    if (!l || !p || !out)
        return NUB_ERR_INVALID_ARGUMENT;
    if (l->running)
        return fail(l, NUB_ERR_INVALID_ARGUMENT, "called from a host function of its own run");
    l->last_error[0] = 0;
    if (call && ((call->input_len && !call->input) || (call->output_cap && !call->output) ||
                 (call->readback_count && !call->readbacks) ||
                 call->readback_count > NUB_INVOKE_MAX_READBACKS))
        return fail(l, NUB_ERR_INVALID_ARGUMENT, "NULL buffer or more than %u readbacks",
                    NUB_INVOKE_MAX_READBACKS);
    for (size_t i = 0; call && i < call->readback_count; i++)
        if (call->readbacks[i].length && !call->readbacks[i].buffer)
            return fail(l, NUB_ERR_INVALID_ARGUMENT, "readback %zu has no buffer", i);
    if (p->endpoint_idx >= l->endpoint_count)
        return fail(l, NUB_ERR_BAD_ENDPOINT, "endpoint %u of %u", p->endpoint_idx,
                    l->endpoint_count);
    if (p->arg_count > 4)
        return fail(l, NUB_ERR_ARG_COUNT, "arg_count %u", p->arg_count);
    for (uint32_t i = p->arg_count; i < 4; i++)
        if (p->args[i] != 0)
            return fail(l, NUB_ERR_ARG_COUNT, "args[%u] is set but arg_count is %u", i,
                        p->arg_count);
    uint64_t gas = p->initial_gas ? p->initial_gas : l->default_gas;
    if (gas > (uint64_t)INT64_MAX)
        return fail(l, NUB_ERR_GAS_TOO_LARGE, "gas %llu", (unsigned long long)gas);
    int has_input = call && call->input;
    if (has_input && call->input_len > NUB_STDPROG_MAX_ARGS)
        return fail(l, NUB_ERR_INPUT_TOO_LARGE, "input of %u bytes", call->input_len);
    if (call) {
        call->output_len = 0;
        call->output_status = NUB_OK;
        call->host_calls = 0;
    }

    struct pvm_state st = {.pc = l->endpoint_pc[p->endpoint_idx],
                           .gas = (int64_t)gas,
                           .heap_top = l->heap_top,
                           .heap_limit = l->heap_limit};
    memcpy(st.regs, l->regs, sizeof st.regs);
    unsigned first_arg = PVM_REG_A0;
    if (has_input) {
        st.regs[PVM_REG_A0] = NUB_STDPROG_ARGS_BASE;
        st.regs[PVM_REG_A1] = call->input_len;
        first_arg = PVM_REG_A2;
    }
    for (unsigned i = 0; i < p->arg_count; i++)
        st.regs[first_arg + i] = p->args[i];

    struct pvm_segment segs[LOCAL_MAX_SEGMENTS + 1];
    size_t n = l->segment_count;
    if (has_input)
        n = nub__local_input_segments(l->segments, l->segment_count, call->input, call->input_len,
                                      segs);
    else
        memcpy(segs, l->segments, n * sizeof segs[0]);

    struct pvm_exit e;
    if (!l->program) { /* SPEC §4.2: panics at pc 0 without running or charging */
        e = (struct pvm_exit){.reason = PVM_EXIT_PANIC};
        st.pc = 0;
        fill_result(out, &e, &st);
        return NUB_OK;
    }
    void *inst = NULL;
    int err = l->engine->create(l->program, segs, n, &st, &l->alloc, &inst);
    if (err != PVM_OK)
        return fail(l, err == PVM_ERR_NOMEM ? NUB_ERR_NOMEM : NUB_ERR_JIT, "%s engine: %s",
                    l->engine->name, pvm_error_name(err));
    uint64_t host_calls = 0;
    l->running = 1;
    nub_status s = nub__local_run(l->engine, inst, l->isa, call ? &call->host : NULL, &l->handle,
                                  &host_calls, &e);
    l->running = 0;
    l->engine->get_state(inst, &st);
    if (call)
        call->host_calls = host_calls;
    if (s == NUB_OK && e.reason == PVM_EXIT_ERROR)
        s = fail(l, (nub_status)e.arg, "%s engine failed: %s", l->engine->name,
                 nub_strerror((nub_status)e.arg));
    else if (s == NUB_ERR_HOST_ACTION)
        fail(l, s, "host function for ecalli %llu returned an invalid action",
             (unsigned long long)l->handle.id);
    if (s == NUB_OK) {
        fill_result(out, &e, &st);
        if (call && call->output && e.reason == PVM_EXIT_HALT)
            nub__local_output(l->engine, inst, &st, call);
        for (size_t i = 0; call && i < call->readback_count; i++) {
            struct nub_readback *rb = &call->readbacks[i];
            rb->ok = l->engine->read_memory(inst, rb->address, rb->buffer, rb->length) == PVM_OK;
            if (!rb->ok)
                memset(rb->buffer, 0, rb->length);
        }
    }
    l->engine->destroy(inst);
    return s;
}
