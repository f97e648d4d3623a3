/*
 * invoke.c — INVOKE_CACHED: one run of a published INSTANCE (docs/protocol.md
 * §4, the records in abi/nub_rpc.h).
 *
 * Request: struct nub_invoke_packet, optionally followed by struct
 * nub_invoke_io_header, its readback ranges and its input bytes. The run
 * starts from the instance's published memory (the space is kept between
 * calls by run_space.c, its contents restored), with the endpoint's
 * registers, the packet's argument registers, and the input in the argument
 * area; it goes until an exit that ends it (with NUB_INVOKE_IO_HOST_CALLS a
 * host call does not: the JIT code asks the host through NUB_PORT_HOST_CALL
 * and continues). Reply: the wire InvocationResult, the readbacks, then the
 * output of a halted run.
 */
#include "invoke.h"

#include "directory.h"
#include "kernel.h"
#include "kstring.h"
#include "nub_capbuild.h"
#include "run.h"

struct invoke_request {
    struct nub_invoke_packet packet;
    struct nub_invoke_io_header io;
    const uint8_t *ranges; /* io.readback_count x struct nub_readback_range */
    const uint8_t *input;  /* io.input_len bytes */
};

static nub_status parse(const uint8_t *payload, uint32_t len, struct invoke_request *req)
{
    nub_memcpy(&req->packet, payload, sizeof req->packet); /* unaligned-safe */
    nub_memset(&req->io, 0, sizeof req->io);
    if (req->packet.arg_count > 4)
        return NUB_ERR_ARG_COUNT;
    for (uint32_t i = req->packet.arg_count; i < 4; i++)
        if (req->packet.args[i] != 0)
            return NUB_ERR_ARG_COUNT; /* filled but not counted: a forgotten arg_count */
    uint32_t rest = len - (uint32_t)sizeof req->packet;
    req->ranges = req->input = payload + sizeof req->packet;
    if (rest == 0)
        return NUB_OK;
    if (rest < sizeof req->io)
        return NUB_ERR_READBACK_LIST;
    nub_memcpy(&req->io, payload + sizeof req->packet, sizeof req->io);
    rest -= (uint32_t)sizeof req->io;
    if ((req->io.flags & ~NUB_INVOKE_IO_FLAGS) != 0 ||
        (!(req->io.flags & NUB_INVOKE_IO_INPUT) && req->io.input_len != 0) ||
        (!(req->io.flags & NUB_INVOKE_IO_OUTPUT) && req->io.output_cap != 0))
        return NUB_ERR_BAD_PACKET;
    if (req->io.input_len > NUB_RPC_MAX_INPUT)
        return NUB_ERR_INPUT_TOO_LARGE;
    uint64_t need =
        (uint64_t)req->io.readback_count * sizeof(struct nub_readback_range) + req->io.input_len;
    if (req->io.readback_count > NUB_RPC_MAX_READBACKS || need != rest)
        return NUB_ERR_READBACK_LIST;
    req->ranges = payload + sizeof req->packet + sizeof req->io;
    req->input = req->ranges + req->io.readback_count * sizeof(struct nub_readback_range);
    return NUB_OK;
}

/* Copies [address, address + length) out of the run's pages; 0 if some
 * byte is inaccessible (then out is zeroed). */
static int read_back(const struct run *r, uint32_t address, uint32_t length, uint8_t *out)
{
    uint32_t done = 0;
    while (done < length) {
        uint32_t a = address + done; /* wraps like PVM addresses */
        uint32_t in_page = 4096 - (a & 4095);
        uint32_t n = length - done < in_page ? length - done : in_page;
        uint8_t *page;
        if (nub_uspace_access(r->space_ptr, nub_run_window_va(a & ~UINT32_C(4095)), &page) ==
            NUB_DECL_NONE) {
            nub_memset(out, 0, length);
            return 0;
        }
        if (page)
            nub_memcpy(out + done, page + (a & 4095), n);
        else
            nub_memset(out + done, 0, n); /* declared, never touched: zeros */
        done += n;
    }
    return 1;
}

/* Appends a record + its bytes to the reply, or fails if they do not fit. */
static nub_status reserve(uint32_t cap, size_t *used, uint64_t bytes)
{
    if (bytes > cap || cap - *used < bytes)
        return NUB_ERR_PAYLOAD_TOO_LARGE;
    *used += (size_t)bytes;
    return NUB_OK;
}

static nub_status reply_result(const struct run *r, const struct invoke_request *req,
                               const struct nub_invocation_result *res, uint8_t *reply,
                               uint32_t cap, uint32_t *reply_len)
{
    size_t used = 0;
    nub_status s = nub_wire_encode_result(res, reply, cap, &used);
    for (uint32_t i = 0; s == NUB_OK && i < req->io.readback_count; i++) {
        struct nub_readback_range range;
        nub_memcpy(&range, req->ranges + sizeof range * i, sizeof range);
        size_t at = used;
        s = reserve(cap, &used, sizeof(struct nub_readback_reply) + (uint64_t)range.length);
        if (s != NUB_OK)
            break;
        struct nub_readback_reply rec = {.length = range.length};
        rec.ok = (uint32_t)read_back(r, range.address, range.length, reply + at + sizeof rec);
        nub_memcpy(reply + at, &rec, sizeof rec);
    }
    if (s == NUB_OK && (req->io.flags & NUB_INVOKE_IO_OUTPUT) &&
        res->exit_reason == NUB_EXIT_HALT) {
        uint64_t len = res->regs[PVM_REG_A1];
        struct nub_output_reply rec = {.length = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len};
        size_t at = used;
        s = reserve(cap, &used, sizeof rec);
        if (s == NUB_OK && len > req->io.output_cap) {
            rec.status = NUB_ERR_OUTPUT_TOO_LARGE;
        } else if (s == NUB_OK) {
            size_t bytes_at = used;
            s = reserve(cap, &used, len);
            if (s == NUB_OK &&
                !read_back(r, (uint32_t)res->regs[PVM_REG_A0], (uint32_t)len, reply + bytes_at)) {
                rec.status = NUB_ERR_MEMORY_INACCESSIBLE;
                used = bytes_at;
            }
        }
        if (s == NUB_OK)
            nub_memcpy(reply + at, &rec, sizeof rec);
    }
    if (s == NUB_OK)
        *reply_len = (uint32_t)used;
    return s;
}

static void fill_result(struct nub_invocation_result *res, const struct pvm_state *st,
                        const struct pvm_exit *ex)
{
    nub_memset(res, 0, sizeof *res);
    res->exit_reason = ex->reason;
    res->exit_arg = ex->arg;
    res->return_value = st->regs[PVM_REG_A0];
    res->gas_remaining = (uint64_t)st->gas;
    for (int i = 0; i < NUB_PVM_REGS; i++)
        res->regs[i] = st->regs[i];
    res->pc = ex->pc;
}

/* Tells the host where the run's context block and tables are (read by the
 * host on NUB_PORT_HOST_CALL), in the response buffer the reply overwrites. */
static void publish_host_call_record(const struct run *r, uint32_t isa)
{
    struct nub_host_call_record rec = {
        .magic = NUB_HOST_CALL_MAGIC,
        .ctx_gpa = (uint64_t)(uintptr_t)r->ctx, /* identity map: VA = GPA */
        .cr3_gpa = (uint64_t)(uintptr_t)r->space_ptr->pml4,
        .heap_base = r->heap_base,
        .isa = isa,
    };
    nub_memcpy((void *)(uintptr_t)nub_kernel_params.response_gpa, &rec, sizeof rec);
}

nub_status nub_fn_invoke_cached(const uint8_t *payload, uint32_t len, uint8_t *reply, uint32_t cap,
                                uint32_t *reply_len)
{
    struct invoke_request req;
    nub_status s = parse(payload, len, &req);
    if (s != NUB_OK)
        return s;
    const struct nub_cap_entry *inst = nub_directory_find(req.packet.instance_hash);
    if (!inst)
        return NUB_ERR_CAP_NOT_FOUND;
    if (inst->view.kind != NUB_WIRE_KIND_INSTANCE)
        return NUB_ERR_CAP_WRONG_KIND;
    const struct nub_cap_entry *image = nub_directory_find(inst->view.instance.image_hash);
    if (!image || image->view.kind != NUB_WIRE_KIND_IMAGE)
        return NUB_ERR_CAP_MISSING_DEP; /* cannot happen: checked at PUT_CAP */
    if (req.packet.endpoint_idx >= image->view.image.endpoint_count)
        return NUB_ERR_BAD_ENDPOINT;
    struct nub_wire_endpoint ep;
    s = nub_wire_image_endpoint(&image->view, req.packet.endpoint_idx, &ep);
    if (s != NUB_OK)
        return s;

    struct pvm_state state;
    nub_memset(&state, 0, sizeof state);
    for (int i = 0; i < NUB_PVM_REGS; i++)
        state.regs[i] = ep.regs[i];
    struct run_input input = {0, 0};
    unsigned first_arg = PVM_REG_A0;
    if (req.io.flags & NUB_INVOKE_IO_INPUT) {
        input = (struct run_input){req.input, req.io.input_len};
        state.regs[PVM_REG_A0] = NUB_STDPROG_ARGS_BASE; /* SPEC §11 */
        state.regs[PVM_REG_A1] = req.io.input_len;
        first_arg = PVM_REG_A2;
    }
    for (uint32_t i = 0; i < req.packet.arg_count; i++)
        state.regs[first_arg + i] = req.packet.args[i];
    state.pc = ep.pc;
    /* PVM gas is a signed i64 (SPEC §1): a budget past INT64_MAX would turn
     * negative and end the run at once, so it is refused. */
    uint64_t gas =
        req.packet.initial_gas ? req.packet.initial_gas : inst->view.instance.facts.default_gas;
    if (gas > (uint64_t)INT64_MAX)
        return NUB_ERR_GAS_TOO_LARGE;
    state.gas = (int64_t)gas;
    state.heap_top = inst->view.instance.facts.heap_top;
    state.heap_limit = inst->view.instance.facts.heap_limit;

    struct run run;
    nub_memset(&run, 0, sizeof run);
    run.heap_base = state.heap_top;
    run.heap_declared = state.heap_top;
    run.refill = POOL_RESERVE_PAGES;
    s = nub_jit_cache_get(image, &run.jit);
    if (s != NUB_OK)
        return s;
    struct nub_invocation_result res;
    s = nub_run_acquire_space(&run, inst, &input);
    if (s == NUB_OK && run.jit->invalid) {
        /* SPEC §4.2: an invalid blob panics at pc 0 without running or
         * charging gas; memory stays as published. */
        struct pvm_exit ex = {.reason = PVM_EXIT_PANIC, .pc = 0, .arg = 0};
        fill_result(&res, &state, &ex);
        s = reply_result(&run, &req, &res, reply, cap, reply_len);
    } else if (s == NUB_OK) {
        struct jit_runner platform;
        nub_run_platform(&run, &platform);
        run.ctx->host_call = (req.io.flags & NUB_INVOKE_IO_HOST_CALLS) ? 1 : 0;
        if (run.ctx->host_call)
            publish_host_call_record(&run, image->view.image.isa);
        struct pvm_exit ex;
        jit_run(&run.jit->code, run.ctx, &platform, &state, false, &ex);
        run.ctx->host_call = 0;
        fill_result(&res, &state, &ex);
        s = reply_result(&run, &req, &res, reply, cap, reply_len);
    }
    nub_run_release_space(&run, s);
    return s;
}
