/*
 * engine_sandbox.c — nubrun's `--engine sandbox`: the program is published
 * as caps (DATA for the initial memory, IMAGE, INSTANCE) into a KVM sandbox
 * (libnubhost) and run there by the guest kernel's JIT in ring 3. The
 * readbacks travel back in the INVOKE_CACHED reply.
 */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nub/host.h"
#include "nub_wire.h"
#include "pvm_alloc_libc.h"
#include "pvm_gas.h"

static void print_console(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "guest: %s\n", line);
}

static int fail(char *err, size_t err_len, const char *what, nub_status s, nub_sandbox *sb)
{
    snprintf(err, err_len, "sandbox: %s: %s%s%s", what, nub_strerror(s), sb ? ": " : "",
             sb ? nub_sandbox_last_error(sb) : "");
    return -1;
}

/*
 * Publishes the job's caps. nub_capbuild_raw has no heap facts, so the
 * INSTANCE is re-encoded with the job's sbrk heap top and limit (standard
 * programs, the demo) before it is stored.
 */
static nub_status publish_job(nub_sandbox *sb, const struct nub_capbuild_raw *prog,
                              uint32_t heap_top, uint32_t heap_limit, nub_cap_hash instance_out)
{
    if (heap_top == 0)
        return nub_publish_raw(sb, prog, instance_out);
    struct nub_capbuild_cap caps[NUB_CAPBUILD_MAX_CAPS];
    struct nub_capbuild_out out = {.caps = caps, .caps_cap = NUB_CAPBUILD_MAX_CAPS};
    nub_status s = nub_capbuild_raw(prog, &out);
    if (s != NUB_OK)
        return s;
    out.buf = malloc(out.needed);
    out.buf_cap = out.needed;
    uint8_t *inst_buf = NULL;
    if (!out.buf)
        return NUB_ERR_NOMEM;
    s = nub_capbuild_raw(prog, &out);
    for (uint32_t i = 0; s == NUB_OK && i + 1 < out.cap_count; i++) {
        nub_cap_hash h;
        s = nub_put_cap(sb, out.buf + caps[i].offset, caps[i].len, h);
    }
    struct nub_wire_cap_view view;
    const struct nub_capbuild_cap *inst = &caps[out.cap_count - 1];
    if (s == NUB_OK)
        s = nub_wire_decode_cap(out.buf + inst->offset, inst->len, &view);
    struct nub_wire_segment segs[NUB_CAPBUILD_MAX_RAW_SEGMENTS];
    for (uint32_t i = 0; s == NUB_OK && i < view.instance.segment_count; i++)
        s = nub_wire_instance_segment(&view, i, &segs[i]);
    if (s == NUB_OK) {
        struct nub_wire_instance wi = {
            .facts = view.instance.facts,
            .segments = segs,
            .segment_count = view.instance.segment_count,
        };
        memcpy(wi.image_hash, view.instance.image_hash, NUB_CAP_HASH_BYTES);
        /* The same break limit as the in-process engines (pvm.h). */
        wi.facts.heap_top = heap_top;
        wi.facts.heap_limit = (uint32_t)pvm_heap_limit(heap_limit);
        if (wi.facts.heap_limit < heap_top)
            wi.facts.heap_limit = heap_top;
        size_t needed = 0;
        nub_wire_encode_instance(&wi, NULL, 0, &needed);
        inst_buf = malloc(needed ? needed : 1);
        s = inst_buf ? nub_wire_encode_instance(&wi, inst_buf, needed, &needed) : NUB_ERR_NOMEM;
        if (s == NUB_OK)
            s = nub_put_cap(sb, inst_buf, needed, instance_out);
    }
    free(inst_buf);
    free(out.buf);
    return s;
}

/*
 * An invocation always starts with its block unpaid. A job that resumes with
 * the block already paid (gas_charged: after a host call or a GP 0.8.0 page
 * fault) is run as a fresh start with the block's cost added to its gas:
 * entering pays exactly that cost back, and the run cannot end out of gas
 * there, so the outcome equals the resumed run's.
 */
static int paid_block_credit(const struct nubrun_job *job, uint64_t *credit)
{
    *credit = 0;
    if (!job->initial.gas_charged)
        return 0;
    struct pvm_allocator alloc = pvm_libc_allocator();
    struct pvm_program *p = NULL;
    int rc = pvm_program_decode_isa(job->blob, job->blob_len, job->isa, &alloc, &p);
    if (rc == PVM_ERR_NOMEM)
        return -1;
    if (rc == PVM_OK && pvm_program_can_enter(p, job->initial.pc))
        *credit = pvm_gas_entry_cost(p, job->initial.pc);
    pvm_program_destroy(p);
    return 0;
}

static int sandbox_run(const struct nubrun_job *job, struct nubrun_outcome *out, char *err,
                       size_t err_len)
{
    memset(out, 0, sizeof(*out));
    if (job->segment_count > NUB_CAPBUILD_MAX_RAW_SEGMENTS ||
        job->readback_count > NUB_INVOKE_MAX_READBACKS || job->blob_len > UINT32_MAX ||
        job->initial.gas < 0) {
        snprintf(err, err_len, "sandbox: job beyond the sandbox's limits");
        return -1;
    }
    struct nub_capbuild_range ranges[NUB_CAPBUILD_MAX_RAW_SEGMENTS];
    struct nub_capbuild_chunk chunks[NUB_CAPBUILD_MAX_RAW_SEGMENTS];
    uint32_t n_ranges = 0, n_chunks = 0;
    for (size_t i = 0; i < job->segment_count; i++) {
        const struct pvm_segment *s = &job->segments[i];
        if (s->access == PVM_ACCESS_NONE || s->length == 0)
            continue;
        ranges[n_ranges++] = (struct nub_capbuild_range){s->address, s->length, s->access};
        if (s->data_len)
            chunks[n_chunks++] = (struct nub_capbuild_chunk){s->address, s->data_len, s->data};
    }
    uint64_t credit;
    if (paid_block_credit(job, &credit) != 0 ||
        (uint64_t)job->initial.gas > (uint64_t)INT64_MAX - credit) {
        snprintf(err, err_len, "sandbox: cannot resume this job");
        return -1;
    }
    struct nub_capbuild_raw prog = {
        .blob = job->blob,
        .isa = job->isa,
        .blob_len = (uint32_t)job->blob_len,
        .pc = job->initial.pc,
        .ranges = ranges,
        .range_count = n_ranges,
        .chunks = chunks,
        .chunk_count = n_chunks,
        .default_gas = (uint64_t)job->initial.gas + credit,
        .heap_top = job->initial.heap_top,
    };
    memcpy(prog.regs, job->initial.regs, sizeof prog.regs);

    char create_err[256] = "";
    /* A run is bounded by its gas; the timeout only guards against a guest
     * that stops answering. */
    nub_sandbox_config cfg = {.invoke_timeout_ns = UINT64_C(10) * 1000 * 1000 * 1000,
                              .create_error = create_err,
                              .create_error_len = sizeof create_err};
    if (getenv("NUBRUN_SANDBOX_CONSOLE"))
        cfg.console = print_console;
    nub_sandbox *sb = NULL;
    nub_status s = nub_sandbox_create(&cfg, &sb);
    if (s != NUB_OK) {
        snprintf(err, err_len, "sandbox: %s: %s", nub_strerror(s), create_err);
        return -1;
    }
    struct nub_invoke_packet packet = {.endpoint_idx = 0};
    s = publish_job(sb, &prog, job->initial.heap_top, job->initial.heap_limit,
                    packet.instance_hash);
    if (s != NUB_OK) {
        int rc = fail(err, err_len, "publishing the program", s, sb);
        nub_sandbox_destroy(sb);
        return rc;
    }
    /* initial_gas 0 means "the instance's default" (= the job's gas), so a
     * job that starts with 0 gas is still run with 0. */
    packet.initial_gas = (uint64_t)job->initial.gas + credit;
    /* With input the guest sets phi7/phi8 itself; the job's phi9.. travel
     * as arguments (the registers the engines agree on). */
    unsigned first = job->has_input ? PVM_REG_A2 : PVM_REG_A0;
    packet.arg_count = 4;
    for (unsigned i = 0; i < 4; i++)
        packet.args[i] = job->initial.regs[first + i];

    struct nub_readback rb[NUB_INVOKE_MAX_READBACKS];
    for (size_t i = 0; i < job->readback_count; i++)
        rb[i] = (struct nub_readback){job->readbacks[i].address, job->readbacks[i].length,
                                      job->readbacks[i].buffer, 0};
    struct nub_call call = {
        .host = job->host,
        .input = job->has_input ? (job->input ? (const void *)job->input : (const void *)"") : NULL,
        .input_len = job->input_len,
        .output = job->output,
        .output_cap = job->output_cap,
        .readbacks = rb,
        .readback_count = job->readback_count,
    };
    struct nub_invocation_result res;
    s = nub_invoke_call(sb, &packet, &call, &res);
    out->host_calls = call.host_calls;
    out->output_len = call.output_len;
    out->output_status = call.output_status;
    if (s != NUB_OK) {
        int rc = fail(err, err_len, "invoke", s, sb);
        nub_sandbox_destroy(sb);
        return rc;
    }
    nub_sandbox_destroy(sb);
    for (size_t i = 0; i < job->readback_count; i++)
        job->readbacks[i].ok = rb[i].ok != 0;
    out->exit.reason = res.exit_reason;
    out->exit.pc = res.pc;
    out->exit.arg = res.exit_arg;
    out->final.pc = res.pc;
    out->final.gas = (int64_t)res.gas_remaining;
    memcpy(out->final.regs, res.regs, sizeof out->final.regs);
    const struct pvm_isa *isa = pvm_isa_get(job->isa);
    out->final.gas_charged =
        res.exit_reason == NUB_EXIT_HOST_CALL ||
        (res.exit_reason == NUB_EXIT_PAGE_FAULT && isa != NULL && isa->fault_keeps_block_paid);
    if (res.exit_reason == NUB_EXIT_ERROR) {
        snprintf(err, err_len, "sandbox: the guest engine failed: %s",
                 nub_strerror((nub_status)res.exit_arg));
        return -1;
    }
    return 0;
}

const struct nubrun_engine nubrun_engine_sandbox = {
    .name = "sandbox",
    .description = "the JIT inside a KVM micro-VM (libnubhost + guest kernel, ring 3)",
    .run = sandbox_run,
    /* The guest compiles with the same jit_compile: its charges are the
     * hosted JIT's, read from compiled code. */
    .block_costs = nubrun_jit_block_costs,
};
