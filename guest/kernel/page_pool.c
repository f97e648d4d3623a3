/* page_pool.c — see page_pool.h. */
#include "page_pool.h"

#include "heap.h"
#include "kstring.h"

#define PAGE      4096u
#define CHUNK_MAX (256u * PAGE) /* 1 MiB */
#define CHUNK_MIN (4u * PAGE)   /* 16 KiB */

/* The record, shared with ring 0 and with the host (which pops frames and
 * appends to the log while the vCPU is stopped at a host call): volatile,
 * so that no count is kept in a register across a run. */
#define POOL ((volatile struct nub_page_pool *)(uintptr_t)NUB_PAGE_POOL_GPA)

/* A run of pages taken from the heap in one allocation. */
struct chunk {
    uint64_t base; /* page-aligned */
    uint32_t pages;
    uint32_t free; /* scratch of nub_page_pool_trim */
};

/* Chunks listed in the kernel's own data before the list moves to the
 * bookkeeping area: a fresh guest then writes no page of that area for
 * its first chunks (a page never written costs a hypervisor fault). */
#define FIRST_CHUNKS 32u

/* (Aligned so that it lies in one page, which init writes.) */
static _Alignas(1024) struct {
    uint32_t *stack;
    struct nub_page_log_entry *log;
    struct chunk *chunks;     /* sorted by base: first_chunks, or chunk_area once more */
    struct chunk *chunk_area; /* in the bookkeeping: room for chunk_cap */
    uint32_t chunk_count, chunk_cap;
    uint64_t total_pages;
    int busy; /* growing or trimming: the heap's trim hook must not run */
    struct chunk first_chunks[FIRST_CHUNKS];
} pool;
_Static_assert(sizeof(pool) <= 1024, "the pool's own data stays in one page");

uint64_t nub_page_pool_bookkeeping_bytes(uint64_t memory_bytes)
{
    uint64_t pages = memory_bytes / PAGE;
    uint64_t bytes = pages * sizeof(uint32_t) + pages * sizeof(struct nub_page_log_entry) +
                     memory_bytes / CHUNK_MIN * sizeof(struct chunk);
    return (bytes + PAGE - 1) & ~(uint64_t)(PAGE - 1);
}

void nub_page_pool_init(uint64_t memory_bytes, uint64_t at)
{
    /* The log records one change per page backed or upgraded; a page is
     * backed at most once per call and then only upgraded once, and most
     * pages hold tables, code or caps: one entry per page of memory is
     * more than a call can use (a full log ends the run, it never loops). */
    uint64_t pages = memory_bytes / PAGE;
    pool.stack = (uint32_t *)(uintptr_t)at;
    pool.log = (struct nub_page_log_entry *)(uintptr_t)(at + pages * sizeof *pool.stack);
    pool.chunk_area =
        (struct chunk *)(uintptr_t)((uint64_t)(uintptr_t)pool.log + pages * sizeof *pool.log);
    pool.chunks = pool.first_chunks;
    pool.chunk_cap = (uint32_t)(memory_bytes / CHUNK_MIN);
    struct nub_page_pool rec = {
        .magic = NUB_PAGE_POOL_MAGIC,
        .stack_gpa = (uint64_t)(uintptr_t)pool.stack,
        .stack_count = 0,
        .stack_capacity = (uint32_t)pages,
        .log_gpa = (uint64_t)(uintptr_t)pool.log,
        .log_count = 0,
        .log_capacity = (uint32_t)pages,
    };
    nub_memcpy((void *)(uintptr_t)NUB_PAGE_POOL_GPA, &rec, sizeof rec);
}

static void push(uint64_t page)
{
    /* The stack holds every page of guest memory: it cannot overflow. */
    pool.stack[POOL->stack_count] = (uint32_t)(page / PAGE);
    POOL->stack_count = POOL->stack_count + 1;
}

/* Takes one chunk from the heap (as large as it gives, up to CHUNK_MAX),
 * zeroes it and pushes its pages. 0 if the heap gave nothing. */
static int grow(void)
{
    if (pool.chunk_count == pool.chunk_cap)
        return 0;
    if (pool.chunks == pool.first_chunks && pool.chunk_count == FIRST_CHUNKS) {
        nub_memcpy(pool.chunk_area, pool.first_chunks, sizeof pool.first_chunks);
        pool.chunks = pool.chunk_area;
    }
    void *p = 0;
    uint32_t bytes = CHUNK_MAX;
    /* (A failed allocation here must not trim: it would hand back the
     * chunks this very growth just took.) */
    pool.busy = 1;
    uint64_t written_below = nub_heap_high_water();
    for (;;) {
        p = nub_heap_alloc_aligned(bytes, PAGE);
        if (p || bytes == CHUNK_MIN)
            break;
        bytes /= 2;
    }
    pool.busy = 0;
    if (!p)
        return 0;
    uint64_t base = (uint64_t)(uintptr_t)p;
    uint32_t at = pool.chunk_count;
    while (at > 0 && pool.chunks[at - 1].base > base) {
        pool.chunks[at] = pool.chunks[at - 1];
        at--;
    }
    pool.chunks[at] = (struct chunk){base, bytes / PAGE, 0};
    pool.chunk_count++;
    pool.total_pages += bytes / PAGE;
    /* Only what was ever written needs zeroing: above the heap's high-water
     * mark the memory is as the host gave it (zero), and not touching it
     * spares the hypervisor's first-touch faults until a page is used. */
    if (base < written_below)
        nub_memset(p, 0, written_below - base < bytes ? written_below - base : bytes);
    for (uint32_t i = bytes / PAGE; i-- > 0;)
        push(base + (uint64_t)i * PAGE);
    return 1;
}

void *nub_page_pool_pop(void)
{
    uint32_t n = POOL->stack_count;
    if (n == 0)
        return 0;
    POOL->stack_count = n - 1;
    return (void *)(uintptr_t)((uint64_t)pool.stack[n - 1] * PAGE);
}

void *nub_page_pool_alloc(void)
{
    if (POOL->stack_count == 0 && !grow())
        return 0;
    return nub_page_pool_pop();
}

void nub_page_pool_free(void *page)
{
    if (!page)
        return;
    nub_memset(page, 0, PAGE);
    push((uint64_t)(uintptr_t)page);
}

uint32_t nub_page_pool_reserve(uint32_t pages)
{
    while (POOL->stack_count < pages && grow())
        ;
    return POOL->stack_count;
}

int nub_page_pool_set_logged(uint64_t *entry, uint64_t value)
{
    uint32_t n = POOL->log_count;
    if (n >= POOL->log_capacity)
        return 0;
    pool.log[n] = (struct nub_page_log_entry){(uint64_t)(uintptr_t)entry, *entry};
    POOL->log_count = n + 1;
    *entry = value;
    return 1;
}

int nub_page_pool_set_logged_marked(uint64_t *entry, uint64_t value, uint64_t mark)
{
    uint32_t n = POOL->log_count;
    if (n >= POOL->log_capacity)
        return 0;
    pool.log[n] = (struct nub_page_log_entry){(uint64_t)(uintptr_t)entry, *entry | mark};
    POOL->log_count = n + 1;
    *entry = value;
    return 1;
}

int nub_page_pool_log_full(void)
{
    return POOL->log_count >= POOL->log_capacity;
}

int nub_page_pool_undo(int (*keep)(void *ctx, uint64_t *entry, void *page, uint64_t mark),
                       void *ctx)
{
    const uint64_t marks = NUB_PAGE_LOG_KEEP | NUB_PAGE_LOG_RESET;
    int upgraded = 0;
    uint32_t n = POOL->log_count;
    if (n > POOL->log_capacity)
        n = POOL->log_capacity; /* (the host may have written the count: never past the log) */
    while (n-- > 0) {
        struct nub_page_log_entry e = pool.log[n];
        uint64_t *entry = (uint64_t *)(uintptr_t)e.entry_gpa;
        uint64_t now = *entry;
        void *page = (void *)(uintptr_t)(now & NUB_PTE_ADDR_MASK);
        int installed = (now & NUB_PTE_P) && !(e.old_value & NUB_PTE_P);
        uint64_t mark = e.old_value & marks;
        if (mark && installed && keep && keep(ctx, entry, page, mark))
            continue; /* the page stays, as the keeper decided */
        *entry = e.old_value & ~marks;
        if (installed)
            nub_page_pool_free(page);
        else if ((e.old_value & NUB_PTE_P) && !(e.old_value & NUB_PTE_RW) && (now & NUB_PTE_RW))
            upgraded = 1;
    }
    POOL->log_count = 0;
    return upgraded;
}

static struct chunk *chunk_of(uint64_t page)
{
    uint32_t lo = 0, hi = pool.chunk_count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        struct chunk *c = &pool.chunks[mid];
        if (page < c->base)
            hi = mid;
        else if (page >= c->base + (uint64_t)c->pages * PAGE)
            lo = mid + 1;
        else
            return c;
    }
    return 0;
}

uint32_t nub_page_pool_trim(void)
{
    if (pool.busy || pool.chunk_count == 0)
        return 0;
    pool.busy = 1;
    for (uint32_t i = 0; i < pool.chunk_count; i++)
        pool.chunks[i].free = 0;
    uint32_t count = POOL->stack_count;
    for (uint32_t i = 0; i < count; i++) {
        struct chunk *c = chunk_of((uint64_t)pool.stack[i] * PAGE);
        if (c)
            c->free++;
    }
    /* Drop the pages of wholly free chunks from the stack, then the chunks. */
    uint32_t kept = 0;
    for (uint32_t i = 0; i < count; i++) {
        struct chunk *c = chunk_of((uint64_t)pool.stack[i] * PAGE);
        if (!c || c->free != c->pages)
            pool.stack[kept++] = pool.stack[i];
    }
    POOL->stack_count = kept;
    /* A wholly free chunk is all zero (free pages are kept zeroed): the
     * heap is told so, highest first, so that each can bring the heap's
     * high-water mark down and the next growth need not zero it again
     * (zeroing touches every page: on a hypervisor, a fault for each page
     * never used yet). */
    uint32_t freed = 0, out = 0;
    for (uint32_t i = pool.chunk_count; i-- > 0;) {
        if (pool.chunks[i].free != pool.chunks[i].pages)
            continue;
        pool.total_pages -= pool.chunks[i].pages;
        nub_heap_free_zeroed((void *)(uintptr_t)pool.chunks[i].base);
        pool.chunks[i].pages = 0; /* (dropped below) */
        freed++;
    }
    for (uint32_t i = 0; i < pool.chunk_count; i++)
        if (pool.chunks[i].pages != 0)
            pool.chunks[out++] = pool.chunks[i];
    pool.chunk_count = out;
    pool.busy = 0;
    return freed;
}

void nub_page_pool_counts(uint64_t *free_pages, uint64_t *total_pages)
{
    *free_pages = POOL->stack_count;
    *total_pages = pool.total_pages;
}
