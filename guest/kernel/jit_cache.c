/* jit_cache.c — see jit_cache.h. */
#include "jit_cache.h"

#include "nub_rpc.h"

#include "heap.h"
#include "kernel.h"
#include "kstring.h"
#include "pvm_program.h"
#include "uspace.h"

static struct {
    struct nub_jit_entry *head;
    uint64_t clock;
} cache;

static void entry_free(struct nub_jit_entry *e)
{
    if (e->program) {
        jit_code_release(&e->code);
        pvm_program_destroy(e->program);
    }
    nub_heap_free(e->code_buf);
    nub_heap_free(e);
}

/* Evicts the least recently used entry other than keep; 0 if none. */
int nub_jit_cache_evict(const struct nub_jit_entry *keep)
{
    struct nub_jit_entry **victim = 0;
    for (struct nub_jit_entry **link = &cache.head; *link; link = &(*link)->next)
        if (*link != keep && (!victim || (*link)->last_use < (*victim)->last_use))
            victim = link;
    if (!victim)
        return 0;
    struct nub_jit_entry *e = *victim;
    *victim = e->next;
    entry_free(e);
    return 1;
}

void nub_jit_cache_drop(const uint8_t *image_hash)
{
    for (struct nub_jit_entry **link = &cache.head; *link; link = &(*link)->next) {
        struct nub_jit_entry *e = *link;
        if (nub_memcmp(e->image_hash, image_hash, NUB_CAP_HASH_BYTES) == 0) {
            *link = e->next;
            entry_free(e);
            return;
        }
    }
}

void *nub_alloc_evicting(size_t bytes, size_t alignment, const struct nub_jit_entry *keep)
{
    for (;;) {
        void *p = nub_heap_alloc_aligned(bytes, alignment);
        /* Cached address spaces go first: they are cheaper to rebuild. */
        if (p || (!nub_invoke_evict_space() && !nub_jit_cache_evict(keep)))
            return p;
    }
}

static void *pvm_alloc(void *ctx, size_t size)
{
    (void)ctx;
    return nub_alloc_evicting(size, 16, 0);
}

static void pvm_free(void *ctx, void *p)
{
    (void)ctx;
    nub_heap_free(p);
}

const struct pvm_allocator nub_kernel_pvm_allocator = {pvm_alloc, pvm_free, 0};

static nub_status compile(struct nub_jit_entry *e, const struct nub_cap_entry *image)
{
    /* The IMAGE's ISA version decides opcodes, validation and gas; the cache
     * is keyed by the IMAGE hash, which commits to it. */
    int err = pvm_program_decode_isa(image->view.image.blob, image->view.image.blob_len,
                                     image->view.image.isa, &nub_kernel_pvm_allocator, &e->program);
    if (err == PVM_ERR_NOMEM)
        return NUB_ERR_HEAP_EXHAUSTED;
    if (err != PVM_OK) {
        e->program = 0;
        e->invalid = 1;
        return NUB_OK;
    }
    struct jit_options options = {
        .platform = JIT_PLATFORM_GUEST,
        .guest_exit_vector = NUB_VECTOR_JIT_EXIT,
        .guest_host_call_port = NUB_PORT_HOST_CALL,
    };
    /* The compile writes into a buffer of the whole bound (160 bytes per
     * code byte, jit_code_size_bound), page-aligned so that the code stays
     * where it was compiled: the block is then shrunk to the pages the code
     * uses (no second buffer, no copy). If the heap minus the stored caps
     * (never evicted) cannot hold the bound, no eviction helps: refused
     * before anything is evicted, so such an image fails at once, every
     * time, and costs the cache nothing. */
    size_t bound = jit_code_size_bound(e->program);
    size_t bound_pages = (bound + 4095) / 4096;
    uint64_t fixed = nub_kernel_directory.cap_bytes, capacity = nub_heap_capacity();
    nub_status s = NUB_OK;
    uint8_t *buf = 0;
    if (fixed >= capacity || bound_pages * 4096 > capacity - fixed)
        s = NUB_ERR_JIT;
    else if (!(buf = nub_alloc_evicting(bound_pages * 4096, 4096, e)))
        s = NUB_ERR_HEAP_EXHAUSTED;
    size_t needed = 0;
    if (s == NUB_OK) {
        err = jit_compile(e->program, &options, &nub_kernel_pvm_allocator, buf, bound, &e->code,
                          &needed);
        if (err == PVM_ERR_NOMEM)
            s = NUB_ERR_HEAP_EXHAUSTED;
        else if (err != PVM_OK)
            s = NUB_ERR_JIT;
    }
    if (s == NUB_OK) {
        /* Keep only the pages the code needs (mapped to ring 3 page by
         * page); int3-fill the tail of the last one. */
        e->code_pages = (needed + 4095) / 4096;
        nub_memset(buf + needed, 0xCC, e->code_pages * 4096 - needed);
        nub_heap_shrink(buf, e->code_pages * 4096);
        e->code_buf = buf;
        buf = 0;
    }
    nub_heap_free(buf);
    if (s != NUB_OK) {
        pvm_program_destroy(e->program);
        e->program = 0;
    }
    return s;
}

nub_status nub_jit_cache_get(const struct nub_cap_entry *image, struct nub_jit_entry **out)
{
    cache.clock++;
    for (struct nub_jit_entry *e = cache.head; e; e = e->next) {
        if (nub_memcmp(e->image_hash, image->hash, NUB_CAP_HASH_BYTES) == 0) {
            e->last_use = cache.clock;
            *out = e;
            return NUB_OK;
        }
    }
    struct nub_jit_entry *e = nub_alloc_evicting(sizeof *e, 16, 0);
    if (!e)
        return NUB_ERR_HEAP_EXHAUSTED;
    nub_memset(e, 0, sizeof *e);
    nub_memcpy(e->image_hash, image->hash, NUB_CAP_HASH_BYTES);
    nub_status s = compile(e, image);
    if (s != NUB_OK) {
        nub_heap_free(e);
        return s;
    }
    e->last_use = cache.clock;
    e->generation = cache.clock;
    e->next = cache.head;
    cache.head = e;
    *out = e;
    return NUB_OK;
}
