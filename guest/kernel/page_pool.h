/*
 * page_pool.h — whole pages for PVM runs, and the undo log of a call.
 *
 * The record is struct nub_page_pool at NUB_PAGE_POOL_GPA (abi/nub_rpc.h),
 * shared with the #PF handler (ring 0, under a run's CR3, where the identity
 * map is present supervisor-only) and with the host. Free pages are kept
 * zero-filled on a stack, so backing a page on a fault is a pop and an
 * entry write: the zeroing happens in ring 3, when pages are freed or the
 * pool grows. The pool grows from the byte heap in chunks (1 MiB, or less
 * when the heap is short) and gives wholly free chunks back when the heap
 * runs short (nub_page_pool_trim), so a chunk never strands heap memory.
 */
#ifndef NUB_KERNEL_PAGE_POOL_H
#define NUB_KERNEL_PAGE_POOL_H

#include <stdint.h>

#include "nub_abi.h"
#include "nub_rpc.h"

/* Bytes of bookkeeping (stack, log, chunk list) for a guest of memory_bytes,
 * page-rounded: the kernel takes them from the end of the heap range. */
uint64_t nub_page_pool_bookkeeping_bytes(uint64_t memory_bytes);
/* Sets the record up, its bookkeeping at `at` (that many bytes, unused by
 * anything else). */
void nub_page_pool_init(uint64_t memory_bytes, uint64_t at);

/* A zeroed page, growing the pool from the heap when it is empty (ring 3
 * only); NULL when the heap cannot give a chunk. */
void *nub_page_pool_alloc(void);
/* Zeroes the page and returns it to the pool (ring 3). */
void nub_page_pool_free(void *page);

/* Ensures at least `pages` free pages (ring 3, before a run); returns how
 * many are free (fewer when the heap is short). */
uint32_t nub_page_pool_reserve(uint32_t pages);

/* Ring 0, during a run: pops a zeroed page without growing; NULL if empty. */
void *nub_page_pool_pop(void);

/* Whether the undo log has no room left. */
int nub_page_pool_log_full(void);
int nub_page_pool_set_logged(uint64_t *entry, uint64_t value);
/* The same, the logged old value marked NUB_PAGE_LOG_KEEP (a table the
 * space may keep after the call) or NUB_PAGE_LOG_RESET (a leaf page backed
 * under its declared access, which the space may keep backed and reset). */
int nub_page_pool_set_logged_marked(uint64_t *entry, uint64_t value, uint64_t mark);

/* Restores every logged entry, newest first, and frees every page a logged
 * change installed (ring 3, after the call); a marked install is offered to
 * keep(ctx, entry, page, mark) first, which returns 1 if it takes the page
 * (the entry then stays as the call left it) or 0 (then it is undone like
 * the rest). Returns 1 if some change had made a backed read-only page
 * writable (sbrk over it): its contents may differ from the published ones
 * now. */
int nub_page_pool_undo(int (*keep)(void *ctx, uint64_t *entry, void *page, uint64_t mark),
                       void *ctx);

/* Gives wholly free chunks back to the heap; returns how many. */
uint32_t nub_page_pool_trim(void);

/* Pages the pool holds free, and pages it took from the heap. */
void nub_page_pool_counts(uint64_t *free_pages, uint64_t *total_pages);

#endif /* NUB_KERNEL_PAGE_POOL_H */
