/*
 * pvm_memory.h — the PVM's 32-bit paged address space (SPEC §2).
 *
 * A two-level page table: 1024 directories of 1024 pages of 4 KiB. A page
 * has an access tag (enum pvm_access) and a data pointer; the data pointer
 * is NULL while an accessible page is still all zeros, and is allocated on
 * the first write. This keeps large zero regions (stack, heap, argument
 * area) free until used, and makes reads of untouched pages cheap.
 *
 * Loads and stores have an inline fast path for an access inside one
 * readable/writable page; everything else (page-crossing, wrap at 2^32,
 * faults) goes through the byte-exact slow path, which implements SPEC §2's
 * "lowest offending byte" rule and writes nothing unless every byte may be
 * written.
 */
#ifndef NUB_PVM_MEMORY_H
#define NUB_PVM_MEMORY_H

#include <stdbool.h>
#include <stdint.h>

#include "pvm.h"
#include "pvm_util.h"

#define PVM_DIR_PAGES 1024u
#define PVM_DIR_COUNT 1024u

struct pvm_page_dir {
    uint8_t *data[PVM_DIR_PAGES];  /* NULL = all zeros (or inaccessible) */
    uint8_t access[PVM_DIR_PAGES]; /* enum pvm_access */
};

struct pvm_memory {
    struct pvm_page_dir *dirs[PVM_DIR_COUNT];
    struct pvm_allocator allocator;
};

/* Outcome of a load/store. */
enum pvm_mem_result {
    PVM_MEM_OK = 0,
    PVM_MEM_FAULT = 1, /* *fault_out = lowest offending byte address */
    PVM_MEM_NOMEM = 2, /* a page could not be allocated (nothing was written) */
};

void pvm_memory_init(struct pvm_memory *mem, const struct pvm_allocator *allocator);
void pvm_memory_release(struct pvm_memory *mem);

/* Sets the access of every page of [address, address + length) (page-aligned,
 * address + length <= 2^32). Pages made inaccessible lose their contents;
 * pages made accessible from none start zeroed. Returns PVM_OK or PVM_ERR_NOMEM. */
int pvm_memory_set_access(struct pvm_memory *mem, uint32_t address, uint64_t length,
                          uint32_t access);

/* Access of the page containing address. */
uint32_t pvm_memory_access(const struct pvm_memory *mem, uint32_t address);

/* Copies bytes in/out ignoring read-only protection (setting memory up,
 * reading it after a run). Every byte must be accessible. Returns PVM_OK,
 * PVM_ERR_INVALID_ARGUMENT (some byte inaccessible: nothing copied) or
 * PVM_ERR_NOMEM. Addresses wrap modulo 2^32. */
int pvm_memory_read(const struct pvm_memory *mem, uint32_t address, void *buffer, uint32_t length);
int pvm_memory_write(struct pvm_memory *mem, uint32_t address, const void *buffer, uint32_t length);

/* The checked slow paths (any address, any width 1..8). */
enum pvm_mem_result pvm_memory_load_slow(const struct pvm_memory *mem, uint32_t address,
                                         unsigned width, uint64_t *value_out, uint32_t *fault_out);
enum pvm_mem_result pvm_memory_store_slow(struct pvm_memory *mem, uint32_t address, unsigned width,
                                          uint64_t value, uint32_t *fault_out);

/* A PVM load of width bytes (little-endian, zero-extended). */
static inline enum pvm_mem_result pvm_memory_load(const struct pvm_memory *mem, uint32_t address,
                                                  unsigned width, uint64_t *value_out,
                                                  uint32_t *fault_out)
{
    uint32_t offset = address & (PVM_PAGE_SIZE - 1);
    const struct pvm_page_dir *dir = mem->dirs[address >> 22];
    if (dir != 0 && offset <= PVM_PAGE_SIZE - width) {
        uint32_t page = (address >> PVM_PAGE_SHIFT) & (PVM_DIR_PAGES - 1);
        if (dir->access[page] != PVM_ACCESS_NONE) {
            const uint8_t *data = dir->data[page];
            *value_out = data != 0 ? pvm_load_le(data + offset, width) : 0;
            return PVM_MEM_OK;
        }
    }
    return pvm_memory_load_slow(mem, address, width, value_out, fault_out);
}

/* A PVM store of the low width bytes of value. */
static inline enum pvm_mem_result pvm_memory_store(struct pvm_memory *mem, uint32_t address,
                                                   unsigned width, uint64_t value,
                                                   uint32_t *fault_out)
{
    uint32_t offset = address & (PVM_PAGE_SIZE - 1);
    struct pvm_page_dir *dir = mem->dirs[address >> 22];
    if (dir != 0 && offset <= PVM_PAGE_SIZE - width) {
        uint32_t page = (address >> PVM_PAGE_SHIFT) & (PVM_DIR_PAGES - 1);
        uint8_t *data = dir->data[page];
        if (dir->access[page] == PVM_ACCESS_WRITE && data != 0) {
            pvm_store_le(data + offset, value, width);
            return PVM_MEM_OK;
        }
    }
    return pvm_memory_store_slow(mem, address, width, value, fault_out);
}

#endif /* NUB_PVM_MEMORY_H */
