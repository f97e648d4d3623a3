/*
 * heap.h — the kernel heap over the memory the host gives it.
 *
 * First fit over an address-ordered free list with coalescing on free.
 * Every block has a 16-byte header; payloads are 16-byte aligned (or more
 * with nub_heap_alloc_aligned). Exhaustion returns NULL, never a crash.
 */
#ifndef NUB_KERNEL_HEAP_H
#define NUB_KERNEL_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "nub_abi.h"

void nub_heap_init(uint64_t start, uint64_t bytes);
void *nub_heap_alloc(size_t bytes);
void *nub_heap_alloc_aligned(size_t bytes, size_t alignment); /* alignment: power of 2 */
void nub_heap_free(void *p);                                  /* NULL is fine */
/* Gives the tail of a live allocation back: p keeps its first `bytes`
 * (<= its size; nothing happens if the tail is too small to stand alone). */
void nub_heap_shrink(void *p, size_t bytes);
/* Frees p, whose payload the caller has left all zero (the page pool's
 * free pages). If it is the highest block handed out, the high-water mark
 * comes down to it: memory above the mark reads zero again. */
void nub_heap_free_zeroed(void *p);
/* A mark above which the heap range reads zero: the end of the highest
 * block handed out and not given back zeroed (the host gives zeroed
 * memory). Allocations from above it need no zeroing. */
uint64_t nub_heap_high_water(void);
/* Bytes the heap manages (free or not). */
uint64_t nub_heap_capacity(void);

/* allocated_bytes: payload bytes in use (rounded to 16); allocation_count:
 * live allocations; fragment_count: free blocks; available_bytes: payload
 * bytes the free blocks could hold (the largest single allocation may be
 * smaller when fragment_count > 1). */
void nub_heap_get_stats(struct nub_heap_stats *out);

#endif /* NUB_KERNEL_HEAP_H */
