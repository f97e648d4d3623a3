/*
 * pvm_guest_mem.h — the host reads and writes PVM memory of a stopped run.
 *
 * A sandbox run's PVM memory is described by its x86-64 page tables in guest
 * RAM (abi/nub_rpc.h, "The address space of a PVM run"): PVM address a is at
 * NUB_RUN_WINDOW_VA + a under the run's CR3. While the vCPU is stopped the
 * host walks those tables itself, so a host function can read its arguments
 * and write its results without a VM exit.
 *
 * Pages are backed on first touch (abi/nub_rpc.h, "Demand paging"): a page
 * declared but not backed reads as zeros, and a write to one declared
 * read-write backs it here, from the guest's page pool (a frame popped from
 * its stack, zeroed, the change appended to its undo log so the kernel
 * frees it after the call) without a VM exit.
 *
 * Everything in guest RAM is untrusted: the CR3, every table entry, the
 * pool record, its stack and log, and every frame address are checked to
 * lie inside guest RAM, and the walk never follows anything else. A guest
 * that lies can at most make the host read or write the guest's own RAM.
 */
#ifndef NUB_HOST_PVM_GUEST_MEM_H
#define NUB_HOST_PVM_GUEST_MEM_H

#include <stdint.h>

#include "nub_status.h"

/* Guest-physical memory [0, size) as the host maps it (sb->mem, sb->mem_bytes). */
struct nub_guest_ram {
    uint8_t *bytes;
    uint64_t size;
    /* NULL, or a bitmap of size / 4096 bits: a write sets bit gpa / 4096 of
     * every page it changes (data, zeroed frames, table entries, the pool
     * record, its stack and log), for a restore that resets only the pages
     * written since its snapshot. */
    uint64_t *dirty;
    /* sbrk's heap of the stopped run, [heap_base, heap_top): the run's
     * initial break (the INSTANCE's heap_top) and its break now (the JIT
     * context block's heap_top). Pages below the break are read-write
     * whatever the tables say: sbrk runs inside the run and the kernel
     * declares the new pages only when the run leaves through it, not at a
     * host call. Both 0: no heap. Untrusted like the rest (a wrong range can
     * only make the host back or write pages of the guest's own RAM). */
    uint32_t heap_base, heap_top;
};

/**
 * Copies PVM memory [pvm_addr, pvm_addr + len) of the run whose PML4 is at
 * cr3_gpa into dst. Addresses wrap modulo 2^32 as PVM addresses do (and
 * page 0 is never accessible, so a wrapping range faults there).
 * @retval NUB_OK                   every byte copied
 * @retval NUB_ERR_INVALID_ARGUMENT some byte is not readable by the program:
 *         *fault_addr (if non-NULL) = the first such PVM address; dst is
 *         left partly written
 * @retval NUB_ERR_PROTOCOL         the tables are malformed (a frame outside
 *         guest RAM, a large page in the window): the guest lied
 */
nub_status nub__guest_pvm_read(const struct nub_guest_ram *ram, uint64_t cr3_gpa, uint32_t pvm_addr,
                               void *dst, uint32_t len, uint32_t *fault_addr);

/**
 * Copies src into PVM memory [pvm_addr, pvm_addr + len) of the run, with the
 * program's permissions (a read-only page is not writable). The range is
 * checked whole before any byte is written: on an error nothing changed.
 * Declared pages not backed yet are backed from the guest's page pool.
 * @retval NUB_OK, NUB_ERR_INVALID_ARGUMENT (*fault_addr = the first byte the
 *         program may not write), NUB_ERR_PROTOCOL (as for the read, or a
 *         malformed pool record or frame)
 * @retval NUB_ERR_HEAP_EXHAUSTED the pool holds fewer free pages than the
 *         write needs, or its undo log has no room; nothing written (during
 *         a host call the host asks the guest for more pages and retries:
 *         host/sandbox_hostcall.c)
 */
nub_status nub__guest_pvm_write(const struct nub_guest_ram *ram, uint64_t cr3_gpa,
                                uint32_t pvm_addr, const void *src, uint32_t len,
                                uint32_t *fault_addr);

/* nub__guest_pvm_write, and when it fails with NUB_ERR_HEAP_EXHAUSTED only
 * because the pool holds too few free pages, *pool_pages_needed = the free
 * pages the write needs (else 0: a full undo log, which no refill fixes). */
nub_status nub__guest_pvm_write_counted(const struct nub_guest_ram *ram, uint64_t cr3_gpa,
                                        uint32_t pvm_addr, const void *src, uint32_t len,
                                        uint32_t *fault_addr, uint64_t *pool_pages_needed);

#endif /* NUB_HOST_PVM_GUEST_MEM_H */
