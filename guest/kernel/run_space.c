/*
 * run_space.c — the ring-3 address space of an instance's runs.
 *
 * A space is built from the instance's published segments (and the call's
 * input, if any) on first use and kept between calls. Only the pages with
 * published contents (and the input pages) are backed when it is built; the
 * rest of each segment is declared and backed on first touch from the page
 * pool (abi/nub_rpc.h, "Demand paging"). After each call the pool's undo log
 * takes back what the call backed or changed, so the tables stay as built
 * (but for the tables and the resident leaf pages the space keeps, the
 * written ones zeroed after each call: uspace.h), and before each call only the
 * contents of the writable published pages (and of the input pages) are
 * rewritten: every call starts from the published memory. Rebuilding the
 * tables each call is what costs on a shadow-paging hypervisor (writes to
 * former page-table pages trap). A recompile of its image drops the space.
 * Spaces are keyed by instance and by the number of input pages (none, or
 * 0.. pages of input).
 */
#include "directory.h"
#include "heap.h"
#include "kstring.h"
#include "nub_capbuild.h"
#include "page_pool.h"
#include "run.h"

#define SPACE_CACHE_MAX 16u
#define NO_INPUT        UINT32_MAX /* input_pages of a space without per-call input */

struct cached_space {
    struct cached_space *next;
    nub_cap_hash instance;
    uint32_t input_pages; /* NO_INPUT, or pages at NUB_STDPROG_ARGS_BASE holding input */
    const struct nub_jit_entry *jit;
    uint64_t jit_generation;
    struct nub_uspace space;
    struct jit_ctx *ctx;
    int in_use;
    uint64_t last_use;
};

static struct {
    struct cached_space *head;
    uint32_t count;
    uint64_t clock;
    uint64_t sample_state; /* xorshift64 state for picking eviction candidates */
} spaces = {.sample_state = UINT64_C(0x9E3779B97F4A7C15)};

#define ARGS_ZONE_LO ((uint64_t)NUB_STDPROG_ARGS_BASE) /* SPEC §11: 2^32 - ZZ - ZI */
#define ARGS_ZONE_HI (ARGS_ZONE_LO + NUB_STDPROG_MAX_ARGS)

static uint32_t input_pages(const struct run_input *in)
{
    return in->bytes ? (in->len + 4095) / 4096 : NO_INPUT;
}

/* With per-call input, published segments in the argument zone give way. */
static int hidden_by_input(const struct nub_wire_segment *seg, uint32_t pages)
{
    return pages != NO_INPUT && (uint64_t)seg->address + seg->length > ARGS_ZONE_LO &&
           seg->address < ARGS_ZONE_HI;
}

static const uint8_t *segment_data(const struct nub_wire_segment *seg, nub_status *s)
{
    *s = NUB_OK;
    if (!seg->has_data)
        return 0;
    const struct nub_cap_entry *d = nub_directory_find(seg->data_hash);
    if (!d || d->view.kind != NUB_WIRE_KIND_DATA) {
        *s = NUB_ERR_CAP_MISSING_DEP; /* cannot happen: checked at PUT_CAP */
        return 0;
    }
    return d->view.data.bytes;
}

static nub_status map_segments(struct run *r, const struct nub_wire_cap_view *inst, uint32_t pages)
{
    for (uint32_t i = 0; i < inst->instance.segment_count; i++) {
        struct nub_wire_segment seg;
        nub_status s = nub_wire_instance_segment(inst, i, &seg);
        if (s != NUB_OK)
            return s;
        if (seg.access == NUB_WIRE_ACCESS_NONE || hidden_by_input(&seg, pages))
            continue;
        const uint8_t *data = segment_data(&seg, &s);
        if (s != NUB_OK)
            return s;
        /* The whole segment is declared (backed on first touch); only the
         * pages with published contents are backed now. */
        int writable = seg.access == NUB_WIRE_ACCESS_WRITE;
        s = nub_uspace_declare(r->space_ptr, nub_run_window_va(seg.address), seg.length,
                               writable ? NUB_DECL_WRITE : NUB_DECL_READ, 0);
        if (s != NUB_OK)
            return s;
        uint64_t flags = writable ? NUB_USPACE_RW_BUILT : NUB_USPACE_RO;
        for (uint64_t off = 0; data && off < seg.data_len; off += 4096) {
            uint8_t *page;
            s = nub_uspace_map_new(r->space_ptr, nub_run_window_va(seg.address) + off, flags,
                                   &page);
            if (s != NUB_OK)
                return s;
            uint64_t n = seg.data_len - off < 4096 ? seg.data_len - off : 4096;
            nub_memcpy(page, data + off, n);
        }
    }
    for (uint32_t p = 0; pages != NO_INPUT && p < pages; p++) {
        nub_status s = nub_uspace_map_new(
            r->space_ptr, nub_run_window_va((uint32_t)ARGS_ZONE_LO) + 4096 * (uint64_t)p,
            NUB_USPACE_RO, 0);
        if (s != NUB_OK)
            return s;
    }
    return NUB_OK;
}

static nub_status build(struct run *r, const struct nub_wire_cap_view *inst, uint32_t pages)
{
    nub_status s = nub_uspace_create(r->space_ptr);
    for (size_t i = 0; s == NUB_OK && i < r->jit->code_pages; i++)
        s = nub_uspace_map_shared(r->space_ptr, r->code_va + 4096 * i,
                                  (uint64_t)(uintptr_t)(r->jit->code_buf + 4096 * i),
                                  NUB_USPACE_RX);
    uint8_t *ctx_page = 0;
    if (s == NUB_OK)
        s = nub_uspace_map_new(r->space_ptr, NUB_USPACE_CTX_PAGE_VA, NUB_USPACE_RW_BUILT,
                               &ctx_page);
    if (s == NUB_OK) {
        r->ctx = (struct jit_ctx *)(ctx_page + 4096 - JIT_CTX_SIZE);
        s = map_segments(r, inst, pages);
    }
    return s;
}

/* Restores the published contents of every writable page a kept space
 * backed at build time (pages backed during a call went back to the pool
 * with the undo log; read-only pages cannot have changed). */
static nub_status restore_contents(struct run *r, const struct nub_wire_cap_view *inst,
                                   uint32_t pages)
{
    for (uint32_t i = 0; i < inst->instance.segment_count; i++) {
        struct nub_wire_segment seg;
        nub_status s = nub_wire_instance_segment(inst, i, &seg);
        if (s != NUB_OK)
            return s;
        if (seg.access != NUB_WIRE_ACCESS_WRITE || hidden_by_input(&seg, pages))
            continue;
        const uint8_t *data = segment_data(&seg, &s);
        if (s != NUB_OK)
            return s;
        for (uint64_t off = 0; data && off < seg.data_len; off += 4096) {
            uint8_t *page =
                nub_uspace_lookup(r->space_ptr, nub_run_window_va(seg.address) + off, 0);
            if (!page)
                return NUB_ERR_JIT; /* the kept tables lost a page: cannot happen */
            uint64_t n = seg.data_len - off < 4096 ? seg.data_len - off : 4096;
            nub_memcpy(page, data + off, n);
            nub_memset(page + n, 0, 4096 - n);
        }
    }
    return NUB_OK;
}

/* Writes the call's input into the space's input pages (the tail zeroed). */
static nub_status place_input(struct run *r, const struct run_input *in)
{
    uint32_t pages = input_pages(in);
    for (uint32_t p = 0; pages != NO_INPUT && p < pages; p++) {
        uint8_t *page = nub_uspace_lookup(
            r->space_ptr, nub_run_window_va((uint32_t)ARGS_ZONE_LO) + 4096 * (uint64_t)p, 0);
        if (!page)
            return NUB_ERR_JIT; /* cannot happen: mapped when the space was built */
        uint32_t off = 4096 * p, n = in->len - off < 4096 ? in->len - off : 4096;
        nub_memcpy(page, in->bytes + off, n);
        nub_memset(page + n, 0, 4096 - n);
    }
    return NUB_OK;
}

static void space_free(struct cached_space *c)
{
    nub_uspace_destroy(&c->space);
    nub_heap_free(c);
}

static void space_unlink(struct cached_space *c)
{
    for (struct cached_space **link = &spaces.head; *link; link = &(*link)->next) {
        if (*link == c) {
            *link = c->next;
            spaces.count--;
            return;
        }
    }
}

/*
 * What evicted spaces had resident (the addresses of the pages their calls
 * kept backed: uspace.h), per instance, so that a rebuilt space backs them
 * at once instead of taking their first-touch faults again on its next
 * calls. Only addresses: a rebuild backs zeroed pages, and only where the
 * instance declares access.
 */
#define MEMO_MAX   32u
#define MEMO_PAGES 16u /* addresses noted per instance */

struct resident_memo {
    nub_cap_hash instance;
    uint32_t input_pages;
    uint32_t count; /* 0: unused */
    uint64_t last_use;
    uint64_t va[MEMO_PAGES];
};

static struct resident_memo memos[MEMO_MAX];

static struct resident_memo *memo_find(const uint8_t *instance, uint32_t input_pages)
{
    for (uint32_t i = 0; i < MEMO_MAX; i++)
        if (memos[i].count && memos[i].input_pages == input_pages &&
            nub_memcmp(memos[i].instance, instance, NUB_CAP_HASH_BYTES) == 0)
            return &memos[i];
    return 0;
}

static void memo_save(const struct cached_space *c)
{
    uint64_t va[MEMO_PAGES];
    uint32_t n = nub_uspace_resident_addresses(&c->space, va, MEMO_PAGES);
    struct resident_memo *m = memo_find(c->instance, c->input_pages);
    if (!m && n == 0)
        return;
    if (!m) {
        m = &memos[0];
        for (uint32_t i = 1; i < MEMO_MAX && m->count; i++)
            if (!memos[i].count || memos[i].last_use < m->last_use)
                m = &memos[i];
    }
    nub_memcpy(m->instance, c->instance, NUB_CAP_HASH_BYTES);
    m->input_pages = c->input_pages;
    m->count = n;
    m->last_use = c->last_use;
    nub_memcpy(m->va, va, n * sizeof va[0]);
}

/* Backs what the instance's evicted space had resident (best effort: a
 * page that cannot be had is backed on first touch as usual). */
static void memo_apply(struct cached_space *c)
{
    struct resident_memo *m = memo_find(c->instance, c->input_pages);
    for (uint32_t i = 0; m && i < m->count; i++)
        if (!nub_uspace_back_resident(&c->space, m->va[i]))
            break;
}

static uint32_t sample_below(uint32_t n)
{
    uint64_t x = spaces.sample_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    spaces.sample_state = x;
    return (uint32_t)((x >> 32) % n);
}

/*
 * The victim is the less recently used of two spaces picked at random (not
 * in use), not the least recently used of all: with plain LRU, a round
 * robin over one instance more than the cache holds evicts each space just
 * before it is needed, so every call rebuilds its space and takes its
 * first-touch faults again. Sampling two makes misses grow gradually with
 * the working set (about 1 call in 6 at 17 instances over 16, 1 in 3 at 18)
 * and still seldom evicts a space in frequent use. The picks come from a
 * fixed-seed generator: the same calls evict the same spaces on every run.
 */
int nub_invoke_evict_space(void)
{
    struct cached_space *idle[SPACE_CACHE_MAX + 1]; /* (the cache holds at most that many) */
    uint32_t n = 0;
    for (struct cached_space *c = spaces.head; c && n < SPACE_CACHE_MAX + 1; c = c->next)
        if (!c->in_use)
            idle[n++] = c;
    if (n == 0)
        return 0;
    struct cached_space *a = idle[sample_below(n)], *b = idle[sample_below(n)];
    struct cached_space *victim = a->last_use < b->last_use ? a : b;
    space_unlink(victim);
    memo_save(victim);
    space_free(victim);
    return 1;
}

void nub_run_drop_spaces(const uint8_t *instance_hash)
{
    for (uint32_t i = 0; i < MEMO_MAX; i++)
        if (nub_memcmp(memos[i].instance, instance_hash, NUB_CAP_HASH_BYTES) == 0)
            memos[i].count = 0;
    struct cached_space **link = &spaces.head;
    while (*link) {
        struct cached_space *c = *link;
        if (!c->in_use && nub_memcmp(c->instance, instance_hash, NUB_CAP_HASH_BYTES) == 0) {
            *link = c->next;
            spaces.count--;
            space_free(c);
        } else {
            link = &c->next;
        }
    }
}

nub_status nub_run_acquire_space(struct run *r, const struct nub_cap_entry *inst,
                                 const struct run_input *input)
{
    uint32_t pages = input_pages(input);
    r->code_va = nub_uspace_code_va(r->jit->code_pages);
    spaces.clock++;
    for (struct cached_space *c = spaces.head; c; c = c->next) {
        if (nub_memcmp(c->instance, inst->hash, NUB_CAP_HASH_BYTES) != 0 || c->input_pages != pages)
            continue;
        if (c->jit == r->jit && c->jit_generation == r->jit->generation) {
            r->cached = c;
            r->space_ptr = &c->space;
            r->ctx = c->ctx;
            c->in_use = 1;
            c->last_use = spaces.clock;
            nub_status s = restore_contents(r, &inst->view, pages);
            return s == NUB_OK ? place_input(r, input) : s;
        }
        space_unlink(c); /* its image was recompiled: its code mapping is stale */
        space_free(c);
        break;
    }
    if (spaces.count >= SPACE_CACHE_MAX)
        nub_invoke_evict_space();
    struct cached_space *c = nub_heap_alloc(sizeof *c);
    if (!c)
        return NUB_ERR_HEAP_EXHAUSTED;
    nub_memset(c, 0, sizeof *c);
    nub_memcpy(c->instance, inst->hash, NUB_CAP_HASH_BYTES);
    c->input_pages = pages;
    c->jit = r->jit;
    c->jit_generation = r->jit->generation;
    c->in_use = 1;
    c->last_use = spaces.clock;
    r->cached = c;
    r->space_ptr = &c->space;
    nub_status s = build(r, &inst->view, pages);
    /* Short of heap: make room from other kept spaces and other compiled
     * images (never this run's), then build again. */
    while (s == NUB_ERR_HEAP_EXHAUSTED &&
           (nub_invoke_evict_space() || nub_jit_cache_evict(r->jit))) {
        nub_uspace_destroy(&c->space);
        s = build(r, &inst->view, pages);
    }
    if (s == NUB_OK)
        memo_apply(c);
    c->ctx = r->ctx;
    c->next = spaces.head;
    spaces.head = c;
    spaces.count++;
    return s == NUB_OK ? place_input(r, input) : s;
}

void nub_run_release_space(struct run *r, nub_status s)
{
    struct cached_space *c = r->cached;
    /* Tables the call backed stay in a kept space (its own pages now), and
     * so do the first few leaf pages it backed (reset below). */
    int ro_written = nub_page_pool_undo(c ? nub_uspace_keep : 0, c ? &c->space : 0);
    if (!c)
        return;
    c->in_use = 0;
    /* A read-only published page the call could write (sbrk over it) is not
     * restored before the next call: drop the space instead (rare). */
    if (s != NUB_OK || r->out_of_pages || ro_written) {
        space_unlink(c);
        space_free(c);
        return;
    }
    /* Here, not before the next call: the service runs in ring 3 (native
     * speed under every hypervisor), and the reply has been composed. */
    nub_uspace_reset(&c->space);
}
