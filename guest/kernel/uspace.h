/*
 * uspace.h — the ring-3 address space of one PVM run.
 *
 * It maps, user-accessible, only: the page holding the JIT context block
 * just below the window, the JIT code (read + execute) in the pages right
 * below that (nub_uspace_code_va), and the instance's accessible pages at
 * NUB_USPACE_WINDOW_VA + PVM
 * address (read, or read-write; never executable). Everything else is the
 * kernel's identity map, supervisor-only (its PML4 entry has no U bit).
 * The tables double as the PVM page-access map: pages not backed yet are
 * non-present entries that carry their declared access (abi/nub_rpc.h,
 * "Demand paging"), backed on first touch by nub_uspace_back.
 */
#ifndef NUB_KERNEL_USPACE_H
#define NUB_KERNEL_USPACE_H

#include <stdint.h>

#include "nub_abi.h"
#include "nub_rpc.h"

#define NUB_USPACE_WINDOW_VA   NUB_RUN_WINDOW_VA /* PML4 slot 2: PVM address 0 */
#define NUB_USPACE_CTX_PAGE_VA (NUB_USPACE_WINDOW_VA - 4096)

/* Where code of code_pages pages is mapped: its last page right below the
 * context page (the code is position-independent), so that both share
 * their page tables (one page table for code up to 2 MiB less a page). */
static inline uint64_t nub_uspace_code_va(uint64_t code_pages)
{
    return NUB_USPACE_CTX_PAGE_VA - 4096 * code_pages;
}
_Static_assert(NUB_RUN_CODE_VA >> 39 == NUB_USPACE_CTX_PAGE_VA >> 39,
               "code and context share PML4 slot 1, whose entry the code may need");

/* Leaf pages a space keeps backed across calls beyond its built ones: an
 * eighth of guest memory, at most this many (32 MiB). A bound on what one
 * space holds out of the pool while it is idle (heap pressure evicts idle
 * spaces whole, resident pages with them). */
#define NUB_USPACE_RESIDENT_MAX 8192u

struct nub_uspace {
    uint64_t *pml4;
    /* Every page the space allocated (tables and owned pages), so that
     * destroying it frees a list instead of scanning 512-entry tables. */
    void **pages;
    uint32_t page_count, page_cap;
    /* The pages that calls backed on first touch and the space keeps
     * backed, so that later calls touching them take no fault (a fault is
     * the expensive part of backing a page). Each call must start from the
     * published memory: after every call the written ones are zeroed
     * (nub_uspace_reset). */
    struct nub_uspace_resident *resident;
    uint32_t resident_count, resident_cap;
};

struct nub_uspace_resident {
    uint64_t *entry;      /* its leaf entry */
    uint32_t clean_calls; /* calls since its dirty bit was set that left it zero */
    uint32_t reserved;
};
nub_status nub_uspace_create(struct nub_uspace *u);
/* Frees every table and every page the space allocated (not the shared code). */
void nub_uspace_destroy(struct nub_uspace *u);

/* Maps a fresh zeroed page the space owns at va; *page_out = its kernel alias. */
nub_status nub_uspace_map_new(struct nub_uspace *u, uint64_t va, uint64_t flags,
                              uint8_t **page_out);
/* Maps an existing page (not owned: left alone by destroy). */
nub_status nub_uspace_map_shared(struct nub_uspace *u, uint64_t va, uint64_t pa, uint64_t flags);

/* Declares [va, va + len) (page-aligned) with access decl (NUB_DECL_*):
 * its pages are backed on first touch. logged = 0 at build time (the
 * tables belong to the space); logged = 1 during a call (every change goes
 * to the pool's undo log, undone after the call). */
nub_status nub_uspace_declare(struct nub_uspace *u, uint64_t va, uint64_t len, unsigned decl,
                              int logged);

/* The access the program has at va (NUB_DECL_NONE, _READ or _WRITE),
 * backed or not; *page_out = the page's kernel alias if backed, else NULL. */
unsigned nub_uspace_access(const struct nub_uspace *u, uint64_t va, uint8_t **page_out);

/* Kernel alias of the page mapped at va, or NULL; *writable_out set when non-NULL. */
uint8_t *nub_uspace_lookup(const struct nub_uspace *u, uint64_t va, int *writable_out);

/* Makes page one of u's own (freed by destroy); 0 if the list cannot grow. */
int nub_uspace_adopt(struct nub_uspace *u, void *page);

/* The undo log's keep callback (space is a struct nub_uspace *, entry the
 * logged entry): keeps a table a call installed (NUB_PAGE_LOG_KEEP), and a
 * leaf page it backed (NUB_PAGE_LOG_RESET) while the space keeps fewer than
 * its bound (NUB_USPACE_RESIDENT_MAX). */
int nub_uspace_keep(void *space, uint64_t *entry, void *page, uint64_t mark);

/* Zeroes the resident pages written since the last reset (ring 3, after a
 * call, before the space is used again). */
void nub_uspace_reset(struct nub_uspace *u);

/* The virtual addresses of up to max of u's resident pages (found in its
 * tables); returns how many. */
uint32_t nub_uspace_resident_addresses(const struct nub_uspace *u, uint64_t *va_out, uint32_t max);

/* Backs va (not backed yet, declared READ or WRITE) with a zeroed page
 * kept resident, while the resident list has room: what a first touch and
 * nub_uspace_keep would do, without the fault. 1 if it did. */
int nub_uspace_back_resident(struct nub_uspace *u, uint64_t va);

enum nub_uspace_back {
    NUB_USPACE_BACK_DONE = 0,         /* backed (or already fine): retry the access */
    NUB_USPACE_BACK_NOT_DECLARED = 1, /* the program may not: a PVM fault */
    NUB_USPACE_BACK_NO_PAGE = 2,      /* the pool is empty: refill in ring 3, retry */
    NUB_USPACE_BACK_LOG_FULL = 3,     /* the undo log is full: the run cannot go on */
};
/* Ring 0, on a #PF at va during a run: backs the page (and any missing
 * table) if the declared access allows the access; heap != 0 means va is
 * below sbrk's break (read-write whatever was declared). */
enum nub_uspace_back nub_uspace_back(uint64_t *pml4, uint64_t va, int write, int heap);

/* Leaf flags. */
#define NUB_USPACE_RX (UINT64_C(1) << 0 | UINT64_C(1) << 2)
#define NUB_USPACE_RO (UINT64_C(1) << 0 | UINT64_C(1) << 2 | UINT64_C(1) << 63)
#define NUB_USPACE_RW (UINT64_C(1) << 0 | UINT64_C(1) << 1 | UINT64_C(1) << 2 | UINT64_C(1) << 63)
/* A writable page the space builds (published contents, the context page):
 * accessed and dirty from the start. Only kept first-touch pages use the
 * dirty bit (nub_uspace_reset); here it spares a shadow-paging hypervisor
 * the second fault a page takes when it is read before it is written (the
 * read maps it read-only, so that the write can set the bit). */
#define NUB_USPACE_RW_BUILT (NUB_USPACE_RW | UINT64_C(1) << 5 | UINT64_C(1) << 6)

#endif /* NUB_KERNEL_USPACE_H */
