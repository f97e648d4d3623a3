/*
 * sandbox_hostcall.c — a host call of a sandbox run: the JIT code in guest
 * ring 3 did `out NUB_PORT_HOST_CALL` (one VM exit, no ring or address-space
 * switch); the vCPU is stopped right after the `out`. The host reads the
 * run's context block from guest RAM, runs the host function through the
 * one dispatch point (hostcall.c), writes registers, gas and the outcome
 * back, and the caller's KVM_RUN loop resumes the vCPU.
 *
 * Everything read from guest RAM is untrusted: the record and the context
 * block are copied out and checked; PVM memory goes through the checked
 * page-table walk of pvm_guest_mem.c. A lying guest can at most make the
 * host read or write the guest's own RAM or kill the sandbox.
 */
#include <string.h>

#include "jit.h"
#include "pvm_guest_mem.h"
#include "sandbox_int.h"

struct run_memory {
    nub_sandbox *sb;
    uint64_t cr3_gpa;
    struct nub_guest_ram ram; /* ram.heap_top: the break, moved by grow_heap */
    uint64_t ctx_gpa;
    uint32_t heap_limit; /* the context block's, clamped (see serve) */
    int heap_grown;      /* ram.heap_top must go back to the block */
    nub_status lie;      /* NUB_ERR_PROTOCOL once the tables were found lying */
    nub_status abort;    /* a timeout, interrupt or crash while waiting for the guest */
};

/* Asks the guest for `pages` free pages in its pool while the host function
 * runs: the run leaves (JIT_EXIT_HOST_REFILL), the kernel refills the pool
 * and reports back; the host function's write is then retried. The vCPU
 * ends up in the kernel, which re-enters the run (after the ecalli, or with
 * the exit the host function chooses) when this host call is over. */
static nub_status refill_pool(struct run_memory *m, uint64_t pages)
{
    uint8_t *gctx = m->sb->mem + m->ctx_gpa;
    const uint32_t reason = JIT_EXIT_HOST_REFILL;
    memcpy(gctx + offsetof(struct jit_ctx, reason), &reason, sizeof reason);
    memcpy(gctx + offsetof(struct jit_ctx, arg), &pages, sizeof pages);
    nub__mem_dirty(m->sb, m->ctx_gpa, sizeof(struct jit_ctx));
    nub_status s = nub__run_until_refilled(m->sb);
    if (s != NUB_OK)
        m->abort = s;
    return s;
}

static nub_status guest_read(void *self, uint32_t address, void *dst, uint32_t len)
{
    struct run_memory *m = self;
    nub_status s = nub__guest_pvm_read(&m->ram, m->cr3_gpa, address, dst, len, NULL);
    if (s == NUB_ERR_PROTOCOL)
        m->lie = s;
    return s == NUB_ERR_INVALID_ARGUMENT || s == NUB_ERR_PROTOCOL ? NUB_ERR_MEMORY_INACCESSIBLE : s;
}

static nub_status guest_write(void *self, uint32_t address, const void *src, uint32_t len)
{
    struct run_memory *m = self;
    if (m->abort != NUB_OK)
        return m->abort;
    uint64_t pages = 0;
    nub_status s =
        nub__guest_pvm_write_counted(&m->ram, m->cr3_gpa, address, src, len, NULL, &pages);
    /* Too few free pool pages (the run used them): one refill, one retry.
     * Still short then means guest memory is exhausted. */
    if (s == NUB_ERR_HEAP_EXHAUSTED && pages != 0 && refill_pool(m, pages) == NUB_OK)
        s = nub__guest_pvm_write_counted(&m->ram, m->cr3_gpa, address, src, len, NULL, &pages);
    if (m->abort != NUB_OK)
        return m->abort;
    if (s == NUB_ERR_PROTOCOL)
        m->lie = s;
    if (s != NUB_ERR_INVALID_ARGUMENT)
        return s == NUB_ERR_PROTOCOL ? NUB_ERR_MEMORY_INACCESSIBLE : s;
    /* Not writable: read-only if every byte can be read, else inaccessible.
     * Probe page by page (a page's first byte), never copying the data. */
    uint64_t first = address & ~(uint64_t)4095, end = (uint64_t)address + len;
    for (uint64_t page = first; page < end; page += 4096) {
        uint8_t byte;
        if (nub__guest_pvm_read(&m->ram, m->cr3_gpa,
                                (uint32_t)page + (page == first ? address & 4095 : 0), &byte, 1,
                                NULL) != NUB_OK)
            return NUB_ERR_MEMORY_INACCESSIBLE;
    }
    return NUB_ERR_MEMORY_READ_ONLY;
}

static void guest_heap(void *self, uint32_t *top, uint32_t *limit)
{
    const struct run_memory *m = self;
    *top = m->ram.heap_top;
    *limit = m->heap_limit;
}

/* Moving the break is all it takes: pages below it are read-write for the
 * guest's page-fault handler (backed on first touch) and for the host's
 * walk (pvm_guest_mem.c), and the kernel declares them after the run. */
static nub_status guest_grow_heap(void *self, uint32_t new_top)
{
    struct run_memory *m = self;
    if (m->ram.heap_top == 0 || new_top < m->ram.heap_top || new_top > m->heap_limit)
        return NUB_ERR_INVALID_ARGUMENT; /* grow_heap.c never asks this */
    m->ram.heap_top = new_top;
    m->heap_grown = 1;
    return NUB_OK;
}

static const struct nub_host_call_memory guest_memory_ops = {guest_read, guest_write, guest_heap,
                                                             guest_grow_heap};

int nub__serve_host_call(nub_sandbox *sb, nub_status *status)
{
    if (sb->host == NULL) {
        *status = nub__kill(sb, NUB_ERR_PROTOCOL, "host-call port used with no host call asked");
        return -1;
    }
    struct nub_host_call_record rec;
    memcpy(&rec, sb->mem + sb->params.response_gpa, sizeof rec);
    if (rec.magic != NUB_HOST_CALL_MAGIC || rec.heap_base > UINT32_MAX || rec.ctx_gpa % 8 != 0 ||
        rec.ctx_gpa > sb->mem_bytes || sb->mem_bytes - rec.ctx_gpa < sizeof(struct jit_ctx) ||
        rec.isa >= NUB_ISA_COUNT || rec.reserved != 0) {
        *status = nub__kill(sb, NUB_ERR_PROTOCOL, "malformed host-call record");
        return -1;
    }
    struct jit_ctx ctx;
    memcpy(&ctx, sb->mem + rec.ctx_gpa, sizeof ctx);
    if (ctx.reason != PVM_EXIT_HOST_CALL) {
        *status = nub__kill(sb, NUB_ERR_PROTOCOL, "host-call exit without a host call (reason %u)",
                            ctx.reason);
        return -1;
    }
    /* The host's writes are marked in sb->dirty (the guest's come from KVM's
     * dirty log), so a restore resets them too. */
    struct run_memory mem = {
        .sb = sb,
        .cr3_gpa = rec.cr3_gpa,
        .ram = {.bytes = sb->mem,
                .size = sb->mem_bytes,
                .dirty = sb->dirty,
                .heap_base = (uint32_t)rec.heap_base,
                .heap_top = ctx.heap_top > UINT32_MAX ? 0 : (uint32_t)ctx.heap_top},
        .ctx_gpa = rec.ctx_gpa,
        .lie = NUB_OK,
        .abort = NUB_OK,
    };
    if (mem.ram.heap_top == 0 || mem.ram.heap_base == 0) /* no heap, as the guest's in_heap() */
        mem.ram.heap_base = mem.ram.heap_top = 0;
    /* The limit as the guest says (pvm_heap_limit() of the run), kept inside
     * the 4 GiB space and never below the break: a wrong value can only
     * move the guest's own break within its own address space. */
    mem.heap_limit =
        ctx.heap_limit > PVM_HALT_ADDRESS ? PVM_HALT_ADDRESS : (uint32_t)ctx.heap_limit;
    if (mem.heap_limit < mem.ram.heap_top)
        mem.heap_limit = mem.ram.heap_top;
    struct nub_host_call *c = &sb->host_call;
    *c = (struct nub_host_call){
        .id = ctx.arg,
        .isa = rec.isa,
        .pc = ctx.pc,
        .gas = ctx.gas,
        .memory = &guest_memory_ops,
        .memory_self = &mem,
    };
    memcpy(c->regs, ctx.regs, sizeof c->regs);
    enum nub_host_action action = NUB_HOST_PANIC;
    sb->in_host_fn = 1;
    nub_status s = nub__host_call_dispatch(sb->host, c, &action);
    sb->in_host_fn = 0;
    sb->host_calls++;
    if (mem.lie != NUB_OK) {
        *status = nub__kill(sb, NUB_ERR_PROTOCOL, "the run's page tables are malformed");
        return -1;
    }
    if (mem.abort != NUB_OK) { /* already recorded (nub__fail or nub__kill) */
        *status = mem.abort;
        return -1;
    }
    if (s != NUB_OK) {
        sb->host_status = s; /* the run ends (as a panic); the call fails with s */
        action = NUB_HOST_PANIC;
    }
    /* Write back only what a host function may change, field by field. */
    uint8_t *gctx = sb->mem + rec.ctx_gpa;
    uint32_t reason =
        action == NUB_HOST_CONTINUE ? JIT_EXIT_HOST_RESUME : nub__host_action_exit(action);
    memcpy(gctx + offsetof(struct jit_ctx, regs), c->regs, sizeof c->regs);
    memcpy(gctx + offsetof(struct jit_ctx, gas), &c->gas, sizeof c->gas);
    memcpy(gctx + offsetof(struct jit_ctx, reason), &reason, sizeof reason);
    if (mem.heap_grown) {
        const uint64_t top = mem.ram.heap_top;
        memcpy(gctx + offsetof(struct jit_ctx, heap_top), &top, sizeof top);
    }
    if (action != NUB_HOST_CONTINUE) {
        const uint64_t no_arg = 0; /* an exit the host chose has no argument */
        memcpy(gctx + offsetof(struct jit_ctx, arg), &no_arg, sizeof no_arg);
    }
    nub__mem_dirty(sb, rec.ctx_gpa, sizeof(struct jit_ctx));
    return 0;
}
