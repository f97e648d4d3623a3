/*
 * jit_cache.h — compiled IMAGE caps, keyed by image hash. An image is
 * decoded and compiled on its first invocation and reused after; under
 * memory pressure the least recently used entries are evicted (a later
 * invocation compiles again). An invalid blob is remembered as such.
 */
#ifndef NUB_KERNEL_JIT_CACHE_H
#define NUB_KERNEL_JIT_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "directory.h"
#include "jit.h"

struct nub_jit_entry {
    struct nub_jit_entry *next;
    nub_cap_hash image_hash;
    int invalid;                 /* the blob does not decode: every run panics at pc 0 */
    struct pvm_program *program; /* borrows the IMAGE's blob in the directory */
    struct jit_code code;
    uint8_t *code_buf; /* page-aligned, code_pages * 4096 bytes */
    size_t code_pages;
    uint64_t last_use;
    uint64_t generation; /* unique per compile: cached address spaces check it */
};

/* The compiled form of IMAGE cap `image` (compiling it if needed). */
nub_status nub_jit_cache_get(const struct nub_cap_entry *image, struct nub_jit_entry **out);

/* Allocates like nub_heap_alloc_aligned, evicting unused JIT cache entries
 * (never `keep`) while the heap cannot satisfy the request. */
void *nub_alloc_evicting(size_t bytes, size_t alignment, const struct nub_jit_entry *keep);

/* Frees the compiled form of the IMAGE with this hash, if any (the IMAGE is
 * being dropped: nothing can run it any more). */
void nub_jit_cache_drop(const uint8_t *image_hash);

/* Frees the kept address spaces of the INSTANCE with this hash (run_space.c). */
void nub_run_drop_spaces(const uint8_t *instance_hash);

/* Evicts the least recently used compiled image other than keep; 0 if none. */
int nub_jit_cache_evict(const struct nub_jit_entry *keep);

/* Frees the least recently used cached run address space not in use
 * (invoke.c); 0 if there is none. */
int nub_invoke_evict_space(void);

/* The allocator the PVM library uses in the kernel (the heap, with eviction). */
extern const struct pvm_allocator nub_kernel_pvm_allocator;

#endif /* NUB_KERNEL_JIT_CACHE_H */
