/*
 * jam_sandbox.c — see jam_sandbox.h.
 */
#include "jam_sandbox.h"

#include <stdlib.h>
#include <string.h>

#include "jam_runner.h"
#include "nub_capbuild.h"

nub_status jam_sandbox_publish(nub_sandbox *sb, const uint8_t *jam, size_t len,
                               nub_cap_hash instance)
{
    struct nub_capbuild_out out;
    memset(&out, 0, sizeof out);
    nub_status st = nub_capbuild_stdprog(jam, len, NULL, 0, 0, &out); /* size query */
    if (st != NUB_OK)
        return st;
    out.buf_cap = out.needed;
    out.buf = malloc(out.needed ? out.needed : 1);
    out.caps_cap = out.cap_count;
    out.caps = calloc(out.cap_count ? out.cap_count : 1, sizeof *out.caps);
    if (out.buf == NULL || out.caps == NULL) {
        st = NUB_ERR_NOMEM;
        goto done;
    }
    st = nub_capbuild_stdprog(jam, len, NULL, 0, 0, &out);
    for (uint32_t i = 0; st == NUB_OK && i < out.cap_count; i++) {
        nub_cap_hash h;
        st = nub_put_cap(sb, out.buf + out.caps[i].offset, out.caps[i].len, h);
        if (st == NUB_OK && i + 1 == out.cap_count)
            memcpy(instance, h, sizeof(nub_cap_hash));
    }
done:
    free(out.buf);
    free(out.caps);
    return st;
}

nub_status jam_sandbox_invoke(nub_sandbox *sb, const nub_cap_hash instance, uint32_t endpoint,
                              const uint64_t *args, size_t arg_count, uint64_t gas,
                              struct nub_invocation_result *out, uint64_t *run_ns)
{
    struct nub_invoke_packet p;
    memset(&p, 0, sizeof p);
    if (arg_count > 4)
        return NUB_ERR_INVALID_ARGUMENT;
    memcpy(p.instance_hash, instance, sizeof p.instance_hash);
    p.endpoint_idx = endpoint;
    p.arg_count = (uint32_t)arg_count;
    for (size_t i = 0; i < arg_count; i++)
        p.args[i] = args[i];
    p.initial_gas = gas;
    uint64_t t0 = jam_now_ns();
    nub_status st = nub_invoke(sb, &p, out);
    *run_ns = jam_now_ns() - t0;
    return st;
}
