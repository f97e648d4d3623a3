/* uspace.c — see uspace.h. */
#include "uspace.h"

#include "heap.h"
#include "kernel.h"
#include "kstring.h"
#include "page_pool.h"
#include "x86.h"

#define TABLE_FLAGS (X86_PTE_P | X86_PTE_RW | X86_PTE_US)

static unsigned decl_of(uint64_t entry)
{
    return (unsigned)((entry & NUB_PTE_DECL_MASK) >> NUB_PTE_DECL_SHIFT);
}

static uint64_t decl_bits(unsigned decl)
{
    return (uint64_t)decl << NUB_PTE_DECL_SHIFT;
}

static uint64_t leaf_flags(unsigned decl)
{
    return decl == NUB_DECL_WRITE ? NUB_USPACE_RW : NUB_USPACE_RO;
}

static uint64_t *table_of(uint64_t entry)
{
    return (uint64_t *)(uintptr_t)(entry & X86_PTE_ADDR_MASK);
}

/* A zeroed pool page recorded in u's page list (freed by destroy). */
static uint64_t *alloc_owned_page(struct nub_uspace *u)
{
    uint64_t *p = nub_page_pool_alloc();
    if (p && !nub_uspace_adopt(u, p)) {
        nub_page_pool_free(p);
        p = 0;
    }
    return p;
}

nub_status nub_uspace_create(struct nub_uspace *u)
{
    u->pages = 0;
    u->page_count = u->page_cap = 0;
    u->resident = 0;
    u->resident_count = u->resident_cap = 0;
    u->pml4 = alloc_owned_page(u);
    if (!u->pml4)
        return NUB_ERR_HEAP_EXHAUSTED;
    /* The kernel's identity map: its entry has no U bit, so every page under
     * it is supervisor-only whatever the lower levels say. */
    const uint64_t *kernel_pml4 = (const uint64_t *)(uintptr_t)nub_kernel_params.kernel_cr3;
    u->pml4[0] = kernel_pml4[0] & ~X86_PTE_US;
    return NUB_OK;
}

/* The leaf entry for va, creating the tables on the way. A table created
 * under a non-present entry keeps that entry's declared access (its own
 * entries inherit it). */
static uint64_t *walk_create(struct nub_uspace *u, uint64_t va)
{
    uint64_t *table = u->pml4;
    for (int shift = 39; shift > 12; shift -= 9) {
        uint64_t *e = &table[(va >> shift) & 511];
        if (!(*e & X86_PTE_P)) {
            uint64_t *next = alloc_owned_page(u);
            if (!next)
                return 0;
            *e = (uint64_t)(uintptr_t)next | TABLE_FLAGS | (*e & NUB_PTE_DECL_MASK);
        }
        table = table_of(*e);
    }
    return &table[(va >> 12) & 511];
}

nub_status nub_uspace_map_shared(struct nub_uspace *u, uint64_t va, uint64_t pa, uint64_t flags)
{
    uint64_t *pte = walk_create(u, va);
    if (!pte)
        return NUB_ERR_HEAP_EXHAUSTED;
    *pte = (pa & X86_PTE_ADDR_MASK) | flags;
    return NUB_OK;
}

nub_status nub_uspace_map_new(struct nub_uspace *u, uint64_t va, uint64_t flags, uint8_t **page_out)
{
    uint64_t *pte = walk_create(u, va);
    uint64_t *page = pte && !(*pte & X86_PTE_P) ? alloc_owned_page(u) : 0;
    if (!page)
        return NUB_ERR_HEAP_EXHAUSTED; /* (or already mapped: a caller bug) */
    *pte = (uint64_t)(uintptr_t)page | flags | (*pte & NUB_PTE_DECL_MASK);
    if (page_out)
        *page_out = (uint8_t *)page;
    return NUB_OK;
}

/* Writes an entry: logged (undone after the call) or for good. */
static int set_entry(uint64_t *e, uint64_t value, int logged)
{
    if (logged)
        return nub_page_pool_set_logged(e, value);
    *e = value;
    return 1;
}

/* Declares [va, end) in the table at level `shift` (the span of one entry
 * is 2^shift): entries wholly inside get the access, partly covered ones a
 * table (from the pool: owned by u, or logged) and the same one level down.
 * A present leaf only ever gains write access (sbrk over a read-only page). */
static nub_status declare_in(struct nub_uspace *u, uint64_t *table, int shift, uint64_t va,
                             uint64_t end, unsigned decl, int logged)
{
    uint64_t span = UINT64_C(1) << shift;
    while (va < end) {
        uint64_t *e = &table[(va >> shift) & 511];
        uint64_t entry_end = (va & ~(span - 1)) + span;
        int whole = (va & (span - 1)) == 0 && entry_end <= end;
        if (!(*e & X86_PTE_P)) {
            if (whole) {
                if (!set_entry(e, (*e & ~NUB_PTE_DECL_MASK) | decl_bits(decl), logged))
                    return NUB_ERR_HEAP_EXHAUSTED;
                va = entry_end;
                continue;
            }
            uint64_t *next = logged ? nub_page_pool_alloc() : alloc_owned_page(u);
            if (!next)
                return NUB_ERR_HEAP_EXHAUSTED;
            if (!set_entry(e, (uint64_t)(uintptr_t)next | TABLE_FLAGS | (*e & NUB_PTE_DECL_MASK),
                           logged)) {
                nub_page_pool_free(next);
                return NUB_ERR_HEAP_EXHAUSTED;
            }
        } else if (shift == 12) {
            if (decl == NUB_DECL_WRITE && !(*e & X86_PTE_RW) &&
                !set_entry(e, *e | X86_PTE_RW, logged))
                return NUB_ERR_HEAP_EXHAUSTED;
            va = entry_end;
            continue;
        }
        uint64_t sub_end = end < entry_end ? end : entry_end;
        nub_status s = declare_in(u, table_of(*e), shift - 9, va, sub_end, decl, logged);
        if (s != NUB_OK)
            return s;
        va = entry_end;
    }
    return NUB_OK;
}

nub_status nub_uspace_declare(struct nub_uspace *u, uint64_t va, uint64_t len, unsigned decl,
                              int logged)
{
    if (len == 0)
        return NUB_OK;
    return declare_in(u, u->pml4, 39, va, va + len, decl, logged);
}

unsigned nub_uspace_access(const struct nub_uspace *u, uint64_t va, uint8_t **page_out)
{
    const uint64_t *table = u->pml4;
    unsigned access = NUB_DECL_NONE;
    if (page_out)
        *page_out = 0;
    for (int shift = 39;; shift -= 9) {
        uint64_t e = table[(va >> shift) & 511];
        if (decl_of(e) != NUB_DECL_INHERIT)
            access = decl_of(e);
        if (!(e & X86_PTE_P))
            return access;
        if (shift == 12) {
            if (page_out)
                *page_out = (uint8_t *)table_of(e);
            return (e & X86_PTE_RW) ? NUB_DECL_WRITE : NUB_DECL_READ;
        }
        table = table_of(e);
    }
}

uint8_t *nub_uspace_lookup(const struct nub_uspace *u, uint64_t va, int *writable_out)
{
    uint8_t *page;
    unsigned access = nub_uspace_access(u, va, &page);
    if (page && writable_out)
        *writable_out = access == NUB_DECL_WRITE;
    return page;
}

static inline void invlpg(uint64_t va)
{
    __asm__ volatile("invlpg (%0)" ::"r"(va) : "memory");
}

/*
 * Pages backed after the faulting one, on its first touch: where ring 0 is
 * emulated a #PF costs hundreds of emulated instructions, filling one more
 * entry of the same table a few, and a program that touches a page usually
 * goes on to the next. Backing is invisible to the program and the host (a
 * declared page reads as zeros either way); the pages are logged like the
 * faulting one, so a kept space may keep them too (nub_uspace_keep).
 */
#define BACK_AHEAD_PAGES 15u

/* Backs the declared, absent entries after leaf[index] in the same table,
 * up to BACK_AHEAD_PAGES, while the pool and the undo log have room;
 * inherited is the access the entries without their own declaration get. */
static void back_ahead(uint64_t *leaf, unsigned index, unsigned inherited)
{
    unsigned end = index + 1 + BACK_AHEAD_PAGES;
    if (end > 512)
        end = 512;
    for (unsigned i = index + 1; i < end; i++) {
        uint64_t entry = leaf[i];
        unsigned decl = decl_of(entry) != NUB_DECL_INHERIT ? decl_of(entry) : inherited;
        if ((entry & X86_PTE_P) || decl == NUB_DECL_NONE || nub_page_pool_log_full())
            return;
        void *page = nub_page_pool_pop();
        if (!page)
            return;
        nub_page_pool_set_logged_marked(
            &leaf[i], (uint64_t)(uintptr_t)page | leaf_flags(decl) | (entry & NUB_PTE_DECL_MASK),
            NUB_PAGE_LOG_RESET);
    }
}

/* Ring 0 (the #PF handler, under the run's CR3): no allocation but the
 * pool's pop, no call that could fault. */
enum nub_uspace_back nub_uspace_back(uint64_t *pml4, uint64_t va, int write, int heap)
{
    uint64_t *table = pml4;
    unsigned access = NUB_DECL_NONE;
    for (int shift = 39;; shift -= 9) {
        uint64_t *e = &table[(va >> shift) & 511];
        uint64_t entry = *e;
        unsigned inherited = access; /* what the entries of this table inherit */
        if (decl_of(entry) != NUB_DECL_INHERIT)
            access = decl_of(entry);
        unsigned allowed = heap ? NUB_DECL_WRITE : access;
        if (!(entry & X86_PTE_P)) {
            if (allowed == NUB_DECL_NONE || (write && allowed == NUB_DECL_READ))
                return NUB_USPACE_BACK_NOT_DECLARED;
            if (nub_page_pool_log_full())
                return NUB_USPACE_BACK_LOG_FULL;
            void *page = nub_page_pool_pop();
            if (!page)
                return NUB_USPACE_BACK_NO_PAGE;
            uint64_t flags = shift == 12 ? leaf_flags(allowed) : TABLE_FLAGS;
            uint64_t value = (uint64_t)(uintptr_t)page | flags | (entry & NUB_PTE_DECL_MASK);
            /* (room checked above) A table is kept after the call: the next
             * touch below it costs one page, not a walk of new tables. A
             * leaf backed under its declared access may stay backed too
             * (reset after the call); one backed only because it is below
             * the break may not: the next call starts from the published
             * break, where that page faults again. */
            if (shift == 12) {
                nub_page_pool_set_logged_marked(e, value, heap ? 0 : NUB_PAGE_LOG_RESET);
                back_ahead(table, (unsigned)((va >> 12) & 511), inherited);
                return NUB_USPACE_BACK_DONE;
            }
            nub_page_pool_set_logged_marked(e, value, NUB_PAGE_LOG_KEEP);
            entry = value;
        } else if (shift == 12) {
            if (write && !(entry & X86_PTE_RW)) {
                if (!heap)
                    return NUB_USPACE_BACK_NOT_DECLARED;
                if (!nub_page_pool_set_logged(e, entry | X86_PTE_RW))
                    return NUB_USPACE_BACK_LOG_FULL;
            }
            invlpg(va); /* a stale translation, or the one just upgraded */
            return NUB_USPACE_BACK_DONE;
        }
        table = table_of(entry);
    }
}

/* An array of count elements of `size` bytes with room for one more: list
 * itself, or a copy twice as large (list freed, *cap updated); NULL if the
 * heap cannot give it (list unchanged). */
static void *list_room(void *list, uint32_t count, uint32_t *cap, size_t size)
{
    if (count < *cap)
        return list;
    uint32_t new_cap = *cap ? *cap * 2 : 32;
    void *grown = nub_heap_alloc(new_cap * size);
    if (!grown)
        return 0;
    if (count)
        nub_memcpy(grown, list, count * size);
    nub_heap_free(list);
    *cap = new_cap;
    return grown;
}

int nub_uspace_adopt(struct nub_uspace *u, void *page)
{
    void **pages = list_room(u->pages, u->page_count, &u->page_cap, sizeof *pages);
    if (!pages)
        return 0;
    u->pages = pages;
    u->pages[u->page_count++] = page;
    return 1;
}

static uint32_t resident_max(void)
{
    uint64_t eighth = nub_kernel_params.memory_bytes / 4096 / 8;
    return eighth < NUB_USPACE_RESIDENT_MAX ? (uint32_t)eighth : NUB_USPACE_RESIDENT_MAX;
}

/* Makes the page installed at entry (already one of u's pages) resident. */
static int add_resident(struct nub_uspace *u, uint64_t *entry)
{
    if (u->resident_count >= resident_max())
        return 0;
    struct nub_uspace_resident *list =
        list_room(u->resident, u->resident_count, &u->resident_cap, sizeof *list);
    if (!list)
        return 0;
    u->resident = list;
    u->resident[u->resident_count++] = (struct nub_uspace_resident){entry, 0, 0};
    return 1;
}

int nub_uspace_keep(void *space, uint64_t *entry, void *page, uint64_t mark)
{
    struct nub_uspace *u = space;
    if (mark == NUB_PAGE_LOG_KEEP)
        return nub_uspace_adopt(u, page);
    if (mark != NUB_PAGE_LOG_RESET || u->resident_count >= resident_max() ||
        !nub_uspace_adopt(u, page))
        return 0;
    if (!add_resident(u, entry)) {
        u->page_count--; /* (just adopted: the undo frees it instead) */
        return 0;
    }
    return 1;
}

static int page_is_zero(const uint64_t *page)
{
    uint64_t any = 0;
    for (unsigned i = 0; i < 512; i += 8) {
        for (unsigned k = 0; k < 8; k++)
            any |= page[i + k];
        if (any)
            return 0;
    }
    return 1;
}

/*
 * A resident page can differ from zero only if its leaf's dirty bit is set:
 * the CPU sets it on the first write through the entry (and the host when
 * it writes for a host function, host/pvm_guest_mem.c). A dirty page is
 * zeroed after every call, but its bit is left set while calls keep
 * writing it: clearing it would make the next call's first write to the
 * page trap again (to set it), which on a shadow-paging hypervisor costs
 * more than zeroing the page many times. A dirty page that
 * RESIDENT_COLD_CALLS calls in a row left zero (not written, or written
 * with zeros) gets its bit cleared, so that a page a program no longer
 * writes stops costing a scan per call. The next entry into the run loads
 * CR3, which drops any cached translation that still says dirty.
 */
#define RESIDENT_COLD_CALLS 4u

void nub_uspace_reset(struct nub_uspace *u)
{
    for (uint32_t i = 0; i < u->resident_count; i++) {
        struct nub_uspace_resident *r = &u->resident[i];
        uint64_t e = *r->entry;
        if ((e & (X86_PTE_RW | X86_PTE_D)) != (X86_PTE_RW | X86_PTE_D))
            continue;
        uint64_t *page = table_of(e);
        if (!page_is_zero(page)) {
            nub_memset(page, 0, 4096);
            r->clean_calls = 0;
        } else if (++r->clean_calls >= RESIDENT_COLD_CALLS) {
            *r->entry = e & ~X86_PTE_D;
            r->clean_calls = 0;
        }
    }
}

/* Collects the addresses of resident leaves under table (level `shift`,
 * covering va upward) into out[*n], up to max. */
static void find_resident(const struct nub_uspace *u, uint64_t *table, int shift, uint64_t va,
                          uint64_t *out, uint32_t *n, uint32_t max)
{
    if (shift == 12) {
        uintptr_t base = (uintptr_t)table;
        for (uint32_t i = 0; i < u->resident_count && *n < max; i++) {
            uintptr_t entry = (uintptr_t)u->resident[i].entry;
            if (entry - base < 4096) /* (an entry of this table) */
                out[(*n)++] = va + ((uint64_t)(entry - base) / 8 << 12);
        }
        return;
    }
    for (uint64_t i = 0; i < 512 && *n < max; i++)
        if (table[i] & X86_PTE_P)
            find_resident(u, table_of(table[i]), shift - 9, va + (i << shift), out, n, max);
}

uint32_t nub_uspace_resident_addresses(const struct nub_uspace *u, uint64_t *va_out, uint32_t max)
{
    uint32_t n = 0;
    /* Pages are kept only from first touches in the window (PML4 slot 2). */
    uint64_t slot = u->pml4 ? u->pml4[(NUB_USPACE_WINDOW_VA >> 39) & 511] : 0;
    if (u->resident_count && (slot & X86_PTE_P))
        find_resident(u, table_of(slot), 30, NUB_USPACE_WINDOW_VA, va_out, &n, max);
    return n;
}

int nub_uspace_back_resident(struct nub_uspace *u, uint64_t va)
{
    unsigned access = nub_uspace_access(u, va, 0);
    if (access != NUB_DECL_READ && access != NUB_DECL_WRITE)
        return 0;
    uint64_t *pte = walk_create(u, va);
    if (!pte || (*pte & X86_PTE_P) || !add_resident(u, pte))
        return 0;
    uint64_t *page = alloc_owned_page(u);
    if (!page) {
        u->resident_count--;
        return 0;
    }
    *pte = (uint64_t)(uintptr_t)page | leaf_flags(access) | (*pte & NUB_PTE_DECL_MASK);
    return 1;
}

void nub_uspace_destroy(struct nub_uspace *u)
{
    for (uint32_t i = 0; i < u->page_count; i++)
        nub_page_pool_free(u->pages[i]);
    nub_heap_free(u->pages);
    nub_heap_free(u->resident);
    u->pages = 0;
    u->page_count = u->page_cap = 0;
    u->resident = 0;
    u->resident_count = u->resident_cap = 0;
    u->pml4 = 0;
}
