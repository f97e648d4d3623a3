/*
 * rpc.c — the request loop. Each turn rings the doorbell (one `out`, the
 * only exit of a call: the host sees the reply of the previous request, or
 * "ready" the first time), then reads the next request and dispatches it.
 */
#include "kernel.h"

#include "kstring.h"
#include "x86.h"

static void write_reply_header(uint8_t *response, nub_status status, uint32_t len,
                               uint64_t sequence)
{
    struct nub_rpc_response_header h = {
        .status = (uint32_t)status,
        .payload_len = status == NUB_OK ? len : 0,
        .sequence = sequence,
    };
    nub_memcpy(response, &h, sizeof h);
}

static nub_status dispatch(const struct nub_rpc_request_header *req, const uint8_t *payload,
                           uint8_t *reply, uint32_t reply_cap, uint32_t *reply_len)
{
    const struct nub_boot_params *p = &nub_kernel_params;
    if (req->fn_id >= NUB_GUEST_FN_TABLE_SIZE)
        return NUB_ERR_UNKNOWN_FN;
    const struct nub_rpc_entry *e = &nub_rpc_table[req->fn_id];
    if (!e->fn || (e->debug_only && !(p->flags & NUB_BOOT_FLAG_DEBUG_FNS)))
        return NUB_ERR_UNKNOWN_FN;
    if (req->payload_len > p->request_bytes - sizeof *req || req->payload_len > e->max_len)
        return NUB_ERR_PAYLOAD_TOO_LARGE;
    if (req->payload_len < e->min_len)
        return NUB_ERR_PAYLOAD_TRUNCATED;
    *reply_len = 0;
    nub_status s = e->fn(payload, req->payload_len, reply, reply_cap, reply_len);
    if (s == NUB_OK && *reply_len > reply_cap)
        return NUB_ERR_PAYLOAD_TOO_LARGE; /* a kernel bug, but never overrun the host's buffer */
    return s;
}

void nub_rpc_serve(void)
{
    const struct nub_boot_params *p = &nub_kernel_params;
    uint8_t *request = (uint8_t *)(uintptr_t)p->request_gpa;
    uint8_t *response = (uint8_t *)(uintptr_t)p->response_gpa;
    uint32_t reply_cap = (uint32_t)(p->response_bytes - sizeof(struct nub_rpc_response_header));
    if (p->response_bytes - sizeof(struct nub_rpc_response_header) > UINT32_MAX)
        reply_cap = UINT32_MAX;

    write_reply_header(response, NUB_OK, 0, 0); /* "ready" */
    for (;;) {
        x86_outl(NUB_PORT_DOORBELL, 0);
        struct nub_rpc_request_header req;
        nub_memcpy(&req, request, sizeof req);
        uint32_t reply_len = 0;
        uint8_t *reply = response + sizeof(struct nub_rpc_response_header);
        nub_status s = dispatch(&req, request + sizeof req, reply, reply_cap, &reply_len);
        write_reply_header(response, s, reply_len, req.sequence);
    }
}
