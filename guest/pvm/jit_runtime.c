/*
 * jit_runtime.c — the platform-neutral parts of running JIT code (see jit.h):
 * entering at an arbitrary pc, and turning a memory fault into a PVM exit.
 * Shared by the hosted backend's signal handler and the guest's #PF handler.
 */
#include "jit.h"

#include "nub_status.h"
#include "pvm_gas.h"
#include "pvm_util.h"

bool jit_prepare_entry(const struct jit_code *code, struct jit_ctx *ctx, uint64_t code_address,
                       bool resume_after_ecalli, bool block_paid, struct pvm_exit *exit_out)
{
    const struct pvm_program *p = code->program;
    uint32_t pc = ctx->pc;
    if (resume_after_ecalli && pc < p->code_len) {
        /* Same gas block: continue after the ecalli without charging. */
        uint32_t next = pc + 1 + pvm_program_skip(p, pc);
        if (next <= p->code_len) { /* the walk went on from the ecalli to next */
            ctx->entry_target = code_address + code->insn_offset[next];
            return true;
        }
    }
    if (!pvm_program_can_enter(p, pc)) {
        /* GP 0.8.0 §4: invalid blob or pc, nothing runs or is charged */
        *exit_out = (struct pvm_exit){.reason = PVM_EXIT_PANIC, .pc = pc, .arg = 0};
        return false;
    }
    /* Instruction starts (and pc = code_len) have code. Any other position,
     * inside an instruction or past the end, executes as a trap, a
     * one-instruction block: done here in C. */
    bool has_code = pc <= p->code_len && pvm_program_is_insn_start(p, pc);
    if (block_paid && has_code) {
        ctx->entry_target = code_address + code->insn_offset[pc];
        return true;
    }
    uint64_t cost = pvm_gas_entry_cost(p, pc);
    if (ctx->gas < 0 || (uint64_t)ctx->gas < cost) {
        *exit_out = (struct pvm_exit){.reason = PVM_EXIT_OUT_OF_GAS, .pc = pc, .arg = 0};
        return false;
    }
    ctx->gas -= (int64_t)cost;
    if (!has_code) {
        *exit_out = (struct pvm_exit){.reason = PVM_EXIT_PANIC, .pc = pc, .arg = 0};
        return false;
    }
    ctx->entry_target = code_address + code->insn_offset[pc];
    return true;
}

/* Width, direction and address of a memory-accessing instruction, whose
 * PVM registers are in gpr (x86 register order) as they were before it. */
static bool memory_access(const struct pvm_insn *in, const uint64_t gpr[16], unsigned *width,
                          bool *is_write, uint32_t *address)
{
    static const uint8_t load_widths[] = {1, 1, 2, 2, 4, 4, 8};
    static const uint8_t store_widths[] = {1, 2, 4, 8};
    uint8_t op = in->opcode;
    /* The direct forms address lo32(X); the indirect ones lo32(reg + X). */
    uint64_t base = 0;
    if (op >= PVM_OP_store_imm_u8 && op <= PVM_OP_store_imm_u64) {
        *width = store_widths[op - PVM_OP_store_imm_u8];
        *is_write = true;
    } else if (op >= PVM_OP_load_u8 && op <= PVM_OP_load_u64) {
        *width = load_widths[op - PVM_OP_load_u8];
        *is_write = false;
    } else if (op >= PVM_OP_store_u8 && op <= PVM_OP_store_u64) {
        *width = store_widths[op - PVM_OP_store_u8];
        *is_write = true;
    } else if (op >= PVM_OP_store_imm_ind_u8 && op <= PVM_OP_store_imm_ind_u64) {
        *width = store_widths[op - PVM_OP_store_imm_ind_u8];
        *is_write = true;
        base = gpr[jit_native_reg(in->ra)];
    } else if (op >= PVM_OP_store_ind_u8 && op <= PVM_OP_store_ind_u64) {
        *width = store_widths[op - PVM_OP_store_ind_u8];
        *is_write = true;
        base = gpr[jit_native_reg(in->rb)];
    } else if (op >= PVM_OP_load_ind_u8 && op <= PVM_OP_load_ind_u64) {
        *width = load_widths[op - PVM_OP_load_ind_u8];
        *is_write = false;
        base = gpr[jit_native_reg(in->rb)];
    } else {
        return false;
    }
    *address = (uint32_t)(base + in->imm_x);
    return true;
}

/* Index of the site at native_offset among count sites of stride bytes
 * each, sorted by their first field, native_offset; count if none. */
static uint32_t find_site(const void *sites, size_t stride, uint32_t count, uint64_t native_offset)
{
    uint32_t lo = 0, hi = count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint32_t off;
        pvm_memcpy(&off, (const uint8_t *)sites + (size_t)mid * stride, sizeof(off));
        if (off == native_offset)
            return mid;
        if (off < native_offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return count;
}

_Static_assert(offsetof(struct jit_fault_site, native_offset) == 0, "find_site reads it first");
_Static_assert(offsetof(struct jit_indexed_site, native_offset) == 0, "find_site reads it first");

bool jit_find_fault_site(const struct jit_code *code, uint64_t native_offset,
                         const uint64_t gpr[16], struct jit_fault *out)
{
    uint32_t pc, resume = code->exit_offset;
    bool indexed = false;
    uint32_t i = find_site(code->fault_sites, sizeof(*code->fault_sites), code->fault_site_count,
                           native_offset);
    if (i < code->fault_site_count) {
        pc = code->fault_sites[i].pc;
    } else {
        i = find_site(code->indexed_sites, sizeof(*code->indexed_sites), code->indexed_site_count,
                      native_offset);
        if (i == code->indexed_site_count)
            return false;
        pc = code->indexed_sites[i].pc;
        resume = code->indexed_sites[i].resume_offset;
        indexed = true;
    }
    struct pvm_insn in;
    pvm_decode_insn(code->program, pc, &in);
    const uint64_t *regs = gpr;
    uint64_t at_fault[16];
    if (indexed) {
        /* the address register's PVM value is in rax (an indexed load is
         * always load_ind, whose address register is rb) */
        if (in.opcode < PVM_OP_load_ind_u8 || in.opcode > PVM_OP_load_ind_u64)
            return false;
        pvm_memcpy(at_fault, gpr, sizeof(at_fault));
        at_fault[jit_native_reg(in.rb)] = gpr[0];
        regs = at_fault;
    }
    if (!memory_access(&in, regs, &out->width, &out->is_write, &out->address))
        return false;
    out->pc = pc;
    out->resume_offset = resume;
    return true;
}

bool jit_classify_fault(uint32_t address, unsigned width, bool is_write,
                        uint32_t (*page_access)(const void *ctx, uint32_t address),
                        const void *page_access_ctx, uint32_t *reason_out, uint64_t *arg_out)
{
    bool found = false;
    uint32_t lowest = 0;
    /* One look-up per page (an access spans at most two): in the guest
     * this runs in ring 0, where each instruction may be expensive. */
    uint32_t page = 0, access = 0;
    for (unsigned i = 0; i < width; i++) {
        uint32_t a = address + i; /* wraps modulo 2^32 (SPEC §2) */
        if (i == 0 || (a & ~(uint32_t)(PVM_PAGE_SIZE - 1)) != page) {
            page = a & ~(uint32_t)(PVM_PAGE_SIZE - 1);
            access = page_access(page_access_ctx, a);
        }
        bool ok = is_write ? access == PVM_ACCESS_WRITE : access != PVM_ACCESS_NONE;
        if (!ok && (!found || a < lowest)) {
            lowest = a;
            found = true;
        }
    }
    if (!found)
        return false;
    if (lowest < PVM_LOW_GUARD_END) {
        *reason_out = PVM_EXIT_PANIC;
        *arg_out = 0;
    } else {
        *reason_out = PVM_EXIT_PAGE_FAULT;
        *arg_out = lowest & ~(uint32_t)(PVM_PAGE_SIZE - 1);
    }
    return true;
}

int jit_make_break_writable(const struct jit_runner *pl, uint32_t top, uint64_t new_top)
{
    uint64_t first = (uint64_t)top & ~(uint64_t)(PVM_PAGE_SIZE - 1);
    for (uint64_t page = first; page < new_top; page += PVM_PAGE_SIZE) {
        if (pl->page_access(pl->self, (uint32_t)page) == PVM_ACCESS_WRITE)
            continue;
        int err = pl->make_writable(pl->self, (uint32_t)page);
        if (err != PVM_OK)
            return err;
    }
    return PVM_OK;
}

/* sbrk (SPEC §9.9, the project decision of pvm.h, as the interpreter does
 * it): returns the heap top, advances it by size and makes the pages it now
 * covers writable. Returns false only if a page could not be mapped. */
static bool serve_sbrk(const struct jit_runner *pl, struct pvm_state *state, uint64_t size,
                       uint64_t *result)
{
    uint32_t top = state->heap_top;
    *result = 0;
    if (top == 0)
        return true;
    uint64_t new_top = (uint64_t)top + size;
    if (size >= ((uint64_t)1 << 32) || new_top > pvm_heap_limit(state->heap_limit))
        return true; /* does not fit: refuse, change nothing */
    if (jit_make_break_writable(pl, top, new_top) != PVM_OK)
        return false;
    *result = top;
    state->heap_top = (uint32_t)new_top;
    return true;
}

void jit_run(const struct jit_code *code, struct jit_ctx *ctx, const struct jit_runner *pl,
             struct pvm_state *state, bool resume, struct pvm_exit *exit_out)
{
    pvm_memcpy(ctx->regs, state->regs, sizeof(ctx->regs));
    ctx->gas = state->gas;
    ctx->pc = state->pc;
    ctx->heap_top = state->heap_top;
    ctx->heap_limit = state->heap_top != 0 ? pvm_heap_limit(state->heap_limit) : 0;
    bool paid = state->gas_charged;
    for (;;) {
        if (!jit_prepare_entry(code, ctx, pl->code_address, resume, paid, exit_out)) {
            state->gas = ctx->gas;
            state->heap_top = (uint32_t)ctx->heap_top;
            state->gas_charged = false;
            return;
        }
        ctx->arg = 0; /* only host calls and page faults set it */
        pl->enter(pl->self);
        if (ctx->reason != JIT_EXIT_SBRK)
            break;
        struct pvm_insn in;
        pvm_decode_insn(code->program, ctx->pc, &in);
        uint64_t value;
        if (!serve_sbrk(pl, state, ctx->regs[in.ra], &value)) {
            ctx->reason = PVM_EXIT_ERROR;
            ctx->arg = NUB_ERR_NOMEM;
            break;
        }
        ctx->regs[in.rd] = value;
        ctx->heap_top = state->heap_top;
        resume = true; /* continue after the sbrk in the same gas block */
    }
    pvm_memcpy(state->regs, ctx->regs, sizeof(ctx->regs));
    state->gas = ctx->gas;
    state->pc = ctx->pc;
    state->heap_top = (uint32_t)ctx->heap_top;
    state->gas_charged =
        ctx->reason == PVM_EXIT_HOST_CALL ||
        (ctx->reason == PVM_EXIT_PAGE_FAULT && code->program->isa->fault_keeps_block_paid);
    *exit_out = (struct pvm_exit){.reason = ctx->reason, .pc = ctx->pc, .arg = ctx->arg};
}
