/* api.c — the typed calls of the public API, each one RPC. */
#include "sandbox_int.h"

#include <string.h>

#include "nub_blake2b.h"

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v); /* both sides little-endian */
    return v;
}

nub_status nub_sandbox_call_raw(nub_sandbox *sb, uint32_t fn_id, const void *payload, size_t len,
                                void *reply, size_t reply_cap, size_t *reply_len)
{
    if (!sb || (reply_cap && !reply))
        return NUB_ERR_INVALID_ARGUMENT;
    return nub__call(sb, fn_id, payload, len, reply, reply_cap, reply_len);
}

nub_status nub_smoke(nub_sandbox *sb, uint64_t *out)
{
    if (!sb || !out)
        return NUB_ERR_INVALID_ARGUMENT;
    uint8_t r[8];
    nub_status s = nub__call_exact(sb, NUB_FN_ID_SMOKE, NULL, 0, r, sizeof r);
    if (s == NUB_OK)
        *out = get_u64(r);
    return s;
}

nub_status nub_heap_stats(nub_sandbox *sb, struct nub_heap_stats *out)
{
    if (!sb || !out)
        return NUB_ERR_INVALID_ARGUMENT;
    uint8_t r[32];
    nub_status s = nub__call_exact(sb, NUB_FN_ID_HEAP_STATS, NULL, 0, r, sizeof r);
    if (s == NUB_OK) {
        out->allocated_bytes = get_u64(r);
        out->allocation_count = get_u64(r + 8);
        out->fragment_count = get_u64(r + 16);
        out->available_bytes = get_u64(r + 24);
    }
    return s;
}

nub_status nub_get_boot_info(nub_sandbox *sb, struct nub_boot_info *out)
{
    if (!sb || !out)
        return NUB_ERR_INVALID_ARGUMENT;
    uint8_t r[sizeof *out];
    nub_status s = nub__call_exact(sb, NUB_FN_ID_GET_BOOT_INFO, NULL, 0, r, sizeof r);
    if (s == NUB_OK)
        memcpy(out, r, sizeof *out);
    return s;
}

int nub_sandbox_has_cap(const nub_sandbox *sb, const nub_cap_hash h)
{
    return sb && h && nub__hash_set_has(&sb->published, h);
}

nub_status nub__put_cap(nub_sandbox *sb, const void *wire, size_t len, const uint8_t *expected,
                        nub_cap_hash out)
{
    uint8_t hash[NUB_CAP_HASH_BYTES];
    nub_status s = nub__call_exact(sb, NUB_FN_ID_PUT_CAP, wire, len, hash, sizeof hash);
    if (s != NUB_OK)
        return s;
    /* The reply is the guest's word for the hash: check it before the host's
     * set (nub_sandbox_has_cap) records it. */
    uint8_t own[NUB_CAP_HASH_BYTES];
    if (!expected) {
        nub_cap_hash_of(wire, len, own);
        expected = own;
    }
    if (memcmp(hash, expected, sizeof hash) != 0)
        return nub__kill(sb, NUB_ERR_PROTOCOL, "guest hash differs from the cap's hash");
    sb->published_changed = 1;
    if (nub__hash_set_add(&sb->published, hash) != 0)
        return nub__fail(sb, NUB_ERR_NOMEM, "host hash set");
    memcpy(out, hash, sizeof hash);
    return NUB_OK;
}

nub_status nub_drop_cap(nub_sandbox *sb, const nub_cap_hash hash)
{
    if (!sb)
        return NUB_ERR_INVALID_ARGUMENT;
    if (!hash)
        return nub__fail(sb, NUB_ERR_INVALID_ARGUMENT, "NULL hash");
    nub_status s = nub__call_exact(sb, NUB_FN_ID_DROP_CAP, hash, NUB_CAP_HASH_BYTES, NULL, 0);
    if (s == NUB_OK) {
        nub__hash_set_remove(&sb->published, hash);
        sb->published_changed = 1;
        if (sb->snapshot_published)
            s = nub_sandbox_snapshot(sb); /* the restore point follows the published set */
    } else if (s == NUB_ERR_CAP_IN_USE) {
        nub__fail(sb, s, "an INSTANCE still uses this cap: drop the INSTANCE first");
    }
    return s;
}

nub_status nub_put_cap(nub_sandbox *sb, const void *wire, size_t len, nub_cap_hash out)
{
    if (!sb || !wire || !out)
        return NUB_ERR_INVALID_ARGUMENT;
    nub_status s = nub__put_cap(sb, wire, len, NULL, out);
    if (s == NUB_OK && sb->snapshot_published)
        s = nub_sandbox_snapshot(sb);
    return s;
}
