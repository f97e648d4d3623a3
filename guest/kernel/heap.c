/* heap.c — see heap.h. */
#include "heap.h"

#include "page_pool.h"
#include "trap.h"

#define HEADER_BYTES   16u
#define MIN_BLOCK      32u /* header + the smallest payload worth a block */
#define USED_MAGIC     UINT64_C(0x4E55424845415055) /* marks a live block */
#define PANIC_BAD_FREE 0x10u

struct block {
    uint64_t size; /* whole block, header included; multiple of 16 */
    union {
        struct block *next_free; /* while free */
        uint64_t magic;          /* while used: USED_MAGIC */
    } u;
};
_Static_assert(sizeof(struct block) == HEADER_BYTES, "heap header size");

static struct {
    struct block *free_list; /* address-ordered */
    uint64_t start, end;
    uint64_t allocated_bytes, allocation_count;
    uint64_t high_water; /* end of the highest block ever handed out */
} heap;

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

void nub_heap_init(uint64_t start, uint64_t bytes)
{
    uint64_t s = align_up(start, 16), e = (start + bytes) & ~UINT64_C(15);
    heap.start = s;
    heap.end = e;
    heap.allocated_bytes = 0;
    heap.allocation_count = 0;
    heap.high_water = s;
    heap.free_list = 0;
    if (e > s && e - s >= MIN_BLOCK) {
        struct block *b = (struct block *)(uintptr_t)s;
        b->size = e - s;
        b->u.next_free = 0;
        heap.free_list = b;
    }
}

/* Carves [payload - HEADER, payload + size) out of free block b (whose
 * predecessor link is *link); leading and trailing rests stay free. */
static void *carve(struct block **link, struct block *b, uint64_t payload, uint64_t size)
{
    uint64_t b_start = (uint64_t)(uintptr_t)b, b_end = b_start + b->size;
    uint64_t used_start = payload - HEADER_BYTES, used_end = payload + size;
    struct block *next = b->u.next_free;

    if (b_end - used_end >= MIN_BLOCK) {
        struct block *tail = (struct block *)(uintptr_t)used_end;
        tail->size = b_end - used_end;
        tail->u.next_free = next;
        next = tail;
    } else {
        used_end = b_end; /* too small to stand alone: give it to the allocation */
    }
    if (used_start > b_start) { /* leading rest (>= MIN_BLOCK by construction) */
        b->size = used_start - b_start;
        b->u.next_free = next;
    } else {
        *link = next;
    }
    struct block *used = (struct block *)(uintptr_t)used_start;
    used->size = used_end - used_start;
    used->u.magic = USED_MAGIC;
    heap.allocated_bytes += used->size - HEADER_BYTES;
    if (used_end > heap.high_water)
        heap.high_water = used_end;
    heap.allocation_count++;
    return (void *)(uintptr_t)payload;
}

static void *first_fit(size_t bytes, size_t alignment)
{
    if (bytes == 0)
        bytes = 1;
    if (alignment < 16)
        alignment = 16;
    if ((alignment & (alignment - 1)) != 0 || bytes > heap.end - heap.start)
        return 0;
    uint64_t size = align_up(bytes, 16);

    for (struct block **link = &heap.free_list; *link; link = &(*link)->u.next_free) {
        struct block *b = *link;
        uint64_t b_start = (uint64_t)(uintptr_t)b, b_end = b_start + b->size;
        uint64_t payload = align_up(b_start + HEADER_BYTES, alignment);
        /* A leading gap must be able to stay a free block of its own. */
        if (payload - HEADER_BYTES != b_start && payload - HEADER_BYTES - b_start < MIN_BLOCK)
            payload = align_up(b_start + MIN_BLOCK + HEADER_BYTES, alignment);
        if (payload + size <= b_end && payload + size > payload)
            return carve(link, b, payload, size);
    }
    return 0;
}

void *nub_heap_alloc_aligned(size_t bytes, size_t alignment)
{
    void *p = first_fit(bytes, alignment);
    /* Short of heap: whole free chunks of the page pool come back first. */
    if (!p && nub_page_pool_trim())
        p = first_fit(bytes, alignment);
    return p;
}

void nub_heap_shrink(void *p, size_t bytes)
{
    uint64_t addr = (uint64_t)(uintptr_t)p - HEADER_BYTES;
    struct block *b = (struct block *)(uintptr_t)addr;
    if (!p || addr < heap.start || addr >= heap.end || b->u.magic != USED_MAGIC)
        nub_kernel_panic(PANIC_BAD_FREE);
    uint64_t keep = HEADER_BYTES + align_up(bytes ? bytes : 1, 16);
    if (keep > b->size || b->size - keep < MIN_BLOCK)
        return;
    /* The tail becomes a live block of its own, freed at once (which
     * coalesces it with its free neighbours). */
    struct block *tail = (struct block *)(uintptr_t)(addr + keep);
    tail->size = b->size - keep;
    tail->u.magic = USED_MAGIC;
    b->size = keep;
    heap.allocated_bytes -= HEADER_BYTES; /* the tail's header was payload */
    heap.allocation_count++;
    nub_heap_free((uint8_t *)tail + HEADER_BYTES);
}

uint64_t nub_heap_high_water(void)
{
    return heap.high_water;
}

uint64_t nub_heap_capacity(void)
{
    return heap.end - heap.start;
}

void *nub_heap_alloc(size_t bytes)
{
    return nub_heap_alloc_aligned(bytes, 16);
}

void nub_heap_free(void *p)
{
    if (!p)
        return;
    uint64_t addr = (uint64_t)(uintptr_t)p - HEADER_BYTES;
    struct block *b = (struct block *)(uintptr_t)addr;
    if (addr < heap.start || addr >= heap.end || b->u.magic != USED_MAGIC)
        nub_kernel_panic(PANIC_BAD_FREE); /* a kernel bug: report it loudly */
    heap.allocated_bytes -= b->size - HEADER_BYTES;
    heap.allocation_count--;

    struct block *prev = 0, **link = &heap.free_list;
    while (*link && (uint64_t)(uintptr_t)*link < addr) {
        prev = *link;
        link = &(*link)->u.next_free;
    }
    b->u.next_free = *link;
    *link = b;
    struct block *next = b->u.next_free;
    if (next && addr + b->size == (uint64_t)(uintptr_t)next) {
        b->size += next->size;
        b->u.next_free = next->u.next_free;
    }
    if (prev && (uint64_t)(uintptr_t)prev + prev->size == addr) {
        prev->size += b->size;
        prev->u.next_free = b->u.next_free;
    }
}

void nub_heap_free_zeroed(void *p)
{
    if (!p)
        return;
    uint64_t payload = (uint64_t)(uintptr_t)p;
    const struct block *b = (const struct block *)(uintptr_t)(payload - HEADER_BYTES);
    /* (nub_heap_free checks the block; a bad one panics there) */
    uint64_t mark = heap.high_water;
    int top = b->u.magic == USED_MAGIC && payload - HEADER_BYTES + b->size == mark;
    nub_heap_free(p);
    if (!top)
        return;
    /* The only bytes above p that are not zero now: the header of the free
     * block that began at the old mark (merged into this one, but its
     * bytes are still there). Headers lie in front of payloads, so the
     * free block now holding p has none above p. */
    if (mark + HEADER_BYTES <= heap.end)
        for (uint64_t *w = (uint64_t *)(uintptr_t)mark;
             w < (uint64_t *)(uintptr_t)(mark + HEADER_BYTES); w++)
            *w = 0;
    heap.high_water = payload;
}

void nub_heap_get_stats(struct nub_heap_stats *out)
{
    uint64_t fragments = 0, available = 0;
    for (struct block *b = heap.free_list; b; b = b->u.next_free) {
        fragments++;
        available += b->size - HEADER_BYTES;
    }
    out->allocated_bytes = heap.allocated_bytes;
    out->allocation_count = heap.allocation_count;
    out->fragment_count = fragments;
    out->available_bytes = available;
}
