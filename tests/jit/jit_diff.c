/*
 * jit_diff.c — differential run of interpreter vs JIT (see jit_diff.h).
 */
#include "jit_diff.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "jit_gen.h"
#include "pvm_alloc_libc.h"
#include "pvm_hosted.h"
#include "pvm_interp.h"
#include "pvm_program.h"

#define MAX_RESUMES 6

static const char *reason_name(uint32_t r)
{
    switch (r) {
    case PVM_EXIT_HALT:
        return "halt";
    case PVM_EXIT_PANIC:
        return "panic";
    case PVM_EXIT_OUT_OF_GAS:
        return "out-of-gas";
    case PVM_EXIT_PAGE_FAULT:
        return "page-fault";
    case PVM_EXIT_HOST_CALL:
        return "host-call";
    case PVM_EXIT_ERROR:
        return "error";
    default:
        return "?";
    }
}

static int compare_memory(struct pvm_interp *it, struct pvm_hosted *h, char *msg, size_t len)
{
    static const uint32_t extra_pages[] = {0xfffff000u, 0x0000f000u};
    uint8_t a[PVM_PAGE_SIZE], b[PVM_PAGE_SIZE];
    uint32_t count = (JIT_GEN_MEM_HI - JIT_GEN_MEM_LO) / PVM_PAGE_SIZE;
    for (uint32_t i = 0; i < count + 2; i++) {
        uint32_t page = i < count ? JIT_GEN_MEM_LO + i * PVM_PAGE_SIZE : extra_pages[i - count];
        uint32_t ia = pvm_interp_page_access(it, page), ha = pvm_hosted_page_access(h, page);
        if (ia != ha) {
            snprintf(msg, len, "page 0x%x access: interp %u jit %u", page, ia, ha);
            return 1;
        }
        if (ia == PVM_ACCESS_NONE)
            continue;
        if (pvm_interp_read_memory(it, page, a, PVM_PAGE_SIZE) != PVM_OK ||
            pvm_hosted_read_memory(h, page, b, PVM_PAGE_SIZE) != PVM_OK) {
            snprintf(msg, len, "page 0x%x unreadable", page);
            return 1;
        }
        for (uint32_t k = 0; k < PVM_PAGE_SIZE; k++)
            if (a[k] != b[k]) {
                snprintf(msg, len, "memory 0x%x: interp %02x jit %02x", page + k, a[k], b[k]);
                return 1;
            }
    }
    return 0;
}

static int compare(struct pvm_interp *it, struct pvm_hosted *h, const struct pvm_exit *ei,
                   const struct pvm_exit *eh, int round, char *msg, size_t len)
{
    if (ei->reason != eh->reason || ei->pc != eh->pc || ei->arg != eh->arg) {
        snprintf(msg, len,
                 "round %d exit: interp %s pc=%u arg=0x%" PRIx64 ", jit %s pc=%u arg=0x%" PRIx64,
                 round, reason_name(ei->reason), ei->pc, ei->arg, reason_name(eh->reason), eh->pc,
                 eh->arg);
        return 1;
    }
    struct pvm_state si, sh;
    pvm_interp_get_state(it, &si);
    pvm_hosted_get_state(h, &sh);
    for (int r = 0; r < PVM_NUM_REGS; r++)
        if (si.regs[r] != sh.regs[r]) {
            snprintf(msg, len, "round %d (%s pc=%u) r%d: interp 0x%" PRIx64 " jit 0x%" PRIx64,
                     round, reason_name(ei->reason), ei->pc, r, si.regs[r], sh.regs[r]);
            return 1;
        }
    if (si.pc != sh.pc || si.gas != sh.gas || si.heap_top != sh.heap_top ||
        si.gas_charged != sh.gas_charged) {
        snprintf(msg, len,
                 "round %d (%s) state: interp pc=%u gas=%" PRId64
                 " heap=0x%x paid=%d, jit pc=%u gas=%" PRId64 " heap=0x%x paid=%d",
                 round, reason_name(ei->reason), si.pc, si.gas, si.heap_top, si.gas_charged, sh.pc,
                 sh.gas, sh.heap_top, sh.gas_charged);
        return 1;
    }
    return compare_memory(it, h, msg, len);
}

/* The gas each engine charges on entering each block: the interpreter's
 * table against the imm32 in the JIT's code. */
static int compare_block_costs(const struct pvm_program *p, struct pvm_interp *it,
                               struct pvm_hosted *h, char *msg, size_t len)
{
    for (uint32_t pc = 0; pc < p->code_len; pc++) {
        if (!pvm_program_is_block_start(p, pc))
            continue;
        uint32_t jc = 0;
        if (!pvm_hosted_block_charge(h, pc, &jc) || jc != pvm_interp_entry_cost(it, pc)) {
            snprintf(msg, len, "block cost at %u: interp %u, jit %u", pc,
                     pvm_interp_entry_cost(it, pc), jc);
            return 1;
        }
    }
    return 0;
}

int jit_diff_run(const uint8_t *blob, size_t blob_len, const struct pvm_segment *segments,
                 size_t segment_count, const struct pvm_state *initial,
                 struct jit_diff_stats *stats, char *msg, size_t msg_len)
{
    return jit_diff_run_isa(blob, blob_len, NUB_ISA_GP_0_7_2, segments, segment_count, initial,
                            stats, msg, msg_len);
}

int jit_diff_run_isa(const uint8_t *blob, size_t blob_len, uint32_t isa,
                     const struct pvm_segment *segments, size_t segment_count,
                     const struct pvm_state *initial, struct jit_diff_stats *stats, char *msg,
                     size_t msg_len)
{
    struct pvm_allocator alloc = pvm_libc_allocator();
    struct pvm_program *prog = NULL;
    msg[0] = 0;
    if (stats != NULL)
        stats->programs++;
    if (pvm_program_decode_isa(blob, blob_len, isa, &alloc, &prog) != PVM_OK) {
        if (stats != NULL)
            stats->invalid_blobs++;
        return 0;
    }
    struct pvm_interp *it = NULL;
    struct pvm_hosted *h = NULL;
    int ei = pvm_interp_create(prog, segments, segment_count, initial, &alloc, &it);
    int eh = pvm_hosted_create(prog, segments, segment_count, initial, &alloc, &h);
    int result = 0;
    if (ei != eh) {
        snprintf(msg, msg_len, "create: interp %d jit %d", ei, eh);
        result = (ei == PVM_ERR_NOMEM || eh == PVM_ERR_NOMEM) ? -1 : 1;
        goto out;
    }
    if (ei == PVM_OK && compare_block_costs(prog, it, h, msg, msg_len) != 0) {
        result = 1;
        goto out;
    }
    if (ei != PVM_OK)
        goto out;
    for (int round = 0; round < MAX_RESUMES; round++) {
        struct pvm_exit xi, xh;
        pvm_interp_run(it, &xi);
        pvm_hosted_run(h, &xh);
        result = compare(it, h, &xi, &xh, round, msg, msg_len);
        if (stats != NULL)
            stats->exits[xi.reason <= PVM_EXIT_HOST_CALL ? xi.reason : 5]++;
        if (result != 0 || xi.reason == PVM_EXIT_ERROR)
            break;
        struct pvm_state s;
        pvm_interp_get_state(it, &s);
        if (stats != NULL && round == 0 && s.gas < initial->gas)
            stats->executed_insns_hint += (uint64_t)(initial->gas - s.gas);
        if (xi.reason == PVM_EXIT_HOST_CALL) {
            /* a made-up host function: result in r7, costs 10 gas */
            s.regs[7] = xi.arg * 3 + 1;
            s.gas -= 10;
        } else if (xi.reason == PVM_EXIT_PAGE_FAULT && xi.arg < JIT_GEN_MEM_HI) {
            if (pvm_interp_set_access(it, (uint32_t)xi.arg, PVM_PAGE_SIZE, PVM_ACCESS_WRITE) !=
                    PVM_OK ||
                pvm_hosted_set_access(h, (uint32_t)xi.arg, PVM_PAGE_SIZE, PVM_ACCESS_WRITE) !=
                    PVM_OK) {
                snprintf(msg, msg_len, "set_access 0x%" PRIx64 " failed", xi.arg);
                result = -1;
                break;
            }
        } else if (xi.reason == PVM_EXIT_OUT_OF_GAS) {
            s.gas += 7 + round * 40;
        } else {
            break;
        }
        pvm_interp_set_state(it, &s);
        pvm_hosted_set_state(h, &s);
    }
out:
    pvm_hosted_destroy(h);
    pvm_interp_destroy(it);
    pvm_program_destroy(prog);
    return result;
}
