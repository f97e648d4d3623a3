/*
 * uspace.h — the ring-3 address space of one PVM run.
 *
 * It maps, user-accessible, only: the JIT code (read + execute) at
 * NUB_USPACE_CODE_VA, the page holding the JIT context block just below the
 * window, and the instance's accessible pages at NUB_USPACE_WINDOW_VA + PVM
 * address (read, or read-write; never executable). Everything else is the
 * kernel's identity map, supervisor-only (its PML4 entry has no U bit).
 * The tables double as the PVM page-access map.
 */
#ifndef NUB_KERNEL_USPACE_H
#define NUB_KERNEL_USPACE_H

#include <stdint.h>

#include "nub_abi.h"
#include "nub_rpc.h"

#define NUB_USPACE_CODE_VA     NUB_RUN_CODE_VA   /* PML4 slot 1 */
#define NUB_USPACE_WINDOW_VA   NUB_RUN_WINDOW_VA /* PML4 slot 2: PVM address 0 */
#define NUB_USPACE_CTX_PAGE_VA (NUB_USPACE_WINDOW_VA - 4096)

struct nub_uspace {
    uint64_t *pml4;
    /* Every page the space allocated (tables and owned pages), so that
     * destroying it frees a list instead of scanning 512-entry tables. */
    void **pages;
    uint32_t page_count, page_cap;
};

nub_status nub_uspace_create(struct nub_uspace *u);
/* Frees every table and every page the space allocated (not the shared code). */
void nub_uspace_destroy(struct nub_uspace *u);

/* Maps a fresh zeroed page the space owns at va; *page_out = its kernel alias. */
nub_status nub_uspace_map_new(struct nub_uspace *u, uint64_t va, uint64_t flags,
                              uint8_t **page_out);
/* Maps an existing page (not owned: left alone by destroy). */
nub_status nub_uspace_map_shared(struct nub_uspace *u, uint64_t va, uint64_t pa, uint64_t flags);

/* Kernel alias of the page mapped at va, or NULL; *writable_out set when non-NULL. */
uint8_t *nub_uspace_lookup(const struct nub_uspace *u, uint64_t va, int *writable_out);
/* Makes the page at va writable (it must be mapped). */
void nub_uspace_make_writable(struct nub_uspace *u, uint64_t va);

/* Leaf flags. */
#define NUB_USPACE_RX (UINT64_C(1) << 0 | UINT64_C(1) << 2)
#define NUB_USPACE_RO (UINT64_C(1) << 0 | UINT64_C(1) << 2 | UINT64_C(1) << 63)
#define NUB_USPACE_RW (UINT64_C(1) << 0 | UINT64_C(1) << 1 | UINT64_C(1) << 2 | UINT64_C(1) << 63)

#endif /* NUB_KERNEL_USPACE_H */
