/*
 * invoke.c — nub_invoke / nub_invoke_readback (INVOKE_CACHED) and the
 * publish helpers that turn programs into caps (abi/nub_capbuild) and PUT
 * them in dependency order.
 */
#include "sandbox_int.h"

#include <stdlib.h>
#include <string.h>

#include "nub_wire.h"

#define READBACK_HEADER 8u

static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

nub_status nub_invoke_readback(nub_sandbox *sb, const struct nub_invoke_packet *p,
                               struct nub_invocation_result *out, struct nub_readback *rb,
                               size_t count)
{
    if (!sb || !p || !out || (count && !rb) || count > NUB_INVOKE_MAX_READBACKS)
        return NUB_ERR_INVALID_ARGUMENT;
    if (sb->dead)
        return NUB_ERR_SANDBOX_DEAD; /* last_error still says why it died */
    uint8_t request[sizeof *p + NUB_INVOKE_MAX_READBACKS * READBACK_HEADER];
    memcpy(request, p, sizeof *p);
    /* At most 64 ranges of < 4 GiB each: the sum fits a uint64_t. */
    uint64_t reply_cap = NUB_WIRE_RESULT_BYTES;
    for (size_t i = 0; i < count; i++) {
        if (rb[i].length && !rb[i].buffer)
            return NUB_ERR_INVALID_ARGUMENT;
        memcpy(request + sizeof *p + READBACK_HEADER * i, &rb[i].address, 4);
        memcpy(request + sizeof *p + READBACK_HEADER * i + 4, &rb[i].length, 4);
        reply_cap += READBACK_HEADER + (uint64_t)rb[i].length;
    }
    /* The reply must fit the guest's response buffer: refuse a request that
     * cannot be answered before allocating for it or running the program. */
    if (reply_cap > sb->params.response_bytes - sizeof(struct nub_rpc_response_header))
        return nub__fail(sb, NUB_ERR_PAYLOAD_TOO_LARGE,
                         "readbacks need a %llu-byte reply; the response buffer holds %llu",
                         (unsigned long long)reply_cap,
                         (unsigned long long)(sb->params.response_bytes -
                                              sizeof(struct nub_rpc_response_header)));
    uint8_t *reply = malloc((size_t)reply_cap);
    if (!reply)
        return nub__fail(sb, NUB_ERR_NOMEM, "reply buffer");
    nub_status s = nub__call_exact(sb, NUB_FN_ID_INVOKE_CACHED, request,
                                   sizeof *p + READBACK_HEADER * count, reply, (size_t)reply_cap);
    if (s == NUB_OK) {
        s = nub_wire_decode_result(reply, NUB_WIRE_RESULT_BYTES, out);
        if (s != NUB_OK)
            s = nub__kill(sb, NUB_ERR_PROTOCOL, "INVOKE_CACHED: malformed result (%s)",
                          nub_strerror(s));
    }
    size_t off = NUB_WIRE_RESULT_BYTES;
    for (size_t i = 0; s == NUB_OK && i < count; i++) {
        uint32_t ok = get_u32(reply + off), len = get_u32(reply + off + 4);
        if (len != rb[i].length || ok > 1) {
            s = nub__kill(sb, NUB_ERR_PROTOCOL, "INVOKE_CACHED: malformed readback %zu", i);
            break;
        }
        memcpy(rb[i].buffer, reply + off + READBACK_HEADER, len);
        rb[i].ok = (int)ok;
        off += READBACK_HEADER + len;
    }
    free(reply);
    return s;
}

nub_status nub_invoke(nub_sandbox *sb, const struct nub_invoke_packet *p,
                      struct nub_invocation_result *out)
{
    return nub_invoke_readback(sb, p, out, NULL, 0);
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
    if (s == NUB_OK)
        s = put_all(sb, &out, instance_out);
    else
        nub__fail(sb, s, "building the caps: %s", nub_strerror(s));
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
