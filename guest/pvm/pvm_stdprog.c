/*
 * pvm_stdprog.c — SPEC §11: container parsing, memory layout, registers.
 */
#include "pvm_stdprog.h"

#include "pvm_util.h"

static uint64_t page_round(uint64_t x)
{
    return (x + PVM_PAGE_SIZE - 1) & ~(uint64_t)(PVM_PAGE_SIZE - 1);
}

static uint64_t zone_round(uint64_t x)
{
    return (x + PVM_ZONE_SIZE - 1) & ~(uint64_t)(PVM_ZONE_SIZE - 1);
}

static void add_segment(struct pvm_stdprog *out, uint64_t address, uint64_t length, uint32_t access,
                        const uint8_t *data, uint64_t data_len)
{
    if (length == 0)
        return;
    struct pvm_segment *s = &out->segments[out->segment_count++];
    s->address = (uint32_t)address;
    s->length = (uint32_t)length;
    s->access = access;
    s->data = data_len > 0 ? data : NULL;
    s->data_len = (uint32_t)data_len;
}

int pvm_stdprog_load(const uint8_t *bytes, size_t len, const uint8_t *args, size_t args_len,
                     struct pvm_stdprog *out)
{
    if (out == NULL || (bytes == NULL && len > 0) || (args == NULL && args_len > 0))
        return PVM_ERR_INVALID_ARGUMENT;
    pvm_memset(out, 0, sizeof(*out));
    if (args_len > PVM_INPUT_SIZE)
        return PVM_ERR_STDPROG_ARGS_TOO_LARGE;

    /* Header: ro_len u24, rw_len u24, heap_pages u16, stack_size u24. */
    if (len < 11)
        return PVM_ERR_STDPROG_TRUNCATED;
    uint64_t ro_len = pvm_load_le(bytes + 0, 3);
    uint64_t rw_len = pvm_load_le(bytes + 3, 3);
    uint64_t heap_pages = pvm_load_le(bytes + 6, 2);
    uint64_t stack_size = pvm_load_le(bytes + 8, 3);
    size_t at = 11;
    if (len - at < ro_len)
        return PVM_ERR_STDPROG_TRUNCATED;
    const uint8_t *ro = bytes + at;
    at += (size_t)ro_len;
    if (len - at < rw_len)
        return PVM_ERR_STDPROG_TRUNCATED;
    const uint8_t *rw = bytes + at;
    at += (size_t)rw_len;
    if (len - at < 4)
        return PVM_ERR_STDPROG_TRUNCATED;
    uint64_t code_len = pvm_load_le(bytes + at, 4);
    at += 4;
    if (len - at < code_len)
        return PVM_ERR_STDPROG_TRUNCATED;
    const uint8_t *code = bytes + at;
    at += (size_t)code_len;
    if (at != len)
        return PVM_ERR_STDPROG_TRAILING;

    /* SPEC §11.2 validity: 5*ZZ + zr(o) + zr(w + z*ZP) + zr(s) + ZI <= 2^32.
     * All terms are < 2^26 here, so u64 arithmetic cannot overflow. */
    uint64_t rw_zone = zone_round(rw_len + heap_pages * PVM_PAGE_SIZE);
    uint64_t total = 5 * (uint64_t)PVM_ZONE_SIZE + zone_round(ro_len) + rw_zone +
                     zone_round(stack_size) + PVM_INPUT_SIZE;
    if (total > ((uint64_t)1 << 32))
        return PVM_ERR_STDPROG_TOO_LARGE;

    out->code_blob = code;
    out->code_blob_len = (uint32_t)code_len;
    out->ro_len = (uint32_t)ro_len;
    out->rw_len = (uint32_t)rw_len;
    out->heap_pages = (uint32_t)heap_pages;
    out->stack_size = (uint32_t)stack_size;

    uint64_t rw_base = 2 * (uint64_t)PVM_ZONE_SIZE + zone_round(ro_len);
    uint64_t rw_end = rw_base + page_round(rw_len) + heap_pages * PVM_PAGE_SIZE;
    uint64_t stack_len = page_round(stack_size);
    add_segment(out, PVM_STDPROG_RO_BASE, page_round(ro_len), PVM_ACCESS_READ, ro, ro_len);
    add_segment(out, rw_base, rw_end - rw_base, PVM_ACCESS_WRITE, rw, rw_len);
    add_segment(out, PVM_STDPROG_STACK_TOP - stack_len, stack_len, PVM_ACCESS_WRITE, NULL, 0);
    add_segment(out, PVM_STDPROG_ARGS_BASE, page_round(args_len), PVM_ACCESS_READ, args, args_len);
    out->heap_start = (uint32_t)rw_base;
    out->heap_top = (uint32_t)rw_end;
    out->heap_limit = (uint32_t)(PVM_STDPROG_STACK_TOP - stack_len - PVM_ZONE_SIZE);

    out->regs[PVM_REG_RA] = PVM_HALT_ADDRESS;
    out->regs[PVM_REG_SP] = PVM_STDPROG_STACK_TOP;
    out->regs[PVM_REG_A0] = PVM_STDPROG_ARGS_BASE;
    out->regs[PVM_REG_A1] = args_len;
    return PVM_OK;
}

void pvm_stdprog_initial_state(const struct pvm_stdprog *prog, uint32_t pc, int64_t gas,
                               struct pvm_state *out)
{
    pvm_memset(out, 0, sizeof(*out));
    pvm_memcpy(out->regs, prog->regs, sizeof(out->regs));
    out->pc = pc;
    out->gas = gas;
    out->heap_top = prog->heap_top;
    out->heap_limit = prog->heap_limit;
}
