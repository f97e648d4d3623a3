/* pvm_guest_mem.c — see pvm_guest_mem.h. */
#include "pvm_guest_mem.h"

#include <stdbool.h>
#include <string.h>

#include "nub_rpc.h"

#define PAGE 4096u

/* The 8-byte entry `index` of the table at table_gpa (checked in RAM). */
static bool read_entry(const struct nub_guest_ram *ram, uint64_t table_gpa, unsigned index,
                       uint64_t *out)
{
    if (table_gpa % PAGE != 0 || table_gpa >= ram->size || ram->size - table_gpa < PAGE)
        return false;
    memcpy(out, ram->bytes + table_gpa + 8u * index, sizeof *out);
    return true;
}

/* The host address of the PVM page at page_addr, or why there is none. */
static nub_status find_page(const struct nub_guest_ram *ram, uint64_t cr3_gpa, uint32_t page_addr,
                            bool write, uint8_t **page_out)
{
    uint64_t va = NUB_RUN_WINDOW_VA + page_addr;
    uint64_t table = cr3_gpa & NUB_PTE_ADDR_MASK; /* (the low bits are CR3 flags) */
    for (int shift = 39; shift >= 12; shift -= 9) {
        uint64_t e;
        if (!read_entry(ram, table, (unsigned)(va >> shift) & 511, &e))
            return NUB_ERR_PROTOCOL;
        if (!(e & NUB_PTE_P) || !(e & NUB_PTE_US) || (write && !(e & NUB_PTE_RW)))
            return NUB_ERR_INVALID_ARGUMENT;
        if (shift > 12 && (e & NUB_PTE_PS))
            return NUB_ERR_PROTOCOL; /* the window is mapped with 4 KiB pages only */
        table = e & NUB_PTE_ADDR_MASK;
    }
    if (table >= ram->size || ram->size - table < PAGE)
        return NUB_ERR_PROTOCOL;
    *page_out = ram->bytes + table;
    return NUB_OK;
}

enum walk_mode { WALK_READ, WALK_PROBE_WRITE, WALK_WRITE };

/* Walks [pvm_addr, pvm_addr + len) page by page: copies to dst (WALK_READ),
 * from src (WALK_WRITE), or only checks writability (WALK_PROBE_WRITE). */
static nub_status walk_range(const struct nub_guest_ram *ram, uint64_t cr3_gpa, uint32_t pvm_addr,
                             uint8_t *dst, const uint8_t *src, uint32_t len, enum walk_mode mode,
                             uint32_t *fault_addr)
{
    if (!ram || !ram->bytes)
        return NUB_ERR_INVALID_ARGUMENT;
    uint32_t done = 0;
    while (done < len) {
        uint32_t a = pvm_addr + done; /* wraps modulo 2^32 */
        uint32_t in_page = PAGE - (a % PAGE);
        uint32_t n = len - done < in_page ? len - done : in_page;
        uint8_t *page;
        nub_status s = find_page(ram, cr3_gpa, a - a % PAGE, mode != WALK_READ, &page);
        if (s != NUB_OK) {
            if (s == NUB_ERR_INVALID_ARGUMENT && fault_addr)
                *fault_addr = a;
            return s;
        }
        if (mode == WALK_READ)
            memcpy(dst + done, page + a % PAGE, n);
        else if (mode == WALK_WRITE)
            memcpy(page + a % PAGE, src + done, n);
        done += n;
    }
    return NUB_OK;
}

nub_status nub_guest_pvm_read(const struct nub_guest_ram *ram, uint64_t cr3_gpa, uint32_t pvm_addr,
                              void *dst, uint32_t len, uint32_t *fault_addr)
{
    if (len && !dst)
        return NUB_ERR_INVALID_ARGUMENT;
    return walk_range(ram, cr3_gpa, pvm_addr, dst, 0, len, WALK_READ, fault_addr);
}

nub_status nub_guest_pvm_write(const struct nub_guest_ram *ram, uint64_t cr3_gpa, uint32_t pvm_addr,
                               const void *src, uint32_t len, uint32_t *fault_addr)
{
    if (len && !src)
        return NUB_ERR_INVALID_ARGUMENT;
    /* Check the whole range first, so that a fault changes nothing. */
    nub_status s = walk_range(ram, cr3_gpa, pvm_addr, 0, 0, len, WALK_PROBE_WRITE, fault_addr);
    if (s != NUB_OK)
        return s;
    return walk_range(ram, cr3_gpa, pvm_addr, 0, src, len, WALK_WRITE, fault_addr);
}
