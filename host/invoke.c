/*
 * invoke.c — nub_invoke / nub_invoke_readback (INVOKE_CACHED) and the
 * publish helpers that turn programs into caps (abi/nub_capbuild) and PUT
 * them in dependency order.
 */
#include "sandbox_int.h"

#include <stdlib.h>
#include <string.h>

#include "nub_capbuild.h"
#include "nub_wire.h"

_Static_assert(NUB_INVOKE_MAX_READBACKS == NUB_RPC_MAX_READBACKS, "one readback limit");
_Static_assert(NUB_STDPROG_MAX_ARGS == NUB_RPC_MAX_INPUT, "one input limit");

/* The request: packet [+ io header + ranges + input] (abi/nub_rpc.h). */
static uint8_t *build_request(const struct nub_invoke_packet *p, const struct nub_call *call,
                              const struct nub_readback *rb, size_t count, size_t *len)
{
    struct nub_invoke_io_header io = {.readback_count = (uint32_t)count};
    if (call && call->host.fn)
        io.flags |= NUB_INVOKE_IO_HOST_CALLS;
    if (call && call->input) {
        io.flags |= NUB_INVOKE_IO_INPUT;
        io.input_len = call->input_len;
    }
    if (call && call->output) {
        io.flags |= NUB_INVOKE_IO_OUTPUT;
        io.output_cap = call->output_cap;
    }
    int extra = io.flags != 0 || count != 0;
    *len = sizeof *p +
           (extra ? sizeof io + count * sizeof(struct nub_readback_range) + io.input_len : 0);
    uint8_t *req = malloc(*len);
    if (!req)
        return NULL;
    memcpy(req, p, sizeof *p);
    if (!extra)
        return req;
    uint8_t *at = req + sizeof *p;
    memcpy(at, &io, sizeof io);
    at += sizeof io;
    for (size_t i = 0; i < count; i++, at += sizeof(struct nub_readback_range)) {
        struct nub_readback_range r = {rb[i].address, rb[i].length};
        memcpy(at, &r, sizeof r);
    }
    if (io.input_len)
        memcpy(at, call->input, io.input_len);
    return req;
}

/* Reads the output record of a halted run's reply (checked: the guest's). */
static nub_status take_output(nub_sandbox *sb, const uint8_t *reply, size_t off, size_t reply_len,
                              struct nub_call *call)
{
    struct nub_output_reply rec;
    if (reply_len - off < sizeof rec)
        return nub__kill(sb, NUB_ERR_PROTOCOL, "INVOKE_CACHED: output record missing");
    memcpy(&rec, reply + off, sizeof rec);
    off += sizeof rec;
    call->output_len = rec.length;
    if (rec.status == NUB_OK && rec.length <= call->output_cap && reply_len - off == rec.length) {
        memcpy(call->output, reply + off, rec.length);
        call->output_status = NUB_OK;
        return NUB_OK;
    }
    if ((rec.status == NUB_ERR_OUTPUT_TOO_LARGE && rec.length > call->output_cap) ||
        (rec.status == NUB_ERR_MEMORY_INACCESSIBLE && rec.length <= call->output_cap)) {
        if (reply_len != off)
            return nub__kill(sb, NUB_ERR_PROTOCOL, "INVOKE_CACHED: bytes after the output");
        call->output_status = (nub_status)rec.status;
        return NUB_OK;
    }
    return nub__kill(sb, NUB_ERR_PROTOCOL, "INVOKE_CACHED: malformed output record");
}

static nub_status invoke(nub_sandbox *sb, const struct nub_invoke_packet *p, struct nub_call *call,
                         struct nub_invocation_result *out, struct nub_readback *rb, size_t count)
{
    if (!sb)
        return NUB_ERR_INVALID_ARGUMENT;
    if (sb->dead)
        return NUB_ERR_SANDBOX_DEAD; /* last_error still says why it died */
    if (sb->in_host_fn)
        return nub__fail(sb, NUB_ERR_INVALID_ARGUMENT,
                         "called from a host function of this sandbox's running call");
    sb->last_error[0] = 0;
    if (!p || !out || (count && !rb) || count > NUB_INVOKE_MAX_READBACKS)
        return nub__fail(sb, NUB_ERR_INVALID_ARGUMENT, "NULL argument or more than %u readbacks",
                         NUB_INVOKE_MAX_READBACKS);
    if (call && ((call->input_len && !call->input) || (call->output_cap && !call->output)))
        return nub__fail(sb, NUB_ERR_INVALID_ARGUMENT, "input or output buffer is NULL");
    if (call && call->input && call->input_len > NUB_STDPROG_MAX_ARGS)
        return nub__fail(sb, NUB_ERR_INPUT_TOO_LARGE, "input of %u bytes (at most %u)",
                         call->input_len, NUB_STDPROG_MAX_ARGS);
    /* At most 64 ranges of < 4 GiB each: the sum fits a uint64_t. */
    uint64_t reply_cap = NUB_WIRE_RESULT_BYTES;
    for (size_t i = 0; i < count; i++) {
        if (rb[i].length && !rb[i].buffer)
            return nub__fail(sb, NUB_ERR_INVALID_ARGUMENT, "readback %zu has no buffer", i);
        reply_cap += sizeof(struct nub_readback_reply) + (uint64_t)rb[i].length;
    }
    if (call && call->output)
        reply_cap += sizeof(struct nub_output_reply) + call->output_cap;
    /* The reply must fit the guest's response buffer: refuse a request that
     * cannot be answered before allocating for it or running the program. */
    uint64_t response_cap = sb->params.response_bytes - sizeof(struct nub_rpc_response_header);
    if (reply_cap > response_cap)
        return nub__fail(sb, NUB_ERR_PAYLOAD_TOO_LARGE,
                         "readbacks and output need a %llu-byte reply; the response buffer "
                         "holds %llu",
                         (unsigned long long)reply_cap, (unsigned long long)response_cap);
    size_t req_len = 0;
    uint8_t *request = build_request(p, call, rb, count, &req_len);
    uint8_t *reply = malloc((size_t)reply_cap);
    if (!request || !reply) {
        free(request);
        free(reply);
        return nub__fail(sb, NUB_ERR_NOMEM, "request or reply buffer");
    }
    if (call) {
        call->output_len = 0;
        call->output_status = NUB_OK;
        call->host_calls = 0;
    }
    sb->host = call && call->host.fn ? &call->host : NULL;
    sb->host_calls = 0;
    sb->host_status = NUB_OK;
    size_t reply_len = 0;
    nub_status s = nub__call_bounded(sb, NUB_FN_ID_INVOKE_CACHED, request, req_len, reply,
                                     (size_t)reply_cap, &reply_len);
    sb->host = NULL;
    if (call)
        call->host_calls = sb->host_calls;
    if (s == NUB_OK && reply_len < NUB_WIRE_RESULT_BYTES)
        s = nub__kill(sb, NUB_ERR_PROTOCOL, "INVOKE_CACHED: reply of %zu bytes", reply_len);
    if (s == NUB_OK) {
        s = nub_wire_decode_result(reply, NUB_WIRE_RESULT_BYTES, out);
        if (s != NUB_OK)
            s = nub__kill(sb, NUB_ERR_PROTOCOL, "INVOKE_CACHED: malformed result (%s)",
                          nub_strerror(s));
    }
    size_t off = NUB_WIRE_RESULT_BYTES;
    for (size_t i = 0; s == NUB_OK && i < count; i++) {
        struct nub_readback_reply rec;
        if (reply_len - off < sizeof rec) {
            s = nub__kill(sb, NUB_ERR_PROTOCOL, "INVOKE_CACHED: readback %zu missing", i);
            break;
        }
        memcpy(&rec, reply + off, sizeof rec);
        if (rec.length != rb[i].length || rec.ok > 1 || reply_len - off - sizeof rec < rec.length) {
            s = nub__kill(sb, NUB_ERR_PROTOCOL, "INVOKE_CACHED: malformed readback %zu", i);
            break;
        }
        memcpy(rb[i].buffer, reply + off + sizeof rec, rec.length);
        rb[i].ok = (int)rec.ok;
        off += sizeof rec + rec.length;
    }
    int want_output = call && call->output && out->exit_reason == NUB_EXIT_HALT;
    if (s == NUB_OK && want_output)
        s = take_output(sb, reply, off, reply_len, call);
    else if (s == NUB_OK && off != reply_len)
        s = nub__kill(sb, NUB_ERR_PROTOCOL, "INVOKE_CACHED: %zu bytes after the reply",
                      reply_len - off);
    if (s == NUB_OK && sb->host_status != NUB_OK)
        s = nub__fail(sb, sb->host_status,
                      "the host function of ecalli %llu returned an invalid action; the run "
                      "ended as a panic",
                      (unsigned long long)sb->host_call.id);
    free(request);
    free(reply);
    return s;
}

nub_status nub_invoke_readback(nub_sandbox *sb, const struct nub_invoke_packet *p,
                               struct nub_invocation_result *out, struct nub_readback *rb,
                               size_t count)
{
    return invoke(sb, p, NULL, out, rb, count);
}

nub_status nub_invoke(nub_sandbox *sb, const struct nub_invoke_packet *p,
                      struct nub_invocation_result *out)
{
    return invoke(sb, p, NULL, out, NULL, 0);
}

nub_status nub_invoke_call(nub_sandbox *sb, const struct nub_invoke_packet *p,
                           struct nub_call *call, struct nub_invocation_result *out)
{
    return invoke(sb, p, call, out, call ? call->readbacks : NULL, call ? call->readback_count : 0);
}

/* PUTs every built cap in order; the guest's hash must be the builder's. */
static nub_status put_all(nub_sandbox *sb, const struct nub_capbuild_out *built,
                          nub_cap_hash instance_out)
{
    for (uint32_t i = 0; i < built->cap_count; i++) {
        const struct nub_capbuild_cap *c = &built->caps[i];
        nub_cap_hash h;
        nub_status s = nub__put_cap(sb, built->buf + c->offset, c->len, c->hash, h);
        if (s != NUB_OK)
            return s;
    }
    memcpy(instance_out, built->caps[built->cap_count - 1].hash, NUB_CAP_HASH_BYTES);
    return NUB_OK;
}

typedef nub_status (*build_fn)(const void *input, struct nub_capbuild_out *out);

static nub_status publish(nub_sandbox *sb, build_fn build, const void *input,
                          nub_cap_hash instance_out)
{
    if (sb->dead)
        return NUB_ERR_SANDBOX_DEAD; /* before building: last_error keeps why it died */
    struct nub_capbuild_cap caps[NUB_CAPBUILD_MAX_CAPS];
    struct nub_capbuild_out out = {.caps = caps, .caps_cap = NUB_CAPBUILD_MAX_CAPS};
    nub_status s = build(input, &out); /* size query */
    if (s != NUB_OK)
        return nub__fail(sb, s, "building the caps: %s", nub_strerror(s));
    out.buf = malloc(out.needed ? out.needed : 1);
    if (!out.buf)
        return nub__fail(sb, NUB_ERR_NOMEM, "cap buffer of %zu bytes", out.needed);
    out.buf_cap = out.needed;
    s = build(input, &out);
    if (s != NUB_OK)
        nub__fail(sb, s, "building the caps: %s", nub_strerror(s));
    if (s == NUB_OK)
        s = put_all(sb, &out, instance_out);
    if (s == NUB_OK && sb->snapshot_published)
        s = nub_sandbox_snapshot(sb);
    free(out.buf);
    return s;
}

struct stdprog_input {
    const void *program;
    size_t program_len;
    const void *args;
    size_t args_len;
    uint64_t default_gas;
    uint32_t isa;
};

static nub_status build_stdprog(const void *input, struct nub_capbuild_out *out)
{
    const struct stdprog_input *in = input;
    return nub_capbuild_stdprog_isa(in->program, in->program_len, in->args, in->args_len,
                                    in->default_gas, in->isa, out);
}

static nub_status build_raw(const void *input, struct nub_capbuild_out *out)
{
    return nub_capbuild_raw(input, out);
}

nub_status nub_publish_stdprog(nub_sandbox *sb, const void *program, size_t program_len,
                               const void *args, size_t args_len, uint64_t default_gas,
                               nub_cap_hash instance_out)
{
    return nub_publish_stdprog_isa(sb, program, program_len, args, args_len, default_gas,
                                   NUB_ISA_GP_0_7_2, instance_out);
}

nub_status nub_publish_stdprog_isa(nub_sandbox *sb, const void *program, size_t program_len,
                                   const void *args, size_t args_len, uint64_t default_gas,
                                   uint32_t isa, nub_cap_hash instance_out)
{
    if (!sb || !program || (args_len && !args) || !instance_out)
        return NUB_ERR_INVALID_ARGUMENT;
    struct stdprog_input in = {program, program_len, args, args_len, default_gas, isa};
    return publish(sb, build_stdprog, &in, instance_out);
}

nub_status nub_publish_raw(nub_sandbox *sb, const struct nub_capbuild_raw *program,
                           nub_cap_hash instance_out)
{
    if (!sb || !program || !instance_out)
        return NUB_ERR_INVALID_ARGUMENT;
    return publish(sb, build_raw, program, instance_out);
}
