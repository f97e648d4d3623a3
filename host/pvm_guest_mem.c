/* pvm_guest_mem.c — see pvm_guest_mem.h. */
#include "pvm_guest_mem.h"

#include <stdbool.h>
#include <string.h>

#include "nub_rpc.h"

#define PAGE        4096u
#define TABLE_FLAGS (NUB_PTE_P | NUB_PTE_RW | NUB_PTE_US)
#define LEVELS      4

static bool in_ram(const struct nub_guest_ram *ram, uint64_t gpa, uint64_t len)
{
    return gpa <= ram->size && ram->size - gpa >= len;
}

/* Records that [gpa, gpa + len) changed (len > 0, inside RAM). */
static void mark_dirty(const struct nub_guest_ram *ram, uint64_t gpa, uint64_t len)
{
    if (!ram->dirty)
        return;
    for (uint64_t page = gpa / PAGE; page <= (gpa + len - 1) / PAGE; page++)
        ram->dirty[page / 64] |= UINT64_C(1) << (page % 64);
}

static bool read_entry(const struct nub_guest_ram *ram, uint64_t table_gpa, unsigned index,
                       uint64_t *out)
{
    if (table_gpa % PAGE != 0 || !in_ram(ram, table_gpa, PAGE))
        return false;
    memcpy(out, ram->bytes + table_gpa + 8u * index, sizeof *out);
    return true;
}

static unsigned decl_of(uint64_t entry)
{
    return (unsigned)((entry & NUB_PTE_DECL_MASK) >> NUB_PTE_DECL_SHIFT);
}

/* Where the walk for one page ended. */
struct page_walk {
    uint8_t *page;      /* backed: the host address of the page, else NULL */
    unsigned access;    /* NUB_DECL_NONE, _READ or _WRITE */
    int missing;        /* not backed: levels to fill (tables + the leaf) */
    uint64_t entry_gpa; /* not backed: the first non-present entry; backed
                         * read-only below the break: the leaf entry */
    uint64_t entry;     /* its value */
    bool upgrade;       /* backed read-only below the break: set RW (logged) */
};

/* Walks the tables for the PVM page at page_addr; NUB_ERR_PROTOCOL if they
 * are malformed. */
static nub_status walk_page(const struct nub_guest_ram *ram, uint64_t cr3_gpa, uint32_t page_addr,
                            struct page_walk *w)
{
    uint64_t va = NUB_RUN_WINDOW_VA + page_addr;
    uint64_t table = cr3_gpa & NUB_PTE_ADDR_MASK; /* (the low bits are CR3 flags) */
    *w = (struct page_walk){.access = NUB_DECL_NONE};
    for (int level = 0; level < LEVELS; level++) {
        int shift = 39 - 9 * level;
        unsigned index = (unsigned)(va >> shift) & 511;
        uint64_t e;
        if (!read_entry(ram, table, index, &e))
            return NUB_ERR_PROTOCOL;
        if (decl_of(e) != NUB_DECL_INHERIT)
            w->access = decl_of(e);
        if (!(e & NUB_PTE_P)) {
            w->missing = LEVELS - level;
            w->entry_gpa = table + 8u * index;
            w->entry = e;
            return NUB_OK;
        }
        if (!(e & NUB_PTE_US))
            return NUB_ERR_PROTOCOL; /* the window is user memory at every level */
        if (level < LEVELS - 1 && ((e & NUB_PTE_PS) || !(e & NUB_PTE_RW)))
            return NUB_ERR_PROTOCOL; /* tables are 4 KiB and writable */
        if (level == LEVELS - 1) {
            w->access = (e & NUB_PTE_RW) ? NUB_DECL_WRITE : NUB_DECL_READ;
            w->entry_gpa = table + 8u * index;
            w->entry = e;
        }
        table = e & NUB_PTE_ADDR_MASK;
    }
    if (!in_ram(ram, table, PAGE))
        return NUB_ERR_PROTOCOL;
    w->page = ram->bytes + table;
    return NUB_OK;
}

/* Below sbrk's break a page is read-write whatever was declared. */
static void apply_heap(const struct nub_guest_ram *ram, uint32_t page_addr, struct page_walk *w)
{
    if (ram->heap_top == 0 || page_addr < ram->heap_base || page_addr >= ram->heap_top ||
        w->access == NUB_DECL_WRITE)
        return;
    w->access = NUB_DECL_WRITE;
    w->upgrade = w->page != NULL;
}

/* ---- the guest's page pool (abi/nub_rpc.h), every field untrusted ------- */
static nub_status pool_load(const struct nub_guest_ram *ram, struct nub_page_pool *p)
{
    if (!in_ram(ram, NUB_PAGE_POOL_GPA, sizeof *p))
        return NUB_ERR_PROTOCOL;
    memcpy(p, ram->bytes + NUB_PAGE_POOL_GPA, sizeof *p);
    if (p->magic != NUB_PAGE_POOL_MAGIC || p->stack_count > p->stack_capacity ||
        p->log_count > p->log_capacity || p->stack_gpa % 4 != 0 || p->log_gpa % 8 != 0 ||
        !in_ram(ram, p->stack_gpa, (uint64_t)p->stack_capacity * 4) ||
        !in_ram(ram, p->log_gpa, (uint64_t)p->log_capacity * sizeof(struct nub_page_log_entry)))
        return NUB_ERR_PROTOCOL;
    return NUB_OK;
}

/* Backs one level: pops a frame, zeroes it, logs and writes the entry. */
static nub_status back_entry(const struct nub_guest_ram *ram, struct nub_page_pool *p,
                             uint64_t entry_gpa, uint64_t old, uint64_t flags, uint64_t *frame_out)
{
    if (p->stack_count == 0 || p->log_count == p->log_capacity)
        return NUB_ERR_HEAP_EXHAUSTED;
    uint32_t frame_number;
    memcpy(&frame_number, ram->bytes + p->stack_gpa + 4u * (p->stack_count - 1), 4);
    uint64_t frame = (uint64_t)frame_number * PAGE;
    if (frame == 0 || !in_ram(ram, frame, PAGE))
        return NUB_ERR_PROTOCOL;
    p->stack_count--;
    memset(ram->bytes + frame, 0, PAGE);
    mark_dirty(ram, frame, PAGE);
    struct nub_page_log_entry log = {entry_gpa, old};
    uint64_t log_at = p->log_gpa + sizeof log * p->log_count;
    memcpy(ram->bytes + log_at, &log, sizeof log);
    mark_dirty(ram, log_at, sizeof log);
    p->log_count++;
    uint64_t value = frame | flags | (old & NUB_PTE_DECL_MASK);
    memcpy(ram->bytes + entry_gpa, &value, sizeof value);
    mark_dirty(ram, entry_gpa, sizeof value);
    *frame_out = frame;
    return NUB_OK;
}

/* Makes a read-only leaf below the break writable, logging its old value. */
static nub_status log_upgrade(const struct nub_guest_ram *ram, struct nub_page_pool *p,
                              uint64_t entry_gpa, uint64_t old)
{
    if (p->log_count == p->log_capacity)
        return NUB_ERR_HEAP_EXHAUSTED;
    struct nub_page_log_entry log = {entry_gpa, old};
    uint64_t log_at = p->log_gpa + sizeof log * p->log_count;
    memcpy(ram->bytes + log_at, &log, sizeof log);
    mark_dirty(ram, log_at, sizeof log);
    p->log_count++;
    uint64_t value = old | NUB_PTE_RW;
    memcpy(ram->bytes + entry_gpa, &value, sizeof value);
    mark_dirty(ram, entry_gpa, sizeof value);
    return NUB_OK;
}

/* Backs the declared-writable page w describes (tables on the way). */
static nub_status back_page(const struct nub_guest_ram *ram, struct nub_page_pool *p,
                            uint32_t page_addr, struct page_walk *w)
{
    uint64_t va = NUB_RUN_WINDOW_VA + page_addr;
    uint64_t entry_gpa = w->entry_gpa, old = w->entry, frame = 0;
    for (int level = LEVELS - w->missing; level < LEVELS; level++) {
        int leaf = level == LEVELS - 1;
        /* (the leaf dirty: the host writes the page next) */
        uint64_t flags =
            leaf ? NUB_PTE_P | NUB_PTE_RW | NUB_PTE_US | NUB_PTE_NX | NUB_PTE_D : TABLE_FLAGS;
        nub_status s = back_entry(ram, p, entry_gpa, old, flags, &frame);
        if (s != NUB_OK)
            return s;
        if (!leaf) {
            entry_gpa = frame + 8u * ((unsigned)(va >> (30 - 9 * level)) & 511);
            old = 0; /* a fresh table: its entries inherit */
        }
    }
    w->page = ram->bytes + frame;
    return NUB_OK;
}

/* Sets the dirty bit of a leaf the host wrote through, as the CPU does for
 * the program's writes: the kernel zeroes a page it keeps between calls
 * only if that bit says it was written (abi/nub_rpc.h, NUB_PAGE_LOG_RESET). */
static void set_dirty_bit(const struct nub_guest_ram *ram, uint64_t entry_gpa)
{
    uint64_t e;
    memcpy(&e, ram->bytes + entry_gpa, sizeof e);
    e |= NUB_PTE_D;
    memcpy(ram->bytes + entry_gpa, &e, sizeof e);
    mark_dirty(ram, entry_gpa, sizeof e);
}

enum walk_mode { WALK_READ, WALK_PROBE_WRITE, WALK_WRITE };

/* Walks [pvm_addr, pvm_addr + len) page by page: copies to dst (WALK_READ;
 * declared pages never touched read as zeros), checks writability and
 * counts the pool pages a write needs (WALK_PROBE_WRITE), or writes from
 * src, backing declared pages from the pool (WALK_WRITE). */
static nub_status walk_range(const struct nub_guest_ram *ram, uint64_t cr3_gpa, uint32_t pvm_addr,
                             uint8_t *dst, const uint8_t *src, uint32_t len, enum walk_mode mode,
                             struct nub_page_pool *pool, uint64_t *pages_needed,
                             uint32_t *fault_addr)
{
    uint32_t done = 0;
    uint64_t last_va = 0;
    int last_missing = 0;
    while (done < len) {
        uint32_t a = pvm_addr + done; /* wraps modulo 2^32 */
        uint32_t page_addr = a - a % PAGE;
        uint32_t in_page = PAGE - (a % PAGE);
        uint32_t n = len - done < in_page ? len - done : in_page;
        struct page_walk w;
        nub_status s = walk_page(ram, cr3_gpa, page_addr, &w);
        if (s != NUB_OK)
            return s;
        apply_heap(ram, page_addr, &w);
        bool ok = mode == WALK_READ ? w.access != NUB_DECL_NONE : w.access == NUB_DECL_WRITE;
        if (!ok) {
            if (fault_addr)
                *fault_addr = a;
            return NUB_ERR_INVALID_ARGUMENT;
        }
        if (mode == WALK_READ) {
            if (w.page)
                memcpy(dst + done, w.page + a % PAGE, n);
            else
                memset(dst + done, 0, n);
        } else if (mode == WALK_PROBE_WRITE && w.upgrade) {
            *pages_needed += 1; /* (a log entry, no page: counted as one, to be safe) */
        } else if (mode == WALK_PROBE_WRITE && !w.page) {
            /* Consecutive pages share the tables the previous one needed. */
            uint64_t va = NUB_RUN_WINDOW_VA + page_addr;
            int need = 1; /* the leaf, and each missing table not counted yet */
            for (int k = 1; k < w.missing; k++)
                if (!(last_missing > k && (va >> (12 + 9 * k)) == (last_va >> (12 + 9 * k))))
                    need++;
            *pages_needed += (uint64_t)need;
            last_va = va;
            last_missing = w.missing;
        } else if (mode == WALK_WRITE) {
            bool backed_before = w.page != NULL; /* (w.entry_gpa is then its leaf) */
            if (w.upgrade) {
                s = log_upgrade(ram, pool, w.entry_gpa, w.entry);
                if (s != NUB_OK)
                    return s;
            } else if (!w.page) {
                s = back_page(ram, pool, page_addr, &w);
                if (s != NUB_OK)
                    return s;
            }
            memcpy(w.page + a % PAGE, src + done, n);
            mark_dirty(ram, (uint64_t)(w.page - ram->bytes) + a % PAGE, n);
            if (backed_before && !(w.entry & NUB_PTE_D))
                set_dirty_bit(ram, w.entry_gpa);
        }
        done += n;
    }
    return NUB_OK;
}

nub_status nub__guest_pvm_read(const struct nub_guest_ram *ram, uint64_t cr3_gpa, uint32_t pvm_addr,
                               void *dst, uint32_t len, uint32_t *fault_addr)
{
    if (!ram || !ram->bytes || (len && !dst))
        return NUB_ERR_INVALID_ARGUMENT;
    return walk_range(ram, cr3_gpa, pvm_addr, dst, 0, len, WALK_READ, 0, 0, fault_addr);
}

nub_status nub__guest_pvm_write(const struct nub_guest_ram *ram, uint64_t cr3_gpa,
                                uint32_t pvm_addr, const void *src, uint32_t len,
                                uint32_t *fault_addr)
{
    uint64_t unused;
    return nub__guest_pvm_write_counted(ram, cr3_gpa, pvm_addr, src, len, fault_addr, &unused);
}

nub_status nub__guest_pvm_write_counted(const struct nub_guest_ram *ram, uint64_t cr3_gpa,
                                        uint32_t pvm_addr, const void *src, uint32_t len,
                                        uint32_t *fault_addr, uint64_t *pool_pages_needed)
{
    *pool_pages_needed = 0;
    if (!ram || !ram->bytes || (len && !src))
        return NUB_ERR_INVALID_ARGUMENT;
    /* Check the whole range first, so that a fault changes nothing. */
    uint64_t needed = 0;
    nub_status s =
        walk_range(ram, cr3_gpa, pvm_addr, 0, 0, len, WALK_PROBE_WRITE, 0, &needed, fault_addr);
    if (s != NUB_OK || needed == 0)
        return s != NUB_OK
                   ? s
                   : walk_range(ram, cr3_gpa, pvm_addr, 0, src, len, WALK_WRITE, 0, 0, fault_addr);
    struct nub_page_pool pool;
    s = pool_load(ram, &pool);
    if (s != NUB_OK)
        return s;
    if (pool.log_capacity - pool.log_count < needed)
        return NUB_ERR_HEAP_EXHAUSTED;
    if (pool.stack_count < needed) {
        *pool_pages_needed = needed;
        return NUB_ERR_HEAP_EXHAUSTED;
    }
    s = walk_range(ram, cr3_gpa, pvm_addr, 0, src, len, WALK_WRITE, &pool, 0, fault_addr);
    /* The counts go back whatever happened: every page taken is logged. */
    memcpy(ram->bytes + NUB_PAGE_POOL_GPA + offsetof(struct nub_page_pool, stack_count),
           &pool.stack_count, 4);
    memcpy(ram->bytes + NUB_PAGE_POOL_GPA + offsetof(struct nub_page_pool, log_count),
           &pool.log_count, 4);
    mark_dirty(ram, NUB_PAGE_POOL_GPA, sizeof pool);
    return s;
}
