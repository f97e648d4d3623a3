/* directory.c — see directory.h. */
#include "directory.h"

#include "heap.h"
#include "jit_cache.h"
#include "kernel.h"
#include "kstring.h"
#include "page_pool.h"
#include "nub_blake2b.h"

#define XXH_INLINE_ALL
#define XXH_VECTOR 0       /* XXH_SCALAR: the kernel is built without SSE */
#include NUB_XXHASH_HEADER /* <xxhash.h>, by path: see CMakeLists.txt */

struct nub_cap_directory nub_kernel_directory = {.type_id = NUB_DIRECTORY_TYPE_ID};

void nub_directory_init(uint64_t heap_bytes, uint64_t max_caps, uint64_t max_bytes)
{
    uint64_t bytes = heap_bytes / 2;
    if (bytes > NUB_DIRECTORY_MAX_BYTES)
        bytes = NUB_DIRECTORY_MAX_BYTES;
    if (max_bytes && max_bytes < bytes)
        bytes = max_bytes;
    nub_kernel_directory.max_bytes = bytes;
    nub_kernel_directory.max_caps =
        max_caps && max_caps < NUB_DIRECTORY_MAX_CAPS ? max_caps : NUB_DIRECTORY_MAX_CAPS;
}

static uint32_t bucket_of(const uint8_t *hash)
{
    return (uint32_t)(XXH3_64bits(hash, NUB_CAP_HASH_BYTES) & (NUB_DIRECTORY_BUCKETS - 1));
}

const struct nub_cap_entry *nub_directory_find(const uint8_t *hash)
{
    for (const struct nub_cap_entry *e = nub_kernel_directory.buckets[bucket_of(hash)]; e;
         e = e->next)
        if (nub_memcmp(e->hash, hash, NUB_CAP_HASH_BYTES) == 0)
            return e;
    return 0;
}

static nub_status find_kind(const uint8_t *hash, uint32_t kind, const struct nub_cap_entry **out)
{
    const struct nub_cap_entry *e = nub_directory_find(hash);
    if (!e)
        return NUB_ERR_CAP_MISSING_DEP;
    if (e->view.kind != kind)
        return NUB_ERR_CAP_WRONG_KIND;
    *out = e;
    return NUB_OK;
}

/* An INSTANCE may only refer to caps already stored, of the right kind. */
static nub_status check_instance_deps(const struct nub_wire_cap_view *v)
{
    const struct nub_cap_entry *dep;
    nub_status s = find_kind(v->instance.image_hash, NUB_WIRE_KIND_IMAGE, &dep);
    for (uint32_t i = 0; s == NUB_OK && i < v->instance.segment_count; i++) {
        struct nub_wire_segment seg;
        s = nub_wire_instance_segment(v, i, &seg);
        if (s != NUB_OK || !seg.has_data)
            continue;
        s = find_kind(seg.data_hash, NUB_WIRE_KIND_DATA, &dep);
        if (s == NUB_OK && dep->view.data.len != seg.data_len)
            s = NUB_ERR_CAP_MISSING_DEP; /* no DATA with this hash *and* length */
    }
    return s;
}

nub_status nub_directory_put(const uint8_t *wire, uint32_t len, uint8_t *hash_out)
{
    struct nub_cap_directory *d = &nub_kernel_directory;
    /* Work on a private copy: what is validated is what gets stored. */
    uint8_t *copy = nub_heap_alloc(len ? len : 1);
    if (!copy)
        return NUB_ERR_HEAP_EXHAUSTED;
    nub_memcpy(copy, wire, len);

    struct nub_wire_cap_view view;
    nub_status s = nub_wire_decode_cap(copy, len, &view);
    nub_cap_hash hash;
    if (s == NUB_OK) {
        nub_cap_hash_of(copy, len, hash);
        if (nub_directory_find(hash)) { /* already stored: same bytes, same cap */
            nub_heap_free(copy);
            nub_memcpy(hash_out, hash, NUB_CAP_HASH_BYTES);
            return NUB_OK;
        }
    }
    if (s == NUB_OK && view.kind == NUB_WIRE_KIND_INSTANCE)
        s = check_instance_deps(&view);
    if (s == NUB_OK &&
        (d->cap_count >= d->max_caps || len > d->max_bytes || d->cap_bytes > d->max_bytes - len))
        s = NUB_ERR_DIRECTORY_FULL;
    struct nub_cap_entry *e = 0;
    if (s == NUB_OK) {
        e = nub_heap_alloc(sizeof *e);
        if (!e)
            s = NUB_ERR_HEAP_EXHAUSTED;
    }
    if (s != NUB_OK) {
        nub_heap_free(copy);
        return s;
    }
    nub_memcpy(e->hash, hash, NUB_CAP_HASH_BYTES);
    e->view = view;
    e->bytes = copy;
    e->len = len;
    uint32_t b = bucket_of(hash);
    e->next = d->buckets[b];
    d->buckets[b] = e;
    d->cap_count++;
    d->cap_bytes += len;
    nub_memcpy(hash_out, hash, NUB_CAP_HASH_BYTES);
    return NUB_OK;
}

/* Does a stored INSTANCE refer to the IMAGE or DATA with this hash? */
static int referenced(const uint8_t *hash)
{
    const struct nub_cap_directory *d = &nub_kernel_directory;
    for (uint32_t b = 0; b < NUB_DIRECTORY_BUCKETS; b++) {
        for (const struct nub_cap_entry *e = d->buckets[b]; e; e = e->next) {
            const struct nub_wire_cap_view *v = &e->view;
            if (v->kind != NUB_WIRE_KIND_INSTANCE)
                continue;
            if (nub_memcmp(v->instance.image_hash, hash, NUB_CAP_HASH_BYTES) == 0)
                return 1;
            for (uint32_t i = 0; i < v->instance.segment_count; i++) {
                struct nub_wire_segment seg;
                if (nub_wire_instance_segment(v, i, &seg) == NUB_OK && seg.has_data &&
                    nub_memcmp(seg.data_hash, hash, NUB_CAP_HASH_BYTES) == 0)
                    return 1;
            }
        }
    }
    return 0;
}

nub_status nub_directory_drop(const uint8_t *hash)
{
    struct nub_cap_directory *d = &nub_kernel_directory;
    struct nub_cap_entry **link = &d->buckets[bucket_of(hash)];
    while (*link && nub_memcmp((*link)->hash, hash, NUB_CAP_HASH_BYTES) != 0)
        link = &(*link)->next;
    struct nub_cap_entry *e = *link;
    if (!e)
        return NUB_ERR_CAP_NOT_FOUND;
    if (e->view.kind != NUB_WIRE_KIND_INSTANCE && referenced(hash))
        return NUB_ERR_CAP_IN_USE;
    if (e->view.kind == NUB_WIRE_KIND_INSTANCE)
        nub_run_drop_spaces(hash);
    if (e->view.kind == NUB_WIRE_KIND_IMAGE)
        nub_jit_cache_drop(hash);
    *link = e->next;
    d->cap_count--;
    d->cap_bytes -= e->len;
    nub_heap_free(e->bytes);
    nub_heap_free(e);
    /* Whole free chunks of the run page pool go back to the heap too, so a
     * sandbox whose caps are all dropped holds no memory for them. */
    nub_page_pool_trim();
    return NUB_OK;
}

nub_status nub_fn_drop_cap(const uint8_t *payload, uint32_t len, uint8_t *reply, uint32_t cap,
                           uint32_t *reply_len)
{
    (void)len;
    (void)reply;
    (void)cap;
    *reply_len = 0;
    nub_cap_hash h;
    nub_memcpy(h, payload, sizeof h);
    return nub_directory_drop(h);
}

nub_status nub_fn_put_cap(const uint8_t *payload, uint32_t len, uint8_t *reply, uint32_t cap,
                          uint32_t *reply_len)
{
    if (cap < NUB_CAP_HASH_BYTES)
        return NUB_ERR_PAYLOAD_TOO_LARGE;
    nub_status s = nub_directory_put(payload, len, reply);
    if (s == NUB_OK)
        *reply_len = NUB_CAP_HASH_BYTES;
    return s;
}
