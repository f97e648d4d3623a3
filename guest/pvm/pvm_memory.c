/*
 * pvm_memory.c — page table management and the byte-exact slow paths.
 */
#include "pvm_memory.h"

static struct pvm_page_dir *dir_of(const struct pvm_memory *mem, uint32_t address)
{
    return mem->dirs[address >> 22];
}

static uint32_t page_in_dir(uint32_t address)
{
    return (address >> PVM_PAGE_SHIFT) & (PVM_DIR_PAGES - 1);
}

void pvm_memory_init(struct pvm_memory *mem, const struct pvm_allocator *allocator)
{
    for (uint32_t i = 0; i < PVM_DIR_COUNT; i++)
        mem->dirs[i] = 0;
    mem->allocator = *allocator;
}

void pvm_memory_release(struct pvm_memory *mem)
{
    struct pvm_allocator *a = &mem->allocator;
    for (uint32_t d = 0; d < PVM_DIR_COUNT; d++) {
        struct pvm_page_dir *dir = mem->dirs[d];
        if (dir == 0)
            continue;
        for (uint32_t p = 0; p < PVM_DIR_PAGES; p++)
            a->free(a->ctx, dir->data[p]);
        a->free(a->ctx, dir);
        mem->dirs[d] = 0;
    }
}

static struct pvm_page_dir *dir_for_update(struct pvm_memory *mem, uint32_t address)
{
    struct pvm_page_dir **slot = &mem->dirs[address >> 22];
    if (*slot == 0) {
        struct pvm_page_dir *dir = mem->allocator.alloc(mem->allocator.ctx, sizeof(*dir));
        if (dir == 0)
            return 0;
        pvm_memset(dir, 0, sizeof(*dir));
        *slot = dir;
    }
    return *slot;
}

int pvm_memory_set_access(struct pvm_memory *mem, uint32_t address, uint64_t length,
                          uint32_t access)
{
    uint64_t end = (uint64_t)address + length;
    for (uint64_t a = address; a < end; a += PVM_PAGE_SIZE) {
        uint32_t addr = (uint32_t)a;
        if (access == PVM_ACCESS_NONE) {
            struct pvm_page_dir *dir = dir_of(mem, addr);
            if (dir == 0)
                continue;
            uint32_t p = page_in_dir(addr);
            mem->allocator.free(mem->allocator.ctx, dir->data[p]);
            dir->data[p] = 0;
            dir->access[p] = PVM_ACCESS_NONE;
            continue;
        }
        struct pvm_page_dir *dir = dir_for_update(mem, addr);
        if (dir == 0)
            return PVM_ERR_NOMEM;
        dir->access[page_in_dir(addr)] = (uint8_t)access;
    }
    return PVM_OK;
}

uint32_t pvm_memory_access(const struct pvm_memory *mem, uint32_t address)
{
    const struct pvm_page_dir *dir = dir_of(mem, address);
    return dir != 0 ? dir->access[page_in_dir(address)] : PVM_ACCESS_NONE;
}

/* The data of an accessible page, allocated (zeroed) if still NULL. */
static uint8_t *page_data_for_write(struct pvm_memory *mem, uint32_t address)
{
    struct pvm_page_dir *dir = dir_of(mem, address);
    uint32_t p = page_in_dir(address);
    if (dir->data[p] == 0) {
        uint8_t *data = mem->allocator.alloc(mem->allocator.ctx, PVM_PAGE_SIZE);
        if (data == 0)
            return 0;
        pvm_memset(data, 0, PVM_PAGE_SIZE);
        dir->data[p] = data;
    }
    return dir->data[p];
}

static uint8_t read_byte(const struct pvm_memory *mem, uint32_t address)
{
    const struct pvm_page_dir *dir = dir_of(mem, address);
    const uint8_t *data = dir->data[page_in_dir(address)];
    return data != 0 ? data[address & (PVM_PAGE_SIZE - 1)] : 0;
}

/* Lowest address of [address, address + n) (mod 2^32) whose page access is
 * below `needed`. Returns true if there is one. Walks page by page: within
 * one page the first byte touched is the lowest. */
static bool lowest_offender(const struct pvm_memory *mem, uint32_t address, uint64_t n,
                            uint32_t needed, uint32_t *fault_out)
{
    bool found = false;
    uint32_t lowest = 0;
    for (uint64_t i = 0; i < n;) {
        uint32_t b = (uint32_t)(address + i);
        if (pvm_memory_access(mem, b) < needed && (!found || b < lowest)) {
            lowest = b;
            found = true;
        }
        i += PVM_PAGE_SIZE - (b & (PVM_PAGE_SIZE - 1));
    }
    if (found)
        *fault_out = lowest;
    return found;
}

/* Allocates the data of every page [address, address + n) touches. */
static bool ensure_pages(struct pvm_memory *mem, uint32_t address, uint64_t n)
{
    for (uint64_t i = 0; i < n;) {
        uint32_t b = (uint32_t)(address + i);
        if (page_data_for_write(mem, b) == 0)
            return false;
        i += PVM_PAGE_SIZE - (b & (PVM_PAGE_SIZE - 1));
    }
    return true;
}

enum pvm_mem_result pvm_memory_load_slow(const struct pvm_memory *mem, uint32_t address,
                                         unsigned width, uint64_t *value_out, uint32_t *fault_out)
{
    if (lowest_offender(mem, address, width, PVM_ACCESS_READ, fault_out))
        return PVM_MEM_FAULT;
    uint64_t v = 0;
    for (unsigned i = 0; i < width; i++)
        v |= (uint64_t)read_byte(mem, address + i) << (8 * i);
    *value_out = v;
    return PVM_MEM_OK;
}

enum pvm_mem_result pvm_memory_store_slow(struct pvm_memory *mem, uint32_t address, unsigned width,
                                          uint64_t value, uint32_t *fault_out)
{
    if (lowest_offender(mem, address, width, PVM_ACCESS_WRITE, fault_out))
        return PVM_MEM_FAULT;
    if (!ensure_pages(mem, address, width))
        return PVM_MEM_NOMEM;
    for (unsigned i = 0; i < width; i++) {
        uint32_t b = address + i;
        page_data_for_write(mem, b)[b & (PVM_PAGE_SIZE - 1)] = (uint8_t)(value >> (8 * i));
    }
    return PVM_MEM_OK;
}

int pvm_memory_read(const struct pvm_memory *mem, uint32_t address, void *buffer, uint32_t length)
{
    uint32_t fault;
    if (lowest_offender(mem, address, length, PVM_ACCESS_READ, &fault))
        return PVM_ERR_INVALID_ARGUMENT;
    uint8_t *out = buffer;
    for (uint32_t i = 0; i < length; i++)
        out[i] = read_byte(mem, address + i);
    return PVM_OK;
}

int pvm_memory_write(struct pvm_memory *mem, uint32_t address, const void *buffer, uint32_t length)
{
    uint32_t fault;
    if (lowest_offender(mem, address, length, PVM_ACCESS_READ, &fault))
        return PVM_ERR_INVALID_ARGUMENT;
    if (!ensure_pages(mem, address, length))
        return PVM_ERR_NOMEM;
    const uint8_t *in = buffer;
    for (uint32_t i = 0; i < length; i++) {
        uint32_t b = address + i;
        page_data_for_write(mem, b)[b & (PVM_PAGE_SIZE - 1)] = in[i];
    }
    return PVM_OK;
}
