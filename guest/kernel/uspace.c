/* uspace.c — see uspace.h. */
#include "uspace.h"

#include "heap.h"
#include "kstring.h"
#include "kernel.h"
#include "x86.h"

#define TABLE_FLAGS (X86_PTE_P | X86_PTE_RW | X86_PTE_US)

/* A zeroed page recorded in u's page list. */
static uint64_t *alloc_zero_page(struct nub_uspace *u)
{
    if (u->page_count == u->page_cap) {
        uint32_t cap = u->page_cap ? u->page_cap * 2 : 32;
        void **pages = nub_heap_alloc(cap * sizeof *pages);
        if (!pages)
            return 0;
        if (u->page_count)
            nub_memcpy(pages, u->pages, u->page_count * sizeof *pages);
        nub_heap_free(u->pages);
        u->pages = pages;
        u->page_cap = cap;
    }
    uint64_t *p = nub_heap_alloc_aligned(4096, 4096);
    if (p) {
        nub_memset(p, 0, 4096);
        u->pages[u->page_count++] = p;
    }
    return p;
}

nub_status nub_uspace_create(struct nub_uspace *u)
{
    u->pages = 0;
    u->page_count = u->page_cap = 0;
    u->pml4 = alloc_zero_page(u);
    if (!u->pml4)
        return NUB_ERR_HEAP_EXHAUSTED;
    /* The kernel's identity map: its entry has no U bit, so every page under
     * it is supervisor-only whatever the lower levels say. */
    const uint64_t *kernel_pml4 = (const uint64_t *)(uintptr_t)nub_kernel_params.kernel_cr3;
    u->pml4[0] = kernel_pml4[0] & ~X86_PTE_US;
    return NUB_OK;
}

static uint64_t *table_of(uint64_t entry)
{
    return (uint64_t *)(uintptr_t)(entry & X86_PTE_ADDR_MASK);
}

/* The leaf entry for va, creating the tables on the way when create != 0. */
static uint64_t *walk(struct nub_uspace *u, uint64_t va, int create)
{
    uint64_t *table = u->pml4;
    for (int shift = 39; shift > 12; shift -= 9) {
        uint64_t *e = &table[(va >> shift) & 511];
        if (!(*e & X86_PTE_P)) {
            if (!create)
                return 0;
            uint64_t *next = alloc_zero_page(u);
            if (!next)
                return 0;
            *e = (uint64_t)(uintptr_t)next | TABLE_FLAGS;
        }
        table = table_of(*e);
    }
    return &table[(va >> 12) & 511];
}

nub_status nub_uspace_map_shared(struct nub_uspace *u, uint64_t va, uint64_t pa, uint64_t flags)
{
    uint64_t *pte = walk(u, va, 1);
    if (!pte)
        return NUB_ERR_HEAP_EXHAUSTED;
    *pte = (pa & X86_PTE_ADDR_MASK) | flags;
    return NUB_OK;
}

nub_status nub_uspace_map_new(struct nub_uspace *u, uint64_t va, uint64_t flags, uint8_t **page_out)
{
    uint64_t *pte = walk(u, va, 1);
    uint64_t *page = pte && !(*pte & X86_PTE_P) ? alloc_zero_page(u) : 0;
    if (!page)
        return NUB_ERR_HEAP_EXHAUSTED; /* (or already mapped: a caller bug) */
    *pte = (uint64_t)(uintptr_t)page | flags;
    if (page_out)
        *page_out = (uint8_t *)page;
    return NUB_OK;
}

uint8_t *nub_uspace_lookup(const struct nub_uspace *u, uint64_t va, int *writable_out)
{
    uint64_t *pte = walk((struct nub_uspace *)u, va, 0); /* create = 0: changes nothing */
    if (!pte || !(*pte & X86_PTE_P))
        return 0;
    if (writable_out)
        *writable_out = (*pte & X86_PTE_RW) != 0;
    return (uint8_t *)table_of(*pte);
}

void nub_uspace_make_writable(struct nub_uspace *u, uint64_t va)
{
    uint64_t *pte = walk(u, va, 0);
    if (pte && (*pte & X86_PTE_P)) {
        /* No invlpg (the service runs in ring 3): the space's CR3 is loaded
         * again on every entry into the run, which flushes its TLB entries. */
        *pte |= X86_PTE_RW;
    }
}

void nub_uspace_destroy(struct nub_uspace *u)
{
    for (uint32_t i = 0; i < u->page_count; i++)
        nub_heap_free(u->pages[i]);
    nub_heap_free(u->pages);
    u->pages = 0;
    u->page_count = u->page_cap = 0;
    u->pml4 = 0;
}
